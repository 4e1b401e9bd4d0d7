//! `forewarn report --write`: the summary of each rule linked to a finding stored in the
//! analysis record, as `[[report]]` tables, editing the TOML in place with its layout kept (the
//! way `backtest --write` stores `[[backtest]]`).

use std::path::Path;

use toml_edit::Value;

use super::Report;
use crate::analysis::record::{Analyses, StoredReport};
use crate::analysis::tables::{Entry, datetime, strings, upsert};
use crate::error::{Error, Result, SourceError};
use crate::rules::load::RuleFile;

const COMMENT: &str = "# Written by `forewarn report --write`: each rule linked to a finding of this record, at\n# work since the review. Run it again to refresh; edits above this line are kept.\n";

/// What is stored for each rule linked to a finding of `analysis`.
pub fn stored(report: &Report, analysis: &str) -> Vec<StoredReport> {
    let mut out = Vec::new();
    for a in report.analyses.iter().filter(|a| a.id == analysis) {
        for f in &a.findings {
            for l in &f.lessons {
                out.push(StoredReport {
                    rule: l.rule.clone(),
                    finding: f.id.clone(),
                    run: report.generated.clone(),
                    since: l.since.clone().unwrap_or_default(),
                    fired: l.fired as u64,
                    acknowledged: l.acknowledged as u64,
                    resolved_before_merge: l.resolved_before_merge as u64,
                    trend: l.trend.direction.to_string(),
                    reasons: l
                        .reasons
                        .iter()
                        .map(|r| format!("{} (×{}, {})", r.reason, r.count, r.source))
                        .collect(),
                });
            }
        }
    }
    out
}

/// Puts `entries` into a record's text as `[[report]]` tables.
pub fn write_into(text: &str, entries: &[StoredReport]) -> std::result::Result<String, String> {
    let entries = entries
        .iter()
        .map(|e| {
            let mut values = vec![
                ("rule", Value::from(e.rule.as_str())),
                ("finding", Value::from(e.finding.as_str())),
                ("run", datetime(&e.run)),
            ];
            if !e.since.is_empty() {
                values.push(("since", datetime(&e.since)));
            }
            values.extend([
                ("fired", Value::from(e.fired as i64)),
                ("acknowledged", Value::from(e.acknowledged as i64)),
                (
                    "resolved_before_merge",
                    Value::from(e.resolved_before_merge as i64),
                ),
                ("trend", Value::from(e.trend.as_str())),
                ("reasons", strings(&e.reasons)),
            ]);
            Entry {
                rule: &e.rule,
                finding: &e.finding,
                values,
            }
        })
        .collect();
    upsert(text, "report", COMMENT, entries)
}

/// Writes the summary into each record with a rule linked to one of its findings. Returns
/// `(file, rules)` for each record written.
pub fn write(
    root: &Path,
    analysis_files: &[RuleFile],
    analyses: &Analyses,
    report: &Report,
) -> Result<Vec<(String, Vec<String>)>> {
    let mut written = Vec::new();
    for analysis in &analyses.records {
        let entries = stored(report, &analysis.id);
        if entries.is_empty() {
            continue;
        }
        let Some(file) = analysis_files.iter().find(|f| f.path == analysis.file) else {
            continue;
        };
        let text = write_into(&file.text, &entries).map_err(|why| {
            Error::Source(vec![
                SourceError::new(
                    &file.path,
                    &file.text,
                    0..0,
                    format!("cannot store the report in this record: {why}"),
                )
                .help("rename or remove the `report` key; forewarn writes [[report]] tables there"),
            ])
        })?;
        crate::analysis::tables::store(
            root,
            file,
            &text,
            ("the report was made", "forewarn report --write"),
        )?;
        let mut rules: Vec<String> = entries.into_iter().map(|e| e.rule).collect();
        rules.dedup();
        written.push((file.path.clone(), rules));
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(fired: u64) -> StoredReport {
        StoredReport {
            rule: "r".into(),
            finding: "F2".into(),
            run: "2024-05-01T10:00:00Z".into(),
            since: "2019-07-10".into(),
            fired,
            acknowledged: 1,
            resolved_before_merge: 2,
            trend: "rising".into(),
            reasons: vec!["runs in the release job (×1, trailer)".into()],
        }
    }

    #[test]
    fn stores_in_place_and_keeps_the_record_as_written() {
        let record = include_str!("../testdata/analysis.toml");
        let once = write_into(record, &[entry(3)]).unwrap();
        assert!(once.starts_with(record), "{once}");
        let added = &once[record.len()..];
        assert!(
            added.starts_with("\n# Written by `forewarn report --write`"),
            "{added}"
        );
        assert!(added.contains("resolved_before_merge = 2\n"), "{added}");
        assert!(added.contains("since = 2019-07-10\n"), "{added}");
        let commented = once.replace("fired = 3\n", "fired = 3 # checked by hand\n");
        let twice = write_into(&commented, &[entry(5)]).unwrap();
        assert_eq!(twice, commented.replace("fired = 3 #", "fired = 5 #"));
        let mut ignored = Vec::new();
        crate::analysis::record::parse_file(
            &RuleFile {
                path: "x.toml".into(),
                text: twice,
                builtin: false,
            },
            &mut ignored,
        )
        .expect("the record still loads");
    }
}
