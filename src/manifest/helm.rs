//! Helm templates made readable as YAML, with the branch each line sits in.
//!
//! A template is not YAML until Helm renders it, but most of one is: the actions (`{{ ... }}`)
//! are the only foreign part. A line made only of actions (`{{- if .Values.pdb.enabled }}`,
//! `{{- include "labels" . | nindent 4 }}`) is blanked; an action inside a value (`image:
//! "{{ .Values.image.repository }}:{{ .Values.image.tag }}"`) reads as [`TEMPLATED`]. Line
//! numbers stay those of the file. The `if`/`with`/`range` actions around each line are kept as
//! its guard, so a value inside a branch that the change opened is known as opt-in: it reaches
//! only the installs that turn it on.

use std::sync::Arc;

use super::yaml::{Node, Value};

/// What a templated part of a value reads as: a rule regex can tell `⟨tpl⟩:latest` (a tag
/// written in the template) from `⟨tpl⟩` (a value chosen at install time).
pub const TEMPLATED: &str = "⟨tpl⟩";

/// The branches a line sits in, outermost first: `if .Values.pdb.enabled`, `else of if .Values.x`.
pub type Guard = Arc<[String]>;

/// A template read for its YAML.
#[derive(Debug, Clone)]
pub struct Template {
    /// The text with actions blanked or replaced, line for line the template's.
    pub yaml: String,
    /// Guard of each line (index 0 is line 1); empty outside any branch.
    pub guards: Vec<Guard>,
    /// The 1-based lines whose value was written from the chart's default values (see
    /// [`read_with`]).
    pub default_lines: Vec<u32>,
    /// The 1-based lines of a helper written out as its keys (see [`read_chart`]).
    pub helper_lines: Vec<u32>,
    /// The lines where an action writes (part of) a value, read as [`TEMPLATED`]: by 1-based
    /// line, as the template has them (`version: {{ .Values.image.tag | default
    /// .Chart.AppVersion }}`), so a rule can tell what writes the value.
    pub written: Vec<(u32, String)>,
    /// The lines with content this reading set aside (an `else` branch, a branch the default
    /// values leave off): first and last 1-based line, and what they are.
    pub set_aside: Vec<(u32, u32, String)>,
}

impl Template {
    /// The branches around 1-based `line`.
    pub fn guard(&self, line: u32) -> Guard {
        self.guards
            .get((line as usize).saturating_sub(1))
            .cloned()
            .unwrap_or_else(|| Arc::from(Vec::new()))
    }
}

/// Whether `text` holds template actions at all.
pub fn is_templated(text: &str) -> bool {
    text.contains("{{")
}

/// An action's span in the text and what it does to the branch stack.
pub(super) struct Action {
    pub(super) start: usize,
    pub(super) end: usize,
    pub(super) op: Op,
}

pub(super) enum Op {
    Open(String),
    Else(String),
    End,
    /// An action that writes text (`include`, `toYaml`, a value).
    Output,
    /// One that writes nothing (a comment, a variable assignment).
    Silent,
}

pub(super) fn op_of(inner: &str) -> Op {
    let body = inner.trim_start_matches('-').trim_end_matches('-').trim();
    let word = body.split_whitespace().next().unwrap_or("");
    let normal = body.split_whitespace().collect::<Vec<_>>().join(" ");
    match word {
        "if" | "with" | "range" | "define" | "block" => Op::Open(normal),
        "else" => Op::Else(normal),
        "end" => Op::End,
        _ if body.starts_with("/*") || body.starts_with('$') && body.contains(":=") => Op::Silent,
        _ if body.starts_with('$') && body.contains('=') && !body.contains("==") => Op::Silent,
        _ => Op::Output,
    }
}

