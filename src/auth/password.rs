//! argon2id hashing on a few dedicated threads, each reusing one memory buffer.
//!
//! Why not `spawn_blocking` + `Argon2::hash_password` (what this did before, issue #13): that
//! allocates and frees the whole block array (`argon2_memory_kib`, 19 MiB by default) on every
//! call, on whichever of the blocking pool's many threads runs it. After the first such free,
//! glibc raises its mmap threshold to that size, so later arrays are carved from the malloc
//! heaps instead of fresh mappings; small long-lived allocations made in between (token
//! records, sled pages, response buffers) land behind them and pin the freed space, so each
//! array needs new memory. RSS grew by ≈ 10 MiB per login, without bound, with one arena or many
//! (old binary, 10 s of logins: 39 → 1,883 MiB; the same run with the threshold pinned by
//! `MALLOC_MMAP_THRESHOLD_=131072`: 20 → 22 MiB, which is how the cause was confirmed).
//! Here each hashing thread allocates its array once and keeps it: the memory argon2 holds is
//! `threads × argon2_memory_kib`, whatever the traffic. Fewer threads than the blocking pool
//! also bound how many hashes run at once, which was the gate's job before.
use argon2::password_hash::{Output, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;

use crate::error::AppError;

/// Refuse stored hashes asking for more than 256 MiB: only a corrupt record would.
const MAX_BLOCKS: usize = 256 * 1024;
/// Jobs waiting per hashing thread before new ones are turned away with 503.
const QUEUE_PER_THREAD: usize = 64;

type Job = Box<dyn FnOnce(&mut Workspace) + Send>;

pub struct PasswordHasher {
    params: Params,
    /// A real hash verified against when the email is unknown, so both failures take as long.
    decoy: String,
    jobs: SyncSender<Job>,
}

/// The one block array a hashing thread owns; grown (never shrunk) when a stored hash was
/// made with more memory than the current setting.
#[derive(Default)]
struct Workspace {
    blocks: Vec<Block>,
}

impl Workspace {
    fn blocks(&mut self, count: usize) -> &mut [Block] {
        if self.blocks.len() < count {
            self.blocks.resize(count, Block::new());
        }
        &mut self.blocks[..count]
    }
}

impl PasswordHasher {
    pub fn new(memory_kib: u32, iterations: u32) -> PasswordHasher {
        let params = Params::new(
            memory_kib.max(Params::MIN_M_COST),
            iterations.max(1),
            1,
            None,
        )
        .unwrap_or_else(|_| Params::default());
        let threads = std::thread::available_parallelism().map_or(2, |n| n.get().clamp(2, 8));
        let decoy = hash_with(
            &params,
            &mut Workspace::default(),
            "decoy for unknown emails",
        );
        PasswordHasher {
            params,
            decoy: decoy.unwrap_or_default(),
            jobs: start_threads(threads),
        }
    }

    /// A new PHC string (`$argon2id$v=19$m=…`) for `password`.
    pub async fn hash(&self, password: String) -> Result<String, AppError> {
        let params = self.params.clone();
        self.run(move |space| hash_with(&params, space, &password))
            .await?
            .map_err(AppError::internal)
    }

    /// For startup (the admin account), before requests: hashes on the calling thread.
    pub fn hash_here(&self, password: &str) -> Result<String, AppError> {
        hash_with(&self.params, &mut Workspace::default(), password).map_err(AppError::internal)
    }

    pub async fn verify(&self, password: String, stored: String) -> Result<bool, AppError> {
        self.run(move |space| verify_with(space, &password, &stored))
            .await
    }

    /// Burns the same time as a real verification and fails.
    pub async fn verify_decoy(&self, password: String) -> Result<bool, AppError> {
        self.verify(password, self.decoy.clone()).await?;
        Ok(false)
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Workspace) -> T + Send + 'static,
    ) -> Result<T, AppError> {
        let (reply, answer) = oneshot::channel();
        let job: Job = Box::new(move |space| {
            // The caller is gone (client disconnected, request timed out): skip the work.
            if !reply.is_closed() {
                let _ = reply.send(work(space));
            }
        });
        match self.jobs.try_send(job) {
            Ok(()) => answer
                .await
                .map_err(|_| AppError::internal("a hashing thread stopped")),
            Err(TrySendError::Full(_)) => {
                tracing::warn!("password hashing queue is full; answering 503");
                Err(AppError::Unavailable)
            }
            Err(TrySendError::Disconnected(_)) => Err(AppError::internal("no hashing threads")),
        }
    }
}

/// The threads stop when the hasher (the only sender) is dropped.
fn start_threads(count: usize) -> SyncSender<Job> {
    let (jobs, queue) = mpsc::sync_channel::<Job>(count * QUEUE_PER_THREAD);
    let queue = Arc::new(Mutex::new(queue));
    for n in 0..count {
        let queue = queue.clone();
        std::thread::Builder::new()
            .name(format!("argon2-{n}"))
            .spawn(move || work_through(&queue))
            .expect("the OS lets us start a thread at startup");
    }
    jobs
}

