//! Placing orders from the cart, listing them, and moving them through their statuses.
use actix::Addr;
use std::sync::Arc;

use super::blocking;
use crate::actors::messages::{ChangeStatus, Publish};
use crate::actors::order::ActorFor;
use crate::actors::{Hub, OrderRegistry};
use crate::domain::clock::Clock;
use crate::domain::event::OrderEvent;
use crate::domain::ids::{OrderId, UserId};
use crate::domain::order::{Order, OrderStatus};
use crate::domain::user::User;
use crate::domain::ValidationError;
use crate::error::AppError;
use crate::store::{OrderFilter, OrderPage, OrderRequest, PlacedOrder, SharedStorage};

pub const MAX_IDEMPOTENCY_KEY: usize = 255;

#[derive(Clone)]
pub struct Orders {
    store: SharedStorage,
    hub: Addr<Hub>,
    registry: Addr<OrderRegistry>,
    clock: Clock,
}

/// An `Idempotency-Key` header value: 1..=255 visible ASCII characters.
pub fn parse_idempotency_key(raw: &str) -> Result<String, ValidationError> {
    let ok = !raw.is_empty()
        && raw.len() <= MAX_IDEMPOTENCY_KEY
        && raw.bytes().all(|b| (0x21..=0x7e).contains(&b));
    if ok {
        Ok(raw.to_owned())
    } else {
        Err(ValidationError::new(
            "Idempotency-Key",
            "must be 1 to 255 visible ASCII characters",
        ))
    }
}

impl Orders {
    pub fn new(
        store: SharedStorage,
        hub: Addr<Hub>,
        registry: Addr<OrderRegistry>,
        clock: Clock,
    ) -> Orders {
        Orders {
            store,
            hub,
            registry,
            clock,
        }
    }

    /// Places the cart as an order, acknowledged only once it is on disk.
    pub async fn place(
        &self,
        user: UserId,
        idempotency_key: Option<String>,
    ) -> Result<PlacedOrder, AppError> {
        let hub = self.hub.clone();
        let request = OrderRequest {
            user,
            idempotency: idempotency_key,
            now: self.clock.now(),
        };
        let publish =
            Box::new(move |event: &OrderEvent| hub.do_send(Publish(Arc::new(event.clone()))));
        Ok(self.store.place_order(request, publish).await?)
    }

    /// The order, if `viewer` may see it (its owner or an admin); otherwise 404.
    pub async fn get(&self, viewer: &User, id: OrderId) -> Result<Order, AppError> {
        let store = self.store.clone();
        let order = blocking(move || Ok(store.order(id)?)).await?;
        if order.user_id != viewer.id && !viewer.is_admin {
            return Err(AppError::NotFound);
        }
        Ok(order)
    }

    pub async fn list(
        &self,
        viewer: &User,
        status: Option<OrderStatus>,
        user: Option<UserId>,
        offset: u64,
        limit: u64,
    ) -> Result<OrderPage, AppError> {
        let filter = if viewer.is_admin {
            OrderFilter { user, status }
        } else {
            OrderFilter {
                user: Some(viewer.id),
                status,
            }
        };
        let store = self.store.clone();
        blocking(move || Ok(store.list_orders(&filter, offset, limit)?)).await
    }

    /// Ship or deliver (admins), or cancel (the owner or an admin), through the order's actor.
    pub async fn change_status(
        &self,
        actor: &User,
        id: OrderId,
        next: OrderStatus,
    ) -> Result<Order, AppError> {
        let order = self.get(actor, id).await?;
        let allowed =
            actor.is_admin || (next == OrderStatus::Cancelled && order.user_id == actor.id);
        if !allowed {
            return Err(AppError::Forbidden);
        }
        let mut attempts = 0;
        let changed = loop {
            let addr = self
                .registry
                .send(ActorFor(id))
                .await
                .map_err(AppError::internal)?;
            match addr.send(ChangeStatus { next }).await {
                Ok(result) => break result?,
                // The actor stopped for idleness between lookup and send: ask again.
                Err(_) if attempts < 3 => attempts += 1,
                Err(e) => return Err(AppError::internal(e)),
            }
        };
        self.store.durable().await?;
        Ok(changed)
    }

    /// How many orders `viewer` can see in each status (admins: all orders), for the dashboard.
    /// Admins get one pass over the store's statuses rather than one scan per status.
    pub async fn status_counts(&self, viewer: &User) -> Result<Vec<(OrderStatus, u64)>, AppError> {
        if viewer.is_admin {
            let store = self.store.clone();
            return blocking(move || Ok(store.order_status_counts()?)).await;
        }
        let mut counts = Vec::with_capacity(OrderStatus::ALL.len());
        for status in OrderStatus::ALL {
            let page = self.list(viewer, Some(status), None, 0, 0).await?;
            counts.push((status, page.count));
        }
        Ok(counts)
    }

    pub fn prune(&self) -> Result<usize, AppError> {
        Ok(self.store.prune_idempotency_keys(self.clock.now())?)
    }
}
