//! The durable event log (the outbox): appended in the same transaction as the change it
//! records, indexed per user, with read flags beside it for the notifications list.
use sled::transaction::{TransactionalTree, UnabortableTransactionError};

use super::storage::EventStorage;
use super::{codec, next_id, Store, StoreError};
use crate::domain::event::{EventKind, LogEntry, OrderEvent, StockLowEvent};
use crate::domain::ids::{EventId, OrderId, ProductId, UserId};
use crate::domain::order::OrderStatus;
use time::OffsetDateTime;

#[derive(Debug, Clone)]
pub struct EventPage {
    pub count: u64,
    /// Newest first, each with its read flag.
    pub events: Vec<(OrderEvent, bool)>,
}

pub(super) struct EventDraft {
    pub kind: EventKind,
    pub user_id: UserId,
    pub order_id: OrderId,
    pub status: OrderStatus,
    pub previous: Option<OrderStatus>,
    pub at: OffsetDateTime,
}

pub(super) fn append_event(
    meta: &TransactionalTree,
    events: &TransactionalTree,
    user_events: &TransactionalTree,
    draft: &EventDraft,
) -> Result<OrderEvent, UnabortableTransactionError> {
    let id = EventId::new(next_id(meta, "event")?);
    let event = OrderEvent {
        id,
        kind: draft.kind,
        user_id: draft.user_id,
        order_id: draft.order_id,
        status: draft.status,
        previous: draft.previous,
        at: draft.at,
    };
    events.insert(&id.to_key(), codec::encode(&event))?;
    // A shopper's stream (and notification list) is the status of their orders; creation is
    // news for admins, who read the whole log.
    if draft.kind == EventKind::OrderStatus {
        user_events.insert(&codec::pair_key(draft.user_id.get(), id.get()), &[])?;
    }
    Ok(event)
}

/// Appends a `product.stock_low` entry (inside the transaction that lowered the stock).
pub(super) fn append_stock_low(
    meta: &TransactionalTree,
    events: &TransactionalTree,
    product: (ProductId, &str),
    stock: u32,
    threshold: u32,
    at: OffsetDateTime,
) -> Result<(), UnabortableTransactionError> {
    let id = EventId::new(next_id(meta, "event")?);
    let entry = LogEntry::StockLow(StockLowEvent {
        id,
        product_id: product.0,
        name: product.1.to_owned(),
        stock,
        threshold,
        at,
    });
    events.insert(&id.to_key(), codec::encode(&entry))?;
    Ok(())
}

impl Store {
    /// One order event of the log (a stock event is `NotFound` here).
    pub fn event(&self, id: EventId) -> Result<OrderEvent, StoreError> {
        match self.log_entry(id)? {
            LogEntry::Order(event) => Ok(event),
            LogEntry::StockLow(_) => Err(StoreError::NotFound),
        }
    }
}

impl EventStorage for Store {
    fn log_after(&self, after: EventId, limit: usize) -> Result<Vec<LogEntry>, StoreError> {
        let from = after.get().saturating_add(1).to_be_bytes();
        let mut out = Vec::new();
        for entry in self.engine()?.trees.events.range(from..).take(limit) {
            let (_, raw) = entry?;
            out.push(codec::decode(&raw)?);
        }
        Ok(out)
    }

    fn log_entry(&self, id: EventId) -> Result<LogEntry, StoreError> {
        let raw = self.engine()?.trees.events.get(id.to_key())?;
        codec::decode(&raw.ok_or(StoreError::NotFound)?)
    }

    fn user_events_after(
        &self,
        user: UserId,
        after: EventId,
        limit: usize,
    ) -> Result<Vec<OrderEvent>, StoreError> {
        let engine = self.engine()?;
        let t = &engine.trees;
        let from = codec::pair_key(user.get(), after.get().saturating_add(1));
        let to = codec::pair_key(user.get(), u64::MAX);
        let mut out = Vec::new();
        for entry in t.user_events.range(from..=to).take(limit) {
            let (key, _) = entry?;
            let id = codec::second_of_pair(&key)
                .ok_or_else(|| StoreError::Corrupt("user event key".into()))?;
            if let Some(raw) = t.events.get(id.to_be_bytes())? {
                out.push(codec::decode(&raw)?);
            }
        }
        Ok(out)
    }

    fn all_events_after(
        &self,
        after: EventId,
        limit: usize,
    ) -> Result<Vec<OrderEvent>, StoreError> {
        let from = after.get().saturating_add(1).to_be_bytes();
        let mut out = Vec::new();
        for entry in self.engine()?.trees.events.range(from..) {
            if out.len() >= limit {
                break;
            }
            let (_, raw) = entry?;
            if let LogEntry::Order(event) = codec::decode(&raw)? {
                out.push(event);
            }
        }
        Ok(out)
    }

    fn last_event_id(&self) -> Result<EventId, StoreError> {
        let last = self.engine()?.trees.events.last()?;
        Ok(EventId::new(
            last.and_then(|(k, _)| EventId::from_key(&k))
                .map(|e| e.get())
                .unwrap_or(0),
        ))
    }

    fn notifications(
        &self,
        user: UserId,
        unread_only: bool,
        offset: u64,
        limit: u64,
    ) -> Result<EventPage, StoreError> {
        let engine = self.engine()?;
        let t = &engine.trees;
        let from = codec::pair_key(user.get(), 0);
        let to = codec::pair_key(user.get(), u64::MAX);
        let mut count = 0u64;
        let mut events = Vec::new();
        for entry in t.user_events.range(from..=to).rev() {
            let (key, _) = entry?;
            let read = t.read_events.contains_key(&key)?;
            if unread_only && read {
                continue;
            }
            if count >= offset && (events.len() as u64) < limit {
                let id = codec::second_of_pair(&key).unwrap_or(0);
                if let Some(raw) = t.events.get(id.to_be_bytes())? {
                    events.push((codec::decode(&raw)?, read));
                }
            }
            count += 1;
        }
        Ok(EventPage { count, events })
    }

    fn mark_read(&self, user: UserId, event: EventId) -> Result<(), StoreError> {
        let _writing = self.writing();
        let key = codec::pair_key(user.get(), event.get());
        if !self.engine()?.trees.user_events.contains_key(key)? {
            return Err(StoreError::NotFound);
        }
        self.engine()?.trees.read_events.insert(key, &[])?;
        Ok(())
    }

    fn mark_all_read(&self, user: UserId) -> Result<(), StoreError> {
        let _writing = self.writing();
        let engine = self.engine()?;
        let t = &engine.trees;
        let mut batch = sled::Batch::default();
        let from = codec::pair_key(user.get(), 0);
        let to = codec::pair_key(user.get(), u64::MAX);
        for entry in t.user_events.range(from..=to) {
            let (key, _) = entry?;
            batch.insert(key, &[]);
        }
        t.read_events.apply_batch(batch)?;
        Ok(())
    }
}
