//! Apply a block's transactions in order and produce one receipt per transaction.

use depin_types::{Amount, Params, Receipt, RejectReason, Transaction, TxBody, TxOutcome};

use crate::accounts;
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

/// Execute `txs` against `base`. `sig_ok[i]` is the verdict of `txs[i].signature_ok()`,
/// computed by the caller (in parallel, at the edge); passing anything else is a programmer
/// error on the caller's side, which replay would expose as a different state root.
pub fn apply_txs<R: StateRead + ?Sized>(
    base: &R,
    ctx: &BlockContext,
    txs: &[Transaction],
    sig_ok: &[bool],
) -> Result<Executed, StorageFault> {
    assert_eq!(txs.len(), sig_ok.len(), "invariant: one signature verdict per transaction");
    let _ = ctx; // No account rule depends on time yet; epochs (telemetry, rewards) will.
    let mut st = Overlay::new(base);
    let chain_id = st.chain_id()?;
    let params = st.params()?;
    let mut fees_burned = Amount::ZERO;
    let mut receipts = Vec::with_capacity(txs.len());
    for (tx, &sig_ok) in txs.iter().zip(sig_ok) {
        let id = tx.id();
        let (outcome, fee_paid) = apply_tx(&mut st, &chain_id, &params, tx, sig_ok)?;
        if let TxOutcome::Rejected { reason } = &outcome {
            let expected = if reason.charged() { tx.content.fee } else { Amount::ZERO };
            debug_assert_eq!(fee_paid, expected, "invariant: RejectReason::charged agrees with where the machine charges");
        }
        fees_burned = fees_burned
            .checked_add(fee_paid)
            .expect("invariant: fees are paid from balances, whose sum fits in u128");
        receipts.push(Receipt { tx_id: id, outcome, fee_paid });
    }
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
    tx: &Transaction,
    sig_ok: bool,
) -> Result<(TxOutcome, Amount), StorageFault> {
    let reject = |reason| Ok((TxOutcome::Rejected { reason }, Amount::ZERO));
    let c = &tx.content;
    if !sig_ok {
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
    };
    let outcome = match result {
        Ok(()) => TxOutcome::Applied,
        Err(reason) => TxOutcome::Rejected { reason },
    };
    Ok((outcome, fee_paid))
}
