//! Understanding: between the diff and the rules, files whose structure some rule reads are
//! read whole, on both sides, and parsed: migrations into operations ([`crate::migration`]).
//!
//! Only files that a structured rule can apply to are read and parsed, each once, on every
//! core. Whole texts come from the diff when it holds them (an added file's lines are all of
//! it) and from the change's trees otherwise; a side that cannot be read is said to be so, and
//! never taken for an empty file.

use rayon::prelude::*;

use crate::diff::revision::{Read, SideReader};
use crate::diff::{ChangeSet, ChangedFile, FileStatus};
use crate::migration::{self, Analysis, Profile, Sides, state};

/// What understanding one file gave.
#[derive(Debug, Clone, Default)]
pub struct Understood {
    pub migration: Option<Analysis>,
    /// Deploy configuration (YAML, Helm templates, Terraform) read as documents.
    pub manifest: Option<crate::manifest::Analysis>,
}

impl Understood {
    /// Why the file's structure could not be read, when it could not.
    pub fn unread_reason(&self) -> Option<String> {
        match &self.migration {
            Some(Analysis::Unread { framework, reason }) => Some(format!(
                "this {framework} migration could not be parsed ({reason}), so it was read as lines of text"
            )),
            _ => self
                .manifest
                .as_ref()
                .and_then(|m| m.parse_failure())
                .map(|why| {
                    format!("{why}, so it was read as lines of text and line rules apply to it")
                }),
        }
    }
}

/// Reads and parses the files of one change (see the module documentation).
pub struct Understander {
    old: SideReader,
    new: SideReader,
    profile: Profile,
    /// The change is a patch: a file it shows from line 1 may still not be all of the file.
    from_patch: bool,
}

/// A whole side of a file, as read.
enum Text {
    Absent,
    Known(String),
    Unreadable(String),
}

impl Understander {
    pub fn open(change: &ChangeSet, profile: Profile) -> Understander {
        Understander {
            old: SideReader::old(&change.old_side),
            new: SideReader::new(&change.new_side),
            profile,
            from_patch: matches!(change.new_side, crate::diff::NewSide::Patch(_))
                || matches!(change.old_side, crate::diff::OldSide::Patch(_)),
        }
    }

    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    /// Understands the files of `files` for which `wanted` holds; the others get `None`.
    pub fn batch(&self, files: &[ChangedFile], wanted: &[bool]) -> Vec<Option<Understood>> {
        let mut texts: Vec<Option<(Text, Text, bool)>> = Vec::with_capacity(files.len());
        let mut history = state::Loaded::default();
        for (file, &want) in files.iter().zip(wanted) {
            if !want {
                texts.push(None);
                continue;
            }
            let (old, new, moved_in) = self.sides(file);
            if let Text::Known(t) = &new {
                self.load_history(&file.path, t, &mut history);
            }
            texts.push(Some((old, new, moved_in)));
        }
        let profile = &self.profile;
        let history = &history;
        let from_patch = self.from_patch;
        let mut out: Vec<Option<Understood>> = files
            .par_iter()
            .zip(texts.par_iter())
            .map(|(file, sides)| {
                let (old, new, moved_in) = sides.as_ref()?;
                fn pick(t: &Text) -> Option<&str> {
                    match t {
                        Text::Known(s) => Some(s.as_str()),
                        _ => None,
                    }
                }
                let unreadable = [old, new].into_iter().find_map(|t| match t {
                    Text::Unreadable(why) => Some(why.as_str()),
                    _ => None,
                });
                let manifest = crate::manifest::applies_to(&file.path).then(|| {
                    let mut a = crate::manifest::analyze(&file.path, &side(old), &side(new));
                    // An added or deleted file's lines are all of it; another's may be cut.
                    if from_patch && !matches!(file.status, FileStatus::Added | FileStatus::Deleted)
                    {
                        a.patch_shows_part();
                    }
                    a
                });
                let sides = Sides {
                    path: &file.path,
                    // Moved or copied in from outside the migration folders: a new migration.
                    old: if *moved_in { None } else { pick(old) },
                    new: pick(new),
                    unreadable,
                };
                let analysis = migration::analyze(&sides, history, profile);
                Some(Understood {
                    migration: analysis,
                    manifest,
                })
            })
            .collect();
        let mut analyses: Vec<&mut Analysis> = out
            .iter_mut()
            .flatten()
            .filter_map(|u| u.migration.as_mut())
            .collect();
        migration::mark_new_tables(&mut analyses);
        for a in analyses {
            if let Analysis::Parsed { operations, .. } = a {
                migration::sql::mark_validation_in_same_transaction(operations);
            }
        }
        out
    }

