//! Orders on PostgreSQL. Placement is batched as on sled (one drainer at a time places all that
//! is queued in one transaction): a durable commit costs a disk flush, so under load one flush
//! serves many orders. Inside the batch the carts and then the products are locked in id order
//! (two batches, on two instances too, cannot deadlock), the domain decides each order against
//! the locked stock, and the stock is taken with a conditional update the database checks again.
use std::collections::{HashMap, HashSet};

use sqlx::postgres::PgRow;
use sqlx::Row;
use time::OffsetDateTime;
use tokio::sync::oneshot;

use super::events::{append, EventRows, NewEntry};
use super::rows::{self, corrupt, id, key, PRODUCT_COLUMNS};
use super::{bump_generation, error_of, Pg, Tx};
use crate::domain::cart::Cart;
use crate::domain::catalog::Product;
use crate::domain::event::{stock_became_low, EventKind, LogEntry, OrderEvent};
use crate::domain::ids::{OrderId, ProductId, UserId};
use crate::domain::order::{Order, OrderStatus};
use crate::domain::placement::{restock, returns_stock, take_from_stock, Refusal};
use crate::store::orders::IDEMPOTENCY_TTL_SECONDS;
use crate::store::storage::{OrderStorage, Pending};
use crate::store::{OrderFilter, OrderPage, OrderRequest, PlacedOrder, Publisher, StoreError};

/// Bounds the work (and the locks) of one batch.
const MAX_BATCH: usize = 128;

struct QueuedOrder {
    request: OrderRequest,
    reply: oneshot::Sender<Result<PlacedOrder, StoreError>>,
}

#[derive(Default)]
pub(super) struct OrderQueue {
    waiting: Vec<QueuedOrder>,
    /// A drainer is at work and will see anything queued before it finds the queue empty.
    draining: bool,
}

fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

/// Orders by id with their lines and history (3 statements, whatever the number of orders).
async fn load_orders(
    executor: &mut sqlx::PgConnection,
    ids: &[i64],
) -> Result<Vec<Order>, StoreError> {
    let orders = sqlx::query(
        "SELECT o.id, o.user_id, o.status, o.created_at, o.updated_at FROM orders o \
         JOIN UNNEST($1::bigint[]) WITH ORDINALITY AS asked(id, position) USING (id) \
         ORDER BY asked.position",
    )
    .bind(ids)
    .fetch_all(&mut *executor)
    .await
    .map_err(error_of)?;
    let items = sqlx::query(
        "SELECT order_id, line, product_id, name, unit_price_cents, quantity FROM order_items \
         WHERE order_id = ANY($1)",
    )
    .bind(ids)
    .fetch_all(&mut *executor)
    .await
    .map_err(error_of)?;
    let history = sqlx::query(
        "SELECT order_id, step, status, at FROM order_history WHERE order_id = ANY($1)",
    )
    .bind(ids)
    .fetch_all(&mut *executor)
    .await
    .map_err(error_of)?;
    rows::orders(&orders, &items, &history)
}

/// What the batch read, locked: carts by user, products by id, live idempotency keys.
struct Locked {
    carts: HashMap<UserId, Cart>,
    products: HashMap<ProductId, Product>,
    /// (user, key) → (order, fingerprint)
    keys: HashMap<(UserId, String), (i64, String)>,
}

