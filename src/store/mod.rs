//! The only module that touches sled. Public functions take and return domain types.
mod backup_file;
mod carts;
mod catalog;
mod catalog_index;
mod codec;
mod durability;
mod engine;
mod error;
mod events;
mod folded_names;
mod format_version;
mod mail;
mod name_index;
mod order_queue;
mod orders;
#[cfg(feature = "postgres")]
pub mod postgres;
mod recovery;
mod restore;
mod snapshot;
mod storage;
mod tokens;
mod users;
mod webhooks;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex, RwLock};

pub use backup_file::{verify_backup, BackupError, BackupInfo, BACKUP_FORMAT};
pub use catalog::CatalogPage;
pub use error::{Shortage, StoreError};
pub use events::EventPage;
pub use format_version::CURRENT as DATABASE_FORMAT_VERSION;
pub use order_queue::Publisher;
pub use orders::{OrderFilter, OrderPage, OrderRequest, PlacedOrder};
pub use recovery::StorageHealth;
pub use restore::restore_backup;
pub use snapshot::Snapshot;
pub use storage::{
    AccountStorage, CartChange, CartStorage, CatalogStorage, CommitSink, EventStorage, HotCalls,
    MailStorage, OrderStorage, Pending, Revocation, SharedStorage, Storage, StorageOperations,
    TokenStorage, WebhookStorage,
};

/// The storage traits, for code that calls a backend through `SharedStorage`.
pub mod prelude {
    pub use super::storage::{
        AccountStorage, CartStorage, CatalogStorage, EventStorage, HotCalls, MailStorage,
        OrderStorage, StorageOperations, TokenStorage, WebhookStorage,
    };
}
pub use tokens::{RefreshOutcome, RefreshRecord, Rotation};
pub use webhooks::DeliveryPage;

use catalog_index::CatalogIndex;
use engine::Engine;

/// Handle to the embedded database. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    dir: PathBuf,
    cache_mb: u64,
    /// Read at open: it never changes, and caches need it while storage is failing too.
    database_id: String,
    /// `None` while storage is failing and the database is being reopened (see `recovery`),
    /// and for good once `closed`.
    engine: RwLock<Option<Arc<Engine>>>,
    /// Set by `close`: the recovery watch must not reopen the database.
    closed: std::sync::atomic::AtomicBool,
    health: Mutex<recovery::Health>,
    /// Wakes the recovery thread; dropping it (with the store) ends that thread.
    faults: mpsc::Sender<()>,
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
        let (faults, fault_inbox) = mpsc::channel();
        let engine = Engine::open(dir, cache_mb, faults.clone())?;
        let generation =
            codec::read_u64(engine.trees.meta.get(META_CATALOG_GENERATION)?.as_deref());
        let catalog = CatalogIndex::load_in_background(engine.trees.catalog_rows.clone())?;
        let raw_id = engine.trees.meta.get(META_DATABASE_ID)?.unwrap_or_default();
        let database_id = raw_id.iter().map(|b| format!("{b:02x}")).collect();
        let inner = Arc::new(Inner {
            dir: dir.to_path_buf(),
            database_id,
            cache_mb,
            engine: RwLock::new(Some(Arc::new(engine))),
            closed: Default::default(),
            health: Mutex::default(),
            faults,
            catalog,
            catalog_generation: AtomicU64::new(generation),
            stock_low_threshold: AtomicU32::new(DEFAULT_STOCK_LOW_THRESHOLD),
            catalog_write: Mutex::new(()),
            event_log: Mutex::new(()),
            order_queue: Mutex::default(),
            snapshot_gate: RwLock::new(()),
        });
        recovery::watch(Arc::downgrade(&inner), fault_inbox);
        Ok(Store { inner })
    }

    /// The open database, or `Unavailable` while storage is failing.
    fn engine(&self) -> Result<Arc<Engine>, StoreError> {
        self.inner.engine()
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

/// sled answers from memory in microseconds: its hot calls run on the blocking pool like the rest.
impl HotCalls for Store {}

impl StorageOperations for Store {
    fn durable(&self) -> Pending<()> {
        let store = self.clone();
        Box::pin(async move { store.engine()?.group_commit.wait().await })
    }

    fn flush(&self) -> Result<(), StoreError> {
        self.engine()?.db.flush()?;
        Ok(())
    }

    fn catalog_generation(&self) -> u64 {
        self.inner.catalog_generation.load(Ordering::Acquire)
    }

    fn database_id(&self) -> String {
        self.inner.database_id.clone()
    }

    fn set_stock_low_threshold(&self, threshold: u32) {
        self.inner
            .stock_low_threshold
            .store(threshold, Ordering::Relaxed);
    }

    fn storage_health(&self) -> StorageHealth {
        self.current_health()
    }

    fn snapshot(&self) -> Result<Snapshot, StoreError> {
        self.take_snapshot()
    }

    fn shared_secret(&self, _generate: &dyn Fn() -> String) -> Result<Option<String>, StoreError> {
        Ok(None)
    }

    fn follow_commits(
        &self,
        _sink: storage::CommitSink,
        _catch_up: std::time::Duration,
    ) -> Result<(), StoreError> {
        // One process writes this database, and hands each event to the hub as it commits.
        Ok(())
    }

    fn leads_delivery(&self) -> bool {
        true
    }

    fn close(&self) {
        self.inner.close();
    }

    fn start_up_lock(&self) -> Result<Box<dyn Send>, StoreError> {
        // One process opens this database at a time.
        Ok(Box::new(()))
    }

    fn announce_revocation(&self, _revocation: &storage::Revocation) -> Result<(), StoreError> {
        Ok(())
    }
}
