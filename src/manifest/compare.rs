//! Old objects paired with new ones across the files of one change.
//!
//! An object is the same object when its key is: in the same file first, then anywhere in the
//! change where the key names one object on each side (a workload moved to another file). A
//! Terraform resource renamed with a `moved` block pairs with its new address; one forgotten
//! with `removed { lifecycle { destroy = false } }` is not destroyed.

use std::collections::{BTreeSet, HashMap};

use super::{Analysis, Object, Parsed, TEMPLATED};

/// One file of the change as the comparison sees it.
#[derive(Debug, Clone, Copy)]
pub struct File<'a> {
    pub path: &'a str,
    pub analysis: &'a Analysis,
    /// Deleted, while its folder or chart keeps other files after the change (outside it).
    pub scope_stays: bool,
}

/// What became of an object of the old side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gone {
    /// Still there, under the same key or a move.
    Kept,
    /// Removed while other objects of its folder or chart stay: a real removal.
    Removed,
    /// Removed with everything around it (its whole app, chart or module retired).
    Retired,
    /// Terraform: forgotten from the state without being destroyed.
    Forgotten,
    /// Terraform: a `moved` block takes it to an address this change does not show (into a
    /// module).
    Moved,
}

/// An object on either side, and where it lives.
#[derive(Debug, Clone, Copy)]
pub struct Located<'a> {
    /// Index of the file in the change.
    pub file: usize,
    pub object: &'a Object,
    pub parsed: &'a Parsed,
}

/// One object before and after.
#[derive(Debug, Clone, Copy)]
pub struct Pair<'a> {
    pub old: Option<Located<'a>>,
    pub new: Option<Located<'a>>,
    /// For an old object without a new one: why.
    pub gone: Gone,
}

impl Pair<'_> {
    /// The file a finding about this pair belongs to: the new object's, else the old one's.
    pub fn file(&self) -> usize {
        self.new.or(self.old).map(|l| l.file).unwrap_or(0)
    }
}

