//! The PostgreSQL backend (feature `postgres`): the storage traits on a pooled sqlx connection,
//! the schema in `migrations/postgres` (embedded in the binary, applied at start).
//!
//! The storage calls are synchronous and run on the blocking pool (see `storage.rs`); sqlx is
//! async. The pool lives on a small runtime of its own, which drives the sockets; a call waits
//! on its query from the calling thread with that runtime's context entered (`Pg::wait`).
//! The busiest paths skip the blocking thread, whose hand-overs (one per round trip) cost more
//! CPU than the queries under an order load: the hot calls (`hot_calls`) are futures awaited by
//! the request's own task (`Pg::soon`), and order batches run as a task of the pool's runtime. So a
//! call works from any thread, an actix worker included (the CLI and start-up run there), and no
//! future has to be `'static`: a transaction can run a caller's closure between two statements.
//! The wait is `unconstrained`: on an actix worker (the CLI, start-up) tokio's cooperative budget
//! belongs to the worker's task, which does not yield while we block; once spent, a socket would
//! defer its wake-up to that task's next yield, which never comes (a 1M-product seed hung at
//! 540,000 rows before this).
//!
//! What the database enforces rather than the code: stock never below zero (`CHECK`), one user
//! per email whatever its case, one idempotency key per user, foreign keys between users,
//! orders, events and tokens. Ids of the event log are handed out under a lock on one row
//! (`event_head`) held to commit, so they are in commit order for every reader (see the schema).
mod accounts;
mod carts;
mod catalog;
mod events;
mod follower;
mod hot_calls;
mod import;
mod leadership;
mod orders;
mod rows;
mod webhooks;

use std::future::Future;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, PgPool, Postgres, Transaction};

use super::storage::{Pending, StorageOperations};
use super::{Snapshot, StorageHealth, StoreError, DEFAULT_STOCK_LOW_THRESHOLD};

/// The schema, embedded at build time.
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// Handle to a PostgreSQL database. Cheap to clone.
#[derive(Clone)]
pub struct Pg {
    inner: Arc<Inner>,
}

struct Inner {
    /// Drives the pool's sockets and timers; never runs a storage call itself.
    runtime: IoRuntime,
    pool: PgPool,
    relaxed_pool: PgPool,
    database_id: String,
    /// The follower's wake-up, and the highest catalog generation this process has committed
    /// or read (see `follower`).
    following: follower::Following,
    stock_low_threshold: AtomicU32,
    /// How many products match a filter, per catalog generation (see `catalog::list_products`).
    list_counts: moka::sync::Cache<String, u64>,
    /// Orders waiting for the next batch (see `orders`).
    order_queue: Mutex<orders::OrderQueue>,
    /// Whether this instance delivers webhooks and emails (see `leadership`).
    leadership: Mutex<leadership::Leadership>,
    /// Set when a statement last failed for want of a connection; cleared by the next success.
    failing: Arc<Failing>,
}

