//! Exercise the HTTP API through the router against a real test node (no sockets, except the
//! one `serve` test).

use std::time::Duration;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use depin_api::{router, ApiLimits};
use depin_crypto::{Address, Scheme, SecretKey};
use depin_ledger::authstate::{verify_proof, StateProof};
use depin_node::testing::TestNode;
use depin_types::tx::signing_message;
use depin_types::{Amount, Transaction, TxBody, TxContent};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

mod common;
use common::{assert_conforms, Resp, PROBLEM};

async fn call(app: &Router, method: Method, uri: &str, content_type: Option<&str>, body: Vec<u8>) -> Resp {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(ct) = content_type {
        req = req.header(header::CONTENT_TYPE, ct);
    }
    let resp = app.clone().oneshot(req.body(Body::from(body)).unwrap()).await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    Resp { status, headers, body }
}

async fn get(app: &Router, uri: &str) -> Resp {
    call(app, Method::GET, uri, None, Vec::new()).await
}

async fn post_json(app: &Router, uri: &str, body: &Value) -> Resp {
    call(app, Method::POST, uri, Some("application/json"), serde_json::to_vec(body).unwrap()).await
}

async fn post_bytes(app: &Router, uri: &str, body: Vec<u8>) -> Resp {
    call(app, Method::POST, uri, Some("application/octet-stream"), body).await
}

fn fresh_address() -> Address {
    SecretKey::generate(Scheme::Ed25519).unwrap().public_key().address()
}

fn content(t: &TestNode, nonce: u64, to: Address, amount: u128) -> TxContent {
    TxContent {
        chain_id: t.node.chain_id().to_string(),
        signer: t.dev_key.public_key(),
        nonce,
        fee: t.node.chain().genesis().params.min_fee,
        body: TxBody::Transfer { to, amount: Amount(amount) },
    }
}

fn transfer(t: &TestNode, nonce: u64, to: Address, amount: u128) -> Transaction {
    content(t, nonce, to, amount).sign(&t.dev_key)
}

fn app(t: &TestNode) -> Router {
    router(t.node.clone(), ApiLimits::default())
}

