//! The facilitator's loop end to end, on real repositories: analysis records, `analysis new`,
//! `rule new`, `backtest` (and `--write`), `check --record` and the ledger, `report`, and the
//! link checks of `validate`.

mod util;

use std::process::Stdio;

use util::{Repo, forewarn_cmd};

/// The design's example record, with its culprit replaced by `culprit`.
fn record(culprit: &str) -> String {
    include_str!("../src/analysis/testdata/analysis.toml").replace("3f9c2e1", culprit)
}

const RECORD_PATH: &str = ".forewarn/analyses/2019-07-payments-config-missing.toml";

/// A repository with `n` ordinary commits, then the culprit (adds a payments migration), then
/// `n` more; built-in rules off so only team rules speak. Returns the repo and the culprit's
/// short id.
fn history(n: usize) -> (Repo, String) {
    let repo = Repo::new();
    repo.write("forewarn.toml", "[rules]\nbuiltin = false\n")
        .write("payments/models.py", "class Base: pass\n");
    for i in 0..n {
        repo.write(
            &format!("app/module_{}.py", i % 7),
            format!("value = {i}\n"),
        );
        repo.commit(&format!("app change {i}"));
    }
    repo.write(
        "payments/migrations/0002_gateway_config.py",
        "from django.db import migrations\nclass Migration(migrations.Migration):\n    operations = []\n",
    );
    repo.write("payments/models.py", "class GatewayConfig: pass\n");
    let culprit = repo.commit("Add gateway config");
    for i in 0..n {
        repo.write(
            &format!("app/module_{}.py", i % 5),
            format!("other = {i}\n"),
        );
        repo.commit(&format!("later change {i}"));
    }
    let short = repo.git(&["rev-parse", "--short", &culprit]);
    repo.write(RECORD_PATH, record(&short));
    (repo, short)
}

/// A team rule linked to F1 of the example record that looks at something else entirely.
const UNRELATED_RULE: &str = r#"
[[rule]]
id = "k8s-recreate"
title = "Recreate strategy"
severity = "warning"
category = "rollout"
message = "{path} stops every pod at once."
ask = "Can the service be down while pods restart?"
findings = ["2019-07-payments-config-missing#F1"]
[rule.match]
paths = ["deploy/k8s/*.yaml"]
added = ['type:\s*Recreate']
"#;

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}):\n{text}"))
}

#[test]
fn backtest_catches_the_culprit_with_the_new_rule_and_not_with_an_unrelated_one() {
    let (repo, culprit) = history(15);
    repo.write(".forewarn/rules/rollout.toml", UNRELATED_RULE);
    let new = repo.forewarn(&[
        "rule",
        "new",
        "payments-migration-needs-deploy-step",
        "--finding",
        "2019-07-payments-config-missing#F2",
        "--from-culprit",
    ]);
    assert_eq!(new.code, 0, "{new:?}");

    let run = repo.forewarn(&["backtest", "--format", "json"]);
    assert_eq!(run.code, 0, "{run:?}");
    let doc = json(&run.stdout);
    let rules = doc["backtest"]["rules"].as_array().unwrap();
    let rule = |id: &str| rules.iter().find(|r| r["rule"] == id).unwrap().clone();
    let new_rule = rule("payments-migration-needs-deploy-step");
    assert_eq!(new_rule["commits_scanned"], 32, "{new_rule}");
    assert_eq!(new_rule["fired_on"], 1, "{new_rule}");
    assert_eq!(new_rule["culprits"][0]["commit"], culprit.as_str());
    assert_eq!(new_rule["culprits"][0]["caught"], true, "{new_rule}");
    let unrelated = rule("k8s-recreate");
    assert_eq!(unrelated["fired_on"], 0, "{unrelated}");
    assert_eq!(unrelated["culprits"][0]["caught"], false, "{unrelated}");

    // The human table says the same.
    let human = repo.forewarn(&[
        "backtest",
        "k8s-recreate",
        "payments-migration-needs-deploy-step",
    ]);
    assert_eq!(human.code, 0, "{human:?}");
    assert!(
        human.stdout.contains(&format!("caught 1 of 1: {culprit}")),
        "{human:?}"
    );
    assert!(
        human
            .stdout
            .contains(&format!("caught 0 of 1; missed {culprit}")),
        "{human:?}"
    );

    // Ranges pick commits; the culprit is replayed whatever the range.
    let last = json(
        &repo
            .forewarn(&["backtest", "--last", "5", "--format", "json"])
            .stdout,
    );
    let r = &last["backtest"]["rules"][0];
    assert_eq!(r["commits_scanned"], 5);
    assert_eq!(
        last["backtest"]["culprits"][0]["caught_by"],
        serde_json::json!(["payments-migration-needs-deploy-step"])
    );
    let range = json(
        &repo
            .forewarn(&["backtest", "--range", "HEAD~3..HEAD", "--format", "json"])
            .stdout,
    );
    assert_eq!(range["backtest"]["commits"], 3);
    let bad = repo.forewarn(&["backtest", "--range", "nope"]);
    assert_eq!(bad.code, 2, "{bad:?}");
    assert!(bad.stderr.contains("--range v1.0..main"), "{bad:?}");
}

