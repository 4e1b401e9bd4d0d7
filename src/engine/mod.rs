//! Matching: a [`ChangeSet`] and the rules in force give the findings. Pure, no I/O.
//!
//! Rules are compiled once ([`compile`]); every glob and regex was already checked by the loader,
//! so compiling here cannot fail on user input.
//!
//! One file per concern:
//! - `session` matches a change batch by batch, and `found` builds findings;
//! - `statement` matches whole statements;
//! - `operation` holds rules over migration operations;
//! - `document` holds rules over deploy configuration read as documents;
//! - `values` compares a key's old and new value for those rules;
//! - `defined` gives the names that the change's objects define or write.

mod changed;
mod compile;
mod defined;
pub mod document;
mod fallback;
mod found;
mod operation;
mod replaced;
mod session;
mod statement;
mod values;

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, OnceLock, RwLock};

use rayon::prelude::*;

use crate::config::Config;
use crate::diff::{ChangeSet, ChangedFile, FileStatus};
use crate::finding::Finding;
use crate::migration::Profile;
use crate::rules::Rule;
use crate::understand::{Understander, Understood};

pub use found::sort_findings;
use found::{FileState, Found, finding, first_pattern_per_rule, is_handled};

pub use crate::glob::GlobMatcher;
pub use compile::CompiledRule;

pub use crate::rules::load::SET_SIZE_LIMIT;

/// Rules compiled for matching, with the config's exclusions and components.
///
/// Matching runs per file, in parallel: one GlobSet (over every rule's `paths`) picks the rules
/// that can apply to a file before any line is read, and one RegexSet per set of candidate rules
/// (cached: files of one kind share it) answers, in a single pass over each line, which rules
/// match it. Only those rules then run their own regex to find the matched text.
pub struct Engine<'r> {
    rules: Vec<CompiledRule<'r>>,
    exclude: GlobMatcher,
    /// The team's rule folders: their files hold rule definitions and example diffs, which
    /// line rules for every file would match as if they were code.
    rule_dirs: GlobMatcher,
    components: Vec<(String, crate::rules::Rollout, GlobMatcher)>,
    max_components: Option<usize>,
    /// `[names]`: other names of the keys document rules read.
    names: std::collections::BTreeMap<String, Vec<String>>,
    /// The databases migration verdicts assume: from the config, or detected from the new side
    /// of the change the first time a migration needs it (see [`Engine::detect_profile_from`]).
    profile: OnceLock<Profile>,
    /// Where to detect the profile from, and the config's `[database]`.
    profile_source: (
        crate::migration::profile::DatabaseConfig,
        crate::diff::NewSide,
    ),
    /// Every rule's `paths` globs in one set; `path_rule[i]` is the rule of glob `i`.
    paths: IndexedGlobs,
    /// Rules with no `paths`: candidates for every file.
    unpathed: Vec<usize>,
    /// Every rule that matches statements: they share one combined set per side, whichever of
    /// them a file is a candidate for.
    statement_rules: Vec<usize>,
    /// Every rule's `exclude` globs in one set.
    excludes: IndexedGlobs,
    /// Every rule's `unless.changed` globs in one set.
    unless_changed: IndexedGlobs,
    /// Combined line regexes, by (candidate rules, removed side).
    /// Combined line regexes by candidate rules: `[added side, removed side]`.
    line_sets: [RwLock<LineSets>; 2],
}

/// Globs of many rules compiled into one set, remembering whose each glob is. A glob several
/// rules share (packs repeat their migration folders) is compiled once.
struct IndexedGlobs {
    set: globset::GlobSet,
    rules_of: Vec<Vec<usize>>,
}

