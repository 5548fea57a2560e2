//! Telemetry: ingest device reports, read per-asset health and aggregates, network health,
//! the recent ingest results, and the telemetry parameters.

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use depin_node::IngestError;
use depin_types::asset::AssetId;
use depin_types::codec::decode_bounded;
use depin_types::telemetry::{
    served_unit, usage_unit, ReportCode, SignedReport, TelemetryEpoch, MAX_INGEST_BODY_BYTES, MAX_REPORTS_PER_BATCH,
};
use serde::{Deserialize, Serialize};

use crate::assets::{asset_id, invalid, limit, parameters, path_param, RawQuery};
use crate::error::{ApiError, ErrorCode, Problem};
use crate::txs::{body_kind, body_rejection, BodyKind};
use crate::AppState;

/// The JSON body of `POST /telemetry`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IngestBody {
    reports: Vec<SignedReport>,
}

fn malformed(detail: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::MalformedTelemetry, detail)
}

fn parse_reports(kind: BodyKind, body: &[u8]) -> Result<Vec<SignedReport>, ApiError> {
    let reports = match kind {
        BodyKind::Binary => {
            // Count first: a length prefix over the limit is refused before anything is decoded.
            let n = body.get(..4).map(|b| u32::from_le_bytes(b.try_into().expect("invariant: 4 bytes")));
            if n.is_some_and(|n| n as usize > MAX_REPORTS_PER_BATCH) {
                return Err(too_many(n.unwrap_or(0) as usize));
            }
            decode_bounded::<Vec<SignedReport>>(body, MAX_INGEST_BODY_BYTES).map_err(|e| malformed(format!("reports: {e}")))?
        }
        BodyKind::Json => {
            serde_json::from_slice::<IngestBody>(body).map_err(|e| malformed(format!("invalid telemetry JSON: {e}")))?.reports
        }
    };
    if reports.is_empty() {
        return Err(malformed("the batch holds no reports"));
    }
    if reports.len() > MAX_REPORTS_PER_BATCH {
        return Err(too_many(reports.len()));
    }
    Ok(reports)
}

fn too_many(got: usize) -> ApiError {
    ApiError::new(
        ErrorCode::TelemetryBatchTooLarge,
        format!("a batch holds at most {MAX_REPORTS_PER_BATCH} reports; this one has {got}"),
    )
    .with("limit", MAX_REPORTS_PER_BATCH)
}

/// The answer to an ingest request.
#[derive(Serialize)]
struct IngestAnswer {
    accepted: usize,
    rejected: usize,
    results: Vec<depin_node::ReportResult>,
}

/// Ingest device reports
///
/// A batch of 1 to 1024 device-signed reports, as JSON (`{"reports": [...]}`) or as the
/// canonical borsh encoding of the list (`application/octet-stream`). Each report gets a result
/// code (`accepted`, `bad_signature`, `unknown_asset`, `duplicate`, `stale_sequence`,
/// `clock_skew`, `rate_limited`, …; see `docs/spec/telemetry.md`); accepted reports reach the
/// ledger in the next blocks. When the ingest queue is full the whole batch is refused with 429
/// and `Retry-After`: resend the same reports after that many seconds.
#[utoipa::path(
    post,
    path = "/telemetry",
    tag = "telemetry",
    operation_id = "ingest_telemetry",
    request_body(content = String, description = "`{\"reports\": [SignedReport]}` or borsh `Vec<SignedReport>`", content_type = "application/json"),
    responses(
        (status = 200, description = "One result per report, in order.", body = Object),
        (status = 400, description = "`malformed_telemetry`.", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "`payload_too_large` or `telemetry_batch_too_large`.", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "`unsupported_media_type`.", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`ingest_overloaded`, with `Retry-After`.", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn ingest(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let kind = body_kind(&headers)?;
    let body = body.map_err(|r| body_rejection(r, state.limits.max_body_bytes))?;
    let reports = parse_reports(kind, &body)?;
    let results = state.blocking(move |n| n.ingest(reports)).await?.map_err(|e| match e {
        IngestError::BatchSize { got, .. } => too_many(got),
        IngestError::Overloaded { queued, retry_after_s } => {
            ApiError::new(ErrorCode::IngestOverloaded, e.to_string())
                .with("queued", queued)
                .with_header(header::RETRY_AFTER, HeaderValue::from(retry_after_s))
        }
        IngestError::Unavailable(_) => ApiError::new(ErrorCode::Unavailable, e.to_string()),
    })?;
    let accepted = results.iter().filter(|r| r.code == ReportCode::Accepted).count();
    Ok(Json(IngestAnswer { accepted, rejected: results.len() - accepted, results }).into_response())
}

/// Get the telemetry parameters
///
/// What a device needs to build reports: the chain id (signed over), the epoch and bucket
/// lengths, the accepted time window, and the registry's location resolution (GNSS fixes are
/// H3 cells at it).
#[utoipa::path(
    get,
    path = "/telemetry/params",
    tag = "telemetry",
    operation_id = "get_telemetry_params",
    responses((status = 200, description = "The parameters.", body = Object)),
)]
pub(crate) async fn params(State(state): State<AppState>, query: RawQuery) -> Result<Response, ApiError> {
    parameters(query, &[])?;
    let chain_id = state.node.chain_id().to_string();
    let (t, r) = state.blocking(|n| n.telemetry_params()).await??;
    Ok(Json(serde_json::json!({"chain_id": chain_id, "location_resolution": r.location_resolution, "params": t}))
        .into_response())
}

