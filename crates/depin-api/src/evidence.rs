//! List Byzantine evidence recorded on the ledger (rules V-1 to V-3).

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::Json;
use depin_crypto::Address;
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, ErrorCode, Problem};
use crate::txs::query_rejection;
use crate::{schema, AppState};

/// Page size when `limit` is not given.
pub const DEFAULT_PAGE: u32 = 100;
/// Largest page.
pub const MAX_PAGE: u32 = 1_000;
/// Longest cursor (hex of an evidence key: 2 + 33 + 8 + 8 + 1 bytes).
const MAX_CURSOR_HEX: usize = 2 * 52;

/// Query of `GET /api/v1/evidence`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct EvidenceQuery {
    /// Only evidence against this validator's address.
    offender: Option<String>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Page size, 1 to 1000 (default 100).
    limit: Option<u32>,
}

/// A page of evidence.
#[derive(Serialize)]
pub(crate) struct EvidencePage {
    evidence: Vec<depin_types::evidence::EvidenceRecord>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    next_cursor: Option<String>,
}

fn invalid(parameter: &'static str, detail: String) -> ApiError {
    ApiError::new(ErrorCode::InvalidParameter, detail).with("parameter", parameter)
}

/// List recorded evidence
///
/// Faults proven by two conflicting consensus votes of one validator (conflicting notarize or
/// finalize votes, or a nullify and a finalize vote in one round), in order of offender address
/// and round. Each record names the reporting transaction, whose body holds the two signed votes.
#[utoipa::path(
    get,
    path = "/evidence",
    tag = "ledger",
    operation_id = "list_evidence",
    params(EvidenceQuery),
    responses(
        (status = 200, description = "A page of evidence.", body = schema::EvidencePage),
        (status = 400, description = "`invalid_parameter`: bad offender address, cursor or limit.", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    query: Result<Query<EvidenceQuery>, QueryRejection>,
) -> Result<Json<EvidencePage>, ApiError> {
    let Query(q) = query.map_err(query_rejection)?;
    let offender: Option<Address> = match &q.offender {
        None => None,
        Some(raw) => Some(raw.parse().map_err(|e| invalid("offender", format!("offender: {e}")))?),
    };
    let after = match &q.cursor {
        None => None,
        Some(c) if !c.is_empty() && c.len() <= MAX_CURSOR_HEX => {
            Some(hex::decode(c).map_err(|_| invalid("cursor", "cursor: not a cursor from a previous page".into()))?)
        }
        Some(_) => return Err(invalid("cursor", "cursor: not a cursor from a previous page".into())),
    };
    let limit = q.limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(invalid("limit", format!("limit: {limit} is not between 1 and {MAX_PAGE}")));
    }
    let page = state
        .blocking(move |n| n.evidence(offender.as_ref(), after.as_deref(), limit as usize + 1))
        .await??;
    let more = page.len() > limit as usize;
    let mut page = page;
    page.truncate(limit as usize);
    let next_cursor = if more { page.last().map(|(k, _)| hex::encode(k)) } else { None };
    Ok(Json(EvidencePage { evidence: page.into_iter().map(|(_, r)| r).collect(), next_cursor }))
}
