//! `forewarn check` end to end: every input mode, acknowledgement path and exit code, on real
//! repositories built in temp dirs, run through the real binary.

mod util;

use util::{MIGRATION, Repo, TEAM_RULES, run_in, run_with_stdin, team_repo};

#[test]
fn default_input_sees_commits_staged_unstaged_and_untracked() {
    let repo = team_repo();
    repo.write("sql/committed.sql", "select 1;\n");
    repo.commit("committed");
    repo.write("sql/staged.sql", "select 2;\n");
    repo.git(&["add", "sql/staged.sql"]);
    repo.write("sql/untracked.sql", "DROP TABLE users;\n");
    let run = repo.forewarn(&["check"]);
    assert_eq!(run.code, 1, "{run:?}");
    for path in ["sql/committed.sql", "sql/staged.sql", "sql/untracked.sql"] {
        assert!(run.stdout.contains(path), "{path} missing: {run:?}");
    }
    assert!(run.stdout.contains("team-drop-table"), "{run:?}");
    assert!(run.stdout.contains("drops a table (DROP TABLE)"), "{run:?}");
    assert!(
        run.stdout
            .contains("Has every reader of this table stopped reading it?"),
        "{run:?}"
    );
    assert!(
        run.stdout.contains("2019-07-payments-config-missing#F2"),
        "{run:?}"
    );
}

#[test]
fn ignored_files_are_not_checked() {
    let repo = team_repo();
    repo.write(".gitignore", "build/\n");
    repo.write("build/sql/x.sql", "DROP TABLE t;\n");
    let run = repo.forewarn(&["check"]);
    assert!(!run.stdout.contains("build/sql/x.sql"), "{run:?}");
}

#[test]
fn range_staged_and_commit_inputs() {
    let repo = team_repo();
    repo.write("sql/one.sql", "DROP TABLE one;\n");
    let one = repo.commit("one");
    repo.write("sql/two.sql", "select 2;\n");
    repo.commit("two");
    repo.write("sql/three.sql", "DROP TABLE three;\n");
    repo.git(&["add", "sql/three.sql"]);

    let range = repo.forewarn(&["check", "--base", "main", "--head", "HEAD"]);
    assert_eq!(range.code, 1, "{range:?}");
    assert!(range.stdout.contains("sql/one.sql") && range.stdout.contains("sql/two.sql"));
    assert!(!range.stdout.contains("sql/three.sql"), "{range:?}");

    let staged = repo.forewarn(&["check", "--staged"]);
    assert!(staged.stdout.contains("sql/three.sql"), "{staged:?}");
    assert!(!staged.stdout.contains("sql/one.sql"), "{staged:?}");

    let commit = repo.forewarn(&["check", "--commit", &one]);
    assert!(commit.stdout.contains("sql/one.sql"), "{commit:?}");
    assert!(!commit.stdout.contains("sql/two.sql"), "{commit:?}");
}

#[test]
fn patch_from_file_and_stdin_outside_a_repository() {
    let repo = team_repo();
    repo.write("sql/x.sql", "-- clean up\nDROP TABLE legacy;\n");
    repo.git(&["add", "-A"]);
    let patch = repo.git(&["diff", "--cached"]) + "\n";
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("change.patch"), &patch).unwrap();
    std::fs::write(
        outside.path().join("forewarn.toml"),
        "[rules]\nbuiltin = false\n",
    )
    .unwrap();
    std::fs::create_dir_all(outside.path().join(".forewarn/rules")).unwrap();
    std::fs::write(outside.path().join(".forewarn/rules/team.toml"), TEAM_RULES).unwrap();

    let from_file = run_in(outside.path(), &["check", "--patch", "change.patch"]);
    assert_eq!(from_file.code, 1, "{from_file:?}");
    assert!(from_file.stdout.contains("sql/x.sql:2"), "{from_file:?}");

    let from_stdin = run_with_stdin(outside.path(), &["check", "--patch", "-"], patch.as_bytes());
    assert_eq!(from_stdin.code, 1, "{from_stdin:?}");
    assert!(
        from_stdin.stdout.contains("team-drop-table"),
        "{from_stdin:?}"
    );
}

