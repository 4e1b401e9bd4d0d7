//! `forewarn hook install`: a git hook that runs the check before a commit or a push.
//!
//! The hook is a small POSIX shell script that carries [`MARKER`], so installing again recognises
//! and updates forewarn's own hook, while a hook someone else wrote is left alone unless `--force`
//! (then it is kept beside it as `<hook>.forewarn-backup`). Hooks go where git runs them:
//! `core.hooksPath` when it is set, else the `hooks` folder of the common git directory (shared by
//! every worktree).

use std::path::{Path, PathBuf};

use super::{Context, Outcome};
use crate::cli::{HookCommand, HookInstallArgs};
use crate::diff::git;
use crate::error::{Error, Result};

/// The line that marks a hook as forewarn's own.
pub const MARKER: &str = "# forewarn-hook: installed by `forewarn hook install`";

/// Which hook to install.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    PreCommit,
    PrePush,
}

impl Kind {
    pub fn file_name(self) -> &'static str {
        match self {
            Kind::PreCommit => "pre-commit",
            Kind::PrePush => "pre-push",
        }
    }
}

pub fn run(command: &HookCommand, ctx: &Context) -> Result<Outcome> {
    match command {
        HookCommand::Install(args) => install(args, ctx),
    }
}

fn install(args: &HookInstallArgs, ctx: &Context) -> Result<Outcome> {
    let kind = if args.pre_commit {
        Kind::PreCommit
    } else {
        Kind::PrePush
    };
    let repo = git::discover(&ctx.cwd)?;
    let dir = hooks_dir(&repo)?;
    let path = dir.join(kind.file_name());
    let script = script(kind, std::env::current_exe().ok().as_deref());

    let mut notes = String::new();
    match std::fs::read(&path) {
        Ok(existing) if is_ours(&existing) => {
            if existing == script.as_bytes() {
                return Ok(Outcome::ok(format!(
                    "{} is already forewarn's {} hook; nothing to do\n",
                    path.display(),
                    kind.file_name()
                )));
            }
            // forewarn's marker, and lines its owner added: kept before it is replaced.
            if has_lines_of_its_own(&existing, &script) {
                let backup = move_aside(&path)?;
                notes.push_str(&format!(
                    "the hook held lines forewarn did not write; it is kept as {}\n",
                    backup.display()
                ));
            }
        }
        Ok(_) if args.force => {
            let backup = move_aside(&path)?;
            notes.push_str(&format!(
                "the hook that was there is kept as {}\n",
                backup.display()
            ));
        }
        Ok(_) => {
            return Err(Error::usage(
                format!(
                    "{} already exists and forewarn did not write it; it was left unchanged",
                    path.display()
                ),
                format!(
                    "call `{}` from that hook yourself, or replace it (it is kept as {}.forewarn-backup) with: forewarn hook install --{} --force",
                    check_command(kind),
                    kind.file_name(),
                    kind.file_name()
                ),
            ));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(Error::io("read the existing hook", path, e)),
    }

    std::fs::create_dir_all(&dir).map_err(|e| Error::io("create the hooks folder", &dir, e))?;
    // The hook belongs in `.git/hooks`: the one write into `.git` forewarn makes.
    crate::output::write::replace(&path, &script)?;
    make_executable(&path)?;
    Ok(Outcome::ok(format!(
        "{notes}installed {}: runs `{}` {} (skip it once with `git {} --no-verify`)\n",
        path.display(),
        check_command(kind),
        match kind {
            Kind::PreCommit => "before each commit",
            Kind::PrePush => "on the commits each push sends",
        },
        match kind {
            Kind::PreCommit => "commit",
            Kind::PrePush => "push",
        },
    )))
}

/// Where git runs hooks from: `core.hooksPath` (relative to the top of the working tree, as git
/// reads it), else `<common git dir>/hooks`.
pub fn hooks_dir(repo: &git2::Repository) -> Result<PathBuf> {
    let configured = repo
        .config()
        .and_then(|mut c| c.snapshot())
        .ok()
        .and_then(|c| c.get_path("core.hooksPath").ok());
    Ok(match configured {
        Some(path) if path.is_absolute() => path,
        Some(path) => match repo.workdir() {
            Some(workdir) => workdir.join(path),
            None => repo.path().join(path),
        },
        None => repo.commondir().join("hooks"),
    })
}

fn is_ours(existing: &[u8]) -> bool {
    String::from_utf8_lossy(existing).contains(MARKER)
}

fn backup_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".forewarn-backup");
    path.with_file_name(name)
}

/// Whether a hook carrying forewarn's marker has lines that are in no forewarn script: lines
/// its owner added to it.
fn has_lines_of_its_own(existing: &[u8], script: &str) -> bool {
    let scripts = [
        script.to_string(),
        self::script(Kind::PreCommit, None),
        self::script(Kind::PrePush, None),
    ];
    let ours: std::collections::HashSet<&str> = scripts
        .iter()
        .flat_map(|s| s.lines())
        .map(str::trim)
        .collect();
    String::from_utf8_lossy(existing)
        .lines()
        .map(str::trim)
        .any(|line| {
            !line.is_empty()
                && !line.starts_with('#')
                && !ours.contains(line)
                && !line.contains("forewarn")
        })
}

