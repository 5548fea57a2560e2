//! Execute asset registry bodies: registration with proof of possession and bond, lifecycle,
//! location, ownership, managers, vendors and bond release (rules ).
//!
//! Query indexes (by owner, class, status, H3 cell, vendor, manager) and counters are state
//! entries written here, so they are covered by the state root and rebuilt by any replay.

use depin_types::asset::{
    Asset, AssetDescriptor, AssetId, AssetMetadata, AssetStatus, AttestationTier, Bond, BondState, Capacity,
    EnergyProfile, LocationRecord, Mobility, OwnerStatus, Problem, Registration, RegistryParams, StatusReason, Vendor,
    MAX_ASSETS_PER_TX, MAX_NAME_LEN, MAX_REGISTRATIONS_PER_TX,
};
use depin_types::codec::encode;
use depin_types::registry_key as key;
use depin_types::state_key::ValidatorSet;
use depin_types::{Address, Amount, PublicKey, RejectReason};

use crate::accounts::burned;
use crate::overlay::{Overlay, StateRead, StorageFault};

type Outcome = Result<Result<(), RejectReason>, StorageFault>;

fn reject(r: RejectReason) -> Outcome {
    Ok(Err(r))
}

/// Block context the registry needs.
pub struct At {
    /// The sender.
    pub sender: Address,
    /// Block height.
    pub height: u64,
}

impl<R: StateRead + ?Sized> Overlay<'_, R> {
    fn registry_params(&self) -> Result<RegistryParams, StorageFault> {
        self.typed(depin_types::state_key::REGISTRY_PARAMS_KEY)?
            .ok_or_else(|| StorageFault("registry parameters missing: state has no genesis".into()))
    }

    /// An asset.
    pub fn asset(&self, id: &AssetId) -> Result<Option<Asset>, StorageFault> {
        self.typed(&key::asset(id))
    }

    fn vendor(&self, k: &PublicKey) -> Result<Option<Vendor>, StorageFault> {
        self.typed(&key::vendor(&k.address()))
    }

    fn bump(&mut self, counter: Vec<u8>, up: bool) -> Result<(), StorageFault> {
        let n: u64 = self.typed(&counter)?.unwrap_or(0);
        let n = if up { n + 1 } else { n.checked_sub(1).expect("invariant: counters count existing assets") };
        self.put(counter, encode(&n));
        Ok(())
    }

    /// Write `asset` and keep its indexes and counters in step with `before` (None: new).
    fn put_asset(&mut self, before: Option<&Asset>, asset: &Asset) -> Result<(), StorageFault> {
        let id = &asset.id;
        let entries = |a: &Asset| {
            let mut e = vec![
                key::by_owner(&a.owner, id),
                key::by_class(a.capacity.class(), id),
                key::by_status(a.status, id),
                key::by_cell(a.location, id),
            ];
            if let Some(m) = &a.manager {
                e.push(key::by_manager(m, id));
            }
            if let AttestationTier::VendorAttested { vendor } = &a.tier {
                e.push(key::by_vendor(&vendor.address(), id));
            }
            e
        };
        let old = before.map(entries).unwrap_or_default();
        let new = entries(asset);
        for k in old.iter().filter(|k| !new.contains(k)) {
            self.delete(k.clone());
        }
        for k in new.iter().filter(|k| !old.contains(k)) {
            self.put(k.clone(), vec![1]);
        }
        match before {
            None => {
                self.bump(key::class_count(asset.capacity.class()), true)?;
                self.bump(key::status_count(asset.status), true)?;
            }
            Some(b) if b.status != asset.status => {
                self.bump(key::status_count(b.status), false)?;
                self.bump(key::status_count(asset.status), true)?;
            }
            Some(_) => {}
        }
        self.put(key::asset(id), encode(asset));
        Ok(())
    }
}

fn sender_is_validator<R: StateRead + ?Sized>(st: &Overlay<'_, R>, sender: &Address) -> Result<bool, StorageFault> {
    let v: ValidatorSet = st.validators()?;
    Ok(v.keys.iter().any(|k| &k.address() == sender))
}

