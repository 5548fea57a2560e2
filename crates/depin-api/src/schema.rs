//! Describe the JSON forms of types from other crates for the OpenAPI document.
//!
//! The ledger types (in `depin-types`, `depin-crypto`, `depin-node`, `depin-ledger`) do not
//! derive `ToSchema`, and the API crate is the only one that knows about OpenAPI. So this module
//! holds documentation-only mirrors with the same JSON shape, named like the real types. They are
//! never constructed; the integration tests check real responses against these schemas so that a
//! change of shape in another crate fails a test here.

#![allow(dead_code)]

use std::borrow::Cow;

use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::RefOr;
use utoipa::{PartialSchema, ToSchema};

/// Define a named string schema with a pattern, description and example.
macro_rules! string_schema {
    ($ty:ident, $name:literal, $pattern:expr, $desc:literal, $example:literal) => {
        #[doc = $desc]
        pub struct $ty;
        impl PartialSchema for $ty {
            fn schema() -> RefOr<Schema> {
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .pattern($pattern)
                    .description(Some($desc))
                    .examples([serde_json::json!($example)])
                    .into()
            }
        }
        impl ToSchema for $ty {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed($name)
            }
        }
    };
}

string_schema!(
    Hash32,
    "Hash32",
    Some("^[0-9a-f]{64}$"),
    "A 32-byte hash as 64 lowercase hex characters.",
    "62e1b27aa55a72a8232617caa9c8206babda1d46c47bcafef221a8701b79b8ec"
);
string_schema!(
    Address,
    "Address",
    Some("^depin1[02-9ac-hj-np-z]+$"),
    "An account address: bech32m with the human-readable part `depin`.",
    "depin1qxmjpd98qdnqpdlu7ee5y2xpapameurek7x742erg66tut8sfdcjx9fu9qm"
);
string_schema!(
    Amount,
    "Amount",
    Some("^[0-9]+$"),
    "An amount of the native token in base units, as a decimal string (at most 2^128-1).",
    "1000"
);
string_schema!(
    PublicKey,
    "PublicKey",
    Some("^(ed25519|mldsa65|hybrid):[0-9a-f]+$"),
    "A public key as `<scheme>:<hex>` (scheme ed25519, mldsa65 or hybrid).",
    "ed25519:8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c"
);
string_schema!(
    Signature,
    "Signature",
    Some("^(ed25519|mldsa65|hybrid):[0-9a-f]+$"),
    "A signature as `<scheme>:<hex>`; the scheme must be the signer key's.",
    "ed25519:5d4c020dd2fd4e6adcaa5f88205d700a7fa9adc695e9fcca8671c4679cb7d2da7c98f5e40902780e1a7b3576cae1ef78395f22c93a42540ad7f8af0a1bd71802"
);
string_schema!(
    HexBytes,
    "HexBytes",
    Some("^([0-9a-f]{2})*$"),
    "Bytes as lowercase hex.",
    "00ff"
);

/// A transaction's canonical borsh bytes (the body of an `application/octet-stream` submission).
pub struct TransactionBytes;
impl PartialSchema for TransactionBytes {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .content_media_type("application/octet-stream")
            .description(Some(
                "A signed transaction's canonical borsh bytes (at most 16 KiB, no trailing bytes).",
            ))
            .into()
    }
}
impl ToSchema for TransactionBytes {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("TransactionBytes")
    }
}

/// What a transaction does (externally tagged: `{"transfer": {...}}` or `{"burn": {...}}`).
#[derive(ToSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum TxBody {
    /// Move `amount` from the signer to `to`.
    Transfer {
        /// Recipient.
        to: Address,
        /// Amount in base units, > 0.
        amount: Amount,
    },
    /// Destroy `amount` of the signer's balance.
    Burn {
        /// Amount in base units, > 0.
        amount: Amount,
    },
    /// Record proof that a validator signed two conflicting consensus votes.
    ReportEvidence {
        /// The two votes.
        evidence: Evidence,
    },
}

/// A consensus round.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Round {
    /// Epoch (0 while the validator set is the genesis set).
    epoch: u64,
    /// View within the epoch.
    view: u64,
}

/// What a notarize or finalize vote is for.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VotedProposal {
    /// The proposal's round.
    round: Round,
    /// The view of the proposal's parent.
    parent_view: u64,
    /// The proposed block's id.
    payload: Hash32,
}

/// A consensus vote (externally tagged).
#[derive(ToSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Vote {
    /// Support for a proposal.
    Notarize(VotedProposal),
    /// Commitment to a notarized proposal.
    Finalize(VotedProposal),
    /// A vote to skip the view.
    Nullify(Round),
}

/// A vote and the offender's signature over its signed bytes (spec rule V-1).
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignedVote {
    /// The vote.
    vote: Vote,
    /// Ed25519 signature.
    signature: Signature,
}

