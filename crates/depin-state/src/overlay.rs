//! Read committed state through a write overlay that collects one block's changes.
//!
//! Reads look in the block's changes first, then in a cache of the committed values this block
//! has read, then in committed state: a block that reads the same record many times (an
//! asset's registration, once for each of its telemetry reports) reads storage once.

use std::cell::RefCell;
use std::collections::BTreeMap;

use borsh::BorshDeserialize;
use depin_types::codec::encode;
use depin_types::evidence::EvidenceRecord;
use depin_types::state_key::{
    account_key, Account, Supply, ValidatorSet, CHAIN_ID_KEY, PARAMS_KEY, SUPPLY_KEY, VALIDATORS_KEY,
};
use depin_types::{Address, Params};

/// One block's state changes: key → new value, or `None` to delete. Ordered for determinism.
pub type ChangeSet = BTreeMap<Vec<u8>, Option<Vec<u8>>>;

/// The storage under the state machine failed or holds bytes that do not decode. Fatal.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("storage fault: {0}")]
pub struct StorageFault(pub String);

/// Read access to committed state.
pub trait StateRead {
    /// The value under `key`, if any.
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StorageFault>;
}

/// Committed state plus the changes made so far in this block.
pub struct Overlay<'a, R: StateRead + ?Sized> {
    base: &'a R,
    changes: ChangeSet,
    /// Committed values already read in this block (`None`: absent). Consulted only for keys
    /// the block has not written, so it never goes stale: committed state does not change
    /// under a block.
    committed: RefCell<BTreeMap<Vec<u8>, Option<Vec<u8>>>>,
}

/// `bytes`, the value under `key` if any, decoded; a value that does not decode is a fault.
pub(crate) fn decode_stored<T: BorshDeserialize>(key: &[u8], bytes: Option<&[u8]>) -> Result<Option<T>, StorageFault> {
    bytes
        .map(borsh::from_slice::<T>)
        .transpose()
        .map_err(|e| StorageFault(format!("value under {key:?} does not decode: {e}")))
}

/// A block's view reads like committed state: the block's writes first, then what is committed.
impl<R: StateRead + ?Sized> StateRead for Overlay<'_, R> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StorageFault> {
        Overlay::get(self, key)
    }
}

impl<'a, R: StateRead + ?Sized> Overlay<'a, R> {
    /// An empty overlay over `base`.
    pub fn new(base: &'a R) -> Self {
        Overlay { base, changes: ChangeSet::new(), committed: RefCell::new(BTreeMap::new()) }
    }

    /// The collected changes.
    pub fn into_changes(self) -> ChangeSet {
        self.changes
    }

    /// Raw read through the overlay.
    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StorageFault> {
        self.read(key, |v| v.map(<[u8]>::to_vec))
    }

    /// `f` of the value under `key` as this block sees it, borrowed (no copy of the value).
    fn read<T>(&self, key: &[u8], f: impl FnOnce(Option<&[u8]>) -> T) -> Result<T, StorageFault> {
        if let Some(v) = self.changes.get(key) {
            return Ok(f(v.as_deref()));
        }
        if let Some(v) = self.committed.borrow().get(key) {
            return Ok(f(v.as_deref()));
        }
        let v = self.base.get(key)?;
        let out = f(v.as_deref());
        self.committed.borrow_mut().insert(key.to_vec(), v);
        Ok(out)
    }

    /// Raw write.
    pub fn put(&mut self, key: Vec<u8>, value: Vec<u8>) {
        self.changes.insert(key, Some(value));
    }

    /// Raw delete.
    pub fn delete(&mut self, key: Vec<u8>) {
        self.changes.insert(key, None);
    }

    pub(crate) fn typed<T: BorshDeserialize>(&self, key: &[u8]) -> Result<Option<T>, StorageFault> {
        self.read(key, |bytes| decode_stored(key, bytes))?
    }

    /// An account, or the empty account if absent.
    pub fn account(&self, address: &Address) -> Result<Account, StorageFault> {
        Ok(self.typed(&account_key(address))?.unwrap_or_default())
    }

