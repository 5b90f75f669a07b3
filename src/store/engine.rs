//! The open sled database and its trees: the part of the store that a storage fault spoils.
//! sled keeps the first I/O error it meets (a full disk, say) and fails every later call with
//! it, so after a fault the only way back is a fresh open; `recovery` does that, swapping a new
//! `Engine` in while the rest of the store (locks, queue, catalog index) stays.
use std::path::Path;
use std::sync::mpsc;

use super::durability::GroupCommit;
use super::{format_version, StoreError, META_DATABASE_ID};

pub(super) struct Trees {
    pub meta: sled::Tree,
    pub users: sled::Tree,
    pub emails: sled::Tree,
    pub refresh: sled::Tree,
    pub families: sled::Tree,
    pub revoked_access: sled::Tree,
    pub categories: sled::Tree,
    pub category_names: sled::Tree,
    pub products: sled::Tree,
    pub catalog_rows: sled::Tree,
    pub carts: sled::Tree,
    pub orders: sled::Tree,
    pub user_orders: sled::Tree,
    pub events: sled::Tree,
    pub user_events: sled::Tree,
    pub read_events: sled::Tree,
    pub idempotency: sled::Tree,
    pub webhooks: sled::Tree,
    pub webhook_state: sled::Tree,
    pub webhook_deliveries: sled::Tree,
}

pub(super) struct Engine {
    pub db: sled::Db,
    pub trees: Trees,
    pub group_commit: GroupCommit,
}

impl Engine {
    /// Opens (or creates) the database in `dir`; a failed group commit pokes `on_fault`.
    pub fn open(
        dir: &Path,
        cache_mb: u64,
        on_fault: mpsc::Sender<()>,
    ) -> Result<Engine, StoreError> {
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
        let group_commit = GroupCommit::start(db.clone(), on_fault);
        Ok(Engine {
            db,
            trees,
            group_commit,
        })
    }
}