/// Two votes by one validator that together prove a fault.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Evidence {
    /// The validator that signed both.
    offender: PublicKey,
    /// One vote.
    first: SignedVote,
    /// The conflicting vote.
    second: SignedVote,
}

/// The kind of fault.
#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EvidenceKind {
    /// Two notarize votes for different proposals in one round.
    ConflictingNotarize,
    /// Two finalize votes for different proposals in one round.
    ConflictingFinalize,
    /// A nullify and a finalize vote in one round.
    NullifyFinalize,
}

/// Why evidence proves nothing.
#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EvidenceProblem {
    /// The votes do not conflict.
    NotAConflict,
    /// The offender key is not Ed25519.
    NotEd25519,
    /// A vote signature does not verify.
    BadVoteSignature,
    /// The offender is not a validator.
    NotAValidator,
}

/// A fault recorded on the ledger.
#[derive(ToSchema)]
pub struct EvidenceRecord {
    /// The fault.
    kind: EvidenceKind,
    /// Its round.
    round: Round,
    /// The offender.
    offender: PublicKey,
    /// Who reported it.
    reporter: Address,
    /// The reporting transaction (its body holds the two signed votes).
    tx_id: Hash32,
    /// The block that recorded it.
    height: u64,
}

/// A page of recorded evidence.
#[derive(ToSchema)]
pub struct EvidencePage {
    /// Records in order of offender address and round.
    evidence: Vec<EvidenceRecord>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    next_cursor: Option<String>,
}

/// The signed part of a transaction.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TxContent {
    /// Which network this is for (at most 64 bytes).
    chain_id: String,
    /// The signer's public key; the sender account is its address.
    signer: PublicKey,
    /// Must equal the sender account's next nonce.
    nonce: u64,
    /// Fee in base units, at least the chain's `min_fee`.
    fee: Amount,
    /// The operation.
    body: TxBody,
}

/// A signed transaction. Binary form (for `application/octet-stream`): its canonical borsh bytes.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Transaction {
    /// What was signed.
    content: TxContent,
    /// Signature by `content.signer` over the domain-separated transaction id.
    signature: Signature,
}

/// Why a transaction in a block did not apply (tagged by `code`).
#[derive(ToSchema)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum RejectReason {
    /// The signature does not verify.
    BadSignature,
    /// The transaction names another chain.
    WrongChainId {
        /// This chain's id.
        expected: String,
    },
    /// The nonce is not the account's next nonce.
    BadNonce {
        /// The account's next nonce.
        expected: u64,
        /// The transaction's nonce.
        got: u64,
    },
    /// The fee is under the minimum.
    FeeTooLow {
        /// The minimum fee.
        min_fee: Amount,
    },
    /// The balance cannot cover the fee.
    CannotPayFee {
        /// Balance before the transaction.
        balance: Amount,
    },
    /// The amount is zero.
    ZeroAmount,
    /// The balance after the fee is less than the amount.
    InsufficientFunds {
        /// Balance after the fee.
        balance: Amount,
        /// Amount asked for.
        amount: Amount,
    },
    /// Sender and recipient are the same account.
    SelfTransfer,
    /// The recipient's balance would overflow.
    BalanceOverflow,
    /// The sender account does not exist.
    UnknownAccount,
    /// The evidence proves no fault by a validator.
    InvalidEvidence {
        /// What is wrong with it.
        problem: EvidenceProblem,
    },
    /// The reported fault is already recorded.
    EvidenceAlreadyRecorded,
}

/// What happened to a transaction (tagged by `status`).
#[derive(ToSchema)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum TxOutcome {
    /// Applied in full.
    Applied,
    /// Not applied (the fee may still have been charged, see `fee_paid`).
    Rejected {
        /// Why.
        reason: RejectReason,
    },
}

/// The receipt of one transaction in a block.
#[derive(ToSchema)]
pub struct Receipt {
    /// Transaction id.
    tx_id: Hash32,
    /// Outcome.
    outcome: TxOutcome,
    /// Fee actually charged.
    fee_paid: Amount,
}

/// The status of a transaction, with its id (tagged by `status`).
#[derive(ToSchema)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum TxStatus {
    /// In the mempool, not yet in a block.
    Pending {
        /// Transaction id.
        tx_id: Hash32,
    },
    /// In a committed block; the receipt says whether it applied.
    Committed {
        /// Transaction id.
        tx_id: Hash32,
        /// Block height.
        height: u64,
        /// Position in the block.
        index: u32,
        /// Block id.
        block_id: Hash32,
        /// The receipt.
        receipt: Receipt,
    },
    /// Neither pending nor committed (only in a submission response; lookups answer 404).
    Unknown {
        /// Transaction id.
        tx_id: Hash32,
    },
}

