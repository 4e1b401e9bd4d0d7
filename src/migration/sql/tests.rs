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
    )
    .unwrap();
    assert_eq!(ops.len(), 2);
    assert_eq!(ops[0].kind(), OpKind::AddIndex);
    assert_eq!(ops[0].in_transaction, Some(false));
    assert_eq!(ops[0].concurrently, Some(true));
    assert_eq!(ops[1].phase, Phase::Down);
}