impl IndexedGlobs {
    /// `(rule, globs, any case)`: a built-in rule's globs match paths in any case (`V2__x.SQL`
    /// is a migration too); a team's globs keep git's case, as in .gitignore.
    fn new<'a>(lists: impl Iterator<Item = (usize, &'a [String], bool)>) -> IndexedGlobs {
        let mut builder = globset::GlobSetBuilder::new();
        let mut index: HashMap<(&'a str, bool), usize> = HashMap::new();
        let mut rules_of: Vec<Vec<usize>> = Vec::new();
        for (rule, globs, any_case) in lists {
            for g in globs {
                if let Some(&at) = index.get(&(g.as_str(), any_case)) {
                    rules_of[at].push(rule);
                } else if let Ok(glob) = globset::GlobBuilder::new(g)
                    .literal_separator(true)
                    .backslash_escape(true)
                    .case_insensitive(any_case)
                    .build()
                {
                    builder.add(glob);
                    index.insert((g, any_case), rules_of.len());
                    rules_of.push(vec![rule]);
                }
            }
        }
        IndexedGlobs {
            set: builder
                .build()
                .unwrap_or_else(|_| globset::GlobSet::empty()),
            rules_of,
        }
    }

    /// Rules with a glob matching `path`, ascending, without repeats.
    fn rules_matching(&self, path: &str) -> Vec<usize> {
        let mut rules: Vec<usize> = self
            .set
            .matches(path)
            .into_iter()
            .flat_map(|g| self.rules_of[g].iter().copied())
            .collect();
        rules.sort_unstable();
        rules.dedup();
        rules
    }
}

/// Combined sets by candidate rules, each built once (see `Engine::line_set`).
type LineSets = HashMap<Vec<usize>, Arc<OnceLock<LineSet>>>;

/// Candidate rules of a file, and whether the set is for removed lines.
type LineSetKey = (Vec<usize>, bool);

/// The line regexes of several rules in one RegexSet.
struct LineSet {
    set: Option<regex::RegexSet>,
    /// For each pattern in `set`: the rules it belongs to, each with the pattern's index in
    /// that rule's list. Rules that share a pattern share one entry, compiled once.
    rule_of: Vec<Vec<(usize, usize)>>,
}

/// A file's candidate rules by how they match it (see `Engine::file_rules`).
#[derive(Default)]
struct FileRules {
    path_only: Vec<usize>,
    lines: Vec<usize>,
    statements: Vec<usize>,
    /// Operation rules, for a migration that was parsed.
    operations: Vec<usize>,
    /// `understood = false` rules, for a file whose structure could not be read.
    unread: Vec<usize>,
}

/// What one run of the engine found.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub findings: Vec<Finding>,
    /// Files not excluded by the config: what was actually looked at.
    pub files_checked: usize,
}

/// What the first pass learns about one file, from its path and status alone.
struct FileFacts {
    /// Index of the file in the change.
    index: usize,
    /// Rules that apply to this file (paths, exclude, status, rollout), ascending. Held for
    /// every file of the change, so as small as it can be: a team with many rules has hundreds
    /// of candidates a file.
    candidates: Box<[u32]>,
    /// Rules whose `unless.changed` this file satisfies.
    satisfies_unless_changed: Vec<usize>,
}

/// What matching one file leaves for the change-wide rules.
#[derive(Default, Clone)]
struct Tally {
    changed_lines: usize,
    /// Change-wide rules among the file's candidates whose `unless.added` the file answers.
    handled: Vec<usize>,
}

/// One run of the engine over a change whose lines may arrive in batches, so a large change
/// never has to be held in memory at once: [`Engine::begin`] learns every file from its path
/// and status, [`Session::match_files`] matches files as their lines are read, and
/// [`Session::finish`] adds the change-wide rules. [`Engine::check`] does all three on a change
/// already in memory.
pub struct Session<'e, 'r> {
    engine: &'e Engine<'r>,
    /// Facts of each file by index; `None` for files the config excludes.
    facts: Vec<Option<FileFacts>>,
    silenced: Vec<bool>,
    tallies: Vec<Option<Tally>>,
    files_checked: usize,
}

