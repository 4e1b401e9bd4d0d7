//! Compiled matchers for one rule: one GlobSet per glob list, one RegexSet per regex list.

use globset::GlobSet;
use std::sync::OnceLock;

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
///
/// Compiled on first use: most rules never see a file they apply to, and compiling every regex
/// of every rule up front was most of the cost of a run with many rules.
#[derive(Debug)]
pub struct LineMatcher {
    patterns: Vec<String>,
    compiled: OnceLock<(Option<RegexSet>, Vec<Regex>)>,
}

impl LineMatcher {
    pub fn new(patterns: &[String]) -> LineMatcher {
        LineMatcher {
            patterns: patterns.to_vec(),
            compiled: OnceLock::new(),
        }
    }

    fn compiled(&self) -> &(Option<RegexSet>, Vec<Regex>) {
        self.compiled.get_or_init(|| {
            let each: Vec<Regex> = self
                .patterns
                .iter()
                .filter_map(|p| Regex::new(p).ok())
                .collect();
            let set = if each.is_empty() {
                None
            } else {
                RegexSet::new(each.iter().map(Regex::as_str)).ok()
            };
            (set, each)
        })
    }

    pub fn is_match(&self, text: &str) -> bool {
        !self.patterns.is_empty() && self.compiled().0.as_ref().is_some_and(|s| s.is_match(text))
    }

    /// Whether there is any regex to match.
    pub fn is_active(&self) -> bool {
        !self.patterns.is_empty()
    }

    /// The first match of the first matching regex, if any regex matches.
    pub fn find<'t>(&self, text: &'t str) -> Option<regex::Match<'t>> {
        if self.patterns.is_empty() {
            return None;
        }
        let (set, each) = self.compiled();
        if let [only] = each.as_slice() {
            return only.find(text);
        }
        let set = set.as_ref()?;
        // `is_match` stops at the first match; most text matches nothing.
        if !set.is_match(text) {
            return None;
        }
        let first = set.matches(text).into_iter().next()?;
        each[first].find(text)
    }
}

/// One rule, ready to match.
#[derive(Debug)]
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
