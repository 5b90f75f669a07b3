//! Logs of the real binary: no colour codes when stderr is a file (colour only on a terminal),
//! and `log_format = "json"` writes one JSON object a line.
use serde_json::Value;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Kills the server (SIGKILL) when dropped, whatever happened.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(dir: &Path, stderr: Stdio, env: &[(&str, &str)]) -> Server {
    let mut command = Command::new(env!("CARGO_BIN_EXE_orderstream"));
    command
        .arg("--config")
        .arg(dir.join("absent.toml"))
        .arg("--data-dir")
        .arg(dir.join("data"))
        .args(["serve", "--addr", "127.0.0.1:0", "--no-demo"])
        .env("RUST_LOG", "info")
        .env_remove("NO_COLOR")
        .env("ORDERSTREAM_WORKERS", "1")
        .stdout(Stdio::null())
        .stderr(stderr)
        .envs(crate::postgres_cluster::database_env(dir));
    for (key, value) in env {
        command.env(key, value);
    }
    Server(command.spawn().expect("start the orderstream binary"))
}

/// The log so far, once it says the server is serving; and the port it serves on.
async fn wait_serving(read: impl Fn() -> String) -> (String, u16) {
    for _ in 0..600 {
        let log = read();
        if let Some(at) = log.find("serving on http://127.0.0.1:") {
            let rest = &log[at + "serving on http://127.0.0.1:".len()..];
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            if let Ok(port) = digits.parse() {
                return (log, port);
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the server never said it was serving: {}", read());
}

/// A request the server logs a warning about, with structured fields.
async fn provoke_a_warning(port: u16) {
    let response = reqwest::Client::new()
        .get(format!("http://127.0.0.1:{port}/api/events/"))
        .header("Origin", "http://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
}

async fn log_to_file(format: Option<&str>) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("server.log");
    let file = std::fs::File::create(&path).unwrap();
    let env: Vec<(&str, &str)> = format
        .map(|f| ("ORDERSTREAM_LOG_FORMAT", f))
        .into_iter()
        .collect();
    let _server = start(dir.path(), file.into(), &env);
    let read = || std::fs::read_to_string(&path).unwrap_or_default();
    let (_, port) = wait_serving(read).await;
    provoke_a_warning(port).await;
    for _ in 0..100 {
        if read().contains("WARN") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    read()
}

#[tokio::test]
async fn text_logs_to_a_file_carry_no_colour_codes() {
    let log = log_to_file(None).await;
    assert!(log.contains("WARN"), "{log}");
    assert!(!log.contains('\u{1b}'), "ANSI escape in a file: {log:?}");
}

#[tokio::test]
async fn json_logs_are_one_object_a_line_with_level_message_and_fields() {
    let log = log_to_file(Some("json")).await;
    let lines: Vec<Value> = log
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l:?}")))
        .collect();
    assert!(lines
        .iter()
        .all(|l| l["timestamp"].is_string() && l["level"].is_string()));
    let serving = lines.iter().find(|l| {
        l["fields"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("serving on"))
    });
    assert!(serving.is_some(), "{log}");
    let warning = lines
        .iter()
        .find(|l| l["level"] == "WARN")
        .unwrap_or_else(|| panic!("no warning in {log}"));
    assert!(warning["fields"]["reason"].is_string(), "{warning}");
    assert!(!log.contains('\u{1b}'));
}

#[tokio::test]
async fn text_logs_to_a_terminal_are_coloured() {
    let (mut leader, mut follower) = (0, 0);
    let opened = unsafe {
        libc::openpty(
            &mut leader,
            &mut follower,
            std::ptr::null_mut(),
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    if opened != 0 {
        eprintln!("skipping: no pseudo-terminal here");
        return;
    }
    use std::os::fd::{FromRawFd, OwnedFd};
    let (leader, follower) =
        unsafe { (OwnedFd::from_raw_fd(leader), OwnedFd::from_raw_fd(follower)) };
    let dir = tempfile::tempdir().unwrap();
    let _server = start(dir.path(), follower.into(), &[]);
    // The terminal's output, collected by a thread (reads block until the server writes).
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = seen.clone();
    let mut terminal = std::fs::File::from(leader);
    std::thread::spawn(move || {
        use std::io::Read;
        let mut chunk = [0u8; 4096];
        while let Ok(n @ 1..) = terminal.read(&mut chunk) {
            sink.lock().unwrap().extend_from_slice(&chunk[..n]);
        }
    });
    let read = || String::from_utf8_lossy(&seen.lock().unwrap()).into_owned();
    let (log, _) = wait_serving(read).await;
    assert!(log.contains('\u{1b}'), "no colour on a terminal: {log:?}");
}
