//! `forewarn docs`: the rule reference (`docs/rules.md`), generated from the built-in packs so it
//! cannot drift from them. A test fails when the committed file is stale.

use std::fmt::Write;
use std::path::Path;

use super::explain::describe_match;
use super::{Context, Outcome};
use crate::config::Config;
use crate::error::Result;
use crate::rules::{Expect, Rule, RuleSet, builtin, load};

/// The command that regenerates the committed reference.
pub const REGENERATE: &str = "cargo run -- docs --output docs/rules.md";

pub fn run(output: Option<&Path>, ctx: &Context) -> Result<Outcome> {
    let rules = load::load(&builtin::files(), &Config::default())?;
    let text = render(&rules);
    match output {
        Some(path) => {
            let path = ctx.cwd.join(path);
            crate::output::write::atomic(&path, &text)?;
            Ok(Outcome {
                stderr: format!("wrote {} ({} rules)\n", path.display(), rules.rules.len()),
                ..Outcome::default()
            })
        }
        None => Ok(Outcome::ok(text)),
    }
}

/// `builtin:rules/migrations.toml` -> `migrations`.
fn pack_name(origin_file: &str) -> &str {
    let file = origin_file.rsplit('/').next().unwrap_or(origin_file);
    file.strip_suffix(".toml").unwrap_or(file)
}

/// The first two paragraphs of a pack's leading comment: what the pack is and its lesson. The
/// rest of that comment is notes for whoever edits the pack.
fn pack_intro(text: &str) -> Vec<String> {
    let mut paragraphs: Vec<String> = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let Some(comment) = line.strip_prefix('#') else {
            break;
        };
        let comment = comment.strip_prefix(' ').unwrap_or(comment);
        if comment.trim().is_empty() {
            if !current.is_empty() {
                paragraphs.push(std::mem::take(&mut current));
            }
            continue;
        }
        if !current.is_empty() {
            current.push(' ');
        }
        current.push_str(comment.trim());
    }
    if !current.is_empty() {
        paragraphs.push(current);
    }
    paragraphs.truncate(2);
    paragraphs
}

/// A code fence longer than any run of backticks in `text`.
fn fence(text: &str) -> String {
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    "`".repeat(longest.max(2) + 1)
}

/// The whole reference, in pack order, one section per rule.
pub fn render(rules: &RuleSet) -> String {
    let mut packs: Vec<(&str, Vec<&Rule>)> = Vec::new();
    for rule in &rules.rules {
        let pack = pack_name(&rule.origin.file);
        match packs.iter_mut().find(|(name, _)| *name == pack) {
            Some((_, list)) => list.push(rule),
            None => packs.push((pack, vec![rule])),
        }
    }
    let examples: usize = rules.rules.iter().map(|r| r.examples.len()).sum();

    let mut s = String::new();
    let _ = writeln!(s, "# Built-in rules\n");
    let _ = writeln!(
        s,
        "<!-- Generated from rules/*.toml by `forewarn docs`. Do not edit by hand: run `{REGENERATE}`. -->\n"
    );
    let _ = writeln!(
        s,
        "forewarn ships {} rules in {} packs, compiled into the binary. Each rule below says what it \
         matches, why that is risky at deploy time, a safe procedure, and shows the examples that \
         `forewarn test` runs ({examples} in all). `forewarn explain <id>` prints the same for one \
         rule.\n",
        rules.rules.len(),
        packs.len()
    );
    let _ = writeln!(
        s,
        "A finding stops failing the gate once its question is answered, with a reason: a commit \
         trailer or pull-request line `Forewarn-Ack: <rule-id>: <reason>`, an inline comment \
         `forewarn-ack: <rule-id> <reason>` on or above the matched line, or \
         `--ack <rule-id>=<reason>`. Rules can be turned off with `[rules] disable = [...]` and \
         their severity changed with `[rules.severity]` in `forewarn.toml`.\n"
    );
    for (pack, list) in &packs {
        let _ = writeln!(
            s,
            "- [{pack}](#pack-{pack}): {} rule{}",
            list.len(),
            if list.len() == 1 { "" } else { "s" }
        );
    }
    s.push('\n');

    for (pack, list) in &packs {
        let _ = writeln!(s, "## Pack: {pack}\n");
        let text = builtin::PACKS
            .iter()
            .find(|(file, _)| file.strip_suffix(".toml") == Some(*pack))
            .map(|(_, text)| *text)
            .unwrap_or_default();
        for paragraph in pack_intro(text) {
            let _ = writeln!(s, "{paragraph}\n");
        }
        let _ = writeln!(s, "| Rule | Severity | Title |\n|---|---|---|");
        for rule in list {
            let _ = writeln!(
                s,
                "| [`{id}`](#{id}) | {} | {} |",
                rule.default_severity,
                rule.title,
                id = rule.id
            );
        }
        s.push('\n');
        for rule in list {
            rule_section(&mut s, rule);
        }
    }
    s
}

