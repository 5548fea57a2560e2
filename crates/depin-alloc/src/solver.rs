//! Optimize the placement: candidate pruning, Lagrangian relaxation of capacity, primal repair
//! in workload order, local improvement; plus the greedy baseline and the lower bound.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use crate::eval::{
    Attrs, Gate, Index, Walk, WorkView, attrs, attrs_decoded, fits, floor_cost, index_u32, slots,
};
use crate::select::{clashes, pick};
use crate::{CostTerms, DIMS, Placement, Problem, Solution, Stats, Units, Unplaced, Why};

/// Fewest candidates kept per workload (more for many replicas: `3 × replicas`).
const K_MIN: usize = 8;
/// Walk entries a search tests for room and gate at a time (at most 64: one bit each).
const SCAN_CHUNK: usize = 64;
/// Assets with room a walk search sees at least before it stops (when its walk has them):
/// feasible ones, and ones whose price floor shows them dearer than the K cheapest feasible
/// found so far (passed over without reading their records). The workload keeps the K
/// cheapest. The search reads the walk in class-mean price order, so the workload's own
/// cheapest assets lie scattered along it: at 100k × 100k, 32 gives a total cost of 248 M,
/// 40 gives 231 M and 48 gives 218 M, each ≈ 5–10 % slower than the one before; 32 keeps the
/// time target's margin (BENCHMARKS.md).
const SEARCH_MIN: usize = 32;
/// A workload whose class-and-region set has at most this many assets has every one of them
/// judged; larger sets are walked in price-score order from the contention frontier.
const FULL_SCAN_MAX: usize = 256;
/// Subgradient iterations (a fixed budget, so the run time is predictable).
const ITERATIONS: u32 = 12;
/// Fractional bits of the fixed-point multipliers λ.
const FP: u32 = 16;
/// Fractional bits of the normalized subgradient.
const GP: u32 = 10;
/// Regret restarts at most: each serves one more high-regret workload first.
const RESTARTS: usize = 8;
/// Candidate pairs above which no restart runs (each costs a primal pass and local search).
/// The same work budget as [`DUAL_MAX_CANDIDATES`].
const RESTART_MAX_CANDIDATES: usize = DUAL_MAX_CANDIDATES;
/// Candidate pairs above which `solve` runs no subgradient steps (a fixed work budget). On
/// large problems most workloads walk a truncated list whose floor (the cheapest prices of
/// thousands of assets left out) is below every real candidate, so raising λ moves their
/// bound onto the floor while `Σ λ·free` grows: the best multipliers stay the first, λ = 0
/// (measured on the sample problems from 10,000 workloads up), and the steps are wasted.
const DUAL_MAX_CANDIDATES: usize = 50_000;
/// Local-improvement passes at most.
const IMPROVE_PASSES: u32 = 2;
/// Replicas on a full asset an ejection chain tries to move away, at most.
const EJECT_TRIES: usize = 8;

/// A candidate asset of one workload.
#[derive(Clone, Copy, Debug)]
struct Cand {
    asset: u32,
    id: u64,
    cost: u64,
    terms: CostTerms,
    attrs: Attrs,
}

/// The problem decoded, with every workload's pruned candidates (sorted by cost, id, index).
struct Prep<'p> {
    idx: Index<'p>,
    views: Vec<WorkView<'p>>,
    cands: Vec<Cand>,
    start: Vec<usize>,
    /// Per workload: a lower bound on the cost of any feasible asset left out of its
    /// candidates (`u64::MAX`: none left out, the list is exhaustive).
    floor: Vec<u64>,
    used: Vec<Vec<Attrs>>,
    /// Score-ordered walks, one per (class, regions) of a workload whose set is too large to
    /// judge in full, in order of the workloads' first use.
    walks: Vec<Walk>,
    /// Per workload: its walk (`None`: its whole set is judged).
    walk_of: Vec<Option<u32>>,
    /// Per workload with a walk: where its search started (its contention frontier).
    walk_from: Vec<u32>,
    /// Per position of [`Index::hot`]: its asset's free capacity capped and its [`Gate`], the
    /// first word of its walk entries (a compact copy: walks gather from it, not from the
    /// records).
    first_words: Vec<RoomAndGate>,
    /// The places of each position of [`Index::hot`] in the walks, as (walk id, index in its
    /// order): those of position `at` are `in_walks[in_walks_start[at]..in_walks_start[at + 1]]`.
    in_walks: Vec<(u32, u32)>,
    in_walks_start: Vec<usize>,
    evaluated: u64,
    /// One workload's feasible assets while its candidates are chosen (kept between workloads
    /// to reuse the allocation).
    feasible: Vec<Cand>,
}

/// A walk's key: the class and the workload's valid region cells, sorted (empty: anywhere).
type WalkKey = (u8, Vec<u64>);

impl<'p> Prep<'p> {
    /// The problem decoded and its walks made; no candidates yet (see [`prepare`]).
    fn new(p: &'p Problem) -> Self {
        let idx = Index::new(p);
        let views: Vec<WorkView<'p>> = p.workloads.iter().map(WorkView::new).collect();
        let used = p.workloads.iter().map(|w| idx.placed_attrs(w)).collect();
        let mut walks = Vec::new();
        let mut walk_ids: BTreeMap<WalkKey, u32> = BTreeMap::new();
        let mut by_region = BTreeMap::new();
        let walk_of = views
            .iter()
            .map(|v| {
                if v.w.replicas == 0 || base_len(&idx, v) <= FULL_SCAN_MAX {
                    return None;
                }
                let next_id = index_u32(walks.len());
                let id = *walk_ids.entry(walk_key(v)).or_insert(next_id);
                if id == next_id {
                    walks.push(new_walk(&idx, v, &mut by_region));
                }
                Some(id)
            })
            .collect();
        let (in_walks, in_walks_start) = group_by(idx.hot.len(), || {
            walks.iter().enumerate().flat_map(|(id, walk)| {
                let id = index_u32(id);
                walk.order
                    .iter()
                    .enumerate()
                    .map(move |(k, &at)| (at as usize, (id, index_u32(k))))
            })
        });
        let first_words = idx
            .hot
            .iter()
            .map(|h| u64::from(capped(&h.a.free)) | u64::from(Gate::of(&h.a).0) << 32)
            .collect();
        Prep {
            idx,
            views,
            first_words,
            cands: Vec::new(),
            start: vec![0],
            floor: Vec::with_capacity(p.workloads.len()),
            used,
            walks,
            walk_of,
            walk_from: vec![0; p.workloads.len()],
            in_walks,
            in_walks_start,
            evaluated: 0,
            feasible: Vec::new(),
        }
    }

    fn list(&self, w: usize) -> &[Cand] {
        &self.cands[self.start[w]..self.start[w + 1]]
    }

    /// Judge workload `wi`'s assets and append its kept candidates and its floor. A workload
    /// with a walk judges only assets with room for it in `placer` (the capacity the
    /// workloads before it left), from its contention frontier on.
    fn candidates(&mut self, wi: usize, placer: &Placer) {
        let floor = self.candidates_and_floor(wi, placer);
        self.floor.push(floor);
        self.start.push(self.cands.len());
    }

    /// [`Prep::candidates`] without the bookkeeping: returns the floor.
    fn candidates_and_floor(&mut self, wi: usize, placer: &Placer) -> u64 {
        let idx = &self.idx;
        let v = &self.views[wi];
        let w = v.w;
        let need = usize::from(w.replicas);
        let Some(ci) = idx.classes.get(&w.class).filter(|_| need > 0) else {
            return u64::MAX;
        };
        let k = K_MIN.max(3 * need);
        let mut feasible = std::mem::take(&mut self.feasible);
        feasible.clear();
        let mut floor = u64::MAX;
        match self.walk_of[wi] {
            None => {
                for ai in idx.base_set(v) {
                    self.evaluated += 1;
                    if let Some(c) = cand(idx, v, idx.pos[ai as usize], false) {
                        feasible.push(c);
                    }
                }
            }
            Some(id) => {
                // Every asset of the class not judged here (full, or not reached) costs at
                // least the class's floor.
                floor = floor_cost(&ci.minima, &w.per_replica, &idx.p.cost);
                let walk = &mut self.walks[id as usize];
                // Start where about half of the earlier demand on this walk would have filled
                // its cheapest assets (those before are mostly full, or passed over).
                let from = walk.frontier(&idx.hot, walk.claimed / 2);
                walk.claimed = walk.claimed.saturating_add(need as u64);
                self.walk_from[wi] = index_u32(from);
                let enough = SEARCH_MIN.max(2 * k);
                let mut grouping = Grouping::new(w);
                let stop = |new: Option<&Cand>, seen: usize| {
                    new.inspect(|c| grouping.add(&c.attrs));
                    seen >= enough && grouping.enough()
                };
                let id = id as usize;
                let room = &placer.walk_room[id];
                let judged = scan_walk(
                    idx,
                    walk,
                    from,
                    room,
                    &placer.residual,
                    v,
                    k,
                    &mut feasible,
                    stop,
                );
                self.evaluated += judged as u64;
            }
        }
        // The `keep` cheapest first, and the next at `keep` (no need to order the rest).
        let mut keep = k.min(feasible.len());
        if keep < feasible.len() {
            feasible.select_nth_unstable_by(keep, cand_order);
        }
        if w.has_anti_affinity()
            && keep < feasible.len()
            && !Grouping::of(w, &feasible[..keep]).enough()
        {
            // Extend to the shortest prefix with more groups than replicas (binary search over
            // the whole list in order: the group count only grows with the prefix).
            feasible.sort_unstable_by(cand_order);
            let (mut lo, mut hi) = (keep, feasible.len());
            while lo < hi {
                let mid = lo + (hi - lo) / 2;
                if Grouping::of(w, &feasible[..mid]).enough() {
                    hi = mid
                } else {
                    lo = mid + 1
                }
            }
            keep = lo;
        }
        feasible[..keep].sort_unstable_by(cand_order);
        if let Some(first_dropped) = feasible.get(keep) {
            floor = floor.min(first_dropped.cost);
        }
        self.cands.extend_from_slice(&feasible[..keep]);
        self.feasible = feasible;
        floor
    }
}

