//! Asset registry queries on a real node: assets registered by signed transactions, then read
//! back by id (with proofs), by every filter, page by page, near a point, and counted.

use std::collections::BTreeSet;
use std::time::Duration;

use depin_ledger::authstate::verify_proof;
use depin_node::testing::TestNode;
use depin_node::{AssetFilter, AssetView, Node, QueryError, TxStatus};
use depin_types::asset::compute::{Arch, ComputeCapacity};
use depin_types::asset::energy::EnergyCapacity;
use depin_types::asset::mining::{Algorithm, MiningCapacity};
use depin_types::asset::sensor::{SensorCapacity, SensorKind};
use depin_types::asset::storage::{Media, Redundancy, StorageCapacity};
use depin_types::asset::wireless::{Band, WirelessCapacity};
use depin_types::asset::{
    vendor_attestation_message, AssetClass, AssetDescriptor, AssetId, AssetMetadata, AssetStatus, AttestationTier,
    BondState, Capacity, EnergySource, Mobility, OwnerStatus, Registration, RegistryParams, StatusReason,
    VendorAttestation,
};
use depin_types::codec::encode;
use depin_types::geo::{haversine_km, Cell, LatLon};
use depin_types::registry_key as key;
use depin_types::{Address, Amount, Hash32, Scheme, SecretKey, TxBody, TxContent};

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

fn seeded(tag: u8, i: u32) -> SecretKey {
    let mut seed = [tag; 32];
    seed[..4].copy_from_slice(&i.to_be_bytes());
    SecretKey::from_seeds(Scheme::Ed25519, &seed).unwrap()
}

/// Submit `body` signed by `key` with `nonce`, wait for its block, and check it applied.
fn run(node: &Node, key: &SecretKey, nonce: u64, body: TxBody) {
    let tx = TxContent { chain_id: node.chain_id().to_string(), signer: key.public_key(), nonce, fee: Amount(0), body }
        .sign(key);
    let id = node.submit(tx).unwrap_or_else(|e| panic!("submission refused: {e}"));
    match rt().block_on(node.wait_committed(id, Duration::from_secs(20))).unwrap() {
        TxStatus::Committed { receipt, .. } => assert!(receipt.applied(), "{receipt:?}"),
        other => panic!("not committed: {other:?}"),
    }
}

/// Signers with their next nonce.
struct Signer {
    key: SecretKey,
    nonce: u64,
}

impl Signer {
    fn run(&mut self, node: &Node, body: TxBody) {
        run(node, &self.key, self.nonce, body);
        self.nonce += 1;
    }

    fn address(&self) -> Address {
        self.key.public_key().address()
    }
}

fn capacity(class: AssetClass) -> Capacity {
    match class {
        AssetClass::Wireless => Capacity::Wireless(WirelessCapacity { band: Band::LorawanEu868, range_m: 1_000 }),
        AssetClass::Compute => {
            Capacity::Compute(ComputeCapacity { cpu_cores: 8, memory_mib: 16_384, gpus: vec![], arch: Arch::X86_64 })
        }
        AssetClass::Storage => {
            Capacity::Storage(StorageCapacity { bytes: 1 << 40, media: Media::Ssd, redundancy: Redundancy::Mirror })
        }
        AssetClass::Energy => {
            Capacity::Energy(EnergyCapacity { source: EnergySource::Solar, peak_w: 5_000, storage_wh: 0 })
        }
        AssetClass::Sensor => {
            Capacity::Sensor(SensorCapacity { kinds: vec![SensorKind::Temperature], sample_period_ms: 1_000 })
        }
        AssetClass::Mining => {
            Capacity::Mining(MiningCapacity { algorithm: Algorithm::Sha256d, hashrate_hps: 1_000_000 })
        }
    }
}

/// Paris and around (a grid about 1 km apart) for 0..56, then Berlin (a line 1.1 km apart).
fn point(i: u32) -> LatLon {
    if i >= 56 {
        return LatLon::new(52.52 + f64::from(i - 56) * 0.01, 13.40).unwrap();
    }
    LatLon::new(48.80 + f64::from(i % 8) * 0.01, 2.30 + f64::from(i / 8) * 0.013).unwrap()
}

const RES: u8 = 12;

