//! Answer asset registry queries: one asset (with a proof), its location history, filtered
//! pages, assets near a point, counts per class, status and region, vendors and parameters.
//!
//! Every query reads **one** state snapshot, so the values, the `height` and `state_root` it
//! reports and any proof always agree. The registry's indexes and counters are state entries
//! (`depin_types::registry_key`), written by the state machine, so these queries only scan key
//! ranges; nothing here is derived off the ledger.
//!
//! # Effective status
//!
//! Revoking a vendor does not rewrite the assets it attested (a vendor may have attested more
//! assets than one block can rewrite; `depin_state::registry::revoke_vendor`). An asset whose
//! attesting vendor is revoked, or whose vendor record is missing, therefore *counts as*
//! `suspended` with reason `vendor_revoked` unless it is decommissioned; [`AssetView`] shows both
//! the stored `status` and this `effective_status`. The `status` filter and the per-status
//! counts use the effective status.
//!
//! # Bounds
//!
//! Every query has a limit on the entries it examines (constants below). A page examines at
//! most [`PAGE_SCAN_FACTOR`] × `limit` index entries and then returns what it found with a
//! cursor, so a selective in-memory filter never makes one request scan the whole registry; a
//! page may then hold fewer than `limit` assets (even none) and still have a `next_cursor`.
//! "Near" queries and statistics must see every candidate to be right, so beyond their limit
//! ([`MAX_NEAR_SCAN`], [`MAX_STATS_SCAN`], [`MAX_STATS_REGIONS`]) they are refused with
//! [`QueryError::TooBroad`] instead of answering with a partial result.
//!
//! # Cells
//!
//! Every asset asserts its location at the registry's resolution (rule R-5), so the assets in
//! a cell `C` and all its descendants are one range of the cell index
//! (`C.descendant_range(resolution)`, see `depin_geo::Cell`). A query cell finer than the
//! registry's resolution contains no asserted cell and is refused ([`QueryError::CellTooFine`]).
//! Should the resolution parameter ever change, assets asserted at the old resolution are not
//! found by cell and near queries until they re-assert their location.
//!
//! Near queries measure distances in floating point: this is the edge (ARCHITECTURE.md), never
//! the state machine.

use std::cell::RefCell;
use std::collections::BTreeMap;

use depin_crypto::did;
use depin_ledger::authstate::StateProof;
use depin_ledger::StateSnapshot;
use depin_types::asset::{
    Asset, AssetClass, AssetId, AssetStatus, AttestationTier, Bond, LocationRecord, RegistryParams, StatusReason, Vendor,
};
use depin_types::geo::{self, Cell, GeoError, LatLon};
use depin_types::registry_key as key;
use depin_types::state_key::REGISTRY_PARAMS_KEY;
use depin_types::{Address, Hash32};
use serde::Serialize;

use crate::node::{Node, NodeError};

/// Largest page of assets, locations or vendors (and the most results of a near query).
pub const MAX_PAGE: usize = 1_000;
/// A page examines at most this many index entries per asset asked for (`limit`).
pub const PAGE_SCAN_FACTOR: usize = 10;
/// Most index entries a near query examines before it is refused as too broad.
pub const MAX_NEAR_SCAN: usize = 100_000;
/// Largest radius of a near query, in kilometres.
pub const MAX_NEAR_RADIUS_KM: f64 = 500.0;
/// Most index entries (and asset records) one statistics query examines before it is refused.
pub const MAX_STATS_SCAN: usize = 1_000_000;
/// Most regions one statistics answer lists.
pub const MAX_STATS_REGIONS: usize = 10_000;
/// Region resolution of statistics when none is given (about 1,770 km² per cell).
pub const DEFAULT_REGION_RESOLUTION: u8 = 4;
/// Longest cursor, in bytes: the longest index key (`r/io/` + 33-byte address + 32-byte id).
pub const MAX_CURSOR_BYTES: usize = 5 + 33 + 32;
/// Most vendor records examined to learn whether any vendor is revoked.
const MAX_VENDOR_SCAN: usize = 10_000;
/// Entries read from the store per scan call.
const SCAN_BATCH: usize = 1_024;
/// Length of the cell index prefix `r/ih/`.
const CELLS_PREFIX_LEN: usize = key::CELLS.len();