pub(super) fn actions(text: &str) -> Vec<Action> {
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(open) = text[at..].find("{{") {
        let start = at + open;
        // A comment (`{{/* ... */}}`, `{{- /* ... */ -}}`) ends at its `*/` and the `}}` after
        // it: text inside it may hold `{{ }}` of its own (an example written in the comment).
        let inner = text[start + 2..].trim_start_matches('-').trim_start();
        let after_comment = if inner.starts_with("/*") {
            let from = text.len() - inner.len();
            text[from + 2..].find("*/").map(|c| from + 2 + c + 2)
        } else {
            None
        };
        let search_from = after_comment.unwrap_or(start + 2);
        let Some(close) = text[search_from..]
            .find("}}")
            .map(|c| search_from - start - 2 + c)
        else {
            // An action never closed: the rest of the file is the action.
            out.push(Action {
                start,
                end: text.len(),
                op: Op::Silent,
            });
            break;
        };
        let end = start + 2 + close + 2;
        out.push(Action {
            start,
            end,
            op: op_of(&text[start + 2..end - 2]),
        });
        at = end;
    }
    out
}

/// For each line of `new` (index 0 is line 1): whether it sits in a branch (`if`, `with`,
/// `range`, `else if`) that `old` does not have, so it reaches only the installs that turn it
/// on. Helpers (`define`) are not branches: every template that includes one gets it. Used for
/// template files read as lines (`_helpers.tpl`).
pub fn opened_lines(old: Option<&str>, new: &str) -> Vec<bool> {
    let before: std::collections::BTreeSet<String> = old
        .map(|o| {
            read(o)
                .guards
                .iter()
                .flat_map(|g| g.iter().cloned())
                .collect()
        })
        .unwrap_or_default();
    read(new)
        .guards
        .iter()
        .map(|guard| guard.iter().any(|c| is_condition(c) && !before.contains(c)))
        .collect()
}

/// Whether a guard entry is a condition an install can leave off: not a helper's `define` or
/// `block`, and not a plain `else` (what every install that did not opt in gets), except the
/// `else` of an `if not X` or `if empty X`, taken only by the installs that set X.
pub(crate) fn is_condition(entry: &str) -> bool {
    let word = entry.split_whitespace().next().unwrap_or("");
    if matches!(word, "define" | "block") {
        return false;
    }
    match entry.rsplit_once(" / ") {
        None => true,
        Some((parent, branch)) => {
            branch.starts_with("else if")
                || branch.starts_with("else with")
                || branch == "else"
                    && (parent.starts_with("if not ") || parent.starts_with("if empty "))
        }
    }
}

/// Reads a template: see the module docs.
pub fn read(text: &str) -> Template {
    read_with(text, false, None)
}

/// Reads a template with its `else` branches set aside: where both branches of an `if` give
/// the same key a value (`rules:` a list, else `[]`), rendering both is not YAML, and the first
/// branch alone usually is.
pub fn read_first_branches(text: &str) -> Template {
    read_with(text, true, None)
}

/// Reads a template (its `else` branches set aside when `drop_else`), with the chart's default
/// values when they are known: a key whose whole value an action writes from them
/// (`strategy:` then `{{- toYaml .Values.strategy | nindent 4 }}`) reads as what a default
/// install gets (`strategy: {"type": "Recreate"}`, on the key's line), not as a value chosen at
/// install time. Only that shape is rendered; any other action reads as [`TEMPLATED`].
pub fn read_with(text: &str, drop_else: bool, values: Option<&Node>) -> Template {
    read_chart(
        text,
        drop_else,
        Chart {
            values,
            helpers: None,
            default_install: false,
        },
    )
}

/// What a chart gives its templates beyond their own text, on one side of the change.
#[derive(Debug, Clone, Copy, Default)]
pub struct Chart<'a> {
    /// Its default values (`values.yaml`).
    pub values: Option<&'a Node>,
    /// Its named templates (`_helpers.tpl`).
    pub helpers: Option<&'a super::helpers::Helpers>,
    /// Read only what an install with the default values renders: a branch whose condition
    /// is a value the defaults leave empty or false (`{{- with .Values.imagePullSecrets }}`)
    /// is set aside, as `else` branches are. For a template that is YAML only that way.
    pub default_install: bool,
}

impl<'a> Chart<'a> {
    /// The same chart, read as a default install renders it (see [`Chart::default_install`]).
    pub fn as_default_install(self) -> Chart<'a> {
        Chart {
            default_install: true,
            ..self
        }
    }
}

