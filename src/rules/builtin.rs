//! The built-in rule packs, compiled into the binary from the project's `rules/` folder so
//! `forewarn check` works in any repository with no files at all.

use super::load::RuleFile;

/// Every shipped pack: (file name, text). A test checks this list against `rules/*.toml`.
pub const PACKS: &[(&str, &str)] = &[
    (
        "migrations.toml",
        include_str!("../../rules/migrations.toml"),
    ),
    ("config.toml", include_str!("../../rules/config.toml")),
    ("rollout.toml", include_str!("../../rules/rollout.toml")),
    (
        "migration-operations.toml",
        include_str!("../../rules/migration-operations.toml"),
    ),
    ("process.toml", include_str!("../../rules/process.toml")),
];

/// The built-in packs as rule files, named `builtin:rules/<file>`.
pub fn files() -> Vec<RuleFile> {
    PACKS
        .iter()
        .map(|(name, text)| RuleFile {
            path: format!("builtin:rules/{name}"),
            text: (*text).to_string(),
            builtin: true,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    #[test]
    fn every_pack_in_rules_dir_is_compiled_in() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/rules");
        let mut on_disk: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".toml"))
            .collect();
        on_disk.sort();
        let mut listed: Vec<String> = PACKS.iter().map(|(n, _)| n.to_string()).collect();
        listed.sort();
        assert_eq!(
            on_disk, listed,
            "add new packs to PACKS in src/rules/builtin.rs"
        );
    }

    #[test]
    fn builtin_packs_load_cleanly() {
        let set = crate::rules::load::load(&files(), &Config::default()).unwrap();
        assert!(!set.rules.is_empty());
        for rule in &set.rules {
            assert!(rule.origin.builtin);
        }
    }
}