/// Why an asset query cannot be answered.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    /// Storage failed (details for logs only).
    #[error(transparent)]
    Node(#[from] NodeError),
    /// A cell finer than the registry's resolution, which no asserted cell lies inside.
    #[error("cell {cell} has resolution {resolution}, finer than the registry's resolution {registry_resolution}; no asset location lies inside it")]
    CellTooFine {
        /// The cell.
        cell: Cell,
        /// Its resolution.
        resolution: u8,
        /// The registry's location resolution.
        registry_resolution: u8,
    },
    /// A region resolution finer than the registry's resolution.
    #[error("region resolution {resolution} is finer than the registry's resolution {registry_resolution}")]
    RegionResolution {
        /// Asked for.
        resolution: u8,
        /// The registry's location resolution.
        registry_resolution: u8,
    },
    /// A radius that is not a number above 0 and at most [`MAX_NEAR_RADIUS_KM`].
    #[error("radius {radius_km} km is not above 0 and at most {max_km} km")]
    Radius {
        /// Asked for.
        radius_km: f64,
        /// [`MAX_NEAR_RADIUS_KM`].
        max_km: f64,
    },
    /// A page size outside 1..=[`MAX_PAGE`].
    #[error("limit {limit} is not between 1 and {max}")]
    Limit {
        /// Asked for.
        limit: usize,
        /// [`MAX_PAGE`].
        max: usize,
    },
    /// A cursor that is not one this query returned.
    #[error("the cursor is not one this query returned (a cursor belongs to one filter; start again without it)")]
    Cursor,
    /// More entries to examine than the query's bound.
    #[error("the query would examine more than {max_entries} {what}; narrow it ({hint})")]
    TooBroad {
        /// The bound.
        max_entries: usize,
        /// What is counted.
        what: &'static str,
        /// How to narrow it.
        hint: &'static str,
    },
}

impl From<depin_ledger::LedgerError> for QueryError {
    fn from(e: depin_ledger::LedgerError) -> Self {
        QueryError::Node(e.into())
    }
}

/// An asset as of one snapshot: the stored record, its `did:key`, its effective status, its
/// bond, and the height and root the snapshot is at.
#[derive(Clone, Debug, Serialize)]
pub struct AssetView {
    /// The stored record (its members are inlined in JSON).
    #[serde(flatten)]
    pub asset: Asset,
    /// The device key as a `did:key` (ADR 0014).
    pub did: String,
    /// The class (of its capacity).
    pub class: AssetClass,
    /// The status it counts as: `suspended` when its attesting vendor is revoked or missing.
    pub effective_status: AssetStatus,
    /// Why it has that status (`vendor_revoked` in that case).
    pub effective_reason: StatusReason,
    /// Its bond, if not yet returned.
    pub bond: Option<Bond>,
    /// Height of the snapshot read.
    pub height: u64,
    /// State root at that height (what a proof verifies against).
    pub state_root: Hash32,
}

/// An asset found near a point, with the distance of its cell's centre.
#[derive(Clone, Debug, Serialize)]
pub struct NearAsset {
    /// The asset (its members are inlined in JSON).
    #[serde(flatten)]
    pub asset: AssetView,
    /// Distance from the point to the centre of the asset's cell, rounded to metres.
    pub distance_m: u64,
}

/// Which assets to list. Every given field must match; the `status` filter matches the
/// effective status.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AssetFilter {
    /// Owned by this account.
    pub owner: Option<Address>,
    /// Managed by this account.
    pub manager: Option<Address>,
    /// Attested by the vendor with this (key's) address.
    pub vendor: Option<Address>,
    /// Of this class.
    pub class: Option<AssetClass>,
    /// With this effective status.
    pub status: Option<AssetStatus>,
    /// Located in this cell or one of its descendants.
    pub cell: Option<Cell>,
}

impl AssetFilter {
    fn matches(&self, a: &Asset, effective: AssetStatus) -> bool {
        self.owner.is_none_or(|o| a.owner == o)
            && self.manager.is_none_or(|m| a.manager == Some(m))
            && self.vendor.is_none_or(|v| matches!(&a.tier, AttestationTier::VendorAttested { vendor } if vendor.address() == v))
            && self.class.is_none_or(|c| a.capacity.class() == c)
            && self.status.is_none_or(|s| effective == s)
            && self.cell.is_none_or(|c| a.location.is_within(c))
    }
}

