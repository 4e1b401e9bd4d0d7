//! The default format: findings drawn the way rustc draws errors (annotate-snippets).
//!
//! Everything printed here that came from a change, a rule or a commit goes through
//! [`neutralise`] first: a diff can carry escape sequences, and checking it must not let it
//! repaint the reader's terminal. annotate-snippets cleans source lines itself but prints paths,
//! labels and messages as given, so the cleaning is done here, once, for all of them.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::ops::Range;

use annotate_snippets::{AnnotationKind, Group, Level, Origin, Padding, Patch, Renderer, Snippet};

use super::Report;
use crate::finding::{AckSource, Acknowledgement, Finding};
use crate::rules::Severity;

/// SGR sequences for the summary line, which annotate-snippets does not draw.
const BOLD: &str = "\x1b[1m";
const FAIL: &str = "\x1b[1;91m";
const PASS: &str = "\x1b[1;92m";
const RESET: &str = "\x1b[0m";

/// Draws the report: each finding, then unused acknowledgements and warnings, then one summary
/// line. With `color` false the text holds no escape sequences at all.
pub fn render(report: &Report, color: bool) -> String {
    let renderer = if color {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    let mut out = String::new();
    for finding in &report.findings {
        out.push_str(&renderer.render(&[finding_group(finding)]));
        out.push_str("\n\n");
    }

    let mut remarks = Vec::new();
    for ack in &report.unused_acks {
        remarks.push(renderer.render(&[unused_ack_group(ack)]));
    }
    for warning in &report.warnings {
        let text = neutralise(warning, true).into_owned();
        remarks.push(renderer.render(&[Group::with_title(Level::WARNING.secondary_title(text))]));
    }
    if !remarks.is_empty() {
        out.push_str(&remarks.join("\n"));
        out.push_str("\n\n");
    }

    out.push_str(&summary(report, color));
    out.push('\n');
    out
}

/// One finding as a rustc-style diagnostic: title, where, what, the question, the lessons behind
/// the rule, and how to acknowledge it (or how it was acknowledged).
fn finding_group(f: &Finding) -> Group<'static> {
    let ack = f.acknowledged.as_ref();
    let level = match (ack, f.severity) {
        (Some(_), _) => Level::NOTE.with_name("acknowledged"),
        (None, Severity::Error) => Level::ERROR,
        (None, Severity::Warning) => Level::WARNING,
        (None, Severity::Note) => Level::NOTE,
    };
    let title = level
        .primary_title(one_line(&f.title))
        .id(one_line(&f.rule_id));
    let mut group = Group::with_title(title);
    // An acknowledged finding is underlined as context (`---`), not as the cause (`^^^`).
    let kind = if ack.is_some() {
        AnnotationKind::Context
    } else {
        AnnotationKind::Primary
    };
    let message = neutralise(&f.message, true).into_owned();

    match (f.path.as_deref(), f.line) {
        (Some(path), Some(line)) if f.old_side => {
            // A removed line is not in the new file: name the file but no new-file line, and
            // draw the line as rustc draws a removal, numbered as it was before the change.
            group = group.element(Origin::path(one_line(path)));
            let removed = one_line(f.matched.as_deref().unwrap_or("").trim());
            if removed.is_empty() {
                group = group.element(Padding).element(
                    Level::NOTE
                        .with_name(format!("removed (line {line} before the change)"))
                        .message(message),
                );
            } else {
                let len = removed.len();
                group = group
                    .element(
                        Snippet::source(removed)
                            .line_start(line as usize)
                            .patch(Patch::new(0..len, "")),
                    )
                    .element(Level::NOTE.with_name("removed").message(message));
            }
        }
        (Some(path), Some(line)) => {
            let path = one_line(path);
            // A label under a line has to stay on one line: a multi-line message is joined.
            let label = f
                .message
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(one_line)
                .collect::<Vec<_>>()
                .join(" ");
            if let Some((source, line_start, span)) = snippet_source(f, line) {
                group = group.element(
                    Snippet::source(source)
                        .path(path)
                        .line_start(line_start)
                        .fold(false)
                        .annotation(kind.span(span).label(label)),
                );
            } else if let Some(matched) = f.matched.as_deref() {
                let source = one_line(matched.trim_end_matches('\r'));
                let span = clamp_span(&source, content_span(&source, 0));
                group = group.element(
                    Snippet::source(source)
                        .path(path)
                        .line_start(line.max(1) as usize)
                        .annotation(kind.span(span).label(label)),
                );
            } else {
                group = group
                    .element(Origin::path(path).line(line.max(1) as usize))
                    .element(Padding)
                    .element(Level::NOTE.no_name().message(message));
            }
        }
        (Some(path), None) => {
            group = group
                .element(Origin::path(one_line(path)))
                .element(Padding)
                .element(Level::NOTE.no_name().message(message));
        }
        (None, _) => {
            group = group.element(Level::NOTE.no_name().message(message));
        }
    }

    if !f.ask.trim().is_empty() {
        group = group.element(
            Level::NOTE
                .with_name("question")
                .message(neutralise(f.ask.trim(), true).into_owned()),
        );
    }
    for link in f.findings.iter() {
        group = group.element(Level::NOTE.with_name("lesson").message(one_line(link)));
    }
    match ack {
        Some(ack) => {
            group = group.element(
                Level::NOTE
                    .with_name(format!("acknowledged ({})", ack_source(&ack.source)))
                    .message(neutralise(&ack.reason, true).into_owned()),
            );
        }
        None => group = group.element(Level::HELP.message(ack_help(f))),
    }
    group
}

