//! Name the state keys of the asset registry (spec rule S-3, namespace `r/`).
//!
//! Records: `r/a/<asset id>` asset, `r/b/<asset id>` bond, `r/l/<asset id>/<n>` location
//! history, `r/v/<vendor address>` vendor, `r/d/<device address>` revoked device key,
//! `r/q/<height>` assets whose bond returns at that height. Indexes (value `[1]`, the asset id
//! last so a prefix scan lists ids): `r/io/<owner>`, `r/im/<manager>`, `r/iv/<vendor>`,
//! `r/ic/<class>`, `r/is/<status>`, `r/ih/<cell>` (big-endian cell: the assets in a cell and all
//! its descendants are one key range). Counters (u64): `r/nc/<class>`, `r/ns/<status>`.

use depin_crypto::Address;
use depin_geo::Cell;

use crate::asset::{AssetClass, AssetId, AssetStatus};

fn k(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

/// The asset record.
pub fn asset(id: &AssetId) -> Vec<u8> {
    k(&[b"r/a/", id.0.as_bytes()])
}

/// The asset's bond.
pub fn bond(id: &AssetId) -> Vec<u8> {
    k(&[b"r/b/", id.0.as_bytes()])
}

/// The `n`-th asserted location of an asset (0 = at registration).
pub fn location(id: &AssetId, n: u32) -> Vec<u8> {
    k(&[b"r/l/", id.0.as_bytes(), &n.to_be_bytes()])
}

/// Prefix of an asset's location history.
pub fn locations(id: &AssetId) -> Vec<u8> {
    k(&[b"r/l/", id.0.as_bytes()])
}

/// A vendor record.
pub fn vendor(address: &Address) -> Vec<u8> {
    k(&[b"r/v/", &address.to_bytes()])
}

/// Prefix of every vendor.
pub const VENDORS: &[u8] = b"r/v/";

/// The revocation of a device key.
pub fn revoked_device(address: &Address) -> Vec<u8> {
    k(&[b"r/d/", &address.to_bytes()])
}

/// Assets whose bond returns at `height`.
pub fn unbond_queue(height: u64) -> Vec<u8> {
    k(&[b"r/q/", &height.to_be_bytes()])
}

/// Prefix of the owner index for `owner`.
pub fn owner_prefix(owner: &Address) -> Vec<u8> {
    k(&[b"r/io/", &owner.to_bytes()])
}

/// Owner index entry.
pub fn by_owner(owner: &Address, id: &AssetId) -> Vec<u8> {
    k(&[&owner_prefix(owner), id.0.as_bytes()])
}

/// Prefix of the manager index for `manager`.
pub fn manager_prefix(manager: &Address) -> Vec<u8> {
    k(&[b"r/im/", &manager.to_bytes()])
}

/// Manager index entry.
pub fn by_manager(manager: &Address, id: &AssetId) -> Vec<u8> {
    k(&[&manager_prefix(manager), id.0.as_bytes()])
}

/// Prefix of the vendor index for `vendor`.
pub fn vendor_prefix(vendor: &Address) -> Vec<u8> {
    k(&[b"r/iv/", &vendor.to_bytes()])
}

/// Vendor index entry.
pub fn by_vendor(vendor: &Address, id: &AssetId) -> Vec<u8> {
    k(&[&vendor_prefix(vendor), id.0.as_bytes()])
}

/// Prefix of the class index for `class`.
pub fn class_prefix(class: AssetClass) -> Vec<u8> {
    k(&[b"r/ic/", &[class as u8]])
}

/// Class index entry.
pub fn by_class(class: AssetClass, id: &AssetId) -> Vec<u8> {
    k(&[&class_prefix(class), id.0.as_bytes()])
}

/// Prefix of the status index for `status`.
pub fn status_prefix(status: AssetStatus) -> Vec<u8> {
    k(&[b"r/is/", &[status as u8]])
}

/// Status index entry.
pub fn by_status(status: AssetStatus, id: &AssetId) -> Vec<u8> {
    k(&[&status_prefix(status), id.0.as_bytes()])
}

/// Prefix of the cell index.
pub const CELLS: &[u8] = b"r/ih/";

/// Cell index entry.
pub fn by_cell(cell: Cell, id: &AssetId) -> Vec<u8> {
    k(&[CELLS, &cell.to_be_bytes(), id.0.as_bytes()])
}

/// Prefix of the entries of exactly `cell`.
pub fn cell_prefix(cell: Cell) -> Vec<u8> {
    k(&[CELLS, &cell.to_be_bytes()])
}

/// Count of assets of a class.
pub fn class_count(class: AssetClass) -> Vec<u8> {
    k(&[b"r/nc/", &[class as u8]])
}

/// Count of assets in a status.
pub fn status_count(status: AssetStatus) -> Vec<u8> {
    k(&[b"r/ns/", &[status as u8]])
}

/// The asset id at the end of an index key (every index key ends with the 32-byte id).
pub fn id_of_index_key(key: &[u8]) -> Option<AssetId> {
    let tail: [u8; 32] = key.get(key.len().checked_sub(32)?..)?.try_into().ok()?;
    Some(AssetId(depin_crypto::Hash32(tail)))
}
