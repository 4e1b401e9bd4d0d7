//! The ledger folder (`.forewarn/ledger/`): one JSON file per event.
//!
//! Each event is written to a temporary file in the folder and then renamed to a name no other
//! writer can take (`persist_noclobber`: the rename fails rather than replace a file), so any
//! number of `forewarn check --record` runs at once lose nothing and a reader never sees half an
//! event. The same names are used on the ledger ref, so an event pushed from here is known there
//! by the name it has here.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::{Event, Kind, Named};
use crate::error::{Error, Result};

static SEQUENCE: AtomicU64 = AtomicU64::new(0);

/// A file name no other writer picks: the time, what the event is about (pull request, head
/// commit, rule), the process, a per-process counter and a random part (std's hasher keys are
/// random per process). It starts with the time, so names sort oldest first.
pub fn event_name(event: &Event, time: jiff::Timestamp) -> String {
    let seq = SEQUENCE.fetch_add(1, Ordering::Relaxed);
    let pid = std::process::id();
    let random = RandomState::new().hash_one((time.as_nanosecond(), pid, seq));
    let mut about = String::new();
    if let Some(pr) = event.pull_request {
        about.push_str(&format!("pr{pr}-"));
    }
    if let Some(commit) = event.commit.as_deref().filter(|c| !c.is_empty()) {
        about.push_str(&slug(&commit.chars().take(8).collect::<String>()));
        about.push('-');
    }
    if event.kind == Kind::Checked {
        about.push_str("checked-");
    } else if !event.rule.is_empty() {
        about.push_str(&slug(&event.rule.chars().take(60).collect::<String>()));
        about.push('-');
    }
    format!(
        "{}-{about}{pid}-{seq}-{:08x}.json",
        time.strftime("%Y%m%dT%H%M%S%.9fZ"),
        random as u32
    )
}

/// Lower-case letters, digits and dashes only: safe in a file name and a tree entry.
fn slug(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect()
}

/// The JSON text of an event, as stored.
pub fn to_json(event: &Event) -> String {
    let mut json = serde_json::to_string_pretty(event).unwrap_or_default();
    json.push('\n');
    json
}

/// Writes each event to a file of its own, atomically; never replaces a file. Returns the events
/// with the names they were written under.
pub fn write_events(dir: &Path, events: &[Event]) -> Result<Vec<Named>> {
    if events.is_empty() {
        return Ok(Vec::new());
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
    let mut written = Vec::with_capacity(events.len());
    for event in events {
        let path =
            crate::atomic_write::create_new(dir, ".event-", to_json(event).as_bytes(), || {
                PathBuf::from(event_name(event, jiff::Timestamp::now()))
            })
            .map_err(io_error)?;
        written.push(Named {
            name: path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            event: event.clone(),
        });
    }
    Ok(written)
}

/// The event files of `dir` (`*.json`, not hidden), sorted by name, with their bytes. A missing
/// folder has none.
pub fn read_files(dir: &Path) -> Result<Vec<(String, Vec<u8>)>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io("read the ledger folder", dir, e)),
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .map(|e| e.path())
        .filter(|p| {
            p.extension().is_some_and(|x| x == "json")
                && !p
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        })
        .collect();
    paths.sort();
    let mut files = Vec::with_capacity(paths.len());
    for path in paths {
        let bytes = std::fs::read(&path).map_err(|e| Error::io("read a ledger event", &path, e))?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        files.push((name, bytes));
    }
    Ok(files)
}

/// Parses one stored event; `where_` names it in the warning when it is not one.
pub fn parse(bytes: &[u8], where_: &str) -> std::result::Result<Event, String> {
    std::str::from_utf8(bytes)
        .map_err(|e| e.to_string())
        .and_then(|text| serde_json::from_str::<Event>(text).map_err(|e| e.to_string()))
        .map_err(|why| format!("{where_} is not a ledger event ({why}); it was skipped"))
}

/// Reads every event in `dir` with its name, by name. A file that is not an event is named in
/// a warning and skipped; a missing folder is an empty ledger.
pub fn read_named(dir: &Path) -> Result<(Vec<Named>, Vec<String>)> {
    let mut named = Vec::new();
    let mut warnings = Vec::new();
    for (name, bytes) in read_files(dir)? {
        match parse(&bytes, &dir.join(&name).display().to_string()) {
            Ok(event) => named.push(Named { name, event }),
            Err(warning) => warnings.push(warning),
        }
    }
    Ok((named, warnings))
}

/// Reads every event in `dir`, oldest first. A file that is not an event is named in a warning
/// and skipped; a missing folder is an empty ledger.
pub fn read_events(dir: &Path) -> Result<(Vec<Event>, Vec<String>)> {
    let (named, warnings) = read_named(dir)?;
    let mut events: Vec<Event> = named.into_iter().map(|n| n.event).collect();
    events.sort_by(|a, b| a.time.cmp(&b.time));
    Ok((events, warnings))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::ledger::event;
    use crate::finding::{AckSource, Acknowledgement, Finding};
    use crate::rules::Severity;

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
            subject: None,
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
        assert_eq!(acked.time, "2023-11-14T22:13:20.000Z");
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
        let names: std::collections::HashSet<String> = (0..1000)
            .map(|_| event_name(&Event::default(), t))
            .collect();
        assert_eq!(names.len(), 1000);
    }

    #[test]
    fn missing_folder_is_an_empty_ledger() {
        let (events, warnings) = read_events(Path::new("/nonexistent/forewarn/ledger")).unwrap();
        assert!(events.is_empty() && warnings.is_empty());
    }
}
