//! Orders are placed in batches: a request joins the queue, and one drainer at a time places
//! everything queued at that moment in one transaction, then the next batch, until the queue is
//! empty. sled pays a fixed cost per transaction (two log-buffer writes and its global write
//! lock), so under load one transaction serves many orders; a lone request places just its own.
//! The first request to find no drainer at work starts one (on a blocking thread); the others
//! only wait for their answer.
use tokio::sync::oneshot;

use super::orders::{BatchOutcome, OrderRequest};
use super::storage::StorageOperations;
use super::{lock, PlacedOrder, Store, StoreError};
use crate::domain::event::OrderEvent;

/// Hands an order's event to the live hub; called in event-id order, before the log is released.
pub type Publisher = Box<dyn FnOnce(&OrderEvent) + Send>;

/// Bounds the work (and the transaction's write set) of one batch.
const MAX_BATCH: usize = 128;

pub(super) struct QueuedOrder {
    request: OrderRequest,
    publish: Publisher,
    reply: oneshot::Sender<Result<PlacedOrder, StoreError>>,
}

#[derive(Default)]
pub(super) struct OrderQueue {
    waiting: Vec<QueuedOrder>,
    /// A drainer is at work and will see anything queued before it finds the queue empty.
    draining: bool,
}

/// A queued order: its answer, and whether the caller must start the drainer.
pub(super) struct Queued {
    pub answer: oneshot::Receiver<Result<PlacedOrder, StoreError>>,
    pub start_drainer: bool,
}

impl Store {
    /// Places an order (with whatever others are queued at that moment) and answers once it is
    /// placed and on disk, or refused. `publish` hands its event to the live hub in id order.
    pub(super) async fn place_in_batch(
        &self,
        request: OrderRequest,
        publish: Publisher,
    ) -> Result<PlacedOrder, StoreError> {
        let queued = self.queue_order(request, publish);
        if queued.start_drainer {
            // Not awaited: under load the drainer goes on placing others' orders after ours.
            let store = self.clone();
            tokio::task::spawn_blocking(move || store.drain_order_queue());
        }
        let placed = queued
            .answer
            .await
            .map_err(|_| StoreError::Io("the order batch ended without an answer".into()))??;
        self.durable().await?;
        Ok(placed)
    }

    /// Queues an order. When `start_drainer` is set, the caller must run `drain_order_queue`
    /// (on a thread that may block); the answer arrives once the order is placed or refused.
    pub(super) fn queue_order(&self, request: OrderRequest, publish: Publisher) -> Queued {
        let (reply, answer) = oneshot::channel();
        let mut queue = lock(&self.inner.order_queue);
        queue.waiting.push(QueuedOrder {
            request,
            publish,
            reply,
        });
        // Checked and set under the queue lock, as the drainer clears it: no order is missed.
        let start_drainer = !std::mem::replace(&mut queue.draining, true);
        Queued {
            answer,
            start_drainer,
        }
    }

