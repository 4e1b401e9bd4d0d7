//! `--format json`: the report as one JSON document.
//!
//! The document is versioned: fields may be added within a version, never renamed or removed.
//! It is built from structs of its own, so the shape stays put when the internal types change.
//! Text keeps its exact value, but every control character and bidirectional override is written
//! as a `\uXXXX` escape, so the document is also safe to print on a terminal.

use std::io;

use serde::Serialize;
use serde_json::ser::{Formatter, PrettyFormatter, Serializer};

use super::Report;
use crate::finding::{AckSource, Acknowledgement, Finding};
use crate::rules::Severity;

/// Bumped only when a field is renamed, removed or changes meaning.
pub const VERSION: u32 = 1;

/// The fields of the document before its findings.
#[derive(Debug, Serialize)]
struct Head<'a> {
    version: u32,
    tool: &'static str,
    description: &'a str,
    summary: Summary,
}

/// The fields of the document after its findings.
#[derive(Debug, Serialize)]
struct Tail<'a> {
    unused_acknowledgements: Vec<JsonAck<'a>>,
    warnings: &'a [String],
}

#[derive(Debug, Serialize)]
struct Summary {
    /// Unacknowledged findings at each severity.
    errors: usize,
    warnings: usize,
    notes: usize,
    acknowledged: usize,
    files_checked: usize,
    rules_checked: usize,
    /// The gate (`--fail-on`); `null` when it never fails.
    fail_on: Option<Severity>,
    /// Whether the gate fails: the exit code is 1.
    fails: bool,
}

#[derive(Debug, Serialize)]
struct JsonFinding<'a> {
    rule_id: &'a str,
    title: &'a str,
    severity: Severity,
    category: &'a str,
    message: &'a str,
    ask: &'a str,
    /// `ANALYSIS-ID#FINDING-ID` links.
    findings: &'a [String],
    path: Option<&'a str>,
    line: Option<u32>,
    /// `line` counts in the old version of the file (a removed line matched).
    old_side: bool,
    matched: Option<&'a str>,
    fingerprint: &'a str,
    acknowledged: Option<JsonAckOf<'a>>,
    /// The migration operation an operation rule matched (`drop-column`).
    #[serde(skip_serializing_if = "Option::is_none")]
    operation: Option<&'a str>,
}

/// How a finding was acknowledged.
#[derive(Debug, Serialize)]
struct JsonAckOf<'a> {
    reason: &'a str,
    source: &'a AckSource,
}

/// An acknowledgement that matched no finding.
#[derive(Debug, Serialize)]
struct JsonAck<'a> {
    rule_id: &'a str,
    reason: &'a str,
    source: &'a AckSource,
}

/// The report as pretty-printed JSON, ending in a newline.
pub fn render(report: &Report) -> String {
    let mut bytes = Vec::with_capacity(size_hint(report));
    match write(report, &mut bytes).map(|()| String::from_utf8(bytes)) {
        Ok(Ok(text)) => text,
        // Cannot happen with these types (no maps, no fallible Serialize impls, valid UTF-8);
        // still, a consumer gets a document it can parse rather than a panic or nothing.
        Ok(Err(e)) => fallback(&e.to_string()),
        Err(e) => fallback(&e.to_string()),
    }
}

fn fallback(error: &str) -> String {
    let fallback = serde_json::json!({
        "version": VERSION,
        "tool": "forewarn",
        "error": format!("the report could not be written as JSON: {error}"),
    });
    format!("{fallback}\n")
}

