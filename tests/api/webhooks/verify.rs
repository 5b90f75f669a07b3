//! Checks webhook signatures twice: with a few lines of Rust written from the Standard Webhooks
//! specification, and with the `standardwebhooks` package from PyPI (the reference library
//! receivers use), installed into a virtualenv under target/.
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use super::receiver::Received;

/// True when one of the space-separated signatures is the HMAC of `{id}.{timestamp}.{body}`.
pub fn rust_verifies(secret: &str, message: &Received) -> bool {
    let key = BASE64
        .decode(secret.strip_prefix("whsec_").expect("whsec_ prefix"))
        .expect("base64 secret");
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{}.{}.", message.id, message.timestamp).as_bytes());
    mac.update(&message.body);
    let expected = BASE64.encode(mac.finalize().into_bytes());
    message
        .signature
        .split(' ')
        .filter_map(|s| s.strip_prefix("v1,"))
        .any(|s| s == expected)
}

const VERIFY_PY: &str = r#"
import json, sys
from standardwebhooks.webhooks import Webhook
job = json.load(sys.stdin)
hook = Webhook(job["secret"])
for m in job["messages"]:
    headers = {"webhook-id": m["id"], "webhook-timestamp": m["timestamp"], "webhook-signature": m["signature"]}
    hook.verify(m["body"], headers)  # raises on a bad signature
print("verified", len(job["messages"]))
"#;

/// The virtualenv's python with `standardwebhooks`, or None (skip) outside CI when it cannot
/// be installed; in CI (`CI=true`) that fails the test.
pub fn python_with_standardwebhooks() -> Option<PathBuf> {
    crate::python_venv::python_with(
        "webhooks-venv",
        "standardwebhooks==1.1.0",
        "standardwebhooks",
    )
}

/// Runs the reference library over every message; panics when one does not verify.
pub fn python_verifies(python: &PathBuf, secret: &str, messages: &[Received]) {
    let job = serde_json::json!({
        "secret": secret,
        "messages": messages.iter().map(|m| serde_json::json!({
            "id": m.id,
            "timestamp": m.timestamp,
            "signature": m.signature,
            "body": String::from_utf8_lossy(&m.body),
        })).collect::<Vec<_>>(),
    });
    let mut child = Command::new(python)
        .args(["-c", VERIFY_PY])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run python");
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(job.to_string().as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "standardwebhooks refused a delivery: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}
