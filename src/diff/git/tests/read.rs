//! Reading planned changes: on one thread and on many, in batches, from trees compared
//! directly, and per-thread object databases.

use super::*;
use crate::diff::OldSide;
use crate::diff::git::commit::{commit_jobs, commit_jobs_via_diff, tree_changes};
use crate::diff::git::jobs::{Jobs, diff_options, find_renames, stored_jobs};
use crate::diff::git::open::open_with_own_objects;
use crate::diff::git::read::{PARALLEL_READ_MIN, read_jobs_from};

#[test]
fn a_thread_gets_objects_of_its_own_in_a_clone_a_worktree_and_with_alternates() {
    let s = Scratch::new();
    s.write("a.sql", "CREATE TABLE t (id int);\n");
    s.commit("one");
    s.git(&["gc", "-q"]);
    s.write("a.sql", "CREATE TABLE t (id int);\nDROP TABLE u;\n");
    let head = s.commit("two");
    s.git(&["worktree", "add", "-q", "linked"]);
    let shared = tempfile::tempdir().unwrap();
    git_in(
        shared.path(),
        &[
            "clone",
            "-q",
            "--shared",
            s.path().to_str().unwrap(),
            "clone",
        ],
    );
    let places = [
        s.path().join(".git"),
        s.path().join("linked"),
        shared.path().join("clone"),
    ];
    for place in &places {
        for thread in [0, 3] {
            let (repo, own) = open_with_own_objects(place, thread).unwrap();
            assert!(
                own,
                "{} on thread {thread} kept the shared objects",
                place.display()
            );
            let reader = CommitReader::new(repo);
            let change = reader.changes(&head).unwrap();
            assert_eq!(
                lines(&file(&change, "a.sql").added),
                vec![(2, "DROP TABLE u;")],
                "{}",
                place.display()
            );
        }
    }
    // No commit yet: the shared database stays.
    let empty = Scratch::new();
    let (_, own) = open_with_own_objects(&empty.path().join(".git"), 1).unwrap();
    assert!(!own);
}

#[test]
fn whole_files_read_from_blobs_match_libgit2_lines() {
    let contents: [&[u8]; 9] = [
        b"",
        b"\n",
        b"\n\n",
        b"a",
        b"a\nb",
        b"a\r\nb\r\n",
        b"a\n\nb\n",
        b"\r\n",
        b"x\ry\n",
    ];
    let s = Scratch::new();
    s.write("keep.txt", "k\n");
    s.commit("init");
    for (i, c) in contents.iter().enumerate() {
        s.write(&format!("f{i}.txt"), c);
    }
    // Untracked: libgit2 reads them. Committed: read from their blobs.
    let from_libgit2 = s.changes(&worktree(None)).unwrap();
    s.commit("add");
    let from_blobs = s.changes(&Input::Commit("HEAD".into())).unwrap();
    for i in 0..contents.len() {
        let path = format!("f{i}.txt");
        let (a, b) = (file(&from_libgit2, &path), file(&from_blobs, &path));
        assert_eq!(lines(&a.added), lines(&b.added), "{path}");
        assert_eq!(a.binary, b.binary, "{path}");
    }
    // Deleted from the working tree (read from blobs) and in a commit.
    for i in 0..contents.len() {
        std::fs::remove_file(s.path().join(format!("f{i}.txt"))).unwrap();
    }
    let deleted = s.changes(&worktree(Some("HEAD"))).unwrap();
    for (i, c) in contents.iter().enumerate() {
        let f = file(&deleted, &format!("f{i}.txt"));
        assert_eq!(f.status, FileStatus::Deleted);
        let added = lines(&file(&from_blobs, &format!("f{i}.txt")).added);
        assert_eq!(lines(&f.removed), added, "{c:?}");
    }
}

