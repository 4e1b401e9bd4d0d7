use super::*;
use crate::diff::{ChangedFile, FileStatus};
use crate::rules::load::{RuleFile, load};

fn rules(text: &str) -> Vec<Rule> {
    let file = RuleFile {
        path: "t.toml".into(),
        text: text.into(),
        builtin: false,
    };
    load(&[file], &Config::default()).unwrap().rules
}

fn rule(body: &str) -> Vec<Rule> {
    rules(&format!(
        "[[rule]]\nid = \"r\"\ntitle = \"T\"\nseverity = \"error\"\ncategory = \"c\"\nmessage = \"{{path}}:{{line}} {{match}}\"\nask = \"?\"\n{body}"
    ))
}

fn file(path: &str, status: FileStatus, added: &[&str]) -> ChangedFile {
    let mut f = ChangedFile::new(path, status);
    for (i, l) in added.iter().enumerate() {
        f.added.push(i as u32 + 1, l);
    }
    f
}

fn change(files: Vec<ChangedFile>) -> ChangeSet {
    ChangeSet {
        files,
        ..ChangeSet::default()
    }
}

fn run(rules: &[Rule], config: &Config, files: Vec<ChangedFile>) -> Vec<Finding> {
    Engine::new(rules, config).check(&change(files)).findings
}

#[test]
fn path_and_status_fire_a_path_only_finding() {
    let r = rule("[rule.match]\npaths = ['db/migrate/*.rb']\nstatus = ['added']\n");
    let c = Config::default();
    let found = run(
        &r,
        &c,
        vec![file("db/migrate/1_a.rb", FileStatus::Added, &["x"])],
    );
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].path.as_deref(), Some("db/migrate/1_a.rb"));
    assert_eq!(found[0].line, None);
    assert_eq!(found[0].message, "db/migrate/1_a.rb:- ");
    // a rename of a migration is not a new migration
    assert!(
        run(
            &r,
            &c,
            vec![file("db/migrate/1_a.rb", FileStatus::Renamed, &[])]
        )
        .is_empty()
    );
    // `*` does not cross `/`
    assert!(
        run(
            &r,
            &c,
            vec![file("db/migrate/old/1_a.rb", FileStatus::Added, &[])]
        )
        .is_empty()
    );
}

#[test]
fn added_regex_fires_at_each_matching_line_with_match_text() {
    let r = rule("[rule.match]\nadded = ['(?i)drop\\s+table\\s+\\w+']\n");
    let found = run(
        &r,
        &Config::default(),
        vec![file(
            "a.sql",
            FileStatus::Modified,
            &["select 1;", "DROP TABLE users;", "drop table x"],
        )],
    );
    let lines: Vec<_> = found.iter().map(|f| f.line).collect();
    assert_eq!(lines, vec![Some(2), Some(3)]);
    assert_eq!(found[0].message, "a.sql:2 DROP TABLE users");
    assert_eq!(found[0].matched.as_deref(), Some("DROP TABLE users;"));
}

#[test]
fn removed_regex_reports_old_side() {
    let r = rule("[rule.match]\nremoved = ['prevent_destroy\\s*=\\s*true']\n");
    let mut f = ChangedFile::new("main.tf", FileStatus::Modified);
    f.removed.push(7, "    prevent_destroy = true");
    let found = run(&r, &Config::default(), vec![f]);
    assert_eq!(found.len(), 1);
    assert!(found[0].old_side);
    assert_eq!(found[0].line, Some(7));
}

#[test]
fn binary_files_skip_line_rules_but_keep_path_rules() {
    let lines = rule("[rule.match]\nadded = ['x']\n");
    let paths = rule("[rule.match]\npaths = ['*.bin']\n");
    let mut f = file("a.bin", FileStatus::Added, &["x"]);
    f.binary = true;
    assert!(run(&lines, &Config::default(), vec![f.clone()]).is_empty());
    assert_eq!(run(&paths, &Config::default(), vec![f]).len(), 1);
}