impl<'r> Engine<'r> {
    pub fn new(rules: &'r [Rule], config: &Config) -> Engine<'r> {
        let mut matchers = compile::Matchers::default();
        let compiled: Vec<CompiledRule<'r>> = rules
            .iter()
            .map(|r| CompiledRule::new(r, &mut matchers))
            .collect();
        Engine {
            paths: IndexedGlobs::new(
                rules
                    .iter()
                    .enumerate()
                    .map(|(i, r)| (i, r.matcher.paths.as_slice(), r.origin.builtin)),
            ),
            unpathed: (0..rules.len())
                .filter(|&i| rules[i].matcher.paths.is_empty())
                .collect(),
            statement_rules: (0..rules.len())
                .filter(|&i| {
                    let m = &rules[i].matcher;
                    m.statements && m.has_line_patterns() && !rules[i].threshold.is_set()
                })
                .collect(),
            excludes: IndexedGlobs::new(
                rules
                    .iter()
                    .enumerate()
                    .map(|(i, r)| (i, r.matcher.exclude.as_slice(), r.origin.builtin)),
            ),
            unless_changed: IndexedGlobs::new(
                rules
                    .iter()
                    .enumerate()
                    .map(|(i, r)| (i, r.unless.changed.as_slice(), false)),
            ),
            rules: compiled,
            // The ledger is forewarn's own record of what it caught: never part of a change.
            exclude: GlobMatcher::new(
                &config
                    .exclude
                    .iter()
                    .cloned()
                    .chain([format!("{}/**", config.ledger.trim_end_matches('/'))])
                    .collect::<Vec<_>>(),
            ),
            rule_dirs: GlobMatcher::new(
                &config
                    .rule_dirs
                    .iter()
                    .map(|d| format!("{}/**", d.trim_end_matches('/')))
                    .collect::<Vec<_>>(),
            ),
            components: config
                .components
                .iter()
                .map(|c| (c.name.clone(), c.rollout, GlobMatcher::new(&c.paths)))
                .collect(),
            max_components: config.max_components_per_change,
            names: config.names.clone(),
            profile: OnceLock::new(),
            profile_source: (config.database.clone(), crate::diff::NewSide::DiffOnly),
            line_sets: Default::default(),
        }
    }

    /// Detects the database profile, when the config does not give it, from this side of the
    /// change: only once a migration needs it (a walk of the tree costs more than most changes).
    pub fn detect_profile_from(mut self, new_side: &crate::diff::NewSide) -> Self {
        self.profile_source.1 = new_side.clone();
        self
    }

    pub fn profile(&self) -> &Profile {
        self.profile.get_or_init(|| {
            let (config, side) = &self.profile_source;
            Profile::load(config, &crate::diff::revision::SideReader::new(side))
        })
    }

    /// Names of the components `path` belongs to.
    fn components_of<'a>(
        &'a self,
        path: &'a str,
    ) -> impl Iterator<Item = &'a (String, crate::rules::Rollout, GlobMatcher)> + 'a {
        self.components
            .iter()
            .filter(move |(_, _, globs)| globs.is_match(path))
    }

    /// Runs every rule over a change held in memory.
    pub fn check(&self, changes: &ChangeSet) -> Outcome {
        let mut session = self.begin(&changes.files);
        let understander = Understander::open(changes);
        let understood = understander.batch(
            &changes.files,
            &session.wants_understanding(0, &changes.files),
            || self.profile(),
        );
        let mut findings = session.match_files(0, &changes.files, &understood);
        findings.extend(session.finish(&changes.files));
        sort_findings(&mut findings);
        Outcome {
            findings,
            files_checked: session.files_checked,
        }
    }

