//! Each input: the working tree, a range, the index, one commit, and the errors that explain
//! a base, a revision or a history that is missing.

use super::*;

#[test]
fn working_tree_has_committed_staged_unstaged_and_untracked_changes() {
    let s = Scratch::new();
    s.write("app.py", numbered(5));
    s.write(".gitignore", "*.log\n");
    let base = s.commit("init");
    s.git(&["checkout", "-q", "-b", "feature"]);
    s.write("committed.txt", "one\n");
    let first = s.commit("add committed.txt\n\nForewarn-Ack: some-rule: checked by hand");
    s.write("app.py", numbered(5).replace("line 3", "line three"));
    s.write("staged.txt", "staged\n");
    s.git(&["add", "staged.txt"]);
    s.write(
        "dir/deep/untracked.sql",
        "CREATE TABLE t ();\nDROP TABLE u;\n",
    );
    s.write("debug.log", "ignored\n");

    let set = s.changes(&worktree(None)).unwrap();
    let mut paths: Vec<&str> = set.files.iter().map(|f| f.path.as_str()).collect();
    paths.sort();
    assert_eq!(
        paths,
        [
            "app.py",
            "committed.txt",
            "dir/deep/untracked.sql",
            "staged.txt"
        ]
    );
    let app = file(&set, "app.py");
    assert_eq!(app.status, FileStatus::Modified);
    assert_eq!(lines(&app.added), [(3, "line three")]);
    assert_eq!(lines(&app.removed), [(3, "line 3")]);
    let untracked = file(&set, "dir/deep/untracked.sql");
    assert_eq!(untracked.status, FileStatus::Added);
    assert_eq!(
        lines(&untracked.added),
        [(1, "CREATE TABLE t ();"), (2, "DROP TABLE u;")]
    );
    assert_eq!(file(&set, "staged.txt").status, FileStatus::Added);
    assert_eq!(set.commits.len(), 1);
    assert_eq!(set.commits[0].id, first);
    assert!(set.commits[0].message.contains("Forewarn-Ack: some-rule"));
    assert_eq!(set.new_side, NewSide::Worktree(s.path().to_path_buf()));
    assert_eq!(
        set.description,
        format!(
            "merge base of HEAD and main ({}) → working tree",
            &base[..8]
        )
    );
    assert_eq!(set.head_commit.as_deref(), Some(first.as_str()));
}

#[test]
fn working_tree_base_comes_from_argument_then_config_then_upstream() {
    let s = Scratch::new();
    s.write("a.txt", "a\n");
    s.commit("init");
    s.git(&["branch", "release"]);
    s.write("a.txt", "b\n");
    let second = s.commit("second");
    s.git(&["checkout", "-q", "-b", "feature"]);
    s.write("a.txt", "c\n");
    s.commit("third");

    // No argument, no config: `main` is the default.
    let set = s.changes(&worktree(None)).unwrap();
    assert!(
        set.description.contains("HEAD and main"),
        "{}",
        set.description
    );
    assert_eq!(set.commits.len(), 1);
    // The config's base.
    let set = changes(&s.repo(), &worktree(None), Some("release")).unwrap();
    assert!(
        set.description.contains("HEAD and release"),
        "{}",
        set.description
    );
    assert_eq!(set.commits.len(), 2);
    // The argument beats the config.
    let set = changes(&s.repo(), &worktree(Some(&second)), Some("release")).unwrap();
    assert_eq!(set.commits.len(), 1);
    // The upstream beats the default branches.
    s.git(&["branch", "--set-upstream-to=release"]);
    let set = s.changes(&worktree(None)).unwrap();
    assert!(
        set.description.contains("HEAD and release"),
        "{}",
        set.description
    );
}

#[test]
fn base_falls_back_to_the_remote_tracking_branch() {
    let origin = Scratch::new();
    origin.write("a.txt", "a\n");
    origin.commit("init");
    origin.git(&["checkout", "-q", "-b", "develop"]);
    origin.write("a.txt", "b\n");
    origin.commit("on develop");
    origin.git(&["checkout", "-q", "main"]);
    let clone = tempfile::tempdir().unwrap();
    let url = format!("file://{}", origin.path().display());
    git_in(clone.path(), &["clone", "-q", &url, "."]);
    let repo = Repository::open(clone.path()).unwrap();
    // Only `origin/develop` exists locally.
    let set = changes(&repo, &worktree(Some("develop")), None).unwrap();
    assert!(
        set.description.contains("HEAD and origin/develop"),
        "{}",
        set.description
    );
}

