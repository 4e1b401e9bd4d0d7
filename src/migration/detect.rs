//! Which framework wrote a migration file: from its path, confirmed by its content.

use serde::Serialize;

/// A migration framework this understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Framework {
    Django,
    Alembic,
    Rails,
    Sql(SqlTool),
}

/// The tool that runs a plain SQL migration: it decides the up and down halves and whether the
/// file runs in a transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SqlTool {
    /// `V1__x.sql` (Flyway): each file in a transaction where the engine allows.
    Flyway,
    /// `1_x.up.sql` / `.down.sql` (golang-migrate), Diesel's `up.sql` / `down.sql`.
    UpDownFiles,
    /// `-- migrate:up` / `-- migrate:down` (dbmate): a transaction unless `transaction:false`.
    Dbmate,
    /// `-- +goose Up` / `-- +goose Down`: a transaction unless `-- +goose NO TRANSACTION`.
    Goose,
    /// `-- +migrate Up` / `-- +migrate Down` (sql-migrate).
    SqlMigrate,
    /// `--liquibase formatted sql`: `--changeset` blocks with `--rollback` lines.
    Liquibase,
    /// Sqitch `deploy/`, `revert/`, `verify/` scripts.
    Sqitch,
    /// Anything else (Prisma's `migration.sql`, hand-run scripts).
    Plain,
}

impl Framework {
    pub fn as_str(self) -> &'static str {
        match self {
            Framework::Django => "Django",
            Framework::Alembic => "Alembic",
            Framework::Rails => "Rails",
            Framework::Sql(SqlTool::Flyway) => "SQL (Flyway)",
            Framework::Sql(SqlTool::UpDownFiles) => "SQL (up/down files)",
            Framework::Sql(SqlTool::Dbmate) => "SQL (dbmate)",
            Framework::Sql(SqlTool::Goose) => "SQL (goose)",
            Framework::Sql(SqlTool::SqlMigrate) => "SQL (sql-migrate)",
            Framework::Sql(SqlTool::Liquibase) => "SQL (Liquibase)",
            Framework::Sql(SqlTool::Sqitch) => "SQL (Sqitch)",
            Framework::Sql(SqlTool::Plain) => "SQL",
        }
    }
}

impl std::fmt::Display for Framework {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The framework of the migration at `path` with this `text`, or `None` when it is not a
/// migration this understands (other frameworks keep the line rules).
pub fn framework(path: &str, text: &str) -> Option<Framework> {
    let lower = path.to_ascii_lowercase();
    let name = lower.rsplit('/').next().unwrap_or(&lower);
    if lower.ends_with(".py") {
        let head = &text[..floor(text, 64 * 1024)];
        if head.contains("from alembic")
            || (head.contains("def upgrade(") && lower.contains("versions/"))
        {
            return Some(Framework::Alembic);
        }
        if lower.contains("migrations/")
            && (head.contains("migrations.Migration") || head.contains("from django.db import"))
        {
            return Some(Framework::Django);
        }
        return None;
    }
    if lower.ends_with(".rb") {
        let in_folder = lower.contains("db/migrate/")
            || lower.contains("_migrate/")
            || lower.contains("db/migrate");
        return (in_folder || text.contains("ActiveRecord::Migration")).then_some(Framework::Rails);
    }
    if lower.ends_with(".sql") {
        let head = &text[..floor(text, 64 * 1024)];
        let tool = if head.contains("-- +goose") || head.contains("--+goose") {
            SqlTool::Goose
        } else if head.contains("-- migrate:up") || head.contains("--migrate:up") {
            SqlTool::Dbmate
        } else if head.contains("-- +migrate") {
            SqlTool::SqlMigrate
        } else if head
            .to_ascii_lowercase()
            .contains("--liquibase formatted sql")
        {
            SqlTool::Liquibase
        } else if name.ends_with(".up.sql")
            || name.ends_with(".down.sql")
            || name == "up.sql"
            || name == "down.sql"
        {
            SqlTool::UpDownFiles
        } else if is_flyway_name(name) {
            SqlTool::Flyway
        } else if lower.contains("deploy/")
            || lower.contains("revert/")
            || lower.contains("verify/")
        {
            SqlTool::Sqitch
        } else {
            SqlTool::Plain
        };
        return Some(Framework::Sql(tool));
    }
    None
}

/// Whether a file named so is the down half by its name alone.
pub fn is_down_file(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    let name = lower.rsplit('/').next().unwrap_or(&lower);
    name.ends_with(".down.sql")
        || name == "down.sql"
        || name.ends_with("_down.sql")
        || (name.starts_with('u') && is_flyway_name(&name.replacen('u', "v", 1)))
        || lower.contains("/revert/")
        || lower.contains("/verify/")
        || lower.starts_with("revert/")
        || lower.starts_with("verify/")
}

/// `V1__name.sql`, `V1_2__name.sql`, `R__name.sql`.
fn is_flyway_name(name: &str) -> bool {
    let Some(rest) = name.strip_prefix('v').or_else(|| name.strip_prefix('r')) else {
        return false;
    };
    match rest.split_once("__") {
        Some((version, _)) => version
            .chars()
            .all(|c| c.is_ascii_digit() || c == '_' || c == '.'),
        None => false,
    }
}

/// The largest char boundary at or below `at`.
pub fn floor(text: &str, at: usize) -> usize {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frameworks_by_path_and_content() {
        let django =
            "from django.db import migrations\nclass Migration(migrations.Migration): pass";
        assert_eq!(
            framework("shop/migrations/0002_x.py", django),
            Some(Framework::Django)
        );
        assert_eq!(framework("shop/models.py", django), None);
        assert_eq!(
            framework(
                "alembic/versions/abc_x.py",
                "from alembic import op\ndef upgrade():\n    pass"
            ),
            Some(Framework::Alembic)
        );
        assert_eq!(
            framework(
                "db/migrate/20240101_x.rb",
                "class X < ActiveRecord::Migration[7.1]"
            ),
            Some(Framework::Rails)
        );
        assert_eq!(
            framework("db/migration/V3__add.SQL", "ALTER TABLE t ADD c int;"),
            Some(Framework::Sql(SqlTool::Flyway))
        );
        assert_eq!(
            framework("m/1_x.up.sql", ""),
            Some(Framework::Sql(SqlTool::UpDownFiles))
        );
        assert_eq!(
            framework("db/migrations/1.sql", "-- +goose Up\nSELECT 1;"),
            Some(Framework::Sql(SqlTool::Goose))
        );
        assert!(is_down_file("m/1_x.down.sql"));
        assert!(is_down_file("db/migration/U3__add.sql"));
        assert!(!is_down_file("db/migration/V3__add.sql"));
    }
}
