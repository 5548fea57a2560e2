//! Rule K-7: an allocation round. Build the allocator's problem from the ledger (priced,
//! in-service, reporting assets with their free capacity and recent uptime; the queued
//! workloads with their running replicas and avoided assets), solve it with `depin-alloc`, and
//! write the leases — or, for what did not fit, the reason.

use std::collections::BTreeMap;

use depin_alloc as alloc;
use depin_types::asset::{Asset, AssetClass, AssetId, AttestationTier, Capacity, EnergySource};
use depin_types::codec::encode;
use depin_types::market::{
    asset_lease_key, capacity_units, price_key, CostTerms, Lease, LeaseState, MarketEvent,
    MarketParams, PriceSheet, UnplacedReason, Workload, WorkloadState, DIMS, MAX_OPEN_LEASES,
};
use depin_types::telemetry::TelemetryParams;
use depin_types::Amount;

use super::sorted_insert;
use crate::machine::BlockContext;
use crate::overlay::{Overlay, StateRead, StorageFault};
use crate::telemetry::{read_epoch, read_head};

/// GPU model names as the allocator's codes (1, 2, … in order of first sight; 0 is "any").
#[derive(Default)]
struct GpuModels(BTreeMap<String, u32>);

impl GpuModels {
    fn code(&mut self, model: &str) -> u32 {
        let next = u32::try_from(self.0.len() + 1).unwrap_or(u32::MAX);
        *self.0.entry(model.to_string()).or_insert(next)
    }

    /// The code of an asset whose GPUs are all of one model; 0 without GPUs or with several
    /// models (their GPUs are one pooled dimension, so a model-specific lease could not be
    /// accounted on them).
    fn of_asset(&mut self, a: &Asset) -> u32 {
        match &a.capacity {
            Capacity::Compute(c) if c.gpus.len() == 1 => self.code(&c.gpus[0].model),
            _ => 0,
        }
    }
}

