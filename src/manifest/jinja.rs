//! Terraform written as a Jinja template, read as HCL.
//!
//! A module generator keeps one template per file and writes each variant of the module from it
//! (terraform-google-modules' `autogen/`: `{% if private_cluster %}` around what only the
//! private variant has, `{{ autogeneration_note }}` at the top). Such a file is not HCL until it
//! is rendered, so it was read as lines, and line rules misread it.
//!
//! [`render`] renders it as the variant its template variables left unset give: every variable
//! undefined (false), so each `{% if %}` takes the branch that reading selects (an `{% if not
//! beta_cluster %}` is taken, an `{% if beta_cluster %}` is not). A `{% for %}` body is read once,
//! and a `{{ value }}` reads as [`TEMPLATED`] (computed: it differs from nothing). What the
//! reading leaves out is kept as line ranges ([`Rendered::unread`]), so a change that touches
//! them is read as lines instead, never judged from the part that was read. Lines stay the
//! file's: a statement leaves its line empty.

use super::TEMPLATED;

/// A Jinja template rendered as its base variant.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    pub text: String,
    /// What the reading left out (a branch not taken, a value that writes whole lines): first
    /// and last 1-based line, and what it is.
    pub unread: Vec<(u32, u32, String)>,
}

/// Whether `text` holds Jinja tags at all (`{%`, `{{` or `{#`).
pub fn looks_like(text: &str) -> bool {
    text.contains("{%") || text.contains("{{") || text.contains("{#")
}

/// One open `{% if %}` or `{% for %}`.
struct Frame {
    /// Whether the branch being read renders (and every frame around it does).
    taking: bool,
    /// Whether a branch of this `if` was taken already (`elif` and `else` are then not).
    taken: bool,
    /// Whether the frames around this one render.
    outer: bool,
    is_for: bool,
    /// Where the branch being left out began, and its statement.
    aside_from: Option<(u32, String)>,
}

/// Renders `text` as the variant its template variables left unset give. An error names the
/// 1-based line and what this reading does not follow (an unclosed tag, a macro, an `include`,
/// a condition that is more than names, literals, `not`, `and`, `or`, `==` and `!=`).
pub fn render(text: &str, on: &[String]) -> Result<Rendered, (u32, String)> {
    let mut out = String::with_capacity(text.len());
    let mut unread = Vec::new();
    let mut frames: Vec<Frame> = Vec::new();
    let mut line = 1u32;
    let mut rest = text;
    let active = |frames: &[Frame]| frames.last().is_none_or(|f| f.taking);
    while !rest.is_empty() {
        let Some(at) = find_tag(rest) else {
            push_text(&mut out, rest, active(&frames));
            line += rest.matches('\n').count() as u32;
            break;
        };
        push_text(&mut out, &rest[..at], active(&frames));
        line += rest[..at].matches('\n').count() as u32;
        let tag = &rest[at..];
        let close = match &tag[..2] {
            "{{" => "}}",
            "{%" => "%}",
            _ => "#}",
        };
        let Some(end) = tag[2..].find(close).map(|e| e + 2 + close.len()) else {
            return Err((
                line,
                format!("a Jinja tag `{}` that does not close", &tag[..2]),
            ));
        };
        let whole = &tag[..end];
        let inner = whole[2..whole.len() - 2].trim_matches(|c: char| c == '-' || c == '+');
        let inner = inner.trim();
        match &tag[..2] {
            "{{" if active(&frames) => {
                let alone = out.rsplit('\n').next().is_some_and(|l| l.trim().is_empty())
                    && tag[end..]
                        .split('\n')
                        .next()
                        .is_some_and(|l| l.trim().is_empty());
                // A value alone on its line writes lines (a generated-file note, a block): not
                // HCL this reading can know, so it is kept as left out. Inside a string it is
                // part of the string; elsewhere it is an expression, read as a computed string.
                if alone {
                    let last = line + whole.matches('\n').count() as u32;
                    unread.push((
                        line,
                        last,
                        format!("the Jinja value `{{{{ {inner} }}}}`, whose lines this reading cannot know"),
                    ));
                } else {
                    if in_string(&out) {
                        out.push_str(TEMPLATED);
                    } else {
                        out.push('"');
                        out.push_str(TEMPLATED);
                        out.push('"');
                    }
                }
            }
            "{%" => statement(inner, line, on, &mut frames, &mut unread)?,
            _ => {}
        }
        let newlines = whole.matches('\n').count();
        out.extend(std::iter::repeat_n('\n', newlines));
        line += newlines as u32;
        rest = &tag[end..];
    }
    if let Some(f) = frames.last() {
        let what = if f.is_for { "for" } else { "if" };
        return Err((line, format!("a Jinja `{{% {what} %}}` that does not end")));
    }
    Ok(Rendered { text: out, unread })
}

