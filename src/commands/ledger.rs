//! `forewarn ledger push|pull`: the ledger on `refs/forewarn/ledger`, so what CI recorded
//! outlives the job.

use super::{Context, Outcome, warning_lines};
use crate::analysis::ledger::{self, Named, folder, push, store_ref};
use crate::analysis::links::plural;
use crate::cli::{LedgerCommand, LedgerPullArgs, LedgerPushArgs};
use crate::error::{Error, Result};
use crate::workspace::Workspace;

pub fn run(command: &LedgerCommand, ctx: &Context) -> Result<Outcome> {
    match command {
        LedgerCommand::Push(args) => run_push(args, ctx),
        LedgerCommand::Pull(args) => run_pull(args, ctx),
    }
}

fn no_repository(workspace: &Workspace) -> Error {
    Error::repository(
        format!(
            "{} is not inside a git repository, so there is no ledger ref to push or fetch",
            workspace.root.display()
        ),
        "run this in the CI checkout of the repository",
    )
}

fn repository(workspace: &Workspace) -> Result<&git2::Repository> {
    workspace
        .repo
        .as_ref()
        .ok_or_else(|| no_repository(workspace))
}

/// Pushes the events one check just wrote (`check --record --push`).
pub fn push_named(workspace: &Workspace, remote: &str, named: &[Named]) -> Result<push::Pushed> {
    let repo = repository(workspace)?;
    let files: Vec<(String, Vec<u8>)> = named
        .iter()
        .map(|n| (n.name.clone(), folder::to_json(&n.event).into_bytes()))
        .collect();
    push::push(repo, remote, &files)
}

fn run_push(args: &LedgerPushArgs, ctx: &Context) -> Result<Outcome> {
    let workspace = Workspace::load(&ctx.cwd, &args.load.options())?;
    let repo = repository(&workspace)?;
    let dir = match &args.from {
        Some(dir) => ctx.cwd.join(dir),
        None => ledger::dir(&workspace)?,
    };
    // Only events go onto the ref: a file that does not parse is named and left behind.
    let mut warnings = Vec::new();
    let mut files = Vec::new();
    for (name, bytes) in folder::read_files(&dir)? {
        match folder::parse(&bytes, &dir.join(&name).display().to_string()) {
            Ok(_) => files.push((name, bytes)),
            Err(warning) => warnings.push(warning),
        }
    }
    // Events appended to the local ref (by `ledger pull` merging, or the demo) go too.
    let known: std::collections::HashSet<String> = files.iter().map(|f| f.0.clone()).collect();
    files.extend(
        store_ref::files(repo, store_ref::REF)
            .into_iter()
            .filter(|f| !known.contains(&f.0)),
    );
    let pushed = push::push(repo, &args.remote, &files)?;
    let mut stderr = warning_lines(&warnings);
    stderr.push_str(&format!(
        "{} to {} of `{}` ({} read from {}{})\n",
        if pushed.added == 0 {
            "nothing new to add".to_string()
        } else {
            format!("added {}", plural(pushed.added, "event"))
        },
        store_ref::REF,
        args.remote,
        plural(files.len(), "event"),
        dir.display(),
        if pushed.attempts > 1 {
            format!("; pushed on attempt {}", pushed.attempts)
        } else {
            String::new()
        }
    ));
    Ok(Outcome {
        stderr,
        ..Outcome::default()
    })
}

fn run_pull(args: &LedgerPullArgs, ctx: &Context) -> Result<Outcome> {
    let repo = crate::diff::git::find(&ctx.cwd)?.ok_or_else(|| {
        Error::repository(
            format!(
                "{} is not inside a git repository, so there is no ledger ref to fetch into",
                ctx.cwd.display()
            ),
            "run this in a clone of the repository",
        )
    })?;
    let fetched = push::pull(&repo, &args.remote)?;
    if fetched.tip.is_none() {
        return Ok(Outcome {
            stderr: format!(
                "`{}` has no {} yet: nothing was recorded with `check --record --push` or `ledger push`\n",
                args.remote,
                store_ref::REF
            ),
            ..Outcome::default()
        });
    }
    let (named, warnings) = store_ref::read(&repo, store_ref::REF);
    let mut stderr = warning_lines(&warnings);
    stderr.push_str(&format!(
        "{} now holds {} from `{}`; `forewarn report` reads them\n",
        store_ref::REF,
        plural(named.len(), "event"),
        args.remote
    ));
    Ok(Outcome {
        stderr,
        ..Outcome::default()
    })
}
