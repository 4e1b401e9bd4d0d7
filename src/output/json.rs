//! `--format json`: the report as one JSON document.

use super::Report;

pub fn render(report: &Report) -> String {
    serde_json::to_string_pretty(report).unwrap_or_default()
}
