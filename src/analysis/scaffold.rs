//! `forewarn rule new`: a rule file linked to the finding it comes from, with a `fire` example
//! and a `pass` example. Seeded from a culprit commit, the `fire` example is that commit's real
//! diff (trimmed) and the paths are the folders it touched, so `forewarn test` and `forewarn
//! backtest` mean something from the first run.

use std::fmt::Write as _;

use git2::{DiffFindOptions, DiffFormat, DiffOptions, Repository};

use super::links::one_line;
use super::record::{Analysis, AnalysisFinding, Question};
use super::template::basic_string;
use crate::error::{Error, Result};
use crate::glob::build_glob;

/// Files of a culprit diff kept in the `fire` example.
const MAX_FILES: usize = 6;
/// Hunks kept per file.
const MAX_HUNKS: usize = 3;
/// Lines kept per hunk.
const MAX_LINES: usize = 12;

/// A culprit commit's diff against its first parent, trimmed to example size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CulpritDiff {
    /// The full commit id.
    pub commit: String,
    /// Unified diff text, no context lines, hunk counts matching the lines kept.
    pub text: String,
    /// `(path, git status letter)` of the files kept, in diff order.
    pub files: Vec<(String, char)>,
    /// What was cut, for the example's comment; `None` when nothing was.
    pub trimmed: Option<String>,
}

struct FileDiff {
    path: String,
    status: char,
    header: String,
    hunks: Vec<Hunk>,
}

struct Hunk {
    old_start: u32,
    new_start: u32,
    lines: Vec<(char, String)>,
}

/// Reads `commit` against its first parent (the empty tree for a root commit), trimmed.
pub fn culprit_diff(repo: &Repository, commit: &str) -> Result<CulpritDiff> {
    let repo_error = |e: git2::Error| {
        Error::repository(
            format!(
                "cannot read the diff of culprit commit {commit}: {}",
                e.message()
            ),
            "check the commit with `git show --stat <commit>`; a shallow clone may need `git fetch --unshallow`",
        )
    };
    let commit = repo
        .revparse_single(commit)
        .and_then(|o| o.peel_to_commit())
        .map_err(repo_error)?;
    let new_tree = commit.tree().map_err(repo_error)?;
    let old_tree = match commit.parent(0) {
        Ok(parent) => Some(parent.tree().map_err(repo_error)?),
        Err(_) => None,
    };
    let mut opts = DiffOptions::new();
    opts.context_lines(0).interhunk_lines(0);
    let mut diff = repo
        .diff_tree_to_tree(old_tree.as_ref(), Some(&new_tree), Some(&mut opts))
        .map_err(repo_error)?;
    diff.find_similar(Some(DiffFindOptions::new().renames(true)))
        .map_err(repo_error)?;

    let mut files: Vec<FileDiff> = Vec::new();
    diff.print(DiffFormat::Patch, |delta, hunk, line| {
        let content = String::from_utf8_lossy(line.content()).into_owned();
        match line.origin() {
            'F' => {
                let path = delta
                    .new_file()
                    .path()
                    .or(delta.old_file().path())
                    .map(|p| p.to_string_lossy().replace('\\', "/"))
                    .unwrap_or_default();
                let status = match delta.status() {
                    git2::Delta::Added => 'A',
                    git2::Delta::Deleted => 'D',
                    git2::Delta::Renamed => 'R',
                    git2::Delta::Copied => 'C',
                    _ => 'M',
                };
                // `index` lines name blobs a reader of the example cannot see: left out.
                let header: String = content
                    .split_inclusive('\n')
                    .filter(|l| !l.starts_with("index "))
                    .collect();
                files.push(FileDiff {
                    path,
                    status,
                    header,
                    hunks: Vec::new(),
                });
            }
            'H' => {
                if let (Some(file), Some(hunk)) = (files.last_mut(), hunk) {
                    file.hunks.push(Hunk {
                        old_start: hunk.old_start(),
                        new_start: hunk.new_start(),
                        lines: Vec::new(),
                    });
                }
            }
            origin @ ('+' | '-' | ' ') => {
                if let Some(h) = files.last_mut().and_then(|f| f.hunks.last_mut()) {
                    h.lines.push((origin, content));
                }
            }
            'B' => {
                if let Some(file) = files.last_mut() {
                    file.header.push_str(&content);
                }
            }
            _ => {}
        }
        true
    })
    .map_err(repo_error)?;

    let total_files = files.len();
    let mut cut_hunks = 0usize;
    let mut cut_lines = 0usize;
    let mut text = String::new();
    let mut kept = Vec::new();
    for file in files.into_iter().take(MAX_FILES) {
        text.push_str(&file.header);
        if !file.header.ends_with('\n') {
            text.push('\n');
        }
        cut_hunks += file.hunks.len().saturating_sub(MAX_HUNKS);
        for hunk in file.hunks.into_iter().take(MAX_HUNKS) {
            cut_lines += hunk.lines.len().saturating_sub(MAX_LINES);
            let lines: Vec<&(char, String)> = hunk.lines.iter().take(MAX_LINES).collect();
            let old = lines.iter().filter(|(o, _)| *o != '+').count();
            let new = lines.iter().filter(|(o, _)| *o != '-').count();
            let _ = writeln!(
                text,
                "@@ -{} +{} @@",
                range(hunk.old_start, old),
                range(hunk.new_start, new)
            );
            for (origin, content) in lines {
                text.push(*origin);
                text.push_str(content);
                if !content.ends_with('\n') {
                    text.push('\n');
                }
            }
        }
        kept.push((file.path, file.status));
    }
    let mut cuts = Vec::new();
    if total_files > kept.len() {
        cuts.push(format!("{} of {total_files} files kept", kept.len()));
    }
    if cut_hunks > 0 {
        cuts.push(format!("{cut_hunks} hunks left out"));
    }
    if cut_lines > 0 {
        cuts.push(format!("{cut_lines} lines left out"));
    }
    Ok(CulpritDiff {
        commit: commit.id().to_string(),
        text,
        files: kept,
        trimmed: (!cuts.is_empty()).then(|| cuts.join(", ")),
    })
}

