//! The SSO client secret at rest: it must be sent to the identity provider, so it is
//! encrypted, not hashed.
//!
//! ChaCha20-Poly1305 with a random 96-bit nonce per write. The key is derived with
//! HKDF-SHA256 (info `admin-center sso client secret v1`) from the first of `SSO_SECRET_KEYS`,
//! or from the session signing key (`SESSION_SIGNING_KEY`, or the one generated into the
//! database when that is not set). The keys form a ring: the first seals, any of them (and
//! the session signing key) opens, and a secret opened with another key than the first is
//! sealed again with it ([`Sealer::needs_reseal`]), so keys rotate without anyone entering
//! secrets again. The
//! associated data binds a ciphertext to its account, issuer and client id: a ciphertext
//! copied to another account, or left behind when someone points the settings at another
//! issuer, does not decrypt, so the secret is never sent anywhere it was not entered for.
//! Stored as `v1.<kid>.<nonce>.<ciphertext>` (base64url); `kid` names the key (the first
//! 4 bytes of SHA-256 of it, in hex), so a changed signing key is detected (the secret must be
//! entered again) instead of failing obscurely.
//!
//! What it protects against: with `SESSION_SIGNING_KEY` set (production; every replica
//! shares it), a database dump or backup alone does not reveal client secrets. With the key
//! kept in the database (the zero-setup default) it only keeps them out of casual sight.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chacha20poly1305::{
    ChaCha20Poly1305, Key, Nonce,
    aead::{Aead, KeyInit, Payload},
};
use entity::Sealed;
use rand::RngCore;
use sha2::{Digest, Sha256};
use uuid::Uuid;

const INFO: &[u8] = b"admin-center sso client secret v1";
const VERSION: &str = "v1";

/// Seals and opens secrets with the installation's keys. `Debug` never prints a key.
#[derive(Clone)]
pub struct Sealer {
    /// The first seals; each opens what names its `kid`.
    keys: Vec<SealKey>,
}

#[derive(Clone)]
struct SealKey {
    key: [u8; 32],
    kid: String,
}

impl SealKey {
    fn derive(ikm: &[u8]) -> SealKey {
        let mut key = [0u8; 32];
        // 32 bytes is far below HKDF-SHA256's limit (255 × 32), so expanding cannot fail.
        let _ = hkdf::Hkdf::<Sha256>::new(None, ikm).expand(INFO, &mut key);
        let kid = hex::encode(&Sha256::digest(key)[..4]);
        SealKey { key, kid }
    }

    fn cipher(&self) -> ChaCha20Poly1305 {
        ChaCha20Poly1305::new(Key::from_slice(&self.key))
    }
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sealer")
            .field(
                "kids",
                &self.keys.iter().map(|k| &k.kid).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

/// Why a sealed secret could not be opened.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum OpenError {
    /// Sealed with another key (the signing key changed): the secret must be entered again.
    #[error("the client secret was sealed with another key; enter it again")]
    OtherKey,
    /// Not ours, altered, or sealed for another account, issuer or client id.
    #[error("the stored client secret cannot be decrypted; enter it again")]
    Corrupt,
}

/// What a secret is bound to.
pub struct Binding<'a> {
    pub account_id: Uuid,
    pub issuer: &'a str,
    pub client_id: &'a str,
}

impl Binding<'_> {
    fn aad(&self) -> Vec<u8> {
        // Length-prefixed, so no two bindings give the same bytes.
        let mut aad = Vec::new();
        aad.extend_from_slice(self.account_id.as_bytes());
        for part in [self.issuer, self.client_id] {
            aad.extend_from_slice(&(part.len() as u64).to_be_bytes());
            aad.extend_from_slice(part.as_bytes());
        }
        aad
    }
}

impl Sealer {
    /// The sealer for an installation whose only key is `ikm`.
    pub fn new(ikm: &[u8]) -> Sealer {
        Sealer::ring(&[ikm])
    }

    /// A ring: the first key seals, every key opens. Duplicates are dropped.
    pub fn ring(ikms: &[&[u8]]) -> Sealer {
        let mut keys: Vec<SealKey> = Vec::with_capacity(ikms.len());
        for ikm in ikms {
            let key = SealKey::derive(ikm);
            if !keys.iter().any(|k| k.kid == key.kid) {
                keys.push(key);
            }
        }
        if keys.is_empty() {
            // Not reachable from `AppState` (the session key is always in the ring); a
            // sealer without keys would seal with a key of zeros, so derive one from nothing
            // that opens nothing stored.
            keys.push(SealKey::derive(b""));
        }
        Sealer { keys }
    }

    fn primary(&self) -> &SealKey {
        &self.keys[0]
    }

    /// Whether `sealed` was sealed with another key than the one that seals now (it opens,
    /// and should be sealed again), or with none of the ring (it cannot be opened at all).
    pub fn needs_reseal(&self, sealed: &Sealed) -> bool {
        kid_of(sealed) != Some(self.primary().kid.as_str())
    }

    /// Whether `sealed` names a key of the ring (it may still fail to open if altered).
    pub fn knows(&self, sealed: &Sealed) -> bool {
        kid_of(sealed).is_some_and(|kid| self.keys.iter().any(|k| k.kid == kid))
    }

