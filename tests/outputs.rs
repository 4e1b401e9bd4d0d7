//! Machine formats from the real binary on a real repository: SARIF as GitHub code scanning ingests
//! it, reviewdog's rdjsonl, JUnit against Jenkins' schema, and acknowledgements from a GitLab
//! merge-request description.

mod util;

use std::path::Path;
use std::process::Command;

use serde_json::Value;
use util::{Repo, Run, TEAM_RULES, forewarn_cmd};

/// One rule on removed lines, next to the team rules.
const REMOVED_RULE: &str = r#"
[[rule]]
id = "team-removed-index"
title = "An index is removed"
severity = "error"
category = "migration"
message = "{path} removes an index."
ask = "Does any query still need it?"
docs = ["https://example.com/indexes"]
[rule.match]
paths = ["**/*.sql"]
removed = ['(?i)create\s+index']
"#;

/// `main` with a schema; `feature` removes its line 3 (an index), adds a line at the top, adds
/// `sql/drop.sql` with a `DROP TABLE` (an error on its line 1, a new SQL file warning on the file),
/// and acknowledges the new-file warning in its commit.
fn repo() -> Repo {
    let repo = Repo::new();
    repo.write("forewarn.toml", "[rules]\nbuiltin = false\n")
        .write(
            ".forewarn/rules/team.toml",
            format!("{TEAM_RULES}\n{REMOVED_RULE}"),
        )
        .write("db/schema.sql", "a\nb\nCREATE INDEX i ON t(x);\nc\nd\n");
    repo.commit("schema");
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo.write("db/schema.sql", "-- v2\na\nb\nc\nd\n")
        .write("sql/drop.sql", "DROP TABLE t;\n");
    repo.commit("drop t\n\nForewarn-Ack: team-new-sql: run by the release job\n");
    repo
}

fn check(repo: &Repo, extra: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = forewarn_cmd(repo.path());
    cmd.args(["check", "--base", "main", "--head", "HEAD"])
        .args(extra);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("forewarn runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn valid_sarif(text: &str) -> Value {
    let doc: Value = serde_json::from_str(text).expect("SARIF is JSON");
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/schemas/sarif-2.1.0.json"
    );
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let validator = jsonschema::options().offline().build(&schema).unwrap();
    let errors: Vec<String> = validator.iter_errors(&doc).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:#?}");
    doc
}

fn result<'a>(doc: &'a Value, rule: &str) -> Option<&'a Value> {
    doc["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ruleId"] == rule)
}

