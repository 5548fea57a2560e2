//! Name a place as an H3 cell: a validated index, its hex text, its encodings and its hierarchy.
//!
//! Everything here is integer-only (state machine safe) except [`Cell::center`].
//!
//! # Listing the assets in a cell from a key-value index
//!
//! An H3 index is a `u64` whose high bits are mode, resolution and base cell, followed by one
//! 3-bit digit per resolution 1..=15 (unused digits are `7`). Among the cells of **one**
//! resolution `R`, the descendants of a coarser cell `C` therefore share every bit above C's
//! last digit, so they form one contiguous run of the numeric order, which is also the order of
//! [`Cell::to_be_bytes`]. [`Cell::descendant_range`] returns that run's first and last cell.
//!
//! So a registry that asserts every asset's location at one configured resolution `R` can keep
//! a single index keyed by `prefix || cell.to_be_bytes() || asset id` (the asset's own cell) and
//! list the assets in any query cell `C` with `C.resolution() <= R` in one range scan, from
//! `prefix || start.to_be_bytes()` to `prefix || end.to_be_bytes()` inclusive of every asset id
//! under `end`, where `start..=end = C.descendant_range(R)`. No per-resolution copies of the
//! index are needed for this query. A query cell finer than `R` contains no asserted cell (each
//! asserted cell is larger than it), so the caller refuses it or coarsens it with
//! [`Cell::parent`]`(R)`.

use core::{fmt, ops::RangeInclusive, str::FromStr};

use borsh::{BorshDeserialize, BorshSerialize};
use h3o::{CellIndex, Resolution};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::{GeoError, LatLon};

/// Finest H3 resolution; valid resolutions are `0..=MAX_RESOLUTION`.
pub const MAX_RESOLUTION: u8 = 15;

/// Longest text [`Cell::parse`] looks at: `0x` and 16 hex digits.
const CELL_TEXT_LEN_MAX: usize = 18;

/// Bit offset of the 4-bit resolution field in an H3 index.
const RESOLUTION_OFFSET: u32 = 52;
/// Width in bits of one resolution digit.
const DIGIT_BITS: u32 = 3;

/// Check that `res` is an H3 resolution (0..=15) and convert it to h3o's type.
///
/// # Errors
///
/// [`GeoError::InvalidResolution`] when `res > 15`.
pub(crate) fn resolution(res: u8) -> Result<Resolution, GeoError> {
    Resolution::try_from(res).map_err(|_| GeoError::InvalidResolution { res })
}

/// The raw H3 index of the cell of base cell `base_cell` whose resolution digits are `digits`
/// (each 0..=6; the resolution is their count, at most 15): for building cells in tests and
/// generators. It is not checked: [`Cell::try_from`] refuses, for example, a deleted pentagon
/// sector.
#[must_use]
pub fn raw_cell_index(base_cell: u8, digits: &[u8]) -> u64 {
    let digits = &digits[..digits.len().min(usize::from(MAX_RESOLUTION))];
    // Mode 1 (a cell) at bit 59, the resolution, the 7-bit base cell at bit 45, then one digit
    // per resolution, 7 where unused.
    let mut bits: u64 = (1 << 59)
        | ((digits.len() as u64) << RESOLUTION_OFFSET)
        | (u64::from(base_cell & 0x7f) << 45);
    for r in 1..=MAX_RESOLUTION {
        let digit = digits.get(usize::from(r) - 1).map_or(7, |&d| u64::from(d & 7));
        bits |= digit << (u32::from(MAX_RESOLUTION - r) * DIGIT_BITS);
    }
    bits
}

/// A valid H3 cell index (mode 1, any resolution 0..=15).
///
/// Invariant: the wrapped index always passes h3o's validation, so every way in
/// ([`Cell::try_from`], [`Cell::parse`], borsh and serde decoding) validates.
///
/// Ordering is the numeric order of the `u64`, which is the byte order of
/// [`Cell::to_be_bytes`] (useful for range scans). It is not a spatial order across
/// resolutions.
///
/// Encodings: borsh writes the plain `u64` (8 bytes, little endian); JSON writes the canonical
/// lowercase 15-digit hex string, e.g. `"8a1fb46622dffff"`.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cell(CellIndex);

