//! Load the node configuration: built-in defaults < config.toml < `DEPIN_<SECTION>_<KEY>` env.
//!
//! Command-line flags are applied on top by the CLI. `depin config default` prints
//! [`TEMPLATE`], which lists every key with its default and its environment variable.

use std::net::SocketAddr;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// The whole configuration.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NodeConfig {
    /// HTTP API.
    pub api: ApiConfig,
    /// Block production.
    pub sequencer: SequencerConfig,
    /// Who orders blocks: this node alone, or BFT consensus among the genesis validators.
    pub consensus: ConsensusConfig,
    /// Transaction pool.
    pub mempool: MempoolConfig,
    /// Telemetry ingest edge.
    pub telemetry: TelemetryConfig,
    /// Health alerts.
    pub alerts: AlertsConfig,
    /// Logging.
    pub log: LogConfig,
}

/// `[api]`
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ApiConfig {
    /// Listen address.
    pub listen: SocketAddr,
    /// Largest request body.
    pub max_body_bytes: usize,
}

/// `[sequencer]`
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SequencerConfig {
    /// A block is cut this often while transactions are waiting.
    pub block_interval_ms: u64,
    /// With nothing waiting, an empty block is still cut this often (0 = never).
    pub empty_block_interval_ms: u64,
    /// Most transactions per block (also capped by the genesis `max_block_txs`).
    pub max_block_txs: u32,
}

/// `[consensus]`
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConsensusConfig {
    /// `single` (the local sequencer) or `bft` (consensus among the genesis validators).
    pub mode: ConsensusMode,
    /// Listen address of the consensus p2p transport (`bft` only).
    pub p2p_listen: SocketAddr,
    /// How long to wait for the leader's proposal before voting to skip the view.
    pub leader_timeout_ms: u64,
    /// How long to wait for a notarization before voting to skip the view (> `leader_timeout_ms`).
    pub notarization_timeout_ms: u64,
    /// How often a vote to skip a view that is still open is broadcast again.
    pub nullify_retry_ms: u64,
    /// How long to wait for a peer to answer a request for missing blocks or certificates.
    pub fetch_timeout_ms: u64,
    /// Views behind the last finalized one whose votes are still kept.
    pub activity_timeout_views: u64,
    /// Largest block this node proposes or accepts from a peer.
    pub max_block_bytes: usize,
}

/// How blocks are ordered (`[consensus] mode`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConsensusMode {
    /// This node alone cuts blocks with the local sequencer.
    #[default]
    Single,
    /// BFT consensus among the validators listed in genesis (which must give their p2p addresses).
    Bft,
}

impl ConsensusMode {
    /// The name used in config files and environment variables.
    pub fn as_str(self) -> &'static str {
        match self {
            ConsensusMode::Single => "single",
            ConsensusMode::Bft => "bft",
        }
    }
}

impl std::fmt::Display for ConsensusMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for ConsensusMode {
    type Err = ConfigError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "single" => Ok(ConsensusMode::Single),
            "bft" => Ok(ConsensusMode::Bft),
            other => Err(ConfigError::Invalid(format!("consensus mode {other:?} is not \"single\" or \"bft\""))),
        }
    }
}

/// `[mempool]`
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MempoolConfig {
    /// Most pending transactions in total.
    pub max_txs: usize,
    /// Most pending transactions per sender.
    pub max_per_sender: usize,
}

/// `[telemetry]`: the ingest edge (the ledger's own telemetry rules are genesis parameters).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TelemetryConfig {
    /// Most accepted reports waiting for a block; beyond it ingest answers 429.
    pub queue_max_reports: usize,
    /// A report's timestamp may differ from this node's clock by at most this, ms.
    pub skew_window_ms: u64,
    /// Reports per minute one asset may send (token bucket refill rate).
    pub rate_per_minute: u32,
    /// Reports one asset may send in a burst (token bucket size).
    pub burst: u32,
    /// Accepted reports are packed into a ledger transaction at least this often, ms.
    pub flush_interval_ms: u64,
    /// Ingest results kept in memory for `depin telemetry tail`.
    pub recent_results: usize,
    /// Keep raw report batches in the block log for this many epochs, then prune them to
    /// summaries (aggregates stay in the state); 0 = keep forever (an archive node).
    pub retain_epochs: u64,
}

