//! Follow the node's telemetry ingest (`depin telemetry tail`), and say in words what report
//! codes and health reasons mean (shared with `asset health` and `agent run`).

use std::collections::VecDeque;
use std::time::Duration;

use depin_types::asset::AssetId;
use depin_types::telemetry::{HealthReason, ReportCode};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::cli::{TelemetryCmd, TelemetryTailArgs};
use crate::client::Client;
use crate::cmd::asset::parse_asset_id;
use crate::cmd::Ctx;
use crate::error::{CliError, CliResult};
use crate::output::Format;

/// Results asked for per request (the node's largest page).
const PAGE: usize = 1_000;
/// Most pages read to find the latest results (the node keeps far fewer in memory).
const PAGES_MAX: usize = 1_000;
/// Pause between polls of `--follow`.
const FOLLOW_POLL: Duration = Duration::from_secs(1);
/// Hex digits of an asset id shown in tables.
pub(crate) const SHORT_ID_LEN: usize = 16;

/// Run `depin telemetry …`.
pub fn run(ctx: &Ctx, cmd: TelemetryCmd) -> CliResult {
    match cmd {
        TelemetryCmd::Tail(args) => tail(ctx, &args),
    }
}

// ---------------------------------------------------------------------------------------------
// Words for codes (shared)
// ---------------------------------------------------------------------------------------------

/// What a report code (`accepted` or a [`ReportCode`] name) means, for people; `None` for a
/// code this CLI does not know (a newer node).
pub(crate) fn code_sentence(code: &str) -> Option<&'static str> {
    let code = ReportCode::ALL.into_iter().find(|c| c.name() == code)?;
    Some(match code {
        ReportCode::Accepted => "accepted",
        ReportCode::Malformed => "not a decodable report",
        ReportCode::UnsupportedVersion => "a report format version this node does not read",
        ReportCode::BadSignature => "the signature does not verify under the device key for this chain",
        ReportCode::UnknownAsset => "no asset is registered with this device key",
        ReportCode::WrongDeviceKey => "the asset is registered with another device key (it was re-keyed)",
        ReportCode::AssetNotInService => {
            "the asset is not in service (suspended, decommissioned or revoked): reports do not count"
        }
        ReportCode::Duplicate => "this sequence number was already received",
        ReportCode::StaleSequence => "the sequence number is not above the last one accepted",
        ReportCode::ClockSkew => "the device clock is outside the accepted window",
        ReportCode::WrongEpoch => "the epoch does not match the timestamp",
        ReportCode::ClassMismatch => "the metrics are of another class than the asset's",
        ReportCode::BadFix => "the GNSS fix is not at the registry's resolution",
        ReportCode::RateLimited => "the asset sends reports faster than its rate limit",
        ReportCode::Overloaded => "the node's ingest queue was full; send it again later",
    })
}

/// `code` with its meaning: `accepted`, or `clock_skew: the device clock is …`; for an unknown
/// code, the node's own `message`.
pub(crate) fn verdict_text(code: &str, message: &str) -> String {
    match code_sentence(code) {
        Some(_) if code == ReportCode::Accepted.name() => code.to_string(),
        Some(sentence) => format!("{code}: {sentence}"),
        None if message.is_empty() => code.to_string(),
        None => format!("{code}: {message}"),
    }
}

/// A health reason as the node sends it: one this CLI knows, or a newer one shown by its code.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(untagged)]
pub(crate) enum Reason {
    /// A reason of this CLI's version.
    Known(HealthReason),
    /// Another (`{"code": "...", ...}`).
    Other(Value),
}

impl Reason {
    /// The reason in words.
    pub(crate) fn text(&self) -> String {
        match self {
            Reason::Known(r) => reason_sentence(r),
            Reason::Other(v) => v["code"].as_str().map_or_else(|| v.to_string(), |c| c.replace('_', " ")),
        }
    }
}

