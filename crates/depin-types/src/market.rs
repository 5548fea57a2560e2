//! Define the market: providers' price sheets, usage credits (burn-and-mint), consumers'
//! workloads with their constraints and escrow, and the leases that place their replicas on
//! assets (spec section K, `docs/spec/market.md`).
//!
//! Consumers pay in **credits**: non-transferable units pegged to a reference price, minted by
//! burning native tokens at the `credits_per_token` price parameter. Providers are paid in
//! **native tokens**, minted at settlement at the same price from the credits the consumer's
//! escrow spent (burn-and-mint; ADR 0019). Every amount is an integer in base units; rounding
//! always favours the escrow (a provider is never paid more than the credits spent).

use borsh::{BorshDeserialize, BorshSerialize};
use depin_crypto::Address;
use depin_geo::Cell;
use serde::{Deserialize, Serialize};

use crate::amount::Amount;
use crate::asset::{AssetClass, AssetId, Capacity, ResourceUnit};

/// Resource dimensions the allocator reserves per replica (their meaning is set per class by
/// [`reservable_units`]).
pub const DIMS: usize = 4;
/// Most replicas of one workload.
pub const MAX_REPLICAS: u16 = 16;
/// Most region cells in a workload spec.
pub const MAX_REGION_CELLS: usize = 64;
/// Most workloads waiting for placement at once (new submissions are refused beyond).
pub const MAX_PENDING_WORKLOADS: usize = 10_000;
/// Most open leases network-wide (placements stop beyond; the reason says so).
pub const MAX_OPEN_LEASES: usize = 200_000;
/// Most priced assets per class (offers beyond are refused with a reason).
pub const MAX_OFFERS_PER_CLASS: usize = 200_000;
/// Most epochs a workload may run.
pub const MAX_DURATION_EPOCHS: u32 = 1_000_000;

/// The units an asset of `class` sells by reservation, in dimension order (at most [`DIMS`]).
pub fn reservable_units(class: AssetClass) -> &'static [ResourceUnit] {
    match class {
        AssetClass::Compute => &[ResourceUnit::VcpuEpoch, ResourceUnit::MemoryGibEpoch, ResourceUnit::GpuEpoch],
        AssetClass::Storage => &[ResourceUnit::GbEpochStored],
        AssetClass::Wireless => &[ResourceUnit::CoverageCellEpoch],
        AssetClass::Energy => &[ResourceUnit::KwhStored],
        AssetClass::Sensor => &[ResourceUnit::StreamEpoch],
        AssetClass::Mining => &[ResourceUnit::HashrateThEpoch],
    }
}

/// What an asset can sell per dimension, from its declared capacity.
pub fn capacity_units(capacity: &Capacity) -> [u64; DIMS] {
    match capacity {
        Capacity::Compute(c) => {
            let gpus: u64 = c.gpus.iter().map(|g| u64::from(g.count)).sum();
            [u64::from(c.cpu_cores), c.memory_mib / 1_024, gpus, 0]
        }
        Capacity::Storage(c) => [c.bytes / 1_000_000_000, 0, 0, 0],
        Capacity::Wireless(_) => [1, 0, 0, 0],
        Capacity::Energy(c) => [c.storage_wh / 1_000, 0, 0, 0],
        Capacity::Sensor(c) => [c.kinds.len() as u64, 0, 0, 0],
        Capacity::Mining(c) => [c.hashrate_hps / 1_000_000_000_000, 0, 0, 0],
    }
}

/// A provider's prices for one asset (state key `k/p/<asset>`).
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriceSheet {
    /// Credits per unit per epoch, one entry per reservable unit of the asset's class (units
    /// left out are not for sale: a workload asking for them does not fit), plus optionally
    /// the class's metered unit ([`metered_unit`]: credits per unit served, charged from
    /// telemetry).
    pub prices: Vec<UnitPrice>,
    /// Shortest lease the provider accepts, in epochs (0: any).
    #[serde(default)]
    pub min_lease_epochs: u32,
}

