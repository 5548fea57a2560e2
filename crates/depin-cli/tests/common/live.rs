//! Helpers for live end-to-end scenarios: the node's SSE stream and TOML edits of a home's
//! genesis and config files.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

/// One server-sent event: its name and JSON data.
#[derive(Clone, Debug)]
pub struct Sse {
    pub event: String,
    pub data: Value,
}

/// Subscribe to `GET /api/v1/events` (subscribed when this returns) and forward every event
/// except blocks from a thread.
pub fn subscribe(url: &str) -> mpsc::Receiver<Sse> {
    let sse: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(None)
        .timeout_connect(Some(Duration::from_secs(10)))
        .build()
        .into();
    let response = sse.get(format!("{url}/api/v1/events")).header("accept", "text/event-stream").call().unwrap();
    assert_eq!(response.status().as_u16(), 200, "GET /api/v1/events");
    let reader = BufReader::new(response.into_body().into_reader());
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut event = String::new();
        for line in reader.lines().map_while(Result::ok) {
            if let Some(name) = line.strip_prefix("event:") {
                event = name.trim().to_string();
            } else if let Some(data) = line.strip_prefix("data:") {
                if event != "block" {
                    let data = serde_json::from_str(data.trim()).unwrap_or(Value::String(data.to_string()));
                    if tx.send(Sse { event: event.clone(), data }).is_err() {
                        return;
                    }
                }
            } else if line.is_empty() {
                event.clear();
            }
        }
    });
    rx
}

/// Set `section.key = value` in the TOML file at `path`.
pub fn edit_toml(path: &Path, edits: &[(&str, &str, toml::Value)]) {
    let mut doc: toml::Table = std::fs::read_to_string(path).unwrap().parse().unwrap();
    for (section, key, value) in edits {
        let table = doc
            .entry(section.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()))
            .as_table_mut()
            .unwrap_or_else(|| panic!("[{section}] of {} is not a table", path.display()));
        table.insert(key.to_string(), value.clone());
    }
    std::fs::write(path, toml::to_string(&doc).unwrap()).unwrap();
}

pub fn int(v: u64) -> toml::Value {
    toml::Value::Integer(i64::try_from(v).unwrap())
}

