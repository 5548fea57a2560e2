//! Use the market (rules K-1 to K-12): submit, follow, top up and cancel workloads; list leases
//! and give notice on them; set, show and clear an asset's prices; mint and show credits.
//!
//! Every command that changes the ledger signs one transaction with the home's keystore and
//! submits it like the `asset` commands (ADR 0009: summary on stderr, `--dry-run`, `--no-wait`,
//! exit 4 with the reject code). What the ledger would refuse after charging the fee (a zero
//! amount, a malformed workload or price sheet, a workload that is not the signer's or already
//! closed) is refused before signing, with exit 2.

use std::path::Path;

use depin_types::asset::{AssetClass, AssetId, ResourceUnit};
use depin_types::geo::{Cell, LatLon, Location};
use depin_types::market::{
    CostTerms, EscrowNotice, Lease, LeaseState, MarketParams, PriceSheet, UnitPrice, UnplacedReason, Workload,
    WorkloadSpec, WorkloadState,
};
use depin_types::{Address, Amount, TxBody};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::cli::{
    CreditsCmd, LeaseCmd, LeaseListArgs, MarketTxArgs, PriceCmd, PriceSetArgs, WorkloadCmd, WorkloadListArgs,
    WorkloadSubmitArgs,
};
use crate::client::Client;
use crate::cmd::asset::{fetch_params, parse_asset_id, read_bounded, usage, Extra, Session, SignWith, SignerFile};
use crate::cmd::keys::resolve_address;
use crate::cmd::tx::parse_amount;
use crate::cmd::Ctx;
use crate::error::{CliError, CliResult, ExitCode};
use crate::output::{self, Format};

/// Largest workload file read.
const WORKLOAD_FILE_BYTES_MAX: u64 = 1 << 20;
/// Hex digits of an asset id shown in tables.
const SHORT_ID_LEN: usize = 16;
/// Most workload records read back to find the id of a workload just submitted.
const FIND_SUBMITTED_MAX: u64 = 1_000;

/// Run `depin workload …`.
pub fn run_workload(ctx: &Ctx, cmd: WorkloadCmd) -> CliResult {
    match cmd {
        WorkloadCmd::Submit(args) => submit(ctx, &args),
        WorkloadCmd::List(args) => list_workloads(ctx, &args),
        WorkloadCmd::Show { id } => show_workload(ctx, id),
        WorkloadCmd::Cancel { id, tx } => cancel(ctx, id, &tx),
        WorkloadCmd::TopUp { id, credits, tx } => top_up(ctx, id, &credits, &tx),
    }
}

/// Run `depin lease …`.
pub fn run_lease(ctx: &Ctx, cmd: LeaseCmd) -> CliResult {
    match cmd {
        LeaseCmd::List(args) => list_leases(ctx, &args),
        LeaseCmd::Show { id } => show_lease(ctx, id),
        LeaseCmd::End { id, tx } => end_lease(ctx, id, &tx),
    }
}

/// Run `depin price …`.
pub fn run_price(ctx: &Ctx, cmd: PriceCmd) -> CliResult {
    match cmd {
        PriceCmd::Set(args) => set_price(ctx, &args),
        PriceCmd::Show { asset } => show_price(ctx, &asset),
        PriceCmd::Clear { asset, tx } => clear_price(ctx, &asset, &tx),
    }
}

/// Run `depin credits …`.
pub fn run_credits(ctx: &Ctx, cmd: CreditsCmd) -> CliResult {
    match cmd {
        CreditsCmd::Mint { tokens, tx } => mint(ctx, &tokens, &tx),
        CreditsCmd::Show { address } => show_credits(ctx, address.as_deref()),
    }
}

fn open_session(ctx: &Ctx, tx: &MarketTxArgs) -> CliResult<Session> {
    let signer = SignerFile::open(ctx, SignWith::Key(tx.from.as_deref()), tx.common.insecure_plaintext)?;
    Session::open(ctx, signer, &tx.common)
}

// ---------------------------------------------------------------------------------------------
// Reading the market from the node
// ---------------------------------------------------------------------------------------------

/// `GET /api/v1/workloads/{id}`: the node's JSON, the record and its lease records.
struct WorkloadAnswer {
    json: Value,
    workload: Workload,
    lease_records: Vec<Lease>,
}

#[derive(Deserialize)]
struct WorkloadExtra {
    lease_records: Vec<Lease>,
}

fn fetch_workload(client: &Client, id: u64) -> CliResult<WorkloadAnswer> {
    let json: Value = client.get(&format!("/api/v1/workloads/{id}")).map_err(|e| {
        if e.exit_code == ExitCode::NotFound {
            e.hint("`depin workload list` shows the workloads")
        } else {
            e
        }
    })?;
    let bad = |e: serde_json::Error| CliError::fail(format!("unexpected workload from the node: {e}"));
    let workload: Workload = serde_json::from_value(json.clone()).map_err(bad)?;
    let extra: WorkloadExtra = serde_json::from_value(json.clone()).map_err(bad)?;
    if workload.id != id {
        return Err(CliError::fail(format!("the node answered about workload {}, not {id}", workload.id)));
    }
    Ok(WorkloadAnswer { json, workload, lease_records: extra.lease_records })
}

