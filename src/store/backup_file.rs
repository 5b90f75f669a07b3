//! The backup file: a `Snapshot` written out, and read back and checked (see `restore`).
//!
//! Layout (integers big-endian):
//! ```text
//! "OSBACKUP"  u32 backup format (1)  u32 database format  i64 created at (Unix seconds)
//! zlib( ( 'T' u32 len, tree name, ( 'R' u32 len, key, u32 len, value )* )*  'E' u64 records )
//! SHA-256 of everything above (32 bytes)
//! ```
//! A restore checks the header, then the checksum over the whole file, then reads every record
//! once without writing anything; only a file that passed all three is written to disk, so a
//! damaged, truncated or foreign file leaves the target untouched. Lengths come from the file,
//! so they are bounded and never used to allocate ahead of the bytes actually read.
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::Path;

use super::{format_version, Snapshot};

pub(super) const MAGIC: &[u8; 8] = b"OSBACKUP";
/// Raise with any change of the layout above; restore refuses a newer one.
pub const BACKUP_FORMAT: u32 = 1;
const HEADER_LEN: u64 = 24;
const CHECKSUM_LEN: u64 = 32;
const MAX_NAME: u64 = 4096;
const MAX_KEY: u64 = 1 << 20;
const MAX_VALUE: u64 = 256 << 20;

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("this is not an OrderStream backup file")]
    NotABackup,
    #[error(
        "the backup was written by a newer OrderStream (backup format {found}; this release \
         reads up to {supported}): restore it with that release or newer"
    )]
    NewerBackupFormat { found: u32, supported: u32 },
    #[error(
        "the backup holds a database of format version {found}, newer than this release \
         understands ({supported}): restore it with that release or newer"
    )]
    NewerDatabaseFormat { found: u32, supported: u32 },
    #[error("the backup is damaged or incomplete ({0}); nothing was restored")]
    Damaged(String),
    #[error("{0} is not empty: restore only into a new or empty directory; nothing was restored")]
    TargetNotEmpty(String),
    #[error("{0}")]
    Io(String),
}

impl From<io::Error> for BackupError {
    fn from(e: io::Error) -> Self {
        BackupError::Io(e.to_string())
    }
}

/// What a verified backup holds.
#[derive(Debug, Clone)]
pub struct BackupInfo {
    pub database_format: u32,
    pub created_at: i64,
    pub trees: u64,
    pub records: u64,
}

/// Passes bytes through and hashes them, so the checksum costs no second pass.
struct Hashing<W> {
    inner: W,
    hasher: Sha256,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl Snapshot {
    /// Writes the backup file (header, compressed records, checksum) to `out`.
    pub fn write_to(&self, out: impl Write) -> io::Result<()> {
        let mut out = Hashing {
            inner: BufWriter::with_capacity(64 * 1024, out),
            hasher: Sha256::new(),
        };
        out.write_all(MAGIC)?;
        out.write_all(&BACKUP_FORMAT.to_be_bytes())?;
        out.write_all(&self.database_format.to_be_bytes())?;
        out.write_all(&self.taken_at.unix_timestamp().to_be_bytes())?;
        let mut body = flate2::write::ZlibEncoder::new(&mut out, flate2::Compression::fast());
        let mut records = 0u64;
        for (name, entries) in &self.trees {
            body.write_all(b"T")?;
            write_bytes(&mut body, name)?;
            for (key, value) in entries {
                body.write_all(b"R")?;
                write_bytes(&mut body, key)?;
                write_bytes(&mut body, value)?;
                records += 1;
            }
        }
        body.write_all(b"E")?;
        body.write_all(&records.to_be_bytes())?;
        body.finish()?;
        let digest = out.hasher.finalize();
        out.inner.write_all(&digest)?;
        out.inner.flush()
    }
}

fn write_bytes(out: &mut impl Write, bytes: &[u8]) -> io::Result<()> {
    let len = u32::try_from(bytes.len()).map_err(|_| io::Error::other("record too large"))?;
    out.write_all(&len.to_be_bytes())?;
    out.write_all(bytes)
}

/// Checks header and checksum, and reads every record: what `restore_backup` does before it
/// writes anything.
pub fn verify_backup(file: &Path) -> Result<BackupInfo, BackupError> {
    let mut input = File::open(file)?;
    let header = read_header(&mut input)?;
    let body_len = check_checksum(&mut input)?;
    read_records(&mut input, body_len, header, |_| Ok(()))
}

pub(super) struct Header {
    database_format: u32,
    created_at: i64,
}

pub(super) fn read_header(input: &mut File) -> Result<Header, BackupError> {
    let mut header = Vec::with_capacity(HEADER_LEN as usize);
    input.take(HEADER_LEN).read_to_end(&mut header)?;
    let start = &header[..header.len().min(MAGIC.len())];
    if start != &MAGIC[..start.len()] || start.is_empty() {
        return Err(BackupError::NotABackup);
    }
    if header.len() < HEADER_LEN as usize {
        return Err(BackupError::Damaged("truncated header".into()));
    }
    let field = |at: usize| {
        u32::from_be_bytes([header[at], header[at + 1], header[at + 2], header[at + 3]])
    };
    let (backup_format, database_format) = (field(8), field(12));
    if backup_format > BACKUP_FORMAT {
        return Err(BackupError::NewerBackupFormat {
            found: backup_format,
            supported: BACKUP_FORMAT,
        });
    }
    if database_format > format_version::CURRENT {
        return Err(BackupError::NewerDatabaseFormat {
            found: database_format,
            supported: format_version::CURRENT,
        });
    }
    let mut created = [0u8; 8];
    created.copy_from_slice(&header[16..24]);
    Ok(Header {
        database_format,
        created_at: i64::from_be_bytes(created),
    })
}

/// Compares the trailing SHA-256 with the bytes before it; answers the body's length and
/// leaves `input` at the start of the body.
pub(super) fn check_checksum(input: &mut File) -> Result<u64, BackupError> {
    let len = input.metadata()?.len();
    let Some(body_len) = len.checked_sub(HEADER_LEN + CHECKSUM_LEN) else {
        return Err(BackupError::Damaged("truncated".into()));
    };
    input.seek(SeekFrom::Start(0))?;
    let mut hasher = Sha256::new();
    io::copy(
        &mut (&mut *input).take(len - CHECKSUM_LEN),
        &mut HashSink(&mut hasher),
    )?;
    let mut stored = [0u8; CHECKSUM_LEN as usize];
    input.read_exact(&mut stored)?;
    if hasher.finalize().as_slice() != stored {
        return Err(BackupError::Damaged("checksum mismatch".into()));
    }
    input.seek(SeekFrom::Start(HEADER_LEN))?;
    Ok(body_len)
}

struct HashSink<'a>(&'a mut Sha256);

