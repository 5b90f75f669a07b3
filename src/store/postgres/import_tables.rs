//! The rows of `import-sled`: each sled tree of the snapshot decoded, checked and written with
//! UNNEST statements of at most `CHUNK` records (a shop may have a million products), parents
//! before children so every foreign key holds as rows arrive. A record that does not decode is
//! `Corrupt`, naming its tree; JSON columns receive the record as sled stored it.
use std::collections::{HashMap, HashSet};
use std::fmt::Display;

use serde::de::DeserializeOwned;
use serde::Deserialize;
use sled::IVec;
use sqlx::postgres::PgArguments;
use sqlx::Postgres;

use super::super::{error_of, Tx};
use super::ImportCounts;
use crate::domain::cart::Cart;
use crate::domain::catalog::{Category, Product};
use crate::domain::event::LogEntry;
use crate::domain::ids::{OrderId, UserId};
use crate::domain::order::Order;
use crate::domain::search::fold;
use crate::domain::user::User;
use crate::domain::webhook::Webhook;
use crate::domain::webhook_delivery::{Delivery, DispatchState};
use crate::store::{RefreshRecord, Snapshot, StoreError};

/// Records per statement.
const CHUNK: usize = 5_000;

type Entries = [(IVec, IVec)];

/// The highest id copied into each table with an id sequence.
#[derive(Debug, Default)]
pub(super) struct Highest {
    user: u64,
    category: u64,
    product: u64,
    order: u64,
    pub event: u64,
    webhook: u64,
    family: u64,
    pub delivery: u64,
}

impl Highest {
    pub fn of(&self, table: &str) -> u64 {
        match table {
            "users" => self.user,
            "categories" => self.category,
            "products" => self.product,
            "orders" => self.order,
            "webhooks" => self.webhook,
            "refresh_families" => self.family,
            _ => 0,
        }
    }
}

/// The entries of the sled tree `name` (none when the tree does not exist).
pub(super) fn tree<'a>(snapshot: &'a Snapshot, name: &str) -> &'a Entries {
    snapshot
        .trees
        .iter()
        .find(|(tree, _)| &tree[..] == name.as_bytes())
        .map_or(&[], |(_, entries)| entries.as_slice())
}

pub(super) fn bad(tree: &str, what: impl Display) -> StoreError {
    StoreError::Corrupt(format!("sled tree `{tree}`: {what}"))
}

pub(super) fn record<T: DeserializeOwned>(tree: &str, raw: &[u8]) -> Result<T, StoreError> {
    serde_json::from_slice(raw).map_err(|e| bad(tree, format!("a record does not decode: {e}")))
}

/// A JSON record as text, for a jsonb column.
pub(super) fn json_text<'a>(tree: &str, raw: &'a [u8]) -> Result<&'a str, StoreError> {
    std::str::from_utf8(raw).map_err(|e| bad(tree, format!("a record is not UTF-8: {e}")))
}

/// An id as a bigint column value.
pub(super) fn column(tree: &str, id: u64) -> Result<i64, StoreError> {
    i64::try_from(id).map_err(|_| bad(tree, format!("id {id} is out of range")))
}

fn id_key(tree: &str, key: &[u8]) -> Result<u64, StoreError> {
    <[u8; 8]>::try_from(key)
        .map(u64::from_be_bytes)
        .map_err(|_| bad(tree, "a key is not an 8-byte id"))
}

fn pair_key(tree: &str, key: &[u8]) -> Result<(u64, u64), StoreError> {
    match key.len() {
        16 => Ok((id_key(tree, &key[..8])?, id_key(tree, &key[8..])?)),
        _ => Err(bad(tree, "a key is not a 16-byte pair of ids")),
    }
}

fn small(tree: &str, value: u32) -> Result<i32, StoreError> {
    i32::try_from(value).map_err(|_| bad(tree, format!("{value} is out of range")))
}

