//! Scenario tests of the asset registry: every transition and every rejection (rules R-1 to
//! R-12), with conservation (balances + bonds = supply) checked after every block.

use depin_state::{apply_txs, check_conservation, genesis_changes, BlockContext, MemState};
use depin_types::asset::{
    Asset, AssetDescriptor, AssetId, AssetMetadata, AssetStatus, AttestationTier, Bond, BondState, Capacity,
    EnergyProfile, EnergySource, LocationRecord, Mobility, OwnerStatus, Problem, Registration, RegistryParams,
    StatusReason, VendorAttestation, vendor_attestation_message,
};
use depin_types::genesis::GenesisValidator;
use depin_types::geo::{Cell, LatLon};
use depin_types::registry_key as key;
use depin_types::state_key::{account_key, Account};
use depin_types::{
    Address, Amount, Genesis, GenesisAccount, Params, Receipt, RejectReason, Scheme, SecretKey, Transaction, TxBody,
    TxContent, TxOutcome,
};

const CHAIN: &str = "depin-registry";
const VALIDATOR: u8 = 200;
const VENDOR: u8 = 150;
const FUNDS: u128 = 10_000_000_000;

fn key(i: u8) -> SecretKey {
    SecretKey::from_seeds(Scheme::Ed25519, &[i; 32]).unwrap()
}

fn device(i: u8) -> SecretKey {
    SecretKey::from_seeds(Scheme::Ed25519, &[i.wrapping_add(100); 32].map(|b| b ^ 0x5a)).unwrap()
}

fn addr(i: u8) -> Address {
    key(i).public_key().address()
}

fn params() -> RegistryParams {
    RegistryParams::default()
}

struct Chain {
    st: MemState,
    height: u64,
    nonces: std::collections::BTreeMap<u8, u64>,
}

impl Chain {
    fn new() -> Chain {
        let g = Genesis {
            telemetry: Default::default(),
            market: Default::default(),
            chain_id: CHAIN.into(),
            genesis_time_ms: 0,
            params: Params { min_fee: Amount(1), max_block_txs: 100 },
            validators: vec![GenesisValidator { name: "v".into(), public_key: key(VALIDATOR).public_key(), p2p: None }],
            accounts: [1, 2, 3, VALIDATOR, VENDOR]
                .into_iter()
                .map(|i| GenesisAccount { address: addr(i), balance: Amount(FUNDS) })
                .collect(),
        };
        let mut st = MemState::default();
        st.apply(&genesis_changes(&g).unwrap());
        Chain { st, height: 0, nonces: Default::default() }
    }

    /// Run one block of `(signer, body)` transactions; returns the receipts.
    fn block(&mut self, txs: Vec<(u8, TxBody)>) -> Vec<Receipt> {
        let txs: Vec<Transaction> = txs
            .into_iter()
            .map(|(signer, body)| {
                let nonce = self.nonces.entry(signer).or_default();
                let tx = TxContent { chain_id: CHAIN.into(), signer: key(signer).public_key(), nonce: *nonce, fee: Amount(1), body }
                    .sign(&key(signer));
                *nonce += 1;
                tx
            })
            .collect();
        let verdicts: Vec<_> = txs.iter().map(Transaction::verdict).collect();
        self.height += 1;
        let out = apply_txs(&self.st, &BlockContext { height: self.height, timestamp_ms: self.height }, &txs, &verdicts).unwrap();
        self.st.apply(&out.changes);
        check_conservation(&self.st).unwrap();
        // A rejected transaction used its nonce only if it was charged.
        for (tx, r) in txs.iter().zip(&out.receipts) {
            let charged = r.fee_paid > Amount::ZERO;
            if !charged {
                let signer = (0..=255u8).find(|i| key(*i).public_key() == tx.content.signer).unwrap();
                *self.nonces.get_mut(&signer).unwrap() -= 1;
            }
        }
        out.receipts
    }

    fn one(&mut self, signer: u8, body: TxBody) -> Receipt {
        self.block(vec![(signer, body)]).remove(0)
    }

    fn asset(&self, id: &AssetId) -> Option<Asset> {
        self.st.map.get(&key::asset(id)).map(|b| borsh::from_slice(b).unwrap())
    }

