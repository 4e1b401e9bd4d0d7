use super::*;

/// From kedacore/charts: an opt-in branch indented as the values it writes will be is YAML
/// only when the branch is left out, as an install with the default values leaves it.
#[test]
fn a_template_is_read_as_a_default_install_renders_it_when_only_that_is_yaml() {
    let text = "spec:\n  template:\n    spec:\n      {{- with .Values.imagePullSecrets }}\n        imagePullSecrets:\n          {{- toYaml . | nindent 8 }}\n      {{- end }}\n      {{- if .Values.podIdentity }}\n      identity: {{ .Values.podIdentity }}\n      {{- end }}\n      serviceAccountName: x\n";
    let values =
        super::super::yaml::parse("imagePullSecrets: []\npodIdentity: \"\"\nreplicas: 1\n")
            .unwrap()
            .remove(0)
            .root;
    let chart = Chart {
        values: Some(&values),
        ..Chart::default()
    };
    assert!(super::super::yaml::parse(&read_chart(text, true, chart).yaml).is_err());
    let t = read_chart(text, true, chart.as_default_install());
    let docs = super::super::yaml::parse(&t.yaml).expect("read as a default install");
    let spec = docs[0].root.at(&["spec", "template", "spec"]).unwrap();
    assert!(spec.at(&["serviceAccountName"]).is_some());
    assert!(spec.at(&["identity"]).is_none());
    // A condition on anything but a plain value path is not known: kept.
    assert!(!off_by_default("if eq .Values.mode \"x\"", &values));
    assert!(!off_by_default("if .Values.replicas", &values));
    assert!(off_by_default("with .Values.missing.key", &values));
}

const DEPLOYMENT: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "app.fullname" . }}
  labels:
    {{- include "app.labels" . | nindent 4 }}
spec:
  {{- if not .Values.autoscaling.enabled }}
  replicas: {{ .Values.replicaCount }}
  {{- end }}
  {{- if .Values.recreate }}
  strategy: {type: Recreate}
  {{- else }}
  strategy:
    type: RollingUpdate
  {{- end }}
  template:
    spec:
      containers:
        - name: app
          image: "{{ .Values.image.repository }}:latest"
"#;

#[test]
fn actions_become_blanks_or_placeholders_and_lines_stay() {
    let t = read(DEPLOYMENT);
    assert_eq!(t.yaml.lines().count(), DEPLOYMENT.lines().count());
    let docs = crate::manifest::yaml::parse(&t.yaml).unwrap();
    let root = &docs[0].root;
    assert_eq!(
        root.at(&["metadata", "name"]).and_then(|n| n.as_str()),
        Some(TEMPLATED)
    );
    let image = root
        .at(&["spec", "template", "spec", "containers"])
        .unwrap();
    let crate::manifest::yaml::Value::Seq(items) = &image.value else {
        panic!()
    };
    assert_eq!(
        items[0].get("image").and_then(|n| n.as_str()),
        Some("⟨tpl⟩:latest")
    );
    assert_eq!(items[0].get("image").unwrap().line, 21);
}

#[test]
fn branches_are_tracked_with_else() {
    let t = read(DEPLOYMENT);
    assert_eq!(
        &*t.guard(9),
        &["if not .Values.autoscaling.enabled".to_string()]
    );
    assert_eq!(&*t.guard(12), &["if .Values.recreate".to_string()]);
    assert_eq!(&*t.guard(15), &["if .Values.recreate / else".to_string()]);
    assert!(t.guard(17).is_empty());
}

#[test]
fn the_else_of_a_negated_if_is_opt_in_and_a_plain_else_is_not() {
    let old = "volumes:\n  - name: config\n    configMap:\n      name: app\n";
    let negated = "volumes:\n  - name: config\n    {{- if empty .Values.configFromSecret }}\n    configMap:\n      name: app\n    {{- else }}\n    secret:\n      secretName: {{ .Values.configFromSecret }}\n    {{- end }}\n";
    let opened = opened_lines(Some(old), negated);
    assert!(
        opened[6],
        "the secret is read only where configFromSecret is set: {opened:?}"
    );
    let plain = negated.replace(
        "if empty .Values.configFromSecret",
        "if .Values.useConfigMap",
    );
    assert!(
        !opened_lines(Some(old), &plain)[6],
        "a plain else reaches every other install"
    );
    assert!(
        !is_condition("define \"app.labels\""),
        "a helper is no branch"
    );
}

#[test]
fn a_list_item_an_action_renders_with_keys_after_it_is_a_mapping() {
    let text = "spec:\n  topologySpreadConstraints:\n    {{- range $c := .Values.constraints }}\n  - {{ toYaml $c | nindent 8 | trim }}\n    {{- if not $c.labelSelector }}\n    labelSelector:\n      matchLabels: {app: x}\n    {{- end }}\n    {{- end }}\n  args:\n  - {{ .Values.arg }}\n  - --verbose\n";
    let docs = crate::manifest::yaml::parse(&read(text).yaml).expect("reads as YAML");
    let args = docs[0].root.at(&["spec", "args"]).unwrap();
    let crate::manifest::yaml::Value::Seq(items) = &args.value else {
        panic!("args is a list")
    };
    assert_eq!(
        items[0].as_str(),
        Some(TEMPLATED),
        "an item with no keys after it stays a value"
    );
}

#[test]
fn a_value_written_by_an_action_is_templated_not_empty() {
    let text = "spec:\n  readinessProbe:\n    {{- toYaml .Values.readinessProbe | nindent 4 }}\n  env:\n  {{- include \"env\" . | nindent 2 }}\n  - name: A\n";
    let t = read(text);
    let docs = crate::manifest::yaml::parse(&t.yaml).unwrap();
    let probe = docs[0].root.at(&["spec", "readinessProbe"]).unwrap();
    assert_eq!(probe.as_str(), Some(TEMPLATED));
    assert!(!docs[0].root.at(&["spec", "env"]).unwrap().is_empty());
}

