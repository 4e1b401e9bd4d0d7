//! `[rule.verify]`: where a rule looks in the repository to check the answer to its question, and
//! what each outcome makes of the finding. This is the block as written and checked at load;
//! [`crate::verify`] runs it against a change's trees.

use serde::{Deserialize, Serialize};

use crate::glob::build_glob;

/// A rule's `[rule.verify]`, checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Verify {
    /// Findings on these paths are checked by this block; empty: every finding of the rule.
    #[serde(default)]
    pub paths: Vec<String>,
    /// Globs of the files searched; `{dir}` is the finding's folder, `{path}` its file,
    /// `{chart}` the Helm chart its template or values file belongs to.
    pub look_in: Vec<String>,
    #[serde(default)]
    pub exclude: Vec<String>,
    /// Regex templates; `{table}`, `{column}` and `{model}` are the operation's, `{name}` is
    /// what `name_from` takes from the matched line, each escaped.
    #[serde(default)]
    pub patterns: Vec<String>,
    /// A regex whose first group takes a name from the finding's matched line (an environment
    /// variable, a setting): `{name}` in `patterns`.
    pub name_from: Option<String>,
    /// The same, from the finding's line as written in the file (a Helm template's
    /// `{{ .Values.x }}`, where the matched text holds only what the template reads as).
    pub name_from_line: Option<String>,
    /// The same, from the finding's block as written: its line and the lines under it, up to
    /// the line that closes it (a Terraform `module` block's `source`). `{dir}/{name}` in
    /// `look_in` is then the folder the name leads to from the finding's folder.
    pub name_from_block: Option<String>,
    /// Regex templates whose hit means the running code already stopped reading it (Rails
    /// `ignored_columns`): the `stopped` outcome, before `found` and `missing`.
    #[serde(default)]
    pub stopped_by: Vec<String>,
    /// Regex templates whose hit in the searched files leaves the finding as it is, whatever
    /// else was found: the answer cannot be trusted there (a workflow that also deploys to
    /// production).
    #[serde(default)]
    pub unless_found: Vec<String>,
    /// Which trees to search: `old` (the code that runs during the deploy) and `new`.
    #[serde(default = "both_sides")]
    pub sides: Vec<String>,
    #[serde(default)]
    pub found: Outcome,
    #[serde(default)]
    pub missing: Outcome,
    #[serde(default)]
    pub stopped: Outcome,
}

fn both_sides() -> Vec<String> {
    vec!["old".into(), "new".into()]
}

/// What one outcome of the search makes of a finding.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Outcome {
    /// `error`, `warning`, `note`, or `quiet` (the finding is dropped: the answer is verified).
    pub severity: Option<String>,
    /// Appended to the finding's message; `{where}` names the first places found,
    /// `{searched}` says what was searched, `{table}`, `{column}` and `{name}` what was sought.
    #[serde(default)]
    pub message: String,
    /// Replaces the finding's question.
    pub ask: Option<String>,
}

/// Checks a `[rule.verify]` for load errors: returns every problem as text.
pub fn check(v: &Verify) -> Vec<String> {
    let mut problems = Vec::new();
    for g in v.look_in.iter().chain(&v.exclude).chain(&v.paths) {
        if let Err(e) = build_glob(g) {
            problems.push(format!("invalid glob `{g}` in [rule.verify]: {}", e.kind()));
        }
    }
    for (key, n) in [
        ("name_from", &v.name_from),
        ("name_from_line", &v.name_from_line),
        ("name_from_block", &v.name_from_block),
    ] {
        let Some(n) = n else { continue };
        // Parsed and held to the size limit, as compiling would (at a fraction of its cost).
        match super::regex_size::checked(n) {
            Ok(hir) if hir.properties().explicit_captures_len() < 1 => problems.push(format!(
                "[rule.verify] {key} `{n}` has no group to take the name from"
            )),
            Ok(_) => {}
            Err(e) => problems.push(format!("invalid {key} `{n}` in [rule.verify]: {e}")),
        }
    }
    for p in v
        .patterns
        .iter()
        .chain(&v.stopped_by)
        .chain(&v.unless_found)
    {
        let sample = fill(p, "t", "c", "M").replace("{name}", "N");
        if let Err(e) = super::regex_size::checked(&sample) {
            problems.push(format!("invalid pattern `{p}` in [rule.verify]: {e}"));
        }
    }
    for side in &v.sides {
        if side != "old" && side != "new" {
            problems.push(format!(
                "[rule.verify] sides: `{side}` is not \"old\" or \"new\""
            ));
        }
    }
    for o in [&v.found, &v.missing, &v.stopped] {
        if let Some(s) = &o.severity {
            if !matches!(s.as_str(), "error" | "warning" | "note" | "quiet") {
                problems.push(format!(
                    "[rule.verify] severity `{s}` is not error, warning, note or quiet"
                ));
            }
        }
    }
    if (v.patterns.is_empty() && v.stopped_by.is_empty()) || v.look_in.is_empty() {
        problems.push("[rule.verify] needs `look_in` globs and `patterns` or `stopped_by`".into());
    }
    problems
}

pub(crate) fn fill(template: &str, table: &str, column: &str, model: &str) -> String {
    // A relation's column is its field's name with `_id`: `assignment_id` is `assignment`.
    let field = column.strip_suffix("_id").unwrap_or(column);
    template
        .replace("{field}", &regex::escape(field))
        .replace("{table}", &regex::escape(table))
        .replace("{column}", &regex::escape(column))
        .replace("{model}", &regex::escape(model))
}
