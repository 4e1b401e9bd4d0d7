//! The real-code evaluation: `FOREWARN_EVAL_REPOS=/work/eval-repos cargo bench --bench eval`.
//!
//! Reads every ground-truth label file in `eval/labels/*.toml` (one per public repository, see
//! `eval/README.md`), runs `forewarn check --commit <sha> --format json --fail-on never` once per
//! labelled commit in the checkout `$FOREWARN_EVAL_REPOS/<owner>+<name>`, keeps the findings on
//! labelled paths and prints:
//! - recall per risk kind and per framework: a labelled risk is caught when a finding of a rule
//!   that `eval/kinds.toml` maps to its kind (or whose `operation` field names the kind) lies on
//!   the labelled path within +-2 lines of the labelled line;
//! - precision per rule and overall on the findings a person has judged (`[[file.judged]]`, matched
//!   by rule and line +-2), and the findings not judged yet;
//! - the missed risks.
//!
//! `FOREWARN_BIN` names the binary (default `target/release/forewarn`). A repository that is not
//! checked out is skipped with a note on how to fetch it; nothing here fails the build.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Deserialize;

/// Lines a finding may lie from the labelled line and still match it.
const SLACK: u64 = 2;

#[derive(Deserialize)]
struct LabelFile {
    repo: String,
    framework: String,
    #[serde(default)]
    file: Vec<FileLabel>,
}

#[derive(Deserialize)]
struct FileLabel {
    commit: String,
    path: String,
    #[serde(default)]
    risk: Vec<Risk>,
    #[serde(default)]
    judged: Vec<Judged>,
}

#[derive(Deserialize)]
struct Risk {
    kind: String,
    line: u64,
}

#[derive(Deserialize)]
struct Judged {
    rule: String,
    line: u64,
    verdict: String,
    /// The finding counts lines in the old version of the file (`old_side` in the JSON).
    #[serde(default)]
    old_side: bool,
}

/// One finding of the JSON report, reduced to what the evaluation needs.
struct Finding {
    rule: String,
    path: String,
    line: u64,
    old_side: bool,
    operation: Option<String>,
    message: String,
}

#[derive(Default)]
struct Tally {
    hit: usize,
    total: usize,
}

impl Tally {
    fn add(&mut self, hit: bool) {
        self.total += 1;
        if hit {
            self.hit += 1;
        }
    }

    fn show(&self) -> String {
        if self.total == 0 {
            return "     -".into();
        }
        format!(
            "{:5.1}% ({}/{})",
            100.0 * self.hit as f64 / self.total as f64,
            self.hit,
            self.total
        )
    }
}

fn near(a: u64, b: u64) -> bool {
    a.abs_diff(b) <= SLACK
}

