//! Migrations understood, not grepped: each migration file of a change becomes typed
//! operations, one vocabulary across frameworks.
//!
//! A file is recognised by its path and content ([`detect`]), parsed with a real parser for its
//! language (ruff's parser for Python, prism for Ruby, sqlparser's tokenizer for SQL), and turned
//! into [`Operation`]s: what the migration does to the database, with the line it is written on,
//! the half it belongs to (only `up` deploys), whether it touches the database or only the ORM's
//! state, whether its table is created in the same change, and whether it runs in a transaction.
//! Django's `AlterField` is judged against the field it replaces, replayed from the app's earlier
//! migrations ([`state`]); the database engine the verdicts assume comes from [`profile`].
//! A file the parser cannot read is reported as read as text, and the line rules take over.

pub mod alembic;
pub mod detect;
pub mod django;
pub mod edit;
pub mod history;
pub mod profile;
pub mod python;
pub mod rails;
pub mod sql;
pub mod state;
pub mod types;

use serde::Serialize;

pub use detect::Framework;
pub use profile::Profile;

/// What a migration does, in one vocabulary for every framework.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum OpKind {
    CreateTable,
    DropTable,
    RenameTable,
    Truncate,
    AddColumn,
    DropColumn,
    RenameColumn,
    ChangeColumnType,
    SetNotNull,
    DropNotNull,
    SetDefault,
    DropDefault,
    /// A column changed in a way this could not work out: its earlier definition is unknown.
    AlterColumn,
    AddIndex,
    DropIndex,
    AddUnique,
    AddForeignKey,
    AddCheck,
    AddPrimaryKey,
    AddExclusion,
    ValidateConstraint,
    DropConstraint,
    AddEnumValue,
    RenameEnumValue,
    DropSchema,
    RenameSchema,
    /// A statement that locks or rewrites a whole table: `LOCK TABLE`, `VACUUM FULL`, `CLUSTER`,
    /// `SET TABLESPACE`, `SET LOGGED`.
    LockTable,
    /// Data rewritten by code or by SQL (`RunPython`, `UPDATE`, `update_all`, backfills).
    DataMigration,
    /// SQL the parser could not classify, or SQL built at run time.
    RawSql,
    /// An applied migration whose syntax changed (not only its formatting, imports or comments).
    MigrationEdited,
}

impl OpKind {
    pub const ALL: [OpKind; 30] = [
        OpKind::CreateTable,
        OpKind::DropTable,
        OpKind::RenameTable,
        OpKind::Truncate,
        OpKind::AddColumn,
        OpKind::DropColumn,
        OpKind::RenameColumn,
        OpKind::ChangeColumnType,
        OpKind::SetNotNull,
        OpKind::DropNotNull,
        OpKind::SetDefault,
        OpKind::DropDefault,
        OpKind::AlterColumn,
        OpKind::AddIndex,
        OpKind::DropIndex,
        OpKind::AddUnique,
        OpKind::AddForeignKey,
        OpKind::AddCheck,
        OpKind::AddPrimaryKey,
        OpKind::AddExclusion,
        OpKind::ValidateConstraint,
        OpKind::DropConstraint,
        OpKind::AddEnumValue,
        OpKind::RenameEnumValue,
        OpKind::DropSchema,
        OpKind::RenameSchema,
        OpKind::LockTable,
        OpKind::DataMigration,
        OpKind::RawSql,
        OpKind::MigrationEdited,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OpKind::CreateTable => "create-table",
            OpKind::DropTable => "drop-table",
            OpKind::RenameTable => "rename-table",
            OpKind::Truncate => "truncate",
            OpKind::AddColumn => "add-column",
            OpKind::DropColumn => "drop-column",
            OpKind::RenameColumn => "rename-column",
            OpKind::ChangeColumnType => "change-column-type",
            OpKind::SetNotNull => "set-not-null",
            OpKind::DropNotNull => "drop-not-null",
            OpKind::SetDefault => "set-default",
            OpKind::DropDefault => "drop-default",
            OpKind::AlterColumn => "alter-column",
            OpKind::AddIndex => "add-index",
            OpKind::DropIndex => "drop-index",
            OpKind::AddUnique => "add-unique",
            OpKind::AddForeignKey => "add-foreign-key",
            OpKind::AddCheck => "add-check",
            OpKind::AddPrimaryKey => "add-primary-key",
            OpKind::AddExclusion => "add-exclusion",
            OpKind::ValidateConstraint => "validate-constraint",
            OpKind::DropConstraint => "drop-constraint",
            OpKind::AddEnumValue => "add-enum-value",
            OpKind::RenameEnumValue => "rename-enum-value",
            OpKind::DropSchema => "drop-schema",
            OpKind::RenameSchema => "rename-schema",
            OpKind::LockTable => "lock-table",
            OpKind::DataMigration => "data-migration",
            OpKind::RawSql => "raw-sql",
            OpKind::MigrationEdited => "migration-edited",
        }
    }

    pub fn parse(s: &str) -> Option<OpKind> {
        OpKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl std::fmt::Display for OpKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which half of a migration an operation belongs to. Only `up` deploys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    #[default]
    Up,
    Down,
}

