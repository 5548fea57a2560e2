//! Exercise the market routes through the router against a real test node: price assets, mint
//! credits, submit and cancel workloads with signed transactions over `POST /api/v1/txs`, then
//! read everything back by every route, filter and page, check each response against the
//! OpenAPI document, every 4xx, and the market events published to subscribers.
//!
//! No asset reports telemetry here, so nothing is placed: placement, leases and cost terms are
//! covered end to end by `crates/depin-cli/tests/market.rs`.

use std::collections::BTreeSet;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use axum::Router;
use depin_api::{router, ApiLimits};
use depin_crypto::{Address, Scheme, SecretKey};
use depin_node::testing::TestNode;
use depin_node::NodeEvent;
use depin_types::asset::compute::{Arch, ComputeCapacity};
use depin_types::asset::{
    AssetClass, AssetDescriptor, AssetId, AssetMetadata, Capacity, Mobility, Registration, RegistryParams, ResourceUnit,
};
use depin_types::geo::LatLon;
use depin_types::market::{
    AntiAffinity, CloseReason, MarketEvent, MinTier, PriceSheet, UnitAmount, UnitPrice, WorkloadSpec,
};
use depin_types::{Amount, TxBody, TxContent};
use http_body_util::BodyExt;
use serde_json::Value;
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

    fn tx(&mut self, chain_id: &str, body: TxBody) -> Value {
        let tx = TxContent { chain_id: chain_id.into(), signer: self.key.public_key(), nonce: self.nonce, fee: Amount(0), body }
            .sign(&self.key);
        self.nonce += 1;
        serde_json::to_value(tx).unwrap()
    }
}

/// Submit with `wait=true` (the transaction checked against the schema) and return the
/// receipt's outcome.
async fn submit(app: &Router, doc: &Value, tx: &Value) -> Value {
    assert_conforms(doc, "Transaction", tx);
    let r = call(app, Method::POST, "/api/v1/txs?wait=true&timeout_ms=20000", Some(tx)).await;
    let v = r.ok();
    assert_eq!(v["status"], "committed", "{v}");
    v["receipt"]["outcome"].clone()
}

#[track_caller]
fn applied(outcome: &Value) {
    assert_eq!(outcome["status"], "applied", "{outcome}");
}

fn compute() -> Capacity {
    Capacity::Compute(ComputeCapacity { cpu_cores: 16, memory_mib: 65_536, gpus: vec![], arch: Arch::X86_64 })
}

fn spec(name: &str, replicas: u16) -> WorkloadSpec {
    WorkloadSpec {
        name: name.into(),
        class: AssetClass::Compute,
        resources: vec![
            UnitAmount { unit: ResourceUnit::VcpuEpoch, amount: 4 },
            UnitAmount { unit: ResourceUnit::MemoryGibEpoch, amount: 8 },
        ],
        replicas,
        regions: vec![],
        near: None,
        anti_affinity: AntiAffinity { distinct_owners: true, ..AntiAffinity::default() },
        min_tier: MinTier::SelfDeclared,
        min_uptime_permille: 0,
        green_only: false,
        duration_epochs: 10,
        max_price: Amount(1_000),
        sla_uptime_permille: 900,
        gpu_model: None,
        max_metered_price: Amount::ZERO,
    }
}

