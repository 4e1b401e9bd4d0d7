use serde_json::{Value, json};

use super::*;
use crate::output::fixtures::{self, HOSTILE, MIGRATION_PATH};

fn parse(report: &Report, rules: &[Rule]) -> Value {
    let text = render(report, rules, true);
    assert!(text.ends_with('\n'));
    serde_json::from_str(&text).expect("valid JSON")
}

#[test]
fn one_run_with_every_rule_in_force_and_the_missing_ones() {
    let doc = parse(&fixtures::report(), &fixtures::rules());
    assert_eq!(doc["version"], "2.1.0");
    let runs = doc["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1);
    let rules = runs[0]["tool"]["driver"]["rules"].as_array().unwrap();
    let ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        [
            "new-migration-needs-deploy-step",
            "migration-without-schema-dump",
            "dropped-column",
            "global-config-change",
            "k8s-recreate-strategy",
            "too-many-components",
        ]
    );
    let rule = &rules[0];
    assert_eq!(
        rule["shortDescription"]["text"],
        "A new migration needs a deploy step"
    );
    assert_eq!(
        rule["fullDescription"]["text"],
        "The new code can start before the step has run."
    );
    assert_eq!(rule["helpUri"], "https://example.com/deploy-steps");
    assert_eq!(rule["defaultConfiguration"]["level"], "error");
    let help = rule["help"]["text"].as_str().unwrap();
    assert!(
        help.contains("Safe procedure:\n1. Run the migration in a pre-deploy job."),
        "{help}"
    );
    let markdown = rule["help"]["markdown"].as_str().unwrap();
    assert!(markdown.contains("### Safe procedure"), "{markdown}");
    // A docs entry that is not a URL is not a helpUri.
    assert!(rules[3].get("helpUri").is_none());
}

#[test]
fn results_point_at_rules_lines_and_fingerprints() {
    let report = fixtures::report();
    let doc = parse(&report, &fixtures::rules());
    let rules = &doc["runs"][0]["tool"]["driver"]["rules"];
    let results = doc["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), report.findings.len());
    for (r, f) in results.iter().zip(&report.findings) {
        let index = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], r["ruleId"]);
        assert_eq!(r["ruleId"], &*f.rule_id);
        assert_eq!(
            r["partialFingerprints"][FINGERPRINT_KEY],
            f.fingerprint.as_str()
        );
    }
    let line = &results[2];
    assert_eq!(line["level"], "error");
    assert_eq!(
        line["locations"][0]["physicalLocation"],
        json!({"artifactLocation": {"uri": MIGRATION_PATH}, "region": {"startLine": 4}})
    );
    // A removed line whose neighbourhood is unknown is shown at line 1, and named.
    let removed = &results[1];
    assert_eq!(
        removed["locations"][0]["physicalLocation"]["region"],
        json!({"startLine": 1})
    );
    assert_eq!(removed["properties"]["removedLine"], 12);
    assert!(
        removed["message"]["text"]
            .as_str()
            .unwrap()
            .contains("(removed line 12 of the old version; shown at line 1 of the new version)")
    );
    // A change-wide finding is anchored at forewarn.toml: GitHub needs a location.
    assert_eq!(
        results[4]["locations"][0]["physicalLocation"],
        json!({"artifactLocation": {"uri": "forewarn.toml"}, "region": {"startLine": 1}})
    );
    // A finding on a file as a whole is at its line 1.
    assert_eq!(
        results[0]["locations"][0]["physicalLocation"]["region"],
        json!({"startLine": 1})
    );
}

#[test]
fn a_removed_line_is_shown_at_the_nearest_line_of_the_new_version() {
    let mut report = fixtures::report();
    report
        .removed_line_anchors
        .insert((std::sync::Arc::from("db/schema.sql"), 12), 10);
    let doc = parse(&report, &fixtures::rules());
    let removed = &doc["runs"][0]["results"][1];
    assert_eq!(
        removed["locations"][0]["physicalLocation"]["region"],
        json!({"startLine": 10})
    );
    let message = removed["message"]["text"].as_str().unwrap();
    assert!(
        message
            .contains("(removed line 12 of the old version; shown at line 10 of the new version)"),
        "{message}"
    );
}