/// The problem prepared, and the first assignment: the workloads in order, each judging its
/// candidates against the capacity the ones before it left, then placed on the best of them
/// (λ = 0: the greedy baseline).
fn prepare(p: &Problem) -> (Prep<'_>, Assign) {
    let mut prep = Prep::new(p);
    // About K_MIN candidates a workload (more for many replicas): one allocation, not a
    // doubling series copying tens of MB.
    prep.cands.reserve(prep.views.len() * (K_MIN + 1));
    let mut placer = Placer::new(&prep);
    for wi in 0..prep.views.len() {
        prep.candidates(wi, &placer);
        placer.place(&prep, wi, None);
    }
    (prep, placer.into_assign())
}

/// The candidate at position `at` of [`Index::hot`] for `v`, if feasible (`in_region`: known
/// to be inside `v`'s regions).
fn cand(idx: &Index<'_>, v: &WorkView<'_>, at: u32, in_region: bool) -> Option<Cand> {
    let h = &idx.hot[at as usize];
    let terms = idx.admit(v, h, in_region)?;
    let a = &h.a;
    Some(Cand {
        asset: h.ai,
        id: a.id,
        cost: terms.total(),
        terms,
        attrs: attrs_decoded(v.w, a, h.cell.map(|s| s.cell)),
    })
}

/// The walk key of `v`.
fn walk_key(v: &WorkView<'_>) -> WalkKey {
    let mut cells: Vec<u64> = v.regions.iter().map(|c| c.to_u64()).collect();
    cells.sort_unstable();
    cells.dedup();
    (v.w.class, cells)
}

/// The score-ordered walk over `v`'s class-and-region set. `by_region` keeps the sorted
/// positions of each (class, region cell) made so far: a walk over several regions merges
/// theirs instead of sorting again (most multi-region walks share their regions with others).
fn new_walk(
    idx: &Index<'_>,
    v: &WorkView<'_>,
    by_region: &mut BTreeMap<(u8, u64), Vec<u32>>,
) -> Walk {
    let ci = &idx.classes[&v.w.class];
    if v.w.regions.is_empty() {
        let all = ci.offset..ci.offset + index_u32(ci.by_score.len());
        return Walk::new(all.collect(), &ci.mean_per, false);
    }
    let mut cells = v.regions.clone();
    cells.sort_unstable_by_key(|c| c.to_u64());
    cells.dedup_by_key(|c| c.to_u64());
    for region in &cells {
        by_region
            .entry((v.w.class, region.to_u64()))
            .or_insert_with(|| {
                // The positions of the region's runs (one per resolution), sorted once.
                let mut order: Vec<u32> = Vec::new();
                for run in ci.region_runs(std::slice::from_ref(region)) {
                    order.extend(ci.by_cell[run].iter().map(|&ai| idx.pos[ai as usize]));
                }
                order.sort_unstable();
                order
            });
    }
    let lists: Vec<&[u32]> = cells
        .iter()
        .map(|region| by_region[&(v.w.class, region.to_u64())].as_slice())
        .collect();
    // Their union, in order (regions may overlap: duplicates dropped).
    let mut order: Vec<u32> = match lists.as_slice() {
        [one] => one.to_vec(),
        [a, b] => merged(a, b),
        many => {
            let mut all: Vec<u32> = many.concat();
            all.sort_unstable();
            all
        }
    };
    order.dedup();
    Walk::new(order, &ci.mean_per, true)
}

/// Two ascending lists merged into one, ascending.
fn merged(a: &[u32], b: &[u32]) -> Vec<u32> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        if a[i] <= b[j] {
            out.push(a[i]);
            i += 1;
        } else {
            out.push(b[j]);
            j += 1;
        }
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
    out
}

/// Candidates by cost, then asset id, then index.
fn cand_order(a: &Cand, b: &Cand) -> Ordering {
    (a.cost, a.id, a.asset).cmp(&(b.cost, b.id, b.asset))
}

/// Upper estimate of the size of `v`'s class-and-region set.
fn base_len(idx: &Index<'_>, v: &WorkView<'_>) -> usize {
    let Some(ci) = idx.classes.get(&v.w.class) else {
        return 0;
    };
    if v.w.regions.is_empty() {
        return ci.by_cell.len();
    }
    ci.region_runs(&v.regions).map(|run| run.len()).sum()
}

/// One anti-affinity attribute of an asset, as a number.
type AttrKey = fn(&Attrs) -> u64;

/// Whether candidates form more anti-affinity groups than the workload has replicas (without
/// anti-affinity: more candidates than replicas), counted as they come: of each requested
/// attribute, the distinct values up to `replicas + 1` (a search asks after every candidate it
/// finds).
struct Grouping {
    /// Per requested attribute (owner, cell, energy): its key, and the distinct values so far.
    keys: Vec<(AttrKey, Vec<u64>)>,
    need: usize,
    added: usize,
}

impl Grouping {
    fn new(w: &crate::Workload) -> Self {
        let mut keys: Vec<(AttrKey, Vec<u64>)> = Vec::new();
        if w.distinct_owners {
            keys.push((|x| x.owner, Vec::new()));
        }
        if w.distinct_cells_res.is_some() {
            keys.push((|x| x.cell, Vec::new()));
        }
        if w.distinct_energy {
            keys.push((|x| u64::from(x.energy), Vec::new()));
        }
        Grouping {
            keys,
            need: usize::from(w.replicas),
            added: 0,
        }
    }

    /// The grouping of `cands` for workload `w`.
    fn of(w: &crate::Workload, cands: &[Cand]) -> Self {
        let mut grouping = Grouping::new(w);
        for c in cands {
            grouping.add(&c.attrs);
        }
        grouping
    }

    /// Count one more candidate.
    fn add(&mut self, x: &Attrs) {
        self.added += 1;
        for (key, values) in &mut self.keys {
            let v = key(x);
            if values.len() <= self.need && !values.contains(&v) {
                values.push(v);
            }
        }
    }

    /// Whether the candidates added form more groups than replicas.
    fn enough(&self) -> bool {
        if self.keys.is_empty() {
            return self.added > self.need;
        }
        self.keys.iter().all(|(_, values)| values.len() > self.need)
    }
}

/// Per-asset, per-dimension multipliers in fixed point (`FP` fractional bits), credits per unit.
type Lambda = Vec<Units>;

/// Whether some multiplier is positive (with all zero, reduced costs are the costs and every
/// order under them is the candidates' own order).
fn has_price(lambda: &Lambda) -> bool {
    lambda.iter().any(|l| l.iter().any(|&x| x > 0))
}

/// The reduced cost of a replica of `per` on candidate `c`, in fixed point.
fn reduced(c: &Cand, per: &Units, lambda: Option<&Lambda>) -> u128 {
    let mut rc = u128::from(c.cost) << FP;
    if let Some(l) = lambda {
        let l = &l[c.asset as usize];
        for d in 0..DIMS {
            rc += u128::from(l[d]) * u128::from(per[d]);
        }
    }
    rc
}

/// `w`'s candidates ordered by reduced cost (ties: id, index), as positions in its list.
fn ordered(list: &[Cand], per: &Units, lambda: Option<&Lambda>) -> Vec<(u128, u32)> {
    let mut order: Vec<(u128, u32)> = list
        .iter()
        .enumerate()
        .map(|(i, c)| (reduced(c, per, lambda), index_u32(i)))
        .collect();
    if lambda.is_some() {
        order.sort_unstable_by(|a, b| {
            let (ca, cb) = (&list[a.1 as usize], &list[b.1 as usize]);
            (a.0, ca.id, ca.asset).cmp(&(b.0, cb.id, cb.asset))
        });
    }
    order
}

