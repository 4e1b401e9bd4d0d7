//! SQL migrations read as statements of tokens, not lines.
//!
//! sqlparser's tokenizer does the lexing (strings, quoted identifiers, dollar-quoted bodies,
//! nested comments), so a `;` inside a string, a commented-out statement, `DROP/**/TABLE` or
//! three statements on one line are read as the database reads them. Statements are then
//! classified from their tokens: migrations are full of dialect corners (`ALTER TABLE ... ADD
//! CONSTRAINT ... NOT VALID`, MySQL's `MODIFY`, `DO $$ ... $$`) where a full grammar refuses the
//! whole file, and only their DDL shape matters here.

use sqlparser::dialect::{Dialect, GenericDialect, MySqlDialect, PostgreSqlDialect, SQLiteDialect};
use sqlparser::tokenizer::{Token, Tokenizer, Whitespace};

use super::detect::SqlTool;
use super::profile::Engine;
use super::{OpKind, Operation, Parsed, Phase, Profile, types};

/// A significant token: comments and whitespace are gone, words are uppercased for matching
/// (their written form kept for names).
#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word { upper: String, name: String },
    Str(String),
    Sym(String),
    Semi,
    LParen,
    RParen,
    Comma,
}

#[derive(Debug, Clone)]
struct Spanned {
    tok: Tok,
    line: u32,
}

/// What a comment between statements says to the tool running the file.
enum Marker {
    Up,
    Down,
    NoTransaction,
    BlockStart,
    BlockEnd,
}

fn marker(comment: &str, tool: SqlTool) -> Option<Marker> {
    let c = comment.trim().to_ascii_lowercase();
    let c = c.trim_start_matches('-').trim();
    match tool {
        SqlTool::Goose => {
            let c = c.strip_prefix("+goose")?.trim();
            Some(match c {
                _ if c.starts_with("up") => Marker::Up,
                _ if c.starts_with("down") => Marker::Down,
                _ if c.starts_with("no transaction") => Marker::NoTransaction,
                _ if c.starts_with("statementbegin") => Marker::BlockStart,
                _ if c.starts_with("statementend") => Marker::BlockEnd,
                _ => return None,
            })
        }
        SqlTool::Dbmate => {
            let c = c.strip_prefix("migrate:")?;
            Some(if c.starts_with("up") {
                if c.contains("transaction:false") {
                    Marker::NoTransaction
                } else {
                    Marker::Up
                }
            } else if c.starts_with("down") {
                Marker::Down
            } else {
                return None;
            })
        }
        SqlTool::SqlMigrate => {
            let c = c.strip_prefix("+migrate")?.trim();
            Some(if c.starts_with("up") {
                if c.contains("notransaction") {
                    Marker::NoTransaction
                } else {
                    Marker::Up
                }
            } else if c.starts_with("down") {
                Marker::Down
            } else if c.starts_with("statementbegin") {
                Marker::BlockStart
            } else if c.starts_with("statementend") {
                Marker::BlockEnd
            } else {
                return None;
            })
        }
        SqlTool::Liquibase => {
            if c.starts_with("rollback") {
                // A `--rollback` line holds the down SQL in the comment itself: nothing to read.
                None
            } else if c.starts_with("changeset") {
                Some(if c.contains("runintransaction:false") {
                    Marker::NoTransaction
                } else {
                    Marker::Up
                })
            } else {
                None
            }
        }
        _ => None,
    }
}

fn dialect(engine: Engine) -> Box<dyn Dialect> {
    match engine {
        Engine::Postgres | Engine::Cockroachdb => Box::new(PostgreSqlDialect {}),
        Engine::Mysql | Engine::Mariadb => Box::new(MySqlDialect {}),
        Engine::Sqlite => Box::new(SQLiteDialect {}),
        _ => Box::new(GenericDialect {}),
    }
}

