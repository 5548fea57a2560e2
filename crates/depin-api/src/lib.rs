//! Serve a depin node over HTTP: JSON API, SSE events, Prometheus metrics and an OpenAPI 3.1 document.
//!
//! Routes (all JSON unless stated; every error is an RFC 9457 `application/problem+json`
//! document with a stable `code`, see [`error::ErrorCode`]):
//!
//! | method | path | what |
//! | --- | --- | --- |
//! | POST | `/api/v1/txs` | submit a transaction (JSON or canonical borsh bytes), optionally wait for commit |
//! | GET | `/api/v1/txs/{id}` | status of a transaction |
//! | GET | `/api/v1/accounts/{address}` | balance and nonce; `?prove=true` adds a state proof |
//! | GET | `/api/v1/blocks/{height}`, `/api/v1/blocks/latest` | a block with its receipts |
//! | GET | `/api/v1/evidence` | Byzantine faults recorded on the ledger, paginated (`offender`, `cursor`, `limit`) |
//! | GET | `/api/v1/assets` | assets, paginated, filtered by `owner`, `manager`, `vendor`, `class`, `status`, `cell`; or `near=LAT,LON&radius_km=` (nearest first, no cursor) |
//! | GET | `/api/v1/assets/{id}` | one asset by id (hex) or device `did:key`, with its effective status and bond; `?prove=true` adds a state proof |
//! | GET | `/api/v1/assets/{id}/locations` | an asset's asserted locations, oldest first, paginated |
//! | GET | `/api/v1/accounts/{address}/assets` | the assets an account owns, paginated (same filters) |
//! | GET | `/api/v1/cells/{cell}/assets` | the assets in an H3 cell and its descendants, paginated (same filters) |
//! | GET | `/api/v1/registry/stats` | asset counts per class, status and region (`cell`, `region_resolution`) |
//! | GET | `/api/v1/vendors` | device vendors, paginated |
//! | GET | `/api/v1/registry/params` | the registry parameters in force |
//! | GET | `/api/v1/workloads` | workloads, paginated, filtered by `consumer`, `state` |
//! | GET | `/api/v1/workloads/{id}` | one workload with its leases (open and closed) and why it is not placed |
//! | GET | `/api/v1/leases` | leases, paginated, filtered by `asset`, `consumer`, `workload`, `open` |
//! | GET | `/api/v1/leases/{id}` | one lease: asset, price, cost terms, state, paid |
//! | GET | `/api/v1/assets/{id}/price` | an asset's price sheet, capacity and reservations |
//! | GET | `/api/v1/accounts/{address}/credits` | an account's credits |
//! | GET | `/api/v1/market` | market parameters, book, queue sizes, last block's market events |
//! | GET | `/api/v1/status` | chain id, height, state root, mempool size… |
//! | GET | `/api/v1/events` | server-sent events: `block`, `health`, `alert`, market events (`placement`, `lease_closed`, `unplaced`, `escrow`, `workload_closed`), `lagged` |
//! | GET | `/api/v1/openapi.json` | this API's OpenAPI 3.1 document |
//! | GET | `/healthz` | liveness |
//! | GET | `/metrics` | Prometheus text: the node's metrics and HTTP counters |
//!
//! List routes answer `{"<items>": […], "next_cursor": "…"}`; pass `next_cursor` back as
//! `cursor` for the next page, and the last page has no `next_cursor`. Pages are bounded
//! (`limit` 1 to 1000, default 100), and a registry page examines at most 10 × `limit` index
//! entries, so it may be short and still have a cursor (see `depin_node` `assets`).

mod assets;
pub mod error;
mod events;
mod evidence;
mod info;
mod ledger;
mod market;
mod metrics;
mod schema;
mod txs;
mod telemetry;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::middleware::{from_fn_with_state, map_response};
use axum::Router;
use depin_node::Node;
use tokio::sync::watch;
use utoipa::OpenApi as _;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use error::{ApiError, ErrorCode, Problem};

/// Limits of the HTTP edge.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ApiLimits {
    /// Largest request body accepted, in bytes (default 1 MiB); larger bodies get 413.
    pub max_body_bytes: usize,
    /// Longest `timeout_ms` a client may ask for with `?wait=true` (default 30 000 ms).
    pub wait_timeout_ms_max: u64,
}

impl Default for ApiLimits {
    fn default() -> Self {
        ApiLimits { max_body_bytes: 1024 * 1024, wait_timeout_ms_max: 30_000 }
    }
}

/// Default `timeout_ms` of `POST /api/v1/txs?wait=true` (capped by [`ApiLimits::wait_timeout_ms_max`]).
pub const DEFAULT_WAIT_TIMEOUT_MS: u64 = 10_000;
/// Longest time a client may take to send a request body.
pub const BODY_TIMEOUT: Duration = Duration::from_secs(10);
/// Added to the longest allowed `wait=true` to bound any request.
pub const REQUEST_TIMEOUT_MARGIN: Duration = Duration::from_secs(5);
/// After shutdown is asked for, how long open connections may take to finish.
pub const DRAIN_DEADLINE: Duration = Duration::from_secs(10);

