//! Define signed telemetry: the report a device signs, the per-epoch aggregates the ledger keeps,
//! the parameters that judge them, and the typed codes for everything that does not count.
//!
//! A report is encoded canonically (borsh, fixed-width little-endian integers) and signed by the
//! asset's device key over `SIGN_REPORT || len(chain id) as u32 LE || chain id || report`
//! (spec section M, `docs/spec/telemetry.md`, with test vectors). Reports reach the ledger inside
//! `SubmitTelemetry` transactions that a validator's ingest edge builds; the state machine
//! re-checks what consensus needs (rules M-1 to M-9) and folds each accepted report into the
//! asset's [`TelemetryEpoch`].

use borsh::{BorshDeserialize, BorshSerialize};
use depin_crypto::cofactored::verify_cofactored_batch;
use depin_crypto::{CofactoredKey, PublicKey, Scheme, SecretKey, Signature};
use depin_geo::Cell;
use serde::{Deserialize, Serialize};

use crate::asset::{AssetClass, AssetId};
use crate::codec::encode;

/// The only report version this node reads.
pub const REPORT_VERSION: u8 = 1;
/// Domain prefix of a report signature.
pub const SIGN_REPORT: &[u8] = b"depin/sign/telemetry-report/v1";
/// Most reports in one `SubmitTelemetry` transaction (it must also fit in `MAX_TX_BYTES`).
pub const MAX_REPORTS_PER_TX: usize = 64;
/// Most reports in one ingest request.
pub const MAX_REPORTS_PER_BATCH: usize = 1_024;
/// Largest ingest request body, binary or JSON.
pub const MAX_INGEST_BODY_BYTES: usize = 1024 * 1024;
/// Most location-trust bands.
pub const MAX_LOCATION_BANDS: usize = 8;
/// Most time buckets per epoch (a `u64` heartbeat bitmap).
pub const MAX_BUCKETS: u8 = 64;

/// What an asset measured since its previous report, by class. Variant order is the class
/// order (and the encoding tag): append only. Field names are the class's declared metrics
/// ([`AssetClass::metrics`]).
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(tag = "class", rename_all = "snake_case", deny_unknown_fields)]
pub enum Metrics {
    /// A hotspot or radio.
    Wireless {
        /// Bytes carried for users since the previous report.
        bytes_served: u64,
        /// User sessions since the previous report.
        sessions: u32,
    },
    /// A CPU or GPU server.
    Compute {
        /// CPU load now, per mille of all cores (0–1000).
        cpu_load_permille: u16,
        /// Memory in use now, MiB.
        memory_used_mib: u64,
        /// GPU load now, per mille of all GPUs (0–1000; 0 without GPUs).
        gpu_load_permille: u16,
        /// Disk space in use now, MiB.
        disk_used_mib: u64,
        /// Network bytes received since the previous report.
        net_rx_bytes: u64,
        /// Network bytes sent since the previous report.
        net_tx_bytes: u64,
        /// Workload jobs finished since the previous report.
        jobs_done: u32,
    },
    /// A storage server.
    Storage {
        /// Bytes stored now.
        bytes_stored: u64,
        /// Bytes read by clients since the previous report.
        bytes_served: u64,
        /// Storage proofs passed since the previous report.
        proofs_passed: u32,
    },
    /// A panel, turbine or battery.
    Energy {
        /// Wh produced since the previous report.
        wh_produced: u64,
        /// Wh consumed since the previous report.
        wh_consumed: u64,
        /// Wh stored now.
        wh_stored: u64,
        /// Battery charge now, per mille (0–1000).
        state_of_charge_permille: u16,
    },
    /// A sensor.
    Sensor {
        /// Readings taken since the previous report.
        readings: u32,
    },
    /// A mining rig.
    Mining {
        /// Average hashrate since the previous report, hashes per second.
        hashrate_hps: u64,
        /// Shares accepted by the pool since the previous report.
        shares_accepted: u32,
        /// Wh consumed since the previous report.
        wh_consumed: u64,
    },
}

impl Metrics {
    /// The class these metrics belong to.
    pub fn class(&self) -> AssetClass {
        match self {
            Metrics::Wireless { .. } => AssetClass::Wireless,
            Metrics::Compute { .. } => AssetClass::Compute,
            Metrics::Storage { .. } => AssetClass::Storage,
            Metrics::Energy { .. } => AssetClass::Energy,
            Metrics::Sensor { .. } => AssetClass::Sensor,
            Metrics::Mining { .. } => AssetClass::Mining,
        }
    }

    /// The served units this report adds, in the class's unit ([`served_unit`]).
    pub fn served(&self) -> u128 {
        match *self {
            Metrics::Wireless { bytes_served, .. } | Metrics::Storage { bytes_served, .. } => u128::from(bytes_served),
            Metrics::Compute { jobs_done, .. } => u128::from(jobs_done),
            Metrics::Energy { wh_produced, .. } => u128::from(wh_produced),
            Metrics::Sensor { readings } => u128::from(readings),
            Metrics::Mining { shares_accepted, .. } => u128::from(shares_accepted),
        }
    }