fn fetch_lease(client: &Client, id: u64) -> CliResult<(Value, Lease)> {
    let json: Value = client.get(&format!("/api/v1/leases/{id}")).map_err(|e| {
        if e.exit_code == ExitCode::NotFound {
            e.hint("`depin lease list` shows the leases")
        } else {
            e
        }
    })?;
    let lease: Lease =
        serde_json::from_value(json.clone()).map_err(|e| CliError::fail(format!("unexpected lease from the node: {e}")))?;
    Ok((json, lease))
}

#[derive(Deserialize)]
struct MarketAnswer {
    params: MarketParams,
    book: BookAnswer,
}

#[derive(Deserialize)]
struct BookAnswer {
    last_workload: u64,
}

fn fetch_market(client: &Client) -> CliResult<MarketAnswer> {
    client.get("/api/v1/market")
}

/// `GET /api/v1/assets/{id}/price`.
#[derive(Deserialize, serde::Serialize)]
struct PriceAnswer {
    asset: AssetId,
    class: AssetClass,
    owner: Address,
    sheet: Option<PriceSheet>,
    units: Vec<ResourceUnit>,
    capacity: Vec<u64>,
    reserved: Vec<u64>,
}

fn fetch_price(client: &Client, asset: &AssetId) -> CliResult<(Value, PriceAnswer)> {
    let json: Value = client.get(&format!("/api/v1/assets/{asset}/price")).map_err(|e| {
        if e.exit_code == ExitCode::NotFound {
            e.hint("`depin asset list --wide` shows the registered assets")
        } else {
            e
        }
    })?;
    let price = serde_json::from_value(json.clone())
        .map_err(|e| CliError::fail(format!("unexpected price sheet from the node: {e}")))?;
    Ok((json, price))
}

// ---------------------------------------------------------------------------------------------
// Words
// ---------------------------------------------------------------------------------------------

fn unit_name(u: ResourceUnit) -> String {
    serde_json::to_value(u).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_else(|| format!("{u:?}"))
}

fn short(id: &AssetId) -> String {
    id.to_string().chars().take(SHORT_ID_LEN).collect()
}

fn workload_state_text(s: WorkloadState) -> String {
    match s {
        WorkloadState::Pending => "pending (waiting for placement)".into(),
        WorkloadState::Running => "running".into(),
        WorkloadState::Closed { reason, height } => format!("closed: {} (block {height})", reason.code()),
    }
}

fn lease_state_text(s: LeaseState) -> String {
    match s {
        LeaseState::Placed => "placed".into(),
        LeaseState::Active => "active".into(),
        LeaseState::Ending { at_epoch } => format!("ending at epoch {at_epoch}"),
        LeaseState::Closed { reason, height } => format!("closed: {} (block {height})", reason.code()),
    }
}

fn notice_text(n: EscrowNotice) -> String {
    match n {
        EscrowNotice::Ok => "ok".into(),
        EscrowNotice::Low { since_epoch } => format!("low since epoch {since_epoch}: top it up"),
        EscrowNotice::Overdrawn { since_epoch } => {
            format!("overdrawn since epoch {since_epoch}: leases close after the grace period")
        }
    }
}

fn terms_text(t: &CostTerms) -> String {
    format!("price {} + distance {} + reliability {}", t.price, t.distance, t.reliability)
}

/// An unplaced reason's code in words (`docs/spec/market.md`).
fn unplaced_sentence(code: &str) -> &'static str {
    match code {
        "no_asset_of_class" => "no priced, in-service, reporting asset of the class",
        "outside_region" => "no such asset in the regions asked for",
        "too_far" => "no such asset close enough to the `near` point",
        "tier_too_low" => "no such asset of the identity tier asked for",
        "uptime_too_low" => "no such asset with the recent uptime asked for",
        "not_green" => "no such asset on solar, wind or hydro energy",
        "min_lease_too_long" => "the providers' shortest leases are longer than the workload's duration",
        "over_max_price" => "every such asset costs more than max_price",
        "no_capacity" => "no such asset has the free capacity",
        "too_few_distinct" => "fewer distinct owners, cells or energy sources than replicas (anti-affinity)",
        "taken_by_cheaper" => "the capacity went to workloads placed first",
        _ => "see docs/spec/market.md",
    }
}

