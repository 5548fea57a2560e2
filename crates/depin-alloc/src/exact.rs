//! The exact optimum of small problems by branch and bound: the yardstick [`crate::solve`]'s
//! cost is measured against (tests and `depin bench alloc`), where a Lagrangian bound would
//! include the relaxation's integrality gap.
//!
//! Every way to place one workload alone is enumerated (its feasible assets, combinations under
//! anti-affinity, with repetition otherwise, within each asset's capacity), then a depth-first
//! search picks one option per workload, most constrained workload first, pruning with the cost
//! so far plus each remaining workload's cheapest option that still fits. Exponential: meant for
//! a dozen assets and workloads, with a node budget.

use crate::eval::{Attrs, WorkView, attrs, fits, index_u32, judge_with};
use crate::select::clashes;
use crate::{DIMS, Problem, Units};

/// What [`optimum`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exact {
    /// The least total cost of placing every replica of every workload.
    Optimal(u128),
    /// No assignment places every replica of every workload.
    Infeasible,
    /// The node budget ran out before the search finished.
    GaveUp,
}

/// One way to place a workload's replicas: its cost and the assets (repeated when several
/// replicas share one).
type Choice = (u128, Vec<u32>);

/// Options per workload above which [`optimum`] gives up at once (the enumeration itself would
/// be the cost).
const MAX_OPTIONS: usize = 100_000;

/// The least total cost of placing every replica of every workload of `p` (replicas already
/// `placed` count for anti-affinity only), searching at most `max_nodes` nodes.
#[must_use]
pub fn optimum(p: &Problem, max_nodes: u64) -> Exact {
    let mut opts = Vec::with_capacity(p.workloads.len());
    for wi in 0..p.workloads.len() {
        match options(p, wi) {
            None => return Exact::GaveUp,
            Some(o) if o.is_empty() => return Exact::Infeasible,
            Some(o) => opts.push((wi, o)),
        }
    }
    // Most constrained first; ties by workload index.
    opts.sort_by_key(|(wi, o)| (o.len(), *wi));
    let mut search = Search {
        p,
        opts: &opts,
        free: p.assets.iter().map(|a| a.free).collect(),
        best: None,
        nodes: 0,
        max_nodes,
    };
    search.dfs(0, 0);
    if search.nodes > max_nodes {
        return Exact::GaveUp;
    }
    search.best.map_or(Exact::Infeasible, Exact::Optimal)
}

/// Every way to place workload `wi` alone, cheapest first (`None`: more than [`MAX_OPTIONS`]).
fn options(p: &Problem, wi: usize) -> Option<Vec<Choice>> {
    let w = &p.workloads[wi];
    let v = WorkView::new(w);
    let feasible: Vec<(u32, u64, Attrs)> = (0..p.assets.len())
        .filter_map(|ai| {
            let ai = index_u32(ai);
            let a = &p.assets[ai as usize];
            let cell = crate::eval::Spot::of(a.cell);
            let t = judge_with(p, cell, &v, ai).ok()?;
            Some((ai, t.total(), attrs(w, a)))
        })
        .collect();
    let used: Vec<Attrs> = w
        .placed
        .iter()
        .filter_map(|&ai| p.assets.get(ai as usize))
        .map(|a| attrs(w, a))
        .collect();
    let need = usize::from(w.replicas);
    let mut out = Vec::new();
    let mut stack: Vec<usize> = Vec::with_capacity(need);
    let mut taken: Vec<Attrs> = used.clone();
    let anti = w.has_anti_affinity();
    // Depth-first over index-ordered choices: distinct assets under anti-affinity, otherwise
    // non-decreasing indexes (combinations with repetition).
    let mut next = 0usize;
    loop {
        if stack.len() == need {
            if alone_fits(p, &w.per_replica, &feasible, &stack) {
                let cost = stack.iter().map(|&i| u128::from(feasible[i].1)).sum();
                out.push((cost, stack.iter().map(|&i| feasible[i].0).collect()));
                if out.len() > MAX_OPTIONS {
                    return None;
                }
            }
        } else if next < feasible.len() {
            let i = next;
            if !anti || !clashes(w, &taken, &feasible[i].2) {
                stack.push(i);
                if anti {
                    taken.push(feasible[i].2);
                }
                next = i + usize::from(anti);
                continue;
            }
            next = i + 1;
            continue;
        }
        // Backtrack: drop the last choice and try the next index after it.
        let Some(last) = stack.pop() else { break };
        if anti {
            taken.pop();
        }
        next = last + 1;
    }
    out.sort();
    Some(out)
}