/// Line endings as git counts lines: `\r\n` and a lone `\r` both end a line for the tokenizer,
/// so a CR-only file is not one long statement.
fn unify_newlines(text: &str) -> std::borrow::Cow<'_, str> {
    if text.contains('\r') {
        std::borrow::Cow::Owned(text.replace("\r\n", "\n").replace('\r', "\n"))
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

/// A whole SQL migration file.
pub fn parse_file(path: &str, text: &str, tool: SqlTool, profile: &Profile) -> Parsed {
    let db = profile.for_path(path);
    let down_file = super::detect::is_down_file(path);
    let in_tx = match tool {
        SqlTool::Goose | SqlTool::Dbmate | SqlTool::SqlMigrate | SqlTool::Liquibase => Some(true),
        SqlTool::Flyway if db.engine.is_postgres_like() => Some(true),
        _ => None,
    };
    let mut ops = read(text, 1, db.engine, tool, in_tx)?;
    if down_file {
        for op in &mut ops {
            op.phase = Phase::Down;
        }
    }
    Ok(ops)
}

/// SQL held in a string of another language (Django's `RunSQL`, Rails' `execute`), starting at
/// `first_line` of the file. A string the tokenizer cannot read gives one raw-SQL operation.
pub fn parse_statements(
    text: &str,
    first_line: u32,
    engine: Engine,
    in_transaction: Option<bool>,
) -> Vec<Operation> {
    read(text, first_line, engine, SqlTool::Plain, in_transaction).unwrap_or_else(|_| {
        let mut op = Operation::new(OpKind::RawSql, first_line);
        op.text = text.lines().next().unwrap_or("").trim().to_string();
        vec![op]
    })
}

fn read(text: &str, first_line: u32, engine: Engine, tool: SqlTool, in_tx: Option<bool>) -> Parsed {
    let unified = unify_newlines(text);
    let dialect = dialect(engine);
    let tokens = Tokenizer::new(dialect.as_ref(), &unified)
        .tokenize_with_location()
        .map_err(|e| format!("SQL could not be tokenized: {e}"))?;
    let source_lines: Vec<&str> = unified.lines().collect();
    let mut ops = Vec::new();
    let mut phase = Phase::Up;
    let mut in_transaction = in_tx;
    let mut in_block = false;
    let mut statement: Vec<Spanned> = Vec::new();
    let mut explicit_tx = false;
    let flush = |statement: &mut Vec<Spanned>,
                 phase: Phase,
                 in_transaction: &mut Option<bool>,
                 explicit_tx: &mut bool,
                 ops: &mut Vec<Operation>| {
        if statement.is_empty() {
            return;
        }
        let start = ops.len();
        classify(statement, engine, ops, in_transaction, explicit_tx);
        for op in &mut ops[start..] {
            op.phase = phase;
            op.line += first_line - 1;
            if op.in_transaction.is_none() {
                op.in_transaction = *in_transaction;
            }
            if op.text.is_empty() {
                let l = statement[0].line as usize;
                op.text = source_lines
                    .get(l.saturating_sub(1))
                    .map(|s| s.trim().to_string())
                    .unwrap_or_default();
            }
        }
        statement.clear();
    };
    for t in tokens {
        let line = t.span.start.line as u32;
        let tok = match t.token {
            Token::Whitespace(Whitespace::SingleLineComment { comment, .. }) => {
                match marker(&comment, tool) {
                    Some(Marker::Up) => phase = Phase::Up,
                    Some(Marker::Down) => phase = Phase::Down,
                    Some(Marker::NoTransaction) => {
                        phase = Phase::Up;
                        in_transaction = Some(false);
                    }
                    Some(Marker::BlockStart) => in_block = true,
                    Some(Marker::BlockEnd) => {
                        in_block = false;
                        flush(
                            &mut statement,
                            phase,
                            &mut in_transaction,
                            &mut explicit_tx,
                            &mut ops,
                        );
                    }
                    None => {}
                }
                continue;
            }
            Token::Whitespace(_) | Token::EOF => continue,
            Token::Word(w) => Tok::Word {
                upper: if w.quote_style.is_some() {
                    String::new()
                } else {
                    w.value.to_ascii_uppercase()
                },
                name: w.value,
            },
            Token::SemiColon => Tok::Semi,
            Token::LParen => Tok::LParen,
            Token::RParen => Tok::RParen,
            Token::Comma => Tok::Comma,
            Token::SingleQuotedString(s)
            | Token::DoubleQuotedString(s)
            | Token::EscapedStringLiteral(s)
            | Token::NationalStringLiteral(s) => Tok::Str(s),
            Token::DollarQuotedString(s) => Tok::Str(s.value),
            other => Tok::Sym(other.to_string()),
        };
        if tok == Tok::Semi && !in_block {
            flush(
                &mut statement,
                phase,
                &mut in_transaction,
                &mut explicit_tx,
                &mut ops,
            );
        } else if tok != Tok::Semi || in_block {
            statement.push(Spanned { tok, line });
        }
    }
    flush(
        &mut statement,
        phase,
        &mut in_transaction,
        &mut explicit_tx,
        &mut ops,
    );
    Ok(ops)
}

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

fn classify(
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
                ops.push(o);
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
            o.column = None;
            o.unique = None;
            if kind == "INSERT" {
                o.reversible = None;
            }
            ops.push(o);
        }
        Some("DO") => ops.push(op(OpKind::RawSql, line)),
        Some("WITH") if has_words(toks, &["UPDATE"]) || has_words(toks, &["DELETE"]) => {
            ops.push(op(OpKind::DataMigration, line));
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
            if change
                && old.as_deref().map(str::to_ascii_lowercase)
                    != new.as_deref().map(str::to_ascii_lowercase)
            {
                let mut r = Operation::new(OpKind::RenameColumn, line);
                r.table = table.clone();
                r.column = old.clone();
                ops.push(r);
            }
            o.column = new;
            o.to_type = text_after(clause, &[], &COLUMN_STOPS);
            o.nullable = Some(!has_words(clause, &["NOT", "NULL"]));
            Some(OpKind::ChangeColumnType)
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

/// Marks `VALIDATE CONSTRAINT`s that run in the same transaction as the `NOT VALID` constraint
/// they validate: the scan then holds the lock the two steps meant to avoid.
pub fn mark_validation_in_same_transaction(ops: &mut [Operation]) {
    let added: Vec<(Option<String>, Option<bool>)> = ops
        .iter()
        .filter(|o| o.validated == Some(false) && o.phase == Phase::Up)
        .map(|o| (o.table.clone(), o.in_transaction))
        .collect();
    for op in ops.iter_mut() {
        if op.kind == Some(OpKind::ValidateConstraint) && op.phase == Phase::Up {
            let same = added.iter().any(|(t, tx)| {
                *t == op.table && *tx == Some(true) && op.in_transaction == Some(true)
            });
            op.validates_own_constraint = Some(same);
        }
    }
}

#[cfg(test)]
mod tests;
