//! Checking the answer, not only asking the question.
//!
//! Some questions a finding asks can be answered from the repository itself: is the dropped
//! column still read by the code that runs during the deploy? Does the deploy already run
//! migrations, and where? A rule's `[rule.verify]` says where to look (globs) and what counts as
//! an answer (patterns with the operation's `{table}`, `{column}`, `{field}` or `{model}`); this
//! searches the trees of the change and turns the finding into a verified answer: it names
//! where it found the answer, or where it looked, and takes the severity (or silence) the rule
//! gives that outcome.
//!
//! ```toml
//! [rule.verify]
//! look_in = ["**/*.py", "**/*.rb"]
//! exclude = ["**/migrations/**"]
//! patterns = ['\b{column}\b']          # a hit: the answer is found
//! sides = ["old", "new"]               # the code running during the deploy, and after it
//! [rule.verify.found]                  # what a hit makes of the finding
//! severity = "error"
//! message = "Still read at {where}."
//! [rule.verify.missing]                # what no hit makes of it ("quiet" drops it)
//! severity = "quiet"
//! ```
//!
//! A rule may have several checks: a finding asks every one whose `paths` match it, in order,
//! and a check that quiets it drops it.

use std::collections::HashMap;
use std::sync::Arc;

use crate::diff::ChangeSet;
use crate::diff::revision::{Read, SideReader};
use crate::finding::Finding;
use crate::rules::verify::{Verify, fill};
use crate::rules::{Rule, Severity};

/// Files searched at most, per side: a bound on the cost of one answer.
const MAX_FILES: usize = 50_000;
/// Files larger than this are not searched (generated code, data).
const MAX_FILE_BYTES: u64 = 1 << 20;
/// Places named in a message.
const SHOWN: usize = 3;

/// The model name a Django table is named after (`shop_order` → `Order`), for patterns.
fn model_of(table: &str) -> String {
    let last = table.rsplit('_').next().unwrap_or(table);
    let mut chars = last.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().collect::<String>() + chars.as_str(),
        None => String::new(),
    }
}

/// The searchable files of one side, read once for every verification of a run.
struct Tree<'c> {
    reader: SideReader,
    /// Opens another reader of the same side, for a thread of the pool.
    open: &'c (dyn Fn() -> SideReader + Sync),
    files: Option<Vec<String>>,
    texts: HashMap<String, Option<Arc<str>>>,
}

