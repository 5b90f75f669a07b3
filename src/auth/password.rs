//! argon2id hashing. Callers run it on the blocking pool: it is deliberately slow.
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

#[derive(Clone)]
pub struct PasswordHasher {
    params: Params,
    /// A real hash verified against when the email is unknown, so both failures take as long.
    decoy: String,
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
        let mut hasher = PasswordHasher {
            params,
            decoy: String::new(),
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
        self.argon2()
            .hash_password(password.as_bytes(), &salt)
            .expect("argon2 with valid params")
            .to_string()
    }

    pub fn verify(&self, password: &str, hash: &str) -> bool {
        match PasswordHash::new(hash) {
            Ok(parsed) => self
                .argon2()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok(),
            Err(_) => false,
        }
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
}