fn number(name: &str, raw: Option<&String>, default: u64, max: u64) -> Result<u64, ApiError> {
    let Some(raw) = raw else { return Ok(default) };
    match raw.parse::<u64>() {
        Ok(n) if n <= max => Ok(n),
        _ => Err(invalid(name, format!("{name}: {raw:?} is not a whole number up to {max}"))),
    }
}

/// Recent ingest results
///
/// This node's latest ingest results (accepted and refused, with their codes), oldest first
/// after `after` (a cursor from a previous answer); with `asset`, only that asset's. Kept in
/// memory (`[telemetry] recent_results`), so a restart starts empty.
#[utoipa::path(
    get,
    path = "/telemetry/recent",
    tag = "telemetry",
    operation_id = "recent_telemetry",
    responses(
        (status = 200, description = "`{\"items\": [...], \"next_cursor\": n}`.", body = Object),
        (status = 400, description = "`invalid_parameter`.", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn recent(State(state): State<AppState>, query: RawQuery) -> Result<Response, ApiError> {
    let p = parameters(query, &["asset", "after", "limit"])?;
    let asset = p.get("asset").map(|v| asset_id(v)).transpose()?;
    let after = p.get("after").map(|_| number("after", p.get("after"), 0, u64::MAX)).transpose()?;
    let items = state.node.recent_reports(asset.as_ref(), after, limit(p.get("limit"))?);
    let next = items.last().map(|r| r.cursor).or(after);
    Ok(Json(serde_json::json!({"items": items, "next_cursor": next})).into_response())
}

fn not_found(id: &AssetId) -> ApiError {
    ApiError::new(ErrorCode::AssetNotFound, format!("no asset {id}")).with("id", id.to_string())
}

/// Get an asset's health
///
/// Now (at this node's clock) and in up to `epochs` past epochs (default 10, at most 100):
/// `healthy`, `degraded` or `offline`, each with typed reasons (`no_heartbeat`,
/// `never_reported`, `not_in_service`, `low_uptime`, `clock_skew`, `location_far`,
/// `implausible_metrics`, `impossible_travel`, `two_places`, `refused_reports`), uptime per
/// mille, and the latest refusals of its reports at this node's ingest edge.
#[utoipa::path(
    get,
    path = "/assets/{id}/health",
    tag = "telemetry",
    operation_id = "asset_health",
    params(("id" = String, Path, description = "Asset id or did:key.")),
    responses(
        (status = 200, description = "The health.", body = Object),
        (status = 400, description = "`invalid_parameter`.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`asset_not_found`.", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn health(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    query: RawQuery,
) -> Result<Response, ApiError> {
    let id = asset_id(&path_param(path, "id")?)?;
    let p = parameters(query, &["epochs"])?;
    let epochs = number("epochs", p.get("epochs"), 10, depin_node::monitor::MAX_HEALTH_EPOCHS as u64)? as usize;
    let h = state.blocking(move |n| n.asset_health(&id, epochs)).await??;
    Ok(Json(h.ok_or_else(|| not_found(&id))?).into_response())
}

/// One epoch's aggregate in JSON (large counters as decimal strings).
fn epoch_json(class: depin_types::asset::AssetClass, epoch: u64, a: &TelemetryEpoch) -> serde_json::Value {
    let refused: serde_json::Map<String, serde_json::Value> = a
        .refused
        .iter()
        .filter_map(|(tag, n)| ReportCode::from_tag(*tag).map(|c| (c.name().to_string(), (*n).into())))
        .collect();
    serde_json::json!({
        "epoch": epoch,
        "reports": a.reports,
        "heartbeat_buckets": a.heartbeat_buckets(),
        "heartbeats": format!("{:#x}", a.heartbeats),
        "uptime_s": a.uptime_s,
        "served": a.served.to_string(),
        "served_unit": served_unit(class),
        "usage": a.usage.to_string(),
        "usage_unit": usage_unit(class),
        "wh_produced": a.wh_produced.to_string(),
        "wh_consumed": a.wh_consumed.to_string(),
        "fixes": a.fixes,
        "location_multiplier_bp": a.location_multiplier_bp,
        "far": a.far,
        "skewed": a.skewed,
        "implausible": a.implausible,
        "impossible_travel": a.impossible_travel,
        "two_places": a.two_places,
        "refused": refused,
    })
}

/// List an asset's telemetry aggregates
///
/// The ledger's per-epoch figures for the asset, newest first: reports, heartbeat buckets,
/// uptime, served units and usage in the class's units, energy, location observations and the
/// counters behind every health reason. `cursor` is the `next_cursor` of the previous page.
#[utoipa::path(
    get,
    path = "/assets/{id}/telemetry",
    tag = "telemetry",
    operation_id = "asset_telemetry",
    params(("id" = String, Path, description = "Asset id or did:key.")),
    responses(
        (status = 200, description = "`{\"items\": [...], \"next_cursor\": \"...\"}`.", body = Object),
        (status = 400, description = "`invalid_parameter`.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`asset_not_found`.", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn aggregates(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    query: RawQuery,
) -> Result<Response, ApiError> {
    let id = asset_id(&path_param(path, "id")?)?;
    let p = parameters(query, &["limit", "cursor"])?;
    let limit = limit(p.get("limit"))?;
    let before = p.get("cursor").map(|_| number("cursor", p.get("cursor"), 0, u64::MAX)).transpose()?;
    let (asset, page) = state
        .blocking(move |n| -> Result<_, depin_node::NodeError> {
            let Some(a) = n.asset_health(&id, 0)? else { return Ok((None, None)) };
            Ok((Some(a.class), Some(n.telemetry_page(&id, before, limit)?)))
        })
        .await??;
    let (Some(class), Some(page)) = (asset, page) else { return Err(not_found(&id)) };
    let items: Vec<_> = page.items.iter().map(|(e, a)| epoch_json(class, *e, a)).collect();
    Ok(Json(serde_json::json!({"items": items, "next_cursor": page.next.map(|e| e.to_string())})).into_response())
}

/// Get the network's health
///
/// Every registered or active asset judged now: counts by state, by class and by region (H3
/// cells at resolution 4). Examines at most 200,000 assets (`truncated` says if it stopped).
#[utoipa::path(
    get,
    path = "/network/health",
    tag = "telemetry",
    operation_id = "network_health",
    responses((status = 200, description = "The counts.", body = Object)),
)]
pub(crate) async fn network(State(state): State<AppState>, query: RawQuery) -> Result<Response, ApiError> {
    parameters(query, &[])?;
    let h = state.blocking(|n| n.network_health()).await??;
    Ok(Json(h).into_response())
}
