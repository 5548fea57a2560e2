//! Build and sign a device's reports: the I/O-free core (time, uptime and metrics are inputs).

use depin_crypto::{PublicKey, SecretKey};
use depin_types::asset::AssetId;
use depin_types::telemetry::{Fix, Metrics, Report, SignedReport, TelemetryParams, REPORT_VERSION};

/// Highest sequence number a reporter signs. Sequences start near the clock in ms (about
/// 1.7 × 10^12 today), so anything above this is a corrupted store or a hostile answer, and a
/// reporter that stops here can never wrap around to a used number.
pub const SEQ_MAX: u64 = u64::MAX / 2;

/// Signs one device's reports for one chain, numbering them with strictly increasing sequence
/// numbers.
///
/// **Invariant:** `next_seq` only grows, so no two reports of one reporter share a sequence.
/// Persisting it across restarts is the caller's job ([`crate::SeqStore`]): reserve the number
/// ([`Reporter::next_seq`]) durably before calling [`Reporter::report`].
pub struct Reporter {
    key: SecretKey,
    device_key: PublicKey,
    asset: AssetId,
    chain_id: String,
    params: TelemetryParams,
    next_seq: u64,
}

impl Reporter {
    /// A reporter for the asset of `key` on `chain_id`, whose next report gets `next_seq`
    /// (clamped to [`SEQ_MAX`]).
    pub fn new(key: SecretKey, chain_id: impl Into<String>, params: TelemetryParams, next_seq: u64) -> Reporter {
        let device_key = key.public_key();
        let asset = AssetId::of(&device_key);
        Reporter { key, device_key, asset, chain_id: chain_id.into(), params, next_seq: next_seq.min(SEQ_MAX) }
    }

    /// The asset these reports are for: the hash of the device key.
    pub fn asset(&self) -> AssetId {
        self.asset
    }

    /// The device's public key.
    pub fn device_key(&self) -> &PublicKey {
        &self.device_key
    }

    /// The chain the signatures are bound to.
    pub fn chain_id(&self) -> &str {
        &self.chain_id
    }

    /// The telemetry parameters epochs are computed with.
    pub fn params(&self) -> &TelemetryParams {
        &self.params
    }

    /// Use new telemetry parameters (a validator changed them, rule M-9): epochs of later
    /// reports are computed with them.
    pub fn set_params(&mut self, params: TelemetryParams) {
        self.params = params;
    }

    /// The sequence number the next report gets.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// Continue above `last` (the ledger's last accepted sequence, when it is ahead of this
    /// reporter, e.g. after the sequence file was lost with the clock set back). Never moves
    /// backwards; returns false and changes nothing when `last` is at or above [`SEQ_MAX`].
    pub fn skip_past(&mut self, last: u64) -> bool {
        if last >= SEQ_MAX {
            return false;
        }
        self.next_seq = self.next_seq.max(last + 1);
        true
    }

    /// True once [`SEQ_MAX`] is reached: this key can sign no more reports.
    pub fn exhausted(&self) -> bool {
        self.next_seq >= SEQ_MAX
    }

