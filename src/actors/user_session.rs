//! One actor per connected user, holding all of that user's live connections (tabs, WS and SSE).
use actix::prelude::*;
use std::collections::HashMap;

use super::messages::{ConnectionId, EventSink, Publish};

#[derive(Default)]
pub struct UserSession {
    connections: HashMap<ConnectionId, EventSink>,
}

impl Actor for UserSession {
    type Context = Context<Self>;
}

#[derive(Message)]
#[rtype(result = "()")]
pub struct AddConnection {
    pub id: ConnectionId,
    pub sink: EventSink,
}

#[derive(Message)]
#[rtype(result = "()")]
pub struct RemoveConnection(pub ConnectionId);

impl Handler<AddConnection> for UserSession {
    type Result = ();
    fn handle(&mut self, msg: AddConnection, _: &mut Context<Self>) {
        self.connections.insert(msg.id, msg.sink);
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
            .retain(|_, sink| sink.try_send(msg.0.clone()).is_ok());
    }
}
