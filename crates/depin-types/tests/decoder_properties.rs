//! Properties of the canonical decoder (rules E-1, E-3, E-5, T-1, T-2, B-1).
//!
//! - Round trip: every valid transaction decodes back to itself and re-encodes to the same bytes.
//! - Canonical: a mutated encoding either fails to decode or is itself the one encoding of what
//!   it decodes to (one value <-> one encoding), and a mutation that decodes never keeps a valid
//!   signature.
//! - JSON: a transaction survives a JSON round trip, with amounts as decimal strings.
//!
//! Keys of all three schemes are derived from random seeds; ML-DSA key generation and signing
//! cost milliseconds, so case counts are kept small.

use depin_types::block::{BLOCK_VERSION, block_signing_message, receipts_root, txs_root};
use depin_types::limits::MAX_CHAIN_ID_LEN;
use depin_types::asset::{
    vendor_attestation_message, AssetClass, AssetDescriptor, AssetId, AssetMetadata, Capacity, Mobility, Registration,
    VendorAttestation,
};
use depin_types::evidence::{signed_bytes, Evidence, Round, SignedVote, Vote, VotedProposal};
use depin_types::geo::LatLon;
use depin_types::{Address, Amount, Block, BlockHeader, Hash32, Scheme, SecretKey, Transaction, TxBody, TxContent};
use proptest::prelude::*;
use proptest::sample::Index;

/// The largest transaction (spec rule E-4): a registration batch can fill `MAX_TX_BYTES`, so
/// the strategy keeps only transactions that fit. (The largest fixed-shape body is a
/// hybrid-signed evidence report against a hybrid key with hybrid vote signatures and a 64-byte
/// chain id: 4 + 64 + 1 + 1984 + 8 + 16 + 1 + (1 + 1984) + 2 * (57 + 1 + 3373) + 1 + 3373 = 14299.)
const LARGEST_TX_BYTES: usize = depin_types::limits::MAX_TX_BYTES;

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        ..ProptestConfig::default()
    }
}

fn scheme() -> impl Strategy<Value = Scheme> {
    prop_oneof![Just(Scheme::Ed25519), Just(Scheme::MlDsa65), Just(Scheme::Hybrid)]
}

fn key(scheme: Scheme, seeds: &[u8; 64]) -> SecretKey {
    let n = if scheme == Scheme::Hybrid { 64 } else { 32 };
    SecretKey::from_seeds(scheme, &seeds[..n]).expect("seed length matches the scheme")
}

/// Any chain id the decoder accepts: at most 64 bytes of UTF-8 (plain, or multi-byte text).
fn chain_id() -> impl Strategy<Value = String> {
    prop_oneof!["[a-z0-9._-]{0,64}", "\\PC{0,16}"].prop_filter("at most 64 bytes", |s| s.len() <= MAX_CHAIN_ID_LEN)
}

fn amount() -> impl Strategy<Value = Amount> {
    prop_oneof![
        Just(Amount::ZERO),
        Just(Amount(u128::MAX)),
        any::<u64>().prop_map(|v| Amount(v.into())),
        any::<u128>().prop_map(Amount)
    ]
}

fn address() -> impl Strategy<Value = Address> {
    (1u8..=3, any::<[u8; 32]>()).prop_map(|(tag, hash)| {
        let mut bytes = [0u8; 33];
        bytes[0] = tag;
        bytes[1..].copy_from_slice(&hash);
        Address::from_bytes(&bytes).expect("tags 1..=3 are valid")
    })
}

fn body() -> impl Strategy<Value = TxBody> {
    prop_oneof![
        (address(), amount()).prop_map(|(to, amount)| TxBody::Transfer { to, amount }),
        amount().prop_map(|amount| TxBody::Burn { amount }),
        evidence().prop_map(|evidence| TxBody::ReportEvidence { evidence }),
        prop::collection::vec(registration(), 1..4).prop_map(|assets| TxBody::RegisterAssets { assets }),
        (any::<[u8; 32]>(), address()).prop_map(|(id, to)| TxBody::TransferAsset { asset: AssetId(Hash32(id)), to }),
    ]
}

