//! `forewarn validate`: load forewarn.toml and every rule file, report every problem.

use super::{Context, Outcome, warning_lines};
use crate::cli::LoadArgs;
use crate::error::Result;
use crate::workspace::Workspace;

pub fn run(load: &LoadArgs, ctx: &Context) -> Result<Outcome> {
    let workspace = Workspace::load(&ctx.cwd, &load.options())?;
    let rules = &workspace.rules.rules;
    let team = rules.iter().filter(|r| !r.origin.builtin).count();
    let examples: usize = rules.iter().map(|r| r.examples.len()).sum();
    // Analysis records, rule → finding links, culprit commits; findings with no rule yet.
    let (analyses, links) = crate::analysis::links::check(&workspace)?;
    Ok(Outcome {
        stdout: format!(
            "ok: {} rules ({} built-in, {} from the team), {} examples, config {}\n{}",
            rules.len(),
            rules.len() - team,
            team,
            examples,
            workspace.config.path,
            crate::analysis::links::summary(&analyses, &links)
        ),
        stderr: warning_lines(&workspace.rules.warnings) + &warning_lines(&links.warnings),
        code: 0,
        ..Outcome::default()
    })
}