/// Why an asset is not healthy, in words.
pub(crate) fn reason_sentence(reason: &HealthReason) -> String {
    match *reason {
        HealthReason::NeverReported => "never reported".into(),
        HealthReason::NoHeartbeat { buckets } => format!("no heartbeat for {buckets} {}", plural(buckets, "bucket")),
        HealthReason::NotInService => {
            "not in service (suspended, decommissioned or revoked): reports do not count".into()
        }
        HealthReason::LowUptime { permille } => format!("heartbeats in only {} of the buckets", percent(permille)),
        HealthReason::ClockSkew { reports } => {
            format!("{reports} {} with a device clock far from block time", plural(reports, "report"))
        }
        HealthReason::LocationFar { reports, multiplier_bp } => format!(
            "{reports} {} far from the asserted location (location trust {})",
            plural(reports, "fix"),
            basis_points(multiplier_bp)
        ),
        HealthReason::ImplausibleMetrics { reports } => {
            format!("{reports} {} with metrics above the declared capacity", plural(reports, "report"))
        }
        HealthReason::ImpossibleTravel { reports } => {
            format!("{reports} {} implying travel faster than possible", plural(reports, "fix"))
        }
        HealthReason::TwoPlaces { reports } => format!(
            "{reports} {} far apart within seconds: the device key reports from two places",
            plural(reports, "fix")
        ),
        HealthReason::RefusedReports { reports } => {
            format!("{reports} {} refused by the ledger's rules", plural(reports, "report"))
        }
    }
}

/// Reasons joined for one table cell; `-` for none.
pub(crate) fn reasons_text(reasons: &[Reason]) -> String {
    if reasons.is_empty() {
        return "-".into();
    }
    reasons.iter().map(Reason::text).collect::<Vec<_>>().join("; ")
}

fn plural(n: u32, word: &str) -> String {
    match (n, word) {
        (1, w) => w.to_string(),
        (_, "fix") => "fixes".to_string(),
        (_, w) => format!("{w}s"),
    }
}

/// Per mille as a percentage with one decimal: `987` → `98.7%`.
pub(crate) fn percent(permille: u16) -> String {
    format!("{}.{}%", permille / 10, permille % 10)
}

/// Basis points as a percentage: `7500` → `75%`, `2525` → `25.25%`.
fn basis_points(bp: u16) -> String {
    match bp % 100 {
        0 => format!("{}%", bp / 100),
        r => format!("{}.{r:02}%", bp / 100),
    }
}

/// Milliseconds since the Unix epoch as `hh:mm:ss.mmm` UTC, for lines that repeat the date.
pub(crate) fn clock_utc(ms: u64) -> String {
    let s = ms / 1_000 % 86_400;
    format!("{:02}:{:02}:{:02}.{:03}", s / 3_600, s % 3_600 / 60, s % 60, ms % 1_000)
}

// ---------------------------------------------------------------------------------------------
// depin telemetry tail
// ---------------------------------------------------------------------------------------------

/// A page of `GET /api/v1/telemetry/recent`.
#[derive(Serialize, Deserialize)]
struct RecentPage {
    /// The node's items, printed unchanged with `-o json`.
    items: Vec<Value>,
    next_cursor: Option<u64>,
}

/// One recent ingest result.
#[derive(Deserialize)]
struct RecentItem {
    cursor: u64,
    at_ms: u64,
    asset: AssetId,
    seq: u64,
    code: String,
    #[serde(default)]
    message: String,
}

impl RecentItem {
    fn of(v: &Value) -> CliResult<RecentItem> {
        serde_json::from_value(v.clone())
            .map_err(|e| CliError::fail(format!("unexpected ingest result from the node: {e}")))
    }

    fn row(&self) -> Vec<String> {
        let id = self.asset.to_string();
        vec![
            clock_utc(self.at_ms),
            id[..SHORT_ID_LEN.min(id.len())].to_string(),
            self.seq.to_string(),
            verdict_text(&self.code, &self.message),
        ]
    }
}

const TAIL_HEADER: [&str; 4] = ["TIME (UTC)", "ASSET", "SEQ", "RESULT"];

fn recent_path(asset: Option<&AssetId>, after: Option<u64>, limit: usize) -> String {
    let mut path = format!("/api/v1/telemetry/recent?limit={limit}");
    if let Some(a) = asset {
        path.push_str(&format!("&asset={a}"));
    }
    if let Some(c) = after {
        path.push_str(&format!("&after={c}"));
    }
    path
}

/// The latest `limit` results: the node lists oldest first, so read to the end and keep the
/// tail.
fn latest(client: &Client, asset: Option<&AssetId>, limit: usize) -> CliResult<RecentPage> {
    let mut kept: VecDeque<Value> = VecDeque::with_capacity(limit);
    let mut cursor = None;
    for _ in 0..PAGES_MAX {
        let page: RecentPage = client.get(&recent_path(asset, cursor, PAGE))?;
        let n = page.items.len();
        for item in page.items {
            if kept.len() == limit {
                kept.pop_front();
            }
            kept.push_back(item);
        }
        // A cursor that does not advance would loop: stop there too.
        let advanced = page.next_cursor.is_some() && page.next_cursor != cursor;
        cursor = page.next_cursor.or(cursor);
        if n < PAGE || !advanced {
            break;
        }
    }
    Ok(RecentPage { items: kept.into(), next_cursor: cursor })
}