fn cell_of(i: u32) -> Cell {
    point(i).to_cell(RES).unwrap()
}

/// What the test registered, to compare queries with.
struct Fleet {
    t: TestNode,
    dev: Signer,
    alice: Signer,
    validator: Signer,
    vendor: SecretKey,
    manager: Address,
    /// Device keys by index.
    devices: Vec<SecretKey>,
}

impl Fleet {
    fn id(&self, i: usize) -> AssetId {
        AssetId::of(&self.devices[i].public_key())
    }
}

const N_DEV: u32 = 60; // 56 around Paris, 4 in Berlin (and alice's 6 in Berlin too)
const N_ALICE: u32 = 6;

/// Assets 0..60 owned by dev (class i % 6, every third one vendor-attested), 60..66 by alice.
/// Then: 0..10 managed by `manager`; 1, 2, 3 active; 4 re-located; 5 decommissioned.
fn fleet() -> Fleet {
    let t = TestNode::start();
    let node = t.node.clone();
    let chain = node.chain_id().to_string();
    let mut dev = Signer { key: SecretKey::from_seeds(t.dev_key.scheme(), t.dev_key.seeds()).unwrap(), nonce: 0 };
    let mut alice = Signer { key: seeded(1, 0), nonce: 0 };
    let mut validator = Signer { key: depin_node::read_node_key(&t.home, None).unwrap(), nonce: 0 };
    let vendor = seeded(2, 0);
    let manager = seeded(3, 0).public_key().address();
    let funds = Amount(10_000_000_000_000);
    dev.run(&node, TxBody::Transfer { to: alice.address(), amount: funds });
    dev.run(&node, TxBody::Transfer { to: validator.address(), amount: funds });
    validator.run(&node, TxBody::AddVendor { name: "acme".into(), key: vendor.public_key() });

    let params = RegistryParams::default();
    assert_eq!(params.location_resolution, RES);
    let devices: Vec<SecretKey> = (0..N_DEV + N_ALICE).map(|i| seeded(9, i)).collect();
    let registration = |i: u32, owner: &Address| {
        let class = AssetClass::ALL[(i % 6) as usize];
        let device = &devices[i as usize];
        let attestation = i.is_multiple_of(3).then(|| VendorAttestation {
            vendor: vendor.public_key(),
            signature: vendor.sign(&vendor_attestation_message(&chain, &device.public_key())),
        });
        let descriptor = AssetDescriptor {
            capacity: capacity(class),
            location: cell_of(i),
            mobility: Mobility::Fixed,
            energy: None,
            metadata: AssetMetadata { name: format!("asset {i}"), model: String::new() },
        };
        Registration::sign(&chain, owner, device, descriptor, params.bond(class), attestation)
    };
    for batch in [0..25, 25..50, 50..N_DEV] {
        let assets = batch.map(|i| registration(i, &dev.address())).collect();
        dev.run(&node, TxBody::RegisterAssets { assets });
    }
    let assets = (N_DEV..N_DEV + N_ALICE).map(|i| registration(i, &alice.address())).collect();
    alice.run(&node, TxBody::RegisterAssets { assets });

    let fleet_ids: Vec<AssetId> = devices.iter().map(|d| AssetId::of(&d.public_key())).collect();
    dev.run(&node, TxBody::SetManager { assets: fleet_ids[0..10].to_vec(), manager: Some(manager) });
    for asset in &fleet_ids[1..=3] {
        dev.run(&node, TxBody::SetAssetStatus { asset: *asset, status: OwnerStatus::Active });
    }
    dev.run(&node, TxBody::AssertLocation { asset: fleet_ids[4], location: cell_of(20), mobility: Mobility::Mobile });
    dev.run(&node, TxBody::DecommissionAsset { asset: fleet_ids[5] });
    Fleet { t, dev, alice, validator, vendor, manager, devices }
}

/// Every page of `filter` with page size `limit`: no duplicates, and each page's cursor leads on.
fn all_pages(node: &Node, filter: &AssetFilter, limit: usize) -> Vec<AssetView> {
    let mut out: Vec<AssetView> = Vec::new();
    let mut cursor = None;
    for _ in 0..10_000 {
        let page = node.assets(filter, cursor, limit).unwrap();
        assert!(page.assets.len() <= limit);
        out.extend(page.assets);
        match page.next_cursor {
            None => {
                let ids: BTreeSet<AssetId> = out.iter().map(|a| a.asset.id).collect();
                assert_eq!(ids.len(), out.len(), "a page repeated an asset");
                return out;
            }
            Some(c) => cursor = Some(hex_decode(&c)),
        }
    }
    panic!("pagination did not end");
}

