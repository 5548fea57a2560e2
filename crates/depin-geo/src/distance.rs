//! Measure how far apart two cells are with integer math only (state machine safe).

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
const SQRT3_MICROS: u128 = 1_732_051;

/// Number of grid steps between two cells of the same resolution (0 for the same cell, 1 for
/// neighbours), or `None` when the resolutions differ or H3 cannot tell: the cells are too far
/// apart (their base cells are not neighbours, so roughly beyond 1,000 km) or on opposite
/// sides of a pentagon.
///
/// Integer-only and deterministic (h3o unfolds both cells into one IJK coordinate system with
/// bit operations, lookup tables and `i32` arithmetic), so the state machine may call it.
#[must_use]
pub fn grid_distance(a: Cell, b: Cell) -> Option<u32> {
    let steps = a.index().grid_distance(b.index()).ok()?;
    u32::try_from(steps).ok()
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
    let edge_mm = u128::from(AVG_EDGE_LENGTH_MM[usize::from(res)]);
    // At most 2^32 × 1.3e9 × 1.8e6 ≈ 1e25 < 2^128; the quotient is < 1e16 m, within u64.
    let nanometres = u128::from(steps) * edge_mm * SQRT3_MICROS;
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
    use crate::{LatLon, MAX_RESOLUTION};
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

    proptest! {
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
