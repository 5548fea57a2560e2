//! Define Byzantine evidence: two consensus votes by one validator that no honest validator signs
//! (spec rules V-1 to V-3).
//!
//! The votes are carried in their own structured form and checked here, by depin, with the
//! bytes the consensus engine signs rebuilt from them ([`signed_bytes`]). Evidence recorded on
//! the ledger therefore stays verifiable by a replay from genesis whatever consensus engine
//! version runs later: the check depends on this module only, never on the engine's code. The
//! layout is that of Commonware simplex (`=2026.10.0`) with its ed25519 certificate scheme and
//! the chain id as namespace; `depin-consensus` tests that real engine votes verify here.

use borsh::{BorshDeserialize, BorshSerialize};
use depin_crypto::{Hash32, PublicKey, Scheme, Signature};
use serde::{Deserialize, Serialize};

/// A consensus round.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Round {
    /// Epoch (always 0 while the validator set is the genesis set).
    pub epoch: u64,
    /// View within the epoch.
    pub view: u64,
}

/// What a notarize or finalize vote is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VotedProposal {
    /// The round of the proposal.
    pub round: Round,
    /// The view of the proposal's parent.
    pub parent_view: u64,
    /// The proposed block's digest (its depin block id).
    pub payload: Hash32,
}

/// A consensus vote. The variant order is the encoding tag: append only.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Vote {
    /// Support for a proposal in its view.
    Notarize(VotedProposal),
    /// Commitment to a notarized proposal.
    Finalize(VotedProposal),
    /// A vote to skip the view.
    Nullify(Round),
}

impl Vote {
    /// The round voted in.
    pub fn round(&self) -> Round {
        match self {
            Vote::Notarize(p) | Vote::Finalize(p) => p.round,
            Vote::Nullify(r) => *r,
        }
    }
}

/// A vote and its signature.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedVote {
    /// The vote.
    pub vote: Vote,
    /// The offender's signature over [`signed_bytes`] of the vote.
    pub signature: Signature,
}

/// Two votes by one validator that together prove a fault.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Evidence {
    /// The validator that signed both votes.
    pub offender: PublicKey,
    /// One vote.
    pub first: SignedVote,
    /// The vote that conflicts with it.
    pub second: SignedVote,
}

/// The kind of fault a piece of evidence proves. The variant order is the encoding tag: append only.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, BorshSerialize, BorshDeserialize, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum EvidenceKind {
    /// Two notarize votes for different proposals in one round.
    ConflictingNotarize,
    /// Two finalize votes for different proposals in one round.
    ConflictingFinalize,
    /// A nullify and a finalize vote in one round.
    NullifyFinalize,
}

impl EvidenceKind {
    /// The stable code string.
    pub fn code(&self) -> &'static str {
        match self {
            EvidenceKind::ConflictingNotarize => "conflicting_notarize",
            EvidenceKind::ConflictingFinalize => "conflicting_finalize",
            EvidenceKind::NullifyFinalize => "nullify_finalize",
        }
    }
}

/// Why evidence proves nothing. The variant order is the encoding tag: append only.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize, thiserror::Error)]
#[serde(rename_all = "snake_case")]
pub enum EvidenceProblem {
    /// V-1: the two votes are not a fault (different rounds, the same proposal, or a pair of
    /// kinds an honest validator may sign).
    #[error("the two votes do not conflict")]
    NotAConflict,
    /// V-1: consensus signs with ed25519 only.
    #[error("the offender key is not an ed25519 key")]
    NotEd25519,
    /// V-1: a vote's signature does not verify under the offender key.
    #[error("a vote's signature does not verify under the offender key")]
    BadVoteSignature,
    /// V-2: the offender is not in the validator set.
    #[error("the offender is not a validator")]
    NotAValidator,
}

impl Evidence {
    /// The round of the fault.
    pub fn round(&self) -> Round {
        self.first.vote.round()
    }

