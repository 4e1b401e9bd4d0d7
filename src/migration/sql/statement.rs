//! One SQL statement's tokens classified into operations: `CREATE`, `DROP`, `ALTER TABLE` and
//! its actions, data statements, and the procedural blocks that hide more of them.

use super::{Spanned, SqlTool, Tok, read};
use crate::migration::profile::Engine;
use crate::migration::{OpKind, Operation, types};

/// A cursor over one statement's tokens.
struct Cursor<'s> {
    toks: &'s [Spanned],
    at: usize,
}

impl<'s> Cursor<'s> {
    fn peek_word(&self) -> Option<&'s str> {
        match self.toks.get(self.at).map(|t| &t.tok) {
            Some(Tok::Word { upper, .. }) => Some(upper.as_str()),
            _ => None,
        }
    }

    fn word_at(&self, at: usize) -> Option<&'s str> {
        match self.toks.get(at).map(|t| &t.tok) {
            Some(Tok::Word { upper, .. }) => Some(upper.as_str()),
            _ => None,
        }
    }

    /// Consumes the keywords if they come next, in order.
    fn eat(&mut self, words: &[&str]) -> bool {
        for (i, w) in words.iter().enumerate() {
            if self.word_at(self.at + i) != Some(*w) {
                return false;
            }
        }
        self.at += words.len();
        true
    }

    fn line(&self) -> u32 {
        self.toks
            .get(self.at)
            .or(self.toks.last())
            .map_or(1, |t| t.line)
    }

    /// A possibly qualified name: `schema.table`, `"Quoted"`, `` `t` ``.
    fn name(&mut self) -> Option<String> {
        let mut parts = Vec::new();
        loop {
            match self.toks.get(self.at).map(|t| &t.tok) {
                Some(Tok::Word { name, .. }) => parts.push(name.clone()),
                Some(Tok::Str(s)) => parts.push(s.clone()),
                _ => break,
            }
            self.at += 1;
            if matches!(self.toks.get(self.at).map(|t| &t.tok), Some(Tok::Sym(s)) if s == ".") {
                self.at += 1;
            } else {
                break;
            }
        }
        (!parts.is_empty()).then(|| parts.join("."))
    }

    /// Skips to the next comma at depth 0 (or the end); returns the tokens skipped.
    fn clause(&mut self) -> &'s [Spanned] {
        let start = self.at;
        let mut depth = 0i32;
        while let Some(t) = self.toks.get(self.at) {
            match t.tok {
                Tok::LParen => depth += 1,
                Tok::RParen => depth -= 1,
                Tok::Comma if depth <= 0 => break,
                _ => {}
            }
            self.at += 1;
        }
        &self.toks[start..self.at]
    }

    fn done(&self) -> bool {
        self.at >= self.toks.len()
    }
}

fn has_words(toks: &[Spanned], words: &[&str]) -> bool {
    toks.windows(words.len()).any(|w| {
        w.iter()
            .zip(words)
            .all(|(t, want)| matches!(&t.tok, Tok::Word { upper, .. } if upper == want))
    })
}

/// The text of tokens after a keyword up to the next keyword in `stops`: a type or an
/// expression.
fn text_after(toks: &[Spanned], keyword: &[&str], stops: &[&str]) -> Option<String> {
    let start = (0..toks.len()).find(|&i| {
        keyword.iter().enumerate().all(|(k, w)| {
            matches!(toks.get(i + k).map(|t| &t.tok), Some(Tok::Word { upper, .. }) if upper == w)
        })
    })? + keyword.len();
    let mut out = String::new();
    let mut depth = 0;
    for t in &toks[start..] {
        match &t.tok {
            Tok::Word { upper, .. } if depth == 0 && stops.contains(&upper.as_str()) => break,
            Tok::LParen => depth += 1,
            Tok::RParen => depth -= 1,
            _ => {}
        }
        let piece = match &t.tok {
            Tok::Word { name, .. } => name.clone(),
            Tok::Str(s) => format!("'{s}'"),
            Tok::Sym(s) => s.clone(),
            Tok::LParen => "(".into(),
            Tok::RParen => ")".into(),
            Tok::Comma => ",".into(),
            Tok::Semi => ";".into(),
        };
        if !out.is_empty() && !matches!(piece.as_str(), "(" | ")" | ",") && !out.ends_with('(') {
            out.push(' ');
        }
        out.push_str(&piece);
    }
    let out = out.trim().to_string();
    (!out.is_empty()).then_some(out)
}