/// Interval between SSE keep-alive comments.
pub const SSE_KEEP_ALIVE: std::time::Duration = std::time::Duration::from_secs(15);

/// Shared state of all handlers.
#[derive(Clone)]
pub(crate) struct AppState {
    pub(crate) node: Node,
    pub(crate) limits: ApiLimits,
    pub(crate) metrics: Arc<metrics::HttpMetrics>,
    /// The OpenAPI document, serialized once.
    pub(crate) openapi_json: Arc<str>,
}

impl AppState {
    /// Run node work that blocks (redb reads, proofs, signature checks) on tokio's bounded
    /// blocking pool, never on an async worker (STYLE 13).
    pub(crate) async fn blocking<T, F>(&self, work: F) -> Result<T, error::ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&Node) -> T + Send + 'static,
    {
        let node = self.node.clone();
        tokio::task::spawn_blocking(move || work(&node))
            .await
            .map_err(|e| error::ApiError::internal("a blocking task failed", &e))
    }
}

/// Tells long-lived responses (SSE streams, `wait=true` submissions) that the server is shutting
/// down, so that graceful shutdown does not wait for them. Inserted as a request extension by
/// [`serve`]; absent when the router is driven directly (tests).
#[derive(Clone)]
pub(crate) struct Shutdown(watch::Receiver<bool>);

impl Shutdown {
    /// Resolve when shutdown starts (never, if `this` is `None`).
    pub(crate) async fn wait(this: Option<Shutdown>) {
        match this {
            Some(Shutdown(mut rx)) => {
                // An error means the sender is gone, i.e. the server has stopped: also shutdown.
                let _ = rx.wait_for(|stopping| *stopping).await;
            }
            None => std::future::pending().await,
        }
    }
}

/// The OpenAPI document's fixed parts; paths are added from the handlers by utoipa-axum.
#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "depin node API",
        description = "HTTP API of a depin ledger node. Errors are RFC 9457 problem documents \
                       (`application/problem+json`) with a stable `code` member.",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    components(schemas(
        Problem,
        schema::Hash32,
        schema::Address,
        schema::Amount,
        schema::PublicKey,
        schema::Signature,
        schema::HexBytes,
        schema::Transaction,
        schema::TransactionBytes,
        schema::TxContent,
        schema::TxBody,
        schema::TxStatus,
        schema::Receipt,
        schema::TxOutcome,
        schema::RejectReason,
        schema::Account,
        schema::StateProof,
        schema::BlockView,
        schema::Block,
        schema::BlockHeader,
        schema::Status,
        schema::Replication,
        schema::Validator,
        schema::Health,
        schema::Round,
        schema::VotedProposal,
        schema::Vote,
        schema::SignedVote,
        schema::Evidence,
        schema::EvidenceKind,
        schema::EvidenceProblem,
        schema::EvidenceRecord,
        schema::EvidencePage,
        schema::Event,
        schema::Cell,
        schema::Did,
        schema::AssetClass,
        schema::AssetStatus,
        schema::StatusReason,
        schema::OwnerStatus,
        schema::Mobility,
        schema::Band,
        schema::Arch,
        schema::Media,
        schema::Redundancy,
        schema::EnergySource,
        schema::SensorKind,
        schema::Algorithm,
        schema::WirelessCapacity,
        schema::Gpus,
        schema::ComputeCapacity,
        schema::StorageCapacity,
        schema::EnergyCapacity,
        schema::SensorCapacity,
        schema::MiningCapacity,
        schema::Capacity,
        schema::EnergyProfile,
        schema::AssetMetadata,
        schema::AttestationTier,
        schema::BondState,
        schema::Bond,
        schema::AssetView,
        schema::AssetPage,
        schema::LocationRecord,
        schema::LocationPage,
        schema::Vendor,
        schema::VendorPage,
        schema::RegistryParams,
        schema::ClassCounts,
        schema::StatusCounts,
        schema::RegionCount,
        schema::AssetStats,
        schema::AssetDescriptor,
        schema::VendorAttestation,
        schema::Registration,
        schema::AssetProblem,
        schema::ResourceUnit,
        schema::UnitPrice,
        schema::PriceSheet,
        schema::UnitAmount,
        schema::Near,
        schema::AntiAffinity,
        schema::MinTier,
        schema::WorkloadSpec,
        schema::MarketParams,
        schema::CloseReason,
        schema::WorkloadState,
        schema::EscrowNotice,
        schema::UnplacedReason,
        schema::CostTerms,
        schema::LeaseState,
        schema::Lease,
        schema::Workload,
        schema::WorkloadView,
        schema::WorkloadPage,
        schema::LeaseView,
        schema::LeasePage,
        schema::PriceView,
        schema::CreditsView,
        schema::MarketBook,
        schema::MarketEvent,
        schema::MarketEvents,
        schema::MarketView,
    )),
    tags(
        (name = "transactions", description = "Submit transactions and follow them"),
        (name = "ledger", description = "Read accounts and blocks"),
        (name = "registry", description = "Read the asset registry: assets, locations, counts, vendors, parameters"),
        (name = "market", description = "Read the market: workloads, leases, prices, credits, parameters"),
        (name = "node", description = "Node status, events, health, metrics and this document"),
    )
)]
struct ApiDoc;

