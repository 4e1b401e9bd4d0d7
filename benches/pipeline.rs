//! The performance benchmark: `cargo bench --bench pipeline`.
//!
//! Generates, in a temp dir, a large realistic repository and change (20,000+ files changed,
//! 1,000,000+ added lines: SQL, Rails and Django migrations, YAML manifests, source files, a few
//! large and binary files) and a 5,000-commit history, then prints:
//! - `check` wall time with all built-in packs vs `git diff --no-color -U0 base head`, as a ratio;
//! - peak memory of `check`, and of the same check on a change a quarter as large;
//! - the same check with only the starter packs (migrations, config, rollout), as a ratio;
//! - `backtest` over the history vs `git log -p -U0` over the same range, as a ratio;
//! - the same check with 10x the rules (renamed copies of the packs, which all fire), and with
//!   the packs plus 9x as many distinct rules that do not fire.
//!
//! Each ratio's two sides are timed in turn, run after run, so a slow moment of the machine falls
//! on both; the ratio printed is the median of the pairs' ratios, with the lowest and highest
//! pair beside it. Times are medians. Nothing here asserts on time: it prints figures.
//! `FOREWARN_BENCH_SCALE=0.1` makes everything ten times smaller for a quick look;
//! `FOREWARN_BENCH_RUNS=N` sets the number of runs (default 5); `FOREWARN_BENCH_KEEP=DIR` keeps
//! the generated repository in DIR.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use common::{build_release_binary, median, paired, peak_rss_kib, run, time_to_null};

