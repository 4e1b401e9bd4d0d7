//! Hotspots: the files an incident's culprit commits changed, followed through later renames, plus
//! the globs a record adds (`hotspots`) or leaves out (`hotspots_exclude`). `check` gives a change
//! that touches one a note with the record's lessons, even where no rule was written yet.
//!
//! What a culprit commit changed never changes, so it is cached per commit id in the git
//! directory (`<git dir>/forewarn/hotspots-cache.json`, never in the working tree); where those
//! files live now is cached per culprit and head commit.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use git2::{Delta, DiffFindOptions, DiffOptions, Oid, Repository, Tree};
use serde::{Deserialize, Serialize};

use super::links::{Resolved, resolve_culprit};
use super::record::{Analysis, Status, parse_file};
use crate::config::HotspotsConfig;
use crate::diff::ChangeSet;
use crate::finding::{Finding, fingerprint};
use crate::glob::GlobMatcher;
use crate::rules::load::RuleFile;

/// The rule id hotspot notes carry; acknowledge them with `Forewarn-Ack: incident-hotspot: ...`.
pub const RULE_ID: &str = "incident-hotspot";

/// The question every hotspot note asks.
pub const ASK: &str = "Does this change touch what that incident touched?";

const CACHE_FILE: &str = "hotspots-cache.json";
const CACHE_VERSION: u32 = 1;

/// Loads records one by one, so a record being written never blocks `check`: one that does not
/// load is skipped with a warning (`forewarn validate` says what is wrong with it).
pub fn load_lenient(files: &[RuleFile]) -> (Vec<Analysis>, Vec<String>) {
    let mut records: Vec<Analysis> = Vec::new();
    let mut warnings = Vec::new();
    for file in files {
        let mut ignored = Vec::new();
        match parse_file(file, &mut ignored) {
            Ok(a) if records.iter().any(|r| r.id == a.id) => warnings.push(format!(
                "{}: analysis id `{}` is used twice; its hotspots are taken from the first record only (forewarn validate shows both)",
                file.path, a.id
            )),
            Ok(a) => records.push(a),
            Err(errors) => warnings.push(format!(
                "{}: analysis record has {} problem(s), so its hotspots are not checked: run `forewarn validate` to see them",
                file.path,
                errors.len()
            )),
        }
    }
    (records, warnings)
}

/// Notes for changed files that an incident's culprit commits touched: what `check` adds when
/// `[hotspots]` is on. Records that do not load and culprits that do not resolve become
/// warnings, never failures.
pub fn findings_for_change(
    analysis_files: &[RuleFile],
    repo: Option<&Repository>,
    config: &crate::config::Config,
    changes: &ChangeSet,
    warnings: &mut Vec<String>,
) -> Vec<Finding> {
    let (records, load_warnings) = load_lenient(analysis_files);
    warnings.extend(load_warnings);
    let spots = Hotspots::build(
        repo,
        &records,
        config.hotspots.include_drafts,
        changes.head_commit.as_deref(),
    );
    warnings.extend(spots.warnings.iter().cloned());
    let excluded = GlobMatcher::new(&config.exclude);
    spots.findings(changes, &config.hotspots, |path| excluded.is_match(path))
}

/// One culprit commit that changed a hotspot path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CulpritTouch {
    /// Short id, as the record writes it when it can.
    pub commit: String,
    pub role: super::record::Role,
    /// The path as the culprit commit named it, when it has been renamed since.
    pub renamed_from: Option<String>,
}

/// The hotspots of one record.
pub struct RecordHotspots<'a> {
    pub analysis: &'a Analysis,
    /// The culprit commits that resolved here.
    pub culprit_ids: Vec<Oid>,
    /// Path as it is now → the culprit commits that changed it.
    pub paths: BTreeMap<String, Vec<CulpritTouch>>,
    include: GlobMatcher,
    exclude: GlobMatcher,
}

