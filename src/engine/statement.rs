//! Statements: runs of consecutive changed lines joined, so a regex can see a statement written
//! over several lines (`ALTER TABLE t` / `ADD CONSTRAINT c FOREIGN KEY ...`).

use crate::diff::Lines;

/// The most lines one statement may join: a cap so a file with no terminators stays linear.
const MAX_LINES: usize = 64;

/// Consecutive lines joined with `\n`, and where each line starts in the text.
pub struct Statement<'a> {
    pub text: String,
    /// (line number, start offset in `text`, line text)
    lines: Vec<(u32, usize, &'a str)>,
}

impl<'a> Statement<'a> {
    /// The line holding byte `offset` of the statement, and its text.
    pub fn line_at(&self, offset: usize) -> (u32, &'a str) {
        let i = self
            .lines
            .partition_point(|&(_, start, _)| start <= offset)
            .saturating_sub(1);
        let (n, _, text) = self.lines[i];
        (n, text)
    }
}

/// Bracket depth change of a line, ignoring brackets inside quotes (roughly: enough for the
/// calls and DDL that migrations are made of).
fn depth_change(line: &str) -> i32 {
    let mut depth = 0;
    let mut quote: Option<char> = None;
    for c in line.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None => match c {
                '\'' | '"' | '`' => quote = Some(c),
                '(' | '[' | '{' => depth += 1,
                ')' | ']' | '}' => depth -= 1,
                _ => {}
            },
        }
    }
    depth
}

/// Splits lines into statements. A statement ends at a gap in line numbers, a blank line, a line
/// ending with `;`, or (outside SQL, where newlines end statements) a line that leaves brackets
/// balanced.
pub fn split(lines: &Lines, sql: bool) -> Vec<Statement<'_>> {
    let mut out = Vec::new();
    let mut current: Option<Statement> = None;
    let mut depth = 0i32;
    let mut prev: Option<u32> = None;
    for (n, text) in lines.iter() {
        if prev.is_some_and(|p| p + 1 != n) {
            out.extend(current.take());
            depth = 0;
        }
        prev = Some(n);
        let trimmed = text.trim();
        if trimmed.is_empty() {
            out.extend(current.take());
            depth = 0;
            continue;
        }
        let stmt = current.get_or_insert_with(|| Statement {
            text: String::new(),
            lines: Vec::new(),
        });
        if !stmt.text.is_empty() {
            stmt.text.push('\n');
        }
        stmt.lines.push((n, stmt.text.len(), text));
        stmt.text.push_str(text);
        depth += depth_change(text);
        let ends = trimmed.ends_with(';') || (!sql && depth <= 0) || stmt.lines.len() >= MAX_LINES;
        if ends {
            out.extend(current.take());
            depth = 0;
        }
    }
    out.extend(current);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(items: &[(u32, &str)]) -> Lines {
        let mut l = Lines::new();
        for (n, t) in items {
            l.push(*n, t);
        }
        l
    }

    #[test]
    fn sql_statements_end_at_semicolons_and_gaps() {
        let l = lines(&[
            (1, "ALTER TABLE orders"),
            (
                2,
                "  ADD CONSTRAINT fk FOREIGN KEY (user_id) REFERENCES users (id);",
            ),
            (3, "CREATE INDEX i ON t (c);"),
            (9, "DROP TABLE x"),
        ]);
        let s = split(&l, true);
        let texts: Vec<&str> = s.iter().map(|s| s.text.as_str()).collect();
        assert_eq!(
            texts,
            vec![
                "ALTER TABLE orders\n  ADD CONSTRAINT fk FOREIGN KEY (user_id) REFERENCES users (id);",
                "CREATE INDEX i ON t (c);",
                "DROP TABLE x"
            ]
        );
        let fk = s[0].text.find("FOREIGN").unwrap();
        assert_eq!(s[0].line_at(fk).0, 2);
        assert_eq!(s[0].line_at(0).0, 1);
    }

    #[test]
    fn code_statements_end_when_brackets_balance() {
        let l = lines(&[
            (1, "op.create_index("),
            (2, "    'ix', 'users', ['email'],"),
            (3, "    postgresql_concurrently=True,"),
            (4, ")"),
            (5, "op.drop_table('x')"),
        ]);
        let s = split(&l, false);
        assert_eq!(s.len(), 2);
        assert!(s[0].text.contains("postgresql_concurrently"));
        assert_eq!(s[1].text, "op.drop_table('x')");
    }

    #[test]
    fn long_runs_are_capped() {
        let items: Vec<(u32, String)> = (1..=200).map(|n| (n, format!("col{n} text,"))).collect();
        let mut l = Lines::new();
        for (n, t) in &items {
            l.push(*n, t);
        }
        let s = split(&l, true);
        assert!(s.iter().all(|s| s.lines.len() <= MAX_LINES));
        assert_eq!(s.iter().map(|s| s.lines.len()).sum::<usize>(), 200);
    }
}