/// A registration as the decoder sees it: a device key of any scheme, one of a few capacities
/// (valid or not: ranges are the state machine's business), a real cell, any bond.
fn registration() -> impl Strategy<Value = Registration> {
    let capacities = [
        "band=lorawan_eu868,range_m=3000",
        "cpu_cores=8,memory_mib=16384,arch=x86_64,gpu=h100:2",
        "bytes=2000000000000,media=nvme,redundancy=mirror",
        "source=solar,peak_w=4000,storage_wh=10000",
        "kind=gas,kind=noise,sample_period_ms=500",
        "algorithm=scrypt,hashrate_hps=1000000000",
    ];
    let device_scheme = prop_oneof![Just(Scheme::Ed25519), Just(Scheme::Hybrid)];
    (device_scheme, any::<[u8; 64]>(), 0usize..6, -80i32..80, amount(), any::<bool>()).prop_map(
        move |(scheme, seeds, c, lat, bond, attested)| {
            let device = key(scheme, &seeds);
            let class = AssetClass::ALL[c];
            let descriptor = AssetDescriptor {
                capacity: Capacity::parse(class, capacities[c]).unwrap(),
                location: LatLon::new(f64::from(lat), 10.0).unwrap().to_cell(12).unwrap(),
                mobility: if attested { Mobility::Mobile } else { Mobility::Fixed },
                energy: None,
                metadata: AssetMetadata { name: "n".into(), model: String::new() },
            };
            let owner = device.public_key().address();
            let attestation = attested.then(|| VendorAttestation {
                vendor: device.public_key(),
                signature: device.sign(&vendor_attestation_message("chain", &device.public_key())),
            });
            Registration::sign("chain", &owner, &device, descriptor, bond, attestation)
        },
    )
}

fn round() -> impl Strategy<Value = Round> {
    (any::<u64>(), any::<u64>()).prop_map(|(epoch, view)| Round { epoch, view })
}

fn vote() -> impl Strategy<Value = Vote> {
    let proposal = || {
        (round(), any::<u64>(), any::<[u8; 32]>())
            .prop_map(|(round, parent_view, payload)| VotedProposal { round, parent_view, payload: Hash32(payload) })
    };
    prop_oneof![
        proposal().prop_map(Vote::Notarize),
        proposal().prop_map(Vote::Finalize),
        round().prop_map(Vote::Nullify),
    ]
}

/// Evidence as the decoder sees it: any votes, signed (validly, for some chain) by a key of any
/// scheme; whether it proves a fault is the state machine's question, not the decoder's.
fn evidence() -> impl Strategy<Value = Evidence> {
    (scheme(), any::<[u8; 64]>(), vote(), vote()).prop_map(|(scheme, seeds, a, b)| {
        let k = key(scheme, &seeds);
        let sign = |vote: Vote| SignedVote { vote, signature: k.sign(&signed_bytes("chain", &vote)) };
        Evidence { offender: k.public_key(), first: sign(a), second: sign(b) }
    })
}

/// A valid transaction signed by a key of a random scheme from a random seed.
fn transaction() -> impl Strategy<Value = Transaction> {
    (scheme(), any::<[u8; 64]>(), chain_id(), any::<u64>(), amount(), body()).prop_map(
        |(scheme, seeds, chain_id, nonce, fee, body)| {
            let k = key(scheme, &seeds);
            TxContent {
                chain_id,
                signer: k.public_key(),
                nonce,
                fee,
                body,
            }
            .sign(&k)
        },
    )
    .prop_filter("fits MAX_TX_BYTES", |tx| tx.encode().len() <= LARGEST_TX_BYTES)
}

/// A valid block with 0 to 2 transactions, sealed by a key of a random scheme.
fn block() -> impl Strategy<Value = Block> {
    (
        scheme(),
        any::<[u8; 64]>(),
        "[a-z0-9._-]{1,64}",
        any::<u64>(),
        any::<[u8; 32]>(),
        any::<u64>(),
        any::<[u8; 32]>(),
        proptest::collection::vec(transaction(), 0..=2),
    )
        .prop_map(
            |(scheme, seeds, chain_id, height, parent, timestamp_ms, state_root, txs)| {
                let k = key(scheme, &seeds);
                let header = BlockHeader {
                    version: BLOCK_VERSION,
                    chain_id,
                    height,
                    parent: Hash32(parent),
                    timestamp_ms,
                    proposer: k.public_key(),
                    n_txs: txs.len() as u32,
                    txs_root: txs_root(&txs),
                    receipts_root: receipts_root(&[]),
                    state_root: Hash32(state_root),
                };
                Block::seal(header, txs, &k)
            },
        )
}

/// One edit of an encoding.
#[derive(Clone, Debug)]
enum Mutation {
    /// Flip one bit.
    FlipBit(Index, u8),
    /// Keep only a strict prefix.
    Truncate(Index),
    /// Insert one byte before a position (or at the end).
    Insert(Index, u8),
    /// Remove one byte.
    Delete(Index),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (any::<Index>(), 0u8..8).prop_map(|(i, b)| Mutation::FlipBit(i, b)),
        2 => any::<Index>().prop_map(Mutation::Truncate),
        1 => (any::<Index>(), any::<u8>()).prop_map(|(i, b)| Mutation::Insert(i, b)),
        1 => any::<Index>().prop_map(Mutation::Delete),
    ]
}

/// Several independent mutations of the same encoding (key generation and signing dominate the
/// cost of a case, so each valid value is mutated many times).
fn mutations() -> impl Strategy<Value = Vec<Mutation>> {
    proptest::collection::vec(mutation(), 1..32)
}