/// The snippet's lines, cleaned, with the 1-based number of its first line and the span of the
/// matched line's content; `None` when the matched line is not in the snippet.
fn snippet_source(f: &Finding, line: u32) -> Option<(String, usize, Range<usize>)> {
    let snippet = f.snippet.as_ref()?;
    let index = line.checked_sub(snippet.line_start)? as usize;
    let lines: Vec<String> = snippet
        .text
        .split('\n')
        .map(|l| one_line(l.strip_suffix('\r').unwrap_or(l)))
        .collect();
    if index >= lines.len() {
        return None;
    }
    let offset: usize = lines[..index].iter().map(|l| l.len() + 1).sum();
    let source = lines.join("\n");
    let span = content_span(&source[offset..offset + lines[index].len()], offset);
    let span = clamp_span(&source, span);
    Some((source, snippet.line_start.max(1) as usize, span))
}

/// A span that annotate-snippets can draw: inside `text` and on char boundaries (a span past the
/// end panics there).
fn clamp_span(text: &str, span: Range<usize>) -> Range<usize> {
    let mut start = span.start.min(text.len());
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    let mut end = span.end.clamp(start, text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    start..end
}

/// The span of a line's text without its indentation or trailing blanks, shifted by `offset`;
/// the whole line when it is blank.
fn content_span(line: &str, offset: usize) -> Range<usize> {
    let trimmed = line.trim();
    if trimmed.is_empty() {
        return offset..offset + line.len();
    }
    let start = line.len() - line.trim_start().len();
    offset + start..offset + start + trimmed.len()
}

/// How to answer a finding's question, with only the ways that apply to it.
fn ack_help(f: &Finding) -> String {
    let id = one_line(&f.rule_id);
    let trailer = format!("a commit trailer `Forewarn-Ack: {id}: <reason>`");
    let cli = format!("`--ack {id}=<reason>`");
    if f.line.is_some() && !f.old_side {
        format!(
            "once handled, acknowledge it with {trailer}, a comment `forewarn-ack: {id} <reason>` \
             on or above the line, or {cli}"
        )
    } else {
        format!("once handled, acknowledge it with {trailer} or {cli}")
    }
}

fn unused_ack_group(ack: &Acknowledgement) -> Group<'static> {
    let from = match &ack.source {
        AckSource::Trailer { .. } | AckSource::Inline { .. } => {
            format!("from the {}", ack_source(&ack.source))
        }
        AckSource::PullRequest | AckSource::CommandLine => {
            format!("from {}", ack_source(&ack.source))
        }
    };
    Group::with_title(Level::NOTE.secondary_title(format!(
        "acknowledgement for `{}` ({from}) matched no finding; is the rule id right?",
        one_line(&ack.rule_id),
    )))
}