async fn lock_batch(tx: &mut Tx, requests: &[&OrderRequest]) -> Result<Locked, StoreError> {
    let mut users: Vec<i64> = requests.iter().map(|r| key(r.user.get())).collect();
    users.sort_unstable();
    users.dedup();
    let cart_rows = sqlx::query(
        "SELECT user_id, lines::text AS lines FROM carts WHERE user_id = ANY($1) \
         ORDER BY user_id FOR UPDATE",
    )
    .bind(&users)
    .fetch_all(&mut **tx)
    .await
    .map_err(error_of)?;
    let mut carts = HashMap::new();
    for row in &cart_rows {
        let lines: String = row.try_get("lines").map_err(corrupt)?;
        let user = UserId::new(id(row.try_get("user_id").map_err(corrupt)?));
        carts.insert(user, serde_json::from_str::<Cart>(&lines).map_err(corrupt)?);
    }
    let mut product_ids: Vec<i64> = carts
        .values()
        .flat_map(|c| c.lines.iter().map(|l| key(l.product_id.get())))
        .collect();
    product_ids.sort_unstable();
    product_ids.dedup();
    let sql =
        format!("SELECT {PRODUCT_COLUMNS} FROM products WHERE id = ANY($1) ORDER BY id FOR UPDATE");
    let product_rows = sqlx::query(&sql)
        .bind(&product_ids)
        .fetch_all(&mut **tx)
        .await
        .map_err(error_of)?;
    let mut products = HashMap::new();
    for row in &product_rows {
        let product = rows::product(row)?;
        products.insert(product.id, product);
    }
    let (mut key_users, mut key_texts) = (Vec::new(), Vec::new());
    for request in requests {
        if let Some(k) = &request.idempotency {
            key_users.push(key(request.user.get()));
            key_texts.push(k.clone());
        }
    }
    let mut keys = HashMap::new();
    if !key_users.is_empty() {
        let now = requests[0].now.unix_timestamp();
        let key_rows = sqlx::query(
            "SELECT k.user_id, k.key, k.order_id, k.fingerprint FROM idempotency_keys k \
             JOIN UNNEST($1::bigint[], $2::text[]) AS asked(user_id, key) USING (user_id, key) \
             WHERE k.created_at > $3",
        )
        .bind(&key_users)
        .bind(&key_texts)
        .bind(now - IDEMPOTENCY_TTL_SECONDS)
        .fetch_all(&mut **tx)
        .await
        .map_err(error_of)?;
        for row in &key_rows {
            let user = UserId::new(id(row.try_get("user_id").map_err(corrupt)?));
            keys.insert(
                (user, row.try_get("key").map_err(corrupt)?),
                (
                    row.try_get("order_id").map_err(corrupt)?,
                    row.try_get("fingerprint").map_err(corrupt)?,
                ),
            );
        }
    }
    Ok(Locked {
        carts,
        products,
        keys,
    })
}

/// One order the batch decided to place (its id is drawn once the count is known).
struct Accepted {
    slot: usize,
    request_user: UserId,
    idempotency: Option<(String, String)>,
    items: Vec<crate::domain::order::OrderItem>,
    became_low: Vec<(ProductId, String, u32)>,
    now: OffsetDateTime,
}

/// An answer per request of a batch, in request order, and the catalog generation it committed.
type BatchOutcome = (Vec<Result<PlacedOrder, StoreError>>, Option<i64>);

/// What each request of a batch comes to before the writes.
enum Decision {
    Accept(Accepted),
    /// An earlier order under the same key (its id; loaded after the writes).
    Replay(i64),
    Refuse(StoreError),
}

