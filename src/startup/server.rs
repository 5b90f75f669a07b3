//! The public HTTP server: the shared app data, the middleware stack, the routes.
use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{web, App, HttpServer};
use std::net::TcpListener;
use std::time::Duration;

use super::StartupError;
use crate::config::Settings;
use crate::http::cached_reads::{CachedReads, Placement};
use crate::http::live_settings::LiveSettings;
use crate::http::metrics::Metrics;
use crate::services::Services;

/// Starts serving on `listener` (the returned server runs once awaited or spawned).
pub fn serve(
    settings: &Settings,
    listener: TcpListener,
    services: web::Data<Services>,
    metrics: web::Data<Metrics>,
    live: LiveSettings,
) -> Result<Server, StartupError> {
    let live = web::Data::new(live);
    let metrics_token = web::Data::new(crate::http::metrics_access::MetricsToken(
        settings.metrics_token.clone(),
    ));
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
    let cookies = web::Data::new(crate::http::pages::CookiePolicy {
        secure: settings.cookie_secure,
    });
    let server = HttpServer::new(move || {
        App::new()
            .app_data(services.clone())
            .app_data(live.clone())
            .app_data(metrics.clone())
            .app_data(cookies.clone())
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
    .workers(workers(settings))
    .shutdown_timeout(10)
    // Signals are ours (see `Application::run_until_stopped`): live streams must close before
    // the stop.
    .disable_signals()
    .listen(listener)?
    .run();
    Ok(server)
}

/// `workers = 0` means one per core.
fn workers(settings: &Settings) -> usize {
    if settings.workers == 0 {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
    } else {
        settings.workers
    }
}