/// The funnel of an allocation round in words: what was left after each filter.
fn funnel_text(r: &UnplacedReason) -> String {
    const STEPS: [&str; 10] = [
        "of the class",
        "in the regions",
        "near enough",
        "of the tier",
        "with the uptime",
        "green enough",
        "taking the lease length",
        "under max_price",
        "with free capacity",
        "distinct groups",
    ];
    STEPS.iter().zip(r.funnel).map(|(step, n)| format!("{n} {step}")).collect::<Vec<_>>().join(" → ")
}

fn resources_text(spec: &WorkloadSpec) -> String {
    spec.resources.iter().map(|r| format!("{}={}", unit_name(r.unit), r.amount)).collect::<Vec<_>>().join(", ")
}

fn constraints_text(spec: &WorkloadSpec) -> String {
    let mut out = Vec::new();
    if !spec.regions.is_empty() {
        out.push(format!("regions {}", spec.regions.iter().map(Cell::to_string).collect::<Vec<_>>().join(",")));
    }
    if let Some(n) = spec.near {
        let c = n.cell.center();
        let within = if n.max_m == 0 { "any distance".to_string() } else { format!("within {} km", n.max_m as f64 / 1000.0) };
        out.push(format!("near {:.4},{:.4} ({within})", c.lat(), c.lon()));
    }
    let a = spec.anti_affinity;
    if a.distinct_owners {
        out.push("distinct owners".into());
    }
    if let Some(r) = a.distinct_cells_res {
        out.push(format!("distinct cells at resolution {r}"));
    }
    if a.distinct_energy {
        out.push("distinct energy sources".into());
    }
    if spec.min_tier != depin_types::market::MinTier::SelfDeclared {
        out.push("vendor-attested only".into());
    }
    if spec.min_uptime_permille > 0 {
        out.push(format!("uptime ≥ {}‰", spec.min_uptime_permille));
    }
    if spec.green_only {
        out.push("green energy only".into());
    }
    if let Some(m) = &spec.gpu_model {
        out.push(format!("GPUs all {m}"));
    }
    if out.is_empty() { "none".into() } else { out.join("; ") }
}

/// Print the next-page command on stderr (table output only).
fn next_page_hint(ctx: &Ctx, next: Option<&str>, command: &str) {
    if let (Format::Table, Some(c)) = (ctx.output, next) {
        eprintln!("more: {command} --cursor {c}");
    }
}

// ---------------------------------------------------------------------------------------------
// Workload files
// ---------------------------------------------------------------------------------------------

/// Read a workload spec from a TOML or JSON file (by extension; otherwise JSON, then TOML),
/// converting the friendly forms to the ledger's:
///
/// - `near = { lat = 48.85, lon = 2.35, max_km = 50 }` (or `cell = "LAT,LON"` / an H3 cell,
///   `max_m`) becomes `near = { cell = <H3 cell at the registry's resolution>, max_m = … }`;
/// - a region may be an H3 cell in hex or `LAT,LON@RES` (the cell of that point at resolution RES).
fn read_workload_file(path: &Path, registry_resolution: u8) -> CliResult<WorkloadSpec> {
    let text = read_bounded(path, WORKLOAD_FILE_BYTES_MAX)?;
    let shown = path.display();
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    let from_toml = |t: &str| -> Result<Value, String> {
        let v: toml::Value = toml::from_str(t).map_err(|e| e.to_string())?;
        serde_json::to_value(v).map_err(|e| e.to_string())
    };
    let from_json = |t: &str| -> Result<Value, String> { serde_json::from_str(t).map_err(|e| e.to_string()) };
    let value = match ext.as_str() {
        "toml" => from_toml(&text).map_err(|e| usage(format!("{shown} is not valid TOML: {e}")))?,
        "json" => from_json(&text).map_err(|e| usage(format!("{shown} is not valid JSON: {e}")))?,
        _ => from_json(&text)
            .or_else(|_| from_toml(&text))
            .map_err(|e| usage(format!("{shown} is neither JSON nor TOML: {e}")))?,
    };
    let value = normalize_spec(value, registry_resolution).map_err(|e| usage(format!("{shown}: {e}")))?;
    let spec: WorkloadSpec = serde_json::from_value(value)
        .map_err(|e| usage(format!("{shown} is not a workload spec: {e}")).hint("see docs/examples/workload-*.toml"))?;
    spec.validate(registry_resolution).map_err(|e| usage(format!("{shown}: {e}")))?;
    Ok(spec)
}

fn normalize_spec(mut value: Value, res: u8) -> Result<Value, String> {
    let Some(obj) = value.as_object_mut() else { return Err("expected a table / object of workload fields".into()) };
    if let Some(near) = obj.get_mut("near") {
        *near = normalize_near(near, res)?;
    }
    if let Some(Value::Array(regions)) = obj.get_mut("regions") {
        for r in regions.iter_mut() {
            if let Some(text) = r.as_str()
                && let Some((point, at)) = text.split_once('@')
            {
                let at: u8 = at.trim().parse().map_err(|_| format!("region {text:?}: expected LAT,LON@RES"))?;
                let cell = LatLon::parse(point)
                    .and_then(|p| p.to_cell(at))
                    .map_err(|e| format!("region {text:?}: {e}"))?;
                *r = Value::String(cell.to_string());
            }
        }
    }
    Ok(value)
}