/// A failed statement, naming the table it was filling.
fn writing(table: &'static str) -> impl Fn(sqlx::Error) -> StoreError {
    move |e| match error_of(e) {
        StoreError::Io(m) | StoreError::Conflict(m) => {
            StoreError::Io(format!("copying {table}: {m}"))
        }
        other => other,
    }
}

type Statement<'q> = sqlx::query::Query<'q, Postgres, PgArguments>;

/// The columns of an UNNEST insert: a tuple of arrays, bound as $1, $2, … in order.
trait Columns<'q> {
    fn bind_to(self, statement: Statement<'q>) -> Statement<'q>;
}

macro_rules! columns {
    ($($column:ident),+) => {
        impl<'q, $($column),+> Columns<'q> for ($($column,)+)
        where
            $($column: 'q + sqlx::Encode<'q, Postgres> + sqlx::Type<Postgres>),+
        {
            #[allow(non_snake_case)]
            fn bind_to(self, statement: Statement<'q>) -> Statement<'q> {
                let ($($column,)+) = self;
                statement$(.bind($column))+
            }
        }
    };
}
columns!(A, B);
columns!(A, B, C);
columns!(A, B, C, D);
columns!(A, B, C, D, E);
columns!(A, B, C, D, E, F);
columns!(A, B, C, D, E, F, G);
columns!(A, B, C, D, E, F, G, H);
columns!(A, B, C, D, E, F, G, H, I);
columns!(A, B, C, D, E, F, G, H, I, J);

/// Runs one `INSERT … SELECT … FROM UNNEST($1, $2, …)` of `table`.
async fn insert<'q>(
    tx: &mut Tx,
    table: &'static str,
    sql: &'q str,
    columns: impl Columns<'q>,
) -> Result<(), StoreError> {
    let statement = columns.bind_to(sqlx::query(sql));
    statement.execute(&mut **tx).await.map_err(writing(table))?;
    Ok(())
}

#[derive(Deserialize)]
struct Family {
    user_id: UserId,
    revoked: bool,
}

#[derive(Deserialize)]
struct IdempotencyRecord {
    order_id: OrderId,
    fingerprint: String,
    created_at: i64,
}

/// Copies every table; answers the counts and the highest ids.
pub(super) async fn copy_all(
    tx: &mut Tx,
    s: &Snapshot,
) -> Result<(ImportCounts, Highest), StoreError> {
    let mut n = ImportCounts::default();
    let mut high = Highest::default();
    n.users = users(tx, tree(s, "users"), &mut high.user).await?;
    n.categories = categories(tx, tree(s, "categories"), &mut high.category).await?;
    n.products = products(tx, tree(s, "products"), &mut high.product).await?;
    n.carts = carts(tx, tree(s, "carts")).await?;
    n.orders = orders(tx, tree(s, "orders"), &mut high.order).await?;
    n.idempotency_keys = idempotency_keys(tx, tree(s, "idempotency")).await?;
    (n.events, n.read_events) = events(
        tx,
        tree(s, "events"),
        tree(s, "read_events"),
        &mut high.event,
    )
    .await?;
    families(tx, tree(s, "token_families"), &mut high.family).await?;
    n.refresh_tokens = refresh_tokens(tx, tree(s, "refresh_tokens")).await?;
    n.revoked_access_tokens = revoked_access(tx, tree(s, "revoked_access")).await?;
    let hooks = (tree(s, "webhooks"), tree(s, "webhook_state"));
    n.webhooks = webhooks(tx, hooks, high.event, &mut high.webhook).await?;
    let deliveries = tree(s, "webhook_deliveries");
    n.webhook_deliveries = webhook_deliveries(tx, deliveries, hooks.0, &mut high.delivery).await?;
    Ok((n, high))
}

