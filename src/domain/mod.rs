//! Pure types and rules: no IO, no actix, no sled.
pub mod cart;
pub mod catalog;
pub mod catalog_input;
pub mod clock;
pub mod event;
pub mod ids;
pub mod internal_address;
pub mod money;
pub mod order;
pub mod placement;
pub mod search;
pub mod user;
pub mod validation;
pub mod webhook;
pub mod webhook_delivery;

pub use validation::{FieldErrors, ValidationError};
