//! `--format sarif`: SARIF 2.1.0, for GitHub code scanning and any other SARIF viewer.
//!
//! One run. `tool.driver.rules` describes every rule in force (and any rule a finding names that
//! is not, so `ruleIndex` always points somewhere): short and full description, help with the safe
//! procedure, `helpUri` and the default level. Each finding is a result with its location and a
//! content-based `partialFingerprints` entry (rule, path, matched text — never line numbers), so
//! code scanning follows a finding across rebases.
//!
//! What GitHub code scanning needs to ingest the log (tests check each of the SARIF Multitool's
//! GitHub rules, GH1001-GH1007): every result has a location with a relative URI and a region
//! with `startLine`: line 1 for a finding on a file as a whole, `forewarn.toml` line 1 for one on
//! the change as a whole, and for a removed line the nearest line of the new version of the file
//! (the message names the removed line). The driver has an `informationUri`, each rule a `name`,
//! the run an `automationDetails.id`. Acknowledged findings are left out unless asked for
//! (`--sarif-acknowledged`), then as results with an external suppression whose justification is
//! the author's reason. A run holds at most [`MAX_RESULTS`] results: past that, the most severe
//! findings are kept and one more result says how many were left out.
//!
//! The document goes through the same terminal-safe JSON writer as `--format json`.

use std::collections::HashMap;
use std::fmt::Write as _;

use serde::Serialize;

use super::human::neutralise;
use super::{Report, WHOLE_CHANGE_PATH};
use crate::finding::{AckSource, Finding};
use crate::rules::{Rule, Severity};

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
/// Where to read about the tool: the repository named in Cargo.toml, else the crate's page.
const INFORMATION_URI: &str = match option_env!("CARGO_PKG_REPOSITORY") {
    Some(uri) if !uri.is_empty() => uri,
    _ => "https://crates.io/crates/forewarn",
};
/// `runs[].automationDetails.id`: GitHub reads the part before the last `/` as the analysis
/// category, so uploads of forewarn's runs replace each other and no other tool's.
pub const AUTOMATION_ID: &str = "forewarn/deploy-risk/";
/// GitHub code scanning takes at most this many results a run.
pub const MAX_RESULTS: usize = 25_000;
/// The rule of the one result that stands for the findings left out past [`MAX_RESULTS`].
pub const TRUNCATED_RULE: &str = "forewarn-results-truncated";
/// The key of forewarn's fingerprint in `partialFingerprints`; bumped if the hash ever changes.
pub const FINGERPRINT_KEY: &str = "forewarn/v1";

#[derive(Serialize)]
struct Log<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: [Run<'a>; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run<'a> {
    tool: Tool<'a>,
    automation_details: AutomationDetails,
    invocations: [Invocation; 1],
    results: Vec<SarifResult>,
    properties: RunProperties<'a>,
}

#[derive(Serialize)]
struct RunProperties<'a> {
    /// What was compared.
    comparison: &'a str,
    #[serde(rename = "failOn")]
    fail_on: &'static str,
    fails: bool,
}

#[derive(Serialize)]
struct AutomationDetails {
    id: &'static str,
}

#[derive(Serialize)]
struct Tool<'a> {
    driver: Driver<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver<'a> {
    name: &'static str,
    version: &'static str,
    semantic_version: &'static str,
    information_uri: &'static str,
    rules: Vec<ReportingDescriptor<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ReportingDescriptor<'a> {
    id: String,
    /// The id in PascalCase (`new-migration` → `NewMigration`), as SARIF's `name` is meant.
    name: String,
    short_description: Text,
    full_description: Text,
    help: Help,
    #[serde(skip_serializing_if = "Option::is_none")]
    help_uri: Option<&'a str>,
    default_configuration: Configuration,
    properties: RuleProperties,
}

#[derive(Serialize)]
struct RuleProperties {
    category: String,
    tags: Vec<String>,
    /// `ANALYSIS-ID#FINDING-ID` links that motivated the rule.
    findings: Vec<String>,
}

