//! Delivers the event log to webhooks from a thread of its own, so a slow or dead endpoint
//! never takes time from the HTTP workers or the actors (order placement, live updates).
//!
//! One task per active webhook walks the log past that webhook's durable cursor, one event at
//! a time (event order per webhook), and records each attempt together with the cursor move in
//! one transaction: a restart or kill -9 resumes from the last recorded attempt, so every
//! (webhook, event) pair is delivered at least once. A semaphore bounds requests in flight.
//! A webhook whose admin allowed parallel delivery is served by `parallel` instead.
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;
use tokio::sync::{watch, Semaphore};

use super::payload::{event_message, webhook_event};
use super::sender::{Message, Sender, SenderSettings};
use crate::domain::clock::Clock;
use crate::domain::event::LogEntry;
use crate::domain::ids::{DeliveryId, WebhookId};
use crate::domain::webhook::Webhook;
use crate::domain::webhook_delivery::{
    AttemptOutcome, Delivery, DeliveryStatus, DispatchState, RetryPolicy,
};
use crate::store::{SharedStorage, StoreError};

/// How often idle tasks look at the log and the webhook list (a new event waits at most this).
pub(super) const POLL: Duration = Duration::from_millis(200);
/// Events read from the log at once while skipping those a webhook does not want.
pub(super) const BATCH: usize = 64;

#[derive(Debug, Clone, Copy)]
pub struct DispatchSettings {
    pub sender: SenderSettings,
    pub retry: RetryPolicy,
    pub max_in_flight: usize,
}

/// Starts the dispatcher thread; it stops (dropping its store handle) when `shutdown` turns
/// true. Join the handle before closing the database.
pub fn start(
    store: SharedStorage,
    settings: DispatchSettings,
    clock: Clock,
    mut shutdown: watch::Receiver<bool>,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new()
        .name("webhooks".into())
        .spawn(move || {
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(runtime) => runtime,
                Err(e) => return tracing::error!(error = %e, "webhook dispatcher did not start"),
            };
            runtime.block_on(async move {
                tokio::select! {
                    _ = supervise(store, settings, clock) => {}
                    _ = shutdown.wait_for(|stop| *stop) => {}
                }
            });
        })
}

/// Keeps one task running per active webhook.
async fn supervise(store: SharedStorage, settings: DispatchSettings, clock: Clock) {
    let sender = match Sender::new(settings.sender) {
        Ok(sender) => sender,
        Err(e) => return tracing::error!(error = %e, "webhook HTTP client did not start"),
    };
    let in_flight = Arc::new(Semaphore::new(settings.max_in_flight.max(1)));
    let mut tasks: HashMap<WebhookId, tokio::task::JoinHandle<()>> = HashMap::new();
    loop {
        tasks.retain(|_, task| !task.is_finished());
        // Another instance delivers (several share the database): stand by, ready to take over.
        if !store.leads_delivery() {
            tasks.drain().for_each(|(_, task)| task.abort());
            tokio::time::sleep(POLL).await;
            continue;
        }
        match store.webhooks() {
            Ok(hooks) => {
                for hook in hooks.into_iter().filter(|h| h.active) {
                    tasks.entry(hook.id).or_insert_with(|| {
                        let worker = Worker {
                            id: hook.id,
                            store: store.clone(),
                            sender: sender.clone(),
                            retry: settings.retry,
                            in_flight: in_flight.clone(),
                            clock: clock.clone(),
                        };
                        tokio::spawn(worker.run())
                    });
                }
            }
            Err(e) => tracing::error!(error = %e, "webhook dispatcher could not list webhooks"),
        }
        tokio::time::sleep(POLL).await;
    }
}

pub(super) struct Worker {
    pub(super) id: WebhookId,
    pub(super) store: SharedStorage,
    pub(super) sender: Sender,
    pub(super) retry: RetryPolicy,
    pub(super) in_flight: Arc<Semaphore>,
    /// Stamps attempts and schedules retries; the naps between polls stay real (`POLL`).
    pub(super) clock: Clock,
}