/// Rule: register a batch, all or nothing. `bad_proof` is the edge's verdict: the
/// index of the first registration whose proof of possession or vendor attestation does not
/// verify (see `Transaction::verdict`).
pub fn register<R: StateRead + ?Sized>(
    st: &mut Overlay<'_, R>,
    at: &At,
    regs: &[Registration],
    bad_proof: Option<u32>,
) -> Outcome {
    if regs.is_empty() || regs.len() > MAX_REGISTRATIONS_PER_TX {
        return reject(RejectReason::BatchSize { max: MAX_REGISTRATIONS_PER_TX as u32 }); // rule R-4
    }
    let params = st.registry_params()?;
    let mut total = Amount::ZERO;
    for (i, r) in regs.iter().enumerate() {
        let index = i as u32;
        if bad_proof == Some(index) {
            return reject(RejectReason::BadPossessionProof { index }); // rules
        }
        if let Err(problem) = check_descriptor(&r.descriptor) {
            return reject(RejectReason::InvalidAsset { index, problem }); // rule R-2
        }
        if r.descriptor.location.resolution() != params.location_resolution {
            return reject(RejectReason::LocationResolution {
                index,
                expected: params.location_resolution,
                got: r.descriptor.location.resolution(),
            }); // rule R-5
        }
        let id = AssetId::of(&r.device_key);
        if st.asset(&id)?.is_some() || regs[..i].iter().any(|o| o.device_key == r.device_key) {
            return reject(RejectReason::DeviceAlreadyRegistered { index, asset: id }); // rule R-1
        }
        if let Some(a) = &r.attestation {
            match st.vendor(&a.vendor)? {
                None => return reject(RejectReason::UnknownVendor { index }), // rule R-3
                Some(v) if v.revoked => return reject(RejectReason::VendorRevoked { index }),
                Some(_) => {}
            }
            if st.typed::<u64>(&key::revoked_device(&r.device_key.address()))?.is_some() {
                return reject(RejectReason::DeviceRevoked { index });
            }
        }
        let minimum = params.bond(r.descriptor.capacity.class());
        if r.bond < minimum {
            return reject(RejectReason::BondTooSmall { index, minimum }); // rule R-6
        }
        let Some(sum) = total.checked_add(r.bond) else {
            return reject(RejectReason::BalanceOverflow);
        };
        total = sum;
    }
    let mut owner = st.account(&at.sender)?;
    let Some(balance) = owner.balance.checked_sub(total) else {
        return reject(RejectReason::InsufficientFunds { balance: owner.balance, amount: total }); // rule R-6
    };
    owner.balance = balance;
    st.set_account(&at.sender, &owner);
    for r in regs {
        let id = AssetId::of(&r.device_key);
        let d = &r.descriptor;
        let asset = Asset {
            id,
            device_key: r.device_key.clone(),
            owner: at.sender,
            manager: None,
            capacity: d.capacity.clone(),
            location: d.location,
            n_locations: 1,
            mobility: d.mobility,
            energy: d.energy,
            metadata: d.metadata.clone(),
            tier: match &r.attestation {
                None => AttestationTier::SelfDeclared,
                Some(a) => AttestationTier::VendorAttested { vendor: a.vendor.clone() },
            },
            status: AssetStatus::Registered,
            reason: StatusReason::Registered,
            status_height: at.height,
            registered_height: at.height,
        };
        st.put_asset(None, &asset)?;
        st.put(key::location(&id, 0), encode(&LocationRecord { cell: d.location, height: at.height }));
        st.put(key::bond(&id), encode(&Bond { owner: at.sender, amount: r.bond, state: BondState::Locked }));
    }
    Ok(Ok(()))
}

fn check_descriptor(d: &AssetDescriptor) -> Result<(), Problem> {
    d.capacity.validate()?;
    d.metadata.validate()?;
    if let Some(e) = &d.energy {
        check_energy(e)?;
    }
    Ok(())
}

fn check_energy(e: &EnergyProfile) -> Result<(), Problem> {
    Problem::range("expected_draw_w", e.expected_draw_w.into(), 0, 10_000_000)
}