/// A price for one unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnitPrice {
    /// The unit.
    pub unit: ResourceUnit,
    /// Credits (base units) per unit per epoch.
    pub price: Amount,
}

/// The unit a class can charge by use, and how many of [`crate::telemetry::TelemetryEpoch`]'s
/// `served` make one: GB served (bytes) for wireless and storage, kWh delivered (Wh produced)
/// for energy, readings for sensors; `None` for compute and mining.
pub fn metered_unit(class: AssetClass) -> Option<(ResourceUnit, u128)> {
    match class {
        AssetClass::Wireless | AssetClass::Storage => Some((ResourceUnit::GbServed, 1_000_000_000)),
        AssetClass::Energy => Some((ResourceUnit::KwhDelivered, 1_000)),
        AssetClass::Sensor => Some((ResourceUnit::Reading, 1)),
        AssetClass::Compute | AssetClass::Mining => None,
    }
}

impl PriceSheet {
    /// Per-dimension prices for `class`, or the problem (rule K-2). Units not listed are priced
    /// at `u64::MAX` (not for sale). At least one reservable unit must be priced.
    pub fn per_dim(&self, class: AssetClass) -> Result<[u64; DIMS], String> {
        let units = reservable_units(class);
        let metered = metered_unit(class).map(|(u, _)| u);
        let mut out = [u64::MAX; DIMS];
        let reservable = self.prices.iter().filter(|p| Some(p.unit) != metered).count();
        if reservable == 0 || reservable > units.len() || self.prices.len() > reservable + 1 {
            return Err(format!(
                "give 1 to {} prices of reservable units for a {} asset, and at most one metered price",
                units.len(),
                class.name()
            ));
        }
        for p in &self.prices {
            if Some(p.unit) == metered {
                u64::try_from(p.price.0).ok().filter(|v| *v < u64::MAX).ok_or("price too large")?;
                continue;
            }
            let Some(d) = units.iter().position(|u| *u == p.unit) else {
                return Err(format!("a {} asset does not sell {:?}", class.name(), p.unit));
            };
            if out[d] != u64::MAX {
                return Err(format!("{:?} is priced twice", p.unit));
            }
            out[d] = u64::try_from(p.price.0).ok().filter(|v| *v < u64::MAX).ok_or("price too large")?;
        }
        Ok(out)
    }

    /// Credits per metered unit of `class` ([`metered_unit`]); 0 when the sheet prices none.
    pub fn metered_price(&self, class: AssetClass) -> u64 {
        let Some((unit, _)) = metered_unit(class) else { return 0 };
        self.prices
            .iter()
            .find(|p| p.unit == unit)
            .map_or(0, |p| u64::try_from(p.price.0).unwrap_or(u64::MAX))
    }
}

/// Anti-affinity between a workload's replicas.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AntiAffinity {
    /// Every replica on an asset of a different owner.
    #[serde(default)]
    pub distinct_owners: bool,
    /// Every replica in a different H3 cell at this resolution (0–15).
    #[serde(default)]
    pub distinct_cells_res: Option<u8>,
    /// Every replica on a different energy source.
    #[serde(default)]
    pub distinct_energy: bool,
}

/// A point and a distance.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Near {
    /// The point, as a cell at the registry resolution.
    pub cell: Cell,
    /// Farthest allowed distance in metres (0: no limit, distance only costs).
    #[serde(default)]
    pub max_m: u64,
}

/// Weakest identity tier a workload accepts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MinTier {
    /// Any registered asset.
    #[default]
    SelfDeclared,
    /// Only assets whose device key a (non-revoked) vendor signed.
    VendorAttested,
}

