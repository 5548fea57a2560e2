//! Execute telemetry bodies: fold device-signed reports into per-asset per-epoch aggregates,
//! with the checks consensus needs (rules M-1 to M-9).
//!
//! The ingest edge already refused what it could; these rules repeat what must hold on every
//! replica (asset, device key, status, sequence, time window, class, fix resolution) because a
//! validator's batch is only trusted as far as its signatures go. A refused report does not
//! fail the transaction: it is counted, by code, in the asset's aggregate, where its owner sees it.

use depin_types::asset::{Asset, AssetId, AssetStatus, AttestationTier, Capacity, RegistryParams, Vendor};
use depin_types::codec::encode;
use depin_types::registry_key as rkey;
use depin_types::state_key::{telemetry_epoch_key, telemetry_head_key, REGISTRY_PARAMS_KEY, TELEMETRY_PARAMS_KEY};
use depin_types::telemetry::{
    Metrics, ReportCode, SignedReport, TelemetryEpoch, TelemetryHead, TelemetryParams, MAX_REPORTS_PER_TX,
    REPORT_VERSION,
};
use depin_types::{geo, Address, RejectReason};

use crate::machine::BlockContext;
use crate::overlay::{decode_stored, Overlay, StateRead, StorageFault};

type Outcome = Result<Result<(), RejectReason>, StorageFault>;

impl<R: StateRead + ?Sized> Overlay<'_, R> {
    /// The telemetry parameters.
    pub fn telemetry_params(&self) -> Result<TelemetryParams, StorageFault> {
        self.typed(TELEMETRY_PARAMS_KEY)?
            .ok_or_else(|| StorageFault("telemetry parameters missing: state has no genesis".into()))
    }

    pub(crate) fn is_validator(&self, a: &Address) -> Result<bool, StorageFault> {
        Ok(self.validators()?.keys.iter().any(|k| &k.address() == a))
    }

    /// True if reports from `asset` count: registered or active, and not attested by a revoked
    /// vendor (rule M-3).
    pub(crate) fn in_service(&self, asset: &Asset) -> Result<bool, StorageFault> {
        if !matches!(asset.status, AssetStatus::Registered | AssetStatus::Active) {
            return Ok(false);
        }
        if let AttestationTier::VendorAttested { vendor } = &asset.tier {
            let v: Option<Vendor> = self.typed(&rkey::vendor(&vendor.address()))?;
            return Ok(v.is_some_and(|v| !v.revoked));
        }
        Ok(true)
    }
}

/// An asset's telemetry head (rule M-5), if a report of it was ever accepted.
pub fn read_head<R: StateRead + ?Sized>(state: &R, asset: &AssetId) -> Result<Option<TelemetryHead>, StorageFault> {
    let key = telemetry_head_key(asset);
    decode_stored(&key, state.get(&key)?.as_deref())
}

/// An asset's aggregate in `epoch` (rule M-6): the head's if `epoch` is the head's epoch,
/// otherwise the one under the epoch key. `head` is [`read_head`]'s answer for the asset.
pub fn read_epoch<R: StateRead + ?Sized>(
    state: &R,
    head: Option<&TelemetryHead>,
    asset: &AssetId,
    epoch: u64,
) -> Result<Option<TelemetryEpoch>, StorageFault> {
    match head.and_then(|h| h.aggregate(epoch)) {
        Some(open) => Ok(Some(open.clone())),
        None => {
            let key = telemetry_epoch_key(asset, epoch);
            decode_stored(&key, state.get(&key)?.as_deref())
        }
    }
}

/// Rule M-1 to M-8: fold a validator's batch of reports. `bad_report` is the edge's verdict:
/// the index of the first report whose signature does not verify (rule M-2).
pub fn submit<R: StateRead + ?Sized>(
    st: &mut Overlay<'_, R>,
    sender: &Address,
    ctx: &BlockContext,
    reports: &[SignedReport],
    bad_report: Option<u32>,
) -> Outcome {
    if !st.is_validator(sender)? {
        return Ok(Err(RejectReason::NotPrivileged)); // rule M-1
    }
    if reports.is_empty() || reports.len() > MAX_REPORTS_PER_TX {
        return Ok(Err(RejectReason::BatchSize { max: MAX_REPORTS_PER_TX as u32 })); // rule M-1
    }
    if let Some(index) = bad_report {
        return Ok(Err(RejectReason::BadReportSignature { index })); // rule M-2
    }
    let params = st.telemetry_params()?;
    let registry: RegistryParams = st
        .typed(REGISTRY_PARAMS_KEY)?
        .ok_or_else(|| StorageFault("registry parameters missing: state has no genesis".into()))?;
    for r in reports {
        fold(st, &params, registry.location_resolution, ctx, r)?;
    }
    Ok(Ok(()))
}

