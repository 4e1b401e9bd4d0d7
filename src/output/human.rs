//! The default format: findings drawn the way rustc draws errors (annotate-snippets).

use super::Report;

pub fn render(report: &Report, _color: bool) -> String {
    let mut out = String::new();
    for f in &report.findings {
        out.push_str(&format!("{}[{}]: {}\n", f.severity, f.rule_id, f.title));
    }
    out
}
