//! Judge one (workload, asset) pair: the filters in funnel order and the cost terms, plus the
//! per-class indexes that find candidate assets without scanning every asset.

use std::collections::BTreeMap;

use depin_geo::{Cell, GridPoint, grid_distance, grid_distance_approx_m};

use crate::{Asset, CostParams, CostTerms, DIMS, Funnel, Near, Problem, Why, Workload};

/// Funnel stages in order; `Why` of the stage that filtered an asset out.
pub(crate) const STAGES: [Why; 9] = [
    Why::NoAssetOfClass,
    Why::OutsideRegion,
    Why::TooFar,
    Why::TierTooLow,
    Why::UptimeTooLow,
    Why::NotGreen,
    Why::MinLeaseTooLong,
    Why::OverMaxPrice,
    Why::NoCapacity,
];

/// The anti-affinity attributes of an asset for one workload (`cell` at the workload's
/// `distinct_cells_res`; the raw cell when it has no ancestor there).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Attrs {
    pub owner: u64,
    pub cell: u64,
    pub energy: u8,
}

/// The anti-affinity attributes of asset `a` for workload `w`.
pub(crate) fn attrs(w: &Workload, a: &Asset) -> Attrs {
    attrs_decoded(w, a, Cell::try_from(a.cell).ok())
}

/// [`attrs`] given the asset's cell already decoded (`None`: not a valid cell).
pub(crate) fn attrs_decoded(w: &Workload, a: &Asset, decoded: Option<Cell>) -> Attrs {
    let cell = match w.distinct_cells_res {
        Some(res) => decoded
            .and_then(|c| c.parent(res))
            .map_or(a.cell, Cell::to_u64),
        None => 0,
    };
    Attrs {
        owner: a.owner,
        cell,
        energy: a.energy_source,
    }
}

/// A cell decoded once, with its [`GridPoint`]: distances between two spots of the same base
/// cell and resolution need no H3 unfolding (the same number of steps, see [`distance_m`]).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Spot {
    pub cell: Cell,
    pub point: Option<GridPoint>,
}

impl Spot {
    /// The spot of raw H3 index `raw`, when it is a valid cell.
    pub(crate) fn of(raw: u64) -> Option<Self> {
        let cell = Cell::try_from(raw).ok()?;
        Some(Spot {
            cell,
            point: GridPoint::of(cell),
        })
    }
}

/// A workload's inputs decoded once: region cells, the `near` cell, the sorted exclusions.
pub(crate) struct WorkView<'a> {
    pub w: &'a Workload,
    pub regions: Vec<Cell>,
    pub near: Option<(Option<Spot>, Near)>,
    pub exclude: Vec<u32>,
}

impl<'a> WorkView<'a> {
    pub(crate) fn new(w: &'a Workload) -> Self {
        let regions = w
            .regions
            .iter()
            .filter_map(|&c| Cell::try_from(c).ok())
            .collect();
        let near = w.near.map(|n| (Spot::of(n.cell), n));
        let mut exclude = w.exclude.clone();
        exclude.sort_unstable();
        exclude.dedup();
        WorkView {
            w,
            regions,
            near,
            exclude,
        }
    }
}

/// The price term of a replica of `per` on `a`, saturating.
pub(crate) fn price_term(a: &Asset, per: &crate::Units) -> u64 {
    let mut sum: u128 = 0;
    for d in 0..DIMS {
        sum = sum.saturating_add(u128::from(a.price[d]) * u128::from(per[d]));
    }
    u64::try_from(sum).unwrap_or(u64::MAX)
}

/// The reliability term of a replica on `a`.
pub(crate) fn reliability_term(a: &Asset, cost: &CostParams) -> u64 {
    let missing = 1000u64.saturating_sub(u64::from(a.uptime_permille.min(1000)));
    missing.saturating_mul(cost.reliability_penalty_per_permille)
}

/// Approximate metres between two cells at the coarser of their resolutions, `None` when H3
/// cannot measure. Spots of one base cell and resolution are measured by their grid points
/// (the same steps as [`grid_distance`]), others by H3.
pub(crate) fn distance_m(from: &Spot, to: &Spot) -> Option<u64> {
    let res = from.cell.resolution().min(to.cell.resolution());
    let steps = match (&from.point, &to.point) {
        (Some(a), Some(b)) if let Some(steps) = a.steps(b) => steps,
        _ => grid_distance(from.cell.parent(res)?, to.cell.parent(res)?)?,
    };
    grid_distance_approx_m(steps, res).ok()
}