    fn bond(&self, id: &AssetId) -> Option<Bond> {
        self.st.map.get(&key::bond(id)).map(|b| borsh::from_slice(b).unwrap())
    }

    fn balance(&self, i: u8) -> Amount {
        self.st.map.get(&account_key(&addr(i))).map(|b| borsh::from_slice::<Account>(b).unwrap().balance).unwrap()
    }

    fn has(&self, k: &[u8]) -> bool {
        self.st.map.contains_key(k)
    }

    fn count(&self, k: &[u8]) -> u64 {
        self.st.map.get(k).map_or(0, |b| borsh::from_slice(b).unwrap())
    }
}

fn cell(lat: f64, lon: f64) -> Cell {
    LatLon::new(lat, lon).unwrap().to_cell(params().location_resolution).unwrap()
}

fn descriptor(class: &str, capacity: &str) -> AssetDescriptor {
    AssetDescriptor {
        capacity: Capacity::parse(depin_types::asset::AssetClass::parse(class).unwrap(), capacity).unwrap(),
        location: cell(52.5163, 13.3777),
        mobility: Mobility::Fixed,
        energy: Some(EnergyProfile { source: EnergySource::Grid, expected_draw_w: 15 }),
        metadata: AssetMetadata { name: "gate hotspot".into(), model: "rak-7268".into() },
    }
}

fn hotspot() -> AssetDescriptor {
    descriptor("wireless", "band=lorawan_eu868,range_m=3000")
}

fn min_bond(d: &AssetDescriptor) -> Amount {
    params().bond(d.capacity.class())
}

fn registration(owner: u8, dev: u8, d: AssetDescriptor) -> Registration {
    let bond = min_bond(&d);
    Registration::sign(CHAIN, &addr(owner), &device(dev), d, bond, None)
}

fn register(regs: Vec<Registration>) -> TxBody {
    TxBody::RegisterAssets { assets: regs }
}

fn reason(r: &Receipt) -> Option<&RejectReason> {
    match &r.outcome {
        TxOutcome::Applied => None,
        TxOutcome::Rejected { reason } => Some(reason),
    }
}

#[track_caller]
fn applied(r: &Receipt) {
    assert!(r.applied(), "{:?}", r.outcome);
}

fn id(dev: u8) -> AssetId {
    AssetId::of(&device(dev).public_key())
}

#[test]
fn registration_locks_the_bond_writes_the_indexes_and_keeps_the_location_history() {
    let mut c = Chain::new();
    let before = c.balance(1);
    applied(&c.one(1, register(vec![registration(1, 1, hotspot())])));
    let a = c.asset(&id(1)).expect("registered");
    assert_eq!((a.owner, a.status, a.reason, a.tier.clone()), (addr(1), AssetStatus::Registered, StatusReason::Registered, AttestationTier::SelfDeclared));
    let bond = min_bond(&hotspot());
    assert_eq!(c.bond(&id(1)), Some(Bond { owner: addr(1), amount: bond, state: BondState::Locked }));
    assert_eq!(c.balance(1), Amount(before.0 - bond.0 - 1), "bond and fee left the balance");
    assert!(c.has(&key::by_owner(&addr(1), &id(1))));
    assert!(c.has(&key::by_class(a.capacity.class(), &id(1))));
    assert!(c.has(&key::by_status(AssetStatus::Registered, &id(1))));
    assert!(c.has(&key::by_cell(a.location, &id(1))));
    assert_eq!(c.count(&key::class_count(a.capacity.class())), 1);
    assert_eq!(c.count(&key::status_count(AssetStatus::Registered)), 1);
    let first: LocationRecord = borsh::from_slice(&c.st.map[&key::location(&id(1), 0)]).unwrap();
    assert_eq!((first.cell, first.height), (a.location, 1));
}

