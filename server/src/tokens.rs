//! API tokens (CONTRACT §9): high-entropy random strings shown once; the store keeps
//! only their SHA-256.
//!
//! A token looks like `mbn_<id>_<secret>`: the id (8 hex) names it in listings and
//! revocations, the secret is 32 random bytes in base64url. Lookup is by the hash of the
//! whole string, so a guess costs a full SHA-256 preimage.

use crate::store::{Store, StoreError, TokenScope};
use base64::Engine as _;
use monban_core::Timestamp;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// A freshly made token: the text to hand out once, its id and its hash.
pub struct NewToken {
    pub text: String,
    pub id: String,
    pub hash: String,
}

pub fn generate() -> NewToken {
    let mut rng = rand::rngs::OsRng;
    let mut id = [0u8; 4];
    rng.fill_bytes(&mut id);
    let mut secret = [0u8; 32];
    rng.fill_bytes(&mut secret);
    let id = hex::encode(id);
    let text = format!(
        "mbn_{id}_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret)
    );
    NewToken {
        hash: hash(&text),
        id,
        text,
    }
}

pub fn hash(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// Issues a token for `scope` and returns its text (shown once; only the hash is stored).
pub async fn issue(
    store: &Store,
    scope: TokenScope,
    label: &str,
    now: Timestamp,
) -> Result<String, StoreError> {
    let t = generate();
    store
        .insert_token(&t.id, &t.hash, &scope, label, now)
        .await?;
    Ok(t.text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_unique_and_hashed() {
        let a = generate();
        let b = generate();
        assert_ne!(a.text, b.text);
        assert_eq!(a.hash, hash(&a.text));
        assert!(a.text.len() > 40);
        assert!(!a.hash.contains(&a.text));
    }
}
