//! Hold admitted transactions until a block takes them: bounded, per-sender limits, FIFO.
//!
//! Admission checks what can be checked without executing (chain id, fee, signature — done by
//! the caller outside the lock — and nonce against the sender's next expected nonce), so that
//! a client learns at once, with a typed error, why its transaction will not be included.

use std::collections::{BTreeMap, HashSet, VecDeque};

use depin_types::{Address, Amount, EvidenceProblem, Hash32, Transaction};
use serde::Serialize;

/// Why a transaction was not admitted. Codes are stable (HTTP problem `code`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum SubmitError {
    /// The transaction names another chain.
    #[error("transaction is for another chain; this chain is {expected:?}")]
    WrongChainId {
        /// This chain's id.
        expected: String,
    },
    /// The signature does not verify.
    #[error("signature does not verify under the signer key")]
    BadSignature,
    /// Nonce already used (a replay) or superseded.
    #[error("nonce {got} is already used; the next nonce is {expected}")]
    NonceTooLow {
        /// The sender's next nonce.
        expected: u64,
        /// Given nonce.
        got: u64,
    },
    /// Nonce too far ahead of the sender's next nonce.
    #[error("nonce {got} is too far ahead; the highest acceptable nonce now is {expected_max}")]
    NonceTooHigh {
        /// Highest acceptable nonce.
        expected_max: u64,
        /// Given nonce.
        got: u64,
    },
    /// Fee under the chain minimum.
    #[error("fee is under the minimum of {min_fee}")]
    FeeTooLow {
        /// Minimum fee.
        min_fee: Amount,
    },
    /// A transaction with this sender and nonce is already pending.
    #[error("a transaction with this sender and nonce is already pending")]
    Duplicate,
    /// Too many pending transactions from this sender.
    #[error("this sender already has {limit} pending transactions")]
    SenderFull {
        /// Per-sender limit.
        limit: usize,
    },
    /// The pool is full.
    #[error("the mempool is full ({limit} transactions); retry later")]
    MempoolFull {
        /// Pool limit.
        limit: usize,
    },
    /// The node is stopping.
    #[error("the node is shutting down")]
    ShuttingDown,
    /// The node could not read its state (a storage fault, logged); retry later.
    #[error("the node cannot serve this now; retry later")]
    Unavailable,
    /// The sender account does not exist: fund it first (rule A-4).
    #[error("the sender account does not exist; send it funds first")]
    UnknownAccount,
    /// An evidence report that proves no fault by a validator (rules V-1, V-2).
    #[error("the evidence proves no fault: {problem}")]
    InvalidEvidence {
        /// What is wrong with it.
        problem: EvidenceProblem,
    },
    /// A registration whose proof of possession or vendor attestation does not verify.
    #[error("registration {index}: the device key's proof of possession or the vendor attestation does not verify")]
    BadPossessionProof {
        /// Which registration in the batch.
        index: u32,
    },
    /// An evidence report for a fault already on the ledger (rule V-3).
    #[error("this fault is already recorded on the ledger")]
    EvidenceAlreadyRecorded,
}

impl SubmitError {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            SubmitError::WrongChainId { .. } => "wrong_chain_id",
            SubmitError::BadSignature => "bad_signature",
            SubmitError::NonceTooLow { .. } => "nonce_too_low",
            SubmitError::NonceTooHigh { .. } => "nonce_too_high",
            SubmitError::FeeTooLow { .. } => "fee_too_low",
            SubmitError::Duplicate => "duplicate_transaction",
            SubmitError::SenderFull { .. } => "sender_queue_full",
            SubmitError::MempoolFull { .. } => "mempool_full",
            SubmitError::ShuttingDown => "shutting_down",
            SubmitError::UnknownAccount => "unknown_account",
            SubmitError::Unavailable => "unavailable",
            SubmitError::InvalidEvidence { .. } => "invalid_evidence",
            SubmitError::EvidenceAlreadyRecorded => "evidence_already_recorded",
            SubmitError::BadPossessionProof { .. } => "bad_possession_proof",
        }
    }
}

