//! Read the market: workloads (with their leases), leases, price sheets, credits, and the
//! market's parameters, book and last events. Writes (prices, credits, workloads, notices) are
//! signed transactions on `POST /api/v1/txs`.
//!
//! Query strings are parsed by hand, as in `assets`, so that every refusal names the parameter
//! at fault; the `*Query` structs below only document the parameters.

use std::collections::BTreeMap;

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use depin_crypto::Address;
use depin_node::{LeaseFilter, WorkloadFilter, WorkloadStateFilter, MAX_MARKET_CURSOR_BYTES};

use crate::assets::{asset_id, invalid, limit, parameters, path_param, RawQuery};
use crate::error::{ApiError, ErrorCode, Problem};
use crate::{schema, AppState};

fn address(name: &str, raw: &str) -> Result<Address, ApiError> {
    raw.parse().map_err(|e| invalid(name, format!("{name}: {e}")))
}

/// A workload or lease id: a decimal whole number.
fn id(name: &str, raw: &str) -> Result<u64, ApiError> {
    // `u64::from_str` takes a leading `+`; an id is digits only.
    if raw.is_empty() || raw.len() > 20 || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid(name, format!("{name}: {raw:?} is not an id (a whole number)")));
    }
    raw.parse().map_err(|_| invalid(name, format!("{name}: {raw:?} is not an id (a whole number below 2^64)")))
}

fn cursor(raw: Option<&String>) -> Result<Option<Vec<u8>>, ApiError> {
    let Some(raw) = raw else { return Ok(None) };
    let bad = || invalid("cursor", "cursor: not a cursor from a previous page");
    if raw.is_empty() || raw.len() > 2 * MAX_MARKET_CURSOR_BYTES {
        return Err(bad());
    }
    hex::decode(raw).map(Some).map_err(|_| bad())
}

fn boolean(name: &str, raw: Option<&String>) -> Result<Option<bool>, ApiError> {
    match raw.map(String::as_str) {
        None => Ok(None),
        Some("true") => Ok(Some(true)),
        Some("false") => Ok(Some(false)),
        Some(other) => Err(invalid(name, format!("{name}: {other:?} is not true or false"))),
    }
}

fn workload_not_found(id: u64) -> ApiError {
    ApiError::new(ErrorCode::WorkloadNotFound, format!("no workload {id}")).with("id", id)
}

fn lease_not_found(id: u64) -> ApiError {
    ApiError::new(ErrorCode::LeaseNotFound, format!("no lease {id}")).with("id", id)
}

/// Parameters of `GET /api/v1/workloads` (documentation only: parsed by hand).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code, reason = "documentation only: the query is parsed by hand, see the module doc")]
pub(crate) struct WorkloadsQuery {
    /// Only workloads submitted by this address (scans the consumer's index).
    consumer: Option<String>,
    /// Only workloads in this state: `pending`, `running` or `closed`.
    state: Option<String>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Page size, 1 to 1000 (default 100).
    limit: Option<u32>,
}

/// Parameters of `GET /api/v1/leases` (documentation only: parsed by hand).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code, reason = "documentation only: the query is parsed by hand, see the module doc")]
pub(crate) struct LeasesQuery {
    /// Only leases on this asset (id, or the device's `did:key`; scans the asset's index).
    asset: Option<String>,
    /// Only leases of this consumer.
    consumer: Option<String>,
    /// Only leases of this workload.
    workload: Option<u64>,
    /// Only open (`true`) or closed (`false`) leases.
    open: Option<bool>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Page size, 1 to 1000 (default 100).
    limit: Option<u32>,
}

const WORKLOADS_PARAMS: &[&str] = &["consumer", "state", "cursor", "limit"];
const LEASES_PARAMS: &[&str] = &["asset", "consumer", "workload", "open", "cursor", "limit"];

fn workload_filter(p: &BTreeMap<&'static str, String>) -> Result<WorkloadFilter, ApiError> {
    let state = p
        .get("state")
        .map(|v| {
            WorkloadStateFilter::parse(v).ok_or_else(|| {
                let all: Vec<&str> = WorkloadStateFilter::ALL.iter().map(|s| s.name()).collect();
                invalid("state", format!("state: {v:?} is not one of {}", all.join(", ")))
            })
        })
        .transpose()?;
    Ok(WorkloadFilter { consumer: p.get("consumer").map(|v| address("consumer", v)).transpose()?, state })
}

