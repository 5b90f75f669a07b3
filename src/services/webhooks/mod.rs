//! Webhooks for admins: manage them, read their deliveries, send a test ping. The delivery of
//! the event log itself runs in `dispatcher`, on its own thread.
pub mod dispatcher;
pub mod json;
pub mod payload;
pub mod sender;

use rand::RngCore;

use super::blocking;
use crate::domain::ids::{DeliveryId, WebhookId};
use crate::domain::webhook::{
    Webhook, WebhookDraft, WebhookEvent, WebhookInput, WebhookSecret, SECRET_BYTES,
};
use crate::domain::webhook_delivery::{Delivery, DeliveryStatus};
use crate::error::AppError;
use crate::store::{DeliveryPage, Store};
use sender::{Sender, SenderSettings};

#[derive(Clone)]
pub struct Webhooks {
    store: Store,
    sender: SenderSettings,
}

fn new_secret() -> WebhookSecret {
    let mut key = [0u8; SECRET_BYTES];
    rand::rng().fill_bytes(&mut key);
    WebhookSecret::from_key(&key)
}

impl Webhooks {
    pub fn new(store: Store, sender: SenderSettings) -> Webhooks {
        Webhooks { store, sender }
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
        let store = self.store.clone();
        let hook =
            blocking(move || Ok(store.create_webhook(draft, new_secret(), super::now())?)).await?;
        // Durable before the secret is shown: it is shown once, so it must not be lost.
        self.store.durable().await?;
        Ok(hook)
    }

    pub async fn update(&self, id: WebhookId, draft: WebhookDraft) -> Result<Webhook, AppError> {
        let store = self.store.clone();
        let hook = blocking(move || {
            Ok(store.update_webhook(id, |hook| {
                hook.url = draft.url.clone();
                hook.events = draft.events.clone();
                hook.active = draft.active;
                hook.description = draft.description.clone();
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
            blocking(move || Ok(store.update_webhook(id, |hook| hook.secret = secret.clone())?))
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

    /// Sends a `ping` now (whether or not the webhook is active) and logs the attempt. Pings
    /// are not retried: the admin sees the outcome and can press again.
    pub async fn ping(&self, id: WebhookId) -> Result<Delivery, AppError> {
        let hook = self.get(id).await?;
        // A client of its own: this runs on an HTTP worker's runtime, not the dispatcher's.
        let sender = Sender::new(self.sender).map_err(AppError::internal)?;
        let message = payload::ping_message(id, rand::random());
        let outcome = sender.send(&hook, &message).await;
        let delivery = Delivery {
            id: DeliveryId::new(0),
            webhook_id: id,
            event_id: None,
            kind: WebhookEvent::Ping,
            attempt: 1,
            status: if outcome.succeeded() {
                DeliveryStatus::Succeeded
            } else {
                DeliveryStatus::Failed
            },
            response_code: outcome.response_code,
            error: outcome.error,
            duration_ms: outcome.duration_ms,
            next_attempt_at: None,
            created_at: super::now(),
        };
        let store = self.store.clone();
        blocking(move || Ok(store.record_delivery(&delivery, None)?)).await
    }
}