const COLUMN_STOPS: [&str; 12] = [
    "NOT",
    "NULL",
    "DEFAULT",
    "REFERENCES",
    "UNIQUE",
    "PRIMARY",
    "CHECK",
    "CONSTRAINT",
    "GENERATED",
    "COLLATE",
    "USING",
    "AFTER",
];

/// The plain column names of an index's `(a, b)`, joined with `, `; expressions are left out.
fn index_columns(c: &mut Cursor<'_>) -> Option<String> {
    if !matches!(c.toks.get(c.at).map(|t| &t.tok), Some(Tok::LParen)) {
        return None;
    }
    let mut names = Vec::new();
    let mut depth = 0;
    let mut expecting = true;
    for t in &c.toks[c.at + 1..] {
        match &t.tok {
            Tok::LParen => depth += 1,
            Tok::RParen if depth == 0 => break,
            Tok::RParen => depth -= 1,
            Tok::Comma if depth == 0 => expecting = true,
            Tok::Word { name, .. } if depth == 0 && expecting => {
                names.push(name.clone());
                expecting = false;
            }
            _ => {}
        }
    }
    (!names.is_empty()).then(|| names.join(", "))
}

/// The columns of `CREATE TABLE t (...)`, as columns added to a new table: what later type
/// changes are judged against.
fn column_definitions(c: &mut Cursor<'_>, table: Option<String>, ops: &mut Vec<Operation>) {
    if !matches!(c.toks.get(c.at).map(|t| &t.tok), Some(Tok::LParen)) {
        return;
    }
    c.at += 1;
    let mut start = c.at;
    let mut depth = 0i32;
    while c.at <= c.toks.len() {
        let end_of_clause = match c.toks.get(c.at).map(|t| &t.tok) {
            None => true,
            Some(Tok::LParen) => {
                depth += 1;
                false
            }
            Some(Tok::RParen) if depth == 0 => true,
            Some(Tok::RParen) => {
                depth -= 1;
                false
            }
            Some(Tok::Comma) => depth == 0,
            _ => false,
        };
        if end_of_clause {
            let clause = &c.toks[start..c.at.min(c.toks.len())];
            let first = clause.first().map(|t| &t.tok);
            let constraint = matches!(first, Some(Tok::Word { upper, .. }) if matches!(
                upper.as_str(),
                "CONSTRAINT" | "PRIMARY" | "UNIQUE" | "FOREIGN" | "CHECK" | "EXCLUDE" | "LIKE"
                    | "INDEX" | "KEY" | "FULLTEXT" | "SPATIAL"
            ));
            if !constraint && !clause.is_empty() {
                let mut cc = Cursor {
                    toks: clause,
                    at: 0,
                };
                let mut o = Operation::new(OpKind::AddColumn, clause[0].line);
                o.table = table.clone();
                o.column = cc.name();
                let rest = &clause[cc.at..];
                o.to_type = text_after(rest, &[], &COLUMN_STOPS);
                o.nullable = Some(!has_words(rest, &["NOT", "NULL"]));
                o.db_default = Some(has_words(rest, &["DEFAULT"]));
                o.new_table = true;
                ops.push(o);
            }
            if matches!(c.toks.get(c.at).map(|t| &t.tok), Some(Tok::RParen) | None) {
                break;
            }
            start = c.at + 1;
        }
        c.at += 1;
    }
}

