//! Document rules with a key path: each value's old and new side compared (`becomes`,
//! `removed`, `rises`, ...), with what quiets a comparison (a default, a value defined in the
//! change, a key beside it, a block a template now renders from a helper).

use std::collections::HashMap;

use super::document::{Hit, KeyPaths, Patterns, describe, opt_in, reading, value_text, without_ok};
use crate::manifest::compare::{File, Located, Pair};
use crate::manifest::path::{self, Found};
use crate::manifest::{Node, Object, TEMPLATED};
use crate::rules::document::{Amount, Compare, DocumentMatch};

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

pub(super) fn value_hits(
    rule: &DocumentMatch,
    parsed: &KeyPaths,
    patterns: Patterns<'_>,
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
            if rule.existing && pair.old.is_none() {
                return;
            }
            // A value fits when the rule names it, and (`written_by`) a template action that
            // the rule names writes it on that side.
            let fits = |side: Option<Located<'_>>, node: &Node| {
                let v = value_text(node);
                let named = match &rule.compare {
                    Compare::Becomes(values) => values.contains(&v),
                    Compare::BecomesMatching(_) => patterns.becomes.is_some_and(|r| r.is_match(&v)),
                    _ => !v.is_empty(),
                };
                named
                    && patterns
                        .written_by
                        .is_none_or(|re| side.is_some_and(|l| writer(re, &l, node).is_some()))
            };
            for (at, found) in &new_paths {
                for f in found {
                    let value = value_text(f.node);
                    if !fits(Some(new), f.node)
                        || rule.except.contains(&value)
                        || !beside_ok(rule, f)
                    {
                        continue;
                    }
                    // A list item renamed in place (a container given another name) is the
                    // same item: its value is not new to it.
                    let before = old_paths.get(at).or_else(|| {
                        (rule.compare != Compare::Added)
                            .then(|| renamed_from(at, f.node, pair, &old_paths, &new_paths))
                            .flatten()
                    });
                    if before.is_some_and(|b| b.iter().any(|o| fits(pair.old, o.node))) {
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
                                && found.iter().any(|o| fits(pair.old, o.node))
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
                    if defined.contains(value.as_str())
                        || answered_beside(rule, f)
                        || moved_from_template(rule, files, &new, f, &value)
                    {
                        continue;
                    }
                    let was = before
                        .and_then(|b| b.first())
                        .map(|o| value_text(o.node))
                        .filter(|v| !v.is_empty());
                    let mut hit = value_hit(new, f, &value, was.as_deref(), false);
                    if let Some(action) =
                        patterns.written_by.and_then(|re| writer(re, &new, f.node))
                    {
                        hit.extra = format!("{} The template writes `{action}`.", hit.extra);
                    }
                    out.push(hit);
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
                    // Crossing the bound: each side compared with it in the side's own unit.
                    Compare::RisesAbove(bound) | Compare::FallsBelow(bound) => {
                        let (Some((b, bound_b)), Some((a, bound_a))) = (
                            same_unit(before, *bound, replicas),
                            same_unit(after, *bound, replicas),
                        ) else {
                            continue;
                        };
                        if matches!(rule.compare, Compare::RisesAbove(_)) {
                            b <= bound_b && a > bound_a
                        } else {
                            b >= bound_b && a < bound_a
                        }
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
        Compare::Changed => {
            let (Some(old), Some(new)) = (pair.old, pair.new) else {
                return;
            };
            // An object under another name (a file and its workload renamed together) is a new
            // object to the cluster, whatever its fields.
            if old.object.name != new.object.name {
                return;
            }
            let mut concrete: Vec<&String> = old_paths.keys().chain(new_paths.keys()).collect();
            concrete.sort();
            concrete.dedup();
            for at in concrete {
                // Both sides hold the value: a key that appears or goes is another comparison's.
                let (Some(o), Some(n)) = (
                    old_paths.get(at).and_then(|v| v.first()),
                    new_paths.get(at).and_then(|v| v.first()),
                ) else {
                    continue;
                };
                if super::changed::differing_lines(files, at, (&old, o.node), (&new, n.node))
                    .is_empty()
                {
                    continue;
                }
                let (was, now) = (super::changed::flow(o.node), super::changed::flow(n.node));
                // A changed value is no value the rule names: say what it became, too.
                let mut hit = value_hit(new, n, &now, Some(&was), false);
                hit.extra = changed_extra(&new, n, &was, &now);
                out.push(hit);
            }
        }
        Compare::FallbackChanged => {
            let (Some(_), Some(new)) = (pair.old, pair.new) else {
                return;
            };
            for (at, found) in &new_paths {
                let (Some(o), Some(n)) = (old_paths.get(at).and_then(|v| v.first()), found.first())
                else {
                    continue;
                };
                let (Some(a), Some(b)) = (o.node.as_str(), n.node.as_str()) else {
                    continue;
                };
                if let Some((was, now)) = super::fallback::changed(a, b) {
                    if opt_in(files, &new, n.node.line) {
                        continue;
                    }
                    let mut hit = value_hit(new, n, &now, Some(&was), false);
                    hit.extra = format!(
                        "{}: the fallback of `{}` was `{was}`, now `{now}`.",
                        describe(new.object),
                        n.at
                    );
                    out.push(hit);
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

/// Whether a values file's new value is one the chart's templates wrote themselves before the
/// change and no longer do (`image: bitnami/kubectl:latest` in a template became
/// `cleanupJob.image.tag: latest` in values): it moved, and is not new to any install.
fn moved_from_template(
    rule: &DocumentMatch,
    files: &[File<'_>],
    new: &Located<'_>,
    found: &Found<'_>,
    value: &str,
) -> bool {
    if rule.unless_moved_from_template.is_empty() || new.object.kind != "HelmValues" {
        return false;
    }
    let values_path = files[new.file].path;
    let templates = match values_path.rsplit_once('/') {
        Some((dir, _)) => format!("{dir}/templates/"),
        None => "templates/".to_string(),
    };
    // Each form, filled from the value and the keys beside it; a form naming a key that is
    // not there says nothing.
    let forms: Vec<String> = rule
        .unless_moved_from_template
        .iter()
        .filter_map(|form| fill_form(form, value, found.holder))
        .collect();
    if forms.is_empty() {
        return false;
    }
    let holds = |parsed: Option<&crate::manifest::Parsed>, form: &str| {
        parsed.is_some_and(|p| p.objects.iter().any(|o| holds_scalar(&o.body, form)))
    };
    files
        .iter()
        .filter(|f| f.path.starts_with(&templates))
        .any(|f| {
            forms.iter().any(|form| {
                holds(f.analysis.old.parsed(), form) && !holds(f.analysis.new.parsed(), form)
            })
        })
}

/// `form` with `{value}` and `{key}` (a scalar beside the value) filled in.
fn fill_form(form: &str, value: &str, holder: &Node) -> Option<String> {
    let mut out = String::new();
    let mut rest = form;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let close = rest[open..].find('}')? + open;
        let key = &rest[open + 1..close];
        if key == "value" {
            out.push_str(value);
        } else {
            out.push_str(holder.get(key)?.as_str()?);
        }
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    Some(out)
}

/// Whether any scalar of `node`, quotes aside, is `text`.
fn holds_scalar(node: &Node, text: &str) -> bool {
    match &node.value {
        crate::manifest::Value::Map(entries) => entries.iter().any(|(_, v)| holds_scalar(v, text)),
        crate::manifest::Value::Seq(items) => items.iter().any(|v| holds_scalar(v, text)),
        _ => node
            .as_str()
            .is_some_and(|s| s.trim().trim_matches(|c| c == '"' || c == '\'') == text),
    }
}

/// The template line that writes the value, when an action writes it there and `re`
/// (`written_by`) matches the line: what writes it.
fn writer<'p>(re: &regex::Regex, side: &Located<'p>, node: &Node) -> Option<&'p str> {
    let at = side
        .parsed
        .written
        .binary_search_by_key(&node.line, |(line, _)| *line)
        .ok()?;
    let line = side.parsed.written[at].1.as_str();
    re.is_match(line).then(|| line.trim())
}

/// Whether the keys the rule needs beside a value at this key (`needs_beside`) are there: one
/// of them, in the mapping that holds the value.
fn beside_ok(rule: &DocumentMatch, found: &Found<'_>) -> bool {
    let Some(Step::Key(key)) = split_concrete(&found.at).pop() else {
        return true;
    };
    let key = path::normalize(&key);
    let crate::manifest::Value::Map(entries) = &found.holder.value else {
        return rule
            .needs_beside
            .iter()
            .all(|(k, _)| path::normalize(k) != key);
    };
    rule.needs_beside
        .iter()
        .filter(|(k, _)| path::normalize(k) == key)
        .all(|(_, wanted)| {
            wanted.iter().any(|w| {
                let w = path::normalize(w);
                entries
                    .iter()
                    .any(|(k, v)| path::normalize(k) == w && !v.is_empty())
            })
        })
}

/// The old side's values at a path whose list items were renamed in place: the new object no
/// longer has that path, it differs from `at` only by its items' names, and the item sits at
/// the same place in a list of the same length, or holds the same value (a container renamed
/// keeps its image).
fn renamed_from<'m, 'a>(
    at: &str,
    node: &Node,
    pair: &Pair<'_>,
    old_paths: &'m HashMap<String, Vec<Found<'a>>>,
    new_paths: &HashMap<String, Vec<Found<'_>>>,
) -> Option<&'m Vec<Found<'a>>> {
    let (old, new) = (pair.old?, pair.new?);
    let here = places(&new.object.body, at)?;
    if here.1.is_empty() {
        return None;
    }
    let value = value_text(node);
    old_paths.iter().find_map(|(old_at, found)| {
        if new_paths.contains_key(old_at) {
            return None;
        }
        let there = places(&old.object.body, old_at)?;
        let same_place = there == here;
        let same_value = there.0 == here.0 && found.iter().any(|o| value_text(o.node) == value);
        (same_place || same_value).then_some(found)
    })
}

/// A concrete path's keys (its items as `[]`) and, for each list item on it, its index and
/// the list's length.
fn places(body: &Node, at: &str) -> Option<(String, Vec<(usize, usize)>)> {
    let mut keys = String::new();
    let mut items = Vec::new();
    let mut node = body;
    for step in split_concrete(at) {
        node = match step {
            Step::Key(k) => {
                keys.push('.');
                keys.push_str(&k);
                node.get(&k)?
            }
            Step::Item(name) => {
                let crate::manifest::Value::Seq(list) = &node.value else {
                    return None;
                };
                let (i, item) = list.iter().enumerate().find(|(i, it)| {
                    it.get("name")
                        .and_then(Node::as_str)
                        .map_or_else(|| i.to_string() == name, |n| n == name)
                })?;
                keys.push_str("[]");
                items.push((i, list.len()));
                item
            }
        };
    }
    Some((keys, items))
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
    let said = match was {
        Some(w) if !w.is_empty() => format!("{what}: `{}` was `{w}`.", found.at),
        _ => format!("{what}: `{}`.", found.at),
    };
    let extra = with_reading(said, &at, found, value);
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

/// The message's tail of a `changed` hit: what the value was and what it became.
fn changed_extra(at: &Located<'_>, found: &Found<'_>, was: &str, now: &str) -> String {
    let said = format!(
        "{}: `{}` was `{was}`, now `{now}`.",
        describe(at.object),
        found.at
    );
    with_reading(said, at, found, now)
}

/// `said`, and for a value a template computes or any value of a Helm template, how the
/// template was read.
fn with_reading(mut said: String, at: &Located<'_>, found: &Found<'_>, value: &str) -> String {
    use crate::manifest::Format;
    if value.contains(TEMPLATED)
        || matches!(
            at.parsed.format,
            Format::HelmTemplate | Format::HelmDefaultInstall
        )
    {
        said.push(' ');
        said.push_str(&reading(at.parsed, found.node.line));
    }
    said
}
