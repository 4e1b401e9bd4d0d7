//! The labelled corpus: realistic diffs in `tests/corpus/`, each with the rule ids it must and
//! must not trigger, run through the real engine with every built-in pack. Reports precision and
//! recall per pack and fails below 95% on either. `tests/corpus/README.md` says how to add a case.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;
use std::path::{Path, PathBuf};

use forewarn::config::Config;
use forewarn::engine::Engine;
use forewarn::rules::{RuleSet, builtin, load};
use serde::Deserialize;

/// The least precision and recall any pack may have on the corpus.
const FLOOR: f64 = 0.95;
/// The corpus stays at least this large.
const MIN_CASES: usize = 150;

/// `NAME.toml`, next to `NAME.diff`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Labels {
    /// What the diff is, in a few words.
    about: String,
    /// Rules that must fire on the diff.
    must: Vec<String>,
    /// Rules that must not fire (hard negatives). Any other rule that fires is also counted as
    /// a false positive: a case lists every rule it expects.
    must_not: Vec<String>,
    /// A `forewarn.toml` for this case (components, limits).
    config: Option<String>,
}

struct Case {
    name: String,
    diff: Vec<u8>,
    labels: Labels,
}

#[derive(Default, Clone, Copy)]
struct Score {
    tp: usize,
    fp: usize,
    fn_: usize,
}

impl Score {
    fn precision(self) -> Option<f64> {
        ratio(self.tp, self.tp + self.fp)
    }
    fn recall(self) -> Option<f64> {
        ratio(self.tp, self.tp + self.fn_)
    }
}

fn ratio(n: usize, d: usize) -> Option<f64> {
    (d > 0).then(|| n as f64 / d as f64)
}

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus")
}

fn read_cases(dir: &Path) -> Result<Vec<Case>, String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| {
            let name = e.ok()?.file_name().to_string_lossy().into_owned();
            name.strip_suffix(".diff").map(str::to_string)
        })
        .collect();
    names.sort();
    let mut cases = Vec::new();
    let mut problems = Vec::new();
    for name in names {
        let diff = std::fs::read(dir.join(format!("{name}.diff"))).map_err(|e| e.to_string())?;
        let sidecar = dir.join(format!("{name}.toml"));
        let labels = match std::fs::read_to_string(&sidecar) {
            Ok(text) => match toml::from_str::<Labels>(&text) {
                Ok(labels) => labels,
                Err(e) => {
                    problems.push(format!("{}: {e}", sidecar.display()));
                    continue;
                }
            },
            Err(e) => {
                problems.push(format!(
                    "{}: {e} (every .diff needs its labels)",
                    sidecar.display()
                ));
                continue;
            }
        };
        cases.push(Case { name, diff, labels });
    }
    // A label file without its diff is a case that silently stopped running.
    for entry in std::fs::read_dir(dir).map_err(|e| e.to_string())? {
        let name = entry
            .map_err(|e| e.to_string())?
            .file_name()
            .to_string_lossy()
            .into_owned();
        if let Some(stem) = name.strip_suffix(".toml")
            && !dir.join(format!("{stem}.diff")).exists()
        {
            problems.push(format!("{name} has no {stem}.diff"));
        }
    }
    if problems.is_empty() {
        Ok(cases)
    } else {
        Err(problems.join("\n"))
    }
}

/// `builtin:rules/migration-operations.toml` -> `migration-operations`.
fn pack_of(origin_file: &str) -> String {
    let file = origin_file.rsplit('/').next().unwrap_or(origin_file);
    file.strip_suffix(".toml").unwrap_or(file).to_string()
}

fn load_rules(config: &Config) -> RuleSet {
    load::load(&builtin::files(), config).expect("the built-in packs load")
}

fn percent(value: Option<f64>) -> String {
    value.map_or_else(|| "n/a".to_string(), |v| format!("{:.1}%", v * 100.0))
}

fn table(scores: &BTreeMap<String, Score>, cases: usize) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "corpus: {cases} diffs in tests/corpus/");
    let _ = writeln!(
        s,
        "{:<22} {:>5} {:>5} {:>5} {:>10} {:>8}",
        "pack", "TP", "FP", "FN", "precision", "recall"
    );
    let mut total = Score::default();
    for (pack, score) in scores {
        total.tp += score.tp;
        total.fp += score.fp;
        total.fn_ += score.fn_;
        let _ = writeln!(
            s,
            "{:<22} {:>5} {:>5} {:>5} {:>10} {:>8}",
            pack,
            score.tp,
            score.fp,
            score.fn_,
            percent(score.precision()),
            percent(score.recall())
        );
    }
    let _ = writeln!(
        s,
        "{:<22} {:>5} {:>5} {:>5} {:>10} {:>8}",
        "all",
        total.tp,
        total.fp,
        total.fn_,
        percent(total.precision()),
        percent(total.recall())
    );
    s
}

