//! Deploy configuration read as documents, not lines.
//!
//! Kubernetes manifests and Helm charts (YAML, every document of a file, flow or block style)
//! and Terraform (HCL) are parsed on both sides of a change into [`Object`]s: a workload by
//! kind, namespace and name; a Terraform block by address. [`compare`] pairs the objects of the
//! two sides across the files of one change (a workload moved to another file is the same
//! workload; a resource renamed with a `moved` block is the same resource), so rules compare a
//! value before and after instead of reading which lines were added.
//!
//! A file that cannot be read this way says why ([`SideReading::Failed`]), and the engine
//! falls back to line rules for it with a note: never silent.

pub mod compare;
pub mod defaults;
mod hcl;
pub mod helm;
pub mod helpers;
pub mod jinja;
mod k8s;
pub(crate) use k8s::is_values_file;
pub mod path;
pub mod replacement;
pub mod yaml;

use std::collections::BTreeSet;

pub use helm::{Guard, TEMPLATED};
pub use yaml::{Node, Value};

/// Most template variables whose combinations [`Analysis::read_touched_variant`] tries.
const MAX_TEMPLATE_VARIABLES: usize = 6;

/// One side of a changed file, as `understand` hands it over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side<'a> {
    Absent,
    Text(&'a str),
    /// The side exists but could not be read: why.
    Unread(&'a str),
}

/// How a side of a file was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Yaml,
    /// YAML with Helm template actions blanked (see [`helm`]).
    HelmTemplate,
    /// A Helm template that is YAML only with the branches its default values leave off set
    /// aside (see [`helm::Chart::default_install`]): what those branches hold was not read.
    HelmDefaultInstall,
    Hcl,
    /// Terraform in a generator's Jinja template, read as one variant (see [`jinja`]).
    JinjaHcl,
}

impl Format {
    /// Whether the side is Terraform (plain or from a template).
    pub fn is_hcl(self) -> bool {
        matches!(self, Format::Hcl | Format::JinjaHcl)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Yaml => "YAML",
            Format::HelmTemplate => "a Helm template read as YAML",
            Format::HelmDefaultInstall => {
                "a Helm template read as an install with its default values renders it (the branches those values leave off were not read)"
            }
            Format::Hcl => "HCL",
            Format::JinjaHcl => {
                "HCL in a Jinja template, in the variant that renders the lines the change touches (the other branches were not read)"
            }
        }
    }
}

/// One object of deploy configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Object {
    /// `Deployment`, `PodDisruptionBudget`, `HelmValues`; for Terraform the resource type
    /// (`aws_db_instance`), `data.<type>`, `module`, `variable` or `output`.
    pub kind: String,
    /// As a reader names it: `web`, `aws_db_instance.main`.
    pub name: String,
    /// Identity across the files of a change (see [`compare`]).
    pub key: String,
    pub line: u32,
    /// The Helm branches the object sits in.
    pub guard: Guard,
    pub body: Node,
    /// Whether the key holds a templated part: such an object is only matched in its own file.
    pub templated_key: bool,
    /// Which keys `body` holds at any depth, worked out when first asked.
    pub keys: path::KeySummary,
}

impl Object {
    /// Whether key path `p` can reach anything in this object: a path naming a key the object
    /// holds nowhere reaches nothing, and is not walked.
    pub fn may_hold(&self, p: &path::KeyPath) -> bool {
        p.may_reach(self.keys.of(&self.body))
    }
}

/// A Terraform `moved` block (or `removed` with `destroy = false`: `to` is `None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moved {
    pub from: String,
    pub to: Option<String>,
}

