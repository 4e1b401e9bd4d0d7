//! The ledger: what checks caught, one JSON event per finding and one per recorded check.
//!
//! Events live in a folder of the workspace (`.forewarn/ledger/`, [`folder`]) and, for a ledger
//! that outlives a CI job, on a ref of the repository (`refs/forewarn/ledger`, [`store_ref`]),
//! pushed and fetched with the `git` the CI checkout configured ([`push`]). Events are never
//! rewritten and every event has a name no other writer takes, so a folder and a ref merge
//! without conflict. [`life`] reads a finding's life on a pull request back out of them. No
//! author names are recorded: the rule, the change, the answer and why.

pub mod folder;
pub mod life;
pub mod push;
pub mod store_ref;

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::finding::{AckSource, Finding};
use crate::output::Report;
use crate::rules::{Rule, Severity};
use crate::workspace::Workspace;

pub use folder::{read_events, write_events};

/// Bumped only when a field is renamed, removed or changes meaning.
pub const VERSION: u32 = 1;

/// What an event says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// A finding was left to fail the gate.
    #[default]
    Fired,
    /// A finding was answered, with a reason.
    Acknowledged,
    /// A check of a pull request ran: `present` lists every finding it saw, so a later check
    /// shows which findings are gone.
    Checked,
}

/// A finding a recorded check saw, as a `checked` event lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Present {
    pub rule: String,
    #[serde(default)]
    pub path: Option<String>,
    pub fingerprint: String,
    #[serde(default)]
    pub acknowledged: bool,
}

/// One finding of one check run, or (`checked`) the run itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Event {
    pub version: u32,
    /// When it was recorded, RFC 3339 in UTC.
    pub time: String,
    pub kind: Kind,
    /// Empty for a `checked` event.
    #[serde(default)]
    pub rule: String,
    /// A hash of what the rule matches and says: changes when the rule is edited.
    #[serde(default)]
    pub rule_version: String,
    /// `ANALYSIS-ID#FINDING-ID` links of the rule.
    #[serde(default)]
    pub findings: Vec<String>,
    /// For a `checked` event, the highest severity it saw (`note` when it saw nothing).
    #[serde(default)]
    pub severity: Severity,
    /// The finding's fingerprint (rule, path, matched text), stable across rebases.
    #[serde(default)]
    pub fingerprint: String,
    #[serde(default)]
    pub path: Option<String>,
    /// The commit the checked change ends at (a pull request's head), when it is one.
    #[serde(default)]
    pub commit: Option<String>,
    /// The pull or merge request number, when CI says.
    #[serde(default)]
    pub pull_request: Option<u64>,
    /// The acknowledgement's reason.
    #[serde(default)]
    pub reason: Option<String>,
    /// Where the acknowledgement was written: `trailer`, `pull-request`, `inline`, `command-line`.
    #[serde(default)]
    pub ack_source: Option<String>,
    /// For a trailer, the commit that carries it.
    #[serde(default)]
    pub ack_commit: Option<String>,
    /// For a `checked` event: every finding the check saw.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub present: Vec<Present>,
    /// The forewarn version that wrote the event.
    #[serde(default)]
    pub forewarn: String,
}

/// An event and the name it is stored under (a file of the folder, a blob of the ref).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Named {
    pub name: String,
    pub event: Event,
}

/// A content hash of what a rule matches and says.
pub fn rule_version(rule: &Rule) -> String {
    let parts = serde_json::to_string(&(
        &rule.id,
        rule.default_severity,
        &rule.matcher,
        &rule.unless,
        &rule.threshold,
        &rule.message,
        &rule.ask,
    ))
    .unwrap_or_default();
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in parts.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{hash:016x}")
}

