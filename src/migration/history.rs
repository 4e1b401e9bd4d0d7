//! A change's migration history, read beforehand and replayed once per folder: each earlier
//! migration is parsed once for all the migrations of a change that need it, not once for each.
//! What the replay gives (the schema before a migration) is described in [`super::state`].

use std::collections::{BTreeSet, HashMap};

use super::profile::Engine;
use super::state::{ColumnHistory, ColumnTypes, DjangoState, History};
use super::{django, rails, sql};

/// History read beforehand, then replayed once per folder ([`Loaded::prepare`]): each earlier
/// migration is parsed once for all the migrations of a change that need it, not once for each.
#[derive(Default)]
pub struct Loaded {
    /// Folder → `(file name, text)` of its migrations; `None` for a folder that could not be
    /// read.
    pub folders: HashMap<String, Option<Vec<(String, String)>>>,
    /// Old-side schema dumps by path (`db/schema.rb`); `None` when there is none.
    pub old_files: HashMap<String, Option<String>>,
    /// `(folder, file name)` of the migrations whose prior state is wanted.
    pub wanted: BTreeSet<(String, String)>,
    django: HashMap<(String, String), DjangoState>,
    sql: HashMap<String, ColumnHistory>,
    rails: HashMap<String, ColumnTypes>,
    unreadable: BTreeSet<String>,
}

impl Loaded {
    /// Replays every folder once, keeping the state before each wanted migration. `engine`
    /// gives the database a SQL folder's migrations run on.
    pub fn prepare(&mut self, engine: impl Fn(&str) -> Engine + Sync) {
        use rayon::prelude::*;
        let wanted = &self.wanted;
        let replayed: Vec<(String, Prior)> = self
            .folders
            .par_iter()
            .filter_map(|(dir, files)| {
                let files = files.as_ref()?;
                let names: BTreeSet<&str> = wanted
                    .iter()
                    .filter(|(d, _)| d == dir)
                    .map(|(_, n)| n.as_str())
                    .collect();
                let python = names.iter().any(|n| n.ends_with(".py"));
                let prior = if python {
                    Prior::Django(django::replay(files, &names))
                } else {
                    Prior::Sql(sql::replay(dir, files, engine(dir), names.last().copied()))
                };
                Some((dir.clone(), prior))
            })
            .collect();
        for (dir, prior) in replayed {
            match prior {
                Prior::Django(states) => {
                    for (name, state) in states {
                        self.django.insert((dir.clone(), name), state);
                    }
                }
                Prior::Sql(history) => {
                    self.sql.insert(dir, history);
                }
            }
        }
        for (dir, files) in &self.folders {
            if files.is_none() {
                self.unreadable.insert(dir.clone());
            }
        }
        for (path, text) in &self.old_files {
            if let Some(text) = text {
                self.rails.insert(path.clone(), rails::schema_types(text));
            }
        }
    }
}

/// A prior state of one migration.
enum Prior {
    Django(Vec<(String, DjangoState)>),
    Sql(ColumnHistory),
}

impl History for Loaded {
    fn django_state(&self, dir: &str, name: &str) -> Option<&DjangoState> {
        self.django.get(&(dir.to_string(), name.to_string()))
    }
    fn sql_columns(&self, dir: &str) -> Option<&ColumnHistory> {
        self.sql.get(dir)
    }
    fn rails_schema(&self, path: &str) -> Option<&ColumnTypes> {
        self.rails.get(path)
    }
}
