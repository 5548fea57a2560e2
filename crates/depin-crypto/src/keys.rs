//! Define signature schemes, public keys, signatures and secret keys (Ed25519, ML-DSA-65, hybrid).
//!
//! Canonical encoding (borsh-compatible, hand-written so lengths are exact and bounded): one
//! scheme tag byte, then the fixed-length key or signature bytes of that scheme; a hybrid key or
//! signature is the Ed25519 part followed by the ML-DSA part. Text form: `<scheme>:<hex>`.

use std::fmt;
use std::io::{Read, Write};
use std::str::FromStr;

use borsh::{BorshDeserialize, BorshSerialize};
use ed25519_dalek::Signer as _;
use ml_dsa::MlDsa65;
use zeroize::Zeroizing;

use crate::address::Address;
use crate::domain::ML_DSA_CONTEXT;

/// Ed25519 public key length in bytes.
pub const ED25519_PUBLIC_LEN: usize = 32;
/// Ed25519 signature length in bytes.
pub const ED25519_SIGNATURE_LEN: usize = 64;
/// ML-DSA-65 public key length in bytes (FIPS 204, table 2).
pub const ML_DSA_65_PUBLIC_LEN: usize = 1952;
/// ML-DSA-65 signature length in bytes (FIPS 204, table 2).
pub const ML_DSA_65_SIGNATURE_LEN: usize = 3309;
/// Seed length for both schemes.
const SEED_LEN: usize = 32;

/// A signature scheme. The tag value is part of every encoded key, signature and address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum Scheme {
    /// Ed25519 with strict verification (RFC 8032 plus ed25519-dalek `verify_strict`).
    Ed25519 = 1,
    /// ML-DSA-65 (FIPS 204), post-quantum.
    MlDsa65 = 2,
    /// Both: a signature is valid only if the Ed25519 and the ML-DSA-65 parts both verify.
    Hybrid = 3,
}

impl Scheme {
    /// All schemes, in tag order.
    pub const ALL: [Scheme; 3] = [Scheme::Ed25519, Scheme::MlDsa65, Scheme::Hybrid];

    /// The one-byte tag.
    pub fn tag(self) -> u8 {
        self as u8
    }

    /// The scheme with this tag.
    pub fn from_tag(tag: u8) -> Result<Scheme, KeyError> {
        match tag {
            1 => Ok(Scheme::Ed25519),
            2 => Ok(Scheme::MlDsa65),
            3 => Ok(Scheme::Hybrid),
            other => Err(KeyError::UnknownScheme(other)),
        }
    }

    /// The lowercase name used in text forms and on the CLI.
    pub fn name(self) -> &'static str {
        match self {
            Scheme::Ed25519 => "ed25519",
            Scheme::MlDsa65 => "mldsa65",
            Scheme::Hybrid => "hybrid",
        }
    }

    fn public_len(self) -> usize {
        match self {
            Scheme::Ed25519 => ED25519_PUBLIC_LEN,
            Scheme::MlDsa65 => ML_DSA_65_PUBLIC_LEN,
            Scheme::Hybrid => ED25519_PUBLIC_LEN + ML_DSA_65_PUBLIC_LEN,
        }
    }

    fn signature_len(self) -> usize {
        match self {
            Scheme::Ed25519 => ED25519_SIGNATURE_LEN,
            Scheme::MlDsa65 => ML_DSA_65_SIGNATURE_LEN,
            Scheme::Hybrid => ED25519_SIGNATURE_LEN + ML_DSA_65_SIGNATURE_LEN,
        }
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Scheme {
    type Err = KeyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "ed25519" => Ok(Scheme::Ed25519),
            "mldsa65" | "ml-dsa-65" => Ok(Scheme::MlDsa65),
            "hybrid" => Ok(Scheme::Hybrid),
            other => Err(KeyError::UnknownSchemeName(other.to_string())),
        }
    }
}