/// `start,count` as a hunk header writes it (`start` alone when the count is 1).
fn range(start: u32, count: usize) -> String {
    if count == 1 {
        start.to_string()
    } else {
        format!("{start},{count}")
    }
}

/// A TOML string that holds `s` exactly, as a multi-line literal when it can be one.
pub fn multiline_string(s: &str) -> String {
    let plain = !s.contains("'''")
        && !s.ends_with('\'')
        && s.chars().all(|c| c == '\n' || c == '\t' || !c.is_control());
    if plain {
        format!("'''\n{s}'''")
    } else {
        let escaped = basic_string(s);
        let inner = &escaped[1..escaped.len() - 1];
        format!("\"\"\"\n{}\"\"\"", inner.replace("\\n", "\n"))
    }
}

/// The globs a rule seeded from a culprit starts with: the folder and extension of each file.
pub fn globs_for(paths: &[&str]) -> Vec<String> {
    let mut globs: Vec<String> = Vec::new();
    for path in paths {
        let escaped: String = path
            .chars()
            .flat_map(|c| {
                let escape = matches!(c, '*' | '?' | '[' | ']' | '{' | '}' | '\\');
                escape.then_some('\\').into_iter().chain(std::iter::once(c))
            })
            .collect();
        let glob = match escaped.rsplit_once('/') {
            Some((dir, name)) => match name.rsplit_once('.') {
                Some((stem, ext)) if !stem.is_empty() => format!("{dir}/*.{ext}"),
                _ => escaped.clone(),
            },
            None => escaped.clone(),
        };
        if !globs.contains(&glob) {
            globs.push(glob);
        }
    }
    globs
}

/// A path that none of `globs` matches, for the `pass` example.
fn unrelated_path(globs: &[String]) -> &'static str {
    let compiled: Vec<globset::GlobMatcher> = globs
        .iter()
        .filter_map(|g| build_glob(g).ok())
        .map(|g| g.compile_matcher())
        .collect();
    ["README.md", "docs/unrelated.md", "unrelated/example.txt"]
        .into_iter()
        .find(|p| !compiled.iter().any(|m| m.is_match(p)))
        .unwrap_or("forewarn-example/unrelated-to-this-rule.txt")
}

/// A TOML string for one line of prose: placeholders that a rule message would expand are
/// neutralised, since the finding's text is not a message template.
fn prose(s: &str) -> String {
    basic_string(&s.replace('{', "(").replace('}', ")"))
}

