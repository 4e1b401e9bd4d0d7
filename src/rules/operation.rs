//! `[rule.match] operations`: rules over what a migration does, not how it is spelled.
//!
//! ```toml
//! [rule.match]
//! operations = ["add-index"]
//! engines = ["postgres"]          # only where the verdict holds
//! [rule.match.when]               # conditions on the operation's attributes
//! concurrently = false
//! new-table = false
//! ```
//! Operations in the down half, and those that change only the ORM's state, match only when a
//! rule asks for them (`down = true`, `state-only = true`).

use std::collections::BTreeMap;

use serde::Serialize;
use toml::Spanned;

use crate::error::SourceError;
use crate::migration::profile::Engine;
use crate::migration::{ATTRIBUTES, OpKind, Operation, Phase};

/// What operations a rule matches.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct OperationMatch {
    pub kinds: Vec<OpKind>,
    /// `(attribute, wanted value)`: every one must hold.
    pub when: Vec<(String, bool)>,
    /// Engines the verdict holds on; empty means any.
    pub engines: Vec<Engine>,
}

impl OperationMatch {
    pub fn is_set(&self) -> bool {
        !self.kinds.is_empty()
    }

    /// Whether `op`, in a migration that runs on `engine`, is one this rule is about.
    pub fn matches(&self, op: &Operation, engine: Engine) -> bool {
        if !self.kinds.contains(&op.kind()) {
            return false;
        }
        if !self.engines.is_empty() && !self.engines.contains(&engine) {
            return false;
        }
        let asked = |name: &str| self.when.iter().any(|(n, _)| n == name);
        if !asked("down") && op.phase == Phase::Down {
            return false;
        }
        if !asked("state-only") && op.state_only {
            return false;
        }
        self.when
            .iter()
            .all(|(name, want)| op.attribute(name) == Some(*want))
    }
}

/// Checks the TOML of an operation match, pushing a located error for each unknown kind,
/// attribute or engine.
pub fn parse(
    path: &str,
    text: &str,
    kinds: &[Spanned<String>],
    when: &BTreeMap<Spanned<String>, bool>,
    engines: &[Spanned<String>],
    errors: &mut Vec<SourceError>,
) -> OperationMatch {
    let mut out = OperationMatch::default();
    for k in kinds {
        match OpKind::parse(k.get_ref()) {
            Some(kind) => out.kinds.push(kind),
            None => {
                let known: Vec<&str> = OpKind::ALL.iter().map(|k| k.as_str()).collect();
                errors.push(
                    SourceError::new(path, text, k.span(), "unknown migration operation")
                        .label(format!(
                            "`{}` is not an operation forewarn knows",
                            k.get_ref()
                        ))
                        .help(format!("use one of: {}", known.join(", "))),
                );
            }
        }
    }
    for (name, want) in when {
        if ATTRIBUTES.contains(&name.get_ref().as_str()) {
            out.when.push((name.get_ref().clone(), *want));
        } else {
            errors.push(
                SourceError::new(path, text, name.span(), "unknown operation attribute")
                    .label(format!(
                        "`{}` is not an attribute of an operation",
                        name.get_ref()
                    ))
                    .help(format!("use one of: {}", ATTRIBUTES.join(", "))),
            );
        }
    }
    for e in engines {
        match Engine::parse(e.get_ref()) {
            Some(engine) => out.engines.push(engine),
            None => {
                let known: Vec<&str> = Engine::ALL.iter().map(|e| e.as_str()).collect();
                errors.push(
                    SourceError::new(path, text, e.span(), "unknown database engine")
                        .label(format!("`{}` is not an engine forewarn knows", e.get_ref()))
                        .help(format!("use one of: {}", known.join(", "))),
                );
            }
        }
    }
    out
}
