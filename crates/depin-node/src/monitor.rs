//! Health from telemetry: per-asset and network queries over the ledger's aggregates, and the
//! monitor that turns health transitions into events and alerts.
//!
//! An epoch's figures are the ledger's [`TelemetryEpoch`] (the same on every node); its health
//! is [`judge`], a pure function of that aggregate. A past epoch is judged at its end; "now" is
//! judged at this node's clock, so an asset that stopped reporting turns offline even when no
//! block arrives. The monitor watches every asset whose reports a block carried since the node
//! started, once a second: a change of state is a `health` event, and the `[alerts]` rules
//! (offline longer than X, uptime under Y) raise `alert` events, also POSTed to the webhook.

use std::collections::{BTreeMap, HashMap};
use std::sync::mpsc;

use depin_ledger::StateSnapshot;
use depin_state::{read_telemetry_epoch, read_telemetry_head};
use depin_types::asset::{Asset, AssetClass, AssetId, AssetStatus, AttestationTier, Vendor};
use depin_types::registry_key as rkey;
use depin_types::state_key::telemetry_epochs_prefix;
use depin_types::telemetry::{judge, Health, HealthState, TelemetryEpoch, TelemetryHead, TelemetryParams};
use depin_types::TxBody;
use depin_types::geo::Cell;
use serde::Serialize;

use crate::chain::Committed;
use crate::ingest::{touched_assets, IngestRecord};
use crate::sequencer::now_ms;
use crate::node::{Node, NodeError, NodeEvent};

/// Most epochs one health answer lists.
pub const MAX_HEALTH_EPOCHS: usize = 100;
/// Most assets one network health answer examines (beyond it the answer says `truncated`).
pub const MAX_NETWORK_SCAN: usize = 200_000;
/// Region resolution of the network health answer.
pub const NETWORK_REGION_RESOLUTION: u8 = 4;
/// Longest one webhook POST may take (connect, send, answer): a receiver that hangs must not
/// stall the delivery of every later alert.
pub const WEBHOOK_TIMEOUT_MS: u64 = 10_000;

/// One epoch's health.
#[derive(Clone, Debug, Serialize)]
pub struct EpochHealth {
    /// The epoch.
    pub epoch: u64,
    /// Health and reasons.
    #[serde(flatten)]
    pub health: Health,
    /// Reports accepted in it.
    pub reports: u32,
}

/// An asset's health now and in its last epochs.
#[derive(Clone, Debug, Serialize)]
pub struct AssetHealth {
    /// The asset.
    pub asset: AssetId,
    /// Its class.
    pub class: AssetClass,
    /// Its effective status.
    pub status: AssetStatus,
    /// Now, at this node's clock.
    pub now: EpochHealth,
    /// The last accepted report's device time.
    pub last_report_ms: Option<u64>,
    /// The last accepted sequence number.
    pub last_seq: Option<u64>,
    /// Past epochs with telemetry, newest first (the current one excluded).
    pub epochs: Vec<EpochHealth>,
    /// The latest refusals of its reports at this node's ingest edge, newest last.
    pub rejections: Vec<IngestRecord>,
}

/// Counts by health state.
#[derive(Clone, Debug, Default, Serialize)]
pub struct StateCounts {
    /// Healthy.
    pub healthy: u64,
    /// Degraded.
    pub degraded: u64,
    /// Offline.
    pub offline: u64,
}

impl StateCounts {
    fn add(&mut self, s: HealthState) {
        match s {
            HealthState::Healthy => self.healthy += 1,
            HealthState::Degraded => self.degraded += 1,
            HealthState::Offline => self.offline += 1,
        }
    }
}

/// One region's counts.
#[derive(Clone, Debug, Serialize)]
pub struct RegionHealth {
    /// The region (a cell at [`NETWORK_REGION_RESOLUTION`]).
    pub cell: Cell,
    /// Counts.
    #[serde(flatten)]
    pub counts: StateCounts,
}