impl Pg {
    /// Connects (the server must be up within `connect_timeout`), applies pending migrations
    /// when `migrate` is set, and reads this database's identity.
    pub fn connect(url: &str, pool_size: u32, migrate: bool) -> Result<Pg, StoreError> {
        let runtime = IoRuntime(Some(
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .thread_name("postgres-io")
                .enable_all()
                .build()
                .map_err(|e| StoreError::Io(format!("postgres runtime: {e}")))?,
        ));
        let options: PgConnectOptions = url
            .parse()
            .map_err(|e| StoreError::Io(format!("database_url: {e}")))?;
        let connect = |options: PgConnectOptions, size: u32| {
            let _context = runtime.enter();
            futures_executor::block_on(tokio::task::unconstrained(
                PgPoolOptions::new()
                    .max_connections(size)
                    .min_connections(1)
                    .acquire_timeout(Duration::from_secs(5))
                    // Statement logging formats every statement even when nobody listens;
                    // slow statements still show in PostgreSQL's own log when it is asked to.
                    .connect_with(
                        options
                            .application_name("orderstream")
                            .disable_statement_logging(),
                    ),
            ))
            .map_err(|e| StoreError::Io(format!("connecting to PostgreSQL: {e}")))
        };
        let pool = connect(options.clone(), pool_size.max(2))?;
        let relaxed_pool = connect(
            options.options([("synchronous_commit", "off")]),
            (pool_size / 2).max(2),
        )?;
        let pg = Pg {
            inner: Arc::new(Inner {
                runtime,
                pool,
                relaxed_pool,
                database_id: String::new(),
                following: follower::Following {
                    wake: Default::default(),
                    generation: Default::default(),
                },
                stock_low_threshold: AtomicU32::new(DEFAULT_STOCK_LOW_THRESHOLD),
                list_counts: moka::sync::Cache::builder()
                    .max_capacity(4096)
                    .time_to_live(Duration::from_secs(600))
                    .build(),
                order_queue: Mutex::default(),
                leadership: Mutex::default(),
                failing: Arc::default(),
            }),
        };
        if migrate {
            pg.migrate()?;
        }
        let (database_id, generation): (String, i64) = pg.wait(
            sqlx::query_as("SELECT database_id, catalog_generation FROM meta").fetch_one(pg.pool()),
        )?;
        pg.inner
            .following
            .generation
            .store(generation as u64, Ordering::Release);
        let mut inner = Arc::into_inner(pg.inner).expect("not shared yet");
        inner.database_id = database_id;
        Ok(Pg {
            inner: Arc::new(inner),
        })
    }

    /// Applies the migrations this binary has and the database has not. Safe to run from two
    /// instances at once (sqlx takes an advisory lock).
    pub fn migrate(&self) -> Result<(), StoreError> {
        self.wait_store(async {
            MIGRATOR
                .run(self.pool())
                .await
                .map_err(|e| StoreError::Io(format!("migrating: {e}")))
        })
    }

    /// Makes `secret` the token-signing secret of this database (an imported shop keeps its
    /// sessions valid).
    pub fn adopt_secret(&self, secret: &str) -> Result<(), StoreError> {
        self.wait(
            sqlx::query("UPDATE meta SET jwt_secret = $1")
                .bind(secret)
                .execute(self.pool()),
        )?;
        Ok(())
    }

    fn pool(&self) -> &PgPool {
        &self.inner.pool
    }

    /// Connections whose commits do not wait for the WAL flush (`synchronous_commit = off`),
    /// for writes that are not acknowledged as durable: carts.
    fn relaxed_pool(&self) -> &PgPool {
        &self.inner.relaxed_pool
    }

    /// Runs `query` to completion from this (synchronous) thread; see the module comment.
    fn wait<T>(
        &self,
        query: impl Future<Output = Result<T, sqlx::Error>>,
    ) -> Result<T, StoreError> {
        self.wait_or(query, error_of)
    }

    /// As `wait`, with the caller's reading of a failure.
    fn wait_or<T>(
        &self,
        query: impl Future<Output = Result<T, sqlx::Error>>,
        meaning: impl FnOnce(sqlx::Error) -> StoreError,
    ) -> Result<T, StoreError> {
        let _context = self.inner.runtime.enter();
        let outcome = futures_executor::block_on(tokio::task::unconstrained(query));
        self.noted(outcome, meaning)
    }

    /// A statement's outcome in the store's terms, its reachability noted for `/healthz`.
    fn noted<T>(
        &self,
        outcome: Result<T, sqlx::Error>,
        meaning: impl FnOnce(sqlx::Error) -> StoreError,
    ) -> Result<T, StoreError> {
        self.note_health(outcome.as_ref().err());
        outcome.map_err(meaning)
    }