/// Writes the report as pretty-printed JSON, ending in a newline, into `out` as it goes: a
/// report with 100,000 findings is 80 MB of JSON, never held in memory whole. The findings are
/// serialized on every thread, a few chunks at a time, and written in order.
pub fn write(report: &Report, out: &mut dyn io::Write) -> io::Result<()> {
    // `{ "version": … "summary": {…}` without its closing brace, the findings, then the rest
    // without its opening brace: what serde writes for the whole document.
    let head = json_bytes(&Head {
        version: VERSION,
        tool: "forewarn",
        description: &report.description,
        summary: summary(report),
    })?;
    out.write_all(head.strip_suffix(b"\n}").unwrap_or(&head))?;
    out.write_all(b",\n  \"findings\": ")?;
    write_findings(&report.findings, out)?;
    let tail = json_bytes(&Tail {
        unused_acknowledgements: report.unused_acks.iter().map(unused_ack).collect(),
        warnings: &report.warnings,
    })?;
    out.write_all(b",")?;
    out.write_all(tail.strip_prefix(b"{").unwrap_or(&tail))?;
    out.write_all(b"\n")
}

/// Findings serialized together on one thread; a window of a few such chunks per thread is
/// serialized at once, then written, so memory stays bounded.
const CHUNK: usize = 1024;

/// The findings array as serde writes it inside the document: each finding on its own lines,
/// indented two levels.
fn write_findings(findings: &[Finding], out: &mut dyn io::Write) -> io::Result<()> {
    use rayon::prelude::*;
    if findings.is_empty() {
        return out.write_all(b"[]");
    }
    out.write_all(b"[")?;
    let window = CHUNK * 2 * rayon::current_num_threads().max(1);
    for (w, group) in findings.chunks(window).enumerate() {
        let parts: Vec<io::Result<Vec<u8>>> = group
            .par_chunks(CHUNK)
            .enumerate()
            .map(|(c, chunk)| {
                let mut part = Vec::with_capacity(chunk.len() * 1024);
                let mut one = Vec::with_capacity(2048);
                for (k, f) in chunk.iter().enumerate() {
                    let first = w == 0 && c == 0 && k == 0;
                    part.extend_from_slice(if first { b"\n    " } else { b",\n    " });
                    one.clear();
                    serialize_into(&finding(f), &mut one)?;
                    // Strings never hold a raw newline (it is escaped), so every newline is
                    // the formatter's: indent what follows it by the two levels it sits in.
                    let mut lines = one.split(|&b| b == b'\n');
                    if let Some(line) = lines.next() {
                        part.extend_from_slice(line);
                    }
                    for line in lines {
                        part.extend_from_slice(b"\n    ");
                        part.extend_from_slice(line);
                    }
                }
                Ok(part)
            })
            .collect();
        for part in parts {
            out.write_all(&part?)?;
        }
    }
    out.write_all(b"\n  ]")
}

fn json_bytes<T: Serialize>(value: &T) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    serialize_into(value, &mut bytes)?;
    Ok(bytes)
}

fn summary(report: &Report) -> Summary {
    Summary {
        errors: report.count(Severity::Error),
        warnings: report.count(Severity::Warning),
        notes: report.count(Severity::Note),
        acknowledged: report.acknowledged(),
        files_checked: report.files_checked,
        rules_checked: report.rules_checked,
        fail_on: report.fail_on,
        fails: report.fails(),
    }
}

/// About how long the report's JSON is: each finding's own text, plus its keys and
/// indentation. A buffer this large up front is not copied over and over as it grows.
fn size_hint(report: &Report) -> usize {
    report
        .findings
        .iter()
        .map(|f| {
            f.message.len()
                + f.title.len()
                + f.ask.len()
                + f.path.as_deref().map_or(0, str::len)
                + f.matched.as_ref().map_or(0, String::len)
                + f.findings.iter().map(|l| l.len() + 16).sum::<usize>()
                + 400
        })
        .sum()
}

/// Pretty JSON with every control character and bidirectional override escaped ([`TerminalSafe`]);
/// the SARIF and GitLab formats write through it too.
pub(super) fn to_json<T: Serialize + ?Sized>(document: &T) -> Result<String, String> {
    let mut bytes = Vec::new();
    serialize_into(document, &mut bytes).map_err(|e| e.to_string())?;
    String::from_utf8(bytes).map_err(|e| e.to_string())
}

/// [`to_json`] written into `out` as it is serialized.
fn serialize_into<T: Serialize + ?Sized>(document: &T, out: &mut dyn io::Write) -> io::Result<()> {
    let mut serializer = Serializer::with_formatter(out, TerminalSafe(PrettyFormatter::new()));
    document
        .serialize(&mut serializer)
        .map_err(io::Error::other)
}

