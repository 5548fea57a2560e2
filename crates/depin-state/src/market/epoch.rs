//! End of block: settle whole epochs (K-9), close ended, failed and overdrawn leases (K-8,
//! K-10, K-11), then run an allocation round (K-7).

use depin_types::asset::AssetId;
use depin_types::codec::encode;
use depin_types::market::{
    asset_lease_key, capacity_units, metered_unit, CloseReason, EscrowNotice, Lease, LeaseState, MarketEvent,
    MarketParams, Workload, WorkloadState, MAX_REPLICAS,
};
use depin_types::telemetry::TelemetryParams;
use depin_types::Amount;

use super::{sorted_insert, sorted_remove};
use crate::machine::BlockContext;
use crate::overlay::{Overlay, StateRead, StorageFault};
use crate::telemetry::{read_epoch, read_head};

/// Most epochs settled in one block (a chain that stood still catches up over several blocks).
const MAX_SETTLE_EPOCHS_PER_BLOCK: u64 = 4;

/// Run the market's time-driven rules after a block's transactions.
pub fn end_block<R: StateRead + ?Sized>(st: &mut Overlay<'_, R>, ctx: &BlockContext) -> Result<(), StorageFault> {
    let tparams = st.telemetry_params()?;
    let params = st.market_params()?;
    let mut book = st.book()?;
    let before = book;
    let epoch = tparams.epoch_of(ctx.timestamp_ms);
    let bucket = ctx.timestamp_ms / tparams.bucket_ms();
    if book.settled_epoch == 0 {
        // Nothing was leased before the market's first block: start settling from here.
        book.settled_epoch = epoch.saturating_sub(1);
    }
    let mut settled = 0;
    while book.settled_epoch + 1 < epoch && settled < MAX_SETTLE_EPOCHS_PER_BLOCK {
        book.settled_epoch += 1;
        settled += 1;
        st.set_book(&book);
        settle_epoch(st, ctx, &tparams, &params, book.settled_epoch)?;
        book = st.book()?;
    }
    if bucket != book.checked_bucket {
        // A new time bucket: look for failed assets, and retry what waits (uptime changed).
        book.checked_bucket = bucket;
        book.dirty = true;
        st.set_book(&book);
        failover(st, ctx, &tparams)?;
        book = st.book()?;
    }
    if book.dirty {
        book.dirty = false;
        st.set_book(&book);
        if !st.queue()?.is_empty() {
            super::place::round(st, ctx, &tparams, &params)?;
        }
        book = st.book()?;
    }
    if book != before {
        st.set_book(&book);
    }
    Ok(())
}

/// Uptime an asset proved in `epoch`, per mille of the epoch's buckets (rule K-9).
fn proven_permille<R: StateRead + ?Sized>(
    st: &Overlay<'_, R>,
    tparams: &TelemetryParams,
    asset: &AssetId,
    epoch: u64,
) -> Result<u64, StorageFault> {
    let agg = read_epoch(st, read_head(st, asset)?.as_ref(), asset, epoch)?;
    Ok(agg.map_or(0, |a| u64::from(a.heartbeat_buckets()) * 1_000 / u64::from(tparams.buckets_per_epoch)))
}

/// Rule K-9: the metered units lease `lease` is charged for in epoch `e`: its asset's served
/// amount in the class's metered unit, times the lease's share of the asset's first
/// dimension (reserved over capacity), rounded down.
fn metered_units<R: StateRead + ?Sized>(
    st: &Overlay<'_, R>,
    lease: &Lease,
    e: u64,
) -> Result<u128, StorageFault> {
    let asset = st.asset(&lease.asset)?.ok_or_else(|| StorageFault("leased asset missing".into()))?;
    let Some((_, per_unit)) = metered_unit(asset.capacity.class()) else { return Ok(0) };
    let cap = u128::from(capacity_units(&asset.capacity)[0]);
    let agg = read_epoch(st, read_head(st, &lease.asset)?.as_ref(), &lease.asset, e)?;
    let served = agg.map_or(0, |a| a.served);
    Ok(served.saturating_mul(u128::from(lease.reserved[0])).checked_div(cap.saturating_mul(per_unit)).unwrap_or(0))
}

