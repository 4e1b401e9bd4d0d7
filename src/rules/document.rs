//! `[rule.match.document]`: a rule over deploy configuration read as documents.
//!
//! ```toml
//! [rule.match.document]
//! kinds = ["Deployment", "StatefulSet"]   # object kinds; Terraform resource types; `*` globs
//! path = "spec.strategy.type"             # key path, or a list of them
//! becomes = ["Recreate"]                  # the comparison: exactly one
//! ```
//! Comparisons: `becomes` (values), `becomes_matching` (a regex), `was` (left one of these
//! values), `removed`, `added`, `rises`/`falls` (any rise or fall), `rises_above`/`falls_below`
//! (crosses a bound: a number or a percentage), `percent_above`, `changed` (any other value,
//! compared as documents: a label added to or removed from a selector), `replaced` (Terraform: an
//! attribute that forces replacement changed). Without `path`, `removed`/`added` are about the
//! object itself.

use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::error::SourceError;
use crate::manifest::path;

/// A value as written in TOML: a string, a number or a boolean.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum RawScalar {
    Text(String),
    Integer(i64),
    Float(f64),
    Bool(bool),
}

impl RawScalar {
    fn text(&self) -> String {
        match self {
            RawScalar::Text(s) => s.clone(),
            RawScalar::Integer(i) => i.to_string(),
            RawScalar::Float(f) => f.to_string(),
            RawScalar::Bool(b) => b.to_string(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDocument {
    #[serde(default)]
    kinds: Vec<Spanned<String>>,
    path: Option<Spanned<OneOrMany>>,
    becomes: Option<Spanned<Vec<RawScalar>>>,
    becomes_matching: Option<Spanned<String>>,
    was: Option<Spanned<Vec<RawScalar>>>,
    removed: Option<Spanned<bool>>,
    added: Option<Spanned<bool>>,
    rises: Option<Spanned<bool>>,
    falls: Option<Spanned<bool>>,
    rises_above: Option<Spanned<RawScalar>>,
    falls_below: Option<Spanned<RawScalar>>,
    percent_above: Option<Spanned<RawScalar>>,
    replaced: Option<Spanned<bool>>,
    changed: Option<Spanned<bool>>,
    fallback_changed: Option<Spanned<bool>>,
    /// The value assumed when the key is absent from an object that exists (Kubernetes
    /// defaults: `maxUnavailable` is 25%).
    default: Option<Spanned<RawScalar>>,
    /// New values that do not count (`rises` except to `100%`, which another rule reports).
    #[serde(default)]
    except: Vec<RawScalar>,
    /// Key paths the new object must not have (a variable added `without = ["default"]`).
    #[serde(default)]
    without: Vec<Spanned<String>>,
    /// Kinds: a value naming an object of one of these kinds in the change (a Secret defined
    /// beside the Deployment that reads it) does not count. `Kind=template` names what an
    /// object of that kind writes instead: `Cluster={name}-app` (the operator writes a Secret
    /// named after the object), `Certificate=spec.secretName` (the key holding the name).
    #[serde(default)]
    unless_defined: Vec<String>,
    /// Keys beside the value that answer the rule: `{ optional = "true" }` next to a
    /// `secretKeyRef.name`.
    #[serde(default)]
    unless_beside: std::collections::BTreeMap<String, RawScalar>,
    /// Kinds left out even when `kinds` matches them (`null_resource` among `*_*`).
    #[serde(default)]
    not_kinds: Vec<String>,
    /// Kinds: an object removed together with one of these in its folder or chart is retired
    /// with it (a disruption budget removed with its workload).
    #[serde(default)]
    unless_removed_with: Vec<String>,
    /// Kinds: with `removed`, only an object that one of these, added in the same folder or
    /// chart, takes the place of (a workload renamed, or turned from a Deployment into a
    /// StatefulSet): the old one is deleted before the new one serves.
    replaced_by: Option<Spanned<Vec<String>>>,
    /// Helm values: a new value that the chart's templates wrote themselves before the change
    /// (an image moved from a template into values), each form made from the value (`{value}`)
    /// and the keys beside it (`{repository}:{value}`), does not count.
    #[serde(default)]
    unless_moved_from_template: Vec<String>,
    /// By the value's own key: keys one of which must sit beside it for the value to count
    /// (`version = ["repository", "repo"]`: an image's `version` is its tag only beside what
    /// names the image). Values at other keys are not affected.
    #[serde(default)]
    needs_beside: std::collections::BTreeMap<String, Vec<String>>,
    /// Helm templates: the value counts only where an action writes it and its line, as the
    /// template has it (`version: {{ .Chart.AppVersion }}`), matches this regex. A literal
    /// value, or one read from plain YAML, never matches.
    written_by: Option<Spanned<String>>,
    /// Only objects the old side of the change already had: a value on an object the change
    /// creates does not count (prune on a new Kustomization, which has nothing to delete yet).
    existing: Option<Spanned<bool>>,
}

/// A number or a share, as a bound or a value.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub enum Amount {
    Count(f64),
    Percent(f64),
}

impl Amount {
    pub fn parse(text: &str) -> Option<Amount> {
        let t = text.trim().trim_matches(|c| c == '"' || c == '\'');
        match t.strip_suffix('%') {
            Some(p) => p.trim().parse().ok().map(Amount::Percent),
            None => t.parse().ok().map(Amount::Count),
        }
    }
}

impl Eq for Amount {}

/// How the old and new values must differ.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Compare {
    Becomes(Vec<String>),
    BecomesMatching(String),
    Was(Vec<String>),
    Removed,
    Added,
    Rises,
    Falls,
    RisesAbove(Amount),
    FallsBelow(Amount),
    Replaced,
    Changed,
    /// Terraform: the fallback of `lookup(map, key, fallback)`, `try(..., fallback)` or
    /// `coalesce(..., fallback)` changed, the rest of the call the same: the value a caller gets
    /// when it leaves the key unset.
    FallbackChanged,
}

/// A checked `[rule.match.document]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DocumentMatch {
    pub kinds: Vec<String>,
    /// Key paths as written (each parses: the loader checked); empty: the object itself.
    pub paths: Vec<String>,
    pub compare: Compare,
    pub default: Option<String>,
    pub except: Vec<String>,
    pub without: Vec<String>,
    pub unless_defined: Vec<String>,
    pub unless_beside: Vec<(String, String)>,
    pub not_kinds: Vec<String>,
    pub unless_removed_with: Vec<String>,
    /// With `removed`: only when an object of one of these kinds is added in its folder or chart.
    pub replaced_by: Vec<String>,
    pub unless_moved_from_template: Vec<String>,
    pub needs_beside: Vec<(String, Vec<String>)>,
    pub written_by: Option<String>,
    /// Only objects the old side already had.
    pub existing: bool,
}

impl DocumentMatch {
    /// What the rule compares, in words, one line each (for `explain` and the docs).
    pub fn describe(&self) -> String {
        use std::fmt::Write;
        let quote = |v: &[String]| {
            v.iter()
                .map(|x| format!("`{x}`"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut s = String::new();
        let kinds = if self.kinds.is_empty() {
            "any object".to_string()
        } else {
            format!("objects of kind {}", quote(&self.kinds))
        };
        let _ = writeln!(
            s,
            "  read as documents (YAML, Helm templates, Terraform), {kinds}, old side paired with new across the files of the change"
        );
        let at = if self.paths.is_empty() {
            "the object itself".to_string()
        } else {
            format!("the value at {}", quote(&self.paths))
        };
        let how = match &self.compare {
            Compare::Becomes(v) => format!("becomes one of {}", quote(v)),
            Compare::BecomesMatching(r) => format!("becomes a value matching `{r}`"),
            Compare::Was(v) => format!("was one of {} and is no longer", quote(v)),
            Compare::Removed if self.paths.is_empty() => {
                "is removed while its folder or chart keeps other objects".to_string()
            }
            Compare::Removed => "is removed (or emptied) while the object stays".to_string(),
            Compare::Added => "is added".to_string(),
            Compare::Rises => "rises".to_string(),
            Compare::Falls => "falls".to_string(),
            Compare::RisesAbove(b) => format!("rises above {}", amount_text(*b)),
            Compare::FallsBelow(b) => format!("falls below {}", amount_text(*b)),
            Compare::Changed => {
                "changes while the object stays (a value the template computes is not judged, nor a key added or removed with the value the API server stores without it)"
                    .to_string()
            }
            Compare::Replaced => {
                "changes an attribute that forces Terraform to replace it (rules/data/terraform-replacement.toml)".to_string()
            }
            Compare::FallbackChanged => {
                "holds a `lookup`, `try` or `coalesce` whose fallback changes, the rest of the call the same".to_string()
            }
        };
        let _ = writeln!(s, "  where {at} {how}");
        if let Some(d) = &self.default {
            let _ = writeln!(s, "  (a missing value counts as `{d}`)");
        }
        if !self.except.is_empty() {
            let _ = writeln!(s, "  except new values {}", quote(&self.except));
        }
        if !self.without.is_empty() {
            let _ = writeln!(s, "  when the object has no {}", quote(&self.without));
        }
        if !self.unless_defined.is_empty() {
            let _ = writeln!(
                s,
                "  unless the value names an object of kind {} in the change",
                quote(&self.unless_defined)
            );
        }
        if !self.not_kinds.is_empty() {
            let _ = writeln!(s, "  but not objects of kind {}", quote(&self.not_kinds));
        }
        if !self.unless_moved_from_template.is_empty() {
            let _ = writeln!(
                s,
                "  unless the chart's templates wrote it before the change, as {}",
                quote(&self.unless_moved_from_template)
            );
        }
        if !self.replaced_by.is_empty() {
            let _ = writeln!(
                s,
                "  only when an object of kind {} is added in its folder or chart (one takes the other's place)",
                quote(&self.replaced_by)
            );
        }
        if !self.unless_removed_with.is_empty() {
            let _ = writeln!(
                s,
                "  unless removed together with an object of kind {} in its folder or chart",
                quote(&self.unless_removed_with)
            );
        }
        for (k, v) in &self.unless_beside {
            let _ = writeln!(s, "  unless `{k}: {v}` sits beside the value");
        }
        for (k, v) in &self.needs_beside {
            let _ = writeln!(
                s,
                "  a value at key `{k}` counts only with one of {} beside it",
                quote(v)
            );
        }
        if let Some(r) = &self.written_by {
            let _ = writeln!(
                s,
                "  only where a Helm template action writes the value, on a line matching `{r}`"
            );
        }
        if self.existing {
            let _ = writeln!(
                s,
                "  only on objects that existed before the change (not on one it creates)"
            );
        }
        s
    }

    /// Whether `kind` is one the rule names (`*` matches any run of characters).
    pub fn names_kind(&self, kind: &str) -> bool {
        (self.kinds.is_empty() || self.kinds.iter().any(|k| wildcard(k, kind)))
            && !self.not_kinds.iter().any(|k| wildcard(k, kind))
    }
}

fn amount_text(a: Amount) -> String {
    match a {
        Amount::Count(n) => n.to_string(),
        Amount::Percent(p) => format!("{p}%"),
    }
}

fn wildcard(pattern: &str, text: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == text,
        Some((head, tail)) => {
            text.len() >= head.len()
                && text.starts_with(head)
                && (0..=text.len() - head.len())
                    .filter(|&i| text.is_char_boundary(head.len() + i))
                    .any(|i| wildcard(tail, &text[head.len() + i..]))
        }
    }
}

/// Checks a raw document match, pushing every problem with its span.
pub fn check(
    file: &str,
    text: &str,
    table_span: std::ops::Range<usize>,
    raw: RawDocument,
    errors: &mut Vec<SourceError>,
) -> Option<DocumentMatch> {
    let mut ok = true;
    let mut paths = Vec::new();
    if let Some(p) = &raw.path {
        let list = match p.get_ref() {
            OneOrMany::One(s) => vec![s.clone()],
            OneOrMany::Many(v) => v.clone(),
        };
        for one in &list {
            if let Err(why) = path::parse(one) {
                ok = false;
                errors.push(
                    SourceError::new(file, text, p.span(), "invalid key path")
                        .label(why)
                        .help("key paths are keys joined by `.`: `spec.strategy.type`; `*` is any key or list item, `**` any depth; quote a key with a dot: `metadata.annotations.\"helm.sh/hook\"`"),
                );
            }
        }
        paths = list;
    }
    for w in &raw.without {
        if let Err(why) = path::parse(w.get_ref()) {
            ok = false;
            errors.push(
                SourceError::new(file, text, w.span(), "invalid key path in `without`").label(why),
            );
        }
    }
    let amount = |v: &Spanned<RawScalar>, errors: &mut Vec<SourceError>| {
        let parsed = Amount::parse(&v.get_ref().text());
        if parsed.is_none() {
            errors.push(
                SourceError::new(file, text, v.span(), "a bound is a number or a percentage")
                    .label("expected e.g. 1 or \"25%\""),
            );
        }
        parsed
    };
    let flag = |f: &Option<Spanned<bool>>| f.as_ref().map(|f| (*f.get_ref(), f.span()));
    let mut chosen: Vec<(Compare, std::ops::Range<usize>)> = Vec::new();
    if let Some(v) = &raw.becomes {
        chosen.push((
            Compare::Becomes(v.get_ref().iter().map(RawScalar::text).collect()),
            v.span(),
        ));
    }
    if let Some(v) = &raw.becomes_matching {
        if let Err(e) = regex::Regex::new(v.get_ref()) {
            ok = false;
            errors.push(super::load::invalid_regex(
                file,
                text,
                v.span(),
                &e.to_string(),
            ));
        }
        chosen.push((Compare::BecomesMatching(v.get_ref().clone()), v.span()));
    }
    if let Some(v) = &raw.was {
        chosen.push((
            Compare::Was(v.get_ref().iter().map(RawScalar::text).collect()),
            v.span(),
        ));
    }
    for (f, compare) in [
        (flag(&raw.removed), Compare::Removed),
        (flag(&raw.added), Compare::Added),
        (flag(&raw.rises), Compare::Rises),
        (flag(&raw.falls), Compare::Falls),
        (flag(&raw.replaced), Compare::Replaced),
        (flag(&raw.changed), Compare::Changed),
        (flag(&raw.fallback_changed), Compare::FallbackChanged),
    ] {
        match f {
            Some((true, span)) => chosen.push((compare, span)),
            Some((false, span)) => {
                ok = false;
                errors.push(
                    SourceError::new(file, text, span, "a comparison flag is only ever `true`")
                        .help("remove the key, or pick another comparison"),
                );
            }
            None => {}
        }
    }
    for (v, up) in [
        (&raw.rises_above, true),
        (&raw.percent_above, true),
        (&raw.falls_below, false),
    ] {
        if let Some(v) = v {
            match amount(v, errors) {
                Some(a) => chosen.push((
                    if up {
                        Compare::RisesAbove(a)
                    } else {
                        Compare::FallsBelow(a)
                    },
                    v.span(),
                )),
                None => ok = false,
            }
        }
    }
    let compare = match chosen.len() {
        1 => chosen.pop().map(|(c, _)| c),
        0 => {
            errors.push(
                SourceError::new(file, text, table_span.clone(), "a document match needs a comparison")
                    .label("none of becomes, becomes_matching, was, removed, added, rises, falls, rises_above, falls_below, percent_above, changed, fallback_changed, replaced")
                    .help("e.g. `becomes = [\"Recreate\"]` or `removed = true`"),
            );
            None
        }
        _ => {
            errors.push(
                SourceError::new(
                    file,
                    text,
                    chosen[1].1.clone(),
                    "a document match has one comparison",
                )
                .label("a second comparison here")
                .help("split it into two rules, one comparison each"),
            );
            None
        }
    };
    let compare = compare?;
    let needs_path = !matches!(
        compare,
        Compare::Removed | Compare::Added | Compare::Replaced
    );
    if needs_path && paths.is_empty() {
        errors.push(
            SourceError::new(file, text, table_span, "this comparison needs a key path")
                .label("no `path`")
                .help("add e.g. path = \"spec.replicas\""),
        );
        return None;
    }
    if let Some(w) = &raw.written_by {
        if let Err(e) = regex::Regex::new(w.get_ref()) {
            ok = false;
            errors.push(super::load::invalid_regex(
                file,
                text,
                w.span(),
                &e.to_string(),
            ));
        } else if !matches!(
            compare,
            Compare::Becomes(_) | Compare::BecomesMatching(_) | Compare::Added
        ) {
            ok = false;
            errors.push(
                SourceError::new(
                    file,
                    text,
                    w.span(),
                    "`written_by` needs a comparison of the new value",
                )
                .label("it narrows becomes, becomes_matching or added")
                .help("e.g. `becomes_matching = '⟨tpl⟩'` with it"),
            );
        }
    }
    // Conditions that narrow one comparison: with another they could never apply, and a rule
    // that reads as narrower than it runs would mislead whoever reads it.
    if let Some(e) = raw.existing.as_ref().filter(|e| *e.get_ref()) {
        if !matches!(
            compare,
            Compare::Becomes(_) | Compare::BecomesMatching(_) | Compare::Added
        ) {
            ok = false;
            errors.push(
                SourceError::new(
                    file,
                    text,
                    e.span(),
                    "`existing` needs a comparison of the new value",
                )
                .label("it narrows becomes, becomes_matching or added to objects the old side had")
                .help("use it with `becomes`, `becomes_matching` or `added`, or remove it"),
            );
        }
    }
    if let Some(r) = &raw.replaced_by {
        if compare != Compare::Removed || !paths.is_empty() {
            ok = false;
            errors.push(
                SourceError::new(
                    file,
                    text,
                    r.span(),
                    "`replaced_by` needs `removed = true` on the object itself",
                )
                .label("it narrows the removal of a whole object to one another takes the place of")
                .help("use it with `removed = true` and no `path`, or remove it"),
            );
        }
    }
    for entry in &raw.unless_defined {
        if let Err(why) = Defined::parse(entry) {
            errors.push(
                SourceError::new(file, text, table_span.clone(), "an `unless_defined` entry does not read")
                    .label(format!("`{entry}`: {why}"))
                    .help("write a kind (`Secret`), a kind and the name it writes (`Cluster={name}-app`), or a kind and the key that holds the name (`Certificate=spec.secretName`)"),
            );
            ok = false;
        }
    }
    if !ok {
        return None;
    }
    Some(DocumentMatch {
        kinds: raw.kinds.into_iter().map(Spanned::into_inner).collect(),
        paths,
        compare,
        default: raw.default.map(|d| d.into_inner().text()),
        except: raw.except.iter().map(RawScalar::text).collect(),
        without: raw.without.into_iter().map(Spanned::into_inner).collect(),
        unless_defined: raw.unless_defined,
        unless_beside: raw
            .unless_beside
            .iter()
            .map(|(k, v)| (k.clone(), v.text()))
            .collect(),
        not_kinds: raw.not_kinds,
        unless_removed_with: raw.unless_removed_with,
        replaced_by: raw.replaced_by.map(Spanned::into_inner).unwrap_or_default(),
        unless_moved_from_template: raw.unless_moved_from_template,
        needs_beside: raw.needs_beside.into_iter().collect(),
        written_by: raw.written_by.map(Spanned::into_inner),
        existing: raw.existing.is_some_and(|e| *e.get_ref()),
    })
}

/// One entry of `unless_defined`: what names an object of a kind stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Defined {
    /// The object's own name (`Secret`).
    Named(String),
    /// A name made from the object's (`Cluster={name}-app`).
    Template(String, String),
    /// The value at a key path of the object (`Certificate=spec.secretName`).
    At(String, crate::manifest::path::KeyPath),
}

impl Defined {
    pub fn parse(entry: &str) -> Result<Defined, String> {
        let Some((kind, what)) = entry.split_once('=') else {
            return Ok(Defined::Named(entry.trim().to_string()));
        };
        let (kind, what) = (kind.trim(), what.trim());
        if kind.is_empty() || what.is_empty() {
            return Err("a kind and what it writes, each side of `=`".into());
        }
        if what.contains('{') {
            let rest = what.replace("{name}", "");
            if !what.contains("{name}") || rest.contains('{') || rest.contains('}') {
                return Err("a name template holds `{name}` and no other placeholder".into());
            }
            return Ok(Defined::Template(kind.to_string(), what.to_string()));
        }
        crate::manifest::path::parse(what).map(|p| Defined::At(kind.to_string(), p))
    }

