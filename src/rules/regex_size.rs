//! Whether a team's regex compiles within the engine's size limit, checked when its rules load.
//!
//! The limit applies to the Thompson NFAs a regex builds (one forward, one in reverse for its
//! lazy DFA). Building them is most of what loading a large rule set costs (800 rules: about
//! 0.3 s), while nearly every pattern is far below the limit. So a bound on the NFAs' size is
//! worked out from the parsed pattern first, in one walk of it, and the NFAs are built only for
//! a pattern whose bound comes near the limit. The bound is never below the size the NFAs
//! really take (the tests compare them on every built-in pattern and on hostile ones).

use regex_syntax::hir::{Class, Hir, HirKind};

/// The compiled size limit of a rule's regex: the `regex` crate's default, which the engine
/// compiles each single regex with.
pub const REGEX_SIZE_LIMIT: usize = 10 << 20;

/// Bytes of NFA a bound counts for each state: more than any state the compiler writes takes,
/// a sparse state's transitions included (each counted as states of their own below).
const BYTES_PER_STATE: usize = 64;

/// Why a regex's NFAs do not build within the size limit, if they do not.
pub fn too_big(hir: &Hir) -> Option<String> {
    if bound_bytes(hir) < REGEX_SIZE_LIMIT / 2 {
        return None;
    }
    nfa_too_big(hir)
}

/// Whether the patterns certainly compile together within `limit` (one set, as the engine
/// builds for a file's rules): `false` when that is not known without compiling them.
pub fn set_fits(patterns: &[&str], limit: usize) -> bool {
    let mut total = BASE_BYTES;
    for p in patterns {
        let Ok(hir) = regex_syntax::Parser::new().parse(p) else {
            return false;
        };
        total = total.saturating_add(bound_bytes(&hir));
        if total >= limit / 2 {
            return false;
        }
    }
    true
}

/// A pattern parsed and held to the size limit, as `Regex::new` would: the error says why not.
pub fn checked(pattern: &str) -> Result<Hir, String> {
    let hir = regex_syntax::Parser::new()
        .parse(pattern)
        .map_err(|e| e.to_string())?;
    match too_big(&hir) {
        Some(why) => Err(why),
        None => Ok(hir),
    }
}

/// The NFAs built (forward and reverse), each held to the limit.
fn nfa_too_big(hir: &Hir) -> Option<String> {
    use regex_automata::nfa::thompson::{Compiler, Config, WhichCaptures};
    let config = Config::new()
        .nfa_size_limit(Some(REGEX_SIZE_LIMIT))
        .shrink(false);
    let reverse = config
        .clone()
        .which_captures(WhichCaptures::None)
        .reverse(true);
    let error = [config, reverse]
        .into_iter()
        .find_map(|c| Compiler::new().configure(c).build_from_hir(hir).err())?;
    Some(match error.size_limit() {
        Some(limit) => format!(
            "compiled, it is larger than the regex size limit of {} MB",
            limit / (1 << 20)
        ),
        None => error.to_string(),
    })
}

/// What every NFA holds whatever its pattern: start states, the unanchored prefix, tables.
const BASE_BYTES: usize = 4096;

/// An upper bound, in bytes, on the larger of a pattern's two NFAs.
fn bound_bytes(hir: &Hir) -> usize {
    states_bound(hir)
        .saturating_mul(BYTES_PER_STATE)
        .saturating_add(BASE_BYTES)
}