#[test]
fn unless_changed_needs_another_file() {
    let r = rule(
        "[rule.match]\npaths = ['db/migrate/*.rb']\n[rule.unless]\nchanged = ['db/schema.rb', 'db/migrate/*.rb']\n",
    );
    let c = Config::default();
    let mig = file("db/migrate/1_a.rb", FileStatus::Added, &[]);
    // the migration itself does not count as its own co-change
    assert_eq!(run(&r, &c, vec![mig.clone()]).len(), 1);
    assert!(
        run(
            &r,
            &c,
            vec![mig, file("db/schema.rb", FileStatus::Modified, &[])]
        )
        .is_empty()
    );
}

#[test]
fn unless_added_quiets_only_that_file() {
    let r = rule(
        "[rule.match]\nadded = ['algorithm: :concurrently']\n[rule.unless]\nadded = ['disable_ddl_transaction!']\n",
    );
    let found = run(
        &r,
        &Config::default(),
        vec![
            file(
                "a.rb",
                FileStatus::Added,
                &[
                    "disable_ddl_transaction!",
                    "add_index :t, :c, algorithm: :concurrently",
                ],
            ),
            file(
                "b.rb",
                FileStatus::Added,
                &["add_index :t, :c, algorithm: :concurrently"],
            ),
        ],
    );
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].path.as_deref(), Some("b.rb"));
}

#[test]
fn config_exclude_hides_files() {
    let r = rule("[rule.match]\npaths = ['**/*.sql']\n");
    let c = Config::parse("forewarn.toml", "exclude = ['vendor/**']\n").unwrap();
    let out = Engine::new(&r, &c).check(&change(vec![
        file("vendor/x.sql", FileStatus::Added, &[]),
        file("db/x.sql", FileStatus::Added, &[]),
    ]));
    assert_eq!(out.files_checked, 1);
    assert_eq!(out.findings.len(), 1);
}

const COMPONENTS: &str = r#"
[[component]]
name = "api"
paths = ["api/**"]
rollout = "staged"
[[component]]
name = "web"
paths = ["web/**"]
rollout = "staged"
[[component]]
name = "edge"
paths = ["edge/**"]
rollout = "global"
"#;

#[test]
fn global_component_fires_once_for_the_change() {
    let r = rule("[rule.match]\nrollout = ['global']\n[rule.threshold]\nfiles = 0\n");
    let c = Config::parse("forewarn.toml", COMPONENTS).unwrap();
    let found = run(
        &r,
        &c,
        vec![
            file("edge/a.conf", FileStatus::Modified, &["x"]),
            file("edge/b.conf", FileStatus::Modified, &["y"]),
            file("api/c.py", FileStatus::Modified, &["z"]),
        ],
    );
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].path, None);
    assert_eq!(found[0].matched.as_deref(), Some("1 component: edge"));
    assert!(run(&r, &c, vec![file("api/c.py", FileStatus::Modified, &[])]).is_empty());
}

#[test]
fn components_threshold_uses_the_config_limit() {
    let r = rule("[rule.threshold]\ncomponents = 3\n");
    let three = vec![
        file("api/a", FileStatus::Modified, &[]),
        file("web/a", FileStatus::Modified, &[]),
        file("edge/a", FileStatus::Modified, &[]),
    ];
    let c = Config::parse("forewarn.toml", COMPONENTS).unwrap();
    assert!(run(&r, &c, three.clone()).is_empty());
    let strict = Config::parse(
        "forewarn.toml",
        &format!("max_components_per_change = 2\n{COMPONENTS}"),
    )
    .unwrap();
    let found = run(&r, &strict, three);
    assert_eq!(found.len(), 1);
    assert_eq!(
        found[0].message,
        "this change:- 3 components: api, edge, web"
    );
}

#[test]
fn findings_are_sorted_and_fingerprints_ignore_line_numbers() {
    let r = rule("[rule.match]\nadded = ['TODO']\n");
    let mut a = ChangedFile::new("z.py", FileStatus::Modified);
    a.added.push(10, "# TODO");
    let mut b = ChangedFile::new("a.py", FileStatus::Modified);
    b.added.push(3, "# TODO");
    let found = run(&r, &Config::default(), vec![a, b]);
    assert_eq!(found[0].path.as_deref(), Some("a.py"));
    let mut moved = ChangedFile::new("a.py", FileStatus::Modified);
    moved.added.push(99, "# TODO");
    let again = run(&r, &Config::default(), vec![moved]);
    assert_eq!(again[0].fingerprint, found[0].fingerprint);
}

