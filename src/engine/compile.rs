//! Compiled matchers for one rule: one GlobSet per glob list, one RegexSet per regex list.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use regex::{Regex, RegexSet};

use crate::rules::Rule;

/// A list of regexes: a RegexSet answers "any?", the single regexes give the matched text.
///
/// Compiled on first use, and each single regex only once it is the one that matched: most
/// rules never see a file they apply to, and compiling every regex of every rule up front was
/// most of the cost of a run with many rules. Rules with the same list share one matcher
/// ([`Matchers`]), so it is compiled once however many rules use it.
#[derive(Debug, Clone)]
pub struct LineMatcher(Arc<Compiled>);

#[derive(Debug)]
struct Compiled {
    patterns: Vec<String>,
    set: OnceLock<Option<RegexSet>>,
    each: Vec<OnceLock<Option<Regex>>>,
}

impl LineMatcher {
    pub fn new(patterns: &[String]) -> LineMatcher {
        LineMatcher(Arc::new(Compiled {
            patterns: patterns.to_vec(),
            set: OnceLock::new(),
            each: patterns.iter().map(|_| OnceLock::new()).collect(),
        }))
    }

    /// The same for every rule with this list of patterns (see [`Matchers`]): what a rule
    /// answers with it can be remembered for the others.
    pub fn id(&self) -> usize {
        Arc::as_ptr(&self.0) as usize
    }

    /// All the patterns in one set (the loader has checked them: one that fails to compile
    /// here, past a size limit, leaves the set matching nothing).
    fn set(&self) -> Option<&RegexSet> {
        self.0
            .set
            .get_or_init(|| RegexSet::new(&self.0.patterns).ok())
            .as_ref()
    }

    /// Pattern `index` on its own.
    fn single(&self, index: usize) -> Option<&Regex> {
        self.0
            .each
            .get(index)?
            .get_or_init(|| Regex::new(&self.0.patterns[index]).ok())
            .as_ref()
    }

    pub fn is_match(&self, text: &str) -> bool {
        match self.0.patterns.len() {
            0 => false,
            1 => self.single(0).is_some_and(|r| r.is_match(text)),
            _ => self.set().is_some_and(|s| s.is_match(text)),
        }
    }

    /// Whether there is any regex to match.
    pub fn is_active(&self) -> bool {
        !self.0.patterns.is_empty()
    }

    /// The first match of the first matching regex, if any regex matches.
    pub fn find<'t>(&self, text: &'t str) -> Option<regex::Match<'t>> {
        match self.0.patterns.len() {
            0 => None,
            1 => self.single(0)?.find(text),
            _ => {
                let set = self.set()?;
                // `is_match` stops at the first match; most text matches nothing.
                if !set.is_match(text) {
                    return None;
                }
                let first = set.matches(text).into_iter().next()?;
                self.find_with(first, text)
            }
        }
    }

    /// The match of pattern `index` alone (when a combined set already said which one matched).
    pub fn find_with<'t>(&self, index: usize, text: &'t str) -> Option<regex::Match<'t>> {
        self.single(index)?.find(text)
    }
}

/// Hands out one [`LineMatcher`] per distinct list of patterns: a team that copies a pack and
/// renames its rules (or packs that repeat a pattern list) compiles each list once.
#[derive(Default)]
pub struct Matchers(HashMap<Vec<String>, LineMatcher>);

impl Matchers {
    pub fn get(&mut self, patterns: &[String]) -> LineMatcher {
        if let Some(known) = self.0.get(patterns) {
            return known.clone();
        }
        let matcher = LineMatcher::new(patterns);
        self.0.insert(patterns.to_vec(), matcher.clone());
        matcher
    }
}

/// A rule's text that each of its findings carries.
#[derive(Debug)]
pub struct SharedText {
    pub id: Arc<str>,
    pub title: Arc<str>,
    pub category: Arc<str>,
    pub ask: Arc<str>,
    pub findings: Arc<[String]>,
}

/// One rule's regexes, ready to match. (Its globs are matched for all rules at once: see
/// `Engine`.)
#[derive(Debug)]
pub struct CompiledRule<'r> {
    pub rule: &'r Rule,
    /// What every finding of the rule repeats, shared by them.
    pub shared: SharedText,
    pub added: LineMatcher,
    pub removed: LineMatcher,
    pub unless_added: LineMatcher,
    pub unless_matched: LineMatcher,
}

impl<'r> CompiledRule<'r> {
    pub fn new(rule: &'r Rule, matchers: &mut Matchers) -> CompiledRule<'r> {
        CompiledRule {
            rule,
            shared: SharedText {
                id: rule.id.as_str().into(),
                title: rule.title.as_str().into(),
                category: rule.category.as_str().into(),
                ask: rule.ask.as_str().into(),
                findings: rule.findings.as_slice().into(),
            },
            added: matchers.get(&rule.matcher.added),
            removed: matchers.get(&rule.matcher.removed),
            unless_added: matchers.get(&rule.unless.added),
            unless_matched: matchers.get(&rule.unless.matched),
        }
    }
}
