//! Whether an edit of an applied migration changes what it does, or only how it is written.
//!
//! Formatters (black, ruff, isort, rubocop) rewrite applied migrations without changing one
//! operation: quotes, trailing commas, line breaks, import order, comments. Both sides are read
//! into tokens with those differences removed; only a difference that survives is an edit.

use ruff_python_ast::comparable::{ComparableExpr, ComparableStmt};
use ruff_python_ast::{Expr, Stmt};

use super::Framework;
use super::python::{self, Source};

/// The first line of `new` whose syntax differs from `old`'s, or `None` when the two differ
/// only in formatting, imports or comments. A side that does not parse counts as different at
/// its first line.
pub fn first_difference(framework: Framework, old: &str, new: &str) -> Option<u32> {
    let (a, b) = match framework {
        Framework::Django | Framework::Alembic => {
            let (Ok(a), Ok(b)) = (python::parse(old), python::parse(new)) else {
                return Some(1);
            };
            return python_difference(&b, a.body(), b.body(), 1);
        }
        Framework::Rails => (generic_tokens(old, "#"), generic_tokens(new, "#")),
        Framework::Sql(_) => (super::sql::tokens(old), super::sql::tokens(new)),
    };
    let (Some(a), Some(b)) = (a, b) else {
        return Some(1);
    };
    let at = a.iter().zip(&b).position(|(x, y)| x.0 != y.0);
    match at {
        Some(i) => Some(b[i].1),
        None if a.len() == b.len() => None,
        None => Some(b.get(a.len()).or(b.last()).map_or(1, |t| t.1)),
    }
}

/// Python compared as syntax trees (ruff's comparable trees: strings by value, no comments,
/// parentheses or trailing commas), imports left out. The line is `new`'s, as deep into the
/// tree as the two agree: the element of a list, the argument of a call.
fn python_difference(src: &Source<'_>, old: &[Stmt], new: &[Stmt], around: u32) -> Option<u32> {
    let keep = |s: &&Stmt| !matches!(s, Stmt::Import(_) | Stmt::ImportFrom(_));
    let old: Vec<&Stmt> = old.iter().filter(keep).collect();
    let new: Vec<&Stmt> = new.iter().filter(keep).collect();
    for (x, y) in old.iter().zip(&new) {
        if ComparableStmt::from(*x) != ComparableStmt::from(*y) {
            return Some(stmt_difference(src, x, y));
        }
    }
    match (old.len(), new.len()) {
        (a, b) if a == b => None,
        (a, b) if a < b => Some(src.line(new[a])),
        _ => Some(new.last().map_or(around, |s| src.end_line(*s))),
    }
}

fn stmt_difference(src: &Source<'_>, old: &Stmt, new: &Stmt) -> u32 {
    let at = src.line(new);
    match (old, new) {
        (Stmt::Assign(x), Stmt::Assign(y))
            if x.targets.len() == y.targets.len()
                && x.targets
                    .iter()
                    .zip(&y.targets)
                    .all(|(a, b)| ComparableExpr::from(a) == ComparableExpr::from(b)) =>
        {
            expr_difference(src, &x.value, &y.value)
        }
        (Stmt::Expr(x), Stmt::Expr(y)) => expr_difference(src, &x.value, &y.value),
        _ => {
            let (a, b) = (python::blocks(old), python::blocks(new));
            if a.len() == b.len() {
                for (x, y) in a.iter().zip(&b) {
                    if let Some(line) = python_difference(src, x, y, at) {
                        return line;
                    }
                }
            }
            at
        }
    }
}