    /// Build and sign the next report: taken at `now_ms` (device clock, ms since the Unix
    /// epoch), after `uptime_s` seconds in service since the previous report.
    ///
    /// # Panics
    ///
    /// When [`Reporter::exhausted`]: a caller that reached [`SEQ_MAX`] must stop reporting
    /// (it cannot happen with sequences that [`crate::SeqStore`] hands out).
    pub fn report(&mut self, now_ms: u64, uptime_s: u32, metrics: Metrics, fix: Option<Fix>) -> SignedReport {
        assert!(!self.exhausted(), "invariant: the caller stops at SEQ_MAX");
        let seq = self.next_seq;
        self.next_seq = seq + 1;
        let report = Report {
            version: REPORT_VERSION,
            asset: self.asset,
            epoch: self.params.epoch_of(now_ms),
            seq,
            timestamp_ms: now_ms,
            uptime_s,
            metrics,
            fix,
        };
        report.sign(&self.chain_id, &self.key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use depin_crypto::Scheme;
    use depin_types::geo::LatLon;

    fn key(seed: u8) -> SecretKey {
        SecretKey::from_seeds(Scheme::Ed25519, &[seed; 32]).unwrap()
    }

    fn sensor() -> Metrics {
        Metrics::Sensor { readings: 3 }
    }

    #[test]
    fn signed_reports_verify_and_name_the_asset_epoch_and_sequence() {
        let params = TelemetryParams::dev();
        let mut r = Reporter::new(key(1), "depin-test", params.clone(), 41);
        let fix = Fix { cell: LatLon::new(48.8584, 2.2945).unwrap().to_cell(12).unwrap(), accuracy_m: 5 };
        let a = r.report(1_700_000_000_123, 15, sensor(), Some(fix));
        let b = r.report(1_700_000_015_123, 15, sensor(), None);
        for s in [&a, &b] {
            assert!(s.signature_ok("depin-test"), "{s:?}");
            assert!(!s.signature_ok("depin-other"), "the chain id is signed");
            assert_eq!(s.report.asset, AssetId::of(&key(1).public_key()));
            assert_eq!(s.report.epoch, params.epoch_of(s.report.timestamp_ms));
        }
        assert_eq!((a.report.seq, b.report.seq), (41, 42));
        assert_eq!(a.report.fix, Some(fix));
        assert_eq!(r.next_seq(), 43);
    }

    /// The test vector of `docs/spec/telemetry.md`: what firmware linking this SDK sends.
    #[test]
    fn reports_match_the_spec_test_vector() {
        const SIGNED_REPORT_HEX: &str = "01497ace40076fe39edb97dffb345b16d98a2bd23fd7999f68434fb95dbe7bfaca9e340700000000002a000000000000000068e5cf8b0100003c000000040c00000001ffd12d6246fbc1080500000001ea4a6c63e29c520abef5507b132ec5f9954776aebebe7b92421eea691446d22c014520e94393e9d84db6629c783c763693cbd2cb9d114e3fda762429d1503cca9eb077a9c1ac33c63b48abc1e98adca1d0d552548ed1ca0d5207e29649534e3b01";
        let mut r = Reporter::new(key(7), "depin-fixture", TelemetryParams::default(), 42);
        let fix = Fix { cell: "8c1fb46622dd1ff".parse().unwrap(), accuracy_m: 5 };
        let signed = r.report(1_700_000_000_000, 60, Metrics::Sensor { readings: 12 }, Some(fix));
        assert_eq!(signed.report.epoch, 472_222);
        assert_eq!(hex::encode(depin_types::codec::encode(&signed)), SIGNED_REPORT_HEX);
    }

    #[test]
    fn hybrid_keys_sign_reports_too() {
        let k = SecretKey::from_seeds(Scheme::Hybrid, &[7; 64]).unwrap();
        let mut r = Reporter::new(k, "depin-test", TelemetryParams::dev(), 1);
        assert!(r.report(60_000, 0, sensor(), None).signature_ok("depin-test"));
    }

    #[test]
    fn skipping_past_the_ledger_never_moves_backwards() {
        let mut r = Reporter::new(key(2), "c", TelemetryParams::dev(), 100);
        assert!(r.skip_past(10));
        assert_eq!(r.next_seq(), 100);
        assert!(r.skip_past(500));
        assert_eq!(r.next_seq(), 501);
        assert!(!r.skip_past(SEQ_MAX), "a hostile or corrupt sequence is refused");
        assert_eq!(r.next_seq(), 501);
    }

    #[test]
    fn a_reporter_at_the_sequence_limit_is_exhausted() {
        let r = Reporter::new(key(3), "c", TelemetryParams::dev(), u64::MAX);
        assert_eq!(r.next_seq(), SEQ_MAX);
        assert!(r.exhausted());
    }
}
