//! Sensor assets: what they measure and how often.

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

use super::kv::{Fields, Problem};
use super::ResourceUnit;

/// Most kinds one sensor asset lists.
pub const MAX_SENSOR_KINDS: usize = 16;

/// A measured quantity. The variant order is the encoding tag: append only.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SensorKind {
    /// Air temperature.
    Temperature,
    /// Relative humidity.
    Humidity,
    /// Air pressure.
    Pressure,
    /// Particulate matter (PM2.5/PM10).
    ParticulateMatter,
    /// Gases (CO2, NO2, O3…).
    Gas,
    /// Noise level.
    Noise,
    /// Wind speed and direction.
    Wind,
    /// Rain.
    Rain,
    /// Solar irradiance.
    Irradiance,
    /// Images or video.
    Camera,
    /// Satellite positioning.
    Gnss,
    /// Vehicle telematics.
    Vehicle,
}

const KINDS: &[(&str, SensorKind)] = &[
    ("temperature", SensorKind::Temperature),
    ("humidity", SensorKind::Humidity),
    ("pressure", SensorKind::Pressure),
    ("particulate_matter", SensorKind::ParticulateMatter),
    ("gas", SensorKind::Gas),
    ("noise", SensorKind::Noise),
    ("wind", SensorKind::Wind),
    ("rain", SensorKind::Rain),
    ("irradiance", SensorKind::Irradiance),
    ("camera", SensorKind::Camera),
    ("gnss", SensorKind::Gnss),
    ("vehicle", SensorKind::Vehicle),
];

/// What a sensor asset offers.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SensorCapacity {
    /// What it measures: 1 to [`MAX_SENSOR_KINDS`] kinds, each once.
    pub kinds: Vec<SensorKind>,
    /// Time between samples in milliseconds, 10 ms to 1 day.
    pub sample_period_ms: u32,
}

/// Telemetry a sensor asset reports.
pub const METRICS: &[&str] = &["uptime_s", "readings", "gnss_fix"];
/// What a sensor asset sells.
pub const UNITS: &[ResourceUnit] = &[ResourceUnit::StreamEpoch, ResourceUnit::Reading];

impl SensorCapacity {
    /// Check ranges (rule R-2).
    pub fn validate(&self) -> Result<(), Problem> {
        Problem::range("kinds", self.kinds.len() as u64, 1, MAX_SENSOR_KINDS as u64)?;
        for (i, k) in self.kinds.iter().enumerate() {
            if self.kinds[..i].contains(k) {
                return Err(Problem::Duplicate { field: "kinds".into(), value: format!("{k:?}") });
            }
        }
        Problem::range("sample_period_ms", self.sample_period_ms.into(), 10, 86_400_000)
    }

    /// From `kind=…` (repeatable) and `sample_period_ms=…`.
    pub fn from_fields(f: &mut Fields) -> Result<SensorCapacity, Problem> {
        let mut kinds = Vec::new();
        for v in f.all("kind") {
            let k = KINDS.iter().find(|(n, _)| *n == v).map(|(_, k)| *k).ok_or_else(|| Problem::Malformed {
                field: "kind".into(),
                expected: format!("one of {}", KINDS.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")),
            })?;
            kinds.push(k);
        }
        Ok(SensorCapacity { kinds, sample_period_ms: f.number("sample_period_ms")? })
    }
}