/// Apply a mutation to non-empty `bytes`; returns the result, and the flipped byte's offset if
/// the mutation was a bit flip.
fn apply(bytes: &[u8], m: &Mutation) -> (Vec<u8>, Option<usize>) {
    let mut out = bytes.to_vec();
    match m {
        Mutation::FlipBit(i, bit) => {
            let at = i.index(bytes.len());
            out[at] ^= 1 << bit;
            (out, Some(at))
        }
        Mutation::Truncate(i) => {
            out.truncate(i.index(bytes.len()));
            (out, None)
        }
        Mutation::Insert(i, b) => {
            out.insert(i.index(bytes.len() + 1), *b);
            (out, None)
        }
        Mutation::Delete(i) => {
            out.remove(i.index(bytes.len()));
            (out, None)
        }
    }
}

/// The offset of the first raw signature byte (after the scheme tag) in an encoded transaction.
fn signature_bytes_start(tx: &Transaction, encoded_len: usize) -> usize {
    encoded_len - tx.signature.bytes().len()
}

proptest! {
    #![proptest_config(config(32))]

    /// (a) Round trip: decode(encode(tx)) == tx, and re-encoding gives the same bytes.
    #[test]
    fn valid_transactions_round_trip(tx in transaction()) {
        let bytes = tx.encode();
        prop_assert!(bytes.len() <= LARGEST_TX_BYTES, "{} bytes, over the spec's largest", bytes.len());
        let decoded = Transaction::decode(&bytes).expect("a valid transaction decodes");
        prop_assert_eq!(&decoded, &tx);
        prop_assert_eq!(decoded.encode(), bytes);
        prop_assert_eq!(decoded.id(), tx.id());
        prop_assert!(decoded.signature_ok());
    }

    /// (b) Mutations of a transaction: fail, or decode to a value whose encoding is exactly the
    /// mutated bytes; a decoded bit flip never keeps a valid signature (it changes either the
    /// signed content, hence the id, or the signature bytes).
    #[test]
    fn mutated_transactions_fail_or_are_canonical(tx in transaction(), ms in mutations()) {
        let bytes = tx.encode();
        for m in &ms {
            let (mutated, flipped_at) = apply(&bytes, m);
            if let Ok(decoded) = Transaction::decode(&mutated) {
                prop_assert_eq!(decoded.encode(), mutated.clone(), "{:?}: decoded, but not canonical", m);
                prop_assert!(flipped_at.is_some(), "{:?}: a truncated, extended or shortened encoding decoded", m);
                prop_assert!(!decoded.signature_ok(), "a bit flip at byte {:?} kept a valid signature", flipped_at);
            }
        }
    }

    /// (b) A bit flipped inside the signature bytes still decodes (they are raw bytes) and the
    /// signature no longer verifies, for every scheme (no malleable bits, including the ML-DSA
    /// hint padding and the Ed25519 `s` high bits).
    #[test]
    fn a_flipped_signature_bit_breaks_the_signature(tx in transaction(), i in any::<Index>(), bit in 0u8..8) {
        let mut bytes = tx.encode();
        let start = signature_bytes_start(&tx, bytes.len());
        let at = start + i.index(bytes.len() - start);
        bytes[at] ^= 1 << bit;
        let decoded = Transaction::decode(&bytes).expect("signature bytes are not parsed");
        prop_assert_eq!(decoded.encode(), bytes.clone());
        prop_assert_eq!(decoded.id(), tx.id());
        prop_assert!(decoded.signature != tx.signature, "the flip landed outside the signature");
        prop_assert!(
            !decoded.signature_ok(),
            "{:?} signature still verifies with bit {} of signature byte {} flipped",
            tx.signature.scheme(), bit, at - start
        );
    }

    /// (c) JSON round trip (rule E-5): same value, amounts as decimal strings.
    #[test]
    fn json_round_trips_with_amounts_as_strings(tx in transaction()) {
        let text = serde_json::to_string(&tx).unwrap();
        let back: Transaction = serde_json::from_str(&text).unwrap();
        prop_assert_eq!(&back, &tx);
        prop_assert!(back.check_structure().is_ok());
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        let fee_json = &v["content"]["fee"];
        prop_assert_eq!(fee_json, &serde_json::Value::String(tx.content.fee.to_string()));
        let (kind, amount) = match &tx.content.body {
            TxBody::Transfer { amount, .. } => ("transfer", amount),
            TxBody::Burn { amount } => ("burn", amount),
            TxBody::ReportEvidence { .. } => {
                let vote = &v["content"]["body"]["report_evidence"]["evidence"]["first"]["vote"];
                prop_assert!(vote.is_object(), "votes are tagged objects: {}", vote);
                return Ok(());
            }
            TxBody::RegisterAssets { .. } => {
                let bond = &v["content"]["body"]["register_assets"]["assets"][0]["bond"];
                prop_assert!(bond.is_string(), "bonds are decimal strings: {}", bond);
                let cell = &v["content"]["body"]["register_assets"]["assets"][0]["descriptor"]["location"];
                prop_assert!(cell.as_str().is_some_and(|c| c.len() == 15), "cells are hex strings: {}", cell);
                return Ok(());
            }
            _ => return Ok(()),
        };
        let amount_json = &v["content"]["body"][kind]["amount"];
        prop_assert_eq!(amount_json, &serde_json::Value::String(amount.to_string()));
        prop_assert!(v["content"]["nonce"].is_u64(), "the nonce is a JSON number");
    }
}