/// Load an asset that `sender` may act on: its owner, or (when `manager_ok`) its manager
/// (rule R-9). A decommissioned asset takes no further change.
fn load<R: StateRead + ?Sized>(
    st: &Overlay<'_, R>,
    sender: &Address,
    id: &AssetId,
    manager_ok: bool,
) -> Result<Result<Asset, RejectReason>, StorageFault> {
    let Some(a) = st.asset(id)? else { return Ok(Err(RejectReason::UnknownAsset { asset: *id })) };
    let is_owner = &a.owner == sender;
    let is_manager = a.manager.as_ref() == Some(sender);
    if !is_owner && (!manager_ok || !is_manager) {
        // A manager asking for an owner-only change gets its own reason.
        return Ok(Err(if is_manager {
            RejectReason::ManagerNotAllowed { asset: *id }
        } else {
            RejectReason::NotOwnerOrManager { asset: *id }
        }));
    }
    if a.status == AssetStatus::Decommissioned {
        return Ok(Err(RejectReason::AssetDecommissioned { asset: *id }));
    }
    Ok(Ok(a))
}

macro_rules! loaded {
    ($e:expr) => {
        match $e? {
            Ok(a) => a,
            Err(r) => return reject(r),
        }
    };
}

/// Rule R-7: owner or manager updates capacity (same class), energy profile or metadata.
pub fn update<R: StateRead + ?Sized>(
    st: &mut Overlay<'_, R>,
    at: &At,
    id: &AssetId,
    capacity: Option<&Capacity>,
    energy: Option<&EnergyProfile>,
    metadata: Option<&AssetMetadata>,
) -> Outcome {
    let before = loaded!(load(st, &at.sender, id, true));
    let mut a = before.clone();
    if let Some(c) = capacity {
        if c.class() != a.capacity.class() {
            return reject(RejectReason::ClassChange { asset: *id });
        }
        if let Err(problem) = c.validate() {
            return reject(RejectReason::InvalidAsset { index: 0, problem });
        }
        a.capacity = c.clone();
    }
    if let Some(e) = energy {
        if let Err(problem) = check_energy(e) {
            return reject(RejectReason::InvalidAsset { index: 0, problem });
        }
        a.energy = Some(*e);
    }
    if let Some(m) = metadata {
        if let Err(problem) = m.validate() {
            return reject(RejectReason::InvalidAsset { index: 0, problem });
        }
        a.metadata = m.clone();
    }
    st.put_asset(Some(&before), &a)?;
    Ok(Ok(()))
}

/// Rule R-5: re-assert a location for the location fee (burned), keeping the history.
pub fn assert_location<R: StateRead + ?Sized>(
    st: &mut Overlay<'_, R>,
    at: &At,
    id: &AssetId,
    cell: depin_types::geo::Cell,
    mobility: Mobility,
) -> Outcome {
    let before = loaded!(load(st, &at.sender, id, true));
    let params = st.registry_params()?;
    if cell.resolution() != params.location_resolution {
        return reject(RejectReason::LocationResolution { index: 0, expected: params.location_resolution, got: cell.resolution() });
    }
    let mut payer = st.account(&at.sender)?;
    let Some(balance) = payer.balance.checked_sub(params.location_fee) else {
        return reject(RejectReason::InsufficientFunds { balance: payer.balance, amount: params.location_fee });
    };
    payer.balance = balance;
    st.set_account(&at.sender, &payer);
    let supply = st.supply()?;
    st.set_supply(&burned(supply, params.location_fee));
    let mut a = before.clone();
    st.put(key::location(id, a.n_locations), encode(&LocationRecord { cell, height: at.height }));
    a.location = cell;
    a.mobility = mobility;
    a.n_locations += 1;
    st.put_asset(Some(&before), &a)?;
    Ok(Ok(()))
}

/// Rule R-9: only the owner transfers; the manager is cleared and the bond stays with the asset.
pub fn transfer<R: StateRead + ?Sized>(st: &mut Overlay<'_, R>, at: &At, id: &AssetId, to: &Address) -> Outcome {
    let before = loaded!(load(st, &at.sender, id, false));
    if to == &before.owner {
        return reject(RejectReason::SelfTransfer);
    }
    let mut a = before.clone();
    a.owner = *to;
    a.manager = None;
    st.put_asset(Some(&before), &a)?;
    if let Some(mut bond) = st.typed::<Bond>(&key::bond(id))? {
        bond.owner = *to;
        st.put(key::bond(id), encode(&bond));
    }
    Ok(Ok(()))
}

