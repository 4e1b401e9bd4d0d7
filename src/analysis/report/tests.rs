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

#[test]
fn the_time_axis_spans_the_ledger_and_the_review_not_years_of_trailers() {
    let file = crate::rules::load::RuleFile {
        path: "a.toml".into(),
        text: include_str!("../testdata/analysis.toml")
            .replace("held = 2019-07-03", "held = 2024-03-04"),
        builtin: false,
    };
    let record = crate::analysis::record::parse_file(&file, &mut Vec::new()).unwrap();
    let analyses = Analyses {
        records: vec![record],
        warnings: vec![],
    };
    let events = vec![event("r", "2024-04-01T10:00:00Z", Some(7), "f1", None)];
    let old = |time: &str| HistoryAck {
        rule: "r".into(),
        reason: "staged by hand".into(),
        commit: "abc".into(),
        time: time.into(),
    };
    let acks = vec![old("2019-01-10T00:00:00Z"), old("2021-06-01T00:00:00Z")];
    let report = build(inputs(&analyses, &events, &acks, &[]));
    let r = report.rule("r").unwrap();
    assert_eq!(r.fired, 3, "old trailers are counted");
    assert_eq!(report.not_drawn, 2, "but not drawn");
    let first = report.buckets.first().unwrap();
    assert!(
        first.as_str() >= "2024-03",
        "the axis starts at the review: {first}"
    );
    assert_eq!(report.held_marks.len(), 1, "{:?}", report.held_marks);
    assert!(report.held_marks[0].1.ends_with("held 2024-03-04"));
    let page = html::render(&report);
    assert!(
        page.contains("class=\"held\""),
        "the review is marked on the chart"
    );
    assert!(page.contains("id=\"not-drawn\""));
}

/// WCAG's contrast ratio of two `#rrggbb` colours.
fn contrast(a: &str, b: &str) -> f64 {
    let luminance = |hex: &str| {
        let channel = |i: usize| {
            let c = f64::from(u8::from_str_radix(&hex[1 + i * 2..3 + i * 2], 16).unwrap()) / 255.0;
            if c <= 0.03928 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            }
        };
        0.2126 * channel(0) + 0.7152 * channel(1) + 0.0722 * channel(2)
    };
    let (x, y) = (luminance(a), luminance(b));
    (x.max(y) + 0.05) / (x.min(y) + 0.05)
}

#[test]
fn chart_colours_have_three_to_one_contrast() {
    let page = html::render(&build(inputs(&Analyses::default(), &[], &[], &[])));
    let var = |name: &str| {
        let at = page.find(&format!("--{name}: #")).unwrap() + name.len() + 4;
        page[at..at + 7].to_string()
    };
    let (fired, acked, held, chart) = (var("fired"), var("acked"), var("held"), var("chart"));
    for (what, a, b) in [
        ("fired on the chart", &fired, &chart),
        ("acknowledged on the chart", &acked, &chart),
        ("acknowledged on fired", &acked, &fired),
        ("the review mark on the chart", &held, &chart),
    ] {
        let ratio = contrast(a, b);
        assert!(ratio >= 3.0, "{what}: {a} on {b} is {ratio:.2}:1");
    }
    assert!(contrast("#e08a2c", "#f3f4f8") < 3.0, "the test can fail");
}
