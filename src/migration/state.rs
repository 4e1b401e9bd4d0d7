//! What the schema looked like before a migration: the earlier migrations of the same app,
//! replayed (Django), or the schema dump of the old side (Rails). An `AlterField` says only what
//! a field becomes; whether that sets NOT NULL or changes a type depends on what it was.

use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Column types by `(table, column)`, lowercase: what a type change is judged against.
pub type ColumnTypes = HashMap<(String, String), String>;

/// The column types of a folder's SQL migrations as they change, file by file: one record of
/// each change, so the types before any migration are found without a copy per migration.
#[derive(Debug, Default)]
pub struct ColumnHistory {
    /// File name → its position in name order.
    pub order: HashMap<String, u32>,
    /// `(table, column)` → `(position of the file that set it, type)`, ascending.
    pub types: HashMap<(String, String), Vec<(u32, String)>>,
    /// File name → the operations the replay read from it, and how: a migration of the change
    /// that the replay read is not read again to be judged.
    pub read: HashMap<String, ReadOps>,
}

/// A file's operations as the replay read them, with what they depend on.
#[derive(Debug)]
pub struct ReadOps {
    /// A hash of the text read.
    pub text: u64,
    pub engine: super::profile::Engine,
    pub tool: super::detect::SqlTool,
    pub ops: Vec<super::Operation>,
}

/// The hash [`ReadOps::text`] holds.
pub fn text_hash(text: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut h);
    h.finish()
}

impl ColumnHistory {
    /// The type of a column just before migration `name`.
    pub fn before(&self, name: &str, key: &(String, String)) -> Option<&str> {
        let at = *self.order.get(name)?;
        let changes = self.types.get(key)?;
        changes
            .iter()
            .take_while(|(pos, _)| *pos < at)
            .last()
            .map(|(_, t)| t.as_str())
    }
}

/// What the operations of a migration are judged against: the schema before it.
pub trait History: Sync {
    /// A Django app's models before migration `name` of folder `dir`, replayed from the
    /// folder's earlier migrations; `None` when they cannot be read.
    fn django_state(&self, dir: &str, name: &str) -> Option<&DjangoState>;
    /// The column types of SQL folder `dir` as its migrations change them; `None` when the
    /// folder cannot be read.
    fn sql_columns(&self, dir: &str) -> Option<&ColumnHistory>;
    /// Column types of a Rails schema dump of the side the change starts from.
    fn rails_schema(&self, path: &str) -> Option<&ColumnTypes>;
}

/// No history: every prior state is unknown.
pub struct NoHistory;

impl History for NoHistory {
    fn django_state(&self, _: &str, _: &str) -> Option<&DjangoState> {
        None
    }
    fn sql_columns(&self, _: &str) -> Option<&ColumnHistory> {
        None
    }
    fn rails_schema(&self, _: &str) -> Option<&ColumnTypes> {
        None
    }
}

/// A Django field as a migration declares it: its class and keyword arguments as written.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FieldDef {
    /// `CharField`, `ForeignKey`, ... (the last part of `models.CharField`).
    pub class: String,
    /// Keyword arguments, values as source text (`max_length` → `255`, `null` → `True`).
    pub args: BTreeMap<String, String>,
}

impl FieldDef {
    pub fn flag(&self, name: &str) -> bool {
        self.args.get(name).is_some_and(|v| v == "True")
    }

    pub fn is_relation(&self) -> bool {
        matches!(self.class.as_str(), "ForeignKey" | "OneToOneField")
    }

    /// Whether the column gets an index: asked for, unique, or a relation (Django indexes
    /// foreign keys unless told not to).
    pub fn indexed(&self) -> bool {
        self.flag("db_index")
            || (self.is_relation() && self.args.get("db_index").is_none_or(|v| v != "False"))
    }

    pub fn unique(&self) -> bool {
        self.flag("unique") || self.class == "OneToOneField" || self.flag("primary_key")
    }
}

/// One model's fields and table-level constraints.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ModelState {
    /// Shared with the states kept for earlier migrations: a field is not copied when its
    /// model changes.
    pub fields: HashMap<String, std::sync::Arc<FieldDef>>,
    pub unique_together: BTreeSet<Vec<String>>,
    pub index_together: BTreeSet<Vec<String>>,
}

/// The models of one app, by lowercase name, as its migrations so far leave them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DjangoState {
    /// Shared between the states kept for several migrations: a model is copied only when a
    /// migration changes it.
    pub models: HashMap<String, std::sync::Arc<ModelState>>,
}
