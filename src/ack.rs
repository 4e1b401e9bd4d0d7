//! Acknowledgements: how an author answers a finding's question, with a reason.
//!
//! Four places: `Forewarn-Ack: <rule-id>: <reason>` trailers in the range's commits, the same
//! syntax in the pull-request body (from the CI event payload) or the GitLab merge-request
//! description (`CI_MERGE_REQUEST_DESCRIPTION`), an inline
//! `forewarn-ack: <rule-id> <reason>` comment on or just above the matched line, and
//! `--ack <rule-id>=<reason>`. An acknowledgement with no reason is refused, not applied.

use crate::diff::{ChangedFile, CommitInfo};
use crate::error::{Error, Result};
use crate::finding::{AckSource, Acknowledgement, Finding};

const TRAILER: &str = "forewarn-ack:";

/// Acknowledgements found, and the ones refused (with a message saying why and how to fix).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Collected {
    pub acks: Vec<Acknowledgement>,
    pub refused: Vec<String>,
}

impl Collected {
    fn absorb(&mut self, other: Collected) {
        self.acks.extend(other.acks);
        self.refused.extend(other.refused);
    }
}

/// Whether `c` shows nothing where it stands: white space, a control character, a
/// default-ignorable code point (Unicode's `Default_Ignorable_Code_Point`: zero-width spaces
/// and joiners, U+2060, U+FEFF, U+3164, U+180E, U+034F, variation selectors, tags...) or the
/// blank Braille pattern U+2800.
fn is_invisible(c: char) -> bool {
    c.is_whitespace()
        || c.is_control()
        || matches!(
            c,
            '\u{00AD}'
                | '\u{034F}'
                | '\u{061C}'
                | '\u{115F}'..='\u{1160}'
                | '\u{17B4}'..='\u{17B5}'
                | '\u{180B}'..='\u{180F}'
                | '\u{200B}'..='\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2060}'..='\u{206F}'
                | '\u{2800}'
                | '\u{3164}'
                | '\u{FE00}'..='\u{FE0F}'
                | '\u{FEFF}'
                | '\u{FFA0}'
                | '\u{FFF0}'..='\u{FFF8}'
                | '\u{1BCA0}'..='\u{1BCA3}'
                | '\u{1D173}'..='\u{1D17A}'
                | '\u{E0000}'..='\u{E0FFF}'
        )
}

/// Whether a reason says something a reader can see: a reason of invisible characters only
/// looks like an answer in a diff and is none.
pub fn is_visible(reason: &str) -> bool {
    reason.chars().any(|c| !is_invisible(c))
}

/// Why an acknowledgement's reason is refused, if it is: empty, or nothing visible.
fn missing_reason(reason: &str) -> Option<&'static str> {
    if reason.is_empty() {
        Some("has no reason")
    } else if !is_visible(reason) {
        Some("has a reason made only of invisible characters")
    } else {
        None
    }
}

/// Splits `<rule-id>: <reason>` (trailer and PR body syntax).
fn split_trailer_value(value: &str) -> (&str, &str) {
    match value.split_once(':') {
        Some((id, reason)) => (id.trim(), reason.trim()),
        None => (value.trim(), ""),
    }
}

/// Reads `Forewarn-Ack:` lines (any case) from a commit message or pull-request body.
pub fn parse_text(text: &str, source: &AckSource, where_: &str) -> Collected {
    let mut out = Collected::default();
    for line in text.lines() {
        let line = line.trim();
        // `get` rather than slicing: the first bytes may end inside a multi-byte character.
        if !line
            .get(..TRAILER.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(TRAILER))
        {
            continue;
        }
        let (id, reason) = split_trailer_value(&line[TRAILER.len()..]);
        let missing = if id.is_empty() {
            Some("has no rule id")
        } else {
            missing_reason(reason)
        };
        if let Some(missing) = missing {
            out.refused.push(format!(
                "acknowledgement `{}` in {where_} {missing}, so it was not applied; write `Forewarn-Ack: {}: <why this change is safe to deploy>`",
                line,
                if id.is_empty() { "<rule-id>" } else { id }
            ));
            continue;
        }
        out.acks.push(Acknowledgement {
            rule_id: id.to_string(),
            reason: reason.to_string(),
            source: source.clone(),
        });
    }
    out
}

