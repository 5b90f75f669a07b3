//! Webhooks: where order events are sent, which ones, and the secret that signs them
//! (Standard Webhooks: https://www.standardwebhooks.com/).
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::net::IpAddr;

pub use super::internal_address::is_internal;
use super::internal_address::is_internal_name;
use time::OffsetDateTime;

use super::ids::WebhookId;
use super::validation::{bounded_text, Collector};
use super::{FieldErrors, ValidationError};

// The OpenAPI document describes this very type (as `WebhookEventType`), so the document
// cannot drift from what is accepted and sent.
/// The kinds of event a webhook can subscribe to.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[schema(as = WebhookEventType)]
pub enum WebhookEvent {
    #[serde(rename = "order.created")]
    OrderCreated,
    #[serde(rename = "order.status")]
    OrderStatus,
    #[serde(rename = "product.stock_low")]
    ProductStockLow,
    #[serde(rename = "ping")]
    Ping,
}

impl WebhookEvent {
    pub const ALL: [WebhookEvent; 4] = [
        WebhookEvent::OrderCreated,
        WebhookEvent::OrderStatus,
        WebhookEvent::ProductStockLow,
        WebhookEvent::Ping,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            WebhookEvent::OrderCreated => "order.created",
            WebhookEvent::OrderStatus => "order.status",
            WebhookEvent::ProductStockLow => "product.stock_low",
            WebhookEvent::Ping => "ping",
        }
    }

    pub fn parse(raw: &str) -> Result<WebhookEvent, ValidationError> {
        Self::ALL
            .into_iter()
            .find(|e| e.as_str() == raw)
            .ok_or_else(|| {
                ValidationError::new(
                    "events",
                    "must be one of order.created, order.status, product.stock_low, ping",
                )
            })
    }
}

/// An http(s) URL whose host is not, by its spelling, an internal address. Names are resolved
/// (and their addresses checked) when delivering, since DNS answers change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct WebhookUrl(String);

pub const MAX_URL_CHARS: usize = 2000;