/// Pretty output that also escapes what serde_json leaves raw but a terminal may act on: DEL, C1
/// controls (0x9b is a one-byte CSI) and bidirectional overrides. Escapes decode to the same text.
struct TerminalSafe(PrettyFormatter<'static>);

impl Formatter for TerminalSafe {
    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        // Every character escaped below starts with one of these bytes; most text has none.
        let may_need_escape = |b: &u8| *b < 0x20 || matches!(*b, 0x7f | 0xc2 | 0xd8 | 0xe2);
        if !fragment.as_bytes().iter().any(may_need_escape) {
            return writer.write_all(fragment.as_bytes());
        }
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            let unsafe_char = c.is_control()
                || matches!(c, '\u{061c}' | '\u{200e}' | '\u{200f}')
                || ('\u{202a}'..='\u{202e}').contains(&c)
                || ('\u{2066}'..='\u{2069}').contains(&c);
            if unsafe_char {
                writer.write_all(&fragment.as_bytes()[start..i])?;
                write!(writer, "\\u{:04x}", u32::from(c))?;
                start = i + c.len_utf8();
            }
        }
        writer.write_all(&fragment.as_bytes()[start..])
    }

    fn begin_array<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.begin_array(writer)
    }

    fn end_array<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.end_array(writer)
    }

    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.0.begin_array_value(writer, first)
    }

    fn end_array_value<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.end_array_value(writer)
    }

    fn begin_object<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.begin_object(writer)
    }

    fn end_object<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.end_object(writer)
    }

    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.0.begin_object_key(writer, first)
    }

    fn begin_object_value<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.begin_object_value(writer)
    }

    fn end_object_value<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.end_object_value(writer)
    }
}

fn finding(f: &Finding) -> JsonFinding<'_> {
    JsonFinding {
        rule_id: &f.rule_id,
        title: &f.title,
        severity: f.severity,
        category: &f.category,
        message: &f.message,
        ask: &f.ask,
        findings: &f.findings,
        path: f.path.as_deref(),
        line: f.line,
        old_side: f.old_side,
        matched: f.matched.as_deref(),
        fingerprint: &f.fingerprint,
        acknowledged: f.acknowledged.as_ref().map(|a| JsonAckOf {
            reason: &a.reason,
            source: &a.source,
        }),
        operation: f.operation,
    }
}

