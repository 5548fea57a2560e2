//! The telemetry ingest edge: check device reports, verify their signatures on every core, and
//! pack the accepted ones into `SubmitTelemetry` transactions signed by the node key.
//!
//! Order of checks, cheapest first and none that a forger can use against an honest device:
//! shape (version, epoch, fix resolution) and this node's clock (skew window) → the asset
//! (known, same device key, in service, same class) → signatures (cofactored batches of
//! [`VERIFY_BATCH`] shared by every core: the same predicate the ledger applies, so the node may
//! admit its own batches without verifying again) → sequence (duplicate or stale) and the asset's rate limit. Only a report with a valid
//! signature advances its asset's sequence or spends its tokens. Every report gets a
//! [`ReportCode`]; refusals are also kept per asset for its owner ([`Node::rejections`]).

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;

use depin_crypto::{verify_chunks_parallel, CofactoredKey, Scheme};
use depin_types::asset::{Asset, AssetClass, AssetId, RegistryParams};
use depin_types::registry_key as rkey;
use depin_types::state_key::{telemetry_head_key, REGISTRY_PARAMS_KEY, TELEMETRY_PARAMS_KEY};
use depin_types::telemetry::{
    ed25519_reports_signature_ok, report_signature_verdicts, ReportCode, SignedReport, TelemetryHead, TelemetryParams, MAX_REPORTS_PER_BATCH,
    MAX_REPORTS_PER_TX, REPORT_VERSION,
};
use depin_types::{PublicKey, Transaction, TxBody};
use serde::Serialize;

use crate::node::{Node, NodeError};
use crate::sequencer::now_ms;

/// Reports verified by one cofactored batch equation at the edge: the reference's batch size,
/// and 16 batches for 2 cores to share in a full request of 1,024.
pub const VERIFY_BATCH: usize = 64;
/// Refusals kept per asset.
pub const REJECTIONS_PER_ASSET: usize = 32;
/// Assets whose refusals are kept (the oldest asset's are dropped beyond it).
pub const MAX_REJECTION_ASSETS: usize = 100_000;

/// Why a whole ingest request was refused (per-report results are [`ReportCode`]s).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum IngestError {
    /// More reports than [`MAX_REPORTS_PER_BATCH`], or none.
    #[error("a batch holds 1 to {max} reports; this one has {got}")]
    BatchSize {
        /// Limit.
        max: usize,
        /// Given.
        got: usize,
    },
    /// The queue of accepted reports waiting for a block is full.
    #[error("the ingest queue is full ({queued} reports wait for a block); retry in {retry_after_s} s")]
    Overloaded {
        /// Reports waiting.
        queued: usize,
        /// Suggested wait.
        retry_after_s: u64,
    },
    /// The node is stopping or cannot read its state.
    #[error("the node cannot ingest now: {0}")]
    Unavailable(String),
}

/// The result of one report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ReportResult {
    /// Position in the request.
    pub index: u32,
    /// The code.
    pub code: ReportCode,
    /// The code in words.
    pub message: String,
}

/// One ingest result kept for `telemetry tail` and for owners.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct IngestRecord {
    /// Monotonic position (a cursor).
    pub cursor: u64,
    /// When this node received it, ms since the Unix epoch.
    pub at_ms: u64,
    /// The asset the report names.
    pub asset: AssetId,
    /// Its sequence number.
    pub seq: u64,
    /// The result.
    pub code: ReportCode,
    /// In words.
    pub message: String,
}

/// What the edge remembers about an asset: its registry facts (dropped when a block changes
/// the asset) and its sequence and token bucket (kept).
struct AssetEdge {
    facts: Option<Facts>,
    last_seq: Option<u64>,
    tokens_micro: u64,
    refilled_ms: u64,
}

#[derive(Clone)]
struct Facts {
    device_key: PublicKey,
    /// The Ed25519 device key decoded once (rule M-2's point), for the batch equation.
    decoded_key: Option<CofactoredKey>,
    class: AssetClass,
    in_service: bool,
}

#[derive(Default)]
struct Recent {
    next: u64,
    items: VecDeque<IngestRecord>,
    by_asset: HashMap<AssetId, VecDeque<IngestRecord>>,
    asset_order: VecDeque<AssetId>,
}