/// RFC 3339 with exactly three fractional digits, so that events' times sort as text: jiff's
/// own display drops trailing zeros, and `28.3Z` then sorts after `28.31Z`.
fn timestamp(time: jiff::Timestamp) -> String {
    time.round(jiff::Unit::Millisecond)
        .unwrap_or(time)
        .strftime("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

/// Whether event time `a` is before `b`: compared as times, so a ledger written before times
/// had a fixed width still orders right; as text when one does not parse.
pub(crate) fn earlier(a: &str, b: &str) -> bool {
    match (a.parse::<jiff::Timestamp>(), b.parse::<jiff::Timestamp>()) {
        (Ok(x), Ok(y)) => x < y,
        _ => a < b,
    }
}

/// The event for one finding.
pub fn event(
    finding: &Finding,
    rule: Option<&Rule>,
    commit: Option<&str>,
    pull_request: Option<u64>,
    time: jiff::Timestamp,
) -> Event {
    let ack = finding.acknowledged.as_ref();
    Event {
        version: VERSION,
        time: timestamp(time),
        kind: if ack.is_some() {
            Kind::Acknowledged
        } else {
            Kind::Fired
        },
        rule: finding.rule_id.to_string(),
        rule_version: rule.map(rule_version).unwrap_or_default(),
        findings: finding.findings.to_vec(),
        severity: finding.severity,
        fingerprint: finding.fingerprint.clone(),
        path: finding.path.as_deref().map(str::to_string),
        commit: commit.map(str::to_string),
        pull_request,
        reason: ack.map(|a| a.reason.clone()),
        ack_source: ack.map(|a| {
            match a.source {
                AckSource::Trailer { .. } => "trailer",
                AckSource::PullRequest => "pull-request",
                AckSource::Inline { .. } => "inline",
                AckSource::CommandLine => "command-line",
            }
            .to_string()
        }),
        ack_commit: ack.and_then(|a| match &a.source {
            AckSource::Trailer { commit } => Some(commit.clone()),
            _ => None,
        }),
        present: Vec::new(),
        forewarn: env!("CARGO_PKG_VERSION").to_string(),
    }
}

/// The `checked` event of one run on a pull request: which findings it saw, fired or answered.
pub fn checked(
    findings: &[Finding],
    commit: Option<&str>,
    pull_request: u64,
    time: jiff::Timestamp,
) -> Event {
    Event {
        version: VERSION,
        time: timestamp(time),
        kind: Kind::Checked,
        severity: findings
            .iter()
            .map(|f| f.severity)
            .max()
            .unwrap_or_default(),
        commit: commit.map(str::to_string),
        pull_request: Some(pull_request),
        present: findings
            .iter()
            .map(|f| Present {
                rule: f.rule_id.to_string(),
                path: f.path.as_deref().map(str::to_string),
                fingerprint: f.fingerprint.clone(),
                acknowledged: f.acknowledged.is_some(),
            })
            .collect(),
        forewarn: env!("CARGO_PKG_VERSION").to_string(),
        ..Event::default()
    }
}

/// The pull or merge request the CI run is for: GitHub's event payload or ref, or GitLab's
/// merge request id.
pub fn pull_request_number() -> Option<u64> {
    if let Some(path) = std::env::var_os("GITHUB_EVENT_PATH").filter(|p| !p.is_empty()) {
        let number = std::fs::read_to_string(path)
            .ok()
            .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
            .and_then(|v| {
                v.get("pull_request")
                    .and_then(|pr| pr.get("number"))
                    .and_then(serde_json::Value::as_u64)
            });
        if number.is_some() {
            return number;
        }
    }
    if let Ok(reference) = std::env::var("GITHUB_REF")
        && let Some(n) = reference
            .strip_prefix("refs/pull/")
            .and_then(|rest| rest.split('/').next())
            .and_then(|n| n.parse().ok())
    {
        return Some(n);
    }
    std::env::var("CI_MERGE_REQUEST_IID")
        .ok()
        .and_then(|n| n.parse().ok())
}

/// The ledger folder of a workspace; an error when it leads outside the repository (a
/// symbolic link), since events are read from it and written into it.
pub fn dir(workspace: &Workspace) -> Result<PathBuf> {
    let ledger = workspace.config.ledger.as_str();
    Ok(crate::workspace::contained(&workspace.root, ledger)?
        .unwrap_or_else(|| workspace.root.join(ledger)))
}

/// The events of one recorded check: one per finding, and for a pull request one `checked`
/// event, written even when nothing was found (that absence is what shows a finding resolved).
pub fn events_of(
    workspace: &Workspace,
    report: &Report,
    commit: Option<&str>,
    pull_request: Option<u64>,
) -> Vec<Event> {
    let now = jiff::Timestamp::now();
    let mut events: Vec<Event> = report
        .findings
        .iter()
        .map(|f| {
            event(
                f,
                workspace.rules.get(&f.rule_id),
                commit,
                pull_request,
                now,
            )
        })
        .collect();
    if let Some(pr) = pull_request {
        events.push(checked(&report.findings, commit, pr, now));
    }
    events
}

/// Writes the events of one check into the ledger folder; returns them with their names.
pub fn record(
    workspace: &Workspace,
    report: &Report,
    commit: Option<&str>,
    pull_request: Option<u64>,
) -> Result<Vec<Named>> {
    let events = events_of(workspace, report, commit, pull_request);
    write_events(&dir(workspace)?, &events)
}

/// Every event of a workspace: the folder's, and the ref's when the repository has one. An
/// event in both (pushed from this folder) is read once. Problems (an event that does not
/// parse) are warnings naming the event; the rest is read.
pub fn read_all(workspace: &Workspace) -> Result<(Vec<Event>, Vec<String>)> {
    let (mut named, mut warnings) = folder::read_named(&dir(workspace)?)?;
    if let Some(repo) = workspace.repo.as_ref() {
        let (on_ref, ref_warnings) = store_ref::read(repo, store_ref::REF);
        warnings.extend(ref_warnings);
        let seen: std::collections::HashSet<String> =
            named.iter().map(|n| n.name.clone()).collect();
        named.extend(on_ref.into_iter().filter(|n| !seen.contains(&n.name)));
    }
    let mut events: Vec<Event> = named.into_iter().map(|n| n.event).collect();
    events.sort_by(|a, b| a.time.cmp(&b.time));
    Ok((events, warnings))
}
