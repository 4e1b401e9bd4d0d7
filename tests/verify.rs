//! Checking the answer (issue 17): findings whose question the repository itself answers.

mod util;

use util::Repo;

const DJANGO_HEAD: &str =
    "from django.db import migrations, models\n\n\nclass Migration(migrations.Migration):\n";

/// `(rule, severity, message)` of each finding of `check --commit HEAD`.
fn findings(repo: &Repo) -> Vec<(String, String, String, String)> {
    repo.head_findings()
        .iter()
        .map(|f| {
            (
                f["rule_id"].as_str().unwrap().to_string(),
                f["severity"].as_str().unwrap().to_string(),
                f["message"].as_str().unwrap().to_string(),
                f["ask"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn of(found: &[(String, String, String, String)], rule: &str) -> Vec<(String, String, String)> {
    found
        .iter()
        .filter(|f| f.0 == rule)
        .map(|f| (f.1.clone(), f.2.clone(), f.3.clone()))
        .collect()
}

fn drop_note() -> String {
    format!(
        "{DJANGO_HEAD}    operations = [migrations.RemoveField(model_name='order', name='note')]\n"
    )
}

#[test]
fn a_dropped_django_field_still_in_the_running_model_is_an_error_that_names_where() {
    let repo = Repo::new();
    repo.write(
        "shop/models.py",
        "from django.db import models\n\n\nclass Order(models.Model):\n    note = models.CharField(max_length=20)\n",
    );
    repo.commit("model");
    // The field and its column go in one change: the old code, still running, selects it.
    repo.write(
        "shop/models.py",
        "from django.db import models\n\n\nclass Order(models.Model):\n    pass\n",
    );
    repo.write("shop/migrations/0002_drop_note.py", drop_note());
    repo.commit("drop note");
    let drops = of(&findings(&repo), "migration-drops-column");
    assert_eq!(drops.len(), 1, "{drops:?}");
    assert_eq!(drops[0].0, "error");
    assert!(drops[0].1.contains("shop/models.py:5"), "{}", drops[0].1);
}

#[test]
fn the_safe_two_step_quiets_the_drop() {
    let repo = Repo::new();
    repo.write(
        "shop/models.py",
        "from django.db import models\n\n\nclass Order(models.Model):\n    pass\n",
    );
    repo.commit("the model stopped reading the field in an earlier deploy");
    repo.write("shop/migrations/0002_drop_note.py", drop_note());
    repo.commit("drop note");
    let found = findings(&repo);
    assert!(of(&found, "migration-drops-column").is_empty(), "{found:?}");
}

#[test]
fn rails_ignored_columns_is_the_answer() {
    let repo = Repo::new();
    let migration = "class DropLegacy < ActiveRecord::Migration[7.1]\n  def change\n    remove_column :users, :legacy, :string\n  end\nend\n";
    repo.write(
        "app/models/user.rb",
        "class User < ApplicationRecord\nend\n",
    );
    repo.commit("model");
    repo.write("db/migrate/20240101000000_drop_legacy.rb", migration);
    repo.commit("drop legacy");
    let drops = of(&findings(&repo), "migration-drops-column");
    assert_eq!(drops.len(), 1);
    assert!(drops[0].1.contains("ignored_columns"), "{}", drops[0].1);
    // Undo, ignore the column first, then drop it.
    repo.git(&["reset", "-q", "--hard", "HEAD~1"]);
    repo.write(
        "app/models/user.rb",
        "class User < ApplicationRecord\n  self.ignored_columns += [\"legacy\"]\nend\n",
    );
    repo.commit("ignore legacy");
    repo.write("db/migrate/20240101000000_drop_legacy.rb", migration);
    repo.commit("drop legacy");
    assert!(of(&findings(&repo), "migration-drops-column").is_empty());
}

#[test]
fn a_deploy_that_runs_migrations_itself_is_named_and_the_question_is_about_order() {
    let repo = Repo::new();
    repo.write(
        "shop/migrations/0002_x.py",
        format!("{DJANGO_HEAD}    operations = []\n"),
    );
    repo.commit("a migration, and no step");
    let step = of(&findings(&repo), "new-migration-needs-deploy-step");
    assert_eq!(step.len(), 1);
    assert!(
        step[0]
            .1
            .contains("No deploy step that runs migrations was found"),
        "{}",
        step[0].1
    );
    repo.write(
        "Procfile",
        "web: gunicorn shop.wsgi\nrelease: python manage.py migrate\n",
    );
    repo.write(
        "shop/migrations/0003_y.py",
        format!("{DJANGO_HEAD}    operations = []\n"),
    );
    repo.commit("a release step");
    let step = of(&findings(&repo), "new-migration-needs-deploy-step");
    assert_eq!(step.len(), 1);
    assert!(step[0].1.contains("Procfile:2"), "{}", step[0].1);
    assert_eq!(step[0].0, "warning");
    assert!(
        step[0].2.contains("before the new code starts"),
        "{}",
        step[0].2
    );
}

#[test]
fn a_patch_cannot_be_checked_and_says_so() {
    let repo = Repo::new();
    let diff = "diff --git a/shop/migrations/0002_drop_note.py b/shop/migrations/0002_drop_note.py\nnew file mode 100644\n--- /dev/null\n+++ b/shop/migrations/0002_drop_note.py\n@@ -0,0 +1,5 @@\n+from django.db import migrations, models\n+\n+\n+class Migration(migrations.Migration):\n+    operations = [migrations.RemoveField(model_name='order', name='note')]\n";
    repo.write("change.patch", diff);
    let run = repo.forewarn(&[
        "check",
        "--patch",
        "change.patch",
        "--format",
        "json",
        "--fail-on",
        "never",
    ]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout
            .contains("could not be checked in the repository"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_new_required_variable_set_where_deploys_set_it_drops_to_a_note() {
    let repo = Repo::new();
    repo.write(
        "app/settings.py",
        "import os\n\nGATEWAY_URL = os.environ[\"GATEWAY_URL\"]\n",
    );
    repo.commit("a required variable, set nowhere");
    let found = findings(&repo);
    let env = of(&found, "python-env-var-without-default");
    assert_eq!(env.len(), 1, "{found:?}");
    assert!(
        env[0].1.contains("was not found where deploys set it"),
        "{}",
        env[0].1
    );
    assert_eq!(env[0].0, "warning");
    // The variable is set where deploys set it, in a change of its own.
    repo.write(".env.example", "GATEWAY_URL=https://gateway.example\n");
    repo.commit("set it for deploys");
    repo.write(
        "app/settings.py",
        "import os\n\nGATEWAY_URL = os.environ[\"GATEWAY_URL\"]\nGATEWAY_HOST = os.environ[\"GATEWAY_URL\"]\nGATEWAY_KEY = os.environ[\"GATEWAY_KEY\"]\n",
    );
    repo.commit("read it again, and a second variable set nowhere");
    let env = of(&findings(&repo), "python-env-var-without-default");
    assert_eq!(env.len(), 2, "{env:?}");
    let set = env
        .iter()
        .find(|e| e.0 == "note")
        .expect("the set variable drops to a note");
    assert!(set.1.contains(".env.example:1"), "{}", set.1);
    let unset = env
        .iter()
        .find(|e| e.0 == "warning")
        .expect("the other stays a warning");
    assert!(
        unset.1.contains("was not found where deploys set it"),
        "{}",
        unset.1
    );
}

#[test]
fn a_patch_showing_some_files_whole_does_not_prove_nothing_reads_a_column() {
    // The patch shows models.py from its first line, without the field: the rest of the
    // repository is unknown, so the drop is not taken as the safe two-step.
    let repo = Repo::new();
    let diff = "diff --git a/shop/models.py b/shop/models.py\n--- a/shop/models.py\n+++ b/shop/models.py\n@@ -1,3 +1,3 @@\n from django.db import models\n-class Order(models.Model):\n+class Order(models.Model):  # trimmed\n     pass\ndiff --git a/shop/migrations/0002_drop_note.py b/shop/migrations/0002_drop_note.py\nnew file mode 100644\n--- /dev/null\n+++ b/shop/migrations/0002_drop_note.py\n@@ -0,0 +1,4 @@\n+from django.db import migrations, models\n+\n+class Migration(migrations.Migration):\n+    operations = [migrations.RemoveField(model_name='order', name='note')]\n";
    repo.write("change.patch", diff);
    let run = repo.forewarn(&[
        "check",
        "--patch",
        "change.patch",
        "--format",
        "json",
        "--fail-on",
        "never",
    ]);
    assert_eq!(run.code, 0, "{run:?}");
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let drops: Vec<&serde_json::Value> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule_id"] == "migration-drops-column")
        .collect();
    assert_eq!(drops.len(), 1, "{}", run.stdout);
    assert!(
        drops[0]["message"]
            .as_str()
            .unwrap()
            .contains("could not be checked"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_file_that_cannot_be_read_keeps_the_question_open() {
    let repo = Repo::new();
    // The running model cannot be read as text: nothing proves it stopped reading the field.
    repo.write(
        "shop/models.py",
        b"class Order:\n    note = 1\0\n".as_slice(),
    );
    repo.commit("model");
    repo.write("shop/migrations/0002_drop_note.py", drop_note());
    repo.commit("drop note");
    let drops = of(&findings(&repo), "migration-drops-column");
    assert_eq!(drops.len(), 1, "{drops:?}");
    assert!(
        drops[0].1.contains("could not be read as text"),
        "{}",
        drops[0].1
    );
}

/// A team rule that checks its answer: a new variable read with `getenv`, found in `.env.example`.
fn env_rule(examples: &str) -> String {
    format!(
        r#"
[[rule]]
id = "team-new-env"
title = "A new environment variable"
severity = "warning"
category = "config"
message = "{{path}} reads a new variable."
ask = "Is it set where deploys set it?"
[rule.match]
paths = ["**/*.py"]
added = ['getenv\(']
[[rule.verify]]
name_from = 'getenv\("([A-Z_]+)"'
look_in = [".env.example"]
patterns = ['\b{{name}}\b']
sides = ["new"]
[rule.verify.found]
severity = "note"
message = "Set in {{where}}."
[rule.verify.missing]
message = "{{name}} is not in {{searched}}."
{examples}
"#
    )
}

const ENV_DIFF: &str = "diff --git a/app.py b/app.py\n--- a/app.py\n+++ b/app.py\n@@ -1 +1,2 @@\n import os\n+URL = os.getenv(\"GATEWAY_URL\")\n";

fn env_example(name: &str, severity: &str, message: &str, env_file: &str) -> String {
    format!(
        "[[rule.example]]\nname = \"{name}\"\nexpect = \"fire\"\nseverity = \"{severity}\"\nmessage = \"{message}\"\ndiff = '''\n{ENV_DIFF}'''\n[rule.example.tree]\n\".env.example\" = \"{env_file}\"\n"
    )
}

#[test]
fn examples_with_a_tree_run_the_check_and_pin_its_outcome() {
    let repo = Repo::new();
    let examples = [
        env_example("set in .env.example", "note", "Set in .env.example:1", "GATEWAY_URL=\\n"),
        env_example("set nowhere", "warning", "GATEWAY_URL is not in", "OTHER=1\\n"),
        "[[rule.example]]\nname = \"no getenv\"\nexpect = \"pass\"\ndiff = '''\ndiff --git a/app.py b/app.py\n--- a/app.py\n+++ b/app.py\n@@ -1 +1,2 @@\n import os\n+URL = 1\n'''\n".to_string(),
    ]
    .concat();
    repo.write(".forewarn/rules/team.toml", env_rule(&examples));
    let run = repo.forewarn(&["test", "team-new-env"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("3 passed, 0 failed"), "{run:?}");
    let explain = repo.forewarn(&["explain", "team-new-env"]);
    assert!(
        explain
            .stdout
            .contains("\"set in .env.example\" fires as note, saying \"Set in .env.example:1\""),
        "{explain:?}"
    );
    // The tree decides: with the variable missing from it, the example expecting a note fails.
    let wrong = [
        env_example("claims it is set", "note", "Set in", "OTHER=1\\n"),
        env_example("set nowhere", "warning", "not in", "OTHER=1\\n"),
    ]
    .concat();
    repo.write(".forewarn/rules/team.toml", env_rule(&wrong));
    let run = repo.forewarn(&["test", "team-new-env"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stdout
            .contains("expected every finding to be note, but one is warning"),
        "{run:?}"
    );
}

#[test]
fn a_rule_that_checks_its_answer_without_examples_of_both_outcomes_is_named() {
    let repo = Repo::new();
    let examples = [
        env_example("set nowhere", "warning", "not in", "OTHER=1\\n"),
        "[[rule.example]]\nname = \"no getenv\"\nexpect = \"pass\"\ndiff = '''\ndiff --git a/app.py b/app.py\n--- a/app.py\n+++ b/app.py\n@@ -1 +1,2 @@\n import os\n+URL = 1\n'''\n".to_string(),
    ]
    .concat();
    repo.write(".forewarn/rules/team.toml", env_rule(&examples));
    let run = repo.forewarn(&["test", "team-new-env"]);
    assert!(
        run.stderr.contains("team-new-env")
            && run
                .stderr
                .contains("no two examples with a `tree` that end differently"),
        "{run:?}"
    );
}

#[test]
fn a_dropped_column_still_queried_by_the_code_after_the_deploy_is_an_error() {
    let repo = Repo::new();
    repo.write("app/report.py", "ROWS = \"SELECT id FROM orders\"\n");
    repo.commit("report");
    // The running code never read it; the new code does, and the column goes in the same change.
    repo.write(
        "app/report.py",
        "ROWS = \"SELECT id, legacy_state FROM orders\"\n",
    );
    repo.write(
        "db/migrations/20240601000000_drop.sql",
        "ALTER TABLE orders DROP COLUMN legacy_state;\n",
    );
    repo.commit("drop and read");
    let drops = of(&findings(&repo), "migration-drops-column");
    assert_eq!(drops.len(), 1, "{drops:?}");
    assert_eq!(drops[0].0, "error");
    assert!(drops[0].1.contains("app/report.py:1"), "{}", drops[0].1);
}

#[test]
fn every_check_of_a_rule_asks_its_own_question_even_over_the_same_files() {
    // Two checks search the same file for the same name with other patterns: the second,
    // which finds the variable commented out and quiets the finding, gets its own answer.
    let rule = format!(
        r##"
[[rule]]
id = "team-new-env"
title = "A new environment variable"
severity = "warning"
category = "config"
message = "{{path}} reads a new variable."
ask = "Is it set where deploys set it?"
[rule.match]
paths = ["**/*.py"]
added = ['getenv\(']
[[rule.verify]]
name_from = 'getenv\("([A-Z_]+)"'
look_in = [".env.example"]
patterns = ['^{{name}}=']
sides = ["new"]
[rule.verify.found]
severity = "note"
[[rule.verify]]
name_from = 'getenv\("([A-Z_]+)"'
look_in = [".env.example"]
patterns = ['^#\s*{{name}}=']
sides = ["new"]
[rule.verify.found]
severity = "quiet"
[[rule.example]]
name = "commented out in .env.example"
expect = "pass"
diff = '''
{ENV_DIFF}'''
[rule.example.tree]
".env.example" = "# GATEWAY_URL=\n"
[[rule.example]]
name = "set in .env.example"
expect = "fire"
severity = "note"
diff = '''
{ENV_DIFF}'''
[rule.example.tree]
".env.example" = "GATEWAY_URL=https://gw\n"
"##
    );
    let repo = Repo::new();
    repo.write(".forewarn/rules/team.toml", rule);
    let run = repo.forewarn(&["test", "team-new-env"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("2 passed, 0 failed"), "{run:?}");
    // `explain` says where each check takes the name from.
    let explain = repo.forewarn(&["explain", "team-new-env"]);
    assert_eq!(
        explain
            .stdout
            .matches("{name} is taken from the finding's matched text")
            .count(),
        2,
        "{explain:?}"
    );
}
