//! A page in a browser context: navigate, click, type, wait, screenshot, and what it logged.
use base64::Engine;
use chromiumoxide::cdp::browser_protocol::{browser, emulation, input, log, network, page};
use chromiumoxide::cdp::js_protocol::runtime;
use chromiumoxide::{cdp::IntoEventKind, types::MethodId, Command, Method};
use futures_util::StreamExt;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::cdp::Unparsed;

/// The events each page records, from its start.
pub const RECORDED: [&str; 7] = [
    "Runtime.consoleAPICalled",
    "Runtime.exceptionThrown",
    "Log.entryAdded",
    "Network.requestWillBeSent",
    "Network.webSocketCreated",
    "Network.responseReceived",
    "Page.loadEventFired",
];

pub struct Page {
    pub inner: chromiumoxide::Page,
    pub context: browser::BrowserContextId,
    pub base: String,
    log: Arc<Mutex<Log>>,
    unparsed: Unparsed,
}

/// What a page did, in order.
#[derive(Default)]
struct Log {
    errors: Vec<String>,
    /// Every URL requested over HTTP or WebSocket.
    urls: Vec<String>,
    /// (URL, status) of each document response.
    documents: Vec<(String, i64)>,
    loads: usize,
}

/// A DevTools method by name with JSON parameters, for the calls the tests spell out.
#[derive(Debug, serde::Serialize)]
#[serde(transparent)]
struct Raw(#[serde(skip)] String, Value);
impl Method for Raw {
    fn identifier(&self) -> MethodId {
        self.0.clone().into()
    }
}
impl Command for Raw {
    type Response = Value;
}

/// Where screenshots go: `target/test-artifacts/`, kept after the run.
pub fn artifacts_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/test-artifacts");
    std::fs::create_dir_all(&dir).expect("artifacts dir");
    dir
}

