//! Speak the node's telemetry ingest contract over HTTP: read the chain's telemetry parameters,
//! send batches of signed reports (borsh), and tell apart "accepted or refused", "busy, retry
//! after N seconds" and "unreachable".
//!
//! Blocking, with one global timeout per request and bounded answers: a device has nothing else
//! to do while it waits, and an agent runs this off any async runtime.

use std::time::Duration;

use depin_types::asset::{Asset, AssetId, AssetStatus};
use depin_types::codec::encode;
use depin_types::telemetry::{SignedReport, TelemetryParams, MAX_INGEST_BODY_BYTES, MAX_REPORTS_PER_BATCH};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// Largest answer read from the node (an ingest answer lists one result per report).
const ANSWER_BYTES_MAX: u64 = 4 << 20;
/// Longest `Retry-After` honoured; a longer one is shortened to this.
pub const RETRY_AFTER_MAX: Duration = Duration::from_secs(300);
/// The wait when a `429` carries no readable `Retry-After`.
const RETRY_AFTER_DEFAULT: Duration = Duration::from_secs(1);
/// Highest H3 resolution.
const RESOLUTION_MAX: u8 = 15;

/// The chain's telemetry settings (`GET /api/v1/telemetry/params`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TelemetryInfo {
    /// The chain reports are signed for.
    pub chain_id: String,
    /// The H3 resolution of fixes (the registry's).
    pub location_resolution: u8,
    /// Epochs, buckets, windows and bands.
    pub params: TelemetryParams,
}

/// An asset as the node shows it (`GET /api/v1/assets/{id}`): the ledger's record and the
/// status it counts as.
#[derive(Clone, Debug, Deserialize)]
pub struct RegisteredAsset {
    /// The record: class and capacity, device key, status.
    #[serde(flatten)]
    pub asset: Asset,
    /// The status it counts as (`suspended` when its vendor is revoked).
    pub effective_status: AssetStatus,
}

/// The node's verdict on a batch (`200` from `POST /api/v1/telemetry`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IngestAnswer {
    /// Reports accepted.
    pub accepted: u32,
    /// Reports refused.
    pub rejected: u32,
    /// One result per report.
    pub results: Vec<IngestResult>,
}

/// The verdict on one report of a batch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IngestResult {
    /// Its position in the batch.
    pub index: u32,
    /// `accepted` or a `ReportCode` name.
    pub code: String,
    /// Why, for people.
    #[serde(default)]
    pub message: String,
}

/// What became of a batch that reached the node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Sent {
    /// The node judged every report.
    Answered(IngestAnswer),
    /// The node is overloaded (`429`): send the same reports again after this delay (at most
    /// [`RETRY_AFTER_MAX`]).
    RetryAfter(Duration),
}

/// Why a request to the node failed.
#[derive(Debug, thiserror::Error)]
pub enum UplinkError {
    /// No answer: connection refused, DNS, timeout. Retry later.
    #[error("cannot reach the node at {url}: {detail}")]
    Unreachable {
        /// The URL asked.
        url: String,
        /// The transport's error.
        detail: String,
    },
    /// The node answered 5xx (starting, stopping, failing). Retry later.
    #[error("the node is unavailable: {detail} ({code}, HTTP {status})")]
    Unavailable {
        /// HTTP status.
        status: u16,
        /// The problem's stable code.
        code: String,
        /// The problem's detail.
        detail: String,
    },
    /// The node refused the request (4xx other than 429): sending it again will not help.
    #[error("the node refused the request: {detail} ({code}, HTTP {status})")]
    Refused {
        /// HTTP status.
        status: u16,
        /// The problem's stable code.
        code: String,
        /// The problem's detail.
        detail: String,
    },
    /// The answer is not what the contract says.
    #[error("unexpected answer from {url}: {detail}")]
    BadAnswer {
        /// The URL asked.
        url: String,
        /// What is wrong.
        detail: String,
    },
    /// The batch is larger than a node accepts (a caller's mistake, caught before sending).
    #[error("a batch of {reports} reports ({bytes} bytes) is over the limit of {MAX_REPORTS_PER_BATCH} reports and {MAX_INGEST_BODY_BYTES} bytes")]
    BatchTooLarge {
        /// Reports in the batch.
        reports: usize,
        /// Encoded size.
        bytes: usize,
    },
}

impl UplinkError {
    /// True when the same request may succeed later (the node is down, busy or restarting).
    pub fn is_transient(&self) -> bool {
        matches!(self, UplinkError::Unreachable { .. } | UplinkError::Unavailable { .. })
    }
}

/// A blocking HTTP client for one node's telemetry endpoints.
pub struct Uplink {
    base: String,
    agent: ureq::Agent,
}

