//! `forewarn demo`: replays the incident that started forewarn in a throw-away repository.
//!
//! Release 4.2 of a payments service adds a database migration and a setting the code now
//! requires, in a component that deploys to every host at once. Nothing flagged it; the table did
//! not exist in production. The demo shows the whole loop: the review's analysis record and a team
//! rule linked to one of its findings; the check of the release, showing that link, recorded on
//! the ledger ref as CI records a pull request; the author's next push, which ships the setting
//! with the change (the finding is resolved before merge) and answers the rest; and the report
//! that counts it.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Instant;

use super::{Context, Outcome};
use crate::analysis::ledger::{self, store_ref};
use crate::cli::CheckArgs;
use crate::diff::git;
use crate::error::{Error, Result};
use crate::output::{self, Format};
use crate::workspace::Workspace;

const BASE_FILES: &[(&str, &str)] = &[
    (
        "forewarn.toml",
        r#"# The payments service deploys to every host in one step: there is no canary.
[[component]]
name = "payments"
paths = ["payments/**"]
rollout = "global"

[[component]]
name = "storefront"
paths = ["storefront/**"]
rollout = "staged"
"#,
    ),
    (
        "payments/migrations/0001_initial.py",
        "from django.db import migrations, models\n\n\nclass Migration(migrations.Migration):\n    initial = True\n    operations = [\n        migrations.CreateModel(\n            name=\"Payment\",\n            fields=[(\"id\", models.AutoField(primary_key=True))],\n        ),\n    ]\n",
    ),
    (
        "payments/gateway.py",
        "import os\n\n\ndef charge(amount):\n    return {\"amount\": amount, \"status\": \"ok\"}\n",
    ),
    ("storefront/app.js", "export const title = 'Shop';\n"),
    (ANALYSIS_PATH, ANALYSIS),
    (".forewarn/rules/payments.toml", TEAM_RULE),
];

const ANALYSIS_PATH: &str = ".forewarn/analyses/2019-07-payments-config-missing.toml";

/// The review's record: what the system did, and what the team learned.
const ANALYSIS: &str = r#"id = "2019-07-payments-config-missing"
title = "Payment gateway config missing after the 4.2 release"
status = "reviewed"
held = 2019-07-03
perspectives = ["backend", "on-call", "release"]

[[timeline]]
at = 2019-07-02T03:05:00Z
source = "deploy log"
text = "Release 4.2 deployed to every host in one step."

[[timeline]]
at = 2019-07-02T03:09:00Z
source = "error tracker"
text = "Checkout fails: PAYMENTS_GATEWAY_URL is not set, and table payments_gatewayconfig does not exist."

[[finding]]
id = "F1"
question = "missing-signal"
text = "The code started requiring a setting, and nothing in review asked whether every environment had it."
lesson = "A setting the code requires ships with the change, in the deploy config."

[[finding]]
id = "F2"
question = "prevented-safe-experiment"
text = "The migration had to be run by hand, and the release reached every host at once."
lesson = "A new migration needs a visible deploy step before merge."
"#;

/// The rule the team wrote from finding F1 (`forewarn rule new ... --finding ...#F1`).
const TEAM_RULE: &str = r#"[[rule]]
id = "payments-setting-ships-with-the-change"
title = "A payments setting the code requires, without its deploy config"
severity = "error"
category = "config"
message = "{path}:{line} requires a setting ({match}) and no deploy config changes with it."
ask = "Is the setting in the deploy config of every environment, in this change?"
findings = ["2019-07-payments-config-missing#F1"]
[rule.match]
paths = ["payments/**/*.py"]
added = ['os\.environ\[']
[rule.unless]
changed = ["deploy/**"]
"#;

/// The author's next push: the setting ships with the change.
const NEXT_PUSH_FILES: &[(&str, &str)] = &[(
    "deploy/values.yaml",
    "env:\n  PAYMENTS_GATEWAY_URL: https://gateway.internal.example\n",
)];

/// The pull request CI checks, as its number is recorded in the ledger.
const PULL_REQUEST: u64 = 42;

const RELEASE_FILES: &[(&str, &str)] = &[
    (
        "payments/migrations/0002_gateway_config.py",
        "from django.db import migrations, models\n\n\nclass Migration(migrations.Migration):\n    dependencies = [(\"payments\", \"0001_initial\")]\n    operations = [\n        migrations.CreateModel(\n            name=\"GatewayConfig\",\n            fields=[(\"id\", models.AutoField(primary_key=True)), (\"url\", models.URLField())],\n        ),\n    ]\n",
    ),
    (
        "payments/gateway.py",
        "import os\n\nGATEWAY_URL = os.environ[\"PAYMENTS_GATEWAY_URL\"]\n\n\ndef charge(amount):\n    return {\"amount\": amount, \"status\": \"ok\", \"via\": GATEWAY_URL}\n",
    ),
];

