//! A page in a browser context: navigate, click, type, wait, screenshot, and what it logged.
use serde_json::{json, Value};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::cdp::Connection;

pub struct Page {
    pub conn: Arc<Connection>,
    pub session: String,
    pub base: String,
}

/// Where screenshots go: `target/test-artifacts/`, kept after the run.
pub fn artifacts_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/test-artifacts");
    std::fs::create_dir_all(&dir).expect("artifacts dir");
    dir
}

impl Page {
    pub async fn cmd(&self, method: &str, params: Value) -> Value {
        self.conn
            .call(Some(&self.session), method, params)
            .await
            .unwrap_or_else(|e| panic!("{method}: {e}"))
    }

    /// Evaluates a JavaScript expression (promises awaited) and returns its value.
    pub async fn eval(&self, expression: &str) -> Value {
        self.try_eval(expression)
            .await
            .unwrap_or_else(|e| panic!("evaluating `{expression}`: {e}"))
    }

    pub async fn try_eval(&self, expression: &str) -> Result<Value, String> {
        let params = json!({"expression": expression, "returnByValue": true, "awaitPromise": true});
        let reply = self
            .conn
            .call(Some(&self.session), "Runtime.evaluate", params)
            .await?;
        if let Some(details) = reply.get("exceptionDetails") {
            return Err(details.to_string());
        }
        Ok(reply["result"]["value"].clone())
    }

    fn loads(&self) -> usize {
        self.conn.events(&self.session, "Page.loadEventFired").len()
    }

    /// Runs `action`, then waits until a new document has loaded.
    pub async fn expect_load<F: std::future::Future>(&self, action: F) -> F::Output {
        let before = self.loads();
        let out = action.await;
        for _ in 0..300 {
            if self.loads() > before {
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
        self.expect_load(async { self.cmd("Page.navigate", json!({"url": url})).await })
            .await;
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
        for kind in ["mousePressed", "mouseReleased"] {
            self.cmd(
                "Input.dispatchMouseEvent",
                json!({"type": kind, "x": x, "y": y, "button": "left", "clickCount": 1}),
            )
            .await;
        }
    }

    /// Focuses the field, clears it and types `text` (input events as from a keyboard).
    pub async fn fill(&self, selector: &str, text: &str) {
        let js = format!("(() => {{ const e = document.querySelector({}); e.focus(); e.select(); return true; }})()", json!(selector));
        self.eval(&js).await;
        self.cmd("Input.insertText", json!({"text": text})).await;
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

    /// A PNG of the whole page in `dir/<name>.png`.
    pub async fn screenshot_in(&self, dir: &std::path::Path, name: &str) -> PathBuf {
        use base64::Engine;
        let metrics = self.cmd("Page.getLayoutMetrics", json!({})).await;
        let size = &metrics["cssContentSize"];
        let clip =
            json!({"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1});
        let shot = self
            .cmd(
                "Page.captureScreenshot",
                json!({"format": "png", "clip": clip, "captureBeyondViewport": true}),
            )
            .await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().unwrap())
            .unwrap();
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).expect("screenshot written");
        path
    }

    /// Console errors, uncaught exceptions and error log entries, as text.
    pub fn console_errors(&self) -> Vec<String> {
        let mut errors = Vec::new();
        for e in self.conn.events(&self.session, "Runtime.consoleAPICalled") {
            if e["type"] == "error" || e["type"] == "assert" {
                errors.push(format!("console: {}", e["args"]));
            }
        }
        for e in self.conn.events(&self.session, "Runtime.exceptionThrown") {
            errors.push(format!("exception: {}", e["exceptionDetails"]));
        }
        for e in self.conn.events(&self.session, "Log.entryAdded") {
            if e["entry"]["level"] == "error" {
                errors.push(format!("log: {} {}", e["entry"]["text"], e["entry"]["url"]));
            }
        }
        errors
    }

    /// Every URL the page requested over HTTP or WebSocket.
    pub fn requested_urls(&self) -> Vec<String> {
        let http = self
            .conn
            .events(&self.session, "Network.requestWillBeSent")
            .into_iter()
            .map(|e| e["request"]["url"].as_str().unwrap_or_default().to_owned());
        let ws = self
            .conn
            .events(&self.session, "Network.webSocketCreated")
            .into_iter()
            .map(|e| e["url"].as_str().unwrap_or_default().to_owned());
        http.chain(ws).collect()
    }

    /// The HTTP status of the last document loaded from a URL containing `path`.
    pub fn document_status(&self, path: &str) -> Option<u64> {
        self.conn
            .events(&self.session, "Network.responseReceived")
            .into_iter()
            .rev()
            .filter(|e| {
                e["type"] == "Document"
                    && e["response"]["url"]
                        .as_str()
                        .is_some_and(|u| u.contains(path))
            })
            .find_map(|e| e["response"]["status"].as_u64())
    }
}