/// `[alerts]`: rules the node evaluates every second over the assets that report to it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AlertsConfig {
    /// Alert when an asset has been offline longer than this, seconds (0 = off).
    pub offline_for_s: u64,
    /// Alert when an asset's uptime in the current epoch falls under this, per mille (0 = off).
    pub uptime_below_permille: u16,
    /// Also POST each alert as JSON to this URL ("" = SSE events only).
    pub webhook_url: String,
}

/// `[log]`
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// tracing filter, e.g. `info` or `depin_node=debug,info`.
    pub level: String,
    /// `pretty` or `json`.
    pub format: String,
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig { listen: SocketAddr::from(([127, 0, 0, 1], 8787)), max_body_bytes: 1024 * 1024 }
    }
}
impl Default for SequencerConfig {
    fn default() -> Self {
        SequencerConfig { block_interval_ms: 500, empty_block_interval_ms: 5_000, max_block_txs: 10_000 }
    }
}
impl Default for ConsensusConfig {
    fn default() -> Self {
        ConsensusConfig {
            mode: ConsensusMode::Single,
            p2p_listen: SocketAddr::from(([0, 0, 0, 0], 27001)),
            leader_timeout_ms: 1_000,
            notarization_timeout_ms: 2_000,
            nullify_retry_ms: 10_000,
            fetch_timeout_ms: 2_000,
            activity_timeout_views: 256,
            max_block_bytes: 4 * 1024 * 1024,
        }
    }
}
impl Default for MempoolConfig {
    fn default() -> Self {
        MempoolConfig { max_txs: 100_000, max_per_sender: 1_024 }
    }
}
impl Default for TelemetryConfig {
    fn default() -> Self {
        TelemetryConfig {
            queue_max_reports: 200_000,
            skew_window_ms: 30_000,
            rate_per_minute: 120,
            burst: 20,
            flush_interval_ms: 200,
            recent_results: 10_000,
            retain_epochs: 0,
        }
    }
}
impl Default for AlertsConfig {
    fn default() -> Self {
        AlertsConfig { offline_for_s: 300, uptime_below_permille: 0, webhook_url: String::new() }
    }
}
impl Default for LogConfig {
    fn default() -> Self {
        LogConfig { level: "info".into(), format: "pretty".into() }
    }
}

/// A configuration that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Unreadable file.
    #[error("cannot read {path}: {source}")]
    Io {
        /// File.
        path: String,
        /// Cause.
        source: std::io::Error,
    },
    /// Bad TOML, unknown key or wrong type.
    #[error("{path}: {message}")]
    Parse {
        /// File.
        path: String,
        /// What is wrong (with line and column).
        message: String,
    },
    /// A value out of range or an unparseable environment variable.
    #[error("{0}")]
    Invalid(String),
}

/// Every key, its default and its environment variable. Kept in sync with the structs by the
/// `template_parses_to_defaults` test.
pub const TEMPLATE: &str = r#"# depin node configuration.
# Precedence: command-line flag > DEPIN_<SECTION>_<KEY> environment variable > this file > default.
# Every key is shown with its default value.

[api]
# Address of the HTTP API, dashboard and /metrics. Keep it on loopback unless a reverse proxy
# with TLS and authentication sits in front.  env: DEPIN_API_LISTEN
listen = "127.0.0.1:8787"
# Largest accepted request body in bytes; larger requests get 413.  env: DEPIN_API_MAX_BODY_BYTES
max_body_bytes = 1048576

[sequencer]
# While transactions wait, a block is cut this often (milliseconds).  env: DEPIN_SEQUENCER_BLOCK_INTERVAL_MS
block_interval_ms = 500
# With nothing waiting, an empty block is still cut this often; 0 = never.  env: DEPIN_SEQUENCER_EMPTY_BLOCK_INTERVAL_MS
empty_block_interval_ms = 5000
# Most transactions per block; a full mempool cuts a block early. Capped by genesis
# params.max_block_txs.  env: DEPIN_SEQUENCER_MAX_BLOCK_TXS
max_block_txs = 10000

