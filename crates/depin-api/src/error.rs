//! Turn every failure into one RFC 9457 `application/problem+json` response with a stable code.
//!
//! [`ApiError`] is the only place an error body is built. Axum's own rejections (unknown route,
//! wrong method, body too large, bad path or query) are either mapped to an [`ApiError`] by the
//! handlers or, as a safety net, by [`problem_safety_net`], which rewrites any error response
//! that is not already a problem document.
//!
//! | code | status | when |
//! | --- | --- | --- |
//! | `malformed_transaction` | 400 | body is not a transaction: bad JSON, unknown field, wrong type, bad or trailing borsh bytes, empty, chain id over 64 bytes |
//! | `invalid_parameter` | 400 | bad path segment (address, tx id, height, asset id or did:key, cell) or query (`wait`, `timeout_ms` over the limit, `prove`, filters, cursor, limit, radius, unknown parameter); registry routes add member `parameter` |
//! | `bad_request` | 400 | any other bare 4xx from the framework (safety net only; not expected) |
//! | `not_found` | 404 | no route matches |
//! | `transaction_not_found` | 404 | `GET /txs/{id}`: neither pending nor committed |
//! | `block_not_found` | 404 | no block at that height (or none yet for `latest`) |
//! | `asset_not_found` | 404 | `GET /assets/{id}` (and its locations): no asset with that id or device key; member `id` |
//! | `workload_not_found` | 404 | `GET /workloads/{id}`: no workload with that id; member `id` |
//! | `lease_not_found` | 404 | `GET /leases/{id}`: no lease with that id; member `id` |
//! | `method_not_allowed` | 405 | route exists, method does not (`Allow` header kept) |
//! | `nonce_too_low` | 409 | nonce already used (a replay); members `expected`, `got` |
//! | `duplicate_transaction` | 409 | same transaction, or same sender and nonce, already pending |
//! | `payload_too_large` | 413 | body over `max_body_bytes`, or encoded transaction over 16 KiB; member `limit` |
//! | `unsupported_media_type` | 415 | `Content-Type` missing or not JSON / octet-stream |
//! | `wrong_chain_id` | 422 | transaction for another chain; member `expected` |
//! | `bad_signature` | 422 | signature does not verify |
//! | `nonce_too_high` | 422 | nonce beyond the sender's window; members `expected_max`, `got` |
//! | `fee_too_low` | 422 | fee under `min_fee`; member `min_fee` |
//! | `unknown_account` | 422 | the sender account does not exist |
//! | `query_too_broad` | 422 | a near query or asset count would examine more than its bound; member `limit` |
//! | `bad_possession_proof` | 422 | a registration's device proof of possession or vendor attestation does not verify; member `index` |
//! | `invalid_evidence` | 422 | an evidence report proves no fault by a validator; member `problem` |
//! | `evidence_already_recorded` | 409 | an evidence report for a fault already on the ledger |
//! | `sender_queue_full` | 429 | too many pending from this sender; `Retry-After: 1`; member `limit` |
//! | `mempool_full` | 429 | mempool full; `Retry-After: 1`; member `limit` |
//! | `internal` | 500 | storage or other internal fault; generic detail, real error logged |
//! | `shutting_down` | 503 | the node is stopping |
//! | `unavailable` | 503 | a storage fault while admitting (logged); retry later |
//! | `request_timeout` | 408 | the body arrived too slowly, or the request outlived the longest wait |
//! | `malformed_telemetry` | 400 | `POST /telemetry`: bad JSON, unknown field, bad borsh, trailing bytes, no reports |
//! | `telemetry_batch_too_large` | 413 | `POST /telemetry`: more than 1024 reports; member `limit` |
//! | `ingest_overloaded` | 429 | `POST /telemetry`: the ingest queue is full; `Retry-After` in seconds; member `queued` |
//!
//! Rule of thumb: 400 = not well-formed, 422 = well-formed but invalid, 409 = conflicts with
//! ledger or mempool state, 429 = back off and retry.

