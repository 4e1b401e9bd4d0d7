//! Alembic migrations: the `op.*` calls of `upgrade()` (and `downgrade()`, the down half),
//! with `batch_alter_table` blocks naming their table and `autocommit_block` leaving the
//! transaction.

use ruff_python_ast::visitor::{self, Visitor};
use ruff_python_ast::{Expr, Stmt};

use super::python::{self, Call, Source};
use super::{OpKind, Operation, Parsed, Phase, Profile, sql, types};

/// Parses an Alembic revision into operations.
pub fn parse(text: &str, profile: &Profile) -> Parsed {
    let src = python::parse(text)?;
    let engine = profile.default.engine;
    let mut ops = Vec::new();
    let mut found = false;
    for stmt in python::statements(src.body()) {
        let Stmt::FunctionDef(f) = stmt else {
            continue;
        };
        let phase = match f.name.as_str() {
            "upgrade" => Phase::Up,
            "downgrade" => Phase::Down,
            _ => continue,
        };
        found = true;
        let mut walk = Walk {
            src: &src,
            phase,
            table: None,
            in_tx: true,
            engine,
            ops: &mut ops,
        };
        walk.visit_body(&f.body);
    }
    if !found {
        return Err("no upgrade() function found".into());
    }
    Ok(ops)
}

/// The operations of one function's body, in source order.
struct Walk<'s, 'o> {
    src: &'s Source<'s>,
    phase: Phase,
    /// The table of a `batch_alter_table` block.
    table: Option<String>,
    in_tx: bool,
    engine: super::profile::Engine,
    ops: &'o mut Vec<Operation>,
}

impl<'a> Visitor<'a> for Walk<'_, '_> {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        let src = self.src;
        match stmt {
            Stmt::With(w) => {
                // `with op.batch_alter_table("t") as batch_op:` names the table of the calls in
                // it; `with op.get_context().autocommit_block():` runs them outside the
                // transaction.
                let header = src.text_of(w).lines().next().unwrap_or("");
                let mut calls = Calls::default();
                for item in &w.items {
                    calls.visit_expr(&item.context_expr);
                }
                let batch_table = calls
                    .0
                    .into_iter()
                    .filter_map(|c| python::call(src, c))
                    .find(|c| c.name == "batch_alter_table")
                    .and_then(|c| c.arg(0, "table_name"))
                    .and_then(|a| python::literal(src, a));
                let autocommit = header.contains("autocommit_block");
                let (table, in_tx) = (self.table.clone(), self.in_tx);
                if batch_table.is_some() {
                    self.table = batch_table;
                }
                self.in_tx = in_tx && !autocommit;
                self.visit_body(&w.body);
                (self.table, self.in_tx) = (table, in_tx);
            }
            // A function defined inside runs only when called: its calls are not the step's.
            Stmt::FunctionDef(_) => {}
            Stmt::For(f) => {
                // `for dashboard in models.Dashboard.query:` rewrites rows one by one.
                let over = src.text_of(&*f.iter);
                // A loop over `conn.execute(select(...))` only reads: its writes are found
                // inside.
                if over.contains(".query") || over.contains("session.") {
                    let mut op = Operation::new(OpKind::DataMigration, src.line(f));
                    op.phase = self.phase;
                    op.in_transaction = Some(self.in_tx);
                    op.text = python::first_line(src, f);
                    self.ops.push(op);
                }
                visitor::walk_stmt(self, stmt);
            }
            _ => visitor::walk_stmt(self, stmt),
        }
    }

    fn visit_expr(&mut self, expr: &'a Expr) {
        if let Some(c) = python::call(self.src, expr) {
            let start = self.ops.len();
            op_call(
                self.src,
                &c,
                self.table.as_deref(),
                self.in_tx,
                self.engine,
                self.ops,
            );
            for op in &mut self.ops[start..] {
                op.phase = self.phase;
                op.in_transaction.get_or_insert(self.in_tx);
            }
        }
        visitor::walk_expr(self, expr);
    }
}

/// Every call in an expression, outermost first.
#[derive(Default)]
struct Calls<'a>(Vec<&'a Expr>);

impl<'a> Visitor<'a> for Calls<'a> {
    fn visit_expr(&mut self, expr: &'a Expr) {
        if matches!(expr, Expr::Call(_)) {
            self.0.push(expr);
        }
        visitor::walk_expr(self, expr);
    }
}

