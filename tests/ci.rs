//! The CI gate end to end: every machine format from one run, hostile paths and messages through
//! the real binary, a pull request that tries to loosen its own gate, and the GitHub Action's
//! script run with a simulated GitHub environment.

mod util;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use util::{Repo, Run, TEAM_RULES};

/// A repository whose `main` holds the team rules (built-in packs on), on branch `feature`.
fn team_repo() -> Repo {
    let repo = Repo::new();
    repo.write(".forewarn/rules/team.toml", TEAM_RULES);
    repo.commit("forewarn rules");
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo
}

fn run(mut cmd: Command) -> Run {
    let out = cmd.output().expect("the command runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn assert_valid_sarif(text: &str) -> Value {
    let doc: Value = serde_json::from_str(text).expect("SARIF is JSON");
    let schema_path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/schemas/sarif-2.1.0.json"
    );
    let schema: Value = serde_json::from_str(&read(Path::new(schema_path))).unwrap();
    let validator = jsonschema::options()
        .offline()
        .should_validate_formats(true)
        .build(&schema)
        .expect("the schema compiles offline");
    let errors: Vec<String> = validator
        .iter_errors(&doc)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    doc
}

/// A workflow command: (command, properties, message).
type Annotation = (String, Vec<(String, String)>, String);

/// The workflow commands in `stdout`, decoded as the runner decodes them:
/// (command, properties, message).
fn commands(stdout: &str) -> Vec<Annotation> {
    let decode_property = |s: &str| {
        s.replace("%0D", "\r")
            .replace("%0A", "\n")
            .replace("%3A", ":")
            .replace("%2C", ",")
            .replace("%25", "%")
    };
    let decode_data = |s: &str| {
        s.replace("%0D", "\r")
            .replace("%0A", "\n")
            .replace("%25", "%")
    };
    stdout
        .lines()
        .filter_map(|line| line.strip_prefix("::"))
        .map(|rest| {
            let (head, message) = rest.split_once("::").expect("properties end in ::");
            let (command, props) = head.split_once(' ').unwrap_or((head, ""));
            let props = props
                .split(',')
                .filter(|p| !p.is_empty())
                .map(|p| {
                    let (k, v) = p.split_once('=').expect("key=value");
                    (k.to_string(), decode_property(v))
                })
                .collect();
            (command.to_string(), props, decode_data(message))
        })
        .collect()
}

fn property<'a>(props: &'a [(String, String)], key: &str) -> Option<&'a str> {
    props
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