/// Where the next Jinja tag starts.
fn find_tag(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    memchr::memchr_iter(b'{', bytes)
        .find(|&i| matches!(bytes.get(i + 1), Some(b'{' | b'%' | b'#')) && !preceded_by(bytes, i))
}

/// Whether the `{` at `i` belongs to HCL's own `${` or `%{` (a template directive in a string).
fn preceded_by(bytes: &[u8], i: usize) -> bool {
    i > 0 && matches!(bytes[i - 1], b'$' | b'%')
}

/// Copies text that renders; text left out keeps only its line ends.
fn push_text(out: &mut String, text: &str, active: bool) {
    if active {
        out.push_str(text);
    } else {
        out.extend(std::iter::repeat_n('\n', text.matches('\n').count()));
    }
}

/// Whether the end of `out` is inside an HCL string on its last line (an odd count of unescaped
/// quotes).
fn in_string(out: &str) -> bool {
    let last = out.rsplit('\n').next().unwrap_or("");
    let mut inside = false;
    let mut escaped = false;
    for c in last.chars() {
        match c {
            '\\' if inside => escaped = !escaped,
            '"' if !escaped => inside = !inside,
            _ => escaped = false,
        }
        if c != '\\' {
            escaped = false;
        }
    }
    inside
}

fn statement(
    inner: &str,
    line: u32,
    on: &[String],
    frames: &mut Vec<Frame>,
    unread: &mut Vec<(u32, u32, String)>,
) -> Result<(), (u32, String)> {
    let (word, rest) = inner
        .split_once(char::is_whitespace)
        .map(|(w, r)| (w, r.trim()))
        .unwrap_or((inner, ""));
    let outer = frames.last().is_none_or(|f| f.taking);
    let condition = |text: &str| {
        eval(text, on).ok_or_else(|| {
            (
                line,
                format!("a Jinja condition `{text}` that this reading does not evaluate"),
            )
        })
    };
    // Ends the branch being read in the innermost frame: a branch left out is recorded.
    let close = |f: &mut Frame, unread: &mut Vec<(u32, u32, String)>| {
        if let Some((from, what)) = f.aside_from.take() {
            unread.push((from, line, what));
        }
    };
    let open = |f: &mut Frame, taking: bool, what: &str| {
        f.taking = f.outer && taking;
        if f.outer && !taking {
            f.aside_from = Some((line, format!("the Jinja branch `{{% {what} %}}`")));
        }
    };
    match word {
        "if" => {
            let taking = condition(rest)?;
            let mut f = Frame {
                taking: false,
                taken: taking,
                outer,
                is_for: false,
                aside_from: None,
            };
            open(&mut f, taking, inner);
            frames.push(f);
        }
        "elif" | "else" => {
            let Some(f) = frames.last_mut() else {
                return Err((line, format!("a Jinja `{{% {word} %}}` outside an `if`")));
            };
            close(f, unread);
            let taking = if f.taken || f.is_for {
                false
            } else if word == "elif" {
                condition(rest)?
            } else {
                true
            };
            f.taken |= taking;
            open(f, taking, inner);
        }
        "endif" | "endfor" => {
            let wanted = word == "endfor";
            match frames.pop() {
                Some(mut f) if f.is_for == wanted => close(&mut f, unread),
                _ => return Err((line, format!("a Jinja `{{% {word} %}}` with no opening"))),
            }
        }
        "for" => frames.push(Frame {
            taking: outer,
            taken: false,
            outer,
            is_for: true,
            aside_from: None,
        }),
        // `{% set x = ... %}` writes nothing (its block form, with `{% endset %}`, does).
        "set" if rest.contains('=') => {}
        _ => {
            return Err((
                line,
                format!("a Jinja `{{% {word} %}}` statement, which this reading does not follow"),
            ));
        }
    }
    Ok(())
}