/// The edge's state, owned by the node.
#[derive(Default)]
pub(crate) struct Ingest {
    assets: Mutex<HashMap<AssetId, AssetEdge>>,
    pending: Mutex<VecDeque<SignedReport>>,
    /// Accepted reports not yet committed (pending here or in the mempool).
    in_flight: AtomicUsize,
    recent: Mutex<Recent>,
    /// Bumped by every invalidation: facts read from a snapshot taken before a bump are used
    /// once and not cached (the block that bumped it may have changed them).
    generation: AtomicU64,
    /// Held across take, sign and admit: two flushers would otherwise race for the node's
    /// nonce, and a batch put back after a failure would commit after a later one, turning its
    /// accepted reports into `stale_sequence` on the ledger.
    flushing: Mutex<()>,
}

impl Ingest {
    /// Forget the registry facts of `assets` (a block changed them); `None`: of every asset.
    pub(crate) fn invalidate(&self, assets: Option<&[AssetId]>) {
        let mut map = self.assets.lock().expect("invariant: ingest lock is never poisoned");
        self.generation.fetch_add(1, Ordering::SeqCst);
        match assets {
            Some(ids) => {
                for id in ids {
                    if let Some(e) = map.get_mut(id) {
                        e.facts = None;
                    }
                }
            }
            None => map.values_mut().for_each(|e| e.facts = None),
        }
    }

    /// `n` reports of this node's own batches were committed.
    pub(crate) fn committed(&self, n: usize) {
        let _ = self.in_flight.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |v| Some(v.saturating_sub(n)));
    }

    /// Reports accepted and not yet committed.
    pub(crate) fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::SeqCst)
    }
}

/// The assets a transaction may change in a way the edge cares about; `None` means "maybe all"
/// (a vendor was revoked or added).
pub(crate) fn touched_assets(tx: &Transaction) -> Option<Vec<AssetId>> {
    match &tx.content.body {
        TxBody::UpdateAsset { asset, .. }
        | TxBody::AssertLocation { asset, .. }
        | TxBody::TransferAsset { asset, .. }
        | TxBody::SetAssetStatus { asset, .. }
        | TxBody::DecommissionAsset { asset } => Some(vec![*asset]),
        TxBody::RevokeDevice { device_key } => Some(vec![AssetId::of(device_key)]),
        TxBody::RegisterAssets { assets } => Some(assets.iter().map(|r| AssetId::of(&r.device_key)).collect()),
        TxBody::RevokeVendor { .. } | TxBody::AddVendor { .. } => None,
        _ => Some(vec![]),
    }
}

/// A report code in words, for people (the API's `message`, the CLI).
pub fn describe(code: ReportCode) -> &'static str {
    match code {
        ReportCode::Accepted => "accepted; it counts once the next block commits",
        ReportCode::Malformed => "not a decodable report",
        ReportCode::UnsupportedVersion => "report version not supported by this node",
        ReportCode::BadSignature => "the signature does not verify under the device key, or the key is not the asset's",
        ReportCode::UnknownAsset => "no asset with this id is registered: register it first (depin asset register)",
        ReportCode::WrongDeviceKey => "the asset is registered with another device key",
        ReportCode::AssetNotInService => "the asset is suspended, decommissioned or revoked: its reports do not count",
        ReportCode::Duplicate => "this sequence number was already received",
        ReportCode::StaleSequence => "the sequence number is not above the last accepted one",
        ReportCode::ClockSkew => "the device clock is outside the accepted window: check NTP on the device",
        ReportCode::WrongEpoch => "the epoch field is not the epoch of the timestamp",
        ReportCode::ClassMismatch => "the metrics are for another class than the asset's",
        ReportCode::BadFix => "the GNSS fix is not at the registry's resolution",
        ReportCode::RateLimited => "the asset sends more reports than its rate limit; slow down",
        ReportCode::Overloaded => "the node's ingest queue is full; retry later",
    }
}

impl Node {
    /// The telemetry and registry parameters in force.
    pub fn telemetry_params(&self) -> Result<(TelemetryParams, RegistryParams), NodeError> {
        let snap = self.inner.chain.ledger().snapshot()?;
        let t = snap.typed(TELEMETRY_PARAMS_KEY)?.ok_or_else(|| NodeError::Storage("telemetry parameters missing".into()))?;
        let r = snap.typed(REGISTRY_PARAMS_KEY)?.ok_or_else(|| NodeError::Storage("registry parameters missing".into()))?;
        Ok((t, r))
    }