/// One side of a file, read as documents.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    pub format: Format,
    pub objects: Vec<Object>,
    /// Terraform: `moved` and non-destroying `removed` blocks, as object keys.
    pub moved: Vec<Moved>,
    /// Helm: every branch condition the file has, to tell a branch the change opened.
    pub conditions: BTreeSet<String>,
    /// Helm: the branches around each line (index 0 is line 1); empty for other files.
    pub line_guards: Vec<Guard>,
    /// Helm: read with `else` branches set aside (see [`helm::read_first_branches`]).
    pub first_branches: bool,
    /// Helm: the lines whose value was written from the chart's default values (see
    /// [`helm::read_with`]).
    pub default_lines: Vec<u32>,
    /// Helm: the actions that render a block from elsewhere (`include "app.readinessProbe"`,
    /// `toYaml .Values.probe`), by 1-based line, their text compared as keys compare (no case,
    /// `_` or `-`).
    pub renders: Vec<(u32, String)>,
    /// Helm: the lines where an action writes a value, by 1-based line, as written (see
    /// [`helm::Template::written`]).
    pub written: Vec<(u32, String)>,
    /// Terraform: the file's `locals`, by name, each value as an attribute reads (a literal's
    /// value, any other expression as `${...}`).
    pub locals: Vec<(String, String)>,
    /// What a template's reading left out, by first and last 1-based line, with what it is: a
    /// Jinja template's branches and values (see [`jinja::Rendered::unread`]), a Helm
    /// template's lines set aside (see [`helm::Template::set_aside`]).
    pub unread: Vec<(u32, u32, String)>,
}

impl Parsed {
    /// Whether 1-based `line` sits in a branch that `old` (the other side of the file) does not
    /// have: an opt-in the change opened, reaching only the installs that turn it on.
    pub fn opens_branch(&self, line: u32, old: Option<&Parsed>) -> bool {
        let Some(guard) = self.line_guards.get((line as usize).saturating_sub(1)) else {
            return false;
        };
        // A plain `else` the change added is what every install gets that did not opt in: not
        // opt-in. An `else if` has a condition of its own, like an `if`.
        guard
            .iter()
            .any(|c| helm::is_condition(c) && !old.is_some_and(|o| o.conditions.contains(c)))
    }
}

/// What reading one side gave.
#[derive(Debug, Clone, PartialEq)]
pub enum SideReading {
    /// The file does not exist on this side.
    Absent,
    Parsed(Parsed),
    /// The text did not parse: why, and the line.
    Failed {
        line: Option<u32>,
        reason: String,
        /// Read as written: no template actions in it (Helm, Jinja, ERB), so what does not
        /// parse here does not parse for `kubectl apply` either.
        as_written: bool,
    },
    /// The text could not be read (binary, size limit): why.
    Unread(String),
    /// Read from a template, but the change is in a part the reading left out (see
    /// [`Analysis::read_touched_variant`]): the 1-based line, and what was left out.
    LeftOut {
        line: u32,
        reason: String,
    },
}

impl SideReading {
    pub fn parsed(&self) -> Option<&Parsed> {
        match self {
            SideReading::Parsed(p) => Some(p),
            _ => None,
        }
    }
}

/// Both sides of one changed file.
#[derive(Debug, Clone, PartialEq)]
pub struct Analysis {
    pub old: SideReading,
    pub new: SideReading,
}

impl Analysis {
    /// Why the file is read as lines instead of documents, if it is: a side that exists but did
    /// not parse.
    pub fn read_as_lines(&self) -> Option<String> {
        for (side, reading) in [("new", &self.new), ("old", &self.old)] {
            match reading {
                SideReading::Failed { line, reason, .. } => {
                    return Some(match line {
                        Some(l) => {
                            format!("the {side} version does not parse at line {l}: {reason}")
                        }
                        None => format!("the {side} version does not parse: {reason}"),
                    });
                }
                SideReading::Unread(reason) => {
                    return Some(format!("the {side} version was not read: {reason}"));
                }
                SideReading::LeftOut { line, reason } => {
                    return Some(format!("at line {line} of the {side} version, {reason}"));
                }
                _ => {}
            }
        }
        None
    }

    /// Why a side that was read did not parse, if one did not: what the read-as-lines note says.
    /// A side that could not be read at all (a patch shows only part of it, a binary file) is
    /// reported elsewhere (content-not-checked) or is the input's nature (a patch), not a note.
    pub fn parse_failure(&self) -> Option<String> {
        self.read_as_lines().filter(|_| {
            [&self.new, &self.old]
                .iter()
                .any(|r| matches!(r, SideReading::Failed { .. } | SideReading::LeftOut { .. }))
        })
    }