/// Rule R-9: the owner sets or clears the manager of up to [`MAX_ASSETS_PER_TX`] assets.
pub fn set_manager<R: StateRead + ?Sized>(
    st: &mut Overlay<'_, R>,
    at: &At,
    ids: &[AssetId],
    manager: Option<&Address>,
) -> Outcome {
    if ids.is_empty() || ids.len() > MAX_ASSETS_PER_TX {
        return reject(RejectReason::BatchSize { max: MAX_ASSETS_PER_TX as u32 });
    }
    let mut loaded = Vec::with_capacity(ids.len());
    for id in ids {
        loaded.push(loaded!(load(st, &at.sender, id, false)));
    }
    for before in loaded {
        let mut a = before.clone();
        a.manager = manager.copied();
        st.put_asset(Some(&before), &a)?;
    }
    Ok(Ok(()))
}

/// Rule R-8: owner or manager puts an asset in service or takes it out for maintenance. A
/// suspension by a vendor's revocation is not the owner's to lift.
pub fn set_status<R: StateRead + ?Sized>(st: &mut Overlay<'_, R>, at: &At, id: &AssetId, to: OwnerStatus) -> Outcome {
    let before = loaded!(load(st, &at.sender, id, true));
    let revoked = matches!(before.reason, StatusReason::DeviceRevoked | StatusReason::VendorRevoked)
        || vendor_revoked(st, &before)?;
    let (status, reason) = match to {
        OwnerStatus::Active => (AssetStatus::Active, StatusReason::Activated),
        OwnerStatus::Suspended => (AssetStatus::Suspended, StatusReason::Maintenance),
    };
    if revoked && to == OwnerStatus::Active {
        return reject(RejectReason::InvalidTransition { asset: *id, from: before.status, to: status });
    }
    if before.status == status {
        return reject(RejectReason::InvalidTransition { asset: *id, from: before.status, to: status });
    }
    let mut a = before.clone();
    a.status = status;
    a.reason = reason;
    a.status_height = at.height;
    st.put_asset(Some(&before), &a)?;
    Ok(Ok(()))
}

fn vendor_revoked<R: StateRead + ?Sized>(st: &Overlay<'_, R>, a: &Asset) -> Result<bool, StorageFault> {
    Ok(match &a.tier {
        AttestationTier::VendorAttested { vendor } => st.vendor(vendor)?.is_none_or(|v| v.revoked),
        AttestationTier::SelfDeclared => false,
    })
}

/// Rule R-10: the owner retires an asset; its bond unbonds and returns after the period.
pub fn decommission<R: StateRead + ?Sized>(st: &mut Overlay<'_, R>, at: &At, id: &AssetId) -> Outcome {
    let before = loaded!(load(st, &at.sender, id, false));
    let params = st.registry_params()?;
    let mut a = before.clone();
    a.status = AssetStatus::Decommissioned;
    a.reason = StatusReason::Decommissioned;
    a.status_height = at.height;
    st.put_asset(Some(&before), &a)?;
    let release_height = at.height + params.unbonding_blocks.max(1);
    if let Some(mut bond) = st.typed::<Bond>(&key::bond(id))? {
        bond.state = BondState::Unbonding { release_height };
        st.put(key::bond(id), encode(&bond));
        let mut queue: Vec<AssetId> = st.typed(&key::unbond_queue(release_height))?.unwrap_or_default();
        queue.push(*id);
        st.put(key::unbond_queue(release_height), encode(&queue));
    }
    Ok(Ok(()))
}

/// Rule R-10: at the start of each block, bonds whose unbonding ends here return to their owner.
pub fn release_bonds<R: StateRead + ?Sized>(st: &mut Overlay<'_, R>, height: u64) -> Result<(), StorageFault> {
    let Some(queue) = st.typed::<Vec<AssetId>>(&key::unbond_queue(height))? else { return Ok(()) };
    for id in queue {
        let bond: Bond = st.typed(&key::bond(&id))?.ok_or_else(|| StorageFault(format!("bond of {id} missing")))?;
        let mut owner = st.account(&bond.owner)?;
        owner.balance = owner.balance.checked_add(bond.amount).expect("invariant: a bond came out of balances");
        st.set_account(&bond.owner, &owner);
        st.delete(key::bond(&id));
    }
    st.delete(key::unbond_queue(height));
    Ok(())
}

