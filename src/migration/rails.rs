//! Rails migrations read with prism, Ruby's own parser (the default one since Ruby 3.4, so it
//! reads every syntax a migration can be written in): the calls of `change`, `up` and `down`
//! (and of `reversible`, `up_only`, `change_table` blocks) turned into operations. prism
//! replaced tree-sitter's Ruby grammar for speed: 97 MB/s against 7.2 on the benchmark's
//! migrations, 88 against 11.3 on real ones (rubygems.org's and maybe's).
//!
//! prism's parser, and the destructor of its tree, recurse once a level of nesting: a file is
//! read on a stack sized for the deepest nesting its tokens could make ([`stack_for`]),
//! whatever thread reads it. The walks here recurse only once a block, to a limit, and keep
//! their own stacks for the rest ([`tree::children`]).

use std::collections::HashMap;

use ruby_prism::Node;

use super::state::History;
use super::{OpKind, Operation, Parsed, Phase, Profile, sql, types};

mod tree;
use tree::{Call, Src, call, children, sql_arg, value};

fn opt(src: &Src<'_>, c: &Call<'_>, key: &str) -> Option<String> {
    c.options
        .get(key)
        .map(|n| value(src, n).unwrap_or_else(|| src.text_of(n).to_string()))
}

/// Blocks nested deeper than this (`create_table ... do`, `reversible do`) are not read, and
/// the file is refused: the walk recurses once a block.
const MAX_BLOCK_DEPTH: usize = 64;

struct Walker<'a, 's> {
    src: &'a Src<'s>,
    profile_engine: super::profile::Engine,
    in_tx: bool,
    /// Walking the body of `change` itself (not a `reversible` or `up_only` block in it).
    in_change: bool,
    ops: Vec<Operation>,
    created: Vec<String>,
    schema: &'a HashMap<(String, String), String>,
    /// How many blocks deep the walk is, and whether it met one deeper than it reads.
    depth: usize,
    too_deep: bool,
}

impl Walker<'_, '_> {
    fn push(
        &mut self,
        kind: OpKind,
        c: &Call<'_>,
        table: Option<String>,
        column: Option<String>,
        phase: Phase,
    ) -> &mut Operation {
        let mut op = Operation::new(kind, self.src.line_at(c.start));
        op.table = table;
        op.column = column;
        op.phase = phase;
        op.in_transaction = Some(self.in_tx);
        op.text = self
            .src
            .slice(c.start, c.end)
            .lines()
            .next()
            .unwrap_or("")
            .trim()
            .to_string();
        self.ops.push(op);
        self.ops.last_mut().unwrap()
    }

    /// Every statement under `body`, in order, in `phase`.
    fn body(&mut self, body: Node<'_>, phase: Phase, table: Option<&str>) {
        if self.depth == MAX_BLOCK_DEPTH {
            self.too_deep = true;
            return;
        }
        self.depth += 1;
        let mut stack = Vec::new();
        children(&body, &mut stack);
        stack.reverse();
        let mut calls = Vec::new();
        // Calls in source order, not descending into the blocks this handles itself.
        while let Some(n) = stack.pop() {
            if let Some(c) = n.as_call_node() {
                let has_block = c.block().is_some_and(|b| b.as_block_node().is_some());
                if tree::is_written_call(&c) {
                    calls.push(c);
                }
                if has_block {
                    continue;
                }
            } else if n.as_def_node().is_some() {
                continue;
            }
            let at = stack.len();
            children(&n, &mut stack);
            stack[at..].reverse();
        }
        for c in calls {
            let c = call(self.src, &c);
            self.call(&c, phase, table);
        }
        self.depth -= 1;
    }