    /// For a file taken whole from a patch (one hunk from line 1): a side that does not parse is
    /// most likely cut where the hunk ends, so it counts as not shown, not as invalid.
    pub fn patch_shows_part(&mut self) {
        for side in [&mut self.old, &mut self.new] {
            if let SideReading::Failed { .. } = side {
                *side = SideReading::Unread(
                    "the patch shows it from line 1 but it does not parse as a whole file, so it is taken as shown only in part".into(),
                );
            }
        }
    }

    /// Whether a side was read with lines left out ([`Parsed::unread`]).
    pub fn leaves_out_lines(&self) -> bool {
        [&self.old, &self.new]
            .iter()
            .any(|r| r.parsed().is_some_and(|p| !p.unread.is_empty()))
    }

    /// The first changed line (`added` on the new side, `removed` on the old) that falls in a
    /// part the side's reading left out, with what left it out.
    fn left_out(&self, added: &[u32], removed: &[u32]) -> Option<(bool, u32, String)> {
        [(true, &self.new, added), (false, &self.old, removed)]
            .into_iter()
            .find_map(|(is_new, side, lines)| {
                let p = side.parsed()?;
                p.unread.iter().find_map(|(from, to, what)| {
                    lines
                        .iter()
                        .find(|&&l| *from <= l && l <= *to)
                        .map(|&l| (is_new, l, what.clone()))
                })
            })
    }

    /// A side read with parts left out ([`Parsed::unread`]: a Jinja template's branches and
    /// values, a Helm template's `else` branches or the branches its default values leave off)
    /// whose change falls in one of them. A Jinja template is read again, both sides, as the
    /// variant that renders every changed line (the fewest variables set first:
    /// `beta_cluster`, then pairs). When none does, or for a Helm template, the side is read as
    /// lines: what changed was not read, so it must not be judged from what was.
    pub fn read_touched_variant(
        &mut self,
        path: &str,
        (old, new): (&Side<'_>, &Side<'_>),
        added: &[u32],
        removed: &[u32],
    ) {
        let Some((is_new, line, what)) = self.left_out(added, removed) else {
            return;
        };
        let jinja = [&self.old, &self.new]
            .iter()
            .any(|r| r.parsed().is_some_and(|p| p.format == Format::JinjaHcl));
        let why = if jinja {
            let variables = |s: &Side<'_>| match s {
                Side::Text(t) => jinja::variables(t),
                _ => Vec::new(),
            };
            let mut names = variables(old);
            names.extend(variables(new));
            names.sort();
            names.dedup();
            if names.len() > MAX_TEMPLATE_VARIABLES {
                format!(
                    ", and the template's conditions name {} variables, more variants than are tried ({MAX_TEMPLATE_VARIABLES} variables)",
                    names.len()
                )
            } else {
                let mut masks: Vec<u32> = (1..1u32 << names.len()).collect();
                masks.sort_by_key(|m| m.count_ones());
                let read = |s: &Side<'_>, on: &[String]| match s {
                    Side::Absent => SideReading::Absent,
                    Side::Unread(reason) => SideReading::Unread(reason.to_string()),
                    Side::Text(t) => hcl::read_variant(path, t, on),
                };
                for mask in masks {
                    let on: Vec<String> = (0..names.len())
                        .filter(|i| mask & (1 << i) != 0)
                        .map(|i| names[i].clone())
                        .collect();
                    let again = Analysis {
                        old: read(old, &on),
                        new: read(new, &on),
                    };
                    let failed = |r: &SideReading| matches!(r, SideReading::Failed { .. });
                    if !failed(&again.old)
                        && !failed(&again.new)
                        && again.left_out(added, removed).is_none()
                    {
                        *self = again;
                        return;
                    }
                }
                ", and no reading of the template with its variables set or unset renders it together with the rest of the change".to_string()
            }
        } else {
            ": what changed there was not read".to_string()
        };
        let side = if is_new { &mut self.new } else { &mut self.old };
        *side = SideReading::LeftOut {
            line,
            reason: format!("the change is inside {what}{why}"),
        };
    }

    /// Where the new side, a YAML file read as written (no template actions), is not valid
    /// YAML, when its old side was (or the file is new): whatever applies it fails. The line
    /// and the parser's reason.
    pub fn invalid_as_written(&self) -> Option<(Option<u32>, &str)> {
        match (&self.old, &self.new) {
            (
                SideReading::Absent | SideReading::Parsed(_),
                SideReading::Failed {
                    line,
                    reason,
                    as_written: true,
                },
            ) => Some((*line, reason.as_str())),
            _ => None,
        }
    }

    /// Whether both sides were read as documents (or are absent).
    pub fn is_structured(&self) -> bool {
        self.read_as_lines().is_none()
            && (self.old.parsed().is_some() || self.new.parsed().is_some())
    }
}

