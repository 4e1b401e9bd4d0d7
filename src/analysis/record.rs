//! Analysis records: one TOML file per post-incident analysis, loaded with spans and checked in a
//! second pass that collects every problem (as rule files are), so a facilitator sees them all.

use std::collections::HashMap;
use std::ops::Range;

use serde::{Deserialize, Serialize};
use toml::Spanned;
use toml::value::Datetime;

use crate::error::{Error, Result, SourceError, line_col};
use crate::rules::load::RuleFile;
use crate::toml_span::toml_error;

/// Where a record is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Still being written: missing text is a warning, not an error.
    Draft,
    Reviewed,
    Closed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::Reviewed => "reviewed",
            Status::Closed => "closed",
        }
    }
}

/// What part a commit played.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// The change that set the incident off.
    Trigger,
    /// An earlier change that made the incident possible.
    Latent,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Trigger => "trigger",
            Role::Latent => "latent",
        }
    }
}

/// The review question a finding answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Question {
    /// What kept the team from running the change as a safe experiment.
    PreventedSafeExperiment,
    /// What information misled the responders.
    MisleadingSignal,
    /// What information was missing when it was needed.
    MissingSignal,
    Other,
}

impl Question {
    pub fn as_str(self) -> &'static str {
        match self {
            Question::PreventedSafeExperiment => "prevented-safe-experiment",
            Question::MisleadingSignal => "misleading-signal",
            Question::MissingSignal => "missing-signal",
            Question::Other => "other",
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRecord {
    id: Spanned<String>,
    title: Spanned<String>,
    status: Status,
    held: Option<Spanned<Datetime>>,
    #[serde(default)]
    perspectives: Vec<Spanned<String>>,
    #[serde(default)]
    timeline: Vec<Spanned<RawTimeline>>,
    #[serde(default)]
    culprit: Vec<Spanned<RawCulprit>>,
    #[serde(default)]
    finding: Vec<Spanned<RawFinding>>,
    #[serde(default)]
    action: Vec<Spanned<RawAction>>,
    #[serde(default)]
    backtest: Vec<Spanned<RawBacktest>>,
    /// What `forewarn report --write` stored; read to check its shape, not used.
    #[serde(default)]
    #[allow(dead_code)]
    report: Vec<Spanned<StoredReport>>,
    /// Globs of paths that count as this incident's hotspots beyond what the culprits changed.
    #[serde(default)]
    hotspots: Vec<Spanned<String>>,
    /// Globs of paths the culprits changed that are not worth a note (lockfiles, generated code).
    #[serde(default)]
    hotspots_exclude: Vec<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTimeline {
    at: Spanned<Datetime>,
    source: Option<Spanned<String>>,
    text: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCulprit {
    commit: Spanned<String>,
    role: Role,
    /// The commit lives in another repository: it is not resolved or replayed here.
    repository: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFinding {
    id: Spanned<String>,
    question: Question,
    text: Option<Spanned<String>>,
    lesson: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAction {
    id: Spanned<String>,
    finding: Option<Spanned<String>>,
    text: Option<Spanned<String>>,
    status: Option<String>,
    tracker: Option<String>,
}

/// What `forewarn backtest --write` stores: one table per rule linked to a finding of the record.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct StoredBacktest {
    pub rule: String,
    #[serde(default)]
    pub finding: String,
    /// When the backtest ran (RFC 3339).
    #[serde(default, deserialize_with = "datetime_string")]
    pub run: String,
    /// Which history was replayed, e.g. `last 1000 commits of HEAD`.
    #[serde(default)]
    pub range: String,
    #[serde(default)]
    pub commits: u64,
    #[serde(default)]
    pub fired: u64,
    #[serde(default)]
    pub share: f64,
    #[serde(default)]
    pub caught: Vec<String>,
    #[serde(default)]
    pub missed: Vec<String>,
}

type RawBacktest = StoredBacktest;

/// What `forewarn report --write` stores: one table per rule linked to a finding of the record,
/// counting what the ledger and history show since the review.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoredReport {
    pub rule: String,
    #[serde(default)]
    pub finding: String,
    /// When the report was made (RFC 3339).
    #[serde(default, deserialize_with = "datetime_string")]
    pub run: String,
    /// Counted from this date on (the review's), or from the first event when empty.
    #[serde(default, deserialize_with = "datetime_string")]
    pub since: String,
    #[serde(default)]
    pub fired: u64,
    #[serde(default)]
    pub acknowledged: u64,
    #[serde(default)]
    pub resolved_before_merge: u64,
    /// `rising`, `falling`, `steady` or `quiet`.
    #[serde(default)]
    pub trend: String,
    /// The reasons given, grouped: `reason (×count, source)`.
    #[serde(default)]
    pub reasons: Vec<String>,
}

fn datetime_string<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        Date(Datetime),
        Text(String),
    }
    Ok(match Either::deserialize(d)? {
        Either::Date(d) => d.to_string(),
        Either::Text(s) => s,
    })
}

/// One entry of the timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TimelineEntry {
    /// As written: `2019-07-02T03:05:00Z`.
    pub at: String,
    pub source: String,
    pub text: String,
}

/// A commit the analysis names as part of the incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Culprit {
    /// As written (often a short id).
    pub commit: String,
    pub role: Role,
    /// Set when the commit lives in another repository.
    pub repository: Option<String>,
    /// Byte span of the commit string in the record, for errors.
    #[serde(skip)]
    pub span: Range<usize>,
}