impl Write for HashSink<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

pub(super) enum Item<'a> {
    Tree(&'a [u8]),
    Record(&'a [u8], &'a [u8]),
}

/// Decodes the body, handing each tree and record to `sink`; checks the end marker's count.
pub(super) fn read_records(
    input: &mut File,
    body_len: u64,
    header: Header,
    mut sink: impl FnMut(Item) -> Result<(), BackupError>,
) -> Result<BackupInfo, BackupError> {
    let compressed = BufReader::with_capacity(64 * 1024, input.take(body_len));
    let mut body = BufReader::new(flate2::read::ZlibDecoder::new(compressed));
    let (mut trees, mut records) = (0u64, 0u64);
    let (mut key, mut value) = (Vec::new(), Vec::new());
    loop {
        match read_array::<1>(&mut body)? {
            [b'T'] => {
                read_bytes(&mut body, MAX_NAME, &mut key)?;
                sink(Item::Tree(&key))?;
                trees += 1;
            }
            [b'R'] if trees > 0 => {
                read_bytes(&mut body, MAX_KEY, &mut key)?;
                read_bytes(&mut body, MAX_VALUE, &mut value)?;
                sink(Item::Record(&key, &value))?;
                records += 1;
            }
            [b'E'] => {
                let stated = u64::from_be_bytes(read_array::<8>(&mut body)?);
                if stated != records || body.read(&mut [0u8])? != 0 {
                    return Err(BackupError::Damaged("record count mismatch".into()));
                }
                return Ok(BackupInfo {
                    database_format: header.database_format,
                    created_at: header.created_at,
                    trees,
                    records,
                });
            }
            _ => return Err(BackupError::Damaged("unknown record".into())),
        }
    }
}

fn read_array<const N: usize>(input: &mut impl Read) -> Result<[u8; N], BackupError> {
    let mut bytes = [0u8; N];
    input.read_exact(&mut bytes).map_err(damaged)?;
    Ok(bytes)
}

fn read_bytes(input: &mut impl Read, max: u64, into: &mut Vec<u8>) -> Result<(), BackupError> {
    let len = u64::from(u32::from_be_bytes(read_array::<4>(input)?));
    if len > max {
        return Err(BackupError::Damaged("a record is too large".into()));
    }
    into.clear();
    input.take(len).read_to_end(into).map_err(damaged)?;
    if into.len() as u64 != len {
        return Err(BackupError::Damaged("truncated".into()));
    }
    Ok(())
}

/// Inside the checksummed body, any read failure (bad zlib data, early end) is damage.
fn damaged(e: io::Error) -> BackupError {
    BackupError::Damaged(e.to_string())
}
