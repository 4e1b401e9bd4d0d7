//! What is read as text and how: renames, binary and attribute-marked files, CRLF, non-UTF-8
//! names, modes, links, submodules, and new versions read from inside the repository only.

use super::*;

#[test]
fn renames_keep_the_old_path_and_only_edited_lines() {
    let s = Scratch::new();
    s.write("db/0001_init.sql", numbered(20));
    s.write("docs/guide.md", numbered(20));
    s.commit("init");
    std::fs::create_dir_all(s.path().join("db/migrations")).unwrap();
    s.git(&["mv", "db/0001_init.sql", "db/migrations/0001_init.sql"]);
    s.write(
        "db/migrations/0001_init.sql",
        numbered(20).replace("line 7\n", "line seven\n"),
    );
    s.commit("move");
    let set = s.changes(&Input::Commit("HEAD".into())).unwrap();
    assert_eq!(set.files.len(), 1, "{:#?}", set.files);
    let f = &set.files[0];
    assert_eq!(f.status, FileStatus::Renamed);
    assert_eq!(f.path, "db/migrations/0001_init.sql");
    assert_eq!(f.old_path.as_deref(), Some("db/0001_init.sql"));
    assert_eq!(lines(&f.added), [(7, "line seven")]);
    assert_eq!(lines(&f.removed), [(7, "line 7")]);

    // In the working tree, a plain `mv` (deleted file + untracked file) is a rename too.
    std::fs::rename(
        s.path().join("docs/guide.md"),
        s.path().join("docs/handbook.md"),
    )
    .unwrap();
    let set = s.changes(&worktree(None)).unwrap();
    assert_eq!(set.files.len(), 1, "{:#?}", set.files);
    assert_eq!(set.files[0].status, FileStatus::Renamed);
    assert_eq!(set.files[0].path, "docs/handbook.md");
    assert_eq!(set.files[0].old_path.as_deref(), Some("docs/guide.md"));
    assert!(set.files[0].added.is_empty());
}

