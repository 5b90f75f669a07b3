//! Debian's headless `chromium`, driven over the DevTools protocol by chromiumoxide: a fresh
//! profile for each browser, and isolated browser contexts (separate cookie jars), each with a
//! `Page`.
use chromiumoxide::cdp::browser_protocol::browser::BrowserContextId;
use chromiumoxide::cdp::browser_protocol::target::{
    CloseTargetParams, CreateBrowserContextParams, CreateTargetParams, GetTargetsParams,
};
use chromiumoxide::error::CdpError;
use chromiumoxide::BrowserConfig;
use futures_util::StreamExt;
use serde_json::Value;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use super::page::Page;
use super::page::RECORDED;

/// Events chromiumoxide could not parse (raw, and why), which `Page` checks.
pub type Unparsed = Arc<Mutex<Vec<(Value, String)>>>;

/// A headless chromium process with its own profile directory; killed when dropped.
pub struct Browser {
    inner: chromiumoxide::Browser,
    unparsed: Unparsed,
    _profile: tempfile::TempDir,
}

/// At most two browsers at a time: the test machine may have two cores.
static SLOTS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

impl Browser {
    pub async fn launch() -> (Browser, tokio::sync::SemaphorePermit<'static>) {
        let permit = SLOTS.acquire().await.expect("semaphore");
        let profile = tempfile::tempdir().expect("profile dir");
        let chromium = std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
            .map(|dir| dir.join("chromium"))
            .find(|path| path.is_file())
            .expect("chromium on PATH");
        let config = BrowserConfig::builder()
            .chrome_executable(chromium)
            .user_data_dir(profile.path())
            // The flags below, not chromiumoxide's defaults; no viewport of its own (it would
            // also turn on touch emulation): each page sets its size.
            .disable_default_args()
            .no_sandbox()
            .window_size(1280, 900)
            .viewport(None)
            .launch_timeout(Duration::from_secs(30))
            .request_timeout(Duration::from_secs(30))
            .surface_invalid_messages()
            .args([
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-dev-shm-usage",
            ])
            .build()
            .expect("browser config");
        let (inner, mut handler) = chromiumoxide::Browser::launch(config)
            .await
            .expect("chromium starts");
        // The handler drives the DevTools connection. It keeps an event it cannot parse if a
        // page records that kind, so that the page's checks fail instead of missing it.
        let unparsed = Unparsed::default();
        let kept = unparsed.clone();
        tokio::spawn(async move {
            while let Some(next) = handler.next().await {
                if let Err(CdpError::InvalidMessage(text, error)) = next {
                    let message: Value = serde_json::from_str(&text).unwrap_or_default();
                    if RECORDED.iter().any(|method| message["method"] == *method) {
                        kept.lock().unwrap().push((message, error.to_string()));
                    }
                }
            }
        });
        let browser = Browser {
            inner,
            unparsed,
            _profile: profile,
        };
        (browser, permit)
    }

    /// A page in a new browser context: its own cookies and storage, like a separate browser.
    pub async fn new_context(&self, base: &str) -> Page {
        self.open_context(base, None).await
    }

    /// A new context whose every request goes through the HTTP proxy on `port`, loopback
    /// included (by default browsers never proxy 127.0.0.1).
    pub async fn new_context_behind_proxy(&self, base: &str, port: u16) -> Page {
        self.open_context(base, Some(format!("http://127.0.0.1:{port}")))
            .await
    }

    /// A new context in which WebSocket cannot connect, as behind a proxy that blocks it: a
    /// script that runs before the page's own replaces `WebSocket` with one whose every
    /// connection fails (`window.__blockedWebSockets` counts them). HTTP (and Server-Sent
    /// Events) still work.
    pub async fn new_context_without_websocket(&self, base: &str) -> Page {
        let page = self.new_context(base).await;
        page.run_before_every_document(include_str!("block_websocket.js"))
            .await;
        page
    }

    async fn open_context(&self, base: &str, proxy: Option<String>) -> Page {
        let options = CreateBrowserContextParams {
            dispose_on_detach: Some(true),
            proxy_bypass_list: proxy.as_ref().map(|_| "<-loopback>".to_owned()),
            proxy_server: proxy,
            ..Default::default()
        };
        let context = self
            .inner
            .create_browser_context(options)
            .await
            .expect("context");
        self.new_page(context, base).await
    }

    /// A new page (tab) in `context`, with its events recorded from the start.
    pub async fn new_page(&self, context: BrowserContextId, base: &str) -> Page {
        let target = CreateTargetParams {
            browser_context_id: Some(context.clone()),
            ..CreateTargetParams::new("about:blank")
        };
        let page = self.inner.new_page(target).await.expect("page");
        Page::start(page, context, base, self.unparsed.clone()).await
    }

    /// Closes the page's tab and waits until it is gone. `Target.closeTarget` answers before
    /// the tab has shut down, and a tab still running could take a live event meant for the
    /// next one (and move the last event id the browser keeps), which a closed tab cannot.
    pub async fn close(&self, page: Page) {
        let target = page.inner.target_id().clone();
        self.inner
            .execute(CloseTargetParams::new(target.clone()))
            .await
            .expect("page closed");
        for _ in 0..400 {
            let targets = self
                .inner
                .execute(GetTargetsParams::default())
                .await
                .expect("targets")
                .result
                .target_infos;
            if targets.iter().all(|t| t.target_id != target) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("the tab was still open 10 s after it was closed");
    }
}