/// Why a path is a hotspot of a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hit<'h> {
    /// The culprit commits changed it (under this name or an earlier one).
    Culprits(&'h [CulpritTouch]),
    /// It matches the record's `hotspots` globs only.
    Glob,
}

impl RecordHotspots<'_> {
    /// Whether `path` (or, for a rename, `old_path`) is a hotspot of this record.
    pub fn hit(&self, path: &str, old_path: Option<&str>) -> Option<Hit<'_>> {
        let candidates = std::iter::once(path).chain(old_path);
        if candidates.clone().any(|p| self.exclude.is_match(p)) {
            return None;
        }
        for p in candidates.clone() {
            if let Some(touches) = self.paths.get(p) {
                return Some(Hit::Culprits(touches));
            }
        }
        candidates
            .into_iter()
            .any(|p| self.include.is_match(p))
            .then_some(Hit::Glob)
    }
}

/// The hotspots of every record in force, and what could not be worked out.
pub struct Hotspots<'a> {
    pub records: Vec<RecordHotspots<'a>>,
    pub warnings: Vec<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Cache {
    version: u32,
    /// Full culprit commit id → what it changed and where those paths are now.
    commits: BTreeMap<String, CacheEntry>,
}

#[derive(Debug, Default, Clone, Serialize, Deserialize)]
struct CacheEntry {
    /// Paths the commit changed against its first parent.
    paths: Vec<String>,
    /// The head commit `renamed` was worked out for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    head: Option<String>,
    /// Old path → path at `head`, for the paths that were renamed since.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    renamed: BTreeMap<String, String>,
}

fn cache_path(repo: &Repository) -> PathBuf {
    repo.path().join("forewarn").join(CACHE_FILE)
}

fn read_cache(path: &Path) -> Cache {
    std::fs::read(path)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<Cache>(&bytes).ok())
        .filter(|c| c.version == CACHE_VERSION)
        .unwrap_or_default()
}

/// Best effort: a read-only git directory only costs the next run some time.
fn write_cache(path: &Path, cache: &Cache) {
    let Some(dir) = path.parent() else { return };
    let Ok(text) = serde_json::to_vec(cache) else {
        return;
    };
    if std::fs::create_dir_all(dir).is_err() {
        return;
    }
    let _ = crate::atomic_write::replace(path, &text);
}

fn path_string(p: Option<&Path>) -> Option<String> {
    p.map(|p| p.to_string_lossy().replace('\\', "/"))
}

/// The paths a commit changed against its first parent (everything, for a root commit).
fn changed_paths(repo: &Repository, commit: &git2::Commit<'_>) -> Result<Vec<String>, git2::Error> {
    let tree = commit.tree()?;
    let parent = match commit.parent(0) {
        Ok(p) => Some(p.tree()?),
        Err(_) => None,
    };
    let mut opts = DiffOptions::new();
    opts.skip_binary_check(true);
    let diff = repo.diff_tree_to_tree(parent.as_ref(), Some(&tree), Some(&mut opts))?;
    let mut out = BTreeSet::new();
    for delta in diff.deltas() {
        let path = match delta.status() {
            Delta::Deleted => path_string(delta.old_file().path()),
            _ => path_string(delta.new_file().path()),
        };
        out.extend(path);
    }
    Ok(out.into_iter().collect())
}

/// Where the `missing` paths of `from` live in `head`: a tree diff with rename detection, read
/// for renamed files only.
fn follow_renames(
    repo: &Repository,
    from: &Tree<'_>,
    head: &Tree<'_>,
    missing: &BTreeSet<&str>,
) -> Result<BTreeMap<String, String>, git2::Error> {
    let mut opts = DiffOptions::new();
    opts.skip_binary_check(true);
    let mut diff = repo.diff_tree_to_tree(Some(from), Some(head), Some(&mut opts))?;
    let mut find = DiffFindOptions::new();
    find.renames(true);
    diff.find_similar(Some(&mut find))?;
    let mut out = BTreeMap::new();
    for delta in diff.deltas() {
        if delta.status() != Delta::Renamed {
            continue;
        }
        let (Some(old), Some(new)) = (
            path_string(delta.old_file().path()),
            path_string(delta.new_file().path()),
        ) else {
            continue;
        };
        if missing.contains(old.as_str()) {
            out.insert(old, new);
        }
    }
    Ok(out)
}

