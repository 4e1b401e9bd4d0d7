//! Rules over migration operations: one finding per operation that a rule's `operations`
//! match, at the operation's own line, named by what it does to which table and column.

use std::sync::Arc;

use super::CompiledRule;
use crate::finding::{Finding, fingerprint};
use crate::migration::profile::Database;
use crate::migration::{Analysis, Operation};

/// Every finding of one operation rule in one parsed migration.
pub fn findings(
    compiled: &CompiledRule<'_>,
    path: &Arc<str>,
    analysis: &Analysis,
    db: &Database,
    out: &mut Vec<Finding>,
) {
    let rule = compiled.rule;
    for op in analysis.operations() {
        if rule.matcher.operations.matches(op, db.engine) {
            out.push(finding(compiled, path, op, db));
        }
    }
}

/// The finding of a file whose structure could not be read (`understood = false` rules).
pub fn unread(compiled: &CompiledRule<'_>, path: &Arc<str>, reason: &str) -> Finding {
    let rule = compiled.rule;
    let message = rule
        .message
        .replace("{reason}", reason)
        .replace("{path}", path);
    let mut f = super::finding(compiled, Some(Arc::clone(path)), None, false, None, None);
    f.message = rule.render_message(Some(path), None, None);
    f.message = message;
    f
}

fn finding(compiled: &CompiledRule<'_>, path: &Arc<str>, op: &Operation, db: &Database) -> Finding {
    let rule = compiled.rule;
    let subject = op.subject();
    let table = op.table.as_deref().unwrap_or("the table");
    let column = op.column.as_deref().unwrap_or("the column");
    let mut message = rule
        .message
        .replace("{table}", table)
        .replace("{column}", column)
        .replace("{operation}", op.kind().as_str())
        .replace("{path}", path)
        .replace("{line}", &op.line.to_string())
        .replace("{match}", op.text.trim())
        .replace("{reason}", "");
    if let (Some(from), Some(to)) = (&op.from_type, &op.to_type) {
        message.push_str(&format!(" The type changes from {from} to {to}."));
    }
    if op.prior_known == Some(false) {
        message.push_str(
            " Its earlier definition was not found (the history of this migration's folder could not be read), so what changes is not known: read the field before and after.",
        );
    }
    if !rule.matcher.operations.engines.is_empty() || op.metadata_only.is_some() {
        message.push_str(&format!(" This assumes {}.", db.describe()));
    }
    let key = format!("{} {subject}", op.kind().as_str());
    let mut f = super::finding(
        compiled,
        Some(Arc::clone(path)),
        Some(op.line),
        false,
        Some(&op.text),
        Some(&op.text),
    );
    f.message = message;
    f.fingerprint = fingerprint(&rule.id, Some(path), Some(&key));
    f.operation = Some(op.kind().as_str());
    f
}
