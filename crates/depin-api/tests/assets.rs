//! Exercise the asset registry routes through the router against a real test node: register
//! assets with signed transactions over `POST /api/v1/txs`, then read them back by every route,
//! filter, page and proof, check each response against the OpenAPI document, and every 4xx.

use std::collections::BTreeSet;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use depin_api::{router, ApiLimits};
use depin_crypto::{Address, Hash32, Scheme, SecretKey};
use depin_ledger::authstate::{verify_proof, StateProof};
use depin_node::testing::TestNode;
use depin_types::asset::compute::{Arch, ComputeCapacity, Gpus};
use depin_types::asset::energy::EnergyCapacity;
use depin_types::asset::mining::{Algorithm, MiningCapacity};
use depin_types::asset::sensor::{SensorCapacity, SensorKind};
use depin_types::asset::storage::{Media, Redundancy, StorageCapacity};
use depin_types::asset::wireless::{Band, WirelessCapacity};
use depin_types::asset::{
    vendor_attestation_message, AssetClass, AssetDescriptor, AssetId, AssetMetadata, AssetStatus, Capacity,
    EnergyProfile, EnergySource, Mobility, OwnerStatus, Registration, RegistryParams, StatusReason, VendorAttestation,
};
use depin_types::geo::{haversine_km, Cell, LatLon};
use depin_types::{Amount, TxBody, TxContent};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

mod common;
use common::{assert_conforms, Resp};

async fn call(app: &Router, method: Method, uri: &str, body: Option<&Value>) -> Resp {
    let mut req = Request::builder().method(method).uri(uri);
    let body = match body {
        Some(v) => {
            req = req.header(header::CONTENT_TYPE, "application/json");
            Body::from(serde_json::to_vec(v).unwrap())
        }
        None => Body::empty(),
    };
    let resp = app.clone().oneshot(req.body(body).unwrap()).await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    Resp { status, headers, body }
}

async fn get(app: &Router, uri: &str) -> Resp {
    call(app, Method::GET, uri, None).await
}


// ---------------------------------------------------------------------------------------------
// A small fleet, registered through the API.
// ---------------------------------------------------------------------------------------------

fn seeded(tag: u8, i: u32) -> SecretKey {
    let mut seed = [tag; 32];
    seed[..4].copy_from_slice(&i.to_be_bytes());
    SecretKey::from_seeds(Scheme::Ed25519, &seed).unwrap()
}

struct Signer {
    key: SecretKey,
    nonce: u64,
}

impl Signer {
    fn address(&self) -> Address {
        self.key.public_key().address()
    }

    /// The JSON of the next transaction with `body`.
    fn tx(&mut self, chain_id: &str, body: TxBody) -> Value {
        let tx = TxContent { chain_id: chain_id.into(), signer: self.key.public_key(), nonce: self.nonce, fee: Amount(0), body }
            .sign(&self.key);
        self.nonce += 1;
        serde_json::to_value(tx).unwrap()
    }
}

/// Submit with `wait=true`; check the committed status against the schema and return its
/// receipt outcome.
async fn submit(app: &Router, doc: &Value, tx: &Value) -> Value {
    assert_conforms(doc, "Transaction", tx);
    let r = call(app, Method::POST, "/api/v1/txs?wait=true&timeout_ms=20000", Some(tx)).await;
    let v = r.ok();
    assert_eq!(v["status"], "committed", "{v}");
    assert_conforms(doc, "TxStatus", &v);
    v["receipt"]["outcome"].clone()
}

#[track_caller]
fn applied(outcome: &Value) {
    assert_eq!(outcome["status"], "applied", "{outcome}");
}

fn capacity(class: AssetClass, i: u32) -> Capacity {
    match class {
        AssetClass::Wireless => Capacity::Wireless(WirelessCapacity { band: Band::Wifi2g4, range_m: 100 + i }),
        AssetClass::Compute => Capacity::Compute(ComputeCapacity {
            cpu_cores: 64,
            memory_mib: 262_144,
            gpus: vec![Gpus { model: "h100".into(), count: 8 }],
            arch: Arch::X86_64,
        }),
        AssetClass::Storage => {
            Capacity::Storage(StorageCapacity { bytes: 1 << 44, media: Media::Nvme, redundancy: Redundancy::ErasureCoded })
        }
        AssetClass::Energy => {
            Capacity::Energy(EnergyCapacity { source: EnergySource::Battery, peak_w: 10_000, storage_wh: 13_500 })
        }
        AssetClass::Sensor => Capacity::Sensor(SensorCapacity {
            kinds: vec![SensorKind::ParticulateMatter, SensorKind::Gnss],
            sample_period_ms: 60_000,
        }),
        AssetClass::Mining => {
            Capacity::Mining(MiningCapacity { algorithm: Algorithm::Kheavyhash, hashrate_hps: 1_000_000_000_000 })
        }
    }
}