#[test]
fn exit_codes_follow_the_gate() {
    let repo = team_repo();
    // nothing changed: 0
    let clean = repo.forewarn(&["check"]);
    assert_eq!(clean.code, 0, "{clean:?}");
    // a warning only: passes the default gate, fails --fail-on warning
    repo.write("sql/new.sql", "select 1;\n");
    assert_eq!(repo.forewarn(&["check"]).code, 0);
    assert_eq!(repo.forewarn(&["check", "--fail-on", "warning"]).code, 1);
    assert_eq!(repo.forewarn(&["check", "--fail-on", "note"]).code, 1);
    // an error: fails unless the gate is off
    repo.write("sql/new.sql", "DROP TABLE t;\n");
    assert_eq!(repo.forewarn(&["check"]).code, 1);
    assert_eq!(repo.forewarn(&["check", "--fail-on", "never"]).code, 0);
    // usage error: 2
    assert_eq!(repo.forewarn(&["check", "--fail-on", "sometimes"]).code, 2);
    assert_eq!(
        repo.forewarn(&["check", "--base", "no-such-branch"]).code,
        2
    );
}

#[test]
fn summary_line_counts_findings_and_files() {
    let repo = team_repo();
    repo.write("sql/a.sql", "DROP TABLE a;\n");
    repo.write("sql/b.sql", "select 1;\n");
    let run = repo.forewarn(&["check", "--color", "never"]);
    let last = run.stdout.trim_end().lines().last().unwrap();
    assert!(last.contains("1 error"), "{last}");
    assert!(last.contains("2 warnings"), "{last}");
    assert!(last.contains("2 files checked"), "{last}");
    assert!(
        !run.stdout.contains('\u{1b}'),
        "no colour when piped: {run:?}"
    );
}

#[test]
fn acknowledgement_by_commit_trailer() {
    let repo = team_repo();
    repo.write("sql/x.sql", "DROP TABLE x;\n");
    repo.git(&["add", "-A"]);
    repo.git(&[
        "commit",
        "-q",
        "-m",
        "Drop x\n\nForewarn-Ack: team-drop-table: x has had no readers since 4.1\nForewarn-Ack: team-new-sql: run by the release job",
    ]);
    let run = repo.forewarn(&["check"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.contains("x has had no readers since 4.1"),
        "{run:?}"
    );
    assert!(run.stdout.contains("2 acknowledged"), "{run:?}");
}

#[test]
fn acknowledgement_without_reason_is_refused() {
    let repo = team_repo();
    repo.write("sql/x.sql", "DROP TABLE x;\n");
    repo.git(&["add", "-A"]);
    repo.git(&[
        "commit",
        "-q",
        "-m",
        "Drop x\n\nForewarn-Ack: team-drop-table",
    ]);
    let run = repo.forewarn(&["check"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stdout.contains("has no reason"), "{run:?}");

    let cli = repo.forewarn(&["check", "--ack", "team-drop-table"]);
    assert_eq!(cli.code, 2, "{cli:?}");
    assert!(cli.stderr.contains("has no reason"), "{cli:?}");
    assert!(cli.stderr.contains("--ack team-drop-table=\""), "{cli:?}");
}

#[test]
fn acknowledgement_by_pull_request_body() {
    let repo = team_repo();
    repo.write("sql/x.sql", "DROP TABLE x;\n");
    let event = repo.join("event.json");
    std::fs::write(
        &event,
        r#"{"pull_request": {"number": 12, "body": "Drops x.\r\n\r\nForewarn-Ack: team-drop-table: no readers since 4.1\r\nForewarn-Ack: team-new-sql: release job runs it"}}"#,
    )
    .unwrap();
    let out = util::forewarn_cmd(repo.path())
        .args(["check"])
        .env("GITHUB_EVENT_PATH", &event)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("no readers since 4.1"), "{stdout}");
}

#[test]
fn acknowledgement_inline_on_or_above_the_line() {
    let repo = team_repo();
    repo.write(
        "sql/x.sql",
        "-- forewarn-ack: team-drop-table x was emptied in 4.1\nDROP TABLE x;\nDROP TABLE y; -- forewarn-ack: team-drop-table y too\nselect 1;\nDROP TABLE z;\n",
    );
    let run = repo.forewarn(&["check", "--ack", "team-new-sql=release job"]);
    assert_eq!(run.code, 1, "z is not acknowledged: {run:?}");
    assert!(run.stdout.contains("x was emptied in 4.1"), "{run:?}");
    assert!(run.stdout.contains("y too"), "{run:?}");
    assert!(run.stdout.contains("3 acknowledged"), "{run:?}");
    assert!(run.stdout.contains("1 error"), "{run:?}");
}

#[test]
fn acknowledgement_on_command_line_and_unused_ones() {
    let repo = team_repo();
    repo.write("sql/x.sql", "DROP TABLE x;\n");
    let run = repo.forewarn(&[
        "check",
        "--ack",
        "team-drop-table=no readers",
        "--ack",
        "team-new-sql=release job",
        "--ack",
        "team-drop-tabel=typo",
    ]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.contains("team-drop-tabel"),
        "unused ack reported: {run:?}"
    );
}

#[test]
fn builtin_migration_rule_fires_and_a_renamed_migration_does_not() {
    let repo = Repo::new();
    repo.write("payments/migrations/0001_initial.py", MIGRATION);
    repo.commit("initial migration");
    repo.git(&["checkout", "-q", "-b", "release"]);
    repo.write("payments/migrations/0002_gateway_config.py", MIGRATION);
    let run = repo.forewarn(&["check"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stdout.contains("new-migration-needs-deploy-step"),
        "{run:?}"
    );

    repo.remove("payments/migrations/0002_gateway_config.py");
    repo.git(&[
        "mv",
        "payments/migrations/0001_initial.py",
        "payments/migrations/0001_first.py",
    ]);
    let renamed = repo.forewarn(&["check"]);
    assert!(
        !renamed.stdout.contains("new-migration-needs-deploy-step"),
        "a renamed migration is not a new one: {renamed:?}"
    );
}

#[test]
fn global_component_and_component_spread() {
    let repo = Repo::new();
    repo.write(
        "forewarn.toml",
        r#"max_components_per_change = 2
[[component]]
name = "edge"
paths = ["edge/**"]
rollout = "global"
[[component]]
name = "api"
paths = ["api/**"]
rollout = "staged"
[[component]]
name = "web"
paths = ["web/**"]
rollout = "staged"
"#,
    );
    repo.commit("config");
    repo.git(&["checkout", "-q", "-b", "wide"]);
    repo.write("edge/nginx.conf", "x\n")
        .write("api/a.py", "x\n")
        .write("web/a.js", "x\n");
    let run = repo.forewarn(&["check", "--fail-on", "never", "--format", "json"]);
    assert_eq!(run.code, 0, "{run:?}");
    let json: serde_json::Value = serde_json::from_str(&run.stdout).expect("json output");
    let ids: Vec<&str> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule_id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"global-component-all-at-once"), "{ids:?}");
    assert!(ids.contains(&"change-spans-many-components"), "{ids:?}");
}