fn normalize_near(near: &Value, res: u8) -> Result<Value, String> {
    let Some(obj) = near.as_object() else { return Ok(near.clone()) };
    let mut out = Map::new();
    let mut rest = obj.clone();
    let lat = rest.remove("lat");
    let lon = rest.remove("lon");
    let max_km = rest.remove("max_km");
    let cell = match (lat, lon, rest.remove("cell")) {
        (Some(lat), Some(lon), None) => {
            let (Some(lat), Some(lon)) = (lat.as_f64(), lon.as_f64()) else {
                return Err("near.lat and near.lon must be numbers (decimal degrees)".into());
            };
            LatLon::new(lat, lon).and_then(|p| p.to_cell(res)).map_err(|e| format!("near: {e}"))?
        }
        (None, None, Some(Value::String(text))) => {
            Location::parse(&text, res).map(Location::cell).map_err(|e| format!("near.cell {text:?}: {e}"))?
        }
        (None, None, None) => return Err("near needs lat and lon, or cell".into()),
        _ => return Err("near takes either lat and lon, or cell (a string)".into()),
    };
    out.insert("cell".into(), Value::String(cell.to_string()));
    match (max_km, rest.remove("max_m")) {
        (Some(_), Some(_)) => return Err("near takes max_km or max_m, not both".into()),
        (Some(km), None) => {
            let km = km.as_f64().filter(|k| k.is_finite() && *k >= 0.0 && *k <= 40_000.0).ok_or("near.max_km must be a number from 0 to 40000")?;
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, reason = "0 to 4e7 metres")]
            let max_m = (km * 1_000.0).round() as u64;
            out.insert("max_m".into(), json!(max_m));
        }
        (None, Some(m)) => {
            out.insert("max_m".into(), m);
        }
        (None, None) => {}
    }
    // Anything left is an unknown key: let the spec's own parser name it.
    out.extend(rest);
    Ok(Value::Object(out))
}

// ---------------------------------------------------------------------------------------------
// Workload commands
// ---------------------------------------------------------------------------------------------

fn submit(ctx: &Ctx, args: &WorkloadSubmitArgs) -> CliResult {
    let deposit = args.deposit.as_deref().map(|d| parse_amount("--deposit", d, false)).transpose()?;
    let session = open_session(ctx, &args.tx)?;
    let registry = fetch_params(&session.client)?;
    let spec = read_workload_file(&args.file, registry.location_resolution)?;
    let per_epoch = spec.max_price.0 * u128::from(spec.replicas);
    let deposit = deposit.unwrap_or(Amount(per_epoch * u128::from(spec.duration_epochs)));
    let market = fetch_market(&session.client)?;
    let needed = per_epoch * u128::from(market.params.min_escrow_epochs);
    if deposit.0 < needed {
        return Err(usage(format!(
            "--deposit {deposit} is below max_price × replicas × min_escrow_epochs = {needed} credits"
        )));
    }
    let consumer = session.signer();
    let client = ctx.client()?;
    let name = spec.name.clone();
    let replicas = spec.replicas;
    let body = TxBody::SubmitWorkload { spec: spec.clone(), deposit };
    session.send(ctx, body, &args.tx.common, |answer| {
        let mut extras: Vec<Extra> = vec![
            ("name", json!(name), if name.is_empty() { "(none)".into() } else { name.clone() }),
            ("replicas", json!(replicas), replicas.to_string()),
            ("deposit", json!(deposit), format!("{deposit} credits")),
        ];
        if let Some(height) = answer.height
            && let Some(id) = find_submitted(&client, &consumer, &spec, height)
        {
            extras.insert(0, ("workload_id", json!(id), format!("{id} (follow it with `depin workload show {id}`)")));
        }
        extras
    })
}

/// The id of the workload `consumer` submitted with `spec` in block `height`: workload ids are
/// sequential, so it is found walking down from the last id given.
fn find_submitted(client: &Client, consumer: &Address, spec: &WorkloadSpec, height: u64) -> Option<u64> {
    let last = fetch_market(client).ok()?.book.last_workload;
    for id in (1..=last).rev().take(FIND_SUBMITTED_MAX as usize) {
        let w = fetch_workload(client, id).ok()?.workload;
        if w.submitted_height < height {
            return None;
        }
        if w.submitted_height == height && &w.consumer == consumer && &w.spec == spec {
            return Some(id);
        }
    }
    None
}

#[derive(Deserialize, serde::Serialize)]
struct WorkloadPage {
    workloads: Vec<Workload>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    next_cursor: Option<String>,
    #[serde(default)]
    height: u64,
}

