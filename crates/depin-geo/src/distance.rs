//! Measure how far apart two cells are with integer math only (state machine safe).

use std::sync::OnceLock;

use h3o::CellIndex;

use crate::{Cell, GeoError, cell::resolution};

/// Average hexagon edge length in millimetres per resolution 0..=15 (index = resolution),
/// rounded to the nearest millimetre from the H3 documentation's table (the same values as
/// h3o's `Resolution::edge_length_m`; a test checks the copy). Pentagons are excluded.
pub const AVG_EDGE_LENGTH_MM: [u64; 16] = [
    1_281_256_011, // 0: 1281.256 km
    483_056_839,
    182_512_956,
    68_979_222,
    26_071_760,
    9_854_091, // 5: 9.854 km
    3_724_533,
    1_406_476,
    531_414, // 8: 531 m
    200_786,
    75_864, // 10: 75.9 m
    28_664,
    10_830,
    4_092,
    1_546,
    584, // 15: 0.58 m
];

/// √3 in millionths, rounded: the distance between the centres of two adjacent regular
/// hexagons is √3 times their edge length.
const SQRT3_MICROS: u64 = 1_732_051;

/// Number of grid steps between two cells of the same resolution (0 for the same cell, 1 for
/// neighbours), or `None` when the resolutions differ or H3 cannot tell: the cells are too far
/// apart (their base cells are not neighbours, so roughly beyond 1,000 km) or on opposite
/// sides of a pentagon.
///
/// Integer-only and deterministic (h3o unfolds both cells into one IJK coordinate system with
/// bit operations, lookup tables and `i32` arithmetic), so the state machine may call it.
#[must_use]
pub fn grid_distance(a: Cell, b: Cell) -> Option<u32> {
    let (from, to) = (a.index().base_cell(), b.index().base_cell());
    if from != to && !base_cells_meet(u8::from(from), u8::from(to)) {
        return None; // what h3o answers too, after decoding both cells (a test checks it)
    }
    let steps = a.index().grid_distance(b.index()).ok()?;
    u32::try_from(steps).ok()
}

/// Whether base cells `a` and `b` (numbers 0..122) are neighbours: h3o unfolds two cells into
/// one grid only when their base cells are the same or neighbours. The table is the base
/// cells' rings of one, built on first use.
fn base_cells_meet(a: u8, b: u8) -> bool {
    static NEIGHBOURS: OnceLock<[u128; 122]> = OnceLock::new();
    let table = NEIGHBOURS.get_or_init(|| {
        let mut table = [0u128; 122];
        for cell in CellIndex::base_cells() {
            let row = &mut table[usize::from(u8::from(cell.base_cell()))];
            for near in cell.grid_disk::<Vec<CellIndex>>(1) {
                *row |= 1 << u8::from(near.base_cell());
            }
        }
        table
    });
    table
        .get(usize::from(a))
        .is_some_and(|row| b < 128 && (row >> b) & 1 == 1)
}

/// A cell's hexagon coordinates in the grid of its base cell, at its own resolution: decode a
/// cell once, then measure many distances from it without unfolding it again (the allocator
/// measures every candidate asset against a workload's `near` cell).
///
/// [`GridPoint::steps`] between the points of two cells of the same base cell and resolution
/// equals [`grid_distance`] of the cells (a test checks it against h3o). Other pairs are left
/// to [`grid_distance`], which unfolds neighbouring base cells into one system. Cells of the
/// twelve pentagon base cells have no point: their grids miss a sector.
///
/// Integer-only (state machine safe).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GridPoint {
    base: u8,
    res: u8,
    /// Normalised IJK coordinates (the least is 0): three axes 120° apart, so a hexagon has
    /// many spellings, and normalising picks one. They grow by √7 a resolution, so within one
    /// base cell they stay within a few million at resolution 15 (h3o keeps them in `i32` too).
    ijk: [i32; 3],
}

