//! Print results as an aligned table for people or as JSON for scripts (`-o table|json`).

use serde::Serialize;

/// Output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Aligned key/value lines or columns.
    Table,
    /// One JSON document on stdout.
    Json,
}

/// Print `value` as JSON, or as `key  value` lines built by `rows`.
pub fn print<T: Serialize>(format: Format, value: &T, rows: impl FnOnce(&T) -> Vec<(String, String)>) {
    match format {
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(value).expect("invariant: output types serialize")
        ),
        Format::Table => {
            let rows = rows(value);
            let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
            for (k, v) in rows {
                println!("{k:<width$}  {v}");
            }
        }
    }
}

/// Print rows with a header as aligned columns (table) or the values as a JSON array.
pub fn print_list<T: Serialize>(format: Format, items: &[T], header: &[&str], row: impl Fn(&T) -> Vec<String>) {
    match format {
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(items).expect("invariant: output types serialize")
        ),
        Format::Table => {
            let rows: Vec<Vec<String>> = items.iter().map(row).collect();
            let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
            for r in &rows {
                for (i, c) in r.iter().enumerate() {
                    widths[i] = widths[i].max(c.len());
                }
            }
            let line = |cells: Vec<String>| {
                cells
                    .iter()
                    .enumerate()
                    .map(|(i, c)| format!("{c:<w$}", w = widths[i]))
                    .collect::<Vec<_>>()
                    .join("  ")
                    .trim_end()
                    .to_string()
            };
            println!("{}", line(header.iter().map(|h| h.to_string()).collect()));
            for r in rows {
                println!("{}", line(r));
            }
        }
    }
}
