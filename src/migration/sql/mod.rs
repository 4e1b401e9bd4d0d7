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
pub(super) enum Tok {
    Word { upper: String, name: String },
    Str(String),
    Sym(String),
    Semi,
    LParen,
    RParen,
    Comma,
}

#[derive(Debug, Clone)]
pub(super) struct Spanned {
    pub(super) tok: Tok,
    pub(super) line: u32,
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
    let mut text = std::borrow::Cow::Borrowed(text);
    if text.contains('\r') {
        text = std::borrow::Cow::Owned(text.replace("\r\n", "\n").replace('\r', "\n"));
    }
    // Go templates in migrations (`{{ index .Options "Namespace" }}.users`) stand for a name.
    if text.contains("{{") {
        let mut out = String::with_capacity(text.len());
        let mut rest: &str = &text;
        while let Some(open) = rest.find("{{") {
            let Some(close) = rest[open..].find("}}") else {
                break;
            };
            let inner = &rest[open..open + close];
            if inner.contains('\n') {
                out.push_str(&rest[..open + 2]);
                rest = &rest[open + 2..];
                continue;
            }
            out.push_str(&rest[..open]);
            out.push_str("template_name");
            rest = &rest[open + close + 2..];
        }
        out.push_str(rest);
        text = std::borrow::Cow::Owned(out);
    }
    text
}

/// A whole SQL migration file.
pub fn parse_file(
    path: &str,
    text: &str,
    tool: SqlTool,
    profile: &Profile,
    history: &dyn super::state::History,
) -> Parsed {
    let db = profile.for_path(path);
    let down_file = super::detect::is_down_file(path);
    // Read already by the replay of its folder (the same text, engine and tool): not again.
    let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
    let replayed = history
        .sql_columns(dir)
        .and_then(|h| h.read.get(name))
        .filter(|r| {
            r.engine == db.engine && r.tool == tool && r.text == super::state::text_hash(text)
        });
    let mut ops = match replayed {
        Some(r) => r.ops.clone(),
        None => read(
            text,
            1,
            db.engine,
            tool,
            in_transaction(tool, db.engine),
            false,
        )?,
    };
    if down_file {
        for op in &mut ops {
            op.phase = Phase::Down;
        }
    }
    if ops
        .iter()
        .any(|o| o.kind == Some(OpKind::ChangeColumnType) && o.from_type.is_none())
    {
        judge_type_changes(path, db.engine, history, &mut ops);
    }
    Ok(ops)
}

/// Gives each type change the type its column had: from the `CREATE TABLE`s, added columns and
/// type changes of the earlier migrations of the same folder, then of this file above it.
fn judge_type_changes(
    path: &str,
    engine: Engine,
    history: &dyn super::state::History,
    ops: &mut [Operation],
) {
    let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
    let earlier = history.sql_columns(dir);
    // Changes made above in this file, over the folder's history.
    let mut here = super::state::ColumnTypes::default();
    for op in ops.iter_mut() {
        if op.kind == Some(OpKind::ChangeColumnType) && op.from_type.is_none() {
            let from = column_key(&op.table, &op.column).and_then(|k| {
                here.get(&k)
                    .cloned()
                    .or_else(|| earlier?.before(name, &k).map(str::to_string))
            });
            op.prior_known = Some(from.is_some());
            op.metadata_only = match (&from, &op.to_type) {
                (Some(f), Some(t)) => types::metadata_only(f, t, engine),
                _ => None,
            };
            op.from_type = from;
        }
        record(op, &mut here);
    }
}

/// The `(table, column)` key of an operation, lowercase, the table without its schema.
fn column_key(table: &Option<String>, column: &Option<String>) -> Option<(String, String)> {
    let table = table.as_deref()?.rsplit('.').next()?.to_ascii_lowercase();
    Some((table, column.as_deref()?.to_ascii_lowercase()))
}

/// Remembers the type an added or retyped column has after `op`.
fn record(op: &Operation, columns: &mut super::state::ColumnTypes) {
    if matches!(
        op.kind,
        Some(OpKind::AddColumn) | Some(OpKind::ChangeColumnType)
    ) && op.phase == Phase::Up
    {
        if let (Some(k), Some(t)) = (column_key(&op.table, &op.column), &op.to_type) {
            columns.insert(k, t.clone());
        }
    }
}

/// Whether a tool runs each migration in a transaction unless the file says otherwise; `None`
/// when the file's own statements tell.
fn in_transaction(tool: SqlTool, engine: Engine) -> Option<bool> {
    match tool {
        SqlTool::Goose | SqlTool::Dbmate | SqlTool::SqlMigrate | SqlTool::Liquibase => Some(true),
        SqlTool::Flyway if engine.is_postgres_like() => Some(true),
        _ => None,
    }
}

/// Replays a folder's SQL migrations in name order, recording every column type they set.
pub fn replay(
    dir: &str,
    files: &[(String, String)],
    engine: Engine,
    last_wanted: Option<&str>,
) -> super::state::ColumnHistory {
    let mut files: Vec<&(String, String)> = files.iter().collect();
    files.sort_by(|a, b| a.0.cmp(&b.0));
    let mut history = super::state::ColumnHistory::default();
    for (at, (name, text)) in files.into_iter().enumerate() {
        let at = at as u32;
        history.order.insert(name.clone(), at);
        // Types are asked for before a wanted migration: those at or after the last one wanted
        // are placed in the order but not read.
        if last_wanted.is_some_and(|last| name.as_str() >= last) {
            continue;
        }
        let tool = match super::detect::framework(&format!("{dir}/{name}"), text) {
            Some(super::Framework::Sql(tool)) => tool,
            _ => SqlTool::Plain,
        };
        if let Ok(found) = read(text, 1, engine, tool, in_transaction(tool, engine), false) {
            let mut set = super::state::ColumnTypes::default();
            for op in &found {
                record(op, &mut set);
            }
            for (key, ty) in set {
                history.types.entry(key).or_default().push((at, ty));
            }
            history.read.insert(
                name.clone(),
                super::state::ReadOps {
                    text: super::state::text_hash(text),
                    engine,
                    tool,
                    ops: found,
                },
            );
        }
    }
    history
}

