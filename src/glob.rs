//! Path globs as forewarn writes them: globset syntax, where `*` stays inside one folder and
//! `**` crosses folders. Rules, configuration, the database profile and answer checks all use
//! these, so a glob means the same wherever it is written.

use globset::GlobSet;

/// Builds a glob the way the contract (docs/contract.md) promises: `/` is a literal separator, as in .gitignore.
pub fn build_glob(pattern: &str) -> std::result::Result<globset::Glob, globset::Error> {
    globset::GlobBuilder::new(pattern)
        .literal_separator(true)
        .backslash_escape(true)
        .build()
}

/// A list of globs compiled into one set. An empty list matches nothing.
#[derive(Debug, Clone)]
pub struct GlobMatcher(Option<GlobSet>);

impl GlobMatcher {
    pub fn new(patterns: &[String]) -> GlobMatcher {
        if patterns.is_empty() {
            return GlobMatcher(None);
        }
        let mut builder = globset::GlobSetBuilder::new();
        for p in patterns {
            // The loader has already rejected bad globs; one that slips through matches nothing.
            if let Ok(glob) = build_glob(p) {
                builder.add(glob);
            }
        }
        GlobMatcher(builder.build().ok())
    }

    pub fn is_match(&self, path: &str) -> bool {
        self.0.as_ref().is_some_and(|set| set.is_match(path))
    }
}
