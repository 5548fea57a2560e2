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
    Cell,
    "Cell",
    Some("^[0-9a-f]{15}$"),
    "An H3 cell index as 15 lowercase hex characters (input also takes upper case and a `0x` prefix).",
    "8c1fb46622d85ff"
);
string_schema!(
    Did,
    "Did",
    Some("^did:key:z[1-9A-HJ-NP-Za-km-z]+$"),
    "A device key as a W3C `did:key` (multibase base58btc; ADR 0014).",
    "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
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
    /// Register 1 to 64 assets owned by the signer, locking their bonds.
    RegisterAssets {
        /// The assets.
        assets: Vec<Registration>,
    },
    /// Change an asset's capacity (same class), energy profile or metadata (owner or manager).
    UpdateAsset {
        /// The asset id.
        asset: Hash32,
        /// New capacity.
        capacity: Option<Capacity>,
        /// New energy profile.
        energy: Option<EnergyProfile>,
        /// New metadata.
        metadata: Option<AssetMetadata>,
    },
    /// Re-assert an asset's location for the location fee (owner or manager).
    AssertLocation {
        /// The asset id.
        asset: Hash32,
        /// The new cell, at the registry's resolution.
        location: Cell,
        /// Fixed or mobile.
        mobility: Mobility,
    },
    /// Give an asset to another owner (owner only).
    TransferAsset {
        /// The asset id.
        asset: Hash32,
        /// The new owner.
        to: Address,
    },
    /// Set or clear the manager of up to 256 assets (owner only).
    SetManager {
        /// The asset ids.
        assets: Vec<Hash32>,
        /// The manager, or null to clear it.
        manager: Option<Address>,
    },
    /// Put an asset in service or take it out for maintenance (owner or manager).
    SetAssetStatus {
        /// The asset id.
        asset: Hash32,
        /// The status.
        status: OwnerStatus,
    },
    /// Retire an asset; its bond returns after the unbonding period (owner only).
    DecommissionAsset {
        /// The asset id.
        asset: Hash32,
    },
    /// Add a device vendor (a validator, until governance exists).
    AddVendor {
        /// Its name.
        name: String,
        /// Its key.
        key: PublicKey,
    },
    /// Revoke a vendor (a validator).
    RevokeVendor {
        /// Its key.
        key: PublicKey,
    },
    /// Revoke a device key (its vendor, or a validator).
    RevokeDevice {
        /// The device key.
        device_key: PublicKey,
    },
    /// Set the registry parameters (a validator, until governance exists).
    SetRegistryParams {
        /// The parameters.
        params: RegistryParams,
    },
    /// Publish (or, with null, withdraw) an asset's prices (owner or manager; rule K-2).
    SetPrice {
        /// The asset id.
        asset: Hash32,
        /// Its prices, or null.
        sheet: Option<PriceSheet>,
    },
    /// Burn `amount` native tokens for credits at the market's price (rule K-3).
    MintCredits {
        /// Tokens to burn, base units.
        amount: Amount,
    },
    /// Ask for resources, moving `deposit` credits into the workload's escrow (rule K-4).
    SubmitWorkload {
        /// What is asked for.
        spec: WorkloadSpec,
        /// Credits for the escrow (at least max_price × replicas × min_escrow_epochs).
        deposit: Amount,
    },
    /// Add credits to a workload's escrow (its consumer; rule K-5).
    TopUpEscrow {
        /// The workload id.
        workload: u64,
        /// Credits.
        amount: Amount,
    },
    /// Stop a workload: its leases close and the escrow is refunded (its consumer; rule K-6).
    CancelWorkload {
        /// The workload id.
        workload: u64,
    },
    /// Give notice on a lease (the asset's owner or manager; rule K-8).
    EndLease {
        /// The lease id.
        lease: u64,
    },
    /// Set the market parameters (a validator, until governance exists; rule K-1).
    SetMarketParams {
        /// The parameters.
        params: MarketParams,
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
    /// A batch is empty or larger than its limit.
    BatchSize {
        /// Most items allowed.
        max: u32,
    },
    /// A registration's proof of possession or vendor attestation does not verify.
    BadPossessionProof {
        /// Which registration in the batch.
        index: u32,
    },
    /// A capacity, energy profile or metadata field is invalid.
    InvalidAsset {
        /// Which registration in the batch (0 for updates).
        index: u32,
        /// What is wrong.
        problem: AssetProblem,
    },
    /// The location cell is not at the registry's resolution.
    LocationResolution {
        /// Which registration (0 otherwise).
        index: u32,
        /// The registry's resolution.
        expected: u8,
        /// The cell's.
        got: u8,
    },
    /// This device key is already registered (or twice in the batch).
    DeviceAlreadyRegistered {
        /// Which registration.
        index: u32,
        /// The existing asset's id.
        asset: Hash32,
    },
    /// The bond is under the class's bond parameter.
    BondTooSmall {
        /// Which registration.
        index: u32,
        /// The class's bond.
        minimum: Amount,
    },
    /// The attesting vendor is not registered.
    UnknownVendor {
        /// Which registration (0 otherwise).
        index: u32,
    },
    /// The vendor is revoked.
    VendorRevoked {
        /// Which registration (0 otherwise).
        index: u32,
    },
    /// The device key is revoked.
    DeviceRevoked {
        /// Which registration (0 otherwise).
        index: u32,
    },
    /// No such asset.
    UnknownAsset {
        /// The asset id.
        asset: Hash32,
    },
    /// The signer is neither the asset's owner nor its manager.
    NotOwnerOrManager {
        /// The asset id.
        asset: Hash32,
    },
    /// Only the owner may do this; the signer is the manager.
    ManagerNotAllowed {
        /// The asset id.
        asset: Hash32,
    },
    /// The asset is decommissioned.
    AssetDecommissioned {
        /// The asset id.
        asset: Hash32,
    },
    /// A capacity of another class.
    ClassChange {
        /// The asset id.
        asset: Hash32,
    },
    /// This status change is not allowed (already in it, or lifting a revocation).
    InvalidTransition {
        /// The asset id.
        asset: Hash32,
        /// Its status.
        from: AssetStatus,
        /// The status asked for.
        to: AssetStatus,
    },
    /// Only a validator may do this until governance exists.
    NotPrivileged,
    /// The vendor is already registered.
    VendorExists,
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
    /// What the market did in a committed block, sent after the block's message (SSE
    /// `event: placement`, `lease_closed`, `unplaced`, `escrow` or `workload_closed`, by the
    /// `kind` of `event`; no id).
    Market {
        /// The block.
        height: u64,
        /// What happened.
        event: MarketEvent,
    },
    /// This subscriber fell behind and missed events (SSE `event: lagged`); the stream goes on.
    Lagged {
        /// How many events were skipped.
        skipped: u64,
    },
}

// ---------------------------------------------------------------------------------------------
// The asset registry (depin_types::asset, depin_node assets).
// ---------------------------------------------------------------------------------------------

/// An asset class.
#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AssetClass {
    /// Hotspots and radios.
    Wireless,
    /// CPU and GPU servers.
    Compute,
    /// Storage servers.
    Storage,
    /// Solar panels, turbines, batteries.
    Energy,
    /// Sensors.
    Sensor,
    /// Mining rigs.
    Mining,
}