/// Stored changes are read on every thread past a size; the result must not depend on it.
#[cfg(unix)]
#[test]
fn stored_changes_read_the_same_on_one_thread_and_on_many() {
    let s = Scratch::new();
    s.write(".gitattributes", "*.lock -diff\n*.forced diff\n");
    for i in 0..30 {
        s.write(&format!("src/m{i}.py"), numbered(20));
        s.write(&format!("gone/d{i}.txt"), format!("deleted {i}\n"));
    }
    s.write("deps.lock", "a 1\n");
    s.write("data.forced", "a\0b\n");
    s.write("raw.bin", "a\0b\n");
    s.write("crlf.txt", "one\r\ntwo\r\n");
    s.write("run.sh", "echo\n");
    s.write("link", "target\n");
    s.write("moved/before.rb", numbered(30));
    s.commit("base");
    for i in 0..30 {
        let mut text = numbered(20).replace("line 5\n", &format!("changed {i}\n"));
        text.push_str("appended\n");
        s.write(&format!("src/m{i}.py"), text);
        s.write(&format!("new/a{i}.sql"), format!("DROP TABLE t{i};\n"));
    }
    std::fs::remove_dir_all(s.path().join("gone")).unwrap();
    s.write("deps.lock", "a 2\n");
    s.write("data.forced", "a\0c\n");
    s.write("raw.bin", "a\0c\n");
    s.write("crlf.txt", "one\r\nTWO\r\n");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(
        s.path().join("run.sh"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    std::fs::remove_file(s.path().join("link")).unwrap();
    std::os::unix::fs::symlink("elsewhere", s.path().join("link")).unwrap();
    std::fs::create_dir_all(s.path().join("moved/after")).unwrap();
    std::fs::rename(
        s.path().join("moved/before.rb"),
        s.path().join("moved/after/after.rb"),
    )
    .unwrap();
    s.write(
        "moved/after/after.rb",
        numbered(30).replace("line 3\n", "edited\n"),
    );
    s.commit("change");
    let repo = s.repo();
    let tree = |rev: &str| repo.revparse_single(rev).unwrap().peel_to_tree().unwrap();
    let (old, new) = (tree("HEAD~1"), tree("HEAD"));
    let mut diff = repo
        .diff_tree_to_tree(Some(&old), Some(&new), Some(&mut diff_options()))
        .unwrap();
    find_renames(&repo, &mut diff, false).unwrap();
    assert!(diff.deltas().len() >= PARALLEL_READ_MIN);
    let jobs = stored_jobs(&diff);
    let read = |parallel| {
        read_jobs_from(
            &repo,
            None,
            (&jobs.files, &jobs.reads),
            0,
            usize::MAX,
            parallel,
            (None, None),
        )
    };
    let (one, _) = read(false).unwrap();
    let (many, _) = read(true).unwrap();
    assert_eq!(one, many);
    let set = ChangeSet {
        files: many,
        commits: Vec::new(),
        new_side: NewSide::DiffOnly,
        old_side: OldSide::DiffOnly,
        description: String::new(),
        head_commit: None,
    };
    assert_eq!(
        lines(&file(&set, "src/m7.py").added),
        [(5, "changed 7"), (21, "appended")]
    );
    assert_eq!(lines(&file(&set, "src/m7.py").removed), [(5, "line 5")]);
    assert_eq!(
        lines(&file(&set, "new/a3.sql").added),
        [(1, "DROP TABLE t3;")]
    );
    assert_eq!(
        lines(&file(&set, "gone/d4.txt").removed),
        [(1, "deleted 4")]
    );
    assert!(file(&set, "deps.lock").binary);
    assert!(file(&set, "raw.bin").binary);
    let forced = file(&set, "data.forced");
    assert!(!forced.binary);
    assert_eq!(lines(&forced.added), [(1, "a\0c")]);
    assert_eq!(lines(&file(&set, "crlf.txt").added), [(2, "TWO")]);
    assert_eq!(file(&set, "run.sh").status, FileStatus::Mode);
    let link = file(&set, "link");
    assert_eq!(lines(&link.added), [(1, "elsewhere")]);
    assert_eq!(lines(&link.removed), [(1, "target")]);
    let moved = file(&set, "moved/after/after.rb");
    assert_eq!(moved.status, FileStatus::Renamed);
    assert_eq!(moved.old_path.as_deref(), Some("moved/before.rb"));
    assert_eq!(lines(&moved.added), [(3, "edited")]);
}

/// A planned change read in small batches gives the same files as reading it at once.
#[test]
fn a_planned_change_reads_in_batches_without_gaps() {
    let s = Scratch::new();
    for i in 0..90 {
        s.write(&format!("src/f{i:02}.py"), numbered(8));
    }
    s.commit("base");
    for i in 0..90 {
        let text = numbered(8).replace("line 4\n", &format!("four {i}\n"));
        s.write(&format!("src/f{i:02}.py"), text);
        s.write(&format!("db/{i:02}.sql"), format!("DROP TABLE t{i};\n"));
    }
    s.commit("change");
    let repo = s.repo();
    let input = Input::Range {
        base: "HEAD~1".into(),
        head: "HEAD".into(),
    };
    let whole = changes(&repo, &input, None).unwrap();
    let planned = plan(&repo, &input, None).unwrap();
    assert_eq!(planned.skeleton.files.len(), 180);
    assert!(planned.skeleton.files.iter().all(|f| f.added.is_empty()));
    assert_eq!(planned.skeleton.commits, whole.commits);
    for budget in [1, 300, usize::MAX] {
        let (mut files, mut at, mut batches) = (Vec::new(), 0, 0);
        while at < planned.skeleton.files.len() {
            let (batch, next) = planned.read_batch(at, budget).unwrap();
            assert!(next > at && batch.len() == next - at, "{at} -> {next}");
            files.extend(batch);
            at = next;
            batches += 1;
        }
        assert_eq!(files, whole.files, "budget {budget}");
        if budget == 300 {
            assert!(batches > 2, "{batches} batches");
        }
    }
    // The working tree's lines come from its diff, on this thread, in batches too.
    for i in 0..30 {
        s.write(&format!("src/f{i:02}.py"), format!("edited {i}\n"));
        s.write(&format!("new/u{i:02}.sql"), format!("DROP TABLE u{i};\n"));
    }
    let input = worktree(Some("HEAD"));
    let whole = changes(&repo, &input, None).unwrap();
    let planned = plan(&repo, &input, None).unwrap();
    let (mut files, mut at) = (Vec::new(), 0);
    while at < planned.skeleton.files.len() {
        let (batch, next) = planned.read_batch(at, 40).unwrap();
        assert!(next > at && batch.len() == next - at, "{at} -> {next}");
        files.extend(batch);
        at = next;
    }
    assert_eq!(files.len(), 60);
    assert_eq!(files, whole.files);
    assert_eq!(
        lines(&file(&whole, "new/u07.sql").added),
        [(1, "DROP TABLE u7;")]
    );
}

/// One commit's files come from comparing its trees directly (backtest replays thousands);
/// they must be what libgit2's diff gives.
#[cfg(unix)]
#[test]
fn a_commit_read_from_its_trees_matches_the_diff() {
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::fs::PermissionsExt;
    let s = Scratch::new();
    s.write(".gitattributes", "*.lock -diff\n");
    s.write("a/b/c.txt", numbered(5));
    s.write("a/b.txt", "sorts after the folder a/b\n");
    s.write("a-b.txt", "sorts before a/\n");
    s.write("keep/x.py", "x = 1\n");
    s.write("doomed/deep/er/f.sql", "DROP TABLE t;\n");
    s.write("doomed/g.sql", "SELECT 1;\n");
    s.write("run.sh", "echo\n");
    s.write("link", "plain\n");
    s.write("deps.lock", "a 1\n");
    s.commit("base");
    // Additions and edits only: new nested folders, a mode flip, a symlink, binary files.
    s.write("a/b/c.txt", numbered(5).replace("line 2\n", "two\n"));
    s.write("a/b/new/inner/n.rb", "add_column :t, :c\n");
    s.write("fresh/one.sql", "CREATE TABLE x (id int);\n");
    s.write("deps.lock", "a 2\n");
    s.write("raw.bin", "a\0b\n");
    std::fs::set_permissions(
        s.path().join("run.sh"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    std::fs::remove_file(s.path().join("link")).unwrap();
    std::os::unix::fs::symlink("target", s.path().join("link")).unwrap();
    let odd = std::ffi::OsStr::from_bytes(b"caf\xe9.txt");
    std::fs::write(s.path().join(odd), b"ok\n").unwrap();
    s.commit("adds");
    // A submodule entry, added to the index by hand.
    s.git(&[
        "update-index",
        "--add",
        "--cacheinfo",
        "160000,0123456789012345678901234567890123456789,vendor/sub",
    ]);
    s.git(&["commit", "-q", "-m", "submodule"]);
    // Deletions and edits only: a nested folder goes, the symlink turns back into a file.
    std::fs::remove_dir_all(s.path().join("doomed")).unwrap();
    std::fs::remove_file(s.path().join("link")).unwrap();
    s.write("link", "plain again\n");
    s.write("keep/x.py", "x = 2\n");
    s.commit("deletes");
    // A file that becomes a folder: an addition and a deletion, so the diff decides.
    std::fs::remove_file(s.path().join("a-b.txt")).unwrap();
    s.write("a-b.txt/inside.txt", "now a folder\n");
    s.commit("file to folder");
    let repo = s.repo();
    let tree = |rev: &str| repo.revparse_single(rev).unwrap().peel_to_tree().unwrap();
    for rev in ["HEAD~3", "HEAD~2", "HEAD~1", "HEAD"] {
        let (old, new) = (tree(&format!("{rev}^")), tree(rev));
        let read = |jobs: Jobs| {
            read_jobs_from(
                &repo,
                None,
                (&jobs.files, &jobs.reads),
                0,
                usize::MAX,
                false,
                (None, None),
            )
            .unwrap()
            .0
        };
        let direct = read(commit_jobs(&repo, rev, &old, &new).unwrap());
        let mut changes = Vec::new();
        tree_changes(&repo, &old, &new, &mut Vec::new(), &mut changes).unwrap();
        let parent = Some((&old, changes.as_slice()));
        let via_diff = read(commit_jobs_via_diff(&repo, rev, parent, &new).unwrap());
        assert_eq!(direct, via_diff, "{rev}");
        assert!(!direct.is_empty(), "{rev}");
    }
    let set = s.changes(&Input::Commit("HEAD~3".into())).unwrap();
    assert_eq!(file(&set, "run.sh").status, FileStatus::Mode);
    assert!(file(&set, "deps.lock").binary);
    assert_eq!(
        lines(&file(&set, "a/b/new/inner/n.rb").added),
        [(1, "add_column :t, :c")]
    );
    let set = s.changes(&Input::Commit("HEAD~1".into())).unwrap();
    assert_eq!(
        lines(&file(&set, "doomed/deep/er/f.sql").removed),
        [(1, "DROP TABLE t;")]
    );
}
