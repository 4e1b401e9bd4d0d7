//! Moving the ledger ref between a repository and its remote, with the `git` on PATH: it uses
//! the credentials the CI checkout configured (actions/checkout keeps the token in the git
//! config; GitLab puts the job token in the remote URL), which libgit2 without transports cannot.
//!
//! A push fetches the remote's tip into a ref private to this process, builds the commit that
//! adds the events on that tip ([`super::store_ref::build`]) and pushes it. When another writer
//! moved the tip in between, git refuses the push as not a fast-forward: the events are rebuilt on
//! the new tip and pushed again, after a short random wait, a bounded number of times. A refusal
//! for lack of permission is not retried: it is an error that names the permission to grant.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::process::{Command, Output};
use std::time::Duration;

use git2::{Oid, Repository};

use super::store_ref::{self, REF};
use crate::error::{Error, Result};

/// How many times a push is tried before giving up.
const ATTEMPTS: u32 = 60;

/// What a push did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pushed {
    /// Events the remote did not have.
    pub added: usize,
    /// Pushes tried (1 when nobody else was pushing).
    pub attempts: u32,
}

/// What a fetch found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    /// The remote's ledger tip; `None` when the remote has no ledger yet.
    pub tip: Option<Oid>,
}

/// Why git refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    /// Someone else moved the ref first: fetch, rebuild, try again.
    Moved,
    /// The credentials may read but not write (or not even read).
    Permission,
    /// Anything else: git's own words are the message.
    Other,
}

fn classify(stderr: &str) -> Refusal {
    let text = stderr.to_ascii_lowercase();
    const PERMISSION: &[&str] = &[
        "permission to",
        "permission denied",
        "error: 403",
        "error: 401",
        "access denied",
        "not allowed to push",
        "not allowed to write",
        "insufficient permission",
        "you are not allowed",
        "write access to repository not granted",
        "authentication failed",
        "could not read username",
        "read-only",
        "read only",
    ];
    const MOVED: &[&str] = &[
        "non-fast-forward",
        "fetch first",
        "cannot lock ref",
        "failed to lock",
        "failed to update ref",
        "incorrect old value",
        "stale info",
        "unable to create",
        "reference already exists",
    ];
    if PERMISSION.iter().any(|m| text.contains(m)) {
        Refusal::Permission
    } else if MOVED.iter().any(|m| text.contains(m)) {
        Refusal::Moved
    } else {
        Refusal::Other
    }
}

/// `git` in the repository, never prompting, never starting housekeeping.
fn git(repo: &Repository, args: &[&str]) -> Result<Output> {
    Command::new("git")
        .arg("--git-dir")
        .arg(repo.path())
        .args(["-c", "gc.auto=0", "-c", "maintenance.auto=false"])
        .args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .output()
        .map_err(|e| {
            Error::repository(
                format!("`git` could not be run ({e})"),
                "install git: the ledger is pushed and fetched with the git the CI checkout configured",
            )
        })
}

/// Git's complaint, trimmed, for a message.
fn said(out: &Output) -> String {
    let text = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("hint:"))
        .collect();
    lines.join("\n  ")
}

fn permission_error(remote: &str, action: &str, out: &Output) -> Error {
    Error::repository(
        format!(
            "the ledger could not be {action} `{remote}`: the remote refused for lack of permission\n  git said: {}",
            said(out)
        ),
        "grant the job write access to the repository's contents. GitHub Actions: add \
         `permissions: contents: write` to the job that records (for pull requests from forks, \
         record through the workflow_run recipe in the README). GitLab CI: push with a project or \
         group access token that has the `write_repository` scope (or allow the job token to push \
         in Settings > CI/CD > Job token permissions)",
    )
}

fn other_error(remote: &str, action: &str, out: &Output) -> Error {
    Error::repository(
        format!(
            "the ledger could not be {action} `{remote}`\n  git said: {}",
            said(out)
        ),
        format!(
            "check that `{remote}` is a remote of this repository (`git remote -v`) or a URL, and \
             that git can reach it; name another with --remote"
        ),
    )
}

/// A ref no other process uses, to fetch into.
fn private_ref() -> String {
    let random = RandomState::new().hash_one(std::process::id()) as u32;
    format!("refs/forewarn/fetching/{}-{random:08x}", std::process::id())
}

/// How many times a fetch that raced another process of the same repository is tried.
const FETCH_ATTEMPTS: u32 = 8;

/// Fetches the remote's ledger tip into `into` (forced); `None` when the remote has none.
/// `Err(Ok(output))` is a fetch that raced another writer in this repository and may be tried
/// again.
fn fetch_into(
    repo: &Repository,
    remote: &str,
    into: &str,
) -> Result<Option<Oid>, std::result::Result<Output, Error>> {
    let spec = format!("+{REF}:{into}");
    let out = git(
        repo,
        &[
            "fetch",
            "--quiet",
            "--no-tags",
            "--no-write-fetch-head",
            "--no-recurse-submodules",
            remote,
            &spec,
        ],
    )
    .map_err(Err)?;
    if out.status.success() {
        return Ok(store_ref::tip(repo, into));
    }
    let stderr = String::from_utf8_lossy(&out.stderr).to_ascii_lowercase();
    if stderr.contains("couldn't find remote ref") || stderr.contains("could not find remote ref") {
        return Ok(None);
    }
    // Another process of this repository fetching at the same moment: its private ref can
    // name objects this fetch's connectivity check does not see yet, or a ref lock is held.
    let raced = stderr.contains("bad object") || stderr.contains("did not send all necessary");
    match classify(&stderr) {
        Refusal::Permission => Err(Err(permission_error(remote, "fetched from", &out))),
        Refusal::Moved => Err(Ok(out)),
        Refusal::Other if raced => Err(Ok(out)),
        Refusal::Other => Err(Err(other_error(remote, "fetched from", &out))),
    }
}

