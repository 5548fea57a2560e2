//! A lower bound that scales to full-size problems: every workload alone, capacity relaxed.

use crate::eval::{Index, WorkView};
use crate::Problem;

/// A lower bound on the total cost of any solution that places every replica of every workload
/// of `p`: each workload priced alone over its feasible assets (every filter, an asset's free
/// capacity holding one replica included), with the capacity the other workloads use relaxed,
/// and anti-affinity relaxed to distinct assets. A workload's bound is its `replicas` cheapest
/// feasible assets, distinct ones when it asks for anti-affinity (its replicas must then be on
/// distinct assets), else all on the cheapest. `None` when some workload has too few feasible
/// assets.
///
/// Unlike [`crate::lower_bound`], it judges every (workload, asset) pair of a class and region,
/// so it costs about a full scan per workload; it is a yardstick for benchmarks, not part of
/// [`crate::solve`]. It ignores what workloads take from each other, so it is loose under
/// contention; where capacity is ample it is the tightest bound this crate computes at scale.
#[must_use]
pub fn relaxed_bound(p: &Problem) -> Option<u128> {
    let idx = Index::new(p);
    let mut costs: Vec<u64> = Vec::new();
    let mut total: u128 = 0;
    for w in &p.workloads {
        let need = usize::from(w.replicas);
        if need == 0 {
            continue;
        }
        let v = WorkView::new(w);
        costs.clear();
        for ai in idx.base_set(&v) {
            let h = &idx.hot[idx.pos[ai as usize] as usize];
            if let Some(terms) = idx.admit(&v, h, true) {
                costs.push(terms.total());
            }
        }
        if w.has_anti_affinity() {
            if costs.len() < need {
                return None;
            }
            costs.select_nth_unstable(need - 1);
            total += costs[..need].iter().map(|&c| u128::from(c)).sum::<u128>();
        } else {
            let cheapest = costs.iter().min()?;
            total += u128::from(*cheapest) * need as u128;
        }
    }
    Some(total)
}
