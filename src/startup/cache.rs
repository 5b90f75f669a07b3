//! The catalog cache: in-process, with Redis behind it when the `redis` feature is built and
//! `redis_url` is set.
use super::StartupError;
use crate::cache::Cache;
use crate::config::Settings;
use crate::store::SharedStorage;

fn in_process(settings: &Settings) -> Cache {
    Cache::in_process(
        settings.cache_ttl_seconds,
        settings.cache_capacity_mb * 1024 * 1024,
    )
}

#[cfg(not(feature = "redis"))]
pub fn build(settings: &Settings, _store: &SharedStorage) -> Result<Cache, StartupError> {
    if settings.redis_url.is_some() {
        tracing::warn!(
            "redis_url is set but this build has no `redis` feature; using the in-process cache"
        );
    }
    Ok(in_process(settings))
}

#[cfg(feature = "redis")]
pub fn build(settings: &Settings, store: &SharedStorage) -> Result<Cache, StartupError> {
    let local = in_process(settings);
    match &settings.redis_url {
        Some(url) => {
            let remote = crate::cache::RedisCache::connect(
                url,
                &store.database_id(),
                settings.cache_ttl_seconds,
            )
            .map_err(|e| StartupError::Config(format!("redis_url: {e}")))?;
            Ok(local.with_redis(remote))
        }
        None => Ok(local),
    }
}