    /// `work` as a future for an async caller (see `HotCalls`): polled by the task that awaits
    /// it, with the pool's runtime entered at each poll, as `wait` does for a thread.
    fn soon<T: Send + 'static>(
        &self,
        work: impl Future<Output = Result<T, StoreError>> + Send + 'static,
    ) -> Pending<T> {
        Box::pin(InPoolRuntime {
            runtime: self.inner.runtime.handle(),
            work: Box::pin(work),
        })
    }

    /// As `wait`, for work that answers in the store's terms (several statements).
    fn wait_store<T>(
        &self,
        work: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        let _context = self.inner.runtime.enter();
        let outcome = futures_executor::block_on(tokio::task::unconstrained(work));
        self.note_health(match &outcome {
            Err(StoreError::Unavailable) => Some(&sqlx::Error::PoolTimedOut),
            _ => None,
        });
        outcome
    }

    /// Runs `work` in one transaction: committed when it returns `Ok`, rolled back otherwise
    /// (a refusal writes nothing).
    fn transaction<T>(
        &self,
        work: impl AsyncFnOnce(&mut Tx) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.transaction_from("BEGIN", work)
    }

    /// As `transaction`, opened with `begin` (settings for this transaction alone, sent in the
    /// same round trip as the BEGIN).
    fn transaction_from<T>(
        &self,
        begin: &'static str,
        work: impl AsyncFnOnce(&mut Tx) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.wait_store(async {
            let mut tx = self.pool().begin_with(begin).await.map_err(error_of)?;
            let value = work(&mut tx).await?;
            tx.commit().await.map_err(error_of)?;
            Ok(value)
        })
    }

    fn note_health(&self, error: Option<&sqlx::Error>) {
        note_health(&self.inner.failing, error);
    }

    fn stock_low_threshold(&self) -> u32 {
        self.inner.stock_low_threshold.load(Ordering::Relaxed)
    }

    fn publish_generation(&self, generation: i64) {
        self.inner
            .following
            .generation
            .fetch_max(generation as u64, Ordering::AcqRel);
    }
}

/// The pool's runtime. Dropped without waiting for its tasks: the last handle may go on an
/// async worker (the CLI, a server stopping), where a blocking shutdown would panic.
struct IoRuntime(Option<tokio::runtime::Runtime>);

impl IoRuntime {
    fn enter(&self) -> tokio::runtime::EnterGuard<'_> {
        self.handle_ref().enter()
    }

    fn spawn(&self, work: impl Future<Output = ()> + Send + 'static) {
        self.handle_ref().spawn(work);
    }

    fn handle(&self) -> tokio::runtime::Handle {
        self.handle_ref().clone()
    }

    fn handle_ref(&self) -> &tokio::runtime::Handle {
        self.0.as_ref().expect("taken only on drop").handle()
    }
}

/// A future whose sockets and timers belong to the pool's runtime, polled from another task:
/// the pool's runtime is entered for each poll, so whatever sqlx registers or spawns lands
/// there (a connection opened on an actix worker would otherwise belong to that worker).
struct InPoolRuntime<T> {
    runtime: tokio::runtime::Handle,
    work: Pending<T>,
}

impl<T> Future for InPoolRuntime<T> {
    type Output = Result<T, StoreError>;

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        let this = &mut *self;
        let _entered = this.runtime.enter();
        this.work.as_mut().poll(cx)
    }
}

impl Drop for IoRuntime {
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}

/// Since when, and why, PostgreSQL has been unreachable (`None` while it answers).
type Failing = Mutex<Option<(time::OffsetDateTime, String)>>;

/// An open transaction.
pub(super) type Tx = Transaction<'static, Postgres>;

/// Bumps the catalog generation inside a catalog write's transaction.
async fn bump_generation(tx: &mut Tx) -> Result<i64, StoreError> {
    // The notification goes out at commit: other instances then read the new generation.
    sqlx::query_scalar(
        "WITH bumped AS (UPDATE meta SET catalog_generation = catalog_generation + 1 \
         RETURNING catalog_generation) \
         SELECT catalog_generation, pg_notify('orderstream_commits', '') FROM bumped",
    )
    .fetch_one(&mut **tx)
    .await
    .map_err(error_of)
}

