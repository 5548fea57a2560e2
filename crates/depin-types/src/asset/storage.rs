//! Storage assets: bytes offered, media and redundancy.

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

use super::kv::{Fields, Problem};
use super::ResourceUnit;

/// Storage media. The variant order is the encoding tag: append only.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Media {
    /// Spinning disks.
    Hdd,
    /// SATA/SAS solid state.
    Ssd,
    /// NVMe solid state.
    Nvme,
    /// Tape.
    Tape,
}

/// Redundancy inside the asset. The variant order is the encoding tag: append only.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Redundancy {
    /// One copy.
    None,
    /// Mirrored (RAID 1 or two copies).
    Mirror,
    /// Single parity (RAID 5, RAID-Z1).
    Parity1,
    /// Double parity (RAID 6, RAID-Z2).
    Parity2,
    /// Erasure coded across disks.
    ErasureCoded,
}

/// What a storage asset offers.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageCapacity {
    /// Usable bytes offered, 1 GiB to 64 PiB.
    pub bytes: u64,
    /// Media.
    pub media: Media,
    /// Redundancy.
    pub redundancy: Redundancy,
}

/// Telemetry a storage asset reports.
pub const METRICS: &[&str] = &["uptime_s", "bytes_stored", "bytes_served", "proofs_passed"];
/// What a storage asset sells.
pub const UNITS: &[ResourceUnit] = &[ResourceUnit::GbEpochStored, ResourceUnit::GbMonthStored, ResourceUnit::GbServed];

impl StorageCapacity {
    /// Check ranges (rule R-2).
    pub fn validate(&self) -> Result<(), Problem> {
        Problem::range("bytes", self.bytes, 1 << 30, 64 << 50)
    }

    /// From `bytes=…, media=…, redundancy=…`.
    pub fn from_fields(f: &mut Fields) -> Result<StorageCapacity, Problem> {
        Ok(StorageCapacity {
            bytes: f.number("bytes")?,
            media: f.choice("media", &[("hdd", Media::Hdd), ("ssd", Media::Ssd), ("nvme", Media::Nvme), ("tape", Media::Tape)])?,
            redundancy: f.choice(
                "redundancy",
                &[
                    ("none", Redundancy::None),
                    ("mirror", Redundancy::Mirror),
                    ("parity1", Redundancy::Parity1),
                    ("parity2", Redundancy::Parity2),
                    ("erasure_coded", Redundancy::ErasureCoded),
                ],
            )?,
        })
    }
}
