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
            (OpKind::DataMigration, Phase::Up),
            (OpKind::DropTable, Phase::Down),
        ]
    );
    assert_eq!(got[0].nullable, Some(false));
}
