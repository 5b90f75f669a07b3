//! Sends one signed Standard Webhooks request and says how it went. Never follows redirects
//! and never connects to an internal address unless `webhooks_allow_private` is set: names are
//! resolved here, at delivery time, and their addresses checked (DNS answers change).
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use crate::domain::webhook::{is_internal, Webhook, WebhookUrl};
use crate::domain::webhook_delivery::AttemptOutcome;

/// The JSON body and the ids that sign it; built once per event, identical on every retry.
#[derive(Debug, Clone)]
pub struct Message {
    /// `webhook-id`: stable across retries of one delivery.
    pub id: String,
    pub body: Vec<u8>,
}

#[derive(Debug, Clone, Copy)]
pub struct SenderSettings {
    pub allow_private: bool,
    pub timeout: Duration,
}

/// An HTTP client for webhook deliveries. One per runtime: reqwest's pooled connections belong
/// to the runtime that opened them.
#[derive(Clone)]
pub struct Sender {
    client: reqwest::Client,
    settings: SenderSettings,
}

/// Error text kept short and free of internals: it is shown to admins in the deliveries log.
fn describe(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        "timed out".into()
    } else if error.is_connect() {
        let internal = std::error::Error::source(error)
            .map(|s| format!("{s:?}").contains(REFUSED_INTERNAL))
            .unwrap_or(false);
        if internal {
            REFUSED_INTERNAL.into()
        } else {
            "could not connect".into()
        }
    } else {
        "request failed".into()
    }
}

const REFUSED_INTERNAL: &str = "the host resolves only to internal addresses";

impl Sender {
    pub fn new(settings: SenderSettings) -> Result<Sender, reqwest::Error> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout)
            .user_agent(concat!("OrderStream-Webhooks/", env!("CARGO_PKG_VERSION")))
            .dns_resolver(Arc::new(GuardedResolver {
                allow_private: settings.allow_private,
            }))
            .build()?;
        Ok(Sender { client, settings })
    }

    pub async fn send(&self, hook: &Webhook, message: &Message) -> AttemptOutcome {
        let started = Instant::now();
        let elapsed = || started.elapsed().as_millis().min(u64::MAX as u128) as u64;
        // The stored URL was checked when saved; check again, since the setting may have changed.
        // Literal addresses never reach the resolver, so this is where they are refused.
        if WebhookUrl::parse(hook.url.as_str(), self.settings.allow_private).is_err() {
            return AttemptOutcome {
                response_code: None,
                error: Some("the URL points at an internal address".into()),
                duration_ms: 0,
            };
        }
        // The system time, not the application's clock: the receiver checks this header
        // against its own clock to refuse replays.
        let timestamp = time::OffsetDateTime::now_utc().unix_timestamp();
        let signature = hook.secret.sign(&message.id, timestamp, &message.body);
        let result = self
            .client
            .post(hook.url.as_str())
            .header("content-type", "application/json")
            .header("webhook-id", &message.id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(message.body.clone())
            .send()
            .await;
        match result {
            Ok(response) => {
                let code = response.status().as_u16();
                // Drain a little of the body so the connection can be reused; its content is
                // the receiver's business.
                let _ = tokio::time::timeout(Duration::from_secs(1), response.bytes()).await;
                AttemptOutcome {
                    response_code: Some(code),
                    error: (!(200..300).contains(&code)).then(|| format!("HTTP {code}")),
                    duration_ms: elapsed(),
                }
            }
            Err(e) => AttemptOutcome {
                response_code: None,
                error: Some(describe(&e)),
                duration_ms: elapsed(),
            },
        }
    }
}

/// The system resolver, minus internal addresses when they are not allowed.
struct GuardedResolver {
    allow_private: bool,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|addr| allow_private || !is_internal(addr.ip()))
                .collect();
            if found.is_empty() {
                return Err(REFUSED_INTERNAL.into());
            }
            let addrs: Addrs = Box::new(found.into_iter());
            Ok(addrs)
        })
    }
}
