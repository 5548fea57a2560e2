//! Watch consensus activity: the latest view, and Byzantine faults, turned into ledger evidence.
//!
//! Simplex reports a validator that signed two different proposals in one view
//! (`ConflictingNotarize`, `ConflictingFinalize`) or both skipped and finalized a view
//! (`NullifyFinalize`), with the two signed votes. The watcher converts them into depin
//! [`Evidence`] (the votes in depin's own form, checked by the state machine without this
//! crate, spec rules V-1 to V-3), and [`report_loop`] submits each one once, signed by the node
//! key, so that the fault is recorded on the ledger.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use commonware_actor::Feedback;
use commonware_codec::{Encode, Read, ReadExt as _};
use commonware_consensus::simplex::scheme::ed25519::Scheme as CertScheme;
use commonware_consensus::simplex::types::{Activity, Finalize, Notarize, Nullify, Proposal};
use commonware_consensus::{Reporter, Viewable};
use commonware_cryptography::blake3::Digest;
use commonware_cryptography::certificate::Attestation;
use commonware_runtime::Clock;
use depin_node::{Node, SubmitError};
use depin_types::evidence::{Evidence, Round, SignedVote, Vote, VotedProposal};
use depin_types::{Hash32, PublicKey, Scheme, Signature, TxBody};

use crate::identity::depin_key;

pub use depin_types::EvidenceKind as FaultKind;

/// How often [`report_loop`] looks for new faults.
pub const REPORT_INTERVAL: Duration = Duration::from_millis(200);
/// Most faults kept for reporting; more are counted as dropped (a flood of faults from one
/// Byzantine validator must not grow memory without bound).
pub const MAX_PENDING_FAULTS: usize = 1_024;

/// A fault as observed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fault {
    /// What.
    pub kind: FaultKind,
    /// Who.
    pub offender: PublicKey,
    /// In which view.
    pub view: u64,
    /// The proof, ready for the ledger.
    pub evidence: Evidence,
}

#[derive(Default)]
struct Faults {
    seen: Vec<Fault>,
    /// Index in `seen` of the first fault not yet handed to [`report_loop`].
    next_to_report: usize,
    dropped: u64,
}

/// Reporter for simplex activity.
#[derive(Clone)]
pub struct Watcher {
    scheme: CertScheme,
    view: Arc<AtomicU64>,
    faults: Arc<Mutex<Faults>>,
}

impl Watcher {
    /// A watcher that names offenders through `scheme`'s participant set.
    pub fn new(scheme: CertScheme) -> Watcher {
        Watcher { scheme, view: Arc::new(AtomicU64::new(0)), faults: Arc::default() }
    }

    /// Latest view with a certificate.
    pub fn view(&self) -> u64 {
        self.view.load(Ordering::Relaxed)
    }

