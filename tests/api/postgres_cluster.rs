//! The PostgreSQL backend for the suite: with `ORDERSTREAM_TEST_BACKEND=postgres` every server a
//! test starts (a `TestApp`, or the real binary) runs on PostgreSQL instead of sled.
//!
//! One throwaway cluster per test process, started on first use: `initdb` into a temporary
//! directory (as the `postgres` OS user when we are root: PostgreSQL refuses to run as root), a
//! free port on 127.0.0.1, durability off (`fsync`, `full_page_writes`: a crash of the *server
//! under test* is what the kill -9 tests are about, not one of the host). Commits stay
//! synchronous (without fsync that costs a write, not a flush): after an asynchronous commit
//! VACUUM cannot mark the rows' pages all-visible yet, and the planner then prefers other plans
//! than it does in production (`ops::postgres_plans` checks those plans).
//! It is stopped (`pg_ctl stop -m immediate`) and its directory removed at exit; a watchdog
//! does the same if the test process dies without running its exit handlers (SIGKILL, ^C).
//! Each test gets its own database, `t_<pid>_<n>` (a `CREATE DATABASE` from template1), so tests
//! never see each other's rows; a restart keeps its settings and so its database.
//!
//! Only `psql` and the server's own programs are used: the harness needs no `postgres` feature.
//! Without PostgreSQL installed: with `CI=true` the tests fail; elsewhere they run on sled, with
//! the reason printed once.
//!
//! The load harnesses include this same file (`benches/common/mod.rs`, by `#[path]`: it uses
//! nothing but std, libc and tempfile) and call [`configure`] first: their backend is chosen by
//! `BENCH_BACKEND`, and their cluster runs durably (fsync, synchronous_commit and
//! full_page_writes on), so an order's figures include the cost of a real commit.
//!
//! Two knobs for measuring: `PG_CLUSTER_OPTIONS` adds server options (e.g. `-c
//! shared_preload_libraries=pg_stat_statements`), and `PG_CLUSTER_SOCKET=1` hands out URLs
//! that connect through the cluster's Unix socket instead of TCP on 127.0.0.1.
#![allow(dead_code)]

use std::collections::HashMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Pool size for each server in a test: many servers run at once against one cluster.
pub const POOL_SIZE: u32 = 8;

/// How this process chooses and runs its cluster: fixed at first use. The suite uses
/// [`Settings::TESTS`]; the load harnesses call [`configure`] before anything else.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Settings {
    /// The env var naming the backend: `sled` (or unset, or empty) or `postgres`.
    pub backend_var: &'static str,
    /// `fsync` and `full_page_writes` on (PostgreSQL's own defaults), and initdb syncs its
    /// files: what a commit costs in a real deployment. Off for the suite (`synchronous_commit`
    /// is on for both).
    pub durable: bool,
    /// When the var says `postgres` but PostgreSQL is missing: an error (true), or sled with the
    /// reason printed (false; except with `CI=true`, which is always an error).
    pub require_postgres: bool,
}

impl Settings {
    /// The suite's: `ORDERSTREAM_TEST_BACKEND`, durability off.
    pub const TESTS: Settings = Settings {
        backend_var: "ORDERSTREAM_TEST_BACKEND",
        durable: false,
        require_postgres: false,
    };
}

static SETTINGS: OnceLock<Settings> = OnceLock::new();

/// Fixes this process's settings; call it before anything else here. Panics if other settings
/// were already in force (a first use without it fixes [`Settings::TESTS`]).
pub fn configure(settings: Settings) {
    let in_force = *SETTINGS.get_or_init(|| settings);
    assert_eq!(
        in_force, settings,
        "postgres_cluster::configure called after the cluster settings were fixed"
    );
}

fn settings() -> Settings {
    *SETTINGS.get_or_init(|| Settings::TESTS)
}

/// Whether the servers of this test process run on PostgreSQL.
pub fn backend_is_postgres() -> bool {
    *BACKEND.get_or_init(choose_backend)
}

/// A new, empty database on the test cluster (`postgres://…`), or `None` on sled.
pub fn fresh_database_url() -> Option<String> {
    if !backend_is_postgres() {
        return None;
    }
    Some(cluster().create_database())
}

