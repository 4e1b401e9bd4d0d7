//! The other commands, and rule/config errors, through the real binary.

mod util;

use util::{Repo, TEAM_RULES, run_in};

fn with_rules(text: &str) -> Repo {
    let repo = Repo::new();
    repo.write(".forewarn/rules/team.toml", text);
    repo
}

#[test]
fn malformed_toml_names_file_line_and_column() {
    let repo = with_rules("[[rule]]\nid = \"x\"\ntitle = \n");
    let run = repo.forewarn(&["check"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains(".forewarn/rules/team.toml:3:"),
        "{run:?}"
    );
    assert!(run.stderr.contains("help:"), "{run:?}");
}

#[test]
fn bad_regex_and_unknown_key_are_all_reported() {
    let bad = TEAM_RULES
        .replace(r"'(?i)^\s*drop\s+table'", "'(?i)drop(table'")
        .replace("status = [\"added\"]", "statuses = [\"added\"]");
    let repo = with_rules(&bad);
    let run = repo.forewarn(&["validate"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("unknown field `statuses`"), "{run:?}");
    assert!(run.stderr.contains(".forewarn/rules/team.toml:"), "{run:?}");

    let only_regex = TEAM_RULES.replace(r"'(?i)^\s*drop\s+table'", "'(?i)drop(table'");
    let run = with_rules(&only_regex).forewarn(&["check"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("invalid regex"), "{run:?}");
    assert!(
        run.stderr.contains(".forewarn/rules/team.toml:12:"),
        "{run:?}"
    );
}

#[test]
fn duplicate_id_with_a_builtin_rule() {
    let dup = TEAM_RULES.replace("team-new-sql", "new-migration-needs-deploy-step");
    let run = with_rules(&dup).forewarn(&["validate"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr
            .contains("duplicate rule id `new-migration-needs-deploy-step`"),
        "{run:?}"
    );
    assert!(
        run.stderr.contains("builtin:rules/migrations.toml"),
        "{run:?}"
    );
}

#[test]
fn config_errors_and_config_that_names_no_rule() {
    let repo = Repo::new();
    repo.write(
        "forewarn.toml",
        "[[component]]\nname = \"api\"\npaths = [\"api/**\"]\nrollout = \"sometimes\"\n",
    );
    let run = repo.forewarn(&["check"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("forewarn.toml:4:"), "{run:?}");

    repo.write("forewarn.toml", "[rules]\ndisable = [\"no-such-rule\"]\n");
    let run = repo.forewarn(&["validate"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stderr.contains("no-such-rule"), "{run:?}");
}

#[test]
fn config_disables_and_changes_severity() {
    let repo = with_rules(TEAM_RULES);
    repo.write(
        "forewarn.toml",
        "[rules]\nbuiltin = false\ndisable = [\"team-new-sql\"]\n[rules.severity]\nteam-drop-table = \"note\"\n",
    );
    repo.commit("rules");
    repo.write("sql/a.sql", "DROP TABLE a;\n");
    let run = repo.forewarn(&["check", "--base", "HEAD"]);
    assert_eq!(
        run.code, 0,
        "a note does not fail the default gate: {run:?}"
    );
    assert!(run.stdout.contains("team-drop-table"), "{run:?}");
    assert!(!run.stdout.contains("team-new-sql"), "{run:?}");
    let rules = repo.forewarn(&["rules"]);
    assert!(rules.stdout.contains("team-drop-table"), "{rules:?}");
    assert!(!rules.stdout.contains("team-new-sql"), "{rules:?}");
    assert!(
        rules.stdout.contains(".forewarn/rules/team.toml:2"),
        "{rules:?}"
    );
}

#[test]
fn explain_prints_what_why_and_how_to_acknowledge() {
    let repo = Repo::new();
    let run = repo.forewarn(&["explain", "new-migration-needs-deploy-step"]);
    assert_eq!(run.code, 0, "{run:?}");
    for part in [
        "What matches",
        "Forewarn-Ack: new-migration-needs-deploy-step:",
        "--ack new-migration-needs-deploy-step=",
    ] {
        assert!(run.stdout.contains(part), "{part}: {run:?}");
    }
    let missing = repo.forewarn(&["explain", "new-migration"]);
    assert_eq!(missing.code, 2, "{missing:?}");
    assert!(
        missing.stderr.contains("new-migration-needs-deploy-step"),
        "suggests the near id: {missing:?}"
    );
}

#[test]
fn test_command_runs_builtin_examples_and_reports_failures() {
    let repo = Repo::new();
    let run = repo.forewarn(&["test"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains(" 0 failed"), "{run:?}");

    let wrong = format!(
        "{TEAM_RULES}\n[[rule.example]]\nname = \"select is not a drop\"\nexpect = \"fire\"\ndiff = \"\"\"\ndiff --git a/sql/x.sql b/sql/x.sql\n--- a/sql/x.sql\n+++ b/sql/x.sql\n@@ -1 +1 @@\n-select 0;\n+select 1;\n\"\"\"\n"
    );
    let repo = with_rules(&wrong);
    let run = repo.forewarn(&["test", "team-new-sql"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stdout
            .contains("FAILED  team-new-sql · select is not a drop"),
        "{run:?}"
    );
    assert!(
        run.stdout
            .contains("expected the rule to fire, but it passed"),
        "{run:?}"
    );
}

#[test]
fn demo_shows_the_finding_then_the_acknowledgement() {
    let dir = tempfile::tempdir().unwrap();
    let run = run_in(dir.path(), &["demo"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.contains("new-migration-needs-deploy-step"),
        "{run:?}"
    );
    assert!(run.stdout.contains("the gate fails"), "{run:?}");
    assert!(run.stdout.contains("the gate passes"), "{run:?}");
    assert!(run.stdout.contains("release checklist step 2"), "{run:?}");
    // The whole loop: the rule linked to the record's finding, recorded on the ledger ref, the
    // next push resolving it before merge, and the report counting it.
    assert!(
        run.stdout
            .contains("= lesson: 2019-07-payments-config-missing#F1"),
        "{run:?}"
    );
    assert!(
        run.stdout
            .contains("on refs/forewarn/ledger for pull request #42"),
        "{run:?}"
    );
    assert!(
        run.stdout.contains(
            "- F1: `payments-setting-ships-with-the-change` fired on 1 change: 0 acknowledged, 1 resolved before merge"
        ),
        "{run:?}"
    );
}

#[test]
fn rules_from_a_revision_ignores_working_tree_edits() {
    let repo = with_rules(TEAM_RULES);
    repo.write("forewarn.toml", "[rules]\nbuiltin = false\n");
    repo.commit("rules");
    // the change under review tries to switch its own gate off
    repo.write(
        "forewarn.toml",
        "[rules]\nbuiltin = false\ndisable = [\"team-drop-table\"]\n",
    );
    repo.write("sql/a.sql", "DROP TABLE a;\n");
    assert_eq!(repo.forewarn(&["check", "--base", "HEAD"]).code, 0);
    let gated = repo.forewarn(&["check", "--base", "HEAD", "--rules-from", "HEAD"]);
    assert_eq!(gated.code, 1, "{gated:?}");
    assert!(gated.stdout.contains("team-drop-table"), "{gated:?}");
    let bad = repo.forewarn(&["check", "--rules-from", "nope"]);
    assert_eq!(bad.code, 2, "{bad:?}");
    assert!(bad.stderr.contains("nope"), "{bad:?}");
}
