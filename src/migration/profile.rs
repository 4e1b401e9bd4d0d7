//! The database a migration runs on: its engine and version, from `forewarn.toml`'s
//! `[database]`, or detected from the repository (Rails `config/database.yml`, Django
//! `DATABASES`, Prisma's `provider`, `alembic.ini`, a compose file's image tag). Verdicts depend
//! on it (`CONCURRENTLY` is Postgres advice; widening a varchar is free on Postgres), and every
//! verdict that does says which engine it assumed and where that came from.

use serde::Serialize;

use crate::diff::revision::{Read, SideReader};

/// A database engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Engine {
    Postgres,
    Mysql,
    Mariadb,
    Sqlite,
    Sqlserver,
    Oracle,
    Cockroachdb,
}

impl Engine {
    pub const ALL: [Engine; 7] = [
        Engine::Postgres,
        Engine::Mysql,
        Engine::Mariadb,
        Engine::Sqlite,
        Engine::Sqlserver,
        Engine::Oracle,
        Engine::Cockroachdb,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Engine::Postgres => "postgres",
            Engine::Mysql => "mysql",
            Engine::Mariadb => "mariadb",
            Engine::Sqlite => "sqlite",
            Engine::Sqlserver => "sqlserver",
            Engine::Oracle => "oracle",
            Engine::Cockroachdb => "cockroachdb",
        }
    }

    pub fn parse(s: &str) -> Option<Engine> {
        let s = s.trim().to_ascii_lowercase();
        Some(match s.as_str() {
            "postgres" | "postgresql" | "pg" | "postgis" | "psql" => Engine::Postgres,
            "mysql" | "mysql2" | "trilogy" => Engine::Mysql,
            "mariadb" => Engine::Mariadb,
            "sqlite" | "sqlite3" => Engine::Sqlite,
            "sqlserver" | "mssql" | "sql-server" => Engine::Sqlserver,
            "oracle" => Engine::Oracle,
            "cockroachdb" | "cockroach" => Engine::Cockroachdb,
            _ => return None,
        })
    }

    /// Engines whose indexes and constraints behave like Postgres's for these rules.
    pub fn is_postgres_like(self) -> bool {
        matches!(self, Engine::Postgres | Engine::Cockroachdb)
    }
}

impl std::fmt::Display for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The database one migration is judged against.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Database {
    pub engine: Engine,
    /// Major version (and minor, for MySQL's 8.0): `15`, `8.0`.
    pub version: Option<String>,
    /// Where this came from, for messages: `forewarn.toml`, `config/database.yml`, ...
    pub source: String,
}

impl Database {
    /// The major version as a number, when known.
    pub fn major(&self) -> Option<u32> {
        self.version
            .as_deref()?
            .split(['.', '-'])
            .next()?
            .parse()
            .ok()
    }

    /// `postgres 15 (from forewarn.toml)`.
    pub fn describe(&self) -> String {
        match &self.version {
            Some(v) => format!("{} {v} (from {})", self.engine, self.source),
            None => format!("{} (from {})", self.engine, self.source),
        }
    }
}

/// The databases of a repository: one, or several by path in a monorepo.
#[derive(Debug, Clone, Serialize)]
pub struct Profile {
    pub default: Database,
    /// `(globs, database)`: the first whose globs match a path wins.
    #[serde(skip)]
    pub by_path: Vec<(crate::glob::GlobMatcher, Database)>,
}

impl Default for Profile {
    fn default() -> Self {
        Profile {
            default: Database {
                engine: Engine::Postgres,
                version: None,
                source: "no database setting found; Postgres assumed".into(),
            },
            by_path: Vec::new(),
        }
    }
}

/// `[database]` of `forewarn.toml`, checked.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DatabaseConfig {
    pub engine: Option<Engine>,
    pub version: Option<String>,
    /// `(globs, engine, version)`.
    pub paths: Vec<(Vec<String>, Engine, Option<String>)>,
}

impl Profile {
    /// The database `path` runs on. A folder named for an engine (`migrations/mysql/`, as
    /// projects that ship one migration per engine lay them out) names it.
    pub fn for_path(&self, path: &str) -> Database {
        if let Some((_, db)) = self.by_path.iter().find(|(g, _)| g.is_match(path)) {
            return db.clone();
        }
        for segment in path.split('/').rev().skip(1) {
            let segment = segment.to_ascii_lowercase();
            let engine = match segment.as_str() {
                "postgres" | "postgresql" | "pg" => Some(Engine::Postgres),
                "mysql" => Some(Engine::Mysql),
                "mariadb" => Some(Engine::Mariadb),
                "sqlite" | "sqlite3" => Some(Engine::Sqlite),
                "cockroach" | "cockroachdb" => Some(Engine::Cockroachdb),
                "mssql" | "sqlserver" => Some(Engine::Sqlserver),
                _ => None,
            };
            if let Some(engine) = engine {
                return Database {
                    engine,
                    version: None,
                    source: format!("the folder `{segment}/` in the path"),
                };
            }
        }
        self.default.clone()
    }