/// (balance, nonce) of an account through the API.
async fn account(app: &Router, address: &Address) -> (String, u64) {
    let r = get(app, &format!("/api/v1/accounts/{address}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let v = r.json();
    (v["balance"].as_str().unwrap().to_string(), v["nonce"].as_u64().unwrap())
}

async fn mempool_size(app: &Router) -> u64 {
    get(app, "/api/v1/status").await.json()["mempool_size"].as_u64().unwrap()
}

/// Poll until the transaction is committed; return its status JSON.
async fn until_committed(app: &Router, id: &str) -> Value {
    for _ in 0..500 {
        let r = get(app, &format!("/api/v1/txs/{id}")).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let v = r.json();
        if v["status"] == "committed" {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("transaction {id} was not committed in time");
}


// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_transfer_commits_and_everything_reads_it_back() {
    let t = TestNode::start();
    let app = app(&t);
    let dev = t.dev_key.public_key().address();
    let to = fresh_address();
    let (balance_before, nonce_before) = account(&app, &dev).await;
    assert_eq!(nonce_before, 0);

    let tx = transfer(&t, 0, to, 1_000);
    let r = post_json(&app, "/api/v1/txs?wait=true&timeout_ms=10000", &serde_json::to_value(&tx).unwrap()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let committed = r.json();
    assert_eq!(committed["status"], "committed", "{committed}");
    assert_eq!(committed["tx_id"], tx.id().to_hex());
    assert_eq!(committed["receipt"]["tx_id"], tx.id().to_hex());
    assert_eq!(committed["receipt"]["outcome"]["status"], "applied", "{committed}");
    let height = committed["height"].as_u64().unwrap();
    let fee_paid: u128 = committed["receipt"]["fee_paid"].as_str().unwrap().parse().unwrap();

    // The transaction by id.
    let r = get(&app, &format!("/api/v1/txs/{}", tx.id())).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json(), committed);

    // Accounts.
    let (balance, nonce) = account(&app, &dev).await;
    assert_eq!(nonce, 1);
    let before: u128 = balance_before.parse().unwrap();
    assert_eq!(balance.parse::<u128>().unwrap(), before - 1_000 - fee_paid);
    assert_eq!(account(&app, &to).await, ("1000".to_string(), 0));

    // With a proof, verified against the account's state root.
    let r = get(&app, &format!("/api/v1/accounts/{to}?prove=true")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let v = r.json();
    assert_eq!(v["balance"], "1000");
    let root: depin_crypto::Hash32 = v["state_root"].as_str().unwrap().parse().unwrap();
    let proof: StateProof = serde_json::from_value(v["proof"].clone()).unwrap();
    assert!(proof.value.is_some());
    verify_proof(&root.0, &proof).expect("the served proof verifies against the served state root");
    // A proof of absence for an address never seen.
    let r = get(&app, &format!("/api/v1/accounts/{}?prove=true", fresh_address())).await;
    let v = r.json();
    let root: depin_crypto::Hash32 = v["state_root"].as_str().unwrap().parse().unwrap();
    let proof: StateProof = serde_json::from_value(v["proof"].clone()).unwrap();
    assert!(proof.value.is_none());
    verify_proof(&root.0, &proof).expect("absence proof verifies");
    // Without prove there is no proof member.
    assert!(get(&app, &format!("/api/v1/accounts/{to}")).await.json().get("proof").is_none());

    // Blocks.
    let r = get(&app, &format!("/api/v1/blocks/{height}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let b = r.json();
    assert_eq!(b["id"], committed["block_id"]);
    assert_eq!(b["block"]["header"]["height"], height);
    let index = committed["index"].as_u64().unwrap() as usize;
    assert_eq!(b["receipts"][index]["tx_id"], tx.id().to_hex());
    assert_eq!(b["block"]["txs"][index], serde_json::to_value(&tx).unwrap());
    let latest = get(&app, "/api/v1/blocks/latest").await;
    assert_eq!(latest.status, StatusCode::OK);
    assert!(latest.json()["block"]["header"]["height"].as_u64().unwrap() >= height);

    // Status and health.
    let s = get(&app, "/api/v1/status").await;
    assert_eq!(s.status, StatusCode::OK);
    let s = s.json();
    assert_eq!(s["chain_id"], t.node.chain_id());
    assert!(s["height"].as_u64().unwrap() >= height);
    let h = get(&app, "/healthz").await;
    assert_eq!(h.status, StatusCode::OK);
    assert_eq!(h.json()["status"], "ok");
    assert!(h.json()["height"].as_u64().unwrap() >= height);

    // Metrics: the node's and ours, bounded labels.
    let _ = get(&app, "/no/such/route").await;
    let m = get(&app, "/metrics").await;
    assert_eq!(m.status, StatusCode::OK);
    assert!(m.content_type().starts_with("text/plain; version=0.0.4"), "{}", m.content_type());
    let text = m.text();
    assert!(text.lines().any(|l| l.starts_with("depin_") && !l.starts_with("depin_http_")), "{text}");
    assert!(
        text.contains("depin_http_requests_total{route=\"/api/v1/txs\",method=\"POST\",status=\"2xx\"} 1"),
        "{text}"
    );
    assert!(text.contains("depin_http_requests_total{route=\"/api/v1/txs/{id}\",method=\"GET\",status=\"2xx\"}"));
    assert!(text.contains("route=\"unmatched\",method=\"GET\",status=\"4xx\"} 1"), "{text}");
    assert!(!text.contains("/no/such/route"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_document_is_3_1_lists_the_paths_and_matches_real_responses() {
    let t = TestNode::start();
    let app = app(&t);
    let r = get(&app, "/api/v1/openapi.json").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.content_type().starts_with("application/json"));
    assert!(r.text().contains("\"openapi\": \"3.1"), "openapi version");
    let doc = r.json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    let paths = doc["paths"].as_object().unwrap();
    for p in [
        "/api/v1/txs",
        "/api/v1/txs/{id}",
        "/api/v1/accounts/{address}",
        "/api/v1/blocks/{height}",
        "/api/v1/blocks/latest",
        "/api/v1/evidence",
        "/api/v1/assets",
        "/api/v1/assets/{id}",
        "/api/v1/assets/{id}/locations",
        "/api/v1/accounts/{address}/assets",
        "/api/v1/cells/{cell}/assets",
        "/api/v1/registry/stats",
        "/api/v1/vendors",
        "/api/v1/registry/params",
        "/api/v1/status",
        "/api/v1/events",
        "/api/v1/openapi.json",
        "/healthz",
        "/metrics",
    ] {
        assert!(paths.contains_key(p), "missing path {p}: {:?}", paths.keys().collect::<Vec<_>>());
    }
    assert!(paths["/api/v1/txs"].get("post").is_some());
    // Every documented error response is a problem document.
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            for (status, resp) in op["responses"].as_object().unwrap() {
                if status.starts_with('4') || status.starts_with('5') {
                    assert!(resp["content"].get(PROBLEM).is_some(), "{method} {path} {status} is not problem+json");
                }
            }
        }
    }

    // Real responses match the documented schemas.
    let to = fresh_address();
    let tx = transfer(&t, 0, to, 5);
    let pending = post_json(&app, "/api/v1/txs", &serde_json::to_value(&tx).unwrap()).await;
    assert_eq!(pending.status, StatusCode::ACCEPTED);
    assert_conforms(&doc, "TxStatus", &pending.json());
    assert_conforms(&doc, "Transaction", &serde_json::to_value(&tx).unwrap());
    let committed = until_committed(&app, &tx.id().to_hex()).await;
    assert_conforms(&doc, "TxStatus", &committed);
    let height = committed["height"].as_u64().unwrap();
    assert_conforms(&doc, "BlockView", &get(&app, &format!("/api/v1/blocks/{height}")).await.json());
    assert_conforms(&doc, "Account", &get(&app, &format!("/api/v1/accounts/{to}")).await.json());
    assert_conforms(&doc, "Account", &get(&app, &format!("/api/v1/accounts/{to}?prove=true")).await.json());
    assert_conforms(&doc, "Status", &get(&app, "/api/v1/status").await.json());
    assert_conforms(&doc, "Health", &get(&app, "/healthz").await.json());
    assert_conforms(&doc, "Problem", &get(&app, "/api/v1/blocks/999999").await.json());
    // A rejected transaction's receipt (nonce 1 is charged nothing; a zero amount is rejected).
    let zero = transfer(&t, 1, fresh_address(), 0);
    let r = post_json(&app, "/api/v1/txs?wait=true", &serde_json::to_value(&zero).unwrap()).await;
    let v = r.json();
    if v["status"] == "committed" {
        assert_eq!(v["receipt"]["outcome"]["status"], "rejected", "{v}");
        assert_conforms(&doc, "TxStatus", &v);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_submission_works() {
    let t = TestNode::start();
    let app = app(&t);
    let to = fresh_address();
    let tx = transfer(&t, 0, to, 77);
    let r = post_bytes(&app, "/api/v1/txs", tx.encode()).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text());
    let v = r.json();
    assert_eq!(v["status"], "pending");
    assert_eq!(v["tx_id"], tx.id().to_hex());
    let committed = until_committed(&app, &tx.id().to_hex()).await;
    assert_eq!(committed["receipt"]["outcome"]["status"], "applied");
    assert_eq!(account(&app, &to).await.0, "77");

    // Content type parameters are accepted; wait=true on binary works too.
    let tx = transfer(&t, 1, to, 3);
    let r = call(
        &app,
        Method::POST,
        "/api/v1/txs?wait=true&timeout_ms=10000",
        Some("Application/Octet-Stream; foo=bar"),
        tx.encode(),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["status"], "committed");
    assert_eq!(account(&app, &to).await.0, "80");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_a_problem_and_writes_nothing() {
    let t = TestNode::start();
    let app = app(&t);
    let dev = t.dev_key.public_key().address();

    // One committed transaction first, to replay it later.
    let first = transfer(&t, 0, fresh_address(), 10);
    let r = post_json(&app, "/api/v1/txs?wait=true", &serde_json::to_value(&first).unwrap()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let before = account(&app, &dev).await;
    assert_eq!(before.1, 1);

    let good = transfer(&t, 1, fresh_address(), 10);
    let good_json = serde_json::to_value(&good).unwrap();

    // Malformed JSON.
    let r = call(&app, Method::POST, "/api/v1/txs", Some("application/json"), b"{\"content\":".to_vec()).await;
    r.assert_problem(StatusCode::BAD_REQUEST, "malformed_transaction");
    // Unknown field, at the top and nested.
    let mut v = good_json.clone();
    v["extra"] = Value::from(1);
    post_json(&app, "/api/v1/txs", &v).await.assert_problem(StatusCode::BAD_REQUEST, "malformed_transaction");
    let mut v = good_json.clone();
    v["content"]["extra"] = Value::from(1);
    post_json(&app, "/api/v1/txs", &v).await.assert_problem(StatusCode::BAD_REQUEST, "malformed_transaction");
    // Wrong types.
    let mut v = good_json.clone();
    v["content"]["nonce"] = Value::from("one");
    post_json(&app, "/api/v1/txs", &v).await.assert_problem(StatusCode::BAD_REQUEST, "malformed_transaction");
    let mut v = good_json.clone();
    v["content"]["fee"] = Value::from(-1);
    post_json(&app, "/api/v1/txs", &v).await.assert_problem(StatusCode::BAD_REQUEST, "malformed_transaction");
    // Chain id over the structural limit.
    let mut v = good_json.clone();
    v["content"]["chain_id"] = Value::from("x".repeat(65));
    post_json(&app, "/api/v1/txs", &v).await.assert_problem(StatusCode::BAD_REQUEST, "malformed_transaction");
    // Empty body.
    call(&app, Method::POST, "/api/v1/txs", Some("application/json"), Vec::new())
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "malformed_transaction");
    // Garbage and trailing bytes.
    post_bytes(&app, "/api/v1/txs", b"\x01\x02garbage".to_vec())
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "malformed_transaction");
    let mut trailing = good.encode();
    trailing.push(0);
    post_bytes(&app, "/api/v1/txs", trailing).await.assert_problem(StatusCode::BAD_REQUEST, "malformed_transaction");
    post_bytes(&app, "/api/v1/txs", Vec::new()).await.assert_problem(StatusCode::BAD_REQUEST, "malformed_transaction");
    // A binary transaction over the transaction size limit (but under the body limit).
    post_bytes(&app, "/api/v1/txs", vec![0; 20_000]).await.assert_problem(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
    // Oversized bodies, both media types, default and small limits.
    let big = vec![b' '; ApiLimits::default().max_body_bytes + 1];
    call(&app, Method::POST, "/api/v1/txs", Some("application/json"), big.clone())
        .await
        .assert_problem(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
    post_bytes(&app, "/api/v1/txs", big).await.assert_problem(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
    let small = router(t.node.clone(), ApiLimits { max_body_bytes: 256, ..ApiLimits::default() });
    let p = post_json(&small, "/api/v1/txs", &good_json).await.assert_problem(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
    assert_eq!(p["limit"], 256);
    // Wrong signature: a valid signature by another key.
    let other = SecretKey::generate(Scheme::Ed25519).unwrap();
    let forged = Transaction { signature: other.sign(&signing_message(&good.id())), content: good.content.clone() };
    post_json(&app, "/api/v1/txs", &serde_json::to_value(&forged).unwrap())
        .await
        .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "bad_signature");
    post_bytes(&app, "/api/v1/txs", forged.encode()).await.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "bad_signature");
    // Wrong chain id, properly signed.
    let mut c = content(&t, 1, fresh_address(), 10);
    c.chain_id = "another-chain".into();
    let p = post_json(&app, "/api/v1/txs", &serde_json::to_value(c.sign(&t.dev_key)).unwrap())
        .await
        .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "wrong_chain_id");
    assert_eq!(p["expected"], t.node.chain_id());
    // Replay of the committed transaction.
    let p = post_json(&app, "/api/v1/txs", &serde_json::to_value(&first).unwrap())
        .await
        .assert_problem(StatusCode::CONFLICT, "nonce_too_low");
    assert_eq!(p["expected"], 1);
    assert_eq!(p["got"], 0);
    post_bytes(&app, "/api/v1/txs", first.encode()).await.assert_problem(StatusCode::CONFLICT, "nonce_too_low");
    // A sender that does not exist.
    let stranger = SecretKey::generate(Scheme::Ed25519).unwrap();
    let mut c = content(&t, 0, fresh_address(), 10);
    c.signer = stranger.public_key();
    post_json(&app, "/api/v1/txs", &serde_json::to_value(c.sign(&stranger)).unwrap())
        .await
        .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "unknown_account");
    // Unsupported and missing content types (checked before the body).
    call(&app, Method::POST, "/api/v1/txs", Some("text/plain"), serde_json::to_vec(&good_json).unwrap())
        .await
        .assert_problem(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
    call(&app, Method::POST, "/api/v1/txs", None, good.encode())
        .await
        .assert_problem(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
    // Bad query strings.
    for q in ["wait=maybe", "timeout_ms=-1", "bogus=1", "wait=true&timeout_ms=999999"] {
        post_json(&app, &format!("/api/v1/txs?{q}"), &good_json)
            .await
            .assert_problem(StatusCode::BAD_REQUEST, "invalid_parameter");
    }
    // Lookups.
    get(&app, "/api/v1/accounts/not-an-address").await.assert_problem(StatusCode::BAD_REQUEST, "invalid_parameter");
    get(&app, &format!("/api/v1/accounts/{dev}?prove=yes")).await.assert_problem(StatusCode::BAD_REQUEST, "invalid_parameter");
    get(&app, "/api/v1/txs/xyz").await.assert_problem(StatusCode::BAD_REQUEST, "invalid_parameter");
    get(&app, &format!("/api/v1/txs/{}", "ab".repeat(31))).await.assert_problem(StatusCode::BAD_REQUEST, "invalid_parameter");
    get(&app, &format!("/api/v1/txs/{}", good.id())).await.assert_problem(StatusCode::NOT_FOUND, "transaction_not_found");
    get(&app, "/api/v1/blocks/999999999").await.assert_problem(StatusCode::NOT_FOUND, "block_not_found");
    get(&app, "/api/v1/blocks/0").await.assert_problem(StatusCode::NOT_FOUND, "block_not_found");
    get(&app, "/api/v1/blocks/-1").await.assert_problem(StatusCode::BAD_REQUEST, "invalid_parameter");
    get(&app, "/api/v1/blocks/tip").await.assert_problem(StatusCode::BAD_REQUEST, "invalid_parameter");
    // Routing.
    get(&app, "/api/v1/nope").await.assert_problem(StatusCode::NOT_FOUND, "not_found");
    get(&app, "/").await.assert_problem(StatusCode::NOT_FOUND, "not_found");
    call(&app, Method::POST, "/api/v2/txs", Some("application/json"), Vec::new())
        .await
        .assert_problem(StatusCode::NOT_FOUND, "not_found");
    let r = get(&app, "/api/v1/txs").await;
    r.assert_problem(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    assert!(r.headers.get(header::ALLOW).is_some_and(|a| a.to_str().unwrap().contains("POST")));
    call(&app, Method::DELETE, "/api/v1/status", None, Vec::new())
        .await
        .assert_problem(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    call(&app, Method::PUT, "/healthz", None, Vec::new())
        .await
        .assert_problem(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");

    // Nothing was written: the sender is unchanged, nothing is pending, the good transaction
    // (never successfully submitted) is unknown.
    assert_eq!(account(&app, &dev).await, before);
    assert_eq!(mempool_size(&app).await, 0);
    get(&app, &format!("/api/v1/txs/{}", good.id())).await.assert_problem(StatusCode::NOT_FOUND, "transaction_not_found");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pending_duplicates_conflict_full_pools_throttle_and_stopping_is_503() {
    // Blocks are cut only after a minute, and the pool holds one transaction.
    let mut config = depin_node::NodeConfig::default();
    config.sequencer.block_interval_ms = 60_000;
    config.sequencer.empty_block_interval_ms = 0;
    config.mempool.max_txs = 1;
    let mut t = TestNode::start_with(config);
    let app = app(&t);
    let dev = t.dev_key.public_key().address();
    let tx = transfer(&t, 0, fresh_address(), 10);
    let json = serde_json::to_value(&tx).unwrap();

    // A wait that times out answers 202 pending.
    let r = post_json(&app, "/api/v1/txs?wait=true&timeout_ms=100", &json).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text());
    assert_eq!(r.json()["status"], "pending");
    assert_eq!(r.json()["tx_id"], tx.id().to_hex());
    let r = get(&app, &format!("/api/v1/txs/{}", tx.id())).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["status"], "pending");

    // The same transaction again, or another with the same nonce.
    post_json(&app, "/api/v1/txs", &json).await.assert_problem(StatusCode::CONFLICT, "duplicate_transaction");
    post_bytes(&app, "/api/v1/txs", tx.encode()).await.assert_problem(StatusCode::CONFLICT, "duplicate_transaction");
    let same_nonce = transfer(&t, 0, fresh_address(), 11);
    post_bytes(&app, "/api/v1/txs", same_nonce.encode())
        .await
        .assert_problem(StatusCode::CONFLICT, "duplicate_transaction");

    // A nonce far ahead.
    let far = transfer(&t, 1_000_000, fresh_address(), 1);
    post_bytes(&app, "/api/v1/txs", far.encode()).await.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "nonce_too_high");

    // The pool is full: 429 with Retry-After.
    let next = transfer(&t, 1, fresh_address(), 1);
    let r = post_bytes(&app, "/api/v1/txs", next.encode()).await;
    let p = r.assert_problem(StatusCode::TOO_MANY_REQUESTS, "mempool_full");
    assert_eq!(p["limit"], 1);
    assert_eq!(r.headers[header::RETRY_AFTER], "1");

    assert_eq!(mempool_size(&app).await, 1);
    assert_eq!(account(&app, &dev).await.1, 0);

    // A stopping node refuses submissions with 503 and says so on /healthz (a load balancer
    // stops sending), but still answers reads.
    t.stop_sequencer();
    let r = post_bytes(&app, "/api/v1/txs", next.encode()).await;
    r.assert_problem(StatusCode::SERVICE_UNAVAILABLE, "shutting_down");
    get(&app, "/healthz").await.assert_problem(StatusCode::SERVICE_UNAVAILABLE, "shutting_down");
    assert_eq!(get(&app, "/api/v1/status").await.status, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_stream_block_messages() {
    let t = TestNode::start();
    let app = app(&t);
    let resp = app
        .clone()
        .oneshot(Request::get("/api/v1/events").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()[header::CONTENT_TYPE], "text/event-stream");
    let mut body = resp.into_body();

    let tx = transfer(&t, 0, fresh_address(), 1);
    let r = post_bytes(&app, "/api/v1/txs", tx.encode()).await;
    assert_eq!(r.status, StatusCode::ACCEPTED);

    let mut seen = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !seen.contains("event: block") || !seen.contains("\n\n") {
        let frame = tokio::time::timeout_at(deadline, body.frame())
            .await
            .expect("a block event arrives in time")
            .expect("the stream is open")
            .expect("frame");
        if let Some(data) = frame.data_ref() {
            seen.push_str(&String::from_utf8_lossy(data));
        }
    }
    let message = seen.split("\n\n").find(|m| m.contains("event: block")).unwrap();
    let data = message.lines().find_map(|l| l.strip_prefix("data: ")).expect("data line");
    let event: Value = serde_json::from_str(data).unwrap();
    assert_eq!(event["type"], "block");
    let height = event["height"].as_u64().unwrap();
    assert!(message.lines().any(|l| l == format!("id: {height}")), "{message}");
    let doc = get(&app, "/api/v1/openapi.json").await.json();
    assert_conforms(&doc, "Event", &event);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_answers_on_a_socket_and_shuts_down_despite_open_event_streams() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let t = TestNode::start();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(depin_api::serve(listener, app(&t), async move {
        let _ = stop_rx.await;
    }));

    let mut health = tokio::net::TcpStream::connect(addr).await.unwrap();
    health.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await.unwrap();
    let mut out = String::new();
    tokio::time::timeout(Duration::from_secs(10), health.read_to_string(&mut out)).await.unwrap().unwrap();
    assert!(out.starts_with("HTTP/1.1 200"), "{out}");
    assert!(out.contains("\"status\":\"ok\""), "{out}");

    let mut events = tokio::net::TcpStream::connect(addr).await.unwrap();
    events.write_all(b"GET /api/v1/events HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
    let mut buf = [0u8; 1024];
    let n = tokio::time::timeout(Duration::from_secs(10), events.read(&mut buf)).await.unwrap().unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));

    stop_tx.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .expect("serve returns although an event stream was open")
        .unwrap()
        .unwrap();
    // The event stream was ended by the server.
    let mut rest = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), events.read_to_end(&mut rest)).await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reconnecting_subscriber_gets_the_blocks_it_missed() {
    let t = TestNode::start();
    let app = app(&t);
    // Two blocks are committed while nobody listens.
    for nonce in 0..2 {
        let tx = transfer(&t, nonce, fresh_address(), 1);
        let r = post_json(&app, "/api/v1/txs?wait=true", &serde_json::to_value(&tx).unwrap()).await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.json());
    }
    let head = get(&app, "/api/v1/status").await.json()["height"].as_u64().unwrap();
    assert!(head >= 2);
    let resp = app
        .clone()
        .oneshot(Request::get("/api/v1/events").header("last-event-id", "0").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let mut body = resp.into_body();
    let mut seen = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !seen.contains(&format!("id: {head}\n")) {
        let frame = tokio::time::timeout_at(deadline, body.frame())
            .await
            .expect("the missed blocks arrive in time")
            .expect("the stream is open")
            .expect("frame");
        if let Some(data) = frame.data_ref() {
            seen.push_str(&String::from_utf8_lossy(data));
        }
    }
    // Every height from 1 to the head, once each and in order.
    let ids: Vec<u64> = seen
        .lines()
        .filter_map(|l| l.strip_prefix("id: "))
        .map(|h| h.parse().unwrap())
        .collect();
    assert_eq!(ids, (1..=head).collect::<Vec<_>>(), "{seen}");
}

/// Evidence against the chain's only validator (the node key): `signer` signs two different
/// notarize votes in `view`.
fn equivocation(t: &TestNode, signer: &SecretKey, view: u64) -> depin_types::Evidence {
    use depin_types::evidence::{signed_bytes, Round, SignedVote, Vote, VotedProposal};
    let chain = t.node.chain_id().to_string();
    let vote = |payload: u8| {
        Vote::Notarize(VotedProposal {
            round: Round { epoch: 0, view },
            parent_view: view - 1,
            payload: depin_types::Hash32([payload; 32]),
        })
    };
    let sign = |vote: Vote| SignedVote { vote, signature: signer.sign(&signed_bytes(&chain, &vote)) };
    depin_types::Evidence { offender: signer.public_key(), first: sign(vote(1)), second: sign(vote(2)) }
}

fn report(t: &TestNode, nonce: u64, evidence: depin_types::Evidence) -> Value {
    let c = TxContent { body: TxBody::ReportEvidence { evidence }, ..content(t, nonce, fresh_address(), 0) };
    serde_json::to_value(c.sign(&t.dev_key)).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn evidence_is_recorded_listed_and_refused_when_false_or_repeated() {
    let t = TestNode::start();
    let app = app(&t);
    let validator = depin_node::read_node_key(&t.home, None).unwrap();
    let doc = get(&app, "/api/v1/openapi.json").await.json();
    assert_eq!(get(&app, "/api/v1/evidence").await.json(), serde_json::json!({"evidence": []}));

    // Two faults in views 5 and 6, reported by the dev account.
    for (nonce, view) in [(0, 5), (1, 6)] {
        let r = post_json(&app, "/api/v1/txs?wait=true", &report(&t, nonce, equivocation(&t, &validator, view))).await;
        assert_eq!(r.json()["receipt"]["outcome"]["status"], "applied", "{}", r.text());
    }
    let page = get(&app, "/api/v1/evidence").await.json();
    assert_conforms(&doc, "EvidencePage", &page);
    let list = page["evidence"].as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["kind"], "conflicting_notarize");
    assert_eq!(list[0]["round"]["view"], 5);
    assert_eq!(list[0]["offender"], serde_json::to_value(validator.public_key()).unwrap());
    assert_eq!(list[0]["reporter"], t.dev_key.public_key().address().to_string());

    // Pages of one, following the cursor; filter by offender.
    let first = get(&app, "/api/v1/evidence?limit=1").await.json();
    assert_eq!(first["evidence"].as_array().unwrap().len(), 1);
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = get(&app, &format!("/api/v1/evidence?limit=1&cursor={cursor}")).await.json();
    assert_eq!(second["evidence"][0]["round"]["view"], 6);
    assert!(second.get("next_cursor").is_none(), "{second}");
    let other = fresh_address();
    assert_eq!(get(&app, &format!("/api/v1/evidence?offender={other}")).await.json()["evidence"], serde_json::json!([]));
    let mine = get(&app, &format!("/api/v1/evidence?offender={}", validator.public_key().address())).await.json();
    assert_eq!(mine["evidence"].as_array().unwrap().len(), 2);

    // The same fault again, a fault of a non-validator, a forged vote: refused at the door.
    let again = post_json(&app, "/api/v1/txs", &report(&t, 2, equivocation(&t, &validator, 5))).await;
    again.assert_problem(StatusCode::CONFLICT, "evidence_already_recorded");
    let stranger = SecretKey::generate(Scheme::Ed25519).unwrap();
    let p = post_json(&app, "/api/v1/txs", &report(&t, 2, equivocation(&t, &stranger, 7))).await
        .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "invalid_evidence");
    assert_eq!(p["problem"], "not_a_validator");
    let mut forged = equivocation(&t, &validator, 7);
    forged.second.signature = stranger.sign(b"anything");
    let p = post_json(&app, "/api/v1/txs", &report(&t, 2, forged)).await
        .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "invalid_evidence");
    assert_eq!(p["problem"], "bad_vote_signature");
    assert_eq!(account(&app, &t.dev_key.public_key().address()).await.1, 2, "nothing refused was charged");

    // Bad queries.
    for q in ["limit=0", "limit=1001", "offender=nope", "cursor=zz", "cursor=", "bogus=1"] {
        get(&app, &format!("/api/v1/evidence?{q}")).await.assert_problem(StatusCode::BAD_REQUEST, "invalid_parameter");
    }
}
