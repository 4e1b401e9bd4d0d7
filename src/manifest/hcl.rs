//! Terraform (HCL) into blocks by address, with hcl-edit (it keeps each item's byte span, so a
//! finding points at its line; hcl-rs keeps none).
//!
//! A block's body reads as a [`Node`] tree: an attribute is a scalar (a string literal's value,
//! any other expression's source text), a nested block a mapping under its name.

use std::collections::BTreeSet;
use std::sync::Arc;

use hcl_edit::Span;
use hcl_edit::expr::Expression;
use hcl_edit::structure::{Block, BlockLabel, Body, Structure};

use super::yaml::{Node, Value};
use super::{Format, Moved, Object, Parsed, SideReading, folder, jinja};

pub fn read(path: &str, text: &str) -> SideReading {
    read_variant(path, text, &[])
}

/// Reads `text`; a Jinja template as the variant with the template variables `on` set and the
/// others unset (see [`jinja::render`]).
pub fn read_variant(path: &str, text: &str, on: &[String]) -> SideReading {
    let failed = |e: hcl_edit::parser::Error| SideReading::Failed {
        line: Some(e.location().line() as u32),
        reason: e.message().to_string(),
        as_written: false,
    };
    match parse_allowing_repeated_keys(text) {
        Ok((body, renamed)) => read_body(path, &body, renamed.as_deref().unwrap_or(text)),
        // A generator's Jinja template (`{% if private_cluster %}`): read as the variant its
        // variables left unset render, with what that leaves out kept (see [`jinja`]).
        Err(_) if jinja::looks_like(text) => {
            let rendered = match jinja::render(text, on) {
                Ok(r) => r,
                Err((line, reason)) => {
                    return SideReading::Failed {
                        line: Some(line),
                        reason: format!("{reason} (it is a Jinja template)"),
                        as_written: false,
                    };
                }
            };
            match parse_allowing_repeated_keys(&rendered.text) {
                Ok((body, renamed)) => {
                    let mut reading =
                        read_body(path, &body, renamed.as_deref().unwrap_or(&rendered.text));
                    if let SideReading::Parsed(p) = &mut reading {
                        p.format = Format::JinjaHcl;
                        p.unread = rendered.unread;
                    }
                    reading
                }
                Err(e) => failed(e),
            }
        }
        Err(e) => failed(e),
    }
}

fn read_body(path: &str, body: &Body, text: &str) -> SideReading {
    let lines = Lines::new(text);
    let dir = folder(path);
    let mut objects = Vec::new();
    let mut moved = Vec::new();
    let mut locals = Vec::new();
    for structure in body.iter() {
        let Structure::Block(block) = structure else {
            continue;
        };
        let labels: Vec<String> = block.labels.iter().map(label).collect();
        let (kind, address) = match (block.ident.as_str(), labels.as_slice()) {
            ("resource", [ty, name]) => (ty.clone(), format!("{ty}.{name}")),
            // A data source reads; removing one destroys nothing: its kind says so.
            ("data", [_, _]) => (
                "data".to_string(),
                format!("data.{}.{}", labels[0], labels[1]),
            ),
            ("module", [name]) => ("module".to_string(), format!("module.{name}")),
            ("variable", [name]) => ("variable".to_string(), format!("var.{name}")),
            ("output", [name]) => ("output".to_string(), format!("output.{name}")),
            ("locals", []) => {
                for s in block.body.iter() {
                    if let Structure::Attribute(a) = s {
                        let value = match &a.value {
                            Expression::Null(_) => String::new(),
                            e => expression_text(e, text),
                        };
                        locals.push((a.key.as_str().to_string(), value));
                    }
                }
                continue;
            }
            ("moved", []) => {
                let from = attribute_text(&block.body, "from", text);
                let to = attribute_text(&block.body, "to", text);
                if let (Some(from), Some(to)) = (from, to) {
                    moved.push(Moved {
                        from: key(dir, &from),
                        to: Some(key(dir, &to)),
                    });
                }
                continue;
            }
            ("removed", []) => {
                // Terraform 1.7: forgotten from the state, not destroyed, when destroy = false.
                let keeps = block.body.iter().any(|s| {
                    matches!(s, Structure::Block(b) if b.ident.as_str() == "lifecycle"
                        && attribute_text(&b.body, "destroy", text).as_deref() == Some("false"))
                });
                if let (true, Some(from)) = (keeps, attribute_text(&block.body, "from", text)) {
                    moved.push(Moved {
                        from: key(dir, &from),
                        to: None,
                    });
                }
                continue;
            }
            _ => continue,
        };
        let line = lines.line_of(block.span().map(|s| s.start).unwrap_or(0));
        objects.push(Object {
            kind,
            key: key(dir, &address),
            name: address,
            line,
            guard: Arc::from(Vec::new()),
            body: body_node(&block.body, text, &lines, line),
            templated_key: false,
            keys: Default::default(),
        });
    }
    SideReading::Parsed(Parsed {
        format: Format::Hcl,
        objects,
        moved,
        conditions: BTreeSet::new(),
        line_guards: Vec::new(),
        renders: Vec::new(),
        first_branches: false,
        default_lines: Vec::new(),
        written: Vec::new(),
        locals,
        unread: Vec::new(),
    })
}