fn list_workloads(ctx: &Ctx, args: &WorkloadListArgs) -> CliResult {
    let mut query = Vec::new();
    if let Some(c) = &args.consumer {
        query.push(format!("consumer={}", resolve_address(ctx, "--consumer", c)?));
    }
    if let Some(s) = &args.state {
        query.push(format!("state={}", s.name()));
    }
    query.push(format!("limit={}", args.limit));
    if let Some(c) = &args.cursor {
        if c.is_empty() || !c.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(usage(format!("--cursor {c:?} is not a cursor printed by a previous page")));
        }
        query.push(format!("cursor={c}"));
    }
    let client = ctx.client()?;
    let page: WorkloadPage = client.get(&format!("/api/v1/workloads?{}", query.join("&")))?;
    if ctx.output == Format::Json {
        output::print(Format::Json, &page, |_| Vec::new());
        return Ok(());
    }
    output::print_list(
        ctx.output,
        &page.workloads,
        &["ID", "NAME", "CLASS", "REPLICAS", "STATE", "LEASES", "ESCROW", "UNPLACED"],
        |w| {
            vec![
                w.id.to_string(),
                w.spec.name.clone(),
                w.spec.class.name().to_string(),
                w.spec.replicas.to_string(),
                match w.state {
                    WorkloadState::Closed { reason, .. } => format!("closed ({})", reason.code()),
                    WorkloadState::Pending => "pending".into(),
                    WorkloadState::Running => "running".into(),
                },
                w.leases.len().to_string(),
                w.escrow.to_string(),
                w.unplaced.as_ref().map_or_else(String::new, |u| u.code.clone()),
            ]
        },
    );
    let mut command = "depin workload list".to_string();
    if let Some(c) = &args.consumer {
        command.push_str(&format!(" --consumer {c}"));
    }
    if let Some(s) = &args.state {
        command.push_str(&format!(" --state {}", s.name()));
    }
    next_page_hint(ctx, page.next_cursor.as_deref(), &command);
    Ok(())
}

fn show_workload(ctx: &Ctx, id: u64) -> CliResult {
    let client = ctx.client()?;
    let answer = fetch_workload(&client, id)?;
    if ctx.output == Format::Json {
        output::print(Format::Json, &answer.json, |_| Vec::new());
        return Ok(());
    }
    let w = &answer.workload;
    let s = &w.spec;
    let mut rows = vec![
        ("workload".to_string(), w.id.to_string()),
        ("name".to_string(), if s.name.is_empty() { "(none)".into() } else { s.name.clone() }),
        ("consumer".to_string(), w.consumer.to_string()),
        ("state".to_string(), workload_state_text(w.state)),
        ("asks".to_string(), format!("{} × {} ({})", s.replicas, s.class.name(), resources_text(s))),
        ("constraints".to_string(), constraints_text(s)),
        ("max_price".to_string(), format!("{} credits per replica per epoch", s.max_price)),
        (
            "duration".to_string(),
            match w.start_epoch {
                Some(e) => format!("{} epochs from epoch {e}", s.duration_epochs),
                None => format!("{} epochs once placed", s.duration_epochs),
            },
        ),
        ("escrow".to_string(), format!("{} credits (notice: {})", w.escrow, notice_text(w.escrow_notice))),
        ("spent".to_string(), format!("{} credits paid, {} credits kept (SLA, failures)", w.spent, w.credited)),
        ("leases".to_string(), format!("{} open of {} replicas", w.leases.len(), s.replicas)),
    ];
    if let Some(u) = &w.unplaced {
        rows.push((
            "unplaced".to_string(),
            format!("{}: {} ({} of {} placed; round at block {})", u.code, unplaced_sentence(&u.code), u.placed, s.replicas, u.height),
        ));
        if !u.message.is_empty() {
            rows.push(("why".to_string(), u.message.clone()));
        }
        rows.push(("funnel".to_string(), funnel_text(u)));
    }
    output::print(Format::Table, &(), |_| rows);
    if !answer.lease_records.is_empty() {
        println!();
        print_leases(Format::Table, &answer.lease_records);
    }
    Ok(())
}

fn print_leases(format: Format, leases: &[Lease]) {
    output::print_list(format, leases, &["LEASE", "WORKLOAD", "ASSET", "PROVIDER", "STATE", "PRICE", "COST TERMS", "PAID"], |l| {
        vec![
            l.id.to_string(),
            l.workload.to_string(),
            short(&l.asset),
            l.provider.to_string(),
            lease_state_text(l.state),
            l.price.to_string(),
            terms_text(&l.terms),
            l.paid.to_string(),
        ]
    });
}

/// A workload the signer may change: it exists, is the signer's, and is not closed (the ledger
/// would reject anything else after charging the fee).
fn own_open_workload(session: &Session, id: u64) -> CliResult<Workload> {
    let w = fetch_workload(&session.client, id)?.workload;
    if w.consumer != session.signer() {
        return Err(usage(format!("workload {id} belongs to {}, not to the signer {}", w.consumer, session.signer()))
            .hint("sign with --from the consumer's key"));
    }
    if let WorkloadState::Closed { reason, height } = w.state {
        return Err(usage(format!("workload {id} is already closed ({} at block {height})", reason.code())));
    }
    Ok(w)
}

