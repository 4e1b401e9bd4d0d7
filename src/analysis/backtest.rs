//! Backtest: replay rules over past commits, each against its first parent, and see how often
//! each rule fires and which culprit commits of the analysis records it catches.
//!
//! Commits are read in parallel (one libgit2 handle per worker) and matched by one shared
//! engine. Merge commits are skipped, as `git log -p` skips their diffs: a merge against its
//! first parent is the whole branch again. `--write` stores each rule's result in the records it
//! links to, editing the TOML in place so the facilitator's comments and layout stay.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

use git2::{Oid, Repository, Sort};
use rayon::prelude::*;
use serde::Serialize;

use super::links::{Resolved, plural, resolve_culprit};
use super::record::{Analyses, Role, StoredBacktest};
use crate::config::Config;
use crate::diff::git;
use crate::engine::Engine;
use crate::error::{Error, Result, SourceError};
use crate::rules::Rule;
use crate::rules::load::RuleFile;

/// Which commits to replay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum History {
    /// Every commit reachable from HEAD.
    All,
    /// `A..B`: reachable from B, not from A.
    Range { base: String, head: String },
    /// Reachable from HEAD, committed at or after this time.
    Since(jiff::Timestamp, String),
    /// The N most recent commits reachable from HEAD.
    Last(usize),
}

impl History {
    /// Parses `--range A..B`.
    pub fn range(text: &str) -> Result<History> {
        match text.split_once("..") {
            Some((base, head)) if !base.is_empty() && !head.trim_start_matches('.').is_empty() => {
                Ok(History::Range {
                    base: base.to_string(),
                    head: head.trim_start_matches('.').to_string(),
                })
            }
            _ => Err(Error::usage(
                format!("--range {text:?} is not a range"),
                "write it as git does: --range v1.0..main (the commits reachable from main and not from v1.0)",
            )),
        }
    }

    /// Parses `--since DATE`: a date (midnight, local time) or an RFC 3339 time.
    pub fn since(text: &str) -> Result<History> {
        let time = text.parse::<jiff::Timestamp>().ok().or_else(|| {
            text.parse::<jiff::civil::Date>()
                .ok()
                .and_then(|d| d.to_zoned_datetime(jiff::tz::TimeZone::system()).ok())
                .map(|z| z.timestamp())
        });
        match time {
            Some(t) => Ok(History::Since(t, text.to_string())),
            None => Err(Error::usage(
                format!("--since {text:?} is not a date"),
                "write a date like 2024-01-31, or a time like 2024-01-31T12:00:00Z",
            )),
        }
    }

    /// How the output names it.
    pub fn label(&self, commits: usize) -> String {
        match self {
            History::All => format!("all {} reachable from HEAD", plural(commits, "commit")),
            History::Range { base, head } => {
                format!("{base}..{head}, {}", plural(commits, "commit"))
            }
            History::Since(_, text) => format!("{} since {text}", plural(commits, "commit")),
            History::Last(n) => format!("the last {} of HEAD", plural((*n).min(commits), "commit")),
        }
    }
}

