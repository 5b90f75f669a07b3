//! Builds the application from settings: store, cache, actors, services, HTTP server.
use actix::Actor;
use actix_web::dev::{Server, ServerHandle};
use actix_web::middleware::from_fn;
use actix_web::{web, App, HttpServer};
use std::io::Write;
use std::net::TcpListener;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use crate::actors::{Hub, OrderRegistry};
use crate::auth::{PasswordHasher, TokenIssuer};
use crate::cache::Cache;
use crate::config::Settings;
use crate::domain::user::{Email, Password};
use crate::http::cached_reads::{CachedReads, Placement};
use crate::http::live_settings::{Heartbeat, LiveSettings};
use crate::services::backups::BackupSchedule;
use crate::services::throttle::LoginThrottle;
use crate::services::webhooks::dispatcher;
use crate::services::{
    Accounts, Backups, Carts, Catalog, Notifications, Orders, Services, Webhooks,
};
use crate::store::{Store, StoreError};

mod limits;
mod mail;
mod metrics_listener;
mod webhooks;

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(
        "the database in {0} is in use by another OrderStream process (is the server running?)"
    )]
    DatabaseLocked(String),
    #[error("could not open the database: {0}")]
    Store(StoreError),
    #[error("{0}")]
    Config(String),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Stops the application: closes live streams first, then stops the servers gracefully.
#[derive(Clone)]
pub struct Stopper {
    server: ServerHandle,
    metrics: Option<ServerHandle>,
    live: Arc<tokio::sync::watch::Sender<bool>>,
}

impl Stopper {
    pub async fn stop(&self) {
        self.live.send_replace(true);
        if let Some(metrics) = &self.metrics {
            metrics.stop(true).await;
        }
        self.server.stop(true).await;
    }

    /// Starts stopping without waiting (for Drop impls).
    pub fn stop_now(&self) {
        self.live.send_replace(true);
        if let Some(metrics) = &self.metrics {
            drop(metrics.stop(false));
        }
        drop(self.server.stop(false));
    }
}

/// Everything but the HTTP server: what the CLI subcommands use too. Needs a running actix System.
pub struct Context {
    pub store: Store,
    pub services: Services,
}

impl Context {
    pub fn open(settings: &Settings) -> Result<Context, StartupError> {
        let store = open_store(&settings.data_dir, settings.db_cache_mb)?;
        store.set_stock_low_threshold(settings.stock_low_threshold);
        let secret = match &settings.jwt_secret {
            Some(secret) => secret.expose().to_owned(),
            None => load_or_create_secret(&settings.data_dir)?,
        };
        let tokens = TokenIssuer::new(
            secret.as_bytes(),
            settings.access_ttl_seconds,
            settings.refresh_ttl_seconds,
        );
        let hasher = PasswordHasher::new(settings.argon2_memory_kib, settings.argon2_iterations);
        let throttle = LoginThrottle::new(
            settings.login_attempts_per_ip_per_minute,
            settings.login_failures_per_email_per_hour,
        )
        .with_registrations_per_address_per_hour(settings.registrations_per_ip_per_hour);
        let cache = Arc::new(build_cache(settings, &store)?);
        let live_limits = limits::live_limits(settings);
        tracing::debug!(?live_limits, "live connection limits");
        let hub = Hub::with_limits(live_limits).start();
        let registry = OrderRegistry::new(store.clone(), hub.clone()).start();
        let services = Services {
            accounts: Accounts::new(store.clone(), hasher, tokens, throttle, hub.clone()),
            catalog: Catalog::new(store.clone(), cache),
            cart: Carts::new(store.clone()),
            orders: Orders::new(store.clone(), hub.clone(), registry),
            notifications: Notifications::new(store.clone(), hub),
            backups: Backups::new(
                store.clone(),
                BackupSchedule::from_settings(
                    settings.backup_dir.as_deref(),
                    settings.backup_every_hours,
                    settings.backup_keep,
                ),
            ),
            webhooks: Webhooks::new(store.clone(), webhooks::sender_settings(settings)),
        };
        Ok(Context { store, services })
    }