    /// Faults seen so far.
    pub fn faults(&self) -> Vec<Fault> {
        self.lock().seen.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Faults> {
        self.faults.lock().expect("invariant: faults lock is never poisoned")
    }

    /// Faults not yet taken by this call.
    fn take_new(&self) -> Vec<Fault> {
        let mut f = self.lock();
        let new = f.seen[f.next_to_report..].to_vec();
        f.next_to_report = f.seen.len();
        new
    }

    fn record(&self, kind: FaultKind, view: u64, first: (SignedVote, u32), second: SignedVote) {
        // The batcher only reports votes from participants; anything else is ignored, not a panic.
        let Some(offender) = self.signer_of(first.1) else { return };
        let evidence = Evidence { offender: offender.clone(), first: first.0, second };
        let fault = Fault { kind, offender, view, evidence };
        tracing::warn!(kind = kind.code(), offender = %fault.offender.address(), view, "Byzantine fault observed");
        let mut faults = self.lock();
        if faults.seen.iter().any(|f| (f.kind, &f.offender, f.view) == (kind, &fault.offender, view)) {
            return;
        }
        if faults.seen.len() >= MAX_PENDING_FAULTS {
            faults.dropped += 1;
            return;
        }
        faults.seen.push(fault);
    }

    fn signer_of(&self, index: u32) -> Option<PublicKey> {
        use commonware_cryptography::certificate::Scheme as _;
        use commonware_utils::ordered::Quorum as _;
        self.scheme.participants().key(commonware_utils::Participant::new(index)).map(depin_key)
    }
}

/// The depin form of a commonware round.
fn round(r: commonware_consensus::types::Round) -> Round {
    Round { epoch: r.epoch().get(), view: r.view().get() }
}

fn proposal(p: &Proposal<Digest>) -> VotedProposal {
    VotedProposal { round: round(p.round), parent_view: p.parent.get(), payload: Hash32(p.payload.0) }
}

/// The signature of an attestation with its signer's index; `None` if it does not decode.
fn signature(a: &Attestation<CertScheme>) -> Option<(Signature, u32)> {
    let sig = a.signature.get()?;
    let sig = Signature::from_parts(Scheme::Ed25519, sig.as_ref()).ok()?;
    Some((sig, a.signer.get()))
}

fn notarize(n: &Notarize<CertScheme, Digest>) -> Option<(SignedVote, u32)> {
    let (signature, signer) = signature(&n.attestation)?;
    Some((SignedVote { vote: Vote::Notarize(proposal(&n.proposal)), signature }, signer))
}

fn finalize(f: &Finalize<CertScheme, Digest>) -> Option<(SignedVote, u32)> {
    let (signature, signer) = signature(&f.attestation)?;
    Some((SignedVote { vote: Vote::Finalize(proposal(&f.proposal)), signature }, signer))
}

fn nullify(n: &Nullify<CertScheme>) -> Option<(SignedVote, u32)> {
    let (signature, signer) = signature(&n.attestation)?;
    Some((SignedVote { vote: Vote::Nullify(round(n.round)), signature }, signer))
}

/// The two votes inside a conflict report. Commonware keeps them private but encodes a report
/// as the two votes back to back, so they are read back from that encoding.
fn pair<A: Read<Cfg = ()>, B: Read<Cfg = ()>>(report: &impl Encode) -> Option<(A, B)> {
    let mut bytes = report.encode();
    let a = A::read(&mut bytes).ok()?;
    let b = B::read(&mut bytes).ok()?;
    Some((a, b))
}

/// The depin evidence of a conflict report, with its kind; `None` for any other activity.
pub fn to_evidence(activity: &Activity<CertScheme, Digest>) -> Option<(FaultKind, SignedVote, u32, SignedVote)> {
    match activity {
        Activity::ConflictingNotarize(c) => {
            let (a, b): (Notarize<CertScheme, Digest>, Notarize<CertScheme, Digest>) = pair(c)?;
            let ((first, signer), (second, _)) = (notarize(&a)?, notarize(&b)?);
            Some((FaultKind::ConflictingNotarize, first, signer, second))
        }
        Activity::ConflictingFinalize(c) => {
            let (a, b): (Finalize<CertScheme, Digest>, Finalize<CertScheme, Digest>) = pair(c)?;
            let ((first, signer), (second, _)) = (finalize(&a)?, finalize(&b)?);
            Some((FaultKind::ConflictingFinalize, first, signer, second))
        }
        Activity::NullifyFinalize(c) => {
            let (a, b): (Nullify<CertScheme>, Finalize<CertScheme, Digest>) = pair(c)?;
            let ((first, signer), (second, _)) = (nullify(&a)?, finalize(&b)?);
            Some((FaultKind::NullifyFinalize, first, signer, second))
        }
        _ => None,
    }
}

impl Reporter for Watcher {
    type Activity = Activity<CertScheme, Digest>;

