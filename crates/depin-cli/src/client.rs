//! Talk to a running node over HTTP and turn problem+json answers into CLI errors.

use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::{CliError, CliResult, ExitCode};

/// An HTTP client for one node.
pub struct Client {
    base: String,
    agent: ureq::Agent,
}

impl Client {
    /// A client for the node at `base` (e.g. `http://127.0.0.1:8787`).
    pub fn new(base: &str) -> Client {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into();
        Client { base: base.trim_end_matches('/').to_string(), agent }
    }

    /// The base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// GET a JSON document.
    pub fn get<T: DeserializeOwned>(&self, path: &str) -> CliResult<T> {
        let url = format!("{}{path}", self.base);
        let resp = self.agent.get(&url).call().map_err(|e| self.unreachable(e))?;
        Self::decode(resp)
    }

    /// POST a JSON body, read a JSON answer.
    pub fn post_json<B: Serialize, T: DeserializeOwned>(&self, path: &str, body: &B) -> CliResult<T> {
        let url = format!("{}{path}", self.base);
        let bytes = serde_json::to_vec(body).map_err(CliError::fail)?;
        let resp = self
            .agent
            .post(&url)
            .header("content-type", "application/json")
            .send(&bytes[..])
            .map_err(|e| self.unreachable(e))?;
        Self::decode(resp)
    }

    fn unreachable(&self, e: ureq::Error) -> CliError {
        CliError::with_code(ExitCode::Unreachable, format!("cannot reach the node at {}: {e}", self.base))
            .hint("is `depin up` running? Point at it with --node URL or DEPIN_NODE")
    }

    fn decode<T: DeserializeOwned>(mut resp: ureq::http::Response<ureq::Body>) -> CliResult<T> {
        let status = resp.status().as_u16();
        let text = resp
            .body_mut()
            .with_config()
            .limit(64 * 1024 * 1024)
            .read_to_string()
            .map_err(|e| CliError::fail(format!("reading the node's answer: {e}")))?;
        if (200..300).contains(&status) {
            return serde_json::from_str(&text)
                .map_err(|e| CliError::fail(format!("unexpected answer from the node: {e}")));
        }
        let problem: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        let code = problem["code"].as_str().unwrap_or("unknown").to_string();
        let detail = problem["detail"].as_str().or(problem["title"].as_str()).unwrap_or(&text).to_string();
        // The stable problem `code` decides the exit code, not the HTTP status: a wrong base URL
        // (route `not_found`) is not a missing account.
        let exit = match code.as_str() {
            c if c.ends_with("_not_found") => ExitCode::NotFound,
            "mempool_full" | "sender_queue_full" | "shutting_down" | "unavailable" => ExitCode::Unreachable,
            "not_found" | "method_not_allowed" => ExitCode::Failure,
            _ if matches!(status, 409 | 422) => ExitCode::Rejected,
            _ => ExitCode::Failure,
        };
        let err = CliError::with_code(exit, format!("{detail} ({code}, HTTP {status})"));
        Err(match code.as_str() {
            "mempool_full" | "sender_queue_full" | "unavailable" => err.hint("the node is busy; retry in a second"),
            "nonce_too_low" => err.hint("that nonce was used; omit --nonce to use the next one"),
            "duplicate_transaction" => {
                err.hint("a transaction with this nonce is already pending; wait for it or pass --nonce")
            }
            "unknown_account" => err.hint("the sender has never been funded: transfer to it first"),
            "query_too_broad" => err.hint("narrow the query: a smaller --radius-km, or add --class, --owner or --cell"),
            "not_found" | "method_not_allowed" => {
                err.hint("--node must be the node's base URL, e.g. http://127.0.0.1:8787 (no path)")
            }
            _ => err,
        })
    }
}