/// The least reduced cost of `need` replicas of an anti-affinity workload `w` over `order` plus
/// a repeatable virtual asset at `floor`, keeping one anti-affinity attribute at a time (each is
/// a valid bound; the largest is returned); `None` when fewer than `need` can be formed.
fn workload_bound(
    w: &crate::Workload,
    list: &[Cand],
    order: &[(u128, u32)],
    used: &[Attrs],
    floor: u64,
) -> Option<u128> {
    let need = u64::from(w.replicas);
    let floor_fp = (floor != u64::MAX).then(|| u128::from(floor) << FP);
    let finish = |mut sum: u128, taken: u64| -> Option<u128> {
        if taken < need {
            sum += floor_fp? * u128::from(need - taken);
        }
        Some(sum)
    };
    let mut best: Option<u128> = Some(0);
    let mut each = |key: fn(&Attrs) -> u64| {
        let mut seen: Vec<u64> = used.iter().map(key).collect();
        let (mut sum, mut taken) = (0u128, 0u64);
        for &(rc, i) in order {
            if taken == need || floor_fp.is_some_and(|f| rc > f) {
                break;
            }
            let g = key(&list[i as usize].attrs);
            if seen.contains(&g) {
                continue;
            }
            seen.push(g);
            sum += rc;
            taken += 1;
        }
        let b = finish(sum, taken);
        best = match (best, b) {
            (Some(x), Some(y)) => Some(x.max(y)),
            _ => None,
        };
    };
    if w.distinct_owners {
        each(|x| x.owner);
    }
    if w.distinct_cells_res.is_some() {
        each(|x| x.cell);
    }
    if w.distinct_energy {
        each(|x| u64::from(x.energy));
    }
    best
}

/// The Lagrangian dual: multipliers, the best bound found and the multipliers that gave it.
struct Dual {
    best: Option<u128>,
    best_lambda: Lambda,
    iterations: u32,
}

/// Projected subgradient (Polyak steps towards `target`) on the capacity multipliers.
fn lagrange(prep: &Prep<'_>, target: Option<u128>) -> Dual {
    let p = prep.idx.p;
    let n_assets = p.assets.len();
    let mut lambda: Lambda = vec![[0; DIMS]; n_assets];
    // Mean replica size per dimension: normalizes the subgradient to "replicas".
    let mut norm = [0u128; DIMS];
    let mut n_w = 0u128;
    for w in &p.workloads {
        if w.replicas > 0 {
            for d in 0..DIMS {
                norm[d] += u128::from(w.per_replica[d]);
            }
            n_w += 1;
        }
    }
    for v in &mut norm {
        *v = v.checked_div(n_w).unwrap_or(0).max(1);
    }
    let mut best: Option<u128> = None;
    let mut best_lambda = lambda.clone();
    let mut theta_permille: i128 = 1000;
    let mut stale = 0;
    let mut usage: Vec<[u128; DIMS]> = vec![[0; DIMS]; n_assets];
    let mut iterations = 0;
    let mut all_bounded = true;
    for _ in 0..ITERATIONS {
        iterations += 1;
        usage.fill([0; DIMS]);
        // Workloads that cannot be bounded (too few feasible assets) still steer λ through
        // their choices, but then no bound is reported.
        let mut sum_fp: u128 = 0;
        let mut bounded = true;
        for (wi, v) in prep.views.iter().enumerate() {
            let w = v.w;
            if w.replicas == 0 {
                continue;
            }
            let list = prep.list(wi);
            let order = ordered(list, &w.per_replica, Some(&lambda));
            let bound = workload_bound_free(prep, w, list, &order, &prep.used[wi], prep.floor[wi]);
            match bound {
                Some(b) => sum_fp = sum_fp.saturating_add(b),
                None => bounded = false,
            }
            let chosen = pick(
                w,
                &prep.used[wi],
                order
                    .iter()
                    .map(|&(_, i)| (list[i as usize].asset, list[i as usize].attrs)),
                w.replicas,
                |ai| {
                    slots(
                        &p.assets[ai as usize].free,
                        &w.per_replica,
                        u64::from(w.replicas),
                    )
                },
            );
            for ai in chosen {
                let u = &mut usage[ai as usize];
                for d in 0..DIMS {
                    u[d] += u128::from(w.per_replica[d]);
                }
            }
        }
        let mut paid: u128 = 0;
        for (l, a) in lambda.iter().zip(&p.assets) {
            for d in 0..DIMS {
                paid = paid.saturating_add(u128::from(l[d]) * u128::from(a.free[d]));
            }
        }
        all_bounded &= bounded;
        let value = sum_fp.saturating_sub(paid) >> FP;
        if best.is_none_or(|b| value > b) {
            best = Some(value);
            best_lambda.clone_from(&lambda);
            stale = 0;
        } else {
            stale += 1;
            if stale >= 3 {
                theta_permille = (theta_permille / 2).max(1);
                stale = 0;
            }
        }
        // Normalized subgradient ĝ = (usage − free) / mean size, projected at λ = 0.
        let mut norm2: i128 = 0;
        let mut grads: Vec<(u32, usize, i128)> = Vec::new();
        for (ai, (u, a)) in usage.iter().zip(&p.assets).enumerate() {
            for d in 0..DIMS {
                let g = i128::try_from(u[d]).unwrap_or(i128::MAX / 4) - i128::from(a.free[d]);
                if g > 0 || (g < 0 && lambda[ai][d] > 0) {
                    let g_hat = (g << GP) / i128::try_from(norm[d]).unwrap_or(1);
                    let g_hat = g_hat.clamp(-(1 << 40), 1 << 40);
                    if g_hat != 0 {
                        norm2 = norm2.saturating_add(g_hat * g_hat);
                        grads.push((index_u32(ai), d, g_hat));
                    }
                }
            }
        }
        if norm2 == 0 {
            break; // the relaxed choice is feasible: λ is optimal
        }
        let goal = target.map_or(value + value / 10 + 1, |t| t.max(value + 1));
        let gap = i128::try_from(goal - value).unwrap_or(i128::MAX >> 64);
        for (ai, d, g_hat) in grads {
            // Δλ_d = θ·gap·ĝ/‖ĝ‖² / mean_d, in fixed point (see the unit note in the ADR).
            let num = theta_permille * gap * g_hat;
            let den = 1000 * norm2 / (1 << GP) * i128::try_from(norm[d]).unwrap_or(1);
            let delta = (num.saturating_mul(1 << FP)) / den.max(1);
            let l = &mut lambda[ai as usize][d];
            let next = (i128::from(*l) + delta).clamp(0, i128::from(u64::MAX));
            *l = u64::try_from(next).unwrap_or(u64::MAX);
        }
    }
    Dual {
        best: if all_bounded { best } else { None },
        best_lambda,
        iterations,
    }
}

/// [`workload_bound`] with the assets' real free capacity for the no-anti-affinity case.
fn workload_bound_free(
    prep: &Prep<'_>,
    w: &crate::Workload,
    list: &[Cand],
    order: &[(u128, u32)],
    used: &[Attrs],
    floor: u64,
) -> Option<u128> {
    if w.has_anti_affinity() {
        return workload_bound(w, list, order, used, floor);
    }
    let p = prep.idx.p;
    let need = u64::from(w.replicas);
    let floor_fp = (floor != u64::MAX).then(|| u128::from(floor) << FP);
    let (mut sum, mut taken) = (0u128, 0u64);
    for &(rc, i) in order {
        if taken == need || floor_fp.is_some_and(|f| rc > f) {
            break;
        }
        let c = &list[i as usize];
        let n = slots(
            &p.assets[c.asset as usize].free,
            &w.per_replica,
            need - taken,
        );
        sum += rc * u128::from(n);
        taken += n;
    }
    if taken < need {
        sum += floor_fp? * u128::from(need - taken);
    }
    Some(sum)
}

/// Replicas chosen per workload (asset, cost terms) and the capacity left.
#[derive(Clone)]
struct Assign {
    chosen: Vec<Vec<(u32, CostTerms)>>,
    residual: Vec<Units>,
    fallbacks: u32,
}

impl Assign {
    fn cost(&self) -> u128 {
        self.chosen
            .iter()
            .flatten()
            .map(|(_, t)| u128::from(t.total()))
            .sum()
    }

    /// True if `self` is better: more placed lexicographically in workload order, then cheaper.
    fn better_than(&self, other: &Assign) -> bool {
        for (a, b) in self.chosen.iter().zip(&other.chosen) {
            match a.len().cmp(&b.len()) {
                Ordering::Greater => return true,
                Ordering::Less => return false,
                Ordering::Equal => {}
            }
        }
        self.cost() < other.cost()
    }
}

/// Every feasible asset of `v` (a full judge of its class-and-region set), sorted.
fn full_candidates(prep: &Prep<'_>, v: &WorkView<'_>) -> Vec<Cand> {
    let mut out: Vec<Cand> = prep
        .idx
        .base_set(v)
        .into_iter()
        .filter_map(|ai| cand(&prep.idx, v, prep.idx.pos[ai as usize], false))
        .collect();
    out.sort_unstable_by(cand_order);
    out
}