pub(super) fn classify(
    toks: &[Spanned],
    engine: Engine,
    ops: &mut Vec<Operation>,
    in_transaction: &mut Option<bool>,
    explicit_tx: &mut bool,
) {
    let mut c = Cursor { toks, at: 0 };
    let line = c.line();
    let op = |kind: OpKind, line: u32| Operation::new(kind, line);
    match c.peek_word() {
        Some("BEGIN") | Some("START") if toks.len() <= 3 => {
            *in_transaction = Some(true);
            *explicit_tx = true;
        }
        Some("COMMIT") | Some("END") | Some("ROLLBACK") if toks.len() <= 3 && *explicit_tx => {
            *in_transaction = Some(false);
            *explicit_tx = false;
        }
        Some("CREATE") => {
            c.at += 1;
            c.eat(&["OR", "REPLACE"]);
            let unique = c.eat(&["UNIQUE"]);
            for w in ["UNLOGGED", "TEMP", "TEMPORARY", "GLOBAL", "LOCAL"] {
                c.eat(&[w]);
            }
            if c.eat(&["TABLE"]) {
                c.eat(&["IF", "NOT", "EXISTS"]);
                let mut o = op(OpKind::CreateTable, line);
                o.table = c.name();
                let table = o.table.clone();
                ops.push(o);
                column_definitions(&mut c, table, ops);
            } else if c.eat(&["INDEX"]) {
                let concurrently = c.eat(&["CONCURRENTLY"]);
                c.eat(&["IF", "NOT", "EXISTS"]);
                if c.peek_word() != Some("ON") {
                    c.name();
                }
                let mut o = op(
                    if unique {
                        OpKind::AddUnique
                    } else {
                        OpKind::AddIndex
                    },
                    line,
                );
                if c.eat(&["ON"]) {
                    c.eat(&["ONLY"]);
                    o.table = c.name();
                    if c.eat(&["USING"]) {
                        c.name();
                    }
                    o.column = index_columns(&mut c);
                }
                o.concurrently = Some(concurrently);
                o.unique = Some(unique);
                ops.push(o);
            } else if c.eat(&["TYPE"]) || c.eat(&["FUNCTION"]) || c.eat(&["VIEW"]) {
                // New objects that nothing reads yet.
            }
        }
        Some("DROP") => {
            c.at += 1;
            if c.eat(&["TABLE"]) {
                c.eat(&["IF", "EXISTS"]);
                loop {
                    let mut o = op(OpKind::DropTable, c.line());
                    o.table = c.name();
                    ops.push(o);
                    if matches!(c.toks.get(c.at).map(|t| &t.tok), Some(Tok::Comma)) {
                        c.at += 1;
                    } else {
                        break;
                    }
                }
            } else if c.eat(&["INDEX"]) {
                let concurrently = c.eat(&["CONCURRENTLY"]);
                c.eat(&["IF", "EXISTS"]);
                let mut o = op(OpKind::DropIndex, line);
                o.column = c.name();
                o.concurrently = Some(concurrently);
                ops.push(o);
            } else if c.eat(&["SCHEMA"]) || c.eat(&["DATABASE"]) {
                c.eat(&["IF", "EXISTS"]);
                let mut o = op(OpKind::DropSchema, line);
                o.table = c.name();
                ops.push(o);
            }
        }
        Some("TRUNCATE") => {
            c.at += 1;
            c.eat(&["TABLE"]);
            c.eat(&["ONLY"]);
            let mut o = op(OpKind::Truncate, line);
            o.table = c.name();
            ops.push(o);
        }
        Some("RENAME") => {
            c.at += 1;
            if c.eat(&["TABLE"]) {
                let mut o = op(OpKind::RenameTable, line);
                o.table = c.name();
                ops.push(o);
            }
        }
        Some("ALTER") => {
            c.at += 1;
            if c.eat(&["TABLE"]) {
                c.eat(&["IF", "EXISTS"]);
                c.eat(&["ONLY"]);
                let table = c.name();
                c.eat(&["ONLY"]);
                alter_table(&mut c, table, engine, ops);
            } else if c.eat(&["TYPE"]) {
                c.name();
                if c.eat(&["ADD", "VALUE"]) {
                    ops.push(op(OpKind::AddEnumValue, line));
                } else if c.eat(&["RENAME", "VALUE"]) {
                    ops.push(op(OpKind::RenameEnumValue, line));
                }
            } else if c.eat(&["SCHEMA"]) {
                let schema = c.name();
                if c.eat(&["RENAME"]) {
                    let mut o = op(OpKind::RenameSchema, line);
                    o.table = schema;
                    ops.push(o);
                }
            }
        }
        Some("UPDATE") | Some("DELETE") | Some("INSERT") | Some("MERGE") | Some("REPLACE") => {
            let kind = c.peek_word().unwrap_or_default().to_string();
            c.at += 1;
            c.eat(&["FROM"]);
            c.eat(&["INTO"]);
            c.eat(&["ONLY"]);
            let mut o = op(OpKind::DataMigration, line);
            o.table = c.name();
            // `INSERT ... SELECT ... FROM live_table` copies existing rows: a backfill even
            // when the target is new. Only rows written out (`VALUES`) are a seed.
            if kind == "INSERT" && has_words(toks, &["SELECT"]) && has_words(toks, &["FROM"]) {
                o.table = None;
            }
            ops.push(o);
        }
        Some("DO") => {
            ops.push(op(OpKind::RawSql, line));
            // The block's own statements: DDL and updates hide in `DO $$ ... $$`.
            for t in toks {
                if let Tok::Str(body) = &t.tok {
                    if let Ok(inner) =
                        read(body, t.line, engine, SqlTool::Plain, *in_transaction, true)
                    {
                        ops.extend(inner);
                    }
                }
            }
        }
        Some("LOCK") | Some("CLUSTER") => {
            c.at += 1;
            c.eat(&["TABLE"]);
            let mut o = op(OpKind::LockTable, line);
            o.table = c.name();
            ops.push(o);
        }
        Some("VACUUM") if has_words(toks, &["FULL"]) => ops.push(op(OpKind::LockTable, line)),
        Some("EXECUTE") => {
            if let Some(Tok::Str(sql)) = toks.get(1).map(|t| &t.tok) {
                if let Ok(inner) = read(sql, line, engine, SqlTool::Plain, *in_transaction, false) {
                    ops.extend(inner);
                }
            }
        }
        Some("WITH") if has_words(toks, &["UPDATE"]) || has_words(toks, &["DELETE"]) => {
            // Pointed at the statement that writes, after the query that feeds it.
            let at = toks
                .iter()
                .rev()
                .find(|t| matches!(&t.tok, Tok::Word { upper, .. } if upper == "UPDATE" || upper == "DELETE"))
                .map_or(line, |t| t.line);
            ops.push(op(OpKind::DataMigration, at));
        }
        _ => {}
    }
}

