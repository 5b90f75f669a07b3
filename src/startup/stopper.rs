//! Stops a running application in the order that loses nothing: live streams first (their
//! clients resume by replay), then the servers, gracefully.
use actix_web::dev::ServerHandle;
use std::sync::Arc;

#[derive(Clone)]
pub struct Stopper {
    pub(super) server: ServerHandle,
    pub(super) metrics: Option<ServerHandle>,
    pub(super) live: Arc<tokio::sync::watch::Sender<bool>>,
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

/// SIGINT or SIGTERM; false if no handler could be installed.
pub(super) async fn wait_for_signal() -> bool {
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
