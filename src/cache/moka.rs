use bytes::Bytes;
use std::time::Duration;

/// In-process TTL cache, bounded by the bytes it holds.
pub struct MokaCache {
    entries: moka::sync::Cache<String, Bytes>,
}

impl MokaCache {
    pub fn new(ttl_seconds: u64, capacity_bytes: u64) -> MokaCache {
        let entries = moka::sync::Cache::builder()
            .time_to_live(Duration::from_secs(ttl_seconds.max(1)))
            .weigher(|key: &String, value: &Bytes| {
                (key.len() + value.len()).try_into().unwrap_or(u32::MAX)
            })
            .max_capacity(capacity_bytes)
            .build();
        MokaCache { entries }
    }

    pub fn get(&self, key: &str) -> Option<Bytes> {
        self.entries.get(key)
    }

    pub fn put(&self, key: &str, value: Bytes) {
        self.entries.insert(key.to_owned(), value)
    }
}