    pub fn ensure_admin(&self, email: &str, password: &str) -> Result<(), StartupError> {
        let email = Email::parse(email).map_err(|e| StartupError::Config(e.to_string()))?;
        let password = Password::parse("password", password)
            .map_err(|e| StartupError::Config(e.to_string()))?;
        self.services
            .accounts
            .ensure_admin(&email, &password)
            .map_err(|e| StartupError::Config(e.to_string()))?;
        Ok(())
    }
}

/// Opens the database, waiting a moment if a process that is stopping still holds it.
fn open_store(dir: &Path, cache_mb: u64) -> Result<Store, StartupError> {
    let deadline = std::time::Instant::now() + Duration::from_secs(3);
    loop {
        match Store::open_with_cache(dir, cache_mb) {
            Ok(store) => return Ok(store),
            Err(StoreError::Locked) if std::time::Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(50))
            }
            Err(StoreError::Locked) => {
                return Err(StartupError::DatabaseLocked(dir.display().to_string()))
            }
            Err(other) => return Err(StartupError::Store(other)),
        }
    }
}

#[cfg(not(feature = "redis"))]
fn build_cache(settings: &Settings, _store: &Store) -> Result<Cache, StartupError> {
    if settings.redis_url.is_some() {
        tracing::warn!(
            "redis_url is set but this build has no `redis` feature; using the in-process cache"
        );
    }
    Ok(Cache::in_process(
        settings.cache_ttl_seconds,
        settings.cache_capacity_mb * 1024 * 1024,
    ))
}

#[cfg(feature = "redis")]
fn build_cache(settings: &Settings, store: &Store) -> Result<Cache, StartupError> {
    let local = Cache::in_process(
        settings.cache_ttl_seconds,
        settings.cache_capacity_mb * 1024 * 1024,
    );
    match &settings.redis_url {
        Some(url) => {
            let remote = crate::cache::RedisCache::connect(
                url,
                &store.database_id(),
                settings.cache_ttl_seconds,
            )
            .map_err(|e| StartupError::Config(format!("redis_url: {e}")))?;
            Ok(local.with_redis(remote))
        }
        None => Ok(local),
    }
}

/// The JWT secret kept in the data dir (mode 0600), so restarts keep sessions valid.
fn load_or_create_secret(dir: &Path) -> Result<String, StartupError> {
    let path = dir.join("jwt_secret");
    if let Ok(existing) = std::fs::read_to_string(&path) {
        if existing.trim().len() >= 32 {
            return Ok(existing.trim().to_owned());
        }
    }
    let secret = TokenIssuer::generate_secret();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&path)?;
    file.write_all(secret.as_bytes())?;
    file.sync_all()?;
    Ok(secret)
}

pub struct Application {
    port: u16,
    server: Server,
    /// The private `/metrics` listener (`metrics_addr`), already running.
    metrics: Option<(u16, ServerHandle)>,
    store: Store,
    live_stop: Arc<tokio::sync::watch::Sender<bool>>,
    /// The webhook dispatcher's thread; it ends when `live_stop` turns true.
    webhooks: Option<std::thread::JoinHandle<()>>,
    /// The order-email thread, when mail is set up; it ends with the webhooks'.
    mail: Option<std::thread::JoinHandle<()>>,
}