/// Health of every registered or active asset.
#[derive(Clone, Debug, Serialize)]
pub struct NetworkHealth {
    /// The current epoch.
    pub epoch: u64,
    /// Assets counted.
    pub assets: u64,
    /// By state.
    pub by_state: StateCounts,
    /// By class (every class listed).
    pub by_class: BTreeMap<&'static str, StateCounts>,
    /// By region.
    pub by_region: Vec<RegionHealth>,
    /// True if more than [`MAX_NETWORK_SCAN`] assets exist and only that many were counted.
    pub truncated: bool,
}

/// A page of an asset's epoch aggregates, newest first.
#[derive(Clone, Debug)]
pub struct TelemetryPage {
    /// (epoch, aggregate).
    pub items: Vec<(u64, TelemetryEpoch)>,
    /// The epoch to pass as `before` for the next page.
    pub next: Option<u64>,
}

/// Whether an asset's reports count (rule M-3) and its effective status: registered or active,
/// and not attested by a revoked vendor (which makes it suspended, as in the registry queries).
pub(crate) fn in_service(snap: &StateSnapshot, asset: &Asset) -> Result<(bool, AssetStatus), NodeError> {
    let mut status = asset.status;
    if let AttestationTier::VendorAttested { vendor } = &asset.tier
        && status != AssetStatus::Decommissioned
    {
        let v: Option<Vendor> = snap.typed(&rkey::vendor(&vendor.address()))?;
        if v.is_none_or(|v| v.revoked) {
            status = AssetStatus::Suspended;
        }
    }
    Ok((matches!(status, AssetStatus::Registered | AssetStatus::Active), status))
}

/// Judge a past epoch at its end; the last report time is the end of its last heartbeat bucket.
fn judge_past(params: &TelemetryParams, epoch: u64, agg: &TelemetryEpoch, serving: bool) -> Health {
    let start = epoch.saturating_mul(params.epoch_ms);
    let last = (agg.heartbeats != 0)
        .then(|| start + (u64::from(63 - agg.heartbeats.leading_zeros()) + 1) * params.bucket_ms() - 1);
    judge(params, epoch, Some(agg), serving, last, start + params.epoch_ms - 1)
}

/// Judge an asset now.
fn judge_now(
    snap: &StateSnapshot,
    params: &TelemetryParams,
    asset: &Asset,
    now: u64,
) -> Result<(EpochHealth, Option<TelemetryHead>, AssetStatus), NodeError> {
    let (serving, status) = in_service(snap, asset)?;
    let epoch = params.epoch_of(now);
    let head = read_telemetry_head(snap, &asset.id)?;
    let agg = read_telemetry_epoch(snap, head.as_ref(), &asset.id, epoch)?;
    let health = judge(params, epoch, agg.as_ref(), serving, head.as_ref().map(|h| h.timestamp_ms), now);
    let reports = agg.map_or(0, |a| a.reports);
    Ok((EpochHealth { epoch, health, reports }, head, status))
}

impl Node {
    /// An asset's health now and in up to `epochs` past epochs; `None` if no such asset.
    pub fn asset_health(&self, id: &AssetId, epochs: usize) -> Result<Option<AssetHealth>, NodeError> {
        let snap = self.inner.chain.ledger().snapshot()?;
        let Some(asset): Option<Asset> = snap.typed(&rkey::asset(id))? else { return Ok(None) };
        let (params, _) = self.telemetry_params()?;
        let now = now_ms();
        let (current, head, status) = judge_now(&snap, &params, &asset, now)?;
        let (serving, _) = in_service(&snap, &asset)?;
        let page = self.telemetry_page_in(&snap, id, head.as_ref(), Some(current.epoch), epochs.min(MAX_HEALTH_EPOCHS))?;
        let past = page
            .items
            .iter()
            .map(|(e, agg)| EpochHealth { epoch: *e, health: judge_past(&params, *e, agg, serving), reports: agg.reports })
            .collect();
        Ok(Some(AssetHealth {
            asset: *id,
            class: asset.capacity.class(),
            status,
            now: current,
            last_report_ms: head.as_ref().map(|h| h.timestamp_ms),
            last_seq: head.as_ref().map(|h| h.seq),
            epochs: past,
            rejections: self.rejections(id),
        }))
    }

