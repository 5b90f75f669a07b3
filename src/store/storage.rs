//! The storage seam: what the services need of a database, in domain terms. sled (`Store`) is
//! the first backend; another (PostgreSQL) implements the same traits, and nothing above
//! `store/` changes.
//!
//! Why traits behind one `Arc<dyn Storage>` rather than an enum over backends: a new backend is
//! a new file, not a new arm in sixty matches, and the services cannot reach past the seam into
//! sled. The calls stay synchronous: the services already run every storage call on the
//! blocking pool (`services::blocking`), where sled answers in microseconds and a pooled
//! PostgreSQL connection can wait for its server without holding up a worker. A dynamic call
//! costs a few nanoseconds against the microseconds of the work behind it; closures that a
//! write applies inside its transaction (and may re-run when it retries) are `&dyn Fn`.
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;

use super::{
    CatalogPage, DeliveryPage, EventPage, OrderFilter, OrderPage, OrderRequest, PlacedOrder,
    Publisher, RefreshOutcome, RefreshRecord, Snapshot, StorageHealth, StoreError,
};
use crate::domain::cart::Cart;
use crate::domain::catalog::{
    Category, CategoryDraft, CategoryWithCount, PageRequest, Product, ProductDraft, ProductFilter,
    StockChange,
};
use crate::domain::event::{LogEntry, OrderEvent};
use crate::domain::ids::{CategoryId, DeliveryId, EventId, OrderId, ProductId, UserId, WebhookId};
use crate::domain::order::{Order, OrderStatus};
use crate::domain::user::{Email, User};
use crate::domain::webhook::{Webhook, WebhookDraft, WebhookSecret};
use crate::domain::webhook_delivery::{Delivery, DispatchState};

/// An answer that comes once the backend has finished (an order placed and on disk).
pub type Pending<T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'static>>;

/// Everything a backend provides; the services hold it as `SharedStorage`.
pub trait Storage:
    CatalogStorage
    + AccountStorage
    + TokenStorage
    + CartStorage
    + OrderStorage
    + EventStorage
    + WebhookStorage
    + MailStorage
    + StorageOperations
    + HotCalls
    + Send
    + Sync
    + 'static
{
}

impl<T> Storage for T where
    T: CatalogStorage
        + AccountStorage
        + TokenStorage
        + CartStorage
        + OrderStorage
        + EventStorage
        + WebhookStorage
        + MailStorage
        + StorageOperations
        + HotCalls
        + Send
        + Sync
        + 'static
{
}

/// The backend the services share (cheap to clone).
pub type SharedStorage = Arc<dyn Storage>;

/// A change a cart write applies (and re-applies when it loses a race), owned so that it can
/// travel with a call answered as a future.
pub type CartChange = Box<dyn Fn(&mut Cart) -> Result<(), StoreError> + Send + Sync>;

/// The calls of the busiest requests (every authenticated request checks its token; adding to
/// a cart reads the product and writes the cart), answered as futures. By default the
/// synchronous call runs on the blocking pool, as every other call does. A backend that waits
/// on a database server answers them on its own connections' I/O instead: no blocking thread
/// wakes up and hands over per round trip, which on PostgreSQL was most of the server's CPU
/// time per order.
pub trait HotCalls: TokenStorage + CatalogStorage + CartStorage + Send + Sync + 'static {
    /// `TokenStorage::token_user`.
    fn token_user_soon(self: Arc<Self>, user: UserId, jti: String) -> Pending<Option<User>> {
        on_blocking_pool(move || self.token_user(user, &jti))
    }

    /// A product added to a cart: the product (`NotFound`, and nothing written, when there is
    /// none), then `CartStorage::update_cart` with `change`.
    fn add_to_cart_soon(
        self: Arc<Self>,
        user: UserId,
        product: ProductId,
        change: CartChange,
    ) -> Pending<(Product, Cart)> {
        on_blocking_pool(move || {
            let product = self.product(product)?;
            Ok((product, self.update_cart(user, &*change)?))
        })
    }
}

/// Runs a synchronous storage call on the blocking pool; a panic in it is an I/O error.
fn on_blocking_pool<T: Send + 'static>(
    call: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Pending<T> {
    Box::pin(async move {
        tokio::task::spawn_blocking(call)
            .await
            .map_err(|e| StoreError::Io(format!("storage call failed: {e}")))?
    })
}

