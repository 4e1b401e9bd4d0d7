//! Key paths: `spec.strategy.type`, `**.containers.*.image`,
//! `metadata.annotations."helm.sh/hook"`.
//!
//! `*` is any one key or list item, `**` any number of levels (none included); a key with a dot
//! in it is quoted. Keys compare without case, `_` or `-`, so a chart's own `readiness_probe`
//! is the `readinessProbe` a rule names.

use super::yaml::{Node, Value};

#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Key(String),
    Any,
    AnyDepth,
}

/// A parsed key path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyPath {
    steps: Vec<Step>,
    pub text: String,
    /// The bits of the keys it names (see [`KeySummary`]).
    bits: u128,
}

impl KeyPath {
    /// Whether an object whose keys sum to `keys` may hold this path: every key the path
    /// names must be somewhere in it.
    pub fn may_reach(&self, keys: u128) -> bool {
        self.bits & !keys == 0
    }
}

/// Which keys a document holds, at any depth, as 128 bits: each key, compared as key paths
/// compare them (without case, `_` or `-`), sets one bit. A bit that is clear proves a key
/// absent, so a rule's path that names it is not walked; a bit that is set proves nothing.
#[derive(Default, Clone)]
pub struct KeySummary(std::sync::OnceLock<u128>);

impl KeySummary {
    pub fn of(&self, body: &Node) -> u128 {
        *self.0.get_or_init(|| {
            let mut bits = 0;
            add_keys(body, &mut bits);
            bits
        })
    }
}

// Two objects are the same whether or not their keys have been summed yet.
impl PartialEq for KeySummary {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl std::fmt::Debug for KeySummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeySummary")
    }
}

fn add_keys(node: &Node, bits: &mut u128) {
    match &node.value {
        Value::Map(entries) => {
            for (k, child) in entries {
                *bits |= key_bit(k);
                add_keys(child, bits);
            }
        }
        Value::Seq(items) => items.iter().for_each(|i| add_keys(i, bits)),
        _ => {}
    }
}

/// The bit of a key, normalized as [`key_is`] compares keys (FNV-1a over the normalized bytes).
fn key_bit(key: &str) -> u128 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut add = |b: u8| {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    };
    if key.is_ascii() {
        for b in key.bytes().filter(|b| *b != b'_' && *b != b'-') {
            add(b.to_ascii_lowercase());
        }
    } else {
        let mut buf = [0u8; 4];
        for c in key
            .chars()
            .filter(|c| *c != '_' && *c != '-')
            .flat_map(char::to_lowercase)
        {
            c.encode_utf8(&mut buf).bytes().for_each(&mut add);
        }
    }
    1u128 << (hash % 128)
}

/// A value found by a path, with the concrete path that reached it: list items that are
/// mappings with a `name` are known by it (`containers[web]`), others by position.
#[derive(Debug, Clone, PartialEq)]
pub struct Found<'a> {
    pub at: String,
    pub node: &'a Node,
    /// The concrete path of the mapping or list that holds the value.
    pub parent: String,
    /// That mapping or list itself (the root for a top-level value).
    pub holder: &'a Node,
}

/// Keys compare without case, `_` or `-`.
pub fn normalize(key: &str) -> String {
    key.chars()
        .filter(|c| *c != '_' && *c != '-')
        .flat_map(char::to_lowercase)
        .collect()
}