/// What a consumer asks for (rule K-4). JSON and TOML forms: `docs/spec/market.md`.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkloadSpec {
    /// A name for people (0–64 bytes).
    #[serde(default)]
    pub name: String,
    /// Asset class.
    pub class: AssetClass,
    /// Per replica: amount of each reservable unit of the class.
    pub resources: Vec<UnitAmount>,
    /// Number of replicas, 1 to 16.
    pub replicas: u16,
    /// Allowed regions (H3 cells of any resolution up to the registry's); empty: anywhere.
    #[serde(default)]
    pub regions: Vec<Cell>,
    /// A point to stay close to (distance costs `distance_penalty_per_km`).
    #[serde(default)]
    pub near: Option<Near>,
    /// Keep replicas apart.
    #[serde(default)]
    pub anti_affinity: AntiAffinity,
    /// Weakest identity tier accepted.
    #[serde(default)]
    pub min_tier: MinTier,
    /// Lowest recent uptime accepted, per mille.
    #[serde(default)]
    pub min_uptime_permille: u16,
    /// Only assets whose energy source is solar, wind or hydro.
    #[serde(default)]
    pub green_only: bool,
    /// How many epochs it runs once placed.
    pub duration_epochs: u32,
    /// Highest price per replica per epoch, credits.
    pub max_price: Amount,
    /// Uptime (per mille) a replica must prove in an epoch to be paid for it; below it the
    /// epoch is an SLA breach and the consumer keeps the credits.
    #[serde(default = "default_sla")]
    pub sla_uptime_permille: u16,
    /// Compute only: run on assets whose GPUs are all of this model (`a-z 0-9 - _ .`, as the
    /// registry lists models); needs a `gpu_epoch` amount. `None`: any GPUs.
    #[serde(default)]
    pub gpu_model: Option<String>,
    /// Highest price per metered unit ([`metered_unit`]: GB served, kWh delivered, reading)
    /// accepted, credits; 0 (default): only assets that charge by reservation alone.
    #[serde(default)]
    pub max_metered_price: Amount,
}

fn default_sla() -> u16 {
    900
}

/// An amount of one unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnitAmount {
    /// The unit.
    pub unit: ResourceUnit,
    /// How many.
    pub amount: u64,
}

impl WorkloadSpec {
    /// Per-dimension amounts per replica, or the problem (rule K-4).
    pub fn per_replica(&self) -> Result<[u64; DIMS], String> {
        let units = reservable_units(self.class);
        let mut out = [0u64; DIMS];
        if self.resources.is_empty() || self.resources.len() > units.len() {
            return Err(format!("give 1 to {} resources for a {} workload", units.len(), self.class.name()));
        }
        for r in &self.resources {
            let Some(d) = units.iter().position(|u| *u == r.unit) else {
                return Err(format!("a {} workload cannot ask for {:?}; use {:?}", self.class.name(), r.unit, units));
            };
            if out[d] != 0 || r.amount == 0 {
                return Err(format!("{:?} must be listed once with an amount > 0", r.unit));
            }
            out[d] = r.amount;
        }
        Ok(out)
    }