[consensus]
# Who orders blocks. "single": this node alone, with the local sequencer above. "bft": consensus
# among the validators listed in genesis, each of which must have a p2p address there.
# env: DEPIN_CONSENSUS_MODE
mode = "single"
# Address the consensus p2p transport listens on (bft only). The other validators dial the p2p
# address genesis lists for this node's key.  env: DEPIN_CONSENSUS_P2P_LISTEN
p2p_listen = "0.0.0.0:27001"
# How long to wait for the leader's proposal before voting to skip the view (milliseconds).
# env: DEPIN_CONSENSUS_LEADER_TIMEOUT_MS
leader_timeout_ms = 1000
# How long to wait for a notarization before voting to skip the view (milliseconds); must be
# greater than leader_timeout_ms.  env: DEPIN_CONSENSUS_NOTARIZATION_TIMEOUT_MS
notarization_timeout_ms = 2000
# How often a vote to skip a view that is still open is broadcast again (milliseconds).
# env: DEPIN_CONSENSUS_NULLIFY_RETRY_MS
nullify_retry_ms = 10000
# How long to wait for a peer to answer a request for missing blocks or certificates
# (milliseconds).  env: DEPIN_CONSENSUS_FETCH_TIMEOUT_MS
fetch_timeout_ms = 2000
# Views behind the last finalized one whose votes and certificates are still kept; a validator
# further behind catches up by fetching finalized blocks.  env: DEPIN_CONSENSUS_ACTIVITY_TIMEOUT_VIEWS
activity_timeout_views = 256
# Largest block this node proposes or accepts from a peer, in bytes (65536..=33554432).
# env: DEPIN_CONSENSUS_MAX_BLOCK_BYTES
max_block_bytes = 4194304

[mempool]
# Most pending transactions; beyond it submissions get 429 mempool_full.  env: DEPIN_MEMPOOL_MAX_TXS
max_txs = 100000
# Most pending transactions per sender; beyond it 429 sender_queue_full.  env: DEPIN_MEMPOOL_MAX_PER_SENDER
max_per_sender = 1024

[telemetry]
# Most accepted reports waiting for a block; beyond it POST /api/v1/telemetry answers 429 with
# Retry-After.  env: DEPIN_TELEMETRY_QUEUE_MAX_REPORTS
queue_max_reports = 200000
# A report's timestamp may differ from this node's clock by at most this (milliseconds); others
# get clock_skew.  env: DEPIN_TELEMETRY_SKEW_WINDOW_MS
skew_window_ms = 30000
# Reports per minute one asset may send; beyond it rate_limited.  env: DEPIN_TELEMETRY_RATE_PER_MINUTE
rate_per_minute = 120
# Reports one asset may send at once before the rate applies.  env: DEPIN_TELEMETRY_BURST
burst = 20
# Accepted reports go to the ledger in a transaction at least this often (milliseconds).
# env: DEPIN_TELEMETRY_FLUSH_INTERVAL_MS
flush_interval_ms = 200
# Ingest results kept in memory for `depin telemetry tail`.  env: DEPIN_TELEMETRY_RECENT_RESULTS
recent_results = 10000
# Keep the raw device reports in the block log for this many telemetry epochs (genesis
# telemetry.epoch_ms) before the head, then prune them: each telemetry transaction of an older
# block becomes a summary (id, sender, nonce, report count) that still verifies against the
# block header; per-epoch aggregates stay in the state. 0 = keep everything (an archive node).
# A pruning node cannot replay from genesis (`depin ledger replay`) nor rebuild a lost state:
# opt in on nodes that do not need to.  env: DEPIN_TELEMETRY_RETAIN_EPOCHS
retain_epochs = 0

[alerts]
# Alert (SSE event "alert", and the webhook below) when an asset reporting to this node has
# been offline longer than this many seconds; 0 = off.  env: DEPIN_ALERTS_OFFLINE_FOR_S
offline_for_s = 300
# Alert when an asset's uptime in the current epoch falls under this, per mille; 0 = off.
# env: DEPIN_ALERTS_UPTIME_BELOW_PERMILLE
uptime_below_permille = 0
# POST every alert as JSON to this URL as well; "" = SSE only.  env: DEPIN_ALERTS_WEBHOOK_URL
webhook_url = ""

[log]
# tracing filter (RUST_LOG wins if set).  env: DEPIN_LOG_LEVEL
level = "info"
# "pretty" for people, "json" for log collectors.  env: DEPIN_LOG_FORMAT
format = "pretty"
"#;

/// Smallest allowed request body limit: a hybrid-signed transaction in JSON with room to spare.
pub const MIN_BODY_BYTES: usize = 4 * depin_types::limits::MAX_TX_BYTES;
/// Largest allowed request body limit.
pub const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