/// How a culprit is shown: as the record writes it when that is a short id of the commit.
fn short_id(written: &str, full: &str) -> String {
    let written = written.to_ascii_lowercase();
    if written.len() >= 7 && full.starts_with(&written) {
        written.chars().take(12).collect()
    } else {
        full.chars().take(10).collect()
    }
}

impl<'a> Hotspots<'a> {
    /// Works out the hotspots of `records` (drafts only when `include_drafts`), following renames
    /// up to `head` (default: HEAD). Culprits that do not resolve become warnings.
    pub fn build(
        repo: Option<&Repository>,
        records: &'a [Analysis],
        include_drafts: bool,
        head: Option<&str>,
    ) -> Hotspots<'a> {
        let mut warnings = Vec::new();
        let records: Vec<&Analysis> = records
            .iter()
            .filter(|a| include_drafts || a.status != Status::Draft)
            .collect();
        let cache_file = repo.map(cache_path);
        let mut cache = cache_file.as_deref().map(read_cache).unwrap_or_default();
        let mut dirty = false;
        let head_commit = repo.and_then(|r| {
            match head {
                Some(h) => r.revparse_single(h).and_then(|o| o.peel_to_commit()),
                None => r.head().and_then(|h| h.peel_to_commit()),
            }
            .ok()
        });
        let head_id = head_commit.as_ref().map(|c| c.id().to_string());
        let head_tree = head_commit.as_ref().and_then(|c| c.tree().ok());