    /// Rule K-4: every field in range; `resolution` is the registry's location resolution.
    pub fn validate(&self, resolution: u8) -> Result<(), String> {
        if self.name.len() > 64 || self.name.chars().any(char::is_control) {
            return Err("name must be at most 64 bytes of printable text".into());
        }
        self.per_replica()?;
        if self.replicas == 0 || self.replicas > MAX_REPLICAS {
            return Err(format!("replicas must be 1 to {MAX_REPLICAS}"));
        }
        if self.regions.len() > MAX_REGION_CELLS {
            return Err(format!("at most {MAX_REGION_CELLS} region cells"));
        }
        if let Some(c) = self.regions.iter().find(|c| c.resolution() > resolution) {
            return Err(format!("region cell {c} is finer than the registry resolution {resolution}"));
        }
        if self.near.is_some_and(|n| n.cell.resolution() != resolution) {
            return Err(format!("near.cell must be at the registry resolution {resolution}"));
        }
        if self.anti_affinity.distinct_cells_res.is_some_and(|r| r > resolution) {
            return Err(format!("anti_affinity.distinct_cells_res must be at most {resolution}"));
        }
        if self.min_uptime_permille > 1_000 || self.sla_uptime_permille > 1_000 {
            return Err("min_uptime_permille and sla_uptime_permille must be at most 1000".into());
        }
        if self.duration_epochs == 0 || self.duration_epochs > MAX_DURATION_EPOCHS {
            return Err(format!("duration_epochs must be 1 to {MAX_DURATION_EPOCHS}"));
        }
        if self.max_price == Amount::ZERO || self.max_price.0 >= u128::from(u64::MAX) {
            return Err("max_price must be > 0 and below 2^64".into());
        }
        if self.max_metered_price.0 >= u128::from(u64::MAX) {
            return Err("max_metered_price must be below 2^64".into());
        }
        if let Some(model) = &self.gpu_model {
            if self.class != AssetClass::Compute || !self.resources.iter().any(|r| r.unit == ResourceUnit::GpuEpoch) {
                return Err("gpu_model needs a compute workload that asks for gpu_epoch".into());
            }
            crate::asset::Problem::name("gpu_model", model, crate::asset::compute::MAX_GPU_MODEL_LEN)
                .map_err(|e| e.to_string())?;
        }
        Ok(())
    }
}

/// Market parameters (state key `m/market`; genesis `[market]`, rule K-1).
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MarketParams {
    /// Credits minted per native-token base unit burned, numerator (the token's price in
    /// credits; set by validators as an oracle until governance exists).
    pub credits_per_token_num: u128,
    /// …and denominator.
    pub credits_per_token_den: u128,
    /// A deposit must cover the workload's maximum price for this many epochs.
    pub min_escrow_epochs: u32,
    /// Below this many epochs of cover the consumer gets a low-escrow notice.
    pub low_escrow_epochs: u32,
    /// Epochs an overdrawn workload keeps its leases before they close.
    pub overdraw_grace_epochs: u32,
    /// Epochs between a provider's notice and the end of the lease.
    pub provider_notice_epochs: u32,
    /// Epochs of telemetry that make "recent uptime".
    pub uptime_window_epochs: u32,
    /// Allocator: credits per km from a workload's `near` point, per replica-epoch.
    pub distance_penalty_per_km: u64,
    /// Allocator: credits per permille of missing recent uptime, per replica-epoch.
    pub reliability_penalty_per_permille: u64,
}

impl Default for MarketParams {
    fn default() -> Self {
        MarketParams {
            credits_per_token_num: 1,
            credits_per_token_den: 1,
            min_escrow_epochs: 1,
            low_escrow_epochs: 3,
            overdraw_grace_epochs: 2,
            provider_notice_epochs: 2,
            uptime_window_epochs: 3,
            distance_penalty_per_km: 1,
            reliability_penalty_per_permille: 1,
        }
    }
}

impl MarketParams {
    /// Rule K-1; the message names the field.
    pub fn validate(&self) -> Result<(), String> {
        if self.credits_per_token_num == 0 || self.credits_per_token_den == 0 {
            return Err("credits_per_token_num and credits_per_token_den must be > 0".into());
        }
        if self.credits_per_token_num > u128::from(u64::MAX) || self.credits_per_token_den > u128::from(u64::MAX) {
            return Err("credits_per_token_num and credits_per_token_den must be below 2^64".into());
        }
        if self.uptime_window_epochs == 0 || self.uptime_window_epochs > 64 {
            return Err("uptime_window_epochs must be 1 to 64".into());
        }
        if self.min_escrow_epochs == 0 || self.min_escrow_epochs > 10_000 || self.low_escrow_epochs > 10_000 {
            return Err("min_escrow_epochs must be 1 to 10000, low_escrow_epochs at most 10000".into());
        }
        if self.overdraw_grace_epochs > 10_000 || self.provider_notice_epochs > 10_000 {
            return Err("overdraw_grace_epochs and provider_notice_epochs must be at most 10000".into());
        }
        Ok(())
    }