/// Capacity capped at [`CAP`] units per dimension, one byte each in one word: `capped(free)`
/// [`holds`] `capped(per)` exactly when `free` holds `per`, for replicas of at most [`CAP`]
/// units in every dimension (for larger ones it is only necessary).
type Capped = u32;

/// The cap of [`Capped`]: below 128, so the top bit of each byte is free for [`holds`].
const CAP: u64 = 127;

/// The top bit of each dimension's byte in a [`Capped`].
const TOP_BITS: Capped = {
    assert!(DIMS <= 4, "a Capped holds four dimensions");
    let mut bits = 0;
    let mut d = 0;
    while d < DIMS {
        bits |= 0x80 << (8 * d);
        d += 1;
    }
    bits
};

/// `units` capped at [`CAP`] per dimension.
fn capped(units: &Units) -> Capped {
    let mut out = 0;
    for d in 0..DIMS {
        out |= Capped::try_from(units[d].min(CAP)).unwrap_or(0) << (8 * d);
    }
    out
}

/// Whether a replica of `per` is at most [`CAP`] units in every dimension, so that [`holds`]
/// decides exactly whether capacity holds it.
fn capped_is_exact(per: &Units) -> bool {
    per.iter().all(|&units| units <= CAP)
}

/// A walk entry's capped room (low half) and its asset's [`Gate`] (high half): a search tests
/// both in one word ([`holds_and_admits`]).
type RoomAndGate = u64;

/// The room of a walk entry.
fn room_of(word: RoomAndGate) -> Capped {
    (word & u64::from(Capped::MAX)) as Capped
}

/// Whether entry `word` has room for a replica and its gate admits the workload, `bar` being
/// the replica capped (low half) and the workload's [`Gate::bar`] (high half): every byte of
/// the entry at least the bar's, tested as [`holds`] does.
fn holds_and_admits(word: RoomAndGate, bar: u64) -> bool {
    const TOP: u64 = 0x8080_8080_8080_8080;
    ((word | TOP) - bar) & TOP == TOP
}

/// Whether `free` is at least `per` in every dimension: each byte of `(free | top bits) − per`
/// keeps its top bit exactly when that byte of `free` is at least `per`'s (the bytes are below
/// 128, so no borrow crosses into the next byte).
fn holds(free: Capped, per: Capped) -> bool {
    ((free | TOP_BITS) - per) & TOP_BITS == TOP_BITS
}

/// Scan `walk` for `v` from position `from` to its end, then from its start: the assets with
/// room for a replica in `residual` (`room`: the same capped, in walk order, with their gates)
/// are judged, and the feasible ones appended to `out`, until `stop(new, seen)` (`new`: the
/// feasible asset just found, or `None` for one passed over; `seen`: both so far). Once `keep`
/// are found, an asset whose price floor is above the `keep`-th cheapest found is passed
/// over without judging it: it cannot be among them. Returns how many assets with room were
/// met.
#[allow(
    clippy::too_many_arguments,
    reason = "the scan's inputs, all read-only but `out`"
)]
fn scan_walk(
    idx: &Index<'_>,
    walk: &Walk,
    from: usize,
    room: &[RoomAndGate],
    residual: &[Units],
    v: &WorkView<'_>,
    keep: usize,
    out: &mut Vec<Cand>,
    mut stop: impl FnMut(Option<&Cand>, usize) -> bool,
) -> usize {
    let per = &v.w.per_replica;
    let per_capped = capped(per);
    let capped_exact = capped_is_exact(per);
    let bar = u64::from(per_capped) | u64::from(Gate::bar(v.w).0) << 32;
    let mut judged = 0;
    let mut best: Vec<u64> = Vec::with_capacity(keep.min(64) + 1);
    let mut dropped = 0;
    let from = from.min(walk.order.len());
    for range in [from..walk.order.len(), 0..from] {
        // A chunk at a time: first, without branches, which of its assets have room and pass
        // their gate (the capped residuals and the gates are read in sequence, and most tests
        // fail, unpredictably); then the assets that did, one by one.
        for first in range.clone().step_by(SCAN_CHUNK) {
            let end = (first + SCAN_CHUNK).min(range.end);
            let (mut with_room, mut open) = (0u64, 0u64);
            for (i, &word) in room[first..end].iter().enumerate() {
                with_room |= u64::from(holds(room_of(word), per_capped)) << i;
                open |= u64::from(holds_and_admits(word, bar)) << i;
            }
            let mut left = open;
            while left != 0 {
                let i = left.trailing_zeros() as usize;
                left &= left - 1;
                let at = walk.order[first + i];
                if !capped_exact && !fits(&residual[idx.hot[at as usize].ai as usize], per) {
                    continue; // a replica of more than `CAP` units in some dimension
                }
                let done = if best.len() >= keep
                    && idx.price_floors[at as usize].cost(per, &idx.p.cost) > best[keep - 1]
                {
                    dropped += 1;
                    stop(None, out.len() + dropped)
                } else if let Some(c) = cand(idx, v, at, walk.in_region) {
                    let place = best.partition_point(|&x| x <= c.cost);
                    if place < keep {
                        best.insert(place, c.cost);
                        best.truncate(keep);
                    }
                    out.push(c);
                    stop(out.last(), out.len() + dropped)
                } else {
                    false
                };
                if done {
                    // The assets with room up to this one were judged.
                    return judged + (with_room & (u64::MAX >> (63 - i))).count_ones() as usize;
                }
            }
            judged += with_room.count_ones() as usize;
        }
    }
    judged
}

/// Feasible assets of workload `wi` with room left in `placer`, sorted: all of them when its
/// set was judged in full, else those its walk gives from its frontier on (then before it)
/// until at least [`SEARCH_MIN`] with more anti-affinity groups than replicas.
fn fallback_candidates(prep: &Prep<'_>, wi: usize, v: &WorkView<'_>, placer: &Placer) -> Vec<Cand> {
    let w = v.w;
    let Some(id) = prep.walk_of[wi] else {
        let room = |c: &Cand| fits(&placer.residual[c.asset as usize], &w.per_replica);
        return full_candidates(prep, v).into_iter().filter(room).collect();
    };
    let need = usize::from(w.replicas);
    let enough = SEARCH_MIN.max(2 * need);
    let mut out = Vec::new();
    let id = id as usize;
    let (walk, room) = (&prep.walks[id], &placer.walk_room[id]);
    let mut grouping = Grouping::new(w);
    let stop = |new: Option<&Cand>, seen: usize| {
        new.inspect(|c| grouping.add(&c.attrs));
        seen >= enough && grouping.enough()
    };
    let from = prep.walk_from[wi] as usize;
    scan_walk(
        &prep.idx,
        walk,
        from,
        room,
        &placer.residual,
        v,
        usize::MAX,
        &mut out,
        stop,
    );
    out.sort_unstable_by(cand_order);
    out
}

/// Place workloads in order, each on its best set under the reduced costs that fits the
/// remaining capacity; a workload short of room in its candidates gets a full scan.
fn primal(prep: &Prep<'_>, lambda: Option<&Lambda>) -> Assign {
    primal_in(prep, lambda, 0..prep.views.len())
}

/// [`primal`] with the workloads served in `order` (each index once) instead of index order.
fn primal_in(
    prep: &Prep<'_>,
    lambda: Option<&Lambda>,
    order: impl Iterator<Item = usize>,
) -> Assign {
    let mut placer = Placer::new(prep);
    for wi in order {
        placer.place(prep, wi, lambda);
    }
    placer.into_assign()
}

/// An assignment being built workload by workload, with the capacity left.
struct Placer {
    residual: Vec<Units>,
    /// The same capped, per walk, in walk order, beside each asset's gate (walk scans read
    /// it).
    walk_room: Vec<Vec<RoomAndGate>>,
    chosen: Vec<Vec<(u32, CostTerms)>>,
    fallbacks: u32,
}

impl Placer {
    /// Nothing placed yet: every asset's `free` left.
    fn new(prep: &Prep<'_>) -> Self {
        let p = prep.idx.p;
        let walk_room = prep
            .walks
            .iter()
            .map(|walk| {
                walk.order
                    .iter()
                    .map(|&at| prep.first_words[at as usize])
                    .collect()
            })
            .collect();
        Placer {
            residual: p.assets.iter().map(|a| a.free).collect(),
            walk_room,
            chosen: vec![Vec::new(); p.workloads.len()],
            fallbacks: 0,
        }
    }

