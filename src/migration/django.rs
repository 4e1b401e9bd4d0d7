//! Django migrations: `class Migration` and its `operations`, each call turned into operations,
//! `AlterField` judged against the field it replaces.

use std::collections::{BTreeSet, HashMap};

use ruff_python_ast::{Expr, Stmt};

use super::python::{self, Call, Node, Source};
use super::state::{DjangoState, FieldDef, History, ModelState};
use super::{OpKind, Operation, Parsed, Profile, sql, types};

/// One call of the operations list, with whether it only changes Django's state.
struct Step<'n> {
    call: Call<'n>,
    state_only: bool,
}

/// The migration's class body, its operations and settings.
struct Migration<'n> {
    steps: Vec<Step<'n>>,
    atomic: bool,
    squashed: bool,
}

fn migration<'n>(src: &'n Source<'_>) -> Result<Migration<'n>, String> {
    let class = python::statements(src.body())
        .into_iter()
        .find_map(|s| match s {
            Stmt::ClassDef(c)
                if c.arguments
                    .as_ref()
                    .is_some_and(|a| src.text_of(&**a).contains("Migration")) =>
            {
                Some(c)
            }
            _ => None,
        })
        .ok_or("no `class Migration` found")?;
    let body = &class.body[..];
    let settings = python::assignments(src, body);
    let atomic = settings
        .get("atomic")
        .is_none_or(|v| src.text_of(*v) != "False");
    let squashed = settings
        .get("replaces")
        .is_some_and(|v| !python::elements(v).is_empty());
    let mut steps = Vec::new();
    // Lists written as class attributes (`state_operations = [...]`) and named later.
    let mut module_lists = python::assignments(src, src.body());
    module_lists.extend(settings.clone());
    let lists = Lists(module_lists);
    if let Some(ops) = settings.get("operations") {
        let items = lists.elements(ops);
        if items.is_empty() && !matches!(ops, Expr::List(_) | Expr::Tuple(_)) {
            return Err(format!(
                "`operations` is built at run time (line {}), not written as a list",
                src.line(*ops)
            ));
        }
        collect_steps(src, &lists, &items, false, &mut steps)?;
    }
    Ok(Migration {
        steps,
        atomic,
        squashed,
    })
}

/// Names bound to lists in the migration's class or module.
struct Lists<'n>(std::collections::BTreeMap<String, Node<'n>>);

