//! Output formats: one file per format, all drawing the same [`Report`].

pub mod human;
pub mod json;

use std::time::Duration;

use serde::Serialize;

use crate::finding::{Acknowledgement, Finding};
use crate::rules::Severity;

/// Everything a `check` run has to say, for any format.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// What was compared, e.g. `merge base of HEAD and origin/main (3f9c2e1) → working tree`.
    pub description: String,
    /// Sorted by path, then line, then rule id.
    pub findings: Vec<Finding>,
    /// Acknowledgements that matched no finding (reported as notes).
    pub unused_acks: Vec<Acknowledgement>,
    /// Problems worth a word that did not stop the run (a refused acknowledgement, a config
    /// entry naming no rule).
    pub warnings: Vec<String>,
    pub files_checked: usize,
    pub rules_checked: usize,
    #[serde(skip)]
    pub elapsed: Duration,
    /// The gate: findings at or above it, not acknowledged, fail the run. `None`: never fail.
    pub fail_on: Option<Severity>,
}

impl Report {
    pub fn count(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == severity && f.acknowledged.is_none())
            .count()
    }

    pub fn acknowledged(&self) -> usize {
        self.findings
            .iter()
            .filter(|f| f.acknowledged.is_some())
            .count()
    }

    /// Whether the gate fails: exit code 1.
    pub fn fails(&self) -> bool {
        self.findings.iter().any(|f| f.fails(self.fail_on))
    }
}

/// `--format` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum Format {
    #[default]
    Human,
    Json,
}

/// Draws a report in the chosen format.
pub fn render(report: &Report, format: Format, color: bool) -> String {
    match format {
        Format::Human => human::render(report, color),
        Format::Json => json::render(report),
    }
}
