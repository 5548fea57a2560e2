//! Count HTTP requests by route template, method and status class, and render them as Prometheus text.
//!
//! Labels are bounded: the route is the matched route template (or `unmatched`), the method is
//! one of the standard methods (or `other`), the status is a class (`2xx` … `5xx`). No global
//! recorder: the counters live in the router's state and are rendered by hand.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;

use crate::AppState;

/// Upper bounds (seconds) of the request duration histogram buckets.
const BUCKETS: [f64; 11] = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0, 30.0];

/// Route label of requests that matched no route.
const UNMATCHED: &str = "unmatched";

#[derive(Default)]
struct Histogram {
    /// Cumulative counts are computed at render time; these are per-bucket counts, plus +Inf.
    buckets: [u64; BUCKETS.len() + 1],
    sum: f64,
    count: u64,
}

#[derive(Default)]
struct Inner {
    /// (route, method, status class) -> count.
    requests: BTreeMap<(String, &'static str, &'static str), u64>,
    /// route -> duration histogram (time to the response head; streams are not timed to the end).
    durations: BTreeMap<String, Histogram>,
}

/// The HTTP counters of one router.
#[derive(Default)]
pub struct HttpMetrics {
    inner: Mutex<Inner>,
}

fn method_label(m: &Method) -> &'static str {
    match *m {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::PATCH => "PATCH",
        _ => "other",
    }
}

fn status_class(status: u16) -> &'static str {
    match status / 100 {
        1 => "1xx",
        2 => "2xx",
        3 => "3xx",
        4 => "4xx",
        _ => "5xx",
    }
}

impl HttpMetrics {
    fn record(&self, route: &str, method: &'static str, status: u16, seconds: f64) {
        let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        *g.requests.entry((route.to_string(), method, status_class(status))).or_default() += 1;
        let h = g.durations.entry(route.to_string()).or_default();
        let i = BUCKETS.iter().position(|b| seconds <= *b).unwrap_or(BUCKETS.len());
        h.buckets[i] += 1;
        h.sum += seconds;
        h.count += 1;
    }

    /// Prometheus text exposition of the counters.
    pub fn render(&self) -> String {
        let g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let mut out = String::new();
        out.push_str("# HELP depin_http_requests_total HTTP requests served, by route template, method and status class.\n");
        out.push_str("# TYPE depin_http_requests_total counter\n");
        for ((route, method, class), n) in &g.requests {
            let _ = writeln!(
                out,
                "depin_http_requests_total{{route=\"{}\",method=\"{method}\",status=\"{class}\"}} {n}",
                escape(route)
            );
        }
        out.push_str("# HELP depin_http_request_duration_seconds Time from request to response head, by route template.\n");
        out.push_str("# TYPE depin_http_request_duration_seconds histogram\n");
        for (route, h) in &g.durations {
            let route = escape(route);
            let mut cumulative = 0;
            for (i, bound) in BUCKETS.iter().enumerate() {
                cumulative += h.buckets[i];
                let _ = writeln!(
                    out,
                    "depin_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {cumulative}"
                );
            }
            cumulative += h.buckets[BUCKETS.len()];
            let _ = writeln!(
                out,
                "depin_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {cumulative}"
            );
            let _ = writeln!(out, "depin_http_request_duration_seconds_sum{{route=\"{route}\"}} {}", h.sum);
            let _ = writeln!(out, "depin_http_request_duration_seconds_count{{route=\"{route}\"}} {}", h.count);
        }
        out
    }
}

/// Escape a label value (backslash, quote, newline).
fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// Middleware: time the request and count it under its route template.
pub(crate) async fn track(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let start = Instant::now();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| UNMATCHED.to_string());
    let method = method_label(request.method());
    let response = next.run(request).await;
    state.metrics.record(&route, method, response.status().as_u16(), start.elapsed().as_secs_f64());
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_cumulative_buckets_and_bounded_labels() {
        let m = HttpMetrics::default();
        m.record("/api/v1/txs", "POST", 202, 0.002);
        m.record("/api/v1/txs", "POST", 409, 0.5);
        m.record(UNMATCHED, method_label(&Method::from_bytes(b"BREW").unwrap()), 404, 0.0);
        let text = m.render();
        assert!(text.contains("depin_http_requests_total{route=\"/api/v1/txs\",method=\"POST\",status=\"2xx\"} 1"), "{text}");
        assert!(text.contains("depin_http_requests_total{route=\"/api/v1/txs\",method=\"POST\",status=\"4xx\"} 1"));
        assert!(text.contains("route=\"unmatched\",method=\"other\",status=\"4xx\"} 1"));
        assert!(text.contains("depin_http_request_duration_seconds_bucket{route=\"/api/v1/txs\",le=\"0.005\"} 1"));
        assert!(text.contains("depin_http_request_duration_seconds_bucket{route=\"/api/v1/txs\",le=\"+Inf\"} 2"));
        assert!(text.contains("depin_http_request_duration_seconds_count{route=\"/api/v1/txs\"} 2"));
    }
}
