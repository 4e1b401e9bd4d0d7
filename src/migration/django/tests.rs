use super::*;
use crate::migration::history::Loaded;
use crate::migration::state::NoHistory;

fn parse_with(path: &str, text: &str, history: &dyn History) -> Vec<Operation> {
    parse(path, text, history, &Profile::default()).unwrap()
}

const HEAD: &str =
    "from django.db import migrations, models\n\nclass Migration(migrations.Migration):\n";

#[test]
fn one_line_lists_and_repeated_operations() {
    let text = format!(
        "{HEAD}    operations = [migrations.RemoveField(model_name='a', name='b'), migrations.RemoveField(model_name='a', name='c')]\n"
    );
    let ops = parse_with("app/migrations/0002_x.py", &text, &NoHistory);
    let got: Vec<(OpKind, u32, Option<String>)> = ops
        .iter()
        .map(|o| (o.kind(), o.line, o.column.clone()))
        .collect();
    assert_eq!(
        got,
        [
            (OpKind::DropColumn, 4, Some("b".into())),
            (OpKind::DropColumn, 4, Some("c".into()))
        ]
    );
}

#[test]
fn state_operations_and_squashed_migrations_run_no_sql() {
    let text = format!(
        "{HEAD}    operations = [\n        migrations.SeparateDatabaseAndState(\n            state_operations=[migrations.RemoveField('a', 'b')],\n            database_operations=[migrations.RunSQL('ALTER TABLE app_a ALTER COLUMN c SET NOT NULL')],\n        ),\n    ]\n"
    );
    let ops = parse_with("app/migrations/0002_x.py", &text, &NoHistory);
    let got: Vec<(OpKind, bool)> = ops.iter().map(|o| (o.kind(), o.state_only)).collect();
    assert_eq!(
        got,
        [
            (OpKind::RawSql, false),
            (OpKind::SetNotNull, false),
            (OpKind::DropColumn, true)
        ]
    );
    let squashed = format!(
        "{HEAD}    replaces = [('app', '0001')]\n    operations = [migrations.RemoveField('a', 'b')]\n"
    );
    assert!(parse_with("app/migrations/0001_squashed.py", &squashed, &NoHistory)[0].state_only);
}

#[test]
fn alter_field_is_judged_against_the_earlier_field() {
    let first = format!(
        "{HEAD}    operations = [migrations.CreateModel(name='Check', fields=[('code', models.CharField(max_length=10, null=True)), ('n', models.IntegerField())])]\n"
    );
    let mut history = Loaded::default();
    history.folders.insert(
        "app/migrations".into(),
        Some(vec![
            ("0001_initial.py".into(), first),
            ("0002_x.py".into(), String::new()),
        ]),
    );
    history
        .wanted
        .insert(("app/migrations".into(), "0002_x.py".into()));
    history.prepare(|_| crate::migration::profile::Engine::Postgres);
    let alter = |field: &str| {
        format!(
            "{HEAD}    operations = [migrations.AlterField(model_name='check', name='code', field={field})]\n"
        )
    };
    let kinds = |field: &str| -> Vec<OpKind> {
        parse_with("app/migrations/0002_x.py", &alter(field), &history)
            .iter()
            .map(Operation::kind)
            .collect()
    };
    // Only the help text changes: nothing happens in the database.
    assert!(kinds("models.CharField(max_length=10, null=True, help_text='x')").is_empty());
    assert_eq!(
        kinds("models.CharField(max_length=10)"),
        [OpKind::SetNotNull]
    );
    let widen = parse_with(
        "app/migrations/0002_x.py",
        &alter("models.TextField(null=True)"),
        &history,
    );
    assert_eq!(widen[0].kind(), OpKind::ChangeColumnType);
    assert_eq!(widen[0].metadata_only, Some(true));
    // Without history, the finding says the prior state is unknown.
    let unknown = parse_with(
        "app/migrations/0002_x.py",
        &alter("models.CharField(max_length=10)"),
        &NoHistory,
    );
    assert_eq!(unknown[0].kind(), OpKind::AlterColumn);
    assert_eq!(unknown[0].prior_known, Some(false));
}

#[test]
fn add_field_not_null_and_foreign_key() {
    let text = format!(
        "{HEAD}    operations = [\n        migrations.AddField(\n            model_name='order',\n            name='user',\n            field=models.ForeignKey(on_delete=models.CASCADE, to='auth.user'),\n        ),\n    ]\n"
    );
    let ops = parse_with("shop/migrations/0005_x.py", &text, &NoHistory);
    let got: Vec<OpKind> = ops.iter().map(Operation::kind).collect();
    assert_eq!(
        got,
        [OpKind::AddColumn, OpKind::AddForeignKey, OpKind::AddIndex]
    );
    assert_eq!(ops[0].nullable, Some(false));
    assert_eq!(ops[0].db_default, Some(false));
    assert_eq!(ops[0].table.as_deref(), Some("shop_order"));
}