/// The database of the server(s) started on `dir` (the real binary's `--data-dir` parent):
/// made on first ask, the same one afterwards, so a restart on the same dir sees its data.
pub fn database_url_for(dir: &Path) -> Option<String> {
    if !backend_is_postgres() {
        return None;
    }
    static BY_DIR: OnceLock<Mutex<HashMap<PathBuf, String>>> = OnceLock::new();
    let mut by_dir = BY_DIR.get_or_init(Default::default).lock().unwrap();
    let url = by_dir
        .entry(dir.to_path_buf())
        .or_insert_with(|| cluster().create_database());
    Some(url.clone())
}

/// The environment that points the real binary started on `dir` at its database (empty on
/// sled): set it before a test's own variables, so those still win.
pub fn database_env(dir: &Path) -> Vec<(&'static str, String)> {
    match database_url_for(dir) {
        Some(url) => vec![
            ("ORDERSTREAM_DATABASE_URL", url),
            ("ORDERSTREAM_DATABASE_POOL_SIZE", POOL_SIZE.to_string()),
        ],
        None => Vec::new(),
    }
}

static BACKEND: OnceLock<bool> = OnceLock::new();

fn in_ci() -> bool {
    std::env::var("CI")
        .map(|v| v == "true" || v == "1")
        .unwrap_or(false)
}

fn choose_backend() -> bool {
    let Settings {
        backend_var,
        require_postgres,
        ..
    } = settings();
    match std::env::var(backend_var).as_deref() {
        Err(_) | Ok("") | Ok("sled") => false,
        Ok("postgres") => match bindir() {
            Ok(_) => true,
            Err(why) if in_ci() || require_postgres => panic!(
                "{backend_var}=postgres, but PostgreSQL is missing: {why} \
                 (install the Debian package `postgresql`)"
            ),
            Err(why) => {
                eprintln!(
                    "{backend_var}=postgres, but PostgreSQL is missing ({why}): \
                     running on sled instead"
                );
                false
            }
        },
        Ok(other) => panic!("{backend_var}={other:?}: expected `sled` or `postgres`"),
    }
}

