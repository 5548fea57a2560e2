//! Place workloads' replicas on providers' assets: a pure, deterministic, integer-only allocator.
//!
//! The state machine calls [`solve`] at block boundaries with a [`Problem`]: the assets with
//! their free capacity and prices, the workloads (each `replicas` copies of `per_replica`
//! units, with placement constraints), and the [`CostParams`]. It returns a [`Solution`]: one
//! [`Placement`] per replica placed, with its cost split into [`CostTerms`], and one
//! [`Unplaced`] per workload not placed in full, with the reason ([`Why`]) and the [`Funnel`]
//! of assets left after each filter, which owners and consumers see.
//!
//! # Semantics
//!
//! - A replica on asset `a` consumes `per_replica` from `a.free` in every dimension; the sum
//!   over the replicas placed on an asset never exceeds its `free`, in any dimension.
//! - Filters, in funnel order: class and GPU model (and not in `exclude`), region, distance
//!   (`near.max_m`), attestation tier, uptime, green, minimum lease length, price
//!   (`max_price`, literal: 0 admits only free assets; and `metered_price <=
//!   max_metered_price`), capacity (`free >= per_replica`), anti-affinity.
//! - Cost of one replica on `a`, per epoch: `price = Σ_d a.price[d] × per_replica[d]`;
//!   `distance = metres × distance_penalty_per_km / 1000` rounded down, the metres being
//!   [`depin_geo::grid_distance_approx_m`] between `near.cell` and `a.cell` at the coarser of
//!   their two resolutions (when H3 cannot measure, the asset is too far if `max_m > 0`, else
//!   [`UNMEASURED_DISTANCE_M`] is used); `reliability = (1000 − uptime_permille) ×
//!   reliability_penalty_per_permille`. Every term saturates at `u64::MAX`.
//! - **Anti-affinity**: with `distinct_owners`, `distinct_cells_res` or `distinct_energy`,
//!   the replicas of a workload (new and already `placed`) pairwise differ in each requested
//!   attribute, so they are on distinct assets. With no anti-affinity flag, several replicas
//!   may share an asset when its capacity allows.
//! - `all_or_nothing`: the workload gets every remaining replica or none.
//! - **Objective**: first placement, with priority by workload order (a solution is better if
//!   the vector of replicas placed per workload, in workload order, is lexicographically
//!   larger: an earlier workload is never left short so that later ones fit); then the lowest
//!   total cost. [`solve`] is never lexicographically behind [`greedy`] in placement.
//!
//! # Method (docs/adr/0017-allocator.md)
//!
//! Candidate pruning (per workload, the K cheapest feasible assets with enough distinct
//! anti-affinity groups, found through per-class indexes by cell and by price score; a
//! workload whose set is large searches it at its turn in the first, greedy, primal, among the
//! assets the workloads before it left room on), then a
//! Lagrangian relaxation of the capacity constraints solved by projected subgradient steps on
//! per-asset, per-dimension prices λ ≥ 0 (integer fixed point; on problems of at most 50,000
//! candidate pairs, where it can pay), a primal repair in workload order under the reduced
//! costs `c + λ·req` with a search fallback, up to two local-improvement passes (moves and
//! two-replica ejection chains), and, on problems of at most 50,000 candidate pairs, regret
//! restarts (the highest-regret workloads served first). [`lower_bound`] is the best
//! Lagrangian value, kept valid under pruning by a floor on the cost of every asset left out.
//!
//! # Determinism contract
//!
//! No I/O, threads, clock, randomness or floating point (`clippy::float_arithmetic` is denied
//! crate-wide, `HashMap`/`HashSet` by `clippy.toml`); every sort has an explicit total order
//! ending with the asset's id or index; integer arithmetic saturates or uses `u128`. The same
//! [`Problem`] gives the same [`Solution`] on every platform.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![deny(clippy::float_arithmetic)] // determinism: see the contract above
#![allow(
    clippy::needless_range_loop,
    reason = "resource dimensions index several arrays in step (free, price, per-replica, λ)"
)]

mod check;
mod eval;
mod exact;
mod relaxed;
pub mod sample;
mod select;
mod solver;

pub use check::check;
pub use eval::judge;
pub use exact::{Exact, optimum};
pub use relaxed::relaxed_bound;
pub use solver::{greedy, lower_bound, solve};

/// Resource dimensions; their meaning (CPU, memory, bandwidth, storage, …) is set per asset
/// class by the caller.
pub const DIMS: usize = 4;

/// An amount in each resource dimension.
pub type Units = [u64; DIMS];

/// Metres used as the distance of an asset whose distance H3 cannot measure (cells more than
/// about 1,000 km apart, or across a pentagon) when the workload sets no maximum: half the
/// Earth's circumference, the farthest two points can be.
pub const UNMEASURED_DISTANCE_M: u64 = 20_037_509;

/// How the non-price cost terms are weighed, in credits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct CostParams {
    /// Credits per km from the workload's `near` cell, per replica-epoch.
    pub distance_penalty_per_km: u64,
    /// Credits per permille of missing recent uptime (`1000 − uptime_permille`), per
    /// replica-epoch.
    pub reliability_penalty_per_permille: u64,
}