/// A page of assets.
#[derive(Clone, Debug, Serialize)]
pub struct AssetPage {
    /// The assets, in the order of the index scanned.
    pub assets: Vec<AssetView>,
    /// Pass as the cursor of the next page (hex); absent when nothing follows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// A page of an asset's location history, oldest first.
#[derive(Clone, Debug, Serialize)]
pub struct LocationPage {
    /// The asserted locations.
    pub locations: Vec<LocationRecord>,
    /// Pass as the cursor of the next page (hex); absent when nothing follows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// A page of vendors, in order of their key's address.
#[derive(Clone, Debug, Serialize)]
pub struct VendorPage {
    /// The vendors, revoked ones included.
    pub vendors: Vec<Vendor>,
    /// Pass as the cursor of the next page (hex); absent when nothing follows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// The number of assets in one region.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RegionCount {
    /// The region: a cell at the region resolution.
    pub cell: Cell,
    /// Assets located in it (decommissioned ones included).
    pub n_assets: u64,
}

/// Asset counts, for the whole network or one cell.
#[derive(Clone, Debug, Serialize)]
pub struct AssetStats {
    /// The cell counted (with its descendants); absent for the whole network.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cell: Option<Cell>,
    /// Every asset ever registered there, decommissioned ones included.
    pub n_assets: u64,
    /// Assets per class (every class listed, zeros included).
    pub by_class: BTreeMap<&'static str, u64>,
    /// Assets per effective status (every status listed, zeros included).
    pub by_status: BTreeMap<&'static str, u64>,
    /// The resolution of `by_region`.
    pub region_resolution: u8,
    /// Assets per region (cells at `region_resolution` holding at least one), in cell order.
    pub by_region: Vec<RegionCount>,
    /// Height of the snapshot read.
    pub height: u64,
    /// State root at that height.
    pub state_root: Hash32,
}

/// Which keys a page scans: `prefix`, after `start` (exclusive), and for the cell index up to
/// and including the cell `last_cell`.
struct Plan {
    prefix: Vec<u8>,
    start: Vec<u8>,
    last_cell: Option<[u8; 8]>,
    /// Values are the asset records themselves (`r/a/`), not index markers.
    records: bool,
}

impl Plan {
    fn prefix(prefix: Vec<u8>) -> Plan {
        Plan { start: prefix.clone(), prefix, last_cell: None, records: false }
    }

    /// The cell index range of `cell` and its descendants at resolution `res`.
    fn cells(cell: Cell, res: u8) -> Plan {
        let range = cell.descendant_range(res).expect("invariant: the caller checked cell resolution <= res");
        let (first, last) = (range.start().to_be_bytes(), range.end().to_be_bytes());
        let common = first.iter().zip(&last).take_while(|(a, b)| a == b).count();
        Plan {
            prefix: [key::CELLS, &first[..common]].concat(),
            start: [key::CELLS, &first[..]].concat(),
            last_cell: Some(last),
            records: false,
        }
    }

    /// Whether a key returned by the prefix scan is inside the plan's range.
    fn contains(&self, k: &[u8]) -> bool {
        match &self.last_cell {
            None => true,
            Some(last) => k.get(CELLS_PREFIX_LEN..CELLS_PREFIX_LEN + 8).is_some_and(|c| c <= &last[..]),
        }
    }

    /// Whether `cursor` could have been returned by this plan.
    fn accepts(&self, cursor: &[u8]) -> bool {
        cursor.len() <= MAX_CURSOR_BYTES && cursor.starts_with(&self.prefix) && cursor >= &self.start[..] && self.contains(cursor)
    }
}

/// The cell of a cell index key.
fn cell_of_index_key(k: &[u8]) -> Result<Cell, NodeError> {
    k.get(CELLS_PREFIX_LEN..CELLS_PREFIX_LEN + 8)
        .and_then(|b| <[u8; 8]>::try_from(b).ok())
        .and_then(|b| Cell::from_be_bytes(b).ok())
        .ok_or_else(|| NodeError::Storage(format!("cell index key {} is malformed", hex_of(k))))
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn check_limit(limit: usize) -> Result<(), QueryError> {
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(QueryError::Limit { limit, max: MAX_PAGE });
    }
    Ok(())
}

/// One snapshot with the lookups every asset query shares.
struct Reader {
    snap: StateSnapshot,
    height: u64,
    state_root: Hash32,
    params: RegistryParams,
    /// Vendor records already read, by vendor address.
    vendors: RefCell<BTreeMap<Address, Option<Vendor>>>,
}

impl Reader {
    fn open(node: &Node) -> Result<Reader, NodeError> {
        let snap = node.inner.chain.ledger().snapshot()?;
        let at = snap.at()?;
        let params = snap.typed(REGISTRY_PARAMS_KEY)?.unwrap_or_default();
        Ok(Reader { snap, height: at.height, state_root: at.state_root, params, vendors: RefCell::default() })
    }

    fn check_cell(&self, cell: Cell) -> Result<(), QueryError> {
        let registry_resolution = self.params.location_resolution;
        if cell.resolution() > registry_resolution {
            return Err(QueryError::CellTooFine { cell, resolution: cell.resolution(), registry_resolution });
        }
        Ok(())
    }