#[test]
fn the_driver_rules_and_run_say_what_github_shows() {
    let doc = parse(&fixtures::report(), &fixtures::rules());
    let run = &doc["runs"][0];
    let driver = &run["tool"]["driver"];
    assert!(
        driver["informationUri"]
            .as_str()
            .unwrap()
            .starts_with("https://")
    );
    assert_eq!(run["automationDetails"]["id"], AUTOMATION_ID);
    let names: Vec<&str> = driver["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names[0], "NewMigrationNeedsDeployStep");
    assert_eq!(names[5], "TooManyComponents");
    assert_eq!(pascal_case("k8s-recreate-strategy"), "K8sRecreateStrategy");
    assert_eq!(pascal_case("::"), "Rule");
}

#[test]
fn acknowledged_findings_are_left_out_unless_asked_for() {
    let report = fixtures::report();
    let text = render(&report, &fixtures::rules(), false);
    let doc: Value = serde_json::from_str(&text).unwrap();
    let results = doc["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), report.findings.len() - 1);
    assert!(
        results
            .iter()
            .all(|r| r["ruleId"] != "migration-without-schema-dump"
                && r.get("suppressions").is_none())
    );
    // The rule is still described, and the run says what was left out.
    let rules = doc["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    assert!(
        rules
            .iter()
            .any(|r| r["id"] == "migration-without-schema-dump")
    );
    let notes = doc["runs"][0]["invocations"][0]["toolExecutionNotifications"]
        .as_array()
        .unwrap();
    assert!(
        notes.iter().any(|n| n["message"]["text"]
            == "1 acknowledged finding is left out of the results (pass --sarif-acknowledged to list them, with their reasons)"),
        "{notes:#?}"
    );
    let kept = parse(&report, &fixtures::rules());
    assert_eq!(
        kept["runs"][0]["results"].as_array().unwrap().len(),
        report.findings.len()
    );
}

#[test]
fn past_the_limit_the_most_severe_are_kept_and_the_rest_counted() {
    let report = fixtures::report();
    // Five findings, a run of at most three results: the error, the first warning, and one
    // result for the three left out.
    let text = render_capped(&report, &fixtures::rules(), true, 3);
    let doc: Value = serde_json::from_str(&text).unwrap();
    assert_valid_sarif(&doc);
    let run = &doc["runs"][0];
    let results = run["results"].as_array().unwrap();
    let ids: Vec<&str> = results
        .iter()
        .map(|r| r["ruleId"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "global-config-change",
            "new-migration-needs-deploy-step",
            TRUNCATED_RULE
        ]
    );
    let last = &results[2];
    assert_eq!(last["level"], "warning");
    let message = last["message"]["text"].as_str().unwrap();
    assert!(
        message.starts_with("3 more findings are not listed here (0 errors, 2 warnings, 1 notes)"),
        "{message}"
    );
    let index = last["ruleIndex"].as_u64().unwrap() as usize;
    assert_eq!(run["tool"]["driver"]["rules"][index]["id"], TRUNCATED_RULE);
    // At the limit, nothing is left out.
    let text = render_capped(&report, &fixtures::rules(), true, 5);
    let doc: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["runs"][0]["results"].as_array().unwrap().len(), 5);
    assert!(!text.contains(TRUNCATED_RULE));
}

#[test]
fn fingerprints_ignore_line_numbers() {
    let mut moved = fixtures::report();
    moved.findings[2].line = Some(40);
    let a = parse(&fixtures::report(), &[]);
    let b = parse(&moved, &[]);
    assert_eq!(
        a["runs"][0]["results"][2]["partialFingerprints"],
        b["runs"][0]["results"][2]["partialFingerprints"]
    );
}

#[test]
fn acknowledged_findings_are_external_suppressions() {
    let doc = parse(&fixtures::report(), &fixtures::rules());
    let results = doc["runs"][0]["results"].as_array().unwrap();
    assert_eq!(
        results[3]["suppressions"],
        json!([{"kind": "external", "status": "accepted",
                "justification": "the schema dump is generated in CI"}])
    );
    assert!(results[2].get("suppressions").is_none());
}

#[test]
fn warnings_and_unused_acknowledgements_are_notifications() {
    let doc = parse(&fixtures::report(), &[]);
    let notes = &doc["runs"][0]["invocations"][0]["toolExecutionNotifications"];
    assert_eq!(notes[0]["level"], "warning");
    assert_eq!(notes[1]["level"], "note");
    assert!(
        notes[1]["message"]["text"]
            .as_str()
            .unwrap()
            .contains("no-such-rule")
    );
}

#[test]
fn paths_become_relative_uri_references() {
    assert_eq!(relative_uri("src/a b.py"), "src/a%20b.py");
    assert_eq!(relative_uri("c:/x#y?z"), "c%3A/x%23y%3Fz");
    assert_eq!(relative_uri("/etc/passwd"), "%2Fetc/passwd");
    assert_eq!(relative_uri("é"), "%C3%A9");
    assert_eq!(relative_uri("100%"), "100%25");
}

#[test]
fn hostile_text_stays_data() {
    let text = render(&fixtures::hostile_report(), &fixtures::rules(), true);
    assert!(
        !text.contains('\x1b') && !text.contains('\u{202e}'),
        "{text}"
    );
    let doc: Value = serde_json::from_str(&text).unwrap();
    let result = &doc["runs"][0]["results"][2];
    let message = result["message"]["text"].as_str().unwrap();
    assert!(
        message.contains("::error::pwned %0A%25 a\nb\\r\n"),
        "{message}"
    );
    assert_eq!(
        result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "evil%3Adir%2Cname/%250A/a%20b%0A%3A%3Aerror%3A%3Ax.py"
    );
    assert!(HOSTILE.contains('\x1b'));
}

/// Validates against the official SARIF 2.1.0 schema (vendored in tests/schemas), offline: the
/// schema's own `$ref`s are local, and nothing is fetched.
fn assert_valid_sarif(doc: &Value) {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/schemas/sarif-2.1.0.json"
    );
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(path).expect("the SARIF schema vendored in tests/schemas"),
    )
    .expect("the schema is JSON");
    let validator = jsonschema::options()
        .offline()
        .should_validate_formats(true)
        .build(&schema)
        .expect("the schema compiles offline");
    let errors: Vec<String> = validator
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}\n{doc:#}");
}

#[test]
fn validates_against_the_sarif_schema() {
    assert_valid_sarif(&parse(&fixtures::report(), &fixtures::rules()));
    assert_valid_sarif(&parse(&fixtures::hostile_report(), &fixtures::rules()));
    assert_valid_sarif(&parse(&fixtures::report(), &[]));
    let mut empty = fixtures::report();
    empty.findings.clear();
    empty.unused_acks.clear();
    empty.warnings.clear();
    assert_valid_sarif(&parse(&empty, &[]));
    // The validator does catch a broken log.
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/schemas/sarif-2.1.0.json"
    );
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let validator = jsonschema::options().offline().build(&schema).unwrap();
    let mut broken = parse(&fixtures::report(), &[]);
    broken["runs"][0]["results"][0]["level"] = json!("fatal");
    assert!(!validator.is_valid(&broken));
}

#[test]
fn snapshot() {
    insta::assert_snapshot!(render(&fixtures::report(), &fixtures::rules(), false));
}
