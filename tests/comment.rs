//! scripts/comment.sh against a fake GitHub API on 127.0.0.1: one comment per pull request,
//! found again by its hidden marker and edited in place; resolved when nothing is left.

mod http;

use std::path::Path;
use std::process::Command;

use http::github::{FakeGitHub, NUMBER, REPOSITORY, State, TOKEN};

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/comment.sh");

fn tools_missing() -> bool {
    let missing: Vec<&str> = ["curl", "jq"]
        .into_iter()
        .filter(|t| !http::have(t))
        .collect();
    if !missing.is_empty() {
        eprintln!(
            "skipped: scripts/comment.sh needs {} (install them to run this test)",
            missing.join(" and ")
        );
    }
    !missing.is_empty()
}

struct Run {
    code: i32,
    stderr: String,
}

fn comment(api: &FakeGitHub, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new("bash");
    cmd.arg(SCRIPT)
        .args(args)
        .env("GITHUB_API_URL", &api.server.url)
        .env("GITHUB_REPOSITORY", REPOSITORY)
        .env("GITHUB_TOKEN", TOKEN)
        .env("FOREWARN_PR_NUMBER", NUMBER.to_string())
        .env_remove("FOREWARN_EXPECT_HEAD_SHA");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = http::no_proxy(&mut cmd).output().expect("bash runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn report(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

#[test]
fn one_comment_edited_in_place_then_resolved() {
    if tools_missing() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let api = FakeGitHub::start(State {
        comments: vec![(1, "Looks good to me".into(), "reviewer".into())],
        ..State::default()
    });
    let first = report(
        dir.path(),
        "1.md",
        "<!-- forewarn -->\n**1 error** `team-drop-table`\n",
    );
    let run = comment(&api, &["post", &first], &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let comments = api.comments();
    assert_eq!(comments.len(), 2, "{comments:?}");
    let id = comments[1].0;
    assert_eq!(
        comments[1].1,
        "<!-- forewarn -->\n**1 error** `team-drop-table`\n"
    );

    // The next push: the same comment is edited, none is added.
    let second = report(dir.path(), "2.md", "<!-- forewarn -->\n**2 errors**\n");
    for _ in 0..2 {
        let run = comment(&api, &["post", &second], &[]);
        assert_eq!(run.code, 0, "{}", run.stderr);
    }
    let comments = api.comments();
    assert_eq!(comments.len(), 2, "{comments:?}");
    assert_eq!(
        comments[1],
        (id, "<!-- forewarn -->\n**2 errors**\n".into())
    );
    assert_eq!(comments[0].1, "Looks good to me", "others' comments stay");

    // Nothing left: the comment says so, in place.
    let run = comment(&api, &["resolve"], &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let comments = api.comments();
    assert_eq!(comments.len(), 2);
    assert_eq!(comments[1].0, id);
    assert!(comments[1].1.starts_with("<!-- forewarn -->\n"));
    assert!(comments[1].1.contains("nothing is left to answer"));
    let writes = api.writes();
    assert_eq!(
        writes.iter().filter(|(m, _)| m == "POST").count(),
        1,
        "{writes:?}"
    );
    assert!(
        writes
            .iter()
            .filter(|(m, _)| m == "PATCH")
            .all(|(_, p)| p == &format!("/repos/{REPOSITORY}/issues/comments/{id}")),
        "{writes:?}"
    );
}

#[test]
fn resolve_without_an_earlier_comment_adds_none() {
    if tools_missing() {
        return;
    }
    let api = FakeGitHub::start(State::default());
    let run = comment(&api, &["resolve"], &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(api.comments().is_empty());
    assert!(api.writes().is_empty());
}

#[test]
fn the_marker_is_found_past_the_first_page_and_duplicates_go() {
    if tools_missing() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut comments: Vec<(u64, String, String)> = (1..=150)
        .map(|i| (i, format!("comment {i}"), "someone".into()))
        .collect();
    comments.push((151, "<!-- forewarn -->\nold".into(), "bot".into()));
    comments.push((152, "<!-- forewarn -->\nraced".into(), "bot".into()));
    // A reply quoting forewarn does not start with the marker: not ours.
    comments.push((153, "> <!-- forewarn -->\nwhy?".into(), "someone".into()));
    let api = FakeGitHub::start(State {
        comments,
        ..State::default()
    });
    // A report without the marker gets it, so the next run finds it.
    let file = report(dir.path(), "r.md", "**1 warning**\n");
    let run = comment(&api, &["post", &file], &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let comments = api.comments();
    assert_eq!(comments.len(), 152, "the duplicate is deleted");
    let ours: Vec<_> = comments
        .iter()
        .filter(|(_, b)| b.starts_with("<!-- forewarn -->"))
        .collect();
    assert_eq!(
        ours,
        [&(151, "<!-- forewarn -->\n**1 warning**\n".to_string())]
    );
    assert!(comments.iter().any(|(id, _)| *id == 153));
}

#[test]
fn a_read_only_token_is_an_error_that_names_the_permission() {
    if tools_missing() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let api = FakeGitHub::start(State {
        refuse: Some(403),
        ..State::default()
    });
    let file = report(dir.path(), "r.md", "<!-- forewarn -->\nx\n");
    let run = comment(&api, &["post", &file], &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("HTTP 403"), "{}", run.stderr);
    assert!(
        run.stderr.contains("pull-requests: write"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("workflow_run"), "{}", run.stderr);
}

#[test]
fn a_report_for_another_head_is_not_posted() {
    if tools_missing() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let api = FakeGitHub::start(State {
        head_sha: "a".repeat(40),
        ..State::default()
    });
    let file = report(dir.path(), "r.md", "<!-- forewarn -->\nx\n");
    let other = "b".repeat(40);
    let run = comment(
        &api,
        &["post", &file],
        &[("FOREWARN_EXPECT_HEAD_SHA", &other)],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("not commenting"), "{}", run.stderr);
    assert!(api.comments().is_empty());
    let same = "a".repeat(40);
    let run = comment(
        &api,
        &["post", &file],
        &[("FOREWARN_EXPECT_HEAD_SHA", &same)],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(api.comments().len(), 1);
}

#[test]
fn a_pull_request_number_that_is_not_one_is_refused() {
    if tools_missing() {
        return;
    }
    let api = FakeGitHub::start(State::default());
    let run = comment(&api, &["resolve"], &[("FOREWARN_PR_NUMBER", "7/../../x")]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(api.server.requests().is_empty());
}
