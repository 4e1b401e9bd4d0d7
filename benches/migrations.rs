//! The migration-heavy benchmark: `cargo bench --bench migrations`.
//!
//! Generates, in a temp dir, a repository whose base holds Django apps, a Rails app and a Flyway
//! folder with earlier migrations, and a change that adds thousands of realistic migrations to
//! them (Django `AddField`, `AlterField` judged against the app's history, `RunSQL`, indexes;
//! Rails `add_column`, `add_index`, `change_column`, `execute` heredocs, `change_table` blocks;
//! SQL with comments, multi-line statements, `DO` blocks, updates). Then prints:
//! - `check` wall time vs `git diff --no-color -U0` on the same range, as a ratio, with every
//!   migration parsed into operations (and the findings count);
//! - peak memory of `check`;
//! - on the SQL files alone: `forewarn check` vs squawk (PyPI `squawk-cli`, when `squawk` is on
//!   PATH), which lints the same files.
//!
//! Times are medians of paired runs (`FOREWARN_BENCH_RUNS`, default 5);
//! `FOREWARN_BENCH_SCALE=0.1` makes it ten times smaller; `FOREWARN_BENCH_KEEP=DIR` keeps the
//! generated repository in DIR. Nothing here asserts on time.

mod common;

use std::path::Path;
use std::process::Command;

use common::{build_release_binary, paired, peak_rss_kib, run, time_to_null};

fn main() {
    let scale: f64 = std::env::var("FOREWARN_BENCH_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1.0);
    let runs: usize = std::env::var("FOREWARN_BENCH_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let per_kind = ((2_000.0 * scale) as usize).max(10);
    let bin = build_release_binary();
    let dir = tempfile::tempdir().expect("temp dir");
    // FOREWARN_BENCH_KEEP=DIR keeps the generated repository in DIR, to profile.
    let root = std::env::var_os("FOREWARN_BENCH_KEEP")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| dir.path().to_path_buf());
    let repo = root.join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    let git = |args: &[&str]| {
        run(Command::new("git")
            .args([
                "-c",
                "user.name=bench",
                "-c",
                "user.email=bench@example.invalid",
            ])
            .args(["-c", "commit.gpgsign=false"])
            .args(args)
            .current_dir(&repo))
    };
    git(&["init", "-q", "-b", "main"]);
    let write = |path: &str, text: &str| {
        let full = repo.join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, text).unwrap();
    };
    // The base: each app's first migration, a schema dump, and a settings file naming Postgres.
    write(
        "shop/settings.py",
        "DATABASES = {'default': {'ENGINE': 'django.db.backends.postgresql'}}\n",
    );
    for app in 0..10 {
        write(
            &format!("app{app}/migrations/0001_initial.py"),
            &django_initial(),
        );
    }
    write("db/schema.rb", &schema_rb());
    write("db/migration/V1__init.sql", &sql_initial());
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", "base"]);
    git(&["checkout", "-q", "-b", "feature"]);
    let mut sql_files = Vec::new();
    for i in 0..per_kind {
        let app = i % 10;
        write(
            &format!("app{app}/migrations/{:04}_change.py", i / 10 + 2),
            &django_migration(i),
        );
        write(
            &format!("db/migrate/2024{:010}_change_{i}.rb", i),
            &rails_migration(i),
        );
        let sql = format!("db/migration/V{}__change_{i}.sql", i + 2);
        write(&sql, &sql_migration(i));
        sql_files.push(sql);
    }
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", "migrations"]);
    // The SQL files alone, on a branch of their own: what squawk is compared on.
    git(&["checkout", "-q", "-b", "sql", "main"]);
    git(&["checkout", "-q", "feature", "--", "db/migration"]);
    git(&["commit", "-q", "-m", "sql migrations"]);
    let files = per_kind * 3;

    let check = |args: &[&str]| {
        let mut cmd = Command::new(&bin);
        cmd.args([
            "check",
            "--base",
            "main",
            "--head",
            "feature",
            "--fail-on",
            "never",
        ])
        .args(args)
        .current_dir(&repo);
        cmd
    };
    let findings = {
        let out = check(&["--format", "json"]).output().unwrap();
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
        json["findings"].as_array().map_or(0, Vec::len)
    };
    let p = paired(
        runs,
        || time_to_null(&mut check(&[])),
        || {
            time_to_null(
                Command::new("git")
                    .args(["diff", "--no-color", "-U0", "main...feature"])
                    .current_dir(&repo),
            )
        },
    );
    println!(
        "migrations: {files} files added ({per_kind} Django, {per_kind} Rails, {per_kind} SQL), {findings} findings"
    );
    println!(
        "check vs git diff -U0: {:.2}x {} (check {:.0} ms, git diff {:.0} ms)",
        p.ratio,
        p.spread(),
        p.a.as_secs_f64() * 1e3,
        p.b.as_secs_f64() * 1e3
    );
    println!(
        "peak memory of check: {:.0} MiB",
        peak_rss_kib(&mut check(&[])) as f64 / 1024.0
    );

    // SQL alone, against squawk on the same files.
    // FOREWARN_SQUAWK names squawk's binary itself (a pyenv shim adds a shell's start-up).
    let squawk = std::env::var_os("FOREWARN_SQUAWK")
        .map(std::path::PathBuf::from)
        .or_else(|| which("squawk"));
    match squawk {
        Some(squawk) => {
            let p = paired(
                runs,
                || {
                    time_to_null(
                        Command::new(&bin)
                            .args([
                                "check",
                                "--base",
                                "main",
                                "--head",
                                "sql",
                                "--fail-on",
                                "never",
                            ])
                            .current_dir(&repo),
                    )
                },
                || time_to_null(Command::new(&squawk).args(&sql_files).current_dir(&repo)),
            );
            println!(
                "SQL files only: forewarn vs squawk: {:.2}x {} (forewarn {:.0} ms, squawk {:.0} ms, {} files)",
                p.ratio,
                p.spread(),
                p.a.as_secs_f64() * 1e3,
                p.b.as_secs_f64() * 1e3,
                sql_files.len()
            );
        }
        None => println!("squawk: not on PATH (pip install squawk-cli), comparison skipped"),
    }
}

