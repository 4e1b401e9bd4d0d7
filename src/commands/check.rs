//! `forewarn check`: read a change, run the rules, apply acknowledgements, draw, gate.

use std::collections::HashMap;
use std::io::Read;
use std::sync::Arc;
use std::time::Instant;

use super::{Context, Outcome};
use crate::ack;
use crate::cli::CheckArgs;
use crate::diff::snippet::{Snippet, Snippets};
use crate::diff::{ChangeSet, ChangedFile, FileStatus, git, patch};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::finding::Finding;
use crate::output::{self, Report};
use crate::workspace::Workspace;

/// Bytes of changed lines read and matched at a time: a stored change of any size is checked
/// in batches of about this much text, so memory does not grow with the size of the change.
const BATCH_BYTES: usize = 16 << 20;

/// A change to check: held in memory (a patch), or planned and read in batches (see
/// [`git::plan`]).
pub enum Incoming<'r> {
    Whole(ChangeSet),
    Planned(git::PlannedChange<'r>),
}

impl<'r> Incoming<'r> {
    /// The change; for a planned one, its files without their lines.
    pub fn change(&self) -> &ChangeSet {
        match self {
            Incoming::Whole(change) => change,
            Incoming::Planned(planned) => &planned.skeleton,
        }
    }

    fn planned(&self) -> Option<&git::PlannedChange<'r>> {
        match self {
            Incoming::Whole(_) => None,
            Incoming::Planned(planned) => Some(planned),
        }
    }
}

pub fn run(args: &CheckArgs, ctx: &Context) -> Result<Outcome> {
    let started = Instant::now();
    // A bad --ack is a usage error: say so before doing any work.
    let cli_acks = args
        .acks
        .iter()
        .map(|a| ack::parse_cli(a))
        .collect::<Result<Vec<_>>>()?;
    // The rules are parsed on the thread pool while this thread plans the change: both take
    // about as long, and neither needs the other. A problem in the rules is said first.
    let (mut workspace, rule_files) = Workspace::open(&ctx.cwd, &args.load.options())?;
    let mut rules = None;
    let incoming = {
        let (files, config) = (&rule_files, &workspace.config);
        let rules = &mut rules;
        rayon::in_place_scope(|scope| {
            scope.spawn(move |_| *rules = Some(crate::rules::load::load(files, config)));
            read_changes(
                args,
                workspace.repo.as_ref(),
                &workspace.root,
                config.base.as_deref(),
            )
        })
    };
    workspace.rules = rules.expect("the scope waits for the rules")?;
    let incoming = incoming?;
    let report = check_changes(
        &workspace,
        incoming.change(),
        incoming.planned(),
        cli_acks,
        args,
        started,
    )?;
    // A push that fails still lets the check's own report print: the failure is said after it.
    let mut push_failed = None;
    if args.record {
        let head = incoming.change().head_commit.as_deref();
        let pull_request = args
            .pull_request
            .or_else(crate::analysis::ledger::pull_request_number);
        let written = crate::analysis::ledger::record(&workspace, &report, head, pull_request)?;
        if args.push {
            push_failed = super::ledger::push_named(&workspace, &args.remote, &written).err();
        }
    }
    let render_ctx = output::RenderContext {
        rules: &workspace.rules.rules,
        color: ctx.color && args.output.is_none(),
        width: ctx.width.filter(|_| args.output.is_none()),
        sarif_acknowledged: args.sarif_acknowledged,
    };
    output::write::side_reports(&report, args.format, &args.reports.files(), &render_ctx)?;
    let code = u8::from(report.fails());
    if let Some(error) = push_failed {
        let mut outcome = Outcome {
            stdout: output::render(&report, args.format, &render_ctx),
            stderr: error.render(ctx.color),
            code: 2,
            ..Outcome::default()
        };
        if let Some(path) = &args.output {
            output::write::atomic(path, &outcome.stdout)?;
            outcome.stdout.clear();
        }
        return Ok(outcome);
    }
    match &args.output {
        Some(path) => {
            let rendered = output::render(&report, args.format, &render_ctx);
            output::write::atomic(path, &rendered)?;
            Ok(Outcome {
                code,
                ..Outcome::default()
            })
        }
        // JSON, the format for machines and the largest, goes straight to stdout.
        None if args.format == output::Format::Json => Ok(Outcome {
            stdout_json: Some(Box::new(report)),
            code,
            ..Outcome::default()
        }),
        None => Ok(Outcome {
            stdout: output::render(&report, args.format, &render_ctx),
            code,
            ..Outcome::default()
        }),
    }
}

