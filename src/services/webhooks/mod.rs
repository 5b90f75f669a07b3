//! Webhooks for admins: manage them, read their deliveries, send a test ping. The delivery of
//! the event log itself runs in `dispatcher`, on its own thread.
pub mod dispatcher;
pub mod json;
pub mod parallel;
pub mod payload;
pub mod sender;

use rand::RngCore;

use super::blocking;
use crate::domain::clock::Clock;
use crate::domain::ids::{DeliveryId, WebhookId};
use crate::domain::webhook::{
    Webhook, WebhookDraft, WebhookEvent, WebhookInput, WebhookSecret, SECRET_BYTES,
};
use crate::domain::webhook_delivery::{Delivery, DeliveryStatus, DispatchState};
use crate::error::AppError;
use crate::store::{DeliveryPage, SharedStorage};
use sender::{Sender, SenderSettings};

/// Attempts kept per webhook (the deliveries log is for looking into recent trouble).
const DELIVERIES_KEPT: usize = 1000;

/// The longest a test ping or "retry now" holds the admin's request.
const MANUAL_SEND_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

#[derive(Clone)]
pub struct Webhooks {
    store: SharedStorage,
    sender: SenderSettings,
    /// Stamps webhooks, manual deliveries and pings.
    clock: Clock,
}

fn new_secret() -> WebhookSecret {
    let mut key = [0u8; SECRET_BYTES];
    rand::rng().fill_bytes(&mut key);
    WebhookSecret::from_key(&key)
}

impl Webhooks {
    pub fn new(store: SharedStorage, sender: SenderSettings, clock: Clock) -> Webhooks {
        Webhooks {
            store,
            sender,
            clock,
        }
    }

    /// Parses a create (no `current`) or an update against the stored webhook.
    pub fn draft(
        &self,
        input: WebhookInput<'_>,
        current: Option<&Webhook>,
    ) -> Result<WebhookDraft, AppError> {
        let current = current.map(Webhook::draft);
        WebhookDraft::parse(input, current.as_ref(), self.sender.allow_private)
            .map_err(AppError::fields)
    }

    pub async fn list(&self) -> Result<Vec<Webhook>, AppError> {
        let store = self.store.clone();
        blocking(move || Ok(store.webhooks()?)).await
    }

    pub async fn get(&self, id: WebhookId) -> Result<Webhook, AppError> {
        let store = self.store.clone();
        blocking(move || Ok(store.webhook(id)?)).await
    }

    /// A new webhook with a fresh secret (the only time the secret is shown is this answer).
    pub async fn create(&self, draft: WebhookDraft) -> Result<Webhook, AppError> {
        let (store, now) = (self.store.clone(), self.clock.now());
        let hook = blocking(move || Ok(store.create_webhook(draft, new_secret(), now)?)).await?;
        // Durable before the secret is shown: it is shown once, so it must not be lost.
        self.store.durable().await?;
        Ok(hook)
    }

    pub async fn update(&self, id: WebhookId, draft: WebhookDraft) -> Result<Webhook, AppError> {
        let store = self.store.clone();
        let hook = blocking(move || {
            Ok(store.update_webhook(id, &|hook| {
                hook.url = draft.url.clone();
                hook.events = draft.events.clone();
                hook.active = draft.active;
                hook.description = draft.description.clone();
                hook.parallel = draft.parallel;
            })?)
        })
        .await?;
        self.store.durable().await?;
        Ok(hook)
    }

    /// A new secret; the old one stops signing at once.
    pub async fn rotate_secret(&self, id: WebhookId) -> Result<Webhook, AppError> {
        let store = self.store.clone();
        let secret = new_secret();
        let hook =
            blocking(move || Ok(store.update_webhook(id, &|hook| hook.secret = secret.clone())?))
                .await?;
        self.store.durable().await?;
        Ok(hook)
    }

    pub async fn delete(&self, id: WebhookId) -> Result<(), AppError> {
        let store = self.store.clone();
        blocking(move || Ok(store.delete_webhook(id)?)).await?;
        self.store.durable().await?;
        Ok(())
    }