/// The IJK offset of each resolution digit's child from the centre child (digit 0).
const DIGIT_OFFSETS: [[i32; 3]; 7] = [
    [0, 0, 0], // centre
    [0, 0, 1], // K
    [0, 1, 0], // J
    [0, 1, 1], // JK
    [1, 0, 0], // I
    [1, 0, 1], // IK
    [1, 1, 0], // IJ
];

/// The least coordinate subtracted from each, so that the least is 0.
fn normalised([i, j, k]: [i32; 3]) -> [i32; 3] {
    let least = i.min(j).min(k);
    [i - least, j - least, k - least]
}

/// The coordinates, at the next finer resolution `res`, of the centre child of the hexagon at
/// `ijk`: aperture 7, the grid turned about 19° one way for odd (class III) resolutions and
/// the other way for even (class II) ones.
fn centre_child([i, j, k]: [i32; 3], res: u8) -> [i32; 3] {
    let child = if res % 2 == 1 {
        [3 * i + j, 3 * j + k, i + 3 * k]
    } else {
        [3 * i + k, i + 3 * j, j + 3 * k]
    };
    normalised(child)
}

impl GridPoint {
    /// The point of `cell`, or `None` on a pentagon base cell.
    #[must_use]
    pub fn of(cell: Cell) -> Option<Self> {
        let index = cell.index();
        let base = index.base_cell();
        if base.is_pentagon() {
            return None;
        }
        let bits = u64::from(index);
        let res = cell.resolution();
        let mut ijk = [0i32; 3];
        for r in 1..=res {
            ijk = centre_child(ijk, r);
            // Digit `r` sits at bits 3 × (15 − r); a valid cell has 0..=6 there.
            let digit = (bits >> (3 * u32::from(15 - r))) & 7;
            let offset = DIGIT_OFFSETS.get(digit as usize)?;
            ijk = normalised([ijk[0] + offset[0], ijk[1] + offset[1], ijk[2] + offset[2]]);
        }
        Some(GridPoint {
            base: u8::from(base),
            res,
            ijk,
        })
    }

    /// Grid steps to `other` ([`grid_distance`] of their cells) when both are on the same base
    /// cell at the same resolution; `None` otherwise (ask [`grid_distance`]).
    #[must_use]
    pub fn steps(&self, other: &GridPoint) -> Option<u32> {
        if self.base != other.base || self.res != other.res {
            return None;
        }
        let [i, j, k] = normalised([
            self.ijk[0] - other.ijk[0],
            self.ijk[1] - other.ijk[1],
            self.ijk[2] - other.ijk[2],
        ]);
        u32::try_from(i.max(j).max(k)).ok()
    }
}

