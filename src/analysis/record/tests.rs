//! Tests of analysis records: parsing, validation with spans, links and globs.

use super::*;

const EXAMPLE: &str = include_str!("../testdata/analysis.toml");

fn file(text: &str) -> RuleFile {
    RuleFile {
        path: "a.toml".into(),
        text: text.into(),
        builtin: false,
    }
}

#[test]
fn loads_the_design_example() {
    let set = load(&[file(EXAMPLE)]).unwrap();
    let a = &set.records[0];
    assert_eq!(a.id, "2019-07-payments-config-missing");
    assert_eq!(a.status, Status::Reviewed);
    assert_eq!(a.held.as_deref(), Some("2019-07-03"));
    assert_eq!(a.timeline.len(), 3);
    assert_eq!(a.timeline[0].at, "2019-07-02T03:05:00Z");
    assert_eq!(a.culprits[0].commit, "3f9c2e1");
    assert_eq!(a.culprits[0].role, Role::Trigger);
    assert_eq!(a.findings.len(), 3);
    assert_eq!(a.findings[1].question, Question::MissingSignal);
    assert_eq!(a.actions[0].finding.as_deref(), Some("F2"));
    assert!(set.warnings.is_empty(), "{:?}", set.warnings);
    assert_eq!(
        set.resolve("2019-07-payments-config-missing#F2")
            .unwrap()
            .1
            .id,
        "F2"
    );
    assert!(set.resolve("2019-07-payments-config-missing#F9").is_none());
}

#[test]
fn unknown_key_names_line_and_column() {
    let text = EXAMPLE.replace("lesson = \"Watch", "lessons = \"Watch");
    let err = load(&[file(&text)]).unwrap_err();
    let line = text.lines().position(|l| l.starts_with("lessons")).unwrap() + 1;
    assert!(
        err.to_string().starts_with(&format!("a.toml:{line}:1:")),
        "{err}"
    );
}

#[test]
fn collects_every_problem_with_its_line() {
    let text = r#"id = "Bad Id"
title = "t"
status = "reviewed"
held = 2019-07-03T10:00:00Z
[[timeline]]
at = 2019-07-02T03:05:00Z
source = ""
text = "x"
[[finding]]
id = "F1"
question = "other"
text = "x"
[[finding]]
id = "F1"
question = "other"
text = "y"
[[action]]
id = "A1"
finding = "F7"
text = "z"
"#;
    let Err(Error::Source(errors)) = load(&[file(text)]) else {
        panic!("expected errors")
    };
    let got: Vec<(&str, usize)> = errors
        .iter()
        .map(|e| (e.message.as_str(), e.line_col().0))
        .collect();
    assert_eq!(
        got,
        vec![
            ("analysis id is not kebab-case", 1),
            ("`held` is not a date", 4),
            ("timeline entry has no source", 7),
            ("duplicate finding id `F1`", 14),
            (
                "action A1 names finding `F7`, which this record does not have",
                19
            ),
        ]
    );
}

#[test]
fn a_draft_may_be_incomplete_but_says_so() {
    let text = "id = \"x\"\ntitle = \"\"\nstatus = \"draft\"\n[[finding]]\nid = \"F1\"\nquestion = \"other\"\ntext = \"\"\n";
    let set = load(&[file(text)]).unwrap();
    assert_eq!(set.warnings.len(), 2, "{:?}", set.warnings);
    assert!(set.warnings[1].starts_with("a.toml:7:8: finding F1 has no text"));
}

#[test]
fn blaming_words_are_pointed_out() {
    let text = "id = \"x\"\ntitle = \"Config lost to human error\"\nstatus = \"draft\"\n";
    let set = load(&[file(text)]).unwrap();
    assert_eq!(set.warnings.len(), 1);
    assert!(
        set.warnings[0].starts_with("a.toml:2:25: `human error`"),
        "{:?}",
        set.warnings
    );
}

#[test]
fn duplicate_ids_across_files() {
    let mut b = file(EXAMPLE);
    b.path = "b.toml".into();
    let Err(Error::Source(errors)) = load(&[file(EXAMPLE), b]) else {
        panic!()
    };
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].path, "b.toml");
    assert!(errors[0].label.contains("a.toml"));
}

#[test]
fn stored_backtests_load() {
    let text = format!(
        "{EXAMPLE}\n[[backtest]]\nrule = \"r\"\nfinding = \"F2\"\nrun = 2024-05-01T10:00:00Z\nrange = \"all\"\ncommits = 10\nfired = 1\nshare = 0.1\ncaught = [\"3f9c2e1\"]\nmissed = []\n"
    );
    let set = load(&[file(&text)]).unwrap();
    let b = &set.records[0].backtests[0];
    assert_eq!(b.run, "2024-05-01T10:00:00Z");
    assert_eq!(b.caught, vec!["3f9c2e1"]);
}

#[test]
fn hotspot_globs_load_and_bad_ones_are_located() {
    let text = EXAMPLE.replacen(
        "\n[[timeline]]",
        "hotspots = [\"payments/**\"]\nhotspots_exclude = [\"**/*.lock\"]\n\n[[timeline]]",
        1,
    );
    let set = load(&[file(&text)]).unwrap();
    assert_eq!(set.records[0].hotspots, vec!["payments/**"]);
    assert_eq!(set.records[0].hotspots_exclude, vec!["**/*.lock"]);
    let bad = text.replace("**/*.lock", "a/[b");
    let err = load(&[file(&bad)]).unwrap_err();
    let line = bad
        .lines()
        .position(|l| l.starts_with("hotspots_exclude"))
        .unwrap()
        + 1;
    assert!(
        err.to_string().starts_with(&format!("a.toml:{line}:")),
        "{err}"
    );
}

#[test]
fn slugs_and_links() {
    assert_eq!(
        slug("Payment gateway: config missing!"),
        "payment-gateway-config-missing"
    );
    assert_eq!(split_link("a#F1"), Some(("a", "F1")));
    assert_eq!(split_link("a#"), None);
    assert_eq!(split_link("a#b#c"), None);
}