#[test]
fn a_repository_with_one_branch_compares_against_head() {
    let s = Scratch::new();
    s.write("a.txt", "a\n");
    s.git(&["add", "-A"]);
    s.git(&["commit", "-q", "-m", "init"]);
    s.git(&["branch", "-m", "trunk"]);
    s.write("a.txt", "a\nb\n");
    let set = s.changes(&worktree(None)).unwrap();
    assert_eq!(lines(&file(&set, "a.txt").added), [(2, "b")]);
    assert!(set.commits.is_empty());
    assert!(set.description.starts_with("HEAD ("), "{}", set.description);
    // On `main` itself, with nothing committed since: only the uncommitted work.
    s.git(&["branch", "-m", "main"]);
    let set = s.changes(&worktree(None)).unwrap();
    assert_eq!(set.files.len(), 1);
    assert!(set.commits.is_empty());
}

#[test]
fn range_diffs_merge_base_against_head_with_every_commit() {
    let s = Scratch::new();
    s.write("app.py", numbered(3));
    s.commit("init");
    s.git(&["checkout", "-q", "-b", "feature"]);
    s.write("migrations/0001.py", "op = 1\n");
    let c1 = s.commit("migration");
    s.git(&["checkout", "-q", "main"]);
    s.write("other.txt", "x\n");
    s.commit("on main");
    s.git(&["checkout", "-q", "feature"]);
    s.git(&[
        "merge",
        "-q",
        "--no-edit",
        "-m",
        "merge main\n\nForewarn-Ack: r: merged",
        "main",
    ]);
    s.write("app.py", numbered(3).replace("line 2", "line two"));
    let head = s.commit("edit app");
    // The working tree differs from head: a range ignores it.
    s.write("app.py", "dirty\n");

    let set = s
        .changes(&Input::Range {
            base: "main".into(),
            head: "feature".into(),
        })
        .unwrap();
    let mut paths: Vec<&str> = set.files.iter().map(|f| f.path.as_str()).collect();
    paths.sort();
    assert_eq!(paths, ["app.py", "migrations/0001.py"]);
    assert_eq!(lines(&file(&set, "app.py").added), [(2, "line two")]);
    let messages: Vec<&str> = set.commits.iter().map(|c| c.message.as_str()).collect();
    assert_eq!(set.commits[0].id, c1);
    assert_eq!(messages.len(), 3);
    assert!(
        messages[1].contains("Forewarn-Ack: r: merged"),
        "{messages:?}"
    );
    assert_eq!(set.commits[2].id, head);
    assert_eq!(set.head_commit.as_deref(), Some(head.as_str()));
    assert_eq!(
        set.new_side,
        NewSide::Commit {
            repo: s.path().to_path_buf(),
            commit: head.clone()
        }
    );
    assert!(
        set.description
            .starts_with("merge base of main and feature (")
    );
    assert_eq!(
        read_new_file(&set.new_side, "app.py").as_deref(),
        Some(numbered(3).replace("line 2", "line two").as_bytes())
    );
}

#[test]
fn staged_is_the_index_against_head() {
    let s = Scratch::new();
    s.write("a.txt", "a\n");
    let head = s.commit("init");
    s.write("a.txt", "a\nstaged\n");
    s.git(&["add", "a.txt"]);
    s.write("a.txt", "a\nstaged\nunstaged\n");
    s.write("untracked.txt", "u\n");
    let set = s.changes(&Input::Staged).unwrap();
    assert_eq!(set.files.len(), 1);
    assert_eq!(lines(&set.files[0].added), [(2, "staged")]);
    assert!(set.commits.is_empty());
    assert_eq!(set.new_side, NewSide::Index(s.path().to_path_buf()));
    assert_eq!(set.description, format!("HEAD ({}) → index", &head[..8]));
    assert_eq!(
        read_new_file(&set.new_side, "a.txt").as_deref(),
        Some(&b"a\nstaged\n"[..])
    );
    assert_eq!(read_new_file(&set.new_side, "untracked.txt"), None);
}

#[test]
fn commit_is_diffed_against_its_first_parent() {
    let s = Scratch::new();
    s.write("a.txt", "a\n");
    let root = s.commit("root");
    s.write("a.txt", "a\nb\n");
    s.write("gone.txt", "");
    let second = s.commit("second\n\nbody");
    s.write("a.txt", "a\nb\nc\n");
    s.commit("third");

    let set = s.changes(&Input::Commit(second[..10].to_string())).unwrap();
    let a = file(&set, "a.txt");
    assert_eq!(a.status, FileStatus::Modified);
    assert_eq!(lines(&a.added), [(2, "b")]);
    assert_eq!(set.commits.len(), 1);
    assert_eq!(set.commits[0].message, "second\n\nbody\n");
    assert_eq!(set.head_commit.as_deref(), Some(second.as_str()));
    assert!(matches!(&set.new_side, NewSide::Commit { commit, .. } if *commit == second));
    assert_eq!(
        read_new_file(&set.new_side, "a.txt").as_deref(),
        Some(&b"a\nb\n"[..])
    );

    let set = s.changes(&Input::Commit(root.clone())).unwrap();
    assert_eq!(file(&set, "a.txt").status, FileStatus::Added);
    assert!(
        set.description.contains("root commit"),
        "{}",
        set.description
    );

    let set = s.changes(&Input::Commit("HEAD~1".into())).unwrap();
    assert_eq!(set.head_commit.as_deref(), Some(second.as_str()));
}

