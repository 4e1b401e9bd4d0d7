//! Values the Kubernetes API server stores when a key is left out: kept as data in
//! `rules/data/kubernetes-defaults.toml`, for comparisons that tell a change the cluster sees
//! from one it does not.

use std::sync::OnceLock;

use serde::Deserialize;

use super::path::normalize;
use super::yaml::{Node, Value};

const TABLE: &str = include_str!("../../rules/data/kubernetes-defaults.toml");

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Table {
    default: Vec<Entry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    path: String,
    value: Option<toml::Value>,
}

/// One default: the end of the key's path (normalized keys, `*` any), and the value (`None`:
/// null or empty).
struct Default {
    path: Vec<String>,
    value: Option<String>,
}

fn table() -> &'static [Default] {
    static PARSED: OnceLock<Vec<Default>> = OnceLock::new();
    PARSED.get_or_init(|| {
        // The table ships inside the binary; a test proves it parses.
        let table: Table = toml::from_str(TABLE).unwrap_or(Table {
            default: Vec::new(),
        });
        table
            .default
            .into_iter()
            .map(|e| Default {
                path: e
                    .path
                    .split('.')
                    .map(|k| {
                        if k == "*" {
                            k.to_string()
                        } else {
                            normalize(k)
                        }
                    })
                    .collect(),
                value: e.value.map(|v| match v {
                    toml::Value::String(s) => s,
                    other => other.to_string(),
                }),
            })
            .collect()
    })
}

/// Whether `node`, at the key path `trail` (keys from the object's root, `*` for a list
/// item), holds the value the API server stores when the key is left out.
pub fn is_default(trail: &[String], node: &Node) -> bool {
    table().iter().any(|d| {
        d.path.len() <= trail.len()
            && d.path
                .iter()
                .zip(&trail[trail.len() - d.path.len()..])
                .all(|(want, key)| want == "*" || *want == normalize(key))
            && match (&d.value, &node.value) {
                (None, _) => node.is_empty() || node.as_str().is_some_and(str::is_empty),
                (Some(want), Value::Scalar(s)) => s.trim_matches(|c| c == '"' || c == '\'') == want,
                (Some(_), _) => false,
            }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trail(at: &str) -> Vec<String> {
        at.split('.').map(str::to_string).collect()
    }

    fn scalar(s: &str) -> Node {
        Node {
            line: 1,
            value: Value::Scalar(s.into()),
        }
    }

    #[test]
    fn the_table_parses_and_says_which_values_the_server_fills_in() {
        let table: Table = toml::from_str(TABLE).unwrap();
        assert!(!table.default.is_empty());
        let mode = trail("spec.volumeClaimTemplates.*.spec.volumeMode");
        assert!(is_default(&mode, &scalar("Filesystem")));
        assert!(!is_default(&mode, &scalar("Block")));
        // Keys compare as key paths do.
        assert!(is_default(
            &trail("spec.volume_claim_templates.*.spec.VolumeMode"),
            &scalar("Filesystem")
        ));
        // Elsewhere the same key is not the claim template's.
        assert!(!is_default(
            &trail("spec.volumeMode"),
            &scalar("Filesystem")
        ));
        let created = trail("spec.volumeClaimTemplates.*.metadata.creationTimestamp");
        let null = Node {
            line: 1,
            value: Value::Null,
        };
        assert!(is_default(&created, &null));
        assert!(!is_default(&created, &scalar("2024-01-01T00:00:00Z")));
        let expressions = trail("spec.selector.matchExpressions");
        let empty = Node {
            line: 1,
            value: Value::Seq(Vec::new()),
        };
        assert!(is_default(&expressions, &empty));
        let one = Node {
            line: 1,
            value: Value::Seq(vec![scalar("x")]),
        };
        assert!(!is_default(&expressions, &one));
    }
}
