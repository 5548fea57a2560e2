//! Locate assets: H3 cells, coordinates and distances.
//!
//! An asset asserts its location as an H3 [`Cell`] at a configured resolution. Users and
//! devices give locations as `LAT,LON` or as a cell in hex ([`Location::parse`]); queries list
//! the assets in a cell and its descendants ([`Cell::descendant_range`]) or near a point
//! ([`cells_within`], then [`haversine_km`] on the candidates).
//!
//! # Determinism contract
//!
//! The state machine may not use floating point (ARCHITECTURE.md, `depin-state` invariant), so
//! this crate is split in two, and lint-enforced: `clippy::float_arithmetic` is denied for the
//! whole crate and allowed only in the two edge-only modules.
//!
//! **State machine safe** (integer only, deterministic on every platform):
//! - [`Cell`]: `try_from(u64)`, [`Cell::parse`], `Display`, borsh, serde,
//!   [`Cell::to_be_bytes`], [`Cell::from_be_bytes`], [`Cell::resolution`], [`Cell::parent`],
//!   [`Cell::is_within`], [`Cell::descendant_range`];
//! - [`grid_distance`], [`GridPoint`], [`grid_distance_approx_m`], [`AVG_EDGE_LENGTH_MM`];
//! - [`Location::parse`] given a cell.
//!
//! **Edge only** (floating point; CLI, API and query planning, never the state machine):
//! - [`LatLon`] and [`LatLon::to_cell`], [`Location::parse`] given `LAT,LON`;
//! - [`Cell::center`], [`haversine_km`], [`cells_within`].
//!
//! So coordinates become cells in the CLI or API, and only cells (and integer grid distances)
//! enter transactions and state. A GNSS fix, for instance, is reported as a fine cell and
//! compared with the asserted cell by [`grid_distance`] at a common resolution.
//!
//! h3o is built without its `std` feature (root `Cargo.toml`): its float functions then use the
//! pure-Rust `libm` rather than the platform's maths library, so indexing a point gives the
//! same cell on every platform, and `grid_disk` uses an ordered set rather than a hasher seeded
//! at compile time. If another crate ever enables `h3o/std`, Cargo's feature unification turns
//! it on here too; the integer functions are unaffected.
//!
//! # Accuracy of the integer distance
//!
//! [`grid_distance_approx_m`] multiplies grid steps by the *average* centre spacing of the
//! resolution. H3 cells of one resolution vary in size across the globe (smallest near the
//! icosahedron's vertices, where the pentagons are), and off-axis paths are shorter than
//! on-axis ones. Measured over the whole globe (every neighbour pair at resolutions 2 to 4;
//! every pair 10 steps apart at resolution 3 and a 1-in-49 sample at resolution 5), the true
//! distance between the centres is 0.61 to 1.10 times the estimate. So a rule that must not
//! punish honest devices (impossible travel, location trust) should treat `0.6 ×` the estimate
//! as the distance certainly covered and `1.1 ×` as the most.
#![deny(clippy::float_arithmetic)] // determinism: see the contract above

mod cell;
mod cover;
mod distance;
mod error;
mod latlon;

pub use cell::{Cell, MAX_RESOLUTION, raw_cell_index};
pub use cover::{MAX_COVER_CELLS, cells_within};
pub use distance::{AVG_EDGE_LENGTH_MM, GridPoint, grid_distance, grid_distance_approx_m};
pub use error::GeoError;
pub use latlon::{LatLon, Location, haversine_km};