/// Where an asset is in its life.
#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AssetStatus {
    /// On the ledger, not yet in service.
    Registered,
    /// In service.
    Active,
    /// Out of service for a reason; may come back.
    Suspended,
    /// Retired for good.
    Decommissioned,
}

/// Why an asset has its status.
#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StatusReason {
    /// Just registered.
    Registered,
    /// The owner or manager put it in service.
    Activated,
    /// The owner or manager took it out of service.
    Maintenance,
    /// Its device key was revoked.
    DeviceRevoked,
    /// The vendor that attested it was revoked.
    VendorRevoked,
    /// The owner retired it.
    Decommissioned,
}

/// The status an owner or manager may set.
#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OwnerStatus {
    /// Put in service.
    Active,
    /// Take out of service for maintenance.
    Suspended,
}

/// Whether the asset moves.
#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Mobility {
    /// Installed at one place.
    Fixed,
    /// Moves; its cell is where it is based.
    Mobile,
}

/// Radio band.
#[derive(ToSchema)]
pub enum Band {
    /// LoRaWAN EU 863–870 MHz.
    #[serde(rename = "lorawan_eu868")]
    LorawanEu868,
    /// LoRaWAN US 902–928 MHz.
    #[serde(rename = "lorawan_us915")]
    LorawanUs915,
    /// LoRaWAN AS 920–923 MHz.
    #[serde(rename = "lorawan_as923")]
    LorawanAs923,
    /// Wi-Fi 2.4 GHz.
    #[serde(rename = "wifi2g4")]
    Wifi2g4,
    /// Wi-Fi 5 GHz.
    #[serde(rename = "wifi5g")]
    Wifi5g,
    /// Wi-Fi 6 GHz.
    #[serde(rename = "wifi6g")]
    Wifi6g,
    /// CBRS.
    #[serde(rename = "cbrs")]
    Cbrs,
    /// 5G NR.
    #[serde(rename = "nr5g")]
    Nr5g,
}

/// CPU architecture.
#[derive(ToSchema)]
pub enum Arch {
    /// x86-64.
    #[serde(rename = "x86_64")]
    X86_64,
    /// 64-bit Arm.
    #[serde(rename = "aarch64")]
    Aarch64,
    /// 64-bit RISC-V.
    #[serde(rename = "riscv64")]
    Riscv64,
}

/// Storage media.
#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Media {
    /// Spinning disks.
    Hdd,
    /// SATA/SAS solid state.
    Ssd,
    /// NVMe solid state.
    Nvme,
    /// Tape.
    Tape,
}

