//! The lesson at work: for one rule linked to one finding of an analysis, what happened since
//! the review: how often it fired, was acknowledged, was resolved before merge, which way that
//! is going, and the reasons given, near-identical wordings counted together.

use std::collections::BTreeSet;

use serde::Serialize;

use super::Reason;

/// One finding of one change: the unit that is counted.
pub(super) struct Occurrence {
    pub rule: String,
    pub time: String,
    /// `(reason, source)` when it was acknowledged.
    pub acknowledged: Option<(String, String)>,
    /// Fired on a pull request and gone by its last recorded check, unanswered.
    pub resolved: bool,
}

/// Which way a rule's fires are going: the last 30 days against the 30 before.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Trend {
    /// `rising`, `falling`, `steady` or `quiet` (no fire in either window).
    pub direction: &'static str,
    /// Fires in the last `days` days before the report.
    pub recent: usize,
    /// Fires in the `days` days before those.
    pub previous: usize,
    pub days: u32,
}

const WINDOW_DAYS: u32 = 30;

/// The trend of fires at `times`, seen from `now` (RFC 3339; the latest time when it does not
/// parse).
pub(super) fn trend<'a>(times: impl Iterator<Item = &'a str> + Clone, now: &str) -> Trend {
    let parsed: Vec<jiff::Timestamp> = times.filter_map(|t| t.parse().ok()).collect();
    let now = now
        .parse::<jiff::Timestamp>()
        .ok()
        .or_else(|| parsed.iter().max().copied());
    let (mut recent, mut previous) = (0, 0);
    if let Some(now) = now {
        let window = jiff::SignedDuration::from_hours(24 * i64::from(WINDOW_DAYS));
        let start = now.checked_sub(window).unwrap_or(now);
        let before = start.checked_sub(window).unwrap_or(start);
        for t in &parsed {
            // A time after `now` is recent too: the report's own time is rounded to the second.
            if *t > start {
                recent += 1;
            } else if *t > before && *t <= start {
                previous += 1;
            }
        }
    }
    let direction = match (recent, previous) {
        (0, 0) => "quiet",
        (r, p) if r > p => "rising",
        (r, p) if r < p => "falling",
        _ => "steady",
    };
    Trend {
        direction,
        recent,
        previous,
        days: WINDOW_DAYS,
    }
}

impl Trend {
    /// `rising (3 in the last 30 days, 1 in the 30 before)`.
    pub fn describe(&self) -> String {
        if self.direction == "quiet" {
            return format!("quiet (none in the last {} days)", self.days * 2);
        }
        format!(
            "{} ({} in the last {} days, {} in the {} before)",
            self.direction, self.recent, self.days, self.previous, self.days
        )
    }
}

/// A rule linked to a finding, since the review.
#[derive(Debug, Clone, Serialize)]
pub struct Lesson {
    pub rule: String,
    /// The review's date: only what happened from then on is counted (`null`: everything).
    pub since: Option<String>,
    /// Distinct changes it fired on.
    pub fired: usize,
    pub acknowledged: usize,
    /// Fired on a pull request and gone by a later push, unanswered: the change was made safer.
    pub resolved_before_merge: usize,
    pub last_fired: Option<String>,
    pub trend: Trend,
    /// The reasons given, near-identical wordings grouped, most given first.
    pub reasons: Vec<Reason>,
}

pub(super) fn lesson(
    rule: &str,
    since: Option<&str>,
    occurrences: &[Occurrence],
    now: &str,
) -> Lesson {
    let mine: Vec<&Occurrence> = occurrences
        .iter()
        .filter(|o| o.rule == rule && since.is_none_or(|s| o.time.as_str() >= s))
        .collect();
    Lesson {
        rule: rule.to_string(),
        since: since.map(str::to_string),
        fired: mine.len(),
        acknowledged: mine.iter().filter(|o| o.acknowledged.is_some()).count(),
        resolved_before_merge: mine.iter().filter(|o| o.resolved).count(),
        last_fired: mine.iter().map(|o| o.time.clone()).max(),
        trend: trend(mine.iter().map(|o| o.time.as_str()), now),
        reasons: group_reasons(mine.iter().filter_map(|o| {
            o.acknowledged
                .as_ref()
                .map(|(r, s)| (r.as_str(), s.as_str(), o.time.as_str()))
        })),
    }
}

/// The words of a reason, for comparing: lower case, numbers (ticket ids, dates) as `#`.
fn words(reason: &str) -> BTreeSet<String> {
    reason
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            if w.chars().all(|c| c.is_ascii_digit()) {
                "#".to_string()
            } else {
                w.to_lowercase()
            }
        })
        .collect()
}