use axum::body::Body;
use axum::http::{header, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use depin_node::{NodeError, QueryError, SubmitError};
use serde::Serialize;

/// Media type of every error body.
pub const PROBLEM_CONTENT_TYPE: &str = "application/problem+json";

/// Prefix of the `type` URI of every problem; the stable code follows it.
pub const PROBLEM_TYPE_BASE: &str = "https://depin.dev/problems/";

/// A stable, machine-readable error code. The string form ([`ErrorCode::as_str`]) never changes
/// once published; clients and the CLI switch on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// 400: the request body is not a well-formed transaction (bad JSON, unknown field, bad
    /// borsh, trailing bytes, structural rule broken).
    MalformedTransaction,
    /// 400: a path segment or query parameter is not valid.
    InvalidParameter,
    /// 400: some other malformed request (only produced by the safety net).
    BadRequest,
    /// 404: no route matches the path.
    NotFound,
    /// 404: the transaction is neither pending nor committed.
    TransactionNotFound,
    /// 404: no block at that height.
    BlockNotFound,
    /// 404: no asset with that id (or device key).
    AssetNotFound,
    /// 404: no workload with that id.
    WorkloadNotFound,
    /// 404: no lease with that id.
    LeaseNotFound,
    /// 405: the route exists but not with this method.
    MethodNotAllowed,
    /// 409: the nonce was already used by a committed transaction.
    NonceTooLow,
    /// 409: the same transaction is already pending.
    DuplicateTransaction,
    /// 413: the body (or the encoded transaction) is over the limit.
    PayloadTooLarge,
    /// 415: the content type is neither JSON nor octet-stream.
    UnsupportedMediaType,
    /// 422: the transaction is for another chain.
    WrongChainId,
    /// 422: the signature does not verify.
    BadSignature,
    /// 422: the nonce is too far ahead of the account's nonce.
    NonceTooHigh,
    /// 422: the fee is under the minimum.
    FeeTooLow,
    /// 422: the sender account does not exist yet (fund it first).
    UnknownAccount,
    /// 422: an evidence report proves no fault by a validator.
    InvalidEvidence,
    /// 422: a registration's proof of possession or vendor attestation does not verify.
    BadPossessionProof,
    /// 409: the reported fault is already on the ledger.
    EvidenceAlreadyRecorded,
    /// 422: a registry query would examine more entries than its bound; narrow it.
    QueryTooBroad,
    /// 429: the sender has too many pending transactions.
    SenderQueueFull,
    /// 429: the mempool is full.
    MempoolFull,
    /// 500: an internal failure; details are logged, not returned.
    Internal,
    /// 503: the node is shutting down.
    ShuttingDown,
    /// 503: the node cannot serve the request now (a storage fault, logged); retry later.
    Unavailable,
    /// 408: the request or its body took too long.
    RequestTimeout,
    /// 400: the body is not a batch of telemetry reports.
    MalformedTelemetry,
    /// 413: more reports in one request than the batch limit.
    TelemetryBatchTooLarge,
    /// 429: the ingest queue is full; retry after `Retry-After` seconds.
    IngestOverloaded,
}

impl ErrorCode {
    /// Every code, for documentation and tests.
    pub const ALL: [ErrorCode; 32] = [
        ErrorCode::MalformedTransaction,
        ErrorCode::InvalidParameter,
        ErrorCode::BadRequest,
        ErrorCode::NotFound,
        ErrorCode::TransactionNotFound,
        ErrorCode::BlockNotFound,
        ErrorCode::AssetNotFound,
        ErrorCode::WorkloadNotFound,
        ErrorCode::LeaseNotFound,
        ErrorCode::MethodNotAllowed,
        ErrorCode::NonceTooLow,
        ErrorCode::DuplicateTransaction,
        ErrorCode::PayloadTooLarge,
        ErrorCode::UnsupportedMediaType,
        ErrorCode::WrongChainId,
        ErrorCode::BadSignature,
        ErrorCode::NonceTooHigh,
        ErrorCode::FeeTooLow,
        ErrorCode::UnknownAccount,
        ErrorCode::InvalidEvidence,
        ErrorCode::BadPossessionProof,
        ErrorCode::EvidenceAlreadyRecorded,
        ErrorCode::QueryTooBroad,
        ErrorCode::SenderQueueFull,
        ErrorCode::MempoolFull,
        ErrorCode::Internal,
        ErrorCode::ShuttingDown,
        ErrorCode::Unavailable,
        ErrorCode::RequestTimeout,
        ErrorCode::MalformedTelemetry,
        ErrorCode::TelemetryBatchTooLarge,
        ErrorCode::IngestOverloaded,
    ];

