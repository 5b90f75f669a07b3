//! Settings in layers: defaults < orderstream.toml < ORDERSTREAM_* env < command-line flags.
use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Deserializer, Serialize};
use std::path::{Path, PathBuf};

/// A secret value: usable, but never printed.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// Address to listen on; port 0 picks a free port.
    pub addr: String,
    pub data_dir: PathBuf,
    /// JWT signing secret; generated into the data dir when unset.
    pub jwt_secret: Option<Secret>,
    pub access_ttl_seconds: i64,
    pub refresh_ttl_seconds: i64,
    pub cache_ttl_seconds: u64,
    pub cache_capacity_mb: u64,
    /// sled's page cache; with `cache_capacity_mb`, most of the memory a busy server holds.
    pub db_cache_mb: u64,
    /// Seed a small demo catalog when the database is empty.
    pub demo: bool,
    pub demo_products: usize,
    /// Mark session cookies `Secure` (set behind HTTPS).
    pub cookie_secure: bool,
    pub redis_url: Option<String>,
    /// `postgres://user:pass@host/db` runs on PostgreSQL (a build with the `postgres` feature);
    /// unset, the embedded sled database in `data_dir`.
    pub database_url: Option<Secret>,
    /// Connections the PostgreSQL pool may hold open.
    pub database_pool_size: u32,
    /// On PostgreSQL, how often an instance reads the event log and the catalog generation
    /// even when no notification came: the most a lost wake-up can delay a live event.
    pub live_catch_up_ms: u64,
    /// Make or promote this admin at start (for containers and tests).
    pub admin_email: Option<String>,
    pub admin_password: Option<Secret>,
    pub login_attempts_per_ip_per_minute: u32,
    pub login_failures_per_email_per_hour: u32,
    /// Sign-ups (API and page) from one client address per hour.
    pub registrations_per_ip_per_hour: u32,
    pub argon2_memory_kib: u32,
    pub argon2_iterations: u32,
    /// HTTP worker threads; 0 means one per core.
    pub workers: usize,
    pub ws_ping_seconds: u64,
    pub ws_timeout_seconds: u64,
    pub sse_keepalive_seconds: u64,
    /// A request not answered within this many seconds gets 503 with `Retry-After`; 0 = no bound.
    pub request_timeout_seconds: u64,
    /// Origins besides the site's own (`https://admin.shop.example`) whose pages may use the
    /// session cookie on the API and open live streams; the variable takes them comma-separated.
    #[serde(deserialize_with = "list_or_commas")]
    pub allowed_origins: Vec<String>,
    /// Proxies (CIDRs or addresses, e.g. `127.0.0.1/32`) whose `X-Forwarded-For`/`Forwarded`
    /// and `X-Forwarded-Host`/`-Proto` are believed; the variable takes them comma-separated.
    #[serde(deserialize_with = "list_or_commas")]
    pub trusted_proxies: Vec<String>,
    /// WebSocket and SSE streams one user may hold at once.
    pub max_live_connections_per_user: usize,
    /// Streams the server holds at once; 0 derives the cap from the open-file limit.
    pub max_live_connections: usize,
    /// A second listener serving only `/metrics` (e.g. `127.0.0.1:9898`); unset = none.
    pub metrics_addr: Option<String>,
    /// Opens `/metrics` on the public listener to `Authorization: Bearer <metrics_token>`.
    pub metrics_token: Option<Secret>,
    pub log_format: LogFormat,
    /// Where scheduled backups are written; unset = no scheduled backups.
    pub backup_dir: Option<PathBuf>,
    /// Hours between scheduled backups (fractions allowed).
    pub backup_every_hours: f64,
    /// Scheduled backups kept; older ones are deleted.
    pub backup_keep: usize,
    /// Lets webhooks point at loopback, link-local and private addresses (tests, a LAN shop).
    pub webhooks_allow_private: bool,
    /// Wait before the first webhook retry; each later one waits three times longer.
    pub webhook_retry_base_ms: u64,
    /// The longest single wait between two webhook attempts.
    pub webhook_retry_cap_ms: u64,
    /// Attempts per event before the delivery is marked failed.
    pub webhook_max_attempts: u32,
    /// Time one webhook request may take, connection included.
    pub webhook_timeout_seconds: u64,
    /// Webhook requests in flight at once, over all webhooks.
    pub webhook_max_in_flight: usize,
    /// A `product.stock_low` event is written when a product's stock falls to this or below.
    pub stock_low_threshold: u32,
    /// Order emails go through this server: `smtp://user:pass@host:port` (STARTTLS when the
    /// server offers it), `smtps://…` (TLS from the start), or `smtp://host:port` without
    /// login. Unset (or no `mail_from`): no emails, and none pile up.
    pub smtp_url: Option<Secret>,
    /// The sender of order emails, e.g. `Shop <orders@shop.example>`.
    pub mail_from: Option<String>,
    /// Where shoppers reach this server (`https://shop.example`), for links in emails; unset:
    /// `http://` + `addr`.
    pub public_url: Option<String>,
}

