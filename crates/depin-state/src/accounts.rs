//! Execute account bodies: transfers (rule A-2) and burns (rule A-3).

use depin_types::state_key::Supply;
use depin_types::{Address, Amount, RejectReason};

use crate::overlay::{Overlay, StateRead, StorageFault};

/// Move `amount` from `from` to `to`. The sender's fee was already charged.
pub fn transfer<R: StateRead + ?Sized>(
    st: &mut Overlay<'_, R>,
    from: &Address,
    to: &Address,
    amount: Amount,
) -> Result<Result<(), RejectReason>, StorageFault> {
    if amount == Amount::ZERO {
        return Ok(Err(RejectReason::ZeroAmount)); // rule A-1
    }
    if from == to {
        return Ok(Err(RejectReason::SelfTransfer)); // rule A-2
    }
    let mut sender = st.account(from)?;
    let Some(new_sender) = sender.balance.checked_sub(amount) else {
        return Ok(Err(RejectReason::InsufficientFunds { balance: sender.balance, amount }));
    };
    let mut recipient = st.account(to)?;
    let Some(new_recipient) = recipient.balance.checked_add(amount) else {
        return Ok(Err(RejectReason::BalanceOverflow));
    };
    sender.balance = new_sender;
    recipient.balance = new_recipient;
    st.set_account(from, &sender);
    st.set_account(to, &recipient);
    Ok(Ok(()))
}

/// Destroy `amount` of `from`'s balance (rule A-3).
pub fn burn<R: StateRead + ?Sized>(
    st: &mut Overlay<'_, R>,
    from: &Address,
    amount: Amount,
) -> Result<Result<(), RejectReason>, StorageFault> {
    if amount == Amount::ZERO {
        return Ok(Err(RejectReason::ZeroAmount)); // rule A-1
    }
    let mut sender = st.account(from)?;
    let Some(new_balance) = sender.balance.checked_sub(amount) else {
        return Ok(Err(RejectReason::InsufficientFunds { balance: sender.balance, amount }));
    };
    sender.balance = new_balance;
    st.set_account(from, &sender);
    let supply = st.supply()?;
    st.set_supply(&burned(supply, amount));
    Ok(Ok(()))
}

/// The supply after destroying `amount` (rule S-1).
pub fn burned(supply: Supply, amount: Amount) -> Supply {
    Supply {
        total: supply.total.checked_sub(amount).expect("invariant: burned amount came from a balance"),
        burned: supply.burned.checked_add(amount).expect("invariant: burned <= genesis + minted"),
        ..supply
    }
}
