//! A small Chrome DevTools Protocol client: starts Debian's headless `chromium` with a fresh
//! profile and opens isolated browser contexts (separate cookie jars), each with a `Page`.
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::Message;

pub use super::page::Page;

type Reply = Result<Value, String>;

/// One DevTools connection: commands by id, events kept for the checks at the end.
pub struct Connection {
    outgoing: mpsc::UnboundedSender<Message>,
    next_id: AtomicU64,
    pending: Mutex<HashMap<u64, oneshot::Sender<Reply>>>,
    events: Mutex<Vec<Value>>,
}

impl Connection {
    async fn open(url: &str) -> Arc<Connection> {
        let (socket, _) = tokio_tungstenite::connect_async(url)
            .await
            .expect("DevTools connection");
        let (mut sink, mut stream) = socket.split();
        let (outgoing, mut queue) = mpsc::unbounded_channel::<Message>();
        let conn = Arc::new(Connection {
            outgoing,
            next_id: AtomicU64::new(1),
            pending: Mutex::default(),
            events: Mutex::default(),
        });
        tokio::spawn(async move {
            while let Some(message) = queue.recv().await {
                if sink.send(message).await.is_err() {
                    break;
                }
            }
        });
        let reader = conn.clone();
        tokio::spawn(async move {
            while let Some(Ok(message)) = stream.next().await {
                let Message::Text(text) = message else {
                    continue;
                };
                let Ok(value) = serde_json::from_str::<Value>(text.as_str()) else {
                    continue;
                };
                match value["id"].as_u64() {
                    Some(id) => {
                        let reply = match value.get("error") {
                            Some(error) => Err(error.to_string()),
                            None => Ok(value["result"].clone()),
                        };
                        if let Some(tx) = reader.pending.lock().unwrap().remove(&id) {
                            let _ = tx.send(reply);
                        }
                    }
                    None => reader.events.lock().unwrap().push(value),
                }
            }
        });
        conn
    }

    pub async fn call(&self, session: Option<&str>, method: &str, params: Value) -> Reply {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mut command = json!({"id": id, "method": method, "params": params});
        if let Some(session) = session {
            command["sessionId"] = json!(session);
        }
        let (tx, rx) = oneshot::channel();
        self.pending.lock().unwrap().insert(id, tx);
        self.outgoing
            .send(Message::text(command.to_string()))
            .map_err(|e| e.to_string())?;
        match tokio::time::timeout(Duration::from_secs(30), rx).await {
            Ok(Ok(reply)) => reply,
            _ => Err(format!("no answer to {method}")),
        }
    }

    /// Events of one session (page) with the given method.
    pub fn events(&self, session: &str, method: &str) -> Vec<Value> {
        let events = self.events.lock().unwrap();
        events
            .iter()
            .filter(|e| e["sessionId"] == session && e["method"] == method)
            .map(|e| e["params"].clone())
            .collect()
    }
}

/// A headless chromium process with its own profile directory; killed when dropped.
pub struct Browser {
    pub conn: Arc<Connection>,
    _process: tokio::process::Child,
    _profile: tempfile::TempDir,
}

/// At most two browsers at a time: the test machine may have two cores.
static SLOTS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

impl Browser {
    pub async fn launch() -> (Browser, tokio::sync::SemaphorePermit<'static>) {
        let permit = SLOTS.acquire().await.expect("semaphore");
        let profile = tempfile::tempdir().expect("profile dir");
        let process = tokio::process::Command::new("chromium")
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-extensions",
                "--disable-dev-shm-usage",
                "--mute-audio",
                "--hide-scrollbars",
                "--window-size=1280,900",
                "--remote-debugging-port=0",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("chromium starts");
        // Chromium writes its port and browser endpoint once it listens.
        let port_file = profile.path().join("DevToolsActivePort");
        let mut endpoint = None;
        for _ in 0..300 {
            if let Ok(text) = std::fs::read_to_string(&port_file) {
                let lines: Vec<&str> = text.lines().collect();
                if lines.len() >= 2 {
                    endpoint = Some(format!("ws://127.0.0.1:{}{}", lines[0], lines[1]));
                    break;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let endpoint = endpoint.expect("chromium did not open its DevTools port within 30 s");
        let conn = Connection::open(&endpoint).await;
        (
            Browser {
                conn,
                _process: process,
                _profile: profile,
            },
            permit,
        )
    }

    /// A page in a new browser context: its own cookies and storage, like a separate browser.
    pub async fn new_context(&self, base: &str) -> Page {
        self.open_context(base, json!({"disposeOnDetach": true}))
            .await
    }

    /// A new context whose every request goes through the HTTP proxy on `port`, loopback
    /// included (by default browsers never proxy 127.0.0.1).
    pub async fn new_context_behind_proxy(&self, base: &str, port: u16) -> Page {
        let options = json!({"disposeOnDetach": true, "proxyServer": format!("http://127.0.0.1:{port}"), "proxyBypassList": "<-loopback>"});
        self.open_context(base, options).await
    }

    async fn open_context(&self, base: &str, options: Value) -> Page {
        let context = self
            .conn
            .call(None, "Target.createBrowserContext", options)
            .await
            .expect("context");
        let context = context["browserContextId"].as_str().unwrap().to_owned();
        let target = self
            .conn
            .call(
                None,
                "Target.createTarget",
                json!({"url": "about:blank", "browserContextId": context}),
            )
            .await
            .expect("target");
        let target = target["targetId"].as_str().unwrap().to_owned();
        let session = self
            .conn
            .call(
                None,
                "Target.attachToTarget",
                json!({"targetId": target, "flatten": true}),
            )
            .await
            .expect("attach");
        let session = session["sessionId"].as_str().unwrap().to_owned();
        let page = Page {
            conn: self.conn.clone(),
            session,
            base: base.trim_end_matches('/').to_owned(),
        };
        for domain in [
            "Page.enable",
            "Runtime.enable",
            "Log.enable",
            "Network.enable",
        ] {
            page.cmd(domain, json!({})).await;
        }
        page.cmd(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": false}),
        )
        .await;
        page
    }
}