/// Whether the replicas on `stack` (positions in `feasible`) fit each asset's capacity together.
fn alone_fits(p: &Problem, per: &Units, feasible: &[(u32, u64, Attrs)], stack: &[usize]) -> bool {
    stack.iter().enumerate().all(|(k, &i)| {
        // Count each asset once, at its first position.
        if stack[..k].contains(&i) {
            return true;
        }
        let n = stack.iter().filter(|&&j| j == i).count() as u128;
        let free = &p.assets[feasible[i].0 as usize].free;
        (0..DIMS).all(|d| n * u128::from(per[d]) <= u128::from(free[d]))
    })
}

/// The depth-first search's state.
struct Search<'a> {
    p: &'a Problem,
    opts: &'a [(usize, Vec<Choice>)],
    free: Vec<Units>,
    best: Option<u128>,
    nodes: u64,
    max_nodes: u64,
}

impl Search<'_> {
    fn dfs(&mut self, k: usize, cost: u128) {
        self.nodes += 1;
        if self.nodes > self.max_nodes {
            return;
        }
        if k == self.opts.len() {
            self.best = Some(self.best.map_or(cost, |b| b.min(cost)));
            return;
        }
        // Bound: each remaining workload's cheapest option that fits what is free now.
        let mut rest = 0u128;
        for j in k..self.opts.len() {
            match self.cheapest_fitting(j) {
                Some(c) => rest += c,
                None => return,
            }
        }
        if self.best.is_some_and(|b| cost + rest >= b) {
            return;
        }
        let (wi, list) = &self.opts[k];
        let per = self.p.workloads[*wi].per_replica;
        for (c, assets) in list {
            if self.best.is_some_and(|b| cost + c >= b) {
                break;
            }
            if !self.take(assets, &per) {
                continue;
            }
            self.dfs(k + 1, cost + c);
            self.give_back(assets, &per);
            if self.nodes > self.max_nodes {
                return;
            }
        }
    }

    /// The cost of workload `j`'s cheapest option that fits the free capacity.
    fn cheapest_fitting(&self, j: usize) -> Option<u128> {
        let (wi, list) = &self.opts[j];
        let per = &self.p.workloads[*wi].per_replica;
        list.iter()
            .find(|(_, assets)| {
                assets.iter().enumerate().all(|(k, a)| {
                    let n = assets[..=k].iter().filter(|&&b| b == *a).count() as u64;
                    let free = &self.free[*a as usize];
                    (0..DIMS).all(|d| per[d].saturating_mul(n) <= free[d])
                })
            })
            .map(|(c, _)| *c)
    }

    /// Take `per` from each asset of `assets`; false (and nothing taken) if one lacks room.
    fn take(&mut self, assets: &[u32], per: &Units) -> bool {
        for (k, &a) in assets.iter().enumerate() {
            if !fits(&self.free[a as usize], per) {
                self.give_back(&assets[..k], per);
                return false;
            }
            for d in 0..DIMS {
                self.free[a as usize][d] -= per[d];
            }
        }
        true
    }

    /// Return `per` to each asset of `assets`.
    fn give_back(&mut self, assets: &[u32], per: &Units) {
        for &a in assets {
            for d in 0..DIMS {
                self.free[a as usize][d] += per[d];
            }
        }
    }
}