/// What the last statement says of PostgreSQL's reachability, kept for `/healthz`: set on
/// the first failure for want of a connection, cleared by the next success.
fn note_health(failing: &Failing, error: Option<&sqlx::Error>) {
    let unreachable = error.is_some_and(is_unreachable);
    let mut failing = failing.lock().unwrap_or_else(|p| p.into_inner());
    match (unreachable, failing.is_some()) {
        (true, false) => {
            let cause = error.map(|e| e.to_string()).unwrap_or_default();
            tracing::error!(%cause, "storage failed: PostgreSQL unreachable");
            *failing = Some((time::OffsetDateTime::now_utc(), cause));
        }
        (false, true) if error.is_none() => {
            tracing::info!("storage recovered: PostgreSQL reachable again");
            *failing = None;
        }
        _ => {}
    }
}

/// The server is gone or no connection came in time: retryable, not the request's fault.
fn is_unreachable(e: &sqlx::Error) -> bool {
    matches!(
        e,
        sqlx::Error::Io(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Tls(_)
    )
}

/// `error_of`, except that a foreign-key violation means `refusal` (what the row pointed at is
/// not there, or something still points at the row).
pub(super) fn error_or_missing_reference(e: sqlx::Error, refusal: StoreError) -> StoreError {
    match e.as_database_error().and_then(|d| d.code()).as_deref() {
        Some("23503") => refusal,
        _ => error_of(e),
    }
}

/// What a database error means to the services.
pub(super) fn error_of(e: sqlx::Error) -> StoreError {
    if is_unreachable(&e) {
        return StoreError::Unavailable;
    }
    if let sqlx::Error::RowNotFound = e {
        return StoreError::NotFound;
    }
    if let Some(db) = e.as_database_error() {
        match db.code().as_deref() {
            // unique_violation: the constraint names what was taken.
            Some("23505") => {
                return StoreError::Conflict(match db.constraint() {
                    Some("users_email_unique") => "a user with that email already exists".into(),
                    Some("categories_name_unique") => {
                        "a category with that name already exists".into()
                    }
                    _ => "already exists".into(),
                })
            }
            // serialization_failure, deadlock_detected: the caller may retry.
            Some("40001") | Some("40P01") => return StoreError::Unavailable,
            _ => {}
        }
    }
    StoreError::Io(e.to_string())
}

impl StorageOperations for Pg {
    fn durable(&self) -> Pending<()> {
        // Every write is committed (synchronous_commit) before its call returns.
        Box::pin(std::future::ready(Ok(())))
    }

    fn flush(&self) -> Result<(), StoreError> {
        Ok(())
    }

    fn catalog_generation(&self) -> u64 {
        self.inner.following.generation.load(Ordering::Acquire)
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
        match &*self.inner.failing.lock().unwrap_or_else(|p| p.into_inner()) {
            None => StorageHealth::Ok,
            Some((since, cause)) => StorageHealth::Failing {
                since: *since,
                cause: cause.clone(),
            },
        }
    }

    fn shared_secret(&self, generate: &dyn Fn() -> String) -> Result<Option<String>, StoreError> {
        // One statement: two instances starting at once both read the first one's secret.
        self.wait(
            sqlx::query_scalar(
                "UPDATE meta SET jwt_secret = coalesce(jwt_secret, $1) RETURNING jwt_secret",
            )
            .bind(generate())
            .fetch_one(self.pool()),
        )
        .map(Some)
    }

    fn follow_commits(
        &self,
        sink: super::storage::CommitSink,
        catch_up: Duration,
    ) -> Result<(), StoreError> {
        self.start_following(sink, catch_up)
    }

    fn leads_delivery(&self) -> bool {
        self.leads()
    }

    fn close(&self) {
        // Nothing to release for another process: the server keeps the database.
    }

    fn start_up_lock(&self) -> Result<Box<dyn Send>, StoreError> {
        Pg::start_up_lock(self)
    }

    fn announce_revocation(
        &self,
        revocation: &super::storage::Revocation,
    ) -> Result<(), StoreError> {
        let payload = serde_json::to_string(revocation).map_err(rows::corrupt)?;
        self.wait(
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(follower::REVOCATIONS)
                .bind(payload)
                .execute(self.pool()),
        )?;
        Ok(())
    }

    fn snapshot(&self) -> Result<Snapshot, StoreError> {
        Err(StoreError::Conflict(
            "this server runs on PostgreSQL: back it up with pg_dump (or your host's backups)"
                .into(),
        ))
    }
}
