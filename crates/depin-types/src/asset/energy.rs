//! Energy assets: a source, peak power and storage.

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

use super::kv::{Fields, Problem};
use super::{EnergySource, ResourceUnit, ENERGY_SOURCES};

/// What an energy asset offers.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnergyCapacity {
    /// Where its energy comes from (a battery stores energy from elsewhere).
    pub source: EnergySource,
    /// Peak power in watts, 0 to 1 GW (0: storage only).
    pub peak_w: u64,
    /// Storage in watt-hours, 0 to 10 GWh.
    pub storage_wh: u64,
}

/// Telemetry an energy asset reports.
pub const METRICS: &[&str] = &["uptime_s", "wh_produced", "wh_consumed", "wh_stored", "state_of_charge_permille"];
/// What an energy asset sells.
pub const UNITS: &[ResourceUnit] = &[ResourceUnit::KwhDelivered, ResourceUnit::KwhStored];

impl EnergyCapacity {
    /// Check ranges (rule R-2): something to offer, power or storage.
    pub fn validate(&self) -> Result<(), Problem> {
        Problem::range("peak_w", self.peak_w, 0, 1_000_000_000)?;
        Problem::range("storage_wh", self.storage_wh, 0, 10_000_000_000)?;
        if self.peak_w == 0 && self.storage_wh == 0 {
            return Err(Problem::OutOfRange { field: "peak_w".into(), min: 1, max: 1_000_000_000, got: 0 });
        }
        Ok(())
    }

    /// From `source=…, peak_w=…, storage_wh=…` (`storage_wh` defaults to 0).
    pub fn from_fields(f: &mut Fields) -> Result<EnergyCapacity, Problem> {
        Ok(EnergyCapacity {
            source: f.choice("source", ENERGY_SOURCES)?,
            peak_w: f.number("peak_w")?,
            storage_wh: f.optional_number("storage_wh")?.unwrap_or(0),
        })
    }
}