/// Rule R-11: a validator (until governance exists) adds a device vendor.
pub fn add_vendor<R: StateRead + ?Sized>(st: &mut Overlay<'_, R>, at: &At, name: &str, k: &PublicKey) -> Outcome {
    if !sender_is_validator(st, &at.sender)? {
        return reject(RejectReason::NotPrivileged);
    }
    if name.is_empty() || name.len() > MAX_NAME_LEN || name.chars().any(char::is_control) {
        return reject(RejectReason::InvalidAsset {
            index: 0,
            problem: Problem::BadName { field: "vendor name".into(), max_len: MAX_NAME_LEN as u64 },
        });
    }
    if st.vendor(k)?.is_some() {
        return reject(RejectReason::VendorExists);
    }
    let v = Vendor { name: name.to_string(), key: k.clone(), revoked: false, added_height: at.height };
    st.put(key::vendor(&k.address()), encode(&v));
    Ok(Ok(()))
}

/// Rule R-11: a validator revokes a vendor: its attestations no longer count and the assets it
/// attested count as suspended (`Asset::effective_status`, applied lazily: a vendor may have
/// attested more assets than one block can rewrite).
pub fn revoke_vendor<R: StateRead + ?Sized>(st: &mut Overlay<'_, R>, at: &At, k: &PublicKey) -> Outcome {
    if !sender_is_validator(st, &at.sender)? {
        return reject(RejectReason::NotPrivileged);
    }
    let Some(mut v) = st.vendor(k)? else { return reject(RejectReason::UnknownVendor { index: 0 }) };
    if v.revoked {
        return reject(RejectReason::VendorRevoked { index: 0 });
    }
    v.revoked = true;
    st.put(key::vendor(&k.address()), encode(&v));
    Ok(Ok(()))
}

/// Rule R-12: the vendor that attested a device key (or a validator) revokes it; the asset, if
/// registered, is suspended at once, and the key can never register as attested again.
pub fn revoke_device<R: StateRead + ?Sized>(st: &mut Overlay<'_, R>, at: &At, device: &PublicKey) -> Outcome {
    let id = AssetId::of(device);
    let asset = st.asset(&id)?;
    let is_vendor = match asset.as_ref().map(|a| &a.tier) {
        Some(AttestationTier::VendorAttested { vendor }) => vendor.address() == at.sender,
        _ => st.typed::<Vendor>(&key::vendor(&at.sender))?.is_some_and(|v| !v.revoked),
    };
    if !is_vendor && !sender_is_validator(st, &at.sender)? {
        return reject(RejectReason::NotPrivileged);
    }
    let rk = key::revoked_device(&device.address());
    if st.typed::<u64>(&rk)?.is_some() {
        return reject(RejectReason::DeviceRevoked { index: 0 });
    }
    st.put(rk, encode(&at.height));
    if let Some(before) = asset
        && before.status != AssetStatus::Decommissioned
    {
        let mut a = before.clone();
        a.status = AssetStatus::Suspended;
        a.reason = StatusReason::DeviceRevoked;
        a.status_height = at.height;
        st.put_asset(Some(&before), &a)?;
    }
    Ok(Ok(()))
}

/// Rule R-11: a validator sets the registry parameters (until governance exists).
pub fn set_params<R: StateRead + ?Sized>(st: &mut Overlay<'_, R>, at: &At, params: &RegistryParams) -> Outcome {
    if !sender_is_validator(st, &at.sender)? {
        return reject(RejectReason::NotPrivileged);
    }
    if params.location_resolution > depin_types::geo::MAX_RESOLUTION {
        return reject(RejectReason::LocationResolution { index: 0, expected: depin_types::geo::MAX_RESOLUTION, got: params.location_resolution });
    }
    st.put(depin_types::state_key::REGISTRY_PARAMS_KEY.to_vec(), encode(params));
    Ok(Ok(()))
}