    /// Credits minted for burning `tokens` (rounded down).
    pub fn credits_for(&self, tokens: Amount) -> Option<Amount> {
        tokens.0.checked_mul(self.credits_per_token_num).map(|v| Amount(v / self.credits_per_token_den))
    }

    /// Tokens minted for `credits` spent (rounded down: never more than the credits are worth).
    pub fn tokens_for(&self, credits: Amount) -> Option<Amount> {
        credits.0.checked_mul(self.credits_per_token_den).map(|v| Amount(v / self.credits_per_token_num))
    }
}

/// A consumer's workload (state key `k/w/<id BE>`).
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Workload {
    /// Its id (sequential from 1).
    pub id: u64,
    /// Who submitted it and pays.
    pub consumer: Address,
    /// What it asks for.
    pub spec: WorkloadSpec,
    /// Credits left in its escrow.
    pub escrow: Amount,
    /// Where it is.
    pub state: WorkloadState,
    /// Block of submission.
    pub submitted_height: u64,
    /// First epoch it was placed (its duration counts from there).
    pub start_epoch: Option<u64>,
    /// Its open leases.
    pub leases: Vec<u64>,
    /// Credits paid to providers so far.
    pub spent: Amount,
    /// Credits kept because of SLA breaches, failures or gaps.
    pub credited: Amount,
    /// Why it is (still) not fully placed, from the last allocation round.
    pub unplaced: Option<UnplacedReason>,
    /// Escrow warnings.
    pub escrow_notice: EscrowNotice,
    /// Assets its replicas left because they failed or gave notice (never re-placed there;
    /// the most recent [`MAX_REPLICAS`]).
    pub avoid: Vec<AssetId>,
    /// Closed leases whose replicas wait for re-placement (the next placements replace them,
    /// oldest first).
    pub to_replace: Vec<u64>,
}

/// Where a workload is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum WorkloadState {
    /// Waiting for placement.
    Pending,
    /// Placed (some replicas may be waiting for re-placement).
    Running,
    /// Over.
    Closed {
        /// Why.
        reason: CloseReason,
        /// When.
        height: u64,
    },
}

/// The escrow's health.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum EscrowNotice {
    /// Enough for `low_escrow_epochs`.
    #[default]
    Ok,
    /// Less than `low_escrow_epochs` of cover since this epoch: top it up.
    Low {
        /// Since.
        since_epoch: u64,
    },
    /// Not enough for one more epoch since this epoch; leases close after the grace period.
    Overdrawn {
        /// Since.
        since_epoch: u64,
    },
}

/// Why a lease or workload closed. Variant order is the encoding tag: append only.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CloseReason {
    /// It ran its duration.
    Completed,
    /// The consumer cancelled it.
    CancelledByConsumer,
    /// The provider gave notice and the notice period ended.
    EndedByProvider,
    /// The asset went offline (its replica was re-placed elsewhere when possible).
    AssetFailed,
    /// The escrow stayed overdrawn past the grace period.
    EscrowOverdrawn,
    /// The asset left service (suspended, decommissioned, revoked).
    AssetRetired,
}

impl CloseReason {
    /// A stable name.
    pub fn code(self) -> &'static str {
        match self {
            CloseReason::Completed => "completed",
            CloseReason::CancelledByConsumer => "cancelled_by_consumer",
            CloseReason::EndedByProvider => "ended_by_provider",
            CloseReason::AssetFailed => "asset_failed",
            CloseReason::EscrowOverdrawn => "escrow_overdrawn",
            CloseReason::AssetRetired => "asset_retired",
        }
    }
}

