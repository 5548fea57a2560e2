//! Define the genesis file: chain id, parameters, initial balances and validators (TOML).
//!
//! A person can write one by hand; `depin init` writes a commented one. The genesis id (hash
//! of its canonical encoding) is the parent of block 1, so two nodes with different genesis
//! files can never agree on a block.

use std::collections::BTreeSet;

use borsh::{BorshDeserialize, BorshSerialize};
use depin_crypto::{domain, hash_domain, Address, Hash32, PublicKey};
use serde::{Deserialize, Serialize};

use crate::amount::Amount;
use crate::codec::encode;
use crate::limits::{
    MAX_BLOCK_TXS_CEILING, MAX_CHAIN_ID_LEN, MAX_GENESIS_ACCOUNTS, MAX_GENESIS_BYTES, MAX_GENESIS_VALIDATORS,
    MAX_VALIDATOR_NAME_LEN,
};

/// Consensus parameters (rule G-2). Changed later only by governance.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Minimum fee per transaction in base units (zero allowed).
    pub min_fee: Amount,
    /// Most transactions in one block.
    pub max_block_txs: u32,
}

impl Default for Params {
    fn default() -> Self {
        Params { min_fee: Amount(0), max_block_txs: 10_000 }
    }
}

/// An initial balance.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisAccount {
    /// Account address (`depin1…`).
    pub address: Address,
    /// Balance in base units.
    pub balance: Amount,
}

/// A block producer allowed by genesis.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisValidator {
    /// A human name for logs.
    pub name: String,
    /// The key that signs its blocks.
    pub public_key: PublicKey,
}

/// The genesis document.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Genesis {
    /// Chain id: 1–64 characters of `a-z 0-9 - _ .`.
    pub chain_id: String,
    /// Genesis time, milliseconds since the Unix epoch; block 1 must be later.
    pub genesis_time_ms: u64,
    /// Parameters.
    pub params: Params,
    /// Block producers.
    pub validators: Vec<GenesisValidator>,
    /// Initial balances (their sum is the genesis supply).
    #[serde(default)]
    pub accounts: Vec<GenesisAccount>,
}

/// A genesis file that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GenesisError {
    /// Not parseable TOML of the right shape.
    #[error("genesis is not valid: {0}")]
    Parse(String),
    /// Parsed, but breaks a rule.
    #[error("genesis is invalid: {0}")]
    Invalid(String),
}

impl Genesis {
    /// The genesis id.
    pub fn id(&self) -> Hash32 {
        hash_domain(domain::GENESIS_ID, &encode(self))
    }

    /// Total genesis supply.
    pub fn total_supply(&self) -> Result<Amount, GenesisError> {
        self.accounts.iter().try_fold(Amount::ZERO, |acc, a| {
            acc.checked_add(a.balance)
                .ok_or_else(|| GenesisError::Invalid("total supply overflows u128".into()))
        })
    }

    /// Check every rule of G-1.
    pub fn validate(&self) -> Result<(), GenesisError> {
        let bad = |m: String| Err(GenesisError::Invalid(m));
        let id = &self.chain_id;
        if id.is_empty()
            || id.len() > MAX_CHAIN_ID_LEN
            || !id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-_.".contains(&b))
        {
            return bad(format!(
                "chain_id {id:?} must be 1-{MAX_CHAIN_ID_LEN} characters of a-z, 0-9, '-', '_', '.'"
            ));
        }
        if self.params.max_block_txs == 0 || self.params.max_block_txs > MAX_BLOCK_TXS_CEILING {
            return bad(format!("params.max_block_txs must be 1..={MAX_BLOCK_TXS_CEILING}"));
        }
        if self.validators.is_empty() || self.validators.len() > MAX_GENESIS_VALIDATORS {
            return bad(format!("1 to {MAX_GENESIS_VALIDATORS} validators are required"));
        }
        if let Some(v) = self.validators.iter().find(|v| v.name.is_empty() || v.name.len() > MAX_VALIDATOR_NAME_LEN) {
            return bad(format!("validator name {:?} must be 1-{MAX_VALIDATOR_NAME_LEN} bytes", v.name));
        }
        let mut keys = BTreeSet::new();
        for v in &self.validators {
            if !keys.insert(v.public_key.clone()) {
                return bad(format!("validator {} is listed twice", v.name));
            }
        }
        if self.accounts.len() > MAX_GENESIS_ACCOUNTS {
            return bad(format!("more than {MAX_GENESIS_ACCOUNTS} accounts"));
        }
        let mut seen = BTreeSet::new();
        for a in &self.accounts {
            if !seen.insert(a.address) {
                return bad(format!("account {} is listed twice", a.address));
            }
        }
        self.total_supply()?;
        Ok(())
    }

    /// Parse and validate TOML text.
    pub fn from_toml(text: &str) -> Result<Genesis, GenesisError> {
        if text.len() > MAX_GENESIS_BYTES {
            return Err(GenesisError::Parse(format!("file is over {MAX_GENESIS_BYTES} bytes")));
        }
        let g: Genesis = toml::from_str(text).map_err(|e| GenesisError::Parse(e.to_string()))?;
        g.validate()?;
        Ok(g)
    }

    /// TOML text with a header comment explaining each field.
    pub fn to_toml(&self) -> String {
        let body = toml::to_string(self).expect("invariant: genesis serializes to TOML");
        format!(
            "# depin genesis. Edit before the first `depin up`; afterwards it is fixed for the chain.\n\
             # chain_id: 1-64 of a-z 0-9 - _ .   genesis_time_ms: Unix ms; block 1 comes later.\n\
             # params.min_fee: minimum fee per transaction in base units (burned); may be \"0\".\n\
             # params.max_block_txs: most transactions per block.\n\
             # [[validators]]: who may sign blocks.  [[accounts]]: initial balances (decimal strings).\n\n{body}"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use depin_crypto::{Scheme, SecretKey};

    fn sample() -> Genesis {
        let k = SecretKey::from_seeds(Scheme::Ed25519, &[1; 32]).unwrap().public_key();
        Genesis {
            chain_id: "depin-test".into(),
            genesis_time_ms: 1,
            params: Params::default(),
            validators: vec![GenesisValidator { name: "v0".into(), public_key: k.clone() }],
            accounts: vec![GenesisAccount { address: k.address(), balance: Amount(100) }],
        }
    }

    #[test]
    fn toml_round_trips() {
        let g = sample();
        assert_eq!(Genesis::from_toml(&g.to_toml()).unwrap(), g);
    }

    #[test]
    fn rejects_duplicates_bad_chain_id_and_unknown_keys() {
        let mut g = sample();
        g.accounts.push(g.accounts[0].clone());
        assert!(g.validate().is_err());
        let mut g = sample();
        g.chain_id = "Bad Id".into();
        assert!(g.validate().is_err());
        let text = sample().to_toml().replace("[params]", "[params]\nsurprise = 1");
        assert!(matches!(Genesis::from_toml(&text), Err(GenesisError::Parse(_))));
    }
}