#[test]
fn corpus_precision_and_recall_per_pack() {
    let cases =
        read_cases(&corpus_dir()).unwrap_or_else(|e| panic!("the corpus does not load:\n{e}"));
    let default_config = Config::default();
    let default_rules = load_rules(&default_config);
    let default_engine = Engine::new(&default_rules.rules, &default_config);
    let known: BTreeMap<&str, String> = default_rules
        .rules
        .iter()
        .map(|r| (r.id.as_str(), pack_of(&r.origin.file)))
        .collect();

    let mut scores: BTreeMap<String, Score> = known
        .values()
        .map(|pack| (pack.clone(), Score::default()))
        .collect();
    let mut failures: Vec<String> = Vec::new();
    let mut label_errors: Vec<String> = Vec::new();
    let mut exercised: BTreeSet<String> = BTreeSet::new();

    for case in &cases {
        let labels = &case.labels;
        for id in labels.must.iter().chain(&labels.must_not) {
            if !known.contains_key(id.as_str()) {
                label_errors.push(format!("{}: `{id}` is not a built-in rule id", case.name));
            }
        }
        for id in &labels.must {
            if labels.must_not.contains(id) {
                label_errors.push(format!(
                    "{}: `{id}` is in both must and must_not",
                    case.name
                ));
            }
        }
        let config = match &labels.config {
            Some(text) => match Config::parse(&format!("{}.toml (config)", case.name), text) {
                Ok(config) => config,
                Err(e) => {
                    label_errors.push(format!("{}: its config does not load: {e}", case.name));
                    continue;
                }
            },
            None => Config::default(),
        };
        let changes = match forewarn::diff::patch::parse(&case.name, &case.diff) {
            Ok(changes) if !changes.files.is_empty() => changes,
            Ok(_) => {
                label_errors.push(format!("{}.diff has no files", case.name));
                continue;
            }
            Err(e) => {
                label_errors.push(format!("{}.diff does not parse: {e}", case.name));
                continue;
            }
        };
        // Compiling every rule is the slow part: one engine serves every case without a config.
        let outcome = match &labels.config {
            Some(_) => Engine::new(&load_rules(&config).rules, &config).check(&changes),
            None => default_engine.check(&changes),
        };
        let mut fired: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for f in &outcome.findings {
            let at = match (&f.path, f.line) {
                (Some(p), Some(l)) => format!("{p}:{l}"),
                (Some(p), None) => p.to_string(),
                _ => "the change".to_string(),
            };
            fired.entry(&*f.rule_id).or_default().push(at);
        }

        let mut wrong = Vec::new();
        for id in &labels.must {
            let Some(pack) = known.get(id.as_str()) else {
                continue;
            };
            let score = scores.entry(pack.clone()).or_default();
            if fired.contains_key(id.as_str()) {
                score.tp += 1;
                exercised.insert(id.clone());
            } else {
                score.fn_ += 1;
                wrong.push(format!("    missed   {id}"));
            }
        }
        for (id, at) in &fired {
            if labels.must.iter().any(|m| m == id) {
                continue;
            }
            let pack = known.get(id).cloned().unwrap_or_else(|| "team".to_string());
            scores.entry(pack).or_default().fp += 1;
            let kind = if labels.must_not.iter().any(|m| m == id) {
                "must not"
            } else {
                "unlabelled"
            };
            wrong.push(format!("    fired    {id} ({kind}) at {}", at.join(", ")));
        }
        if !wrong.is_empty() {
            failures.push(format!(
                "  {} ({})\n{}",
                case.name,
                labels.about,
                wrong.join("\n")
            ));
        }
    }

    let report = table(&scores, cases.len());
    eprintln!("{report}");
    let never: Vec<&str> = known
        .keys()
        .copied()
        .filter(|id| !exercised.contains(*id))
        .collect();
    if !never.is_empty() {
        eprintln!("rules no case requires: {}", never.join(", "));
    }
    if !failures.is_empty() {
        eprintln!(
            "cases that disagree with their labels:\n{}",
            failures.join("\n")
        );
    }

    assert!(
        label_errors.is_empty(),
        "corpus label errors:\n{}",
        label_errors.join("\n")
    );
    assert!(
        cases.len() >= MIN_CASES,
        "the corpus has {} diffs; it should keep at least {MIN_CASES}",
        cases.len()
    );
    let below: Vec<String> = scores
        .iter()
        .filter(|(_, s)| {
            s.precision().is_some_and(|p| p < FLOOR) || s.recall().is_some_and(|r| r < FLOOR)
        })
        .map(|(pack, _)| pack.clone())
        .collect();
    assert!(
        below.is_empty(),
        "precision or recall below {:.0}% for {}\n\n{report}\ncases that disagree with their labels \
         (fix the rule when the label is right):\n{}",
        FLOOR * 100.0,
        below.join(", "),
        failures.join("\n")
    );
}