    /// An asset's epoch aggregates, newest first, before epoch `before` (exclusive; `None`:
    /// from the newest), at most `limit`.
    pub fn telemetry_page(&self, id: &AssetId, before: Option<u64>, limit: usize) -> Result<TelemetryPage, NodeError> {
        let snap = self.inner.chain.ledger().snapshot()?;
        let head = read_telemetry_head(&snap, id)?;
        self.telemetry_page_in(&snap, id, head.as_ref(), before, limit)
    }

    /// [`Node::telemetry_page`] in `snap`, where `head` is the asset's telemetry head.
    fn telemetry_page_in(
        &self,
        snap: &StateSnapshot,
        id: &AssetId,
        head: Option<&TelemetryHead>,
        before: Option<u64>,
        limit: usize,
    ) -> Result<TelemetryPage, NodeError> {
        // Epoch keys are big-endian: scan forward and keep the last `limit` before `before`.
        // Retained epochs per asset are few (one per epoch of activity), so a forward scan of
        // the asset's prefix is bounded by its age in epochs.
        let prefix = telemetry_epochs_prefix(id);
        let mut all: Vec<(u64, TelemetryEpoch)> = Vec::new();
        let mut after: Option<Vec<u8>> = None;
        loop {
            let batch = snap.scan(&prefix, after.as_deref(), 1_000)?;
            let n = batch.len();
            for (k, v) in batch {
                let Some(epoch_bytes) = k.get(prefix.len()..).and_then(|b| <[u8; 8]>::try_from(b).ok()) else { continue };
                let epoch = u64::from_be_bytes(epoch_bytes);
                if before.is_some_and(|b| epoch >= b) {
                    continue;
                }
                let agg = depin_types::codec::decode_bounded(&v, v.len())
                    .map_err(|e| NodeError::Storage(format!("telemetry aggregate: {e}")))?;
                all.push((epoch, agg));
                after = Some(k);
            }
            if n < 1_000 {
                break;
            }
        }
        // The head's epoch is not under its key: its aggregate is in the head.
        if let Some(head) = head.filter(|h| before.is_none_or(|b| h.epoch < b)) {
            let at = all.partition_point(|(e, _)| *e < head.epoch);
            all.insert(at, (head.epoch, head.open.clone()));
        }
        all.reverse();
        let more = all.len() > limit;
        all.truncate(limit);
        let next = if more { all.last().map(|(e, _)| *e) } else { None };
        Ok(TelemetryPage { items: all, next })
    }