fn op_call(
    src: &Source<'_>,
    c: &Call<'_>,
    batch_table: Option<&str>,
    in_tx: bool,
    engine: super::profile::Engine,
    ops: &mut Vec<Operation>,
) {
    let on_op = c.receiver == "op" || c.receiver.ends_with("batch_op") || batch_table.is_some();
    let s = |i: usize, k: &str| c.arg(i, k).and_then(|n| python::literal(src, n));
    // In a batch, the table is the block's and arguments shift left by one.
    let (table, shift) = match batch_table {
        Some(t) if c.receiver != "op" => (Some(t.to_string()), 0),
        _ => (None, 1),
    };
    let table = |key: &str| table.clone().or_else(|| s(0, key));
    let at = src.line(c.node);
    let text = python::first_line(src, c.node);
    let push =
        |ops: &mut Vec<Operation>, kind: OpKind, table: Option<String>, column: Option<String>| {
            let mut op = Operation::new(kind, at);
            op.table = table;
            op.column = column;
            op.text = text.clone();
            ops.push(op);
            ops.len() - 1
        };
    if !on_op {
        let connection = |t: &str| {
            let t = t.trim();
            t.contains("get_bind()")
                || ["conn", "connection", "bind", "session", "db.session"].contains(&t)
        };
        if c.name == "execute" && connection(&c.receiver) {
            // SQL run through the connection: read it when it is written out.
            match c.arg(0, "statement").and_then(|a| python::literal(src, a)) {
                Some(sql_text) => {
                    let line = c.arg(0, "statement").map_or(at, |a| src.line(a));
                    ops.extend(sql::parse_statements(&sql_text, line, engine, Some(in_tx)));
                }
                None => {
                    // A statement built with SQLAlchemy: a write unless it only selects.
                    let built = c
                        .arg(0, "statement")
                        .map(|a| src.text_of(a).to_ascii_lowercase());
                    let reads_only = built.as_deref().is_some_and(|t| {
                        t.contains("select")
                            && !["update", "insert", "delete"].iter().any(|w| t.contains(w))
                    });
                    if !reads_only {
                        push(ops, OpKind::DataMigration, None, None);
                    }
                }
            }
        } else if matches!(
            c.name.as_str(),
            "commit" | "add" | "add_all" | "merge" | "bulk_save_objects"
        ) && connection(&c.receiver)
            || c.positional.iter().any(|a| connection(src.text_of(a)))
                && !matches!(
                    c.name.as_str(),
                    "execute" | "inspect" | "has_table" | "get_columns"
                )
        {
            // Rows written through a session, or a helper of the migration handed the
            // connection to do its work.
            push(ops, OpKind::DataMigration, None, None);
        }
        return;
    }
    match c.name.as_str() {
        "create_table" => {
            push(ops, OpKind::CreateTable, s(0, "table_name"), None);
        }
        "drop_table" => {
            push(ops, OpKind::DropTable, s(0, "table_name"), None);
        }
        "rename_table" => {
            push(ops, OpKind::RenameTable, s(0, "old_table_name"), None);
        }
        "add_column" => {
            let column = c.arg(shift, "column").and_then(|n| python::call(src, n));
            let name = column
                .as_ref()
                .and_then(|col| col.arg(0, "name"))
                .and_then(|n| python::literal(src, n));
            let i = push(ops, OpKind::AddColumn, table("table_name"), name);
            if let Some(col) = column {
                let nullable = python::boolean(col.keywords.get("nullable").copied());
                let pk = python::boolean(col.keywords.get("primary_key").copied());
                let server_default = col.keywords.get("server_default").map(|n| src.text_of(n));
                let ty = col.positional.get(1).map(|n| src.text_of(n).to_string());
                let op = &mut ops[i];
                op.nullable = Some(nullable.unwrap_or(pk != Some(true)));
                op.db_default = Some(server_default.is_some_and(|d| d != "None"));
                op.volatile_default = Some(server_default.is_some_and(types::is_volatile_default));
                op.to_type = ty.map(|t| sa_type(&t));
                if col
                    .positional
                    .iter()
                    .any(|p| src.text_of(p).contains("ForeignKey("))
                {
                    let t = ops[i].table.clone();
                    let cn = ops[i].column.clone();
                    let mut fk = Operation::new(OpKind::AddForeignKey, at);
                    fk.table = t;
                    fk.column = cn;
                    fk.validated = Some(true);
                    fk.text = python::first_line(src, c.node);
                    ops.push(fk);
                }
            }
        }
        "drop_column" => {
            push(
                ops,
                OpKind::DropColumn,
                table("table_name"),
                s(shift, "column_name"),
            );
        }
        "alter_column" => {
            let t = table("table_name");
            let col = s(shift, "column_name");
            let kw = |k: &str| c.keywords.get(k).copied();
            if let Some(n) = kw("new_column_name") {
                let _ = n;
                push(ops, OpKind::RenameColumn, t.clone(), col.clone());
            }
            match python::boolean(kw("nullable")) {
                Some(false) => {
                    push(ops, OpKind::SetNotNull, t.clone(), col.clone());
                }
                Some(true) => {
                    push(ops, OpKind::DropNotNull, t.clone(), col.clone());
                }
                None => {}
            }
            if let Some(ty) = kw("type_") {
                let to = sa_type(src.text_of(ty));
                let from = kw("existing_type").map(|n| sa_type(src.text_of(n)));
                let i = push(ops, OpKind::ChangeColumnType, t.clone(), col.clone());
                let op = &mut ops[i];
                op.metadata_only = from
                    .as_deref()
                    .and_then(|f| types::metadata_only(f, &to, engine));
                op.prior_known = Some(from.is_some());
                op.from_type = from;
                op.to_type = Some(to);
            }
            if kw("server_default").is_some() {
                push(ops, OpKind::SetDefault, t, col);
            }
        }
        "create_index" => {
            let unique = python::boolean(c.keywords.get("unique").copied()) == Some(true);
            let concurrent = python::boolean(c.keywords.get("postgresql_concurrently").copied())
                == Some(true)
                || python::boolean(c.keywords.get("sqlite_concurrently").copied()) == Some(true);
            let t = if shift == 0 {
                table("table_name")
            } else {
                s(1, "table_name")
            };
            let i = push(
                ops,
                if unique {
                    OpKind::AddUnique
                } else {
                    OpKind::AddIndex
                },
                t,
                s(0, "index_name"),
            );
            ops[i].concurrently = Some(concurrent);
            ops[i].unique = Some(unique);
            ops[i].in_transaction = Some(in_tx);
        }
        "drop_index" => {
            let concurrent =
                python::boolean(c.keywords.get("postgresql_concurrently").copied()) == Some(true);
            let i = push(
                ops,
                OpKind::DropIndex,
                s(1, "table_name"),
                s(0, "index_name"),
            );
            ops[i].concurrently = Some(concurrent);
        }
        "create_unique_constraint" => {
            let t = if shift == 0 {
                table("table_name")
            } else {
                s(1, "table_name")
            };
            let i = push(ops, OpKind::AddUnique, t, s(0, "constraint_name"));
            ops[i].concurrently = Some(false);
        }
        "create_foreign_key" => {
            let t = if shift == 0 {
                table("source_table")
            } else {
                s(1, "source_table")
            };
            let not_valid =
                python::boolean(c.keywords.get("postgresql_not_valid").copied()) == Some(true);
            let i = push(ops, OpKind::AddForeignKey, t, s(0, "constraint_name"));
            ops[i].validated = Some(!not_valid);
        }
        "create_check_constraint" => {
            let t = if shift == 0 {
                table("table_name")
            } else {
                s(1, "table_name")
            };
            let i = push(ops, OpKind::AddCheck, t, s(0, "constraint_name"));
            ops[i].validated = Some(true);
        }
        "create_primary_key" => {
            let t = if shift == 0 {
                table("table_name")
            } else {
                s(1, "table_name")
            };
            push(ops, OpKind::AddPrimaryKey, t, None);
        }
        "create_exclude_constraint" => {
            push(ops, OpKind::AddExclusion, s(1, "table_name"), None);
        }
        "drop_constraint" => {
            push(
                ops,
                OpKind::DropConstraint,
                s(1, "table_name"),
                s(0, "constraint_name"),
            );
        }
        "execute"
            if c.arg(0, "sqltext").is_some_and(|a| {
                let t = src.text_of(a);
                t.contains(".update(") || t.contains(".insert(") || t.contains(".delete(")
            }) =>
        {
            // `op.execute(table.update().values(...))`: rows rewritten through SQLAlchemy Core.
            push(ops, OpKind::DataMigration, table("table_name"), None);
        }
        "execute" => {
            let arg = c.arg(0, "sqltext");
            let text = arg.and_then(|a| {
                python::literal(src, a).or_else(|| {
                    // `sa.text("...")`, `text("...")`.
                    python::call(src, a)
                        .filter(|t| t.name == "text")
                        .and_then(|t| t.positional.first().and_then(|n| python::literal(src, n)))
                })
            });
            push(ops, OpKind::RawSql, None, None);
            if let (Some(a), Some(t)) = (arg, text) {
                ops.extend(sql::parse_statements(&t, src.line(a), engine, Some(in_tx)));
            }
        }
        "bulk_insert" => {
            push(ops, OpKind::DataMigration, None, None);
        }
        _ => {}
    }
}

