//! `forewarn explain <rule>`: what a rule matches, why it is risky, the safe procedure, how to
//! acknowledge it, and the lessons it came from.

use std::fmt::Write;

use super::{Context, Outcome};
use crate::analysis::hotspots;
use crate::cli::LoadArgs;
use crate::error::{Error, Result};
use crate::output::human::neutralise;
use crate::rules::{Expect, Rule};
use crate::workspace::Workspace;

pub fn run(id: &str, load: &LoadArgs, ctx: &Context) -> Result<Outcome> {
    let workspace = Workspace::load(&ctx.cwd, &load.options())?;
    if id == hotspots::RULE_ID {
        return Ok(Outcome::ok(explain_hotspots()));
    }
    let Some(rule) = workspace.rules.get(id) else {
        let mut ids: Vec<&str> = workspace
            .rules
            .rules
            .iter()
            .map(|r| r.id.as_str())
            .collect();
        ids.sort_by_key(|other| strsim(id, other));
        let near: Vec<&str> = ids.into_iter().take(3).collect();
        return Err(Error::usage(
            format!("no active rule has the id `{id}`"),
            format!(
                "did you mean one of: {}? `forewarn rules` lists them all",
                near.join(", ")
            ),
        ));
    };
    // Rule text is the team's: printed as text, never as terminal sequences (OSC 52 writes the
    // clipboard), as `check` prints it.
    Ok(Outcome::ok(neutralise(&explain(rule), true).into_owned()))
}

/// `incident-hotspot` is not a rule file's rule: it comes from the analysis records.
fn explain_hotspots() -> String {
    format!(
        "{id} — A change touches what a past incident touched
severity: note by default ([hotspots] severity in forewarn.toml) · category: process · from the analysis records

What it says
  <path> was changed by the culprit commit of <analysis>, with the lessons of its findings.

The question it asks
  {ask}

What matches
  files changed by a `[[culprit]]` commit of a reviewed or closed analysis record (followed
  through renames since), plus the record's `hotspots` globs, minus its `hotspots_exclude`

Why it matters at deploy time
  The code an incident went through is where its lesson applies, even before anyone has written
  a rule for it. The note puts the lesson next to the change while it can still shape the rollout.

How to acknowledge it, once the question has an answer
  a commit trailer:     Forewarn-Ack: {id}: <reason>
  the command line:     --ack {id}=<reason>

Settings (forewarn.toml)
  [hotspots] enabled = true, severity = \"note\", include_drafts = false
",
        id = hotspots::RULE_ID,
        ask = hotspots::ASK,
    )
}

/// A rough distance: how many characters of `a` are missing from `b`'s words, for suggestions.
fn strsim(a: &str, b: &str) -> usize {
    let shared = a.split('-').filter(|w| b.contains(w)).count();
    a.split('-').count() - shared + b.len().abs_diff(a.len()) / 8
}

