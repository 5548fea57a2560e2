//! Submit transactions (JSON or canonical bytes) and report their status.

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use depin_crypto::Hash32;
use depin_node::TxStatus;
use depin_types::limits::MAX_TX_BYTES;
use depin_types::{DecodeError, Transaction};
use serde::Deserialize;

use crate::error::{ApiError, ErrorCode, Problem};
use crate::{schema, AppState, Shutdown, DEFAULT_WAIT_TIMEOUT_MS};

/// Query of `POST /api/v1/txs`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct SubmitQuery {
    /// Wait until the transaction is in a committed block (or the timeout passes). Default false.
    wait: Option<bool>,
    /// With `wait=true`: how long to wait, in milliseconds (default 10000; at most the server's
    /// limit, 30000 unless configured). Ignored without `wait=true`.
    timeout_ms: Option<u64>,
}

/// The media types a transaction body may have.
pub(crate) enum BodyKind {
    Json,
    Binary,
}

pub(crate) fn body_kind(headers: &HeaderMap) -> Result<BodyKind, ApiError> {
    let unsupported = |what: &str| {
        ApiError::new(
            ErrorCode::UnsupportedMediaType,
            format!("{what}; send application/json or application/octet-stream"),
        )
    };
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return Err(unsupported("no Content-Type header"));
    };
    let value = value.to_str().map_err(|_| unsupported("unreadable Content-Type header"))?;
    let essence = value.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    match essence.as_str() {
        "application/json" => Ok(BodyKind::Json),
        "application/octet-stream" => Ok(BodyKind::Binary),
        _ => Err(unsupported(&format!("unsupported Content-Type {essence:?}"))),
    }
}

/// Map an error reading the body: too large → 413, anything else → 400.
pub(crate) fn body_rejection(rejection: BytesRejection, limit: usize) -> ApiError {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(
            ErrorCode::PayloadTooLarge,
            format!("request body is over the limit of {limit} bytes"),
        )
        .with("limit", limit)
    } else {
        ApiError::new(ErrorCode::MalformedTransaction, rejection.body_text())
    }
}

fn decode_error(e: DecodeError) -> ApiError {
    match e {
        DecodeError::TooLarge { got, limit } => ApiError::new(
            ErrorCode::PayloadTooLarge,
            format!("transaction is {got} bytes, over the limit of {limit}"),
        )
        .with("limit", limit),
        other => ApiError::new(ErrorCode::MalformedTransaction, other.to_string()),
    }
}

/// Parse a transaction body of either media type, with the same structural checks.
fn parse_transaction(headers: &HeaderMap, body: &[u8]) -> Result<Transaction, ApiError> {
    match body_kind(headers)? {
        BodyKind::Binary => Transaction::decode(body).map_err(decode_error),
        BodyKind::Json => {
            let tx: Transaction = serde_json::from_slice(body).map_err(|e| {
                ApiError::new(ErrorCode::MalformedTransaction, format!("invalid transaction JSON: {e}"))
            })?;
            tx.check_structure().map_err(decode_error)?;
            let encoded = tx.encode().len();
            if encoded > MAX_TX_BYTES {
                return Err(decode_error(DecodeError::TooLarge { got: encoded, limit: MAX_TX_BYTES }));
            }
            Ok(tx)
        }
    }
}

/// A query-string rejection as a problem.
pub(crate) fn query_rejection(rejection: QueryRejection) -> ApiError {
    ApiError::new(ErrorCode::InvalidParameter, rejection.body_text())
}

/// A path rejection as a problem.
pub(crate) fn path_rejection(rejection: PathRejection) -> ApiError {
    ApiError::new(ErrorCode::InvalidParameter, rejection.body_text())
}

/// The JSON form of a status: the node's tagged status plus `tx_id`.
fn status_json(id: &Hash32, status: &TxStatus) -> Result<serde_json::Value, ApiError> {
    let mut value = serde_json::to_value(status).map_err(|e| ApiError::internal("tx status", &e))?;
    match value.as_object_mut() {
        Some(map) => {
            map.insert("tx_id".to_string(), serde_json::Value::String(id.to_hex()));
            Ok(value)
        }
        None => Err(ApiError::internal("tx status", &"status did not serialize as an object")),
    }
}