fn lease_filter(p: &BTreeMap<&'static str, String>) -> Result<LeaseFilter, ApiError> {
    Ok(LeaseFilter {
        asset: p
            .get("asset")
            .map(|v| asset_id(v).map_err(|_| invalid("asset", "asset: expected an asset id (64 hex characters) or a device's did:key")))
            .transpose()?,
        consumer: p.get("consumer").map(|v| address("consumer", v)).transpose()?,
        workload: p.get("workload").map(|v| id("workload", v)).transpose()?,
        open: boolean("open", p.get("open"))?,
    })
}

/// List workloads
///
/// Workloads in id order, a page at a time: all of them, or a consumer's (by its index), and
/// optionally only those in one state. Pass `next_cursor` as `cursor` for the next page; the
/// last page has no `next_cursor`. A page examines at most 10 × `limit` entries, so with a
/// state filter a page may hold fewer than `limit` workloads (even none) and still have a
/// `next_cursor`. A cursor belongs to the filter it came from.
#[utoipa::path(
    get,
    path = "/workloads",
    tag = "market",
    operation_id = "list_workloads",
    params(WorkloadsQuery),
    responses(
        (status = 200, description = "A page of workloads.", body = schema::WorkloadPage),
        (status = 400, description = "`invalid_parameter` (member `parameter`): bad consumer address, state, cursor or limit; an unknown or repeated parameter.", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn workloads(State(state): State<AppState>, query: RawQuery) -> Result<Response, ApiError> {
    let p = parameters(query, WORKLOADS_PARAMS)?;
    let filter = workload_filter(&p)?;
    let limit = limit(p.get("limit"))?;
    let cursor = cursor(p.get("cursor"))?;
    let page = state.blocking(move |n| n.workloads(&filter, cursor, limit)).await??;
    Ok(Json(page).into_response())
}

/// Get a workload
///
/// A workload by id: its spec, consumer, escrow and escrow notice, state, open lease ids,
/// credits spent and kept, why it is not (fully) placed (`unplaced`: a code, the message, and
/// the funnel of assets left after each filter), and `lease_records`: its leases, open and
/// closed, with asset, price and the allocator's cost terms.
#[utoipa::path(
    get,
    path = "/workloads/{id}",
    tag = "market",
    operation_id = "get_workload",
    params(("id" = u64, Path, description = "Workload id (from 1).")),
    responses(
        (status = 200, description = "The workload.", body = schema::WorkloadView),
        (status = 400, description = "`invalid_parameter`: not an id, or a query parameter.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`workload_not_found` (member `id`).", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn get_workload(
    State(state): State<AppState>,
    raw: Result<Path<String>, PathRejection>,
    query: RawQuery,
) -> Result<Response, ApiError> {
    let id = id("id", &path_param(raw, "id")?)?;
    parameters(query, &[])?;
    let view = state.blocking(move |n| n.workload(id)).await??.ok_or_else(|| workload_not_found(id))?;
    Ok(Json(view).into_response())
}

/// List leases
///
/// Leases in id order, a page at a time: all, or those of an asset (by its index), a consumer
/// or a workload, optionally only open or closed ones. Paged like `GET /workloads` (at most
/// 10 × `limit` entries examined per page).
#[utoipa::path(
    get,
    path = "/leases",
    tag = "market",
    operation_id = "list_leases",
    params(LeasesQuery),
    responses(
        (status = 200, description = "A page of leases.", body = schema::LeasePage),
        (status = 400, description = "`invalid_parameter` (member `parameter`): bad asset, consumer, workload, open, cursor or limit; an unknown or repeated parameter.", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn leases(State(state): State<AppState>, query: RawQuery) -> Result<Response, ApiError> {
    let p = parameters(query, LEASES_PARAMS)?;
    let filter = lease_filter(&p)?;
    let limit = limit(p.get("limit"))?;
    let cursor = cursor(p.get("cursor"))?;
    let page = state.blocking(move |n| n.leases(&filter, cursor, limit)).await??;
    Ok(Json(page).into_response())
}

/// Get a lease
///
/// A lease by id: its workload, consumer, asset and provider, the units reserved, the price per
/// epoch and the allocator's cost terms, its state, and what was paid and credited so far.
#[utoipa::path(
    get,
    path = "/leases/{id}",
    tag = "market",
    operation_id = "get_lease",
    params(("id" = u64, Path, description = "Lease id (from 1).")),
    responses(
        (status = 200, description = "The lease.", body = schema::LeaseView),
        (status = 400, description = "`invalid_parameter`: not an id, or a query parameter.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`lease_not_found` (member `id`).", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn get_lease(
    State(state): State<AppState>,
    raw: Result<Path<String>, PathRejection>,
    query: RawQuery,
) -> Result<Response, ApiError> {
    let id = id("id", &path_param(raw, "id")?)?;
    parameters(query, &[])?;
    let view = state.blocking(move |n| n.lease(id)).await??.ok_or_else(|| lease_not_found(id))?;
    Ok(Json(view).into_response())
}

/// Get an asset's price sheet
///
/// The asset's prices (`sheet`, null when it is not for sale), the units its class sells with
/// its capacity and what open leases reserve of each.
#[utoipa::path(
    get,
    path = "/assets/{id}/price",
    tag = "market",
    operation_id = "get_asset_price",
    params(("id" = String, Path, description = "Asset id (64 hex characters) or the device's `did:key`.")),
    responses(
        (status = 200, description = "The price sheet.", body = schema::PriceView),
        (status = 400, description = "`invalid_parameter`: not an asset id or did:key, or a query parameter.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`asset_not_found`.", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn price(
    State(state): State<AppState>,
    raw: Result<Path<String>, PathRejection>,
    query: RawQuery,
) -> Result<Response, ApiError> {
    let id = asset_id(&path_param(raw, "id")?)?;
    parameters(query, &[])?;
    let view = state.blocking(move |n| n.price(&id)).await??.ok_or_else(|| {
        ApiError::new(ErrorCode::AssetNotFound, format!("no asset {id}")).with("id", id.to_string())
    })?;
    Ok(Json(view).into_response())
}

/// Get an account's credits
///
/// The credits an account holds outside escrows (zero for an account that never had any).
#[utoipa::path(
    get,
    path = "/accounts/{address}/credits",
    tag = "market",
    operation_id = "get_account_credits",
    params(("address" = schema::Address, Path, description = "Account address (`depin1…`).")),
    responses(
        (status = 200, description = "The credits.", body = schema::CreditsView),
        (status = 400, description = "`invalid_parameter`: bad address, or a query parameter.", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn credits(
    State(state): State<AppState>,
    raw: Result<Path<String>, PathRejection>,
    query: RawQuery,
) -> Result<Response, ApiError> {
    let address = address("address", &path_param(raw, "address")?)?;
    parameters(query, &[])?;
    let view = state.blocking(move |n| n.credits(&address)).await??;
    Ok(Json(view).into_response())
}

/// Get the market
///
/// The market parameters in force, the book (last ids, last settled epoch, credits minted and
/// spent), how many workloads wait and how many leases are open, and the market events of the
/// last block that had any.
#[utoipa::path(
    get,
    path = "/market",
    tag = "market",
    operation_id = "get_market",
    responses(
        (status = 200, description = "The market.", body = schema::MarketView),
        (status = 400, description = "`invalid_parameter`: an unknown query parameter.", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn market(State(state): State<AppState>, query: RawQuery) -> Result<Response, ApiError> {
    parameters(query, &[])?;
    let view = state.blocking(depin_node::Node::market).await??;
    Ok(Json(view).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_digits_only() {
        assert_eq!(id("id", "42").unwrap(), 42);
        for bad in ["", "+1", "-1", "1.0", "0x10", "99999999999999999999", "abc"] {
            let e = id("id", bad).unwrap_err();
            assert_eq!(e.code(), ErrorCode::InvalidParameter, "{bad:?}");
        }
    }
}