        let mut out = Vec::new();
        for analysis in records {
            let mut paths: BTreeMap<String, Vec<CulpritTouch>> = BTreeMap::new();
            let mut culprit_ids = Vec::new();
            for culprit in &analysis.culprits {
                let Some(repo) = repo else {
                    warnings.push(format!(
                        "{}: culprit commit `{}` of analysis {} was not looked up (not inside a git repository), so only its `hotspots` globs are checked",
                        analysis.file, culprit.commit, analysis.id
                    ));
                    continue;
                };
                let full = match resolve_culprit(repo, culprit) {
                    Resolved::Commit(full) => full,
                    Resolved::Elsewhere(_) => continue,
                    Resolved::Missing(_) => {
                        let (line, col) =
                            crate::error::line_col(&analysis.text, culprit.span.start);
                        let fetch = if repo.is_shallow() {
                            "this is a shallow clone: fetch the full history (git fetch --unshallow, or fetch-depth: 0 in CI)"
                        } else {
                            "check the id with `git log --oneline`, or fetch the branch that has it"
                        };
                        warnings.push(format!(
                            "{}:{line}:{col}: culprit commit `{}` of analysis {} is not in this repository, so the files it changed are not checked as hotspots; {fetch}",
                            analysis.file, culprit.commit, analysis.id
                        ));
                        continue;
                    }
                };
                let Ok(oid) = Oid::from_str(&full) else {
                    continue;
                };
                let Ok(commit) = repo.find_commit(oid) else {
                    continue;
                };
                culprit_ids.push(oid);
                let mut entry = match cache.commits.get(&full) {
                    Some(e) => e.clone(),
                    None => match changed_paths(repo, &commit) {
                        Ok(paths) => {
                            dirty = true;
                            CacheEntry {
                                paths,
                                ..CacheEntry::default()
                            }
                        }
                        Err(e) => {
                            warnings.push(format!(
                                "{}: could not read what culprit commit `{}` of analysis {} changed: {}",
                                analysis.file,
                                culprit.commit,
                                analysis.id,
                                e.message()
                            ));
                            continue;
                        }
                    },
                };
                if let (Some(head_id), Some(head_tree)) = (&head_id, &head_tree) {
                    if entry.head.as_ref() != Some(head_id) {
                        let missing: BTreeSet<&str> = entry
                            .paths
                            .iter()
                            .map(String::as_str)
                            .filter(|p| head_tree.get_path(Path::new(p)).is_err())
                            .collect();
                        entry.renamed = if missing.is_empty() {
                            BTreeMap::new()
                        } else {
                            commit
                                .tree()
                                .and_then(|t| follow_renames(repo, &t, head_tree, &missing))
                                .unwrap_or_default()
                        };
                        entry.head = Some(head_id.clone());
                        dirty = true;
                    }
                }
                let short = short_id(&culprit.commit, &full);
                for path in &entry.paths {
                    let (now, renamed_from) = match entry.renamed.get(path) {
                        Some(new) => (new.clone(), Some(path.clone())),
                        None => (path.clone(), None),
                    };
                    paths.entry(now).or_default().push(CulpritTouch {
                        commit: short.clone(),
                        role: culprit.role,
                        renamed_from,
                    });
                }
                cache.commits.insert(full, entry);
            }
            out.push(RecordHotspots {
                analysis,
                culprit_ids,
                paths,
                include: GlobMatcher::new(&analysis.hotspots),
                exclude: GlobMatcher::new(&analysis.hotspots_exclude),
            });
        }
        if dirty {
            if let Some(file) = &cache_file {
                cache.version = CACHE_VERSION;
                write_cache(file, &cache);
            }
        }
        Hotspots {
            records: out,
            warnings,
        }
    }

    /// One note per (record, changed file) the change touches, skipping files `skip` says are
    /// excluded from checks.
    pub fn findings(
        &self,
        changes: &ChangeSet,
        config: &HotspotsConfig,
        skip: impl Fn(&str) -> bool,
    ) -> Vec<Finding> {
        let mut out = Vec::new();
        for file in &changes.files {
            if skip(&file.path) {
                continue;
            }
            for record in &self.records {
                if let Some(hit) = record.hit(&file.path, file.old_path.as_deref()) {
                    out.push(note(record.analysis, &file.path, &hit, config));
                }
            }
        }
        out
    }
}

/// How a record's hotspots fared since its incident (for `forewarn report`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct HotspotHistory {
    /// Which history was read: `since <culprit>`, `since <held>`, or `all history`.
    pub since: String,
    /// Commits (merges aside) that changed at least one hotspot.
    pub changes: usize,
    /// Of those, how many acknowledged the note (`Forewarn-Ack: incident-hotspot:` trailer, or
    /// an acknowledged ledger event for the commit).
    pub acknowledged: usize,
    /// Hotspot paths touched and by how many of those changes, most first (at most 10).
    pub paths: Vec<(String, usize)>,
}

impl RecordHotspots<'_> {
    /// Whether a path, as a past commit named it, is one of this record's hotspots: its name now,
    /// the name the culprit gave it, or one of the record's globs.
    fn touched_in_history(&self, path: &str) -> bool {
        if self.exclude.is_match(path) {
            return false;
        }
        self.include.is_match(path)
            || self.paths.contains_key(path)
            || self
                .paths
                .values()
                .flatten()
                .any(|t| t.renamed_from.as_deref() == Some(path))
    }
}

