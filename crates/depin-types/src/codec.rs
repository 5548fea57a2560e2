//! Encode canonically and decode with bounds: the only way bytes from outside become values.

use borsh::{BorshDeserialize, BorshSerialize};

/// Why bytes could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// Input longer than the limit for its type.
    #[error("input is {got} bytes, over the limit of {limit}")]
    TooLarge {
        /// Given length.
        got: usize,
        /// Limit.
        limit: usize,
    },
    /// Not a valid encoding (wrong tag, truncated, trailing bytes, bad UTF-8…).
    #[error("malformed encoding: {0}")]
    Malformed(String),
    /// Decoded, but a field breaks a structural rule (length, range).
    #[error("invalid value: {0}")]
    Invalid(String),
}

/// Canonical bytes of a value.
pub fn encode<T: BorshSerialize>(value: &T) -> Vec<u8> {
    borsh::to_vec(value).expect("invariant: encoding into a Vec cannot fail")
}

/// Decode `bytes` as a `T`, refusing inputs over `limit` bytes before looking at them, and any
/// trailing bytes after the value (so that every value has exactly one encoding).
pub fn decode_bounded<T: BorshDeserialize>(bytes: &[u8], limit: usize) -> Result<T, DecodeError> {
    if bytes.len() > limit {
        return Err(DecodeError::TooLarge { got: bytes.len(), limit });
    }
    borsh::from_slice(bytes).map_err(|e| DecodeError::Malformed(e.to_string()))
}