/// A finding of the analysis: what the review learned about the system.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AnalysisFinding {
    pub id: String,
    pub question: Question,
    pub text: String,
    pub lesson: String,
    /// Line of the finding's `id` in the record.
    pub line: usize,
}

/// Something the team decided to do about a finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Action {
    pub id: String,
    pub finding: Option<String>,
    pub text: String,
    pub status: Option<String>,
    pub tracker: Option<String>,
}

/// A checked analysis record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Analysis {
    pub id: String,
    pub title: String,
    pub status: Status,
    /// The day the review met, as written.
    pub held: Option<String>,
    pub perspectives: Vec<String>,
    pub timeline: Vec<TimelineEntry>,
    pub culprits: Vec<Culprit>,
    pub findings: Vec<AnalysisFinding>,
    pub actions: Vec<Action>,
    pub backtests: Vec<StoredBacktest>,
    /// Extra hotspot globs (`hotspots = [...]`).
    pub hotspots: Vec<String>,
    /// Hotspot globs left out (`hotspots_exclude = [...]`).
    pub hotspots_exclude: Vec<String>,
    /// As shown to the user: `.forewarn/analyses/x.toml` or `main:.forewarn/analyses/x.toml`.
    pub file: String,
    #[serde(skip)]
    pub text: String,
}

impl Analysis {
    pub fn finding(&self, id: &str) -> Option<&AnalysisFinding> {
        self.findings.iter().find(|f| f.id == id)
    }

    /// `ANALYSIS-ID#FINDING-ID` for one of this record's findings.
    pub fn link(&self, finding: &AnalysisFinding) -> String {
        format!("{}#{}", self.id, finding.id)
    }
}

/// Every record loaded, and the problems worth a word that do not stop the run.
#[derive(Debug, Clone, Default)]
pub struct Analyses {
    pub records: Vec<Analysis>,
    pub warnings: Vec<String>,
}

impl Analyses {
    pub fn get(&self, id: &str) -> Option<&Analysis> {
        self.records.iter().find(|a| a.id == id)
    }

    /// Resolves `ANALYSIS-ID#FINDING-ID`.
    pub fn resolve(&self, link: &str) -> Option<(&Analysis, &AnalysisFinding)> {
        let (analysis, finding) = link.split_once('#')?;
        let analysis = self.get(analysis)?;
        Some((analysis, analysis.finding(finding)?))
    }
}