    /// The usage this report adds over `seconds` of uptime, in the class's usage unit
    /// ([`usage_unit`]): a gauge integrated over time.
    pub fn usage(&self, seconds: u32) -> u128 {
        let s = u128::from(seconds);
        match *self {
            Metrics::Wireless { sessions, .. } => u128::from(sessions),
            Metrics::Compute { cpu_load_permille, .. } => u128::from(cpu_load_permille) * s,
            Metrics::Storage { bytes_stored, .. } => u128::from(bytes_stored) * s,
            Metrics::Energy { wh_stored, .. } => u128::from(wh_stored) * s,
            Metrics::Sensor { .. } => 0,
            Metrics::Mining { hashrate_hps, .. } => u128::from(hashrate_hps) * s,
        }
    }

    /// Wh consumed since the previous report (0 where the class does not measure it).
    pub fn wh_consumed(&self) -> u64 {
        match *self {
            Metrics::Energy { wh_consumed, .. } | Metrics::Mining { wh_consumed, .. } => wh_consumed,
            _ => 0,
        }
    }

    /// Wh produced since the previous report.
    pub fn wh_produced(&self) -> u64 {
        match *self {
            Metrics::Energy { wh_produced, .. } => wh_produced,
            _ => 0,
        }
    }
}

/// The unit of [`TelemetryEpoch::served`] for a class.
pub fn served_unit(class: AssetClass) -> &'static str {
    match class {
        AssetClass::Wireless | AssetClass::Storage => "bytes_served",
        AssetClass::Compute => "jobs_done",
        AssetClass::Energy => "wh_produced",
        AssetClass::Sensor => "readings",
        AssetClass::Mining => "shares_accepted",
    }
}

/// The unit of [`TelemetryEpoch::usage`] for a class.
pub fn usage_unit(class: AssetClass) -> &'static str {
    match class {
        AssetClass::Wireless => "sessions",
        AssetClass::Compute => "cpu_permille_seconds",
        AssetClass::Storage => "byte_seconds_stored",
        AssetClass::Energy => "wh_seconds_stored",
        AssetClass::Sensor => "none",
        AssetClass::Mining => "hashes",
    }
}

/// A GNSS position, as the H3 cell at the registry's resolution that contains it (the device
/// converts; the ledger compares cells with integer grid distances only).
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fix {
    /// The cell.
    pub cell: Cell,
    /// Stated accuracy, metres.
    pub accuracy_m: u32,
}

/// What a device signs.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Report {
    /// Format version, [`REPORT_VERSION`].
    pub version: u8,
    /// The reporting asset (the hash of the signing device key).
    pub asset: AssetId,
    /// The epoch of `timestamp_ms` (`timestamp_ms / epoch_ms`).
    pub epoch: u64,
    /// Strictly increasing per asset; the ledger keeps the last one accepted.
    pub seq: u64,
    /// Device clock, ms since the Unix epoch.
    pub timestamp_ms: u64,
    /// Seconds the asset was in service since its previous report.
    pub uptime_s: u32,
    /// Class metrics.
    pub metrics: Metrics,
    /// Position, for assets with a GNSS receiver.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fix: Option<Fix>,
}

impl Report {
    /// Sign with the device key (whose asset id must be `self.asset`).
    pub fn sign(self, chain_id: &str, device_key: &SecretKey) -> SignedReport {
        let signature = device_key.sign(&report_message(chain_id, &self));
        SignedReport { report: self, device_key: device_key.public_key(), signature }
    }
}

/// The bytes a report signature covers.
pub fn report_message(chain_id: &str, report: &Report) -> Vec<u8> {
    let mut m = SIGN_REPORT.to_vec();
    m.extend_from_slice(&encode(&(chain_id, report)));
    m
}

/// A report with its device key and signature: what devices send and blocks carry.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedReport {
    /// The report.
    pub report: Report,
    /// The device key that signed (its hash is the asset id).
    pub device_key: PublicKey,
    /// Signature over [`report_message`].
    pub signature: Signature,
}

impl SignedReport {
    /// True if the key is the asset's and the signature verifies under it by the cofactored
    /// equation (rule M-2, [`PublicKey::verify_cofactored`]; docs/adr/0020).
    pub fn signature_ok(&self, chain_id: &str) -> bool {
        AssetId::of(&self.device_key) == self.report.asset
            && self.device_key.verify_cofactored(&report_message(chain_id, &self.report), &self.signature).is_ok()
    }
}

