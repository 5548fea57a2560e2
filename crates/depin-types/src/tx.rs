//! Define transactions: the signed envelope, its bodies, and the transaction id.
//!
//! The signer signs `SIGN_TX || tx_id`, where `tx_id` is the domain-separated hash of the
//! encoded [`TxContent`]. The id therefore never depends on signature bytes (Ed25519 and ML-DSA
//! signatures are not unique encodings), spec rule T-1.

use borsh::{BorshDeserialize, BorshSerialize};
use depin_crypto::{domain, hash_domain, Address, Hash32, PublicKey, SecretKey, Signature};
use serde::{Deserialize, Serialize};

use crate::amount::Amount;
use crate::codec::{decode_bounded, encode, DecodeError};
use crate::asset::{AssetId, AssetMetadata, Capacity, EnergyProfile, Mobility, OwnerStatus, Registration, RegistryParams};
use crate::evidence::Evidence;
use crate::market::{MarketParams, PriceSheet, WorkloadSpec};
use crate::telemetry::{SignedReport, TelemetryParams};
use depin_geo::Cell;
use crate::limits::{MAX_CHAIN_ID_LEN, MAX_TX_BYTES};

/// What a transaction does. The variant order is the encoding tag: append only.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum TxBody {
    /// Move `amount` from the signer to `to` (rule A-2).
    Transfer {
        /// Recipient.
        to: Address,
        /// Amount in base units, > 0.
        amount: Amount,
    },
    /// Destroy `amount` of the signer's balance, reducing total supply (rule A-3).
    Burn {
        /// Amount in base units, > 0.
        amount: Amount,
    },
    /// Record proof that a validator signed conflicting consensus votes (rules V-1 to V-3).
    ReportEvidence {
        /// The two votes.
        evidence: Evidence,
    },
    /// Register 1 to 64 assets owned by the signer, locking their bonds (rules ).
    RegisterAssets {
        /// The assets.
        assets: Vec<Registration>,
    },
    /// Change an asset's capacity (same class), energy profile or metadata (owner or manager, R-7).
    UpdateAsset {
        /// The asset.
        asset: AssetId,
        /// New capacity.
        capacity: Option<Capacity>,
        /// New energy profile.
        energy: Option<EnergyProfile>,
        /// New metadata.
        metadata: Option<AssetMetadata>,
    },
    /// Re-assert an asset's location for the location fee (owner or manager, R-5).
    AssertLocation {
        /// The asset.
        asset: AssetId,
        /// The new cell, at the registry's resolution.
        location: Cell,
        /// Fixed or mobile.
        mobility: Mobility,
    },
    /// Give an asset to another owner (owner only, R-9).
    TransferAsset {
        /// The asset.
        asset: AssetId,
        /// The new owner.
        to: Address,
    },
    /// Set or clear the manager of up to 256 assets (owner only, R-9).
    SetManager {
        /// The assets.
        assets: Vec<AssetId>,
        /// The manager, or none.
        manager: Option<Address>,
    },
    /// Put an asset in service or take it out for maintenance (owner or manager, R-8).
    SetAssetStatus {
        /// The asset.
        asset: AssetId,
        /// The status.
        status: OwnerStatus,
    },
    /// Retire an asset; its bond returns after the unbonding period (owner only, R-10).
    DecommissionAsset {
        /// The asset.
        asset: AssetId,
    },
    /// Add a device vendor (a validator, until governance exists; R-11).
    AddVendor {
        /// Its name.
        name: String,
        /// Its key.
        key: PublicKey,
    },
    /// Revoke a vendor (a validator; R-11).
    RevokeVendor {
        /// Its key.
        key: PublicKey,
    },
    /// Revoke a device key (its vendor, or a validator; R-12).
    RevokeDevice {
        /// The device key.
        device_key: PublicKey,
    },
    /// Set the registry parameters (a validator, until governance exists; R-11).
    SetRegistryParams {
        /// The parameters.
        params: RegistryParams,
    },
    /// Put up to 64 device-signed telemetry reports on the ledger (a validator's ingest edge;
    /// rules M-1 to M-8).
    SubmitTelemetry {
        /// The reports.
        reports: Vec<SignedReport>,
    },
    /// Set the telemetry parameters (a validator, until governance exists; rule M-9).
    SetTelemetryParams {
        /// The parameters.
        params: TelemetryParams,
    },
    /// Publish (or, with `None`, withdraw) an asset's prices (owner or manager; rule K-2).
    SetPrice {
        /// The asset.
        asset: AssetId,
        /// Its prices.
        sheet: Option<PriceSheet>,
    },
    /// Burn `amount` native tokens for credits at the price parameter (rule K-3).
    MintCredits {
        /// Tokens to burn, base units.
        amount: Amount,
    },
    /// Ask for resources, moving `deposit` credits into the workload's escrow (rule K-4).
    SubmitWorkload {
        /// What is asked for.
        spec: WorkloadSpec,
        /// Credits for the escrow.
        deposit: Amount,
    },
    /// Add credits to a workload's escrow (its consumer; rule K-5).
    TopUpEscrow {
        /// The workload.
        workload: u64,
        /// Credits.
        amount: Amount,
    },
    /// Stop a workload: its leases close and the escrow is refunded (its consumer; rule K-6).
    CancelWorkload {
        /// The workload.
        workload: u64,
    },
    /// Give notice on a lease: it ends after the notice period and its replica is re-placed
    /// (the asset's owner or manager; rule K-8).
    EndLease {
        /// The lease.
        lease: u64,
    },
    /// Set the market parameters (a validator, until governance exists; rule K-1).
    SetMarketParams {
        /// The parameters.
        params: MarketParams,
    },
}