#[test]
fn statements_find_a_match_split_over_lines() {
    let r = rule(
        "[rule.match]\npaths = ['**/*.sql']\nstatements = true\nadded = ['(?is)alter\\s+table\\s+\\w+\\s+add\\s+constraint\\s+\\w+\\s+foreign\\s+key']\n[rule.unless]\nmatched = ['(?i)not\\s+valid']\n",
    );
    let found = run(
        &r,
        &Config::default(),
        vec![file(
            "db/m.sql",
            FileStatus::Added,
            &[
                "ALTER TABLE orders",
                "  ADD CONSTRAINT fk_user FOREIGN KEY (user_id) REFERENCES users (id);",
                "ALTER TABLE items ADD CONSTRAINT fk_o FOREIGN KEY (o) REFERENCES orders (id)",
                "  NOT VALID;",
            ],
        )],
    );
    // the first statement fires at its first line; the second is silenced by NOT VALID on its
    // own next line, without silencing the first
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].line, Some(1));
    assert_eq!(found[0].matched.as_deref(), Some("ALTER TABLE orders"));
}

#[test]
fn unless_matched_works_per_line() {
    let r = rule(
        "[rule.match]\nadded = ['(?i)create\\s+index']\n[rule.unless]\nmatched = ['(?i)concurrently']\n",
    );
    let found = run(
        &r,
        &Config::default(),
        vec![file(
            "m.sql",
            FileStatus::Added,
            &[
                "CREATE INDEX CONCURRENTLY a ON t (c);",
                "CREATE INDEX b ON t (c);",
            ],
        )],
    );
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].line, Some(2));
}

#[test]
fn statements_and_matched_need_line_patterns() {
    let file = RuleFile {
        path: "t.toml".into(),
        text: "[[rule]]\nid = \"r\"\ntitle = \"T\"\nseverity = \"error\"\ncategory = \"c\"\nmessage = \"m\"\nask = \"?\"\n[rule.match]\npaths = ['a']\nstatements = true\n".into(),
        builtin: false,
    };
    let err = load(&[file], &Config::default()).unwrap_err();
    assert!(err.to_string().contains("need line patterns"), "{err}");
}

#[test]
fn the_ledger_is_never_part_of_a_change() {
    let r = rule("[rule.threshold]\nfiles = 0\n");
    let out = Engine::new(&r, &Config::default()).check(&change(vec![file(
        ".forewarn/ledger/2026-11-24T10-00-00Z-1.json",
        FileStatus::Added,
        &["{}"],
    )]));
    assert_eq!(out.files_checked, 0);
    assert!(out.findings.is_empty());
}

#[test]
fn rule_files_are_not_code_to_rules_for_every_file() {
    let lines = rule("[rule.match]\nadded = ['schedule:']\n");
    let paths = rule("[rule.match]\npaths = ['.forewarn/**']\nadded = ['schedule:']\n");
    let team_rule = file(
        ".forewarn/rules/cron.toml",
        FileStatus::Added,
        &[
            "diff = \"\"\"",
            "+  schedule: \"0 3 * * *\"",
            "  schedule: \"0 3 * * *\"",
        ],
    );
    let config = Config::default();
    assert!(run(&lines, &config, vec![team_rule.clone()]).is_empty());
    // a rule that names the rule folder on purpose still reads its lines
    assert_eq!(run(&paths, &config, vec![team_rule.clone()]).len(), 2);
    let mut elsewhere = team_rule;
    elsewhere.path = "deploy/cron.yaml".into();
    assert_eq!(run(&lines, &config, vec![elsewhere]).len(), 2);
}