fn unused_ack(a: &Acknowledgement) -> JsonAck<'_> {
    JsonAck {
        rule_id: &a.rule_id,
        reason: &a.reason,
        source: &a.source,
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde_json::{Value, json};

    use super::*;
    use crate::finding::{Snippet, fingerprint};

    // The reference: the document serialized by serde in one piece.

    /// The whole document as one struct, as serde writes it: what [`write`] must write, byte for
    /// byte, in its three parts.
    #[derive(Debug, Serialize)]
    struct Document<'a> {
        version: u32,
        tool: &'static str,
        /// What was compared.
        description: &'a str,
        summary: Summary,
        findings: Findings<'a>,
        unused_acknowledgements: Vec<JsonAck<'a>>,
        warnings: &'a [String],
    }

    /// The findings as serde writes a sequence.
    #[derive(Debug)]
    struct Findings<'a>(&'a [Finding]);

    impl Serialize for Findings<'_> {
        fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            serializer.collect_seq(self.0.iter().map(finding))
        }
    }

    fn document(report: &Report) -> Document<'_> {
        Document {
            version: VERSION,
            tool: "forewarn",
            description: &report.description,
            summary: summary(report),
            findings: Findings(&report.findings),
            unused_acknowledgements: report.unused_acks.iter().map(unused_ack).collect(),
            warnings: &report.warnings,
        }
    }

    fn line_finding() -> Finding {
        let rule_id = "new-migration-needs-deploy-step";
        let path = "payments/migrations/0002_gateway_config.py";
        let matched = "class Migration(migrations.Migration):";
        Finding {
            rule_id: rule_id.into(),
            title: "A new migration needs a deploy step".into(),
            severity: Severity::Error,
            category: "migration".into(),
            message: format!("{path} adds a migration"),
            ask: "Does this migration have to run before the new code starts?".into(),
            findings: vec!["2019-07-payments-config-missing#F2".into()].into(),
            path: Some(path.into()),
            line: Some(3),
            old_side: false,
            matched: Some(matched.into()),
            fingerprint: fingerprint(rule_id, Some(path), Some(matched)),
            snippet: Some(Snippet {
                line_start: 2,
                text: "from django.db import migrations\nclass Migration(migrations.Migration):"
                    .into(),
            }),
            acknowledged: None,
            operation: None,
            subject: None,
        }
    }

    fn report() -> Report {
        let mut acked = line_finding();
        acked.rule_id = "migration-without-schema-dump".into();
        acked.severity = Severity::Warning;
        acked.acknowledged = Some(Box::new(Acknowledgement {
            rule_id: acked.rule_id.to_string(),
            reason: "schema dump is generated in CI".into(),
            source: AckSource::Trailer {
                commit: "3f9c2e1a7b0c".into(),
            },
        }));
        let mut change_wide = line_finding();
        change_wide.rule_id = "too-many-components".into();
        change_wide.severity = Severity::Note;
        change_wide.path = None;
        change_wide.line = None;
        change_wide.matched = None;
        change_wide.snippet = None;
        change_wide.fingerprint = fingerprint("too-many-components", None, None);
        Report {
            description: "merge base of HEAD and origin/main (3f9c2e1) → working tree".into(),
            findings: vec![line_finding(), acked, change_wide],
            unused_acks: vec![Acknowledgement {
                rule_id: "no-such-rule".into(),
                reason: "typo".into(),
                source: AckSource::CommandLine,
            }],
            warnings: vec!["`Forewarn-Ack: x` has no reason and was refused".into()],
            files_checked: 14,
            rules_checked: 23,
            elapsed: Duration::from_millis(40),
            fail_on: Some(Severity::Error),
            removed_line_anchors: Default::default(),
        }
    }

    fn parse(report: &Report) -> Value {
        let text = render(report);
        assert!(text.ends_with('\n'));
        serde_json::from_str(&text).expect("valid JSON")
    }

    #[test]
    fn document_has_version_tool_and_summary() {
        let doc = parse(&report());
        assert_eq!(doc["version"], 1);
        assert_eq!(doc["tool"], "forewarn");
        assert_eq!(
            doc["description"],
            "merge base of HEAD and origin/main (3f9c2e1) → working tree"
        );
        assert_eq!(
            doc["summary"],
            json!({
                "errors": 1, "warnings": 0, "notes": 1, "acknowledged": 1,
                "files_checked": 14, "rules_checked": 23, "fail_on": "error", "fails": true,
            })
        );
        assert_eq!(
            doc["warnings"],
            json!(["`Forewarn-Ack: x` has no reason and was refused"])
        );
    }

    #[test]
    fn findings_carry_every_field() {
        let doc = parse(&report());
        let findings = doc["findings"].as_array().expect("findings array");
        assert_eq!(findings.len(), 3);
        let f = &findings[0];
        let expected = line_finding();
        assert_eq!(f["rule_id"], "new-migration-needs-deploy-step");
        assert_eq!(f["title"], "A new migration needs a deploy step");
        assert_eq!(f["severity"], "error");
        assert_eq!(f["category"], "migration");
        assert_eq!(
            f["message"],
            "payments/migrations/0002_gateway_config.py adds a migration"
        );
        assert_eq!(
            f["ask"],
            "Does this migration have to run before the new code starts?"
        );
        assert_eq!(f["findings"], json!(["2019-07-payments-config-missing#F2"]));
        assert_eq!(f["path"], "payments/migrations/0002_gateway_config.py");
        assert_eq!(f["line"], 3);
        assert_eq!(f["old_side"], false);
        assert_eq!(f["matched"], "class Migration(migrations.Migration):");
        assert_eq!(f["fingerprint"], expected.fingerprint.as_str());
        assert_eq!(f["acknowledged"], Value::Null);
        assert!(f.get("snippet").is_none());

        let change_wide = &findings[2];
        assert_eq!(change_wide["path"], Value::Null);
        assert_eq!(change_wide["line"], Value::Null);
        assert_eq!(change_wide["matched"], Value::Null);
        assert_eq!(change_wide["severity"], "note");
    }

    /// `write` puts the document together from parts, with the findings serialized in chunks
    /// on every thread; it must be, byte for byte, what serde writes for the whole document:
    /// with no findings, one, and several chunks' worth with text that needs escaping.
    #[test]
    fn the_document_written_in_parts_is_what_serde_writes_whole() {
        let reference = |report: &Report| {
            let mut bytes = Vec::new();
            serialize_into(&document(report), &mut bytes).unwrap();
            bytes.push(b'\n');
            String::from_utf8(bytes).unwrap()
        };
        let mut empty = report();
        empty.findings.clear();
        empty.unused_acks.clear();
        empty.warnings.clear();
        let mut one = report();
        one.findings.truncate(1);
        let mut many = report();
        let hostile = "tab\there, newline\nthere, bell \u{7}, quote \" and bidi \u{202e}";
        for i in 0..CHUNK * 5 + 7 {
            let mut f = line_finding();
            f.line = Some(i as u32);
            f.message = format!("{i}: {hostile}");
            f.matched = (i % 3 == 0).then(|| hostile.to_string());
            many.findings.push(f);
        }
        for (name, report) in [("empty", empty), ("one", one), ("many", many)] {
            let expected = reference(&report);
            assert_eq!(render(&report), expected, "{name}");
            let mut streamed = Vec::new();
            write(&report, &mut streamed).unwrap();
            assert_eq!(String::from_utf8(streamed).unwrap(), expected, "{name}");
        }
    }

    #[test]
    fn acknowledgements_name_reason_and_source() {
        let doc = parse(&report());
        assert_eq!(
            doc["findings"][1]["acknowledged"],
            json!({
                "reason": "schema dump is generated in CI",
                "source": {"kind": "trailer", "commit": "3f9c2e1a7b0c"},
            })
        );
        assert_eq!(
            doc["unused_acknowledgements"],
            json!([{"rule_id": "no-such-rule", "reason": "typo", "source": {"kind": "command-line"}}])
        );
    }

    #[test]
    fn empty_report_and_no_gate() {
        let mut r = report();
        r.findings.clear();
        r.unused_acks.clear();
        r.warnings.clear();
        r.fail_on = None;
        let doc = parse(&r);
        assert_eq!(doc["findings"], json!([]));
        assert_eq!(doc["unused_acknowledgements"], json!([]));
        assert_eq!(doc["warnings"], json!([]));
        assert_eq!(doc["summary"]["fail_on"], Value::Null);
        assert_eq!(doc["summary"]["fails"], false);
    }

    #[test]
    fn control_characters_are_escaped_and_round_trip() {
        let mut r = report();
        r.findings[0].message = "evil \x1b[2J\u{9b}31m \u{202e}txet \u{7f}é".into();
        r.findings[0].path = Some("a\nb.py".into());
        let text = render(&r);
        assert!(!text.contains('\x1b') && !text.contains('\u{9b}'), "{text}");
        assert!(
            !text.contains('\u{202e}') && !text.contains('\u{7f}'),
            "{text}"
        );
        assert!(
            text.contains(r"evil \u001b[2J\u009b31m \u202etxet \u007fé"),
            "{text}"
        );
        let doc: Value = serde_json::from_str(&text).expect("valid JSON");
        assert_eq!(
            doc["findings"][0]["message"],
            "evil \x1b[2J\u{9b}31m \u{202e}txet \u{7f}é"
        );
        assert_eq!(doc["findings"][0]["path"], "a\nb.py");
    }

    #[test]
    fn snapshot() {
        insta::assert_snapshot!(render(&report()));
    }
}
