//! Storage faults: notice them, refuse changes while they last, and come back by ourselves.
//!
//! sled keeps the first I/O error it meets (ENOSPC on a full disk, EIO) and fails every later
//! call with it, for as long as the process runs. So a thread looks at the database every
//! second (a flush: free when nothing is dirty, and it reports the kept error), and at once when
//! a group commit fails. On a fault the engine is taken out: every store call then answers
//! `Unavailable` (a 503 with `Retry-After`), `/healthz` says so, and the thread tries to open
//! the database afresh every couple of seconds. A fresh open replays sled's log, in which every
//! acknowledged order is (an order is acknowledged only after its flush succeeded); writes
//! that were never flushed, and so never acknowledged, are gone, so the catalog index is
//! reloaded from the reopened database. The new engine is used only once a probe write has
//! reached the disk.
use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use super::catalog_index::CatalogIndex;
use super::engine::Engine;
use super::{codec, lock, Inner, Store, StoreError, META_CATALOG_GENERATION};

/// How often a healthy database is looked at.
const LOOK_EVERY: Duration = Duration::from_secs(1);
/// How often a reopen is tried while storage is failing.
const RETRY_EVERY: Duration = Duration::from_secs(2);
/// How long `close` waits for other holders of the database to let go.
const CLOSE_WAIT: Duration = Duration::from_secs(5);

#[derive(Default)]
pub(super) struct Health {
    failing: Option<Failing>,
}

struct Failing {
    since: time::OffsetDateTime,
    started: Instant,
    cause: String,
}

/// Whether the store can take changes now, for `/healthz`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StorageHealth {
    Ok,
    /// Writes fail (e.g. the disk is full); reopening is being retried.
    Failing {
        since: time::OffsetDateTime,
        cause: String,
    },
}

impl Store {
    pub(super) fn current_health(&self) -> StorageHealth {
        match &lock(&self.inner.health).failing {
            None => StorageHealth::Ok,
            Some(f) => StorageHealth::Failing {
                since: f.since,
                cause: f.cause.clone(),
            },
        }
    }
}

impl Inner {
    pub(super) fn engine(&self) -> Result<Arc<Engine>, StoreError> {
        self.engine
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .ok_or(StoreError::Unavailable)
    }

    /// Closes the database for good (a server stopping): takes the engine out and waits for
    /// calls still holding it (the watch's periodic flush) to let go, so sled has released its
    /// file lock when this returns, and keeps the watch from reopening it. Without the wait,
    /// the last handle could go on the watch thread a moment after the server said it stopped,
    /// and a process opening the data dir right then found it locked.
    pub(super) fn close(&self) {
        self.closed.store(true, Ordering::Release);
        let engine = self
            .engine
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(engine) = engine {
            let deadline = Instant::now() + CLOSE_WAIT;
            while Arc::strong_count(&engine) > 1 && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(2));
            }
        }
    }

    fn set_engine(&self, engine: Option<Arc<Engine>>) {
        *self.engine.write().unwrap_or_else(|p| p.into_inner()) = engine;
    }

    /// Takes the failed engine out; calls already holding it finish with its error.
    fn retire(&self, cause: String) {
        self.set_engine(None);
        let mut health = lock(&self.health);
        if health.failing.is_none() {
            tracing::error!(
                %cause,
                "storage failed: changes are refused (503) until the database can be written \
                 again; reopening it every {} s",
                RETRY_EVERY.as_secs()
            );
            health.failing = Some(Failing {
                since: time::OffsetDateTime::now_utc(),
                started: Instant::now(),
                cause,
            });
        }
    }

    /// Opens the database afresh and adopts it once a write has reached the disk.
    fn reopen(&self) -> Result<(), StoreError> {
        let engine = Engine::open(&self.dir, self.cache_mb, self.faults.clone())?;
        let _no_writes = self
            .snapshot_gate
            .write()
            .unwrap_or_else(|p| p.into_inner());
        // Unflushed catalog writes may be gone: move the generation past anything a cache
        // entry was made under, so no cached page from before the fault is ever served again.
        let durable = codec::read_u64(engine.trees.meta.get(META_CATALOG_GENERATION)?.as_deref());
        let generation = durable.max(self.catalog_generation.load(Ordering::Acquire)) + 1;
        engine
            .trees
            .meta
            .insert(META_CATALOG_GENERATION, &generation.to_be_bytes())?;
        engine.db.flush()?;
        self.catalog
            .replace_with(CatalogIndex::load(&engine.trees.catalog_rows)?);
        self.catalog_generation.store(generation, Ordering::Release);
        self.set_engine(Some(Arc::new(engine)));
        if let Some(failing) = lock(&self.health).failing.take() {
            tracing::warn!(
                down_for_s = failing.started.elapsed().as_secs(),
                cause = %failing.cause,
                "storage recovered: the database was reopened and takes changes again"
            );
        }
        Ok(())
    }
}

/// Starts the thread that looks after the store; it ends when the store is dropped.
pub(super) fn watch(store: Weak<Inner>, faults: Receiver<()>) {
    let spawned = std::thread::Builder::new()
        .name("orderstream-storage".into())
        .spawn(move || {
            let mut wait = LOOK_EVERY;
            loop {
                match faults.recv_timeout(wait) {
                    Ok(()) | Err(RecvTimeoutError::Timeout) => {}
                    Err(RecvTimeoutError::Disconnected) => return,
                }
                let Some(inner) = store.upgrade() else { return };
                if inner.closed.load(Ordering::Acquire) {
                    return;
                }
                wait = look(&inner);
            }
        });
    if let Err(e) = spawned {
        tracing::error!(error = %e, "could not start the storage watch; faults will need a restart");
    }
}

/// One look: returns how long to wait before the next.
fn look(inner: &Inner) -> Duration {
    match inner.engine() {
        Ok(engine) => match engine.db.flush() {
            Ok(_) => LOOK_EVERY,
            Err(e) => {
                inner.retire(e.to_string());
                RETRY_EVERY
            }
        },
        // Closed meanwhile (the engine taken out by `close`, not by a fault): never reopen.
        Err(_) if inner.closed.load(Ordering::Acquire) => LOOK_EVERY,
        Err(_) => match inner.reopen() {
            Ok(()) => LOOK_EVERY,
            Err(e) => {
                tracing::debug!(error = %e, "storage still failing");
                RETRY_EVERY
            }
        },
    }
}