/// For each record: the commits since its incident (after its culprit commits; else since the
/// day it was held; else all history) that touched its hotspots, and how many acknowledged it.
pub fn history(
    repo: &Repository,
    spots: &Hotspots<'_>,
    events: &[super::ledger::Event],
) -> BTreeMap<String, HotspotHistory> {
    let mut memo: std::collections::HashMap<Oid, (Vec<String>, bool)> =
        std::collections::HashMap::new();
    let mut out = BTreeMap::new();
    for record in &spots.records {
        let Ok(mut walk) = repo.revwalk() else {
            continue;
        };
        if walk.push_head().is_err() {
            continue;
        }
        let mut since_time = None;
        let since = if !record.culprit_ids.is_empty() {
            for id in &record.culprit_ids {
                let _ = walk.hide(*id);
            }
            let shown: Vec<String> = record
                .culprit_ids
                .iter()
                .map(|id| id.to_string()[..10].to_string())
                .collect();
            format!("since {}", shown.join(", "))
        } else if let Some(held) = &record.analysis.held {
            since_time = format!("{held}T00:00:00Z")
                .parse::<jiff::Timestamp>()
                .ok()
                .map(|t| t.as_second());
            format!("since {held}")
        } else {
            "all history".to_string()
        };
        let mut stats = HotspotHistory {
            since,
            ..HotspotHistory::default()
        };
        let mut per_path: BTreeMap<String, usize> = BTreeMap::new();
        for oid in walk.flatten() {
            let Ok(commit) = repo.find_commit(oid) else {
                continue;
            };
            if commit.parent_count() > 1 {
                continue;
            }
            if since_time.is_some_and(|t| commit.time().seconds() < t) {
                continue;
            }
            let (paths, trailer) = memo.entry(oid).or_insert_with(|| {
                let message = String::from_utf8_lossy(commit.message_bytes());
                let trailer = message.to_ascii_lowercase().contains("forewarn-ack:")
                    && crate::ack::parse_text(
                        &message,
                        &crate::finding::AckSource::Trailer {
                            commit: oid.to_string(),
                        },
                        "commit",
                    )
                    .acks
                    .iter()
                    .any(|a| a.rule_id == RULE_ID);
                (changed_paths(repo, &commit).unwrap_or_default(), trailer)
            });
            let hit: Vec<&String> = paths
                .iter()
                .filter(|p| record.touched_in_history(p))
                .collect();
            if hit.is_empty() {
                continue;
            }
            stats.changes += 1;
            for p in hit {
                *per_path.entry(p.clone()).or_default() += 1;
            }
            let id = oid.to_string();
            let in_ledger = events.iter().any(|e| {
                e.rule == RULE_ID
                    && e.kind == super::ledger::Kind::Acknowledged
                    && e.commit
                        .as_deref()
                        .is_some_and(|c| !c.is_empty() && id.starts_with(c))
                    && e.findings.iter().any(|l| {
                        l.split_once('#')
                            .is_some_and(|(a, _)| a == record.analysis.id)
                    })
            });
            if *trailer || in_ledger {
                stats.acknowledged += 1;
            }
        }
        let mut paths: Vec<(String, usize)> = per_path.into_iter().collect();
        paths.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        paths.truncate(10);
        stats.paths = paths;
        out.insert(record.analysis.id.clone(), stats);
    }
    out
}

/// The record's lessons, one line: `F1: lesson; F2: lesson`.
fn lessons(analysis: &Analysis) -> String {
    let parts: Vec<String> = analysis
        .findings
        .iter()
        .filter_map(|f| {
            let text = if f.lesson.trim().is_empty() {
                f.text.trim()
            } else {
                f.lesson.trim()
            };
            (!text.is_empty()).then(|| format!("{}: {}", f.id, text))
        })
        .collect();
    if parts.is_empty() {
        "the record names no lesson yet".to_string()
    } else {
        format!("its lessons: {}", parts.join("; "))
    }
}

