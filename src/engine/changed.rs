//! The `changed` comparison of document rules: two values compared as documents (mappings by
//! key in any order, lists item by item), with what a template computes or a helper writes
//! left unjudged, and Terraform expressions compared without their layout.

use super::document::opt_in;
use crate::manifest::compare::{File, Located};
use crate::manifest::{Node, TEMPLATED, defaults};

/// The new side's lines where the value differs from the old one, outside a branch the change
/// opened (an opt-in `selector:` under `{{- with .Values.persistence.selector }}` reaches no
/// install by default); empty when it does not differ.
pub(super) fn differing_lines(
    files: &[File<'_>],
    at: &str,
    (old, o): (&Located<'_>, &Node),
    (new, n): (&Located<'_>, &Node),
) -> Vec<u32> {
    // A block a helper or the values write part of (`{{- include "app.selector" . | nindent
    // 6 }}` among its keys) is not known whole on that side: a key written out that it lost
    // may be one the helper now writes, so only keys and values written out on both sides
    // are compared.
    let partial = renders_within(old, o) || renders_within(new, n);
    let hcl = new.parsed.format.is_hcl();
    let mut lines = Vec::new();
    let mut trail = keys_of(at);
    differences(o, n, Reading { partial, hcl }, &mut trail, &mut lines);
    lines.retain(|&line| !opt_in(files, new, line));
    lines
}

/// Where two values differ as documents, by the new side's lines: mappings by their keys (in
/// any order) and values, lists item by item. A value the template computes (⟨tpl⟩) could be
/// anything, so it differs from nothing, unless what the template writes around it changed
/// with as many computed parts (`⟨tpl⟩` becoming `⟨tpl⟩-headless`). A mapping with a computed
/// key is not judged, and neither are `apiVersion` and `kind` (an embedded object's type, which
/// the API server fills in) or `status`, nor a key added or removed with the value the API
/// server stores when it is left out (`volumeMode: Filesystem` in a claim template:
/// rules/data/kubernetes-defaults.toml). `trail` is the keys from the object's root to `old`
/// and `new` (`*` for a list item).
fn differences(
    old: &Node,
    new: &Node,
    reading: Reading,
    trail: &mut Vec<String>,
    out: &mut Vec<u32>,
) {
    let Reading { partial, hcl } = reading;
    use crate::manifest::Value;
    let computed = |n: &Node| n.as_str().map_or(0, |s| s.matches(TEMPLATED).count());
    match (computed(old), computed(new)) {
        (0, 0) => {}
        (a, b) => {
            if a == b && old.as_str() != new.as_str() {
                out.push(new.line);
            }
            return;
        }
    }
    let ignored = |k: &str| matches!(k, "apiVersion" | "kind" | "status");
    // Terraform: null or an empty value (`""`, `[]`, `{}`) on either side says "not set": the
    // module or the provider decides what that means, most often what the other side wrote
    // out (a default made explicit, or left to the provider). Only two values set differ.
    let empty = |n: &Node| match &n.value {
        Value::Null => true,
        Value::Scalar(s) => matches!(squashed(s).as_str(), "" | "\"\"" | "[]" | "{}" | "null"),
        _ => false,
    };
    // Except a flag turned on: `null` to `true` (the provider's default for a flag is most
    // often off, and the module now sets it for every caller that left it unset).
    let on = |n: &Node| n.as_str() == Some("true");
    if hcl && (empty(old) || empty(new)) {
        if matches!(old.value, Value::Null) && on(new) {
            out.push(new.line);
        }
        return;
    }
    match (&old.value, &new.value) {
        (Value::Scalar(a), Value::Scalar(b))
            if a != b && (!hcl || (squashed(a) != squashed(b) && !covers(a, b))) =>
        {
            out.push(new.line)
        }
        (Value::Scalar(_), Value::Scalar(_)) | (Value::Null, Value::Null) => {}
        (Value::Map(a), Value::Map(b)) => {
            if a.iter().chain(b).any(|(k, _)| k.contains(TEMPLATED)) {
                return;
            }
            // A key on one side only, holding what the server stores without it: no change.
            let server_default = |trail: &mut Vec<String>, k: &str, v: &Node| {
                trail.push(k.to_string());
                let default = !hcl && defaults::is_default(trail, v);
                trail.pop();
                default
            };
            for (k, w) in b.iter().filter(|(k, _)| !ignored(k)) {
                match a.iter().find(|(l, _)| l == k) {
                    Some((_, v)) => {
                        trail.push(k.clone());
                        differences(v, w, reading, trail, out);
                        trail.pop();
                    }
                    None if server_default(trail, k, w) => {}
                    None => out.push(w.line),
                }
            }
            if !partial
                && a.iter().any(|(k, v)| {
                    !ignored(k) && !b.iter().any(|(l, _)| l == k) && !server_default(trail, k, v)
                })
            {
                out.push(new.line);
            }
        }
        (Value::Seq(a), Value::Seq(b)) => {
            if a.len() != b.len() && !partial {
                out.push(new.line);
            }
            trail.push("*".to_string());
            for (v, w) in a.iter().zip(b) {
                differences(v, w, reading, trail, out);
            }
            trail.pop();
        }
        _ => out.push(new.line),
    }
}

/// The keys of a concrete path (`spec.volumeClaimTemplates[data].spec`), a list item as `*`.
fn keys_of(at: &str) -> Vec<String> {
    let mut keys = Vec::new();
    let mut rest = at;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('.') {
            rest = r;
        } else if let Some(r) = rest.strip_prefix('[') {
            keys.push("*".to_string());
            rest = r.find(']').map_or("", |close| &r[close + 1..]);
        } else if let Some(r) = rest.strip_prefix('"') {
            let close = r.find('"').unwrap_or(r.len());
            keys.push(r[..close].to_string());
            rest = r.get(close + 1..).unwrap_or("");
        } else {
            let end = rest.find(['.', '[']).unwrap_or(rest.len());
            keys.push(rest[..end].to_string());
            rest = &rest[end..];
        }
    }
    keys
}

/// How the two sides of a `changed` comparison were read.
#[derive(Clone, Copy)]
struct Reading {
    /// A helper or the values write part of the block: keys that went are not judged.
    partial: bool,
    /// Terraform: a value is an expression's text, compared without its layout.
    hcl: bool,
}

/// Terraform: whether the new expression keeps every key of the old object, each with a value
/// that keeps the old one's: an object default that only gains keys (new settings, unset before)
/// changes nothing for a caller that relied on it. The texts are as the reader keeps them, with
/// their layout folded into single spaces, so the object is read here: entries `key = value`
/// (or `key: value`), a value one token or one bracketed group; anything else is not judged.
fn covers(old: &str, new: &str) -> bool {
    match (object_entries(old), object_entries(new)) {
        (Some(a), Some(b)) => a.iter().all(|(k, v)| {
            b.iter()
                .find(|(l, _)| l == k)
                .is_some_and(|(_, w)| squashed(v) == squashed(w) || covers(v, w))
        }),
        _ => false,
    }
}

/// The entries of an HCL object written as text (`{ a = 1, b = { c = "x" } }`), keys without
/// quotes; `None` when the text is not an object this simple reading can take apart.
fn object_entries(text: &str) -> Option<Vec<(String, String)>> {
    // The reader writes an expression that is not a literal as `${...}`.
    let text = text.trim();
    let text = text
        .strip_prefix("${")
        .and_then(|t| t.strip_suffix('}'))
        .unwrap_or(text);
    let inner = text.trim().strip_prefix('{')?.strip_suffix('}')?;
    let chars: Vec<char> = inner.chars().collect();
    let mut at = 0;
    let mut entries = Vec::new();
    let skip = |at: &mut usize| {
        while *at < chars.len() && (chars[*at].is_whitespace() || chars[*at] == ',') {
            *at += 1;
        }
    };
    // One value: a quoted string, a bracketed group, or a bare token.
    let value_end = |start: usize| -> Option<usize> {
        let mut depth = 0i32;
        let mut in_string = false;
        let mut k = start;
        while k < chars.len() {
            let c = chars[k];
            if in_string {
                match c {
                    '\\' => k += 1,
                    '"' => {
                        in_string = false;
                        if depth == 0 {
                            return Some(k + 1);
                        }
                    }
                    _ => {}
                }
            } else {
                match c {
                    '"' => in_string = true,
                    '{' | '[' | '(' => depth += 1,
                    '}' | ']' | ')' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(k + 1);
                        }
                        if depth < 0 {
                            return None;
                        }
                    }
                    c if depth == 0 && (c.is_whitespace() || c == ',') => return Some(k),
                    _ => {}
                }
            }
            k += 1;
        }
        (depth == 0 && !in_string).then_some(k)
    };
    skip(&mut at);
    while at < chars.len() {
        let key_start = at;
        while at < chars.len() && !chars[at].is_whitespace() && !matches!(chars[at], '=' | ':') {
            at += 1;
        }
        let key: String = chars[key_start..at].iter().collect();
        while at < chars.len() && chars[at].is_whitespace() {
            at += 1;
        }
        if key.is_empty() || !matches!(chars.get(at), Some('=') | Some(':')) {
            return None;
        }
        at += 1;
        while at < chars.len() && chars[at].is_whitespace() {
            at += 1;
        }
        let end = value_end(at)?;
        if end <= at {
            return None;
        }
        let value: String = chars[at..end].iter().collect();
        // A value of several tokens (`var.a + 1`): not a literal this reading takes apart.
        at = end;
        while at < chars.len() && chars[at].is_whitespace() && chars[at] != ',' {
            at += 1;
        }
        if at < chars.len() && chars[at] != ',' {
            let next_is_key = chars[at..]
                .iter()
                .take_while(|c| !c.is_whitespace())
                .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '"'));
            if !next_is_key {
                return None;
            }
        }
        entries.push((key.trim_matches('"').to_string(), value));
        skip(&mut at);
    }
    Some(entries)
}