/// How far ahead of a sender's next nonce a transaction may be. Transactions behind a gap can
/// never be taken until it fills, so this bounds what one sender can park (the per-sender limit
/// bounds consecutive, takeable ones).
pub const MAX_NONCE_GAP: u64 = 64;

struct Entry {
    tx: Transaction,
    id: Hash32,
    /// Encoded size, for the per-block byte budget.
    bytes: usize,
}

/// The pool.
pub struct Mempool {
    max_txs: usize,
    max_per_sender: usize,
    /// Pending transactions per sender, by nonce.
    by_sender: BTreeMap<Address, BTreeMap<u64, Entry>>,
    /// Arrival order.
    order: VecDeque<(Address, u64)>,
    /// Next nonce each sender with pending or in-flight transactions will use.
    expected: BTreeMap<Address, u64>,
    /// Ids pending or taken into a block not yet committed.
    ids: HashSet<Hash32>,
    len: usize,
}

impl Mempool {
    /// An empty pool with these limits.
    pub fn new(max_txs: usize, max_per_sender: usize) -> Mempool {
        Mempool {
            max_txs,
            max_per_sender,
            by_sender: BTreeMap::new(),
            order: VecDeque::new(),
            expected: BTreeMap::new(),
            ids: HashSet::new(),
            len: 0,
        }
    }

    /// Pending transactions (not counting those taken into a block in progress).
    pub fn len(&self) -> usize {
        self.len
    }

    /// True if nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// True if the id is pending or in a block being committed.
    pub fn contains(&self, id: &Hash32) -> bool {
        self.ids.contains(id)
    }

    /// Admit a transaction whose signature, chain id and fee the caller has checked.
    /// `committed_nonce` is the sender's nonce in committed state.
    pub fn admit(&mut self, tx: Transaction, id: Hash32, committed_nonce: u64) -> Result<(), SubmitError> {
        let sender = tx.content.sender();
        let nonce = tx.content.nonce;
        let next = *self.expected.get(&sender).unwrap_or(&committed_nonce);
        let next = next.max(committed_nonce);
        if nonce < next {
            return Err(SubmitError::NonceTooLow { expected: next, got: nonce });
        }
        let pending = self.by_sender.entry(sender).or_default();
        // The gap is measured from the end of the sender's run of consecutive pending nonces:
        // a busy sender may queue up to its per-sender limit, but nothing far beyond a hole.
        let mut run_end = next;
        while pending.contains_key(&run_end) {
            run_end += 1;
        }
        let limit = run_end.saturating_add(MAX_NONCE_GAP).min(next.saturating_add(self.max_per_sender as u64));
        if nonce >= limit {
            if pending.is_empty() {
                self.by_sender.remove(&sender);
            }
            return Err(SubmitError::NonceTooHigh { expected_max: limit - 1, got: nonce });
        }
        if pending.contains_key(&nonce) || self.ids.contains(&id) {
            return Err(SubmitError::Duplicate);
        }
        if pending.len() >= self.max_per_sender {
            return Err(SubmitError::SenderFull { limit: self.max_per_sender });
        }
        if self.len >= self.max_txs {
            if pending.is_empty() {
                self.by_sender.remove(&sender);
            }
            return Err(SubmitError::MempoolFull { limit: self.max_txs });
        }
        let bytes = tx.encode().len();
        pending.insert(nonce, Entry { tx, id, bytes });
        self.expected.insert(sender, next);
        self.order.push_back((sender, nonce));
        self.ids.insert(id);
        self.len += 1;
        Ok(())
    }

    /// The nonce a new transaction from `sender` should carry: the first one after its run of
    /// pending transactions (`committed_nonce` is its nonce in committed state).
    pub fn next_nonce(&self, sender: &Address, committed_nonce: u64) -> u64 {
        let mut next = self.expected.get(sender).copied().unwrap_or(committed_nonce).max(committed_nonce);
        if let Some(pending) = self.by_sender.get(sender) {
            while pending.contains_key(&next) {
                next += 1;
            }
        }
        next
    }

