//! `forewarn test`: run every rule's `[[rule.example]]` diffs and report the ones that disagree.

use std::fmt::Write;

use super::{Context, Outcome, warning_lines};
use crate::cli::LoadArgs;
use crate::config::Config;
use crate::diff::{ChangeSet, FileStatus, NewSide, OldSide, patch};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::output::human::neutralise;
use crate::rules::{Expect, Rule};
use crate::workspace::Workspace;

/// What one example did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExampleResult {
    pub rule_id: String,
    pub name: String,
    /// `file:line` of the example.
    pub location: String,
    /// `None` when the example behaved as expected; otherwise what happened.
    pub failure: Option<String>,
}

/// Runs one rule's examples, each against that rule alone and the example's own config.
pub fn run_examples(rule: &Rule) -> Vec<ExampleResult> {
    rule.examples
        .iter()
        .map(|example| {
            let location = format!("{}:{}", rule.origin.file, example.line);
            let failure = (|| -> std::result::Result<(), String> {
                let config = match &example.config {
                    Some(text) => Config::parse(&format!("{location} (example config)"), text)
                        .map_err(|e| format!("its config does not load: {e}"))?,
                    None => Config::default(),
                };
                let mut changes = patch::parse_example(&example.name, &example.diff)
                    .map_err(|e| format!("its diff does not parse: {e}"))?;
                if let Some(tree) = &example.tree {
                    with_tree(&mut changes, tree, example.old_tree.as_ref());
                }
                let rules = std::slice::from_ref(rule);
                let mut found = Engine::new(rules, &config).check(&changes).findings;
                crate::verify::run(&mut found, rules, &changes);
                if let (Expect::Fire, Some(want)) = (example.expect, example.severity) {
                    if let Some(f) = found.iter().find(|f| f.severity != want) {
                        return Err(format!(
                            "expected every finding to be {want}, but one is {}: {}",
                            f.severity, f.message
                        ));
                    }
                }
                if let (Expect::Fire, Some(want)) = (example.expect, &example.message) {
                    if let Some(f) = found.iter().find(|f| !f.message.contains(want.as_str())) {
                        return Err(format!(
                            "expected every finding's message to hold \"{want}\", but one says: {}",
                            f.message
                        ));
                    }
                }
                match (example.expect, found.is_empty()) {
                    (Expect::Fire, true) => Err(format!(
                        "expected the rule to fire, but it passed ({} files in the diff)",
                        changes.files.len()
                    )),
                    (Expect::Pass, false) => {
                        let at: Vec<String> = found
                            .iter()
                            .map(|f| match (&f.path, f.line) {
                                (Some(p), Some(l)) => format!("{p}:{l}"),
                                (Some(p), None) => p.to_string(),
                                _ => "the change as a whole".into(),
                            })
                            .collect();
                        Err(format!(
                            "expected the rule to pass, but it fired at {}",
                            at.join(", ")
                        ))
                    }
                    _ => Ok(()),
                }
            })()
            .err();
            ExampleResult {
                rule_id: rule.id.clone(),
                name: example.name.clone(),
                location,
                failure,
            }
        })
        .collect()
}

/// Gives an example's change the repository around it: `tree` as the new side (with the files
/// the diff shows whole, and without those it deletes) and `old_tree` (else `tree`) as the old.
fn with_tree(changes: &mut ChangeSet, tree: &Tree, old_tree: Option<&Tree>) {
    let mut new = tree.clone();
    let mut old = old_tree.unwrap_or(tree).clone();
    if let NewSide::Patch(files) = &changes.new_side {
        new.extend(files.iter().map(|(p, t)| (p.clone(), t.clone())));
    }
    if let OldSide::Patch(files) = &changes.old_side {
        old.extend(files.iter().map(|(p, t)| (p.clone(), t.clone())));
    }
    for file in &changes.files {
        match file.status {
            FileStatus::Deleted => {
                new.remove(&file.path);
            }
            FileStatus::Added => {
                old.remove(&file.path);
            }
            _ => {}
        }
    }
    changes.new_side = NewSide::Files(std::sync::Arc::new(new));
    changes.old_side = OldSide::Files(std::sync::Arc::new(old));
}

type Tree = std::collections::BTreeMap<String, String>;

/// Whether the examples with a `tree` show the answer checked both ways: one fires, and another
/// passes or fires with another severity or message.
fn shows_both_outcomes(rule: &Rule) -> bool {
    type Outcome<'r> = (bool, Option<crate::rules::Severity>, Option<&'r str>);
    let outcomes: std::collections::BTreeSet<Outcome<'_>> = rule
        .examples
        .iter()
        .filter(|e| e.tree.is_some())
        .map(|e| match e.expect {
            Expect::Fire => (true, e.severity, e.message.as_deref()),
            Expect::Pass => (false, None, None),
        })
        .collect();
    outcomes.iter().any(|(fires, ..)| *fires) && outcomes.len() >= 2
}

pub fn run(only: &[String], load: &LoadArgs, ctx: &Context) -> Result<Outcome> {
    let workspace = Workspace::load(&ctx.cwd, &load.options())?;
    for id in only {
        if workspace.rules.get(id).is_none() {
            return Err(Error::usage(
                format!("no active rule has the id `{id}`"),
                "`forewarn rules` lists the ids",
            ));
        }
    }
    let mut out = String::new();
    let mut stderr = warning_lines(&workspace.rules.warnings);
    let (mut passed, mut failed) = (0usize, 0usize);
    let mut gaps: Vec<String> = Vec::new();
    for rule in &workspace.rules.rules {
        if !only.is_empty() && !only.contains(&rule.id) {
            continue;
        }
        for result in run_examples(rule) {
            match &result.failure {
                None => {
                    passed += 1;
                    let _ = writeln!(out, "ok      {} · {}", result.rule_id, result.name);
                }
                Some(why) => {
                    failed += 1;
                    let _ = writeln!(
                        out,
                        "FAILED  {} · {} ({})\n        {why}",
                        result.rule_id, result.name, result.location
                    );
                }
            }
        }
        let fire = rule.examples.iter().any(|e| e.expect == Expect::Fire);
        let pass = rule.examples.iter().any(|e| e.expect == Expect::Pass);
        if !(fire && pass) {
            let missing = match (fire, pass) {
                (false, false) => "an example that fires and one that passes",
                (false, true) => "an example that fires",
                _ => "an example that passes",
            };
            gaps.push(format!(
                "{} ({}) has no {missing}; add [[rule.example]] tables so `forewarn test` can show what it catches",
                rule.id, rule.origin
            ));
        }
        if !rule.verify.is_empty() && !shows_both_outcomes(rule) {
            gaps.push(format!(
                "{} ({}) checks its answer ([[rule.verify]]) but has no two examples with a `tree` that end differently (one that fires, one that passes or fires with another severity or message); add them so `forewarn test` shows the check at work",
                rule.id, rule.origin
            ));
        }
        // A shipped rule must show what it catches; a team's rule is warned about.
        for line in gaps.drain(..) {
            if rule.origin.builtin {
                failed += 1;
                let _ = writeln!(out, "FAILED  {line}");
            } else {
                let _ = writeln!(stderr, "warning: {line}");
            }
        }
    }
    let _ = writeln!(out, "\n{passed} passed, {failed} failed");
    // Names, ids and paths are the team's text: printed escaped, as `check` prints it.
    Ok(Outcome {
        stdout: neutralise(&out, true).into_owned(),
        stderr: neutralise(&stderr, true).into_owned(),
        code: u8::from(failed > 0),
        ..Outcome::default()
    })
}
