//! The JSON shapes of `/api/webhooks/` (API.md, "Webhooks").
use serde::Serialize;
use time::OffsetDateTime;
use utoipa::ToSchema;

use crate::domain::webhook::{Webhook, WebhookEvent};
use crate::domain::webhook_delivery::Delivery;

fn rfc3339(t: &OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

#[derive(Serialize, ToSchema)]
pub struct WebhookJson {
    #[schema(minimum = 1)]
    pub id: u64,
    #[schema(format = "uri", example = "https://hooks.example.com/orders")]
    pub url: String,
    #[schema(value_type = Vec<WebhookEvent>, example = json!(["order.created", "order.status"]))]
    pub events: Vec<&'static str>,
    pub active: bool,
    pub description: String,
    /// True: deliveries may overlap and arrive out of event order; false: strict event order.
    pub parallel: bool,
    #[schema(format = DateTime, example = "2026-01-02T03:04:05.123456Z")]
    pub created_at: String,
    /// Only in the answers to create and rotate-secret: keep it, it is not shown again.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(pattern = "^whsec_[A-Za-z0-9+/=]+$", nullable = false)]
    pub secret: Option<String>,
}

impl WebhookJson {
    pub fn new(hook: &Webhook) -> Self {
        WebhookJson {
            id: hook.id.get(),
            url: hook.url.as_str().to_owned(),
            events: hook.events.iter().map(|e| e.as_str()).collect(),
            active: hook.active,
            description: hook.description.clone(),
            parallel: hook.parallel,
            created_at: rfc3339(&hook.created_at),
            secret: None,
        }
    }

    pub fn with_secret(hook: &Webhook) -> Self {
        WebhookJson {
            secret: Some(hook.secret.as_str().to_owned()),
            ..WebhookJson::new(hook)
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct DeliveryJson {
    #[schema(minimum = 1)]
    pub id: u64,
    /// The event of the log; null for a test ping.
    #[schema(minimum = 1)]
    pub event_id: Option<u64>,
    #[serde(rename = "type")]
    #[schema(value_type = WebhookEvent, example = "order.status")]
    pub kind: &'static str,
    #[schema(minimum = 1)]
    pub attempt: u32,
    #[schema(value_type = String, pattern = "^(pending|succeeded|failed)$")]
    pub status: &'static str,
    /// The receiver's HTTP status; null when no answer came.
    pub response_code: Option<u16>,
    pub error: Option<String>,
    pub duration_ms: u64,
    /// When the next attempt is due (status `pending`).
    #[schema(format = DateTime)]
    pub next_attempt_at: Option<String>,
    #[schema(format = DateTime, example = "2026-01-02T03:04:05.123456Z")]
    pub created_at: String,
}

impl From<&Delivery> for DeliveryJson {
    fn from(d: &Delivery) -> Self {
        DeliveryJson {
            id: d.id.get(),
            event_id: d.event_id.map(|e| e.get()),
            kind: d.kind.as_str(),
            attempt: d.attempt,
            status: d.status.as_str(),
            response_code: d.response_code,
            error: d.error.clone(),
            duration_ms: d.duration_ms,
            next_attempt_at: d.next_attempt_at.as_ref().map(rfc3339),
            created_at: rfc3339(&d.created_at),
        }
    }
}