impl<'c> Tree<'c> {
    fn new(open: &'c (dyn Fn() -> SideReader + Sync)) -> Tree<'c> {
        Tree {
            reader: open(),
            open,
            files: None,
            texts: HashMap::new(),
        }
    }

    fn files(&mut self) -> &[String] {
        if self.files.is_none() {
            self.files = Some(if self.reader.is_complete() {
                self.reader.walk(32, MAX_FILES)
            } else {
                Vec::new()
            });
        }
        self.files.as_deref().unwrap_or(&[])
    }

    fn text(&mut self, path: &str) -> Option<Arc<str>> {
        if let Some(t) = self.texts.get(path) {
            return t.clone();
        }
        let text = text_of(self.reader.read(path));
        self.texts.insert(path.to_string(), text.clone());
        text
    }

    /// The texts of `paths`, in order. Those not read yet are read on every thread, each with
    /// a reader of its own, when there are enough of them to be worth opening readers for.
    fn texts(&mut self, paths: Vec<String>) -> Vec<(String, Option<Arc<str>>)> {
        use rayon::prelude::*;
        let unread: Vec<&String> = paths
            .iter()
            .filter(|p| !self.texts.contains_key(p.as_str()))
            .collect();
        if unread.len() >= 64 {
            let open = self.open;
            let read: Vec<Option<Arc<str>>> = unread
                .par_iter()
                .map_init(std::cell::OnceCell::new, |reader, path| {
                    text_of(reader.get_or_init(open).read(path))
                })
                .collect();
            for (path, text) in unread.into_iter().zip(read) {
                self.texts.insert(path.clone(), text);
            }
        }
        paths
            .into_iter()
            .map(|path| {
                let text = self.text(&path);
                (path, text)
            })
            .collect()
    }
}

/// A file's content as searched: text, empty for a link to nothing, `None` when it cannot be
/// searched (too large, binary, unreadable).
fn text_of(read: Read) -> Option<Arc<str>> {
    match read {
        Read::Bytes(b) if (b.len() as u64) < MAX_FILE_BYTES && !b.contains(&0) => {
            Some(Arc::from(String::from_utf8_lossy(&b).as_ref()))
        }
        // A link to nothing: there is no content to search.
        Read::Absent => Some(Arc::from("")),
        _ => None,
    }
}

/// Applies every rule's `[rule.verify]` to its findings, searching the change's trees.
pub fn run(findings: &mut Vec<Finding>, rules: &[Rule], change: &ChangeSet) {
    // Each block's paths and name pattern compiled once, not once per finding.
    let by_id: HashMap<&str, Vec<Block<'_>>> = rules
        .iter()
        .filter(|r| !r.verify.is_empty())
        .map(|r| {
            let blocks = r
                .verify
                .iter()
                .map(|v| {
                    let compile =
                        |n: &Option<String>| n.as_deref().and_then(|n| regex::Regex::new(n).ok());
                    Block {
                        paths: crate::glob::GlobMatcher::new(&v.paths),
                        name_from: compile(&v.name_from),
                        name_from_line: compile(&v.name_from_line),
                        name_from_block: compile(&v.name_from_block),
                        verify: v,
                    }
                })
                .collect();
            (r.id.as_str(), blocks)
        })
        .collect();
    if by_id.is_empty() || !findings.iter().any(|f| by_id.contains_key(&*f.rule_id)) {
        return;
    }
    // What each finding asks (on every thread), each distinct question searched once (on
    // this thread: the trees' caches are shared), then each answer applied (on every thread).
    use rayon::prelude::*;
    let (open_old, open_new) = (
        || SideReader::old(&change.old_side),
        || SideReader::new(&change.new_side),
    );
    let mut old = Tree::new(&open_old);
    let mut new = Tree::new(&open_new);
    // The line and block as written, for the findings of rules with a check that takes a name
    // from them: read from the finding's side of the change (a document rule's finding has no
    // snippet, and a removed block is only on the old side).
    let by_line: std::collections::HashSet<&str> = rules
        .iter()
        .filter(|r| {
            r.verify
                .iter()
                .any(|v| v.name_from_line.is_some() || v.name_from_block.is_some())
        })
        .map(|r| r.id.as_str())
        .collect();
    let renamed_from: HashMap<&str, &str> = change
        .files
        .iter()
        .filter_map(|f| Some((f.path.as_str(), f.old_path.as_deref()?)))
        .collect();
    let own_lines: Vec<Option<Written>> = findings
        .iter()
        .map(|f| {
            if !by_line.contains(&*f.rule_id) {
                return None;
            }
            let path = f.path.as_deref()?;
            // A line of the old side is read where the file was (a renamed file).
            let (tree, path) = if f.old_side {
                let was = renamed_from.get(path).copied().unwrap_or(path);
                (&mut old, was)
            } else {
                (&mut new, path)
            };
            let text = tree.text(path)?;
            Written::at(&text, f.line?)
        })
        .collect();
    let asked: Vec<Vec<Question<'_>>> = findings
        .par_iter()
        .zip(own_lines.par_iter())
        .map(|(f, written)| questions(f, written.as_ref(), &by_id))
        .collect();
    let mut answers: HashMap<&(String, String), Answer> = HashMap::new();
    // Compiled glob sets by their globs: the same for every question of a check unless its
    // globs name the finding's folder or chart.
    let mut globs: HashMap<Vec<String>, crate::glob::GlobMatcher> = HashMap::new();
    // Each distinct question's patterns compiled on every thread (thousands of questions
    // compile thousands of regexes), then searched here in turn.
    let mut seen = std::collections::HashSet::new();
    let distinct: Vec<&Question<'_>> = asked
        .iter()
        .flatten()
        .filter(|q| seen.insert(&q.key))
        .collect();
    // The files each question searches, per globs and side: a question with none searches
    // nothing, and its patterns are not compiled (a migration-heavy change asks thousands of
    // questions of folders that hold no model at all).
    let mut scopes = Scopes::new();
    let any_files: Vec<bool> = distinct
        .iter()
        .map(|q| {
            let scope = Scope::of(q.verify, &q.dir);
            [(false, &mut old), (true, &mut new)]
                .into_iter()
                .filter(|(new_side, _)| {
                    let name = if *new_side { "new" } else { "old" };
                    q.verify.sides.iter().any(|s| s == name)
                })
                .any(|(new_side, tree)| {
                    !scopes.files(tree, new_side, &scope, &mut globs).is_empty()
                })
        })
        .collect();
    let compiled: Vec<Result<Patterns, String>> = distinct
        .par_iter()
        .zip(any_files.par_iter())
        .map(|(q, &any)| {
            if any {
                Patterns::compile(q.verify, &q.table, &q.column)
            } else {
                Ok(Patterns::none())
            }
        })
        .collect();
    for (q, patterns) in distinct.into_iter().zip(compiled) {
        let answer = match patterns {
            Ok(patterns) => search(
                q.verify,
                &patterns,
                &q.dir,
                (&mut old, &mut new),
                (&mut globs, &mut scopes),
            ),
            // A check that cannot run proves nothing: the finding stays, saying so.
            Err(why) => Answer {
                unsearchable: true,
                searched: format!("a pattern of the check does not compile once filled in ({why})"),
                ..Answer::default()
            },
        };
        answers.insert(&q.key, answer);
    }
    let keep: Vec<bool> = findings
        .par_iter_mut()
        .zip(asked.par_iter())
        // Each check in turn; one that quiets the finding drops it.
        .map(|(f, asked)| asked.iter().all(|q| apply(f, q, &answers[&q.key])))
        .collect();
    let mut keep = keep.into_iter();
    findings.retain(|_| keep.next().unwrap_or(true));
}

/// The question a finding asks of the repository: which check, about what, and the key its
/// answer is kept under (findings asking the same share one search).
struct Question<'v> {
    verify: &'v Verify,
    table: String,
    column: String,
    dir: String,
    key: (String, String),
}