#[test]
fn a_fleet_registers_in_one_transaction_all_or_nothing() {
    let mut c = Chain::new();
    let fleet: Vec<_> = (1..=64).map(|d| registration(2, d, hotspot())).collect();
    applied(&c.one(2, register(fleet)));
    assert_eq!(c.count(&key::status_count(AssetStatus::Registered)), 64);
    // 65 is over the limit; an empty batch is refused; a batch with one bad entry adds nothing.
    let too_many: Vec<_> = (70..=134).map(|d| registration(2, d, hotspot())).collect();
    assert_eq!(reason(&c.one(2, register(too_many))), Some(&RejectReason::BatchSize { max: 64 }));
    assert_eq!(reason(&c.one(2, register(vec![]))), Some(&RejectReason::BatchSize { max: 64 }));
    let mut bad = registration(2, 141, hotspot());
    bad.bond = Amount(1);
    let r = c.one(2, register(vec![registration(2, 140, hotspot()), bad]));
    assert_eq!(reason(&r), Some(&RejectReason::BondTooSmall { index: 1, minimum: min_bond(&hotspot()) }));
    assert!(c.asset(&id(140)).is_none(), "nothing of a rejected batch is written");
}

#[test]
fn rejects_bad_proofs_duplicates_invalid_capacity_wrong_resolution_and_unfunded_bonds() {
    let mut c = Chain::new();
    applied(&c.one(1, register(vec![registration(1, 1, hotspot())])));
    // Signed by the device for another owner: the proof does not cover this sender.
    let stolen = registration(2, 2, hotspot());
    assert_eq!(reason(&c.one(1, register(vec![stolen]))), Some(&RejectReason::BadPossessionProof { index: 0 }));
    // Signed by another key than the device's.
    let mut forged = registration(1, 3, hotspot());
    forged.possession = key(9).sign(b"not the possession message");
    assert_eq!(reason(&c.one(1, register(vec![forged]))), Some(&RejectReason::BadPossessionProof { index: 0 }));
    // The same device key again, by anyone.
    let again = registration(2, 1, hotspot());
    assert_eq!(reason(&c.one(2, register(vec![again]))), Some(&RejectReason::DeviceAlreadyRegistered { index: 0, asset: id(1) }));
    let twice = vec![registration(2, 4, hotspot()), registration(2, 4, hotspot())];
    assert_eq!(reason(&c.one(2, register(twice))), Some(&RejectReason::DeviceAlreadyRegistered { index: 1, asset: id(4) }));
    // A capacity out of range (built by hand: the parser refuses it too).
    let mut d = hotspot();
    if let Capacity::Wireless(w) = &mut d.capacity {
        w.range_m = 0;
    }
    let r = c.one(2, register(vec![registration(2, 5, d)]));
    assert_eq!(
        reason(&r),
        Some(&RejectReason::InvalidAsset { index: 0, problem: Problem::OutOfRange { field: "range_m".into(), min: 1, max: 50_000, got: 0 } })
    );
    // A location at another resolution.
    let mut d = hotspot();
    d.location = d.location.parent(8).unwrap();
    assert_eq!(reason(&c.one(2, register(vec![registration(2, 6, d)]))), Some(&RejectReason::LocationResolution { index: 0, expected: 12, got: 8 }));
    // A bond the owner cannot pay.
    let poor = 4u8;
    let _ = c.one(1, TxBody::Transfer { to: addr(poor), amount: Amount(1_000) });
    let r = c.one(poor, register(vec![registration(poor, 7, hotspot())]));
    assert!(matches!(reason(&r), Some(RejectReason::InsufficientFunds { .. })), "{r:?}");
    for dev in 2..=7 {
        assert!(c.asset(&id(dev)).is_none());
    }
}

