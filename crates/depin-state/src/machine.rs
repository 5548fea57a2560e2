//! Apply a block's transactions in order and produce one receipt per transaction.

use depin_types::{Amount, Hash32, Params, Receipt, RejectReason, Transaction, TxBody, TxOutcome, Verdict};

use crate::accounts;
use crate::evidence;
use crate::registry;
use crate::telemetry;
use crate::market;
use crate::fees;
use crate::overlay::{ChangeSet, Overlay, StateRead, StorageFault};

/// Block fields the state machine may read. Time enters the machine only here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockContext {
    /// Block height.
    pub height: u64,
    /// Block timestamp (proposer clock, checked strictly increasing by the node's verify step, rule B-2), ms since Unix epoch.
    pub timestamp_ms: u64,
}

/// The result of executing a block: receipts (in transaction order) and state changes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Executed {
    /// One receipt per transaction.
    pub receipts: Vec<Receipt>,
    /// The state changes to commit.
    pub changes: ChangeSet,
}

/// Execute `txs` against `base`. `verdicts[i]` is `txs[i].verdict()`, computed by the caller
/// (in parallel, at the edge); passing anything else is a programmer error on the caller's
/// side, which replay would expose as a different state root.
pub fn apply_txs<R: StateRead + ?Sized>(
    base: &R,
    ctx: &BlockContext,
    txs: &[Transaction],
    verdicts: &[Verdict],
) -> Result<Executed, StorageFault> {
    assert_eq!(txs.len(), verdicts.len(), "invariant: one signature verdict per transaction");
    let mut st = Overlay::new(base);
    registry::release_bonds(&mut st, ctx.height)?; // rule R-10, before the block's transactions
    let chain_id = st.chain_id()?;
    let params = st.params()?;
    let mut fees_burned = Amount::ZERO;
    let mut receipts = Vec::with_capacity(txs.len());
    for (tx, verdict) in txs.iter().zip(verdicts) {
        let id = tx.id();
        let (outcome, fee_paid) = apply_tx(&mut st, &chain_id, &params, ctx, tx, &id, verdict)?;
        if let TxOutcome::Rejected { reason } = &outcome {
            let expected = if reason.charged() { tx.content.fee } else { Amount::ZERO };
            debug_assert_eq!(fee_paid, expected, "invariant: RejectReason::charged agrees with where the machine charges");
        }
        fees_burned = fees_burned
            .checked_add(fee_paid)
            .expect("invariant: fees are paid from balances, whose sum fits in u128");
        receipts.push(Receipt { tx_id: id, outcome, fee_paid });
    }
    market::end_block(&mut st, ctx)?; // rules K-7 to K-11, after the block's transactions
    if fees_burned > Amount::ZERO {
        let supply = st.supply()?;
        st.set_supply(&accounts::burned(supply, fees_burned)); // rule F-3
    }
    Ok(Executed { receipts, changes: st.into_changes() })
}

/// Apply one transaction; returns its outcome and the fee actually charged (recorded where the
/// charge happens, so the burn in rule F-3 can never disagree with the balances).
fn apply_tx<R: StateRead + ?Sized>(
    st: &mut Overlay<'_, R>,
    chain_id: &str,
    params: &Params,
    ctx: &BlockContext,
    tx: &Transaction,
    id: &Hash32,
    verdict: &Verdict,
) -> Result<(TxOutcome, Amount), StorageFault> {
    let reject = |reason| Ok((TxOutcome::Rejected { reason }, Amount::ZERO));
    let c = &tx.content;
    if !verdict.signature_ok {
        return reject(RejectReason::BadSignature); // rule T-2
    }
    if c.chain_id != chain_id {
        return reject(RejectReason::WrongChainId { expected: chain_id.to_string() }); // rule T-3
    }
    let sender = c.sender();
    let Some(account) = st.existing_account(&sender)? else {
        return reject(RejectReason::UnknownAccount); // rule A-4
    };
    if c.nonce != account.nonce {
        return reject(RejectReason::BadNonce { expected: account.nonce, got: c.nonce }); // rule T-4
    }
    let charged = match fees::charge(account, c.fee, params.min_fee) {
        Ok(a) => a,
        Err(reason) => return reject(reason),
    };
    st.set_account(&sender, &charged); // rule T-5: from here on the fee and nonce are spent
    let fee_paid = c.fee;
    let result = match &c.body {
        TxBody::Transfer { to, amount } => accounts::transfer(st, &sender, to, *amount)?,
        TxBody::Burn { amount } => accounts::burn(st, &sender, *amount)?,
        TxBody::ReportEvidence { evidence: e } => {
            evidence::record(st, chain_id, e, evidence::Reported { by: sender, tx_id: *id, height: ctx.height })?
        }
        body => {
            let at = registry::At { sender, height: ctx.height };
            match body {
                TxBody::RegisterAssets { assets } => registry::register(st, &at, assets, verdict.bad_proof)?,
                TxBody::UpdateAsset { asset, capacity, energy, metadata } => {
                    registry::update(st, &at, asset, capacity.as_ref(), energy.as_ref(), metadata.as_ref())?
                }
                TxBody::AssertLocation { asset, location, mobility } => {
                    registry::assert_location(st, &at, asset, *location, *mobility)?
                }
                TxBody::TransferAsset { asset, to } => registry::transfer(st, &at, asset, to)?,
                TxBody::SetManager { assets, manager } => registry::set_manager(st, &at, assets, manager.as_ref())?,
                TxBody::SetAssetStatus { asset, status } => registry::set_status(st, &at, asset, *status)?,
                TxBody::DecommissionAsset { asset } => registry::decommission(st, &at, asset)?,
                TxBody::AddVendor { name, key } => registry::add_vendor(st, &at, name, key)?,
                TxBody::RevokeVendor { key } => registry::revoke_vendor(st, &at, key)?,
                TxBody::RevokeDevice { device_key } => registry::revoke_device(st, &at, device_key)?,
                TxBody::SetRegistryParams { params } => registry::set_params(st, &at, params)?,
                TxBody::SubmitTelemetry { reports } => {
                    telemetry::submit(st, &sender, ctx, reports, verdict.bad_proof)?
                }
                TxBody::SetTelemetryParams { params } => telemetry::set_params(st, &sender, params)?,
                TxBody::SetPrice { asset, sheet } => market::set_price(st, &sender, asset, sheet.as_ref())?,
                TxBody::MintCredits { amount } => market::mint_credits(st, &sender, *amount)?,
                TxBody::SubmitWorkload { spec, deposit } => market::submit_workload(st, &sender, ctx, spec, *deposit)?,
                TxBody::TopUpEscrow { workload, amount } => market::top_up(st, &sender, *workload, *amount)?,
                TxBody::CancelWorkload { workload } => market::cancel_workload(st, &sender, ctx, *workload)?,
                TxBody::EndLease { lease } => market::end_lease(st, &sender, ctx, *lease)?,
                TxBody::SetMarketParams { params } => market::set_params(st, &sender, params)?,
                TxBody::Transfer { .. } | TxBody::Burn { .. } | TxBody::ReportEvidence { .. } => {
                    unreachable!("handled above")
                }
            }
        }
    };
    let outcome = match result {
        Ok(()) => TxOutcome::Applied,
        Err(reason) => TxOutcome::Rejected { reason },
    };
    Ok((outcome, fee_paid))
}