/// The key paths `text` stands for once keys may go by other names (`[names]` in
/// forewarn.toml: a chart's `healthCheck` for `readinessProbe`): `text` itself first, then each
/// combination of the names given, at most 64 in all (the config refuses a name with a `"`).
pub fn with_names(
    text: &str,
    names: &std::collections::BTreeMap<String, Vec<String>>,
) -> Vec<String> {
    const MAX: usize = 64;
    // The segments as written, quotes kept: a quoted key may hold dots.
    let mut segments: Vec<&str> = Vec::new();
    let (mut start, mut quoted) = (0, false);
    for (i, c) in text.char_indices() {
        match c {
            '"' => quoted = !quoted,
            '.' if !quoted => {
                segments.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    segments.push(&text[start..]);
    let mut out: Vec<String> = vec![String::new()];
    for (n, segment) in segments.iter().enumerate() {
        let bare = segment.trim_matches('"');
        let mut choices = vec![segment.to_string()];
        for (name, aliases) in names {
            if normalize(name) == normalize(bare) {
                choices.extend(aliases.iter().map(|a| {
                    if a.contains('.') {
                        format!("\"{a}\"")
                    } else {
                        a.clone()
                    }
                }));
            }
        }
        let mut next = Vec::new();
        for prefix in &out {
            for choice in &choices {
                if next.len() < MAX {
                    next.push(if n == 0 {
                        choice.clone()
                    } else {
                        format!("{prefix}.{choice}")
                    });
                }
            }
        }
        out = next;
    }
    out
}

/// Parses a key path; the error says what is wrong, for a rule-file message.
pub fn parse(text: &str) -> Result<KeyPath, String> {
    let mut steps = Vec::new();
    let mut rest = text.trim();
    if rest.is_empty() {
        return Err("the key path is empty".into());
    }
    loop {
        let (segment, after) = if let Some(quoted) = rest.strip_prefix('"') {
            let close = quoted
                .find('"')
                .ok_or("a quoted key is not closed: write `\"helm.sh/hook\"`")?;
            (Step::Key(quoted[..close].to_string()), &quoted[close + 1..])
        } else {
            let end = rest.find('.').unwrap_or(rest.len());
            let word = &rest[..end];
            let step = match word {
                "" => {
                    return Err(
                        "a key path has an empty segment (`..` or a leading or trailing `.`)"
                            .into(),
                    );
                }
                "*" => Step::Any,
                "**" => Step::AnyDepth,
                w if w.contains('*') => {
                    return Err(format!(
                        "`{w}`: `*` stands alone as a segment (any key), it does not match part of a key"
                    ));
                }
                w if w.contains('"') => return Err(format!("`{w}`: quote the whole key")),
                w => Step::Key(w.to_string()),
            };
            (step, &rest[end..])
        };
        steps.push(segment);
        if after.is_empty() {
            break;
        }
        rest = after
            .strip_prefix('.')
            .ok_or("after a quoted key comes `.` or the end of the path")?;
    }
    let steps: Vec<Step> = steps
        .into_iter()
        .map(|s| match s {
            Step::Key(k) => Step::Key(normalize(&k)),
            other => other,
        })
        .collect();
    let bits = steps
        .iter()
        .filter_map(|s| match s {
            Step::Key(k) => Some(key_bit(k)),
            _ => None,
        })
        .fold(0, |all, bit| all | bit);
    Ok(KeyPath {
        steps,
        text: text.to_string(),
        bits,
    })
}

impl KeyPath {
    /// Every value the path reaches in `root`.
    pub fn select<'a>(&self, root: &'a Node) -> Vec<Found<'a>> {
        let mut out = Vec::new();
        let mut trail = Vec::new();
        walk(&self.steps, root, root, &mut trail, &mut out);
        out.dedup_by(|a, b| a.at == b.at && std::ptr::eq(a.node, b.node));
        out
    }
}

/// One step of the concrete path walked so far: written out only for a value the path
/// reaches (most of what a `**` walks reaches nothing).
#[derive(Clone, Copy)]
enum Segment<'a> {
    Key(&'a str),
    Item(usize, &'a Node),
}

/// A concrete path: `spec.containers[web].image`, a key with a dot or bracket quoted, a list
/// item by its `name`, else its position.
fn concrete(trail: &[Segment<'_>]) -> String {
    let mut at = String::new();
    for segment in trail {
        match segment {
            Segment::Key(key) => {
                if !at.is_empty() {
                    at.push('.');
                }
                if key.contains('.') || key.contains('[') {
                    at.push('"');
                    at.push_str(key);
                    at.push('"');
                } else {
                    at.push_str(key);
                }
            }
            Segment::Item(index, item) => {
                at.push('[');
                match item.get("name").and_then(Node::as_str) {
                    Some(name) => at.push_str(name),
                    None => at.push_str(&index.to_string()),
                }
                at.push(']');
            }
        }
    }
    at
}

/// Whether `key` is `want` (already normalized) without case, `_` or `-`; no allocation.
fn key_is(key: &str, want: &str) -> bool {
    // Keys are nearly always ASCII: compared byte by byte, the first difference ends it.
    let mut wanted = want.bytes();
    for b in key.bytes() {
        match b {
            b'_' | b'-' => {}
            0x80.. => return key_is_unicode(key, want),
            _ => {
                if wanted.next() != Some(b.to_ascii_lowercase()) {
                    return false;
                }
            }
        }
    }
    wanted.next().is_none()
}

fn key_is_unicode(key: &str, want: &str) -> bool {
    let mut have = key
        .chars()
        .filter(|c| *c != '_' && *c != '-')
        .flat_map(char::to_lowercase);
    let mut want = want.chars();
    loop {
        match (have.next(), want.next()) {
            (None, None) => return true,
            (Some(a), Some(b)) if a == b => {}
            _ => return false,
        }
    }
}

fn is_collection(node: &Node) -> bool {
    matches!(node.value, Value::Map(_) | Value::Seq(_))
}

/// Walks `steps` from `node`; `trail` is the concrete path to `node`, `holder` what holds it.
fn walk<'a>(
    steps: &[Step],
    node: &'a Node,
    holder: &'a Node,
    trail: &mut Vec<Segment<'a>>,
    out: &mut Vec<Found<'a>>,
) {
    let Some((step, rest)) = steps.split_first() else {
        out.push(Found {
            at: concrete(trail),
            node,
            parent: concrete(&trail[..trail.len().saturating_sub(1)]),
            holder,
        });
        return;
    };
    // Walks `next` from each child of `node` for which `keep` holds.
    let each_child = |next: &[Step],
                      keep: &dyn Fn(&str, &Node) -> bool,
                      trail: &mut Vec<Segment<'a>>,
                      out: &mut Vec<Found<'a>>| {
        match &node.value {
            Value::Map(entries) => {
                for (k, child) in entries {
                    if keep(k, child) {
                        trail.push(Segment::Key(k));
                        walk(next, child, node, trail, out);
                        trail.pop();
                    }
                }
            }
            Value::Seq(items) => {
                for (i, child) in items.iter().enumerate() {
                    if keep("", child) {
                        trail.push(Segment::Item(i, child));
                        walk(next, child, node, trail, out);
                        trail.pop();
                    }
                }
            }
            _ => {}
        }
    };
    match step {
        Step::Key(want) => {
            if let Value::Map(_) = &node.value {
                each_child(rest, &|k, _| key_is(k, want), trail, out);
            }
        }
        Step::Any => each_child(rest, &|_, _| true, trail, out),
        Step::AnyDepth => {
            walk(rest, node, holder, trail, out);
            // A scalar has nothing below it for the rest of the path to match; otherwise the
            // rest starts at a node's children, which `walk(rest, node)` above already looked
            // at: only collections can hold more of it.
            if rest.is_empty() {
                each_child(steps, &|_, _| true, trail, out);
            } else {
                each_child(steps, &|_, child| is_collection(child), trail, out);
            }
        }
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_path_naming_a_key_the_document_lacks_is_not_walked() {
        let doc = crate::manifest::yaml::parse(
            "spec:\n  template:\n    spec:\n      containers:\n        - name: web\n          readiness_probe: {}\n",
        )
        .unwrap()
        .remove(0)
        .root;
        let keys = super::KeySummary::default();
        let bits = keys.of(&doc);
        let reach = |p: &str| super::parse(p).unwrap().may_reach(bits);
        // The keys are there, written another way (`readiness_probe`).
        assert!(reach("**.readinessProbe"));
        assert!(reach("spec.template.spec.containers.*.name"));
        assert!(reach("**"));
        // `livenessProbe` is nowhere in it: a walk would find nothing.
        assert!(!reach("**.livenessProbe"));
        assert!(
            super::parse("**.livenessProbe")
                .unwrap()
                .select(&doc)
                .is_empty()
        );
        // Asked again, the summary is the one worked out first.
        assert_eq!(keys.of(&doc), bits);
    }

    #[test]
    fn keys_compare_without_case_underscores_or_dashes() {
        use super::key_is;
        assert!(key_is("readinessProbe", "readinessprobe"));
        assert!(key_is("readiness_probe", "readinessprobe"));
        assert!(key_is("Readiness-Probe", "readinessprobe"));
        assert!(!key_is("readinessProbes", "readinessprobe"));
        assert!(!key_is("readiness", "readinessprobe"));
        assert!(!key_is("livenessProbe", "readinessprobe"));
        assert!(key_is("_", ""));
        // Past ASCII, Unicode's lowercase: `Ä` is `ä`.
        assert!(key_is("Ärger_Wert", "ärgerwert"));
        assert!(!key_is("Ärger", "ärgerwert"));
    }

    #[test]
    fn keys_go_by_the_names_a_chart_gives_them() {
        let mut names = std::collections::BTreeMap::new();
        names.insert(
            "readinessProbe".to_string(),
            vec!["healthCheck".to_string(), "a.b".to_string()],
        );
        assert_eq!(
            with_names("*.readiness_probe", &names),
            ["*.readiness_probe", "*.healthCheck", "*.\"a.b\""]
        );
        assert_eq!(with_names("spec.replicas", &names), ["spec.replicas"]);
        assert_eq!(
            with_names(r#"metadata."x.readinessProbe""#, &names).len(),
            1
        );
    }
    use super::*;
    use crate::manifest::yaml;

    fn root(text: &str) -> Node {
        yaml::parse(text).unwrap().remove(0).root
    }

    #[test]
    fn items_by_name_and_any_depth() {
        let doc = root(
            "spec:\n  template:\n    spec:\n      containers:\n        - name: web\n          image: a:1\n        - image: b\n",
        );
        let found = parse("**.containers.*.image").unwrap().select(&doc);
        let got: Vec<_> = found
            .iter()
            .map(|f| (f.at.as_str(), f.node.as_str(), f.node.line))
            .collect();
        assert_eq!(
            got,
            vec![
                ("spec.template.spec.containers[web].image", Some("a:1"), 6),
                ("spec.template.spec.containers[1].image", Some("b"), 7)
            ]
        );
        assert_eq!(found[0].parent, "spec.template.spec.containers[web]");
    }

    #[test]
    fn quoted_keys_and_chart_spellings() {
        let doc =
            root("metadata:\n  annotations:\n    helm.sh/hook: pre-upgrade\nreadiness_probe: {}\n");
        let hook = parse("metadata.annotations.\"helm.sh/hook\"").unwrap();
        assert_eq!(hook.select(&doc)[0].node.as_str(), Some("pre-upgrade"));
        assert_eq!(parse("readinessProbe").unwrap().select(&doc).len(), 1);
    }

    #[test]
    fn bad_paths_say_why() {
        for bad in ["", "a..b", "a.\"b", "con*", "a.\"b\"c"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
