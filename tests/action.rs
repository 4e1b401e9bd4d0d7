//! The Action's check step (ci/action.sh) with a fake GitHub API on 127.0.0.1: the pull
//! request's current description is read (acknowledging by editing it works on re-run), events
//! it cannot check exit 2 saying why, outputs are set on every path, and the comment is one.
//! Also `FOREWARN_PULL_REQUEST_FILE` read by `forewarn check` directly.

mod http;
mod util;

use std::path::PathBuf;
use std::process::Command;

use http::github::{FakeGitHub, NUMBER, REPOSITORY, State, TOKEN};
use util::{Repo, Run};

const ACK_DROP: &str = "Forewarn-Ack: team-drop-table: users moved to accounts in 4.1";
const ACK_SQL: &str = "Forewarn-Ack: team-new-sql: run by the release job";

fn tools_missing() -> bool {
    let missing: Vec<&str> = ["curl", "jq"]
        .into_iter()
        .filter(|t| !http::have(t))
        .collect();
    if !missing.is_empty() {
        eprintln!(
            "skipped: the Action's API calls need {} (install them to run this test)",
            missing.join(" and ")
        );
    }
    !missing.is_empty()
}

/// A clone with `feature` (drops a table, adds SQL) checked out and `origin/main` (team rules).
struct Checkout {
    _dir: tempfile::TempDir,
    path: PathBuf,
    runner: PathBuf,
}

fn checkout() -> Checkout {
    let dir = tempfile::tempdir().unwrap();
    let author = util::team_repo();
    author.write("sql/drop.sql", "DROP TABLE users;\n");
    author.commit("drop users");
    let origin = dir.path().join("origin.git");
    util::git_in(
        dir.path(),
        &["init", "-q", "--bare", origin.to_str().unwrap()],
    );
    author.git(&["push", "-q", origin.to_str().unwrap(), "main", "feature"]);
    let url = format!("file://{}", origin.display());
    util::git_in(dir.path(), &["clone", "-q", &url, "checkout"]);
    let path = dir.path().join("checkout");
    util::git_in(&path, &["checkout", "-q", "feature"]);
    let runner = dir.path().join("runner");
    std::fs::create_dir(&runner).unwrap();
    Checkout {
        _dir: dir,
        path,
        runner,
    }
}

/// `ci/action.sh check` on a pull_request event whose payload body is `event_body`.
fn check(co: &Checkout, event: &str, event_body: &str, env: &[(&str, &str)]) -> Run {
    let payload = co.runner.join("event.json");
    std::fs::write(
        &payload,
        serde_json::json!({"pull_request": {"number": NUMBER, "body": event_body}}).to_string(),
    )
    .unwrap();
    let output = co.runner.join("output.txt");
    let _ = std::fs::remove_file(&output);
    let mut cmd = Command::new("bash");
    cmd.arg(concat!(env!("CARGO_MANIFEST_DIR"), "/ci/action.sh"))
        .arg("check")
        .current_dir(&co.path)
        .env("FOREWARN_BIN", env!("CARGO_BIN_EXE_forewarn"))
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_BASE_REF", "main")
        .env("GITHUB_EVENT_NAME", event)
        .env("GITHUB_EVENT_PATH", &payload)
        .env("GITHUB_REF", format!("refs/pull/{NUMBER}/merge"))
        .env("GITHUB_REPOSITORY", REPOSITORY)
        .env("GITHUB_OUTPUT", &output)
        .env("GITHUB_STEP_SUMMARY", co.runner.join("summary.md"))
        .env("RUNNER_TEMP", &co.runner)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", &co.runner);
    for name in [
        "INPUT_FAIL_ON",
        "INPUT_RULES_FROM",
        "INPUT_SARIF_FILE",
        "INPUT_ARGS",
        "INPUT_GITHUB_TOKEN",
        "INPUT_COMMENT",
        "GITHUB_API_URL",
        "FOREWARN_PR_NUMBER",
        "FOREWARN_PULL_REQUEST_FILE",
    ] {
        cmd.env_remove(name);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = http::no_proxy(&mut cmd).output().expect("bash runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn outputs(co: &Checkout) -> String {
    std::fs::read_to_string(co.runner.join("output.txt")).unwrap_or_default()
}

fn with_api<'a>(api: &'a FakeGitHub, more: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut env = vec![
        ("GITHUB_API_URL", api.server.url.as_str()),
        ("INPUT_GITHUB_TOKEN", TOKEN),
    ];
    env.extend_from_slice(more);
    env
}

#[test]
fn an_acknowledgement_added_by_editing_the_description_counts_on_rerun() {
    if tools_missing() {
        return;
    }
    let co = checkout();
    // The event fired before the edit: its copy of the body has no acknowledgement.
    let api = FakeGitHub::start(State {
        body: Some(format!("Drops users.\r\n\r\n{ACK_DROP}\r\n{ACK_SQL}\r\n")),
        ..State::default()
    });
    let run = check(&co, "pull_request", "Drops users.", &with_api(&api, &[]));
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.contains("read the current description"),
        "{run:?}"
    );
    assert_eq!(
        outputs(&co),
        "exit-code=0\nerrors=0\nwarnings=0\nnotes=0\nacknowledged=2\n"
    );
    let requests = api.server.requests();
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert_eq!(requests[0].method, "GET");
    assert_eq!(
        requests[0].path,
        format!("/repos/{REPOSITORY}/pulls/{NUMBER}")
    );
    assert_eq!(
        requests[0].header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );

    // Without a token, the event's copy: nothing acknowledged.
    let run = check(&co, "pull_request", "Drops users.", &[]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(outputs(&co).starts_with("exit-code=1\nerrors=1\nwarnings=1\n"));
}

#[test]
fn an_unreadable_pull_request_falls_back_to_the_event_with_a_warning() {
    if tools_missing() {
        return;
    }
    let co = checkout();
    let api = FakeGitHub::start(State {
        refuse: Some(403),
        ..State::default()
    });
    let event_body = format!("{ACK_DROP}\n");
    let run = check(&co, "pull_request", &event_body, &with_api(&api, &[]));
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout
            .contains("::warning title=forewarn::Could not read pull request #7")
    );
    assert!(run.stdout.contains("HTTP 403"), "{run:?}");
    assert!(outputs(&co).contains("acknowledged=1\n"));
}