/// Errors from parsing keys and signatures and from verification.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// The tag byte names no scheme.
    #[error("unknown signature scheme tag {0}")]
    UnknownScheme(u8),
    /// The text names no scheme.
    #[error("unknown signature scheme {0:?} (expected ed25519, mldsa65 or hybrid)")]
    UnknownSchemeName(String),
    /// Wrong number of bytes for the scheme.
    #[error("{what} for {scheme} must be {expected} bytes, got {got}")]
    BadLength {
        /// "public key", "signature" or "secret key".
        what: &'static str,
        /// The scheme.
        scheme: Scheme,
        /// Required length.
        expected: usize,
        /// Given length.
        got: usize,
    },
    /// The bytes are not a valid point or key.
    #[error("malformed {0}")]
    Malformed(&'static str),
    /// Text form is not `<scheme>:<hex>`.
    #[error("expected <scheme>:<hex>")]
    BadText,
    /// The signature's scheme is not the key's scheme.
    #[error("signature scheme {signature} does not match key scheme {key}")]
    SchemeMismatch {
        /// Key scheme.
        key: Scheme,
        /// Signature scheme.
        signature: Scheme,
    },
    /// The signature does not verify.
    #[error("signature does not verify")]
    Invalid,
    /// The operating system's random source failed.
    #[error("the operating system's random source failed")]
    RandomSource,
}

/// Decode `scheme:hex` into a scheme and bytes of the exact length for it.
fn parse_text(s: &str, what: &'static str, len: impl Fn(Scheme) -> usize) -> Result<(Scheme, Vec<u8>), KeyError> {
    let (name, hex_part) = s.split_once(':').ok_or(KeyError::BadText)?;
    let scheme: Scheme = name.parse()?;
    let bytes = hex::decode(hex_part).map_err(|_| KeyError::BadText)?;
    if bytes.len() != len(scheme) {
        return Err(KeyError::BadLength { what, scheme, expected: len(scheme), got: bytes.len() });
    }
    Ok((scheme, bytes))
}

// ---------------------------------------------------------------------------------------------
// Public keys
// ---------------------------------------------------------------------------------------------

/// A public key of any scheme. Bytes are validated for length on construction; curve/lattice
/// validity is checked at verification.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PublicKey {
    scheme: Scheme,
    bytes: Box<[u8]>,
}

impl PublicKey {
    /// Build from a scheme and its raw bytes (hybrid: Ed25519 bytes then ML-DSA bytes).
    pub fn from_parts(scheme: Scheme, bytes: &[u8]) -> Result<PublicKey, KeyError> {
        if bytes.len() != scheme.public_len() {
            return Err(KeyError::BadLength {
                what: "public key",
                scheme,
                expected: scheme.public_len(),
                got: bytes.len(),
            });
        }
        Ok(PublicKey { scheme, bytes: bytes.into() })
    }

    /// The scheme.
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// The raw key bytes without the scheme tag.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The account address of this key.
    pub fn address(&self) -> Address {
        Address::of(self)
    }

    /// The Ed25519 part, for Ed25519 and hybrid keys.
    pub fn ed25519_bytes(&self) -> Option<[u8; 32]> {
        match self.scheme {
            Scheme::Ed25519 | Scheme::Hybrid => {
                let mut out = [0u8; 32];
                out.copy_from_slice(&self.bytes[..32]);
                Some(out)
            }
            Scheme::MlDsa65 => None,
        }
    }

    /// Verify `signature` over `message`. Ed25519 uses strict verification (rejects small-order
    /// keys and non-canonical signatures); hybrid requires both parts (spec rule C-2).
    pub fn verify(&self, message: &[u8], signature: &Signature) -> Result<(), KeyError> {
        if signature.scheme != self.scheme {
            return Err(KeyError::SchemeMismatch { key: self.scheme, signature: signature.scheme });
        }
        match self.scheme {
            Scheme::Ed25519 => verify_ed25519(&self.bytes, message, &signature.bytes),
            Scheme::MlDsa65 => verify_ml_dsa(&self.bytes, message, &signature.bytes),
            Scheme::Hybrid => {
                let (ed_pk, pq_pk) = self.bytes.split_at(ED25519_PUBLIC_LEN);
                let (ed_sig, pq_sig) = signature.bytes.split_at(ED25519_SIGNATURE_LEN);
                verify_ed25519(ed_pk, message, ed_sig)?;
                verify_ml_dsa(pq_pk, message, pq_sig)
            }
        }
    }
}