fn cancel(ctx: &Ctx, id: u64, tx: &MarketTxArgs) -> CliResult {
    let session = open_session(ctx, tx)?;
    let w = own_open_workload(&session, id)?;
    let escrow = w.escrow;
    session.send(ctx, TxBody::CancelWorkload { workload: id }, &tx.common, |_| {
        vec![
            ("workload_id", json!(id), id.to_string()),
            ("escrow_before", json!(escrow), format!("{escrow} credits (refunded, less the epoch being served)")),
        ]
    })
}

fn top_up(ctx: &Ctx, id: u64, credits: &str, tx: &MarketTxArgs) -> CliResult {
    let amount = parse_amount("CREDITS", credits, false)?;
    let session = open_session(ctx, tx)?;
    let w = own_open_workload(&session, id)?;
    let after = w.escrow.checked_add(amount).ok_or_else(|| usage("the escrow would overflow"))?;
    session.send(ctx, TxBody::TopUpEscrow { workload: id, amount }, &tx.common, |_| {
        vec![
            ("workload_id", json!(id), id.to_string()),
            ("amount", json!(amount), format!("{amount} credits")),
            ("escrow_after", json!(after), format!("{after} credits")),
        ]
    })
}

// ---------------------------------------------------------------------------------------------
// Lease commands
// ---------------------------------------------------------------------------------------------

#[derive(Deserialize, serde::Serialize)]
struct LeasePage {
    leases: Vec<Lease>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    next_cursor: Option<String>,
    #[serde(default)]
    height: u64,
}

fn list_leases(ctx: &Ctx, args: &LeaseListArgs) -> CliResult {
    let mut query = Vec::new();
    let mut command = "depin lease list".to_string();
    if let Some(a) = &args.asset {
        query.push(format!("asset={}", parse_asset_id(a)?));
        command.push_str(&format!(" --asset {a}"));
    }
    if let Some(c) = &args.consumer {
        query.push(format!("consumer={}", resolve_address(ctx, "--consumer", c)?));
        command.push_str(&format!(" --consumer {c}"));
    }
    if let Some(w) = args.workload {
        query.push(format!("workload={w}"));
        command.push_str(&format!(" --workload {w}"));
    }
    if args.open {
        query.push("open=true".into());
        command.push_str(" --open");
    }
    query.push(format!("limit={}", args.limit));
    if let Some(c) = &args.cursor {
        if c.is_empty() || !c.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(usage(format!("--cursor {c:?} is not a cursor printed by a previous page")));
        }
        query.push(format!("cursor={c}"));
    }
    let client = ctx.client()?;
    let page: LeasePage = client.get(&format!("/api/v1/leases?{}", query.join("&")))?;
    if ctx.output == Format::Json {
        output::print(Format::Json, &page, |_| Vec::new());
        return Ok(());
    }
    print_leases(ctx.output, &page.leases);
    next_page_hint(ctx, page.next_cursor.as_deref(), &command);
    Ok(())
}

fn show_lease(ctx: &Ctx, id: u64) -> CliResult {
    let client = ctx.client()?;
    let (json, l) = fetch_lease(&client, id)?;
    output::print(ctx.output, &json, |_| {
        let mut rows = vec![
            ("lease".to_string(), l.id.to_string()),
            ("workload".to_string(), l.workload.to_string()),
            ("consumer".to_string(), l.consumer.to_string()),
            ("asset".to_string(), l.asset.to_string()),
            ("provider".to_string(), l.provider.to_string()),
            ("state".to_string(), lease_state_text(l.state)),
            ("price".to_string(), format!("{} credits per epoch", l.price)),
            ("cost_terms".to_string(), terms_text(&l.terms)),
            ("reserved".to_string(), format!("{:?}", l.reserved)),
            ("placed".to_string(), format!("block {}, epoch {}", l.placed_height, l.placed_epoch)),
            (
                "settled".to_string(),
                format!("{} epochs: {} credits paid, {} kept by the consumer", l.epochs_settled, l.paid, l.credited),
            ),
        ];
        if let Some(r) = l.replaces {
            rows.push(("replaces".to_string(), format!("lease {r}")));
        }
        if l.metered_price > Amount::ZERO {
            rows.push((
                "metered".to_string(),
                format!("{} credits per unit served; {} units charged", l.metered_price, l.metered_units),
            ));
        }
        rows
    });
    Ok(())
}

