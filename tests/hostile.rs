//! A catalogue of hostile repositories, each a real git repository built by the test. For each,
//! the exit code and what the user sees are asserted: a gate that crashes on an odd file blocks
//! every merge.

mod util;

use util::{MIGRATION, Repo, team_repo};

fn json(run: &util::Run) -> serde_json::Value {
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {run:?}"))
}

fn finding_paths(run: &util::Run, rule: &str) -> Vec<String> {
    json(run)["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule_id"] == rule)
        .map(|f| f["path"].as_str().unwrap_or("").to_string())
        .collect()
}

#[test]
fn binary_files_keep_path_rules_only() {
    let repo = team_repo();
    let mut bytes = vec![0u8; 4096];
    bytes.extend_from_slice(b"\nDROP TABLE hidden;\n");
    repo.write("sql/dump.sql", &bytes);
    let run = repo.forewarn(&["check", "--format", "json"]);
    // Its lines are not read, and that is said: an error, since migration rules watch the path.
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(finding_paths(&run, "team-new-sql"), vec!["sql/dump.sql"]);
    assert!(finding_paths(&run, "team-drop-table").is_empty(), "{run:?}");
    assert_eq!(
        finding_paths(&run, "content-not-checked"),
        vec!["sql/dump.sql"]
    );
}