/// The non-merge commits to replay, newest first.
pub fn commits(repo: &Repository, history: &History) -> Result<Vec<Oid>> {
    let walk_error = |what: &str, e: git2::Error| {
        Error::repository(
            format!("cannot walk the history of {what}: {}", e.message()),
            "check the revision with `git log --oneline -1 <rev>`; in CI fetch the full history (`fetch-depth: 0`)",
        )
    };
    let mut walk = repo.revwalk().map_err(|e| walk_error("HEAD", e))?;
    walk.set_sorting(Sort::TOPOLOGICAL | Sort::TIME)
        .map_err(|e| walk_error("HEAD", e))?;
    let resolve = |rev: &str| {
        repo.revparse_single(rev)
            .and_then(|o| o.peel_to_commit())
            .map(|c| c.id())
            .map_err(|e| walk_error(rev, e))
    };
    match history {
        History::Range { base, head } => {
            walk.push(resolve(head)?).map_err(|e| walk_error(head, e))?;
            walk.hide(resolve(base)?).map_err(|e| walk_error(base, e))?;
        }
        _ => {
            let head = repo.head().and_then(|h| h.peel_to_commit()).map_err(|e| {
                Error::repository(
                    format!("HEAD does not name a commit: {}", e.message()),
                    "commit something first, or give --range A..B",
                )
            })?;
            walk.push(head.id()).map_err(|e| walk_error("HEAD", e))?;
        }
    }
    let since = match history {
        History::Since(t, _) => Some(t.as_second()),
        _ => None,
    };
    let limit = match history {
        History::Last(n) => *n,
        _ => usize::MAX,
    };
    let mut out = Vec::new();
    for oid in walk {
        if out.len() >= limit {
            break;
        }
        let oid = oid.map_err(|e| walk_error("HEAD", e))?;
        let Ok(commit) = repo.find_commit(oid) else {
            continue;
        };
        if commit.parent_count() > 1 {
            continue;
        }
        if since.is_some_and(|s| commit.time().seconds() < s) {
            continue;
        }
        out.push(oid);
    }
    Ok(out)
}

/// One culprit commit of a record, and what the backtest made of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CulpritOutcome {
    pub analysis: String,
    /// As the record writes it.
    pub commit: String,
    pub role: Role,
    /// The full id, when the commit is in this repository.
    pub resolved: Option<String>,
    /// Why it could not be replayed, when it was not.
    pub not_replayed: Option<String>,
    /// The replayed rules that fire on it.
    pub caught_by: Vec<String>,
}

/// A culprit as one rule saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleCulprit {
    pub analysis: String,
    pub commit: String,
    pub caught: bool,
}

/// One rule's result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleResult {
    pub rule: String,
    /// The rule's finding links.
    pub findings: Vec<String>,
    pub commits_scanned: usize,
    pub fired_on: usize,
    /// `fired_on / commits_scanned`, 0 when nothing was scanned.
    pub share: f64,
    /// The newest commits it fired on (at most five), for a look at what it flags.
    pub examples: Vec<String>,
    /// Culprit commits of the records the rule links to.
    pub culprits: Vec<RuleCulprit>,
}

impl RuleResult {
    pub fn caught(&self) -> impl Iterator<Item = &RuleCulprit> {
        self.culprits.iter().filter(|c| c.caught)
    }

    pub fn missed(&self) -> impl Iterator<Item = &RuleCulprit> {
        self.culprits.iter().filter(|c| !c.caught)
    }
}

/// The whole result.
#[derive(Debug, Clone, Serialize)]
pub struct Backtest {
    /// What was replayed, e.g. `last 1000 commits of HEAD (1000 read)`.
    pub range: String,
    pub commits: usize,
    pub threads: usize,
    #[serde(skip)]
    pub elapsed: Duration,
    /// When it ran, RFC 3339.
    pub run: String,
    pub rules: Vec<RuleResult>,
    pub culprits: Vec<CulpritOutcome>,
    pub warnings: Vec<String>,
}

/// Progress callbacks (for a progress bar): the number of commits to replay once it is known,
/// then one call per commit replayed, from any worker.
pub struct Progress<'a> {
    pub start: &'a dyn Fn(usize),
    pub commit: &'a (dyn Fn() + Sync),
}

