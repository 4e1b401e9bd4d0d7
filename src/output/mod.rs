//! Output formats: one file per format, all drawing the same [`Report`].

pub mod github;
pub mod gitlab;
pub mod human;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod rdjsonl;
pub mod sarif;
pub mod write;

#[cfg(test)]
pub(crate) mod fixtures;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

use crate::finding::{Acknowledgement, Finding};
use crate::rules::{Rule, Severity};

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
    /// For findings on removed lines, by (path, line in the old version): the nearest line of
    /// the new version, for formats that can only point at the new file (SARIF).
    #[serde(skip)]
    pub removed_line_anchors: HashMap<(Arc<str>, u32), u32>,
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

    /// The line of the new version of its file a finding is shown at: its own line, or for a
    /// removed line the nearest line of the new version. `None` for a finding on a file or the
    /// change as a whole (and for a removed line whose neighbourhood is unknown).
    pub fn new_side_line(&self, f: &Finding) -> Option<u32> {
        let line = f.line?;
        if !f.old_side {
            return Some(line);
        }
        self.removed_line_anchors
            .get(&(Arc::clone(f.path.as_ref()?), line))
            .copied()
    }

    /// Whether the gate fails: exit code 1.
    pub fn fails(&self) -> bool {
        self.findings.iter().any(|f| f.fails(self.fail_on))
    }
}

/// `--format` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum Format {
    /// Findings drawn the way rustc draws errors.
    #[default]
    Human,
    /// A versioned JSON document (docs/json-output.md).
    Json,
    /// SARIF 2.1.0, for GitHub code scanning and other SARIF viewers.
    Sarif,
    /// GitHub Actions workflow commands (annotations), plus the job summary.
    Github,
    /// A pull-request comment body.
    Markdown,
    /// JUnit XML: one test case per rule and file.
    Junit,
    /// A GitLab Code Quality report.
    Gitlab,
    /// Reviewdog Diagnostic Format, one JSON object a line (`reviewdog -f=rdjsonl`).
    Rdjsonl,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Human => "human",
            Format::Json => "json",
            Format::Sarif => "sarif",
            Format::Github => "github",
            Format::Markdown => "markdown",
            Format::Junit => "junit",
            Format::Gitlab => "gitlab",
            Format::Rdjsonl => "rdjsonl",
        }
    }
}

/// Where formats that need a file for every finding (SARIF for GitHub code scanning, GitLab Code
/// Quality) anchor a finding on the change as a whole: the file that sets the team's limits.
pub const WHOLE_CHANGE_PATH: &str = "forewarn.toml";

/// What a format may need besides the report.
#[derive(Debug, Clone, Copy, Default)]
pub struct RenderContext<'a> {
    /// The rules in force: SARIF describes them (`tool.driver.rules`), JUnit lists the ones that
    /// found nothing as passing cases.
    pub rules: &'a [Rule],
    /// Colour escapes (human only).
    pub color: bool,
    /// Wrap text to this many columns (human only; `None`: never wrap).
    pub width: Option<usize>,
    /// SARIF: list acknowledged findings too, as suppressed results (`--sarif-acknowledged`).
    pub sarif_acknowledged: bool,
}

/// Appends to a finding's message, for formats that place each finding at one line of the new
/// file: where a removed line was (it is shown at `line`), and the question.
pub(crate) fn push_where_and_question(
    message: &mut String,
    f: &crate::finding::Finding,
    line: u32,
) {
    use std::fmt::Write as _;
    if let (Some(old), true, Some(_)) = (f.line, f.old_side, &f.path) {
        let _ = write!(
            message,
            "\n(removed line {old} of the old version; shown at line {line} of the new version)"
        );
    }
    if !f.ask.trim().is_empty() {
        let _ = write!(message, "\nQuestion: {}", f.ask.trim());
    }
}

/// Draws a report in the chosen format.
pub fn render(report: &Report, format: Format, ctx: &RenderContext<'_>) -> String {
    match format {
        Format::Human => human::render(report, ctx.color, ctx.width),
        Format::Json => json::render(report),
        Format::Sarif => sarif::render(report, ctx.rules, ctx.sarif_acknowledged),
        Format::Github => github::render(report),
        Format::Markdown => markdown::render(report),
        Format::Junit => junit::render(report, ctx.rules),
        Format::Gitlab => gitlab::render(report),
        Format::Rdjsonl => rdjsonl::render(report, ctx.rules),
    }
}
