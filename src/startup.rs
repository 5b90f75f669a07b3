//! Wires the application from settings: context (store, cache, actors, services), the HTTP
//! server, the background jobs. Each job lives in its own module below.
use actix_web::dev::{Server, ServerHandle};
use actix_web::web;
use std::net::TcpListener;
use std::sync::Arc;
use std::thread::JoinHandle;

use crate::config::Settings;
use crate::domain::clock::Clock;
use crate::http::live_settings::LiveSettings;
use crate::http::metrics::Metrics;
use crate::services::webhooks::dispatcher;
use crate::store::{SharedStorage, StoreError};

mod cache;
mod context;
mod database;
mod housekeeping;
mod limits;
mod mail;
mod metrics_listener;
mod secret;
mod server;
mod stopper;
mod webhooks;

pub use context::Context;
pub use database::{import_sled, migrate};
pub use stopper::Stopper;

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

pub struct Application {
    port: u16,
    server: Server,
    /// The private `/metrics` listener (`metrics_addr`), already running.
    metrics: Option<(u16, ServerHandle)>,
    store: SharedStorage,
    clock: Clock,
    live_stop: Arc<tokio::sync::watch::Sender<bool>>,
    /// The webhook dispatcher's thread; it ends when `live_stop` turns true.
    webhooks: Option<JoinHandle<()>>,
    /// The order-email thread, when mail is set up; it ends with the webhooks'.
    mail: Option<JoinHandle<()>>,
}

impl Application {
    /// Opens everything and binds (port 0 picks a free port). Call inside an actix System.
    pub async fn build(settings: Settings) -> Result<Application, StartupError> {
        Application::build_with_clock(settings, Clock::system()).await
    }

    /// As `build`, with every time-based rule read on `clock` (tests move it forward).
    pub async fn build_with_clock(
        settings: Settings,
        clock: Clock,
    ) -> Result<Application, StartupError> {
        let context = Context::open_with_clock(&settings, clock)?;
        context.prepare(&settings)?;
        context.follow_commits(&settings)?;
        let listener = TcpListener::bind(&settings.addr)?;
        let port = listener.local_addr()?.port();
        let mail_settings = mail::mail_settings(&settings, port)?;
        let (live_stop, shutdown) = tokio::sync::watch::channel(false);
        let metrics = web::Data::new(Metrics::new());
        let services = web::Data::new(context.services.clone());
        let metrics_listener = match &settings.metrics_addr {
            Some(addr) => Some(metrics_listener::start(addr, &metrics, &services)?),
            None => None,
        };
        let live = LiveSettings::start(&settings, shutdown);
        let server = server::serve(&settings, listener, services, metrics, live)?;
        housekeeping::spawn(context.services.clone());
        context.services.backups.start_schedule();
        let webhooks = dispatcher::start(
            context.store.clone(),
            webhooks::dispatch_settings(&settings),
            context.clock.clone(),
            live_stop.subscribe(),
        )?;
        let mail = mail::start_outbox(&settings, mail_settings, &context.store, &live_stop)?;
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
            clock: context.clock,
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

    /// The clock the application decides expiry and stamps times on.
    pub fn clock(&self) -> &Clock {
        &self.clock
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
            if stopper::wait_for_signal().await {
                tracing::info!("stopping: closing live streams, finishing requests");
                stopper.stop().await;
            }
        });
        self.server.await?;
        if let Some((_, metrics)) = &self.metrics {
            metrics.stop(true).await;
        }
        // Both threads hold a store handle: wait for them, so the database is closed when we
        // return.
        self.live_stop.send_replace(true);
        for (name, thread) in [
            ("webhooks", self.webhooks.take()),
            ("mail", self.mail.take()),
        ] {
            if let Some(thread) = thread {
                if !matches!(web::block(move || thread.join()).await, Ok(Ok(()))) {
                    tracing::error!(thread = name, "a background thread ended abnormally");
                }
            }
        }
        self.store
            .flush()
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        self.store.close();
        tracing::info!("stopped; database flushed");
        Ok(())
    }
}

fn display_host(addr: &str) -> String {
    addr.rsplit_once(':')
        .map(|(h, _)| h.to_owned())
        .unwrap_or_else(|| addr.to_owned())
}
