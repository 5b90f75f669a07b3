//! The JWT secret kept in the data dir (mode 0600) or in a shared database, so restarts (and
//! other instances) keep sessions valid.
use std::io::Write;
use std::path::Path;

use super::StartupError;
use crate::auth::TokenIssuer;
use crate::config::Settings;
use crate::store::SharedStorage;

/// The configured secret, else the one the database keeps for every instance that shares it
/// (PostgreSQL), else the one in the data dir (created on the first start).
pub fn jwt_secret(settings: &Settings, store: &SharedStorage) -> Result<String, StartupError> {
    if let Some(secret) = &settings.jwt_secret {
        return Ok(secret.expose().to_owned());
    }
    match store
        .shared_secret(&TokenIssuer::generate_secret)
        .map_err(StartupError::Store)?
    {
        Some(shared) => Ok(shared),
        None => load_or_create(&settings.data_dir),
    }
}

fn load_or_create(dir: &Path) -> Result<String, StartupError> {
    let path = dir.join("jwt_secret");
    if let Ok(existing) = std::fs::read_to_string(&path) {
        if existing.trim().len() >= 32 {
            return Ok(existing.trim().to_owned());
        }
    }
    let secret = TokenIssuer::generate_secret();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&path)?;
    file.write_all(secret.as_bytes())?;
    file.sync_all()?;
    Ok(secret)
}
