//! `forewarn rule new <id> --finding <analysis>#<finding> [--from-culprit]`: scaffold a rule file
//! linked to the finding it comes from.

use std::fmt::Write as _;

use super::{Context, Outcome};
use crate::analysis::links::{Resolved, load_analyses, plural, resolve_culprit};
use crate::analysis::record::{Role, is_kebab_case, slug, split_link};
use crate::analysis::scaffold;
use crate::cli::RuleCommand;
use crate::commands::test::run_examples;
use crate::error::{Error, Result};
use crate::rules::load::{RuleFile, parse_file};
use crate::workspace::Workspace;

pub fn run(command: &RuleCommand, ctx: &Context) -> Result<Outcome> {
    let RuleCommand::New {
        id,
        findings,
        from_culprit,
    } = command;
    if !is_kebab_case(id) {
        return Err(Error::usage(
            format!("rule id {id:?} is not kebab-case"),
            format!(
                "ids are lowercase words and digits joined by `-`: forewarn rule new {}",
                slug(id)
            ),
        ));
    }
    let workspace = Workspace::load(&ctx.cwd, &crate::workspace::LoadOptions::default())?;
    if let Some(existing) = workspace.rules.get(id) {
        return Err(Error::usage(
            format!("a rule with id `{id}` already exists ({})", existing.origin),
            "pick another id; `forewarn rules` lists the ids in use",
        ));
    }
    let analyses = load_analyses(&workspace)?;
    let mut linked = Vec::new();
    for link in findings {
        let Some((analysis_id, finding_id)) = split_link(link) else {
            return Err(Error::usage(
                format!("--finding {link:?} is not ANALYSIS-ID#FINDING-ID"),
                "link the record's `id` and the finding's `id`, joined by `#`: --finding 2019-07-payments-config-missing#F2",
            ));
        };
        let Some(analysis) = analyses.get(analysis_id) else {
            let known: Vec<&str> = analyses.records.iter().map(|a| a.id.as_str()).collect();
            return Err(Error::usage(
                format!("--finding {link}: no analysis record has the id `{analysis_id}`"),
                if known.is_empty() {
                    format!(
                        "no records were found in {}; write one with: forewarn analysis new \"<title>\"",
                        workspace.config.analyses
                    )
                } else {
                    format!("the analyses are: {}", known.join(", "))
                },
            ));
        };
        let Some(finding) = analysis.finding(finding_id) else {
            let known: Vec<String> = analysis.findings.iter().map(|f| analysis.link(f)).collect();
            return Err(Error::usage(
                format!(
                    "--finding {link}: {} has no finding `{finding_id}`",
                    analysis.file
                ),
                if known.is_empty() {
                    format!("add a [[finding]] to {} first", analysis.file)
                } else {
                    format!("its findings are: {}", known.join(", "))
                },
            ));
        };
        linked.push((analysis, finding));
    }

    let culprit = if *from_culprit {
        let (analysis, _) = linked[0];
        let candidates: Vec<_> = analysis
            .culprits
            .iter()
            .filter(|c| c.repository.is_none())
            .collect();
        let Some(culprit) = candidates
            .iter()
            .find(|c| c.role == Role::Trigger)
            .or(candidates.first())
        else {
            return Err(Error::usage(
                format!(
                    "{} names no culprit commit in this repository",
                    analysis.file
                ),
                "add a [[culprit]] with commit = \"<id>\" and role = \"trigger\" to the record, or drop --from-culprit",
            ));
        };
        let Some(repo) = workspace.repo.as_ref() else {
            return Err(Error::repository(
                "--from-culprit reads the culprit commit from git, and this is not a repository",
                "run it inside the repository the commit belongs to",
            ));
        };
        if let Resolved::Missing(why) = resolve_culprit(repo, culprit) {
            return Err(Error::repository(
                format!(
                    "culprit commit `{}` of {} is not in this repository ({why})",
                    culprit.commit, analysis.id
                ),
                "check the id with `git log --oneline`; in a shallow clone run `git fetch --unshallow`",
            ));
        }
        Some(scaffold::culprit_diff(repo, &culprit.commit)?)
    } else {
        None
    };

    let dir = workspace
        .config
        .rule_dirs
        .first()
        .map_or(".forewarn/rules", String::as_str)
        .trim_end_matches('/')
        .to_string();
    let shown = format!("{dir}/{id}.toml");
    let path = workspace.root.join(&shown);
    if path.exists() {
        return Err(Error::usage(
            format!("{shown} already exists"),
            "pick another rule id, or add the rule to that file by hand",
        ));
    }
    let text = scaffold::render(id, &linked, culprit.as_ref());
    let rules = parse_file(&RuleFile {
        path: shown.clone(),
        text: text.clone(),
        builtin: false,
    })
    .map_err(Error::Source)?;

    std::fs::create_dir_all(workspace.root.join(&dir)).map_err(|e| Error::Io {
        action: "create the rules folder",
        path: workspace.root.join(&dir),
        source: e,
        help: Some("the folder is the first of `rule_dirs` in forewarn.toml".into()),
    })?;
    let name = path
        .file_name()
        .map(std::path::PathBuf::from)
        .unwrap_or_default();
    let folder = path.parent().unwrap_or(std::path::Path::new("."));
    crate::atomic_write::create_new(folder, ".forewarn-", text.as_bytes(), || name.clone())
        .map_err(|e| Error::Io {
            action: "write the rule",
            path: path.clone(),
            source: e,
            help: Some("check that the rules folder is writable".into()),
        })?;

    let mut out = String::new();
    let links: Vec<String> = linked.iter().map(|(a, f)| a.link(f)).collect();
    let _ = writeln!(
        out,
        "wrote {shown}{}",
        if links.is_empty() {
            " (linked to no finding: add `findings = [\"<analysis>#<finding>\"]`)".to_string()
        } else {
            format!(", linked to {}", links.join(", "))
        }
    );
    if let Some(c) = &culprit {
        let _ = writeln!(
            out,
            "seeded from culprit {}: its diff is the `fire` example ({}{}), and [rule.match] starts from its files",
            &c.commit[..12.min(c.commit.len())],
            plural(c.files.len(), "file"),
            c.trimmed
                .as_ref()
                .map(|t| format!("; trimmed: {t}"))
                .unwrap_or_default()
        );
    }
    let _ = writeln!(
        out,
        "\nNext:\n  1. edit {shown}: narrow [rule.match], write the message and the question, make the `pass` example a near miss;\n  2. forewarn test {id}\n  3. forewarn backtest {id} --write      # how often it would have fired, and whether it catches the culprit\n  4. forewarn validate"
    );
    let mut stderr = String::new();
    for result in rules.iter().flat_map(run_examples) {
        if let Some(why) = result.failure {
            let _ = writeln!(
                stderr,
                "warning: example {:?} ({}) {why}",
                result.name, result.location
            );
        }
    }
    Ok(Outcome {
        stdout: out,
        stderr,
        code: 0,
        ..Outcome::default()
    })
}
