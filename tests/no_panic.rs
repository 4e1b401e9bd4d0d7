//! Property tests: random diffs, rule files, config files and commit messages fed to every parser
//! and to the engine. Each case must either succeed or return a clean error; none may panic.
//!
//! `PROPTEST_CASES` sets the number of cases per target (10,000 by default here; README.md shows
//! the longer mode).

use forewarn::ack;
use forewarn::config::Config;
use forewarn::diff::patch;
use forewarn::engine::Engine;
use forewarn::finding::AckSource;
use forewarn::rules::RuleSet;
use forewarn::rules::builtin;
use forewarn::rules::load::{RuleFile, load};
use proptest::prelude::*;
use std::sync::LazyLock;

static RULES: LazyLock<RuleSet> =
    LazyLock::new(|| load(&builtin::files(), &Config::default()).expect("built-in packs load"));
static CONFIG: LazyLock<Config> = LazyLock::new(Config::default);
static ENGINE: LazyLock<Engine<'static>> = LazyLock::new(|| Engine::new(&RULES.rules, &CONFIG));

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000)
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: cases(),
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Lines that look like parts of a unified diff, shuffled into nonsense as often as sense.
fn diff_line() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("diff --git a/x.sql b/x.sql".to_string()),
        Just("diff --git \"a/caf\\303\\251.sql\" \"b/caf\\303\\251.sql\"".to_string()),
        Just("new file mode 100644".to_string()),
        Just("deleted file mode 100644".to_string()),
        Just("old mode 100644".to_string()),
        Just("new mode 100755".to_string()),
        Just("similarity index 90%".to_string()),
        Just("rename from a.sql".to_string()),
        Just("rename to db/migrate/b.sql".to_string()),
        Just("index 0000000..1111111 100644".to_string()),
        Just("--- a/x.sql".to_string()),
        Just("--- /dev/null".to_string()),
        Just("+++ b/x.sql".to_string()),
        Just("+++ /dev/null".to_string()),
        Just("Binary files a/x and b/x differ".to_string()),
        Just("GIT binary patch".to_string()),
        Just("\\ No newline at end of file".to_string()),
        (0u32..5, 0u32..5, 0u32..5, 0u32..5)
            .prop_map(|(a, b, c, d)| format!("@@ -{a},{b} +{c},{d} @@")),
        (any::<u32>(), any::<u32>()).prop_map(|(a, c)| format!("@@ -{a} +{c} @@ ctx")),
        "@@[ -~]{0,20}".prop_map(|s| s),
        "[+ -][ -~]{0,40}".prop_map(|s| s),
        "\\+(?i)(drop table|create index|strategy: recreate)[ -~]{0,20}".prop_map(|s| s),
        "[^\n]{0,30}".prop_map(|s| s),
    ]
}

fn diff_text() -> impl Strategy<Value = Vec<u8>> {
    (
        prop::collection::vec(diff_line(), 0..30),
        prop::bool::ANY,
        prop::collection::vec(any::<u8>(), 0..8),
    )
        .prop_map(|(lines, crlf, junk)| {
            let sep = if crlf { "\r\n" } else { "\n" };
            let mut bytes = lines.join(sep).into_bytes();
            bytes.extend(junk);
            bytes
        })
}

/// A line of a hunk body: its prefix (` `, `+` or `-`) and its text.
fn body_line() -> impl Strategy<Value = (char, String)> {
    (
        prop_oneof![Just(' '), Just('+'), Just('-')],
        prop_oneof![
            "[ -~]{0,24}".prop_map(|s| s),
            Just("- x".to_string()),
            Just("-- x".to_string()),
            Just("++ y".to_string()),
            Just("DROP TABLE t;".to_string()),
        ],
    )
}

/// How a well-formed patch is spoilt, as a truncated download, a hand edit or a paste would.
#[derive(Debug, Clone)]
enum Spoil {
    None,
    /// A line with no diff prefix in place of hunk body line `n` (modulo their number).
    Unprefixed(usize, String),
    /// The input cut just before hunk body line `n`.
    Truncated(usize),
    /// One more `+` line than the hunk header counts, after the body of hunk `n`.
    ExtraLine(usize),
    /// File `n`'s `---` names another file than its `diff --git` line.
    OtherName(usize),
}

fn spoil() -> impl Strategy<Value = Spoil> {
    prop_oneof![
        Just(Spoil::None),
        (any::<usize>(), "[a-zA-Z0-9#@][ -~]{0,20}").prop_map(|(n, s)| Spoil::Unprefixed(n, s)),
        any::<usize>().prop_map(Spoil::Truncated),
        any::<usize>().prop_map(Spoil::ExtraLine),
        any::<usize>().prop_map(Spoil::OtherName),
    ]
}

