//! Order-email settings: on only when both `smtp_url` and `mail_from` are set.
use std::thread::JoinHandle;
use tokio::sync::watch;

use crate::config::Settings;
use crate::services::mail::MailSettings;
use crate::store::SharedStorage;

use super::StartupError;

/// The mail settings, None when mail is off; a bad value stops the start with its name.
/// `port` is the one bound, for the default `public_url` when `addr` asked for port 0.
pub fn mail_settings(settings: &Settings, port: u16) -> Result<Option<MailSettings>, StartupError> {
    let (Some(url), Some(from)) = (&settings.smtp_url, &settings.mail_from) else {
        if settings.smtp_url.is_some() != settings.mail_from.is_some() {
            tracing::warn!("order emails are off: set both smtp_url and mail_from");
        }
        return Ok(None);
    };
    let public_url = settings
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{}:{port}", super::display_host(&settings.addr)));
    MailSettings::parse(url.expose(), from, &public_url)
        .map(Some)
        .map_err(StartupError::Config)
}

/// Starts the order-email thread when mail is on; it ends when `stop` turns true.
pub fn start_outbox(
    settings: &Settings,
    mail: Option<MailSettings>,
    store: &SharedStorage,
    stop: &watch::Sender<bool>,
) -> Result<Option<JoinHandle<()>>, StartupError> {
    let Some(mail) = mail else {
        // Emails switched on later start from that moment: nothing piles up meanwhile.
        store.clear_mail_state().map_err(StartupError::Store)?;
        return Ok(None);
    };
    tracing::info!(settings = ?mail, "order emails are on");
    let retry = super::webhooks::dispatch_settings(settings).retry;
    let outbox = crate::services::mail::outbox::start(
        store.clone(),
        crate::services::mail::Mailer::new(mail),
        retry,
        stop.subscribe(),
    )?;
    Ok(Some(outbox))
}
