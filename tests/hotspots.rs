//! Past findings as live context: a change that touches what an incident's culprit commit touched
//! gets a note with the record's lessons. Real repositories, the real binary.

mod util;

use serde_json::Value;
use util::Repo;

const RECORD_PATH: &str = ".forewarn/analyses/2019-07-payments-config-missing.toml";
const ID: &str = "2019-07-payments-config-missing";

/// The design's example record, with its culprit replaced and top-level keys added.
fn record(culprit: &str, status: &str, top: &str) -> String {
    include_str!("../src/analysis/testdata/analysis.toml")
        .replace("3f9c2e1", culprit)
        .replacen(
            "status = \"reviewed\"",
            &format!("status = \"{status}\"\n{top}"),
            1,
        )
}

/// Built-in rules off, so only hotspots speak; a culprit commit that changes the payments
/// gateway; a later unrelated commit. Returns the repo and the culprit's full id.
fn history(config: &str) -> (Repo, String) {
    let repo = Repo::new();
    repo.write(
        "forewarn.toml",
        format!("[rules]\nbuiltin = false\n{config}"),
    )
    .write("payments/gateway.py", "URL = None\n")
    .write("app/views.py", "def index(): pass\n");
    repo.commit("base");
    repo.write("payments/gateway.py", "URL = settings.GATEWAY_URL\n")
        .write("Cargo.lock", "# lock\n");
    let culprit = repo.commit("Read the gateway URL from settings");
    repo.write("app/views.py", "def index(): return 1\n");
    repo.commit("later");
    (repo, culprit)
}

fn json(run: &util::Run) -> Value {
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {run:?}"))
}

fn hotspot_findings(doc: &Value) -> Vec<&Value> {
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule_id"] == "incident-hotspot")
        .collect()
}

/// Commits a change to `path`, then checks that commit as JSON.
fn touch_and_check(repo: &Repo, path: &str, args: &[&str]) -> util::Run {
    let before = std::fs::read_to_string(repo.join(path)).unwrap_or_default();
    repo.write(path, format!("{before}# touched again\n"));
    let sha = repo.commit("touch");
    let mut all = vec!["check", "--commit", &sha, "--format", "json"];
    all.extend_from_slice(args);
    repo.forewarn(&all)
}

#[test]
fn touching_a_culprit_file_again_gives_a_note_with_the_lesson() {
    let (repo, culprit) = history("");
    let short = &culprit[..7];
    repo.write(RECORD_PATH, record(short, "reviewed", ""));
    repo.commit("record");
    let run = touch_and_check(&repo, "payments/gateway.py", &[]);
    assert_eq!(
        run.code, 0,
        "a note does not fail the default gate: {run:?}"
    );
    let doc = json(&run);
    let found = hotspot_findings(&doc);
    assert_eq!(found.len(), 1, "{run:?}");
    let f = found[0];
    assert_eq!(f["severity"], "note");
    assert_eq!(f["category"], "process");
    assert_eq!(f["path"], "payments/gateway.py");
    let message = f["message"].as_str().unwrap();
    assert!(message.contains(ID), "{message}");
    assert!(message.contains(short), "{message}");
    assert!(
        message.contains("A new migration needs a visible deploy step before merge."),
        "{message}"
    );
    assert_eq!(
        f["ask"],
        "Does this change touch what that incident touched?"
    );
    assert_eq!(
        f["findings"],
        serde_json::json!([format!("{ID}#F1"), format!("{ID}#F2"), format!("{ID}#F3")])
    );
    // The cache lives in the git directory, never in the working tree.
    assert!(repo.join(".git/forewarn/hotspots-cache.json").is_file());
    assert!(repo.git(&["status", "--porcelain"]).is_empty());

    // A file the culprit did not change stays quiet; so does the gate with --fail-on error.
    let run = touch_and_check(&repo, "app/views.py", &[]);
    assert!(hotspot_findings(&json(&run)).is_empty(), "{run:?}");

    // Second run reads the cache and says the same.
    let again = touch_and_check(&repo, "payments/gateway.py", &["--fail-on", "note"]);
    assert_eq!(again.code, 1, "{again:?}");
    assert_eq!(hotspot_findings(&json(&again)).len(), 1);
}