impl Worker {
    /// Runs until the webhook is deleted or deactivated. SharedStorage calls are short sled reads and
    /// one-transaction writes, made inline: this thread serves nothing else.
    async fn run(self) {
        loop {
            match self.step().await {
                Ok(true) => {}
                Ok(false) => tokio::time::sleep(POLL).await,
                Err(StoreError::NotFound) => return,
                Err(e) => {
                    tracing::error!(webhook = %self.id, error = %e, "webhook delivery stalled");
                    tokio::time::sleep(POLL * 5).await;
                }
            }
        }
    }

    /// One attempt if one is due; false when there was nothing to do yet.
    async fn step(&self) -> Result<bool, StoreError> {
        let hook = self.store.webhook(self.id)?;
        if !hook.active {
            return Err(StoreError::NotFound);
        }
        if hook.parallel {
            // Returns when the admin turns parallel delivery off (or the webhook goes).
            self.run_parallel().await?;
            return Ok(true);
        }
        let state = self.store.dispatch_state(self.id)?;
        let now = self.clock.now();
        if let Some(at) = state.next_attempt_at {
            if at > now {
                // Short naps, so "retry now", edits and deletion are seen soon.
                let wait = (at - now).try_into().unwrap_or(POLL).min(POLL);
                tokio::time::sleep(wait).await;
                return Ok(true);
            }
        }
        let entries = self.store.log_after(state.cursor, BATCH)?;
        let Some(entry) = entries
            .iter()
            .find(|e| hook.draft().wants(webhook_event(e)))
        else {
            if let Some(last) = entries.last() {
                // Nothing wanted in this stretch of the log: move past it.
                let skipped = DispatchState::starting_after(last.id());
                self.store.set_dispatch_state(self.id, skipped)?;
                return Ok(true);
            }
            return Ok(false);
        };
        let outcome = self.send(&hook, &event_message(self.id, entry)).await;
        let attempt = state.failures + 1;
        let done = DispatchState::starting_after(entry.id());
        let (status, next_state) = match self.verdict(&outcome, attempt) {
            (DeliveryStatus::Pending, Some(delay)) => (
                DeliveryStatus::Pending,
                DispatchState {
                    cursor: state.cursor,
                    failures: attempt,
                    next_attempt_at: Some(self.clock.now() + delay),
                },
            ),
            (status, _) => (status, done),
        };
        let delivery = self.delivery(entry, attempt, status, outcome, next_state.next_attempt_at);
        self.store.record_delivery(&delivery, Some(next_state))?;
        // On disk before the next attempt: after a kill -9 the retry count and the cursor
        // resume from here (losing it would only mean sending this event again).
        self.store.durable().await?;
        Ok(true)
    }

    /// One HTTP attempt, within the bound on requests in flight.
    pub(super) async fn send(&self, hook: &Webhook, message: &Message) -> AttemptOutcome {
        let _permit = self.in_flight.acquire().await;
        self.sender.send(hook, message).await
    }

    /// What an attempt's outcome means: done, to be retried after the delay, or failed for good.
    pub(super) fn verdict(
        &self,
        outcome: &AttemptOutcome,
        attempt: u32,
    ) -> (DeliveryStatus, Option<Duration>) {
        if outcome.succeeded() {
            return (DeliveryStatus::Succeeded, None);
        }
        match self.retry.delay_after(attempt, rand::random::<f64>()) {
            Some(delay) => (DeliveryStatus::Pending, Some(delay)),
            None => {
                tracing::warn!(webhook = %self.id, attempt, "webhook delivery failed for good");
                (DeliveryStatus::Failed, None)
            }
        }
    }

    /// The log line of one attempt.
    pub(super) fn delivery(
        &self,
        entry: &LogEntry,
        attempt: u32,
        status: DeliveryStatus,
        outcome: AttemptOutcome,
        next_attempt_at: Option<OffsetDateTime>,
    ) -> Delivery {
        Delivery {
            id: DeliveryId::new(0),
            webhook_id: self.id,
            event_id: Some(entry.id()),
            kind: webhook_event(entry),
            attempt,
            status,
            response_code: outcome.response_code,
            error: outcome.error,
            duration_ms: outcome.duration_ms,
            next_attempt_at,
            created_at: self.clock.now(),
        }
    }
}
