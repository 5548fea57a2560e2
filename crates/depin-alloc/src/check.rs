//! Validate a solution against its problem, independently of how it was found.

use crate::eval::{Index, WorkView, attrs};
use crate::select::clashes;
use crate::{DIMS, Problem, Solution};

/// Check `s` against `p`: indexes in range; every placement passes every filter of its
/// workload and carries the recomputed cost terms; no asset's `free` exceeded in any
/// dimension; at most `replicas` per workload and, for `all_or_nothing`, none or all;
/// anti-affinity between the new replicas and with the running ones (`placed`); exactly one
/// [`crate::Unplaced`] per workload short of its replicas, with the right count; `total_cost`
/// the sum of the placements' totals.
///
/// # Errors
///
/// A sentence naming the first violation found.
pub fn check(p: &Problem, s: &Solution) -> Result<(), String> {
    let idx = Index::new(p);
    let mut used: Vec<[u128; DIMS]> = vec![[0; DIMS]; p.assets.len()];
    let mut per_workload: Vec<Vec<u32>> = vec![Vec::new(); p.workloads.len()];
    let mut total: u128 = 0;
    for (k, pl) in s.placements.iter().enumerate() {
        let w = p
            .workloads
            .get(pl.workload as usize)
            .ok_or_else(|| format!("placement {k}: workload {} out of range", pl.workload))?;
        if pl.asset as usize >= p.assets.len() {
            return Err(format!("placement {k}: asset {} out of range", pl.asset));
        }
        let view = WorkView::new(w);
        let terms = idx.evaluate(&view, pl.asset).map_err(|why| {
            format!(
                "placement {k}: asset {} fails workload {}: {why:?}",
                pl.asset, pl.workload
            )
        })?;
        if terms != pl.terms {
            return Err(format!(
                "placement {k}: terms {:?}, recomputed {terms:?}",
                pl.terms
            ));
        }
        total += u128::from(terms.total());
        for d in 0..DIMS {
            used[pl.asset as usize][d] += u128::from(w.per_replica[d]);
        }
        per_workload[pl.workload as usize].push(pl.asset);
    }
    if total != s.total_cost {
        return Err(format!(
            "total_cost {} but the placements sum to {total}",
            s.total_cost
        ));
    }
    for (ai, (u, a)) in used.iter().zip(&p.assets).enumerate() {
        for d in 0..DIMS {
            if u[d] > u128::from(a.free[d]) {
                return Err(format!(
                    "asset {ai}: dimension {d} uses {} of {} free",
                    u[d], a.free[d]
                ));
            }
        }
    }
    let mut unplaced_seen = vec![false; p.workloads.len()];
    for u in &s.unplaced {
        let wi = u.workload as usize;
        let got = per_workload
            .get(wi)
            .ok_or_else(|| format!("unplaced workload {wi} out of range"))?;
        if std::mem::replace(&mut unplaced_seen[wi], true) {
            return Err(format!("workload {wi} listed twice as unplaced"));
        }
        if usize::from(u.placed) != got.len() {
            return Err(format!(
                "workload {wi}: unplaced says {} placed, placements {}",
                u.placed,
                got.len()
            ));
        }
    }
    for (wi, (w, got)) in p.workloads.iter().zip(&per_workload).enumerate() {
        let need = usize::from(w.replicas);
        if got.len() > need {
            return Err(format!(
                "workload {wi}: {} replicas placed, {need} asked",
                got.len()
            ));
        }
        if w.all_or_nothing && !got.is_empty() && got.len() < need {
            return Err(format!(
                "workload {wi}: all or nothing, {} of {need} placed",
                got.len()
            ));
        }
        if (got.len() < need) != unplaced_seen[wi] {
            return Err(format!(
                "workload {wi}: {} of {need} placed, unplaced entry {}",
                got.len(),
                unplaced_seen[wi]
            ));
        }
        if w.has_anti_affinity() {
            let mut taken = idx.placed_attrs(w);
            for &ai in got {
                let x = attrs(w, &p.assets[ai as usize]);
                if clashes(w, &taken, &x) {
                    return Err(format!("workload {wi}: asset {ai} breaks anti-affinity"));
                }
                taken.push(x);
            }
        }
    }
    Ok(())
}
