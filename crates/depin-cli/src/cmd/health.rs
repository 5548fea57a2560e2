//! Show one asset's health (`depin asset health`): its state now and in past epochs, with the
//! reasons in words, its uptime, its last report and the node's latest refusals.

use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::cmd::asset::parse_asset_id;
use crate::cmd::telemetry::{clock_utc, percent, reasons_text, verdict_text, Reason};
use crate::cmd::Ctx;
use crate::error::{CliError, CliResult, ExitCode};
use crate::output::{self, Format};

/// `GET /api/v1/assets/{id}/health`.
#[derive(Deserialize)]
struct HealthView {
    asset: String,
    class: String,
    status: String,
    now: EpochView,
    last_report_ms: Option<u64>,
    last_seq: Option<u64>,
    #[serde(default)]
    epochs: Vec<EpochView>,
    #[serde(default)]
    rejections: Vec<Rejection>,
}

/// One epoch's verdict.
#[derive(Serialize, Deserialize)]
struct EpochView {
    epoch: u64,
    state: String,
    #[serde(default)]
    reasons: Vec<Reason>,
    uptime_permille: u16,
    #[serde(default)]
    reports: u32,
}

/// A refusal at the node's ingest edge.
#[derive(Serialize, Deserialize)]
struct Rejection {
    at_ms: u64,
    seq: u64,
    code: String,
    #[serde(default)]
    message: String,
}

/// Run `depin asset health ID`.
pub fn run(ctx: &Ctx, id: &str, epochs: u32) -> CliResult {
    let id = parse_asset_id(id)?;
    let json: Value = ctx.client()?.get(&format!("/api/v1/assets/{id}/health?epochs={epochs}")).map_err(|e| {
        if e.exit_code == ExitCode::NotFound {
            e.hint("`depin asset list` shows the registered assets (--wide for whole ids)")
        } else {
            e
        }
    })?;
    if ctx.output == Format::Json {
        output::print(Format::Json, &json, |_| Vec::new());
        return Ok(());
    }
    let h: HealthView = serde_json::from_value(json)
        .map_err(|e| CliError::fail(format!("unexpected health answer from the node: {e}")))?;
    let now_ms = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64);
    let last = match (h.last_report_ms, h.last_seq) {
        (Some(ms), seq) => {
            let seq = seq.map_or(String::new(), |s| format!(", seq {s}"));
            format!("{} ago ({} UTC{seq})", age(now_ms, ms), clock_utc(ms))
        }
        (None, _) => "never".to_string(),
    };
    output::print(Format::Table, &(), |_| {
        vec![
            ("asset".into(), h.asset.clone()),
            ("class".into(), h.class.clone()),
            ("status".into(), h.status.clone()),
            ("now".into(), format!("{} (epoch {})", h.now.state, h.now.epoch)),
            ("reasons".into(), reasons_text(&h.now.reasons)),
            ("uptime".into(), format!("{} of this epoch's buckets", percent(h.now.uptime_permille))),
            ("reports".into(), format!("{} this epoch", h.now.reports)),
            ("last_report".into(), last),
        ]
    });
    println!();
    if h.epochs.is_empty() {
        println!("no past epochs with telemetry");
    } else {
        output::print_list(Format::Table, &h.epochs, &["EPOCH", "STATE", "UPTIME", "REPORTS", "REASONS"], |e| {
            vec![
                e.epoch.to_string(),
                e.state.clone(),
                percent(e.uptime_permille),
                e.reports.to_string(),
                reasons_text(&e.reasons),
            ]
        });
    }
    println!();
    if h.rejections.is_empty() {
        println!("no refused reports at this node");
    } else {
        println!("refused at this node's ingest:");
        output::print_list(Format::Table, &h.rejections, &["TIME (UTC)", "SEQ", "REASON"], |r| {
            vec![clock_utc(r.at_ms), r.seq.to_string(), verdict_text(&r.code, &r.message)]
        });
    }
    Ok(())
}

/// How long ago `then_ms` was at `now_ms`, briefly: `42 s`, `3 min 5 s`, `2 h 10 min`, `4 d 3 h`.
fn age(now_ms: u64, then_ms: u64) -> String {
    let s = now_ms.saturating_sub(then_ms) / 1_000;
    match s {
        0..60 => format!("{s} s"),
        60..3_600 => format!("{} min {} s", s / 60, s % 60),
        3_600..86_400 => format!("{} h {} min", s / 3_600, s % 3_600 / 60),
        _ => format!("{} d {} h", s / 86_400, s % 86_400 / 3_600),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_briefly() {
        assert_eq!(age(10_000, 10_500), "0 s", "a device clock ahead of this one");
        assert_eq!(age(42_000, 0), "42 s");
        assert_eq!(age(185_000, 0), "3 min 5 s");
        assert_eq!(age(7_800_000, 0), "2 h 10 min");
        assert_eq!(age(356_400_000, 0), "4 d 3 h");
    }

    #[test]
    fn the_contract_answer_parses() {
        let answer = serde_json::json!({
            "asset": "ab", "class": "compute", "status": "active",
            "now": {"epoch": 7, "state": "degraded", "reasons": [{"code": "low_uptime", "permille": 500}],
                    "uptime_permille": 500, "reports": 2},
            "last_report_ms": 123, "last_seq": 9,
            "epochs": [{"epoch": 6, "state": "healthy", "reasons": [], "uptime_permille": 1000, "reports": 40}],
            "rejections": [{"cursor": 1, "at_ms": 5, "asset": "ab", "seq": 3, "code": "stale_sequence", "message": "m"}]
        });
        let h: HealthView = serde_json::from_value(answer).unwrap();
        assert_eq!(reasons_text(&h.now.reasons), "heartbeats in only 50.0% of the buckets");
        assert_eq!((h.epochs[0].reports, h.rejections[0].seq), (40, 3));
    }
}