/// Every object of the change, paired.
/// The new objects not paired yet for which `same` holds.
fn unpaired(
    news: &[Located<'_>],
    new_taken: &[bool],
    same: impl Fn(&Located<'_>) -> bool,
) -> Vec<usize> {
    news.iter()
        .enumerate()
        .filter(|(i, l)| !new_taken[*i] && same(l))
        .map(|(i, _)| i)
        .collect()
}

pub fn pair<'a>(files: &[File<'a>]) -> Vec<Pair<'a>> {
    let olds = side(files, |a| a.old.parsed());
    let news = side(files, |a| a.new.parsed());
    // From every file of the new side, including one that holds nothing but `moved` blocks
    // (a `moved.tf` beside the renamed resources).
    let moved: HashMap<&str, Option<&str>> = files
        .iter()
        .filter_map(|f| f.analysis.new.parsed())
        .flat_map(|p| p.moved.iter())
        .map(|m| (m.from.as_str(), m.to.as_deref()))
        .collect();
    let mut new_taken = vec![false; news.len()];
    let mut old_match: Vec<Option<usize>> = vec![None; olds.len()];
    // Same file, same key, in order (a file may hold the same key twice: if/else branches).
    let by_file_key = index(&news, |l| (l.file, l.object.key.as_str()));
    for (o, old) in olds.iter().enumerate() {
        if let Some(candidates) = by_file_key.get(&(old.file, old.object.key.as_str())) {
            if let Some(&n) = candidates.iter().find(|&&n| !new_taken[n]) {
                new_taken[n] = true;
                old_match[o] = Some(n);
            }
        }
    }
    // Kubernetes: in the same file, an object of the same kind and name whose namespace was
    // written out or dropped (`namespace: wp` added to a bundle) is the object moved: what it
    // already had is not new to it. One moved from a namespace to another is another object.
    for (o, old) in olds.iter().enumerate() {
        if old_match[o].is_some() || old.object.key.starts_with("tf:") || old.object.templated_key {
            continue;
        }
        let same = |l: &Located<'_>| {
            l.file == old.file
                && l.object.kind == old.object.kind
                && l.object.name == old.object.name
                && same_namespace(l.object, old.object)
        };
        let free = unpaired(&news, &new_taken, same);
        if free.len() == 1 {
            new_taken[free[0]] = true;
            old_match[o] = Some(free[0]);
        }
    }
    // Kubernetes: in the same file, the one object of a kind left on each side is the same
    // object under a name template that changed (it may render the same name). Not two names
    // written out: a Deployment renamed from `web` to `frontend` is another object, and the old
    // one is deleted. Not Terraform: there a new address is a new resource. Nor two namespaces
    // both written out: a file git pairs as renamed may hold another install of the same
    // program (kube-system's example, ingress-nginx's install).
    for (o, old) in olds.iter().enumerate() {
        if old_match[o].is_some() || old.object.key.starts_with("tf:") {
            continue;
        }
        let same = |l: &Located<'_>| {
            l.file == old.file
                && l.object.kind == old.object.kind
                && same_namespace(l.object, old.object)
                && (l.object.templated_key || old.object.templated_key)
        };
        let old_left = olds
            .iter()
            .enumerate()
            .filter(|(i, l)| old_match[*i].is_none() && same(l))
            .count();
        let new_left = unpaired(&news, &new_taken, same);
        if old_left == 1 && new_left.len() == 1 {
            new_taken[new_left[0]] = true;
            old_match[o] = Some(new_left[0]);
        }
    }
    // Anywhere in the change, where the key is unique on both sides; through `moved` blocks.
    let by_key = index(&news, |l| l.object.key.as_str());
    let old_count = index(&olds, |l| l.object.key.as_str());
    for (o, old) in olds.iter().enumerate() {
        if old_match[o].is_some() {
            continue;
        }
        let key = old.object.key.as_str();
        let key = match moved.get(key) {
            Some(Some(to)) => *to,
            _ => key,
        };
        // A templated name is only known within its chart (its key holds the chart's folder), so
        // it pairs across the chart's files only where it is unique there too; kindless
        // documents (a values file) are known by their path alone.
        if old.object.kind.is_empty() || old.object.kind == "HelmValues" {
            continue;
        }
        let Some(candidates) = by_key.get(key) else {
            continue;
        };
        let olds_of_key = old_count.get(old.object.key.as_str()).map_or(0, Vec::len);
        let free: Vec<usize> = candidates
            .iter()
            .copied()
            .filter(|&n| !new_taken[n])
            .collect();
        if free.len() == 1 && (olds_of_key == 1 || key != old.object.key) {
            new_taken[free[0]] = true;
            old_match[o] = Some(free[0]);
        }
    }
    // Which scopes (folder or chart) keep at least one object: a removal in a scope that keeps
    // nothing is a retirement.
    let kept_scopes: BTreeSet<String> = olds
        .iter()
        .zip(&old_match)
        .filter(|(_, m)| m.is_some())
        .map(|(l, _)| scope(files[l.file].path))
        .chain(news.iter().map(|l| scope(files[l.file].path)))
        .chain(
            files
                .iter()
                .filter(|f| f.scope_stays)
                .map(|f| scope(f.path)),
        )
        .collect();
    let mut pairs = Vec::with_capacity(olds.len() + news.len());
    for (o, old) in olds.iter().enumerate() {
        let new = old_match[o].map(|n| news[n]);
        let gone = if new.is_some() {
            Gone::Kept
        } else if matches!(moved.get(old.object.key.as_str()), Some(None)) {
            Gone::Forgotten
        } else if matches!(moved.get(old.object.key.as_str()), Some(Some(_))) {
            Gone::Moved
        } else if kept_scopes.contains(&scope(files[old.file].path)) {
            Gone::Removed
        } else {
            Gone::Retired
        };
        pairs.push(Pair {
            old: Some(*old),
            new,
            gone,
        });
    }
    for (n, new) in news.iter().enumerate() {
        if !new_taken[n] {
            pairs.push(Pair {
                old: None,
                new: Some(*new),
                gone: Gone::Kept,
            });
        }
    }
    pairs
}

/// Whether two Kubernetes objects may sit in the same namespace: the same one, or one not written
/// out (or templated) on either side.
fn same_namespace(a: &Object, b: &Object) -> bool {
    let namespace = |o: &Object| o.key.split('/').nth(1).unwrap_or("").to_string();
    let (x, y) = (namespace(a), namespace(b));
    x == y || x.is_empty() || y.is_empty() || x.contains(TEMPLATED) || y.contains(TEMPLATED)
}

/// Where an object's neighbours live: a chart (the folder above `templates/`), else its folder.
pub fn scope(path: &str) -> String {
    match path.split_once("/templates/") {
        Some((chart, _)) => chart.to_string(),
        None => super::folder(path).to_string(),
    }
}

fn side<'a>(
    files: &[File<'a>],
    get: impl Fn(&'a Analysis) -> Option<&'a Parsed>,
) -> Vec<Located<'a>> {
    files
        .iter()
        .enumerate()
        .filter_map(|(i, f)| get(f.analysis).map(|p| (i, p)))
        .flat_map(|(file, parsed)| {
            parsed.objects.iter().map(move |object| Located {
                file,
                object,
                parsed,
            })
        })
        .collect()
}