#[test]
fn lifecycle_registered_active_suspended_active_decommissioned_then_the_bond_returns() {
    let mut c = Chain::new();
    applied(&c.one(1, register(vec![registration(1, 1, hotspot())])));
    applied(&c.one(1, TxBody::SetAssetStatus { asset: id(1), status: OwnerStatus::Active }));
    assert_eq!(c.asset(&id(1)).unwrap().status, AssetStatus::Active);
    let r = c.one(1, TxBody::SetAssetStatus { asset: id(1), status: OwnerStatus::Active });
    assert_eq!(reason(&r), Some(&RejectReason::InvalidTransition { asset: id(1), from: AssetStatus::Active, to: AssetStatus::Active }));
    applied(&c.one(1, TxBody::SetAssetStatus { asset: id(1), status: OwnerStatus::Suspended }));
    let a = c.asset(&id(1)).unwrap();
    assert_eq!((a.status, a.reason), (AssetStatus::Suspended, StatusReason::Maintenance));
    assert!(c.has(&key::by_status(AssetStatus::Suspended, &id(1))) && !c.has(&key::by_status(AssetStatus::Active, &id(1))));
    assert_eq!((c.count(&key::status_count(AssetStatus::Suspended)), c.count(&key::status_count(AssetStatus::Active))), (1, 0));
    applied(&c.one(1, TxBody::SetAssetStatus { asset: id(1), status: OwnerStatus::Active }));

    let before = c.balance(1);
    applied(&c.one(1, TxBody::DecommissionAsset { asset: id(1) }));
    let decommissioned_at = c.height;
    let release = decommissioned_at + params().unbonding_blocks;
    assert_eq!(c.asset(&id(1)).unwrap().status, AssetStatus::Decommissioned);
    assert_eq!(c.bond(&id(1)).unwrap().state, BondState::Unbonding { release_height: release });
    // A decommissioned asset takes no further change.
    let r = c.one(1, TxBody::SetAssetStatus { asset: id(1), status: OwnerStatus::Active });
    assert_eq!(reason(&r), Some(&RejectReason::AssetDecommissioned { asset: id(1) }));
    // Empty blocks up to the release height: the bond comes back at its start.
    while c.height + 1 < release {
        c.block(vec![]);
        assert!(c.bond(&id(1)).is_some());
    }
    c.block(vec![]);
    assert_eq!(c.height, release);
    assert!(c.bond(&id(1)).is_none(), "released");
    assert_eq!(c.balance(1), Amount(before.0 - 2 + min_bond(&hotspot()).0), "bond back, two fees paid");
    assert!(!c.has(&key::unbond_queue(release)));
}

#[test]
fn owners_transfer_and_managers_may_update_but_never_transfer_or_decommission() {
    let mut c = Chain::new();
    applied(&c.one(1, register(vec![registration(1, 1, hotspot()), registration(1, 2, hotspot())])));
    // A stranger can do nothing.
    let r = c.one(3, TxBody::SetAssetStatus { asset: id(1), status: OwnerStatus::Active });
    assert_eq!(reason(&r), Some(&RejectReason::NotOwnerOrManager { asset: id(1) }));
    let r = c.one(3, TxBody::TransferAsset { asset: id(1), to: addr(3) });
    assert_eq!(reason(&r), Some(&RejectReason::NotOwnerOrManager { asset: id(1) }), "wrong owner");
    // The owner makes account 2 the manager of both.
    applied(&c.one(1, TxBody::SetManager { assets: vec![id(1), id(2)], manager: Some(addr(2)) }));
    assert!(c.has(&key::by_manager(&addr(2), &id(1))));
    // The manager updates metadata and status…
    let meta = AssetMetadata { name: "renamed".into(), model: "rak-7289".into() };
    applied(&c.one(2, TxBody::UpdateAsset { asset: id(1), capacity: None, energy: None, metadata: Some(meta.clone()) }));
    assert_eq!(c.asset(&id(1)).unwrap().metadata, meta);
    applied(&c.one(2, TxBody::SetAssetStatus { asset: id(1), status: OwnerStatus::Active }));
    // …but may not transfer, decommission or hand the asset to another manager.
    for body in [
        TxBody::TransferAsset { asset: id(1), to: addr(2) },
        TxBody::DecommissionAsset { asset: id(1) },
        TxBody::SetManager { assets: vec![id(1)], manager: Some(addr(3)) },
    ] {
        assert_eq!(reason(&c.one(2, body)), Some(&RejectReason::ManagerNotAllowed { asset: id(1) }));
    }
    // The owner transfers: the new owner has it, the manager is cleared, the bond follows.
    applied(&c.one(1, TxBody::TransferAsset { asset: id(1), to: addr(3) }));
    let a = c.asset(&id(1)).unwrap();
    assert_eq!((a.owner, a.manager), (addr(3), None));
    assert_eq!(c.bond(&id(1)).unwrap().owner, addr(3));
    assert!(c.has(&key::by_owner(&addr(3), &id(1))) && !c.has(&key::by_owner(&addr(1), &id(1))));
    assert!(!c.has(&key::by_manager(&addr(2), &id(1))));
    let r = c.one(1, TxBody::TransferAsset { asset: id(1), to: addr(1) });
    assert_eq!(reason(&r), Some(&RejectReason::NotOwnerOrManager { asset: id(1) }), "the old owner lost it");
    assert_eq!(reason(&c.one(3, TxBody::TransferAsset { asset: id(1), to: addr(3) })), Some(&RejectReason::SelfTransfer));
    let unknown = AssetId::of(&key(77).public_key());
    assert_eq!(reason(&c.one(3, TxBody::DecommissionAsset { asset: unknown })), Some(&RejectReason::UnknownAsset { asset: unknown }));
}