/// Whether `free` holds one more `per` in every dimension.
pub(crate) fn fits(free: &crate::Units, per: &crate::Units) -> bool {
    (0..DIMS).all(|d| free[d] >= per[d])
}

/// How many replicas of `per` fit in `free` (capped at `cap`; `cap` when `per` is all zero).
pub(crate) fn slots(free: &crate::Units, per: &crate::Units, cap: u64) -> u64 {
    let mut n = cap;
    for d in 0..DIMS {
        if let Some(q) = free[d].checked_div(per[d]) {
            n = n.min(q);
        }
    }
    n
}

/// The decoded assets and per-class indexes of a problem.
pub(crate) struct Index<'p> {
    pub p: &'p Problem,
    /// Each asset's cell, when valid.
    pub cells: Vec<Option<Spot>>,
    pub classes: BTreeMap<u8, ClassIndex>,
    /// Each asset's position in [`Index::hot`].
    pub pos: Vec<u32>,
    /// The assets with their decoded cells, class by class and within a class in `by_score`
    /// order: a walk reads them in ascending positions (its whole run when it has no region),
    /// not scattered over the asset array.
    pub hot: Vec<Hot>,
    /// The [`PriceFloor`] of each entry of [`Index::hot`], in step.
    pub price_floors: Vec<PriceFloor>,
}

/// An asset's prices per dimension and missing uptime in two bytes each, rounded down (at most
/// 65,535): [`PriceFloor::cost`] is at most the price and reliability terms of a replica there.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct PriceFloor([u16; DIMS + 1]);

impl PriceFloor {
    /// The floor of asset `a`.
    pub(crate) fn of(a: &Asset) -> Self {
        let mut out = [0u16; DIMS + 1];
        for d in 0..DIMS {
            out[d] = u16::try_from(a.price[d]).unwrap_or(u16::MAX);
        }
        out[DIMS] = 1000u16.saturating_sub(a.uptime_permille.min(1000));
        PriceFloor(out)
    }

    /// At most the price plus reliability terms of a replica of `per` on the asset (the
    /// [`floor_cost`] of its rounded-down profile).
    pub(crate) fn cost(&self, per: &crate::Units, cost: &CostParams) -> u64 {
        floor_cost(&self.0.map(u64::from), per, cost)
    }
}

/// An asset as candidate search reads it, in [`Index::hot`].
pub(crate) struct Hot {
    pub a: Asset,
    /// Its decoded cell, when valid.
    pub cell: Option<Spot>,
    /// Its index in the problem.
    pub ai: u32,
}

/// The assets of one class, two ways.
pub(crate) struct ClassIndex {
    /// Asset indexes ordered by (cell, id, index): the descendants of a region cell at one
    /// resolution are a contiguous run.
    pub by_cell: Vec<u32>,
    /// The cells of `by_cell`, in step (searched for region runs without touching the assets).
    pub cell_keys: Vec<u64>,
    /// The distinct resolutions of the class's valid cells.
    pub resolutions: Vec<u8>,
    /// Asset indexes ordered by (score, id, index), the score being the cost of the class's
    /// mean replica without distance.
    pub by_score: Vec<u32>,
    /// The class's mean replica (weighs the score).
    pub mean_per: crate::Units,
    /// Where the class's `by_score` run starts in [`Index::hot`].
    pub offset: u32,
    /// How many of the class's assets have each GPU model (for funnels).
    pub gpu_models: BTreeMap<u32, usize>,
    /// The least price per dimension and missing uptime over the class (see [`floor_cost`]).
    pub minima: Minima,
}

impl ClassIndex {
    /// The runs of `by_cell` inside each of `regions`, one per region and resolution (they
    /// overlap when regions do).
    pub(crate) fn region_runs<'a>(
        &'a self,
        regions: &'a [Cell],
    ) -> impl Iterator<Item = std::ops::Range<usize>> + 'a {
        regions.iter().flat_map(move |r| {
            self.resolutions.iter().filter_map(move |&res| {
                let range = r.descendant_range(res)?;
                let (lo, hi) = (range.start().to_u64(), range.end().to_u64());
                let start = self.cell_keys.partition_point(|&c| c < lo);
                let end = self.cell_keys.partition_point(|&c| c <= hi);
                Some(start..end)
            })
        })
    }
}

