//! One actor per connected user, holding all of that user's live connections (tabs, WS and SSE).
use actix::prelude::*;
use std::collections::HashMap;

use super::messages::{
    ConnectionId, CredentialsChanged, EventSink, Publish, RevokeSignal, StreamCredentials,
};

struct Connection {
    sink: EventSink,
    credentials: StreamCredentials,
    revoke: RevokeSignal,
}

#[derive(Default)]
pub struct UserSession {
    connections: HashMap<ConnectionId, Connection>,
}

impl Actor for UserSession {
    type Context = Context<Self>;
}

#[derive(Message)]
#[rtype(result = "()")]
pub struct AddConnection {
    pub id: ConnectionId,
    pub sink: EventSink,
    pub credentials: StreamCredentials,
    pub revoke: RevokeSignal,
}

#[derive(Message)]
#[rtype(result = "()")]
pub struct RemoveConnection(pub ConnectionId);

impl Handler<AddConnection> for UserSession {
    type Result = ();
    fn handle(&mut self, msg: AddConnection, _: &mut Context<Self>) {
        let connection = Connection {
            sink: msg.sink,
            credentials: msg.credentials,
            revoke: msg.revoke,
        };
        self.connections.insert(msg.id, connection);
    }
}

impl Handler<RemoveConnection> for UserSession {
    type Result = ();
    fn handle(&mut self, msg: RemoveConnection, _: &mut Context<Self>) {
        self.connections.remove(&msg.0);
    }
}

impl Handler<Publish> for UserSession {
    type Result = ();

    /// Never waits on a connection: one whose buffer is full is dropped (closing its channel),
    /// and the client resumes by replay from its last event id.
    fn handle(&mut self, msg: Publish, _: &mut Context<Self>) {
        self.connections
            .retain(|_, c| c.sink.try_send(msg.0.clone()).is_ok());
    }
}

impl Handler<CredentialsChanged> for UserSession {
    type Result = ();

    /// Signals before dropping the sink: the connection then sees why its feed ended.
    fn handle(&mut self, msg: CredentialsChanged, _: &mut Context<Self>) {
        let outdated: Vec<ConnectionId> = self
            .connections
            .iter()
            .filter(|(_, c)| msg.outdates(&c.credentials))
            .map(|(id, _)| *id)
            .collect();
        for id in outdated {
            if let Some(connection) = self.connections.remove(&id) {
                let _ = connection.revoke.send(());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::event::{EventKind, OrderEvent};
    use crate::domain::ids::{EventId, OrderId, UserId};
    use crate::domain::order::OrderStatus;
    use futures_util::StreamExt;
    use std::sync::Arc;

    fn add(id: ConnectionId, sink: EventSink) -> AddConnection {
        let credentials = StreamCredentials {
            jti: format!("jti-{id}"),
            token_version: 0,
        };
        let (revoke, _) = futures_channel::oneshot::channel();
        AddConnection {
            id,
            sink,
            credentials,
            revoke,
        }
    }

    fn event(id: u64) -> Publish {
        Publish(Arc::new(OrderEvent {
            id: EventId::new(id),
            kind: EventKind::OrderStatus,
            user_id: UserId::new(1),
            order_id: OrderId::new(1),
            status: OrderStatus::Shipped,
            previous: Some(OrderStatus::Pending),
            at: time::OffsetDateTime::now_utc(),
        }))
    }

    /// A connection whose buffer is full is dropped (its stream ends; the client resumes by
    /// replay) while the user's other connections keep receiving every event, in order.
    #[actix_web::test]
    async fn a_connection_that_falls_behind_is_dropped_and_the_others_keep_up() {
        let session = UserSession::default().start();
        let (slow, slow_events) = futures_channel::mpsc::channel(1);
        let (fast, mut fast_events) = futures_channel::mpsc::channel(16);
        session.send(add(1, slow)).await.unwrap();
        session.send(add(2, fast)).await.unwrap();
        for id in 1..=5 {
            session.send(event(id)).await.unwrap();
        }
        let mut fast_ids = Vec::new();
        for _ in 1..=5 {
            fast_ids.push(fast_events.next().await.unwrap().id.get());
        }
        assert_eq!(fast_ids, [1, 2, 3, 4, 5]);
        let slow_ids: Vec<u64> = slow_events.map(|e| e.id.get()).collect().await;
        assert!(slow_ids.len() < 5, "{slow_ids:?}");
        assert_eq!(slow_ids, (1..=slow_ids.len() as u64).collect::<Vec<_>>());
    }
}
