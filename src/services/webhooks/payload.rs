//! The Standard Webhooks body: `{"type", "timestamp", "data"}`, and the delivery's `webhook-id`.
use serde::Serialize;
use time::OffsetDateTime;

use super::sender::Message;
use crate::domain::event::{EventKind, LogEntry, StockLowEvent};
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

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

pub fn webhook_event(entry: &LogEntry) -> WebhookEvent {
    match entry {
        LogEntry::Order(e) => match e.kind {
            EventKind::OrderCreated => WebhookEvent::OrderCreated,
            EventKind::OrderStatus => WebhookEvent::OrderStatus,
        },
        LogEntry::StockLow(_) => WebhookEvent::ProductStockLow,
    }
}

/// The `data` of a `product.stock_low` delivery.
#[derive(Serialize)]
struct StockLowData<'a> {
    id: u64,
    product_id: u64,
    name: &'a str,
    stock: u32,
    threshold: u32,
    at: String,
}

impl<'a> From<&'a StockLowEvent> for StockLowData<'a> {
    fn from(e: &'a StockLowEvent) -> Self {
        StockLowData {
            id: e.id.get(),
            product_id: e.product_id.get(),
            name: &e.name,
            stock: e.stock,
            threshold: e.threshold,
            at: rfc3339(e.at),
        }
    }
}

/// One event of the log for one webhook. The id names both, so it is the same on every retry
/// and differs between webhooks (receivers deduplicate on it).
pub fn event_message(hook: WebhookId, entry: &LogEntry) -> Message {
    let timestamp = rfc3339(entry.at());
    let kind = entry.type_name();
    let body = match entry {
        LogEntry::Order(event) => serde_json::to_vec(&Body {
            kind,
            timestamp,
            data: EventJson::from(event),
        }),
        LogEntry::StockLow(event) => serde_json::to_vec(&Body {
            kind,
            timestamp,
            data: StockLowData::from(event),
        }),
    };
    Message {
        id: format!("msg_{}_{}", entry.id(), hook),
        body: body.unwrap_or_default(),
    }
}

#[derive(Serialize)]
struct PingData {
    webhook_id: u64,
}

/// A test event; `nonce` keeps two pings apart.
pub fn ping_message(hook: WebhookId, nonce: u64, at: OffsetDateTime) -> Message {
    let body = Body {
        kind: WebhookEvent::Ping.as_str(),
        timestamp: rfc3339(at),
        data: PingData {
            webhook_id: hook.get(),
        },
    };
    Message {
        id: format!("msg_ping_{hook}_{nonce:x}"),
        body: serde_json::to_vec(&body).unwrap_or_default(),
    }
}
