//! Order-email settings: on only when both `smtp_url` and `mail_from` are set.
use crate::config::Settings;
use crate::services::mail::MailSettings;

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
