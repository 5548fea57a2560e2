//! Define blocks: a header that commits to everything, the ordered transactions, the signature.

use borsh::{BorshDeserialize, BorshSerialize};
use depin_crypto::{domain, hash_domain, merkle_root, Hash32, PublicKey, SecretKey, Signature};
use serde::{Deserialize, Serialize};

use crate::codec::{decode_bounded, encode, DecodeError};
use crate::limits::MAX_BLOCK_BYTES;
use crate::receipt::Receipt;
use crate::tx::Transaction;

/// Current block format version.
pub const BLOCK_VERSION: u16 = 1;

/// A block header (rule B-1). The block id is the hash of its encoding.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct BlockHeader {
    /// Format version ([`BLOCK_VERSION`]).
    pub version: u16,
    /// Chain id.
    pub chain_id: String,
    /// Height: 1 for the first block after genesis.
    pub height: u64,
    /// Id of the previous block (the genesis id for height 1).
    pub parent: Hash32,
    /// Proposer's clock in milliseconds since the Unix epoch; strictly increasing (rule B-2).
    pub timestamp_ms: u64,
    /// Who proposed and signed the block; must be a validator in genesis (rule B-3).
    pub proposer: PublicKey,
    /// Number of transactions.
    pub n_txs: u32,
    /// Merkle root of the encoded transactions, in block order.
    pub txs_root: Hash32,
    /// Merkle root of the encoded receipts, in block order.
    pub receipts_root: Hash32,
    /// Root of the authenticated state after applying this block.
    pub state_root: Hash32,
}

impl BlockHeader {
    /// The block id.
    pub fn id(&self) -> Hash32 {
        hash_domain(domain::BLOCK_ID, &encode(self))
    }
}

/// A block: header, transactions, and the proposer's signature over `SIGN_BLOCK || id`.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Block {
    /// The header.
    pub header: BlockHeader,
    /// Transactions in execution order.
    pub txs: Vec<Transaction>,
    /// Proposer's signature.
    pub signature: Signature,
}

/// The bytes a block signature covers.
pub fn block_signing_message(id: &Hash32) -> Vec<u8> {
    let mut m = Vec::with_capacity(domain::SIGN_BLOCK.len() + 32);
    m.extend_from_slice(domain::SIGN_BLOCK);
    m.extend_from_slice(id.as_bytes());
    m
}

/// Merkle root over transactions.
pub fn txs_root(txs: &[Transaction]) -> Hash32 {
    merkle_root(txs.iter().map(encode))
}

/// Merkle root over receipts.
pub fn receipts_root(receipts: &[Receipt]) -> Hash32 {
    merkle_root(receipts.iter().map(encode))
}

impl Block {
    /// Sign a header and wrap it with its transactions.
    pub fn seal(header: BlockHeader, txs: Vec<Transaction>, key: &SecretKey) -> Block {
        let signature = key.sign(&block_signing_message(&header.id()));
        Block { header, txs, signature }
    }

    /// The block id.
    pub fn id(&self) -> Hash32 {
        self.header.id()
    }

    /// True if the signature verifies under the header's proposer key.
    pub fn signature_ok(&self) -> bool {
        self.header
            .proposer
            .verify(&block_signing_message(&self.id()), &self.signature)
            .is_ok()
    }

    /// Canonical bytes.
    pub fn encode(&self) -> Vec<u8> {
        encode(self)
    }

    /// Decode, bounded by [`MAX_BLOCK_BYTES`].
    pub fn decode(bytes: &[u8]) -> Result<Block, DecodeError> {
        let block: Block = decode_bounded(bytes, MAX_BLOCK_BYTES)?;
        if block.header.chain_id.len() > crate::limits::MAX_CHAIN_ID_LEN {
            return Err(DecodeError::Invalid("header chain_id is too long".into()));
        }
        for tx in &block.txs {
            tx.check_structure()?;
        }
        Ok(block)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn decoding_random_bytes_never_panics(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..2048)) {
            let _ = Block::decode(&bytes);
            let _ = crate::codec::decode_bounded::<Vec<crate::Receipt>>(&bytes, 4096);
            let _ = crate::codec::decode_bounded::<depin_crypto::PublicKey>(&bytes, 4096);
            let _ = crate::codec::decode_bounded::<depin_crypto::Signature>(&bytes, 8192);
        }

        #[test]
        fn a_huge_declared_length_does_not_allocate_it(n in 1_000_000u32..u32::MAX) {
            // A transaction list claiming n entries with no bytes behind it must fail cleanly.
            let mut bytes = Vec::new();
            bytes.extend_from_slice(&n.to_le_bytes());
            proptest::prop_assert!(crate::codec::decode_bounded::<Vec<Transaction>>(&bytes, 1024).is_err());
        }
    }
}