#[test]
fn a_file_renamed_since_is_still_found() {
    let (repo, culprit) = history("");
    repo.write(RECORD_PATH, record(&culprit[..9], "reviewed", ""));
    repo.git(&["mv", "payments/gateway.py", "payments/gateway_client.py"]);
    repo.commit("rename");
    repo.write(
        "payments/gateway_client.py",
        "URL = settings.GATEWAY_URL\nTIMEOUT = 5\n",
    );
    let sha = repo.commit("touch renamed");
    let run = repo.forewarn(&["check", "--commit", &sha, "--format", "json"]);
    let doc = json(&run);
    let found = hotspot_findings(&doc);
    assert_eq!(found.len(), 1, "{run:?}");
    assert_eq!(found[0]["path"], "payments/gateway_client.py");
    assert!(
        found[0]["message"]
            .as_str()
            .unwrap()
            .contains("as payments/gateway.py"),
        "{run:?}"
    );
}

#[test]
fn a_change_that_renames_the_file_itself_is_found() {
    let (repo, culprit) = history("");
    repo.write(RECORD_PATH, record(&culprit[..9], "reviewed", ""));
    repo.commit("record");
    repo.git(&["mv", "payments/gateway.py", "payments/client.py"]);
    let sha = repo.commit("rename");
    let run = repo.forewarn(&["check", "--commit", &sha, "--format", "json"]);
    assert_eq!(hotspot_findings(&json(&run)).len(), 1, "{run:?}");
}