#[test]
fn binary_crlf_and_non_utf8_do_not_crash() {
    let repo = team_repo();
    repo.write(
        "sql/blob.sql",
        b"\x00\x01\x02DROP TABLE bin;\x00".as_slice(),
    );
    repo.write("sql/crlf.sql", "select 1;\r\nDROP TABLE crlf;\r\n");
    repo.write(
        "sql/latin1.sql",
        b"-- caf\xe9\nDROP TABLE latin;\n".as_slice(),
    );
    repo.write("sql/caf\u{e9} \u{1F600}.sql", "DROP TABLE emoji;\n");
    let run = repo.forewarn(&["check", "--format", "json"]);
    assert_eq!(run.code, 1, "{run:?}");
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let drops: Vec<(String, Option<u64>, String)> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule_id"] == "team-drop-table")
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["line"].as_u64(),
                f["matched"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    // the binary file keeps its path rule (team-new-sql) but not the line rule
    assert!(!drops.iter().any(|d| d.0 == "sql/blob.sql"), "{drops:?}");
    assert!(
        drops.contains(&("sql/crlf.sql".into(), Some(2), "DROP TABLE crlf;".into())),
        "{drops:?}"
    );
    assert!(
        drops
            .iter()
            .any(|d| d.0 == "sql/latin1.sql" && d.1 == Some(2)),
        "{drops:?}"
    );
    assert!(drops.iter().any(|d| d.0.contains("caf\u{e9}")), "{drops:?}");
    assert!(
        run.stdout.contains("sql/blob.sql"),
        "path rule still applies: {run:?}"
    );
}

#[test]
fn not_a_repository_and_shallow_clone_explain_the_fix() {
    let outside = tempfile::tempdir().unwrap();
    let run = run_in(outside.path(), &["check"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("--patch -"), "{run:?}");

    let origin = Repo::new();
    for i in 0..3 {
        origin.write("f.txt", format!("{i}\n"));
        origin.commit(&format!("c{i}"));
    }
    origin.git(&["checkout", "-q", "-b", "feature", "HEAD~2"]);
    origin.write("g.txt", "x\n");
    origin.commit("feature work");
    let clone_dir = tempfile::tempdir().unwrap();
    let url = format!("file://{}", origin.path().display());
    util::git_in(
        clone_dir.path(),
        &[
            "clone",
            "-q",
            "--depth",
            "1",
            "--no-single-branch",
            &url,
            "c",
        ],
    );
    let clone = clone_dir.path().join("c");
    util::git_in(&clone, &["checkout", "-q", "feature"]);
    let run = run_in(
        &clone,
        &["check", "--base", "origin/main", "--head", "HEAD"],
    );
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("fetch-depth: 0"), "{run:?}");
    assert!(run.stderr.contains("git fetch --unshallow"), "{run:?}");
}

#[test]
fn empty_repository_and_detached_head() {
    let empty = Repo::empty();
    empty.write(
        "db/migrate/20240101000000_create_users.rb",
        "class CreateUsers < ActiveRecord::Migration[7.1]\nend\n",
    );
    let run = empty.forewarn(&["check"]);
    assert!(run.code == 0 || run.code == 1, "{run:?}");
    assert!(
        run.stdout
            .contains("db/migrate/20240101000000_create_users.rb"),
        "{run:?}"
    );

    let repo = team_repo();
    repo.write("sql/a.sql", "DROP TABLE a;\n");
    repo.commit("a");
    repo.git(&["checkout", "-q", "--detach", "HEAD"]);
    let run = repo.forewarn(&["check", "--base", "main"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stdout.contains("sql/a.sql"), "{run:?}");
}

#[test]
fn commit_input_sees_nested_folders_and_an_empty_commit_changes_nothing() {
    let repo = team_repo();
    repo.write("a/b/c/old.sql", "select 1;\n")
        .write("z/keep.txt", "x\n");
    repo.commit("nested");
    repo.write("a/b/c/old.sql", "DROP TABLE deep;\n")
        .write("sql/new/x.sql", "select 2;\n");
    repo.remove("z/keep.txt");
    let changed = repo.commit("edit nested, add a folder, remove a folder");
    let run = repo.forewarn(&["check", "--commit", &changed, "--format", "json"]);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    assert_eq!(json["summary"]["files_checked"], 3, "{run:?}");
    assert!(
        run.stdout.contains("a/b/c/old.sql") && run.stdout.contains("sql/new/x.sql"),
        "{run:?}"
    );

    let empty = repo.commit("nothing");
    let run = repo.forewarn(&["check", "--commit", &empty, "--format", "json"]);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    assert_eq!(json["summary"]["files_checked"], 0, "{run:?}");
    assert_eq!(run.code, 0, "{run:?}");
}

/// JSON on stdout is written as it is serialized; `--output` and `--json-file` render it in
/// memory first. All three must be the same document, and a reader that stops early (`| head`)
/// must not turn into an error.
#[test]
fn json_streamed_to_stdout_is_the_document_written_to_files() {
    let repo = team_repo();
    repo.git(&["checkout", "-q", "-b", "many"]);
    let statements: String = (0..2_000).map(|i| format!("DROP TABLE t{i};\n")).collect();
    repo.write("migrations/V2__drop.sql", statements);
    repo.commit("drop many");
    let args = [
        "check",
        "--base",
        "main",
        "--head",
        "many",
        "--fail-on",
        "never",
    ];
    let streamed = repo.forewarn(&[&args[..], &["--format", "json"]].concat());
    assert_eq!(streamed.code, 0, "{streamed:?}");
    let out = repo.join("out.json");
    let side = repo.join("side.json");
    let to_file = repo.forewarn(
        &[
            &args[..],
            &[
                "--format",
                "json",
                "--output",
                out.to_str().unwrap(),
                "--json-file",
                side.to_str().unwrap(),
            ],
        ]
        .concat(),
    );
    assert_eq!(to_file.code, 0, "{to_file:?}");
    let written = std::fs::read_to_string(&out).unwrap();
    let parse =
        |text: &str| -> serde_json::Value { serde_json::from_str(text).expect("valid JSON") };
    let doc = parse(&streamed.stdout);
    assert!(
        doc["findings"].as_array().unwrap().len() >= 2_000,
        "{}",
        doc["summary"]
    );
    assert_eq!(streamed.stdout, written, "byte for byte");
    assert_eq!(doc, parse(&std::fs::read_to_string(&side).unwrap()));
    assert!(streamed.stdout.ends_with("}\n"));

    // A reader that closes the pipe after the first bytes.
    let mut child = util::forewarn_cmd(repo.path())
        .args([&args[..], &["--format", "json"]].concat())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 16];
    std::io::Read::read_exact(child.stdout.as_mut().unwrap(), &mut first).unwrap();
    drop(child.stdout.take());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "a closed pipe is not an error");
}
