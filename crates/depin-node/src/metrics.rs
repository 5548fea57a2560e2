//! Count what the node does and render it as Prometheus text (no global recorder, so several
//! nodes can live in one test process). Labels are bounded: no per-account or per-tx labels.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use depin_types::telemetry::ReportCode;

/// Upper bounds (seconds) of the latency histograms.
const BUCKETS_S: [f64; 10] = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0];

/// Submission results, in a fixed order (the label values of `depin_txs_submitted_total`).
pub const SUBMIT_RESULTS: [&str; 12] = [
    "accepted",
    "wrong_chain_id",
    "bad_signature",
    "nonce_too_low",
    "nonce_too_high",
    "fee_too_low",
    "duplicate_transaction",
    "sender_queue_full",
    "mempool_full",
    "shutting_down",
    "unknown_account",
    "unavailable",
];

/// The node's metrics.
#[derive(Default)]
pub struct Metrics {
    submitted: [AtomicU64; SUBMIT_RESULTS.len()],
    applied: AtomicU64,
    rejected: AtomicU64,
    blocks: AtomicU64,
    height: AtomicU64,
    mempool: AtomicU64,
    log_append: Mutex<Histogram>,
    state_apply: Mutex<Histogram>,
    ingested: [AtomicU64; ReportCode::ALL.len()],
    ingest_overloaded: AtomicU64,
    ingest_latency: Mutex<Histogram>,
    alerts: AtomicU64,
    pruned_blocks: AtomicU64,
    pruned_txs: AtomicU64,
    pruned_reports: AtomicU64,
}

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS_S.len()],
    sum_s: f64,
    count: u64,
}

impl Histogram {
    fn observe(&mut self, value_s: f64) {
        for (i, le) in BUCKETS_S.iter().enumerate() {
            if value_s <= *le {
                self.counts[i] += 1;
            }
        }
        self.sum_s += value_s;
        self.count += 1;
    }

    fn render(&self, s: &mut String, name: &str, help: &str) {
        let _ = writeln!(s, "# HELP {name} {help}\n# TYPE {name} histogram");
        for (i, le) in BUCKETS_S.iter().enumerate() {
            let _ = writeln!(s, "{name}_bucket{{le=\"{le}\"}} {}", self.counts[i]);
        }
        let _ = writeln!(s, "{name}_bucket{{le=\"+Inf\"}} {}", self.count);
        let _ = writeln!(s, "{name}_sum {}", self.sum_s);
        let _ = writeln!(s, "{name}_count {}", self.count);
    }
}

