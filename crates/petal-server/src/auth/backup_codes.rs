//! Backup codes: ten random codes shown once, stored as keyed hashes, each usable once.

use petal_crypto::CodeHasher;
use petal_domain::UserId;

/// How many codes a set holds.
pub const COUNT: usize = 10;
/// Characters used: no look-alikes (0/o, 1/l/i).
const ALPHABET: &[u8; 31] = b"23456789abcdefghjkmnpqrstuvwxyz";

/// A new set of codes, formatted `xxxxx-xxxxx` (≈ 49 bits each).
pub fn generate() -> anyhow::Result<Vec<String>> {
    (0..COUNT)
        .map(|_| {
            let mut bytes = [0u8; 10];
            aws_lc_rs::rand::fill(&mut bytes).map_err(|_| anyhow::anyhow!("random failed"))?;
            // 256 is not a multiple of 31; the slight bias (< 1%) costs well under a bit.
            let chars: String = bytes
                .iter()
                .filter_map(|b| ALPHABET.get(usize::from(*b) % ALPHABET.len()))
                .map(|b| char::from(*b))
                .collect();
            let (first, second) = chars.split_at(5);
            Ok(format!("{first}-{second}"))
        })
        .collect()
}

/// The stored hash of a code as a person typed it: case, spaces and dashes do not matter.
pub fn hash(hasher: &CodeHasher, user: UserId, typed: &str) -> [u8; 32] {
    let normalised: String = typed
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    hasher.hash(user.as_uuid().as_bytes(), &normalised)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn ten_distinct_well_formed_codes() {
        let codes = generate().unwrap();
        assert_eq!(codes.len(), COUNT);
        assert_eq!(codes.iter().collect::<HashSet<_>>().len(), COUNT);
        for code in &codes {
            assert_eq!(code.len(), 11);
            assert_eq!(&code[5..6], "-");
        }
    }

    #[test]
    fn typing_variations_hash_alike() {
        let key = petal_crypto::Key256::generate().unwrap();
        let hasher = key.code_hasher();
        let user = UserId::new();
        assert_eq!(hash(&hasher, user, "abcde-fghjk"), hash(&hasher, user, " ABCDE FGHJK "));
        assert_ne!(hash(&hasher, user, "abcde-fghjk"), hash(&hasher, UserId::new(), "abcde-fghjk"));
    }
}
