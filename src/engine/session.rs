//! One run of the engine over a change read in batches: matching each batch's files, then the
//! change-wide rules.

use rayon::prelude::*;

use super::{FileFacts, Session, Tally, is_handled};
use crate::diff::ChangedFile;
use crate::finding::Finding;
use crate::understand::Understood;

impl Session<'_, '_> {
    /// Pass 2 over some files of the change, in parallel: `files[k]` is file `first + k` of the
    /// list given to [`Engine::begin`], with its lines. Returns their findings, unsorted.
    pub fn match_files(
        &mut self,
        first: usize,
        files: &[ChangedFile],
        understood: &[Option<Understood>],
    ) -> Vec<Finding> {
        let engine = self.engine;
        let pairs: Vec<(&FileFacts, &ChangedFile, Option<&Understood>)> = files
            .iter()
            .enumerate()
            .filter_map(|(k, file)| {
                let fact = self.facts.get(first + k)?.as_ref()?;
                Some((fact, file, understood.get(k).and_then(Option::as_ref)))
            })
            .collect();
        engine.prepare_line_sets(&pairs, &self.silenced);
        let silenced = &self.silenced;
        let mut documents = engine.document_findings(&pairs, silenced);
        let results: Vec<(usize, Vec<Finding>, Tally)> = pairs
            .par_iter()
            .map(|&(fact, file, understood)| {
                let tally = Tally {
                    changed_lines: file.changed_lines(),
                    handled: fact
                        .candidates
                        .iter()
                        .map(|&i| i as usize)
                        .filter(|&i| {
                            let rule = &engine.rules[i];
                            !silenced[i] && rule.rule.threshold.is_set() && is_handled(rule, file)
                        })
                        .collect(),
                };
                (
                    fact.index,
                    engine.match_file(fact, file, silenced, understood),
                    tally,
                )
            })
            .collect();
        let mut findings =
            Vec::with_capacity(results.iter().map(|(_, found, _)| found.len()).sum());
        for (index, found, tally) in results {
            findings.extend(found);
            self.tallies[index] = Some(tally);
        }
        findings.append(&mut documents);
        findings
    }

    /// The change-wide rules (thresholds), once every file has been matched; a file never
    /// matched counts with no lines. `files` is the list given to [`Engine::begin`] (its lines
    /// are not needed).
    pub fn finish(&self, files: &[ChangedFile]) -> Vec<Finding> {
        let engine = self.engine;
        let mut findings = Vec::new();
        let none = Tally::default();
        for (i, rule) in engine.rules.iter().enumerate() {
            if self.silenced[i] || !rule.rule.threshold.is_set() {
                continue;
            }
            let counted: Vec<(&str, usize)> = self
                .facts
                .iter()
                .flatten()
                .filter(|f| f.candidates.binary_search(&(i as u32)).is_ok())
                .filter_map(|f| {
                    let tally = self.tallies[f.index].as_ref().unwrap_or(&none);
                    (!tally.handled.contains(&i))
                        .then_some((files[f.index].path.as_str(), tally.changed_lines))
                })
                .collect();
            engine.check_threshold(rule, &counted, &mut findings);
        }
        findings
    }

    /// For `files[k]` (file `first + k` of the change): whether some rule that reads structure
    /// (migration operations) can apply to it, so it is worth reading whole and parsing.
    pub fn wants_understanding(&self, first: usize, files: &[ChangedFile]) -> Vec<bool> {
        // A rule that asks whether a values default moved out of the chart's templates reads
        // the templates of the change too, whichever rules watch them.
        let templates_asked = self.engine.rules.iter().enumerate().any(|(i, r)| {
            !self.silenced[i]
                && r.rule
                    .matcher
                    .document
                    .as_ref()
                    .is_some_and(|d| !d.unless_moved_from_template.is_empty())
        });
        (0..files.len())
            .map(|k| {
                self.facts
                    .get(first + k)
                    .and_then(Option::as_ref)
                    .is_some_and(|fact| {
                        fact.candidates.iter().any(|&i| {
                            let i = i as usize;
                            !self.silenced[i] && self.engine.rules[i].rule.matcher.is_structured()
                        }) || (templates_asked && is_chart_template(&files[k].path))
                    })
            })
            .collect()
    }

    /// Files not excluded by the config.
    pub fn files_checked(&self) -> usize {
        self.files_checked
    }
}

/// A Helm chart's template: YAML or a helper under a `templates/` folder (a web framework's
/// HTML templates are not).
fn is_chart_template(path: &str) -> bool {
    crate::manifest::chart_root(path).is_some()
        && [".yaml", ".yml", ".tpl"]
            .iter()
            .any(|ext| path.to_ascii_lowercase().ends_with(ext))
}

#[cfg(test)]
mod tests {
    #[test]
    fn chart_templates_are_yaml_or_helpers_under_templates() {
        assert!(super::is_chart_template(
            "charts/app/templates/deployment.yaml"
        ));
        assert!(super::is_chart_template(
            "charts/app/templates/_helpers.tpl"
        ));
        assert!(super::is_chart_template("templates/Job.YML"));
        assert!(!super::is_chart_template("shop/templates/shop/index.html"));
        assert!(!super::is_chart_template("charts/app/values.yaml"));
    }
}