    /// The stable code string.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::MalformedTransaction => "malformed_transaction",
            ErrorCode::InvalidParameter => "invalid_parameter",
            ErrorCode::BadRequest => "bad_request",
            ErrorCode::NotFound => "not_found",
            ErrorCode::TransactionNotFound => "transaction_not_found",
            ErrorCode::BlockNotFound => "block_not_found",
            ErrorCode::AssetNotFound => "asset_not_found",
            ErrorCode::WorkloadNotFound => "workload_not_found",
            ErrorCode::LeaseNotFound => "lease_not_found",
            ErrorCode::MethodNotAllowed => "method_not_allowed",
            ErrorCode::NonceTooLow => "nonce_too_low",
            ErrorCode::DuplicateTransaction => "duplicate_transaction",
            ErrorCode::PayloadTooLarge => "payload_too_large",
            ErrorCode::UnsupportedMediaType => "unsupported_media_type",
            ErrorCode::WrongChainId => "wrong_chain_id",
            ErrorCode::BadSignature => "bad_signature",
            ErrorCode::NonceTooHigh => "nonce_too_high",
            ErrorCode::FeeTooLow => "fee_too_low",
            ErrorCode::UnknownAccount => "unknown_account",
            ErrorCode::InvalidEvidence => "invalid_evidence",
            ErrorCode::BadPossessionProof => "bad_possession_proof",
            ErrorCode::EvidenceAlreadyRecorded => "evidence_already_recorded",
            ErrorCode::QueryTooBroad => "query_too_broad",
            ErrorCode::SenderQueueFull => "sender_queue_full",
            ErrorCode::MempoolFull => "mempool_full",
            ErrorCode::Internal => "internal",
            ErrorCode::ShuttingDown => "shutting_down",
            ErrorCode::Unavailable => "unavailable",
            ErrorCode::RequestTimeout => "request_timeout",
            ErrorCode::MalformedTelemetry => "malformed_telemetry",
            ErrorCode::TelemetryBatchTooLarge => "telemetry_batch_too_large",
            ErrorCode::IngestOverloaded => "ingest_overloaded",
        }
    }

    /// The HTTP status of this code.
    pub fn status(self) -> StatusCode {
        match self {
            ErrorCode::MalformedTransaction
            | ErrorCode::InvalidParameter
            | ErrorCode::BadRequest
            | ErrorCode::MalformedTelemetry => {
                StatusCode::BAD_REQUEST
            }
            ErrorCode::NotFound
            | ErrorCode::TransactionNotFound
            | ErrorCode::BlockNotFound
            | ErrorCode::AssetNotFound
            | ErrorCode::WorkloadNotFound
            | ErrorCode::LeaseNotFound => StatusCode::NOT_FOUND,
            ErrorCode::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ErrorCode::NonceTooLow | ErrorCode::DuplicateTransaction | ErrorCode::EvidenceAlreadyRecorded => {
                StatusCode::CONFLICT
            }
            ErrorCode::PayloadTooLarge | ErrorCode::TelemetryBatchTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::WrongChainId
            | ErrorCode::BadSignature
            | ErrorCode::NonceTooHigh
            | ErrorCode::FeeTooLow
            | ErrorCode::UnknownAccount
            | ErrorCode::InvalidEvidence
            | ErrorCode::BadPossessionProof
            | ErrorCode::QueryTooBroad => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::SenderQueueFull | ErrorCode::MempoolFull | ErrorCode::IngestOverloaded => {
                StatusCode::TOO_MANY_REQUESTS
            }
            ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::ShuttingDown | ErrorCode::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
        }
    }

    /// The stable human title of this code (RFC 9457: the same for every occurrence).
    pub fn title(self) -> &'static str {
        match self {
            ErrorCode::MalformedTransaction => "Malformed transaction",
            ErrorCode::InvalidParameter => "Invalid parameter",
            ErrorCode::BadRequest => "Bad request",
            ErrorCode::NotFound => "Not found",
            ErrorCode::TransactionNotFound => "Transaction not found",
            ErrorCode::BlockNotFound => "Block not found",
            ErrorCode::AssetNotFound => "Asset not found",
            ErrorCode::WorkloadNotFound => "Workload not found",
            ErrorCode::LeaseNotFound => "Lease not found",
            ErrorCode::MethodNotAllowed => "Method not allowed",
            ErrorCode::NonceTooLow => "Nonce already used",
            ErrorCode::DuplicateTransaction => "Duplicate transaction",
            ErrorCode::PayloadTooLarge => "Payload too large",
            ErrorCode::UnsupportedMediaType => "Unsupported media type",
            ErrorCode::WrongChainId => "Wrong chain id",
            ErrorCode::BadSignature => "Bad signature",
            ErrorCode::NonceTooHigh => "Nonce too high",
            ErrorCode::FeeTooLow => "Fee too low",
            ErrorCode::UnknownAccount => "Unknown sender account",
            ErrorCode::InvalidEvidence => "Invalid evidence",
            ErrorCode::BadPossessionProof => "Bad proof of possession",
            ErrorCode::EvidenceAlreadyRecorded => "Evidence already recorded",
            ErrorCode::QueryTooBroad => "Query too broad",
            ErrorCode::SenderQueueFull => "Sender queue full",
            ErrorCode::MempoolFull => "Mempool full",
            ErrorCode::Internal => "Internal error",
            ErrorCode::ShuttingDown => "Shutting down",
            ErrorCode::Unavailable => "Unavailable",
            ErrorCode::RequestTimeout => "Request timeout",
            ErrorCode::MalformedTelemetry => "Malformed telemetry",
            ErrorCode::TelemetryBatchTooLarge => "Telemetry batch too large",
            ErrorCode::IngestOverloaded => "Ingest overloaded",
        }
    }

    /// The `type` URI of this code.
    pub fn type_uri(self) -> String {
        format!("{PROBLEM_TYPE_BASE}{}", self.as_str())
    }

    /// The generic code for a bare HTTP error status (used by the safety net).
    fn for_status(status: StatusCode) -> ErrorCode {
        match status {
            StatusCode::NOT_FOUND => ErrorCode::NotFound,
            StatusCode::METHOD_NOT_ALLOWED => ErrorCode::MethodNotAllowed,
            StatusCode::PAYLOAD_TOO_LARGE => ErrorCode::PayloadTooLarge,
            StatusCode::UNSUPPORTED_MEDIA_TYPE => ErrorCode::UnsupportedMediaType,
            StatusCode::SERVICE_UNAVAILABLE => ErrorCode::ShuttingDown,
            StatusCode::REQUEST_TIMEOUT => ErrorCode::RequestTimeout,
            s if s.is_server_error() => ErrorCode::Internal,
            _ => ErrorCode::BadRequest,
        }
    }
}