/// Rule M-2 for many reports at once: `true` exactly when [`SignedReport::signature_ok`] holds
/// for every report (one cofactored batch equation; a `false` says nothing about which report).
pub fn reports_signature_ok(chain_id: &str, reports: &[&SignedReport]) -> bool {
    if reports.iter().any(|r| AssetId::of(&r.device_key) != r.report.asset) {
        return false;
    }
    let messages: Vec<Vec<u8>> = reports.iter().map(|r| report_message(chain_id, &r.report)).collect();
    let items: Vec<(&PublicKey, &[u8], &Signature)> =
        reports.iter().zip(&messages).map(|(r, m)| (&r.device_key, m.as_slice(), &r.signature)).collect();
    depin_crypto::verify_cofactored_all(&items)
}

/// [`reports_signature_ok`] for Ed25519 device keys already decoded (`keys[i]` for
/// `reports[i]`, e.g. cached per asset at the ingest edge, which saves a point decompression per
/// report). `false` unless every report's key is Ed25519 with exactly `keys[i]`'s bytes, its
/// asset's, and the batch equation holds; a `false` says nothing about which report.
pub fn ed25519_reports_signature_ok(chain_id: &str, reports: &[&SignedReport], keys: &[CofactoredKey]) -> bool {
    if reports.len() != keys.len() {
        return false;
    }
    let mut signatures = Vec::with_capacity(reports.len());
    for (r, k) in reports.iter().zip(keys) {
        if r.device_key.scheme() != Scheme::Ed25519
            || r.signature.scheme() != Scheme::Ed25519
            || r.device_key.bytes() != k.bytes()
            || AssetId::of(&r.device_key) != r.report.asset
        {
            return false;
        }
        signatures.push(<[u8; 64]>::try_from(r.signature.bytes()).expect("invariant: Ed25519 signatures are 64 bytes"));
    }
    let messages: Vec<Vec<u8>> = reports.iter().map(|r| report_message(chain_id, &r.report)).collect();
    let refs: Vec<&[u8]> = messages.iter().map(Vec::as_slice).collect();
    verify_cofactored_batch(&refs, &signatures, keys)
}

/// Rule M-2 verdicts of many reports into `out` (one per report): one batch equation, and
/// single verification of each report only when the batch fails.
pub fn report_signature_verdicts(chain_id: &str, reports: &[&SignedReport], out: &mut [bool]) {
    assert_eq!(reports.len(), out.len(), "invariant: one verdict per report");
    if reports_signature_ok(chain_id, reports) {
        out.fill(true);
        return;
    }
    for (o, r) in out.iter_mut().zip(reports) {
        *o = r.signature_ok(chain_id);
    }
    // A failing batch has a failing item, except with probability 2^-128 per batch.
    debug_assert!(out.iter().any(|ok| !ok), "invariant: a failing batch has a failing report");
}

/// The index of the first report whose signature fails rule M-2, if any
/// ([`report_signature_verdicts`]).
pub fn first_bad_report_signature(chain_id: &str, reports: &[SignedReport]) -> Option<usize> {
    let refs: Vec<&SignedReport> = reports.iter().collect();
    let mut verdicts = vec![false; refs.len()];
    report_signature_verdicts(chain_id, &refs, &mut verdicts);
    verdicts.iter().position(|ok| !ok)
}

/// A distance band of location trust: fixes within `max_m` of the asserted cell earn
/// `multiplier_bp` basis points (10,000 = full trust).
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocationBand {
    /// Upper bound of the band, metres.
    pub max_m: u32,
    /// Trust inside it, basis points.
    pub multiplier_bp: u16,
}

/// Telemetry parameters (state key `m/telemetry`): from the genesis file (or defaults), changed
/// by a validator until governance exists (rule M-9).
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TelemetryParams {
    /// Epoch length, ms; epoch `e` covers block times `[e × epoch_ms, (e+1) × epoch_ms)`.
    pub epoch_ms: u64,
    /// Heartbeat buckets per epoch (1–64, dividing `epoch_ms`).
    pub buckets_per_epoch: u8,
    /// Oldest report a block accepts: `timestamp_ms ≥ block time − max_report_age_ms` (M-4).
    pub max_report_age_ms: u64,
    /// Newest: `timestamp_ms ≤ block time + max_report_lead_ms` (M-4).
    pub max_report_lead_ms: u64,
    /// Reports further than this from the block time count as clock-skewed (health).
    pub skew_warn_ms: u64,
    /// Offline after this many whole buckets without a heartbeat.
    pub offline_after_buckets: u8,
    /// Degraded under this uptime, per mille of the epoch's elapsed buckets.
    pub degraded_uptime_permille: u16,
    /// Location trust by distance from the asserted cell, ascending; beyond the last, 0.
    pub location_bands: Vec<LocationBand>,
    /// Faster than this between consecutive fixes is impossible travel, metres per second.
    pub max_speed_mps: u32,
    /// Two far-apart fixes closer in time than this: the same key reports from two places.
    pub two_places_window_ms: u64,
    /// Metrics above declared capacity by more than this (per mille of it) are implausible.
    pub plausibility_permille: u16,
}