/// Reads a template as [`read_with`] does, and a key whose whole value a helper of the chart
/// writes (`matchLabels:` then `{{- include "app.selectorLabels" . | nindent 6 }}`) as the keys
/// the helper writes (see [`super::helpers`]).
pub fn read_chart(text: &str, drop_else: bool, chart: Chart<'_>) -> Template {
    let values = chart.values;
    let actions = actions(text);
    // Which lines hold nothing but actions and blanks.
    let mut line_starts = vec![0usize];
    line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
    let line_of = |offset: usize| line_starts.partition_point(|&s| s <= offset) - 1;
    let mut has_content = vec![false; line_starts.len()];
    {
        let mut i = 0;
        for (offset, c) in text.char_indices() {
            while i < actions.len() && actions[i].end <= offset {
                i += 1;
            }
            let inside = i < actions.len() && actions[i].start <= offset;
            if !inside && !c.is_whitespace() {
                has_content[line_of(offset)] = true;
            }
        }
    }
    let mut yaml = String::with_capacity(text.len());
    let mut guards: Vec<Guard> = Vec::with_capacity(line_starts.len());
    let mut stack: Vec<String> = Vec::new();
    let mut current: Guard = Arc::from(Vec::new());
    let mut action = 0;
    for (line, &start) in line_starts.iter().enumerate() {
        let end = line_starts.get(line + 1).copied().unwrap_or(text.len());
        // The guard of a line is the branch stack where its content starts.
        let content_at = text[start..end]
            .char_indices()
            .find(|(_, c)| !c.is_whitespace())
            .map(|(i, _)| start + i)
            .unwrap_or(end);
        while action < actions.len() && actions[action].start < content_at {
            apply(&actions[action].op, &mut stack, &mut current);
            action += 1;
        }
        guards.push(current.clone());
    }
    // Lines set aside are kept, by range, with what they are: a change in them was not read.
    let mut set_aside: Vec<(u32, u32, String)> = Vec::new();
    let mut aside = |line: usize, has: &mut bool, what: String| {
        if !std::mem::replace(has, false) {
            return;
        }
        let n = line as u32 + 1;
        match set_aside.last_mut() {
            Some((_, last, w)) if *last + 1 == n && *w == what => *last = n,
            _ => set_aside.push((n, n, what)),
        }
    };
    if drop_else {
        for (line, guard) in guards.iter().enumerate() {
            if let Some(c) = guard.iter().find(|c| c.contains(" / ")) {
                let what = format!(
                    "the `else` branch of `{}`, set aside because the template is YAML only with its first branches",
                    c.split(" / ").next().unwrap_or(c)
                );
                aside(line, &mut has_content[line], what);
            }
        }
    }
    if let Some(values) = values.filter(|_| chart.default_install) {
        for (line, guard) in guards.iter().enumerate() {
            if let Some(c) = guard.iter().find(|c| off_by_default(c, values)) {
                let what = format!("the branch `{c}`, which the chart's default values leave off");
                aside(line, &mut has_content[line], what);
            }
        }
    }
    // Second pass: write the text with actions replaced. A line of nothing but actions is left
    // empty (not blanks: spaces would count as indentation inside a block scalar).
    let after_key: Vec<bool> = actions
        .iter()
        .map(|a| renders_block_after_key(text, a))
        .collect();
    let mut at = 0;
    let mut written_lines: Vec<usize> = Vec::new();
    for (a, &after_key) in actions.iter().zip(&after_key) {
        push_plain(&mut yaml, &text[at..a.start], &has_content, &line_of, at);
        let control =
            (line_of(a.start)..=line_of(a.end.saturating_sub(1))).all(|l| !has_content[l]);
        let span = &text[a.start..a.end];
        if !control && !after_key {
            yaml.push_str(TEMPLATED);
            written_lines.push(line_of(a.start));
        }
        yaml.extend(span.chars().filter(|&c| c == '\n'));
        at = a.end;
    }
    push_plain(&mut yaml, &text[at..], &has_content, &line_of, at);
    written_lines.dedup();
    let written = written_lines
        .into_iter()
        .map(|l| {
            let end = line_starts.get(l + 1).copied().unwrap_or(text.len());
            (
                l as u32 + 1,
                text[line_starts[l]..end].trim_end().to_string(),
            )
        })
        .collect();
    // A value written on the lines after its key: by an action on a line of its own, or by one
    // that ends the key's line and indents what it writes (`startupProbe: {{- include "x" . |
    // nindent 12 }}`). The key is looked for above the first, on the line itself for the second.
    // A helper written on a line of its own among a block's keys (`matchLabels:`, a key of its
    // own, then `{{- include "app.selectorLabels" . | indent 6 }}`): its keys read as one entry
    // that the reading splices into the block (see `super::helpers::splice`).
    let helper_lines: Vec<(usize, Node)> = match chart.helpers {
        Some(helpers) => actions
            .iter()
            .zip(&after_key)
            .filter(|(a, after_key)| {
                matches!(a.op, Op::Output)
                    && !**after_key
                    && !has_content[line_of(a.start)]
                    && line_of(a.start) == line_of(a.end.saturating_sub(1))
            })
            .filter_map(|(a, _)| {
                Some((
                    line_of(a.start),
                    super::helpers::written(&text[a.start..a.end], helpers)?,
                ))
            })
            .collect(),
        None => Vec::new(),
    };
    let injected: Vec<(usize, Option<(Node, bool)>)> = actions
        .iter()
        .zip(&after_key)
        .filter(|(a, after_key)| {
            matches!(a.op, Op::Output)
                && (!has_content[line_of(a.start)] || **after_key)
                && !helper_lines.iter().any(|(l, _)| *l == line_of(a.start))
        })
        .map(|(a, after_key)| {
            let action = &text[a.start..a.end];
            // From the values (a line marked as a default's), or written by a helper on the
            // key's line (one on a line of its own is spliced into the block, below).
            let default = values
                .and_then(|v| values_written(action, v))
                .map(|n| (n.clone(), true))
                .or_else(|| {
                    let helpers = chart.helpers.filter(|_| *after_key)?;
                    super::helpers::written(action, helpers).map(|n| (n, false))
                });
            let line = line_of(a.start);
            // Where the key is looked for (the lines above this index), and the children (from
            // the line after the action's).
            (if has_content[line] { line + 1 } else { line }, default)
        })
        .collect();
    // The helpers' entries first: a block they write keys into has children, so an action
    // after them (`{{- toYaml .Values.podLabels | nindent 8 }}`) adds to it, not a value.
    let yaml = super::helpers::write_entries(yaml, text, &line_starts, &helper_lines);
    let (yaml, default_lines) = mark_injected_values(yaml, &injected);
    let yaml = items_rendered_as_mappings(yaml);
    Template {
        yaml,
        guards,
        default_lines,
        helper_lines: helper_lines.iter().map(|(l, _)| *l as u32 + 1).collect(),
        written,
        set_aside,
    }
}

