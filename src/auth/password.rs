//! Passwords: the policy of SPEC 5, argon2id hashing (crate defaults: 19 MiB, 2 passes) off the
//! async runtime, and generated one-time passwords.
//!
//! Hashing is CPU-bound and slow on purpose, so it runs on a few dedicated threads (by default
//! one per core but one) at the lowest scheduling priority. A burst of sign-ins then queues
//! behind itself, and the OS hands a core to request threads the moment they need it: other
//! requests keep their latency while sign-ins run at full load (see BENCHMARKS.md).

use std::sync::{
    Arc, Mutex,
    atomic::{AtomicUsize, Ordering},
    mpsc,
};

use argon2::{
    Argon2, PasswordHash, PasswordHasher as _, PasswordVerifier,
    password_hash::{SaltString, rand_core::OsRng},
};
use entity::SecretHash;
use rand::{Rng, seq::SliceRandom};
use thread_priority::{ThreadPriority, set_current_thread_priority};

use crate::error::AppError;

pub const MIN_LEN: usize = 8;
pub const MAX_LEN: usize = 128;

/// Checks a new password against the policy; the error names the rule that failed.
pub fn check_policy(password: &str, login: &str, name: &str) -> Result<(), AppError> {
    let len = password.chars().count();
    if !(MIN_LEN..=MAX_LEN).contains(&len) {
        return Err(AppError::bad_input(format!(
            "password must be {MIN_LEN} to {MAX_LEN} characters long"
        )));
    }
    let classes = [
        password.chars().any(char::is_uppercase),
        password.chars().any(char::is_lowercase),
        password.chars().any(|c| c.is_ascii_digit()),
        password.chars().any(|c| !c.is_alphanumeric()),
    ];
    if classes.iter().filter(|has| **has).count() < 3 {
        return Err(AppError::bad_input(
            "password must use at least three of: upper case, lower case, digits, symbols",
        ));
    }
    let lowered = password.to_lowercase();
    if lowered == login.trim().to_lowercase() {
        return Err(AppError::bad_input("password must not be the login"));
    }
    if lowered == name.trim().to_lowercase() {
        return Err(AppError::bad_input("password must not be the name"));
    }
    Ok(())
}

type Job = Box<dyn FnOnce() + Send>;

/// About 2.5 s of queued hashing per thread at ~25 ms a hash.
const MAX_QUEUED_PER_THREAD: usize = 100;

/// Hashes and verifies passwords on its own low-priority threads.
#[derive(Clone)]
pub struct Hasher {
    jobs: mpsc::Sender<Job>,
    threads: usize,
    /// Jobs queued or running. Past `MAX_QUEUED_PER_THREAD * threads` new work is refused
    /// with `RATE_LIMITED`: a flood of sign-ins gets a quick answer instead of a queue that
    /// delays every honest sign-in behind it.
    pending: Arc<AtomicUsize>,
    /// Verified against when the login is unknown, so that an unknown login costs the same
    /// time as a wrong password.
    dummy: SecretHash,
}

impl std::fmt::Debug for Hasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hasher")
            .field("threads", &self.threads)
            .finish_non_exhaustive()
    }
}

impl Hasher {
    /// Starts `threads` hashing threads (at least one). They end when the last clone of the
    /// `Hasher` is dropped.
    pub async fn new(threads: usize) -> Result<Hasher, AppError> {
        let threads = threads.max(1);
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for i in 0..threads {
            let queue = queue.clone();
            std::thread::Builder::new()
                .name(format!("password-hash-{i}"))
                .spawn(move || {
                    if let Err(err) = set_current_thread_priority(ThreadPriority::Min) {
                        tracing::warn!(?err, "could not lower the priority of a hashing thread");
                    }
                    loop {
                        let job = match queue.lock() {
                            Ok(queue) => queue.recv(),
                            Err(_) => return,
                        };
                        match job {
                            Ok(job) => job(),
                            Err(_) => return,
                        }
                    }
                })
                .map_err(AppError::internal)?;
        }
        let mut hasher = Hasher {
            jobs,
            threads,
            pending: Arc::new(AtomicUsize::new(0)),
            dummy: SecretHash(String::new()),
        };
        let password = generate_one_time();
        hasher.dummy = hasher.run(move || hash_blocking(&password)).await??;
        Ok(hasher)
    }

