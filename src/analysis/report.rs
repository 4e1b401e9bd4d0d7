//! `forewarn report`: what the next review wants to know, from the records, the rules, the
//! ledger and history. For each analysis and finding: its rules, how often each fired and was
//! acknowledged and why; which rules never fire; which culprit commits no rule catches; which
//! findings have no rule yet. Drawn as markdown, JSON, or one self-contained HTML page.

pub mod html;
mod lesson;
mod markdown;
#[cfg(test)]
mod tests;
pub mod write;

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use super::backtest::CulpritOutcome;
use super::ledger::{Event, Kind, life};
use super::links::plural;
use super::record::Analyses;
use crate::rules::Rule;

use lesson::Occurrence;
pub use lesson::{Lesson, Trend};
pub use markdown::{markdown, md, md_reason};

/// Bumped only when a field is renamed, removed or changes meaning.
pub const VERSION: u32 = 1;

/// An acknowledgement found in history: a `Forewarn-Ack:` trailer of a commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryAck {
    pub rule: String,
    pub reason: String,
    pub commit: String,
    /// RFC 3339.
    pub time: String,
}

/// Everything the report is drawn from.
pub struct Inputs<'a> {
    pub analyses: &'a Analyses,
    pub rules: &'a [Rule],
    pub events: &'a [Event],
    pub history_acks: &'a [HistoryAck],
    /// Commits whose messages were read for trailers.
    pub history_commits: usize,
    /// Every culprit commit replayed against every rule in force.
    pub culprits: &'a [CulpritOutcome],
    pub warnings: Vec<String>,
    /// RFC 3339.
    pub generated: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub version: u32,
    pub tool: &'static str,
    pub generated: String,
    pub ledger_events: usize,
    pub history_commits: usize,
    pub analyses: Vec<AnalysisReport>,
    pub rules: Vec<RuleStats>,
    /// Rules in force that neither the ledger nor history shows firing.
    pub never_fired: Vec<String>,
    /// Culprit commits that no rule in force fires on (or that could not be replayed).
    pub uncaught_culprits: Vec<CulpritOutcome>,
    /// `ANALYSIS-ID#FINDING-ID` of findings no rule in force links to.
    pub findings_without_rule: Vec<String>,
    /// Labels of the time buckets of every rule's `series`, oldest first: from the first ledger
    /// event or analysis held, whichever is earlier.
    pub buckets: Vec<String>,
    /// `(bucket, "ID held DATE")` for each analysis whose review falls on the axis.
    pub held_marks: Vec<(usize, String)>,
    /// Fires and acknowledgements counted but before the axis starts (old commit trailers).
    pub not_drawn: usize,
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AnalysisReport {
    pub id: String,
    pub title: String,
    pub status: &'static str,
    pub held: Option<String>,
    pub file: String,
    pub findings: Vec<FindingReport>,
    pub culprits: Vec<CulpritOutcome>,
    /// How often its hotspots were touched since the incident (filled in by `forewarn report`
    /// when `[hotspots]` is enabled and history can be read).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hotspots: Option<super::hotspots::HotspotHistory>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FindingReport {
    pub id: String,
    pub link: String,
    pub question: &'static str,
    pub text: String,
    pub lesson: String,
    /// Ids of the rules in force that link to it.
    pub rules: Vec<String>,
    /// Each of those rules at work since the review, in the order of `rules`.
    pub lessons: Vec<Lesson>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reason {
    pub reason: String,
    /// `trailer`, `pull-request`, `inline`, `command-line`.
    pub source: String,
    /// How many times this reason was given (in any of its wordings).
    pub count: usize,
    /// When it was last given.
    pub last: String,
    /// How many near-identical wordings were counted together (shown in the most given one).
    pub variants: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct RuleStats {
    pub id: String,
    pub title: String,
    /// `file:line` of the rule, or `null` for a rule the ledger names that is no longer in force.
    pub origin: Option<String>,
    pub builtin: bool,
    pub findings: Vec<String>,
    /// Distinct changes it fired on (a pull request checked many times counts once).
    pub fired: usize,
    /// Of those, how many were acknowledged.
    pub acknowledged: usize,
    /// Of those, how many fired on a pull request and were gone by a later push, unanswered.
    pub resolved_before_merge: usize,
    pub trend: Trend,
    pub first_fired: Option<String>,
    pub last_fired: Option<String>,
    pub reasons: Vec<Reason>,
    /// `(fired, acknowledged)` per bucket of the report's `buckets`.
    pub series: Vec<(usize, usize)>,
}

/// Groups ledger events into occurrences: the same finding (fingerprint) on the same pull
/// request or commit, recorded by several runs, is one occurrence; acknowledged if any run saw
/// it acknowledged; resolved before merge when its pull request's last recorded check no longer
/// saw it ([`life`]).
fn occurrences(events: &[Event], history_acks: &[HistoryAck]) -> Vec<Occurrence> {
    let resolved = life::resolved_before_merge(events);
    let mut grouped: BTreeMap<(String, String, String), Occurrence> = BTreeMap::new();
    for (i, e) in events.iter().enumerate() {
        if e.kind == Kind::Checked {
            continue;
        }
        let change = life::change_of(e, i);
        let entry = grouped
            .entry((e.rule.clone(), e.fingerprint.clone(), change))
            .or_insert_with(|| Occurrence {
                rule: e.rule.clone(),
                time: e.time.clone(),
                acknowledged: None,
                resolved: e.pull_request.is_some_and(|pr| {
                    resolved.contains(&(e.rule.clone(), e.fingerprint.clone(), pr))
                }),
            });
        if crate::analysis::ledger::earlier(&e.time, &entry.time) {
            entry.time = e.time.clone();
        }
        if e.kind == Kind::Acknowledged {
            entry.acknowledged = Some((
                e.reason.clone().unwrap_or_default(),
                e.ack_source.clone().unwrap_or_else(|| "unknown".into()),
            ));
        }
    }
    let mut out: Vec<Occurrence> = grouped.into_values().collect();
    // A trailer the ledger already saw (same rule, same commit) is not counted twice.
    for ack in history_acks {
        let seen = events.iter().any(|e| {
            e.rule == ack.rule
                && e.ack_commit
                    .as_deref()
                    .is_some_and(|c| c.starts_with(&ack.commit) || ack.commit.starts_with(c))
        });
        if !seen {
            out.push(Occurrence {
                rule: ack.rule.clone(),
                time: ack.time.clone(),
                acknowledged: Some((ack.reason.clone(), "trailer".into())),
                resolved: false,
            });
        }
    }
    out
}

/// How wide a chart bucket is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Width {
    Day,
    Week,
    Month,
}

fn bucket_of(time: &str, width: Width) -> Option<String> {
    let date = time
        .parse::<jiff::Timestamp>()
        .ok()
        .map(|t| t.to_zoned_datetime(jiff::tz::TimeZone::UTC).date())
        .or_else(|| time.get(..10)?.parse::<jiff::civil::Date>().ok())?;
    Some(match width {
        Width::Day => date.to_string(),
        Width::Week => {
            let monday = date
                .checked_sub(
                    jiff::Span::new().days(i64::from(date.weekday().to_monday_zero_offset())),
                )
                .ok()?;
            monday.to_string()
        }
        Width::Month => format!("{:04}-{:02}", date.year(), date.month()),
    })
}

/// Every bucket label from the first to the last, with none missing, so a chart's x axis is time.
fn buckets(times: &[&str]) -> (Width, Vec<String>) {
    let dates: Vec<jiff::civil::Date> = times
        .iter()
        .filter_map(|t| bucket_of(t, Width::Day))
        .filter_map(|d| d.parse().ok())
        .collect();
    let (Some(first), Some(last)) = (dates.iter().min(), dates.iter().max()) else {
        return (Width::Week, Vec::new());
    };
    let days = (last.since(*first).map(|s| s.get_days()).unwrap_or(0)).max(0);
    let width = if days <= 45 {
        Width::Day
    } else if days <= 7 * 52 {
        Width::Week
    } else {
        Width::Month
    };
    let mut labels: Vec<String> = Vec::new();
    let mut day = *first;
    while day <= *last {
        if let Some(label) = bucket_of(&day.to_string(), width)
            && labels.last() != Some(&label)
        {
            labels.push(label);
        }
        match day.tomorrow() {
            Ok(next) => day = next,
            Err(_) => break,
        }
    }
    (width, labels)
}

/// Builds the report.
pub fn build(inputs: Inputs<'_>) -> Report {
    let occurrences = occurrences(inputs.events, inputs.history_acks);
    // The chart spans the ledger and the reviews: from the first recorded event or the first
    // analysis held, whichever is earlier, so years of old trailers do not push what CI
    // recorded into the last tenth of the axis. Older trailers are counted, not drawn.
    let held: Vec<&str> = inputs
        .analyses
        .records
        .iter()
        .filter_map(|a| a.held.as_deref())
        .collect();
    let start = inputs
        .events
        .iter()
        .map(|e| e.time.as_str())
        .chain(held.iter().copied())
        .filter_map(|t| t.get(..10))
        .min();
    let drawn: Vec<&str> = occurrences
        .iter()
        .map(|o| o.time.as_str())
        .filter(|t| start.is_none_or(|s| t.get(..10).is_some_and(|d| d >= s)))
        .chain(held.iter().copied())
        .collect();
    let earlier = occurrences.len() + held.len() - drawn.len();
    let (width, labels) = buckets(&drawn);
    let index: HashMap<&str, usize> = labels
        .iter()
        .enumerate()
        .map(|(i, l)| (l.as_str(), i))
        .collect();

    let mut rules: Vec<RuleStats> = inputs
        .rules
        .iter()
        .map(|r| RuleStats {
            id: r.id.clone(),
            title: r.title.clone(),
            origin: Some(r.origin.to_string()),
            builtin: r.origin.builtin,
            findings: r.findings.clone(),
            fired: 0,
            acknowledged: 0,
            resolved_before_merge: 0,
            trend: lesson::trend(std::iter::empty(), &inputs.generated),
            first_fired: None,
            last_fired: None,
            reasons: Vec::new(),
            series: vec![(0, 0); labels.len()],
        })
        .collect();
    for o in &occurrences {
        let at = match rules.iter().position(|r| r.id == o.rule) {
            Some(at) => at,
            None => {
                let findings = inputs
                    .events
                    .iter()
                    .find(|e| e.rule == o.rule)
                    .map(|e| e.findings.clone())
                    .unwrap_or_default();
                rules.push(RuleStats {
                    id: o.rule.clone(),
                    title: "(no longer in force)".into(),
                    origin: None,
                    builtin: false,
                    findings,
                    fired: 0,
                    acknowledged: 0,
                    resolved_before_merge: 0,
                    trend: lesson::trend(std::iter::empty(), &inputs.generated),
                    first_fired: None,
                    last_fired: None,
                    reasons: Vec::new(),
                    series: vec![(0, 0); labels.len()],
                });
                rules.len() - 1
            }
        };
        let stats = &mut rules[at];
        stats.fired += 1;
        if stats
            .first_fired
            .as_ref()
            .is_none_or(|t| crate::analysis::ledger::earlier(&o.time, t))
        {
            stats.first_fired = Some(o.time.clone());
        }
        if stats
            .last_fired
            .as_ref()
            .is_none_or(|t| crate::analysis::ledger::earlier(t, &o.time))
        {
            stats.last_fired = Some(o.time.clone());
        }
        let bucket = bucket_of(&o.time, width).and_then(|b| index.get(b.as_str()).copied());
        if let Some(b) = bucket {
            stats.series[b].0 += 1;
        }
        if o.resolved {
            stats.resolved_before_merge += 1;
        }
        if o.acknowledged.is_some() {
            stats.acknowledged += 1;
            if let Some(b) = bucket {
                stats.series[b].1 += 1;
            }
        }
    }
    for r in &mut rules {
        let mine = || occurrences.iter().filter(|o| o.rule == r.id);
        r.trend = lesson::trend(mine().map(|o| o.time.as_str()), &inputs.generated);
        r.reasons = lesson::group_reasons(mine().filter_map(|o| {
            o.acknowledged
                .as_ref()
                .map(|(reason, source)| (reason.as_str(), source.as_str(), o.time.as_str()))
        }));
    }

    let mut analyses = Vec::new();
    let mut findings_without_rule = Vec::new();
    for a in &inputs.analyses.records {
        let findings = a
            .findings
            .iter()
            .map(|f| {
                let link = a.link(f);
                let linked: Vec<String> = inputs
                    .rules
                    .iter()
                    .filter(|r| r.findings.contains(&link))
                    .map(|r| r.id.clone())
                    .collect();
                if linked.is_empty() {
                    findings_without_rule.push(link.clone());
                }
                let lessons = linked
                    .iter()
                    .map(|rule| {
                        lesson::lesson(rule, a.held.as_deref(), &occurrences, &inputs.generated)
                    })
                    .collect();
                FindingReport {
                    id: f.id.clone(),
                    link,
                    question: f.question.as_str(),
                    text: f.text.clone(),
                    lesson: f.lesson.clone(),
                    rules: linked,
                    lessons,
                }
            })
            .collect();
        analyses.push(AnalysisReport {
            id: a.id.clone(),
            title: a.title.clone(),
            status: a.status.as_str(),
            held: a.held.clone(),
            file: a.file.clone(),
            findings,
            culprits: inputs
                .culprits
                .iter()
                .filter(|c| c.analysis == a.id)
                .cloned()
                .collect(),
            hotspots: None,
        });
    }
    let never_fired = rules
        .iter()
        .filter(|r| r.fired == 0 && r.origin.is_some())
        .map(|r| r.id.clone())
        .collect();
    let uncaught_culprits = inputs
        .culprits
        .iter()
        .filter(|c| c.caught_by.is_empty())
        .cloned()
        .collect();
    Report {
        version: VERSION,
        tool: "forewarn",
        generated: inputs.generated,
        ledger_events: inputs.events.len(),
        history_commits: inputs.history_commits,
        analyses,
        rules,
        never_fired,
        uncaught_culprits,
        findings_without_rule,
        held_marks: inputs
            .analyses
            .records
            .iter()
            .filter_map(|a| {
                let at = bucket_of(a.held.as_deref()?, width)?;
                let bucket = labels.iter().position(|l| *l == at)?;
                Some((bucket, format!("{} held {}", a.id, a.held.as_deref()?)))
            })
            .collect(),
        not_drawn: earlier,
        buckets: labels,
        warnings: inputs.warnings,
    }
}

impl Report {
    pub fn rule(&self, id: &str) -> Option<&RuleStats> {
        self.rules.iter().find(|r| r.id == id)
    }

    /// What the report was drawn from, in words.
    pub fn sources(&self) -> String {
        format!(
            "{}, {} in force, {} and the acknowledgement trailers of {}",
            plural(self.analyses.len(), "analysis record"),
            plural(
                self.rules.iter().filter(|r| r.origin.is_some()).count(),
                "rule"
            ),
            plural(self.ledger_events, "ledger event"),
            plural(self.history_commits, "commit")
        )
    }
}

fn short(commit: &str) -> String {
    commit.chars().take(12).collect()
}

fn date(time: &str) -> &str {
    time.get(..10).unwrap_or(time)
}

/// `--format json`.
pub fn json(report: &Report) -> String {
    let mut s = serde_json::to_string_pretty(report).unwrap_or_default();
    s.push('\n');
    s
}
