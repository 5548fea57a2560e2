//! Execute the market (rules K-1 to K-12): price sheets, credits (burn-and-mint), workloads
//! with escrow, and leases — placed by the allocator (`depin-alloc`), settled per epoch from
//! telemetry, re-placed when their asset fails.
//!
//! Transactions change prices, credits and workloads ([`txs`]); everything time-driven runs at
//! the end of each block ([`end_block`]): settle whole epochs, close failed or ended leases,
//! then place what waits. Every credit moves between exactly two places (a balance, an escrow,
//! or spent = paid to a provider as newly minted tokens), so conservation is checkable
//! ([`crate::check_conservation`]).

mod epoch;
mod place;
mod txs;

use depin_types::asset::{AssetClass, AssetId};
use depin_types::codec::encode;
use depin_types::market::{
    credits_key, lease_key, offers_key, workload_key, Lease, MarketBook, MarketEvent, MarketEvents, MarketParams,
    Workload, DIMS, EVENTS_KEY, MARKET_BOOK_KEY, MARKET_PARAMS_KEY, OPEN_LEASES_KEY, QUEUE_KEY,
};
use depin_types::{Address, Amount};

use crate::overlay::{Overlay, StateRead, StorageFault};

pub use epoch::end_block;
pub use place::why_code;
pub use txs::{cancel_workload, end_lease, mint_credits, set_params, set_price, submit_workload, top_up};

impl<R: StateRead + ?Sized> Overlay<'_, R> {
    /// The market parameters.
    pub fn market_params(&self) -> Result<MarketParams, StorageFault> {
        self.typed(MARKET_PARAMS_KEY)?
            .ok_or_else(|| StorageFault("market parameters missing: state has no genesis".into()))
    }

    fn book(&self) -> Result<MarketBook, StorageFault> {
        Ok(self.typed(MARKET_BOOK_KEY)?.unwrap_or_default())
    }

    fn set_book(&mut self, book: &MarketBook) {
        self.put(MARKET_BOOK_KEY.to_vec(), encode(book));
    }

    /// An account's credits.
    pub fn credits(&self, a: &Address) -> Result<Amount, StorageFault> {
        Ok(self.typed(&credits_key(a))?.unwrap_or(Amount::ZERO))
    }

    fn set_credits(&mut self, a: &Address, v: Amount) {
        if v == Amount::ZERO {
            self.delete(credits_key(a));
        } else {
            self.put(credits_key(a), encode(&v));
        }
    }

    fn add_credits(&mut self, a: &Address, v: Amount) -> Result<(), StorageFault> {
        let now = self.credits(a)?;
        self.set_credits(a, now.checked_add(v).expect("invariant: credits are bounded by minted credits"));
        Ok(())
    }

    fn workload(&self, id: u64) -> Result<Option<Workload>, StorageFault> {
        self.typed(&workload_key(id))
    }

    fn put_workload(&mut self, w: &Workload) {
        self.put(workload_key(w.id), encode(w));
    }

    fn lease(&self, id: u64) -> Result<Option<Lease>, StorageFault> {
        self.typed(&lease_key(id))
    }

    fn put_lease(&mut self, l: &Lease) {
        self.put(lease_key(l.id), encode(l));
    }

    fn id_list(&self, key: &[u8]) -> Result<Vec<u64>, StorageFault> {
        Ok(self.typed(key)?.unwrap_or_default())
    }

    fn queue(&self) -> Result<Vec<u64>, StorageFault> {
        self.id_list(QUEUE_KEY)
    }

    fn set_queue(&mut self, q: &[u64]) {
        self.put(QUEUE_KEY.to_vec(), encode(&q.to_vec()));
    }

    fn open_leases(&self) -> Result<Vec<u64>, StorageFault> {
        self.id_list(OPEN_LEASES_KEY)
    }

    fn set_open_leases(&mut self, l: &[u64]) {
        self.put(OPEN_LEASES_KEY.to_vec(), encode(&l.to_vec()));
    }

    fn offers(&self, class: AssetClass) -> Result<Vec<AssetId>, StorageFault> {
        Ok(self.typed(&offers_key(class))?.unwrap_or_default())
    }

    fn reserved(&self, a: &AssetId) -> Result<[u64; DIMS], StorageFault> {
        Ok(self.typed(&depin_types::market::reserved_key(a))?.unwrap_or([0; DIMS]))
    }

    fn set_reserved(&mut self, a: &AssetId, r: [u64; DIMS]) {
        if r == [0; DIMS] {
            self.delete(depin_types::market::reserved_key(a));
        } else {
            self.put(depin_types::market::reserved_key(a), encode(&r));
        }
    }

    /// Append a market event of block `height` (rule K-12).
    fn event(&mut self, height: u64, e: MarketEvent) -> Result<(), StorageFault> {
        let mut log: MarketEvents = self.typed(EVENTS_KEY)?.unwrap_or_default();
        if log.height != height {
            log = MarketEvents { height, events: Vec::new() };
        }
        log.events.push(e);
        self.put(EVENTS_KEY.to_vec(), encode(&log));
        Ok(())
    }
}

/// Insert `id` into a sorted list (no duplicates).
fn sorted_insert<T: Ord + Copy>(list: &mut Vec<T>, id: T) {
    if let Err(i) = list.binary_search(&id) {
        list.insert(i, id);
    }
}

/// Remove `id` from a sorted list.
fn sorted_remove<T: Ord>(list: &mut Vec<T>, id: &T) {
    if let Ok(i) = list.binary_search(id) {
        list.remove(i);
    }
}