impl TxBody {
    /// A short stable name, used in metrics and tables.
    pub fn kind(&self) -> &'static str {
        match self {
            TxBody::Transfer { .. } => "transfer",
            TxBody::Burn { .. } => "burn",
            TxBody::ReportEvidence { .. } => "report_evidence",
            TxBody::RegisterAssets { .. } => "register_assets",
            TxBody::UpdateAsset { .. } => "update_asset",
            TxBody::AssertLocation { .. } => "assert_location",
            TxBody::TransferAsset { .. } => "transfer_asset",
            TxBody::SetManager { .. } => "set_manager",
            TxBody::SetAssetStatus { .. } => "set_asset_status",
            TxBody::DecommissionAsset { .. } => "decommission_asset",
            TxBody::AddVendor { .. } => "add_vendor",
            TxBody::RevokeVendor { .. } => "revoke_vendor",
            TxBody::RevokeDevice { .. } => "revoke_device",
            TxBody::SetRegistryParams { .. } => "set_registry_params",
            TxBody::SubmitTelemetry { .. } => "submit_telemetry",
            TxBody::SetTelemetryParams { .. } => "set_telemetry_params",
            TxBody::SetPrice { .. } => "set_price",
            TxBody::MintCredits { .. } => "mint_credits",
            TxBody::SubmitWorkload { .. } => "submit_workload",
            TxBody::TopUpEscrow { .. } => "top_up_escrow",
            TxBody::CancelWorkload { .. } => "cancel_workload",
            TxBody::EndLease { .. } => "end_lease",
            TxBody::SetMarketParams { .. } => "set_market_params",
        }
    }
}

/// The signed part of a transaction.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TxContent {
    /// Which network this is for; a transaction for another chain never applies (rule T-3).
    pub chain_id: String,
    /// The signer's public key; the sender account is its address.
    pub signer: PublicKey,
    /// Must equal the sender account's nonce (rule T-4).
    pub nonce: u64,
    /// Fee in base units, at least the `min_fee` parameter (rule F-1); burned (rule F-3).
    pub fee: Amount,
    /// The operation.
    pub body: TxBody,
}

impl TxContent {
    /// The transaction id: hash of the encoded content.
    pub fn id(&self) -> Hash32 {
        hash_domain(domain::TX_ID, &encode(self))
    }

    /// Sign with `key` (which must be the key of `self.signer`).
    pub fn sign(self, key: &SecretKey) -> Transaction {
        debug_assert_eq!(key.public_key(), self.signer, "signing key must match the signer");
        let signature = key.sign(&signing_message(&self.id()));
        Transaction { content: self, signature }
    }

    /// The sender account.
    pub fn sender(&self) -> Address {
        self.signer.address()
    }
}

/// The bytes a transaction's signature covers.
pub fn signing_message(id: &Hash32) -> Vec<u8> {
    let mut m = Vec::with_capacity(domain::SIGN_TX.len() + 32);
    m.extend_from_slice(domain::SIGN_TX);
    m.extend_from_slice(id.as_bytes());
    m
}

/// The signature checks of one transaction ([`Transaction::verdict`]); the default is "fails".
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Verdict {
    /// The transaction signature verifies (rule T-2).
    pub signature_ok: bool,
    /// The index of the first embedded proof (possession or vendor attestation) that does not.
    pub bad_proof: Option<u32>,
}

impl Verdict {
    /// All signatures verify.
    pub const VALID: Verdict = Verdict { signature_ok: true, bad_proof: None };
}

/// A signed transaction.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Transaction {
    /// What was signed.
    pub content: TxContent,
    /// Signature by `content.signer` over `SIGN_TX || id`.
    pub signature: Signature,
}

impl Transaction {
    /// The transaction id.
    pub fn id(&self) -> Hash32 {
        self.content.id()
    }

