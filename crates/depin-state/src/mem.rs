//! Hold state in memory for unit and property tests, and check conservation over it.
//!
//! Not used by the node: the node's state lives in redb (depin-ledger).

use std::collections::BTreeMap;

use depin_types::state_key::{Account, Supply, ACCOUNT_PREFIX, SUPPLY_KEY};
use depin_types::Amount;

use crate::overlay::{ChangeSet, StateRead, StorageFault};

/// A state held in a `BTreeMap`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MemState {
    /// All key/value pairs.
    pub map: BTreeMap<Vec<u8>, Vec<u8>>,
}

impl MemState {
    /// Apply a change set.
    pub fn apply(&mut self, changes: &ChangeSet) {
        for (k, v) in changes {
            match v {
                Some(v) => self.map.insert(k.clone(), v.clone()),
                None => self.map.remove(k),
            };
        }
    }
}

impl StateRead for MemState {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StorageFault> {
        Ok(self.map.get(key).cloned())
    }
}

/// Rule S-1: the sum of all balances and bonds equals total supply, and total supply equals
/// genesis + minted − burned.
pub fn check_conservation(state: &MemState) -> Result<(), String> {
    let supply: Supply = state
        .map
        .get(SUPPLY_KEY)
        .map(|b| borsh::from_slice(b).map_err(|e| e.to_string()))
        .transpose()?
        .ok_or("no supply record")?;
    let mut sum = Amount::ZERO;
    for (k, v) in state.map.range(ACCOUNT_PREFIX.to_vec()..) {
        if !k.starts_with(ACCOUNT_PREFIX) {
            break;
        }
        let a: Account = borsh::from_slice(v).map_err(|e| e.to_string())?;
        sum = sum.checked_add(a.balance).ok_or("balance sum overflows")?;
    }
    // Bonds are balances locked away (rule R-6): still part of the supply.
    let bonds = b"r/b/".to_vec();
    for (k, v) in state.map.range(bonds.clone()..) {
        if !k.starts_with(&bonds) {
            break;
        }
        let b: depin_types::asset::Bond = borsh::from_slice(v).map_err(|e| e.to_string())?;
        sum = sum.checked_add(b.amount).ok_or("balance sum overflows")?;
    }
    if sum != supply.total {
        return Err(format!("sum of balances and bonds {sum} != total supply {}", supply.total));
    }
    let expected = supply
        .genesis
        .checked_add(supply.minted)
        .and_then(|x| x.checked_sub(supply.burned))
        .ok_or("supply bookkeeping overflows")?;
    if expected != supply.total {
        return Err(format!("genesis + minted - burned = {expected} != total {}", supply.total));
    }
    check_credits(state)
}

/// Rule K-9: credits held plus credits in escrow equal credits minted minus credits spent.
fn check_credits(state: &MemState) -> Result<(), String> {
    use depin_types::market::{MarketBook, Workload, MARKET_BOOK_KEY, WORKLOAD_PREFIX};
    let book: MarketBook = match state.map.get(MARKET_BOOK_KEY) {
        Some(b) => borsh::from_slice(b).map_err(|e| e.to_string())?,
        None => MarketBook::default(),
    };
    let mut held: u128 = 0;
    for (k, v) in state.map.range(b"k/c/".to_vec()..) {
        if !k.starts_with(b"k/c/") {
            break;
        }
        let c: Amount = borsh::from_slice(v).map_err(|e| e.to_string())?;
        held = held.checked_add(c.0).ok_or("credit sum overflows")?;
    }
    for (k, v) in state.map.range(WORKLOAD_PREFIX.to_vec()..) {
        if !k.starts_with(WORKLOAD_PREFIX) {
            break;
        }
        let w: Workload = borsh::from_slice(v).map_err(|e| e.to_string())?;
        held = held.checked_add(w.escrow.0).ok_or("credit sum overflows")?;
    }
    let expected = book.credits_minted.0.checked_sub(book.credits_spent.0).ok_or("more credits spent than minted")?;
    if held != expected {
        return Err(format!("credits held + escrowed = {held} != minted - spent = {expected}"));
    }
    Ok(())
}