/// Near-identical: the same words, or at least 70% of the words of both in common.
fn similar(a: &BTreeSet<String>, b: &BTreeSet<String>) -> bool {
    if a == b {
        return true;
    }
    let common = a.intersection(b).count();
    let all = a.union(b).count();
    all > 0 && common * 10 >= all * 7
}

/// Groups reasons `(reason, source, time)`: the same words count together, and so do wordings
/// that differ by a ticket number or a word or two. Each group is shown in its most given
/// wording, with how many wordings it stands for.
pub(super) fn group_reasons<'a>(
    given: impl Iterator<Item = (&'a str, &'a str, &'a str)>,
) -> Vec<Reason> {
    // Exact wordings first, counted.
    let mut exact: Vec<(String, BTreeSet<String>, usize, String)> = Vec::new();
    for (reason, source, time) in given {
        match exact.iter_mut().find(|e| e.0 == reason) {
            Some(e) => {
                e.2 += 1;
                if time > e.3.as_str() {
                    e.3 = time.to_string();
                }
                if !e.1.contains(source) {
                    e.1.insert(source.to_string());
                }
            }
            None => exact.push((
                reason.to_string(),
                BTreeSet::from([source.to_string()]),
                1,
                time.to_string(),
            )),
        }
    }
    exact.sort_by(|a, b| b.2.cmp(&a.2).then(b.3.cmp(&a.3)).then(a.0.cmp(&b.0)));
    struct Group {
        words: BTreeSet<String>,
        reason: Reason,
        sources: BTreeSet<String>,
    }
    let mut groups: Vec<Group> = Vec::new();
    for (reason, sources, count, last) in exact {
        let w = words(&reason);
        match groups.iter_mut().find(|g| similar(&g.words, &w)) {
            Some(g) => {
                g.reason.count += count;
                g.reason.variants += 1;
                if last > g.reason.last {
                    g.reason.last = last;
                }
                g.sources.extend(sources);
            }
            None => groups.push(Group {
                words: w,
                reason: Reason {
                    reason,
                    source: String::new(),
                    count,
                    last,
                    variants: 1,
                },
                sources,
            }),
        }
    }
    let mut out: Vec<Reason> = groups
        .into_iter()
        .map(|mut g| {
            g.reason.source = g.sources.into_iter().collect::<Vec<_>>().join(", ");
            g.reason
        })
        .collect();
    out.sort_by(|a, b| b.count.cmp(&a.count).then(b.last.cmp(&a.last)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn near_identical_reasons_are_one_row() {
        let mut given = Vec::new();
        for i in 0..15 {
            given.push((
                format!("migration runs in the release job, see PLAT-{}", 800 + i),
                "trailer",
                format!("2024-05-{:02}T00:00:00Z", i + 1),
            ));
        }
        given.push((
            "Migration runs in the release job (see PLAT-900).".into(),
            "pull-request",
            "2024-05-20T00:00:00Z".into(),
        ));
        given.push((
            "table is empty, nothing reads it".into(),
            "inline",
            "2024-05-02T00:00:00Z".into(),
        ));
        let grouped = group_reasons(given.iter().map(|(r, s, t)| (r.as_str(), *s, t.as_str())));
        assert_eq!(grouped.len(), 2, "{grouped:?}");
        assert_eq!(grouped[0].count, 16);
        assert_eq!(grouped[0].variants, 16);
        assert_eq!(grouped[0].source, "pull-request, trailer");
        assert_eq!(grouped[0].last, "2024-05-20T00:00:00Z");
        assert_eq!(grouped[1].reason, "table is empty, nothing reads it");
        assert_eq!(grouped[1].variants, 1);
    }

    #[test]
    fn the_trend_compares_the_last_30_days_with_the_30_before() {
        let now = "2024-06-30T00:00:00Z";
        let t = |times: &[&str]| trend(times.iter().copied(), now);
        assert_eq!(t(&[]).direction, "quiet");
        let rising = t(&[
            "2024-06-20T00:00:00Z",
            "2024-06-25T00:00:00Z",
            "2024-05-20T00:00:00Z",
        ]);
        assert_eq!(
            (rising.direction, rising.recent, rising.previous),
            ("rising", 2, 1)
        );
        assert_eq!(t(&["2024-05-20T00:00:00Z"]).direction, "falling");
        assert_eq!(
            t(&["2024-06-20T00:00:00Z", "2024-05-20T00:00:00Z"]).direction,
            "steady"
        );
        assert_eq!(t(&["2023-01-01T00:00:00Z"]).direction, "quiet");
        // Recorded in the second the report was made (its time is rounded down).
        assert_eq!(t(&["2024-06-30T00:00:00.400Z"]).direction, "rising");
    }
}