    fn call(&mut self, c: &Call<'_>, phase: Phase, in_table: Option<&str>) {
        let src = self.src;
        let arg = |i: usize| c.args.get(i).and_then(|n| value(src, n));
        let recv = c.receiver;
        // Inside `change_table :t do |t|`, `t.remove :c` names its table by the block.
        let (table, first) = match (in_table, &recv) {
            (Some(t), Some(_)) => (Some(t.to_string()), 0),
            _ => (arg(0), 1),
        };
        let m = c.method;
        let on_block_var = in_table.is_some() && recv.is_some();
        // `t.index`, `t.remove`: methods of a table block's variable, not of the migration.
        const BLOCK_ONLY: [&str; 14] = [
            "column",
            "remove",
            "rename",
            "change",
            "index",
            "references",
            "belongs_to",
            "timestamps",
            "foreign_key",
            "check_constraint",
            "exclusion_constraint",
            "unique_constraint",
            "change_null",
            "change_default",
        ];
        let data_methods = [
            "update_all",
            "update_column",
            "update_columns",
            "delete_all",
            "in_batches",
            "find_each",
            "insert_all",
            "upsert_all",
        ];
        if (BLOCK_ONLY.contains(&m) && !on_block_var)
            || (recv.is_some()
                && !on_block_var
                && !data_methods.contains(&m)
                && m != "execute"
                && !matches!(m, "up" | "down"))
        {
            if let Some(block) = &c.block {
                self.body(block.as_node(), phase, in_table);
            }
            return;
        }
        match m {
            "create_table" | "create_join_table" => {
                let t = if m == "create_join_table" {
                    Some(format!(
                        "{}_{}",
                        arg(0).unwrap_or_default(),
                        arg(1).unwrap_or_default()
                    ))
                } else {
                    arg(0)
                };
                if opt(src, c, "force").is_some_and(|f| f != "false") {
                    self.push(OpKind::DropTable, c, t.clone(), None, phase);
                }
                // A table the down half recreates is not new.
                if let (Some(t), Phase::Up) = (&t, phase) {
                    self.created.push(t.clone());
                }
                self.push(OpKind::CreateTable, c, t, None, phase);
            }
            "drop_table" | "drop_join_table" => {
                self.push(OpKind::DropTable, c, arg(0), None, phase);
            }
            "rename_table" => {
                self.push(OpKind::RenameTable, c, arg(0), None, phase);
            }
            "add_column" | "column" if !on_block_var || m == "column" => {
                let (col, ty) = (arg(first), arg(first + 1));
                self.add_column(c, table, col, ty, phase);
            }
            "string" | "text" | "integer" | "bigint" | "boolean" | "datetime" | "decimal"
            | "float" | "jsonb" | "json" | "uuid" | "date" | "timestamp" | "timestamptz"
            | "citext" | "binary"
                if on_block_var =>
            {
                for i in 0..c.args.len() {
                    self.add_column(c, table.clone(), arg(i), Some(m.to_string()), phase);
                }
            }
            "remove_column" | "remove" | "remove_columns" | "remove_reference"
            | "remove_belongs_to" | "remove_references" => {
                let refs = m.contains("reference") || m.contains("belongs_to");
                let start = if on_block_var { 0 } else { 1 };
                let mut cols: Vec<String> = (start..c.args.len())
                    .filter_map(arg)
                    .flat_map(|v| v.split(", ").map(str::to_string).collect::<Vec<_>>())
                    .collect();
                if m == "remove_column" || refs {
                    cols.truncate(1);
                }
                for col in cols {
                    let col = if refs { format!("{col}_id") } else { col };
                    self.push(OpKind::DropColumn, c, table.clone(), Some(col), phase);
                }
            }
            "remove_timestamps" => {
                for col in ["created_at", "updated_at"] {
                    self.push(
                        OpKind::DropColumn,
                        c,
                        table.clone(),
                        Some(col.into()),
                        phase,
                    );
                }
            }
            "rename_column" | "rename" => {
                let col = arg(first);
                self.push(OpKind::RenameColumn, c, table, col, phase);
            }
            "change_column" | "change" if !on_block_var || m == "change" => {
                let (col, ty) = (arg(first), arg(first + 1));
                let to = ty.map(|t| types::rails_db_type(&t, opt(src, c, "limit").as_deref()));
                let from = match (&table, &col) {
                    (Some(t), Some(cn)) => self.schema.get(&(t.clone(), cn.clone())).cloned(),
                    _ => None,
                };
                let engine = self.profile_engine;
                let op = self.push(OpKind::ChangeColumnType, c, table, col, phase);
                op.metadata_only = match (&from, &to) {
                    (Some(f), Some(t)) => types::metadata_only(f, t, engine),
                    _ => None,
                };
                op.prior_known = Some(from.is_some());
                op.from_type = from;
                op.to_type = to;
            }
            "change_column_null" => {
                let null = arg(first + 1);
                let kind = if null.as_deref() == Some("false") {
                    OpKind::SetNotNull
                } else {
                    OpKind::DropNotNull
                };
                self.push(kind, c, table, arg(first), phase);
            }
            "change_null" => {
                let null = arg(1);
                let kind = if null.as_deref() == Some("false") {
                    OpKind::SetNotNull
                } else {
                    OpKind::DropNotNull
                };
                self.push(kind, c, table, arg(0), phase);
            }
            "change_column_default" | "change_default" => {
                self.push(OpKind::SetDefault, c, table, arg(first), phase);
            }
            "add_index" | "index" => {
                let unique = opt(src, c, "unique").is_some_and(|u| u == "true");
                let concurrent =
                    opt(src, c, "algorithm").is_some_and(|a| a.contains("concurrently"));
                let col = arg(first);
                let kind = if unique {
                    OpKind::AddUnique
                } else {
                    OpKind::AddIndex
                };
                let op = self.push(kind, c, table, col, phase);
                op.concurrently = Some(concurrent);
                op.unique = Some(unique);
            }
            "remove_index" => {
                let concurrent =
                    opt(src, c, "algorithm").is_some_and(|a| a.contains("concurrently"));
                let op = self.push(OpKind::DropIndex, c, table, arg(first), phase);
                op.concurrently = Some(concurrent);
            }
            "add_reference" | "add_belongs_to" | "references" | "belongs_to" => {
                let col = arg(first).map(|c| format!("{c}_id"));
                let not_null = opt(src, c, "null").is_some_and(|n| n == "false");
                let op = self.push(OpKind::AddColumn, c, table.clone(), col.clone(), phase);
                op.nullable = Some(!not_null);
                op.db_default = Some(opt(src, c, "default").is_some());
                op.volatile_default = Some(false);
                let index = opt(src, c, "index");
                if index.as_deref() != Some("false") {
                    let concurrent = index.as_deref().is_some_and(|i| i.contains("concurrently"));
                    let op = self.push(OpKind::AddIndex, c, table.clone(), col.clone(), phase);
                    op.concurrently = Some(concurrent);
                }
                if let Some(fk) = opt(src, c, "foreign_key") {
                    if fk != "false" {
                        let op = self.push(OpKind::AddForeignKey, c, table, col, phase);
                        op.validated = Some(!fk.contains("validate: false"));
                    }
                }
            }
            "add_timestamps" | "timestamps" => {
                let not_null = opt(src, c, "null").is_none_or(|n| n == "false");
                for col in ["created_at", "updated_at"] {
                    let op =
                        self.push(OpKind::AddColumn, c, table.clone(), Some(col.into()), phase);
                    op.nullable = Some(!not_null);
                    op.db_default = Some(opt(src, c, "default").is_some());
                    op.volatile_default = Some(false);
                }
            }
            "add_foreign_key" | "foreign_key" => {
                let validated = opt(src, c, "validate").is_none_or(|v| v != "false");
                let op = self.push(OpKind::AddForeignKey, c, table, arg(first), phase);
                op.validated = Some(validated);
            }
            "add_check_constraint" | "check_constraint" => {
                let validated = opt(src, c, "validate").is_none_or(|v| v != "false");
                let op = self.push(OpKind::AddCheck, c, table, None, phase);
                op.validated = Some(validated);
            }
            "add_exclusion_constraint" | "exclusion_constraint" => {
                self.push(OpKind::AddExclusion, c, table, None, phase);
            }
            "add_unique_constraint" | "unique_constraint" => {
                let using_index = c.options.contains_key("using_index");
                if !using_index {
                    let op = self.push(OpKind::AddUnique, c, table, arg(first), phase);
                    op.concurrently = Some(false);
                }
            }
            "validate_foreign_key" | "validate_check_constraint" | "validate_constraint" => {
                self.push(OpKind::ValidateConstraint, c, table, None, phase);
            }
            "remove_foreign_key"
            | "remove_check_constraint"
            | "remove_exclusion_constraint"
            | "remove_unique_constraint" => {
                self.push(OpKind::DropConstraint, c, table, None, phase);
            }
            "add_enum_value" => {
                self.push(OpKind::AddEnumValue, c, arg(0), None, phase);
            }
            "rename_enum_value" => {
                self.push(OpKind::RenameEnumValue, c, arg(0), None, phase);
            }
            "rename_schema" => {
                self.push(OpKind::RenameSchema, c, arg(0), None, phase);
            }
            "drop_schema" => {
                self.push(OpKind::DropSchema, c, arg(0), None, phase);
            }
            "execute" => {
                // `execute` in `change` cannot be reversed: Rails does not know its opposite.
                let reversible = if self.in_change {
                    Some(false)
                } else {
                    Some(true)
                };
                self.push(OpKind::RawSql, c, None, None, phase).reversible = reversible;
                if let Some((text, at)) = sql_arg(src, c) {
                    let mut found =
                        sql::parse_statements(&text, at, self.profile_engine, Some(self.in_tx));
                    for op in &mut found {
                        op.phase = phase;
                    }
                    self.ops.extend(found);
                }
            }
            "update_all" | "update_column" | "update_columns" | "delete_all" | "in_batches"
            | "find_each" | "insert_all" | "upsert_all" => {
                self.push(OpKind::DataMigration, c, None, None, phase);
            }
            _ => {}
        }
        // Blocks: their calls belong to the block's table, or to a phase.
        if let Some(block) = &c.block {
            let block = block.as_node();
            match m {
                "create_table" => {
                    let t = arg(0);
                    let start = self.ops.len();
                    self.body(block, phase, t.as_deref());
                    for op in &mut self.ops[start..] {
                        op.new_table = true;
                    }
                }
                "change_table" => {
                    let t = arg(0);
                    self.body(block, phase, t.as_deref());
                }
                "up" if recv.is_some() => self.body(block, Phase::Up, in_table),
                "down" if recv.is_some() => self.body(block, Phase::Down, in_table),
                "reversible" | "up_only" => {
                    let was = std::mem::replace(&mut self.in_change, false);
                    self.body(block, phase, in_table);
                    self.in_change = was;
                }
                _ => self.body(block, phase, in_table),
            }
        }
    }

