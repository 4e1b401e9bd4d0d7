//! `forewarn backtest`: replay rules over history, report per rule, and with `--write` store the
//! result in the analysis records the rules link to.

use std::fmt::Write as _;
use std::io::IsTerminal;

use super::{Context, Outcome};
use crate::analysis::backtest::{self, Backtest, History};
use crate::analysis::links::{load_analyses, plural};
use crate::cli::{BacktestArgs, BacktestFormat};
use crate::error::{Error, Result};
use crate::rules::Rule;
use crate::workspace::Workspace;

/// `--jobs` is capped at this many threads per CPU.
pub const MAX_JOBS_PER_CPU: usize = 4;

pub fn run(args: &BacktestArgs, ctx: &Context) -> Result<Outcome> {
    if args.write && args.load.rules_from.is_some() {
        return Err(Error::usage(
            "--write edits the analysis records in the working tree, and --rules-from reads them from a revision",
            "drop one of the two: backtest the working tree's rules with --write, or another revision's without it",
        ));
    }
    let history = match (&args.range, &args.since, args.last) {
        (Some(range), _, _) => History::range(range)?,
        (_, Some(since), _) => History::since(since)?,
        (_, _, Some(0)) => {
            return Err(Error::usage(
                "--last 0 replays nothing",
                "give a number of commits, e.g. --last 500",
            ));
        }
        (_, _, Some(n)) => History::Last(n),
        _ => History::All,
    };
    let workspace = Workspace::load(&ctx.cwd, &args.load.options())?;
    let Some(repo) = workspace.repo.as_ref() else {
        return Err(Error::repository(
            format!(
                "{} is not inside a git repository, and a backtest replays its history",
                workspace.root.display()
            ),
            "run forewarn backtest inside a git checkout",
        ));
    };
    let analyses = load_analyses(&workspace)?;
    let rules: Vec<Rule> = if args.rules.is_empty() {
        workspace.rules.rules.clone()
    } else {
        let mut picked = Vec::new();
        for id in &args.rules {
            match workspace.rules.get(id) {
                Some(rule) => picked.push(rule.clone()),
                None => {
                    return Err(Error::usage(
                        format!("no active rule has the id `{id}`"),
                        "`forewarn rules` lists the ids",
                    ));
                }
            }
        }
        picked
    };
    let cpus = std::thread::available_parallelism()
        .map(usize::from)
        .unwrap_or(1);
    // More threads than this only add memory (each holds a repository and its caches) and
    // stacks; `--jobs 1000000` would try to start them all.
    let threads = args
        .jobs
        .map_or(cpus, |n| n.clamp(1, cpus.saturating_mul(MAX_JOBS_PER_CPU)));

    // A progress bar only where a person watches: never in a pipe, a file or CI logs.
    let bar = if std::io::stderr().is_terminal() {
        let bar = indicatif::ProgressBar::new(0);
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{spinner} replaying {pos}/{len} commits [{bar:30}] {elapsed}, about {eta} left",
        ) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar
    } else {
        indicatif::ProgressBar::hidden()
    };
    let tick = || bar.inc(1);
    let start = |n: usize| bar.set_length(n as u64);
    let result = backtest::run(
        repo.path(),
        &rules,
        &workspace.config,
        &analyses,
        &history,
        threads,
        backtest::Progress {
            start: &start,
            commit: &tick,
        },
    );
    bar.finish_and_clear();
    let result = result?;

    let mut stderr = String::new();
    for w in &result.warnings {
        let _ = writeln!(stderr, "warning: {w}");
    }
    // What CI recorded for the same rules (the ledger folder and refs/forewarn/ledger), next to
    // what history says they would have done.
    let (events, ledger_warnings) = crate::analysis::ledger::read_all(&workspace)?;
    for w in &ledger_warnings {
        let _ = writeln!(stderr, "warning: {w}");
    }
    let mut in_ci = crate::analysis::ledger::life::by_rule(&events);
    in_ci.retain(|rule, _| result.rules.iter().any(|r| &r.rule == rule));
    let mut stdout = match args.format {
        BacktestFormat::Human => {
            let mut out = human(&result, !args.rules.is_empty() || rules.len() <= 10);
            if !in_ci.is_empty() {
                let _ = writeln!(out, "\nIn CI (the ledger):");
                for (rule, life) in &in_ci {
                    let _ = writeln!(
                        out,
                        "  {rule}: fired on {}, {} acknowledged, {} resolved before merge",
                        plural(life.fired, "change"),
                        life.acknowledged,
                        life.resolved_before_merge
                    );
                }
            }
            out
        }
        BacktestFormat::Json => {
            let mut s = serde_json::to_string_pretty(&serde_json::json!({
                "version": 1,
                "tool": "forewarn",
                "backtest": result,
                "ledger": in_ci,
                "elapsed_ms": result.elapsed.as_millis() as u64,
            }))
            .unwrap_or_default();
            s.push('\n');
            s
        }
    };
    if args.write {
        let written = backtest::write(
            &workspace.root,
            &workspace.analysis_files,
            &analyses,
            &result,
        )?;
        let notes = if written.is_empty() {
            "--write: no replayed rule links to a finding of an analysis record, so no record was changed; link one with `findings = [\"<analysis>#<finding>\"]`\n".to_string()
        } else {
            written
                .iter()
                .map(|(file, rules)| {
                    format!("wrote [[backtest]] for {} to {file}\n", rules.join(", "))
                })
                .collect()
        };
        // In JSON mode stdout stays one document.
        match args.format {
            BacktestFormat::Human => stdout.push_str(&format!("\n{notes}")),
            BacktestFormat::Json => stderr.push_str(&notes),
        }
    }
    Ok(Outcome {
        stdout,
        stderr,
        code: 0,
        ..Outcome::default()
    })
}

