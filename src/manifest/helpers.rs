//! A Helm chart's named templates (`{{ define "app.selectorLabels" }}`), so a template that
//! writes a block with one (`matchLabels:` then `{{- include "app.selectorLabels" . | nindent 6
//! }}`) reads as the keys the helper writes, not as a value chosen at install time.
//!
//! Only what a helper writes as text is taken: its own `include`s of other helpers are written
//! out in turn (a `labels` helper that includes `selectorLabels`), and every other action in it
//! reads as a computed value. A helper defined in no file read, a recursion past
//! [`MAX_DEPTH`], or a body that is not a mapping once read leaves the block as it was: not
//! judged.

use std::collections::HashMap;

use super::helm::{self, Op, TEMPLATED};
use super::yaml::{self, Node, Value};

/// A chart's helpers by name: the text of each body.
pub type Helpers = HashMap<String, String>;

/// Helpers including helpers: written out this deep at most.
const MAX_DEPTH: usize = 8;

/// Adds every `define` of `text` (a `_helpers.tpl`) to `out`: its body runs to the `end` that
/// closes it, nested blocks counted.
pub fn collect(text: &str, out: &mut Helpers) {
    let actions = helm::actions(text);
    let mut at = 0;
    while at < actions.len() {
        let opened = &actions[at];
        at += 1;
        let Some(name) = defined_name(&text[opened.start + 2..opened.end - 2]) else {
            continue;
        };
        let mut depth = 1usize;
        while at < actions.len() && depth > 0 {
            match actions[at].op {
                Op::Open(_) => depth += 1,
                Op::End => depth -= 1,
                _ => {}
            }
            at += 1;
        }
        if depth > 0 {
            return;
        }
        out.insert(
            name.to_string(),
            text[opened.end..actions[at - 1].start].to_string(),
        );
    }
}

/// `x` of `define "x"`.
fn defined_name(inner: &str) -> Option<&str> {
    let body = inner.trim_start_matches('-').trim_end_matches('-').trim();
    let rest = body.strip_prefix("define")?.trim_start();
    let rest = rest.strip_prefix('"')?;
    rest.split_once('"').map(|(name, _)| name)
}

/// The helper an action writes whole: `include "x" .` or `template "x" .` (any context), with
/// only `nindent N`, `indent N` or `trim` after it.
fn included(action: &str) -> Option<&str> {
    let mut stages = helm::pipeline(action);
    let first = stages.next()?;
    let rest = first
        .strip_prefix("include ")
        .or_else(|| first.strip_prefix("template "))?
        .trim_start();
    let name = rest.strip_prefix('"')?.split_once('"')?.0;
    stages.all(helm::is_formatting).then_some(name)
}