    fn asset(&self, id: &AssetId) -> Result<Option<Asset>, NodeError> {
        Ok(self.snap.typed(&key::asset(id))?)
    }

    /// The asset an index entry names; the index and the records are written together, so a
    /// missing record is corrupt state.
    fn indexed_asset(&self, k: &[u8]) -> Result<Asset, NodeError> {
        let id = key::id_of_index_key(k)
            .ok_or_else(|| NodeError::Storage(format!("index key {} is malformed", hex_of(k))))?;
        self.asset(&id)?.ok_or_else(|| NodeError::Storage(format!("index entry {} names a missing asset", hex_of(k))))
    }

    /// The status `a` counts as, and why (see the module documentation).
    fn effective(&self, a: &Asset) -> Result<(AssetStatus, StatusReason), NodeError> {
        if let AttestationTier::VendorAttested { vendor } = &a.tier
            && a.status != AssetStatus::Decommissioned
        {
            let address = vendor.address();
            let cached = self.vendors.borrow().get(&address).map(|v| v.as_ref().is_none_or(|v| v.revoked));
            let revoked = match cached {
                Some(revoked) => revoked,
                None => {
                    let v: Option<Vendor> = self.snap.typed(&key::vendor(&address))?;
                    let revoked = v.as_ref().is_none_or(|v| v.revoked);
                    self.vendors.borrow_mut().insert(address, v);
                    revoked
                }
            };
            if revoked {
                return Ok((AssetStatus::Suspended, StatusReason::VendorRevoked));
            }
        }
        Ok((a.status, a.reason))
    }

    fn view(&self, asset: Asset) -> Result<AssetView, NodeError> {
        let (effective_status, effective_reason) = self.effective(&asset)?;
        let bond = self.snap.typed(&key::bond(&asset.id))?;
        Ok(AssetView {
            did: did::did_key(&asset.device_key),
            class: asset.capacity.class(),
            effective_status,
            effective_reason,
            bond,
            height: self.height,
            state_root: self.state_root,
            asset,
        })
    }

    /// Whether any vendor is revoked (conservatively yes if there are too many to look at).
    fn any_vendor_revoked(&self) -> Result<bool, NodeError> {
        let mut after: Option<Vec<u8>> = None;
        let mut seen = 0;
        loop {
            let batch = self.snap.scan(key::VENDORS, after.as_deref(), SCAN_BATCH)?;
            let n = batch.len();
            for (k, v) in batch {
                let vendor: Vendor = depin_types::codec::decode_bounded(&v, v.len())
                    .map_err(|e| NodeError::Storage(format!("vendor record: {e}")))?;
                if vendor.revoked {
                    return Ok(true);
                }
                after = Some(k);
            }
            seen += n;
            if n < SCAN_BATCH {
                return Ok(false);
            }
            if seen >= MAX_VENDOR_SCAN {
                return Ok(true);
            }
        }
    }

    /// The most selective scan for `filter` (cell > owner > manager > vendor > class > status >
    /// every record).
    fn plan(&self, filter: &AssetFilter) -> Result<Plan, QueryError> {
        if let Some(cell) = filter.cell {
            self.check_cell(cell)?;
            return Ok(Plan::cells(cell, self.params.location_resolution));
        }
        if let Some(o) = &filter.owner {
            return Ok(Plan::prefix(key::owner_prefix(o)));
        }
        if let Some(m) = &filter.manager {
            return Ok(Plan::prefix(key::manager_prefix(m)));
        }
        if let Some(v) = &filter.vendor {
            return Ok(Plan::prefix(key::vendor_prefix(v)));
        }
        if let Some(c) = filter.class {
            return Ok(Plan::prefix(key::class_prefix(c)));
        }
        // The status index holds the stored status; an asset of a revoked vendor counts as
        // suspended without being in `r/is/<suspended>`, so then only a scan of every record
        // finds them all.
        if let Some(s) = filter.status
            && (s != AssetStatus::Suspended || !self.any_vendor_revoked()?)
        {
            return Ok(Plan::prefix(key::status_prefix(s)));
        }
        let mut all = Plan::prefix(b"r/a/".to_vec());
        all.records = true;
        Ok(all)
    }

