//! Market transactions: prices (K-2), credits (K-3), workloads (K-4 to K-6), provider notice
//! (K-8) and parameters (K-1).

use depin_types::asset::{AssetId, AssetStatus};
use depin_types::codec::encode;
use depin_types::market::{
    consumer_workload_key, offers_key, price_key, EscrowNotice, LeaseState, MarketParams, PriceSheet, Workload,
    WorkloadSpec, WorkloadState, MARKET_PARAMS_KEY, MAX_OFFERS_PER_CLASS, MAX_PENDING_WORKLOADS,
};
use depin_types::state_key::REGISTRY_PARAMS_KEY;
use depin_types::{Address, Amount, RejectReason};

use super::{sorted_insert, sorted_remove};
use crate::machine::BlockContext;
use crate::overlay::{Overlay, StateRead, StorageFault};

type Outcome = Result<Result<(), RejectReason>, StorageFault>;

fn invalid(problem: impl Into<String>) -> Outcome {
    Ok(Err(RejectReason::InvalidMarketInput { problem: problem.into() }))
}

/// Rule K-2: the asset's owner or manager publishes (or withdraws) its prices.
pub fn set_price<R: StateRead + ?Sized>(
    st: &mut Overlay<'_, R>,
    sender: &Address,
    asset: &AssetId,
    sheet: Option<&PriceSheet>,
) -> Outcome {
    let Some(a) = st.asset(asset)? else { return Ok(Err(RejectReason::UnknownAsset { asset: *asset })) };
    if &a.owner != sender && a.manager.as_ref() != Some(sender) {
        return Ok(Err(RejectReason::NotOwnerOrManager { asset: *asset }));
    }
    if a.status == AssetStatus::Decommissioned {
        return Ok(Err(RejectReason::AssetDecommissioned { asset: *asset }));
    }
    let class = a.capacity.class();
    let mut offers = st.offers(class)?;
    match sheet {
        Some(sheet) => {
            if let Err(p) = sheet.per_dim(class) {
                return invalid(p);
            }
            if offers.binary_search(asset).is_err() && offers.len() >= MAX_OFFERS_PER_CLASS {
                return Ok(Err(RejectReason::MarketFull { limit: format!("{MAX_OFFERS_PER_CLASS} priced assets per class") }));
            }
            sorted_insert(&mut offers, *asset);
            st.put(price_key(asset), encode(sheet));
        }
        None => {
            sorted_remove(&mut offers, asset);
            st.delete(price_key(asset));
        }
    }
    st.put(offers_key(class), encode(&offers));
    // New prices may let waiting workloads fit (running leases keep their price).
    let mut book = st.book()?;
    book.dirty = true;
    st.set_book(&book);
    Ok(Ok(()))
}

/// Rule K-3: burn native tokens for credits at the price parameter.
pub fn mint_credits<R: StateRead + ?Sized>(st: &mut Overlay<'_, R>, sender: &Address, amount: Amount) -> Outcome {
    let params = st.market_params()?;
    let credits = match params.credits_for(amount) {
        Some(c) if c > Amount::ZERO => c,
        Some(_) => return invalid("amount too small to mint one credit at the current price"),
        None => return invalid("amount too large"),
    };
    if let Err(r) = crate::accounts::burn(st, sender, amount)? {
        return Ok(Err(r));
    }
    st.add_credits(sender, credits)?;
    let mut book = st.book()?;
    book.credits_minted = book.credits_minted.checked_add(credits).expect("invariant: minted credits fit in u128");
    st.set_book(&book);
    Ok(Ok(()))
}

/// Move `amount` credits from `who` into an escrow (rules K-4, K-5).
fn take_credits<R: StateRead + ?Sized>(
    st: &mut Overlay<'_, R>,
    who: &Address,
    amount: Amount,
) -> Result<Result<(), RejectReason>, StorageFault> {
    let balance = st.credits(who)?;
    let Some(left) = balance.checked_sub(amount) else {
        return Ok(Err(RejectReason::InsufficientCredits { balance, amount }));
    };
    st.set_credits(who, left);
    Ok(Ok(()))
}

