//! Answer market queries: workloads (by id with their leases, by consumer, by state), leases
//! (by id, asset, consumer, workload, open), price sheets, credits, parameters and book, and the
//! last block's market events; and publish each block's market events to subscribers.
//!
//! Like the registry queries (`assets`), every query reads **one** state snapshot and reports
//! the `height` it read, and every page is bounded: a page examines at most
//! [`PAGE_SCAN_FACTOR`] × `limit` entries and then returns what it found with a cursor (hex of
//! the last key examined), so an in-memory filter (a state, a consumer) never makes one request
//! scan the whole market. A page may then hold fewer items than `limit`, even none, and still
//! have a `next_cursor`.
//!
//! # Indexes
//!
//! The state machine keeps two market indexes (`depin_types::market`): the workloads of a
//! consumer (`k/cw/<address>/<id>`) and the leases of an asset (`k/la/<asset>/<id>`, value: open
//! or not). Leases of a consumer or of a workload have no index: they are a filtered scan of
//! the lease records, which are in id order, and lease ids grow with the height of placement.
//! So the leases of a workload start at the first lease placed at or after the workload's
//! submission, found by binary search over lease ids ([`Reader::first_lease_placed_from`]).

use depin_ledger::StateSnapshot;
use depin_types::asset::{Asset, AssetClass, AssetId};
use depin_types::market::{
    asset_lease_prefix, capacity_units, consumer_workload_prefix, credits_key, lease_key, price_key, reservable_units,
    reserved_key, workload_key, Lease, MarketBook, MarketEvents, MarketParams, PriceSheet, Workload,
    WorkloadState, DIMS, EVENTS_KEY, LEASE_PREFIX, MARKET_BOOK_KEY, MARKET_PARAMS_KEY, OPEN_LEASES_KEY, QUEUE_KEY,
    WORKLOAD_PREFIX,
};
use depin_types::registry_key as rkey;
use depin_types::{Address, Amount, Hash32};
use serde::Serialize;

use crate::assets::{QueryError, MAX_PAGE, PAGE_SCAN_FACTOR};
use crate::chain::Committed;
use crate::node::{Node, NodeError, NodeEvent};

/// Most lease records examined to list the leases of one workload in its view (a workload has
/// at most 16 replicas, but failovers and notices add leases over time).
pub const MAX_WORKLOAD_LEASE_SCAN: usize = 10_000;
/// Longest market cursor, in bytes: the longest key scanned (`k/cw/` + 33-byte address + 8).
pub const MAX_MARKET_CURSOR_BYTES: usize = 5 + 33 + 8;
/// Largest market record decoded (a workload with 64 region cells and its lists is a few KB).
const MAX_RECORD_BYTES: usize = 1 << 20;

/// A workload's coarse state, for filters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WorkloadStateFilter {
    /// Waiting for placement.
    Pending,
    /// Placed.
    Running,
    /// Over.
    Closed,
}

impl WorkloadStateFilter {
    /// Every state, in order.
    pub const ALL: [WorkloadStateFilter; 3] =
        [WorkloadStateFilter::Pending, WorkloadStateFilter::Running, WorkloadStateFilter::Closed];

    /// Its name (as in the workload's JSON `state.state`).
    pub fn name(self) -> &'static str {
        match self {
            WorkloadStateFilter::Pending => "pending",
            WorkloadStateFilter::Running => "running",
            WorkloadStateFilter::Closed => "closed",
        }
    }

    /// The state named `s`.
    pub fn parse(s: &str) -> Option<WorkloadStateFilter> {
        WorkloadStateFilter::ALL.into_iter().find(|f| f.name() == s)
    }

    fn matches(self, s: WorkloadState) -> bool {
        matches!(
            (self, s),
            (WorkloadStateFilter::Pending, WorkloadState::Pending)
                | (WorkloadStateFilter::Running, WorkloadState::Running)
                | (WorkloadStateFilter::Closed, WorkloadState::Closed { .. })
        )
    }
}

/// Which workloads to list. Every given field must match.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WorkloadFilter {
    /// Submitted by this account (scans its index).
    pub consumer: Option<Address>,
    /// In this state.
    pub state: Option<WorkloadStateFilter>,
}