/// Submit a transaction
///
/// The body is either the transaction's JSON form (`application/json`) or its canonical borsh
/// bytes (`application/octet-stream`). Admission checks (chain id, signature, nonce window, fee,
/// duplicates, queue limits) run before the answer; nothing is written when they fail.
/// Without `wait`, answers 202 with status `pending`. With `wait=true`, answers 200 with the
/// committed status and receipt, or 202 with status `pending` if the timeout passed first.
#[utoipa::path(
    post,
    path = "/txs",
    tag = "transactions",
    operation_id = "submit_transaction",
    params(SubmitQuery),
    request_body(
        description = "A signed transaction, as JSON or as canonical borsh bytes.",
        content(
            (schema::Transaction = "application/json"),
            (schema::TransactionBytes = "application/octet-stream"),
        ),
    ),
    responses(
        (status = 200, description = "Committed (with `wait=true`); check `receipt.outcome`.", body = schema::TxStatus),
        (status = 202, description = "Accepted into the mempool; still pending.", body = schema::TxStatus),
        (status = 400, description = "`malformed_transaction` or `invalid_parameter`.", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`nonce_too_low` or `duplicate_transaction`.", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "`payload_too_large`.", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "`unsupported_media_type`.", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`wrong_chain_id`, `bad_signature`, `nonce_too_high`, `fee_too_low` or `unknown_account`.", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`sender_queue_full` or `mempool_full`; retry after `Retry-After` seconds.", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait before retrying."))),
        (status = 503, description = "`shutting_down`.", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn submit(
    State(state): State<AppState>,
    shutdown: Option<Extension<Shutdown>>,
    query: Result<Query<SubmitQuery>, QueryRejection>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(query_rejection)?;
    // The media type is checked before the body so that a wrong type is always 415.
    body_kind(&headers)?;
    let body = body.map_err(|r| body_rejection(r, state.limits.max_body_bytes))?;
    let wait = query.wait.unwrap_or(false);
    let timeout_ms = query.timeout_ms.unwrap_or(DEFAULT_WAIT_TIMEOUT_MS.min(state.limits.wait_timeout_ms_max));
    if wait && timeout_ms > state.limits.wait_timeout_ms_max {
        return Err(ApiError::new(
            ErrorCode::InvalidParameter,
            format!("timeout_ms {timeout_ms} is over the limit of {}", state.limits.wait_timeout_ms_max),
        )
        .with("limit", state.limits.wait_timeout_ms_max));
    }
    let tx = parse_transaction(&headers, &body)?;
    // Admission verifies the signature (ML-DSA takes a while) and reads state: off the workers.
    let id = state.blocking(move |n| n.submit(tx)).await??;
    tracing::debug!(tx_id = %id, wait, "transaction admitted");
    if !wait {
        return Ok((StatusCode::ACCEPTED, Json(status_json(&id, &TxStatus::Pending)?)).into_response());
    }
    let timeout = Duration::from_millis(timeout_ms);
    let status = tokio::select! {
        r = state.node.wait_committed(id, timeout) => r?,
        () = Shutdown::wait(shutdown.map(|Extension(s)| s)) => state.node.tx_status(&id)?,
    };
    let code = match status {
        TxStatus::Committed { .. } => StatusCode::OK,
        _ => StatusCode::ACCEPTED,
    };
    Ok((code, Json(status_json(&id, &status)?)).into_response())
}

/// Parse a transaction id path segment.
fn parse_tx_id(raw: &str) -> Result<Hash32, ApiError> {
    raw.parse::<Hash32>()
        .map_err(|e| ApiError::new(ErrorCode::InvalidParameter, format!("id: {e}")).with("parameter", "id"))
}

/// Get a transaction's status
///
/// `pending` while in the mempool, `committed` with block position and receipt once in a block.
#[utoipa::path(
    get,
    path = "/txs/{id}",
    tag = "transactions",
    operation_id = "get_transaction",
    params(("id" = schema::Hash32, Path, description = "Transaction id: 64 hex characters.")),
    responses(
        (status = 200, description = "Pending or committed.", body = schema::TxStatus),
        (status = 400, description = "`invalid_parameter`: not a transaction id.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`transaction_not_found`: neither pending nor committed.", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn get_tx(
    State(state): State<AppState>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let Path(raw) = id.map_err(path_rejection)?;
    let id = parse_tx_id(&raw)?;
    let status = state.blocking(move |n| n.tx_status(&id)).await??;
    if matches!(status, TxStatus::Unknown) {
        return Err(ApiError::new(
            ErrorCode::TransactionNotFound,
            format!("transaction {id} is neither pending nor committed"),
        ));
    }
    Ok(Json(status_json(&id, &status)?).into_response())
}
