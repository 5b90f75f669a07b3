//! A throwaway nginx (Debian's package) in front of a test server: its own config in a temp
//! dir, no root, `daemon off`, one process, a free port; proxies HTTP, SSE and WebSocket the way
//! the README tells a self-hoster to.
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::helpers::require_tool;

pub struct Nginx {
    pub port: u16,
    child: Child,
    dir: tempfile::TempDir,
}

/// Debian installs nginx in /usr/sbin, which is not on a normal user's PATH.
fn binary() -> Option<PathBuf> {
    let packaged = PathBuf::from("/usr/sbin/nginx");
    if packaged.exists() {
        return Some(packaged);
    }
    require_tool("nginx").then(|| PathBuf::from("nginx"))
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

fn config(dir: &str, port: u16, upstream: u16) -> String {
    format!(
        r#"daemon off;
master_process off;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://127.0.0.1:{upstream};
            proxy_http_version 1.1;
            # $http_host, not $host: the test listens on a port that is not 80, and the
            # site's own origin (CSRF, WebSocket Origin checks) must keep it.
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            # Set or cleared here, so what a client sends cannot pass for what nginx saw.
            proxy_set_header X-Forwarded-Host $http_host;
            proxy_set_header Forwarded "";
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_buffering off;
            proxy_read_timeout 1h;
        }}
    }}
}}
"#
    )
}

impl Nginx {
    /// nginx proxying to `127.0.0.1:upstream`; None (skipped) when nginx is not installed
    /// outside CI; a panic in CI.
    pub fn start(upstream: u16) -> Option<Nginx> {
        let binary = binary()?;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().to_str().unwrap().to_owned();
        let port = free_port();
        std::fs::write(dir.path().join("nginx.conf"), config(&path, port, upstream)).unwrap();
        let child = Command::new(binary)
            .args(["-p", &path, "-c", &format!("{path}/nginx.conf")])
            .args(["-e", &format!("{path}/error.log")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nginx starts");
        let mut nginx = Nginx { port, child, dir };
        nginx.wait_until_listening();
        Some(nginx)
    }

    fn wait_until_listening(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("nginx exited ({status}): {}", self.error_log());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "nginx did not listen on {}: {}",
            self.port,
            self.error_log()
        );
    }

    fn error_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("error.log")).unwrap_or_default()
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