/// Replays `rules` over `history` and over every culprit commit of `analyses`.
pub fn run(
    repo_path: &Path,
    rules: &[Rule],
    config: &Config,
    analyses: &Analyses,
    history: &History,
    threads: usize,
    progress: Progress<'_>,
) -> Result<Backtest> {
    let started = Instant::now();
    let repo = Repository::open(repo_path).map_err(|e| {
        Error::repository(
            format!(
                "cannot open the repository at {}: {}",
                repo_path.display(),
                e.message()
            ),
            "run forewarn backtest inside a git checkout",
        )
    })?;
    let oids = commits(&repo, history)?;
    (progress.start)(oids.len());
    let engine = Engine::new(rules, config);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads.max(1))
        .build()
        .map_err(|e| {
            Error::usage(
                format!("cannot start {threads} threads: {e}"),
                "pass a smaller --jobs",
            )
        })?;
    let fired: Vec<std::result::Result<Vec<usize>, String>> = pool.install(|| {
        oids.par_iter()
            .map_init(
                || git::open_for_thread(repo_path).map(git::CommitReader::new),
                |reader, oid| {
                    let result = match reader {
                        Some(reader) => fired_rules(reader, &engine, rules, *oid),
                        None => Err("cannot open the repository".to_string()),
                    };
                    (progress.commit)();
                    result
                },
            )
            .collect()
    });

    let mut warnings = Vec::new();
    let mut unreadable = 0;
    let mut counts = vec![0usize; rules.len()];
    let mut examples: Vec<Vec<String>> = vec![Vec::new(); rules.len()];
    for (oid, result) in oids.iter().zip(&fired) {
        match result {
            Ok(indices) => {
                for &i in indices {
                    counts[i] += 1;
                    if examples[i].len() < 5 {
                        examples[i].push(oid.to_string()[..12].to_string());
                    }
                }
            }
            Err(why) => {
                if unreadable == 0 {
                    warnings.push(format!(
                        "commit {} could not be replayed: {why}",
                        &oid.to_string()[..12]
                    ));
                }
                unreadable += 1;
            }
        }
    }
    if unreadable > 1 {
        warnings.push(format!(
            "{unreadable} commits in all could not be replayed and count as not fired on"
        ));
    }

    let culprits = culprit_outcomes(&repo, &engine, rules, analyses, &mut warnings);

    let results = rules
        .iter()
        .enumerate()
        .map(|(i, rule)| {
            let linked: BTreeSet<&str> = rule
                .findings
                .iter()
                .filter_map(|l| super::record::split_link(l).map(|(a, _)| a))
                .collect();
            RuleResult {
                rule: rule.id.clone(),
                findings: rule.findings.clone(),
                commits_scanned: oids.len(),
                fired_on: counts[i],
                share: if oids.is_empty() {
                    0.0
                } else {
                    counts[i] as f64 / oids.len() as f64
                },
                examples: std::mem::take(&mut examples[i]),
                culprits: culprits
                    .iter()
                    .filter(|c| linked.contains(c.analysis.as_str()) && c.not_replayed.is_none())
                    .map(|c| RuleCulprit {
                        analysis: c.analysis.clone(),
                        commit: c.commit.clone(),
                        caught: c.caught_by.contains(&rule.id),
                    })
                    .collect(),
            }
        })
        .collect();
    Ok(Backtest {
        range: history.label(oids.len()),
        commits: oids.len(),
        threads: threads.max(1),
        elapsed: started.elapsed(),
        run: jiff::Timestamp::now()
            .round(jiff::Unit::Second)
            .unwrap_or_else(|_| jiff::Timestamp::now())
            .to_string(),
        rules: results,
        culprits,
        warnings,
    })
}

/// Replays every culprit commit of `analyses` against `rules`.
pub fn culprit_outcomes(
    repo: &Repository,
    engine: &Engine<'_>,
    rules: &[Rule],
    analyses: &Analyses,
    warnings: &mut Vec<String>,
) -> Vec<CulpritOutcome> {
    let mut culprits = Vec::new();
    let reader = Repository::open(repo.path())
        .ok()
        .map(git::CommitReader::new);
    for analysis in &analyses.records {
        for culprit in &analysis.culprits {
            let mut outcome = CulpritOutcome {
                analysis: analysis.id.clone(),
                commit: culprit.commit.clone(),
                role: culprit.role,
                resolved: None,
                not_replayed: None,
                caught_by: Vec::new(),
            };
            match resolve_culprit(repo, culprit) {
                Resolved::Commit(id) => {
                    match Oid::from_str(&id)
                        .map_err(|e| e.message().to_string())
                        .and_then(|oid| match &reader {
                            Some(reader) => fired_rules(reader, engine, rules, oid),
                            None => Err("cannot open the repository".to_string()),
                        }) {
                        Ok(indices) => {
                            outcome.caught_by =
                                indices.iter().map(|&i| rules[i].id.clone()).collect();
                        }
                        Err(why) => outcome.not_replayed = Some(why),
                    }
                    outcome.resolved = Some(id);
                }
                Resolved::Elsewhere(other) => {
                    outcome.not_replayed = Some(format!("it lives in {other}"));
                }
                Resolved::Missing(why) => {
                    warnings.push(format!(
                        "culprit {} of {} is not in this repository ({why}); `forewarn validate` says more",
                        culprit.commit, analysis.id
                    ));
                    outcome.not_replayed = Some(format!("not in this repository: {why}"));
                }
            }
            culprits.push(outcome);
        }
    }

    culprits
}