#[test]
fn updates_keep_the_class_and_validate_and_locations_cost_a_fee_and_keep_history() {
    let mut c = Chain::new();
    applied(&c.one(1, register(vec![registration(1, 1, hotspot())])));
    let compute = Capacity::parse(depin_types::asset::AssetClass::Compute, "cpu_cores=4,memory_mib=8192,arch=aarch64").unwrap();
    let r = c.one(1, TxBody::UpdateAsset { asset: id(1), capacity: Some(compute), energy: None, metadata: None });
    assert_eq!(reason(&r), Some(&RejectReason::ClassChange { asset: id(1) }));
    let wider = Capacity::parse(depin_types::asset::AssetClass::Wireless, "band=lorawan_eu868,range_m=8000").unwrap();
    applied(&c.one(1, TxBody::UpdateAsset { asset: id(1), capacity: Some(wider.clone()), energy: None, metadata: None }));
    assert_eq!(c.asset(&id(1)).unwrap().capacity, wider);
    let bad_energy = EnergyProfile { source: EnergySource::Solar, expected_draw_w: 20_000_000 };
    let r = c.one(1, TxBody::UpdateAsset { asset: id(1), capacity: None, energy: Some(bad_energy), metadata: None });
    assert!(matches!(reason(&r), Some(RejectReason::InvalidAsset { .. })), "{r:?}");

    let old = c.asset(&id(1)).unwrap().location;
    let new = cell(48.8584, 2.2945);
    let before = c.balance(1);
    applied(&c.one(1, TxBody::AssertLocation { asset: id(1), location: new, mobility: Mobility::Mobile }));
    assert_eq!(c.balance(1), Amount(before.0 - 1 - params().location_fee.0), "fee and location fee");
    let a = c.asset(&id(1)).unwrap();
    assert_eq!((a.location, a.mobility, a.n_locations), (new, Mobility::Mobile, 2));
    assert!(c.has(&key::by_cell(new, &id(1))) && !c.has(&key::by_cell(old, &id(1))));
    let second: LocationRecord = borsh::from_slice(&c.st.map[&key::location(&id(1), 1)]).unwrap();
    assert_eq!(second.cell, new);
    let coarse = new.parent(7).unwrap();
    let r = c.one(1, TxBody::AssertLocation { asset: id(1), location: coarse, mobility: Mobility::Fixed });
    assert_eq!(reason(&r), Some(&RejectReason::LocationResolution { index: 0, expected: 12, got: 7 }), "location out of range");
}

fn attested(owner: u8, dev: u8, vendor: u8) -> Registration {
    let device_key = device(dev).public_key();
    let signature = key(vendor).sign(&vendor_attestation_message(CHAIN, &device_key));
    let d = hotspot();
    let bond = min_bond(&d);
    Registration::sign(CHAIN, &addr(owner), &device(dev), d, bond, Some(VendorAttestation { vendor: key(vendor).public_key(), signature }))
}