/// Fetches the remote's ledger tip without touching the local ledger ref.
fn remote_tip(repo: &Repository, remote: &str) -> Result<Option<Oid>> {
    let mut attempt = 1;
    loop {
        let private = private_ref();
        let tip = fetch_into(repo, remote, &private);
        if let Ok(mut reference) = repo.find_reference(&private) {
            let _ = reference.delete();
        }
        match tip {
            Ok(tip) => return Ok(tip),
            Err(Err(error)) => return Err(error),
            Err(Ok(out)) if attempt >= FETCH_ATTEMPTS => {
                return Err(other_error(remote, "fetched from", &out));
            }
            Err(Ok(_)) => {
                std::thread::sleep(backoff(attempt));
                attempt += 1;
            }
        }
    }
}

/// A wait of about `50ms × 2^attempt` (at most about 2 s), randomised so that writers who
/// collided do not collide again.
fn backoff(attempt: u32) -> Duration {
    let base = 50u64 << attempt.min(5);
    let random = RandomState::new().hash_one((std::process::id(), attempt)) % (base + 1);
    Duration::from_millis(base / 2 + random)
}

/// Adds `files` (`(name, bytes)`, each a ledger event) to the ledger ref of `remote`, and moves
/// the local ledger ref along when that only adds to it.
pub fn push(repo: &Repository, remote: &str, files: &[(String, Vec<u8>)]) -> Result<Pushed> {
    let mut last = None;
    for attempt in 1..=ATTEMPTS {
        let tip = remote_tip(repo, remote)?;
        let Some((commit, added)) = store_ref::build(repo, tip, files)? else {
            if let Some(tip) = tip {
                store_ref::advance_local(repo, tip);
            }
            return Ok(Pushed {
                added: 0,
                attempts: attempt,
            });
        };
        let spec = format!("{commit}:{REF}");
        let out = git(repo, &["push", "--quiet", "--no-verify", remote, &spec])?;
        if out.status.success() {
            store_ref::advance_local(repo, commit);
            return Ok(Pushed {
                added,
                attempts: attempt,
            });
        }
        match classify(&String::from_utf8_lossy(&out.stderr)) {
            Refusal::Moved => {
                std::thread::sleep(backoff(attempt));
                last = Some(out);
            }
            Refusal::Permission => return Err(permission_error(remote, "pushed to", &out)),
            Refusal::Other => return Err(other_error(remote, "pushed to", &out)),
        }
    }
    let said = last.as_ref().map(said).unwrap_or_default();
    Err(Error::repository(
        format!(
            "the ledger could not be pushed to `{remote}`: other writers kept moving it ({ATTEMPTS} attempts)\n  git said: {said}"
        ),
        "run `forewarn ledger push` again: the events are still in the ledger folder",
    ))
}

/// Fetches the remote's ledger and merges it into the local ledger ref: the local ref becomes
/// the remote's when it holds nothing more, else a commit on the remote's tip with the events
/// only the local ref has (to be pushed by the next `ledger push`). Returns the remote tip.
pub fn pull(repo: &Repository, remote: &str) -> Result<Fetched> {
    let tip = remote_tip(repo, remote)?;
    let Some(remote_oid) = tip else {
        return Ok(Fetched { tip: None });
    };
    let local = store_ref::tip(repo, REF);
    match local {
        None => {
            let _ = repo.reference(REF, remote_oid, true, "forewarn ledger: pull");
        }
        Some(local) if local == remote_oid => {}
        Some(local) => {
            let only_local = store_ref::files(repo, REF);
            let merged = match store_ref::build(repo, Some(remote_oid), &only_local)? {
                Some((oid, _)) => oid,
                None => remote_oid,
            };
            let _ = repo.reference_matching(REF, merged, true, local, "forewarn ledger: pull");
        }
    }
    Ok(Fetched { tip })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_are_told_apart() {
        assert_eq!(
            classify(" ! [rejected]        abc -> refs/forewarn/ledger (fetch first)"),
            Refusal::Moved
        );
        assert_eq!(
            classify(" ! [remote rejected] abc -> refs/forewarn/ledger (failed to lock)"),
            Refusal::Moved
        );
        assert_eq!(
            classify(
                "remote: Permission to org/app.git denied to github-actions[bot].\nfatal: unable to access 'https://github.com/org/app.git/': The requested URL returned error: 403"
            ),
            Refusal::Permission
        );
        assert_eq!(
            classify("remote: You are not allowed to push code to this project."),
            Refusal::Permission
        );
        assert_eq!(
            classify(
                "error: insufficient permission for adding an object to repository database ./objects"
            ),
            Refusal::Permission
        );
        assert_eq!(
            classify("fatal: 'nowhere' does not appear to be a git repository"),
            Refusal::Other
        );
    }

    #[test]
    fn backoff_grows_and_stays_bounded() {
        assert!(backoff(1) <= Duration::from_millis(150));
        assert!(backoff(30) <= Duration::from_millis(2400));
        assert!(backoff(30) >= Duration::from_millis(800));
    }
}