fn end_lease(ctx: &Ctx, id: u64, tx: &MarketTxArgs) -> CliResult {
    let session = open_session(ctx, tx)?;
    let (_, lease) = fetch_lease(&session.client, id)?;
    match lease.state {
        LeaseState::Closed { reason, height } => {
            return Err(usage(format!("lease {id} is already closed ({} at block {height})", reason.code())));
        }
        LeaseState::Ending { at_epoch } => {
            return Err(usage(format!("lease {id} already ends at epoch {at_epoch}")));
        }
        LeaseState::Placed | LeaseState::Active => {}
    }
    let asset = lease.asset;
    session.send(ctx, TxBody::EndLease { lease: id }, &tx.common, |_| {
        vec![
            ("lease_id", json!(id), id.to_string()),
            ("asset_id", json!(asset), asset.to_string()),
            ("workload_id", json!(lease.workload), format!("{} (its replica is re-placed)", lease.workload)),
        ]
    })
}

// ---------------------------------------------------------------------------------------------
// Price commands
// ---------------------------------------------------------------------------------------------

/// `UNIT=CREDITS`, the unit by its name (`vcpu_epoch`, `memory_gib_epoch`, …).
fn parse_unit_price(text: &str) -> CliResult<UnitPrice> {
    let Some((unit, price)) = text.split_once('=') else {
        return Err(usage(format!("--price {text:?}: expected UNIT=CREDITS, e.g. vcpu_epoch=10")));
    };
    let unit: ResourceUnit = serde_json::from_value(Value::String(unit.trim().to_string()))
        .map_err(|_| usage(format!("--price {text:?}: {:?} is not a unit", unit.trim())).hint(units_hint()))?;
    let price = parse_amount("--price", price, true)?;
    Ok(UnitPrice { unit, price })
}

fn units_hint() -> String {
    let per_class: Vec<String> = AssetClass::ALL
        .iter()
        .map(|c| {
            let units: Vec<String> = depin_types::market::reservable_units(*c).iter().map(|u| unit_name(*u)).collect();
            match depin_types::market::metered_unit(*c) {
                Some((m, _)) => format!("{}: {} (metered: {})", c.name(), units.join(", "), unit_name(m)),
                None => format!("{}: {}", c.name(), units.join(", ")),
            }
        })
        .collect();
    format!("units by class — {}", per_class.join("; "))
}

fn set_price(ctx: &Ctx, args: &PriceSetArgs) -> CliResult {
    let asset = parse_asset_id(&args.asset)?;
    let prices = args.price.iter().map(|p| parse_unit_price(p)).collect::<CliResult<Vec<_>>>()?;
    let sheet = PriceSheet { prices, min_lease_epochs: args.min_lease_epochs };
    let session = open_session(ctx, &args.tx)?;
    let (_, current) = fetch_price(&session.client, &asset)?;
    sheet.per_dim(current.class).map_err(|e| usage(format!("--price: {e}")).hint(units_hint()))?;
    let text = sheet.prices.iter().map(|p| format!("{}={}", unit_name(p.unit), p.price)).collect::<Vec<_>>().join(", ");
    let min = sheet.min_lease_epochs;
    session.send(ctx, TxBody::SetPrice { asset, sheet: Some(sheet.clone()) }, &args.tx.common, |_| {
        vec![
            ("asset_id", json!(asset), asset.to_string()),
            ("prices", json!(sheet.prices), format!("{text} (credits per unit per epoch)")),
            ("min_lease_epochs", json!(min), min.to_string()),
        ]
    })
}

fn clear_price(ctx: &Ctx, asset: &str, tx: &MarketTxArgs) -> CliResult {
    let asset = parse_asset_id(asset)?;
    let session = open_session(ctx, tx)?;
    fetch_price(&session.client, &asset)?;
    session.send(ctx, TxBody::SetPrice { asset, sheet: None }, &tx.common, |_| {
        vec![("asset_id", json!(asset), format!("{asset} (not for sale; running leases keep their price)"))]
    })
}