#[derive(Serialize)]
struct Configuration {
    level: &'static str,
}

#[derive(Serialize)]
struct Text {
    text: String,
}

#[derive(Serialize)]
struct Help {
    text: String,
    markdown: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Invocation {
    execution_successful: bool,
    tool_execution_notifications: Vec<Notification>,
}

#[derive(Serialize)]
struct Notification {
    level: &'static str,
    message: Text,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult {
    rule_id: String,
    rule_index: usize,
    level: &'static str,
    message: Text,
    locations: Vec<Location>,
    partial_fingerprints: HashMap<&'static str, String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    suppressions: Vec<Suppression>,
    properties: ResultProperties,
}

#[derive(Serialize)]
struct ResultProperties {
    category: String,
    findings: Vec<String>,
    /// The question the author should answer.
    ask: String,
    /// For a removed line: its number in the old version of the file (the region is the
    /// nearest line of the new version, since the line itself is gone from it).
    #[serde(rename = "removedLine", skip_serializing_if = "Option::is_none")]
    removed_line: Option<u32>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location {
    physical_location: PhysicalLocation,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    region: Region,
}

#[derive(Serialize)]
struct ArtifactLocation {
    uri: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: u32,
}

#[derive(Serialize)]
struct Suppression {
    kind: &'static str,
    status: &'static str,
    justification: String,
}

/// The report as a SARIF 2.1.0 log, ending in a newline. Acknowledged findings are results only
/// with `keep_acknowledged` (`--sarif-acknowledged`).
pub fn render(report: &Report, rules: &[Rule], keep_acknowledged: bool) -> String {
    render_capped(report, rules, keep_acknowledged, MAX_RESULTS)
}

/// [`render`], with at most `max_results` results (at least 1).
fn render_capped(
    report: &Report,
    rules: &[Rule],
    keep_acknowledged: bool,
    max_results: usize,
) -> String {
    let mut descriptors: Vec<ReportingDescriptor<'_>> = rules.iter().map(descriptor).collect();
    let mut index: HashMap<&str, usize> = rules
        .iter()
        .enumerate()
        .map(|(i, r)| (r.id.as_str(), i))
        .collect();
    // A finding whose rule is not among `rules` still gets a descriptor to point at.
    for f in &report.findings {
        if !index.contains_key(&*f.rule_id) {
            index.insert(&f.rule_id, descriptors.len());
            descriptors.push(descriptor_from_finding(f));
        }
    }
    let shown: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| keep_acknowledged || f.acknowledged.is_none())
        .collect();
    let (kept, left_out) = cap(shown, max_results.max(1));
    let mut results: Vec<SarifResult> = kept
        .iter()
        .map(|f| result(report, f, index[&*f.rule_id]))
        .collect();
    if !left_out.is_empty() {
        results.push(truncated_result(
            &left_out,
            descriptors.len(),
            results.len(),
        ));
        descriptors.push(truncated_descriptor());
    }

    let mut notifications: Vec<Notification> = report
        .warnings
        .iter()
        .map(|w| Notification {
            level: "warning",
            message: text(w),
        })
        .collect();
    notifications.extend(report.unused_acks.iter().map(|a| Notification {
        level: "note",
        message: text(&format!(
            "the acknowledgement for `{}` ({}) matched no finding; is the rule id right?",
            a.rule_id,
            ack_source(&a.source)
        )),
    }));
    let acknowledged = report.acknowledged();
    if acknowledged > 0 && !keep_acknowledged {
        notifications.push(Notification {
            level: "note",
            message: text(&format!(
                "{} left out of the results (pass --sarif-acknowledged to list them, with their reasons)",
                match acknowledged {
                    1 => "1 acknowledged finding is".to_string(),
                    n => format!("{n} acknowledged findings are"),
                }
            )),
        });
    }