/// Splits `ANALYSIS-ID#FINDING-ID`.
pub fn split_link(link: &str) -> Option<(&str, &str)> {
    link.split_once('#')
        .filter(|(a, f)| !a.is_empty() && !f.is_empty() && !f.contains('#'))
}

/// Whether `id` is lowercase words and digits joined by `-`, like rule ids.
pub fn is_kebab_case(id: &str) -> bool {
    !id.is_empty()
        && id.split('-').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

/// `Some Title: here!` → `some-title-here`.
pub fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_string()
}

/// Phrases that judge a person rather than describe a system, with what to write instead.
const BLAME: &[(&str, &str)] = &[
    (
        "human error",
        "name what in the system made the action easy to get wrong",
    ),
    (
        "should have",
        "describe what the responders could see at the time, and why their choice made sense then",
    ),
    (
        "forgot",
        "name the step the system did not ask for, or the signal that was missing",
    ),
    (
        "careless",
        "describe the conditions (time pressure, missing check) rather than a person's care",
    ),
    (
        "negligen",
        "describe the conditions, not a person's diligence",
    ),
    ("to blame", "describe the contributing conditions instead"),
    ("fault of", "describe the contributing conditions instead"),
];

/// An optional text field: its value (empty when absent) and its span (the table's when absent).
fn field(value: Option<Spanned<String>>, table: &Range<usize>) -> Spanned<String> {
    value.unwrap_or_else(|| Spanned::new(table.clone(), String::new()))
}

/// Warnings for blaming phrases in one text field.
fn blame_warnings(path: &str, text: &str, field: &Spanned<String>, out: &mut Vec<String>) {
    let lower = field.get_ref().to_lowercase();
    for (phrase, instead) in BLAME {
        if let Some(at) = lower.find(phrase) {
            // The span covers the quoted string; +1 skips the opening quote on simple strings.
            let (line, col) = line_col(text, field.span().start + 1 + at);
            out.push(format!(
                "{path}:{line}:{col}: `{phrase}` speaks of a person, and the record speaks of systems: {instead}"
            ));
        }
    }
}

