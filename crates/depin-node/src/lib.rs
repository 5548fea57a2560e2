//! Compose a depin node: home layout, config, mempool, chain port, local sequencer, metrics.
//!
//! **Boundary:** no HTTP here (depin-api) and no terminal (depin-cli). The node is a cheap-clone
//! handle ([`Node`]) used by both.

mod assets;
pub mod chain;
pub mod config;
pub mod home;
pub mod ingest;
mod market;
pub mod mempool;
pub mod metrics;
pub mod monitor;
mod node;
pub mod retention;
pub mod sequencer;
pub mod testing;

pub use assets::{
    AssetFilter, AssetPage, AssetStats, AssetView, LocationPage, NearAsset, QueryError, RegionCount, VendorPage,
    DEFAULT_REGION_RESOLUTION, MAX_CURSOR_BYTES, MAX_NEAR_RADIUS_KM, MAX_NEAR_SCAN, MAX_PAGE, MAX_STATS_REGIONS,
    MAX_STATS_SCAN, PAGE_SCAN_FACTOR,
};
pub use chain::{replay_from_genesis, BlockRejected, Chain, Committed, Proposal, StateOn};
pub use config::NodeConfig;
pub use home::{init_home, Home, InitOptions, InitReport};
pub use market::{
    CreditsView, LeaseFilter, LeasePage, LeaseView, MarketView, PriceView, WorkloadFilter, WorkloadPage,
    WorkloadStateFilter, WorkloadView, MAX_MARKET_CURSOR_BYTES, MAX_WORKLOAD_LEASE_SCAN,
};
pub use mempool::SubmitError;
pub use node::{
    read_genesis, read_node_key, AccountView, BlockView, GossipHook, MetricsSource, Node, NodeError, NodeEvent, ReplicationStatus, Status, TxStatus, ValidatorView,
};
pub use sequencer::SequencerHandle;
pub use ingest::{IngestError, IngestRecord, ReportResult};
pub use monitor::{AssetHealth, NetworkHealth, TelemetryHandle, TelemetryPage};
pub use retention::{LoggedBlockView, RetentionHandle, RetentionPass};