/// Redundancy inside a storage asset.
#[derive(ToSchema)]
pub enum Redundancy {
    /// One copy.
    #[serde(rename = "none")]
    None,
    /// Mirrored.
    #[serde(rename = "mirror")]
    Mirror,
    /// Single parity.
    #[serde(rename = "parity1")]
    Parity1,
    /// Double parity.
    #[serde(rename = "parity2")]
    Parity2,
    /// Erasure coded across disks.
    #[serde(rename = "erasure_coded")]
    ErasureCoded,
}

/// A source of energy.
#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EnergySource {
    /// Photovoltaic.
    Solar,
    /// Wind turbine.
    Wind,
    /// Hydro.
    Hydro,
    /// A battery.
    Battery,
    /// The grid.
    Grid,
}

/// A quantity a sensor measures.
#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SensorKind {
    /// Air temperature.
    Temperature,
    /// Relative humidity.
    Humidity,
    /// Air pressure.
    Pressure,
    /// Particulate matter.
    ParticulateMatter,
    /// Gases.
    Gas,
    /// Noise level.
    Noise,
    /// Wind.
    Wind,
    /// Rain.
    Rain,
    /// Solar irradiance.
    Irradiance,
    /// Images or video.
    Camera,
    /// Satellite positioning.
    Gnss,
    /// Vehicle telematics.
    Vehicle,
}

/// A proof-of-work algorithm.
#[derive(ToSchema)]
pub enum Algorithm {
    /// Double SHA-256.
    #[serde(rename = "sha256d")]
    Sha256d,
    /// Scrypt.
    #[serde(rename = "scrypt")]
    Scrypt,
    /// RandomX.
    #[serde(rename = "randomx")]
    Randomx,
    /// Equihash.
    #[serde(rename = "equihash")]
    Equihash,
    /// kHeavyHash.
    #[serde(rename = "kheavyhash")]
    Kheavyhash,
    /// Ethash.
    #[serde(rename = "ethash")]
    Ethash,
}

/// What a wireless asset offers.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WirelessCapacity {
    /// The band it serves.
    band: Band,
    /// Claimed coverage radius in metres, 1 to 50,000.
    range_m: u32,
}

/// GPUs of one model.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Gpus {
    /// Model, lowercase `a-z 0-9 - _ .`.
    model: String,
    /// How many, 1 to 64.
    count: u32,
}

/// What a compute asset offers.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ComputeCapacity {
    /// CPU cores, 1 to 4096.
    cpu_cores: u32,
    /// Memory in MiB, 256 MiB to 64 TiB.
    memory_mib: u64,
    /// GPUs by model (at most 8 models).
    gpus: Vec<Gpus>,
    /// CPU architecture.
    arch: Arch,
}

/// What a storage asset offers.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StorageCapacity {
    /// Usable bytes, 1 GiB to 64 PiB (a JSON number; beyond 2^53 JavaScript rounds it).
    bytes: u64,
    /// Media.
    media: Media,
    /// Redundancy.
    redundancy: Redundancy,
}

/// What an energy asset offers.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnergyCapacity {
    /// Where its energy comes from.
    source: EnergySource,
    /// Peak power in watts, 0 to 1 GW.
    peak_w: u64,
    /// Storage in watt-hours, 0 to 10 GWh.
    storage_wh: u64,
}

/// What a sensor asset offers.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SensorCapacity {
    /// What it measures (1 to 16 kinds, each once).
    kinds: Vec<SensorKind>,
    /// Time between samples in milliseconds, 10 ms to 1 day.
    sample_period_ms: u32,
}

/// What a mining asset offers.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MiningCapacity {
    /// Algorithm.
    algorithm: Algorithm,
    /// Hashrate in hashes per second, 1 H/s to 10 PH/s.
    hashrate_hps: u64,
}

/// A class's typed capacity (externally tagged by class: `{"wireless": {...}}`).
#[derive(ToSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Capacity {
    /// Wireless.
    Wireless(WirelessCapacity),
    /// Compute.
    Compute(ComputeCapacity),
    /// Storage.
    Storage(StorageCapacity),
    /// Energy.
    Energy(EnergyCapacity),
    /// Sensor.
    Sensor(SensorCapacity),
    /// Mining.
    Mining(MiningCapacity),
}

/// What an asset draws.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnergyProfile {
    /// Where its power comes from.
    source: EnergySource,
    /// Expected average draw in watts, 0 to 10 MW.
    expected_draw_w: u32,
}

/// Free-form description.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssetMetadata {
    /// A name for people, 0 to 64 bytes (default empty).
    #[serde(default)]
    name: String,
    /// Make and model, 0 to 64 bytes (default empty).
    #[serde(default)]
    model: String,
}

/// How much the registry trusts an asset's identity (tagged by `tier`).
#[derive(ToSchema)]
#[serde(tag = "tier", rename_all = "snake_case")]
pub enum AttestationTier {
    /// The owner's word, backed by the device key and the bond.
    SelfDeclared,
    /// A registered vendor signed the device key.
    VendorAttested {
        /// The vendor key.
        vendor: PublicKey,
    },
}