/// Where an acknowledgement came from, cleaned; commits shortened by characters, not bytes, so
/// odd text cannot split a character.
fn ack_source(source: &AckSource) -> String {
    match source {
        AckSource::Trailer { commit } => {
            let short: String = commit.chars().take(12).collect();
            format!("trailer in commit {}", one_line(&short))
        }
        AckSource::PullRequest => "the pull-request body".to_string(),
        AckSource::Inline { line } => format!("inline comment on line {line}"),
        AckSource::CommandLine => "--ack".to_string(),
    }
}

/// `forewarn: 2 errors, 1 warning, 0 notes, 1 acknowledged · 14 files checked · 23 rules · 0.04s
/// — fails the gate (--fail-on error)`.
fn summary(report: &Report, color: bool) -> String {
    let mut line = String::from("forewarn: ");
    if report.findings.is_empty() {
        line.push_str("no findings");
    } else {
        let _ = write!(
            line,
            "{}, {}, {}, {} acknowledged",
            count(report.count(Severity::Error), "error"),
            count(report.count(Severity::Warning), "warning"),
            count(report.count(Severity::Note), "note"),
            report.acknowledged(),
        );
    }
    let _ = write!(
        line,
        " · {} checked · {} · {:.2}s",
        count(report.files_checked, "file"),
        count(report.rules_checked, "rule"),
        report.elapsed.as_secs_f64(),
    );
    if report.findings.is_empty() {
        return if color {
            format!("{BOLD}{line}{RESET}")
        } else {
            line
        };
    }
    let gate = report.fail_on.map_or("never", Severity::as_str);
    let (verdict, style) = if report.fails() {
        (format!("fails the gate (--fail-on {gate})"), FAIL)
    } else {
        (format!("passes (--fail-on {gate})"), PASS)
    };
    if color {
        format!("{BOLD}{line}{RESET} — {style}{verdict}{RESET}")
    } else {
        format!("{line} — {verdict}")
    }
}

fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// [`neutralise`] for text that must stay on one line (paths, ids, titles, labels).
pub(super) fn one_line(text: &str) -> String {
    neutralise(text, false).into_owned()
}

/// Replaces control characters (but tab, and newline when `newlines`) and bidirectional
/// overrides with visible escapes (`\x1b`, `\u{202e}`), so text from a change prints as text.
pub fn neutralise(text: &str, newlines: bool) -> Cow<'_, str> {
    if !text.chars().any(|c| must_escape(c, newlines)) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            c if !must_escape(c, newlines) => out.push(c),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if u32::from(c) < 0x80 => {
                let _ = write!(out, "\\x{:02x}", u32::from(c));
            }
            c => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
        }
    }
    Cow::Owned(out)
}