/// Whether a branch is one an install with the default values does not take: `if`, `with`
/// or `range` of a plain `.Values` path that the defaults leave out, null, false, zero or
/// empty. Anything else (a function, a comparison, an `else`) is not known, so not set aside.
fn off_by_default(condition: &str, values: &Node) -> bool {
    let mut words = condition.split_whitespace();
    let (Some("if" | "with" | "range"), Some(path), None) =
        (words.next(), words.next(), words.next())
    else {
        return false;
    };
    let Some(keys) = path.strip_prefix(".Values.") else {
        return false;
    };
    let keys: Vec<&str> = keys.split('.').collect();
    if keys.iter().any(|k| k.is_empty()) {
        return false;
    }
    match values.at(&keys).map(|n| &n.value) {
        None | Some(Value::Null) => true,
        Some(Value::Scalar(s)) => {
            matches!(s.trim(), "" | "false" | "0" | "~" | "null" | "\"\"" | "''")
        }
        Some(Value::Seq(items)) => items.is_empty(),
        Some(Value::Map(entries)) => entries.is_empty(),
    }
}

/// Whether an action ends a key's line (`key: {{ ... | nindent N }}`) and writes its value on
/// the lines after it: it reads as nothing there, and the key's value is what follows (or
/// [`TEMPLATED`], when nothing of its own does).
fn renders_block_after_key(text: &str, a: &Action) -> bool {
    if !matches!(a.op, Op::Output) {
        return false;
    }
    let line_start = text[..a.start].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[a.end..].find('\n').map_or(text.len(), |i| a.end + i);
    let before = text[line_start..a.start].trim_end();
    let after = text[a.end..line_end].trim();
    let body = &text[a.start..a.end];
    before.ends_with(':')
        && !before.trim_start().starts_with('#')
        && !before.trim_start().starts_with('-')
        && after.is_empty()
        && body.contains("nindent")
}

