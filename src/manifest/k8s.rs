//! YAML files (plain or Helm templates) into objects: Kubernetes objects by kind, namespace and
//! name; a Helm values file as one `HelmValues` object; any other document as a kindless one.

use std::collections::BTreeSet;
use std::sync::Arc;

use super::helm::{self, TEMPLATED};
use super::yaml::{self, Node, Value};
use super::{Format, Object, Parsed, SideReading, folder};

/// The kind given to a Helm chart's values file.
pub const HELM_VALUES: &str = "HelmValues";

/// Reads one side; `first_branches` sets a template's `else` branches aside from the start (to
/// read both sides alike when the other side needed it).
pub fn read(path: &str, text: &str, first_branches: bool, chart: helm::Chart<'_>) -> SideReading {
    // Helm renders templates, never a values file: `{{ ... }}` there is text (a value passed
    // to `tpl`, an example in a comment), read as plain YAML.
    let templated = helm::is_templated(text) && !is_values_file(path);
    let mut set_aside = first_branches;
    let (parsed, template) = if templated {
        let t = helm::read_chart(text, first_branches, chart);
        match yaml::parse(&t.yaml) {
            Ok(d) => (Ok(d), Some(t)),
            // Both branches of an if/else rendered at once may not be YAML; the first ones are.
            Err(e) if !first_branches => {
                let first = helm::read_chart(text, true, chart);
                set_aside = true;
                match yaml::parse(&first.yaml) {
                    Ok(d) => (Ok(d), Some(first)),
                    Err(_) => (Err(e), None),
                }
            }
            Err(e) => (Err(e), None),
        }
    } else {
        (yaml::parse(text), None)
    };
    let documents = match parsed {
        Ok(d) => d,
        Err(e) => {
            return SideReading::Failed {
                line: Some(e.line),
                reason: if templated {
                    format!("{} (after blanking its template actions)", e.message)
                } else {
                    e.message
                },
                as_written: !templated && !["{{", "{%", "<%"].iter().any(|t| text.contains(t)),
            };
        }
    };
    let mut documents = documents;
    if template
        .as_ref()
        .is_some_and(|t| !t.helper_lines.is_empty())
    {
        documents
            .iter_mut()
            .for_each(|d| super::helpers::splice(&mut d.root));
    }
    let mut objects = Vec::new();
    for doc in documents {
        collect(path, doc.root, doc.line, &mut objects);
    }
    let mut conditions = BTreeSet::new();
    if let Some(t) = &template {
        for object in &mut objects {
            object.guard = t.guard(object.line);
        }
        for guard in &t.guards {
            conditions.extend(guard.iter().cloned());
        }
    }
    // A helper written out as its keys renders nothing unknown.
    let renders = if templated {
        let written: &[u32] = template.as_ref().map_or(&[], |t| &t.helper_lines);
        let mut renders = helm::rendering_actions(text);
        renders.retain(|(line, _)| !written.contains(line));
        renders
    } else {
        Vec::new()
    };
    let (default_lines, written, line_guards, unread) = template
        .map(|t| (t.default_lines, t.written, t.guards, t.set_aside))
        .unwrap_or_default();
    SideReading::Parsed(Parsed {
        format: if templated {
            Format::HelmTemplate
        } else {
            Format::Yaml
        },
        objects,
        moved: Vec::new(),
        conditions,
        default_lines,
        written,
        locals: Vec::new(),
        unread,
        line_guards,
        renders,
        first_branches: set_aside,
    })
}

pub(crate) fn is_values_file(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    name.starts_with("values") && (name.ends_with(".yaml") || name.ends_with(".yml"))
}

fn collect(path: &str, root: Node, doc_line: u32, out: &mut Vec<Object>) {
    if root.is_empty() {
        return;
    }
    let kind = root.get("kind").and_then(Node::as_str).map(str::to_string);
    match kind {
        Some(kind) if kind == "List" || kind.ends_with("List") && root.get("items").is_some() => {
            if let Some(Node {
                value: Value::Seq(items),
                ..
            }) = root.get("items")
            {
                for item in items.clone() {
                    let line = item.line;
                    collect(path, item, line, out);
                }
            }
        }
        // A Helm test hook runs only under `helm test`: no install or upgrade deploys it.
        Some(_) if is_helm_test_hook(&root) => {}
        Some(kind) => out.push(kubernetes_object(path, kind, root)),
        None => {
            let kind = if is_values_file(path) {
                HELM_VALUES
            } else {
                ""
            };
            let line = root.line.max(doc_line);
            out.push(Object {
                kind: kind.to_string(),
                name: path.to_string(),
                key: format!("{kind}@{path}"),
                line,
                guard: Arc::from(Vec::new()),
                body: root,
                templated_key: true,
                keys: Default::default(),
            });
        }
    }
}

/// Whether the object's `helm.sh/hook` annotation names only test hooks (`test`,
/// `test-success`, `test-failure`): Helm creates such objects when someone runs `helm test`,
/// never on install or upgrade, including in a chart rendered into a plain manifest.
fn is_helm_test_hook(root: &Node) -> bool {
    root.at(&["metadata", "annotations", "helm.sh/hook"])
        .and_then(Node::as_str)
        .is_some_and(|hooks| {
            hooks
                .split(',')
                .all(|hook| matches!(hook.trim(), "test" | "test-success" | "test-failure"))
        })
}