fn decide(locked: &mut Locked, requests: &[&OrderRequest], threshold: u32) -> Vec<Decision> {
    let mut decisions = Vec::with_capacity(requests.len());
    // Keys placed earlier in this very batch, so a retry inside it replays too.
    let mut fresh_keys: HashMap<(UserId, String), (usize, String)> = HashMap::new();
    for (slot, request) in requests.iter().enumerate() {
        let (user, now) = (request.user, request.now);
        let cart = locked.carts.get(&user).cloned().unwrap_or_default();
        if let Some(k) = &request.idempotency {
            let earlier = locked
                .keys
                .get(&(user, k.clone()))
                .map(|(o, f)| (Err(*o), f.clone()));
            let in_batch = fresh_keys
                .get(&(user, k.clone()))
                .map(|(s, f)| (Ok(*s), f.clone()));
            if let Some((order, fingerprint)) = in_batch.or(earlier) {
                if !cart.is_empty() && cart.fingerprint() != fingerprint {
                    decisions.push(Decision::Refuse(StoreError::IdempotencyMismatch));
                    continue;
                }
                decisions.push(match order {
                    Err(order_id) => Decision::Replay(order_id),
                    // Points at the slot that placed it; resolved once ids are drawn.
                    Ok(placed_slot) => Decision::Replay(-(placed_slot as i64) - 1),
                });
                continue;
            }
        }
        let found = cart
            .lines
            .iter()
            .map(|l| locked.products.get(&l.product_id).cloned())
            .collect();
        let taken = match take_from_stock(&cart, found, now) {
            Ok(taken) => taken,
            Err(Refusal::EmptyCart) => {
                decisions.push(Decision::Refuse(StoreError::EmptyCart));
                continue;
            }
            Err(Refusal::Short(shortages)) => {
                decisions.push(Decision::Refuse(StoreError::InsufficientStock(shortages)));
                continue;
            }
        };
        let mut became_low = Vec::new();
        for taken_product in &taken.products {
            let product = &taken_product.product;
            if stock_became_low(taken_product.stock_before, product.stock, threshold) {
                became_low.push((product.id, product.name.clone(), product.stock));
            }
            locked.products.insert(product.id, product.clone());
        }
        locked.carts.remove(&user);
        let idempotency = request.idempotency.clone().map(|k| {
            fresh_keys.insert((user, k.clone()), (slot, cart.fingerprint()));
            (k, cart.fingerprint())
        });
        decisions.push(Decision::Accept(Accepted {
            slot,
            request_user: user,
            idempotency,
            items: taken.items,
            became_low,
            now,
        }));
    }
    decisions
}

