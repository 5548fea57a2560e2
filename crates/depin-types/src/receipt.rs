//! Define receipts: the recorded outcome of every transaction in a block, with typed reasons.

use borsh::{BorshDeserialize, BorshSerialize};
use depin_crypto::Hash32;
use serde::{Deserialize, Serialize};

use crate::amount::Amount;

/// Why a transaction in a block did not apply. Codes are stable (`snake_case` names) and listed
/// in `docs/spec/state-machine.md`; the variant order is the encoding tag: append only.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum RejectReason {
    /// T-2: the signature does not verify under the signer key.
    BadSignature,
    /// T-3: the transaction names another chain.
    WrongChainId {
        /// This chain's id.
        expected: String,
    },
    /// T-4: the nonce is not the account's next nonce.
    BadNonce {
        /// The account's next nonce.
        expected: u64,
        /// The transaction's nonce.
        got: u64,
    },
    /// F-1: the fee is under the `min_fee` parameter.
    FeeTooLow {
        /// The minimum fee.
        min_fee: Amount,
    },
    /// F-2: the balance cannot cover the fee.
    CannotPayFee {
        /// Balance before the transaction.
        balance: Amount,
    },
    /// the amount is zero.
    ZeroAmount,
    /// the balance (after the fee) is less than the amount.
    InsufficientFunds {
        /// Balance after the fee.
        balance: Amount,
        /// Amount asked for.
        amount: Amount,
    },
    /// sender and recipient are the same account.
    SelfTransfer,
    /// the recipient's balance would overflow u128.
    BalanceOverflow,
    /// the sender account does not exist (was never funded); nothing is charged, so a
    /// fresh key cannot create state for free.
    UnknownAccount,
}

impl RejectReason {
    /// The stable code string.
    pub fn code(&self) -> &'static str {
        match self {
            RejectReason::BadSignature => "bad_signature",
            RejectReason::WrongChainId { .. } => "wrong_chain_id",
            RejectReason::BadNonce { .. } => "bad_nonce",
            RejectReason::FeeTooLow { .. } => "fee_too_low",
            RejectReason::CannotPayFee { .. } => "cannot_pay_fee",
            RejectReason::ZeroAmount => "zero_amount",
            RejectReason::InsufficientFunds { .. } => "insufficient_funds",
            RejectReason::SelfTransfer => "self_transfer",
            RejectReason::BalanceOverflow => "balance_overflow",
            RejectReason::UnknownAccount => "unknown_account",
        }
    }

    /// True if the transaction was charged (fee paid, nonce used) despite the rejection
    /// (rule T-5: only body rules reject after charging).
    pub fn charged(&self) -> bool {
        matches!(
            self,
            RejectReason::ZeroAmount
                | RejectReason::InsufficientFunds { .. }
                | RejectReason::SelfTransfer
                | RejectReason::BalanceOverflow
        )
    }
}

/// What happened to a transaction.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum TxOutcome {
    /// Applied in full.
    Applied,
    /// Not applied; see the reason (the fee may still have been charged).
    Rejected {
        /// Why.
        reason: RejectReason,
    },
}

/// The receipt of one transaction in a block.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Receipt {
    /// Transaction id.
    pub tx_id: Hash32,
    /// Outcome.
    pub outcome: TxOutcome,
    /// Fee actually charged (zero unless the transaction was charged).
    pub fee_paid: Amount,
}

impl Receipt {
    /// True if applied.
    pub fn applied(&self) -> bool {
        matches!(self.outcome, TxOutcome::Applied)
    }
}
