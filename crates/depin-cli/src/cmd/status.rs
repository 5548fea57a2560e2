//! Show the node's chain id, height, head and mempool (`depin status`).

use depin_types::{Address, Hash32};
use serde::{Deserialize, Serialize};

use crate::client::Client;
use crate::cmd::Ctx;
use crate::error::CliResult;
use crate::output;

/// The node's `GET /api/v1/status` answer (mirror of `depin_node::Status`), plus the URL asked.
#[derive(Serialize, Deserialize)]
pub(crate) struct NodeStatus {
    pub(crate) chain_id: String,
    pub(crate) genesis_id: Hash32,
    pub(crate) height: u64,
    pub(crate) block_id: Hash32,
    pub(crate) state_root: Hash32,
    pub(crate) timestamp_ms: u64,
    pub(crate) mempool_size: usize,
    pub(crate) min_fee: depin_types::Amount,
    pub(crate) node_public_key: String,
    pub(crate) node_address: Address,
    pub(crate) version: String,
    /// Filled in by the CLI: which node answered.
    #[serde(default)]
    pub(crate) node_url: String,
}

/// Ask the node for its status.
pub(crate) fn fetch(client: &Client) -> CliResult<NodeStatus> {
    let mut status: NodeStatus = client.get("/api/v1/status")?;
    status.node_url = client.base().to_string();
    Ok(status)
}

/// Run `depin status`.
pub fn run(ctx: &Ctx) -> CliResult {
    let status = fetch(&ctx.client()?)?;
    output::print(ctx.output, &status, |s| {
        vec![
            ("chain_id".into(), s.chain_id.clone()),
            ("height".into(), s.height.to_string()),
            ("block_id".into(), s.block_id.to_hex()),
            ("state_root".into(), s.state_root.to_hex()),
            ("time".into(), super::query::format_time_ms(s.timestamp_ms)),
            ("mempool".into(), format!("{} pending", s.mempool_size)),
            ("min_fee".into(), s.min_fee.to_string()),
            ("node_address".into(), s.node_address.to_string()),
            ("version".into(), s.version.clone()),
            ("node".into(), s.node_url.clone()),
        ]
    });
    Ok(())
}