/// An HCL expression's text without its layout: whitespace and comments outside strings, and
/// a comma before a closing bracket, are left out (`[ "a", ]` is `["a"]`).
fn squashed(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    let mut in_string = false;
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            match c {
                '\\' => out.extend(chars.next()),
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                out.push(c);
            }
            '#' => {
                chars.by_ref().take_while(|&c| c != '\n').for_each(drop);
            }
            '/' if chars.peek() == Some(&'/') => {
                chars.by_ref().take_while(|&c| c != '\n').for_each(drop);
            }
            c if c.is_whitespace() => {}
            ']' | '}' | ')' if out.ends_with(',') => {
                out.pop();
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// Whether a line of the value's block renders content from a helper or the values (an
/// action on a line of its own, which reading the template blanks): from the line before the
/// value's first to the line before the object's next key after its last.
fn renders_within(located: &Located<'_>, node: &Node) -> bool {
    fn lines(node: &Node, out: &mut Vec<u32>) {
        out.push(node.line);
        match &node.value {
            crate::manifest::Value::Seq(items) => items.iter().for_each(|n| lines(n, out)),
            crate::manifest::Value::Map(entries) => entries.iter().for_each(|(_, n)| lines(n, out)),
            _ => {}
        }
    }
    // A scalar is on one line, read whole.
    if located.parsed.renders.is_empty() || node.as_str().is_some() {
        return false;
    }
    let mut own = Vec::new();
    lines(node, &mut own);
    let (Some(&first), Some(&last)) = (own.iter().min(), own.iter().max()) else {
        return false;
    };
    let mut all = Vec::new();
    lines(&located.object.body, &mut all);
    let end = all
        .into_iter()
        .filter(|&l| l > last)
        .min()
        .unwrap_or(u32::MAX);
    let start = first.saturating_sub(1);
    located
        .parsed
        .renders
        .iter()
        .any(|(line, text)| (start..end).contains(line) && text.trim_start().starts_with("{{"))
}

/// A value in YAML's flow style, for messages: `{matchLabels: {app: web}}`.
pub(super) fn flow(node: &Node) -> String {
    use crate::manifest::Value;
    match &node.value {
        Value::Null => "null".to_string(),
        Value::Scalar(s) => s.clone(),
        Value::Seq(items) => format!(
            "[{}]",
            items.iter().map(flow).collect::<Vec<_>>().join(", ")
        ),
        Value::Map(entries) => format!(
            "{{{}}}",
            entries
                .iter()
                .map(|(k, v)| format!("{k}: {}", flow(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::squashed;

    /// The new side's lines where two YAML values differ, the value found at `at`.
    fn differing(at: &str, old: &str, new: &str) -> Vec<u32> {
        let parse = |t: &str| crate::manifest::yaml::parse(t).unwrap().remove(0).root;
        let (old, new) = (parse(old), parse(new));
        let reading = super::Reading {
            partial: false,
            hcl: false,
        };
        let mut out = Vec::new();
        let mut trail = super::keys_of(at);
        super::differences(&old, &new, reading, &mut trail, &mut out);
        out
    }

    #[test]
    fn a_key_written_out_with_what_the_server_stores_without_it_is_no_difference() {
        let claim = "- metadata: {name: data}\n  spec:\n    accessModes: [ReadWriteOnce]\n";
        let with = |extra: &str| format!("{claim}{extra}");
        let at = "spec.volumeClaimTemplates";
        assert!(differing(at, claim, &with("    volumeMode: Filesystem\n")).is_empty());
        // And removed while it held it.
        assert!(differing(at, &with("    volumeMode: Filesystem\n"), claim).is_empty());
        assert_eq!(
            differing(at, claim, &with("    volumeMode: Block\n")),
            vec![4]
        );
        // Another key added with it still counts.
        assert_eq!(
            differing(
                at,
                claim,
                &with("    volumeMode: Filesystem\n    storageClassName: fast\n")
            ),
            vec![5]
        );
        // An exported manifest's empty creation time, and an empty list of expressions.
        let exported = "- metadata: {name: data, creationTimestamp: null}\n  spec:\n    accessModes: [ReadWriteOnce]\n";
        assert!(differing(at, claim, exported).is_empty());
        let selector = "matchLabels: {app: web}\n";
        let empty = "matchLabels: {app: web}\nmatchExpressions: []\n";
        assert!(differing("spec.selector", selector, empty).is_empty());
        // Where the table says nothing of the key, it is a difference.
        assert_eq!(
            differing(
                "spec.selector",
                selector,
                "matchLabels: {app: web, tier: db}\n"
            ),
            vec![1]
        );
    }

    #[test]
    fn a_concrete_path_reads_as_keys_with_list_items_as_any() {
        assert_eq!(
            super::keys_of("spec.volumeClaimTemplates[data].spec"),
            vec!["spec", "volumeClaimTemplates", "*", "spec"]
        );
        assert_eq!(
            super::keys_of("metadata.annotations.\"helm.sh/hook\""),
            vec!["metadata", "annotations", "helm.sh/hook"]
        );
    }

    #[test]
    fn an_hcl_expression_compares_without_its_layout() {
        assert_eq!(squashed("[ ]"), squashed("[]"));
        assert_eq!(
            squashed("[\n  \"a\", # first\n  \"b\",\n]"),
            squashed("[\"a\", \"b\"]")
        );
        assert_eq!(squashed("{ x = 1 // one\n}"), squashed("{x=1}"));
        // Inside strings, layout and comment signs are the value.
        assert_ne!(squashed("\"a b\""), squashed("\"ab\""));
        assert_ne!(squashed("\"# not a comment\""), squashed("\"\""));
        assert_ne!(squashed("\"a\\\" # b\""), squashed("\"a\\\"\""));
        assert_ne!(squashed("true"), squashed("false"));
    }

    #[test]
    fn an_object_default_that_only_gains_keys_keeps_the_old_one() {
        use super::covers;
        let old = "{ enabled = false, cpu = { min = 0 } }";
        assert!(covers(
            old,
            "{ enabled = false, cpu = { min = 0, max = 4 }, gpu = [] }"
        ));
        assert!(covers(
            old,
            "{\n  \"enabled\" = false\n  cpu = { min = 0 }\n}"
        ));
        assert!(!covers(old, "{ enabled = true, cpu = { min = 0 } }"));
        assert!(!covers(old, "{ cpu = { min = 0 } }"));
        assert!(!covers(old, "{ enabled = false, cpu = { min = 1 } }"));
        // As the reader keeps an object written over several lines: its layout folded.
        let folded = "{ enabled = false max_cpu_cores = 0 gpu_resources = [] auto_repair = true }";
        assert!(covers(
            folded,
            "{ enabled = false max_cpu_cores = 0 gpu_resources = [] auto_repair = true disk_size = 100 disk_type = \"pd-standard\" }"
        ));
        assert!(!covers(
            folded,
            "{ enabled = false max_cpu_cores = 0 gpu_resources = [] auto_repair = false }"
        ));
        assert!(covers(
            &format!("${{{folded}}}"),
            "${{ enabled = false max_cpu_cores = 0 gpu_resources = [] auto_repair = true x = 1 }}"
        ));
        // A value of several tokens is not taken apart.
        assert!(!covers("{ a = var.x + 1 }", "{ a = var.x + 1 b = 2 }"));
        // Not objects: not judged here.
        assert!(!covers("[1]", "[1, 2]"));
        assert!(!covers("{ a = 1", "{ a = 1 }"));
    }
}