async fn users(tx: &mut Tx, entries: &Entries, high: &mut u64) -> Result<usize, StoreError> {
    const TREE: &str = "users";
    for chunk in entries.chunks(CHUNK) {
        let mut c = (
            vec![],
            vec![],
            vec![],
            vec![],
            vec![],
            vec![],
            vec![],
            vec![],
            vec![],
            vec![],
        );
        for (_, raw) in chunk {
            let user: User = record(TREE, raw)?;
            *high = (*high).max(user.id.get());
            c.0.push(column(TREE, user.id.get())?);
            c.1.push(user.email.as_str().to_owned());
            c.2.push(user.password_hash);
            c.3.push(user.name);
            c.4.push(user.phone);
            c.5.push(user.address);
            c.6.push(user.is_admin);
            c.7.push(small(TREE, user.token_version)?);
            c.8.push(user.date_joined);
            c.9.push(user.order_emails);
        }
        insert(
            tx,
            "users",
            "INSERT INTO users (id, email, password_hash, name, phone, address, is_admin, \
             token_version, date_joined, order_emails) SELECT * FROM UNNEST($1::bigint[], \
             $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bool[], $8::int[], \
             $9::timestamptz[], $10::bool[])",
            (c.0, c.1, c.2, c.3, c.4, c.5, c.6, c.7, c.8, c.9),
        )
        .await?;
    }
    Ok(entries.len())
}

async fn categories(tx: &mut Tx, entries: &Entries, high: &mut u64) -> Result<usize, StoreError> {
    let mut c = (vec![], vec![], vec![], vec![]);
    for (_, raw) in entries {
        let category: Category = record("categories", raw)?;
        *high = (*high).max(category.id.get());
        c.0.push(column("categories", category.id.get())?);
        c.1.push(category.name.to_lowercase());
        c.2.push(category.name);
        c.3.push(category.description);
    }
    insert(
        tx,
        "categories",
        "INSERT INTO categories (id, name_key, name, description) \
         SELECT * FROM UNNEST($1::bigint[], $2::text[], $3::text[], $4::text[])",
        (c.0, c.1, c.2, c.3),
    )
    .await?;
    Ok(entries.len())
}

async fn products(tx: &mut Tx, entries: &Entries, high: &mut u64) -> Result<usize, StoreError> {
    const TREE: &str = "products";
    for chunk in entries.chunks(CHUNK) {
        let mut c = (
            vec![],
            vec![],
            vec![],
            vec![],
            vec![],
            vec![],
            vec![],
            vec![],
            vec![],
            vec![],
        );
        for (_, raw) in chunk {
            let product: Product = record(TREE, raw)?;
            *high = (*high).max(product.id.get());
            c.0.push(column(TREE, product.id.get())?);
            c.1.push(fold(&product.name).into_owned());
            c.2.push(product.name.to_lowercase());
            c.3.push(product.name);
            c.4.push(product.description);
            c.5.push(product.price.cents());
            c.6.push(product.stock as i64);
            c.7.push(column(TREE, product.category_id.get())?);
            c.8.push(product.created_at);
            c.9.push(product.updated_at);
        }
        insert(
            tx,
            "products",
            "INSERT INTO products (id, folded_name, sort_name, name, description, price_cents, \
             stock, category_id, created_at, updated_at) SELECT * FROM UNNEST($1::bigint[], \
             $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::bigint[], \
             $8::bigint[], $9::timestamptz[], $10::timestamptz[])",
            (c.0, c.1, c.2, c.3, c.4, c.5, c.6, c.7, c.8, c.9),
        )
        .await?;
    }
    Ok(entries.len())
}

async fn carts(tx: &mut Tx, entries: &Entries) -> Result<usize, StoreError> {
    const TREE: &str = "carts";
    for chunk in entries.chunks(CHUNK) {
        let (mut users, mut lines) = (vec![], vec![]);
        for (key, raw) in chunk {
            record::<Cart>(TREE, raw)?;
            users.push(column(TREE, id_key(TREE, key)?)?);
            lines.push(json_text(TREE, raw)?);
        }
        insert(
            tx,
            "carts",
            "INSERT INTO carts (user_id, lines) SELECT user_id, lines::jsonb \
             FROM UNNEST($1::bigint[], $2::text[]) AS c(user_id, lines)",
            (users, lines),
        )
        .await?;
    }
    Ok(entries.len())
}

