use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::ids::{OrderId, ProductId, UserId};
use super::money::Money;
use super::ValidationError;

// The OpenAPI document describes this very type.
/// The status of an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum OrderStatus {
    Pending,
    Shipped,
    Delivered,
    Cancelled,
}

impl OrderStatus {
    pub const ALL: [OrderStatus; 4] = [
        OrderStatus::Pending,
        OrderStatus::Shipped,
        OrderStatus::Delivered,
        OrderStatus::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Pending => "pending",
            OrderStatus::Shipped => "shipped",
            OrderStatus::Delivered => "delivered",
            OrderStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(field: &str, raw: &str) -> Result<OrderStatus, ValidationError> {
        OrderStatus::ALL
            .into_iter()
            .find(|s| s.as_str() == raw)
            .ok_or_else(|| {
                ValidationError::new(
                    field,
                    "must be one of pending, shipped, delivered, cancelled",
                )
            })
    }

    /// The only legal moves: pending → shipped → delivered, and pending → cancelled.
    pub fn can_become(self, next: OrderStatus) -> bool {
        matches!(
            (self, next),
            (OrderStatus::Pending, OrderStatus::Shipped)
                | (OrderStatus::Shipped, OrderStatus::Delivered)
                | (OrderStatus::Pending, OrderStatus::Cancelled)
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderItem {
    pub product_id: ProductId,
    pub name: String,
    pub unit_price: Money,
    pub quantity: u32,
}

impl OrderItem {
    pub fn line_total(&self) -> Money {
        self.unit_price.times(self.quantity)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusChange {
    pub status: OrderStatus,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    pub id: OrderId,
    pub user_id: UserId,
    pub status: OrderStatus,
    pub items: Vec<OrderItem>,
    pub history: Vec<StatusChange>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("an order that is {from} cannot become {to}")]
pub struct IllegalTransition {
    pub from: &'static str,
    pub to: &'static str,
}

impl Order {
    pub fn total_price(&self) -> Money {
        self.items
            .iter()
            .fold(Money::ZERO, |sum, i| sum.plus(i.line_total()))
    }

    /// Moves the order to `next`, recording it in the history; refuses illegal moves.
    pub fn transition(
        &mut self,
        next: OrderStatus,
        at: OffsetDateTime,
    ) -> Result<OrderStatus, IllegalTransition> {
        if !self.status.can_become(next) {
            return Err(IllegalTransition {
                from: self.status.as_str(),
                to: next.as_str(),
            });
        }
        let previous = self.status;
        self.status = next;
        self.updated_at = at;
        self.history.push(StatusChange { status: next, at });
        Ok(previous)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use OrderStatus::*;

    #[test]
    fn only_the_documented_transitions_are_legal() {
        let legal = [
            (Pending, Shipped),
            (Shipped, Delivered),
            (Pending, Cancelled),
        ];
        for from in OrderStatus::ALL {
            for to in OrderStatus::ALL {
                assert_eq!(
                    from.can_become(to),
                    legal.contains(&(from, to)),
                    "{from:?} -> {to:?}"
                );
            }
        }
    }

    #[test]
    fn transition_records_history() {
        let now = OffsetDateTime::UNIX_EPOCH;
        let mut order = Order {
            id: OrderId::new(1),
            user_id: UserId::new(1),
            status: Pending,
            items: vec![],
            history: vec![StatusChange {
                status: Pending,
                at: now,
            }],
            created_at: now,
            updated_at: now,
        };
        assert_eq!(order.transition(Shipped, now), Ok(Pending));
        assert!(order.transition(Cancelled, now).is_err());
        assert_eq!(order.history.len(), 2);
        assert_eq!(order.status, Shipped);
    }
}

// Sent in the `409` problem's `products`; the OpenAPI document describes this very type.
/// A product an order cannot be filled with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Shortage {
    #[schema(value_type = u64, minimum = 1)]
    pub product_id: ProductId,
    pub name: String,
    pub requested: u32,
    pub available: u32,
}
