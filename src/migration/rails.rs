//! Rails migrations read with tree-sitter's Ruby grammar: the calls of `change`, `up` and
//! `down` (and of `reversible`, `up_only`, `change_table` blocks) turned into operations.

use std::collections::HashMap;

use tree_sitter::{Node, Tree};

use super::state::History;
use super::{OpKind, Operation, Parsed, Phase, Profile, sql, types};

struct Src<'t> {
    text: &'t str,
    tree: Tree,
}

impl<'t> Src<'t> {
    fn text_of(&self, n: Node<'_>) -> &'t str {
        &self.text[n.byte_range()]
    }
}

fn line(n: Node<'_>) -> u32 {
    n.start_position().row as u32 + 1
}

/// A call's parts: `add_column :users, :email, :string, null: false`.
struct Call<'n> {
    node: Node<'n>,
    method: String,
    receiver: Option<Node<'n>>,
    args: Vec<Node<'n>>,
    options: HashMap<String, Node<'n>>,
    block: Option<Node<'n>>,
}

fn call<'n>(src: &Src<'_>, n: Node<'n>) -> Option<Call<'n>> {
    let (method, receiver, arguments, block) = match n.kind() {
        "call" => (
            src.text_of(n.child_by_field_name("method")?).to_string(),
            n.child_by_field_name("receiver"),
            n.child_by_field_name("arguments"),
            n.child_by_field_name("block"),
        ),
        "identifier" => (src.text_of(n).to_string(), None, None, None),
        _ => return None,
    };
    let mut args = Vec::new();
    let mut options = HashMap::new();
    if let Some(list) = arguments {
        let mut cursor = list.walk();
        for a in list.named_children(&mut cursor) {
            match a.kind() {
                "pair" => {
                    if let (Some(k), Some(v)) =
                        (a.child_by_field_name("key"), a.child_by_field_name("value"))
                    {
                        let key = src
                            .text_of(k)
                            .trim_start_matches(':')
                            .trim_end_matches(':')
                            .trim_matches(['"', '\''])
                            .to_string();
                        options.insert(key, v);
                    }
                }
                "hash" => {
                    let mut c2 = a.walk();
                    for pair in a.named_children(&mut c2).filter(|p| p.kind() == "pair") {
                        if let (Some(k), Some(v)) = (
                            pair.child_by_field_name("key"),
                            pair.child_by_field_name("value"),
                        ) {
                            let key = src.text_of(k).trim_matches([':', '"', '\'']).to_string();
                            options.insert(key, v);
                        }
                    }
                }
                "comment" => {}
                _ => args.push(a),
            }
        }
    }
    Some(Call {
        node: n,
        method,
        receiver,
        args,
        options,
        block,
    })
}

/// A symbol's or string's value: `:users` → `users`.
fn value(src: &Src<'_>, n: Node<'_>) -> Option<String> {
    match n.kind() {
        "simple_symbol" => Some(src.text_of(n).trim_start_matches(':').to_string()),
        "string" | "delimited_symbol" => {
            let mut c = n.walk();
            let s: String = n
                .named_children(&mut c)
                .filter(|p| p.kind() == "string_content")
                .map(|p| src.text_of(p))
                .collect();
            Some(s)
        }
        "true" | "false" | "nil" | "integer" | "identifier" | "constant" | "bare_symbol"
        | "bare_string" => Some(src.text_of(n).to_string()),
        // `*%i[a b]`: the symbols of the array.
        "splat_argument" => n.named_child(0).and_then(|c| value(src, c)),
        "array" | "symbol_array" | "string_array" => {
            let mut c = n.walk();
            let parts: Vec<String> = n
                .named_children(&mut c)
                .filter_map(|p| value(src, p))
                .collect();
            Some(parts.join(", "))
        }
        _ => None,
    }
}

fn opt(src: &Src<'_>, c: &Call<'_>, key: &str) -> Option<String> {
    c.options
        .get(key)
        .map(|n| value(src, *n).unwrap_or_else(|| src.text_of(*n).to_string()))
}

/// The text of SQL passed to `execute`: a string or a heredoc.
fn sql_arg(src: &Src<'_>, c: &Call<'_>) -> Option<(String, u32)> {
    let arg = *c.args.first()?;
    match arg.kind() {
        "string" => {
            let mut cur = arg.walk();
            let parts: Vec<Node> = arg.named_children(&mut cur).collect();
            if parts.iter().any(|p| p.kind() == "interpolation") {
                return None;
            }
            Some((value(src, arg)?, line(arg)))
        }
        "heredoc_beginning" => {
            // The heredoc's body follows the line that opens it.
            let start = arg.end_byte();
            let mut stack = vec![src.tree.root_node()];
            let mut best: Option<Node> = None;
            while let Some(n) = stack.pop() {
                if n.kind() == "heredoc_body" && n.start_byte() >= start {
                    if best.is_none_or(|b| n.start_byte() < b.start_byte()) {
                        best = Some(n);
                    }
                    continue;
                }
                if n.end_byte() < start {
                    continue;
                }
                let mut cur = n.walk();
                stack.extend(n.named_children(&mut cur));
            }
            let body = best?;
            let mut cur = body.walk();
            if body
                .named_children(&mut cur)
                .any(|p| p.kind() == "interpolation")
            {
                return None;
            }
            let text = src.text_of(body);
            // Drop the closing delimiter line.
            let text = text.trim_end();
            let text = text.rsplit_once('\n').map_or("", |(t, _)| t);
            Some((text.to_string(), line(body)))
        }
        _ => None,
    }
}