/// Trailers from every commit of the range.
pub fn from_commits(commits: &[CommitInfo]) -> Collected {
    let mut out = Collected::default();
    for c in commits {
        let short: String = c.id.chars().take(12).collect();
        out.absorb(parse_text(
            &c.message,
            &AckSource::Trailer {
                commit: c.id.clone(),
            },
            &format!("commit {short}"),
        ));
    }
    out
}

/// The pull-request body from a GitHub event payload (`GITHUB_EVENT_PATH`), if it has one.
pub fn pull_request_body(event_json: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(event_json).ok()?;
    value
        .get("pull_request")?
        .get("body")?
        .as_str()
        .map(str::to_string)
}

/// Acknowledgements in the pull-request body of the CI event at `event_path`.
pub fn from_event_file(event_path: &std::path::Path) -> Result<Collected> {
    let text = std::fs::read_to_string(event_path).map_err(|e| Error::Io {
        action: "read the CI event payload",
        path: event_path.to_path_buf(),
        source: e,
        help: Some("GITHUB_EVENT_PATH should name the event JSON that GitHub Actions writes; unset it to skip pull-request acknowledgements".into()),
    })?;
    Ok(pull_request_body(&text)
        .map(|body| from_pull_request_body(&body))
        .unwrap_or_default())
}

/// Acknowledgements in the body of a pull request as GitHub's REST API returns it
/// (`GET /repos/{owner}/{repo}/pulls/{number}`, named by `FOREWARN_PULL_REQUEST_FILE`): the body
/// as it is now, where the event payload holds it as it was when the event fired.
pub fn from_pull_request_file(path: &std::path::Path) -> Result<Collected> {
    let help = "FOREWARN_PULL_REQUEST_FILE should name the pull request's JSON from the GitHub API; unset it to read the body from the event payload";
    let text = std::fs::read_to_string(path).map_err(|e| Error::Io {
        action: "read the pull request",
        path: path.to_path_buf(),
        source: e,
        help: Some(help.into()),
    })?;
    let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        Error::usage(
            format!("{} is not a pull request's JSON: {e}", path.display()),
            help,
        )
    })?;
    Ok(match value.get("body") {
        Some(serde_json::Value::String(body)) => from_pull_request_body(body),
        // A pull request with no description has `"body": null`.
        Some(serde_json::Value::Null) => Collected::default(),
        _ => {
            return Err(Error::usage(
                format!("{} has no pull-request `body`", path.display()),
                help,
            ));
        }
    })
}

/// Acknowledgements in a pull-request (or merge-request) description. Only what a reader sees
/// counts: a `Forewarn-Ack:` inside an HTML comment (`<!-- ... -->`, hidden when the
/// description is rendered) is not applied, and is reported.
pub fn from_pull_request_body(body: &str) -> Collected {
    from_description(body, "the pull-request body")
}

/// Acknowledgements in a GitLab merge-request description (`CI_MERGE_REQUEST_DESCRIPTION`, set
/// on merge-request pipelines), read by the same rules as a pull-request body. GitLab cuts the
/// variable at 2700 characters and then sets `CI_MERGE_REQUEST_DESCRIPTION_IS_TRUNCATED`: with
/// `truncated`, that is reported, since an acknowledgement past the cut was not read.
pub fn from_merge_request_description(description: &str, truncated: bool) -> Collected {
    let mut out = from_description(description, "the merge-request description");
    if truncated {
        out.refused.push(
            "the merge-request description was cut by GitLab (CI_MERGE_REQUEST_DESCRIPTION_IS_TRUNCATED), so acknowledgements past its first 2700 characters were not read; move `Forewarn-Ack:` lines to the top of the description or into a commit message".to_string(),
        );
    }
    out
}

