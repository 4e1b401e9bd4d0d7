//! `forewarn test`: run every rule's `[[rule.example]]` diffs and report the ones that disagree.

use std::fmt::Write;

use super::{Context, Outcome, warning_lines};
use crate::cli::LoadArgs;
use crate::config::Config;
use crate::diff::patch;
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
                let changes = patch::parse_example(&example.name, &example.diff)
                    .map_err(|e| format!("its diff does not parse: {e}"))?;
                let rules = std::slice::from_ref(rule);
                let found = Engine::new(rules, &config).check(&changes).findings;
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
            let line = format!(
                "{} ({}) has no {missing}; add [[rule.example]] tables so `forewarn test` can show what it catches",
                rule.id, rule.origin
            );
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