    /// Every signature check a transaction needs, for the state machine (computed at the edge,
    /// in parallel, by this pure function): the transaction signature (rule T-2), and for a
    /// registration each proof of possession and vendor attestation, for telemetry
    /// each report's device signature (M-2).
    pub fn verdict(&self) -> Verdict {
        if !self.signature_ok() {
            return Verdict { signature_ok: false, bad_proof: None };
        }
        let bad_proof = match &self.content.body {
            TxBody::RegisterAssets { assets } => {
                let owner = self.content.sender();
                let chain = &self.content.chain_id;
                assets
                    .iter()
                    .position(|r| !r.possession_ok(chain, &owner) || !r.attestation_ok(chain))
                    .map(|i| u32::try_from(i).expect("invariant: batches are bounded"))
            }
            TxBody::SubmitTelemetry { reports } => {
                crate::telemetry::first_bad_report_signature(&self.content.chain_id, reports)
                    .map(|i| u32::try_from(i).expect("invariant: batches are bounded"))
            }
            _ => None,
        };
        Verdict { signature_ok: true, bad_proof }
    }

    /// True if the signature verifies under the signer key (rule T-2).
    pub fn signature_ok(&self) -> bool {
        self.content.signer.verify(&signing_message(&self.id()), &self.signature).is_ok()
    }

    /// Canonical bytes.
    pub fn encode(&self) -> Vec<u8> {
        encode(self)
    }

    /// Decode from canonical bytes, bounded by [`MAX_TX_BYTES`], and check structure.
    pub fn decode(bytes: &[u8]) -> Result<Transaction, DecodeError> {
        let tx: Transaction = decode_bounded(bytes, MAX_TX_BYTES)?;
        tx.check_structure()?;
        Ok(tx)
    }

    /// Structural rules that do not need state: lengths (JSON-decoded transactions go through
    /// this too).
    pub fn check_structure(&self) -> Result<(), DecodeError> {
        if self.content.chain_id.len() > MAX_CHAIN_ID_LEN {
            return Err(DecodeError::Invalid(format!(
                "chain_id is longer than {MAX_CHAIN_ID_LEN} bytes"
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use depin_crypto::Scheme;

    pub(crate) fn fixture_tx() -> Transaction {
        let key = SecretKey::from_seeds(Scheme::Ed25519, &[1; 32]).unwrap();
        let to = SecretKey::from_seeds(Scheme::Ed25519, &[2; 32]).unwrap().public_key().address();
        TxContent {
            chain_id: "depin-fixture".into(),
            signer: key.public_key(),
            nonce: 7,
            fee: Amount(10),
            body: TxBody::Transfer { to, amount: Amount(1_000) },
        }
        .sign(&key)
    }

    #[test]
    fn encoding_fixture_never_changes() {
        // Changing this is a deliberate format change: bump a version and say so in an ADR.
        let tx = fixture_tx();
        assert_eq!(hex::encode(tx.encode()), TX_FIXTURE_HEX);
        assert_eq!(tx.id().to_hex(), TX_FIXTURE_ID);
        assert!(tx.signature_ok());
    }
    const TX_FIXTURE_HEX: &str = "0d000000646570696e2d66697874757265018a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c07000000000000000a00000000000000000000000000000000012f405229f9932e086caf22194d855c64052e0be1c5f4b5d0c868537fbe8ab001e8030000000000000000000000000000015d4c020dd2fd4e6adcaa5f88205d700a7fa9adc695e9fcca8671c4679cb7d2da7c98f5e40902780e1a7b3576cae1ef78395f22c93a42540ad7f8af0a1bd71802";
    const TX_FIXTURE_ID: &str = "62e1b27aa55a72a8232617caa9c8206babda1d46c47bcafef221a8701b79b8ec";

    #[test]
    fn id_ignores_signature_bytes() {
        let tx = fixture_tx();
        let mut other = tx.clone();
        other.signature = SecretKey::from_seeds(Scheme::Ed25519, &[9; 32]).unwrap().sign(b"x");
        assert_eq!(tx.id(), other.id());
        assert!(!other.signature_ok());
    }

    #[test]
    fn decoding_rejects_trailing_bytes_oversize_and_bad_tags() {
        let mut bytes = fixture_tx().encode();
        assert_eq!(Transaction::decode(&bytes).unwrap(), fixture_tx());
        bytes.push(0);
        assert!(matches!(Transaction::decode(&bytes), Err(DecodeError::Malformed(_))));
        assert!(matches!(
            Transaction::decode(&vec![0; MAX_TX_BYTES + 1]),
            Err(DecodeError::TooLarge { .. })
        ));
        let mut bad_body = fixture_tx().encode();
        // The body tag sits right after chain id, signer (33), nonce (8) and fee (16).
        let tag_at = 4 + "depin-fixture".len() + 33 + 8 + 16;
        bad_body[tag_at] = 99;
        assert!(Transaction::decode(&bad_body).is_err());
    }

    #[test]
    fn json_rejects_unknown_fields() {
        let tx = fixture_tx();
        let mut v: serde_json::Value = serde_json::to_value(&tx).unwrap();
        assert_eq!(serde_json::from_value::<Transaction>(v.clone()).unwrap(), tx);
        v["content"]["extra"] = serde_json::json!(1);
        assert!(serde_json::from_value::<Transaction>(v).is_err());
    }

    proptest::proptest! {
        #[test]
        fn decoding_random_bytes_never_panics(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..512)) {
            let _ = Transaction::decode(&bytes);
        }
    }
}