/// A SQLAlchemy type expression as SQL: `sa.String(length=50)` → `varchar(50)`.
fn sa_type(expr: &str) -> String {
    let e = expr.trim();
    // The module prefix ends before the call's parenthesis: `sa.String(` → `String(`.
    let head_end = e.find('(').unwrap_or(e.len());
    let e = match e[..head_end].rfind('.') {
        Some(dot) => &e[dot + 1..],
        None => e,
    };
    let (name, args) = match e.split_once('(') {
        Some((n, a)) => (n, a.trim_end_matches(')')),
        None => (e, ""),
    };
    let num: Vec<&str> = args
        .split(',')
        .map(|a| a.split('=').next_back().unwrap_or("").trim())
        .filter(|a| a.chars().all(|c| c.is_ascii_digit()) && !a.is_empty())
        .collect();
    match name.to_ascii_lowercase().as_str() {
        "string" | "varchar" | "unicode" => match num.first() {
            Some(n) => format!("varchar({n})"),
            None => "varchar".into(),
        },
        "text" | "unicodetext" => "text".into(),
        "integer" => "integer".into(),
        "biginteger" => "bigint".into(),
        "smallinteger" => "smallint".into(),
        "boolean" => "boolean".into(),
        "numeric" | "decimal" => format!("numeric({})", num.join(",")),
        "datetime" => "timestamp".into(),
        other => other.to_string(),
    }
}