fn point(i: u32) -> LatLon {
    LatLon::new(48.80 + f64::from(i % 4) * 0.01, 2.30 + f64::from(i / 4) * 0.013).unwrap()
}

fn cell_of(i: u32) -> Cell {
    point(i).to_cell(RegistryParams::default().location_resolution).unwrap()
}

const N_DEV: u32 = 12;
const N_ALICE: u32 = 3;

struct Fleet {
    t: TestNode,
    app: Router,
    doc: Value,
    dev: Signer,
    alice: Signer,
    validator: Signer,
    vendor: SecretKey,
    manager: Address,
    devices: Vec<SecretKey>,
}

impl Fleet {
    fn id(&self, i: usize) -> AssetId {
        AssetId::of(&self.devices[i].public_key())
    }

    fn chain(&self) -> String {
        self.t.node.chain_id().to_string()
    }
}

/// Assets 0..12 owned by dev (class i % 6; i % 3 == 0 vendor-attested; 0 with an energy
/// profile), 12..15 by alice; 0 and 1 managed; 1 active; 2 re-located.
async fn fleet() -> Fleet {
    let t = TestNode::start();
    let app = router(t.node.clone(), ApiLimits::default());
    let doc = get(&app, "/api/v1/openapi.json").await.json();
    let chain = t.node.chain_id().to_string();
    let mut dev = Signer { key: SecretKey::from_seeds(t.dev_key.scheme(), t.dev_key.seeds()).unwrap(), nonce: 0 };
    let mut alice = Signer { key: seeded(1, 0), nonce: 0 };
    let mut validator = Signer { key: depin_node::read_node_key(&t.home, None).unwrap(), nonce: 0 };
    let vendor = seeded(2, 0);
    let manager = seeded(3, 0).public_key().address();
    let devices: Vec<SecretKey> = (0..N_DEV + N_ALICE).map(|i| seeded(9, i)).collect();

    let funds = Amount(1_000_000_000_000);
    for to in [alice.address(), validator.address()] {
        applied(&submit(&app, &doc, &dev.tx(&chain, TxBody::Transfer { to, amount: funds })).await);
    }
    let add = validator.tx(&chain, TxBody::AddVendor { name: "Acme Radios".into(), key: vendor.public_key() });
    applied(&submit(&app, &doc, &add).await);

    let params = RegistryParams::default();
    let registration = |i: u32, owner: &Address| {
        let class = AssetClass::ALL[(i % 6) as usize];
        let device = &devices[i as usize];
        let attestation = i.is_multiple_of(3).then(|| VendorAttestation {
            vendor: vendor.public_key(),
            signature: vendor.sign(&vendor_attestation_message(&chain, &device.public_key())),
        });
        let descriptor = AssetDescriptor {
            capacity: capacity(class, i),
            location: cell_of(i),
            mobility: Mobility::Fixed,
            energy: (i == 0).then_some(EnergyProfile { source: EnergySource::Grid, expected_draw_w: 12 }),
            metadata: AssetMetadata { name: format!("asset {i}"), model: "m1".into() },
        };
        Registration::sign(&chain, owner, device, descriptor, params.bond(class), attestation)
    };
    let assets = (0..N_DEV).map(|i| registration(i, &dev.address())).collect();
    applied(&submit(&app, &doc, &dev.tx(&chain, TxBody::RegisterAssets { assets })).await);
    let assets = (N_DEV..N_DEV + N_ALICE).map(|i| registration(i, &alice.address())).collect();
    applied(&submit(&app, &doc, &alice.tx(&chain, TxBody::RegisterAssets { assets })).await);
    let ids: Vec<AssetId> = devices.iter().map(|d| AssetId::of(&d.public_key())).collect();
    let bodies = [
        TxBody::SetManager { assets: ids[0..2].to_vec(), manager: Some(manager) },
        TxBody::SetAssetStatus { asset: ids[1], status: OwnerStatus::Active },
        TxBody::AssertLocation { asset: ids[2], location: cell_of(11), mobility: Mobility::Mobile },
    ];
    for body in bodies {
        applied(&submit(&app, &doc, &dev.tx(&chain, body)).await);
    }
    Fleet { t, app, doc, dev, alice, validator, vendor, manager, devices }
}