    fn report(&mut self, activity: Self::Activity) -> Feedback {
        let view = activity.view().get();
        match &activity {
            Activity::Notarization(_) | Activity::Nullification(_) | Activity::Finalization(_) => {
                self.view.fetch_max(view, Ordering::Relaxed);
            }
            Activity::ConflictingNotarize(_) | Activity::ConflictingFinalize(_) | Activity::NullifyFinalize(_) => {
                match to_evidence(&activity) {
                    Some((kind, first, signer, second)) => self.record(kind, view, (first, signer), second),
                    None => tracing::warn!(view, "a fault report whose votes do not decode; ignored"),
                }
            }
            _ => {}
        }
        Feedback::Ok
    }
}

/// Submit every new fault the watcher sees as a `ReportEvidence` transaction signed by the node
/// key, until the task is aborted. A fault already on the ledger (another validator reported
/// it first) is skipped; one that cannot be submitted now (full pool, node account not funded)
/// is retried on the next round, a few times.
pub async fn report_loop(context: impl Clock, watcher: Watcher, node: Node) {
    const MAX_ATTEMPTS: u32 = 25;
    let mut pending: Vec<(Fault, u32)> = Vec::new();
    loop {
        context.sleep(REPORT_INTERVAL).await;
        pending.extend(watcher.take_new().into_iter().map(|f| (f, 0)));
        pending.retain_mut(|(fault, attempts)| {
            let body = TxBody::ReportEvidence { evidence: fault.evidence.clone() };
            match node.submit_as_node(body) {
                Ok(id) => {
                    tracing::info!(kind = fault.kind.code(), offender = %fault.offender.address(), view = fault.view, tx = %id, "evidence submitted");
                    false
                }
                Err(SubmitError::EvidenceAlreadyRecorded) => false,
                Err(e @ (SubmitError::InvalidEvidence { .. } | SubmitError::WrongChainId { .. } | SubmitError::FeeTooLow { .. })) => {
                    // A fault consensus reported that the ledger would not accept: a bug, say so.
                    tracing::error!(error = %e, kind = fault.kind.code(), view = fault.view, "evidence refused by the ledger rules");
                    false
                }
                Err(e) => {
                    *attempts += 1;
                    if *attempts >= MAX_ATTEMPTS {
                        tracing::warn!(error = %e, kind = fault.kind.code(), view = fault.view, "giving up on reporting evidence");
                    }
                    *attempts < MAX_ATTEMPTS
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    //! Real engine votes, signed by the engine's scheme, become evidence that depin's own check
    //! (rule V-1, no Commonware code) accepts: the signed-bytes layout agrees with the engine.

    use commonware_consensus::simplex::types::{ConflictingFinalize, ConflictingNotarize, NullifyFinalize};
    use commonware_consensus::types::{Epoch, Round as CwRound, View};

    use super::*;
    use crate::identity::{consensus_signer, participants};
    use depin_types::genesis::GenesisValidator;
    use depin_types::{Amount, Genesis, Params, SecretKey};

    const CHAIN: &str = "evidence-test";

    fn setup() -> (Vec<SecretKey>, Watcher, Vec<CertScheme>) {
        let keys: Vec<SecretKey> =
            (1..=4u8).map(|i| SecretKey::from_seeds(Scheme::Ed25519, &[i; 32]).unwrap()).collect();
        let genesis = Genesis {
            telemetry: Default::default(),
            market: Default::default(),
            chain_id: CHAIN.into(),
            genesis_time_ms: 0,
            params: Params { min_fee: Amount(1), max_block_txs: 10 },
            validators: keys
                .iter()
                .enumerate()
                .map(|(i, k)| GenesisValidator { name: format!("v{i}"), public_key: k.public_key(), p2p: None })
                .collect(),
            accounts: vec![],
        };
        let set = participants(&genesis).unwrap();
        let schemes: Vec<CertScheme> = keys
            .iter()
            .map(|k| CertScheme::signer(CHAIN.as_bytes(), set.clone(), consensus_signer(k).unwrap()).unwrap())
            .collect();
        (keys, Watcher::new(schemes[0].clone()), schemes)
    }

    fn proposal(view: u64, payload: u8) -> Proposal<Digest> {
        Proposal::new(CwRound::new(Epoch::zero(), View::new(view)), View::new(view - 1), Digest([payload; 32]))
    }

    #[test]
    fn engine_conflicts_become_evidence_that_the_ledger_rule_accepts() {
        let (keys, mut watcher, schemes) = setup();
        let s = &schemes[2];
        let notarize = |p| Notarize::<CertScheme, Digest>::sign(s, p).unwrap();
        let finalize = |p| Finalize::<CertScheme, Digest>::sign(s, p).unwrap();
        let nullify = Nullify::<CertScheme>::sign::<Digest>(s, CwRound::new(Epoch::zero(), View::new(9))).unwrap();
        let activities = [
            Activity::ConflictingNotarize(ConflictingNotarize::new(notarize(proposal(7, 1)), notarize(proposal(7, 2)))),
            Activity::ConflictingFinalize(ConflictingFinalize::new(finalize(proposal(8, 1)), finalize(proposal(8, 2)))),
            Activity::NullifyFinalize(NullifyFinalize::new(nullify, finalize(proposal(9, 3)))),
        ];
        for activity in activities {
            watcher.report(activity);
        }
        let faults = watcher.faults();
        let kinds: Vec<_> = faults.iter().map(|f| (f.kind, f.view)).collect();
        assert_eq!(
            kinds,
            [(FaultKind::ConflictingNotarize, 7), (FaultKind::ConflictingFinalize, 8), (FaultKind::NullifyFinalize, 9)]
        );
        for f in &faults {
            assert_eq!(f.offender, keys[2].public_key(), "the offender is the signer, named from the participant set");
            assert_eq!(f.evidence.verify(CHAIN), Ok(f.kind), "{:?}", f.kind);
            assert!(f.evidence.verify("another-chain").is_err(), "votes are bound to the chain id");
        }
        // Reported once each, however often the engine repeats itself.
        assert_eq!(watcher.take_new().len(), 3);
        watcher.report(Activity::ConflictingNotarize(ConflictingNotarize::new(
            notarize(proposal(7, 1)),
            notarize(proposal(7, 2)),
        )));
        assert!(watcher.take_new().is_empty());
    }
}
