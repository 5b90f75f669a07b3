//! `orderstream import-sled`: a stopped sled database copied into an empty PostgreSQL one.
//!
//! The sled data is read once, as a snapshot (every tree at one instant), and written in ONE
//! transaction: the target ends up with all of it or, on any failure, with nothing. Ids are
//! kept (orders, events, webhooks… are referred to by id from outside: emails, webhook
//! receivers, bookmarks), and every id sequence is then moved past the highest id copied (or
//! sled's own counter, when higher: the id of a product deleted in sled is not handed out
//! again). Derived sled trees (email and name indexes, the per-user order and event indexes,
//! the catalog rows) are not copied: the schema's indexes take their place.
#[path = "import_tables.rs"]
mod tables;

use std::fmt;
use std::time::Instant;

use super::{error_of, Pg, Tx};
use crate::domain::webhook_delivery::DispatchState;
use crate::store::storage::StorageOperations;
use crate::store::{Snapshot, Store, StoreError};
use tables::{bad, column, json_text, record, tree, Highest};

/// How many records of each kind were copied.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ImportCounts {
    pub users: usize,
    pub categories: usize,
    pub products: usize,
    pub carts: usize,
    pub orders: usize,
    pub events: usize,
    /// Notifications their owner had marked read.
    pub read_events: usize,
    pub idempotency_keys: usize,
    pub refresh_tokens: usize,
    pub revoked_access_tokens: usize,
    pub webhooks: usize,
    pub webhook_deliveries: usize,
}

impl fmt::Display for ImportCounts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} users, {} categories, {} products, {} carts, {} orders, {} events \
             ({} read), {} idempotency keys, {} refresh tokens, {} revoked access tokens, \
             {} webhooks, {} webhook deliveries",
            self.users,
            self.categories,
            self.products,
            self.carts,
            self.orders,
            self.events,
            self.read_events,
            self.idempotency_keys,
            self.refresh_tokens,
            self.revoked_access_tokens,
            self.webhooks,
            self.webhook_deliveries
        )
    }
}

/// Each table with an identity column, and the name of sled's counter for the same ids.
const SEQUENCES: [(&str, &str); 6] = [
    ("users", "user"),
    ("categories", "category"),
    ("products", "product"),
    ("orders", "order"),
    ("webhooks", "webhook"),
    ("refresh_families", "token_family"),
];

impl Pg {
    /// Copies everything of `sled` in one transaction, keeping ids; refuses a database that
    /// already holds a user, a category, a product, an order or a webhook.
    pub fn import_sled(&self, sled: &Store) -> Result<ImportCounts, StoreError> {
        let started = Instant::now();
        let snapshot = sled.snapshot()?;
        let read_at = started.elapsed();
        let (counts, generation) = self.transaction(async |tx| {
            refuse_non_empty(tx).await?;
            let (counts, highest) = tables::copy_all(tx, &snapshot).await?;
            let generation = finish(tx, &snapshot, &highest).await?;
            Ok((counts, generation))
        })?;
        self.publish_generation(generation);
        // Fresh planner statistics, so the first queries on a large catalog pick the indexes
        // (autovacuum would get there, later). The data is committed whatever this answers.
        if let Err(e) = self.wait(sqlx::query("ANALYZE").execute(self.pool())) {
            tracing::warn!(error = %e, "ANALYZE after the import failed");
        }
        tracing::info!(
            %counts,
            snapshot_ms = read_at.as_millis() as u64,
            total_ms = started.elapsed().as_millis() as u64,
            "imported the sled database into PostgreSQL"
        );
        Ok(counts)
    }
}

/// Refuses a database that holds anything a shop is made of. Two imports started at once take
/// turns on the log's head row, so the second one sees the rows of the first.
async fn refuse_non_empty(tx: &mut Tx) -> Result<(), StoreError> {
    sqlx::query("SELECT last_id FROM event_head FOR UPDATE")
        .execute(&mut **tx)
        .await
        .map_err(error_of)?;
    let taken: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM users) OR EXISTS (SELECT 1 FROM categories) \
         OR EXISTS (SELECT 1 FROM products) OR EXISTS (SELECT 1 FROM orders) \
         OR EXISTS (SELECT 1 FROM webhooks) OR EXISTS (SELECT 1 FROM events)",
    )
    .fetch_one(&mut **tx)
    .await
    .map_err(error_of)?;
    if taken {
        return Err(StoreError::Conflict(
            "the PostgreSQL database is not empty (it has users, categories, products or \
             orders): import-sled copies into a new, empty database only; nothing was written"
                .into(),
        ));
    }
    Ok(())
}

/// The `meta` entry `name` of sled, if there is one.
fn meta<'a>(snapshot: &'a Snapshot, name: &str) -> Option<&'a [u8]> {
    tree(snapshot, "meta")
        .iter()
        .find(|(key, _)| &key[..] == name.as_bytes())
        .map(|(_, value)| &value[..])
}

/// A counter of sled's `meta` (big-endian u64; absent is 0).
fn meta_u64(snapshot: &Snapshot, name: &str) -> Result<u64, StoreError> {
    match meta(snapshot, name) {
        None => Ok(0),
        Some(raw) => <[u8; 8]>::try_from(raw)
            .map(u64::from_be_bytes)
            .map_err(|_| bad("meta", format!("{name} is not an 8-byte counter"))),
    }
}

/// After the rows: the catalog generation, the mail cursor, the log's head and every id
/// sequence. Answers the catalog generation.
async fn finish(tx: &mut Tx, snapshot: &Snapshot, highest: &Highest) -> Result<i64, StoreError> {
    let generation = column("meta", meta_u64(snapshot, "catalog_generation")?)?;
    let mail_state = match meta(snapshot, "mail_state") {
        Some(raw) => {
            record::<DispatchState>("meta", raw)?;
            Some(json_text("meta", raw)?)
        }
        None => None,
    };
    sqlx::query("UPDATE meta SET catalog_generation = $1, mail_state = $2::jsonb")
        .bind(generation)
        .bind(mail_state)
        .execute(&mut **tx)
        .await
        .map_err(error_of)?;
    let last_event = highest.event.max(meta_u64(snapshot, "seq/event")?);
    sqlx::query("UPDATE event_head SET last_id = $1")
        .bind(column("events", last_event)?)
        .execute(&mut **tx)
        .await
        .map_err(error_of)?;
    for (table, counter) in SEQUENCES {
        let last = highest
            .of(table)
            .max(meta_u64(snapshot, &format!("seq/{counter}"))?);
        set_sequence(
            tx,
            table,
            last,
            "SELECT setval(pg_get_serial_sequence($1, 'id'), $2, $3)",
        )
        .await?;
    }
    let last = highest.delivery.max(meta_u64(snapshot, "seq/delivery")?);
    let sql = "SELECT setval($1::regclass, $2, $3)";
    set_sequence(tx, "webhook_delivery_ids", last, sql).await?;
    Ok(generation)
}

/// The next value of the sequence becomes `last + 1` (1 when nothing was copied).
async fn set_sequence(tx: &mut Tx, name: &str, last: u64, sql: &str) -> Result<(), StoreError> {
    sqlx::query(sql)
        .bind(name)
        .bind(column(name, last.max(1))?)
        .bind(last > 0)
        .execute(&mut **tx)
        .await
        .map_err(error_of)?;
    Ok(())
}