/// How log lines are written to stderr.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// For people: coloured when stderr is a terminal.
    #[default]
    Text,
    /// One JSON object a line, for a log collector.
    Json,
}

/// A list given as a list (config file) or as one comma-separated string (environment).
fn list_or_commas<'de, D: Deserializer<'de>>(input: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Commas(String),
        List(Vec<String>),
    }
    Ok(match Raw::deserialize(input)? {
        Raw::Commas(text) => text
            .split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .map(str::to_owned)
            .collect(),
        Raw::List(list) => list,
    })
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            addr: "127.0.0.1:8080".into(),
            data_dir: PathBuf::from("data"),
            jwt_secret: None,
            access_ttl_seconds: 15 * 60,
            refresh_ttl_seconds: 7 * 24 * 3600,
            cache_ttl_seconds: 3600,
            cache_capacity_mb: 256,
            db_cache_mb: 256,
            demo: true,
            demo_products: 120,
            cookie_secure: false,
            redis_url: None,
            database_url: None,
            database_pool_size: 16,
            live_catch_up_ms: 1000,
            admin_email: None,
            admin_password: None,
            login_attempts_per_ip_per_minute: 30,
            login_failures_per_email_per_hour: 10,
            registrations_per_ip_per_hour: 20,
            argon2_memory_kib: 19 * 1024,
            argon2_iterations: 2,
            workers: 0,
            ws_ping_seconds: 10,
            ws_timeout_seconds: 30,
            sse_keepalive_seconds: 15,
            request_timeout_seconds: 10,
            allowed_origins: Vec::new(),
            trusted_proxies: Vec::new(),
            max_live_connections_per_user: 8,
            max_live_connections: 0,
            metrics_addr: None,
            metrics_token: None,
            log_format: LogFormat::Text,
            backup_dir: None,
            backup_every_hours: 24.0,
            backup_keep: 7,
            webhooks_allow_private: false,
            webhook_retry_base_ms: 90_000,
            webhook_retry_cap_ms: 3_600_000,
            webhook_max_attempts: 5,
            webhook_timeout_seconds: 10,
            webhook_max_in_flight: 16,
            stock_low_threshold: 5,
            smtp_url: None,
            mail_from: None,
            public_url: None,
        }
    }
}

/// Values given on the command line; only those present override the other layers.
#[derive(Debug, Default, Serialize)]
pub struct Flags {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub addr: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub demo: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<Secret>,
}

impl Settings {
    /// `database_url` when it names PostgreSQL (`postgres://` or `postgresql://`).
    pub fn postgres_url(&self) -> Option<&str> {
        let url = self.database_url.as_ref()?.expose();
        (url.starts_with("postgres://") || url.starts_with("postgresql://")).then_some(url)
    }

    pub fn load(config_file: &Path, flags: &Flags) -> Result<Settings, figment::Error> {
        Figment::from(Serialized::defaults(Settings::default()))
            .merge(Toml::file(config_file))
            .merge(Env::prefixed("ORDERSTREAM_"))
            .merge(Serialized::defaults(flags))
            .extract()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_redacted_in_debug() {
        let settings = Settings {
            jwt_secret: Some(Secret::new("hunter2hunter2")),
            ..Settings::default()
        };
        let printed = format!("{settings:?}");
        assert!(!printed.contains("hunter2"));
        assert!(printed.contains("[redacted]"));
    }

    #[test]
    fn layers_apply_in_order() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "orderstream.toml",
                "addr = \"127.0.0.1:9000\"\ncache_ttl_seconds = 5\ndemo = false",
            )?;
            jail.set_env("ORDERSTREAM_CACHE_TTL_SECONDS", "7");
            let flags = Flags {
                addr: Some("127.0.0.1:9001".into()),
                ..Flags::default()
            };
            let settings = Settings::load(Path::new("orderstream.toml"), &flags)?;
            assert_eq!(settings.addr, "127.0.0.1:9001");
            assert_eq!(settings.cache_ttl_seconds, 7);
            assert!(!settings.demo);
            Ok(())
        });
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment's own error type, in a test
    fn lists_come_as_lists_from_the_file_and_comma_separated_from_the_environment() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "orderstream.toml",
                "allowed_origins = [\"https://a.example\"]",
            )?;
            let settings = Settings::load(Path::new("orderstream.toml"), &Flags::default())?;
            assert_eq!(settings.allowed_origins, ["https://a.example"]);
            jail.set_env(
                "ORDERSTREAM_ALLOWED_ORIGINS",
                "https://b.example, http://localhost:3000",
            );
            let settings = Settings::load(Path::new("orderstream.toml"), &Flags::default())?;
            assert_eq!(
                settings.allowed_origins,
                ["https://b.example", "http://localhost:3000"]
            );
            Ok(())
        });
    }
}
