//! Define physical assets: classes with typed capacity, device identities, locations, energy
//! profiles, bonds, vendors and the lifecycle (spec rules ).
//!
//! Each class is one module ([`wireless`], [`compute`], [`storage`], [`energy`], [`sensor`],
//! [`mining`]) that declares its capacity type, how it is validated and parsed from
//! `key=value` text, the telemetry metrics it reports and the resource units it sells; adding a
//! class is one module plus one variant in [`AssetClass`] and [`Capacity`].

use borsh::{BorshDeserialize, BorshSerialize};
use depin_crypto::{hash_domain, Address, Hash32, PublicKey, Scheme, Signature};
use depin_geo::Cell;
use serde::{Deserialize, Serialize};

use crate::amount::Amount;
use crate::codec::encode;

pub mod compute;
pub mod energy;
pub mod kv;
pub mod mining;
pub mod sensor;
pub mod storage;
pub mod wireless;

pub use kv::{Fields, Problem};

/// Domain of the asset id hash.
pub const ASSET_ID_DOMAIN: &str = "depin 2026 asset id v1";
/// Prefix of the message a device key signs to prove possession (rule R-1).
pub const SIGN_POSSESSION: &[u8] = b"depin/sign/asset-possession/v1";
/// Prefix of the message a vendor key signs to attest a device key (rule R-3).
pub const SIGN_VENDOR_ATTESTATION: &[u8] = b"depin/sign/vendor-attestation/v1";
/// Most registrations in one `RegisterAssets` transaction (fleet onboarding, rule R-4).
pub const MAX_REGISTRATIONS_PER_TX: usize = 64;
/// Most assets in one `SetManager` transaction.
pub const MAX_ASSETS_PER_TX: usize = 256;
/// Longest asset or vendor name, and model.
pub const MAX_NAME_LEN: usize = 64;

/// An asset class. The variant order is the encoding tag: append only.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, BorshSerialize, BorshDeserialize, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum AssetClass {
    /// Hotspots and radios.
    Wireless,
    /// CPU and GPU servers.
    Compute,
    /// Storage servers.
    Storage,
    /// Solar panels, turbines, batteries.
    Energy,
    /// Sensors.
    Sensor,
    /// Mining rigs.
    Mining,
}

impl AssetClass {
    /// Every class, in tag order.
    pub const ALL: [AssetClass; 6] = [
        AssetClass::Wireless,
        AssetClass::Compute,
        AssetClass::Storage,
        AssetClass::Energy,
        AssetClass::Sensor,
        AssetClass::Mining,
    ];

    /// The stable name.
    pub fn name(self) -> &'static str {
        match self {
            AssetClass::Wireless => "wireless",
            AssetClass::Compute => "compute",
            AssetClass::Storage => "storage",
            AssetClass::Energy => "energy",
            AssetClass::Sensor => "sensor",
            AssetClass::Mining => "mining",
        }
    }

    /// The class named `name`.
    pub fn parse(name: &str) -> Option<AssetClass> {
        AssetClass::ALL.into_iter().find(|c| c.name() == name)
    }

    /// The telemetry metrics assets of this class report.
    pub fn metrics(self) -> &'static [&'static str] {
        match self {
            AssetClass::Wireless => wireless::METRICS,
            AssetClass::Compute => compute::METRICS,
            AssetClass::Storage => storage::METRICS,
            AssetClass::Energy => energy::METRICS,
            AssetClass::Sensor => sensor::METRICS,
            AssetClass::Mining => mining::METRICS,
        }
    }

    /// The resource units assets of this class sell.
    pub fn units(self) -> &'static [ResourceUnit] {
        match self {
            AssetClass::Wireless => wireless::UNITS,
            AssetClass::Compute => compute::UNITS,
            AssetClass::Storage => storage::UNITS,
            AssetClass::Energy => energy::UNITS,
            AssetClass::Sensor => sensor::UNITS,
            AssetClass::Mining => mining::UNITS,
        }
    }

    /// The `key=value` keys of this class's capacity.
    pub fn capacity_keys(self) -> &'static str {
        match self {
            AssetClass::Wireless => "band, range_m",
            AssetClass::Compute => "cpu_cores, memory_mib, arch, gpu=MODEL:COUNT (repeatable)",
            AssetClass::Storage => "bytes, media, redundancy",
            AssetClass::Energy => "source, peak_w, storage_wh (optional)",
            AssetClass::Sensor => "kind (repeatable), sample_period_ms",
            AssetClass::Mining => "algorithm, hashrate_hps",
        }
    }
}

