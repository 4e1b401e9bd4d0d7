//! The ledger: what checks caught, one JSON file per event in `.forewarn/ledger/`.
//!
//! Events are never rewritten. Each is written to a temporary file in the ledger folder and then
//! renamed to a name no other writer can take (`persist_noclobber`: the rename fails rather than
//! replace a file), so any number of `forewarn check --record` runs at once lose nothing and a
//! reader never sees half an event. No author names are recorded: the rule, the change, the
//! answer and why.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::finding::{AckSource, Finding};
use crate::output::Report;
use crate::rules::{Rule, Severity};
use crate::workspace::Workspace;

/// Bumped only when a field is renamed, removed or changes meaning.
pub const VERSION: u32 = 1;

/// Whether the finding was left to fail the gate, or answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    Fired,
    Acknowledged,
}

/// One finding of one check run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    pub version: u32,
    /// When it was recorded, RFC 3339 in UTC.
    pub time: String,
    pub kind: Kind,
    pub rule: String,
    /// A hash of what the rule matches and says: changes when the rule is edited.
    pub rule_version: String,
    /// `ANALYSIS-ID#FINDING-ID` links of the rule.
    #[serde(default)]
    pub findings: Vec<String>,
    pub severity: Severity,
    /// The finding's fingerprint (rule, path, matched text), stable across rebases.
    pub fingerprint: String,
    #[serde(default)]
    pub path: Option<String>,
    /// The commit the checked change ends at, when it is one.
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
    /// The forewarn version that wrote the event.
    #[serde(default)]
    pub forewarn: String,
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
        time: time
            .round(jiff::Unit::Millisecond)
            .unwrap_or(time)
            .to_string(),
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
        forewarn: env!("CARGO_PKG_VERSION").to_string(),
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
    if let Ok(reference) = std::env::var("GITHUB_REF") {
        if let Some(n) = reference
            .strip_prefix("refs/pull/")
            .and_then(|rest| rest.split('/').next())
            .and_then(|n| n.parse().ok())
        {
            return Some(n);
        }
    }
    std::env::var("CI_MERGE_REQUEST_IID")
        .ok()
        .and_then(|n| n.parse().ok())
}

/// The ledger folder of a workspace.
pub fn dir(workspace: &Workspace) -> PathBuf {
    workspace.root.join(&workspace.config.ledger)
}

/// Writes one event per finding of `report`; returns how many were written.
pub fn record(workspace: &Workspace, report: &Report, commit: Option<&str>) -> Result<usize> {
    let pull_request = pull_request_number();
    let now = jiff::Timestamp::now();
    let events: Vec<Event> = report
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
    write_events(&dir(workspace), &events)?;
    Ok(events.len())
}

static SEQUENCE: AtomicU64 = AtomicU64::new(0);

/// A file name no other writer picks: the time, the process, a per-process counter and a random
/// part (std's hasher keys are random per process).
fn event_name(time: jiff::Timestamp) -> String {
    let seq = SEQUENCE.fetch_add(1, Ordering::Relaxed);
    let pid = std::process::id();
    let random = RandomState::new().hash_one((time.as_nanosecond(), pid, seq));
    format!(
        "{}-{pid}-{seq}-{:08x}.json",
        time.strftime("%Y%m%dT%H%M%S%.9fZ"),
        random as u32
    )
}

/// Writes each event to a file of its own, atomically; never replaces a file.
pub fn write_events(dir: &Path, events: &[Event]) -> Result<()> {
    if events.is_empty() {
        return Ok(());
    }
    let io_error = |e: std::io::Error| Error::Io {
        action: "write a ledger event to",
        path: dir.to_path_buf(),
        source: e,
        help: Some(
            "the ledger folder is set by `ledger` in forewarn.toml; check that it is writable"
                .into(),
        ),
    };
    std::fs::create_dir_all(dir).map_err(io_error)?;
    for event in events {
        let mut json = serde_json::to_string_pretty(event).unwrap_or_default();
        json.push('\n');
        let mut tmp = tempfile::Builder::new()
            .prefix(".event-")
            .suffix(".tmp")
            .tempfile_in(dir)
            .map_err(io_error)?;
        tmp.write_all(json.as_bytes()).map_err(io_error)?;
        tmp.as_file().sync_all().map_err(io_error)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            tmp.as_file()
                .set_permissions(std::fs::Permissions::from_mode(0o644))
                .map_err(io_error)?;
        }
        let mut attempt = 0;
        loop {
            match tmp.persist_noclobber(dir.join(event_name(jiff::Timestamp::now()))) {
                Ok(_) => break,
                Err(e) if e.error.kind() == std::io::ErrorKind::AlreadyExists && attempt < 16 => {
                    attempt += 1;
                    tmp = e.file;
                }
                Err(e) => return Err(io_error(e.error)),
            }
        }
    }
    Ok(())
}