/// The text of a new rule file.
pub fn render(
    id: &str,
    linked: &[(&Analysis, &AnalysisFinding)],
    culprit: Option<&CulpritDiff>,
) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Written by `forewarn rule new`.");
    for (analysis, finding) in linked {
        let _ = writeln!(
            out,
            "# Born from finding {} of analysis {} ({}):",
            finding.id, analysis.id, analysis.file
        );
        for line in wrap(
            &format!("{} — {}", finding.question.as_str(), finding.text),
            94,
        ) {
            let _ = writeln!(out, "#   {line}");
        }
        if !finding.lesson.trim().is_empty() {
            for line in wrap(&format!("Lesson: {}", finding.lesson), 94) {
                let _ = writeln!(out, "#   {line}");
            }
        }
    }
    let _ = writeln!(
        out,
        "#\n# Next: narrow [rule.match] to what made the change risky, make the `pass` example a near miss\n# (the same kind of change, done safely), then run `forewarn test {id}` and\n# `forewarn backtest {id} --write`. Messages and questions speak of the system, not of people."
    );
    let first = linked.first();
    let title = first
        .map(|(_, f)| {
            if f.lesson.trim().is_empty() {
                &f.text
            } else {
                &f.lesson
            }
        })
        .map(|t| one_line(t, 80))
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| format!("TODO: what {id} flags"));
    let category = match (first.map(|(_, f)| f.question), culprit) {
        (_, Some(c)) if c.files.iter().any(|(p, _)| p.contains("migrat")) => "migration",
        (Some(Question::PreventedSafeExperiment), _) => "rollout",
        _ => "process",
    };
    let message = match first {
        Some((analysis, finding)) => format!(
            "{{path}} is the kind of change analysis {} learned from: {}",
            analysis.id,
            one_line(&finding.text, 200)
                .replace('{', "(")
                .replace('}', ")")
        ),
        None => "{path} TODO: name the system and the lesson, never a person.".to_string(),
    };
    let ask = match first {
        Some((_, f)) if !f.lesson.trim().is_empty() => format!(
            "{} Has this change done that? Say how in the acknowledgement.",
            one_line(&f.lesson, 200).trim_end_matches('.').to_string() + "."
        ),
        _ => "TODO: the question the author should answer before merging.".to_string(),
    };
    let links: Vec<String> = linked
        .iter()
        .map(|(a, f)| basic_string(&a.link(f)))
        .collect();

    let _ = writeln!(out, "\n[[rule]]");
    let _ = writeln!(out, "id = {}", basic_string(id));
    let _ = writeln!(out, "title = {}", prose(&title));
    let _ = writeln!(
        out,
        "severity = \"warning\"    # error | warning | note: `error` fails the gate; raise it once the backtest looks right"
    );
    let _ = writeln!(
        out,
        "category = \"{category}\"    # migration | rollout | config | process"
    );
    let _ = writeln!(out, "message = {}", basic_string(&message));
    let _ = writeln!(out, "ask = {}", prose(&ask));
    let _ = writeln!(out, "findings = [{}]", links.join(", "));

    // A culprit that adds files next to edits is usually about what it adds (a migration, a
    // new config file): seed from the added files alone, and name the others for the reader.
    let (seed, others): (Vec<&str>, Vec<&str>) = match culprit {
        Some(c) => {
            let added: Vec<&str> = c
                .files
                .iter()
                .filter(|(_, s)| *s == 'A')
                .map(|(p, _)| p.as_str())
                .collect();
            let rest: Vec<&str> = c
                .files
                .iter()
                .filter(|(_, s)| *s != 'A')
                .map(|(p, _)| p.as_str())
                .collect();
            if added.is_empty() {
                (rest, Vec::new())
            } else {
                (added, rest)
            }
        }
        None => (Vec::new(), Vec::new()),
    };
    let added_only = culprit.is_some_and(|c| c.files.iter().any(|(_, s)| *s == 'A'));
    let globs = match culprit {
        Some(_) => globs_for(&seed),
        None => vec!["CHANGE-ME/**".to_string()],
    };
    let _ = writeln!(out, "\n[rule.match]");
    let quoted: Vec<String> = globs.iter().map(|g| basic_string(g)).collect();
    match culprit {
        Some(c) => {
            let short: String = c.commit.chars().take(12).collect();
            let what = if added_only { "added" } else { "changed" };
            let _ = writeln!(
                out,
                "# From the files culprit {short} {what}: keep only what made it risky."
            );
            if !others.is_empty() {
                let _ = writeln!(
                    out,
                    "# It also changed: {}",
                    others.join(", ").replace('\n', " ")
                );
            }
        }
        None => {
            let _ = writeln!(
                out,
                "# Which files: globs on the repo-relative path (`*` stays in one folder, `**` crosses)."
            );
        }
    }
    let _ = writeln!(out, "paths = [{}]", quoted.join(", "));
    if added_only {
        let _ = writeln!(
            out,
            "status = [\"added\"]          # added modified deleted renamed copied mode"
        );
    } else {
        let _ = writeln!(
            out,
            "# status = [\"added\"]        # added modified deleted renamed copied mode"
        );
    }
    let _ = writeln!(
        out,
        "# added = ['regex']           # fire at each added line that matches"
    );
    let _ = writeln!(
        out,
        "# removed = ['regex']         # fire at each removed line that matches"
    );
    let _ = writeln!(out, "\n# [rule.unless]");
    let _ = writeln!(
        out,
        "# changed = [\"docs/releases/*.md\"]  # quiet when the same change also touches one of these"
    );
    let _ = writeln!(
        out,
        "# added = ['regex']                  # quiet when the same file adds a matching line"
    );

    let (fire_name, fire_diff) = match culprit {
        Some(c) => {
            let short: String = c.commit.chars().take(12).collect();
            let of = first.map(|(a, _)| format!(" of {}", a.id)).unwrap_or_default();
            let name = match &c.trimmed {
                Some(cut) => format!("culprit commit {short}{of} (trimmed: {cut})"),
                None => format!("culprit commit {short}{of}"),
            };
            (name, c.text.clone())
        }
        None => (
            "TODO: a change like the one in the incident".to_string(),
            "diff --git a/CHANGE-ME/example.txt b/CHANGE-ME/example.txt\nnew file mode 100644\n--- /dev/null\n+++ b/CHANGE-ME/example.txt\n@@ -0,0 +1 @@\n+replace this example with a diff like the culprit's\n".to_string(),
        ),
    };
    let unrelated = unrelated_path(&globs);
    let pass_diff = format!(
        "diff --git a/{unrelated} b/{unrelated}\n--- a/{unrelated}\n+++ b/{unrelated}\n@@ -1 +1 @@\n-an unrelated line\n+an unrelated line, edited\n"
    );
    let _ = writeln!(out, "\n[[rule.example]]");
    let _ = writeln!(out, "name = {}", basic_string(&fire_name));
    let _ = writeln!(out, "expect = \"fire\"");
    let _ = writeln!(out, "diff = {}", multiline_string(&fire_diff));
    let _ = writeln!(out, "\n[[rule.example]]");
    let _ = writeln!(
        out,
        "name = \"TODO: a near miss: the same kind of change, done safely\""
    );
    let _ = writeln!(out, "expect = \"pass\"");
    let _ = writeln!(out, "diff = {}", multiline_string(&pass_diff));
    out
}

