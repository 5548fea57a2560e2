//! Cover a circle with cells, to plan "near LAT,LON within R km" queries (edge only).
#![allow(
    clippy::float_arithmetic,
    reason = "edge only: radii and distances are floats; the state machine never calls this module"
)]

use std::collections::{BTreeSet, VecDeque};

use h3o::LatLng;

use crate::{Cell, GeoError, LatLon, cell::resolution};

/// Most cells [`cells_within`] returns. A covering that needs more is refused, and the caller
/// should ask again at a coarser resolution (each step coarser divides the count by about 7).
pub const MAX_COVER_CELLS: usize = 4096;

/// Slack added to every distance comparison, in kilometres (1 mm), so float rounding can only
/// add candidates, never drop one.
const SLACK_KM: f64 = 1e-6;

/// The cells at resolution `res` that may intersect the circle of `radius_km` around `center`,
/// sorted ([`Cell`] order) and without duplicates; always includes the centre's cell.
///
/// Every cell that intersects the circle is returned (so every point within the radius lies
/// in a returned cell); a few that only come close may be returned too. The caller lists the
/// assets in these cells and keeps those whose exact position passes
/// [`crate::haversine_km`]` <= radius_km`.
///
/// How: a flood fill from the centre's cell over neighbours, keeping a cell when its centre is
/// within `radius_km` plus the cell's own circumradius (its farthest vertex). The cells that
/// intersect a circle are connected, so the fill reaches all of them, and it stops at the
/// first ring of cells that cannot intersect. This needs no assumption about how much H3 cells
/// shrink or stretch across the globe, unlike a `grid_disk` with a radius derived from the
/// average edge length.
///
/// **Edge only** (floating point): for query planning in the API or CLI.
///
/// # Errors
///
/// [`GeoError::InvalidResolution`] when `res > 15`; [`GeoError::InvalidRadius`] for a
/// negative or non-finite radius; [`GeoError::CoverTooLarge`] when more than
/// [`MAX_COVER_CELLS`] cells would be needed.
pub fn cells_within(center: LatLon, radius_km: f64, res: u8) -> Result<Vec<Cell>, GeoError> {
    let h3_res = resolution(res)?;
    if !(radius_km.is_finite() && radius_km >= 0.0) {
        return Err(GeoError::InvalidRadius { radius_km });
    }
    let point = center.to_h3();
    let origin = Cell::from_index(point.to_cell(h3_res));

    let mut inside = BTreeSet::from([origin]);
    let mut seen = BTreeSet::from([origin]);
    let mut queue = VecDeque::from([origin]);
    while let Some(cell) = queue.pop_front() {
        for neighbour in cell.index().grid_disk::<Vec<_>>(1) {
            let neighbour = Cell::from_index(neighbour);
            if !seen.insert(neighbour) || !may_intersect(neighbour, point, radius_km) {
                continue;
            }
            if inside.len() == MAX_COVER_CELLS {
                return Err(GeoError::CoverTooLarge {
                    radius_km,
                    res,
                    max_cells: MAX_COVER_CELLS,
                });
            }
            inside.insert(neighbour);
            queue.push_back(neighbour);
        }
    }
    Ok(inside.into_iter().collect())
}

