//! Deploy configuration read as documents (issue 19): each test is one "must hold", on a real
//! repository whose last commit makes the change, checked with `forewarn check --commit HEAD`.

mod util;

use util::Repo;

const DEPLOYMENT: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: payments
spec:
  replicas: 6
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxUnavailable: 25%
  template:
    spec:
      containers:
        - name: app
          image: registry.example.com/payments:4.1
          readinessProbe:
            httpGet: {path: /ready, port: 8080}
";

/// A repository whose first commit holds `before` and whose HEAD holds `after` (a file given
/// as `None` is absent). Returns the rule ids of the JSON findings of HEAD.
fn rules_fired(before: &[(&str, Option<&str>)], after: &[(&str, Option<&str>)]) -> Vec<String> {
    findings(before, after)
        .iter()
        .map(|f| f["rule_id"].as_str().unwrap_or("").to_string())
        .collect()
}

/// The JSON findings of HEAD in the repository [`rules_fired`] describes.
fn findings(
    before: &[(&str, Option<&str>)],
    after: &[(&str, Option<&str>)],
) -> Vec<serde_json::Value> {
    let repo = Repo::new();
    for (path, text) in before {
        if let Some(text) = text {
            repo.write(path, text);
        }
    }
    repo.commit("before");
    for (path, text) in after {
        match text {
            Some(text) => {
                repo.write(path, text);
            }
            None => {
                if repo.join(path).exists() {
                    repo.remove(path);
                }
            }
        }
    }
    repo.commit("after");
    let run = repo.check_head();
    assert_eq!(run.code, 0, "{run:?}");
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    doc["findings"].as_array().expect("findings").clone()
}

fn modified(path: &str, old: &str, new: &str) -> Vec<String> {
    rules_fired(&[(path, Some(old))], &[(path, Some(new))])
}

fn fires(found: &[String], rule: &str) -> bool {
    found.iter().any(|r| r == rule)
}

// ---- false alarms of the line rules, by class

#[test]
fn a_workload_moved_to_another_file_keeps_its_probe() {
    let service = "apiVersion: v1\nkind: Service\nmetadata:\n  name: payments\nspec:\n  ports: [{port: 80}]\n";
    let found = rules_fired(
        &[("k8s/all.yaml", Some(&format!("{service}---\n{DEPLOYMENT}")))],
        &[
            ("k8s/all.yaml", Some(service)),
            ("k8s/payments/deployment.yaml", Some(DEPLOYMENT)),
        ],
    );
    assert!(!fires(&found, "k8s-readiness-probe-removed"), "{found:?}");
}

#[test]
fn a_deleted_app_does_not_remove_a_probe_or_a_lifecycle_guard() {
    let found = rules_fired(
        &[("k8s/payments/deployment.yaml", Some(DEPLOYMENT))],
        &[("k8s/payments/deployment.yaml", None)],
    );
    assert!(!fires(&found, "k8s-readiness-probe-removed"), "{found:?}");
    let db = "resource \"aws_db_instance\" \"payments\" {\n  engine = \"postgres\"\n  lifecycle {\n    prevent_destroy = true\n  }\n}\n";
    let found = rules_fired(
        &[("infra/db/main.tf", Some(db))],
        &[("infra/db/main.tf", None)],
    );
    assert!(
        !fires(&found, "terraform-prevent-destroy-removed"),
        "{found:?}"
    );
}

#[test]
fn crd_schemas_are_not_workloads() {
    let crd = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: apps.example.com\nspec:\n  versions:\n    - name: v1\n      schema:\n        openAPIV3Schema:\n          properties:\n            readinessProbe: {type: object}\n            strategy:\n              properties:\n                type: {type: string}\n";
    let trimmed = crd.replace("            readinessProbe: {type: object}\n", "");
    let found = modified("crds/apps.yaml", crd, &trimmed);
    assert!(!fires(&found, "k8s-readiness-probe-removed"), "{found:?}");
}

#[test]
fn recreate_inside_a_configmap_text_is_not_a_strategy() {
    let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: notes\ndata:\n  deploy.yaml: |\n    strategy:\n      type: RollingUpdate\n";
    let found = modified(
        "k8s/notes.yaml",
        cm,
        &cm.replace("RollingUpdate", "Recreate"),
    );
    assert!(!fires(&found, "k8s-recreate-strategy"), "{found:?}");
}