/// Most repeated keys HCL text is read with (see [`parse_allowing_repeated_keys`]).
const MAX_REPEATED_KEYS: usize = 64;

/// Parses `text` as an HCL body. Terraform accepts an object constructor that repeats a key
/// (`{ a = 1, a = 2 }`: the last wins), which the parser refuses; each repeated key is then
/// renamed where it stands (`dup1_a`, on the same line, so lines stay the file's) and the text
/// parsed again. Returns the text read when it had to be changed.
fn parse_allowing_repeated_keys(
    text: &str,
) -> Result<(Body, Option<String>), hcl_edit::parser::Error> {
    let mut changed: Option<String> = None;
    for n in 1..=MAX_REPEATED_KEYS {
        let current = changed.as_deref().unwrap_or(text);
        let e = match hcl_edit::parser::parse_body(current) {
            Ok(body) => return Ok((body, changed)),
            Err(e) => e,
        };
        let at = e.location().offset();
        if !e.message().contains("redefined object key") || !current.is_char_boundary(at) {
            return Err(e);
        }
        let insert_at = match current[at..].chars().next() {
            Some('"') => at + 1,
            Some(c) if c.is_alphabetic() || c == '_' => at,
            _ => return Err(e),
        };
        let mut next = current.to_string();
        next.insert_str(insert_at, &format!("dup{n}_"));
        changed = Some(next);
    }
    hcl_edit::parser::parse_body(changed.as_deref().unwrap_or(text)).map(|b| (b, changed))
}

/// Terraform addresses are per module, and a module is a folder: the same resource may move
/// between the files of one folder.
fn key(dir: &str, address: &str) -> String {
    format!("tf:{dir}:{address}")
}

fn label(l: &BlockLabel) -> String {
    match l {
        BlockLabel::Ident(i) => i.as_str().to_string(),
        BlockLabel::String(s) => s.as_str().to_string(),
    }
}

fn attribute_text(body: &Body, name: &str, text: &str) -> Option<String> {
    body.iter().find_map(|s| match s {
        Structure::Attribute(a) if a.key.as_str() == name => {
            let value = expression_text(&a.value, text);
            // An address (`from = aws_db_instance.old`) is a reference: its source is the text.
            Some(
                match value.strip_prefix("${").and_then(|v| v.strip_suffix('}')) {
                    Some(inner) => inner.to_string(),
                    None => value,
                },
            )
        }
        _ => None,
    })
}

