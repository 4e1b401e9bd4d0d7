//! A finding's life on a pull request, read from the ledger: it fired, it was acknowledged
//! (with a reason, somewhere), or it was **resolved before merge**: it fired at one head commit
//! of the pull request and a later recorded check of the same pull request, at another head
//! commit, no longer saw it, with no acknowledgement in between. The author changed the change,
//! so the risky version never merged.
//!
//! A finding is the same finding across pushes when its rule and path are the same: the matched
//! text may be reworded, but a rule still firing on the same file is the same risk, not a
//! resolved one. Findings without a path (a change that is too large) go by rule alone.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::{Event, Kind, earlier};

/// `(rule, fingerprint, pull request)`: one finding on one pull request.
pub type Key = (String, String, u64);

/// The last recorded check of each pull request: its time, head commit and what it saw.
struct LastCheck<'e> {
    time: &'e str,
    commit: Option<&'e str>,
    /// `(rule, path)` of every finding it saw.
    seen: BTreeSet<(&'e str, Option<&'e str>)>,
}

/// The findings of `events` resolved before merge.
pub fn resolved_before_merge(events: &[Event]) -> BTreeSet<Key> {
    let mut last: HashMap<u64, LastCheck<'_>> = HashMap::new();
    for e in events.iter().filter(|e| e.kind == Kind::Checked) {
        let Some(pr) = e.pull_request else { continue };
        let newer = last.get(&pr).is_none_or(|l| earlier(l.time, &e.time));
        if newer {
            last.insert(
                pr,
                LastCheck {
                    time: &e.time,
                    commit: e.commit.as_deref(),
                    seen: e
                        .present
                        .iter()
                        .map(|p| (p.rule.as_str(), p.path.as_deref()))
                        .collect(),
                },
            );
        }
    }
    struct Seen<'e> {
        path: Option<&'e str>,
        first: &'e str,
        commits: BTreeSet<Option<&'e str>>,
        acknowledged: bool,
    }
    let mut findings: BTreeMap<Key, Seen<'_>> = BTreeMap::new();
    for e in events {
        let (Some(pr), Kind::Fired | Kind::Acknowledged) = (e.pull_request, e.kind) else {
            continue;
        };
        let seen = findings
            .entry((e.rule.clone(), e.fingerprint.clone(), pr))
            .or_insert_with(|| Seen {
                path: e.path.as_deref(),
                first: &e.time,
                commits: BTreeSet::new(),
                acknowledged: false,
            });
        if earlier(&e.time, seen.first) {
            seen.first = &e.time;
        }
        seen.commits.insert(e.commit.as_deref());
        seen.acknowledged |= e.kind == Kind::Acknowledged;
    }
    findings
        .into_iter()
        .filter(|((rule, _, pr), seen)| {
            let Some(check) = last.get(pr) else {
                return false;
            };
            !seen.acknowledged
                && earlier(seen.first, check.time)
                && !seen.commits.contains(&check.commit)
                && !check.seen.contains(&(rule.as_str(), seen.path))
        })
        .map(|(key, _)| key)
        .collect()
}

/// What the ledger says of one rule: distinct changes it fired on (a pull request checked many
/// times counts once per finding), of which acknowledged, of which resolved before merge.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct RuleLife {
    pub fired: usize,
    pub acknowledged: usize,
    pub resolved_before_merge: usize,
}

/// The change an event belongs to, for counting a finding once per change: its pull request,
/// else its commit, else the event alone (`i`, its index).
pub fn change_of(e: &Event, i: usize) -> String {
    match (e.pull_request, &e.commit) {
        (Some(pr), _) => format!("pr:{pr}"),
        (None, Some(c)) => format!("commit:{c}"),
        (None, None) => format!("event:{i}"),
    }
}