/// Smallest allowed `consensus.max_block_bytes`.
pub const MIN_CONSENSUS_BLOCK_BYTES: usize = 64 * 1024;
/// Largest allowed `consensus.max_block_bytes`: half the decoder's bound, so a block at the limit
/// always decodes with room to spare.
pub const MAX_CONSENSUS_BLOCK_BYTES: usize = depin_types::limits::MAX_BLOCK_BYTES / 2;

/// Largest config file read.
const MAX_CONFIG_BYTES: u64 = 1024 * 1024;

/// The line of [`TEMPLATE`] that [`NodeConfig::to_commented_toml`] replaces when some value is
/// not the default.
const TEMPLATE_DEFAULTS_LINE: &str = "# Every key is shown with its default value.";
/// What it says instead.
const CHANGED_DEFAULTS_LINE: &str =
    "# Every key is shown; a value that is not the default is followed by a comment with the default.";

impl NodeConfig {
    /// [`TEMPLATE`] with this configuration's values: every key and comment kept, and a value
    /// that differs from its default followed by `# default: …`. For the default configuration
    /// it is exactly [`TEMPLATE`]. This is how tools write a `config.toml` that is not the
    /// default (`depin testnet init`).
    pub fn to_commented_toml(&self) -> String {
        let table = |c: &NodeConfig| toml::Table::try_from(c).expect("invariant: the configuration serializes to TOML");
        let (values, defaults) = (table(self), table(&NodeConfig::default()));
        let lookup = |t: &toml::Table, section: &str, key: &str| {
            t.get(section).and_then(|s| s.get(key)).cloned().expect("invariant: every TEMPLATE key is a config field")
        };
        let mut out = String::with_capacity(TEMPLATE.len() + 256);
        let mut section = "";
        let mut changed = false;
        for line in TEMPLATE.lines() {
            if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                section = name;
            }
            match line.split_once(" = ") {
                Some((key, _)) if !line.starts_with('#') => {
                    let (value, default) = (lookup(&values, section, key), lookup(&defaults, section, key));
                    if value == default {
                        out.push_str(line);
                    } else {
                        out.push_str(&format!("{key} = {value}  # default: {default}"));
                        changed = true;
                    }
                }
                _ => out.push_str(line),
            }
            out.push('\n');
        }
        if changed { out.replacen(TEMPLATE_DEFAULTS_LINE, CHANGED_DEFAULTS_LINE, 1) } else { out }
    }

    /// Load `path` (defaults if it does not exist), then apply environment overrides from
    /// `env` (pass `std::env::vars()`), then validate.
    pub fn load(path: &Path, env: impl IntoIterator<Item = (String, String)>) -> Result<NodeConfig, ConfigError> {
        let shown = path.display().to_string();
        let mut config = match std::fs::metadata(path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => NodeConfig::default(),
            Err(source) => return Err(ConfigError::Io { path: shown, source }),
            Ok(m) if m.len() > MAX_CONFIG_BYTES => {
                return Err(ConfigError::Invalid(format!("{shown} is larger than {MAX_CONFIG_BYTES} bytes")));
            }
            Ok(_) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|source| ConfigError::Io { path: shown.clone(), source })?;
                toml::from_str(&text).map_err(|e| ConfigError::Parse { path: shown, message: e.to_string() })?
            }
        };
        for (k, v) in env {
            config.apply_env(&k, &v)?;
        }
        config.validate()?;
        Ok(config)
    }

    fn apply_env(&mut self, key: &str, value: &str) -> Result<(), ConfigError> {
        fn parse<T: std::str::FromStr>(key: &str, value: &str) -> Result<T, ConfigError> {
            value.parse().map_err(|_| ConfigError::Invalid(format!("environment variable {key}={value:?} is not valid")))
        }
        match key {
            "DEPIN_API_LISTEN" => self.api.listen = parse(key, value)?,
            "DEPIN_API_MAX_BODY_BYTES" => self.api.max_body_bytes = parse(key, value)?,
            "DEPIN_SEQUENCER_BLOCK_INTERVAL_MS" => self.sequencer.block_interval_ms = parse(key, value)?,
            "DEPIN_SEQUENCER_EMPTY_BLOCK_INTERVAL_MS" => {
                self.sequencer.empty_block_interval_ms = parse(key, value)?
            }
            "DEPIN_SEQUENCER_MAX_BLOCK_TXS" => self.sequencer.max_block_txs = parse(key, value)?,
            "DEPIN_CONSENSUS_MODE" => self.consensus.mode = parse(key, value)?,
            "DEPIN_CONSENSUS_P2P_LISTEN" => self.consensus.p2p_listen = parse(key, value)?,
            "DEPIN_CONSENSUS_LEADER_TIMEOUT_MS" => self.consensus.leader_timeout_ms = parse(key, value)?,
            "DEPIN_CONSENSUS_NOTARIZATION_TIMEOUT_MS" => self.consensus.notarization_timeout_ms = parse(key, value)?,
            "DEPIN_CONSENSUS_NULLIFY_RETRY_MS" => self.consensus.nullify_retry_ms = parse(key, value)?,
            "DEPIN_CONSENSUS_FETCH_TIMEOUT_MS" => self.consensus.fetch_timeout_ms = parse(key, value)?,
            "DEPIN_CONSENSUS_ACTIVITY_TIMEOUT_VIEWS" => self.consensus.activity_timeout_views = parse(key, value)?,
            "DEPIN_CONSENSUS_MAX_BLOCK_BYTES" => self.consensus.max_block_bytes = parse(key, value)?,
            "DEPIN_MEMPOOL_MAX_TXS" => self.mempool.max_txs = parse(key, value)?,
            "DEPIN_MEMPOOL_MAX_PER_SENDER" => self.mempool.max_per_sender = parse(key, value)?,
            "DEPIN_TELEMETRY_QUEUE_MAX_REPORTS" => self.telemetry.queue_max_reports = parse(key, value)?,
            "DEPIN_TELEMETRY_SKEW_WINDOW_MS" => self.telemetry.skew_window_ms = parse(key, value)?,
            "DEPIN_TELEMETRY_RATE_PER_MINUTE" => self.telemetry.rate_per_minute = parse(key, value)?,
            "DEPIN_TELEMETRY_BURST" => self.telemetry.burst = parse(key, value)?,
            "DEPIN_TELEMETRY_FLUSH_INTERVAL_MS" => self.telemetry.flush_interval_ms = parse(key, value)?,
            "DEPIN_TELEMETRY_RECENT_RESULTS" => self.telemetry.recent_results = parse(key, value)?,
            "DEPIN_TELEMETRY_RETAIN_EPOCHS" => self.telemetry.retain_epochs = parse(key, value)?,
            "DEPIN_ALERTS_OFFLINE_FOR_S" => self.alerts.offline_for_s = parse(key, value)?,
            "DEPIN_ALERTS_UPTIME_BELOW_PERMILLE" => self.alerts.uptime_below_permille = parse(key, value)?,
            "DEPIN_ALERTS_WEBHOOK_URL" => self.alerts.webhook_url = value.to_string(),
            "DEPIN_LOG_LEVEL" => self.log.level = value.to_string(),
            "DEPIN_LOG_FORMAT" => self.log.format = value.to_string(),
            _ => {}
        }
        Ok(())
    }

    /// Range checks.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |m: &str| Err(ConfigError::Invalid(m.to_string()));
        if !(1..=60_000).contains(&self.sequencer.block_interval_ms) {
            return bad("sequencer.block_interval_ms must be 1..=60000");
        }
        if self.sequencer.max_block_txs == 0 {
            return bad("sequencer.max_block_txs must be at least 1");
        }
        if self.mempool.max_txs == 0 || self.mempool.max_per_sender == 0 {
            return bad("mempool.max_txs and mempool.max_per_sender must be at least 1");
        }
        // The JSON form of the largest transaction (hex doubles its bytes) must fit; more than
        // a few MiB only helps someone holding connections open.
        if !(MIN_BODY_BYTES..=MAX_BODY_BYTES).contains(&self.api.max_body_bytes) {
            return bad(&format!("api.max_body_bytes must be {MIN_BODY_BYTES}..={MAX_BODY_BYTES}"));
        }
        let t = &self.telemetry;
        if t.queue_max_reports == 0 || t.burst == 0 || t.rate_per_minute == 0 || t.recent_results == 0 {
            return bad("telemetry.queue_max_reports, burst, rate_per_minute and recent_results must be at least 1");
        }
        if !(10..=60_000).contains(&t.flush_interval_ms) {
            return bad("telemetry.flush_interval_ms must be 10..=60000");
        }
        if self.alerts.uptime_below_permille > 1_000 {
            return bad("alerts.uptime_below_permille must be at most 1000");
        }
        let url = &self.alerts.webhook_url;
        if !url.is_empty() && !url.starts_with("http://") && !url.starts_with("https://") {
            return bad("alerts.webhook_url must be empty or an http:// or https:// URL");
        }
        if !matches!(self.log.format.as_str(), "pretty" | "json") {
            return bad("log.format must be \"pretty\" or \"json\"");
        }
        self.consensus.validate()
    }
}

