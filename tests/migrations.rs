//! Migrations understood as operations: each test builds a real repository, commits a change and
//! runs the binary, as a user would.

mod util;

use util::Repo;

const DJANGO_HEAD: &str =
    "from django.db import migrations, models\n\n\nclass Migration(migrations.Migration):\n";

/// `(rule id, line, operation)` of every finding of `forewarn check --commit HEAD`.
fn findings(repo: &Repo) -> Vec<(String, Option<u64>, Option<String>, String)> {
    repo.head_findings()
        .iter()
        .map(|f| {
            (
                f["rule_id"].as_str().unwrap().to_string(),
                f["line"].as_u64(),
                f["operation"].as_str().map(str::to_string),
                f["fingerprint"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn fired(repo: &Repo, rule: &str) -> Vec<Option<u64>> {
    findings(repo)
        .into_iter()
        .filter(|f| f.0 == rule)
        .map(|f| f.1)
        .collect()
}

fn django_app() -> Repo {
    let repo = Repo::new();
    // The running code's model still declares the fields: a drop is a real risk.
    repo.write(
        "shop/models.py",
        "from django.db import models\n\n\nclass Order(models.Model):\n    note = models.CharField(max_length=20)\n    total = models.IntegerField()\n",
    );
    repo.write(
        "shop/migrations/0001_initial.py",
        format!(
            "{DJANGO_HEAD}    operations = [\n        migrations.CreateModel(\n            name='Order',\n            fields=[\n                ('id', models.AutoField(primary_key=True)),\n                ('note', models.CharField(max_length=20, null=True)),\n                ('total', models.IntegerField()),\n            ],\n        ),\n    ]\n"
        ),
    );
    repo.commit("initial model");
    repo
}

fn alter(field: &str, name: &str) -> String {
    format!(
        "{DJANGO_HEAD}    operations = [\n        migrations.AlterField(\n            model_name='order',\n            name='{name}',\n            field={field},\n        ),\n    ]\n"
    )
}

#[test]
fn alter_field_is_judged_against_the_field_in_earlier_migrations() {
    let repo = django_app();
    // Only the help text changes: no SQL runs, nothing to ask.
    repo.write(
        "shop/migrations/0002_help.py",
        alter(
            "models.CharField(max_length=20, null=True, help_text='x')",
            "note",
        ),
    );
    repo.commit("help text");
    let found = findings(&repo);
    assert!(
        found.iter().all(|f| f.2.is_none()),
        "an AlterField with no database effect: {found:?}"
    );
    // NOT NULL set on an existing column: found from the field in 0001, at its own line.
    repo.write(
        "shop/migrations/0003_not_null.py",
        alter("models.CharField(max_length=20)", "note"),
    );
    repo.commit("not null");
    assert_eq!(fired(&repo, "migration-sets-not-null"), [Some(6)]);
    // A type change that rewrites the table, and one that Postgres makes in the catalogue.
    repo.write(
        "shop/migrations/0004_bigger.py",
        alter("models.BigIntegerField()", "total"),
    );
    repo.commit("bigint");
    assert_eq!(fired(&repo, "migration-changes-column-type"), [Some(6)]);
    repo.write(
        "shop/migrations/0005_text.py",
        alter("models.TextField()", "note"),
    );
    repo.commit("varchar to text");
    assert!(fired(&repo, "migration-changes-column-type").is_empty());
}

#[test]
fn every_operation_of_a_one_line_list_is_reported_with_its_own_fingerprint() {
    let repo = django_app();
    repo.write(
        "shop/migrations/0002_drop.py",
        format!("{DJANGO_HEAD}    operations = [migrations.RemoveField(model_name='order', name='note'), migrations.RemoveField(model_name='order', name='total')]\n"),
    );
    repo.commit("drop two columns");
    let drops: Vec<_> = findings(&repo)
        .into_iter()
        .filter(|f| f.0 == "migration-drops-column")
        .collect();
    assert_eq!(drops.len(), 2, "{drops:?}");
    assert_ne!(drops[0].3, drops[1].3, "one fingerprint per operation");
    assert_eq!(drops[0].2.as_deref(), Some("drop-column"));
}

#[test]
fn state_only_and_squashed_operations_run_no_sql() {
    let repo = django_app();
    repo.write(
        "shop/migrations/0002_state.py",
        format!("{DJANGO_HEAD}    operations = [\n        migrations.SeparateDatabaseAndState(\n            state_operations=[migrations.RemoveField(model_name='order', name='note')],\n        ),\n    ]\n"),
    );
    repo.write(
        "shop/migrations/0001_squashed_0002.py",
        format!("{DJANGO_HEAD}    replaces = [('shop', '0001_initial')]\n    operations = [migrations.RemoveField(model_name='order', name='total')]\n"),
    );
    repo.commit("state only");
    assert!(fired(&repo, "migration-drops-column").is_empty());
}

#[test]
fn the_down_half_is_not_the_deploy_and_a_create_does_not_silence_a_drop() {
    let repo = Repo::new();
    repo.write(
        "db/migrate/20240101000000_drop_legacy.rb",
        "class DropLegacy < ActiveRecord::Migration[7.1]\n  def up\n    create_table :audits do |t|\n      t.string :what\n    end\n    remove_column :users, :legacy\n  end\n\n  def down\n    drop_table :audits\n    add_column :users, :legacy, :string\n  end\nend\n",
    );
    repo.commit("drop legacy");
    assert_eq!(fired(&repo, "migration-drops-column"), [Some(6)]);
    assert!(fired(&repo, "migration-drops-table").is_empty());
}

#[test]
fn sql_spelled_another_way_is_read_as_the_database_reads_it() {
    let repo = Repo::new();
    repo.write(
        "db/migration/V2__cleanup.sql",
        "-- CREATE TABLE users_new (id int);\nCREATE TABLE audit (id int);\nBEGIN; DROP/**/TABLE sessions; COMMIT;\nALTER TABLE users DROP email;\nINSERT INTO notes (body) VALUES ('a; DROP TABLE x');\n",
    );
    repo.commit("cleanup");
    assert_eq!(fired(&repo, "migration-drops-table"), [Some(3)]);
    assert_eq!(fired(&repo, "migration-drops-column"), [Some(4)]);
}

#[test]
fn formatting_an_applied_migration_is_not_an_edit() {
    let repo = Repo::new();
    repo.write(
        "shop/models.py",
        "from django.db import models\n\n\nclass Order(models.Model):\n    note = models.CharField(max_length=20)\n    total = models.IntegerField()\n",
    );
    repo.write(
        "shop/migrations/0002_x.py",
        format!("{DJANGO_HEAD}    operations = [migrations.RemoveField(model_name='order', name='note',)]\n"),
    );
    repo.commit("base");
    // What black and isort make of it: quotes, line breaks, trailing commas, a comment.
    repo.write(
        "shop/migrations/0002_x.py",
        format!("{DJANGO_HEAD}    # reformatted\n    operations = [\n        migrations.RemoveField(\n            model_name=\"order\",\n            name=\"note\",\n        ),\n    ]\n"),
    );
    repo.commit("black");
    assert!(fired(&repo, "applied-migration-edited").is_empty());
    repo.write(
        "shop/migrations/0002_x.py",
        format!("{DJANGO_HEAD}    operations = [\n        migrations.RemoveField(\n            model_name=\"order\",\n            name=\"total\",\n        ),\n    ]\n"),
    );
    repo.commit("a real edit");
    assert_eq!(fired(&repo, "applied-migration-edited").len(), 1);
    // Only what the edit added is news: the column dropped before is not reported again.
    assert_eq!(fired(&repo, "migration-drops-column").len(), 1);
}

#[test]
fn postgres_advice_follows_the_database_profile() {
    let repo = Repo::new();
    repo.write(
        "db/migration/V2__idx.sql",
        "CREATE INDEX orders_user ON orders (user_id);\n",
    );
    repo.commit("index");
    let run = repo.check_head();
    assert!(
        run.stdout
            .contains("assumes postgres (from no database setting found"),
        "the verdict names its assumption: {}",
        run.stdout
    );
    // A Rails app on MySQL, detected from config/database.yml: InnoDB builds indexes online.
    repo.write("config/database.yml", "production:\n  adapter: mysql2\n");
    repo.write(
        "db/migration/V3__idx.sql",
        "CREATE INDEX orders_day ON orders (day);\n",
    );
    repo.commit("mysql");
    assert!(fired(&repo, "postgres-create-index-not-concurrently").is_empty());
    // forewarn.toml wins over detection.
    repo.write(
        "forewarn.toml",
        "[database]\nengine = \"postgres\"\nversion = 15\n",
    );
    repo.write(
        "db/migration/V4__idx.sql",
        "CREATE INDEX orders_week ON orders (week);\n",
    );
    repo.commit("postgres after all");
    let run = repo.check_head();
    assert!(
        run.stdout
            .contains("assumes postgres 15 (from forewarn.toml)"),
        "{}",
        run.stdout
    );
    // An unknown engine is a config error at its line.
    repo.write("forewarn.toml", "[database]\nengine = \"postgress\"\n");
    let run = repo.forewarn(&["check", "--commit", "HEAD"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("forewarn.toml:2"), "{run:?}");
}

#[test]
fn a_migration_moved_into_the_migrations_folder_is_a_new_migration() {
    let repo = Repo::new();
    let body = format!(
        "{DJANGO_HEAD}    operations = [migrations.RemoveField(model_name='order', name='note')]\n"
    );
    repo.write(
        "shop/models.py",
        "from django.db import models\n\n\nclass Order(models.Model):\n    note = models.CharField(max_length=20)\n    total = models.IntegerField()\n",
    );
    repo.write("drafts/0002_drop_note.py", &body);
    repo.write("shop/migrations/__init__.py", "");
    repo.commit("draft");
    repo.git(&[
        "mv",
        "drafts/0002_drop_note.py",
        "shop/migrations/0002_drop_note.py",
    ]);
    repo.commit("move it in");
    let found = findings(&repo);
    assert!(
        found
            .iter()
            .any(|f| f.0 == "new-migration-needs-deploy-step"),
        "{found:?}"
    );
    assert!(
        found.iter().any(|f| f.0 == "migration-drops-column"),
        "{found:?}"
    );
}

#[test]
fn a_migration_that_does_not_parse_is_read_as_text_and_says_so() {
    let repo = Repo::new();
    repo.write(
        "shop/migrations/0002_broken.py",
        format!("{DJANGO_HEAD}    operations = [\n        migrations.RunSQL(\"DROP TABLE shop_legacy\"),\n    ]\n    def broken(:\n"),
    );
    repo.commit("broken");
    let found = findings(&repo);
    assert!(
        found.iter().any(|f| f.0 == "migration-read-as-text"),
        "{found:?}"
    );
    // The line rules still read it.
    assert!(
        found.iter().any(|f| f.0 == "migration-drops-table"),
        "{found:?}"
    );
}

#[test]
fn an_operation_keeps_its_fingerprint_when_its_line_moves() {
    let repo = Repo::new();
    repo.write(
        "db/migration/V2__drop.sql",
        "ALTER TABLE users DROP COLUMN email;\n",
    );
    repo.commit("drop");
    let first = findings(&repo);
    // The same change written another way, as a rebase might leave it.
    repo.git(&["reset", "-q", "--hard", "HEAD~1"]);
    repo.write(
        "db/migration/V2__drop.sql",
        "-- tidy up\n\nALTER TABLE users\n  DROP COLUMN email;\n",
    );
    repo.commit("drop, again");
    let second: Vec<_> = findings(&repo);
    let fp = |v: &[(String, Option<u64>, Option<String>, String)]| {
        v.iter()
            .find(|f| f.0 == "migration-drops-column")
            .map(|f| f.3.clone())
    };
    assert!(fp(&first).is_some());
    assert_eq!(fp(&first), fp(&second));
}

#[test]
fn migration_paths_are_read_as_people_write_them() {
    let repo = Repo::new();
    // An upper-case extension, a folder whose name starts with "test", a Flyway subfolder.
    repo.write("db/migration/V2__drop.SQL", "DROP TABLE sessions;\n");
    repo.write(
        "testimonials/migrations/0002_drop.py",
        format!("{DJANGO_HEAD}    operations = [migrations.DeleteModel(name='Quote')]\n"),
    );
    repo.write("db/migration/2024/V3__drop.sql", "DROP TABLE tokens;\n");
    repo.commit("drops");
    let found = findings(&repo);
    let drops: Vec<&str> = found
        .iter()
        .filter(|f| f.0 == "migration-drops-table")
        .map(|f| f.0.as_str())
        .collect();
    assert_eq!(drops.len(), 3, "{found:?}");
    // A real test folder is still left out.
    repo.write(
        "tests/migrations/0003_drop.py",
        format!("{DJANGO_HEAD}    operations = [migrations.DeleteModel(name='Fixture')]\n"),
    );
    repo.commit("a test migration");
    assert!(fired(&repo, "migration-drops-table").is_empty());
}

#[cfg(unix)]
#[test]
fn a_database_setting_that_cannot_be_read_is_named_in_the_assumption() {
    let repo = Repo::new();
    std::fs::create_dir_all(repo.join("config")).unwrap();
    // A settings file that leads out of the repository is never read through.
    std::os::unix::fs::symlink("/etc/hostname", repo.join("config/database.yml")).unwrap();
    repo.write("db/migrate/001.sql", "CREATE TABLE t (a int);\n");
    repo.commit("base");
    repo.write("db/migrate/002.sql", "CREATE INDEX i ON t(a);\n");
    repo.commit("index");
    let found = repo.head_findings();
    let message = found
        .iter()
        .find(|f| f["rule_id"] == "postgres-create-index-not-concurrently")
        .and_then(|f| f["message"].as_str())
        .unwrap_or_else(|| panic!("{found:?}"));
    assert!(
        message.contains("config/database.yml is a symbolic link")
            && message.contains("Postgres assumed"),
        "the assumption names the setting it could not read: {message}"
    );
}