fn which(name: &str) -> Option<std::path::PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|d| Path::new(d).join(name))
        .find(|p| p.is_file())
}

fn django_initial() -> String {
    "from django.db import migrations, models\n\n\nclass Migration(migrations.Migration):\n    initial = True\n\n    operations = [\n        migrations.CreateModel(\n            name=\"Order\",\n            fields=[\n                (\"id\", models.BigAutoField(primary_key=True)),\n                (\"code\", models.CharField(max_length=20, null=True)),\n                (\"note\", models.CharField(max_length=50)),\n                (\"total\", models.IntegerField()),\n            ],\n        ),\n    ]\n".to_string()
}

fn django_migration(i: usize) -> String {
    format!(
        "# Generated by Django 5.0 on 2024-05-01 10:{m:02}\n\nfrom django.db import migrations, models\nimport django.db.models.deletion\n\n\ndef backfill(apps, schema_editor):\n    Order = apps.get_model(\"app\", \"Order\")\n    Order.objects.filter(code__isnull=True).update(code=\"\")\n\n\nclass Migration(migrations.Migration):\n    dependencies = [\n        (\"app\", \"0001_initial\"),\n    ]\n\n    operations = [\n        migrations.AddField(\n            model_name=\"order\",\n            name=\"flag_{i}\",\n            field=models.BooleanField(default=False),\n        ),\n        migrations.AlterField(\n            model_name=\"order\",\n            name=\"code\",\n            field=models.CharField(max_length=20, help_text=\"code {i}\"),\n        ),\n        migrations.AddIndex(\n            model_name=\"order\",\n            index=models.Index(fields=[\"code\"], name=\"order_code_{i}\"),\n        ),\n        migrations.RunPython(backfill, migrations.RunPython.noop),\n        migrations.RunSQL(\n            \"\"\"\n            UPDATE app_order SET note = 'n' WHERE note IS NULL;\n            \"\"\",\n            reverse_sql=migrations.RunSQL.noop,\n        ),\n    ]\n",
        m = i % 60
    )
}

fn schema_rb() -> String {
    let mut s = String::from("ActiveRecord::Schema[7.1].define(version: 2024_01_01_000000) do\n");
    for t in 0..50 {
        s.push_str(&format!(
            "  create_table \"t{t}\", force: :cascade do |t|\n    t.string \"name\", limit: 100\n    t.integer \"count\"\n    t.datetime \"created_at\", null: false\n  end\n\n"
        ));
    }
    s.push_str("end\n");
    s
}

fn rails_migration(i: usize) -> String {
    let t = i % 50;
    format!(
        "# frozen_string_literal: true\n\nclass Change{i} < ActiveRecord::Migration[7.1]\n  disable_ddl_transaction!\n\n  def up\n    add_column :t{t}, :state_{i}, :string, null: false, default: \"new\"\n    add_index :t{t}, :state_{i},\n      algorithm: :concurrently\n    change_column :t{t}, :name, :string, limit: 200\n    change_table :t{t} do |t|\n      t.remove :legacy_{i}\n      t.index :count\n    end\n    execute <<~SQL\n      UPDATE t{t} SET state_{i} = 'old' WHERE created_at < now() - interval '1 year';\n    SQL\n  end\n\n  def down\n    remove_column :t{t}, :state_{i}\n  end\nend\n"
    )
}

fn sql_initial() -> String {
    let mut s = String::new();
    for t in 0..50 {
        s.push_str(&format!(
            "CREATE TABLE s{t} (\n  id bigint PRIMARY KEY,\n  name varchar(50) NOT NULL,\n  amount numeric(10,2),\n  created_at timestamptz NOT NULL DEFAULT now()\n);\n\n"
        ));
    }
    s
}

fn sql_migration(i: usize) -> String {
    let t = i % 50;
    format!(
        "-- Release {i}: widen names, index amounts, backfill.\nSET lock_timeout = '5s';\n\nALTER TABLE s{t}\n  ALTER COLUMN name TYPE text,\n  ADD COLUMN note_{i} text;\n\n/* Built concurrently: the table is busy. */\nCREATE INDEX CONCURRENTLY s{t}_amount_{i} ON s{t} (amount);\n\nALTER TABLE s{t} ADD CONSTRAINT s{t}_positive_{i} CHECK (amount >= 0) NOT VALID;\n\nDO $$\nBEGIN\n  UPDATE s{t} SET note_{i} = 'x; y' WHERE id < 100;\nEND $$;\n"
    )
}