    /// Health of every registered or active asset now, by state, class and region.
    pub fn network_health(&self) -> Result<NetworkHealth, NodeError> {
        let snap = self.inner.chain.ledger().snapshot()?;
        let (params, _) = self.telemetry_params()?;
        let now = now_ms();
        let mut by_state = StateCounts::default();
        let mut by_class: BTreeMap<&'static str, StateCounts> =
            AssetClass::ALL.iter().map(|c| (c.name(), StateCounts::default())).collect();
        let mut regions: BTreeMap<Cell, StateCounts> = BTreeMap::new();
        let mut assets = 0u64;
        let mut truncated = false;
        'statuses: for status in [AssetStatus::Registered, AssetStatus::Active] {
            let prefix = rkey::status_prefix(status);
            let mut after: Option<Vec<u8>> = None;
            loop {
                let batch = snap.scan(&prefix, after.as_deref(), 1_000)?;
                let n = batch.len();
                for (k, _) in batch {
                    if assets as usize >= MAX_NETWORK_SCAN {
                        truncated = true;
                        break 'statuses;
                    }
                    let Some(id) = rkey::id_of_index_key(&k) else { continue };
                    after = Some(k);
                    let Some(asset): Option<Asset> = snap.typed(&rkey::asset(&id))? else { continue };
                    let (h, _, _) = judge_now(&snap, &params, &asset, now)?;
                    assets += 1;
                    by_state.add(h.health.state);
                    if let Some(c) = by_class.get_mut(asset.capacity.class().name()) {
                        c.add(h.health.state);
                    }
                    if let Some(region) = asset.location.parent(NETWORK_REGION_RESOLUTION) {
                        regions.entry(region).or_default().add(h.health.state);
                    }
                }
                if n < 1_000 {
                    break;
                }
            }
        }
        let by_region = regions.into_iter().map(|(cell, counts)| RegionHealth { cell, counts }).collect();
        Ok(NetworkHealth { epoch: params.epoch_of(now), assets, by_state, by_class, by_region, truncated })
    }

    /// After a block: count this node's committed reports, forget changed registry facts, and
    /// watch the assets whose reports it carried.
    pub(crate) fn telemetry_after_commit(&self, committed: &Committed) {
        let me = self.inner.chain.public_key().map(|k| k.address());
        let mut watch = Vec::new();
        for (tx, receipt) in committed.block.txs.iter().zip(&committed.receipts) {
            if let TxBody::SubmitTelemetry { reports } = &tx.content.body {
                if Some(tx.content.sender()) == me {
                    self.inner.ingest.committed(reports.len());
                }
                if receipt.applied() {
                    watch.extend(reports.iter().map(|r| r.report.asset));
                }
                continue;
            }
            if receipt.applied() {
                let touched = touched_assets(tx);
                self.inner.ingest.invalidate(touched.as_deref());
            }
        }
        if !watch.is_empty() {
            let mut m = self.inner.monitor.lock().expect("invariant: monitor lock is never poisoned");
            for id in watch {
                m.watched.entry(id).or_default();
            }
        }
    }

    /// Watch every asset that ever reported (the ledger's telemetry heads), so that one that
    /// went silent while the node was down is still judged, and alerted on, after a restart.
    fn watch_reporting_assets(&self) -> Result<(), NodeError> {
        const MAX_SEEDED: usize = 1_000_000;
        let snap = self.inner.chain.ledger().snapshot()?;
        let mut after: Option<Vec<u8>> = None;
        let mut ids = Vec::new();
        while ids.len() < MAX_SEEDED {
            let page = snap.scan(b"t/h/", after.as_deref(), 10_000)?;
            let Some((last, _)) = page.last() else { break };
            after = Some(last.clone());
            ids.extend(page.iter().filter_map(|(k, _)| {
                <[u8; 32]>::try_from(&k[4..]).ok().map(|b| AssetId(depin_types::Hash32(b)))
            }));
        }
        let mut m = self.inner.monitor.lock().expect("invariant: monitor lock is never poisoned");
        for id in ids {
            m.watched.entry(id).or_default();
        }
        Ok(())
    }

    /// Judge every watched asset now; publish health transitions and alerts.
    pub fn monitor_tick(&self) -> Result<(), NodeError> {
        let ids: Vec<AssetId> = {
            let m = self.inner.monitor.lock().expect("invariant: monitor lock is never poisoned");
            m.watched.keys().copied().collect()
        };
        if ids.is_empty() {
            return Ok(());
        }
        let snap = self.inner.chain.ledger().snapshot()?;
        let (params, _) = self.telemetry_params()?;
        let now = now_ms();
        let height = self.inner.chain.ledger().head().map(|h| h.height).unwrap_or(0);
        let rules = &self.inner.config.alerts;
        let mut events = Vec::new();
        {
            let mut m = self.inner.monitor.lock().expect("invariant: monitor lock is never poisoned");
            for id in ids {
                let Some(asset): Option<Asset> = snap.typed(&rkey::asset(&id))? else { continue };
                let (h, head, _) = judge_now(&snap, &params, &asset, now)?;
                let w = m.watched.entry(id).or_default();
                let state = h.health.state;
                if w.state != Some(state) {
                    events.push(NodeEvent::Health {
                        height,
                        asset: id,
                        from: w.state.map(HealthState::name),
                        to: state.name(),
                        reasons: h.health.reasons.clone(),
                        at_ms: now,
                    });
                    w.state = Some(state);
                    w.offline_alerted = false;
                }
                if state == HealthState::Offline && rules.offline_for_s > 0 && !w.offline_alerted {
                    let since = head.as_ref().map_or(0, |hd| hd.timestamp_ms);
                    let offline_s = now.saturating_sub(since) / 1_000;
                    if offline_s > rules.offline_for_s {
                        w.offline_alerted = true;
                        events.push(NodeEvent::Alert {
                            height,
                            asset: id,
                            rule: "offline",
                            detail: format!("offline for {offline_s} s (rule: more than {} s)", rules.offline_for_s),
                            at_ms: now,
                        });
                    }
                }
                if rules.uptime_below_permille > 0
                    && h.health.uptime_permille < rules.uptime_below_permille
                    && w.uptime_alerted_epoch != Some(h.epoch)
                {
                    w.uptime_alerted_epoch = Some(h.epoch);
                    events.push(NodeEvent::Alert {
                        height,
                        asset: id,
                        rule: "uptime",
                        detail: format!(
                            "uptime {}‰ in epoch {} (rule: under {}‰)",
                            h.health.uptime_permille, h.epoch, rules.uptime_below_permille
                        ),
                        at_ms: now,
                    });
                }
            }
        }
        for e in events {
            if matches!(e, NodeEvent::Alert { .. }) {
                self.inner.metrics.alert();
                if !rules.webhook_url.is_empty() {
                    self.webhook(&e);
                }
            }
            let _ = self.inner.events.send(e);
        }
        Ok(())
    }

    fn webhook(&self, event: &NodeEvent) {
        let m = self.inner.monitor.lock().expect("invariant: monitor lock is never poisoned");
        if let Some(tx) = &m.webhook {
            // A full queue drops the alert for the webhook (the SSE event still goes out).
            let _ = tx.try_send(serde_json::to_value(event).unwrap_or_default());
        }
    }

    /// Start the telemetry thread: flush accepted reports into transactions every
    /// `flush_interval_ms`, run the monitor every second, and deliver webhook alerts.
    pub fn start_telemetry(&self) -> TelemetryHandle {
        if let Err(e) = self.watch_reporting_assets() {
            tracing::warn!(error = %e, "could not list the assets that reported before this start");
        }
        let url = self.inner.config.alerts.webhook_url.clone();
        if !url.is_empty() {
            let (tx, rx) = mpsc::sync_channel::<serde_json::Value>(1_000);
            self.inner.monitor.lock().expect("invariant: monitor lock is never poisoned").webhook = Some(tx);
            std::thread::Builder::new()
                .name("depin-webhook".into())
                .spawn(move || {
                    let agent: ureq::Agent = ureq::Agent::config_builder()
                        .timeout_global(Some(std::time::Duration::from_millis(WEBHOOK_TIMEOUT_MS)))
                        .build()
                        .into();
                    for body in rx {
                        if let Err(e) = agent.post(&url).send_json(&body) {
                            tracing::warn!(error = %e, url = %url, "alert webhook failed");
                        }
                    }
                })
                .expect("invariant: the OS can start one thread");
        }
        let node = self.clone();
        let thread = std::thread::Builder::new()
            .name("depin-telemetry".into())
            .spawn(move || {
                let flush = std::time::Duration::from_millis(node.inner.config.telemetry.flush_interval_ms);
                let mut last_tick = std::time::Instant::now();
                while !node.is_stopping() {
                    std::thread::sleep(flush);
                    node.flush_telemetry(true);
                    if last_tick.elapsed() >= std::time::Duration::from_secs(1) {
                        last_tick = std::time::Instant::now();
                        if let Err(e) = node.monitor_tick() {
                            tracing::error!(error = %e, "health monitor could not read state");
                        }
                    }
                }
            })
            .expect("invariant: the OS can start one thread");
        TelemetryHandle { thread: Some(thread) }
    }
}

/// The telemetry thread; it ends when the node stops.
pub struct TelemetryHandle {
    thread: Option<std::thread::JoinHandle<()>>,
}

impl TelemetryHandle {
    /// Wait for the thread (after [`Node::request_stop`]).
    pub fn join(mut self) {
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[derive(Default)]
struct Watched {
    state: Option<HealthState>,
    offline_alerted: bool,
    uptime_alerted_epoch: Option<u64>,
}

/// The monitor's memory.
#[derive(Default)]
pub(crate) struct Monitor {
    watched: HashMap<AssetId, Watched>,
    webhook: Option<mpsc::SyncSender<serde_json::Value>>,
}