#[test]
fn pull_request_target_is_refused_with_the_reason_and_outputs_set() {
    let co = checkout();
    let run = check(&co, "pull_request_target", "", &[]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stdout.contains("does not run on pull_request_target"),
        "{run:?}"
    );
    assert!(run.stdout.contains("on: pull_request"), "{run:?}");
    assert_eq!(
        outputs(&co),
        "exit-code=2\nerrors=0\nwarnings=0\nnotes=0\nacknowledged=0\n"
    );
}

#[test]
fn a_checkout_of_the_base_itself_is_refused() {
    let co = checkout();
    util::git_in(&co.path, &["checkout", "-q", "--detach", "origin/main"]);
    let run = check(&co, "pull_request", "", &[]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stdout.contains("nothing to compare"), "{run:?}");
    assert!(run.stdout.contains("HEAD is origin/main itself"), "{run:?}");
    assert!(
        outputs(&co).starts_with("exit-code=2\n"),
        "{}",
        outputs(&co)
    );
}

#[test]
fn the_comment_is_one_edited_per_push_and_resolved_when_answered() {
    if tools_missing() {
        return;
    }
    let co = checkout();
    let api = FakeGitHub::start(State {
        body: Some("Drops users.".into()),
        ..State::default()
    });
    let comment = with_api(&api, &[("INPUT_COMMENT", "true")]);
    for _ in 0..2 {
        let run = check(&co, "pull_request", "", &comment);
        assert_eq!(run.code, 1, "{run:?}");
    }
    let comments = api.comments();
    assert_eq!(comments.len(), 1, "{comments:?}");
    assert!(
        comments[0].1.starts_with("<!-- forewarn -->"),
        "{comments:?}"
    );
    assert!(comments[0].1.contains("team-drop-table"), "{comments:?}");

    // The author answers both questions in the description and re-runs the job.
    api.state.lock().unwrap().body = Some(format!("{ACK_DROP}\n{ACK_SQL}\n"));
    let run = check(&co, "pull_request", "", &comment);
    assert_eq!(run.code, 0, "{run:?}");
    let after = api.comments();
    assert_eq!(after.len(), 1, "{after:?}");
    assert_eq!(after[0].0, comments[0].0);
    assert!(
        after[0].1.contains("nothing is left to answer"),
        "{after:?}"
    );
    let posts = api.writes().iter().filter(|(m, _)| m == "POST").count();
    assert_eq!(posts, 1);
}

#[test]
fn a_comment_the_token_cannot_write_warns_and_keeps_the_gate() {
    if tools_missing() {
        return;
    }
    let co = checkout();
    let api = FakeGitHub::start(State {
        refuse: Some(403),
        ..State::default()
    });
    let run = check(
        &co,
        "pull_request",
        "",
        &with_api(&api, &[("INPUT_COMMENT", "true")]),
    );
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stdout.contains("could not be written"), "{run:?}");
    assert!(outputs(&co).starts_with("exit-code=1\n"));
}

/// `forewarn check` reads FOREWARN_PULL_REQUEST_FILE instead of the event payload's body.
fn check_with_pull_request_file(repo: &Repo, pull_request: Option<&str>, event_body: &str) -> Run {
    let event = repo.join("event.json");
    std::fs::write(
        &event,
        serde_json::json!({"pull_request": {"body": event_body}}).to_string(),
    )
    .unwrap();
    let mut cmd = util::forewarn_cmd(repo.path());
    cmd.args([
        "check", "--base", "main", "--head", "HEAD", "--format", "json",
    ])
    .env("GITHUB_EVENT_PATH", &event);
    if let Some(text) = pull_request {
        let path = repo.join("pull-request.json");
        std::fs::write(&path, text).unwrap();
        cmd.env("FOREWARN_PULL_REQUEST_FILE", &path);
    }
    let out = cmd.output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn acknowledged(run: &Run) -> Vec<String> {
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| !f["acknowledged"].is_null())
        .map(|f| f["rule_id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn the_pull_request_file_is_read_instead_of_the_event() {
    let repo = util::team_repo();
    repo.write("sql/drop.sql", "DROP TABLE users;\n");
    repo.commit("drop users");
    let live = serde_json::json!({"number": 7, "body": format!("{ACK_DROP}\n")}).to_string();
    let run = check_with_pull_request_file(&repo, Some(&live), "no acknowledgement here");
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(acknowledged(&run), ["team-drop-table"]);

    // The file wins even when it has less: it is the description as it is now.
    let run = check_with_pull_request_file(&repo, Some(r#"{"body": null}"#), ACK_DROP);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(acknowledged(&run).is_empty());
    // Without it, the event's body.
    let run = check_with_pull_request_file(&repo, None, ACK_DROP);
    assert_eq!(acknowledged(&run), ["team-drop-table"]);

    // A file that is not a pull request is a setup error, not a silent skip.
    for bad in ["<html>rate limited</html>", r#"{"message": "Not Found"}"#] {
        let run = check_with_pull_request_file(&repo, Some(bad), "");
        assert_eq!(run.code, 2, "{run:?}");
        assert!(run.stderr.contains("FOREWARN_PULL_REQUEST_FILE"), "{run:?}");
    }
}