impl PublicKey {
    /// Verify a device report signature (rule M-2): the Ed25519 part (of an Ed25519 or hybrid
    /// key) by the cofactored equation of [`crate::cofactored`] instead of strictly, the ML-DSA
    /// part as [`PublicKey::verify`] does; hybrid requires both. Transaction and block signatures
    /// stay strict ([`PublicKey::verify`]).
    pub fn verify_cofactored(&self, message: &[u8], signature: &Signature) -> Result<(), KeyError> {
        let (ed, pq) = self.parts(signature)?;
        if let Some((pk, sig)) = ed {
            let key = crate::cofactored::CofactoredKey::from_bytes(&pk)
                .ok_or(KeyError::Malformed("ed25519 public key"))?;
            if !key.verify(message, &sig) {
                return Err(KeyError::Invalid);
            }
        }
        match pq {
            Some((pk, sig)) => verify_ml_dsa(pk, message, sig),
            None => Ok(()),
        }
    }

    /// The Ed25519 part (key, signature) and the ML-DSA part of a key and a signature of its
    /// scheme.
    #[allow(clippy::type_complexity)] // two optional pairs, named at the one call site each
    pub(crate) fn parts<'a>(
        &'a self,
        signature: &'a Signature,
    ) -> Result<(Option<([u8; 32], [u8; 64])>, Option<(&'a [u8], &'a [u8])>), KeyError> {
        if signature.scheme != self.scheme {
            return Err(KeyError::SchemeMismatch { key: self.scheme, signature: signature.scheme });
        }
        let ed = |pk: &[u8], sig: &[u8]| -> ([u8; 32], [u8; 64]) {
            (
                pk[..ED25519_PUBLIC_LEN].try_into().expect("invariant: lengths follow the scheme"),
                sig[..ED25519_SIGNATURE_LEN].try_into().expect("invariant: lengths follow the scheme"),
            )
        };
        Ok(match self.scheme {
            Scheme::Ed25519 => (Some(ed(&self.bytes, &signature.bytes)), None),
            Scheme::MlDsa65 => (None, Some((&self.bytes[..], &signature.bytes[..]))),
            Scheme::Hybrid => (
                Some(ed(&self.bytes, &signature.bytes)),
                Some((&self.bytes[ED25519_PUBLIC_LEN..], &signature.bytes[ED25519_SIGNATURE_LEN..])),
            ),
        })
    }
}

fn verify_ed25519(pk: &[u8], message: &[u8], sig: &[u8]) -> Result<(), KeyError> {
    let pk: &[u8; 32] = pk.try_into().map_err(|_| KeyError::Malformed("ed25519 public key"))?;
    let sig: &[u8; 64] = sig.try_into().map_err(|_| KeyError::Malformed("ed25519 signature"))?;
    let vk = ed25519_dalek::VerifyingKey::from_bytes(pk)
        .map_err(|_| KeyError::Malformed("ed25519 public key"))?;
    let sig = ed25519_dalek::Signature::from_bytes(sig);
    vk.verify_strict(message, &sig).map_err(|_| KeyError::Invalid)
}

