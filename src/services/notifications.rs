//! The event log as a notification list, and live subscriptions to it.
use actix::Addr;
use futures_channel::mpsc;
use std::sync::Arc;

use super::blocking;
use crate::actors::messages::{
    Connect, ConnectRefused, ConnectionId, CountConnections, Disconnect, HubStats, SeedOrderCounts,
    Stats, StreamCredentials,
};
use crate::actors::Hub;
use crate::auth::CurrentUser;
use crate::domain::clock::Clock;
use crate::domain::event::OrderEvent;
use crate::domain::ids::{EventId, UserId};
use crate::error::AppError;
use crate::store::{EventPage, SharedStorage};

/// How many events a connection may have waiting before it is dropped as too slow.
pub const CONNECTION_BUFFER: usize = 256;
const REPLAY_CHUNK: usize = 500;

#[derive(Clone)]
pub struct Notifications {
    pub(super) store: SharedStorage,
    hub: Addr<Hub>,
    /// Live feeds end when their token expires on this clock.
    pub(super) clock: Clock,
}

/// A registered live connection. Dropping it unregisters it.
pub struct Subscription {
    pub live: mpsc::Receiver<Arc<OrderEvent>>,
    /// Fires when the credentials the connection was opened with are revoked.
    pub revoked: futures_channel::oneshot::Receiver<()>,
    user: UserId,
    is_admin: bool,
    connection: ConnectionId,
    hub: Addr<Hub>,
    store: SharedStorage,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.hub.do_send(Disconnect {
            user: self.user,
            connection: self.connection,
        });
    }
}

impl Subscription {
    /// The next chunk of logged events after `after` that this connection should see.
    pub async fn replay(&self, after: EventId) -> Result<Vec<OrderEvent>, AppError> {
        let (store, user, is_admin) = (self.store.clone(), self.user, self.is_admin);
        blocking(move || {
            Ok(if is_admin {
                store.all_events_after(after, REPLAY_CHUNK)?
            } else {
                store.user_events_after(user, after, REPLAY_CHUNK)?
            })
        })
        .await
    }
}

impl Notifications {
    pub fn new(store: SharedStorage, hub: Addr<Hub>, clock: Clock) -> Notifications {
        Notifications { store, hub, clock }
    }

    /// Registers first, so nothing committed from now on is missed; the caller then replays
    /// the log and passes live events above the last id it replayed. Refused past the limits
    /// of live connections (`max_live_connections_per_user`, `max_live_connections`).
    pub async fn subscribe(&self, current: &CurrentUser) -> Result<Subscription, AppError> {
        let user = &current.user;
        let (sink, live) = mpsc::channel(CONNECTION_BUFFER);
        let (revoke, revoked) = futures_channel::oneshot::channel();
        let credentials = StreamCredentials {
            jti: current.claims.jti.clone(),
            token_version: current.claims.ver,
        };
        let connection = self
            .hub
            .send(Connect {
                user: user.id,
                is_admin: user.is_admin,
                sink,
                credentials,
                revoke,
            })
            .await
            .map_err(AppError::internal)?
            .map_err(|refused| match refused {
                ConnectRefused::PerUser(limit) => AppError::TooManyStreams(format!(
                    "you have {limit} live streams open, the most one account may; close one \
                     (another tab or device) and try again"
                )),
                ConnectRefused::Total(_) => AppError::StreamsFull(
                    "the server holds as many live streams as it can; try again shortly".into(),
                ),
            })?;
        Ok(Subscription {
            live,
            revoked,
            user: user.id,
            is_admin: user.is_admin,
            connection,
            hub: self.hub.clone(),
            store: self.store.clone(),
        })
    }

    pub async fn list(
        &self,
        user: UserId,
        unread_only: bool,
        offset: u64,
        limit: u64,
    ) -> Result<EventPage, AppError> {
        let store = self.store.clone();
        blocking(move || Ok(store.notifications(user, unread_only, offset, limit)?)).await
    }

    pub async fn unread_count(&self, user: UserId) -> Result<u64, AppError> {
        let store = self.store.clone();
        blocking(move || Ok(store.notifications(user, true, 0, 0)?.count)).await
    }

    /// The newest event id: where a page rendered now resumes its live updates from.
    pub async fn last_event_id(&self) -> Result<EventId, AppError> {
        let store = self.store.clone();
        blocking(move || Ok(store.last_event_id()?)).await
    }

    pub async fn mark_read(&self, user: UserId, event: EventId) -> Result<(), AppError> {
        let store = self.store.clone();
        blocking(move || Ok(store.mark_read(user, event)?)).await
    }

    pub async fn mark_all_read(&self, user: UserId) -> Result<(), AppError> {
        let store = self.store.clone();
        blocking(move || Ok(store.mark_all_read(user)?)).await
    }

    pub async fn live_connections(&self) -> usize {
        self.hub.send(CountConnections).await.unwrap_or(0)
    }

    /// Live connections, events published and orders by status, for metrics.
    pub async fn hub_stats(&self) -> HubStats {
        self.hub.send(Stats).await.unwrap_or_default()
    }

    /// Counts the stored orders by status once, at start; the hub keeps the counts from then on.
    pub fn seed_order_counts(&self) -> Result<(), AppError> {
        self.hub
            .do_send(SeedOrderCounts(self.store.order_status_counts()?));
        Ok(())
    }
}
