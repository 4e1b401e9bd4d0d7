//! Writing reports to files: atomically (a temporary file in the same folder, then a rename), so
//! a CI step that uploads `forewarn.sarif` never reads half a report; and the GitHub job summary,
//! appended to `$GITHUB_STEP_SUMMARY` as GitHub expects.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use super::{Format, RenderContext, Report, render};
use crate::error::{Error, Result};

/// Writes `text` to `path` through a temporary file in the same folder and a rename: readers see
/// the old file or the whole new one, never a part.
pub fn atomic(path: &Path, text: &str) -> Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let io_error = |e: std::io::Error| Error::Io {
        action: "write the report to",
        path: path.to_path_buf(),
        source: e,
        help: Some("check that the folder exists and is writable".into()),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".forewarn-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(io_error)?;
    tmp.write_all(text.as_bytes()).map_err(io_error)?;
    tmp.as_file().sync_all().map_err(io_error)?;
    // A report is for everyone who can read the folder, not only its writer (tempfile's 0600).
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))
            .map_err(io_error)?;
    }
    tmp.persist(path).map_err(|e| io_error(e.error))?;
    Ok(())
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
    fn append_keeps_what_was_there() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("summary.md");
        append(&path, "one\n").unwrap();
        append(&path, "two\n").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "one\ntwo\n");
    }
}