/// The kind of file, from its path: what [`analyze`] would read it as.
pub fn format_of(path: &str) -> Option<Format> {
    let lower = path.to_ascii_lowercase();
    if lower.ends_with(".tf") {
        Some(Format::Hcl)
    } else if lower.ends_with(".yaml") || lower.ends_with(".yml") {
        Some(Format::Yaml)
    } else {
        None
    }
}

/// Whether [`analyze`] reads this path (the seam asks, to read only such files whole).
pub fn applies_to(path: &str) -> bool {
    format_of(path).is_some()
}

/// Reads both sides of a changed file as documents.
pub fn analyze(path: &str, old: &Side<'_>, new: &Side<'_>, values: ChartValues<'_>) -> Analysis {
    if values.not_installed && format_of(path) == Some(Format::Yaml) {
        return Analysis {
            old: nothing_installed(old),
            new: nothing_installed(new),
        };
    }
    let mut analysis = Analysis {
        old: read_side(path, old, false, values.old_chart()),
        new: read_side(path, new, false, values.new_chart()),
    };
    // Both sides of a template are read alike: one read with its `else` branches set aside
    // compared with one read whole would show the else branches' values as removed.
    let aside = |r: &SideReading| r.parsed().is_some_and(|p| p.first_branches);
    if aside(&analysis.old) && analysis.new.parsed().is_some() && !aside(&analysis.new) {
        analysis.new = read_side(path, new, true, values.new_chart());
    } else if aside(&analysis.new) && analysis.old.parsed().is_some() && !aside(&analysis.old) {
        analysis.old = read_side(path, old, true, values.old_chart());
    }
    // A template that is YAML only as a default install renders it (an opt-in branch indented
    // as the values it writes will be): both sides read that way, when that reads them.
    let failed = |r: &SideReading| matches!(r, SideReading::Failed { .. });
    let templated = |s: &Side<'_>| matches!(s, Side::Text(t) if helm::is_templated(t));
    if (failed(&analysis.old) || failed(&analysis.new)) && (templated(old) || templated(new)) {
        let again = Analysis {
            old: read_side(path, old, true, values.old_chart().as_default_install()),
            new: read_side(path, new, true, values.new_chart().as_default_install()),
        };
        if !failed(&again.old) && !failed(&again.new) {
            let mut again = again;
            for side in [&mut again.old, &mut again.new] {
                if let SideReading::Parsed(p) = side {
                    if p.format == Format::HelmTemplate {
                        p.format = Format::HelmDefaultInstall;
                    }
                }
            }
            return again;
        }
    }
    analysis
}

/// A Helm chart's default values (its `values.yaml`) on each side of the change, for the
/// templates that write a value whole from them (see [`helm::read_with`]). `None` where the
/// chart has none, or it could not be read: such templates read as they would without.
#[derive(Debug, Clone, Copy, Default)]
pub struct ChartValues<'a> {
    pub old: Option<&'a yaml::Node>,
    pub new: Option<&'a yaml::Node>,
    /// The chart's named templates on each side (its `templates/_helpers.tpl`).
    pub old_helpers: Option<&'a helpers::Helpers>,
    pub new_helpers: Option<&'a helpers::Helpers>,
    /// The file lies in a Helm chart's folder but outside what the chart installs (its
    /// `templates/` and `crds/`) and is no values file: rendered examples (`exports/`), CI
    /// inputs, docs. Its objects are deployed by nothing: none are read from it.
    pub not_installed: bool,
}

