//! Restore of a backup file into a new or empty data dir: nothing is written unless the whole
//! file checked out (header, checksum, every record read once), and an import that fails
//! midway (a full disk) is removed again.
use std::fs::File;
use std::io;
use std::path::Path;

use super::backup_file::{check_checksum, read_header, read_records, verify_backup, Item};
use super::{BackupError, BackupInfo, META_DATABASE_ID};

/// Records per sled batch while restoring (bounds memory, keeps the import fast).
const RESTORE_BATCH: usize = 10_000;

/// Restores `file` into `data_dir`, which must be new or empty. Nothing is written unless the
/// whole file checked out; an import that fails midway (disk full) is removed again.
pub fn restore_backup(file: &Path, data_dir: &Path) -> Result<BackupInfo, BackupError> {
    let created = match std::fs::read_dir(data_dir).map(|mut entries| entries.next()) {
        Ok(Some(_)) => return Err(BackupError::TargetNotEmpty(data_dir.display().to_string())),
        Ok(None) => false,
        Err(e) if e.kind() == io::ErrorKind::NotFound => true,
        Err(e) => return Err(BackupError::Io(format!("{}: {e}", data_dir.display()))),
    };
    verify_backup(file)?;
    if created {
        std::fs::create_dir_all(data_dir)?;
    }
    let outcome = import(file, data_dir);
    if outcome.is_err() {
        let _ = std::fs::remove_dir_all(data_dir.join("db"));
        if created {
            let _ = std::fs::remove_dir(data_dir);
        }
    }
    outcome
}

fn import(file: &Path, data_dir: &Path) -> Result<BackupInfo, BackupError> {
    let db = sled::Config::new()
        .path(data_dir.join("db"))
        .open()
        .map_err(|e| BackupError::Io(e.to_string()))?;
    let mut input = File::open(file)?;
    let header = read_header(&mut input)?;
    let body_len = check_checksum(&mut input)?;
    let mut tree: Option<(sled::Tree, bool)> = None;
    let mut batch = (sled::Batch::default(), 0usize);
    let sled_error = |e: sled::Error| BackupError::Io(e.to_string());
    let info = read_records(&mut input, body_len, header, |item| {
        match item {
            Item::Tree(name) => {
                if let Some((done, _)) = tree.take() {
                    done.apply_batch(std::mem::take(&mut batch.0))
                        .map_err(sled_error)?;
                    batch.1 = 0;
                }
                let is_meta = name == b"meta";
                tree = Some((db.open_tree(name).map_err(sled_error)?, is_meta));
            }
            Item::Record(key, value) => {
                // read_records hands out records only inside a tree; never panic regardless.
                let Some((current, is_meta)) = &tree else {
                    return Err(BackupError::Damaged("a record before any tree".into()));
                };
                // A restored copy is a new database: it gets its own id at first open, so a
                // cache shared with the original (Redis) never serves one's entries to the other.
                if *is_meta && key == META_DATABASE_ID {
                    return Ok(());
                }
                batch.0.insert(key, value);
                batch.1 += 1;
                if batch.1 == RESTORE_BATCH {
                    current
                        .apply_batch(std::mem::take(&mut batch.0))
                        .map_err(sled_error)?;
                    batch.1 = 0;
                }
            }
        }
        Ok(())
    })?;
    if let Some((last, _)) = tree {
        last.apply_batch(batch.0).map_err(sled_error)?;
    }
    db.flush().map_err(sled_error)?;
    Ok(info)
}

#[cfg(test)]
mod tests {

    use super::*;
    use crate::store::backup_file::{BACKUP_FORMAT, MAGIC};
    use crate::store::{format_version, Snapshot};
    use sha2::{Digest, Sha256};
    use std::io::Write;

    fn snapshot() -> Snapshot {
        let entry = |k: &str, v: &str| (sled::IVec::from(k), sled::IVec::from(v));
        Snapshot {
            trees: vec![
                (
                    "meta".into(),
                    vec![entry("seq/user", "1"), entry("database_id", "x")],
                ),
                ("users".into(), vec![entry("1", "{\"email\":\"a@b.co\"}")]),
            ],
            database_format: format_version::CURRENT,
            writer_pause: Default::default(),
            taken_at: time::OffsetDateTime::now_utc(),
        }
    }

    fn written(dir: &Path, bytes: &[u8]) -> std::path::PathBuf {
        let path = dir.join("b");
        std::fs::write(&path, bytes).unwrap();
        path
    }

    #[test]
    fn a_written_backup_verifies_and_restores_without_the_database_id() {
        let dir = tempfile::tempdir().unwrap();
        let mut bytes = Vec::new();
        snapshot().write_to(&mut bytes).unwrap();
        let file = written(dir.path(), &bytes);
        let info = verify_backup(&file).unwrap();
        assert_eq!((info.trees, info.records), (2, 3));
        restore_backup(&file, &dir.path().join("data")).unwrap();
        let db = sled::open(dir.path().join("data/db")).unwrap();
        let meta = db.open_tree("meta").unwrap();
        assert_eq!(meta.get("seq/user").unwrap().unwrap(), b"1");
        assert!(meta.get("database_id").unwrap().is_none());
    }

    #[test]
    fn every_truncation_and_every_flipped_byte_is_refused_without_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let mut bytes = Vec::new();
        snapshot().write_to(&mut bytes).unwrap();
        for len in 0..bytes.len() {
            assert!(
                verify_backup(&written(dir.path(), &bytes[..len])).is_err(),
                "{len}"
            );
        }
        for at in 0..bytes.len() {
            let mut bad = bytes.clone();
            bad[at] ^= 0x10;
            assert!(verify_backup(&written(dir.path(), &bad)).is_err(), "{at}");
        }
    }

    /// A hostile file with a valid checksum: garbage, huge lengths, records outside a tree.
    #[test]
    fn a_well_checksummed_but_malformed_body_is_refused_and_restores_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let bodies: [&[u8]; 4] = [
            b"garbage",
            b"T\xff\xff\xff\xffname",
            b"R\x00\x00\x00\x01k\x00\x00\x00\x01vE\x00\x00\x00\x00\x00\x00\x00\x01",
            b"T\x00\x00\x00\x01tE\x00\x00\x00\x00\x00\x00\x00\x07",
        ];
        for body in bodies {
            let mut file = Vec::new();
            file.extend_from_slice(MAGIC);
            file.extend_from_slice(&BACKUP_FORMAT.to_be_bytes());
            file.extend_from_slice(&format_version::CURRENT.to_be_bytes());
            file.extend_from_slice(&0i64.to_be_bytes());
            let mut zlib = flate2::write::ZlibEncoder::new(Vec::new(), Default::default());
            zlib.write_all(body).unwrap();
            file.extend_from_slice(&zlib.finish().unwrap());
            let digest = Sha256::digest(&file);
            file.extend_from_slice(&digest);
            let path = written(dir.path(), &file);
            let target = dir.path().join("data");
            let refused = restore_backup(&path, &target).unwrap_err();
            assert!(matches!(refused, BackupError::Damaged(_)), "{refused}");
            assert!(!target.exists());
        }
    }
}