fn tail(ctx: &Ctx, args: &TelemetryTailArgs) -> CliResult {
    let asset = args.asset.as_deref().map(parse_asset_id).transpose()?;
    let client = ctx.client()?;
    let first = latest(&client, asset.as_ref(), args.limit as usize)?;
    let mut widths = TAIL_HEADER.map(str::len).to_vec();
    match (ctx.output, args.follow) {
        (Format::Json, false) => {
            println!("{}", serde_json::to_string_pretty(&first).expect("invariant: JSON values serialize"));
            return Ok(());
        }
        (Format::Json, true) => print_json_lines(&first.items)?,
        (Format::Table, _) => {
            let rows = first.items.iter().map(|v| RecentItem::of(v).map(|i| i.row())).collect::<CliResult<Vec<_>>>()?;
            for r in &rows {
                for (w, c) in widths.iter_mut().zip(r) {
                    *w = (*w).max(c.len());
                }
            }
            print_row(&widths, &TAIL_HEADER.map(str::to_string));
            for r in &rows {
                print_row(&widths, r);
            }
            if rows.is_empty() && !args.follow {
                eprintln!("no ingest results at this node yet (it keeps the latest ones in memory)");
            }
        }
    }
    if !args.follow {
        return Ok(());
    }
    let mut cursor = first.next_cursor;
    loop {
        std::thread::sleep(FOLLOW_POLL);
        let page: RecentPage = client.get(&recent_path(asset.as_ref(), cursor, PAGE))?;
        match ctx.output {
            Format::Json => print_json_lines(&page.items)?,
            Format::Table => {
                for v in &page.items {
                    let item = RecentItem::of(v)?;
                    print_row(&widths, &item.row());
                    cursor = cursor.max(Some(item.cursor));
                }
            }
        }
        cursor = page.next_cursor.or(cursor);
    }
}

fn print_json_lines(items: &[Value]) -> CliResult {
    for item in items {
        println!("{}", serde_json::to_string(item).map_err(CliError::fail)?);
    }
    Ok(())
}

fn print_row(widths: &[usize], cells: &[String]) {
    let line = cells
        .iter()
        .enumerate()
        .map(|(i, c)| format!("{c:<w$}", w = widths.get(i).copied().unwrap_or(0)))
        .collect::<Vec<_>>()
        .join("  ");
    println!("{}", line.trim_end());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_report_code_has_a_sentence() {
        for code in ReportCode::ALL {
            assert!(code_sentence(code.name()).is_some(), "{code:?}");
        }
        assert_eq!(verdict_text("accepted", "accepted"), "accepted");
        assert_eq!(verdict_text("clock_skew", "x"), "clock_skew: the device clock is outside the accepted window");
        assert_eq!(verdict_text("from_the_future", "a newer code"), "from_the_future: a newer code");
    }

    #[test]
    fn health_reasons_read_as_sentences() {
        let parse = |v: Value| serde_json::from_value::<Reason>(v).unwrap();
        let known = parse(serde_json::json!({"code": "no_heartbeat", "buckets": 3}));
        assert!(matches!(known, Reason::Known(HealthReason::NoHeartbeat { buckets: 3 })));
        assert_eq!(known.text(), "no heartbeat for 3 buckets");
        assert_eq!(parse(serde_json::json!({"code": "never_reported"})).text(), "never reported");
        assert_eq!(
            parse(serde_json::json!({"code": "location_far", "reports": 1, "multiplier_bp": 7500})).text(),
            "1 fix far from the asserted location (location trust 75%)"
        );
        assert_eq!(
            parse(serde_json::json!({"code": "low_uptime", "permille": 875})).text(),
            "heartbeats in only 87.5% of the buckets"
        );
        let newer = parse(serde_json::json!({"code": "solar_eclipse", "minutes": 4}));
        assert!(matches!(newer, Reason::Other(_)));
        assert_eq!(newer.text(), "solar eclipse");
        assert_eq!(reasons_text(&[]), "-");
    }

    #[test]
    fn times_and_shares_format_briefly() {
        assert_eq!(clock_utc(1_700_000_000_123), "22:13:20.123");
        assert_eq!(percent(1_000), "100.0%");
        assert_eq!(basis_points(2_525), "25.25%");
        assert_eq!(plural(2, "fix"), "fixes");
    }
}