    /// Place workload `wi` on its best set under the reduced costs that fits the capacity
    /// left (its candidates, else a fallback scan); an `all_or_nothing` workload that cannot
    /// have every replica gets none.
    fn place(&mut self, prep: &Prep<'_>, wi: usize, lambda: Option<&Lambda>) {
        let v = &prep.views[wi];
        let w = v.w;
        let need = w.replicas;
        let per = w.per_replica;
        let choose = |list: &[Cand], residual: &[Units]| -> Vec<(u32, CostTerms)> {
            let room = |ai: u32| slots(&residual[ai as usize], &per, u64::from(need));
            let used = &prep.used[wi];
            let chosen = if lambda.is_some() {
                let order = ordered(list, &per, lambda);
                let assets = order
                    .iter()
                    .map(|&(_, i)| (list[i as usize].asset, list[i as usize].attrs));
                pick(w, used, assets, need, room)
            } else {
                // Without multipliers the list's own order is the reduced costs' order.
                pick(w, used, list.iter().map(|c| (c.asset, c.attrs)), need, room)
            };
            chosen
                .into_iter()
                .map(|ai| (ai, terms_of(list, ai)))
                .collect()
        };
        let mut picked = choose(prep.list(wi), &self.residual);
        if picked.len() < usize::from(need) && prep.floor[wi] != u64::MAX {
            self.fallbacks += 1;
            let full = fallback_candidates(prep, wi, v, self);
            let again = choose(&full, &self.residual);
            if again.len() > picked.len() {
                picked = again;
            }
        }
        if w.all_or_nothing && picked.len() < usize::from(need) {
            picked.clear();
        }
        for (ai, _) in &picked {
            let r = &mut self.residual[*ai as usize];
            for d in 0..DIMS {
                r[d] -= per[d];
            }
            let left = capped(r);
            let at = prep.idx.pos[*ai as usize] as usize;
            for &(id, k) in &prep.in_walks[prep.in_walks_start[at]..prep.in_walks_start[at + 1]] {
                let word = &mut self.walk_room[id as usize][k as usize];
                *word = (*word & !u64::from(Capped::MAX)) | u64::from(left);
            }
        }
        self.chosen[wi] = picked;
    }

    fn into_assign(self) -> Assign {
        Assign {
            chosen: self.chosen,
            residual: self.residual,
            fallbacks: self.fallbacks,
        }
    }
}

/// The terms of asset `ai` in a candidate list (it is there: it was picked from it).
fn terms_of(list: &[Cand], ai: u32) -> CostTerms {
    list.iter()
        .find(|c| c.asset == ai)
        .map(|c| c.terms)
        .expect("invariant: picked from this list")
}

/// Lower the cost without changing how many replicas each workload has: move a replica to a
/// cheaper candidate with room, or make room there by moving one other replica away (an
/// ejection chain of two) when the pair's cost falls.
fn improve(prep: &Prep<'_>, a: &mut Assign) -> u32 {
    let p = prep.idx.p;
    let involved = involved(prep, a);
    let mut board = Board::new(prep, a, &involved);
    let mut moves = 0;
    for _ in 0..IMPROVE_PASSES {
        let mut improved = false;
        for wi in 0..a.chosen.len() {
            if !involved[wi] {
                continue;
            }
            let w = &p.workloads[wi];
            for r in 0..a.chosen[wi].len() {
                let (cur, cur_terms) = a.chosen[wi][r];
                let cur_cost = cur_terms.total();
                let mut others = None;
                board.warm(prep, wi, cur_cost);
                for j in prep.start[wi]..prep.start[wi + 1] {
                    let c = &prep.cands[j];
                    if c.cost >= cur_cost {
                        break;
                    }
                    if c.asset == cur {
                        continue;
                    }
                    let others = others.get_or_insert_with(|| other_attrs(prep, a, wi, r));
                    if clashes(w, others, &c.attrs) {
                        continue;
                    }
                    if board.room[j] {
                        board.relocate(prep, a, wi, r, c);
                        moves += 1;
                        improved = true;
                        break;
                    }
                    if eject(prep, a, &mut board, wi, r, c) {
                        moves += 1;
                        improved = true;
                        break;
                    }
                }
            }
        }
        if !improved {
            break;
        }
    }
    moves
}

/// The workloads local improvement works on: those with a replica that has a cheaper
/// candidate it does not clash on (it may move there, or eject a replica to make room), and
/// those with a replica on such a candidate's asset (they may be ejected). The others cannot
/// move in the first pass, and at full size they are most (56 % of workloads are involved and
/// 3.5 % of replicas may move, when the first placement takes each workload's cheapest
/// candidates with room): the board indexes only the involved workloads' candidates and
/// replicas, so ejections in the second pass see the occupants known at the start.
fn involved(prep: &Prep<'_>, a: &Assign) -> Vec<bool> {
    let p = prep.idx.p;
    let mut target = vec![false; p.assets.len()];
    let mut involved = vec![false; p.workloads.len()];
    for (wi, chosen) in a.chosen.iter().enumerate() {
        let w = &p.workloads[wi];
        for (r, &(cur, terms)) in chosen.iter().enumerate() {
            let mut others = None;
            for c in prep.list(wi) {
                if c.cost >= terms.total() {
                    break;
                }
                if c.asset == cur {
                    continue;
                }
                let others = others.get_or_insert_with(|| other_attrs(prep, a, wi, r));
                if !clashes(w, others, &c.attrs) {
                    target[c.asset as usize] = true;
                    involved[wi] = true;
                }
            }
        }
    }
    for (wi, chosen) in a.chosen.iter().enumerate() {
        if chosen.iter().any(|&(ai, _)| target[ai as usize]) {
            involved[wi] = true;
        }
    }
    involved
}

/// Regret restarts: the workload whose replicas cost the most above its cheapest candidates
/// (usually one pushed far away because earlier workloads took the assets it needed, which
/// moves of one or two replicas cannot undo) is served first, then the rest in order; the new
/// assignment, improved, replaces `best` if it is better under the objective (never fewer
/// replicas for an earlier workload). Each round promotes the next untried workload, keeping
/// the promotions that helped. Returns the moves of the accepted rounds; skipped on large
/// problems (a fixed work budget).
fn promote(prep: &Prep<'_>, best: &mut Assign, lambda: &Lambda) -> u32 {
    if prep.cands.len() > RESTART_MAX_CANDIDATES {
        return 0;
    }
    let n = prep.views.len();
    let mut kept: Vec<usize> = Vec::new();
    let mut tried = vec![false; n];
    let mut moves = 0;
    for _ in 0..RESTARTS {
        // The highest regret not tried yet (ties: the earlier workload).
        let Some((regret, wi)) = (0..n)
            .filter(|&wi| !tried[wi])
            .map(|wi| (regret(prep, best, wi), wi))
            .max_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)))
        else {
            break;
        };
        if regret == 0 {
            break;
        }
        tried[wi] = true;
        let mut first = kept.clone();
        first.push(wi);
        let mut won = false;
        let lambdas: &[Option<&Lambda>] = if has_price(lambda) {
            &[None, Some(lambda)]
        } else {
            &[None]
        };
        for &l in lambdas {
            let rest = (0..n).filter(|i| !first.contains(i));
            let mut a = primal_in(prep, l, first.iter().copied().chain(rest));
            let m = improve(prep, &mut a);
            if a.better_than(best) {
                a.fallbacks += best.fallbacks;
                *best = a;
                moves += m;
                won = true;
            }
        }
        if won {
            kept = first;
        }
    }
    moves
}

/// How much workload `wi`'s chosen replicas cost above as many of its cheapest candidates
/// (capacity and anti-affinity ignored); a workload left short counts as `u128::MAX`.
fn regret(prep: &Prep<'_>, a: &Assign, wi: usize) -> u128 {
    let need = usize::from(prep.views[wi].w.replicas);
    let got = &a.chosen[wi];
    if got.len() < need {
        return u128::MAX;
    }
    let paid: u128 = got.iter().map(|(_, t)| u128::from(t.total())).sum();
    let list = prep.list(wi);
    let cheapest = list.first().map_or(0, |c| u128::from(c.cost));
    paid.saturating_sub(cheapest * need as u128)
}

/// The attributes of workload `wi`'s running replicas and its chosen ones except the `r`-th.
fn other_attrs(prep: &Prep<'_>, a: &Assign, wi: usize, r: usize) -> Vec<Attrs> {
    let p = prep.idx.p;
    let w = &p.workloads[wi];
    let mut out = prep.used[wi].clone();
    if w.has_anti_affinity() {
        for (k, (ai, _)) in a.chosen[wi].iter().enumerate() {
            if k != r {
                out.push(attrs(w, &p.assets[*ai as usize]));
            }
        }
    }
    out
}

