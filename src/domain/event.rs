use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::ids::{EventId, OrderId, UserId};
use super::order::OrderStatus;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EventKind {
    #[serde(rename = "order.created")]
    OrderCreated,
    #[serde(rename = "order.status")]
    OrderStatus,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::OrderCreated => "order.created",
            EventKind::OrderStatus => "order.status",
        }
    }
}

/// One entry of the durable event log: the outbox that feeds live connections and notifications.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderEvent {
    pub id: EventId,
    pub kind: EventKind,
    /// The owner of the order: the user whose connections receive it.
    pub user_id: UserId,
    pub order_id: OrderId,
    pub status: OrderStatus,
    pub previous: Option<OrderStatus>,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

impl OrderEvent {
    /// The human sentence shown in the notifications list.
    pub fn message(&self) -> String {
        match self.kind {
            EventKind::OrderCreated => format!("Order #{} was placed.", self.order_id),
            EventKind::OrderStatus => {
                format!("Order #{} is now {}.", self.order_id, self.status.as_str())
            }
        }
    }
}