/// The RFC 9457 problem document, as serialized. Some codes add extension members next to
/// these (`expected`, `got`, `limit`, `min_fee`, `parameter`, …).
#[derive(Clone, Debug, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[schema(as = Problem)]
pub struct Problem {
    /// `https://depin.dev/problems/<code>`.
    #[serde(rename = "type")]
    #[schema(example = "https://depin.dev/problems/invalid_parameter")]
    pub type_uri: String,
    /// Stable per code.
    #[schema(example = "Invalid parameter")]
    pub title: String,
    /// The HTTP status code.
    #[schema(example = 400)]
    pub status: u16,
    /// What went wrong in this occurrence, for humans.
    #[schema(example = "address: not a valid address: invalid character")]
    pub detail: String,
    /// The stable machine-readable code.
    #[schema(example = "invalid_parameter")]
    pub code: String,
    /// Code-specific extension members (for example `expected` and `got` of `nonce_too_low`),
    /// serialized inline next to the standard members.
    #[serde(flatten)]
    #[schema(ignore)]
    pub extensions: serde_json::Map<String, serde_json::Value>,
}

/// An error of the API: a code, a detail for humans, extension members and extra headers.
#[derive(Clone, Debug)]
pub struct ApiError {
    code: ErrorCode,
    status: StatusCode,
    detail: String,
    extensions: serde_json::Map<String, serde_json::Value>,
    headers: Vec<(HeaderName, HeaderValue)>,
}