/// Word-wraps prose for comments.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::record;
    use crate::rules::load::{RuleFile, parse_file};

    #[test]
    fn globs_keep_folder_and_extension() {
        assert_eq!(
            globs_for(&[
                "payments/migrations/0002_x.py",
                "payments/migrations/0003_y.py",
                "Dockerfile",
                "a/[b]/c.sql",
                "deploy/.env"
            ]),
            vec![
                "payments/migrations/*.py",
                "Dockerfile",
                "a/\\[b\\]/*.sql",
                "deploy/.env"
            ]
        );
    }

    #[test]
    fn multiline_strings_round_trip() {
        for s in [
            "plain\n",
            "has ''' quotes\n",
            "ends with '",
            "tab\there\r\n",
            "back\\slash \"\"\" x\n",
        ] {
            let toml = format!("v = {}\n", multiline_string(s));
            let v: toml::Table = toml::from_str(&toml).unwrap_or_else(|e| panic!("{toml}: {e}"));
            assert_eq!(v["v"].as_str(), Some(s), "{toml}");
        }
    }

    #[test]
    fn scaffold_without_culprit_loads_and_links() {
        let set = record::load(&[RuleFile {
            path: "a.toml".into(),
            text: include_str!("testdata/analysis.toml").into(),
            builtin: false,
        }])
        .unwrap();
        let (a, f) = set.resolve("2019-07-payments-config-missing#F2").unwrap();
        let text = render("payments-deploy-step", &[(a, f)], None);
        let rules = parse_file(&RuleFile {
            path: "r.toml".into(),
            text: text.clone(),
            builtin: false,
        })
        .unwrap_or_else(|e| panic!("{text}\n{e:?}"));
        assert_eq!(
            rules[0].findings,
            vec!["2019-07-payments-config-missing#F2"]
        );
        assert_eq!(rules[0].examples.len(), 2);
        assert!(
            rules[0]
                .ask
                .starts_with("A new migration needs a visible deploy step before merge. Has")
        );
        let results = crate::commands::test::run_examples(&rules[0]);
        assert!(results.iter().all(|r| r.failure.is_none()), "{results:?}");
    }
}