fn main() {
    let scale: f64 = std::env::var("FOREWARN_BENCH_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1.0);
    let runs: usize = std::env::var("FOREWARN_BENCH_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let bin = build_release_binary();
    let dir = tempfile::tempdir().expect("temp dir");
    // FOREWARN_BENCH_KEEP=DIR generates into DIR and leaves it there, for profiling.
    let repo = match std::env::var_os("FOREWARN_BENCH_KEEP") {
        Some(keep) => PathBuf::from(keep),
        None => dir.path().join("repo"),
    };
    let sizes = Sizes::new(scale);
    let t = Instant::now();
    let generated = generate(&repo, &sizes);
    println!(
        "generated in {:.1}s: {} files changed, {} added lines; history of {} commits",
        t.elapsed().as_secs_f64(),
        generated.files_changed,
        generated.added_lines,
        sizes.history_commits
    );

    let check_args = [
        "check",
        "--base",
        "base",
        "--head",
        "head",
        "--fail-on",
        "never",
        "--format",
        "json",
    ];
    let run_check = |extra: &[&str]| {
        time_to_null(
            Command::new(&bin)
                .current_dir(&repo)
                .args(check_args)
                .args(extra),
        )
    };
    let against_git = paired(
        runs,
        || run_check(&[]),
        || {
            time_to_null(Command::new("git").current_dir(&repo).args([
                "diff",
                "--no-color",
                "-U0",
                "base",
                "head",
            ]))
        },
    );
    let (check, git_diff) = (against_git.a, against_git.b);
    let peak = peak_rss_kib(Command::new(&bin).current_dir(&repo).args(check_args));
    let findings = count_findings(&bin, &repo, &check_args);
    // Issue 3's comparison on this change: all packs against the starter packs.
    let starter = dir.path().join("starter.toml");
    write_starter_config(&starter);
    let starter_arg = starter.to_string_lossy().into_owned();
    let against_starter = paired(
        runs,
        || run_check(&[]),
        || run_check(&["--config", &starter_arg]),
    );
    let check_starter = against_starter.b;
    // Memory against the size of the change: the same mix, a quarter as large.
    let quarter_repo = dir.path().join("quarter");
    let quarter = generate(&quarter_repo, &Sizes::new(scale / 4.0));
    let quarter_peak = peak_rss_kib(
        Command::new(&bin)
            .current_dir(&quarter_repo)
            .args(check_args),
    );

    println!();
    println!(
        "check (all built-in packs)   {:>8.3}s   ({findings} findings)",
        check.as_secs_f64()
    );
    println!(
        "git diff -U0 base head       {:>8.3}s",
        git_diff.as_secs_f64()
    );
    println!(
        "ratio check / git diff       {:>8.2}x   {}",
        against_git.ratio,
        against_git.spread()
    );
    println!(
        "peak memory of check         {:>8.1} MiB",
        peak as f64 / 1024.0
    );
    println!(
        "  the same, change 1/4 size  {:>8.1} MiB   ({} added lines)",
        quarter_peak as f64 / 1024.0,
        quarter.added_lines
    );
    println!(
        "check, starter packs only    {:>8.3}s",
        check_starter.as_secs_f64()
    );
    println!(
        "ratio all / starter packs    {:>8.2}x   {}",
        against_starter.ratio,
        against_starter.spread()
    );

    // 10x the rules: nine renamed copies of every built-in pack as team rules.
    // Team rules live in the repository: forewarn reads no rules from outside it.
    let many = repo.join(".bench-rules/many");
    write_rule_copies(&bin, &repo, &many, 9);
    let config = many.join("forewarn.toml");
    let config_arg = config.to_string_lossy().into_owned();
    let ten = paired(
        runs,
        || run_check(&["--config", &config_arg]),
        || run_check(&[]),
    );
    // 10x the rules again, but distinct ones that do not fire on this change (as most of a large
    // rule set does not on any one change): how matching cost grows with the number of rules.
    let distinct = repo.join(".bench-rules/distinct");
    write_distinct_rules(&distinct, 9 * count_builtin_rules());
    let distinct_config = distinct.join("forewarn.toml");
    let distinct_arg = distinct_config.to_string_lossy().into_owned();
    let distinct = paired(
        runs,
        || run_check(&["--config", &distinct_arg]),
        || run_check(&[]),
    );
    let rules1 = rule_count(&bin, &repo, &[]);
    let rules10 = rule_count(&bin, &repo, &["--config", &config_arg]);
    println!(
        "check with {rules10} rules (vs {rules1}) {:>8.3}s",
        ten.a.as_secs_f64()
    );
    println!(
        "ratio 10x rules / 1x rules   {:>8.2}x   {}",
        ten.ratio,
        ten.spread()
    );
    println!(
        "check with 9x distinct rules that do not fire {:>6.3}s",
        distinct.a.as_secs_f64()
    );
    println!(
        "ratio distinct 10x / 1x      {:>8.2}x   {}",
        distinct.ratio,
        distinct.spread()
    );

    // Issue 3's comparison: all packs against the starter packs (migrations, config, rollout) on
    // realistic migrations: the labelled corpus, replicated 40 times as one patch.
    let corpus_patch = dir.path().join("corpus.patch");
    let (patch_files, patch_lines) = write_corpus_patch(&corpus_patch, 40);
    let patch_arg = corpus_patch.to_string_lossy().into_owned();
    let patch_args = [
        "check",
        "--patch",
        &patch_arg,
        "--fail-on",
        "never",
        "--format",
        "json",
    ];
    let corpus = paired(
        runs,
        || time_to_null(Command::new(&bin).current_dir(dir.path()).args(patch_args)),
        || {
            time_to_null(
                Command::new(&bin)
                    .current_dir(dir.path())
                    .args(patch_args)
                    .args(["--config", &starter_arg]),
            )
        },
    );
    let (all_packs, starter_packs) = (corpus.a, corpus.b);
    println!();
    println!("corpus x40 as a patch: {patch_files} files, {patch_lines} added lines");
    println!(
        "check, all packs             {:>8.3}s",
        all_packs.as_secs_f64()
    );
    println!(
        "check, starter packs         {:>8.3}s",
        starter_packs.as_secs_f64()
    );
    println!(
        "ratio all / starter          {:>8.2}x   {}",
        corpus.ratio,
        corpus.spread()
    );

    // Backtest over the generated history.
    let range = "history-start..history";
    let git_log = || {
        time_to_null(Command::new("git").current_dir(&repo).args([
            "log",
            "-p",
            "-U0",
            "--no-color",
            range,
        ]))
    };
    let has_backtest = Command::new(&bin)
        .args(["backtest", "--help"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    println!();
    if has_backtest {
        let backtest = paired(
            runs,
            || {
                time_to_null(
                    Command::new(&bin)
                        .current_dir(&repo)
                        .args(["backtest", "--range", range]),
                )
            },
            git_log,
        );
        println!(
            "git log -p -U0 ({} commits) {:>8.3}s",
            sizes.history_commits,
            backtest.b.as_secs_f64()
        );
        println!(
            "backtest                     {:>8.3}s",
            backtest.a.as_secs_f64()
        );
        println!(
            "ratio backtest / git log -p  {:>8.2}x   {}",
            backtest.ratio,
            backtest.spread()
        );
    } else {
        println!(
            "git log -p -U0 ({} commits) {:>8.3}s",
            sizes.history_commits,
            median(runs, git_log).as_secs_f64()
        );
        println!("backtest                     (this build has no backtest command)");
    }
}

struct Sizes {
    sql: usize,
    rails: usize,
    django: usize,
    yaml: usize,
    source: usize,
    lines_per_file: usize,
    large_files: usize,
    large_lines: usize,
    binaries: usize,
    history_commits: usize,
}

impl Sizes {
    fn new(scale: f64) -> Sizes {
        let n = |x: f64| ((x * scale).round() as usize).max(1);
        Sizes {
            sql: n(2_000.0),
            rails: n(2_000.0),
            django: n(2_000.0),
            yaml: n(4_000.0),
            source: n(10_000.0),
            lines_per_file: 45,
            large_files: 5,
            large_lines: n(50_000.0),
            binaries: 5,
            history_commits: n(5_000.0),
        }
    }
}

struct Generated {
    files_changed: usize,
    added_lines: usize,
}

/// Writes the repository with `git fast-import`: fast, and no working tree to check out.
fn generate(repo: &Path, s: &Sizes) -> Generated {
    run(Command::new("git")
        .args(["init", "-q", "-b", "main"])
        .arg(repo));
    let mut child = Command::new("git")
        .current_dir(repo)
        .args(["fast-import", "--quiet"])
        .stdin(Stdio::piped())
        .spawn()
        .expect("git fast-import");
    let mut out = std::io::BufWriter::with_capacity(1 << 20, child.stdin.take().unwrap());
    let mut mark = 0usize;
    let mut commit = |out: &mut dyn Write,
                      branch: &str,
                      msg: &str,
                      from: Option<&str>,
                      files: &mut dyn FnMut(&mut dyn Write)| {
        mark += 1;
        writeln!(out, "commit refs/heads/{branch}\nmark :{mark}\ncommitter Bench <bench@example.invalid> {} +0000", 1_700_000_000 + mark).unwrap();
        writeln!(out, "data {}\n{msg}", msg.len()).unwrap();
        if let Some(from) = from {
            writeln!(out, "from {from}").unwrap();
        }
        files(out);
        writeln!(out).unwrap();
        mark
    };
    fn file(out: &mut dyn Write, path: &str, body: &[u8]) {
        writeln!(out, "M 100644 inline {path}\ndata {}", body.len()).unwrap();
        out.write_all(body).unwrap();
        writeln!(out).unwrap();
    }
    let source_path = |i: usize| {
        let ext = ["py", "js", "go", "rb", "ts"][i % 5];
        format!("src/mod{}/file{i}.{ext}", i / 200)
    };
    let yaml_path = |i: usize| format!("deploy/k8s/app{}/manifest{i}.yaml", i / 100);

    // base: the files the change will modify, ten lines each.
    let base = commit(&mut out, "main", "base", None, &mut |out| {
        for i in 0..s.source {
            file(out, &source_path(i), source_body(i, 10).as_bytes());
        }
        for i in 0..s.yaml {
            file(out, &yaml_path(i), yaml_body(i, 1).as_bytes());
        }
        file(out, "README.md", b"bench\n");
    });
    let mut added_lines = 0usize;
    let mut files_changed = 0usize;
    commit(
        &mut out,
        "main",
        "the big change",
        Some(&format!(":{base}")),
        &mut |out| {
            for i in 0..s.sql {
                let body = sql_body(i, s.lines_per_file);
                added_lines += body.lines().count();
                file(
                    out,
                    &format!("db/migration/V{}__change_{i}.sql", 1000 + i),
                    body.as_bytes(),
                );
            }
            for i in 0..s.rails {
                let body = rails_body(i, s.lines_per_file);
                added_lines += body.lines().count();
                file(
                    out,
                    &format!("db/migrate/2024{:010}_change_{i}.rb", i),
                    body.as_bytes(),
                );
            }
            for i in 0..s.django {
                let body = django_body(i, s.lines_per_file);
                added_lines += body.lines().count();
                file(
                    out,
                    &format!("app{}/migrations/{:04}_change.py", i / 100, i % 100 + 2),
                    body.as_bytes(),
                );
            }
            for i in 0..s.yaml {
                let body = yaml_body(i, 4);
                added_lines += body.lines().count() - yaml_body(i, 1).lines().count();
                file(out, &yaml_path(i), body.as_bytes());
            }
            for i in 0..s.source {
                let body = source_body(i, 10 + s.lines_per_file);
                added_lines += s.lines_per_file;
                file(out, &source_path(i), body.as_bytes());
            }
            for i in 0..s.large_files {
                let body = source_body(i, s.large_lines);
                added_lines += s.large_lines;
                file(out, &format!("data/large{i}.py"), body.as_bytes());
            }
            for i in 0..s.binaries {
                let body: Vec<u8> = (0..1_000_000u32)
                    .map(|b| (b.wrapping_mul(2_654_435_761) >> 13) as u8)
                    .collect();
                file(out, &format!("assets/blob{i}.bin"), &body);
            }
            files_changed =
                s.sql + s.rails + s.django + s.yaml + s.source + s.large_files + s.binaries;
        },
    );
    // history: small commits, some with migrations and manifests.
    let start = commit(
        &mut out,
        "history",
        "history start",
        Some(&format!(":{base}")),
        &mut |out| {
            file(out, "history/start.txt", b"start\n");
        },
    );
    let mut prev = start;
    for c in 0..s.history_commits {
        prev = commit(
            &mut out,
            "history",
            &format!("change {c}"),
            Some(&format!(":{prev}")),
            &mut |out| {
                file(
                    out,
                    &source_path(c % s.source),
                    source_body(c, 12 + c % 7).as_bytes(),
                );
                if c % 10 == 0 {
                    file(
                        out,
                        &format!("db/migrate/2023{c:010}_h.rb"),
                        rails_body(c, 12).as_bytes(),
                    );
                }
                if c % 7 == 0 {
                    file(
                        out,
                        &yaml_path(c % s.yaml),
                        yaml_body(c, 2 + c % 3).as_bytes(),
                    );
                }
            },
        );
    }
    writeln!(out, "reset refs/tags/history-start\nfrom :{start}\n").unwrap();
    writeln!(out, "reset refs/tags/base\nfrom :{base}\n").unwrap();
    drop(out);
    assert!(child.wait().unwrap().success(), "fast-import failed");
    run(Command::new("git")
        .current_dir(repo)
        .args(["tag", "head", "main"]));
    Generated {
        files_changed,
        added_lines,
    }
}

fn sql_body(i: usize, lines: usize) -> String {
    let mut s = format!("-- migration {i}\nCREATE TABLE t{i} (\n  id bigint PRIMARY KEY,\n");
    for c in 0..lines.saturating_sub(6) {
        s.push_str(&format!("  col{c} text,\n"));
    }
    s.push_str(&format!(
        "  created_at timestamptz\n);\nALTER TABLE t{i} ADD COLUMN note text;\n"
    ));
    s
}

fn rails_body(i: usize, lines: usize) -> String {
    let mut s = format!(
        "class Change{i} < ActiveRecord::Migration[7.1]\n  def change\n    create_table :t{i} do |t|\n"
    );
    for c in 0..lines.saturating_sub(6) {
        s.push_str(&format!("      t.string :col{c}\n"));
    }
    s.push_str("    end\n  end\nend\n");
    s
}

fn django_body(i: usize, lines: usize) -> String {
    let mut s = format!(
        "from django.db import migrations, models\n\n\nclass Migration(migrations.Migration):\n    dependencies = [(\"app\", \"{i}\")]\n    operations = [\n"
    );
    for c in 0..lines.saturating_sub(7) {
        s.push_str(&format!(
            "        migrations.AddField(\"m{i}\", \"f{c}\", models.TextField(null=True)),\n"
        ));
    }
    s.push_str("    ]\n");
    s
}

fn yaml_body(i: usize, containers: usize) -> String {
    let mut s = format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app{i}\nspec:\n  replicas: 3\n  strategy:\n    type: RollingUpdate\n  template:\n    spec:\n      containers:\n"
    );
    for c in 0..containers {
        s.push_str(&format!(
            "        - name: c{c}\n          image: registry.example/app{i}:{c}\n          env:\n            - name: MODE\n              value: \"{c}\"\n"
        ));
    }
    s
}

fn source_body(i: usize, lines: usize) -> String {
    let mut s = String::with_capacity(lines * 40);
    for l in 0..lines {
        match l % 9 {
            0 => s.push_str(&format!("# section {l} of file {i}\n")),
            1 => s.push_str(&format!("value_{l} = compute({i}, {l})\n")),
            2 => s.push_str("if value is None:\n"),
            3 => s.push_str(&format!("    return default_{l}\n")),
            4 => s.push_str(&format!("log.info(\"step {l} done for {i}\")\n")),
            5 => s.push_str(&format!(
                "items.append({{\"id\": {l}, \"name\": \"n{l}\"}})\n"
            )),
            6 => s.push_str("for item in items: handle(item)\n"),
            7 => s.push_str(&format!("total += weights[{l}] * scale\n")),
            _ => s.push('\n'),
        }
    }
    s
}

/// How many rules the built-in packs hold.
fn count_builtin_rules() -> usize {
    let packs = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
    // Packs are the `.toml` files of rules/ itself; rules/data/ holds tables the packs read.
    std::fs::read_dir(&packs)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .map(|p| std::fs::read_to_string(p).unwrap())
        .map(|text| text.matches("\n[[rule]]").count() + usize::from(text.starts_with("[[rule]]")))
        .sum()
}

/// `n` team rules, each with its own patterns (a line or statement rule on one of several kinds
/// of file, or on every file), none of which fires on the generated change.
fn write_distinct_rules(dir: &Path, n: usize) {
    let rules_dir = dir.join("rules");
    std::fs::create_dir_all(&rules_dir).unwrap();
    let globs = [
        Some("**/*.sql"),
        Some("**/*.py"),
        Some("db/migrate/**"),
        Some("**/*.yaml"),
        Some("src/**"),
        None,
    ];
    let mut text = String::new();
    for i in 0..n {
        let paths = globs[i % globs.len()]
            .map(|g| format!("paths = [{g:?}]\n"))
            .unwrap_or_default();
        let statements = if i % 3 == 0 {
            "statements = true\n"
        } else {
            ""
        };
        text.push_str(&format!(
            "[[rule]]\nid = \"bench-distinct-{i}\"\ntitle = \"Bench rule {i}\"\nseverity = \"warning\"\n\
             category = \"bench\"\nmessage = \"{{path}} matches bench rule {i}.\"\n\
             ask = \"Is this bench rule {i}?\"\n\n[rule.match]\n{paths}{statements}\
             added = ['(?i)\\bbench_marker_{i}_(on|off)\\b', '^\\s*ALTER\\s+TABLE\\s+\\w+\\s+SET\\s+bench_{i}\\b']\n\n"
        ));
    }
    std::fs::write(rules_dir.join("distinct.toml"), text).unwrap();
    std::fs::write(
        dir.join("forewarn.toml"),
        format!("rule_dirs = [{:?}]\n", rules_dir.to_string_lossy()),
    )
    .unwrap();
}

/// Renames every built-in rule `copies` times into team rule files, for the 10x measurement.
fn write_rule_copies(_bin: &Path, _repo: &Path, dir: &Path, copies: usize) {
    let packs = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
    let rules_dir = dir.join("rules");
    std::fs::create_dir_all(&rules_dir).unwrap();
    let id_line = regex::Regex::new(r#"(?m)^id = "([^"]+)""#).unwrap();
    for entry in std::fs::read_dir(&packs).unwrap() {
        let path = entry.unwrap().path();
        // Packs only: `rules/data/` holds tables the packs use, not rules.
        if path.extension().is_none_or(|e| e != "toml") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for copy in 1..=copies {
            let renamed = id_line.replace_all(&text, |c: &regex::Captures| {
                format!("id = \"{}-copy{copy}\"", &c[1])
            });
            let name = format!(
                "{}-copy{copy}.toml",
                path.file_stem().unwrap().to_string_lossy()
            );
            std::fs::write(rules_dir.join(name), renamed.as_bytes()).unwrap();
        }
    }
    std::fs::write(
        dir.join("forewarn.toml"),
        format!("rule_dirs = [{:?}]\n", rules_dir.to_string_lossy()),
    )
    .unwrap();
}

/// The labelled corpus (tests/corpus/*.diff), `copies` times under `svcNN/` prefixes, as one
/// patch. Returns (files, added lines).
fn write_corpus_patch(path: &Path, copies: usize) -> (usize, usize) {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let mut diffs: Vec<PathBuf> = std::fs::read_dir(&corpus)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "diff"))
        .collect();
    diffs.sort();
    let texts: Vec<String> = diffs
        .iter()
        .map(|p| String::from_utf8_lossy(&std::fs::read(p).unwrap()).into_owned())
        .collect();
    let header = regex::Regex::new(r"(?m)^diff --git a/(\S+) b/(\S+)").unwrap();
    let sides = regex::Regex::new(r"(?m)^(--- a/|\+\+\+ b/|rename from |rename to )").unwrap();
    let mut out = String::new();
    let (mut files, mut lines) = (0, 0);
    for copy in 0..copies {
        let prefix = format!("svc{copy:02}/");
        for text in &texts {
            let text = header.replace_all(text, |c: &regex::Captures| {
                format!("diff --git a/{prefix}{} b/{prefix}{}", &c[1], &c[2])
            });
            let text = sides.replace_all(&text, |c: &regex::Captures| format!("{}{prefix}", &c[1]));
            files += text.matches("diff --git").count();
            lines += text
                .lines()
                .filter(|l| l.starts_with('+') && !l.starts_with("+++"))
                .count();
            out.push_str(&text);
        }
    }
    std::fs::write(path, out).unwrap();
    (files, lines)
}

/// A config that disables the packs the starter set did not have (migration operations,
/// process), for issue 3's comparison.
fn write_starter_config(path: &Path) {
    let packs = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
    let id_line = regex::Regex::new(r#"(?m)^id = "([^"]+)""#).unwrap();
    let mut ids = Vec::new();
    for pack in ["migration-operations.toml", "process.toml"] {
        let text = std::fs::read_to_string(packs.join(pack)).unwrap();
        ids.extend(id_line.captures_iter(&text).map(|c| format!("{:?}", &c[1])));
    }
    std::fs::write(path, format!("[rules]\ndisable = [{}]\n", ids.join(", "))).unwrap();
}

fn rule_count(bin: &Path, repo: &Path, extra: &[&str]) -> usize {
    let out = Command::new(bin)
        .current_dir(repo)
        .arg("rules")
        .args(extra)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.contains("  "))
        .count()
        .saturating_sub(1)
}

fn count_findings(bin: &Path, repo: &Path, args: &[&str]) -> usize {
    let out = Command::new(bin)
        .current_dir(repo)
        .args(args)
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    json["findings"].as_array().map_or(0, Vec::len)
}