impl Page {
    pub(super) async fn start(
        inner: chromiumoxide::Page,
        context: browser::BrowserContextId,
        base: &str,
        unparsed: Unparsed,
    ) -> Page {
        let page = Page {
            inner,
            context,
            base: base.trim_end_matches('/').to_owned(),
            log: Arc::default(),
            unparsed,
        };
        page.record(|log, e: &runtime::EventConsoleApiCalled| {
            use runtime::ConsoleApiCalledType::{Assert, Error};
            if matches!(e.r#type, Error | Assert) {
                log.errors.push(format!("console: {}", json!(e.args)));
            }
        })
        .await;
        page.record(|log, e: &runtime::EventExceptionThrown| {
            let details = json!(e.exception_details);
            log.errors.push(format!("exception: {details}"));
        })
        .await;
        page.record(|log, e: &log::EventEntryAdded| {
            if e.entry.level == log::LogEntryLevel::Error {
                let url = e.entry.url.as_deref().unwrap_or_default();
                log.errors.push(format!("log: {} {url}", e.entry.text));
            }
        })
        .await;
        page.record(|log, e: &network::EventRequestWillBeSent| {
            log.urls.push(e.request.url.clone());
        })
        .await;
        page.record(|log, e: &network::EventWebSocketCreated| log.urls.push(e.url.clone()))
            .await;
        page.record(|log, e: &network::EventResponseReceived| {
            if e.r#type == network::ResourceType::Document {
                let (url, status) = (e.response.url.clone(), e.response.status);
                log.documents.push((url, status));
            }
        })
        .await;
        page.record(|log, _: &page::EventLoadEventFired| log.loads += 1)
            .await;
        page.inner
            .execute(emulation::SetDeviceMetricsOverrideParams::new(
                1280, 900, 1., false,
            ))
            .await
            .expect("page size");
        page
    }

    /// Keeps every event of type `E` in the log, through `keep`.
    async fn record<E: IntoEventKind + Unpin + Send + Sync + 'static>(
        &self,
        keep: fn(&mut Log, &E),
    ) {
        let mut events = self.inner.event_listener::<E>().await.expect("listener");
        let log = self.log.clone();
        tokio::spawn(async move {
            while let Some(event) = events.next().await {
                keep(&mut log.lock().unwrap(), &event);
            }
        });
    }

    /// The log, once sure that no event of this page was lost to a parse error (with a
    /// protocol newer than chromiumoxide's, one might be).
    fn log(&self) -> std::sync::MutexGuard<'_, Log> {
        let session = self.inner.session_id().as_ref();
        for (message, error) in self.unparsed.lock().unwrap().iter() {
            assert!(
                message["sessionId"] != session,
                "chromiumoxide could not parse an event of this page ({error}): {message}"
            );
        }
        self.log.lock().unwrap()
    }

    pub async fn cmd(&self, method: &str, params: Value) -> Value {
        self.inner
            .execute(Raw(method.to_owned(), params))
            .await
            .unwrap_or_else(|e| panic!("{method}: {e}"))
            .result
    }

    /// Runs `source` in every new document of this page, before the page's own scripts.
    pub async fn run_before_every_document(&self, source: &str) {
        self.inner
            .execute(page::AddScriptToEvaluateOnNewDocumentParams::new(source))
            .await
            .expect("script added");
    }

    /// Evaluates a JavaScript expression (promises awaited) and returns its value.
    pub async fn eval(&self, expression: &str) -> Value {
        self.try_eval(expression)
            .await
            .unwrap_or_else(|e| panic!("evaluating `{expression}`: {e}"))
    }

    pub async fn try_eval(&self, expression: &str) -> Result<Value, String> {
        let params = runtime::EvaluateParams::builder()
            .expression(expression)
            .return_by_value(true)
            .await_promise(true)
            .build()?;
        let reply = self
            .inner
            .execute(params)
            .await
            .map_err(|e| e.to_string())?;
        if let Some(details) = &reply.exception_details {
            return Err(json!(details).to_string());
        }
        Ok(reply.result.result.value.clone().unwrap_or_default())
    }

    /// Runs `action`, then waits until a new document has loaded.
    pub async fn expect_load<F: std::future::Future>(&self, action: F) -> F::Output {
        let before = self.log().loads;
        let out = action.await;
        for _ in 0..300 {
            if self.log().loads > before {
                return out;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("no page load within 15 s");
    }

    pub async fn goto(&self, path: &str) {
        let url = if path.starts_with("http") {
            path.to_owned()
        } else {
            format!("{}{path}", self.base)
        };
        let navigate = self.inner.execute(page::NavigateParams::new(url.clone()));
        self.expect_load(navigate)
            .await
            .unwrap_or_else(|e| panic!("navigating to {url}: {e}"));
    }

    /// Polls a JavaScript condition until it is true; panics with `what` after `timeout`.
    pub async fn wait_for(&self, condition: &str, timeout: Duration, what: &str) {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if let Ok(Value::Bool(true)) = self.try_eval(&format!("!!({condition})")).await {
                return;
            }
            if tokio::time::Instant::now() > deadline {
                let errors = self.console_errors();
                panic!("timed out after {timeout:?} waiting for {what} (`{condition}`); console errors: {errors:#?}");
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    pub async fn text(&self, selector: &str) -> String {
        let js = format!(
            "(document.querySelector({}) || {{}}).textContent || ''",
            json!(selector)
        );
        self.eval(&js)
            .await
            .as_str()
            .unwrap_or_default()
            .trim()
            .to_owned()
    }

    pub async fn path(&self) -> String {
        self.eval("location.pathname + location.search")
            .await
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Waits until htmx has no request in flight and has finished settling new content (before
    /// that, fresh elements are not wired up yet, and a click would be a plain form post).
    pub async fn htmx_idle(&self) {
        let busy =
            "document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling, .htmx-added')";
        self.wait_for(
            &format!("!{busy}"),
            Duration::from_secs(10),
            "htmx to settle",
        )
        .await;
    }

    /// A real mouse click in the middle of the element, once htmx is idle.
    pub async fn click(&self, selector: &str) {
        self.htmx_idle().await;
        let js = format!(
            "(() => {{ const e = document.querySelector({}); if (!e) return null; e.scrollIntoView({{block: 'center'}}); const r = e.getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; }})()",
            json!(selector)
        );
        let at = self.eval(&js).await;
        let (x, y) = match at.as_array() {
            Some(xy) => (xy[0].as_f64().unwrap(), xy[1].as_f64().unwrap()),
            None => panic!("nothing to click at {selector}"),
        };
        use input::DispatchMouseEventType::{MousePressed, MouseReleased};
        for kind in [MousePressed, MouseReleased] {
            let mut event = input::DispatchMouseEventParams::new(kind, x, y);
            event.button = Some(input::MouseButton::Left);
            event.click_count = Some(1);
            self.inner.execute(event).await.expect("mouse event");
        }
    }

    /// Focuses the field, clears it and types `text` (input events as from a keyboard).
    pub async fn fill(&self, selector: &str, text: &str) {
        let js = format!("(() => {{ const e = document.querySelector({}); e.focus(); e.select(); return true; }})()", json!(selector));
        self.eval(&js).await;
        self.inner
            .execute(input::InsertTextParams::new(text))
            .await
            .expect("text typed");
    }

    /// Chooses an option of a <select> by value, as a user would (a bubbling change event).
    pub async fn select(&self, selector: &str, value: &str) {
        let js = format!(
            "(() => {{ const e = document.querySelector({}); e.focus(); e.value = {}; e.dispatchEvent(new Event('input', {{bubbles: true}})); e.dispatchEvent(new Event('change', {{bubbles: true}})); return e.value; }})()",
            json!(selector),
            json!(value)
        );
        assert_eq!(
            self.eval(&js).await,
            json!(value),
            "option {value} of {selector}"
        );
    }

    /// A PNG of the whole page in `target/test-artifacts/<name>.png`.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        self.screenshot_in(&artifacts_dir(), name).await
    }

    /// A PNG of the whole page (beyond the viewport) in `dir/<name>.png`.
    pub async fn screenshot_in(&self, dir: &std::path::Path, name: &str) -> PathBuf {
        let metrics = self.inner.layout_metrics().await.expect("layout metrics");
        let size = &metrics.css_content_size;
        let shot = page::CaptureScreenshotParams {
            format: Some(page::CaptureScreenshotFormat::Png),
            clip: Some(page::Viewport {
                x: 0.,
                y: 0.,
                width: size.width,
                height: size.height,
                scale: 1.,
            }),
            capture_beyond_viewport: Some(true),
            ..Default::default()
        };
        let shot = self.inner.execute(shot).await.expect("screenshot");
        let png = base64::engine::general_purpose::STANDARD
            .decode(AsRef::<str>::as_ref(&shot.data))
            .unwrap();
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).expect("screenshot written");
        path
    }

    /// Console errors, uncaught exceptions and error log entries, as text.
    pub fn console_errors(&self) -> Vec<String> {
        self.log().errors.clone()
    }

    /// Every URL the page requested over HTTP or WebSocket.
    pub fn requested_urls(&self) -> Vec<String> {
        self.log().urls.clone()
    }

    /// The HTTP status of the last document loaded from a URL containing `path`.
    pub fn document_status(&self, path: &str) -> Option<u64> {
        self.log()
            .documents
            .iter()
            .rev()
            .find(|(url, _)| url.contains(path))
            .map(|(_, status)| *status as u64)
    }
}
