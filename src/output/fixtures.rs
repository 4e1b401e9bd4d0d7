//! Reports and rules shared by the machine formats' tests, so every format is pinned on the same
//! findings: a line finding, an acknowledged one, a removed line, a path-only and a change-wide
//! finding; and a hostile variant whose every field tries to break out of its format.

use std::time::Duration;

use super::Report;
use crate::finding::{AckSource, Acknowledgement, Finding, Snippet, fingerprint};
use crate::rules::{Origin, Rule, Severity};

pub const MIGRATION_PATH: &str = "payments/migrations/0002_gateway_config.py";

pub fn finding(
    rule_id: &str,
    severity: Severity,
    path: Option<&str>,
    line: Option<u32>,
) -> Finding {
    let matched = line.map(|_| "class Migration(migrations.Migration):".to_string());
    Finding {
        rule_id: rule_id.into(),
        title: "A new migration needs a deploy step".into(),
        severity,
        category: "migration".into(),
        message: format!(
            "{} adds a migration; in 2019-07 one ran by hand after the code that needed it",
            path.unwrap_or("this change")
        ),
        ask: "Does this migration have to run before the new code starts?".into(),
        findings: vec!["2019-07-payments-config-missing#F2".into()].into(),
        path: path.map(Into::into),
        line,
        old_side: false,
        fingerprint: fingerprint(rule_id, path, matched.as_deref()),
        matched,
        snippet: line.map(|l| Snippet {
            line_start: l,
            text: "class Migration(migrations.Migration):".into(),
        }),
        acknowledged: None,
        operation: None,
        subject: None,
    }
}

/// Five findings of every shape, sorted the way `check` sorts them.
pub fn report() -> Report {
    let line = finding(
        "new-migration-needs-deploy-step",
        Severity::Error,
        Some(MIGRATION_PATH),
        Some(4),
    );
    let mut acked = finding(
        "migration-without-schema-dump",
        Severity::Warning,
        Some(MIGRATION_PATH),
        Some(4),
    );
    acked.title = "A migration without its schema dump".into();
    acked.acknowledged = Some(Box::new(Acknowledgement {
        rule_id: acked.rule_id.to_string(),
        reason: "the schema dump is generated in CI".into(),
        source: AckSource::Trailer {
            commit: "3f9c2e1a7b0c44d1e2f3".into(),
        },
    }));
    let mut removed = finding(
        "dropped-column",
        Severity::Warning,
        Some("db/schema.sql"),
        Some(12),
    );
    removed.title = "A column is dropped while old code may still read it".into();
    removed.message =
        "db/schema.sql drops `gateway`; hosts still running the old code read it".into();
    removed.ask = "Has every reader of this column been deployed without it?".into();
    removed.old_side = true;
    removed.matched = Some("gateway text NOT NULL,".into());
    removed.snippet = None;
    removed.fingerprint = fingerprint(
        "dropped-column",
        Some("db/schema.sql"),
        Some("gateway text NOT NULL,"),
    );
    let mut path_only = finding(
        "global-config-change",
        Severity::Warning,
        Some("config/feature_flags.yaml"),
        None,
    );
    path_only.title = "A change to a component that reaches every host at once".into();
    path_only.category = "rollout".into();
    path_only.message =
        "config/feature_flags.yaml belongs to `edge`, which rolls out globally".into();
    path_only.ask = "Can this change go out to a few hosts first?".into();
    let mut wide = finding("too-many-components", Severity::Note, None, None);
    wide.title = "This change touches 5 components".into();
    wide.category = "rollout".into();
    wide.message = "api, worker, billing, edge and payments all deploy from this change".into();
    wide.ask = "Can it be split so each part rolls out on its own?".into();
    Report {
        description: "merge base of HEAD and origin/main (3f9c2e1) → working tree".into(),
        findings: vec![path_only, removed, line, acked, wide],
        unused_acks: vec![Acknowledgement {
            rule_id: "no-such-rule".into(),
            reason: "typo".into(),
            source: AckSource::CommandLine,
        }],
        warnings: vec!["`Forewarn-Ack: x` in commit 3f9c2e1a has no reason and was refused".into()],
        files_checked: 14,
        rules_checked: 23,
        elapsed: Duration::from_millis(40),
        fail_on: Some(Severity::Error),
        removed_line_anchors: Default::default(),
    }
}