/// A provider's asset as the allocator sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Asset {
    /// The caller's stable id; the final tie-break between equal costs (lower wins).
    pub id: u64,
    /// Asset class; a workload only goes on assets of its class.
    pub class: u8,
    /// The owner, as a number mapped by the caller (for `distinct_owners`).
    pub owner: u64,
    /// The asset's H3 cell (raw `u64`) at the registry resolution.
    pub cell: u64,
    /// Capacity not yet reserved, per dimension.
    pub free: Units,
    /// Credits per unit per epoch, per dimension.
    pub price: Units,
    /// Shortest lease the owner accepts, in epochs.
    pub min_lease_epochs: u32,
    /// Attestation tier, higher is stronger.
    pub tier: u8,
    /// Recent uptime in permille (values above 1000 count as 1000).
    pub uptime_permille: u16,
    /// Whether the asset runs on renewable energy.
    pub green: bool,
    /// Energy source code (for `distinct_energy`).
    pub energy_source: u8,
    /// The model of its GPUs as a code mapped by the caller (0: no GPU, or several models,
    /// which only serve workloads that name none).
    pub gpu_model: u32,
    /// Credits per metered unit served (GB, kWh, reading), charged on top of `price`; 0: none.
    pub metered_price: u64,
}

/// Where a workload wants to run: cost grows with the distance from `cell`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Near {
    /// The H3 cell (raw `u64`, any resolution) distances are measured from.
    pub cell: u64,
    /// Farthest allowed distance in metres; 0: no maximum, only the distance penalty.
    pub max_m: u64,
}

/// A consumer's workload: `replicas` copies of `per_replica` to place.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Workload {
    /// The caller's id (reported back only through indexes; kept for the caller's logs).
    pub id: u64,
    /// The asset class it runs on.
    pub class: u8,
    /// Only assets whose GPUs are all of this model (the caller's code; 0: any).
    pub gpu_model: u32,
    /// Units one replica consumes on its asset, per dimension.
    pub per_replica: Units,
    /// Replicas still to place.
    pub replicas: u16,
    /// Asset indexes of this workload's replicas already running: they count for
    /// anti-affinity; their capacity is already out of `free`. Indexes out of range are
    /// ignored.
    pub placed: Vec<u32>,
    /// Asset indexes never to use (e.g. the one that just failed).
    pub exclude: Vec<u32>,
    /// H3 cells (raw `u64`, any resolution not finer than the assets') the asset must be in;
    /// empty: anywhere. Invalid cells match nothing.
    pub regions: Vec<u64>,
    /// Distance preference and limit.
    pub near: Option<Near>,
    /// Replicas on assets of pairwise distinct owners.
    pub distinct_owners: bool,
    /// Replicas in pairwise distinct cells at this resolution.
    pub distinct_cells_res: Option<u8>,
    /// Replicas on assets of pairwise distinct energy sources.
    pub distinct_energy: bool,
    /// Lowest attestation tier accepted.
    pub min_tier: u8,
    /// Lowest recent uptime accepted, in permille.
    pub min_uptime_permille: u16,
    /// Only green assets.
    pub green_only: bool,
    /// Lease length in epochs; an asset's `min_lease_epochs` must not exceed it.
    pub duration_epochs: u32,
    /// Highest price term accepted per replica per epoch (`Σ_d price[d] × per_replica[d]`).
    pub max_price: u64,
    /// Highest metered price accepted (an asset's `metered_price`; 0: unmetered assets only).
    pub max_metered_price: u64,
    /// Place every replica or none (new workloads); `false`: place what fits (re-placement).
    pub all_or_nothing: bool,
}

impl Workload {
    /// Whether any anti-affinity flag is set (replicas then never share an asset).
    #[must_use]
    pub fn has_anti_affinity(&self) -> bool {
        self.distinct_owners || self.distinct_cells_res.is_some() || self.distinct_energy
    }
}

/// Everything one allocation round sees.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Problem {
    /// The assets; placements refer to them by index.
    pub assets: Vec<Asset>,
    /// The workloads, in priority order (earlier first when capacity is short).
    pub workloads: Vec<Workload>,
    /// Cost weights.
    pub cost: CostParams,
}

/// The cost of one replica on one asset per epoch, by term, in credits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, PartialOrd, Ord)]
pub struct CostTerms {
    /// `Σ_d price[d] × per_replica[d]`.
    pub price: u64,
    /// Distance penalty from the workload's `near` cell.
    pub distance: u64,
    /// Missing-uptime penalty.
    pub reliability: u64,
}

impl CostTerms {
    /// The sum of the terms, saturating at `u64::MAX`.
    #[must_use]
    pub fn total(&self) -> u64 {
        self.price
            .saturating_add(self.distance)
            .saturating_add(self.reliability)
    }
}

/// One replica of `workload` placed on `asset`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Placement {
    /// Index into [`Problem::workloads`].
    pub workload: u32,
    /// Index into [`Problem::assets`].
    pub asset: u32,
    /// Its cost per epoch.
    pub terms: CostTerms,
}