/// Run one allocation round over the queue.
pub(super) fn round<R: StateRead + ?Sized>(
    st: &mut Overlay<'_, R>,
    ctx: &BlockContext,
    tparams: &TelemetryParams,
    params: &MarketParams,
) -> Result<(), StorageFault> {
    let queue = st.queue()?;
    let mut workloads: Vec<Workload> = Vec::new();
    let mut keep_queue = Vec::new();
    for id in &queue {
        let Some(w) = st.workload(*id)? else { continue };
        if matches!(w.state, WorkloadState::Closed { .. }) || w.leases.len() >= usize::from(w.spec.replicas) {
            continue; // nothing left to place
        }
        keep_queue.push(*id);
        workloads.push(w);
    }
    let mut classes: Vec<AssetClass> = workloads.iter().map(|w| w.spec.class).collect();
    classes.sort();
    classes.dedup();
    // The assets: every priced, in-service, reporting asset of the classes asked for.
    let mut assets: Vec<alloc::Asset> = Vec::new();
    let mut ids: Vec<AssetId> = Vec::new();
    let mut index: BTreeMap<AssetId, u32> = BTreeMap::new();
    let mut owners: BTreeMap<depin_types::Address, u64> = BTreeMap::new();
    let mut models = GpuModels::default();
    for class in classes {
        for id in st.offers(class)? {
            let Some(a) = st.asset(&id)? else { continue };
            let Some(sheet) = st.typed::<PriceSheet>(&price_key(&id))? else { continue };
            if !st.in_service(&a)? || !reporting(st, tparams, &id, ctx.timestamp_ms)? {
                continue;
            }
            let price = sheet.per_dim(class).unwrap_or([u64::MAX; DIMS]);
            let reserved = st.reserved(&id)?;
            let cap = capacity_units(&a.capacity);
            let mut free = [0u64; DIMS];
            for d in 0..DIMS {
                free[d] = cap[d].saturating_sub(reserved[d]);
            }
            let n_owners = owners.len() as u64;
            let owner = *owners.entry(a.owner).or_insert(n_owners);
            let uptime = recent_uptime(st, tparams, params, &id, ctx.timestamp_ms)?;
            let (green, source) = energy(&a);
            index.insert(id, assets.len() as u32);
            ids.push(id);
            assets.push(alloc::Asset {
                id: assets.len() as u64,
                class: class_code(class),
                owner,
                cell: a.location.to_u64(),
                free,
                price,
                min_lease_epochs: sheet.min_lease_epochs,
                tier: tier(&a),
                uptime_permille: uptime,
                green,
                energy_source: source,
                gpu_model: models.of_asset(&a),
                metered_price: sheet.metered_price(class),
            });
        }
    }
    // Assets of running replicas that are no longer offered still count for anti-affinity.
    let mut problem_workloads = Vec::with_capacity(workloads.len());
    for w in &workloads {
        let mut placed = Vec::new();
        for lid in &w.leases {
            let lease = st.lease(*lid)?.ok_or_else(|| StorageFault("workload lease missing".into()))?;
            let i = match index.get(&lease.asset) {
                Some(i) => *i,
                None => {
                    let a = st.asset(&lease.asset)?.ok_or_else(|| StorageFault("leased asset missing".into()))?;
                    let n_owners = owners.len() as u64;
                    let owner = *owners.entry(a.owner).or_insert(n_owners);
                    let (green, source) = energy(&a);
                    let i = assets.len() as u32;
                    index.insert(a.id, i);
                    ids.push(a.id);
                    assets.push(alloc::Asset {
                        id: u64::from(i),
                        class: class_code(a.capacity.class()),
                        owner,
                        cell: a.location.to_u64(),
                        free: [0; DIMS],
                        price: [u64::MAX; DIMS],
                        min_lease_epochs: u32::MAX,
                        tier: tier(&a),
                        uptime_permille: 0,
                        green,
                        energy_source: source,
                        gpu_model: models.of_asset(&a),
                        metered_price: u64::MAX,
                    });
                    i
                }
            };
            placed.push(i);
        }
        let exclude = w.avoid.iter().filter_map(|a| index.get(a).copied()).collect();
        let per_replica = w.spec.per_replica().map_err(|e| StorageFault(format!("stored workload invalid: {e}")))?;
        problem_workloads.push(alloc::Workload {
            id: w.id,
            class: class_code(w.spec.class),
            gpu_model: w.spec.gpu_model.as_deref().map_or(0, |m| models.code(m)),
            per_replica,
            replicas: w.spec.replicas - w.leases.len() as u16,
            placed,
            exclude,
            regions: w.spec.regions.iter().map(|c| c.to_u64()).collect(),
            near: w.spec.near.map(|n| alloc::Near { cell: n.cell.to_u64(), max_m: n.max_m }),
            distinct_owners: w.spec.anti_affinity.distinct_owners,
            distinct_cells_res: w.spec.anti_affinity.distinct_cells_res,
            distinct_energy: w.spec.anti_affinity.distinct_energy,
            min_tier: match w.spec.min_tier {
                depin_types::market::MinTier::SelfDeclared => 0,
                depin_types::market::MinTier::VendorAttested => 1,
            },
            min_uptime_permille: w.spec.min_uptime_permille,
            green_only: w.spec.green_only,
            duration_epochs: w.spec.duration_epochs,
            max_price: u64::try_from(w.spec.max_price.0).unwrap_or(u64::MAX),
            max_metered_price: u64::try_from(w.spec.max_metered_price.0).unwrap_or(u64::MAX),
            all_or_nothing: w.state == WorkloadState::Pending,
        });
    }
    let problem = alloc::Problem {
        assets,
        workloads: problem_workloads,
        cost: alloc::CostParams {
            distance_penalty_per_km: params.distance_penalty_per_km,
            reliability_penalty_per_permille: params.reliability_penalty_per_permille,
        },
    };
    let solution = alloc::solve(&problem);
    let epoch = tparams.epoch_of(ctx.timestamp_ms);
    let mut open = st.open_leases()?;
    let mut book = st.book()?;
    let unplaced: BTreeMap<u32, &alloc::Unplaced> = solution.unplaced.iter().map(|u| (u.workload, u)).collect();
    // The network-wide lease limit takes whole workloads: a workload whose replicas would pass
    // it is left waiting, with its own reason.
    let mut per_workload: BTreeMap<u32, usize> = BTreeMap::new();
    for p in &solution.placements {
        *per_workload.entry(p.workload).or_default() += 1;
    }
    let mut over_limit: Vec<u32> = Vec::new();
    let mut planned = open.len();
    for (w, n) in &per_workload {
        if planned + n > MAX_OPEN_LEASES {
            over_limit.push(*w);
        } else {
            planned += n;
        }
    }
    for p in &solution.placements {
        if over_limit.contains(&p.workload) {
            continue;
        }
        let w = &mut workloads[p.workload as usize];
        let asset_id = ids[p.asset as usize];
        let provider = st.asset(&asset_id)?.ok_or_else(|| StorageFault("placed asset missing".into()))?.owner;
        let reserved = problem.workloads[p.workload as usize].per_replica;
        let mut r = st.reserved(&asset_id)?;
        for d in 0..DIMS {
            r[d] = r[d].checked_add(reserved[d]).expect("invariant: the allocator keeps reservations within capacity");
        }
        st.set_reserved(&asset_id, r);
        book.last_lease += 1;
        let terms = CostTerms { price: p.terms.price, distance: p.terms.distance, reliability: p.terms.reliability };
        let lease = Lease {
            id: book.last_lease,
            workload: w.id,
            consumer: w.consumer,
            asset: asset_id,
            provider,
            reserved,
            price: Amount(u128::from(p.terms.price)),
            terms,
            placed_height: ctx.height,
            placed_ms: ctx.timestamp_ms,
            placed_epoch: epoch,
            state: LeaseState::Placed,
            epochs_settled: 0,
            paid: Amount::ZERO,
            credited: Amount::ZERO,
            replaces: if w.to_replace.is_empty() { None } else { Some(w.to_replace.remove(0)) },
            metered_price: Amount(u128::from(problem.assets[p.asset as usize].metered_price)),
            metered_units: 0,
        };
        st.put_lease(&lease);
        st.put(asset_lease_key(&asset_id, lease.id), encode(&true));
        sorted_insert(&mut open, lease.id);
        w.leases.push(lease.id);
        w.state = WorkloadState::Running;
        w.start_epoch.get_or_insert(epoch);
        st.event(
            ctx.height,
            MarketEvent::Placed { workload: w.id, lease: lease.id, asset: asset_id, terms, replaces: lease.replaces },
        )?;
    }
    st.set_open_leases(&open);
    // A re-placement round over; new workloads' and unplaced ones' reasons.
    let mut still_queued = Vec::new();
    for (i, w) in workloads.iter_mut().enumerate() {
        if over_limit.contains(&(i as u32)) {
            w.unplaced = Some(UnplacedReason {
                code: LEASE_LIMIT.to_string(),
                message: format!("the network holds its maximum of {MAX_OPEN_LEASES} open leases; retried as leases close"),
                placed: w.leases.len() as u16,
                funnel: [0; 10],
                height: ctx.height,
            });
            st.event(ctx.height, MarketEvent::Unplaced { workload: w.id, code: LEASE_LIMIT.to_string() })?;
            still_queued.push(w.id);
            st.put_workload(w);
            continue;
        }
        match unplaced.get(&(i as u32)) {
            Some(u) => {
                let code = why_code(u.why).to_string();
                w.unplaced = Some(UnplacedReason {
                    code: code.clone(),
                    message: u.why.describe().to_string(),
                    placed: w.leases.len() as u16,
                    funnel: funnel(&u.funnel),
                    height: ctx.height,
                });
                st.event(ctx.height, MarketEvent::Unplaced { workload: w.id, code })?;
                still_queued.push(w.id);
            }
            None => w.unplaced = None,
        }
        st.put_workload(w);
    }
    debug_assert!(still_queued.iter().all(|id| keep_queue.contains(id)));
    st.set_queue(&still_queued);
    st.set_book(&book);
    Ok(())
}

