//! Encode and parse W3C `did:key` identifiers for depin public keys (device identifiers, ADR 0014).
//!
//! `did:key:` + multibase base58btc (`z`) of (unsigned-varint multicodec code || raw public key
//! bytes), as the did:key method specification defines it
//! (<https://w3c-ccg.github.io/did-method-key/>, section "Format"). The codes, from the multicodec
//! table (<https://github.com/multiformats/multicodec/blob/master/table.csv>):
//!
//! | scheme    | multicodec                       | code       | varint bytes          | key bytes |
//! | --------- | -------------------------------- | ---------- | --------------------- | --------- |
//! | Ed25519   | `ed25519-pub`                    | `0xed`     | `ed 01`               | 32        |
//! | ML-DSA-65 | `mldsa-65-pub` (FIPS 204)        | `0x1211`   | `91 24`               | 1952      |
//! | hybrid    | none: depin's, private-use range | `0x3d0003` | `83 80 f4 01`         | 32 + 1952 |
//!
//! The table has no code for a composite Ed25519 + ML-DSA-65 key, so depin takes one from the
//! table's private-use area (`0x300000..=0x3fffff`, "will never be assigned any meaning as part
//! of the Multicodec specification"); the bytes that follow are depin's hybrid key bytes (the
//! Ed25519 key, then the ML-DSA-65 key), exactly as [`PublicKey::bytes`] holds them. Such a
//! `did:key` is meaningful to depin only; see ADR 0014 for why and for what that costs.
//!
//! Parsing is strict, so every key has exactly one `did:key`: the prefix is lowercase
//! `did:key:z`, the base58btc text is decoded exactly (no padding, no whitespace), the varint must
//! be minimal, the length must be the scheme's, and Ed25519 keys (alone or in a hybrid) must be
//! canonical encodings of points that are not of small order (a small-order key can never sign
//! under depin's strict verification, ADR 0003). Every 1952-byte string is a valid ML-DSA-65
//! public key encoding (FIPS 204 `pkDecode` accepts any input), so those bytes are not checked.

use ed25519_dalek::VerifyingKey;

use crate::keys::{ED25519_PUBLIC_LEN, ML_DSA_65_PUBLIC_LEN, PublicKey, Scheme};

/// The prefix of every `did:key` identifier: DID scheme and method name (lowercase, as the DID
/// syntax requires).
pub const DID_KEY_PREFIX: &str = "did:key:";

/// Multicodec `ed25519-pub` (multicodec table: `ed25519-pub, key, 0xed`).
pub const MULTICODEC_ED25519_PUB: u64 = 0xed;
/// Multicodec `mldsa-65-pub` (multicodec table: `mldsa-65-pub, key, 0x1211, draft, ML-DSA 65
/// public key; as specified by FIPS 204`, added in multiformats/multicodec#392).
pub const MULTICODEC_MLDSA_65_PUB: u64 = 0x1211;
/// depin's code for a hybrid (Ed25519 + ML-DSA-65) public key, from the multicodec private-use
/// area `0x300000..=0x3fffff` (ADR 0014): `0x3d` for depin, low byte = the hybrid scheme tag 3.
pub const MULTICODEC_DEPIN_HYBRID_PUB: u64 = 0x3d_0003;

/// The longest `did:key` accepted, in bytes: the prefix `did:key:z` (9) plus the base58 text of
/// the longest payload, a hybrid key (4 varint bytes + 1984 key bytes = 1988 bytes, at most
/// ⌈1988 × log 256 / log 58⌉ = 2715 digits). Checked before decoding, whose cost is quadratic.
pub const DID_KEY_MAX_LEN: usize = 9 + 2715;

/// The base58btc alphabet (Bitcoin's; multibase prefix `z`).
const BASE58_ALPHABET: &[u8; 58] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

/// The longest unsigned varint the multiformats specification allows (9 bytes, 63 bits).
const VARINT_MAX_LEN: usize = 9;

