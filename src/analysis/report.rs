//! `forewarn report`: what the next review wants to know, from the records, the rules, the
//! ledger and history. For each analysis and finding: its rules, how often each fired and was
//! acknowledged and why; which rules never fire; which culprit commits no rule catches; which
//! findings have no rule yet. Drawn as markdown, JSON, or one self-contained HTML page.

pub mod html;

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use serde::Serialize;

use super::backtest::CulpritOutcome;
use super::ledger::{Event, Kind};
use super::links::{one_line, plural};
use super::record::Analyses;
use crate::rules::Rule;

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
    /// Labels of the time buckets of every rule's `series`, oldest first.
    pub buckets: Vec<String>,
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
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reason {
    pub reason: String,
    /// `trailer`, `pull-request`, `inline`, `command-line`.
    pub source: String,
    /// How many times this reason was given.
    pub count: usize,
    /// When it was last given.
    pub last: String,
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
    pub first_fired: Option<String>,
    pub last_fired: Option<String>,
    pub reasons: Vec<Reason>,
    /// `(fired, acknowledged)` per bucket of the report's `buckets`.
    pub series: Vec<(usize, usize)>,
}

/// One finding of one change: the unit that is counted.
struct Occurrence {
    rule: String,
    time: String,
    acknowledged: Option<(String, String)>,
}

