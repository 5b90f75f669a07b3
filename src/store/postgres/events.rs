//! The event log on PostgreSQL: appended in the transaction of the change it reports, with ids
//! from `event_head` (locked to commit, so in commit order), read by id ranges.
use sqlx::Row;
use time::OffsetDateTime;

use super::rows::{corrupt, key};
use super::{error_of, Pg, Tx};
use crate::domain::event::{EventKind, LogEntry, OrderEvent, StockLowEvent};
use crate::domain::ids::{EventId, OrderId, ProductId, UserId};
use crate::domain::order::OrderStatus;
use crate::store::storage::EventStorage;
use crate::store::{EventPage, StoreError};

/// An entry to append; its id is given when it is written.
pub(super) enum NewEntry {
    Order {
        kind: EventKind,
        user_id: UserId,
        order_id: OrderId,
        status: OrderStatus,
        previous: Option<OrderStatus>,
        at: OffsetDateTime,
    },
    StockLow {
        product_id: ProductId,
        name: String,
        stock: u32,
        threshold: u32,
        at: OffsetDateTime,
    },
}

/// Appends `entries` in order and answers them with their ids. Holds the log's head row until
/// the transaction ends: appends are serialized, and ids follow commit order.
pub(super) async fn append(
    tx: &mut Tx,
    entries: Vec<NewEntry>,
) -> Result<Vec<LogEntry>, StoreError> {
    if entries.is_empty() {
        return Ok(Vec::new());
    }
    // The notification goes out at commit and wakes the other instances' followers.
    let last: i64 = sqlx::query_scalar(
        "WITH head AS (UPDATE event_head SET last_id = last_id + $1 RETURNING last_id) \
         SELECT last_id, pg_notify('orderstream_commits', '') FROM head",
    )
    .bind(entries.len() as i64)
    .fetch_one(&mut **tx)
    .await
    .map_err(error_of)?;
    let (rows, written) = EventRows::numbered(last, entries)?;
    sqlx::query(&format!(
        "INSERT INTO events (id, kind, user_id, order_id, for_user, body) {}",
        EventRows::SELECT_1_TO_6
    ))
    .bind(rows.ids)
    .bind(rows.kinds)
    .bind(rows.users)
    .bind(rows.orders)
    .bind(rows.for_user)
    .bind(rows.bodies)
    .execute(&mut **tx)
    .await
    .map_err(error_of)?;
    Ok(written)
}

/// Log entries as the columns of `events`, one array per column.
#[derive(Default)]
pub(super) struct EventRows {
    pub ids: Vec<i64>,
    pub kinds: Vec<String>,
    pub users: Vec<Option<i64>>,
    pub orders: Vec<Option<i64>>,
    pub for_user: Vec<bool>,
    pub bodies: Vec<String>,
}

impl EventRows {
    /// The rows from six array parameters $1..$6 (ids, kinds, users, orders, for_user, bodies).
    pub const SELECT_1_TO_6: &str = "SELECT id, kind, user_id, order_id, for_user, body::jsonb \
         FROM UNNEST($1::bigint[], $2::text[], $3::bigint[], $4::bigint[], $5::bool[], \
         $6::text[]) AS e(id, kind, user_id, order_id, for_user, body)";

    /// `entries` numbered up to `last` (the head after taking their ids), as rows and as the
    /// entries answered.
    pub fn numbered(
        last: i64,
        entries: Vec<NewEntry>,
    ) -> Result<(EventRows, Vec<LogEntry>), StoreError> {
        let first = (last - entries.len() as i64 + 1) as u64;
        let mut written = Vec::with_capacity(entries.len());
        let mut rows = EventRows::default();
        for (n, entry) in entries.into_iter().enumerate() {
            let id = EventId::new(first + n as u64);
            let logged = match entry {
                NewEntry::Order {
                    kind,
                    user_id,
                    order_id,
                    status,
                    previous,
                    at,
                } => {
                    rows.users.push(Some(key(user_id.get())));
                    rows.orders.push(Some(key(order_id.get())));
                    // A shopper's stream and notifications are the status of their orders; a
                    // creation is news for admins, who read the whole log.
                    rows.for_user.push(kind == EventKind::OrderStatus);
                    rows.kinds.push(kind.as_str().to_owned());
                    LogEntry::Order(OrderEvent {
                        id,
                        kind,
                        user_id,
                        order_id,
                        status,
                        previous,
                        at,
                    })
                }
                NewEntry::StockLow {
                    product_id,
                    name,
                    stock,
                    threshold,
                    at,
                } => {
                    rows.users.push(None);
                    rows.orders.push(None);
                    rows.for_user.push(false);
                    rows.kinds.push("product.stock_low".to_owned());
                    LogEntry::StockLow(StockLowEvent {
                        id,
                        product_id,
                        name,
                        stock,
                        threshold,
                        at,
                    })
                }
            };
            rows.ids.push(key(id.get()));
            rows.bodies
                .push(serde_json::to_string(&logged).map_err(corrupt)?);
            written.push(logged);
        }
        Ok((rows, written))
    }
}

