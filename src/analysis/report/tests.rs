//! Tests of the report: what it counts, and how markdown draws it.

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
        present: vec![],
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