    /// The kind of fault the two votes show, if any, without checking signatures.
    pub fn kind(&self) -> Result<EvidenceKind, EvidenceProblem> {
        use Vote::*;
        let kind = match (&self.first.vote, &self.second.vote) {
            (Notarize(a), Notarize(b)) if a.round == b.round && a != b => EvidenceKind::ConflictingNotarize,
            (Finalize(a), Finalize(b)) if a.round == b.round && a != b => EvidenceKind::ConflictingFinalize,
            (Nullify(r), Finalize(p)) | (Finalize(p), Nullify(r)) if *r == p.round => EvidenceKind::NullifyFinalize,
            _ => return Err(EvidenceProblem::NotAConflict),
        };
        Ok(kind)
    }

    /// Rule V-1: the votes conflict and both are signed by the offender for `chain_id`.
    /// Membership of the validator set (V-2) is the caller's check: it needs state.
    pub fn verify(&self, chain_id: &str) -> Result<EvidenceKind, EvidenceProblem> {
        let kind = self.kind()?;
        if self.offender.scheme() != Scheme::Ed25519 {
            return Err(EvidenceProblem::NotEd25519);
        }
        for v in [&self.first, &self.second] {
            if self.offender.verify(&signed_bytes(chain_id, &v.vote), &v.signature).is_err() {
                return Err(EvidenceProblem::BadVoteSignature);
            }
        }
        Ok(kind)
    }
}

/// The bytes a validator signs for `vote` on chain `chain_id` (spec rule V-1): the namespace
/// `chain_id || suffix` prefixed by its length as a LEB128 varint, then the vote: LEB128
/// epoch and view, and for a proposal the LEB128 parent view and the 32-byte payload.
pub fn signed_bytes(chain_id: &str, vote: &Vote) -> Vec<u8> {
    let suffix: &[u8] = match vote {
        Vote::Notarize(_) => b"_NOTARIZE",
        Vote::Finalize(_) => b"_FINALIZE",
        Vote::Nullify(_) => b"_NULLIFY",
    };
    let mut out = Vec::with_capacity(5 + chain_id.len() + suffix.len() + 3 * 10 + 32);
    let namespace_len = u64::try_from(chain_id.len() + suffix.len()).expect("invariant: chain ids are short");
    put_varint(&mut out, namespace_len);
    out.extend_from_slice(chain_id.as_bytes());
    out.extend_from_slice(suffix);
    let round = vote.round();
    put_varint(&mut out, round.epoch);
    put_varint(&mut out, round.view);
    if let Vote::Notarize(p) | Vote::Finalize(p) = vote {
        put_varint(&mut out, p.parent_view);
        out.extend_from_slice(p.payload.as_bytes());
    }
    out
}