/// The default value an action writes whole from the chart's values: `toYaml .Values.a.b`
/// or `.Values.a.b | toYaml`, with only formatting after it (`nindent`, `indent`, `trim`).
/// `None` for anything else (a helper, a condition, a value with a default of its own).
fn values_written<'v>(action: &str, values: &'v Node) -> Option<&'v Node> {
    let mut stages = pipeline(action);
    let first = stages.next()?;
    let path = match first.strip_prefix("toYaml ") {
        Some(rest) => rest.trim(),
        None => {
            let next = stages.next()?;
            (next == "toYaml").then_some(first)?
        }
    };
    if !stages.all(is_formatting) {
        return None;
    }
    let keys: Vec<&str> = path.strip_prefix(".Values.")?.split('.').collect();
    if keys.iter().any(|k| {
        k.is_empty()
            || !k
                .chars()
                .all(|c| c.is_alphanumeric() || c == '_' || c == '-')
    }) {
        return None;
    }
    values
        .at(&keys)
        .filter(|v| matches!(v.value, Value::Map(_)))
}

/// The stages of an action's pipeline (`{{- toYaml .Values.x | nindent 4 }}`: `toYaml
/// .Values.x`, `nindent 4`), trimmed.
pub(super) fn pipeline(action: &str) -> impl Iterator<Item = &str> {
    action
        .trim_start_matches("{{")
        .trim_end_matches("}}")
        .trim_matches('-')
        .trim()
        .split('|')
        .map(str::trim)
}

/// Whether a pipeline stage only lays out what the stages before it wrote: `nindent N`,
/// `indent N`, `trim`.
pub(super) fn is_formatting(stage: &str) -> bool {
    let mut words = stage.split_whitespace();
    matches!(words.next(), Some("nindent" | "indent" | "trim"))
        && words.all(|a| a.parse::<u32>().is_ok())
}

/// A mapping or list as one line of flow YAML, every scalar quoted.
pub(super) fn flow(node: &Node, out: &mut String) {
    let quoted = |s: &str, out: &mut String| {
        out.push('"');
        for c in s.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                c if c.is_control() => {}
                c => out.push(c),
            }
        }
        out.push('"');
    };
    match &node.value {
        Value::Null => out.push_str("null"),
        Value::Scalar(s) => quoted(s, out),
        Value::Seq(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                flow(item, out);
            }
            out.push(']');
        }
        Value::Map(entries) => {
            out.push('{');
            for (i, (k, v)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                quoted(k, out);
                out.push_str(": ");
                flow(v, out);
            }
            out.push('}');
        }
    }
}