/// Which leases to list. Every given field must match.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LeaseFilter {
    /// On this asset (scans its index).
    pub asset: Option<AssetId>,
    /// Of this consumer.
    pub consumer: Option<Address>,
    /// Of this workload.
    pub workload: Option<u64>,
    /// Open (true) or closed (false).
    pub open: Option<bool>,
}

impl LeaseFilter {
    fn matches(&self, l: &Lease) -> bool {
        self.asset.is_none_or(|a| l.asset == a)
            && self.consumer.is_none_or(|c| l.consumer == c)
            && self.workload.is_none_or(|w| l.workload == w)
            && self.open.is_none_or(|o| l.state.is_open() == o)
    }
}

/// A workload with its lease records, as of one snapshot.
#[derive(Clone, Debug, Serialize)]
pub struct WorkloadView {
    /// The stored record (its members are inlined in JSON; `leases` are the open lease ids).
    #[serde(flatten)]
    pub workload: Workload,
    /// Its leases, open and closed, in id order.
    pub lease_records: Vec<Lease>,
    /// True when more than [`MAX_WORKLOAD_LEASE_SCAN`] lease records would have had to be
    /// examined: `lease_records` then holds the open leases and those found so far (list the
    /// rest with the lease list filtered by workload).
    pub leases_truncated: bool,
    /// Height of the snapshot read.
    pub height: u64,
}

/// A page of workloads.
#[derive(Clone, Debug, Serialize)]
pub struct WorkloadPage {
    /// The workloads, in id order.
    pub workloads: Vec<Workload>,
    /// Pass as the cursor of the next page (hex); absent when nothing follows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
    /// Height of the snapshot read.
    pub height: u64,
}

/// A lease, as of one snapshot.
#[derive(Clone, Debug, Serialize)]
pub struct LeaseView {
    /// The stored record (its members are inlined in JSON).
    #[serde(flatten)]
    pub lease: Lease,
    /// Height of the snapshot read.
    pub height: u64,
}

/// A page of leases.
#[derive(Clone, Debug, Serialize)]
pub struct LeasePage {
    /// The leases, in id order.
    pub leases: Vec<Lease>,
    /// Pass as the cursor of the next page (hex); absent when nothing follows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
    /// Height of the snapshot read.
    pub height: u64,
}

/// An asset's price sheet and what it has left to sell.
#[derive(Clone, Debug, Serialize)]
pub struct PriceView {
    /// The asset.
    pub asset: AssetId,
    /// Its class.
    pub class: AssetClass,
    /// Its owner (who is paid).
    pub owner: Address,
    /// The prices, or none: not for sale.
    pub sheet: Option<PriceSheet>,
    /// The units the class sells, in dimension order.
    pub units: Vec<depin_types::asset::ResourceUnit>,
    /// What its capacity offers per unit (same order).
    pub capacity: Vec<u64>,
    /// What open leases reserve per unit (same order).
    pub reserved: Vec<u64>,
    /// Height of the snapshot read.
    pub height: u64,
}

/// An account's credits.
#[derive(Clone, Debug, Serialize)]
pub struct CreditsView {
    /// The account.
    pub address: Address,
    /// Its credits (base units).
    pub credits: Amount,
    /// Height of the snapshot read.
    pub height: u64,
}