/// A literal's value (a string's text, `true`, `3`, `["a", "b"]`); any other expression as
/// `${source}`, whitespace collapsed, so a reader (and a rule) can tell a value written here from
/// one computed at plan time.
fn expression_text(expr: &Expression, text: &str) -> String {
    match expr {
        Expression::String(s) => s.as_str().to_string(),
        Expression::Bool(b) => b.value().to_string(),
        Expression::Null(_) => String::new(),
        Expression::Number(n) => n.to_string(),
        other => {
            let source = other
                .span()
                .and_then(|s| text.get(s))
                .map(str::to_string)
                .unwrap_or_else(|| other.to_string());
            let source = source.split_whitespace().collect::<Vec<_>>().join(" ");
            match (
                &other,
                source.strip_prefix('"').and_then(|s| s.strip_suffix('"')),
            ) {
                // A string with interpolations reads as its text: its `${...}` parts show.
                (Expression::StringTemplate(_), Some(inner)) => inner.to_string(),
                (Expression::Array(_) | Expression::Object(_), _) if is_literal_text(&source) => {
                    source
                }
                _ => format!("${{{source}}}"),
            }
        }
    }
}

/// Whether a collection's source holds only literals: no references, calls or templates (a
/// bare word other than true/false/null, a `(` outside strings, or `${` inside one).
fn is_literal_text(source: &str) -> bool {
    let mut in_string = false;
    let mut word = String::new();
    let mut prev = ' ';
    for c in source.chars().chain(std::iter::once(' ')) {
        if in_string {
            if c == '"' && prev != '\\' {
                in_string = false;
            } else if c == '{' && prev == '$' {
                return false;
            }
        } else if c.is_ascii_alphanumeric() || c == '_' || c == '.' {
            word.push(c);
        } else {
            let bare = word.starts_with(|w: char| w.is_ascii_alphabetic());
            if bare && !matches!(word.as_str(), "true" | "false" | "null") {
                return false;
            }
            word.clear();
            match c {
                '"' => in_string = true,
                '(' => return false,
                _ => {}
            }
        }
        prev = c;
    }
    true
}

fn body_node(body: &Body, text: &str, lines: &Lines, line: u32) -> Node {
    let mut entries = Vec::new();
    for s in body.iter() {
        match s {
            Structure::Attribute(a) => {
                let at = lines.line_of(a.span().map(|s| s.start).unwrap_or(0));
                let value = match &a.value {
                    Expression::Null(_) => Value::Null,
                    e => Value::Scalar(expression_text(e, text)),
                };
                entries.push((a.key.as_str().to_string(), Node { line: at, value }));
            }
            Structure::Block(b) => entries.push(block_entry(b, text, lines)),
        }
    }
    Node {
        line,
        value: Value::Map(entries),
    }
}

/// `lifecycle { ... }` is the entry `lifecycle`; `dynamic "ingress" { ... }` is `dynamic` with
/// the entry `ingress` inside.
fn block_entry(block: &Block, text: &str, lines: &Lines) -> (String, Node) {
    let line = lines.line_of(block.span().map(|s| s.start).unwrap_or(0));
    let mut node = body_node(&block.body, text, lines, line);
    for l in block.labels.iter().rev() {
        node = Node {
            line,
            value: Value::Map(vec![(label(l), node)]),
        };
    }
    (block.ident.as_str().to_string(), node)
}

struct Lines(Vec<usize>);

impl Lines {
    fn new(text: &str) -> Lines {
        Lines(text.match_indices('\n').map(|(i, _)| i).collect())
    }

