//! `forewarn validate`: load forewarn.toml and every rule file, report every problem.

use super::{Context, Outcome, warning_lines};
use crate::cli::LoadArgs;
use crate::error::Result;
use crate::workspace::Workspace;

pub fn run(load: &LoadArgs, ctx: &Context) -> Result<Outcome> {
    let workspace = Workspace::load(&ctx.cwd, load)?;
    let rules = &workspace.rules.rules;
    let team = rules.iter().filter(|r| !r.origin.builtin).count();
    let examples: usize = rules.iter().map(|r| r.examples.len()).sum();
    Ok(Outcome {
        stdout: format!(
            "ok: {} rules ({} built-in, {} from the team), {} examples, config {}\n",
            rules.len(),
            rules.len() - team,
            team,
            examples,
            workspace.config.path
        ),
        stderr: warning_lines(&workspace.rules.warnings),
        code: 0,
    })
}