/// Check one report against state and count it, accepted or refused.
fn fold<R: StateRead + ?Sized>(
    st: &mut Overlay<'_, R>,
    params: &TelemetryParams,
    resolution: u8,
    ctx: &BlockContext,
    signed: &SignedReport,
) -> Result<ReportCode, StorageFault> {
    let r = &signed.report;
    let Some(asset) = st.asset(&r.asset)? else {
        return Ok(ReportCode::UnknownAsset); // rule M-3: nothing to count it against
    };
    let head_key = telemetry_head_key(&r.asset);
    let head: Option<TelemetryHead> = st.typed(&head_key)?;
    let code = check(st, params, resolution, ctx, signed, &asset, head.as_ref())?;
    if code != ReportCode::Accepted {
        // Counted under the block's epoch: in the head if that is the head's epoch.
        let epoch = params.epoch_of(ctx.timestamp_ms);
        match head {
            Some(mut h) if h.epoch == epoch => {
                h.open.refuse(code);
                st.put(head_key, encode(&h));
            }
            _ => {
                let key = telemetry_epoch_key(&r.asset, epoch);
                let mut agg: TelemetryEpoch = st.typed(&key)?.unwrap_or_else(TelemetryEpoch::new);
                agg.refuse(code);
                st.put(key, encode(&agg));
            }
        }
        return Ok(code);
    }
    let prev = head.as_ref().map(|h| (h.timestamp_ms, h.last_fix));
    let mut agg = match head {
        Some(h) if h.epoch == r.epoch => h.open,
        other => {
            // The head moves to the report's epoch: its aggregate goes under its epoch key, and
            // the new epoch's (refusals counted while the head was elsewhere) comes into the head.
            if let Some(h) = other {
                st.put(telemetry_epoch_key(&r.asset, h.epoch), encode(&h.open));
            }
            let key = telemetry_epoch_key(&r.asset, r.epoch);
            match st.typed::<TelemetryEpoch>(&key)? {
                Some(stored) => {
                    st.delete(key);
                    stored
                }
                None => TelemetryEpoch::new(),
            }
        }
    };
    // Rule M-6: counters.
    let epoch_s = params.epoch_ms / 1_000;
    let since_prev_s = prev.map(|(ms, _)| r.timestamp_ms.saturating_sub(ms) / 1_000);
    agg.reports = agg.reports.saturating_add(1);
    agg.heartbeats |= 1 << params.bucket_of(r.timestamp_ms);
    agg.uptime_s = (agg.uptime_s + u64::from(r.uptime_s).min(epoch_s)).min(epoch_s);
    agg.served = agg.served.saturating_add(r.metrics.served());
    agg.usage = agg.usage.saturating_add(r.metrics.usage(r.uptime_s));
    agg.wh_produced = agg.wh_produced.saturating_add(u128::from(r.metrics.wh_produced()));
    agg.wh_consumed = agg.wh_consumed.saturating_add(u128::from(r.metrics.wh_consumed()));
    if ctx.timestamp_ms.abs_diff(r.timestamp_ms) > params.skew_warn_ms {
        agg.skewed = agg.skewed.saturating_add(1);
    }
    // Rule M-8: plausibility against the declared capacity (and uptime against the clock).
    let uptime_claim_too_long = since_prev_s.is_some_and(|s| u64::from(r.uptime_s) > s + 1);
    if uptime_claim_too_long || !plausible(&r.metrics, &asset.capacity, r.uptime_s, params.plausibility_permille) {
        agg.implausible = agg.implausible.saturating_add(1);
    }
    // Rule M-7: location trust and travel.
    let mut last_fix = prev.and_then(|(_, fix)| fix);
    if let Some(fix) = r.fix {
        agg.fixes = agg.fixes.saturating_add(1);
        let from_asserted = distance_m(fix.cell, asset.location);
        let multiplier = params.location_multiplier(from_asserted);
        agg.location_multiplier_bp = agg.location_multiplier_bp.min(multiplier);
        let near = params.location_bands.first().map_or(0, |b| u64::from(b.max_m));
        if from_asserted > near {
            agg.far = agg.far.saturating_add(1);
        }
        if let Some((prev, prev_ms)) = last_fix {
            let moved = distance_m(fix.cell, prev);
            let dt_ms = r.timestamp_ms.saturating_sub(prev_ms);
            if moved > near && dt_ms <= params.two_places_window_ms {
                agg.two_places = agg.two_places.saturating_add(1);
            } else if u128::from(moved) * 1_000 > u128::from(params.max_speed_mps) * u128::from(dt_ms) + 1_000 * u128::from(near) {
                agg.impossible_travel = agg.impossible_travel.saturating_add(1);
            }
        }
        last_fix = Some((fix.cell, r.timestamp_ms));
    }
    let head = TelemetryHead { seq: r.seq, timestamp_ms: r.timestamp_ms, epoch: r.epoch, last_fix, open: agg };
    st.put(head_key, encode(&head));
    Ok(ReportCode::Accepted)
}