impl Default for TelemetryParams {
    fn default() -> Self {
        TelemetryParams {
            epoch_ms: 3_600_000,
            buckets_per_epoch: 12,
            max_report_age_ms: 900_000,
            max_report_lead_ms: 30_000,
            skew_warn_ms: 10_000,
            offline_after_buckets: 3,
            degraded_uptime_permille: 900,
            location_bands: vec![
                LocationBand { max_m: 250, multiplier_bp: 10_000 },
                LocationBand { max_m: 1_000, multiplier_bp: 7_500 },
                LocationBand { max_m: 5_000, multiplier_bp: 2_500 },
            ],
            max_speed_mps: 100,
            two_places_window_ms: 60_000,
            plausibility_permille: 1_100,
        }
    }
}

impl TelemetryParams {
    /// Parameters for a development network: 10-minute epochs of 20 buckets of 30 s, offline
    /// after 2 silent buckets, so that a newcomer sees health change within a minute or two.
    pub fn dev() -> TelemetryParams {
        TelemetryParams { epoch_ms: 600_000, buckets_per_epoch: 20, offline_after_buckets: 2, ..Self::default() }
    }

    /// Check the rules of M-9; the message names the field.
    pub fn validate(&self) -> Result<(), String> {
        if self.epoch_ms < 1_000 || self.epoch_ms > 30 * 86_400_000 {
            return Err("epoch_ms must be 1,000 to 2,592,000,000 (30 days)".into());
        }
        if self.buckets_per_epoch == 0 || self.buckets_per_epoch > MAX_BUCKETS {
            return Err(format!("buckets_per_epoch must be 1 to {MAX_BUCKETS}"));
        }
        if !self.epoch_ms.is_multiple_of(u64::from(self.buckets_per_epoch)) {
            return Err("buckets_per_epoch must divide epoch_ms".into());
        }
        if self.max_report_age_ms > self.epoch_ms * 4 {
            return Err("max_report_age_ms must be at most 4 epochs".into());
        }
        if self.max_report_lead_ms > 3_600_000 || self.skew_warn_ms > 3_600_000 {
            return Err("max_report_lead_ms and skew_warn_ms must be at most 3,600,000 (1 hour)".into());
        }
        if self.offline_after_buckets == 0 || self.offline_after_buckets > self.buckets_per_epoch {
            return Err("offline_after_buckets must be 1 to buckets_per_epoch".into());
        }
        if self.degraded_uptime_permille > 1_000 {
            return Err("degraded_uptime_permille must be at most 1000".into());
        }
        if self.location_bands.len() > MAX_LOCATION_BANDS {
            return Err(format!("at most {MAX_LOCATION_BANDS} location_bands"));
        }
        let ascending = self.location_bands.windows(2).all(|w| w[0].max_m < w[1].max_m);
        if !ascending || self.location_bands.iter().any(|b| b.multiplier_bp > 10_000) {
            return Err("location_bands must ascend in max_m, with multiplier_bp at most 10000".into());
        }
        if self.max_speed_mps == 0 || self.plausibility_permille < 1_000 {
            return Err("max_speed_mps must be > 0 and plausibility_permille at least 1000".into());
        }
        Ok(())
    }

    /// The epoch containing `ms`.
    pub fn epoch_of(&self, ms: u64) -> u64 {
        ms / self.epoch_ms
    }

    /// Bucket length, ms.
    pub fn bucket_ms(&self) -> u64 {
        self.epoch_ms / u64::from(self.buckets_per_epoch)
    }

    /// The bucket (within its epoch) containing `ms`.
    pub fn bucket_of(&self, ms: u64) -> u8 {
        u8::try_from((ms % self.epoch_ms) / self.bucket_ms()).expect("invariant: fewer than 64 buckets")
    }

    /// Location trust of a fix `distance_m` from the asserted cell, basis points.
    pub fn location_multiplier(&self, distance_m: u64) -> u16 {
        self.location_bands
            .iter()
            .find(|b| distance_m <= u64::from(b.max_m))
            .map_or(0, |b| b.multiplier_bp)
    }
}

