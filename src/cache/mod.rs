//! The read cache: serialized response bodies keyed by what they answer. Keys carry the catalog
//! generation (see `services::catalog`), so an entry written before a change is never read
//! after it: invalidation is moving the generation, and old entries simply age out.
mod moka;
#[cfg(feature = "redis")]
mod redis;

use bytes::Bytes;
use std::sync::atomic::{AtomicU64, Ordering};

pub use self::moka::MokaCache;
#[cfg(feature = "redis")]
pub use self::redis::RedisCache;

pub struct Cache {
    local: MokaCache,
    #[cfg(feature = "redis")]
    remote: Option<redis::RedisCache>,
    hits: AtomicU64,
    misses: AtomicU64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheHealth {
    /// No shared cache configured: each instance caches in its own memory.
    InProcess,
    Ok,
    /// The shared cache cannot be reached; reads fall back to the store.
    Unreachable,
}

impl Cache {
    pub fn in_process(ttl_seconds: u64, capacity_bytes: u64) -> Cache {
        Cache {
            local: MokaCache::new(ttl_seconds, capacity_bytes),
            #[cfg(feature = "redis")]
            remote: None,
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    #[cfg(feature = "redis")]
    pub fn with_redis(mut self, remote: RedisCache) -> Cache {
        self.remote = Some(remote);
        self
    }

    pub async fn get(&self, key: &str) -> Option<Bytes> {
        let found = self.lookup(key).await;
        let counter = if found.is_some() {
            &self.hits
        } else {
            &self.misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }

    async fn lookup(&self, key: &str) -> Option<Bytes> {
        if let Some(hit) = self.local.get(key) {
            return Some(hit);
        }
        #[cfg(feature = "redis")]
        if let Some(remote) = &self.remote {
            let hit = remote.get(key).await?;
            self.local.put(key, hit.clone());
            return Some(hit);
        }
        None
    }

    pub async fn put(&self, key: &str, value: Bytes) {
        #[cfg(feature = "redis")]
        if let Some(remote) = &self.remote {
            remote.put(key, value.clone()).await;
        }
        self.local.put(key, value);
    }

    /// The in-process layer only, for the exact-URL answers (they are cheap to recompute and
    /// would double the shared cache's traffic). Counts a hit when found; a miss is counted by
    /// the lookup that follows it.
    pub fn get_local(&self, key: &str) -> Option<Bytes> {
        let found = self.local.get(key);
        if found.is_some() {
            self.hits.fetch_add(1, Ordering::Relaxed);
        }
        found
    }

    pub fn put_local(&self, key: &str, value: Bytes) {
        self.local.put(key, value);
    }

    pub async fn health(&self) -> CacheHealth {
        #[cfg(feature = "redis")]
        if let Some(remote) = &self.remote {
            return match remote.ping().await {
                true => CacheHealth::Ok,
                false => CacheHealth::Unreachable,
            };
        }
        CacheHealth::InProcess
    }

    /// Counts one hit on `key` in the shared cache's window of `window` (see
    /// `RedisCache::count_hit`); `None` without a shared cache or while it does not answer.
    pub async fn count_hit(
        &self,
        key: &str,
        window: std::time::Duration,
    ) -> Option<(u64, std::time::Duration)> {
        #[cfg(feature = "redis")]
        if let Some(remote) = &self.remote {
            return remote.count_hit(key, window).await;
        }
        let _ = (key, window);
        None
    }

    /// The count `count_hit` keeps for `key`; `None` without a shared cache that answers.
    pub async fn peek_count(&self, key: &str) -> Option<u64> {
        #[cfg(feature = "redis")]
        if let Some(remote) = &self.remote {
            return remote.peek_count(key).await;
        }
        let _ = key;
        None
    }

    /// Drops the count `count_hit` keeps for `key` (nothing without a shared cache).
    pub async fn forget_count(&self, key: &str) {
        #[cfg(feature = "redis")]
        if let Some(remote) = &self.remote {
            remote.forget(key).await;
        }
        let _ = key;
    }

    pub fn hits(&self) -> u64 {
        self.hits.load(Ordering::Relaxed)
    }
    pub fn misses(&self) -> u64 {
        self.misses.load(Ordering::Relaxed)
    }
}