    pub fn seal(&self, secret: &str, binding: &Binding<'_>) -> Sealed {
        let mut nonce = [0u8; 12];
        rand::rng().fill_bytes(&mut nonce);
        // Encrypting into a Vec only fails on plaintexts of gigabytes; inputs are bounded far
        // below that, and an empty ciphertext would simply fail to open.
        let ciphertext = self
            .primary()
            .cipher()
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: secret.as_bytes(),
                    aad: &binding.aad(),
                },
            )
            .unwrap_or_default();
        Sealed(format!(
            "{VERSION}.{}.{}.{}",
            self.primary().kid,
            URL_SAFE_NO_PAD.encode(nonce),
            URL_SAFE_NO_PAD.encode(ciphertext)
        ))
    }

    pub fn open(&self, sealed: &Sealed, binding: &Binding<'_>) -> Result<String, OpenError> {
        let mut parts = sealed.0.split('.');
        let (Some(VERSION), Some(kid), Some(nonce), Some(ciphertext), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(OpenError::Corrupt);
        };
        let Some(key) = self.keys.iter().find(|k| k.kid == kid) else {
            return Err(OpenError::OtherKey);
        };
        let nonce = URL_SAFE_NO_PAD
            .decode(nonce)
            .map_err(|_| OpenError::Corrupt)?;
        let ciphertext = URL_SAFE_NO_PAD
            .decode(ciphertext)
            .map_err(|_| OpenError::Corrupt)?;
        if nonce.len() != 12 {
            return Err(OpenError::Corrupt);
        }
        let plain = key
            .cipher()
            .decrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: &ciphertext,
                    aad: &binding.aad(),
                },
            )
            .map_err(|_| OpenError::Corrupt)?;
        String::from_utf8(plain).map_err(|_| OpenError::Corrupt)
    }
}

/// Logs, at start-up, how many accounts' client secrets no key of the ring opens (the keys
/// changed without the old one kept in `SSO_SECRET_KEYS`): their single sign-on fails with
/// `secret` until a company manager enters the secret again.
pub async fn warn_unknown_keys(
    db: &sea_orm::DatabaseConnection,
    sealer: &Sealer,
) -> Result<(), crate::error::AppError> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
    let stored: Vec<Option<Sealed>> = entity::account_sso::Entity::find()
        .select_only()
        .column(entity::account_sso::Column::ClientSecret)
        .filter(entity::account_sso::Column::ClientSecret.is_not_null())
        .into_tuple()
        .all(db)
        .await?;
    let lost = stored
        .iter()
        .flatten()
        .filter(|sealed| !sealer.knows(sealed))
        .count();
    if lost > 0 {
        tracing::warn!(
            accounts = lost,
            "sso client secrets sealed with a key this server does not have: single sign-on \
             of those accounts fails (reason `secret`) until the old key is added to \
             SSO_SECRET_KEYS or the secrets are entered again"
        );
    }
    Ok(())
}

/// The `kid` a sealed value names.
fn kid_of(sealed: &Sealed) -> Option<&str> {
    let mut parts = sealed.0.split('.');
    match (parts.next(), parts.next()) {
        (Some(VERSION), Some(kid)) => Some(kid),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn binding(issuer: &str) -> Binding<'_> {
        Binding {
            account_id: Uuid::nil(),
            issuer,
            client_id: "admin-center",
        }
    }

    #[test]
    fn a_sealed_secret_opens_only_for_its_binding_and_key() {
        let sealer = Sealer::new(b"0123456789abcdef0123456789abcdef");
        let sealed = sealer.seal("s3cret", &binding("https://idp.example"));
        assert!(!sealed.0.contains("s3cret"));
        assert_eq!(
            sealer.open(&sealed, &binding("https://idp.example")),
            Ok("s3cret".to_owned())
        );
        assert_eq!(
            sealer.open(&sealed, &binding("https://evil.example")),
            Err(OpenError::Corrupt)
        );
        let other = Sealer::new(b"another key, another installation");
        assert_eq!(
            other.open(&sealed, &binding("https://idp.example")),
            Err(OpenError::OtherKey)
        );
        assert_ne!(
            sealer.seal("s3cret", &binding("https://idp.example")),
            sealed,
            "a fresh nonce per write"
        );
    }

    #[test]
    fn a_ring_opens_with_any_key_and_seals_with_the_first() {
        let old = Sealer::new(b"the old key of at least thirty-two bytes");
        let sealed = old.seal("s3cret", &binding("https://idp.example"));
        let ring = Sealer::ring(&[
            b"the new key of at least thirty-two bytes",
            b"the old key of at least thirty-two bytes",
        ]);
        assert!(ring.knows(&sealed) && ring.needs_reseal(&sealed));
        assert_eq!(
            ring.open(&sealed, &binding("https://idp.example")),
            Ok("s3cret".to_owned())
        );
        let resealed = ring.seal("s3cret", &binding("https://idp.example"));
        assert!(!ring.needs_reseal(&resealed));
        // The new key alone opens the resealed secret, not the old one.
        let new = Sealer::new(b"the new key of at least thirty-two bytes");
        assert!(new.open(&resealed, &binding("https://idp.example")).is_ok());
        assert_eq!(
            new.open(&sealed, &binding("https://idp.example")),
            Err(OpenError::OtherKey)
        );
        assert!(!new.knows(&sealed));
    }
}