impl Application {
    /// Opens everything and binds (port 0 picks a free port). Call inside an actix System.
    pub async fn build(settings: Settings) -> Result<Application, StartupError> {
        let context = Context::open(&settings)?;
        if let (Some(email), Some(password)) = (&settings.admin_email, &settings.admin_password) {
            context.ensure_admin(email, password.expose())?;
        }
        if context.store.admin_count().map_err(StartupError::Store)? == 0 {
            tracing::info!(
                "no admin yet: create one with `orderstream create-admin --email you@example.com`"
            );
        }
        if settings.demo && context.store.catalog_is_empty().unwrap_or(false) {
            let seeded = context
                .services
                .catalog
                .seed_demo(settings.demo_products)
                .map_err(|e| StartupError::Config(e.to_string()))?;
            tracing::info!(
                products = seeded,
                "seeded a demo catalog (disable with --no-demo)"
            );
        }
        let listener = TcpListener::bind(&settings.addr)?;
        let port = listener.local_addr()?.port();
        let mail_settings = mail::mail_settings(&settings, port)?;
        let (live_stop, shutdown) = tokio::sync::watch::channel(false);
        let live = LiveSettings {
            ws_ping: Duration::from_secs(settings.ws_ping_seconds.max(1)),
            ws_timeout: Duration::from_secs(settings.ws_timeout_seconds.max(1)),
            sse_keepalive: Duration::from_secs(settings.sse_keepalive_seconds.max(1)),
            shutdown,
            heartbeat: Arc::new(Heartbeat::start(Duration::from_secs(
                settings.ws_ping_seconds.max(1),
            ))),
        };
        context
            .services
            .notifications
            .seed_order_counts()
            .map_err(|e| StartupError::Config(e.to_string()))?;
        let metrics = web::Data::new(crate::http::metrics::Metrics::new());
        let services = web::Data::new(context.services.clone());
        let metrics_listener = match &settings.metrics_addr {
            Some(addr) => Some(metrics_listener::start(addr, &metrics, &services)?),
            None => None,
        };
        let metrics_token = web::Data::new(crate::http::metrics_access::MetricsToken(
            settings.metrics_token.clone(),
        ));
        let live = web::Data::new(live);
        let origins = web::Data::new(crate::http::origin::AllowedOrigins::new(
            &settings.allowed_origins,
        ));
        let trusted_proxies = web::Data::new(
            crate::http::client_address::TrustedProxies::parse(&settings.trusted_proxies)
                .map_err(StartupError::Config)?,
        );
        let request_timeout = web::Data::new(crate::http::deadline::RequestTimeout(
            (settings.request_timeout_seconds > 0)
                .then(|| Duration::from_secs(settings.request_timeout_seconds)),
        ));
        let rotations = web::Data::new(crate::http::pages::session::RotationGrace::default());
        let cookies = web::Data::new(crate::http::pages::CookiePolicy {
            secure: settings.cookie_secure,
        });
        let workers = if settings.workers == 0 {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2)
        } else {
            settings.workers
        };
        let server = HttpServer::new(move || {
            App::new()
                .app_data(services.clone())
                .app_data(live.clone())
                .app_data(metrics.clone())
                .app_data(cookies.clone())
                .app_data(rotations.clone())
                .app_data(origins.clone())
                .app_data(metrics_token.clone())
                .app_data(trusted_proxies.clone())
                .app_data(request_timeout.clone())
                .app_data(web::PayloadConfig::new(
                    crate::http::extract::MAX_BODY_BYTES,
                ))
                // Innermost first: URI limits, the answer deadline, metrics, path normalization,
                // security headers and the request id (so every response and log line has one).
                .wrap(from_fn(crate::http::extract::limit_uri))
                .wrap(from_fn(crate::http::deadline::bound))
                .wrap(from_fn(crate::http::metrics::track))
                .wrap(crate::http::normalize_path())
                .wrap(crate::http::security_headers())
                .wrap(from_fn(crate::http::request_id::assign))
                .wrap(CachedReads::new(
                    services.catalog.clone(),
                    &metrics,
                    Placement::BehindClientAddress,
                ))
                // Forwarding headers of untrusted peers are gone before anything reads them.
                .wrap(from_fn(crate::http::client_address::decide))
                // Outermost: cached catalog answers to requests without forwarding headers.
                .wrap(CachedReads::new(
                    services.catalog.clone(),
                    &metrics,
                    Placement::InFrontOfClientAddress,
                ))
                .configure(crate::http::configure)
        })
        .workers(workers)
        .shutdown_timeout(10)
        // Signals are ours (see `run_until_stopped`): live streams must close before the stop.
        .disable_signals()
        .listen(listener)?
        .run();
        spawn_housekeeping(context.services.clone());
        context.services.backups.start_schedule();
        let webhooks = dispatcher::start(
            context.store.clone(),
            webhooks::dispatch_settings(&settings),
            live_stop.subscribe(),
        )?;
        let mail = match mail_settings {
            Some(mail_settings) => {
                tracing::info!(settings = ?mail_settings, "order emails are on");
                let retry = webhooks::dispatch_settings(&settings).retry;
                Some(crate::services::mail::outbox::start(
                    context.store.clone(),
                    crate::services::mail::Mailer::new(mail_settings),
                    retry,
                    live_stop.subscribe(),
                )?)
            }
            None => {
                // Emails switched on later start from that moment: nothing piles up meanwhile.
                context
                    .store
                    .clear_mail_state()
                    .map_err(StartupError::Store)?;
                None
            }
        };
        tracing::info!(
            "OrderStream serving on http://{}:{}/",
            display_host(&settings.addr),
            port
        );
        Ok(Application {
            port,
            server,
            metrics: metrics_listener,
            store: context.store,
            live_stop: Arc::new(live_stop),
            webhooks: Some(webhooks),
            mail,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The port of the `/metrics` listener, when `metrics_addr` is set.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics.as_ref().map(|(port, _)| *port)
    }

    pub fn stopper(&self) -> Stopper {
        Stopper {
            server: self.server.handle(),
            metrics: self.metrics.as_ref().map(|(_, handle)| handle.clone()),
            live: self.live_stop.clone(),
        }
    }

    /// Serves until stopped (SIGINT/SIGTERM or a `Stopper`): live streams close, in-flight
    /// requests finish, then sled is flushed.
    pub async fn run_until_stopped(mut self) -> std::io::Result<()> {
        let stopper = self.stopper();
        actix_web::rt::spawn(async move {
            if wait_for_signal().await {
                tracing::info!("stopping: closing live streams, finishing requests");
                stopper.stop().await;
            }
        });
        self.server.await?;
        if let Some((_, metrics)) = &self.metrics {
            metrics.stop(true).await;
        }
        if let Some(webhooks) = self.webhooks.take() {
            // It holds a store handle: wait for it, so the database is closed when we return.
            self.live_stop.send_replace(true);
            let _ = web::block(move || webhooks.join()).await;
        }
        if let Some(mail) = self.mail.take() {
            self.live_stop.send_replace(true);
            let _ = web::block(move || mail.join()).await;
        }
        self.store
            .flush()
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        tracing::info!("stopped; database flushed");
        Ok(())
    }
}

/// SIGINT or SIGTERM; false if no handler could be installed.
async fn wait_for_signal() -> bool {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let (Ok(mut term), Ok(mut int)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) else {
            return false;
        };
        tokio::select! {
            _ = term.recv() => true,
            _ = int.recv() => true,
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await.is_ok()
    }
}

fn display_host(addr: &str) -> String {
    addr.rsplit_once(':')
        .map(|(h, _)| h.to_owned())
        .unwrap_or_else(|| addr.to_owned())
}

/// Hourly pruning of expired tokens, idempotency keys and old webhook delivery attempts.
fn spawn_housekeeping(services: Services) {
    actix_web::rt::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(3600));
        loop {
            every.tick().await;
            let services = services.clone();
            let pruned = web::block(move || {
                [
                    ("expired tokens", services.accounts.prune()),
                    ("idempotency keys", services.orders.prune()),
                    ("webhook deliveries", services.webhooks.prune()),
                ]
            })
            .await;
            // A failed prune only leaves garbage for the next hour, but it must be seen.
            for (what, outcome) in pruned.into_iter().flatten() {
                match outcome {
                    Ok(removed) => tracing::debug!(what, removed, "housekeeping"),
                    Err(error) => tracing::warn!(what, %error, "housekeeping failed"),
                }
            }
        }
    });
}