/// A patch whose hunk counts agree with its lines (files of 1 to 3 hunks, each of 1 to 8 body
/// lines), then spoilt; returns the text and the 1-based line a strict reader must name.
fn spoilt_patch() -> impl Strategy<Value = (String, Option<usize>)> {
    let file = (
        prop_oneof![
            Just("db/migrate/1.sql"),
            Just("app/x.py"),
            Just("a b/c d.sql")
        ],
        prop::collection::vec(prop::collection::vec(body_line(), 1..8), 1..3),
    );
    (prop::collection::vec(file, 1..4), spoil()).prop_map(|(files, spoil)| {
        let mut out: Vec<String> = Vec::new();
        // (index in `out` of each body line, index of its hunk)
        let mut bodies: Vec<(usize, usize)> = Vec::new();
        let mut hunk_ends: Vec<usize> = Vec::new();
        let mut minus_lines: Vec<usize> = Vec::new();
        for (name, hunks) in &files {
            out.push(format!("diff --git a/{name} b/{name}"));
            minus_lines.push(out.len());
            out.push(format!("--- a/{name}"));
            out.push(format!("+++ b/{name}"));
            let mut start = 1;
            for hunk in hunks {
                let old = hunk.iter().filter(|(p, _)| *p != '+').count();
                let new = hunk.iter().filter(|(p, _)| *p != '-').count();
                out.push(format!("@@ -{start},{old} +{start},{new} @@"));
                for (prefix, text) in hunk {
                    bodies.push((out.len(), hunk_ends.len()));
                    out.push(format!("{prefix}{text}"));
                }
                hunk_ends.push(out.len());
                start += old.max(new) + 10;
            }
        }
        let at = |n: usize, len: usize| n % len;
        let bad = match spoil {
            Spoil::None => None,
            Spoil::Unprefixed(n, text) => {
                let (line, _) = bodies[at(n, bodies.len())];
                out[line] = text;
                Some(line + 1)
            }
            Spoil::Truncated(n) => {
                let (line, _) = bodies[at(n, bodies.len())];
                out.truncate(line);
                // The cut shows at the line after the hunk's last one left: the next hunk or
                // file header, or the end of the input.
                Some(line.max(1))
            }
            Spoil::ExtraLine(n) => {
                let end = hunk_ends[at(n, hunk_ends.len())];
                out.insert(end, "+DROP TABLE extra;".to_string());
                Some(end + 1)
            }
            Spoil::OtherName(n) => {
                let line = minus_lines[at(n, minus_lines.len())];
                out[line] = "--- a/elsewhere.sql".to_string();
                Some(line + 1)
            }
        };
        let mut text = out.join("\n");
        text.push('\n');
        (text, bad)
    })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn patch_parser_and_engine_never_panic(text in diff_text()) {
        if let Ok(changes) = patch::parse("fuzz", &text) {
            let out = ENGINE.check(&changes);
            prop_assert!(out.files_checked <= changes.files.len());
        }
        // Most random text is refused by the strict reader; the lenient one (rule examples)
        // still hands the engine whatever it could read.
        if let Ok(changes) = patch::parse_example("fuzz", &String::from_utf8_lossy(&text)) {
            let out = ENGINE.check(&changes);
            prop_assert!(out.files_checked <= changes.files.len());
        }
    }

    #[test]
    fn corrupt_patches_are_refused_at_their_line((text, bad) in spoilt_patch()) {
        match (patch::parse("fuzz", text.as_bytes()), bad) {
            (Ok(changes), None) => {
                let out = ENGINE.check(&changes);
                prop_assert!(out.files_checked <= changes.files.len());
            }
            (Err(e), Some(line)) => {
                let message = e.to_string();
                prop_assert!(
                    message.starts_with(&format!("fuzz:{line}: corrupt patch")),
                    "expected line {line}: {message}\n{text}"
                );
            }
            (Ok(_), Some(line)) => prop_assert!(false, "accepted, corrupt at {line}:\n{text}"),
            (Err(e), None) => prop_assert!(false, "refused a whole patch: {e}\n{text}"),
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic_the_patch_parser(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let _ = patch::parse("fuzz", &bytes);
    }

    #[test]
    fn rule_files_never_panic(text in rule_text()) {
        let file = RuleFile { path: "fuzz.toml".into(), text, builtin: false };
        if let Err(e) = load(&[file], &Config::default()) {
            // the error must be drawable, with a location
            let drawn = e.render(false);
            prop_assert!(drawn.contains("fuzz.toml"), "{drawn}");
        }
    }

    #[test]
    fn config_files_never_panic(text in config_text()) {
        if let Err(e) = Config::parse("forewarn.toml", &text) {
            prop_assert!(e.render(false).contains("forewarn.toml"));
        }
    }

    #[test]
    fn analysis_records_never_panic(text in record_text()) {
        let file = RuleFile { path: "record.toml".into(), text, builtin: false };
        let mut warnings = Vec::new();
        if let Err(errors) = forewarn::analysis::record::parse_file(&file, &mut warnings) {
            prop_assert!(!errors.is_empty());
            let drawn = forewarn::Error::Source(errors).render(false);
            prop_assert!(drawn.contains("record.toml"), "{drawn}");
        }
    }

    #[test]
    fn commit_messages_never_panic(msg in "(?s)[^\u{0}]{0,200}", id in "[0-9a-f]{0,40}|[^\n]{0,5}") {
        let got = ack::parse_text(&msg, &AckSource::Trailer { commit: id.clone() }, "commit");
        for a in &got.acks {
            prop_assert!(!a.reason.is_empty());
            prop_assert!(!a.rule_id.is_empty());
        }
        let _ = ack::parse_inline(&msg);
        let _ = ack::parse_cli(&msg);
        let _ = ack::pull_request_body(&msg);
    }
}

fn toml_value() -> impl Strategy<Value = String> {
    prop_oneof![
        "\"[ -~&&[^\"\\\\]]{0,20}\"".prop_map(|s| s),
        "'[ -~&&[^']]{0,20}'".prop_map(|s| s),
        Just("[\"db/**\", \"a/[b\"]".to_string()),
        Just("['(?i)drop\\s+table', '(unclosed']".to_string()),
        Just("[\"added\", \"renamed\", \"bogus\"]".to_string()),
        Just("\"error\"".to_string()),
        Just("\"{path} {line} {match} {nope}\"".to_string()),
        (0i64..5).prop_map(|n| n.to_string()),
        Just("-1".to_string()),
        Just("true".to_string()),
        Just("[\"a#F1\", \"broken\"]".to_string()),
    ]
}

fn rule_text() -> impl Strategy<Value = String> {
    let key = prop_oneof![
        Just("id"),
        Just("title"),
        Just("severity"),
        Just("category"),
        Just("message"),
        Just("ask"),
        Just("findings"),
        Just("why"),
        Just("procedure"),
        Just("docs"),
        Just("paths"),
        Just("exclude"),
        Just("status"),
        Just("added"),
        Just("removed"),
        Just("changed"),
        Just("files"),
        Just("lines"),
        Just("components"),
        Just("rollout"),
        Just("name"),
        Just("expect"),
        Just("diff"),
        Just("config"),
        Just("unknown"),
    ];
    let header = prop_oneof![
        Just("[[rule]]"),
        Just("[rule.match]"),
        Just("[rule.unless]"),
        Just("[rule.threshold]"),
        Just("[[rule.example]]"),
        Just("[rule"),
        Just(""),
    ];
    toml_sections(header, key, toml_value())
}

fn config_text() -> impl Strategy<Value = String> {
    let key = prop_oneof![
        Just("base"),
        Just("rule_dirs"),
        Just("analyses"),
        Just("exclude"),
        Just("max_components_per_change"),
        Just("disable"),
        Just("builtin"),
        Just("name"),
        Just("paths"),
        Just("rollout"),
        Just("other"),
    ];
    let header = prop_oneof![
        Just(""),
        Just("[rules]"),
        Just("[rules.severity]"),
        Just("[[component]]"),
        Just("[x"),
    ];
    toml_sections(header, key, toml_value())
}

fn record_text() -> impl Strategy<Value = String> {
    let key = prop_oneof![
        Just("id"),
        Just("title"),
        Just("status"),
        Just("held"),
        Just("perspectives"),
        Just("at"),
        Just("source"),
        Just("text"),
        Just("commit"),
        Just("role"),
        Just("question"),
        Just("lesson"),
        Just("finding"),
        Just("tracker"),
        Just("hotspots"),
        Just("hotspots_exclude"),
        Just("other"),
    ];
    let value = prop_oneof![
        toml_value(),
        Just("2019-07-03".to_string()),
        Just("2019-07-02T03:05:00Z".to_string()),
        Just("\"reviewed\"".to_string()),
        Just("\"draft\"".to_string()),
        Just("\"trigger\"".to_string()),
        Just("\"missing-signal\"".to_string()),
        Just("[\"backend\", 3]".to_string()),
    ];
    let header = prop_oneof![
        Just(""),
        Just("[[timeline]]"),
        Just("[[culprit]]"),
        Just("[[finding]]"),
        Just("[[action]]"),
        Just("[[backtest]]"),
        Just("[finding"),
    ];
    toml_sections(header, key, value)
}

/// TOML text from random sections: a header line, then `key = value` lines.
fn toml_sections(
    header: impl Strategy<Value = &'static str>,
    key: impl Strategy<Value = &'static str>,
    value: impl Strategy<Value = String>,
) -> impl Strategy<Value = String> {
    prop::collection::vec((header, prop::collection::vec((key, value), 0..6)), 0..5).prop_map(
        |sections| {
            let mut s = String::new();
            for (h, kvs) in sections {
                s.push_str(h);
                s.push('\n');
                for (k, v) in kvs {
                    s.push_str(&format!("{k} = {v}\n"));
                }
            }
            s
        },
    )
}
