//! A symbolic link read as the file it names. A migration folder may hold a link to a file
//! elsewhere in the repository; the tool that runs migrations reads the target, so forewarn
//! reads the target too: a link that moves into a migrations folder is a new migration with the
//! target's lines. A link out of the repository is never followed (it is reported as unread
//! when the link is read), and a link whose target cannot be read is reported, not passed.

use git2::Repository;

use super::content::BinaryCheck;
use crate::diff::revision::{Read, SideReader};
use crate::diff::{ChangeSet, ChangedFile, FileStatus, Lines, Unread};

/// Replaces the lines of each file whose new side is a link (`links`, in the order of `files`)
/// by the lines of the file it names, diffed against what the old side read as.
pub(super) fn read_through(
    repo: &Repository,
    change: &ChangeSet,
    files: &mut [ChangedFile],
    links: impl Iterator<Item = bool>,
    attributes: bool,
) -> Result<(), git2::Error> {
    let old_side = SideReader::old(&change.old_side);
    let new_side = SideReader::new(&change.new_side);
    let mut binary = BinaryCheck::new(repo, Some(attributes));
    for (file, link) in files.iter_mut().zip(links) {
        // A link out of the repository was already reported as unread.
        if !link || file.unread.is_some() {
            continue;
        }
        let target = file
            .added
            .iter()
            .next()
            .map_or_else(String::new, |(_, t)| t.to_string());
        let new = match new_side.read(&file.path) {
            Read::Bytes(bytes) => bytes,
            Read::Absent => {
                unresolved(file, target, "no file by that name at this revision".into());
                continue;
            }
            Read::Unreadable(why) => {
                unresolved(file, target, why);
                continue;
            }
        };
        let old = match file.status {
            FileStatus::Added => Vec::new(),
            _ => match old_side.read(file.old_path.as_deref().unwrap_or(&file.path)) {
                Read::Bytes(bytes) => bytes,
                // The old side's content is unknown or absent: every line of the target is new.
                Read::Absent | Read::Unreadable(_) => Vec::new(),
            },
        };
        file.added = Lines::new();
        file.removed = Lines::new();
        file.binary = false;
        if let Err(reason) = binary.diff_buffers(file, (&old, &new), false) {
            file.binary = true;
            file.added = Lines::new();
            file.removed = Lines::new();
            file.unread = Some(reason);
        }
    }
    Ok(())
}

fn unresolved(file: &mut ChangedFile, target: String, why: String) {
    file.binary = true;
    file.added = Lines::new();
    file.removed = Lines::new();
    file.unread = Some(Unread::SymlinkUnresolved { target, why });
}