/// The body of helper `name` with the helpers it includes on lines of their own written out,
/// each at that line's indentation.
fn expanded(name: &str, helpers: &Helpers, depth: usize) -> Option<String> {
    if depth > MAX_DEPTH {
        return None;
    }
    let body = helpers.get(name)?;
    let mut out = String::with_capacity(body.len());
    for line in body.lines() {
        let trimmed = line.trim();
        let whole_action = trimmed.starts_with("{{")
            && trimmed.ends_with("}}")
            && trimmed[2..].find("{{").is_none();
        if whole_action && included(trimmed).is_none() {
            // A branch (`if`, `with`, `range`) writes keys only on some installs, and another
            // action on a line of its own (`toYaml .Values.commonLabels`) writes keys that
            // are not known here: such a helper is not written out. A comment or a variable
            // assignment writes nothing.
            match helm::op_of(&trimmed[2..trimmed.len() - 2]) {
                Op::Silent => continue,
                _ => return None,
            }
        }
        match whole_action.then(|| included(trimmed)).flatten() {
            Some(inner) => {
                let text = expanded(inner, helpers, depth + 1)?;
                let indent = line.len() - line.trim_start().len();
                for l in text.lines() {
                    out.push_str(&" ".repeat(indent));
                    out.push_str(l);
                    out.push('\n');
                }
            }
            None => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    Some(out)
}

/// The mapping an action writes whole with a helper of the chart, read as documents.
pub fn written(action: &str, helpers: &Helpers) -> Option<Node> {
    let text = expanded(included(action)?, helpers, 0)?;
    let template = helm::read_first_branches(&dedent(&text));
    let root = yaml::parse(&template.yaml).ok()?.into_iter().next()?.root;
    // A helper that writes only computed text (a name) is no block of keys.
    match &root.value {
        Value::Map(entries)
            if !entries.is_empty() && entries.iter().all(|(k, _)| k != TEMPLATED) =>
        {
            Some(root)
        }
        _ => None,
    }
}

/// The key of an entry that stands for the keys a helper writes, spliced into its block.
pub const SPLICED: &str = "⟨helper⟩";

/// `yaml` (a template read line for line) with each of `written` (a 0-based line of an
/// include on a line of its own, and what the helper writes) as one entry on that line, at the
/// include's indentation: `⟨helper⟩: {"k": "v", ...}`.
pub fn write_entries(
    yaml: String,
    text: &str,
    line_starts: &[usize],
    written: &[(usize, Node)],
) -> String {
    if written.is_empty() {
        return yaml;
    }
    let mut lines: Vec<String> = yaml.split('\n').map(str::to_string).collect();
    for (line, node) in written {
        let Some(slot) = lines.get_mut(*line) else {
            continue;
        };
        if !slot.trim().is_empty() {
            continue;
        }
        let start = line_starts[*line];
        let end = line_starts.get(*line + 1).copied().unwrap_or(text.len());
        let indent = indentation(&text[start..end]);
        let mut entry = format!("{}{SPLICED}: ", " ".repeat(indent));
        helm::flow(node, &mut entry);
        *slot = entry;
    }
    lines.join("\n")
}

/// Splices the keys of every [`SPLICED`] entry into the mapping that holds it, everywhere
/// under `node`. An entry whose value is no mapping is dropped.
pub fn splice(node: &mut Node) {
    match &mut node.value {
        Value::Map(entries) => {
            if entries.iter().any(|(k, _)| k == SPLICED) {
                let old = std::mem::take(entries);
                for (k, v) in old {
                    if k != SPLICED {
                        entries.push((k, v));
                        continue;
                    }
                    if let Value::Map(inner) = v.value {
                        for (ik, mut iv) in inner {
                            iv.line = v.line;
                            entries.push((ik, iv));
                        }
                    }
                }
            }
            entries.iter_mut().for_each(|(_, v)| splice(v));
        }
        Value::Seq(items) => items.iter_mut().for_each(splice),
        _ => {}
    }
}

/// The column a helper's keys start at, included on `line` (a line of its own): `nindent N`
/// writes them at N, `indent N` at N past where the action starts (past the start of the line
/// when `{{-` trims the indentation before it), neither where it starts.
fn indentation(line: &str) -> usize {
    // `{{-` trims the line's own indentation: what the helper writes starts on a line of its
    // own (its body begins with a newline), indented by `indent` alone.
    let leading = if line.trim_start().starts_with("{{-") {
        0
    } else {
        line.chars().take_while(|c| *c == ' ').count()
    };
    let mut column = leading;
    for stage in line.trim().split('|').skip(1) {
        let stage = stage.trim().trim_end_matches('}').trim_end_matches('-');
        let mut words = stage.split_whitespace();
        match (
            words.next(),
            words.next().and_then(|n| n.parse::<usize>().ok()),
        ) {
            (Some("nindent"), Some(n)) => column = n,
            (Some("indent"), Some(n)) => column = leading + n,
            _ => {}
        }
    }
    column
}

/// The text moved left by the indentation its lines share.
fn dedent(text: &str) -> String {
    let common = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    text.lines()
        .map(|l| l.get(common..).unwrap_or(l.trim_start()))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    const HELPERS: &str = r#"{{/* Selector labels */}}
{{- define "app.selectorLabels" -}}
app.kubernetes.io/name: {{ include "app.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "app.labels" -}}
helm.sh/chart: {{ include "app.chart" . }}
{{ include "app.selectorLabels" . }}
{{- if .Chart.AppVersion }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end }}
{{- end }}

{{- define "app.common" -}}
{{- /* the chart's and the selector's */ -}}
helm.sh/chart: {{ include "app.chart" . }}
{{ include "app.selectorLabels" . }}
{{- end }}

{{- define "app.extra" -}}
a: b
{{ toYaml .Values.commonLabels }}
{{- end }}

{{- define "app.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 }}
{{- end }}
"#;

    fn keys(node: &Node) -> Vec<String> {
        match &node.value {
            Value::Map(entries) => entries.iter().map(|(k, _)| k.clone()).collect(),
            _ => Vec::new(),
        }
    }

    #[test]
    fn helpers_are_collected_with_their_nested_blocks() {
        let mut h = Helpers::new();
        collect(HELPERS, &mut h);
        assert_eq!(h.len(), 5);
        assert!(h["app.labels"].contains("app.kubernetes.io/version"));
        assert!(h["app.labels"].contains("{{- end }}"));
    }

    #[test]
    fn an_included_helper_reads_as_the_keys_it_writes_including_nested_helpers() {
        let mut h = Helpers::new();
        collect(HELPERS, &mut h);
        let sel = written(r#"{{- include "app.selectorLabels" . | nindent 6 }}"#, &h).unwrap();
        assert_eq!(
            keys(&sel),
            ["app.kubernetes.io/name", "app.kubernetes.io/instance"]
        );
        let labels = written(r#"{{ include "app.common" . | indent 4 }}"#, &h).unwrap();
        assert_eq!(
            keys(&labels),
            [
                "helm.sh/chart",
                "app.kubernetes.io/name",
                "app.kubernetes.io/instance"
            ]
        );
        // Keys written only on some installs, or from values: not known, so not written out.
        assert!(written(r#"{{ include "app.labels" . | indent 4 }}"#, &h).is_none());
        assert!(written(r#"{{ include "app.extra" . | indent 4 }}"#, &h).is_none());
        // A helper that writes a name, one not defined, one used with a function: not a block.
        assert!(written(r#"{{ include "app.name" . }}"#, &h).is_none());
        assert!(written(r#"{{ include "missing" . | nindent 4 }}"#, &h).is_none());
        assert!(written(r#"{{ include "app.labels" . | upper }}"#, &h).is_none());
    }

    #[test]
    fn the_keys_of_an_included_helper_start_where_its_indentation_puts_them() {
        assert_eq!(indentation(r#"{{ include "x" . | indent 4 }}"#), 4);
        assert_eq!(indentation(r#"  {{ include "x" . | indent 4 }}"#), 6);
        assert_eq!(indentation(r#"      {{- include "x" . | nindent 6 }}"#), 6);
        assert_eq!(
            indentation(r#"    {{- include "x" . | nindent 8 | trim }}"#),
            8
        );
        assert_eq!(indentation(r#"      {{- include "x" . | indent 6 }}"#), 6);
        assert_eq!(indentation(r#"    {{ include "x" . }}"#), 4);
    }

    #[test]
    fn a_helper_including_itself_is_not_written_out() {
        let mut h = Helpers::new();
        collect(
            "{{- define \"loop\" }}\na: 1\n{{ include \"loop\" . }}\n{{- end }}\n",
            &mut h,
        );
        assert!(written(r#"{{ include "loop" . | nindent 2 }}"#, &h).is_none());
    }
}