impl ConsensusConfig {
    /// Range checks of `[consensus]` (also in `single` mode: a file is either valid or not).
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |m: String| Err(ConfigError::Invalid(m));
        for (key, value) in [
            ("leader_timeout_ms", self.leader_timeout_ms),
            ("notarization_timeout_ms", self.notarization_timeout_ms),
            ("nullify_retry_ms", self.nullify_retry_ms),
            ("fetch_timeout_ms", self.fetch_timeout_ms),
            ("activity_timeout_views", self.activity_timeout_views),
        ] {
            if value == 0 {
                return bad(format!("consensus.{key} must be at least 1"));
            }
        }
        // A view must give the leader's proposal time to arrive before it gives up on the
        // notarization (the engine refuses to start otherwise).
        if self.notarization_timeout_ms <= self.leader_timeout_ms {
            return bad(format!(
                "consensus.notarization_timeout_ms ({}) must be greater than consensus.leader_timeout_ms ({})",
                self.notarization_timeout_ms, self.leader_timeout_ms
            ));
        }
        if !(MIN_CONSENSUS_BLOCK_BYTES..=MAX_CONSENSUS_BLOCK_BYTES).contains(&self.max_block_bytes) {
            return bad(format!(
                "consensus.max_block_bytes must be {MIN_CONSENSUS_BLOCK_BYTES}..={MAX_CONSENSUS_BLOCK_BYTES}"
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_parses_to_defaults() {
        let parsed: NodeConfig = toml::from_str(TEMPLATE).unwrap();
        assert_eq!(parsed, NodeConfig::default());
        assert_eq!(NodeConfig::default().to_commented_toml(), TEMPLATE);
    }

    #[test]
    fn commented_toml_keeps_comments_and_round_trips() {
        let mut c = NodeConfig::default();
        c.api.listen = SocketAddr::from(([127, 0, 0, 1], 27000));
        c.consensus.mode = ConsensusMode::Bft;
        c.consensus.p2p_listen = SocketAddr::from(([127, 0, 0, 1], 27001));
        c.log.format = "json".into();
        let text = c.to_commented_toml();
        assert_eq!(toml::from_str::<NodeConfig>(&text).unwrap(), c);
        assert!(text.contains("listen = \"127.0.0.1:27000\"  # default: \"127.0.0.1:8787\"\n"), "{text}");
        assert!(text.contains("mode = \"bft\"  # default: \"single\"\n"), "{text}");
        assert!(text.contains("\nmax_block_bytes = 4194304\n"), "unchanged values stay as they are:\n{text}");
        assert!(text.contains(CHANGED_DEFAULTS_LINE) && !text.contains(TEMPLATE_DEFAULTS_LINE), "{text}");
        // Every comment line of the template is still there.
        for line in TEMPLATE.lines().filter(|l| l.starts_with('#') && *l != TEMPLATE_DEFAULTS_LINE) {
            assert!(text.contains(line), "lost {line:?}");
        }
    }

    /// Every key in [`TEMPLATE`] names its own `DEPIN_<SECTION>_<KEY>` variable in the comment
    /// above it, and `apply_env` acts on that variable.
    #[test]
    fn every_template_key_names_a_working_env_var() {
        let mut section = String::new();
        let mut comment = String::new();
        let mut keys = 0;
        for line in TEMPLATE.lines() {
            if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                section = name.to_uppercase();
            } else if let Some(c) = line.strip_prefix('#') {
                comment.push_str(c);
            } else if let Some((key, _)) = line.split_once(" = ") {
                let var = format!("DEPIN_{section}_{}", key.to_uppercase());
                assert!(comment.contains(&format!("env: {var}")), "the comment above {key} does not name {var}");
                let mut c = NodeConfig::default();
                let acted = c.apply_env(&var, "\u{1}not a value").is_err() || c != NodeConfig::default();
                assert!(acted, "{var} is documented but apply_env ignores it");
                comment.clear();
                keys += 1;
            }
        }
        assert_eq!(keys, 27, "a key was added or removed: update this count with the template");
        assert!(TEMPLATE.contains(&format!("({MIN_CONSENSUS_BLOCK_BYTES}..={MAX_CONSENSUS_BLOCK_BYTES})")));
    }

    #[test]
    fn consensus_section_from_file_and_env() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, "[consensus]\nmode = \"bft\"\np2p_listen = \"127.0.0.1:27011\"\n").unwrap();
        let c = NodeConfig::load(&path, vec![]).unwrap();
        assert_eq!(c.consensus.mode, ConsensusMode::Bft);
        assert_eq!(c.consensus.p2p_listen, SocketAddr::from(([127, 0, 0, 1], 27011)));
        assert_eq!(c.consensus.leader_timeout_ms, 1_000, "unset keys keep their defaults");
        let env = |k: &str, v: &str| vec![(k.to_string(), v.to_string())];
        let c = NodeConfig::load(&path, env("DEPIN_CONSENSUS_MODE", "single")).unwrap();
        assert_eq!(c.consensus.mode, ConsensusMode::Single);
        let c = NodeConfig::load(&path, env("DEPIN_CONSENSUS_FETCH_TIMEOUT_MS", "750")).unwrap();
        assert_eq!(c.consensus.fetch_timeout_ms, 750);
        assert!(NodeConfig::load(&path, env("DEPIN_CONSENSUS_MODE", "raft")).is_err());
        std::fs::write(&path, "[consensus]\nmode = \"raft\"\n").unwrap();
        assert!(matches!(NodeConfig::load(&path, vec![]), Err(ConfigError::Parse { .. })));
        assert_eq!("bft".parse::<ConsensusMode>().unwrap().to_string(), "bft");
    }