/// The reason code of a workload the network-wide open-lease limit keeps waiting.
const LEASE_LIMIT: &str = "lease_limit";

/// True if the asset reported within `offline_after_buckets` buckets (it would be judged
/// offline otherwise, and a lease on it would fail at once).
fn reporting<R: StateRead + ?Sized>(
    st: &Overlay<'_, R>,
    tparams: &TelemetryParams,
    id: &AssetId,
    now_ms: u64,
) -> Result<bool, StorageFault> {
    let head = read_head(st, id)?;
    let limit = u64::from(tparams.offline_after_buckets) * tparams.bucket_ms();
    Ok(head.is_some_and(|h| now_ms.saturating_sub(h.timestamp_ms) < limit))
}

/// Recent uptime, per mille: heartbeat buckets over the buckets elapsed in the last
/// `uptime_window_epochs` epochs (the current one included, counted from the first epoch of
/// the window that has telemetry).
fn recent_uptime<R: StateRead + ?Sized>(
    st: &Overlay<'_, R>,
    tparams: &TelemetryParams,
    params: &MarketParams,
    id: &AssetId,
    now_ms: u64,
) -> Result<u16, StorageFault> {
    let now = tparams.epoch_of(now_ms);
    let per_epoch = u64::from(tparams.buckets_per_epoch);
    let elapsed_now = u64::from(tparams.bucket_of(now_ms)); // the current bucket is still open
    let first = now.saturating_sub(u64::from(params.uptime_window_epochs) - 1);
    let (mut beats, mut total, mut started) = (0u64, 0u64, false);
    let head = read_head(st, id)?;
    for e in first..=now {
        let agg = read_epoch(st, head.as_ref(), id, e)?;
        started |= agg.is_some();
        if !started {
            continue;
        }
        let (b, n) = if e == now {
            let mask = if elapsed_now == 0 { 0 } else { (1u64 << elapsed_now) - 1 };
            (agg.map_or(0, |a| u64::from((a.heartbeats & mask).count_ones())), elapsed_now)
        } else {
            (agg.map_or(0, |a| u64::from(a.heartbeat_buckets())), per_epoch)
        };
        beats += b;
        total += n;
    }
    Ok(match total {
        0 if started => 1_000, // reporting since the current bucket only
        0 => 0,
        t => u16::try_from(beats.min(t) * 1_000 / t).expect("invariant: at most 1000"),
    })
}

