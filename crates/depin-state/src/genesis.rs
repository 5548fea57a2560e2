//! Build the initial state from a genesis document (rules G-1 to G-5).

use depin_types::codec::encode;
use depin_types::state_key::{
    account_key, Account, Supply, ValidatorSet, CHAIN_ID_KEY, PARAMS_KEY, SUPPLY_KEY, VALIDATORS_KEY,
};
use depin_types::{Genesis, GenesisError};

use crate::overlay::ChangeSet;

/// The state changes that create the genesis state (applied at version 0).
pub fn genesis_changes(genesis: &Genesis) -> Result<ChangeSet, GenesisError> {
    genesis.validate()?; // rule G-1
    let mut changes = ChangeSet::new();
    let total = genesis.total_supply()?;
    changes.insert(CHAIN_ID_KEY.to_vec(), Some(encode(&genesis.chain_id)));
    changes.insert(PARAMS_KEY.to_vec(), Some(encode(&genesis.params))); // rule G-2
    let supply = Supply { total, genesis: total, ..Supply::default() };
    changes.insert(SUPPLY_KEY.to_vec(), Some(encode(&supply))); // rule G-3
    let mut keys: Vec<_> = genesis.validators.iter().map(|v| v.public_key.clone()).collect();
    keys.sort_by_key(|k| k.address());
    keys.dedup_by_key(|k| k.address());
    changes.insert(VALIDATORS_KEY.to_vec(), Some(encode(&ValidatorSet { keys }))); // rule G-4
    let registry = depin_types::asset::RegistryParams::default();
    changes.insert(depin_types::state_key::REGISTRY_PARAMS_KEY.to_vec(), Some(encode(&registry))); // rule G-5
    changes.insert(depin_types::state_key::TELEMETRY_PARAMS_KEY.to_vec(), Some(encode(&genesis.telemetry))); // rule G-6
    changes.insert(depin_types::market::MARKET_PARAMS_KEY.to_vec(), Some(encode(&genesis.market))); // rule G-7
    for a in &genesis.accounts {
        let account = Account { balance: a.balance, nonce: 0 };
        changes.insert(account_key(&a.address), Some(encode(&account)));
    }
    Ok(changes)
}