struct Walker<'a, 's> {
    src: &'a Src<'s>,
    profile_engine: super::profile::Engine,
    in_tx: bool,
    /// Walking the body of `change` itself (not a `reversible` or `up_only` block in it).
    in_change: bool,
    ops: Vec<Operation>,
    created: Vec<String>,
    schema: &'a HashMap<(String, String), String>,
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
        let mut op = Operation::new(kind, line(c.node));
        op.table = table;
        op.column = column;
        op.phase = phase;
        op.in_transaction = Some(self.in_tx);
        op.text = self
            .src
            .text_of(c.node)
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
        let mut stack = vec![body];
        let mut nodes = Vec::new();
        // Calls in source order, not descending into the blocks this handles itself.
        while let Some(n) = stack.pop() {
            if n.kind() == "call" && n != body {
                nodes.push(n);
                if n.child_by_field_name("block").is_some() {
                    continue;
                }
            }
            if matches!(n.kind(), "method" | "singleton_method") && n != body {
                continue;
            }
            let mut cur = n.walk();
            let children: Vec<Node> = n.named_children(&mut cur).collect();
            stack.extend(children.into_iter().rev());
        }
        for n in nodes {
            if let Some(c) = call(self.src, n) {
                self.call(&c, phase, table);
            }
        }
    }

    fn call(&mut self, c: &Call<'_>, phase: Phase, in_table: Option<&str>) {
        let src = self.src;
        let arg = |i: usize| c.args.get(i).and_then(|n| value(src, *n));
        let recv = c.receiver.map(|r| src.text_of(r).to_string());
        // Inside `change_table :t do |t|`, `t.remove :c` names its table by the block.
        let (table, first) = match (in_table, &recv) {
            (Some(t), Some(_)) => (Some(t.to_string()), 0),
            _ => (arg(0), 1),
        };
        let m = c.method.as_str();
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
            if let Some(block) = c.block {
                self.body(block, phase, in_table);
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
        if let Some(block) = c.block {
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

/// Parses Ruby with tree-sitter, on one parser a thread: thousands of migrations share it, and
/// the grammar is loaded once.
fn parse_ruby(text: &str) -> Result<Tree, String> {
    thread_local! {
        static PARSER: std::cell::RefCell<Option<tree_sitter::Parser>> = const { std::cell::RefCell::new(None) };
    }
    PARSER.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.is_none() {
            let mut parser = tree_sitter::Parser::new();
            parser
                .set_language(&tree_sitter_ruby::LANGUAGE.into())
                .map_err(|e| format!("the Ruby grammar could not be loaded: {e}"))?;
            *slot = Some(parser);
        }
        let parser = slot.as_mut().expect("set above");
        parser
            .parse(text, None)
            .ok_or_else(|| "the Ruby parser gave up".to_string())
    })
}

/// Parses a Rails migration into operations.
pub fn parse(path: &str, text: &str, history: &dyn History, profile: &Profile) -> Parsed {
    let tree = parse_ruby(text)?;
    if tree.root_node().has_error() {
        return Err("Ruby syntax error".into());
    }
    let src = Src { text, tree };
    let root = src.tree.root_node();
    // The migration class: `class X < ActiveRecord::Migration[7.1]` (or a subclass of one).
    let mut stack = vec![root];
    let mut class = None;
    while let Some(n) = stack.pop() {
        if n.kind() == "class" {
            class = Some(n);
            break;
        }
        let mut cur = n.walk();
        stack.extend(n.named_children(&mut cur));
    }
    let class = class.ok_or("no migration class found")?;
    let body = class
        .named_children(&mut class.walk())
        .find(|n| n.kind() == "body_statement")
        .ok_or("empty migration class")?;
    let mut in_tx = true;
    let mut methods = Vec::new();
    let mut cur = body.walk();
    for n in body.named_children(&mut cur) {
        match n.kind() {
            "identifier" | "call" if src.text_of(n).starts_with("disable_ddl_transaction") => {
                in_tx = false;
            }
            "method" | "singleton_method" => methods.push(n),
            _ => {}
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
    };
    for m in methods {
        let name = m
            .child_by_field_name("name")
            .map(|n| src.text_of(n))
            .unwrap_or("");
        let phase = match name {
            "up" | "change" => Phase::Up,
            "down" => Phase::Down,
            _ => continue,
        };
        w.in_change = name == "change";
        if let Some(b) = m.child_by_field_name("body") {
            w.body(b, phase, None);
        } else {
            let mut c = m.walk();
            let kids: Vec<Node> = m.named_children(&mut c).collect();
            for k in kids.into_iter().filter(|k| k.kind() == "body_statement") {
                w.body(k, phase, None);
            }
        }
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
