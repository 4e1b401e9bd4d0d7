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
    // The combined limit is far above one pattern's (a team with hundreds of rules fits), so it
    // takes many wide patterns to pass it.
    let rules: String = (0..24)
        .map(|i| rule_file(&format!("wide-{i}"), &format!(r"\w{{200}}x{i}")))
        .collect();
    let repo = repo_with_rules(&rules);
    for args in [&["validate"][..], &["test"], &["check", "--base", "main"]] {
        let run = repo.forewarn(args);
        assert_eq!(run.code, 2, "{args:?}: {run:?}");
        assert!(
            run.stderr.contains(".forewarn/rules/team.toml:"),
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

// --- content not read as text is reported, never passed -------------------------------------

/// Team rules only: a migration rule on `db/**` and a config rule on `config/**`, both reading
/// lines, and a line rule with no paths (which watches no path of its own).
const WATCHING_RULES: &str = r#"
[[rule]]
id = "drop-table"
title = "Dropping a table"
severity = "error"
category = "migration"
message = "{path}:{line} drops a table."
ask = "Has every reader stopped?"
[rule.match]
paths = ["db/**"]
added = ['(?i)drop\s+table']

[[rule]]
id = "config-secret"
title = "A secret in config"
severity = "warning"
category = "config"
message = "{path}:{line}"
ask = "?"
[rule.match]
paths = ["config/**"]
added = ['(?i)password']

[[rule]]
id = "anywhere"
title = "Anywhere"
severity = "note"
category = "process"
message = "{path}"
ask = "?"
[rule.match]
added = ['FIXME']
"#;

/// A repository with [`WATCHING_RULES`] on `main` and branch `feature` checked out.
fn watched_repo() -> Repo {
    let repo = Repo::new();
    repo.write("forewarn.toml", "[rules]\nbuiltin = false\n")
        .write(".forewarn/rules/team.toml", WATCHING_RULES);
    repo.commit("rules");
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo
}

fn check_json(repo: &Repo, extra: &[&str]) -> util::Run {
    let mut args = vec!["check", "--format", "json"];
    args.extend_from_slice(extra);
    repo.forewarn(&args)
}

/// The one `content-not-checked` finding of a run: (path, severity, message).
fn not_checked(run: &util::Run) -> Vec<(String, String, String)> {
    findings(run, "content-not-checked")
}

fn assert_not_checked(run: &util::Run, path: &str, severity: &str, reason: &str) {
    let found = not_checked(run);
    assert_eq!(found.len(), 1, "{run:?}");
    let (p, s, message) = &found[0];
    assert_eq!((p.as_str(), s.as_str()), (path, severity), "{run:?}");
    assert!(
        message.contains(reason),
        "names the reason `{reason}`: {message}"
    );
}

#[test]
fn a_nul_byte_in_a_migration_is_an_error_naming_it() {
    let repo = watched_repo();
    let mut bytes = b"DROP TABLE users;\n".to_vec();
    bytes.extend_from_slice(&[0, 1, 2]);
    repo.write("db/001.sql", &bytes);
    // The working tree, then the same change committed (a range of stored blobs).
    let run = check_json(&repo, &["--base", "main"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert_not_checked(&run, "db/001.sql", "error", "NUL byte");
    assert!(
        run.stdout.contains("drop-table"),
        "names the rule that watches it: {run:?}"
    );
    repo.commit("binary migration");
    let run = check_json(&repo, &["--base", "main", "--head", "HEAD"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert_not_checked(&run, "db/001.sql", "error", "NUL byte");
    // Modified, binary on both sides.
    let mut more = bytes.clone();
    more.extend_from_slice(b"DROP TABLE orders;\n");
    repo.write("db/001.sql", &more);
    repo.commit("more");
    let run = check_json(&repo, &["--commit", "HEAD"]);
    assert_not_checked(&run, "db/001.sql", "error", "NUL byte");
}

#[test]
fn outside_migration_paths_it_is_a_warning_and_unwatched_paths_are_quiet() {
    let repo = watched_repo();
    repo.write("config/app.bin", b"password=1\0\0");
    repo.write("assets/logo.png", b"\x89PNG\0\0FIXME");
    repo.commit("binaries");
    let run = check_json(&repo, &["--base", "main", "--head", "HEAD"]);
    assert_eq!(
        run.code, 0,
        "a warning does not fail the default gate: {run:?}"
    );
    assert_not_checked(&run, "config/app.bin", "warning", "NUL byte");
    let warned = repo.forewarn(&[
        "check",
        "--base",
        "main",
        "--head",
        "HEAD",
        "--fail-on",
        "warning",
    ]);
    assert_eq!(warned.code, 1, "{warned:?}");
    assert!(warned.stdout.contains("content-not-checked"), "{warned:?}");
}

#[test]
fn gitattributes_binary_is_named_and_rules_from_reads_the_base_attributes() {
    let repo = watched_repo();
    repo.write(".gitattributes", "*.sql -diff\n");
    repo.write("db/002.sql", "DROP TABLE users;\n");
    repo.commit("hide the migration's lines");
    let run = check_json(&repo, &["--base", "main", "--head", "HEAD"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert_not_checked(&run, "db/002.sql", "error", "-diff");
    // The base's attributes decide with --rules-from: the lines are read and the rule fires.
    let run = check_json(
        &repo,
        &["--base", "main", "--head", "HEAD", "--rules-from", "main"],
    );
    assert_eq!(run.code, 1, "{run:?}");
    assert!(not_checked(&run).is_empty(), "{run:?}");
    assert_eq!(findings(&run, "drop-table").len(), 1, "{run:?}");
    // The same from the working tree.
    repo.write("db/003.sql", "drop table orders;\n");
    let run = check_json(&repo, &["--base", "main", "--rules-from", "main"]);
    assert_eq!(findings(&run, "drop-table").len(), 2, "{run:?}");
    // `binary` in the base's own attributes is named with the revision.
    repo.git(&["checkout", "-q", "main"]);
    repo.write(".gitattributes", "db/** binary\n");
    repo.commit("base marks db binary");
    repo.git(&["checkout", "-q", "-b", "other"]);
    repo.write("db/004.sql", "DROP TABLE x;\n");
    repo.commit("x");
    let run = check_json(
        &repo,
        &["--base", "main", "--head", "HEAD", "--rules-from", "main"],
    );
    assert_not_checked(&run, "db/004.sql", "error", "`binary`");
    assert!(not_checked(&run)[0].2.contains("of main"), "{run:?}");
}

fn utf16le(text: &str) -> Vec<u8> {
    let mut bytes = vec![0xFF, 0xFE];
    for unit in text.encode_utf16() {
        bytes.extend_from_slice(&unit.to_le_bytes());
    }
    bytes
}

#[test]
fn utf16_migrations_are_decoded_and_read() {
    let repo = watched_repo();
    repo.write(
        "db/010.sql",
        utf16le("CREATE TABLE t (id int);\r\nDROP TABLE users;\r\n"),
    );
    // New, in the working tree.
    let run = check_json(&repo, &["--base", "main"]);
    assert!(not_checked(&run).is_empty(), "{run:?}");
    let drops = findings(&run, "drop-table");
    assert_eq!(drops.len(), 1, "{run:?}");
    assert!(drops[0].2.contains("db/010.sql:2"), "at its line: {run:?}");
    // Committed, then modified (two stored blobs), then modified in the working tree.
    repo.commit("utf-16 migration");
    repo.write(
        "db/010.sql",
        utf16le("CREATE TABLE t (id int);\r\nDROP TABLE users;\r\nDROP TABLE orders;\r\n"),
    );
    let run = check_json(&repo, &["--base", "HEAD"]);
    let drops = findings(&run, "drop-table");
    assert_eq!(drops.len(), 1, "only the added line: {run:?}");
    assert!(drops[0].2.contains("db/010.sql:3"), "{run:?}");
    repo.commit("one more");
    let run = check_json(&repo, &["--commit", "HEAD"]);
    assert_eq!(findings(&run, "drop-table").len(), 1, "{run:?}");
    assert!(not_checked(&run).is_empty(), "{run:?}");
}

#[test]
fn binary_patches_are_reported() {
    // With the built-in packs: `db/migrate/` is a migration path their rules watch.
    let git_binary = "diff --git a/db/migrate/005.sql b/db/migrate/005.sql\nnew file mode 100644\nindex 0000000..1111111\nGIT binary patch\nliteral 5\nMcmZ?wabjR(0000\n\nliteral 0\nHcmV?d00001\n\n";
    let run = check_patch(git_binary, &["--format", "json"]);
    assert_eq!(run.code, 1, "an error in a migration path: {run:?}");
    assert_not_checked(&run, "db/migrate/005.sql", "error", "binary patch");
    let differ = "diff --git a/db/migrate/006.sql b/db/migrate/006.sql\nindex 1111111..2222222 100644\nBinary files a/db/migrate/006.sql and b/db/migrate/006.sql differ\n";
    let run = check_patch(differ, &["--format", "json"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert_not_checked(&run, "db/migrate/006.sql", "error", "binary patch");
    // A binary file no rule watches is no finding.
    let image = "diff --git a/docs/logo.png b/docs/logo.png\nindex 1111111..2222222 100644\nBinary files a/docs/logo.png and b/docs/logo.png differ\n";
    let run = check_patch(image, &["--format", "json"]);
    assert!(not_checked(&run).is_empty(), "{run:?}");
}

#[test]
fn lfs_pointers_submodules_and_files_over_the_size_limit_are_reported() {
    let repo = watched_repo();
    repo.write(
        "db/020.sql",
        "version https://git-lfs.github.com/spec/v1\noid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 12345\n",
    );
    let sub = Repo::new();
    repo.git(&[
        "-c",
        "protocol.file.allow=always",
        "submodule",
        "add",
        "-q",
        sub.path().to_str().unwrap(),
        "db/schema",
    ]);
    repo.git(&["config", "core.bigFileThreshold", "1k"]);
    repo.write(
        "db/030.sql",
        format!("DROP TABLE users;\n{}", "-- padding\n".repeat(200)),
    );
    repo.commit("pointer, submodule, large file");
    let run = check_json(&repo, &["--base", "main", "--head", "HEAD"]);
    assert_eq!(run.code, 1, "{run:?}");
    let found = not_checked(&run);
    let reason = |path: &str| {
        found
            .iter()
            .find(|(p, _, _)| p == path)
            .map(|(_, s, m)| (s.clone(), m.clone()))
            .unwrap_or_else(|| panic!("{path} reported: {run:?}"))
    };
    assert!(reason("db/020.sql").1.contains("Git LFS pointer"));
    assert!(reason("db/schema").1.contains("submodule"));
    assert!(reason("db/030.sql").1.contains("core.bigFileThreshold"));
    assert!(
        findings(&run, "drop-table").is_empty(),
        "the large file's lines were not read: {run:?}"
    );
}

// --- nothing outside the repository is read or written through a link ------------------------

const SECRET: &str = "SECRET-TOKEN-4711";

/// A folder outside the repository holding a secret, as a file and as a rule pack.
fn outside_with_secret() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("secret.toml"),
        format!("base = \"{SECRET}\"\n[[rule]]\nid = \"{SECRET}\"\n"),
    )
    .unwrap();
    dir
}

fn assert_refused_without_leaking(run: &util::Run, names: &str) {
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains(names), "names {names}: {run:?}");
    assert!(run.stderr.contains("outside the repository"), "{run:?}");
    assert!(
        !run.stdout.contains(SECRET) && !run.stderr.contains(SECRET),
        "not a byte of the target: {run:?}"
    );
}

#[cfg(unix)]
#[test]
fn config_rules_and_analyses_linked_out_of_the_repository_are_refused() {
    use std::os::unix::fs::symlink;
    let outside = outside_with_secret();
    let secret = outside.path().join("secret.toml");
    for (link, target) in [
        ("forewarn.toml", secret.clone()),
        (".forewarn/rules", outside.path().to_path_buf()),
        (".forewarn/analyses", outside.path().to_path_buf()),
        (
            "forewarn.toml",
            std::path::PathBuf::from("/proc/self/environ"),
        ),
    ] {
        let repo = Repo::new();
        std::fs::create_dir_all(repo.join(".forewarn")).unwrap();
        symlink(&target, repo.join(link)).unwrap();
        for args in [&["check"][..], &["validate"], &["rules"]] {
            assert_refused_without_leaking(&repo.forewarn(args), link);
        }
    }
    // One rule file in the rules folder that links out.
    let repo = Repo::new();
    std::fs::create_dir_all(repo.join(".forewarn/rules")).unwrap();
    symlink(&secret, repo.join(".forewarn/rules/team.toml")).unwrap();
    assert_refused_without_leaking(&repo.forewarn(&["check"]), ".forewarn/rules/team.toml");
    // A link that stays inside the repository is read.
    let repo = Repo::new();
    repo.write("config/forewarn.toml", "[rules]\nbuiltin = true\n");
    symlink("config/forewarn.toml", repo.join("forewarn.toml")).unwrap();
    assert_eq!(repo.forewarn(&["validate"]).code, 0);
}

#[cfg(unix)]
#[test]
fn a_ledger_folder_linked_out_of_the_repository_is_refused() {
    use std::os::unix::fs::symlink;
    let outside = tempfile::tempdir().unwrap();
    let repo = Repo::new();
    std::fs::create_dir_all(repo.join(".forewarn")).unwrap();
    symlink(outside.path(), repo.join(".forewarn/ledger")).unwrap();
    repo.write("db/migrations/0001_init.sql", "DROP TABLE users;\n");
    let run = repo.forewarn(&["check", "--record"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains(".forewarn/ledger"), "{run:?}");
    assert_eq!(
        std::fs::read_dir(outside.path()).unwrap().count(),
        0,
        "nothing written there"
    );
    // A parent folder that links out counts too.
    let repo = Repo::new();
    symlink(outside.path(), repo.join(".forewarn")).unwrap();
    repo.write("db/migrations/0001_init.sql", "DROP TABLE users;\n");
    let run = repo.forewarn(&["check", "--record"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 0);
}

#[test]
fn reports_are_not_written_into_dot_git() {
    let repo = Repo::new();
    repo.write("app.py", "x = 1\n");
    for args in [
        &["check", "-o", ".git/hooks/pre-commit"][..],
        &["check", "--sarif-file", ".git/config"],
        &[
            "check",
            "--format",
            "json",
            "-o",
            ".git/info/../hooks/post-checkout",
        ],
    ] {
        let before = std::fs::read(repo.join(".git/config")).unwrap();
        let run = repo.forewarn(args);
        assert_eq!(run.code, 2, "{args:?}: {run:?}");
        assert!(run.stderr.contains(".git folder"), "{run:?}");
        assert!(!repo.join(".git/hooks/pre-commit").exists());
        assert!(!repo.join(".git/hooks/post-checkout").exists());
        assert_eq!(std::fs::read(repo.join(".git/config")).unwrap(), before);
    }
}

#[cfg(unix)]
#[test]
fn an_existing_output_file_keeps_its_mode() {
    use std::os::unix::fs::PermissionsExt;
    let repo = Repo::new();
    repo.write("app.py", "x = 1\n");
    repo.write("out/report.json", "old");
    let path = repo.join("out/report.json");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    let run = repo.forewarn(&[
        "check",
        "--format",
        "json",
        "-o",
        "out/report.json",
        "--sarif-file",
        "out/new.sarif",
    ]);
    assert_eq!(run.code, 0, "{run:?}");
    let mode = |p: &str| {
        std::fs::metadata(repo.join(p))
            .unwrap()
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(mode("out/report.json"), 0o600);
    assert_eq!(mode("out/new.sarif"), 0o644);
    assert!(
        std::fs::read_to_string(&path)
            .unwrap()
            .contains("\"findings\"")
    );
}

// --- text is neutralised everywhere ---------------------------------------------------------

/// OSC 52 (write the clipboard), a colour and a bidirectional override.
const HOSTILE_TOML: &str = r#"\u001b]52;c;Y3VybCBldmlsLmV4YW1wbGU=\u0007\u001b[31m\u202e"#;

#[test]
fn explain_test_and_rules_print_rule_text_escaped() {
    let repo = Repo::new();
    repo.write(
        ".forewarn/rules/team.toml",
        format!(
            r#"
[[rule]]
id = "hostile"
title = "Title {HOSTILE_TOML}"
severity = "warning"
category = "cat{HOSTILE_TOML}"
message = "{{path}} {HOSTILE_TOML}"
ask = "Ask {HOSTILE_TOML}?"
why = "Why {HOSTILE_TOML}"
[rule.match]
paths = ["**/*.sql"]
added = ['drop']
[[rule.example]]
name = "fires {HOSTILE_TOML}"
expect = "fire"
diff = """
--- a/x.sql
+++ b/x.sql
@@ -0,0 +1 @@
+drop
"""
"#
        ),
    );
    for args in [
        &["explain", "hostile"][..],
        &["test", "hostile"],
        &["rules"],
    ] {
        let run = repo.forewarn(args);
        assert_ne!(run.code, 2, "{args:?}: {run:?}");
        for out in [&run.stdout, &run.stderr] {
            assert!(
                !out.contains('\u{1b}') && !out.contains('\u{7}') && !out.contains('\u{202e}'),
                "{args:?} printed a raw control character: {out:?}"
            );
        }
        assert!(
            run.stdout.contains("\\x1b"),
            "{args:?} shows it escaped: {run:?}"
        );
    }
}

#[test]
fn report_markdown_does_not_link_or_mention_from_a_reason() {
    let repo = Repo::new();
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo.write("db/migrations/0001_init.sql", "DROP TABLE users;\n");
    let check = repo.forewarn(&[
        "check",
        "--record",
        "--ack",
        "new-migration-needs-deploy-step=ran by hand ![x](https://evil.example/t.png) [docs](https://evil.example) @octocat",
    ]);
    assert_ne!(check.code, 2, "{check:?}");
    let run = repo.forewarn(&["report"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.contains("ran by hand"),
        "the reason is shown: {run:?}"
    );
    // `\]` and a code span keep what was written from being a link or an image.
    assert!(
        !run.stdout.replace("\\]", "").contains("](https://"),
        "no link or image: {run:?}"
    );
    assert!(!run.stdout.contains(" @octocat"), "no mention: {run:?}");
    assert!(run.stdout.contains("`@octocat`"), "{run:?}");
}

// --- acknowledgements must be visible ---------------------------------------------------------

/// A repository on `feature` with a new migration the built-in packs flag as an error.
fn migration_repo() -> Repo {
    let repo = Repo::new();
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo.write("db/migrations/0001_init.sql", "CREATE TABLE t (id int);\n");
    repo
}

const RULE: &str = "new-migration-needs-deploy-step";

#[test]
fn a_reason_of_invisible_characters_only_is_refused() {
    for invisible in [
        "\u{200B}",
        "\u{2060}",
        "\u{FEFF}",
        "\u{3164}",
        "\u{2800}",
        "\u{180E}",
        "\u{034F}",
        "\u{200B}\u{2060} \u{FEFF}",
    ] {
        // On the command line: a usage error.
        let repo = migration_repo();
        let run = repo.forewarn(&["check", "--ack", &format!("{RULE}={invisible}")]);
        assert_eq!(run.code, 2, "{invisible:?}: {run:?}");
        assert!(run.stderr.contains("invisible"), "{run:?}");
        // In a commit trailer: not applied, and said.
        repo.commit(&format!(
            "add a migration\n\nForewarn-Ack: {RULE}: {invisible}\n"
        ));
        let run = repo.forewarn(&["check", "--base", "main", "--format", "json"]);
        assert_eq!(
            run.code, 1,
            "the finding still fails the gate: {invisible:?}: {run:?}"
        );
        assert!(
            json(&run)["findings"]
                .as_array()
                .unwrap()
                .iter()
                .all(|f| f["acknowledged"].is_null()),
            "{run:?}"
        );
        assert!(
            run.stdout.contains("invisible"),
            "the refusal is reported: {run:?}"
        );
    }
    // A visible reason with a zero-width space in it is fine.
    let repo = migration_repo();
    let run = repo.forewarn(&[
        "check",
        "--ack",
        &format!("{RULE}=run by the deploy\u{200B} job"),
    ]);
    assert_eq!(run.code, 0, "{run:?}");
}

#[test]
fn an_ack_inside_an_html_comment_of_the_pull_request_body_is_not_applied() {
    let repo = migration_repo();
    let event = repo.join("event.json");
    let body = format!(
        "Adds a table.\n\n<!-- reviewers do not see this\nForewarn-Ack: {RULE}: hidden reason\n-->\n"
    );
    std::fs::write(
        &event,
        serde_json::json!({ "pull_request": { "body": body } }).to_string(),
    )
    .unwrap();
    let run = util::forewarn_cmd(repo.path())
        .args(["check", "--format", "json"])
        .env("GITHUB_EVENT_PATH", &event)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert_eq!(run.status.code(), Some(1), "{stdout}");
    assert!(!stdout.contains("hidden reason"), "not applied: {stdout}");
    assert!(stdout.contains("HTML comment"), "reported: {stdout}");
    // Outside the comment, the same line is applied.
    let body = format!(
        "Adds a table.\n<!-- template note -->\nForewarn-Ack: {RULE}: run by the deploy job\n"
    );
    std::fs::write(
        &event,
        serde_json::json!({ "pull_request": { "body": body } }).to_string(),
    )
    .unwrap();
    let run = util::forewarn_cmd(repo.path())
        .args(["check"])
        .env("GITHUB_EVENT_PATH", &event)
        .output()
        .unwrap();
    assert_eq!(
        run.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&run.stdout)
    );
}

// --- bounded ------------------------------------------------------------------------------------

/// Commits through `git fast-import` (no working tree: a path 20,000 folders deep is longer than
/// any file system allows): `files` on top of `main`'s last commit, or as its first.
fn fast_import(repo: &Repo, message: &str, files: &[(&str, &str)], first: bool) {
    let mut stream = format!(
        "commit refs/heads/main\ncommitter T <t@example.invalid> 0 +0000\ndata {}\n{message}\n",
        message.len()
    );
    if !first {
        stream.push_str("from refs/heads/main^0\n");
    }
    for (path, data) in files {
        stream.push_str(&format!(
            "M 100644 inline {path}\ndata {}\n{data}\n",
            data.len()
        ));
    }
    use std::io::Write;
    let mut child = std::process::Command::new("git")
        .current_dir(repo.path())
        .args(["fast-import", "--quiet"])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stream.as_bytes())
        .unwrap();
    assert!(child.wait().unwrap().success());
}

#[test]
fn twenty_thousand_nested_folders_do_not_abort_check_or_backtest() {
    let repo = Repo::empty();
    let deep = format!("{}/0001_init.sql", vec!["d"; 20_000].join("/"));
    fast_import(&repo, "first", &[("README.md", "x\n")], true);
    fast_import(&repo, "deep", &[(&deep, "DROP TABLE users;\n")], false);
    fast_import(
        &repo,
        "deeper still",
        &[(&deep, "DROP TABLE users;\nDROP TABLE orders;\n")],
        false,
    );
    for args in [
        &["check", "--commit", "main"][..],
        &["check", "--commit", "main~1"],
        &["check", "--base", "main~2", "--head", "main"],
        &["backtest"],
        &["backtest", "--jobs", "3"],
    ] {
        let run = repo.forewarn(args);
        assert!(
            [0, 1, 2].contains(&run.code),
            "{args:?} ended with {}: {}",
            run.code,
            run.stderr.chars().take(500).collect::<String>()
        );
        assert!(
            !run.stderr.contains("overflow"),
            "{args:?}: {}",
            &run.stderr[..run.stderr.len().min(500)]
        );
    }
}

#[test]
fn jobs_are_capped_at_a_multiple_of_the_cpus() {
    let repo = Repo::new();
    repo.write("app.py", "x = 1\n");
    repo.commit("two");
    // Uncapped, this starts a million threads: it never ends, or ends out of memory.
    let mut child = util::forewarn_cmd(repo.path())
        .args(["backtest", "--jobs", "1000000"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > std::time::Duration::from_secs(60) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("backtest --jobs 1000000 ran for a minute");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(0));
}

// --- data kept --------------------------------------------------------------------------------

const RECORD_PATH: &str = ".forewarn/analyses/2019-07-payments-config-missing.toml";

/// A team rule linked to F2 of the example record: a new migration under `payments/`.
const LINKED_RULE: &str = r#"
[[rule]]
id = "payments-migration"
title = "A payments migration"
severity = "error"
category = "migration"
message = "{path} adds a migration."
ask = "Who runs it?"
findings = ["2019-07-payments-config-missing#F2"]
[rule.match]
paths = ["payments/migrations/*.py"]
status = ["added"]
"#;

/// A repository whose history has the example record's culprit, a linked rule, and the record
/// written with a byte-order mark and CRLF line endings.
fn record_repo() -> (Repo, String) {
    let repo = Repo::new();
    repo.write("forewarn.toml", "[rules]\nbuiltin = false\n")
        .write(".forewarn/rules/team.toml", LINKED_RULE);
    repo.commit("rules");
    repo.write(
        "payments/migrations/0002_gateway_config.py",
        "# migration\n",
    );
    let culprit = repo.commit("Add gateway config");
    let short = repo.git(&["rev-parse", "--short", &culprit]);
    let record = include_str!("../src/analysis/testdata/analysis.toml")
        .replace("3f9c2e1", &short)
        .replace('\n', "\r\n");
    let original = format!("\u{feff}{record}");
    repo.write(RECORD_PATH, &original);
    (repo, original)
}

#[test]
fn backtest_write_keeps_crlf_line_endings_and_the_byte_order_mark() {
    let (repo, original) = record_repo();
    let run = repo.forewarn(&["backtest", "--write"]);
    assert_eq!(run.code, 0, "{run:?}");
    let written = std::fs::read_to_string(repo.join(RECORD_PATH)).unwrap();
    assert!(written.contains("[[backtest]]"), "{written}");
    assert!(
        written.starts_with(&original),
        "the record as written comes first, byte for byte"
    );
    assert!(written.starts_with('\u{feff}'), "BOM kept");
    let bare_lf = written
        .match_indices('\n')
        .filter(|(at, _)| !written[..*at].ends_with('\r'))
        .count();
    assert_eq!(bare_lf, 0, "every line ends in CRLF: {written:?}");
    assert_eq!(repo.forewarn(&["validate"]).code, 0);
}

#[test]
fn backtest_write_does_not_overwrite_an_edit_made_while_it_ran() {
    // Someone keeps editing the record (whole versions, renamed into place) while it runs. The
    // edits race the run, so it is tried a few times: each run either wrote before any edit
    // landed, or refused; at least one must have seen an edit and refused.
    let mut refused = 0;
    for _ in 0..8 {
        let (repo, original) = record_repo();
        let path = repo.join(RECORD_PATH);
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let editor = {
            let (stop, path, original) = (stop.clone(), path.clone(), original.clone());
            std::thread::spawn(move || {
                let mut n = 0u64;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    n += 1;
                    let tmp = path.with_extension("edit");
                    std::fs::write(&tmp, format!("{original}# edit {n}\r\n")).unwrap();
                    std::fs::rename(&tmp, &path).unwrap();
                    std::thread::sleep(std::time::Duration::from_millis(1));
                }
                n
            })
        };
        std::thread::sleep(std::time::Duration::from_millis(20));
        let run = repo.forewarn(&["backtest", "--write"]);
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let edits = editor.join().unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        match run.code {
            2 => {
                assert!(run.stderr.contains("changed on disk"), "{run:?}");
                assert!(
                    run.stderr.contains("backtest --write` again"),
                    "says what to do: {run:?}"
                );
                assert!(!text.contains("[[backtest]]"), "the edit was kept");
                assert!(text.ends_with(&format!("# edit {edits}\r\n")), "{text}");
                refused += 1;
            }
            0 => {}
            _ => panic!("{run:?}"),
        }
        if refused > 0 {
            break;
        }
    }
    assert!(
        refused > 0,
        "an edit made while it ran was overwritten every time"
    );
}

// --- missing objects are errors --------------------------------------------------------------

#[test]
fn rules_from_a_revision_whose_objects_are_missing_exits_2_naming_the_fix() {
    // The base has one version of the team's rules, the pull request another; a blob-less
    // clone of the pull request's branch lacks the base's version.
    let origin = Repo::new();
    origin.git(&["config", "uploadpack.allowFilter", "true"]);
    origin.write(
        ".forewarn/rules/team.toml",
        rule_file("base-rule", "(?i)drop table"),
    );
    origin.commit("base rules");
    origin.git(&["checkout", "-q", "-b", "feature"]);
    origin.write(
        ".forewarn/rules/team.toml",
        rule_file("loosened", "never matches this"),
    );
    origin.write("db/001.sql", "DROP TABLE users;\n");
    origin.commit("loosen the rules");
    let clone = tempfile::tempdir().unwrap();
    let url = format!("file://{}", origin.path().display());
    util::git_in(
        clone.path(),
        &[
            "clone",
            "-q",
            "--filter=blob:none",
            "--branch",
            "feature",
            &url,
            "c",
        ],
    );
    let dir = clone.path().join("c");
    let run = util::run_in(
        &dir,
        &[
            "check",
            "--base",
            "origin/main",
            "--rules-from",
            "origin/main",
        ],
    );
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains("origin/main:.forewarn/rules/team.toml"),
        "{run:?}"
    );
    assert!(
        run.stderr.contains("git cat-file -p"),
        "names the fix: {run:?}"
    );
    // Once fetched, the base's rule applies.
    util::git_in(
        &dir,
        &["cat-file", "-p", "origin/main:.forewarn/rules/team.toml"],
    );
    let run = util::run_in(
        &dir,
        &[
            "check",
            "--base",
            "origin/main",
            "--rules-from",
            "origin/main",
        ],
    );
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stdout.contains("base-rule"), "{run:?}");
}

// --- hooks keep what they replace, and the pre-push hook fails closed --------------------------

#[test]
fn hook_install_force_never_loses_an_earlier_backup() {
    let repo = Repo::new();
    let hooks = repo.join(".git/hooks");
    std::fs::create_dir_all(&hooks).unwrap();
    let mut kept = Vec::new();
    for owner in ["#!/bin/sh\necho first\n", "#!/bin/sh\necho second\n"] {
        std::fs::write(hooks.join("pre-commit"), owner).unwrap();
        let run = repo.forewarn(&["hook", "install", "--pre-commit", "--force"]);
        assert_eq!(run.code, 0, "{run:?}");
        kept.push(owner);
    }
    let backups: Vec<String> = std::fs::read_dir(&hooks)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().contains("forewarn-backup"))
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    for owner in kept {
        assert!(
            backups.iter().any(|b| b == owner),
            "{owner:?} kept: {backups:?}"
        );
    }
}

#[test]
fn a_hook_with_the_marker_and_lines_of_its_owner_is_backed_up_before_it_is_replaced() {
    let repo = Repo::new();
    assert_eq!(repo.forewarn(&["hook", "install", "--pre-commit"]).code, 0);
    let hook = repo.join(".git/hooks/pre-commit");
    let mut text = std::fs::read_to_string(&hook).unwrap();
    text = text.replacen(
        "#!/bin/sh\n",
        "#!/bin/sh\n./scripts/lint-staged.sh || exit 1\n",
        1,
    );
    // An older forewarn script, as far as the reinstall can tell: it differs from today's.
    text.push_str("# edited\n");
    std::fs::write(&hook, &text).unwrap();
    let run = repo.forewarn(&["hook", "install", "--pre-commit"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("kept as"), "{run:?}");
    let backup =
        std::fs::read_to_string(repo.join(".git/hooks/pre-commit.forewarn-backup")).unwrap();
    assert!(backup.contains("lint-staged"), "{backup}");
}

/// Runs the installed pre-push hook as git would, for a push of `local_sha` to a new branch.
fn run_pre_push(repo: &Repo, local_sha: &str) -> std::process::Output {
    use std::io::Write;
    let mut child = std::process::Command::new("sh")
        .current_dir(repo.path())
        .arg(repo.join(".git/hooks/pre-push"))
        .args(["origin", "file:///nowhere"])
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", repo.path())
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let zero = "0".repeat(40);
    writeln!(
        child.stdin.take().unwrap(),
        "refs/heads/topic {local_sha} refs/heads/topic {zero}"
    )
    .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn the_pre_push_hook_fails_closed_and_honours_base() {
    // A repository whose default branch is `trunk`: no origin, no main, no master.
    let repo = Repo::empty();
    repo.git(&["checkout", "-q", "-b", "trunk"]);
    repo.write("README.md", "x\n");
    repo.commit("first");
    repo.git(&["checkout", "-q", "-b", "topic"]);
    repo.write("db/migrations/0001_init.sql", "DROP TABLE users;\n");
    let head = repo.commit("migration");
    assert_eq!(repo.forewarn(&["hook", "install", "--pre-push"]).code, 0);
    let out = run_pre_push(&repo, &head);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_ne!(
        out.status.code(),
        Some(0),
        "nothing compared is not a pass: {stderr}"
    );
    assert!(stderr.contains("nothing to compare"), "{stderr}");
    assert!(stderr.contains("base"), "names the fix: {stderr}");
    // With `base = "trunk"`, the push is checked against trunk: the migration is found.
    repo.git(&["checkout", "-q", "trunk"]);
    repo.write("forewarn.toml", "base = \"trunk\"\n");
    repo.commit("config");
    repo.git(&["checkout", "-q", "topic"]);
    repo.git(&["rebase", "-q", "trunk"]);
    let head = repo.git(&["rev-parse", "HEAD"]);
    let out = run_pre_push(&repo, &head);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("db/migrations/0001_init.sql"), "{stdout}");
}

// --- errors name the real cause ---------------------------------------------------------------

#[cfg(unix)]
#[test]
fn a_repository_owned_by_another_user_names_safe_directory() {
    let repo = Repo::new();
    let uid = std::process::Command::new("id").arg("-u").output().unwrap();
    if String::from_utf8_lossy(&uid.stdout).trim() != "0" {
        // Giving the repository to another user needs root; the message is checked where the
        // suite runs as root (CI containers).
        assert!(repo.forewarn(&["check"]).code != 2);
        return;
    }
    let chown = std::process::Command::new("chown")
        .args(["-R", "65534:65534"])
        .arg(repo.path())
        .status()
        .unwrap();
    assert!(chown.success());
    let run = repo.forewarn(&["check"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("another user"), "{run:?}");
    assert!(run.stderr.contains("safe.directory"), "{run:?}");
    assert!(
        !run.stderr.contains("not inside a git repository"),
        "{run:?}"
    );
}

#[test]
fn git_dir_and_git_work_tree_are_honoured() {
    let repo = Repo::new();
    let work = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(work.path().join("db/migrations")).unwrap();
    std::fs::write(work.path().join("README.md"), "app\n").unwrap();
    std::fs::write(
        work.path().join("db/migrations/0001_init.sql"),
        "DROP TABLE users;\n",
    )
    .unwrap();
    let run = util::forewarn_cmd(work.path())
        .args(["check", "--base", "HEAD", "--format", "json"])
        .env("GIT_DIR", repo.join(".git"))
        .env("GIT_WORK_TREE", work.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert_eq!(
        run.status.code(),
        Some(1),
        "{stdout}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(stdout.contains("db/migrations/0001_init.sql"), "{stdout}");
    // A GIT_DIR that is no repository says so.
    let run = util::forewarn_cmd(work.path())
        .args(["check"])
        .env("GIT_DIR", work.path().join("nothing"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("GIT_DIR"), "{stderr}");
}

#[test]
fn the_fetch_hint_for_a_missing_base_is_a_command_that_works() {
    let origin = Repo::new();
    origin.git(&["checkout", "-q", "-b", "feature"]);
    origin.write("db/migrations/0001_init.sql", "DROP TABLE users;\n");
    origin.commit("migration");
    let clone = tempfile::tempdir().unwrap();
    let url = format!("file://{}", origin.path().display());
    // What actions/checkout makes: one branch, nothing else.
    util::git_in(
        clone.path(),
        &[
            "clone",
            "-q",
            "--single-branch",
            "--branch",
            "feature",
            &url,
            "c",
        ],
    );
    let dir = clone.path().join("c");
    let run = util::run_in(&dir, &["check", "--base", "origin/main", "--head", "HEAD"]);
    assert_eq!(run.code, 2, "{run:?}");
    let hint = run
        .stderr
        .lines()
        .find_map(|l| l.split("fetch it: ").nth(1))
        .unwrap_or_else(|| panic!("a fetch command: {run:?}"))
        .trim()
        .to_string();
    let args: Vec<&str> = hint.split_whitespace().skip(1).collect();
    assert_eq!(hint.split_whitespace().next(), Some("git"), "{hint}");
    util::git_in(&dir, &args);
    let run = util::run_in(&dir, &["check", "--base", "origin/main", "--head", "HEAD"]);
    assert_eq!(run.code, 1, "after the hint, the base is there: {run:?}");
}

// --- a symbolic link in a watched path that points out of the repository ------------------------

#[cfg(unix)]
#[test]
fn a_link_out_of_the_repository_in_a_migration_path_is_reported() {
    let repo = watched_repo();
    std::fs::create_dir_all(repo.join("db")).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", repo.join("db/001.sql")).unwrap();
    std::os::unix::fs::symlink("../../../outside.sql", repo.join("db/002.sql")).unwrap();
    repo.write("db/real.sql", "select 1;\n");
    std::os::unix::fs::symlink("real.sql", repo.join("db/003.sql")).unwrap();
    // In the working tree, then committed.
    for args in [
        &["--base", "main"][..],
        &["--base", "main", "--head", "HEAD"],
    ] {
        if args.len() == 4 {
            repo.commit("links");
        }
        let run = check_json(&repo, args);
        assert_eq!(run.code, 1, "{run:?}");
        let found = not_checked(&run);
        let paths: Vec<&str> = found.iter().map(|(p, _, _)| p.as_str()).collect();
        assert_eq!(paths, ["db/001.sql", "db/002.sql"], "{run:?}");
        assert!(
            found[0].2.contains("`/etc/passwd`, outside the repository"),
            "{run:?}"
        );
        assert!(found.iter().all(|(_, s, _)| s == "error"));
    }
    // In a patch (the built-in packs watch `db/migrate/`).
    let patch = "diff --git a/db/migrate/009.sql b/db/migrate/009.sql\nnew file mode 120000\nindex 0000000..1111111\n--- /dev/null\n+++ b/db/migrate/009.sql\n@@ -0,0 +1 @@\n+/etc/shadow\n\\ No newline at end of file\n";
    let run = check_patch(patch, &["--format", "json"]);
    assert_not_checked(&run, "db/migrate/009.sql", "error", "/etc/shadow");
}

#[cfg(unix)]
#[test]
fn a_dangling_ledger_link_says_so() {
    let repo = Repo::new();
    std::fs::create_dir_all(repo.join(".forewarn")).unwrap();
    std::os::unix::fs::symlink("ledger-that-was-moved", repo.join(".forewarn/ledger")).unwrap();
    repo.write("db/migrations/0001_init.sql", "DROP TABLE users;\n");
    for args in [&["check", "--record"][..], &["report"]] {
        let run = repo.forewarn(args);
        assert_eq!(run.code, 2, "{args:?}: {run:?}");
        assert!(run.stderr.contains("symbolic link to nothing"), "{run:?}");
        assert!(run.stderr.contains(".forewarn/ledger"), "{run:?}");
    }
}

// --- a symbolic link inside the repository is read as the file it names -------------------------

/// The rule ids of a JSON run's findings at `path`.
fn rules_at(run: &util::Run, path: &str) -> Vec<String> {
    json(run)["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["path"] == path)
        .map(|f| f["rule_id"].as_str().unwrap_or("").to_string())
        .collect()
}

#[cfg(unix)]
#[test]
fn a_link_into_a_migrations_folder_is_checked_by_its_targets_content() {
    let repo = Repo::new();
    repo.write("common/drop_users.sql", "DROP TABLE users;\n")
        .write("common/notes.sql", "select 1;\n");
    repo.commit("shared sql");
    repo.git(&["checkout", "-q", "-b", "feature"]);
    std::fs::create_dir_all(repo.join("db/migrate")).unwrap();
    std::os::unix::fs::symlink(
        "../../common/drop_users.sql",
        repo.join("db/migrate/002_drop.sql"),
    )
    .unwrap();
    // A link to a folder names no file: reported, not passed.
    std::os::unix::fs::symlink("../../common", repo.join("db/migrate/003_dir.sql")).unwrap();
    let assert_read_through = |run: &util::Run, how: &str| {
        let rules = rules_at(run, "db/migrate/002_drop.sql");
        assert!(
            rules.iter().any(|r| r == "migration-drops-table"),
            "{how}: the target's DROP TABLE is found: {rules:?} {run:?}"
        );
        let folder = not_checked(run);
        assert!(
            folder.iter().any(|(p, s, m)| p == "db/migrate/003_dir.sql"
                && s == "error"
                && m.contains("`../../common`")),
            "{how}: {folder:?}"
        );
    };
    let run = check_json(&repo, &["--base", "main"]);
    assert_read_through(&run, "working tree");
    repo.git(&["add", "-A"]);
    let run = check_json(&repo, &["--staged"]);
    assert_read_through(&run, "staged");
    repo.commit("links");
    let run = check_json(&repo, &["--base", "main", "--head", "HEAD"]);
    assert_read_through(&run, "range");
    // Retargeting the link to a harmless file is a change of the target's content.
    std::fs::remove_file(repo.join("db/migrate/002_drop.sql")).unwrap();
    std::os::unix::fs::symlink(
        "../../common/notes.sql",
        repo.join("db/migrate/002_drop.sql"),
    )
    .unwrap();
    repo.commit("retarget");
    let run = check_json(&repo, &["--commit", "HEAD"]);
    let rules = rules_at(&run, "db/migrate/002_drop.sql");
    assert!(
        !rules.iter().any(|r| r == "migration-drops-table"),
        "the new target drops nothing: {rules:?}"
    );
    // A patch holds the link's target path, not the file: reported.
    let patch = "diff --git a/db/migrate/009.sql b/db/migrate/009.sql\nnew file mode 120000\nindex 0000000..1111111\n--- /dev/null\n+++ b/db/migrate/009.sql\n@@ -0,0 +1 @@\n+../../common/drop_users.sql\n\\ No newline at end of file\n";
    let run = check_patch(patch, &["--format", "json"]);
    assert_not_checked(&run, "db/migrate/009.sql", "error", "not the file it names");
}

// --- a sparse checkout still sees committed changes outside its cone --------------------------

#[test]
fn default_check_in_a_sparse_checkout_sees_committed_changes_outside_the_cone() {
    let repo = Repo::new();
    repo.write("app/main.py", "print(1)\n")
        .write("db/migrate/001.sql", "CREATE TABLE users (id int);\n");
    repo.commit("init");
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo.write("db/migrate/002.sql", "DROP TABLE users;\n")
        .write(
            "db/migrate/001.sql",
            "CREATE TABLE users (id int);\nALTER TABLE users DROP COLUMN name;\n",
        );
    repo.commit("drop users");
    repo.git(&["sparse-checkout", "set", "app"]);
    assert!(
        !repo.join("db/migrate/002.sql").exists(),
        "the migration is outside the cone"
    );
    let run = check_json(&repo, &["--base", "main"]);
    assert_eq!(run.code, 1, "{run:?}");
    let found: Vec<serde_json::Value> = json(&run)["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule_id"] == "migration-drops-table")
        .cloned()
        .collect();
    assert_eq!(found.len(), 1, "{run:?}");
    assert_eq!(found[0]["path"], "db/migrate/002.sql");
    assert_eq!(found[0]["operation"], "drop-table", "{run:?}");
    // A modified file is read whole from the index and understood as operations, not only as
    // lines of text.
    let report = json(&run);
    let operations: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["path"] == "db/migrate/001.sql")
        .filter_map(|f| f["operation"].as_str())
        .collect();
    assert!(operations.contains(&"drop-column"), "{run:?}");
}