/// Indices of the rules that fire on one commit against its first parent.
fn fired_rules(
    reader: &git::CommitReader,
    engine: &Engine<'_>,
    rules: &[Rule],
    oid: Oid,
) -> std::result::Result<Vec<usize>, String> {
    let changes = reader
        .changes(&oid.to_string())
        .map_err(|e| e.to_string())?;
    let findings = engine.check(&changes).findings;
    let mut fired: Vec<usize> = findings
        .iter()
        .filter_map(|f| rules.iter().position(|r| *r.id == *f.rule_id))
        .collect();
    fired.sort_unstable();
    fired.dedup();
    Ok(fired)
}

/// What `--write` stores for one rule and one of its linked findings.
pub fn stored(
    result: &RuleResult,
    finding: &str,
    analysis: &str,
    backtest: &Backtest,
) -> StoredBacktest {
    let of_this = |caught: bool| {
        result
            .culprits
            .iter()
            .filter(|c| c.analysis == analysis && c.caught == caught)
            .map(|c| c.commit.clone())
            .collect()
    };
    StoredBacktest {
        rule: result.rule.clone(),
        finding: finding.to_string(),
        run: backtest.run.clone(),
        range: backtest.range.clone(),
        commits: result.commits_scanned as u64,
        fired: result.fired_on as u64,
        share: (result.share * 10_000.0).round() / 10_000.0,
        caught: of_this(true),
        missed: of_this(false),
    }
}

/// Puts `entries` into a record's text as `[[backtest]]` tables: an entry for the same rule and
/// finding is updated where it stands (keeping its comments), a new one goes at the end. Every
/// other byte of the file stays as it was.
pub fn write_into(text: &str, entries: &[StoredBacktest]) -> std::result::Result<String, String> {
    use super::tables::{Entry, datetime, strings};
    use toml_edit::Value;
    let entries = entries
        .iter()
        .map(|entry| Entry {
            rule: &entry.rule,
            finding: &entry.finding,
            values: vec![
                ("rule", Value::from(entry.rule.as_str())),
                ("finding", Value::from(entry.finding.as_str())),
                ("run", datetime(&entry.run)),
                ("range", Value::from(entry.range.as_str())),
                ("commits", Value::from(entry.commits as i64)),
                ("fired", Value::from(entry.fired as i64)),
                ("share", Value::from(entry.share)),
                ("caught", strings(&entry.caught)),
                ("missed", strings(&entry.missed)),
            ],
        })
        .collect();
    super::tables::upsert(
        text,
        "backtest",
        "# Written by `forewarn backtest --write`: each rule linked to a finding of this record,\n# replayed over history. Run it again to refresh; edits above this line are kept.\n",
        entries,
    )
}