/// The text of `explain`, also used for the generated rule docs.
pub fn explain(rule: &Rule) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "{} — {}", rule.id, rule.title);
    let _ = writeln!(
        s,
        "severity: {}{} · category: {} · defined at {}",
        rule.severity,
        if rule.severity != rule.default_severity {
            format!(
                " (set in forewarn.toml; the rule says {})",
                rule.default_severity
            )
        } else {
            String::new()
        },
        rule.category,
        rule.origin
    );
    let _ = writeln!(s, "\nWhat it says\n  {}", rule.message);
    let _ = writeln!(s, "\nThe question it asks\n  {}", rule.ask);
    let _ = writeln!(s, "\nWhat matches");
    s.push_str(&describe_match(rule));
    if !rule.verify.is_empty() {
        let _ = writeln!(s, "\nHow the answer is checked in the repository");
        s.push_str(&describe_verify(rule));
        let checked: Vec<String> = rule
            .examples
            .iter()
            .filter(|e| e.tree.is_some())
            .map(|e| match (e.expect, e.severity, &e.message) {
                (Expect::Fire, sev, message) => format!(
                    "\"{}\" fires{}{}",
                    e.name,
                    sev.map(|s| format!(" as {s}")).unwrap_or_default(),
                    message
                        .as_ref()
                        .map(|m| format!(", saying \"{m}\""))
                        .unwrap_or_default()
                ),
                (Expect::Pass, ..) => format!("\"{}\" passes", e.name),
            })
            .collect();
        if !checked.is_empty() {
            let _ = writeln!(s, "  examples with a repository around the change:");
            for line in checked {
                let _ = writeln!(s, "    {line}");
            }
        }
    }
    if let Some(why) = &rule.why {
        let _ = writeln!(s, "\nWhy it is risky at deploy time\n{}", indent(why));
    }
    if let Some(procedure) = &rule.procedure {
        let _ = writeln!(s, "\nA safe procedure\n{}", indent(procedure));
    }
    let _ = writeln!(
        s,
        "\nHow to acknowledge it, once the question has an answer"
    );
    let _ = writeln!(
        s,
        "  a commit trailer:     Forewarn-Ack: {}: <reason>",
        rule.id
    );
    let _ = writeln!(
        s,
        "  a pull-request body:  Forewarn-Ack: {}: <reason>",
        rule.id
    );
    let _ = writeln!(
        s,
        "  an inline comment:    forewarn-ack: {} <reason>   (on or above the line)",
        rule.id
    );
    let _ = writeln!(s, "  the command line:     --ack {}=<reason>", rule.id);
    if !rule.findings.is_empty() {
        let _ = writeln!(s, "\nLessons it came from");
        for link in &rule.findings {
            let _ = writeln!(s, "  {link}");
        }
    }
    if !rule.docs.is_empty() {
        let _ = writeln!(s, "\nFurther reading");
        for doc in &rule.docs {
            let _ = writeln!(s, "  {doc}");
        }
    }
    let fire = rule
        .examples
        .iter()
        .filter(|e| e.expect == Expect::Fire)
        .count();
    let pass = rule.examples.len() - fire;
    let _ = writeln!(
        s,
        "\nExamples: {fire} that fire, {pass} that pass (`forewarn test {}` runs them)",
        rule.id
    );
    s
}