/// SQL held in a string of another language (Django's `RunSQL`, Rails' `execute`), starting at
/// `first_line` of the file. A string the tokenizer cannot read gives one raw-SQL operation.
pub fn parse_statements(
    text: &str,
    first_line: u32,
    engine: Engine,
    in_transaction: Option<bool>,
) -> Vec<Operation> {
    read(
        text,
        first_line,
        engine,
        SqlTool::Plain,
        in_transaction,
        false,
    )
    .unwrap_or_else(|_| {
        let mut op = Operation::new(OpKind::RawSql, first_line);
        op.text = text.lines().next().unwrap_or("").trim().to_string();
        vec![op]
    })
}

/// Reads SQL text. `plpgsql`: the body of a `DO` block or function, whose statements sit behind
/// control words (`BEGIN`, `IF ... THEN`, `LOOP`).
pub(super) fn read(
    text: &str,
    first_line: u32,
    engine: Engine,
    tool: SqlTool,
    in_tx: Option<bool>,
    plpgsql: bool,
) -> Parsed {
    let unified = unify_newlines(text);
    // Backquoted names are MySQL's: whatever the profile says, this file is written for it.
    let dialect = if unified.contains('`') {
        dialect(Engine::Mysql)
    } else {
        dialect(engine)
    };
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
        let body = if plpgsql {
            procedural_statement(statement)
        } else {
            &statement[..]
        };
        if !body.is_empty() {
            classify(body, engine, ops, in_transaction, explicit_tx);
        }
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

/// The part of a procedural statement that is SQL: from the first statement keyword that follows
/// a control word (`BEGIN UPDATE ...`, `IF x THEN ALTER TABLE ...`); empty when there is none.
fn procedural_statement(toks: &[Spanned]) -> &[Spanned] {
    const STARTERS: [&str; 8] = [
        "CREATE", "DROP", "ALTER", "UPDATE", "INSERT", "DELETE", "TRUNCATE", "EXECUTE",
    ];
    const CONTROL: [&str; 7] = [
        "BEGIN",
        "THEN",
        "ELSE",
        "LOOP",
        "DO",
        "DECLARE",
        "EXCEPTION",
    ];
    let word = |i: usize| match toks.get(i).map(|t| &t.tok) {
        Some(Tok::Word { upper, .. }) => Some(upper.as_str()),
        _ => None,
    };
    for i in 0..toks.len() {
        let Some(w) = word(i) else { continue };
        if STARTERS.contains(&w) && (i == 0 || word(i - 1).is_some_and(|p| CONTROL.contains(&p))) {
            return &toks[i..];
        }
    }
    &[]
}

/// The significant tokens of SQL text with their lines (comments, block comments and whitespace
/// left out; keywords uppercased): what an edit is compared by.
pub fn tokens(text: &str) -> Option<Vec<(String, u32)>> {
    let unified = unify_newlines(text);
    let dialect: Box<dyn Dialect> = if unified.contains('`') {
        Box::new(MySqlDialect {})
    } else {
        Box::new(PostgreSqlDialect {})
    };
    let toks = Tokenizer::new(dialect.as_ref(), &unified)
        .tokenize_with_location()
        .ok()?;
    Some(
        toks.into_iter()
            .filter(|t| !matches!(t.token, Token::Whitespace(_) | Token::EOF))
            .map(|t| {
                let text = match &t.token {
                    Token::Word(w) if w.quote_style.is_none() => w.value.to_ascii_uppercase(),
                    other => other.to_string(),
                };
                (text, t.span.start.line as u32)
            })
            .collect(),
    )
}

/// Marks `VALIDATE CONSTRAINT`s that run in the same transaction as the `NOT VALID` constraint
/// they validate: the scan then holds the lock the two steps meant to avoid.
pub fn mark_validation_in_same_transaction(ops: &mut [Operation]) {
    let added: Vec<(Option<String>, Option<bool>)> = ops
        .iter()
        .filter(|o| o.validated == Some(false) && o.phase == Phase::Up)
        .map(|o| (o.table.clone(), o.in_transaction))
        .collect();
    let mut checked_tables: Vec<Option<String>> = Vec::new();
    for op in ops.iter_mut() {
        match op.kind {
            Some(OpKind::ValidateConstraint) => checked_tables.push(op.table.clone()),
            Some(OpKind::AddCheck) if op.validated == Some(true) => {
                checked_tables.push(op.table.clone())
            }
            Some(OpKind::SetNotNull) => {
                op.after_check = Some(checked_tables.contains(&op.table));
            }
            _ => {}
        }
        if op.kind == Some(OpKind::ValidateConstraint) && op.phase == Phase::Up {
            let same = added.iter().any(|(t, tx)| {
                *t == op.table && *tx == Some(true) && op.in_transaction == Some(true)
            });
            op.validates_own_constraint = Some(same);
        }
    }
}

mod statement;

use statement::classify;

#[cfg(test)]
mod tests;
