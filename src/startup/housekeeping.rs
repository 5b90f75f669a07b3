//! Hourly pruning of expired tokens, idempotency keys and old webhook delivery attempts.
use actix_web::web;
use std::time::Duration;

use crate::services::Services;

const EVERY: Duration = Duration::from_secs(3600);

pub fn spawn(services: Services) {
    actix_web::rt::spawn(async move {
        let mut every = tokio::time::interval(EVERY);
        loop {
            every.tick().await;
            prune_once(services.clone()).await;
        }
    });
}

/// One round. A failed prune only leaves garbage for the next hour, but it must be seen.
async fn prune_once(services: Services) {
    let pruned = web::block(move || {
        [
            ("expired tokens", services.accounts.prune()),
            ("idempotency keys", services.orders.prune()),
            ("webhook deliveries", services.webhooks.prune()),
        ]
    })
    .await;
    let outcomes = match pruned {
        Ok(outcomes) => outcomes,
        Err(error) => return tracing::warn!(%error, "housekeeping did not run"),
    };
    for (what, outcome) in outcomes {
        match outcome {
            Ok(removed) => tracing::debug!(what, removed, "housekeeping"),
            Err(error) => tracing::warn!(what, %error, "housekeeping failed"),
        }
    }
}