fn note(analysis: &Analysis, path: &str, hit: &Hit<'_>, config: &HotspotsConfig) -> Finding {
    let why = match hit {
        Hit::Culprits(touches) => {
            let commits: Vec<String> = touches
                .iter()
                .map(|t| match &t.renamed_from {
                    Some(old) => format!("{} ({}, as {old})", t.commit, t.role.as_str()),
                    None => format!("{} ({})", t.commit, t.role.as_str()),
                })
                .collect();
            format!(
                "{path} was also changed by commit {}, part of the incident that analysis {} describes",
                commits.join(", "),
                analysis.id
            )
        }
        Hit::Glob => format!(
            "{path} is among the hotspots that analysis {} names for its incident",
            analysis.id
        ),
    };
    let title = if analysis.title.trim().is_empty() {
        String::new()
    } else {
        format!(" (\"{}\")", analysis.title.trim())
    };
    Finding {
        rule_id: RULE_ID.into(),
        title: format!("Touches what incident {} touched", analysis.id).into(),
        severity: config.severity,
        category: "process".into(),
        message: format!("{why}{title}; {}.", lessons(analysis)),
        ask: ASK.into(),
        findings: analysis.findings.iter().map(|f| analysis.link(f)).collect(),
        path: Some(path.into()),
        line: None,
        old_side: false,
        matched: None,
        fingerprint: fingerprint(RULE_ID, Some(path), Some(&analysis.id)),
        snippet: None,
        acknowledged: None,
        operation: None,
        subject: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::record::Role;

    fn record(extra: &str) -> Analysis {
        let text = format!(
            "id = \"a\"\ntitle = \"T\"\nstatus = \"reviewed\"\n{extra}\n[[finding]]\nid = \"F1\"\nquestion = \"other\"\ntext = \"x\"\nlesson = \"L\"\n"
        );
        let file = RuleFile {
            path: "a.toml".into(),
            text,
            builtin: false,
        };
        parse_file(&file, &mut Vec::new()).unwrap()
    }

    #[test]
    fn globs_widen_and_narrow() {
        let a = record("hotspots = [\"pay/**\"]\nhotspots_exclude = [\"**/*.lock\"]");
        let spots = Hotspots::build(None, std::slice::from_ref(&a), false, None);
        let r = &spots.records[0];
        assert_eq!(r.hit("pay/x.py", None), Some(Hit::Glob));
        assert_eq!(r.hit("pay/Cargo.lock", None), None);
        assert_eq!(r.hit("new/x.py", Some("pay/x.py")), Some(Hit::Glob));
        assert_eq!(r.hit("other.py", None), None);
    }

    #[test]
    fn drafts_are_skipped_unless_asked() {
        let mut a = record("");
        a.status = Status::Draft;
        assert!(
            Hotspots::build(None, std::slice::from_ref(&a), false, None)
                .records
                .is_empty()
        );
        assert_eq!(
            Hotspots::build(None, std::slice::from_ref(&a), true, None)
                .records
                .len(),
            1
        );
    }

    #[test]
    fn note_names_analysis_lesson_commit_and_question() {
        let a = record("");
        let touches = [CulpritTouch {
            commit: "abc1234".into(),
            role: Role::Trigger,
            renamed_from: Some("old.py".into()),
        }];
        let f = note(
            &a,
            "new.py",
            &Hit::Culprits(&touches),
            &HotspotsConfig::default(),
        );
        assert_eq!(f.rule_id, RULE_ID.into());
        assert_eq!(&*f.findings, ["a#F1"]);
        assert!(
            f.message.contains("abc1234 (trigger, as old.py)"),
            "{}",
            f.message
        );
        assert!(f.message.contains("F1: L"), "{}", f.message);
        assert_eq!(f.ask, ASK.into());
        assert_eq!(
            f.fingerprint,
            fingerprint(RULE_ID, Some("new.py"), Some("a"))
        );
    }

    #[test]
    fn short_ids() {
        let full = "3f9c2e1aa0000000000000000000000000000000";
        assert_eq!(short_id("3f9c2e1", full), "3f9c2e1");
        assert_eq!(short_id("HEAD~2", full), "3f9c2e1aa0");
    }
}
