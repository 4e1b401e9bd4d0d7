//! Reading patches: plain, git, combined and hand-written diffs, and the corrupt ones refused.

use super::header::unquote;
use super::*;
use crate::diff::{ChangedFile, FileStatus, Lines};

fn parse_ok(text: &str) -> ChangeSet {
    parse("test.patch", text.as_bytes()).unwrap()
}

fn lines(l: &Lines) -> Vec<(u32, String)> {
    l.iter().map(|(n, t)| (n, t.to_string())).collect()
}

fn one(text: &str) -> ChangedFile {
    let mut set = parse_ok(text);
    assert_eq!(set.files.len(), 1, "{:#?}", set.files);
    set.files.remove(0)
}

/// The one file of a diff read as a rule example is (counts recounted).
fn one_example(text: &str) -> ChangedFile {
    let mut set = parse_example("test", text).unwrap();
    assert_eq!(set.files.len(), 1, "{:#?}", set.files);
    set.files.remove(0)
}

/// The message of the error a strict read of `text` gives.
fn refused(text: &str) -> String {
    match parse("p.diff", text.as_bytes()) {
        Ok(set) => panic!("accepted: {:#?}", set.files),
        Err(e) => e.to_string(),
    }
}

#[test]
fn modified_file_records_line_numbers_of_each_side() {
    let f = one("diff --git a/src/app.py b/src/app.py
index 83db48f..bf269f4 100644
--- a/src/app.py
+++ b/src/app.py
@@ -10,4 +10,5 @@ def main():
 keep
-old one
-old two
+new one
+new two
+new three
 keep
@@ -40 +41 @@
-x
+y
");
    assert_eq!(f.path, "src/app.py");
    assert_eq!(f.status, FileStatus::Modified);
    assert_eq!(f.old_path, None);
    assert!(!f.binary);
    assert_eq!(
        lines(&f.added),
        vec![
            (11, "new one".into()),
            (12, "new two".into()),
            (13, "new three".into()),
            (41, "y".into())
        ]
    );
    assert_eq!(
        lines(&f.removed),
        vec![
            (11, "old one".into()),
            (12, "old two".into()),
            (40, "x".into())
        ]
    );
}

#[test]
fn result_names_the_source() {
    let set = parse_ok("--- a/x\n+++ b/x\n@@ -3 +3 @@\n-a\n+b\n");
    assert_eq!(set.description, "patch test.patch");
    assert_eq!(set.new_side, NewSide::DiffOnly);
    assert!(set.commits.is_empty());
    assert_eq!(set.head_commit, None);
}

#[test]
fn new_and_deleted_files() {
    let set = parse_ok(
        "diff --git a/db/migrate/001.sql b/db/migrate/001.sql
new file mode 100644
index 0000000..e69de29
--- /dev/null
+++ b/db/migrate/001.sql
@@ -0,0 +1,2 @@
+CREATE TABLE t (id int);
+CREATE INDEX i ON t (id);
diff --git a/old.txt b/old.txt
deleted file mode 100644
index e69de29..0000000
--- a/old.txt
+++ /dev/null
@@ -1,2 +0,0 @@
-one
-two
diff --git a/empty b/empty
new file mode 100644
index 0000000..e69de29
",
    );
    let [add, del, empty] = &set.files[..] else {
        panic!("{:#?}", set.files)
    };
    assert_eq!(
        (add.path.as_str(), add.status),
        ("db/migrate/001.sql", FileStatus::Added)
    );
    assert_eq!(
        lines(&add.added)[1],
        (2, "CREATE INDEX i ON t (id);".into())
    );
    assert!(add.removed.is_empty());
    assert_eq!(
        (del.path.as_str(), del.status),
        ("old.txt", FileStatus::Deleted)
    );
    assert_eq!(
        lines(&del.removed),
        vec![(1, "one".into()), (2, "two".into())]
    );
    assert_eq!(
        (empty.path.as_str(), empty.status),
        ("empty", FileStatus::Added)
    );
    assert!(empty.added.is_empty());
}

#[test]
fn renames_copies_and_mode_changes() {
    let set = parse_ok(
        r#"diff --git a/db/0001_init.sql b/db/migrations/0001_init.sql
similarity index 90%
rename from db/0001_init.sql
rename to db/migrations/0001_init.sql
index 1111111..2222222 100644
--- a/db/0001_init.sql
+++ b/db/migrations/0001_init.sql
@@ -3 +3 @@
-old
+new
diff --git a/a.txt b/a copy.txt
similarity index 100%
copy from a.txt
copy to a copy.txt
diff --git a/run.sh b/run.sh
old mode 100644
new mode 100755
diff --git a/tool.sh b/tool.sh
old mode 100644
new mode 100755
index 1111111..2222222
--- a/tool.sh
+++ b/tool.sh
@@ -1 +1 @@
-a
+b
diff --git a/x.txt b/y.txt
similarity index 100%
rename from x.txt
rename to y.txt
"#,
    );
    let [ren, copy, mode, mode_and_content, pure_rename] = &set.files[..] else {
        panic!("{:#?}", set.files)
    };
    assert_eq!(ren.status, FileStatus::Renamed);
    assert_eq!(ren.path, "db/migrations/0001_init.sql");
    assert_eq!(ren.old_path.as_deref(), Some("db/0001_init.sql"));
    assert_eq!(lines(&ren.added), vec![(3, "new".into())]);
    assert_eq!(copy.status, FileStatus::Copied);
    assert_eq!(copy.path, "a copy.txt");
    assert_eq!(copy.old_path.as_deref(), Some("a.txt"));
    assert_eq!(
        (mode.path.as_str(), mode.status),
        ("run.sh", FileStatus::Mode)
    );
    assert_eq!(mode_and_content.status, FileStatus::Modified);
    assert_eq!(pure_rename.status, FileStatus::Renamed);
    assert_eq!(pure_rename.path, "y.txt");
    assert_eq!(pure_rename.old_path.as_deref(), Some("x.txt"));
    assert!(pure_rename.added.is_empty());
}

#[test]
fn binary_files_have_no_lines() {
    let set = parse_ok(
        "diff --git a/logo.png b/logo.png
index 1111111..2222222 100644
Binary files a/logo.png and b/logo.png differ
diff --git a/font.woff b/font.woff
new file mode 100644
index 0000000000000000000000000000000000000000..1111111111111111111111111111111111111111
GIT binary patch
literal 12
TcmZ?wbhEHbRA5kGU|;|M02crU

literal 0
HcmV?d00001

diff --git a/after.txt b/after.txt
--- a/after.txt
+++ b/after.txt
@@ -1 +1 @@
-a
+b
",
    );
    let [png, woff, after] = &set.files[..] else {
        panic!("{:#?}", set.files)
    };
    assert!(png.binary && woff.binary && !after.binary);
    assert_eq!(png.status, FileStatus::Modified);
    assert_eq!(
        (woff.path.as_str(), woff.status),
        ("font.woff", FileStatus::Added)
    );
    assert!(png.added.is_empty() && woff.added.is_empty());
    assert_eq!(lines(&after.added), vec![(1, "b".into())]);
}

#[test]
fn plain_diff_u_with_timestamps_and_several_files() {
    let set = parse_ok(
        "--- config/app.yml\t2024-05-01 10:00:00.000000000 +0200
+++ config/app.yml\t2024-05-02 11:00:00.000000000 +0200
@@ -1,3 +1,3 @@
 a: 1
-b: 2
+b: 3
 c: 4
--- /dev/null\t1970-01-01 00:00:00.000000000 +0000
+++ config/new.yml\t2024-05-02 11:00:00.000000000 +0200
@@ -0,0 +1 @@
+d: 5
--- a/gone.txt
+++ /dev/null
@@ -1 +0,0 @@
-bye
Binary files old/img.png and new/img.png differ
",
    );
    let [app, new, gone, img] = &set.files[..] else {
        panic!("{:#?}", set.files)
    };
    assert_eq!(
        (app.path.as_str(), app.status),
        ("config/app.yml", FileStatus::Modified)
    );
    assert_eq!(lines(&app.added), vec![(2, "b: 3".into())]);
    assert_eq!(lines(&app.removed), vec![(2, "b: 2".into())]);
    assert_eq!(
        (new.path.as_str(), new.status),
        ("config/new.yml", FileStatus::Added)
    );
    assert_eq!(
        (gone.path.as_str(), gone.status),
        ("gone.txt", FileStatus::Deleted)
    );
    assert_eq!(img.path, "new/img.png");
    assert!(img.binary);
}

#[test]
fn crlf_patches_store_lines_without_cr() {
    let text = "diff --git a/w.bat b/w.bat\r\n--- a/w.bat\r\n+++ b/w.bat\r\n@@ -1,2 +1,2 @@\r\n echo on\r\n-set A=1\r\n+set A=2\r\n";
    let f = one(text);
    assert_eq!(f.path, "w.bat");
    assert_eq!(lines(&f.added), vec![(2, "set A=2".into())]);
    assert_eq!(lines(&f.removed), vec![(2, "set A=1".into())]);
}

#[test]
fn quoted_paths_with_escapes() {
    let set = parse_ok(
        r#"diff --git "a/caf\303\251.txt" "b/caf\303\251.txt"
index 1111111..2222222 100644
--- "a/caf\303\251.txt"
+++ "b/caf\303\251.txt"
@@ -1 +1 @@
-a
+b
diff --git a/tab "b/x\ty"
new file mode 100644
--- /dev/null
+++ "b/x\ty"
@@ -0,0 +1 @@
+z
diff --git "a/with \"quote\"" "b/with \"quote\""
deleted file mode 100644
"#,
    );
    assert_eq!(set.files[0].path, "café.txt");
    assert_eq!(set.files[1].path, "x\ty");
    assert_eq!(set.files[1].status, FileStatus::Added);
    assert_eq!(set.files[2].path, "with \"quote\"");
    assert_eq!(set.files[2].status, FileStatus::Deleted);
}

#[test]
fn unquoted_names_with_spaces_split_where_both_sides_agree() {
    let set = parse_ok(
        "diff --git a/my dir/a b.txt b/my dir/a b.txt\nold mode 100644\nnew mode 100755\n",
    );
    assert_eq!(set.files[0].path, "my dir/a b.txt");
    assert_eq!(set.files[0].status, FileStatus::Mode);
    let f = one(
        "diff --git a/x y.txt b/x y.txt\n--- a/x y.txt\t\n+++ b/x y.txt\t\n@@ -1 +1 @@\n-a\n+b\n",
    );
    assert_eq!(f.path, "x y.txt");
}

#[test]
fn no_prefix_output_keeps_paths() {
    let f = one(
        "diff --git src/lib.rs src/lib.rs\nindex 1..2 100644\n--- src/lib.rs\n+++ src/lib.rs\n@@ -1 +1 @@\n-a\n+b\n",
    );
    assert_eq!(f.path, "src/lib.rs");
    let f = one(
        "diff --git i/src/lib.rs w/src/lib.rs\n--- i/src/lib.rs\n+++ w/src/lib.rs\n@@ -1 +1 @@\n-a\n+b\n",
    );
    assert_eq!(f.path, "src/lib.rs");
}

#[test]
fn no_newline_markers_are_skipped() {
    let f = one(
        "diff --git a/v b/v\n--- a/v\n+++ b/v\n@@ -1 +1 @@\n-1.0\n\\ No newline at end of file\n+1.1\n\\ No newline at end of file\n",
    );
    assert_eq!(lines(&f.removed), vec![(1, "1.0".into())]);
    assert_eq!(lines(&f.added), vec![(1, "1.1".into())]);
}

#[test]
fn garbage_is_a_usage_error_naming_the_source() {
    let err = parse("notes.txt", b"hello\nthis is not a diff\n").unwrap_err();
    let text = err.to_string();
    assert_eq!(
        text,
        "notes.txt does not look like a unified diff (no 'diff --git' or '---/+++' header found)"
    );
    assert!(err.render(false).contains("git diff > change.patch"));
    assert!(parse("x", b"@@ -1 +1 @@\n-a\n+b\n").is_err());
}

#[test]
fn empty_input_is_refused_unless_allowed() {
    assert_eq!(refused(""), "p.diff is empty: there is no change to check");
    assert!(refused("\n\n").contains("is empty"));
    let err = parse("stdin", b"").unwrap_err();
    assert!(err.render(false).contains("--allow-empty"), "{err:?}");
    for text in ["", "\n \n"] {
        let set = parse_patch("stdin", text.as_bytes(), Empty::Allowed).unwrap();
        assert!(set.files.is_empty());
        assert!(parse_example("empty", text).unwrap().files.is_empty());
    }
}

#[test]
fn a_line_without_a_prefix_inside_a_hunk_is_refused_with_its_line() {
    let text = "--- a/x.sql\n+++ b/x.sql\n@@ -1,2 +1,3 @@\n a\n+b\nDROP TABLE t;\n+c\n";
    assert_eq!(
        refused(text),
        "p.diff:6: corrupt patch: a line inside the hunk at line 3 starts with neither ' ', '+', '-' nor '\\'"
    );
    // Recounted as an example: what is there is read up to the odd line.
    assert_eq!(lines(&one_example(text).added), vec![(2, "b".into())]);
}

#[test]
fn hunk_counts_that_disagree_with_the_lines_are_refused() {
    // Truncated: fewer lines than counted, at the end of the input.
    let cut = refused("--- a/x\n+++ b/x\n@@ -1,10 +1,10 @@\n a\n-b\n+c");
    assert!(cut.starts_with("p.diff:6: corrupt patch: the input ends inside the hunk at line 3, 8 old and 8 new lines short"), "{cut}");
    // Cut short where the next file starts.
    let next = refused(
        "--- a/x\n+++ b/x\n@@ -1,5 +1,5 @@\n-a\n+b\n--- a/y\n+++ b/y\n@@ -1 +1 @@\n-c\n+d\n",
    );
    assert!(
        next.starts_with("p.diff:6: corrupt patch: the hunk at line 3"),
        "{next}"
    );
    // More lines than counted: the extra added line would be dropped.
    let extra = refused("--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n+DROP TABLE t;\n");
    assert!(
        extra.starts_with(
            "p.diff:6: corrupt patch: this line is past the counts of the hunk at line 3"
        ),
        "{extra}"
    );
    let after_context = refused("--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n c\n+d\n");
    assert!(after_context.starts_with("p.diff:7:"), "{after_context}");
    // A blank line, then text, after the counts is not part of the hunk (`git log -p`).
    let f = one("--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n\ncommit 123\n    +not a line\n");
    assert_eq!(lines(&f.added), vec![(1, "b".into())]);
}

#[test]
fn diff_git_names_that_disagree_with_the_file_headers_are_refused() {
    let text = "diff --git a/README.md b/README.md\n--- a/db/migrate/001.sql\n+++ b/db/migrate/001.sql\n@@ -1 +1 @@\n-a\n+DROP TABLE t;\n";
    assert_eq!(
        refused(text),
        "p.diff:2: corrupt patch: `---` names `db/migrate/001.sql`, but the `diff --git` header names `README.md`"
    );
    let plus = "diff --git a/x b/x\n--- a/x\n+++ b/y\n@@ -1 +1 @@\n-a\n+b\n";
    assert!(refused(plus).starts_with("p.diff:3: corrupt patch: `+++` names `y`"));
    // Renames, new files and names with spaces agree.
    let ok = "diff --git a/old name b/new name\nsimilarity index 90%\nrename from old name\nrename to new name\n--- a/old name\n+++ b/new name\n@@ -1 +1 @@\n-a\n+b\ndiff --git a/n b/n\nnew file mode 100644\n--- /dev/null\n+++ b/n\n@@ -0,0 +1 @@\n+x\n";
    assert_eq!(parse_ok(ok).files.len(), 2);
}

#[test]
fn malformed_hunk_header_names_the_line() {
    let err = parse("p.diff", b"--- a/x\n+++ b/x\n@@ -a +b @@\n+x\n").unwrap_err();
    assert!(
        err.to_string()
            .starts_with("p.diff:3: malformed hunk header"),
        "{err}"
    );
}

#[test]
fn truncated_and_miscounted_example_hunks_do_not_panic() {
    // Overcounted and truncated: what is there is read.
    let f = one_example("--- a/x\n+++ b/x\n@@ -1,10 +1,10 @@\n a\n-b\n+c");
    assert_eq!(lines(&f.added), vec![(2, "c".into())]);
    // Counts near u32::MAX.
    let f =
        one_example("--- a/x\n+++ b/x\n@@ -4294967295,4294967295 +4294967295,2 @@\n a\n+b\n+c\n");
    assert_eq!(f.added.len(), 2);
    // Header only.
    let f = one_example("--- a/x\n+++ b/x\n@@ -1 +1 @@");
    assert!(f.added.is_empty());
    // Overcounted, then the next file of a plain diff.
    let set = parse_example(
        "test",
        "--- a/x\n+++ b/x\n@@ -1,5 +1,5 @@\n-a\n+b\n--- a/y\n+++ b/y\n@@ -1 +1 @@\n-c\n+d\n",
    )
    .unwrap();
    assert_eq!(set.files.len(), 2);
    assert_eq!(lines(&set.files[1].added), vec![(1, "d".into())]);
}

#[test]
fn exact_counts_keep_dash_lines_as_content() {
    // A removed line `-- x` and an added `++ y` look like headers but the counts say they
    // are content.
    let f = one("--- a/x.sql\n+++ b/x.sql\n@@ -1 +1 @@\n--- x\n+++ y\n@@ -9 +9 @@\n-p\n+q\n");
    assert_eq!(lines(&f.removed), vec![(1, "-- x".into()), (9, "p".into())]);
    assert_eq!(lines(&f.added), vec![(1, "++ y".into()), (9, "q".into())]);
}

#[test]
fn hand_written_example_with_wrong_counts_is_recounted() {
    // Says 1 new line, has 3, no trailing newline, and a blank context line with its space
    // stripped by an editor.
    let f = one_example(
        "diff --git a/app/settings.py b/app/settings.py
--- a/app/settings.py
+++ b/app/settings.py
@@ -1,2 +1,1 @@
 import os

+PAYMENTS_URL = os.environ[\"PAYMENTS_URL\"]
+TIMEOUT = 3",
    );
    assert_eq!(
        lines(&f.added),
        vec![
            (3, "PAYMENTS_URL = os.environ[\"PAYMENTS_URL\"]".into()),
            (4, "TIMEOUT = 3".into())
        ]
    );
}

#[test]
fn rule_toml_examples_parse() {
    let example = "diff --git a/payments/migrations/0002_gateway_config.py b/payments/migrations/0002_gateway_config.py
new file mode 100644
--- /dev/null
+++ b/payments/migrations/0002_gateway_config.py
@@ -0,0 +1,2 @@
+from django.db import migrations
+class Migration(migrations.Migration): pass
diff --git a/docs/releases/4.2.md b/docs/releases/4.2.md
new file mode 100644
--- /dev/null
+++ b/docs/releases/4.2.md
@@ -0,0 +1 @@
+Run `manage.py migrate payments` before switching traffic.
";
    let set = parse_example("adds a migration", example).unwrap();
    assert_eq!(set.description, "patch example \"adds a migration\"");
    let [mig, note] = &set.files[..] else {
        panic!("{:#?}", set.files)
    };
    assert_eq!(mig.path, "payments/migrations/0002_gateway_config.py");
    assert_eq!(mig.status, FileStatus::Added);
    assert_eq!(mig.added.len(), 2);
    assert_eq!(note.path, "docs/releases/4.2.md");
    assert_eq!(
        lines(&note.added),
        vec![(
            1,
            "Run `manage.py migrate payments` before switching traffic.".into()
        )]
    );
    // Without `diff --git`, without a trailing newline, and counting one line too few.
    let f = one_example(
        "--- a/k8s/deploy.yaml\n+++ b/k8s/deploy.yaml\n@@ -5,1 +5,1 @@\n-  strategy: RollingUpdate\n+  strategy:\n+    type: Recreate",
    );
    assert_eq!(
        lines(&f.added),
        vec![(5, "  strategy:".into()), (6, "    type: Recreate".into())]
    );
}

#[test]
fn non_utf8_bytes_are_replaced_not_rejected() {
    let text = b"diff --git a/caf\xe9.txt b/caf\xe9.txt\n--- a/caf\xe9.txt\n+++ b/caf\xe9.txt\n@@ -1 +1 @@\n-\xff\n+ok \xfe\n";
    let set = parse("latin1.patch", text).unwrap();
    assert_eq!(set.files[0].path, "caf\u{fffd}.txt");
    assert_eq!(set.files[0].added.get(1), Some("ok \u{fffd}"));
}

#[test]
fn format_patch_mail_is_read_and_its_signature_ignored() {
    let set = parse_ok(
        "From 1234 Mon Sep 17 00:00:00 2001
From: A <a@example.com>
Subject: [PATCH] change

Forewarn-Ack: some-rule: reason
---
 x | 2 +-
 1 file changed, 1 insertion(+), 1 deletion(-)

diff --git a/x b/x
index 1..2 100644
--- a/x
+++ b/x
@@ -1 +1 @@
-a
+b
-- 
2.43.0

",
    );
    let f = &set.files[0];
    assert_eq!(set.files.len(), 1);
    assert_eq!(lines(&f.removed), vec![(1, "a".into())]);
    assert_eq!(lines(&f.added), vec![(1, "b".into())]);
}

#[test]
fn submodule_changes_have_no_lines() {
    let f = one("diff --git a/vendor/lib b/vendor/lib
index 1111111..2222222 160000
--- a/vendor/lib
+++ b/vendor/lib
@@ -1 +1 @@
-Subproject commit 1111111111111111111111111111111111111111
+Subproject commit 2222222222222222222222222222222222222222
");
    assert_eq!(f.status, FileStatus::Modified);
    assert!(f.added.is_empty() && f.removed.is_empty());
}

#[test]
fn combined_diff_of_a_merge() {
    let f = one("diff --cc src/a.rs
index 1111111,2222222..3333333
--- a/src/a.rs
+++ b/src/a.rs
@@@ -1,2 -1,2 +1,3 @@@
  same
- from one
 +from two
++resolved
");
    assert_eq!(f.path, "src/a.rs");
    assert_eq!(lines(&f.removed), vec![(2, "from one".into())]);
    assert_eq!(
        lines(&f.added),
        vec![(2, "from two".into()), (3, "resolved".into())]
    );
}

#[test]
fn any_prefix_or_line_subset_of_a_diff_never_panics() {
    let text: &[u8] = b"diff --git \"a/q\\303\" b/q\nnew file mode 100644\n--- /dev/null\n+++ \"b/q\\303\"\n@@ -0,0 +1,2 @@\n+a\r\n+b\n\\ No newline at end of file\ndiff --cc m\n@@@ -1,1 -1,1 +1,2 @@@\n- x\n ++y\n--- a/p\n+++ b/p\n@@ -3,2 +3 @@ f\n-1\n-2\n+3\nBinary files a/z and b/z differ\n";
    for end in 0..=text.len() {
        let _ = parse("cut", &text[..end]);
    }
    for odd in [
        "Binary files differ\n",
        "Binary files  differ\n",
        "@@\n",
        "@@@ @@@\n",
    ] {
        let _ = parse("odd", odd.as_bytes());
        let _ = parse("odd", format!("--- a\n+++ b\n{odd}").as_bytes());
    }
    let lines: Vec<&[u8]> = text.split(|&b| b == b'\n').collect();
    for skip in 0..lines.len() {
        let kept: Vec<&[u8]> = lines
            .iter()
            .enumerate()
            .filter(|&(i, _)| i != skip)
            .map(|(_, l)| *l)
            .collect();
        let _ = parse("skip", &kept.join(&b'\n'));
    }
}

#[test]
fn unquote_decodes_octal_and_rejects_unterminated() {
    assert_eq!(
        unquote(br#""a\303\251\\\"b" rest"#),
        Some(("aé\\\"b".as_bytes().to_vec(), 16))
    );
    assert_eq!(unquote(br#""abc"#), None);
    assert_eq!(unquote(br#""abc\"#), None);
}

#[test]
fn a_file_shown_from_line_1_in_one_hunk_is_known_whole() {
    let set = parse_ok(
        "--- a/k.yaml\n+++ b/k.yaml\n@@ -1,3 +1,3 @@\n kind: Deployment\n-replicas: 3\n+replicas: 1\n \n--- a/p.yaml\n+++ b/p.yaml\n@@ -1 +1 @@\n-a\n+b\n@@ -9 +9 @@\n-c\n+d\n",
    );
    let whole = |side: &str| match (side, &set.old_side, &set.new_side) {
        ("old", crate::diff::OldSide::Patch(files), _) => files.clone(),
        ("new", _, NewSide::Patch(files)) => files.clone(),
        _ => panic!("{side} side is not a patch with whole files"),
    };
    assert_eq!(whole("old")["k.yaml"], "kind: Deployment\nreplicas: 3\n\n");
    assert_eq!(whole("new")["k.yaml"], "kind: Deployment\nreplicas: 1\n\n");
    // Two hunks: only part of the file is shown.
    assert!(!whole("new").contains_key("p.yaml"));
}
