//! The GitHub ingestion rules of Microsoft's SARIF Multitool (`validate --rule-kinds Ghas`),
//! GH1001-GH1007, as checks of a produced log: what code scanning needs to accept and show it.
//! Written from the rules' descriptions (microsoft/sarif-sdk, src/Sarif.Multitool.Library/Rules),
//! so the tests need neither .NET nor the network. GH1004's limits are GitHub's documented upload
//! limits (a log past them is rejected), not the Multitool's lower review thresholds.

use serde_json::Value;

/// GitHub's upload limits (docs: "SARIF support for code scanning", "Upload limits").
const MAX_RUNS: usize = 20;
const MAX_RESULTS_PER_RUN: usize = 25_000;
const MAX_RULES_PER_RUN: usize = 25_000;
const MAX_LOCATIONS_PER_RESULT: usize = 1_000;
const MAX_TAGS_PER_RULE: usize = 20;

/// Every problem GitHub would have with `log`, as `GHnnnn at <pointer>: <what>`.
pub fn problems(log: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let runs = log["runs"].as_array().cloned().unwrap_or_default();
    too_many(&mut out, "/runs", runs.len(), MAX_RUNS);
    for (r, run) in runs.iter().enumerate() {
        let at = format!("/runs/{r}");
        let rules = run["tool"]["driver"]["rules"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        too_many(
            &mut out,
            &format!("{at}/tool/driver/rules"),
            rules.len(),
            MAX_RULES_PER_RUN,
        );
        for (i, rule) in rules.iter().enumerate() {
            let tags = rule["properties"]["tags"].as_array().map_or(0, Vec::len);
            too_many(
                &mut out,
                &format!("{at}/tool/driver/rules/{i}/properties/tags"),
                tags,
                MAX_TAGS_PER_RULE,
            );
        }
        let checkout_paths: Vec<String> = run["invocations"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|i| i["workingDirectory"]["uri"].as_str())
            .map(|u| format!("{}/", u.trim_end_matches('/')))
            .collect();
        let results = run["results"].as_array().cloned().unwrap_or_default();
        too_many(
            &mut out,
            &format!("{at}/results"),
            results.len(),
            MAX_RESULTS_PER_RUN,
        );
        for (i, result) in results.iter().enumerate() {
            check_result(
                &mut out,
                &format!("{at}/results/{i}"),
                result,
                &checkout_paths,
            );
        }
    }
    out
}

fn too_many(out: &mut Vec<String>, at: &str, len: usize, max: usize) {
    if len > max {
        out.push(format!(
            "GH1004 at {at}: {len} elements, past GitHub's limit of {max}"
        ));
    }
}

fn check_result(out: &mut Vec<String>, at: &str, result: &Value, checkout_paths: &[String]) {
    // GH1007: a fully formatted message (no id/arguments-only messages).
    if result["message"]["text"].as_str().is_none_or(str::is_empty) {
        out.push(format!("GH1007 at {at}/message: no `text`"));
    }
    // GH1002: thread flow locations inline, not by index into run.threadFlowLocations.
    for (c, flow) in result["codeFlows"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        for (t, thread) in flow["threadFlows"]
            .as_array()
            .into_iter()
            .flatten()
            .enumerate()
        {
            for (l, loc) in thread["locations"]
                .as_array()
                .into_iter()
                .flatten()
                .enumerate()
            {
                if loc.get("index").is_some() {
                    out.push(format!(
                        "GH1002 at {at}/codeFlows/{c}/threadFlows/{t}/locations/{l}: uses `index`"
                    ));
                }
            }
        }
    }
    // GH1001: at least one location, each with physicalLocation.artifactLocation.uri.
    let Some(locations) = result["locations"].as_array() else {
        out.push(format!("GH1001 at {at}: no `locations`"));
        return;
    };
    if locations.is_empty() {
        out.push(format!("GH1001 at {at}/locations: empty"));
        return;
    }
    too_many(
        out,
        &format!("{at}/locations"),
        locations.len(),
        MAX_LOCATIONS_PER_RESULT,
    );
    let related = result["relatedLocations"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let all = locations
        .iter()
        .enumerate()
        .map(|(i, l)| (format!("{at}/locations/{i}"), l, true))
        .chain(
            related
                .iter()
                .enumerate()
                .map(|(i, l)| (format!("{at}/relatedLocations/{i}"), l, false)),
        );
    for (at, location, primary) in all {
        let physical = &location["physicalLocation"];
        let Some(uri) = physical["artifactLocation"]["uri"].as_str() else {
            out.push(format!(
                "GH1001 at {at}: no `physicalLocation.artifactLocation.uri`"
            ));
            continue;
        };
        // GH1003: a region with a start line (1-based).
        if primary {
            match physical["region"]["startLine"].as_u64() {
                Some(n) if n >= 1 => {}
                _ if physical.get("region").is_none() => {
                    out.push(format!("GH1003 at {at}/physicalLocation: no `region`"));
                }
                _ => out.push(format!(
                    "GH1003 at {at}/physicalLocation/region: no `startLine`"
                )),
            }
        }
        // GH1005: a relative URI reference, or an absolute `file:` URI (or one under the
        // working directory). GH1006: an absolute `file:` URI needs the checkout path it lies
        // under.
        let under_checkout = checkout_paths.iter().any(|p| uri.starts_with(p.as_str()));
        match scheme(uri) {
            Some(scheme) if !under_checkout && !scheme.eq_ignore_ascii_case("file") => {
                out.push(format!("GH1005 at {at}: `{uri}` is not a file path"));
            }
            Some(_) if !under_checkout => out.push(format!(
                "GH1006 at {at}: `{uri}` is an absolute file URI outside any \
                 invocations[].workingDirectory"
            )),
            _ => {}
        }
    }
}

/// The scheme of an absolute URI (`https` in `https://x`), per RFC 3986.
fn scheme(uri: &str) -> Option<&str> {
    let (scheme, _) = uri.split_once(':')?;
    let mut chars = scheme.chars();
    (chars.next()?.is_ascii_alphabetic()
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
    .then_some(scheme)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::{render, render_capped};
    use super::*;
    use crate::output::fixtures;

    fn log(acknowledged: bool) -> Value {
        serde_json::from_str(&render(
            &fixtures::report(),
            &fixtures::rules(),
            acknowledged,
        ))
        .unwrap()
    }

    /// The rule's code is in the problems of the doctored log, and only there.
    fn caught(doctored: &Value, code: &str) {
        let found = problems(doctored);
        assert!(
            found.iter().any(|p| p.starts_with(code)),
            "{code} not caught: {found:#?}"
        );
    }

    #[test]
    fn forewarn_logs_pass_every_github_rule() {
        for doc in [
            log(false),
            log(true),
            serde_json::from_str(&render(
                &fixtures::hostile_report(),
                &fixtures::rules(),
                true,
            ))
            .unwrap(),
            serde_json::from_str(&render(&fixtures::report(), &[], true)).unwrap(),
            serde_json::from_str(&render_capped(&fixtures::report(), &[], true, 2)).unwrap(),
        ] {
            assert_eq!(problems(&doc), Vec::<String>::new(), "{doc:#}");
        }
    }

    #[test]
    fn gh1001_a_result_needs_a_location_with_a_uri() {
        let mut doc = log(true);
        doc["runs"][0]["results"][0]
            .as_object_mut()
            .unwrap()
            .remove("locations");
        caught(&doc, "GH1001");
        let mut doc = log(true);
        doc["runs"][0]["results"][0]["locations"] = json!([]);
        caught(&doc, "GH1001");
        let mut doc = log(true);
        doc["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"] =
            json!({});
        caught(&doc, "GH1001");
    }

    #[test]
    fn gh1002_thread_flow_locations_are_inline() {
        let mut doc = log(true);
        doc["runs"][0]["results"][0]["codeFlows"] =
            json!([{"threadFlows": [{"locations": [{"index": 0}]}]}]);
        caught(&doc, "GH1002");
    }

    #[test]
    fn gh1003_a_location_needs_a_region_with_a_start_line() {
        for result in 0..5 {
            let mut doc = log(true);
            doc["runs"][0]["results"][result]["locations"][0]["physicalLocation"]
                .as_object_mut()
                .unwrap()
                .remove("region");
            caught(&doc, "GH1003");
        }
        let mut doc = log(true);
        doc["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"] =
            json!({"startColumn": 3});
        caught(&doc, "GH1003");
    }

    #[test]
    fn gh1004_arrays_within_githubs_limits() {
        let mut doc = log(true);
        let result = doc["runs"][0]["results"][0].clone();
        doc["runs"][0]["results"] = Value::Array(vec![result; MAX_RESULTS_PER_RUN + 1]);
        caught(&doc, "GH1004");
        let mut doc = log(true);
        doc["runs"][0]["tool"]["driver"]["rules"][0]["properties"]["tags"] =
            json!(vec!["t"; MAX_TAGS_PER_RULE + 1]);
        caught(&doc, "GH1004");
        // forewarn's own cap keeps a run within the limit.
        assert_eq!(super::super::MAX_RESULTS, MAX_RESULTS_PER_RUN);
    }

    #[test]
    fn gh1005_locations_are_relative_uris_or_file_paths() {
        let mut doc = log(true);
        doc["runs"][0]["results"][2]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] =
            json!("https://example.com/a.py");
        caught(&doc, "GH1005");
        // The encoded forms forewarn writes are relative: `c%3A/x` is no scheme.
        assert_eq!(scheme(&crate::output::sarif::relative_uri("c:/x")), None);
        assert_eq!(scheme("file:///src/a.py"), Some("file"));
    }

    #[test]
    fn gh1006_an_absolute_file_uri_needs_the_checkout_path() {
        let mut doc = log(true);
        doc["runs"][0]["results"][2]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] =
            json!("file:///home/runner/work/app/a.py");
        caught(&doc, "GH1006");
        doc["runs"][0]["invocations"][0]["workingDirectory"] =
            json!({"uri": "file:///home/runner/work/app"});
        assert_eq!(problems(&doc), Vec::<String>::new());
    }

    #[test]
    fn gh1007_messages_are_fully_formatted() {
        let mut doc = log(true);
        doc["runs"][0]["results"][1]["message"] = json!({"id": "default", "arguments": ["x"]});
        caught(&doc, "GH1007");
    }
}