/// Parses one record, collecting every problem in it.
pub fn parse_file(
    file: &RuleFile,
    warnings: &mut Vec<String>,
) -> std::result::Result<Analysis, Vec<SourceError>> {
    let (path, text) = (file.path.as_str(), file.text.as_str());
    let raw: RawRecord = toml::from_str(text).map_err(|e| {
        vec![toml_error(path, text, &e).help(
            "an analysis record has id, title, status, held, perspectives, and [[timeline]], [[culprit]], [[finding]], [[action]] tables; `forewarn analysis new \"<title>\"` writes one to start from",
        )]
    })?;
    let mut errors = Vec::new();
    let draft = raw.status == Status::Draft;
    let err = |span: Range<usize>, message: String| SourceError::new(path, text, span, message);
    // Missing text is expected while a record is a draft; once reviewed, it is an error.
    let missing = |span: Range<usize>,
                   what: &str,
                   help: &str,
                   errors: &mut Vec<SourceError>,
                   warnings: &mut Vec<String>| {
        if draft {
            let (line, col) = line_col(text, span.start);
            warnings.push(format!(
                "{path}:{line}:{col}: {what} (fine while the record is a draft; {help})"
            ));
        } else {
            errors.push(
                err(span, what.to_string())
                    .label("required once the record is reviewed")
                    .help(help.to_string()),
            );
        }
    };

    if !is_kebab_case(raw.id.get_ref()) {
        errors.push(
            err(raw.id.span(), "analysis id is not kebab-case".into())
                .label("ids are lowercase words and digits joined by `-`, used in rule links")
                .help(format!(
                    "rename it, e.g. id = \"{}\"",
                    slug(raw.id.get_ref())
                )),
        );
    }
    if raw.title.get_ref().trim().is_empty() {
        missing(
            raw.title.span(),
            "the record has no title",
            "name the incident by what the system did",
            &mut errors,
            warnings,
        );
    }
    blame_warnings(path, text, &raw.title, warnings);
    let held = raw.held.map(|held| {
        let value = held.get_ref();
        if value.date.is_none() || value.time.is_some() {
            errors.push(
                err(held.span(), "`held` is not a date".into())
                    .label("expected a date like 2019-07-03")
                    .help("write the day the review met, without a time: held = 2019-07-03"),
            );
        }
        value.to_string()
    });
    let perspectives = raw
        .perspectives
        .into_iter()
        .map(Spanned::into_inner)
        .collect();

    let mut timeline = Vec::new();
    for entry in raw.timeline {
        let span = entry.span();
        let entry = entry.into_inner();
        let source = field(entry.source, &span);
        let entry_text = field(entry.text, &span);
        if entry.at.get_ref().date.is_none() {
            errors.push(
                err(entry.at.span(), "timeline time has no date".into())
                    .label("expected a date and time like 2019-07-02T03:05:00Z")
                    .help("write when it happened, with its date: at = 2019-07-02T03:05:00Z"),
            );
        }
        if source.get_ref().trim().is_empty() {
            missing(
                source.span(),
                "timeline entry has no source",
                "say where it comes from (deploy log, alert, chat, dashboard, ticket) so it can be checked later",
                &mut errors,
                warnings,
            );
        }
        if entry_text.get_ref().trim().is_empty() {
            missing(
                entry_text.span(),
                "timeline entry has no text",
                "say what the system did and what the responders could see",
                &mut errors,
                warnings,
            );
        }
        blame_warnings(path, text, &entry_text, warnings);
        timeline.push(TimelineEntry {
            at: entry.at.get_ref().to_string(),
            source: source.into_inner(),
            text: entry_text.into_inner(),
        });
    }

    let mut culprits = Vec::new();
    for culprit in raw.culprit {
        let culprit = culprit.into_inner();
        let commit = culprit.commit.get_ref().trim();
        if commit.is_empty() || commit.chars().any(char::is_whitespace) {
            errors.push(
                err(
                    culprit.commit.span(),
                    "culprit commit is not a commit id".into(),
                )
                .label("expected a commit id like \"3f9c2e1\"")
                .help("copy the id from `git log --oneline`"),
            );
        }
        culprits.push(Culprit {
            commit: commit.to_string(),
            role: culprit.role,
            repository: culprit.repository,
            span: culprit.commit.span(),
        });
    }

    let mut findings: Vec<AnalysisFinding> = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for finding in raw.finding {
        let span = finding.span();
        let finding = finding.into_inner();
        let finding_text = field(finding.text, &span);
        let lesson = field(finding.lesson, &span);
        let id = finding.id.get_ref().clone();
        let line = line_col(text, finding.id.span().start).0;
        if id.trim().is_empty() || id.contains('#') || id.chars().any(char::is_whitespace) {
            errors.push(
                err(
                    finding.id.span(),
                    "finding id cannot be used in a link".into(),
                )
                .label("rules link to `ANALYSIS-ID#FINDING-ID`")
                .help("use a short id without spaces or `#`, e.g. id = \"F1\""),
            );
        }
        if let Some(first) = seen.insert(id.clone(), line) {
            errors.push(
                err(finding.id.span(), format!("duplicate finding id `{id}`"))
                    .label(format!("first used on line {first}"))
                    .help("finding ids are unique within a record: number them F1, F2, …"),
            );
        }
        if finding_text.get_ref().trim().is_empty() {
            missing(
                finding_text.span(),
                &format!("finding {id} has no text"),
                "say what the review learned about the system",
                &mut errors,
                warnings,
            );
        }
        blame_warnings(path, text, &finding_text, warnings);
        blame_warnings(path, text, &lesson, warnings);
        findings.push(AnalysisFinding {
            id,
            question: finding.question,
            text: finding_text.into_inner(),
            lesson: lesson.into_inner(),
            line,
        });
    }

    let mut actions = Vec::new();
    let mut seen_actions: HashMap<String, usize> = HashMap::new();
    for action in raw.action {
        let span = action.span();
        let action = action.into_inner();
        let action_text = field(action.text, &span);
        let id = action.id.get_ref().clone();
        let line = line_col(text, action.id.span().start).0;
        if let Some(first) = seen_actions.insert(id.clone(), line) {
            errors.push(
                err(action.id.span(), format!("duplicate action id `{id}`"))
                    .label(format!("first used on line {first}"))
                    .help("action ids are unique within a record: number them A1, A2, …"),
            );
        }
        if let Some(finding) = &action.finding {
            if !findings.iter().any(|f| &f.id == finding.get_ref()) {
                let known: Vec<&str> = findings.iter().map(|f| f.id.as_str()).collect();
                errors.push(
                    err(
                        finding.span(),
                        format!(
                            "action {id} names finding `{}`, which this record does not have",
                            finding.get_ref()
                        ),
                    )
                    .label("no [[finding]] with this id")
                    .help(if known.is_empty() {
                        "add the [[finding]] it answers, or remove `finding`".to_string()
                    } else {
                        format!("the findings of this record are: {}", known.join(", "))
                    }),
                );
            }
        }
        blame_warnings(path, text, &action_text, warnings);
        actions.push(Action {
            id,
            finding: action.finding.map(Spanned::into_inner),
            text: action_text.into_inner(),
            status: action.status,
            tracker: action.tracker,
        });
    }

    let backtests = raw.backtest.into_iter().map(Spanned::into_inner).collect();
    for glob in raw.hotspots.iter().chain(&raw.hotspots_exclude) {
        crate::toml_span::check_glob(path, text, glob, &mut errors);
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Analysis {
        id: raw.id.into_inner(),
        title: raw.title.into_inner(),
        status: raw.status,
        held,
        perspectives,
        timeline,
        culprits,
        findings,
        actions,
        backtests,
        hotspots: raw.hotspots.into_iter().map(Spanned::into_inner).collect(),
        hotspots_exclude: raw
            .hotspots_exclude
            .into_iter()
            .map(Spanned::into_inner)
            .collect(),
        file: path.to_string(),
        text: text.to_string(),
    })
}

