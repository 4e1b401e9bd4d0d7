//! forewarn fails closed: what it cannot read it reports, what it cannot run is an error, and a
//! corrupt input is refused. Each test builds the situation in a real temp repository and runs
//! the real binary.

mod util;

use util::Repo;

fn json(run: &util::Run) -> serde_json::Value {
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {run:?}"))
}

/// The findings of `rule` in a JSON run: (path, severity, message).
fn findings(run: &util::Run, rule: &str) -> Vec<(String, String, String)> {
    json(run)["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule_id"] == rule)
        .map(|f| {
            (
                f["path"].as_str().unwrap_or("").to_string(),
                f["severity"].as_str().unwrap_or("").to_string(),
                f["message"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

fn rule_file(id: &str, added: &str) -> String {
    format!(
        r#"
[[rule]]
id = "{id}"
title = "t"
severity = "error"
category = "test"
message = "{{path}}"
ask = "?"
[rule.match]
paths = ["**/*.sql"]
added = ['{added}']
"#
    )
}

/// A repository whose team rules are `rules`, committed, with the built-in packs on, on a
/// `feature` branch with one SQL file that every built-in SQL rule and `drop table` rule reads.
fn repo_with_rules(rules: &str) -> Repo {
    let repo = Repo::new();
    repo.write(".forewarn/rules/team.toml", rules);
    repo.commit("rules");
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo.write("db/migrate/001.sql", "DROP TABLE users;\n");
    repo
}

// --- a rule that cannot run is an error at load ---------------------------------------------

fn assert_refused_at(run: &util::Run, at: &str) {
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains(at), "names {at}: {run:?}");
    assert!(run.stderr.contains("size limit"), "says why: {run:?}");
}

#[test]
fn a_regex_over_the_compiled_size_limit_fails_validate_test_and_check() {
    let rules = format!(
        "{}{}",
        rule_file("drops", "(?i)drop table"),
        rule_file("huge", r"\w{400}")
    );
    let repo = repo_with_rules(&rules);
    let at = ".forewarn/rules/team.toml:22";
    assert_refused_at(&repo.forewarn(&["validate"]), at);
    assert_refused_at(&repo.forewarn(&["test"]), at);
    assert_refused_at(&repo.forewarn(&["check", "--base", "main"]), at);
}

#[test]
fn regexes_that_compile_alone_but_not_together_fail_check() {
    // Each compiles on its own; the one set the engine builds of every candidate rule's
    // patterns does not, and all line rules of the file, built-in ones too, would match nothing.
    let rules = format!(
        "{}{}",
        rule_file("wide-a", r"\w{200}a"),
        rule_file("wide-b", r"\w{200}b")
    );
    let repo = repo_with_rules(&rules);
    for args in [&["validate"][..], &["test"], &["check", "--base", "main"]] {
        let run = repo.forewarn(args);
        assert_eq!(run.code, 2, "{args:?}: {run:?}");
        assert!(
            run.stderr.contains(".forewarn/rules/team.toml:14"),
            "points at the rule that pushed the set over: {run:?}"
        );
        assert!(run.stderr.contains("size limit"), "{run:?}");
    }
}

#[test]
fn a_team_regex_within_the_limits_still_loads_with_the_built_in_packs() {
    let repo = repo_with_rules(&rule_file("drops", r"(?i)drop\s+table\s+\w{1,60}"));
    let run = repo.forewarn(&["check", "--base", "main", "--format", "json"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(findings(&run, "drops").len(), 1, "{run:?}");
}

// --- corrupt patches are refused, as `git apply --check` refuses them -------------------------

/// Runs `check --patch -` outside any repository with `patch` on stdin.
fn check_patch(patch: &str, extra: &[&str]) -> util::Run {
    let outside = tempfile::tempdir().unwrap();
    let mut args = vec!["check", "--patch", "-"];
    args.extend_from_slice(extra);
    util::run_with_stdin(outside.path(), &args, patch.as_bytes())
}

fn assert_corrupt_at(run: &util::Run, line: &str) {
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains(&format!("stdin:{line}: corrupt patch")),
        "names line {line}: {run:?}"
    );
    assert!(
        run.stderr.contains("git diff > change.patch"),
        "says how to fix: {run:?}"
    );
    assert!(
        run.stdout.is_empty(),
        "no report of a change not read: {run:?}"
    );
}

const HEADER: &str = "diff --git a/db/migrate/001.sql b/db/migrate/001.sql\n--- a/db/migrate/001.sql\n+++ b/db/migrate/001.sql\n";

#[test]
fn a_line_without_a_prefix_inside_a_hunk_is_refused() {
    let patch = format!(
        "{HEADER}@@ -1,2 +1,3 @@\n keep\n+ALTER TABLE a ADD b int;\nDROP TABLE users;\n+DROP TABLE orders;\n"
    );
    assert_corrupt_at(&check_patch(&patch, &[]), "7");
}

#[test]
fn a_truncated_patch_is_refused() {
    let patch = format!("{HEADER}@@ -1,3 +1,4 @@\n keep\n+DROP TABLE users;\n");
    assert_corrupt_at(&check_patch(&patch, &[]), "6");
}

#[test]
fn lines_past_the_hunk_counts_are_refused() {
    let patch = format!("{HEADER}@@ -1 +1 @@\n-a\n+b\n+DROP TABLE users;\n");
    assert_corrupt_at(&check_patch(&patch, &[]), "7");
}

#[test]
fn diff_git_names_that_disagree_with_the_file_headers_are_refused() {
    let patch = "diff --git a/README.md b/README.md\n--- a/db/migrate/001.sql\n+++ b/db/migrate/001.sql\n@@ -1 +1 @@\n-a\n+DROP TABLE users;\n";
    assert_corrupt_at(&check_patch(patch, &[]), "2");
}

#[test]
fn empty_standard_input_is_not_no_findings() {
    let run = check_patch("", &[]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("stdin is empty"), "{run:?}");
    assert!(
        run.stderr.contains("--allow-empty"),
        "names the way to mean it: {run:?}"
    );
    assert!(run.stdout.is_empty(), "{run:?}");
    // Said on purpose, an empty change passes.
    let allowed = check_patch("", &["--allow-empty"]);
    assert_eq!(allowed.code, 0, "{allowed:?}");
    // A whole, correct patch is still read.
    let ok = check_patch(
        &format!("{HEADER}@@ -1 +1,2 @@\n keep\n+DROP TABLE users;\n"),
        &["--format", "json"],
    );
    assert_ne!(ok.code, 2, "{ok:?}");
}