    /// Pass 1, over every file of the change by path and status (its lines need not be read
    /// yet): which rules apply to which file; which files answer an `unless.changed`.
    pub fn begin<'e>(&'e self, files: &[ChangedFile]) -> Session<'e, 'r> {
        let facts: Vec<Option<FileFacts>> = files
            .par_iter()
            .enumerate()
            .map(|(index, f)| (!self.exclude.is_match(&f.path)).then(|| self.facts(index, f)))
            .collect();
        // A rule is handled for the whole change when a file that is not one of its own
        // candidates matches its `unless.changed`.
        let mut silenced = vec![false; self.rules.len()];
        for fact in facts.iter().flatten() {
            for &r in &fact.satisfies_unless_changed {
                if fact.candidates.binary_search(&(r as u32)).is_err() {
                    silenced[r] = true;
                }
            }
        }
        Session {
            engine: self,
            files_checked: facts.iter().flatten().count(),
            tallies: vec![None; facts.len()],
            facts,
            silenced,
        }
    }

    fn facts(&self, index: usize, file: &ChangedFile) -> FileFacts {
        let mut candidates = self.paths.rules_matching(&file.path);
        candidates.extend(&self.unpathed);
        candidates.sort_unstable();
        candidates.dedup();
        // A renamed file counts by its new path; a deleted one by the path it had.
        let excluded = self.excludes.rules_matching(&file.path);
        // Rules that watched the file under its old name: for them a rename is not an addition.
        let watched_before = file
            .old_path
            .as_deref()
            .map(|old| self.paths.rules_matching(old))
            .unwrap_or_default();
        candidates.retain(|&i| {
            excluded.binary_search(&i).is_err()
                && self.is_candidate(
                    &self.rules[i],
                    file,
                    watched_before.binary_search(&i).is_ok()
                        || self.rules[i].rule.matcher.paths.is_empty(),
                )
        });
        if self.rule_dirs.is_match(&file.path) {
            // Rule files hold example diffs: a line rule that applies to every file would match
            // them as code. Rules that name such paths on purpose (the process pack) keep them.
            candidates.retain(|&i| {
                let m = &self.rules[i].rule.matcher;
                !m.has_line_patterns() || !m.paths.is_empty()
            });
        }
        FileFacts {
            index,
            candidates: candidates.into_iter().map(|i| i as u32).collect(),
            satisfies_unless_changed: self.unless_changed.rules_matching(&file.path),
        }
    }

    fn is_candidate(&self, rule: &CompiledRule, file: &ChangedFile, watched_before: bool) -> bool {
        let m = &rule.rule.matcher;
        if !m.status.is_empty() && !m.status.contains(&file.status) {
            // A file moved or copied in from a path the rule does not watch is new to it: a
            // migration moved into the migrations folder is a new migration.
            let moved_in = matches!(file.status, FileStatus::Renamed | FileStatus::Copied)
                && m.status.contains(&FileStatus::Added)
                && file.old_path.is_some()
                && !watched_before;
            if !moved_in {
                return false;
            }
        }
        if !m.rollout.is_empty()
            && !self
                .components_of(&file.path)
                .any(|(_, rollout, _)| m.rollout.contains(rollout))
        {
            return false;
        }
        true
    }

    /// The combined regexes of `rules` for one side, built once per distinct set of rules (a
    /// thread that asks while another builds it waits rather than building it again).
    fn line_set(&self, rules: &[usize], removed: bool) -> Arc<OnceLock<LineSet>> {
        let map = &self.line_sets[usize::from(removed)];
        // Looked up without a copy of the key: every file of every commit asks.
        let known = map.read().ok().and_then(|m| m.get(rules).cloned());
        let slot = match known {
            Some(slot) => slot,
            None => match map.write() {
                Ok(mut m) => m.entry(rules.to_vec()).or_default().clone(),
                Err(_) => Arc::default(),
            },
        };
        slot.get_or_init(|| self.build_line_set(rules, removed));
        slot
    }

    fn build_line_set(&self, rules: &[usize], removed: bool) -> LineSet {
        let mut patterns: Vec<&str> = Vec::new();
        let mut rule_of: Vec<Vec<(usize, usize)>> = Vec::new();
        let mut index: HashMap<&str, usize> = HashMap::new();
        for &r in rules {
            let m = &self.rules[r].rule.matcher;
            for (at, p) in if removed { &m.removed } else { &m.added }
                .iter()
                .enumerate()
            {
                let slot = *index.entry(p.as_str()).or_insert_with(|| {
                    patterns.push(p.as_str());
                    rule_of.push(Vec::new());
                    patterns.len() - 1
                });
                rule_of[slot].push((r, at));
            }
        }
        LineSet {
            set: if patterns.is_empty() {
                None
            } else {
                regex::RegexSetBuilder::new(&patterns)
                    .size_limit(SET_SIZE_LIMIT)
                    // Many rules' patterns in one lazy DFA: room for its states, so it does
                    // not give up and fall back to the much slower NFA simulation.
                    .dfa_size_limit(64 << 20)
                    .build()
                    .ok()
            },
            rule_of,
        }
    }

    /// Which of a file's candidate rules report the file itself, match its lines, or match its
    /// statements.
    fn file_rules(
        &self,
        fact: &FileFacts,
        file: &ChangedFile,
        silenced: &[bool],
        understood: Option<&Understood>,
    ) -> FileRules {
        let mut rules = FileRules::default();
        let parsed = understood
            .and_then(|u| u.migration.as_ref())
            .is_some_and(|a| a.is_parsed());
        let unread = understood.is_some_and(|u| u.unread_reason().is_some());
        // A YAML file that is not valid as written: its `invalid` rules say so, instead of the
        // note that it was read as lines.
        let invalid = understood
            .and_then(|u| u.manifest.as_ref())
            .is_some_and(|a| a.invalid_as_written().is_some());
        let invalid_rule = invalid
            && fact
                .candidates
                .iter()
                .any(|&i| !silenced[i as usize] && self.rules[i as usize].rule.matcher.invalid);
        let documents = understood
            .and_then(|u| u.manifest.as_ref())
            .is_some_and(|a| a.is_structured());
        for i in fact.candidates.iter().map(|&i| i as usize) {
            let rule = &self.rules[i];
            if silenced[i] || rule.rule.threshold.is_set() {
                continue;
            }
            let m = &rule.rule.matcher;
            if let Some(want) = m.understood {
                let fires = if m.invalid {
                    invalid
                } else {
                    unread && !invalid_rule
                };
                if !want && fires {
                    rules.unread.push(i);
                }
                continue;
            }
            if m.document.is_some() {
                // Read as documents: the change-wide pass (`document_findings`) matches it.
                if documents || !m.has_line_patterns() {
                    continue;
                }
            }
            // A migration that was parsed is matched by its operations; one that was not
            // (another framework, or unreadable) by the rule's line patterns, as if it had no
            // `operations`.
            if m.operations.is_set() && parsed {
                rules.operations.push(i);
                continue;
            }
            if !m.has_line_patterns() {
                rules.path_only.push(i);
            } else if file.binary {
                // Binary files keep their path rules but have no lines to match.
            } else if m.statements {
                rules.statements.push(i);
            } else {
                rules.lines.push(i);
            }
        }
        rules
    }

    /// Builds, on every thread, the combined regexes the files will ask for: compiling them is
    /// a large part of a run, and two threads must not build the same one.
    fn prepare_line_sets(
        &self,
        files: &[(&FileFacts, &ChangedFile, Option<&Understood>)],
        silenced: &[bool],
    ) {
        let mut wanted: std::collections::HashSet<LineSetKey> = Default::default();
        let is_built = |rules: &[usize], removed: bool| {
            self.line_sets[usize::from(removed)]
                .read()
                .is_ok_and(|m| m.get(rules).is_some_and(|slot| slot.get().is_some()))
        };
        for &(fact, file, understood) in files {
            let rules = self.file_rules(fact, file, silenced, understood);
            for (lines, removed) in [(&file.added, false), (&file.removed, true)] {
                if lines.is_empty() {
                    continue;
                }
                // Statement rules share one set, whichever of them the file is a candidate for.
                let statements: &[usize] = if rules.statements.is_empty() {
                    &[]
                } else {
                    &self.statement_rules
                };
                for list in [rules.lines.as_slice(), statements] {
                    if !list.is_empty() && !is_built(list, removed) {
                        wanted.insert((list.to_vec(), removed));
                    }
                }
            }
        }
        if wanted.is_empty() {
            return;
        }
        let mut wanted: Vec<LineSetKey> = wanted.into_iter().collect();
        // The largest first, so no thread is left building one big set at the end.
        wanted.sort_by_key(|(rules, _)| std::cmp::Reverse(rules.len()));
        wanted.par_iter().for_each(|(rules, removed)| {
            self.line_set(rules, *removed);
        });
    }

    /// Every finding of the file-level rules in one file.
    fn match_file(
        &self,
        fact: &FileFacts,
        file: &ChangedFile,
        silenced: &[bool],
        understood: Option<&Understood>,
    ) -> Vec<Finding> {
        let mut out = Vec::new();
        let FileRules {
            path_only,
            lines: line_rules,
            statements: statement_rules,
            operations,
            unread,
        } = self.file_rules(fact, file, silenced, understood);
        // One copy of the path, shared by the file's findings, made at the first of them.
        let shared_path = std::cell::OnceCell::new();
        let path = || {
            Some(Arc::clone(
                shared_path.get_or_init(|| Arc::from(file.path.as_str())),
            ))
        };
        if !operations.is_empty() || !unread.is_empty() {
            let path: Arc<str> = Arc::from(file.path.as_str());
            let db = self.profile().for_path(&file.path);
            if let Some(analysis) = understood.and_then(|u| u.migration.as_ref()) {
                let indexed = operation::Indexed::new(analysis);
                for &i in &operations {
                    operation::findings(&self.rules[i], &path, &indexed, &db, &mut out);
                }
            }
            let invalid = understood
                .and_then(|u| u.manifest.as_ref())
                .and_then(|a| a.invalid_as_written());
            let reason = understood.and_then(|u| u.unread_reason());
            for &i in &unread {
                let (why, line) = match (self.rules[i].rule.matcher.invalid, invalid) {
                    (true, Some((line, why))) => (
                        Some(line.map_or(why.to_string(), |l| format!("line {l}: {why}"))),
                        line,
                    ),
                    (true, None) => (None, None),
                    (false, _) => (reason.clone(), None),
                };
                if let Some(why) = why {
                    out.push(operation::unread(&self.rules[i], &path, &why, line));
                }
            }
        }
        let mut state = FileState::default();
        out.extend(unread::finding(self, fact, file, silenced));
        for &i in &path_only {
            let rule = &self.rules[i];
            if !state.is_handled(rule, file) {
                out.push(finding(rule, path(), None, false, None, None));
            }
        }
        if !statement_rules.is_empty() {
            // Split each side into statements once, for every rule that reads statements. One
            // RegexSet of every such rule's patterns skips, in one pass that stops at the first
            // match, the statements none of them matches (most); on the rest it says which
            // patterns match, and each of those rules finds its match with that pattern alone.
            let sql = file.path.to_ascii_lowercase().ends_with(".sql");
            let mut matched_rules: Vec<(usize, usize, usize)> = Vec::new();
            for (lines, removed) in [(&file.added, false), (&file.removed, true)] {
                if lines.is_empty() {
                    continue;
                }
                // One set of every statement rule's patterns serves every kind of file: compiling
                // a set of long statement patterns for each kind cost more than searching the
                // larger one. Matches of rules this file is no candidate for are dropped.
                let slot = self.line_set(&self.statement_rules, removed);
                let Some(set) = slot.get() else { continue };
                let Some(regexes) = &set.set else { continue };
                for stmt in statement::split(lines, sql) {
                    if !regexes.is_match(stmt.text) {
                        continue;
                    }
                    first_pattern_per_rule(set, regexes.matches(stmt.text), &mut matched_rules);
                    // The shared set holds other files' rules too.
                    matched_rules.retain(|(i, _, _)| statement_rules.binary_search(i).is_ok());
                    self.fire(
                        file,
                        removed,
                        stmt.text,
                        &matched_rules,
                        &mut state,
                        |rule, m| {
                            let (line, text) = stmt.line_at(m.start);
                            out.push(finding(
                                rule,
                                path(),
                                Some(line),
                                removed,
                                Some(text),
                                Some(m.text),
                            ));
                        },
                    );
                }
            }
        }
        if !line_rules.is_empty() {
            // A deploy-configuration rule read as lines in a Helm template: not in a branch the
            // change opened (it reaches only the installs that turn it on).
            let opt_in = understood.and_then(|u| u.template_opt_in.as_deref());
            let opened = |rule: &CompiledRule<'r>, line: u32| {
                let deploy = rule.rule.matcher.document.is_some()
                    || matches!(rule.rule.category.as_str(), "config" | "rollout");
                deploy && opt_in.is_some_and(|o| o.get(line as usize - 1) == Some(&true))
            };
            for (lines, removed) in [(&file.added, false), (&file.removed, true)] {
                if lines.is_empty() {
                    continue;
                }
                let slot = self.line_set(&line_rules, removed);
                let Some(set) = slot.get() else { continue };
                let Some(regexes) = &set.set else { continue };
                let mut matched_rules: Vec<(usize, usize, usize)> = Vec::new();
                for (line, text) in lines.iter() {
                    if !regexes.is_match(text) {
                        continue;
                    }
                    first_pattern_per_rule(set, regexes.matches(text), &mut matched_rules);
                    self.fire(
                        file,
                        removed,
                        text,
                        &matched_rules,
                        &mut state,
                        |rule, m| {
                            if !removed && opened(rule, line) {
                                return;
                            }
                            out.push(finding(
                                rule,
                                path(),
                                Some(line),
                                removed,
                                Some(text),
                                Some(m.text),
                            ));
                        },
                    );
                }
            }
        }
        out
    }

    /// Calls `on` for each of `matched` (a rule, its pattern's index in its list, the pattern's
    /// index in the combined set) that fires on `text`: the file does not answer the rule's
    /// `unless.added`, and `text` does not match its `unless.matched`. Where the pattern matched
    /// is found once for all the rules that share it.
    fn fire<'t>(
        &self,
        file: &ChangedFile,
        removed: bool,
        text: &'t str,
        matched: &[(usize, usize, usize)],
        state: &mut FileState,
        mut on: impl FnMut(&CompiledRule<'r>, Found<'t>),
    ) {
        state.found.clear();
        for &(i, at, pattern) in matched {
            let rule = &self.rules[i];
            // `unless.added` reads every added line: asked only once a rule matched.
            if state.is_handled(rule, file) {
                continue;
            }
            let Some(m) = state.found.find(rule, removed, at, pattern, text) else {
                continue;
            };
            if !rule.rule.unless.matched.is_empty() && rule.unless_matched.is_match(text)
                || rule.rule.unless.kept && !removed && found::kept(file, m.text)
            {
                continue;
            }
            on(rule, m);
        }
    }

    /// A change-wide rule over its candidate files that did not answer it: (path, changed lines).
    fn check_threshold(
        &self,
        rule: &CompiledRule<'r>,
        counted: &[(&str, usize)],
        out: &mut Vec<Finding>,
    ) {
        if counted.is_empty() {
            return;
        }
        let t = &rule.rule.threshold;
        let lines: usize = counted.iter().map(|&(_, n)| n).sum();
        let components: BTreeSet<&str> = counted
            .iter()
            .flat_map(|&(path, _)| self.components_of(path).map(|(name, _, _)| name.as_str()))
            .collect();
        let component_limit = t.components.map(|n| self.max_components.unwrap_or(n));
        let over = t.files.is_some_and(|n| counted.len() > n)
            || t.lines.is_some_and(|n| lines > n)
            || component_limit.is_some_and(|n| components.len() > n);
        if !over {
            return;
        }
        let summary = if t.components.is_some() || !rule.rule.matcher.rollout.is_empty() {
            let names: Vec<&str> = components.iter().copied().collect();
            format!(
                "{} component{}: {}",
                names.len(),
                if names.len() == 1 { "" } else { "s" },
                names.join(", ")
            )
        } else if t.lines.is_some() && t.files.is_none() {
            format!("{lines} changed lines in {} files", counted.len())
        } else {
            format!("{} files, {lines} changed lines", counted.len())
        };
        out.push(finding(
            rule,
            None,
            None,
            false,
            Some(&summary),
            Some(&summary),
        ));
    }
}

mod unread;

#[cfg(test)]
mod tests;