proptest! {
    #![proptest_config(config(24))]

    /// (b) Mutations of a block: fail, or decode canonically; a decoded bit flip breaks the
    /// block signature (header or signature bytes) or a transaction's signature (tx bytes).
    #[test]
    fn mutated_blocks_fail_or_are_canonical(block in block(), ms in mutations()) {
        let bytes = block.encode();
        prop_assert_eq!(Block::decode(&bytes).expect("a valid block decodes"), block.clone());
        for m in &ms {
            let (mutated, flipped_at) = apply(&bytes, m);
            if let Ok(decoded) = Block::decode(&mutated) {
                prop_assert_eq!(decoded.encode(), mutated.clone(), "{:?}: decoded, but not canonical", m);
                prop_assert!(flipped_at.is_some(), "{:?}: a truncated, extended or shortened block decoded", m);
                let all_valid = decoded.signature_ok() && decoded.txs.iter().all(Transaction::signature_ok);
                prop_assert!(!all_valid, "a bit flip at byte {:?} kept every signature valid", flipped_at);
            }
        }
    }

    /// (b) A bit flipped inside the block signature bytes breaks the block signature.
    #[test]
    fn a_flipped_block_signature_bit_breaks_the_signature(block in block(), i in any::<Index>(), bit in 0u8..8) {
        let mut bytes = block.encode();
        let start = bytes.len() - block.signature.bytes().len();
        let at = start + i.index(bytes.len() - start);
        bytes[at] ^= 1 << bit;
        let decoded = Block::decode(&bytes).expect("signature bytes are not parsed");
        prop_assert_eq!(decoded.encode(), bytes.clone());
        prop_assert!(!decoded.signature_ok(), "{:?} block signature survived a flip", block.signature.scheme());
        // The proposer's key still verifies the original message: only the signature changed.
        prop_assert!(block.header.proposer.verify(&block_signing_message(&block.id()), &block.signature).is_ok());
    }
}

/// Every bit of the structured parts of a signature, not just random ones: the Ed25519 `R` and
/// `s` (including the high bits of `s`, where a lax verifier is malleable), and the ML-DSA-65
/// challenge `c~` (48 bytes) and hint `h` (omega + k = 61 bytes, with its zero padding), which a
/// lax hint decoder could accept in more than one form. Every flip must break verification.
#[test]
fn every_bit_of_the_fragile_signature_parts_matters() {
    const ED_LEN: usize = 64;
    const ML_C_TILDE: usize = 48;
    const ML_HINT: usize = 61;
    const ML_LEN: usize = 3309;
    for scheme in Scheme::ALL {
        let k = key(scheme, &[7; 64]);
        let tx = TxContent {
            chain_id: "depin-fixture".into(),
            signer: k.public_key(),
            nonce: 1,
            fee: Amount(1),
            body: TxBody::Burn { amount: Amount(2) },
        }
        .sign(&k);
        let bytes = tx.encode();
        let start = signature_bytes_start(&tx, bytes.len());
        let mut offsets: Vec<usize> = Vec::new();
        let ml_start = match scheme {
            Scheme::Ed25519 => {
                offsets.extend(0..ED_LEN);
                None
            }
            Scheme::MlDsa65 => Some(0),
            Scheme::Hybrid => {
                offsets.extend(0..ED_LEN);
                Some(ED_LEN)
            }
        };
        if let Some(ml) = ml_start {
            offsets.extend(ml..ml + ML_C_TILDE);
            offsets.extend(ml + ML_LEN - ML_HINT..ml + ML_LEN);
            // A sample of the response `z`.
            offsets.extend((ml + ML_C_TILDE..ml + ML_LEN - ML_HINT).step_by(197));
        }
        for off in offsets {
            for bit in 0..8 {
                let mut m = bytes.clone();
                m[start + off] ^= 1 << bit;
                let decoded = Transaction::decode(&m).expect("signature bytes are not parsed");
                assert!(
                    !decoded.signature_ok(),
                    "{scheme:?}: bit {bit} of signature byte {off} is malleable"
                );
            }
        }
    }
}
