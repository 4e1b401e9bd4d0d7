//! The command line: commands and flags, with help a user can follow.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::output::Format;
use crate::rules::Severity;

#[derive(Debug, Parser)]
#[command(
    name = "forewarn",
    version,
    about = "Turns the lessons of post-incident analyses into checks that run before a change merges",
    long_about = "forewarn reads a change (a git range, the staged files, the working tree, or a patch) and \
runs rules written in TOML on it. It flags changes that need a manual step at deploy time (a database \
migration run by hand) or that reach every host at once, and links each finding to the analysis that \
taught the lesson.\n\nExit codes: 0 nothing at or above the gate, 1 findings at or above the gate, \
2 usage, config, rule or repository error.",
    after_help = "Start with `forewarn demo`, then `forewarn check` in your repository."
)]
pub struct Cli {
    /// Run as if started in this directory.
    #[arg(short = 'C', long = "directory", global = true, value_name = "DIR")]
    pub directory: Option<PathBuf>,

    /// When to colour the output.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// Colour on a terminal, unless NO_COLOR is set.
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check a change against the rules and gate on what is found.
    ///
    /// By default compares the merge base of HEAD with its upstream (or the default branch)
    /// against the working tree: everything you are about to push, committed or not.
    // Boxed: the flags of `check` dwarf every other command's.
    Check(Box<CheckArgs>),
    /// Explain a rule: what it matches, why it is risky, the safe procedure, its lessons.
    Explain {
        /// The rule id, as `forewarn rules` lists it.
        rule: String,
        #[command(flatten)]
        load: LoadArgs,
    },
    /// List the rules in force, with where each came from.
    Rules {
        #[command(flatten)]
        load: LoadArgs,
    },
    /// Run every rule's examples (`[[rule.example]]`) and report the ones that disagree.
    Test {
        /// Only these rule ids.
        rules: Vec<String>,
        #[command(flatten)]
        load: LoadArgs,
    },
    /// Check rule files and forewarn.toml without checking a change.
    Validate {
        #[command(flatten)]
        load: LoadArgs,
    },
    /// Replay the incident that started forewarn in a throw-away repository and check it.
    Demo,
    /// Git hooks that run the check before a commit or a push.
    #[command(subcommand)]
    Hook(HookCommand),
    /// Analysis records: one TOML file per post-incident analysis, in .forewarn/analyses/.
    #[command(subcommand)]
    Analysis(AnalysisCommand),
    /// Turn a finding of an analysis into a rule.
    #[command(subcommand)]
    Rule(RuleCommand),
    /// Replay rules over past commits: how often each fires, which culprit commits it catches.
    ///
    /// Each commit is compared with its first parent (merge commits are skipped, as `git log -p`
    /// skips their diffs). Culprit commits named in the analysis records are always replayed,
    /// whatever the range. `--write` stores each rule's result in the records it links to.
    Backtest(BacktestArgs),
    /// What the rules caught since the analyses: for the next review.
    ///
    /// Reads the analysis records, the rules, the ledger (`check --record`: its folder and
    /// refs/forewarn/ledger, see `ledger pull`) and the
    /// `Forewarn-Ack:` trailers in history. For each finding: its rules, how often each fired and
    /// was acknowledged and why; rules that never fire; culprit commits no rule catches;
    /// findings with no rule yet.
    Report(ReportArgs),
    /// The ledger on a ref of the repository (refs/forewarn/ledger): push events recorded in
    /// CI so they outlive the job, pull them so `report` reads them.
    #[command(subcommand)]
    Ledger(LedgerCommand),
    /// Write the rule reference (docs/rules.md) from the built-in packs: one section per rule,
    /// with what it matches, why, the safe procedure and its examples.
    Docs {
        /// Write the reference to FILE instead of stdout.
        #[arg(long, short = 'o', value_name = "FILE")]
        output: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum HookCommand {
    /// Install a git hook that runs `forewarn check`: before each push (the default: the pushed
    /// commits) or before each commit (`--pre-commit`: what is staged).
    ///
    /// Writes into core.hooksPath when it is set, else .git/hooks. A hook forewarn did not write
    /// is never replaced without --force; installing again updates forewarn's own hook.
    Install(HookInstallArgs),
}

#[derive(Debug, Clone, Default, Args)]
pub struct HookInstallArgs {
    /// Install the pre-commit hook: `forewarn check --staged` before each commit.
    #[arg(long, conflicts_with = "pre_push")]
    pub pre_commit: bool,

    /// Install the pre-push hook: check the commits each push sends (the default).
    #[arg(long)]
    pub pre_push: bool,

    /// Replace a hook forewarn did not write (it is kept as `<hook>.forewarn-backup`).
    #[arg(long)]
    pub force: bool,
}

/// Where rules and config come from.
#[derive(Debug, Clone, Default, Args)]
pub struct LoadArgs {
    /// Read forewarn.toml and the team's rules from this git revision instead of the working
    /// tree (CI passes the base branch, so a pull request cannot loosen its own gate).
    #[arg(long, value_name = "REV")]
    pub rules_from: Option<String>,

    /// Use this config file instead of forewarn.toml at the repository root.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Clone, Default, Args)]
pub struct CheckArgs {
    /// Compare from the merge base of REV and HEAD (or --head).
    #[arg(long, value_name = "REV", conflicts_with_all = ["staged", "commit", "patch"])]
    pub base: Option<String>,

    /// With --base: compare against this revision instead of the working tree.
    #[arg(long, value_name = "REV", requires = "base")]
    pub head: Option<String>,

    /// Check what is staged for commit (the index against HEAD): for pre-commit hooks.
    #[arg(long, conflicts_with_all = ["commit", "patch"])]
    pub staged: bool,

    /// For the pre-commit framework's hook: check the range `pre-commit run --from-ref A
    /// --to-ref B` names (PRE_COMMIT_FROM_REF / PRE_COMMIT_TO_REF, or the older
    /// PRE_COMMIT_SOURCE / PRE_COMMIT_ORIGIN) as `--base A --head B`; without them, what is staged.
    #[arg(long, conflicts_with_all = ["base", "staged", "commit", "patch"])]
    pub pre_commit: bool,

    /// Check one commit against its first parent.
    #[arg(long, value_name = "SHA", conflicts_with = "patch")]
    pub commit: Option<String>,

    /// Check a unified diff from a file, or `-` for stdin; works outside a repository.
    #[arg(long, value_name = "FILE|-")]
    pub patch: Option<PathBuf>,

    /// With --patch: an empty patch is an empty change (exit 0), not an error. Without it, empty
    /// input exits 2: an empty pipe usually means the command before it failed.
    #[arg(long, requires = "patch")]
    pub allow_empty: bool,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,

    /// Write the report to FILE instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// SARIF (`--format sarif`, `--sarif-file`): list acknowledged findings too, as suppressed
    /// results with the reason. By default they are left out, so code scanning shows only what
    /// still needs an answer.
    #[arg(long)]
    pub sarif_acknowledged: bool,

    /// Fail (exit 1) on findings at or above this severity that are not acknowledged.
    #[arg(long, value_enum, default_value_t = FailOn::Error)]
    pub fail_on: FailOn,

    /// Acknowledge a rule for this run: `--ack <rule-id>=<reason>`. A reason is required.
    #[arg(long = "ack", value_name = "ID=REASON")]
    pub acks: Vec<String>,

    /// Record one ledger event per finding (fired or acknowledged, with the reason) in the
    /// ledger folder (.forewarn/ledger/), for `forewarn report`; on a pull request, also one
    /// `checked` event listing what this run saw. No author names are recorded.
    #[arg(long)]
    pub record: bool,

    /// With --record: also push the events to the ledger ref (refs/forewarn/ledger) of the
    /// remote, retrying when another job pushed first. Needs write access to the repository.
    #[arg(long, requires = "record")]
    pub push: bool,

    /// The remote --push (and `ledger push`) sends the ledger to: a remote name or a URL.
    #[arg(
        long,
        value_name = "REMOTE",
        default_value = "origin",
        requires = "push"
    )]
    pub remote: String,

    /// The pull or merge request this check is for (default: from CI: GITHUB_EVENT_PATH,
    /// GITHUB_REF `refs/pull/N/merge`, CI_MERGE_REQUEST_IID). Recorded, never an author.
    #[arg(long = "pr", value_name = "N", requires = "record")]
    pub pull_request: Option<u64>,

    #[command(flatten)]
    pub load: LoadArgs,

    #[command(flatten)]
    pub reports: ReportFiles,
}

/// More reports from the same run, whatever `--format` prints (CI wants annotations on stdout and
/// a SARIF file for code scanning). Each file is written atomically.
#[derive(Debug, Clone, Default, Args)]
pub struct ReportFiles {
    /// Also write a SARIF 2.1.0 report to FILE (GitHub code scanning).
    #[arg(long, value_name = "FILE")]
    pub sarif_file: Option<PathBuf>,

