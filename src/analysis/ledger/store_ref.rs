//! The ledger on a ref of the repository (`refs/forewarn/ledger`): a commit whose tree holds one
//! blob per event, `events/<yyyy>/<name>.json`, under the name the event has in the folder.
//!
//! Appending builds a new commit on the current tip whose tree is the union of the tip's events
//! and the new ones. Event names are unique, so two writers never add the same path with
//! different content and rebuilding on a newer tip never conflicts. An event already on the ref
//! is never replaced. Everything here is git2 and local; moving the ref between repositories is
//! [`super::push`].

use std::collections::BTreeMap;

use git2::{Oid, Repository, Signature, Tree, TreeWalkMode, TreeWalkResult};

use super::Named;
use super::folder::parse;
use crate::error::{Error, Result};

/// The ref the ledger lives on.
pub const REF: &str = "refs/forewarn/ledger";

/// The folder of the tree that holds the events.
const EVENTS: &str = "events";

fn git_err(what: &str) -> impl Fn(git2::Error) -> Error + '_ {
    move |e| {
        Error::repository(
            format!("could not {what}: {}", e.message()),
            "check that the repository is writable and not corrupt (`git fsck`)",
        )
    }
}

/// The year folder an event goes in: the first four characters of its name, which starts with
/// the time it was recorded.
fn year_of(name: &str) -> &str {
    match name.get(..4) {
        Some(y) if y.bytes().all(|b| b.is_ascii_digit()) => y,
        _ => "other",
    }
}

/// Where an event is stored on the ref.
pub fn path_of(name: &str) -> String {
    format!("{EVENTS}/{}/{name}", year_of(name))
}

/// The commit `refname` points at, if it exists.
pub fn tip(repo: &Repository, refname: &str) -> Option<Oid> {
    repo.refname_to_id(refname).ok()
}

/// Every event on `refname`, with its name; a blob that is not an event is named in a warning
/// (`refs/forewarn/ledger:events/2024/x.json is not a ledger event (...)`) and the rest is read.
/// A missing ref is an empty ledger.
pub fn read(repo: &Repository, refname: &str) -> (Vec<Named>, Vec<String>) {
    let mut named = Vec::new();
    let mut warnings = Vec::new();
    let Some(oid) = tip(repo, refname) else {
        return (named, warnings);
    };
    let tree = match repo.find_commit(oid).and_then(|c| c.tree()) {
        Ok(tree) => tree,
        Err(e) => {
            warnings.push(format!(
                "{refname} could not be read ({}); its events were skipped",
                e.message()
            ));
            return (named, warnings);
        }
    };
    let _ = tree.walk(TreeWalkMode::PreOrder, |root, entry| {
        let Ok(name) = entry.name() else {
            return TreeWalkResult::Ok;
        };
        if entry.kind() != Some(git2::ObjectType::Blob) || !name.ends_with(".json") {
            return TreeWalkResult::Ok;
        }
        let where_ = format!("{refname}:{root}{name}");
        match repo.find_blob(entry.id()) {
            Ok(blob) => match parse(blob.content(), &where_) {
                Ok(event) => named.push(Named {
                    name: name.to_string(),
                    event,
                }),
                Err(warning) => warnings.push(warning),
            },
            Err(e) => warnings.push(format!(
                "{where_} could not be read ({}); it was skipped",
                e.message()
            )),
        }
        TreeWalkResult::Ok
    });
    (named, warnings)
}

/// The event blobs on `refname` as `(name, bytes)`, unparsed: what a push carries over.
pub fn files(repo: &Repository, refname: &str) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    let Some(tree) = tip(repo, refname).and_then(|oid| repo.find_commit(oid).ok()?.tree().ok())
    else {
        return files;
    };
    let _ = tree.walk(TreeWalkMode::PreOrder, |_, entry| {
        if let (Ok(name), Some(git2::ObjectType::Blob)) = (entry.name(), entry.kind())
            && name.ends_with(".json")
            && let Ok(blob) = repo.find_blob(entry.id())
        {
            files.push((name.to_string(), blob.content().to_vec()));
        }
        TreeWalkResult::Ok
    });
    files
}

/// A subtree of `tree` by name, if it is one.
fn subtree<'r>(repo: &'r Repository, tree: Option<&Tree<'r>>, name: &str) -> Option<Tree<'r>> {
    let entry = tree?.get_name(name)?;
    repo.find_tree(entry.id()).ok()
}