/// Categories and products, with the index that answers product lists.
pub trait CatalogStorage {
    /// Bulk insert for seeding: chunks of products written as batches, then indexed.
    /// Not for concurrent use with live traffic (it is run before serving).
    fn seed_products(
        &self,
        drafts: &mut dyn Iterator<Item = ProductDraft>,
        now: OffsetDateTime,
    ) -> Result<usize, StoreError>;
    fn create_category(&self, draft: CategoryDraft) -> Result<Category, StoreError>;
    fn update_category(&self, id: CategoryId, draft: CategoryDraft)
        -> Result<Category, StoreError>;
    fn delete_category(&self, id: CategoryId) -> Result<(), StoreError>;
    fn category(&self, id: CategoryId) -> Result<CategoryWithCount, StoreError>;
    /// All categories in id order (a shop has dozens, not millions).
    fn categories(&self) -> Result<Vec<CategoryWithCount>, StoreError>;
    fn create_product(
        &self,
        draft: ProductDraft,
        now: OffsetDateTime,
    ) -> Result<Product, StoreError>;
    /// Replaces the editable fields of a product with what `change` makes of them.
    fn update_product(
        &self,
        id: ProductId,
        now: OffsetDateTime,
        change: &dyn Fn(&Product) -> ProductDraft,
    ) -> Result<Product, StoreError>;
    fn delete_product(&self, id: ProductId) -> Result<(), StoreError>;
    fn change_stock(
        &self,
        id: ProductId,
        change: StockChange,
        now: OffsetDateTime,
    ) -> Result<Product, StoreError>;
    fn product(&self, id: ProductId) -> Result<Product, StoreError>;
    /// The products that still exist among `ids`, in the order asked.
    fn products(&self, ids: &[ProductId]) -> Result<Vec<Product>, StoreError>;
    fn list_products(
        &self,
        filter: &ProductFilter,
        page: PageRequest,
    ) -> Result<CatalogPage, StoreError>;
    /// No category and no product yet (answered from the database: it does not wait for the
    /// catalog index to load).
    fn catalog_is_empty(&self) -> Result<bool, StoreError>;
    fn product_count(&self) -> usize;
}

/// Users: one per email, compared case-insensitively.
pub trait AccountStorage {
    /// Inserts a new user with a fresh id; `Conflict` when the email is taken.
    fn create_user(&self, draft: &dyn Fn(UserId) -> User) -> Result<User, StoreError>;
    fn user(&self, id: UserId) -> Result<User, StoreError>;
    fn user_by_email(&self, email: &Email) -> Result<User, StoreError>;
    /// Read-modify-write of one user, atomically.
    fn update_user(&self, id: UserId, change: &dyn Fn(&mut User)) -> Result<User, StoreError>;
    fn admin_count(&self) -> Result<usize, StoreError>;
}

/// Refresh-token families (rotation, reuse detection) and revoked access tokens.
pub trait TokenStorage {
    /// Drops records that can no longer matter (expired refresh tokens and revocations).
    fn prune_expired_tokens(&self, now: i64) -> Result<usize, StoreError>;
    /// Stores the first refresh token of a new login (a new family).
    fn start_refresh_family(
        &self,
        hash: &[u8],
        user_id: UserId,
        token_version: u32,
        expires_at: i64,
    ) -> Result<RefreshRecord, StoreError>;
    /// Spends `old_hash` and stores `new_hash` in the same family, atomically. A token spent
    /// already revokes its family (a stolen token), unless it was rotated to this same
    /// `new_hash` at most `grace_seconds` ago: then the answer is that successor's record again,
    /// and nothing changes (0 for no grace).
    fn rotate_refresh(
        &self,
        old_hash: &[u8],
        new_hash: &[u8],
        now: i64,
        new_expires_at: i64,
        grace_seconds: i64,
    ) -> Result<RefreshOutcome, StoreError>;
    /// Revokes the family of a refresh token (logout). Unknown tokens are ignored.
    fn revoke_refresh_family(&self, hash: &[u8]) -> Result<Option<UserId>, StoreError>;
    /// Remembers a revoked access token id until it would have expired anyway.
    fn revoke_access_token(&self, jti: &str, expires_at: i64) -> Result<(), StoreError>;
    fn is_access_token_revoked(&self, jti: &str) -> Result<bool, StoreError>;
    /// The user an access token names, or `None` when the token `jti` was revoked: what every
    /// authenticated request asks, in one read where the backend can (a round trip each on a
    /// database server).
    fn token_user(&self, user: UserId, jti: &str) -> Result<Option<User>, StoreError>;
}

/// One cart per user.
pub trait CartStorage {
    fn cart(&self, user: UserId) -> Result<Cart, StoreError>;
    /// Read-modify-write of a cart as one compare-and-swap on its key, retried when another
    /// write got there first. A single-key swap needs no multi-tree transaction (whose fixed
    /// commit cost is the price of placing an order), and sled orders it against those
    /// transactions, so an order sees the cart either before or after the change. `change`
    /// may refuse, and then nothing is written.
    fn update_cart(
        &self,
        user: UserId,
        change: &dyn Fn(&mut Cart) -> Result<(), StoreError>,
    ) -> Result<Cart, StoreError>;
}