/// The market's parameters, bookkeeping and queue sizes.
#[derive(Clone, Debug, Serialize)]
pub struct MarketView {
    /// Parameters in force.
    pub params: MarketParams,
    /// Bookkeeping: last ids, last settled epoch, credits minted and spent.
    pub book: MarketBook,
    /// Workloads waiting for (re-)placement.
    pub n_queued: u64,
    /// Open leases.
    pub n_open_leases: u64,
    /// The market events of the last block that had any.
    pub last_events: MarketEvents,
    /// Height of the snapshot read.
    pub height: u64,
    /// State root at that height.
    pub state_root: Hash32,
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

fn corrupt(what: &str, k: &[u8], e: impl std::fmt::Display) -> NodeError {
    NodeError::Storage(format!("{what} under {}: {e}", hex_of(k)))
}

fn decode_lease(k: &[u8], v: &[u8]) -> Result<Lease, NodeError> {
    depin_types::codec::decode_bounded(v, MAX_RECORD_BYTES).map_err(|e| corrupt("lease", k, e))
}

fn decode_workload(k: &[u8], v: &[u8]) -> Result<Workload, NodeError> {
    depin_types::codec::decode_bounded(v, MAX_RECORD_BYTES).map_err(|e| corrupt("workload", k, e))
}

fn decode_flag(k: &[u8], v: &[u8]) -> Result<bool, NodeError> {
    depin_types::codec::decode_bounded(v, 1).map_err(|e| corrupt("asset lease index entry", k, e))
}

/// The id at the end of an index or record key.
fn trailing_id(k: &[u8]) -> Result<u64, NodeError> {
    k.len()
        .checked_sub(8)
        .and_then(|at| <[u8; 8]>::try_from(&k[at..]).ok())
        .map(u64::from_be_bytes)
        .ok_or_else(|| corrupt("market key", k, "too short"))
}

/// One snapshot with the lookups every market query shares.
struct Reader {
    snap: StateSnapshot,
    height: u64,
    state_root: Hash32,
}

/// A cursor of a scan over `prefix`: refused unless it lies under the prefix.
fn scan_start(prefix: &[u8], cursor: Option<Vec<u8>>) -> Result<Vec<u8>, QueryError> {
    match cursor {
        Some(c) if c.starts_with(prefix) && c.len() <= MAX_MARKET_CURSOR_BYTES => Ok(c),
        Some(_) => Err(QueryError::Cursor),
        None => Ok(prefix.to_vec()),
    }
}

impl Reader {
    fn open(node: &Node) -> Result<Reader, NodeError> {
        let snap = node.inner.chain.ledger().snapshot()?;
        let at = snap.at()?;
        Ok(Reader { snap, height: at.height, state_root: at.state_root })
    }

    fn workload(&self, id: u64) -> Result<Option<Workload>, NodeError> {
        Ok(self.snap.typed(&workload_key(id))?)
    }

    fn lease(&self, id: u64) -> Result<Option<Lease>, NodeError> {
        Ok(self.snap.typed(&lease_key(id))?)
    }

    fn book(&self) -> Result<MarketBook, NodeError> {
        Ok(self.snap.typed(MARKET_BOOK_KEY)?.unwrap_or_default())
    }

    /// Visit up to `budget` entries under `prefix` after `start`; `visit` returns false to stop
    /// early (the page is full). Returns the last key examined and whether entries remain.
    fn walk(
        &self,
        prefix: &[u8],
        start: &[u8],
        budget: usize,
        mut visit: impl FnMut(&[u8], &[u8]) -> Result<bool, NodeError>,
    ) -> Result<(Option<Vec<u8>>, bool), NodeError> {
        let mut after = start.to_vec();
        let mut examined = 0;
        let mut last = None;
        loop {
            let want = (budget - examined).min(1_024);
            // One more than wanted tells whether anything follows.
            let batch = self.snap.scan(prefix, Some(&after), want + 1)?;
            let more_in_store = batch.len() > want;
            for (k, v) in batch.into_iter().take(want) {
                examined += 1;
                let go_on = visit(&k, &v)?;
                after.clone_from(&k);
                last = Some(k);
                if !go_on {
                    let rest = !self.snap.scan(prefix, Some(&after), 1)?.is_empty();
                    return Ok((last, rest));
                }
            }
            if !more_in_store {
                return Ok((last, false));
            }
            if examined >= budget {
                return Ok((last, true));
            }
        }
    }

    /// The id of the first lease placed at or after `height` (or one past the last lease):
    /// lease ids are given in order of placement, so `placed_height` grows with the id.
    fn first_lease_placed_from(&self, height: u64, last_lease: u64) -> Result<u64, NodeError> {
        let (mut lo, mut hi) = (1u64, last_lease + 1);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let placed = match self.lease(mid)? {
                Some(l) => l.placed_height,
                None => return Err(NodeError::Storage(format!("lease {mid} of 1..={last_lease} is missing"))),
            };
            if placed < height {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        Ok(lo)
    }
}

impl Node {
    /// A workload with its leases, open and closed (see [`WorkloadView`]); `None` if no
    /// workload has that id.
    pub fn workload(&self, id: u64) -> Result<Option<WorkloadView>, NodeError> {
        let r = Reader::open(self)?;
        let Some(workload) = r.workload(id)? else { return Ok(None) };
        let book = r.book()?;
        let first = r.first_lease_placed_from(workload.submitted_height, book.last_lease)?;
        let mut lease_records = Vec::new();
        let start = if first > 1 { lease_key(first - 1) } else { LEASE_PREFIX.to_vec() };
        let (_, truncated) = r.walk(LEASE_PREFIX, &start, MAX_WORKLOAD_LEASE_SCAN, |k, v| {
            let l = decode_lease(k, v)?;
            if l.workload == id {
                lease_records.push(l);
            }
            Ok(true)
        })?;
        if truncated {
            // Make sure at least every open lease is shown.
            for lease in &workload.leases {
                if !lease_records.iter().any(|l| l.id == *lease)
                    && let Some(l) = r.lease(*lease)?
                {
                    lease_records.push(l);
                }
            }
            lease_records.sort_by_key(|l| l.id);
        }
        Ok(Some(WorkloadView { workload, lease_records, leases_truncated: truncated, height: r.height }))
    }