/// An upper bound on the states (and transitions) of the NFA `hir` compiles to.
///
/// A class of Unicode ranges compiles to the UTF-8 byte sequences of its ranges, each byte range
/// a transition and at most a state. A repetition
/// `{n,m}` copies its body `max(n, m) + 1` times (unbounded: `n + 1`); everything else adds a
/// few states of its own.
fn states_bound(hir: &Hir) -> usize {
    const PER_NODE: usize = 4;
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => PER_NODE,
        HirKind::Literal(lit) => lit.0.len() * 2 + PER_NODE,
        HirKind::Class(Class::Unicode(c)) => {
            // Each byte range of each UTF-8 sequence a transition; twice, for what the
            // compiler shares less in reverse.
            let bytes: usize = c
                .ranges()
                .iter()
                .flat_map(|r| regex_syntax::utf8::Utf8Sequences::new(r.start(), r.end()))
                .map(|seq| seq.len())
                .sum();
            bytes * 2 + PER_NODE
        }
        HirKind::Class(Class::Bytes(c)) => c.ranges().len() * 2 + PER_NODE,
        HirKind::Repetition(rep) => {
            let copies = rep.max.unwrap_or(rep.min).max(rep.min) as usize + 1;
            states_bound(&rep.sub)
                .saturating_add(PER_NODE)
                .saturating_mul(copies)
        }
        HirKind::Capture(cap) => states_bound(&cap.sub).saturating_add(PER_NODE),
        HirKind::Concat(subs) | HirKind::Alternation(subs) => {
            subs.iter().map(states_bound).fold(PER_NODE, |a, b| {
                a.saturating_add(b).saturating_add(PER_NODE)
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The larger of the two NFAs' memory, as the compiler measures it against the limit.
    fn nfa_bytes(hir: &Hir) -> usize {
        use regex_automata::nfa::thompson::{Compiler, Config, WhichCaptures};
        let config = Config::new().nfa_size_limit(None).shrink(false);
        let reverse = config
            .clone()
            .which_captures(WhichCaptures::None)
            .reverse(true);
        [config, reverse]
            .into_iter()
            .map(|c| {
                Compiler::new()
                    .configure(c)
                    .build_from_hir(hir)
                    .map_or(usize::MAX, |nfa| nfa.memory_usage())
            })
            .max()
            .unwrap_or(0)
    }

    fn check_bound(pattern: &str) {
        let hir = regex_syntax::Parser::new().parse(pattern).unwrap();
        let bound = bound_bytes(&hir);
        let real = nfa_bytes(&hir);
        assert!(bound >= real, "{pattern}: bound {bound} < NFA {real}");
    }

    /// Every string under a key that holds patterns, anywhere in a pack.
    fn patterns_in(value: &toml::Value, key: &str, out: &mut Vec<String>) {
        const KEYS: [&str; 9] = [
            "added",
            "removed",
            "matched",
            "patterns",
            "changed",
            "stopped_by",
            "unless_found",
            "becomes_matching",
            "name_from",
        ];
        match value {
            toml::Value::String(s) if KEYS.iter().any(|k| key.starts_with(k)) => {
                out.push(s.clone())
            }
            toml::Value::Array(items) => items.iter().for_each(|v| patterns_in(v, key, out)),
            toml::Value::Table(t) => t.iter().for_each(|(k, v)| patterns_in(v, k, out)),
            _ => {}
        }
    }

    #[test]
    fn the_bound_is_never_below_the_nfa_of_any_built_in_pattern() {
        let mut patterns = Vec::new();
        for file in crate::rules::builtin::files() {
            let value: toml::Value = toml::from_str(&file.text).unwrap();
            patterns_in(&value, "", &mut patterns);
        }
        let mut checked = 0;
        for p in &patterns {
            if regex_syntax::Parser::new().parse(p).is_ok() {
                check_bound(p);
                checked += 1;
            }
        }
        assert!(checked > 300, "only {checked} patterns found");
    }

    #[test]
    fn the_bound_holds_on_hostile_patterns() {
        for p in [
            r"\w{500}",
            r"(?i)\w+\s+[[:alpha:]]{3,40}",
            r"\p{L}{2,9}|\p{N}*",
            r"(a|b|c|d){1,50}(?:\W\S){3}",
            r"^\s*(?:[^\x00-\x7f]|\d){0,20}$",
            r"(?-u:\w){100}",
            r"\b(?:foo|bar|baz|qux|quux|corge|grault|garply|waldo|fred|plugh|xyzzy|thud){1,3}\b",
            r".{1,100}",
            r"(?s).+",
            "",
        ] {
            check_bound(p);
        }
    }

    fn pattern() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let atom = prop_oneof![
            Just(r"\w".to_string()),
            Just(r"\d".to_string()),
            Just(r"\s".to_string()),
            Just(r"\S".to_string()),
            Just(r"\p{L}".to_string()),
            Just(r"(?i:k\w)".to_string()),
            Just(r"[^x]".to_string()),
            Just(r".".to_string()),
            Just(r"\b".to_string()),
            Just("ab".to_string()),
            Just(r"(?-u:\w)".to_string()),
        ];
        atom.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 1..4).prop_map(|v| v.concat()),
                proptest::collection::vec(inner.clone(), 1..4)
                    .prop_map(|v| format!("(?:{})", v.join("|"))),
                (inner.clone(), 0u32..4, 0u32..4).prop_map(|(p, a, b)| format!(
                    "(?:{p}){{{},{}}}",
                    a.min(b),
                    a.max(b)
                )),
                inner.prop_map(|p| format!("(?:{p})+")),
            ]
        })
    }

    proptest::proptest! {
        #[test]
        fn the_bound_holds_on_generated_patterns(p in pattern()) {
            check_bound(&p);
        }
    }

    #[test]
    fn a_set_that_certainly_fits_is_known_without_compiling_and_others_are_not() {
        assert!(set_fits(&[r"^\s*\w+:", r"\bfoo\b"], 64 << 20));
        assert!(!set_fits(&[r"\w{500}"], 64 << 20));
        assert!(!set_fits(&[r"(unclosed"], 64 << 20));
        let many = vec![r"\w{20}"; 40];
        assert!(!set_fits(&many, 64 << 20));
    }

    #[test]
    fn a_checked_pattern_says_why_it_cannot_compile() {
        assert!(checked(r"(a").unwrap_err().contains("unclosed"));
        assert!(checked(r"\w{500}").unwrap_err().contains("size limit"));
        let hir = checked(r"name: (\w+)").unwrap();
        assert_eq!(hir.properties().explicit_captures_len(), 1);
    }

    #[test]
    fn a_pattern_past_the_limit_is_refused_and_one_near_it_is_built_to_know() {
        let big = regex_syntax::Parser::new().parse(r"\w{500}").unwrap();
        assert!(too_big(&big).is_some_and(|why| why.contains("size limit")));
        let small = regex_syntax::Parser::new().parse(r"^\s*\w+:").unwrap();
        assert_eq!(too_big(&small), None);
        // Near the limit by the bound, within it in truth: built, and accepted.
        let near = regex_syntax::Parser::new().parse(r"\w{20}").unwrap();
        assert!(bound_bytes(&near) >= REGEX_SIZE_LIMIT / 2);
        assert_eq!(too_big(&near), None);
    }
}