/// Writes the accepted orders in two statements; answers them with their events, in slot
/// order, and the catalog generation committed. Round trips are what a batch waits on (each
/// wakes PostgreSQL and this task again on a busy machine): the ids first, then every row in
/// one statement of data-modifying CTEs.
async fn write_accepted(
    tx: &mut Tx,
    accepted: &[&Accepted],
    threshold: u32,
) -> Result<(Vec<(Order, OrderEvent)>, i64), StoreError> {
    let mut entries_by_order: Vec<Vec<NewEntry>> = Vec::with_capacity(accepted.len());
    for a in accepted {
        // After the order's own event: the order is what brought the stock down.
        let became_low = a
            .became_low
            .iter()
            .map(|(product_id, name, stock)| NewEntry::StockLow {
                product_id: *product_id,
                name: name.clone(),
                stock: *stock,
                threshold,
                at: a.now,
            });
        entries_by_order.push(became_low.collect());
    }
    let event_count = accepted.len() + entries_by_order.iter().map(Vec::len).sum::<usize>();
    // The log's head, the catalog generation and the order ids, in one statement. The head and
    // `meta` stay locked to commit (log ids in commit order), taken in the order every writer
    // takes them, the head first (`meta` is updated from the head's row, so no plan can lock
    // it sooner; the other order deadlocked with a cancellation). The notification goes out
    // at commit and wakes the other instances' followers.
    let (last_event, generation, ids): (i64, i64, Vec<i64>) = sqlx::query_as(
        "WITH head AS (UPDATE event_head SET last_id = last_id + $1 RETURNING last_id), \
         bumped AS (UPDATE meta SET catalog_generation = catalog_generation + 1 FROM head \
         RETURNING catalog_generation, head.last_id) \
         SELECT last_id, catalog_generation, \
         ARRAY(SELECT nextval(pg_get_serial_sequence('orders', 'id')) \
         FROM generate_series(1, $2)), pg_notify('orderstream_commits', '') FROM bumped",
    )
    .bind(event_count as i64)
    .bind(accepted.len() as i64)
    .fetch_one(&mut **tx)
    .await
    .map_err(error_of)?;
    let orders: Vec<Order> = accepted
        .iter()
        .zip(&ids)
        .map(|(a, order_id)| {
            Order::placed(
                OrderId::new(id(*order_id)),
                a.request_user,
                a.items.clone(),
                a.now,
            )
        })
        .collect();
    let mut entries = Vec::with_capacity(event_count);
    for ((a, order), stock_low) in accepted.iter().zip(&orders).zip(entries_by_order) {
        entries.push(NewEntry::Order {
            kind: EventKind::OrderCreated,
            user_id: order.user_id,
            order_id: order.id,
            status: OrderStatus::Pending,
            previous: None,
            at: a.now,
        });
        entries.extend(stock_low);
    }
    let (events, logged) = EventRows::numbered(last_event, entries)?;
    let rows = OrderRows::of(accepted, &orders);
    let taken: i64 = sqlx::query_scalar(&format!(
        "WITH taken AS (\
           UPDATE products p SET stock = p.stock - t.quantity, updated_at = $9 \
           FROM UNNEST($7::bigint[], $8::bigint[]) AS t(id, quantity) \
           WHERE p.id = t.id AND p.stock >= t.quantity RETURNING p.id), \
         placed AS (\
           INSERT INTO orders (id, user_id, status, created_at, updated_at) \
           SELECT id, user_id, status, at, at FROM UNNEST($10::bigint[], $11::bigint[], \
           $12::text[], $13::timestamptz[]) AS o(id, user_id, status, at)), \
         items AS (\
           INSERT INTO order_items (order_id, line, product_id, name, unit_price_cents, quantity) \
           SELECT * FROM UNNEST($14::bigint[], $15::int[], $16::bigint[], $17::text[], \
           $18::bigint[], $19::int[])), \
         history AS (\
           INSERT INTO order_history (order_id, step, status, at) \
           SELECT * FROM UNNEST($20::bigint[], $21::int[], $22::text[], $23::timestamptz[])), \
         emptied AS (\
           UPDATE carts SET lines = '{{\"lines\": []}}', version = version + 1 \
           WHERE user_id = ANY($11)), \
         keyed AS (\
           INSERT INTO idempotency_keys (user_id, key, order_id, fingerprint, created_at) \
           SELECT * FROM UNNEST($24::bigint[], $25::text[], $26::bigint[], $27::text[], \
           $28::bigint[]) \
           ON CONFLICT (user_id, key) DO UPDATE SET order_id = EXCLUDED.order_id, \
           fingerprint = EXCLUDED.fingerprint, created_at = EXCLUDED.created_at), \
         logged AS (INSERT INTO events (id, kind, user_id, order_id, for_user, body) {}) \
         SELECT count(*) FROM taken",
        EventRows::SELECT_1_TO_6
    ))
    .bind(events.ids)
    .bind(events.kinds)
    .bind(events.users)
    .bind(events.orders)
    .bind(events.for_user)
    .bind(events.bodies)
    .bind(&rows.stock.0)
    .bind(rows.stock.1)
    .bind(accepted[0].now)
    .bind(rows.orders.0)
    .bind(rows.orders.1)
    .bind(rows.orders.2)
    .bind(rows.orders.3)
    .bind(rows.items.order)
    .bind(rows.items.line)
    .bind(rows.items.product)
    .bind(rows.items.name)
    .bind(rows.items.unit_price_cents)
    .bind(rows.items.quantity)
    .bind(rows.history.0)
    .bind(rows.history.1)
    .bind(rows.history.2)
    .bind(rows.history.3)
    .bind(rows.keys.user)
    .bind(rows.keys.key)
    .bind(rows.keys.order)
    .bind(rows.keys.fingerprint)
    .bind(rows.keys.created)
    .fetch_one(&mut **tx)
    .await
    .map_err(error_of)?;
    // The database checked each product's stock again: a row that would have gone below zero
    // was not updated, and then the batch fails (rolled back).
    if taken != rows.stock.0.len() as i64 {
        return Err(StoreError::Io("stock changed under a locked batch".into()));
    }
    let order_events = logged.into_iter().filter_map(|e| match e {
        LogEntry::Order(event) => Some(event),
        LogEntry::StockLow(_) => None,
    });
    Ok((orders.into_iter().zip(order_events).collect(), generation))
}