/// One asset's telemetry in one epoch, folded from every accepted report (rule M-6): in the
/// asset's [`TelemetryHead`] for the head's epoch, under `t/e/<asset>/<epoch>` for any other
/// (ADR 0021). Counters only grow.
#[derive(Clone, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct TelemetryEpoch {
    /// Reports accepted.
    pub reports: u32,
    /// Bit `b` set: a heartbeat arrived in bucket `b`.
    pub heartbeats: u64,
    /// Seconds in service, summed and capped at the epoch length.
    pub uptime_s: u64,
    /// Served units in the class's unit ([`served_unit`]).
    pub served: u128,
    /// Usage in the class's unit ([`usage_unit`]).
    pub usage: u128,
    /// Wh produced.
    pub wh_produced: u128,
    /// Wh consumed.
    pub wh_consumed: u128,
    /// Reports with a GNSS fix.
    pub fixes: u32,
    /// Lowest location trust of any fix, basis points (10,000 without fixes).
    pub location_multiplier_bp: u16,
    /// Reports with a fix outside the first location band.
    pub far: u32,
    /// Reports further from the block time than `skew_warn_ms`.
    pub skewed: u32,
    /// Reports whose metrics exceed the declared capacity.
    pub implausible: u32,
    /// Fixes that imply travel faster than `max_speed_mps`.
    pub impossible_travel: u32,
    /// Fixes far from the previous one within `two_places_window_ms`.
    pub two_places: u32,
    /// Reports the ledger refused for this asset (rules M-3 to M-5), by [`ReportCode`] tag.
    pub refused: Vec<(u8, u32)>,
}

impl TelemetryEpoch {
    /// A fresh aggregate.
    pub fn new() -> TelemetryEpoch {
        TelemetryEpoch { location_multiplier_bp: 10_000, ..Default::default() }
    }

    /// Count one refused report.
    pub fn refuse(&mut self, code: ReportCode) {
        let tag = code as u8;
        match self.refused.iter_mut().find(|(t, _)| *t == tag) {
            Some((_, n)) => *n = n.saturating_add(1),
            None => {
                self.refused.push((tag, 1));
                self.refused.sort_unstable();
            }
        }
    }

    /// Buckets with a heartbeat.
    pub fn heartbeat_buckets(&self) -> u32 {
        self.heartbeats.count_ones()
    }
}

/// An asset's latest accepted report (state key `t/h/<asset>`): the sequence floor and the last
/// fix, for rules M-3 and M-7, and the aggregate of its epoch (rule M-6).
///
/// The aggregate of the head's epoch lives here, not under its epoch key, so that a block writes
/// one key per reporting asset; it moves to `t/e/<asset>/<epoch>` when a report of another epoch
/// is accepted. Read an epoch's aggregate through [`TelemetryHead::aggregate`] first.
#[derive(Clone, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct TelemetryHead {
    /// Last accepted sequence number.
    pub seq: u64,
    /// Its device timestamp.
    pub timestamp_ms: u64,
    /// Its epoch.
    pub epoch: u64,
    /// The last fix and its device timestamp.
    pub last_fix: Option<(Cell, u64)>,
    /// The aggregate of `epoch` (never also stored under its epoch key).
    pub open: TelemetryEpoch,
}

impl TelemetryHead {
    /// The aggregate of `epoch` if it is the head's epoch; `None` means "read the epoch key".
    pub fn aggregate(&self, epoch: u64) -> Option<&TelemetryEpoch> {
        (self.epoch == epoch).then_some(&self.open)
    }
}

/// The result of one report, at the ingest edge or on the ledger. Stable codes; the variant
/// order is the encoding tag: append only.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, BorshSerialize, BorshDeserialize, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum ReportCode {
    /// Accepted: it will count (edge), or it counted (ledger).
    Accepted,
    /// Not a decodable report.
    Malformed,
    /// A report version this node does not read.
    UnsupportedVersion,
    /// The signature does not verify under the device key, or the key is not the asset's.
    BadSignature,
    /// No asset has this id.
    UnknownAsset,
    /// The asset's registered device key is another one (it was re-keyed).
    WrongDeviceKey,
    /// The asset is suspended, decommissioned, or its device or vendor revoked.
    AssetNotInService,
    /// This (asset, sequence) was already received.
    Duplicate,
    /// The sequence is not above the last accepted one.
    StaleSequence,
    /// The device timestamp is outside the accepted window.
    ClockSkew,
    /// The epoch field is not the epoch of the timestamp.
    WrongEpoch,
    /// The metrics are for another class than the asset's.
    ClassMismatch,
    /// The GNSS fix is not at the registry's resolution.
    BadFix,
    /// The asset sent more reports than its rate limit allows.
    RateLimited,
    /// The node's ingest queue is full; retry after the delay the response gives.
    Overloaded,
}

impl ReportCode {
    /// Every code, in tag order.
    pub const ALL: [ReportCode; 15] = [
        ReportCode::Accepted,
        ReportCode::Malformed,
        ReportCode::UnsupportedVersion,
        ReportCode::BadSignature,
        ReportCode::UnknownAsset,
        ReportCode::WrongDeviceKey,
        ReportCode::AssetNotInService,
        ReportCode::Duplicate,
        ReportCode::StaleSequence,
        ReportCode::ClockSkew,
        ReportCode::WrongEpoch,
        ReportCode::ClassMismatch,
        ReportCode::BadFix,
        ReportCode::RateLimited,
        ReportCode::Overloaded,
    ];

