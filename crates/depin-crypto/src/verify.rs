//! Verify many signatures at once: spread over all cores in chunks, or as an Ed25519 batch.
//!
//! Used at the edges (mempool admission, block verification, telemetry ingest), never inside the
//! state machine: the machine receives the per-item verdicts as input, which keeps it free of
//! threads while verification uses every core.

use std::num::NonZeroUsize;
use std::sync::Mutex;

/// Run `check` on every item using all available cores; returns the verdicts in input order.
/// The result is identical to a sequential map: only the scheduling is parallel.
pub fn verify_all_parallel<T, R, F>(items: &[T], check: F) -> Vec<R>
where
    T: Sync,
    R: Send + Clone + Default,
    F: Fn(&T) -> R + Sync,
{
    // Small enough that a core slowed by other work takes fewer chunks, large enough that taking
    // one costs nothing next to verifying it.
    const CHUNK: usize = 16;
    verify_chunks_parallel(items, CHUNK, |inp, out| {
        for (i, o) in inp.iter().zip(out.iter_mut()) {
            *o = check(i);
        }
    })
}

/// Run `check` over consecutive chunks of `chunk` items (the last may be shorter) on all
/// available cores; `check` writes one verdict per item of its chunk. The calling thread works
/// too, and every thread takes the next chunk nobody has taken until none is left, so a core
/// busy with other work (the sequencer) takes fewer chunks instead of making the others wait.
/// The result is identical to a sequential run: only the scheduling is parallel.
pub fn verify_chunks_parallel<T, R, F>(items: &[T], chunk: usize, check: F) -> Vec<R>
where
    T: Sync,
    R: Send + Clone + Default,
    F: Fn(&[T], &mut [R]) + Sync,
{
    assert!(chunk > 0, "invariant: chunks hold at least one item");
    let mut out = vec![R::default(); items.len()];
    let n_chunks = items.len().div_ceil(chunk);
    let n_threads = std::thread::available_parallelism().map_or(1, NonZeroUsize::get).min(n_chunks);
    if n_threads <= 1 {
        for (inp, outp) in items.chunks(chunk).zip(out.chunks_mut(chunk)) {
            check(inp, outp);
        }
        return out;
    }
    let queue = Mutex::new(items.chunks(chunk).zip(out.chunks_mut(chunk)));
    let work = || loop {
        let next = queue.lock().expect("invariant: no thread panics holding the chunk queue").next();
        let Some((inp, outp)) = next else { break };
        check(inp, outp);
    };
    std::thread::scope(|s| {
        for _ in 1..n_threads {
            s.spawn(work);
        }
        work();
    });
    out
}

/// An Ed25519 batch verifier (random linear combination; about twice as fast per signature as
/// single verification). A batch either verifies as a whole or not; callers that need per-item
/// verdicts fall back to single verification when a batch fails.
///
/// Batch verification uses the cofactored equation, which can accept a crafted signature that
/// strict single verification rejects (small-order components). Weak keys are refused here;
/// consensus paths use [`crate::PublicKey::verify`] (strict) and use batches only as a
/// pre-filter whose success is not final (docs/adr/0003).
pub struct Ed25519Batch;

impl Ed25519Batch {
    /// True if every (message, signature, public key) verifies. Malformed keys make it false.
    pub fn verify(messages: &[&[u8]], signatures: &[[u8; 64]], public_keys: &[[u8; 32]]) -> bool {
        let Ok(keys) = public_keys
            .iter()
            .map(ed25519_dalek::VerifyingKey::from_bytes)
            .collect::<Result<Vec<_>, _>>()
        else {
            return false;
        };
        if keys.iter().any(ed25519_dalek::VerifyingKey::is_weak) {
            return false;
        }
        let sigs: Vec<_> = signatures.iter().map(ed25519_dalek::Signature::from_bytes).collect();
        ed25519_dalek::verify_batch(messages, &sigs, &keys).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::{Scheme, SecretKey};

    #[test]
    fn parallel_verdicts_match_sequential() {
        let keys: Vec<_> = (0..200u8)
            .map(|i| SecretKey::from_seeds(Scheme::Ed25519, &[i; 32]).unwrap())
            .collect();
        let items: Vec<_> = keys
            .iter()
            .enumerate()
            .map(|(i, k)| {
                let msg = vec![i as u8];
                let sig = if i % 7 == 0 { k.sign(b"wrong") } else { k.sign(&msg) };
                (k.public_key(), msg, sig)
            })
            .collect();
        let check = |(pk, m, s): &(crate::PublicKey, Vec<u8>, crate::Signature)| pk.verify(m, s).is_ok();
        let seq: Vec<bool> = items.iter().map(check).collect();
        assert_eq!(verify_all_parallel(&items, check), seq);
        assert_eq!(seq.iter().filter(|ok| !**ok).count(), 29);
    }

    #[test]
    fn batch_rejects_one_bad_signature() {
        let keys: Vec<_> = (0..16u8)
            .map(|i| SecretKey::from_seeds(Scheme::Ed25519, &[i; 32]).unwrap())
            .collect();
        let msgs: Vec<Vec<u8>> = (0..16u8).map(|i| vec![i; 10]).collect();
        let mut sigs: Vec<[u8; 64]> = keys
            .iter()
            .zip(&msgs)
            .map(|(k, m)| k.sign(m).bytes().try_into().unwrap())
            .collect();
        let pks: Vec<[u8; 32]> = keys.iter().map(|k| k.public_key().ed25519_bytes().unwrap()).collect();
        let refs: Vec<&[u8]> = msgs.iter().map(|m| m.as_slice()).collect();
        assert!(Ed25519Batch::verify(&refs, &sigs, &pks));
        sigs[3][5] ^= 1;
        assert!(!Ed25519Batch::verify(&refs, &sigs, &pks));
    }
}
