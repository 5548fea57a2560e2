//! The block as Commonware sees it: a depin block (or the genesis anchor) with its codec.
//!
//! Marshal stores and ships blocks through Commonware's codec and identifies them by digest.
//! The digest is the depin block id (BLAKE3 over the header), so consensus certificates,
//! marshal's archives and the ledger all name a block the same way. Height 0 is the genesis
//! anchor: it carries only the genesis id, which block 1 names as its parent.

use bytes::{Buf, BufMut};
use commonware_codec::{EncodeSize, Error as CodecError, Read, Write};
use commonware_consensus::types::Height;
use commonware_consensus::{Block as ConsensusBlock, BoundedBlock, Heightable};
use commonware_cryptography::{blake3::Digest, Digestible};
use depin_types::codec::{decode_bounded, encode};
use depin_types::{Block, Hash32};

/// Tag of the genesis anchor in the encoding.
const TAG_GENESIS: u8 = 0;
/// Tag of a block in the encoding.
const TAG_BLOCK: u8 = 1;
/// Tag byte plus the 4-byte length of an encoded block.
const BLOCK_OVERHEAD: usize = 1 + 4;

/// The digest consensus uses for a depin id.
pub fn digest_of(id: Hash32) -> Digest {
    Digest(id.0)
}

/// The depin id a consensus digest names.
pub fn id_of(digest: &Digest) -> Hash32 {
    Hash32(digest.0)
}

/// A block on the consensus path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChainBlock {
    /// Height 0: the genesis id.
    Genesis(Hash32),
    /// A depin block with its canonical encoding (kept, so it is encoded once).
    Block {
        /// The block.
        block: Box<Block>,
        /// `encode(&block)`.
        encoded: Vec<u8>,
    },
}

impl ChainBlock {
    /// Wrap a depin block.
    pub fn new(block: Block) -> ChainBlock {
        let encoded = encode(&block);
        ChainBlock::Block { block: Box::new(block), encoded }
    }

    /// The depin block, unless this is the genesis anchor.
    pub fn block(&self) -> Option<&Block> {
        match self {
            ChainBlock::Genesis(_) => None,
            ChainBlock::Block { block, .. } => Some(block),
        }
    }

    /// The depin id (the genesis id for the anchor).
    pub fn id(&self) -> Hash32 {
        match self {
            ChainBlock::Genesis(id) => *id,
            ChainBlock::Block { block, .. } => block.id(),
        }
    }
}

impl Write for ChainBlock {
    fn write(&self, buf: &mut impl BufMut) {
        match self {
            ChainBlock::Genesis(id) => {
                buf.put_u8(TAG_GENESIS);
                buf.put_slice(&id.0);
            }
            ChainBlock::Block { encoded, .. } => {
                buf.put_u8(TAG_BLOCK);
                buf.put_u32(u32::try_from(encoded.len()).expect("invariant: blocks are bounded far below 4 GiB"));
                buf.put_slice(encoded);
            }
        }
    }
}

impl EncodeSize for ChainBlock {
    fn encode_size(&self) -> usize {
        match self {
            ChainBlock::Genesis(_) => 1 + 32,
            ChainBlock::Block { encoded, .. } => BLOCK_OVERHEAD + encoded.len(),
        }
    }
}

impl Read for ChainBlock {
    /// The largest encoded depin block accepted.
    type Cfg = usize;