/// Unsigned LEB128: seven bits a byte, low first, high bit set on all but the last.
fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// What the ledger keeps of recorded evidence, under [`crate::state_key::evidence_key`].
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct EvidenceRecord {
    /// The fault.
    pub kind: EvidenceKind,
    /// The round of the fault.
    pub round: Round,
    /// The offender.
    pub offender: PublicKey,
    /// Who reported it.
    pub reporter: depin_crypto::Address,
    /// The reporting transaction (its body holds the two signed votes).
    pub tx_id: Hash32,
    /// The block that recorded it.
    pub height: u64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use depin_crypto::SecretKey;

    fn key() -> SecretKey {
        SecretKey::from_seeds(Scheme::Ed25519, &[7; 32]).unwrap()
    }

    fn proposal(view: u64, payload: u8) -> VotedProposal {
        VotedProposal { round: Round { epoch: 0, view }, parent_view: view - 1, payload: Hash32([payload; 32]) }
    }

    fn signed(key: &SecretKey, vote: Vote) -> SignedVote {
        SignedVote { vote, signature: key.sign(&signed_bytes("chain", &vote)) }
    }

    fn evidence(a: Vote, b: Vote) -> Evidence {
        let k = key();
        Evidence { offender: k.public_key(), first: signed(&k, a), second: signed(&k, b) }
    }

    #[test]
    fn signed_bytes_fixture_never_changes() {
        // The consensus engine's layout: changing this breaks every recorded evidence.
        let v = Vote::Notarize(VotedProposal { round: Round { epoch: 0, view: 300 }, parent_view: 299, payload: Hash32([0xab; 32]) });
        assert_eq!(
            hex::encode(signed_bytes("sim", &v)),
            "0c73696d5f4e4f544152495a4500ac02ab02abababababababababababababababababababababababababababababababab"
        );
        let n = Vote::Nullify(Round { epoch: 1, view: 2 });
        assert_eq!(hex::encode(signed_bytes("sim", &n)), "0b73696d5f4e554c4c4946590102");
    }

    #[test]
    fn each_kind_of_fault_verifies() {
        let cases = [
            (Vote::Notarize(proposal(5, 1)), Vote::Notarize(proposal(5, 2)), EvidenceKind::ConflictingNotarize),
            (Vote::Finalize(proposal(5, 1)), Vote::Finalize(proposal(5, 2)), EvidenceKind::ConflictingFinalize),
            (Vote::Nullify(Round { epoch: 0, view: 5 }), Vote::Finalize(proposal(5, 1)), EvidenceKind::NullifyFinalize),
            (Vote::Finalize(proposal(5, 1)), Vote::Nullify(Round { epoch: 0, view: 5 }), EvidenceKind::NullifyFinalize),
        ];
        for (a, b, kind) in cases {
            assert_eq!(evidence(a, b).verify("chain"), Ok(kind));
        }
    }

    #[test]
    fn votes_an_honest_validator_may_sign_prove_nothing() {
        let cases = [
            (Vote::Notarize(proposal(5, 1)), Vote::Notarize(proposal(5, 1))),
            (Vote::Notarize(proposal(5, 1)), Vote::Notarize(proposal(6, 2))),
            (Vote::Notarize(proposal(5, 1)), Vote::Finalize(proposal(5, 1))),
            (Vote::Notarize(proposal(5, 1)), Vote::Nullify(Round { epoch: 0, view: 5 })),
            (Vote::Nullify(Round { epoch: 0, view: 4 }), Vote::Finalize(proposal(5, 1))),
        ];
        for (a, b) in cases {
            assert_eq!(evidence(a, b).verify("chain"), Err(EvidenceProblem::NotAConflict), "{a:?} / {b:?}");
        }
    }

    #[test]
    fn forged_wrong_chain_and_non_ed25519_evidence_is_refused() {
        let mut e = evidence(Vote::Notarize(proposal(5, 1)), Vote::Notarize(proposal(5, 2)));
        assert_eq!(e.verify("other-chain"), Err(EvidenceProblem::BadVoteSignature));
        let stranger = SecretKey::from_seeds(Scheme::Ed25519, &[8; 32]).unwrap();
        e.second = signed(&stranger, e.second.vote);
        assert_eq!(e.verify("chain"), Err(EvidenceProblem::BadVoteSignature));
        let pq = SecretKey::from_seeds(Scheme::MlDsa65, &[7; 32]).unwrap();
        let e = Evidence {
            offender: pq.public_key(),
            first: signed(&pq, Vote::Notarize(proposal(5, 1))),
            second: signed(&pq, Vote::Notarize(proposal(5, 2))),
        };
        assert_eq!(e.verify("chain"), Err(EvidenceProblem::NotEd25519));
    }

    #[test]
    fn varints_are_leb128() {
        for (v, hex_) in [(0u64, "00"), (127, "7f"), (128, "8001"), (300, "ac02"), (u64::MAX, "ffffffffffffffffff01")] {
            let mut out = Vec::new();
            put_varint(&mut out, v);
            assert_eq!(hex::encode(out), hex_);
        }
    }
}