fn hex_decode(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

fn ids(views: &[AssetView]) -> BTreeSet<AssetId> {
    views.iter().map(|a| a.asset.id).collect()
}

#[test]
fn registered_assets_read_back_by_id_filter_page_place_and_count() {
    let f = fleet();
    let node = &f.t.node;
    let all = all_pages(node, &AssetFilter::default(), 1_000);
    assert_eq!(all.len(), (N_DEV + N_ALICE) as usize);

    // One asset: every field, its did:key, bond, height and root, and a proof of its record.
    let id0 = f.id(0);
    let a = node.asset(&id0).unwrap().expect("asset 0");
    assert_eq!(a.asset.device_key, f.devices[0].public_key());
    assert_eq!(a.did, depin_crypto::did::did_key(&f.devices[0].public_key()));
    assert!(a.did.starts_with("did:key:z6Mk"), "{}", a.did);
    assert_eq!(a.asset.owner, f.dev.address());
    assert_eq!(a.asset.manager, Some(f.manager));
    assert_eq!(a.class, AssetClass::Wireless);
    assert_eq!(a.asset.location, cell_of(0));
    assert_eq!(a.asset.tier, AttestationTier::VendorAttested { vendor: f.vendor.public_key() });
    assert_eq!((a.asset.status, a.effective_status), (AssetStatus::Registered, AssetStatus::Registered));
    let bond = a.bond.clone().expect("bond");
    assert_eq!(bond.amount, RegistryParams::default().bond(AssetClass::Wireless));
    assert_eq!(bond.state, BondState::Locked);
    assert_eq!(a.state_root, node.chain().ledger().root_at(a.height).unwrap());
    let (pa, proof) = node.asset_with_proof(&id0).unwrap().unwrap();
    assert_eq!(proof.key, key::asset(&id0));
    assert_eq!(proof.value, Some(encode(&pa.asset)));
    verify_proof(&pa.state_root.0, &proof).expect("the proof verifies against the view's root");
    assert_eq!(node.asset(&AssetId(Hash32([7; 32]))).unwrap().map(|v| v.asset.id), None);
    assert!(node.asset_with_proof(&AssetId(Hash32([7; 32]))).unwrap().is_none());
    let five = node.asset(&f.id(5)).unwrap().unwrap();
    assert_eq!(five.effective_status, AssetStatus::Decommissioned);
    assert!(matches!(five.bond.unwrap().state, BondState::Unbonding { .. }));

    // Location history, page by page.
    let h = node.asset_locations(&f.id(4), None, 10).unwrap().unwrap();
    assert_eq!(h.locations.iter().map(|l| l.cell).collect::<Vec<_>>(), [cell_of(4), cell_of(20)]);
    assert!(h.next_cursor.is_none());
    let first = node.asset_locations(&f.id(4), None, 1).unwrap().unwrap();
    assert_eq!(first.locations[0].cell, cell_of(4));
    let second =
        node.asset_locations(&f.id(4), Some(hex_decode(first.next_cursor.as_ref().unwrap())), 1).unwrap().unwrap();
    assert_eq!(second.locations[0].cell, cell_of(20));
    assert!(second.next_cursor.is_none());
    assert!(node.asset_locations(&AssetId(Hash32([7; 32])), None, 10).unwrap().is_none());
    assert!(matches!(node.asset_locations(&f.id(4), Some(b"r/a/".to_vec()), 1), Err(QueryError::Cursor)));

    // Every filter, alone and combined, equals filtering the full list, for several page sizes.
    let paris = cell_of(27).parent(3).unwrap();
    let filters = [
        AssetFilter::default(),
        AssetFilter { owner: Some(f.dev.address()), ..Default::default() },
        AssetFilter { owner: Some(f.alice.address()), ..Default::default() },
        AssetFilter { manager: Some(f.manager), ..Default::default() },
        AssetFilter { vendor: Some(f.vendor.public_key().address()), ..Default::default() },
        AssetFilter { class: Some(AssetClass::Compute), ..Default::default() },
        AssetFilter { status: Some(AssetStatus::Active), ..Default::default() },
        AssetFilter { status: Some(AssetStatus::Decommissioned), ..Default::default() },
        AssetFilter { cell: Some(paris), ..Default::default() },
        AssetFilter { cell: Some(cell_of(7)), ..Default::default() },
        AssetFilter { cell: Some(paris), class: Some(AssetClass::Sensor), owner: Some(f.dev.address()), ..Default::default() },
        AssetFilter { owner: Some(f.alice.address()), class: Some(AssetClass::Wireless), ..Default::default() },
        AssetFilter { manager: Some(f.manager), status: Some(AssetStatus::Active), ..Default::default() },
        AssetFilter { vendor: Some(f.vendor.public_key().address()), cell: Some(paris), ..Default::default() },
    ];
    let expect = |filter: &AssetFilter| -> BTreeSet<AssetId> {
        all.iter()
            .filter(|v| {
                let a = &v.asset;
                filter.owner.is_none_or(|o| a.owner == o)
                    && filter.manager.is_none_or(|m| a.manager == Some(m))
                    && filter.vendor.is_none_or(|x| {
                        matches!(&a.tier, AttestationTier::VendorAttested { vendor } if vendor.address() == x)
                    })
                    && filter.class.is_none_or(|c| v.class == c)
                    && filter.status.is_none_or(|s| v.effective_status == s)
                    && filter.cell.is_none_or(|c| a.location.is_within(c))
            })
            .map(|v| v.asset.id)
            .collect()
    };
    for filter in &filters {
        let want = expect(filter);
        assert!(!want.is_empty() || filter.cell == Some(cell_of(7)), "{filter:?} selects something");
        for limit in [1, 3, 7, 1_000] {
            assert_eq!(ids(&all_pages(node, filter, limit)), want, "{filter:?} limit {limit}");
        }
    }
    assert_eq!(expect(&filters[1]).len(), N_DEV as usize);
    assert_eq!(expect(&filters[3]).len(), 10);
    assert_eq!(expect(&filters[6]).len(), 3);
    let berlin_ids: BTreeSet<AssetId> = (56..66).map(|i| f.id(i)).collect();
    assert!(expect(&filters[8]).len() > 10 && expect(&filters[8]).is_disjoint(&berlin_ids));
    assert_eq!(expect(&filters[9]), [f.id(7)].into(), "asset 7 alone in its leaf cell");

    // A selective filter over a broad index: pages stop after 10 × limit entries with a cursor.
    let sparse = AssetFilter { status: Some(AssetStatus::Active), cell: Some(paris), ..Default::default() };
    let page = node.assets(&sparse, None, 1).unwrap();
    assert!(page.next_cursor.is_some());
    assert_eq!(ids(&all_pages(node, &sparse, 1)), expect(&sparse));

    // Bad queries.
    assert!(matches!(node.assets(&AssetFilter::default(), None, 0), Err(QueryError::Limit { .. })));
    assert!(matches!(node.assets(&AssetFilter::default(), None, 1_001), Err(QueryError::Limit { .. })));
    let fine = point(0).to_cell(13).unwrap();
    let too_fine = AssetFilter { cell: Some(fine), ..Default::default() };
    assert!(matches!(node.assets(&too_fine, None, 10), Err(QueryError::CellTooFine { resolution: 13, .. })));
    let by_owner = AssetFilter { owner: Some(f.dev.address()), ..Default::default() };
    let cursor = hex_decode(&node.assets(&by_owner, None, 2).unwrap().next_cursor.unwrap());
    assert!(matches!(node.assets(&AssetFilter::default(), Some(cursor.clone()), 2), Err(QueryError::Cursor)));
    assert!(matches!(node.assets(&by_owner, Some(b"zz".to_vec()), 2), Err(QueryError::Cursor)));
    let in_paris = AssetFilter { cell: Some(paris), ..Default::default() };
    let berlin = AssetFilter { cell: Some(cell_of(57).parent(3).unwrap()), ..Default::default() };
    let cursor = hex_decode(&node.assets(&in_paris, None, 2).unwrap().next_cursor.unwrap());
    assert!(matches!(node.assets(&berlin, Some(cursor), 2), Err(QueryError::Cursor)), "a cursor outside the cell range");

    // Near: exactly the assets whose cell centre is within the radius, nearest first.
    let centre = LatLon::new(48.83, 2.33).unwrap();
    for radius_km in [0.5, 2.0, 5.0, 50.0, 500.0] {
        let near = node.assets_near(centre, radius_km, &AssetFilter::default(), 1_000).unwrap();
        let want: BTreeSet<AssetId> = all
            .iter()
            .filter(|v| haversine_km(v.asset.location.center(), centre) <= radius_km)
            .map(|v| v.asset.id)
            .collect();
        assert_eq!(near.iter().map(|n| n.asset.asset.id).collect::<BTreeSet<_>>(), want, "{radius_km} km");
        assert!(near.windows(2).all(|w| w[0].distance_m <= w[1].distance_m), "sorted by distance");
        for n in &near {
            let d = haversine_km(n.asset.asset.location.center(), centre) * 1_000.0;
            assert!((d - n.distance_m as f64).abs() <= 0.5, "{d} vs {}", n.distance_m);
        }
    }
    let three = node.assets_near(centre, 50.0, &AssetFilter::default(), 3).unwrap();
    let all_near = node.assets_near(centre, 50.0, &AssetFilter::default(), 1_000).unwrap();
    assert_eq!(three.iter().map(|n| n.asset.asset.id).collect::<Vec<_>>(), all_near[..3].iter().map(|n| n.asset.asset.id).collect::<Vec<_>>());
    let compute = AssetFilter { class: Some(AssetClass::Compute), ..Default::default() };
    let near_compute = node.assets_near(centre, 50.0, &compute, 1_000).unwrap();
    assert!(!near_compute.is_empty() && near_compute.iter().all(|n| n.asset.class == AssetClass::Compute));
    assert_eq!(node.assets_near(LatLon::new(52.52, 13.40).unwrap(), 4.0, &AssetFilter::default(), 10).unwrap().len(), 4);
    for bad in [0.0, -1.0, 500.1, f64::NAN] {
        assert!(matches!(node.assets_near(centre, bad, &AssetFilter::default(), 10), Err(QueryError::Radius { .. })));
    }
    assert!(matches!(node.assets_near(centre, 1.0, &AssetFilter::default(), 0), Err(QueryError::Limit { .. })));

    // Statistics: the whole network from the counters, a cell by scanning; regions sum up.
    let stats = node.asset_stats(None, None).unwrap();
    assert_eq!(stats.n_assets, all.len() as u64);
    assert_eq!(stats.region_resolution, 4);
    for c in AssetClass::ALL {
        assert_eq!(stats.by_class[c.name()], all.iter().filter(|v| v.class == c).count() as u64, "{c:?}");
    }
    for s in AssetStatus::ALL {
        assert_eq!(stats.by_status[s.name()], all.iter().filter(|v| v.effective_status == s).count() as u64, "{s:?}");
    }
    assert_eq!(stats.by_region.iter().map(|r| r.n_assets).sum::<u64>(), stats.n_assets);
    let regions: BTreeSet<Cell> = all.iter().map(|v| v.asset.location.parent(4).unwrap()).collect();
    assert_eq!(stats.by_region.iter().map(|r| r.cell).collect::<BTreeSet<_>>(), regions);
    let in_cell = node.asset_stats(Some(paris), Some(7)).unwrap();
    assert_eq!(in_cell.n_assets, expect(&in_paris).len() as u64);
    assert_eq!(in_cell.by_class.values().sum::<u64>(), in_cell.n_assets);
    assert_eq!(in_cell.by_status.values().sum::<u64>(), in_cell.n_assets);
    assert!(in_cell.by_region.iter().all(|r| r.cell.resolution() == 7 && r.cell.is_within(paris)));
    assert_eq!(in_cell.by_region.iter().map(|r| r.n_assets).sum::<u64>(), in_cell.n_assets);
    assert_eq!(node.asset_stats(Some(paris), None).unwrap().region_resolution, 4);
    let leaf_region = cell_of(27).parent(6).unwrap();
    assert_eq!(node.asset_stats(Some(leaf_region), None).unwrap().region_resolution, 6, "the cell's own if finer");
    assert!(matches!(node.asset_stats(None, Some(13)), Err(QueryError::RegionResolution { .. })));
    assert!(matches!(node.asset_stats(Some(fine), None), Err(QueryError::CellTooFine { .. })));

    // Vendors and parameters.
    let vendors = node.vendors(None, 100).unwrap();
    assert_eq!(vendors.vendors.len(), 1);
    assert_eq!(vendors.vendors[0].name, "acme");
    assert!(!vendors.vendors[0].revoked);
    assert!(vendors.next_cursor.is_none());
    assert_eq!(node.registry_params().unwrap(), RegistryParams::default());
}

#[test]
fn assets_of_a_revoked_vendor_count_as_suspended_without_being_rewritten() {
    let mut f = fleet();
    let node = f.t.node.clone();
    let before = all_pages(&node, &AssetFilter::default(), 1_000);
    f.validator.run(&node, TxBody::RevokeVendor { key: f.vendor.public_key() });
    let after = all_pages(&node, &AssetFilter::default(), 1_000);
    assert_eq!(before.len(), after.len());
    for (b, a) in before.iter().zip(&after) {
        assert_eq!(a.asset, b.asset, "the stored record is not rewritten");
        let attested = matches!(a.asset.tier, AttestationTier::VendorAttested { .. });
        if attested && a.asset.status != AssetStatus::Decommissioned {
            assert_eq!((a.effective_status, a.effective_reason), (AssetStatus::Suspended, StatusReason::VendorRevoked));
        } else {
            assert_eq!((a.effective_status, a.effective_reason), (a.asset.status, a.asset.reason));
        }
    }
    // Asset 3 is active and attested: it now counts as suspended, everywhere.
    let three = node.asset(&f.id(3)).unwrap().unwrap();
    assert_eq!((three.asset.status, three.effective_status), (AssetStatus::Active, AssetStatus::Suspended));
    let suspended = AssetFilter { status: Some(AssetStatus::Suspended), ..Default::default() };
    let want: BTreeSet<AssetId> =
        after.iter().filter(|v| v.effective_status == AssetStatus::Suspended).map(|v| v.asset.id).collect();
    assert!(want.contains(&f.id(3)) && want.len() > 10);
    for limit in [1, 4, 1_000] {
        assert_eq!(ids(&all_pages(&node, &suspended, limit)), want);
    }
    let active = AssetFilter { status: Some(AssetStatus::Active), ..Default::default() };
    assert_eq!(ids(&all_pages(&node, &active, 2)), [f.id(1), f.id(2)].into());
    let stats = node.asset_stats(None, None).unwrap();
    assert_eq!(stats.by_status["suspended"], want.len() as u64);
    assert_eq!(stats.by_status["active"], 2);
    assert_eq!(stats.by_status.values().sum::<u64>(), stats.n_assets);
    let paris = cell_of(27).parent(3).unwrap();
    let in_paris = node.asset_stats(Some(paris), None).unwrap();
    let want_paris = after
        .iter()
        .filter(|v| v.effective_status == AssetStatus::Suspended && v.asset.location.is_within(paris))
        .count() as u64;
    assert_eq!(in_paris.by_status["suspended"], want_paris);
    let vendors = node.vendors(None, 10).unwrap();
    assert!(vendors.vendors[0].revoked);
}

#[test]
fn an_empty_registry_answers_empty_pages_and_zero_counts() {
    let t = TestNode::start();
    let page = t.node.assets(&AssetFilter::default(), None, 10).unwrap();
    assert!(page.assets.is_empty() && page.next_cursor.is_none());
    let stats = t.node.asset_stats(None, None).unwrap();
    assert_eq!(stats.n_assets, 0);
    assert!(stats.by_region.is_empty());
    assert!(stats.by_class.values().all(|n| *n == 0) && stats.by_class.len() == 6);
    assert!(stats.by_status.values().all(|n| *n == 0) && stats.by_status.len() == 4);
    assert!(t.node.vendors(None, 10).unwrap().vendors.is_empty());
    let near = t.node.assets_near(LatLon::new(0.0, 0.0).unwrap(), 500.0, &AssetFilter::default(), 10).unwrap();
    assert!(near.is_empty());
}