/// A rule's check, with its paths and name patterns compiled.
struct Block<'v> {
    paths: crate::glob::GlobMatcher,
    name_from: Option<regex::Regex>,
    name_from_line: Option<regex::Regex>,
    name_from_block: Option<regex::Regex>,
    verify: &'v Verify,
}

/// The questions a finding asks: one for each check of its rule whose paths match it, in the
/// order the rule gives them.
fn questions<'v>(
    f: &Finding,
    written: Option<&Written>,
    by_id: &HashMap<&str, Vec<Block<'v>>>,
) -> Vec<Question<'v>> {
    by_id.get(&*f.rule_id).map_or_else(Vec::new, |blocks| {
        blocks
            .iter()
            .enumerate()
            .filter_map(|(i, b)| question(f, written, i, b))
            .collect()
    })
}

/// A finding's line as written in its file, and its block: that line and the lines under it
/// up to the first that is indented no deeper (the `}` that closes a Terraform block), at most
/// [`BLOCK_LINES`] lines.
struct Written {
    line: String,
    block: String,
}

/// Lines of a finding's block read at most.
const BLOCK_LINES: usize = 200;

impl Written {
    fn at(text: &str, line: u32) -> Option<Written> {
        let mut lines = text.lines().skip(line.checked_sub(1)? as usize);
        let first = lines.next()?.trim_end_matches('\r');
        let indent = |l: &str| l.len() - l.trim_start().len();
        let mut block = first.to_string();
        for l in lines.take(BLOCK_LINES) {
            let l = l.trim_end_matches('\r');
            block.push('\n');
            block.push_str(l);
            if !l.trim().is_empty() && indent(l) <= indent(first) {
                break;
            }
        }
        Some(Written {
            line: first.to_string(),
            block,
        })
    }
}

