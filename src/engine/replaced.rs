//! The `replaced` comparison of document rules: a Terraform resource kept under its address
//! whose attributes force its replacement (`rules/data/terraform-replacement.toml`).
//!
//! Two values set are judged only when both are literals: a value computed at plan time
//! (`${var.name}`, any expression that is not a literal) may be the same value under another
//! expression. An attribute set where it was not, or no longer set, forces replacement whatever
//! the expression (`name_prefix` switched to `name`), unless the value then stays what it was:
//! the provider's default, the provider block's own setting, an older name of the attribute, an
//! expression that may give null, or a variable added in the same change (no caller sets it
//! yet) whose default is one of those.

use super::document::{Hit, value_text};
use crate::manifest::compare::{File, Located, Pair};
use crate::manifest::path::KeyPath;
use crate::manifest::replacement::{self, Resource};
use crate::manifest::{Object, folder};

/// An attribute set or unset: its name, the old and new values, the line to show.
struct Switched {
    attribute: String,
    was: Option<String>,
    now: Option<String>,
    line: u32,
}

pub(super) fn hits(
    files: &[File<'_>],
    pairs: &[Pair<'_>],
    old: Located<'_>,
    new: Located<'_>,
    out: &mut Vec<Hit>,
) {
    let Some(table) = replacement::resource(&new.object.kind) else {
        return;
    };
    let mut switched: Vec<Switched> = Vec::new();
    for attribute in &table.attributes {
        // An older name is judged as the attribute it names.
        if table.is_alias(&attribute.text) {
            continue;
        }
        let names: Vec<&KeyPath> = std::iter::once(attribute)
            .chain(table.aliases.get(&attribute.text).into_iter().flatten())
            .collect();
        let b = value_of(&names, old.object).0;
        let (a, a_line) = value_of(&names, new.object);
        if b == a {
            continue;
        }
        let line = a_line.unwrap_or(new.object.line);
        match (&b, &a) {
            (Some(b), Some(a)) => {
                if computed(b) || computed(a) {
                    continue;
                }
                out.push(Hit {
                    file: new.file,
                    line,
                    old_side: false,
                    subject: None,
                    shown: format!("{} {} = {a}", new.object.name, attribute.text),
                    matched: format!("{}.{}", new.object.name, attribute.text),
                    extra: format!(
                        "`{}` forces replacement of {}: it was `{b}`.",
                        attribute.text, new.object.kind
                    ),
                });
            }
            (None, Some(v)) | (Some(v), None) => {
                let side = if a.is_some() { new } else { old };
                let module = Module {
                    files,
                    pairs,
                    dir: folder(files[side.file].path),
                    new_side: a.is_some(),
                };
                if stays(table, attribute, v, &module, old.object, new.object) {
                    continue;
                }
                switched.push(Switched {
                    attribute: attribute.text.clone(),
                    was: b.clone(),
                    now: a.clone(),
                    line,
                });
            }
            (None, None) => {}
        }
    }
    if !switched.is_empty() {
        out.push(switched_hit(&new, &switched));
    }
}

/// The first of an attribute's names set on the object (null or empty is not set), and its
/// line.
fn value_of(names: &[&KeyPath], object: &Object) -> (Option<String>, Option<u32>) {
    names
        .iter()
        .find_map(|p| {
            let found = p.select(&object.body);
            let first = found.first()?;
            let text = value_text(first.node);
            (!text.is_empty()).then_some((Some(text), Some(first.node.line)))
        })
        .unwrap_or((None, None))
}

/// Whether an attribute set to `value` where it was not (or unset from it) stays what it was.
fn stays(
    table: &Resource,
    attribute: &KeyPath,
    value: &str,
    module: &Module<'_, '_>,
    old: &Object,
    new: &Object,
) -> bool {
    let name = attribute.text.as_str();
    // A nested block moved into a `dynamic` block (or out of one) is written elsewhere, not
    // unset.
    let block = name.split('.').next().unwrap_or("");
    let dynamic = |o: &Object| {
        name.contains('.') && o.body.get("dynamic").and_then(|d| d.get(block)).is_some()
    };
    if dynamic(old) || dynamic(new) {
        return true;
    }
    let default = table.defaults.get(name).map(String::as_str);
    let unset = |v: &str| v.is_empty() || v == "\"\"" || Some(v) == default;
    if !computed(value) {
        return unset(value);
    }
    // The provider block sets it for the resource otherwise: most likely the same value.
    if table.from_provider.iter().any(|a| a == name) {
        return true;
    }
    let value = module.resolve(value);
    if !computed(&value) {
        return unset(&value);
    }
    if may_be_null(&value) {
        return true;
    }
    // A variable this change adds: every caller gets its default.
    module
        .added_variable(&value)
        .is_some_and(|d| d.is_some_and(|d| unset(&d)))
}

/// What the change shows of one Terraform module (a folder) on one side.
struct Module<'f, 'a> {
    files: &'f [File<'a>],
    pairs: &'f [Pair<'a>],
    dir: &'f str,
    new_side: bool,
}