/// The rules behind [`report`]'s findings (`too-many-components` is left out on purpose: a
/// finding whose rule is not in force still renders), plus one that found nothing.
pub fn rules() -> Vec<Rule> {
    let rule = |id: &str, title: &str, severity: Severity, category: &str| Rule {
        id: id.into(),
        title: title.into(),
        severity,
        default_severity: severity,
        category: category.into(),
        message: "{path} changes something".into(),
        ask: "Is there a deploy step?".into(),
        findings: vec!["2019-07-payments-config-missing#F2".into()],
        why: Some("The new code can start before the step has run.".into()),
        procedure: Some(
            "1. Run the migration in a pre-deploy job.\n2. Deploy the code that needs it.".into(),
        ),
        docs: vec!["https://example.com/deploy-steps".into()],
        matcher: Default::default(),
        unless: Default::default(),
        threshold: Default::default(),
        verify: Vec::new(),
        examples: Vec::new(),
        origin: Origin {
            file: "builtin:rules/migrations.toml".into(),
            line: 1,
            builtin: true,
        },
    };
    let mut undocumented = rule(
        "global-config-change",
        "A change to a component that reaches every host at once",
        Severity::Warning,
        "rollout",
    );
    undocumented.why = None;
    undocumented.procedure = None;
    undocumented.docs = vec!["not a url".into()];
    vec![
        rule(
            "new-migration-needs-deploy-step",
            "A new migration needs a deploy step",
            Severity::Error,
            "migration",
        ),
        rule(
            "migration-without-schema-dump",
            "A migration without its schema dump",
            Severity::Warning,
            "migration",
        ),
        rule(
            "dropped-column",
            "A column is dropped while old code may still read it",
            Severity::Warning,
            "migration",
        ),
        undocumented,
        rule(
            "k8s-recreate-strategy",
            "A Deployment that stops every pod before starting new ones",
            Severity::Note,
            "rollout",
        ),
    ]
}

/// Text that tries every escape: workflow commands, their `%` encoding, markdown, HTML, XML,
/// terminal sequences and bidirectional overrides.
pub const HOSTILE: &str = "::error::pwned %0A%25 a\nb\r\n::warning file=x::y <script>alert(1)</script> \
     ]]> & \"q\" 'a' | **bold** [link](javascript:alert(1)) @everyone #1 `tick` \x1b[2J\u{202e}";

/// A report whose every text field, path and id is [`HOSTILE`].
pub fn hostile_report() -> Report {
    let mut report = report();
    let path = "evil:dir,name/%0A/a b\n::error::x.py";
    for f in &mut report.findings {
        f.rule_id = format!("{}{HOSTILE}", f.rule_id).into();
        f.title = format!("title {HOSTILE}").into();
        f.message = format!("message {HOSTILE}");
        f.ask = format!("ask {HOSTILE}").into();
        f.findings = vec![format!("A#F1{HOSTILE}")].into();
        if f.path.is_some() {
            f.path = Some(path.into());
        }
        if f.matched.is_some() {
            f.matched = Some(format!("matched {HOSTILE}"));
        }
        if let Some(ack) = &mut f.acknowledged {
            ack.reason = format!("reason {HOSTILE}");
        }
    }
    report.description = format!("description {HOSTILE}");
    report.warnings = vec![format!("warning {HOSTILE}")];
    report.unused_acks[0].rule_id = format!("id {HOSTILE}");
    report
}