/// Rule K-4: a consumer submits a workload with a deposit covering `min_escrow_epochs` at its
/// maximum price; it waits in the queue for the next allocation round.
pub fn submit_workload<R: StateRead + ?Sized>(
    st: &mut Overlay<'_, R>,
    sender: &Address,
    ctx: &BlockContext,
    spec: &WorkloadSpec,
    deposit: Amount,
) -> Outcome {
    let registry: depin_types::asset::RegistryParams = st
        .typed(REGISTRY_PARAMS_KEY)?
        .ok_or_else(|| StorageFault("registry parameters missing: state has no genesis".into()))?;
    if let Err(p) = spec.validate(registry.location_resolution) {
        return invalid(p);
    }
    let params = st.market_params()?;
    let per_epoch = spec.max_price.0 * u128::from(spec.replicas);
    let needed = Amount(per_epoch * u128::from(params.min_escrow_epochs));
    if deposit < needed {
        return invalid(format!(
            "deposit {deposit} is below max_price × replicas × min_escrow_epochs = {needed} credits"
        ));
    }
    let mut queue = st.queue()?;
    if queue.len() >= MAX_PENDING_WORKLOADS {
        return Ok(Err(RejectReason::MarketFull { limit: format!("{MAX_PENDING_WORKLOADS} workloads waiting") }));
    }
    if let Err(r) = take_credits(st, sender, deposit)? {
        return Ok(Err(r));
    }
    let mut book = st.book()?;
    book.last_workload += 1;
    book.dirty = true;
    st.set_book(&book);
    let w = Workload {
        id: book.last_workload,
        consumer: *sender,
        spec: spec.clone(),
        escrow: deposit,
        state: WorkloadState::Pending,
        submitted_height: ctx.height,
        start_epoch: None,
        leases: Vec::new(),
        spent: Amount::ZERO,
        credited: Amount::ZERO,
        unplaced: None,
        escrow_notice: EscrowNotice::Ok,
        avoid: Vec::new(),
        to_replace: Vec::new(),
    };
    st.put_workload(&w);
    st.put(consumer_workload_key(sender, w.id), Vec::new());
    sorted_insert(&mut queue, w.id);
    st.set_queue(&queue);
    Ok(Ok(()))
}

/// Load a workload its consumer may act on (rules K-5, K-6).
fn own_workload<R: StateRead + ?Sized>(
    st: &Overlay<'_, R>,
    sender: &Address,
    id: u64,
) -> Result<Result<Workload, RejectReason>, StorageFault> {
    let Some(w) = st.workload(id)? else { return Ok(Err(RejectReason::UnknownWorkload { id })) };
    if &w.consumer != sender {
        return Ok(Err(RejectReason::NotConsumer));
    }
    if matches!(w.state, WorkloadState::Closed { .. }) {
        return Ok(Err(RejectReason::AlreadyClosed));
    }
    Ok(Ok(w))
}

/// Rule K-5: add credits to a workload's escrow (it lifts a low or overdrawn notice at the
/// next settlement).
pub fn top_up<R: StateRead + ?Sized>(st: &mut Overlay<'_, R>, sender: &Address, id: u64, amount: Amount) -> Outcome {
    if amount == Amount::ZERO {
        return Ok(Err(RejectReason::ZeroAmount));
    }
    let mut w = match own_workload(st, sender, id)? {
        Ok(w) => w,
        Err(r) => return Ok(Err(r)),
    };
    if let Err(r) = take_credits(st, sender, amount)? {
        return Ok(Err(r));
    }
    w.escrow = w.escrow.checked_add(amount).expect("invariant: escrow is bounded by minted credits");
    st.put_workload(&w);
    Ok(Ok(()))
}

/// Rule K-6: the consumer cancels: leases close, the escrow returns to its credits.
pub fn cancel_workload<R: StateRead + ?Sized>(
    st: &mut Overlay<'_, R>,
    sender: &Address,
    ctx: &BlockContext,
    id: u64,
) -> Outcome {
    let w = match own_workload(st, sender, id)? {
        Ok(w) => w,
        Err(r) => return Ok(Err(r)),
    };
    super::epoch::close_workload(st, ctx.height, w, depin_types::market::CloseReason::CancelledByConsumer)?;
    Ok(Ok(()))
}

/// Rule K-8: the asset's owner or manager gives notice on a lease; it closes when the notice
/// period ends and its replica is re-placed elsewhere.
pub fn end_lease<R: StateRead + ?Sized>(
    st: &mut Overlay<'_, R>,
    sender: &Address,
    ctx: &BlockContext,
    id: u64,
) -> Outcome {
    let Some(mut lease) = st.lease(id)? else { return Ok(Err(RejectReason::UnknownLease { id })) };
    let Some(asset) = st.asset(&lease.asset)? else {
        return Err(StorageFault(format!("lease {id} names a missing asset")));
    };
    if &asset.owner != sender && asset.manager.as_ref() != Some(sender) {
        return Ok(Err(RejectReason::NotProvider));
    }
    if !matches!(lease.state, LeaseState::Placed | LeaseState::Active) {
        return Ok(Err(RejectReason::AlreadyClosed));
    }
    let tparams = st.telemetry_params()?;
    let params = st.market_params()?;
    let epoch = tparams.epoch_of(ctx.timestamp_ms);
    lease.state = LeaseState::Ending { at_epoch: epoch + 1 + u64::from(params.provider_notice_epochs) };
    st.put_lease(&lease);
    Ok(Ok(()))
}

/// Rule K-1: a validator sets the market parameters (until governance exists).
pub fn set_params<R: StateRead + ?Sized>(st: &mut Overlay<'_, R>, sender: &Address, params: &MarketParams) -> Outcome {
    if !st.is_validator(sender)? {
        return Ok(Err(RejectReason::NotPrivileged));
    }
    if let Err(problem) = params.validate() {
        return Ok(Err(RejectReason::InvalidParams { problem }));
    }
    st.put(MARKET_PARAMS_KEY.to_vec(), encode(params));
    Ok(Ok(()))
}