/// The rows a batch writes, one array per column.
#[derive(Default)]
struct OrderRows {
    /// product, quantity taken (products in id order)
    stock: (Vec<i64>, Vec<i64>),
    /// id, user, status, created
    orders: (Vec<i64>, Vec<i64>, Vec<&'static str>, Vec<OffsetDateTime>),
    items: ItemRows,
    /// order, step, status, at
    history: (Vec<i64>, Vec<i32>, Vec<&'static str>, Vec<OffsetDateTime>),
    keys: KeyRows,
}

#[derive(Default)]
struct KeyRows {
    user: Vec<i64>,
    key: Vec<String>,
    order: Vec<i64>,
    fingerprint: Vec<String>,
    /// unix seconds
    created: Vec<i64>,
}

#[derive(Default)]
struct ItemRows {
    order: Vec<i64>,
    line: Vec<i32>,
    product: Vec<i64>,
    name: Vec<String>,
    unit_price_cents: Vec<i64>,
    quantity: Vec<i32>,
}

impl OrderRows {
    fn of(accepted: &[&Accepted], orders: &[Order]) -> OrderRows {
        let mut rows = OrderRows::default();
        let mut taken: HashMap<i64, i64> = HashMap::new();
        for (a, order) in accepted.iter().zip(orders) {
            let order_id = key(order.id.get());
            rows.orders.0.push(order_id);
            rows.orders.1.push(key(order.user_id.get()));
            rows.orders.2.push(order.status.as_str());
            rows.orders.3.push(order.created_at);
            for (line, item) in order.items.iter().enumerate() {
                *taken.entry(key(item.product_id.get())).or_default() += item.quantity as i64;
                rows.items.order.push(order_id);
                rows.items.line.push(line as i32);
                rows.items.product.push(key(item.product_id.get()));
                rows.items.name.push(item.name.clone());
                rows.items.unit_price_cents.push(item.unit_price.cents());
                rows.items.quantity.push(item.quantity as i32);
            }
            for (step, change) in order.history.iter().enumerate() {
                rows.history.0.push(order_id);
                rows.history.1.push(step as i32);
                rows.history.2.push(change.status.as_str());
                rows.history.3.push(change.at);
            }
            // An expired key may be used again: it then names the new order.
            if let Some((k, fingerprint)) = &a.idempotency {
                rows.keys.user.push(key(order.user_id.get()));
                rows.keys.key.push(k.clone());
                rows.keys.order.push(order_id);
                rows.keys.fingerprint.push(fingerprint.clone());
                rows.keys.created.push(a.now.unix_timestamp());
            }
        }
        let mut taken: Vec<(i64, i64)> = taken.into_iter().collect();
        taken.sort_unstable();
        rows.stock = taken.into_iter().unzip();
        rows
    }
}

/// One batch inside its transaction: lock, decide, write, answer.
async fn place_in(
    tx: &mut Tx,
    requests: &[&OrderRequest],
    threshold: u32,
) -> Result<BatchOutcome, StoreError> {
    let mut locked = lock_batch(tx, requests).await?;
    let decisions = decide(&mut locked, requests, threshold);
    let accepted: Vec<&Accepted> = decisions
        .iter()
        .filter_map(|d| match d {
            Decision::Accept(a) => Some(a),
            _ => None,
        })
        .collect();
    let (placed, generation) = match accepted.is_empty() {
        true => (Vec::new(), None),
        false => {
            let (placed, generation) = write_accepted(tx, &accepted, threshold).await?;
            (placed, Some(generation))
        }
    };
    let by_slot: HashMap<usize, &(Order, OrderEvent)> =
        accepted.iter().map(|a| a.slot).zip(&placed).collect();
    let earlier: Vec<i64> = decisions
        .iter()
        .filter_map(|d| match d {
            Decision::Replay(order) if *order > 0 => Some(*order),
            _ => None,
        })
        .collect();
    let earlier: HashMap<i64, Order> = match earlier.is_empty() {
        true => HashMap::new(),
        false => load_orders(tx, &earlier)
            .await?
            .into_iter()
            .map(|o| (key(o.id.get()), o))
            .collect(),
    };
    let mut outcomes = Vec::with_capacity(decisions.len());
    for (slot, decision) in decisions.into_iter().enumerate() {
        outcomes.push(match decision {
            Decision::Accept(_) => {
                let (order, event) = by_slot[&slot];
                Ok(PlacedOrder {
                    order: order.clone(),
                    created: true,
                    event: Some(event.clone()),
                })
            }
            Decision::Replay(order) if order > 0 => match earlier.get(&order) {
                Some(order) => Ok(PlacedOrder {
                    order: order.clone(),
                    created: false,
                    event: None,
                }),
                None => Err(StoreError::NotFound),
            },
            Decision::Replay(in_batch) => {
                let (order, _) = by_slot[&((-in_batch - 1) as usize)];
                Ok(PlacedOrder {
                    order: order.clone(),
                    created: false,
                    event: None,
                })
            }
            Decision::Refuse(refusal) => Err(refusal),
        });
    }
    Ok((outcomes, generation))
}

impl Pg {
    /// Places a batch in one transaction; an answer per request, in request order.
    async fn place_batch(&self, requests: &[&OrderRequest]) -> Result<BatchOutcome, StoreError> {
        let threshold = self.stock_low_threshold();
        // Not `in_transaction`: a future that runs an async closure cannot be proven `Send` to
        // a task spawner yet. A transaction dropped before its commit is rolled back.
        let mut tx = self.noted(self.pool().begin().await, error_of)?;
        let outcome = place_in(&mut tx, requests, threshold).await?;
        self.noted(tx.commit().await, error_of)?;
        Ok(outcome)
    }

    fn queue_order(
        &self,
        request: OrderRequest,
    ) -> (oneshot::Receiver<Result<PlacedOrder, StoreError>>, bool) {
        let (reply, answer) = oneshot::channel();
        let mut queue = lock(&self.inner.order_queue);
        queue.waiting.push(QueuedOrder { request, reply });
        let start_drainer = !std::mem::replace(&mut queue.draining, true);
        (answer, start_drainer)
    }

    /// Places queued orders, batch after batch, until the queue is empty. Runs as a task of the
    /// pool's runtime: a batch's dozen round trips each wake this task, not a blocking thread.
    async fn drain_order_queue(self) {
        /// Should a batch ever panic, the next order must start a new drainer.
        struct Unwinding<'a>(&'a Pg);
        impl Drop for Unwinding<'_> {
            fn drop(&mut self) {
                if std::thread::panicking() {
                    lock(&self.0.inner.order_queue).draining = false;
                }
            }
        }
        let _unwinding = Unwinding(&self);
        loop {
            let batch: Vec<QueuedOrder> = {
                let mut queue = lock(&self.inner.order_queue);
                if queue.waiting.is_empty() {
                    queue.draining = false;
                    return;
                }
                let take = queue.waiting.len().min(MAX_BATCH);
                queue.waiting.drain(..take).collect()
            };
            let requests: Vec<&OrderRequest> = batch.iter().map(|q| &q.request).collect();
            match self.place_batch(&requests).await {
                Ok((outcomes, generation)) => {
                    if let Some(generation) = generation {
                        self.publish_generation(generation);
                    }
                    self.wake_follower();
                    for (queued, outcome) in batch.into_iter().zip(outcomes) {
                        let _ = queued.reply.send(outcome);
                    }
                }
                Err(e) => {
                    let text = e.to_string();
                    for queued in batch {
                        let _ = queued.reply.send(Err(match &e {
                            StoreError::Unavailable => StoreError::Unavailable,
                            _ => StoreError::Io(text.clone()),
                        }));
                    }
                }
            }
        }
    }
}