    /// One page of `plan`, examining at most `budget` entries after `cursor`.
    fn page(
        &self,
        plan: &Plan,
        filter: &AssetFilter,
        cursor: Option<Vec<u8>>,
        limit: usize,
        budget: usize,
    ) -> Result<AssetPage, QueryError> {
        let mut after = match cursor {
            Some(c) if plan.accepts(&c) => c,
            Some(_) => return Err(QueryError::Cursor),
            None => plan.start.clone(),
        };
        let mut assets = Vec::new();
        let mut examined = 0;
        let mut at_end = false;
        'scan: while assets.len() < limit && examined < budget {
            let want = (budget - examined).min(SCAN_BATCH);
            let batch = self.snap.scan(&plan.prefix, Some(&after), want)?;
            let n = batch.len();
            for (i, (k, v)) in batch.into_iter().enumerate() {
                if !plan.contains(&k) {
                    at_end = true;
                    break 'scan;
                }
                let asset = if plan.records {
                    depin_types::codec::decode_bounded(&v, v.len())
                        .map_err(|e| NodeError::Storage(format!("asset record: {e}")))?
                } else {
                    self.indexed_asset(&k)?
                };
                examined += 1;
                after = k;
                let (status, _) = self.effective(&asset)?;
                if filter.matches(&asset, status) {
                    assets.push(self.view(asset)?);
                    if assets.len() == limit {
                        // Entries left in this batch: there is more.
                        if i + 1 < n {
                            break 'scan;
                        }
                        break;
                    }
                }
            }
            if n < want {
                at_end = true;
                break;
            }
        }
        // Say "more" only if an entry follows, so the last page has no cursor.
        let more = !at_end
            && self.snap.scan(&plan.prefix, Some(&after), 1)?.first().is_some_and(|(k, _)| plan.contains(k));
        Ok(AssetPage { assets, next_cursor: more.then(|| hex_of(&after)) })
    }

    /// Scan every key of `plan`, calling `each` per key and counting it in `examined`; refuse
    /// once `examined` passes `max_entries`.
    fn each_entry(
        &self,
        plan: &Plan,
        examined: &mut usize,
        max_entries: usize,
        hint: &'static str,
        mut each: impl FnMut(&[u8]) -> Result<(), QueryError>,
    ) -> Result<(), QueryError> {
        let mut after = plan.start.clone();
        loop {
            let batch = self.snap.scan(&plan.prefix, Some(&after), SCAN_BATCH)?;
            let n = batch.len();
            for (k, _) in batch {
                if !plan.contains(&k) {
                    return Ok(());
                }
                *examined += 1;
                if *examined > max_entries {
                    return Err(QueryError::TooBroad { max_entries, what: "index entries", hint });
                }
                each(&k)?;
                after = k;
            }
            if n < SCAN_BATCH {
                return Ok(());
            }
        }
    }
}

/// The resolution at which a near query covers its circle: the finest one, no finer than the
/// registry's, whose cells' average edge is at least a third of the radius, so the cover is a
/// few dozen cells (for example resolution 7, 1.4 km edges, for radii up to 4.2 km).
fn near_resolution(radius_km: f64, registry_resolution: u8) -> u8 {
    let radius_mm = radius_km * 1e6;
    (0..=registry_resolution.min(geo::MAX_RESOLUTION))
        .rev()
        .find(|&r| {
            #[allow(clippy::cast_precision_loss, reason = "edge lengths are far below 2^52 mm")]
            let edge_mm = geo::AVG_EDGE_LENGTH_MM[usize::from(r)] as f64;
            edge_mm * 3.0 >= radius_mm
        })
        .unwrap_or(0)
}

impl Node {
    /// An asset, as of the committed head; `None` if no such asset was ever registered.
    pub fn asset(&self, id: &AssetId) -> Result<Option<AssetView>, NodeError> {
        let r = Reader::open(self)?;
        let Some(asset) = r.asset(id)? else { return Ok(None) };
        Ok(Some(r.view(asset)?))
    }

    /// An asset with a proof of its record (state key `r/a/<id>`) against the view's
    /// `state_root`.
    pub fn asset_with_proof(&self, id: &AssetId) -> Result<Option<(AssetView, StateProof)>, NodeError> {
        let r = Reader::open(self)?;
        let Some(asset) = r.asset(id)? else { return Ok(None) };
        let proof = r.snap.prove(&key::asset(id))?;
        Ok(Some((r.view(asset)?, proof)))
    }