/// The state of a bond (tagged by `state`).
#[derive(ToSchema)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum BondState {
    /// Locked while the asset is registered.
    Locked,
    /// Returns to the owner at the start of block `release_height`.
    Unbonding {
        /// Release height.
        release_height: u64,
    },
}

/// An asset's bond.
#[derive(ToSchema)]
pub struct Bond {
    /// Who locked it (and gets it back).
    owner: Address,
    /// Amount locked.
    amount: Amount,
    /// Locked or unbonding.
    state: BondState,
}

/// An asset at the latest committed block.
#[derive(ToSchema)]
pub struct AssetView {
    /// Its id: the hash of its device key.
    id: Hash32,
    /// Its device key.
    device_key: PublicKey,
    /// The device key as a `did:key`.
    did: Did,
    /// Owner account.
    owner: Address,
    /// Operator account that may update metadata and status, or null.
    manager: Option<Address>,
    /// Its class (of `capacity`).
    class: AssetClass,
    /// Typed capacity.
    capacity: Capacity,
    /// Current asserted cell.
    location: Cell,
    /// How many locations were asserted (see `/assets/{id}/locations`).
    n_locations: u32,
    /// Fixed or mobile.
    mobility: Mobility,
    /// Expected consumption, or null.
    energy: Option<EnergyProfile>,
    /// Name and model.
    metadata: AssetMetadata,
    /// Identity tier.
    tier: AttestationTier,
    /// Status as last written.
    status: AssetStatus,
    /// Why.
    reason: StatusReason,
    /// The status it counts as: `suspended` when its attesting vendor is revoked (not written).
    effective_status: AssetStatus,
    /// Why it counts so (`vendor_revoked` then).
    effective_reason: StatusReason,
    /// Block of the last status change.
    status_height: u64,
    /// Block of registration.
    registered_height: u64,
    /// Its bond, or null once returned.
    bond: Option<Bond>,
    /// Height the view was read at.
    height: u64,
    /// State root at that height.
    state_root: Hash32,
    /// Near queries only: metres from the point to the centre of the asset's cell.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    distance_m: Option<u64>,
    /// With `?prove=true`: proves the asset's record (state key `r/a/<id>`) against `state_root`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    proof: Option<StateProof>,
}

/// A page of assets.
#[derive(ToSchema)]
pub struct AssetPage {
    /// The assets (nearest first for a near query).
    assets: Vec<AssetView>,
    /// Pass as `cursor` to get the next page; absent on the last page (and for near queries).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    next_cursor: Option<String>,
}

/// An asserted location.
#[derive(ToSchema)]
pub struct LocationRecord {
    /// The cell.
    cell: Cell,
    /// The block that recorded it.
    height: u64,
}

/// A page of an asset's locations, oldest first.
#[derive(ToSchema)]
pub struct LocationPage {
    /// The locations.
    locations: Vec<LocationRecord>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    next_cursor: Option<String>,
}

/// A device vendor.
#[derive(ToSchema)]
pub struct Vendor {
    /// A name for people.
    name: String,
    /// Its key.
    key: PublicKey,
    /// Revoked vendors attest nothing, and their assets count as suspended.
    revoked: bool,
    /// Block that added it.
    added_height: u64,
}

/// A page of vendors.
#[derive(ToSchema)]
pub struct VendorPage {
    /// The vendors, in order of their key's address.
    vendors: Vec<Vendor>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    next_cursor: Option<String>,
}

/// Registry parameters.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegistryParams {
    /// Bond per class in base units, in class order (wireless, compute, storage, energy,
    /// sensor, mining).
    #[schema(min_items = 6, max_items = 6)]
    bonds: Vec<Amount>,
    /// Resolution of asserted locations (0 to 15).
    location_resolution: u8,
    /// Fee for re-asserting a location, burned.
    location_fee: Amount,
    /// Blocks between decommissioning and the bond's return.
    unbonding_blocks: u64,
}

/// Assets per class.
#[derive(ToSchema)]
pub struct ClassCounts {
    /// Wireless.
    wireless: u64,
    /// Compute.
    compute: u64,
    /// Storage.
    storage: u64,
    /// Energy.
    energy: u64,
    /// Sensor.
    sensor: u64,
    /// Mining.
    mining: u64,
}

/// Assets per effective status.
#[derive(ToSchema)]
pub struct StatusCounts {
    /// Registered.
    registered: u64,
    /// Active.
    active: u64,
    /// Suspended (assets of revoked vendors included).
    suspended: u64,
    /// Decommissioned.
    decommissioned: u64,
}

/// Assets in one region.
#[derive(ToSchema)]
pub struct RegionCount {
    /// The region: a cell at the region resolution.
    cell: Cell,
    /// Assets located in it (decommissioned ones included).
    n_assets: u64,
}