fn entry(body: &str) -> Result<LogEntry, StoreError> {
    serde_json::from_str(body).map_err(corrupt)
}

pub(super) fn order_event(body: &str) -> Result<OrderEvent, StoreError> {
    match entry(body)? {
        LogEntry::Order(event) => Ok(event),
        LogEntry::StockLow(_) => Err(corrupt("a stock event where an order event was expected")),
    }
}

impl Pg {
    fn bodies(&self, sql: &str, first: i64, second: i64) -> Result<Vec<String>, StoreError> {
        self.wait(
            sqlx::query_scalar(sql)
                .bind(first)
                .bind(second)
                .fetch_all(self.pool()),
        )
    }
}

impl EventStorage for Pg {
    fn log_after(&self, after: EventId, limit: usize) -> Result<Vec<LogEntry>, StoreError> {
        let sql = "SELECT body::text FROM events WHERE id > $1 ORDER BY id LIMIT $2";
        self.bodies(sql, key(after.get()), limit as i64)?
            .iter()
            .map(|b| entry(b))
            .collect()
    }

    fn log_entry(&self, id: EventId) -> Result<LogEntry, StoreError> {
        let body: String = self.wait(
            sqlx::query_scalar("SELECT body::text FROM events WHERE id = $1")
                .bind(key(id.get()))
                .fetch_one(self.pool()),
        )?;
        entry(&body)
    }

    fn user_events_after(
        &self,
        user: UserId,
        after: EventId,
        limit: usize,
    ) -> Result<Vec<OrderEvent>, StoreError> {
        let bodies: Vec<String> = self.wait(
            sqlx::query_scalar(
                "SELECT body::text FROM events WHERE user_id = $1 AND for_user AND id > $2 \
                 ORDER BY id LIMIT $3",
            )
            .bind(key(user.get()))
            .bind(key(after.get()))
            .bind(limit as i64)
            .fetch_all(self.pool()),
        )?;
        bodies.iter().map(|b| order_event(b)).collect()
    }

    fn all_events_after(
        &self,
        after: EventId,
        limit: usize,
    ) -> Result<Vec<OrderEvent>, StoreError> {
        let sql = "SELECT body::text FROM events WHERE id > $1 AND kind <> 'product.stock_low' \
                   ORDER BY id LIMIT $2";
        self.bodies(sql, key(after.get()), limit as i64)?
            .iter()
            .map(|b| order_event(b))
            .collect()
    }

    fn last_event_id(&self) -> Result<EventId, StoreError> {
        let last: Option<i64> =
            self.wait(sqlx::query_scalar("SELECT max(id) FROM events").fetch_one(self.pool()))?;
        Ok(EventId::new(last.unwrap_or(0) as u64))
    }

    fn notifications(
        &self,
        user: UserId,
        unread_only: bool,
        offset: u64,
        limit: u64,
    ) -> Result<EventPage, StoreError> {
        let user = key(user.get());
        let count: i64 = self.wait(
            sqlx::query_scalar(
                "SELECT count(*) FROM events WHERE user_id = $1 AND for_user AND NOT (read AND $2)",
            )
            .bind(user)
            .bind(unread_only)
            .fetch_one(self.pool()),
        )?;
        let rows = self.wait(
            sqlx::query(
                "SELECT body::text AS body, read FROM events \
                 WHERE user_id = $1 AND for_user AND NOT (read AND $2) \
                 ORDER BY id DESC OFFSET $3 LIMIT $4",
            )
            .bind(user)
            .bind(unread_only)
            .bind(offset.min(i64::MAX as u64) as i64)
            .bind(limit.min(i64::MAX as u64) as i64)
            .fetch_all(self.pool()),
        )?;
        let mut events = Vec::with_capacity(rows.len());
        for row in rows {
            let body: String = row.try_get("body").map_err(corrupt)?;
            events.push((order_event(&body)?, row.try_get("read").map_err(corrupt)?));
        }
        Ok(EventPage {
            count: count as u64,
            events,
        })
    }

    fn mark_read(&self, user: UserId, event: EventId) -> Result<(), StoreError> {
        let done = self.wait(
            sqlx::query(
                "UPDATE events SET read = true WHERE id = $1 AND user_id = $2 AND for_user",
            )
            .bind(key(event.get()))
            .bind(key(user.get()))
            .execute(self.pool()),
        )?;
        match done.rows_affected() {
            0 => Err(StoreError::NotFound),
            _ => Ok(()),
        }
    }

    fn mark_all_read(&self, user: UserId) -> Result<(), StoreError> {
        self.wait(
            sqlx::query(
                "UPDATE events SET read = true WHERE user_id = $1 AND for_user AND NOT read",
            )
            .bind(key(user.get()))
            .execute(self.pool()),
        )?;
        Ok(())
    }
}
