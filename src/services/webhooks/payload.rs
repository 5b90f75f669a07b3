//! The Standard Webhooks body: `{"type", "timestamp", "data"}`, and the delivery's `webhook-id`.
use serde::Serialize;

use super::sender::Message;
use crate::domain::event::{EventKind, OrderEvent};
use crate::domain::ids::WebhookId;
use crate::domain::webhook::WebhookEvent;
use crate::services::json::EventJson;

#[derive(Serialize)]
struct Body<'a, T: Serialize> {
    #[serde(rename = "type")]
    kind: &'a str,
    timestamp: String,
    data: T,
}

fn rfc3339(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

pub fn webhook_event(kind: EventKind) -> WebhookEvent {
    match kind {
        EventKind::OrderCreated => WebhookEvent::OrderCreated,
        EventKind::OrderStatus => WebhookEvent::OrderStatus,
    }
}

/// One event of the log for one webhook. The id names both, so it is the same on every retry
/// and differs between webhooks (receivers deduplicate on it).
pub fn event_message(hook: WebhookId, event: &OrderEvent) -> Message {
    let body = Body {
        kind: event.kind.as_str(),
        timestamp: rfc3339(event.at),
        data: EventJson::from(event),
    };
    Message {
        id: format!("msg_{}_{}", event.id, hook),
        body: serde_json::to_vec(&body).unwrap_or_default(),
    }
}

#[derive(Serialize)]
struct PingData {
    webhook_id: u64,
}

/// A test event; `nonce` keeps two pings apart.
pub fn ping_message(hook: WebhookId, nonce: u64) -> Message {
    let body = Body {
        kind: WebhookEvent::Ping.as_str(),
        timestamp: rfc3339(crate::services::now()),
        data: PingData {
            webhook_id: hook.get(),
        },
    };
    Message {
        id: format!("msg_ping_{hook}_{nonce:x}"),
        body: serde_json::to_vec(&body).unwrap_or_default(),
    }
}