/// `dir` joined with the relative path `rel`, `.` and `..` resolved; `None` when it leaves the
/// repository.
fn joined(dir: &str, rel: &str) -> Option<String> {
    let mut parts: Vec<&str> = dir.split('/').filter(|p| !p.is_empty()).collect();
    for part in rel.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            p => parts.push(p),
        }
    }
    Some(parts.join("/"))
}

/// The question `f` asks of check `index` of its rule, if that check's paths match it.
fn question<'v>(
    f: &Finding,
    written: Option<&Written>,
    index: usize,
    block: &Block<'v>,
) -> Option<Question<'v>> {
    let path = f.path.as_deref().unwrap_or("");
    let v = block.verify;
    if !(v.paths.is_empty() || block.paths.is_match(path)) {
        return None;
    }
    let table = f.subject.as_ref().map_or("", |s| s.0.as_str()).to_string();
    let mut column = f.subject.as_ref().map_or("", |s| s.1.as_str()).to_string();
    // A name taken from the matched text, or from the finding's line as written, stands where
    // a column would; a finding with no such name asks nothing of this check.
    if v.name_from.is_some() || v.name_from_line.is_some() || v.name_from_block.is_some() {
        let take =
            |re: &regex::Regex, text: &str| Some(re.captures(text)?.get(1)?.as_str().to_string());
        let from_matched = || take(block.name_from.as_ref()?, f.matched.as_deref()?);
        let from_line = || take(block.name_from_line.as_ref()?, &written?.line);
        let from_block = || take(block.name_from_block.as_ref()?, &written?.block);
        column = from_matched().or_else(from_line).or_else(from_block)?;
    }
    // `{dir}` in a glob is the finding's own folder (a Terraform module's other files),
    // `{path}` its own file (the rest of a CI workflow), and `{chart}` the Helm chart its
    // template or values file belongs to (a finding outside any chart asks nothing of such a
    // check).
    let globs = || v.look_in.iter().chain(&v.exclude);
    let dir = if globs().any(|g| g.contains("{dir}/{name}")) {
        // The folder the name leads to (a module's `source`), or no question when it leaves
        // the repository.
        joined(path.rsplit_once('/').map_or("", |(d, _)| d), &column)?
    } else if globs().any(|g| g.contains("{chart}")) {
        let values_dir = || {
            crate::manifest::is_values_file(path)
                .then(|| path.rsplit_once('/').map_or("", |(d, _)| d))
        };
        crate::manifest::chart_root(path)
            .or_else(values_dir)?
            .to_string()
    } else if globs().any(|g| g.contains("{dir}")) {
        path.rsplit_once('/').map_or("", |(d, _)| d).to_string()
    } else if globs().any(|g| g.contains("{path}")) {
        path.to_string()
    } else {
        String::new()
    };
    // Two checks of one rule can search the same globs for the same name with other patterns:
    // the check's place in the rule keeps their answers apart.
    let key = (
        format!("{}\u{0}{index}\u{0}{}", f.rule_id, v.look_in.join(",")),
        format!("{table}\u{0}{column}\u{0}{dir}"),
    );
    Some(Question {
        verify: v,
        table,
        column,
        dir,
        key,
    })
}

