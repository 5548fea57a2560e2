//! Define the 32-byte hash type and domain-separated BLAKE3 hashing.

use std::fmt;
use std::str::FromStr;

use borsh::{BorshDeserialize, BorshSerialize};

/// A 32-byte digest (BLAKE3 unless stated otherwise). Shown as lowercase hex.
#[derive(
    Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, BorshSerialize, BorshDeserialize,
)]
pub struct Hash32(pub [u8; 32]);

impl Hash32 {
    /// The all-zero hash (parent of the genesis block).
    pub const ZERO: Hash32 = Hash32([0; 32]);

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Lowercase hex, 64 characters.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

/// Hash `bytes` under a domain-separation context (BLAKE3 derive-key mode).
pub fn hash_domain(context: &str, bytes: &[u8]) -> Hash32 {
    let mut h = blake3::Hasher::new_derive_key(context);
    h.update(bytes);
    Hash32(*h.finalize().as_bytes())
}

impl fmt::Display for Hash32 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Hash32 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hash32({})", self.to_hex())
    }
}

/// A string that is not 64 hex characters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected 64 hex characters for a 32-byte hash")]
pub struct HashParseError;

impl FromStr for Hash32 {
    type Err = HashParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.strip_prefix("0x").unwrap_or(s);
        let mut out = [0u8; 32];
        hex::decode_to_slice(s, &mut out).map_err(|_| HashParseError)?;
        Ok(Hash32(out))
    }
}

crate::serde_via_text!(Hash32);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_separate_equal_bytes() {
        assert_ne!(hash_domain("a", b"x"), hash_domain("b", b"x"));
    }

    #[test]
    fn hex_round_trips_and_rejects_bad_length() {
        let h = hash_domain("t", b"y");
        assert_eq!(h.to_hex().parse::<Hash32>().unwrap(), h);
        assert!("abcd".parse::<Hash32>().is_err());
    }
}
