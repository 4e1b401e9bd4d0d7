//! Test harness: real git repositories in temp dirs, and the real binary.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub struct Repo {
    pub dir: tempfile::TempDir,
}

/// What a run of forewarn did.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

fn from_output(out: Output) -> Run {
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A forewarn command with an environment free of CI variables and colour settings.
pub fn forewarn_cmd(dir: &Path) -> Command {
    // FOREWARN_TEST_BIN runs the same tests against another build (to show a new test fails on
    // an older binary before the change that makes it pass).
    let bin = std::env::var_os("FOREWARN_TEST_BIN")
        .unwrap_or_else(|| env!("CARGO_BIN_EXE_forewarn").into());
    let mut cmd = Command::new(bin);
    cmd.current_dir(dir)
        .env_remove("GITHUB_EVENT_PATH")
        .env_remove("FOREWARN_PULL_REQUEST_FILE")
        .env_remove("GITHUB_BASE_REF")
        .env_remove("CI_MERGE_REQUEST_DESCRIPTION")
        .env_remove("CI_MERGE_REQUEST_DESCRIPTION_IS_TRUNCATED")
        .env_remove("PRE_COMMIT_FROM_REF")
        .env_remove("PRE_COMMIT_TO_REF")
        .env_remove("PRE_COMMIT_SOURCE")
        .env_remove("PRE_COMMIT_ORIGIN")
        .env_remove("NO_COLOR")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", dir);
    cmd
}

pub fn run_in(dir: &Path, args: &[&str]) -> Run {
    from_output(forewarn_cmd(dir).args(args).output().expect("run forewarn"))
}

pub fn run_with_stdin(dir: &Path, args: &[&str], stdin: &[u8]) -> Run {
    use std::io::Write;
    let mut child = forewarn_cmd(dir)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn forewarn");
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    from_output(child.wait_with_output().unwrap())
}

pub fn git_in(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .current_dir(dir)
        .args([
            "-c",
            "init.defaultBranch=main",
            "-c",
            "commit.gpgsign=false",
            "-c",
            "protocol.file.allow=always",
        ])
        .args(args)
        .env("GIT_AUTHOR_NAME", "Test")
        .env("GIT_AUTHOR_EMAIL", "test@example.invalid")
        .env("GIT_COMMITTER_NAME", "Test")
        .env("GIT_COMMITTER_EMAIL", "test@example.invalid")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", dir)
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

impl Repo {
    /// An empty repository on branch `main`, no commits.
    pub fn empty() -> Repo {
        let dir = tempfile::tempdir().unwrap();
        git_in(dir.path(), &["init", "-q"]);
        Repo { dir }
    }

    /// A repository with one commit on `main`.
    pub fn new() -> Repo {
        let repo = Repo::empty();
        repo.write("README.md", "app\n");
        repo.commit("initial");
        repo
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn join(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }

    pub fn write(&self, path: &str, text: impl AsRef<[u8]>) -> &Repo {
        let full = self.join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, text).unwrap();
        self
    }

    pub fn remove(&self, path: &str) -> &Repo {
        std::fs::remove_file(self.join(path)).unwrap();
        self
    }

    pub fn git(&self, args: &[&str]) -> String {
        git_in(self.path(), args)
    }

    /// Stages everything and commits; returns the commit id.
    pub fn commit(&self, message: &str) -> String {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "--allow-empty", "-m", message]);
        self.git(&["rev-parse", "HEAD"])
    }

    pub fn forewarn(&self, args: &[&str]) -> Run {
        run_in(self.path(), args)
    }

    /// `check --commit HEAD` as JSON, with no gate.
    pub fn check_head(&self) -> Run {
        self.forewarn(&[
            "check",
            "--commit",
            "HEAD",
            "--format",
            "json",
            "--fail-on",
            "never",
        ])
    }

    /// The findings of `check --commit HEAD` (JSON, no gate), asserting it ran.
    pub fn head_findings(&self) -> Vec<serde_json::Value> {
        let run = self.check_head();
        assert_eq!(run.code, 0, "{run:?}");
        let doc: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
        doc["findings"].as_array().expect("findings").clone()
    }
}

pub const MIGRATION: &str = "from django.db import migrations\n\n\nclass Migration(migrations.Migration):\n    operations = []\n";

/// A team rule file that fires on added `DROP TABLE` lines and on new files under `sql/`.
pub const TEAM_RULES: &str = r#"
[[rule]]
id = "team-drop-table"
title = "Dropping a table"
severity = "error"
category = "migration"
message = "{path}:{line} drops a table ({match}). Readers of the old schema may still be running."
ask = "Has every reader of this table stopped reading it?"
findings = ["2019-07-payments-config-missing#F2"]
[rule.match]
paths = ["**/*.sql"]
added = ['(?i)^\s*drop\s+table']

[[rule]]
id = "team-new-sql"
title = "A new SQL file"
severity = "warning"
category = "migration"
message = "{path} adds SQL."
ask = "Who runs it, and when?"
[rule.match]
paths = ["sql/**"]
status = ["added"]
"#;

/// A repo on `main` with the team rules (built-in packs off), and a `feature` branch checked out.
pub fn team_repo() -> Repo {
    let repo = Repo::new();
    repo.write("forewarn.toml", "[rules]\nbuiltin = false\n")
        .write(".forewarn/rules/team.toml", TEAM_RULES);
    repo.commit("forewarn config");
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo
}
