//! Read coordinates and measure great-circle distances, at the edge only (floating point).
//!
//! Nothing here may run inside the state machine: coordinates become a [`Cell`] in the CLI or
//! API, and the state machine sees only cells (see the crate's determinism contract).
#![allow(
    clippy::float_arithmetic,
    reason = "edge only: coordinates are floats; the state machine never calls this module"
)]

use core::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

use crate::{Cell, GeoError, cell::resolution};

/// Longest `LAT,LON` text [`LatLon::parse`] looks at; 17 significant digits per number and a
/// sign, exponent and spaces fit easily.
const LATLON_TEXT_LEN_MAX: usize = 100;

/// A point on the Earth: latitude and longitude in degrees (WGS 84 as H3 reads it: a sphere).
///
/// Invariant: both are finite, latitude in [-90, 90] and longitude in [-180, 180].
/// JSON: `{"lat": 48.8584, "lon": 2.2945}`. No borsh encoding on purpose: floats are never
/// signed, hashed or persisted in state.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawLatLon")]
pub struct LatLon {
    lat: f64,
    lon: f64,
}

/// The unvalidated JSON form of [`LatLon`].
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLatLon {
    lat: f64,
    lon: f64,
}

impl TryFrom<RawLatLon> for LatLon {
    type Error = GeoError;

    fn try_from(raw: RawLatLon) -> Result<Self, GeoError> {
        Self::new(raw.lat, raw.lon)
    }
}

impl LatLon {
    /// A point from degrees.
    ///
    /// # Errors
    ///
    /// [`GeoError::LatitudeOutOfRange`] / [`GeoError::LongitudeOutOfRange`] when a value is not
    /// finite or outside [-90, 90] / [-180, 180].
    pub fn new(lat: f64, lon: f64) -> Result<Self, GeoError> {
        // `contains` is false for NaN, and the ranges exclude the infinities.
        if !(-90.0..=90.0).contains(&lat) {
            return Err(GeoError::LatitudeOutOfRange { lat });
        }
        if !(-180.0..=180.0).contains(&lon) {
            return Err(GeoError::LongitudeOutOfRange { lon });
        }
        Ok(Self { lat, lon })
    }

    /// Parse `LAT,LON` in decimal degrees, e.g. `48.8584,2.2945` (spaces around either number
    /// are allowed).
    ///
    /// # Errors
    ///
    /// [`GeoError::InvalidCoordinates`] when the text is not two numbers separated by one
    /// comma; the range errors of [`LatLon::new`].
    pub fn parse(text: &str) -> Result<Self, GeoError> {
        if text.len() > LATLON_TEXT_LEN_MAX {
            return Err(GeoError::InvalidCoordinates {
                reason: "the text is too long",
            });
        }
        let (lat, lon) = text.split_once(',').ok_or(GeoError::InvalidCoordinates {
            reason: "expected a comma",
        })?;
        if lon.contains(',') {
            return Err(GeoError::InvalidCoordinates {
                reason: "expected exactly one comma",
            });
        }
        let lat = lat
            .trim()
            .parse::<f64>()
            .map_err(|_| GeoError::InvalidCoordinates {
                reason: "latitude is not a number",
            })?;
        let lon = lon
            .trim()
            .parse::<f64>()
            .map_err(|_| GeoError::InvalidCoordinates {
                reason: "longitude is not a number",
            })?;
        Self::new(lat, lon)
    }

    /// Latitude in degrees, in [-90, 90].
    #[must_use]
    pub fn lat(self) -> f64 {
        self.lat
    }

    /// Longitude in degrees, in [-180, 180].
    #[must_use]
    pub fn lon(self) -> f64 {
        self.lon
    }

    /// The cell at resolution `res` that contains this point.
    ///
    /// # Errors
    ///
    /// [`GeoError::InvalidResolution`] when `res > 15`.
    pub fn to_cell(self, res: u8) -> Result<Cell, GeoError> {
        Ok(Cell::from_index(self.to_h3().to_cell(resolution(res)?)))
    }

    /// h3o's coordinate type.
    pub(crate) fn to_h3(self) -> h3o::LatLng {
        h3o::LatLng::new(self.lat, self.lon).expect("invariant: LatLon holds finite values")
    }

    /// A point from h3o's coordinate type, clamped into range (h3o's radians-to-degrees
    /// conversion may land an ulp outside it).
    pub(crate) fn from_h3(point: h3o::LatLng) -> Self {
        let lat = point.lat().clamp(-90.0, 90.0);
        let lon = point.lng().clamp(-180.0, 180.0);
        Self::new(lat, lon).expect("invariant: h3o returns finite coordinates")
    }
}

impl fmt::Display for LatLon {
    /// `LAT,LON`, each in the shortest form that [`LatLon::parse`] reads back exactly.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{},{}", self.lat, self.lon)
    }
}