impl ApiError {
    /// An error with `code`'s status and a detail message.
    pub fn new(code: ErrorCode, detail: impl Into<String>) -> ApiError {
        ApiError {
            code,
            status: code.status(),
            detail: detail.into(),
            extensions: serde_json::Map::new(),
            headers: Vec::new(),
        }
    }

    /// A 500 with a generic detail; the real cause is logged here, never returned.
    pub fn internal(context: &str, cause: &dyn std::fmt::Display) -> ApiError {
        tracing::error!(context, error = %cause, "internal error while serving a request");
        ApiError::new(ErrorCode::Internal, "internal error; see the node's log")
    }

    /// Add an extension member.
    pub fn with(mut self, key: &str, value: impl Into<serde_json::Value>) -> ApiError {
        self.extensions.insert(key.to_string(), value.into());
        self
    }

    /// Add a response header.
    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> ApiError {
        self.headers.push((name, value));
        self
    }

    /// The code.
    pub fn code(&self) -> ErrorCode {
        self.code
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The problem document.
    pub fn problem(&self) -> Problem {
        Problem {
            type_uri: self.code.type_uri(),
            title: self.code.title().to_string(),
            status: self.status.as_u16(),
            detail: self.detail.clone(),
            code: self.code.as_str().to_string(),
            extensions: self.extensions.clone(),
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}): {}", self.code.as_str(), self.status.as_u16(), self.detail)
    }
}

impl std::error::Error for ApiError {}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::to_vec(&self.problem())
            .expect("invariant: a problem document always serializes");
        let mut response = Response::new(Body::from(body));
        *response.status_mut() = self.status;
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_CONTENT_TYPE));
        for (name, value) in self.headers {
            headers.insert(name, value);
        }
        response
    }
}

impl From<SubmitError> for ApiError {
    fn from(e: SubmitError) -> ApiError {
        let detail = e.to_string();
        let retry_after = || (header::RETRY_AFTER, HeaderValue::from_static("1"));
        match e {
            SubmitError::WrongChainId { expected } => {
                ApiError::new(ErrorCode::WrongChainId, detail).with("expected", expected)
            }
            SubmitError::BadSignature => ApiError::new(ErrorCode::BadSignature, detail),
            SubmitError::NonceTooLow { expected, got } => ApiError::new(ErrorCode::NonceTooLow, detail)
                .with("expected", expected)
                .with("got", got),
            SubmitError::NonceTooHigh { expected_max, got } => {
                ApiError::new(ErrorCode::NonceTooHigh, detail)
                    .with("expected_max", expected_max)
                    .with("got", got)
            }
            SubmitError::FeeTooLow { min_fee } => {
                ApiError::new(ErrorCode::FeeTooLow, detail).with("min_fee", min_fee.to_string())
            }
            SubmitError::Duplicate => ApiError::new(ErrorCode::DuplicateTransaction, detail),
            SubmitError::SenderFull { limit } => {
                let (n, v) = retry_after();
                ApiError::new(ErrorCode::SenderQueueFull, detail).with("limit", limit).with_header(n, v)
            }
            SubmitError::MempoolFull { limit } => {
                let (n, v) = retry_after();
                ApiError::new(ErrorCode::MempoolFull, detail).with("limit", limit).with_header(n, v)
            }
            SubmitError::ShuttingDown => ApiError::new(ErrorCode::ShuttingDown, detail),
            SubmitError::UnknownAccount => ApiError::new(ErrorCode::UnknownAccount, detail),
            SubmitError::Unavailable => ApiError::new(ErrorCode::Unavailable, detail),
            SubmitError::InvalidEvidence { problem } => {
                let problem = serde_json::to_value(problem).unwrap_or_default();
                ApiError::new(ErrorCode::InvalidEvidence, detail).with("problem", problem)
            }
            SubmitError::EvidenceAlreadyRecorded => ApiError::new(ErrorCode::EvidenceAlreadyRecorded, detail),
            SubmitError::BadPossessionProof { index } => {
                ApiError::new(ErrorCode::BadPossessionProof, detail).with("index", index)
            }
        }
    }
}

impl From<NodeError> for ApiError {
    fn from(e: NodeError) -> ApiError {
        ApiError::internal("node", &e)
    }
}

