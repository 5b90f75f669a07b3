//! Orders: placed from the cart, each all-or-nothing (stock, order, cart, event, idempotency key),
//! in batches of one transaction each (see `order_queue`), and moved through their statuses
//! with the event written alongside.
use serde::{Deserialize, Serialize};
use sled::transaction::{ConflictableTransactionError as Abortable, TransactionalTree};
use sled::Transactional;
use time::OffsetDateTime;

use super::catalog::{get_product, put_product};
use super::events::{append_event, append_stock_low, EventDraft};
use super::storage::{OrderStorage, Pending};
use super::Publisher;
use super::{bump_generation, codec, lock, next_id, Store, StoreError};
use crate::domain::cart::Cart;
use crate::domain::event::{stock_became_low, EventKind, OrderEvent};
use crate::domain::ids::{OrderId, ProductId, UserId};
use crate::domain::order::{Order, OrderStatus};
use crate::domain::placement::{restock, returns_stock, take_from_stock, Refusal, TakenProduct};

/// How long an idempotency key keeps returning its order.
pub const IDEMPOTENCY_TTL_SECONDS: i64 = 24 * 3600;

#[derive(Debug, Clone)]
pub struct PlacedOrder {
    pub order: Order,
    /// False when an idempotent retry returned an order placed before.
    pub created: bool,
    pub event: Option<OrderEvent>,
}

#[derive(Debug, Clone, Default)]
pub struct OrderFilter {
    /// None lists every user's orders (admins).
    pub user: Option<UserId>,
    pub status: Option<OrderStatus>,
}

#[derive(Debug, Clone)]
pub struct OrderPage {
    pub count: u64,
    pub orders: Vec<Order>,
}

#[derive(Serialize, Deserialize)]
struct IdempotencyRecord {
    order_id: OrderId,
    fingerprint: String,
    created_at: i64,
}

fn idempotency_key(user: UserId, key: &str) -> Vec<u8> {
    let mut out = user.to_key().to_vec();
    out.extend_from_slice(key.as_bytes());
    out
}

/// One order to place from a user's cart.
#[derive(Debug, Clone)]
pub struct OrderRequest {
    pub user: UserId,
    pub idempotency: Option<String>,
    pub now: OffsetDateTime,
}

/// Stock levels an order batch changed, to mirror into the catalog index.
pub(super) type Touched = Vec<(ProductId, u32)>;

/// What a batch transaction decided: an outcome per request, in request order.
pub(super) struct BatchOutcome {
    pub outcomes: Vec<Result<PlacedOrder, StoreError>>,
    pub touched: Touched,
    pub generation: Option<u64>,
}

/// The trees an order placement writes, inside one transaction.
struct OrderTx<'a> {
    meta: &'a TransactionalTree,
    products: &'a TransactionalTree,
    rows: &'a TransactionalTree,
    carts: &'a TransactionalTree,
    orders: &'a TransactionalTree,
    user_orders: &'a TransactionalTree,
    events: &'a TransactionalTree,
    user_events: &'a TransactionalTree,
    keys: &'a TransactionalTree,
    /// See `Store::set_stock_low_threshold`.
    stock_low_threshold: u32,
}

