//! Define the genesis file: chain id, parameters, initial balances and validators (TOML).
//!
//! A person can write one by hand; `depin init` and `depin testnet init` write commented ones.
//! The genesis id (hash of its canonical encoding) is the parent of block 1, so two nodes with
//! different genesis files can never agree on a block. Validators of a replicated network also
//! carry their consensus p2p address, which the genesis id therefore covers as well.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;

use borsh::{BorshDeserialize, BorshSerialize};
use depin_crypto::{domain, hash_domain, Address, Hash32, PublicKey, Scheme};
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
    /// The key that signs its blocks (and, in a replicated network, its consensus votes: then
    /// it must be an Ed25519 key).
    pub public_key: PublicKey,
    /// Where the other validators reach this one for consensus, `ip:port` (e.g.
    /// `"127.0.0.1:27001"`). Set for every validator of a replicated (BFT) network, for none of a
    /// single-node one (rule G-1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p2p: Option<String>,
}

impl GenesisValidator {
    /// The parsed p2p address, `None` when the validator has none.
    pub fn p2p_addr(&self) -> Result<Option<SocketAddr>, GenesisError> {
        let Some(text) = &self.p2p else { return Ok(None) };
        let addr: SocketAddr = text.parse().map_err(|_| {
            GenesisError::Invalid(format!(
                "validator {}: p2p {text:?} is not an ip:port address (e.g. \"127.0.0.1:27001\"; host names are \
                 not allowed)",
                self.name
            ))
        })?;
        if addr.ip().is_unspecified() || addr.port() == 0 {
            return Err(GenesisError::Invalid(format!(
                "validator {}: p2p {text:?} cannot be dialled: give the address peers connect to, not a wildcard \
                 address or port 0",
                self.name
            )));
        }
        Ok(Some(addr))
    }
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
    /// Telemetry parameters (defaults where absent; rule G-6).
    #[serde(default)]
    pub telemetry: crate::telemetry::TelemetryParams,
    /// Market parameters (defaults where absent; rule G-7).
    #[serde(default)]
    pub market: crate::market::MarketParams,
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
        self.validate_p2p()?;
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
        self.telemetry.validate().map_err(|m| GenesisError::Invalid(format!("telemetry: {m}")))?;
        self.market.validate().map_err(|m| GenesisError::Invalid(format!("market: {m}")))?;
        Ok(())
    }

    /// True if this is a replicated (BFT) network: its validators carry p2p addresses. For a
    /// valid genesis that is all of them or none (rule G-1).
    pub fn is_replicated(&self) -> bool {
        !self.validators.is_empty() && self.validators.iter().all(|v| v.p2p.is_some())
    }

    /// Rule G-1.4: p2p addresses on every validator or on none, each a dialable `ip:port`, no
    /// two alike, and only beside Ed25519 keys.
    fn validate_p2p(&self) -> Result<(), GenesisError> {
        let with = self.validators.iter().find(|v| v.p2p.is_some());
        let without = self.validators.iter().find(|v| v.p2p.is_none());
        match (with, without) {
            (None, _) => return Ok(()),
            (Some(with), Some(without)) => {
                return Err(GenesisError::Invalid(format!(
                    "validator {} has a p2p address but {} has none: give every validator one (a replicated \
                     network) or none (a single node)",
                    with.name, without.name
                )));
            }
            (Some(_), None) => {}
        }
        let mut seen: BTreeMap<SocketAddr, &str> = BTreeMap::new();
        for v in &self.validators {
            // Every validator has one (checked above).
            let Some(addr) = v.p2p_addr()? else { continue };
            if v.public_key.scheme() != Scheme::Ed25519 {
                return Err(GenesisError::Invalid(format!(
                    "validator {} has a p2p address, so its public_key must be an ed25519 key (consensus votes are \
                     Ed25519 signatures), not {}",
                    v.name,
                    v.public_key.scheme().name()
                )));
            }
            if let Some(other) = seen.insert(addr, &v.name) {
                return Err(GenesisError::Invalid(format!(
                    "validators {other} and {} have the same p2p address {addr}",
                    v.name
                )));
            }
        }
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
             # [[validators]]: who may sign blocks; p2p = \"ip:port\" where peers reach it, set for every\n\
             #   validator of a replicated (BFT) network (Ed25519 keys only) or for none.\n\
             # [[accounts]]: initial balances (decimal strings).\n\n{body}"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use depin_crypto::{Scheme, SecretKey};

    fn key(seed: u8) -> PublicKey {
        SecretKey::from_seeds(Scheme::Ed25519, &[seed; 32]).unwrap().public_key()
    }

    fn sample() -> Genesis {
        let k = key(1);
        Genesis {
            telemetry: Default::default(),
            market: Default::default(),
            chain_id: "depin-test".into(),
            genesis_time_ms: 1,
            params: Params::default(),
            validators: vec![GenesisValidator { name: "v0".into(), public_key: k.clone(), p2p: None }],
            accounts: vec![GenesisAccount { address: k.address(), balance: Amount(100) }],
        }
    }

    /// Three Ed25519 validators on 127.0.0.1:27001, 27003, 27005.
    fn replicated() -> Genesis {
        let mut g = sample();
        g.validators = (0..3u8)
            .map(|i| GenesisValidator {
                name: format!("v{i}"),
                public_key: key(i + 1),
                p2p: Some(format!("127.0.0.1:{}", 27001 + 2 * u16::from(i))),
            })
            .collect();
        g
    }

    #[track_caller]
    fn invalid(g: &Genesis, needle: &str) {
        match g.validate() {
            Err(GenesisError::Invalid(m)) => assert!(m.contains(needle), "{m:?} does not say {needle:?}"),
            other => panic!("expected an invalid genesis ({needle}), got {other:?}"),
        }
    }

    #[test]
    fn toml_round_trips() {
        let g = sample();
        assert_eq!(Genesis::from_toml(&g.to_toml()).unwrap(), g);
        assert!(!g.to_toml().lines().any(|l| l.starts_with("p2p")), "no p2p key for a single node");
        let r = replicated();
        let text = r.to_toml();
        assert!(text.contains("p2p = \"127.0.0.1:27003\""), "{text}");
        assert_eq!(Genesis::from_toml(&text).unwrap(), r);
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

    #[test]
    fn replicated_genesis_is_valid_and_says_so() {
        let r = replicated();
        r.validate().unwrap();
        assert!(r.is_replicated());
        assert!(!sample().is_replicated());
        let addrs: Vec<SocketAddr> = r.validators.iter().map(|v| v.p2p_addr().unwrap().unwrap()).collect();
        assert_eq!(addrs[1], SocketAddr::from(([127, 0, 0, 1], 27003)));
        assert_eq!(sample().validators[0].p2p_addr().unwrap(), None);
        // IPv6 literals are addresses too.
        let mut v6 = replicated();
        v6.validators[0].p2p = Some("[::1]:27001".into());
        v6.validate().unwrap();
    }

    #[test]
    fn p2p_on_some_validators_only_is_invalid() {
        let mut g = replicated();
        g.validators[1].p2p = None;
        invalid(&g, "validator v0 has a p2p address but v1 has none");
        assert!(!g.is_replicated());
    }

    #[test]
    fn p2p_must_be_an_ip_and_port() {
        for bad in ["127.0.0.1", "localhost:27001", "127.0.0.1:70000", "", "127.0.0.1:27001 "] {
            let mut g = replicated();
            g.validators[2].p2p = Some(bad.into());
            invalid(&g, "validator v2: p2p");
            invalid(&g, "is not an ip:port address");
        }
    }

    #[test]
    fn p2p_must_be_dialable() {
        for bad in ["0.0.0.0:27001", "[::]:27001", "127.0.0.1:0"] {
            let mut g = replicated();
            g.validators[0].p2p = Some(bad.into());
            invalid(&g, "cannot be dialled");
        }
    }

    #[test]
    fn p2p_addresses_are_unique() {
        let mut g = replicated();
        g.validators[2].p2p = g.validators[0].p2p.clone();
        invalid(&g, "validators v0 and v2 have the same p2p address 127.0.0.1:27001");
        // Compared as addresses, not as text.
        let mut g = replicated();
        g.validators[2].p2p = Some("127.0.0.1:027001".into());
        invalid(&g, "validators v0 and v2 have the same p2p address 127.0.0.1:27001");
    }

    #[test]
    fn p2p_needs_an_ed25519_key() {
        for scheme in [Scheme::MlDsa65, Scheme::Hybrid] {
            let mut g = replicated();
            let seeds = vec![9; if scheme == Scheme::Hybrid { 64 } else { 32 }];
            g.validators[1].public_key = SecretKey::from_seeds(scheme, &seeds).unwrap().public_key();
            invalid(&g, "validator v1 has a p2p address, so its public_key must be an ed25519 key");
            invalid(&g, scheme.name());
            // Without p2p addresses any scheme may sign blocks.
            for v in &mut g.validators {
                v.p2p = None;
            }
            g.validate().unwrap();
        }
    }

    #[test]
    fn the_genesis_id_covers_p2p() {
        let r = replicated();
        let mut moved = r.clone();
        moved.validators[0].p2p = Some("127.0.0.1:28001".into());
        assert_ne!(r.id(), moved.id());
        let mut none = r.clone();
        for v in &mut none.validators {
            v.p2p = None;
        }
        assert_ne!(r.id(), none.id());
    }
}