    #[test]
    fn consensus_ranges_are_checked() {
        #[track_caller]
        fn invalid(change: impl FnOnce(&mut ConsensusConfig), needle: &str) {
            let mut c = NodeConfig::default();
            change(&mut c.consensus);
            match c.validate() {
                Err(ConfigError::Invalid(m)) => assert!(m.contains(needle), "{m:?} does not say {needle:?}"),
                other => panic!("expected an invalid config ({needle}), got {other:?}"),
            }
        }
        invalid(|c| c.leader_timeout_ms = 0, "consensus.leader_timeout_ms must be at least 1");
        invalid(|c| c.notarization_timeout_ms = 0, "consensus.notarization_timeout_ms must be at least 1");
        invalid(|c| c.nullify_retry_ms = 0, "consensus.nullify_retry_ms must be at least 1");
        invalid(|c| c.fetch_timeout_ms = 0, "consensus.fetch_timeout_ms must be at least 1");
        invalid(|c| c.activity_timeout_views = 0, "consensus.activity_timeout_views must be at least 1");
        let greater = "must be greater than consensus.leader_timeout_ms";
        invalid(|c| c.notarization_timeout_ms = c.leader_timeout_ms, greater);
        invalid(|c| c.max_block_bytes = MIN_CONSENSUS_BLOCK_BYTES - 1, "consensus.max_block_bytes must be");
        invalid(|c| c.max_block_bytes = MAX_CONSENSUS_BLOCK_BYTES + 1, "consensus.max_block_bytes must be");
        let mut c = NodeConfig::default();
        c.consensus.max_block_bytes = MAX_CONSENSUS_BLOCK_BYTES;
        c.consensus.notarization_timeout_ms = c.consensus.leader_timeout_ms + 1;
        c.validate().unwrap();
    }

    #[test]
    fn env_overrides_file_and_bad_values_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, "[sequencer]\nblock_interval_ms = 100\n").unwrap();
        let env = vec![("DEPIN_MEMPOOL_MAX_TXS".to_string(), "7".to_string())];
        let c = NodeConfig::load(&path, env).unwrap();
        assert_eq!(c.sequencer.block_interval_ms, 100);
        assert_eq!(c.mempool.max_txs, 7);
        let env = vec![("DEPIN_API_LISTEN".to_string(), "nope".to_string())];
        assert!(NodeConfig::load(&path, env).is_err());
        std::fs::write(&path, "[sequencer]\nblock_interval = 100\n").unwrap();
        assert!(matches!(NodeConfig::load(&path, vec![]), Err(ConfigError::Parse { .. })));
    }
}