    /// Check, verify and queue a batch of device reports; one result per report, in order.
    pub fn ingest(&self, reports: Vec<SignedReport>) -> Result<Vec<ReportResult>, IngestError> {
        self.ingest_at(reports, now_ms())
    }

    /// [`Node::ingest`] with this node's clock reading `now_ms` (tests and benchmarks).
    pub fn ingest_at(&self, reports: Vec<SignedReport>, now_ms: u64) -> Result<Vec<ReportResult>, IngestError> {
        let started = std::time::Instant::now();
        if reports.is_empty() || reports.len() > MAX_REPORTS_PER_BATCH {
            return Err(IngestError::BatchSize { max: MAX_REPORTS_PER_BATCH, got: reports.len() });
        }
        if self.is_stopping() {
            return Err(IngestError::Unavailable("shutting down".into()));
        }
        let cfg = &self.inner.config.telemetry;
        let ingest = &self.inner.ingest;
        let queued = ingest.in_flight();
        if queued + reports.len() > cfg.queue_max_reports {
            self.inner.metrics.ingest_overloaded(reports.len());
            // About how long the ledger needs to take a queue's worth: a few block intervals.
            let retry_after_s = (self.inner.config.sequencer.block_interval_ms * 4).div_ceil(1_000).max(1);
            return Err(IngestError::Overloaded { queued, retry_after_s });
        }
        let unavailable = |e: NodeError| {
            tracing::error!(error = %e, "state read failed during ingest");
            IngestError::Unavailable("state read failed".into())
        };
        let (params, registry) = self.telemetry_params().map_err(unavailable)?;
        let chain_id = self.chain_id().to_string();
        let mut codes: Vec<ReportCode> = Vec::with_capacity(reports.len());
        let mut keys: Vec<Option<CofactoredKey>> = Vec::with_capacity(reports.len());
        for r in &reports {
            let (code, key) = self.precheck(r, &params, registry.location_resolution, now_ms).map_err(unavailable)?;
            codes.push(code);
            keys.push(key);
        }
        // Rule M-2's predicate for the survivors: cofactored batches of VERIFY_BATCH reports
        // taken by every core in turn, with the assets' cached decoded keys when they are all
        // Ed25519; the general path otherwise, and inside a batch that fails (single
        // verification finds the bad reports).
        let candidates: Vec<usize> = (0..reports.len()).filter(|&i| codes[i] == ReportCode::Accepted).collect();
        let verdicts = verify_chunks_parallel(&candidates, VERIFY_BATCH, |batch, out| {
            let decoded: Option<Vec<CofactoredKey>> = batch.iter().map(|&i| keys[i]).collect();
            let batch: Vec<&SignedReport> = batch.iter().map(|&i| &reports[i]).collect();
            match decoded {
                Some(keys) if ed25519_reports_signature_ok(&chain_id, &batch, &keys) => out.fill(true),
                // The batch equation already failed: find the bad reports one by one, without
                // a second batch over the same reports.
                Some(_) => {
                    for (o, r) in out.iter_mut().zip(&batch) {
                        *o = r.signature_ok(&chain_id);
                    }
                }
                None => report_signature_verdicts(&chain_id, &batch, out),
            }
        });
        for (&i, ok) in candidates.iter().zip(verdicts) {
            if !ok {
                codes[i] = ReportCode::BadSignature;
            }
        }
        // Sequence and rate limit, in request order, for valid reports only.
        {
            let mut assets = ingest.assets.lock().expect("invariant: ingest lock is never poisoned");
            let burst_micro = u64::from(cfg.burst) * 1_000_000;
            for (r, code) in reports.iter().zip(codes.iter_mut()) {
                if *code != ReportCode::Accepted {
                    continue;
                }
                let Some(e) = assets.get_mut(&r.report.asset) else { continue };
                let seq = r.report.seq;
                if let Some(last) = e.last_seq {
                    if seq == last {
                        *code = ReportCode::Duplicate;
                        continue;
                    }
                    if seq < last {
                        *code = ReportCode::StaleSequence;
                        continue;
                    }
                }
                // Token bucket in millionths of a report: `rate_per_minute` per 60,000 ms.
                let elapsed = now_ms.saturating_sub(e.refilled_ms);
                let refill = elapsed.saturating_mul(u64::from(cfg.rate_per_minute)).saturating_mul(1_000_000) / 60_000;
                e.tokens_micro = e.tokens_micro.saturating_add(refill).min(burst_micro);
                e.refilled_ms = now_ms.max(e.refilled_ms);
                if e.tokens_micro < 1_000_000 {
                    *code = ReportCode::RateLimited;
                    continue;
                }
                e.tokens_micro -= 1_000_000;
                e.last_seq = Some(seq);
            }
        }
        let mut accepted = Vec::new();
        let mut results = Vec::with_capacity(reports.len());
        let mut records = Vec::new();
        for (i, (r, code)) in reports.into_iter().zip(codes).enumerate() {
            self.inner.metrics.ingested(code);
            records.push((r.report.asset, r.report.seq, code));
            results.push(ReportResult {
                index: u32::try_from(i).expect("invariant: batches are bounded"),
                code,
                message: describe(code).to_string(),
            });
            if code == ReportCode::Accepted {
                accepted.push(r);
            }
        }
        self.remember(now_ms, records);
        if !accepted.is_empty() {
            ingest.in_flight.fetch_add(accepted.len(), Ordering::SeqCst);
            let full = {
                let mut pending = ingest.pending.lock().expect("invariant: ingest lock is never poisoned");
                pending.extend(accepted);
                pending.len() >= MAX_REPORTS_PER_TX
            };
            if full {
                self.flush_telemetry(false);
            }
        }
        self.inner.metrics.ingest_latency(started.elapsed().as_secs_f64());
        Ok(results)
    }