#[test]
fn every_format_from_one_run() {
    let repo = team_repo();
    repo.write("sql/drop.sql", "-- clean up\nDROP TABLE legacy;\n");
    repo.commit("drop legacy");
    let out = repo.join("reports");
    std::fs::create_dir(&out).unwrap();
    let summary = out.join("summary.md");
    let file = |name: &str| out.join(name).display().to_string();
    let mut cmd = util::forewarn_cmd(repo.path());
    cmd.args([
        "check", "--base", "main", "--head", "HEAD", "--format", "github",
    ])
    .args(["--sarif-file", &file("forewarn.sarif")])
    .args(["--json-file", &file("forewarn.json")])
    .args(["--markdown-file", &file("comment.md")])
    .args(["--junit-file", &file("junit.xml")])
    .args(["--gitlab-file", &file("codequality.json")])
    .env("GITHUB_STEP_SUMMARY", &summary);
    let run = run(cmd);
    assert_eq!(run.code, 1, "{run:?}");

    let annotations = commands(&run.stdout);
    let drop = annotations
        .iter()
        .find(|(_, props, _)| {
            property(props, "title").is_some_and(|t| t.starts_with("team-drop-table"))
        })
        .unwrap_or_else(|| panic!("no team-drop-table annotation: {run:?}"));
    assert_eq!(drop.0, "error");
    assert_eq!(property(&drop.1, "file"), Some("sql/drop.sql"));
    assert_eq!(property(&drop.1, "line"), Some("2"));
    assert!(
        drop.2
            .contains("Has every reader of this table stopped reading it?"),
        "{run:?}"
    );

    let sarif = assert_valid_sarif(&read(&out.join("forewarn.sarif")));
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let result = results
        .iter()
        .find(|r| r["ruleId"] == "team-drop-table")
        .unwrap();
    assert_eq!(
        result["locations"][0]["physicalLocation"]["region"]["startLine"],
        2
    );
    let rules = sarif["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    let index = result["ruleIndex"].as_u64().unwrap() as usize;
    assert_eq!(rules[index]["id"], "team-drop-table");
    assert!(rules.len() > 2, "every rule in force is described");

    let json: Value = serde_json::from_str(&read(&out.join("forewarn.json"))).unwrap();
    let finding = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule_id"] == "team-drop-table")
        .unwrap();
    // One fingerprint for one finding, in every format.
    assert_eq!(
        result["partialFingerprints"]["forewarn/v1"],
        finding["fingerprint"]
    );
    let gitlab: Value = serde_json::from_str(&read(&out.join("codequality.json"))).unwrap();
    let issue = gitlab
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["check_name"] == "team-drop-table")
        .unwrap();
    assert_eq!(issue["fingerprint"], finding["fingerprint"]);
    assert_eq!(issue["severity"], "critical");
    assert_eq!(
        issue["location"],
        serde_json::json!({"path": "sql/drop.sql", "lines": {"begin": 2}})
    );

    let comment = read(&out.join("comment.md"));
    assert!(comment.starts_with("<!-- forewarn -->"), "{comment}");
    assert!(comment.contains("`team-drop-table`"), "{comment}");
    let junit = read(&out.join("junit.xml"));
    assert!(
        junit.contains("<testcase classname=\"team-drop-table\" name=\"sql/drop.sql\""),
        "{junit}"
    );
    assert!(junit.contains("<failure type=\"error\""), "{junit}");
    assert_eq!(read(&summary), format!("{comment}\n"));

    // No temporary files are left beside the reports.
    let mut names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "codequality.json",
            "comment.md",
            "forewarn.json",
            "forewarn.sarif",
            "junit.xml",
            "summary.md"
        ]
    );
}

#[test]
fn format_and_output_write_the_main_report_to_a_file() {
    let repo = team_repo();
    repo.write("sql/drop.sql", "DROP TABLE legacy;\n");
    for (format, check) in [
        ("sarif", "\"version\": \"2.1.0\""),
        ("junit", "<testsuites"),
        ("gitlab", "\"check_name\""),
        ("markdown", "<!-- forewarn -->"),
    ] {
        let path = repo.join(&format!("report.{format}"));
        let run = repo.forewarn(&[
            "check",
            "--format",
            format,
            "--output",
            path.to_str().unwrap(),
        ]);
        assert_eq!(run.code, 1, "{run:?}");
        assert!(run.stdout.is_empty(), "{run:?}");
        assert!(read(&path).contains(check), "{format}");
    }
    let bad = repo.forewarn(&["check", "--sarif-file", "no/such/folder/out.sarif"]);
    assert_eq!(bad.code, 2, "{bad:?}");
    assert!(bad.stderr.contains("no/such/folder/out.sarif"), "{bad:?}");
}

