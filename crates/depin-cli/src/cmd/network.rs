//! Show the whole network's health (`depin network health`): assets by state, class and region.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::cli::NetworkCmd;
use crate::cmd::Ctx;
use crate::error::{CliError, CliResult};
use crate::output::{self, Format};

/// Regions listed in the table (the most populated first); `-o json` has them all.
const REGIONS_SHOWN: usize = 25;

/// Assets by health state.
#[derive(Clone, Copy, Default, Serialize, Deserialize)]
struct Counts {
    healthy: u64,
    degraded: u64,
    offline: u64,
}

impl Counts {
    fn total(&self) -> u64 {
        self.healthy + self.degraded + self.offline
    }

    fn cells(&self) -> Vec<String> {
        vec![self.healthy.to_string(), self.degraded.to_string(), self.offline.to_string()]
    }
}

/// One region (an H3 cell at resolution 4).
#[derive(Serialize, Deserialize)]
struct Region {
    cell: String,
    #[serde(flatten)]
    counts: Counts,
}

/// `GET /api/v1/network/health`.
#[derive(Deserialize)]
struct NetworkView {
    epoch: u64,
    assets: u64,
    by_state: Counts,
    #[serde(default)]
    by_class: BTreeMap<String, Counts>,
    #[serde(default)]
    by_region: Vec<Region>,
    #[serde(default)]
    truncated: bool,
}

/// Run `depin network …`.
pub fn run(ctx: &Ctx, cmd: NetworkCmd) -> CliResult {
    match cmd {
        NetworkCmd::Health => health(ctx),
    }
}

fn health(ctx: &Ctx) -> CliResult {
    let json: Value = ctx.client()?.get("/api/v1/network/health")?;
    if ctx.output == Format::Json {
        output::print(Format::Json, &json, |_| Vec::new());
        return Ok(());
    }
    let mut n: NetworkView = serde_json::from_value(json)
        .map_err(|e| CliError::fail(format!("unexpected network health answer from the node: {e}")))?;
    let share = |k: u64| match n.assets {
        0 => k.to_string(),
        all => format!("{k} ({}.{}%)", k * 100 / all, k * 1_000 / all % 10),
    };
    output::print(Format::Table, &(), |_| {
        let mut rows = vec![
            ("epoch".to_string(), n.epoch.to_string()),
            ("assets".to_string(), n.assets.to_string()),
            ("healthy".to_string(), share(n.by_state.healthy)),
            ("degraded".to_string(), share(n.by_state.degraded)),
            ("offline".to_string(), share(n.by_state.offline)),
        ];
        if n.truncated {
            rows.push(("note".to_string(), "the node counted only part of a very large registry".to_string()));
        }
        rows
    });
    println!();
    let classes: Vec<(&String, &Counts)> = n.by_class.iter().collect();
    output::print_list(Format::Table, &classes, &["CLASS", "HEALTHY", "DEGRADED", "OFFLINE"], |(class, c)| {
        [vec![class.to_string()], c.cells()].concat()
    });
    println!();
    if n.by_region.is_empty() {
        println!("no assets in any region");
        return Ok(());
    }
    // Most assets first; ties in cell order, so the table is stable.
    n.by_region.sort_by(|a, b| b.counts.total().cmp(&a.counts.total()).then_with(|| a.cell.cmp(&b.cell)));
    let shown = &n.by_region[..REGIONS_SHOWN.min(n.by_region.len())];
    output::print_list(Format::Table, shown, &["REGION (H3 RES 4)", "HEALTHY", "DEGRADED", "OFFLINE"], |r| {
        [vec![r.cell.clone()], r.counts.cells()].concat()
    });
    if shown.len() < n.by_region.len() {
        println!("… and {} more regions (all with -o json)", n.by_region.len() - shown.len());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_contract_answer_parses() {
        let answer = serde_json::json!({
            "epoch": 3, "assets": 3,
            "by_state": {"healthy": 1, "degraded": 1, "offline": 1},
            "by_class": {"compute": {"healthy": 1, "degraded": 1, "offline": 0}, "sensor": {"healthy": 0, "degraded": 0, "offline": 1}},
            "by_region": [{"cell": "841fb47ffffffff", "healthy": 1, "degraded": 1, "offline": 1}],
            "truncated": false
        });
        let n: NetworkView = serde_json::from_value(answer).unwrap();
        assert_eq!(n.by_region[0].counts.total(), 3);
        assert_eq!(n.by_class["compute"].cells(), ["1", "1", "0"]);
    }
}