    pub fn kind(&self) -> &str {
        match self {
            Defined::Named(k) | Defined::Template(k, _) | Defined::At(k, _) => k,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_with_wildcards() {
        let m = DocumentMatch {
            kinds: vec!["aws_*".into(), "Deployment".into()],
            paths: vec![],
            compare: Compare::Removed,
            default: None,
            except: vec![],
            without: vec![],
            unless_defined: vec![],
            unless_beside: vec![],
            not_kinds: vec!["aws_iam_*".into()],
            unless_removed_with: vec![],
            replaced_by: vec![],
            unless_moved_from_template: vec![],
            needs_beside: vec![],
            written_by: None,
            existing: false,
        };
        assert!(m.names_kind("aws_db_instance"));
        assert!(m.names_kind("Deployment"));
        assert!(!m.names_kind("google_sql_database_instance"));
        assert!(!m.names_kind("aws_iam_role"));
    }

    /// `existing` and `replaced_by` narrow one comparison each: with another they are an error
    /// at their own line, not a rule that silently runs wider than it reads.
    #[test]
    fn narrowing_keys_need_the_comparison_they_narrow() {
        let errors = |text: &str| {
            let raw: RawDocument = toml::from_str(text).expect("reads");
            let mut errors = Vec::new();
            let checked = check("x.toml", text, 0..text.len(), raw, &mut errors);
            (checked.is_some(), errors)
        };
        let (ok, found) = errors(
            "kinds = [\"Kustomization\"]\npath = \"spec.prune\"\nrises = true\nexisting = true\n",
        );
        assert!(!ok);
        assert_eq!(found.len(), 1);
        assert!(
            found[0].message.contains("`existing`"),
            "{}",
            found[0].message
        );
        assert!(found[0].text[found[0].span.clone()].contains("true"));
        let (ok, found) = errors(
            "kinds = [\"Deployment\"]\npath = \"spec.replicas\"\nremoved = true\nreplaced_by = [\"StatefulSet\"]\n",
        );
        assert!(!ok);
        assert!(
            found[0].message.contains("`replaced_by`"),
            "{}",
            found[0].message
        );
        // With the comparisons they narrow, both read.
        assert!(errors("kinds = [\"Kustomization\"]\npath = \"spec.prune\"\nbecomes = [true]\nexisting = true\n").0);
        assert!(
            errors("kinds = [\"Deployment\"]\nremoved = true\nreplaced_by = [\"StatefulSet\"]\n").0
        );
    }

    #[test]
    fn amounts() {
        assert_eq!(Amount::parse("25%"), Some(Amount::Percent(25.0)));
        assert_eq!(Amount::parse("'3'"), Some(Amount::Count(3.0)));
        assert_eq!(Amount::parse("⟨tpl⟩"), None);
    }
}