impl FromStr for LatLon {
    type Err = GeoError;

    fn from_str(text: &str) -> Result<Self, GeoError> {
        Self::parse(text)
    }
}

/// Great-circle distance in kilometres between two points (haversine on H3's sphere, radius
/// [`h3o::EARTH_RADIUS_KM`] = 6371.007 km).
///
/// **Edge only** (floating point): use it in the CLI and API, for instance to filter the
/// candidates of [`crate::cells_within`]; the state machine uses [`crate::grid_distance`].
#[must_use]
pub fn haversine_km(a: LatLon, b: LatLon) -> f64 {
    a.to_h3().distance_km(b.to_h3())
}

/// A location given by a user or device: a cell at a required resolution, from either
/// `LAT,LON` or an H3 cell in hexadecimal.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Location {
    cell: Cell,
    point: Option<LatLon>,
}

impl Location {
    /// Parse `LAT,LON` (indexed at `res`) or a hexadecimal H3 cell of resolution `res` or finer
    /// (coarsened to its ancestor at `res`). Spaces around the text are ignored.
    ///
    /// **Edge only** when given coordinates (indexing a point uses floating point).
    ///
    /// # Errors
    ///
    /// [`GeoError::InvalidResolution`] when `res > 15`; [`GeoError::CellTooCoarse`] for a cell
    /// coarser than `res`; [`GeoError::InvalidLocation`] for text that is neither form; the
    /// errors of [`LatLon::parse`] for text with a comma and of [`Cell::parse`] for a number
    /// that is not a cell.
    pub fn parse(text: &str, res: u8) -> Result<Self, GeoError> {
        resolution(res)?;
        let text = text.trim();
        if text.contains(',') {
            let point = LatLon::parse(text)?;
            return Ok(Self {
                cell: point.to_cell(res)?,
                point: Some(point),
            });
        }
        let cell = Cell::parse(text).map_err(|e| match e {
            GeoError::InvalidCellText => GeoError::InvalidLocation,
            other => other,
        })?;
        let cell = cell.parent(res).ok_or(GeoError::CellTooCoarse {
            cell_res: cell.resolution(),
            required_res: res,
        })?;
        Ok(Self { cell, point: None })
    }

    /// The cell at the required resolution.
    #[must_use]
    pub fn cell(self) -> Cell {
        self.cell
    }