/// Approximate distance in metres between the centres of two cells `steps` grid steps apart at
/// resolution `res`: `steps × √3 × average edge length`, rounded to the nearest metre.
///
/// Integer-only (state machine safe). It is an estimate, not a bound: it is exact for the
/// average hexagon along a grid axis; off-axis paths are shorter, and H3 cells of one
/// resolution differ in size with their place on the globe. Measured over the globe, the true
/// distance is 0.61 to 1.10 times this value (see the crate documentation), so thresholds
/// built on it need that margin.
///
/// # Errors
///
/// [`GeoError::InvalidResolution`] when `res > 15`.
pub fn grid_distance_approx_m(steps: u32, res: u8) -> Result<u64, GeoError> {
    resolution(res)?;
    let edge_mm = AVG_EDGE_LENGTH_MM[usize::from(res)];
    // In u64 when it fits (short distances, the common case; the same result), as u128 division
    // is a library call.
    if let Some(nanometres) = u64::from(steps)
        .checked_mul(edge_mm)
        .and_then(|n| n.checked_mul(SQRT3_MICROS))
        .and_then(|n| n.checked_add(500_000_000))
    {
        return Ok(nanometres / 1_000_000_000);
    }
    // At most 2^32 × 1.3e9 × 1.8e6 ≈ 1e25 < 2^128; the quotient is < 1e16 m, within u64.
    let nanometres = u128::from(steps) * u128::from(edge_mm) * u128::from(SQRT3_MICROS);
    let metres = (nanometres + 500_000_000) / 1_000_000_000;
    Ok(u64::try_from(metres).expect("invariant: at most about 1e16 metres fits in u64"))
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::float_arithmetic,
        reason = "tests compare the integer table with h3o's floats"
    )]

    use super::*;
    use crate::{LatLon, MAX_RESOLUTION, raw_cell_index};
    use proptest::prelude::*;

    #[test]
    fn edge_table_matches_h3o_within_half_a_millimetre() {
        for res in 0..=MAX_RESOLUTION {
            let h3o_mm = resolution(res).unwrap().edge_length_m() * 1000.0;
            #[allow(clippy::cast_precision_loss, reason = "values below 2^53 are exact")]
            let ours_mm = AVG_EDGE_LENGTH_MM[usize::from(res)] as f64;
            assert!(
                (ours_mm - h3o_mm).abs() <= 0.5,
                "resolution {res}: {ours_mm} vs {h3o_mm}"
            );
        }
    }

    #[test]
    fn neighbours_are_one_step_apart() {
        // h3o's documented pair of neighbours at resolution 10.
        let a = Cell::parse("8a1fb46622dffff").unwrap();
        let b = Cell::parse("8a1fb46622d7fff").unwrap();
        assert_eq!(grid_distance(a, b), Some(1));
        assert_eq!(grid_distance(b, a), Some(1));
        assert_eq!(grid_distance(a, a), Some(0));
        for neighbour in a.index().grid_disk::<Vec<_>>(1) {
            let n = Cell::from_index(neighbour);
            assert_eq!(grid_distance(a, n), Some(u32::from(n != a)));
        }
    }

    #[test]
    fn distance_between_resolutions_or_across_the_globe_is_undefined() {
        let a = Cell::parse("8a1fb46622dffff").unwrap();
        assert_eq!(grid_distance(a, a.parent(9).unwrap()), None);
        let antipode = LatLon::new(-48.86, -177.65).unwrap().to_cell(10).unwrap();
        assert_eq!(grid_distance(a, antipode), None);
    }

    #[test]
    fn disk_rings_are_at_their_grid_distance() {
        let origin = LatLon::new(52.516_262, 13.377_704)
            .unwrap()
            .to_cell(9)
            .unwrap();
        for (cell, k) in origin.index().grid_disk_distances::<Vec<_>>(5) {
            assert_eq!(grid_distance(origin, Cell::from_index(cell)), Some(k));
        }
    }

    #[test]
    fn approx_metres_fixture() {
        // 10 steps at resolution 8: 10 × 1.732051 × 531.414 m = 9204.4 m.
        assert_eq!(grid_distance_approx_m(10, 8), Ok(9204));
        assert_eq!(grid_distance_approx_m(1, 15), Ok(1)); // 1.0115 m
        assert_eq!(grid_distance_approx_m(0, 0), Ok(0));
        assert_eq!(
            grid_distance_approx_m(u32::MAX, 0),
            Ok(9_531_394_664_230_574)
        );
        assert_eq!(
            grid_distance_approx_m(1, 16),
            Err(GeoError::InvalidResolution { res: 16 })
        );
    }

    #[test]
    fn approx_metres_track_the_real_distance_between_neighbour_centres() {
        // Around the Brandenburg Gate, adjacent centres are within 30% of the estimate.
        let gate = LatLon::new(52.516_262, 13.377_704).unwrap();
        for res in 0..=MAX_RESOLUTION {
            let cell = gate.to_cell(res).unwrap();
            let estimate_m = grid_distance_approx_m(1, res).unwrap();
            for neighbour in cell.index().grid_disk::<Vec<_>>(1) {
                let neighbour = Cell::from_index(neighbour);
                if neighbour == cell {
                    continue;
                }
                let real_m = crate::haversine_km(cell.center(), neighbour.center()) * 1000.0;
                #[allow(clippy::cast_precision_loss, reason = "small integers")]
                let ratio = real_m / estimate_m as f64;
                assert!(
                    (0.7..=1.3).contains(&ratio),
                    "resolution {res}: ratio {ratio}"
                );
            }
        }
    }

    #[test]
    fn pentagon_base_cells_have_no_grid_point() {
        let cell = |base, digits: &[u8]| Cell::try_from(raw_cell_index(base, digits)).unwrap();
        assert_eq!(GridPoint::of(cell(4, &[2, 2, 3])), None); // base cell 4 is a pentagon
        let point = GridPoint::of(cell(20, &[1, 2, 3])).unwrap();
        assert_eq!(point.steps(&point), Some(0));
        // Another resolution or base cell: not measured here.
        let finer = GridPoint::of(cell(20, &[1, 2, 3, 0])).unwrap();
        assert_eq!(point.steps(&finer), None);
        let elsewhere = GridPoint::of(cell(21, &[1, 2, 3])).unwrap();
        assert_eq!(point.steps(&elsewhere), None);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(20_000))]
        #[test]
        fn grid_point_steps_equal_h3o_grid_distance(
            base in 0u8..122,
            digits_a in proptest::collection::vec(0u8..7, 0..=15usize),
            tail in proptest::collection::vec(0u8..7, 0..=15usize),
            shared in 0usize..=15,
        ) {
            // `b` shares `a`'s first `shared` digits, so pairs come near and far.
            let mut digits_b: Vec<u8> = digits_a.iter().take(shared).copied().collect();
            digits_b.extend(tail.iter().copied());
            digits_b.resize(digits_a.len(), 0);
            let (Ok(a), Ok(b)) = (
                Cell::try_from(raw_cell_index(base, &digits_a)),
                Cell::try_from(raw_cell_index(base, &digits_b)),
            ) else {
                return Ok(()); // a deleted pentagon sector
            };
            match (GridPoint::of(a), GridPoint::of(b)) {
                (Some(pa), Some(pb)) => prop_assert_eq!(pa.steps(&pb), grid_distance(a, b)),
                (None, None) => prop_assert!(a.index().base_cell().is_pentagon()),
                other => prop_assert!(false, "one point only: {:?}", other),
            }
        }

        /// The base-cell shortcut answers what h3o answers, for cells of any two base cells
        /// (neighbours or not, pentagons included).
        #[test]
        fn grid_distance_is_h3o_grid_distance(
            base_a in 0u8..122, base_b in 0u8..122,
            digits_a in proptest::collection::vec(0u8..7, 0..=6usize),
            digits_b in proptest::collection::vec(0u8..7, 0..=6usize),
        ) {
            let mut digits_b = digits_b;
            digits_b.resize(digits_a.len(), 0);
            let (Ok(a), Ok(b)) = (
                Cell::try_from(raw_cell_index(base_a, &digits_a)),
                Cell::try_from(raw_cell_index(base_b, &digits_b)),
            ) else {
                return Ok(()); // a deleted pentagon sector
            };
            let h3o = a.index().grid_distance(b.index()).ok().and_then(|s| u32::try_from(s).ok());
            prop_assert_eq!(grid_distance(a, b), h3o);
        }

        #[test]
        fn grid_distance_never_panics_and_is_zero_only_for_the_same_cell(
            lat_a in -90.0..=90.0f64, lon_a in -180.0..=180.0f64,
            dlat in -0.05..=0.05f64, dlon in -0.05..=0.05f64,
            res in 0..=MAX_RESOLUTION,
        ) {
            let a = LatLon::new(lat_a, lon_a).unwrap();
            let lat_b = (lat_a + dlat).clamp(-90.0, 90.0);
            let b = LatLon::new(lat_b, (lon_a + dlon).clamp(-180.0, 180.0)).unwrap();
            let (a, b) = (a.to_cell(res).unwrap(), b.to_cell(res).unwrap());
            if let Some(steps) = grid_distance(a, b) {
                prop_assert_eq!(steps == 0, a == b);
            }
            prop_assert_eq!(grid_distance(a, a), Some(0));
        }
    }
}