fn show_price(ctx: &Ctx, asset: &str) -> CliResult {
    let asset = parse_asset_id(asset)?;
    let client = ctx.client()?;
    let (json, p) = fetch_price(&client, &asset)?;
    if ctx.output == Format::Json {
        output::print(Format::Json, &json, |_| Vec::new());
        return Ok(());
    }
    let rows = vec![
        ("asset".to_string(), p.asset.to_string()),
        ("class".to_string(), p.class.name().to_string()),
        ("owner".to_string(), p.owner.to_string()),
        (
            "for_sale".to_string(),
            match &p.sheet {
                Some(s) => format!("yes (shortest lease {} epochs)", s.min_lease_epochs),
                None => "no (no price sheet)".into(),
            },
        ),
    ];
    output::print(Format::Table, &(), |_| rows);
    println!();
    let lines: Vec<(ResourceUnit, u64, u64)> =
        p.units.iter().zip(&p.capacity).zip(&p.reserved).map(|((u, c), r)| (*u, *c, *r)).collect();
    let price_of = |u: ResourceUnit| {
        p.sheet
            .as_ref()
            .and_then(|s| s.prices.iter().find(|x| x.unit == u))
            .map_or_else(|| "not for sale".to_string(), |x| x.price.to_string())
    };
    let rows: Vec<Vec<String>> = lines
        .iter()
        .map(|(u, c, r)| vec![unit_name(*u), price_of(*u), c.to_string(), r.to_string(), c.saturating_sub(*r).to_string()])
        .collect();
    output::print_list(Format::Table, &rows, &["UNIT", "PRICE", "CAPACITY", "RESERVED", "FREE"], Clone::clone);
    if let (Some((m, _)), Some(sheet)) = (depin_types::market::metered_unit(p.class), &p.sheet) {
        let metered = sheet.metered_price(p.class);
        if metered > 0 {
            println!("metered: {metered} credits per {} served (charged from telemetry)", unit_name(m));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Credit commands
// ---------------------------------------------------------------------------------------------

fn mint(ctx: &Ctx, tokens: &str, tx: &MarketTxArgs) -> CliResult {
    let amount = parse_amount("TOKENS", tokens, false)?;
    let session = open_session(ctx, tx)?;
    let params = fetch_market(&session.client)?.params;
    let credits = params.credits_for(amount).ok_or_else(|| usage("TOKENS is too large"))?;
    if credits == Amount::ZERO {
        return Err(usage(format!(
            "{amount} tokens mint no credit at {} credits per {} tokens",
            params.credits_per_token_num, params.credits_per_token_den
        )));
    }
    session.send(ctx, TxBody::MintCredits { amount }, &tx.common, |_| {
        vec![
            ("burned", json!(amount), format!("{amount} tokens")),
            ("credits", json!(credits), format!("{credits} credits")),
        ]
    })
}

#[derive(Deserialize, serde::Serialize)]
struct CreditsAnswer {
    address: Address,
    credits: Amount,
    height: u64,
}

fn show_credits(ctx: &Ctx, address: Option<&str>) -> CliResult {
    let address = match address {
        Some(a) => resolve_address(ctx, "ADDR", a)?,
        None => {
            let keys = ctx.keystore()?.list()?;
            match keys.as_slice() {
                [one] => one.address(),
                [] => {
                    return Err(CliError::with_code(ExitCode::NotFound, "this home has no keys")
                        .hint("give an address: `depin credits show depin1…`"));
                }
                _ => return Err(usage("this home has several keys: give an address or key name")),
            }
        }
    };
    let client = ctx.client()?;
    let answer: CreditsAnswer = client.get(&format!("/api/v1/accounts/{address}/credits"))?;
    output::print(ctx.output, &answer, |a| {
        vec![
            ("address".to_string(), a.address.to_string()),
            ("credits".to_string(), a.credits.to_string()),
            ("height".to_string(), a.height.to_string()),
        ]
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn near_in_degrees_becomes_a_cell_at_the_registry_resolution() {
        let v = normalize_near(&json!({ "lat": 48.85, "lon": 2.35, "max_km": 50 }), 12).unwrap();
        let cell: Cell = serde_json::from_value(v["cell"].clone()).unwrap();
        assert_eq!(cell.resolution(), 12);
        assert_eq!(v["max_m"], 50_000);
        let v = normalize_near(&json!({ "cell": "48.85,2.35" }), 12).unwrap();
        assert!(v.get("max_m").is_none());
        assert!(normalize_near(&json!({ "lat": 48.85 }), 12).is_err());
        assert!(normalize_near(&json!({ "lat": 1, "lon": 2, "max_km": 1, "max_m": 3 }), 12).is_err());
    }

    #[test]
    fn regions_may_be_points_at_a_resolution() {
        let v = normalize_spec(json!({ "regions": ["48.85,2.35@5", "851fb467fffffff"] }), 12).unwrap();
        let cell: Cell = serde_json::from_value(v["regions"][0].clone()).unwrap();
        assert_eq!(cell.resolution(), 5);
        assert_eq!(v["regions"][1], "851fb467fffffff");
        assert!(normalize_spec(json!({ "regions": ["48.85,2.35@x"] }), 12).is_err());
    }

    #[test]
    fn unit_prices_parse_by_unit_name() {
        let p = parse_unit_price("vcpu_epoch=10").unwrap();
        assert_eq!((p.unit, p.price), (ResourceUnit::VcpuEpoch, Amount(10)));
        assert!(parse_unit_price("vcpu=10").is_err());
        assert!(parse_unit_price("vcpu_epoch").is_err());
    }

    #[test]
    fn the_example_workload_files_parse_and_validate() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/examples");
        for name in ["workload-compute.toml", "workload-storage.json"] {
            let spec = read_workload_file(&dir.join(name), 12).unwrap_or_else(|e| panic!("{name}: {}", e.message));
            assert!(spec.replicas >= 1, "{name}");
        }
    }
}
