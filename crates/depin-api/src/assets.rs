//! Read the asset registry: assets by id or `did:key` (optionally with a proof), by filter, by
//! owner, by cell, near a point; location histories; counts; vendors; parameters.
//!
//! Query strings are parsed by hand rather than into a struct, so that every refusal names the
//! parameter at fault (`parameter` member of the `invalid_parameter` problem), unknown and
//! repeated parameters included. The `*Query` structs below only document the parameters.

use std::collections::BTreeMap;

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use depin_crypto::{Address, PublicKey};
use depin_node::{AssetFilter, NearAsset, MAX_CURSOR_BYTES, MAX_NEAR_RADIUS_KM, MAX_PAGE};
use depin_types::asset::{AssetClass, AssetId, AssetStatus};
use depin_types::geo::{Cell, LatLon, MAX_RESOLUTION};
use serde::Serialize;

use crate::error::{ApiError, ErrorCode, Problem};
use crate::{schema, AppState};

/// Page size when `limit` is not given.
pub const DEFAULT_PAGE: usize = 100;

/// The raw query string as name/value pairs.
pub(crate) type RawQuery = Result<Query<Vec<(String, String)>>, QueryRejection>;

pub(crate) fn invalid(parameter: &str, detail: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::InvalidParameter, detail).with("parameter", parameter)
}