    /// The stable code string.
    pub fn name(self) -> &'static str {
        match self {
            ReportCode::Accepted => "accepted",
            ReportCode::Malformed => "malformed",
            ReportCode::UnsupportedVersion => "unsupported_version",
            ReportCode::BadSignature => "bad_signature",
            ReportCode::UnknownAsset => "unknown_asset",
            ReportCode::WrongDeviceKey => "wrong_device_key",
            ReportCode::AssetNotInService => "asset_not_in_service",
            ReportCode::Duplicate => "duplicate",
            ReportCode::StaleSequence => "stale_sequence",
            ReportCode::ClockSkew => "clock_skew",
            ReportCode::WrongEpoch => "wrong_epoch",
            ReportCode::ClassMismatch => "class_mismatch",
            ReportCode::BadFix => "bad_fix",
            ReportCode::RateLimited => "rate_limited",
            ReportCode::Overloaded => "overloaded",
        }
    }

    /// The code with tag `tag`.
    pub fn from_tag(tag: u8) -> Option<ReportCode> {
        ReportCode::ALL.get(usize::from(tag)).copied()
    }
}

/// Health of an asset. Append only.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HealthState {
    /// Reporting, in every bucket, with nothing wrong.
    Healthy,
    /// Reporting, with at least one reason that it does not fully count.
    Degraded,
    /// Not reporting.
    Offline,
}

impl HealthState {
    /// Every state.
    pub const ALL: [HealthState; 3] = [HealthState::Healthy, HealthState::Degraded, HealthState::Offline];

    /// The stable name.
    pub fn name(self) -> &'static str {
        match self {
            HealthState::Healthy => "healthy",
            HealthState::Degraded => "degraded",
            HealthState::Offline => "offline",
        }
    }
}

/// Why an asset is not healthy. Stable codes (`code` in JSON).
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum HealthReason {
    /// No report ever accepted.
    NeverReported,
    /// No heartbeat in the last `buckets` buckets.
    NoHeartbeat {
        /// Silent buckets.
        buckets: u32,
    },
    /// The asset is not in service (suspended, decommissioned, revoked): reports do not count.
    NotInService,
    /// Heartbeats in fewer buckets than the degraded threshold.
    LowUptime {
        /// Uptime, per mille of elapsed buckets.
        permille: u16,
    },
    /// Reports with a device clock far from block time.
    ClockSkew {
        /// How many.
        reports: u32,
    },
    /// Fixes far from the asserted cell.
    LocationFar {
        /// How many.
        reports: u32,
        /// Lowest location trust, basis points.
        multiplier_bp: u16,
    },
    /// Metrics above the declared capacity.
    ImplausibleMetrics {
        /// How many reports.
        reports: u32,
    },
    /// Consecutive fixes too far apart for the time between them.
    ImpossibleTravel {
        /// How many.
        reports: u32,
    },
    /// Fixes far apart within seconds: the device key reports from two places.
    TwoPlaces {
        /// How many.
        reports: u32,
    },
    /// Reports refused by the ledger's rules.
    RefusedReports {
        /// How many.
        reports: u32,
    },
}

/// A health verdict with its reasons.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    /// The state.
    pub state: HealthState,
    /// Why not healthy (empty when healthy).
    pub reasons: Vec<HealthReason>,
    /// Uptime, per mille of elapsed buckets.
    pub uptime_permille: u16,
}