/// Asset counts, for the whole network or one cell.
#[derive(ToSchema)]
pub struct AssetStats {
    /// The cell counted (with its descendants); absent for the whole network.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    cell: Option<Cell>,
    /// Every asset registered there, decommissioned ones included.
    n_assets: u64,
    /// Per class.
    by_class: ClassCounts,
    /// Per effective status.
    by_status: StatusCounts,
    /// The resolution of `by_region`.
    region_resolution: u8,
    /// Per region holding at least one asset, in cell order.
    by_region: Vec<RegionCount>,
    /// Height read.
    height: u64,
    /// State root at that height.
    state_root: Hash32,
}

/// What an owner declares about an asset at registration.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssetDescriptor {
    /// Typed capacity (and so the class).
    capacity: Capacity,
    /// Asserted location, at the registry's resolution.
    location: Cell,
    /// Fixed or mobile.
    mobility: Mobility,
    /// Expected consumption, or null (default).
    #[serde(default)]
    energy: Option<EnergyProfile>,
    /// Name and model (default empty).
    #[serde(default)]
    metadata: AssetMetadata,
}

/// A vendor's signature over a device key.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VendorAttestation {
    /// The vendor key.
    vendor: PublicKey,
    /// Its signature over the attestation message.
    signature: Signature,
}

/// One asset to register.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Registration {
    /// The device's own key.
    device_key: PublicKey,
    /// What the owner declares.
    descriptor: AssetDescriptor,
    /// The bond the owner locks (at least the class's bond parameter).
    bond: Amount,
    /// The device key's signature proving possession.
    possession: Signature,
    /// A vendor attestation, for the vendor-attested tier, or null (default).
    #[serde(default)]
    attestation: Option<VendorAttestation>,
}

/// What is wrong with an asset's fields (tagged by `problem`).
#[derive(ToSchema)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum AssetProblem {
    /// A number outside its range.
    OutOfRange {
        /// The field.
        field: String,
        /// Lowest allowed.
        min: u64,
        /// Highest allowed.
        max: u64,
        /// Given.
        got: u64,
    },
    /// Too many entries in a list.
    TooMany {
        /// The field.
        field: String,
        /// Most allowed.
        max: u64,
    },
    /// A list entry given twice.
    Duplicate {
        /// The field.
        field: String,
        /// The repeated value.
        value: String,
    },
    /// A name that is empty, too long, or of characters not allowed.
    BadName {
        /// The field.
        field: String,
        /// Longest allowed.
        max_len: u64,
    },
    /// A required key is missing (parsing only).
    Missing {
        /// The key.
        field: String,
    },
    /// A key the class does not have (parsing only).
    Unknown {
        /// The key.
        field: String,
        /// The keys it takes.
        expected: String,
    },
    /// A value that does not parse (parsing only).
    Malformed {
        /// The key.
        field: String,
        /// What was expected.
        expected: String,
    },
}

// ---------------------------------------------------------------------------------------------
// The market (depin_types::market, depin_node market).
// ---------------------------------------------------------------------------------------------

/// A unit of resource an asset sells.
#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ResourceUnit {
    /// One vCPU for one epoch (compute).
    VcpuEpoch,
    /// One GiB of memory for one epoch (compute).
    MemoryGibEpoch,
    /// One GPU for one epoch (compute).
    GpuEpoch,
    /// One GB stored for one month.
    GbMonthStored,
    /// One GB served.
    GbServed,
    /// Coverage of one H3 cell for one epoch (wireless).
    CoverageCellEpoch,
    /// One kWh delivered.
    KwhDelivered,
    /// One kWh of storage capacity for one epoch (energy).
    KwhStored,
    /// One sensor reading.
    Reading,
    /// One TH/s of hashrate for one epoch (mining).
    HashrateThEpoch,
    /// One GB (10^9 bytes) stored for one epoch (storage).
    GbEpochStored,
    /// One sensor data stream for one epoch (sensor).
    StreamEpoch,
}

/// A price for one unit.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UnitPrice {
    /// The unit.
    unit: ResourceUnit,
    /// Credits (base units) per unit per epoch.
    price: Amount,
}

/// A provider's prices for one asset.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PriceSheet {
    /// One entry per unit for sale (of the asset's class); units left out are not for sale.
    prices: Vec<UnitPrice>,
    /// Shortest lease accepted, in epochs (0: any; default 0).
    #[serde(default)]
    min_lease_epochs: u32,
}

/// An amount of one unit.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UnitAmount {
    /// The unit.
    unit: ResourceUnit,
    /// How many, > 0.
    amount: u64,
}

/// A point to stay close to.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Near {
    /// The point, as a cell at the registry's resolution.
    cell: Cell,
    /// Farthest allowed distance in metres (0: no limit, distance only costs; default 0).
    #[serde(default)]
    max_m: u64,
}