/// Loads every record; ids must be unique across them. Every problem in every file is reported.
pub fn load(files: &[RuleFile]) -> Result<Analyses> {
    let mut errors = Vec::new();
    let mut out = Analyses::default();
    let mut first_seen: HashMap<String, String> = HashMap::new();
    for file in files {
        match parse_file(file, &mut out.warnings) {
            Ok(analysis) => {
                if let Some(other) = first_seen.get(&analysis.id) {
                    let span = id_span(&analysis.text, &analysis.id);
                    errors.push(
                        SourceError::new(&file.path, &file.text, span, format!("duplicate analysis id `{}`", analysis.id))
                            .label(format!("also the id of {other}"))
                            .help("analysis ids are unique: rules link to them. Rename one, e.g. with the date of its incident"),
                    );
                    continue;
                }
                first_seen.insert(analysis.id.clone(), file.path.clone());
                out.records.push(analysis);
            }
            Err(mut e) => errors.append(&mut e),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(Error::Source(errors))
    }
}

/// The span of the top-level `id = "..."` value.
fn id_span(text: &str, id: &str) -> Range<usize> {
    let quoted = format!("\"{id}\"");
    text.find(&quoted)
        .map(|i| i..i + quoted.len())
        .unwrap_or(0..0)
}

#[cfg(test)]
mod tests;