    /// Checks that need no signature: shape, clock, and the asset (cached per asset). With
    /// `Accepted`, the asset's decoded Ed25519 key if it has one.
    fn precheck(
        &self,
        r: &SignedReport,
        params: &TelemetryParams,
        resolution: u8,
        now_ms: u64,
    ) -> Result<(ReportCode, Option<CofactoredKey>), NodeError> {
        let rep = &r.report;
        let refuse = |code| Ok((code, None));
        if rep.version != REPORT_VERSION {
            return refuse(ReportCode::UnsupportedVersion);
        }
        if rep.timestamp_ms.abs_diff(now_ms) > self.inner.config.telemetry.skew_window_ms {
            return refuse(ReportCode::ClockSkew);
        }
        if rep.epoch != params.epoch_of(rep.timestamp_ms) {
            return refuse(ReportCode::WrongEpoch);
        }
        if rep.fix.is_some_and(|f| f.cell.resolution() != resolution) {
            return refuse(ReportCode::BadFix);
        }
        let facts = self.asset_facts(&rep.asset, now_ms)?;
        let Some(facts) = facts else { return refuse(ReportCode::UnknownAsset) };
        if facts.device_key != r.device_key {
            refuse(ReportCode::WrongDeviceKey)
        } else if !facts.in_service {
            refuse(ReportCode::AssetNotInService)
        } else if facts.class != rep.metrics.class() {
            refuse(ReportCode::ClassMismatch)
        } else {
            Ok((ReportCode::Accepted, facts.decoded_key))
        }
    }

    /// The registry facts of an asset, from the cache or the committed state (which also seeds
    /// the asset's sequence from the ledger's last accepted one).
    fn asset_facts(&self, id: &AssetId, now_ms: u64) -> Result<Option<Facts>, NodeError> {
        let ingest = &self.inner.ingest;
        if let Some(f) = ingest.assets.lock().expect("invariant: ingest lock is never poisoned").get(id).and_then(|e| e.facts.clone()) {
            return Ok(Some(f));
        }
        let generation = ingest.generation.load(Ordering::SeqCst);
        let snap = self.inner.chain.ledger().snapshot()?;
        let Some(asset): Option<Asset> = snap.typed(&rkey::asset(id))? else { return Ok(None) };
        let (in_service, _) = crate::monitor::in_service(&snap, &asset)?;
        let head: Option<TelemetryHead> = snap.typed(&telemetry_head_key(id))?;
        let decoded_key = match asset.device_key.scheme() {
            Scheme::Ed25519 => asset.device_key.ed25519_bytes().and_then(|b| CofactoredKey::from_bytes(&b)),
            Scheme::MlDsa65 | Scheme::Hybrid => None,
        };
        let facts = Facts { device_key: asset.device_key, decoded_key, class: asset.capacity.class(), in_service };
        let burst_micro = u64::from(self.inner.config.telemetry.burst) * 1_000_000;
        let mut map = ingest.assets.lock().expect("invariant: ingest lock is never poisoned");
        let e = map.entry(*id).or_insert_with(|| AssetEdge {
            facts: None,
            last_seq: head.as_ref().map(|h| h.seq),
            tokens_micro: burst_micro,
            refilled_ms: now_ms,
        });
        if ingest.generation.load(Ordering::SeqCst) == generation {
            e.facts = Some(facts.clone());
        }
        Ok(Some(facts))
    }

