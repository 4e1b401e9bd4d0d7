//! Which attribute changes make Terraform replace a resource (destroy, then create): kept as
//! data in `rules/data/terraform-replacement.toml`.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::Deserialize;

use super::path::{self, KeyPath};

const TABLE: &str = include_str!("../../rules/data/terraform-replacement.toml");

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Table {
    resource: HashMap<String, Entry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    attributes: Vec<String>,
}

/// The replacement-forcing attributes of a resource type, as key paths; empty when unknown.
pub fn forcing(resource_type: &str) -> &'static [KeyPath] {
    static PARSED: OnceLock<HashMap<String, Vec<KeyPath>>> = OnceLock::new();
    PARSED
        .get_or_init(|| {
            // The table ships inside the binary; a test proves it parses.
            let table: Table = toml::from_str(TABLE).unwrap_or(Table {
                resource: HashMap::new(),
            });
            table
                .resource
                .into_iter()
                .map(|(ty, e)| {
                    let paths = e
                        .attributes
                        .iter()
                        .filter_map(|a| path::parse(a).ok())
                        .collect();
                    (ty, paths)
                })
                .collect()
        })
        .get(resource_type)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_parses_whole() {
        let table: Table = toml::from_str(TABLE).unwrap();
        for (ty, entry) in &table.resource {
            for a in &entry.attributes {
                assert!(path::parse(a).is_ok(), "{ty}: {a}");
            }
        }
        assert!(
            forcing("aws_db_instance")
                .iter()
                .any(|p| p.text == "identifier")
        );
        assert!(forcing("no_such_resource").is_empty());
    }
}