/// A replica placed on an asset (state key `k/l/<id BE>`).
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Lease {
    /// Its id (sequential from 1).
    pub id: u64,
    /// The workload.
    pub workload: u64,
    /// The consumer.
    pub consumer: Address,
    /// The asset.
    pub asset: AssetId,
    /// The asset's owner when placed (who is paid).
    pub provider: Address,
    /// Per-dimension units reserved on the asset.
    pub reserved: [u64; DIMS],
    /// Price per epoch, credits.
    pub price: Amount,
    /// Why this asset: the allocator's cost terms.
    pub terms: CostTerms,
    /// Block of placement.
    pub placed_height: u64,
    /// Block time of placement, ms.
    pub placed_ms: u64,
    /// Epoch of placement (billing starts with the next whole epoch).
    pub placed_epoch: u64,
    /// Where it is.
    pub state: LeaseState,
    /// Epochs settled.
    pub epochs_settled: u32,
    /// Credits paid to the provider.
    pub paid: Amount,
    /// Credits kept by the consumer (SLA breaches, offline epochs).
    pub credited: Amount,
    /// The lease this one replaces (failover or provider notice).
    pub replaces: Option<u64>,
    /// Credits per metered unit served (the sheet's at placement; 0: none).
    pub metered_price: Amount,
    /// Metered units charged so far (the lease's share of what its asset served in settled,
    /// paid epochs).
    pub metered_units: u64,
}

/// Where a lease is. `Placed` turns `Active` at the first settled epoch with proven service.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum LeaseState {
    /// On the asset, no service proven yet.
    Placed,
    /// Service proven by telemetry.
    Active,
    /// The provider gave notice: closes at the start of `at_epoch`.
    Ending {
        /// Epoch it closes.
        at_epoch: u64,
    },
    /// Over.
    Closed {
        /// Why.
        reason: CloseReason,
        /// Block.
        height: u64,
    },
}

impl LeaseState {
    /// True until closed.
    pub fn is_open(self) -> bool {
        !matches!(self, LeaseState::Closed { .. })
    }
}

/// Why the allocator chose an asset: its cost terms per replica-epoch, credits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct CostTerms {
    /// The provider's price.
    pub price: u64,
    /// Distance penalty from the workload's `near` point.
    pub distance: u64,
    /// Reliability penalty from missing recent uptime.
    pub reliability: u64,
}

/// Why a workload is not (fully) placed: the first constraint that left too few assets, and
/// how many assets were left after each filter.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct UnplacedReason {
    /// Stable code (`no_asset_of_class`, `outside_region`, …; `docs/spec/market.md`).
    pub code: String,
    /// In words.
    pub message: String,
    /// Replicas placed / wanted.
    pub placed: u16,
    /// Assets left after each filter, in order: class, region, distance, tier, uptime, green,
    /// lease length, price, capacity, distinct groups.
    pub funnel: [u32; 10],
    /// Block of the allocation round.
    pub height: u64,
}

/// The market's bookkeeping (state key `m/market/book`, rules K-9 and S-1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct MarketBook {
    /// Last workload id given.
    pub last_workload: u64,
    /// Last lease id given.
    pub last_lease: u64,
    /// Last epoch settled (0: none).
    pub settled_epoch: u64,
    /// Time bucket of the last failover check.
    pub checked_bucket: u64,
    /// Credits ever minted.
    pub credits_minted: Amount,
    /// Credits ever spent (paid to providers).
    pub credits_spent: Amount,
    /// Set when something changed that may let pending workloads fit.
    pub dirty: bool,
}