/// Orders: placement (all or nothing, never oversold), status changes, history.
pub trait OrderStorage {
    /// Moves an order to `next`; a cancellation puts its stock back. The event is written in
    /// the same transaction and handed to `publish` before the log is released (or, on a backend that follows its commits, to the
    /// follower's sink).
    fn transition_order(
        &self,
        id: OrderId,
        next: OrderStatus,
        now: OffsetDateTime,
        publish: &dyn Fn(&OrderEvent),
    ) -> Result<(Order, OrderEvent), StoreError>;
    fn order(&self, id: OrderId) -> Result<Order, StoreError>;
    /// Orders newest first, filtered, one page of them.
    fn list_orders(
        &self,
        filter: &OrderFilter,
        offset: u64,
        limit: u64,
    ) -> Result<OrderPage, StoreError>;
    /// How many orders are in each status: one pass over the orders, reading only the status.
    fn order_status_counts(&self) -> Result<Vec<(OrderStatus, u64)>, StoreError>;
    /// Forgets idempotency keys older than their 24 hours.
    fn prune_idempotency_keys(&self, now: OffsetDateTime) -> Result<usize, StoreError>;
    /// Places an order: the stock check and decrement, the order, the emptied cart, the
    /// idempotency key and its event, all or nothing. Answers once the order is durable (or
    /// refused); a retry with the same key answers the first order. `publish` hands the event
    /// to the live hub in id order (unless the backend follows its commits). Nothing for the caller to start or remember.
    fn place_order(&self, request: OrderRequest, publish: Publisher) -> Pending<PlacedOrder>;
}

/// The durable event log: what live streams replay and dispatchers walk.
pub trait EventStorage {
    /// Entries of the whole log (order and stock events) with id above `after`, oldest first,
    /// at most `limit`: what the webhook and email dispatchers walk.
    fn log_after(&self, after: EventId, limit: usize) -> Result<Vec<LogEntry>, StoreError>;
    /// One entry of the log, of either kind.
    fn log_entry(&self, id: EventId) -> Result<LogEntry, StoreError>;
    /// Events of `user` with id above `after`, oldest first, at most `limit`.
    fn user_events_after(
        &self,
        user: UserId,
        after: EventId,
        limit: usize,
    ) -> Result<Vec<OrderEvent>, StoreError>;
    /// Every user's order events with id above `after` (what an admin connection replays);
    /// stock events are for webhooks only and are passed over.
    fn all_events_after(&self, after: EventId, limit: usize)
        -> Result<Vec<OrderEvent>, StoreError>;
    fn last_event_id(&self) -> Result<EventId, StoreError>;
    /// A user's notifications, newest first, optionally only the unread ones.
    fn notifications(
        &self,
        user: UserId,
        unread_only: bool,
        offset: u64,
        limit: u64,
    ) -> Result<EventPage, StoreError>;
    fn mark_read(&self, user: UserId, event: EventId) -> Result<(), StoreError>;
    fn mark_all_read(&self, user: UserId) -> Result<(), StoreError>;
}

/// Webhooks, each with its dispatch cursor, and the log of their delivery attempts.
pub trait WebhookStorage {
    /// Stores a new webhook whose cursor starts at the end of the log: it hears about events
    /// from now on, not the shop's whole history.
    fn create_webhook(
        &self,
        draft: WebhookDraft,
        secret: WebhookSecret,
        created_at: OffsetDateTime,
    ) -> Result<Webhook, StoreError>;
    /// Every webhook, oldest first (a shop has a handful).
    fn webhooks(&self) -> Result<Vec<Webhook>, StoreError>;
    fn webhook(&self, id: WebhookId) -> Result<Webhook, StoreError>;
    /// Rewrites a webhook with `change` applied to the stored one.
    fn update_webhook(
        &self,
        id: WebhookId,
        change: &dyn Fn(&mut Webhook),
    ) -> Result<Webhook, StoreError>;
    /// Removes the webhook and its cursor at once, then its delivery log.
    fn delete_webhook(&self, id: WebhookId) -> Result<(), StoreError>;
    fn dispatch_state(&self, id: WebhookId) -> Result<DispatchState, StoreError>;
    /// Appends an attempt to the log and, when given, moves the cursor, in one transaction.
    /// A webhook deleted meanwhile is `NotFound` and nothing is written.
    fn record_delivery(
        &self,
        delivery: &Delivery,
        next_state: Option<DispatchState>,
    ) -> Result<Delivery, StoreError>;
    /// Overwrites the cursor (an admin's "retry now" brings the next attempt forward).
    fn set_dispatch_state(&self, id: WebhookId, next: DispatchState) -> Result<(), StoreError>;
    fn delivery(&self, hook: WebhookId, id: DeliveryId) -> Result<Delivery, StoreError>;
    /// Drops all but the newest `keep` attempts of every webhook; returns how many went.
    fn prune_deliveries(&self, keep: usize) -> Result<usize, StoreError>;
    /// A webhook's attempts, newest first.
    fn deliveries(
        &self,
        id: WebhookId,
        offset: u64,
        limit: u64,
    ) -> Result<DeliveryPage, StoreError>;
}