impl Uplink {
    /// A client for the node at `base` (e.g. `http://127.0.0.1:8787`); every request gives up
    /// after `timeout`.
    pub fn new(base: &str, timeout: Duration) -> Uplink {
        let agent =
            ureq::Agent::config_builder().http_status_as_error(false).timeout_global(Some(timeout)).build().into();
        Uplink { base: base.trim_end_matches('/').to_string(), agent }
    }

    /// The node's base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The chain id, fix resolution and telemetry parameters, checked (rule M-9) before use.
    ///
    /// # Errors
    ///
    /// Any [`UplinkError`]; [`UplinkError::BadAnswer`] for parameters that do not validate.
    pub fn telemetry_info(&self) -> Result<TelemetryInfo, UplinkError> {
        let url = self.url("/api/v1/telemetry/params");
        let resp = self.agent.get(&url).call().map_err(|e| unreachable(&url, &e))?;
        let info: TelemetryInfo = decode_ok(&url, resp)?;
        let bad = |detail: String| UplinkError::BadAnswer { url: url.clone(), detail };
        info.params.validate().map_err(|e| bad(format!("invalid telemetry parameters: {e}")))?;
        if info.location_resolution > RESOLUTION_MAX || info.chain_id.is_empty() {
            return Err(bad(format!(
                "chain id {:?} with location resolution {}",
                info.chain_id, info.location_resolution
            )));
        }
        Ok(info)
    }

    /// Send a batch of reports (borsh-encoded `Vec<SignedReport>`).
    ///
    /// # Errors
    ///
    /// [`UplinkError::BatchTooLarge`] before sending; the others from the node or the network.
    pub fn send(&self, reports: &[SignedReport]) -> Result<Sent, UplinkError> {
        let body = encode(&reports.to_vec());
        if reports.len() > MAX_REPORTS_PER_BATCH || body.len() > MAX_INGEST_BODY_BYTES {
            return Err(UplinkError::BatchTooLarge { reports: reports.len(), bytes: body.len() });
        }
        let url = self.url("/api/v1/telemetry");
        let resp = self
            .agent
            .post(&url)
            .header("content-type", "application/octet-stream")
            .send(&body[..])
            .map_err(|e| unreachable(&url, &e))?;
        if resp.status().as_u16() == 429 {
            let wait = resp
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map_or(RETRY_AFTER_DEFAULT, Duration::from_secs);
            return Ok(Sent::RetryAfter(wait.min(RETRY_AFTER_MAX)));
        }
        let answer: IngestAnswer = decode_ok(&url, resp)?;
        // Exactly one result per report: indexes are a permutation of 0..n.
        let mut indexes: Vec<usize> = answer.results.iter().map(|r| r.index as usize).collect();
        indexes.sort_unstable();
        if !indexes.iter().copied().eq(0..reports.len()) {
            return Err(UplinkError::BadAnswer {
                url,
                detail: format!("results for positions {indexes:?} of a batch of {} reports", reports.len()),
            });
        }
        Ok(Sent::Answered(answer))
    }

