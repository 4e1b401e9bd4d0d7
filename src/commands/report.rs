//! `forewarn report`: what the rules caught since the analyses, for the next review.

use super::{Context, Outcome};
use crate::ack;
use crate::analysis::backtest::{CulpritOutcome, culprit_outcomes, write_atomic};
use crate::analysis::ledger;
use crate::analysis::links::load_analyses;
use crate::analysis::report::{self, HistoryAck, Inputs, html};
use crate::cli::{ReportArgs, ReportFormat};
use crate::engine::Engine;
use crate::error::Result;
use crate::finding::AckSource;
use crate::workspace::Workspace;

pub fn run(args: &ReportArgs, ctx: &Context) -> Result<Outcome> {
    let workspace = Workspace::load(&ctx.cwd, &args.load.options())?;
    let analyses = load_analyses(&workspace)?;
    let (events, mut warnings) = ledger::read_all(&workspace)?;
    let rules = &workspace.rules.rules;
    let (history_acks, history_commits, culprits) = match workspace.repo.as_ref() {
        Some(repo) => {
            let (acks, commits) = history_acks(repo);
            let engine = Engine::new(rules, &workspace.config);
            let culprits = culprit_outcomes(repo, &engine, rules, &analyses, &mut warnings);
            (acks, commits, culprits)
        }
        None => {
            warnings.push(
                "not inside a git repository: history and culprit commits were not read".into(),
            );
            let culprits = analyses
                .records
                .iter()
                .flat_map(|a| {
                    a.culprits.iter().map(|c| CulpritOutcome {
                        analysis: a.id.clone(),
                        commit: c.commit.clone(),
                        role: c.role,
                        resolved: None,
                        not_replayed: Some("not inside a git repository".into()),
                        caught_by: Vec::new(),
                    })
                })
                .collect();
            (Vec::new(), 0, culprits)
        }
    };
    let generated = jiff::Timestamp::now()
        .round(jiff::Unit::Second)
        .unwrap_or_else(|_| jiff::Timestamp::now())
        .to_string();
    let built = report::build(Inputs {
        analyses: &analyses,
        rules,
        events: &events,
        history_acks: &history_acks,
        history_commits,
        culprits: &culprits,
        warnings,
        generated,
    });
    let mut built = built;
    if let (Some(repo), true) = (workspace.repo.as_ref(), workspace.config.hotspots.enabled) {
        let spots = crate::analysis::hotspots::Hotspots::build(
            Some(repo),
            &analyses.records,
            workspace.config.hotspots.include_drafts,
            None,
        );
        let mut history = crate::analysis::hotspots::history(repo, &spots, &events);
        for a in &mut built.analyses {
            a.hotspots = history.remove(&a.id);
        }
    }
    let mut stderr = String::new();
    if args.write {
        let written = report::write::write(
            &workspace.root,
            &workspace.analysis_files,
            &analyses,
            &built,
        )?;
        if written.is_empty() {
            stderr.push_str(
                "no analysis record has a rule linked to its findings: nothing was stored\n",
            );
        }
        for (file, rules) in written {
            stderr.push_str(&format!(
                "stored the summary of {} in {file}\n",
                crate::analysis::links::plural(rules.len(), "rule")
            ));
        }
    }
    let text = match args.format {
        ReportFormat::Markdown => report::markdown(&built),
        ReportFormat::Json => report::json(&built),
        ReportFormat::Html => html::render(&built),
    };
    match &args.output {
        Some(path) => {
            write_atomic(path, &text)?;
            stderr.push_str(&format!("wrote the report to {}\n", path.display()));
            Ok(Outcome {
                stderr,
                ..Outcome::default()
            })
        }
        None => Ok(Outcome {
            stdout: text,
            stderr,
            ..Outcome::default()
        }),
    }
}

/// `Forewarn-Ack:` trailers in every commit reachable from HEAD, and how many commits were read.
fn history_acks(repo: &git2::Repository) -> (Vec<HistoryAck>, usize) {
    let mut acks = Vec::new();
    let Ok(mut walk) = repo.revwalk() else {
        return (acks, 0);
    };
    if walk.push_head().is_err() {
        return (acks, 0);
    }
    let mut commits = 0;
    for oid in walk.flatten() {
        let Ok(commit) = repo.find_commit(oid) else {
            continue;
        };
        commits += 1;
        let message = String::from_utf8_lossy(commit.message_bytes());
        // Cheap test first: almost no commit has a trailer.
        if !message.to_ascii_lowercase().contains("forewarn-ack:") {
            continue;
        }
        let id = oid.to_string();
        let time = jiff::Timestamp::from_second(commit.time().seconds())
            .map(|t| t.to_string())
            .unwrap_or_default();
        let found = ack::parse_text(
            &message,
            &AckSource::Trailer { commit: id.clone() },
            &format!("commit {}", &id[..12]),
        );
        for a in found.acks {
            acks.push(HistoryAck {
                rule: a.rule_id,
                reason: a.reason,
                commit: id.clone(),
                time: time.clone(),
            });
        }
    }
    (acks, commits)
}
