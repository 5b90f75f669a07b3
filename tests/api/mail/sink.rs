//! A real SMTP server for the tests: `aiosmtpd` (from PyPI) on 127.0.0.1, which hands every
//! message it accepts, parsed by Python's `email` package, to the test as one JSON line.
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const SINK_PY: &str = r#"
import email, email.policy, json, sys, threading
from aiosmtpd.controller import Controller

class Sink:
    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        print(json.dumps({
            "to": envelope.rcpt_tos,
            "from": envelope.mail_from,
            "subject": str(msg["subject"]),
            "text": msg.get_body(("plain",)).get_content(),
            "html": msg.get_body(("html",)).get_content(),
        }), flush=True)
        return "250 OK"

controller = Controller(Sink(), hostname="127.0.0.1", port=int(sys.argv[1]))
controller.start()
print("ready", flush=True)
sys.stdin.read()  # until the test closes stdin or kills us
controller.stop()
"#;

#[derive(Debug, Clone, serde::Deserialize)]
pub struct Mail {
    pub to: Vec<String>,
    pub from: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

pub struct SmtpSink {
    child: Child,
    mails: Arc<Mutex<Vec<Mail>>>,
}

impl SmtpSink {
    /// Starts the sink on `port` and waits until it accepts connections.
    pub fn start(python: &Path, port: u16) -> SmtpSink {
        let mut child = Command::new(python)
            .args(["-c", SINK_PY, &port.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the aiosmtpd sink");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = lines.next().and_then(Result::ok);
        assert_eq!(
            first.as_deref(),
            Some("ready"),
            "the SMTP sink did not start"
        );
        let mails = Arc::new(Mutex::new(Vec::new()));
        let collected = mails.clone();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                let mail: Mail = serde_json::from_str(&line).expect("a mail as JSON");
                collected.lock().unwrap().push(mail);
            }
        });
        SmtpSink { child, mails }
    }

    pub fn mails(&self) -> Vec<Mail> {
        self.mails.lock().unwrap().clone()
    }

    /// Waits until `n` mails came in (panics after `within`).
    pub async fn wait_for(&self, n: usize, within: Duration) -> Vec<Mail> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let mails = self.mails();
            if mails.len() >= n {
                return mails;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "expected {n} mails, got {}: {mails:#?}",
                mails.len()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port nothing listens on right now (the mail server of a test that starts it later).
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().unwrap().port()
}
