//! Storing results in an analysis record as `[[<key>]]` tables, editing the TOML in place:
//! `backtest --write` keeps `[[backtest]]` tables, `report --write` keeps `[[report]]` tables.
//!
//! An entry that is already there (same `rule` and `finding`) is updated where it stands,
//! keeping the comments written around its values; a new one goes at the end of the file. The
//! record's byte-order mark and line endings are kept, and every other byte stays as it was.

use toml_edit::{ArrayOfTables, DocumentMut, Item, Table, Value};

/// One table to store: its `rule` and `finding` identify it; `values` are written in order.
pub struct Entry<'a> {
    pub rule: &'a str,
    pub finding: &'a str,
    pub values: Vec<(&'static str, Value)>,
}

/// Puts `entries` into `text` as `[[key]]` tables; `comment` (lines starting with `# `) goes
/// above the first table added to a record that has none yet.
pub fn upsert(
    text: &str,
    key: &str,
    comment: &str,
    entries: Vec<Entry<'_>>,
) -> std::result::Result<String, String> {
    // The record's byte-order mark and line endings are its author's: kept as they were
    // (toml_edit writes what it adds with `\n`).
    let (bom, body) = match text.strip_prefix('\u{feff}') {
        Some(body) => ("\u{feff}", body),
        None => ("", text),
    };
    let crlf = body.contains("\r\n");
    let written = upsert_toml(body, key, comment, entries)?;
    let written = if crlf {
        written.replace("\r\n", "\n").replace('\n', "\r\n")
    } else {
        written
    };
    Ok(format!("{bom}{written}"))
}

fn upsert_toml(
    text: &str,
    key: &str,
    comment: &str,
    entries: Vec<Entry<'_>>,
) -> std::result::Result<String, String> {
    let mut doc: DocumentMut = text
        .parse()
        .map_err(|e: toml_edit::TomlError| e.to_string())?;
    let max_position = doc
        .as_table()
        .iter()
        .filter_map(|(_, item)| match item {
            Item::Table(t) => t.position(),
            Item::ArrayOfTables(a) => a.iter().filter_map(Table::position).max(),
            _ => None,
        })
        .max()
        .unwrap_or(0);
    let mut next_position = max_position + 1;
    if !doc.contains_key(key) {
        doc.insert(key, Item::ArrayOfTables(ArrayOfTables::new()));
    }
    let Some(aot) = doc.get_mut(key).and_then(Item::as_array_of_tables_mut) else {
        return Err(format!(
            "`{key}` in this record is not a list of [[{key}]] tables"
        ));
    };
    let mut first_new = aot.is_empty();
    for entry in entries {
        let existing = aot.iter_mut().find(|t| {
            t.get("rule").and_then(Item::as_str) == Some(entry.rule)
                && t.get("finding").and_then(Item::as_str).unwrap_or("") == entry.finding
        });
        match existing {
            Some(table) => {
                for (key, value) in entry.values {
                    set_keeping_decor(table, key, value);
                }
            }
            None => {
                let mut table = Table::new();
                for (key, value) in entry.values {
                    table.insert(key, Item::Value(value));
                }
                table.set_position(Some(next_position));
                next_position += 1;
                if first_new {
                    table.decor_mut().set_prefix(format!("\n{comment}"));
                    first_new = false;
                } else {
                    table.decor_mut().set_prefix("\n");
                }
                aot.push(table);
            }
        }
    }
    Ok(doc.to_string())
}

/// Replaces a value, keeping the spaces and comment written around the old one.
fn set_keeping_decor(table: &mut Table, key: &str, mut value: Value) {
    if let Some(old) = table.get(key).and_then(Item::as_value) {
        let decor = old.decor().clone();
        *value.decor_mut() = decor;
    }
    table.insert(key, Item::Value(value));
}

/// Writes `text`, the record `file` with results stored in it, back to `root/file.path`: only
/// when it still loads as a record, and only when the file on disk is still what was read (a
/// run takes a while; an edit made meanwhile is never overwritten). `while_` names what ran,
/// `again` the command to run again.
pub fn store(
    root: &std::path::Path,
    file: &crate::rules::load::RuleFile,
    text: &str,
    (while_, again): (&str, &str),
) -> crate::error::Result<()> {
    use crate::error::Error;
    // What is written must load again, or the record would be left broken.
    let mut ignored = Vec::new();
    super::record::parse_file(
        &crate::rules::load::RuleFile {
            path: file.path.clone(),
            text: text.to_string(),
            builtin: false,
        },
        &mut ignored,
    )
    .map_err(Error::Source)?;
    let path = root.join(&file.path);
    let on_disk = std::fs::read(&path).map_err(|e| Error::io("read the record again", &path, e))?;
    if on_disk != file.text.as_bytes() {
        return Err(Error::usage(
            format!(
                "{} changed on disk while {while_}, so it was not written",
                file.path
            ),
            format!("run `{again}` again to store it in the record as it is now"),
        ));
    }
    super::backtest::write_atomic(&path, text)
}

/// A TOML array of strings.
pub fn strings(v: &[String]) -> Value {
    let mut a = toml_edit::Array::new();
    for s in v {
        a.push(s.as_str());
    }
    Value::Array(a)
}

/// A TOML datetime when `text` is one, else a string.
pub fn datetime(text: &str) -> Value {
    match text.parse::<toml_edit::Datetime>() {
        Ok(d) => Value::from(d),
        Err(_) => Value::from(text),
    }
}
