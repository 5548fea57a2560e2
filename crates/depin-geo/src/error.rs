//! Name every way a location input can be wrong.

/// Why a cell, coordinate, resolution or query was refused.
///
/// Every variant is an operating error: it comes from user, device or peer input, never from a
/// broken invariant of this crate.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum GeoError {
    /// The text is not a hexadecimal H3 index.
    #[error("invalid cell: expected an H3 cell index in hexadecimal, e.g. 8a1fb46622dffff")]
    InvalidCellText,
    /// The number is not a valid H3 cell index (wrong mode, reserved bits, digits or base cell).
    #[error("{index:#x} is not a valid H3 cell index: {reason}")]
    InvalidCell {
        /// The rejected index.
        index: u64,
        /// What is wrong with it, as h3o reports it.
        reason: &'static str,
    },
    /// The resolution is not one of H3's 0..=15.
    #[error("resolution {res} is out of range [0, 15]")]
    InvalidResolution {
        /// The rejected resolution.
        res: u8,
    },
    /// The latitude is not a finite number in [-90, 90].
    #[error("latitude {lat} is out of range [-90, 90]")]
    LatitudeOutOfRange {
        /// The rejected latitude, in degrees.
        lat: f64,
    },
    /// The longitude is not a finite number in [-180, 180].
    #[error("longitude {lon} is out of range [-180, 180]")]
    LongitudeOutOfRange {
        /// The rejected longitude, in degrees.
        lon: f64,
    },
    /// The text is not of the form `LAT,LON`.
    #[error(
        "invalid coordinates: {reason}; expected \"LAT,LON\" in decimal degrees, e.g. \"48.8584,2.2945\""
    )]
    InvalidCoordinates {
        /// What is wrong with the text.
        reason: &'static str,
    },
    /// The text is neither `LAT,LON` nor a hexadecimal H3 cell index.
    #[error(
        "invalid location: expected \"LAT,LON\" in decimal degrees or an H3 cell index in hexadecimal, e.g. \"48.8584,2.2945\" or 8a1fb46622dffff"
    )]
    InvalidLocation,
    /// A cell was given where a finer one is required (a coarse cell cannot be made finer).
    #[error("cell resolution {cell_res} is coarser than the required {required_res}")]
    CellTooCoarse {
        /// Resolution of the given cell.
        cell_res: u8,
        /// Resolution the caller requires.
        required_res: u8,
    },
    /// The radius is negative or not a finite number.
    #[error("radius {radius_km} km is not a finite number >= 0")]
    InvalidRadius {
        /// The rejected radius, in kilometres.
        radius_km: f64,
    },
    /// Covering the circle would take more cells than the named limit allows.
    #[error(
        "covering a {radius_km} km radius at resolution {res} needs more than {max_cells} cells; use a coarser resolution"
    )]
    CoverTooLarge {
        /// The requested radius, in kilometres.
        radius_km: f64,
        /// The requested resolution.
        res: u8,
        /// The limit ([`crate::MAX_COVER_CELLS`]).
        max_cells: usize,
    },
}