    /// How many transactions a block could take now (each sender's run of consecutive nonces
    /// from its next nonce), counting at most `limit`. Transactions waiting behind a nonce gap
    /// are not ready: they must not make the sequencer cut blocks.
    pub fn ready(&self, limit: usize) -> usize {
        let mut n = 0;
        for (sender, pending) in &self.by_sender {
            let Some(mut next) = self.expected.get(sender).copied() else { continue };
            for nonce in pending.keys() {
                if *nonce != next {
                    break;
                }
                n += 1;
                next += 1;
                if n >= limit {
                    return n;
                }
            }
        }
        n
    }

    /// Take up to `max` transactions (and at most `max_bytes` encoded) in arrival order, each
    /// only if it carries its sender's next nonce; others stay for a later block. Taken ids
    /// stay "in flight" until [`Mempool::committed`].
    pub fn take(&mut self, max: usize, max_bytes: usize) -> Vec<Transaction> {
        let mut bytes = 0usize;
        // A sender's later nonce may have arrived first; a few passes pick it up once its
        // predecessor is taken. Bounded so an adversarial order cannot make this quadratic.
        const MAX_PASSES: usize = 4;
        let mut out = Vec::with_capacity(max.min(self.len));
        for _ in 0..MAX_PASSES {
            let before = out.len();
            let mut skipped = VecDeque::new();
            while out.len() < max {
                let Some((sender, nonce)) = self.order.pop_front() else { break };
                let Some(pending) = self.by_sender.get_mut(&sender) else { continue };
                if !pending.contains_key(&nonce) {
                    continue; // dropped as stale after a commit
                }
                let next = self.expected.get(&sender).copied().unwrap_or(nonce);
                let size = pending.get(&nonce).map_or(0, |e| e.bytes);
                if nonce != next || bytes + size > max_bytes {
                    skipped.push_back((sender, nonce));
                    continue;
                }
                bytes += size;
                let entry = pending.remove(&nonce).expect("invariant: checked above");
                if pending.is_empty() {
                    self.by_sender.remove(&sender);
                }
                self.expected.insert(sender, nonce + 1);
                self.len -= 1;
                out.push(entry.tx);
            }
            skipped.append(&mut self.order);
            self.order = skipped;
            if out.len() == before || out.len() >= max {
                break;
            }
        }
        out
    }

    /// Pick up to `max` transactions (at most `max_bytes` encoded) for a block built on a parent
    /// that is not final yet, without taking them: each sender's run of consecutive nonces from
    /// its nonce at that parent (`nonce_at`), in arrival order. Transactions stay pending until
    /// a block carrying them is final ([`Mempool::committed`]); a proposal that never becomes
    /// final loses nothing.
    pub fn select<E>(
        &self,
        max: usize,
        max_bytes: usize,
        mut nonce_at: impl FnMut(&Address) -> Result<u64, E>,
    ) -> Result<Vec<Transaction>, E> {
        let mut next: BTreeMap<Address, u64> = BTreeMap::new();
        let mut picked: HashSet<Hash32> = HashSet::new();
        let mut bytes = 0usize;
        let mut out = Vec::with_capacity(max.min(self.len));
        // As in `take`: a few passes pick up nonces that arrived before their predecessor.
        const MAX_PASSES: usize = 4;
        for _ in 0..MAX_PASSES {
            let before = out.len();
            for (sender, nonce) in &self.order {
                if out.len() >= max {
                    break;
                }
                let Some(entry) = self.by_sender.get(sender).and_then(|p| p.get(nonce)) else { continue };
                if picked.contains(&entry.id) {
                    continue;
                }
                let expected = match next.get(sender) {
                    Some(n) => *n,
                    None => {
                        let n = nonce_at(sender)?;
                        next.insert(*sender, n);
                        n
                    }
                };
                if *nonce != expected || bytes + entry.bytes > max_bytes {
                    continue;
                }
                bytes += entry.bytes;
                next.insert(*sender, nonce + 1);
                picked.insert(entry.id);
                out.push(entry.tx.clone());
            }
            if out.len() == before || out.len() >= max {
                break;
            }
        }
        Ok(out)
    }