/// A value a condition works with; a template variable is undefined.
#[derive(Debug, Clone, PartialEq)]
enum V {
    Undefined,
    Bool(bool),
    Text(String),
}

impl V {
    fn truthy(&self) -> bool {
        match self {
            V::Undefined => false,
            V::Bool(b) => *b,
            V::Text(s) => !s.is_empty() && s != "0",
        }
    }
}

/// Evaluates a condition with every template variable undefined; `None` for what it does not
/// follow (filters, tests, calls, arithmetic).
fn eval(condition: &str, on: &[String]) -> Option<bool> {
    let tokens = tokens(condition)?;
    let mut at = 0;
    let v = or(&tokens, &mut at, on)?;
    (at == tokens.len()).then(|| v.truthy())
}

fn tokens(text: &str) -> Option<Vec<String>> {
    let mut out = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            c if c.is_whitespace() => {}
            '(' | ')' => out.push(c.to_string()),
            '=' | '!' => {
                chars.next_if(|&(_, n)| n == '=')?;
                out.push(format!("{c}="));
            }
            '"' | '\'' => {
                let end = text[i + 1..].find(c)? + i + 1;
                out.push(text[i..=end].to_string());
                while chars.next_if(|&(j, _)| j <= end).is_some() {}
            }
            c if c.is_alphanumeric() || c == '_' => {
                let mut word = c.to_string();
                while let Some((_, n)) = chars.next_if(|&(_, n)| n.is_alphanumeric() || n == '_') {
                    word.push(n);
                }
                out.push(word);
            }
            _ => return None,
        }
    }
    Some(out)
}

fn or(t: &[String], at: &mut usize, on: &[String]) -> Option<V> {
    let mut v = and(t, at, on)?;
    while t.get(*at).is_some_and(|w| w == "or") {
        *at += 1;
        let w = and(t, at, on)?;
        v = V::Bool(v.truthy() || w.truthy());
    }
    Some(v)
}

fn and(t: &[String], at: &mut usize, on: &[String]) -> Option<V> {
    let mut v = not(t, at, on)?;
    while t.get(*at).is_some_and(|w| w == "and") {
        *at += 1;
        let w = not(t, at, on)?;
        v = V::Bool(v.truthy() && w.truthy());
    }
    Some(v)
}

fn not(t: &[String], at: &mut usize, on: &[String]) -> Option<V> {
    if t.get(*at).is_some_and(|w| w == "not") {
        *at += 1;
        return Some(V::Bool(!not(t, at, on)?.truthy()));
    }
    let a = atom(t, at, on)?;
    match t.get(*at).map(String::as_str) {
        Some(op @ ("==" | "!=")) => {
            let equal = op == "==";
            *at += 1;
            let b = atom(t, at, on)?;
            Some(V::Bool((a == b) == equal))
        }
        _ => Some(a),
    }
}

fn atom(t: &[String], at: &mut usize, on: &[String]) -> Option<V> {
    let word = t.get(*at)?;
    *at += 1;
    match word.as_str() {
        "(" => {
            let v = or(t, at, on)?;
            (t.get(*at)? == ")").then(|| *at += 1)?;
            Some(v)
        }
        "true" | "True" => Some(V::Bool(true)),
        "false" | "False" | "none" | "None" => Some(V::Bool(false)),
        "and" | "or" | "not" | "in" | "is" | ")" | "==" | "!=" => None,
        w if w.starts_with(['"', '\'']) => Some(V::Text(w[1..w.len() - 1].to_string())),
        w if w.starts_with(|c: char| c.is_ascii_digit()) => Some(V::Text(w.to_string())),
        w if on.iter().any(|o| o == w) => Some(V::Bool(true)),
        _ => Some(V::Undefined),
    }
}

