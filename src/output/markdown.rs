//! `--format markdown`: a pull-request comment body (also the GitHub job summary).
//!
//! A table of every finding, then each finding with its message, question, the matched line and
//! how to acknowledge it. A comment holds at most 65,536 characters, so a report that would pass
//! [`LIMIT`] is summarised instead: per rule, a count and the first few findings, and how many
//! were left out.
//!
//! Text from a change or a rule is data, never markup: prose has every markdown and HTML special
//! character escaped (and `@` broken so no one is mentioned), paths and ids go in code spans whose
//! fence is longer than any backtick run inside, matched lines in fences longer still. Control
//! characters and bidirectional overrides are made visible, as in the human format.

use std::fmt::Write as _;

use super::Report;
use super::human::neutralise;
use crate::finding::{AckSource, Finding};
use crate::rules::Severity;

/// The most characters a body may have; GitHub refuses comments over 65,536.
pub const LIMIT: usize = 65_000;

/// The first line of every body, so a bot can find and update its own comment.
pub const MARKER: &str = "<!-- forewarn -->";

/// Findings listed per rule in a summarised body, tried in turn until the body fits.
const SUMMARY_FINDINGS_PER_RULE: [usize; 4] = [10, 5, 1, 0];

/// The comment body: in full when it fits in [`LIMIT`] characters, summarised when not.
pub fn render(report: &Report) -> String {
    render_within(report, LIMIT)
}

fn render_within(report: &Report, limit: usize) -> String {
    let full = full(report);
    if full.chars().count() <= limit {
        return full;
    }
    let mut body = String::new();
    for per_rule in SUMMARY_FINDINGS_PER_RULE {
        body = summarised(report, per_rule);
        if body.chars().count() <= limit {
            return body;
        }
    }
    cut(&body, limit)
}

fn full(report: &Report) -> String {
    let mut out = header(report);
    if report.findings.is_empty() {
        push_remarks(&mut out, report);
        return out;
    }
    out.push_str("| | Rule | Where | What |\n| --- | --- | --- | --- |\n");
    for f in &report.findings {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            badge(f),
            cell_code(&f.rule_id),
            where_cell(f),
            text(f.title.trim())
        );
    }
    for f in &report.findings {
        out.push('\n');
        out.push_str(&details(f));
    }
    push_remarks(&mut out, report);
    out
}

/// [`remarks`] after a blank line.
fn push_remarks(out: &mut String, report: &Report) {
    let remarks = remarks(report);
    if !remarks.is_empty() {
        if !out.ends_with("\n\n") {
            out.push('\n');
        }
        out.push_str(&remarks);
    }
}

/// One finding in full.
fn details(f: &Finding) -> String {
    let mut out = format!(
        "#### {} {} {}\n\n",
        badge(f),
        code(&f.rule_id),
        text(f.title.trim())
    );
    if let Some(path) = &f.path {
        match (f.line, f.old_side) {
            (Some(line), false) => {
                let _ = writeln!(out, "{} line {line}\n", code(path));
            }
            (Some(line), true) => {
                let _ = writeln!(
                    out,
                    "{} line {line} before the change (removed)\n",
                    code(path)
                );
            }
            (None, _) => {
                let _ = writeln!(out, "{}\n", code(path));
            }
        }
    }
    let _ = writeln!(out, "{}\n", text(f.message.trim()));
    if let Some(matched) = f.matched.as_deref().filter(|m| !m.trim().is_empty()) {
        let sign = if f.old_side { "-" } else { "+" };
        out.push_str(&fenced(&format!("{sign} {}", matched.trim()), "diff"));
        out.push('\n');
    }
    if !f.ask.trim().is_empty() {
        let _ = writeln!(out, "**Question:** {}\n", text(f.ask.trim()));
    }
    if !f.findings.is_empty() {
        let links: Vec<String> = f.findings.iter().map(|l| code(l)).collect();
        let _ = writeln!(out, "**Lessons:** {}\n", links.join(", "));
    }
    match &f.acknowledged {
        Some(ack) => {
            let _ = writeln!(
                out,
                "**Acknowledged** ({}): {}",
                source(&ack.source),
                text(ack.reason.trim())
            );
        }
        None => {
            let _ = writeln!(
                out,
                "Once handled, acknowledge it in the pull-request body or a commit message: {}",
                code(&format!("Forewarn-Ack: {}: <reason>", f.rule_id))
            );
        }
    }
    out
}

