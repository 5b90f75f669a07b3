//! Webhooks, each with its dispatch cursor, and the log of delivery attempts.
//! A webhook, its cursor and its deliveries change together in one transaction, so a restart
//! (or kill -9) resumes exactly where the last recorded attempt left it.
use sled::transaction::{ConflictableTransactionError as Abortable, Transactional};
use time::OffsetDateTime;

use super::storage::{EventStorage, WebhookStorage};
use super::{codec, next_id, Store, StoreError};
use crate::domain::ids::{DeliveryId, WebhookId};
use crate::domain::webhook::{Webhook, WebhookDraft, WebhookSecret};
use crate::domain::webhook_delivery::{Delivery, DispatchState};

/// A page of a webhook's deliveries, newest first.
#[derive(Debug, Clone)]
pub struct DeliveryPage {
    pub count: u64,
    pub deliveries: Vec<Delivery>,
}

impl WebhookStorage for Store {
    fn create_webhook(
        &self,
        draft: WebhookDraft,
        secret: WebhookSecret,
        created_at: OffsetDateTime,
    ) -> Result<Webhook, StoreError> {
        let _writing = self.writing();
        let engine = self.engine()?;
        let t = &engine.trees;
        let start = DispatchState::starting_after(self.last_event_id()?);
        let hook =
            (&t.meta, &t.webhooks, &t.webhook_state).transaction(|(meta, hooks, state)| {
                let id = WebhookId::new(next_id(meta, "webhook")?);
                let hook = Webhook {
                    id,
                    url: draft.url.clone(),
                    events: draft.events.clone(),
                    active: draft.active,
                    description: draft.description.clone(),
                    parallel: draft.parallel,
                    secret: secret.clone(),
                    created_at,
                };
                hooks.insert(&id.to_key(), codec::encode(&hook))?;
                state.insert(&id.to_key(), codec::encode(&start))?;
                Ok(hook)
            })?;
        Ok(hook)
    }

    fn webhooks(&self) -> Result<Vec<Webhook>, StoreError> {
        let mut out = Vec::new();
        for entry in self.engine()?.trees.webhooks.iter() {
            out.push(codec::decode(&entry?.1)?);
        }
        Ok(out)
    }

    fn webhook(&self, id: WebhookId) -> Result<Webhook, StoreError> {
        let raw = self.engine()?.trees.webhooks.get(id.to_key())?;
        codec::decode(&raw.ok_or(StoreError::NotFound)?)
    }

    fn update_webhook(
        &self,
        id: WebhookId,
        change: &dyn Fn(&mut Webhook),
    ) -> Result<Webhook, StoreError> {
        let _writing = self.writing();
        let engine = self.engine()?;
        let hooks = &engine.trees.webhooks;
        let hook = hooks.transaction(|hooks| {
            let raw = hooks
                .get(id.to_key())?
                .ok_or(Abortable::Abort(StoreError::NotFound))?;
            let mut hook: Webhook = codec::decode(&raw).map_err(Abortable::Abort)?;
            change(&mut hook);
            hooks.insert(&id.to_key(), codec::encode(&hook))?;
            Ok(hook)
        })?;
        Ok(hook)
    }

    fn delete_webhook(&self, id: WebhookId) -> Result<(), StoreError> {
        let _writing = self.writing();
        let engine = self.engine()?;
        let t = &engine.trees;
        (&t.webhooks, &t.webhook_state).transaction(|(hooks, state)| {
            hooks
                .remove(&id.to_key())?
                .ok_or(Abortable::Abort(StoreError::NotFound))?;
            state.remove(&id.to_key())?;
            Ok(())
        })?;
        let mut batch = sled::Batch::default();
        let (from, to) = (
            codec::pair_key(id.get(), 0),
            codec::pair_key(id.get(), u64::MAX),
        );
        for entry in t.webhook_deliveries.range(from..=to) {
            batch.remove(entry?.0);
        }
        t.webhook_deliveries.apply_batch(batch)?;
        Ok(())
    }

    fn dispatch_state(&self, id: WebhookId) -> Result<DispatchState, StoreError> {
        let raw = self.engine()?.trees.webhook_state.get(id.to_key())?;
        codec::decode(&raw.ok_or(StoreError::NotFound)?)
    }

    fn record_delivery(
        &self,
        delivery: &Delivery,
        next_state: Option<DispatchState>,
    ) -> Result<Delivery, StoreError> {
        let _writing = self.writing();
        let engine = self.engine()?;
        let t = &engine.trees;
        let key = delivery.webhook_id.to_key();
        let stored = (
            &t.meta,
            &t.webhooks,
            &t.webhook_state,
            &t.webhook_deliveries,
        )
            .transaction(|(meta, hooks, state, deliveries)| {
                if hooks.get(key)?.is_none() {
                    return Err(Abortable::Abort(StoreError::NotFound));
                }
                let mut stored = delivery.clone();
                stored.id = DeliveryId::new(next_id(meta, "delivery")?);
                let log_key = codec::pair_key(stored.webhook_id.get(), stored.id.get());
                deliveries.insert(&log_key, codec::encode(&stored))?;
                if let Some(next) = next_state {
                    state.insert(&key, codec::encode(&next))?;
                }
                Ok(stored)
            })?;
        Ok(stored)
    }

