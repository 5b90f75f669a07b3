//! Python packages from PyPI for tests that check against a reference implementation (the
//! `standardwebhooks` verifier, the `aiosmtpd` mail sink), each in a virtualenv under target/.
use std::path::PathBuf;
use std::process::Command;
use std::sync::Mutex;

/// One installer at a time: tests run in parallel and would trip over a half-made virtualenv.
static INSTALLING: Mutex<()> = Mutex::new(());

/// The python of virtualenv `name` once `module` imports there (installing `requirement` when
/// it does not), or None (the caller skips) outside CI; in CI (`CI=true`) a failure panics.
pub fn python_with(name: &str, requirement: &str, module: &str) -> Option<PathBuf> {
    let _one_at_a_time = INSTALLING.lock().unwrap_or_else(|p| p.into_inner());
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let venv = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
        .join(name);
    let python = venv.join("bin/python");
    let importable = |python: &PathBuf| {
        Command::new(python)
            .args(["-c", &format!("import {module}")])
            .status()
            .map(|s| s.success())
            .unwrap_or(false)
    };
    if !importable(&python) {
        let _ = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status();
        let _ = Command::new(venv.join("bin/pip"))
            .args(["install", "--quiet", "--disable-pip-version-check"])
            .arg(requirement)
            .status();
    }
    if importable(&python) {
        return Some(python);
    }
    let in_ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
    assert!(
        !in_ci,
        "the {requirement} package is required in CI but could not be installed"
    );
    eprintln!("skipping: could not install {requirement} from PyPI");
    None
}