impl OrderTx<'_> {
    /// Places one order. A refusal (`Abort`) happens before anything is written, so the batch
    /// can go on without it; reads see the writes of the orders placed before it in the batch.
    fn place(
        &self,
        request: &OrderRequest,
        touched: &mut Touched,
    ) -> Result<PlacedOrder, Abortable<StoreError>> {
        let (user, now) = (request.user, request.now);
        let cart: Cart = match self.carts.get(user.to_key())? {
            Some(raw) => codec::decode(&raw).map_err(Abortable::Abort)?,
            None => Cart::default(),
        };
        let key = request
            .idempotency
            .as_deref()
            .map(|k| idempotency_key(user, k));
        if let Some(key) = &key {
            if let Some(earlier) = self.replay(key, &cart, now)? {
                return Ok(earlier);
            }
        }
        let mut found = Vec::with_capacity(cart.lines.len());
        for line in &cart.lines {
            found.push(get_product(self.products, line.product_id)?);
        }
        let taken = take_from_stock(&cart, found, now).map_err(|refusal| {
            Abortable::Abort(match refusal {
                Refusal::EmptyCart => StoreError::EmptyCart,
                Refusal::Short(shortages) => StoreError::InsufficientStock(shortages),
            })
        })?;
        // Everything is checked: from here on nothing refuses.
        let mut became_low = Vec::new();
        for TakenProduct {
            product,
            stock_before,
        } in &taken.products
        {
            if stock_became_low(*stock_before, product.stock, self.stock_low_threshold) {
                became_low.push((product.id, product.name.clone(), product.stock));
            }
            put_product(self.products, self.rows, product)?;
            touched.push((product.id, product.stock));
        }
        let id = OrderId::new(next_id(self.meta, "order")?);
        let order = Order::placed(id, user, taken.items, now);
        self.orders.insert(&id.to_key(), codec::encode(&order))?;
        self.user_orders
            .insert(&codec::pair_key(user.get(), id.get()), &[])?;
        self.carts.remove(&user.to_key())?;
        if let Some(key) = &key {
            let record = IdempotencyRecord {
                order_id: id,
                fingerprint: cart.fingerprint(),
                created_at: now.unix_timestamp(),
            };
            self.keys.insert(key.as_slice(), codec::encode(&record))?;
        }
        let draft = EventDraft {
            kind: EventKind::OrderCreated,
            user_id: user,
            order_id: id,
            status: OrderStatus::Pending,
            previous: None,
            at: now,
        };
        let event = append_event(self.meta, self.events, self.user_events, &draft)?;
        // After the order's own event: the order is what brought the stock down.
        for (product, name, stock) in became_low {
            let threshold = self.stock_low_threshold;
            append_stock_low(
                self.meta,
                self.events,
                (product, &name),
                stock,
                threshold,
                now,
            )?;
        }
        Ok(PlacedOrder {
            order,
            created: true,
            event: Some(event),
        })
    }

    /// The order an earlier request with this key placed, if the key is still fresh.
    fn replay(
        &self,
        key: &[u8],
        cart: &Cart,
        now: OffsetDateTime,
    ) -> Result<Option<PlacedOrder>, Abortable<StoreError>> {
        let Some(raw) = self.keys.get(key)? else {
            return Ok(None);
        };
        let record: IdempotencyRecord = codec::decode(&raw).map_err(Abortable::Abort)?;
        if now.unix_timestamp() - record.created_at >= IDEMPOTENCY_TTL_SECONDS {
            return Ok(None);
        }
        if !cart.is_empty() && cart.fingerprint() != record.fingerprint {
            return Err(Abortable::Abort(StoreError::IdempotencyMismatch));
        }
        let raw = self
            .orders
            .get(record.order_id.to_key())?
            .ok_or(Abortable::Abort(StoreError::NotFound))?;
        Ok(Some(PlacedOrder {
            order: codec::decode(&raw).map_err(Abortable::Abort)?,
            created: false,
            event: None,
        }))
    }
}

impl Store {
    /// Places a batch of orders in ONE transaction (the caller holds the catalog and event-log
    /// locks). Each order is all-or-nothing on its own: a refused one (empty cart, short stock,
    /// idempotency mismatch) writes nothing and the others still commit. A storage failure fails
    /// the whole batch.
    pub(super) fn place_orders_locked(
        &self,
        requests: &[&OrderRequest],
    ) -> Result<BatchOutcome, StoreError> {
        let engine = self.engine()?;
        let t = &engine.trees;
        let trees = (
            &t.meta,
            &t.products,
            &t.catalog_rows,
            &t.carts,
            &t.orders,
            &t.user_orders,
            &t.events,
            &t.user_events,
            &t.idempotency,
        );
        let result = trees.transaction(
            |(meta, products, rows, carts, orders, user_orders, events, user_events, keys)| {
                let tx = OrderTx {
                    meta,
                    products,
                    rows,
                    carts,
                    orders,
                    user_orders,
                    events,
                    user_events,
                    keys,
                    stock_low_threshold: self.stock_low_threshold(),
                };
                let mut touched = Vec::new();
                let mut outcomes = Vec::with_capacity(requests.len());
                for request in requests {
                    outcomes.push(match tx.place(request, &mut touched) {
                        Ok(placed) => Ok(placed),
                        Err(Abortable::Abort(refused)) => Err(refused),
                        Err(Abortable::Conflict) => return Err(Abortable::Conflict),
                        Err(Abortable::Storage(e)) => return Err(Abortable::Storage(e)),
                    });
                }
                let created = outcomes.iter().any(|o| o.as_ref().is_ok_and(|p| p.created));
                let generation = if created {
                    Some(bump_generation(meta)?)
                } else {
                    None
                };
                Ok(BatchOutcome {
                    outcomes,
                    touched,
                    generation,
                })
            },
        );
        Ok(result?)
    }

    pub(super) fn apply_stock_to_index(
        &self,
        touched: &[(ProductId, u32)],
        generation: Option<u64>,
    ) {
        for (product, stock) in touched {
            self.inner.catalog.set_stock(*product, *stock);
        }
        if let Some(generation) = generation {
            self.publish_generation(generation);
        }
    }
}

impl OrderStorage for Store {
    fn place_order(&self, request: OrderRequest, publish: Publisher) -> Pending<PlacedOrder> {
        let store = self.clone();
        Box::pin(async move { store.place_in_batch(request, publish).await })
    }