impl Cell {
    /// Parse a cell from hexadecimal text: case-insensitive, optional `0x` prefix, e.g.
    /// `8a1fb46622dffff` or `0x8A1FB46622DFFFF`.
    ///
    /// # Errors
    ///
    /// [`GeoError::InvalidCellText`] when the text is not 1 to 16 hex digits;
    /// [`GeoError::InvalidCell`] when the number is not a valid H3 cell index.
    pub fn parse(text: &str) -> Result<Self, GeoError> {
        if text.len() > CELL_TEXT_LEN_MAX {
            return Err(GeoError::InvalidCellText);
        }
        let digits = text
            .strip_prefix("0x")
            .or_else(|| text.strip_prefix("0X"))
            .unwrap_or(text);
        // `from_str_radix` alone would also take a leading `+`.
        if digits.is_empty() || digits.len() > 16 || !digits.bytes().all(|b| b.is_ascii_hexdigit())
        {
            return Err(GeoError::InvalidCellText);
        }
        let index = u64::from_str_radix(digits, 16).map_err(|_| GeoError::InvalidCellText)?;
        Self::try_from(index)
    }

    /// The raw H3 index.
    #[must_use]
    pub fn to_u64(self) -> u64 {
        u64::from(self.0)
    }

    /// The index as 8 big-endian bytes: the key form whose byte order equals [`Cell`]'s order.
    #[must_use]
    pub fn to_be_bytes(self) -> [u8; 8] {
        self.to_u64().to_be_bytes()
    }

    /// Read a cell back from [`Cell::to_be_bytes`].
    ///
    /// # Errors
    ///
    /// [`GeoError::InvalidCell`] when the bytes are not a valid H3 cell index.
    pub fn from_be_bytes(bytes: [u8; 8]) -> Result<Self, GeoError> {
        Self::try_from(u64::from_be_bytes(bytes))
    }

    /// The cell's resolution, 0 (coarsest, 122 cells) to 15 (finest, about 1 m²).
    #[must_use]
    pub fn resolution(self) -> u8 {
        u8::from(self.0.resolution())
    }

    /// The ancestor at resolution `res` (the cell itself when `res` is its own resolution), or
    /// `None` when `res` is finer than the cell or not a resolution.
    #[must_use]
    pub fn parent(self, res: u8) -> Option<Self> {
        let res = resolution(res).ok()?;
        self.0.parent(res).map(Self)
    }

    /// Whether this cell is `ancestor` or one of its descendants.
    #[must_use]
    pub fn is_within(self, ancestor: Self) -> bool {
        self.parent(ancestor.resolution()) == Some(ancestor)
    }

    /// The first and last of this cell's descendants at resolution `res` (`res` at least the
    /// cell's own), in [`Cell`] order: every valid cell of resolution `res` inside the range is
    /// a descendant, and every descendant is inside it. See the module documentation for how
    /// to scan a key-value index with it.
    ///
    /// `RangeInclusive::contains` is only meaningful for cells of resolution `res`.
    /// Returns `None` when `res` is coarser than the cell or not a resolution.
    #[must_use]
    pub fn descendant_range(self, res: u8) -> Option<RangeInclusive<Self>> {
        let target = resolution(res).ok()?;
        let first = self.0.center_child(target)?;
        // Descendants at `res` keep this cell's digits, have digits (own res, res] in 0..=6 and
        // 7 after; so the last one has all those digits 6 = 0b110: clear each digit's low bit.
        let own = u32::from(self.resolution());
        let res = u32::from(res);
        let mut bits = u64::from(self.0) & !(0xf << RESOLUTION_OFFSET);
        bits |= u64::from(res) << RESOLUTION_OFFSET;
        for digit in (own + 1)..=res {
            bits &= !(1 << ((u32::from(MAX_RESOLUTION) - digit) * DIGIT_BITS));
        }
        let last = CellIndex::try_from(bits)
            .expect("invariant: the all-6 descendant of a valid cell is a valid cell");
        Some(Self(first)..=Self(last))
    }

    /// The cell's centre point.
    ///
    /// **Edge only**: computed with floating point (see the crate's determinism contract);
    /// never call it in the state machine.
    #[must_use]
    pub fn center(self) -> LatLon {
        LatLon::from_h3(h3o::LatLng::from(self.0))
    }