    /// Workloads matching `filter`, in id order, up to `limit` (1 to [`MAX_PAGE`]) after the
    /// cursor of the previous page; a page examines at most [`PAGE_SCAN_FACTOR`] × `limit`
    /// entries.
    pub fn workloads(&self, filter: &WorkloadFilter, cursor: Option<Vec<u8>>, limit: usize) -> Result<WorkloadPage, QueryError> {
        check_limit(limit)?;
        let r = Reader::open(self)?;
        let prefix = match filter.consumer {
            Some(c) => consumer_workload_prefix(&c),
            None => WORKLOAD_PREFIX.to_vec(),
        };
        let start = scan_start(&prefix, cursor)?;
        let mut workloads = Vec::new();
        let (last, more) = r.walk(&prefix, &start, limit * PAGE_SCAN_FACTOR, |k, v| {
            let w: Workload = match filter.consumer {
                Some(_) => {
                    let id = trailing_id(k)?;
                    r.workload(id)?.ok_or_else(|| corrupt("consumer index entry", k, "names a missing workload"))?
                }
                None => decode_workload(k, v)?,
            };
            if filter.state.is_none_or(|s| s.matches(w.state)) {
                workloads.push(w);
            }
            Ok(workloads.len() < limit)
        })?;
        let next_cursor = if more { last.map(|k| hex_of(&k)) } else { None };
        Ok(WorkloadPage { workloads, next_cursor, height: r.height })
    }

    /// A lease; `None` if no lease has that id.
    pub fn lease(&self, id: u64) -> Result<Option<LeaseView>, NodeError> {
        let r = Reader::open(self)?;
        Ok(r.lease(id)?.map(|lease| LeaseView { lease, height: r.height }))
    }

    /// Leases matching `filter`, in id order, up to `limit` (1 to [`MAX_PAGE`]) after the cursor
    /// of the previous page; a page examines at most [`PAGE_SCAN_FACTOR`] × `limit` entries.
    /// With an asset, its index is scanned (the open flag is in the index, so `open` filters
    /// without reading closed records); with a workload, the scan starts at the first lease
    /// placed after the workload was submitted.
    pub fn leases(&self, filter: &LeaseFilter, cursor: Option<Vec<u8>>, limit: usize) -> Result<LeasePage, QueryError> {
        check_limit(limit)?;
        let r = Reader::open(self)?;
        let mut leases = Vec::new();
        let budget = limit * PAGE_SCAN_FACTOR;
        let (last, more) = if let Some(asset) = filter.asset {
            let prefix = asset_lease_prefix(&asset);
            let start = scan_start(&prefix, cursor)?;
            r.walk(&prefix, &start, budget, |k, v| {
                let open = decode_flag(k, v)?;
                if filter.open.is_some_and(|o| o != open) {
                    return Ok(true);
                }
                let id = trailing_id(k)?;
                let l = r.lease(id)?.ok_or_else(|| corrupt("asset lease index entry", k, "names a missing lease"))?;
                if filter.matches(&l) {
                    leases.push(l);
                }
                Ok(leases.len() < limit)
            })?
        } else {
            let start = match (cursor, filter.workload) {
                (Some(c), _) => scan_start(LEASE_PREFIX, Some(c))?,
                (None, Some(w)) => match r.workload(w)? {
                    // No such workload: no leases.
                    None => return Ok(LeasePage { leases, next_cursor: None, height: r.height }),
                    Some(w) => {
                        let first = r.first_lease_placed_from(w.submitted_height, r.book()?.last_lease)?;
                        if first > 1 { lease_key(first - 1) } else { LEASE_PREFIX.to_vec() }
                    }
                },
                (None, None) => LEASE_PREFIX.to_vec(),
            };
            r.walk(LEASE_PREFIX, &start, budget, |k, v| {
                let l = decode_lease(k, v)?;
                if filter.matches(&l) {
                    leases.push(l);
                }
                Ok(leases.len() < limit)
            })?
        };
        let next_cursor = if more { last.map(|k| hex_of(&k)) } else { None };
        Ok(LeasePage { leases, next_cursor, height: r.height })
    }