    /// The registered asset `id`, or `None` if the ledger has none.
    ///
    /// # Errors
    ///
    /// Any [`UplinkError`] but a `404 asset_not_found`.
    pub fn asset(&self, id: &AssetId) -> Result<Option<RegisteredAsset>, UplinkError> {
        let url = self.url(&format!("/api/v1/assets/{id}"));
        let resp = self.agent.get(&url).call().map_err(|e| unreachable(&url, &e))?;
        match decode_ok::<RegisteredAsset>(&url, resp) {
            Ok(a) if a.asset.id == *id => Ok(Some(a)),
            Ok(a) => Err(UplinkError::BadAnswer { url, detail: format!("an answer about asset {}", a.asset.id) }),
            Err(UplinkError::Refused { status: 404, code, .. }) if code == "asset_not_found" => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The last sequence number the ledger accepted from `asset` (`last_seq` of
    /// `GET /api/v1/assets/{id}/health`), or `None` before its first report.
    ///
    /// # Errors
    ///
    /// Any [`UplinkError`].
    pub fn ledger_last_seq(&self, asset: &AssetId) -> Result<Option<u64>, UplinkError> {
        #[derive(Deserialize)]
        struct Health {
            #[serde(default)]
            last_seq: Option<u64>,
        }
        let url = self.url(&format!("/api/v1/assets/{asset}/health?epochs=1"));
        let resp = self.agent.get(&url).call().map_err(|e| unreachable(&url, &e))?;
        Ok(decode_ok::<Health>(&url, resp)?.last_seq)
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

fn unreachable(url: &str, e: &ureq::Error) -> UplinkError {
    UplinkError::Unreachable { url: url.to_string(), detail: e.to_string() }
}

/// A 2xx answer as `T`; anything else as the problem it carries.
fn decode_ok<T: DeserializeOwned>(url: &str, mut resp: ureq::http::Response<ureq::Body>) -> Result<T, UplinkError> {
    let status = resp.status().as_u16();
    let text =
        resp.body_mut().with_config().limit(ANSWER_BYTES_MAX).read_to_string().map_err(|e| {
            UplinkError::Unreachable { url: url.to_string(), detail: format!("reading the answer: {e}") }
        })?;
    if (200..300).contains(&status) {
        return serde_json::from_str(&text)
            .map_err(|e| UplinkError::BadAnswer { url: url.to_string(), detail: e.to_string() });
    }
    let problem: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    let code = problem["code"].as_str().unwrap_or("unknown").to_string();
    let detail = problem["detail"].as_str().or(problem["title"].as_str()).unwrap_or(text.trim()).to_string();
    if status >= 500 {
        Err(UplinkError::Unavailable { status, code, detail })
    } else {
        Err(UplinkError::Refused { status, code, detail })
    }
}

#[cfg(test)]
mod tests {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::TcpListener;
    use std::thread::JoinHandle;

    use depin_crypto::{Scheme, SecretKey};
    use depin_types::codec::decode_bounded;
    use depin_types::telemetry::Metrics;

    use super::*;
    use crate::Reporter;

    /// What the stand-in node saw: method and path, content type, body.
    type Seen = (String, String, Vec<u8>);

    /// A one-request HTTP server on loopback that answers with `response` (status line, headers
    /// and body) and hands back the request it got.
    fn serve_once(response: String) -> (String, JoinHandle<Seen>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let handle = std::thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            let request_line = line.trim_end().to_string();
            let (mut content_type, mut length) = (String::new(), 0usize);
            loop {
                line.clear();
                reader.read_line(&mut line).unwrap();
                let header = line.trim_end().to_ascii_lowercase();
                if header.is_empty() {
                    break;
                }
                if let Some(v) = header.strip_prefix("content-type:") {
                    content_type = v.trim().to_string();
                }
                if let Some(v) = header.strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap();
                }
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            let mut stream = stream;
            stream.write_all(response.as_bytes()).unwrap();
            (request_line, content_type, body)
        });
        (base, handle)
    }

    fn http(status: &str, headers: &str, body: &str) -> String {
        format!("HTTP/1.1 {status}\r\n{headers}content-length: {}\r\nconnection: close\r\n\r\n{body}", body.len())
    }

    fn reports(n: usize) -> Vec<SignedReport> {
        let key = SecretKey::from_seeds(Scheme::Ed25519, &[9; 32]).unwrap();
        let mut r = Reporter::new(key, "depin-test", TelemetryParams::dev(), 5);
        (0..n)
            .map(|i| r.report(1_700_000_000_000 + i as u64 * 1_000, 1, Metrics::Sensor { readings: 1 }, None))
            .collect()
    }

    fn uplink(base: &str) -> Uplink {
        Uplink::new(base, Duration::from_secs(5))
    }

    #[test]
    fn batches_go_out_as_borsh_and_come_back_judged() {
        let body = r#"{"accepted":1,"rejected":1,"results":[{"index":0,"code":"accepted","message":""},{"index":1,"code":"stale_sequence","message":"seq 6 is not above 9"}]}"#;
        let (base, server) = serve_once(http("200 OK", "content-type: application/json\r\n", body));
        let batch = reports(2);
        let sent = uplink(&base).send(&batch).unwrap();
        let Sent::Answered(answer) = sent else { panic!("{sent:?}") };
        assert_eq!((answer.accepted, answer.rejected), (1, 1));
        assert_eq!(answer.results[1].code, "stale_sequence");
        let (request, content_type, got) = server.join().unwrap();
        assert_eq!(request, "POST /api/v1/telemetry HTTP/1.1");
        assert_eq!(content_type, "application/octet-stream");
        let decoded: Vec<SignedReport> = decode_bounded(&got, MAX_INGEST_BODY_BYTES).unwrap();
        assert_eq!(decoded, batch);
    }

    #[test]
    fn an_overloaded_node_says_when_to_send_the_same_reports_again() {
        let problem = r#"{"type":"about:blank","title":"overloaded","status":429,"detail":"ingest queue full","code":"ingest_overloaded"}"#;
        let (base, server) = serve_once(http("429 Too Many Requests", "retry-after: 7\r\n", problem));
        assert_eq!(uplink(&base).send(&reports(1)).unwrap(), Sent::RetryAfter(Duration::from_secs(7)));
        server.join().unwrap();
        // Without a readable header: one second; an absurd one is capped.
        let (base, server) = serve_once(http("429 Too Many Requests", "", problem));
        assert_eq!(uplink(&base).send(&reports(1)).unwrap(), Sent::RetryAfter(RETRY_AFTER_DEFAULT));
        server.join().unwrap();
        let (base, server) = serve_once(http("429 Too Many Requests", "retry-after: 999999\r\n", problem));
        assert_eq!(uplink(&base).send(&reports(1)).unwrap(), Sent::RetryAfter(RETRY_AFTER_MAX));
        server.join().unwrap();
    }

    #[test]
    fn refusals_unavailability_and_silence_are_told_apart() {
        let problem =
            r#"{"type":"about:blank","title":"bad","status":400,"detail":"not a batch","code":"malformed_body"}"#;
        let (base, server) = serve_once(http("400 Bad Request", "", problem));
        let e = uplink(&base).send(&reports(1)).unwrap_err();
        assert!(matches!(&e, UplinkError::Refused { status: 400, code, .. } if code == "malformed_body"), "{e}");
        assert!(!e.is_transient());
        server.join().unwrap();

        let (base, server) = serve_once(http("503 Service Unavailable", "", r#"{"code":"shutting_down"}"#));
        let e = uplink(&base).send(&reports(1)).unwrap_err();
        assert!(matches!(e, UplinkError::Unavailable { status: 503, .. }) && e.is_transient(), "{e}");
        server.join().unwrap();

        // A port nobody listens on.
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let e = uplink(&format!("http://127.0.0.1:{port}")).send(&reports(1)).unwrap_err();
        assert!(matches!(e, UplinkError::Unreachable { .. }) && e.is_transient(), "{e}");

        // An answer that does not judge every report exactly once is not trusted.
        for results in
            [r#"[{"index":0,"code":"accepted"}]"#, r#"[{"index":0,"code":"accepted"},{"index":0,"code":"accepted"}]"#]
        {
            let body = format!(r#"{{"accepted":1,"rejected":0,"results":{results}}}"#);
            let (base, server) = serve_once(http("200 OK", "", &body));
            assert!(matches!(uplink(&base).send(&reports(2)), Err(UplinkError::BadAnswer { .. })), "{results}");
            server.join().unwrap();
        }
    }

    #[test]
    fn telemetry_parameters_are_validated_before_use() {
        let good =
            serde_json::json!({"chain_id": "depin-local", "location_resolution": 12, "params": TelemetryParams::dev()});
        let (base, server) = serve_once(http("200 OK", "", &good.to_string()));
        let info = uplink(&base).telemetry_info().unwrap();
        assert_eq!((info.chain_id.as_str(), info.location_resolution), ("depin-local", 12));
        assert_eq!(info.params, TelemetryParams::dev());
        assert_eq!(server.join().unwrap().0, "GET /api/v1/telemetry/params HTTP/1.1");

        let bad_params = TelemetryParams { buckets_per_epoch: 0, ..TelemetryParams::dev() };
        let bad = serde_json::json!({"chain_id": "depin-local", "location_resolution": 12, "params": bad_params});
        let (base, server) = serve_once(http("200 OK", "", &bad.to_string()));
        assert!(matches!(uplink(&base).telemetry_info(), Err(UplinkError::BadAnswer { .. })));
        server.join().unwrap();
    }

    #[test]
    fn an_unregistered_asset_is_none_not_an_error() {
        let id = AssetId::of(&SecretKey::from_seeds(Scheme::Ed25519, &[9; 32]).unwrap().public_key());
        let problem =
            r#"{"type":"about:blank","title":"not found","status":404,"detail":"no asset","code":"asset_not_found"}"#;
        let (base, server) = serve_once(http("404 Not Found", "", problem));
        assert!(uplink(&base).asset(&id).unwrap().is_none());
        assert_eq!(server.join().unwrap().0, format!("GET /api/v1/assets/{id} HTTP/1.1"));
        // A wrong base URL is a 404 too, with another code: not "unregistered".
        let (base, server) = serve_once(http("404 Not Found", "", r#"{"code":"not_found"}"#));
        assert!(matches!(uplink(&base).asset(&id), Err(UplinkError::Refused { status: 404, .. })));
        server.join().unwrap();
    }

    #[test]
    fn oversized_batches_are_refused_before_sending() {
        let e = uplink("http://127.0.0.1:1").send(&vec![reports(1)[0].clone(); MAX_REPORTS_PER_BATCH + 1]).unwrap_err();
        assert!(matches!(e, UplinkError::BatchTooLarge { .. }), "{e}");
    }
}