fn alter_table(
    c: &mut Cursor<'_>,
    table: Option<String>,
    engine: Engine,
    ops: &mut Vec<Operation>,
) {
    let mut added_not_valid: Vec<usize> = Vec::new();
    while !c.done() {
        let line = c.line();
        let mut o = Operation::new(OpKind::RawSql, line);
        o.table = table.clone();
        let kind = if c.eat(&["ADD"]) {
            if c.eat(&["CONSTRAINT"]) {
                c.name();
            }
            let clause = c.clause();
            let first = clause.first().map(|t| &t.tok);
            let starts = |w: &str| matches!(first, Some(Tok::Word { upper, .. }) if upper == w);
            let not_valid = has_words(clause, &["NOT", "VALID"]);
            if starts("UNIQUE") || starts("PRIMARY") {
                if has_words(clause, &["USING", "INDEX"]) {
                    // Attaching an index built concurrently: the safe procedure itself.
                    None
                } else {
                    o.validated = Some(true);
                    o.concurrently = Some(false);
                    Some(if starts("UNIQUE") {
                        OpKind::AddUnique
                    } else {
                        OpKind::AddPrimaryKey
                    })
                }
            } else if starts("FOREIGN") {
                o.validated = Some(!not_valid);
                Some(OpKind::AddForeignKey)
            } else if starts("CHECK") {
                o.validated = Some(!not_valid);
                Some(OpKind::AddCheck)
            } else if starts("EXCLUDE") {
                Some(OpKind::AddExclusion)
            } else if starts("INDEX") || starts("KEY") || starts("FULLTEXT") || starts("SPATIAL") {
                o.concurrently = Some(false);
                Some(OpKind::AddIndex)
            } else {
                // ADD [COLUMN] [IF NOT EXISTS] name type ...
                let mut cc = Cursor {
                    toks: clause,
                    at: 0,
                };
                cc.eat(&["COLUMN"]);
                cc.eat(&["IF", "NOT", "EXISTS"]);
                o.column = cc.name();
                let rest = &clause[cc.at..];
                o.to_type = text_after(rest, &[], &COLUMN_STOPS);
                o.nullable = Some(
                    !has_words(rest, &["NOT", "NULL"]) && !has_words(rest, &["PRIMARY", "KEY"]),
                );
                let default = text_after(rest, &["DEFAULT"], &COLUMN_STOPS[..]);
                o.db_default = Some(default.is_some());
                o.volatile_default = Some(
                    default.as_deref().is_some_and(types::is_volatile_default)
                        || o.to_type.as_deref().is_some_and(types::is_volatile_type)
                        || has_words(rest, &["STORED"]),
                );
                let column = o.column.clone();
                if has_words(rest, &["REFERENCES"]) {
                    let mut fk = Operation::new(OpKind::AddForeignKey, line);
                    fk.table = table.clone();
                    fk.column = column.clone();
                    fk.validated = Some(true);
                    ops.push(fk);
                }
                if has_words(rest, &["UNIQUE"]) {
                    let mut u = Operation::new(OpKind::AddUnique, line);
                    u.table = table.clone();
                    u.column = column.clone();
                    u.concurrently = Some(false);
                    ops.push(u);
                }
                Some(OpKind::AddColumn)
            }
        } else if c.eat(&["DROP"]) {
            if c.eat(&["CONSTRAINT"])
                || c.eat(&["FOREIGN", "KEY"])
                || c.eat(&["PRIMARY", "KEY"])
                || c.eat(&["CHECK"])
            {
                c.eat(&["IF", "EXISTS"]);
                o.column = c.name();
                c.clause();
                Some(OpKind::DropConstraint)
            } else if c.eat(&["INDEX"]) || c.eat(&["KEY"]) {
                o.column = c.name();
                c.clause();
                Some(OpKind::DropIndex)
            } else {
                c.eat(&["COLUMN"]);
                c.eat(&["IF", "EXISTS"]);
                o.column = c.name();
                c.clause();
                Some(OpKind::DropColumn)
            }
        } else if c.eat(&["RENAME"]) {
            if c.eat(&["TO"]) || c.eat(&["AS"]) {
                c.clause();
                Some(OpKind::RenameTable)
            } else if c.eat(&["CONSTRAINT"]) || c.eat(&["INDEX"]) || c.eat(&["KEY"]) {
                c.clause();
                None
            } else {
                c.eat(&["COLUMN"]);
                o.column = c.name();
                c.clause();
                Some(OpKind::RenameColumn)
            }
        } else if c.eat(&["ALTER"]) {
            c.eat(&["COLUMN"]);
            o.column = c.name();
            let clause = c.clause();
            let mut cc = Cursor {
                toks: clause,
                at: 0,
            };
            if cc.eat(&["SET", "NOT", "NULL"]) {
                o.nullable = Some(false);
                Some(OpKind::SetNotNull)
            } else if cc.eat(&["DROP", "NOT", "NULL"]) {
                Some(OpKind::DropNotNull)
            } else if cc.eat(&["SET", "DEFAULT"]) {
                Some(OpKind::SetDefault)
            } else if cc.eat(&["DROP", "DEFAULT"]) {
                Some(OpKind::DropDefault)
            } else if cc.eat(&["SET", "DATA", "TYPE"]) || cc.eat(&["TYPE"]) {
                o.to_type = text_after(&clause[cc.at..], &[], &["USING", "COLLATE"]);
                Some(OpKind::ChangeColumnType)
            } else {
                // SET STATISTICS, SET STORAGE, ADD GENERATED ...: no rewrite, no lock of note.
                None
            }
        } else if c.eat(&["MODIFY"]) || c.eat(&["CHANGE"]) {
            let change = matches!(c.toks.get(c.at.saturating_sub(1)).map(|t| &t.tok), Some(Tok::Word { upper, .. }) if upper == "CHANGE");
            c.eat(&["COLUMN"]);
            let old = c.name();
            let new = if change { c.name() } else { old.clone() };
            let clause = c.clause();
            let renamed = change
                && old.as_deref().map(str::to_ascii_lowercase)
                    != new.as_deref().map(str::to_ascii_lowercase);
            o.to_type = text_after(clause, &[], &COLUMN_STOPS);
            o.nullable = Some(!has_words(clause, &["NOT", "NULL"]));
            if renamed {
                // `CHANGE old new <type>` restates the type to rename: the rename is what
                // is known to change.
                o.column = old;
                Some(OpKind::RenameColumn)
            } else {
                o.column = new;
                Some(OpKind::ChangeColumnType)
            }
        } else if c.eat(&["SET", "TABLESPACE"])
            || c.eat(&["SET", "LOGGED"])
            || c.eat(&["SET", "UNLOGGED"])
        {
            c.clause();
            Some(OpKind::LockTable)
        } else if c.eat(&["VALIDATE", "CONSTRAINT"]) {
            o.column = c.name();
            c.clause();
            Some(OpKind::ValidateConstraint)
        } else {
            c.clause();
            None
        };
        if let Some(kind) = kind {
            o.kind = Some(kind);
            if o.validated == Some(false) {
                added_not_valid.push(ops.len());
            }
            if kind == OpKind::ChangeColumnType {
                o.metadata_only = None;
                if engine == Engine::Sqlite {
                    o.metadata_only = Some(true);
                }
            }
            ops.push(o);
        }
        // The comma between actions.
        if matches!(c.toks.get(c.at).map(|t| &t.tok), Some(Tok::Comma)) {
            c.at += 1;
        }
    }
}
