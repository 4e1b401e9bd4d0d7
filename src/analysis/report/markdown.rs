//! The report drawn as markdown, for a pull request comment or a review document.

use std::fmt::Write as _;

use super::{AnalysisReport, Lesson, Reason, Report, RuleStats, date, short};
use crate::analysis::backtest::CulpritOutcome;
use crate::analysis::links::{one_line, plural};

/// Text for a markdown table cell or line: no line breaks, no table pipes, no raw HTML.
pub fn md(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '|' => out.push_str("\\|"),
            // Links and images (`[text](url)`, `![alt](src)`) stay text.
            '[' => out.push_str("\\["),
            ']' => out.push_str("\\]"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '`' => out.push('\''),
            '\n' | '\r' | '\t' => out.push(' '),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// [`md`] for free text someone typed into an acknowledgement: besides, a bare URL and an
/// `@mention` are set as code, so a reason neither links anywhere nor notifies anyone when the
/// report is pasted into an issue or a pull request.
pub fn md_reason(text: &str) -> String {
    let escaped = md(text);
    let mut out = String::with_capacity(escaped.len() + 8);
    for (i, word) in escaped.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let lower = word.to_ascii_lowercase();
        let mention = word
            .strip_prefix('@')
            .and_then(|rest| rest.chars().next())
            .is_some_and(|c| c.is_alphanumeric());
        let url = lower.contains("://") || lower.starts_with("www.") || lower.contains("www.");
        if mention || url || word.contains('@') && word.contains('.') {
            out.push('`');
            out.push_str(word);
            out.push('`');
        } else {
            out.push_str(word);
        }
    }
    out
}

/// What a culprit outcome says, as markdown.
pub(super) fn culprit_verdict(c: &CulpritOutcome) -> String {
    match (&c.not_replayed, c.caught_by.as_slice()) {
        (Some(why), _) => format!("not replayed: {}", md(why)),
        (None, []) => "no rule catches it".to_string(),
        (None, rules) => format!(
            "caught by {}",
            rules
                .iter()
                .map(|r| format!("`{}`", md(r)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// A reason as one line: `"text" (trailer, ×3, last 2024-05-01)`, with the wordings it stands
/// for when near-identical ones were counted together.
fn reason_line(reason: &Reason) -> String {
    format!(
        "\"{}\" ({}, ×{}{}, last {})",
        md_reason(&reason.reason),
        md(&reason.source),
        reason.count,
        if reason.variants > 1 {
            format!(" in {} similar wordings", reason.variants)
        } else {
            String::new()
        },
        date(&reason.last)
    )
}

/// The lead of an analysis: what its rules did since the review, in a sentence per finding.
fn lessons_at_work(out: &mut String, a: &AnalysisReport) {
    let lessons: Vec<(&str, &Lesson)> = a
        .findings
        .iter()
        .flat_map(|f| f.lessons.iter().map(move |l| (f.id.as_str(), l)))
        .collect();
    if lessons.is_empty() {
        return;
    }
    let since = a
        .held
        .as_deref()
        .map(|h| format!("Since the review ({})", date(h)))
        .unwrap_or_else(|| "Since the first recorded check".to_string());
    let _ = writeln!(out, "{since}, the lesson at work:\n");
    for (finding, l) in lessons {
        let _ = writeln!(
            out,
            "- {}: `{}` fired on {}: {} acknowledged, {} resolved before merge; {}",
            md(finding),
            md(&l.rule),
            plural(l.fired, "change"),
            l.acknowledged,
            l.resolved_before_merge,
            l.trend.describe()
        );
    }
    let _ = writeln!(out);
}

/// `--format markdown`.
pub fn markdown(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# forewarn report\n");
    let _ = writeln!(
        out,
        "Generated {} from {}.\n",
        report.generated,
        report.sources()
    );
    if report.ledger_events == 0 {
        let _ = writeln!(
            out,
            "> The ledger is empty: run `forewarn check --record` in CI so each finding is recorded.\n"
        );
    }
    for a in &report.analyses {
        let _ = writeln!(out, "## {}: {}\n", md(&a.id), md(&a.title));
        let _ = writeln!(
            out,
            "Status {} · held {} · `{}`\n",
            a.status,
            a.held.as_deref().unwrap_or("(no date)"),
            md(&a.file)
        );
        if a.findings.is_empty() {
            let _ = writeln!(out, "No findings yet.\n");
        } else {
            lessons_at_work(&mut out, a);
            let _ = writeln!(
                out,
                "| finding | question | rule | fired | acknowledged | resolved before merge | trend | last fired |"
            );
            let _ = writeln!(out, "|---|---|---|---:|---:|---:|---|---|");
            for f in &a.findings {
                let what = format!("**{}** {}", md(&f.id), md(&one_line(&f.text, 90)));
                if f.rules.is_empty() {
                    let _ = writeln!(
                        out,
                        "| {what} | {} | no rule yet: `forewarn rule new <id> --finding {}` | | | | | |",
                        f.question,
                        md(&f.link)
                    );
                }
                for l in &f.lessons {
                    let _ = writeln!(
                        out,
                        "| {what} | {} | `{}` | {} | {} | {} | {} | {} |",
                        f.question,
                        md(&l.rule),
                        l.fired,
                        l.acknowledged,
                        l.resolved_before_merge,
                        l.trend.direction,
                        l.last_fired.as_deref().map(date).unwrap_or("never")
                    );
                }
            }
            let _ = writeln!(out);
            for f in &a.findings {
                for l in f.lessons.iter().filter(|l| !l.reasons.is_empty()) {
                    let _ = writeln!(
                        out,
                        "Reasons given for {} (`{}`):\n",
                        md(&f.id),
                        md(&l.rule)
                    );
                    for r in &l.reasons {
                        let _ = writeln!(out, "- {}", reason_line(r));
                    }
                    let _ = writeln!(out);
                }
            }
        }
        if !a.culprits.is_empty() {
            let _ = writeln!(out, "Culprit commits:\n");
            for c in &a.culprits {
                let _ = writeln!(
                    out,
                    "- `{}` ({}): {}",
                    md(&c.commit),
                    c.role.as_str(),
                    culprit_verdict(c)
                );
            }
            let _ = writeln!(out);
        }
        if let Some(h) = &a.hotspots {
            let paths: Vec<String> = h
                .paths
                .iter()
                .map(|(p, n)| format!("`{}` ({n})", md(p)))
                .collect();
            let _ = writeln!(
                out,
                "Hotspots ({}): touched by {} ({} acknowledged){}{}\n",
                md(&h.since),
                plural(h.changes, "change"),
                h.acknowledged,
                if paths.is_empty() { "" } else { ": " },
                paths.join(", ")
            );
        }
    }

    let _ = writeln!(out, "## Rules that fired\n");
    let fired: Vec<&RuleStats> = report.rules.iter().filter(|r| r.fired > 0).collect();
    if fired.is_empty() {
        let _ = writeln!(out, "None in the ledger or in history.\n");
    } else {
        let _ = writeln!(
            out,
            "| rule | findings | fired | acknowledged | resolved before merge | first | last |"
        );
        let _ = writeln!(out, "|---|---|---:|---:|---:|---|---|");
        for r in &fired {
            let _ = writeln!(
                out,
                "| `{}`{} | {} | {} | {} | {} | {} | {} |",
                md(&r.id),
                if r.origin.is_none() {
                    " (no longer in force)"
                } else {
                    ""
                },
                if r.findings.is_empty() {
                    "—".to_string()
                } else {
                    md(&r.findings.join(", "))
                },
                r.fired,
                r.acknowledged,
                r.resolved_before_merge,
                r.first_fired.as_deref().map(date).unwrap_or(""),
                r.last_fired.as_deref().map(date).unwrap_or("")
            );
        }
        let _ = writeln!(out);
        let with_reasons: Vec<&&RuleStats> =
            fired.iter().filter(|r| !r.reasons.is_empty()).collect();
        if !with_reasons.is_empty() {
            let _ = writeln!(out, "### Why findings were acknowledged\n");
            for r in with_reasons {
                for reason in &r.reasons {
                    let _ = writeln!(out, "- `{}`: {}", md(&r.id), reason_line(reason));
                }
            }
            let _ = writeln!(out);
        }
    }

    let _ = writeln!(out, "## Rules that never fired\n");
    if report.never_fired.is_empty() {
        let _ = writeln!(out, "Every rule in force has fired.\n");
    } else {
        let team: Vec<&RuleStats> = report
            .rules
            .iter()
            .filter(|r| r.fired == 0 && r.origin.is_some() && !r.builtin)
            .collect();
        let builtin: Vec<&RuleStats> = report
            .rules
            .iter()
            .filter(|r| r.fired == 0 && r.origin.is_some() && r.builtin)
            .collect();
        for r in &team {
            let _ = writeln!(
                out,
                "- `{}` ({}){}",
                md(&r.id),
                md(r.origin.as_deref().unwrap_or("")),
                if r.findings.is_empty() {
                    String::new()
                } else {
                    format!(": for {}", md(&r.findings.join(", ")))
                }
            );
        }
        if !builtin.is_empty() {
            // Folded: a long list of shipped rules would bury the team's own.
            let _ = writeln!(
                out,
                "\n<details><summary>{} built-in</summary>\n\n{}\n\n</details>",
                plural(builtin.len(), "rule"),
                builtin
                    .iter()
                    .map(|r| format!("`{}`", md(&r.id)))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        let _ = writeln!(out);
    }

    let _ = writeln!(out, "## Culprit commits no rule catches\n");
    if report.uncaught_culprits.is_empty() {
        let _ = writeln!(
            out,
            "None: every culprit commit is caught by a rule in force.\n"
        );
    } else {
        for c in &report.uncaught_culprits {
            let _ = writeln!(
                out,
                "- `{}` of {} ({}): {}",
                md(&short(&c.commit)),
                md(&c.analysis),
                c.role.as_str(),
                culprit_verdict(c)
            );
        }
        let _ = writeln!(out);
    }

    let _ = writeln!(out, "## Findings with no rule\n");
    if report.findings_without_rule.is_empty() {
        let _ = writeln!(out, "None: every finding has a rule.\n");
    } else {
        for link in &report.findings_without_rule {
            let _ = writeln!(
                out,
                "- {} (`forewarn rule new <id> --finding {}`)",
                md(link),
                md(link)
            );
        }
        let _ = writeln!(out);
    }
    if !report.warnings.is_empty() {
        let _ = writeln!(out, "## Notes\n");
        for w in &report.warnings {
            let _ = writeln!(out, "- {}", md(w));
        }
        let _ = writeln!(out);
    }
    out
}