    /// After a block commits: drop its transactions (`(id, sender, nonce)` each) whether they
    /// applied or not, and resynchronise each sender's next nonce with committed state (a
    /// transaction rejected before charging did not use its nonce). `nonces` holds the committed
    /// nonce of every sender in the block.
    ///
    /// A BFT proposal only selects transactions, so a block's transactions may still be pending
    /// here: one rejected without charge (cannot pay its fee, nonce ahead) must still leave, or
    /// it would ride along, rejected for free, in every later block.
    pub fn committed(&mut self, txs: impl IntoIterator<Item = (Hash32, Address, u64)>, nonces: &BTreeMap<Address, u64>) {
        for (id, sender, nonce) in txs {
            self.ids.remove(&id);
            if let Some(pending) = self.by_sender.get_mut(&sender)
                && pending.get(&nonce).is_some_and(|e| e.id == id)
            {
                pending.remove(&nonce);
                self.len -= 1;
                if pending.is_empty() {
                    self.by_sender.remove(&sender);
                }
            }
        }
        for (&sender, &nonce) in nonces {
            match self.by_sender.get_mut(&sender) {
                None => {
                    self.expected.remove(&sender);
                }
                Some(pending) => {
                    let stale: Vec<u64> = pending.range(..nonce).map(|(n, _)| *n).collect();
                    for n in stale {
                        if let Some(e) = pending.remove(&n) {
                            self.ids.remove(&e.id);
                            self.len -= 1;
                        }
                    }
                    if pending.is_empty() {
                        self.by_sender.remove(&sender);
                        self.expected.remove(&sender);
                    } else {
                        self.expected.insert(sender, nonce);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use depin_types::{Scheme, SecretKey, TxBody, TxContent};

    fn tx(seed: u8, nonce: u64) -> (Transaction, Hash32) {
        let k = SecretKey::from_seeds(Scheme::Ed25519, &[seed; 32]).unwrap();
        let t = TxContent {
            chain_id: "c".into(),
            signer: k.public_key(),
            nonce,
            fee: Amount(0),
            body: TxBody::Burn { amount: Amount(1) },
        }
        .sign(&k);
        let id = t.id();
        (t, id)
    }

    #[test]
    fn admits_in_order_and_refuses_replays_duplicates_and_gaps() {
        let mut m = Mempool::new(10, 3);
        let (a0, i0) = tx(1, 0);
        m.admit(a0.clone(), i0, 0).unwrap();
        assert_eq!(m.admit(a0, i0, 0), Err(SubmitError::Duplicate));
        let (old, io) = tx(1, 0);
        assert_eq!(m.admit(old, io, 1), Err(SubmitError::NonceTooLow { expected: 1, got: 0 }));
        let (far, ifar) = tx(1, 3);
        assert_eq!(m.admit(far, ifar, 0), Err(SubmitError::NonceTooHigh { expected_max: 2, got: 3 }), "per-sender limit 3");
        let (replay, ir) = tx(2, 4);
        assert_eq!(m.admit(replay, ir, 5), Err(SubmitError::NonceTooLow { expected: 5, got: 4 }));
    }

    #[test]
    fn transactions_behind_a_nonce_gap_are_not_ready() {
        // Regression: a pool of future-nonce transactions made the sequencer cut empty blocks
        // in a loop, because it counted them as waiting.
        let mut m = Mempool::new(10, 5);
        for n in 1..4 {
            let (t, i) = tx(1, n);
            m.admit(t, i, 0).unwrap();
        }
        assert_eq!(m.len(), 3);
        assert_eq!(m.ready(10), 0);
        assert!(m.take(10, usize::MAX).is_empty());
        let (t, i) = tx(1, 0);
        m.admit(t, i, 0).unwrap();
        assert_eq!(m.ready(10), 4);
    }

    #[test]
    fn a_busy_sender_may_queue_a_long_run_but_not_park_far_beyond_a_hole() {
        let mut m = Mempool::new(1_000, 1_000);
        for n in 0..150 {
            let (t, i) = tx(1, n);
            m.admit(t, i, 0).unwrap();
        }
        let (t, i) = tx(1, 150 + MAX_NONCE_GAP);
        assert_eq!(
            m.admit(t, i, 0),
            Err(SubmitError::NonceTooHigh { expected_max: 150 + MAX_NONCE_GAP - 1, got: 150 + MAX_NONCE_GAP })
        );
        let (t, i) = tx(1, 150 + MAX_NONCE_GAP - 1);
        m.admit(t, i, 0).unwrap();
    }

    #[test]
    fn a_block_takes_no_more_than_its_byte_budget() {
        let mut m = Mempool::new(10, 5);
        for n in 0..4 {
            let (t, i) = tx(1, n);
            m.admit(t, i, 0).unwrap();
        }
        let one = tx(1, 0).0.encode().len();
        assert_eq!(m.take(10, 2 * one + 1).len(), 2);
    }

    #[test]
    fn limits_per_sender_and_in_total() {
        let mut m = Mempool::new(4, 3);
        for n in 0..3 {
            let (t, i) = tx(1, n);
            m.admit(t, i, 0).unwrap();
        }
        let (t, i) = tx(1, 2);
        assert_eq!(m.admit(t, i, 0), Err(SubmitError::Duplicate));
        let (t, i) = tx(2, 0);
        m.admit(t, i, 0).unwrap();
        let (t, i) = tx(3, 0);
        assert_eq!(m.admit(t, i, 0), Err(SubmitError::MempoolFull { limit: 4 }));
        assert_eq!(m.len(), 4);
    }

    #[test]
    fn take_respects_nonce_order_and_commit_resyncs() {
        let mut m = Mempool::new(10, 5);
        let (t1, i1) = tx(1, 1);
        let (t0, i0) = tx(1, 0);
        m.admit(t1, i1, 0).unwrap();
        m.admit(t0, i0, 0).unwrap();
        assert_eq!(m.ready(10), 2, "nonce 1 arrived first, but both are ready");
        let first = m.take(10, usize::MAX);
        assert_eq!(first.iter().map(|t| t.content.nonce).collect::<Vec<_>>(), vec![0, 1]);
        assert!(m.contains(&i0), "in flight until committed");
        assert!(m.take(10, usize::MAX).is_empty());
        let sender = first[0].content.sender();
        m.committed(first.iter().map(|t| (t.id(), t.content.sender(), t.content.nonce)), &BTreeMap::from([(sender, 2)]));
        assert!(m.is_empty());
        assert!(!m.contains(&i0));
        let (t2, i2) = tx(1, 2);
        m.admit(t2, i2, 2).unwrap();
    }

    #[test]
    fn transactions_a_block_carried_leave_even_when_rejected_without_charge() {
        // BFT selects without taking: a block carries nonces 0 and 1, rejects both before
        // charging (cannot pay the fee), so the committed nonce stays 0. They must still go.
        let mut m = Mempool::new(10, 5);
        let txs: Vec<_> = (0..3).map(|n| tx(1, n)).collect();
        for (t, i) in &txs {
            m.admit(t.clone(), *i, 0).unwrap();
        }
        let selected = m.select(2, usize::MAX, |_| Ok::<u64, ()>(0)).unwrap();
        assert_eq!(selected.len(), 2);
        let sender = selected[0].content.sender();
        m.committed(selected.iter().map(|t| (t.id(), t.content.sender(), t.content.nonce)), &BTreeMap::from([(sender, 0)]));
        assert_eq!(m.len(), 1, "only the transaction no block carried is left");
        assert!(!m.contains(&txs[0].1) && !m.contains(&txs[1].1) && m.contains(&txs[2].1));
        let again = m.select(10, usize::MAX, |_| Ok::<u64, ()>(0)).unwrap();
        assert!(again.is_empty(), "nonce 2 waits behind the gap the rejected ones left");
    }
}