/// The directory of `initdb`, `pg_ctl`, `psql`: `pg_config --bindir`.
fn bindir() -> Result<PathBuf, String> {
    let output = Command::new("pg_config")
        .arg("--bindir")
        .output()
        .map_err(|e| format!("cannot run pg_config ({e})"))?;
    if !output.status.success() {
        return Err(format!(
            "pg_config --bindir failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    let dir = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
    for program in ["initdb", "pg_ctl", "psql"] {
        if !dir.join(program).is_file() {
            return Err(format!(
                "no {program} in {} (pg_config --bindir)",
                dir.display()
            ));
        }
    }
    Ok(dir)
}

pub struct Cluster {
    bin: PathBuf,
    /// The cluster's temporary directory: `data/`, `sock/`, `server.log`.
    root: PathBuf,
    pub port: u16,
    /// Whether initdb / pg_ctl run as the `postgres` OS user (we are root).
    as_postgres: bool,
    next_database: AtomicU64,
    /// Start time of the cluster (initdb + pg_ctl start).
    pub started_in: Duration,
    /// Whether it runs with fsync, synchronous_commit and full_page_writes on.
    pub durable: bool,
}

/// The cluster of this process, started on first use. A failed start fails every test that
/// needs it, each with the same message.
pub fn cluster() -> &'static Cluster {
    static CLUSTER: OnceLock<Result<Cluster, String>> = OnceLock::new();
    match CLUSTER.get_or_init(Cluster::start) {
        Ok(cluster) => cluster,
        Err(why) => panic!("the throwaway PostgreSQL cluster did not start: {why}"),
    }
}

/// What the exit handler needs: set once the cluster runs.
static TEARDOWN: OnceLock<(PathBuf, PathBuf, bool)> = OnceLock::new();

extern "C" fn stop_at_exit() {
    if let Some((bin, root, as_postgres)) = TEARDOWN.get() {
        let mut stop = program(bin, "pg_ctl", *as_postgres);
        stop.arg("stop")
            .arg("-D")
            .arg(root.join("data"))
            .args(["-m", "immediate", "-w"])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let _ = stop.status();
        let _ = std::fs::remove_dir_all(root);
    }
}

/// `bin/name`, run as the `postgres` user when `as_postgres` (from `/`: that user may not
/// enter the test's working directory).
fn program(bin: &Path, name: &str, as_postgres: bool) -> Command {
    let mut command = if as_postgres {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(bin.join(name));
        command
    } else {
        Command::new(bin.join(name))
    };
    command.current_dir("/");
    command
}

fn check(what: &str, output: std::io::Result<Output>) -> Result<Output, String> {
    let output = output.map_err(|e| format!("cannot run {what}: {e}"))?;
    if output.status.success() {
        Ok(output)
    } else {
        Err(format!(
            "{what} failed ({}): {}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().unwrap().port()
}

impl Cluster {
    fn start() -> Result<Cluster, String> {
        let started = Instant::now();
        let durable = settings().durable;
        let bin = bindir()?;
        let as_postgres = unsafe { libc::geteuid() } == 0;
        // Kept (not a TempDir): the exit handler and the watchdog remove it.
        let root = tempfile::Builder::new()
            .prefix("orderstream-pg-")
            .tempdir()
            .map_err(|e| format!("temp dir: {e}"))?
            .keep();
        let data = root.join("data");
        let sock = root.join("sock");
        std::fs::create_dir(&sock).map_err(|e| format!("mkdir {}: {e}", sock.display()))?;
        if as_postgres {
            check(
                "chown -R postgres",
                Command::new("chown")
                    .args(["-R", "postgres:"])
                    .arg(&root)
                    .output(),
            )?;
        }
        check(
            "initdb",
            program(&bin, "initdb", as_postgres)
                .arg("-D")
                .arg(&data)
                .args(["-A", "trust", "-E", "UTF8", "--locale=C"])
                .args((!durable).then_some("--no-sync"))
                .args(["-U", "postgres"])
                .output(),
        )?;
        let _ = TEARDOWN.set((bin.clone(), root.clone(), as_postgres));
        unsafe { libc::atexit(stop_at_exit) };
        watch_for_our_death(&bin, &root, as_postgres);

        // The port is free when asked for, not necessarily when the server binds it: retry.
        let mut last_error = String::new();
        for _ in 0..5 {
            let port = free_port();
            let durability = if durable { "on" } else { "off" };
            let options = format!(
                "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync={durability} \
                 -c synchronous_commit=on -c full_page_writes={durability} \
                 -c max_connections=600 -c shared_buffers=128MB {}",
                sock.display(),
                std::env::var("PG_CLUSTER_OPTIONS").unwrap_or_default()
            );
            let started_server = check(
                "pg_ctl start",
                program(&bin, "pg_ctl", as_postgres)
                    .arg("start")
                    .arg("-D")
                    .arg(&data)
                    .arg("-l")
                    .arg(root.join("server.log"))
                    .args(["-w", "-t", "60", "-o", &options])
                    // Its stdout would be held open by the server it forks.
                    .stdout(Stdio::null())
                    .stderr(Stdio::piped())
                    .output(),
            );
            match started_server {
                Ok(_) => {
                    let cluster = Cluster {
                        bin,
                        root,
                        port,
                        as_postgres,
                        next_database: AtomicU64::new(1),
                        started_in: started.elapsed(),
                        durable,
                    };
                    eprintln!(
                        "throwaway PostgreSQL cluster on 127.0.0.1:{port} started in {:?} ({}, \
                         durability {durability})",
                        cluster.started_in,
                        cluster.root.display()
                    );
                    return Ok(cluster);
                }
                Err(why) => {
                    let log = std::fs::read_to_string(root.join("server.log")).unwrap_or_default();
                    last_error = format!("{why}\nserver.log:\n{log}");
                }
            }
        }
        Err(last_error)
    }

    /// `psql -c sql` on database `db` as the superuser; panics with psql's message on failure.
    pub fn psql(&self, db: &str, sql: &str) -> String {
        let output = check(
            &format!("psql -c {sql:?}"),
            Command::new(self.bin.join("psql"))
                .args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"])
                .args(["-h", "127.0.0.1", "-p", &self.port.to_string()])
                .args(["-U", "postgres", "-d", db, "-c", sql])
                .env_remove("PGPASSWORD")
                .env_remove("PGSERVICE")
                .output(),
        )
        .unwrap_or_else(|why| panic!("{why}"));
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    }

    /// A new empty database; its URL.
    pub fn create_database(&self) -> String {
        let n = self.next_database.fetch_add(1, Ordering::Relaxed);
        let name = format!("t_{}_{n}", std::process::id());
        self.psql("postgres", &format!("CREATE DATABASE {name}"));
        self.url(&name)
    }

    pub fn url(&self, database: &str) -> String {
        if std::env::var_os("PG_CLUSTER_SOCKET").is_some() {
            return format!(
                "postgres://postgres@localhost/{database}?host={}&port={}",
                self.root.join("sock").display(),
                self.port
            );
        }
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// The pid of the cluster's postmaster (the first line of `data/postmaster.pid`).
    pub fn postmaster_pid(&self) -> Option<u32> {
        std::fs::read_to_string(self.root.join("data").join("postmaster.pid"))
            .ok()?
            .lines()
            .next()?
            .trim()
            .parse()
            .ok()
    }

    /// What the running server says of itself: its version and durability settings, e.g.
    /// `PostgreSQL 15.8, fsync=on, synchronous_commit=on, full_page_writes=on`.
    pub fn describe(&self) -> String {
        self.psql(
            "postgres",
            "select 'PostgreSQL ' || current_setting('server_version') \
             || ', fsync=' || current_setting('fsync') \
             || ', synchronous_commit=' || current_setting('synchronous_commit') \
             || ', full_page_writes=' || current_setting('full_page_writes') \
             || ', shared_buffers=' || current_setting('shared_buffers')",
        )
    }
}

/// A shell that waits for EOF on a pipe only this process holds open (the write end is
/// close-on-exec, so no other child inherits it): when this process is gone, however it went,
/// it stops the cluster and removes its directory, unless the exit handler already did.
fn watch_for_our_death(bin: &Path, root: &Path, as_postgres: bool) {
    let pg_ctl = if as_postgres {
        format!("runuser -u postgres -- '{}'", bin.join("pg_ctl").display())
    } else {
        format!("'{}'", bin.join("pg_ctl").display())
    };
    let script = format!(
        "trap '' INT TERM HUP; cat >/dev/null; \
         if [ -d '{root}/data' ]; then {pg_ctl} stop -D '{root}/data' -m immediate -w; fi; \
         rm -rf '{root}'",
        root = root.display()
    );
    let watchdog = Command::new("sh")
        .arg("-c")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    if let Ok(mut child) = watchdog {
        // Leaked on purpose: the pipe must stay open for as long as this process lives.
        std::mem::forget(child.stdin.take());
        std::mem::forget(child);
    }
}

/// The cluster starts once and gives every caller its own database, each reachable.
#[test]
fn fresh_databases_are_distinct_and_reachable() {
    if !backend_is_postgres() {
        eprintln!("skipped on sled: set ORDERSTREAM_TEST_BACKEND=postgres to test the cluster");
        return;
    }
    let started = Instant::now();
    let cluster = cluster();
    let first_use = started.elapsed();
    let timed = Instant::now();
    let (a, b) = (fresh_database_url().unwrap(), fresh_database_url().unwrap());
    let per_database = timed.elapsed() / 2;
    eprintln!(
        "cluster start {:?} (first use here: {first_use:?}), one CREATE DATABASE {per_database:?}",
        cluster.started_in
    );
    assert_ne!(a, b);
    // The suite's cluster trades durability for speed (the benches' does not).
    let described = cluster.describe();
    assert!(!cluster.durable, "{described}");
    assert!(
        described.contains("fsync=off, synchronous_commit=on, full_page_writes=off"),
        "{described}"
    );
    for url in [&a, &b] {
        let name = url.rsplit('/').next().unwrap();
        assert_eq!(cluster.psql(name, "select 1"), "1");
        assert_eq!(cluster.psql(name, "select current_database()"), name);
    }
    // A table in one is not in the other.
    let (name_a, name_b) = (a.rsplit('/').next().unwrap(), b.rsplit('/').next().unwrap());
    cluster.psql(name_a, "create table only_here (x int)");
    assert_eq!(
        cluster.psql(
            name_b,
            "select count(*) from pg_tables where tablename = 'only_here'"
        ),
        "0"
    );
    // The same dir gets the same database; another dir another one.
    let (d1, d2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    assert_eq!(database_url_for(d1.path()), database_url_for(d1.path()));
    assert_ne!(database_url_for(d1.path()), database_url_for(d2.path()));
}