#[test]
fn a_secret_defined_in_the_same_file_answers_its_reference() {
    let with_ref = DEPLOYMENT.replace(
        "          readinessProbe:",
        "          env:\n            - name: KEY\n              valueFrom:\n                secretKeyRef: {name: gateway, key: api-key}\n          readinessProbe:",
    );
    let with_secret = format!(
        "{with_ref}---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: gateway\nstringData:\n  api-key: x\n"
    );
    let found = modified("k8s/payments/app.yaml", DEPLOYMENT, &with_secret);
    assert!(!fires(&found, "k8s-new-secret-reference"), "{found:?}");
    // Without the Secret, and in flow style, it is found.
    let found = modified("k8s/payments/app.yaml", DEPLOYMENT, &with_ref);
    assert!(fires(&found, "k8s-new-secret-reference"), "{found:?}");
}

#[test]
fn a_new_helm_branch_is_opt_in() {
    let old = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ include \"app.fullname\" . }}\nspec:\n  strategy:\n    type: RollingUpdate\n";
    let new = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ include \"app.fullname\" . }}\nspec:\n  {{- if .Values.singleWriter }}\n  strategy:\n    type: Recreate\n  {{- else }}\n  strategy:\n    type: RollingUpdate\n  {{- end }}\n";
    let found = modified("charts/app/templates/deployment.yaml", old, new);
    assert!(!fires(&found, "k8s-recreate-strategy"), "{found:?}");
    // The same value outside any branch reaches every install.
    let found = modified(
        "charts/app/templates/deployment.yaml",
        old,
        &old.replace("RollingUpdate", "Recreate"),
    );
    assert!(fires(&found, "k8s-recreate-strategy"), "{found:?}");
}

#[test]
fn a_hook_annotation_on_a_service_account_or_in_a_comment_is_not_a_hook() {
    let sa = "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: migrate\n  annotations:\n    \"helm.sh/hook\": pre-upgrade\n";
    let comment = "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: migrate\n  # \"helm.sh/hook\": pre-upgrade\n";
    let found = rules_fired(
        &[],
        &[
            ("charts/app/templates/sa.yaml", Some(sa)),
            ("charts/app/templates/job.yaml", Some(comment)),
        ],
    );
    assert!(!fires(&found, "helm-pre-upgrade-hook"), "{found:?}");
}

#[test]
fn a_variable_default_on_an_unchanged_line_counts() {
    let old = "variable \"region\" {\n  default = \"eu-west-1\"\n}\n";
    // Renamed: only the `variable` line changes; its default stays on an unchanged line.
    let new = "variable \"aws_region\" {\n  default = \"eu-west-1\"\n}\n";
    let found = modified("infra/live/variables.tf", old, new);
    assert!(
        !fires(&found, "terraform-variable-without-default"),
        "{found:?}"
    );
    // A root module (it configures its backend) gains a required variable.
    let backend = "terraform {\n  backend \"s3\" {}\n}\n";
    let required = format!("{old}\nvariable \"token\" {{\n  type = string\n}}\n");
    let found = rules_fired(
        &[
            ("infra/live/variables.tf", Some(old)),
            ("infra/live/main.tf", Some(backend)),
        ],
        &[("infra/live/variables.tf", Some(&required))],
    );
    assert!(
        fires(&found, "terraform-variable-without-default"),
        "{found:?}"
    );
    // A reusable module (no backend, no configured provider): its callers set its inputs.
    let found = modified("modules-repo/variables.tf", old, &required);
    assert!(
        !fires(&found, "terraform-variable-without-default"),
        "{found:?}"
    );
}

#[test]
fn a_deploy_command_into_a_cluster_the_workflow_creates_is_not_a_deploy() {
    let kind = "name: test\non: pull_request\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: helm/kind-action@v1\n      - run: ct install\n";
    let applied = kind.replace(
        "      - run: ct install\n",
        "      - run: kubectl apply -f crds/\n      - run: ct install\n",
    );
    let found = modified(".github/workflows/lint-test.yaml", kind, &applied);
    assert!(!fires(&found, "ci-deploy-step-changed"), "{found:?}");
    // The same step in a workflow that also deploys to production is still asked about.
    let prod =
        format!("{kind}  ship:\n    environment: production\n    steps:\n      - run: echo\n");
    let prod_applied =
        format!("{applied}  ship:\n    environment: production\n    steps:\n      - run: echo\n");
    let found = modified(".github/workflows/lint-test.yaml", &prod, &prod_applied);
    assert!(fires(&found, "ci-deploy-step-changed"), "{found:?}");
}