/// Assets of one class (and region set) in price-score order, with the contention frontier a
/// walk starts from.
pub(crate) struct Walk {
    /// The assets in (score, id, index) order, as positions in [`Index::hot`] (ascending).
    pub order: Vec<u32>,
    /// `cum_slots[i]`: mean replicas that fit on `order[..i]` (the contention frontier), as far
    /// as [`Walk::frontier`] has needed it: demand rarely reaches past the cheapest few percent.
    cum_slots: Vec<u64>,
    /// The replica the slots are counted for (the class's mean).
    per: crate::Units,
    /// Replicas claimed by earlier walks of this list (their start moves past the cheapest).
    pub claimed: u64,
    /// Whether every asset of `order` is known to be inside the workload's regions.
    pub in_region: bool,
}

impl Walk {
    /// The walk over `order` (positions in `hot`, in score order) for replicas like `per`.
    pub(crate) fn new(order: Vec<u32>, per: &crate::Units, in_region: bool) -> Self {
        Walk {
            order,
            cum_slots: vec![0],
            per: *per,
            claimed: 0,
            in_region,
        }
    }

    /// The first position whose prefix `order[..=position]` holds at least `demand` replicas
    /// like `per`, less one (0 at the least; the length when the whole walk holds less).
    pub(crate) fn frontier(&mut self, hot: &[Hot], demand: u64) -> usize {
        while self.cum_slots.last().is_some_and(|&s| s < demand)
            && self.cum_slots.len() <= self.order.len()
        {
            let k = self.cum_slots.len() - 1;
            let a = &hot[self.order[k] as usize].a;
            let next = self.cum_slots[k].saturating_add(slots(&a.free, &self.per, 1 << 20));
            self.cum_slots.push(next);
        }
        // The prefix sums are non-decreasing, and computed up to the first at least `demand`
        // (or to the end): the same answer as over the whole array.
        self.cum_slots
            .partition_point(|&s| s < demand)
            .saturating_sub(1)
    }
}

/// Per-dimension prices and (last) missing uptime, as minima over a set of assets: all
/// `u64::MAX` for the empty set.
pub(crate) type Minima = [u64; DIMS + 1];

/// Lower `f` to include asset `a`.
pub(crate) fn include(f: &mut Minima, a: &Asset) {
    for d in 0..DIMS {
        f[d] = f[d].min(a.price[d]);
    }
    f[DIMS] = f[DIMS].min(1000u64.saturating_sub(u64::from(a.uptime_permille.min(1000))));
}

/// The lowest cost a replica of `per` can have on an asset whose prices and missing uptime are
/// at least `f` (distance counted as 0); `u64::MAX` for an empty set.
pub(crate) fn floor_cost(f: &Minima, per: &crate::Units, cost: &CostParams) -> u64 {
    if f[DIMS] == u64::MAX {
        return u64::MAX;
    }
    let mut sum: u128 = u128::from(f[DIMS]) * u128::from(cost.reliability_penalty_per_permille);
    for d in 0..DIMS {
        sum = sum.saturating_add(u128::from(f[d]) * u128::from(per[d]));
    }
    u64::try_from(sum).unwrap_or(u64::MAX)
}

