//! The hub routes each committed event to its owner's session and to every admin session.
use actix::prelude::*;
use std::collections::HashMap;

use super::messages::{
    Connect, ConnectRefused, ConnectionId, CountConnections, CredentialsChanged, Disconnect,
    HubStats, LiveLimits, Publish, SeedOrderCounts, Stats,
};
use super::user_session::{AddConnection, RemoveConnection, UserSession};
use crate::domain::event::EventKind;
use crate::domain::ids::UserId;
use crate::domain::order::OrderStatus;

struct SessionEntry {
    session: Addr<UserSession>,
    is_admin: bool,
    connections: usize,
}

#[derive(Default)]
pub struct Hub {
    sessions: HashMap<UserId, SessionEntry>,
    next_connection: ConnectionId,
    limits: LiveLimits,
    /// Connections of all sessions together.
    connections: usize,
    /// Set while the total limit refuses connections, so the log says so once, not per refusal.
    full: bool,
    /// Events published since start, by kind (`order.created`, `order.status`): for metrics.
    published: [u64; 2],
    /// Orders in each status (`OrderStatus::ALL` order), kept from the event stream: for metrics.
    orders: [i64; 4],
}

fn status_slot(status: OrderStatus) -> usize {
    OrderStatus::ALL
        .iter()
        .position(|s| *s == status)
        .unwrap_or(0)
}

impl Actor for Hub {
    type Context = Context<Self>;
}

impl Hub {
    pub fn with_limits(limits: LiveLimits) -> Hub {
        Hub {
            limits,
            ..Hub::default()
        }
    }

    fn admit(&mut self, user: UserId) -> Result<(), ConnectRefused> {
        let own = self.sessions.get(&user).map_or(0, |e| e.connections);
        if own >= self.limits.per_user {
            return Err(ConnectRefused::PerUser(self.limits.per_user));
        }
        if self.connections >= self.limits.total {
            if !self.full {
                self.full = true;
                tracing::warn!(
                    limit = self.limits.total,
                    "live connections reached max_live_connections: new WebSocket and SSE \
                     streams get 503 until some close"
                );
            }
            return Err(ConnectRefused::Total(self.limits.total));
        }
        Ok(())
    }
}

impl Handler<Connect> for Hub {
    type Result = Result<ConnectionId, ConnectRefused>;

    fn handle(&mut self, msg: Connect, _: &mut Context<Self>) -> Self::Result {
        self.admit(msg.user)?;
        self.connections += 1;
        self.next_connection += 1;
        let id = self.next_connection;
        let entry = self
            .sessions
            .entry(msg.user)
            .or_insert_with(|| SessionEntry {
                session: UserSession::default().start(),
                is_admin: msg.is_admin,
                connections: 0,
            });
        entry.is_admin = msg.is_admin;
        entry.connections += 1;
        entry.session.do_send(AddConnection {
            id,
            sink: msg.sink,
            credentials: msg.credentials,
            revoke: msg.revoke,
        });
        Ok(id)
    }
}

impl Handler<Disconnect> for Hub {
    type Result = ();

    fn handle(&mut self, msg: Disconnect, _: &mut Context<Self>) {
        let Some(entry) = self.sessions.get_mut(&msg.user) else {
            return;
        };
        entry.session.do_send(RemoveConnection(msg.connection));
        entry.connections = entry.connections.saturating_sub(1);
        self.connections = self.connections.saturating_sub(1);
        if self.full && self.connections < self.limits.total {
            self.full = false;
            tracing::info!(
                connections = self.connections,
                "live connections are below max_live_connections again"
            );
        }
        if entry.connections == 0 {
            // Dropping the last address stops the session actor.
            self.sessions.remove(&msg.user);
        }
    }
}

impl Handler<Publish> for Hub {
    type Result = ();

    fn handle(&mut self, msg: Publish, _: &mut Context<Self>) {
        let event = &msg.0;
        self.published[(event.kind == EventKind::OrderStatus) as usize] += 1;
        if let Some(previous) = event.previous {
            self.orders[status_slot(previous)] -= 1;
        }
        self.orders[status_slot(event.status)] += 1;
        for entry in self.sessions.values().filter(|e| e.is_admin) {
            entry.session.do_send(msg.clone());
        }
        // Shoppers follow their orders' status; creation is news for admins only.
        if event.kind == EventKind::OrderStatus {
            if let Some(owner) = self.sessions.get(&event.user_id).filter(|e| !e.is_admin) {
                owner.session.do_send(msg.clone());
            }
        }
    }
}

impl Handler<CredentialsChanged> for Hub {
    type Result = ();

    fn handle(&mut self, msg: CredentialsChanged, _: &mut Context<Self>) {
        if let Some(entry) = self.sessions.get(&msg.user) {
            entry.session.do_send(msg);
        }
    }
}

impl Handler<CountConnections> for Hub {
    type Result = usize;

    fn handle(&mut self, _: CountConnections, _: &mut Context<Self>) -> usize {
        self.connections
    }
}

impl Handler<SeedOrderCounts> for Hub {
    type Result = ();

    fn handle(&mut self, msg: SeedOrderCounts, _: &mut Context<Self>) {
        for (status, count) in msg.0 {
            self.orders[status_slot(status)] += count as i64;
        }
    }
}

impl Handler<Stats> for Hub {
    type Result = MessageResult<Stats>;

    fn handle(&mut self, _: Stats, _: &mut Context<Self>) -> Self::Result {
        MessageResult(HubStats {
            connections: self.connections,
            created_events: self.published[0],
            status_events: self.published[1],
            orders: OrderStatus::ALL
                .into_iter()
                .map(|s| (s, self.orders[status_slot(s)].max(0) as u64))
                .collect(),
        })
    }
}
