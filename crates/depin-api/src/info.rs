//! Answer status, health, metrics, the OpenAPI document, and unknown routes.

use depin_node::Node;
use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::error::{ApiError, ErrorCode, Problem};
use crate::{schema, AppState};

/// Content type of the Prometheus text exposition format.
pub(crate) const PROMETHEUS_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Get the node status
///
/// Chain id, latest height, block id and state root, mempool size, the node's key and version.
#[utoipa::path(
    get,
    path = "/status",
    tag = "node",
    operation_id = "get_status",
    responses(
        (status = 200, description = "The status.", body = schema::Status),
        (status = 500, description = "`internal`.", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn status(State(state): State<AppState>) -> Result<Response, ApiError> {
    Ok(Json(state.blocking(Node::status).await??).into_response())
}

/// Check liveness
///
/// 200 with the latest height while the node can read its ledger.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "node",
    operation_id = "healthz",
    responses(
        (status = 200, description = "Healthy.", body = schema::Health),
        (status = 500, description = "`internal`: the node cannot read its ledger.", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`shutting_down`: the node is stopping or its sequencer stopped on a fault.", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn healthz(State(state): State<AppState>) -> Result<Response, ApiError> {
    if state.node.is_stopping() {
        // Stopping, or the sequencer hit a storage fault: a load balancer should stop sending.
        return Err(ApiError::new(crate::error::ErrorCode::ShuttingDown, "the node is shutting down"));
    }
    let height = state.blocking(Node::status).await??.height;
    Ok(Json(serde_json::json!({ "status": "ok", "height": height })).into_response())
}

/// Get Prometheus metrics
///
/// The node's metrics followed by the HTTP server's, in the Prometheus text format 0.0.4.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "node",
    operation_id = "metrics",
    responses(
        (status = 200, description = "Prometheus text exposition.", body = String, content_type = "text/plain; version=0.0.4"),
    ),
)]
pub(crate) async fn metrics(State(state): State<AppState>) -> Response {
    let mut text = state.node.metrics_text();
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(&state.metrics.render());
    ([(header::CONTENT_TYPE, HeaderValue::from_static(PROMETHEUS_CONTENT_TYPE))], text).into_response()
}

/// Get this OpenAPI document
///
/// The OpenAPI 3.1 description of this API.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "node",
    operation_id = "openapi",
    responses(
        (status = 200, description = "The OpenAPI document.", body = Object, content_type = "application/json"),
    ),
)]
pub(crate) async fn openapi_json(State(state): State<AppState>) -> Response {
    (
        [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))],
        state.openapi_json.to_string(),
    )
        .into_response()
}

/// Fallback for paths no route matches.
pub(crate) async fn not_found() -> ApiError {
    ApiError::new(ErrorCode::NotFound, "no route matches this path")
}
