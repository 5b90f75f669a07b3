use actix::prelude::*;
use futures_channel::mpsc;
use std::sync::Arc;

use crate::domain::event::OrderEvent;
use crate::domain::ids::UserId;
use crate::domain::order::{Order, OrderStatus};
use crate::error::AppError;
use crate::store::Revocation;

/// A committed event, on its way to live connections.
#[derive(Message, Clone)]
#[rtype(result = "()")]
pub struct Publish(pub Arc<OrderEvent>);

/// Identifies one live connection within its user's session.
pub type ConnectionId = u64;

/// Where a connection's events go: bounded, so a slow client cannot hold memory hostage.
/// (futures' channel rather than tokio's: it allocates per waiting message, not a 32-slot block
/// up front, which is most of a channel's cost on an idle connection.)
pub type EventSink = mpsc::Sender<Arc<OrderEvent>>;

/// Registers a live connection. Answered once the connection will receive every later event,
/// or with the limit that refuses it.
#[derive(Message)]
#[rtype(result = "Result<ConnectionId, ConnectRefused>")]
pub struct Connect {
    pub user: UserId,
    pub is_admin: bool,
    pub sink: EventSink,
    pub credentials: StreamCredentials,
    pub revoke: RevokeSignal,
}

/// The access token a live connection was opened with: what a revocation is matched against.
#[derive(Debug, Clone)]
pub struct StreamCredentials {
    pub jti: String,
    pub token_version: u32,
}

/// Fired (then dropped with the connection's sink) when the connection's credentials are
/// revoked, so the connection closes with "credentials revoked" rather than "too slow".
pub type RevokeSignal = futures_channel::oneshot::Sender<()>;

/// The credentials of `user` changed (a logout revoked an access token, a password change
/// raised the token version): the user's live connections that no longer hold good ones close.
#[derive(Message, Debug, Clone)]
#[rtype(result = "()")]
pub struct CredentialsChanged {
    pub user: UserId,
    pub revoked_jti: Option<String>,
    pub token_version: Option<u32>,
}

impl From<Revocation> for CredentialsChanged {
    fn from(r: Revocation) -> CredentialsChanged {
        CredentialsChanged {
            user: r.user,
            revoked_jti: r.jti,
            token_version: r.token_version,
        }
    }
}

impl From<&CredentialsChanged> for Revocation {
    fn from(c: &CredentialsChanged) -> Revocation {
        Revocation {
            user: c.user,
            jti: c.revoked_jti.clone(),
            token_version: c.token_version,
        }
    }
}

impl CredentialsChanged {
    /// Whether a connection opened with `credentials` must close.
    pub fn outdates(&self, credentials: &StreamCredentials) -> bool {
        self.revoked_jti.as_deref() == Some(credentials.jti.as_str())
            || self
                .token_version
                .is_some_and(|current| credentials.token_version != current)
    }
}

/// How many live connections the hub holds at most: for one user, and in all (each one is a
/// file descriptor, and a process out of them cannot even answer `/healthz`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LiveLimits {
    pub per_user: usize,
    pub total: usize,
}

impl Default for LiveLimits {
    fn default() -> Self {
        LiveLimits {
            per_user: 8,
            total: 10_000,
        }
    }
}

/// Why a connection was not registered: the limit that was reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectRefused {
    PerUser(usize),
    Total(usize),
}

#[derive(Message)]
#[rtype(result = "()")]
pub struct Disconnect {
    pub user: UserId,
    pub connection: ConnectionId,
}

/// Live connection count, for metrics.
#[derive(Message)]
#[rtype(result = "usize")]
pub struct CountConnections;

/// Adds the orders found in the store at start to the hub's per-status counts.
#[derive(Message)]
#[rtype(result = "()")]
pub struct SeedOrderCounts(pub Vec<(OrderStatus, u64)>);

/// What the hub has seen, for metrics.
#[derive(Message)]
#[rtype(result = "HubStats")]
pub struct Stats;

#[derive(Debug, Clone, Default)]
pub struct HubStats {
    pub connections: usize,
    /// `order.created` events published since start.
    pub created_events: u64,
    /// `order.status` events published since start.
    pub status_events: u64,
    /// Orders in each status: counted at start, then kept from the event stream.
    pub orders: Vec<(OrderStatus, u64)>,
}

/// A status change for one order, serialized by that order's actor.
#[derive(Message)]
#[rtype(result = "Result<Order, AppError>")]
pub struct ChangeStatus {
    pub next: OrderStatus,
}