/// The health of one epoch of an asset, judged at time `now_ms` (the latest block time): a
/// pure function of the ledger's aggregate, so every node says the same. `in_service` is the
/// asset's effective status; `reported_ever` is whether any report was accepted.
pub fn judge(
    params: &TelemetryParams,
    epoch: u64,
    agg: Option<&TelemetryEpoch>,
    in_service: bool,
    last_report_ms: Option<u64>,
    now_ms: u64,
) -> Health {
    let mut reasons = Vec::new();
    let bucket_ms = params.bucket_ms();
    let epoch_start = epoch.saturating_mul(params.epoch_ms);
    // Buckets of this epoch that have (fully or partly) elapsed at `now_ms`.
    let elapsed = if now_ms < epoch_start {
        0
    } else {
        ((now_ms - epoch_start) / bucket_ms + 1).min(u64::from(params.buckets_per_epoch))
    };
    let elapsed = u32::try_from(elapsed).expect("invariant: at most 64 buckets");
    let beats = agg.map_or(0, TelemetryEpoch::heartbeat_buckets);
    // The current bucket may still get its heartbeat: do not count it as missed.
    let current_open = now_ms < epoch_start + u64::from(elapsed) * bucket_ms;
    let judged = if elapsed > 0 && current_open && agg.is_none_or(|a| a.heartbeats & (1 << (elapsed - 1)) == 0) {
        elapsed.saturating_sub(1)
    } else {
        elapsed
    };
    let uptime_permille =
        (beats.min(judged) * 1_000).checked_div(judged).map_or(1_000, |p| u16::try_from(p).unwrap_or(1_000));
    let silent_buckets =
        last_report_ms.map(|last| u32::try_from(now_ms.saturating_sub(last) / bucket_ms).unwrap_or(u32::MAX));
    let offline = match silent_buckets {
        None => {
            reasons.push(HealthReason::NeverReported);
            true
        }
        Some(n) if n >= u32::from(params.offline_after_buckets) => {
            reasons.push(HealthReason::NoHeartbeat { buckets: n });
            true
        }
        Some(_) => false,
    };
    if !in_service {
        reasons.push(HealthReason::NotInService);
    }
    if let Some(a) = agg {
        if judged > 0 && uptime_permille < params.degraded_uptime_permille {
            reasons.push(HealthReason::LowUptime { permille: uptime_permille });
        }
        if a.skewed > 0 {
            reasons.push(HealthReason::ClockSkew { reports: a.skewed });
        }
        if a.far > 0 {
            reasons.push(HealthReason::LocationFar { reports: a.far, multiplier_bp: a.location_multiplier_bp });
        }
        if a.implausible > 0 {
            reasons.push(HealthReason::ImplausibleMetrics { reports: a.implausible });
        }
        if a.impossible_travel > 0 {
            reasons.push(HealthReason::ImpossibleTravel { reports: a.impossible_travel });
        }
        if a.two_places > 0 {
            reasons.push(HealthReason::TwoPlaces { reports: a.two_places });
        }
        let refused: u32 = a.refused.iter().map(|(_, n)| *n).sum();
        if refused > 0 {
            reasons.push(HealthReason::RefusedReports { reports: refused });
        }
    } else if !offline && judged > 0 {
        reasons.push(HealthReason::LowUptime { permille: 0 });
    }
    let state = if offline || !in_service {
        HealthState::Offline
    } else if reasons.is_empty() {
        HealthState::Healthy
    } else {
        HealthState::Degraded
    };
    Health { state, reasons, uptime_permille }
}

#[cfg(test)]
mod tests {
    use super::*;
    use depin_crypto::Scheme;

    fn p() -> TelemetryParams {
        TelemetryParams { epoch_ms: 60_000, buckets_per_epoch: 6, offline_after_buckets: 2, ..Default::default() }
    }

    #[test]
    fn defaults_validate() {
        TelemetryParams::default().validate().unwrap();
        TelemetryParams::dev().validate().unwrap();
        assert!(TelemetryParams { buckets_per_epoch: 7, ..p() }.validate().is_err());
        assert!(TelemetryParams { offline_after_buckets: 0, ..p() }.validate().is_err());
    }

    #[test]
    fn buckets_and_bands() {
        let p = p();
        assert_eq!(p.bucket_ms(), 10_000);
        assert_eq!(p.epoch_of(125_000), 2);
        assert_eq!(p.bucket_of(125_000), 0);
        assert_eq!(p.bucket_of(119_999), 5);
        assert_eq!(p.location_multiplier(0), 10_000);
        assert_eq!(p.location_multiplier(900), 7_500);
        assert_eq!(p.location_multiplier(5_001), 0);
    }

    #[test]
    fn health_from_heartbeats() {
        let p = p();
        let mut a = TelemetryEpoch::new();
        a.reports = 3;
        a.heartbeats = 0b0111;
        // Epoch 1 starts at 60 s; at 95 s buckets 0..=3 elapsed, bucket 3 still open.
        let h = judge(&p, 1, Some(&a), true, Some(89_000), 95_000);
        assert_eq!(h.state, HealthState::Healthy, "{h:?}");
        assert_eq!(h.uptime_permille, 1_000);
        // Silent for 2 buckets: offline.
        let h = judge(&p, 1, Some(&a), true, Some(89_000), 110_000);
        assert_eq!(h.state, HealthState::Offline);
        assert!(h.reasons.contains(&HealthReason::NoHeartbeat { buckets: 2 }));
        // A missed bucket: degraded with low uptime.
        a.heartbeats = 0b1101;
        let h = judge(&p, 1, Some(&a), true, Some(99_000), 100_000);
        assert_eq!(h.state, HealthState::Degraded);
        assert!(matches!(h.reasons[0], HealthReason::LowUptime { permille: 750 }));
        assert_eq!(judge(&p, 1, None, true, None, 100_000).reasons, vec![HealthReason::NeverReported]);
        a.heartbeats = 0b1111;
        a.skewed = 1;
        let h = judge(&p, 1, Some(&a), false, Some(99_000), 100_000);
        assert_eq!(h.state, HealthState::Offline);
        assert_eq!(h.reasons, vec![HealthReason::NotInService, HealthReason::ClockSkew { reports: 1 }]);
    }

