//! `forewarn analysis new "<title>"`: write an analysis record from the template.

use std::path::{Path, PathBuf};

use super::{Context, Outcome};
use crate::analysis::record::{is_kebab_case, slug};
use crate::analysis::template;
use crate::cli::AnalysisCommand;
use crate::config::{self, Config};
use crate::error::{Error, Result};

pub fn run(command: &AnalysisCommand, ctx: &Context) -> Result<Outcome> {
    match command {
        AnalysisCommand::New { title, id } => new(title, id.as_deref(), ctx),
    }
}

/// The repository root (or the starting folder) and its config, without loading any rule: a
/// record can be started even while a rule file is being fixed.
pub(crate) fn root_and_config(cwd: &Path) -> Result<(PathBuf, Config)> {
    let root = git2::Repository::discover(cwd)
        .ok()
        .and_then(|r| r.workdir().map(Path::to_path_buf))
        .unwrap_or_else(|| cwd.to_path_buf());
    let path = root.join(config::FILE_NAME);
    let config = match std::fs::read_to_string(&path) {
        Ok(text) => Config::parse(config::FILE_NAME, &text)?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Config::default(),
        Err(e) => return Err(Error::io("read", path, e)),
    };
    Ok((root, config))
}

fn new(title: &str, id: Option<&str>, ctx: &Context) -> Result<Outcome> {
    let title = title.trim();
    if title.is_empty() {
        return Err(Error::usage(
            "the record needs a title",
            "name the incident by what the system did: forewarn analysis new \"Checkout errors after the 4.2 release\"",
        ));
    }
    let (root, config) = root_and_config(&ctx.cwd)?;
    let today = jiff::ZonedDateTime::now().date();
    let id = match id {
        Some(id) if !is_kebab_case(id) => {
            return Err(Error::usage(
                format!("--id {id:?} is not kebab-case"),
                format!(
                    "ids are lowercase words and digits joined by `-`, as rule links use them: --id {}",
                    slug(id)
                ),
            ));
        }
        Some(id) => id.to_string(),
        None => template::default_id(title, today),
    };
    let dir = root.join(&config.analyses);
    if let Some(other) = record_with_id(&dir, &id) {
        return Err(Error::usage(
            format!(
                "an analysis record with id `{id}` already exists: {}",
                other.display()
            ),
            "give this one another id with --id, or edit the existing record",
        ));
    }
    std::fs::create_dir_all(&dir).map_err(|e| Error::Io {
        action: "create the analyses folder",
        path: dir.clone(),
        source: e,
        help: Some("the folder is set by `analyses` in forewarn.toml".into()),
    })?;
    let path = dir.join(format!("{id}.toml"));
    let shown = format!("{}/{id}.toml", config.analyses.trim_end_matches('/'));
    let text = template::render(&id, title, today);
    // create_new: never replace a record, even one written a moment ago by someone else.
    let name = std::path::PathBuf::from(format!("{id}.toml"));
    crate::atomic_write::create_new(&dir, ".forewarn-", text.as_bytes(), || name.clone()).map_err(
        |e| Error::Io {
            action: "write the record",
            path: path.clone(),
            source: e,
            help: Some(if path.exists() {
                "a file with this name exists; give the record another id with --id".into()
            } else {
                "check that the analyses folder is writable".into()
            }),
        },
    )?;
    Ok(Outcome::ok(format!(
        "wrote {shown} (id {id}, status draft)\n\n\
         Next, during the review:\n  \
         1. fill in the timeline (a source for every entry), the perspectives, the culprit commit and the findings;\n  \
         2. forewarn validate                                   # checks the record and lists what is still empty\n  \
         3. forewarn rule new <rule-id> --finding {id}#F1 --from-culprit\n"
    )))
}

/// A record in `dir` that already has `id`, whatever its file name.
fn record_with_id(dir: &Path, id: &str) -> Option<PathBuf> {
    let named = dir.join(format!("{id}.toml"));
    if named.exists() {
        return Some(named);
    }
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .find(|p| {
            std::fs::read_to_string(p)
                .ok()
                .and_then(|t| t.parse::<toml::Table>().ok())
                .is_some_and(|t| t.get("id").and_then(toml::Value::as_str) == Some(id))
        })
}
