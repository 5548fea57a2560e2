//! Run the device agent (`depin agent run`): measure this machine or simulate an asset, sign a
//! report every interval with the device key, send it to the node, and say what became of it.
//!
//! The loop is synchronous (the SDK's `Uplink` blocks, with a timeout); only signal handling
//! uses tokio, as `depin up` does. Reports wait in a small bounded queue while the node is busy
//! or away, and are sent again unchanged (same sequence numbers), as the ingest contract asks.

mod stop;

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use depin_device::{HostMetrics, IngestAnswer, Reporter, Sent, SeqError, SeqStore, Simulator, Uplink, UplinkError};
use depin_types::asset::{AssetClass, AssetId, AssetStatus};
use depin_types::geo::LatLon;
use depin_types::telemetry::{Fix, Metrics, ReportCode, SignedReport};
use serde_json::json;

use self::stop::Stop;
use crate::cli::{AgentCmd, AgentRunArgs};
use crate::cmd::asset::{read_device_key, unlock_device, usage};
use crate::cmd::telemetry::{clock_utc, code_sentence, verdict_text};
use crate::cmd::Ctx;
use crate::error::{CliError, CliResult, ExitCode};
use crate::output::Format;

/// Reports kept while the node cannot take them; the oldest is dropped first.
const PENDING_MAX: usize = 64;
/// First wait before retrying an unreachable node; it doubles up to [`BACKOFF_MAX`].
const BACKOFF_MIN: Duration = Duration::from_secs(1);
/// Longest wait between retries.
const BACKOFF_MAX: Duration = Duration::from_secs(60);
/// Attempts `--once` makes before it gives up on a node that is unreachable or overloaded.
const ONCE_ATTEMPTS_MAX: u32 = 4;
/// Wait before sending again the reports the node answered `overloaded` for.
const OVERLOADED_RESEND: Duration = Duration::from_secs(1);
/// Shortest interval between reports.
const INTERVAL_MIN: Duration = Duration::from_secs(1);

/// Run `depin agent …`.
pub fn run(ctx: &Ctx, cmd: AgentCmd) -> CliResult {
    match cmd {
        AgentCmd::Run(args) => match Agent::start(ctx, &args)? {
            Some(agent) => agent.run(),
            None => Ok(()),
        },
    }
}

/// Where metrics come from.
enum Source {
    /// This machine, as a compute asset.
    Host(Box<HostMetrics>),
    /// A simulated asset of the registered class and capacity.
    Sim(Simulator),
}

impl Source {
    fn sample(&mut self, uptime_s: u32) -> Metrics {
        match self {
            Source::Host(h) => h.sample(),
            Source::Sim(s) => s.sample(uptime_s),
        }
    }
}

/// Retry delays: doubling for an unreachable node; `--once` gives up after a few attempts.
struct Retry {
    once: bool,
    attempts: u32,
    delay: Duration,
}

impl Retry {
    fn new(once: bool) -> Retry {
        Retry { once, attempts: 0, delay: BACKOFF_MIN }
    }

    fn reset(&mut self) {
        self.attempts = 0;
        self.delay = BACKOFF_MIN;
    }

    /// The wait before the next attempt after `e`, or `e` as the command's error when `--once`
    /// has tried enough.
    fn after_failure(&mut self, e: UplinkError) -> CliResult<Duration> {
        self.give_up_if_once(|| uplink_error(e))?;
        let d = self.delay;
        self.delay = (self.delay * 2).min(BACKOFF_MAX);
        Ok(d)
    }

    /// Count a `429`; `--once` gives up after a few.
    fn after_overload(&mut self, wait: Duration) -> CliResult<Duration> {
        self.give_up_if_once(|| {
            CliError::with_code(ExitCode::Unreachable, "the node stayed overloaded (429); the report was not sent")
                .hint("retry later")
        })?;
        Ok(wait)
    }

    fn give_up_if_once(&mut self, error: impl FnOnce() -> CliError) -> CliResult {
        self.attempts += 1;
        if self.once && self.attempts >= ONCE_ATTEMPTS_MAX {
            return Err(error());
        }
        Ok(())
    }

