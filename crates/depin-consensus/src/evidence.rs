//! Watch consensus activity: the latest view, and Byzantine faults as evidence.
//!
//! Simplex reports a validator that signed two different proposals in one view
//! (`ConflictingNotarize`, `ConflictingFinalize`) or both skipped and finalized a view
//! (`NullifyFinalize`). Each comes with the two signed messages, so anyone can check it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use commonware_actor::Feedback;
use commonware_consensus::simplex::scheme::ed25519::Scheme as CertScheme;
use commonware_consensus::simplex::types::{Activity, Attributable};
use commonware_consensus::{Reporter, Viewable};
use commonware_cryptography::blake3::Digest;
use depin_types::PublicKey;

use crate::identity::depin_key;

/// The kind of fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// Two notarize votes for different proposals in one view.
    ConflictingNotarize,
    /// Two finalize votes for different proposals in one view.
    ConflictingFinalize,
    /// A nullify and a finalize vote in one view.
    NullifyFinalize,
}

/// A fault as observed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fault {
    /// What.
    pub kind: FaultKind,
    /// Who.
    pub offender: PublicKey,
    /// In which view.
    pub view: u64,
}

/// Reporter for simplex activity.
#[derive(Clone)]
pub struct Watcher {
    scheme: CertScheme,
    view: Arc<AtomicU64>,
    faults: Arc<Mutex<Vec<Fault>>>,
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
        self.faults.lock().expect("invariant: faults lock is never poisoned").clone()
    }

    fn record(&self, kind: FaultKind, index: commonware_utils::Participant, view: u64) {
        // The batcher only reports votes from participants; anything else is ignored, not a panic.
        let Some(offender) = self.signer_of(index) else { return };
        let fault = Fault { kind, offender, view };
        tracing::warn!(?fault, "Byzantine fault observed");
        let mut faults = self.faults.lock().expect("invariant: faults lock is never poisoned");
        if !faults.contains(&fault) {
            faults.push(fault);
        }
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
            Activity::ConflictingNotarize(c) => self.record(FaultKind::ConflictingNotarize, c.signer(), view),
            Activity::ConflictingFinalize(c) => self.record(FaultKind::ConflictingFinalize, c.signer(), view),
            Activity::NullifyFinalize(c) => self.record(FaultKind::NullifyFinalize, c.signer(), view),
            _ => {}
        }
        Feedback::Ok
    }
}

impl Watcher {
    fn signer_of(&self, index: commonware_utils::Participant) -> Option<PublicKey> {
        use commonware_cryptography::certificate::Scheme as _;
        use commonware_utils::ordered::Quorum as _;
        self.scheme.participants().key(index).map(depin_key)
    }
}
