//! Map depin validator keys to Commonware identities and back.
//!
//! A validator's consensus identity is the Ed25519 key it signs blocks with: the same 32 bytes
//! as a `depin_crypto` Ed25519 public key, so the genesis validator set is the consensus
//! participant set and the p2p peer set.

use commonware_codec::DecodeExt;
use commonware_cryptography::ed25519;
use commonware_utils::ordered::Set;
use depin_types::{Genesis, PublicKey, Scheme, SecretKey};

/// A validator key that consensus cannot use.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    /// Not an Ed25519 key.
    #[error("validator keys must use the ed25519 scheme for consensus, got {0}")]
    NotEd25519(&'static str),
    /// Bytes that are not a valid Ed25519 point.
    #[error("not a valid ed25519 public key")]
    Invalid,
}

/// The consensus identity of a depin public key.
pub fn consensus_key(key: &PublicKey) -> Result<ed25519::PublicKey, IdentityError> {
    if key.scheme() != Scheme::Ed25519 {
        return Err(IdentityError::NotEd25519(key.scheme().name()));
    }
    ed25519::PublicKey::decode(key.bytes().to_vec()).map_err(|_| IdentityError::Invalid)
}

/// The depin public key of a consensus identity.
pub fn depin_key(key: &ed25519::PublicKey) -> PublicKey {
    PublicKey::from_parts(Scheme::Ed25519, key.as_ref()).expect("invariant: a consensus key is a valid ed25519 key")
}

/// The consensus signer for a depin node key.
pub fn consensus_signer(key: &SecretKey) -> Result<ed25519::PrivateKey, IdentityError> {
    if key.scheme() != Scheme::Ed25519 {
        return Err(IdentityError::NotEd25519(key.scheme().name()));
    }
    ed25519::PrivateKey::decode(key.seeds().to_vec()).map_err(|_| IdentityError::Invalid)
}

/// The participant set of a genesis (ordered, as consensus requires).
pub fn participants(genesis: &Genesis) -> Result<Set<ed25519::PublicKey>, IdentityError> {
    let keys = genesis.validators.iter().map(|v| consensus_key(&v.public_key)).collect::<Result<Vec<_>, _>>()?;
    Ok(Set::from_iter_dedup(keys))
}

#[cfg(test)]
mod tests {
    use super::*;
    use commonware_cryptography::Signer;

    #[test]
    fn keys_map_both_ways_and_signers_match() {
        let sk = SecretKey::from_seeds(Scheme::Ed25519, &[3; 32]).unwrap();
        let pk = sk.public_key();
        let ck = consensus_key(&pk).unwrap();
        assert_eq!(depin_key(&ck), pk);
        assert_eq!(consensus_signer(&sk).unwrap().public_key(), ck);
        let pq = SecretKey::from_seeds(Scheme::MlDsa65, &[3; 32]).unwrap();
        assert!(matches!(consensus_key(&pq.public_key()), Err(IdentityError::NotEd25519(_))));
    }
}