/// Applies a check's answer to its finding; `false` when the finding goes quiet.
fn apply(f: &mut Finding, q: &Question<'_>, answer: &Answer) -> bool {
    let (v, table, column) = (q.verify, &q.table, &q.column);
    if answer.unsearchable {
        f.message
            .push_str(" (This could not be checked in the repository: ");
        f.message.push_str(&answer.searched);
        f.message.push_str(".)");
        return true;
    }
    if !answer.unless.is_empty() {
        return true;
    }
    let outcome = if !answer.stopped.is_empty() {
        &v.stopped
    } else if answer.hits.is_empty() {
        &v.missing
    } else {
        &v.found
    };
    let hits = if answer.stopped.is_empty() {
        &answer.hits
    } else {
        &answer.stopped
    };
    match outcome.severity.as_deref() {
        Some("quiet") => return false,
        Some("error") => f.severity = Severity::Error,
        Some("warning") => f.severity = Severity::Warning,
        Some("note") => f.severity = Severity::Note,
        _ => {}
    }
    let shown: Vec<&str> = hits.iter().take(SHOWN).map(String::as_str).collect();
    let mut place = shown.join(", ");
    if hits.len() > SHOWN {
        place.push_str(&format!(" and {} more", hits.len() - SHOWN));
    }
    if !outcome.message.is_empty() {
        f.message.push(' ');
        f.message.push_str(
            &outcome
                .message
                .replace("{where}", &place)
                .replace("{searched}", &answer.searched)
                .replace("{table}", table)
                .replace("{column}", column)
                .replace("{name}", column),
        );
    }
    if let Some(ask) = &outcome.ask {
        f.ask = Arc::from(ask.as_str());
    }
    true
}

#[derive(Debug, Clone, Default)]
struct Answer {
    /// `path:line` of each hit, old side first.
    hits: Vec<String>,
    /// `path:line` of each hit of `stopped_by`.
    stopped: Vec<String>,
    /// `path:line` of each hit of `unless_found`.
    unless: Vec<String>,
    /// What was searched, for messages.
    searched: String,
    unsearchable: bool,
}

/// `globs` with `{dir}` standing for folder `dir`, or `{path}` for file `dir` (its glob
/// characters escaped).
fn in_dir(globs: &[String], dir: &str) -> Vec<String> {
    let escaped: String = dir
        .chars()
        .map(|c| match c {
            '*' | '?' | '[' | ']' | '{' | '}' | '\\' => format!("\\{c}"),
            c => c.to_string(),
        })
        .collect();
    globs
        .iter()
        .map(|g| {
            // `{dir}/{name}`: `dir` is already the folder the name leads to.
            let g = g.replace("{dir}/{name}", "{dir}");
            if escaped.is_empty() {
                g.replace("{dir}/", "")
                    .replace("{dir}", "")
                    .replace("{chart}/", "")
                    .replace("{chart}", "")
            } else {
                g.replace("{dir}", &escaped)
                    .replace("{path}", &escaped)
                    .replace("{chart}", &escaped)
            }
        })
        .collect()
}

/// A question's three lists of patterns, with its table and column filled in; a pattern that
/// needs a name the question lacks is left out.
struct Patterns {
    patterns: Vec<regex::Regex>,
    stopped_by: Vec<regex::Regex>,
    unless_found: Vec<regex::Regex>,
}

impl Patterns {
    /// For a question with no file to search: whatever its patterns, nothing is found.
    fn none() -> Patterns {
        Patterns {
            patterns: Vec::new(),
            stopped_by: Vec::new(),
            unless_found: Vec::new(),
        }
    }
}

/// A check's globs with a finding's folder filled in.
#[derive(Clone, PartialEq, Eq, Hash)]
struct Scope {
    look_in: Vec<String>,
    exclude: Vec<String>,
}

impl Scope {
    fn of(v: &Verify, dir: &str) -> Scope {
        Scope {
            look_in: in_dir(&v.look_in, dir),
            exclude: in_dir(&v.exclude, dir),
        }
    }
}

/// The files of a side that a scope takes in, found once per scope and side.
struct Scopes(HashMap<(Scope, bool), Arc<[String]>>);

impl Scopes {
    fn new() -> Scopes {
        Scopes(HashMap::new())
    }