    fn add_column(
        &mut self,
        c: &Call<'_>,
        table: Option<String>,
        col: Option<String>,
        ty: Option<String>,
        phase: Phase,
    ) {
        let src = self.src;
        let to = ty.map(|t| types::rails_db_type(&t, opt(src, c, "limit").as_deref()));
        let not_null = opt(src, c, "null").is_some_and(|n| n == "false");
        let default = opt(src, c, "default");
        // A generated column stored on disk (`as: ..., stored: true`) is computed for every row.
        let generated = opt(src, c, "stored").is_some_and(|s| s == "true");
        let volatile = to.as_deref().is_some_and(types::is_volatile_type)
            || generated
            || default.as_deref().is_some_and(|d| {
                d.starts_with("->") || d.starts_with("lambda") || types::is_volatile_default(d)
            });
        let op = self.push(OpKind::AddColumn, c, table, col, phase);
        op.nullable = Some(!not_null);
        op.db_default = Some(default.is_some());
        op.volatile_default = Some(volatile);
        op.to_type = to;
        let unique = opt(src, c, "unique").is_some_and(|u| u == "true");
        let index = opt(src, c, "index");
        if unique || index.as_deref().is_some_and(|i| i != "false") {
            let (t, col) = (
                self.ops.last().and_then(|o| o.table.clone()),
                self.ops.last().and_then(|o| o.column.clone()),
            );
            let kind = if unique {
                OpKind::AddUnique
            } else {
                OpKind::AddIndex
            };
            let op = self.push(kind, c, t, col, phase);
            op.concurrently = Some(false);
        }
    }
}