fn indent(text: &str) -> String {
    text.trim_end()
        .lines()
        .map(|l| {
            if l.is_empty() {
                String::new()
            } else {
                format!("  {l}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn list(items: &[String]) -> String {
    items
        .iter()
        // A pattern with a backtick in it (`["'`]`) is wrapped in two, as markdown reads them.
        .map(|i| {
            if i.contains('`') {
                format!("`` {i} ``")
            } else {
                format!("`{i}`")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// What makes the rule fire and what keeps it quiet, one line each (also used by `forewarn docs`).
/// Each `[[rule.verify]]` block: where it looks, what counts as an answer, what each outcome
/// makes of the finding.
pub(crate) fn describe_verify(rule: &Rule) -> String {
    let mut s = String::new();
    for v in &rule.verify {
        let on = if v.paths.is_empty() {
            "every finding".to_string()
        } else {
            format!("findings on {}", list(&v.paths))
        };
        let sides: Vec<&str> = v
            .sides
            .iter()
            .map(|side| match side.as_str() {
                "old" => "the code that runs during the deploy",
                _ => "the code after it",
            })
            .collect();
        let _ = writeln!(
            s,
            "  for {on}: searches {} in {}",
            list(&v.look_in),
            sides.join(" and ")
        );
        if !v.exclude.is_empty() {
            let _ = writeln!(s, "    but not {}", list(&v.exclude));
        }
        for (from, re) in [
            ("matched text", &v.name_from),
            ("line as written", &v.name_from_line),
            ("block as written", &v.name_from_block),
        ] {
            if let Some(re) = re {
                let _ = writeln!(
                    s,
                    "    {{name}} is taken from the finding's {from} by `{re}`"
                );
            }
        }
        if !v.unless_found.is_empty() {
            let _ = writeln!(
                s,
                "    when a line matches {}, the finding stays as it is",
                list(&v.unless_found)
            );
        }
        for (what, patterns, outcome) in [
            ("already stopped reading it", &v.stopped_by, &v.stopped),
            ("found", &v.patterns, &v.found),
            ("nothing found", &Vec::new(), &v.missing),
        ] {
            if !patterns.is_empty() {
                let _ = writeln!(s, "    {what} when a line matches {}", list(patterns));
            }
            let verdict = match outcome.severity.as_deref() {
                Some("quiet") => "the finding is dropped: the answer is verified".to_string(),
                Some(sev) => format!("the finding becomes {sev}"),
                None => "the severity stays".to_string(),
            };
            if outcome.severity.is_some() || !outcome.message.is_empty() {
                let _ = writeln!(s, "    {what}: {verdict}");
            }
        }
    }
    s
}

pub(crate) fn describe_match(rule: &Rule) -> String {
    let m = &rule.matcher;
    let mut s = String::new();
    if !m.paths.is_empty() {
        let _ = writeln!(s, "  files matching {}", list(&m.paths));
    }
    if !m.exclude.is_empty() {
        let _ = writeln!(s, "  but not {}", list(&m.exclude));
    }
    if !m.status.is_empty() {
        let names: Vec<String> = m.status.iter().map(|x| x.to_string()).collect();
        let _ = writeln!(s, "  that are {}", names.join(" or "));
    }
    if m.operations.is_set() {
        let ops = &m.operations;
        let kinds: Vec<&str> = ops.kinds.iter().map(|k| k.as_str()).collect();
        let _ = writeln!(
            s,
            "  a migration operation {} (in migrations forewarn parses: Django, Alembic, Rails, SQL; other files are read by the line patterns below)",
            kinds.join(" or ")
        );
        for (attribute, accepted) in &ops.when {
            let values: Vec<&str> = accepted
                .iter()
                .map(|v| match v {
                    Some(true) => "true",
                    Some(false) => "false",
                    None => "unknown",
                })
                .collect();
            let _ = writeln!(s, "  where {attribute} is {}", values.join(" or "));
        }
        if !ops.engines.is_empty() {
            let engines: Vec<&str> = ops.engines.iter().map(|e| e.as_str()).collect();
            let _ = writeln!(
                s,
                "  on a {} database (forewarn.toml [database], or detected from the repository)",
                engines.join(" or ")
            );
        }
    }
    if m.understood == Some(false) {
        let _ = writeln!(
            s,
            "  whose structure could not be parsed, so it was read as lines of text"
        );
    }
    if !m.rollout.is_empty() {
        let names: Vec<&str> = m.rollout.iter().map(|r| r.as_str()).collect();
        let _ = writeln!(
            s,
            "  in a component whose rollout is {} (forewarn.toml [[component]])",
            names.join(" or ")
        );
    }
    if m.operations.is_set() && m.has_line_patterns() {
        let _ = writeln!(
            s,
            "  or, in a file that was not parsed (another framework, or unreadable), with `unless` below:"
        );
    }
    if !m.added.is_empty() {
        let _ = writeln!(s, "  an added line matching {}", list(&m.added));
    }
    if !m.removed.is_empty() {
        let _ = writeln!(s, "  a removed line matching {}", list(&m.removed));
    }
    if let Some(document) = &m.document {
        s.push_str(&document.describe());
        let _ = writeln!(
            s,
            "{}",
            if m.added.is_empty() && m.removed.is_empty() {
                "  (a file that cannot be read as documents gets a deploy-config-read-as-lines note instead)"
            } else {
                "  (files that cannot be read as documents are matched by the line patterns instead)"
            }
        );
    }
    if m.statements {
        let _ = writeln!(
            s,
            "  (matched against whole statements: consecutive changed lines up to `;`, a blank line, or balanced brackets)"
        );
    }
    let t = &rule.threshold;
    if let Some(n) = t.files {
        let _ = writeln!(s, "  more than {n} such files in one change");
    }
    if let Some(n) = t.lines {
        let _ = writeln!(s, "  more than {n} changed lines in one change");
    }
    if let Some(n) = t.components {
        let _ = writeln!(
            s,
            "  more than {n} components in one change (or forewarn.toml's max_components_per_change)"
        );
    }
    if !rule.unless.changed.is_empty() {
        let _ = writeln!(
            s,
            "  unless the same change also touches {}",
            list(&rule.unless.changed)
        );
    }
    if !rule.unless.added.is_empty() {
        let _ = writeln!(
            s,
            "  unless the same file adds a line matching {}",
            list(&rule.unless.added)
        );
    }
    if !rule.unless.matched.is_empty() {
        let _ = writeln!(
            s,
            "  unless the matched {} itself also matches {}",
            if m.statements { "statement" } else { "line" },
            list(&rule.unless.matched)
        );
    }
    s
}
