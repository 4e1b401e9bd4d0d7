//! `unless_defined`: the names that objects of the change stand for, so a reference to one of
//! them (a Secret the same change defines, or has an operator or cert-manager write) does not
//! count as new.

use std::collections::HashSet;

use crate::manifest::compare::Pair;
use crate::rules::document::{Defined, DocumentMatch};

/// Every name the new objects of `pairs` define or write, as `rule.unless_defined` says.
pub(super) fn names(rule: &DocumentMatch, pairs: &[Pair<'_>]) -> HashSet<String> {
    let mut out = HashSet::new();
    if rule.unless_defined.is_empty() {
        return out;
    }
    // Checked when the rule was loaded: an entry that does not read is never here.
    let entries: Vec<Defined> = rule
        .unless_defined
        .iter()
        .filter_map(|e| Defined::parse(e).ok())
        .collect();
    for object in pairs.iter().filter_map(|p| p.new).map(|n| n.object) {
        for entry in entries.iter().filter(|e| e.kind() == object.kind) {
            match entry {
                Defined::Named(_) => {
                    out.insert(object.name.clone());
                }
                Defined::Template(_, template) => {
                    out.insert(template.replace("{name}", &object.name));
                }
                Defined::At(_, path) => {
                    for found in path.select(&object.body) {
                        if let Some(name) = found.node.as_str() {
                            out.insert(name.to_string());
                        }
                    }
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::rules::document::Defined;

    #[test]
    fn entries_name_a_kind_a_template_or_a_key() {
        assert!(matches!(Defined::parse("Secret"), Ok(Defined::Named(k)) if k == "Secret"));
        assert!(matches!(
            Defined::parse("Cluster = {name}-app"),
            Ok(Defined::Template(k, t)) if k == "Cluster" && t == "{name}-app"
        ));
        assert!(matches!(
            Defined::parse("Certificate=spec.secretName"),
            Ok(Defined::At(k, p)) if k == "Certificate" && p.text == "spec.secretName"
        ));
        for bad in [
            "Cluster=",
            "=x",
            "Cluster={nam}-app",
            "Cluster={name}-{ns}",
            "X=spec..y",
        ] {
            assert!(Defined::parse(bad).is_err(), "{bad}");
        }
    }
}