/// A unit of resource an asset sells (priced per unit in the market, a later module).
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResourceUnit {
    /// One vCPU for one epoch.
    VcpuEpoch,
    /// One GiB of memory for one epoch.
    MemoryGibEpoch,
    /// One GPU (of a model) for one epoch.
    GpuEpoch,
    /// One GB stored for one month.
    GbMonthStored,
    /// One GB served.
    GbServed,
    /// Coverage of one H3 cell for one epoch.
    CoverageCellEpoch,
    /// One kWh delivered.
    KwhDelivered,
    /// One kWh of storage capacity for one epoch.
    KwhStored,
    /// One sensor reading.
    Reading,
    /// One TH/s of hashrate for one epoch.
    HashrateThEpoch,
    /// One GB (10^9 bytes) stored for one epoch (the market reserves storage per epoch).
    GbEpochStored,
    /// One sensor data stream (one of its kinds) for one epoch.
    StreamEpoch,
}

/// A source of energy. The variant order is the encoding tag: append only.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EnergySource {
    /// Photovoltaic.
    Solar,
    /// Wind turbine.
    Wind,
    /// Hydro.
    Hydro,
    /// A battery (stores energy produced elsewhere).
    Battery,
    /// The grid.
    Grid,
}

/// Names of energy sources for `key=value` text.
pub const ENERGY_SOURCES: &[(&str, EnergySource)] = &[
    ("solar", EnergySource::Solar),
    ("wind", EnergySource::Wind),
    ("hydro", EnergySource::Hydro),
    ("battery", EnergySource::Battery),
    ("grid", EnergySource::Grid),
];

/// A class's typed capacity. The variant order (= [`AssetClass`] order) is the encoding tag.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Capacity {
    /// Wireless.
    Wireless(wireless::WirelessCapacity),
    /// Compute.
    Compute(compute::ComputeCapacity),
    /// Storage.
    Storage(storage::StorageCapacity),
    /// Energy.
    Energy(energy::EnergyCapacity),
    /// Sensor.
    Sensor(sensor::SensorCapacity),
    /// Mining.
    Mining(mining::MiningCapacity),
}

impl Capacity {
    /// Its class.
    pub fn class(&self) -> AssetClass {
        match self {
            Capacity::Wireless(_) => AssetClass::Wireless,
            Capacity::Compute(_) => AssetClass::Compute,
            Capacity::Storage(_) => AssetClass::Storage,
            Capacity::Energy(_) => AssetClass::Energy,
            Capacity::Sensor(_) => AssetClass::Sensor,
            Capacity::Mining(_) => AssetClass::Mining,
        }
    }

    /// Rule R-2: every field in range.
    pub fn validate(&self) -> Result<(), Problem> {
        match self {
            Capacity::Wireless(c) => c.validate(),
            Capacity::Compute(c) => c.validate(),
            Capacity::Storage(c) => c.validate(),
            Capacity::Energy(c) => c.validate(),
            Capacity::Sensor(c) => c.validate(),
            Capacity::Mining(c) => c.validate(),
        }
    }

    /// Parse `key=value,…` for `class`, then validate.
    pub fn parse(class: AssetClass, text: &str) -> Result<Capacity, Problem> {
        let mut f = Fields::parse(text)?;
        let c = match class {
            AssetClass::Wireless => Capacity::Wireless(wireless::WirelessCapacity::from_fields(&mut f)?),
            AssetClass::Compute => Capacity::Compute(compute::ComputeCapacity::from_fields(&mut f)?),
            AssetClass::Storage => Capacity::Storage(storage::StorageCapacity::from_fields(&mut f)?),
            AssetClass::Energy => Capacity::Energy(energy::EnergyCapacity::from_fields(&mut f)?),
            AssetClass::Sensor => Capacity::Sensor(sensor::SensorCapacity::from_fields(&mut f)?),
            AssetClass::Mining => Capacity::Mining(mining::MiningCapacity::from_fields(&mut f)?),
        };
        f.finish(class.capacity_keys())?;
        c.validate()?;
        Ok(c)
    }
}

/// An asset's id: the hash of its device key (rule R-1), shown as hex; the device key is also
/// shown as a `did:key`.
#[derive(
    Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, BorshSerialize, BorshDeserialize, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct AssetId(pub Hash32);

impl AssetId {
    /// The id of the asset whose device key is `key`.
    pub fn of(key: &PublicKey) -> AssetId {
        AssetId(hash_domain(ASSET_ID_DOMAIN, &encode(key)))
    }
}

impl std::fmt::Display for AssetId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl std::fmt::Debug for AssetId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AssetId({})", self.0)
    }
}