/// What local improvement keeps beside the assignment, updated on every move: the replicas on
/// each asset (with their cost) and which candidates have room, so that the many ejection
/// tests that fail read flat arrays instead of recomputing.
struct Board {
    /// Per asset, the replicas there, sorted by workload and replica.
    on_asset: Vec<Vec<Occupant>>,
    /// Per asset, the largest `per` of its occupants in each dimension: with the residual, a
    /// bound on the room an ejection there can make.
    max_per: Vec<Units>,
    /// Per workload, its `per_replica` (a dense copy: refreshes read it for many workloads).
    per: Vec<Units>,
    /// Per candidate (index into [`Prep::cands`]): whether its asset's residual capacity holds
    /// one more replica of its workload.
    room: Vec<bool>,
    /// Per workload: where its candidates are and the cheapest with room.
    alternatives: Vec<Alternatives>,
    /// The candidates naming each asset: those of asset `ai` are
    /// `naming[naming_start[ai]..naming_start[ai + 1]]`, in workload order.
    naming: Vec<Naming>,
    /// Per candidate: its cost (a dense copy of [`Cand::cost`], read when the room changes).
    cand_cost: Vec<u64>,
    naming_start: Vec<usize>,
    /// A summary of the occupants an ejection on an asset tries, current on every move, for
    /// the assets that have had occupants (`windows[0]`, never written, is the empty window of
    /// every other asset): most assets never do, and a window is large.
    windows: Vec<Window>,
    /// Per asset: where its window is in `windows` (0: the empty one).
    window_at: Vec<u32>,
    /// Per workload: the signature of the assets its candidates name (see [`name_bits`]).
    signatures: Vec<u128>,
    /// Whether every replica is of at most [`CAP`] units in every dimension, so that the
    /// capped room test of [`Board::refresh`] is exact (else it takes the full test).
    capped_exact: bool,
}

/// The workloads an ejection on one asset tries (the first `EJECT_TRIES + 1` distinct ones in
/// its occupant list, in list order: one more in case the ejecting workload is among them,
/// which is skipped), with the cost and size of their first replica there and their
/// [`Alternatives::cheapest_room`] (kept in step), and the least `cheapest_room − cost` among
/// them. An ejection with gain `g` needs one of them whose leaving makes room and with less
/// than `g`, or one naming the asset the ejecting replica leaves; without any it fails, and
/// [`Board::hopeless`] says so without reading the list.
#[derive(Clone, Copy, Debug, Default)]
struct Window {
    least_slack: u64,
    len: u8,
    workloads: [u32; EJECT_TRIES + 1],
    /// The signature (see [`name_bits`]) of each of `workloads`' candidate lists.
    names: [u128; EJECT_TRIES + 1],
    costs: [u64; EJECT_TRIES + 1],
    cheapest_room: [u64; EJECT_TRIES + 1],
    /// Their `per_replica`.
    pers: [Units; EJECT_TRIES + 1],
}

/// Asset `ai`'s two bits in the signature of a candidate list (the OR of its assets' bits, a
/// Bloom filter): a list whose signature lacks one of them does not name `ai`.
fn name_bits(ai: u32) -> u128 {
    let h = u64::from(ai).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    (1 << (h >> 57)) | (1 << ((h >> 50) & 127))
}

impl Window {
    /// The window of an asset whose occupants are `list` (sorted by workload and replica),
    /// `signatures` being each workload's candidate signature (see [`name_bits`]).
    fn of(list: &[Occupant], signatures: &[u128], alternatives: &[Alternatives]) -> Self {
        let mut window = Window::default();
        let mut previous = None;
        for o in list {
            if previous == Some(o.workload) {
                continue;
            }
            previous = Some(o.workload);
            let i = usize::from(window.len);
            if i == window.workloads.len() {
                break;
            }
            window.workloads[i] = o.workload;
            window.names[i] = signatures[o.workload as usize];
            window.costs[i] = o.cost;
            window.pers[i] = o.per;
            window.cheapest_room[i] = alternatives[o.workload as usize].cheapest_room;
            window.len += 1;
        }
        window.least_slack = window.slack();
        window
    }

    /// The least `cheapest_room − cost` of the workloads (`u64::MAX`: none).
    fn slack(&self) -> u64 {
        (0..usize::from(self.len))
            .map(|i| self.cheapest_room[i].saturating_sub(self.costs[i]))
            .min()
            .unwrap_or(u64::MAX)
    }

    /// Record workload `wi`'s new cheapest room, if it is one of the window's.
    fn set_cheapest_room(&mut self, wi: u32, cheapest: u64) {
        if let Some(i) = self.workloads[..usize::from(self.len)]
            .iter()
            .position(|&w| w == wi)
        {
            self.cheapest_room[i] = cheapest;
            self.least_slack = self.slack();
        }
    }
}

impl Board {
    /// The board of assignment `a` over the `involved` workloads' candidates and replicas
    /// (see [`involved`]; the others' candidates have no room flag, and their replicas are in
    /// no occupant list).
    fn new(prep: &Prep<'_>, a: &Assign, involved: &[bool]) -> Self {
        let p = prep.idx.p;
        let workload_cands = || {
            (0..prep.views.len())
                .filter(|&wi| involved[wi])
                .flat_map(|wi| (prep.start[wi]..prep.start[wi + 1]).map(move |j| (wi, j)))
        };
        let cand_cost: Vec<u64> = prep.cands.iter().map(|c| c.cost).collect();
        let mut room = vec![false; prep.cands.len()];
        for (wi, j) in workload_cands() {
            let free = &a.residual[prep.cands[j].asset as usize];
            room[j] = fits(free, &p.workloads[wi].per_replica);
        }
        // Grouped by asset with the indexes only (the grouping reads its items twice), then
        // completed in one pass.
        let (mut naming, naming_start) = group_by(p.assets.len(), || {
            workload_cands().map(|(wi, j)| {
                let naming = Naming {
                    cand: index_u32(j),
                    workload: index_u32(wi),
                    per: 0,
                    room: false,
                };
                (prep.cands[j].asset as usize, naming)
            })
        });
        let capped_per: Vec<Capped> = p.workloads.iter().map(|w| capped(&w.per_replica)).collect();
        for n in &mut naming {
            n.per = capped_per[n.workload as usize];
            n.room = room[n.cand as usize];
        }
        let alternatives: Vec<Alternatives> = (0..prep.views.len())
            .map(|wi| {
                let (first, end) = (prep.start[wi], prep.start[wi + 1]);
                Alternatives {
                    cheapest_room: cheapest_with_room(&cand_cost, &room, first..end),
                    first: index_u32(first),
                    end: index_u32(end),
                }
            })
            .collect();
        let mut on_asset: Vec<Vec<Occupant>> = vec![Vec::new(); p.assets.len()];
        // Workloads and replicas in index order: every list comes out sorted.
        for (wi, list) in a.chosen.iter().enumerate() {
            if !involved[wi] {
                continue;
            }
            for (r, (ai, terms)) in list.iter().enumerate() {
                on_asset[*ai as usize].push(Occupant {
                    workload: index_u32(wi),
                    replica: index_u32(r),
                    cost: terms.total(),
                    per: p.workloads[wi].per_replica,
                });
            }
        }
        let max_per = on_asset.iter().map(|list| largest_per(list)).collect();
        let mut board = Board {
            on_asset,
            max_per,
            per: p.workloads.iter().map(|w| w.per_replica).collect(),
            room,
            alternatives,
            naming,
            cand_cost,
            naming_start,
            windows: Vec::new(), // below
            window_at: vec![0; p.assets.len()],
            capped_exact: p.workloads.iter().all(|w| capped_is_exact(&w.per_replica)),
            signatures: (0..prep.views.len())
                .map(|wi| {
                    prep.list(wi)
                        .iter()
                        .fold(0, |bits, c| bits | name_bits(c.asset))
                })
                .collect(),
        };
        board.windows = vec![Window::of(&[], &board.signatures, &board.alternatives)];
        for (ai, list) in board.on_asset.iter().enumerate() {
            if !list.is_empty() {
                board.window_at[ai] = index_u32(board.windows.len());
                let window = Window::of(list, &board.signatures, &board.alternatives);
                board.windows.push(window);
            }
        }
        board
    }

    /// Asset `ai`'s window.
    fn window(&self, ai: usize) -> &Window {
        &self.windows[self.window_at[ai] as usize]
    }

    /// Recompute asset `ai`'s window from its occupant list (giving it its own window if it
    /// had the empty one).
    fn rebuild_window(&mut self, ai: usize) {
        let window = Window::of(&self.on_asset[ai], &self.signatures, &self.alternatives);
        if self.window_at[ai] == 0 {
            self.window_at[ai] = index_u32(self.windows.len());
            self.windows.push(window);
        } else {
            self.windows[self.window_at[ai] as usize] = window;
        }
    }

    /// Recompute workload `wi`'s cheapest candidate with room, here and in the windows of its
    /// assets.
    fn recompute_cheapest(&mut self, a: &Assign, wi: usize) {
        let Alternatives { first, end, .. } = self.alternatives[wi];
        let cheapest =
            cheapest_with_room(&self.cand_cost, &self.room, first as usize..end as usize);
        if cheapest == self.alternatives[wi].cheapest_room {
            return; // the windows hold it already
        }
        self.alternatives[wi].cheapest_room = cheapest;
        for &(b, _) in &a.chosen[wi] {
            // `b` holds one of `wi`'s replicas, so it has its own window.
            let at = self.window_at[b as usize] as usize;
            self.windows[at].set_cheapest_room(index_u32(wi), cheapest);
        }
    }