    /// An account, or `None` if it was never created (rule A-4).
    pub fn existing_account(&self, address: &Address) -> Result<Option<Account>, StorageFault> {
        self.typed(&account_key(address))
    }

    /// Write an account (rule S-2: accounts are kept once created, even at zero balance, so
    /// that their nonce survives).
    pub fn set_account(&mut self, address: &Address, account: &Account) {
        self.put(account_key(address), encode(account));
    }

    /// The supply record.
    pub fn supply(&self) -> Result<Supply, StorageFault> {
        self.typed(SUPPLY_KEY)?
            .ok_or_else(|| StorageFault("supply record missing: state has no genesis".into()))
    }

    /// Write the supply record.
    pub fn set_supply(&mut self, supply: &Supply) {
        self.put(SUPPLY_KEY.to_vec(), encode(supply));
    }

    /// The parameters.
    pub fn params(&self) -> Result<Params, StorageFault> {
        self.typed(PARAMS_KEY)?
            .ok_or_else(|| StorageFault("params record missing: state has no genesis".into()))
    }

    /// The validator set (rule G-4).
    pub fn validators(&self) -> Result<ValidatorSet, StorageFault> {
        self.typed(VALIDATORS_KEY)?
            .ok_or_else(|| StorageFault("validator set missing: state has no genesis".into()))
    }

    /// Evidence recorded under `key`, if any.
    pub fn evidence(&self, key: &[u8]) -> Result<Option<EvidenceRecord>, StorageFault> {
        self.typed(key)
    }

    /// The chain id.
    pub fn chain_id(&self) -> Result<String, StorageFault> {
        self.typed(CHAIN_ID_KEY)?
            .ok_or_else(|| StorageFault("chain id missing: state has no genesis".into()))
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;
    use crate::mem::MemState;

    /// Committed state that counts its reads.
    struct Counting {
        state: MemState,
        reads: Cell<u32>,
    }

    impl StateRead for Counting {
        fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StorageFault> {
            self.reads.set(self.reads.get() + 1);
            self.state.get(key)
        }
    }

    #[test]
    fn committed_values_are_read_once_and_the_block_sees_its_own_writes() {
        let mut state = MemState::default();
        state.map.insert(b"a".to_vec(), encode(&7u64));
        let base = Counting { state, reads: Cell::new(0) };
        let mut st = Overlay::new(&base);

        // Repeated reads of a committed value, and of an absent one, reach storage once each.
        for _ in 0..3 {
            assert_eq!(st.typed::<u64>(b"a").unwrap(), Some(7));
            assert_eq!(st.get(b"missing").unwrap(), None);
        }
        assert_eq!(base.reads.get(), 2);

        // A write (and a delete) hides the cached committed value from then on.
        st.put(b"a".to_vec(), encode(&8u64));
        assert_eq!(st.typed::<u64>(b"a").unwrap(), Some(8));
        st.delete(b"a".to_vec());
        assert_eq!(st.get(b"a").unwrap(), None);
        st.put(b"missing".to_vec(), encode(&1u64));
        assert_eq!(st.typed::<u64>(b"missing").unwrap(), Some(1));
        assert_eq!(base.reads.get(), 2, "no storage read after the first of each key");

        // The change set holds the writes only, in key order; the cache never leaks into it.
        let changes = st.into_changes();
        assert_eq!(changes.keys().cloned().collect::<Vec<_>>(), vec![b"a".to_vec(), b"missing".to_vec()]);
        assert_eq!(changes[b"a".as_slice()], None);
    }

    #[test]
    fn a_value_that_does_not_decode_is_a_storage_fault() {
        let mut state = MemState::default();
        state.map.insert(b"k".to_vec(), vec![1, 2]);
        let st = Overlay::new(&state);
        assert!(st.typed::<u64>(b"k").is_err());
        assert_eq!(st.get(b"k").unwrap(), Some(vec![1, 2]), "the raw bytes are still readable");
    }
}
