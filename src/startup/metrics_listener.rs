//! The private listener of `metrics_addr`: `/metrics` and nothing else, for a scraper on the
//! host or an internal network, so the public port need not serve it.
use actix_web::dev::ServerHandle;
use actix_web::{web, App, HttpServer};
use std::net::TcpListener;

use super::StartupError;
use crate::services::Services;

/// Starts the private listener that serves only `/metrics`; returns its port and handle.
pub fn start(
    addr: &str,
    metrics: &web::Data<crate::http::metrics::Metrics>,
    services: &web::Data<Services>,
) -> Result<(u16, ServerHandle), StartupError> {
    let listener = TcpListener::bind(addr)
        .map_err(|e| StartupError::Config(format!("metrics_addr {addr}: {e}")))?;
    let port = listener.local_addr()?.port();
    let (metrics, services) = (metrics.clone(), services.clone());
    let server = HttpServer::new(move || {
        App::new()
            .app_data(metrics.clone())
            .app_data(services.clone())
            .configure(crate::http::metrics_access::configure_listener)
    })
    .workers(1)
    .disable_signals()
    .listen(listener)?
    .run();
    let handle = server.handle();
    actix_web::rt::spawn(server);
    tracing::info!(
        "metrics on http://{}:{}/metrics",
        super::display_host(addr),
        port
    );
    Ok((port, handle))
}