#[test]
fn a_draft_record_produces_nothing_unless_config_says_so() {
    let (repo, culprit) = history("");
    repo.write(RECORD_PATH, record(&culprit, "draft", ""));
    let run = touch_and_check(&repo, "payments/gateway.py", &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(hotspot_findings(&json(&run)).is_empty(), "{run:?}");

    repo.write(
        "forewarn.toml",
        "[rules]\nbuiltin = false\n[hotspots]\ninclude_drafts = true\n",
    );
    let run = touch_and_check(&repo, "payments/gateway.py", &[]);
    assert_eq!(hotspot_findings(&json(&run)).len(), 1, "{run:?}");
}

#[test]
fn a_missing_culprit_is_a_warning_not_a_failure() {
    let (repo, _) = history("");
    repo.write(
        RECORD_PATH,
        record("0123456789abcdef0123456789abcdef01234567", "reviewed", ""),
    );
    let run = touch_and_check(&repo, "payments/gateway.py", &[]);
    assert_eq!(run.code, 0, "{run:?}");
    let doc = json(&run);
    assert!(hotspot_findings(&doc).is_empty(), "{run:?}");
    let warnings = doc["warnings"].as_array().unwrap();
    assert!(
        warnings.iter().any(|w| {
            let w = w.as_str().unwrap();
            w.contains("0123456789abcdef") && w.contains("not in this repository")
        }),
        "{run:?}"
    );
}

#[test]
fn a_shallow_clone_warns_and_names_the_fetch() {
    let (origin, culprit) = history("");
    origin.write(RECORD_PATH, record(&culprit, "reviewed", ""));
    origin.write("payments/gateway.py", "# touched again\n");
    origin.commit("touch");
    let clone = tempfile::tempdir().unwrap();
    let url = format!("file://{}", origin.path().display());
    util::git_in(
        clone.path(),
        &["clone", "-q", "--depth", "2", &url, "shallow"],
    );
    let dir = clone.path().join("shallow");
    let run = util::run_in(&dir, &["check", "--commit", "HEAD", "--format", "json"]);
    assert_eq!(run.code, 0, "{run:?}");
    let doc = json(&run);
    assert!(hotspot_findings(&doc).is_empty(), "{run:?}");
    assert!(
        doc["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w.as_str().unwrap().contains("git fetch --unshallow")),
        "{run:?}"
    );
}

#[test]
fn enabled_false_silences_it() {
    let (repo, culprit) = history("[hotspots]\nenabled = false\n");
    repo.write(RECORD_PATH, record(&culprit, "reviewed", ""));
    let run = touch_and_check(&repo, "payments/gateway.py", &["--fail-on", "note"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(hotspot_findings(&json(&run)).is_empty(), "{run:?}");
}

#[test]
fn severity_is_configurable_and_the_note_can_be_acknowledged() {
    let (repo, culprit) = history("[hotspots]\nseverity = \"error\"\n");
    repo.write(RECORD_PATH, record(&culprit, "reviewed", ""));
    let run = touch_and_check(&repo, "payments/gateway.py", &[]);
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(hotspot_findings(&json(&run))[0]["severity"], "error");

    repo.write("payments/gateway.py", "# touched a third time\n");
    repo.git(&["add", "-A"]);
    repo.git(&[
        "commit",
        "-q",
        "-m",
        "Touch the gateway\n\nForewarn-Ack: incident-hotspot: the URL lookup is unchanged, only a comment",
    ]);
    let run = repo.forewarn(&["check", "--commit", "HEAD", "--format", "json"]);
    assert_eq!(run.code, 0, "{run:?}");
    let doc = json(&run);
    let found = hotspot_findings(&doc);
    assert_eq!(found.len(), 1, "{run:?}");
    assert!(
        found[0]["acknowledged"]["reason"]
            .as_str()
            .unwrap()
            .contains("only a comment")
    );
}

#[test]
fn record_globs_widen_and_narrow_the_hotspots() {
    let (repo, culprit) = history("");
    repo.write(
        RECORD_PATH,
        record(
            &culprit,
            "reviewed",
            "hotspots = [\"payments/settings/**\"]\nhotspots_exclude = [\"Cargo.lock\"]",
        ),
    );
    let run = touch_and_check(&repo, "payments/settings/prod.py", &[]);
    assert_eq!(hotspot_findings(&json(&run)).len(), 1, "{run:?}");
    let run = touch_and_check(&repo, "Cargo.lock", &[]);
    assert!(hotspot_findings(&json(&run)).is_empty(), "{run:?}");
}

#[test]
fn a_broken_record_does_not_block_check() {
    let (repo, _) = history("");
    repo.write(RECORD_PATH, "id = \"x\"\nnot toml at all = = \n");
    let run = touch_and_check(&repo, "payments/gateway.py", &[]);
    assert_eq!(run.code, 0, "{run:?}");
    let doc = json(&run);
    assert!(
        doc["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w.as_str().unwrap().contains("forewarn validate")),
        "{run:?}"
    );
}

#[test]
fn report_counts_hotspot_changes_since_the_incident_and_their_acknowledgements() {
    let (repo, culprit) = history("");
    repo.write(RECORD_PATH, record(&culprit[..8], "reviewed", ""));
    repo.commit("record");
    touch_and_check(&repo, "payments/gateway.py", &[]);
    repo.write("payments/gateway.py", "# touched a third time\n");
    repo.git(&["add", "-A"]);
    repo.git(&[
        "commit",
        "-q",
        "-m",
        "Touch the gateway\n\nForewarn-Ack: incident-hotspot: comment only",
    ]);
    touch_and_check(&repo, "app/views.py", &[]);
    let run = repo.forewarn(&["report", "--format", "json"]);
    assert_eq!(run.code, 0, "{run:?}");
    let doc = json(&run);
    let h = &doc["analyses"][0]["hotspots"];
    assert_eq!(h["changes"], 2, "{run:?}");
    assert_eq!(h["acknowledged"], 1, "{run:?}");
    assert_eq!(h["paths"][0][0], "payments/gateway.py");
    let md = repo.forewarn(&["report"]);
    assert!(
        md.stdout.contains("touched by 2 changes (1 acknowledged)"),
        "{md:?}"
    );
    let html = repo.forewarn(&["report", "--format", "html"]);
    assert_eq!(html.code, 0, "{html:?}");
    assert!(
        html.stdout
            .contains("touched by 2 changes (1 acknowledged)</p>"),
        "{html:?}"
    );
    assert!(
        html.stdout
            .contains("<li><code>payments/gateway.py</code> (2)</li>"),
        "{html:?}"
    );
}

#[test]
fn explain_knows_the_hotspot_note() {
    let repo = util::Repo::new();
    let run = repo.forewarn(&["explain", "incident-hotspot"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout
            .contains("Does this change touch what that incident touched?"),
        "{run:?}"
    );
    assert!(
        run.stdout
            .contains("Forewarn-Ack: incident-hotspot: <reason>"),
        "{run:?}"
    );
}