/// Anti-affinity between a workload's replicas.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AntiAffinity {
    /// Every replica on an asset of a different owner (default false).
    #[serde(default)]
    distinct_owners: bool,
    /// Every replica in a different H3 cell at this resolution (default null).
    #[serde(default)]
    distinct_cells_res: Option<u8>,
    /// Every replica on a different energy source (default false).
    #[serde(default)]
    distinct_energy: bool,
}

/// Weakest identity tier a workload accepts.
#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MinTier {
    /// Any registered asset.
    SelfDeclared,
    /// Only vendor-attested assets.
    VendorAttested,
}

/// What a consumer asks for (rule K-4).
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkloadSpec {
    /// A name for people (0–64 bytes; default empty).
    #[serde(default)]
    name: String,
    /// Asset class.
    class: AssetClass,
    /// Per replica: amount of each unit the class sells.
    resources: Vec<UnitAmount>,
    /// Replicas, 1 to 16.
    replicas: u16,
    /// Allowed regions (H3 cells up to the registry's resolution); empty: anywhere (default).
    #[serde(default)]
    regions: Vec<Cell>,
    /// A point to stay close to (default null).
    #[serde(default)]
    near: Option<Near>,
    /// Keep replicas apart (default: no constraint).
    #[serde(default)]
    anti_affinity: AntiAffinity,
    /// Weakest identity tier accepted (default `self_declared`).
    #[serde(default)]
    min_tier: MinTier,
    /// Lowest recent uptime accepted, per mille (default 0).
    #[serde(default)]
    min_uptime_permille: u16,
    /// Only assets on solar, wind or hydro energy (default false).
    #[serde(default)]
    green_only: bool,
    /// Epochs it runs once placed, 1 to 1,000,000.
    duration_epochs: u32,
    /// Highest price per replica per epoch, credits.
    max_price: Amount,
    /// Uptime (per mille) a replica must prove in an epoch to be paid for it (default 900).
    #[serde(default)]
    sla_uptime_permille: u16,
    /// Compute only: assets whose GPUs are all of this model (e.g. `h100`); needs a
    /// `gpu_epoch` amount (default null: any GPUs).
    #[serde(default)]
    gpu_model: Option<String>,
    /// Highest price per metered unit (gb_served, kwh_delivered, reading) accepted, credits
    /// (default 0: only assets that charge by reservation alone).
    #[serde(default)]
    max_metered_price: Amount,
}

/// Market parameters (rule K-1).
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MarketParams {
    /// Credits minted per native-token base unit burned, numerator.
    credits_per_token_num: u64,
    /// …and denominator.
    credits_per_token_den: u64,
    /// A deposit must cover the workload's maximum price for this many epochs.
    min_escrow_epochs: u32,
    /// Below this many epochs of cover the consumer gets a low-escrow notice.
    low_escrow_epochs: u32,
    /// Epochs an overdrawn workload keeps its leases.
    overdraw_grace_epochs: u32,
    /// Epochs between a provider's notice and the end of the lease.
    provider_notice_epochs: u32,
    /// Epochs of telemetry that make "recent uptime".
    uptime_window_epochs: u32,
    /// Allocator: credits per km from a workload's `near` point, per replica-epoch.
    distance_penalty_per_km: u64,
    /// Allocator: credits per permille of missing recent uptime, per replica-epoch.
    reliability_penalty_per_permille: u64,
}

/// Why a lease or workload closed.
#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CloseReason {
    /// It ran its duration.
    Completed,
    /// The consumer cancelled it.
    CancelledByConsumer,
    /// The provider gave notice and the notice period ended.
    EndedByProvider,
    /// The asset went offline.
    AssetFailed,
    /// The escrow stayed overdrawn past the grace period.
    EscrowOverdrawn,
    /// The asset left service.
    AssetRetired,
}

/// Where a workload is (tagged by `state`).
#[derive(ToSchema)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum WorkloadState {
    /// Waiting for placement.
    Pending,
    /// Placed (some replicas may wait for re-placement).
    Running,
    /// Over.
    Closed {
        /// Why.
        reason: CloseReason,
        /// Block.
        height: u64,
    },
}

/// The escrow's health (tagged by `state`).
#[derive(ToSchema)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum EscrowNotice {
    /// Enough for `low_escrow_epochs`.
    Ok,
    /// Less than `low_escrow_epochs` of cover: top it up.
    Low {
        /// Since this epoch.
        since_epoch: u64,
    },
    /// Not enough for one more epoch; leases close after the grace period.
    Overdrawn {
        /// Since this epoch.
        since_epoch: u64,
    },
}

/// Why a workload is not (fully) placed.
#[derive(ToSchema)]
pub struct UnplacedReason {
    /// Stable code: `no_asset_of_class`, `outside_region`, `too_far`, `tier_too_low`,
    /// `uptime_too_low`, `not_green`, `min_lease_too_long`, `over_max_price`, `no_capacity`,
    /// `too_few_distinct`, `taken_by_cheaper`, or a market limit.
    code: String,
    /// In words.
    message: String,
    /// Replicas placed.
    placed: u16,
    /// Assets left after each filter, in order: class, region, distance, tier, uptime, green,
    /// lease length, price, capacity, distinct groups (10 numbers).
    funnel: Vec<u32>,
    /// Block of the allocation round.
    height: u64,
}

