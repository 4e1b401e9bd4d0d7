//! What the schema looked like before a migration: the earlier migrations of the same app,
//! replayed (Django), or the schema dump of the old side (Rails). An `AlterField` says only what
//! a field becomes; whether that sets NOT NULL or changes a type depends on what it was.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Mutex;

/// Where earlier migrations and schema dumps are read from.
pub trait History: Sync {
    /// The text of every migration file in `dir` whose name sorts before `name`, oldest first;
    /// `None` when the folder cannot be read (a patch has no trees).
    fn earlier(&self, dir: &str, name: &str) -> Option<Vec<String>>;
    /// A file of the side the change starts from (`db/schema.rb`).
    fn old_file(&self, path: &str) -> Option<String>;
}

/// No history: every prior state is unknown.
pub struct NoHistory;

impl History for NoHistory {
    fn earlier(&self, _: &str, _: &str) -> Option<Vec<String>> {
        None
    }
    fn old_file(&self, _: &str) -> Option<String> {
        None
    }
}

/// History read beforehand: migration folders' files (path → text) and old-side files.
#[derive(Default)]
pub struct Loaded {
    /// Folder → `(file name, text)`, sorted by name; `None` for a folder that could not be read.
    pub folders: HashMap<String, Option<Vec<(String, String)>>>,
    pub old_files: HashMap<String, Option<String>>,
    /// Replayed Django states, by (folder, file name), so one app's history is replayed once
    /// for all of its migrations in a change.
    pub django_states: Mutex<HashMap<(String, String), DjangoState>>,
}

impl History for Loaded {
    fn earlier(&self, dir: &str, name: &str) -> Option<Vec<String>> {
        let files = self.folders.get(dir)?.as_ref()?;
        Some(
            files
                .iter()
                .filter(|(n, _)| n.as_str() < name)
                .map(|(_, t)| t.clone())
                .collect(),
        )
    }
    fn old_file(&self, path: &str) -> Option<String> {
        self.old_files.get(path)?.clone()
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
    pub fields: HashMap<String, FieldDef>,
    pub unique_together: BTreeSet<Vec<String>>,
    pub index_together: BTreeSet<Vec<String>>,
}

/// The models of one app, by lowercase name, as its migrations so far leave them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DjangoState {
    pub models: HashMap<String, ModelState>,
}
