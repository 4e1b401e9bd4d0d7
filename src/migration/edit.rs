//! Whether an edit of an applied migration changes what it does, or only how it is written.
//!
//! Formatters (black, ruff, isort, rubocop) rewrite applied migrations without changing one
//! operation: quotes, trailing commas, line breaks, import order, comments. Both sides are read
//! into tokens with those differences removed; only a difference that survives is an edit.

use super::Framework;

/// The first line of `new` whose syntax differs from `old`'s, or `None` when the two differ
/// only in formatting, imports or comments. A side that does not parse counts as different at
/// its first line.
pub fn first_difference(framework: Framework, old: &str, new: &str) -> Option<u32> {
    let (a, b) = match framework {
        Framework::Django | Framework::Alembic => (python_tokens(old), python_tokens(new)),
        Framework::Rails => (generic_tokens(old, "#"), generic_tokens(new, "#")),
        Framework::Sql(_) => (generic_tokens(old, "--"), generic_tokens(new, "--")),
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

/// Leaf tokens of a Python file, with comments, imports and trailing commas left out and
/// strings by their content (so `'a'` and `"a"` agree).
fn python_tokens(text: &str) -> Option<Vec<(String, u32)>> {
    let src = super::python::parse(text).ok()?;
    let mut out: Vec<(String, u32)> = Vec::new();
    let mut stack = vec![src.root()];
    while let Some(n) = stack.pop() {
        match n.kind() {
            "comment"
            | "import_statement"
            | "import_from_statement"
            | "future_import_statement" => {
                continue;
            }
            "string" | "concatenated_string" => {
                let v = super::python::literal(&src, n).unwrap_or_default();
                out.push((format!("str:{v}"), super::python::line(n)));
                continue;
            }
            _ => {}
        }
        if n.child_count() == 0 {
            let t = src.text_of(n);
            if matches!(t, ")" | "]" | "}") && out.last().is_some_and(|l| l.0 == ",") {
                out.pop();
            }
            // Parentheses black adds around long expressions carry no meaning.
            if !matches!(t, "(" | ")")
                || n.parent()
                    .is_some_and(|p| p.kind() != "parenthesized_expression")
            {
                out.push((t.to_string(), super::python::line(n)));
            }
            continue;
        }
        let mut cursor = n.walk();
        let children: Vec<_> = n.children(&mut cursor).collect();
        stack.extend(children.into_iter().rev());
    }
    Some(out)
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
