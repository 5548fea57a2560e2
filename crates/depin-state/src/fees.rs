//! Charge transaction fees (rules F-1, F-2): fees are burned, reducing total supply.

use depin_types::state_key::Account;
use depin_types::{Amount, RejectReason};

/// Check the fee against the minimum and the balance; on success return the account with the
/// fee taken and the nonce advanced (rule T-5: charging consumes the nonce).
pub fn charge(account: Account, fee: Amount, min_fee: Amount) -> Result<Account, RejectReason> {
    if fee < min_fee {
        return Err(RejectReason::FeeTooLow { min_fee }); // rule F-1
    }
    let balance = account
        .balance
        .checked_sub(fee)
        .ok_or(RejectReason::CannotPayFee { balance: account.balance })?; // rule F-2
    let nonce = account.nonce.checked_add(1).expect("invariant: 2^64 transactions from one account cannot happen");
    Ok(Account { balance, nonce })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charging_takes_the_fee_and_advances_the_nonce() {
        let a = Account { balance: Amount(10), nonce: 3 };
        assert_eq!(charge(a, Amount(4), Amount(1)), Ok(Account { balance: Amount(6), nonce: 4 }));
        assert_eq!(charge(a, Amount(0), Amount(1)), Err(RejectReason::FeeTooLow { min_fee: Amount(1) }));
        assert_eq!(
            charge(a, Amount(11), Amount(0)),
            Err(RejectReason::CannotPayFee { balance: Amount(10) })
        );
    }
}