#[test]
fn path_mistakes_are_fixed() {
    let recreate = DEPLOYMENT.replace("type: RollingUpdate", "type: Recreate");
    let found = modified(
        "charts/app/.fixtures/deployment.yaml",
        DEPLOYMENT,
        &recreate,
    );
    assert!(!fires(&found, "k8s-recreate-strategy"), "{found:?}");
    let workflow = "on:\n  workflow_dispatch:\n";
    let scheduled = "on:\n  workflow_dispatch:\n  schedule:\n    - cron: '30 5 * * 1'\n";
    let found = modified(".github/workflows/stale.yml", workflow, scheduled);
    assert!(!fires(&found, "cron-schedule-changed"), "{found:?}");
    let plan = "# Upgrading\n\n```\n-/+ resource \"aws_eks_cluster\" \"this\" {\n```\n";
    let found = rules_fired(&[], &[("docs/UPGRADE-20.0.md", Some(plan))]);
    assert!(
        !fires(&found, "terraform-plan-destroys-resource"),
        "{found:?}"
    );
    let ci = "jobs:\n  test:\n    steps:\n      - run: echo\n";
    let kind = "jobs:\n  test:\n    steps:\n      - uses: helm/kind-action@v1\n      - run: helm install app ./charts/app --wait\n";
    let found = modified(".github/workflows/test.yml", ci, kind);
    assert!(!fires(&found, "ci-deploy-step-changed"), "{found:?}");
}

// ---- misses of the line rules, by class

#[test]
fn flow_style_emptied_probes_volumes_and_templated_latest_are_found() {
    let flow = DEPLOYMENT.replace(
        "  strategy:\n    type: RollingUpdate\n    rollingUpdate:\n      maxUnavailable: 25%\n",
        "  strategy: {type: Recreate}\n",
    );
    assert!(fires(
        &modified("k8s/d.yaml", DEPLOYMENT, &flow),
        "k8s-recreate-strategy"
    ));
    for empty in ["{}", "~", "null"] {
        let emptied = DEPLOYMENT.replace(
            "          readinessProbe:\n            httpGet: {path: /ready, port: 8080}\n",
            &format!("          readinessProbe: {empty}\n"),
        );
        let found = modified("k8s/d.yaml", DEPLOYMENT, &emptied);
        assert!(
            fires(&found, "k8s-readiness-probe-removed"),
            "{empty}: {found:?}"
        );
    }
    let volume = DEPLOYMENT.replace(
        "      containers:\n",
        "      volumes:\n        - {name: tls, secret: {secretName: payments-tls}}\n      containers:\n",
    );
    assert!(fires(
        &modified("k8s/d.yaml", DEPLOYMENT, &volume),
        "k8s-new-secret-reference"
    ));
    let tpl = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\nspec:\n  template:\n    spec:\n      containers:\n        - name: app\n          image: \"{{ .Values.image.repository }}:{{ .Values.image.tag }}\"\n";
    let found = modified(
        "charts/app/templates/deployment.yaml",
        tpl,
        &tpl.replace(":{{ .Values.image.tag }}", ":latest"),
    );
    assert!(fires(&found, "k8s-image-latest-or-untagged"), "{found:?}");
}

#[test]
fn numbers_are_compared_before_and_after() {
    let d =
        |from: &str, to: &str| modified("k8s/d.yaml", DEPLOYMENT, &DEPLOYMENT.replace(from, to));
    assert!(fires(
        &d("replicas: 6", "replicas: 1"),
        "k8s-replicas-lowered-to-one"
    ));
    assert!(fires(
        &d("replicas: 6", "replicas: 0"),
        "k8s-replicas-lowered-to-one"
    ));
    assert!(!fires(
        &d("replicas: 6", "replicas: 3"),
        "k8s-replicas-lowered-to-one"
    ));
    assert!(fires(
        &d("maxUnavailable: 25%", "maxUnavailable: 50%"),
        "k8s-max-unavailable-raised"
    ));
    assert!(!fires(
        &d("maxUnavailable: 25%", "maxUnavailable: 10%"),
        "k8s-max-unavailable-raised"
    ));
    assert!(fires(
        &d(
            "maxUnavailable: 25%",
            "maxUnavailable: 1\n      maxSurge: 0"
        ),
        "k8s-max-surge-zero"
    ));
    let pdb = "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata:\n  name: payments\nspec:\n  minAvailable: 4\n";
    assert!(fires(
        &modified("k8s/pdb.yaml", pdb, &pdb.replace("4", "1")),
        "k8s-pdb-loosened"
    ));
    let both = format!("{DEPLOYMENT}---\n{pdb}");
    assert!(fires(
        &modified("k8s/app.yaml", &both, DEPLOYMENT),
        "k8s-pdb-removed"
    ));
}

