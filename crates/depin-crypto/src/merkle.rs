//! Compute binary Merkle roots over ordered leaves (transactions and receipts of a block).

use crate::domain::{MERKLE_LEAF, MERKLE_NODE};
use crate::hash::{hash_domain, Hash32};

/// The Merkle root of `leaves` (each already encoded), with leaf/node domain separation so a
/// leaf can never be confused with an interior node. An odd node is promoted unchanged. The
/// root of no leaves is the hash of the empty string in the leaf domain.
pub fn merkle_root<I, B>(leaves: I) -> Hash32
where
    I: IntoIterator<Item = B>,
    B: AsRef<[u8]>,
{
    let mut level: Vec<Hash32> = leaves
        .into_iter()
        .map(|l| hash_domain(MERKLE_LEAF, l.as_ref()))
        .collect();
    if level.is_empty() {
        return hash_domain(MERKLE_LEAF, b"");
    }
    while level.len() > 1 {
        let mut next = Vec::with_capacity(level.len().div_ceil(2));
        for pair in level.chunks(2) {
            match pair {
                [a, b] => {
                    let mut buf = [0u8; 64];
                    buf[..32].copy_from_slice(&a.0);
                    buf[32..].copy_from_slice(&b.0);
                    next.push(hash_domain(MERKLE_NODE, &buf));
                }
                [a] => next.push(*a),
                _ => unreachable!("chunks(2) yields one or two items"),
            }
        }
        level = next;
    }
    level[0]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_and_content_change_the_root() {
        let a = merkle_root([b"a".as_slice(), b"b", b"c"]);
        let b = merkle_root([b"b".as_slice(), b"a", b"c"]);
        let c = merkle_root([b"a".as_slice(), b"b"]);
        assert_ne!(a, b);
        assert_ne!(a, c);
        assert_eq!(a, merkle_root([b"a".as_slice(), b"b", b"c"]));
    }

    #[test]
    fn empty_root_is_stable() {
        assert_eq!(merkle_root(Vec::<Vec<u8>>::new()), hash_domain(MERKLE_LEAF, b""));
    }
}