fn kubernetes_object(path: &str, kind: String, mut root: Node) -> Object {
    let name = root
        .at(&["metadata", "name"])
        .or_else(|| root.at(&["metadata", "generateName"]))
        .and_then(Node::as_str)
        .unwrap_or("")
        .to_string();
    let namespace = root
        .at(&["metadata", "namespace"])
        .and_then(Node::as_str)
        .unwrap_or("")
        .to_string();
    if kind == "CustomResourceDefinition" {
        drop_schemas(&mut root);
    }
    let templated_key =
        name.is_empty() || name.contains(TEMPLATED) || namespace.contains(TEMPLATED);
    // A templated name is only known within its chart: the folder that holds `templates/`.
    let scope = if templated_key {
        path.split_once("/templates/")
            .map(|(chart, _)| chart)
            .unwrap_or_else(|| folder(path))
    } else {
        ""
    };
    // `generateName: maint-page-up-` names a new object at each create (`maint-page-up-x7k2p`):
    // the same object as one the other side names `maint-page-up`.
    let identity = match root.at(&["metadata", "name"]) {
        Some(_) => name.as_str(),
        None => name.trim_end_matches(['-', '.']),
    };
    let line = root.line;
    Object {
        key: format!("{kind}/{namespace}/{identity}@{scope}"),
        kind,
        name,
        line,
        guard: Arc::from(Vec::new()),
        body: root,
        templated_key,
        keys: Default::default(),
    }
}

/// A CustomResourceDefinition's OpenAPI schema describes other objects (it names
/// `readinessProbe` and `strategy` by the hundred): it is not configuration of this one.
fn drop_schemas(root: &mut Node) {
    let Value::Map(entries) = &mut root.value else {
        return;
    };
    let Some((_, spec)) = entries.iter_mut().find(|(k, _)| k == "spec") else {
        return;
    };
    let Value::Map(spec) = &mut spec.value else {
        return;
    };
    spec.retain(|(k, _)| k != "validation");
    for (k, versions) in spec.iter_mut() {
        if k != "versions" {
            continue;
        }
        if let Value::Seq(items) = &mut versions.value {
            for item in items {
                if let Value::Map(fields) = &mut item.value {
                    fields.retain(|(k, _)| k != "schema");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn objects(path: &str, text: &str) -> Vec<Object> {
        match read(path, text, false, Default::default()) {
            SideReading::Parsed(p) => p.objects,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn multi_document_file_gives_objects_by_kind_and_name() {
        let found = objects(
            "k8s/app.yaml",
            "apiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: prod}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n",
        );
        let keys: Vec<_> = found.iter().map(|o| (o.key.as_str(), o.line)).collect();
        assert_eq!(keys, vec![("Secret/prod/db@", 1), ("Deployment//web@", 5)]);
    }

    #[test]
    fn helm_test_hooks_deploy_nothing() {
        let text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: app-test\n  annotations:\n    \"helm.sh/hook\": test-success\nspec:\n  containers:\n    - name: t\n      image: busybox\n---\napiVersion: batch/v1\nkind: Job\nmetadata:\n  name: migrate\n  annotations:\n    helm.sh/hook: pre-install,pre-upgrade\nspec: {}\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: both\n  annotations:\n    helm.sh/hook: test, post-install\n";
        let names: Vec<String> = objects("dist/deploy.yaml", text)
            .into_iter()
            .map(|o| o.name)
            .collect();
        assert_eq!(names, ["migrate", "both"]);
    }

    #[test]
    fn crd_schemas_are_dropped() {
        let found = objects(
            "crds/x.yaml",
            "kind: CustomResourceDefinition\nmetadata: {name: x}\nspec:\n  versions:\n    - name: v1\n      schema:\n        openAPIV3Schema:\n          properties:\n            readinessProbe: {type: object}\n",
        );
        let version = &found[0].body.at(&["spec", "versions"]).unwrap();
        let Value::Seq(items) = &version.value else {
            panic!()
        };
        assert!(items[0].get("schema").is_none());
        assert!(items[0].get("name").is_some());
    }

    #[test]
    fn templated_names_are_scoped_to_their_chart_and_guarded() {
        let text = "{{- if .Values.pdb.enabled }}\napiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata:\n  name: {{ include \"x.fullname\" . }}\nspec:\n  minAvailable: 1\n{{- end }}\n";
        let found = objects("charts/x/templates/pdb.yaml", text);
        assert_eq!(found[0].key, "PodDisruptionBudget//⟨tpl⟩@charts/x");
        assert_eq!(&*found[0].guard, &["if .Values.pdb.enabled".to_string()]);
    }

    #[test]
    fn a_new_else_if_branch_is_opt_in_and_a_new_else_is_not() {
        let old = "kind: ConfigMap\nmetadata: {name: a}\ndata:\n  {{- if .Values.a }}\n  x: 1\n  {{- end }}\n";
        let new_else_if = "kind: ConfigMap\nmetadata: {name: a}\ndata:\n  {{- if .Values.a }}\n  x: 1\n  {{- else if .Values.b }}\n  y: 2\n  {{- end }}\n";
        let new_else = new_else_if.replace("else if .Values.b", "else");
        let parsed = |t: &str| match read("c/templates/cm.yaml", t, false, Default::default()) {
            SideReading::Parsed(p) => p,
            other => panic!("{other:?}"),
        };
        let before = parsed(old);
        assert!(parsed(new_else_if).opens_branch(7, Some(&before)));
        assert!(!parsed(&new_else).opens_branch(7, Some(&before)));
    }

    #[test]
    fn values_files_are_one_object() {
        let found = objects(
            "charts/x/values.yaml",
            "replicaCount: 2\nimage:\n  tag: latest\n",
        );
        assert_eq!(found[0].kind, HELM_VALUES);
    }

    #[test]
    fn a_template_that_stays_unreadable_says_why() {
        let text = "kind: ConfigMap\ndata:\n  a: [{{ .Values.x }}\n";
        assert!(matches!(
            read("t/templates/cm.yaml", text, false, Default::default()),
            SideReading::Failed { .. }
        ));
    }
}
