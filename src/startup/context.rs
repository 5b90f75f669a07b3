//! Everything but the HTTP server: store, cache, actors and services, which the CLI
//! subcommands use too.
use actix::{Actor, Addr};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use super::{cache, limits, secret, webhooks, StartupError};
use crate::actors::messages::{CredentialsChanged, Publish};
use crate::actors::{Hub, OrderRegistry};
use crate::auth::{PasswordHasher, TokenIssuer};
use crate::config::Settings;
use crate::domain::clock::Clock;
use crate::domain::user::{Email, Password};
use crate::services::backups::BackupSchedule;
use crate::services::shared_limits::SharedLimits;
use crate::services::throttle::LoginThrottle;
use crate::services::{
    Accounts, Backups, Carts, Catalog, Notifications, Orders, Services, Webhooks,
};
use crate::store::{CommitSink, SharedStorage, Store, StoreError};

/// Needs a running actix System.
pub struct Context {
    /// The backend every service shares (sled today: `open_store`).
    pub store: SharedStorage,
    pub services: Services,
    /// The clock every service decides time-based rules on.
    pub clock: Clock,
    /// Where committed events go live (see `follow_commits`).
    hub: Addr<Hub>,
}

impl Context {
    pub fn open(settings: &Settings) -> Result<Context, StartupError> {
        Context::open_with_clock(settings, Clock::system())
    }

    /// As `open`, on a given clock (tests move it instead of sleeping for an expiry).
    pub fn open_with_clock(settings: &Settings, clock: Clock) -> Result<Context, StartupError> {
        let store = open_backend(settings)?;
        store.set_stock_low_threshold(settings.stock_low_threshold);
        let tokens = TokenIssuer::new(
            secret::jwt_secret(settings, &store)?.as_bytes(),
            settings.access_ttl_seconds,
            settings.refresh_ttl_seconds,
            clock.clone(),
        );
        let hasher = PasswordHasher::new(settings.argon2_memory_kib, settings.argon2_iterations);
        let cache = Arc::new(cache::build(settings, &store)?);
        let throttle = LoginThrottle::new(
            settings.login_attempts_per_ip_per_minute,
            settings.login_failures_per_email_per_hour,
        )
        .with_registrations_per_address_per_hour(settings.registrations_per_ip_per_hour)
        .with_shared_counts(SharedLimits::new(
            cache.clone(),
            settings.login_attempts_per_ip_per_minute,
            settings.registrations_per_ip_per_hour,
            settings.login_failures_per_email_per_hour,
        ));
        let live_limits = limits::live_limits(settings);
        tracing::debug!(?live_limits, "live connection limits");
        let hub = Hub::with_limits(live_limits).start();
        let registry = OrderRegistry::new(store.clone(), hub.clone(), clock.clone()).start();
        let backup_schedule = BackupSchedule::from_settings(
            settings.backup_dir.as_deref(),
            settings.backup_every_hours,
            settings.backup_keep,
        );
        let services = Services {
            accounts: Accounts::new(store.clone(), hasher, tokens, throttle, hub.clone()),
            catalog: Catalog::new(store.clone(), cache, clock.clone()),
            cart: Carts::new(store.clone()),
            orders: Orders::new(store.clone(), hub.clone(), registry, clock.clone()),
            notifications: Notifications::new(store.clone(), hub.clone(), clock.clone()),
            backups: Backups::new(store.clone(), backup_schedule),
            webhooks: Webhooks::new(
                store.clone(),
                webhooks::sender_settings(settings),
                clock.clone(),
            ),
        };
        Ok(Context {
            store,
            services,
            clock,
            hub,
        })
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

    /// Hands what the database commits, from this process or another sharing it, to the live
    /// hub (a server's job: the CLI commands have no streams to feed).
    pub fn follow_commits(&self, settings: &Settings) -> Result<(), StartupError> {
        let (events_hub, revocations_hub) = (self.hub.clone(), self.hub.clone());
        let sink = CommitSink {
            events: Box::new(move |event| events_hub.do_send(Publish(Arc::new(event.clone())))),
            revocations: Box::new(move |r| revocations_hub.do_send(CredentialsChanged::from(r))),
        };
        let catch_up = Duration::from_millis(settings.live_catch_up_ms.max(10));
        self.store
            .follow_commits(sink, catch_up)
            .map_err(StartupError::Store)
    }

    /// What a server does to its data before serving: the configured admin, a hint when
    /// there is none, the demo catalog in an empty database, the live order counts.
    pub fn prepare(&self, settings: &Settings) -> Result<(), StartupError> {
        // Instances starting together on an empty database take turns: one creates the admin
        // and seeds the demo, the next finds them there.
        let _turn = self.store.start_up_lock().map_err(StartupError::Store)?;
        if let (Some(email), Some(password)) = (&settings.admin_email, &settings.admin_password) {
            self.ensure_admin(email, password.expose())?;
        }
        if self.store.admin_count().map_err(StartupError::Store)? == 0 {
            tracing::info!(
                "no admin yet: create one with `orderstream create-admin --email you@example.com`"
            );
        }
        if settings.demo && self.catalog_is_empty() {
            let seeded = self
                .services
                .catalog
                .seed_demo(settings.demo_products)
                .map_err(|e| StartupError::Config(e.to_string()))?;
            tracing::info!(
                products = seeded,
                "seeded a demo catalog (disable with --no-demo)"
            );
        }
        self.services
            .notifications
            .seed_order_counts()
            .map_err(|e| StartupError::Config(e.to_string()))
    }

    /// Asks sled, not the catalog index: the index may still be loading in the background.
    fn catalog_is_empty(&self) -> bool {
        self.store.catalog_is_empty().unwrap_or(false)
    }
}

/// The backend `database_url` names: PostgreSQL for a `postgres://` URL (in a build with the
/// `postgres` feature; a build without refuses it rather than fall back to sled), else sled in
/// `data_dir`.
fn open_backend(settings: &Settings) -> Result<SharedStorage, StartupError> {
    if settings.database_url.is_none() {
        return open_store(&settings.data_dir, settings.db_cache_mb);
    }
    match settings.postgres_url() {
        Some(url) => open_postgres(url, settings.database_pool_size),
        None => Err(StartupError::Config(
            "database_url must be a postgres:// URL (or unset, for the embedded database)".into(),
        )),
    }
}

#[cfg(feature = "postgres")]
fn open_postgres(url: &str, pool_size: u32) -> Result<SharedStorage, StartupError> {
    let pg =
        crate::store::postgres::Pg::connect(url, pool_size, true).map_err(StartupError::Store)?;
    Ok(Arc::new(pg))
}

#[cfg(not(feature = "postgres"))]
fn open_postgres(_url: &str, _pool_size: u32) -> Result<SharedStorage, StartupError> {
    Err(StartupError::Config(
        "database_url names PostgreSQL, but this build has no `postgres` feature \
         (build with `--features postgres`)"
            .into(),
    ))
}

/// Opens the database, waiting a moment if a process that is stopping still holds it.
fn open_store(dir: &Path, cache_mb: u64) -> Result<SharedStorage, StartupError> {
    let deadline = std::time::Instant::now() + Duration::from_secs(3);
    loop {
        match Store::open_with_cache(dir, cache_mb) {
            Ok(store) => return Ok(Arc::new(store)),
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
