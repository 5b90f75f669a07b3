//! Parallel delivery, for a webhook whose admin allowed it (`parallel: true`): up to `WINDOW`
//! events of the log are in flight at once, each retried on its own schedule, so one slow or
//! failing event does not hold up the ones after it. Receivers then see events out of order.
//!
//! The durable cursor moves over the longest finished stretch of the log: after a restart the
//! events past it are sent again, the finished ones included (at least once, same `webhook-id`,
//! so receivers deduplicate them).
use std::collections::BTreeSet;

use futures_util::stream::{FuturesUnordered, StreamExt};

use super::dispatcher::{Worker, BATCH, POLL};
use super::payload::{event_message, webhook_event};
use crate::domain::event::LogEntry;
use crate::domain::ids::EventId;
use crate::domain::webhook::Webhook;
use crate::domain::webhook_delivery::{DeliveryStatus, DispatchState};
use crate::store::StoreError;

/// Events of one webhook in flight at once (all webhooks together stay within the semaphore).
const WINDOW: usize = 8;

impl Worker {
    /// Delivers until the webhook is no longer parallel (Ok) or is gone (`NotFound`). Events in
    /// flight when it returns are dropped unfinished; they are past the cursor, so whichever
    /// mode comes next sends them again.
    pub(super) async fn run_parallel(&self) -> Result<(), StoreError> {
        let mut cursor = self.store.dispatch_state(self.id)?.cursor;
        let mut read_to = cursor;
        let mut open = BTreeSet::new();
        let mut flights = FuturesUnordered::new();
        loop {
            let hook = self.store.webhook(self.id)?;
            if !hook.active {
                return Err(StoreError::NotFound);
            }
            if !hook.parallel {
                return Ok(());
            }
            'fill: while flights.len() < WINDOW {
                let entries = self.store.log_after(read_to, BATCH)?;
                if entries.is_empty() {
                    break;
                }
                for entry in entries {
                    if flights.len() >= WINDOW {
                        break 'fill;
                    }
                    read_to = entry.id();
                    if hook.draft().wants(webhook_event(&entry)) {
                        open.insert(entry.id());
                        flights.push(self.deliver_until_done(hook.clone(), entry));
                    }
                }
            }
            tokio::select! {
                Some(finished) = flights.next() => {
                    open.remove(&finished?);
                }
                _ = tokio::time::sleep(POLL) => {}
            }
            // Everything below the oldest open event is finished (or was not wanted).
            let done_to = open
                .first()
                .map(|first: &EventId| EventId::new(first.get() - 1))
                .unwrap_or(read_to);
            if done_to > cursor {
                let state = DispatchState::starting_after(done_to);
                self.store.set_dispatch_state(self.id, state)?;
                cursor = done_to;
            }
        }
    }

    /// Sends one event until it succeeds or its last attempt fails, logging every attempt.
    async fn deliver_until_done(
        &self,
        hook: Webhook,
        entry: LogEntry,
    ) -> Result<EventId, StoreError> {
        let message = event_message(self.id, &entry);
        let mut attempt = 1;
        loop {
            let outcome = self.send(&hook, &message).await;
            let (status, wait) = self.verdict(&outcome, attempt);
            let next_at = wait.map(|delay| self.clock.now() + delay);
            let delivery = self.delivery(&entry, attempt, status, outcome, next_at);
            self.store.record_delivery(&delivery, None)?;
            match (status, wait) {
                (DeliveryStatus::Pending, Some(delay)) => tokio::time::sleep(delay).await,
                _ => return Ok(entry.id()),
            }
            attempt += 1;
        }
    }
}