    /// The h3o index, for the crate's own float helpers.
    pub(crate) fn index(self) -> CellIndex {
        self.0
    }

    /// Wrap an h3o index (always valid by construction).
    pub(crate) fn from_index(index: CellIndex) -> Self {
        Self(index)
    }
}

impl TryFrom<u64> for Cell {
    type Error = GeoError;

    fn try_from(index: u64) -> Result<Self, GeoError> {
        CellIndex::try_from(index)
            .map(Self)
            .map_err(|e| GeoError::InvalidCell {
                index,
                reason: e.reason,
            })
    }
}

impl From<Cell> for u64 {
    fn from(cell: Cell) -> Self {
        cell.to_u64()
    }
}

impl PartialOrd for Cell {
    fn partial_cmp(&self, other: &Self) -> Option<core::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Cell {
    /// Numeric order of the index (h3o's own order ignores the resolution bits; range scans
    /// over `to_be_bytes` keys need the plain numeric one).
    fn cmp(&self, other: &Self) -> core::cmp::Ordering {
        self.to_u64().cmp(&other.to_u64())
    }
}

impl fmt::Display for Cell {
    /// The canonical form: lowercase hex without prefix (15 digits for every cell).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:x}", self.to_u64())
    }
}

impl fmt::Debug for Cell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Cell({self})")
    }
}

impl FromStr for Cell {
    type Err = GeoError;

    fn from_str(text: &str) -> Result<Self, GeoError> {
        Self::parse(text)
    }
}

impl BorshSerialize for Cell {
    fn serialize<W: borsh::io::Write>(&self, writer: &mut W) -> borsh::io::Result<()> {
        BorshSerialize::serialize(&self.to_u64(), writer)
    }
}

impl BorshDeserialize for Cell {
    /// Read a `u64` and refuse it unless it is a valid cell: decoded values are adversarial.
    fn deserialize_reader<R: borsh::io::Read>(reader: &mut R) -> borsh::io::Result<Self> {
        let index = u64::deserialize_reader(reader)?;
        Self::try_from(index)
            .map_err(|e| borsh::io::Error::new(borsh::io::ErrorKind::InvalidData, e.to_string()))
    }
}

impl Serialize for Cell {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Cell {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct CellVisitor;