/// Writes the backtest into each record that a replayed rule links to. Returns `(file, rules)`
/// for each record written.
pub fn write(
    root: &Path,
    analysis_files: &[RuleFile],
    analyses: &Analyses,
    backtest: &Backtest,
) -> Result<Vec<(String, Vec<String>)>> {
    let mut written = Vec::new();
    for analysis in &analyses.records {
        let mut entries = Vec::new();
        for result in &backtest.rules {
            for link in &result.findings {
                if let Some((a, f)) = super::record::split_link(link)
                    && a == analysis.id
                    && analysis.finding(f).is_some()
                {
                    entries.push(stored(result, f, &analysis.id, backtest));
                }
            }
        }
        if entries.is_empty() {
            continue;
        }
        let Some(file) = analysis_files.iter().find(|f| f.path == analysis.file) else {
            continue;
        };
        let text = write_into(&file.text, &entries).map_err(|why| {
            Error::Source(vec![SourceError::new(&file.path, &file.text, 0..0, format!("cannot store the backtest in this record: {why}"))
                .help("rename or remove the `backtest` key; forewarn writes [[backtest]] tables there")])
        })?;
        super::tables::store(
            root,
            file,
            &text,
            ("the backtest ran", "forewarn backtest --write"),
        )?;
        written.push((
            file.path.clone(),
            entries.into_iter().map(|e| e.rule).collect(),
        ));
    }
    Ok(written)
}

/// Replaces a file whole or not at all ([`crate::atomic_write::replace`]), never in a `.git`
/// folder. The text is written as given: a record's CRLF and byte-order mark were kept by
/// [`write_into`].
pub fn write_atomic(path: &Path, text: &str) -> Result<()> {
    crate::atomic_write::refuse_git_dir(path)?;
    crate::atomic_write::replace(path, text.as_bytes()).map_err(|e| Error::Io {
        action: "write",
        path: path.to_path_buf(),
        source: e,
        help: Some("check that the file and its folder are writable".into()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(rule: &str, fired: u64) -> StoredBacktest {
        StoredBacktest {
            rule: rule.into(),
            finding: "F2".into(),
            run: "2024-05-01T10:00:00Z".into(),
            range: "all 10 commits reachable from HEAD".into(),
            commits: 10,
            fired,
            share: fired as f64 / 10.0,
            caught: vec!["3f9c2e1".into()],
            missed: vec![],
        }
    }

    const RECORD: &str = include_str!("testdata/analysis.toml");

    #[test]
    fn appends_after_everything_and_keeps_every_byte() {
        let out = write_into(RECORD, &[entry("a", 1), entry("b", 2)]).unwrap();
        assert!(out.starts_with(RECORD), "{out}");
        let added = &out[RECORD.len()..];
        assert!(
            added.starts_with("\n# Written by `forewarn backtest --write`"),
            "{added}"
        );
        assert_eq!(added.matches("[[backtest]]").count(), 2, "{added}");
        assert!(added.contains("run = 2024-05-01T10:00:00Z\n"), "{added}");
        assert!(added.contains("caught = [\"3f9c2e1\"]\n"), "{added}");
    }

    #[test]
    fn rewriting_updates_in_place_and_keeps_comments() {
        let once = write_into(RECORD, &[entry("a", 1)]).unwrap();
        let commented = once.replace("fired = 1\n", "fired = 1   # looked at these by hand\n");
        let twice = write_into(&commented, &[entry("a", 3)]).unwrap();
        assert_eq!(
            twice,
            commented
                .replace("fired = 1   #", "fired = 3   #")
                .replace("share = 0.1\n", "share = 0.3\n")
        );
    }

    #[test]
    fn a_record_without_a_final_newline_gets_one() {
        let text = "id = \"x\"\ntitle = \"t\"\nstatus = \"draft\"";
        let out = write_into(text, &[entry("a", 1)]).unwrap();
        assert!(out.starts_with(&format!("{text}\n\n# Written by")), "{out}");
        assert!(out.parse::<toml::Table>().is_ok());
    }

    #[test]
    fn parses_history_flags() {
        assert_eq!(
            History::range("v1..main").unwrap(),
            History::Range {
                base: "v1".into(),
                head: "main".into()
            }
        );
        assert_eq!(
            History::range("v1...main").unwrap(),
            History::Range {
                base: "v1".into(),
                head: "main".into()
            }
        );
        assert!(History::range("main").is_err());
        assert!(History::since("2024-01-31").is_ok());
        assert!(History::since("2024-01-31T00:00:00Z").is_ok());
        assert!(History::since("last tuesday").is_err());
    }
}