/// The answers the release's author gives, by rule category.
fn answer(category: &str) -> &'static str {
    match category {
        "migration" => {
            "release checklist step 2 runs `manage.py migrate payments` before the new code starts"
        }
        "config" => {
            "PAYMENTS_GATEWAY_URL is set in the deploy config of every environment (PLAT-815)"
        }
        "rollout" => {
            "deployed to one host first via the manual canary described in the release checklist"
        }
        _ => "reviewed with the release owner; the deploy step is in the release checklist",
    }
}

pub fn run(ctx: &Context) -> Result<Outcome> {
    let dir = tempfile::Builder::new()
        .prefix("forewarn-demo-")
        .tempdir()
        .map_err(|e| Error::io("create a temporary folder in", std::env::temp_dir(), e))?;
    let root = dir.path();
    let repo = Demo::init(root)?;
    repo.commit(BASE_FILES, "Payments service before release 4.2")?;
    repo.branch("release-4.2")?;
    repo.commit(RELEASE_FILES, "Release 4.2: gateway config")?;

    let mut out = String::new();
    out.push_str(INTRO);
    out.push_str(&format!(
        "The review wrote its analysis record ({ANALYSIS_PATH}); finding F1:\n\n    \"{}\"\n\nThe team turned F1 into a rule, linked to it (.forewarn/rules/payments.toml):\n\n    findings = [\"2019-07-payments-config-missing#F1\"]\n\n",
        "A setting the code requires ships with the change, in the deploy config."
    ));
    out.push_str(&format!(
        "$ forewarn check --base main --head release-4.2 --record --push --pr {PULL_REQUEST}   (in {})\n\n",
        root.display()
    ));
    let first = check(&repo, ctx)?;
    out.push_str(&first.drawing);
    let recorded = record(&repo, &first)?;
    out.push_str(&format!(
        "\nCI recorded {recorded} on {} for pull request #{PULL_REQUEST} at its head commit {}.\n",
        store_ref::REF,
        &first.head[..12]
    ));

    // The author's next push: the setting ships with the change; the other questions are
    // answered in commit trailers.
    let mut message =
        String::from("Ship PAYMENTS_GATEWAY_URL with the change; answer forewarn's questions\n\n");
    for (id, category) in &first.fired {
        if category != "config" {
            message.push_str(&format!("Forewarn-Ack: {id}: {}\n", answer(category)));
        }
    }
    repo.commit(NEXT_PUSH_FILES, &message)?;
    out.push_str(
        "\nThe author's next push adds the setting to deploy/values.yaml, in the same change, and\nanswers the other questions in commit trailers:\n\n",
    );
    for line in message.lines().filter(|l| l.starts_with("Forewarn-Ack")) {
        out.push_str(&format!("    {line}\n"));
    }
    out.push_str(&format!(
        "\n$ forewarn check --base main --head release-4.2 --record --push --pr {PULL_REQUEST}\n\n"
    ));
    let second = check(&repo, ctx)?;
    out.push_str(&second.drawing);
    let recorded = record(&repo, &second)?;
    out.push_str(&format!(
        "\nCI recorded {recorded} for pull request #{PULL_REQUEST} at {}: the config findings are gone,\nunanswered: resolved before merge.\n",
        &second.head[..12]
    ));

    out.push_str("\n$ forewarn report   (the analysis's part)\n\n");
    out.push_str(&report_section(root)?);
    out.push_str(OUTRO);
    Ok(Outcome::ok(out))
}

/// Records one check's events on the demo's ledger ref, as `check --record --push` does in
/// CI (here without a remote). Returns how many, in words.
fn record(repo: &Demo, checked: &Checked) -> Result<String> {
    let workspace = Workspace::load(&repo.root, &crate::workspace::LoadOptions::default())?;
    let events = ledger::events_of(
        &workspace,
        &checked.report,
        Some(&checked.head),
        Some(PULL_REQUEST),
    );
    let files: Vec<(String, Vec<u8>)> = events
        .iter()
        .map(|e| {
            (
                ledger::folder::event_name(e, jiff::Timestamp::now()),
                ledger::folder::to_json(e).into_bytes(),
            )
        })
        .collect();
    store_ref::append_local(&repo.repo, &files)?;
    Ok(crate::analysis::links::plural(files.len(), "event"))
}

/// The report's section for the demo's analysis record.
fn report_section(root: &Path) -> Result<String> {
    let ctx = Context {
        cwd: root.to_path_buf(),
        color: false,
        width: None,
    };
    let report = super::report::run(&crate::cli::ReportArgs::default(), &ctx)?;
    let text = report.stdout;
    let start = text.find("## 2019-07-payments-config-missing").unwrap_or(0);
    let end = text[start + 2..]
        .find("\n## ")
        .map_or(text.len(), |i| start + 2 + i + 1);
    Ok(text[start..end].to_string())
}

const INTRO: &str = "\
forewarn demo: the incident that started this project, replayed in a throw-away repository.