impl<'p> Index<'p> {
    pub(crate) fn new(p: &'p Problem) -> Self {
        let cells: Vec<Option<Spot>> = p.assets.iter().map(|a| Spot::of(a.cell)).collect();
        let mut members: BTreeMap<u8, Vec<u32>> = BTreeMap::new();
        for (i, a) in p.assets.iter().enumerate() {
            members.entry(a.class).or_default().push(index_u32(i));
        }
        // The mean replica of each class weighs the price dimensions of the score order.
        let mut mean: BTreeMap<u8, ([u128; DIMS], u128)> = BTreeMap::new();
        for w in &p.workloads {
            let m = mean.entry(w.class).or_insert(([0; DIMS], 0));
            for d in 0..DIMS {
                m.0[d] += u128::from(w.per_replica[d]);
            }
            m.1 += 1;
        }
        let mut classes = BTreeMap::new();
        let mut pos = vec![0u32; p.assets.len()];
        let mut hot = Vec::with_capacity(p.assets.len());
        for (class, list) in members {
            // Sorted on keys computed once (a key read from the asset at every comparison
            // made the sorts a tenth of a solve).
            let by_cell = sorted_by(&list, |i| {
                let a = &p.assets[i as usize];
                (a.cell, a.id, i)
            });
            let mut resolutions: Vec<u8> = list
                .iter()
                .filter_map(|&i| cells[i as usize].map(|s| s.cell.resolution()))
                .collect();
            resolutions.sort_unstable();
            resolutions.dedup();
            let per = mean.get(&class).map_or([1; DIMS], |(sum, n)| {
                let mut per = [0u64; DIMS];
                for d in 0..DIMS {
                    per[d] = u64::try_from(sum[d] / n).unwrap_or(u64::MAX);
                }
                per
            });
            let score = |a: &Asset| {
                u128::from(price_term(a, &per)) + u128::from(reliability_term(a, &p.cost))
            };
            let by_score = sorted_by(&list, |i| {
                let a = &p.assets[i as usize];
                (score(a), a.id, i)
            });
            let offset = index_u32(hot.len());
            let mut minima = [u64::MAX; DIMS + 1];
            for &i in &by_score {
                include(&mut minima, &p.assets[i as usize]);
                pos[i as usize] = index_u32(hot.len());
                hot.push(Hot {
                    a: p.assets[i as usize],
                    cell: cells[i as usize],
                    ai: i,
                });
            }
            let cell_keys = by_cell.iter().map(|&i| p.assets[i as usize].cell).collect();
            let mut gpu_models = BTreeMap::new();
            for &i in &by_cell {
                *gpu_models
                    .entry(p.assets[i as usize].gpu_model)
                    .or_insert(0) += 1;
            }
            classes.insert(
                class,
                ClassIndex {
                    by_cell,
                    cell_keys,
                    resolutions,
                    by_score,
                    mean_per: per,
                    offset,
                    gpu_models,
                    minima,
                },
            );
        }
        Index {
            p,
            cells,
            classes,
            pos,
            price_floors: hot.iter().map(|h| PriceFloor::of(&h.a)).collect(),
            hot,
        }
    }

    /// Judge asset `ai` for workload `v`: the first filter it fails, or its cost.
    pub(crate) fn evaluate(&self, v: &WorkView<'_>, ai: u32) -> Result<CostTerms, Why> {
        judge_with(self.p, self.cells[ai as usize], v, ai)
    }

    /// The cost terms of asset `ai` for workload `v` if it passes every filter: the verdict of
    /// [`Index::evaluate`] without the reason, for candidate search. The distance, which
    /// needs H3, is measured last, only for assets every cheap filter admits.
    /// `in_region`: the caller already knows the asset is inside one of `v`'s regions.
    /// `h`: the asset's entry in [`Index::hot`].
    pub(crate) fn admit(&self, v: &WorkView<'_>, h: &Hot, in_region: bool) -> Option<CostTerms> {
        let (a, cell) = (&h.a, h.cell);
        class_and_region(cell, v, a, h.ai, in_region).ok()?;
        let price = tier_to_price(v.w, a).ok()?;
        let distance = distance_term(self.p, cell, v).ok()?;
        Some(CostTerms {
            price,
            distance,
            reliability: reliability_term(a, &self.p.cost),
        })
    }
}

/// Judge asset `ai` (whose decoded cell is `cell`) for workload `v`, stage by stage in funnel
/// order.
pub(crate) fn judge_with(
    p: &Problem,
    cell: Option<Spot>,
    v: &WorkView<'_>,
    ai: u32,
) -> Result<CostTerms, Why> {
    judge_asset(p, &p.assets[ai as usize], cell, v, ai)
}

/// [`judge_with`] given the asset `a` itself (index `ai`).
fn judge_asset(
    p: &Problem,
    a: &Asset,
    cell: Option<Spot>,
    v: &WorkView<'_>,
    ai: u32,
) -> Result<CostTerms, Why> {
    class_and_region(cell, v, a, ai, false)?;
    let distance = distance_term(p, cell, v)?;
    let price = tier_to_price(v.w, a)?;
    Ok(CostTerms {
        price,
        distance,
        reliability: reliability_term(a, &p.cost),
    })
}

