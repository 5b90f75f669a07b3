//! argon2id hashing. Callers run it on the blocking pool: it is deliberately slow.
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use std::sync::{Arc, Condvar, Mutex};

#[derive(Clone)]
pub struct PasswordHasher {
    params: Params,
    /// A real hash verified against when the email is unknown, so both failures take as long.
    decoy: String,
    gate: Arc<Gate>,
}

/// Bounds how many hashes run at once (one per core, at least two): each holds `memory_kib` of
/// RAM, so a burst of sign-ups or logins waits its turn instead of exhausting memory.
struct Gate {
    free: Mutex<usize>,
    freed: Condvar,
}

struct Slot<'a>(&'a Gate);

impl Gate {
    fn new(slots: usize) -> Gate {
        Gate {
            free: Mutex::new(slots.max(1)),
            freed: Condvar::new(),
        }
    }

    /// Blocks (callers are on the blocking pool) until a slot is free.
    fn enter(&self) -> Slot<'_> {
        let mut free = self.free.lock().unwrap_or_else(|e| e.into_inner());
        while *free == 0 {
            free = self.freed.wait(free).unwrap_or_else(|e| e.into_inner());
        }
        *free -= 1;
        Slot(self)
    }
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        *self.0.free.lock().unwrap_or_else(|e| e.into_inner()) += 1;
        self.0.freed.notify_one();
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
        let slots = std::thread::available_parallelism().map_or(2, |n| n.get().max(2));
        let mut hasher = PasswordHasher {
            params,
            decoy: String::new(),
            gate: Arc::new(Gate::new(slots)),
        };
        hasher.decoy = hasher.hash("decoy password for unknown emails");
        hasher
    }

    fn argon2(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }

    pub fn hash(&self, password: &str) -> String {
        let salt_bytes: [u8; 16] = rand::random();
        let salt = SaltString::encode_b64(&salt_bytes).expect("16 bytes is a valid salt");
        let _slot = self.gate.enter();
        self.argon2()
            .hash_password(password.as_bytes(), &salt)
            .expect("argon2 with valid params")
            .to_string()
    }

    pub fn verify(&self, password: &str, hash: &str) -> bool {
        let Ok(parsed) = PasswordHash::new(hash) else {
            return false;
        };
        let _slot = self.gate.enter();
        self.argon2()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    }

    /// Burns the same time as a real verification and fails.
    pub fn verify_decoy(&self, password: &str) -> bool {
        let _ = self.verify(password, &self.decoy);
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_and_verify() {
        let hasher = PasswordHasher::new(1024, 1);
        let hash = hasher.hash("correct horse");
        assert!(hash.starts_with("$argon2id$"));
        assert!(hasher.verify("correct horse", &hash));
        assert!(!hasher.verify("wrong horse", &hash));
        assert!(!hasher.verify("x", "not a hash"));
    }

    #[test]
    fn the_gate_lets_only_so_many_hashes_run_at_once() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let gate = Arc::new(Gate::new(2));
        let (inside, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let (gate, inside, most) = (gate.clone(), inside.clone(), most.clone());
                std::thread::spawn(move || {
                    let _slot = gate.enter();
                    let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    std::thread::sleep(std::time::Duration::from_millis(5));
                    inside.fetch_sub(1, Ordering::SeqCst);
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(most.load(Ordering::SeqCst), 2);
        assert_eq!(*gate.free.lock().unwrap(), 2, "every slot is given back");
    }
}