#[test]
fn vendors_are_added_by_validators_attest_devices_and_revocations_suspend() {
    let mut c = Chain::new();
    // Only a validator adds vendors (until governance exists).
    let add = TxBody::AddVendor { name: "rakwireless".into(), key: key(VENDOR).public_key() };
    assert_eq!(reason(&c.one(1, add.clone())), Some(&RejectReason::NotPrivileged));
    assert_eq!(reason(&c.one(1, register(vec![attested(1, 1, VENDOR)]))), Some(&RejectReason::UnknownVendor { index: 0 }));
    applied(&c.one(VALIDATOR, add.clone()));
    assert_eq!(reason(&c.one(VALIDATOR, add)), Some(&RejectReason::VendorExists));

    applied(&c.one(1, register(vec![attested(1, 1, VENDOR), attested(1, 2, VENDOR)])));
    let a = c.asset(&id(1)).unwrap();
    assert_eq!(a.tier, AttestationTier::VendorAttested { vendor: key(VENDOR).public_key() });
    assert!(c.has(&key::by_vendor(&addr(VENDOR), &id(1))));
    // An attestation by someone else than the named vendor is a bad proof.
    let mut fake = attested(1, 3, VENDOR);
    fake.attestation.as_mut().unwrap().signature = key(9).sign(b"x");
    assert_eq!(reason(&c.one(1, register(vec![fake]))), Some(&RejectReason::BadPossessionProof { index: 0 }));

    // The vendor revokes device 1: it is suspended at once and its owner cannot lift that.
    applied(&c.one(1, TxBody::SetAssetStatus { asset: id(1), status: OwnerStatus::Active }));
    assert_eq!(reason(&c.one(3, TxBody::RevokeDevice { device_key: device(1).public_key() })), Some(&RejectReason::NotPrivileged));
    applied(&c.one(VENDOR, TxBody::RevokeDevice { device_key: device(1).public_key() }));
    let a = c.asset(&id(1)).unwrap();
    assert_eq!((a.status, a.reason), (AssetStatus::Suspended, StatusReason::DeviceRevoked));
    let r = c.one(1, TxBody::SetAssetStatus { asset: id(1), status: OwnerStatus::Active });
    assert_eq!(reason(&r), Some(&RejectReason::InvalidTransition { asset: id(1), from: AssetStatus::Suspended, to: AssetStatus::Active }));
    assert_eq!(reason(&c.one(VENDOR, TxBody::RevokeDevice { device_key: device(1).public_key() })), Some(&RejectReason::DeviceRevoked { index: 0 }));

    // A validator revokes the vendor: no new attestations, and its assets cannot be activated.
    assert_eq!(reason(&c.one(1, TxBody::RevokeVendor { key: key(VENDOR).public_key() })), Some(&RejectReason::NotPrivileged));
    applied(&c.one(VALIDATOR, TxBody::RevokeVendor { key: key(VENDOR).public_key() }));
    assert_eq!(reason(&c.one(1, register(vec![attested(1, 4, VENDOR)]))), Some(&RejectReason::VendorRevoked { index: 0 }), "revoked vendor");
    let r = c.one(1, TxBody::SetAssetStatus { asset: id(2), status: OwnerStatus::Active });
    assert_eq!(reason(&r), Some(&RejectReason::InvalidTransition { asset: id(2), from: AssetStatus::Registered, to: AssetStatus::Active }));
    // Self-declared registration still works for everyone.
    applied(&c.one(1, register(vec![registration(1, 5, hotspot())])));
}

#[test]
fn registry_parameters_are_set_by_a_validator_and_apply_to_later_registrations() {
    let mut c = Chain::new();
    let mut p = params();
    p.bonds[0] = Amount(p.bonds[0].0 * 3);
    assert_eq!(reason(&c.one(1, TxBody::SetRegistryParams { params: p.clone() })), Some(&RejectReason::NotPrivileged));
    applied(&c.one(VALIDATOR, TxBody::SetRegistryParams { params: p.clone() }));
    // A registration signed for the old bond is refused rather than charged more than agreed.
    let r = c.one(1, register(vec![registration(1, 1, hotspot())]));
    assert_eq!(reason(&r), Some(&RejectReason::BondTooSmall { index: 0, minimum: p.bonds[0] }));
    let mut reg = registration(1, 1, hotspot());
    reg.bond = p.bonds[0];
    applied(&c.one(1, register(vec![reg])));
    assert_eq!(c.bond(&id(1)).unwrap().amount, p.bonds[0]);
}