/// The WHERE clause of an order list: one per combination, so each is planned on its index
/// ($1 the user, $2 the status, bound either way).
fn order_filter_sql(filter: &OrderFilter) -> &'static str {
    match (filter.user.is_some(), filter.status.is_some()) {
        (true, true) => "WHERE user_id = $1 AND status = $2",
        (true, false) => "WHERE user_id = $1 AND $2::text IS NULL",
        (false, true) => "WHERE $1::bigint IS NULL AND status = $2",
        (false, false) => "WHERE $1::bigint IS NULL AND $2::text IS NULL",
    }
}

impl OrderStorage for Pg {
    /// The events reach the live hub through the follower (`follower.rs`), as those of other
    /// instances do, so `_publish` is not called.
    fn place_order(&self, request: OrderRequest, _publish: Publisher) -> Pending<PlacedOrder> {
        let (answer, start_drainer) = self.queue_order(request);
        if start_drainer {
            self.inner.runtime.spawn(self.clone().drain_order_queue());
        }
        Box::pin(async move {
            answer
                .await
                .map_err(|_| StoreError::Io("the order batch ended without an answer".into()))?
        })
    }

    fn transition_order(
        &self,
        order_id: OrderId,
        next: OrderStatus,
        now: OffsetDateTime,
        _publish: &dyn Fn(&OrderEvent),
    ) -> Result<(Order, OrderEvent), StoreError> {
        let (order, event, generation) = self.transaction(async |tx| {
            let current: Option<String> =
                sqlx::query_scalar("SELECT status FROM orders WHERE id = $1 FOR UPDATE")
                    .bind(key(order_id.get()))
                    .fetch_optional(&mut **tx)
                    .await
                    .map_err(error_of)?;
            let current = current.ok_or(StoreError::NotFound)?;
            let mut order = load_orders(tx, &[key(order_id.get())])
                .await?
                .pop()
                .ok_or(StoreError::NotFound)?;
            let previous = order
                .transition(next, now)
                .map_err(|e| StoreError::Conflict(e.to_string()))?;
            // Compare-and-set on the status read under the lock: two writers, one winner.
            let moved = sqlx::query("UPDATE orders SET status = $2, updated_at = $3 WHERE id = $1 AND status = $4")
                .bind(key(order_id.get()))
                .bind(next.as_str())
                .bind(now)
                .bind(&current)
                .execute(&mut **tx)
                .await
                .map_err(error_of)?;
            if moved.rows_affected() != 1 {
                return Err(StoreError::Conflict("the order changed meanwhile".into()));
            }
            sqlx::query("INSERT INTO order_history (order_id, step, status, at) VALUES ($1, $2, $3, $4)")
                .bind(key(order_id.get()))
                .bind(order.history.len() as i32 - 1)
                .bind(next.as_str())
                .bind(now)
                .execute(&mut **tx)
                .await
                .map_err(error_of)?;
            let mut generation = None;
            if returns_stock(next) {
                let mut products: Vec<i64> = order.items.iter().map(|i| key(i.product_id.get())).collect();
                products.sort_unstable();
                products.dedup();
                let sql = format!("SELECT {PRODUCT_COLUMNS} FROM products WHERE id = ANY($1) ORDER BY id FOR UPDATE");
                let found: Vec<PgRow> = sqlx::query(&sql).bind(&products).fetch_all(&mut **tx).await.map_err(error_of)?;
                let mut found: HashMap<ProductId, Product> = found
                    .iter()
                    .map(rows::product)
                    .map(|p| p.map(|p| (p.id, p)))
                    .collect::<Result<_, _>>()?;
                let mut touched = HashSet::new();
                for item in &order.items {
                    // A product deleted since keeps nothing to return the stock to.
                    if let Some(product) = found.get_mut(&item.product_id) {
                        restock(product, item, now);
                        touched.insert(product.id);
                    }
                }
                for id in touched {
                    super::catalog::write_product(tx, &found[&id]).await?;
                }
            }
            let entry = NewEntry::Order {
                kind: EventKind::OrderStatus,
                user_id: order.user_id,
                order_id,
                status: next,
                previous: Some(previous),
                at: now,
            };
            let event = match append(tx, vec![entry]).await?.pop() {
                Some(LogEntry::Order(event)) => event,
                _ => return Err(corrupt("an order event was not written")),
            };
            // After the log's head, as every writer takes them (products, head, generation):
            // two writers never wait on each other's rows in opposite orders.
            if returns_stock(next) {
                generation = Some(bump_generation(tx).await?);
            }
            Ok((order, event, generation))
        })?;
        if let Some(generation) = generation {
            self.publish_generation(generation);
        }
        // As for placed orders, the follower hands the event to the hub.
        self.wake_follower();
        Ok((order, event))
    }