#[test]
fn hostile_paths_and_messages_cannot_inject_workflow_commands() {
    let repo = team_repo();
    let path = "sql/a:b,c %0A.sql";
    repo.write(
        path,
        "DROP TABLE t; -- ::error file=x::pwned %0A::warning::more\n",
    );
    // A rule whose message repeats the hostile text it matched.
    repo.write(
        ".forewarn/rules/echo.toml",
        "[[rule]]\nid = \"echo\"\ntitle = \"echo\"\nseverity = \"warning\"\ncategory = \"process\"\n\
         message = \"said: {match}\"\nask = \"?\"\n[rule.match]\npaths = [\"sql/**\"]\nadded = ['::error.*']\n",
    );
    repo.commit("hostile");
    let run = repo.forewarn(&[
        "check", "--base", "main", "--head", "HEAD", "--format", "github",
    ]);
    assert_eq!(run.code, 1, "{run:?}");
    for line in run.stdout.lines() {
        assert!(
            line.starts_with("::error ")
                || line.starts_with("::warning ")
                || line.starts_with("::notice ")
                || line.starts_with("forewarn: "),
            "a line that is no command of ours: {line:?}\n{run:?}"
        );
    }
    let annotations = commands(&run.stdout);
    let drop = annotations
        .iter()
        .find(|(_, props, _)| {
            property(props, "title").is_some_and(|t| t.starts_with("team-drop-table"))
        })
        .unwrap_or_else(|| panic!("{run:?}"));
    assert_eq!(property(&drop.1, "file"), Some(path));
    assert_eq!(drop.1.len(), 3, "file, line, title: {:?}", drop.1);
    assert!(
        drop.2.starts_with("sql/a:b,c %0A.sql:1 drops a table"),
        "{:?}",
        drop.2
    );
    let echo = annotations
        .iter()
        .find(|(_, props, _)| property(props, "title").is_some_and(|t| t.starts_with("echo")))
        .unwrap_or_else(|| panic!("{run:?}"));
    assert_eq!(
        echo.2.lines().next(),
        Some("said: ::error file=x::pwned %0A::warning::more")
    );

    let sarif = repo.forewarn(&[
        "check", "--base", "main", "--head", "HEAD", "--format", "sarif",
    ]);
    let doc = assert_valid_sarif(&sarif.stdout);
    let uris: Vec<&str> = doc["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].as_str())
        .collect();
    assert!(uris.contains(&"sql/a%3Ab%2Cc%20%250A.sql"), "{uris:?}");
}

#[test]
fn a_pull_request_cannot_loosen_its_own_gate() {
    let repo = team_repo();
    // The pull request removes the rule that would catch it, and drops a table.
    let loosened = TEAM_RULES
        .replace("id = \"team-drop-table\"", "id = \"team-drop-table-off\"")
        .replace("added = ['(?i)^\\s*drop\\s+table']", "added = ['^never$']");
    assert_ne!(loosened, TEAM_RULES);
    repo.write(".forewarn/rules/team.toml", &loosened);
    repo.write("sql/drop.sql", "DROP TABLE users;\n");
    repo.commit("drop users");

    let own = repo.forewarn(&[
        "check", "--base", "main", "--head", "HEAD", "--format", "json",
    ]);
    let own: Value = serde_json::from_str(&own.stdout).unwrap_or_else(|e| panic!("{e}: {own:?}"));
    let own_ids: Vec<&str> = own["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule_id"].as_str().unwrap())
        .collect();
    assert!(!own_ids.contains(&"team-drop-table"), "{own_ids:?}");

    let gated = repo.forewarn(&[
        "check",
        "--base",
        "main",
        "--head",
        "HEAD",
        "--rules-from",
        "main",
        "--format",
        "json",
    ]);
    assert_eq!(gated.code, 1, "{gated:?}");
    let gated: Value = serde_json::from_str(&gated.stdout).unwrap();
    let ids: Vec<&str> = gated["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule_id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"team-drop-table"), "{ids:?}");
    // The edit to forewarn's own rules is reported either way, by the built-in process rule.
    let process = |findings: &Value| {
        findings["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["category"] == "process" && f["path"] == ".forewarn/rules/team.toml")
    };
    assert!(process(&gated), "{gated:#}");
    assert!(process(&own), "{own:#}");
}

/// A remote with `main` (team rules) and `feature` (a dropped table), and a full clone of it with
/// `feature` checked out, as actions/checkout leaves a pull request with `fetch-depth: 0`.
struct PullRequest {
    _dir: tempfile::TempDir,
    checkout: PathBuf,
    origin: String,
    runner: PathBuf,
}

fn pull_request(rules_in_pr: Option<&str>) -> PullRequest {
    let dir = tempfile::tempdir().unwrap();
    let author = Repo::new();
    // Team rules only, so the test knows every finding.
    author.write("forewarn.toml", "[rules]\nbuiltin = false\n");
    author.write(".forewarn/rules/team.toml", TEAM_RULES);
    author.commit("forewarn rules");
    author.git(&["checkout", "-q", "-b", "feature"]);
    author.write("sql/drop.sql", "DROP TABLE users;\n");
    if let Some(rules) = rules_in_pr {
        author.write(".forewarn/rules/team.toml", rules);
    }
    author.commit("drop users");
    let origin = dir.path().join("origin.git");
    util::git_in(
        dir.path(),
        &["init", "-q", "--bare", origin.to_str().unwrap()],
    );
    author.git(&["push", "-q", origin.to_str().unwrap(), "main", "feature"]);
    let url = format!("file://{}", origin.display());
    util::git_in(dir.path(), &["clone", "-q", &url, "checkout"]);
    let checkout = dir.path().join("checkout");
    util::git_in(&checkout, &["checkout", "-q", "feature"]);
    let runner = dir.path().join("runner");
    std::fs::create_dir(&runner).unwrap();
    PullRequest {
        checkout,
        origin: url,
        runner,
        _dir: dir,
    }
}

/// `ci/action.sh <step>` in `dir`, with the GitHub environment a pull_request job has.
fn action(dir: &Path, runner: &Path, step: &str, pr_body: &str, inputs: &[(&str, &str)]) -> Run {
    let event = runner.join("event.json");
    std::fs::write(
        &event,
        serde_json::json!({"action": "opened", "pull_request": {"number": 7, "body": pr_body}})
            .to_string(),
    )
    .unwrap();
    let mut cmd = Command::new("bash");
    cmd.arg(concat!(env!("CARGO_MANIFEST_DIR"), "/ci/action.sh"))
        .arg(step)
        .current_dir(dir)
        .env("FOREWARN_BIN", env!("CARGO_BIN_EXE_forewarn"))
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_BASE_REF", "main")
        .env("GITHUB_EVENT_NAME", "pull_request")
        .env("GITHUB_EVENT_PATH", &event)
        .env("GITHUB_STEP_SUMMARY", runner.join("summary.md"))
        .env("GITHUB_OUTPUT", runner.join("output.txt"))
        .env("GITHUB_ACTION_PATH", env!("CARGO_MANIFEST_DIR"))
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", runner)
        .env_remove("NO_COLOR");
    for name in [
        "INPUT_FAIL_ON",
        "INPUT_RULES_FROM",
        "INPUT_SARIF_FILE",
        "INPUT_ARGS",
        "INPUT_VERSION",
        "INPUT_GITHUB_TOKEN",
        "INPUT_COMMENT",
        "GITHUB_REF",
        "GITHUB_API_URL",
        "FOREWARN_PR_NUMBER",
        "FOREWARN_PULL_REQUEST_FILE",
    ] {
        cmd.env_remove(name);
    }
    for (name, value) in inputs {
        cmd.env(name, value);
    }
    run(cmd)
}

#[test]
fn the_action_annotates_summarises_and_fails_the_job() {
    let pr = pull_request(None);
    let install = action(&pr.checkout, &pr.runner, "install", "", &[]);
    assert_eq!(install.code, 0, "{install:?}");

    let sarif = pr.runner.join("forewarn.sarif");
    let junit = pr.runner.join("junit.xml");
    let run = action(
        &pr.checkout,
        &pr.runner,
        "check",
        "Drops the users table.",
        &[
            ("INPUT_FAIL_ON", "error"),
            ("INPUT_SARIF_FILE", sarif.to_str().unwrap()),
            ("INPUT_ARGS", &format!("--junit-file {}", junit.display())),
        ],
    );
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stdout.contains("--base origin/main --head HEAD"),
        "{run:?}"
    );
    assert!(run.stdout.contains("--rules-from origin/main"), "{run:?}");
    let annotations = commands(&run.stdout);
    assert!(
        annotations.iter().any(|(c, props, _)| c == "error"
            && property(props, "file") == Some("sql/drop.sql")
            && property(props, "line") == Some("1")),
        "{run:?}"
    );
    let summary = read(&pr.runner.join("summary.md"));
    assert!(summary.starts_with("<!-- forewarn -->"), "{summary}");
    assert!(summary.contains("fails the gate"), "{summary}");
    assert_valid_sarif(&read(&sarif));
    assert!(read(&junit).contains("team-drop-table"));
    assert_eq!(
        read(&pr.runner.join("output.txt")),
        "exit-code=1\nerrors=1\nwarnings=1\nnotes=0\nacknowledged=0\n"
    );

    // A warning-level gate fails on the new SQL file too; `never` passes.
    let never = action(
        &pr.checkout,
        &pr.runner,
        "check",
        "",
        &[("INPUT_FAIL_ON", "never")],
    );
    assert_eq!(never.code, 0, "{never:?}");
}

#[test]
fn the_action_reads_acknowledgements_from_the_pull_request_body() {
    let pr = pull_request(None);
    let body = "Drops the users table.\r\n\r\nForewarn-Ack: team-drop-table: users moved to accounts in 4.1; nothing reads it\r\nForewarn-Ack: team-new-sql: run by the release job";
    let run = action(&pr.checkout, &pr.runner, "check", body, &[]);
    assert_eq!(run.code, 0, "{run:?}");
    let annotations = commands(&run.stdout);
    let drop = annotations
        .iter()
        .find(|(_, props, _)| {
            property(props, "title").is_some_and(|t| t.starts_with("team-drop-table"))
        })
        .unwrap_or_else(|| panic!("{run:?}"));
    assert_eq!(drop.0, "notice");
    assert!(
        drop.2.contains("users moved to accounts in 4.1"),
        "{drop:?}"
    );
    assert!(read(&pr.runner.join("summary.md")).contains("passes"));
}

#[test]
fn the_action_gates_with_the_base_branch_rules() {
    let loosened = TEAM_RULES.replace("added = ['(?i)^\\s*drop\\s+table']", "added = ['^never$']");
    let pr = pull_request(Some(&loosened));
    let run = action(&pr.checkout, &pr.runner, "check", "", &[]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        commands(&run.stdout)
            .iter()
            .any(|(_, props, _)| property(props, "title")
                .is_some_and(|t| t.starts_with("team-drop-table:"))),
        "{run:?}"
    );
}

#[test]
fn the_action_on_a_shallow_checkout_names_the_fix() {
    let pr = pull_request(None);
    let shallow = pr.runner.join("shallow");
    util::git_in(
        &pr.runner,
        &[
            "clone",
            "-q",
            "--depth",
            "1",
            "--branch",
            "feature",
            &pr.origin,
            shallow.to_str().unwrap(),
        ],
    );
    let run = action(&shallow, &pr.runner, "check", "", &[]);
    assert_eq!(run.code, 2, "{run:?}");
    let annotations = commands(&run.stdout);
    let error = annotations
        .iter()
        .find(|(c, _, _)| c == "error")
        .unwrap_or_else(|| panic!("{run:?}"));
    assert!(error.2.contains("fetch-depth: 0"), "{error:?}");
    assert!(error.2.contains("shallow"), "{error:?}");

    // With the base branch fetched but not the history between: forewarn's own message.
    let both = pr.runner.join("shallow-both");
    util::git_in(
        &pr.runner,
        &[
            "clone",
            "-q",
            "--depth",
            "1",
            "--no-single-branch",
            &pr.origin,
            both.to_str().unwrap(),
        ],
    );
    util::git_in(&both, &["checkout", "-q", "feature"]);
    let run = action(&both, &pr.runner, "check", "", &[]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("fetch-depth: 0"), "{run:?}");
}