/// A side of a file that deploys nothing: read, with no objects.
fn nothing_installed(side: &Side<'_>) -> SideReading {
    match side {
        Side::Absent => SideReading::Absent,
        Side::Unread(reason) => SideReading::Unread(reason.to_string()),
        Side::Text(_) => SideReading::Parsed(Parsed {
            format: Format::Yaml,
            objects: Vec::new(),
            moved: Vec::new(),
            conditions: BTreeSet::new(),
            line_guards: Vec::new(),
            renders: Vec::new(),
            first_branches: false,
            default_lines: Vec::new(),
            written: Vec::new(),
            locals: Vec::new(),
            unread: Vec::new(),
        }),
    }
}

/// Whether a YAML file in a chart's folder is one the chart itself reads or installs (so not
/// [`ChartValues::not_installed`]): a template, a CRD, a values file, the chart's own files.
pub fn chart_reads(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    let name = lower.rsplit('/').next().unwrap_or(&lower);
    let in_folder =
        |f: &str| lower.starts_with(&format!("{f}/")) || lower.contains(&format!("/{f}/"));
    in_folder("templates")
        || in_folder("crds")
        || k8s::is_values_file(path)
        || matches!(
            name,
            "chart.yaml" | "chart.lock" | "requirements.yaml" | "requirements.lock"
        )
}

/// The root of the Helm chart a template belongs to (`charts/app` for
/// `charts/app/templates/deployment.yaml`), when the path is under a `templates/` folder.
pub fn chart_root(path: &str) -> Option<&str> {
    match path.rfind("/templates/") {
        Some(at) => Some(&path[..at]),
        None => path.starts_with("templates/").then_some(""),
    }
}

impl<'a> ChartValues<'a> {
    fn old_chart(&self) -> helm::Chart<'a> {
        helm::Chart {
            values: self.old,
            helpers: self.old_helpers,
            default_install: false,
        }
    }

    fn new_chart(&self) -> helm::Chart<'a> {
        helm::Chart {
            values: self.new,
            helpers: self.new_helpers,
            default_install: false,
        }
    }
}

fn read_side(
    path: &str,
    side: &Side<'_>,
    first_branches: bool,
    chart: helm::Chart<'_>,
) -> SideReading {
    let text = match side {
        Side::Absent => return SideReading::Absent,
        Side::Unread(reason) => return SideReading::Unread(reason.to_string()),
        Side::Text(text) => *text,
    };
    match format_of(path) {
        Some(Format::Hcl) => hcl::read(path, text),
        Some(_) => k8s::read(path, text, first_branches, chart),
        None => SideReading::Unread("not a YAML or HCL file".into()),
    }
}

/// The folder of a path (`""` at the root).
pub(crate) fn folder(path: &str) -> &str {
    path.rsplit_once('/').map(|(d, _)| d).unwrap_or("")
}

#[cfg(test)]
mod tests {
    /// A Helm template that is YAML only with its first branches: a change in an `else` branch
    /// that reading sets aside is read as lines, with the branch named.
    #[test]
    fn a_change_in_a_helm_branch_set_aside_is_read_as_lines() {
        use super::{ChartValues, Side, SideReading, analyze};
        let text = |v: &str| {
            format!(
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n{{{{- if .Values.a }}}}\n  - one\n  - two\n{{{{- else }}}}\n  a: {v}\n{{{{- end }}}}\n"
            )
        };
        let (old, new) = (text("two"), text("three"));
        let path = "charts/x/templates/cm.yaml";
        let mut a = analyze(
            path,
            &Side::Text(&old),
            &Side::Text(&new),
            ChartValues::default(),
        );
        let p = a.new.parsed().expect("read");
        assert!(p.first_branches, "{p:?}");
        assert_eq!(p.unread.len(), 1, "{:?}", p.unread);
        a.read_touched_variant(path, (&Side::Text(&old), &Side::Text(&new)), &[10], &[10]);
        assert!(
            matches!(&a.new, SideReading::LeftOut { line: 10, reason } if reason.contains("`else` branch of `if .Values.a`")),
            "{:?}",
            a.new
        );
        // A change outside it is judged from the reading.
        let mut b = analyze(
            path,
            &Side::Text(&old),
            &Side::Text(&new),
            ChartValues::default(),
        );
        b.read_touched_variant(path, (&Side::Text(&old), &Side::Text(&new)), &[4], &[4]);
        assert!(b.new.parsed().is_some());
    }