/// [`from_pull_request_body`] for a description named `where_` in messages.
fn from_description(body: &str, where_: &str) -> Collected {
    let (shown, hidden) = split_html_comments(body);
    let mut out = parse_text(&shown, &AckSource::PullRequest, where_);
    let in_comments = parse_text(&hidden, &AckSource::PullRequest, where_);
    for ack in in_comments.acks {
        out.refused.push(format!(
            "acknowledgement of `{}` in {where_} is inside an HTML comment (`<!-- -->`), which hides it from readers, so it was not applied; write it outside the comment",
            ack.rule_id
        ));
    }
    out
}

/// The text outside HTML comments and the text inside them, each line kept whole where a
/// comment starts or ends in the middle of it. An unclosed `<!--` hides the rest, as it does
/// when rendered.
fn split_html_comments(text: &str) -> (String, String) {
    let (mut shown, mut hidden) = (String::new(), String::new());
    let mut rest = text;
    loop {
        match rest.find("<!--") {
            None => {
                shown.push_str(rest);
                break;
            }
            Some(open) => {
                shown.push_str(&rest[..open]);
                shown.push('\n');
                let inside = &rest[open + 4..];
                match inside.find("-->") {
                    Some(close) => {
                        hidden.push_str(&inside[..close]);
                        hidden.push('\n');
                        rest = &inside[close + 3..];
                    }
                    None => {
                        hidden.push_str(inside);
                        break;
                    }
                }
            }
        }
    }
    (shown, hidden)
}

/// `--ack <rule-id>=<reason>`; a missing reason is a usage error (exit 2).
pub fn parse_cli(arg: &str) -> Result<Acknowledgement> {
    let (id, reason) = arg.split_once('=').unwrap_or((arg, ""));
    let (id, reason) = (id.trim(), reason.trim());
    if let Some(missing) = missing_reason(reason).or(id.is_empty().then_some("has no rule id")) {
        return Err(Error::usage(
            format!("--ack {arg:?} {missing}"),
            format!(
                "an acknowledgement answers the rule's question: --ack {}=\"<why this change is safe to deploy>\"",
                if id.is_empty() { "<rule-id>" } else { id }
            ),
        ));
    }
    Ok(Acknowledgement {
        rule_id: id.to_string(),
        reason: reason.to_string(),
        source: AckSource::CommandLine,
    })
}

/// An inline `forewarn-ack: <rule-id> <reason>` in one line of text, in any comment syntax.
/// Returns `(rule id, reason)`; the reason may be empty (refused by the caller).
pub fn parse_inline(line: &str) -> Option<(&str, &str)> {
    let lower = line.to_ascii_lowercase();
    let at = lower.find(TRAILER)?;
    let rest = line[at + TRAILER.len()..].trim();
    let (id, reason) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    // Trailing comment closers (`*/`, `-->`) are not part of the reason.
    let reason = reason
        .trim()
        .trim_end_matches("*/")
        .trim_end_matches("-->")
        .trim();
    Some((id.trim_end_matches(':'), reason))
}

/// Looks for inline acknowledgements on or just above each line finding: in its snippet (the new
/// version of the file), or, when only the diff is known, in the file's added lines.
pub fn apply_inline(findings: &mut [Finding], files: &[ChangedFile], refused: &mut Vec<String>) {
    for f in findings.iter_mut() {
        let (Some(path), Some(line)) = (f.path.as_deref(), f.line) else {
            continue;
        };
        if f.old_side || f.acknowledged.is_some() {
            continue;
        }
        let candidates = [line, line.saturating_sub(1)];
        for n in candidates.into_iter().filter(|&n| n > 0) {
            let text = match &f.snippet {
                Some(s) => s.lines().find(|&(l, _)| l == n).map(|(_, t)| t.to_string()),
                None => files
                    .iter()
                    .find(|c| c.path == path)
                    .and_then(|c| c.added.get(n).map(str::to_string)),
            };
            let Some(text) = text else { continue };
            let Some((id, reason)) = parse_inline(&text) else {
                continue;
            };
            if id != &*f.rule_id {
                continue;
            }
            if let Some(missing) = missing_reason(reason) {
                refused.push(format!(
                    "{path}:{n}: inline acknowledgement of `{id}` {missing}, so it was not applied; write `forewarn-ack: {id} <why this change is safe to deploy>`"
                ));
                continue;
            }
            f.acknowledged = Some(Box::new(Acknowledgement {
                rule_id: id.to_string(),
                reason: reason.to_string(),
                source: AckSource::Inline { line: n },
            }));
            break;
        }
    }
}

