//! Statements: runs of consecutive changed lines taken together, so a regex can see a statement
//! written over several lines (`ALTER TABLE t` / `ADD CONSTRAINT c FOREIGN KEY ...`).

use crate::diff::Lines;

/// The most lines one statement may join: a cap so a file with no terminators stays linear.
const MAX_LINES: usize = 64;

/// Consecutive lines, as one `\n`-joined slice of the side's buffer (no copy).
pub struct Statement<'a> {
    pub text: &'a str,
    lines: &'a Lines,
    /// Push indices of the first and last line in `lines`.
    first: usize,
    last: usize,
}

impl<'a> Statement<'a> {
    /// The line holding byte `offset` of the statement: its number and text.
    pub fn line_at(&self, offset: usize) -> (u32, &'a str) {
        let base = self.lines.position(self.first).1;
        let mut at = self.first;
        while at < self.last && self.lines.position(at + 1).1 - base <= offset {
            at += 1;
        }
        let (n, start) = self.lines.position(at);
        let rel = start - base;
        let rest = &self.text[rel..];
        (n, rest.split('\n').next().unwrap_or(rest))
    }
}

/// Bracket depth change of a line, ignoring brackets inside quotes (roughly: enough for the
/// calls and DDL that migrations are made of).
fn depth_change(line: &str) -> i32 {
    let mut depth = 0;
    let mut quote: Option<u8> = None;
    for c in line.bytes() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None => match c {
                b'\'' | b'"' | b'`' => quote = Some(c),
                b'(' | b'[' | b'{' => depth += 1,
                b')' | b']' | b'}' => depth -= 1,
                _ => {}
            },
        }
    }
    depth
}

/// Splits lines into statements. A statement ends at a gap in line numbers, a blank line, a line
/// ending with `;`, or (outside SQL, where newlines end statements) a line that leaves brackets
/// balanced.
pub fn split<'a>(lines: &'a Lines, sql: bool) -> Vec<Statement<'a>> {
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    let mut depth = 0i32;
    let mut prev: Option<u32> = None;
    let close = |out: &mut Vec<Statement<'a>>, first: usize, last: usize| {
        out.push(Statement {
            text: lines.joined(first, last),
            lines,
            first,
            last,
        });
    };
    for (index, (n, text)) in lines.iter().enumerate() {
        if prev.is_some_and(|p| p + 1 != n) {
            if let Some(first) = start.take() {
                close(&mut out, first, index - 1);
            }
            depth = 0;
        }
        prev = Some(n);
        let trimmed = text.trim();
        if trimmed.is_empty() {
            if let Some(first) = start.take() {
                close(&mut out, first, index - 1);
            }
            depth = 0;
            continue;
        }
        let first = *start.get_or_insert(index);
        depth += depth_change(text);
        let ends = trimmed.ends_with(';') || (!sql && depth <= 0) || index + 1 - first >= MAX_LINES;
        if ends {
            close(&mut out, first, index);
            start = None;
            depth = 0;
        }
    }
    if let Some(first) = start {
        close(&mut out, first, lines.len() - 1);
    }
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
        let texts: Vec<&str> = s.iter().map(|s| s.text).collect();
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
        assert_eq!(
            s[0].line_at(fk).1,
            "  ADD CONSTRAINT fk FOREIGN KEY (user_id) REFERENCES users (id);"
        );
        assert_eq!(s[0].line_at(0), (1, "ALTER TABLE orders"));
        assert_eq!(s[2].line_at(0), (9, "DROP TABLE x"));
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
        assert!(s.iter().all(|s| s.last + 1 - s.first <= MAX_LINES));
        assert_eq!(s.iter().map(|s| s.last + 1 - s.first).sum::<usize>(), 200);
        assert_eq!(s[1].line_at(0).0, 65);
    }
}
