//! `forewarn demo`: replays the incident that started forewarn in a throw-away repository.
//!
//! Release 4.2 of a payments service adds a database migration and a setting the code now
//! requires, in a component that deploys to every host at once. Nothing flagged it; the table did
//! not exist in production. The demo checks that release, then the same release once its author
//! has answered each question.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Instant;

use super::{Context, Outcome};
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
];

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
        "$ forewarn check --base main --head release-4.2   (in {})\n\n",
        root.display()
    ));
    let first = check(&repo, ctx)?;
    out.push_str(&first.0);

    // The author answers each question with a trailer on a follow-up commit.
    let mut trailers = String::from("Answer forewarn's questions for release 4.2\n\n");
    for (id, category) in &first.1 {
        trailers.push_str(&format!("Forewarn-Ack: {id}: {}\n", answer(category)));
    }
    repo.commit(&[], &trailers)?;
    out.push_str("\nThe author answers each question in a commit trailer:\n\n");
    for line in trailers.lines().filter(|l| l.starts_with("Forewarn-Ack")) {
        out.push_str(&format!("    {line}\n"));
    }
    out.push_str("\n$ forewarn check --base main --head release-4.2\n\n");
    let second = check(&repo, ctx)?;
    out.push_str(&second.0);
    out.push_str(OUTRO);
    Ok(Outcome::ok(out))
}

const INTRO: &str = "\
forewarn demo: the incident that started this project, replayed in a throw-away repository.

In July 2019, release 4.2 of a payments service added a database migration and a setting the new
code requires. The migration had to be run by hand, the release reached every host at once, and
nothing in review said the change had deploy impact: checkout failed because a table did not exist.
Here is what forewarn says about that release before it merges.

";

const OUTRO: &str = "
Acknowledged findings still print, with their reason, and the gate passes: the questions were
answered where reviewers can see them. Next: run `forewarn check` in your own repository, and
`forewarn rules` to see every built-in rule.
";

/// Checks `base..HEAD` in the demo repository; returns the drawing and the (rule, category) pairs
/// that fired.
fn check(repo: &Demo, ctx: &Context) -> Result<(String, BTreeSet<(String, String)>)> {
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
    let args = CheckArgs::default();
    let mut report =
        super::check::check_changes(&workspace, &changes, None, Vec::new(), &args, started)?;
    report.description = "main...release-4.2".into();
    let fired = report
        .findings
        .iter()
        .map(|f| (f.rule_id.to_string(), f.category.to_string()))
        .collect();
    let render_ctx = output::RenderContext {
        rules: &workspace.rules.rules,
        color: ctx.color,
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
    Ok((drawing, fired))
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
