//! Minimal SVG icons, inlined so they take the text colour (`currentColor`).
use maud::{Markup, PreEscaped};

use crate::domain::order::OrderStatus;

pub fn status(status: OrderStatus) -> Markup {
    PreEscaped(
        match status {
            OrderStatus::Pending => include_str!("../../../assets/icons/pending.svg"),
            OrderStatus::Shipped => include_str!("../../../assets/icons/shipped.svg"),
            OrderStatus::Delivered => include_str!("../../../assets/icons/delivered.svg"),
            OrderStatus::Cancelled => include_str!("../../../assets/icons/cancelled.svg"),
        }
        .trim()
        .to_owned(),
    )
}

pub fn cart() -> Markup {
    PreEscaped(
        include_str!("../../../assets/icons/cart.svg")
            .trim()
            .to_owned(),
    )
}

pub fn bell() -> Markup {
    PreEscaped(
        include_str!("../../../assets/icons/bell.svg")
            .trim()
            .to_owned(),
    )
}