/// The allocator's cost terms per replica-epoch, credits.
#[derive(ToSchema)]
pub struct CostTerms {
    /// The provider's price.
    price: u64,
    /// Distance penalty from the workload's `near` point.
    distance: u64,
    /// Reliability penalty from missing recent uptime.
    reliability: u64,
}

/// Where a lease is (tagged by `state`).
#[derive(ToSchema)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum LeaseState {
    /// On the asset, no service proven yet.
    Placed,
    /// Service proven by telemetry.
    Active,
    /// The provider gave notice.
    Ending {
        /// Epoch it closes.
        at_epoch: u64,
    },
    /// Over.
    Closed {
        /// Why.
        reason: CloseReason,
        /// Block.
        height: u64,
    },
}

/// A replica placed on an asset.
#[derive(ToSchema)]
pub struct Lease {
    /// Its id (from 1).
    id: u64,
    /// The workload.
    workload: u64,
    /// The consumer.
    consumer: Address,
    /// The asset.
    asset: Hash32,
    /// The asset's owner when placed (who is paid).
    provider: Address,
    /// Units reserved on the asset, per dimension (4 numbers, in the order of the class's units).
    reserved: Vec<u64>,
    /// Price per epoch, credits.
    price: Amount,
    /// Why this asset.
    terms: CostTerms,
    /// Block of placement.
    placed_height: u64,
    /// Block time of placement, ms.
    placed_ms: u64,
    /// Epoch of placement.
    placed_epoch: u64,
    /// Where it is.
    state: LeaseState,
    /// Epochs settled.
    epochs_settled: u32,
    /// Credits paid to the provider.
    paid: Amount,
    /// Credits kept by the consumer.
    credited: Amount,
    /// The lease this one replaces, or null.
    replaces: Option<u64>,
    /// Credits per metered unit served (GB served, kWh delivered or reading; 0: none).
    metered_price: Amount,
    /// Metered units charged so far: the lease's share of what its asset served in paid epochs.
    metered_units: u64,
}

/// A lease at the latest committed block.
#[derive(ToSchema)]
pub struct LeaseView {
    /// Its id (from 1).
    id: u64,
    /// The workload.
    workload: u64,
    /// The consumer.
    consumer: Address,
    /// The asset.
    asset: Hash32,
    /// The asset's owner when placed (who is paid).
    provider: Address,
    /// Units reserved on the asset, per dimension.
    reserved: Vec<u64>,
    /// Price per epoch, credits.
    price: Amount,
    /// Why this asset.
    terms: CostTerms,
    /// Block of placement.
    placed_height: u64,
    /// Block time of placement, ms.
    placed_ms: u64,
    /// Epoch of placement.
    placed_epoch: u64,
    /// Where it is.
    state: LeaseState,
    /// Epochs settled.
    epochs_settled: u32,
    /// Credits paid to the provider.
    paid: Amount,
    /// Credits kept by the consumer.
    credited: Amount,
    /// The lease this one replaces, or null.
    replaces: Option<u64>,
    /// Credits per metered unit served (GB served, kWh delivered or reading; 0: none).
    metered_price: Amount,
    /// Metered units charged so far: the lease's share of what its asset served in paid epochs.
    metered_units: u64,
    /// Height read.
    height: u64,
}

/// A consumer's workload.
#[derive(ToSchema)]
pub struct Workload {
    /// Its id (from 1).
    id: u64,
    /// Who submitted it and pays.
    consumer: Address,
    /// What it asks for.
    spec: WorkloadSpec,
    /// Credits left in its escrow.
    escrow: Amount,
    /// Where it is.
    state: WorkloadState,
    /// Block of submission.
    submitted_height: u64,
    /// First epoch it was placed, or null.
    start_epoch: Option<u64>,
    /// Its open leases.
    leases: Vec<u64>,
    /// Credits paid to providers so far.
    spent: Amount,
    /// Credits kept because of SLA breaches, failures or gaps.
    credited: Amount,
    /// Why it is (still) not fully placed, from the last allocation round, or null.
    unplaced: Option<UnplacedReason>,
    /// Escrow warnings.
    escrow_notice: EscrowNotice,
    /// Assets its replicas left (never re-placed there).
    avoid: Vec<Hash32>,
    /// Closed leases whose replicas wait for re-placement.
    to_replace: Vec<u64>,
}

