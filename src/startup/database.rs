//! The PostgreSQL subcommands: `migrate` and `import-sled`.
use std::path::Path;

use super::StartupError;
use crate::config::Settings;

/// The PostgreSQL URL of the settings, or why there is none.
#[cfg(feature = "postgres")]
fn postgres_url(settings: &Settings) -> Result<&str, StartupError> {
    settings.postgres_url().ok_or_else(|| {
        StartupError::Config(
            "this command needs --database-url postgres://… (or ORDERSTREAM_DATABASE_URL)".into(),
        )
    })
}

/// Applies pending migrations and returns.
#[cfg(feature = "postgres")]
pub fn migrate(settings: &Settings) -> Result<(), StartupError> {
    let url = postgres_url(settings)?;
    crate::store::postgres::Pg::connect(url, 2, true).map_err(StartupError::Store)?;
    Ok(())
}

/// Copies a stopped server's sled directory into an empty PostgreSQL database, in one
/// transaction, keeping ids; answers what was copied.
#[cfg(feature = "postgres")]
pub fn import_sled(from: &Path, settings: &Settings) -> Result<String, StartupError> {
    let url = postgres_url(settings)?;
    let sled = crate::store::Store::open(from).map_err(|e| match e {
        crate::store::StoreError::Locked => {
            StartupError::DatabaseLocked(from.display().to_string())
        }
        other => StartupError::Store(other),
    })?;
    let pg = crate::store::postgres::Pg::connect(url, 2, true).map_err(StartupError::Store)?;
    let counts = pg.import_sled(&sled).map_err(StartupError::Store)?;
    // The secret the sled server signed its tokens with (unless it was configured): sessions
    // and refresh tokens stay valid on the new database.
    if let Ok(secret) = std::fs::read_to_string(from.join("jwt_secret")) {
        if secret.trim().len() >= 32 {
            pg.adopt_secret(secret.trim())
                .map_err(StartupError::Store)?;
        }
    }
    Ok(counts.to_string())
}

#[cfg(not(feature = "postgres"))]
pub fn migrate(_settings: &Settings) -> Result<(), StartupError> {
    Err(no_postgres())
}

#[cfg(not(feature = "postgres"))]
pub fn import_sled(_from: &Path, _settings: &Settings) -> Result<String, StartupError> {
    Err(no_postgres())
}

#[cfg(not(feature = "postgres"))]
fn no_postgres() -> StartupError {
    StartupError::Config(
        "this build has no `postgres` feature (build with `--features postgres`)".into(),
    )
}