impl Module<'_, '_> {
    /// `${local.name}` as the module's `locals` write it, followed a few steps; the value
    /// itself when the change does not show it.
    fn resolve(&self, value: &str) -> String {
        let mut value = value.trim().to_string();
        for _ in 0..4 {
            let Some(name) = reference(&value, "local.") else {
                break;
            };
            let found = self
                .files
                .iter()
                .filter(|f| folder(f.path) == self.dir)
                .filter_map(|f| {
                    if self.new_side {
                        f.analysis.new.parsed()
                    } else {
                        f.analysis.old.parsed()
                    }
                })
                .flat_map(|p| p.locals.iter())
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone());
            match found {
                Some(v) => value = v,
                None => break,
            }
        }
        value
    }

    /// For `${var.name}` naming a variable this change adds to the module (on the new side):
    /// its default (`None` inside when it has none: callers must set it).
    fn added_variable(&self, value: &str) -> Option<Option<String>> {
        if !self.new_side {
            return None;
        }
        let name = format!("var.{}", reference(value, "var.")?);
        self.pairs.iter().find_map(|p| match (p.old, p.new) {
            (None, Some(n))
                if n.object.kind == "variable"
                    && n.object.name == name
                    && folder(self.files[n.file].path) == self.dir =>
            {
                Some(n.object.body.get("default").map(value_text))
            }
            _ => None,
        })
    }
}

/// The name in `${<prefix>name}` when the expression is only that reference.
fn reference<'v>(value: &'v str, prefix: &str) -> Option<&'v str> {
    let inner = value.strip_prefix("${")?.strip_suffix('}')?.trim();
    let name = inner.strip_prefix(prefix)?;
    name.chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        .then_some(name)
}

/// Whether an attribute's text is computed at plan time: HCL reads any expression that is not
/// a literal as `${...}`, and a string template keeps its `${...}` parts.
fn computed(value: &str) -> bool {
    value.contains("${")
}

/// Whether a computed expression may give null (`var.prefix ? var.name : null`, `try(x,
/// null)`): set for some callers only.
fn may_be_null(value: &str) -> bool {
    computed(value)
        && value
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .any(|w| w == "null")
}

/// One finding for what a resource sets or no longer sets (a switch is two attributes).
fn switched_hit(new: &Located<'_>, switched: &[Switched]) -> Hit {
    let name = &new.object.name;
    let kind = &new.object.kind;
    let set: Vec<&Switched> = switched.iter().filter(|s| s.now.is_some()).collect();
    let unset: Vec<&Switched> = switched.iter().filter(|s| s.now.is_none()).collect();
    let line = set.first().map(|s| s.line).unwrap_or(new.object.line);
    let list = |v: &[&Switched]| {
        v.iter()
            .map(|s| format!("`{}`", s.attribute))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let value = |v: &Option<String>| {
        let v = v.as_deref().unwrap_or("");
        if computed(v) {
            format!("`{v}`, computed at plan time")
        } else {
            format!("`{v}`")
        }
    };
    let values = |v: &[&Switched], now: bool| {
        v.iter()
            .map(|s| value(if now { &s.now } else { &s.was }))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let said = match (set.as_slice(), unset.as_slice()) {
        ([s], [u]) => format!(
            "{kind} switches from `{}` ({}) to `{}` ({}):",
            u.attribute,
            value(&u.was),
            s.attribute,
            value(&s.now)
        ),
        (s, []) => format!(
            "{kind} sets {} where it was not set ({}):",
            list(s),
            values(s, true)
        ),
        ([], u) => format!(
            "{kind} no longer sets {} (it was {}):",
            list(u),
            values(u, false)
        ),
        (s, u) => format!("{kind} sets {} and no longer sets {}:", list(s), list(u)),
    };
    let names: Vec<&str> = unset
        .iter()
        .chain(&set)
        .map(|s| s.attribute.as_str())
        .collect();
    Hit {
        file: new.file,
        line,
        old_side: false,
        subject: None,
        shown: format!("{name} {}", names.join(" -> ")),
        matched: format!("{name} ({})", names.join(" -> ")),
        extra: format!(
            "{said} Terraform replaces the resource when such an attribute goes from unset to set or back, whatever expression gives the value, unless it gives what the provider would choose anyway."
        ),
    }
}