    /// The profile from the config, else detected from the files of `side`.
    pub fn load(config: &DatabaseConfig, side: &SideReader) -> Profile {
        let by_path = config
            .paths
            .iter()
            .map(|(globs, engine, version)| {
                (
                    crate::glob::GlobMatcher::new(globs),
                    Database {
                        engine: *engine,
                        version: version.clone(),
                        source: "forewarn.toml [[database.path]]".into(),
                    },
                )
            })
            .collect();
        let default = match config.engine {
            Some(engine) => Database {
                engine,
                version: config.version.clone(),
                source: "forewarn.toml".into(),
            },
            None => {
                let mut unread = Vec::new();
                detect(side, &mut unread).unwrap_or_else(|| {
                    let mut default = Profile::default().default;
                    // A settings file that could not be read might have named another database:
                    // the assumption says so, rather than passing for "none found".
                    unread.truncate(3);
                    if !unread.is_empty() {
                        default.source = format!(
                            "a setting that could not be read: {}; Postgres assumed",
                            unread.join("; ")
                        );
                    }
                    default
                })
            }
        };
        Profile { default, by_path }
    }
}

/// Looks through the settings files of a side for the database it names. A settings file it
/// could not read (a link out of the repository, a missing object, over 1 MiB) is pushed to
/// `unread`, with why.
pub fn detect(side: &SideReader, unread: &mut Vec<String>) -> Option<Database> {
    if !side.is_known() {
        return None;
    }
    let files = side.walk(4, 20_000);
    let unread = std::cell::RefCell::new(unread);
    let read = |path: &str| match side.read(path) {
        Read::Bytes(b) if b.len() < 1 << 20 => Some(String::from_utf8_lossy(&b).into_owned()),
        Read::Bytes(_) => {
            unread.borrow_mut().push(format!("{path} is over 1 MiB"));
            None
        }
        Read::Absent => None,
        Read::Unreadable(why) if why.contains(path) => {
            unread.borrow_mut().push(why);
            None
        }
        Read::Unreadable(why) => {
            unread.borrow_mut().push(format!("{path}: {why}"));
            None
        }
    };
    let named = |path: &str, suffixes: &[&str]| {
        let name = path.rsplit('/').next().unwrap_or(path);
        suffixes.iter().any(|s| name == *s || name.ends_with(s))
    };
    // Most specific first: what the application itself is configured with.
    for path in files.iter().filter(|p| p.ends_with("config/database.yml")) {
        if let Some(engine) = read(path).and_then(|t| {
            t.lines()
                .find_map(|l| l.trim().strip_prefix("adapter:").and_then(Engine::parse))
        }) {
            return Some(found(engine, None, path));
        }
    }
    let settings: Vec<&String> = files
        .iter()
        .filter(|p| p.ends_with(".py") && p.contains("settings"))
        .collect();
    for path in &settings {
        // Django's `DATABASES` setting names the backend module in its ENGINE.
        if let Some(text) = read(path).filter(|t| t.contains("DATABASES")) {
            for (needle, engine) in [
                ("django.db.backends.postgresql", Engine::Postgres),
                ("backends.postgis", Engine::Postgres),
                ("django.db.backends.mysql", Engine::Mysql),
                ("django.db.backends.sqlite3", Engine::Sqlite),
                ("django.db.backends.oracle", Engine::Oracle),
                ("\"mssql\"", Engine::Sqlserver),
                ("django_cockroachdb", Engine::Cockroachdb),
            ] {
                if text.contains(needle) {
                    return Some(found(engine, None, path));
                }
            }
        }
    }
    for path in files.iter().filter(|p| named(p, &["schema.prisma"])) {
        if let Some(engine) = read(path).and_then(|t| {
            t.lines().find_map(|l| {
                let l = l.trim();
                let v = l.strip_prefix("provider")?.trim().strip_prefix('=')?;
                Engine::parse(v.trim().trim_matches('"'))
            })
        }) {
            return Some(found(engine, None, path));
        }
    }
    // Then where the database itself runs: a compose file's image, with its version.
    for path in files.iter().filter(|p| {
        named(
            p,
            &[
                "docker-compose.yml",
                "docker-compose.yaml",
                "compose.yml",
                "compose.yaml",
            ],
        )
    }) {
        if let Some(text) = read(path) {
            for line in text.lines() {
                let Some(image) = line.trim().strip_prefix("image:") else {
                    continue;
                };
                let image = image.trim().trim_matches(['"', '\'']);
                let name = image.rsplit('/').next().unwrap_or(image);
                let (name, tag) = name.split_once(':').unwrap_or((name, ""));
                let engine = match name {
                    "postgres" | "postgis" | "timescaledb" => Engine::Postgres,
                    "mysql" => Engine::Mysql,
                    "mariadb" => Engine::Mariadb,
                    _ => continue,
                };
                let version: String = tag
                    .chars()
                    .take_while(|c| c.is_ascii_digit() || *c == '.')
                    .collect();
                let version = (!version.is_empty()).then_some(version);
                return Some(found(engine, version, path));
            }
        }
    }
    for path in files.iter().filter(|p| {
        named(
            p,
            &["alembic.ini", ".env.example", ".env.sample", "Gemfile"],
        )
    }) {
        if let Some(text) = read(path) {
            for (needle, engine) in [
                ("postgresql://", Engine::Postgres),
                ("postgres://", Engine::Postgres),
                ("postgresql+", Engine::Postgres),
                ("mysql://", Engine::Mysql),
                ("mysql+", Engine::Mysql),
                ("sqlite://", Engine::Sqlite),
                ("gem \"pg\"", Engine::Postgres),
                ("gem 'pg'", Engine::Postgres),
                ("gem \"mysql2\"", Engine::Mysql),
                ("gem 'mysql2'", Engine::Mysql),
            ] {
                if text.contains(needle) {
                    return Some(found(engine, None, path));
                }
            }
        }
    }
    None
}

fn found(engine: Engine, version: Option<String>, path: &str) -> Database {
    Database {
        engine,
        version,
        source: path.to_string(),
    }
}