/// Build the OpenAPI document and the axum routes together (state not yet attached).
fn parts() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let mut doc = ApiDoc::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_string();
    let v1 = OpenApiRouter::default()
        .routes(routes!(txs::submit))
        .routes(routes!(txs::get_tx))
        .routes(routes!(ledger::get_account))
        .routes(routes!(ledger::latest_block))
        .routes(routes!(ledger::block_by_height))
        .routes(routes!(evidence::list))
        .routes(routes!(assets::list))
        .routes(routes!(assets::get_asset))
        .routes(routes!(assets::locations))
        .routes(routes!(assets::by_owner))
        .routes(routes!(assets::in_cell))
        .routes(routes!(assets::stats))
        .routes(routes!(assets::vendors))
        .routes(routes!(assets::params))
        .routes(routes!(market::workloads))
        .routes(routes!(market::get_workload))
        .routes(routes!(market::leases))
        .routes(routes!(market::get_lease))
        .routes(routes!(market::price))
        .routes(routes!(market::credits))
        .routes(routes!(market::market))
        .routes(routes!(telemetry::ingest))
        .routes(routes!(telemetry::params))
        .routes(routes!(telemetry::recent))
        .routes(routes!(telemetry::health))
        .routes(routes!(telemetry::aggregates))
        .routes(routes!(telemetry::network))
        .routes(routes!(info::status))
        .routes(routes!(events::events))
        .routes(routes!(info::openapi_json));
    // Nest before splitting, or the paths lose their prefix.
    OpenApiRouter::with_openapi(doc)
        .nest("/api/v1", v1)
        .routes(routes!(info::healthz))
        .routes(routes!(info::metrics))
        .split_for_parts()
}

/// The OpenAPI 3.1 document of this API.
pub fn openapi() -> utoipa::openapi::OpenApi {
    parts().1
}

/// Build the HTTP router serving `node`.
pub fn router(node: Node, limits: ApiLimits) -> Router {
    let (routes, doc) = parts();
    let openapi_json = doc.to_pretty_json().expect("invariant: the OpenAPI document serializes");
    let state = AppState {
        node,
        limits,
        metrics: Arc::new(metrics::HttpMetrics::default()),
        openapi_json: Arc::from(openapi_json),
    };
    routes
        .fallback(info::not_found)
        .layer(DefaultBodyLimit::max(limits.max_body_bytes))
        // Refuse an oversized Content-Length before reading a byte of the body.
        .layer(tower_http::limit::RequestBodyLimitLayer::new(limits.max_body_bytes))
        // A client that trickles its body, or a request that outlives the longest allowed
        // wait, is cut off (408) instead of holding a connection and shutdown hostage.
        .layer(tower_http::timeout::RequestBodyTimeoutLayer::new(BODY_TIMEOUT))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            Duration::from_millis(limits.wait_timeout_ms_max) + REQUEST_TIMEOUT_MARGIN,
        ))
        // A panic in a handler is a bug: answer 500 problem+json (via the safety net below)
        // instead of dropping the connection.
        .layer(tower_http::catch_panic::CatchPanicLayer::new())
        .layer(from_fn_with_state(state.clone(), metrics::track))
        .layer(map_response(error::problem_safety_net))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

/// Serve `router` on `listener` until `shutdown` resolves, then stop accepting connections, end
/// open event streams and pending waits, and return once in-flight requests have finished.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (tx, rx) = watch::channel(false);
    let mut stopping = rx.clone();
    let router = router.layer(axum::Extension(Shutdown(rx)));
    let signal = async move {
        shutdown.await;
        tracing::info!("HTTP server shutting down");
        // Receivers also treat the sender being dropped right after as shutdown.
        let _ = tx.send(true);
    };
    let server = axum::serve(listener, router).with_graceful_shutdown(signal);
    // Graceful shutdown waits for open connections; a client that never finishes must not
    // keep the node up: after DRAIN_DEADLINE the remaining connections are dropped.
    let deadline = async move {
        let _ = stopping.wait_for(|s| *s).await;
        tokio::time::sleep(DRAIN_DEADLINE).await;
        tracing::warn!("connections still open {DRAIN_DEADLINE:?} after shutdown; closing them");
    };
    tokio::select! {
        result = server => result,
        () = deadline => Ok(()),
    }
}
