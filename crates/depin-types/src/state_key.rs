//! Define the state key schema and the values stored under each key (spec rule S-3).
//!
//! Keys are byte strings with a one-letter namespace prefix so that modules never collide and
//! range scans stay within a module. Values are borsh-encoded.

use borsh::{BorshDeserialize, BorshSerialize};
use depin_crypto::{Address, PublicKey};
use serde::{Deserialize, Serialize};

use crate::amount::Amount;
use crate::evidence::{EvidenceKind, Round};

/// Namespace prefix of account keys.
pub const ACCOUNT_PREFIX: &[u8] = b"a/";
/// Key of the supply record.
pub const SUPPLY_KEY: &[u8] = b"m/supply";
/// Key of the parameters record.
pub const PARAMS_KEY: &[u8] = b"m/params";
/// Key of the chain id.
pub const CHAIN_ID_KEY: &[u8] = b"m/chain_id";
/// Key of the validator set (a [`ValidatorSet`]).
pub const VALIDATORS_KEY: &[u8] = b"m/validators";
/// Key of the registry parameters (rule R-11).
pub const REGISTRY_PARAMS_KEY: &[u8] = b"m/registry";
/// Telemetry parameters (rule M-9).
pub const TELEMETRY_PARAMS_KEY: &[u8] = b"m/telemetry";
/// Prefix of every telemetry entry: `t/h/<asset>` (head), `t/e/<asset>/<epoch BE>` (epochs).
pub const TELEMETRY_PREFIX: &[u8] = b"t/";

/// The telemetry head of an asset.
pub fn telemetry_head_key(asset: &crate::asset::AssetId) -> Vec<u8> {
    [b"t/h/".as_slice(), asset.0.as_bytes()].concat()
}

/// Prefix of an asset's telemetry epochs.
pub fn telemetry_epochs_prefix(asset: &crate::asset::AssetId) -> Vec<u8> {
    [b"t/e/".as_slice(), asset.0.as_bytes(), b"/"].concat()
}

/// An asset's telemetry in one epoch (big-endian epoch: key order is epoch order).
pub fn telemetry_epoch_key(asset: &crate::asset::AssetId, epoch: u64) -> Vec<u8> {
    [telemetry_epochs_prefix(asset).as_slice(), &epoch.to_be_bytes()].concat()
}

/// Namespace prefix of recorded evidence.
pub const EVIDENCE_PREFIX: &[u8] = b"e/";

/// The state key of an account: `a/` followed by the 33 address bytes.
pub fn account_key(address: &Address) -> Vec<u8> {
    let mut k = Vec::with_capacity(ACCOUNT_PREFIX.len() + 33);
    k.extend_from_slice(ACCOUNT_PREFIX);
    k.extend_from_slice(&address.to_bytes());
    k
}

/// The state key of evidence against `offender` for a fault of `kind` in `round` (rule V-3):
/// `e/`, the 33 address bytes, big-endian epoch and view (so a scan lists an offender's faults
/// in round order), and the kind's tag. One fault is recorded once.
pub fn evidence_key(offender: &Address, round: Round, kind: EvidenceKind) -> Vec<u8> {
    let mut k = Vec::with_capacity(EVIDENCE_PREFIX.len() + 33 + 8 + 8 + 1);
    k.extend_from_slice(EVIDENCE_PREFIX);
    k.extend_from_slice(&offender.to_bytes());
    k.extend_from_slice(&round.epoch.to_be_bytes());
    k.extend_from_slice(&round.view.to_be_bytes());
    k.push(kind as u8);
    k
}

/// The validators (rule G-4): written at genesis from the genesis document, sorted by address.
#[derive(Clone, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct ValidatorSet {
    /// Validator public keys, sorted by address, no duplicates.
    pub keys: Vec<PublicKey>,
}

impl ValidatorSet {
    /// True if `key` is a validator.
    pub fn contains(&self, key: &PublicKey) -> bool {
        self.keys.binary_search_by(|k| k.address().cmp(&key.address())).is_ok()
    }
}

/// An account record. Created by genesis or by a first incoming transfer; a transaction from
/// an address without one is rejected (rule A-4).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize,
)]
pub struct Account {
    /// Spendable balance.
    pub balance: Amount,
    /// Number of charged transactions sent; the next transaction must carry this nonce.
    pub nonce: u64,
}

/// Total supply bookkeeping (rule S-1: `total = genesis + minted - burned` and equals the sum
/// of all balances after every block).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize,
)]
pub struct Supply {
    /// Tokens in existence.
    pub total: Amount,
    /// Created at genesis.
    pub genesis: Amount,
    /// Created since genesis by mint rules.
    pub minted: Amount,
    /// Destroyed since genesis (fees, burns).
    pub burned: Amount,
}

#[cfg(test)]
mod tests {
    use super::*;
    use depin_crypto::{Scheme, SecretKey};

    #[test]
    fn state_key_fixture_never_changes() {
        let a = SecretKey::from_seeds(Scheme::Ed25519, &[1; 32]).unwrap().public_key().address();
        assert_eq!(hex::encode(account_key(&a)), ACCOUNT_KEY_FIXTURE);
        let acct = Account { balance: Amount(5), nonce: 2 };
        assert_eq!(hex::encode(borsh::to_vec(&acct).unwrap()), "050000000000000000000000000000000200000000000000");
    }
    #[test]
    fn evidence_key_fixture_never_changes() {
        let a = SecretKey::from_seeds(Scheme::Ed25519, &[1; 32]).unwrap().public_key().address();
        let k = evidence_key(&a, Round { epoch: 0, view: 258 }, EvidenceKind::NullifyFinalize);
        assert_eq!(hex::encode(k), EVIDENCE_KEY_FIXTURE);
    }
    const EVIDENCE_KEY_FIXTURE: &str = "652f01b720b4a7036600b7fcf6734228c1e87bbcf079b78deaab2346b4be2cf04b71230000000000000000000000000000010202";

    const ACCOUNT_KEY_FIXTURE: &str = "612f01b720b4a7036600b7fcf6734228c1e87bbcf079b78deaab2346b4be2cf04b7123";
}
