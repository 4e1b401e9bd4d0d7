//! Alembic migrations: the `op.*` calls of `upgrade()` (and `downgrade()`, the down half),
//! with `batch_alter_table` blocks naming their table and `autocommit_block` leaving the
//! transaction.

use tree_sitter::Node;

use super::python::{self, Call, Source};
use super::{OpKind, Operation, Parsed, Phase, Profile, sql, types};

/// Parses an Alembic revision into operations.
pub fn parse(text: &str, profile: &Profile) -> Parsed {
    let src = python::parse(text)?;
    let engine = profile.default.engine;
    let functions = python::descendants(src.root(), |n| n.kind() == "function_definition");
    let mut ops = Vec::new();
    let mut found = false;
    for f in functions {
        let name = f
            .child_by_field_name("name")
            .map(|n| src.text_of(n))
            .unwrap_or("");
        let phase = match name {
            "upgrade" => Phase::Up,
            "downgrade" => Phase::Down,
            _ => continue,
        };
        found = true;
        let Some(body) = f.child_by_field_name("body") else {
            continue;
        };
        walk(&src, body, phase, None, true, engine, &mut ops);
    }
    if !found {
        return Err("no upgrade() function found".into());
    }
    Ok(ops)
}

fn walk(
    src: &Source<'_>,
    body: Node<'_>,
    phase: Phase,
    table: Option<&str>,
    in_tx: bool,
    engine: super::profile::Engine,
    ops: &mut Vec<Operation>,
) {
    let mut stack = vec![body];
    while let Some(n) = stack.pop() {
        if n.kind() == "with_statement" {
            // `with op.batch_alter_table("t") as batch_op:` names the table of the calls in it;
            // `with op.get_context().autocommit_block():` runs them outside the transaction.
            let header = src.text_of(n).lines().next().unwrap_or("");
            let batch_table = python::descendants(n, |c| c.kind() == "call")
                .into_iter()
                .filter_map(|c| python::call(src, c))
                .find(|c| c.name == "batch_alter_table")
                .and_then(|c| c.arg(0, "table_name"))
                .and_then(|a| python::literal(src, a));
            let autocommit = header.contains("autocommit_block");
            if let Some(b) = n.child_by_field_name("body") {
                walk(
                    src,
                    b,
                    phase,
                    batch_table.as_deref().or(table),
                    in_tx && !autocommit,
                    engine,
                    ops,
                );
            }
            continue;
        }
        if n.kind() == "function_definition" {
            continue;
        }
        if let Some(c) = python::call(src, n) {
            let start = ops.len();
            op_call(src, &c, table, in_tx, engine, ops);
            for op in &mut ops[start..] {
                op.phase = phase;
                op.in_transaction.get_or_insert(in_tx);
            }
        }
        let mut cursor = n.walk();
        let children: Vec<Node> = n.named_children(&mut cursor).collect();
        stack.extend(children.into_iter().rev());
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
    let at = python::line(c.node);
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
        if matches!(c.name.as_str(), "execute")
            && (c.receiver.contains("bind")
                || c.receiver.contains("conn")
                || c.receiver.contains("session"))
        {
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
                let nullable = python::boolean(src, col.keywords.get("nullable").copied());
                let pk = python::boolean(src, col.keywords.get("primary_key").copied());
                let server_default = col.keywords.get("server_default").map(|n| src.text_of(*n));
                let ty = col.positional.get(1).map(|n| src.text_of(*n).to_string());
                let op = &mut ops[i];
                op.nullable = Some(nullable.unwrap_or(pk != Some(true)));
                op.db_default = Some(server_default.is_some_and(|d| d != "None"));
                op.volatile_default = Some(server_default.is_some_and(types::is_volatile_default));
                op.to_type = ty.map(|t| sa_type(&t));
                if col
                    .positional
                    .iter()
                    .any(|p| src.text_of(*p).contains("ForeignKey("))
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
            match python::boolean(src, kw("nullable")) {
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
            let unique = python::boolean(src, c.keywords.get("unique").copied()) == Some(true);
            let concurrent =
                python::boolean(src, c.keywords.get("postgresql_concurrently").copied())
                    == Some(true)
                    || python::boolean(src, c.keywords.get("sqlite_concurrently").copied())
                        == Some(true);
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
                python::boolean(src, c.keywords.get("postgresql_concurrently").copied())
                    == Some(true);
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
                python::boolean(src, c.keywords.get("postgresql_not_valid").copied()) == Some(true);
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
        "execute" => {
            let arg = c.arg(0, "sqltext");
            let text = arg.and_then(|a| {
                python::literal(src, a).or_else(|| {
                    // `sa.text("...")`, `text("...")`.
                    python::call(src, a)
                        .filter(|t| t.name == "text")
                        .and_then(|t| t.positional.first().and_then(|n| python::literal(src, *n)))
                })
            });
            match (arg, text) {
                (Some(a), Some(t)) => {
                    ops.extend(sql::parse_statements(
                        &t,
                        python::line(a),
                        engine,
                        Some(in_tx),
                    ));
                }
                _ => {
                    push(ops, OpKind::RawSql, None, None);
                }
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
    let e = e.rsplit_once('.').map_or(e, |(_, t)| t);
    let e = e.rsplit("sa.").next().unwrap_or(e);
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