/// Whether `cell` may intersect the circle: its centre is within the radius plus its
/// circumradius. Necessary for intersecting (triangle inequality), so never a false "no".
fn may_intersect(cell: Cell, point: LatLng, radius_km: f64) -> bool {
    let center = LatLng::from(cell.index());
    let circumradius_km = cell
        .index()
        .boundary()
        .iter()
        .map(|vertex| center.distance_km(*vertex))
        .fold(0.0, f64::max);
    point.distance_km(center) <= radius_km + circumradius_km + SLACK_KM
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AVG_EDGE_LENGTH_MM, haversine_km};
    use proptest::prelude::*;

    fn gate() -> LatLon {
        LatLon::new(52.516_262, 13.377_704).unwrap()
    }

    /// Every cell around `center` (by brute force over a generous grid disk) whose centre is
    /// within `radius_km`.
    fn centres_within(center: LatLon, radius_km: f64, res: u8) -> Vec<Cell> {
        let origin = center.to_cell(res).unwrap();
        // Smallest hexagons are about half the average edge; a centre within the radius is at
        // most radius / (1.5 × smallest edge) rings away, plus two for the origin's own offset.
        #[allow(clippy::cast_precision_loss, reason = "small integers")]
        let edge_km = AVG_EDGE_LENGTH_MM[usize::from(res)] as f64 / 1e6;
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "small positive value"
        )]
        let k = (radius_km / (0.75 * edge_km)).ceil() as u32 + 2;
        origin
            .index()
            .grid_disk::<Vec<_>>(k)
            .into_iter()
            .map(Cell::from_index)
            .filter(|cell| haversine_km(cell.center(), center) <= radius_km)
            .collect()
    }

    fn assert_cover(center: LatLon, radius_km: f64, res: u8) -> Vec<Cell> {
        let cover = cells_within(center, radius_km, res).unwrap();
        assert!(
            cover.windows(2).all(|w| w[0] < w[1]),
            "sorted and deduplicated"
        );
        assert!(cover.iter().all(|c| c.resolution() == res));
        assert!(cover.len() <= MAX_COVER_CELLS);
        assert!(
            cover.contains(&center.to_cell(res).unwrap()),
            "holds the centre's cell"
        );
        for cell in centres_within(center, radius_km, res) {
            assert!(
                cover.contains(&cell),
                "{cell} has its centre within {radius_km} km"
            );
        }
        cover
    }

    #[test]
    fn zero_radius_is_the_centres_cell_and_maybe_its_close_neighbours() {
        let cover = assert_cover(gate(), 0.0, 8);
        assert!(cover.len() <= 7, "{cover:?}");
    }

    #[test]
    fn a_kilometre_at_resolution_8_is_a_few_dozen_cells() {
        // Circle area π km² over a 0.74 km² average cell, plus the cells on its rim.
        let cover = assert_cover(gate(), 1.0, 8);
        assert!((7..=40).contains(&cover.len()), "{}", cover.len());
    }

    #[test]
    fn covers_at_the_antimeridian_the_poles_and_a_pentagon() {
        assert_cover(LatLon::new(0.0, 179.999).unwrap(), 5.0, 7);
        assert_cover(LatLon::new(-16.0, -180.0).unwrap(), 5.0, 7);
        assert_cover(LatLon::new(90.0, 0.0).unwrap(), 5.0, 7);
        assert_cover(LatLon::new(-90.0, 45.0).unwrap(), 5.0, 7);
        // Base cell 4 is a pentagon; cover around its centre.
        let pentagon = Cell::parse("8009fffffffffff").unwrap();
        let center = pentagon.descendant_range(6).unwrap().start().center();
        let cover = assert_cover(center, 20.0, 6);
        assert!(cover.iter().any(|c| c.index().is_pentagon()));
    }

    #[test]
    fn the_whole_globe_at_resolution_0_is_all_122_base_cells() {
        let cover = assert_cover(gate(), 20_100.0, 0);
        assert_eq!(cover.len(), 122);
    }

    #[test]
    fn refuses_a_cover_larger_than_the_limit() {
        let err = cells_within(gate(), 50.0, 10).unwrap_err();
        assert_eq!(
            err,
            GeoError::CoverTooLarge {
                radius_km: 50.0,
                res: 10,
                max_cells: MAX_COVER_CELLS
            }
        );
        assert_eq!(
            err.to_string(),
            "covering a 50 km radius at resolution 10 needs more than 4096 cells; \
             use a coarser resolution"
        );
        // An absurd radius at the finest resolution stops at the limit too.
        assert!(matches!(
            cells_within(gate(), 1e300, 15),
            Err(GeoError::CoverTooLarge { .. })
        ));
    }

    #[test]
    fn refuses_bad_radius_or_resolution() {
        for radius_km in [-1.0, f64::NAN, f64::INFINITY] {
            assert!(matches!(
                cells_within(gate(), radius_km, 8),
                Err(GeoError::InvalidRadius { .. })
            ));
        }
        assert_eq!(
            cells_within(gate(), 1.0, 16),
            Err(GeoError::InvalidResolution { res: 16 })
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn cover_holds_every_cell_with_its_centre_or_a_point_in_the_circle(
            lat in -89.9..=89.9f64,
            lon in -180.0..=180.0f64,
            radius_km in 0.0..=3.0f64,
            res in 5..=9u8,
            offsets in proptest::collection::vec((-1.0..=1.0f64, -1.0..=1.0f64), 16),
        ) {
            let center = LatLon::new(lat, lon).unwrap();
            let cover = assert_cover(center, radius_km, res);
            // Random points in the circle (a box around it in degrees, filtered by distance).
            let dlat = radius_km / 111.0;
            let dlon = (dlat / lat.to_radians().cos()).min(180.0);
            for (x, y) in offsets {
                // Wrap across the antimeridian.
                let lon_p = (lon + x * dlon + 540.0).rem_euclid(360.0) - 180.0;
                let p = LatLon::new((lat + y * dlat).clamp(-90.0, 90.0), lon_p).unwrap();
                if haversine_km(p, center) <= radius_km {
                    let cell = p.to_cell(res).unwrap();
                    prop_assert!(cover.contains(&cell), "{p} at {res} in {cell}");
                }
            }
        }
    }
}