/// Per rule: a count and the first `per_rule` findings, and how many were left out.
fn summarised(report: &Report, per_rule: usize) -> String {
    let mut out = header(report);
    let _ = writeln!(
        out,
        "This report has {} findings, too many for one comment: it is summarised by rule. Run \
         `forewarn check` (or read the job log) for every finding.\n",
        report.findings.len()
    );
    let mut rules: Vec<&str> = Vec::new();
    for f in &report.findings {
        if !rules.contains(&&*f.rule_id) {
            rules.push(&f.rule_id);
        }
    }
    out.push_str("| Rule | Findings | Acknowledged |\n| --- | --- | --- |\n");
    for id in &rules {
        let of_rule = report.findings.iter().filter(|f| &*f.rule_id == *id);
        let (count, acked) = of_rule.fold((0, 0), |(n, a), f| {
            (n + 1, a + usize::from(f.acknowledged.is_some()))
        });
        let _ = writeln!(out, "| {} | {count} | {acked} |", cell_code(id));
    }
    if per_rule == 0 {
        push_remarks(&mut out, report);
        return out;
    }
    for id in &rules {
        let of_rule: Vec<&Finding> = report
            .findings
            .iter()
            .filter(|f| &*f.rule_id == *id)
            .collect();
        let first = of_rule[0];
        let _ = write!(
            out,
            "\n#### {} {} {}\n\n",
            badge(first),
            code(id),
            text(first.title.trim())
        );
        if !first.ask.trim().is_empty() {
            let _ = writeln!(out, "**Question:** {}\n", text(first.ask.trim()));
        }
        out.push_str("| | Where | Message |\n| --- | --- | --- |\n");
        for f in of_rule.iter().take(per_rule) {
            let _ = writeln!(
                out,
                "| {} | {} | {} |",
                badge(f),
                where_cell(f),
                text(&shorten(f.message.trim(), 300))
            );
        }
        if of_rule.len() > per_rule {
            let left = of_rule.len() - per_rule;
            let _ = writeln!(
                out,
                "\n{left} more {} of this rule not shown.",
                if left == 1 { "finding" } else { "findings" }
            );
        }
    }
    push_remarks(&mut out, report);
    out
}

/// The marker, a heading with the verdict, and what was compared.
fn header(report: &Report) -> String {
    let gate = report.fail_on.map_or("never", Severity::as_str);
    let verdict = if report.findings.is_empty() {
        "no findings".to_string()
    } else {
        format!(
            "{}, {}, {}, {} acknowledged",
            count(report.count(Severity::Error), "error"),
            count(report.count(Severity::Warning), "warning"),
            count(report.count(Severity::Note), "note"),
            report.acknowledged()
        )
    };
    let gate_text = if report.fails() {
        "fails the gate"
    } else {
        "passes"
    };
    format!(
        "{MARKER}\n### forewarn: {verdict} — {gate_text} (`--fail-on {gate}`)\n\n{} · {} checked · {}\n\n",
        text(&report.description),
        count(report.files_checked, "file"),
        count(report.rules_checked, "rule"),
    )
}