impl std::str::FromStr for AssetId {
    type Err = depin_crypto::HashParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.parse().map(AssetId)
    }
}

/// Whether the asset moves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mobility {
    /// Installed at one place.
    Fixed,
    /// Moves (vehicles, trackers): its asserted cell is where it is based.
    Mobile,
}

/// What an asset draws, for assets that consume energy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnergyProfile {
    /// Where its power comes from.
    pub source: EnergySource,
    /// Expected average draw in watts, 0 to 10 MW.
    pub expected_draw_w: u32,
}

/// Free-form description an owner or manager may change.
#[derive(Clone, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssetMetadata {
    /// A name for people, 0 to 64 bytes of printable text.
    #[serde(default)]
    pub name: String,
    /// Make and model, 0 to 64 bytes of printable text.
    #[serde(default)]
    pub model: String,
}

impl AssetMetadata {
    /// Rule R-2: bounded printable text.
    pub fn validate(&self) -> Result<(), Problem> {
        for (field, v) in [("name", &self.name), ("model", &self.model)] {
            if v.len() > MAX_NAME_LEN || v.chars().any(char::is_control) {
                return Err(Problem::BadName { field: field.into(), max_len: MAX_NAME_LEN as u64 });
            }
        }
        Ok(())
    }
}

/// What an owner declares about an asset at registration.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssetDescriptor {
    /// Typed capacity (and so the class).
    pub capacity: Capacity,
    /// Asserted location, at the registry's resolution (rule R-5).
    pub location: Cell,
    /// Fixed or mobile.
    pub mobility: Mobility,
    /// Expected consumption, for assets that draw energy.
    #[serde(default)]
    pub energy: Option<EnergyProfile>,
    /// Name and model.
    #[serde(default)]
    pub metadata: AssetMetadata,
}

/// A vendor's signature over a device key (rule R-3).
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VendorAttestation {
    /// The vendor key (registered with `AddVendor`).
    pub vendor: PublicKey,
    /// Its signature over [`vendor_attestation_message`].
    pub signature: Signature,
}

/// One asset to register.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Registration {
    /// The device's own key (Ed25519 or hybrid), distinct from the owner's account key.
    pub device_key: PublicKey,
    /// What the owner declares.
    pub descriptor: AssetDescriptor,
    /// The bond the owner locks: at least the class's bond parameter (rule R-6). Stated in the
    /// signed transaction, so a parameter change can never lock more than the owner agreed to.
    pub bond: Amount,
    /// Proof of possession: the device key's signature over [`possession_message`].
    pub possession: Signature,
    /// A vendor attestation, for the vendor-attested tier.
    #[serde(default)]
    pub attestation: Option<VendorAttestation>,
}

/// The message a device key signs to prove possession at registration (rule R-1): the domain,
/// then the BLAKE3 hash of the encoded (chain id, owner, descriptor).
pub fn possession_message(chain_id: &str, owner: &Address, descriptor: &AssetDescriptor) -> Vec<u8> {
    let digest = hash_domain(ASSET_ID_DOMAIN, &encode(&(chain_id, owner, descriptor)));
    [SIGN_POSSESSION, digest.as_bytes()].concat()
}

/// The message a vendor signs to attest a device key (rule R-3).
pub fn vendor_attestation_message(chain_id: &str, device_key: &PublicKey) -> Vec<u8> {
    let digest = hash_domain(ASSET_ID_DOMAIN, &encode(&(chain_id, device_key)));
    [SIGN_VENDOR_ATTESTATION, digest.as_bytes()].concat()
}

impl Registration {
    /// Build a registration, signing the proof of possession with the device key.
    pub fn sign(
        chain_id: &str,
        owner: &Address,
        device: &depin_crypto::SecretKey,
        descriptor: AssetDescriptor,
        bond: Amount,
        attestation: Option<VendorAttestation>,
    ) -> Registration {
        let possession = device.sign(&possession_message(chain_id, owner, &descriptor));
        Registration { device_key: device.public_key(), descriptor, bond, possession, attestation }
    }

    /// True if the device key signed this registration for `owner` on `chain_id`.
    pub fn possession_ok(&self, chain_id: &str, owner: &Address) -> bool {
        matches!(self.device_key.scheme(), Scheme::Ed25519 | Scheme::Hybrid)
            && self.device_key.verify(&possession_message(chain_id, owner, &self.descriptor), &self.possession).is_ok()
    }

    /// True if the attestation (if any) is the vendor's signature over this device key.
    pub fn attestation_ok(&self, chain_id: &str) -> bool {
        match &self.attestation {
            None => true,
            Some(a) => a.vendor.verify(&vendor_attestation_message(chain_id, &self.device_key), &a.signature).is_ok(),
        }
    }
}