fn rule_section(s: &mut String, rule: &Rule) {
    let _ = writeln!(s, "### {}\n", rule.id);
    let _ = writeln!(
        s,
        "**{}**  \nseverity: `{}` · category: `{}` · defined in `rules/{}.toml`\n",
        rule.title,
        rule.default_severity,
        rule.category,
        pack_name(&rule.origin.file)
    );
    let _ = writeln!(s, "**Message:** {}\n", rule.message);
    let _ = writeln!(s, "**Question:** {}\n", rule.ask);
    let _ = writeln!(s, "**What matches**\n");
    for line in describe_match(rule).lines() {
        let _ = writeln!(s, "- {}", line.trim());
    }
    s.push('\n');
    if let Some(why) = &rule.why {
        let _ = writeln!(s, "**Why it is risky at deploy time**\n\n{}\n", why.trim());
    }
    if let Some(procedure) = &rule.procedure {
        let _ = writeln!(s, "**A safe procedure**\n\n{}\n", procedure.trim());
    }
    if !rule.findings.is_empty() {
        let _ = writeln!(
            s,
            "**Lessons it came from:** {}\n",
            rule.findings.join(", ")
        );
    }
    if !rule.docs.is_empty() {
        let _ = writeln!(s, "**Further reading**\n");
        for doc in &rule.docs {
            let _ = writeln!(s, "- <{doc}>");
        }
        s.push('\n');
    }
    let _ = writeln!(s, "**Examples**\n");
    for example in &rule.examples {
        let verdict = match example.expect {
            Expect::Fire => "fires",
            Expect::Pass => "passes",
        };
        let _ = writeln!(s, "{} — {verdict}\n", example.name);
        if let Some(config) = &example.config {
            let f = fence(config);
            let _ = writeln!(
                s,
                "with this `forewarn.toml`:\n\n{f}toml\n{}\n{f}\n",
                config.trim_end()
            );
        }
        let f = fence(&example.diff);
        let _ = writeln!(s, "{f}diff\n{}\n{f}\n", example.diff.trim_end());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn builtin_rules() -> RuleSet {
        load::load(&builtin::files(), &Config::default()).unwrap()
    }

    #[test]
    fn committed_reference_is_up_to_date() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/rules.md");
        let committed = std::fs::read_to_string(path).unwrap_or_default();
        let generated = render(&builtin_rules());
        assert!(
            committed.replace("\r\n", "\n") == generated,
            "docs/rules.md is stale: the rule packs changed. Run `{REGENERATE}` and commit the result."
        );
    }

    #[test]
    fn every_rule_has_a_section_with_its_examples() {
        let rules = builtin_rules();
        let text = render(&rules);
        for rule in &rules.rules {
            assert!(
                text.contains(&format!("\n### {}\n", rule.id)),
                "{}",
                rule.id
            );
        }
        let blocks = text.matches("diff\ndiff --git").count();
        let examples: usize = rules.rules.iter().map(|r| r.examples.len()).sum();
        assert_eq!(blocks, examples);
    }

    #[test]
    fn pack_intro_keeps_what_and_lesson() {
        let intro = pack_intro(
            "# Built-in pack: x.\n#\n# The lesson: y\n# and z.\n#\n# notes\n\n[[rule]]\n",
        );
        assert_eq!(intro, vec!["Built-in pack: x.", "The lesson: y and z."]);
    }

    #[test]
    fn fences_outgrow_backticks() {
        assert_eq!(fence("plain"), "```");
        assert_eq!(fence("a ```` b"), "`````");
    }
}