fn must_escape(c: char, newlines: bool) -> bool {
    match c {
        '\t' => false,
        '\n' => !newlines,
        // Bidirectional marks and overrides: they reorder what the reader sees ("trojan source").
        '\u{061c}'
        | '\u{200e}'
        | '\u{200f}'
        | '\u{202a}'..='\u{202e}'
        | '\u{2066}'..='\u{2069}' => true,
        // C0, DEL and C1 controls: ESC starts a terminal sequence, and 0x9b is a one-byte CSI.
        c => c.is_control(),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::finding::{Snippet as FindingSnippet, fingerprint};

    fn finding(rule_id: &str, severity: Severity) -> Finding {
        Finding {
            rule_id: rule_id.into(),
            title: "A new migration needs a deploy step".into(),
            severity,
            category: "migration".into(),
            message: "payments/migrations/0002_gateway_config.py adds a migration; in \
                      2019-07 one ran by hand after the code that needed it"
                .into(),
            ask: "Does this migration have to run before the new code starts?".into(),
            findings: vec!["2019-07-payments-config-missing#F2".into()].into(),
            path: None,
            line: None,
            old_side: false,
            matched: None,
            fingerprint: fingerprint(rule_id, None, None),
            snippet: None,
            acknowledged: None,
            operation: None,
            subject: None,
        }
    }

    fn line_finding() -> Finding {
        let mut f = finding("new-migration-needs-deploy-step", Severity::Error);
        f.path = Some("payments/migrations/0002_gateway_config.py".into());
        f.line = Some(3);
        f.matched = Some("class Migration(migrations.Migration):".into());
        f.snippet = Some(FindingSnippet {
            line_start: 1,
            text: "# Generated by Django 2.2\nfrom django.db import migrations\n\
                   class Migration(migrations.Migration):\n    dependencies = [(\"payments\", \"0001\")]\n    operations = []"
                .into(),
        });
        f
    }

    fn report(findings: Vec<Finding>) -> Report {
        Report {
            description: "merge base of HEAD and origin/main (3f9c2e1) → working tree".into(),
            findings,
            unused_acks: Vec::new(),
            warnings: Vec::new(),
            files_checked: 14,
            rules_checked: 23,
            elapsed: Duration::from_millis(40),
            fail_on: Some(Severity::Error),
            removed_line_anchors: Default::default(),
        }
    }

    fn plain(findings: Vec<Finding>) -> String {
        render(&report(findings), false)
    }

    #[test]
    fn line_finding_with_snippet() {
        insta::assert_snapshot!(plain(vec![line_finding()]));
    }

    #[test]
    fn line_finding_without_snippet_shows_the_matched_line() {
        let mut f = line_finding();
        f.snippet = None;
        f.matched = Some("    ALTER TABLE payments ADD COLUMN gateway text NOT NULL;".into());
        f.line = Some(41);
        insta::assert_snapshot!(plain(vec![f]));
    }

    #[test]
    fn removed_line_finding() {
        let mut f = finding("dropped-column", Severity::Warning);
        f.title = "A column is dropped while old code may still read it".into();
        f.message =
            "db/schema.sql drops `gateway`; hosts still running the old code read it".into();
        f.ask = "Has every reader of this column been deployed without it?".into();
        f.path = Some("db/schema.sql".into());
        f.line = Some(12);
        f.old_side = true;
        f.matched = Some("gateway text NOT NULL,".into());
        let out = plain(vec![f]);
        assert!(!out.contains("db/schema.sql:12"), "{out}");
        insta::assert_snapshot!(out);
    }

    #[test]
    fn path_only_finding() {
        let mut f = finding("global-config-change", Severity::Warning);
        f.title = "A change to a component that reaches every host at once".into();
        f.message = "config/feature_flags.yaml belongs to `edge`, which rolls out globally".into();
        f.ask = "Can this change go out to a few hosts first?".into();
        f.path = Some("config/feature_flags.yaml".into());
        insta::assert_snapshot!(plain(vec![f]));
    }

    #[test]
    fn change_wide_finding() {
        let mut f = finding("too-many-components", Severity::Note);
        f.title = "This change touches 5 components".into();
        f.message = "api, worker, billing, edge and payments all deploy from this change".into();
        f.ask = "Can it be split so each part rolls out on its own?".into();
        f.findings = vec![
            "2019-07-payments-config-missing#F1".into(),
            "2021-03-edge-outage#F4".into(),
        ]
        .into();
        insta::assert_snapshot!(plain(vec![f]));
    }

    #[test]
    fn acknowledged_finding() {
        let mut f = line_finding();
        f.acknowledged = Some(Box::new(Acknowledgement {
            rule_id: f.rule_id.to_string(),
            reason: "runs in the pre-deploy job, see deploy/pre.sh".into(),
            source: AckSource::Trailer {
                commit: "3f9c2e1a7b0c44d1e2f3".into(),
            },
        }));
        let out = plain(vec![f]);
        assert!(
            out.starts_with("acknowledged[new-migration-needs-deploy-step]"),
            "{out}"
        );
        assert!(!out.contains("error["), "{out}");
        insta::assert_snapshot!(out);
    }

    #[test]
    fn unused_acknowledgement() {
        let mut r = report(Vec::new());
        r.unused_acks = vec![
            Acknowledgement {
                rule_id: "new-migraton-needs-deploy-step".into(),
                reason: "handled".into(),
                source: AckSource::CommandLine,
            },
            Acknowledgement {
                rule_id: "k8s-recreate".into(),
                reason: "one replica".into(),
                source: AckSource::Trailer {
                    commit: "3f9c2e1a7b0c44d1e2f3".into(),
                },
            },
        ];
        insta::assert_snapshot!(render(&r, false));
    }

    #[test]
    fn warnings() {
        let mut r = report(vec![line_finding()]);
        r.warnings = vec![
            "`Forewarn-Ack: dropped-column` in commit 3f9c2e1a has no reason and was refused"
                .into(),
            "forewarn.toml: [rules.severity] names `no-such-rule`, which no pack defines".into(),
        ];
        insta::assert_snapshot!(render(&r, false));
    }

    #[test]
    fn summary_without_findings() {
        let mut r = report(Vec::new());
        r.elapsed = Duration::from_millis(7);
        insta::assert_snapshot!(render(&r, false));
    }

    #[test]
    fn summary_with_findings() {
        let mut ack = line_finding();
        ack.rule_id = "migration-without-schema-dump".into();
        ack.acknowledged = Some(Box::new(Acknowledgement {
            rule_id: ack.rule_id.to_string(),
            reason: "schema dump is generated in CI".into(),
            source: AckSource::CommandLine,
        }));
        ack.title = "A migration without its schema dump".into();
        ack.message = "payments/migrations/0002_gateway_config.py changes the schema".into();
        let mut warning = finding("global-config-change", Severity::Warning);
        warning.title = "A change to a component that reaches every host at once".into();
        warning.message = "config/feature_flags.yaml belongs to `edge`".into();
        warning.path = Some("config/feature_flags.yaml".into());
        let mut wide = finding("too-many-components", Severity::Error);
        wide.title = "This change touches 5 components".into();
        wide.message = "api, worker, billing, edge and payments deploy together".into();
        let r = report(vec![line_finding(), ack, warning, wide]);
        let out = render(&r, false);
        let last = out.lines().last().unwrap_or_default();
        assert_eq!(
            last,
            "forewarn: 2 errors, 1 warning, 0 notes, 1 acknowledged · 14 files checked · \
             23 rules · 0.04s — fails the gate (--fail-on error)"
        );
        insta::assert_snapshot!(out);
    }

    #[test]
    fn summary_says_when_the_gate_passes() {
        let mut r = report(vec![finding("too-many-components", Severity::Warning)]);
        assert!(render(&r, false).ends_with("— passes (--fail-on error)\n"));
        r.fail_on = None;
        assert!(render(&r, false).ends_with("— passes (--fail-on never)\n"));
        r.fail_on = Some(Severity::Warning);
        assert!(render(&r, false).ends_with("— fails the gate (--fail-on warning)\n"));
    }

    fn everything() -> Report {
        let mut removed = line_finding();
        removed.old_side = true;
        removed.snippet = None;
        let mut path_only = finding("global-config-change", Severity::Warning);
        path_only.path = Some("config/feature_flags.yaml".into());
        let mut r = report(vec![
            line_finding(),
            removed,
            path_only,
            finding("too-many-components", Severity::Note),
        ]);
        r.unused_acks = vec![Acknowledgement {
            rule_id: "x".into(),
            reason: "y".into(),
            source: AckSource::CommandLine,
        }];
        r.warnings = vec!["a warning".into()];
        r
    }

    #[test]
    fn plain_mode_has_no_escape_sequences_and_styled_mode_has_them() {
        let r = everything();
        let plain = render(&r, false);
        assert!(!plain.contains('\x1b'), "{plain}");
        let styled = render(&r, true);
        assert!(styled.contains('\x1b'), "{styled}");
        let empty = render(&report(Vec::new()), false);
        assert!(!empty.contains('\x1b'));
    }

    /// Every ESC in styled output starts a colour sequence (`ESC [ digits ; m`), nothing else.
    fn only_sgr_sequences(out: &str) -> bool {
        let mut rest = out;
        while let Some(at) = rest.find('\x1b') {
            let tail = &rest[at + 1..];
            let Some(body) = tail.strip_prefix('[') else {
                return false;
            };
            let end = body
                .find(|c: char| !(c.is_ascii_digit() || c == ';'))
                .unwrap_or(body.len());
            if !body[end..].starts_with('m') {
                return false;
            }
            rest = &body[end + 1..];
        }
        true
    }

    #[test]
    fn hostile_text_is_neutralised_in_both_modes() {
        let hostile = "\x1b[2J\x1b]0;pwned\x07\u{9b}31m\u{202e}";
        let mut f = line_finding();
        f.rule_id = format!("rule{hostile}").into();
        f.title = format!("title {hostile}").into();
        f.message = format!("message {hostile}");
        f.ask = format!("ask {hostile}\nsecond line").into();
        f.findings = vec![format!("A#F1{hostile}")].into();
        f.path = Some(format!("evil{hostile}\n.py").into());
        f.matched = Some(format!("matched {hostile}"));
        f.snippet = Some(FindingSnippet {
            line_start: 2,
            text: format!("before {hostile}\nline {hostile}\r\nafter").into(),
        });
        let mut removed = f.clone();
        removed.old_side = true;
        let mut path_only = f.clone();
        path_only.line = None;
        let mut acked = f.clone();
        acked.acknowledged = Some(Box::new(Acknowledgement {
            rule_id: "r".into(),
            reason: format!("reason {hostile}"),
            source: AckSource::Trailer {
                commit: format!("abcdéééééééééé{hostile}"),
            },
        }));
        let mut r = report(vec![f, removed, path_only, acked]);
        r.unused_acks = vec![Acknowledgement {
            rule_id: format!("id{hostile}"),
            reason: "r".into(),
            source: AckSource::CommandLine,
        }];
        r.warnings = vec![format!("warning {hostile}")];

        let plain = render(&r, false);
        assert!(!plain.contains('\x1b'), "{plain}");
        assert!(
            !plain.contains('\x07') && !plain.contains('\u{9b}'),
            "{plain}"
        );
        assert!(
            !plain.contains('\u{202e}') && !plain.contains('\r'),
            "{plain}"
        );
        assert!(plain.contains("\\x1b[2J"), "{plain}");
        assert!(plain.contains("evil\\x1b[2J"), "{plain}");
        insta::assert_snapshot!(plain);
        let styled = render(&r, true);
        assert!(only_sgr_sequences(&styled), "{styled:?}");
        assert!(!styled.contains("\x1b[2J") && !styled.contains('\u{9b}'));
        assert!(!styled.contains('\u{202e}') && !styled.contains('\x07'));
    }

    #[test]
    fn a_multi_line_message_is_one_label() {
        let mut f = line_finding();
        f.message = "first part,\n  second part\r\n".into();
        let out = plain(vec![f]);
        assert!(out.contains("^ first part, second part\n"), "{out}");
    }

    #[test]
    fn neutralise_keeps_ordinary_text_and_escapes_controls() {
        assert!(matches!(neutralise("a\tb é", false), Cow::Borrowed(_)));
        assert_eq!(neutralise("a\nb", true), "a\nb");
        assert_eq!(neutralise("a\nb", false), "a\\nb");
        assert_eq!(neutralise("\x1b[31m\r\u{7f}", false), "\\x1b[31m\\r\\x7f");
        assert_eq!(neutralise("\u{9b}\u{202e}", false), "\\u{9b}\\u{202e}");
    }

    #[test]
    fn lines_outside_the_snippet_never_panic() {
        let cases: [(u32, u32, &str); 7] = [
            (100, 1, "héllo\nwörld"),
            (0, 1, "héllo"),
            (1, 5, "héllo"),
            (3, 1, ""),
            (1, 1, ""),
            (2, 1, "a\n\n"),
            (u32::MAX, u32::MAX - 1, "é\r\n  \t "),
        ];
        for (line, line_start, text) in cases {
            let mut f = line_finding();
            f.line = Some(line);
            f.snippet = Some(FindingSnippet {
                line_start,
                text: text.into(),
            });
            for matched in [None, Some(""), Some("  é  "), Some("\r")] {
                f.matched = matched.map(Into::into);
                for old_side in [false, true] {
                    f.old_side = old_side;
                    let out = render(&report(vec![f.clone()]), false);
                    assert!(out.contains("new-migration-needs-deploy-step"), "{out}");
                }
            }
        }
    }

    #[test]
    fn clamp_span_stays_inside_and_on_char_boundaries() {
        assert_eq!(clamp_span("héllo", 0..100), 0..6);
        assert_eq!(clamp_span("héllo", 2..3), 1..3);
        assert_eq!(clamp_span("héllo", 50..90), 6..6);
        assert_eq!(clamp_span("héllo", Range { start: 4, end: 1 }), 4..4);
        assert_eq!(clamp_span("", 3..9), 0..0);
    }

    #[test]
    fn content_span_skips_indentation() {
        assert_eq!(content_span("    abc  ", 10), 14..17);
        assert_eq!(content_span("   ", 2), 2..5);
        assert_eq!(content_span("", 0), 0..0);
        assert_eq!(content_span("é", 0), 0..2);
    }
}
