//! Wireless assets: a radio band and a coverage range.

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

use super::kv::{Fields, Problem};
use super::ResourceUnit;

/// Radio band. The variant order is the encoding tag: append only.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Band {
    /// LoRaWAN EU 863–870 MHz.
    LorawanEu868,
    /// LoRaWAN US 902–928 MHz.
    LorawanUs915,
    /// LoRaWAN AS 920–923 MHz.
    LorawanAs923,
    /// Wi-Fi 2.4 GHz.
    Wifi2g4,
    /// Wi-Fi 5 GHz.
    Wifi5g,
    /// Wi-Fi 6 GHz.
    Wifi6g,
    /// CBRS 3.55–3.7 GHz.
    Cbrs,
    /// 5G NR.
    Nr5g,
}

const BANDS: &[(&str, Band)] = &[
    ("lorawan_eu868", Band::LorawanEu868),
    ("lorawan_us915", Band::LorawanUs915),
    ("lorawan_as923", Band::LorawanAs923),
    ("wifi_2g4", Band::Wifi2g4),
    ("wifi_5g", Band::Wifi5g),
    ("wifi_6g", Band::Wifi6g),
    ("cbrs", Band::Cbrs),
    ("nr_5g", Band::Nr5g),
];

/// What a wireless asset offers.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WirelessCapacity {
    /// The band it serves.
    pub band: Band,
    /// Claimed coverage radius in metres, 1 m to 50 km.
    pub range_m: u32,
}

/// Telemetry a wireless asset reports.
pub const METRICS: &[&str] = &["uptime_s", "bytes_served", "sessions", "gnss_fix"];
/// What a wireless asset sells.
pub const UNITS: &[ResourceUnit] = &[ResourceUnit::GbServed, ResourceUnit::CoverageCellEpoch];

impl WirelessCapacity {
    /// Check ranges (rule R-2).
    pub fn validate(&self) -> Result<(), Problem> {
        Problem::range("range_m", self.range_m.into(), 1, 50_000)
    }

    /// From `band=…, range_m=…`.
    pub fn from_fields(f: &mut Fields) -> Result<WirelessCapacity, Problem> {
        Ok(WirelessCapacity { band: f.choice("band", BANDS)?, range_m: f.number("range_m")? })
    }
}