    /// A generator's template (terraform-google-modules' `autogen/`): a change inside the beta
    /// branch is read in the beta variant; one in both branches of an `if`/`else` is read by
    /// no single variant, so it falls back to lines with a reason.
    #[test]
    fn a_jinja_template_is_read_as_the_variant_the_change_touches() {
        use super::{Analysis, ChartValues, Format, Side, SideReading, analyze};
        let old = "{{ note }}\nvariable \"a\" {\n{% if beta_cluster %}\n  default = 1\n{% else %}\n  default = 2\n{% endif %}\n}\n";
        let new = "{{ note }}\nvariable \"a\" {\n{% if beta_cluster %}\n  default = 3\n{% else %}\n  default = 4\n{% endif %}\n}\n";
        let read = |added: &[u32]| -> Analysis {
            let mut a = analyze(
                "autogen/variables.tf",
                &Side::Text(old),
                &Side::Text(new),
                ChartValues::default(),
            );
            a.read_touched_variant(
                "autogen/variables.tf",
                (&Side::Text(old), &Side::Text(new)),
                added,
                added,
            );
            a
        };
        let default = |a: &Analysis| {
            let p = a.new.parsed().expect("read");
            assert_eq!(p.format, Format::JinjaHcl);
            let crate::manifest::Value::Map(m) = &p.objects[0].body.value else {
                panic!("{:?}", p.objects[0].body);
            };
            m[0].1.as_str().map(str::to_string)
        };
        assert_eq!(default(&read(&[6])).as_deref(), Some("4"));
        assert_eq!(default(&read(&[4])).as_deref(), Some("3"));
        let both = read(&[4, 6]);
        assert!(
            matches!(&both.new, SideReading::LeftOut { line: 4, reason } if reason.contains("{% if beta_cluster %}")),
            "{:?}",
            both.new
        );
        assert!(both.read_as_lines().is_some());

        // Seven variables: more variants than are tried, and the note says so.
        let many = |d: &str| {
            let mut t = String::from("variable \"a\" {\n");
            for v in ["a1", "a2", "a3", "a4", "a5", "a6"] {
                t.push_str(&format!(
                    "{{% if {v} %}}\n  description = \"{v}\"\n{{% endif %}}\n"
                ));
            }
            t.push_str(&format!(
                "{{% if a7 %}}\n  default = {d}\n{{% endif %}}\n}}\n"
            ));
            t
        };
        let (old, new) = (many("1"), many("2"));
        let mut a = analyze(
            "autogen/variables.tf",
            &Side::Text(&old),
            &Side::Text(&new),
            ChartValues::default(),
        );
        a.read_touched_variant(
            "autogen/variables.tf",
            (&Side::Text(&old), &Side::Text(&new)),
            &[20],
            &[20],
        );
        assert!(
            matches!(&a.new, SideReading::LeftOut { reason, .. } if reason.contains("7 variables")),
            "{:?}",
            a.new
        );
    }

    #[test]
    fn a_template_s_chart_is_the_folder_above_its_templates() {
        use super::chart_root;
        assert_eq!(
            chart_root("charts/app/templates/deployment.yaml"),
            Some("charts/app")
        );
        assert_eq!(
            chart_root("charts/app/templates/sub/cm.yaml"),
            Some("charts/app")
        );
        assert_eq!(chart_root("templates/deployment.yaml"), Some(""));
        assert_eq!(
            chart_root("charts/app/charts/db/templates/sts.yaml"),
            Some("charts/app/charts/db")
        );
        assert_eq!(chart_root("k8s/deployment.yaml"), None);
    }

    #[test]
    fn a_chart_reads_its_templates_crds_and_values_only() {
        use super::chart_reads;
        for read in [
            "charts/app/templates/deployment.yaml",
            "charts/app/crds/crd.yaml",
            "charts/app/values.yaml",
            "charts/app/values-production.yaml",
            "charts/app/Chart.yaml",
            "charts/app/requirements.yaml",
        ] {
            assert!(chart_reads(read), "{read}");
        }
        for not in [
            "charts/app/exports/small/deployment.yaml",
            "charts/app/ci/ct.yaml",
        ] {
            assert!(!chart_reads(not), "{not}");
        }
    }
}