    /// An asset's asserted locations, oldest first, up to `limit` (1 to [`MAX_PAGE`]) after the
    /// cursor of the previous page; `None` if no such asset.
    pub fn asset_locations(
        &self,
        id: &AssetId,
        after: Option<Vec<u8>>,
        limit: usize,
    ) -> Result<Option<LocationPage>, QueryError> {
        check_limit(limit)?;
        let r = Reader::open(self)?;
        if r.asset(id)?.is_none() {
            return Ok(None);
        }
        let prefix = key::locations(id);
        let after = match after {
            Some(c) if c.starts_with(&prefix) && c.len() == prefix.len() + 4 => c,
            Some(_) => return Err(QueryError::Cursor),
            None => prefix.clone(),
        };
        let mut entries = r.snap.scan(&prefix, Some(&after), limit + 1)?;
        let more = entries.len() > limit;
        entries.truncate(limit);
        let next_cursor = if more { entries.last().map(|(k, _)| hex_of(k)) } else { None };
        let locations = entries
            .into_iter()
            .map(|(_, v)| {
                depin_types::codec::decode_bounded(&v, v.len())
                    .map_err(|e| QueryError::Node(NodeError::Storage(format!("location record: {e}"))))
            })
            .collect::<Result<_, _>>()?;
        Ok(Some(LocationPage { locations, next_cursor }))
    }

    /// A page of assets matching `filter`, up to `limit` (1 to [`MAX_PAGE`]), after the cursor
    /// of the previous page. Scans the most selective index the filter allows (cell > owner >
    /// manager > vendor > class > status > every record) and applies the rest of the filter to
    /// each record; examines at most [`PAGE_SCAN_FACTOR`] × `limit` entries, so a page may be
    /// short (even empty) and still have a `next_cursor`.
    pub fn assets(&self, filter: &AssetFilter, cursor: Option<Vec<u8>>, limit: usize) -> Result<AssetPage, QueryError> {
        check_limit(limit)?;
        let r = Reader::open(self)?;
        let plan = r.plan(filter)?;
        r.page(&plan, filter, cursor, limit, limit * PAGE_SCAN_FACTOR)
    }