#[test]
fn binary_deleted_and_crlf_files() {
    let s = Scratch::new();
    s.write("old.txt", "first\nsecond\n");
    s.commit("init");
    std::fs::remove_file(s.path().join("old.txt")).unwrap();
    s.write("logo.png", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0");
    s.write("win.bat", "echo on\r\nset A=1\r\n");
    let set = s.changes(&worktree(None)).unwrap();
    let old = file(&set, "old.txt");
    assert_eq!(old.status, FileStatus::Deleted);
    assert_eq!(lines(&old.removed), [(1, "first"), (2, "second")]);
    let logo = file(&set, "logo.png");
    assert!(logo.binary);
    assert!(logo.added.is_empty());
    let win = file(&set, "win.bat");
    assert!(!win.binary);
    assert_eq!(lines(&win.added), [(1, "echo on"), (2, "set A=1")]);
    // Committed, the same holds.
    s.commit("second");
    let set = s.changes(&Input::Commit("HEAD".into())).unwrap();
    assert!(file(&set, "logo.png").binary);
    assert_eq!(file(&set, "old.txt").status, FileStatus::Deleted);
    assert_eq!(lines(&file(&set, "win.bat").added)[1], (2, "set A=1"));
}

#[test]
fn gitattributes_can_mark_text_binary() {
    let s = Scratch::new();
    s.write(
        ".gitattributes",
        "*.lock -diff\n*.dat binary\n*.py diff=python\n*.enc diff=sops\n",
    );
    s.git(&["config", "diff.sops.binary", "true"]);
    s.write("a.txt", "a\n");
    s.commit("init");
    s.write("yarn.lock", "a@1:\n  version 1\n");
    s.write("blob.dat", "text really\n");
    s.write("app.py", "x = 1\n");
    s.write("secrets.enc", "ENC[abc]\n");
    s.write("old.lock", "x\n");
    s.commit("add");
    std::fs::remove_file(s.path().join("old.lock")).unwrap();
    s.write("new.lock", "untracked\n");
    s.write("plain.txt", "plain\n");
    for input in [Input::Commit("HEAD".into()), worktree(Some("HEAD~1"))] {
        let set = s.changes(&input).unwrap();
        for path in ["yarn.lock", "blob.dat", "secrets.enc"] {
            let f = file(&set, path);
            assert!(f.binary && f.added.is_empty(), "{path}: {f:?}");
        }
        assert_eq!(lines(&file(&set, "app.py").added), [(1, "x = 1")]);
    }
    let set = s.changes(&worktree(Some("HEAD"))).unwrap();
    assert!(file(&set, "old.lock").binary);
    assert!(file(&set, "new.lock").binary);
    assert!(!file(&set, "plain.txt").binary);
}

#[cfg(unix)]
#[test]
fn non_utf8_names_and_content_do_not_panic() {
    use std::os::unix::ffi::OsStrExt;
    let s = Scratch::new();
    s.write("a.txt", "a\n");
    s.commit("init");
    let name = std::ffi::OsStr::from_bytes(b"caf\xe9.txt");
    std::fs::write(s.path().join(name), b"ok\n\xff\xfe latin\n").unwrap();
    s.write("latin1.txt", b"caf\xe9\n");
    let set = s.changes(&worktree(None)).unwrap();
    let f = file(&set, "caf\u{fffd}.txt");
    assert_eq!(lines(&f.added), [(1, "ok"), (2, "\u{fffd}\u{fffd} latin")]);
    assert_eq!(lines(&file(&set, "latin1.txt").added), [(1, "caf\u{fffd}")]);
    s.commit("names");
    let set = s.changes(&Input::Commit("HEAD".into())).unwrap();
    assert_eq!(set.files.len(), 2);
}

#[cfg(unix)]
#[test]
fn mode_only_changes_and_symlinks() {
    use std::os::unix::fs::PermissionsExt;
    let s = Scratch::new();
    s.write("run.sh", "echo hi\n");
    s.write("edit.sh", "echo a\n");
    s.write("became_link", "text\n");
    s.commit("init");
    for name in ["run.sh", "edit.sh"] {
        let path = s.path().join(name);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    s.write("edit.sh", "echo b\n");
    std::os::unix::fs::symlink("run.sh", s.path().join("link")).unwrap();
    std::fs::remove_file(s.path().join("became_link")).unwrap();
    std::os::unix::fs::symlink("edit.sh", s.path().join("became_link")).unwrap();
    let set = s.changes(&worktree(None)).unwrap();
    assert_eq!(file(&set, "run.sh").status, FileStatus::Mode);
    assert_eq!(file(&set, "edit.sh").status, FileStatus::Modified);
    let link = file(&set, "link");
    assert_eq!(link.status, FileStatus::Added);
    // A link inside the repository is read as the file it names.
    assert_eq!(lines(&link.added), [(1, "echo hi")]);
    let typechange = file(&set, "became_link");
    assert_eq!(typechange.status, FileStatus::Modified);
    assert_eq!(lines(&typechange.added), [(1, "echo b")]);
    assert_eq!(lines(&typechange.removed), [(1, "text")]);
    s.commit("modes");
    let set = s.changes(&Input::Commit("HEAD".into())).unwrap();
    assert_eq!(file(&set, "run.sh").status, FileStatus::Mode);
    assert_eq!(
        read_new_file(&set.new_side, "link").as_deref(),
        Some(&b"run.sh"[..])
    );
}

#[test]
fn submodules_are_files_without_lines() {
    let sub = Scratch::new();
    sub.write("lib.txt", "v1\n");
    sub.commit("v1");
    let s = Scratch::new();
    s.write("a.txt", "a\n");
    s.commit("init");
    let url = sub.path().display().to_string();
    s.git(&["submodule", "add", "-q", &url, "vendor/lib"]);
    s.commit("add submodule");
    let set = s.changes(&Input::Commit("HEAD".into())).unwrap();
    let added = file(&set, "vendor/lib");
    assert_eq!(added.status, FileStatus::Added);
    assert!(added.added.is_empty() && !added.binary);
    assert_eq!(read_new_file(&set.new_side, "vendor/lib"), None);

    // Move the submodule to a new commit.
    let checkout = s.path().join("vendor/lib");
    std::fs::write(checkout.join("lib.txt"), "v2\n").unwrap();
    git_in(&checkout, &["commit", "-q", "-am", "v2"]);
    let set = s.changes(&worktree(None)).unwrap();
    let moved = file(&set, "vendor/lib");
    assert_eq!(moved.status, FileStatus::Modified);
    assert!(moved.added.is_empty() && moved.removed.is_empty());
    assert_eq!(read_new_file(&set.new_side, "vendor/lib"), None);
    s.git(&["add", "vendor/lib"]);
    let set = s.changes(&Input::Staged).unwrap();
    assert_eq!(file(&set, "vendor/lib").status, FileStatus::Modified);
    assert_eq!(read_new_file(&set.new_side, "vendor/lib"), None);
}

#[test]
fn read_new_file_stays_inside_the_worktree() {
    let s = Scratch::new();
    s.write("dir/a.txt", "a\n");
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret"), "s\n").unwrap();
    let side = NewSide::Worktree(s.path().to_path_buf());
    assert_eq!(
        read_new_file(&side, "dir/a.txt").as_deref(),
        Some(&b"a\n"[..])
    );
    assert_eq!(read_new_file(&side, "dir"), None);
    assert_eq!(read_new_file(&side, "missing.txt"), None);
    assert_eq!(read_new_file(&side, "../x"), None);
    assert_eq!(read_new_file(&side, "/etc/passwd"), None);
    assert_eq!(read_new_file(&side, ""), None);
    assert_eq!(read_new_file(&NewSide::DiffOnly, "dir/a.txt"), None);
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(outside.path(), s.path().join("out")).unwrap();
        std::os::unix::fs::symlink(outside.path().join("secret"), s.path().join("link")).unwrap();
        assert_eq!(read_new_file(&side, "out/secret"), None);
        let target = read_new_file(&side, "link").unwrap();
        assert_eq!(
            target,
            outside.path().join("secret").as_os_str().as_encoded_bytes()
        );
    }
    let gone = NewSide::Commit {
        repo: s.path().to_path_buf(),
        commit: "0".repeat(40),
    };
    assert_eq!(read_new_file(&gone, "dir/a.txt"), None);
    assert_eq!(
        read_new_file(&NewSide::Index(outside.path().into()), "x"),
        None
    );
}