    fn order(&self, order_id: OrderId) -> Result<Order, StoreError> {
        let pool = self.pool().clone();
        self.wait_store(async move {
            let mut connection = pool.acquire().await.map_err(error_of)?;
            load_orders(&mut connection, &[key(order_id.get())]).await
        })?
        .pop()
        .ok_or(StoreError::NotFound)
    }

    fn list_orders(
        &self,
        filter: &OrderFilter,
        offset: u64,
        limit: u64,
    ) -> Result<OrderPage, StoreError> {
        let where_clause = order_filter_sql(filter);
        let user = filter.user.map(|u| key(u.get()));
        let status = filter.status.map(|s| s.as_str());
        let pool = self.pool().clone();
        self.wait_store(async move {
            let mut connection = pool.acquire().await.map_err(error_of)?;
            let count: i64 =
                sqlx::query_scalar(&format!("SELECT count(*) FROM orders {where_clause}"))
                    .bind(user)
                    .bind(status)
                    .fetch_one(&mut *connection)
                    .await
                    .map_err(error_of)?;
            let ids: Vec<i64> = sqlx::query_scalar(&format!(
                "SELECT id FROM orders {where_clause} ORDER BY id DESC OFFSET $3 LIMIT $4"
            ))
            .bind(user)
            .bind(status)
            .bind(offset.min(i64::MAX as u64) as i64)
            .bind(limit.min(i64::MAX as u64) as i64)
            .fetch_all(&mut *connection)
            .await
            .map_err(error_of)?;
            Ok(OrderPage {
                count: count as u64,
                orders: load_orders(&mut connection, &ids).await?,
            })
        })
    }

    fn order_status_counts(&self) -> Result<Vec<(OrderStatus, u64)>, StoreError> {
        let found: Vec<(String, i64)> = self.wait(
            sqlx::query_as("SELECT status, count(*) FROM orders GROUP BY status")
                .fetch_all(self.pool()),
        )?;
        let mut counts = [0u64; 4];
        for (status, count) in found {
            let status = rows::status(&status)?;
            if let Some(slot) = OrderStatus::ALL.iter().position(|s| *s == status) {
                counts[slot] = count as u64;
            }
        }
        Ok(OrderStatus::ALL.into_iter().zip(counts).collect())
    }

    fn prune_idempotency_keys(&self, now: OffsetDateTime) -> Result<usize, StoreError> {
        let done = self.wait(
            sqlx::query("DELETE FROM idempotency_keys WHERE created_at <= $1")
                .bind(now.unix_timestamp() - IDEMPOTENCY_TTL_SECONDS)
                .execute(self.pool()),
        )?;
        Ok(done.rows_affected() as usize)
    }
}
