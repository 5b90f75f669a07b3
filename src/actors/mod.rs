//! Order actors (one per active order) and the live fan-out: hub → user sessions → connections.
pub mod hub;
pub mod messages;
pub mod order;
pub mod user_session;

pub use hub::Hub;
pub use order::OrderRegistry;
