//! Backups: a live snapshot streamed to an admin, scheduled backups kept in `backup_dir`, and
//! the CLI's backup of a stopped data dir and restore into an empty one.
use bytes::Bytes;
use futures_util::stream::BoxStream;
use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::backup_dir::BackupDir;
pub use super::backup_dir::BackupFile;
use super::blocking;
use crate::error::AppError;
use crate::store::prelude::*;
use crate::store::{BackupError, BackupInfo, SharedStorage, Snapshot, Store, StoreError};

/// Where and how often scheduled backups are written (`backup_dir`, `backup_every_hours`,
/// `backup_keep`).
#[derive(Debug, Clone)]
pub struct BackupSchedule {
    pub dir: PathBuf,
    pub every: Duration,
    pub keep: usize,
}

impl BackupSchedule {
    /// The schedule from the settings: none without a directory. A period under a second
    /// becomes one second, and one that is not a positive number the default day (with a
    /// warning); at least one backup is kept.
    pub fn from_settings(dir: Option<&Path>, every_hours: f64, keep: usize) -> Option<Self> {
        let dir = dir?;
        let seconds = if every_hours > 0.0 && every_hours.is_finite() {
            (every_hours * 3600.0).clamp(1.0, 1e9)
        } else {
            tracing::warn!(every_hours, "backup_every_hours must be positive; using 24");
            24.0 * 3600.0
        };
        Some(BackupSchedule {
            dir: dir.to_owned(),
            every: Duration::from_secs_f64(seconds),
            keep: keep.max(1),
        })
    }
}

#[derive(Clone)]
pub struct Backups {
    store: SharedStorage,
    schedule: Option<BackupSchedule>,
}

/// A backup being streamed: its suggested file name, how long writers waited, and the bytes.
pub struct LiveBackup {
    pub file_name: String,
    pub writer_pause: Duration,
    pub records: usize,
    pub body: BoxStream<'static, io::Result<Bytes>>,
}

impl Backups {
    pub fn new(store: SharedStorage, schedule: Option<BackupSchedule>) -> Backups {
        Backups { store, schedule }
    }

    pub fn schedule(&self) -> Option<&BackupSchedule> {
        self.schedule.as_ref()
    }

    /// Takes a snapshot (writers wait only for the in-memory copy) and streams it as a backup
    /// file, encoded on a blocking thread as the client reads.
    pub async fn stream(&self) -> Result<LiveBackup, AppError> {
        let store = self.store.clone();
        let snapshot = blocking(move || Ok(store.snapshot()?)).await?;
        let file_name = BackupFile::name_at(snapshot.taken_at);
        let writer_pause = snapshot.writer_pause;
        let records = snapshot.record_count();
        let body = stream_written(move |out| snapshot.write_to(out));
        Ok(LiveBackup {
            file_name,
            writer_pause,
            records,
            body,
        })
    }

