//! The layout version of the database, kept in `meta`: written when a database is created and
//! checked at every open, so that an older binary never reads (and half-rewrites) a layout it
//! does not know, e.g. after a downgrade or the restore of a newer backup.
use super::StoreError;

/// Raise it with every change of layout a previous release could not read correctly, and
/// teach `check_and_record` to migrate from the older one.
pub const CURRENT: u32 = 1;

pub(super) const KEY: &[u8] = b"format_version";

/// Records `CURRENT` in a new database (or one from before versioning, which has layout 1);
/// refuses a database of a newer layout.
pub(super) fn check_and_record(meta: &sled::Tree) -> Result<u32, StoreError> {
    match meta.get(KEY)? {
        Some(raw) => {
            let found = decode(&raw)?;
            if found > CURRENT {
                return Err(StoreError::NewerFormat {
                    found,
                    supported: CURRENT,
                });
            }
            Ok(found)
        }
        None => {
            meta.insert(KEY, &CURRENT.to_be_bytes())?;
            Ok(CURRENT)
        }
    }
}

pub(super) fn decode(raw: &[u8]) -> Result<u32, StoreError> {
    raw.try_into()
        .map(u32::from_be_bytes)
        .map_err(|_| StoreError::Corrupt("the database format version is unreadable".into()))
}