/// Rules M-3 to M-5 and the fix resolution: the code a report gets (Accepted if it counts).
fn check<R: StateRead + ?Sized>(
    st: &Overlay<'_, R>,
    params: &TelemetryParams,
    resolution: u8,
    ctx: &BlockContext,
    signed: &SignedReport,
    asset: &Asset,
    head: Option<&TelemetryHead>,
) -> Result<ReportCode, StorageFault> {
    let r = &signed.report;
    let code = if r.version != REPORT_VERSION {
        ReportCode::UnsupportedVersion
    } else if signed.device_key != asset.device_key {
        ReportCode::WrongDeviceKey
    } else if !st.in_service(asset)? {
        ReportCode::AssetNotInService
    } else if r.metrics.class() != asset.capacity.class() {
        ReportCode::ClassMismatch
    } else if r.timestamp_ms < ctx.timestamp_ms.saturating_sub(params.max_report_age_ms)
        || r.timestamp_ms > ctx.timestamp_ms.saturating_add(params.max_report_lead_ms)
    {
        ReportCode::ClockSkew
    } else if r.epoch != params.epoch_of(r.timestamp_ms) {
        ReportCode::WrongEpoch
    } else if head.is_some_and(|h| r.seq <= h.seq) {
        ReportCode::StaleSequence
    } else if head.is_some_and(|h| r.timestamp_ms < h.timestamp_ms) {
        ReportCode::ClockSkew // time runs backwards between consecutive reports
    } else if r.fix.is_some_and(|f| f.cell.resolution() != resolution) {
        ReportCode::BadFix
    } else {
        ReportCode::Accepted
    };
    Ok(code)
}

/// Approximate metres between two cells of the same resolution (integer grid distance);
/// `u64::MAX` when the grid cannot measure it (far apart, across a pentagon).
fn distance_m(a: geo::Cell, b: geo::Cell) -> u64 {
    geo::grid_distance(a, b)
        .and_then(|steps| geo::grid_distance_approx_m(steps, a.resolution()).ok())
        .unwrap_or(u64::MAX)
}

/// Rule M-8: metrics within `tolerance` per mille of what the capacity allows.
fn plausible(m: &Metrics, capacity: &Capacity, uptime_s: u32, tolerance: u16) -> bool {
    let cap = |declared: u128| declared * u128::from(tolerance) / 1_000;
    let up = u128::from(uptime_s);
    match (m, capacity) {
        (Metrics::Compute { cpu_load_permille, memory_used_mib, gpu_load_permille, .. }, Capacity::Compute(c)) => {
            *cpu_load_permille <= 1_000
                && *gpu_load_permille <= 1_000
                && u128::from(*memory_used_mib) <= cap(u128::from(c.memory_mib))
        }
        (Metrics::Storage { bytes_stored, .. }, Capacity::Storage(c)) => {
            u128::from(*bytes_stored) <= cap(u128::from(c.bytes))
        }
        (Metrics::Energy { wh_produced, wh_stored, state_of_charge_permille, .. }, Capacity::Energy(c)) => {
            // Wh over the interval ≤ peak W × hours.
            u128::from(*wh_produced) * 3_600 <= cap(u128::from(c.peak_w) * up)
                && u128::from(*wh_stored) <= cap(u128::from(c.storage_wh))
                && *state_of_charge_permille <= 1_000
        }
        (Metrics::Sensor { readings }, Capacity::Sensor(c)) => {
            // Readings ≤ interval / sample period (+1 for the boundary).
            u128::from(*readings) * u128::from(c.sample_period_ms.max(1)) <= cap(up * 1_000) + u128::from(c.sample_period_ms)
        }
        (Metrics::Mining { hashrate_hps, .. }, Capacity::Mining(c)) => {
            u128::from(*hashrate_hps) <= cap(u128::from(c.hashrate_hps))
        }
        (Metrics::Wireless { .. }, Capacity::Wireless(_)) => true,
        _ => false,
    }
}

/// Rule M-9: a validator sets the telemetry parameters (until governance exists).
pub fn set_params<R: StateRead + ?Sized>(st: &mut Overlay<'_, R>, sender: &Address, params: &TelemetryParams) -> Outcome {
    if !st.is_validator(sender)? {
        return Ok(Err(RejectReason::NotPrivileged));
    }
    if let Err(problem) = params.validate() {
        return Ok(Err(RejectReason::InvalidParams { problem }));
    }
    st.put(TELEMETRY_PARAMS_KEY.to_vec(), encode(params));
    Ok(Ok(()))
}