fn class_code(c: AssetClass) -> u8 {
    AssetClass::ALL.iter().position(|x| *x == c).expect("invariant: every class is listed") as u8
}

fn tier(a: &Asset) -> u8 {
    match a.tier {
        AttestationTier::SelfDeclared => 0,
        AttestationTier::VendorAttested { .. } => 1,
    }
}

/// Green or not, and a source code for `distinct_energy` (0: unknown).
fn energy(a: &Asset) -> (bool, u8) {
    let source = match &a.capacity {
        Capacity::Energy(c) => Some(c.source),
        _ => a.energy.map(|e| e.source),
    };
    let green = matches!(source, Some(EnergySource::Solar | EnergySource::Wind | EnergySource::Hydro));
    let code = source.map_or(0, |s| match s {
        EnergySource::Solar => 1,
        EnergySource::Wind => 2,
        EnergySource::Hydro => 3,
        EnergySource::Battery => 4,
        EnergySource::Grid => 5,
    });
    (green, code)
}

/// The stable code of a reason (`docs/spec/market.md`).
pub fn why_code(w: alloc::Why) -> &'static str {
    match w {
        alloc::Why::NoAssetOfClass => "no_asset_of_class",
        alloc::Why::OutsideRegion => "outside_region",
        alloc::Why::TooFar => "too_far",
        alloc::Why::TierTooLow => "tier_too_low",
        alloc::Why::UptimeTooLow => "uptime_too_low",
        alloc::Why::NotGreen => "not_green",
        alloc::Why::MinLeaseTooLong => "min_lease_too_long",
        alloc::Why::OverMaxPrice => "over_max_price",
        alloc::Why::NoCapacity => "no_capacity",
        alloc::Why::TooFewDistinct => "too_few_distinct",
        alloc::Why::TakenByCheaper => "taken_by_cheaper",
    }
}

fn funnel(f: &alloc::Funnel) -> [u32; 10] {
    [f.class, f.region, f.distance, f.tier, f.uptime, f.green, f.lease_length, f.price, f.capacity, f.distinct]
}

#[cfg(test)]
mod tests {
    use super::*;
    use depin_types::market::reservable_units;

    #[test]
    fn every_class_sells_at_most_dims_units() {
        for c in AssetClass::ALL {
            assert!(reservable_units(c).len() <= DIMS);
        }
    }
}
