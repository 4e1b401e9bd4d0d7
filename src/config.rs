//! `forewarn.toml`: where the team's rules live, which built-in rules are in force and how loud,
//! which paths are never checked, and what deploys together (components) and how (rollout).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::error::{Error, Result, SourceError};
use crate::severity::Severity;
use crate::toml_span::{check_glob, toml_error};

pub const FILE_NAME: &str = "forewarn.toml";

/// How a component reaches its hosts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rollout {
    /// Canary or waves: a change reaches a few hosts first.
    Staged,
    /// Every host at once.
    Global,
}

impl Rollout {
    pub fn as_str(self) -> &'static str {
        match self {
            Rollout::Staged => "staged",
            Rollout::Global => "global",
        }
    }
}

/// Default number of components one change may touch before it counts as all-at-once.
pub const DEFAULT_MAX_COMPONENTS: usize = 3;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    base: Option<String>,
    rule_dirs: Option<Vec<String>>,
    analyses: Option<String>,
    ledger: Option<String>,
    #[serde(default)]
    exclude: Vec<Spanned<String>>,
    max_components_per_change: Option<usize>,
    #[serde(default)]
    rules: RawRulesConfig,
    #[serde(default)]
    component: Vec<RawComponent>,
    #[serde(default)]
    hotspots: RawHotspots,
    #[serde(default)]
    database: RawDatabase,
    #[serde(default)]
    names: BTreeMap<String, Vec<Spanned<String>>>,
}

/// `[database]`: the engine migrations run on, and per-path engines for a monorepo.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDatabase {
    engine: Option<Spanned<String>>,
    version: Option<toml::Value>,
    #[serde(default)]
    path: Vec<RawDatabasePath>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDatabasePath {
    paths: Vec<Spanned<String>>,
    engine: Spanned<String>,
    version: Option<toml::Value>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHotspots {
    enabled: Option<bool>,
    severity: Option<Severity>,
    include_drafts: Option<bool>,
}

/// `[hotspots]`: notes on changes that touch what an incident's culprit commits touched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HotspotsConfig {
    pub enabled: bool,
    pub severity: Severity,
    /// Whether records with `status = "draft"` count.
    pub include_drafts: bool,
}

impl Default for HotspotsConfig {
    fn default() -> Self {
        HotspotsConfig {
            enabled: true,
            severity: Severity::Note,
            include_drafts: false,
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRulesConfig {
    #[serde(default)]
    disable: Vec<Spanned<String>>,
    builtin: Option<bool>,
    #[serde(default)]
    severity: BTreeMap<Spanned<String>, Severity>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawComponent {
    name: String,
    paths: Vec<Spanned<String>>,
    rollout: Rollout,
}

/// What deploys together, and how it reaches its hosts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Component {
    pub name: String,
    pub paths: Vec<String>,
    pub rollout: Rollout,
}

/// An id named in the config, with where it was named (for "names no rule" warnings).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedId {
    pub id: String,
    pub line: usize,
}

/// The loaded config. `Config::default()` is what a repository with no `forewarn.toml` gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Where the config came from, for messages (`forewarn.toml`, or `main:forewarn.toml`).
    pub path: String,
    pub base: Option<String>,
    pub rule_dirs: Vec<String>,
    pub analyses: String,
    pub ledger: String,
    pub exclude: Vec<String>,
    pub max_components_per_change: Option<usize>,
    pub disable: Vec<NamedId>,
    pub builtin: bool,
    pub severity: Vec<(NamedId, Severity)>,
    pub components: Vec<Component>,
    pub hotspots: HotspotsConfig,
    /// `[database]`: what migration verdicts assume (detected from the repository when unset).
    pub database: crate::migration::profile::DatabaseConfig,
    /// `[names]`: a chart's (or module's) own names for the keys document rules read, by the
    /// name the rules use (`readinessProbe = ["healthCheck"]`).
    pub names: BTreeMap<String, Vec<String>>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            path: "(no forewarn.toml: defaults)".to_string(),
            base: None,
            rule_dirs: vec![".forewarn/rules".to_string()],
            analyses: ".forewarn/analyses".to_string(),
            ledger: ".forewarn/ledger".to_string(),
            exclude: Vec::new(),
            max_components_per_change: None,
            disable: Vec::new(),
            builtin: true,
            severity: Vec::new(),
            components: Vec::new(),
            hotspots: HotspotsConfig::default(),
            database: Default::default(),
            names: BTreeMap::new(),
        }
    }
}