/// Statement rules share one combined set whatever the kind of file; a match of a rule that
/// does not apply to the file (its paths, exclude or status say no) must not reach it.
#[test]
fn a_shared_statement_set_reports_only_the_file_s_own_rules() {
    let header = |id: &str| {
        format!(
            "[[rule]]\nid = \"{id}\"\ntitle = \"T\"\nseverity = \"error\"\ncategory = \"c\"\nmessage = \"m\"\nask = \"?\"\n"
        )
    };
    let text = format!(
        "{}[rule.match]\npaths = ['**/*.sql']\nstatements = true\nadded = ['(?i)drop\\s+table']\n\n{}[rule.match]\npaths = ['**/*.rb']\nstatements = true\nadded = ['(?i)drop\\s+table', 'drop_table']\n\n{}[rule.match]\npaths = ['**/*.sql']\nstatus = ['deleted']\nstatements = true\nadded = ['(?i)drop']\n",
        header("sql-drop"),
        header("rb-drop"),
        header("deleted-only")
    );
    let r = rules(&text);
    let found = run(
        &r,
        &Config::default(),
        vec![
            file("db/1.sql", FileStatus::Added, &["DROP", "TABLE t;"]),
            file("db/migrate/2.rb", FileStatus::Added, &["drop_table :t"]),
        ],
    );
    let fired: Vec<(&str, &str)> = found
        .iter()
        .map(|f| (f.path.as_deref().unwrap(), &*f.rule_id))
        .collect();
    assert_eq!(
        fired,
        [("db/1.sql", "sql-drop"), ("db/migrate/2.rb", "rb-drop")]
    );
}

/// Rules that share patterns share their compiled matchers and the matches found with them;
/// each rule must still report its own first matching pattern and its own `unless`.
#[test]
fn rules_sharing_patterns_each_get_their_own_match_and_unless() {
    let head = |id: &str| {
        format!(
            "[[rule]]\nid = \"{id}\"\ntitle = \"T\"\nseverity = \"error\"\ncategory = \"c\"\nmessage = \"{{match}}\"\nask = \"?\"\n"
        )
    };
    let text = [
        head("both"),
        "[rule.match]\nadded = ['foo\\w*', 'bar\\w*']\n".into(),
        head("bar-only"),
        "[rule.match]\nadded = ['bar\\w*']\n".into(),
        head("bar-copy"),
        "[rule.match]\nadded = ['bar\\w*']\n".into(),
        head("bar-unless"),
        "[rule.match]\nadded = ['bar\\w*']\n[rule.unless]\nadded = ['handled']\n".into(),
        head("stmt-a"),
        "[rule.match]\nstatements = true\nadded = ['(?i)drop\\s+table\\s+\\w+']\n".into(),
        head("stmt-b"),
        "[rule.match]\nstatements = true\nadded = ['(?i)drop\\s+table\\s+\\w+']\n[rule.unless]\nadded = ['handled']\n".into(),
    ]
    .concat();
    let r = rules(&text);
    let engine = Engine::new(&r, &Config::default());
    // Rules with the same list share one matcher; different lists do not.
    let id = |rule: &str| {
        let i = r.iter().position(|x| x.id == rule).unwrap();
        engine.rules[i].added.id()
    };
    assert_eq!(id("bar-only"), id("bar-copy"));
    assert_ne!(id("bar-only"), id("both"));

    let found = |lines: &[&str]| -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = engine
            .check(&change(vec![file("a.sql", FileStatus::Modified, lines)]))
            .findings
            .into_iter()
            .map(|f| (f.rule_id.to_string(), f.message))
            .collect();
        out.sort();
        out
    };
    let pair = |a: &str, b: &str| (a.to_string(), b.to_string());
    assert_eq!(
        found(&["x barista foobar", "DROP TABLE users;"]),
        vec![
            pair("bar-copy", "barista"),
            pair("bar-only", "barista"),
            pair("bar-unless", "barista"),
            // Its first pattern matches first in its own list: `foo`, not the shared `bar`.
            pair("both", "foobar"),
            pair("stmt-a", "DROP TABLE users"),
            pair("stmt-b", "DROP TABLE users"),
        ]
    );
    // The file answers one rule's `unless.added`; the rules without one still fire.
    assert_eq!(
        found(&["barista", "DROP TABLE users;", "-- handled"]),
        vec![
            pair("bar-copy", "barista"),
            pair("bar-only", "barista"),
            pair("both", "barista"),
            pair("stmt-a", "DROP TABLE users"),
        ]
    );
}

mod document;