    /// Up to `limit` (1 to [`MAX_PAGE`]) assets matching `filter` whose cell centre is within
    /// `radius_km` (above 0, at most [`MAX_NEAR_RADIUS_KM`]) of `center`, nearest first (ties by
    /// id). Refused as too broad past [`MAX_NEAR_SCAN`] candidates in the covering cells.
    pub fn assets_near(
        &self,
        center: LatLon,
        radius_km: f64,
        filter: &AssetFilter,
        limit: usize,
    ) -> Result<Vec<NearAsset>, QueryError> {
        check_limit(limit)?;
        if !(radius_km > 0.0 && radius_km <= MAX_NEAR_RADIUS_KM) {
            return Err(QueryError::Radius { radius_km, max_km: MAX_NEAR_RADIUS_KM });
        }
        let r = Reader::open(self)?;
        if let Some(c) = filter.cell {
            r.check_cell(c)?;
        }
        let registry_resolution = r.params.location_resolution;
        let mut res = near_resolution(radius_km, registry_resolution);
        let cover = loop {
            match geo::cells_within(center, radius_km, res) {
                Ok(cover) => break cover,
                Err(GeoError::CoverTooLarge { .. }) if res > 0 => res -= 1,
                Err(e) => return Err(QueryError::Node(NodeError::Storage(format!("near cover: {e}")))),
            }
        };
        // Candidates from the cell index keys alone: (distance, id).
        let mut candidates: Vec<(f64, AssetId)> = Vec::new();
        let mut centres: BTreeMap<Cell, f64> = BTreeMap::new();
        let mut examined = 0;
        for covering in cover {
            let plan = Plan::cells(covering, registry_resolution);
            r.each_entry(&plan, &mut examined, MAX_NEAR_SCAN, "use a smaller radius", |k| {
                    let cell = cell_of_index_key(k)?;
                    if filter.cell.is_some_and(|f| !cell.is_within(f)) {
                        return Ok(());
                    }
                    let distance_km =
                        *centres.entry(cell).or_insert_with(|| geo::haversine_km(cell.center(), center));
                    if distance_km <= radius_km {
                        let id = key::id_of_index_key(k)
                            .ok_or_else(|| NodeError::Storage(format!("index key {} is malformed", hex_of(k))))?;
                        candidates.push((distance_km, id));
                    }
                Ok(())
            })?;
        }
        candidates.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        let mut out = Vec::new();
        for (distance_km, id) in candidates {
            let asset = r.asset(&id)?.ok_or_else(|| NodeError::Storage(format!("cell index names missing asset {id}")))?;
            let (status, _) = r.effective(&asset)?;
            if !filter.matches(&asset, status) {
                continue;
            }
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, reason = "at most 500 km in metres")]
            let distance_m = (distance_km * 1_000.0).round() as u64;
            out.push(NearAsset { asset: r.view(asset)?, distance_m });
            if out.len() == limit {
                break;
            }
        }
        Ok(out)
    }

    /// Asset counts per class, effective status and region (cells at `region_resolution`), for
    /// the whole network or, with `cell`, for that cell and its descendants.
    ///
    /// The whole network's class and status counts come from the registry's counters; the
    /// regions (and, with `cell`, everything) come from scanning the cell index, so the query is
    /// refused as too broad past [`MAX_STATS_SCAN`] entries or [`MAX_STATS_REGIONS`] regions.
    /// `region_resolution` defaults to [`DEFAULT_REGION_RESOLUTION`] (or the cell's own
    /// resolution, if finer) and may not be finer than the registry's resolution.
    pub fn asset_stats(&self, cell: Option<Cell>, region_resolution: Option<u8>) -> Result<AssetStats, QueryError> {
        let r = Reader::open(self)?;
        let registry_resolution = r.params.location_resolution;
        if let Some(c) = cell {
            r.check_cell(c)?;
        }
        let region_resolution = region_resolution.unwrap_or_else(|| {
            DEFAULT_REGION_RESOLUTION.max(cell.map_or(0, Cell::resolution)).min(registry_resolution)
        });
        if region_resolution > registry_resolution {
            return Err(QueryError::RegionResolution { resolution: region_resolution, registry_resolution });
        }
        let mut by_class: BTreeMap<&'static str, u64> = AssetClass::ALL.iter().map(|c| (c.name(), 0)).collect();
        let mut by_status: BTreeMap<&'static str, u64> = AssetStatus::ALL.iter().map(|s| (s.name(), 0)).collect();
        let mut regions: BTreeMap<Cell, u64> = BTreeMap::new();
        let hint = "give a cell, or a coarser region resolution";
        let count_region = |k: &[u8], regions: &mut BTreeMap<Cell, u64>| -> Result<(), QueryError> {
            let c = cell_of_index_key(k)?;
            let region = c.parent(region_resolution).unwrap_or(c);
            *regions.entry(region).or_insert(0) += 1;
            if regions.len() > MAX_STATS_REGIONS {
                return Err(QueryError::TooBroad { max_entries: MAX_STATS_REGIONS, what: "regions", hint });
            }
            Ok(())
        };
        let n_assets = match cell {
            Some(c) => {
                let plan = Plan::cells(c, registry_resolution);
                let mut examined = 0;
                r.each_entry(&plan, &mut examined, MAX_STATS_SCAN, hint, |k| {
                    count_region(k, &mut regions)?;
                    let asset = r.indexed_asset(k)?;
                    let (status, _) = r.effective(&asset)?;
                    *by_class.entry(asset.capacity.class().name()).or_insert(0) += 1;
                    *by_status.entry(status.name()).or_insert(0) += 1;
                    Ok(())
                })?;
                examined as u64
            }
            None => {
                for c in AssetClass::ALL {
                    by_class.insert(c.name(), r.snap.typed(&key::class_count(c))?.unwrap_or(0));
                }
                for s in AssetStatus::ALL {
                    by_status.insert(s.name(), r.snap.typed(&key::status_count(s))?.unwrap_or(0));
                }
                let mut examined = r.count_vendor_suspensions(&mut by_status, hint)?;
                let all = Plan::prefix(key::CELLS.to_vec());
                r.each_entry(&all, &mut examined, MAX_STATS_SCAN, hint, |k| count_region(k, &mut regions))?;
                by_class.values().sum()
            }
        };
        Ok(AssetStats {
            cell,
            n_assets,
            by_class,
            by_status,
            region_resolution,
            by_region: regions.into_iter().map(|(cell, n_assets)| RegionCount { cell, n_assets }).collect(),
            height: r.height,
            state_root: r.state_root,
        })
    }

    /// Vendors in order of their key's address, up to `limit` (1 to [`MAX_PAGE`]) after the
    /// cursor of the previous page.
    pub fn vendors(&self, after: Option<Vec<u8>>, limit: usize) -> Result<VendorPage, QueryError> {
        check_limit(limit)?;
        let r = Reader::open(self)?;
        let after = match after {
            Some(c) if c.starts_with(key::VENDORS) && c.len() <= MAX_CURSOR_BYTES => c,
            Some(_) => return Err(QueryError::Cursor),
            None => key::VENDORS.to_vec(),
        };
        let mut entries = r.snap.scan(key::VENDORS, Some(&after), limit + 1)?;
        let more = entries.len() > limit;
        entries.truncate(limit);
        let next_cursor = if more { entries.last().map(|(k, _)| hex_of(k)) } else { None };
        let vendors = entries
            .into_iter()
            .map(|(_, v)| {
                depin_types::codec::decode_bounded(&v, v.len())
                    .map_err(|e| QueryError::Node(NodeError::Storage(format!("vendor record: {e}"))))
            })
            .collect::<Result<_, _>>()?;
        Ok(VendorPage { vendors, next_cursor })
    }

    /// The registry parameters in force (the defaults if none were ever written).
    pub fn registry_params(&self) -> Result<RegistryParams, NodeError> {
        Ok(Reader::open(self)?.params)
    }
}