/// A commit on `parent` holding its events and `files` (`(name, bytes)`), or `None` when every
/// file is on `parent` already. Returns the commit and how many events it adds. No ref moves.
pub fn build(
    repo: &Repository,
    parent: Option<Oid>,
    files: &[(String, Vec<u8>)],
) -> Result<Option<(Oid, usize)>> {
    let parent = match parent {
        Some(oid) => Some(
            repo.find_commit(oid)
                .map_err(git_err("read the ledger tip"))?,
        ),
        None => None,
    };
    let root = match &parent {
        Some(c) => Some(c.tree().map_err(git_err("read the ledger tree"))?),
        None => None,
    };
    let events = subtree(repo, root.as_ref(), EVENTS);
    let mut by_year: BTreeMap<&str, Vec<&(String, Vec<u8>)>> = BTreeMap::new();
    for file in files {
        by_year.entry(year_of(&file.0)).or_default().push(file);
    }
    let mut events_builder = repo
        .treebuilder(events.as_ref())
        .map_err(git_err("build the ledger tree"))?;
    let mut added = 0;
    for (year, files) in by_year {
        let existing = subtree(repo, events.as_ref(), year);
        let mut builder = repo
            .treebuilder(existing.as_ref())
            .map_err(git_err("build the ledger tree"))?;
        let mut changed = false;
        for (name, bytes) in files {
            if builder
                .get(name.as_str())
                .map_err(git_err("build the ledger tree"))?
                .is_some()
            {
                continue;
            }
            let blob = repo.blob(bytes).map_err(git_err("store a ledger event"))?;
            builder
                .insert(name.as_str(), blob, 0o100644)
                .map_err(git_err("build the ledger tree"))?;
            added += 1;
            changed = true;
        }
        if changed {
            let oid = builder.write().map_err(git_err("write the ledger tree"))?;
            events_builder
                .insert(year, oid, 0o040000)
                .map_err(git_err("build the ledger tree"))?;
        }
    }
    if added == 0 {
        return Ok(None);
    }
    let events_oid = events_builder
        .write()
        .map_err(git_err("write the ledger tree"))?;
    let mut root_builder = repo
        .treebuilder(root.as_ref())
        .map_err(git_err("build the ledger tree"))?;
    root_builder
        .insert(EVENTS, events_oid, 0o040000)
        .map_err(git_err("build the ledger tree"))?;
    let tree_oid = root_builder
        .write()
        .map_err(git_err("write the ledger tree"))?;
    let tree = repo
        .find_tree(tree_oid)
        .map_err(git_err("write the ledger tree"))?;
    // No person's name: the ledger is written by the tool.
    let sig = Signature::now("forewarn", "forewarn@ledger.invalid")
        .map_err(git_err("sign the ledger commit"))?;
    let parents: Vec<&git2::Commit> = parent.iter().collect();
    let message = format!(
        "forewarn ledger: {}\n",
        crate::analysis::links::plural(added, "event")
    );
    let oid = repo
        .commit(None, &sig, &sig, &message, &tree, &parents)
        .map_err(git_err("write the ledger commit"))?;
    Ok(Some((oid, added)))
}

/// Adds `files` to the ledger ref of this repository, with no remote: the tip moves only if it
/// is still the one the commit was built on. Returns how many events were added.
pub fn append_local(repo: &Repository, files: &[(String, Vec<u8>)]) -> Result<usize> {
    for _ in 0..16 {
        let current = tip(repo, REF);
        let Some((oid, added)) = build(repo, current, files)? else {
            return Ok(0);
        };
        let moved = match current {
            Some(old) => repo.reference_matching(REF, oid, true, old, "forewarn ledger: append"),
            None => repo.reference(REF, oid, false, "forewarn ledger: start"),
        };
        if moved.is_ok() {
            return Ok(added);
        }
    }
    Err(Error::repository(
        format!("{REF} kept moving while events were added to it"),
        "run the command again",
    ))
}

/// Moves the local ledger ref to `oid` when that only adds to it (a fast-forward, or no ref
/// yet); otherwise leaves it. Best effort: the remote is the ledger of record.
pub fn advance_local(repo: &Repository, oid: Oid) {
    match tip(repo, REF) {
        None => {
            let _ = repo.reference(REF, oid, false, "forewarn ledger: pushed");
        }
        Some(old) if old == oid => {}
        Some(old) => {
            if repo.graph_descendant_of(oid, old).unwrap_or(false) {
                let _ = repo.reference_matching(REF, oid, true, old, "forewarn ledger: pushed");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str) -> (String, Vec<u8>) {
        let event = super::super::Event {
            version: 1,
            time: "2024-05-01T00:00:00Z".into(),
            rule: name.into(),
            ..Default::default()
        };
        (
            name.to_string(),
            super::super::folder::to_json(&event).into_bytes(),
        )
    }

    #[test]
    fn appends_are_a_union_and_never_replace_an_event() {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repository::init_bare(dir.path()).unwrap();
        assert_eq!(
            append_local(&repo, &[file("2024a.json"), file("2024b.json")]).unwrap(),
            2
        );
        assert_eq!(
            append_local(&repo, &[file("2024b.json"), file("2023c.json")]).unwrap(),
            1
        );
        assert_eq!(append_local(&repo, &[file("2024a.json")]).unwrap(), 0);
        // A file of the same name with other bytes is not taken: the first one stays.
        let mut changed = file("2024a.json");
        changed.1 = b"{}".to_vec();
        assert_eq!(append_local(&repo, &[changed]).unwrap(), 0);
        let (named, warnings) = read(&repo, REF);
        assert!(warnings.is_empty(), "{warnings:?}");
        let mut names: Vec<&str> = named.iter().map(|n| n.name.as_str()).collect();
        names.sort_unstable();
        assert_eq!(names, ["2023c.json", "2024a.json", "2024b.json"]);
        assert_eq!(path_of("2024a.json"), "events/2024/2024a.json");
        assert_eq!(path_of("x.json"), "events/other/x.json");
    }
}
