//! Password hashing (argon2id, crate defaults) off the async runtime, and generated one-time
//! passwords.

use argon2::{
    Argon2, PasswordHash, PasswordHasher, PasswordVerifier,
    password_hash::{SaltString, rand_core::OsRng},
};
use entity::SecretHash;
use rand::{Rng, seq::SliceRandom};

use crate::error::AppError;

/// Hashes on the blocking pool: argon2 takes tens of milliseconds of CPU and would stall every
/// other request on the same async worker.
pub async fn hash(password: String) -> Result<SecretHash, AppError> {
    tokio::task::spawn_blocking(move || hash_blocking(&password))
        .await
        .map_err(AppError::internal)?
}

fn hash_blocking(password: &str) -> Result<SecretHash, AppError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| SecretHash(h.to_string()))
        .map_err(|e| AppError::internal(std::io::Error::other(e.to_string())))
}

/// True when `password` matches. A malformed stored hash counts as a mismatch (and is logged).
pub async fn verify(password: String, stored: SecretHash) -> Result<bool, AppError> {
    tokio::task::spawn_blocking(move || {
        let parsed = match PasswordHash::new(&stored.0) {
            Ok(parsed) => parsed,
            Err(_) => {
                tracing::error!("a stored password hash is malformed");
                return false;
            }
        };
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
    .await
    .map_err(AppError::internal)
}

/// A random password that meets the policy: 20 characters with upper and lower case, digits and
/// a symbol, without look-alike characters, so it can be read aloud or typed from a print-out.
pub fn generate_one_time() -> String {
    const UPPER: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
    const LOWER: &[u8] = b"abcdefghijkmnopqrstuvwxyz";
    const DIGIT: &[u8] = b"23456789";
    const SYMBOL: &[u8] = b"-_.!";
    let mut rng = rand::rng();
    let mut chars: Vec<u8> = [UPPER, LOWER, DIGIT, SYMBOL]
        .iter()
        .map(|set| set[rng.random_range(0..set.len())])
        .collect();
    let all: Vec<u8> = [UPPER, LOWER, DIGIT].concat();
    while chars.len() < 20 {
        chars.push(all[rng.random_range(0..all.len())]);
    }
    chars.shuffle(&mut rng);
    String::from_utf8_lossy(&chars).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_time_passwords_have_every_class_and_differ() {
        let a = generate_one_time();
        let b = generate_one_time();
        assert_ne!(a, b);
        assert_eq!(a.len(), 20);
        assert!(a.chars().any(|c| c.is_ascii_uppercase()));
        assert!(a.chars().any(|c| c.is_ascii_lowercase()));
        assert!(a.chars().any(|c| c.is_ascii_digit()));
        assert!(a.chars().any(|c| !c.is_ascii_alphanumeric()));
    }

    #[tokio::test]
    async fn hash_verifies_the_right_password_only() -> Result<(), AppError> {
        let stored = hash("Correct-Horse-9".into()).await?;
        assert!(stored.0.starts_with("$argon2id$"));
        assert!(verify("Correct-Horse-9".into(), stored.clone()).await?);
        assert!(!verify("correct-horse-9".into(), stored).await?);
        Ok(())
    }
}