    fn line_of(&self, offset: usize) -> u32 {
        (self.0.partition_point(|&n| n < offset) + 1) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// From terraform-aws-modules/terraform-aws-alb's examples: Terraform takes the last of a
    /// repeated key in an object constructor; the file is read, not refused.
    #[test]
    fn an_object_that_repeats_a_key_is_read_as_terraform_reads_it() {
        let text = "module \"alb\" {\n  source = \"../\"\n  target_groups = {\n    ex = { port = 80 }\n    \"ex\" = { port = 81 }\n    ex = { port = 82 }\n  }\n}\n\nresource \"aws_lb\" \"this\" {\n  name = \"x\"\n}\n";
        let SideReading::Parsed(p) = read("main.tf", text) else {
            panic!("not read: {:?}", read("main.tf", text));
        };
        let lb = p
            .objects
            .iter()
            .find(|o| o.kind == "aws_lb")
            .expect("the load balancer");
        assert_eq!(lb.line, 10);
        // Anything else the parser refuses still says why.
        assert!(matches!(
            read("main.tf", "resource \"a\" \"b\" {\n  x = \n"),
            SideReading::Failed { .. }
        ));
    }

    const MAIN: &str = r#"variable "region" {
  type    = string
  default = "eu-west-1"
}

resource "aws_db_instance" "main" {
  identifier = "orders-${var.env}"
  engine     = "postgres"

  lifecycle {
    prevent_destroy = true
  }
}

moved {
  from = aws_db_instance.old
  to   = aws_db_instance.main
}

removed {
  from = aws_s3_bucket.logs
  lifecycle {
    destroy = false
  }
}
"#;

    #[test]
    fn blocks_by_address_with_lines_and_moves() {
        let SideReading::Parsed(p) = read("infra/main.tf", MAIN) else {
            panic!()
        };
        let found: Vec<_> = p
            .objects
            .iter()
            .map(|o| (o.kind.as_str(), o.key.as_str(), o.line))
            .collect();
        assert_eq!(
            found,
            vec![
                ("variable", "tf:infra:var.region", 1),
                ("aws_db_instance", "tf:infra:aws_db_instance.main", 6)
            ]
        );
        let db = &p.objects[1].body;
        assert_eq!(
            db.at(&["lifecycle", "prevent_destroy"])
                .map(|n| (n.as_str(), n.line)),
            Some((Some("true"), 11))
        );
        assert_eq!(
            db.get("identifier").and_then(Node::as_str),
            Some("orders-${var.env}")
        );
        assert_eq!(
            p.moved,
            vec![
                Moved {
                    from: "tf:infra:aws_db_instance.old".into(),
                    to: Some("tf:infra:aws_db_instance.main".into())
                },
                Moved {
                    from: "tf:infra:aws_s3_bucket.logs".into(),
                    to: None
                }
            ]
        );
    }

    #[test]
    fn literals_read_as_values_and_expressions_as_templates() {
        let text = "resource \"a_b\" \"c\" {\n  n = 3\n  l = [\"x\", 1]\n  v = var.name\n  f = join(\"-\", [\"a\"])\n  r = [var.a]\n}\n";
        let SideReading::Parsed(p) = read("main.tf", text) else {
            panic!()
        };
        let body = &p.objects[0].body;
        let get = |k: &str| body.get(k).and_then(Node::as_str).unwrap_or("").to_string();
        assert_eq!(get("n"), "3");
        assert_eq!(get("l"), "[\"x\", 1]");
        assert_eq!(get("v"), "${var.name}");
        assert_eq!(get("f"), "${join(\"-\", [\"a\"])}");
        assert_eq!(get("r"), "${[var.a]}");
    }

    #[test]
    fn locals_read_by_name_as_attributes_read() {
        let text = "locals {\n  prefix = var.use_prefix ? \"${var.name}-\" : null\n  fixed = \"web\"\n}\n\nlocals {\n  none = null\n}\n";
        let SideReading::Parsed(p) = read("main.tf", text) else {
            panic!()
        };
        assert!(p.objects.is_empty());
        assert_eq!(
            p.locals,
            vec![
                (
                    "prefix".to_string(),
                    "${var.use_prefix ? \"${var.name}-\" : null}".to_string()
                ),
                ("fixed".to_string(), "web".to_string()),
                ("none".to_string(), String::new()),
            ]
        );
    }

    #[test]
    fn invalid_hcl_says_where() {
        let SideReading::Failed { line, .. } = read("main.tf", "resource \"a\" \"b\" {\n  x = \n")
        else {
            panic!()
        };
        assert!(line.is_some());
    }
}
