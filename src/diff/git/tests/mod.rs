//! Tests of reading changes from git, on scratch repositories driven by the git CLI: each input
//! (`inputs`), reading in batches and on threads (`read`), and what content is read as text
//! (`content`).

use std::path::Path;
use std::process::Command;

pub(super) use super::*;
pub(super) use crate::diff::{FileStatus, Lines, NewSide};

mod content;
mod inputs;
mod read;

/// A scratch repository driven by the git CLI, isolated from the user's git config.
struct Scratch {
    dir: tempfile::TempDir,
}

fn git_in(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args([
            "-c",
            "init.defaultBranch=main",
            "-c",
            "commit.gpgsign=false",
            "-c",
            "core.autocrlf=false",
            "-c",
            "protocol.file.allow=always",
        ])
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "Forewarn Test")
        .env("GIT_AUTHOR_EMAIL", "test@example.com")
        .env("GIT_COMMITTER_NAME", "Forewarn Test")
        .env("GIT_COMMITTER_EMAIL", "test@example.com")
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

impl Scratch {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        git_in(dir.path(), &["init", "-q"]);
        Scratch { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn git(&self, args: &[&str]) -> String {
        git_in(self.path(), args)
    }

    fn write(&self, path: &str, content: impl AsRef<[u8]>) {
        let full = self.path().join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, content).unwrap();
    }

    /// Stages everything and commits; returns the new commit id.
    fn commit(&self, message: &str) -> String {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "--allow-empty", "-m", message]);
        self.git(&["rev-parse", "HEAD"])
    }

    fn repo(&self) -> Repository {
        Repository::open(self.path()).unwrap()
    }

    fn changes(&self, input: &Input) -> Result<ChangeSet> {
        changes(&self.repo(), input, None)
    }
}

fn worktree(base: Option<&str>) -> Input {
    Input::WorkingTree {
        base: base.map(String::from),
    }
}

fn file<'a>(set: &'a ChangeSet, path: &str) -> &'a ChangedFile {
    set.files
        .iter()
        .find(|f| f.path == path)
        .unwrap_or_else(|| {
            panic!(
                "{path} not in {:?}",
                set.files.iter().map(|f| &f.path).collect::<Vec<_>>()
            )
        })
}

fn lines(l: &Lines) -> Vec<(u32, &str)> {
    l.iter().collect()
}

fn numbered(n: usize) -> String {
    (1..=n).map(|i| format!("line {i}\n")).collect()
}

fn error_text(e: &Error) -> String {
    e.render(false)
}