/// Reads the change the flags name.
pub fn read_changes<'r>(
    args: &CheckArgs,
    repo: Option<&'r git2::Repository>,
    root: &std::path::Path,
    config_base: Option<&str>,
) -> Result<Incoming<'r>> {
    if let Some(path) = &args.patch {
        let (name, bytes) = if path.as_os_str() == "-" {
            let mut buf = Vec::new();
            std::io::stdin()
                .read_to_end(&mut buf)
                .map_err(|e| Error::io("read the patch from", "stdin", e))?;
            ("stdin".to_string(), buf)
        } else {
            let bytes = std::fs::read(path).map_err(|e| Error::Io {
                action: "read the patch",
                path: path.clone(),
                source: e,
                help: Some("produce one with: git diff > change.patch".into()),
            })?;
            (path.display().to_string(), bytes)
        };
        let empty = if args.allow_empty {
            patch::Empty::Allowed
        } else {
            patch::Empty::Refused
        };
        return patch::parse_patch(&name, &bytes, empty).map(Incoming::Whole);
    }
    let Some(repo) = repo else {
        return Err(Error::repository(
            format!("{} is not inside a git repository", root.display()),
            "run forewarn inside a git checkout, or pipe a diff in: git diff | forewarn check --patch -",
        ));
    };
    let input = if let Some((from, to)) = pre_commit_range(args)? {
        git::Input::Range {
            base: from,
            head: to,
        }
    } else if args.staged || args.pre_commit {
        git::Input::Staged
    } else if let Some(sha) = &args.commit {
        git::Input::Commit(sha.clone())
    } else if let (Some(base), Some(head)) = (&args.base, &args.head) {
        git::Input::Range {
            base: base.clone(),
            head: head.clone(),
        }
    } else {
        git::Input::WorkingTree {
            base: args.base.clone().or_else(ci_base),
        }
    };
    git::plan(repo, &input, config_base)?
        .attributes_from(args.load.rules_from.as_deref())
        .map(Incoming::Planned)
}

/// With `--pre-commit`: the range `pre-commit run --from-ref A --to-ref B` (and its pre-push
/// stage) passes in PRE_COMMIT_FROM_REF and PRE_COMMIT_TO_REF, or in the names older versions set,
/// PRE_COMMIT_SOURCE and PRE_COMMIT_ORIGIN. `None`: no range, check what is staged.
fn pre_commit_range(args: &CheckArgs) -> Result<Option<(String, String)>> {
    if !args.pre_commit {
        return Ok(None);
    }
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    for (from_name, to_name) in [
        ("PRE_COMMIT_FROM_REF", "PRE_COMMIT_TO_REF"),
        ("PRE_COMMIT_SOURCE", "PRE_COMMIT_ORIGIN"),
    ] {
        match (var(from_name), var(to_name)) {
            (Some(from), Some(to)) => return Ok(Some((from, to))),
            (None, None) => continue,
            (Some(_), None) | (None, Some(_)) => {
                let (set, unset) = if var(from_name).is_some() {
                    (from_name, to_name)
                } else {
                    (to_name, from_name)
                };
                return Err(Error::usage(
                    format!(
                        "--pre-commit: {set} is set but {unset} is not, so the range to check is unknown"
                    ),
                    "pre-commit sets both with `pre-commit run --from-ref <rev> --to-ref <rev>`; set both, or neither to check what is staged",
                ));
            }
        }
    }
    Ok(None)
}

/// In GitHub Actions on a pull request, the base branch is `origin/$GITHUB_BASE_REF`.
fn ci_base() -> Option<String> {
    let base = std::env::var("GITHUB_BASE_REF").ok()?;
    (!base.is_empty()).then(|| format!("origin/{base}"))
}