/// Why a string is not the `did:key` of a depin public key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DidError {
    /// The string does not start with `did:key:`.
    #[error("not a did:key identifier: expected it to start with \"did:key:\"")]
    NotDidKey,
    /// Longer than [`DID_KEY_MAX_LEN`]: no depin key gives such a long identifier.
    #[error("did:key is {len} bytes long; no depin key has one longer than {max}")]
    TooLong {
        /// Length of the input in bytes.
        len: usize,
        /// [`DID_KEY_MAX_LEN`].
        max: usize,
    },
    /// Nothing after `did:key:`.
    #[error("did:key has no key after \"did:key:\"")]
    Empty,
    /// The multibase prefix is not `z` (base58btc), the only one did:key allows.
    #[error("unsupported multibase prefix {0:?}: did:key uses 'z' (base58btc)")]
    Multibase(char),
    /// A character outside the base58btc alphabet.
    #[error("invalid base58btc character {character:?} at position {position}")]
    Base58 {
        /// The character.
        character: char,
        /// Its position in the identifier, in characters from 0.
        position: usize,
    },
    /// The multicodec prefix is not a minimal unsigned varint of at most 9 bytes.
    #[error("malformed multicodec prefix (not a minimal unsigned varint)")]
    Varint,
    /// A multicodec that is not one of depin's key types.
    #[error(
        "unsupported key type: multicodec {0:#x} (expected ed25519-pub 0xed, mldsa-65-pub 0x1211 \
         or depin hybrid 0x3d0003)"
    )]
    UnknownCodec(u64),
    /// The key bytes have the wrong length for the scheme.
    #[error("{scheme} public key must be {expected} bytes, got {got}")]
    BadLength {
        /// The scheme the multicodec names.
        scheme: Scheme,
        /// The scheme's public key length.
        expected: usize,
        /// The length found.
        got: usize,
    },
    /// The key bytes have the right length but are not a usable key.
    #[error("invalid {scheme} public key: {reason}")]
    InvalidKey {
        /// The scheme the multicodec names.
        scheme: Scheme,
        /// What is wrong.
        reason: &'static str,
    },
}

/// The multicodec code of a scheme's public keys (see the module documentation).
pub fn multicodec(scheme: Scheme) -> u64 {
    match scheme {
        Scheme::Ed25519 => MULTICODEC_ED25519_PUB,
        Scheme::MlDsa65 => MULTICODEC_MLDSA_65_PUB,
        Scheme::Hybrid => MULTICODEC_DEPIN_HYBRID_PUB,
    }
}

/// The scheme of a multicodec code.
fn scheme_of(code: u64) -> Result<Scheme, DidError> {
    match code {
        MULTICODEC_ED25519_PUB => Ok(Scheme::Ed25519),
        MULTICODEC_MLDSA_65_PUB => Ok(Scheme::MlDsa65),
        MULTICODEC_DEPIN_HYBRID_PUB => Ok(Scheme::Hybrid),
        other => Err(DidError::UnknownCodec(other)),
    }
}

/// The `did:key` identifier of `key`, e.g. `did:key:z6Mk…` for an Ed25519 key.
///
/// [`parse_did_key`] gives `key` back for every key it accepts: any key made by
/// [`crate::SecretKey`], and any key whose Ed25519 part (if any) is a canonical point that is not
/// of small order. A [`PublicKey`] built with `from_parts` from other bytes still gets an
/// identifier, but one that `parse_did_key` refuses.
pub fn did_key(key: &PublicKey) -> String {
    let mut payload = Vec::with_capacity(VARINT_MAX_LEN + key.bytes().len());
    write_varint(multicodec(key.scheme()), &mut payload);
    payload.extend_from_slice(key.bytes());
    let mut out = String::with_capacity(DID_KEY_PREFIX.len() + 1 + payload.len() * 138 / 100 + 1);
    out.push_str(DID_KEY_PREFIX);
    out.push('z');
    base58_encode(&payload, &mut out);
    out
}