impl From<QueryError> for ApiError {
    fn from(e: QueryError) -> ApiError {
        let detail = e.to_string();
        let invalid = |parameter: &str| ApiError::new(ErrorCode::InvalidParameter, detail.clone()).with("parameter", parameter);
        match e {
            QueryError::Node(e) => e.into(),
            QueryError::CellTooFine { .. } => invalid("cell"),
            QueryError::RegionResolution { .. } => invalid("region_resolution"),
            QueryError::Radius { .. } => invalid("radius_km"),
            QueryError::Limit { .. } => invalid("limit"),
            QueryError::Cursor => invalid("cursor"),
            QueryError::TooBroad { max_entries, .. } => {
                ApiError::new(ErrorCode::QueryTooBroad, detail).with("limit", max_entries)
            }
        }
    }
}

/// Rewrite any error response that is not already a problem document (axum's bare 404 of the
/// fallback, 405 of a method router, 413 of a body limit, …) into one, keeping its status and
/// headers (such as `Allow`).
pub async fn problem_safety_net(response: Response) -> Response {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with(PROBLEM_CONTENT_TYPE));
    if is_problem {
        return response;
    }
    let (parts, _body) = response.into_parts();
    let code = ErrorCode::for_status(status);
    let detail = match code {
        ErrorCode::NotFound => "no route matches this path".to_string(),
        ErrorCode::MethodNotAllowed => {
            let allow = parts.headers.get(header::ALLOW).and_then(|v| v.to_str().ok());
            match allow {
                Some(a) if !a.is_empty() => format!("this route allows only: {a}"),
                _ => "this route does not allow this method".to_string(),
            }
        }
        ErrorCode::Internal => {
            tracing::error!(%status, "an error response without a problem body was produced");
            "internal error; see the node's log".to_string()
        }
        _ => status.canonical_reason().unwrap_or("error").to_string(),
    };
    let mut error = ApiError::new(code, detail);
    error.status = status;
    let mut out = error.into_response();
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            out.headers_mut().insert(name.clone(), value.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_snake_case_and_titled() {
        let mut seen = std::collections::BTreeSet::new();
        for code in ErrorCode::ALL {
            let s = code.as_str();
            assert!(seen.insert(s), "duplicate code {s}");
            assert!(s.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'), "{s}");
            assert!(!code.title().is_empty());
            assert!(code.status().is_client_error() || code.status().is_server_error());
        }
    }

    #[test]
    fn registry_query_errors_name_their_parameter_or_bound() {
        let e = ApiError::from(QueryError::TooBroad { max_entries: 100_000, what: "index entries", hint: "use a smaller radius" });
        assert_eq!((e.code(), e.status()), (ErrorCode::QueryTooBroad, StatusCode::UNPROCESSABLE_ENTITY));
        assert_eq!(e.problem().extensions["limit"], 100_000);
        assert!(e.problem().detail.contains("use a smaller radius"), "{}", e.problem().detail);
        for (error, parameter) in [
            (QueryError::Cursor, "cursor"),
            (QueryError::Limit { limit: 0, max: 1_000 }, "limit"),
            (QueryError::Radius { radius_km: 0.0, max_km: 500.0 }, "radius_km"),
            (QueryError::RegionResolution { resolution: 13, registry_resolution: 12 }, "region_resolution"),
        ] {
            let e = ApiError::from(error);
            assert_eq!(e.code(), ErrorCode::InvalidParameter);
            assert_eq!(e.problem().extensions["parameter"], parameter);
        }
        let internal = ApiError::from(QueryError::Node(NodeError::Storage("disk on fire at /var/x".into())));
        assert_eq!(internal.code(), ErrorCode::Internal);
        assert!(!internal.problem().detail.contains("/var/x"), "no internals leak");
        assert_eq!(ErrorCode::AssetNotFound.status(), StatusCode::NOT_FOUND);
    }

    #[test]
    fn problem_has_the_rfc_9457_members() {
        let e = ApiError::new(ErrorCode::NonceTooLow, "nonce 1 was used").with("expected", 2);
        let v = serde_json::to_value(e.problem()).unwrap();
        assert_eq!(v["type"], "https://depin.dev/problems/nonce_too_low");
        assert_eq!(v["title"], "Nonce already used");
        assert_eq!(v["status"], 409);
        assert_eq!(v["code"], "nonce_too_low");
        assert_eq!(v["expected"], 2);
    }
}