impl Metrics {
    /// Count a submission result (a code from [`SUBMIT_RESULTS`]).
    pub fn submitted(&self, result: &str) {
        if let Some(i) = SUBMIT_RESULTS.iter().position(|r| *r == result) {
            self.submitted[i].fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Record a committed block: the durable log append and the state apply, in seconds.
    pub fn block(&self, height: u64, applied: u64, rejected: u64, log_append_s: f64, state_apply_s: f64) {
        self.blocks.fetch_add(1, Ordering::Relaxed);
        self.height.store(height, Ordering::Relaxed);
        self.applied.fetch_add(applied, Ordering::Relaxed);
        self.rejected.fetch_add(rejected, Ordering::Relaxed);
        let lock = "invariant: metrics lock is never poisoned";
        self.log_append.lock().expect(lock).observe(log_append_s);
        self.state_apply.lock().expect(lock).observe(state_apply_s);
    }

    /// Set the mempool gauge.
    pub fn mempool(&self, n: usize) {
        self.mempool.store(n as u64, Ordering::Relaxed);
    }

    /// Count one report's ingest result.
    pub fn ingested(&self, code: ReportCode) {
        self.ingested[code as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// Count reports refused because the ingest queue was full.
    pub fn ingest_overloaded(&self, n: usize) {
        self.ingest_overloaded.fetch_add(n as u64, Ordering::Relaxed);
    }

    /// Record how long one ingest request took to check and verify, seconds.
    pub fn ingest_latency(&self, s: f64) {
        self.ingest_latency.lock().expect("invariant: metrics lock is never poisoned").observe(s);
    }

    /// Count an alert.
    pub fn alert(&self) {
        self.alerts.fetch_add(1, Ordering::Relaxed);
    }

    /// Count what a retention step pruned from the block log.
    pub fn pruned(&self, blocks: u64, txs: u64, reports: u64) {
        self.pruned_blocks.fetch_add(blocks, Ordering::Relaxed);
        self.pruned_txs.fetch_add(txs, Ordering::Relaxed);
        self.pruned_reports.fetch_add(reports, Ordering::Relaxed);
    }

    /// Prometheus text exposition format 0.0.4.
    pub fn render(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "# HELP depin_build_info Build information.\n# TYPE depin_build_info gauge");
        let _ = writeln!(s, "depin_build_info{{version=\"{}\"}} 1", env!("CARGO_PKG_VERSION"));
        let _ = writeln!(s, "# HELP depin_txs_submitted_total Transactions submitted, by admission result.");
        let _ = writeln!(s, "# TYPE depin_txs_submitted_total counter");
        for (i, r) in SUBMIT_RESULTS.iter().enumerate() {
            let _ = writeln!(s, "depin_txs_submitted_total{{result=\"{r}\"}} {}", self.submitted[i].load(Ordering::Relaxed));
        }
        let _ = writeln!(s, "# HELP depin_txs_committed_total Transactions committed in blocks, by outcome.");
        let _ = writeln!(s, "# TYPE depin_txs_committed_total counter");
        let _ = writeln!(s, "depin_txs_committed_total{{outcome=\"applied\"}} {}", self.applied.load(Ordering::Relaxed));
        let _ = writeln!(s, "depin_txs_committed_total{{outcome=\"rejected\"}} {}", self.rejected.load(Ordering::Relaxed));
        let _ = writeln!(s, "# HELP depin_blocks_committed_total Blocks committed by this process.\n# TYPE depin_blocks_committed_total counter");
        let _ = writeln!(s, "depin_blocks_committed_total {}", self.blocks.load(Ordering::Relaxed));
        let _ = writeln!(s, "# HELP depin_block_height Height of the last committed block.\n# TYPE depin_block_height gauge");
        let _ = writeln!(s, "depin_block_height {}", self.height.load(Ordering::Relaxed));
        let _ = writeln!(s, "# HELP depin_mempool_txs Pending transactions.\n# TYPE depin_mempool_txs gauge");
        let _ = writeln!(s, "depin_mempool_txs {}", self.mempool.load(Ordering::Relaxed));
        let _ = writeln!(s, "# HELP depin_telemetry_reports_total Device reports received at the ingest edge, by result.");
        let _ = writeln!(s, "# TYPE depin_telemetry_reports_total counter");
        for c in ReportCode::ALL {
            let n = if c == ReportCode::Overloaded {
                self.ingest_overloaded.load(Ordering::Relaxed)
            } else {
                self.ingested[c as usize].load(Ordering::Relaxed)
            };
            let _ = writeln!(s, "depin_telemetry_reports_total{{result=\"{}\"}} {n}", c.name());
        }
        let _ = writeln!(s, "# HELP depin_alerts_total Health alerts raised.\n# TYPE depin_alerts_total counter");
        let _ = writeln!(s, "depin_alerts_total {}", self.alerts.load(Ordering::Relaxed));
        let _ = writeln!(s, "# HELP depin_telemetry_pruned_total Raw telemetry pruned from the block log by retention, by unit.");
        let _ = writeln!(s, "# TYPE depin_telemetry_pruned_total counter");
        for (unit, n) in [("block", &self.pruned_blocks), ("tx", &self.pruned_txs), ("report", &self.pruned_reports)] {
            let _ = writeln!(s, "depin_telemetry_pruned_total{{unit=\"{unit}\"}} {}", n.load(Ordering::Relaxed));
        }
        let lock = "invariant: metrics lock is never poisoned";
        self.ingest_latency.lock().expect(lock).render(
            &mut s,
            "depin_telemetry_ingest_seconds",
            "Checking and verifying one ingest request (until its per-report results are known).",
        );
        self.log_append.lock().expect(lock).render(
            &mut s,
            "depin_block_commit_seconds",
            "Durable block commit latency: the block log append and its one fsync.",
        );
        self.state_apply.lock().expect(lock).render(
            &mut s,
            "depin_state_apply_seconds",
            "Applying a committed block to the derived state (no fsync except at checkpoints).",
        );
        s
    }
}
