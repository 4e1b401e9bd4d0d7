//! Document rules run over both sides of a few files, through the same reading and pairing
//! as a check.

use super::rule;
use crate::engine::document::{Hit, Patterns, hits};
use crate::manifest::compare::{File, pair};
use crate::manifest::{Analysis, Side, analyze};

/// The hits of the rule written in `body` over files given as (path, old text, new text); an
/// empty text is a side where the file is absent.
pub(super) fn document_hits(body: &str, files: &[(&str, &str, &str)]) -> Vec<Hit> {
    let rules = rule(&format!("[rule.match]\npaths = ['**']\n{body}"));
    let document = rules[0].matcher.document.clone().expect("a document rule");
    let analyses: Vec<Analysis> = files
        .iter()
        .map(|(p, o, n)| analyze(p, &side(o), &side(n), Default::default()))
        .collect();
    let list: Vec<File<'_>> = files
        .iter()
        .zip(&analyses)
        .map(|((p, _, _), a)| File {
            path: p,
            analysis: a,
            scope_stays: false,
        })
        .collect();
    let pairs = pair(&list);
    let becomes = match &document.compare {
        crate::rules::document::Compare::BecomesMatching(r) => regex::Regex::new(r).ok(),
        _ => None,
    };
    let written_by = document
        .written_by
        .as_ref()
        .and_then(|r| regex::Regex::new(r).ok());
    hits(
        &document,
        Patterns {
            becomes: becomes.as_ref(),
            written_by: written_by.as_ref(),
        },
        &list,
        &pairs,
    )
}

const REPLACED: &str = "[rule.match.document]\nkinds = ['*_*']\nreplaced = true\n";

fn side(text: &str) -> Side<'_> {
    if text.is_empty() {
        Side::Absent
    } else {
        Side::Text(text)
    }
}

fn replaced(files: &[(&str, &str, &str)]) -> Vec<Hit> {
    document_hits(REPLACED, files)
}

fn lb(body: &str) -> String {
    format!("resource \"aws_lb\" \"web\" {{\n{body}}}\n")
}

#[test]
fn an_attribute_switched_to_another_is_a_replacement_whatever_the_expression() {
    let old = lb("  name_prefix = \"${local.name_prefix}\"\n  internal = var.internal\n");
    let new = lb("  name = var.name\n  internal = var.internal\n");
    let found = replaced(&[("main.tf", &old, &new)]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].extra.contains("switches from `name_prefix`"),
        "{found:?}"
    );
    assert!(
        found[0].extra.contains("to `name` (`${var.name}`"),
        "{found:?}"
    );
    assert_eq!(found[0].line, 2);
    // Set on both sides to computed values: perhaps the same value.
    let other = lb("  name = var.other_name\n  internal = var.internal\n");
    assert!(replaced(&[("main.tf", &new, &other)]).is_empty());
    // Two literals that differ are still judged.
    let a = lb("  name = \"a\"\n");
    let b = lb("  name = \"b\"\n");
    assert_eq!(replaced(&[("main.tf", &a, &b)]).len(), 1);
    // Null is not set.
    let null = lb("  name = null\n  name_prefix = null\n");
    assert!(replaced(&[("main.tf", &lb(""), &null)]).is_empty());
}

#[test]
fn a_value_that_stays_what_it_was_is_no_replacement() {
    // The provider's default written out.
    let internal = lb("  internal = false\n");
    assert!(replaced(&[("main.tf", &lb(""), &internal)]).is_empty());
    assert!(replaced(&[("main.tf", &internal, &lb(""))]).is_empty());
    let internal = lb("  internal = true\n");
    assert_eq!(replaced(&[("main.tf", &lb(""), &internal)]).len(), 1);
    // An older name of the attribute: the same setting, judged as one.
    let gke = |k: &str, v: &str| {
        format!("resource \"google_container_cluster\" \"c\" {{\n  name = \"c\"\n  {k} = {v}\n}}\n")
    };
    let (region, location) = (gke("region", "var.region"), gke("location", "var.region"));
    assert!(replaced(&[("main.tf", &region, &location)]).is_empty());
    let moved = gke("location", "\"europe-west4\"");
    let found = replaced(&[("main.tf", &gke("region", "\"europe-west1\""), &moved)]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].shown.contains("location = europe-west4"),
        "{found:?}"
    );
    // The provider block's own project, now set from a variable.
    let project = gke("project", "var.project_id");
    assert!(replaced(&[("main.tf", &gke("x", "1"), &project)]).is_empty());
}