/// Every page of `uri` (which has a query string) with page size `limit`: checks each page
/// against the schema and that no asset comes twice; returns the asset ids in order.
async fn all_pages(f: &Fleet, uri: &str, limit: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..1_000 {
        let sep = if uri.contains('?') { '&' } else { '?' };
        let mut page_uri = format!("{uri}{sep}limit={limit}");
        if let Some(c) = &cursor {
            page_uri.push_str(&format!("&cursor={c}"));
        }
        let page = get(&f.app, &page_uri).await.ok();
        assert_conforms(&f.doc, "AssetPage", &page);
        let assets = page["assets"].as_array().unwrap();
        assert!(assets.len() <= limit);
        out.extend(assets.iter().map(|a| a["id"].as_str().unwrap().to_string()));
        match page.get("next_cursor") {
            None => {
                let unique: BTreeSet<&String> = out.iter().collect();
                assert_eq!(unique.len(), out.len(), "{uri}: an asset came twice");
                return out;
            }
            Some(c) => cursor = Some(c.as_str().unwrap().to_string()),
        }
    }
    panic!("{uri}: pagination did not end");
}

fn set(ids: &[String]) -> BTreeSet<String> {
    ids.iter().cloned().collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assets_read_back_through_every_route_and_match_the_openapi_document() {
    let f = fleet().await;
    let (app, doc) = (&f.app, &f.doc);

    // The full list.
    let all = get(app, "/api/v1/assets?limit=1000").await.ok();
    assert_conforms(doc, "AssetPage", &all);
    let all = all["assets"].as_array().unwrap().clone();
    assert_eq!(all.len(), (N_DEV + N_ALICE) as usize);
    assert!(all.iter().all(|a| a.get("distance_m").is_none() && a.get("proof").is_none()));

    // One asset, by id and by did:key.
    let id0 = f.id(0).to_string();
    let a = get(app, &format!("/api/v1/assets/{id0}")).await.ok();
    assert_conforms(doc, "AssetView", &a);
    assert_eq!(a["id"], id0);
    assert_eq!(a["did"], depin_crypto::did::did_key(&f.devices[0].public_key()));
    assert_eq!(a["owner"], f.dev.address().to_string());
    assert_eq!(a["manager"], f.manager.to_string());
    assert_eq!(a["class"], "wireless");
    assert_eq!(a["capacity"], json!({"wireless": {"band": "wifi2g4", "range_m": 100}}));
    assert_eq!(a["location"], cell_of(0).to_string());
    assert_eq!(a["energy"], json!({"source": "grid", "expected_draw_w": 12}));
    assert_eq!(a["tier"], json!({"tier": "vendor_attested", "vendor": serde_json::to_value(f.vendor.public_key()).unwrap()}));
    assert_eq!((a["status"].clone(), a["effective_status"].clone()), (json!("registered"), json!("registered")));
    let bond = RegistryParams::default().bond(AssetClass::Wireless);
    assert_eq!(a["bond"], json!({"owner": f.dev.address().to_string(), "amount": bond.to_string(), "state": {"state": "locked"}}));
    let by_did = get(app, &format!("/api/v1/assets/{}", a["did"].as_str().unwrap())).await.ok();
    assert_eq!(by_did, a);
    let one = get(app, &format!("/api/v1/assets/{}", f.id(1))).await.ok();
    assert_eq!((one["manager"].as_str(), one["status"].as_str()), (Some(f.manager.to_string().as_str()), Some("active")));
    let three = get(app, &format!("/api/v1/assets/{}", f.id(13))).await.ok();
    assert_conforms(doc, "AssetView", &three);
    assert_eq!((three["manager"].clone(), three["energy"].clone()), (Value::Null, Value::Null));
    assert_eq!(three["tier"], json!({"tier": "self_declared"}));
    for i in 0..6 {
        assert_conforms(doc, "AssetView", &get(app, &format!("/api/v1/assets/{}", f.id(i))).await.ok());
    }

    // With a proof of the record, verified against the returned root.
    let p = get(app, &format!("/api/v1/assets/{id0}?prove=true")).await.ok();
    assert_conforms(doc, "AssetView", &p);
    let root: Hash32 = p["state_root"].as_str().unwrap().parse().unwrap();
    let proof: StateProof = serde_json::from_value(p["proof"].clone()).unwrap();
    assert_eq!(proof.key, depin_types::registry_key::asset(&f.id(0)));
    let value = proof.value.as_ref().unwrap();
    let record: depin_types::asset::Asset = depin_types::codec::decode_bounded(value, value.len()).unwrap();
    assert_eq!(record.id, f.id(0));
    verify_proof(&root.0, &proof).expect("the served proof verifies against the served state root");
    assert!(get(app, &format!("/api/v1/assets/{id0}?prove=false")).await.ok().get("proof").is_none());

    // Unknown assets: 404.
    let unknown = get(app, &format!("/api/v1/assets/{}", "ab".repeat(32))).await;
    assert_conforms(doc, "Problem", &unknown.assert_problem(StatusCode::NOT_FOUND, "asset_not_found"));
    let stranger = depin_crypto::did::did_key(&seeded(7, 7).public_key());
    get(app, &format!("/api/v1/assets/{stranger}")).await.assert_problem(StatusCode::NOT_FOUND, "asset_not_found");
    get(app, &format!("/api/v1/assets/{stranger}/locations")).await.assert_problem(StatusCode::NOT_FOUND, "asset_not_found");

    // Location history.
    let h = get(app, &format!("/api/v1/assets/{}/locations", f.id(2))).await.ok();
    assert_conforms(doc, "LocationPage", &h);
    let cells: Vec<&str> = h["locations"].as_array().unwrap().iter().map(|l| l["cell"].as_str().unwrap()).collect();
    assert_eq!(cells, [cell_of(2).to_string(), cell_of(11).to_string()]);
    let first = get(app, &format!("/api/v1/assets/{}/locations?limit=1", f.id(2))).await.ok();
    assert_conforms(doc, "LocationPage", &first);
    let c = first["next_cursor"].as_str().unwrap();
    let did2 = depin_crypto::did::did_key(&f.devices[2].public_key());
    let second = get(app, &format!("/api/v1/assets/{did2}/locations?limit=1&cursor={c}")).await.ok();
    assert_eq!(second["locations"][0]["cell"], cell_of(11).to_string());
    assert!(second.get("next_cursor").is_none());

    // Filters, page by page, against filtering the full list.
    let ids_where = |pred: &dyn Fn(&Value) -> bool| -> BTreeSet<String> {
        all.iter().filter(|a| pred(a)).map(|a| a["id"].as_str().unwrap().to_string()).collect()
    };
    let region = cell_of(5).parent(6).unwrap();
    let vendor_key = serde_json::to_value(f.vendor.public_key()).unwrap();
    let vendor_key = vendor_key.as_str().unwrap();
    let cases: Vec<(String, BTreeSet<String>)> = vec![
        (format!("owner={}", f.alice.address()), ids_where(&|a| a["owner"] == f.alice.address().to_string())),
        (format!("manager={}", f.manager), ids_where(&|a| a["manager"] == f.manager.to_string())),
        (format!("vendor={}", f.vendor.public_key().address()), ids_where(&|a| a["tier"]["tier"] == "vendor_attested")),
        (format!("vendor={vendor_key}"), ids_where(&|a| a["tier"]["tier"] == "vendor_attested")),
        ("class=compute".into(), ids_where(&|a| a["class"] == "compute")),
        ("status=active".into(), ids_where(&|a| a["effective_status"] == "active")),
        ("status=registered".into(), ids_where(&|a| a["effective_status"] == "registered")),
        (format!("cell={region}"), ids_where(&|a| Cell::parse(a["location"].as_str().unwrap()).unwrap().is_within(region))),
        (
            format!("cell={region}&class=sensor"),
            ids_where(&|a| a["class"] == "sensor" && Cell::parse(a["location"].as_str().unwrap()).unwrap().is_within(region)),
        ),
        (
            format!("owner={}&status=registered&class=wireless", f.dev.address()),
            ids_where(&|a| a["owner"] == f.dev.address().to_string() && a["status"] == "registered" && a["class"] == "wireless"),
        ),
    ];
    for (q, want) in &cases {
        assert!(!want.is_empty(), "{q} selects something");
        for limit in [1, 2, 5, 1_000] {
            assert_eq!(set(&all_pages(&f, &format!("/api/v1/assets?{q}"), limit).await), *want, "{q} limit {limit}");
        }
    }
    assert_eq!(cases[1].1.len(), 2);
    assert_eq!(cases[5].1.len(), 1);

    // By owner and by cell.
    let alices = all_pages(&f, &format!("/api/v1/accounts/{}/assets", f.alice.address()), 2).await;
    assert_eq!(set(&alices), cases[0].1);
    let alices_wireless =
        all_pages(&f, &format!("/api/v1/accounts/{}/assets?class=wireless", f.alice.address()), 10).await;
    assert_eq!(set(&alices_wireless), ids_where(&|a| a["owner"] == f.alice.address().to_string() && a["class"] == "wireless"));
    assert_eq!(set(&all_pages(&f, &format!("/api/v1/cells/{region}/assets"), 3).await), cases[7].1);
    assert_eq!(
        set(&all_pages(&f, &format!("/api/v1/cells/{region}/assets?owner={}", f.dev.address()), 3).await),
        ids_where(&|a| a["owner"] == f.dev.address().to_string() && Cell::parse(a["location"].as_str().unwrap()).unwrap().is_within(region))
    );
    let leaf = cell_of(7);
    assert_eq!(set(&all_pages(&f, &format!("/api/v1/cells/{leaf}/assets"), 3).await), [f.id(7).to_string()].into());
    let upper = leaf.to_string().to_uppercase();
    assert_eq!(set(&all_pages(&f, &format!("/api/v1/cells/0x{upper}/assets"), 3).await), [f.id(7).to_string()].into());

    // Near: nearest first, each with its distance.
    let centre = point(5);
    let near = get(app, &format!("/api/v1/assets?near={},{}&radius_km=2", centre.lat(), centre.lon())).await.ok();
    assert_conforms(doc, "AssetPage", &near);
    assert!(near.get("next_cursor").is_none());
    let near = near["assets"].as_array().unwrap();
    let want = ids_where(&|a| {
        haversine_km(Cell::parse(a["location"].as_str().unwrap()).unwrap().center(), centre) <= 2.0
    });
    assert_eq!(near.iter().map(|a| a["id"].as_str().unwrap().to_string()).collect::<BTreeSet<_>>(), want);
    assert!(near.len() >= 3);
    assert_eq!(near[0]["id"], f.id(5).to_string(), "the asset at the point comes first");
    let distances: Vec<u64> = near.iter().map(|a| a["distance_m"].as_u64().unwrap()).collect();
    assert!(distances.windows(2).all(|w| w[0] <= w[1]), "{distances:?}");
    assert!(distances[0] < 20, "{distances:?}");
    let near_two = get(app, &format!("/api/v1/assets?near={},{}&radius_km=2&limit=2&class=storage", centre.lat(), centre.lon())).await.ok();
    assert_conforms(doc, "AssetPage", &near_two);
    assert!(near_two["assets"].as_array().unwrap().iter().all(|a| a["class"] == "storage"));

    // Counts.
    let stats = get(app, "/api/v1/registry/stats").await.ok();
    assert_conforms(doc, "AssetStats", &stats);
    assert_eq!(stats["n_assets"], N_DEV + N_ALICE);
    assert_eq!(stats["by_class"]["wireless"], 3);
    assert_eq!(stats["by_status"], json!({"registered": 14, "active": 1, "suspended": 0, "decommissioned": 0}));
    assert_eq!(stats["region_resolution"], 4);
    let regions: u64 = stats["by_region"].as_array().unwrap().iter().map(|r| r["n_assets"].as_u64().unwrap()).sum();
    assert_eq!(regions, u64::from(N_DEV + N_ALICE));
    let in_region = get(app, &format!("/api/v1/registry/stats?cell={region}&region_resolution=9")).await.ok();
    assert_conforms(doc, "AssetStats", &in_region);
    assert_eq!(in_region["cell"], region.to_string());
    assert_eq!(in_region["n_assets"], cases[7].1.len() as u64);
    assert_eq!(in_region["region_resolution"], 9);

    // Vendors and parameters.
    let vendors = get(app, "/api/v1/vendors").await.ok();
    assert_conforms(doc, "VendorPage", &vendors);
    assert_eq!(vendors["vendors"][0]["name"], "Acme Radios");
    assert_eq!(vendors["vendors"][0]["revoked"], false);
    let params = get(app, "/api/v1/registry/params").await.ok();
    assert_conforms(doc, "RegistryParams", &params);
    assert_eq!(params, serde_json::to_value(RegistryParams::default()).unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_vendor_suspends_its_assets_in_every_answer() {
    let mut f = fleet().await;
    let chain = f.chain();
    let revoke = f.validator.tx(&chain, TxBody::RevokeVendor { key: f.vendor.public_key() });
    applied(&submit(&f.app, &f.doc, &revoke).await);
    let (app, doc) = (&f.app, &f.doc);
    let a = get(app, &format!("/api/v1/assets/{}", f.id(3))).await.ok();
    assert_conforms(doc, "AssetView", &a);
    assert_eq!((a["status"].as_str(), a["effective_status"].as_str()), (Some("registered"), Some("suspended")));
    assert_eq!(a["effective_reason"], serde_json::to_value(StatusReason::VendorRevoked).unwrap());
    let attested: BTreeSet<String> = [0, 3, 6, 9, 12].iter().map(|i| f.id(*i).to_string()).collect();
    assert_eq!(set(&all_pages(&f, "/api/v1/assets?status=suspended", 2).await), attested);
    let stats = get(app, "/api/v1/registry/stats").await.ok();
    assert_eq!(stats["by_status"]["suspended"], 5);
    let vendors = get(app, "/api/v1/vendors?limit=1").await.ok();
    assert_conforms(doc, "VendorPage", &vendors);
    assert_eq!(vendors["vendors"][0]["revoked"], true);
    assert!(vendors.get("next_cursor").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejected_registrations_have_receipts_that_match_the_document() {
    let f = fleet().await;
    let (app, doc) = (&f.app, &f.doc);
    let chain = f.chain();
    let mut dev = Signer { key: SecretKey::from_seeds(f.dev.key.scheme(), f.dev.key.seeds()).unwrap(), nonce: f.dev.nonce };
    let descriptor = |capacity| AssetDescriptor {
        capacity,
        location: cell_of(0),
        mobility: Mobility::Fixed,
        energy: None,
        metadata: AssetMetadata::default(),
    };
    let device = seeded(5, 0);
    let wireless = |range_m| Capacity::Wireless(WirelessCapacity { band: Band::Nr5g, range_m });
    let cases = [
        (Registration::sign(&chain, &dev.address(), &device, descriptor(wireless(0)), Amount(10_000_000), None), "invalid_asset"),
        (Registration::sign(&chain, &dev.address(), &device, descriptor(wireless(10)), Amount(1), None), "bond_too_small"),
        (Registration::sign(&chain, &dev.address(), &f.devices[0], descriptor(wireless(10)), Amount(10_000_000), None), "device_already_registered"),
    ];
    for (registration, code) in cases {
        let outcome = submit(app, doc, &dev.tx(&chain, TxBody::RegisterAssets { assets: vec![registration] })).await;
        assert_eq!(outcome["status"], "rejected", "{outcome}");
        assert_eq!(outcome["reason"]["code"], code, "{outcome}");
    }
    // The other registry bodies are valid transactions for the document too.
    let id = f.id(0);
    for body in [
        TxBody::UpdateAsset { asset: id, capacity: None, energy: None, metadata: Some(AssetMetadata { name: "x".into(), model: "y".into() }) },
        TxBody::TransferAsset { asset: id, to: f.alice.address() },
        TxBody::SetManager { assets: vec![id], manager: None },
        TxBody::SetAssetStatus { asset: id, status: OwnerStatus::Suspended },
        TxBody::DecommissionAsset { asset: id },
        TxBody::RevokeDevice { device_key: f.devices[1].public_key() },
        TxBody::SetRegistryParams { params: RegistryParams::default() },
    ] {
        assert_conforms(doc, "Transaction", &dev.tx(&chain, body));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bad_input_is_a_problem_naming_its_parameter() {
    let t = TestNode::start();
    let app = router(t.node.clone(), ApiLimits::default());
    let doc = get(&app, "/api/v1/openapi.json").await.json();
    let id = "ab".repeat(32);
    let addr = t.dev_key.public_key().address();
    let fine_cell = LatLon::new(48.8, 2.3).unwrap().to_cell(13).unwrap();
    let ok_cell = LatLon::new(48.8, 2.3).unwrap().to_cell(5).unwrap();
    let cases: Vec<(String, &str)> = vec![
        ("/api/v1/assets?owner=nope".into(), "owner"),
        ("/api/v1/assets?manager=depin1zz".into(), "manager"),
        ("/api/v1/assets?vendor=nope".into(), "vendor"),
        ("/api/v1/assets?vendor=ed25519:00".into(), "vendor"),
        ("/api/v1/assets?class=toaster".into(), "class"),
        ("/api/v1/assets?status=asleep".into(), "status"),
        ("/api/v1/assets?cell=zz".into(), "cell"),
        ("/api/v1/assets?cell=8a1fb46622dfffe".into(), "cell"),
        (format!("/api/v1/assets?cell={fine_cell}"), "cell"),
        ("/api/v1/assets?limit=0".into(), "limit"),
        ("/api/v1/assets?limit=1001".into(), "limit"),
        ("/api/v1/assets?limit=ten".into(), "limit"),
        ("/api/v1/assets?cursor=zz".into(), "cursor"),
        ("/api/v1/assets?cursor=".into(), "cursor"),
        (format!("/api/v1/assets?cursor={}", "00".repeat(200)), "cursor"),
        (format!("/api/v1/assets?owner={addr}&cursor=00"), "cursor"),
        ("/api/v1/assets?near=48.8,2.3".into(), "radius_km"),
        ("/api/v1/assets?radius_km=3".into(), "radius_km"),
        ("/api/v1/assets?near=91,2&radius_km=3".into(), "near"),
        ("/api/v1/assets?near=somewhere&radius_km=3".into(), "near"),
        ("/api/v1/assets?near=48.8,2.3&radius_km=0".into(), "radius_km"),
        ("/api/v1/assets?near=48.8,2.3&radius_km=-1".into(), "radius_km"),
        ("/api/v1/assets?near=48.8,2.3&radius_km=500.5".into(), "radius_km"),
        ("/api/v1/assets?near=48.8,2.3&radius_km=NaN".into(), "radius_km"),
        ("/api/v1/assets?near=48.8,2.3&radius_km=inf".into(), "radius_km"),
        ("/api/v1/assets?near=48.8,2.3&radius_km=3&cursor=00".into(), "cursor"),
        ("/api/v1/assets?near=48.8,2.3&radius_km=3&limit=0".into(), "limit"),
        ("/api/v1/assets?bogus=1".into(), "bogus"),
        ("/api/v1/assets?limit=1&limit=2".into(), "limit"),
        ("/api/v1/assets/nope".into(), "id"),
        (format!("/api/v1/assets/{}", &id[..63]), "id"),
        ("/api/v1/assets/did:key:z6Mk".into(), "id"),
        ("/api/v1/assets/did:web:example.com".into(), "id"),
        (format!("/api/v1/assets/{id}?prove=yes"), "prove"),
        (format!("/api/v1/assets/{id}?bogus=1"), "bogus"),
        (format!("/api/v1/assets/{id}/locations?limit=0"), "limit"),
        (format!("/api/v1/assets/{id}/locations?cursor=xyz"), "cursor"),
        ("/api/v1/assets/nope/locations".into(), "id"),
        ("/api/v1/accounts/nope/assets".into(), "address"),
        (format!("/api/v1/accounts/{addr}/assets?owner={addr}"), "owner"),
        (format!("/api/v1/accounts/{addr}/assets?near=1,1"), "near"),
        (format!("/api/v1/accounts/{addr}/assets?limit=5000"), "limit"),
        ("/api/v1/cells/nope/assets".into(), "cell"),
        (format!("/api/v1/cells/{fine_cell}/assets"), "cell"),
        (format!("/api/v1/cells/{ok_cell}/assets?cell={ok_cell}"), "cell"),
        (format!("/api/v1/cells/{ok_cell}/assets?class=x"), "class"),
        ("/api/v1/registry/stats?cell=nope".into(), "cell"),
        (format!("/api/v1/registry/stats?cell={fine_cell}"), "cell"),
        ("/api/v1/registry/stats?region_resolution=13".into(), "region_resolution"),
        ("/api/v1/registry/stats?region_resolution=16".into(), "region_resolution"),
        ("/api/v1/registry/stats?region_resolution=-1".into(), "region_resolution"),
        ("/api/v1/registry/stats?limit=1".into(), "limit"),
        ("/api/v1/vendors?limit=0".into(), "limit"),
        ("/api/v1/vendors?cursor=00".into(), "cursor"),
        ("/api/v1/vendors?owner=x".into(), "owner"),
        ("/api/v1/registry/params?x=1".into(), "x"),
    ];
    for (uri, parameter) in cases {
        let r = get(&app, &uri).await;
        let p = r.assert_problem(StatusCode::BAD_REQUEST, "invalid_parameter");
        assert_eq!(p["parameter"], parameter, "{uri}: {p}");
        assert_conforms(&doc, "Problem", &p);
    }
    get(&app, &format!("/api/v1/assets/{id}")).await.assert_problem(StatusCode::NOT_FOUND, "asset_not_found");
    get(&app, &format!("/api/v1/assets/{}", id.to_uppercase())).await.assert_problem(StatusCode::NOT_FOUND, "asset_not_found");
    call(&app, Method::POST, "/api/v1/assets", None).await.assert_problem(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    call(&app, Method::DELETE, &format!("/api/v1/assets/{id}"), None)
        .await
        .assert_problem(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    get(&app, "/api/v1/cells").await.assert_problem(StatusCode::NOT_FOUND, "not_found");
    // An empty registry: empty pages, zero counts.
    let empty = get(&app, "/api/v1/assets").await.ok();
    assert_eq!(empty, json!({"assets": []}));
    assert_eq!(get(&app, "/api/v1/vendors").await.ok(), json!({"vendors": []}));
    let near = get(&app, "/api/v1/assets?near=0,0&radius_km=500").await.ok();
    assert_eq!(near, json!({"assets": []}));
    let stats = get(&app, "/api/v1/registry/stats").await.ok();
    assert_conforms(&doc, "AssetStats", &stats);
    assert_eq!(stats["n_assets"], 0);
}

/// The schema mirrors list exactly the names serde writes, for every variant of the real enums.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schema_enums_list_every_name_the_real_types_write() {
    let doc = serde_json::to_value(depin_api::openapi()).unwrap();
    fn names<T: serde::Serialize>(all: &[T]) -> BTreeSet<String> {
        all.iter().map(|v| serde_json::to_value(v).unwrap().as_str().unwrap().to_string()).collect()
    }
    let documented = |name: &str| -> BTreeSet<String> {
        let schema = &doc["components"]["schemas"][name];
        let values = schema["enum"].as_array().unwrap_or_else(|| panic!("{name} has no enum: {schema}"));
        values.iter().map(|v| v.as_str().unwrap().to_string()).collect()
    };
    use depin_types::asset::mining::Algorithm as A;
    use depin_types::asset::sensor::SensorKind as K;
    use depin_types::asset::storage::{Media as M, Redundancy as R};
    use depin_types::asset::wireless::Band as B;
    let cases: Vec<(&str, BTreeSet<String>)> = vec![
        ("AssetClass", names(&AssetClass::ALL)),
        ("AssetStatus", names(&AssetStatus::ALL)),
        (
            "StatusReason",
            names(&[
                StatusReason::Registered,
                StatusReason::Activated,
                StatusReason::Maintenance,
                StatusReason::DeviceRevoked,
                StatusReason::VendorRevoked,
                StatusReason::Decommissioned,
            ]),
        ),
        ("OwnerStatus", names(&[OwnerStatus::Active, OwnerStatus::Suspended])),
        ("Mobility", names(&[Mobility::Fixed, Mobility::Mobile])),
        ("Band", names(&[B::LorawanEu868, B::LorawanUs915, B::LorawanAs923, B::Wifi2g4, B::Wifi5g, B::Wifi6g, B::Cbrs, B::Nr5g])),
        ("Arch", names(&[Arch::X86_64, Arch::Aarch64, Arch::Riscv64])),
        ("Media", names(&[M::Hdd, M::Ssd, M::Nvme, M::Tape])),
        ("Redundancy", names(&[R::None, R::Mirror, R::Parity1, R::Parity2, R::ErasureCoded])),
        (
            "EnergySource",
            names(&[EnergySource::Solar, EnergySource::Wind, EnergySource::Hydro, EnergySource::Battery, EnergySource::Grid]),
        ),
        (
            "SensorKind",
            names(&[
                K::Temperature,
                K::Humidity,
                K::Pressure,
                K::ParticulateMatter,
                K::Gas,
                K::Noise,
                K::Wind,
                K::Rain,
                K::Irradiance,
                K::Camera,
                K::Gnss,
                K::Vehicle,
            ]),
        ),
        ("Algorithm", names(&[A::Sha256d, A::Scrypt, A::Randomx, A::Equihash, A::Kheavyhash, A::Ethash])),
    ];
    for (name, real) in cases {
        assert_eq!(documented(name), real, "{name}");
    }
}