/// Moves the hook at `path` to the first free backup name (`<hook>.forewarn-backup`, then
/// `.forewarn-backup.1`, ...): an earlier backup is never replaced.
fn move_aside(path: &Path) -> Result<PathBuf> {
    let first = backup_path(path);
    let mut backup = first.clone();
    let mut n = 0u32;
    loop {
        // A hard link fails when the name is taken, so no backup is ever overwritten.
        match std::fs::hard_link(path, &backup) {
            Ok(()) => break,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                n += 1;
                let mut name = first.file_name().unwrap_or_default().to_os_string();
                name.push(format!(".{n}"));
                backup = first.with_file_name(name);
            }
            Err(e) => {
                return Err(Error::Io {
                    action: "keep the existing hook as",
                    path: backup,
                    source: e,
                    help: Some("check that the hooks folder is writable".into()),
                });
            }
        }
    }
    std::fs::remove_file(path)
        .map_err(|e| Error::io("move the existing hook aside from", path, e))?;
    Ok(backup)
}

fn check_command(kind: Kind) -> &'static str {
    match kind {
        Kind::PreCommit => "forewarn check --staged",
        Kind::PrePush => "forewarn check --base <remote sha> --head <pushed sha>",
    }
}

#[cfg(unix)]
fn make_executable(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
        .map_err(|e| Error::io("make the hook executable", path, e))
}

#[cfg(not(unix))]
fn make_executable(_path: &Path) -> Result<()> {
    Ok(())
}

/// Single-quotes `s` for a POSIX shell.
fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// The hook script. It runs `forewarn` from PATH, or else the binary that installed it.
pub fn script(kind: Kind, installed_from: Option<&Path>) -> String {
    let fallback = installed_from
        .and_then(Path::to_str)
        .map(shell_quote)
        .unwrap_or_else(|| "''".to_string());
    let find = format!(
        r#"if command -v forewarn >/dev/null 2>&1; then
  forewarn=forewarn
elif [ -x {fallback} ]; then
  forewarn={fallback}
else
  echo "forewarn {name} hook: forewarn is not installed; install it (cargo install --locked forewarn) or skip this check once with --no-verify" >&2
  exit 1
fi
"#,
        name = kind.file_name(),
    );
    match kind {
        Kind::PreCommit => format!(
            r#"#!/bin/sh
{MARKER}
# Checks what is staged before each commit. Skip once with `git commit --no-verify`;
# remove this file to uninstall.
{find}
# --staged reads GIT_INDEX_FILE when git sets it (`git commit -a`, `git commit <paths>`).
exec "$forewarn" check --staged
"#
        ),
        Kind::PrePush => format!(
            r#"#!/bin/sh
{MARKER}
# Checks the commits each push sends. git gives one line per pushed ref on stdin:
#   <local ref> <local sha> <remote ref> <remote sha>
# Skip once with `git push --no-verify`; remove this file to uninstall.
{find}
remote="$1"
status=0
# `base` in forewarn.toml (a top-level key, before any [table]) names the default branch.
top=$(git rev-parse --show-toplevel 2>/dev/null)
configured=""
if [ -n "$top" ] && [ -f "$top/forewarn.toml" ]; then
  configured=$(awk '/^[[:space:]]*\[/ {{ exit }} /^[[:space:]]*base[[:space:]]*=/ {{ sub(/^[^=]*=[[:space:]]*["'"'"']/, ""); sub(/["'"'"'].*$/, ""); print; exit }}' "$top/forewarn.toml")
fi
while read -r local_ref local_sha remote_ref remote_sha; do
  case "$local_sha" in
    *[!0]*) ;;
    *) continue ;; # a deletion sends no commits
  esac
  base=""
  case "$remote_sha" in
    *[!0]*)
      # The remote's tip, when we have it (a remote that moved on may hold commits we lack).
      if git cat-file -e "$remote_sha^{{commit}}" 2>/dev/null; then base="$remote_sha"; fi ;;
  esac
  if [ -z "$base" ]; then
    # A new branch: compare with the merge base of the remote's default branch.
    for candidate in ${{configured:+"$remote/$configured" "$configured"}} "$remote/HEAD" "$remote/main" "$remote/master" main master; do
      if git rev-parse -q --verify "$candidate^{{commit}}" >/dev/null 2>&1; then
        base="$candidate"
        break
      fi
    done
  fi
  if [ -z "$base" ]; then
    # Fails closed: a push that nothing was compared with is not a push that passed.
    echo "forewarn pre-push hook: nothing to compare $local_ref with (no ${{configured:+$remote/$configured, }}$remote/HEAD, main or master here), so it was not checked and the push is stopped; fetch the default branch (git fetch $remote), or set \`base = \"<branch>\"\` in forewarn.toml, or push once with --no-verify" >&2
    status=1
    continue
  fi
  "$forewarn" check --base "$base" --head "$local_sha" </dev/null || status=$?
done
exit $status
"#
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_carry_the_marker_and_quote_the_fallback() {
        for kind in [Kind::PreCommit, Kind::PrePush] {
            let s = script(kind, Some(Path::new("/opt/it's here/forewarn")));
            assert!(s.starts_with("#!/bin/sh\n"));
            assert!(is_ours(s.as_bytes()));
            assert!(s.contains(r"'/opt/it'\''s here/forewarn'"), "{s}");
        }
        let pre_commit = script(Kind::PreCommit, None);
        assert!(pre_commit.contains("exec \"$forewarn\" check --staged"));
        // --staged itself reads GIT_INDEX_FILE, so the hook needs no special case for it
        assert!(!pre_commit.contains("GIT_INDEX_FILE##"), "{pre_commit}");
        assert!(!is_ours(b"#!/bin/sh\necho mine\n"));
    }

    #[test]
    fn backup_sits_beside_the_hook() {
        assert_eq!(
            backup_path(Path::new("/r/.git/hooks/pre-commit")),
            Path::new("/r/.git/hooks/pre-commit.forewarn-backup")
        );
    }
}
