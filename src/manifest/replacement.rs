//! Which attribute changes make Terraform replace a resource (destroy, then create): kept as
//! data in `rules/data/terraform-replacement.toml`, with what a value left unset stands for
//! (the provider's default, the provider block's setting, an older name of the attribute).

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
    #[serde(default)]
    aliases: HashMap<String, Vec<String>>,
    #[serde(default)]
    defaults: HashMap<String, toml::Value>,
    #[serde(default)]
    from_provider: Vec<String>,
}

/// One resource type's replacement-forcing attributes.
#[derive(Debug, Default)]
pub struct Resource {
    /// The attributes, as key paths.
    pub attributes: Vec<KeyPath>,
    /// By attribute: its older names, the same setting (`location`: `region`, `zone`).
    pub aliases: HashMap<String, Vec<KeyPath>>,
    /// By attribute: what the provider stores when it is not set (`path`: `/`).
    pub defaults: HashMap<String, String>,
    /// Attributes the provider block fills in when the resource does not set them.
    pub from_provider: Vec<String>,
}

impl Resource {
    /// Whether `attribute` is an older name of another attribute of the table: judged as
    /// that one.
    pub fn is_alias(&self, attribute: &str) -> bool {
        self.aliases
            .values()
            .flatten()
            .any(|alias| alias.text == attribute)
    }
}

fn parsed() -> &'static HashMap<String, Resource> {
    static PARSED: OnceLock<HashMap<String, Resource>> = OnceLock::new();
    PARSED.get_or_init(|| {
        // The table ships inside the binary; a test proves it parses.
        let table: Table = toml::from_str(TABLE).unwrap_or(Table {
            resource: HashMap::new(),
        });
        let paths = |v: &[String]| -> Vec<KeyPath> {
            v.iter().filter_map(|a| path::parse(a).ok()).collect()
        };
        table
            .resource
            .into_iter()
            .map(|(ty, e)| {
                let resource = Resource {
                    attributes: paths(&e.attributes),
                    aliases: e
                        .aliases
                        .iter()
                        .map(|(a, old)| (a.clone(), paths(old)))
                        .collect(),
                    defaults: e
                        .defaults
                        .into_iter()
                        .map(|(a, v)| {
                            let text = match v {
                                toml::Value::String(s) => s,
                                other => other.to_string(),
                            };
                            (a, text)
                        })
                        .collect(),
                    from_provider: e.from_provider,
                };
                (ty, resource)
            })
            .collect()
    })
}

/// A resource type's entry in the table; `None` when it is not listed.
pub fn resource(resource_type: &str) -> Option<&'static Resource> {
    parsed().get(resource_type)
}

/// The replacement-forcing attributes of a resource type, as key paths; empty when unknown.
pub fn forcing(resource_type: &str) -> &'static [KeyPath] {
    resource(resource_type).map_or(&[], |r| r.attributes.as_slice())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_parses_whole() {
        let table: Table = toml::from_str(TABLE).unwrap();
        for (ty, entry) in &table.resource {
            let listed = |a: &str| entry.attributes.iter().any(|x| x == a);
            for a in &entry.attributes {
                assert!(path::parse(a).is_ok(), "{ty}: {a}");
            }
            // What a missing value stands for is said of attributes the table lists.
            for a in entry.defaults.keys().chain(entry.aliases.keys()) {
                assert!(listed(a), "{ty}: {a} is not among its attributes");
            }
            for a in &entry.from_provider {
                assert!(listed(a), "{ty}: {a} is not among its attributes");
            }
            for old in entry.aliases.values().flatten() {
                assert!(path::parse(old).is_ok(), "{ty}: {old}");
            }
        }
        assert!(
            forcing("aws_db_instance")
                .iter()
                .any(|p| p.text == "identifier")
        );
        assert!(forcing("no_such_resource").is_empty());
        let lb = resource("aws_lb").unwrap();
        assert_eq!(
            lb.defaults.get("internal").map(String::as_str),
            Some("false")
        );
        let gke = resource("google_container_cluster").unwrap();
        assert!(gke.aliases["location"].iter().any(|p| p.text == "region"));
        let db = resource("aws_db_instance").unwrap();
        assert!(db.is_alias("name") && !db.is_alias("db_name"));
    }
}
