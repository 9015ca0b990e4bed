//! A stored hash of a secret (argon2 PHC string for passwords, SHA-256 hex for tokens), and a
//! secret sealed at rest.

use sea_orm::DeriveValueType;

/// A hash of a secret. Its `Debug` never prints the value: a hash still lets an attacker guess
/// offline, so it stays out of logs as much as the secret itself.
#[derive(Clone, PartialEq, Eq, DeriveValueType)]
pub struct SecretHash(pub String);

impl std::fmt::Debug for SecretHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretHash(<redacted>)")
    }
}

/// Hashes can be primary keys (codes, refresh tokens), never generated from a number.
impl sea_orm::TryFromU64 for SecretHash {
    fn try_from_u64(_: u64) -> Result<Self, sea_orm::DbErr> {
        Err(sea_orm::DbErr::ConvertFromU64("SecretHash"))
    }
}

/// A secret encrypted at rest (the SSO client secret: it must be usable, so it cannot be
/// hashed). Its `Debug` never prints the ciphertext.
#[derive(Clone, PartialEq, Eq, DeriveValueType)]
pub struct Sealed(pub String);

impl std::fmt::Debug for Sealed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealed(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::{Sealed, SecretHash};

    #[test]
    fn debug_never_prints_a_sealed_secret() {
        assert_eq!(
            format!("{:?}", Sealed("v1.ab.cd.ef".into())),
            "Sealed(<redacted>)"
        );
    }

    #[test]
    fn debug_never_prints_the_hash() {
        let hash = SecretHash("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into());
        assert_eq!(format!("{hash:?}"), "SecretHash(<redacted>)");
    }
}
