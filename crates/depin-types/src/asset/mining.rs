//! Mining assets: an algorithm and a hashrate.

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

use super::kv::{Fields, Problem};
use super::ResourceUnit;

/// Proof-of-work algorithm. The variant order is the encoding tag: append only.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Algorithm {
    /// Bitcoin's double SHA-256.
    Sha256d,
    /// Scrypt.
    Scrypt,
    /// RandomX.
    Randomx,
    /// Equihash.
    Equihash,
    /// kHeavyHash.
    Kheavyhash,
    /// Ethash / Etchash.
    Ethash,
}

/// What a mining asset offers.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MiningCapacity {
    /// Algorithm.
    pub algorithm: Algorithm,
    /// Hashrate in hashes per second, 1 H/s to 10 PH/s.
    pub hashrate_hps: u64,
}

/// Telemetry a mining asset reports.
pub const METRICS: &[&str] = &["uptime_s", "hashrate_hps", "shares_accepted", "wh_consumed"];
/// What a mining asset sells.
pub const UNITS: &[ResourceUnit] = &[ResourceUnit::HashrateThEpoch];

impl MiningCapacity {
    /// Check ranges (rule R-2).
    pub fn validate(&self) -> Result<(), Problem> {
        Problem::range("hashrate_hps", self.hashrate_hps, 1, 10_000_000_000_000_000)
    }

    /// From `algorithm=…, hashrate_hps=…`.
    pub fn from_fields(f: &mut Fields) -> Result<MiningCapacity, Problem> {
        Ok(MiningCapacity {
            algorithm: f.choice(
                "algorithm",
                &[
                    ("sha256d", Algorithm::Sha256d),
                    ("scrypt", Algorithm::Scrypt),
                    ("randomx", Algorithm::Randomx),
                    ("equihash", Algorithm::Equihash),
                    ("kheavyhash", Algorithm::Kheavyhash),
                    ("ethash", Algorithm::Ethash),
                ],
            )?,
            hashrate_hps: f.number("hashrate_hps")?,
        })
    }
}