    /// An asset's price sheet with its capacity and reservations; `None` if no asset has that id.
    pub fn price(&self, asset: &AssetId) -> Result<Option<PriceView>, NodeError> {
        let r = Reader::open(self)?;
        let Some(a): Option<Asset> = r.snap.typed(&rkey::asset(asset))? else { return Ok(None) };
        let class = a.capacity.class();
        let n = reservable_units(class).len();
        let reserved: [u64; DIMS] = r.snap.typed(&reserved_key(asset))?.unwrap_or([0; DIMS]);
        Ok(Some(PriceView {
            asset: *asset,
            class,
            owner: a.owner,
            sheet: r.snap.typed(&price_key(asset))?,
            units: reservable_units(class).to_vec(),
            capacity: capacity_units(&a.capacity)[..n].to_vec(),
            reserved: reserved[..n].to_vec(),
            height: r.height,
        }))
    }

    /// An account's credits (zero if it never had any).
    pub fn credits(&self, address: &Address) -> Result<CreditsView, NodeError> {
        let r = Reader::open(self)?;
        let credits = r.snap.typed(&credits_key(address))?.unwrap_or(Amount::ZERO);
        Ok(CreditsView { address: *address, credits, height: r.height })
    }

    /// The market parameters, book, queue sizes and last events.
    pub fn market(&self) -> Result<MarketView, NodeError> {
        let r = Reader::open(self)?;
        let params = r.snap.typed(MARKET_PARAMS_KEY)?.unwrap_or_default();
        let queue: Vec<u64> = r.snap.typed(QUEUE_KEY)?.unwrap_or_default();
        let open: Vec<u64> = r.snap.typed(OPEN_LEASES_KEY)?.unwrap_or_default();
        Ok(MarketView {
            params,
            book: r.book()?,
            n_queued: queue.len() as u64,
            n_open_leases: open.len() as u64,
            last_events: r.snap.typed(EVENTS_KEY)?.unwrap_or_default(),
            height: r.height,
            state_root: r.state_root,
        })
    }

    /// The market events of the last block that had any.
    pub fn market_events(&self) -> Result<MarketEvents, NodeError> {
        Ok(Reader::open(self)?.snap.typed(EVENTS_KEY)?.unwrap_or_default())
    }

    /// After a block: publish its market events (the state keeps the events of the last block
    /// that had any, so they are this block's only if their height is the block's).
    pub(crate) fn market_after_commit(&self, committed: &Committed) {
        let height = committed.head.height;
        let events = match self.market_events() {
            Ok(e) => e,
            Err(e) => {
                tracing::warn!(error = %e, height, "market events not read; none published for this block");
                return;
            }
        };
        if events.height != height {
            return;
        }
        for event in events.events {
            let _ = self.inner.events.send(NodeEvent::Market { height, event });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_filters_round_trip_their_names() {
        for f in WorkloadStateFilter::ALL {
            assert_eq!(WorkloadStateFilter::parse(f.name()), Some(f));
        }
        assert_eq!(WorkloadStateFilter::parse("done"), None);
        assert!(WorkloadStateFilter::Closed.matches(WorkloadState::Closed {
            reason: depin_types::market::CloseReason::Completed,
            height: 3
        }));
        assert!(!WorkloadStateFilter::Pending.matches(WorkloadState::Running));
    }

    #[test]
    fn trailing_ids_are_big_endian() {
        assert_eq!(trailing_id(&workload_key(258)).unwrap(), 258);
        assert!(trailing_id(b"short").is_err());
    }
}
