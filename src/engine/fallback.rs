//! The `fallback_changed` comparison of document rules: a Terraform module's defaults are not
//! only its variables' `default`s. `lookup(each.value, "image_type", "COS")` gives every caller
//! that leaves `image_type` unset `"COS"`; changing that fallback changes their infrastructure
//! as surely as changing a variable's default (terraform-google-kubernetes-engine e6b9282:
//! `COS` to `COS_CONTAINERD`, every node pool recreated).

/// Functions whose last argument is what a caller gets when the value is unset.
const WITH_FALLBACK: &[&str] = &["lookup", "try", "coalesce"];

/// For two attribute values as read (`${lookup(each.value, "image_type", "COS")}`): the old and
/// new fallback when both are one call of the same function with the same leading arguments
/// and a different last one, both written out (a string, number or bool, not null or empty).
pub(super) fn changed(old: &str, new: &str) -> Option<(String, String)> {
    let (f, old_args) = call(old)?;
    let (g, new_args) = call(new)?;
    if f != g || old_args.len() != new_args.len() || old_args.len() < 2 {
        return None;
    }
    let (old_last, old_lead) = old_args.split_last()?;
    let (new_last, new_lead) = new_args.split_last()?;
    let squash = |s: &str| s.split_whitespace().collect::<String>();
    let same_lead = old_lead
        .iter()
        .zip(new_lead)
        .all(|(a, b)| squash(a) == squash(b));
    if !same_lead || squash(old_last) == squash(new_last) {
        return None;
    }
    // As for a variable's default: null or an empty value says "not set" (the provider decides,
    // most often what the other side wrote out), so only two values written out differ; and a
    // flag left unset turned on.
    let (a, b) = (old_last.trim(), new_last.trim());
    let set = |v: &str| is_literal(v) && !matches!(v, "null" | "\"\"" | "[]" | "{}");
    ((set(a) && set(b)) || (a == "null" && b == "true")).then(|| (a.to_string(), b.to_string()))
}

/// `${name(args)}` as the whole value: the function and its top-level arguments.
fn call(value: &str) -> Option<(&str, Vec<&str>)> {
    let inner = value.strip_prefix("${")?.strip_suffix('}')?.trim();
    let open = inner.find('(')?;
    let name = inner[..open].trim();
    if !WITH_FALLBACK.contains(&name) || !inner.ends_with(')') {
        return None;
    }
    let args = split_args(&inner[open + 1..inner.len() - 1])?;
    Some((name, args))
}

/// Splits at the commas outside brackets and strings; `None` when they do not balance (the
/// call is not the whole value: `lookup(a, "b", "c") == "d"`).
fn split_args(text: &str) -> Option<Vec<&str>> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut in_string = false;
    let mut escaped = false;
    let mut start = 0;
    for (i, c) in text.char_indices() {
        if in_string {
            match c {
                '\\' if !escaped => escaped = true,
                '"' if !escaped => in_string = false,
                _ => escaped = false,
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => {
                depth -= 1;
                if depth < 0 {
                    return None;
                }
            }
            ',' if depth == 0 => {
                out.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if depth != 0 || in_string {
        return None;
    }
    let last = &text[start..];
    if !last.trim().is_empty() {
        out.push(last);
    }
    Some(out)
}

fn is_literal(arg: &str) -> bool {
    let a = arg.trim();
    (a.len() >= 2 && a.starts_with('"') && a.ends_with('"') && !a.contains("${"))
        || matches!(a, "true" | "false" | "null")
        || a.parse::<f64>().is_ok()
}

#[cfg(test)]
mod tests {
    use super::changed;

    #[test]
    fn a_lookup_fallback_changed_is_found() {
        assert_eq!(
            changed(
                r#"${lookup(each.value, "image_type", "COS")}"#,
                r#"${lookup(each.value, "image_type", "COS_CONTAINERD")}"#
            ),
            Some(("\"COS\"".into(), "\"COS_CONTAINERD\"".into()))
        );
        assert!(changed("${try(var.a.b, 3)}", "${try(var.a.b, 5)}").is_some());
        assert!(changed("${try(var.a.b, null)}", "${try(var.a.b, true)}").is_some());
    }

    #[test]
    fn other_changes_are_not_fallbacks() {
        for (a, b) in [
            // Another key, another map: not the fallback.
            (r#"${lookup(m, "a", "x")}"#, r#"${lookup(m, "b", "y")}"#),
            (r#"${lookup(m, "a", "x")}"#, r#"${lookup(n, "a", "y")}"#),
            // Layout only.
            (r#"${lookup(m, "a", "x")}"#, r#"${lookup(m,"a","x")}"#),
            // Two computed fallbacks, or one: what it computes is not known here.
            (r#"${lookup(m, "a", var.x)}"#, r#"${lookup(m, "a", var.y)}"#),
            (
                r#"${lookup(m, "a", var.x ? "b" : "c")}"#,
                r#"${lookup(m, "a", "b")}"#,
            ),
            // Not set on one side: the provider's default (`"STANDARD"` made `null`).
            (
                r#"${try(each.value.type, "STANDARD")}"#,
                r#"${try(each.value.type, null)}"#,
            ),
            (
                r#"${try(each.value.tags, {})}"#,
                r#"${try(each.value.tags, [])}"#,
            ),
            // Not one call as the whole value, or another function.
            (
                r#"${lookup(m, "a", "x") == "z"}"#,
                r#"${lookup(m, "a", "y") == "z"}"#,
            ),
            (r#"${format("%s", "x")}"#, r#"${format("%s", "y")}"#),
            ("COS", "COS_CONTAINERD"),
        ] {
            assert_eq!(changed(a, b), None, "{a} -> {b}");
        }
    }
}