pub(crate) fn verify_ml_dsa(pk: &[u8], message: &[u8], sig: &[u8]) -> Result<(), KeyError> {
    let enc = ml_dsa::EncodedVerifyingKey::<MlDsa65>::try_from(pk)
        .map_err(|_| KeyError::Malformed("ml-dsa public key"))?;
    let vk = ml_dsa::VerifyingKey::<MlDsa65>::decode(&enc);
    let sig = ml_dsa::Signature::<MlDsa65>::try_from(sig)
        .map_err(|_| KeyError::Malformed("ml-dsa signature"))?;
    if vk.verify_with_context(message, ML_DSA_CONTEXT, &sig) {
        Ok(())
    } else {
        Err(KeyError::Invalid)
    }
}

impl BorshSerialize for PublicKey {
    fn serialize<W: Write>(&self, w: &mut W) -> std::io::Result<()> {
        w.write_all(&[self.scheme.tag()])?;
        w.write_all(&self.bytes)
    }
}

impl BorshDeserialize for PublicKey {
    fn deserialize_reader<R: Read>(r: &mut R) -> std::io::Result<Self> {
        let scheme = read_scheme(r)?;
        let mut bytes = vec![0u8; scheme.public_len()];
        r.read_exact(&mut bytes)?;
        Ok(PublicKey { scheme, bytes: bytes.into() })
    }
}

fn read_scheme<R: Read>(r: &mut R) -> std::io::Result<Scheme> {
    let mut tag = [0u8; 1];
    r.read_exact(&mut tag)?;
    Scheme::from_tag(tag[0]).map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.scheme, hex::encode(&self.bytes))
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", self.address())
    }
}

impl FromStr for PublicKey {
    type Err = KeyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (scheme, bytes) = parse_text(s, "public key", Scheme::public_len)?;
        Ok(PublicKey { scheme, bytes: bytes.into() })
    }
}

// ---------------------------------------------------------------------------------------------
// Signatures
// ---------------------------------------------------------------------------------------------

/// A signature of any scheme.
#[derive(Clone, PartialEq, Eq)]
pub struct Signature {
    scheme: Scheme,
    bytes: Box<[u8]>,
}

impl Signature {
    /// Build from a scheme and raw bytes (hybrid: Ed25519 part then ML-DSA part).
    pub fn from_parts(scheme: Scheme, bytes: &[u8]) -> Result<Signature, KeyError> {
        if bytes.len() != scheme.signature_len() {
            return Err(KeyError::BadLength {
                what: "signature",
                scheme,
                expected: scheme.signature_len(),
                got: bytes.len(),
            });
        }
        Ok(Signature { scheme, bytes: bytes.into() })
    }

    /// The scheme.
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// Raw signature bytes without the tag.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }
}

impl BorshSerialize for Signature {
    fn serialize<W: Write>(&self, w: &mut W) -> std::io::Result<()> {
        w.write_all(&[self.scheme.tag()])?;
        w.write_all(&self.bytes)
    }
}

impl BorshDeserialize for Signature {
    fn deserialize_reader<R: Read>(r: &mut R) -> std::io::Result<Self> {
        let scheme = read_scheme(r)?;
        let mut bytes = vec![0u8; scheme.signature_len()];
        r.read_exact(&mut bytes)?;
        Ok(Signature { scheme, bytes: bytes.into() })
    }
}

impl fmt::Display for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.scheme, hex::encode(&self.bytes))
    }
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signature({}, {} bytes)", self.scheme, self.bytes.len())
    }
}

impl FromStr for Signature {
    type Err = KeyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (scheme, bytes) = parse_text(s, "signature", Scheme::signature_len)?;
        Ok(Signature { scheme, bytes: bytes.into() })
    }
}

crate::serde_via_text!(PublicKey);
crate::serde_via_text!(Signature);
crate::serde_via_text!(Scheme);

// ---------------------------------------------------------------------------------------------
// Secret keys
// ---------------------------------------------------------------------------------------------

/// A secret key: the 32-byte seed(s) of its scheme and the expanded keys. Wiped from memory on
/// drop (ed25519-dalek and ml-dsa with their `zeroize` features); never printed.
pub struct SecretKey {
    scheme: Scheme,
    ed25519: Option<ed25519_dalek::SigningKey>,
    ml_dsa: Option<Box<ml_dsa::SigningKey<MlDsa65>>>,
    seeds: Zeroizing<Vec<u8>>,
}