#[test]
fn a_computed_value_that_may_be_null_or_a_new_variable_s_default_is_no_replacement() {
    let old = lb("  name = var.name\n");
    // Through a local: null unless the caller opts in.
    let new = format!(
        "locals {{\n  prefix = var.use_prefix ? \"${{var.name}}-\" : null\n}}\n{}",
        lb("  name = var.use_prefix ? null : var.name\n  name_prefix = local.prefix\n")
    );
    assert!(replaced(&[("main.tf", &old, &new)]).is_empty());
    // A local the change does not show: judged.
    let unknown = lb("  name = var.name\n  name_prefix = local.prefix\n");
    assert_eq!(replaced(&[("main.tf", &old, &unknown)]).len(), 1);
    // A variable the change adds: every caller gets its default.
    let set = lb("  name = var.name\n  internal = var.internal\n");
    let variable = |default: &str| format!("variable \"internal\" {{\n{default}}}\n");
    let with = |default: &str| {
        replaced(&[
            ("main.tf", &old, &set),
            ("variables.tf", "", &variable(default)),
        ])
    };
    assert!(with("  default = null\n").is_empty());
    assert!(
        with("  default = false\n").is_empty(),
        "the provider's default"
    );
    assert_eq!(with("  default = true\n").len(), 1);
    assert_eq!(with("  type = bool\n").len(), 1, "callers must set it");
    // A variable that was already there: callers may set it.
    let kept = variable("  default = null\n");
    let found = replaced(&[
        ("main.tf", &old, &set),
        ("variables.tf", &kept, &format!("{kept}\n")),
    ]);
    assert_eq!(found.len(), 1);
    // In another module (folder), it is not this one's.
    let found = replaced(&[
        ("main.tf", &old, &set),
        ("other/variables.tf", "", &variable("  default = null\n")),
    ]);
    assert_eq!(found.len(), 1);
}

#[test]
fn a_block_moved_into_a_dynamic_block_is_not_unset() {
    let cluster = |body: &str| {
        format!("resource \"aws_eks_cluster\" \"this\" {{\n  name = \"c\"\n{body}}}\n")
    };
    let old =
        cluster("  kubernetes_network_config {\n    service_ipv4_cidr = \"10.0.0.0/16\"\n  }\n");
    let new = cluster(
        "  dynamic \"kubernetes_network_config\" {\n    for_each = var.cidr == null ? [] : [1]\n    content {\n      service_ipv4_cidr = var.cidr\n    }\n  }\n",
    );
    assert!(replaced(&[("main.tf", &old, &new)]).is_empty());
    // Unset with no such move: the cluster is replaced.
    assert_eq!(replaced(&[("main.tf", &old, &cluster(""))]).len(), 1);
}

const IMAGE: &str = "[rule.match.document]\nkinds = ['Deployment']\npath = ['**.containers.*.image']\nbecomes_matching = ':latest$'\n";

fn pod(containers: &[(&str, &str)]) -> String {
    let list: String = containers
        .iter()
        .map(|(name, image)| format!("        - name: {name}\n          image: {image}\n"))
        .collect();
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n{list}"
    )
}

#[test]
fn a_container_renamed_in_place_is_the_same_container() {
    let fired = |old: &[(&str, &str)], new: &[(&str, &str)]| {
        document_hits(IMAGE, &[("k8s/web.yaml", &pod(old), &pod(new))])
            .iter()
            .map(|h| h.extra.clone())
            .collect::<Vec<_>>()
    };
    // Renamed, its image kept: nothing new.
    assert!(
        fired(
            &[("mysql", "shop/ratings:latest")],
            &[("ratings", "shop/ratings:latest")]
        )
        .is_empty()
    );
    // Renamed at the same place in a list of the same length: paired, what it was is said.
    let found = fired(
        &[("mysql", "shop/ratings:1.0"), ("proxy", "envoy:1.2")],
        &[("ratings", "shop/ratings:latest"), ("proxy", "envoy:1.2")],
    );
    assert_eq!(found.len(), 1);
    assert!(found[0].contains("was `shop/ratings:1.0`"), "{found:?}");
    // Another container removed and one added with its image: the image is not new.
    assert!(
        fired(
            &[("a", "shop/a:latest"), ("b", "shop/b:1")],
            &[("c", "shop/a:latest")]
        )
        .is_empty()
    );
    // A container added beside one that keeps the same image: new to the pod.
    assert_eq!(
        fired(
            &[("a", "shop/a:latest")],
            &[("a", "shop/a:latest"), ("b", "shop/a:latest")]
        )
        .len(),
        1
    );
    // Renamed in a list that grew, with an image no container had: new.
    assert_eq!(
        fired(
            &[("a", "shop/a:1")],
            &[("b", "shop/b:latest"), ("c", "shop/c:2")]
        )
        .len(),
        1
    );
}