/// Runs the rules on a change and applies every acknowledgement: the part of `check` that the
/// demo and tests share. With `planned`, `changes` holds no lines: they are read in batches,
/// each matched, given its snippets and inline acknowledgements, and dropped.
pub fn check_changes(
    workspace: &Workspace,
    changes: &ChangeSet,
    planned: Option<&git::PlannedChange<'_>>,
    cli_acks: Vec<crate::finding::Acknowledgement>,
    args: &CheckArgs,
    started: Instant,
) -> Result<Report> {
    let batches = planned.map(|planned| (planned, BATCH_BYTES));
    check_in_batches(workspace, changes, batches, cli_acks, args, started)
}

/// [`check_changes`], with the lines of a planned change read `batch_bytes` at a time.
fn check_in_batches(
    workspace: &Workspace,
    changes: &ChangeSet,
    batches: Option<(&git::PlannedChange<'_>, usize)>,
    cli_acks: Vec<crate::finding::Acknowledgement>,
    args: &CheckArgs,
    started: Instant,
) -> Result<Report> {
    let engine = Engine::new(&workspace.rules.rules, &workspace.config)
        .detect_profile_from(&changes.new_side);
    let mut session = engine.begin(&changes.files);
    let understander = crate::understand::Understander::open(changes);
    let reader = git::NewFileReader::open(&changes.new_side);
    // Each batch's findings stay in their own vector until the end, and are then moved once
    // into a vector of the right size: growing one vector batch by batch copied every finding
    // found so far each time it doubled.
    let mut batches_found: Vec<Vec<Finding>> = Vec::new();
    let mut inline_refused = Vec::new();
    let mut anchors = HashMap::new();
    let mut matched = |first: usize, files: &[ChangedFile]| {
        let wanted = session.wants_understanding(first, files);
        let understood = understander.batch(files, &wanted, || engine.profile());
        let mut found = session.match_files(first, files, &understood);
        attach_snippets(
            &mut found,
            &mut Snippets::new(files, &changes.new_side, &reader),
        );
        ack::apply_inline(&mut found, files, &mut inline_refused);
        anchor_removed_lines(&found, files, &mut anchors);
        batches_found.push(found);
        // A batch's syntax trees and documents are freed on every thread, not one by one here.
        {
            use rayon::prelude::*;
            understood.into_par_iter().for_each(drop);
        }
    };
    match batches {
        None => matched(0, &changes.files),
        Some((planned, batch_bytes)) => {
            let mut at = 0;
            while at < changes.files.len() {
                let (files, next) = planned.read_batch(at, batch_bytes)?;
                matched(at, &files);
                at = next;
            }
        }
    }
    batches_found.push(session.finish(&changes.files));
    let mut findings = Vec::with_capacity(batches_found.iter().map(Vec::len).sum());
    for found in batches_found {
        findings.extend(found);
    }
    crate::verify::run(&mut findings, &workspace.rules.rules, changes);
    crate::engine::sort_findings(&mut findings);

    let mut warnings = workspace.rules.warnings.clone();
    if workspace.config.hotspots.enabled && !workspace.analysis_files.is_empty() {
        findings.extend(crate::analysis::hotspots::findings_for_change(
            &workspace.analysis_files,
            workspace.repo.as_ref(),
            &workspace.config,
            changes,
            &mut warnings,
        ));
    }
    let mut collected = ack::from_commits(&changes.commits);
    // The live pull request (fetched by the Action) wins over the event's copy of its body.
    let live = std::env::var_os("FOREWARN_PULL_REQUEST_FILE").filter(|p| !p.is_empty());
    let event = std::env::var_os("GITHUB_EVENT_PATH").filter(|p| !p.is_empty());
    if let Some(path) = live.as_ref().or(event.as_ref()) {
        let path = std::path::Path::new(path);
        let from_pr = if live.is_some() {
            ack::from_pull_request_file(path)?
        } else {
            ack::from_event_file(path)?
        };
        collected.acks.extend(from_pr.acks);
        collected.refused.extend(from_pr.refused);
    }
    // GitLab sets the merge-request description on merge-request pipelines.
    if let Some(description) = std::env::var("CI_MERGE_REQUEST_DESCRIPTION")
        .ok()
        .filter(|d| !d.trim().is_empty())
    {
        let truncated = std::env::var("CI_MERGE_REQUEST_DESCRIPTION_IS_TRUNCATED")
            .is_ok_and(|t| t.eq_ignore_ascii_case("true"));
        let from_mr = ack::from_merge_request_description(&description, truncated);
        collected.acks.extend(from_mr.acks);
        collected.refused.extend(from_mr.refused);
    }
    collected.refused.extend(inline_refused);
    collected.acks.extend(cli_acks);
    let unused_acks = ack::apply(&mut findings, &collected.acks);
    warnings.extend(collected.refused);

    Ok(Report {
        description: changes.description.clone(),
        findings,
        unused_acks,
        warnings,
        files_checked: session.files_checked(),
        rules_checked: workspace.rules.rules.len(),
        elapsed: started.elapsed(),
        fail_on: args.fail_on.gate(),
        removed_line_anchors: anchors,
    })
}

/// For each finding of `findings` on a removed line of one of `files`: the nearest line of the
/// new version of the file (formats that can only point into the new version show it there).
/// The line that took its place when the hunk added one, else the unchanged line before it, or
/// line 1 at the top of the file or in a deleted file. Each file's lines are walked once.
fn anchor_removed_lines(
    findings: &[Finding],
    files: &[ChangedFile],
    anchors: &mut HashMap<(Arc<str>, u32), u32>,
) {
    let mut wanted: HashMap<&str, (Arc<str>, Vec<u32>)> = HashMap::new();
    for f in findings.iter().filter(|f| f.old_side) {
        if let (Some(path), Some(line)) = (&f.path, f.line) {
            wanted
                .entry(&**path)
                .or_insert_with(|| (Arc::clone(path), Vec::new()))
                .1
                .push(line);
        }
    }
    for file in files {
        let Some((path, mut lines)) = wanted.remove(file.path.as_str()) else {
            continue;
        };
        lines.sort_unstable();
        lines.dedup();
        let removed: Vec<u32> = file.removed.iter().map(|(n, _)| n).collect();
        let added: Vec<u32> = file.added.iter().map(|(n, _)| n).collect();
        let (mut r, mut a) = (0, 0);
        for old in lines {
            let anchor = if file.status == FileStatus::Deleted {
                1
            } else {
                // Removed lines before this one, so the unchanged lines before it: `kept`.
                while r < removed.len() && removed[r] < old {
                    r += 1;
                }
                let kept = (old - 1).saturating_sub(r as u32);
                // The new line of the `kept`-th unchanged line: pushed down by every added line
                // before it.
                while a < added.len() && added[a] <= kept + a as u32 {
                    a += 1;
                }
                let before = kept + a as u32;
                if added.get(a) == Some(&(before + 1)) {
                    before + 1
                } else {
                    before.max(1)
                }
            };
            anchors.insert((Arc::clone(&path), old), anchor);
        }
    }
}

/// Gives each line finding of `files` the lines around it (each file read once). The findings
/// of several rules on one line are next to each other: they share a snippet.
fn attach_snippets(findings: &mut [Finding], snippets: &mut Snippets<'_>) {
    let mut last: Option<(Arc<str>, u32, Option<Snippet>)> = None;
    for f in findings.iter_mut() {
        let (Some(path), Some(line)) = (f.path.as_ref(), f.line) else {
            continue;
        };
        if f.old_side {
            continue;
        }
        if let Some((last_path, last_line, snippet)) = &last
            && *last_line == line
            && last_path == path
        {
            f.snippet = snippet.clone();
            continue;
        }
        f.snippet = snippets.at(path, line);
        last = Some((Arc::clone(path), line, f.snippet.clone()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workspace::LoadOptions;

    fn git(dir: &std::path::Path, args: &[&str]) {
        let status = std::process::Command::new("git")
            .current_dir(dir)
            .args(["-c", "user.name=t", "-c", "user.email=t@example.invalid"])
            .args(args)
            .stdout(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "git {args:?}");
    }

    #[test]
    fn a_removed_line_is_anchored_at_the_nearest_line_of_the_new_version() {
        let removed_at = |path: &str, line: u32| Finding {
            old_side: true,
            ..crate::output::fixtures::finding(
                "r",
                crate::rules::Severity::Error,
                Some(path),
                Some(line),
            )
        };
        // Old: 1..=8. Two lines added at the top; old 3 replaced by one line; old 5 and 6
        // removed; old 8 (the last) removed.
        let mut file = ChangedFile::new("a.sql", FileStatus::Modified);
        for n in [1, 2, 5] {
            file.added.push(n, "new");
        }
        for n in [3, 5, 6, 8] {
            file.removed.push(n, "old");
        }
        let mut gone = ChangedFile::new("gone.sql", FileStatus::Deleted);
        gone.removed.push(7, "old");
        let findings: Vec<Finding> = [3, 5, 6, 8]
            .into_iter()
            .map(|n| removed_at("a.sql", n))
            .chain([removed_at("gone.sql", 7)])
            .collect();
        let mut anchors = HashMap::new();
        anchor_removed_lines(&findings, &[file, gone], &mut anchors);
        let at = |path: &str, old: u32| anchors[&(Arc::from(path), old)];
        // New: 1 new, 2 new, 3 old1, 4 old2, 5 new (for old3), 6 old4, 7 old7.
        assert_eq!(at("a.sql", 3), 5, "the line that took its place");
        assert_eq!(at("a.sql", 5), 6, "the unchanged line before");
        assert_eq!(at("a.sql", 6), 6);
        assert_eq!(at("a.sql", 8), 7, "the last line left");
        assert_eq!(at("gone.sql", 7), 1, "a deleted file");
        assert_eq!(anchors.len(), 5);
    }

    /// A large change is read and matched a batch at a time; what it reports must not depend
    /// on where the batches fall.
    #[test]
    fn a_change_checked_in_batches_reports_what_a_whole_read_does() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        git(root, &["init", "-q", "-b", "main"]);
        std::fs::write(root.join("README.md"), "x\n").unwrap();
        git(root, &["add", "-A"]);
        git(root, &["commit", "-q", "-m", "base"]);
        for i in 0..40 {
            let dir = root.join("db/migrate");
            std::fs::create_dir_all(&dir).unwrap();
            let ack = if i % 3 == 0 {
                "-- forewarn-ack: migration-drops-table the table was emptied in 4.1\n"
            } else {
                ""
            };
            std::fs::write(
                dir.join(format!("2024010100{i:04}_drop_t{i}.sql")),
                format!("SELECT 1;\n{ack}DROP TABLE t{i};\n-- end\n"),
            )
            .unwrap();
        }
        git(root, &["add", "-A"]);
        git(root, &["commit", "-q", "-m", "drops"]);
        let workspace = Workspace::load(root, &LoadOptions::default()).unwrap();
        let repo = workspace.repo.as_ref().unwrap();
        let input = git::Input::Range {
            base: "HEAD~1".into(),
            head: "HEAD".into(),
        };
        let whole = git::changes(repo, &input, None).unwrap();
        let planned = git::plan(repo, &input, None).unwrap();
        let args = CheckArgs::default();
        let check = |changes: &ChangeSet, batches| {
            check_in_batches(
                &workspace,
                changes,
                batches,
                Vec::new(),
                &args,
                Instant::now(),
            )
            .unwrap()
        };
        let at_once = check(&whole, None);
        let in_batches = check(&planned.skeleton, Some((&planned, 64)));
        assert_eq!(in_batches.findings, at_once.findings);
        assert_eq!(in_batches.files_checked, 40);
        let drops: Vec<&Finding> = at_once
            .findings
            .iter()
            .filter(|f| &*f.rule_id == "migration-drops-table")
            .collect();
        assert_eq!(drops.len(), 40);
        assert_eq!(
            drops.iter().filter(|f| f.acknowledged.is_some()).count(),
            14
        );
        assert!(drops.iter().all(|f| f.snippet.is_some()));
    }
}
