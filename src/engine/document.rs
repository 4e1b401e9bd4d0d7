//! Document rules: a `[rule.match.document]` over the objects of a change, paired old to new
//! (see `manifest::compare`), gives [`Hit`]s.

use std::collections::HashMap;
use std::sync::Arc;

use super::{Engine, FileFacts};
use crate::diff::ChangedFile;
use crate::finding::{Finding, fingerprint};
use crate::understand::Understood;

use crate::manifest::compare::{File, Gone, Located, Pair};
use crate::manifest::path::{self, Found};
use crate::manifest::{Node, Object, Parsed, TEMPLATED, replacement};
use crate::rules::document::{Amount, Compare, DocumentMatch};

/// One place a document rule fires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    /// Index of the file in the change.
    pub file: usize,
    pub line: u32,
    /// Whether `line` counts in the old version of the file.
    pub old_side: bool,
    /// What is shown as the matched text, and fingerprinted: object, key path and value (never
    /// a line number).
    pub shown: String,
    /// What `{match}` stands for in the message: the value, or the object.
    pub matched: String,
    /// Said after the rule's message: what was compared, and how the file was read.
    pub extra: String,
    /// For checking the answer: a Helm values file's top key (the subchart its values may
    /// configure) and the key path; an object's name and the key path otherwise.
    pub subject: Option<(String, String)>,
}

impl Engine<'_> {
    /// The findings of every document rule over the files of one batch whose configuration was
    /// read as documents: their objects are paired across the batch, so a workload moved from one
    /// file to another is the same workload.
    pub(super) fn document_findings(
        &self,
        files: &[(&FileFacts, &ChangedFile, Option<&Understood>)],
        silenced: &[bool],
    ) -> Vec<Finding> {
        let read: Vec<(usize, File<'_>)> = files
            .iter()
            .enumerate()
            .filter_map(|(k, (_, file, understood))| {
                let analysis = (*understood)?.manifest.as_ref()?;
                analysis.is_structured().then_some((
                    k,
                    File {
                        path: &file.path,
                        analysis,
                    },
                ))
            })
            .collect();
        if read.is_empty() {
            return Vec::new();
        }
        let mut rules: Vec<usize> = read
            .iter()
            .flat_map(|(k, _)| files[*k].0.candidates.iter().map(|&i| i as usize))
            .filter(|&i| {
                let r = &self.rules[i].rule;
                !silenced[i] && !r.threshold.is_set() && r.matcher.document.is_some()
            })
            .collect();
        rules.sort_unstable();
        rules.dedup();
        if rules.is_empty() {
            return Vec::new();
        }
        let list: Vec<File<'_>> = read.iter().map(|(_, f)| *f).collect();
        let pairs = crate::manifest::compare::pair(&list);
        // Each rule's hits on a thread of its own (in rule order, as before).
        use rayon::prelude::*;
        let found: Vec<Vec<Finding>> = rules
            .par_iter()
            .map(|&i| {
                let mut out = Vec::new();
                let compiled = &self.rules[i];
                let Some(document) = &compiled.rule.matcher.document else {
                    return out;
                };
                // The team's own names for the keys (`[names]`) are read as the rule's.
                let named;
                let document = if self.names.is_empty() || document.paths.is_empty() {
                    document
                } else {
                    let mut d = document.clone();
                    d.paths = document
                        .paths
                        .iter()
                        .flat_map(|p| path::with_names(p, &self.names))
                        .collect();
                    named = d;
                    &named
                };
                let regex = match &document.compare {
                    Compare::BecomesMatching(r) => regex::Regex::new(r).ok(),
                    _ => None,
                };
                let found = hits(document, regex.as_ref(), &list, &pairs);
                // A chart's values file that this rule fired on is where its default changed:
                // the templates that write that default whole are not told again.
                let values_fired: std::collections::HashSet<&str> = found
                    .iter()
                    .filter_map(|h| match list[h.file].path {
                        "values.yaml" => Some(""),
                        path => path.strip_suffix("/values.yaml"),
                    })
                    .collect();
                let from_changed_default = |hit: &Hit| {
                    let file = &list[hit.file];
                    !hit.old_side
                        && crate::manifest::chart_root(file.path)
                            .is_some_and(|root| values_fired.contains(root))
                        && file
                            .analysis
                            .new
                            .parsed()
                            .is_some_and(|p| p.default_lines.contains(&hit.line))
                };
                for hit in found.iter().filter(|h| !from_changed_default(h)) {
                    let (k, _) = read[hit.file];
                    let (fact, file, _) = files[k];
                    // `unless.added` reads lines: it belongs to the rule's line fallback, not
                    // here.
                    if fact.candidates.binary_search(&(i as u32)).is_err() {
                        continue;
                    }
                    out.push(finding(compiled, &file.path, hit));
                }
                out
            })
            .collect();
        found.into_iter().flatten().collect()
    }
}

