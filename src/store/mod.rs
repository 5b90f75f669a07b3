//! The only module that touches sled. Public functions take and return domain types.
mod backup_file;
mod carts;
mod catalog;
mod catalog_index;
mod codec;
mod durability;
mod error;
mod events;
mod folded_names;
mod mail;
mod format_version;
mod name_index;
mod order_queue;
mod orders;
mod restore;
mod snapshot;
mod tokens;
mod users;
mod webhooks;

use std::path::Path;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

pub use backup_file::{verify_backup, BackupError, BackupInfo, BACKUP_FORMAT};
pub use catalog::CatalogPage;
pub use error::{Shortage, StoreError};
pub use events::EventPage;
pub use format_version::CURRENT as DATABASE_FORMAT_VERSION;
pub use order_queue::Publisher;
pub use orders::{OrderFilter, OrderPage, OrderRequest, PlacedOrder};
pub use restore::restore_backup;
pub use snapshot::Snapshot;
pub use tokens::{RefreshOutcome, RefreshRecord};
pub use webhooks::DeliveryPage;

use catalog_index::CatalogIndex;
use durability::GroupCommit;

/// Handle to the embedded database. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Trees {
    meta: sled::Tree,
    users: sled::Tree,
    emails: sled::Tree,
    refresh: sled::Tree,
    families: sled::Tree,
    revoked_access: sled::Tree,
    categories: sled::Tree,
    category_names: sled::Tree,
    products: sled::Tree,
    catalog_rows: sled::Tree,
    carts: sled::Tree,
    orders: sled::Tree,
    user_orders: sled::Tree,
    events: sled::Tree,
    user_events: sled::Tree,
    read_events: sled::Tree,
    idempotency: sled::Tree,
    webhooks: sled::Tree,
    webhook_state: sled::Tree,
    webhook_deliveries: sled::Tree,
}

struct Inner {
    db: sled::Db,
    trees: Trees,
    catalog: CatalogIndex,
    /// Mirrors the durable catalog generation; cache keys carry it.
    catalog_generation: AtomicU64,
    /// A stock change that brings a product to this level or below (from above) writes a
    /// `product.stock_low` event (settings.stock_low_threshold).
    stock_low_threshold: AtomicU32,
    /// Serializes catalog writes with the index refresh that follows them.
    catalog_write: Mutex<()>,
    /// Serializes event-producing commits with their hand-off, so publish order = id order.
    event_log: Mutex<()>,
    group_commit: GroupCommit,
    /// Orders waiting to be placed by the next batch (see `order_queue`).
    order_queue: Mutex<order_queue::OrderQueue>,
    /// Every write holds it shared (`writing()`), a backup exclusively (see `snapshot`).
    /// EVERY function that writes to sled must take it first, before any other lock.
    snapshot_gate: RwLock<()>,
}

/// The low-stock level when settings name none (`stock_low_threshold`).
pub const DEFAULT_STOCK_LOW_THRESHOLD: u32 = 5;

const META_CATALOG_GENERATION: &[u8] = b"catalog_generation";
const META_DATABASE_ID: &[u8] = b"database_id";