    let log = Log {
        schema: SCHEMA,
        version: "2.1.0",
        runs: [Run {
            tool: Tool {
                driver: Driver {
                    name: "forewarn",
                    version: env!("CARGO_PKG_VERSION"),
                    semantic_version: env!("CARGO_PKG_VERSION"),
                    information_uri: INFORMATION_URI,
                    rules: descriptors,
                },
            },
            automation_details: AutomationDetails { id: AUTOMATION_ID },
            invocations: [Invocation {
                execution_successful: true,
                tool_execution_notifications: notifications,
            }],
            results,
            properties: RunProperties {
                comparison: &report.description,
                fail_on: report.fail_on.map_or("never", Severity::as_str),
                fails: report.fails(),
            },
        }],
    };
    match super::json::to_json(&log) {
        Ok(mut out) => {
            out.push('\n');
            out
        }
        // Cannot happen with these types; still, a viewer gets a valid, empty log.
        Err(e) => format!(
            "{}\n",
            serde_json::json!({
                "$schema": SCHEMA,
                "version": "2.1.0",
                "runs": [{
                    "tool": {"driver": {"name": "forewarn", "informationUri": INFORMATION_URI}},
                    "invocations": [{
                        "executionSuccessful": false,
                        "toolExecutionNotifications": [{
                            "level": "error",
                            "message": {"text": format!("the report could not be written as SARIF: {e}")},
                        }],
                    }],
                    "results": [],
                }],
            })
        ),
    }
}

/// SARIF's three levels are forewarn's three severities.
pub fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "note",
    }
}

/// Text with control characters and bidirectional overrides made visible (newlines kept).
fn clean(s: &str) -> String {
    neutralise(s, true).into_owned()
}

fn text(s: &str) -> Text {
    Text { text: clean(s) }
}

fn descriptor(rule: &Rule) -> ReportingDescriptor<'_> {
    let full = match &rule.why {
        Some(why) if !why.trim().is_empty() => why.trim().to_string(),
        _ => format!("{} {}", rule.title.trim(), rule.ask.trim()),
    };
    ReportingDescriptor {
        id: clean(&rule.id),
        name: pascal_case(&rule.id),
        short_description: text(rule.title.trim()),
        full_description: text(&full),
        help: Help {
            text: clean(&help_text(rule)),
            markdown: clean(&help_markdown(rule)),
        },
        help_uri: rule
            .docs
            .first()
            .map(String::as_str)
            .filter(|u| is_web_url(u)),
        default_configuration: Configuration {
            level: level(rule.severity),
        },
        properties: RuleProperties {
            category: clean(&rule.category),
            tags: tags(&rule.category),
            findings: rule.findings.iter().map(|l| clean(l)).collect(),
        },
    }
}

fn descriptor_from_finding(f: &Finding) -> ReportingDescriptor<'static> {
    let help = format!("Question: {}", f.ask.trim());
    ReportingDescriptor {
        id: clean(&f.rule_id),
        name: pascal_case(&f.rule_id),
        short_description: text(f.title.trim()),
        full_description: text(&format!("{} {}", f.title.trim(), f.ask.trim())),
        help: Help {
            text: clean(&help),
            markdown: clean(&format!("**Question:** {}", f.ask.trim())),
        },
        help_uri: None,
        default_configuration: Configuration {
            level: level(f.severity),
        },
        properties: RuleProperties {
            category: clean(&f.category),
            tags: tags(&f.category),
            findings: f.findings.iter().map(|l| clean(l)).collect(),
        },
    }
}

fn tags(category: &str) -> Vec<String> {
    let mut tags = vec!["deploy-risk".to_string()];
    if !category.is_empty() {
        tags.push(clean(category));
    }
    tags
}

/// Plain help: the question, why it is risky, the safe procedure, the lessons and links.
fn help_text(rule: &Rule) -> String {
    let mut out = format!("{}\n\nQuestion: {}\n", rule.title.trim(), rule.ask.trim());
    if let Some(why) = rule.why.as_deref().filter(|w| !w.trim().is_empty()) {
        let _ = write!(out, "\nWhy it is risky at deploy time:\n{}\n", why.trim());
    }
    if let Some(procedure) = rule.procedure.as_deref().filter(|p| !p.trim().is_empty()) {
        let _ = write!(out, "\nSafe procedure:\n{}\n", procedure.trim());
    }
    if !rule.findings.is_empty() {
        let _ = write!(out, "\nLessons: {}\n", rule.findings.join(", "));
    }
    if !rule.docs.is_empty() {
        let _ = write!(out, "\nMore: {}\n", rule.docs.join(" "));
    }
    out
}