    fn remember(&self, now_ms: u64, records: Vec<(AssetId, u64, ReportCode)>) {
        let cap = self.inner.config.telemetry.recent_results;
        let mut recent = self.inner.ingest.recent.lock().expect("invariant: ingest lock is never poisoned");
        for (asset, seq, code) in records {
            let rec = IngestRecord { cursor: recent.next, at_ms: now_ms, asset, seq, code, message: describe(code).to_string() };
            recent.next += 1;
            if code != ReportCode::Accepted {
                if !recent.by_asset.contains_key(&asset) {
                    if recent.asset_order.len() >= MAX_REJECTION_ASSETS
                        && let Some(old) = recent.asset_order.pop_front()
                    {
                        recent.by_asset.remove(&old);
                    }
                    recent.asset_order.push_back(asset);
                }
                let list = recent.by_asset.entry(asset).or_default();
                if list.len() >= REJECTIONS_PER_ASSET {
                    list.pop_front();
                }
                list.push_back(rec.clone());
            }
            if recent.items.len() >= cap {
                recent.items.pop_front();
            }
            recent.items.push_back(rec);
        }
    }

    /// Recent ingest results after `after` (a cursor), oldest first, at most `limit`; with
    /// `asset`, only that asset's.
    pub fn recent_reports(&self, asset: Option<&AssetId>, after: Option<u64>, limit: usize) -> Vec<IngestRecord> {
        let recent = self.inner.ingest.recent.lock().expect("invariant: ingest lock is never poisoned");
        recent
            .items
            .iter()
            .filter(|r| after.is_none_or(|a| r.cursor > a) && asset.is_none_or(|id| &r.asset == id))
            .take(limit)
            .cloned()
            .collect()
    }

    /// The latest refusals of an asset's reports at this node's edge, newest last.
    pub fn rejections(&self, asset: &AssetId) -> Vec<IngestRecord> {
        let recent = self.inner.ingest.recent.lock().expect("invariant: ingest lock is never poisoned");
        recent.by_asset.get(asset).map(|l| l.iter().cloned().collect()).unwrap_or_default()
    }

    /// Pack waiting reports into `SubmitTelemetry` transactions and admit them; with `all`,
    /// also a last partial batch (the periodic flush), otherwise only full ones.
    pub fn flush_telemetry(&self, all: bool) {
        let _one_flusher = self.inner.ingest.flushing.lock().expect("invariant: ingest lock is never poisoned");
        loop {
            let batch: Vec<SignedReport> = {
                let mut pending = self.inner.ingest.pending.lock().expect("invariant: ingest lock is never poisoned");
                if pending.is_empty() || (!all && pending.len() < MAX_REPORTS_PER_TX) {
                    return;
                }
                let n = pending.len().min(MAX_REPORTS_PER_TX);
                pending.drain(..n).collect()
            };
            let n = batch.len();
            if let Err((e, reports)) = self.submit_telemetry_batch(batch) {
                tracing::debug!(error = %e, n, "telemetry batch not admitted yet; retrying on the next flush");
                let mut pending = self.inner.ingest.pending.lock().expect("invariant: ingest lock is never poisoned");
                for r in reports.into_iter().rev() {
                    pending.push_front(r);
                }
                return;
            }
        }
    }

    fn submit_telemetry_batch(&self, reports: Vec<SignedReport>) -> Result<(), (crate::SubmitError, Vec<SignedReport>)> {
        let body = TxBody::SubmitTelemetry { reports };
        // The edge verified every report with the ledger's own predicate (cofactored, M-2): admit the
        // node's transaction without verifying the reports again.
        match self.submit_as_node_verified(body.clone()) {
            Ok(_) => Ok(()),
            Err(e) => match body {
                TxBody::SubmitTelemetry { reports } => Err((e, reports)),
                _ => unreachable!("built above"),
            },
        }
    }
}