impl Reader {
    /// Move the assets of revoked vendors from their stored status to `suspended` in
    /// `by_status` (counted from the stored status); returns the entries examined (vendor
    /// records and their index entries).
    fn count_vendor_suspensions(
        &self,
        by_status: &mut BTreeMap<&'static str, u64>,
        hint: &'static str,
    ) -> Result<usize, QueryError> {
        let mut revoked = Vec::new();
        let mut after: Option<Vec<u8>> = None;
        let mut examined = 0;
        loop {
            let batch = self.snap.scan(key::VENDORS, after.as_deref(), SCAN_BATCH)?;
            let n = batch.len();
            examined += n;
            if examined > MAX_STATS_SCAN {
                return Err(QueryError::TooBroad { max_entries: MAX_STATS_SCAN, what: "index entries", hint });
            }
            for (k, v) in batch {
                let vendor: Vendor = depin_types::codec::decode_bounded(&v, v.len())
                    .map_err(|e| NodeError::Storage(format!("vendor record: {e}")))?;
                if vendor.revoked {
                    revoked.push(vendor.key.address());
                }
                after = Some(k);
            }
            if n < SCAN_BATCH {
                break;
            }
        }
        for vendor in revoked {
            let plan = Plan::prefix(key::vendor_prefix(&vendor));
            let mut after = plan.start.clone();
            loop {
                let batch = self.snap.scan(&plan.prefix, Some(&after), SCAN_BATCH)?;
                let n = batch.len();
                for (k, _) in batch {
                    examined += 1;
                    if examined > MAX_STATS_SCAN {
                        return Err(QueryError::TooBroad { max_entries: MAX_STATS_SCAN, what: "index entries", hint });
                    }
                    let asset = self.indexed_asset(&k)?;
                    if !matches!(asset.status, AssetStatus::Suspended | AssetStatus::Decommissioned) {
                        let from = by_status.entry(asset.status.name()).or_insert(0);
                        *from = from.checked_sub(1).ok_or_else(|| NodeError::Storage("status counter below its index".into()))?;
                        *by_status.entry(AssetStatus::Suspended.name()).or_insert(0) += 1;
                    }
                    after = k;
                }
                if n < SCAN_BATCH {
                    break;
                }
            }
        }
        Ok(examined)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn near_resolution_keeps_the_cover_small_and_never_finer_than_the_registry() {
        assert_eq!(near_resolution(0.001, 12), 12);
        assert_eq!(near_resolution(3.0, 12), 7);
        assert_eq!(near_resolution(5.0, 12), 6);
        assert_eq!(near_resolution(500.0, 12), 2);
        assert_eq!(near_resolution(5.0, 4), 4);
        for radius_km in [0.01, 0.5, 1.0, 5.0, 20.0, 100.0, 500.0] {
            let res = near_resolution(radius_km, 12);
            let cover = geo::cells_within(LatLon::new(48.85, 2.35).unwrap(), radius_km, res).unwrap();
            assert!(cover.len() <= 100, "{radius_km} km at res {res}: {} cells", cover.len());
        }
    }

    #[test]
    fn a_cell_plan_spans_exactly_the_descendants() {
        let point = LatLon::new(48.85, 2.35).unwrap();
        let leaf = point.to_cell(12).unwrap();
        let region = leaf.parent(7).unwrap();
        let plan = Plan::cells(region, 12);
        let inside = [key::CELLS, &leaf.to_be_bytes()[..], &[0u8; 32]].concat();
        assert!(inside.starts_with(&plan.prefix) && plan.contains(&inside) && inside > plan.start);
        let elsewhere = LatLon::new(40.0, -3.0).unwrap().to_cell(12).unwrap();
        let outside = [key::CELLS, &elsewhere.to_be_bytes()[..], &[0u8; 32]].concat();
        assert!(!(outside.starts_with(&plan.prefix) && plan.contains(&outside) && outside > plan.start));
        assert!(plan.accepts(&inside));
        assert!(!plan.accepts(b"r/io/"));
    }
}