    fn set_dispatch_state(&self, id: WebhookId, next: DispatchState) -> Result<(), StoreError> {
        let _writing = self.writing();
        let engine = self.engine()?;
        let t = &engine.trees;
        (&t.webhooks, &t.webhook_state).transaction(|(hooks, state)| {
            if hooks.get(id.to_key())?.is_none() {
                return Err(Abortable::Abort(StoreError::NotFound));
            }
            state.insert(&id.to_key(), codec::encode(&next))?;
            Ok(())
        })?;
        Ok(())
    }

    fn delivery(&self, hook: WebhookId, id: DeliveryId) -> Result<Delivery, StoreError> {
        let key = codec::pair_key(hook.get(), id.get());
        let raw = self.engine()?.trees.webhook_deliveries.get(key)?;
        codec::decode(&raw.ok_or(StoreError::NotFound)?)
    }

    fn prune_deliveries(&self, keep: usize) -> Result<usize, StoreError> {
        let webhooks = self.webhooks()?;
        let _writing = self.writing();
        let engine = self.engine()?;
        let tree = &engine.trees.webhook_deliveries;
        let mut batch = sled::Batch::default();
        let mut removed = 0;
        for hook in webhooks {
            let (from, to) = (
                codec::pair_key(hook.id.get(), 0),
                codec::pair_key(hook.id.get(), u64::MAX),
            );
            for entry in tree.range(from..=to).rev().skip(keep) {
                batch.remove(entry?.0);
                removed += 1;
            }
        }
        tree.apply_batch(batch)?;
        Ok(removed)
    }

    fn deliveries(
        &self,
        id: WebhookId,
        offset: u64,
        limit: u64,
    ) -> Result<DeliveryPage, StoreError> {
        let engine = self.engine()?;
        let tree = &engine.trees.webhook_deliveries;
        let (from, to) = (
            codec::pair_key(id.get(), 0),
            codec::pair_key(id.get(), u64::MAX),
        );
        let mut count = 0u64;
        let mut deliveries = Vec::new();
        for entry in tree.range(from..=to).rev() {
            let (_, raw) = entry?;
            if count >= offset && (deliveries.len() as u64) < limit {
                deliveries.push(codec::decode(&raw)?);
            }
            count += 1;
        }
        Ok(DeliveryPage { count, deliveries })
    }
}

#[cfg(test)]
mod tests {

    use super::*;
    use crate::domain::ids::EventId;
    use crate::domain::webhook::{WebhookEvent, WebhookUrl};
    use crate::domain::webhook_delivery::DeliveryStatus;

    fn hook(store: &Store) -> Webhook {
        let draft = WebhookDraft {
            url: WebhookUrl::parse("https://hooks.example.com/", false).unwrap(),
            events: vec![WebhookEvent::OrderStatus],
            active: true,
            description: String::new(),
            parallel: false,
        };
        let secret = WebhookSecret::from_key(&[7; 32]);
        store
            .create_webhook(draft, secret, OffsetDateTime::UNIX_EPOCH)
            .unwrap()
    }

    fn attempt(hook: WebhookId, n: u32) -> Delivery {
        Delivery {
            id: DeliveryId::new(0),
            webhook_id: hook,
            event_id: Some(EventId::new(1)),
            kind: WebhookEvent::OrderStatus,
            attempt: n,
            status: DeliveryStatus::Pending,
            response_code: Some(500),
            error: None,
            duration_ms: 1,
            next_attempt_at: None,
            created_at: OffsetDateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn an_attempt_and_its_cursor_move_are_written_together_and_pruned_oldest_first() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let hook = hook(&store);
        assert_eq!(
            store.dispatch_state(hook.id).unwrap().cursor,
            EventId::new(0)
        );
        for n in 1..=5 {
            let moved = DispatchState::starting_after(EventId::new(n.into()));
            store
                .record_delivery(&attempt(hook.id, n), Some(moved))
                .unwrap();
        }
        assert_eq!(
            store.dispatch_state(hook.id).unwrap().cursor,
            EventId::new(5)
        );
        assert_eq!(store.prune_deliveries(2).unwrap(), 3);
        let page = store.deliveries(hook.id, 0, 10).unwrap();
        let attempts: Vec<u32> = page.deliveries.iter().map(|d| d.attempt).collect();
        assert_eq!((page.count, attempts), (2, vec![5, 4]));

        store.delete_webhook(hook.id).unwrap();
        let late = store.record_delivery(&attempt(hook.id, 6), None);
        assert!(
            matches!(late, Err(StoreError::NotFound)),
            "nothing written for a deleted webhook"
        );
        assert_eq!(store.deliveries(hook.id, 0, 10).unwrap().count, 0);
    }
}