fn finding(compiled: &super::CompiledRule<'_>, path: &str, hit: &Hit) -> Finding {
    let rule = compiled.rule;
    let path: Arc<str> = Arc::from(path);
    let mut f = super::finding(
        compiled,
        Some(Arc::clone(&path)),
        Some(hit.line),
        hit.old_side,
        Some(&hit.shown),
        Some(&hit.matched),
    );
    let mut message = rule.render_message(Some(&path), Some(hit.line), Some(&hit.matched));
    if !hit.extra.is_empty() {
        message.push(' ');
        message.push_str(&hit.extra);
    }
    f.message = message;
    f.fingerprint = fingerprint(&rule.id, Some(&path), Some(&hit.shown));
    f.subject = hit.subject.clone().map(Box::new);
    f
}

/// Every hit of one rule over the paired objects. `regex` is the compiled `becomes_matching`.
pub fn hits(
    rule: &DocumentMatch,
    regex: Option<&regex::Regex>,
    files: &[File<'_>],
    pairs: &[Pair<'_>],
) -> Vec<Hit> {
    let mut out = Vec::new();
    let parsed = KeyPaths::of(rule);
    // Names of the objects that answer `unless_defined`, gathered once.
    let defined = super::defined::names(rule, pairs);
    for pair in pairs {
        let kind = pair
            .new
            .or(pair.old)
            .map(|l| l.object.kind.as_str())
            .unwrap_or("");
        if !rule.names_kind(kind) {
            continue;
        }
        if rule.paths.is_empty() {
            object_hits(rule, &parsed, files, pairs, pair, &mut out);
        } else {
            value_hits(rule, &parsed, regex, files, &defined, pair, &mut out);
        }
    }
    out.sort_by(|a, b| (a.file, a.line, &a.shown).cmp(&(b.file, b.line, &b.shown)));
    out.dedup();
    out
}

fn describe(object: &Object) -> String {
    if object.kind.is_empty() || object.name.contains(&object.kind) {
        object.name.clone()
    } else {
        format!("{} {}", object.kind, object.name)
    }
}

/// How the file was read; `line` (the value's) says whether the chart's defaults gave it.
fn reading(parsed: &Parsed, line: u32) -> String {
    if parsed.default_lines.contains(&line) {
        format!(
            "Read as {}, with the chart's default values (values.yaml) that the template writes here.",
            parsed.format.as_str()
        )
    } else {
        format!("Read as {}.", parsed.format.as_str())
    }
}

/// The old side of the new object's file, for telling a branch the change opened.
fn old_of_file<'a>(files: &[File<'a>], new: &Located<'a>) -> Option<&'a Parsed> {
    files[new.file].analysis.old.parsed()
}

fn opt_in(files: &[File<'_>], new: &Located<'_>, line: u32) -> bool {
    new.parsed.opens_branch(line, old_of_file(files, new))
}

/// Whether the object has none of the rule's `without` keys (a key set to null is there:
/// `default = null` makes a Terraform variable optional).
fn without_ok(parsed: &KeyPaths, object: &Object) -> bool {
    parsed
        .without
        .iter()
        .all(|p| p.select(&object.body).is_empty())
}

/// A rule's key paths, parsed once for all the objects it is matched against (the loader
/// checked that each parses).
struct KeyPaths {
    paths: Vec<path::KeyPath>,
    without: Vec<path::KeyPath>,
}

impl KeyPaths {
    fn of(rule: &DocumentMatch) -> KeyPaths {
        let parse = |v: &[String]| v.iter().filter_map(|p| path::parse(p).ok()).collect();
        KeyPaths {
            paths: parse(&rule.paths),
            without: parse(&rule.without),
        }
    }
}

fn object_hits(
    rule: &DocumentMatch,
    parsed: &KeyPaths,
    files: &[File<'_>],
    pairs: &[Pair<'_>],
    pair: &Pair<'_>,
    out: &mut Vec<Hit>,
) {
    match (&rule.compare, pair.old, pair.new) {
        (Compare::Removed, Some(old), None) if pair.gone == Gone::Removed => {
            // Removed together with what it protected (a budget with its workload).
            let scope = crate::manifest::compare::scope(files[old.file].path);
            let with = pairs.iter().any(|p| {
                p.gone == Gone::Removed
                    && p.old.is_some_and(|o| {
                        rule.unless_removed_with.contains(&o.object.kind)
                            && crate::manifest::compare::scope(files[o.file].path) == scope
                    })
            });
            if with {
                return;
            }
            let mut extra = String::new();
            // A resource of the same type added beside it: perhaps a rename.
            if let Some(renamed) = pairs.iter().find_map(|p| match (p.old, p.new) {
                (None, Some(n))
                    if n.object.kind == old.object.kind
                        && crate::manifest::folder(files[n.file].path)
                            == crate::manifest::folder(files[old.file].path) =>
                {
                    Some(n.object.name.clone())
                }
                _ => None,
            }) {
                extra = format!(
                    "{renamed} was added in the same change: if this is a rename, a `moved` block (Terraform) or keeping the old name lets the object stay instead of being deleted and created again."
                );
            }
            let what = describe(old.object);
            out.push(Hit {
                file: old.file,
                line: old.object.line,
                old_side: true,
                subject: None,
                shown: format!("{what} removed"),
                matched: what,
                extra,
            });
        }
        (Compare::Added, None, Some(new)) => {
            if opt_in(files, &new, new.object.line) || !without_ok(parsed, new.object) {
                return;
            }
            let what = describe(new.object);
            out.push(Hit {
                file: new.file,
                line: new.object.line,
                old_side: false,
                subject: None,
                shown: format!("{what} added"),
                matched: what,
                extra: String::new(),
            });
        }
        (Compare::Replaced, Some(old), Some(new)) => {
            for attribute in replacement::forcing(&new.object.kind) {
                let before = attribute.select(&old.object.body);
                let after = attribute.select(&new.object.body);
                let text = |f: &[Found<'_>]| f.first().map(|f| value_text(f.node));
                let (b, a) = (text(&before), text(&after));
                // A value computed at plan time (`${var.name}`) may be the same value under
                // another expression: only literals (or a literal set or unset) are judged.
                let computed = |v: &Option<String>| v.as_ref().is_some_and(|v| v.contains("${"));
                if b == a || computed(&b) || computed(&a) || (b.is_none() && a.is_none()) {
                    continue;
                }
                let line = after
                    .first()
                    .map(|f| f.node.line)
                    .unwrap_or(new.object.line);
                let shown_value = a.clone().unwrap_or_else(|| "(removed)".into());
                out.push(Hit {
                    file: new.file,
                    line,
                    old_side: false,
                    subject: None,
                    shown: format!("{} {} = {shown_value}", new.object.name, attribute.text),
                    matched: format!("{}.{}", new.object.name, attribute.text),
                    extra: format!(
                        "`{}` forces replacement of {}: it was {}.",
                        attribute.text,
                        new.object.kind,
                        b.map(|b| format!("`{b}`"))
                            .unwrap_or_else(|| "not set".into())
                    ),
                });
            }
        }
        _ => {}
    }
}

/// A node's text for comparing and showing: a scalar's text, a collection's shape.
fn value_text(node: &Node) -> String {
    match node.as_str() {
        Some(s) => s.to_string(),
        None if node.is_empty() => String::new(),
        None => format!("{:?}", strip_lines(node)),
    }
}

/// A collection without its line numbers, so the same content on other lines compares equal.
fn strip_lines(node: &Node) -> crate::manifest::Value {
    use crate::manifest::Value;
    match &node.value {
        Value::Map(e) => Value::Map(
            e.iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        Node {
                            line: 0,
                            value: strip_lines(v),
                        },
                    )
                })
                .collect(),
        ),
        Value::Seq(items) => Value::Seq(
            items
                .iter()
                .map(|v| Node {
                    line: 0,
                    value: strip_lines(v),
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

fn by_path<'a>(parsed: &KeyPaths, object: Option<&'a Object>) -> HashMap<String, Vec<Found<'a>>> {
    let mut map: HashMap<String, Vec<Found<'a>>> = HashMap::new();
    let Some(object) = object else { return map };
    for p in parsed.paths.iter().filter(|p| object.may_hold(p)) {
        for f in p.select(&object.body) {
            map.entry(f.at.clone()).or_default().push(f);
        }
    }
    map
}

/// Whether a concrete path (or its holder) exists in an object.
fn holder_exists(
    object: &Object,
    parent: &str,
    new_paths: &HashMap<String, Vec<Found<'_>>>,
) -> bool {
    if parent.is_empty() || new_paths.values().flatten().any(|f| f.parent == parent) {
        return true;
    }
    // Walk the concrete parent path: keys and named items.
    let mut node = &object.body;
    for step in split_concrete(parent) {
        let next = match step {
            Step::Key(k) => node.get(&k),
            Step::Item(name) => match &node.value {
                crate::manifest::Value::Seq(items) => {
                    items.iter().enumerate().find_map(|(i, it)| {
                        let id = it
                            .get("name")
                            .and_then(Node::as_str)
                            .map(str::to_string)
                            .unwrap_or_else(|| i.to_string());
                        (id == name).then_some(it)
                    })
                }
                _ => None,
            },
        };
        match next {
            Some(n) => node = n,
            None => return false,
        }
    }
    !node.is_empty()
}

enum Step {
    Key(String),
    Item(String),
}

fn split_concrete(at: &str) -> Vec<Step> {
    let mut steps = Vec::new();
    let mut rest = at;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('.') {
            rest = r;
        } else if let Some(r) = rest.strip_prefix('[') {
            let close = r.find(']').unwrap_or(r.len());
            steps.push(Step::Item(r[..close].to_string()));
            rest = r.get(close + 1..).unwrap_or("");
        } else if let Some(r) = rest.strip_prefix('"') {
            let close = r.find('"').unwrap_or(r.len());
            steps.push(Step::Key(r[..close].to_string()));
            rest = r.get(close + 1..).unwrap_or("");
        } else {
            let end = rest.find(['.', '[']).unwrap_or(rest.len());
            steps.push(Step::Key(rest[..end].to_string()));
            rest = &rest[end..];
        }
    }
    steps
}

fn amount_of(node: Option<&Node>, default: Option<&str>) -> Option<Amount> {
    match node {
        Some(n) if !n.is_empty() => n.as_str().and_then(Amount::parse),
        _ => default.and_then(Amount::parse),
    }
}

/// Both amounts in one unit: a share becomes a count when the object says how many replicas.
fn same_unit(a: Amount, b: Amount, replicas: Option<f64>) -> Option<(f64, f64)> {
    match (a, b) {
        (Amount::Count(x), Amount::Count(y)) | (Amount::Percent(x), Amount::Percent(y)) => {
            Some((x, y))
        }
        (Amount::Percent(x), Amount::Count(y)) => replicas.map(|r| ((x * r / 100.0).floor(), y)),
        (Amount::Count(x), Amount::Percent(y)) => replicas.map(|r| (x, (y * r / 100.0).floor())),
    }
}

fn replicas_of(object: &Object) -> Option<f64> {
    object
        .body
        .at(&["spec", "replicas"])
        .and_then(Node::as_str)
        .and_then(|s| s.parse().ok())
}

fn value_hits(
    rule: &DocumentMatch,
    parsed: &KeyPaths,
    regex: Option<&regex::Regex>,
    files: &[File<'_>],
    defined: &std::collections::HashSet<String>,
    pair: &Pair<'_>,
    out: &mut Vec<Hit>,
) {
    let old_paths = by_path(parsed, pair.old.map(|l| l.object));
    let new_paths = by_path(parsed, pair.new.map(|l| l.object));
    let default = rule.default.as_deref();
    match &rule.compare {
        Compare::Becomes(_) | Compare::BecomesMatching(_) | Compare::Added => {
            let Some(new) = pair.new else { return };
            for (at, found) in &new_paths {
                for f in found {
                    let value = value_text(f.node);
                    let fits = |v: &str| match &rule.compare {
                        Compare::Becomes(values) => values.iter().any(|x| x == v),
                        Compare::BecomesMatching(_) => regex.is_some_and(|r| r.is_match(v)),
                        _ => !v.is_empty(),
                    };
                    if !fits(&value) || rule.except.contains(&value) {
                        continue;
                    }
                    let before = old_paths.get(at);
                    if before.is_some_and(|b| b.iter().any(|o| fits(&value_text(o.node)))) {
                        continue;
                    }
                    // The same key moved one section up or down (`loki.image.tag` became
                    // `image.tag` when a chart was split) with a value that already fit.
                    let nested = |outer: &str, inner: &str| {
                        outer.len() > inner.len()
                            && outer.ends_with(inner)
                            && outer.as_bytes()[outer.len() - inner.len() - 1] == b'.'
                    };
                    if rule.compare != Compare::Added
                        && old_paths.iter().any(|(old_at, found)| {
                            (nested(old_at, at) || nested(at, old_at))
                                && found.iter().any(|o| fits(&value_text(o.node)))
                        })
                    {
                        continue;
                    }
                    // Added: a value the object already had anywhere (a container renamed, a
                    // list reordered) is not new to it.
                    if rule.compare == Compare::Added
                        && old_paths
                            .values()
                            .flatten()
                            .any(|o| value_text(o.node) == value)
                    {
                        continue;
                    }
                    if opt_in(files, &new, f.node.line) || !without_ok(parsed, new.object) {
                        continue;
                    }
                    if defined.contains(value.as_str()) || answered_beside(rule, f) {
                        continue;
                    }
                    let was = before
                        .and_then(|b| b.first())
                        .map(|o| value_text(o.node))
                        .filter(|v| !v.is_empty());
                    out.push(value_hit(new, f, &value, was.as_deref(), false));
                }
            }
        }
        Compare::Was(values) => {
            let (Some(_), Some(new)) = (pair.old, pair.new) else {
                return;
            };
            for (at, found) in &old_paths {
                let Some(o) = found.iter().find(|o| values.contains(&value_text(o.node))) else {
                    continue;
                };
                let after = new_paths.get(at).and_then(|n| n.first());
                match after {
                    Some(n) if values.contains(&value_text(n.node)) => {}
                    Some(n) if !n.node.is_empty() => {
                        let v = value_text(n.node);
                        out.push(value_hit(new, n, &v, Some(&value_text(o.node)), false));
                    }
                    _ => {
                        if !holder_exists(new.object, "", &new_paths) {
                            continue;
                        }
                        let old = pair.old.unwrap_or(new);
                        out.push(value_hit(
                            old,
                            o,
                            "(removed)",
                            Some(&value_text(o.node)),
                            true,
                        ));
                    }
                }
            }
        }
        Compare::Removed => {
            let (Some(old), Some(new)) = (pair.old, pair.new) else {
                return;
            };
            for (at, found) in &old_paths {
                let Some(o) = found.iter().find(|o| !o.node.is_empty()) else {
                    continue;
                };
                // A key removed while it held the value its absence means (a partition of 0)
                // changes nothing.
                if default.is_some() && o.node.as_str() == default {
                    continue;
                }
                let after = new_paths.get(at);
                if after.is_some_and(|n| n.iter().any(|n| !n.node.is_empty())) {
                    continue;
                }
                // The list item that held it is gone too (a container removed), or the whole
                // top-level section (a values section moved out to a dependency chart): not
                // this rule's.
                let item = o.parent.rfind(']').map_or("", |end| &o.parent[..=end]);
                let section = split_concrete(&o.at)
                    .first()
                    .map(|s| match s {
                        Step::Key(k) => k.clone(),
                        Step::Item(_) => String::new(),
                    })
                    .unwrap_or_default();
                let section_kept = section.is_empty()
                    || o.parent.is_empty()
                    || new.object.body.get(&section).is_some_and(|n| !n.is_empty());
                if !section_kept
                    || !holder_exists(new.object, item, &new_paths)
                    || rendered_elsewhere(&new, &o.at)
                {
                    continue;
                }
                match after.and_then(|n| n.first()) {
                    // Replaced by `{}`, `~` or `null`: shown on the new line.
                    Some(n) => out.push(value_hit(new, n, "(emptied)", None, false)),
                    None => out.push(value_hit(old, o, "(removed)", None, true)),
                }
            }
        }
        Compare::Rises | Compare::Falls | Compare::RisesAbove(_) | Compare::FallsBelow(_) => {
            let (Some(old), Some(new)) = (pair.old, pair.new) else {
                return;
            };
            let mut concrete: Vec<&String> = new_paths.keys().collect();
            if default.is_some() {
                concrete.extend(old_paths.keys().filter(|k| !new_paths.contains_key(*k)));
            }
            concrete.sort();
            concrete.dedup();
            let replicas = replicas_of(new.object).or_else(|| replicas_of(old.object));
            for at in concrete {
                let n = new_paths.get(at).and_then(|v| v.first());
                let o = old_paths.get(at).and_then(|v| v.first());
                let (Some(before), Some(after)) = (
                    amount_of(o.map(|f| f.node), default),
                    amount_of(n.map(|f| f.node), default),
                ) else {
                    continue;
                };
                let shown_after = n
                    .map(|f| value_text(f.node))
                    .unwrap_or_else(|| "(removed)".into());
                if rule.except.contains(&shown_after) {
                    continue;
                }
                let Some((b, a)) = same_unit(before, after, replicas) else {
                    continue;
                };
                let fires = match &rule.compare {
                    Compare::Rises => a > b,
                    Compare::Falls => a < b,
                    Compare::RisesAbove(bound) => {
                        let (Some((b, bound_b)), Some((a, bound_a))) = (
                            same_unit(before, *bound, replicas),
                            same_unit(after, *bound, replicas),
                        ) else {
                            continue;
                        };
                        b <= bound_b && a > bound_a
                    }
                    Compare::FallsBelow(bound) => {
                        let (Some((b, bound_b)), Some((a, bound_a))) = (
                            same_unit(before, *bound, replicas),
                            same_unit(after, *bound, replicas),
                        ) else {
                            continue;
                        };
                        b >= bound_b && a < bound_a
                    }
                    _ => false,
                };
                if !fires {
                    continue;
                }
                let was = o
                    .map(|f| value_text(f.node))
                    .unwrap_or_else(|| format!("{} (the default)", default.unwrap_or("")));
                match n {
                    Some(f) => {
                        if opt_in(files, &new, f.node.line) {
                            continue;
                        }
                        out.push(value_hit(new, f, &shown_after, Some(&was), false));
                    }
                    None => {
                        if let Some(o) = o {
                            out.push(value_hit(old, o, &shown_after, Some(&was), true));
                        }
                    }
                }
            }
        }
        Compare::Replaced => {}
    }
}

/// Whether the new object's template renders the removed key's block from a helper or from
/// values (`include "app.readinessProbe"` where `readinessProbe:` was): moved, not removed.
fn rendered_elsewhere(new: &Located<'_>, at: &str) -> bool {
    let key = at.rsplit('.').next().unwrap_or(at);
    let key = path::normalize(key.split('[').next().unwrap_or(key));
    if key.is_empty() {
        return false;
    }
    let start = new.object.line;
    let end = new
        .parsed
        .objects
        .iter()
        .map(|o| o.line)
        .filter(|&l| l > start)
        .min()
        .unwrap_or(u32::MAX);
    new.parsed
        .renders
        .iter()
        .any(|(line, text)| (start..end).contains(line) && text.contains(&key))
}

/// Whether a key beside the value answers the rule (`optional: true` next to a Secret's name).
fn answered_beside(rule: &DocumentMatch, found: &Found<'_>) -> bool {
    rule.unless_beside.iter().any(|(key, want)| {
        found
            .holder
            .get(key)
            .and_then(Node::as_str)
            .is_some_and(|v| v == want)
    })
}

/// What a key's finding is about, for checking the answer: a values file's top key (a
/// subchart's name, when it configures one) or the object's name, and the key path.
fn subject_of(at: &Located<'_>, found: &Found<'_>) -> Option<(String, String)> {
    let path = found.at.to_string();
    let owner = if at.object.kind == "HelmValues" {
        path.split('.').next().unwrap_or("").to_string()
    } else {
        at.object.name.clone()
    };
    Some((owner, path))
}

fn value_hit(
    at: Located<'_>,
    found: &Found<'_>,
    value: &str,
    was: Option<&str>,
    old_side: bool,
) -> Hit {
    let what = describe(at.object);
    let mut extra = match was {
        Some(w) if !w.is_empty() => format!("{what}: `{}` was `{w}`.", found.at),
        _ => format!("{what}: `{}`.", found.at),
    };
    if value.contains(TEMPLATED) || at.parsed.format == crate::manifest::Format::HelmTemplate {
        extra.push(' ');
        extra.push_str(&reading(at.parsed, found.node.line));
    }
    Hit {
        file: at.file,
        line: found.node.line,
        old_side,
        subject: subject_of(&at, found),
        shown: format!("{what} {}: {value}", found.at),
        matched: value.to_string(),
        extra,
    }
}