    /// Whether an ejection on asset `b` (residual `residual_b`) of a replica of `per` with
    /// gain `gain`, leaving asset `from` (whose room would then be `room_from`), is sure to
    /// fail: [`eject`]'s tests of the workloads it would try, on the window's copies (see
    /// [`Window`]), without reading the occupant list.
    fn hopeless(
        &self,
        b: usize,
        gain: u64,
        from: u32,
        per: &Units,
        room_from: &Units,
        residual_b: &Units,
    ) -> bool {
        let window = self.window(b);
        let bits = name_bits(from);
        let len = usize::from(window.len);
        if window.least_slack >= gain && (0..len).all(|i| window.names[i] & bits != bits) {
            return true; // none can move cheaply enough, none names `from`
        }
        (0..len).all(|i| {
            let per2 = &window.pers[i];
            let mut room_b = *residual_b;
            for d in 0..DIMS {
                room_b[d] += per2[d];
            }
            !fits(&room_b, per)
                || (window.cheapest_room[i] >= window.costs[i].saturating_add(gain)
                    && !(fits(room_from, per2)
                        && window.names[i] & bits == bits
                        && self.names(window.workloads[i] as usize, from)))
        })
    }

    /// Read what an ejection test reads first (the asset's [`Window`]) for each of workload
    /// `wi`'s candidates cheaper than `cost` that have no room, so that their cache misses
    /// overlap instead of coming one test at a time (the tests themselves run in order
    /// afterwards: each depends on the previous failing).
    fn warm(&self, prep: &Prep<'_>, wi: usize, cost: u64) {
        let Alternatives { first, end, .. } = self.alternatives[wi];
        let mut read = 0u64;
        for j in first as usize..end as usize {
            let c = &prep.cands[j];
            if c.cost >= cost {
                break;
            }
            if !self.room[j] {
                read ^= self.window(c.asset as usize).least_slack;
            }
        }
        // Keep the reads: the compiler would drop loads whose values go unused.
        std::hint::black_box(read);
    }

    /// Whether workload `wi` has asset `ai` among its candidates (a binary search of the
    /// candidates naming `ai`, which are in workload order).
    fn names(&self, wi: usize, ai: u32) -> bool {
        let ai = ai as usize;
        self.naming[self.naming_start[ai]..self.naming_start[ai + 1]]
            .binary_search_by_key(&index_u32(wi), |n| n.workload)
            .is_ok()
    }

    /// Recompute the room of every candidate naming asset `ai` (its residual changed). The
    /// naming entries carry what the test reads (the capped replica and the flag), so the
    /// many that do not change are read in sequence; few do (6 % at 100k × 100k).
    fn refresh(&mut self, a: &Assign, ai: u32) {
        let ai = ai as usize;
        let free = &a.residual[ai];
        let free_capped = capped(free);
        for k in self.naming_start[ai]..self.naming_start[ai + 1] {
            let Naming {
                cand: j,
                workload: wi,
                per,
                room: had_room,
            } = self.naming[k];
            let room = if self.capped_exact {
                holds(free_capped, per)
            } else {
                fits(free, &self.per[wi as usize])
            };
            if room != had_room {
                self.naming[k].room = room;
                self.room[j as usize] = room;
                self.recompute_cheapest(a, wi as usize);
            }
        }
    }

    /// Move workload `wi`'s `r`-th replica to candidate `to`, which has room.
    fn relocate(&mut self, prep: &Prep<'_>, a: &mut Assign, wi: usize, r: usize, to: &Cand) {
        let from = a.chosen[wi][r].0;
        let per = &prep.idx.p.workloads[wi].per_replica;
        release(a, from, per);
        self.occupy(a, wi, r, to, per);
        self.refresh(a, from);
        self.refresh(a, to.asset);
    }

    /// Move workload `wi`'s `r`-th replica (its old place already released) to candidate `to`,
    /// taking `per` from it (the caller refreshes the room of both assets).
    fn occupy(&mut self, a: &mut Assign, wi: usize, r: usize, to: &Cand, per: &Units) {
        let from = a.chosen[wi][r].0;
        for d in 0..DIMS {
            a.residual[to.asset as usize][d] -= per[d];
        }
        a.chosen[wi][r] = (to.asset, to.terms);
        let w32 = index_u32(wi);
        let r32 = index_u32(r);
        let key = |o: &Occupant| (o.workload, o.replica);
        let list = &mut self.on_asset[from as usize];
        let pos = list
            .binary_search_by_key(&(w32, r32), key)
            .expect("invariant: a placed replica is listed on its asset");
        list.remove(pos);
        self.max_per[from as usize] = largest_per(list);
        self.rebuild_window(from as usize);
        let list = &mut self.on_asset[to.asset as usize];
        let occupant = Occupant {
            workload: w32,
            replica: r32,
            cost: to.terms.total(),
            per: *per,
        };
        list.insert(list.partition_point(|o| key(o) < (w32, r32)), occupant);
        self.max_per[to.asset as usize] = largest_per(list);
        self.rebuild_window(to.asset as usize);
    }
}

/// The cost of the cheapest of candidates `list` (a workload's, indexes into [`Prep::cands`],
/// whose costs are `cost`) whose flag in `room` is set; `u64::MAX`: none. The list is sorted by
/// cost: it is the first one.
fn cheapest_with_room(cost: &[u64], room: &[bool], list: std::ops::Range<usize>) -> u64 {
    list.into_iter()
        .find(|&j| room[j])
        .map_or(u64::MAX, |j| cost[j])
}

/// A candidate naming an asset, as [`Board::refresh`] reads them when the asset's residual
/// changes.
#[derive(Clone, Copy, Debug, Default)]
struct Naming {
    /// Its index in [`Prep::cands`].
    cand: u32,
    workload: u32,
    /// The workload's replica, capped (see [`Capped`]).
    per: Capped,
    /// A copy of the candidate's [`Board::room`] flag.
    room: bool,
}

/// Where a workload's candidates are in [`Prep::cands`], and the cost of the cheapest with room
/// (`u64::MAX`: none), for ejection tests.
#[derive(Clone, Copy, Debug)]
struct Alternatives {
    cheapest_room: u64,
    first: u32,
    end: u32,
}

/// A replica on an asset, as local improvement lists them.
#[derive(Clone, Copy, Debug)]
struct Occupant {
    workload: u32,
    /// Its index among the workload's chosen replicas.
    replica: u32,
    /// Its cost there.
    cost: u64,
    /// Its workload's `per_replica` (read by every ejection test of the asset).
    per: Units,
}

/// `items` (key below `keys`, value) grouped by key, in the order `items` yields them: the
/// values of key `k` are `values[start[k]..start[k + 1]]`. Returns `(values, start)`; `items`
/// is called twice (to count, then to fill).
fn group_by<V: Copy + Default, I: Iterator<Item = (usize, V)>>(
    keys: usize,
    items: impl Fn() -> I,
) -> (Vec<V>, Vec<usize>) {
    let mut start = vec![0usize; keys + 1];
    for (k, _) in items() {
        start[k + 1] += 1;
    }
    for k in 0..keys {
        start[k + 1] += start[k];
    }
    let mut next = start.clone();
    let mut values = vec![V::default(); start[keys]];
    for (k, v) in items() {
        values[next[k]] = v;
        next[k] += 1;
    }
    (values, start)
}

/// The largest `per` of `occupants` in each dimension.
fn largest_per(occupants: &[Occupant]) -> Units {
    let mut max = [0; DIMS];
    for o in occupants {
        for d in 0..DIMS {
            max[d] = max[d].max(o.per[d]);
        }
    }
    max
}

/// Give `per` back to asset `ai`'s residual capacity.
fn release(a: &mut Assign, ai: u32, per: &Units) {
    for d in 0..DIMS {
        a.residual[ai as usize][d] += per[d];
    }
}