/// Unused acknowledgements and warnings, as a list.
fn remarks(report: &Report) -> String {
    if report.unused_acks.is_empty() && report.warnings.is_empty() {
        return String::new();
    }
    let mut out = String::from("**Notes**\n\n");
    for a in &report.unused_acks {
        let _ = writeln!(
            out,
            "- the acknowledgement for {} ({}) matched no finding; is the rule id right?",
            code(&a.rule_id),
            source(&a.source)
        );
    }
    for w in &report.warnings {
        let _ = writeln!(out, "- {}", text(w));
    }
    out
}

fn badge(f: &Finding) -> &'static str {
    match (&f.acknowledged, f.severity) {
        (Some(_), _) => "✅ acknowledged",
        (None, Severity::Error) => "🛑 error",
        (None, Severity::Warning) => "⚠️ warning",
        (None, Severity::Note) => "ℹ️ note",
    }
}

fn where_cell(f: &Finding) -> String {
    match (&f.path, f.line, f.old_side) {
        (Some(path), Some(line), false) => cell_code(&format!("{path}:{line}")),
        (Some(path), Some(line), true) => {
            format!("{} (removed line {line})", cell_code(path))
        }
        (Some(path), None, _) => cell_code(path),
        (None, _, _) => "the whole change".to_string(),
    }
}

fn source(source: &AckSource) -> String {
    match source {
        AckSource::Trailer { commit } => {
            let short: String = commit.chars().take(12).collect();
            format!("trailer in commit {}", code(&short))
        }
        AckSource::PullRequest => "pull-request body".to_string(),
        AckSource::Inline { line } => format!("inline comment on line {line}"),
        AckSource::CommandLine => code("--ack"),
    }
}

fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// At most `max` characters, with `…` when cut.
fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Prose as inline markdown that renders as exactly this text (trimmed), on one line: HTML and
/// inline markdown specials escaped, newlines as `<br>`, and a zero-width space after `@` and `#`
/// so no one is mentioned and no issue is referenced. What only means something at the start of a
/// line (`-`, `+`, `=`, `1.`) is escaped there, since the text may begin a paragraph.
pub fn text(s: &str) -> String {
    let s = neutralise(s.trim(), true);
    let mut out = String::with_capacity(s.len() + 16);
    let mut leading_digits = true;
    for (i, c) in s.chars().enumerate() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '@' | '#' => {
                out.push(c);
                out.push_str("&#8203;");
            }
            '\n' => out.push_str("<br>"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '~' | '$' => {
                out.push('\\');
                out.push(c);
            }
            '-' | '+' | '=' if i == 0 => {
                out.push('\\');
                out.push(c);
            }
            '.' | ')' if leading_digits && i > 0 => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
        leading_digits = leading_digits && c.is_ascii_digit();
    }
    out
}

/// An inline code span holding exactly `s` (on one line): the fence is one backtick longer than
/// the longest run inside, padded with spaces when the text starts or ends with one.
pub fn code(s: &str) -> String {
    let s = neutralise(s, false);
    if s.is_empty() {
        return "` `".to_string();
    }
    let fence = "`".repeat(longest_run(&s, '`') + 1);
    let pad = s.starts_with('`') || s.ends_with('`') || s.starts_with(' ') || s.ends_with(' ');
    let pad = if pad { " " } else { "" };
    format!("{fence}{pad}{s}{pad}{fence}")
}

/// A code span in a table cell: `|` would end the cell even inside the span, so it is escaped
/// (GitHub removes the backslash there).
fn cell_code(s: &str) -> String {
    code(s).replace('|', "\\|")
}

/// A fenced block holding `s` verbatim: the fence is longer than any backtick run inside.
fn fenced(s: &str, info: &str) -> String {
    let s = neutralise(s, true);
    let fence = "`".repeat((longest_run(&s, '`') + 1).max(3));
    format!("{fence}{info}\n{s}\n{fence}\n")
}

