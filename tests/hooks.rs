//! `forewarn hook install` in real repositories: the pre-commit hook blocks a commit with a finding
//! and lets a clean one through, the pre-push hook checks what a real push to a local bare remote
//! sends, and a hook forewarn did not write is never replaced without `--force`.

mod util;

use std::path::{Path, PathBuf};
use std::process::Command;

use util::{Repo, Run, TEAM_RULES};

/// A repository on `main` with the team rules only, committed.
fn team_repo() -> Repo {
    let repo = Repo::new();
    repo.write("forewarn.toml", "[rules]\nbuiltin = false\n")
        .write(".forewarn/rules/team.toml", TEAM_RULES);
    repo.commit("forewarn config");
    repo
}

/// PATH with the forewarn under test first, so the hook finds it as a user's would.
fn path_with_forewarn() -> std::ffi::OsString {
    let bin = Path::new(env!("CARGO_BIN_EXE_forewarn"))
        .parent()
        .unwrap()
        .to_path_buf();
    let mut paths = vec![bin];
    paths.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    std::env::join_paths(paths).unwrap()
}

/// git, run as a developer would (hooks and all), without asserting success.
fn git(dir: &Path, args: &[&str]) -> Run {
    let out = Command::new("git")
        .current_dir(dir)
        .args([
            "-c",
            "commit.gpgsign=false",
            "-c",
            "protocol.file.allow=always",
        ])
        .args(args)
        .env("PATH", path_with_forewarn())
        .env("GIT_AUTHOR_NAME", "Test")
        .env("GIT_AUTHOR_EMAIL", "test@example.invalid")
        .env("GIT_COMMITTER_NAME", "Test")
        .env("GIT_COMMITTER_EMAIL", "test@example.invalid")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", dir)
        .env_remove("GITHUB_EVENT_PATH")
        .env_remove("GITHUB_BASE_REF")
        .output()
        .expect("git runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn hook(repo: &Repo, name: &str) -> PathBuf {
    repo.join(&format!(".git/hooks/{name}"))
}

fn commit_count(repo: &Repo) -> usize {
    repo.git(&["rev-list", "--count", "HEAD"]).parse().unwrap()
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o111 == 0o111
}

#[cfg(not(unix))]
fn is_executable(_path: &Path) -> bool {
    true
}

#[test]
fn pre_commit_hook_blocks_a_commit_with_a_finding_and_lets_a_clean_one_through() {
    let repo = team_repo();
    let install = repo.forewarn(&["hook", "install", "--pre-commit"]);
    assert_eq!(install.code, 0, "{install:?}");
    assert!(
        install.stdout.contains("forewarn check --staged"),
        "{install:?}"
    );
    let path = hook(&repo, "pre-commit");
    assert!(is_executable(&path));
    assert!(
        std::fs::read_to_string(&path)
            .unwrap()
            .contains("# forewarn-hook")
    );

    let before = commit_count(&repo);
    repo.write("sql/drop.sql", "DROP TABLE users;\n");
    repo.git(&["add", "-A"]);
    let blocked = git(repo.path(), &["commit", "-q", "-m", "drop users"]);
    assert_ne!(blocked.code, 0, "{blocked:?}");
    let said = format!("{}{}", blocked.stdout, blocked.stderr);
    assert!(said.contains("team-drop-table"), "{blocked:?}");
    assert_eq!(commit_count(&repo), before, "the commit was blocked");

    // A warning only (a new SQL file) passes the default gate.
    repo.write("sql/drop.sql", "select 1;\n");
    repo.git(&["add", "-A"]);
    let clean = git(repo.path(), &["commit", "-q", "-m", "add a query"]);
    assert_eq!(clean.code, 0, "{clean:?}");
    assert_eq!(commit_count(&repo), before + 1);

    // `git commit -a` stages into a temporary index: the hook still sees the change.
    repo.write("sql/drop.sql", "DROP TABLE users;\n");
    let all = git(repo.path(), &["commit", "-q", "-a", "-m", "drop users"]);
    assert_ne!(all.code, 0, "{all:?}");
    assert!(
        format!("{}{}", all.stdout, all.stderr).contains("team-drop-table"),
        "{all:?}"
    );
    let only = git(
        repo.path(),
        &["commit", "-q", "-m", "drop users", "sql/drop.sql"],
    );
    assert_ne!(only.code, 0, "{only:?}");
    assert_eq!(commit_count(&repo), before + 1);
    repo.git(&["checkout", "-q", "--", "sql/drop.sql"]);

    // The hook checks what is staged, not the working tree.
    repo.write("sql/later.sql", "DROP TABLE later;\n");
    repo.write("README.md", "app, documented\n");
    repo.git(&["add", "README.md"]);
    let staged_only = git(repo.path(), &["commit", "-q", "-m", "docs"]);
    assert_eq!(staged_only.code, 0, "{staged_only:?}");
}

#[test]
fn install_is_idempotent_and_never_overwrites_a_foreign_hook() {
    let repo = team_repo();
    let first = repo.forewarn(&["hook", "install"]);
    assert_eq!(first.code, 0, "{first:?}");
    let path = hook(&repo, "pre-push");
    let installed = std::fs::read_to_string(&path).unwrap();
    let again = repo.forewarn(&["hook", "install", "--pre-push"]);
    assert_eq!(again.code, 0, "{again:?}");
    assert!(again.stdout.contains("already"), "{again:?}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), installed);

    // An older forewarn hook is updated in place.
    std::fs::write(&path, installed.replace("status=0", "status=0 # old")).unwrap();
    let update = repo.forewarn(&["hook", "install"]);
    assert_eq!(update.code, 0, "{update:?}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), installed);

    let foreign = "#!/bin/sh\n# the team's own checks\nmake lint\n";
    let commit_hook = hook(&repo, "pre-commit");
    std::fs::write(&commit_hook, foreign).unwrap();
    let refused = repo.forewarn(&["hook", "install", "--pre-commit"]);
    assert_eq!(refused.code, 2, "{refused:?}");
    assert!(
        refused.stderr.contains("forewarn did not write it"),
        "{refused:?}"
    );
    assert!(
        refused.stderr.contains("--pre-commit --force"),
        "{refused:?}"
    );
    assert!(
        refused.stderr.contains("forewarn check --staged"),
        "{refused:?}"
    );
    assert_eq!(std::fs::read_to_string(&commit_hook).unwrap(), foreign);

    let forced = repo.forewarn(&["hook", "install", "--pre-commit", "--force"]);
    assert_eq!(forced.code, 0, "{forced:?}");
    assert!(
        forced.stdout.contains("pre-commit.forewarn-backup"),
        "{forced:?}"
    );
    assert_eq!(
        std::fs::read_to_string(hook(&repo, "pre-commit.forewarn-backup")).unwrap(),
        foreign
    );
    assert!(
        std::fs::read_to_string(&commit_hook)
            .unwrap()
            .contains("# forewarn-hook")
    );

    let both = repo.forewarn(&["hook", "install", "--pre-commit", "--pre-push"]);
    assert_eq!(both.code, 2, "{both:?}");
}

#[test]
fn core_hooks_path_is_respected() {
    let repo = team_repo();
    repo.git(&["config", "core.hooksPath", ".githooks"]);
    let sub = repo.join("sql");
    std::fs::create_dir_all(&sub).unwrap();
    let run = util::run_in(&sub, &["hook", "install", "--pre-commit"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(repo.join(".githooks/pre-commit").is_file(), "{run:?}");
    assert!(!hook(&repo, "pre-commit").exists());

    repo.write("sql/drop.sql", "DROP TABLE users;\n");
    repo.git(&["add", "-A"]);
    let blocked = git(repo.path(), &["commit", "-q", "-m", "drop users"]);
    assert_ne!(blocked.code, 0, "{blocked:?}");
    let said = format!("{}{}", blocked.stdout, blocked.stderr);
    assert!(said.contains("team-drop-table"), "{blocked:?}");
}

#[test]
fn outside_a_repository_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let run = util::run_in(dir.path(), &["hook", "install"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains("not inside a git repository"),
        "{run:?}"
    );
}

#[test]
fn pre_push_hook_checks_what_a_real_push_sends() {
    let repo = team_repo();
    let remote = tempfile::tempdir().unwrap();
    let bare = remote.path().join("origin.git");
    util::git_in(
        remote.path(),
        &["init", "-q", "--bare", bare.to_str().unwrap()],
    );
    repo.git(&["remote", "add", "origin", bare.to_str().unwrap()]);
    repo.git(&["push", "-q", "origin", "main"]);
    let install = repo.forewarn(&["hook", "install", "--pre-push"]);
    assert_eq!(install.code, 0, "{install:?}");
    let remote_has = |branch: &str| {
        !util::git_in(&bare, &["for-each-ref", &format!("refs/heads/{branch}")]).is_empty()
    };

    // A new branch is checked from its merge base with origin/main.
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo.write("sql/drop.sql", "DROP TABLE users;\n");
    repo.commit("drop users");
    let blocked = git(repo.path(), &["push", "-q", "origin", "feature"]);
    assert_ne!(blocked.code, 0, "{blocked:?}");
    let said = format!("{}{}", blocked.stdout, blocked.stderr);
    assert!(said.contains("team-drop-table"), "{blocked:?}");
    assert!(said.contains("sql/drop.sql"), "{blocked:?}");
    assert!(!remote_has("feature"));

    // Answered in a commit trailer: the push goes through.
    repo.git(&[
        "commit",
        "-q",
        "--allow-empty",
        "-m",
        "Answer forewarn\n\nForewarn-Ack: team-drop-table: users moved to accounts in 4.1",
    ]);
    let pushed = git(repo.path(), &["push", "-q", "origin", "feature"]);
    assert_eq!(pushed.code, 0, "{pushed:?}");
    assert!(remote_has("feature"));

    // An update is checked from the remote's tip: only the new commits count.
    repo.git(&["checkout", "-q", "main"]);
    repo.write("README.md", "app, documented\n");
    repo.commit("docs");
    let clean = git(repo.path(), &["push", "-q", "origin", "main"]);
    assert_eq!(clean.code, 0, "{clean:?}");
    repo.write("sql/other.sql", "DROP TABLE other;\n");
    repo.commit("drop other");
    let update = git(repo.path(), &["push", "-q", "origin", "main"]);
    assert_ne!(update.code, 0, "{update:?}");
    let said = format!("{}{}", update.stdout, update.stderr);
    assert!(said.contains("sql/other.sql"), "{update:?}");
    assert!(
        !said.contains("sql/drop.sql"),
        "only the pushed commits: {update:?}"
    );

    // Deleting a remote branch sends no commits: nothing to check.
    let delete = git(repo.path(), &["push", "-q", "origin", ":feature"]);
    assert_eq!(delete.code, 0, "{delete:?}");
    assert!(!remote_has("feature"));
}

/// The `entry` of the pre-commit framework's hook in this repository's .pre-commit-hooks.yaml,
/// split into words: what pre-commit runs.
fn pre_commit_framework_entry() -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(".pre-commit-hooks.yaml");
    let text = std::fs::read_to_string(&path).expect(".pre-commit-hooks.yaml at the root");
    let entry = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("entry:"))
        .expect("an entry");
    let words: Vec<String> = entry.split_whitespace().map(str::to_string).collect();
    assert_eq!(words[0], "forewarn");
    words[1..].to_vec()
}

/// The hook's command, run as pre-commit runs it (no file names), with `env` set.
fn pre_commit_framework_run(repo: &Repo, env: &[(&str, &str)]) -> Run {
    let mut cmd = util::forewarn_cmd(repo.path());
    cmd.args(pre_commit_framework_entry());
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

#[test]
fn the_pre_commit_framework_hook_checks_the_range_pre_commit_names() {
    let repo = team_repo();
    let base = repo.git(&["rev-parse", "HEAD"]);
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo.write("sql/drop.sql", "DROP TABLE users;\n");
    let head = repo.commit("drop users");

    // Nothing staged, no range: nothing to check (what `pre-commit run --all-files` does).
    let staged = pre_commit_framework_run(&repo, &[]);
    assert_eq!(staged.code, 0, "{staged:?}");
    assert!(!staged.stdout.contains("team-drop-table"), "{staged:?}");

    // `pre-commit run --from-ref main --to-ref HEAD` in CI: the range is checked.
    for (from, to) in [
        ("PRE_COMMIT_FROM_REF", "PRE_COMMIT_TO_REF"),
        ("PRE_COMMIT_SOURCE", "PRE_COMMIT_ORIGIN"),
    ] {
        let ranged = pre_commit_framework_run(&repo, &[(from, &base), (to, &head)]);
        assert_eq!(ranged.code, 1, "{from}: {ranged:?}");
        assert!(ranged.stdout.contains("team-drop-table"), "{ranged:?}");
        assert!(ranged.stdout.contains("sql/drop.sql"), "{ranged:?}");
        let named = pre_commit_framework_run(&repo, &[(from, "main"), (to, "feature")]);
        assert_eq!(named.code, 1, "{from}: {named:?}");
    }
    // A range with nothing risky in it passes, whatever is staged.
    let clean = pre_commit_framework_run(
        &repo,
        &[("PRE_COMMIT_FROM_REF", &base), ("PRE_COMMIT_TO_REF", &base)],
    );
    assert_eq!(clean.code, 0, "{clean:?}");

    // Half a range is a usage error that says what is missing.
    let half = pre_commit_framework_run(&repo, &[("PRE_COMMIT_FROM_REF", &base)]);
    assert_eq!(half.code, 2, "{half:?}");
    assert!(
        half.stderr
            .contains("PRE_COMMIT_FROM_REF is set but PRE_COMMIT_TO_REF is not"),
        "{half:?}"
    );
    let bad = pre_commit_framework_run(
        &repo,
        &[
            ("PRE_COMMIT_FROM_REF", "no-such-ref"),
            ("PRE_COMMIT_TO_REF", &head),
        ],
    );
    assert_eq!(bad.code, 2, "{bad:?}");

    // Without a range, what is staged: a commit with the drop is blocked.
    repo.git(&["checkout", "-q", "main"]);
    repo.write("sql/drop2.sql", "DROP TABLE accounts;\n");
    repo.git(&["add", "-A"]);
    let blocked = pre_commit_framework_run(&repo, &[]);
    assert_eq!(blocked.code, 1, "{blocked:?}");
    assert!(blocked.stdout.contains("sql/drop2.sql"), "{blocked:?}");
}