#[test]
fn terraform_destroys_and_replacements_are_found() {
    let db = "resource \"aws_db_instance\" \"payments\" {\n  identifier = \"payments\"\n}\n\nresource \"aws_db_parameter_group\" \"pg\" {\n  family = \"postgres15\"\n}\n";
    let renamed = db.replace(
        "\"aws_db_instance\" \"payments\"",
        "\"aws_db_instance\" \"main\"",
    );
    assert!(fires(
        &modified("infra/main.tf", db, &renamed),
        "terraform-resource-destroyed"
    ));
    let with_moved = format!(
        "{renamed}\nmoved {{\n  from = aws_db_instance.payments\n  to   = aws_db_instance.main\n}}\n"
    );
    assert!(!fires(
        &modified("infra/main.tf", db, &with_moved),
        "terraform-resource-destroyed"
    ));
    let deleted = "resource \"aws_db_parameter_group\" \"pg\" {\n  family = \"postgres15\"\n}\n";
    assert!(fires(
        &modified("infra/main.tf", db, deleted),
        "terraform-resource-destroyed"
    ));
    let replaced = db.replace("identifier = \"payments\"", "identifier = \"payments-v2\"");
    assert!(fires(
        &modified("infra/main.tf", db, &replaced),
        "terraform-resource-replaced"
    ));
}

#[test]
fn a_chart_s_own_names_are_the_same_knobs() {
    let values = "replicaCount: 3\nreadiness_probe:\n  httpGet: {path: /ready, port: http}\n";
    let found = modified("charts/app/values.yaml", values, "replicaCount: 1\n");
    assert!(fires(&found, "k8s-readiness-probe-removed"), "{found:?}");
    assert!(fires(&found, "k8s-replicas-lowered-to-one"), "{found:?}");
}

// ---- never silent

