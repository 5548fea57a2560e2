//! Read accounts (optionally with a state proof) and blocks.

use depin_node::Node;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use depin_crypto::Address;
use serde::Deserialize;

use crate::error::{ApiError, ErrorCode, Problem};
use crate::txs::{path_rejection, query_rejection};
use crate::{schema, AppState};

/// Query of `GET /api/v1/accounts/{address}`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct AccountQuery {
    /// Add a proof of the account's state entry against `state_root`. Default false.
    prove: Option<bool>,
}

/// Get an account
///
/// Balance and next nonce at the latest committed block. An address never seen has balance 0
/// and nonce 0. With `prove=true`, `proof` proves the account's state entry (or its absence)
/// against `state_root`, which is the `state_root` of the block at `height`.
#[utoipa::path(
    get,
    path = "/accounts/{address}",
    tag = "ledger",
    operation_id = "get_account",
    params(
        ("address" = schema::Address, Path, description = "Account address (`depin1…`)."),
        AccountQuery,
    ),
    responses(
        (status = 200, description = "The account.", body = schema::Account),
        (status = 400, description = "`invalid_parameter`: not an address, or a bad query.", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn get_account(
    State(state): State<AppState>,
    address: Result<Path<String>, PathRejection>,
    query: Result<Query<AccountQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Path(raw) = address.map_err(path_rejection)?;
    let Query(query) = query.map_err(query_rejection)?;
    let address: Address = raw.parse().map_err(|e| {
        ApiError::new(ErrorCode::InvalidParameter, format!("address: {e}")).with("parameter", "address")
    })?;
    if !query.prove.unwrap_or(false) {
        return Ok(Json(state.blocking(move |n| n.account(&address)).await??).into_response());
    }
    let (view, proof) = state.blocking(move |n| n.account_with_proof(&address)).await??;
    let mut value = serde_json::to_value(&view).map_err(|e| ApiError::internal("account", &e))?;
    let proof = serde_json::to_value(&proof).map_err(|e| ApiError::internal("proof", &e))?;
    match value.as_object_mut() {
        Some(map) => {
            map.insert("proof".to_string(), proof);
        }
        None => return Err(ApiError::internal("account", &"account did not serialize as an object")),
    }
    Ok(Json(value).into_response())
}

/// The block as the log holds it: a block whose raw telemetry retention pruned is still shown
/// (header, signature, receipts, every other transaction), each pruned transaction as
/// `{"pruned": true, "id", "sender", "nonce", "reports", "leaf"}` (docs/adr/0018).
async fn block_response(state: &AppState, height: u64) -> Result<Response, ApiError> {
    match state.blocking(move |n| n.logged_block(height)).await?? {
        Some(view) => Ok(Json(view).into_response()),
        None => Err(ApiError::new(ErrorCode::BlockNotFound, format!("no block at height {height}"))
            .with("height", height)),
    }
}

/// Get the latest block
///
/// The most recently committed block with its receipts.
#[utoipa::path(
    get,
    path = "/blocks/latest",
    tag = "ledger",
    operation_id = "get_latest_block",
    responses(
        (status = 200, description = "The block.", body = schema::BlockView),
        (status = 404, description = "`block_not_found`: no block committed yet.", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn latest_block(State(state): State<AppState>) -> Result<Response, ApiError> {
    let height = state.blocking(Node::status).await??.height;
    if height == 0 {
        return Err(ApiError::new(ErrorCode::BlockNotFound, "no block has been committed yet"));
    }
    block_response(&state, height).await
}

/// Get a block by height
///
/// The committed block at `height` (1 is the first block after genesis) with its receipts. On a
/// node that prunes raw telemetry (`[telemetry] retain_epochs`), a telemetry transaction of an
/// old block appears as `{"pruned": true, "id", "sender", "nonce", "reports", "leaf"}`: its
/// `leaf` keeps the header's `txs_root` verifiable, and its receipt is kept.
#[utoipa::path(
    get,
    path = "/blocks/{height}",
    tag = "ledger",
    operation_id = "get_block",
    params(("height" = u64, Path, description = "Block height, from 1.")),
    responses(
        (status = 200, description = "The block.", body = schema::BlockView),
        (status = 400, description = "`invalid_parameter`: not a height.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`block_not_found`.", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn block_by_height(
    State(state): State<AppState>,
    height: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let Path(raw) = height.map_err(path_rejection)?;
    let height: u64 = raw.parse().map_err(|_| {
        ApiError::new(
            ErrorCode::InvalidParameter,
            format!("height: {raw:?} is not a block height (a non-negative integer) or `latest`"),
        )
        .with("parameter", "height")
    })?;
    block_response(&state, height).await
}
