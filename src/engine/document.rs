//! Document rules: a `[rule.match.document]` over the objects of a change, paired old to new
//! (see `manifest::compare`), gives [`Hit`]s.

use std::sync::Arc;

use super::{Engine, FileFacts};
use crate::diff::ChangedFile;
use crate::finding::{Finding, fingerprint};
use crate::understand::Understood;

use crate::manifest::compare::{File, Gone, Located, Pair};
use crate::manifest::path;
use crate::manifest::{Node, Object, Parsed};
use crate::rules::document::{Compare, DocumentMatch};

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
                        scope_stays: (*understood).is_some_and(|u| u.scope_stays),
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
                let written_by = document
                    .written_by
                    .as_ref()
                    .and_then(|r| regex::Regex::new(r).ok());
                let patterns = Patterns {
                    becomes: regex.as_ref(),
                    written_by: written_by.as_ref(),
                };
                let found = hits(document, patterns, &list, &pairs);
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
                    // Terraform from a Jinja template: which variant was read.
                    let at = &list[hit.file].analysis;
                    let side = if hit.old_side { &at.old } else { &at.new };
                    let variant = side
                        .parsed()
                        .filter(|p| p.format == crate::manifest::Format::JinjaHcl)
                        .map(|p| p.format.as_str());
                    out.push(finding(compiled, &file.path, hit, variant));
                }
                out
            })
            .collect();
        found.into_iter().flatten().collect()
    }
}

fn finding(
    compiled: &super::CompiledRule<'_>,
    path: &str,
    hit: &Hit,
    reading: Option<&str>,
) -> Finding {
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
    if let Some(reading) = reading.filter(|r| !message.contains(r)) {
        message.push_str(&format!(" Read as {reading}."));
    }
    f.message = message;
    f.fingerprint = fingerprint(&rule.id, Some(&path), Some(&hit.shown));
    f.subject = hit.subject.clone().map(Box::new);
    f
}

/// A document rule's regexes, compiled once for all the objects it is matched against.
#[derive(Debug, Default, Clone, Copy)]
pub struct Patterns<'r> {
    /// `becomes_matching`.
    pub becomes: Option<&'r regex::Regex>,
    /// `written_by`.
    pub written_by: Option<&'r regex::Regex>,
}

/// Every hit of one rule over the paired objects.
pub fn hits(
    rule: &DocumentMatch,
    patterns: Patterns<'_>,
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
            super::values::value_hits(rule, &parsed, patterns, files, &defined, pair, &mut out);
        }
    }
    out.sort_by(|a, b| (a.file, a.line, &a.shown).cmp(&(b.file, b.line, &b.shown)));
    out.dedup();
    out
}

pub(super) fn describe(object: &Object) -> String {
    if object.kind.is_empty() || object.name.contains(&object.kind) {
        object.name.clone()
    } else {
        format!("{} {}", object.kind, object.name)
    }
}

/// How the file was read; `line` (the value's) says whether the chart's defaults gave it.
pub(super) fn reading(parsed: &Parsed, line: u32) -> String {
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

pub(super) fn opt_in(files: &[File<'_>], new: &Located<'_>, line: u32) -> bool {
    new.parsed.opens_branch(line, old_of_file(files, new))
}

/// Whether the object has none of the rule's `without` keys (a key set to null is there:
/// `default = null` makes a Terraform variable optional).
pub(super) fn without_ok(parsed: &KeyPaths, object: &Object) -> bool {
    parsed
        .without
        .iter()
        .all(|p| p.select(&object.body).is_empty())
}

/// A rule's key paths, parsed once for all the objects it is matched against (the loader
/// checked that each parses).
pub(super) struct KeyPaths {
    pub(super) paths: Vec<path::KeyPath>,
    pub(super) without: Vec<path::KeyPath>,
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
            let what = describe(old.object);
            let (shown, extra) = if rule.replaced_by.is_empty() {
                // A resource of the same type added beside it: perhaps a rename.
                let renamed = pairs.iter().find_map(|p| match (p.old, p.new) {
                    (None, Some(n))
                        if n.object.kind == old.object.kind
                            && crate::manifest::folder(files[n.file].path)
                                == crate::manifest::folder(files[old.file].path) =>
                    {
                        Some(n.object.name.clone())
                    }
                    _ => None,
                });
                let extra = renamed.map_or_else(String::new, |renamed| format!(
                    "{renamed} was added in the same change: if this is a rename, a `moved` block (Terraform) or keeping the old name lets the object stay instead of being deleted and created again."
                ));
                (format!("{what} removed"), extra)
            } else {
                // Only an object another takes the place of: one of the named kinds added in
                // its scope. An object of the same kind and name added anywhere in the change (a
                // kustomize component's patch beside the base it moved to) leaves the move
                // ambiguous, not a replacement.
                let moved = pairs.iter().any(|p| {
                    p.old.is_none()
                        && p.new.is_some_and(|n| {
                            n.object.kind == old.object.kind && n.object.name == old.object.name
                        })
                });
                let taking_its_place = pairs.iter().find_map(|p| match (p.old, p.new) {
                    (None, Some(n))
                        if rule.replaced_by.contains(&n.object.kind)
                            && crate::manifest::compare::scope(files[n.file].path) == scope =>
                    {
                        Some(describe(n.object))
                    }
                    _ => None,
                });
                let Some(new) = taking_its_place.filter(|_| !moved) else {
                    return;
                };
                (
                    format!("{what} removed, {new} added"),
                    format!("{new} is added in its place."),
                )
            };
            out.push(Hit {
                file: old.file,
                line: old.object.line,
                old_side: true,
                subject: None,
                shown,
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
            super::replaced::hits(files, pairs, old, new, out)
        }
        _ => {}
    }
}

/// A node's text for comparing and showing: a scalar's text, a collection's shape.
pub(super) fn value_text(node: &Node) -> String {
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