/// The class stage (class, GPU model, exclusions) and the region stage for asset `a` (index
/// `ai`, decoded cell `cell`).
fn class_and_region(
    cell: Option<Spot>,
    v: &WorkView<'_>,
    a: &Asset,
    ai: u32,
    in_region: bool,
) -> Result<(), Why> {
    let w = v.w;
    if a.class != w.class
        || (w.gpu_model != 0 && a.gpu_model != w.gpu_model)
        || v.exclude.binary_search(&ai).is_ok()
    {
        return Err(Why::NoAssetOfClass);
    }
    if !v.regions.is_empty() && !in_region {
        let inside = cell.is_some_and(|s| v.regions.iter().any(|&r| s.cell.is_within(r)));
        if !inside {
            return Err(Why::OutsideRegion);
        }
    }
    Ok(())
}

/// The distance stage: the distance term from `v`'s `near` cell to `cell` (0 without one), or
/// [`Why::TooFar`].
fn distance_term(p: &Problem, cell: Option<Spot>, v: &WorkView<'_>) -> Result<u64, Why> {
    let Some((near_cell, near)) = v.near else {
        return Ok(0);
    };
    let metres = match (near_cell, cell) {
        (Some(n), Some(c)) => distance_m(&n, &c),
        _ => None,
    };
    let metres = match metres {
        Some(m) if near.max_m == 0 || m <= near.max_m => m,
        None if near.max_m == 0 => crate::UNMEASURED_DISTANCE_M,
        _ => return Err(Why::TooFar),
    };
    // In u64 when the product fits (the same result; u128 division is a library call).
    if let Some(product) = metres.checked_mul(p.cost.distance_penalty_per_km) {
        return Ok(product / 1000);
    }
    let scaled = u128::from(metres) * u128::from(p.cost.distance_penalty_per_km) / 1000;
    Ok(u64::try_from(scaled).unwrap_or(u64::MAX))
}

/// An asset's tier, uptime, green flag and minimum lease in four bytes of at most 127 each:
/// the asset may pass those stages when every byte is at least the workload's
/// [`Gate::bar`]'s, the same test as free capacity against a replica (the solver tests both in
/// one word), and the rounding never turns away an asset that the stages admit. Candidate search
/// reads gates in walk order and passes over most assets no workload can take (a long
/// minimum lease, a low tier: they keep their room) without reading their records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Gate(pub u32);

/// The largest value of a byte of a [`Gate`].
const GATE_MAX: u32 = 127;

impl Gate {
    /// The four bytes, low to high: tier, uptime in eighths of a permille, green, and
    /// 127 − minimum lease (each capped at 127).
    fn pack(tier: u32, uptime_eighths: u32, green: u32, lease: u32) -> Self {
        let byte = |v: u32| v.min(GATE_MAX);
        Gate(
            byte(tier)
                | byte(uptime_eighths) << 8
                | byte(green) << 16
                | (GATE_MAX - lease.min(GATE_MAX)) << 24,
        )
    }

    /// The gate of asset `a`.
    pub(crate) fn of(a: &Asset) -> Self {
        Gate::pack(
            u32::from(a.tier),
            u32::from(a.uptime_permille / 8),
            u32::from(a.green),
            a.min_lease_epochs,
        )
    }

    /// The least gate workload `w` admits, byte by byte. Rounding only ever admits more: a
    /// tier or uptime above the cap, or a lease at the cap, passes on the bytes.
    pub(crate) fn bar(w: &Workload) -> Self {
        Gate::pack(
            u32::from(w.min_tier),
            u32::from(w.min_uptime_permille / 8),
            u32::from(w.green_only),
            w.duration_epochs,
        )
    }
}

/// The stages that follow distance in the funnel, in funnel order (tier to capacity): the price
/// term, or the first stage `a` fails for `w`. Candidate search ([`Index::admit`]) runs them
/// before distance, which needs H3.
fn tier_to_price(w: &Workload, a: &Asset) -> Result<u64, Why> {
    if a.tier < w.min_tier {
        return Err(Why::TierTooLow);
    }
    if a.uptime_permille < w.min_uptime_permille {
        return Err(Why::UptimeTooLow);
    }
    if w.green_only && !a.green {
        return Err(Why::NotGreen);
    }
    if a.min_lease_epochs > w.duration_epochs {
        return Err(Why::MinLeaseTooLong);
    }
    let price = price_term(a, &w.per_replica);
    if price > w.max_price || a.metered_price > w.max_metered_price {
        return Err(Why::OverMaxPrice);
    }
    if !fits(&a.free, &w.per_replica) {
        return Err(Why::NoCapacity);
    }
    Ok(price)
}