impl Config {
    /// Parses a config file's text; every problem is reported with its line and column.
    pub fn parse(path: &str, text: &str) -> Result<Config> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| {
            Error::Source(vec![toml_error(path, text, &e).help(
                "see the forewarn.toml section of README.md for the keys a config may have",
            )])
        })?;
        let mut errors = Vec::new();
        let line_of = |span: std::ops::Range<usize>| crate::error::line_col(text, span.start).0;
        for glob in &raw.exclude {
            check_glob(path, text, glob, &mut errors);
        }
        let mut components = Vec::new();
        for c in raw.component {
            for glob in &c.paths {
                check_glob(path, text, glob, &mut errors);
            }
            components.push(Component {
                name: c.name,
                paths: c.paths.into_iter().map(Spanned::into_inner).collect(),
                rollout: c.rollout,
            });
        }
        if let Some(0) = raw.max_components_per_change {
            errors.push(
                SourceError::new(
                    path,
                    text,
                    0..0,
                    "max_components_per_change must be at least 1",
                )
                .help("set it to the number of components one change may deploy at once"),
            );
        }
        let database = parse_database(path, text, &raw.database, &mut errors);
        // Another name for a key must be one a key path can hold.
        for alias in raw.names.values().flatten() {
            if alias.get_ref().trim().is_empty() || alias.get_ref().contains('"') {
                errors.push(
                    SourceError::new(path, text, alias.span(), "not a key name")
                        .label("empty, or holds a double quote")
                        .help("write the key as the chart's values or manifests spell it, e.g. `readinessProbe = [\"healthCheck\"]`"),
                );
            }
        }
        if !errors.is_empty() {
            return Err(Error::Source(errors));
        }
        let defaults = Config::default();
        Ok(Config {
            path: path.to_string(),
            base: raw.base,
            rule_dirs: raw.rule_dirs.unwrap_or(defaults.rule_dirs),
            analyses: raw.analyses.unwrap_or(defaults.analyses),
            ledger: raw.ledger.unwrap_or(defaults.ledger),
            exclude: raw.exclude.into_iter().map(Spanned::into_inner).collect(),
            max_components_per_change: raw.max_components_per_change,
            disable: raw
                .rules
                .disable
                .into_iter()
                .map(|s| NamedId {
                    line: line_of(s.span()),
                    id: s.into_inner(),
                })
                .collect(),
            builtin: raw.rules.builtin.unwrap_or(true),
            severity: raw
                .rules
                .severity
                .into_iter()
                .map(|(k, v)| {
                    (
                        NamedId {
                            line: line_of(k.span()),
                            id: k.into_inner(),
                        },
                        v,
                    )
                })
                .collect(),
            components,
            hotspots: HotspotsConfig {
                enabled: raw.hotspots.enabled.unwrap_or(defaults.hotspots.enabled),
                severity: raw.hotspots.severity.unwrap_or(defaults.hotspots.severity),
                include_drafts: raw
                    .hotspots
                    .include_drafts
                    .unwrap_or(defaults.hotspots.include_drafts),
            },
            database,
            names: raw
                .names
                .into_iter()
                .map(|(k, v)| (k, v.into_iter().map(Spanned::into_inner).collect()))
                .collect(),
        })
    }
}

