//! The report every benchmark suite returns: one JSON document of a fixed shape (DESIGN.md §4).
//!
//! ```json
//! {"suite": "ledger", "machine": {"cpus": 2, "model": "..."}, "date": "2026-11-21",
//!  "results": [{"name": "...", "value": 1.0, "unit": "...", "target": {"op": ">=", "value": 1.0}}]}
//! ```
//!
//! `target` is present only where DESIGN.md §4 sets one; a ratio to a physical reference is a
//! result of its own (unit `"ratio"`), so every target can be checked from the document alone.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

/// One suite's results on one machine on one day.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BenchReport {
    /// The suite name (`"ledger"`, …).
    pub suite: String,
    /// Where it ran.
    pub machine: Machine,
    /// UTC date of the run, `YYYY-MM-DD`.
    pub date: String,
    /// The measurements, in a stable order.
    pub results: Vec<BenchResult>,
}

/// The machine a report was measured on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Machine {
    /// Logical CPUs available to the process.
    pub cpus: usize,
    /// CPU model name (from `/proc/cpuinfo` on Linux; `"unknown"` elsewhere).
    pub model: String,
}

/// One measurement.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BenchResult {
    /// Stable snake_case name.
    pub name: String,
    /// The measured value.
    pub value: f64,
    /// Unit of `value` (`"tx/s"`, `"us"`, `"ratio"`, …).
    pub unit: String,
    /// The quality bar, where DESIGN.md §4 sets one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<Target>,
}

/// A quality bar: `value op target.value` must hold.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Target {
    /// The comparison.
    pub op: Op,
    /// The bound.
    pub value: f64,
}

/// The comparison of a [`Target`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Op {
    /// The result must be at least the bound.
    #[serde(rename = ">=")]
    AtLeast,
    /// The result must be at most the bound.
    #[serde(rename = "<=")]
    AtMost,
}

impl Op {
    /// `">="` or `"<="`.
    pub fn symbol(self) -> &'static str {
        match self {
            Op::AtLeast => ">=",
            Op::AtMost => "<=",
        }
    }
}

impl Target {
    /// At least `value`.
    pub fn at_least(value: f64) -> Target {
        Target { op: Op::AtLeast, value }
    }

    /// At most `value`.
    pub fn at_most(value: f64) -> Target {
        Target { op: Op::AtMost, value }
    }

    /// True if `measured` meets the bar.
    pub fn met_by(&self, measured: f64) -> bool {
        match self.op {
            Op::AtLeast => measured >= self.value,
            Op::AtMost => measured <= self.value,
        }
    }
}

/// Round to three decimals: enough for µs and ratios, and keeps the JSON readable.
fn round3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

impl BenchResult {
    /// A result without a target. The value is rounded to three decimals.
    pub fn new(name: impl Into<String>, value: f64, unit: impl Into<String>) -> BenchResult {
        BenchResult { name: name.into(), value: round3(value), unit: unit.into(), target: None }
    }

    /// The same result with a target.
    pub fn with_target(mut self, target: Target) -> BenchResult {
        self.target = Some(target);
        self
    }

    /// Whether the target is met; `None` if there is no target.
    pub fn passed(&self) -> Option<bool> {
        self.target.map(|t| t.met_by(self.value))
    }
}

impl BenchReport {
    /// The result named `name`.
    pub fn result(&self, name: &str) -> Option<&BenchResult> {
        self.results.iter().find(|r| r.name == name)
    }

    /// True if every result with a target meets it.
    pub fn all_targets_met(&self) -> bool {
        self.results.iter().all(|r| r.passed() != Some(false))
    }

    /// The JSON document (pretty-printed).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("invariant: a report is plain data and always serializes")
    }

    /// A human-readable table: one row per result with its target and pass/FAIL.
    pub fn to_table(&self) -> String {
        let rows: Vec<[String; 5]> = self
            .results
            .iter()
            .map(|r| {
                let target = r
                    .target
                    .map(|t| format!("{} {}", t.op.symbol(), format_value(t.value)))
                    .unwrap_or_default();
                let status = match r.passed() {
                    Some(true) => "pass",
                    Some(false) => "FAIL",
                    None => "",
                };
                [r.name.clone(), format_value(r.value), r.unit.clone(), target, status.to_string()]
            })
            .collect();
        let header = ["result", "value", "unit", "target", "status"].map(String::from);
        let mut widths = header.each_ref().map(|h| h.chars().count());
        for row in &rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let mut out = format!(
            "suite {} on {} cpus ({}), {}\n",
            self.suite, self.machine.cpus, self.machine.model, self.date
        );
        for row in std::iter::once(&header).chain(&rows) {
            let mut line = String::new();
            for (i, (cell, w)) in row.iter().zip(widths).enumerate() {
                // Names and units align left, numbers right.
                let _ = match i {
                    1 => write!(line, "{cell:>w$}  "),
                    _ => write!(line, "{cell:<w$}  "),
                };
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }
}

/// A number for the table: integers and large values without decimals, others with up to three.
fn format_value(v: f64) -> String {
    if v.fract() == 0.0 || v.abs() >= 1000.0 {
        format!("{v:.0}")
    } else {
        let s = format!("{v:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> BenchReport {
        BenchReport {
            suite: "ledger".into(),
            machine: Machine { cpus: 2, model: "Test CPU".into() },
            date: "2026-11-21".into(),
            results: vec![
                BenchResult::new("tx_per_s", 51234.56789, "tx/s").with_target(Target::at_least(50_000.0)),
                BenchResult::new("ratio", 1.7, "ratio").with_target(Target::at_most(1.5)),
                BenchResult::new("info_us", 12.0, "us"),
            ],
        }
    }

    #[test]
    fn json_has_the_design_shape() {
        let v: serde_json::Value = serde_json::from_str(&sample().to_json()).unwrap();
        assert_eq!(v["suite"], "ledger");
        assert_eq!(v["machine"]["cpus"], 2);
        assert_eq!(v["results"][0]["target"]["op"], ">=");
        assert_eq!(v["results"][0]["value"], 51234.568);
        assert_eq!(v["results"][1]["target"]["op"], "<=");
        assert!(v["results"][2].get("target").is_none(), "no target key without a target");
        let back: BenchReport = serde_json::from_value(v).unwrap();
        assert_eq!(back, sample());
    }

    #[test]
    fn pass_and_fail() {
        let r = sample();
        assert_eq!(r.results[0].passed(), Some(true));
        assert_eq!(r.results[1].passed(), Some(false));
        assert_eq!(r.results[2].passed(), None);
        assert!(!r.all_targets_met());
        let table = r.to_table();
        assert!(table.contains("FAIL") && table.contains("pass") && table.contains(">= 50000"));
    }
}
