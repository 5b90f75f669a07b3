//! The SMTP side: `smtp_url` and `mail_from` parsed once at start (a bad one stops the server
//! with a clear message), and a lettre transport built from them.
use std::time::Duration;

use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

/// The longest one SMTP conversation may take before it counts as a failed attempt.
const SMTP_TIMEOUT: Duration = Duration::from_secs(10);

/// Where and as whom order emails are sent, and where order pages live.
#[derive(Clone)]
pub struct MailSettings {
    host: String,
    port: u16,
    /// `smtps://`: TLS from the first byte; `smtp://`: STARTTLS when the server offers it.
    wrapped: bool,
    credentials: Option<(String, String)>,
    pub from: Mailbox,
    /// Without a trailing slash: `{public_url}/orders/{id}`.
    pub public_url: String,
}

impl std::fmt::Debug for MailSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("wrapped", &self.wrapped)
            .field("login", &self.credentials.is_some())
            .field("from", &self.from.to_string())
            .field("public_url", &self.public_url)
            .finish()
    }
}

impl MailSettings {
    /// Parses the settings; the error names the setting at fault.
    pub fn parse(smtp_url: &str, mail_from: &str, public_url: &str) -> Result<Self, String> {
        let bad = |why: &str| format!("smtp_url: {why} (expected smtp://user:pass@host:port)");
        let url = url::Url::parse(smtp_url.trim()).map_err(|_| bad("not a URL"))?;
        let wrapped = match url.scheme() {
            "smtp" => false,
            "smtps" => true,
            _ => return Err(bad("the scheme must be smtp or smtps")),
        };
        let host = url.host_str().ok_or_else(|| bad("no host"))?;
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        // 587 (submission, STARTTLS) and 465 (TLS): what mail providers give shops.
        let port = url.port().unwrap_or(if wrapped { 465 } else { 587 });
        let decode = |part: &str| {
            urlencoding::decode(part)
                .map(|p| p.into_owned())
                .map_err(|_| bad("the user name or password is not valid UTF-8"))
        };
        let credentials = match (url.username(), url.password()) {
            ("", None) => None,
            (user, password) => Some((decode(user)?, decode(password.unwrap_or(""))?)),
        };
        let from = mail_from
            .trim()
            .parse::<Mailbox>()
            .map_err(|_| format!("mail_from: {mail_from:?} is not an email address"))?;
        let public = url::Url::parse(public_url.trim())
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
            .ok_or_else(|| format!("public_url: {public_url:?} is not an http(s) URL"))?;
        Ok(MailSettings {
            host,
            port,
            wrapped,
            credentials,
            from,
            public_url: public.as_str().trim_end_matches('/').to_owned(),
        })
    }

    /// The name this server gives in EHLO: the shop's public host.
    fn hello_name(&self) -> ClientId {
        let host = url::Url::parse(&self.public_url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned));
        ClientId::Domain(host.unwrap_or_else(|| "localhost".into()))
    }
}

/// Sends one email at a time over a fresh connection (order emails are few and far between;
/// a pool would hold a connection the server may drop meanwhile).
#[derive(Clone)]
pub struct Mailer {
    settings: MailSettings,
}

impl Mailer {
    pub fn new(settings: MailSettings) -> Mailer {
        Mailer { settings }
    }

    pub fn settings(&self) -> &MailSettings {
        &self.settings
    }

    /// Sends `message`; the error text is for the log.
    pub async fn send(&self, message: Message) -> Result<(), String> {
        let s = &self.settings;
        let tls = TlsParameters::new(s.host.clone()).map_err(|e| e.to_string())?;
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&s.host)
            .port(s.port)
            .hello_name(s.hello_name())
            .timeout(Some(SMTP_TIMEOUT))
            .tls(if s.wrapped {
                Tls::Wrapper(tls)
            } else {
                Tls::Opportunistic(tls)
            });
        if let Some((user, password)) = &s.credentials {
            builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
        }
        builder
            .build()
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smtp_urls_with_and_without_login() {
        let s = MailSettings::parse(
            "smtp://shop%40x.example:p%3Ass@mail.example:2525",
            "Shop <orders@shop.example>",
            "https://shop.example/",
        )
        .unwrap();
        assert_eq!(
            (s.host.as_str(), s.port, s.wrapped),
            ("mail.example", 2525, false)
        );
        let (user, password) = s.credentials.clone().unwrap();
        assert_eq!(
            (user.as_str(), password.as_str()),
            ("shop@x.example", "p:ss")
        );
        assert_eq!(s.public_url, "https://shop.example");
        assert!(!format!("{s:?}").contains("p:ss"), "no password in logs");
        let plain = MailSettings::parse("smtp://127.0.0.1:1025", "a@b.example", "http://x.example")
            .unwrap();
        assert!(plain.credentials.is_none());
        let tls =
            MailSettings::parse("smtps://mail.example", "a@b.example", "http://x.example").unwrap();
        assert_eq!((tls.port, tls.wrapped), (465, true));
    }

    #[test]
    fn bad_settings_name_the_setting() {
        let cases = [
            (
                "http://mail.example",
                "a@b.example",
                "http://x.example",
                "smtp_url",
            ),
            ("nonsense", "a@b.example", "http://x.example", "smtp_url"),
            (
                "smtp://mail.example",
                "not an address",
                "http://x.example",
                "mail_from",
            ),
            (
                "smtp://mail.example",
                "a@b.example",
                "shop.example",
                "public_url",
            ),
        ];
        for (url, from, public, setting) in cases {
            let error = MailSettings::parse(url, from, public).unwrap_err();
            assert!(error.starts_with(setting), "{error}");
        }
    }
}