async fn orders(tx: &mut Tx, entries: &Entries, high: &mut u64) -> Result<usize, StoreError> {
    const TREE: &str = "orders";
    for chunk in entries.chunks(CHUNK) {
        let mut o = (vec![], vec![], vec![], vec![], vec![]);
        let mut i = (vec![], vec![], vec![], vec![], vec![], vec![]);
        let mut h = (vec![], vec![], vec![], vec![]);
        for (_, raw) in chunk {
            let order: Order = record(TREE, raw)?;
            *high = (*high).max(order.id.get());
            let order_id = column(TREE, order.id.get())?;
            o.0.push(order_id);
            o.1.push(column(TREE, order.user_id.get())?);
            o.2.push(order.status.as_str());
            o.3.push(order.created_at);
            o.4.push(order.updated_at);
            for (line, item) in order.items.into_iter().enumerate() {
                i.0.push(order_id);
                i.1.push(line as i32);
                i.2.push(column(TREE, item.product_id.get())?);
                i.3.push(item.name);
                i.4.push(item.unit_price.cents());
                i.5.push(small(TREE, item.quantity)?);
            }
            for (step, change) in order.history.into_iter().enumerate() {
                h.0.push(order_id);
                h.1.push(step as i32);
                h.2.push(change.status.as_str());
                h.3.push(change.at);
            }
        }
        insert(
            tx,
            "orders",
            "INSERT INTO orders (id, user_id, status, created_at, updated_at) SELECT * FROM \
             UNNEST($1::bigint[], $2::bigint[], $3::text[], $4::timestamptz[], $5::timestamptz[])",
            (o.0, o.1, o.2, o.3, o.4),
        )
        .await?;
        insert(
            tx,
            "order_items",
            "INSERT INTO order_items (order_id, line, product_id, name, unit_price_cents, \
             quantity) SELECT * FROM UNNEST($1::bigint[], $2::int[], $3::bigint[], $4::text[], \
             $5::bigint[], $6::int[])",
            (i.0, i.1, i.2, i.3, i.4, i.5),
        )
        .await?;
        insert(
            tx,
            "order_history",
            "INSERT INTO order_history (order_id, step, status, at) \
             SELECT * FROM UNNEST($1::bigint[], $2::int[], $3::text[], $4::timestamptz[])",
            (h.0, h.1, h.2, h.3),
        )
        .await?;
    }
    Ok(entries.len())
}

/// Keys are the user's id (8 bytes) followed by the key's text.
async fn idempotency_keys(tx: &mut Tx, entries: &Entries) -> Result<usize, StoreError> {
    const TREE: &str = "idempotency";
    for chunk in entries.chunks(CHUNK) {
        let mut c = (vec![], vec![], vec![], vec![], vec![]);
        for (key, raw) in chunk {
            let (user, text) = key
                .split_at_checked(8)
                .ok_or_else(|| bad(TREE, "a short key"))?;
            let text = std::str::from_utf8(text).map_err(|e| bad(TREE, format!("a key: {e}")))?;
            let found: IdempotencyRecord = record(TREE, raw)?;
            c.0.push(column(TREE, id_key(TREE, user)?)?);
            c.1.push(text);
            c.2.push(column(TREE, found.order_id.get())?);
            c.3.push(found.fingerprint);
            c.4.push(found.created_at);
        }
        insert(
            tx,
            "idempotency_keys",
            "INSERT INTO idempotency_keys (user_id, key, order_id, fingerprint, created_at) \
             SELECT * FROM UNNEST($1::bigint[], $2::text[], $3::bigint[], $4::text[], \
             $5::bigint[])",
            (c.0, c.1, c.2, c.3, c.4),
        )
        .await?;
    }
    Ok(entries.len())
}