#[test]
fn sarif_results_have_regions_and_leave_acknowledged_findings_out() {
    let repo = repo();
    let run = check(&repo, &["--format", "sarif"], &[]);
    assert_eq!(run.code, 1, "{run:?}");
    let doc = valid_sarif(&run.stdout);
    let results = doc["runs"][0]["results"].as_array().unwrap();
    for r in results {
        let location = &r["locations"][0]["physicalLocation"];
        assert!(
            location["region"]["startLine"].as_u64().unwrap() >= 1,
            "{r:#}"
        );
        assert!(
            !location["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
                .contains(':')
        );
        assert!(!r["message"]["text"].as_str().unwrap().is_empty());
    }
    // The removed line 3 is shown at line 3 of the new version: `b`, the line before it.
    let removed = result(&doc, "team-removed-index").expect("the removed-line finding");
    assert_eq!(
        removed["locations"][0]["physicalLocation"]["region"]["startLine"],
        3
    );
    assert!(
        removed["message"]["text"]
            .as_str()
            .unwrap()
            .contains("(removed line 3 of the old version; shown at line 3 of the new version)"),
        "{removed:#}"
    );
    let drop = result(&doc, "team-drop-table").unwrap();
    assert_eq!(
        drop["locations"][0]["physicalLocation"]["region"]["startLine"],
        1
    );
    // The acknowledged warning is left out, and said to be.
    assert!(result(&doc, "team-new-sql").is_none());
    let run_doc = &doc["runs"][0];
    assert!(
        run_doc["automationDetails"]["id"]
            .as_str()
            .unwrap()
            .starts_with("forewarn/")
    );
    let rules = run_doc["tool"]["driver"]["rules"].as_array().unwrap();
    let names: Vec<&str> = rules.iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"TeamRemovedIndex"), "{names:?}");

    // --sarif-acknowledged keeps it, suppressed with its reason; --sarif-file too.
    let file = repo.join("out.sarif");
    let run = check(
        &repo,
        &[
            "--format",
            "sarif",
            "--sarif-acknowledged",
            "--sarif-file",
            file.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(run.code, 1, "{run:?}");
    for text in [run.stdout, std::fs::read_to_string(&file).unwrap()] {
        let doc = valid_sarif(&text);
        let acked = result(&doc, "team-new-sql").expect("kept");
        assert_eq!(acked["suppressions"][0]["kind"], "external");
        assert_eq!(
            acked["suppressions"][0]["justification"],
            "run by the release job"
        );
        assert_eq!(
            acked["locations"][0]["physicalLocation"]["region"]["startLine"],
            1
        );
    }
}

#[test]
fn rdjsonl_for_reviewdog() {
    let repo = repo();
    let run = check(&repo, &["--format", "rdjsonl"], &[]);
    assert_eq!(run.code, 1, "{run:?}");
    let lines: Vec<Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object a line"))
        .collect();
    let codes: Vec<&str> = lines
        .iter()
        .map(|d| d["code"]["value"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        ["team-removed-index", "team-drop-table"],
        "{}",
        run.stdout
    );
    let removed = &lines[0];
    assert_eq!(removed["location"]["path"], "db/schema.sql");
    assert_eq!(removed["location"]["range"]["start"]["line"], 3);
    assert_eq!(removed["severity"], "ERROR");
    assert_eq!(removed["source"]["name"], "forewarn");
    assert_eq!(removed["code"]["url"], "https://example.com/indexes");
    assert_eq!(lines[1]["location"]["path"], "sql/drop.sql");
    assert_eq!(lines[1]["location"]["range"]["start"]["line"], 1);
    assert_eq!(lines[1]["location"]["range"]["start"]["column"], 1);
}

#[test]
fn junit_is_valid_against_the_jenkins_schema() {
    let repo = repo();
    let file = repo.join("junit.xml");
    let run = check(&repo, &["--junit-file", file.to_str().unwrap()], &[]);
    assert_eq!(run.code, 1, "{run:?}");
    let xml = std::fs::read_to_string(&file).unwrap();
    assert!(
        !xml.contains(
            "<testsuites name=\"forewarn\" tests=\"4\" failures=\"2\" errors=\"0\" skipped"
        )
    );
    let schema = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/schemas/junit-10.xsd");
    let out = match Command::new("xmllint")
        .args(["--noout", "--nonet", "--schema"])
        .arg(&schema)
        .arg(&file)
        .output()
    {
        Ok(out) => out,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            eprintln!(
                "SKIPPED: xmllint is not installed (apt-get install libxml2-utils); \
                 the JUnit report was not checked against {}",
                schema.display()
            );
            return;
        }
        Err(e) => panic!("xmllint could not run: {e}"),
    };
    assert!(
        out.status.success(),
        "{}\n{xml}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn acknowledgements_from_a_gitlab_merge_request_description() {
    let repo = repo();
    let findings = |run: &Run| -> Value { serde_json::from_str(&run.stdout).expect("json") };
    let acked = |doc: &Value, rule: &str| {
        let of_rule: Vec<&Value> = doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["rule_id"] == rule)
            .collect();
        assert!(!of_rule.is_empty(), "no {rule} finding: {doc:#}");
        of_rule.iter().all(|f| !f["acknowledged"].is_null())
    };
    let description = "Drops t.\n\nForewarn-Ack: team-drop-table: t was emptied in 4.1\n\
                       <!-- Forewarn-Ack: team-removed-index: no reader left -->\n";
    let run = check(
        &repo,
        &["--format", "json"],
        &[("CI_MERGE_REQUEST_DESCRIPTION", description)],
    );
    assert_eq!(run.code, 1, "{run:?}");
    let doc = findings(&run);
    assert!(acked(&doc, "team-drop-table"), "{doc:#}");
    assert!(!acked(&doc, "team-removed-index"), "{doc:#}");
    assert!(
        run.stdout.contains(
            "acknowledgement of `team-removed-index` in the merge-request description is inside an HTML comment"
        ),
        "{}",
        run.stdout
    );
    // Written where readers see it, it answers the question; an invisible reason does not.
    let run = check(
        &repo,
        &["--format", "json"],
        &[(
            "CI_MERGE_REQUEST_DESCRIPTION",
            "Forewarn-Ack: team-drop-table: t was emptied in 4.1\n\
             Forewarn-Ack: team-removed-index: no reader left\n",
        )],
    );
    assert_eq!(run.code, 0, "{run:?}");
    let run = check(
        &repo,
        &["--format", "json"],
        &[(
            "CI_MERGE_REQUEST_DESCRIPTION",
            "Forewarn-Ack: team-drop-table: \u{200b}\u{2060}\n",
        )],
    );
    assert_eq!(run.code, 1, "{run:?}");
    assert!(!acked(&findings(&run), "team-drop-table"));
    assert!(
        run.stdout
            .contains("reason made only of invisible characters")
    );
}

/// The results Microsoft's SARIF Multitool gives `sarif` with GitHub's ingestion rules and the
/// SARIF rules on: `(rule id, level)`. `None` when the Multitool is not installed
/// (`FOREWARN_SARIF_MULTITOOL` names its binary; `.ci/run` installs it from npm).
fn multitool_results(dir: &Path, sarif: &str) -> Option<Vec<(String, String)>> {
    let tool = std::env::var_os("FOREWARN_SARIF_MULTITOOL").filter(|t| !t.is_empty())?;
    let input = dir.join("in.sarif");
    let output = dir.join("multitool.sarif");
    std::fs::write(&input, sarif).unwrap();
    let _ = std::fs::remove_file(&output);
    let out = Command::new(&tool)
        .args(["validate", "--rule-kind", "Gh;Sarif", "--output"])
        .arg(&output)
        .arg(&input)
        .env("DOTNET_SYSTEM_GLOBALIZATION_INVARIANT", "1")
        .output()
        .expect("the SARIF Multitool runs");
    let log = std::fs::read_to_string(&output).unwrap_or_else(|_| {
        panic!(
            "the Multitool wrote no log: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let doc: Value = serde_json::from_str(&log).unwrap();
    Some(
        doc["runs"][0]["results"]
            .as_array()
            .map(|rs| {
                rs.iter()
                    .map(|r| {
                        (
                            r["ruleId"].as_str().unwrap_or("").to_string(),
                            r["level"].as_str().unwrap_or("warning").to_string(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default(),
    )
}

#[test]
fn the_sarif_multitool_with_githubs_rules_finds_no_error() {
    let repo = repo();
    // Every shape of finding: a line, a removed line, a file, the change as a whole.
    let run = check(&repo, &["--format", "sarif", "--sarif-acknowledged"], &[]);
    assert_eq!(run.code, 1, "{run:?}");
    let Some(results) = multitool_results(repo.path(), &run.stdout) else {
        println!(
            "note: FOREWARN_SARIF_MULTITOOL is not set; the SARIF Multitool did not run (.ci/run installs it)"
        );
        return;
    };
    let errors: Vec<_> = results
        .iter()
        .filter(|(_, level)| level == "error")
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    // The harness can fail: a message with no text breaks GitHub's rules.
    let mut broken: Value = serde_json::from_str(&run.stdout).unwrap();
    broken["runs"][0]["results"][0]["message"] = serde_json::json!({ "id": "default" });
    let results = multitool_results(repo.path(), &broken.to_string()).unwrap();
    assert!(
        results
            .iter()
            .any(|(id, level)| id.starts_with("GH") && level == "error"),
        "{results:?}"
    );
}
