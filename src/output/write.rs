//! Writing reports to files: atomically (a temporary file in the same folder, then a rename), so
//! a CI step that uploads `forewarn.sarif` never reads half a report; and the GitHub job summary,
//! appended to `$GITHUB_STEP_SUMMARY` as GitHub expects.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use super::{Format, RenderContext, Report, render};
use crate::error::{Error, Result};

/// Refuses a report path inside a `.git` folder (after following links): a report written
/// there could replace a hook or the config git runs, so `-o .git/hooks/pre-commit` is an error.
pub fn refuse_git_dir(path: &Path) -> Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let real = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    let named = path.file_name().is_some_and(|n| n == ".git");
    if named || real.components().any(|c| c.as_os_str() == ".git") {
        return Err(Error::usage(
            format!(
                "{} is inside a .git folder; forewarn does not write reports there",
                path.display()
            ),
            "write the report into the working tree or a temporary folder, e.g. -o forewarn-report.txt",
        ));
    }
    Ok(())
}

/// Writes a report to `path` ([`replace`]), never into a `.git` folder ([`refuse_git_dir`]).
pub fn atomic(path: &Path, text: &str) -> Result<()> {
    refuse_git_dir(path)?;
    replace(path, text)
}

/// Writes `text` to `path` through a temporary file in the same folder and a rename: readers see
/// the old file or the whole new one, never a part. A file already there keeps its mode; a new
/// one is 0644. A symbolic link at `path` is replaced, not written through.
pub fn replace(path: &Path, text: &str) -> Result<()> {
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
    // A file already there keeps its mode (its owner chose it); a new report is for everyone
    // who can read the folder, not only its writer (tempfile's 0600).
    let kept = std::fs::symlink_metadata(path)
        .ok()
        .filter(|m| m.is_file())
        .map(|m| m.permissions());
    #[cfg(unix)]
    let kept = kept.or_else(|| {
        use std::os::unix::fs::PermissionsExt;
        Some(std::fs::Permissions::from_mode(0o644))
    });
    if let Some(permissions) = kept {
        tmp.as_file()
            .set_permissions(permissions)
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
