//! Choose one workload's replicas from an ordered list of assets under anti-affinity.

use crate::Workload;
use crate::eval::Attrs;

/// Whether an asset with attributes `x` clashes with one of `used` for `w`'s anti-affinity
/// flags (never without flags).
pub(crate) fn clashes(w: &Workload, used: &[Attrs], x: &Attrs) -> bool {
    used.iter().any(|u| {
        (w.distinct_owners && u.owner == x.owner)
            || (w.distinct_cells_res.is_some() && u.cell == x.cell)
            || (w.distinct_energy && u.energy == x.energy)
    })
}

/// Walk `order` (best first) and take replicas for `w` until `need` are chosen: with
/// anti-affinity one per asset whose attributes clash with none taken so far nor with `used`
/// (the running replicas); without, as many per asset as `slots(asset)` allows. Returns the
/// chosen asset indexes (repeated when an asset takes several). Greedy in `order`: optimal for
/// no flag or one flag (a partition matroid), a heuristic for several.
pub(crate) fn pick(
    w: &Workload,
    used: &[Attrs],
    order: impl Iterator<Item = (u32, Attrs)>,
    need: u16,
    mut slots: impl FnMut(u32) -> u64,
) -> Vec<u32> {
    let mut chosen = Vec::with_capacity(usize::from(need));
    if need == 0 {
        return chosen;
    }
    let anti = w.has_anti_affinity();
    let mut taken: Vec<Attrs> = used.to_vec();
    for (ai, x) in order {
        if anti {
            if clashes(w, &taken, &x) || slots(ai) == 0 {
                continue;
            }
            taken.push(x);
            chosen.push(ai);
        } else {
            let room = usize::from(need) - chosen.len();
            let n = usize::try_from(slots(ai)).unwrap_or(usize::MAX).min(room);
            chosen.extend(std::iter::repeat_n(ai, n));
        }
        if chosen.len() >= usize::from(need) {
            break;
        }
    }
    chosen
}