/// Rule K-9: settle epoch `e` for every open lease placed before it, then close what
/// completed, ended or stayed overdrawn (K-8, K-10).
fn settle_epoch<R: StateRead + ?Sized>(
    st: &mut Overlay<'_, R>,
    ctx: &BlockContext,
    tparams: &TelemetryParams,
    params: &MarketParams,
    e: u64,
) -> Result<(), StorageFault> {
    let open = st.open_leases()?;
    let mut workloads: Vec<u64> = Vec::new();
    for id in open {
        let mut lease = st.lease(id)?.ok_or_else(|| StorageFault(format!("open lease {id} missing")))?;
        if lease.placed_epoch >= e {
            sorted_insert(&mut workloads, lease.workload);
            continue; // billing starts with the first whole epoch
        }
        let mut w = st.workload(lease.workload)?.ok_or_else(|| StorageFault("lease without workload".into()))?;
        let due = lease.price;
        let proven = proven_permille(st, tparams, &lease.asset, e)?;
        let sla_met = proven >= u64::from(w.spec.sla_uptime_permille);
        let earned = if sla_met {
            Amount(due.0 * u128::from(proven) / 1_000)
        } else {
            Amount::ZERO // SLA breach: the consumer keeps this epoch's credits
        };
        // Metered use on top, only in an epoch whose service counts.
        let units = if sla_met && lease.metered_price > Amount::ZERO { metered_units(st, &lease, e)? } else { 0 };
        let metered = Amount(units.saturating_mul(lease.metered_price.0));
        let pay = Amount(earned.0.saturating_add(metered.0)).min(w.escrow);
        w.escrow = Amount(w.escrow.0 - pay.0);
        w.spent = Amount(w.spent.0 + pay.0);
        w.credited = Amount(w.credited.0 + (due.0 - earned.0));
        lease.paid = Amount(lease.paid.0 + pay.0);
        lease.credited = Amount(lease.credited.0 + (due.0 - earned.0));
        lease.metered_units = lease.metered_units.saturating_add(u64::try_from(units).unwrap_or(u64::MAX));
        lease.epochs_settled += 1;
        if proven > 0 && lease.state == LeaseState::Placed {
            lease.state = LeaseState::Active;
        }
        if pay > Amount::ZERO {
            pay_provider(st, params, &lease.asset, pay)?;
        }
        st.put_lease(&lease);
        st.put_workload(&w);
        sorted_insert(&mut workloads, lease.workload);
    }
    for wid in workloads {
        let Some(w) = st.workload(wid)? else { continue };
        if matches!(w.state, WorkloadState::Closed { .. }) {
            continue;
        }
        after_settlement(st, ctx, params, e, w)?;
    }
    Ok(())
}

/// Mint the provider's native tokens for `credits` spent (burn-and-mint, rule K-9).
fn pay_provider<R: StateRead + ?Sized>(
    st: &mut Overlay<'_, R>,
    params: &MarketParams,
    asset: &AssetId,
    credits: Amount,
) -> Result<(), StorageFault> {
    let owner = st.asset(asset)?.ok_or_else(|| StorageFault("leased asset missing".into()))?.owner;
    let tokens = params.tokens_for(credits).ok_or_else(|| StorageFault("payout overflows".into()))?;
    let mut book = st.book()?;
    book.credits_spent = book.credits_spent.checked_add(credits).expect("invariant: spent <= minted");
    st.set_book(&book);
    if tokens == Amount::ZERO {
        return Ok(());
    }
    let mut account = st.account(&owner)?;
    account.balance = account.balance.checked_add(tokens).ok_or_else(|| StorageFault("balance overflow".into()))?;
    st.set_account(&owner, &account);
    let mut supply = st.supply()?;
    supply.total = supply.total.checked_add(tokens).ok_or_else(|| StorageFault("supply overflow".into()))?;
    supply.minted = supply.minted.checked_add(tokens).ok_or_else(|| StorageFault("supply overflow".into()))?;
    st.set_supply(&supply);
    Ok(())
}