    /// Call `f` until it succeeds, waiting between transient failures; `None` if a stop was
    /// asked for meanwhile.
    fn until_ok<T>(
        &mut self,
        stop: &Stop,
        what: &str,
        mut f: impl FnMut() -> Result<T, UplinkError>,
    ) -> CliResult<Option<T>> {
        loop {
            match f() {
                Ok(v) => {
                    self.reset();
                    return Ok(Some(v));
                }
                Err(e) if e.is_transient() => {
                    let message = e.to_string();
                    let d = self.after_failure(e)?;
                    eprintln!("agent: {what}: {message}; retrying in {} s", d.as_secs());
                    if stop.wait(d) {
                        return Ok(None);
                    }
                }
                Err(e) => return Err(uplink_error(e)),
            }
        }
    }
}

/// A non-transient uplink failure as the command's error.
fn uplink_error(e: UplinkError) -> CliError {
    match &e {
        UplinkError::Unreachable { .. } | UplinkError::Unavailable { .. } => {
            CliError::with_code(ExitCode::Unreachable, e.to_string())
                .hint("is `depin up` running? Point at it with --node URL or DEPIN_NODE")
        }
        UplinkError::Refused { status: 404, code, .. } if code == "not_found" => CliError::fail(e.to_string())
            .hint("--node must be the node's base URL, e.g. http://127.0.0.1:8787 (no path); is the node older than this CLI?"),
        _ => CliError::fail(e),
    }
}

