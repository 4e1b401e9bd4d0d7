//! Loading rule files: parse with spans, check every rule, and report every problem at once.

use std::collections::HashMap;
use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;

use super::{Example, Expect, Match, Origin, Rollout, Rule, RuleSet, Severity, Threshold, Unless};
use crate::config::Config;
use crate::diff::FileStatus;
use crate::error::{Error, Result, SourceError};
// Kept here too: the engine and the analysis scaffold name them by this path.
pub use crate::glob::build_glob;
pub use crate::toml_span::{check_glob, toml_error};

/// The compiled size a combined set of rules' patterns may reach: a team with hundreds of
/// rules needs more than the regex crate's default (10 MiB); the loader checks the largest set
/// the engine can build against the same limit, so no set fails to compile at match time.
pub const SET_SIZE_LIMIT: usize = 64 << 20;

/// A rule file's text and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleFile {
    /// As shown to the user: `builtin:rules/migrations.toml` or `.forewarn/rules/team.toml`.
    pub path: String,
    pub text: String,
    pub builtin: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPack {
    #[serde(default)]
    rule: Vec<Spanned<RawRule>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    id: Spanned<String>,
    title: String,
    severity: Severity,
    category: String,
    message: Spanned<String>,
    ask: String,
    #[serde(default)]
    findings: Vec<Spanned<String>>,
    why: Option<String>,
    procedure: Option<String>,
    #[serde(default)]
    docs: Vec<String>,
    #[serde(default, rename = "match")]
    matcher: RawMatch,
    #[serde(default)]
    unless: RawUnless,
    #[serde(default)]
    threshold: RawThreshold,
    #[serde(default)]
    verify: Vec<Spanned<super::verify::Verify>>,
    #[serde(default)]
    example: Vec<Spanned<RawExample>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMatch {
    #[serde(default)]
    paths: Vec<Spanned<String>>,
    #[serde(default)]
    exclude: Vec<Spanned<String>>,
    #[serde(default)]
    status: Vec<FileStatus>,
    #[serde(default)]
    added: Vec<Spanned<String>>,
    #[serde(default)]
    removed: Vec<Spanned<String>>,
    #[serde(default)]
    rollout: Vec<Rollout>,
    #[serde(default)]
    statements: bool,
    document: Option<Spanned<super::document::RawDocument>>,
    #[serde(default)]
    operations: Vec<Spanned<String>>,
    #[serde(default)]
    when: std::collections::BTreeMap<Spanned<String>, Spanned<toml::Value>>,
    #[serde(default)]
    engines: Vec<Spanned<String>>,
    understood: Option<bool>,
    #[serde(default)]
    invalid: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawUnless {
    #[serde(default)]
    changed: Vec<Spanned<String>>,
    #[serde(default)]
    added: Vec<Spanned<String>>,
    #[serde(default)]
    matched: Vec<Spanned<String>>,
    #[serde(default)]
    kept: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawThreshold {
    files: Option<usize>,
    lines: Option<usize>,
    components: Option<usize>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExample {
    name: String,
    expect: Expect,
    diff: String,
    config: Option<String>,
    tree: Option<std::collections::BTreeMap<String, String>>,
    old_tree: Option<std::collections::BTreeMap<String, String>>,
    severity: Option<Severity>,
    message: Option<String>,
}

/// How to shrink a regex that compiles past the size limit.
const TOO_BIG_HELP: &str = "counted repetitions multiply the compiled size (`\\w{500}` is 500 copies of every Unicode letter): lower the count, match ASCII only with `(?-u:\\w)` or `[a-zA-Z0-9_]`, or split the pattern into several rules";

fn check_regex(
    path: &str,
    text: &str,
    re: &Spanned<String>,
    compile: bool,
    errors: &mut Vec<SourceError>,
) {
    // Parsing finds every syntax error at a fraction of the cost of compiling; the engine
    // compiles a rule's regexes only when a file it applies to shows up. A team's own patterns
    // are compiled here too: one past the compiled size limit would otherwise match nothing,
    // silently. (The built-in packs are compiled by their tests.)
    let parsed = regex_syntax::Parser::new().parse(re.get_ref());
    if let (Ok(hir), true) = (&parsed, compile) {
        // The size limit is the NFAs' (see `regex_size`), checked from the tree already parsed.
        if let Some(label) = super::regex_size::too_big(hir) {
            errors.push(
                SourceError::new(path, text, re.span(), "regex cannot be compiled")
                    .label(label)
                    .help(TOO_BIG_HELP),
            );
        }
        return;
    }
    if let Err(e) = parsed {
        errors.push(invalid_regex(path, text, re.span(), &e.to_string()));
    }
}

/// The error for a pattern that does not parse, at its span: the last line of what the regex
/// crate said, and how regexes are written in a rule.
pub(super) fn invalid_regex(
    path: &str,
    text: &str,
    span: Range<usize>,
    detail: &str,
) -> SourceError {
    let last = detail
        .lines()
        .last()
        .unwrap_or("invalid regex")
        .trim()
        .to_string();
    SourceError::new(path, text, span, "invalid regex")
        .label(last)
        .help("regexes use the Rust `regex` crate syntax (no look-around or backreferences); in a TOML basic string write `\\\\` for one backslash, or use a 'literal string'")
}

/// What the regex crate said, in one line.
fn compile_error_label(e: &regex::Error) -> String {
    match e {
        regex::Error::CompiledTooBig(limit) => format!(
            "compiled, it is larger than the regex size limit of {} MB",
            limit / (1 << 20)
        ),
        other => other
            .to_string()
            .lines()
            .last()
            .unwrap_or("the regex crate refused it")
            .trim()
            .to_string(),
    }
}

/// Where each line of a file starts, to give the line of many offsets without counting the
/// newlines before each one again (a pack has hundreds of rules and examples).
struct LineIndex(Vec<usize>);

impl LineIndex {
    fn new(text: &str) -> LineIndex {
        LineIndex(text.match_indices('\n').map(|(i, _)| i).collect())
    }

    /// The 1-based line of byte `offset`.
    fn line_of(&self, offset: usize) -> usize {
        self.0.partition_point(|&newline| newline < offset) + 1
    }
}

fn is_kebab_case(id: &str) -> bool {
    !id.is_empty()
        && id.split('-').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

fn strings(v: Vec<Spanned<String>>) -> Vec<String> {
    v.into_iter().map(Spanned::into_inner).collect()
}

/// Parses one rule file. All problems in it are collected, not just the first.
pub fn parse_file(file: &RuleFile) -> std::result::Result<Vec<Rule>, Vec<SourceError>> {
    let (path, text) = (file.path.as_str(), file.text.as_str());
    let pack: RawPack = toml::from_str(text).map_err(|e| {
        vec![toml_error(path, text, &e).help(
            "a rule file holds [[rule]] tables; see `forewarn explain <id>` for a shipped rule, or the Rules section of docs/contract.md",
        )]
    })?;
    let mut errors = Vec::new();
    let mut rules = Vec::new();
    let lines = LineIndex::new(text);
    for spanned in pack.rule {
        let rule_line = lines.line_of(spanned.span().start);
        let raw = spanned.into_inner();
        let id_span = raw.id.span();
        if !is_kebab_case(raw.id.get_ref()) {
            errors.push(
                SourceError::new(path, text, id_span.clone(), "rule id is not kebab-case")
                    .label("ids are lowercase words and digits joined by `-`")
                    .help(format!(
                        "rename it, e.g. id = \"{}\"",
                        kebab(raw.id.get_ref())
                    )),
            );
        }
        for link in &raw.findings {
            let ok = link
                .get_ref()
                .split_once('#')
                .is_some_and(|(a, f)| !a.is_empty() && !f.is_empty() && !f.contains('#'));
            if !ok {
                errors.push(
                    SourceError::new(
                        path,
                        text,
                        link.span(),
                        "finding link is not ANALYSIS-ID#FINDING-ID",
                    )
                    .label("expected e.g. \"2019-07-payments-config-missing#F2\"")
                    .help("link the analysis record's `id` and the finding's `id`, joined by `#`"),
                );
            }
        }
        check_placeholders(path, text, &raw.message, &mut errors);
        for g in raw
            .matcher
            .paths
            .iter()
            .chain(&raw.matcher.exclude)
            .chain(&raw.unless.changed)
        {
            check_glob(path, text, g, &mut errors);
        }
        for r in raw
            .matcher
            .added
            .iter()
            .chain(&raw.matcher.removed)
            .chain(&raw.unless.added)
            .chain(&raw.unless.matched)
        {
            check_regex(path, text, r, !file.builtin, &mut errors);
        }
        let document = raw.matcher.document.and_then(|d| {
            let span = d.span();
            super::document::check(path, text, span, d.into_inner(), &mut errors)
        });
        let operations = super::operation::parse(
            path,
            text,
            &raw.matcher.operations,
            &raw.matcher.when,
            &raw.matcher.engines,
            &mut errors,
        );
        if raw.matcher.invalid && raw.matcher.understood != Some(false) {
            errors.push(
                SourceError::new(
                    path,
                    text,
                    id_span.clone(),
                    "`invalid` needs `understood = false`",
                )
                .label("this rule would never fire")
                .help("add [rule.match] understood = false, or remove `invalid`"),
            );
        }
        if (!raw.matcher.when.is_empty() || !raw.matcher.engines.is_empty())
            && raw.matcher.operations.is_empty()
        {
            errors.push(
                SourceError::new(
                    path,
                    text,
                    id_span.clone(),
                    "`when` and `engines` need `operations`",
                )
                .label("conditions on operations, but no operations to match")
                .help("add [rule.match] operations = [\"drop-column\"], or remove them"),
            );
        }
        let matcher = Match {
            operations,
            understood: raw.matcher.understood,
            invalid: raw.matcher.invalid,
            paths: strings(raw.matcher.paths),
            exclude: strings(raw.matcher.exclude),
            status: raw.matcher.status,
            added: strings(raw.matcher.added),
            removed: strings(raw.matcher.removed),
            rollout: raw.matcher.rollout,
            statements: raw.matcher.statements,
            document,
        };
        let threshold = Threshold {
            files: raw.threshold.files,
            lines: raw.threshold.lines,
            components: raw.threshold.components,
        };
        if (matcher.statements || !raw.unless.matched.is_empty()) && !matcher.has_line_patterns() {
            errors.push(
                SourceError::new(
                    path,
                    text,
                    id_span.clone(),
                    "`statements` and `unless.matched` need line patterns",
                )
                .label("this rule has no [rule.match] added or removed regexes")
                .help(
                    "add [rule.match] added = ['regex'], or remove `statements` / `unless.matched`",
                ),
            );
        }
        if !matcher.has_file_criteria() && !threshold.is_set() {
            errors.push(
                SourceError::new(
                    path,
                    text,
                    id_span.clone(),
                    "this rule would fire on every file",
                )
                .label("no [rule.match] criteria and no [rule.threshold]")
                .help("add [rule.match] paths, status, added or removed, or a [rule.threshold]"),
            );
        }
        let examples = raw
            .example
            .into_iter()
            .map(|e| {
                let line = lines.line_of(e.span().start);
                let e = e.into_inner();
                Example {
                    name: e.name,
                    expect: e.expect,
                    diff: e.diff,
                    config: e.config,
                    tree: e.tree,
                    old_tree: e.old_tree,
                    severity: e.severity,
                    message: e.message,
                    line,
                }
            })
            .collect();
        let verify =
            raw.verify
                .into_iter()
                .map(|v| {
                    let span = v.span();
                    for problem in super::verify::check(v.get_ref()) {
                        errors.push(SourceError::new(path, text, span.clone(), problem).help(
                            "see `forewarn explain <id>` of a shipped rule with [rule.verify]",
                        ));
                    }
                    v.into_inner()
                })
                .collect();
        rules.push(Rule {
            id: raw.id.into_inner(),
            title: raw.title,
            severity: raw.severity,
            default_severity: raw.severity,
            category: raw.category,
            message: raw.message.into_inner(),
            ask: raw.ask,
            findings: strings(raw.findings),
            why: raw.why,
            procedure: raw.procedure,
            docs: raw.docs,
            matcher,
            unless: Unless {
                changed: strings(raw.unless.changed),
                added: strings(raw.unless.added),
                matched: strings(raw.unless.matched),
                kept: raw.unless.kept,
            },
            threshold,
            verify,
            examples,
            origin: Origin {
                file: path.to_string(),
                line: rule_line,
                builtin: file.builtin,
            },
        });
    }
    if errors.is_empty() {
        Ok(rules)
    } else {
        Err(errors)
    }
}

fn kebab(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_string()
}

fn check_placeholders(
    path: &str,
    text: &str,
    message: &Spanned<String>,
    errors: &mut Vec<SourceError>,
) {
    let msg = message.get_ref();
    let mut rest = msg.as_str();
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else { break };
        let name = &after[..close];
        if !matches!(
            name,
            "path" | "line" | "match" | "table" | "column" | "operation" | "reason"
        ) && !name.is_empty()
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            errors.push(
                SourceError::new(
                    path,
                    text,
                    message.span(),
                    format!("unknown placeholder `{{{name}}}` in message"),
                )
                .label("a message may use {path}, {line}, {match}, {table}, {column}, {operation} and {reason}")
                .help("remove it or use one of {path}, {line}, {match}, {table}, {column}, {operation}, {reason}"),
            );
        }
        rest = &after[close + 1..];
    }
}

/// Loads every rule file, checks ids are unique across all of them, and applies the config
/// (builtin on/off, disabled ids, severity overrides). Every problem in every file is reported.
/// One file's rules, or every problem found in it.
type Parsed = std::result::Result<Vec<Rule>, Vec<SourceError>>;

pub fn load(files: &[RuleFile], config: &Config) -> Result<RuleSet> {
    let mut errors = Vec::new();
    let mut rules: Vec<Rule> = Vec::new();
    let mut first_seen: HashMap<String, (String, usize)> = HashMap::new();
    // Files are parsed on every thread (a team with many packs has many files), then taken in
    // order, so which of two duplicate ids counts as the first stays the same.
    let parsed: Vec<(&RuleFile, Parsed)> = {
        use rayon::prelude::*;
        files
            .par_iter()
            .filter(|file| !file.builtin || config.builtin)
            .map(|file| (file, parse_file(file)))
            .collect()
    };
    for (file, parsed) in parsed {
        match parsed {
            Ok(parsed) => {
                for rule in parsed {
                    if let Some((other, line)) = first_seen.get(&rule.id) {
                        let span = id_span(&file.text, rule.origin.line, &rule.id);
                        errors.push(
                            SourceError::new(&file.path, &file.text, span, format!("duplicate rule id `{}`", rule.id))
                                .label(format!("first defined at {other}:{line}"))
                                .help("rule ids are unique across all packs: rename one, or disable the built-in one in forewarn.toml [rules] disable"),
                        );
                        continue;
                    }
                    first_seen.insert(rule.id.clone(), (file.path.clone(), rule.origin.line));
                    rules.push(rule);
                }
            }
            Err(mut e) => errors.append(&mut e),
        }
    }
    if !errors.is_empty() {
        return Err(Error::Source(errors));
    }
    let mut warnings = Vec::new();
    for named in &config.disable {
        if !rules.iter().any(|r| r.id == named.id) {
            warnings.push(format!(
                "{}:{}: [rules] disable names `{}`, which no rule has; `forewarn rules` lists the ids",
                config.path, named.line, named.id
            ));
        }
    }
    rules.retain(|r| !config.disable.iter().any(|d| d.id == r.id));
    let errors = check_combined(files, &rules);
    if !errors.is_empty() {
        return Err(Error::Source(errors));
    }
    for (named, severity) in &config.severity {
        match rules.iter_mut().find(|r| r.id == named.id) {
            Some(rule) => rule.severity = *severity,
            None => warnings.push(format!(
                "{}:{}: [rules.severity] names `{}`, which no active rule has; `forewarn rules` lists the ids",
                config.path, named.line, named.id
            )),
        }
    }
    Ok(RuleSet { rules, warnings })
}

/// Compiles `patterns` into one set the way the engine does for a file's candidate rules.
fn combined_set(patterns: &[&str]) -> std::result::Result<regex::RegexSet, regex::Error> {
    regex::RegexSetBuilder::new(patterns)
        .size_limit(SET_SIZE_LIMIT)
        .dfa_size_limit(64 << 20)
        .build()
}

/// The engine matches the lines of a file against one set of all its candidate rules' patterns
/// (and a rule's `unless` lists as one set each). Every pattern can compile on its own and the
/// set still be over the size limit, and then every line rule of those files would match
/// nothing. The set of every active rule's patterns is the largest the engine can build: it is
/// compiled here, once, when a team's rules add patterns to it, and a set that does not compile
/// is an error at the team rule whose patterns pushed it over.
fn check_combined(files: &[RuleFile], rules: &[Rule]) -> Vec<SourceError> {
    let team = |r: &&Rule| !r.origin.builtin;
    if !rules.iter().filter(team).any(|r| {
        r.matcher.has_line_patterns() || !r.unless.added.is_empty() || !r.unless.matched.is_empty()
    }) {
        return Vec::new();
    }
    let mut errors = Vec::new();
    let mut report = |rule: &Rule, what: &str, e: &regex::Error| {
        let Some(file) = files.iter().find(|f| f.path == rule.origin.file) else {
            return;
        };
        errors.push(
            SourceError::new(
                &file.path,
                &file.text,
                id_span(&file.text, rule.origin.line, &rule.id),
                format!("rule `{}`: {what} cannot be compiled together", rule.id),
            )
            .label(compile_error_label(e))
            .help(TOO_BIG_HELP),
        );
    };
    for removed in [false, true] {
        fn side(r: &Rule, removed: bool) -> Vec<&str> {
            let list = if removed {
                &r.matcher.removed
            } else {
                &r.matcher.added
            };
            list.iter().map(String::as_str).collect()
        }
        let mut patterns: Vec<&str> = Vec::new();
        for rule in rules {
            for p in side(rule, removed) {
                if !patterns.contains(&p) {
                    patterns.push(p);
                }
            }
        }
        if patterns.is_empty()
            || super::regex_size::set_fits(&patterns, SET_SIZE_LIMIT)
            || combined_set(&patterns).is_ok()
        {
            continue;
        }
        // Find the team rule that pushes the set over: the built-in rules' patterns first,
        // then each team rule's in turn (only on this failing path, so the cost is no matter).
        let mut grown: Vec<&str> = Vec::new();
        for rule in rules.iter().filter(|r| r.origin.builtin) {
            grown.extend(side(rule, removed));
        }
        let what = if removed {
            "its `removed` regexes and the other rules'"
        } else {
            "its `added` regexes and the other rules'"
        };
        for rule in rules.iter().filter(team) {
            let before = grown.len();
            grown.extend(side(rule, removed));
            if grown.len() == before {
                continue;
            }
            if let Err(e) = combined_set(&grown) {
                report(rule, what, &e);
                grown.truncate(before);
            }
        }
    }
    for rule in rules.iter().filter(team) {
        for (list, what) in [
            (&rule.unless.added, "its `unless.added` regexes"),
            (&rule.unless.matched, "its `unless.matched` regexes"),
        ] {
            let patterns: Vec<&str> = list.iter().map(String::as_str).collect();
            if list.len() > 1
                && !super::regex_size::set_fits(&patterns, super::regex_size::REGEX_SIZE_LIMIT)
            {
                if let Err(e) = regex::RegexSet::new(list) {
                    report(rule, what, &e);
                }
            }
        }
    }
    errors
}

/// The span of `id = "..."` for the rule that starts at `rule_line`, for duplicate-id errors.
fn id_span(text: &str, rule_line: usize, id: &str) -> Range<usize> {
    let start_of_rule: usize = text
        .split_inclusive('\n')
        .take(rule_line.saturating_sub(1))
        .map(str::len)
        .sum();
    let quoted = format!("\"{id}\"");
    text[start_of_rule..]
        .find(&quoted)
        .map(|i| start_of_rule + i..start_of_rule + i + quoted.len())
        .unwrap_or(start_of_rule..start_of_rule)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> RuleFile {
        RuleFile {
            path: "team.toml".into(),
            text: text.into(),
            builtin: false,
        }
    }

    const GOOD: &str = r#"
[[rule]]
id = "new-sql"
title = "t"
severity = "error"
category = "migration"
message = "{path} adds SQL"
ask = "?"
findings = ["a#F1"]
[rule.match]
paths = ["db/*.sql"]
status = ["added"]
"#;

    #[test]
    fn line_index_agrees_with_counting_newlines() {
        let text = "a\n\nbé\r\nlast line without newline";
        let index = LineIndex::new(text);
        for offset in 0..=text.len() {
            if text.is_char_boundary(offset) {
                assert_eq!(
                    index.line_of(offset),
                    crate::error::line_col(text, offset).0,
                    "offset {offset}"
                );
            }
        }
    }

    #[test]
    fn loads_a_rule() {
        let set = load(&[file(GOOD)], &Config::default()).unwrap();
        let rule = &set.rules[0];
        assert_eq!(rule.id, "new-sql");
        assert_eq!(rule.origin.line, 2);
        assert_eq!(rule.matcher.status, vec![FileStatus::Added]);
    }

    #[test]
    fn collects_every_problem_with_its_line() {
        let bad = r#"
[[rule]]
id = "Bad_Id"
title = "t"
severity = "error"
category = "c"
message = "{path} {who}"
ask = "?"
findings = ["nohash"]
[rule.match]
paths = ["a/[b"]
added = ["(unclosed"]
"#;
        let Err(Error::Source(errors)) = load(&[file(bad)], &Config::default()) else {
            panic!("expected source errors")
        };
        let lines: Vec<_> = errors
            .iter()
            .map(|e| (e.message.as_str(), e.line_col().0))
            .collect();
        assert_eq!(
            lines,
            vec![
                ("rule id is not kebab-case", 3),
                ("finding link is not ANALYSIS-ID#FINDING-ID", 9),
                ("unknown placeholder `{who}` in message", 7),
                ("invalid glob", 11),
                ("invalid regex", 12),
            ]
        );
    }

    #[test]
    fn unknown_key_is_an_error_with_position() {
        let err = load(
            &[file(&GOOD.replace("status =", "stat ="))],
            &Config::default(),
        )
        .unwrap_err();
        assert!(err.to_string().starts_with("team.toml:12:1:"), "{err}");
    }

    #[test]
    fn duplicate_ids_point_at_the_second() {
        let two = format!("{GOOD}\n{GOOD}");
        let Err(Error::Source(errors)) = load(&[file(&two)], &Config::default()) else {
            panic!()
        };
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].line_col().0, 16);
        assert!(errors[0].label.contains("team.toml:2"));
    }

    #[test]
    fn config_disables_and_overrides_and_warns() {
        let config = Config::parse(
            "forewarn.toml",
            "[rules]\ndisable = ['nope']\n[rules.severity]\nnew-sql = 'note'\n",
        )
        .unwrap();
        let set = load(&[file(GOOD)], &config).unwrap();
        assert_eq!(set.rules[0].severity, Severity::Note);
        assert_eq!(set.rules[0].default_severity, Severity::Error);
        assert_eq!(set.warnings.len(), 1);
        assert!(set.warnings[0].contains("forewarn.toml:2"));
    }

    #[test]
    fn kebab_suggestion() {
        assert_eq!(kebab("Bad_Id"), "bad-id");
        assert!(is_kebab_case("a-1-b"));
        assert!(!is_kebab_case("a--b"));
    }
}