fn human(result: &Backtest, show_examples: bool) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Replayed {} in {:.2}s on {}; {}, {}.\n",
        result.range,
        result.elapsed.as_secs_f64(),
        plural(result.threads, "thread"),
        plural(result.rules.len(), "rule"),
        plural(result.culprits.len(), "culprit commit")
    );
    // Rules born from a finding first: they are what a facilitator backtests.
    let mut rules: Vec<_> = result.rules.iter().collect();
    rules.sort_by_key(|r| r.findings.is_empty());
    let width = rules.iter().map(|r| r.rule.len()).max().unwrap_or(4).max(4);
    let _ = writeln!(
        out,
        "{:width$}  {:>16}  culprits of its analyses",
        "rule", "fired on"
    );
    for r in rules {
        let fired = format!("{} ({:.1}%)", r.fired_on, r.share * 100.0);
        let culprits = if r.culprits.is_empty() {
            if r.findings.is_empty() {
                "- (links to no finding)".to_string()
            } else {
                "- (its analyses name no culprit here)".to_string()
            }
        } else {
            let caught: Vec<String> = r.caught().map(|c| short(&c.commit)).collect();
            let missed: Vec<String> = r.missed().map(|c| short(&c.commit)).collect();
            let mut s = format!("caught {} of {}", caught.len(), r.culprits.len());
            if !caught.is_empty() {
                s.push_str(&format!(": {}", caught.join(" ")));
            }
            if !missed.is_empty() {
                s.push_str(&format!("; missed {}", missed.join(" ")));
            }
            s
        };
        let _ = writeln!(out, "{:width$}  {fired:>16}  {culprits}", r.rule);
        if show_examples && !r.examples.is_empty() {
            let _ = writeln!(
                out,
                "{:width$}  {:>16}  e.g. {}",
                "",
                "",
                r.examples.join(" ")
            );
        }
    }
    if !result.culprits.is_empty() {
        let _ = writeln!(out, "\nCulprit commits:");
        for c in &result.culprits {
            let verdict = match (&c.not_replayed, c.caught_by.as_slice()) {
                (Some(why), _) => format!("not replayed: {why}"),
                (None, []) => "no replayed rule catches it".to_string(),
                (None, ids) => format!("caught by {}", ids.join(", ")),
            };
            let _ = writeln!(
                out,
                "  {} ({}, {}): {verdict}",
                short(&c.commit),
                c.role.as_str(),
                c.analysis
            );
        }
    }
    out
}

fn short(commit: &str) -> String {
    commit.chars().take(12).collect()
}
