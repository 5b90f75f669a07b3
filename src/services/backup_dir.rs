//! The directory of scheduled backups: naming, atomic writes, listing and pruning. Only files
//! named as we name them are listed, served or deleted.
use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use time::OffsetDateTime;

use crate::store::Snapshot;

const PREFIX: &str = "orderstream-";
const SUFFIX: &str = ".osbackup";

/// One backup file in `backup_dir`.
#[derive(Debug, Clone)]
pub struct BackupFile {
    pub name: String,
    pub size: u64,
    pub modified: OffsetDateTime,
}

impl BackupFile {
    /// `orderstream-20261202-102542-123.osbackup`: sorts by time, unique to the millisecond.
    pub fn name_at(at: OffsetDateTime) -> String {
        format!(
            "{PREFIX}{:04}{:02}{:02}-{:02}{:02}{:02}-{:03}{SUFFIX}",
            at.year(),
            u8::from(at.month()),
            at.day(),
            at.hour(),
            at.minute(),
            at.second(),
            at.millisecond()
        )
    }

    fn is_ours(name: &str) -> bool {
        name.strip_prefix(PREFIX)
            .and_then(|rest| rest.strip_suffix(SUFFIX))
            .is_some_and(|stamp| {
                !stamp.is_empty() && stamp.bytes().all(|b| b.is_ascii_digit() || b == b'-')
            })
    }
}

pub struct BackupDir<'a> {
    dir: &'a Path,
}

impl<'a> BackupDir<'a> {
    pub fn new(dir: &'a Path) -> Self {
        BackupDir { dir }
    }

    pub fn write(&self, snapshot: &Snapshot) -> io::Result<BackupFile> {
        std::fs::create_dir_all(self.dir)?;
        let mut name = BackupFile::name_at(snapshot.taken_at);
        // Two backups in one millisecond ("Back up now" twice): the second gets a suffix digit.
        for n in 1.. {
            if !self.dir.join(&name).exists() || n > 9 {
                break;
            }
            name = BackupFile::name_at(snapshot.taken_at).replace(SUFFIX, &format!("{n}{SUFFIX}"));
        }
        let path = self.dir.join(&name);
        write_atomically(&path, |file| snapshot.write_to(file))?;
        let size = std::fs::metadata(&path)?.len();
        tracing::info!(file = %path.display(), size, "backup written");
        Ok(BackupFile {
            name,
            size,
            modified: snapshot.taken_at,
        })
    }

    /// Newest first.
    pub fn list(&self) -> io::Result<Vec<BackupFile>> {
        let entries = match std::fs::read_dir(self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let mut files = Vec::new();
        for entry in entries {
            let entry = entry?;
            let Ok(name) = entry.file_name().into_string() else {
                continue;
            };
            let metadata = entry.metadata()?;
            if !BackupFile::is_ours(&name) || !metadata.is_file() {
                continue;
            }
            let modified = metadata
                .modified()
                .map(OffsetDateTime::from)
                .unwrap_or(OffsetDateTime::UNIX_EPOCH);
            files.push(BackupFile {
                name,
                size: metadata.len(),
                modified,
            });
        }
        files.sort_by(|a, b| b.name.cmp(&a.name));
        Ok(files)
    }

    pub fn keep_newest(&self, keep: usize) -> io::Result<()> {
        for old in self.list()?.into_iter().skip(keep) {
            std::fs::remove_file(self.dir.join(&old.name))?;
            tracing::info!(file = %old.name, "old backup deleted (backup_keep)");
        }
        Ok(())
    }

    pub fn path_of(&self, name: &str) -> Option<PathBuf> {
        let path = self.dir.join(name);
        (BackupFile::is_ours(name) && path.is_file()).then_some(path)
    }
}

/// Writes `path` through a hidden temporary file renamed into place once complete and synced,
/// so a listing, a download or a crash never meets half a backup.
pub fn write_atomically(
    path: &Path,
    write: impl FnOnce(&mut File) -> io::Result<()>,
) -> io::Result<()> {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("backup");
    let partial = path.with_file_name(format!(".{name}.partial"));
    let outcome = File::create(&partial).and_then(|mut file| {
        write(&mut file)?;
        file.flush()?;
        file.sync_all()
    });
    match outcome.and_then(|()| std::fs::rename(&partial, path)) {
        Ok(()) => Ok(()),
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            Err(e)
        }
    }
}