/// The template variables the conditions of `text` name (`private_cluster`), sorted: the
/// variants a reading can turn on.
pub fn variables(text: &str) -> Vec<String> {
    let mut names = std::collections::BTreeSet::new();
    let mut rest = text;
    while let Some(at) = rest.find("{%") {
        let Some(end) = rest[at + 2..].find("%}").map(|e| at + 2 + e) else {
            break;
        };
        let inner = rest[at + 2..end].trim_matches(|c: char| c == '-' || c == '+');
        let inner = inner.trim();
        if let Some(cond) = inner
            .strip_prefix("if ")
            .or_else(|| inner.strip_prefix("elif "))
        {
            for t in tokens(cond).unwrap_or_default() {
                let keyword = matches!(
                    t.as_str(),
                    "and"
                        | "or"
                        | "not"
                        | "in"
                        | "is"
                        | "true"
                        | "True"
                        | "false"
                        | "False"
                        | "none"
                        | "None"
                );
                if !keyword && t.starts_with(|c: char| c.is_alphabetic() || c == '_') {
                    names.insert(t);
                }
            }
        }
        rest = &rest[end..];
    }
    names.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// From terraform-google-modules/terraform-google-kubernetes-engine's `autogen/variables.tf`.
    #[test]
    fn the_base_variant_is_read_with_lines_kept() {
        let text = "{{ autogeneration_note }}\n\nvariable \"a\" {\n{% if private_cluster %}\n  default = 1\n{% else %}\n  default = 2\n{% endif %}\n}\n{% if not beta_cluster %}\nvariable \"b\" {}\n{% endif %}\n";
        let r = render(text, &[]).unwrap();
        assert_eq!(r.text.lines().count(), text.lines().count());
        assert_eq!(
            r.text,
            "\n\nvariable \"a\" {\n\n\n\n  default = 2\n\n}\n\nvariable \"b\" {}\n\n"
        );
        assert_eq!(
            r.unread,
            vec![
                (
                    1,
                    1,
                    "the Jinja value `{{ autogeneration_note }}`, whose lines this reading cannot know"
                        .into()
                ),
                (4, 6, "the Jinja branch `{% if private_cluster %}`".into())
            ]
        );
    }

    #[test]
    fn values_read_as_computed_in_and_out_of_strings() {
        let text = "resource \"x\" \"pools-{{ v }}\" {\n  create = {{ v }}\n  name = \"${var.a}-{{ n }}\"\n}\n";
        let r = render(text, &[]).unwrap();
        assert_eq!(
            r.text,
            format!(
                "resource \"x\" \"pools-{TEMPLATED}\" {{\n  create = \"{TEMPLATED}\"\n  name = \"${{var.a}}-{TEMPLATED}\"\n}}\n"
            )
        );
    }

    #[test]
    fn nested_branches_and_loops() {
        let text = "{% for v in [\"true\", \"false\"] %}\na\n{% if beta_cluster or private_cluster %}\nb\n{% elif update_variant == \"x\" %}\nc\n{% elif not update_variant %}\nd\n{% else %}\ne\n{% endif %}\n{% endfor %}\n";
        let r = render(text, &[]).unwrap();
        assert_eq!(r.text, "\na\n\n\n\n\n\nd\n\n\n\n\n");
        assert_eq!(
            r.unread.iter().map(|u| (u.0, u.1)).collect::<Vec<_>>(),
            vec![(3, 5), (5, 7), (9, 11)]
        );
    }

    #[test]
    fn what_is_not_followed_says_where() {
        for (text, line) in [
            ("a\n{% macro m() %}\n", 2),
            ("a\n{% if x | length %}\n{% endif %}\n", 2),
            ("a\n{% if x %}\nb\n", 4),
            ("{% endif %}\n", 1),
            ("a\nb {{ x\n", 2),
        ] {
            let e = render(text, &[]).unwrap_err();
            assert_eq!(e.0, line, "{text:?}: {e:?}");
        }
    }

    #[test]
    fn overlapping_tags_do_not_panic() {
        for text in [
            "{%}",
            "{{}",
            "{#}",
            "{%%}",
            "{% if %}",
            "{%-%}{%+",
            "a {{ \"b }}",
            "{% if 'x %}",
        ] {
            let _ = render(text, &[]);
            let _ = variables(text);
        }
    }

    proptest::proptest! {
        /// Any text: an error or a rendering with the same number of lines, never a panic.
        #[test]
        fn any_text_renders_or_says_why(text in "[{}%#a-z\"' \n=!()-]{0,80}") {
            let names = variables(&text);
            if let Ok(r) = render(&text, &names) {
                proptest::prop_assert_eq!(
                    r.text.matches('\n').count(),
                    text.matches('\n').count()
                );
            }
        }
    }

    #[test]
    fn hcl_templates_are_not_jinja() {
        let text = "x = \"${var.a}\"\ny = <<EOT\n%{ if var.b }on%{ endif }\nEOT\n";
        assert_eq!(render(text, &[]).unwrap().text, text);
    }
}