/// Column types of the old side's `db/schema.rb`: (table, column) → SQL type.
pub fn schema_types(text: &str) -> HashMap<(String, String), String> {
    let mut out = HashMap::new();
    let mut table: Option<String> = None;
    for line in text.lines() {
        let l = line.trim();
        if let Some(rest) = l.strip_prefix("create_table ") {
            table = rest.split(['"', '\'']).nth(1).map(str::to_string);
        } else if l == "end" {
            table = None;
        } else if let (Some(t), Some(rest)) = (&table, l.strip_prefix("t.")) {
            let (kind, rest) = rest.split_once(' ').unwrap_or((rest, ""));
            let Some(col) = rest.split(['"', '\'']).nth(1) else {
                continue;
            };
            let limit = rest
                .split("limit: ")
                .nth(1)
                .map(|l| l.split([',', ' ']).next().unwrap_or(""));
            out.insert(
                (t.clone(), col.to_string()),
                types::rails_db_type(kind, limit),
            );
        }
    }
    out
}

/// The stack prism may need to parse `text` and free its tree, both of which recurse once a
/// level of nesting. Measured on files 100,000 levels deep: up to 800 bytes a level where
/// prism stops at 10,000 levels ("nesting too deep": brackets, blocks, operators), up to 500
/// where it does not (patterns, parameter lists, chains of calls); every level takes a token
/// at least. About twice that, and a megabyte for the walk.
fn stack_for(text: &str) -> Result<usize, String> {
    let tokens = tokens(text.as_bytes());
    let need = (1 << 20) + tokens.min(10_000) * 1536 + tokens * 1024;
    if need > MAX_STACK {
        return Err(format!("Ruby file too large to read ({tokens} tokens)"));
    }
    Ok(need)
}

/// The most stack a file is given (reserved, not touched unless its nesting needs it): about a
/// million tokens, a file of some megabytes.
const MAX_STACK: usize = 1 << 30;