/// How many assets were left after each filter, in this order (for "why not placed").
///
/// `distinct` counts anti-affinity groups rather than assets: the fewest distinct values,
/// among the assets left after `capacity`, of the requested attributes (values used by the
/// workload's running replicas removed); with no anti-affinity flag it equals `capacity`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Funnel {
    /// Assets of the workload's class (and GPU model, when it names one), not excluded.
    pub class: u32,
    /// … inside one of its regions.
    pub region: u32,
    /// … within `near.max_m`.
    pub distance: u32,
    /// … of at least `min_tier`.
    pub tier: u32,
    /// … with at least `min_uptime_permille`.
    pub uptime: u32,
    /// … green if required.
    pub green: u32,
    /// … whose minimum lease fits `duration_epochs`.
    pub lease_length: u32,
    /// … whose price term is at most `max_price` (and metered price at most
    /// `max_metered_price`).
    pub price: u32,
    /// … with `free >= per_replica`.
    pub capacity: u32,
    /// Distinct anti-affinity groups among those.
    pub distinct: u32,
}

/// Why a workload was not placed in full: the first funnel stage that left too few assets (or
/// groups), or [`Why::TakenByCheaper`] when it fitted alone.
///
/// "Too few" means fewer than the replicas still to place when the workload asks for
/// anti-affinity, and none at all otherwise (replicas may then share an asset); without
/// anti-affinity, [`Why::NoCapacity`] also covers assets whose free capacity together holds
/// fewer replicas than needed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Why {
    /// Too few assets of the class (and GPU model; not counting excluded ones).
    NoAssetOfClass,
    /// Too few of them inside the requested regions.
    OutsideRegion,
    /// Too few of them within the maximum distance.
    TooFar,
    /// Too few of them with the required attestation tier.
    TierTooLow,
    /// Too few of them with the required recent uptime.
    UptimeTooLow,
    /// Too few of them green.
    NotGreen,
    /// Too few of them accept a lease this short.
    MinLeaseTooLong,
    /// Too few of them within the maximum price (or metered price).
    OverMaxPrice,
    /// Too few of them with enough free capacity.
    NoCapacity,
    /// Enough assets, but too few distinct owners, cells or energy sources for the replicas.
    TooFewDistinct,
    /// It fitted alone, but the capacity went to other workloads (earlier ones, or a cheaper
    /// overall allocation).
    TakenByCheaper,
}

impl Why {
    /// A sentence owners and consumers can read.
    #[must_use]
    pub fn describe(&self) -> &'static str {
        match self {
            Why::NoAssetOfClass => {
                "not enough assets of the requested class and GPU model (excluded assets not counted)"
            }
            Why::OutsideRegion => "not enough assets of the class inside the requested regions",
            Why::TooFar => {
                "not enough assets within the maximum distance of the requested location"
            }
            Why::TierTooLow => "not enough assets with the required attestation tier",
            Why::UptimeTooLow => "not enough assets with the required recent uptime",
            Why::NotGreen => "not enough assets running on green energy",
            Why::MinLeaseTooLong => "not enough assets accept a lease as short as requested",
            Why::OverMaxPrice => {
                "not enough assets within the maximum price per replica (and per metered unit)"
            }
            Why::NoCapacity => "not enough free capacity on the matching assets",
            Why::TooFewDistinct => {
                "not enough distinct owners, cells or energy sources among the matching assets for the replicas"
            }
            Why::TakenByCheaper => {
                "the workload fits, but the capacity went to earlier workloads or to a cheaper overall allocation"
            }
        }
    }
}

/// A workload not placed in full.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Unplaced {
    /// Index into [`Problem::workloads`].
    pub workload: u32,
    /// Replicas placed anyway (0 for an `all_or_nothing` workload).
    pub placed: u16,
    /// Why not all.
    pub why: Why,
    /// Assets left after each filter.
    pub funnel: Funnel,
}

/// Counters of a run (for benchmarks and logs; deterministic like the rest).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Stats {
    /// Candidate (workload, asset) pairs kept after pruning.
    pub candidates: u64,
    /// (workload, asset) pairs evaluated through the filters.
    pub evaluated: u64,
    /// Lagrangian (subgradient) iterations run (0 above 50,000 candidate pairs, where
    /// [`solve`] runs none).
    pub iterations: u32,
    /// Workloads that needed the full-scan fallback in the primal repair.
    pub fallbacks: u32,
    /// Improving moves and ejection chains applied by local search.
    pub moves: u32,
    /// Best Lagrangian lower bound found on the cost of placing every replica over the pruned
    /// candidates, if one was found (see [`lower_bound`]); `None` above 50,000 candidate pairs,
    /// where [`solve`] runs no subgradient step ([`lower_bound`] always runs them).
    pub bound: Option<u128>,
}

/// The allocator's answer.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Solution {
    /// One entry per replica placed, ordered by workload then asset.
    pub placements: Vec<Placement>,
    /// One entry per workload not placed in full, ordered by workload.
    pub unplaced: Vec<Unplaced>,
    /// `Σ placements' terms.total()`.
    pub total_cost: u128,
    /// Counters.
    pub stats: Stats,
}
