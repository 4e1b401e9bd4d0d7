//! One file per subcommand, gluing the stages together. Commands return what to print; they
//! never print themselves.

pub mod analysis;
pub mod backtest;
pub mod check;
pub mod demo;
pub mod docs;
pub mod explain;
pub mod hook;
pub mod ledger;
pub mod report;
pub mod rule_new;
pub mod rules;
pub mod test;
pub mod validate;

use std::path::PathBuf;

use crate::cli::{Cli, Command, LoadArgs};
use crate::error::Result;

/// What a command has to say, and how the process should end.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub stdout: String,
    /// A report to write to stdout as JSON, after `stdout`: serialized straight into the
    /// output rather than into memory first (100,000 findings are 80 MB of JSON).
    pub stdout_json: Option<Box<crate::output::Report>>,
    pub stderr: String,
    /// 0: nothing at or above the gate; 1: findings at or above the gate. Errors are 2.
    pub code: u8,
}

impl Outcome {
    pub fn ok(stdout: String) -> Outcome {
        Outcome {
            stdout,
            ..Outcome::default()
        }
    }
}

/// How the run was started: where, and whether colour is on.
#[derive(Debug, Clone)]
pub struct Context {
    pub cwd: PathBuf,
    pub color: bool,
    /// Columns of the terminal standard output goes to; `None` when it is piped (nothing is
    /// wrapped then).
    pub width: Option<usize>,
}

pub fn run(cli: Cli, ctx: &Context) -> Result<Outcome> {
    match cli.command {
        Command::Check(args) => check::run(&args, ctx),
        Command::Explain { rule, load } => explain::run(&rule, &load, ctx),
        Command::Rules { load } => rules::run(&load, ctx),
        Command::Test { rules, load } => test::run(&rules, &load, ctx),
        Command::Validate { load } => validate::run(&load, ctx),
        Command::Demo => demo::run(ctx),
        Command::Hook(command) => hook::run(&command, ctx),
        Command::Analysis(command) => analysis::run(&command, ctx),
        Command::Rule(command) => rule_new::run(&command, ctx),
        Command::Backtest(args) => backtest::run(&args, ctx),
        Command::Report(args) => report::run(&args, ctx),
        Command::Ledger(command) => ledger::run(&command, ctx),
        Command::Docs { output } => docs::run(output.as_deref(), ctx),
    }
}

/// Warnings from loading, one per line, for stderr.
pub(crate) fn warning_lines(warnings: &[String]) -> String {
    warnings.iter().map(|w| format!("warning: {w}\n")).collect()
}

impl LoadArgs {
    /// The command line's `--rules-from` and `--config`, as workspace loading takes them.
    pub fn options(&self) -> crate::workspace::LoadOptions {
        crate::workspace::LoadOptions {
            rules_from: self.rules_from.clone(),
            config: self.config.clone(),
        }
    }
}