    /// The exact point, when the text was coordinates.
    #[must_use]
    pub fn point(self) -> Option<LatLon> {
        self.point
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Eiffel Tower.
    fn eiffel() -> LatLon {
        LatLon::new(48.858_370, 2.294_481).unwrap()
    }

    #[test]
    fn indexes_known_points_like_the_reference_library() {
        // Fixtures from published outputs of the H3 reference library (C), not from h3o:
        // Snowflake's H3_LATLNG_TO_CELL doc (Brandenburg Gate, res 8) and Databricks'
        // h3_longlatash3 doc (45 N 100 E at res 6; Golden Gate Bridge at res 13).
        for (lat, lon, res, index) in [
            (52.516_262, 13.377_704, 8, 613_036_919_424_548_863_u64),
            (45.0, 100.0, 6, 604_116_085_645_508_607),
            (37.8199, -122.4783, 13, 635_714_569_676_958_015),
        ] {
            let cell = LatLon::new(lat, lon).unwrap().to_cell(res).unwrap();
            assert_eq!(cell.to_u64(), index, "{lat},{lon} at {res}");
            assert_eq!(cell.resolution(), res);
        }
        let gate = LatLon::new(52.516_262, 13.377_704)
            .unwrap()
            .to_cell(8)
            .unwrap();
        assert_eq!(gate.to_string(), "881f1d4887fffff");
        assert_eq!(
            eiffel().to_cell(16),
            Err(GeoError::InvalidResolution { res: 16 })
        );
    }

    #[test]
    fn h3o_documented_point_indexes_to_its_documented_cell() {
        // From h3o's `CellIndex::parent` docs: 48.864716, 2.349014 is in 851fb467fffffff.
        let cell = LatLon::new(48.864_716, 2.349_014)
            .unwrap()
            .to_cell(5)
            .unwrap();
        assert_eq!(cell.to_string(), "851fb467fffffff");
    }

    #[test]
    fn parses_coordinates() {
        assert_eq!(LatLon::parse("48.85837,2.294481").unwrap(), eiffel());
        assert_eq!(LatLon::parse(" 48.85837 , 2.294481 ").unwrap(), eiffel());
        assert_eq!(
            LatLon::parse("-90,-180").unwrap(),
            LatLon::new(-90.0, -180.0).unwrap()
        );
        assert_eq!(LatLon::parse("90,180").unwrap().to_string(), "90,180");
        assert_eq!(eiffel().to_string().parse::<LatLon>().unwrap(), eiffel());
    }

    #[test]
    fn refuses_coordinates_out_of_range() {
        assert_eq!(
            LatLon::parse("91,0").unwrap_err().to_string(),
            "latitude 91 is out of range [-90, 90]"
        );
        assert_eq!(
            LatLon::parse("0,-180.5").unwrap_err().to_string(),
            "longitude -180.5 is out of range [-180, 180]"
        );
        assert_eq!(
            LatLon::parse("NaN,0").unwrap_err().to_string(),
            "latitude NaN is out of range [-90, 90]"
        );
        assert_eq!(
            LatLon::parse("0,inf").unwrap_err().to_string(),
            "longitude inf is out of range [-180, 180]"
        );
        assert!(LatLon::new(0.0, f64::NEG_INFINITY).is_err());
    }

    #[test]
    fn refuses_text_that_is_not_coordinates() {
        for (text, reason) in [
            ("48.85", "expected a comma"),
            ("1,2,3", "expected exactly one comma"),
            ("north,2", "latitude is not a number"),
            ("48.85,", "longitude is not a number"),
            ("0x1,2", "latitude is not a number"),
        ] {
            assert_eq!(
                LatLon::parse(text),
                Err(GeoError::InvalidCoordinates { reason }),
                "{text:?}"
            );
        }
        let long = format!("1,{}", "1".repeat(LATLON_TEXT_LEN_MAX));
        assert!(matches!(
            LatLon::parse(&long),
            Err(GeoError::InvalidCoordinates { .. })
        ));
        assert_eq!(
            LatLon::parse("1;2").unwrap_err().to_string(),
            "invalid coordinates: expected a comma; \
             expected \"LAT,LON\" in decimal degrees, e.g. \"48.8584,2.2945\""
        );
    }

    #[test]
    fn json_is_an_object_and_decoding_validates() {
        let json = serde_json::to_string(&eiffel()).unwrap();
        assert_eq!(json, r#"{"lat":48.85837,"lon":2.294481}"#);
        assert_eq!(serde_json::from_str::<LatLon>(&json).unwrap(), eiffel());
        assert!(serde_json::from_str::<LatLon>(r#"{"lat":91,"lon":0}"#).is_err());
        assert!(serde_json::from_str::<LatLon>(r#"{"lat":0,"lon":0,"alt":3}"#).is_err());
    }

    #[test]
    fn haversine_matches_known_distances() {
        // h3o's documented example: Paris to Shanghai.
        let paris = LatLon::new(48.864_716, 2.349_014).unwrap();
        let shanghai = LatLon::new(31.224_361, 121.469_170).unwrap();
        assert!((haversine_km(paris, shanghai) - 9_262.547_534).abs() < 1e-3);
        assert!(haversine_km(paris, paris).abs() < 1e-12);
        // A quarter of a great circle.
        let pole = LatLon::new(90.0, 0.0).unwrap();
        let equator = LatLon::new(0.0, 0.0).unwrap();
        let quarter = core::f64::consts::FRAC_PI_2 * h3o::EARTH_RADIUS_KM;
        assert!((haversine_km(pole, equator) - quarter).abs() < 1e-6);
    }

    #[test]
    fn cell_center_is_inside_the_cell() {
        let cell = eiffel().to_cell(8).unwrap();
        let center = cell.center();
        assert_eq!(center.to_cell(8).unwrap(), cell);
        assert!(haversine_km(center, eiffel()) < 1.0);
    }

    #[test]
    fn location_reads_coordinates_or_a_cell() {
        let here = Location::parse("48.85837,2.294481", 8).unwrap();
        assert_eq!(here.cell(), eiffel().to_cell(8).unwrap());
        assert_eq!(here.point(), Some(eiffel()));

        let fine = eiffel().to_cell(12).unwrap();
        let coarsened = Location::parse(&fine.to_string(), 8).unwrap();
        assert_eq!(coarsened.cell(), here.cell());
        assert_eq!(coarsened.point(), None);
        let padded = format!(" {} ", here.cell());
        assert_eq!(Location::parse(&padded, 8).unwrap().cell(), here.cell());

        assert_eq!(
            Location::parse("851fb467fffffff", 8)
                .unwrap_err()
                .to_string(),
            "cell resolution 5 is coarser than the required 8"
        );
        assert_eq!(Location::parse("here", 8), Err(GeoError::InvalidLocation));
        assert_eq!(Location::parse("", 8), Err(GeoError::InvalidLocation));
        assert!(matches!(
            Location::parse("8a1fb46622dfffe", 8),
            Err(GeoError::InvalidCell { .. })
        ));
        assert_eq!(
            Location::parse("91,0", 8).unwrap_err().to_string(),
            "latitude 91 is out of range [-90, 90]"
        );
        assert_eq!(
            Location::parse("48.85,2.29", 16),
            Err(GeoError::InvalidResolution { res: 16 })
        );
    }
}