fn longest_run(s: &str, c: char) -> usize {
    let mut longest = 0;
    let mut run = 0;
    for ch in s.chars() {
        if ch == c {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    longest
}

/// The last resort for a body still too long: whole lines up to the limit, then a note. An open
/// fence is closed so the note is not swallowed.
fn cut(body: &str, limit: usize) -> String {
    const NOTE: &str =
        "\n\n_The report was cut to fit in one comment. Run `forewarn check` for all of it._\n";
    let budget = limit.saturating_sub(NOTE.chars().count() + 64);
    let mut out = String::new();
    let mut used = 0;
    let mut open_fence: Option<String> = None;
    for line in body.split_inclusive('\n') {
        let n = line.chars().count();
        if used + n > budget {
            break;
        }
        let trimmed = line.trim_end();
        if trimmed.starts_with("```") {
            let fence: String = trimmed.chars().take_while(|&c| c == '`').collect();
            match &open_fence {
                Some(open) if *open == fence && trimmed == fence => open_fence = None,
                None => open_fence = Some(fence),
                Some(_) => {}
            }
        }
        out.push_str(line);
        used += n;
    }
    if let Some(fence) = open_fence {
        let _ = write!(out, "\n{fence}");
    }
    out.push_str(NOTE);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::fixtures::{self, HOSTILE};

    #[test]
    fn full_body_has_a_table_and_every_finding() {
        let out = render(&fixtures::report());
        assert!(out.starts_with(MARKER));
        assert!(out.contains("fails the gate (`--fail-on error`)"), "{out}");
        for f in &fixtures::report().findings {
            assert!(out.contains(&format!("`{}`", f.rule_id)), "{out}");
        }
        assert!(
            out.contains("**Acknowledged** (trailer in commit `3f9c2e1a7b0c`)"),
            "{out}"
        );
        assert!(
            out.contains("```diff\n+ class Migration(migrations.Migration):\n```"),
            "{out}"
        );
    }

    #[test]
    fn text_escapes_markup_and_mentions() {
        assert_eq!(
            text("<script>alert(1)</script>"),
            "&lt;script&gt;alert(1)&lt;/script&gt;"
        );
        assert_eq!(
            text("**b** [l](u) @team #1 a_b"),
            "\\*\\*b\\*\\* \\[l\\](u) @&#8203;team #&#8203;1 a\\_b"
        );
        assert_eq!(text("a\nb | c"), "a<br>b \\| c");
        assert_eq!(text("\x1b[2J\u{202e}"), "\\\\x1b\\[2J\\\\u{202e}");
        assert_eq!(text("- a-b"), "\\- a-b");
        assert_eq!(text("12. a. 3) b"), "12\\. a. 3) b");
        assert_eq!(text("    # x"), "#&#8203; x");
    }

    #[test]
    fn code_spans_hold_any_backticks() {
        assert_eq!(code("a"), "`a`");
        assert_eq!(code("a`b"), "``a`b``");
        assert_eq!(code("`a``"), "``` `a`` ```");
        assert_eq!(code(""), "` `");
        assert_eq!(code("a\nb"), "`a\\nb`");
        assert_eq!(cell_code("a|b"), "`a\\|b`");
        assert_eq!(fenced("```x", "diff"), "````diff\n```x\n````\n");
    }

    /// The line without its code spans (a run of n backticks up to the next run of exactly n),
    /// where markup is not interpreted.
    fn outside_code_spans(line: &str) -> String {
        let mut out = String::new();
        let mut rest = line;
        while let Some(start) = rest.find('`') {
            out.push_str(&rest[..start]);
            let n = rest[start..].chars().take_while(|&c| c == '`').count();
            let after = &rest[start + n..];
            let mut search = 0;
            let mut close = None;
            while let Some(i) = after[search..].find('`') {
                let at = search + i;
                let run = after[at..].chars().take_while(|&c| c == '`').count();
                if run == n {
                    close = Some(at);
                    break;
                }
                search = at + run;
            }
            match close {
                Some(at) => rest = &after[at + n..],
                None => {
                    out.push_str(&rest[start..]);
                    rest = "";
                }
            }
        }
        out.push_str(rest);
        out
    }

    #[test]
    fn hostile_text_stays_data() {
        let out = render(&fixtures::hostile_report());
        assert!(!out.contains('\x1b') && !out.contains('\u{202e}') && !out.contains('\r'));
        let mut fence: Option<&str> = None;
        for line in out.lines() {
            match fence {
                Some(open) if line == open => fence = None,
                Some(_) => {}
                None if line.starts_with("```") => fence = Some(line.trim_end_matches("diff")),
                None => {
                    let markup = outside_code_spans(line);
                    assert!(!markup.contains("<script"), "{line}");
                    assert!(!markup.replace("\\]", "").contains("]("), "{line}");
                    assert!(!markup.contains("@everyone"), "{line}");
                    assert!(!markup.contains("**bold"), "{line}");
                }
            }
        }
        assert_eq!(outside_code_spans("a `b<c` d ``e`f`` g"), "a  d  g");
        // Every table row keeps its four cells: no `|` or newline from the text ends one.
        for line in out.lines().filter(|l| l.starts_with("| ")) {
            let unescaped = line.replace("\\|", "");
            assert_eq!(unescaped.matches('|').count(), 5, "{line}");
        }
        // Outside fenced blocks, no line written from the text starts a block of its own.
        let mut fence: Option<&str> = None;
        for line in out.lines() {
            match fence {
                Some(open) if line == open => fence = None,
                Some(_) => {}
                None if line.starts_with("```") => fence = Some(line.trim_end_matches("diff")),
                None => assert!(
                    line == MARKER || !line.starts_with(['<', '>', '=', '[', '!', ':']),
                    "{line}"
                ),
            }
        }
        assert!(HOSTILE.contains("<script>"));
    }

    fn many(n: usize) -> Report {
        let mut report = fixtures::report();
        let template = report.findings[2].clone();
        report.findings = (0..n)
            .map(|i| {
                let mut f = template.clone();
                if i % 3 == 0 {
                    f.rule_id = "dropped-column".into();
                }
                f.path = Some(format!("payments/migrations/{i:05}_step.py").into());
                f
            })
            .collect();
        report
    }

    #[test]
    fn a_long_report_is_summarised_by_rule_under_the_limit() {
        let report = many(2000);
        assert!(full(&report).chars().count() > LIMIT);
        let out = render(&report);
        assert!(out.chars().count() <= LIMIT, "{}", out.chars().count());
        assert!(out.contains("summarised by rule"), "{out}");
        assert!(
            out.contains("| `new-migration-needs-deploy-step` | 1333 | 0 |"),
            "{out}"
        );
        assert!(out.contains("| `dropped-column` | 667 | 0 |"), "{out}");
        assert!(
            out.contains("1323 more findings of this rule not shown."),
            "{out}"
        );
        assert!(
            out.contains("657 more findings of this rule not shown."),
            "{out}"
        );
    }

    #[test]
    fn the_summary_shrinks_and_is_cut_as_a_last_resort() {
        let report = many(40);
        let fewer = render_within(&report, summarised(&report, 1).chars().count());
        assert!(fewer.contains("25 more findings"), "{fewer}");
        assert!(fewer.contains("13 more findings"), "{fewer}");
        let cut_short = render_within(&report, 300);
        assert!(cut_short.chars().count() <= 300, "{cut_short}");
        assert!(cut_short.contains("was cut to fit"), "{cut_short}");
        assert_eq!(cut("```\ncode\nmore\n", 300).matches("```").count(), 2);
    }

    #[test]
    fn no_findings() {
        let mut report = fixtures::report();
        report.findings.clear();
        insta::assert_snapshot!(render(&report));
    }

    #[test]
    fn snapshot() {
        insta::assert_snapshot!(render(&fixtures::report()));
    }
}