/// After epoch `e` was settled for workload `w`: completion, provider notices that ran out,
/// and the escrow's notice state (rules K-8, K-10).
fn after_settlement<R: StateRead + ?Sized>(
    st: &mut Overlay<'_, R>,
    ctx: &BlockContext,
    params: &MarketParams,
    e: u64,
    mut w: Workload,
) -> Result<(), StorageFault> {
    if w.start_epoch.is_some_and(|s| s + u64::from(w.spec.duration_epochs) <= e + 1) {
        return close_workload(st, ctx.height, w, CloseReason::Completed);
    }
    // Provider notices that end with this epoch.
    let mut requeue = false;
    for lid in w.leases.clone() {
        let lease = st.lease(lid)?.ok_or_else(|| StorageFault("workload lease missing".into()))?;
        if let LeaseState::Ending { at_epoch } = lease.state
            && at_epoch <= e + 1
        {
            close_lease(st, ctx.height, &mut w, lease, CloseReason::EndedByProvider)?;
            requeue = true;
        }
    }
    // Escrow cover for the next epoch at the current prices.
    let per_epoch: u128 = w
        .leases
        .iter()
        .map(|l| st.lease(*l).map(|l| l.map_or(0, |l| l.price.0)))
        .sum::<Result<u128, _>>()?;
    let cover = w.escrow.0.checked_div(per_epoch).unwrap_or(u128::MAX);
    let notice = if cover >= 1 && cover >= u128::from(params.low_escrow_epochs) {
        EscrowNotice::Ok
    } else if cover >= 1 {
        match w.escrow_notice {
            n @ EscrowNotice::Low { .. } => n,
            _ => EscrowNotice::Low { since_epoch: e },
        }
    } else {
        match w.escrow_notice {
            n @ EscrowNotice::Overdrawn { .. } => n,
            _ => EscrowNotice::Overdrawn { since_epoch: e },
        }
    };
    if let EscrowNotice::Overdrawn { since_epoch } = notice
        && e >= since_epoch + u64::from(params.overdraw_grace_epochs)
    {
        return close_workload(st, ctx.height, w, CloseReason::EscrowOverdrawn);
    }
    if notice != w.escrow_notice {
        w.escrow_notice = notice;
        st.event(ctx.height, MarketEvent::Escrow { workload: w.id, notice })?;
    }
    st.put_workload(&w);
    if requeue {
        requeue_workload(st, w.id)?;
    }
    Ok(())
}

/// Rule K-11: at each new time bucket, close the leases whose asset is offline (no report for
/// `offline_after_buckets` buckets since the later of its last report and the placement) or
/// out of service, and queue their replicas for re-placement. The epoch they fail in is not
/// paid: the consumer is credited for the gap.
fn failover<R: StateRead + ?Sized>(
    st: &mut Overlay<'_, R>,
    ctx: &BlockContext,
    tparams: &TelemetryParams,
) -> Result<(), StorageFault> {
    let limit = u64::from(tparams.offline_after_buckets) * tparams.bucket_ms();
    for id in st.open_leases()? {
        let lease = st.lease(id)?.ok_or_else(|| StorageFault(format!("open lease {id} missing")))?;
        let asset = st.asset(&lease.asset)?.ok_or_else(|| StorageFault("leased asset missing".into()))?;
        let reason = if !st.in_service(&asset)? {
            CloseReason::AssetRetired
        } else {
            let head = read_head(st, &lease.asset)?;
            let last = head.map_or(0, |h| h.timestamp_ms).max(lease.placed_ms);
            if ctx.timestamp_ms.saturating_sub(last) < limit {
                continue;
            }
            CloseReason::AssetFailed
        };
        let mut w = st.workload(lease.workload)?.ok_or_else(|| StorageFault("lease without workload".into()))?;
        // The current epoch will not be settled for this lease: credit it now.
        w.credited = Amount(w.credited.0 + lease.price.0);
        let mut lease = lease;
        lease.credited = Amount(lease.credited.0 + lease.price.0);
        close_lease(st, ctx.height, &mut w, lease, reason)?;
        st.put_workload(&w);
        requeue_workload(st, w.id)?;
    }
    Ok(())
}