/// Reads every event in `dir`, oldest first. A file that is not an event is named in a warning
/// and skipped; a missing folder is an empty ledger.
pub fn read_events(dir: &Path) -> Result<(Vec<Event>, Vec<String>)> {
    let mut events = Vec::new();
    let mut warnings = Vec::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((events, warnings)),
        Err(e) => return Err(Error::io("read the ledger folder", dir, e)),
    };
    let mut names: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| {
            p.extension().is_some_and(|x| x == "json")
                && !p
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        })
        .collect();
    names.sort();
    for path in names {
        let parsed = std::fs::read_to_string(&path)
            .map_err(|e| e.to_string())
            .and_then(|text| serde_json::from_str::<Event>(&text).map_err(|e| e.to_string()));
        match parsed {
            Ok(event) => events.push(event),
            Err(why) => warnings.push(format!(
                "{} is not a ledger event ({why}); it was skipped",
                path.display()
            )),
        }
    }
    events.sort_by(|a, b| a.time.cmp(&b.time));
    Ok((events, warnings))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Acknowledgement;

    fn finding(ack: Option<&str>) -> Finding {
        Finding {
            rule_id: "r".into(),
            title: "t".into(),
            severity: Severity::Error,
            category: "migration".into(),
            message: "m".into(),
            ask: "?".into(),
            findings: vec!["a#F1".into()].into(),
            path: Some("db/1.sql".into()),
            line: Some(3),
            old_side: false,
            matched: Some("DROP TABLE x".into()),
            fingerprint: "0123456789abcdef".into(),
            snippet: None,
            acknowledged: ack.map(|reason| {
                Box::new(Acknowledgement {
                    rule_id: "r".into(),
                    reason: reason.into(),
                    source: AckSource::Trailer {
                        commit: "c0ffee".into(),
                    },
                })
            }),
            operation: None,
        }
    }

    #[test]
    fn events_round_trip_through_the_folder() {
        let dir = tempfile::tempdir().unwrap();
        let now = jiff::Timestamp::from_second(1_700_000_000).unwrap();
        let events = vec![
            event(&finding(None), None, Some("abc"), Some(7), now),
            event(
                &finding(Some("runs in the release job")),
                None,
                None,
                None,
                now,
            ),
        ];
        write_events(dir.path(), &events).unwrap();
        write_events(dir.path(), &events).unwrap();
        std::fs::write(dir.path().join("junk.json"), "{").unwrap();
        let (read, warnings) = read_events(dir.path()).unwrap();
        assert_eq!(read.len(), 4);
        assert_eq!(warnings.len(), 1);
        assert!(read.contains(&events[0]) && read.contains(&events[1]));
        let acked = read.iter().find(|e| e.kind == Kind::Acknowledged).unwrap();
        assert_eq!(acked.ack_source.as_deref(), Some("trailer"));
        assert_eq!(acked.ack_commit.as_deref(), Some("c0ffee"));
        assert_eq!(acked.time, "2023-11-14T22:13:20Z");
        // No temporary files are left behind.
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(names.iter().all(|n| n.ends_with(".json")), "{names:?}");
    }

    #[test]
    fn names_differ_even_in_the_same_instant() {
        let t = jiff::Timestamp::from_second(1).unwrap();
        let names: std::collections::HashSet<String> = (0..1000).map(|_| event_name(t)).collect();
        assert_eq!(names.len(), 1000);
    }

    #[test]
    fn missing_folder_is_an_empty_ledger() {
        let (events, warnings) = read_events(Path::new("/nonexistent/forewarn/ledger")).unwrap();
        assert!(events.is_empty() && warnings.is_empty());
    }
}
