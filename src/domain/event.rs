use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::ids::{EventId, OrderId, ProductId, UserId};
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

/// A product's stock fell to or below the low-stock threshold (from above it), by an order or
/// an admin's change. Written to the same log as order events, in the same transaction as the
/// stock change, for webhooks; it is nobody's notification and no live stream carries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockLowEvent {
    pub id: EventId,
    pub product_id: ProductId,
    pub name: String,
    pub stock: u32,
    pub threshold: u32,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

/// One entry of the event log as a dispatcher (webhooks, emails) reads it. Untagged, so the
/// order events written before stock events existed read back unchanged: a stock event is the
/// one with a `product_id`, an order event the one with an `order_id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum LogEntry {
    Order(OrderEvent),
    StockLow(StockLowEvent),
}

impl LogEntry {
    pub fn id(&self) -> EventId {
        match self {
            LogEntry::Order(e) => e.id,
            LogEntry::StockLow(e) => e.id,
        }
    }

    pub fn at(&self) -> OffsetDateTime {
        match self {
            LogEntry::Order(e) => e.at,
            LogEntry::StockLow(e) => e.at,
        }
    }

    pub fn type_name(&self) -> &'static str {
        match self {
            LogEntry::Order(e) => e.kind.as_str(),
            LogEntry::StockLow(_) => "product.stock_low",
        }
    }
}

/// True when a change of stock from `before` to `after` crosses into "low": at or below
/// `threshold` now, above it before. Staying low (or restocking) says nothing new.
pub fn stock_became_low(before: u32, after: u32, threshold: u32) -> bool {
    before > threshold && after <= threshold
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::{OrderId, UserId};

    #[test]
    fn stock_is_low_only_when_it_crosses_the_threshold_from_above() {
        assert!(stock_became_low(6, 5, 5));
        assert!(stock_became_low(100, 0, 5));
        assert!(!stock_became_low(5, 4, 5), "already low");
        assert!(!stock_became_low(9, 6, 5));
        assert!(!stock_became_low(2, 8, 5), "a restock");
    }

    #[test]
    fn log_entries_of_both_kinds_read_back_as_written() {
        let at = OffsetDateTime::UNIX_EPOCH;
        let order = LogEntry::Order(OrderEvent {
            id: EventId::new(1),
            kind: EventKind::OrderStatus,
            user_id: UserId::new(2),
            order_id: OrderId::new(3),
            status: OrderStatus::Shipped,
            previous: Some(OrderStatus::Pending),
            at,
        });
        let stock = LogEntry::StockLow(StockLowEvent {
            id: EventId::new(4),
            product_id: ProductId::new(5),
            name: "Saw".into(),
            stock: 1,
            threshold: 5,
            at,
        });
        for entry in [order, stock] {
            let json = serde_json::to_vec(&entry).unwrap();
            assert_eq!(serde_json::from_slice::<LogEntry>(&json).unwrap(), entry);
        }
    }
}