    /// Places queued orders, batch after batch, until the queue is empty.
    pub(super) fn drain_order_queue(&self) {
        /// Should a batch ever panic, the next order must start a new drainer, not wait forever.
        struct Unwinding<'a>(&'a Store);
        impl Drop for Unwinding<'_> {
            fn drop(&mut self) {
                if std::thread::panicking() {
                    lock(&self.0.inner.order_queue).draining = false;
                }
            }
        }
        let _unwinding = Unwinding(self);
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
            self.place_batch(batch);
        }
    }

    fn place_batch(&self, batch: Vec<QueuedOrder>) {
        let _writing = self.writing();
        let _catalog = lock(&self.inner.catalog_write);
        let _log = lock(&self.inner.event_log);
        let requests: Vec<&OrderRequest> = batch.iter().map(|q| &q.request).collect();
        match self.place_orders_locked(&requests) {
            Ok(BatchOutcome {
                outcomes,
                touched,
                generation,
            }) => {
                self.apply_stock_to_index(&touched, generation);
                for (queued, outcome) in batch.into_iter().zip(outcomes) {
                    if let Some(event) = outcome.as_ref().ok().and_then(|p| p.event.as_ref()) {
                        (queued.publish)(event);
                    }
                    let _ = queued.reply.send(outcome);
                }
            }
            Err(e) => {
                let text = e.to_string();
                for queued in batch {
                    let _ = queued.reply.send(Err(StoreError::Io(text.clone())));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::cart::Quantity;
    use crate::domain::catalog::{CategoryDraft, ProductDraft};
    use crate::domain::ids::UserId;
    use crate::domain::money::Money;
    use crate::store::prelude::*;
    use std::sync::{Arc, Mutex};
    use time::OffsetDateTime;

    fn request(user: u64, key: Option<&str>) -> OrderRequest {
        OrderRequest {
            user: UserId::new(user),
            idempotency: key.map(str::to_owned),
            now: OffsetDateTime::now_utc(),
        }
    }

    /// One batch with a mix of good and refused orders: each is all-or-nothing on its own, later
    /// orders see the stock earlier ones took, and events are handed over in id order.
    #[test]
    fn a_batch_places_each_order_on_its_own() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let category = store
            .create_category(CategoryDraft {
                name: "Tools".into(),
                description: String::new(),
            })
            .unwrap();
        let product = store
            .create_product(
                ProductDraft {
                    name: "Saw".into(),
                    description: String::new(),
                    price: Money::from_cents(1250),
                    stock: 3,
                    category_id: category.id,
                },
                OffsetDateTime::now_utc(),
            )
            .unwrap();
        let want = |user: u64, quantity: i64| {
            store
                .update_cart(UserId::new(user), &|cart| {
                    Ok(cart.add(product.id, Quantity::parse(quantity).unwrap())?)
                })
                .unwrap();
        };
        want(1, 2);
        want(3, 2);
        want(4, 1);
        let published = Arc::new(Mutex::new(Vec::new()));
        let answers: Vec<_> = [
            request(1, Some("k")),
            request(2, None),      // empty cart
            request(3, None),      // wants 2, only 1 left after user 1
            request(4, None),      // takes the last one
            request(1, Some("k")), // a retry of the first, in the same batch
        ]
        .into_iter()
        .map(|r| {
            let published = published.clone();
            store.queue_order(
                r,
                Box::new(move |e| published.lock().unwrap().push(e.id.get())),
            )
        })
        .collect();
        let starters: Vec<bool> = answers.iter().map(|q| q.start_drainer).collect();
        assert_eq!(starters, [true, false, false, false, false]);
        store.drain_order_queue();
        let outcomes: Vec<_> = answers
            .into_iter()
            .map(|mut q| q.answer.try_recv().expect("answered by the one drain"))
            .collect();
        // The drainer stopped with the queue empty: the next order starts a new one.
        let next = store.queue_order(request(2, None), Box::new(|_| {}));
        assert!(next.start_drainer);
        store.drain_order_queue();
        let first = outcomes[0].as_ref().unwrap();
        assert!(first.created);
        assert!(matches!(outcomes[1], Err(StoreError::EmptyCart)));
        match &outcomes[2] {
            Err(StoreError::InsufficientStock(short)) => assert_eq!(short[0].available, 1),
            other => panic!("{other:?}"),
        }
        let fourth = outcomes[3].as_ref().unwrap();
        let retry = outcomes[4].as_ref().unwrap();
        assert!(!retry.created);
        assert_eq!(retry.order.id, first.order.id);
        assert_eq!(fourth.order.id.get(), first.order.id.get() + 1);
        assert_eq!(store.product(product.id).unwrap().stock, 0);
        // The refused order's cart is untouched; the placed ones are emptied.
        assert_eq!(store.cart(UserId::new(3)).unwrap().lines.len(), 1);
        assert!(store.cart(UserId::new(1)).unwrap().is_empty());
        let published = published.lock().unwrap().clone();
        assert_eq!(published.len(), 2);
        assert!(published[0] < published[1]);
    }
}