/// Put a workload back in the allocation queue (it has replicas to re-place).
fn requeue_workload<R: StateRead + ?Sized>(st: &mut Overlay<'_, R>, id: u64) -> Result<(), StorageFault> {
    let mut q = st.queue()?;
    sorted_insert(&mut q, id);
    st.set_queue(&q);
    let mut book = st.book()?;
    book.dirty = true;
    st.set_book(&book);
    Ok(())
}

/// Close one lease of `w`: release its capacity, drop it from the open set, record the event.
/// The caller writes `w`.
pub(super) fn close_lease<R: StateRead + ?Sized>(
    st: &mut Overlay<'_, R>,
    height: u64,
    w: &mut Workload,
    mut lease: Lease,
    reason: CloseReason,
) -> Result<(), StorageFault> {
    lease.state = LeaseState::Closed { reason, height };
    let mut reserved = st.reserved(&lease.asset)?;
    for (r, l) in reserved.iter_mut().zip(lease.reserved) {
        *r = r.checked_sub(l).expect("invariant: a lease's reservation is part of its asset's");
    }
    st.set_reserved(&lease.asset, reserved);
    let mut open = st.open_leases()?;
    sorted_remove(&mut open, &lease.id);
    st.set_open_leases(&open);
    w.leases.retain(|l| *l != lease.id);
    if matches!(reason, CloseReason::AssetFailed | CloseReason::EndedByProvider | CloseReason::AssetRetired) {
        if w.avoid.len() >= usize::from(MAX_REPLICAS) {
            w.avoid.remove(0);
        }
        if !w.avoid.contains(&lease.asset) {
            w.avoid.push(lease.asset);
        }
        if w.to_replace.len() >= usize::from(MAX_REPLICAS) {
            w.to_replace.remove(0);
        }
        w.to_replace.push(lease.id);
    }
    st.put(asset_lease_key(&lease.asset, lease.id), encode(&false));
    st.event(height, MarketEvent::LeaseClosed { workload: w.id, lease: lease.id, asset: lease.asset, reason })?;
    st.put_lease(&lease);
    Ok(())
}

/// Close a workload: its open leases close, it leaves the queue, and its escrow returns to the
/// consumer's credits (rules K-6, K-10).
pub(super) fn close_workload<R: StateRead + ?Sized>(
    st: &mut Overlay<'_, R>,
    height: u64,
    mut w: Workload,
    reason: CloseReason,
) -> Result<(), StorageFault> {
    for lid in w.leases.clone() {
        let lease = st.lease(lid)?.ok_or_else(|| StorageFault("workload lease missing".into()))?;
        close_lease(st, height, &mut w, lease, reason)?;
    }
    let mut q = st.queue()?;
    if q.binary_search(&w.id).is_ok() {
        sorted_remove(&mut q, &w.id);
        st.set_queue(&q);
    }
    let refunded = w.escrow;
    st.add_credits(&w.consumer, refunded)?;
    w.escrow = Amount::ZERO;
    w.state = WorkloadState::Closed { reason, height };
    st.event(height, MarketEvent::WorkloadClosed { workload: w.id, reason, refunded })?;
    st.put_workload(&w);
    Ok(())
}