/// The log, with the read flags of `read_events` (keys: user ‖ event). Answers how many
/// events, and how many of them read.
async fn events(
    tx: &mut Tx,
    entries: &Entries,
    read_events: &Entries,
    high: &mut u64,
) -> Result<(usize, usize), StoreError> {
    const TREE: &str = "events";
    let read: HashSet<(u64, u64)> = read_events
        .iter()
        .map(|(key, _)| pair_key("read_events", key))
        .collect::<Result<_, _>>()?;
    let mut read_count = 0;
    for chunk in entries.chunks(CHUNK) {
        let mut c = (vec![], vec![], vec![], vec![], vec![], vec![], vec![]);
        for (_, raw) in chunk {
            let entry: LogEntry = record(TREE, raw)?;
            let event_id = entry.id().get();
            *high = (*high).max(event_id);
            let (kind, user, order) = match entry {
                LogEntry::Order(e) => (e.kind.as_str(), Some(e.user_id.get()), Some(e.order_id)),
                LogEntry::StockLow(_) => ("product.stock_low", None, None),
            };
            // A status change is news for the order's owner (see `events::append`).
            let for_user = kind == "order.status";
            let is_read = for_user && user.is_some_and(|u| read.contains(&(u, event_id)));
            read_count += is_read as usize;
            c.0.push(column(TREE, event_id)?);
            c.1.push(kind);
            c.2.push(user.map(|u| column(TREE, u)).transpose()?);
            c.3.push(order.map(|o| column(TREE, o.get())).transpose()?);
            c.4.push(for_user);
            c.5.push(is_read);
            c.6.push(json_text(TREE, raw)?);
        }
        insert(
            tx,
            "events",
            "INSERT INTO events (id, kind, user_id, order_id, for_user, read, body) \
             SELECT id, kind, user_id, order_id, for_user, read, body::jsonb FROM UNNEST(\
             $1::bigint[], $2::text[], $3::bigint[], $4::bigint[], $5::bool[], $6::bool[], \
             $7::text[]) AS e(id, kind, user_id, order_id, for_user, read, body)",
            (c.0, c.1, c.2, c.3, c.4, c.5, c.6),
        )
        .await?;
    }
    Ok((entries.len(), read_count))
}

async fn families(tx: &mut Tx, entries: &Entries, high: &mut u64) -> Result<(), StoreError> {
    const TREE: &str = "token_families";
    for chunk in entries.chunks(CHUNK) {
        let mut c = (vec![], vec![], vec![]);
        for (key, raw) in chunk {
            let family_id = id_key(TREE, key)?;
            let family: Family = record(TREE, raw)?;
            *high = (*high).max(family_id);
            c.0.push(column(TREE, family_id)?);
            c.1.push(column(TREE, family.user_id.get())?);
            c.2.push(family.revoked);
        }
        insert(
            tx,
            "refresh_families",
            "INSERT INTO refresh_families (id, user_id, revoked) \
             SELECT * FROM UNNEST($1::bigint[], $2::bigint[], $3::bool[])",
            (c.0, c.1, c.2),
        )
        .await?;
    }
    Ok(())
}

/// Keys are the token's hash.
async fn refresh_tokens(tx: &mut Tx, entries: &Entries) -> Result<usize, StoreError> {
    const TREE: &str = "refresh_tokens";
    for chunk in entries.chunks(CHUNK) {
        let mut c = (vec![], vec![], vec![], vec![], vec![], vec![]);
        for (key, raw) in chunk {
            let token: RefreshRecord = record(TREE, raw)?;
            c.0.push(key.to_vec());
            c.1.push(column(TREE, token.family.get())?);
            c.2.push(column(TREE, token.user_id.get())?);
            c.3.push(small(TREE, token.token_version)?);
            c.4.push(token.expires_at);
            c.5.push(token.used);
        }
        insert(
            tx,
            "refresh_tokens",
            "INSERT INTO refresh_tokens (hash, family_id, user_id, token_version, expires_at, \
             used) SELECT * FROM UNNEST($1::bytea[], $2::bigint[], $3::bigint[], $4::int[], \
             $5::bigint[], $6::bool[])",
            (c.0, c.1, c.2, c.3, c.4, c.5),
        )
        .await?;
    }
    Ok(entries.len())
}