/// One thing a migration does. Attributes a framework cannot express stay `None`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct Operation {
    pub kind: Option<OpKind>,
    /// 1-based line in the new version of the file (the old one for a deleted file).
    pub line: u32,
    pub phase: Phase,
    pub table: Option<String>,
    pub column: Option<String>,
    /// Only the ORM's idea of the schema changes (Django `state_operations`, a squashed
    /// migration that runs only on fresh databases): no SQL runs on a live database.
    pub state_only: bool,
    /// The table is created in this change: it is empty and no running code reads it.
    pub new_table: bool,
    /// For an index or constraint: one of its columns is added in this change with no value
    /// (NULL everywhere), so existing rows cannot break it.
    pub new_column: bool,
    /// Whether the migration runs this in a transaction.
    pub in_transaction: Option<bool>,
    pub concurrently: Option<bool>,
    pub unique: Option<bool>,
    /// A constraint checked against existing rows as it is added (not `NOT VALID`).
    pub validated: Option<bool>,
    /// For a column added or changed: whether it accepts NULL.
    pub nullable: Option<bool>,
    /// For a column added: whether the database itself has a default for it (a Django model
    /// default is dropped right after the column is added, so it does not count).
    pub db_default: Option<bool>,
    /// The default (or generated value) is computed per row, so adding the column rewrites the
    /// table: `random()`, `gen_random_uuid()`, `serial`, a generated stored column.
    pub volatile_default: Option<bool>,
    pub from_type: Option<String>,
    pub to_type: Option<String>,
    /// A type change the engine makes without rewriting the table (varchar(n) to text, a
    /// larger varchar limit): known only when both types are.
    pub metadata_only: Option<bool>,
    /// Whether the column's earlier definition was found (an `AlterField` judged against it).
    pub prior_known: Option<bool>,
    /// Data-migration code with a way back (`reverse_code`, a `down`).
    pub reversible: Option<bool>,
    /// A constraint validated in the same transaction that added it `NOT VALID`: the lock the
    /// two steps were meant to avoid is taken anyway.
    pub validates_own_constraint: Option<bool>,
    /// For `SET NOT NULL`: a check constraint on the table was validated earlier in the same
    /// migration, so Postgres (12 and later) proves the column has no NULL without a scan.
    pub after_check: Option<bool>,
    /// The statement or call, trimmed to its first line, for messages.
    pub text: String,
}

impl Operation {
    pub fn new(kind: OpKind, line: u32) -> Operation {
        Operation {
            kind: Some(kind),
            line,
            ..Operation::default()
        }
    }

    pub fn kind(&self) -> OpKind {
        self.kind.unwrap_or(OpKind::RawSql)
    }

    /// `table.column`, `table`, or the kind: what the finding's fingerprint is made from, so it
    /// names the operation and not the text of a line.
    pub fn subject(&self) -> String {
        match (&self.table, &self.column) {
            (Some(t), Some(c)) => format!("{t}.{c}"),
            (Some(t), None) => t.clone(),
            (None, Some(c)) => c.clone(),
            (None, None) => String::new(),
        }
    }

    /// A value of one of the attributes rules can ask about, by its TOML name.
    pub fn attribute(&self, name: &str) -> Option<bool> {
        match name {
            "state-only" => Some(self.state_only),
            "new-table" => Some(self.new_table),
            "new-column" => Some(self.new_column),
            "in-transaction" => self.in_transaction,
            "concurrently" => self.concurrently,
            "unique" => self.unique,
            "validated" => self.validated,
            "nullable" => self.nullable,
            "db-default" => self.db_default,
            "volatile-default" => self.volatile_default,
            "metadata-only" => self.metadata_only,
            "prior-known" => self.prior_known,
            "reversible" => self.reversible,
            "validates-own-constraint" => self.validates_own_constraint,
            "after-check" => self.after_check,
            "down" => Some(self.phase == Phase::Down),
            _ => None,
        }
    }
}

