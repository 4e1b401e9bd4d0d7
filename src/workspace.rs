//! Where a run's config and rules come from: the working tree, or a git revision
//! (`--rules-from`), plus the built-in packs.

use std::path::{Path, PathBuf};

use crate::config::{self, Config};
use crate::error::{Error, Result};
use crate::rules::RuleSet;
use crate::rules::builtin;
use crate::rules::load::{self, RuleFile};

/// Where to read config and rules from; the command line's `--rules-from` and `--config`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoadOptions {
    /// Read `forewarn.toml` and the team's rules from this git revision instead of the working
    /// tree.
    pub rules_from: Option<String>,
    /// This config file instead of `forewarn.toml` at the repository root.
    pub config: Option<PathBuf>,
}

/// The repository (if any), the config and the rules in force.
pub struct Workspace {
    pub repo: Option<git2::Repository>,
    /// The repository's working directory, or the starting directory outside a repository.
    pub root: PathBuf,
    pub config: Config,
    pub rules: RuleSet,
    /// The team's rule files as read (not the built-in packs), for errors that point into them.
    pub rule_files: Vec<RuleFile>,
    /// Analysis records (`*.toml` in the config's `analyses` folder), read from the same place as
    /// the rules but not parsed: `crate::analysis::record::load` does that for the commands that
    /// need them, so a record being written never blocks `forewarn check`.
    pub analysis_files: Vec<RuleFile>,
}

impl Workspace {
    /// Loads config and rules for a run started in `cwd`.
    pub fn load(cwd: &Path, args: &LoadOptions) -> Result<Workspace> {
        let (mut workspace, files) = Self::open(cwd, args)?;
        workspace.rules = load::load(&files, &workspace.config)?;
        Ok(workspace)
    }

    /// Everything [`Workspace::load`] reads but the rules, which stay empty, and every rule file
    /// to load them from (the built-in packs and the team's): `check` loads them with
    /// [`load::load`] on the thread pool while it plans the change.
    pub fn open(cwd: &Path, args: &LoadOptions) -> Result<(Workspace, Vec<RuleFile>)> {
        let repo = crate::diff::git::find(cwd)?;
        let root = repo
            .as_ref()
            .and_then(|r| r.workdir().map(Path::to_path_buf))
            .unwrap_or_else(|| cwd.to_path_buf());
        let (config, files, analysis_files) =
            Self::read_config_and_rule_files(repo.as_ref(), &root, cwd, args)?;
        let rule_files = files.iter().filter(|f| !f.builtin).cloned().collect();
        let workspace = Workspace {
            repo,
            root,
            config,
            rules: RuleSet::default(),
            rule_files,
            analysis_files,
        };
        Ok((workspace, files))
    }

    fn read_config_and_rule_files(
        repo: Option<&git2::Repository>,
        root: &Path,
        cwd: &Path,
        args: &LoadOptions,
    ) -> Result<(Config, Vec<RuleFile>, Vec<RuleFile>)> {
        let source = match &args.rules_from {
            Some(rev) => {
                let Some(repo) = repo else {
                    return Err(Error::usage(
                        format!(
                            "--rules-from {rev} needs a git repository, and {} is not in one",
                            cwd.display()
                        ),
                        "run inside the repository, or drop --rules-from to read rules from the working tree",
                    ));
                };
                Source::Revision(repo, rev_tree(repo, rev)?, rev.clone())
            }
            None => Source::Worktree(root.to_path_buf()),
        };
        let config = match &args.config {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| Error::Io {
                    action: "read config",
                    path: path.clone(),
                    source: e,
                    help: Some("check the path given to --config".into()),
                })?;
                Config::parse(&path.display().to_string(), &text)?
            }
            None => match source.read(config::FILE_NAME)? {
                Some(text) => Config::parse(&source.display(config::FILE_NAME), &text)?,
                None => Config::default(),
            },
        };
        let mut files = builtin::files();
        for dir in &config.rule_dirs {
            files.extend(source.rule_files(dir)?);
        }
        let analysis_files = source.rule_files(&config.analyses)?;
        Ok((config, files, analysis_files))
    }
}

enum Source<'r> {
    Worktree(PathBuf),
    Revision(&'r git2::Repository, git2::Tree<'r>, String),
}

fn rev_tree<'r>(repo: &'r git2::Repository, rev: &str) -> Result<git2::Tree<'r>> {
    repo.revparse_single(rev)
        .and_then(|o| o.peel_to_tree())
        .map_err(|e| {
            Error::repository(
                format!("cannot read rules from revision `{rev}`: {}", e.message()),
                format!(
                    "check the name, or fetch it first: {}",
                    crate::diff::git::fetch_command(rev.strip_prefix("origin/").unwrap_or(rev))
                ),
            )
        })
}

