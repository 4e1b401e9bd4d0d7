//! Compiled matchers for one rule: one GlobSet per glob list, one RegexSet per regex list.

use globset::GlobSet;
use regex::{Regex, RegexSet};

use crate::rules::Rule;
use crate::rules::load::build_glob;

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

/// A list of regexes: a RegexSet answers "any?", the single regexes give the matched text.
#[derive(Debug, Clone)]
pub struct LineMatcher {
    set: Option<RegexSet>,
    each: Vec<Regex>,
}

impl LineMatcher {
    pub fn new(patterns: &[String]) -> LineMatcher {
        let each: Vec<Regex> = patterns.iter().filter_map(|p| Regex::new(p).ok()).collect();
        let set = if each.is_empty() {
            None
        } else {
            RegexSet::new(each.iter().map(Regex::as_str)).ok()
        };
        LineMatcher { set, each }
    }

    pub fn is_match(&self, text: &str) -> bool {
        self.set.as_ref().is_some_and(|s| s.is_match(text))
    }

    /// Whether there is any regex to match.
    pub fn is_active(&self) -> bool {
        self.set.is_some()
    }

    /// The first match of the first matching regex, if any regex matches.
    pub fn find<'t>(&self, text: &'t str) -> Option<regex::Match<'t>> {
        let set = self.set.as_ref()?;
        let first = set.matches(text).into_iter().next()?;
        self.each[first].find(text)
    }
}

/// One rule, ready to match.
#[derive(Debug, Clone)]
pub struct CompiledRule<'r> {
    pub rule: &'r Rule,
    pub paths: GlobMatcher,
    pub exclude: GlobMatcher,
    pub added: LineMatcher,
    pub removed: LineMatcher,
    pub unless_changed: GlobMatcher,
    pub unless_added: LineMatcher,
    pub unless_matched: LineMatcher,
}

impl<'r> CompiledRule<'r> {
    pub fn new(rule: &'r Rule) -> CompiledRule<'r> {
        CompiledRule {
            rule,
            paths: GlobMatcher::new(&rule.matcher.paths),
            exclude: GlobMatcher::new(&rule.matcher.exclude),
            added: LineMatcher::new(&rule.matcher.added),
            removed: LineMatcher::new(&rule.matcher.removed),
            unless_changed: GlobMatcher::new(&rule.unless.changed),
            unless_added: LineMatcher::new(&rule.unless.added),
            unless_matched: LineMatcher::new(&rule.unless.matched),
        }
    }
}