    fn files(
        &mut self,
        tree: &mut Tree<'_>,
        new_side: bool,
        scope: &Scope,
        globs: &mut HashMap<Vec<String>, crate::glob::GlobMatcher>,
    ) -> Arc<[String]> {
        if let Some(files) = self.0.get(&(scope.clone(), new_side)) {
            return Arc::clone(files);
        }
        for list in [&scope.look_in, &scope.exclude] {
            if !globs.contains_key(list) {
                globs.insert(list.clone(), crate::glob::GlobMatcher::new(list));
            }
        }
        let (look_in, exclude) = (&globs[&scope.look_in], &globs[&scope.exclude]);
        let files: Arc<[String]> = tree
            .files()
            .iter()
            .filter(|p| look_in.is_match(p) && !exclude.is_match(p))
            .cloned()
            .collect();
        self.0.insert((scope.clone(), new_side), Arc::clone(&files));
        files
    }
}

impl Patterns {
    /// The lists compiled, or why one pattern does not compile (a name so long the regex
    /// passes its size limit): the loader checked each template, not each filling.
    fn compile(v: &Verify, table: &str, column: &str) -> Result<Patterns, String> {
        let model = model_of(table);
        let compile = |list: &[String]| -> Result<Vec<regex::Regex>, String> {
            list.iter()
                .filter(|p| {
                    (!p.contains("{column}") && !p.contains("{name}") || !column.is_empty())
                        && (!p.contains("{table}") || !table.is_empty())
                })
                .map(|p| {
                    let p =
                        fill(p, table, column, &model).replace("{name}", &regex::escape(column));
                    regex::Regex::new(&p).map_err(|e| {
                        let shown: String = p.chars().take(80).collect();
                        format!("`{shown}`: {e}")
                    })
                })
                .collect()
        };
        Ok(Patterns {
            patterns: compile(&v.patterns)?,
            stopped_by: compile(&v.stopped_by)?,
            unless_found: compile(&v.unless_found)?,
        })
    }
}

