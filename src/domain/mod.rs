//! Pure types and rules: no IO, no actix, no sled.
pub mod cart;
pub mod catalog;
pub mod event;
pub mod ids;
pub mod money;
pub mod order;
pub mod search;
pub mod user;
pub mod validation;

pub use validation::{FieldErrors, ValidationError};
