//! Redis backend (feature `redis`). Keys are namespaced by the database id, and carry the catalog
//! generation (added by the caller), so two databases never share entries and an entry written
//! before a change is never read after it — even if the change happened while Redis was down.
//! Redis trouble never fails a request: every call is bounded by a short timeout and treated as a miss.
use bytes::Bytes;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::AsyncCommands;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

const CALL_TIMEOUT: Duration = Duration::from_millis(300);
const WARN_EVERY: Duration = Duration::from_secs(30);

pub struct RedisCache {
    manager: ConnectionManager,
    prefix: String,
    ttl_seconds: u64,
    reachable: AtomicBool,
    last_warning: Mutex<Option<Instant>>,
}

impl RedisCache {
    /// Prepares a connection (made lazily, and remade by the manager after a failure).
    pub fn connect(
        url: &str,
        database_id: &str,
        ttl_seconds: u64,
    ) -> redis::RedisResult<RedisCache> {
        let client = redis::Client::open(url)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(CALL_TIMEOUT))
            .set_response_timeout(Some(CALL_TIMEOUT))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(500));
        let manager = ConnectionManager::new_lazy_with_config(client, config)?;
        Ok(RedisCache {
            manager,
            prefix: format!("orderstream:{database_id}:"),
            ttl_seconds: ttl_seconds.max(1),
            reachable: AtomicBool::new(true),
            last_warning: Mutex::new(None),
        })
    }

    fn record<T, E: std::fmt::Display>(
        &self,
        outcome: Result<Result<T, E>, tokio::time::error::Elapsed>,
    ) -> Option<T> {
        match outcome {
            Ok(Ok(value)) => {
                if !self.reachable.swap(true, Ordering::AcqRel) {
                    tracing::info!("redis is reachable again");
                }
                Some(value)
            }
            Ok(Err(e)) => self.unreachable(&e.to_string()),
            Err(_) => self.unreachable("timed out"),
        }
    }

    fn unreachable<T>(&self, cause: &str) -> Option<T> {
        self.reachable.store(false, Ordering::Release);
        let mut last = self.last_warning.lock().unwrap_or_else(|p| p.into_inner());
        if last.is_none_or(|at| at.elapsed() >= WARN_EVERY) {
            tracing::warn!(%cause, "redis cache unreachable; serving from the store");
            *last = Some(Instant::now());
        }
        None
    }

    pub async fn get(&self, key: &str) -> Option<Bytes> {
        let mut connection = self.manager.clone();
        let key = format!("{}{key}", self.prefix);
        let outcome =
            tokio::time::timeout(CALL_TIMEOUT, connection.get::<_, Option<Vec<u8>>>(key)).await;
        self.record(outcome).flatten().map(Bytes::from)
    }

    pub async fn put(&self, key: &str, value: Bytes) {
        let mut connection = self.manager.clone();
        let key = format!("{}{key}", self.prefix);
        let outcome = tokio::time::timeout(
            CALL_TIMEOUT,
            connection.set_ex::<_, _, ()>(key, value.as_ref(), self.ttl_seconds),
        )
        .await;
        self.record(outcome);
    }

    /// Counts one hit on `key` in a window that opens at its first hit and lasts `window`:
    /// the hits so far and the time left, or `None` when Redis does not answer.
    pub async fn count_hit(&self, key: &str, window: Duration) -> Option<(u64, Duration)> {
        let mut connection = self.manager.clone();
        let key = format!("{}{key}", self.prefix);
        let mut pipe = redis::pipe();
        pipe.atomic()
            .cmd("SET")
            .arg(&key)
            .arg(0)
            .arg("EX")
            .arg(window.as_secs().max(1))
            .arg("NX")
            .ignore()
            .cmd("INCR")
            .arg(&key)
            .cmd("TTL")
            .arg(&key);
        let outcome = tokio::time::timeout(
            CALL_TIMEOUT,
            pipe.query_async::<(u64, i64)>(&mut connection),
        )
        .await;
        let (count, ttl) = self.record(outcome)?;
        Some((count, Duration::from_secs(ttl.max(1) as u64)))
    }

    /// The hits counted on `key` in its current window (0 when none), or `None` when Redis
    /// does not answer.
    pub async fn peek_count(&self, key: &str) -> Option<u64> {
        let mut connection = self.manager.clone();
        let key = format!("{}{key}", self.prefix);
        let outcome =
            tokio::time::timeout(CALL_TIMEOUT, connection.get::<_, Option<u64>>(key)).await;
        self.record(outcome).map(Option::unwrap_or_default)
    }

    /// Forgets `key`'s count.
    pub async fn forget(&self, key: &str) {
        let mut connection = self.manager.clone();
        let key = format!("{}{key}", self.prefix);
        let outcome = tokio::time::timeout(CALL_TIMEOUT, connection.del::<_, ()>(key)).await;
        self.record(outcome);
    }

    /// Asks Redis now (health checks), rather than trusting the last call.
    pub async fn ping(&self) -> bool {
        let mut connection = self.manager.clone();
        let outcome = tokio::time::timeout(
            CALL_TIMEOUT,
            redis::cmd("PING").query_async::<String>(&mut connection),
        )
        .await;
        self.record(outcome).is_some()
    }
}