    /// A backup into `backup_dir` every `backup_every_hours`, the first a period after start (so
    /// that restarts do not crowd out older backups). Call inside an actix System.
    pub fn start_schedule(&self) {
        let Some(every) = self.schedule.as_ref().map(|s| s.every) else {
            return;
        };
        let backups = self.clone();
        actix_web::rt::spawn(async move {
            let mut timer = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
            timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                timer.tick().await;
                if let Err(e) = backups.back_up_now().await {
                    tracing::error!(error = ?e, "scheduled backup failed");
                }
            }
        });
    }

    /// Writes a backup into `backup_dir` now and drops the oldest beyond `backup_keep`.
    pub async fn back_up_now(&self) -> Result<BackupFile, AppError> {
        let Some(schedule) = self.schedule.clone() else {
            return Err(AppError::Conflict(
                "backups to a directory are off: set backup_dir".into(),
            ));
        };
        let store = self.store.clone();
        blocking(move || {
            let snapshot = store.snapshot()?;
            let dir = BackupDir::new(&schedule.dir);
            let file = dir.write(&snapshot).map_err(AppError::internal)?;
            dir.keep_newest(schedule.keep).map_err(AppError::internal)?;
            Ok(file)
        })
        .await
    }

    /// The backups in `backup_dir`, newest first (empty when backups to a directory are off).
    pub async fn list(&self) -> Result<Vec<BackupFile>, AppError> {
        let Some(schedule) = self.schedule.clone() else {
            return Ok(Vec::new());
        };
        blocking(move || {
            BackupDir::new(&schedule.dir)
                .list()
                .map_err(AppError::internal)
        })
        .await
    }

    /// One listed backup's bytes, read from disk on a blocking thread as the client takes them
    /// (a backup can be large: it is never held whole in memory). Any other name (`../x`, a
    /// file we did not write, one deleted meanwhile) is 404.
    pub async fn file(
        &self,
        name: &str,
    ) -> Result<BoxStream<'static, io::Result<Bytes>>, AppError> {
        let schedule = self.schedule.as_ref().ok_or(AppError::NotFound)?;
        let path = BackupDir::new(&schedule.dir)
            .path_of(name)
            .ok_or(AppError::NotFound)?;
        let mut file = blocking(move || File::open(path).map_err(|_| AppError::NotFound)).await?;
        Ok(stream_written(move |out| {
            io::copy(&mut file, out).map(|_| ())
        }))
    }
}

/// Runs `write` on a blocking thread into a channel the response reads from: bytes flow as the
/// client takes them, and a client that goes away ends the writing (a broken pipe, not logged).
fn stream_written(
    write: impl FnOnce(&mut ChannelWriter) -> io::Result<()> + Send + 'static,
) -> BoxStream<'static, io::Result<Bytes>> {
    let (sender, receiver) = tokio::sync::mpsc::channel(4);
    actix_web::rt::task::spawn_blocking(move || {
        let mut out = ChannelWriter(sender.clone());
        if let Err(e) = write(&mut out) {
            if e.kind() != io::ErrorKind::BrokenPipe {
                tracing::error!(error = %e, "streaming a backup failed");
                let _ = sender.blocking_send(Err(e));
            }
        }
    });
    Box::pin(futures_util::stream::unfold(
        receiver,
        |mut receiver| async move { receiver.recv().await.map(|chunk| (chunk, receiver)) },
    ))
}

/// Hands the encoded bytes to the response stream; a client that went away ends the encoding.
struct ChannelWriter(tokio::sync::mpsc::Sender<io::Result<Bytes>>);

impl Write for ChannelWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0
            .blocking_send(Ok(Bytes::copy_from_slice(buf)))
            .map_err(|_| io::Error::from(io::ErrorKind::BrokenPipe))?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Backs up a stopped data dir to `out` (written aside, then renamed: never a partial file).
pub fn back_up_stopped(data_dir: &Path, out: &Path) -> Result<Snapshot, String> {
    // Opening would create an empty database where there is none: a backup of nothing.
    if !data_dir.join("db").exists() {
        return Err(format!("there is no database in {}", data_dir.display()));
    }
    let store = Store::open(data_dir).map_err(|e| match e {
        StoreError::Locked => format!(
            "the database in {} is in use by a running server: take a live backup with \
             POST /api/admin/backup/ (or from /admin/backups)",
            data_dir.display()
        ),
        other => format!("could not open the database: {other}"),
    })?;
    let snapshot = store.snapshot().map_err(|e| e.to_string())?;
    super::backup_dir::write_atomically(out, |file| snapshot.write_to(file))
        .map_err(|e| format!("{}: {e}", out.display()))?;
    Ok(snapshot)
}

/// Restores a backup file into a new or empty data dir.
pub fn restore(from: &Path, data_dir: &Path) -> Result<BackupInfo, BackupError> {
    crate::store::restore_backup(from, data_dir)
}