/// A list item written by an action and continued by keys of its own
/// (`- {{ toYaml $constraint | nindent 8 | trim }}` then `labelSelector:` under it) is a
/// mapping Helm renders: it reads as one, so the keys after it are its keys, not YAML's error.
fn items_rendered_as_mappings(yaml: String) -> String {
    let item = format!("- {TEMPLATED}");
    if !yaml.contains(&item) {
        return yaml;
    }
    let mut lines: Vec<String> = yaml.split('\n').map(str::to_string).collect();
    let indent = |l: &str| l.len() - l.trim_start().len();
    for at in 0..lines.len() {
        if lines[at].trim() != item {
            continue;
        }
        let Some(next) = (at + 1..lines.len()).find(|&l| !lines[l].trim().is_empty()) else {
            continue;
        };
        let key_column = indent(&lines[at]) + 2;
        let next_line = lines[next].trim_start();
        let is_key = !next_line.starts_with('-')
            && !next_line.starts_with('#')
            && next_line
                .split_once(':')
                .is_some_and(|(k, v)| !k.contains(' ') && (v.is_empty() || v.starts_with(' ')));
        if indent(&lines[next]) == key_column && is_key {
            let marked = format!(
                "{}- {TEMPLATED}: {TEMPLATED}",
                " ".repeat(indent(&lines[at]))
            );
            lines[at] = marked;
        }
    }
    lines.join("\n")
}

/// A key with no value followed by a line that an action fills (`readinessProbe:` then
/// `{{- toYaml .Values.readinessProbe | nindent 12 }}`) has a value chosen at install time, not
/// none: it reads as [`TEMPLATED`] when no child of its own follows.
fn mark_injected_values(
    yaml: String,
    injected: &[(usize, Option<(Node, bool)>)],
) -> (String, Vec<u32>) {
    let mut used = Vec::new();
    if injected.is_empty() {
        return (yaml, used);
    }
    let mut lines: Vec<String> = yaml.split('\n').map(str::to_string).collect();
    let indent = |l: &str| l.len() - l.trim_start().len();
    for (at, default) in injected {
        let at = *at;
        let Some(key) = (0..at).rev().find(|&l| !lines[l].trim().is_empty()) else {
            continue;
        };
        let trimmed = lines[key].trim_end();
        if !trimmed.ends_with(':') || trimmed.trim_start().starts_with('#') {
            continue;
        }
        // The children start after the action's line; `at` is that line for an action on a line
        // of its own, the line after the key for one that ends the key's line.
        let children_from = if key + 1 == at { at } else { at + 1 };
        let next = (children_from..lines.len()).find(|&l| !lines[l].trim().is_empty());
        let has_child = next.is_some_and(|n| {
            indent(&lines[n]) > indent(&lines[key])
                || lines[n].trim_start().starts_with('-')
                    && indent(&lines[n]) == indent(&lines[key])
        });
        if !has_child {
            let mut marked = format!("{trimmed} ");
            match default {
                Some((value, from_values)) => {
                    flow(value, &mut marked);
                    if *from_values {
                        used.push(key as u32 + 1);
                    }
                }
                None => marked.push_str(TEMPLATED),
            }
            lines[key] = marked;
        }
    }
    (lines.join("\n"), used)
}

/// Copies text outside actions, dropping it on lines that hold only actions and blanks.
fn push_plain(
    out: &mut String,
    part: &str,
    has_content: &[bool],
    line_of: &dyn Fn(usize) -> usize,
    offset: usize,
) {
    for (i, c) in part.char_indices() {
        if c == '\n' || has_content[line_of(offset + i)] {
            out.push(c);
        }
    }
}

fn apply(op: &Op, stack: &mut Vec<String>, current: &mut Guard) {
    match op {
        Op::Open(cond) => stack.push(cond.clone()),
        Op::Else(cond) => {
            if let Some(top) = stack.last_mut() {
                let base = top.split(" / ").next().unwrap_or("").to_string();
                *top = format!("{base} / {cond}");
            }
        }
        Op::End => {
            stack.pop();
        }
        Op::Output | Op::Silent => return,
    }
    *current = Arc::from(stack.clone());
}

/// The lines whose action renders a block from a helper or from values (`include`, `template`,
/// `toYaml`), each normalized as keys compare: a key a template stopped writing itself may be
/// written by one of them (`{{- include "loki.ingester.readinessProbe" . | nindent 10 }}`).
pub fn rendering_actions(text: &str) -> Vec<(u32, String)> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| {
            l.contains("{{")
                && (l.contains("include") || l.contains("template") || l.contains("toYaml"))
        })
        .map(|(i, l)| (i as u32 + 1, super::path::normalize(l)))
        .collect()
}

#[cfg(test)]
mod tests;