impl Store {
    /// Opens (or creates) the database in `dir` with sled's default-sized page cache.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        Store::open_with_cache(dir, 256)
    }

    /// Opens (or creates) the database in `dir`, letting sled's page cache grow to `cache_mb`
    /// MiB (it fills with use and stays: part of the memory to plan for). A database held by a
    /// running server is reported as `StoreError::Locked`.
    pub fn open_with_cache(dir: &Path, cache_mb: u64) -> Result<Store, StoreError> {
        std::fs::create_dir_all(dir).map_err(|e| StoreError::Io(e.to_string()))?;
        let db = sled::Config::new()
            .path(dir.join("db"))
            .cache_capacity(cache_mb.max(1) * 1024 * 1024)
            .flush_every_ms(Some(1000))
            .open()
            .map_err(StoreError::from_open)?;
        let tree = |name: &str| db.open_tree(name).map_err(StoreError::from);
        let trees = Trees {
            meta: tree("meta")?,
            users: tree("users")?,
            emails: tree("emails")?,
            refresh: tree("refresh_tokens")?,
            families: tree("token_families")?,
            revoked_access: tree("revoked_access")?,
            categories: tree("categories")?,
            category_names: tree("category_names")?,
            products: tree("products")?,
            catalog_rows: tree("catalog_rows")?,
            carts: tree("carts")?,
            orders: tree("orders")?,
            user_orders: tree("user_orders")?,
            events: tree("events")?,
            user_events: tree("user_events")?,
            read_events: tree("read_events")?,
            idempotency: tree("idempotency")?,
            webhooks: tree("webhooks")?,
            webhook_state: tree("webhook_state")?,
            webhook_deliveries: tree("webhook_deliveries")?,
        };
        format_version::check_and_record(&trees.meta)?;
        if trees.meta.get(META_DATABASE_ID)?.is_none() {
            let id: u128 = rand::random();
            trees
                .meta
                .compare_and_swap(
                    META_DATABASE_ID,
                    None as Option<&[u8]>,
                    Some(&id.to_be_bytes()[..]),
                )?
                .ok();
        }
        let generation = codec::read_u64(trees.meta.get(META_CATALOG_GENERATION)?.as_deref());
        let catalog = CatalogIndex::load(&trees.catalog_rows)?;
        let group_commit = GroupCommit::start(db.clone());
        Ok(Store {
            inner: Arc::new(Inner {
                db,
                trees,
                catalog,
                catalog_generation: AtomicU64::new(generation),
                stock_low_threshold: AtomicU32::new(DEFAULT_STOCK_LOW_THRESHOLD),
                catalog_write: Mutex::new(()),
                event_log: Mutex::new(()),
                group_commit,
                order_queue: Mutex::default(),
                snapshot_gate: RwLock::new(()),
            }),
        })
    }

    /// Waits until everything written so far is on disk. Concurrent callers share one flush.
    pub async fn durable(&self) -> Result<(), StoreError> {
        self.inner.group_commit.wait().await
    }

    /// Flushes synchronously (shutdown, CLI commands).
    pub fn flush(&self) -> Result<(), StoreError> {
        self.inner.db.flush()?;
        Ok(())
    }

    /// A value that moves forward with every catalog change (durably, in the same transaction).
    pub fn catalog_generation(&self) -> u64 {
        self.inner.catalog_generation.load(Ordering::Acquire)
    }

    /// Random id of this database, so caches shared between databases never mix entries.
    pub fn database_id(&self) -> String {
        let raw = self.inner.trees.meta.get(META_DATABASE_ID).ok().flatten();
        raw.map(|v| v.iter().map(|b| format!("{b:02x}")).collect())
            .unwrap_or_default()
    }

    /// Sets the level at or below which stock counts as low (see `stock_became_low`).
    pub fn set_stock_low_threshold(&self, threshold: u32) {
        self.inner
            .stock_low_threshold
            .store(threshold, Ordering::Relaxed);
    }

    fn stock_low_threshold(&self) -> u32 {
        self.inner.stock_low_threshold.load(Ordering::Relaxed)
    }

    fn publish_generation(&self, generation: u64) {
        self.inner
            .catalog_generation
            .fetch_max(generation, Ordering::AcqRel);
    }
}

impl Store {
    /// Held for the whole of a write, so that a backup sees the database between writes.
    fn writing(&self) -> std::sync::RwLockReadGuard<'_, ()> {
        // Poisoning only means a writer panicked; the gate guards no data of its own.
        self.inner
            .snapshot_gate
            .read()
            .unwrap_or_else(|p| p.into_inner())
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while holding the lock cannot leave sled half-written (transactions are atomic),
    // so a poisoned lock is safe to reuse.
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

/// Next value of a counter kept in `meta`, inside a transaction.
fn next_id(
    meta: &sled::transaction::TransactionalTree,
    name: &str,
) -> Result<u64, sled::transaction::UnabortableTransactionError> {
    let key = format!("seq/{name}");
    let next = codec::read_u64(meta.get(key.as_bytes())?.as_deref()) + 1;
    meta.insert(key.as_bytes(), &next.to_be_bytes())?;
    Ok(next)
}

fn bump_generation(
    meta: &sled::transaction::TransactionalTree,
) -> Result<u64, sled::transaction::UnabortableTransactionError> {
    let next = codec::read_u64(meta.get(META_CATALOG_GENERATION)?.as_deref()) + 1;
    meta.insert(META_CATALOG_GENERATION, &next.to_be_bytes())?;
    Ok(next)
}