/// The same help as markdown. `why` and `procedure` are markdown already (the rule author wrote
/// them, and the gate decides which rules are in force), so they pass through.
fn help_markdown(rule: &Rule) -> String {
    let mut out = format!(
        "**{}**\n\n**Question:** {}\n",
        rule.title.trim(),
        rule.ask.trim()
    );
    if let Some(why) = rule.why.as_deref().filter(|w| !w.trim().is_empty()) {
        let _ = write!(
            out,
            "\n### Why it is risky at deploy time\n\n{}\n",
            why.trim()
        );
    }
    if let Some(procedure) = rule.procedure.as_deref().filter(|p| !p.trim().is_empty()) {
        let _ = write!(out, "\n### Safe procedure\n\n{}\n", procedure.trim());
    }
    if !rule.findings.is_empty() {
        let links: Vec<String> = rule.findings.iter().map(|l| format!("`{l}`")).collect();
        let _ = write!(out, "\n**Lessons:** {}\n", links.join(", "));
    }
    let docs: Vec<&String> = rule.docs.iter().filter(|d| is_web_url(d)).collect();
    if !docs.is_empty() {
        out.push_str("\n**More:**\n\n");
        for d in docs {
            let _ = writeln!(out, "- <{d}>");
        }
    }
    out
}

/// Only absolute http(s) URLs without spaces or angle brackets become `helpUri` and links: the
/// schema requires a URI there, and a viewer opens it.
fn is_web_url(s: &str) -> bool {
    (s.starts_with("https://") || s.starts_with("http://"))
        && s.len() > "https://".len()
        && !s
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | '"'))
}

fn result(report: &Report, f: &Finding, rule_index: usize) -> SarifResult {
    let start_line = report.new_side_line(f).unwrap_or(1).max(1);
    let mut message = f.message.trim().to_string();
    super::push_where_and_question(&mut message, f, start_line);
    if let Some(ack) = &f.acknowledged {
        let _ = write!(
            message,
            "\nAcknowledged ({}): {}",
            ack_source(&ack.source),
            ack.reason
        );
    }
    SarifResult {
        rule_id: clean(&f.rule_id),
        rule_index,
        level: level(f.severity),
        message: text(&message),
        locations: vec![location(f.path.as_deref(), start_line)],
        partial_fingerprints: HashMap::from([(FINGERPRINT_KEY, f.fingerprint.clone())]),
        suppressions: f
            .acknowledged
            .iter()
            .map(|a| Suppression {
                kind: "external",
                status: "accepted",
                justification: clean(&a.reason),
            })
            .collect(),
        properties: ResultProperties {
            category: clean(&f.category),
            findings: f.findings.iter().map(|l| clean(l)).collect(),
            ask: clean(f.ask.trim()),
            removed_line: f.line.filter(|_| f.old_side),
        },
    }
}

/// A location GitHub code scanning accepts: a relative URI and a region with a start line. A
/// finding on the change as a whole is anchored at the file that sets the team's limits.
fn location(path: Option<&str>, start_line: u32) -> Location {
    Location {
        physical_location: PhysicalLocation {
            artifact_location: ArtifactLocation {
                uri: relative_uri(path.unwrap_or(WHOLE_CHANGE_PATH)),
            },
            region: Region { start_line },
        },
    }
}