/// Every page of `uri` with page size `limit`, each checked against `schema`; the ids of the
/// `items` member in order (none twice).
async fn all_pages(app: &Router, doc: &Value, uri: &str, items: &str, schema: &str, limit: usize) -> Vec<u64> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..100 {
        let sep = if uri.contains('?') { '&' } else { '?' };
        let mut page_uri = format!("{uri}{sep}limit={limit}");
        if let Some(c) = &cursor {
            page_uri.push_str(&format!("&cursor={c}"));
        }
        let page = get(app, &page_uri).await.ok();
        assert_conforms(doc, schema, &page);
        let list = page[items].as_array().unwrap();
        assert!(list.len() <= limit);
        out.extend(list.iter().map(|w| w["id"].as_u64().unwrap()));
        match page.get("next_cursor") {
            None => {
                let unique: BTreeSet<&u64> = out.iter().collect();
                assert_eq!(unique.len(), out.len(), "{uri}: an item came twice");
                return out;
            }
            Some(c) => cursor = Some(c.as_str().unwrap().to_string()),
        }
    }
    panic!("{uri}: pagination did not end");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn market_reads_back_through_every_route_and_matches_the_openapi_document() {
    let t = TestNode::start();
    let app = router(t.node.clone(), ApiLimits::default());
    let doc = get(&app, "/api/v1/openapi.json").await.json();
    let chain = t.node.chain_id().to_string();
    let mut dev = Signer { key: SecretKey::from_seeds(t.dev_key.scheme(), t.dev_key.seeds()).unwrap(), nonce: 0 };
    let mut alice = Signer { key: seeded(1, 0), nonce: 0 };
    applied(&submit(&app, &doc, &dev.tx(&chain, TxBody::Transfer { to: alice.address(), amount: Amount(1_000_000_000_000) })).await);

    // Three compute assets: two of dev's, one of alice's.
    let params = RegistryParams::default();
    let devices: Vec<SecretKey> = (0..3).map(|i| seeded(9, i)).collect();
    let ids: Vec<AssetId> = devices.iter().map(|d| AssetId::of(&d.public_key())).collect();
    let registration = |i: usize, owner: &Address| {
        let cell = LatLon::new(48.85 + i as f64 * 0.01, 2.35).unwrap().to_cell(params.location_resolution).unwrap();
        let descriptor = AssetDescriptor {
            capacity: compute(),
            location: cell,
            mobility: Mobility::Fixed,
            energy: None,
            metadata: AssetMetadata { name: format!("node-{i}"), model: String::new() },
        };
        Registration::sign(&chain, owner, &devices[i], descriptor, params.bond(AssetClass::Compute), None)
    };
    let assets = vec![registration(0, &dev.address()), registration(1, &dev.address())];
    applied(&submit(&app, &doc, &dev.tx(&chain, TxBody::RegisterAssets { assets })).await);
    applied(&submit(&app, &doc, &alice.tx(&chain, TxBody::RegisterAssets { assets: vec![registration(2, &alice.address())] })).await);

    // Prices on two of them; the third is not for sale.
    let sheet = PriceSheet {
        prices: vec![
            UnitPrice { unit: ResourceUnit::VcpuEpoch, price: Amount(10) },
            UnitPrice { unit: ResourceUnit::MemoryGibEpoch, price: Amount(2) },
        ],
        min_lease_epochs: 1,
    };
    applied(&submit(&app, &doc, &dev.tx(&chain, TxBody::SetPrice { asset: ids[0], sheet: Some(sheet.clone()) })).await);
    applied(&submit(&app, &doc, &alice.tx(&chain, TxBody::SetPrice { asset: ids[2], sheet: Some(sheet.clone()) })).await);
    let price = get(&app, &format!("/api/v1/assets/{}/price", ids[0])).await.ok();
    assert_conforms(&doc, "PriceView", &price);
    assert_eq!(price["sheet"]["prices"][0]["unit"], "vcpu_epoch", "{price}");
    assert_eq!(price["sheet"]["prices"][0]["price"], "10", "{price}");
    assert_eq!(price["units"], serde_json::json!(["vcpu_epoch", "memory_gib_epoch", "gpu_epoch"]), "{price}");
    assert_eq!(price["capacity"], serde_json::json!([16, 64, 0]), "{price}");
    assert_eq!(price["reserved"], serde_json::json!([0, 0, 0]), "{price}");
    let unpriced = get(&app, &format!("/api/v1/assets/{}/price", ids[1])).await.ok();
    assert_conforms(&doc, "PriceView", &unpriced);
    assert!(unpriced["sheet"].is_null(), "{unpriced}");

    // Credits: burn tokens, spend some on deposits.
    applied(&submit(&app, &doc, &dev.tx(&chain, TxBody::MintCredits { amount: Amount(1_000_000) })).await);
    let credits = get(&app, &format!("/api/v1/accounts/{}/credits", dev.address())).await.ok();
    assert_conforms(&doc, "CreditsView", &credits);
    assert_eq!(credits["credits"], "1000000", "{credits}");
    let none = get(&app, &format!("/api/v1/accounts/{}/credits", alice.address())).await.ok();
    assert_eq!(none["credits"], "0", "{none}");

    // Subscribe before the workloads, to see their market events.
    let mut events = t.node.subscribe();
    for (i, replicas) in [(1, 2u16), (2, 1), (3, 1)] {
        let body = TxBody::SubmitWorkload { spec: spec(&format!("w{i}"), replicas), deposit: Amount(20_000) };
        applied(&submit(&app, &doc, &dev.tx(&chain, body)).await);
    }
    // A deposit under max_price × replicas × min_escrow_epochs is refused in the receipt.
    let short = dev.tx(&chain, TxBody::SubmitWorkload { spec: spec("short", 2), deposit: Amount(1) });
    let outcome = submit(&app, &doc, &short).await;
    assert_eq!(outcome["reason"]["code"], "invalid_market_input", "{outcome}");

    let w1 = get(&app, "/api/v1/workloads/1").await.ok();
    assert_conforms(&doc, "WorkloadView", &w1);
    assert_eq!(w1["id"], 1);
    assert_eq!(w1["consumer"], dev.address().to_string());
    assert_eq!(w1["spec"]["name"], "w1");
    assert_eq!(w1["escrow"], "20000");
    assert_eq!(w1["state"]["state"], "pending", "{w1}");
    assert_eq!(w1["lease_records"], serde_json::json!([]), "{w1}");
    // No asset reports telemetry: the allocation round says why nothing was placed.
    let unplaced = &w1["unplaced"];
    assert!(unplaced["code"].as_str().is_some_and(|c| !c.is_empty()), "{w1}");
    assert_eq!(unplaced["funnel"].as_array().map(Vec::len), Some(10), "{w1}");

    // Pages: all, by consumer, by state.
    assert_eq!(all_pages(&app, &doc, "/api/v1/workloads", "workloads", "WorkloadPage", 1).await, vec![1, 2, 3]);
    let by_dev = format!("/api/v1/workloads?consumer={}", dev.address());
    assert_eq!(all_pages(&app, &doc, &by_dev, "workloads", "WorkloadPage", 2).await, vec![1, 2, 3]);
    let by_alice = format!("/api/v1/workloads?consumer={}", alice.address());
    assert!(all_pages(&app, &doc, &by_alice, "workloads", "WorkloadPage", 5).await.is_empty());
    assert_eq!(all_pages(&app, &doc, "/api/v1/workloads?state=pending", "workloads", "WorkloadPage", 2).await, vec![1, 2, 3]);

    // Cancel workload 3: closed, escrow refunded.
    applied(&submit(&app, &doc, &dev.tx(&chain, TxBody::CancelWorkload { workload: 3 })).await);
    assert_eq!(all_pages(&app, &doc, "/api/v1/workloads?state=closed", "workloads", "WorkloadPage", 1).await, vec![3]);
    assert_eq!(all_pages(&app, &doc, "/api/v1/workloads?state=pending", "workloads", "WorkloadPage", 1).await, vec![1, 2]);
    let w3 = get(&app, "/api/v1/workloads/3").await.ok();
    assert_conforms(&doc, "WorkloadView", &w3);
    assert_eq!(w3["state"]["state"], "closed", "{w3}");
    assert_eq!(w3["state"]["reason"], "cancelled_by_consumer", "{w3}");
    let credits = get(&app, &format!("/api/v1/accounts/{}/credits", dev.address())).await.ok();
    assert_eq!(credits["credits"], (1_000_000 - 2 * 20_000).to_string(), "{credits}");

    // The market events reached subscribers, after their block.
    let mut seen = Vec::new();
    while let Ok(e) = events.try_recv() {
        if let NodeEvent::Market { height, event } = e {
            seen.push((height, event));
        }
    }
    assert!(seen.iter().any(|(_, e)| matches!(e, MarketEvent::Unplaced { workload: 1, .. })), "{seen:?}");
    assert!(
        seen.iter().any(|(_, e)| matches!(
            e,
            MarketEvent::WorkloadClosed { workload: 3, reason: CloseReason::CancelledByConsumer, refunded } if *refunded == Amount(20_000)
        )),
        "{seen:?}"
    );

    // Leases: none placed; every filter answers an empty page.
    for uri in [
        "/api/v1/leases".to_string(),
        "/api/v1/leases?open=true".to_string(),
        "/api/v1/leases?workload=1".to_string(),
        "/api/v1/leases?workload=99".to_string(),
        format!("/api/v1/leases?asset={}&open=false", ids[0]),
        format!("/api/v1/leases?consumer={}", dev.address()),
    ] {
        assert!(all_pages(&app, &doc, &uri, "leases", "LeasePage", 3).await.is_empty(), "{uri}");
    }

    // The market: parameters, book, last events.
    let market = get(&app, "/api/v1/market").await.ok();
    assert_conforms(&doc, "MarketView", &market);
    assert_eq!(market["book"]["last_workload"], 3, "{market}");
    assert_eq!(market["book"]["credits_minted"], "1000000", "{market}");
    assert_eq!(market["n_queued"], 2, "{market}");
    assert_eq!(market["n_open_leases"], 0, "{market}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bad_market_input_is_a_problem_naming_its_parameter() {
    let t = TestNode::start();
    let app = router(t.node.clone(), ApiLimits::default());
    let dev = t.dev_key.public_key().address();
    let not_found = [
        ("/api/v1/workloads/1", "workload_not_found"),
        ("/api/v1/workloads/0", "workload_not_found"),
        ("/api/v1/leases/7", "lease_not_found"),
        (&*format!("/api/v1/assets/{}/price", "ab".repeat(32)), "asset_not_found"),
    ];
    for (uri, code) in not_found {
        let p = get(&app, uri).await.assert_problem(StatusCode::NOT_FOUND, code);
        assert!(p["id"].is_number() || p["id"].is_string(), "{uri}: {p}");
    }
    let bad = [
        ("/api/v1/workloads/abc", "id"),
        ("/api/v1/workloads/-1", "id"),
        ("/api/v1/workloads/+1", "id"),
        ("/api/v1/workloads/1?prove=true", "prove"),
        ("/api/v1/leases/1.5", "id"),
        ("/api/v1/leases/99999999999999999999", "id"),
        ("/api/v1/workloads?state=done", "state"),
        ("/api/v1/workloads?consumer=bob", "consumer"),
        ("/api/v1/workloads?limit=0", "limit"),
        ("/api/v1/workloads?limit=1001", "limit"),
        ("/api/v1/workloads?cursor=zz", "cursor"),
        ("/api/v1/workloads?state=pending&state=closed", "state"),
        ("/api/v1/workloads?owner=x", "owner"),
        ("/api/v1/leases?open=yes", "open"),
        ("/api/v1/leases?workload=w1", "workload"),
        ("/api/v1/leases?asset=12", "asset"),
        ("/api/v1/leases?consumer=12", "consumer"),
        ("/api/v1/assets/xyz/price", "id"),
        ("/api/v1/accounts/nobody/credits", "address"),
        ("/api/v1/market?x=1", "x"),
    ];
    for (uri, parameter) in bad {
        let p = get(&app, uri).await.assert_problem(StatusCode::BAD_REQUEST, "invalid_parameter");
        assert_eq!(p["parameter"], parameter, "{uri}: {p}");
    }
    // A cursor from another filter is refused, not misread.
    let other = "6b2f632f".to_string() + &"00".repeat(8); // under `k/c/`, not `k/w/`
    let p = get(&app, &format!("/api/v1/workloads?cursor={other}")).await.assert_problem(StatusCode::BAD_REQUEST, "invalid_parameter");
    assert_eq!(p["parameter"], "cursor", "{p}");
    let p = get(&app, &format!("/api/v1/workloads?consumer={dev}&cursor={}", hex_of(b"k/w/"))).await.assert_problem(StatusCode::BAD_REQUEST, "invalid_parameter");
    assert_eq!(p["parameter"], "cursor", "{p}");
    // Writes go through POST /txs only.
    let r = call(&app, Method::POST, "/api/v1/workloads", None).await;
    r.assert_problem(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The schema mirrors list exactly the names serde writes, for the market's plain enums.
#[tokio::test]
async fn market_schema_enums_list_every_name_the_real_types_write() {
    fn names<T: serde::Serialize>(all: &[T]) -> BTreeSet<String> {
        all.iter().map(|v| serde_json::to_value(v).unwrap().as_str().unwrap().to_string()).collect()
    }
    let doc = serde_json::to_value(depin_api::openapi()).unwrap();
    let listed = |name: &str| -> BTreeSet<String> {
        let schema = &doc["components"]["schemas"][name];
        let values = schema["enum"].as_array().unwrap_or_else(|| panic!("{name} has no enum: {schema}"));
        values.iter().map(|v| v.as_str().unwrap().to_string()).collect()
    };
    use ResourceUnit as U;
    let units = [
        U::VcpuEpoch, U::MemoryGibEpoch, U::GpuEpoch, U::GbMonthStored, U::GbServed, U::CoverageCellEpoch,
        U::KwhDelivered, U::KwhStored, U::Reading, U::HashrateThEpoch, U::GbEpochStored, U::StreamEpoch,
    ];
    assert_eq!(listed("ResourceUnit"), names(&units));
    assert_eq!(listed("MinTier"), names(&[MinTier::SelfDeclared, MinTier::VendorAttested]));
    use CloseReason as C;
    let reasons = [C::Completed, C::CancelledByConsumer, C::EndedByProvider, C::AssetFailed, C::EscrowOverdrawn, C::AssetRetired];
    assert_eq!(listed("CloseReason"), names(&reasons));
}