/// Parse a `did:key` identifier into the depin public key it names (strictly: see the module
/// documentation). A DID URL with a path, query or fragment is not an identifier and is refused.
pub fn parse_did_key(s: &str) -> Result<PublicKey, DidError> {
    if s.len() > DID_KEY_MAX_LEN {
        return Err(DidError::TooLong { len: s.len(), max: DID_KEY_MAX_LEN });
    }
    let rest = s.strip_prefix(DID_KEY_PREFIX).ok_or(DidError::NotDidKey)?;
    let mut chars = rest.chars();
    match chars.next() {
        None => return Err(DidError::Empty),
        Some('z') => {}
        Some(other) => return Err(DidError::Multibase(other)),
    }
    // Positions are reported in characters of the whole identifier; the prefix is ASCII.
    let first_digit = DID_KEY_PREFIX.len() + 1;
    let payload = base58_decode(chars.as_str())
        .map_err(|(character, i)| DidError::Base58 { character, position: first_digit + i })?;
    let (code, n) = read_varint(&payload)?;
    let scheme = scheme_of(code)?;
    let bytes = &payload[n..];
    let expected = match scheme {
        Scheme::Ed25519 => ED25519_PUBLIC_LEN,
        Scheme::MlDsa65 => ML_DSA_65_PUBLIC_LEN,
        Scheme::Hybrid => ED25519_PUBLIC_LEN + ML_DSA_65_PUBLIC_LEN,
    };
    if bytes.len() != expected {
        return Err(DidError::BadLength { scheme, expected, got: bytes.len() });
    }
    if matches!(scheme, Scheme::Ed25519 | Scheme::Hybrid) {
        check_ed25519(&bytes[..ED25519_PUBLIC_LEN]).map_err(|reason| DidError::InvalidKey { scheme, reason })?;
    }
    Ok(PublicKey::from_parts(scheme, bytes).expect("invariant: the length was checked against the scheme"))
}

/// Refuse Ed25519 key bytes that are not a point, not the point's canonical encoding, or a point
/// of small order (which `verify_strict` refuses for every signature).
fn check_ed25519(bytes: &[u8]) -> Result<(), &'static str> {
    let array: &[u8; ED25519_PUBLIC_LEN] = bytes.try_into().expect("invariant: caller passes 32 bytes");
    let key = VerifyingKey::from_bytes(array).map_err(|_| "not a point on the curve")?;
    // ed25519-dalek decodes by ZIP-215 rules, which accept a few non-canonical encodings; an
    // identifier must have one spelling, so the bytes must be what the point re-encodes to.
    if key.to_edwards().compress().as_bytes() != array {
        return Err("not the canonical encoding of its point");
    }
    if key.is_weak() {
        return Err("a point of small order, which can never sign");
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Unsigned varint (multiformats/unsigned-varint): 7 bits a byte, least significant first, high
// bit set on every byte but the last; minimal encoding only, at most 9 bytes.
// ---------------------------------------------------------------------------------------------

fn write_varint(mut value: u64, out: &mut Vec<u8>) {
    loop {
        let low = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(low);
            return;
        }
        out.push(low | 0x80);
    }
}

/// The value and the number of bytes it took.
fn read_varint(bytes: &[u8]) -> Result<(u64, usize), DidError> {
    let mut value = 0u64;
    for (i, &byte) in bytes.iter().take(VARINT_MAX_LEN).enumerate() {
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            // A final zero byte after others adds nothing: a longer spelling of a smaller value.
            if byte == 0 && i > 0 {
                return Err(DidError::Varint);
            }
            return Ok((value, i + 1));
        }
    }
    Err(DidError::Varint)
}

// ---------------------------------------------------------------------------------------------
// Base58btc (draft-msporny-base58): the bytes as one big-endian number in base 58, plus one '1'
// per leading zero byte. A small quadratic implementation: inputs are bounded by
// DID_KEY_MAX_LEN, and a hybrid key takes about a millisecond.
// ---------------------------------------------------------------------------------------------

/// Append the base58btc text of `bytes` to `out`.
fn base58_encode(bytes: &[u8], out: &mut String) {
    let zeros = bytes.iter().take_while(|&&b| b == 0).count();
    // Base-58 digits of the number, least significant first. log(256) / log(58) < 1.38.
    let mut digits: Vec<u8> = Vec::with_capacity((bytes.len() - zeros) * 138 / 100 + 1);
    for &byte in &bytes[zeros..] {
        let mut carry = u32::from(byte);
        for digit in &mut digits {
            carry += u32::from(*digit) << 8;
            *digit = (carry % 58) as u8;
            carry /= 58;
        }
        while carry > 0 {
            digits.push((carry % 58) as u8);
            carry /= 58;
        }
    }
    out.extend(std::iter::repeat_n('1', zeros));
    out.extend(digits.iter().rev().map(|&d| char::from(BASE58_ALPHABET[usize::from(d)])));
}

