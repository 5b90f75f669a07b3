//! The use cases: the only place pages and the API share logic.
pub mod accounts;
mod backup_dir;
pub mod backups;
pub mod cart;
pub mod catalog;
pub mod json;
pub mod live_feed;
pub mod login_failures;
pub mod mail;
pub mod notifications;
pub mod orders;
pub mod shared_limits;
pub mod throttle;
pub mod webhooks;

use actix_web::web;

use crate::error::AppError;

pub use accounts::Accounts;
pub use backups::Backups;
pub use cart::Carts;
pub use catalog::Catalog;
pub use notifications::Notifications;
pub use orders::Orders;
pub use webhooks::Webhooks;

/// Every service, cloned into each HTTP worker.
#[derive(Clone)]
pub struct Services {
    pub accounts: Accounts,
    pub catalog: Catalog,
    pub cart: Carts,
    pub orders: Orders,
    pub notifications: Notifications,
    pub backups: Backups,
    pub webhooks: Webhooks,
}

/// Runs blocking work (store reads and writes, scans, sled transactions) on the blocking pool;
/// argon2 has its own threads (auth::password).
pub(crate) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, AppError> + Send + 'static,
) -> Result<T, AppError> {
    web::block(work).await?
}