fn seq_error(e: SeqError) -> CliError {
    match e {
        SeqError::Corrupt { .. } => CliError::fail(&e)
            .hint("move the file away to start again from the clock (sequence numbers only need to increase)"),
        e => CliError::fail(e),
    }
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// The agent of one asset.
struct Agent {
    key_path: PathBuf,
    uplink: Uplink,
    reporter: Reporter,
    store: SeqStore,
    source: Source,
    fix: Option<Fix>,
    interval: Duration,
    once: bool,
    output: Format,
    stop: Stop,
    retry: Retry,
    /// Signed, not yet judged by the node, oldest first.
    pending: VecDeque<SignedReport>,
    last_report_ms: Option<u64>,
}

impl Agent {
    /// Read the key, ask the node for the chain's parameters and the asset, and prepare the
    /// metrics source. `None` when a stop was asked for before the node answered.
    fn start(ctx: &Ctx, args: &AgentRunArgs) -> CliResult<Option<Agent>> {
        // What can be checked without the node is, first.
        let point = args
            .fix
            .as_deref()
            .map(|t| {
                LatLon::parse(t)
                    .map_err(|e| usage(format!("--fix {t:?}: {e}")).hint("expected LAT,LON, e.g. 48.8584,2.2945"))
            })
            .transpose()?;
        let file = read_device_key(&args.device_key)?;
        let asset = AssetId::of(file.public_key());
        let state_dir = args.state_dir.clone().unwrap_or_else(|| ctx.home.root().join("agent"));
        std::fs::create_dir_all(&state_dir)
            .map_err(|e| CliError::fail(format!("cannot create the state directory {}: {e}", state_dir.display())))?;
        let store = SeqStore::open(state_dir.join(format!("{asset}.seq"))).map_err(seq_error)?;
        let key = unlock_device(&file, &args.device_key)?;
        let uplink = Uplink::new(ctx.client()?.base(), Duration::from_secs(args.timeout_s));
        let stop = Stop::install()?;
        let mut retry = Retry::new(args.once);

        let Some(info) = retry.until_ok(&stop, "reading the telemetry parameters", || uplink.telemetry_info())? else {
            return Ok(None);
        };
        let Some(registered) = retry.until_ok(&stop, "looking up the asset", || uplink.asset(&asset))? else {
            return Ok(None);
        };
        let Some(registered) = registered else {
            return Err(not_registered(&asset, &args.device_key));
        };
        if registered.asset.device_key != *file.public_key() {
            return Err(rekeyed(&asset));
        }
        let class = registered.asset.capacity.class();
        let source = match args.simulate {
            None if class != AssetClass::Compute => {
                return Err(usage(format!(
                    "asset {asset} is a {} asset; this machine's metrics are compute metrics",
                    class.name()
                ))
                .hint(format!(
                    "pass --simulate {} to send simulated {} metrics",
                    class.name(),
                    class.name()
                )));
            }
            None => Source::Host(Box::new(HostMetrics::new())),
            Some(wanted) if wanted != class => {
                return Err(usage(format!("asset {asset} is a {} asset, not {}", class.name(), wanted.name()))
                    .hint(format!("pass --simulate {}", class.name())));
            }
            Some(_) => {
                let seed = args.seed.unwrap_or_else(|| {
                    u64::from_le_bytes(asset.0 .0[..8].try_into().expect("invariant: an id has 32 bytes"))
                });
                eprintln!(
                    "agent: simulating {} metrics within the asset's registered capacity (seed {seed})",
                    class.name()
                );
                Source::Sim(Simulator::new(registered.asset.capacity.clone(), seed))
            }
        };
        if !matches!(registered.effective_status, AssetStatus::Registered | AssetStatus::Active) {
            eprintln!(
                "agent: warning: asset {asset} is {}: the ledger does not count its reports until it is active again",
                registered.effective_status.name()
            );
        }
        let fix = match point {
            None => None,
            Some(p) => {
                let cell = p.to_cell(info.location_resolution).map_err(CliError::fail)?;
                Some(Fix { cell, accuracy_m: args.fix_accuracy_m })
            }
        };
        let interval = match args.interval_s {
            Some(s) => Duration::from_secs(s),
            None => Duration::from_millis(info.params.bucket_ms() / 2).max(INTERVAL_MIN),
        };
        let first = store.first_seq(now_ms()).map_err(seq_error)?;
        eprintln!(
            "agent: asset {asset} ({}), chain {} at {}: {}, sequence numbers from {first} ({})",
            class.name(),
            info.chain_id,
            uplink.base(),
            if args.once { "one report".to_string() } else { format!("a report every {} s", interval.as_secs()) },
            store.path().display(),
        );
        let reporter = Reporter::new(key, info.chain_id, info.params, first);
        Ok(Some(Agent {
            key_path: args.device_key.clone(),
            uplink,
            reporter,
            store,
            source,
            fix,
            interval,
            once: args.once,
            output: ctx.output,
            stop,
            retry,
            pending: VecDeque::new(),
            last_report_ms: None,
        }))
    }

    /// Report until a stop is asked for (or, with `--once`, until one report is judged).
    fn run(mut self) -> CliResult {
        let mut next_report = Instant::now();
        let mut send_at = Instant::now();
        let mut made = false;
        loop {
            if self.stop.requested() {
                break;
            }
            let now = Instant::now();
            if now >= next_report && !(self.once && made) {
                self.make_report()?;
                made = true;
                next_report += self.interval;
                if next_report <= now {
                    // A long outage or send: carry on from now rather than catch up in a burst.
                    next_report = now + self.interval;
                }
            }
            self.drop_expired();
            if !self.pending.is_empty() && Instant::now() >= send_at {
                match self.uplink.send(self.pending.make_contiguous()) {
                    Ok(Sent::Answered(answer)) => {
                        let verdict = self.judge(&answer);
                        if verdict.is_err() || self.once && self.pending.is_empty() {
                            return verdict;
                        }
                        send_at = Instant::now();
                        if self.pending.is_empty() {
                            self.retry.reset();
                        } else {
                            // Some reports were `overloaded`: the same ones go again shortly.
                            send_at += self.retry.after_overload(OVERLOADED_RESEND)?;
                        }
                    }
                    Ok(Sent::RetryAfter(wait)) => {
                        let wait = self.retry.after_overload(wait)?;
                        eprintln!(
                            "agent: the node is overloaded: sending the same {} report(s) again in {} s",
                            self.pending.len(),
                            wait.as_secs()
                        );
                        send_at = Instant::now() + wait;
                    }
                    Err(e) if e.is_transient() => {
                        let message = e.to_string();
                        let wait = self.retry.after_failure(e)?;
                        eprintln!(
                            "agent: {message}; keeping {} report(s), retrying in {} s",
                            self.pending.len(),
                            wait.as_secs()
                        );
                        send_at = Instant::now() + wait;
                    }
                    Err(e) => return Err(uplink_error(e)),
                }
            }
            let mut wake = if self.once { None } else { Some(next_report) };
            if !self.pending.is_empty() {
                wake = Some(wake.map_or(send_at, |w| w.min(send_at)));
            }
            let Some(wake) = wake else { break };
            if self.stop.wait(wake.saturating_duration_since(Instant::now())) {
                break;
            }
        }
        if !self.pending.is_empty() {
            eprintln!("agent: {} report(s) not sent", self.pending.len());
        }
        eprintln!("agent: stopped; the next sequence number is {}", self.reporter.next_seq());
        Ok(())
    }

    /// Measure, reserve a sequence number durably, sign, and queue.
    fn make_report(&mut self) -> CliResult {
        if self.reporter.exhausted() {
            return Err(CliError::fail("this device key has used every sequence number it can sign")
                .hint("re-key the asset with a new device key"));
        }
        let now_ms = now_ms();
        let uptime_s = self
            .last_report_ms
            .map_or(0, |last| u32::try_from(now_ms.saturating_sub(last) / 1_000).unwrap_or(u32::MAX));
        let metrics = self.source.sample(uptime_s);
        // Written before signing: a crash in between loses a number, never reuses one.
        self.store.record(self.reporter.next_seq()).map_err(seq_error)?;
        let report = self.reporter.report(now_ms, uptime_s, metrics, self.fix);
        self.last_report_ms = Some(now_ms);
        if self.pending.len() == PENDING_MAX
            && let Some(old) = self.pending.pop_front()
        {
            eprintln!("agent: dropping unsent report seq {} (more than {PENDING_MAX} waiting)", old.report.seq);
        }
        self.pending.push_back(report);
        Ok(())
    }

    /// Drop waiting reports too old for the ledger to accept (it would refuse them as
    /// `clock_skew`); the newest always stays.
    fn drop_expired(&mut self) {
        let oldest_ok = now_ms().saturating_sub(self.reporter.params().max_report_age_ms);
        while self.pending.len() > 1 && self.pending.front().is_some_and(|r| r.report.timestamp_ms < oldest_ok) {
            let old = self.pending.pop_front().expect("invariant: checked non-empty");
            eprintln!("agent: dropping unsent report seq {}: too old for the ledger to accept", old.report.seq);
        }
    }

    /// Print the node's verdict on each waiting report, keep those to send again, and act on
    /// what the codes say. With `--once`, the result is the command's.
    fn judge(&mut self, answer: &IngestAnswer) -> CliResult {
        let sent: Vec<SignedReport> = self.pending.drain(..).collect();
        let mut results: Vec<_> = answer.results.iter().collect();
        results.sort_by_key(|r| r.index);
        let mut outcome = Ok(());
        for r in results {
            let report = &sent[r.index as usize];
            self.print_verdict(report, &r.code, &r.message);
            let code = ReportCode::ALL.into_iter().find(|c| c.name() == r.code);
            match code {
                Some(ReportCode::Accepted | ReportCode::Duplicate) => {}
                Some(ReportCode::Overloaded) => self.pending.push_back(report.clone()),
                Some(ReportCode::StaleSequence) => self.catch_up_sequence()?,
                Some(ReportCode::ClockSkew) => {
                    eprintln!("agent: warning: the node finds this device's clock off; check its time (NTP)");
                }
                Some(ReportCode::RateLimited) => {
                    eprintln!("agent: warning: reports are too frequent for the node; raise --interval-s");
                }
                Some(ReportCode::AssetNotInService) => {
                    eprintln!("agent: warning: the asset is not in service; its reports do not count");
                }
                Some(ReportCode::WrongEpoch) => self.refresh_params()?,
                Some(ReportCode::UnknownAsset) => return Err(not_registered(&report.report.asset, &self.key_path)),
                Some(ReportCode::WrongDeviceKey) => return Err(rekeyed(&report.report.asset)),
                Some(
                    c @ (ReportCode::BadSignature
                    | ReportCode::ClassMismatch
                    | ReportCode::BadFix
                    | ReportCode::Malformed
                    | ReportCode::UnsupportedVersion),
                ) => {
                    return Err(CliError::with_code(
                        ExitCode::Rejected,
                        format!("the node refused the report: {}", verdict_text(c.name(), "")),
                    )
                    .hint(fatal_hint(c, self.reporter.chain_id())));
                }
                None => eprintln!("agent: warning: unknown result code {:?} from the node", r.code),
            }
            if self.once && !matches!(code, Some(ReportCode::Accepted | ReportCode::Duplicate | ReportCode::Overloaded))
            {
                let refused = CliError::with_code(
                    ExitCode::Rejected,
                    format!("the node refused report seq {}: {}", report.report.seq, verdict_text(&r.code, &r.message)),
                );
                outcome = Err(match code {
                    Some(ReportCode::StaleSequence) => {
                        refused.hint("the agent now continues above the ledger's last sequence number: run it again")
                    }
                    _ => refused,
                });
            }
        }
        outcome
    }

    fn print_verdict(&self, signed: &SignedReport, code: &str, message: &str) {
        let r = &signed.report;
        match self.output {
            Format::Json => println!(
                "{}",
                json!({"seq": r.seq, "epoch": r.epoch, "timestamp_ms": r.timestamp_ms, "code": code, "message": message})
            ),
            Format::Table => {
                println!(
                    "{}  seq {}  epoch {}  {}",
                    clock_utc(r.timestamp_ms),
                    r.seq,
                    r.epoch,
                    verdict_text(code, message)
                );
            }
        }
    }

    /// After `stale_sequence` (the sequence file was lost or restored from an old copy):
    /// continue above the ledger's last accepted sequence number, and record it as used so the
    /// next start does too.
    fn catch_up_sequence(&mut self) -> CliResult {
        match self.uplink.ledger_last_seq(&self.reporter.asset()) {
            Ok(Some(last)) if self.reporter.skip_past(last) => {
                if self.store.last().is_none_or(|used| used < last) {
                    self.store.record(last).map_err(seq_error)?;
                }
                eprintln!("agent: continuing above the ledger's last sequence number {last}");
            }
            Ok(_) => {}
            Err(e) => eprintln!("agent: cannot read the ledger's last sequence number: {e}"),
        }
        Ok(())
    }

    /// After `wrong_epoch`: the telemetry parameters changed (rule M-9); use the new ones.
    fn refresh_params(&mut self) -> CliResult {
        let info = self.uplink.telemetry_info().map_err(uplink_error)?;
        if info.params == *self.reporter.params() {
            return Err(CliError::fail("the node refused the report's epoch although the telemetry parameters agree")
                .hint("is this device's clock far off?"));
        }
        eprintln!("agent: the chain's telemetry parameters changed; using the new ones");
        self.reporter.set_params(info.params);
        Ok(())
    }
}

/// The asset is not on the ledger.
fn not_registered(asset: &AssetId, key_path: &Path) -> CliError {
    CliError::with_code(
        ExitCode::NotFound,
        format!("asset not registered: run depin asset register first (asset {asset})"),
    )
    .hint(format!(
        "depin asset register --class CLASS --device-key {} --location LAT,LON --capacity K=V,... --from OWNER",
        key_path.display()
    ))
}

/// The asset now has another device key.
fn rekeyed(asset: &AssetId) -> CliError {
    CliError::with_code(
        ExitCode::Rejected,
        format!("asset {asset} is registered with another device key now: this key no longer reports for it"),
    )
    .hint("run the agent with the asset's current device key")
}

fn fatal_hint(code: ReportCode, chain_id: &str) -> String {
    match code {
        ReportCode::BadSignature => {
            format!("the report was signed for chain {chain_id}; is --node a node of the chain the asset is on?")
        }
        ReportCode::ClassMismatch => "the asset's class changed: restart the agent".into(),
        _ => format!("{}: is this CLI older than the node?", code_sentence(code.name()).unwrap_or("")),
    }
}
