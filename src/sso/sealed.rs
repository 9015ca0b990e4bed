//! The SSO client secret at rest: it must be sent to the identity provider, so it is
//! encrypted, not hashed.
//!
//! ChaCha20-Poly1305 with a random 96-bit nonce per write. The key is derived with
//! HKDF-SHA256 from the session signing key (`SESSION_SIGNING_KEY`, or the one generated into
//! the database when that is not set), info `admin-center sso client secret v1`. The
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

/// Seals and opens secrets with the installation's key. `Debug` never prints the key.
#[derive(Clone)]
pub struct Sealer {
    key: [u8; 32],
    kid: String,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sealer")
            .field("kid", &self.kid)
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
    /// The sealer for an installation whose session signing key is `ikm`.
    pub fn new(ikm: &[u8]) -> Sealer {
        let mut key = [0u8; 32];
        // 32 bytes is far below HKDF-SHA256's limit (255 × 32), so expanding cannot fail.
        let _ = hkdf::Hkdf::<Sha256>::new(None, ikm).expand(INFO, &mut key);
        let kid = hex::encode(&Sha256::digest(key)[..4]);
        Sealer { key, kid }
    }

    fn cipher(&self) -> ChaCha20Poly1305 {
        ChaCha20Poly1305::new(Key::from_slice(&self.key))
    }

    pub fn seal(&self, secret: &str, binding: &Binding<'_>) -> Sealed {
        let mut nonce = [0u8; 12];
        rand::rng().fill_bytes(&mut nonce);
        // Encrypting into a Vec only fails on plaintexts of gigabytes; inputs are bounded far
        // below that, and an empty ciphertext would simply fail to open.
        let ciphertext = self
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
            self.kid,
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
        if kid != self.kid {
            return Err(OpenError::OtherKey);
        }
        let nonce = URL_SAFE_NO_PAD
            .decode(nonce)
            .map_err(|_| OpenError::Corrupt)?;
        let ciphertext = URL_SAFE_NO_PAD
            .decode(ciphertext)
            .map_err(|_| OpenError::Corrupt)?;
        if nonce.len() != 12 {
            return Err(OpenError::Corrupt);
        }
        let plain = self
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
}