/// Applies change-wide acknowledgements (trailers, PR body, `--ack`) by rule id. Returns those
/// that matched no finding: reported as unused, since a rule id may be misspelt.
pub fn apply(findings: &mut [Finding], acks: &[Acknowledgement]) -> Vec<Acknowledgement> {
    let mut unused = Vec::new();
    for ack in acks {
        let mut used = false;
        for f in findings.iter_mut().filter(|f| *f.rule_id == *ack.rule_id) {
            used = true;
            if f.acknowledged.is_none() {
                f.acknowledged = Some(Box::new(ack.clone()));
            }
        }
        if !used {
            unused.push(ack.clone());
        }
    }
    unused
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::{ChangeSet, FileStatus};
    use crate::finding::Snippet;
    use crate::rules::Severity;

    fn finding(rule: &str, path: &str, line: Option<u32>) -> Finding {
        Finding {
            rule_id: rule.into(),
            title: "".into(),
            severity: Severity::Error,
            category: "".into(),
            message: String::new(),
            ask: "".into(),
            findings: vec![].into(),
            path: Some(path.into()),
            line,
            old_side: false,
            matched: None,
            fingerprint: String::new(),
            snippet: None,
            acknowledged: None,
            operation: None,
            subject: None,
        }
    }

    #[test]
    fn trailers_need_a_reason() {
        let msg = "Add gateway config\n\nForewarn-Ack: new-migration: run by the release job\nforewarn-ack: other-rule\n";
        let got = parse_text(msg, &AckSource::PullRequest, "commit abc");
        assert_eq!(got.acks.len(), 1);
        assert_eq!(got.acks[0].rule_id, "new-migration");
        assert_eq!(got.acks[0].reason, "run by the release job");
        assert_eq!(got.refused.len(), 1);
        assert!(got.refused[0].contains("commit abc"));
        assert!(got.refused[0].contains("Forewarn-Ack: other-rule: <why"));
    }

    #[test]
    fn a_multibyte_character_where_the_trailer_key_would_end_is_not_a_panic() {
        let got = parse_text("¥𗀪:\u{feff}x", &AckSource::PullRequest, "pr");
        assert!(got.acks.is_empty() && got.refused.is_empty());
    }

    #[test]
    fn pull_request_body_from_event() {
        let event = r#"{"pull_request": {"number": 7, "body": "Summary\r\nForewarn-Ack: r1: staged by hand\r\n"}}"#;
        let body = pull_request_body(event).unwrap();
        let got = parse_text(&body, &AckSource::PullRequest, "pr");
        assert_eq!(got.acks[0].reason, "staged by hand");
        assert_eq!(pull_request_body(r#"{"push": {}}"#), None);
        assert_eq!(pull_request_body("not json"), None);
        assert_eq!(
            pull_request_body(r#"{"pull_request": {"body": null}}"#),
            None
        );
    }

    #[test]
    fn merge_request_description_by_the_pull_request_rules() {
        let got = from_merge_request_description(
            "Forewarn-Ack: r1: run by the release job\nForewarn-Ack: r2: \u{200b}\n<!-- Forewarn-Ack: r3: hidden -->",
            false,
        );
        assert_eq!(got.acks.len(), 1);
        assert_eq!(got.acks[0].rule_id, "r1");
        assert_eq!(got.refused.len(), 2, "{:?}", got.refused);
        assert!(got.refused[0].contains(
            "in the merge-request description has a reason made only of invisible characters"
        ));
        assert!(
            got.refused[1]
                .contains("`r3` in the merge-request description is inside an HTML comment")
        );
        let cut = from_merge_request_description("Forewarn-Ack: r1: ok", true);
        assert_eq!(cut.acks.len(), 1);
        assert!(cut.refused[0].contains("CI_MERGE_REQUEST_DESCRIPTION_IS_TRUNCATED"));
    }

    #[test]
    fn cli_ack_refuses_missing_reason() {
        assert_eq!(parse_cli("r1=because").unwrap().reason, "because");
        assert!(parse_cli("r1").is_err());
        assert!(parse_cli("r1=  ").is_err());
    }

    #[test]
    fn inline_syntax_in_several_comment_styles() {
        assert_eq!(
            parse_inline("-- forewarn-ack: r1 runs in the release job"),
            Some(("r1", "runs in the release job"))
        );
        assert_eq!(
            parse_inline("x = 1  # Forewarn-Ack: r1: safe"),
            Some(("r1", "safe"))
        );
        assert_eq!(
            parse_inline("/* forewarn-ack: r1 ok */"),
            Some(("r1", "ok"))
        );
        assert_eq!(
            parse_inline("<!-- forewarn-ack: r1 ok -->"),
            Some(("r1", "ok"))
        );
        assert_eq!(parse_inline("nothing here"), None);
    }

    #[test]
    fn inline_on_or_above_the_line_from_snippet_or_diff() {
        let mut with_snippet = finding("r1", "a.sql", Some(11));
        with_snippet.snippet = Some(Snippet {
            line_start: 9,
            text: "x\n-- forewarn-ack: r1 table is empty\nDROP TABLE t;".into(),
        });
        let mut from_diff = finding("r1", "b.sql", Some(2));
        let mut wrong_rule = finding("r2", "b.sql", Some(2));
        let mut too_far = finding("r1", "b.sql", Some(5));
        let mut file = ChangedFile::new("b.sql", FileStatus::Added);
        file.added
            .push(1, "-- forewarn-ack: r1 new table, no readers yet");
        file.added.push(2, "DROP TABLE t;");
        file.added.push(3, "-- forewarn-ack: r1");
        file.added.push(4, "x");
        file.added.push(5, "DROP TABLE u;");
        let changes = ChangeSet {
            files: vec![file],
            ..ChangeSet::default()
        };
        let mut findings = vec![
            with_snippet.clone(),
            from_diff.clone(),
            wrong_rule.clone(),
            too_far.clone(),
        ];
        let mut refused = vec![];
        apply_inline(&mut findings, &changes.files, &mut refused);
        [with_snippet, from_diff, wrong_rule, too_far] = findings.try_into().unwrap();
        assert_eq!(
            with_snippet.acknowledged.unwrap().source,
            AckSource::Inline { line: 10 }
        );
        assert_eq!(
            from_diff.acknowledged.unwrap().reason,
            "new table, no readers yet"
        );
        assert!(wrong_rule.acknowledged.is_none());
        assert!(too_far.acknowledged.is_none());
        assert!(refused.is_empty());
    }

    #[test]
    fn apply_marks_all_findings_of_the_rule_and_reports_unused() {
        let mut findings = vec![
            finding("r1", "a", None),
            finding("r1", "b", None),
            finding("r2", "c", None),
        ];
        let acks = vec![parse_cli("r1=ok").unwrap(), parse_cli("typo=ok").unwrap()];
        let unused = apply(&mut findings, &acks);
        assert!(findings[0].acknowledged.is_some() && findings[1].acknowledged.is_some());
        assert!(findings[2].acknowledged.is_none());
        assert_eq!(unused.len(), 1);
        assert_eq!(unused[0].rule_id, "typo");
    }
}
