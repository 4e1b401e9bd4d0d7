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
/// With `width` (a terminal's columns) the text below each finding is wrapped to fit; without,
/// it is left whole, for whatever reads the pipe.
pub fn render(report: &Report, color: bool, width: Option<usize>) -> String {
    let renderer = if color {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    // Each finding drawn on every thread (a migration-heavy change draws tens of thousands),
    // then joined in the report's order.
    use rayon::prelude::*;
    let drawn: Vec<String> = report
        .findings
        .par_iter()
        .map(|finding| draw(&renderer, finding, width, color))
        .collect();
    let mut out = String::with_capacity(drawn.iter().map(|d| d.len() + 2).sum::<usize>() + 256);
    for d in &drawn {
        out.push_str(d);
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

    out.push_str(&fit_summary(summary(report, color), width));
    out.push('\n');
    out
}

/// One finding as a rustc-style diagnostic: title, where, what, the question, the lessons behind
/// the rule, and how to acknowledge it (or how it was acknowledged).
/// With `placeholder`, the first note's text is [`PLACEHOLDER`] and is returned beside the group
/// with the columns of its name, for [`draw`] to put in.
fn finding_group(f: &Finding, width: Option<usize>, placeholder: bool) -> Drawing {
    let wrap = |text: &str| wrap(text, width);
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
    let text = wrap(&neutralise(&f.message, true));
    // The columns of the first note's name and `: `, when it has one.
    let mut name_columns = 0;
    let message = if placeholder {
        PLACEHOLDER.to_string()
    } else {
        text.clone()
    };

    match (f.path.as_deref(), f.line) {
        (Some(path), Some(line)) if f.old_side => {
            // A removed line is not in the new file: name the file but no new-file line, and
            // draw the line as rustc draws a removal, numbered as it was before the change.
            group = group.element(Origin::path(one_line(path)));
            let removed = one_line(f.matched.as_deref().unwrap_or("").trim());
            if removed.is_empty() {
                let name = format!("removed (line {line} before the change)");
                name_columns = name.len() + 2;
                group = group
                    .element(Padding)
                    .element(Level::NOTE.with_name(name).message(message));
            } else {
                let len = removed.len();
                group = group
                    .element(
                        Snippet::source(removed)
                            .line_start(line as usize)
                            .patch(Patch::new(0..len, "")),
                    )
                    .element(Level::NOTE.with_name("removed").message(message));
                name_columns = "removed".len() + 2;
            }
        }
        (Some(path), Some(line)) => {
            let path = one_line(path);
            // As rustc does: a short label after the marker (what matched), the explanation
            // below the snippet.
            let label = short_label(f);
            if let Some((source, line_start, span)) = snippet_source(f, line) {
                group = group
                    .element(
                        Snippet::source(source)
                            .path(path)
                            .line_start(line_start)
                            .fold(false)
                            .annotation(kind.span(span).label(label)),
                    )
                    .element(Level::NOTE.no_name().message(message));
            } else if let Some(matched) = f.matched.as_deref() {
                let source = one_line(matched.trim_end_matches('\r'));
                let span = clamp_span(&source, content_span(&source, 0));
                group = group
                    .element(
                        Snippet::source(source)
                            .path(path)
                            .line_start(line.max(1) as usize)
                            .annotation(kind.span(span).label(label)),
                    )
                    .element(Level::NOTE.no_name().message(message));
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

    let mut notes = Vec::with_capacity(2 + f.findings.len());
    if !f.ask.trim().is_empty() {
        notes.push(Note {
            level: Level::NOTE,
            name: "question".into(),
            text: wrap(&neutralise(f.ask.trim(), true)),
        });
    }
    for link in f.findings.iter() {
        notes.push(Note {
            level: Level::NOTE,
            name: "lesson".into(),
            text: one_line(link),
        });
    }
    notes.push(match ack {
        Some(ack) => Note {
            level: Level::NOTE,
            name: format!("acknowledged ({})", ack_source(&ack.source)),
            text: wrap(&neutralise(&ack.reason, true)),
        },
        None => Note {
            level: Level::HELP,
            name: "help".into(),
            text: wrap(&ack_help(f)),
        },
    });
    Drawing {
        group,
        first: (text, name_columns),
        notes,
    }
}

/// A finding ready to draw: the group annotate-snippets draws, the first note's text with the
/// columns of its name (when the group holds a placeholder for it), and the notes after it.
struct Drawing {
    group: Group<'static>,
    first: (String, usize),
    notes: Vec<Note>,
}

/// What the group holds in place of the first note's text: one column wide, and a character
/// [`neutralise`] leaves as it is, so [`draw`] checks that it occurs once.
const PLACEHOLDER: &str = "\u{e000}";

/// A note drawn below a finding's first one: `= name: text`.
struct Note {
    level: Level<'static>,
    name: String,
    text: String,
}

/// Draws a finding: the group by annotate-snippets, then the text of its first note and the notes
/// after it. Those are put in here as annotate-snippets draws them (the same columns and escape
/// sequences): drawing their text there was most of the time of a change with tens of thousands
/// of findings. Where the columns cannot be told (the placeholder is not found once on a note
/// line) or a name is not plain ASCII, the library draws everything.
fn draw(renderer: &Renderer, f: &Finding, width: Option<usize>, color: bool) -> String {
    let library = || {
        let Drawing { group, notes, .. } = finding_group(f, width, false);
        renderer.render(&[with_notes(group, notes)])
    };
    let Drawing {
        group,
        first: (text, name_columns),
        notes,
    } = finding_group(f, width, true);
    if notes.iter().any(|n| !n.name.is_ascii()) {
        return library();
    }
    let drawn = renderer.render(&[group]);
    let Some(indent) = note_indent(&drawn, color) else {
        return library();
    };
    let mut places = drawn.match_indices(PLACEHOLDER);
    let (Some((at, _)), None) = (places.next(), places.next()) else {
        return library();
    };
    let (line_number, emphasis) = if color {
        (
            annotate_snippets::renderer::DEFAULT_LINE_NUM_STYLE,
            annotate_snippets::renderer::DEFAULT_EMPHASIS_STYLE,
        )
    } else {
        (Default::default(), Default::default())
    };
    let mut out = String::with_capacity(
        drawn.len()
            + text.len()
            + notes
                .iter()
                .map(|n| n.text.len() + n.name.len() + 32)
                .sum::<usize>(),
    );
    // Continuation lines line up under the text: the gutter, `= `, the name and `: `.
    let put = |out: &mut String, text: &str, padding: usize| {
        for (i, line) in text.split('\n').enumerate() {
            if i > 0 {
                out.push('\n');
                out.extend(std::iter::repeat_n(' ', padding));
            }
            out.push_str(line);
        }
    };
    out.push_str(&drawn[..at]);
    put(&mut out, &text, indent + 2 + name_columns);
    out.push_str(&drawn[at + PLACEHOLDER.len()..]);
    for note in &notes {
        out.push('\n');
        out.extend(std::iter::repeat_n(' ', indent));
        let _ = write!(out, "{line_number}= {line_number:#}");
        let _ = write!(out, "{emphasis}{}{emphasis:#}: ", note.name);
        put(&mut out, &note.text, indent + 2 + note.name.len() + 2);
    }
    out
}

/// The group with its further notes as elements, for annotate-snippets to draw.
fn with_notes(mut group: Group<'static>, notes: Vec<Note>) -> Group<'static> {
    for note in notes {
        group = group.element(note.level.with_name(note.name).message(note.text));
    }
    group
}

/// The columns before `= ` on the first note line of a drawn group (the gutter's width and a
/// space), or `None` when it has no note line.
fn note_indent(drawn: &str, color: bool) -> Option<usize> {
    // The separator as the styled renderer writes it, made once for every finding.
    static STYLED: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let separator = if color {
        STYLED.get_or_init(|| {
            format!(
                "{}= ",
                annotate_snippets::renderer::DEFAULT_LINE_NUM_STYLE.render()
            )
        })
    } else {
        "= "
    };
    drawn.split('\n').find_map(|line| {
        let rest = line.trim_start_matches(' ');
        rest.starts_with(separator)
            .then_some(line.len() - rest.len())
    })
}

/// What goes after the marker: the operation understood (`drop table`), or what the line is.
fn short_label(f: &Finding) -> String {
    match f.operation {
        Some(op) => op.replace('-', " "),
        None if f.acknowledged.is_some() => "acknowledged".into(),
        None => "this line".into(),
    }
}

/// The summary line broken before ` · ` and ` — ` where it would overflow `width`.
fn fit_summary(line: String, width: Option<usize>) -> String {
    let Some(width) = width else {
        return line;
    };
    // Escape sequences take no columns.
    let visible = |s: &str| {
        let mut n = 0;
        let mut escape = false;
        for c in s.chars() {
            match (escape, c) {
                (false, '\x1b') => escape = true,
                (true, 'm') => escape = false,
                (true, _) => {}
                (false, _) => n += 1,
            }
        }
        n
    };
    if visible(&line) <= width {
        return line;
    }
    let mut out = String::new();
    let mut used = 0;
    let mut rest = line.as_str();
    while !rest.is_empty() {
        let cut = [" · ", " — "]
            .iter()
            .filter_map(|sep| rest[1..].find(sep).map(|i| i + 1))
            .min()
            .unwrap_or(rest.len());
        let (part, tail) = rest.split_at(cut);
        let len = visible(part);
        if used > 0 && used + len > width {
            out.push_str("\n ");
            used = 1;
            let part = part.trim_start();
            out.push_str(part);
            used += visible(part);
        } else {
            out.push_str(part);
            used += len;
        }
        rest = tail;
    }
    out
}

/// Columns taken by the gutter and `= note: ` before a message's text.
const MESSAGE_INDENT: usize = 14;

/// `text` wrapped at spaces to fit `width` columns after the message indent; whole when there
/// is no width. Words longer than a line are left whole (never cut mid-word).
fn wrap(text: &str, width: Option<usize>) -> String {
    let Some(width) = width else {
        return text.to_string();
    };
    let room = width.saturating_sub(MESSAGE_INDENT).max(20);
    let mut out = String::with_capacity(text.len() + 8);
    for (i, paragraph) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let mut used = 0;
        for word in paragraph.split(' ').filter(|w| !w.is_empty()) {
            let len = word.chars().count();
            if used > 0 && used + 1 + len > room {
                out.push('\n');
                used = 0;
            } else if used > 0 {
                out.push(' ');
                used += 1;
            }
            out.push_str(word);
            used += len;
        }
    }
    out
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
mod tests;
