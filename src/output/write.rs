//! Writing reports to files: atomically (a temporary file in the same folder, then a rename), so
//! a CI step that uploads `forewarn.sarif` never reads half a report; and the GitHub job summary,
//! appended to `$GITHUB_STEP_SUMMARY` as GitHub expects.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use super::{Format, RenderContext, Report, render};
use crate::error::{Error, Result};

pub use crate::atomic_write::refuse_git_dir;

/// Writes a report to `path` ([`replace`]), never into a `.git` folder ([`refuse_git_dir`]).
pub fn atomic(path: &Path, text: &str) -> Result<()> {
    refuse_git_dir(path)?;
    replace(path, text)
}

/// Writes `text` to `path` whole or not at all ([`crate::atomic_write::replace`]): a file already
/// there keeps its mode; a new one is 0644. A symbolic link at `path` is replaced, not written
/// through.
pub fn replace(path: &Path, text: &str) -> Result<()> {
    crate::atomic_write::replace(path, text.as_bytes()).map_err(|e| Error::Io {
        action: "write the report to",
        path: path.to_path_buf(),
        source: e,
        help: Some("check that the folder exists and is writable".into()),
    })
}

/// Appends to a file, creating it: GitHub gives each step its own `$GITHUB_STEP_SUMMARY` file and
/// reads whatever the step appended.
pub fn append(path: &Path, text: &str) -> Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .and_then(|mut f| f.write_all(text.as_bytes()).map(|()| f))
        .map_err(|e| Error::Io {
            action: "append the job summary to",
            path: path.to_path_buf(),
            source: e,
            help: Some("GITHUB_STEP_SUMMARY names a file the runner creates; unset it outside GitHub Actions".into()),
        })?;
    file.flush()
        .map_err(|e| Error::io("append the job summary to", path, e))
}

/// The reports a run writes besides its main output: one file per `(format, path)` (from
/// `--sarif-file` and the like), and, for `--format github`, the job summary when
/// `GITHUB_STEP_SUMMARY` is set.
pub fn side_reports(
    report: &Report,
    format: Format,
    files: &[(Format, PathBuf)],
    ctx: &RenderContext<'_>,
) -> Result<()> {
    let plain = RenderContext {
        color: false,
        width: None,
        ..*ctx
    };
    for (file_format, path) in files {
        atomic(path, &render(report, *file_format, &plain))?;
    }
    if format != Format::Github {
        return Ok(());
    }
    if let Some(summary) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) {
        let mut text = super::github::step_summary(report);
        text.push('\n');
        append(Path::new(&summary), &text)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_the_whole_file_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.sarif");
        std::fs::write(&path, "old old old old").unwrap();
        atomic(&path, "new").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["out.sarif"]);
    }

    #[test]
    fn atomic_write_into_a_missing_folder_says_how_to_fix_it() {
        let dir = tempfile::tempdir().unwrap();
        let err = atomic(&dir.path().join("no/such/out.json"), "x").unwrap_err();
        let text = err.render(false);
        assert!(text.contains("cannot write the report to"), "{text}");
        assert!(text.contains("folder exists"), "{text}");
    }

    #[test]
    fn reports_are_not_written_into_a_git_folder() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join(".git/hooks")).unwrap();
        for path in [".git/hooks/pre-commit", ".git/config", ".git"] {
            let err = atomic(&dir.path().join(path), "x").unwrap_err();
            assert!(err.to_string().contains("inside a .git folder"), "{err}");
        }
        assert!(!dir.path().join(".git/hooks/pre-commit").exists());
        // Through a link to it, too.
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(dir.path().join(".git"), dir.path().join("out")).unwrap();
            assert!(atomic(&dir.path().join("out/config"), "x").is_err());
        }
    }

    #[cfg(unix)]
    #[test]
    fn an_existing_file_keeps_its_mode_and_a_new_one_is_0644() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let kept = dir.path().join("private.json");
        std::fs::write(&kept, "old").unwrap();
        std::fs::set_permissions(&kept, std::fs::Permissions::from_mode(0o600)).unwrap();
        atomic(&kept, "new").unwrap();
        assert_eq!(mode(&kept), 0o600);
        let new = dir.path().join("new.json");
        atomic(&new, "new").unwrap();
        assert_eq!(mode(&new), 0o644);
    }

    #[test]
    fn append_keeps_what_was_there() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("summary.md");
        append(&path, "one\n").unwrap();
        append(&path, "two\n").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "one\ntwo\n");
    }
}
