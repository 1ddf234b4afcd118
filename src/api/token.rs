//! API tokens: made here, stored by operators only as their SHA-256 (`[[api.clients]]`).

use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// A new random bearer token (256 bits, URL-safe) and the hex SHA-256 that goes into
/// `token_sha256`.
pub fn new_token() -> (String, String) {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let token = format!(
        "ewsc_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    );
    let digest = hex::encode(Sha256::digest(token.as_bytes()));
    (token, digest)
}

#[cfg(test)]
mod tests {
    use sha2::{Digest, Sha256};

    use super::new_token;

    #[test]
    fn tokens_are_random_and_the_digest_is_their_sha256() {
        let (first, first_digest) = new_token();
        let (second, _) = new_token();
        assert_ne!(first, second);
        assert!(first.starts_with("ewsc_") && first.len() > 40, "{first}");
        assert_eq!(first_digest, hex::encode(Sha256::digest(first.as_bytes())));
    }
}
