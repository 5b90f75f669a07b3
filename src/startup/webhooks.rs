//! Webhook settings, from the flat `Settings` to what the sender and the dispatcher take.
use std::time::Duration;

use crate::config::Settings;
use crate::domain::webhook_delivery::RetryPolicy;
use crate::services::webhooks::dispatcher::DispatchSettings;
use crate::services::webhooks::sender::SenderSettings;

pub fn sender_settings(settings: &Settings) -> SenderSettings {
    SenderSettings {
        allow_private: settings.webhooks_allow_private,
        timeout: Duration::from_secs(settings.webhook_timeout_seconds.max(1)),
    }
}

pub fn dispatch_settings(settings: &Settings) -> DispatchSettings {
    DispatchSettings {
        sender: sender_settings(settings),
        retry: RetryPolicy {
            base: Duration::from_millis(settings.webhook_retry_base_ms),
            cap: Duration::from_millis(settings.webhook_retry_cap_ms),
            max_attempts: settings.webhook_max_attempts.max(1),
        },
        max_in_flight: settings.webhook_max_in_flight,
    }
}