fn work_through(queue: &Mutex<Receiver<Job>>) {
    let mut space = Workspace::default();
    loop {
        let next = match queue.lock() {
            Ok(queue) => queue.recv(),
            Err(_) => return,
        };
        match next {
            Ok(job) => job(&mut space),
            Err(_) => return,
        }
    }
}

fn hash_with(
    params: &Params,
    space: &mut Workspace,
    password: &str,
) -> Result<String, argon2::password_hash::Error> {
    let salt_bytes: [u8; 16] = rand::random();
    let salt = SaltString::encode_b64(&salt_bytes)?;
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
        .hash_password_into_with_memory(
            password.as_bytes(),
            &salt_bytes,
            &mut out,
            space.blocks(params.block_count()),
        )?;
    let hash = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: params.try_into()?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out)?),
    };
    Ok(hash.to_string())
}

/// Checks `password` against a stored PHC string with the parameters the string names, so
/// hashes made under an older memory setting keep working.
fn verify_with(space: &mut Workspace, password: &str, stored: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return false;
    };
    let (Ok(algorithm), Ok(params)) = (
        Algorithm::try_from(parsed.algorithm),
        Params::try_from(&parsed),
    ) else {
        return false;
    };
    let version = parsed.version.map_or(Ok(Version::V0x13), Version::try_from);
    let (Ok(version), Some(salt), Some(expected)) = (version, parsed.salt, parsed.hash) else {
        return false;
    };
    if params.block_count() > MAX_BLOCKS {
        return false;
    }
    let mut salt_buf = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_buf) else {
        return false;
    };
    let mut out = vec![0u8; expected.len()];
    let blocks = space.blocks(params.block_count());
    let computed = Argon2::new(algorithm, version, params.clone()).hash_password_into_with_memory(
        password.as_bytes(),
        salt,
        &mut out,
        blocks,
    );
    // Output's equality is constant-time.
    computed.is_ok() && Output::new(&out).is_ok_and(|out| out == expected)
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::{PasswordHasher as _, PasswordVerifier};

    fn hasher() -> PasswordHasher {
        PasswordHasher::new(1024, 1)
    }

    #[tokio::test]
    async fn hashes_are_argon2id_and_verify() {
        let hasher = hasher();
        let hash = hasher.hash("correct horse".into()).await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=1024,t=1,p=1$"), "{hash}");
        assert!(hasher
            .verify("correct horse".into(), hash.clone())
            .await
            .unwrap());
        assert!(!hasher.verify("wrong horse".into(), hash).await.unwrap());
        assert!(!hasher
            .verify("x".into(), "not a hash".into())
            .await
            .unwrap());
        assert!(!hasher.verify_decoy("x".into()).await.unwrap());
    }

    #[test]
    fn agrees_with_the_argon2_crate_both_ways() {
        let params = Params::new(2048, 2, 1, None).unwrap();
        let reference = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
        let mut space = Workspace::default();
        let ours = hash_with(&params, &mut space, "pässword").unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(reference
            .verify_password("pässword".as_bytes(), &parsed)
            .is_ok());

        let salt = SaltString::encode_b64(&[7u8; 16]).unwrap();
        let theirs = reference
            .hash_password(b"hunter2", &salt)
            .unwrap()
            .to_string();
        assert!(verify_with(&mut space, "hunter2", &theirs));
        assert!(!verify_with(&mut space, "hunter3", &theirs));
    }

    #[test]
    fn verifies_hashes_made_with_other_memory_settings() {
        let small = Params::new(1024, 1, 1, None).unwrap();
        let large = Params::new(4096, 1, 1, None).unwrap();
        let mut space = Workspace::default();
        let old = hash_with(&large, &mut space, "pw").unwrap();
        let new = hash_with(&small, &mut space, "pw").unwrap();
        assert!(verify_with(&mut space, "pw", &old));
        assert!(verify_with(&mut space, "pw", &new));
        assert_eq!(
            space.blocks.len(),
            4096,
            "the buffer grew once and is reused"
        );
    }

    #[test]
    fn refuses_stored_hashes_that_ask_for_absurd_memory() {
        let huge = "$argon2id$v=19$m=4194304,t=1,p=1$c2FsdHNhbHRzYWx0$\
                    AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
        let mut space = Workspace::default();
        assert!(!verify_with(&mut space, "pw", huge));
        assert!(space.blocks.is_empty(), "nothing was allocated for it");
    }

    #[tokio::test]
    async fn many_hashes_at_once_all_complete() {
        let hasher = Arc::new(hasher());
        let jobs: Vec<_> = (0..40)
            .map(|n| {
                let hasher = hasher.clone();
                tokio::spawn(async move { hasher.hash(format!("pw{n}")).await })
            })
            .collect();
        for job in jobs {
            assert!(job.await.unwrap().unwrap().starts_with("$argon2id$"));
        }
    }
}