impl SecretKey {
    /// Generate a fresh key from the operating system's random source.
    pub fn generate(scheme: Scheme) -> Result<SecretKey, KeyError> {
        let n = match scheme {
            Scheme::Hybrid => 2 * SEED_LEN,
            _ => SEED_LEN,
        };
        let mut seeds = Zeroizing::new(vec![0u8; n]);
        getrandom::fill(&mut seeds).map_err(|_| KeyError::RandomSource)?;
        SecretKey::from_seeds(scheme, &seeds)
    }

    /// Derive a key deterministically from seed bytes (32 bytes, or 64 for hybrid: the Ed25519
    /// seed then the ML-DSA seed). Used by key files, tests and dev networks.
    pub fn from_seeds(scheme: Scheme, seeds: &[u8]) -> Result<SecretKey, KeyError> {
        let expected = match scheme {
            Scheme::Hybrid => 2 * SEED_LEN,
            _ => SEED_LEN,
        };
        if seeds.len() != expected {
            return Err(KeyError::BadLength { what: "secret key", scheme, expected, got: seeds.len() });
        }
        let ed = |s: &[u8]| {
            let mut arr = Zeroizing::new([0u8; 32]);
            arr.copy_from_slice(s);
            ed25519_dalek::SigningKey::from_bytes(&arr)
        };
        let pq = |s: &[u8]| {
            let mut arr = Zeroizing::new([0u8; 32]);
            arr.copy_from_slice(s);
            let seed = Zeroizing::new(ml_dsa::Seed::from(*arr));
            Box::new(ml_dsa::SigningKey::<MlDsa65>::from_seed(&seed))
        };
        let (ed25519, ml_dsa) = match scheme {
            Scheme::Ed25519 => (Some(ed(seeds)), None),
            Scheme::MlDsa65 => (None, Some(pq(seeds))),
            Scheme::Hybrid => (Some(ed(&seeds[..32])), Some(pq(&seeds[32..]))),
        };
        Ok(SecretKey { scheme, ed25519, ml_dsa, seeds: Zeroizing::new(seeds.to_vec()) })
    }

    /// The scheme.
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// The seed bytes (for encrypting into a key file). Handle with care.
    pub fn seeds(&self) -> &[u8] {
        &self.seeds
    }

    /// The matching public key.
    pub fn public_key(&self) -> PublicKey {
        let mut bytes = Vec::with_capacity(self.scheme.public_len());
        if let Some(ed) = &self.ed25519 {
            bytes.extend_from_slice(ed.verifying_key().as_bytes());
        }
        if let Some(pq) = &self.ml_dsa {
            use ml_dsa::signature::Keypair as _;
            bytes.extend_from_slice(&pq.verifying_key().encode());
        }
        PublicKey { scheme: self.scheme, bytes: bytes.into() }
    }

    /// Sign `message` (deterministic for both schemes).
    pub fn sign(&self, message: &[u8]) -> Signature {
        let mut bytes = Vec::with_capacity(self.scheme.signature_len());
        if let Some(ed) = &self.ed25519 {
            bytes.extend_from_slice(&ed.sign(message).to_bytes());
        }
        if let Some(pq) = &self.ml_dsa {
            let sig = pq
                .expanded_key()
                .sign_deterministic(message, ML_DSA_CONTEXT)
                .expect("invariant: the ML-DSA context string is shorter than 256 bytes");
            bytes.extend_from_slice(&sig.encode());
        }
        Signature { scheme: self.scheme, bytes: bytes.into() }
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretKey({}, {})", self.scheme, self.public_key().address())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_scheme_signs_and_verifies() {
        for scheme in Scheme::ALL {
            let sk = SecretKey::generate(scheme).unwrap();
            let pk = sk.public_key();
            let sig = sk.sign(b"hello");
            pk.verify(b"hello", &sig).unwrap();
            assert_eq!(pk.verify(b"other", &sig), Err(KeyError::Invalid));
        }
    }

