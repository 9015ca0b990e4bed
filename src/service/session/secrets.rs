//! Prefixed random secrets and the SHA-256 hashes stored in their place; the short e-mail
//! validation codes, salted with their manager.

use entity::SecretHash;
use rand::{Rng, RngCore};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// Prefix of password-reset tokens. Prefixes are public API (they let a leaked secret be
/// recognised, by people and by secret scanners): never change one, only add new ones.
pub const RESET_TOKEN_PREFIX: &str = "acpr_";

/// A new random secret: `prefix` followed by 32 random bytes in hex. Only its
/// [`hash_secret`] is stored; the plaintext is handed out once.
pub fn new_secret(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{prefix}{}", hex::encode(bytes))
}

/// The SHA-256 (hex) of a secret: what is stored, and looked up, in place of the secret.
/// Unsalted on purpose: a [`new_secret`] carries 256 random bits, and lookup is by hash.
pub fn hash_secret(value: &str) -> SecretHash {
    SecretHash(hex::encode(Sha256::digest(value.as_bytes())))
}

/// Validation codes are short enough to type, so their hash is salted with the manager id:
/// equal codes of two managers never collide, and a code is only good for its own manager.
pub(super) fn validation_code_hash(manager_id: Uuid, code: &str) -> SecretHash {
    hash_secret(&format!("{manager_id}:{}", code.trim().to_uppercase()))
}

/// A 10-character code to type from an e-mail, without look-alike characters.
pub(super) fn new_validation_code() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    (0..10)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect()
}