In July 2019, release 4.2 of a payments service added a database migration and a setting the new
code requires. The migration had to be run by hand, the release reached every host at once, and
nothing in review said the change had deploy impact: checkout failed because a table did not exist.
Here is what forewarn says about that release before it merges.

";

const OUTRO: &str =
    "The loop is closed: the lesson of F1 caught the same risk on a new pull request, and the
change was made safer before it merged. In CI, `forewarn check --record --push` (or the Action's
`record: true`) keeps these events on refs/forewarn/ledger; `forewarn ledger pull` and
`forewarn report --write` bring them back into the analysis record. Next: run `forewarn check` in
your own repository, and `forewarn rules` to see every built-in rule.
";

/// One check of the demo's release.
struct Checked {
    drawing: String,
    /// `(rule, category)` of what fired.
    fired: BTreeSet<(String, String)>,
    report: crate::output::Report,
    /// The head commit checked.
    head: String,
}

/// Checks `base..release-4.2` in the demo repository.
fn check(repo: &Demo, ctx: &Context) -> Result<Checked> {
    let started = Instant::now();
    let workspace = Workspace::load(&repo.root, &crate::workspace::LoadOptions::default())?;
    let git_repo = workspace.repo.as_ref().ok_or_else(|| {
        Error::repository(
            "the demo repository could not be opened",
            "report this as a bug in forewarn",
        )
    })?;
    let changes = git::changes(
        git_repo,
        &git::Input::Range {
            base: "main".into(),
            head: "release-4.2".into(),
        },
        None,
    )?;
    let head = changes.head_commit.clone().unwrap_or_default();
    let args = CheckArgs::default();
    let mut report =
        super::check::check_changes(&workspace, &changes, None, Vec::new(), &args, started)?;
    report.description = "main...release-4.2".into();
    let fired = report
        .findings
        .iter()
        .filter(|f| f.acknowledged.is_none())
        .map(|f| (f.rule_id.to_string(), f.category.to_string()))
        .collect();
    let render_ctx = output::RenderContext {
        rules: &workspace.rules.rules,
        color: ctx.color,
        width: ctx.width,
        ..Default::default()
    };
    let mut drawing = output::render(&report, Format::Human, &render_ctx);
    drawing.push_str(&format!(
        "(exit code {}: {})\n",
        u8::from(report.fails()),
        if report.fails() {
            "the gate fails"
        } else {
            "the gate passes"
        }
    ));
    Ok(Checked {
        drawing,
        fired,
        report,
        head: format!("{head:0<12}"),
    })
}

/// A tiny git writer for the demo (git2 only: the demo needs no `git` on PATH).
struct Demo {
    root: std::path::PathBuf,
    repo: git2::Repository,
}

fn git_err(e: git2::Error) -> Error {
    Error::repository(
        format!("the demo could not write its repository: {}", e.message()),
        "check that the temporary folder is writable (TMPDIR)",
    )
}

impl Demo {
    fn init(root: &Path) -> Result<Demo> {
        let mut opts = git2::RepositoryInitOptions::new();
        opts.initial_head("main");
        let repo = git2::Repository::init_opts(root, &opts).map_err(git_err)?;
        Ok(Demo {
            root: root.to_path_buf(),
            repo,
        })
    }

    /// Creates `name` at HEAD and makes it the current branch.
    fn branch(&self, name: &str) -> Result<()> {
        let head = self
            .repo
            .head()
            .and_then(|h| h.peel_to_commit())
            .map_err(git_err)?;
        self.repo.branch(name, &head, false).map_err(git_err)?;
        self.repo
            .set_head(&format!("refs/heads/{name}"))
            .map_err(git_err)?;
        Ok(())
    }

    fn commit(&self, files: &[(&str, &str)], message: &str) -> Result<()> {
        let mut index = self.repo.index().map_err(git_err)?;
        for (path, text) in files {
            let full = self.root.join(path);
            if let Some(parent) = full.parent() {
                std::fs::create_dir_all(parent).map_err(|e| Error::io("create", parent, e))?;
            }
            std::fs::write(&full, text).map_err(|e| Error::io("write", &full, e))?;
            index.add_path(Path::new(path)).map_err(git_err)?;
        }
        index.write().map_err(git_err)?;
        let tree_id = index.write_tree().map_err(git_err)?;
        let tree = self.repo.find_tree(tree_id).map_err(git_err)?;
        let sig = git2::Signature::new(
            "forewarn demo",
            "demo@example.invalid",
            &git2::Time::new(1_562_036_700, 0),
        )
        .map_err(git_err)?;
        let parent = self.repo.head().ok().and_then(|h| h.peel_to_commit().ok());
        let parents: Vec<&git2::Commit> = parent.iter().collect();
        self.repo
            .commit(Some("HEAD"), &sig, &sig, message, &tree, &parents)
            .map_err(git_err)?;
        Ok(())
    }
}