/// [`RuleLife`] of every rule the ledger names.
pub fn by_rule(events: &[Event]) -> BTreeMap<String, RuleLife> {
    let resolved = resolved_before_merge(events);
    let mut seen: BTreeMap<(&str, &str, String), (bool, bool)> = BTreeMap::new();
    for (i, e) in events.iter().enumerate() {
        if e.kind == Kind::Checked {
            continue;
        }
        let change = change_of(e, i);
        let entry = seen
            .entry((e.rule.as_str(), e.fingerprint.as_str(), change))
            .or_insert((false, false));
        entry.0 |= e.kind == Kind::Acknowledged;
        entry.1 |= e
            .pull_request
            .is_some_and(|pr| resolved.contains(&(e.rule.clone(), e.fingerprint.clone(), pr)));
    }
    let mut out: BTreeMap<String, RuleLife> = BTreeMap::new();
    for ((rule, _, _), (acknowledged, resolved)) in seen {
        let life = out.entry(rule.to_string()).or_default();
        life.fired += 1;
        life.acknowledged += usize::from(acknowledged);
        life.resolved_before_merge += usize::from(resolved);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::Present;
    use super::*;

    /// jiff drops a time's trailing zeros (`28.3Z`), and `28.31Z` then sorts before it as text:
    /// times are written with three digits and compared as times.
    #[test]
    fn event_times_order_as_times_not_as_text() {
        assert!(earlier("2026-11-29T22:38:28.3Z", "2026-11-29T22:38:28.31Z"));
        assert!(earlier("2026-11-29T22:38:28Z", "2026-11-29T22:38:28.5Z"));
        assert!(!earlier("2026-11-29T22:38:28.5Z", "2026-11-29T22:38:28Z"));
        let t: jiff::Timestamp = "2026-11-29T22:38:28.3Z".parse().unwrap();
        assert_eq!(super::super::timestamp(t), "2026-11-29T22:38:28.300Z");
        let u: jiff::Timestamp = "2026-11-29T22:38:28Z".parse().unwrap();
        assert_eq!(super::super::timestamp(u), "2026-11-29T22:38:28.000Z");
    }

    fn fired(rule: &str, path: &str, fp: &str, pr: u64, commit: &str, time: &str) -> Event {
        Event {
            time: time.into(),
            kind: Kind::Fired,
            rule: rule.into(),
            fingerprint: fp.into(),
            path: Some(path.into()),
            commit: Some(commit.into()),
            pull_request: Some(pr),
            ..Event::default()
        }
    }

    fn checked(pr: u64, commit: &str, time: &str, present: &[(&str, &str)]) -> Event {
        Event {
            time: time.into(),
            kind: Kind::Checked,
            commit: Some(commit.into()),
            pull_request: Some(pr),
            present: present
                .iter()
                .map(|(rule, path)| Present {
                    rule: (*rule).into(),
                    path: Some((*path).into()),
                    fingerprint: "x".into(),
                    acknowledged: false,
                })
                .collect(),
            ..Event::default()
        }
    }

    #[test]
    fn gone_at_a_later_push_is_resolved_and_nothing_else_is() {
        let t = |n: u32| format!("2024-05-0{n}T00:00:00Z");
        let events = vec![
            // PR 1: both fire at a1; at a2 only `keep` is still there.
            fired("gone", "db/1.sql", "f1", 1, "a1", &t(1)),
            fired("keep", "db/2.sql", "f2", 1, "a1", &t(1)),
            checked(
                1,
                "a1",
                &t(1),
                &[("gone", "db/1.sql"), ("keep", "db/2.sql")],
            ),
            fired("keep", "db/2.sql", "f2", 1, "a2", &t(2)),
            checked(1, "a2", &t(2), &[("keep", "db/2.sql")]),
            // PR 2: reworded, same rule on the same file: not resolved.
            fired("same", "a.py", "f3", 2, "b1", &t(1)),
            checked(2, "b1", &t(1), &[("same", "a.py")]),
            checked(2, "b2", &t(3), &[("same", "a.py")]),
            // PR 3: acknowledged, then gone: acknowledged, not resolved.
            fired("acked", "c.py", "f4", 3, "c1", &t(1)),
            Event {
                kind: Kind::Acknowledged,
                reason: Some("runs first".into()),
                ..fired("acked", "c.py", "f4", 3, "c1", &t(1))
            },
            checked(3, "c2", &t(2), &[]),
            // PR 4: checked once only: nothing is known to be resolved.
            fired("once", "d.py", "f5", 4, "d1", &t(1)),
            checked(4, "d1", &t(1), &[("once", "d.py")]),
            // PR 5: the same head checked again without the finding (the rule changed): not
            // resolved by the author.
            fired("rule-edit", "e.py", "f6", 5, "e1", &t(1)),
            checked(5, "e1", &t(2), &[]),
        ];
        let resolved = resolved_before_merge(&events);
        assert_eq!(
            resolved.into_iter().collect::<Vec<_>>(),
            vec![("gone".to_string(), "f1".to_string(), 1)]
        );
    }
}
