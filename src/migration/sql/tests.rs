use super::*;
use crate::migration::OpKind;

fn kinds(text: &str) -> Vec<(OpKind, u32)> {
    parse_statements(text, 1, Engine::Postgres, None)
        .into_iter()
        .map(|o| (o.kind(), o.line))
        .collect()
}

#[test]
fn statements_are_read_as_the_database_reads_them() {
    // COLUMN is optional; a comment inside the keywords; three statements on one line.
    assert_eq!(
        kinds("ALTER TABLE u DROP email;"),
        [(OpKind::DropColumn, 1)]
    );
    assert_eq!(kinds("DROP/**/TABLE users;"), [(OpKind::DropTable, 1)]);
    assert_eq!(
        kinds("BEGIN; DROP TABLE u; COMMIT;"),
        [(OpKind::DropTable, 1)]
    );
    // A `;` inside a string does not end the statement; a commented-out statement is nothing.
    assert_eq!(
        kinds("-- CREATE TABLE u (id int);\nUPDATE t SET note = 'a; DROP TABLE x';\n"),
        [(OpKind::DataMigration, 2)]
    );
    // CR-only line endings.
    assert_eq!(
        kinds("SELECT 1;\rALTER TABLE t ALTER COLUMN c SET NOT NULL;\r"),
        [(OpKind::SetNotNull, 2)]
    );
}

#[test]
fn identifiers_are_not_keywords() {
    // A column named `type` is not a type change; `cluster` is a name, not CLUSTER.
    assert_eq!(
        kinds("ALTER TABLE t ALTER COLUMN type SET DEFAULT 'x';"),
        [(OpKind::SetDefault, 1)]
    );
    assert!(
        kinds("INSERT INTO cluster (id) VALUES (1);")
            .iter()
            .all(|(k, _)| *k == OpKind::DataMigration)
    );
}

#[test]
fn constraints_know_not_valid_and_using_index() {
    let ops = parse_statements(
        "ALTER TABLE a ADD CONSTRAINT f FOREIGN KEY (b) REFERENCES b (id) NOT VALID;\n\
         ALTER TABLE a ADD CONSTRAINT u UNIQUE USING INDEX a_idx;\n\
         ALTER TABLE a VALIDATE CONSTRAINT f;",
        1,
        Engine::Postgres,
        Some(true),
    );
    let got: Vec<(OpKind, Option<bool>)> = ops.iter().map(|o| (o.kind(), o.validated)).collect();
    assert_eq!(
        got,
        [
            (OpKind::AddForeignKey, Some(false)),
            (OpKind::ValidateConstraint, None)
        ]
    );
}

#[test]
fn goose_down_half_and_no_transaction() {
    let ops = read(
        "-- +goose NO TRANSACTION\n-- +goose Up\nCREATE INDEX CONCURRENTLY i ON t (c);\n-- +goose Down\nDROP INDEX i;\n",
        1,
        Engine::Postgres,
        SqlTool::Goose,
        Some(true),
        false,
    )
    .unwrap();
    assert_eq!(ops.len(), 2);
    assert_eq!(ops[0].kind(), OpKind::AddIndex);
    assert_eq!(ops[0].in_transaction, Some(false));
    assert_eq!(ops[0].concurrently, Some(true));
    assert_eq!(ops[1].phase, Phase::Down);
}

#[test]
fn do_blocks_and_templates_are_read_inside() {
    let text = "do $$ begin\n  if not exists (select 1) then\n    alter table {{ index .Options \"Namespace\" }}.users add constraint f foreign key (a) references b (id);\n  end if;\n  update t set a = 1;\nend $$;\n";
    let got = kinds(text);
    assert_eq!(
        got,
        [
            (OpKind::RawSql, 1),
            (OpKind::AddForeignKey, 3),
            (OpKind::DataMigration, 5)
        ]
    );
}

/// A history whose only folder replayed one file.
struct Replayed(crate::migration::state::ColumnHistory);

impl crate::migration::state::History for Replayed {
    fn django_state(&self, _: &str, _: &str) -> Option<&crate::migration::state::DjangoState> {
        None
    }
    fn sql_columns(&self, dir: &str) -> Option<&crate::migration::state::ColumnHistory> {
        (dir == "db").then_some(&self.0)
    }
    fn rails_schema(&self, _: &str) -> Option<&crate::migration::state::ColumnTypes> {
        None
    }
}

#[test]
fn a_file_the_replay_read_is_not_read_again_unless_its_text_differs() {
    let text = "DROP TABLE orders;\n";
    let profile = crate::migration::profile::Profile::default();
    let replayed = |of: &str| {
        let mut h = crate::migration::state::ColumnHistory::default();
        let ops = read(of, 1, Engine::Postgres, SqlTool::Plain, None, false).unwrap();
        h.read.insert(
            "V2__drop.sql".into(),
            crate::migration::state::ReadOps {
                text: crate::migration::state::text_hash(of),
                engine: Engine::Postgres,
                tool: SqlTool::Plain,
                ops,
            },
        );
        Replayed(h)
    };
    let judged = |history: &Replayed| {
        parse_file("db/V2__drop.sql", text, SqlTool::Plain, &profile, history)
            .unwrap()
            .into_iter()
            .map(|o| o.kind())
            .collect::<Vec<_>>()
    };
    // The same text: the replay's operations.
    assert_eq!(judged(&replayed(text)), [OpKind::DropTable]);
    // The replay read other text under that name (another side): read again, not taken.
    assert_eq!(
        judged(&replayed("CREATE TABLE orders (id int);\n")),
        [OpKind::DropTable]
    );
}