#[test]
fn a_file_that_does_not_parse_is_read_as_lines_with_a_note() {
    // Plain YAML that is not valid as written: whatever applies it fails, which is the finding
    // (the read-as-lines note would say less).
    let broken = "apiVersion: apps/v1\nkind: Deployment\nspec:\n  strategy:\n    type: Recreate\n  bad: [unclosed\n";
    let found = rules_fired(&[], &[("k8s/broken.yaml", Some(broken))]);
    assert!(fires(&found, "deploy-config-invalid-yaml"), "{found:?}");
    assert!(!fires(&found, "deploy-config-read-as-lines"), "{found:?}");
    // The line rule still runs.
    assert!(fires(&found, "k8s-recreate-strategy"), "{found:?}");
    // A template is not YAML until it is rendered: the note says it was read as lines.
    let template = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\nspec:\n  strategy:\n    type: Recreate\n  hosts: [{{ range .Values.hosts }}{{ . }},{{ end }}\n";
    let found = rules_fired(&[], &[("charts/app/templates/deploy.yaml", Some(template))]);
    assert!(fires(&found, "deploy-config-read-as-lines"), "{found:?}");
    assert!(!fires(&found, "deploy-config-invalid-yaml"), "{found:?}");
}

#[test]
fn a_finding_says_where_its_value_came_from() {
    let lowered = DEPLOYMENT.replace("replicas: 6", "replicas: 1");
    let found = findings(
        &[("k8s/d.yaml", Some(DEPLOYMENT))],
        &[("k8s/d.yaml", Some(&lowered))],
    );
    let f = found
        .iter()
        .find(|f| f["rule_id"] == "k8s-replicas-lowered-to-one")
        .expect("finding");
    assert_eq!(f["line"], 6);
    let message = f["message"].as_str().unwrap();
    assert!(message.contains("`spec.replicas` was `6`"), "{message}");
}

/// What `validate` says of a team rule whose `[rule.match.document]` (line 10 of its file) holds
/// `document`, asserting it refused the rule (exit 2).
fn document_rule_refused(document: &str) -> String {
    let repo = Repo::new();
    repo.write(
        ".forewarn/rules/team.toml",
        format!("[[rule]]\nid = \"team-x\"\ntitle = \"t\"\nseverity = \"warning\"\ncategory = \"rollout\"\nmessage = \"m\"\nask = \"?\"\n[rule.match]\npaths = [\"**/*.yaml\"]\n[rule.match.document]\n{document}"),
    );
    let run = repo.forewarn(&["validate"]);
    assert_eq!(run.code, 2, "{run:?}");
    format!("{}{}", run.stdout, run.stderr)
}

#[test]
fn a_bad_document_rule_is_an_error_at_its_line() {
    let text =
        document_rule_refused("path = \"spec..replicas\"\nbecomes = [\"1\"]\nremoved = true\n");
    assert!(text.contains("team.toml:11"), "{text}");
    assert!(text.contains("invalid key path"), "{text}");
    assert!(text.contains("one comparison"), "{text}");
}

#[test]
fn an_unless_defined_entry_that_does_not_read_is_an_error() {
    let text = document_rule_refused(
        "kinds = [\"Pod\"]\npath = \"**.secretKeyRef.name\"\nadded = true\nunless_defined = [\"Secret\", \"Cluster={cluster}-app\"]\n",
    );
    assert!(text.contains("team.toml:10"), "{text}");
    assert!(text.contains("`Cluster={cluster}-app`"), "{text}");
    assert!(text.contains("{name}"), "{text}");
}

#[test]
fn a_secret_an_operator_writes_for_an_object_of_the_change_is_not_new() {
    let cluster = "apiVersion: postgresql.cnpg.io/v1\nkind: Cluster\nmetadata:\n  name: orders-db\nspec:\n  instances: 3\n";
    let client = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: psql\nspec:\n  containers:\n    - name: psql\n      image: postgres:16.4\n      env:\n        - name: PGPASSWORD\n          valueFrom:\n            secretKeyRef:\n              name: orders-db-app\n              key: password\n";
    let both = rules_fired(
        &[],
        &[
            ("db/cluster.yaml", Some(cluster)),
            ("db/client.yaml", Some(client)),
        ],
    );
    assert!(
        !both.iter().any(|r| r == "k8s-new-secret-reference"),
        "{both:?}"
    );
    // Without the Cluster, nothing in the change writes `orders-db-app`.
    let alone = rules_fired(&[], &[("db/client.yaml", Some(client))]);
    assert!(
        alone.iter().any(|r| r == "k8s-new-secret-reference"),
        "{alone:?}"
    );
}

#[test]
fn a_helper_template_opened_branch_is_opt_in_and_an_unguarded_line_is_not() {
    let old = "{{- define \"app.env\" -}}\n- name: MODE\n  value: prod\n{{- end }}\n";
    // A `range` over an opt-in list the change opened: it reaches only installs that fill it.
    let in_range = "{{- define \"app.env\" -}}\n- name: MODE\n  value: prod\n{{- range .Values.extraSecrets }}\n- name: {{ .name }}\n  valueFrom:\n    secretKeyRef:\n      name: {{ .secret }}\n      key: {{ .key }}\n{{- end }}\n{{- end }}\n";
    let found = modified("charts/app/templates/_helpers.tpl", old, in_range);
    assert!(!fires(&found, "k8s-new-secret-reference"), "{found:?}");
    // The same reference in the helper itself reaches every install.
    let unguarded = "{{- define \"app.env\" -}}\n- name: MODE\n  value: prod\n- name: TOKEN\n  valueFrom:\n    secretKeyRef:\n      name: app-token\n      key: token\n{{- end }}\n";
    let found = modified("charts/app/templates/_helpers.tpl", old, unguarded);
    assert!(fires(&found, "k8s-new-secret-reference"), "{found:?}");
}

#[test]
fn a_required_value_inside_a_branch_the_change_opened_is_opt_in() {
    let old = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  mode: prod\n";
    let opened = format!(
        "{old}  {{{{- range .Values.extraUsers }}}}\n  {{{{ .name }}}}: {{{{ required \"a password for each extra user\" .password }}}}\n  {{{{- end }}}}\n"
    );
    let found = modified("charts/app/templates/configmap.yaml", old, &opened);
    assert!(!fires(&found, "helm-required-value-added"), "{found:?}");
    let everyone =
        format!("{old}  token: {{{{ required \"a token for every install\" .Values.token }}}}\n");
    let found = modified("charts/app/templates/configmap.yaml", old, &everyone);
    assert!(fires(&found, "helm-required-value-added"), "{found:?}");
}

#[test]
fn a_charts_own_names_for_keys_are_read_as_the_rules_names() {
    let old = "server:\n  replicas: 2\n  healthCheck:\n    httpGet: {path: /ready, port: 8080}\n";
    let new = "server:\n  replicas: 2\n";
    let path = "charts/app/values.yaml";
    let found = rules_fired(&[(path, Some(old))], &[(path, Some(new))]);
    assert!(!fires(&found, "k8s-readiness-probe-removed"), "{found:?}");
    let named = "[names]\nreadinessProbe = [\"healthCheck\"]\n";
    let found = rules_fired(
        &[("forewarn.toml", Some(named)), (path, Some(old))],
        &[(path, Some(new))],
    );
    assert!(fires(&found, "k8s-readiness-probe-removed"), "{found:?}");
}

#[test]
fn a_name_no_key_path_can_hold_is_refused_at_its_line() {
    let repo = Repo::new();
    repo.write(
        "forewarn.toml",
        "[names]\nreadinessProbe = [\"healthCheck\", 'health\"check']\n",
    );
    let run = repo.forewarn(&["validate"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains("not a key name") && run.stderr.contains("forewarn.toml:2"),
        "{run:?}"
    );
}

#[test]
fn a_template_is_read_with_the_chart_s_default_values_where_it_writes_them_whole() {
    const OLD: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include \"app.fullname\" . }}
spec:
  strategy:
    {{- toYaml .Values.updateStrategy | nindent 4 }}
  template:
    spec:
      containers:
        - name: app
          image: registry.example.com/app:1.0
";
    let new = OLD.replace(
        "    {{- toYaml .Values.updateStrategy | nindent 4 }}",
        "    type: Recreate",
    );
    let chart = "apiVersion: v2\nname: app\nversion: 1.0.0\n";
    let with_default = |strategy: &str| {
        let values = format!("updateStrategy:\n  type: {strategy}\n");
        findings(
            &[
                ("charts/app/Chart.yaml", Some(chart)),
                ("charts/app/values.yaml", Some(&values)),
                ("charts/app/templates/deployment.yaml", Some(OLD)),
            ],
            &[("charts/app/templates/deployment.yaml", Some(&new))],
        )
        .iter()
        .filter(|f| f["rule_id"] == "k8s-recreate-strategy")
        .map(|f| f["message"].as_str().unwrap_or("").to_string())
        .collect::<Vec<_>>()
    };
    // A default install already rolled out with Recreate: writing it in the template changes
    // nothing for it.
    assert!(with_default("Recreate").is_empty());
    // It rolled out with RollingUpdate: every default install now stops all pods first.
    let found = with_default("RollingUpdate");
    assert_eq!(found.len(), 1, "{found:?}");
    // Without a values file the strategy was chosen at install time: still said.
    assert!(fires(
        &rules_fired(
            &[("charts/app/templates/deployment.yaml", Some(OLD))],
            &[("charts/app/templates/deployment.yaml", Some(&new))]
        ),
        "k8s-recreate-strategy"
    ));
}

#[test]
fn a_finding_read_with_the_chart_s_defaults_says_so_and_is_told_once() {
    const TEMPLATE: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
spec:
  strategy:
    {{- toYaml .Values.strategy | nindent 4 }}
";
    let literal = TEMPLATE.replace(
        "    {{- toYaml .Values.strategy | nindent 4 }}",
        "    type: RollingUpdate",
    );
    let recreate_findings = |before: &[(&str, &str)], after: &[(&str, &str)]| {
        let chart = (
            "charts/app/Chart.yaml",
            Some("apiVersion: v2\nname: app\nversion: 1.0.0\n"),
        );
        let before: Vec<(&str, Option<&str>)> = std::iter::once(chart)
            .chain(before.iter().map(|(p, t)| (*p, Some(*t))))
            .collect();
        let after: Vec<(&str, Option<&str>)> = after.iter().map(|(p, t)| (*p, Some(*t))).collect();
        findings(&before, &after)
            .iter()
            .filter(|f| f["rule_id"] == "k8s-recreate-strategy")
            .map(|f| {
                (
                    f["path"].as_str().unwrap_or("").to_string(),
                    f["message"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect::<Vec<_>>()
    };
    const VALUES: &str = "charts/app/values.yaml";
    const DEPLOYMENT: &str = "charts/app/templates/deployment.yaml";
    // The template now takes the strategy from a default that is Recreate: said at the
    // template, and said to come from the chart's defaults.
    let found = recreate_findings(
        &[
            (VALUES, "strategy:\n  type: Recreate\n"),
            (DEPLOYMENT, &literal),
        ],
        &[(DEPLOYMENT, TEMPLATE)],
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].0, DEPLOYMENT);
    assert!(
        found[0]
            .1
            .contains("with the chart's default values (values.yaml)"),
        "{}",
        found[0].1
    );
    // The default itself changed: said once, in values.yaml, not again in each template that
    // writes it.
    let found = recreate_findings(
        &[
            (VALUES, "strategy:\n  type: RollingUpdate\n"),
            (DEPLOYMENT, TEMPLATE),
        ],
        &[
            (VALUES, "strategy:\n  type: Recreate\n"),
            (DEPLOYMENT, &format!("{TEMPLATE}  minReadySeconds: 5\n")),
        ],
    );
    let paths: Vec<&str> = found.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(paths, [VALUES], "{found:?}");
}

#[test]
fn a_templates_folder_of_another_language_is_not_helm() {
    // Timoni and other tools keep CUE or Jsonnet under `templates/`: the Helm globs name Helm's
    // own files (YAML and `.tpl`), not every file of such a folder.
    let cue = "package templates\n\n#Deployment: {\n\timage: _config.image.reference\n}\n";
    let found = rules_fired(
        &[(
            "timoni/app/templates/deployment.cue",
            Some("package templates\n"),
        )],
        &[("timoni/app/templates/deployment.cue", Some(cue))],
    );
    assert!(!fires(&found, "k8s-image-latest-or-untagged"), "{found:?}");
    let helper = "{{- define \"app.image\" -}}\nimage: registry.example.com/app\n{{- end }}\n";
    let found = rules_fired(
        &[(
            "charts/app/templates/_helpers.tpl",
            Some("{{/* helpers */}}\n"),
        )],
        &[("charts/app/templates/_helpers.tpl", Some(helper))],
    );
    assert!(fires(&found, "k8s-image-latest-or-untagged"), "{found:?}");
}

#[test]
fn files_in_a_chart_s_folder_that_the_chart_does_not_install_are_not_workloads() {
    // Rendered examples kept beside a chart (`exports/`), CI inputs and the like: Helm installs
    // only the chart's templates (and CRDs), so nothing deploys these objects.
    let lowered = DEPLOYMENT.replace("replicas: 6", "replicas: 1");
    let found = rules_fired(
        &[
            (
                "charts/app/Chart.yaml",
                Some("apiVersion: v2\nname: app\nversion: 1.0.0\n"),
            ),
            ("charts/app/exports/small/deployment.yaml", Some(DEPLOYMENT)),
        ],
        &[("charts/app/exports/small/deployment.yaml", Some(&lowered))],
    );
    assert!(!fires(&found, "k8s-replicas-lowered-to-one"), "{found:?}");
    // The same manifests with no chart around them are deployed as they are.
    let found = rules_fired(
        &[("deploy/small/deployment.yaml", Some(DEPLOYMENT))],
        &[("deploy/small/deployment.yaml", Some(&lowered))],
    );
    assert!(fires(&found, "k8s-replicas-lowered-to-one"), "{found:?}");
    // A chart's values still count: they are what the chart installs with.
    let found = rules_fired(
        &[
            (
                "charts/app/Chart.yaml",
                Some("apiVersion: v2\nname: app\nversion: 1.0.0\n"),
            ),
            ("charts/app/values.yaml", Some("replicaCount: 3\n")),
        ],
        &[("charts/app/values.yaml", Some("replicaCount: 1\n"))],
    );
    assert!(fires(&found, "k8s-replicas-lowered-to-one"), "{found:?}");
}

#[test]
fn a_values_file_with_template_text_is_read_as_plain_yaml() {
    // Helm never renders values.yaml: `{{ ... }}` there is a string (for `tpl`) or a comment.
    // (From grafana/helm-charts' values.yaml: a comment's `"{{"` read as an action that ran on
    // to a later line's `}}`, and the file no longer read as YAML.)
    let before = "readinessProbe:\n  httpGet: {path: /ready, port: 8080}\nenvFromSecret: \"\"\n## If the secret values contains \"{{\", they'll need to be properly escaped\nalerting: {}\n  #       name: '{{ .Chart.Name }}_my_rule_group'\n";
    let after = before.replace(
        "readinessProbe:\n  httpGet: {path: /ready, port: 8080}\n",
        "",
    );
    let found = rules_fired(
        &[
            (
                "charts/app/Chart.yaml",
                Some("apiVersion: v2\nname: app\nversion: 1.0.0\n"),
            ),
            ("charts/app/values.yaml", Some(before)),
        ],
        &[("charts/app/values.yaml", Some(&after))],
    );
    assert!(fires(&found, "k8s-readiness-probe-removed"), "{found:?}");
    assert!(!fires(&found, "deploy-config-read-as-lines"), "{found:?}");
    // Deleted with its whole chart: no probe of a running workload is removed.
    let found = rules_fired(
        &[
            (
                "charts/app/Chart.yaml",
                Some("apiVersion: v2\nname: app\nversion: 1.0.0\n"),
            ),
            ("charts/app/values.yaml", Some(before)),
        ],
        &[
            ("charts/app/Chart.yaml", None),
            ("charts/app/values.yaml", None),
        ],
    );
    assert!(!fires(&found, "k8s-readiness-probe-removed"), "{found:?}");
}

#[test]
fn a_chart_moved_to_another_folder_reads_its_old_helpers_from_the_old_folder() {
    // kubernetes/dashboard 92a8491: the chart folder renamed, the template unchanged. Its
    // selector comes from a helper; the old side's helper is in the old folder.
    let chart = "apiVersion: v2\nname: web\nversion: 1.0.0\n";
    let helpers = "{{- define \"web.matchLabels\" -}}\napp.kubernetes.io/name: web\napp.kubernetes.io/instance: {{ .Release.Name }}\n{{- end }}\n";
    let template = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  selector:\n    matchLabels:\n      {{- include \"web.matchLabels\" . | nindent 6 }}\n  template:\n    metadata:\n      labels:\n        {{- include \"web.matchLabels\" . | nindent 8 }}\n    spec:\n      containers:\n        - name: web\n          image: registry.example.com/web:1.2.3\n";
    let at = |root: &str| {
        [
            (format!("{root}/Chart.yaml"), chart),
            (format!("{root}/templates/_helpers.tpl"), helpers),
            (format!("{root}/templates/deployment.yaml"), template),
        ]
    };
    let (old, new) = (at("charts/web"), at("charts/helm-chart/web"));
    let before: Vec<(&str, Option<&str>)> =
        old.iter().map(|(p, t)| (p.as_str(), Some(*t))).collect();
    let mut after: Vec<(&str, Option<&str>)> =
        old.iter().map(|(p, _)| (p.as_str(), None)).collect();
    after.extend(new.iter().map(|(p, t)| (p.as_str(), Some(*t))));
    let found = rules_fired(&before, &after);
    assert!(!fires(&found, "k8s-immutable-field-changed"), "{found:?}");
    // The same move with the selector's helper really changed still fires.
    let changed = helpers.replace(
        "app.kubernetes.io/name: web",
        "app.kubernetes.io/name: web-ui",
    );
    let mut after: Vec<(&str, Option<&str>)> =
        old.iter().map(|(p, _)| (p.as_str(), None)).collect();
    let new_changed = [
        (new[0].0.as_str(), Some(chart)),
        (new[1].0.as_str(), Some(changed.as_str())),
        (new[2].0.as_str(), Some(template)),
    ];
    after.extend(new_changed);
    let found = rules_fired(&before, &after);
    assert!(fires(&found, "k8s-immutable-field-changed"), "{found:?}");
}