    /// Also write the JSON report to FILE.
    #[arg(long, value_name = "FILE")]
    pub json_file: Option<PathBuf>,

    /// Also write a markdown pull-request comment to FILE.
    #[arg(long, value_name = "FILE")]
    pub markdown_file: Option<PathBuf>,

    /// Also write a JUnit XML report to FILE.
    #[arg(long, value_name = "FILE")]
    pub junit_file: Option<PathBuf>,

    /// Also write a GitLab Code Quality report to FILE.
    #[arg(long, value_name = "FILE")]
    pub gitlab_file: Option<PathBuf>,
}

impl ReportFiles {
    /// Each requested file with its format.
    pub fn files(&self) -> Vec<(Format, PathBuf)> {
        [
            (Format::Sarif, &self.sarif_file),
            (Format::Json, &self.json_file),
            (Format::Markdown, &self.markdown_file),
            (Format::Junit, &self.junit_file),
            (Format::Gitlab, &self.gitlab_file),
        ]
        .into_iter()
        .filter_map(|(format, path)| path.clone().map(|p| (format, p)))
        .collect()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum FailOn {
    #[default]
    Error,
    Warning,
    Note,
    Never,
}

impl FailOn {
    pub fn gate(self) -> Option<Severity> {
        match self {
            FailOn::Error => Some(Severity::Error),
            FailOn::Warning => Some(Severity::Warning),
            FailOn::Note => Some(Severity::Note),
            FailOn::Never => None,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum AnalysisCommand {
    /// Write a new analysis record from a template that walks the review: timeline with
    /// sources, perspectives, what kept the change from being a safe experiment, what misled
    /// the responders, culprit commits, findings, actions.
    New {
        /// The incident, named by what the system did: "Checkout errors after the 4.2 release".
        title: String,
        /// The record's id (used in rule links); default: the month and the title's words.
        #[arg(long)]
        id: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum RuleCommand {
    /// Write a rule file linked to an analysis finding, with a `fire` and a `pass` example.
    New {
        /// The rule id, kebab-case: `payments-migration-needs-deploy-step`.
        id: String,
        /// The finding the rule comes from: `<analysis-id>#<finding-id>`. Repeatable.
        #[arg(long = "finding", value_name = "ANALYSIS#FINDING")]
        findings: Vec<String>,
        /// Seed the rule from the analysis's culprit commit: its files become the rule's paths
        /// and its real diff (trimmed) the `fire` example.
        #[arg(long, requires = "findings")]
        from_culprit: bool,
    },
}

#[derive(Debug, Clone, Default, Args)]
pub struct BacktestArgs {
    /// Only these rule ids (default: every rule in force).
    pub rules: Vec<String>,

    /// Replay the commits reachable from B and not from A (default: all of HEAD's history).
    #[arg(long, value_name = "A..B", conflicts_with_all = ["since", "last"])]
    pub range: Option<String>,

    /// Replay HEAD's commits made on or after this date (2024-01-31, or an RFC 3339 time).
    #[arg(long, value_name = "DATE", conflicts_with = "last")]
    pub since: Option<String>,

    /// Replay the N most recent commits of HEAD.
    #[arg(long, value_name = "N")]
    pub last: Option<usize>,

    /// Store each rule's result in the analysis records it links to ([[backtest]] tables),
    /// editing them in place: comments, order and layout are kept.
    #[arg(long)]
    pub write: bool,

    /// Output format.
    #[arg(long, value_enum, default_value_t = BacktestFormat::Human)]
    pub format: BacktestFormat,

    /// Worker threads (default: one per CPU; at most four per CPU).
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<usize>,

    #[command(flatten)]
    pub load: LoadArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum BacktestFormat {
    /// A table per rule.
    #[default]
    Human,
    /// A JSON document.
    Json,
}

#[derive(Debug, Subcommand)]
pub enum LedgerCommand {
    /// Add the events of the ledger folder (or --from DIR) to the ledger ref of the remote.
    ///
    /// Fetches the remote's ref, adds the events it does not have (event names are unique, so
    /// nothing conflicts) and pushes; when another job pushed first, does it again on the new
    /// tip, a bounded number of times. Pushing the same events twice adds nothing.
    Push(LedgerPushArgs),
    /// Fetch the ledger ref of the remote into this repository, for `report`.
    Pull(LedgerPullArgs),
}

#[derive(Debug, Clone, Args)]
pub struct LedgerPushArgs {
    /// The remote to push to: a remote name or a URL.
    #[arg(long, value_name = "REMOTE", default_value = "origin")]
    pub remote: String,

    /// Push the event files of DIR instead of the ledger folder (an artifact of another job,
    /// as in the workflow_run recipe for pull requests from forks).
    #[arg(long, value_name = "DIR")]
    pub from: Option<PathBuf>,

    #[command(flatten)]
    pub load: LoadArgs,
}

#[derive(Debug, Clone, Args)]
pub struct LedgerPullArgs {
    /// The remote to fetch from: a remote name or a URL.
    #[arg(long, value_name = "REMOTE", default_value = "origin")]
    pub remote: String,
}

#[derive(Debug, Clone, Default, Args)]
pub struct ReportArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Markdown)]
    pub format: ReportFormat,

    /// Write the report to FILE instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Store the summary of each rule linked to a finding in that analysis record ([[report]]
    /// tables), editing it in place: comments, order and layout are kept.
    #[arg(long)]
    pub write: bool,

    #[command(flatten)]
    pub load: LoadArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum ReportFormat {
    /// For the review's notes or a pull-request comment.
    #[default]
    Markdown,
    /// A versioned JSON document.
    Json,
    /// One self-contained page with a chart of fires and acknowledgements over time.
    Html,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn head_needs_base_and_inputs_conflict() {
        assert!(Cli::try_parse_from(["forewarn", "check", "--head", "x"]).is_err());
        assert!(Cli::try_parse_from(["forewarn", "check", "--staged", "--patch", "-"]).is_err());
        assert!(
            Cli::try_parse_from(["forewarn", "check", "--base", "main", "--head", "HEAD"]).is_ok()
        );
    }
}