/// The query's parameters by name; refuses a name not in `allowed` and a name given twice.
pub(crate) fn parameters(query: RawQuery, allowed: &[&'static str]) -> Result<BTreeMap<&'static str, String>, ApiError> {
    let Query(pairs) = query.map_err(|r| invalid("query", format!("query string: {}", r.body_text())))?;
    let mut out = BTreeMap::new();
    for (name, value) in pairs {
        let Some(known) = allowed.iter().find(|a| **a == name) else {
            let shown: String = name.chars().take(64).collect();
            return Err(invalid(&shown, format!("unknown query parameter {shown:?}; this route takes: {}", allowed.join(", ")))
                .with("allowed", allowed.to_vec()));
        };
        if out.insert(*known, value).is_some() {
            return Err(invalid(known, format!("{known}: given more than once")));
        }
    }
    Ok(out)
}

pub(crate) fn path_param(path: Result<Path<String>, PathRejection>, name: &str) -> Result<String, ApiError> {
    path.map(|Path(p)| p).map_err(|r| invalid(name, format!("{name}: {}", r.body_text())))
}

fn address(name: &str, raw: &str) -> Result<Address, ApiError> {
    raw.parse().map_err(|e| invalid(name, format!("{name}: {e}")))
}

/// A vendor by its address or its public key (`scheme:hex`).
fn vendor(raw: &str) -> Result<Address, ApiError> {
    if raw.contains(':') {
        let key: PublicKey = raw.parse().map_err(|e| invalid("vendor", format!("vendor: {e}")))?;
        return Ok(key.address());
    }
    address("vendor", raw)
}

fn cell(name: &str, raw: &str) -> Result<Cell, ApiError> {
    Cell::parse(raw).map_err(|e| invalid(name, format!("{name}: {e}")))
}

fn names<T: Copy>(all: &[T], name: fn(T) -> &'static str) -> String {
    all.iter().map(|x| name(*x)).collect::<Vec<_>>().join(", ")
}

pub(crate) fn limit(raw: Option<&String>) -> Result<usize, ApiError> {
    let Some(raw) = raw else { return Ok(DEFAULT_PAGE) };
    match raw.parse::<usize>() {
        Ok(n) if (1..=MAX_PAGE).contains(&n) => Ok(n),
        _ => Err(invalid("limit", format!("limit: {raw:?} is not a whole number between 1 and {MAX_PAGE}"))),
    }
}

fn cursor(raw: Option<&String>) -> Result<Option<Vec<u8>>, ApiError> {
    let Some(raw) = raw else { return Ok(None) };
    let bad = || invalid("cursor", "cursor: not a cursor from a previous page");
    if raw.is_empty() || raw.len() > 2 * MAX_CURSOR_BYTES {
        return Err(bad());
    }
    hex::decode(raw).map(Some).map_err(|_| bad())
}

/// The asset filter from the parameters that are present.
fn filter(p: &BTreeMap<&'static str, String>) -> Result<AssetFilter, ApiError> {
    Ok(AssetFilter {
        owner: p.get("owner").map(|v| address("owner", v)).transpose()?,
        manager: p.get("manager").map(|v| address("manager", v)).transpose()?,
        vendor: p.get("vendor").map(|v| vendor(v)).transpose()?,
        class: p
            .get("class")
            .map(|v| {
                AssetClass::parse(v).ok_or_else(|| {
                    invalid("class", format!("class: {v:?} is not one of {}", names(&AssetClass::ALL, AssetClass::name)))
                })
            })
            .transpose()?,
        status: p
            .get("status")
            .map(|v| {
                AssetStatus::parse(v).ok_or_else(|| {
                    invalid("status", format!("status: {v:?} is not one of {}", names(&AssetStatus::ALL, AssetStatus::name)))
                })
            })
            .transpose()?,
        cell: p.get("cell").map(|v| cell("cell", v)).transpose()?,
    })
}

/// An asset id: 64 hex characters, or the device key's `did:key`.
pub(crate) fn asset_id(raw: &str) -> Result<AssetId, ApiError> {
    if raw.starts_with("did:") {
        let key = depin_crypto::did::parse_did_key(raw).map_err(|e| invalid("id", format!("id: {e}")))?;
        return Ok(AssetId::of(&key));
    }
    if raw.len() != 64 {
        return Err(invalid("id", "id: expected an asset id (64 hex characters) or a device's did:key"));
    }
    raw.parse().map_err(|_| invalid("id", "id: expected an asset id (64 hex characters) or a device's did:key"))
}

fn asset_not_found(id: &AssetId) -> ApiError {
    ApiError::new(ErrorCode::AssetNotFound, format!("no asset {id}")).with("id", id.to_string())
}

/// The answer of a near query.
#[derive(Serialize)]
struct NearPage {
    assets: Vec<NearAsset>,
}

/// Parameters of `GET /api/v1/assets` (documentation only: parsed by hand).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code, reason = "documentation only: the query is parsed by hand, see the module doc")]
pub(crate) struct AssetsQuery {
    /// Only assets owned by this address.
    owner: Option<String>,
    /// Only assets managed by this address.
    manager: Option<String>,
    /// Only assets attested by this vendor (its address, or its key as `scheme:hex`).
    vendor: Option<String>,
    /// Only this class: `wireless`, `compute`, `storage`, `energy`, `sensor` or `mining`.
    class: Option<String>,
    /// Only this effective status: `registered`, `active`, `suspended` (assets of a revoked
    /// vendor included) or `decommissioned`.
    status: Option<String>,
    /// Only assets in this H3 cell (hex) or its descendants; not finer than the registry's
    /// resolution.
    cell: Option<String>,
    /// `LAT,LON`: list the assets whose cell centre is within `radius_km` of this point,
    /// nearest first, each with `distance_m`. Needs `radius_km`; not with `cursor` (one page).
    near: Option<String>,
    /// With `near`: the radius in kilometres, above 0 and at most 500.
    radius_km: Option<f64>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Page size (or most results with `near`), 1 to 1000 (default 100).
    limit: Option<u32>,
}

/// Parameters of the pages that only take `cursor` and `limit`.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code, reason = "documentation only: the query is parsed by hand, see the module doc")]
pub(crate) struct PageQuery {
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Page size, 1 to 1000 (default 100).
    limit: Option<u32>,
}

/// Parameters of `GET /api/v1/accounts/{address}/assets` (documentation only).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code, reason = "documentation only: the query is parsed by hand, see the module doc")]
pub(crate) struct OwnerAssetsQuery {
    /// Only assets managed by this address.
    manager: Option<String>,
    /// Only assets attested by this vendor (its address, or its key as `scheme:hex`).
    vendor: Option<String>,
    /// Only this class.
    class: Option<String>,
    /// Only this effective status.
    status: Option<String>,
    /// Only assets in this H3 cell (hex) or its descendants.
    cell: Option<String>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Page size, 1 to 1000 (default 100).
    limit: Option<u32>,
}

/// Parameters of `GET /api/v1/cells/{cell}/assets` (documentation only).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code, reason = "documentation only: the query is parsed by hand, see the module doc")]
pub(crate) struct CellAssetsQuery {
    /// Only assets owned by this address.
    owner: Option<String>,
    /// Only assets managed by this address.
    manager: Option<String>,
    /// Only assets attested by this vendor (its address, or its key as `scheme:hex`).
    vendor: Option<String>,
    /// Only this class.
    class: Option<String>,
    /// Only this effective status.
    status: Option<String>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Page size, 1 to 1000 (default 100).
    limit: Option<u32>,
}

/// Parameters of `GET /api/v1/assets/{id}` (documentation only).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code, reason = "documentation only: the query is parsed by hand, see the module doc")]
pub(crate) struct AssetQuery {
    /// Add a proof of the asset's record (state key `r/a/<id>`) against `state_root`. Default false.
    prove: Option<bool>,
}

/// Parameters of `GET /api/v1/registry/stats` (documentation only).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code, reason = "documentation only: the query is parsed by hand, see the module doc")]
pub(crate) struct StatsQuery {
    /// Count only this H3 cell (hex) and its descendants (by scanning it); without it, the whole
    /// network (class and status counts from the registry's counters).
    cell: Option<String>,
    /// Resolution of the `by_region` counts, 0 to the registry's resolution (default 4, or the
    /// cell's own resolution if finer).
    region_resolution: Option<u8>,
}

const LIST_PARAMS: &[&str] =
    &["owner", "manager", "vendor", "class", "status", "cell", "near", "radius_km", "cursor", "limit"];
const OWNER_PARAMS: &[&str] = &["manager", "vendor", "class", "status", "cell", "cursor", "limit"];
const CELL_PARAMS: &[&str] = &["owner", "manager", "vendor", "class", "status", "cursor", "limit"];
const PAGE_PARAMS: &[&str] = &["cursor", "limit"];

/// One page of `filter` (the common end of the three list routes).
async fn page(state: &AppState, filter: AssetFilter, p: &BTreeMap<&'static str, String>) -> Result<Response, ApiError> {
    let limit = limit(p.get("limit"))?;
    let cursor = cursor(p.get("cursor"))?;
    let page = state.blocking(move |n| n.assets(&filter, cursor, limit)).await??;
    Ok(Json(page).into_response())
}

/// List assets
///
/// Assets matching every given filter, a page at a time in index order: pass `next_cursor` as
/// `cursor` for the next page; the last page has no `next_cursor`. A page examines at most
/// 10 × `limit` index entries, so with a selective filter a page may hold fewer than `limit`
/// assets (even none) and still have a `next_cursor`. A cursor belongs to the filter it came
/// from. With `near` and `radius_km`, answers one list of the assets whose cell centre is within
/// the radius, nearest first, each with `distance_m` (refused as `query_too_broad` past 100,000
/// assets in the area).
#[utoipa::path(
    get,
    path = "/assets",
    tag = "registry",
    operation_id = "list_assets",
    params(AssetsQuery),
    responses(
        (status = 200, description = "A page of assets.", body = schema::AssetPage),
        (status = 400, description = "`invalid_parameter` (member `parameter`): bad address, vendor, class, status, cell, point, radius, cursor or limit; `near` without `radius_km` or with `cursor`; an unknown or repeated parameter.", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`query_too_broad`: too many assets in the area of a near query.", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn list(State(state): State<AppState>, query: RawQuery) -> Result<Response, ApiError> {
    let p = parameters(query, LIST_PARAMS)?;
    let filter = filter(&p)?;
    let (near, radius) = (p.get("near"), p.get("radius_km"));
    let Some(near) = near else {
        if radius.is_some() {
            return Err(invalid("radius_km", "radius_km: only with near=LAT,LON"));
        }
        return page(&state, filter, &p).await;
    };
    let center = LatLon::parse(near).map_err(|e| invalid("near", format!("near: {e} (expected LAT,LON)")))?;
    let Some(radius) = radius else { return Err(invalid("radius_km", "radius_km: required with near")) };
    let radius_km = radius
        .parse::<f64>()
        .ok()
        .filter(|r| r.is_finite() && *r > 0.0 && *r <= MAX_NEAR_RADIUS_KM)
        .ok_or_else(|| invalid("radius_km", format!("radius_km: {radius:?} is not a number above 0 and at most {MAX_NEAR_RADIUS_KM}")))?;
    if p.contains_key("cursor") {
        return Err(invalid("cursor", "cursor: a near query answers one list; it takes no cursor"));
    }
    let limit = limit(p.get("limit"))?;
    let assets = state.blocking(move |n| n.assets_near(center, radius_km, &filter, limit)).await??;
    Ok(Json(NearPage { assets }).into_response())
}

/// Get an asset
///
/// An asset by id (64 hex characters) or by its device key's `did:key`, at the latest committed
/// block: the stored record, `did`, `class`, its `effective_status` (assets of a revoked vendor
/// count as `suspended`, reason `vendor_revoked`, without their record being rewritten), its
/// bond, and the `height` and `state_root` read. With `prove=true`, `proof` proves the asset's
/// record (state key `r/a/<id>`) against `state_root`.
#[utoipa::path(
    get,
    path = "/assets/{id}",
    tag = "registry",
    operation_id = "get_asset",
    params(
        ("id" = String, Path, description = "Asset id (64 hex characters) or the device's `did:key`."),
        AssetQuery,
    ),
    responses(
        (status = 200, description = "The asset.", body = schema::AssetView),
        (status = 400, description = "`invalid_parameter`: not an asset id or did:key, or a bad query.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`asset_not_found`.", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn get_asset(
    State(state): State<AppState>,
    id: Result<Path<String>, PathRejection>,
    query: RawQuery,
) -> Result<Response, ApiError> {
    let id = asset_id(&path_param(id, "id")?)?;
    let p = parameters(query, &["prove"])?;
    let prove = match p.get("prove").map(String::as_str) {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => return Err(invalid("prove", format!("prove: {other:?} is not true or false"))),
    };
    if !prove {
        let view = state.blocking(move |n| n.asset(&id)).await??.ok_or_else(|| asset_not_found(&id))?;
        return Ok(Json(view).into_response());
    }
    let (view, proof) = state.blocking(move |n| n.asset_with_proof(&id)).await??.ok_or_else(|| asset_not_found(&id))?;
    let mut value = serde_json::to_value(&view).map_err(|e| ApiError::internal("asset", &e))?;
    let proof = serde_json::to_value(&proof).map_err(|e| ApiError::internal("proof", &e))?;
    match value.as_object_mut() {
        Some(map) => {
            map.insert("proof".to_string(), proof);
        }
        None => return Err(ApiError::internal("asset", &"asset did not serialize as an object")),
    }
    Ok(Json(value).into_response())
}

/// List an asset's locations
///
/// The locations asserted for an asset (by id or `did:key`), oldest first: at registration,
/// then each re-assertion, with the block that recorded it.
#[utoipa::path(
    get,
    path = "/assets/{id}/locations",
    tag = "registry",
    operation_id = "list_asset_locations",
    params(
        ("id" = String, Path, description = "Asset id (64 hex characters) or the device's `did:key`."),
        PageQuery,
    ),
    responses(
        (status = 200, description = "A page of locations.", body = schema::LocationPage),
        (status = 400, description = "`invalid_parameter`: not an asset id or did:key, bad cursor or limit.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`asset_not_found`.", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn locations(
    State(state): State<AppState>,
    id: Result<Path<String>, PathRejection>,
    query: RawQuery,
) -> Result<Response, ApiError> {
    let id = asset_id(&path_param(id, "id")?)?;
    let p = parameters(query, PAGE_PARAMS)?;
    let limit = limit(p.get("limit"))?;
    let cursor = cursor(p.get("cursor"))?;
    let page = state.blocking(move |n| n.asset_locations(&id, cursor, limit)).await??;
    Ok(Json(page.ok_or_else(|| asset_not_found(&id))?).into_response())
}

/// List an account's assets
///
/// The assets an account owns, a page at a time (the other filters of `GET /assets` apply).
#[utoipa::path(
    get,
    path = "/accounts/{address}/assets",
    tag = "registry",
    operation_id = "list_account_assets",
    params(
        ("address" = schema::Address, Path, description = "Owner address (`depin1…`)."),
        OwnerAssetsQuery,
    ),
    responses(
        (status = 200, description = "A page of assets.", body = schema::AssetPage),
        (status = 400, description = "`invalid_parameter`: bad address or query.", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn by_owner(
    State(state): State<AppState>,
    owner: Result<Path<String>, PathRejection>,
    query: RawQuery,
) -> Result<Response, ApiError> {
    let owner = address("address", &path_param(owner, "address")?)?;
    let p = parameters(query, OWNER_PARAMS)?;
    let filter = AssetFilter { owner: Some(owner), ..filter(&p)? };
    page(&state, filter, &p).await
}

/// List the assets in a cell
///
/// The assets located in an H3 cell or any of its descendants, a page at a time (the other
/// filters of `GET /assets` apply). The cell may not be finer than the registry's resolution.
#[utoipa::path(
    get,
    path = "/cells/{cell}/assets",
    tag = "registry",
    operation_id = "list_cell_assets",
    params(
        ("cell" = schema::Cell, Path, description = "H3 cell in hex, at most the registry's resolution."),
        CellAssetsQuery,
    ),
    responses(
        (status = 200, description = "A page of assets.", body = schema::AssetPage),
        (status = 400, description = "`invalid_parameter`: bad cell (or finer than the registry's resolution) or query.", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn in_cell(
    State(state): State<AppState>,
    at: Result<Path<String>, PathRejection>,
    query: RawQuery,
) -> Result<Response, ApiError> {
    let at = cell("cell", &path_param(at, "cell")?)?;
    let p = parameters(query, CELL_PARAMS)?;
    let filter = AssetFilter { cell: Some(at), ..filter(&p)? };
    page(&state, filter, &p).await
}

/// Count assets
///
/// Asset counts per class, per effective status and per region (cells at `region_resolution`),
/// for the whole network or one cell and its descendants. The whole network's class and status
/// counts come from the registry's counters; regions (and, with `cell`, every count) come from
/// scanning the cell index, refused as `query_too_broad` past 1,000,000 assets or 10,000
/// regions.
#[utoipa::path(
    get,
    path = "/registry/stats",
    tag = "registry",
    operation_id = "get_registry_stats",
    params(StatsQuery),
    responses(
        (status = 200, description = "The counts.", body = schema::AssetStats),
        (status = 400, description = "`invalid_parameter`: bad cell or region resolution (finer than the registry's), or an unknown parameter.", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`query_too_broad`: too many assets or regions to count; give a cell or a coarser region resolution.", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn stats(State(state): State<AppState>, query: RawQuery) -> Result<Response, ApiError> {
    let p = parameters(query, &["cell", "region_resolution"])?;
    let at = p.get("cell").map(|v| cell("cell", v)).transpose()?;
    let region = p
        .get("region_resolution")
        .map(|v| {
            v.parse::<u8>().ok().filter(|r| *r <= MAX_RESOLUTION).ok_or_else(|| {
                invalid("region_resolution", format!("region_resolution: {v:?} is not a resolution 0 to {MAX_RESOLUTION}"))
            })
        })
        .transpose()?;
    let stats = state.blocking(move |n| n.asset_stats(at, region)).await??;
    Ok(Json(stats).into_response())
}

/// List vendors
///
/// Device vendors (revoked ones included), in order of their key's address.
#[utoipa::path(
    get,
    path = "/vendors",
    tag = "registry",
    operation_id = "list_vendors",
    params(PageQuery),
    responses(
        (status = 200, description = "A page of vendors.", body = schema::VendorPage),
        (status = 400, description = "`invalid_parameter`: bad cursor or limit, or an unknown parameter.", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn vendors(State(state): State<AppState>, query: RawQuery) -> Result<Response, ApiError> {
    let p = parameters(query, PAGE_PARAMS)?;
    let limit = limit(p.get("limit"))?;
    let cursor = cursor(p.get("cursor"))?;
    let page = state.blocking(move |n| n.vendors(cursor, limit)).await??;
    Ok(Json(page).into_response())
}

/// Get the registry parameters
///
/// Bond per class, location resolution and fee, unbonding period, as in force at the latest
/// committed block.
#[utoipa::path(
    get,
    path = "/registry/params",
    tag = "registry",
    operation_id = "get_registry_params",
    responses(
        (status = 200, description = "The parameters.", body = schema::RegistryParams),
        (status = 400, description = "`invalid_parameter`: an unknown query parameter.", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn params(State(state): State<AppState>, query: RawQuery) -> Result<Response, ApiError> {
    parameters(query, &[])?;
    let params = state.blocking(depin_node::Node::registry_params).await??;
    Ok(Json(params).into_response())
}