fn expr_difference(src: &Source<'_>, old: &Expr, new: &Expr) -> u32 {
    let same = |a: &Expr, b: &Expr| ComparableExpr::from(a) == ComparableExpr::from(b);
    let list = |a: &[Expr], b: &[Expr]| -> Option<u32> {
        for (x, y) in a.iter().zip(b) {
            if !same(x, y) {
                return Some(expr_difference(src, x, y));
            }
        }
        match a.len().cmp(&b.len()) {
            std::cmp::Ordering::Equal => None,
            std::cmp::Ordering::Less => Some(src.line(&b[a.len()])),
            std::cmp::Ordering::Greater => Some(src.end_line(new)),
        }
    };
    let found = match (old, new) {
        (Expr::List(a), Expr::List(b)) => list(&a.elts, &b.elts),
        (Expr::Tuple(a), Expr::Tuple(b)) => list(&a.elts, &b.elts),
        (Expr::Set(a), Expr::Set(b)) => list(&a.elts, &b.elts),
        (Expr::Call(a), Expr::Call(b)) if same(&a.func, &b.func) => {
            list(&a.arguments.args, &b.arguments.args).or_else(|| {
                let (x, y) = (&a.arguments.keywords, &b.arguments.keywords);
                for (k, l) in x.iter().zip(y.iter()) {
                    if k.arg.as_ref().map(|n| n.as_str()) != l.arg.as_ref().map(|n| n.as_str()) {
                        return Some(src.line(l));
                    }
                    if !same(&k.value, &l.value) {
                        return Some(expr_difference(src, &k.value, &l.value));
                    }
                }
                match x.len().cmp(&y.len()) {
                    std::cmp::Ordering::Equal => None,
                    std::cmp::Ordering::Less => Some(src.line(&y[x.len()])),
                    std::cmp::Ordering::Greater => Some(src.end_line(new)),
                }
            })
        }
        (Expr::Dict(a), Expr::Dict(b)) => {
            let mut found = None;
            for (x, y) in a.items.iter().zip(b.items.iter()) {
                if x.key.as_ref().map(ComparableExpr::from)
                    != y.key.as_ref().map(ComparableExpr::from)
                {
                    found = Some(y.key.as_ref().map_or(src.line(&y.value), |k| src.line(k)));
                    break;
                }
                if !same(&x.value, &y.value) {
                    found = Some(expr_difference(src, &x.value, &y.value));
                    break;
                }
            }
            found.or_else(|| match a.items.len().cmp(&b.items.len()) {
                std::cmp::Ordering::Equal => None,
                std::cmp::Ordering::Less => Some(src.line(&b.items[a.items.len()].value)),
                std::cmp::Ordering::Greater => Some(src.end_line(new)),
            })
        }
        _ => None,
    };
    found.unwrap_or_else(|| src.line(new))
}

/// Tokens of a file split at whitespace and punctuation, with line comments left out: enough to
/// tell a reformatting from a change in Ruby and SQL.
fn generic_tokens(text: &str, comment: &str) -> Option<Vec<(String, u32)>> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let code = line.split(comment).next().unwrap_or("");
        let mut word = String::new();
        for ch in code.chars() {
            if ch.is_alphanumeric() || ch == '_' {
                word.push(ch);
            } else {
                if !word.is_empty() {
                    out.push((std::mem::take(&mut word), i as u32 + 1));
                }
                if !ch.is_whitespace() {
                    let t = if ch == '\'' { '"' } else { ch };
                    out.push((t.to_string(), i as u32 + 1));
                }
            }
        }
        if !word.is_empty() {
            out.push((word, i as u32 + 1));
        }
    }
    // Trailing commas before a closing bracket.
    let mut cleaned: Vec<(String, u32)> = Vec::with_capacity(out.len());
    for t in out {
        if matches!(t.0.as_str(), ")" | "]" | "}") && cleaned.last().is_some_and(|l| l.0 == ",") {
            cleaned.pop();
        }
        cleaned.push(t);
    }
    Some(cleaned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn black_reformatting_is_not_an_edit() {
        let old = "from django.db import migrations, models\nimport x\n\nclass Migration(migrations.Migration):\n    operations = [migrations.RemoveField(model_name='a', name='b',)]\n";
        let new = "import x\nfrom django.db import migrations, models\n\n\nclass Migration(migrations.Migration):\n    # tidy\n    operations = [\n        migrations.RemoveField(\n            model_name=\"a\",\n            name=\"b\",\n        ),\n    ]\n";
        assert_eq!(first_difference(Framework::Django, old, new), None);
        let changed = new.replace("\"b\"", "\"c\"");
        assert_eq!(first_difference(Framework::Django, old, &changed), Some(10));
    }

    #[test]
    fn sql_comment_edits_are_not_edits() {
        let old = "ALTER TABLE t ADD c int; -- add c\n";
        let new = "-- adds c\nALTER TABLE t\n  ADD c int;\n";
        assert_eq!(
            first_difference(
                Framework::Sql(super::super::detect::SqlTool::Plain),
                old,
                new
            ),
            None
        );
    }
}