impl<'n> Lists<'n> {
    /// The elements of a list expression, following names (`state_operations`) and sums
    /// (`state_operations + [...]`), a few levels deep.
    fn elements(&self, node: Node<'n>) -> Vec<Node<'n>> {
        self.resolve(node, 0)
    }

    fn resolve(&self, node: Node<'n>, depth: usize) -> Vec<Node<'n>> {
        if depth > 8 {
            return Vec::new();
        }
        match node {
            Expr::Name(name) => match self.0.get(name.id.as_str()) {
                Some(bound) if !std::ptr::eq(*bound, node) => self.resolve(bound, depth + 1),
                _ => Vec::new(),
            },
            Expr::BinOp(b) => {
                let mut out = self.resolve(&b.left, depth + 1);
                out.extend(self.resolve(&b.right, depth + 1));
                out
            }
            _ => python::elements(node),
        }
    }
}

fn collect_steps<'n>(
    src: &'n Source<'_>,
    lists: &Lists<'n>,
    items: &[Node<'n>],
    state_only: bool,
    out: &mut Vec<Step<'n>>,
) -> Result<(), String> {
    for &item in items {
        let Some(call) = python::call(src, item) else {
            return Err(format!(
                "an operation at line {} is not a call: `{}`",
                src.line(item),
                python::first_line(src, item)
            ));
        };
        if call.name == "SeparateDatabaseAndState" {
            if let Some(db) = call.keywords.get("database_operations") {
                collect_steps(src, lists, &lists.elements(db), state_only, out)?;
            }
            if let Some(state) = call.keywords.get("state_operations") {
                collect_steps(src, lists, &lists.elements(state), true, out)?;
            }
            continue;
        }
        out.push(Step { call, state_only });
    }
    Ok(())
}

/// The app label of a migration: the folder that holds `migrations/`.
fn app_label(path: &str) -> String {
    let parts: Vec<&str> = path.split('/').collect();
    match parts.iter().rposition(|p| *p == "migrations") {
        Some(i) if i > 0 => parts[i - 1].to_ascii_lowercase(),
        _ => String::new(),
    }
}

fn table(app: &str, model: &str) -> String {
    let model = model.to_ascii_lowercase();
    if app.is_empty() {
        model
    } else {
        format!("{app}_{model}")
    }
}

fn string_arg(src: &Source<'_>, call: &Call<'_>, index: usize, name: &str) -> Option<String> {
    call.arg(index, name).and_then(|n| python::literal(src, n))
}

/// A field call (`models.CharField(max_length=10)`) as a definition.
fn field_def(src: &Source<'_>, node: Node<'_>) -> Option<FieldDef> {
    let call = python::call(src, node)?;
    let mut def = FieldDef {
        class: call.name.clone(),
        ..FieldDef::default()
    };
    for (k, v) in &call.keywords {
        def.args.insert(k.clone(), src.text_of(*v).to_string());
    }
    if def.is_relation() {
        if let Some(to) = call.positional.first() {
            def.args
                .entry("to".into())
                .or_insert_with(|| src.text_of(*to).to_string());
        }
    }
    Some(def)
}

fn together(src: &Source<'_>, node: Option<Node<'_>>) -> BTreeSet<Vec<String>> {
    let Some(mut node) = node else {
        return BTreeSet::new();
    };
    // `set([("a", "b")])` is the same value as `{("a", "b")}`.
    while let Some(inner) = python::call(src, node)
        .filter(|c| matches!(c.name.as_str(), "set" | "frozenset" | "tuple" | "list"))
        .and_then(|c| c.positional.first().copied())
    {
        node = inner;
    }
    let items = python::elements(node);
    // `("a", "b")` alone is one set; `{("a", "b"), ("c",)}` is several.
    if items
        .iter()
        .all(|i| python::literal(src, i).is_some() && !matches!(i, Expr::Tuple(_)))
        && !items.is_empty()
    {
        return BTreeSet::from([items
            .iter()
            .filter_map(|i| python::literal(src, i))
            .collect()]);
    }
    items
        .iter()
        .map(|set| {
            python::elements(set)
                .iter()
                .filter_map(|i| python::literal(src, i))
                .collect::<Vec<_>>()
        })
        .filter(|s| !s.is_empty())
        .collect()
}

/// Applies one operation to the app's state (what later `AlterField`s are judged against).
fn apply(state: &mut DjangoState, src: &Source<'_>, call: &Call<'_>) {
    let model = |i, k| string_arg(src, call, i, k).map(|m| m.to_ascii_lowercase());
    match call.name.as_str() {
        "CreateModel" => {
            let Some(name) = model(0, "name") else { return };
            let mut m = ModelState::default();
            if let Some(fields) = call.arg(1, "fields") {
                for pair in python::elements(fields) {
                    let parts = python::elements(pair);
                    if let (Some(n), Some(f)) = (parts.first(), parts.get(1)) {
                        if let (Some(n), Some(f)) = (python::literal(src, n), field_def(src, f)) {
                            m.fields.insert(n, std::sync::Arc::new(f));
                        }
                    }
                }
            }
            if let Some(options) = call.keywords.get("options") {
                if let Some(pairs) = dict_entry(src, options, "unique_together") {
                    m.unique_together = together(src, Some(pairs));
                }
                if let Some(pairs) = dict_entry(src, options, "index_together") {
                    m.index_together = together(src, Some(pairs));
                }
            }
            state.models.insert(name, std::sync::Arc::new(m));
        }
        "DeleteModel" => {
            if let Some(name) = model(0, "name") {
                state.models.remove(&name);
            }
        }
        "RenameModel" => {
            if let (Some(old), Some(new)) = (model(0, "old_name"), model(1, "new_name")) {
                if let Some(m) = state.models.remove(&old) {
                    state.models.insert(new, m);
                }
            }
        }
        "AddField" | "AlterField" => {
            let (Some(m), Some(f)) = (model(0, "model_name"), string_arg(src, call, 1, "name"))
            else {
                return;
            };
            if let Some(def) = call.arg(2, "field").and_then(|n| field_def(src, n)) {
                std::sync::Arc::make_mut(state.models.entry(m).or_default())
                    .fields
                    .insert(f, std::sync::Arc::new(def));
            }
        }
        "RemoveField" => {
            if let (Some(m), Some(f)) = (model(0, "model_name"), string_arg(src, call, 1, "name")) {
                if let Some(model) = state.models.get_mut(&m) {
                    std::sync::Arc::make_mut(model).fields.remove(&f);
                }
            }
        }
        "RenameField" => {
            if let (Some(m), Some(old), Some(new)) = (
                model(0, "model_name"),
                string_arg(src, call, 1, "old_name"),
                string_arg(src, call, 2, "new_name"),
            ) {
                if let Some(model) = state.models.get_mut(&m) {
                    let model = std::sync::Arc::make_mut(model);
                    if let Some(def) = model.fields.remove(&old) {
                        model.fields.insert(new, def);
                    }
                }
            }
        }
        "AlterUniqueTogether" => {
            if let Some(m) = model(0, "name") {
                std::sync::Arc::make_mut(state.models.entry(m).or_default()).unique_together =
                    together(src, call.arg(1, "unique_together"));
            }
        }
        "AlterIndexTogether" => {
            if let Some(m) = model(0, "name") {
                std::sync::Arc::make_mut(state.models.entry(m).or_default()).index_together =
                    together(src, call.arg(1, "index_together"));
            }
        }
        _ => {}
    }
}

/// The value of `key` in a dict literal.
fn dict_entry<'n>(src: &Source<'_>, dict: Node<'n>, key: &str) -> Option<Node<'n>> {
    let Expr::Dict(dict) = dict else {
        return None;
    };
    dict.items.iter().find_map(|item| {
        let k = item.key.as_ref()?;
        (python::literal(src, k).as_deref() == Some(key)).then_some(&item.value)
    })
}

/// Replays a folder's migrations in name order, keeping the app's state just before each of
/// `wanted`.
pub fn replay(
    files: &[(String, String)],
    wanted: &std::collections::BTreeSet<&str>,
) -> Vec<(String, DjangoState)> {
    let mut files: Vec<&(String, String)> = files.iter().collect();
    files.sort_by(|a, b| a.0.cmp(&b.0));
    let mut state = DjangoState::default();
    let mut out = Vec::new();
    for (name, text) in files {
        if wanted.contains(name.as_str()) {
            out.push((name.clone(), state.clone()));
        }
        // Migrations after the last one wanted change no state anyone asks for.
        if out.len() == wanted.len() {
            break;
        }
        let Ok(src) = python::parse(text) else {
            continue;
        };
        let Ok(m) = migration(&src) else { continue };
        for step in &m.steps {
            apply(&mut state, &src, &step.call);
        }
    }
    out
}

/// The app's state before this migration, or `None` when its history could not be read.
fn prior_state(path: &str, history: &dyn History) -> Option<DjangoState> {
    let (dir, name) = path.rsplit_once('/')?;
    history.django_state(dir, name).cloned()
}

/// Parses a Django migration into operations.
pub fn parse(path: &str, text: &str, history: &dyn History, profile: &Profile) -> Parsed {
    let src = python::parse(text)?;
    let m = migration(&src)?;
    let app = app_label(path);
    let db = profile.for_path(path);
    let needs_state = m.steps.iter().any(|s| {
        matches!(
            s.call.name.as_str(),
            "AlterField" | "AlterUniqueTogether" | "AlterIndexTogether"
        )
    });
    let mut state = if needs_state {
        prior_state(path, history)
    } else {
        None
    };
    let mut created: HashMap<String, ()> = HashMap::new();
    let mut ops = Vec::new();
    for step in &m.steps {
        let call = &step.call;
        let first_op = ops.len();
        let at = src.line(call.node);
        let text = python::first_line(&src, call.node);
        let model = |i, k| string_arg(&src, call, i, k);
        let push = |ops: &mut Vec<Operation>,
                    kind: OpKind,
                    model: Option<&str>,
                    column: Option<String>| {
            let mut op = Operation::new(kind, at);
            op.table = model.map(|m| table(&app, m));
            op.column = column;
            op.text = text.clone();
            ops.push(op);
            ops.len() - 1
        };
        match call.name.as_str() {
            "CreateModel" => {
                let name = model(0, "name");
                if let Some(n) = &name {
                    created.insert(n.to_ascii_lowercase(), ());
                }
                push(&mut ops, OpKind::CreateTable, name.as_deref(), None);
            }
            "DeleteModel" => {
                push(
                    &mut ops,
                    OpKind::DropTable,
                    model(0, "name").as_deref(),
                    None,
                );
            }
            "RenameModel" | "AlterModelTable" => {
                let name = model(0, "old_name").or_else(|| model(0, "name"));
                push(&mut ops, OpKind::RenameTable, name.as_deref(), None);
            }
            "RemoveField" => {
                push(
                    &mut ops,
                    OpKind::DropColumn,
                    model(0, "model_name").as_deref(),
                    model(1, "name"),
                );
            }
            "RenameField" => {
                push(
                    &mut ops,
                    OpKind::RenameColumn,
                    model(0, "model_name").as_deref(),
                    model(1, "old_name"),
                );
            }
            "AddField" => {
                let (m, f) = (model(0, "model_name"), model(1, "name"));
                let Some(def) = call.arg(2, "field").and_then(|n| field_def(&src, n)) else {
                    push(&mut ops, OpKind::AddColumn, m.as_deref(), f);
                    continue;
                };
                if def.class == "ManyToManyField" {
                    // A join table of its own: nothing existing changes.
                    let t = format!(
                        "{}_{}",
                        m.as_deref().unwrap_or(""),
                        f.as_deref().unwrap_or("")
                    );
                    push(&mut ops, OpKind::CreateTable, Some(&t), None);
                    continue;
                }
                let at_op = push(&mut ops, OpKind::AddColumn, m.as_deref(), f.clone());
                let op = &mut ops[at_op];
                op.nullable = Some(def.flag("null"));
                op.db_default = Some(def.args.contains_key("db_default"));
                op.to_type = types::django_db_type(&def);
                if def.is_relation() && def.args.get("db_constraint").is_none_or(|v| v != "False") {
                    let i = push(&mut ops, OpKind::AddForeignKey, m.as_deref(), f.clone());
                    ops[i].validated = Some(true);
                }
                if def.unique() {
                    let i = push(&mut ops, OpKind::AddUnique, m.as_deref(), f.clone());
                    ops[i].concurrently = Some(false);
                } else if def.indexed() {
                    let i = push(&mut ops, OpKind::AddIndex, m.as_deref(), f.clone());
                    ops[i].concurrently = Some(false);
                }
            }
            "AlterField" => {
                let (m, f) = (model(0, "model_name"), model(1, "name"));
                let new = call.arg(2, "field").and_then(|n| field_def(&src, n));
                let old = match (&state, &m, &f) {
                    (Some(s), Some(m), Some(f)) => s
                        .models
                        .get(&m.to_ascii_lowercase())
                        .and_then(|model| model.fields.get(f))
                        .map(|def| (**def).clone()),
                    _ => None,
                };
                match (old, new) {
                    (Some(old), Some(new)) => {
                        for (kind, fill) in alter_field(&old, &new, db.engine) {
                            let i = push(&mut ops, kind, m.as_deref(), f.clone());
                            fill(&mut ops[i]);
                        }
                    }
                    (_, new) => {
                        let at_op = push(&mut ops, OpKind::AlterColumn, m.as_deref(), f.clone());
                        let op = &mut ops[at_op];
                        op.prior_known = Some(false);
                        op.to_type = new.as_ref().and_then(types::django_db_type);
                        op.nullable = new.as_ref().map(|n| n.flag("null"));
                    }
                }
            }
            "AlterUniqueTogether" | "AlterIndexTogether" => {
                let unique = call.name == "AlterUniqueTogether";
                let key = if unique {
                    "unique_together"
                } else {
                    "index_together"
                };
                let m = model(0, "name");
                let new = together(&src, call.arg(1, key));
                let old = match (&state, &m) {
                    (Some(s), Some(m)) => s.models.get(&m.to_ascii_lowercase()).map(|model| {
                        if unique {
                            model.unique_together.clone()
                        } else {
                            model.index_together.clone()
                        }
                    }),
                    _ => None,
                };
                let kind = if unique {
                    OpKind::AddUnique
                } else {
                    OpKind::AddIndex
                };
                match old {
                    Some(old) => {
                        for set in new.difference(&old) {
                            let at_op = push(&mut ops, kind, m.as_deref(), Some(set.join(", ")));
                            let op = &mut ops[at_op];
                            op.concurrently = Some(false);
                            op.prior_known = Some(true);
                        }
                    }
                    None if !new.is_empty() => {
                        let at_op = push(&mut ops, kind, m.as_deref(), None);
                        let op = &mut ops[at_op];
                        op.concurrently = Some(false);
                        op.prior_known = Some(false);
                    }
                    None => {}
                }
            }
            "AddIndex" | "AddIndexConcurrently" => {
                let concurrent = call.name == "AddIndexConcurrently";
                let at_op = push(
                    &mut ops,
                    OpKind::AddIndex,
                    model(0, "model_name").as_deref(),
                    None,
                );
                let op = &mut ops[at_op];
                op.concurrently = Some(concurrent);
                op.unique = Some(false);
            }
            "RemoveIndex" | "RemoveIndexConcurrently" => {
                let at_op = push(
                    &mut ops,
                    OpKind::DropIndex,
                    model(0, "model_name").as_deref(),
                    model(1, "name"),
                );
                let op = &mut ops[at_op];
                op.concurrently = Some(call.name == "RemoveIndexConcurrently");
            }
            "AddConstraint" | "AddConstraintNotValid" => {
                let constraint = call
                    .arg(1, "constraint")
                    .and_then(|n| python::call(&src, n));
                let kind = match constraint.as_ref().map(|c| c.name.as_str()) {
                    Some("UniqueConstraint") => OpKind::AddUnique,
                    Some("CheckConstraint") => OpKind::AddCheck,
                    Some("ExclusionConstraint") => OpKind::AddExclusion,
                    _ => OpKind::AddCheck,
                };
                let at_op = push(&mut ops, kind, model(0, "model_name").as_deref(), None);
                let op = &mut ops[at_op];
                op.validated = Some(call.name != "AddConstraintNotValid");
                op.concurrently = Some(false);
            }
            "ValidateConstraint" => {
                push(
                    &mut ops,
                    OpKind::ValidateConstraint,
                    model(0, "model_name").as_deref(),
                    model(1, "name"),
                );
            }
            "RemoveConstraint" => {
                push(
                    &mut ops,
                    OpKind::DropConstraint,
                    model(0, "model_name").as_deref(),
                    model(1, "name"),
                );
            }
            "RunPython" => {
                let reverse = call.arg(1, "reverse_code");
                let i = push(&mut ops, OpKind::DataMigration, None, None);
                ops[i].reversible = Some(reverse.is_some());
            }
            "RunSQL" => {
                // The call itself: SQL the framework cannot check or reverse on its own.
                let at_op = push(&mut ops, OpKind::RawSql, None, None);
                ops[at_op].reversible = Some(call.arg(1, "reverse_sql").is_some());
                let sql_node = call.arg(0, "sql");
                let literal = sql_node.and_then(|n| sql_text(&src, n));
                if let (Some(node), Some(sql_text)) = (sql_node, literal) {
                    let first_line = src.line(node);
                    let mut found =
                        sql::parse_statements(&sql_text, first_line, db.engine, Some(m.atomic));
                    for op in &mut found {
                        // A string's lines are not the file's: point at the call.
                        op.line = op.line.max(at);
                    }
                    ops.extend(found);
                }
            }
            _ => {}
        }
        for op in &mut ops[first_op..] {
            op.state_only |= step.state_only || m.squashed;
            op.in_transaction = op.in_transaction.or(Some(m.atomic));
        }
        if let Some(state) = state.as_mut() {
            apply(state, &src, call);
        }
    }
    for op in &mut ops {
        if let Some(t) = &op.table {
            let model = t.strip_prefix(&format!("{app}_")).unwrap_or(t);
            if created.contains_key(model) && op.kind != Some(OpKind::CreateTable) {
                op.new_table = true;
            }
        }
    }
    Ok(ops)
}

/// Sets an operation's attributes.
type Fill = Box<dyn Fn(&mut Operation)>;

/// The operations an `AlterField` from `old` to `new` amounts to.
fn alter_field(
    old: &FieldDef,
    new: &FieldDef,
    engine: super::profile::Engine,
) -> Vec<(OpKind, Fill)> {
    let mut out: Vec<(OpKind, Fill)> = Vec::new();
    let (from, to) = (types::django_db_type(old), types::django_db_type(new));
    if from != to {
        let metadata_only = match (&from, &to) {
            (Some(f), Some(t)) => types::metadata_only(f, t, engine),
            _ => None,
        };
        out.push((
            OpKind::ChangeColumnType,
            Box::new(move |op| {
                op.from_type = from.clone();
                op.to_type = to.clone();
                op.metadata_only = metadata_only;
                op.prior_known = Some(true);
            }),
        ));
    }
    if old.flag("null") && !new.flag("null") {
        out.push((
            OpKind::SetNotNull,
            Box::new(|op| {
                op.prior_known = Some(true);
                op.nullable = Some(false);
            }),
        ));
    }
    if !old.unique() && new.unique() {
        out.push((
            OpKind::AddUnique,
            Box::new(|op| {
                op.prior_known = Some(true);
                op.concurrently = Some(false);
            }),
        ));
    } else if !old.indexed() && new.indexed() && !new.unique() {
        out.push((
            OpKind::AddIndex,
            Box::new(|op| {
                op.prior_known = Some(true);
                op.concurrently = Some(false);
            }),
        ));
    }
    if !old.is_relation() && new.is_relation() {
        out.push((
            OpKind::AddForeignKey,
            Box::new(|op| {
                op.prior_known = Some(true);
                op.validated = Some(true);
            }),
        ));
    }
    out
}

/// The SQL of a `RunSQL` argument: a string, or a list of strings (or `(sql, params)` pairs).
fn sql_text(src: &Source<'_>, node: Node<'_>) -> Option<String> {
    if let Some(s) = python::literal(src, node) {
        return Some(s);
    }
    let items = python::elements(node);
    if items.is_empty() {
        return None;
    }
    let mut out = Vec::new();
    for item in items {
        let s = python::literal(src, item).or_else(|| {
            python::elements(item)
                .first()
                .and_then(|f| python::literal(src, f))
        })?;
        out.push(s.trim().trim_end_matches(';').to_string());
    }
    Some(out.join(";\n"))
}

#[cfg(test)]
mod tests;