/// Attribute names a rule's `[rule.match.when]` may ask about.
pub const ATTRIBUTES: [&str; 16] = [
    "state-only",
    "new-table",
    "new-column",
    "in-transaction",
    "concurrently",
    "unique",
    "validated",
    "nullable",
    "db-default",
    "volatile-default",
    "metadata-only",
    "prior-known",
    "reversible",
    "validates-own-constraint",
    "after-check",
    "down",
];

/// What understanding one migration file gave.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Analysis {
    /// Parsed: its operations, in file order.
    Parsed {
        framework: Framework,
        operations: Vec<Operation>,
    },
    /// A migration of a framework this understands, which could not be parsed: the line rules
    /// read it, and a note says why.
    Unread {
        framework: Framework,
        reason: String,
    },
}

impl Analysis {
    pub fn operations(&self) -> &[Operation] {
        match self {
            Analysis::Parsed { operations, .. } => operations,
            Analysis::Unread { .. } => &[],
        }
    }

    pub fn is_parsed(&self) -> bool {
        matches!(self, Analysis::Parsed { .. })
    }
}

/// Both sides of one migration file, as whole text. `None`: the side has no such file.
pub struct Sides<'a> {
    pub path: &'a str,
    pub old: Option<&'a str>,
    pub new: Option<&'a str>,
    /// A side that exists but could not be read (a patch shows only part of a modified file).
    pub unreadable: Option<&'a str>,
    /// Lines of the new side the change added (ascending): in an edited migration, an
    /// operation on one of them is one the edit touched.
    pub touched: &'a [u32],
}

/// What parsing a file of one side gave.
pub type Parsed = std::result::Result<Vec<Operation>, String>;

/// Understands one migration file. `history` gives the state its operations are judged against
/// (earlier migrations of the same app), `profile` the engine the verdicts assume.
pub fn analyze(
    sides: &Sides<'_>,
    history: &dyn state::History,
    profile: &Profile,
) -> Option<Analysis> {
    let framework = detect::framework(sides.path, sides.new.or(sides.old).unwrap_or(""))?;
    let Some(text) = sides.new.or(sides.old) else {
        let reason = sides
            .unreadable
            .unwrap_or("neither side of the file could be read")
            .to_string();
        return Some(Analysis::Unread { framework, reason });
    };
    // A deleted migration's operations never run again: it is judged as a file, not by them.
    let deleted = sides.new.is_none();
    let parsed = match framework {
        Framework::Django => django::parse(sides.path, text, history, profile),
        Framework::Alembic => alembic::parse(text, profile),
        Framework::Rails => rails::parse(sides.path, text, history, profile),
        Framework::Sql(tool) => sql::parse_file(sides.path, text, tool, profile, history),
    };
    let mut operations = match parsed {
        Ok(ops) => ops,
        Err(reason) => return Some(Analysis::Unread { framework, reason }),
    };
    if deleted {
        operations.clear();
    }
    // An edited migration: what the edit added or touched is news; operations the old version
    // already had, on lines the edit left alone, are not. A file whose syntax did not change at
    // all (formatting, imports, comments) has no news.
    let edited = match (sides.old, sides.new) {
        (Some(old), Some(new)) => edit::first_difference(framework, old, new),
        _ => None,
    };
    if let (Some(old), false) = (sides.old, deleted) {
        let before = match framework {
            Framework::Django => django::parse(sides.path, old, history, profile),
            Framework::Alembic => alembic::parse(old, profile),
            Framework::Rails => rails::parse(sides.path, old, history, profile),
            Framework::Sql(tool) => sql::parse_file(sides.path, old, tool, profile, history),
        };
        if let Ok(before) = before {
            let key = |op: &Operation| Operation {
                line: 0,
                text: String::new(),
                ..op.clone()
            };
            let mut seen: Vec<Operation> = before.iter().map(key).collect();
            operations.retain(|op| {
                let k = key(op);
                match seen.iter().position(|s| *s == k) {
                    Some(at) => {
                        seen.swap_remove(at);
                        edited.is_some() && sides.touched.binary_search(&op.line).is_ok()
                    }
                    None => true,
                }
            });
        }
    }
    if let Some(new) = sides.new {
        if let Some(line) = edited {
            let mut op = Operation::new(OpKind::MigrationEdited, line);
            op.text = new
                .lines()
                .nth(line.saturating_sub(1) as usize)
                .unwrap_or("")
                .trim()
                .to_string();
            operations.push(op);
        }
    }
    keep_defaults_set_later(&mut operations);
    for op in &mut operations {
        if op.text.len() > 200 {
            let mut end = 200;
            while !op.text.is_char_boundary(end) {
                end -= 1;
            }
            op.text.truncate(end);
        }
    }
    Some(Analysis::Parsed {
        framework,
        operations,
    })
}