    fn read_cfg(buf: &mut impl Buf, max_block_bytes: &usize) -> Result<Self, CodecError> {
        if buf.remaining() < 1 {
            return Err(CodecError::EndOfBuffer);
        }
        match buf.get_u8() {
            TAG_GENESIS => {
                if buf.remaining() < 32 {
                    return Err(CodecError::EndOfBuffer);
                }
                let mut id = [0u8; 32];
                buf.copy_to_slice(&mut id);
                Ok(ChainBlock::Genesis(Hash32(id)))
            }
            TAG_BLOCK => {
                if buf.remaining() < 4 {
                    return Err(CodecError::EndOfBuffer);
                }
                let len = buf.get_u32() as usize;
                if len > *max_block_bytes {
                    return Err(CodecError::Invalid("ChainBlock", "block larger than the configured limit"));
                }
                if buf.remaining() < len {
                    return Err(CodecError::EndOfBuffer);
                }
                let mut encoded = vec![0u8; len];
                buf.copy_to_slice(&mut encoded);
                let block: Block = decode_bounded(&encoded, *max_block_bytes)
                    .map_err(|_| CodecError::Invalid("ChainBlock", "not a depin block"))?;
                // Marshal requires one encoding per block: refuse anything that would not
                // re-encode to the same bytes.
                if encode(&block) != encoded {
                    return Err(CodecError::Invalid("ChainBlock", "non-canonical block encoding"));
                }
                Ok(ChainBlock::Block { block: Box::new(block), encoded })
            }
            tag => Err(CodecError::InvalidEnum(tag)),
        }
    }
}

impl Digestible for ChainBlock {
    type Digest = Digest;

    fn digest(&self) -> Digest {
        digest_of(self.id())
    }
}

impl Heightable for ChainBlock {
    fn height(&self) -> Height {
        Height::new(match self {
            ChainBlock::Genesis(_) => 0,
            ChainBlock::Block { block, .. } => block.header.height,
        })
    }
}

impl ConsensusBlock for ChainBlock {
    fn parent(&self) -> Digest {
        match self {
            // Nothing precedes genesis; the all-zero digest names no block.
            ChainBlock::Genesis(_) => Digest([0u8; 32]),
            ChainBlock::Block { block, .. } => digest_of(block.header.parent),
        }
    }
}

impl BoundedBlock for ChainBlock {
    fn max_encode_size(max_block_bytes: &usize) -> usize {
        BLOCK_OVERHEAD + max_block_bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use commonware_codec::{Decode, Encode};
    use depin_types::block::{receipts_root, txs_root, BLOCK_VERSION};
    use depin_types::{BlockHeader, Scheme, SecretKey};

    fn block() -> Block {
        let key = SecretKey::from_seeds(Scheme::Ed25519, &[7; 32]).unwrap();
        let header = BlockHeader {
            version: BLOCK_VERSION,
            chain_id: "t".into(),
            height: 3,
            parent: Hash32([1; 32]),
            timestamp_ms: 5,
            proposer: key.public_key(),
            n_txs: 0,
            txs_root: txs_root(&[]),
            receipts_root: receipts_root(&[]),
            state_root: Hash32([2; 32]),
        };
        Block::seal(header, vec![], &key)
    }

    #[test]
    fn round_trips_and_names_blocks_by_their_depin_id() {
        let b = ChainBlock::new(block());
        let bytes = b.encode();
        assert_eq!(bytes.len(), b.encode_size());
        let back = ChainBlock::decode_cfg(bytes.clone(), &1_000_000).unwrap();
        assert_eq!(back, b);
        assert_eq!(id_of(&back.digest()), block().id());
        assert_eq!(back.height().get(), 3);
        assert_eq!(id_of(&back.parent()), Hash32([1; 32]));
        let g = ChainBlock::Genesis(Hash32([9; 32]));
        assert_eq!(ChainBlock::decode_cfg(g.encode(), &10).unwrap(), g);
    }

    #[test]
    fn refuses_oversized_truncated_trailing_and_unknown_input() {
        let bytes = ChainBlock::new(block()).encode().to_vec();
        let dec = |b: &[u8], max: usize| ChainBlock::decode_cfg(b.to_vec(), &max);
        assert!(dec(&bytes, 10).is_err(), "over the limit");
        assert!(dec(&bytes[..bytes.len() - 1], 1_000_000).is_err(), "truncated");
        let mut trailing = bytes.clone();
        trailing.push(0);
        assert!(dec(&trailing, 1_000_000).is_err(), "trailing byte");
        let mut tag = bytes;
        tag[0] = 9;
        assert!(dec(&tag, 1_000_000).is_err(), "unknown tag");
    }
}