impl WebhookUrl {
    pub fn parse(raw: &str, allow_private: bool) -> Result<WebhookUrl, ValidationError> {
        let bad = |message: &str| ValidationError::new("url", message);
        let raw = raw.trim();
        if raw.chars().count() > MAX_URL_CHARS {
            return Err(bad("must be at most 2000 characters"));
        }
        let url = url::Url::parse(raw).map_err(|_| bad("must be an absolute http(s) URL"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(bad("must be an http or https URL"));
        }
        let Some(host) = url.host() else {
            return Err(bad("must name a host"));
        };
        if !url.username().is_empty() || url.password().is_some() {
            return Err(bad("must not carry a user name or password"));
        }
        if !allow_private {
            let internal = match host {
                url::Host::Ipv4(ip) => is_internal(IpAddr::V4(ip)),
                url::Host::Ipv6(ip) => is_internal(IpAddr::V6(ip)),
                url::Host::Domain(name) => is_internal_name(name),
            };
            if internal {
                return Err(bad(
                    "must not point at a loopback, link-local, private or unspecified address",
                ));
            }
        }
        Ok(WebhookUrl(url.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// `whsec_` + base64 of the key bytes, as Standard Webhooks libraries expect.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct WebhookSecret(String);

pub const SECRET_BYTES: usize = 32;

impl WebhookSecret {
    /// From random bytes drawn by the caller (the domain does no IO).
    pub fn from_key(key: &[u8; SECRET_BYTES]) -> WebhookSecret {
        WebhookSecret(format!("whsec_{}", BASE64.encode(key)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn key(&self) -> Vec<u8> {
        let encoded = self.0.strip_prefix("whsec_").unwrap_or(&self.0);
        BASE64.decode(encoded).unwrap_or_default()
    }

    /// `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`.
    pub fn sign(&self, message_id: &str, timestamp: i64, body: &[u8]) -> String {
        // HMAC takes keys of any length, so this cannot fail.
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key()).expect("any key length");
        mac.update(format!("{message_id}.{timestamp}.").as_bytes());
        mac.update(body);
        format!("v1,{}", BASE64.encode(mac.finalize().into_bytes()))
    }
}

impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("whsec_[redacted]")
    }
}

/// What an admin sets; the secret and id come from the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookDraft {
    pub url: WebhookUrl,
    pub events: Vec<WebhookEvent>,
    pub active: bool,
    pub description: String,
    /// Events may be delivered several at once, out of order; off by default (strict order).
    pub parallel: bool,
}

/// The raw fields of a create or update, before parsing.
#[derive(Debug, Default)]
pub struct WebhookInput<'a> {
    pub url: Option<&'a str>,
    pub events: Option<&'a [String]>,
    pub active: Option<bool>,
    pub description: Option<&'a str>,
    pub parallel: Option<bool>,
}

impl WebhookDraft {
    /// Parses every field at once (all errors reported); absent fields come from `current`,
    /// or are required (`url`, `events`) when there is none.
    pub fn parse(
        input: WebhookInput<'_>,
        current: Option<&WebhookDraft>,
        allow_private: bool,
    ) -> Result<WebhookDraft, FieldErrors> {
        let mut errors = Collector::default();
        let required = |field: &str| ValidationError::new(field, "this field is required");
        let url = errors.take(match (input.url, current) {
            (Some(raw), _) => WebhookUrl::parse(raw, allow_private),
            (None, Some(c)) => Ok(c.url.clone()),
            (None, None) => Err(required("url")),
        });
        let events = errors.take(match (input.events, current) {
            (Some(raw), _) => parse_events(raw),
            (None, Some(c)) => Ok(c.events.clone()),
            (None, None) => Err(required("events")),
        });
        let description = errors.take(match (input.description, current) {
            (Some(raw), _) => bounded_text("description", raw, 500),
            (None, Some(c)) => Ok(c.description.clone()),
            (None, None) => Ok(String::new()),
        });
        let active = input.active.or(current.map(|c| c.active)).unwrap_or(true);
        let parallel = input
            .parallel
            .or(current.map(|c| c.parallel))
            .unwrap_or(false);
        errors.finish(|| {
            Some(WebhookDraft {
                url: url?,
                events: events?,
                active,
                description: description?,
                parallel,
            })
        })
    }

    pub fn wants(&self, event: WebhookEvent) -> bool {
        event == WebhookEvent::Ping || self.events.contains(&event)
    }
}

fn parse_events(raw: &[String]) -> Result<Vec<WebhookEvent>, ValidationError> {
    if raw.is_empty() {
        return Err(ValidationError::new("events", "name at least one event"));
    }
    let mut events = raw
        .iter()
        .map(|e| WebhookEvent::parse(e))
        .collect::<Result<Vec<_>, _>>()?;
    events.sort();
    events.dedup();
    Ok(events)
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Webhook {
    pub id: WebhookId,
    pub url: WebhookUrl,
    pub events: Vec<WebhookEvent>,
    pub active: bool,
    pub description: String,
    /// Absent in webhooks stored before parallel delivery existed: ordered.
    #[serde(default)]
    pub parallel: bool,
    pub secret: WebhookSecret,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

impl Webhook {
    pub fn draft(&self) -> WebhookDraft {
        WebhookDraft {
            url: self.url.clone(),
            events: self.events.clone(),
            active: self.active,
            description: self.description.clone(),
            parallel: self.parallel,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses_and_names_are_refused_unless_allowed() {
        for url in [
            "http://127.0.0.1/",
            "http://169.254.169.254/latest/meta-data",
            "http://[::1]/",
            "http://[::ffff:127.0.0.1]/",
            "http://[fe80::1]/",
            "http://[fd00::1]/",
            "http://10.1.2.3/",
            "http://192.168.0.1/",
            "http://172.16.0.1/",
            "http://0.0.0.0/",
            "http://localhost:8080/",
            "http://LOCALHOST./",
            "http://printer.local/",
            "http://[::127.0.0.1]/",
            "http://[64:ff9b::a9fe:a9fe]/",
            "http://[2002:a00:1::]/",
            "http://[fec0::1]/",
            "http://100.64.0.1/",
            "http://198.18.0.1/",
            "http://240.0.0.1/",
        ] {
            assert!(WebhookUrl::parse(url, false).is_err(), "{url}");
            assert!(WebhookUrl::parse(url, true).is_ok(), "{url} allowed");
        }
        assert!(WebhookUrl::parse("https://hooks.example.com/x", false).is_ok());
        assert!(WebhookUrl::parse("http://8.8.8.8/", false).is_ok());
        assert!(WebhookUrl::parse("http://[2606:4700::1111]/", false).is_ok());
        assert!(WebhookUrl::parse("http://[64:ff9b::808:808]/", false).is_ok());
    }

    #[test]
    fn only_http_urls_without_credentials() {
        for url in [
            "ftp://example.com/",
            "file:///etc/passwd",
            "example.com",
            "http://user:pw@example.com/",
            "",
        ] {
            assert!(WebhookUrl::parse(url, true).is_err(), "{url}");
        }
    }

    /// The example of the Standard Webhooks reference libraries.
    #[test]
    fn signature_matches_the_standard_webhooks_reference() {
        let secret = WebhookSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".into());
        let signature = secret.sign(
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            br#"{"test": 2432232314}"#,
        );
        assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn drafts_report_every_bad_field_and_keep_absent_ones() {
        let events = vec!["order.nope".to_owned()];
        let input = WebhookInput {
            url: Some("gopher://x"),
            events: Some(&events),
            ..Default::default()
        };
        let errors = WebhookDraft::parse(input, None, false).unwrap_err();
        assert!(errors.contains_key("url") && errors.contains_key("events"));
        let current = WebhookDraft {
            url: WebhookUrl::parse("https://a.example/", false).unwrap(),
            events: vec![WebhookEvent::OrderStatus],
            active: true,
            description: "d".into(),
            parallel: false,
        };
        let input = WebhookInput {
            active: Some(false),
            ..Default::default()
        };
        let patched = WebhookDraft::parse(input, Some(&current), false).unwrap();
        assert!(!patched.active);
        assert_eq!(patched.url, current.url);
    }
}