    /// Housekeeping: trims each webhook's deliveries log to the newest attempts. Blocking.
    pub fn prune(&self) -> Result<usize, AppError> {
        Ok(self.store.prune_deliveries(DELIVERIES_KEPT)?)
    }

    pub async fn deliveries(
        &self,
        id: WebhookId,
        offset: u64,
        limit: u64,
    ) -> Result<DeliveryPage, AppError> {
        let store = self.store.clone();
        blocking(move || {
            store.webhook(id)?;
            Ok(store.deliveries(id, offset, limit)?)
        })
        .await
    }

    /// "Retry now": a delivery waiting for its next attempt is tried at once (by the
    /// dispatcher, in order); one that failed for good, or a failed ping, is sent again here and
    /// the attempt logged (the cursor stays where it is: later events went on meanwhile).
    pub async fn retry(&self, id: WebhookId, delivery: DeliveryId) -> Result<Delivery, AppError> {
        let store = self.store.clone();
        let (hook, old, state) = blocking(move || {
            Ok((
                store.webhook(id)?,
                store.delivery(id, delivery)?,
                store.dispatch_state(id)?,
            ))
        })
        .await?;
        match (old.status, old.event_id) {
            (DeliveryStatus::Succeeded, _) => Err(AppError::Conflict(
                "this delivery succeeded; there is nothing to retry".into(),
            )),
            (DeliveryStatus::Pending, _) => {
                let store = self.store.clone();
                let due_now = DispatchState {
                    next_attempt_at: None,
                    ..state
                };
                blocking(move || Ok(store.set_dispatch_state(id, due_now)?)).await?;
                Ok(old)
            }
            (DeliveryStatus::Failed, None) => self.ping(id).await,
            (DeliveryStatus::Failed, Some(event)) => {
                let store = self.store.clone();
                let entry = blocking(move || Ok(store.log_entry(event)?)).await?;
                let message = payload::event_message(id, &entry);
                let attempt = old.attempt.saturating_add(1);
                self.send_once(&hook, &message, Some(entry.id()), old.kind, attempt)
                    .await
            }
        }
    }

    /// Sends one message now and logs the attempt as final (no retry schedule).
    async fn send_once(
        &self,
        hook: &Webhook,
        message: &sender::Message,
        event_id: Option<crate::domain::ids::EventId>,
        kind: WebhookEvent,
        attempt: u32,
    ) -> Result<Delivery, AppError> {
        // A client of its own: this runs on an HTTP worker's runtime, not the dispatcher's.
        // An admin's request waits on it, so it gets at most 5 s (clients give up around 10 s).
        let settings = SenderSettings {
            timeout: self.sender.timeout.min(MANUAL_SEND_TIMEOUT),
            ..self.sender
        };
        let sender = Sender::new(settings).map_err(AppError::internal)?;
        let outcome = sender.send(hook, message).await;
        let delivery = Delivery {
            id: DeliveryId::new(0),
            webhook_id: hook.id,
            event_id,
            kind,
            attempt,
            status: if outcome.succeeded() {
                DeliveryStatus::Succeeded
            } else {
                DeliveryStatus::Failed
            },
            response_code: outcome.response_code,
            error: outcome.error,
            duration_ms: outcome.duration_ms,
            next_attempt_at: None,
            created_at: self.clock.now(),
        };
        let store = self.store.clone();
        blocking(move || Ok(store.record_delivery(&delivery, None)?)).await
    }

    /// Sends a `ping` now (whether or not the webhook is active) and logs the attempt. Pings
    /// are not retried: the admin sees the outcome and can press again.
    pub async fn ping(&self, id: WebhookId) -> Result<Delivery, AppError> {
        let hook = self.get(id).await?;
        let message = payload::ping_message(id, rand::random(), self.clock.now());
        self.send_once(&hook, &message, None, WebhookEvent::Ping, 1)
            .await
    }
}