    /// A sensor report of `key`'s asset with sequence `seq`, in epoch 1.
    fn sensor_report(key: &SecretKey, seq: u64) -> Report {
        Report {
            version: REPORT_VERSION,
            asset: AssetId::of(&key.public_key()),
            epoch: 1,
            seq,
            timestamp_ms: 60_000,
            uptime_s: 10,
            metrics: Metrics::Sensor { readings: 4 },
            fix: None,
        }
    }

    #[test]
    fn signatures_bind_chain_and_key() {
        let key = SecretKey::from_seeds(Scheme::Ed25519, &[5; 32]).unwrap();
        let report = sensor_report(&key, 1);
        let signed = report.clone().sign("depin-a", &key);
        assert!(signed.signature_ok("depin-a"));
        assert!(!signed.signature_ok("depin-b"));
        let other = SecretKey::from_seeds(Scheme::Ed25519, &[6; 32]).unwrap();
        let mut wrong = report.sign("depin-a", &other);
        assert!(!wrong.signature_ok("depin-a"), "a key that is not the asset's");
        wrong.report.asset = AssetId::of(&other.public_key());
        assert!(!wrong.signature_ok("depin-a"), "the signature covered the old asset id");
    }

    #[test]
    fn batch_verdict_finds_the_first_bad_report_of_every_scheme() {
        let signed: Vec<SignedReport> = (0..12u8)
            .map(|i| {
                let scheme = [Scheme::Ed25519, Scheme::Hybrid, Scheme::MlDsa65][usize::from(i % 3)];
                let key = SecretKey::from_seeds(scheme, &vec![i; if scheme == Scheme::Hybrid { 64 } else { 32 }]).unwrap();
                sensor_report(&key, u64::from(i) + 1).sign("depin-a", &key)
            })
            .collect();
        assert_eq!(first_bad_report_signature("depin-a", &signed), None);
        assert_eq!(first_bad_report_signature("depin-b", &signed), Some(0));
        for bad in [1, 4, 8, 11] {
            let mut reports = signed.clone();
            reports[bad].report.uptime_s += 1;
            reports[bad + 1..].iter_mut().for_each(|r| r.report.seq += 100);
            assert_eq!(first_bad_report_signature("depin-a", &reports), Some(bad), "the first of several bad ones");
            let refs: Vec<&SignedReport> = reports.iter().collect();
            let mut verdicts = vec![false; refs.len()];
            report_signature_verdicts("depin-a", &refs, &mut verdicts);
            assert_eq!(verdicts.iter().filter(|ok| !**ok).count(), reports.len() - bad);
        }
    }

    #[test]
    fn decoded_key_batches_agree_with_the_general_rule() {
        let keys: Vec<SecretKey> = (0..8u8).map(|i| SecretKey::from_seeds(Scheme::Ed25519, &[i; 32]).unwrap()).collect();
        let reports: Vec<SignedReport> = keys
            .iter()
            .map(|k| sensor_report(k, 1).sign("depin-a", k))
            .collect();
        let decoded: Vec<CofactoredKey> =
            reports.iter().map(|r| CofactoredKey::from_bytes(&r.device_key.ed25519_bytes().unwrap()).unwrap()).collect();
        let refs: Vec<&SignedReport> = reports.iter().collect();
        assert!(ed25519_reports_signature_ok("depin-a", &refs, &decoded));
        assert!(!ed25519_reports_signature_ok("depin-b", &refs, &decoded), "the chain id is signed");
        let mut swapped = decoded.clone();
        swapped.swap(0, 1);
        assert!(!ed25519_reports_signature_ok("depin-a", &refs, &swapped), "keys must be the reports' own");
        assert!(!ed25519_reports_signature_ok("depin-a", &refs[1..], &decoded), "one key per report");
        let mut bad = reports.clone();
        bad[5].report.uptime_s += 1;
        let bad_refs: Vec<&SignedReport> = bad.iter().collect();
        assert!(!ed25519_reports_signature_ok("depin-a", &bad_refs, &decoded));
        assert!(!reports_signature_ok("depin-a", &bad_refs));
    }

    #[test]
    fn refusals_are_counted_in_tag_order() {
        let mut a = TelemetryEpoch::new();
        a.refuse(ReportCode::StaleSequence);
        a.refuse(ReportCode::ClockSkew);
        a.refuse(ReportCode::StaleSequence);
        assert_eq!(a.refused, vec![(ReportCode::StaleSequence as u8, 2), (ReportCode::ClockSkew as u8, 1)]);
        for (i, c) in ReportCode::ALL.iter().enumerate() {
            assert_eq!(*c as usize, i);
            assert_eq!(ReportCode::from_tag(i as u8), Some(*c));
        }
    }
}