    #[test]
    fn hybrid_requires_both_parts() {
        let sk = SecretKey::generate(Scheme::Hybrid).unwrap();
        let pk = sk.public_key();
        let mut sig = sk.sign(b"m").bytes().to_vec();
        // Corrupt only the ML-DSA part: the Ed25519 part alone must not be enough.
        let last = sig.len() - 1;
        sig[last] ^= 1;
        let bad = Signature::from_parts(Scheme::Hybrid, &sig).unwrap();
        assert!(pk.verify(b"m", &bad).is_err());
        let mut sig2 = sk.sign(b"m").bytes().to_vec();
        sig2[0] ^= 1;
        let bad2 = Signature::from_parts(Scheme::Hybrid, &sig2).unwrap();
        assert!(pk.verify(b"m", &bad2).is_err());
    }

    #[test]
    fn seeds_are_deterministic() {
        let a = SecretKey::from_seeds(Scheme::Ed25519, &[7; 32]).unwrap();
        let b = SecretKey::from_seeds(Scheme::Ed25519, &[7; 32]).unwrap();
        assert_eq!(a.public_key(), b.public_key());
        assert_eq!(a.sign(b"x"), b.sign(b"x"));
    }

    #[test]
    fn text_and_borsh_round_trip() {
        for scheme in Scheme::ALL {
            let sk = SecretKey::generate(scheme).unwrap();
            let pk = sk.public_key();
            assert_eq!(pk.to_string().parse::<PublicKey>().unwrap(), pk);
            let enc = borsh::to_vec(&pk).unwrap();
            assert_eq!(enc[0], scheme.tag());
            assert_eq!(borsh::from_slice::<PublicKey>(&enc).unwrap(), pk);
            let sig = sk.sign(b"x");
            assert_eq!(borsh::from_slice::<Signature>(&borsh::to_vec(&sig).unwrap()).unwrap(), sig);
            let json = serde_json::to_string(&pk).unwrap();
            assert_eq!(serde_json::from_str::<PublicKey>(&json).unwrap(), pk);
        }
    }

    #[test]
    fn rejects_unknown_tag_and_short_input() {
        assert!(borsh::from_slice::<PublicKey>(&[9; 33]).is_err());
        assert!(borsh::from_slice::<PublicKey>(&[1; 10]).is_err());
        assert!(borsh::from_slice::<Signature>(&[1; 64]).is_err());
    }

    #[test]
    fn rejects_signature_of_other_scheme() {
        let a = SecretKey::generate(Scheme::Ed25519).unwrap();
        let b = SecretKey::generate(Scheme::MlDsa65).unwrap();
        assert!(matches!(
            a.public_key().verify(b"m", &b.sign(b"m")),
            Err(KeyError::SchemeMismatch { .. })
        ));
    }

    #[test]
    fn rejects_the_weak_key_forgery_that_lax_verification_accepts() {
        // Key = identity point, R = identity, s = 0: a "signature" valid for every message
        // under the lax (non-strict) equation. Strict verification must refuse it.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        let mut forged = [0u8; 64];
        forged[0] = 1;
        let lax_key = ed25519_dalek::VerifyingKey::from_bytes(&identity).unwrap();
        let lax_sig = ed25519_dalek::Signature::from_bytes(&forged);
        assert!(
            ed25519_dalek::Verifier::verify(&lax_key, b"any message", &lax_sig).is_ok(),
            "the lax equation accepts the forgery (else this test proves nothing)"
        );
        let pk = PublicKey::from_parts(Scheme::Ed25519, &identity).unwrap();
        let sig = Signature::from_parts(Scheme::Ed25519, &forged).unwrap();
        assert!(pk.verify(b"any message", &sig).is_err());
    }
}