/// How many tokens `b` could hold at most: punctuation marks, and the starts of words.
fn tokens(b: &[u8]) -> usize {
    let mut n = 0;
    let mut in_word = false;
    for &c in b {
        let word = c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80;
        if (word && !in_word) || (!word && !c.is_ascii_whitespace()) {
            n += 1;
        }
        in_word = word;
    }
    n
}

/// Parses a Rails migration into operations.
pub fn parse(path: &str, text: &str, history: &dyn History, profile: &Profile) -> Parsed {
    let stack = stack_for(text)?;
    stacker::maybe_grow(stack, stack, || read(path, text, history, profile))
}

/// Whether the file names an encoding other than UTF-8 in a magic comment: prism's messages
/// quote the source as read in that encoding, so they need not be UTF-8.
fn other_encoding(text: &str) -> bool {
    text.lines().take(2).any(|l| {
        let l = l.to_ascii_lowercase();
        l.trim_start().starts_with('#')
            && l.contains("coding")
            && !l.contains("utf-8")
            && !l.contains("utf8")
    })
}

fn read(path: &str, text: &str, history: &dyn History, profile: &Profile) -> Parsed {
    let result = ruby_prism::parse(text.as_bytes());
    let src = Src::new(text);
    if let Some(e) = result.errors().min_by_key(|e| e.location().start_offset()) {
        let line = src.line_at(e.location().start_offset());
        return Err(if other_encoding(text) {
            format!("Ruby syntax error near line {line}")
        } else {
            format!("Ruby syntax error near line {line}: {}", e.message())
        });
    }
    // The migration class: `class X < ActiveRecord::Migration[7.1]` (or a subclass of one),
    // the first met walking from the end of the file.
    let mut stack = vec![result.node()];
    let mut class = None;
    while let Some(n) = stack.pop() {
        if let Some(c) = n.as_class_node() {
            class = Some(c);
            break;
        }
        children(&n, &mut stack);
    }
    let class = class.ok_or("no migration class found")?;
    let body = class.body().ok_or("empty migration class")?;
    // A class body with `rescue` or `ensure` is a `begin`.
    let statements = match body.as_begin_node() {
        Some(b) => b.statements(),
        None => body.as_statements_node(),
    };
    let mut in_tx = true;
    let mut methods = Vec::new();
    for n in statements.iter().flat_map(|s| s.body().iter()) {
        if n.as_call_node().is_some() && src.text_of(&n).starts_with("disable_ddl_transaction") {
            in_tx = false;
        } else if let Some(m) = n.as_def_node() {
            methods.push(m);
        }
    }
    let db = profile.for_path(path);
    let schema = path
        .rsplit_once("/migrate/")
        .or_else(|| path.rsplit_once("_migrate/"))
        .map(|(root, _)| {
            let root = root.trim_end_matches("/db").trim_end_matches("db");
            let root = root.trim_end_matches('/');
            if root.is_empty() {
                "db/schema.rb".to_string()
            } else {
                format!("{root}/db/schema.rb")
            }
        })
        .and_then(|p| history.rails_schema(&p));
    let no_schema = HashMap::new();
    let schema = schema.unwrap_or(&no_schema);
    let mut w = Walker {
        src: &src,
        profile_engine: db.engine,
        in_tx,
        in_change: false,
        ops: Vec::new(),
        created: Vec::new(),
        schema,
        depth: 0,
        too_deep: false,
    };
    for m in methods {
        let phase = match m.name().as_slice() {
            b"up" | b"change" => Phase::Up,
            b"down" => Phase::Down,
            _ => continue,
        };
        w.in_change = m.name().as_slice() == b"change";
        if let Some(b) = m.body() {
            w.body(b, phase, None);
        }
    }
    if w.too_deep {
        return Err(format!(
            "Ruby blocks nested more than {MAX_BLOCK_DEPTH} deep: not read"
        ));
    }
    let created: Vec<String> = w.created.clone();
    let mut ops = w.ops;
    // `raise ActiveRecord::IrreversibleMigration` in `down`: what `up` rewrites stays rewritten.
    if text.contains("IrreversibleMigration") {
        for op in &mut ops {
            if matches!(op.kind, Some(OpKind::DataMigration) | Some(OpKind::RawSql))
                && op.phase == Phase::Up
            {
                op.reversible = Some(false);
            }
        }
    }
    for op in &mut ops {
        if op.kind != Some(OpKind::CreateTable)
            && op.table.as_ref().is_some_and(|t| created.contains(t))
        {
            op.new_table = true;
        }
    }
    Ok(ops)
}

#[cfg(test)]
mod tests;