/// How much the registry trusts an asset's identity. Extensible: hardware attestation (TPM or
/// TEE quotes) will be a further tier once something checks it. Append only.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(tag = "tier", rename_all = "snake_case")]
pub enum AttestationTier {
    /// The owner's word, backed by the device key and the bond.
    SelfDeclared,
    /// A registered vendor signed the device key.
    VendorAttested {
        /// The vendor key.
        vendor: PublicKey,
    },
}

/// Where an asset is in its life. The variant order is the encoding tag: append only.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, BorshSerialize, BorshDeserialize, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum AssetStatus {
    /// On the ledger, not yet in service.
    Registered,
    /// In service.
    Active,
    /// Out of service for a reason; may come back.
    Suspended,
    /// Retired for good; its bond is unbonding or returned.
    Decommissioned,
}

impl AssetStatus {
    /// Every status, in tag order.
    pub const ALL: [AssetStatus; 4] =
        [AssetStatus::Registered, AssetStatus::Active, AssetStatus::Suspended, AssetStatus::Decommissioned];

    /// The stable name.
    pub fn name(self) -> &'static str {
        match self {
            AssetStatus::Registered => "registered",
            AssetStatus::Active => "active",
            AssetStatus::Suspended => "suspended",
            AssetStatus::Decommissioned => "decommissioned",
        }
    }

    /// The status named `name`.
    pub fn parse(name: &str) -> Option<AssetStatus> {
        AssetStatus::ALL.into_iter().find(|s| s.name() == name)
    }
}

/// Why an asset has its status. The variant order is the encoding tag: append only.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatusReason {
    /// Just registered.
    Registered,
    /// The owner or manager put it in service.
    Activated,
    /// The owner or manager took it out of service (maintenance).
    Maintenance,
    /// The vendor that attested it revoked its device key.
    DeviceRevoked,
    /// The vendor that attested it was revoked.
    VendorRevoked,
    /// The owner retired it.
    Decommissioned,
}

/// The status an owner or manager may set (rule R-8). Append only.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OwnerStatus {
    /// Put in service.
    Active,
    /// Take out of service for maintenance.
    Suspended,
}

/// A change of location.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct LocationRecord {
    /// The asserted cell.
    pub cell: Cell,
    /// The block that recorded it.
    pub height: u64,
}

/// An asset on the ledger (state key `r/a/<id>`).
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Asset {
    /// Its id.
    pub id: AssetId,
    /// Its device key.
    pub device_key: PublicKey,
    /// Owner account.
    pub owner: Address,
    /// An operator account that may update metadata and status (never transfer or withdraw).
    pub manager: Option<Address>,
    /// Capacity (and class).
    pub capacity: Capacity,
    /// The current asserted location.
    pub location: Cell,
    /// How many locations were asserted (history under `r/l/<id>/<n>`).
    pub n_locations: u32,
    /// Fixed or mobile.
    pub mobility: Mobility,
    /// Expected consumption.
    pub energy: Option<EnergyProfile>,
    /// Name and model.
    pub metadata: AssetMetadata,
    /// Identity tier.
    pub tier: AttestationTier,
    /// Status as last written (a revoked vendor also suspends it: [`Asset::effective_status`]).
    pub status: AssetStatus,
    /// Why.
    pub reason: StatusReason,
    /// Block of the last status change.
    pub status_height: u64,
    /// Block of registration.
    pub registered_height: u64,
}

/// A bond (state key `r/b/<asset id>`), kept apart from the asset so that a later enforcement
/// case can hold it.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Bond {
    /// Who locked it (and gets it back: the owner at decommissioning).
    pub owner: Address,
    /// Amount locked.
    pub amount: Amount,
    /// Locked, or unbonding until a height.
    pub state: BondState,
}

/// The state of a bond. Append only.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum BondState {
    /// Locked while the asset is registered.
    Locked,
    /// Returns to the owner at the start of block `release_height`.
    Unbonding {
        /// Release height.
        release_height: u64,
    },
}

/// A device vendor (state key `r/v/<vendor address>`).
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Vendor {
    /// A name for people.
    pub name: String,
    /// Its key.
    pub key: PublicKey,
    /// Revoked vendors attest nothing, and their assets count as suspended.
    pub revoked: bool,
    /// Block that added it.
    pub added_height: u64,
}

