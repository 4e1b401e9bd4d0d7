//! The ledger on `refs/forewarn/ledger`, on real bare remotes in temp dirs: concurrent pushers,
//! a push refused for permission, a malformed event on the ref, a pull request whose finding is
//! resolved before merge (through the Action's own steps), the fork recipe, `report --write`.

mod util;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use util::{Repo, Run, TEAM_RULES, forewarn_cmd, git_in};

const LEDGER: &str = "refs/forewarn/ledger";

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}):\n{text}"))
}

/// A bare remote in a temp dir.
struct Remote {
    dir: tempfile::TempDir,
}

impl Remote {
    fn new() -> Remote {
        let dir = tempfile::tempdir().unwrap();
        git_in(dir.path(), &["init", "-q", "--bare", "remote.git"]);
        Remote { dir }
    }

    fn path(&self) -> PathBuf {
        self.dir.path().join("remote.git")
    }

    fn url(&self) -> String {
        format!("file://{}", self.path().display())
    }

    /// The event files on the remote's ledger ref, by path.
    fn events(&self) -> Vec<String> {
        let out = Command::new("git")
            .arg("--git-dir")
            .arg(self.path())
            .args(["ls-tree", "-r", "--name-only", LEDGER])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_string)
            .collect()
    }
}

/// A repository with the team rules on `main`, pushed to `remote` as `origin`.
fn project(remote: &Remote) -> Repo {
    let repo = Repo::new();
    repo.write("forewarn.toml", "[rules]\nbuiltin = false\n")
        .write(".forewarn/rules/team.toml", TEAM_RULES);
    repo.commit("forewarn rules");
    repo.git(&["remote", "add", "origin", &remote.url()]);
    repo.git(&["push", "-q", "origin", "main"]);
    repo
}

/// One event file, as `check --record` writes it, named `name`.
fn event_file(dir: &Path, name: &str, rule: &str) {
    std::fs::create_dir_all(dir).unwrap();
    let event = serde_json::json!({
        "version": 1,
        "time": "2024-05-01T10:00:00Z",
        "kind": "fired",
        "rule": rule,
        "rule_version": "",
        "findings": [],
        "severity": "error",
        "fingerprint": name,
        "path": "sql/a.sql",
        "commit": "0123456789abcdef0123456789abcdef01234567",
        "pull_request": null,
        "forewarn": "test"
    });
    std::fs::write(dir.join(name), event.to_string()).unwrap();
}