fn index<'a, K: std::hash::Hash + Eq>(
    located: &[Located<'a>],
    key: impl Fn(&Located<'a>) -> K,
) -> HashMap<K, Vec<usize>> {
    let mut map: HashMap<K, Vec<usize>> = HashMap::new();
    for (i, l) in located.iter().enumerate() {
        map.entry(key(l)).or_default().push(i);
    }
    map
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::{Side, analyze};

    fn text(s: &str) -> Side<'_> {
        if s.is_empty() {
            Side::Absent
        } else {
            Side::Text(s)
        }
    }

    const WEB: &str = "kind: Deployment\nmetadata: {name: web}\nspec: {replicas: 3}\n";
    const PDB: &str = "kind: PodDisruptionBudget\nmetadata: {name: web}\nspec: {minAvailable: 2}\n";

    fn run(files: &[(&str, &str, &str)]) -> Vec<(Option<String>, Option<String>, Gone)> {
        let analyses: Vec<Analysis> = files
            .iter()
            .map(|(p, o, n)| analyze(p, &text(o), &text(n), Default::default()))
            .collect();
        let list: Vec<File> = files
            .iter()
            .zip(&analyses)
            .map(|((p, _, _), a)| File {
                path: p,
                analysis: a,
                scope_stays: false,
            })
            .collect();
        pair(&list)
            .into_iter()
            .map(|p| {
                (
                    p.old.map(|l| format!("{}:{}", l.file, l.object.name)),
                    p.new.map(|l| format!("{}:{}", l.file, l.object.name)),
                    p.gone,
                )
            })
            .collect()
    }

    #[test]
    fn a_workload_moved_to_another_file_is_the_same_workload() {
        let got = run(&[("k8s/all.yaml", WEB, ""), ("k8s/web.yaml", "", WEB)]);
        assert_eq!(
            got,
            vec![(Some("0:web".into()), Some("1:web".into()), Gone::Kept)]
        );
    }

    #[test]
    fn objects_given_a_namespace_in_their_file_are_the_same_objects() {
        let two = format!("{WEB}---\n{}", WEB.replace("name: web", "name: api"));
        let moved = two.replace("{name: ", "{namespace: wp, name: ");
        assert_ne!(two, moved);
        let got = run(&[("k8s/bundle.yaml", &two, &moved)]);
        assert_eq!(
            got,
            vec![
                (Some("0:web".into()), Some("0:web".into()), Gone::Kept),
                (Some("0:api".into()), Some("0:api".into()), Gone::Kept),
            ]
        );
    }

    #[test]
    fn removal_next_to_survivors_is_removal_and_a_retired_app_is_not() {
        let both = format!("{WEB}---\n{PDB}");
        let got = run(&[("k8s/app.yaml", &both, WEB)]);
        assert_eq!(got[1].2, Gone::Removed);
        let got = run(&[("k8s/app.yaml", &both, "")]);
        assert!(got.iter().all(|g| g.2 == Gone::Retired));
    }

    #[test]
    fn terraform_moves_and_forgotten_resources() {
        let old = "resource \"aws_db_instance\" \"old\" {}\nresource \"aws_s3_bucket\" \"logs\" {}\nresource \"aws_vpc\" \"main\" {}\n";
        let new = "resource \"aws_db_instance\" \"main\" {}\nmoved {\n  from = aws_db_instance.old\n  to = aws_db_instance.main\n}\nremoved {\n  from = aws_s3_bucket.logs\n  lifecycle {\n    destroy = false\n  }\n}\nresource \"aws_vpc\" \"main\" {}\n";
        let got = run(&[("infra/main.tf", old, new)]);
        assert_eq!(
            got[0],
            (
                Some("0:aws_db_instance.old".into()),
                Some("0:aws_db_instance.main".into()),
                Gone::Kept
            )
        );
        assert_eq!(got[1].2, Gone::Forgotten);
    }

    #[test]
    fn moved_blocks_in_a_file_of_their_own_pair_the_renamed_resource() {
        let old = "resource \"kubernetes_config_map\" \"ip-masq-agent\" {}\nresource \"aws_vpc\" \"main\" {}\n";
        let new = "resource \"kubernetes_config_map\" \"ip_masq_agent\" {}\nresource \"aws_vpc\" \"main\" {}\n";
        let moved = "moved {\n  from = kubernetes_config_map.ip-masq-agent\n  to   = kubernetes_config_map.ip_masq_agent\n}\n";
        let got = run(&[("infra/masq.tf", old, new), ("infra/moved.tf", "", moved)]);
        assert_eq!(
            got[0],
            (
                Some("0:kubernetes_config_map.ip-masq-agent".into()),
                Some("0:kubernetes_config_map.ip_masq_agent".into()),
                Gone::Kept
            )
        );
    }
}