/// A column added with no database default, given one by a later `SET DEFAULT` of the same
/// migration (Django's recipe before `db_default`: `AddField` then `RunSQL ... SET DEFAULT`),
/// keeps a default for the code still running.
fn keep_defaults_set_later(ops: &mut [Operation]) {
    let defaults: Vec<(Option<String>, Option<String>)> = ops
        .iter()
        .filter(|o| o.kind == Some(OpKind::SetDefault) && o.phase == Phase::Up)
        .map(|o| (o.column.clone(), o.table.clone()))
        .collect();
    if defaults.is_empty() {
        return;
    }
    let same = |a: &Option<String>, b: &Option<String>| match (a, b) {
        (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
        _ => false,
    };
    for op in ops.iter_mut() {
        if op.kind == Some(OpKind::AddColumn) && op.db_default == Some(false) {
            let set_later = defaults.iter().any(|(column, table)| {
                same(column, &op.column)
                    && (table.is_none()
                        || op.table.is_none()
                        || same(table, &op.table)
                        || table
                            .as_deref()
                            .zip(op.table.as_deref())
                            .is_some_and(|(t, o)| {
                                t.to_ascii_lowercase().ends_with(&o.to_ascii_lowercase())
                                    || o.to_ascii_lowercase().ends_with(&t.to_ascii_lowercase())
                            }))
            });
            if set_later {
                op.db_default = Some(true);
            }
        }
    }
}

/// Marks operations on tables created elsewhere in the same change as on a new table, and
/// indexes and constraints over columns the change adds empty as on a new column.
pub fn mark_new_tables(files: &mut [&mut Analysis]) {
    let lower = |s: &Option<String>| {
        s.as_deref().map(|t| {
            t.rsplit('.')
                .next()
                .unwrap_or(t)
                .trim_matches(['"', '`'])
                .to_ascii_lowercase()
        })
    };
    // Only the tables something indexes can hold a column an index is built over: the
    // columns of the others (most, in a large change) are not collected.
    let indexed: std::collections::HashSet<String> = files
        .iter()
        .flat_map(|a| a.operations())
        .filter(|op| matches!(op.kind, Some(OpKind::AddIndex | OpKind::AddUnique)))
        .filter_map(|op| lower(&op.table))
        .collect();
    let mut empty_columns = std::collections::HashSet::new();
    for a in files.iter().filter(|_| !indexed.is_empty()) {
        for op in a.operations() {
            if op.kind == Some(OpKind::AddColumn)
                && op.phase == Phase::Up
                && op.nullable != Some(false)
                && op.db_default != Some(true)
            {
                if let Some(t) = lower(&op.table).filter(|t| indexed.contains(t)) {
                    if let Some(c) = lower(&op.column) {
                        empty_columns.insert((t, c));
                    }
                }
            }
        }
    }
    for a in files.iter_mut() {
        if let Analysis::Parsed { operations, .. } = a {
            for op in operations.iter_mut() {
                if !matches!(op.kind, Some(OpKind::AddIndex | OpKind::AddUnique)) {
                    continue;
                }
                let (Some(t), Some(cols)) = (lower(&op.table), op.column.clone()) else {
                    continue;
                };
                op.new_column = cols.split(',').any(|c| {
                    let c = c.trim().trim_matches(['"', '`', ':']).to_ascii_lowercase();
                    empty_columns.contains(&(t.clone(), c))
                });
            }
        }
    }
    let mut created: std::collections::HashSet<String> = std::collections::HashSet::new();
    for a in files.iter() {
        for op in a.operations() {
            if op.kind == Some(OpKind::CreateTable) && op.phase == Phase::Up && !op.state_only {
                if let Some(t) = &op.table {
                    created.insert(t.to_ascii_lowercase());
                }
            }
        }
    }
    if created.is_empty() {
        return;
    }
    for a in files.iter_mut() {
        if let Analysis::Parsed { operations, .. } = a {
            for op in operations {
                if op.kind != Some(OpKind::CreateTable)
                    && op.table.as_ref().is_some_and(|t| {
                        if t.bytes().any(|b| b.is_ascii_uppercase()) {
                            created.contains(&t.to_ascii_lowercase())
                        } else {
                            created.contains(t.as_str())
                        }
                    })
                {
                    op.new_table = true;
                }
            }
        }
    }
}