    /// Leaves one core for everything else.
    pub fn default_parallelism() -> usize {
        std::thread::available_parallelism()
            .map(|n| n.get().saturating_sub(1))
            .unwrap_or(1)
            .max(1)
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, AppError> {
        let limit = MAX_QUEUED_PER_THREAD * self.threads;
        if self.pending.fetch_add(1, Ordering::SeqCst) >= limit {
            self.pending.fetch_sub(1, Ordering::SeqCst);
            return Err(AppError::RateLimited {
                retry_after_secs: 1,
            });
        }
        let (done, result) = tokio::sync::oneshot::channel();
        let gone =
            || AppError::internal(std::io::Error::other("password hashing threads are gone"));
        let pending = self.pending.clone();
        let sent = self.jobs.send(Box::new(move || {
            let _ = done.send(work());
            pending.fetch_sub(1, Ordering::SeqCst);
        }));
        if sent.is_err() {
            self.pending.fetch_sub(1, Ordering::SeqCst);
            return Err(gone());
        }
        result.await.map_err(|_| gone())
    }

    /// Hashes queued or running (the `admin_center_password_hash_queue` gauge).
    pub fn queued(&self) -> usize {
        self.pending.load(Ordering::Relaxed)
    }

    pub async fn hash(&self, password: String) -> Result<SecretHash, AppError> {
        self.run(move || hash_blocking(&password)).await?
    }

    /// True when `password` matches `stored`. With `None` (unknown login) it verifies against
    /// the dummy hash and answers false, taking the same time.
    pub async fn verify(
        &self,
        password: String,
        stored: Option<SecretHash>,
    ) -> Result<bool, AppError> {
        let known = stored.is_some();
        let stored = stored.unwrap_or_else(|| self.dummy.clone());
        let matches = self
            .run(move || verify_blocking(&password, &stored))
            .await?;
        Ok(known && matches)
    }
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, AppError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(AppError::internal)
}

fn hash_blocking(password: &str) -> Result<SecretHash, AppError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| SecretHash(h.to_string()))
        .map_err(|e| AppError::internal(std::io::Error::other(e.to_string())))
}

fn verify_blocking(password: &str, stored: &SecretHash) -> bool {
    match PasswordHash::new(&stored.0) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => {
            tracing::error!("a stored password hash is malformed");
            false
        }
    }
}

/// Hashes without a [`Hasher`] (CLI, first start: one hash, no contention).
pub async fn hash(password: String) -> Result<SecretHash, AppError> {
    blocking(move || hash_blocking(&password)).await?
}

/// Verifies without a [`Hasher`] (tests and tools).
pub async fn verify(password: String, stored: SecretHash) -> Result<bool, AppError> {
    blocking(move || verify_blocking(&password, &stored)).await
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

    fn rule(password: &str) -> Option<String> {
        match check_policy(password, "jdoe", "John Doe") {
            Ok(()) => None,
            Err(AppError::BadUserInput(message)) => Some(message),
            Err(other) => Some(format!("unexpected {other:?}")),
        }
    }

    #[test]
    fn policy_names_the_broken_rule() {
        assert_eq!(
            rule("Abc-12"),
            Some("password must be 8 to 128 characters long".into())
        );
        assert!(rule(&"Aa1-".repeat(33)).is_some_and(|m| m.contains("128")));
        assert!(rule("abcdefgh1").is_some_and(|m| m.contains("three of")));
        assert!(rule("ABCDEFGH!").is_some_and(|m| m.contains("three of")));
        assert_eq!(rule("JDoe-Login").map(|_| ()), None);
        assert_eq!(
            check_policy("Jdoe.Corp1", "JDOE.corp1", "x")
                .err()
                .map(|e| e.to_string()),
            Some("password must not be the login".into())
        );
        assert_eq!(
            check_policy("Mary-Ann 42", "mann", "mary-ann 42")
                .err()
                .map(|e| e.to_string()),
            Some("password must not be the name".into())
        );
        assert_eq!(rule("Correct-Horse-9"), None);
        assert_eq!(
            rule("correct horse battery 9"),
            None,
            "lower, digit and symbol is three"
        );
    }

    #[test]
    fn one_time_passwords_meet_the_policy_and_differ() {
        let a = generate_one_time();
        let b = generate_one_time();
        assert_ne!(a, b);
        assert_eq!(a.len(), 20);
        assert!(check_policy(&a, "admin", "Administrator").is_ok());
        assert!(a.chars().any(|c| !c.is_ascii_alphanumeric()));
    }

    #[tokio::test]
    async fn hasher_verifies_the_right_password_only_and_never_an_unknown_login()
    -> Result<(), AppError> {
        let hasher = Hasher::new(1).await?;
        let stored = hasher.hash("Correct-Horse-9".into()).await?;
        assert!(stored.0.starts_with("$argon2id$"));
        assert!(
            hasher
                .verify("Correct-Horse-9".into(), Some(stored.clone()))
                .await?
        );
        assert!(
            !hasher
                .verify("correct-horse-9".into(), Some(stored))
                .await?
        );
        assert!(!hasher.verify("anything".into(), None).await?);
        Ok(())
    }
}
