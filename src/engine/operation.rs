//! Rules over migration operations: one finding per operation that a rule's `operations`
//! match, at the operation's own line, named by what it does to which table and column.

use std::collections::HashMap;
use std::sync::Arc;

use super::CompiledRule;
use crate::finding::{Finding, fingerprint};
use crate::migration::profile::Database;
use crate::migration::{Analysis, OpKind, Operation};

/// A parsed migration's operations, with where each kind of operation is among them: a rule
/// looks only at the kinds it names (a team with hundreds of operation rules asked every rule
/// of every operation).
pub struct Indexed<'a> {
    operations: &'a [Operation],
    by_kind: HashMap<OpKind, Vec<usize>>,
}

impl<'a> Indexed<'a> {
    pub fn new(analysis: &'a Analysis) -> Indexed<'a> {
        let operations = analysis.operations();
        let mut by_kind: HashMap<OpKind, Vec<usize>> = HashMap::new();
        for (i, op) in operations.iter().enumerate() {
            by_kind.entry(op.kind()).or_default().push(i);
        }
        Indexed {
            operations,
            by_kind,
        }
    }
}

/// Every finding of one operation rule in one parsed migration, in the order of its operations.
pub fn findings(
    compiled: &CompiledRule<'_>,
    path: &Arc<str>,
    indexed: &Indexed<'_>,
    db: &Database,
    out: &mut Vec<Finding>,
) {
    let matcher = &compiled.rule.matcher.operations;
    let mut at: Vec<usize> = matcher
        .kinds
        .iter()
        .filter_map(|k| indexed.by_kind.get(k))
        .flatten()
        .copied()
        .collect();
    at.sort_unstable();
    at.dedup();
    for op in at.into_iter().map(|i| &indexed.operations[i]) {
        if matcher.matches(op, db.engine) {
            out.push(finding(compiled, path, op, db));
        }
    }
}

/// The finding of a file whose structure could not be read (`understood = false` rules), at
/// `line` when the reason has one.
pub fn unread(
    compiled: &CompiledRule<'_>,
    path: &Arc<str>,
    reason: &str,
    line: Option<u32>,
) -> Finding {
    let rule = compiled.rule;
    let mut f = super::finding(compiled, Some(Arc::clone(path)), line, false, None, None);
    f.message = rule
        .message
        .replace("{reason}", reason)
        .replace("{path}", path);
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
    f.subject = Some(Box::new((
        op.table.clone().unwrap_or_default(),
        op.column.clone().unwrap_or_default(),
    )));
    f
}
