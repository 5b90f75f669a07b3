//! Tests: cart_orders.