/// A version written as a number (`15`, `8.0`) or a string (`"15"`).
fn version_text(v: &Option<toml::Value>) -> Option<String> {
    match v.as_ref()? {
        toml::Value::String(s) => Some(s.clone()),
        toml::Value::Integer(i) => Some(i.to_string()),
        toml::Value::Float(f) => Some(f.to_string()),
        _ => None,
    }
}

fn parse_database(
    path: &str,
    text: &str,
    raw: &RawDatabase,
    errors: &mut Vec<SourceError>,
) -> crate::migration::profile::DatabaseConfig {
    use crate::migration::profile::{DatabaseConfig, Engine};
    let mut engine = |e: &Spanned<String>| {
        let parsed = Engine::parse(e.get_ref());
        if parsed.is_none() {
            let known: Vec<&str> = Engine::ALL.iter().map(|e| e.as_str()).collect();
            errors.push(
                SourceError::new(path, text, e.span(), "unknown database engine")
                    .label(format!("`{}` is not an engine forewarn knows", e.get_ref()))
                    .help(format!("use one of: {}", known.join(", "))),
            );
        }
        parsed
    };
    let default = raw.engine.as_ref().and_then(&mut engine);
    let mut paths = Vec::new();
    for p in &raw.path {
        if let Some(e) = engine(&p.engine) {
            paths.push((
                p.paths.iter().map(|g| g.get_ref().clone()).collect(),
                e,
                version_text(&p.version),
            ));
        }
    }
    for p in &raw.path {
        for glob in &p.paths {
            check_glob(path, text, glob, errors);
        }
    }
    DatabaseConfig {
        engine: default,
        version: version_text(&raw.version),
        paths,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_design_example() {
        let text = r#"
base = "main"
rule_dirs = [".forewarn/rules"]
analyses = ".forewarn/analyses"
exclude = ["vendor/**", "**/testdata/**"]
max_components_per_change = 3

[rules]
disable = ["k8s-recreate-strategy"]
builtin = true

[rules.severity]
new-migration-needs-deploy-step = "error"

[[component]]
name = "api"
paths = ["services/api/**"]
rollout = "staged"
"#;
        let c = Config::parse("forewarn.toml", text).unwrap();
        assert_eq!(c.base.as_deref(), Some("main"));
        assert_eq!(c.exclude, vec!["vendor/**", "**/testdata/**"]);
        assert_eq!(c.disable[0].id, "k8s-recreate-strategy");
        assert_eq!(c.disable[0].line, 9);
        assert_eq!(c.severity[0].1, Severity::Error);
        assert_eq!(c.components[0].rollout, Rollout::Staged);
    }

    #[test]
    fn unknown_key_names_line_and_column() {
        let err = Config::parse("forewarn.toml", "base = \"main\"\nrule_dir = []\n").unwrap_err();
        assert!(err.to_string().starts_with("forewarn.toml:2:1:"), "{err}");
    }

    #[test]
    fn bad_rollout_and_bad_glob_are_reported() {
        let err = Config::parse(
            "f.toml",
            "[[component]]\nname='a'\npaths=['a/**']\nrollout='all'\n",
        )
        .unwrap_err();
        assert!(err.to_string().contains("f.toml:4:"), "{err}");
        let err = Config::parse("f.toml", "exclude = ['a/[b']\n").unwrap_err();
        assert!(err.to_string().contains("f.toml:1:"), "{err}");
    }

    #[test]
    fn hotspots_section() {
        let c = Config::parse("f.toml", "").unwrap();
        assert_eq!(c.hotspots, HotspotsConfig::default());
        let c = Config::parse(
            "f.toml",
            "[hotspots]\nenabled = false\nseverity = 'warning'\ninclude_drafts = true\n",
        )
        .unwrap();
        assert!(!c.hotspots.enabled && c.hotspots.include_drafts);
        assert_eq!(c.hotspots.severity, Severity::Warning);
        let err = Config::parse("f.toml", "[hotspots]\nenable = false\n").unwrap_err();
        assert!(err.to_string().starts_with("f.toml:2:1:"), "{err}");
    }
}