#[test]
fn a_50_mb_single_line_file_finishes() {
    let repo = team_repo();
    let mut line = "x".repeat(50 * 1024 * 1024);
    line.push_str(" DROP TABLE never_at_line_start\n");
    repo.write("sql/huge.sql", line);
    repo.write("sql/small.sql", "DROP TABLE t;\n");
    let run = repo.forewarn(&["check", "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        finding_paths(&run, "team-drop-table"),
        vec!["sql/small.sql"]
    );
}

#[test]
fn a_pathological_regex_on_a_10_mb_line_finishes() {
    let repo = Repo::new();
    repo.write(
        ".forewarn/rules/slow.toml",
        r#"[[rule]]
id = "nested-quantifiers"
title = "Catastrophic backtracking in other engines"
severity = "error"
category = "test"
message = "{path}"
ask = "?"
[rule.match]
added = ['^(a+)+$', '(x+x+)+y', '(.*a){20}']
"#,
    );
    repo.commit("rule");
    repo.write("big.txt", format!("{}b\n", "a".repeat(10 * 1024 * 1024)));
    let run = repo.forewarn(&["check", "--base", "HEAD", "--format", "json"]);
    // the regex crate is linear-time: this finishes, and `(.*a){20}` matches
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(finding_paths(&run, "nested-quantifiers"), vec!["big.txt"]);
}

#[test]
fn one_hundred_thousand_tiny_files() {
    let repo = team_repo();
    for d in 0..100 {
        for f in 0..1000 {
            repo.write(&format!("many/d{d}/f{f}.txt"), "x\n");
        }
    }
    repo.write("sql/x.sql", "DROP TABLE x;\n");
    let run = repo.forewarn(&["check", "--color", "never"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let last = run.stdout.trim_end().lines().last().unwrap();
    assert!(last.contains("100001 files checked"), "{last}");
}

#[test]
fn odd_paths_non_utf8_newline_and_quotes() {
    use std::os::unix::ffi::OsStrExt;
    let repo = team_repo();
    std::fs::create_dir_all(repo.join("sql")).unwrap();
    let raw = std::ffi::OsStr::from_bytes(b"sql/latin1-\xe9.sql");
    std::fs::write(repo.path().join(raw), "DROP TABLE a;\n").unwrap();
    repo.write("sql/new\nline.sql", "DROP TABLE b;\n");
    repo.write("sql/\"quoted\" \\ back.sql", "DROP TABLE c;\n");
    let run = repo.forewarn(&["check", "--format", "json"]);
    assert_eq!(run.code, 1, "{run:?}");
    let paths = finding_paths(&run, "team-drop-table");
    assert_eq!(paths.len(), 3, "{paths:?}");
    assert!(
        paths.iter().any(|p| p.starts_with("sql/latin1-")),
        "{paths:?}"
    );
    assert!(paths.iter().any(|p| p == "sql/new\nline.sql"), "{paths:?}");
    assert!(
        paths.iter().any(|p| p == "sql/\"quoted\" \\ back.sql"),
        "{paths:?}"
    );
    // the human output never prints a raw newline or escape from a path
    let human = repo.forewarn(&["check", "--color", "never"]);
    assert!(!human.stdout.contains("sql/new\nline.sql"), "{human:?}");
}

#[test]
fn crlf_and_mixed_line_endings() {
    let repo = team_repo();
    repo.write(
        "sql/mixed.sql",
        "select 1;\r\nDROP TABLE a;\nselect 2;\r\nDROP TABLE b;\r\n",
    );
    let run = repo.forewarn(&["check", "--format", "json"]);
    let lines: Vec<(u64, String)> = json(&run)["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule_id"] == "team-drop-table")
        .map(|f| {
            (
                f["line"].as_u64().unwrap(),
                f["matched"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        lines,
        vec![(2, "DROP TABLE a;".into()), (4, "DROP TABLE b;".into())]
    );
}

#[test]
fn symlinks_and_symlink_loops() {
    let repo = team_repo();
    repo.write("sql/real.sql", "DROP TABLE real;\n");
    std::os::unix::fs::symlink("real.sql", repo.join("sql/link.sql")).unwrap();
    std::os::unix::fs::symlink("loop-b", repo.join("loop-a")).unwrap();
    std::os::unix::fs::symlink("loop-a", repo.join("loop-b")).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", repo.join("sql/outside.sql")).unwrap();
    let run = repo.forewarn(&["check", "--format", "json"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(finding_paths(&run, "team-drop-table").contains(&"sql/real.sql".to_string()));
    repo.commit("links");
    let committed = repo.forewarn(&["check", "--base", "main", "--head", "HEAD"]);
    assert_eq!(committed.code, 1, "{committed:?}");
}

#[test]
fn submodules_do_not_crash() {
    let sub = Repo::new();
    let repo = team_repo();
    let url = format!("file://{}", sub.path().display());
    repo.git(&["submodule", "add", "-q", &url, "vendor/sub"]);
    repo.write("sql/x.sql", "DROP TABLE x;\n");
    let run = repo.forewarn(&["check"]);
    assert_eq!(run.code, 1, "{run:?}");
    repo.commit("submodule");
    let run = repo.forewarn(&[
        "check", "--base", "main", "--head", "HEAD", "--format", "json",
    ]);
    assert_eq!(run.code, 1, "{run:?}");
}

#[test]
fn lfs_pointer_files_are_reported_not_read_as_content() {
    let repo = team_repo();
    repo.write(
        "sql/big.sql",
        "version https://git-lfs.github.com/spec/v1\noid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 12345\n",
    );
    let run = repo.forewarn(&["check", "--format", "json"]);
    // The pointer is not the migration: its content is in LFS storage, and that is said.
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(finding_paths(&run, "team-new-sql"), vec!["sql/big.sql"]);
    assert_eq!(
        finding_paths(&run, "content-not-checked"),
        vec!["sql/big.sql"]
    );
    assert!(run.stdout.contains("Git LFS pointer"), "{run:?}");
}

#[test]
fn empty_repository_with_nothing_at_all() {
    let repo = Repo::empty();
    let run = repo.forewarn(&["check"]);
    assert_eq!(run.code, 0, "{run:?}");
    let staged = repo.forewarn(&["check", "--staged"]);
    assert_eq!(staged.code, 0, "{staged:?}");
    let range = repo.forewarn(&["check", "--base", "main", "--head", "HEAD"]);
    assert_eq!(range.code, 2, "{range:?}");
    assert!(
        range.stderr.contains("main"),
        "names the missing ref: {range:?}"
    );
}

#[test]
fn a_merge_commit_range() {
    let repo = team_repo();
    repo.write("sql/a.sql", "DROP TABLE a;\n");
    repo.commit("a");
    repo.git(&["checkout", "-q", "main"]);
    repo.write("other.txt", "x\n");
    repo.commit("main moves on");
    repo.git(&["checkout", "-q", "feature"]);
    repo.git(&["merge", "-q", "--no-edit", "main"]);
    let run = repo.forewarn(&[
        "check", "--base", "main", "--head", "HEAD", "--format", "json",
    ]);
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(finding_paths(&run, "team-drop-table"), vec!["sql/a.sql"]);
    // what main brought in is not part of the change
    let all: Vec<String> = json(&run)["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["path"].as_str().map(str::to_string))
        .collect();
    assert!(!all.contains(&"other.txt".to_string()), "{all:?}");
}

#[test]
fn a_renamed_migration_and_a_deleted_then_readded_file() {
    let repo = Repo::new();
    repo.write("app/migrations/0001_initial.py", MIGRATION);
    repo.commit("m");
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo.git(&[
        "mv",
        "app/migrations/0001_initial.py",
        "app/migrations/0001_renamed.py",
    ]);
    repo.commit("rename");
    let run = repo.forewarn(&[
        "check", "--base", "main", "--head", "HEAD", "--format", "json",
    ]);
    assert!(
        finding_paths(&run, "new-migration-needs-deploy-step").is_empty(),
        "a rename is not a new migration: {run:?}"
    );

    let repo = team_repo();
    repo.write("sql/x.sql", "select 1;\n");
    repo.commit("x");
    repo.remove("sql/x.sql");
    repo.commit("remove x");
    repo.write("sql/x.sql", "DROP TABLE x;\n");
    repo.commit("x again");
    let run = repo.forewarn(&[
        "check", "--base", "main", "--head", "HEAD", "--format", "json",
    ]);
    assert_eq!(finding_paths(&run, "team-drop-table"), vec!["sql/x.sql"]);
}

#[test]
fn every_error_class_says_what_where_and_how() {
    let repo = Repo::new();
    // Each error: exit 2, drawn as `error: ...`, names where (the ref or file), and a help line.
    let expect_error = |args: &[&str], names: &str| {
        let run = repo.forewarn(args);
        assert_eq!(run.code, 2, "{run:?}");
        assert!(
            run.stderr.starts_with("error"),
            "not a bare library message: {run:?}"
        );
        assert!(run.stderr.contains(names), "names {names}: {run:?}");
        assert!(run.stderr.contains("help:"), "says how to fix it: {run:?}");
    };
    expect_error(
        &["check", "--base", "no-such-ref", "--head", "HEAD"],
        "no-such-ref",
    );
    expect_error(&["check", "--patch", "missing.patch"], "missing.patch");
    repo.write("notes.txt", "hello\n");
    expect_error(&["check", "--patch", "notes.txt"], "notes.txt");
    expect_error(
        &["check", "--output", "/nonexistent-dir/x.json"],
        "/nonexistent-dir/x.json",
    );
    expect_error(&["check", "--rules-from", "no-such-rev"], "no-such-rev");
    repo.write("forewarn.toml", b"base = \"\xff\"\n".as_slice());
    expect_error(&["check"], "forewarn.toml");
}

#[test]
fn an_unwritable_ledger_is_a_clear_error_and_nothing_is_half_written() {
    let repo = team_repo();
    // A file where the ledger folder should be: creating the folder fails even for root,
    // which ignores read-only permissions.
    repo.write(
        "forewarn.toml",
        "ledger = \"ledger-is-a-file\"\n[rules]\nbuiltin = false\n",
    );
    repo.write("ledger-is-a-file", "not a folder\n");
    repo.write("sql/x.sql", "DROP TABLE x;\n");
    let run = repo.forewarn(&["check", "--record"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("ledger-is-a-file"), "{run:?}");
    assert!(run.stderr.contains("help:"), "{run:?}");
    assert_eq!(
        std::fs::read_to_string(repo.join("ledger-is-a-file")).unwrap(),
        "not a folder\n"
    );
}

#[test]
fn a_corrupt_pack_is_an_error_not_a_crash_and_packed_objects_read_as_loose_ones_do() {
    let repo = Repo::new();
    let workloads = |strategy: &str| {
        for i in 0..30 {
            repo.write(
                &format!("deploy/d{i}.yaml"),
                format!("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app{i}\nspec:\n  replicas: 2\n{strategy}"),
            );
        }
    };
    workloads("");
    repo.commit("workloads");
    workloads("  strategy:\n    type: Recreate\n");
    repo.commit("recreate");
    let recreate = |found: &[serde_json::Value]| {
        found
            .iter()
            .filter(|f| f["rule_id"] == "k8s-recreate-strategy")
            .count()
    };
    // Loose objects (libgit2 reads them), then the same objects packed (gitoxide reads them).
    let loose = repo.head_findings();
    assert_eq!(recreate(&loose), 30, "{loose:?}");
    repo.git(&["gc", "-q", "--prune=now"]);
    let packed = repo.head_findings();
    assert_eq!(packed, loose);
    // Bytes of the pack overwritten: neither reader can inflate them.
    let pack_dir = repo.join(".git/objects/pack");
    let pack = std::fs::read_dir(&pack_dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "pack"))
        .expect("a pack");
    let mut bytes = std::fs::read(&pack).unwrap();
    // The middle half: past the header, before the checksum, over most objects.
    let (from, to) = (bytes.len() / 4, bytes.len() * 3 / 4);
    for b in &mut bytes[from..to] {
        *b ^= 0x5a;
    }
    let mut perms = std::fs::metadata(&pack).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    std::fs::set_permissions(&pack, perms).unwrap();
    std::fs::write(&pack, bytes).unwrap();
    let corrupt = repo.check_head();
    assert_eq!(corrupt.code, 2, "{corrupt:?}");
    assert!(!corrupt.stderr.contains("panicked"), "{corrupt:?}");
    assert!(corrupt.stderr.contains("error:"), "{corrupt:?}");
}