#[test]
fn else_branches_can_be_set_aside() {
    let text = "rules:\n{{- if .Values.psp }}\n  - apiGroups: [extensions]\n{{- else }}\n  []\n{{- end }}\n";
    assert!(crate::manifest::yaml::parse(&read(text).yaml).is_err());
    let first = read_first_branches(text);
    let docs = crate::manifest::yaml::parse(&first.yaml).unwrap();
    assert!(docs[0].root.get("rules").is_some());
}

#[test]
fn comments_spanning_lines_keep_line_numbers() {
    let text = "{{/*\nA comment\n*/}}\nkind: Service\n";
    let t = read(text);
    let docs = crate::manifest::yaml::parse(&t.yaml).unwrap();
    assert_eq!(docs[0].root.get("kind").unwrap().line, 4);
}

#[test]
fn only_a_value_written_whole_from_the_defaults_is_rendered() {
    let values = &crate::manifest::yaml::parse(
        "strategy:\n  type: Recreate\nprobe:\n  path: \"/re\\\"ady\"\nport: 80\n",
    )
    .unwrap()[0]
        .root;
    let render = |action: &str| {
        let text = format!("spec:\n  strategy:\n    {action}\n  other: x\n");
        let t = read_with(&text, false, Some(values));
        (
            t.yaml.lines().nth(1).unwrap().to_string(),
            !t.default_lines.is_empty(),
        )
    };
    let rendered = ("  strategy: {\"type\": \"Recreate\"}".to_string(), true);
    assert_eq!(
        render("{{- toYaml .Values.strategy | nindent 4 }}"),
        rendered
    );
    assert_eq!(
        render("{{- .Values.strategy | toYaml | nindent 4 }}"),
        rendered
    );
    let kept = |action: &str| render(action) == (format!("  strategy: {TEMPLATED}"), false);
    // A helper, a default of its own, a scalar, a key the values do not have: not rendered.
    assert!(kept("{{- include \"strategy\" . | nindent 4 }}"));
    assert!(kept(
        "{{- toYaml (default .Values.x .Values.strategy) | nindent 4 }}"
    ));
    assert!(kept("{{- toYaml .Values.port | nindent 4 }}"));
    assert!(kept("{{- toYaml .Values.missing | nindent 4 }}"));
    // Quotes inside a value survive as YAML.
    let text = "spec:\n  probe:\n    {{- toYaml .Values.probe | nindent 4 }}\n";
    let t = read_with(text, false, Some(values));
    let docs = crate::manifest::yaml::parse(&t.yaml).unwrap();
    let path = docs[0].root.at(&["spec", "probe", "path"]).unwrap();
    assert_eq!(path.as_str(), Some("/re\"ady"));
    assert_eq!(path.line, 2);
}

#[test]
fn a_key_whose_line_ends_with_an_indented_action_holds_the_lines_after_it() {
    // From bitnami-labs/sealed-secrets: the probe's own keys follow what the include writes.
    let text = "containers:\n  - name: app\n    {{- if .Values.probe.enabled }}\n    startupProbe: {{- include \"render\" (dict \"value\" .Values.probe) | nindent 6 }}\n      tcpSocket:\n        port: http\n    {{- end }}\n    resources: {{- toYaml .Values.resources | nindent 6 }}\n    image: app:1.0\n";
    let t = read(text);
    let docs = crate::manifest::yaml::parse(&t.yaml).expect(&t.yaml);
    let app = &docs[0].root.at(&["containers"]).unwrap();
    let Value::Seq(items) = &app.value else {
        panic!("a list")
    };
    let port = items[0].at(&["startupProbe", "tcpSocket", "port"]).unwrap();
    assert_eq!((port.as_str(), port.line), (Some("http"), 6));
    // With nothing of its own after it, the value is chosen at install time.
    assert_eq!(
        items[0].at(&["resources"]).unwrap().as_str(),
        Some(TEMPLATED)
    );
    assert_eq!(items[0].at(&["image"]).unwrap().as_str(), Some("app:1.0"));
}

#[test]
fn the_lines_an_action_writes_a_value_on_are_kept_as_written() {
    let t = read(DEPLOYMENT);
    let lines: Vec<u32> = t.written.iter().map(|(l, _)| *l).collect();
    // The name, the replicas and the image; not the lines of actions alone.
    assert_eq!(lines, vec![4, 9, 21]);
    assert_eq!(t.written[1].1, "  replicas: {{ .Values.replicaCount }}");
}

#[test]
fn a_comment_holding_actions_of_its_own_ends_at_its_close() {
    // cert-manager's templates since 2d15bb5: a comment shows an example with `{{ }}` in it.
    let text = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n{{- /*\nSet it with {{ .Values.example }} in your values.\n*/ -}}\nspec:\n  replicas: {{ .Values.replicaCount }}\n";
    let found = actions(text);
    assert_eq!(found.len(), 2);
    assert!(text[found[0].start..found[0].end].ends_with("*/ -}}"));
    assert!(matches!(found[0].op, Op::Silent));
    let t = read(text);
    let docs = super::super::yaml::parse(&t.yaml).expect("read as YAML");
    assert!(docs[0].root.at(&["spec", "replicas"]).is_some(), "{docs:?}");
    // A plain comment and an unclosed one read as before.
    assert_eq!(actions("{{/* note */}}\na: 1\n").len(), 1);
    assert_eq!(actions("a: {{ /* never closed").len(), 1);
}