/// The bytes of base58btc `text`, or the first character outside the alphabet and its position
/// (in characters).
fn base58_decode(text: &str) -> Result<Vec<u8>, (char, usize)> {
    let mut values = Vec::with_capacity(text.len());
    for (i, c) in text.chars().enumerate() {
        let value = u8::try_from(c)
            .ok()
            .and_then(|b| BASE58_ALPHABET.iter().position(|&a| a == b))
            .ok_or((c, i))?;
        values.push(value as u8);
    }
    let zeros = values.iter().take_while(|&&v| v == 0).count();
    // Bytes of the number, least significant first. log(58) / log(256) < 0.74.
    let mut bytes: Vec<u8> = Vec::with_capacity((values.len() - zeros) * 74 / 100 + 1);
    for &value in &values[zeros..] {
        let mut carry = u32::from(value);
        for byte in &mut bytes {
            carry += u32::from(*byte) * 58;
            *byte = carry as u8;
            carry >>= 8;
        }
        while carry > 0 {
            bytes.push(carry as u8);
            carry >>= 8;
        }
    }
    let mut out = vec![0u8; zeros];
    out.extend(bytes.iter().rev());
    Ok(out)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::SecretKey;

    fn ed25519_from_seed(seed: [u8; 32]) -> PublicKey {
        SecretKey::from_seeds(Scheme::Ed25519, &seed).unwrap().public_key()
    }

    fn encode58(bytes: &[u8]) -> String {
        let mut s = String::new();
        base58_encode(bytes, &mut s);
        s
    }

    /// The did:key specification's Ed25519 test vectors
    /// (w3c-ccg/did-method-key, `test-vectors/ed25519-x25519.json`): each 32-byte seed's key,
    /// its `publicKeyBase58` and its did:key.
    const SPEC_VECTORS: [(u8, &str, &str); 5] = [
        (0, "4zvwRjXUKGfvwnParsHAS3HuSVzV5cA4McphgmoCtajS", "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"),
        (1, "6ASf5EcmmEHTgDJ4X4ZT5vT6iHVJBXPg5AN5YoTCpGWt", "did:key:z6MkjchhfUsD6mmvni8mCdXHw216Xrm9bQe2mBH1P5RDjVJG"),
        (2, "8pM1DN3RiT8vbom5u1sNryaNT1nyL8CTTW3b5PwWXRBH", "did:key:z6MknGc3ocHs3zdPiJbnaaqDi58NGb4pk1Sp9WxWufuXSdxf"),
        (3, "HPYVwAQmskwT1qEEeRzhoomyfyupJGASQQtCXSNG8XS2", "did:key:z6MkvqoYXQfDDJRv8L4wKzxYeuKyVZBfi9Qo6Ro8MiLH3kDQ"),
        (4, "J3qYF7YJMKCqQke47UQwiHizgFUXapHxRxKmxbkar89x", "did:key:z6MkwW6aqMnjgrhJXFUko3NnZPGzVpkNzhYK7yEhnsibmLwL"),
    ];

    #[test]
    fn matches_the_did_key_spec_ed25519_test_vectors() {
        for (last_seed_byte, key_base58, did) in SPEC_VECTORS {
            let mut seed = [0u8; 32];
            seed[31] = last_seed_byte;
            let key = ed25519_from_seed(seed);
            assert_eq!(encode58(key.bytes()), key_base58, "seed …{last_seed_byte:02x}");
            assert_eq!(did_key(&key), did, "seed …{last_seed_byte:02x}");
            assert_eq!(parse_did_key(did).unwrap(), key);
        }
    }

    /// The example in the did:key specification ("A simple Ed25519 did:key value"). The spec does
    /// not print its key bytes; these were decoded once with this module and cross-checked with
    /// an independent big-integer base58 decoder (Python).
    #[test]
    fn parses_the_did_key_spec_example() {
        let did = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK";
        let key = parse_did_key(did).unwrap();
        assert_eq!(key.scheme(), Scheme::Ed25519);
        assert_eq!(hex::encode(key.bytes()), SPEC_EXAMPLE_KEY_HEX);
        assert_eq!(did_key(&key), did);
    }
    const SPEC_EXAMPLE_KEY_HEX: &str = "2e6fcce36701dc791488e0d0b1745cc1e33a4c1c9fcc41c63bd343dbbe0970e6";

    /// Pinned identifiers of keys from fixed seeds (all bytes 7), one per scheme. If this fails,
    /// the did:key encoding changed, and identifiers already handed out to devices would stop
    /// matching their keys: make it deliberate (ADR 0014). The Ed25519 key is the keystore
    /// fixture's; its identifier was cross-checked with an independent base58 encoder (Python).
    /// The long ones are pinned by length, first characters and a hash of the whole text.
    #[test]
    fn fixtures_pin_the_encoding_of_every_scheme() {
        let fixture = |scheme: Scheme| {
            let seeds = vec![7u8; if scheme == Scheme::Hybrid { 64 } else { 32 }];
            let key = SecretKey::from_seeds(scheme, &seeds).unwrap().public_key();
            let did = did_key(&key);
            assert_eq!(parse_did_key(&did).unwrap(), key, "{scheme}");
            did
        };
        assert_eq!(fixture(Scheme::Ed25519), "did:key:z6MkvDqGT54cXesYGvABpF1UapVNwjCqRcafi4Px6Thv5T3Z");
        for (scheme, start, len, digest) in [
            (
                Scheme::MlDsa65,
                "did:key:z5FbXryZCFZMyBNs",
                2678,
                "9c2166a6c7f49c896afb3530f91ebbf2009de75ad93b594646e3f03166ca2123",
            ),
            (
                Scheme::Hybrid,
                "did:key:zPJ1hh168M9Fy9P5",
                2724,
                "47cbd47e2ff05f12816cb529aa670555c8f01e6681ba6cda1279cf598c923d9f",
            ),
        ] {
            let did = fixture(scheme);
            assert_eq!(&did[..start.len()], start, "{scheme}");
            assert_eq!(did.len(), len, "{scheme}");
            assert_eq!(crate::hash_domain("depin did fixture", did.as_bytes()).to_string(), digest, "{scheme}");
        }
    }

    #[test]
    fn multicodec_prefixes_are_the_registered_varints() {
        let varint = |code| {
            let mut v = Vec::new();
            write_varint(code, &mut v);
            v
        };
        assert_eq!(varint(MULTICODEC_ED25519_PUB), [0xed, 0x01]);
        assert_eq!(varint(MULTICODEC_MLDSA_65_PUB), [0x91, 0x24]);
        assert_eq!(varint(MULTICODEC_DEPIN_HYBRID_PUB), [0x83, 0x80, 0xf4, 0x01]);
        assert!((0x30_0000..=0x3f_ffff).contains(&MULTICODEC_DEPIN_HYBRID_PUB), "private-use area");
        for scheme in Scheme::ALL {
            assert_eq!(scheme_of(multicodec(scheme)), Ok(scheme));
        }
    }

    #[test]
    fn varints_must_be_minimal_and_short() {
        assert_eq!(read_varint(&[0x00]), Ok((0, 1)));
        assert_eq!(read_varint(&[0xed, 0x01, 0xff]), Ok((0xed, 2)));
        assert_eq!(read_varint(&[0xed, 0x81, 0x00]), Err(DidError::Varint), "padded 0xed");
        assert_eq!(read_varint(&[0x80, 0x00]), Err(DidError::Varint), "padded 0");
        assert_eq!(read_varint(&[]), Err(DidError::Varint));
        assert_eq!(read_varint(&[0x6d]), Ok((0x6d, 1)));
        assert_eq!(read_varint(&[0xed]), Err(DidError::Varint), "continuation bit, no next byte");
        assert_eq!(read_varint(&[0xed, 0x81]), Err(DidError::Varint), "unterminated");
        let mut max = vec![0xff; 8];
        max.push(0x7f);
        assert_eq!(read_varint(&max), Ok((u64::MAX >> 1, 9)));
        assert_eq!(read_varint(&[0xff; 10]), Err(DidError::Varint), "longer than 9 bytes");
    }

    /// Examples from draft-msporny-base58 (section 5) and the leading-zero rule.
    #[test]
    fn base58_known_answers() {
        let cases: [(&[u8], &str); 6] = [
            (b"Hello World!", "2NEpo7TZRRrLZSi2U"),
            (b"The quick brown fox jumps over the lazy dog.", "USm3fpXnKG5EUBx2ndxBDMPVciP5hGey2Jh4NDv6gmeo1LkMeiKrLJUUBk6Z"),
            (&[0x00, 0x00, 0x28, 0x7f, 0xb4, 0xcd], "11233QC4"),
            (&[], ""),
            (&[0], "1"),
            (&[0, 0, 0], "111"),
        ];
        for (bytes, text) in cases {
            assert_eq!(encode58(bytes), text);
            assert_eq!(base58_decode(text).unwrap(), bytes);
        }
        assert_eq!(encode58(&[57]), "z");
        assert_eq!(encode58(&[58]), "21");
        assert_eq!(base58_decode("0"), Err(('0', 0)));
        assert_eq!(base58_decode("21Il"), Err(('I', 2)));
        assert_eq!(base58_decode("2é"), Err(('é', 1)));
    }

    #[test]
    fn round_trips_every_scheme() {
        for scheme in Scheme::ALL {
            let key = SecretKey::generate(scheme).unwrap().public_key();
            let did = did_key(&key);
            assert!(did.len() <= DID_KEY_MAX_LEN, "{scheme}: {}", did.len());
            assert_eq!(parse_did_key(&did).unwrap(), key, "{scheme}");
        }
    }

    #[test]
    fn the_longest_identifier_fits_the_bound() {
        // The largest hybrid payload: all key bytes 0xff (the bound is about the text, so
        // whether these bytes are a valid key does not matter).
        let key = PublicKey::from_parts(Scheme::Hybrid, &[0xff; ED25519_PUBLIC_LEN + ML_DSA_65_PUBLIC_LEN]).unwrap();
        assert_eq!(did_key(&key).len(), DID_KEY_MAX_LEN);
    }

    #[test]
    fn rejects_what_is_not_a_depin_did_key() {
        let good = did_key(&ed25519_from_seed([1; 32]));
        let body = good.strip_prefix("did:key:z").unwrap();
        let err = |s: &str| parse_did_key(s).unwrap_err();

        assert_eq!(err(&format!("did:web:z{body}")), DidError::NotDidKey);
        assert_eq!(err(&format!("DID:KEY:z{body}")), DidError::NotDidKey);
        assert_eq!(err(&format!(" {good}")), DidError::NotDidKey);
        assert_eq!(err("did:key:"), DidError::Empty);
        assert_eq!(err(&format!("did:key:m{body}")), DidError::Multibase('m'));
        assert_eq!(err(&format!("{good}0")), DidError::Base58 { character: '0', position: good.len() });
        assert_eq!(err(&format!("{good}#{body}")), DidError::Base58 { character: '#', position: good.len() });
        assert_eq!(err(&format!("{good} ")), DidError::Base58 { character: ' ', position: good.len() });
        assert!(matches!(err(&"1".repeat(DID_KEY_MAX_LEN + 1)), DidError::TooLong { .. }));
        assert!(matches!(err(&format!("did:key:z{}", "z".repeat(DID_KEY_MAX_LEN))), DidError::TooLong { .. }));

        let with_payload = |payload: &[u8]| format!("did:key:z{}", encode58(payload));
        let key = [0x11; 32];
        // secp256k1-pub (0xe7): a real did:key type that depin does not use.
        assert_eq!(err(&with_payload(&[[0xe7, 0x01].as_slice(), &key].concat())), DidError::UnknownCodec(0xe7));
        assert_eq!(err(&with_payload(&[])), DidError::Varint);
        assert_eq!(err(&with_payload(&[0xed, 0x81, 0x00])), DidError::Varint);
        // A truncated and an overlong key, and an ML-DSA key that is one byte short.
        let ed = ed25519_from_seed([1; 32]);
        let ed_payload = [[0xed, 0x01].as_slice(), ed.bytes()].concat();
        assert_eq!(
            err(&with_payload(&ed_payload[..33])),
            DidError::BadLength { scheme: Scheme::Ed25519, expected: 32, got: 31 }
        );
        assert_eq!(
            err(&with_payload(&[ed_payload.as_slice(), &[0]].concat())),
            DidError::BadLength { scheme: Scheme::Ed25519, expected: 32, got: 33 }
        );
        assert_eq!(
            err(&with_payload(&[[0x91, 0x24].as_slice(), &[5; 1951]].concat())),
            DidError::BadLength { scheme: Scheme::MlDsa65, expected: 1952, got: 1951 }
        );
        // An Ed25519 key as a hybrid: not hybrid's length.
        assert!(matches!(
            err(&with_payload(&[[0x83, 0x80, 0xf4, 0x01].as_slice(), ed.bytes()].concat())),
            DidError::BadLength { scheme: Scheme::Hybrid, .. }
        ));
    }

    #[test]
    fn rejects_ed25519_bytes_that_are_not_a_usable_key() {
        let as_did = |scheme: Scheme, bytes: &[u8]| did_key(&PublicKey::from_parts(scheme, bytes).unwrap());
        let invalid = |scheme: Scheme, bytes: &[u8]| match parse_did_key(&as_did(scheme, bytes)) {
            Err(DidError::InvalidKey { scheme: s, reason }) => {
                assert_eq!(s, scheme);
                reason
            }
            other => panic!("{scheme} {}: {other:?}", hex::encode(&bytes[..32])),
        };
        // y = 2 is not the y-coordinate of any curve point.
        let mut not_a_point = [0u8; 32];
        not_a_point[0] = 2;
        assert_eq!(invalid(Scheme::Ed25519, &not_a_point), "not a point on the curve");
        // The identity point (y = 1): small order.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        assert_eq!(invalid(Scheme::Ed25519, &identity), "a point of small order, which can never sign");
        // y = p + 1 is a non-canonical spelling of the identity's y; it decodes (ZIP-215 rules)
        // but is refused, canonical check first.
        let mut p_plus_1 = [0xffu8; 32];
        p_plus_1[0] = 0xee;
        p_plus_1[31] = 0x7f;
        assert_eq!(invalid(Scheme::Ed25519, &p_plus_1), "not the canonical encoding of its point");
        // The same checks apply to the Ed25519 half of a hybrid key.
        let ml_dsa = SecretKey::generate(Scheme::MlDsa65).unwrap().public_key();
        let hybrid = [identity.as_slice(), ml_dsa.bytes()].concat();
        assert_eq!(invalid(Scheme::Hybrid, &hybrid), "a point of small order, which can never sign");
    }

    #[test]
    fn error_messages_are_lowercase() {
        let errors = [
            DidError::NotDidKey,
            DidError::TooLong { len: 1, max: 0 },
            DidError::Empty,
            DidError::Multibase('m'),
            DidError::Base58 { character: '0', position: 9 },
            DidError::Varint,
            DidError::UnknownCodec(0xe7),
            DidError::BadLength { scheme: Scheme::Ed25519, expected: 32, got: 1 },
            DidError::InvalidKey { scheme: Scheme::Ed25519, reason: "x" },
        ];
        for e in errors {
            let text = e.to_string();
            assert!(text.starts_with(|c: char| !c.is_uppercase()), "{text}");
        }
    }

    fn any_key() -> impl Strategy<Value = PublicKey> {
        prop_oneof![
            any::<[u8; 32]>().prop_map(ed25519_from_seed),
            // Every 1952-byte string is an ML-DSA-65 key encoding; use arbitrary bytes.
            proptest::collection::vec(any::<u8>(), ML_DSA_65_PUBLIC_LEN)
                .prop_map(|b| PublicKey::from_parts(Scheme::MlDsa65, &b).unwrap()),
            (any::<[u8; 32]>(), proptest::collection::vec(any::<u8>(), ML_DSA_65_PUBLIC_LEN)).prop_map(|(seed, pq)| {
                let ed = ed25519_from_seed(seed);
                PublicKey::from_parts(Scheme::Hybrid, &[ed.bytes(), &pq].concat()).unwrap()
            }),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        #[test]
        fn parse_inverts_did_key(key in any_key()) {
            let did = did_key(&key);
            prop_assert!(did.len() <= DID_KEY_MAX_LEN);
            prop_assert_eq!(parse_did_key(&did).unwrap(), key);
        }

        #[test]
        fn base58_round_trips(bytes in proptest::collection::vec(any::<u8>(), 0..200), zeros in 0usize..4) {
            let bytes = [vec![0; zeros], bytes].concat();
            let text = encode58(&bytes);
            prop_assert_eq!(base58_decode(&text).unwrap(), bytes);
        }

        #[test]
        fn base58_text_has_one_spelling(text in "[1-9A-HJ-NP-Za-km-z]{0,60}") {
            let bytes = base58_decode(&text).unwrap();
            prop_assert_eq!(encode58(&bytes), text);
        }

        #[test]
        fn parsing_never_panics(s in "did:key:z[1-9A-HJ-NP-Za-km-z]{0,80}|\\PC{0,40}") {
            let _ = parse_did_key(&s);
        }
    }
}