    fn transition_order(
        &self,
        id: OrderId,
        next: OrderStatus,
        now: OffsetDateTime,
        publish: &dyn Fn(&OrderEvent),
    ) -> Result<(Order, OrderEvent), StoreError> {
        let _writing = self.writing();
        let engine = self.engine()?;
        let t = &engine.trees;
        let _catalog = lock(&self.inner.catalog_write);
        let _log = lock(&self.inner.event_log);
        let trees = (
            &t.meta,
            &t.products,
            &t.catalog_rows,
            &t.orders,
            &t.events,
            &t.user_events,
        );
        let result = trees.transaction(|(meta, products, rows, orders, events, user_events)| {
            let raw = orders
                .get(id.to_key())?
                .ok_or(Abortable::Abort(StoreError::NotFound))?;
            let mut order: Order = codec::decode(&raw).map_err(Abortable::Abort)?;
            let previous = order
                .transition(next, now)
                .map_err(|e| Abortable::Abort(StoreError::Conflict(e.to_string())))?;
            let mut touched = Vec::new();
            let mut generation = None;
            if returns_stock(next) {
                for item in &order.items {
                    // A product deleted since keeps nothing to return the stock to.
                    if let Some(mut product) = get_product(products, item.product_id)? {
                        restock(&mut product, item, now);
                        put_product(products, rows, &product)?;
                        touched.push((product.id, product.stock));
                    }
                }
                generation = Some(bump_generation(meta)?);
            }
            orders.insert(&id.to_key(), codec::encode(&order))?;
            let draft = EventDraft {
                kind: EventKind::OrderStatus,
                user_id: order.user_id,
                order_id: id,
                status: next,
                previous: Some(previous),
                at: now,
            };
            let event = append_event(meta, events, user_events, &draft)?;
            Ok((order, event, touched, generation))
        });
        let (order, event, touched, generation) = result?;
        self.apply_stock_to_index(&touched, generation);
        publish(&event);
        Ok((order, event))
    }

    fn order(&self, id: OrderId) -> Result<Order, StoreError> {
        let raw = self
            .engine()?
            .trees
            .orders
            .get(id.to_key())?
            .ok_or(StoreError::NotFound)?;
        codec::decode(&raw)
    }

    fn list_orders(
        &self,
        filter: &OrderFilter,
        offset: u64,
        limit: u64,
    ) -> Result<OrderPage, StoreError> {
        let engine = self.engine()?;
        let t = &engine.trees;
        let ids: Box<dyn Iterator<Item = Result<OrderId, StoreError>>> = match filter.user {
            Some(user) => {
                let range = codec::pair_key(user.get(), 0)..=codec::pair_key(user.get(), u64::MAX);
                Box::new(t.user_orders.range(range).rev().map(|e| {
                    let (key, _) = e?;
                    Ok(OrderId::new(codec::second_of_pair(&key).unwrap_or(0)))
                }))
            }
            None => Box::new(t.orders.iter().rev().map(|e| {
                let (key, _) = e?;
                OrderId::from_key(&key).ok_or_else(|| StoreError::Corrupt("order key".into()))
            })),
        };
        let mut count = 0u64;
        let mut orders = Vec::new();
        for id in ids {
            let id = id?;
            let wanted_page = count >= offset && (orders.len() as u64) < limit;
            if filter.status.is_none() && !wanted_page {
                count += 1;
                continue;
            }
            let order = self.order(id)?;
            if filter.status.is_some_and(|s| s != order.status) {
                continue;
            }
            if wanted_page {
                orders.push(order);
            }
            count += 1;
        }
        Ok(OrderPage { count, orders })
    }

    fn order_status_counts(&self) -> Result<Vec<(OrderStatus, u64)>, StoreError> {
        #[derive(Deserialize)]
        struct StatusOnly {
            status: OrderStatus,
        }
        let mut counts = [0u64; 4];
        for entry in self.engine()?.trees.orders.iter() {
            let (_, raw) = entry?;
            let order: StatusOnly = codec::decode(&raw)?;
            if let Some(slot) = OrderStatus::ALL.iter().position(|s| *s == order.status) {
                counts[slot] += 1;
            }
        }
        Ok(OrderStatus::ALL.into_iter().zip(counts).collect())
    }

    fn prune_idempotency_keys(&self, now: OffsetDateTime) -> Result<usize, StoreError> {
        let mut removed = 0;
        for entry in self.engine()?.trees.idempotency.iter() {
            let (key, raw) = entry?;
            let record: IdempotencyRecord = codec::decode(&raw)?;
            if now.unix_timestamp() - record.created_at >= IDEMPOTENCY_TTL_SECONDS {
                let _writing = self.writing();
                self.engine()?.trees.idempotency.remove(key)?;
                removed += 1;
            }
        }
        Ok(removed)
    }
}
