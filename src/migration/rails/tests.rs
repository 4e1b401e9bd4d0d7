use super::*;
use crate::migration::state::NoHistory;

fn ops(text: &str) -> Vec<Operation> {
    parse("db/migrate/1_x.rb", text, &NoHistory, &Profile::default()).unwrap()
}

#[test]
fn up_and_down_halves_and_blocks() {
    let got = ops(r#"class X < ActiveRecord::Migration[7.1]
  disable_ddl_transaction!

  def up
    remove_column :users, :email
    add_index :users, :name,
      algorithm: :concurrently
    change_table :posts do |t|
      t.remove :title
      t.index :slug
    end
  end

  def down
    add_column :users, :email, :string
  end
end
"#);
    let summary: Vec<(OpKind, u32, Phase, Option<bool>)> = got
        .iter()
        .map(|o| (o.kind(), o.line, o.phase, o.concurrently))
        .collect();
    assert_eq!(
        summary,
        [
            (OpKind::DropColumn, 5, Phase::Up, None),
            (OpKind::AddIndex, 6, Phase::Up, Some(true)),
            (OpKind::DropColumn, 9, Phase::Up, None),
            (OpKind::AddIndex, 10, Phase::Up, Some(false)),
            (OpKind::AddColumn, 15, Phase::Down, None),
        ]
    );
    assert!(got.iter().all(|o| o.in_transaction == Some(false)));
}

#[test]
fn references_and_reversible() {
    let got = ops(r#"class X < ActiveRecord::Migration[7.1]
  def change
    add_reference :orders, :user, null: false, foreign_key: true
    reversible do |dir|
      dir.up { execute "UPDATE orders SET state = 'a'" }
      dir.down { execute "DROP TABLE orders" }
    end
  end
end
"#);
    let kinds: Vec<(OpKind, Phase)> = got.iter().map(|o| (o.kind(), o.phase)).collect();
    assert_eq!(
        kinds,
        [
            (OpKind::AddColumn, Phase::Up),
            (OpKind::AddIndex, Phase::Up),
            (OpKind::AddForeignKey, Phase::Up),
            (OpKind::RawSql, Phase::Up),
            (OpKind::DataMigration, Phase::Up),
            (OpKind::RawSql, Phase::Down),
            (OpKind::DropTable, Phase::Down),
        ]
    );
    assert_eq!(got[0].nullable, Some(false));
}

#[test]
fn execute_heredoc_is_raw_sql() {
    let got = ops(
        "class PaymentsView < ActiveRecord::Migration[7.1]\n  def up\n    execute <<~SQL\n      CREATE VIEW settled_payments AS SELECT * FROM payments WHERE status = 'settled';\n    SQL\n  end\nend\n",
    );
    let kinds: Vec<(OpKind, u32)> = got.iter().map(|o| (o.kind(), o.line)).collect();
    assert_eq!(kinds, [(OpKind::RawSql, 3)]);
}

#[test]
fn splatted_symbol_arrays_name_every_column() {
    let got = ops(
        "class X < ActiveRecord::Migration[7.1]\n  def change\n    safety_assured do\n      remove_columns :api_keys,\n        *%i[a b c],\n        type: :boolean\n    end\n  end\nend\n",
    );
    let cols: Vec<Option<String>> = got.iter().map(|o| o.column.clone()).collect();
    assert_eq!(cols, [Some("a".into()), Some("b".into()), Some("c".into())]);
}

/// Parses on a thread with a small stack: prism's parser recurses once a level of nesting,
/// so the stack it runs on must be sized for the file, not left to the thread.
fn parse_on_small_stack(text: String) -> Parsed {
    std::thread::Builder::new()
        .stack_size(256 << 10)
        .spawn(move || parse("db/migrate/1_x.rb", &text, &NoHistory, &Profile::default()))
        .unwrap()
        .join()
        .unwrap()
}

fn in_change(body: &str) -> String {
    format!("class X < ActiveRecord::Migration[7.1]\n  def change\n{body}\n  end\nend\n")
}

#[test]
fn deep_nesting_is_refused_or_read_without_overflowing() {
    let n = 100_000;
    // prism stops at 10,000 levels of brackets: a syntax error, on its line.
    for (open, close) in [("[", "]"), ("(", ")")] {
        let body = format!("    x = {}1{}", open.repeat(n), close.repeat(n));
        let why = parse_on_small_stack(in_change(&body)).unwrap_err();
        assert!(why.starts_with("Ruby syntax error near line 3: "), "{why}");
    }
    // Patterns and chains of calls it does not stop: their trees are walked without recursion.
    let pattern = format!("    x => {}a{}", "[".repeat(n), "]".repeat(n));
    assert_eq!(parse_on_small_stack(in_change(&pattern)), Ok(vec![]));
    let chain = format!("    remove_column :a, :b\n    x = a{}", ".b".repeat(n));
    let got = parse_on_small_stack(in_change(&chain)).unwrap();
    assert_eq!(got.len(), 1);
    // Blocks are walked one call deeper each: too many of them and the file is refused.
    let blocks = format!(
        "{}    remove_column :a, :b\n{}",
        "    foo do\n".repeat(100),
        "    end\n".repeat(100)
    );
    let why = parse_on_small_stack(in_change(&blocks)).unwrap_err();
    assert!(why.contains("nested more than 64 deep"), "{why}");
}

#[test]
fn syntax_errors_name_their_line() {
    let why = parse(
        "db/migrate/1_x.rb",
        &in_change("    add_column :a, :b,\n    add_column :a, :c, :string"),
        &NoHistory,
        &Profile::default(),
    )
    .unwrap_err();
    assert!(why.starts_with("Ruby syntax error near line 4: "), "{why}");
}

#[test]
fn unevenly_indented_heredocs_and_endless_methods_are_read() {
    // prism splits a `<<~` heredoc whose lines are indented unevenly into parts.
    let got = ops(&in_change(
        "    execute <<~SQL\n      UPDATE users\n        SET a = 1;\n    SQL",
    ));
    let kinds: Vec<(OpKind, u32)> = got.iter().map(|o| (o.kind(), o.line)).collect();
    assert_eq!(kinds, [(OpKind::RawSql, 3), (OpKind::DataMigration, 4)]);
    let got = ops(
        "class X < ActiveRecord::Migration[7.1]\n  def up = add_column(:a, :b, :string)\nend\n",
    );
    assert_eq!(got.len(), 1);
    assert_eq!((got[0].kind(), got[0].line), (OpKind::AddColumn, 2));
}

#[test]
fn string_values_as_written() {
    // Escapes are left out of a double-quoted string's value, as tree-sitter's content was.
    let got = ops(&in_change(
        "    add_column :users, :a, :string, default: \"x\\ny\", null: false\n    add_column \"users\", 'b', :integer, default: -1",
    ));
    let cols: Vec<(Option<&str>, Option<&str>)> = got
        .iter()
        .map(|o| (o.table.as_deref(), o.column.as_deref()))
        .collect();
    assert_eq!(
        cols,
        [(Some("users"), Some("a")), (Some("users"), Some("b"))]
    );
    assert_eq!(got[0].nullable, Some(false));
    assert_eq!(got[1].db_default, Some(true));
}
