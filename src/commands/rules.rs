//! `forewarn rules`: the rules in force, with severity, category and where each came from.

use std::fmt::Write;

use super::{Context, Outcome, warning_lines};
use crate::cli::LoadArgs;
use crate::error::Result;
use crate::output::human::neutralise;
use crate::workspace::Workspace;

pub fn run(load: &LoadArgs, ctx: &Context) -> Result<Outcome> {
    let workspace = Workspace::load(&ctx.cwd, &load.options())?;
    let rules = &workspace.rules.rules;
    let id_width = rules.iter().map(|r| r.id.len()).max().unwrap_or(2).max(2);
    let cat_width = rules
        .iter()
        .map(|r| r.category.len())
        .max()
        .unwrap_or(8)
        .max(8);
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{:<id_width$}  {:<8}  {:<cat_width$}  FROM",
        "ID", "SEVERITY", "CATEGORY"
    );
    for r in rules {
        let _ = writeln!(
            s,
            "{:<id_width$}  {:<8}  {:<cat_width$}  {}",
            r.id,
            r.severity.as_str(),
            r.category,
            r.origin
        );
    }
    let builtin = rules.iter().filter(|r| r.origin.builtin).count();
    let _ = writeln!(
        s,
        "\n{} rules in force: {} built-in, {} from the team's rule files",
        rules.len(),
        builtin,
        rules.len() - builtin
    );
    Ok(Outcome {
        // Ids and categories are the team's text: printed escaped, as `check` prints it.
        stdout: neutralise(&s, true).into_owned(),
        stderr: neutralise(&warning_lines(&workspace.rules.warnings), true).into_owned(),
        code: 0,
        ..Outcome::default()
    })
}