impl Index<'_> {
    /// The assets of `v`'s class inside its regions (all of the class without regions), in
    /// index order, deduplicated.
    pub(crate) fn base_set(&self, v: &WorkView<'_>) -> Vec<u32> {
        let Some(ci) = self.classes.get(&v.w.class) else {
            return Vec::new();
        };
        if v.w.regions.is_empty() {
            let mut all = ci.by_cell.clone();
            all.sort_unstable();
            return all;
        }
        let mut out = Vec::new();
        for run in ci.region_runs(&v.regions) {
            out.extend_from_slice(&ci.by_cell[run]);
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    /// The funnel of `v` over every asset of its class, and the `Why` of the first stage that
    /// left too few (`None` if every stage left enough).
    pub(crate) fn funnel(&self, v: &WorkView<'_>, need: u16) -> (Funnel, Option<Why>) {
        let w = v.w;
        let mut reached = [0u32; STAGES.len() + 1];
        let mut passed = Vec::new();
        if let Some(ci) = self.classes.get(&w.class) {
            let mut judge = |h: &Hot| {
                let stage = match judge_asset(self.p, &h.a, h.cell, v, h.ai) {
                    Ok(_) => {
                        passed.push(h.ai);
                        STAGES.len()
                    }
                    Err(why) => STAGES.iter().position(|s| *s == why).unwrap_or(0),
                };
                // The asset passed every stage before `stage`.
                for r in reached.iter_mut().take(stage + 1) {
                    *r += 1;
                }
            };
            if w.regions.is_empty() {
                // The class's run of `hot`, read in sequence (the counts, and what `passed`
                // yields below, do not depend on the order).
                let first = ci.offset as usize;
                self.hot[first..first + ci.by_score.len()]
                    .iter()
                    .for_each(judge);
            } else {
                // Only the assets inside the regions are read: the others fail at the region
                // stage, so they only count for the class stage, which is counted here without
                // reading them (a funnel over the whole class read every record, for each
                // workload left short).
                for ai in self.base_set(v) {
                    judge(&self.hot[self.pos[ai as usize] as usize]);
                }
                let of_model = if w.gpu_model == 0 {
                    ci.by_score.len()
                } else {
                    ci.gpu_models.get(&w.gpu_model).copied().unwrap_or(0)
                };
                let excluded = v
                    .exclude
                    .iter()
                    .filter_map(|&ai| self.p.assets.get(ai as usize))
                    .filter(|a| {
                        a.class == w.class && (w.gpu_model == 0 || a.gpu_model == w.gpu_model)
                    })
                    .count();
                reached[1] = index_u32(of_model - excluded);
            }
        }
        // reached[k]: assets that passed stages 0..k (reached[0] counts the class, minus none).
        // Stage 0 (class) counts assets that are of the class and not excluded.
        let counts: Vec<u32> = (0..STAGES.len()).map(|k| reached[k + 1]).collect();
        let anti = w.has_anti_affinity();
        let distinct = if anti {
            self.distinct_groups(v, &passed)
        } else {
            counts[8]
        };
        let funnel = Funnel {
            class: counts[0],
            region: counts[1],
            distance: counts[2],
            tier: counts[3],
            uptime: counts[4],
            green: counts[5],
            lease_length: counts[6],
            price: counts[7],
            capacity: counts[8],
            distinct,
        };
        let need_assets = if anti {
            u32::from(need)
        } else {
            u32::from(need.min(1))
        };
        let mut why = STAGES
            .iter()
            .zip(&counts)
            .find(|(_, c)| **c < need_assets)
            .map(|(s, _)| *s);
        if why.is_none() {
            if anti {
                if distinct < u32::from(need) {
                    why = Some(Why::TooFewDistinct);
                }
            } else {
                let total: u64 = passed
                    .iter()
                    .map(|&ai| {
                        slots(
                            &self.p.assets[ai as usize].free,
                            &w.per_replica,
                            u64::from(need),
                        )
                    })
                    .fold(0u64, u64::saturating_add);
                if total < u64::from(need) {
                    why = Some(Why::NoCapacity);
                }
            }
        }
        (funnel, why)
    }

    /// The fewest distinct values, over the requested attributes, among `assets`, with the
    /// values of the workload's running replicas removed.
    pub(crate) fn distinct_groups(&self, v: &WorkView<'_>, assets: &[u32]) -> u32 {
        let w = v.w;
        let used: Vec<Attrs> = self.placed_attrs(w);
        let all: Vec<Attrs> = assets
            .iter()
            .map(|&ai| attrs(w, &self.p.assets[ai as usize]))
            .collect();
        let mut best = u32::MAX;
        let mut count = |key: &dyn Fn(&Attrs) -> u64| {
            let mut vals: Vec<u64> = all
                .iter()
                .map(key)
                .filter(|k| !used.iter().any(|u| key(u) == *k))
                .collect();
            vals.sort_unstable();
            vals.dedup();
            best = best.min(u32::try_from(vals.len()).unwrap_or(u32::MAX));
        };
        if w.distinct_owners {
            count(&|x: &Attrs| x.owner);
        }
        if w.distinct_cells_res.is_some() {
            count(&|x: &Attrs| x.cell);
        }
        if w.distinct_energy {
            count(&|x: &Attrs| u64::from(x.energy));
        }
        if best == u32::MAX {
            u32::try_from(assets.len()).unwrap_or(u32::MAX)
        } else {
            best
        }
    }

    /// The attributes of the workload's running replicas (indexes out of range ignored).
    pub(crate) fn placed_attrs(&self, w: &Workload) -> Vec<Attrs> {
        w.placed
            .iter()
            .filter_map(|&ai| self.p.assets.get(ai as usize))
            .map(|a| attrs(w, a))
            .collect()
    }
}

/// `items` ordered by `key` (a total order: the keys end with the item), each key computed
/// once.
fn sorted_by<K: Ord>(items: &[u32], key: impl Fn(u32) -> K) -> Vec<u32> {
    let mut keyed: Vec<(K, u32)> = items.iter().map(|&i| (key(i), i)).collect();
    keyed.sort_unstable();
    keyed.into_iter().map(|(_, i)| i).collect()
}

/// A `usize` index as `u32` (problems are bounded far below 2^32 entries by the caller).
pub(crate) fn index_u32(i: usize) -> u32 {
    u32::try_from(i).expect("invariant: fewer than 2^32 assets and workloads")
}

/// Judge one pair: the first filter asset `asset` fails for workload `workload`, in funnel
/// order (anti-affinity aside), or the cost terms of one replica there. For "why not this
/// asset" questions and tests; allocation itself judges pairs through its indexes.
///
/// # Panics
///
/// When an index is out of range (a programmer error).
pub fn judge(p: &Problem, workload: u32, asset: u32) -> Result<CostTerms, Why> {
    let v = WorkView::new(&p.workloads[workload as usize]);
    let cell = Spot::of(p.assets[asset as usize].cell);
    judge_with(p, cell, &v, asset)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::{PriceFloor, price_term, reliability_term};
    use crate::{Asset, CostParams};

    /// A price per dimension: small, near the two-byte cap, or huge.
    fn price() -> impl Strategy<Value = u64> {
        prop_oneof![0u64..100, 65_000u64..70_000, Just(u64::MAX)]
    }

    proptest! {
        /// A price floor never exceeds the price and reliability terms it stands for (a search
        /// passes an asset over when its floor is above the K-th cheapest found), and equals
        /// them when no price reaches the cap.
        #[test]
        fn a_price_floor_is_at_most_the_terms(
            prices in proptest::array::uniform4(price()),
            per in proptest::array::uniform4(prop_oneof![Just(0u64), 1u64..200, Just(u64::MAX / 3)]),
            uptime_permille in 0u16..1_200,
            penalty in prop_oneof![0u64..10, Just(u64::MAX / 7)],
        ) {
            let a = Asset { price: prices, uptime_permille, ..Asset::default() };
            let cost = CostParams { distance_penalty_per_km: 0, reliability_penalty_per_permille: penalty };
            let floor = PriceFloor::of(&a).cost(&per, &cost);
            let terms = price_term(&a, &per).saturating_add(reliability_term(&a, &cost));
            prop_assert!(floor <= terms, "{} > {}", floor, terms);
            if prices.iter().all(|&p| p < 65_535) && per.iter().all(|&u| u < 200) && penalty < 10 {
                prop_assert_eq!(floor, terms);
            }
        }
    }
}