/// At most `max` results: the findings themselves when they fit, else the `max - 1` most severe
/// (in report order) and the rest, left out.
fn cap(findings: Vec<&Finding>, max: usize) -> (Vec<&Finding>, Vec<&Finding>) {
    if findings.len() <= max {
        return (findings, Vec::new());
    }
    let mut order: Vec<usize> = (0..findings.len()).collect();
    // Stable: within a severity, report order.
    order.sort_by_key(|&i| std::cmp::Reverse(findings[i].severity));
    let mut keep = vec![false; findings.len()];
    for &i in &order[..max - 1] {
        keep[i] = true;
    }
    let (mut kept, mut left_out) = (Vec::new(), Vec::new());
    for (f, keep) in findings.into_iter().zip(keep) {
        if keep {
            kept.push(f);
        } else {
            left_out.push(f);
        }
    }
    (kept, left_out)
}

/// The one result that stands for the findings left out past [`MAX_RESULTS`].
fn truncated_result(left_out: &[&Finding], rule_index: usize, listed: usize) -> SarifResult {
    let of = |s: Severity| left_out.iter().filter(|f| f.severity == s).count();
    let worst = left_out
        .iter()
        .map(|f| f.severity)
        .max()
        .unwrap_or(Severity::Note);
    let message = format!(
        "{} more findings are not listed here ({} errors, {} warnings, {} notes): GitHub code \
         scanning takes at most {MAX_RESULTS} results a run, and the {listed} most severe are \
         listed. Every finding is in the other reports of the run (`--format json`, the job \
         summary).",
        left_out.len(),
        of(Severity::Error),
        of(Severity::Warning),
        of(Severity::Note),
    );
    SarifResult {
        rule_id: TRUNCATED_RULE.to_string(),
        rule_index,
        level: level(worst),
        message: text(&message),
        locations: vec![location(None, 1)],
        partial_fingerprints: HashMap::from([(FINGERPRINT_KEY, TRUNCATED_RULE.to_string())]),
        suppressions: Vec::new(),
        properties: ResultProperties {
            category: "process".to_string(),
            findings: Vec::new(),
            ask: "Can the change be split, or the rule narrowed, so each finding can be read?"
                .to_string(),
            removed_line: None,
        },
    }
}

fn truncated_descriptor() -> ReportingDescriptor<'static> {
    let title = "More findings than a SARIF run can list";
    ReportingDescriptor {
        id: TRUNCATED_RULE.to_string(),
        name: pascal_case(TRUNCATED_RULE),
        short_description: text(title),
        full_description: text(&format!(
            "GitHub code scanning takes at most {MAX_RESULTS} results a run; this result counts \
             the findings left out."
        )),
        help: Help {
            text: format!("{title}. Every finding is in `forewarn check --format json`."),
            markdown: format!("**{title}.** Every finding is in `forewarn check --format json`."),
        },
        help_uri: None,
        default_configuration: Configuration { level: "warning" },
        properties: RuleProperties {
            category: "process".to_string(),
            tags: tags("process"),
            findings: Vec::new(),
        },
    }
}

/// A rule id as a PascalCase name: `new-migration-needs-deploy-step` → `NewMigrationNeedsDeployStep`.
/// Only ASCII letters and digits are kept; an id with none is `Rule`.
pub fn pascal_case(id: &str) -> String {
    let mut out = String::new();
    for word in id.split(|c: char| !c.is_ascii_alphanumeric()) {
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            out.push(first.to_ascii_uppercase());
            out.extend(chars);
        }
    }
    if out.is_empty() {
        out.push_str("Rule");
    }
    out
}

fn ack_source(source: &AckSource) -> String {
    match source {
        AckSource::Trailer { commit } => {
            let short: String = commit.chars().take(12).collect();
            format!("trailer in commit {short}")
        }
        other => other.to_string(),
    }
}

/// A repository-relative path as a relative URI reference: every byte but unreserved characters
/// and `/` percent-encoded, so `:` cannot start a scheme, `#` a fragment or `?` a query, and a
/// leading `/` is encoded so the reference stays relative.
pub fn relative_uri(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for (i, b) in path.bytes().enumerate() {
        let keep = b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'.' | b'_' | b'~')
            || (b == b'/' && i > 0);
        if keep {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

#[cfg(test)]
mod github_rules;
#[cfg(test)]
mod tests;