/// Groups ledger events into occurrences: the same finding (fingerprint) on the same pull
/// request or commit, recorded by several runs, is one occurrence; acknowledged if any run saw
/// it acknowledged.
fn occurrences(events: &[Event], history_acks: &[HistoryAck]) -> Vec<Occurrence> {
    let mut grouped: BTreeMap<(String, String, String), Occurrence> = BTreeMap::new();
    for (i, e) in events.iter().enumerate() {
        let change = match (e.pull_request, &e.commit) {
            (Some(pr), _) => format!("pr:{pr}"),
            (None, Some(c)) => format!("commit:{c}"),
            (None, None) => format!("event:{i}"),
        };
        let entry = grouped
            .entry((e.rule.clone(), e.fingerprint.clone(), change))
            .or_insert_with(|| Occurrence {
                rule: e.rule.clone(),
                time: e.time.clone(),
                acknowledged: None,
            });
        if e.time < entry.time {
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
    let times: Vec<&str> = occurrences.iter().map(|o| o.time.as_str()).collect();
    let (width, labels) = buckets(&times);
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
        if stats.first_fired.as_ref().is_none_or(|t| &o.time < t) {
            stats.first_fired = Some(o.time.clone());
        }
        if stats.last_fired.as_ref().is_none_or(|t| &o.time > t) {
            stats.last_fired = Some(o.time.clone());
        }
        let bucket = bucket_of(&o.time, width).and_then(|b| index.get(b.as_str()).copied());
        if let Some(b) = bucket {
            stats.series[b].0 += 1;
        }
        if let Some((reason, source)) = &o.acknowledged {
            stats.acknowledged += 1;
            if let Some(b) = bucket {
                stats.series[b].1 += 1;
            }
            match stats
                .reasons
                .iter_mut()
                .find(|r| &r.reason == reason && &r.source == source)
            {
                Some(r) => {
                    r.count += 1;
                    if o.time > r.last {
                        r.last = o.time.clone();
                    }
                }
                None => stats.reasons.push(Reason {
                    reason: reason.clone(),
                    source: source.clone(),
                    count: 1,
                    last: o.time.clone(),
                }),
            }
        }
    }
    for r in &mut rules {
        r.reasons
            .sort_by(|a, b| b.count.cmp(&a.count).then(b.last.cmp(&a.last)));
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
                FindingReport {
                    id: f.id.clone(),
                    link,
                    question: f.question.as_str(),
                    text: f.text.clone(),
                    lesson: f.lesson.clone(),
                    rules: linked,
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

/// Text for a markdown table cell or line: no line breaks, no table pipes, no raw HTML.
pub fn md(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '|' => out.push_str("\\|"),
            // Links and images (`[text](url)`, `![alt](src)`) stay text.
            '[' => out.push_str("\\["),
            ']' => out.push_str("\\]"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '`' => out.push('\''),
            '\n' | '\r' | '\t' => out.push(' '),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// [`md`] for free text someone typed into an acknowledgement: besides, a bare URL and an
/// `@mention` are set as code, so a reason neither links anywhere nor notifies anyone when the
/// report is pasted into an issue or a pull request.
pub fn md_reason(text: &str) -> String {
    let escaped = md(text);
    let mut out = String::with_capacity(escaped.len() + 8);
    for (i, word) in escaped.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let lower = word.to_ascii_lowercase();
        let mention = word
            .strip_prefix('@')
            .and_then(|rest| rest.chars().next())
            .is_some_and(|c| c.is_alphanumeric());
        let url = lower.contains("://") || lower.starts_with("www.") || lower.contains("www.");
        if mention || url || word.contains('@') && word.contains('.') {
            out.push('`');
            out.push_str(word);
            out.push('`');
        } else {
            out.push_str(word);
        }
    }
    out
}

fn short(commit: &str) -> String {
    commit.chars().take(12).collect()
}

fn date(time: &str) -> &str {
    time.get(..10).unwrap_or(time)
}

/// What a culprit outcome says, as markdown.
fn culprit_verdict(c: &CulpritOutcome) -> String {
    match (&c.not_replayed, c.caught_by.as_slice()) {
        (Some(why), _) => format!("not replayed: {}", md(why)),
        (None, []) => "no rule catches it".to_string(),
        (None, rules) => format!(
            "caught by {}",
            rules
                .iter()
                .map(|r| format!("`{}`", md(r)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// `--format markdown`.
pub fn markdown(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# forewarn report\n");
    let _ = writeln!(
        out,
        "Generated {} from {}.\n",
        report.generated,
        report.sources()
    );
    if report.ledger_events == 0 {
        let _ = writeln!(
            out,
            "> The ledger is empty: run `forewarn check --record` in CI so each finding is recorded.\n"
        );
    }
    for a in &report.analyses {
        let _ = writeln!(out, "## {}: {}\n", md(&a.id), md(&a.title));
        let _ = writeln!(
            out,
            "Status {} · held {} · `{}`\n",
            a.status,
            a.held.as_deref().unwrap_or("(no date)"),
            md(&a.file)
        );
        if a.findings.is_empty() {
            let _ = writeln!(out, "No findings yet.\n");
        } else {
            let _ = writeln!(
                out,
                "| finding | question | rule | fired | acknowledged | last fired |"
            );
            let _ = writeln!(out, "|---|---|---|---:|---:|---|");
            for f in &a.findings {
                let what = format!("**{}** {}", md(&f.id), md(&one_line(&f.text, 90)));
                if f.rules.is_empty() {
                    let _ = writeln!(
                        out,
                        "| {what} | {} | no rule yet: `forewarn rule new <id> --finding {}` | | | |",
                        f.question,
                        md(&f.link)
                    );
                }
                for id in &f.rules {
                    let stats = report.rule(id);
                    let _ = writeln!(
                        out,
                        "| {what} | {} | `{}` | {} | {} | {} |",
                        f.question,
                        md(id),
                        stats.map_or(0, |s| s.fired),
                        stats.map_or(0, |s| s.acknowledged),
                        stats
                            .and_then(|s| s.last_fired.as_deref())
                            .map(date)
                            .unwrap_or("never")
                    );
                }
            }
            let _ = writeln!(out);
        }
        if !a.culprits.is_empty() {
            let _ = writeln!(out, "Culprit commits:\n");
            for c in &a.culprits {
                let _ = writeln!(
                    out,
                    "- `{}` ({}): {}",
                    md(&c.commit),
                    c.role.as_str(),
                    culprit_verdict(c)
                );
            }
            let _ = writeln!(out);
        }
        if let Some(h) = &a.hotspots {
            let paths: Vec<String> = h
                .paths
                .iter()
                .map(|(p, n)| format!("`{}` ({n})", md(p)))
                .collect();
            let _ = writeln!(
                out,
                "Hotspots ({}): touched by {} ({} acknowledged){}{}\n",
                md(&h.since),
                plural(h.changes, "change"),
                h.acknowledged,
                if paths.is_empty() { "" } else { ": " },
                paths.join(", ")
            );
        }
    }

    let _ = writeln!(out, "## Rules that fired\n");
    let fired: Vec<&RuleStats> = report.rules.iter().filter(|r| r.fired > 0).collect();
    if fired.is_empty() {
        let _ = writeln!(out, "None in the ledger or in history.\n");
    } else {
        let _ = writeln!(
            out,
            "| rule | findings | fired | acknowledged | first | last |"
        );
        let _ = writeln!(out, "|---|---|---:|---:|---|---|");
        for r in &fired {
            let _ = writeln!(
                out,
                "| `{}`{} | {} | {} | {} | {} | {} |",
                md(&r.id),
                if r.origin.is_none() {
                    " (no longer in force)"
                } else {
                    ""
                },
                if r.findings.is_empty() {
                    "—".to_string()
                } else {
                    md(&r.findings.join(", "))
                },
                r.fired,
                r.acknowledged,
                r.first_fired.as_deref().map(date).unwrap_or(""),
                r.last_fired.as_deref().map(date).unwrap_or("")
            );
        }
        let _ = writeln!(out);
        let with_reasons: Vec<&&RuleStats> =
            fired.iter().filter(|r| !r.reasons.is_empty()).collect();
        if !with_reasons.is_empty() {
            let _ = writeln!(out, "### Why findings were acknowledged\n");
            for r in with_reasons {
                for reason in &r.reasons {
                    let _ = writeln!(
                        out,
                        "- `{}`: \"{}\" ({}, ×{}, last {})",
                        md(&r.id),
                        md_reason(&reason.reason),
                        md(&reason.source),
                        reason.count,
                        date(&reason.last)
                    );
                }
            }
            let _ = writeln!(out);
        }
    }

    let _ = writeln!(out, "## Rules that never fired\n");
    if report.never_fired.is_empty() {
        let _ = writeln!(out, "Every rule in force has fired.\n");
    } else {
        let team: Vec<&RuleStats> = report
            .rules
            .iter()
            .filter(|r| r.fired == 0 && r.origin.is_some() && !r.builtin)
            .collect();
        let builtin: Vec<&RuleStats> = report
            .rules
            .iter()
            .filter(|r| r.fired == 0 && r.origin.is_some() && r.builtin)
            .collect();
        for r in &team {
            let _ = writeln!(
                out,
                "- `{}` ({}){}",
                md(&r.id),
                md(r.origin.as_deref().unwrap_or("")),
                if r.findings.is_empty() {
                    String::new()
                } else {
                    format!(": for {}", md(&r.findings.join(", ")))
                }
            );
        }
        if !builtin.is_empty() {
            // Folded: a long list of shipped rules would bury the team's own.
            let _ = writeln!(
                out,
                "\n<details><summary>{} built-in</summary>\n\n{}\n\n</details>",
                plural(builtin.len(), "rule"),
                builtin
                    .iter()
                    .map(|r| format!("`{}`", md(&r.id)))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        let _ = writeln!(out);
    }

    let _ = writeln!(out, "## Culprit commits no rule catches\n");
    if report.uncaught_culprits.is_empty() {
        let _ = writeln!(
            out,
            "None: every culprit commit is caught by a rule in force.\n"
        );
    } else {
        for c in &report.uncaught_culprits {
            let _ = writeln!(
                out,
                "- `{}` of {} ({}): {}",
                md(&short(&c.commit)),
                md(&c.analysis),
                c.role.as_str(),
                culprit_verdict(c)
            );
        }
        let _ = writeln!(out);
    }

    let _ = writeln!(out, "## Findings with no rule\n");
    if report.findings_without_rule.is_empty() {
        let _ = writeln!(out, "None: every finding has a rule.\n");
    } else {
        for link in &report.findings_without_rule {
            let _ = writeln!(
                out,
                "- {} (`forewarn rule new <id> --finding {}`)",
                md(link),
                md(link)
            );
        }
        let _ = writeln!(out);
    }
    if !report.warnings.is_empty() {
        let _ = writeln!(out, "## Notes\n");
        for w in &report.warnings {
            let _ = writeln!(out, "- {}", md(w));
        }
        let _ = writeln!(out);
    }
    out
}

/// `--format json`.
pub fn json(report: &Report) -> String {
    let mut s = serde_json::to_string_pretty(report).unwrap_or_default();
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::record::Role;
    use crate::rules::Severity;

    fn event(rule: &str, time: &str, pr: Option<u64>, fp: &str, ack: Option<&str>) -> Event {
        Event {
            version: 1,
            time: time.into(),
            kind: if ack.is_some() {
                Kind::Acknowledged
            } else {
                Kind::Fired
            },
            rule: rule.into(),
            rule_version: String::new(),
            findings: vec![],
            severity: Severity::Error,
            fingerprint: fp.into(),
            path: None,
            commit: None,
            pull_request: pr,
            reason: ack.map(str::to_string),
            ack_source: ack.map(|_| "pull-request".to_string()),
            ack_commit: None,
            forewarn: String::new(),
        }
    }

    fn inputs<'a>(
        analyses: &'a Analyses,
        events: &'a [Event],
        acks: &'a [HistoryAck],
        culprits: &'a [CulpritOutcome],
    ) -> Inputs<'a> {
        Inputs {
            analyses,
            rules: &[],
            events,
            history_acks: acks,
            history_commits: 3,
            culprits,
            warnings: vec![],
            generated: "2024-05-01T00:00:00Z".into(),
        }
    }

    #[test]
    fn reasons_neither_link_nor_mention() {
        let shown = md_reason(
            "ok ![x](https://evil.example/p.png) [click](http://evil.example) @octocat www.evil.example cc @org/team a@b.example",
        );
        assert!(
            !shown.replace("\\]", "").contains("]("),
            "no link left: {shown}"
        );
        assert!(shown.contains("`@octocat`"), "{shown}");
        assert!(shown.contains("`@org/team`"), "{shown}");
        assert!(shown.contains("`www.evil.example`"), "{shown}");
        assert!(shown.contains("`a@b.example`"), "{shown}");
        assert!(!shown.contains(" @"), "{shown}");
        assert_eq!(md_reason("staged by hand"), "staged by hand");
    }

    #[test]
    fn one_pull_request_checked_many_times_counts_once() {
        let events = vec![
            event("r", "2024-04-01T10:00:00Z", Some(7), "f1", None),
            event("r", "2024-04-01T11:00:00Z", Some(7), "f1", None),
            event(
                "r",
                "2024-04-02T09:00:00Z",
                Some(7),
                "f1",
                Some("run by the release job"),
            ),
            event("r", "2024-04-03T09:00:00Z", Some(8), "f1", None),
        ];
        let acks = vec![HistoryAck {
            rule: "r".into(),
            reason: "staged by hand".into(),
            commit: "abc".into(),
            time: "2024-04-20T00:00:00Z".into(),
        }];
        let analyses = Analyses::default();
        let report = build(inputs(&analyses, &events, &acks, &[]));
        let r = report.rule("r").unwrap();
        assert_eq!((r.fired, r.acknowledged), (3, 2));
        assert_eq!(r.origin, None, "not in force: listed from the ledger");
        assert_eq!(
            report.buckets.first().map(String::as_str),
            Some("2024-04-01")
        );
        assert_eq!(report.buckets.len(), 20);
        assert_eq!(r.series[0], (1, 1));
        assert_eq!(r.series.iter().map(|s| s.0).sum::<usize>(), 3);
        assert_eq!(r.reasons.len(), 2);
    }

    #[test]
    fn buckets_widen_with_the_span() {
        let (w, labels) = buckets(&["2024-01-03T00:00:00Z", "2024-06-01T00:00:00Z"]);
        assert_eq!(w, Width::Week);
        assert_eq!(labels.first().unwrap(), "2024-01-01");
        let (w, labels) = buckets(&["2022-01-03T00:00:00Z", "2024-06-01T00:00:00Z"]);
        assert_eq!(w, Width::Month);
        assert_eq!(labels.len(), 30);
    }

    #[test]
    fn markdown_escapes_and_lists_uncaught_culprits() {
        let culprits = vec![CulpritOutcome {
            analysis: "a".into(),
            commit: "3f9c2e1".into(),
            role: Role::Trigger,
            resolved: Some("3f9c2e1aaaa".into()),
            not_replayed: None,
            caught_by: vec![],
        }];
        let analyses = Analyses::default();
        let events = vec![event(
            "r|x",
            "2024-04-01T10:00:00Z",
            None,
            "f",
            Some("<b>ok</b> | fine"),
        )];
        let report = build(inputs(&analyses, &events, &[], &culprits));
        let text = markdown(&report);
        assert!(
            text.contains("`3f9c2e1` of a (trigger): no rule catches it"),
            "{text}"
        );
        assert!(text.contains("&lt;b&gt;ok&lt;/b&gt; \\| fine"), "{text}");
        assert!(!text.contains("<b>"), "{text}");
    }
}