    /// Both whole sides of a changed file, and whether it moved in from outside the migration
    /// folders (its old side is then no earlier version of a migration).
    fn sides(&self, file: &ChangedFile) -> (Text, Text, bool) {
        let whole = |lines: &crate::diff::Lines| {
            if lines.is_empty() {
                String::new()
            } else {
                let mut t = lines.joined(0, lines.len() - 1).to_string();
                t.push('\n');
                t
            }
        };
        let read = |side: &SideReader, path: &str| match side.read(path) {
            Read::Absent => Text::Absent,
            Read::Bytes(b) => Text::Known(String::from_utf8_lossy(&b).into_owned()),
            Read::Unreadable(why) => Text::Unreadable(why),
        };
        let new = match file.status {
            FileStatus::Deleted => Text::Absent,
            // An added file's lines are the whole file.
            FileStatus::Added if !file.binary => Text::Known(whole(&file.added)),
            _ => match read(&self.new, &file.path) {
                Text::Unreadable(_)
                    if file.removed.is_empty() && file.status == FileStatus::Added =>
                {
                    Text::Known(whole(&file.added))
                }
                t => t,
            },
        };
        let old_path = file.old_path.as_deref().unwrap_or(&file.path);
        let old = match file.status {
            FileStatus::Added => Text::Absent,
            FileStatus::Deleted if !file.binary => Text::Known(whole(&file.removed)),
            _ => read(&self.old, old_path),
        };
        let moved_in = matches!(file.status, FileStatus::Renamed | FileStatus::Copied)
            && !same_folder_kind(old_path, &file.path);
        (old, new, moved_in)
    }

    /// Reads what a migration's operations are judged against: a Django app's earlier
    /// migrations (when it alters fields), a Rails app's schema dump (when it changes columns).
    fn load_history(&self, path: &str, text: &str, history: &mut state::Loaded) {
        let Some((dir, _)) = path.rsplit_once('/') else {
            return;
        };
        let lower = path.to_ascii_lowercase();
        if lower.ends_with(".py")
            && (text.contains("AlterField")
                || text.contains("AlterUniqueTogether")
                || text.contains("AlterIndexTogether"))
            && !history.folders.contains_key(dir)
        {
            // The new side holds the earlier migrations of this change too.
            let side = if self.new.is_known() {
                &self.new
            } else {
                &self.old
            };
            let files = side.list(dir).map(|names| {
                names
                    .into_iter()
                    .filter(|p| p.ends_with(".py"))
                    .filter_map(|p| match side.read(&p) {
                        Read::Bytes(b) => Some((
                            p.rsplit('/').next().unwrap_or(&p).to_string(),
                            String::from_utf8_lossy(&b).into_owned(),
                        )),
                        _ => None,
                    })
                    .collect()
            });
            history.folders.insert(dir.to_string(), files);
        }
        if lower.ends_with(".rb") && text.contains("change_column") {
            let root = path.rsplit_once("db/").map(|(r, _)| r).unwrap_or("");
            let schema = format!("{root}db/schema.rb");
            if let std::collections::hash_map::Entry::Vacant(slot) = history.old_files.entry(schema)
            {
                let text = match self.old.read(slot.key()) {
                    Read::Bytes(b) => Some(String::from_utf8_lossy(&b).into_owned()),
                    _ => None,
                };
                slot.insert(text);
            }
        }
    }
}

fn side(t: &Text) -> crate::manifest::Side<'_> {
    match t {
        Text::Absent => crate::manifest::Side::Absent,
        Text::Known(s) => crate::manifest::Side::Text(s),
        Text::Unreadable(why) => crate::manifest::Side::Unread(why),
    }
}

/// Whether two paths are migrations of the same kind of folder (a rename inside the
/// migrations, not a move into them).
fn same_folder_kind(old: &str, new: &str) -> bool {
    let folder = |p: &str| {
        p.rsplit_once('/')
            .map(|(d, _)| d.to_string())
            .unwrap_or_default()
    };
    let (a, b) = (folder(old), folder(new));
    a == b || is_migration_folder(&a) == is_migration_folder(&b)
}

fn is_migration_folder(dir: &str) -> bool {
    let d = dir.to_ascii_lowercase();
    [
        "migrations",
        "migrate",
        "migration",
        "versions",
        "changelog",
    ]
    .iter()
    .any(|m| d.split('/').any(|part| part == *m))
}