/// A workload at the latest committed block, with its leases.
#[derive(ToSchema)]
pub struct WorkloadView {
    /// Its id (from 1).
    id: u64,
    /// Who submitted it and pays.
    consumer: Address,
    /// What it asks for.
    spec: WorkloadSpec,
    /// Credits left in its escrow.
    escrow: Amount,
    /// Where it is.
    state: WorkloadState,
    /// Block of submission.
    submitted_height: u64,
    /// First epoch it was placed, or null.
    start_epoch: Option<u64>,
    /// Its open leases (ids).
    leases: Vec<u64>,
    /// Credits paid to providers so far.
    spent: Amount,
    /// Credits kept because of SLA breaches, failures or gaps.
    credited: Amount,
    /// Why it is (still) not fully placed, from the last allocation round, or null.
    unplaced: Option<UnplacedReason>,
    /// Escrow warnings.
    escrow_notice: EscrowNotice,
    /// Assets its replicas left (never re-placed there).
    avoid: Vec<Hash32>,
    /// Closed leases whose replicas wait for re-placement.
    to_replace: Vec<u64>,
    /// Its leases, open and closed, in id order.
    lease_records: Vec<Lease>,
    /// True when too many lease records were to be examined: `lease_records` then holds the
    /// open leases and those found (list the rest with `GET /leases?workload=`).
    leases_truncated: bool,
    /// Height read.
    height: u64,
}

/// A page of workloads.
#[derive(ToSchema)]
pub struct WorkloadPage {
    /// The workloads, in id order.
    workloads: Vec<Workload>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    next_cursor: Option<String>,
    /// Height read.
    height: u64,
}

/// A page of leases.
#[derive(ToSchema)]
pub struct LeasePage {
    /// The leases, in id order.
    leases: Vec<Lease>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    next_cursor: Option<String>,
    /// Height read.
    height: u64,
}

/// An asset's prices, capacity and reservations.
#[derive(ToSchema)]
pub struct PriceView {
    /// The asset.
    asset: Hash32,
    /// Its class.
    class: AssetClass,
    /// Its owner (who is paid).
    owner: Address,
    /// The prices, or null: not for sale.
    sheet: Option<PriceSheet>,
    /// The units the class sells, in dimension order.
    units: Vec<ResourceUnit>,
    /// What its capacity offers of each unit.
    capacity: Vec<u64>,
    /// What open leases reserve of each unit.
    reserved: Vec<u64>,
    /// Height read.
    height: u64,
}

/// An account's credits.
#[derive(ToSchema)]
pub struct CreditsView {
    /// The account.
    address: Address,
    /// Its credits, base units (outside escrows).
    credits: Amount,
    /// Height read.
    height: u64,
}

/// The market's bookkeeping.
#[derive(ToSchema)]
pub struct MarketBook {
    /// Last workload id given.
    last_workload: u64,
    /// Last lease id given.
    last_lease: u64,
    /// Last epoch settled (0: none).
    settled_epoch: u64,
    /// Time bucket of the last failover check.
    checked_bucket: u64,
    /// Credits ever minted.
    credits_minted: Amount,
    /// Credits ever spent (paid to providers).
    credits_spent: Amount,
    /// Something changed that may let waiting workloads fit.
    dirty: bool,
}

/// Something the market did in a block (tagged by `kind`).
#[derive(ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MarketEvent {
    /// A replica was placed (SSE `event: placement`).
    Placed {
        /// Workload.
        workload: u64,
        /// Lease.
        lease: u64,
        /// Asset.
        asset: Hash32,
        /// Why this asset.
        terms: CostTerms,
        /// The lease it replaces, or null.
        replaces: Option<u64>,
    },
    /// A lease closed (SSE `event: lease_closed`).
    LeaseClosed {
        /// Workload.
        workload: u64,
        /// Lease.
        lease: u64,
        /// Asset.
        asset: Hash32,
        /// Why.
        reason: CloseReason,
    },
    /// A workload could not be (fully) placed in this round (SSE `event: unplaced`).
    Unplaced {
        /// Workload.
        workload: u64,
        /// Why (an `UnplacedReason` code).
        code: String,
    },
    /// A workload's escrow notice changed (SSE `event: escrow`).
    Escrow {
        /// Workload.
        workload: u64,
        /// The new notice.
        notice: EscrowNotice,
    },
    /// A workload closed (SSE `event: workload_closed`).
    WorkloadClosed {
        /// Workload.
        workload: u64,
        /// Why.
        reason: CloseReason,
        /// Credits refunded to the consumer.
        refunded: Amount,
    },
}

/// The market events of one block.
#[derive(ToSchema)]
pub struct MarketEvents {
    /// Block height (0: none yet).
    height: u64,
    /// In order.
    events: Vec<MarketEvent>,
}

/// The market at the latest committed block.
#[derive(ToSchema)]
pub struct MarketView {
    /// Parameters in force.
    params: MarketParams,
    /// Bookkeeping.
    book: MarketBook,
    /// Workloads waiting for (re-)placement.
    n_queued: u64,
    /// Open leases.
    n_open_leases: u64,
    /// The market events of the last block that had any.
    last_events: MarketEvents,
    /// Height read.
    height: u64,
    /// State root at that height.
    state_root: Hash32,
}