/// Something the market did in a block, for live feeds (state key `k/events`: the last block's
/// events, replaced by the next block that has any).
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MarketEvent {
    /// A replica was placed.
    Placed {
        /// Workload.
        workload: u64,
        /// Lease.
        lease: u64,
        /// Asset.
        asset: AssetId,
        /// Why this asset.
        terms: CostTerms,
        /// The lease it replaces.
        replaces: Option<u64>,
    },
    /// A lease closed.
    LeaseClosed {
        /// Workload.
        workload: u64,
        /// Lease.
        lease: u64,
        /// Asset.
        asset: AssetId,
        /// Why.
        reason: CloseReason,
    },
    /// A workload could not be (fully) placed in this round.
    Unplaced {
        /// Workload.
        workload: u64,
        /// Why.
        code: String,
    },
    /// A workload's escrow changed notice state.
    Escrow {
        /// Workload.
        workload: u64,
        /// The new notice.
        notice: EscrowNotice,
    },
    /// A workload closed.
    WorkloadClosed {
        /// Workload.
        workload: u64,
        /// Why.
        reason: CloseReason,
        /// Credits refunded to the consumer.
        refunded: Amount,
    },
}

/// The market events of one block.
#[derive(Clone, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct MarketEvents {
    /// Block height.
    pub height: u64,
    /// In order.
    pub events: Vec<MarketEvent>,
}

/// Last block's market events.
pub const EVENTS_KEY: &[u8] = b"k/events";

/// An account's credits (state key `k/c/<address>`).
pub fn credits_key(a: &Address) -> Vec<u8> {
    [b"k/c/".as_slice(), &a.to_bytes()[..]].concat()
}
/// A price sheet.
pub fn price_key(a: &AssetId) -> Vec<u8> {
    [b"k/p/".as_slice(), a.0.as_bytes()].concat()
}
/// Prefix of workloads.
pub const WORKLOAD_PREFIX: &[u8] = b"k/w/";
/// A workload.
pub fn workload_key(id: u64) -> Vec<u8> {
    [WORKLOAD_PREFIX, &id.to_be_bytes()].concat()
}
/// Prefix of leases.
pub const LEASE_PREFIX: &[u8] = b"k/l/";
/// A lease.
pub fn lease_key(id: u64) -> Vec<u8> {
    [LEASE_PREFIX, &id.to_be_bytes()].concat()
}
/// Index: leases of an asset (`k/la/<asset>/<lease BE>`, empty value).
pub fn asset_lease_prefix(a: &AssetId) -> Vec<u8> {
    [b"k/la/".as_slice(), a.0.as_bytes()].concat()
}
/// Index entry: a lease of an asset.
pub fn asset_lease_key(a: &AssetId, lease: u64) -> Vec<u8> {
    [asset_lease_prefix(a).as_slice(), &lease.to_be_bytes()].concat()
}
/// Index: workloads of a consumer (`k/cw/<address>/<workload BE>`, empty value).
pub fn consumer_workload_prefix(a: &Address) -> Vec<u8> {
    [b"k/cw/".as_slice(), &a.to_bytes()[..]].concat()
}
/// Index entry: a workload of a consumer.
pub fn consumer_workload_key(a: &Address, workload: u64) -> Vec<u8> {
    [consumer_workload_prefix(a).as_slice(), &workload.to_be_bytes()].concat()
}
/// Reserved units on an asset (`[u64; DIMS]`).
pub fn reserved_key(a: &AssetId) -> Vec<u8> {
    [b"k/r/".as_slice(), a.0.as_bytes()].concat()
}
/// Priced assets of a class (a sorted `Vec<AssetId>`).
pub fn offers_key(class: AssetClass) -> Vec<u8> {
    [b"k/o/".as_slice(), class.name().as_bytes()].concat()
}
/// Workloads waiting for (re-)placement, in submission order (`Vec<u64>`).
pub const QUEUE_KEY: &[u8] = b"k/q";
/// Open leases in id order (`Vec<u64>`).
pub const OPEN_LEASES_KEY: &[u8] = b"k/open";
/// Market parameters.
pub const MARKET_PARAMS_KEY: &[u8] = b"m/market";
/// Market bookkeeping.
pub const MARKET_BOOK_KEY: &[u8] = b"m/market/book";
