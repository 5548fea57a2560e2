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
    /// Transaction pool.
    pub mempool: MempoolConfig,
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

/// `[mempool]`
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MempoolConfig {
    /// Most pending transactions in total.
    pub max_txs: usize,
    /// Most pending transactions per sender.
    pub max_per_sender: usize,
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
impl Default for MempoolConfig {
    fn default() -> Self {
        MempoolConfig { max_txs: 100_000, max_per_sender: 1_024 }
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

[mempool]
# Most pending transactions; beyond it submissions get 429 mempool_full.  env: DEPIN_MEMPOOL_MAX_TXS
max_txs = 100000
# Most pending transactions per sender; beyond it 429 sender_queue_full.  env: DEPIN_MEMPOOL_MAX_PER_SENDER
max_per_sender = 1024

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

/// Largest config file read.
const MAX_CONFIG_BYTES: u64 = 1024 * 1024;

impl NodeConfig {
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
            "DEPIN_MEMPOOL_MAX_TXS" => self.mempool.max_txs = parse(key, value)?,
            "DEPIN_MEMPOOL_MAX_PER_SENDER" => self.mempool.max_per_sender = parse(key, value)?,
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
        if !matches!(self.log.format.as_str(), "pretty" | "json") {
            return bad("log.format must be \"pretty\" or \"json\"");
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