fn search<'c>(
    v: &Verify,
    Patterns {
        patterns,
        stopped_by,
        unless_found,
    }: &Patterns,
    dir: &str,
    (old, new): (&mut Tree<'c>, &mut Tree<'c>),
    (globs, scopes): (
        &mut HashMap<Vec<String>, crate::glob::GlobMatcher>,
        &mut Scopes,
    ),
) -> Answer {
    // Every pattern of the three lists at once, over a file's whole text: most files searched
    // hold none, and one pass over the text tells so. A file it matches is read line by line.
    // Built only for a search over many files: compiling it costs more than a few files do.
    let build_anywhere = || {
        regex::Regex::new(&format!(
            "(?m){}",
            patterns
                .iter()
                .chain(stopped_by)
                .chain(unless_found)
                .map(|p| format!("(?:{})", p.as_str()))
                .collect::<Vec<_>>()
                .join("|")
        ))
        .ok()
    };
    let scope = Scope::of(v, dir);
    let mut answer = Answer::default();
    let mut searched_files = 0;
    // Files that could not be read (too large, binary, missing objects): a search that skipped
    // them cannot prove nothing reads a name.
    let mut unread: Vec<String> = Vec::new();
    let mut sides_searched = Vec::new();
    for (name, tree) in [("old", &mut *old), ("new", &mut *new)] {
        if !v.sides.iter().any(|s| s == name) {
            continue;
        }
        // A patch shows only some files: searching it cannot show that nothing reads a name.
        if !tree.reader.is_complete() {
            continue;
        }
        sides_searched.push(if name == "old" {
            "the code running during the deploy"
        } else {
            "the code after it"
        });
        let files = scopes.files(tree, name == "new", &scope, globs);
        searched_files += files.len();
        if patterns.is_empty() && stopped_by.is_empty() {
            continue;
        }
        let many = files.len() >= 16;
        // Texts read (on every thread when there are many), then searched on every thread.
        let texts = tree.texts(files.to_vec());
        let anywhere = if many { build_anywhere() } else { None };
        let lists = [patterns, stopped_by, unless_found];
        use rayon::prelude::*;
        let found: Vec<[Vec<String>; 3]> = texts
            .par_iter()
            .map(|(path, text)| {
                let mut found: [Vec<String>; 3] = Default::default();
                let Some(text) = text else {
                    return found;
                };
                if anywhere.as_ref().is_some_and(|a| !a.is_match(text)) {
                    return found;
                }
                for (i, line) in text.lines().enumerate() {
                    for (list, out) in lists.iter().zip(found.iter_mut()) {
                        if list.iter().any(|p| p.is_match(line)) {
                            out.push(format!("{path}:{}", i + 1));
                        }
                    }
                }
                found
            })
            .collect();
        for ((path, text), found) in texts.into_iter().zip(found) {
            if text.is_none() {
                unread.push(path);
                continue;
            }
            let outs = [&mut answer.hits, &mut answer.stopped, &mut answer.unless];
            for (out, hits) in outs.into_iter().zip(found) {
                for hit in hits {
                    if !out.contains(&hit) {
                        out.push(hit);
                    }
                }
            }
        }
    }
    if sides_searched.is_empty() {
        answer.unsearchable = true;
        answer.searched = "a patch has no trees to search".into();
        return answer;
    }
    answer.searched = format!(
        "{searched_files} files of {} matching {}",
        sides_searched.join(" and "),
        in_dir(&v.look_in, dir).join(", ")
    );
    if answer.hits.is_empty() && answer.stopped.is_empty() && !unread.is_empty() {
        answer.unsearchable = true;
        answer.searched = format!(
            "{} of the files searched could not be read as text ({}{})",
            unread.len(),
            unread[..unread.len().min(SHOWN)].join(", "),
            if unread.len() > SHOWN { ", ..." } else { "" }
        );
    }
    answer
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A template the loader accepted can still fill into a regex past the size limit (a very
    /// long name): that says why, it is not left out of the search (a check missing a pattern
    /// would find nothing, and "nothing found" may quiet a finding).
    #[test]
    fn a_pattern_that_does_not_compile_once_filled_is_an_error_not_a_gap() {
        let v: Verify =
            toml::from_str("look_in = [\"**\"]\npatterns = ['(?:{column}){2000}', 'plain']\n")
                .unwrap();
        let fine = Patterns::compile(&v, "orders", "code").expect("compiles");
        assert_eq!(fine.patterns.len(), 2);
        let long = "a".repeat(5000);
        let why = Patterns::compile(&v, "orders", &long)
            .err()
            .expect("too large to compile");
        assert!(why.contains("(?:aaaa"), "{why}");
        assert!(why.contains("size limit"), "{why}");
    }

    #[test]
    fn a_relative_source_is_joined_inside_the_repository_only() {
        assert_eq!(
            joined("terraform/lib/dependencies", "../tags").as_deref(),
            Some("terraform/lib/tags")
        );
        assert_eq!(
            joined("infra", "./modules/db/").as_deref(),
            Some("infra/modules/db")
        );
        assert_eq!(joined("", "modules/db").as_deref(), Some("modules/db"));
        // Out of the repository: no folder to search.
        assert_eq!(joined("infra", "../../outside"), None);
        assert_eq!(joined("", ".."), None);
    }

    #[test]
    fn a_block_ends_at_the_line_indented_no_deeper() {
        let text = "module \"tags\" {\r\n  source = \"../tags\"\r\n\r\n  env = var.env\r\n}\r\n\r\nmodule \"db\" {\r\n  source = \"../rds\"\r\n}\r\n";
        let written = Written::at(text, 1).unwrap();
        assert_eq!(written.line, "module \"tags\" {");
        assert!(written.block.ends_with("}"), "{:?}", written.block);
        assert!(!written.block.contains("../rds"), "{:?}", written.block);
        assert!(!written.block.contains('\r'));
        // Past the end, or line 0: nothing.
        assert!(Written::at(text, 99).is_none());
        assert!(Written::at(text, 0).is_none());
    }
}