/// Try to put workload `wi`'s `r`-th replica on the full candidate `target` by moving one
/// replica of another workload from there to that workload's cheapest other candidate, if the
/// two moves together lower the cost. Applies it and returns true on success.
fn eject(
    prep: &Prep<'_>,
    a: &mut Assign,
    board: &mut Board,
    wi: usize,
    r: usize,
    target: &Cand,
) -> bool {
    let p = prep.idx.p;
    let per1 = p.workloads[wi].per_replica;
    let (from1, terms1) = a.chosen[wi][r];
    let gain1 = terms1.total() - target.cost; // > 0: target is cheaper
    let b = target.asset as usize;
    // Room on `wi`'s asset once its replica leaves (for an ejected replica to move there).
    let mut room_from1 = a.residual[from1 as usize];
    for d in 0..DIMS {
        room_from1[d] += per1[d];
    }
    let residual_b = a.residual[b];
    if board.hopeless(b, gain1, from1, &per1, &room_from1, &residual_b) {
        return false;
    }
    let mut reach = residual_b;
    for d in 0..DIMS {
        reach[d] += board.max_per[b][d];
    }
    if !fits(&reach, &per1) {
        return false; // no occupant leaving makes room enough
    }
    let mut tried = 0;
    // The other workloads on `target`, in index order, each once (its first replica there),
    // at most `EJECT_TRIES`; `slot`: its place in the asset's window.
    let mut previous = None;
    let mut slot = 0;
    for k in 0..board.on_asset[b].len() {
        let Occupant {
            workload,
            replica,
            cost: cost2,
            per: per2,
        } = board.on_asset[b][k];
        let (w2i, r2) = (workload as usize, replica as usize);
        if previous == Some(w2i) {
            continue;
        }
        previous = Some(w2i);
        slot += 1;
        if w2i == wi {
            continue;
        }
        if tried >= EJECT_TRIES {
            break;
        }
        tried += 1;
        let cheapest_room = board.window(b).cheapest_room[slot - 1];
        let mut room_b = residual_b;
        for d in 0..DIMS {
            room_b[d] += per2[d];
        }
        if !fits(&room_b, &per1) {
            continue;
        }
        // The pair must get cheaper: an alternative c with c.cost − cost2 < gain1, with room
        // or on the asset `wi`'s replica leaves.
        let bound2 = cost2.saturating_add(gain1);
        if cheapest_room >= bound2 && !(fits(&room_from1, &per2) && board.names(w2i, from1)) {
            continue;
        }
        let alt = board.alternatives[w2i];
        let w2 = &p.workloads[w2i];
        let mut others2 = None;
        for j in alt.first as usize..alt.end as usize {
            let c = &prep.cands[j];
            if c.cost >= bound2 {
                break;
            }
            // Full, unless `wi`'s replica leaving frees it (tested first: most are full).
            if !board.room[j] && c.asset != from1 {
                continue;
            }
            if c.asset as usize == b {
                continue;
            }
            let others2 = others2.get_or_insert_with(|| other_attrs(prep, a, w2i, r2));
            if clashes(w2, others2, &c.attrs) {
                continue;
            }
            let mut room_c = a.residual[c.asset as usize];
            if c.asset == from1 {
                for d in 0..DIMS {
                    room_c[d] += per1[d];
                }
            }
            if !fits(&room_c, &per2) {
                continue;
            }
            release(a, b as u32, &per2);
            release(a, from1, &per1);
            board.occupy(a, w2i, r2, c, &per2);
            board.occupy(a, wi, r, target, &per1);
            for ai in [b as u32, from1, c.asset] {
                board.refresh(a, ai);
            }
            return true;
        }
    }
    false
}

/// Turn an assignment into a [`Solution`], with the reasons of the workloads left short.
fn finish(prep: &Prep<'_>, a: &Assign, mut stats: Stats) -> Solution {
    let p = prep.idx.p;
    let mut placements = Vec::new();
    let mut unplaced = Vec::new();
    for (wi, v) in prep.views.iter().enumerate() {
        let got = &a.chosen[wi];
        for (ai, terms) in got {
            placements.push(Placement {
                workload: index_u32(wi),
                asset: *ai,
                terms: *terms,
            });
        }
        let need = v.w.replicas;
        if got.len() < usize::from(need) {
            let (funnel, why) = prep.idx.funnel(v, need);
            let why = why.unwrap_or_else(|| {
                // Every stage left enough: does it fit alone, on the free capacity?
                let full = full_candidates(prep, v);
                let n = pick(
                    v.w,
                    &prep.used[wi],
                    full.iter().map(|c| (c.asset, c.attrs)),
                    need,
                    |ai| {
                        slots(
                            &p.assets[ai as usize].free,
                            &v.w.per_replica,
                            u64::from(need),
                        )
                    },
                )
                .len();
                if n >= usize::from(need) {
                    Why::TakenByCheaper
                } else {
                    Why::TooFewDistinct
                }
            });
            let placed = u16::try_from(got.len()).expect("invariant: at most `replicas` placed");
            unplaced.push(Unplaced {
                workload: index_u32(wi),
                placed,
                why,
                funnel,
            });
        }
    }
    placements.sort_unstable();
    let total_cost = placements
        .iter()
        .map(|pl| u128::from(pl.terms.total()))
        .sum();
    stats.candidates = prep.cands.len() as u64;
    stats.evaluated = prep.evaluated;
    stats.fallbacks = a.fallbacks;
    Solution {
        placements,
        unplaced,
        total_cost,
        stats,
    }
}

/// Whether `a` places every replica of every workload.
fn complete(prep: &Prep<'_>, a: &Assign) -> bool {
    a.chosen
        .iter()
        .zip(&prep.views)
        .all(|(c, v)| c.len() == usize::from(v.w.replicas))
}

/// Allocate: the optimizer (see the crate documentation for the method and the objective).
#[must_use]
pub fn solve(p: &Problem) -> Solution {
    let (prep, mut best) = prepare(p);
    let dual = if prep.cands.len() <= DUAL_MAX_CANDIDATES {
        lagrange(&prep, complete(&prep, &best).then(|| best.cost()))
    } else {
        Dual {
            best: None,
            best_lambda: vec![[0; DIMS]; p.assets.len()],
            iterations: 0,
        }
    };
    // The primal under the best multipliers; λ = 0 (greedy) stays if it is better. When the
    // best multipliers are all zero (the first iterate gave the best value, or no step ran)
    // that primal is the λ = 0 one: skipped.
    if has_price(&dual.best_lambda) {
        let mut candidate = primal(&prep, Some(&dual.best_lambda));
        candidate.fallbacks += best.fallbacks;
        if candidate.better_than(&best) {
            best = candidate;
        }
    }
    let mut moves = improve(&prep, &mut best);
    moves += promote(&prep, &mut best, &dual.best_lambda);
    let stats = Stats {
        iterations: dual.iterations,
        moves,
        bound: dual.best,
        ..Stats::default()
    };
    finish(&prep, &best, stats)
}

/// The baseline: workloads in order, each on its cheapest feasible assets that still have
/// room (over the same pruned candidates as [`solve`], with the same full-scan fallback).
#[must_use]
pub fn greedy(p: &Problem) -> Solution {
    let (prep, a) = prepare(p);
    finish(&prep, &a, Stats::default())
}

/// A lower bound on the cost of any solution that places every replica of every workload:
/// the best Lagrangian value found (capacity relaxed with multipliers λ ≥ 0; anti-affinity
/// relaxed to one attribute at a time; each workload's pruned-out assets replaced by a
/// repeatable virtual asset at the floor of their costs). `None` when some workload has too
/// few feasible assets to form its replicas, or no bound could be formed.
#[must_use]
pub fn lower_bound(p: &Problem) -> Option<u128> {
    let (prep, start) = prepare(p);
    let target = complete(&prep, &start).then(|| start.cost());
    lagrange(&prep, target).best
}

#[cfg(test)]
mod tests {
    use super::{Capped, RoomAndGate, holds_and_admits};
    use crate::eval::Gate;
    use crate::{Asset, Problem, Why, Workload, judge};

    /// Whether `a` passes `w`'s tier, uptime, green and lease-length stages.
    fn passes(w: &Workload, a: &Asset) -> bool {
        let p = Problem {
            assets: vec![*a],
            workloads: vec![w.clone()],
            ..Problem::default()
        };
        !matches!(
            judge(&p, 0, 0),
            Err(Why::TierTooLow | Why::UptimeTooLow | Why::NotGreen | Why::MinLeaseTooLong)
        )
    }

    #[test]
    fn a_gate_turns_away_only_assets_the_stages_reject() {
        let uptimes = [0, 7, 8, 949, 950, 951, 952, 1000, 1015, 1016, 1024, 5000];
        let leases = [0, 1, 30, 31, 90, 126, 127, 128, 1000, u32::MAX];
        let (mut turned_away, mut rejected) = (0, 0);
        for &uptime_permille in &uptimes {
            for &min_lease_epochs in &leases {
                for tier in [0, 1, 2, 3, 127, 200] {
                    for green in [false, true] {
                        let a = Asset {
                            uptime_permille,
                            min_lease_epochs,
                            tier,
                            green,
                            ..Asset::default()
                        };
                        // All the room there is, so that only the gate decides.
                        let word: RoomAndGate =
                            u64::from(Capped::MAX & 0x7f7f_7f7f) | u64::from(Gate::of(&a).0) << 32;
                        for &min_uptime_permille in &uptimes {
                            for &duration_epochs in &leases {
                                for (min_tier, green_only) in
                                    [(0, false), (2, false), (0, true), (201, false)]
                                {
                                    let w = Workload {
                                        min_uptime_permille,
                                        duration_epochs,
                                        min_tier,
                                        green_only,
                                        max_price: u64::MAX,
                                        ..Workload::default()
                                    };
                                    let pass = passes(&w, &a);
                                    let bar = u64::from(Gate::bar(&w).0) << 32;
                                    let may = holds_and_admits(word, bar);
                                    assert!(
                                        may || !pass,
                                        "{a:?} passes {w:?} but its gate says no"
                                    );
                                    turned_away += u32::from(!may);
                                    rejected += u32::from(!pass);
                                }
                            }
                        }
                    }
                }
            }
        }
        // The gate does its job: it turns away most assets the stages reject (here, with
        // values chosen at its rounding edges, 92 %).
        assert!(
            turned_away * 100 >= rejected * 85,
            "{turned_away} of {rejected}"
        );
    }
}
