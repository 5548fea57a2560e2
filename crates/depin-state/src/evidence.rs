//! Record Byzantine evidence: two conflicting votes by a validator (rules V-1 to V-3).
//!
//! Checking the two vote signatures here, inside the machine, keeps the verdict a pure function
//! of the transaction and the state; evidence is rare, so its two verifications cost nothing
//! next to a block's transaction signatures (verified at the edge). Penalties are a later rule:
//! this only records the fault, once.

use depin_types::evidence::{Evidence, EvidenceRecord};
use depin_types::state_key::evidence_key;
use depin_types::{Address, EvidenceProblem, Hash32, RejectReason};

use crate::overlay::{Overlay, StateRead, StorageFault};

/// Who reported evidence, and where.
pub struct Reported {
    /// The reporting account.
    pub by: Address,
    /// The reporting transaction.
    pub tx_id: Hash32,
    /// The block height.
    pub height: u64,
}

/// Record `evidence` unless it proves nothing (V-1, V-2) or is already recorded (V-3).
pub fn record<R: StateRead + ?Sized>(
    st: &mut Overlay<'_, R>,
    chain_id: &str,
    evidence: &Evidence,
    reported: Reported,
) -> Result<Result<(), RejectReason>, StorageFault> {
    let invalid = |problem| Ok(Err(RejectReason::InvalidEvidence { problem }));
    let kind = match evidence.verify(chain_id) {
        Ok(kind) => kind, // rule V-1
        Err(problem) => return invalid(problem),
    };
    if !st.validators()?.contains(&evidence.offender) {
        return invalid(EvidenceProblem::NotAValidator); // rule V-2
    }
    let round = evidence.round();
    let key = evidence_key(&evidence.offender.address(), round, kind);
    if st.evidence(&key)?.is_some() {
        return Ok(Err(RejectReason::EvidenceAlreadyRecorded)); // rule V-3
    }
    let record = EvidenceRecord {
        kind,
        round,
        offender: evidence.offender.clone(),
        reporter: reported.by,
        tx_id: reported.tx_id,
        height: reported.height,
    };
    st.put(key, depin_types::codec::encode(&record));
    Ok(Ok(()))
}