fn main() {
    // `cargo bench` passes `--bench`; this target takes no arguments of its own.
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let kinds = load_kinds(&root.join("eval/kinds.toml"));
    let labels = load_labels(&root.join("eval/labels"));
    let bin = std::env::var_os("FOREWARN_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target/release/forewarn"));
    let bin = if bin.is_relative() {
        root.join(bin)
    } else {
        bin
    };

    let repos_dir = std::env::var_os("FOREWARN_EVAL_REPOS").map(PathBuf::from);
    let mut missing = Vec::new();
    let mut present = Vec::new();
    for label in &labels {
        let dir = repos_dir
            .as_ref()
            .map(|d| d.join(label.repo.replace('/', "+")));
        match dir {
            Some(dir) if dir.join(".git").exists() || dir.join("HEAD").exists() => {
                present.push((label, dir))
            }
            _ => missing.push(label.repo.clone()),
        }
    }
    if !missing.is_empty() {
        println!("Repositories not checked out (skipped):");
        for repo in &missing {
            println!("  {repo}");
        }
        println!(
            "Fetch each with the search tool's `fetch github:<owner>/<name>`, then\n  \
             git clone -q --no-checkout <mirror-git-dir> \"$FOREWARN_EVAL_REPOS/<owner>+<name>\"\n\
             and set FOREWARN_EVAL_REPOS (now {}). See eval/README.md.\n",
            repos_dir
                .as_ref()
                .map(|d| d.display().to_string())
                .unwrap_or_else(|| "unset".into())
        );
    }
    if present.is_empty() {
        println!("No labelled repository is checked out: nothing to evaluate.");
        return;
    }
    if !bin.exists() {
        println!(
            "forewarn binary not found at {} (build it with `cargo build --release` or set FOREWARN_BIN): nothing evaluated.",
            bin.display()
        );
        return;
    }
    println!("forewarn: {}\n", bin.display());

    let mut recall_kind: BTreeMap<String, Tally> = BTreeMap::new();
    let mut recall_framework: BTreeMap<String, Tally> = BTreeMap::new();
    let mut recall_all = Tally::default();
    let mut precision_rule: BTreeMap<String, Tally> = BTreeMap::new();
    let mut precision_all = Tally::default();
    let mut unjudged_by_rule: BTreeMap<String, usize> = BTreeMap::new();
    let mut misses = Vec::new();
    let mut unjudged = Vec::new();
    let mut failures = Vec::new();
    let mut files = 0usize;

    for (label, dir) in present {
        let mut cache: HashMap<String, Result<Vec<Finding>, String>> = HashMap::new();
        for file in &label.file {
            files += 1;
            let findings = cache
                .entry(file.commit.clone())
                .or_insert_with(|| run_check(&bin, &dir, &file.commit));
            let findings = match findings {
                Ok(found) => found,
                Err(error) => {
                    failures.push(format!("{} {}: {error}", label.repo, file.commit));
                    continue;
                }
            };
            let here: Vec<&Finding> = findings.iter().filter(|f| f.path == file.path).collect();
            for risk in &file.risk {
                let rules = kinds.get(&risk.kind);
                if rules.is_none() {
                    eprintln!(
                        "warning: {} {}: unknown kind {:?} (not in eval/kinds.toml)",
                        label.repo, file.path, risk.kind
                    );
                }
                let caught = here.iter().any(|f| {
                    !f.old_side
                        && near(f.line, risk.line)
                        && (rules.is_some_and(|r| r.contains(&f.rule))
                            || f.operation.as_deref() == Some(risk.kind.as_str()))
                });
                recall_kind
                    .entry(risk.kind.clone())
                    .or_default()
                    .add(caught);
                recall_framework
                    .entry(label.framework.clone())
                    .or_default()
                    .add(caught);
                recall_all.add(caught);
                if !caught {
                    misses.push(format!(
                        "{} {} {}:{} {}",
                        label.repo,
                        short(&file.commit),
                        file.path,
                        risk.line,
                        risk.kind
                    ));
                }
            }
            for finding in &here {
                let verdict = file.judged.iter().find(|j| {
                    j.rule == finding.rule
                        && j.old_side == finding.old_side
                        && near(j.line, finding.line)
                });
                match verdict {
                    Some(j) => {
                        let right = match j.verdict.as_str() {
                            "right" => true,
                            "wrong" => false,
                            other => {
                                eprintln!(
                                    "warning: {} {}:{}: verdict {other:?} is neither right nor wrong",
                                    label.repo, file.path, j.line
                                );
                                continue;
                            }
                        };
                        precision_rule
                            .entry(finding.rule.clone())
                            .or_default()
                            .add(right);
                        precision_all.add(right);
                    }
                    None => {
                        *unjudged_by_rule.entry(finding.rule.clone()).or_default() += 1;
                        unjudged.push(format!(
                            "{} {} {}:{}{} {} | {}",
                            label.repo,
                            file.commit,
                            file.path,
                            finding.line,
                            if finding.old_side { " (old side)" } else { "" },
                            finding.rule,
                            finding.message
                        ));
                    }
                }
            }
        }
    }

    println!("Labelled files evaluated: {files}\n");
    println!("Recall per risk kind:");
    for (kind, tally) in &recall_kind {
        println!("  {kind:<34} {}", tally.show());
    }
    println!("Recall per framework:");
    for (framework, tally) in &recall_framework {
        println!("  {framework:<34} {}", tally.show());
    }
    println!("  {:<34} {}\n", "all", recall_all.show());

    println!("Precision per rule (judged findings):");
    let rules: BTreeSet<&String> = precision_rule
        .keys()
        .chain(unjudged_by_rule.keys())
        .collect();
    for rule in rules {
        let tally = precision_rule.get(rule);
        let open = unjudged_by_rule.get(rule).copied().unwrap_or(0);
        println!(
            "  {rule:<48} {}{}",
            tally.map(Tally::show).unwrap_or_else(|| "     -".into()),
            if open > 0 {
                format!("  [{open} not judged]")
            } else {
                String::new()
            }
        );
    }
    println!(
        "  {:<48} {}\n",
        "all findings on labelled files",
        precision_all.show()
    );

    println!("Missed risks ({}):", misses.len());
    for miss in &misses {
        println!("  {miss}");
    }
    println!("\nFindings not judged yet ({}):", unjudged.len());
    for line in &unjudged {
        println!("  {line}");
    }
    if !failures.is_empty() {
        println!("\nCommits forewarn could not check ({}):", failures.len());
        for failure in &failures {
            println!("  {failure}");
        }
    }
}

fn short(sha: &str) -> &str {
    &sha[..sha.len().min(10)]
}

fn load_kinds(path: &Path) -> HashMap<String, Vec<String>> {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn load_labels(dir: &Path) -> Vec<LabelFile> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|p| {
            let text = std::fs::read_to_string(p)
                .unwrap_or_else(|e| panic!("cannot read {}: {e}", p.display()));
            toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        })
        .collect()
}

fn run_check(bin: &Path, dir: &Path, commit: &str) -> Result<Vec<Finding>, String> {
    let output = Command::new(bin)
        .current_dir(dir)
        .args([
            "check",
            "--commit",
            commit,
            "--format",
            "json",
            "--fail-on",
            "never",
            "--color",
            "never",
        ])
        .output()
        .map_err(|e| format!("cannot run {}: {e}", bin.display()))?;
    if !output.status.success() {
        return Err(format!(
            "exit {:?}: {}",
            output.status.code(),
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    let doc: serde_json::Value =
        serde_json::from_slice(&output.stdout).map_err(|e| format!("bad JSON: {e}"))?;
    let findings = doc
        .get("findings")
        .and_then(|f| f.as_array())
        .ok_or("no findings array")?;
    Ok(findings
        .iter()
        .filter_map(|f| {
            Some(Finding {
                rule: f.get("rule_id")?.as_str()?.to_string(),
                path: f.get("path")?.as_str()?.to_string(),
                line: f.get("line")?.as_u64()?,
                old_side: f.get("old_side").and_then(|v| v.as_bool()).unwrap_or(false),
                operation: f
                    .get("operation")
                    .and_then(|v| v.as_str())
                    .map(str::to_string),
                message: f
                    .get("message")
                    .and_then(|v| v.as_str())
                    .unwrap_or("")
                    .to_string(),
            })
        })
        .collect())
}