#[test]
fn a_value_at_a_key_that_needs_another_beside_it_counts_only_with_it() {
    let rule = "[rule.match.document]\nkinds = ['HelmValues']\npath = ['**.image.version', '**.image.tag']\nbecomes = ['latest']\nneeds_beside = { version = ['repository', 'repo'] }\n";
    let values = |image: &str| format!("web:\n  image:\n{image}");
    let fired = |image: &str| {
        document_hits(rule, &[("charts/a/values.yaml", "", &values(image))])
            .iter()
            .map(|h| h.shown.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        fired("    repo: shop\n    version: latest\n"),
        vec!["HelmValues charts/a/values.yaml web.image.version: latest"]
    );
    // Keys compare as key paths compare them; an empty one names nothing.
    assert_eq!(
        fired("    Repository: shop\n    version: latest\n").len(),
        1
    );
    assert!(fired("    repository: ~\n    version: latest\n").is_empty());
    assert!(fired("    format: oci\n    version: latest\n").is_empty());
    // A key the rule asks nothing of is not affected.
    assert_eq!(fired("    tag: latest\n").len(), 1);
}

const SELECTOR: &str = "[rule.match.document]\nkinds = ['Deployment']\npath = ['spec.selector.matchLabels.*']\nbecomes_matching = '⟨tpl⟩'\nwritten_by = '\\.Chart\\.(App)?Version|^\\s*helm\\.sh/chart:'\n";

fn deployment(selector: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  selector:\n    matchLabels:\n{selector}  template:\n    spec:\n      containers: [{{name: web, image: web}}]\n"
    )
}

#[test]
fn a_value_counts_only_where_the_template_line_that_writes_it_matches() {
    let name = "      app: {{ include \"web.name\" . }}\n";
    let version = "      version: {{ .Values.tag | default .Chart.AppVersion }}\n";
    let path = "charts/web/templates/deployment.yaml";
    let new = deployment(&format!("{name}{version}"));
    let found = document_hits(SELECTOR, &[(path, "", &new)]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].line, 9);
    assert!(
        found[0].extra.ends_with(
            "The template writes `version: {{ .Values.tag | default .Chart.AppVersion }}`."
        ),
        "{found:?}"
    );
    // Already there before the change: not new.
    let old =
        deployment(&format!("{name}{version}")).replace("web, image: web", "web, image: web:2");
    assert!(document_hits(SELECTOR, &[(path, &old, &new)]).is_empty());
    // Added to an existing selector.
    let found = document_hits(SELECTOR, &[(path, &deployment(name), &new)]);
    assert_eq!(found.len(), 1, "{found:?}");
    // The key itself named on the line.
    let chart = deployment(&format!("{name}      helm.sh/chart: {{{{ $chart }}}}\n"));
    assert_eq!(document_hits(SELECTOR, &[(path, "", &chart)]).len(), 1);
    // A literal, in a template or in plain YAML, is never written by an action.
    let literal = deployment("      app: web\n      version: v1\n");
    assert!(document_hits(SELECTOR, &[(path, "", &literal)]).is_empty());
    assert!(document_hits(SELECTOR, &[("k8s/web.yaml", "", &literal)]).is_empty());
}

#[test]
fn written_by_narrows_only_a_comparison_of_the_new_value() {
    use crate::rules::load::{RuleFile, load};
    let text = |compare: &str| {
        format!(
            "[[rule]]\nid = \"r\"\ntitle = \"T\"\nseverity = \"error\"\ncategory = \"c\"\nmessage = \"m\"\nask = \"?\"\n[rule.match]\npaths = ['**']\n[rule.match.document]\nkinds = ['Deployment']\npath = 'spec.selector'\n{compare}\nwritten_by = 'x'\n"
        )
    };
    let loads = |compare: &str| {
        let file = RuleFile {
            path: "t.toml".into(),
            text: text(compare),
            builtin: false,
        };
        load(&[file], &crate::config::Config::default()).is_ok()
    };
    assert!(loads("becomes_matching = '.'"));
    assert!(loads("added = true"));
    assert!(!loads("changed = true"));
    assert!(!loads("removed = true"));
}