        impl serde::de::Visitor<'_> for CellVisitor {
            type Value = Cell;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an H3 cell index in hexadecimal, e.g. \"8a1fb46622dffff\"")
            }

            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Cell, E> {
                Cell::parse(text).map_err(E::custom)
            }
        }

        deserializer.deserialize_str(CellVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// h3o's documented example cell (resolution 10) and its neighbour.
    const CELL_HEX: &str = "8a1fb46622dffff";
    const CELL: u64 = 0x08a1_fb46_622d_ffff;

    fn cell() -> Cell {
        Cell::try_from(CELL).expect("fixture cell is valid")
    }

    /// A strategy for valid cells of any resolution: a random point indexed at a random
    /// resolution (every cell, pentagons included, is reachable this way in principle).
    fn any_cell() -> impl Strategy<Value = Cell> {
        (-90.0..=90.0f64, -180.0..=180.0f64, 0..=MAX_RESOLUTION).prop_map(|(lat, lon, res)| {
            LatLon::new(lat, lon)
                .expect("in range")
                .to_cell(res)
                .expect("valid resolution")
        })
    }

    #[test]
    fn parses_and_prints_the_canonical_hex() {
        let cell = Cell::parse(CELL_HEX).unwrap();
        assert_eq!(cell.to_u64(), CELL);
        assert_eq!(cell.to_string(), CELL_HEX);
        assert_eq!(format!("{cell:?}"), "Cell(8a1fb46622dffff)");
        assert_eq!(cell.resolution(), 10);
        assert_eq!(Cell::parse("0x8A1FB46622DFFFF").unwrap(), cell);
        assert_eq!(Cell::parse("0X8a1fb46622dffff").unwrap(), cell);
        assert_eq!(Cell::parse("08a1fb46622dffff").unwrap(), cell);
        assert_eq!(CELL_HEX.parse::<Cell>().unwrap(), cell);
    }

    #[test]
    fn rejects_text_that_is_not_hex() {
        for text in [
            "",
            "0x",
            "+8a1fb46622dffff",
            "8a1fb46622dfffg",
            " 8a1fb46622dffff",
            "8a1fb46622dffff ",
            "-1",
            "08a1fb46622dffff0",
            "0x0x8a1fb46622dffff",
            "8a1fb46622dffff\n",
            "48.85,2.35",
        ] {
            assert_eq!(
                Cell::parse(text),
                Err(GeoError::InvalidCellText),
                "{text:?}"
            );
        }
    }

    #[test]
    fn rejects_numbers_that_are_not_cells() {
        // Zero, an edge (mode 2) of the fixture cell, a bad base cell, a tainted unused digit,
        // a reserved high bit.
        for index in [
            0,
            0x11a1_fb46_622d_ffff,
            0x08ff_fb46_622d_ffff,
            0x08a1_fb46_622d_fffe,
            0x18a1_fb46_622d_ffff,
        ] {
            let err = Cell::try_from(index).unwrap_err();
            assert!(matches!(err, GeoError::InvalidCell { index: i, .. } if i == index));
        }
        let err = Cell::parse("8a1fb46622dfffe").unwrap_err();
        assert_eq!(
            err.to_string(),
            "0x8a1fb46622dfffe is not a valid H3 cell index: invalid unused direction pattern"
        );
    }

    #[test]
    fn parent_and_within_follow_the_hierarchy() {
        let cell = cell();
        let parent5 = Cell::parse("851fb467fffffff").unwrap(); // h3o's documented parent
        assert_eq!(cell.parent(5), Some(parent5));
        assert_eq!(cell.parent(10), Some(cell));
        assert_eq!(cell.parent(11), None);
        assert_eq!(cell.parent(16), None);
        assert!(cell.is_within(parent5));
        assert!(cell.is_within(cell));
        assert!(!parent5.is_within(cell));
        let neighbour = Cell::parse("8a1fb46622d7fff").unwrap();
        assert!(!cell.is_within(neighbour));
        assert_eq!(neighbour.parent(5), Some(parent5));
    }

    #[test]
    fn descendant_range_of_a_cell_at_its_own_resolution_is_itself() {
        let cell = cell();
        assert_eq!(cell.descendant_range(10), Some(cell..=cell));
        assert_eq!(cell.descendant_range(9), None);
        assert_eq!(cell.descendant_range(16), None);
    }

    #[test]
    fn descendant_range_fixture() {
        // Children of the fixture cell at resolution 11: digits ...0 to ...6, then 7s.
        let range = cell().descendant_range(11).unwrap();
        assert_eq!(range.start().to_string(), "8b1fb46622d8fff");
        assert_eq!(range.end().to_string(), "8b1fb46622defff");
    }

    #[test]
    fn descendant_range_of_a_pentagon_holds_its_children() {
        // Base cell 4 is a pentagon: its children skip the K digit (1).
        let pentagon = Cell::parse("8009fffffffffff").unwrap();
        assert!(pentagon.index().is_pentagon());
        let range = pentagon.descendant_range(2).unwrap();
        let children: Vec<Cell> = pentagon
            .index()
            .children(Resolution::Two)
            .map(Cell)
            .collect();
        assert_eq!(children.len(), 41); // 1 + 5 × (7² − 1) / 6
        assert_eq!(children.first(), Some(range.start()));
        assert_eq!(children.last(), Some(range.end()));
        assert!(children.iter().all(|c| range.contains(c)));
    }

    #[test]
    fn borsh_writes_the_plain_little_endian_u64() {
        // Fixture: a persisted format; changing it is deliberate (STYLE.md, convention 10).
        let bytes = borsh::to_vec(&cell()).unwrap();
        assert_eq!(bytes, [0xff, 0xff, 0x2d, 0x62, 0x46, 0xfb, 0xa1, 0x08]);
        assert_eq!(bytes, borsh::to_vec(&CELL).unwrap());
        assert_eq!(borsh::from_slice::<Cell>(&bytes).unwrap(), cell());
    }

    #[test]
    fn borsh_refuses_a_u64_that_is_not_a_cell() {
        for index in [0u64, u64::MAX, 0x08a1_fb46_622d_fffe] {
            let bytes = borsh::to_vec(&index).unwrap();
            let err = borsh::from_slice::<Cell>(&bytes).unwrap_err();
            assert_eq!(err.kind(), borsh::io::ErrorKind::InvalidData);
        }
        assert!(borsh::from_slice::<Cell>(&[0xff; 7]).is_err());
    }

    #[test]
    fn json_is_the_hex_string() {
        let json = serde_json::to_string(&cell()).unwrap();
        assert_eq!(json, "\"8a1fb46622dffff\"");
        assert_eq!(serde_json::from_str::<Cell>(&json).unwrap(), cell());
        assert_eq!(
            serde_json::from_str::<Cell>("\"0x8A1FB46622DFFFF\"").unwrap(),
            cell()
        );
        assert!(serde_json::from_str::<Cell>("\"8a1fb46622dfffe\"").is_err());
        assert!(serde_json::from_str::<Cell>("622236750694711295").is_err());
    }

    #[test]
    fn order_is_numeric_and_matches_key_bytes() {
        let coarse = cell().parent(5).unwrap();
        // h3o's own order ignores the resolution bits; ours does not.
        assert!(coarse.to_u64() < cell().to_u64());
        assert!(coarse < cell());
        assert!(coarse.to_be_bytes() < cell().to_be_bytes());
        assert_eq!(Cell::from_be_bytes(cell().to_be_bytes()).unwrap(), cell());
        assert!(Cell::from_be_bytes([0; 8]).is_err());
    }

    proptest! {
        #[test]
        fn text_json_borsh_and_key_round_trip(cell in any_cell()) {
            prop_assert_eq!(Cell::parse(&cell.to_string()).unwrap(), cell);
            prop_assert_eq!(cell.to_string().len(), 15);
            prop_assert_eq!(Cell::parse(&cell.to_string().to_uppercase()).unwrap(), cell);
            let json = serde_json::to_string(&cell).unwrap();
            prop_assert_eq!(serde_json::from_str::<Cell>(&json).unwrap(), cell);
            let bytes = borsh::to_vec(&cell).unwrap();
            prop_assert_eq!(borsh::from_slice::<Cell>(&bytes).unwrap(), cell);
            prop_assert_eq!(Cell::from_be_bytes(cell.to_be_bytes()).unwrap(), cell);
        }

        #[test]
        fn borsh_decodes_exactly_the_valid_cells(index in any::<u64>()) {
            let bytes = borsh::to_vec(&index).unwrap();
            let valid = CellIndex::try_from(index).is_ok();
            prop_assert_eq!(borsh::from_slice::<Cell>(&bytes).is_ok(), valid);
        }

        #[test]
        fn parents_contain_their_descendants(cell in any_cell(), up in 0..=MAX_RESOLUTION) {
            let res = cell.resolution().saturating_sub(up);
            let parent = cell.parent(res).unwrap();
            prop_assert_eq!(parent.resolution(), res);
            prop_assert!(cell.is_within(parent));
            let range = parent.descendant_range(cell.resolution()).unwrap();
            prop_assert!(range.contains(&cell));
        }

        #[test]
        fn descendant_range_holds_exactly_the_descendants(
            cell in any_cell(),
            down in 0..=2u8,
            other in any_cell(),
        ) {
            let res = (cell.resolution() + down).min(MAX_RESOLUTION);
            let range = cell.descendant_range(res).unwrap();
            prop_assert_eq!(range.start().resolution(), res);
            prop_assert_eq!(range.end().resolution(), res);
            prop_assert_eq!(range.start().parent(cell.resolution()), Some(cell));
            prop_assert_eq!(range.end().parent(cell.resolution()), Some(cell));
            for child in cell.index().children(resolution(res).unwrap()) {
                prop_assert!(range.contains(&Cell(child)));
            }
            // Any other cell at `res` is in the range exactly when it is a descendant.
            if let Some(other) = other.parent(res).or_else(|| {
                other.index().center_child(resolution(res).unwrap()).map(Cell)
            }) {
                prop_assert_eq!(range.contains(&other), other.is_within(cell));
            }
        }
    }
}