#[test]
fn unborn_head_compares_the_empty_tree() {
    let s = Scratch::new();
    s.write("first.txt", "hello\n");
    let set = s.changes(&worktree(None)).unwrap();
    assert_eq!(file(&set, "first.txt").status, FileStatus::Added);
    assert_eq!(lines(&file(&set, "first.txt").added), [(1, "hello")]);
    assert_eq!(set.head_commit, None);
    assert!(set.commits.is_empty());
    assert!(set.description.contains("no commits yet"));
    // With a base named: still the empty tree.
    assert_eq!(s.changes(&worktree(Some("main"))).unwrap().files.len(), 1);

    assert!(s.changes(&Input::Staged).unwrap().files.is_empty());
    s.git(&["add", "first.txt"]);
    let set = s.changes(&Input::Staged).unwrap();
    assert_eq!(file(&set, "first.txt").status, FileStatus::Added);
}

#[test]
fn shallow_clone_without_merge_base_names_fetch_depth() {
    let origin = Scratch::new();
    origin.write("a.txt", "a\n");
    origin.commit("one");
    origin.git(&["checkout", "-q", "-b", "feature"]);
    origin.write("f.txt", "f\n");
    origin.commit("feature");
    origin.git(&["checkout", "-q", "main"]);
    origin.write("a.txt", "b\n");
    origin.commit("two");
    origin.write("a.txt", "c\n");
    origin.commit("three");

    let clone = tempfile::tempdir().unwrap();
    let url = format!("file://{}", origin.path().display());
    git_in(
        clone.path(),
        &[
            "clone",
            "-q",
            "--depth",
            "1",
            "--no-single-branch",
            &url,
            ".",
        ],
    );
    let repo = Repository::open(clone.path()).unwrap();
    assert!(repo.is_shallow());
    for input in [
        Input::Range {
            base: "origin/main".into(),
            head: "origin/feature".into(),
        },
        worktree(Some("origin/feature")),
    ] {
        let err = changes(&repo, &input, None).unwrap_err();
        let text = error_text(&err);
        assert!(matches!(err, Error::Repository { .. }), "{text}");
        assert!(text.contains("shallow"), "{text}");
        assert!(text.contains("fetch-depth: 0"), "{text}");
        assert!(text.contains("git fetch --unshallow"), "{text}");
    }
    // The tip's parent was not fetched: not a root commit to show whole.
    let err = changes(&repo, &Input::Commit("HEAD".into()), None).unwrap_err();
    assert!(
        error_text(&err).contains("fetch-depth: 0"),
        "{}",
        error_text(&err)
    );
    // An unknown rev in a shallow clone also says so.
    let err = changes(&repo, &worktree(Some("v9.9")), None).unwrap_err();
    assert!(error_text(&err).contains("fetch-depth: 0"));
}

#[test]
fn unknown_rev_names_the_rev_and_the_fix() {
    let s = Scratch::new();
    s.write("a.txt", "a\n");
    s.commit("init");
    for input in [
        worktree(Some("mian")),
        Input::Range {
            base: "mian".into(),
            head: "HEAD".into(),
        },
        Input::Range {
            base: "main".into(),
            head: "mian".into(),
        },
        Input::Commit("mian".into()),
    ] {
        let err = s.changes(&input).unwrap_err();
        let text = error_text(&err);
        assert!(matches!(err, Error::Repository { .. }), "{text}");
        assert!(
            err.to_string().contains("unknown revision 'mian'"),
            "{text}"
        );
        assert!(
            text.contains("git fetch origin +refs/heads/mian:refs/remotes/origin/mian"),
            "{text}"
        );
        assert!(text.contains("spelling"), "{text}");
    }
    // A rev that is not a commit.
    let err = s.changes(&Input::Commit("HEAD:a.txt".into())).unwrap_err();
    assert!(err.to_string().contains("not a commit"), "{err}");
}

#[test]
fn unrelated_history_is_explained() {
    let s = Scratch::new();
    s.write("a.txt", "a\n");
    s.commit("init");
    s.git(&["checkout", "-q", "--orphan", "other"]);
    s.write("b.txt", "b\n");
    s.commit("other root");
    let err = s.changes(&worktree(Some("main"))).unwrap_err();
    assert!(err.to_string().contains("no common history"), "{err}");
}

#[test]
fn bare_repository_has_no_working_tree() {
    let dir = tempfile::tempdir().unwrap();
    git_in(dir.path(), &["init", "-q", "--bare"]);
    let repo = Repository::open(dir.path()).unwrap();
    let err = changes(&repo, &worktree(None), None).unwrap_err();
    assert!(err.to_string().contains("bare repository"), "{err}");
    assert!(error_text(&err).contains("--commit"));
}