/// Registry parameters (state key `m/registry`), written at genesis with defaults and changed by
/// a privileged transaction until governance exists (rule R-11).
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistryParams {
    /// Bond per class, in [`AssetClass`] order.
    pub bonds: [Amount; 6],
    /// Resolution of asserted locations (0–15).
    pub location_resolution: u8,
    /// Fee for re-asserting a location, burned.
    pub location_fee: Amount,
    /// Blocks between decommissioning and the bond's return.
    pub unbonding_blocks: u64,
}

impl Default for RegistryParams {
    fn default() -> Self {
        let base = 1_000_000; // one whole token in base units
        RegistryParams {
            bonds: [10, 100, 100, 50, 5, 100].map(|n| Amount(n * base)),
            location_resolution: 12,
            location_fee: Amount(base / 10),
            unbonding_blocks: 1_000,
        }
    }
}

impl RegistryParams {
    /// The bond of `class`.
    pub fn bond(&self, class: AssetClass) -> Amount {
        self.bonds[class as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use depin_crypto::SecretKey;

    fn parse(class: &str, text: &str) -> Result<Capacity, Problem> {
        Capacity::parse(AssetClass::parse(class).unwrap(), text)
    }

    #[test]
    fn every_class_parses_and_validates_its_capacity() {
        let ok = [
            ("wireless", "band=lorawan_eu868,range_m=5000"),
            ("compute", "cpu_cores=32, memory_mib=131072, arch=x86_64, gpu=h100:8, gpu=a100:2"),
            ("storage", "bytes=100_000_000_000_000,media=hdd,redundancy=parity2"),
            ("energy", "source=solar,peak_w=5000,storage_wh=13500"),
            ("sensor", "kind=temperature,kind=humidity,sample_period_ms=60000"),
            ("mining", "algorithm=sha256d,hashrate_hps=200000000000000"),
        ];
        for (class, text) in ok {
            let c = parse(class, text).unwrap_or_else(|e| panic!("{class}: {e}"));
            assert_eq!(c.class().name(), class);
            let json = serde_json::to_string(&c).unwrap();
            assert_eq!(serde_json::from_str::<Capacity>(&json).unwrap(), c);
            assert!(!c.class().metrics().is_empty() && !c.class().units().is_empty());
        }
    }

    #[test]
    fn invalid_capacities_name_the_field_and_the_problem() {
        let cases = [
            ("wireless", "band=lorawan_eu868,range_m=0", "range_m is 0, outside 1..=50000"),
            ("wireless", "band=fm,range_m=10", "band: expected one of"),
            ("compute", "cpu_cores=8,memory_mib=1024,arch=x86_64,gpu=h100:0", "gpu count is 0"),
            ("compute", "cpu_cores=8,memory_mib=1024,arch=x86_64,gpu=H100:1", "gpu model must be"),
            ("compute", "cpu_cores=8,memory_mib=1024,arch=x86_64,gpu=h100:1,gpu=h100:2", "lists h100 twice"),
            ("compute", "cpu_cores=8,memory_mib=1024", "arch is required"),
            ("storage", "bytes=1000,media=ssd,redundancy=none", "bytes is 1000"),
            ("energy", "source=solar,peak_w=0", "peak_w is 0"),
            ("sensor", "sample_period_ms=1000", "kinds is 0"),
            ("mining", "algorithm=sha256d,hashrate_hps=5,colour=red", "unknown key colour"),
        ];
        for (class, text, expected) in cases {
            let e = parse(class, text).expect_err(text).to_string();
            assert!(e.contains(expected), "{class} {text}: {e}");
        }
    }

    #[test]
    fn possession_binds_chain_owner_and_descriptor() {
        let device = SecretKey::from_seeds(Scheme::Ed25519, &[5; 32]).unwrap();
        let owner = SecretKey::from_seeds(Scheme::Ed25519, &[6; 32]).unwrap().public_key().address();
        let other = SecretKey::from_seeds(Scheme::Ed25519, &[7; 32]).unwrap().public_key().address();
        let descriptor = AssetDescriptor {
            capacity: parse("sensor", "kind=noise,sample_period_ms=1000").unwrap(),
            location: Cell::parse("881f1d4887fffff").unwrap(),
            mobility: Mobility::Fixed,
            energy: None,
            metadata: AssetMetadata::default(),
        };
        let r = Registration::sign("c", &owner, &device, descriptor, Amount(1), None);
        assert!(r.possession_ok("c", &owner));
        assert!(!r.possession_ok("c", &other), "another owner");
        assert!(!r.possession_ok("d", &owner), "another chain");
        let mut changed = r.clone();
        changed.descriptor.mobility = Mobility::Mobile;
        assert!(!changed.possession_ok("c", &owner), "another descriptor");
        assert_eq!(AssetId::of(&r.device_key), AssetId::of(&device.public_key()));
    }
}