/// The order-email dispatcher's cursor over the event log.
pub trait MailStorage {
    /// None when order emails have never run (or were switched off since).
    fn mail_state(&self) -> Result<Option<DispatchState>, StoreError>;
    fn set_mail_state(&self, state: DispatchState) -> Result<(), StoreError>;
    /// Forgets the cursor, so emails switched on later start from that moment rather than
    /// sending everything that happened while they were off.
    fn clear_mail_state(&self) -> Result<(), StoreError>;
}

/// What the server needs of a backend as a whole: durability, health, identity.
pub trait StorageOperations {
    /// Waits until everything written so far is on disk. Concurrent callers share one flush.
    fn durable(&self) -> Pending<()>;
    /// Flushes synchronously (shutdown, CLI commands).
    fn flush(&self) -> Result<(), StoreError>;
    /// Closes the database at the end of a server's run: once this returns another process
    /// (or a test) may open the same data. Calls made afterwards fail as unavailable.
    fn close(&self);
    /// A value that moves forward with every catalog change (durably, in the same transaction).
    fn catalog_generation(&self) -> u64;
    /// Random id of this database, so caches shared between databases never mix entries.
    fn database_id(&self) -> String;
    /// Sets the level at or below which stock counts as low (see `stock_became_low`).
    fn set_stock_low_threshold(&self, threshold: u32);
    /// Whether writes are reaching the disk (a failing backend is reopened in the background).
    fn storage_health(&self) -> StorageHealth;
    /// A consistent copy of everything, for a backup file (writes wait while it is taken).
    fn snapshot(&self) -> Result<Snapshot, StoreError>;
    /// The token-signing secret kept in the database, for backends several instances share
    /// (each must verify the others' tokens): made with `generate` by the first to ask. `None`
    /// where the secret lives in the data dir beside the database (sled).
    fn shared_secret(&self, generate: &dyn Fn() -> String) -> Result<Option<String>, StoreError>;
    /// Hands every order event committed from now on, by this process or any other sharing
    /// the database, to `sink` once, in id order (the live hub), and keeps `catalog_generation`
    /// up with other processes' catalog writes; a lost wake-up costs at most `catch_up`.
    /// A backend only one process can open (sled) has nothing to follow: its writers hand
    /// their events to the `publish` callbacks of `place_order` and `transition_order`
    /// instead, and a backend that follows never calls those callbacks.
    fn follow_commits(&self, sink: CommitSink, catch_up: Duration) -> Result<(), StoreError>;
    /// Whether this process is the one that delivers webhooks and order emails now. Several
    /// processes sharing a database must not each deliver the log: one leads, another takes
    /// over when it dies. Always true where one process owns the database (sled).
    fn leads_delivery(&self) -> bool;
    /// Serializes what processes starting on one database do to it (the configured admin, the
    /// demo catalog) until the answer is dropped.
    fn start_up_lock(&self) -> Result<Box<dyn Send>, StoreError>;
    /// Tells the other processes on this database about `revocation` (their followers hand it
    /// to `CommitSink::revocations`); at most once, and not durably: a stream an announcement
    /// misses still ends when its access token expires. Nothing to do where one process
    /// owns the database.
    fn announce_revocation(&self, revocation: &Revocation) -> Result<(), StoreError>;
}

/// What a backend that follows its commits hands on (see `follow_commits`).
pub struct CommitSink {
    /// Every order event, once, in id order.
    pub events: Box<dyn Fn(&OrderEvent) + Send + Sync>,
    /// Credentials another process revoked (see `announce_revocation`).
    pub revocations: Box<dyn Fn(Revocation) + Send + Sync>,
}

/// Credentials that stopped being good: an access token signed out (`jti`), or every token
/// of a user older than `token_version` (a password change). Live streams holding them close.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Revocation {
    pub user: UserId,
    pub jti: Option<String>,
    pub token_version: Option<u32>,
}