/// A proof of a state key's value (or absence) against a state root.
#[derive(ToSchema)]
pub struct StateProof {
    /// The committed version the proof was made at (informational; not covered by the root).
    version: u64,
    /// The state root the proof leads to (hex).
    root: Hash32,
    /// The proven state key (hex).
    key: HexBytes,
    /// The key's value (hex), or null for a proof of absence.
    #[schema(nullable)]
    value: Option<HexBytes>,
    /// The Merkle proof (hex of its borsh encoding).
    proof: HexBytes,
}

/// An account at the latest committed block, optionally with a proof.
#[derive(ToSchema)]
pub struct Account {
    /// The address.
    address: Address,
    /// Balance in base units.
    balance: Amount,
    /// The next nonce.
    nonce: u64,
    /// Height the view was read at.
    height: u64,
    /// State root at that height.
    state_root: Hash32,
    /// Present with `?prove=true`: proves the account's state entry against `state_root`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    proof: Option<StateProof>,
}

/// A block header.
#[derive(ToSchema)]
pub struct BlockHeader {
    /// Format version.
    version: u16,
    /// Chain id.
    chain_id: String,
    /// Height (1 for the first block after genesis).
    height: u64,
    /// Previous block id (the genesis id for height 1).
    parent: Hash32,
    /// Proposer's clock, milliseconds since the Unix epoch.
    timestamp_ms: u64,
    /// Proposer's public key.
    proposer: PublicKey,
    /// Number of transactions.
    n_txs: u32,
    /// Merkle root of the transactions.
    txs_root: Hash32,
    /// Merkle root of the receipts.
    receipts_root: Hash32,
    /// State root after the block.
    state_root: Hash32,
}

/// A block.
#[derive(ToSchema)]
pub struct Block {
    /// The header.
    header: BlockHeader,
    /// Transactions in execution order.
    txs: Vec<Transaction>,
    /// Proposer's signature.
    signature: Signature,
}

/// A block with its id and receipts.
#[derive(ToSchema)]
pub struct BlockView {
    /// Block id.
    id: Hash32,
    /// The block.
    block: Block,
    /// One receipt per transaction, in order.
    receipts: Vec<Receipt>,
}

/// The node's view of the chain.
#[derive(ToSchema)]
pub struct Status {
    /// Chain id.
    chain_id: String,
    /// Genesis id.
    genesis_id: Hash32,
    /// Latest committed height (0 before the first block).
    height: u64,
    /// Latest block id.
    block_id: Hash32,
    /// Latest state root.
    state_root: Hash32,
    /// Latest block timestamp, milliseconds since the Unix epoch.
    timestamp_ms: u64,
    /// Transactions waiting in the mempool.
    mempool_size: u64,
    /// Minimum fee per transaction, in base units.
    min_fee: Amount,
    /// This node's public key.
    node_public_key: PublicKey,
    /// This node's address.
    node_address: Address,
    /// Software version.
    version: String,
    /// `single` (local sequencer) or `bft` (replicated by consensus).
    mode: String,
    /// The replication engine's view (BFT mode only).
    replication: Option<Replication>,
}

/// What the BFT engine reports (peers, validator set, finalized height).
#[derive(ToSchema)]
pub struct Replication {
    /// Engine name and version.
    engine: String,
    /// Latest finalized height known to consensus (the ledger may still be catching up).
    finalized_height: u64,
    /// Latest consensus view with a certificate.
    view: u64,
    /// The genesis validator set.
    validators: Vec<Validator>,
    /// Peers heard from recently.
    peers_connected: u64,
}

/// One genesis validator as this node sees it.
#[derive(ToSchema)]
pub struct Validator {
    /// Name from genesis.
    name: String,
    /// Consensus (and block-signing) key.
    public_key: PublicKey,
    /// Network address from genesis.
    p2p: Option<String>,
    /// This node.
    is_self: bool,
    /// Heard from within the last few seconds.
    connected: bool,
}

/// Liveness answer.
#[derive(ToSchema)]
pub struct Health {
    /// Always `ok`.
    #[schema(example = "ok")]
    status: String,
    /// Latest committed height.
    height: u64,
}

/// An event on the SSE stream (`data:` of each message, tagged by `type`).
#[derive(ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// A block was committed (SSE `event: block`, `id: <height>`).
    Block {
        /// Height.
        height: u64,
        /// Block id.
        id: Hash32,
        /// Block timestamp.
        timestamp_ms: u64,
        /// Transactions in the block.
        n_txs: u32,
        /// Of which rejected.
        n_rejected: u32,
        /// State root after the block.
        state_root: Hash32,
    },
    /// This subscriber fell behind and missed events (SSE `event: lagged`); the stream goes on.
    Lagged {
        /// How many events were skipped.
        skipped: u64,
    },
}
