//! Define receipts: the recorded outcome of every transaction in a block, with typed reasons.

use borsh::{BorshDeserialize, BorshSerialize};
use depin_crypto::Hash32;
use serde::{Deserialize, Serialize};

use crate::amount::Amount;
use crate::asset::{AssetId, AssetStatus, Problem};
use crate::evidence::EvidenceProblem;

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
    /// V-1/V-2: the evidence proves no fault by a validator.
    InvalidEvidence {
        /// What is wrong with it.
        problem: EvidenceProblem,
    },
    /// V-3: this fault is already on the ledger.
    EvidenceAlreadyRecorded,
    /// a batch is empty or larger than its limit.
    BatchSize {
        /// Most items allowed.
        max: u32,
    },
    /// a registration's proof of possession or vendor attestation does not verify.
    BadPossessionProof {
        /// Which registration in the batch.
        index: u32,
    },
    /// a capacity, energy profile or metadata field is invalid.
    InvalidAsset {
        /// Which registration in the batch (0 for updates).
        index: u32,
        /// What is wrong.
        problem: Problem,
    },
    /// the location cell is not at the registry's resolution.
    LocationResolution {
        /// Which registration (0 otherwise).
        index: u32,
        /// The registry's resolution.
        expected: u8,
        /// The cell's.
        got: u8,
    },
    /// this device key is already registered (or twice in the batch).
    DeviceAlreadyRegistered {
        /// Which registration.
        index: u32,
        /// The existing asset.
        asset: AssetId,
    },
    /// the bond is under the class's bond parameter.
    BondTooSmall {
        /// Which registration.
        index: u32,
        /// The class's bond.
        minimum: Amount,
    },
    /// the attesting vendor is not registered.
    UnknownVendor {
        /// Which registration (0 otherwise).
        index: u32,
    },
    /// the vendor is revoked.
    VendorRevoked {
        /// Which registration (0 otherwise).
        index: u32,
    },
    /// the device key is revoked.
    DeviceRevoked {
        /// Which registration (0 otherwise).
        index: u32,
    },
    /// no such asset.
    UnknownAsset {
        /// The asset.
        asset: AssetId,
    },
    /// the signer is neither the asset's owner nor its manager.
    NotOwnerOrManager {
        /// The asset.
        asset: AssetId,
    },
    /// only the owner may do this (transfer, decommission, set the manager); the signer is
    /// the manager.
    ManagerNotAllowed {
        /// The asset.
        asset: AssetId,
    },
    /// the asset is decommissioned.
    AssetDecommissioned {
        /// The asset.
        asset: AssetId,
    },
    /// a capacity of another class.
    ClassChange {
        /// The asset.
        asset: AssetId,
    },
    /// this status change is not allowed (already in it, or lifting a revocation).
    InvalidTransition {
        /// The asset.
        asset: AssetId,
        /// Its status.
        from: AssetStatus,
        /// The status asked for.
        to: AssetStatus,
    },
    /// only a validator may do this until governance exists.
    NotPrivileged,
    /// the vendor is already registered.
    VendorExists,
    /// M-2: a telemetry report's device signature does not verify.
    BadReportSignature {
        /// Which report in the batch.
        index: u32,
    },
    /// M-9: the parameters break a rule.
    InvalidParams {
        /// Which rule.
        problem: String,
    },
    /// K-2, K-4: a price sheet or workload spec breaks a rule.
    InvalidMarketInput {
        /// Which rule, in words.
        problem: String,
    },
    /// K-3, K-5: not enough credits.
    InsufficientCredits {
        /// Credits held.
        balance: Amount,
        /// Credits needed.
        amount: Amount,
    },
    /// K-6, K-7: no such workload.
    UnknownWorkload {
        /// Its id.
        id: u64,
    },
    /// K-8: no such lease.
    UnknownLease {
        /// Its id.
        id: u64,
    },
    /// K-6, K-7: only the workload's consumer may do this.
    NotConsumer,
    /// K-8: only the leased asset's owner or manager may do this.
    NotProvider,
    /// K-6 to K-8: the workload or lease is already closed (or already ending).
    AlreadyClosed,
    /// K-2, K-4: a market limit is reached (pending workloads, offers per class).
    MarketFull {
        /// Which limit.
        limit: String,
    },
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
            RejectReason::InvalidEvidence { .. } => "invalid_evidence",
            RejectReason::EvidenceAlreadyRecorded => "evidence_already_recorded",
            RejectReason::BatchSize { .. } => "batch_size",
            RejectReason::BadPossessionProof { .. } => "bad_possession_proof",
            RejectReason::InvalidAsset { .. } => "invalid_asset",
            RejectReason::LocationResolution { .. } => "location_resolution",
            RejectReason::DeviceAlreadyRegistered { .. } => "device_already_registered",
            RejectReason::BondTooSmall { .. } => "bond_too_small",
            RejectReason::UnknownVendor { .. } => "unknown_vendor",
            RejectReason::VendorRevoked { .. } => "vendor_revoked",
            RejectReason::DeviceRevoked { .. } => "device_revoked",
            RejectReason::UnknownAsset { .. } => "unknown_asset",
            RejectReason::NotOwnerOrManager { .. } => "not_owner_or_manager",
            RejectReason::ManagerNotAllowed { .. } => "manager_not_allowed",
            RejectReason::AssetDecommissioned { .. } => "asset_decommissioned",
            RejectReason::ClassChange { .. } => "class_change",
            RejectReason::InvalidTransition { .. } => "invalid_transition",
            RejectReason::NotPrivileged => "not_privileged",
            RejectReason::VendorExists => "vendor_exists",
            RejectReason::BadReportSignature { .. } => "bad_report_signature",
            RejectReason::InvalidParams { .. } => "invalid_params",
            RejectReason::InvalidMarketInput { .. } => "invalid_market_input",
            RejectReason::InsufficientCredits { .. } => "insufficient_credits",
            RejectReason::UnknownWorkload { .. } => "unknown_workload",
            RejectReason::UnknownLease { .. } => "unknown_lease",
            RejectReason::NotConsumer => "not_consumer",
            RejectReason::NotProvider => "not_provider",
            RejectReason::AlreadyClosed => "already_closed",
            RejectReason::MarketFull { .. } => "market_full",
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
                | RejectReason::InvalidEvidence { .. }
                | RejectReason::EvidenceAlreadyRecorded
                | RejectReason::BatchSize { .. }
                | RejectReason::BadPossessionProof { .. }
                | RejectReason::InvalidAsset { .. }
                | RejectReason::LocationResolution { .. }
                | RejectReason::DeviceAlreadyRegistered { .. }
                | RejectReason::BondTooSmall { .. }
                | RejectReason::UnknownVendor { .. }
                | RejectReason::VendorRevoked { .. }
                | RejectReason::DeviceRevoked { .. }
                | RejectReason::UnknownAsset { .. }
                | RejectReason::NotOwnerOrManager { .. }
                | RejectReason::ManagerNotAllowed { .. }
                | RejectReason::AssetDecommissioned { .. }
                | RejectReason::ClassChange { .. }
                | RejectReason::InvalidTransition { .. }
                | RejectReason::NotPrivileged
                | RejectReason::VendorExists
                | RejectReason::BadReportSignature { .. }
                | RejectReason::InvalidParams { .. }
                | RejectReason::InvalidMarketInput { .. }
                | RejectReason::InsufficientCredits { .. }
                | RejectReason::UnknownWorkload { .. }
                | RejectReason::UnknownLease { .. }
                | RejectReason::NotConsumer
                | RejectReason::NotProvider
                | RejectReason::AlreadyClosed
                | RejectReason::MarketFull { .. }
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