#[test]
fn fifty_concurrent_pushers_lose_no_event() {
    let remote = Remote::new();
    let first = project(&remote);
    // Five checkouts, as five runners would have, ten pushers in each.
    let clones: Vec<tempfile::TempDir> = (0..5)
        .map(|_| {
            let dir = tempfile::tempdir().unwrap();
            git_in(dir.path(), &["clone", "-q", &remote.url(), "work"]);
            dir
        })
        .collect();
    drop(first);
    let mut expected = Vec::new();
    let children: Vec<_> = (0..50)
        .map(|i| {
            let work = clones[i % 5].path().join("work");
            let from = clones[i % 5].path().join(format!("artifact-{i}"));
            let name = format!("20240501T100000.{i:09}Z-pr{i}-test-{i}.json");
            event_file(&from, &name, "team-drop-table");
            expected.push(format!("events/2024/{name}"));
            forewarn_cmd(&work)
                .args(["ledger", "push", "--from"])
                .arg(&from)
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
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let mut on_remote = remote.events();
    on_remote.sort();
    expected.sort();
    assert_eq!(on_remote, expected, "every event is on the remote's ref");
    // Pushing them again adds nothing.
    let work = clones[0].path().join("work");
    let again = util::run_in(&work, &["ledger", "push", "--from", "../artifact-0"]);
    assert_eq!(again.code, 0, "{again:?}");
    assert!(again.stderr.contains("nothing new to add"), "{again:?}");
    assert_eq!(remote.events().len(), 50);
}

/// A remote whose pre-receive hook refuses every push the way GitHub does for a read-only
/// token.
fn refusing_remote() -> Remote {
    let remote = Remote::new();
    let hook = remote.path().join("hooks/pre-receive");
    std::fs::write(
        &hook,
        "#!/bin/sh\necho 'Permission to org/app.git denied to github-actions[bot].' >&2\nexit 1\n",
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    remote
}

#[test]
fn a_push_refused_for_permission_exits_2_naming_the_permission() {
    let remote = Remote::new();
    let repo = project(&remote);
    // From here on the remote refuses: the job's token may read, not write.
    let refusing = refusing_remote();
    repo.git(&["remote", "set-url", "origin", &refusing.url()]);
    repo.write("sql/a.sql", "DROP TABLE a;\n");
    repo.commit("drop");
    let run = repo.forewarn(&[
        "check", "--commit", "HEAD", "--record", "--push", "--pr", "3",
    ]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("lack of permission"), "{run:?}");
    assert!(
        run.stderr.contains("permissions: contents: write"),
        "{run:?}"
    );
    assert!(run.stderr.contains("write_repository"), "{run:?}");
    assert!(
        run.stderr.contains("Permission to org/app.git denied"),
        "{run:?}"
    );
    // The check's own report still printed, and the events stay in the folder for later.
    assert!(run.stdout.contains("team-drop-table"), "{run:?}");
    assert!(
        std::fs::read_dir(repo.join(".forewarn/ledger"))
            .unwrap()
            .count()
            > 0
    );
    let push = repo.forewarn(&["ledger", "push"]);
    assert_eq!(push.code, 2, "{push:?}");
    assert!(push.stderr.contains("contents: write"), "{push:?}");
    assert!(refusing.events().is_empty());
}

#[test]
fn a_remote_that_is_not_there_is_an_error_not_a_permission() {
    let repo = Repo::new();
    let run = repo.forewarn(&["ledger", "push", "--remote", "/nonexistent/remote.git"]);
    // Nothing to push is not a reason to skip asking the remote: its tip is fetched first.
    assert_eq!(run.code, 2, "{run:?}");
    assert!(!run.stderr.contains("contents: write"), "{run:?}");
    assert!(run.stderr.contains("--remote"), "{run:?}");
}

/// Adds a blob at `path` of the remote's ledger ref, as a broken writer would.
fn plant_on_ref(remote: &Remote, path: &str, text: &str) {
    let git = |args: &[&str], stdin: Option<&str>| -> String {
        use std::io::Write;
        let mut child = Command::new("git")
            .arg("--git-dir")
            .arg(remote.path())
            .args(args)
            .env("GIT_INDEX_FILE", remote.dir.path().join("plant.index"))
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.invalid")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.invalid")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.unwrap_or("").as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "git {args:?}");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    let blob = git(&["hash-object", "-w", "--stdin"], Some(text));
    git(&["read-tree", LEDGER], None);
    git(
        &[
            "update-index",
            "--add",
            "--cacheinfo",
            &format!("100644,{blob},{path}"),
        ],
        None,
    );
    let tree = git(&["write-tree"], None);
    let commit = git(&["commit-tree", &tree, "-p", LEDGER, "-m", "broken"], None);
    git(&["update-ref", LEDGER, &commit], None);
}

#[test]
fn a_malformed_event_on_the_ref_is_named_and_the_rest_is_read() {
    let remote = Remote::new();
    let repo = project(&remote);
    repo.write("sql/a.sql", "DROP TABLE a;\n");
    repo.commit("drop");
    let run = repo.forewarn(&["check", "--commit", "HEAD", "--record", "--push"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(remote.events().len(), 2, "two findings, no pull request");
    // Here the events are in the folder and on the local ref: each is counted once.
    let here = json(&repo.forewarn(&["report", "--format", "json"]).stdout);
    assert_eq!(here["ledger_events"], 2, "{here}");
    plant_on_ref(&remote, "events/2024/broken-event.json", "{ not json");

    // Another clone, as the facilitator has: the ledger comes from the remote.
    let dir = tempfile::tempdir().unwrap();
    git_in(dir.path(), &["clone", "-q", &remote.url(), "work"]);
    let work = dir.path().join("work");
    let pull = util::run_in(&work, &["ledger", "pull"]);
    assert_eq!(pull.code, 0, "{pull:?}");
    assert!(
        pull.stderr.contains("events/2024/broken-event.json"),
        "{pull:?}"
    );
    assert!(pull.stderr.contains("holds 2 events"), "{pull:?}");
    let report = util::run_in(&work, &["report", "--format", "json"]);
    assert_eq!(report.code, 0, "{report:?}");
    let doc = json(&report.stdout);
    assert_eq!(doc["ledger_events"], 2, "{doc}");
    let warnings = doc["warnings"].to_string();
    assert!(
        warnings
            .contains("refs/forewarn/ledger:events/2024/broken-event.json is not a ledger event"),
        "{warnings}"
    );
    let drop = doc["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "team-drop-table")
        .unwrap();
    assert_eq!(drop["fired"], 1, "{drop}");
}

/// `ci/action.sh check` as the Action runs it on a pull_request event, recording.
fn action_check(checkout: &Path, runner: &Path, pr: u64) -> Run {
    let event = runner.join("event.json");
    std::fs::write(
        &event,
        serde_json::json!({"action": "synchronize", "pull_request": {"number": pr, "body": ""}})
            .to_string(),
    )
    .unwrap();
    let out = Command::new("bash")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/ci/action.sh"))
        .arg("check")
        .current_dir(checkout)
        .env("FOREWARN_BIN", env!("CARGO_BIN_EXE_forewarn"))
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_BASE_REF", "main")
        .env("GITHUB_EVENT_NAME", "pull_request")
        .env("GITHUB_EVENT_PATH", &event)
        .env("GITHUB_STEP_SUMMARY", runner.join("summary.md"))
        .env("GITHUB_OUTPUT", runner.join("output.txt"))
        .env("INPUT_RECORD", "true")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", runner)
        .env_remove("INPUT_ARGS")
        .env_remove("INPUT_RULES_FROM")
        .output()
        .unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A fresh CI checkout of `branch` (the workspace of one job, thrown away after it).
fn ci_checkout(remote: &Remote, branch: &str) -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    git_in(dir.path(), &["clone", "-q", &remote.url(), "checkout"]);
    let checkout = dir.path().join("checkout");
    git_in(&checkout, &["checkout", "-q", branch]);
    let runner = dir.path().join("runner");
    std::fs::create_dir(&runner).unwrap();
    (dir, checkout, runner)
}

const RECORD_PATH: &str = ".forewarn/analyses/2019-07-payments-config-missing.toml";

#[test]
fn a_finding_gone_at_the_next_push_is_resolved_before_merge() {
    let remote = Remote::new();
    let author = project(&remote);
    let culprit = author.git(&["rev-parse", "--short", "HEAD"]);
    author.write(
        RECORD_PATH,
        include_str!("../src/analysis/testdata/analysis.toml").replace("3f9c2e1", &culprit),
    );
    author.commit("analysis record");
    author.git(&["push", "-q", "origin", "main"]);
    author.git(&["checkout", "-q", "-b", "feature"]);

    // Push 1: the pull request drops a table. The Action records and pushes the ledger.
    author.write("sql/cleanup.sql", "DROP TABLE legacy_sessions;\n");
    author.commit("Clean up legacy sessions");
    author.git(&["push", "-q", "origin", "feature"]);
    let (_job1, checkout, runner) = ci_checkout(&remote, "feature");
    let first = action_check(&checkout, &runner, 12);
    assert_eq!(first.code, 1, "the gate fails: {first:?}");
    assert!(first.stdout.contains("team-drop-table"), "{first:?}");
    let after_first = remote.events();
    assert!(
        after_first
            .iter()
            .any(|e| e.contains("-pr12-") && e.contains("checked")),
        "{after_first:?}"
    );

    // Push 2: the author renames the table instead of dropping it. No acknowledgement.
    author.write(
        "sql/cleanup.sql",
        "ALTER TABLE legacy_sessions RENAME TO legacy_sessions_old;\n",
    );
    author.commit("Rename instead of drop, so the old readers keep working");
    author.git(&["push", "-q", "origin", "feature"]);
    let (_job2, checkout, runner) = ci_checkout(&remote, "feature");
    let second = action_check(&checkout, &runner, 12);
    assert_eq!(second.code, 0, "{second:?}");
    assert!(remote.events().len() > after_first.len());

    // The facilitator, in a clone of their own, reads it back.
    let (_mine, facilitator, _) = ci_checkout(&remote, "main");
    let pull = util::run_in(&facilitator, &["ledger", "pull"]);
    assert_eq!(pull.code, 0, "{pull:?}");
    let doc = json(&util::run_in(&facilitator, &["report", "--format", "json"]).stdout);
    let drop = doc["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "team-drop-table")
        .unwrap();
    assert_eq!(drop["fired"], 1, "{drop}");
    assert_eq!(drop["acknowledged"], 0, "{drop}");
    assert_eq!(drop["resolved_before_merge"], 1, "{drop}");
    // team-new-sql still fires at push 2 (the file is still new): not resolved.
    let new_sql = doc["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "team-new-sql")
        .unwrap();
    assert_eq!(new_sql["resolved_before_merge"], 0, "{new_sql}");
    let f2 = &doc["analyses"][0]["findings"][1];
    assert_eq!(f2["lessons"][0]["rule"], "team-drop-table", "{f2}");
    assert_eq!(f2["lessons"][0]["resolved_before_merge"], 1, "{f2}");

    // Backtest shows what CI recorded next to what history says.
    let backtest = util::run_in(&facilitator, &["backtest", "--format", "json"]);
    assert_eq!(backtest.code, 0, "{backtest:?}");
    let ledger = &json(&backtest.stdout)["ledger"]["team-drop-table"];
    assert_eq!(ledger["fired"], 1, "{ledger}");
    assert_eq!(ledger["resolved_before_merge"], 1, "{ledger}");

    let md = util::run_in(&facilitator, &["report"]).stdout;
    assert!(
        md.contains(
            "- F2: `team-drop-table` fired on 1 change: 0 acknowledged, 1 resolved before merge"
        ),
        "{md}"
    );
    assert!(md.contains("| `team-drop-table` | 1 | 0 | 1 |"), "{md}");

    // `report --write` stores it in the record, keeping what was written.
    let before = std::fs::read_to_string(facilitator.join(RECORD_PATH)).unwrap();
    let write = util::run_in(&facilitator, &["report", "--write", "--format", "json"]);
    assert_eq!(write.code, 0, "{write:?}");
    assert!(
        write.stderr.contains("stored the summary of 1 rule"),
        "{write:?}"
    );
    let after = std::fs::read_to_string(facilitator.join(RECORD_PATH)).unwrap();
    assert!(after.starts_with(&before), "the record is kept as written");
    let added = &after[before.len()..];
    assert!(
        added.contains("[[report]]\nrule = \"team-drop-table\"\nfinding = \"F2\""),
        "{added}"
    );
    assert!(added.contains("resolved_before_merge = 1\n"), "{added}");
    let validate = util::run_in(&facilitator, &["validate"]);
    assert_eq!(validate.code, 0, "the record still loads: {validate:?}");
}

#[test]
fn fork_pull_requests_record_through_an_artifact_pushed_by_the_trusted_workflow() {
    let remote = Remote::new();
    let author = project(&remote);
    author.git(&["checkout", "-q", "-b", "from-fork"]);
    author.write("sql/a.sql", "DROP TABLE a;\n");
    author.commit("drop");
    author.git(&["push", "-q", "origin", "from-fork"]);

    // The pull_request job (read-only token): records into the folder, uploads it.
    let (_job, checkout, runner) = ci_checkout(&remote, "from-fork");
    let check = forewarn_cmd(&checkout)
        .args([
            "check",
            "--base",
            "origin/main",
            "--head",
            "HEAD",
            "--record",
            "--pr",
            "31",
        ])
        .output()
        .unwrap();
    assert_eq!(check.status.code(), Some(1));
    let artifact = runner.join("forewarn-ledger");
    std::fs::create_dir(&artifact).unwrap();
    for entry in std::fs::read_dir(checkout.join(".forewarn/ledger")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), artifact.join(entry.file_name())).unwrap();
    }
    assert!(
        remote.events().is_empty(),
        "nothing pushed from the fork's job"
    );

    // The workflow_run job (contents: write), in a checkout of the base: pushes the artifact.
    let (_trusted, base, _) = ci_checkout(&remote, "main");
    let push = util::run_in(
        &base,
        &["ledger", "push", "--from", artifact.to_str().unwrap()],
    );
    assert_eq!(push.code, 0, "{push:?}");
    assert!(push.stderr.contains("added 3 events"), "{push:?}");
    let events = remote.events();
    assert_eq!(events.len(), 3, "{events:?}");
    assert!(events.iter().all(|e| e.contains("-pr31-")), "{events:?}");
}
