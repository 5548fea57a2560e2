//! Define the state key schema and the values stored under each key (spec rule S-3).
//!
//! Keys are byte strings with a one-letter namespace prefix so that modules never collide and
//! range scans stay within a module. Values are borsh-encoded.

use borsh::{BorshDeserialize, BorshSerialize};
use depin_crypto::Address;
use serde::{Deserialize, Serialize};

use crate::amount::Amount;

/// Namespace prefix of account keys.
pub const ACCOUNT_PREFIX: &[u8] = b"a/";
/// Key of the supply record.
pub const SUPPLY_KEY: &[u8] = b"m/supply";
/// Key of the parameters record.
pub const PARAMS_KEY: &[u8] = b"m/params";
/// Key of the chain id.
pub const CHAIN_ID_KEY: &[u8] = b"m/chain_id";

/// The state key of an account: `a/` followed by the 33 address bytes.
pub fn account_key(address: &Address) -> Vec<u8> {
    let mut k = Vec::with_capacity(ACCOUNT_PREFIX.len() + 33);
    k.extend_from_slice(ACCOUNT_PREFIX);
    k.extend_from_slice(&address.to_bytes());
    k
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
    const ACCOUNT_KEY_FIXTURE: &str = "612f01b720b4a7036600b7fcf6734228c1e87bbcf079b78deaab2346b4be2cf04b7123";
}