/// A record as a facilitator writes it by hand: comments everywhere, aligned values, blank lines,
/// a table out of the usual order.
const HAND_WRITTEN: &str = r#"# Reviewed with the payments team on the 3rd.
id     = "2019-07-payments-config-missing"   # used in rule links
title  = "Payment gateway config missing after the 4.2 release"
status = "reviewed"
held   = 2019-07-03

perspectives = [
  "backend",   # wrote the migration
  "on-call",
]

[[finding]]
id = "F2"       # the one that became a rule
question = "missing-signal"
text = """
Review had no place to say that a migration
must be run by hand before the code starts."""
lesson = 'A new migration needs a visible deploy step before merge.'

# The commit is the merge of PR 812.
[[culprit]]
commit = "CULPRIT"
role   = "trigger"

[[finding]]
id = "F1"
question = "prevented-safe-experiment"
text = "Every change reaches all hosts at once."
"#;

#[test]
fn backtest_write_keeps_the_record_as_written_and_updates_in_place() {
    let (repo, culprit) = history(3);
    let original = HAND_WRITTEN.replace("CULPRIT", &culprit);
    repo.write(RECORD_PATH, &original);
    repo.write(".forewarn/rules/rollout.toml", UNRELATED_RULE);
    let new = repo.forewarn(&[
        "rule",
        "new",
        "payments-migration-needs-deploy-step",
        "--finding",
        "2019-07-payments-config-missing#F2",
        "--from-culprit",
    ]);
    assert_eq!(new.code, 0, "{new:?}");

    let run = repo.forewarn(&["backtest", "--write"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains(&format!("to {RECORD_PATH}")), "{run:?}");
    let written = std::fs::read_to_string(repo.join(RECORD_PATH)).unwrap();
    // Every byte the facilitator wrote is still there, in order; only the section is added.
    assert!(written.starts_with(&original), "{written}");
    let added = &written[original.len()..];
    assert!(
        added.starts_with("\n# Written by `forewarn backtest --write`"),
        "{added}"
    );
    assert_eq!(added.matches("[[backtest]]").count(), 2, "{added}");
    assert!(
        added.contains("rule = \"payments-migration-needs-deploy-step\"\nfinding = \"F2\"\n"),
        "{added}"
    );
    assert!(
        added.contains("rule = \"k8s-recreate\"\nfinding = \"F1\"\n"),
        "{added}"
    );
    assert!(added.contains("commits = 8\nfired = 1\n"), "{added}");
    assert!(
        added.contains(&format!("caught = [\"{culprit}\"]\nmissed = []")),
        "{added}"
    );
    assert!(
        added.contains(&format!("caught = []\nmissed = [\"{culprit}\"]")),
        "{added}"
    );
    // The record still validates.
    let validate = repo.forewarn(&["validate"]);
    assert_eq!(validate.code, 0, "{validate:?}");

    // A note written into the section survives the next run, which updates values in place.
    let annotated = written.replace(
        "fired = 1\n",
        "fired = 1          # checked by hand: the migration commit\n",
    );
    repo.write(RECORD_PATH, &annotated);
    repo.write("payments/migrations/0003_more.py", "x = 1\n");
    repo.commit("another migration");
    let again = repo.forewarn(&["backtest", "--write"]);
    assert_eq!(again.code, 0, "{again:?}");
    let rewritten = std::fs::read_to_string(repo.join(RECORD_PATH)).unwrap();
    assert!(rewritten.starts_with(&original), "{rewritten}");
    assert_eq!(rewritten.matches("[[backtest]]").count(), 2, "{rewritten}");
    assert!(
        rewritten.contains("fired = 2          # checked by hand: the migration commit\n"),
        "{rewritten}"
    );
    assert!(rewritten.contains("commits = 9\n"), "{rewritten}");
    assert_eq!(rewritten.lines().count(), annotated.lines().count());

    // --write edits the working tree; with --rules-from there is nothing to edit.
    let refused = repo.forewarn(&["backtest", "--write", "--rules-from", "HEAD"]);
    assert_eq!(refused.code, 2, "{refused:?}");
}

#[test]
fn concurrent_recorded_checks_lose_no_event() {
    let repo = Repo::new();
    repo.write("forewarn.toml", "[rules]\nbuiltin = false\n")
        .write(".forewarn/rules/team.toml", util::TEAM_RULES);
    repo.commit("rules");
    repo.write("sql/a.sql", "DROP TABLE a;\nDROP TABLE b;\n");
    repo.commit("drops");
    // Each run: two `team-drop-table` findings and one `team-new-sql`.
    const RUNS: usize = 100;
    let children: Vec<_> = (0..RUNS)
        .map(|_| {
            forewarn_cmd(repo.path())
                .args(["check", "--commit", "HEAD", "--record", "--format", "json"])
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn forewarn")
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(1),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let dir = repo.join(".forewarn/ledger");
    let names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), RUNS * 3, "{names:?}");
    let mut fired = 0;
    for name in &names {
        assert!(name.ends_with(".json") && !name.starts_with('.'), "{name}");
        let event = json(&std::fs::read_to_string(dir.join(name)).unwrap());
        assert_eq!(event["kind"], "fired");
        assert!(
            event["commit"].as_str().is_some_and(|c| c.len() == 40),
            "{event}"
        );
        assert!(event.get("author").is_none(), "{event}");
        fired += 1;
    }
    assert_eq!(fired, RUNS * 3);
    // The report counts one change, not 24 runs of it.
    let report = json(&repo.forewarn(&["report", "--format", "json"]).stdout);
    assert_eq!(report["ledger_events"], RUNS * 3);
    let drop = report["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "team-drop-table")
        .unwrap();
    assert_eq!(
        drop["fired"], 2,
        "one occurrence per fingerprint per commit: {drop}"
    );
}

#[test]
fn a_record_from_analysis_new_validates() {
    let repo = Repo::new();
    let run = repo.forewarn(&[
        "analysis",
        "new",
        "Checkout errors after the 4.2 release",
        "--id",
        "2024-05-checkout-errors",
    ]);
    assert_eq!(run.code, 0, "{run:?}");
    let path = ".forewarn/analyses/2024-05-checkout-errors.toml";
    assert!(run.stdout.contains(&format!("wrote {path}")), "{run:?}");
    let text = std::fs::read_to_string(repo.join(path)).unwrap();
    assert!(text.contains("safe experiment"), "{text}");
    assert!(text.contains("misled the responders"), "{text}");
    assert!(text.contains("never of who made a mistake"), "{text}");
    let validate = repo.forewarn(&["validate"]);
    assert_eq!(validate.code, 0, "{validate:?}");
    assert!(
        validate
            .stdout
            .contains("1 analysis record, 2 findings (0 with a rule)"),
        "{validate:?}"
    );
    assert!(
        validate.stdout.contains("2024-05-checkout-errors#F1"),
        "{validate:?}"
    );
    assert!(
        validate.stderr.contains(&format!("{path}:")),
        "draft gaps are named: {validate:?}"
    );

    // The same id twice is refused, and so is a bad id.
    let again = repo.forewarn(&[
        "analysis",
        "new",
        "Again",
        "--id",
        "2024-05-checkout-errors",
    ]);
    assert_eq!(again.code, 2, "{again:?}");
    assert!(again.stderr.contains("already exists"), "{again:?}");
    let bad = repo.forewarn(&["analysis", "new", "x", "--id", "Bad Id"]);
    assert_eq!(bad.code, 2, "{bad:?}");
    assert!(bad.stderr.contains("--id bad-id"), "{bad:?}");

    // Without --id, the id comes from the month and the title.
    let auto = repo.forewarn(&["analysis", "new", "Queue backlog: workers stalled"]);
    assert_eq!(auto.code, 0, "{auto:?}");
    assert!(
        auto.stdout.contains("-queue-backlog-workers-stalled.toml"),
        "{auto:?}"
    );
    assert_eq!(repo.forewarn(&["validate"]).code, 0);
}

#[test]
fn rule_new_scaffolds_a_rule_that_loads_and_links() {
    let repo = Repo::new();
    repo.write(
        RECORD_PATH,
        record("3f9c2e1").replace(
            "[[culprit]]\ncommit = \"3f9c2e1\"",
            "[[culprit]]\nrepository = \"payments-api\"\ncommit = \"3f9c2e1\"",
        ),
    );
    let run = repo.forewarn(&[
        "rule",
        "new",
        "canary-first",
        "--finding",
        "2019-07-payments-config-missing#F1",
    ]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.contains(
            "wrote .forewarn/rules/canary-first.toml, linked to 2019-07-payments-config-missing#F1"
        ),
        "{run:?}"
    );
    let rules = repo.forewarn(&["rules"]);
    assert!(rules.stdout.contains("canary-first"), "{rules:?}");
    let validate = repo.forewarn(&["validate"]);
    assert_eq!(validate.code, 0, "{validate:?}");
    assert!(
        validate.stdout.contains("3 findings (1 with a rule)"),
        "{validate:?}"
    );
    assert!(
        !validate.stdout.contains("#F1  "),
        "F1 has a rule now: {validate:?}"
    );
    let explain = repo.forewarn(&["explain", "canary-first"]);
    assert!(
        explain
            .stdout
            .contains("2019-07-payments-config-missing#F1"),
        "{explain:?}"
    );
    assert_eq!(repo.forewarn(&["test", "canary-first"]).code, 0);

    // Links that go nowhere are refused before anything is written.
    for (link, says) in [
        ("nope#F1", "no analysis record has the id `nope`"),
        (
            "2019-07-payments-config-missing#F9",
            "its findings are: 2019-07-payments-config-missing#F1",
        ),
        ("no-hash", "is not ANALYSIS-ID#FINDING-ID"),
    ] {
        let run = repo.forewarn(&["rule", "new", "other-rule", "--finding", link]);
        assert_eq!(run.code, 2, "{run:?}");
        assert!(run.stderr.contains(says), "{link}: {run:?}");
    }
    assert!(!repo.join(".forewarn/rules/other-rule.toml").exists());
    let dup = repo.forewarn(&[
        "rule",
        "new",
        "canary-first",
        "--finding",
        "2019-07-payments-config-missing#F1",
    ]);
    assert_eq!(dup.code, 2, "{dup:?}");
    // The only culprit lives elsewhere: nothing to seed from here.
    let elsewhere = repo.forewarn(&[
        "rule",
        "new",
        "x-rule",
        "--finding",
        "2019-07-payments-config-missing#F2",
        "--from-culprit",
    ]);
    assert_eq!(elsewhere.code, 2, "{elsewhere:?}");
    assert!(
        elsewhere
            .stderr
            .contains("names no culprit commit in this repository"),
        "{elsewhere:?}"
    );
}

#[test]
fn rule_new_from_culprit_seeds_the_fire_example_with_the_real_diff() {
    let (repo, culprit) = history(2);
    let run = repo.forewarn(&[
        "rule",
        "new",
        "payments-migration-needs-deploy-step",
        "--finding",
        "2019-07-payments-config-missing#F2",
        "--from-culprit",
    ]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stderr.is_empty(), "examples behave: {run:?}");
    let text = std::fs::read_to_string(
        repo.join(".forewarn/rules/payments-migration-needs-deploy-step.toml"),
    )
    .unwrap();
    let real = repo.git(&[
        "show",
        "--format=",
        "--unified=0",
        &culprit,
        "--",
        "payments/migrations/0002_gateway_config.py",
    ]);
    for line in real
        .lines()
        .filter(|l| l.starts_with('+') && !l.starts_with("+++"))
    {
        assert!(
            text.contains(&format!("\n{line}\n")),
            "{line:?} missing from:\n{text}"
        );
    }
    assert!(text.contains("diff --git a/payments/migrations/0002_gateway_config.py b/payments/migrations/0002_gateway_config.py\nnew file mode 100644\n--- /dev/null\n+++ b/payments/migrations/0002_gateway_config.py\n@@ -0,0 +1,3 @@\n"), "{text}");
    // The culprit added the migration and edited the model: the rule starts from what it added.
    assert!(
        text.contains("paths = [\"payments/migrations/*.py\"]"),
        "{text}"
    );
    assert!(
        text.contains("# It also changed: payments/models.py"),
        "{text}"
    );
    assert!(text.contains("status = [\"added\"]"), "{text}");
    assert!(
        text.contains(&format!("name = \"culprit commit {}", &culprit[..7])),
        "{text}"
    );
    let test = repo.forewarn(&["test", "payments-migration-needs-deploy-step"]);
    assert_eq!(test.code, 0, "{test:?}");
    assert!(test.stdout.contains("2 passed, 0 failed"), "{test:?}");
}

#[test]
fn rule_new_from_culprit_trims_a_large_diff() {
    let (repo, _) = history(1);
    repo.commit("record");
    // A culprit that touches many files with long hunks.
    for i in 0..10 {
        repo.write(
            &format!("config/part_{i}.yaml"),
            (0..40)
                .map(|n| format!("key_{n}: {i}\n"))
                .collect::<String>(),
        );
    }
    let big = repo.commit("Big config change");
    let short = repo.git(&["rev-parse", "--short", &big]);
    repo.write(RECORD_PATH, record(&short));
    let run = repo.forewarn(&[
        "rule",
        "new",
        "big-config",
        "--finding",
        "2019-07-payments-config-missing#F1",
        "--from-culprit",
    ]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout
            .contains("(6 files; trimmed: 6 of 10 files kept, 168 lines left out)"),
        "{run:?}"
    );
    assert_eq!(repo.forewarn(&["test", "big-config"]).code, 0);
}

#[test]
fn report_answers_the_next_reviews_questions() {
    let (repo, culprit) = history(2);
    repo.write(".forewarn/rules/rollout.toml", UNRELATED_RULE);
    let new = repo.forewarn(&[
        "rule",
        "new",
        "payments-migration-needs-deploy-step",
        "--finding",
        "2019-07-payments-config-missing#F2",
        "--from-culprit",
    ]);
    assert_eq!(new.code, 0, "{new:?}");
    // A rule of the team that links to nothing and never fires.
    repo.write(".forewarn/rules/quiet.toml", "[[rule]]\nid = \"quiet-rule\"\ntitle = \"Never\"\nseverity = \"note\"\ncategory = \"process\"\nmessage = \"{path}\"\nask = \"?\"\n[rule.match]\npaths = [\"nothing/**\"]\n");
    repo.commit("rules");
    // A later migration, acknowledged in its commit and recorded by CI.
    repo.write("payments/migrations/0003_fee.py", "x = 1\n");
    repo.commit("Add fee migration\n\nForewarn-Ack: payments-migration-needs-deploy-step: run by the release job before traffic moves");
    let check = repo.forewarn(&["check", "--commit", "HEAD", "--record"]);
    assert_eq!(check.code, 0, "acknowledged, and only a warning: {check:?}");
    // An acknowledgement that only history knows (no ledger event for it).
    repo.write("payments/migrations/0004_tax.py", "x = 1\n");
    repo.commit("Add tax migration\n\nForewarn-Ack: payments-migration-needs-deploy-step: backfill runs first, see RELEASE.md");

    let md = repo.forewarn(&["report"]);
    assert_eq!(md.code, 0, "{md:?}");
    let out = &md.stdout;
    assert!(out.contains("## 2019-07-payments-config-missing: Payment gateway config missing after the 4.2 release"), "{out}");
    assert!(out.contains("| **F2** Review had no place"), "{out}");
    assert!(
        out.contains("| `payments-migration-needs-deploy-step` | 2 | 2 |"),
        "fired and acknowledged, ledger + history: {out}"
    );
    assert!(
        out.contains("\"run by the release job before traffic moves\" (trailer"),
        "{out}"
    );
    assert!(
        out.contains("\"backfill runs first, see RELEASE.md\" (trailer"),
        "{out}"
    );
    assert!(out.contains("- `k8s-recreate` (.forewarn/rules/rollout.toml:2): for 2019-07-payments-config-missing#F1"), "{out}");
    assert!(out.contains("- `quiet-rule`"), "{out}");
    assert!(
        out.contains(&format!(
            "- `{culprit}` (trigger): caught by `payments-migration-needs-deploy-step`"
        )),
        "{out}"
    );
    assert!(
        out.contains("- 2019-07-payments-config-missing#F3 ("),
        "{out}"
    );
    assert!(
        !out.contains("- 2019-07-payments-config-missing#F1 ("),
        "F1 has k8s-recreate: {out}"
    );

    let doc = json(&repo.forewarn(&["report", "--format", "json"]).stdout);
    assert_eq!(doc["version"], 1);
    assert_eq!(
        doc["findings_without_rule"],
        serde_json::json!(["2019-07-payments-config-missing#F3"])
    );
    let mut never: Vec<&str> = doc["never_fired"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    never.sort_unstable();
    assert_eq!(never, vec!["k8s-recreate", "quiet-rule"]);
    assert_eq!(doc["uncaught_culprits"], serde_json::json!([]));
    let rule = doc["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "payments-migration-needs-deploy-step")
        .unwrap();
    assert_eq!(rule["fired"], 2);
    assert_eq!(rule["acknowledged"], 2);
    assert_eq!(rule["reasons"].as_array().unwrap().len(), 2);
    let f2 = &doc["analyses"][0]["findings"][1];
    assert_eq!(f2["link"], "2019-07-payments-config-missing#F2");
    assert_eq!(
        f2["rules"],
        serde_json::json!(["payments-migration-needs-deploy-step"])
    );

    // Without the new rule, the culprit is one no rule catches.
    std::fs::remove_file(repo.join(".forewarn/rules/payments-migration-needs-deploy-step.toml"))
        .unwrap();
    let doc = json(&repo.forewarn(&["report", "--format", "json"]).stdout);
    assert_eq!(doc["uncaught_culprits"][0]["commit"], culprit.as_str());
    let md = repo.forewarn(&["report"]).stdout;
    assert!(md.contains(&format!("## Culprit commits no rule catches\n\n- `{culprit}` of 2019-07-payments-config-missing (trigger): no rule catches it")), "{md}");
}

#[test]
fn validate_checks_links_both_ways() {
    let (repo, _) = history(1);
    repo.write(
        ".forewarn/rules/team.toml",
        "[[rule]]\nid = \"r\"\ntitle = \"t\"\nseverity = \"note\"\ncategory = \"process\"\nmessage = \"{path}\"\nask = \"?\"\nfindings = [\"2019-07-payments-config-missing#F9\"]\n[rule.match]\npaths = [\"x/**\"]\n",
    );
    let run = repo.forewarn(&["validate"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("rule `r` links to finding `F9` of `2019-07-payments-config-missing`, which that record does not have"), "{run:?}");
    assert!(
        run.stderr.contains("--> .forewarn/rules/team.toml:8:13"),
        "{run:?}"
    );
    assert!(
        run.stderr
            .contains("its findings are: 2019-07-payments-config-missing#F1"),
        "{run:?}"
    );

    // A culprit commit that is not in the repository is an error at its line.
    repo.write(".forewarn/rules/team.toml", "");
    repo.write(RECORD_PATH, record("0000000"));
    let run = repo.forewarn(&["validate"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr
            .contains("culprit commit `0000000` is not in this repository"),
        "{run:?}"
    );
    let line = record("0000000")
        .lines()
        .position(|l| l.contains("0000000"))
        .unwrap()
        + 1;
    assert!(
        run.stderr.contains(&format!("{RECORD_PATH}:{line}:10")),
        "{run:?}"
    );

    // A record error is reported like a rule error: file, line, column, help.
    repo.write(
        RECORD_PATH,
        record("0000000").replace("question = \"missing-signal\"", "question = \"who-did-it\""),
    );
    let run = repo.forewarn(&["validate"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains(&format!("{RECORD_PATH}:")), "{run:?}");
    assert!(run.stderr.contains("who-did-it"), "{run:?}");
}

#[test]
fn analyses_load_from_a_revision_with_rules_from() {
    let (repo, _) = history(1);
    repo.commit("record");
    // In the working tree the record is broken; at HEAD it is fine.
    repo.write(RECORD_PATH, "id = \n");
    assert_eq!(repo.forewarn(&["backtest", "--last", "1"]).code, 2);
    let run = repo.forewarn(&[
        "backtest",
        "--last",
        "1",
        "--rules-from",
        "HEAD",
        "--format",
        "json",
    ]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        json(&run.stdout)["backtest"]["culprits"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let report = repo.forewarn(&["report", "--rules-from", "HEAD"]);
    assert_eq!(report.code, 0, "{report:?}");
}

#[test]
fn html_report_in_headless_chromium() {
    let chromium = std::path::Path::new("/usr/bin/chromium");
    let (repo, _) = history(1);
    let new = repo.forewarn(&[
        "rule",
        "new",
        "payments-migration-needs-deploy-step",
        "--finding",
        "2019-07-payments-config-missing#F2",
        "--from-culprit",
    ]);
    assert_eq!(new.code, 0, "{new:?}");
    // Hostile text in a record must stay text.
    let hostile = record("x").replace(
        "The dashboard stayed green because it measured latency, not errors.",
        "<script>document.title='pwned'</script><img src=x onerror=alert(1)>",
    );
    let culprit = repo.git(&["rev-parse", "--short", "HEAD~1"]);
    repo.write(
        RECORD_PATH,
        hostile.replace("commit = \"x\"", &format!("commit = \"{culprit}\"")),
    );
    repo.commit("rule and record");
    repo.write("payments/migrations/0003_fee.py", "x = 1\n");
    repo.commit(
        "Add fee\n\nForewarn-Ack: payments-migration-needs-deploy-step: run by the release job",
    );
    assert_eq!(
        repo.forewarn(&["check", "--commit", "HEAD", "--record"])
            .code,
        0
    );
    repo.write("payments/migrations/0004_tax.py", "x = 1\n");
    repo.commit("Add tax");
    assert_eq!(
        repo.forewarn(&["check", "--commit", "HEAD", "--record"])
            .code,
        0
    );

    let page = repo.join("report.html");
    let run = repo.forewarn(&["report", "--format", "html", "-o", page.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{run:?}");
    let html = std::fs::read_to_string(&page).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&page).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o644, "a report others can read: {mode:o}");
    }
    assert!(!html.contains("<script"), "no script of any kind");
    assert!(
        !html.contains("src=") || !html.contains("<img"),
        "no images"
    );

    if !chromium.exists() {
        println!(
            "note: /usr/bin/chromium is not installed; the HTML report was checked as text only"
        );
        return;
    }
    let out = std::process::Command::new(chromium)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--dump-dom"])
        .arg(format!("file://{}", page.display()))
        .env("HOME", repo.path())
        .output()
        .expect("run chromium");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dom = String::from_utf8_lossy(&out.stdout);
    assert!(
        dom.contains("<title>forewarn report</title>"),
        "the script did not run: {dom}"
    );
    assert!(!dom.contains("<script"), "{dom}");
    assert!(!dom.contains("<img"), "{dom}");
    assert!(dom.contains("&lt;script&gt;document.title="), "{dom}");
    // The chart: one row per rule that fired, with a fired bar and an acknowledged bar.
    let row = dom
        .find("<tr class=\"rule-row\" data-rule=\"payments-migration-needs-deploy-step\">")
        .expect("chart row");
    let row = &dom[row..dom[row..].find("</tr>").unwrap() + row];
    assert!(row.contains("<svg class=\"chart\""), "{row}");
    assert_eq!(row.matches("<rect class=\"fired\"").count(), 1, "{row}");
    assert!(
        row.contains("<rect class=\"fired\" data-count=\"2\""),
        "{row}"
    );
    assert!(
        row.contains("<rect class=\"acknowledged\" data-count=\"1\""),
        "{row}"
    );
    assert!(row.contains("<td class=\"n fired\">2</td>"), "{row}");
    assert!(dom.contains("id=\"card-unlinked\"><b>2</b>"), "{dom}");
    assert!(
        dom.contains("<li class=\"unlinked\"><code>2019-07-payments-config-missing#F1</code></li>"),
        "{dom}"
    );
    // A phone's width and a laptop's: the page itself never scrolls sideways (wide tables scroll
    // inside their own box), measured by a page that frames the report at that width.
    for width in [390, 1280] {
        let (scroll, client) = page_width_in_chromium(chromium, repo.path(), &page, width);
        assert!(
            scroll <= client,
            "at {width} px the page is {scroll} px wide: it scrolls sideways"
        );
        let shot = repo.join(&format!("report-{width}.png"));
        let out = std::process::Command::new(chromium)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
            ])
            .arg(format!("--window-size={width},1600"))
            .arg(format!("--screenshot={}", shot.display()))
            .arg(format!("file://{}", page.display()))
            .env("HOME", repo.path())
            .output()
            .expect("run chromium");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let png = std::fs::read(&shot).expect("a screenshot");
        assert!(png.starts_with(b"\x89PNG"), "a PNG at {width} px");
    }
}

/// `(scrollWidth, clientWidth)` of the report's page framed `width` pixels wide.
fn page_width_in_chromium(
    chromium: &std::path::Path,
    home: &std::path::Path,
    page: &std::path::Path,
    width: u32,
) -> (u32, u32) {
    let frame = page.with_file_name(format!("frame-{width}.html"));
    std::fs::write(
        &frame,
        format!(
            "<!DOCTYPE html><html><body style=\"margin:0\"><iframe id=\"f\" src=\"{}\" style=\"width:{width}px;height:900px;border:0\"></iframe><script>document.getElementById('f').onload=function(){{var d=this.contentDocument.documentElement;document.body.setAttribute('data-scroll',d.scrollWidth+'/'+d.clientWidth);}};</script></body></html>",
            page.file_name().unwrap().to_str().unwrap()
        ),
    )
    .unwrap();
    let out = std::process::Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--allow-file-access-from-files",
            "--virtual-time-budget=5000",
            "--dump-dom",
        ])
        .arg(format!("file://{}", frame.display()))
        .env("HOME", home)
        .output()
        .expect("run chromium");
    let dom = String::from_utf8_lossy(&out.stdout);
    let at = dom
        .find("data-scroll=\"")
        .unwrap_or_else(|| panic!("the frame measured nothing: {dom}"))
        + "data-scroll=\"".len();
    let measured = &dom[at..at + dom[at..].find('"').unwrap()];
    let (scroll, client) = measured.split_once('/').unwrap();
    (scroll.parse().unwrap(), client.parse().unwrap())
}

#[test]
fn recorded_events_carry_the_pull_request_and_the_answer() {
    let repo = Repo::new();
    repo.write("forewarn.toml", "[rules]\nbuiltin = false\n")
        .write(".forewarn/rules/team.toml", util::TEAM_RULES);
    repo.commit("rules");
    repo.write("sql/a.sql", "DROP TABLE a;\n");
    repo.commit("drop");
    let event = repo.join("event.json");
    std::fs::write(
        &event,
        r#"{"pull_request": {"number": 42, "body": "Forewarn-Ack: team-drop-table: nothing reads it since 4.1"}}"#,
    )
    .unwrap();
    let out = forewarn_cmd(repo.path())
        .args(["check", "--commit", "HEAD", "--record"])
        .env("GITHUB_EVENT_PATH", &event)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let dir = repo.join(".forewarn/ledger");
    let events: Vec<serde_json::Value> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| json(&std::fs::read_to_string(e.unwrap().path()).unwrap()))
        .collect();
    let drop = events
        .iter()
        .find(|e| e["rule"] == "team-drop-table")
        .unwrap();
    assert_eq!(drop["kind"], "acknowledged", "{drop}");
    assert_eq!(drop["pull_request"], 42, "{drop}");
    assert_eq!(drop["reason"], "nothing reads it since 4.1", "{drop}");
    assert_eq!(drop["ack_source"], "pull-request", "{drop}");
    assert_eq!(
        drop["findings"],
        serde_json::json!(["2019-07-payments-config-missing#F2"])
    );
    assert_eq!(
        drop["rule_version"].as_str().map(str::len),
        Some(16),
        "{drop}"
    );
    let new_sql = events.iter().find(|e| e["rule"] == "team-new-sql").unwrap();
    assert_eq!(new_sql["kind"], "fired", "{new_sql}");
    assert_eq!(new_sql["reason"], serde_json::Value::Null);
}

#[test]
fn a_culprit_outside_a_shallow_clone_is_a_warning() {
    let (repo, culprit) = history(3);
    repo.commit("record");
    let clone = tempfile::tempdir().unwrap();
    util::git_in(
        clone.path(),
        &[
            "clone",
            "-q",
            "--depth",
            "1",
            &format!("file://{}", repo.path().display()),
            "shallow",
        ],
    );
    let shallow = clone.path().join("shallow");
    let run = util::run_in(&shallow, &["validate"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stderr.contains(&format!(
            "culprit commit `{culprit}` is not in this shallow clone"
        )),
        "{run:?}"
    );
    assert!(run.stderr.contains("git fetch --unshallow"), "{run:?}");
}

#[test]
fn backtest_write_killed_at_any_moment_leaves_the_record_whole() {
    let (repo, culprit) = history(40);
    let original = HAND_WRITTEN.replace("CULPRIT", &culprit);
    repo.write(RECORD_PATH, &original);
    repo.write(".forewarn/rules/rollout.toml", UNRELATED_RULE);
    let mut outcomes = std::collections::BTreeSet::new();
    for attempt in 0..24u64 {
        let mut child = forewarn_cmd(repo.path())
            .args(["backtest", "--write"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn forewarn");
        // Kill it somewhere between start-up and the end of its write.
        std::thread::sleep(std::time::Duration::from_millis(attempt * 3));
        let _ = child.kill();
        let _ = child.wait();
        let text = std::fs::read_to_string(repo.join(RECORD_PATH)).unwrap();
        // Whole: the old record or a new one, never a prefix of either.
        assert!(
            text.parse::<toml::Table>().is_ok(),
            "attempt {attempt}: the record no longer parses:\n{text}"
        );
        assert!(text.starts_with(&original[..original.len() / 2]), "{text}");
        outcomes.insert(text.contains("[[backtest]]"));
        let validate = repo.forewarn(&["validate"]);
        assert_ne!(validate.code, 2, "attempt {attempt}: {validate:?}");
    }
    // The run is long enough that some kills land before the write: the test saw the old file.
    assert!(outcomes.contains(&false), "{outcomes:?}");
}