/// Keys are the token id (jti); values its expiry, a big-endian i64.
async fn revoked_access(tx: &mut Tx, entries: &Entries) -> Result<usize, StoreError> {
    const TREE: &str = "revoked_access";
    for chunk in entries.chunks(CHUNK) {
        let (mut jtis, mut expiries) = (vec![], vec![]);
        for (key, raw) in chunk {
            jtis.push(std::str::from_utf8(key).map_err(|e| bad(TREE, format!("a key: {e}")))?);
            let expiry = <[u8; 8]>::try_from(&raw[..]).map_err(|_| bad(TREE, "an expiry"))?;
            expiries.push(i64::from_be_bytes(expiry));
        }
        insert(
            tx,
            "revoked_access_tokens",
            "INSERT INTO revoked_access_tokens (jti, expires_at) \
             SELECT * FROM UNNEST($1::text[], $2::bigint[])",
            (jtis, expiries),
        )
        .await?;
    }
    Ok(entries.len())
}

/// Webhooks with their cursors (`webhook_state`, by id). A webhook without one (which sled
/// never leaves) starts after the last event, as a new webhook does.
async fn webhooks(
    tx: &mut Tx,
    (entries, states): (&Entries, &Entries),
    last_event: u64,
    high: &mut u64,
) -> Result<usize, StoreError> {
    const TREE: &str = "webhooks";
    let mut by_id = HashMap::new();
    for (key, raw) in states {
        record::<DispatchState>("webhook_state", raw)?;
        by_id.insert(
            id_key("webhook_state", key)?,
            json_text("webhook_state", raw)?,
        );
    }
    let fresh = serde_json::to_string(&DispatchState::starting_after(
        crate::domain::ids::EventId::new(last_event),
    ))
    .map_err(|e| bad(TREE, e))?;
    let mut c = (vec![], vec![], vec![]);
    for (_, raw) in entries {
        let hook: Webhook = record(TREE, raw)?;
        *high = (*high).max(hook.id.get());
        c.0.push(column(TREE, hook.id.get())?);
        c.1.push(json_text(TREE, raw)?);
        c.2.push(by_id.get(&hook.id.get()).copied().unwrap_or(fresh.as_str()));
    }
    insert(
        tx,
        "webhooks",
        "INSERT INTO webhooks (id, record, state) SELECT id, record::jsonb, state::jsonb \
         FROM UNNEST($1::bigint[], $2::text[], $3::text[]) AS w(id, record, state)",
        (c.0, c.1, c.2),
    )
    .await?;
    Ok(entries.len())
}

/// The delivery log. Attempts of a webhook that is gone (sled deletes the webhook, then its
/// log: a crash between the two leaves some) are not copied; nothing could show them.
async fn webhook_deliveries(
    tx: &mut Tx,
    entries: &Entries,
    hooks: &Entries,
    high: &mut u64,
) -> Result<usize, StoreError> {
    const TREE: &str = "webhook_deliveries";
    let live: HashSet<&[u8]> = hooks.iter().map(|(key, _)| &key[..]).collect();
    let mut copied = 0;
    for chunk in entries.chunks(CHUNK) {
        let mut c = (vec![], vec![], vec![]);
        for (key, raw) in chunk {
            let (hook, delivery) = pair_key(TREE, key)?;
            *high = (*high).max(delivery);
            if !live.contains(&hook.to_be_bytes()[..]) {
                continue;
            }
            record::<Delivery>(TREE, raw)?;
            c.0.push(column(TREE, hook)?);
            c.1.push(column(TREE, delivery)?);
            c.2.push(json_text(TREE, raw)?);
        }
        copied += c.0.len();
        insert(
            tx,
            "webhook_deliveries",
            "INSERT INTO webhook_deliveries (webhook_id, id, record) SELECT webhook_id, id, \
             record::jsonb FROM UNNEST($1::bigint[], $2::bigint[], $3::text[]) \
             AS d(webhook_id, id, record)",
            (c.0, c.1, c.2),
        )
        .await?;
    }
    Ok(copied)
}