impl Source<'_> {
    fn display(&self, path: &str) -> String {
        match self {
            Source::Worktree(_) => path.to_string(),
            Source::Revision(_, _, rev) => format!("{rev}:{path}"),
        }
    }

    fn read(&self, path: &str) -> Result<Option<String>> {
        match self {
            Source::Worktree(root) => {
                let Some(full) = contained(root, path)? else {
                    return Ok(None);
                };
                match std::fs::read(&full) {
                    Ok(bytes) => Ok(Some(text_of(bytes, &full.display().to_string())?)),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                    Err(e) => Err(Error::io("read", full, e)),
                }
            }
            Source::Revision(repo, tree, rev) => {
                let entry = match tree.get_path(Path::new(path)) {
                    Ok(entry) => entry,
                    Err(e) if e.code() == git2::ErrorCode::NotFound => return Ok(None),
                    Err(e) => return Err(missing_object(rev, path, &e)),
                };
                // An object that cannot be read (a blob-less partial clone) is an error: the
                // revision's rules or config are never dropped in silence.
                let object = entry
                    .to_object(repo)
                    .map_err(|e| missing_object(rev, path, &e))?;
                match object.as_blob() {
                    Some(blob) => Ok(Some(text_of(
                        blob.content().to_vec(),
                        &format!("{rev}:{path}"),
                    )?)),
                    None => Ok(None),
                }
            }
        }
    }

    /// `*.toml` files directly in `dir`, sorted by name.
    fn rule_files(&self, dir: &str) -> Result<Vec<RuleFile>> {
        let dir = dir.trim_end_matches('/');
        let mut names: Vec<String> = match self {
            Source::Worktree(root) => match contained(root, dir)?.map(std::fs::read_dir) {
                // Links among the files are followed only inside the repository (`read`).
                Some(Ok(entries)) => entries
                    .filter_map(|e| e.ok())
                    .filter(|e| e.file_type().is_ok_and(|t| t.is_file() || t.is_symlink()))
                    .filter_map(|e| e.file_name().to_str().map(str::to_string))
                    .collect(),
                Some(Err(e)) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(Error::io("read the folder", root.join(dir), e));
                }
                _ => Vec::new(),
            },
            Source::Revision(repo, tree, rev) => match tree.get_path(Path::new(dir)) {
                Err(e) if e.code() == git2::ErrorCode::NotFound => Vec::new(),
                Err(e) => return Err(missing_object(rev, dir, &e)),
                Ok(entry) => entry
                    .to_object(repo)
                    .map_err(|e| missing_object(rev, dir, &e))?
                    .as_tree()
                    .map(|sub| {
                        sub.iter()
                            .filter(|e| e.kind() == Some(git2::ObjectType::Blob))
                            .filter_map(|e| e.name().ok().map(str::to_string))
                            .collect()
                    })
                    .unwrap_or_default(),
            },
        };
        names.retain(|n| n.ends_with(".toml"));
        names.sort();
        let mut files = Vec::new();
        for name in names {
            let path = format!("{dir}/{name}");
            if let Some(text) = self.read(&path)? {
                files.push(RuleFile {
                    path: self.display(&path),
                    text,
                    builtin: false,
                });
            }
        }
        Ok(files)
    }
}

/// An object of revision `rev` that git cannot read: most often a blob-less partial clone
/// (`--filter=blob:none`), which libgit2 cannot fetch on demand.
fn missing_object(rev: &str, path: &str, e: &git2::Error) -> Error {
    Error::repository(
        format!(
            "cannot read {rev}:{path}: {} (the object is not in this clone)",
            e.message()
        ),
        format!(
            "git fetches a partial clone's missing objects on demand and libgit2 (which forewarn reads with) does not: fetch it first with `git cat-file -p {rev}:{path} > /dev/null`, or clone without `--filter`"
        ),
    )
}

/// `root/path`, if it exists, and only if it is inside the repository: a path that leads out
/// of it (`..`, an absolute path, or a symbolic link on the way, to a secret or to
/// `/proc/self/environ`) is an error, and nothing of the target is read. `Ok(None)` when
/// nothing is there.
pub fn contained(root: &Path, path: &str) -> Result<Option<PathBuf>> {
    let full = root.join(path);
    let (real, exists) = match std::fs::canonicalize(&full) {
        Ok(real) => (real, true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if std::fs::symlink_metadata(&full).is_ok() {
                return Err(Error::usage(
                    format!("{path} is a symbolic link to nothing (its target does not exist)"),
                    format!(
                        "remove the link, or point it at a file inside the repository: ln -sfn <target> {path}"
                    ),
                ));
            }
            // Not there yet (a ledger folder about to be made): where it would be made counts.
            let existing = full
                .ancestors()
                .skip(1)
                .find_map(|a| std::fs::canonicalize(a).ok());
            (existing.unwrap_or_else(|| full.clone()), false)
        }
        Err(e) => return Err(Error::io("resolve", full, e)),
    };
    let root_real = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
    if !real.starts_with(&root_real) {
        return Err(Error::usage(
            format!(
                "{path} leads outside the repository (through a symbolic link or `..`), so forewarn does not read it"
            ),
            format!(
                "forewarn reads its config, rules, analyses and ledger only from inside the repository: replace {path} with a real file or folder, or set its path in forewarn.toml"
            ),
        ));
    }
    Ok(exists.then_some(full))
}

fn text_of(bytes: Vec<u8>, shown: &str) -> Result<String> {
    String::from_utf8(bytes).map_err(|e| {
        Error::usage(
            format!(
                "{shown} is not valid UTF-8 (byte {})",
                e.utf8_error().valid_up_to()
            ),
            "save rule and config files as UTF-8",
        )
    })
}
