//! Python read with ruff's parser: the calls, arguments and literals Django and Alembic
//! migrations are written in.
//!
//! ruff's parser is hand-written for speed (about eight times tree-sitter's Python grammar on
//! real Django migrations) and gives a typed tree: statements and expressions, without the
//! comments, parentheses and trailing commas a formatter changes.

use std::collections::BTreeMap;

use ruff_python_ast::{Expr, ModModule, Stmt};
use ruff_text_size::{Ranged, TextSize};

/// An expression of the tree.
pub type Node<'n> = &'n Expr;

/// Source text parsed into a syntax tree.
pub struct Source<'t> {
    pub text: &'t str,
    module: ModModule,
    /// Byte offset of each line's start.
    lines: Vec<u32>,
}

/// Parses Python. A file with syntax errors is refused, with the first error's line: a
/// migration half understood would be read wrong, so the line rules read it instead. ruff's
/// parser refuses nesting deeper than it can walk, so no tree is too deep for the walks here.
pub fn parse(text: &str) -> Result<Source<'_>, String> {
    if u32::try_from(text.len()).is_err() {
        return Err("a Python file over 4 GiB".into());
    }
    let mut lines = vec![0u32];
    lines.extend(
        text.bytes()
            .enumerate()
            .filter(|(_, b)| *b == b'\n')
            .map(|(i, _)| i as u32 + 1),
    );
    let parsed =
        ruff_python_parser::parse_unchecked_source(text, ruff_python_ast::PySourceType::Python);
    let line_of = |at: TextSize| lines.partition_point(|&start| start <= u32::from(at));
    // Python 2's print statement (`print "done"`), still in old migrations, prints and
    // nothing else: the tree ruff recovers around it is the file's. Any other error refuses
    // the file.
    let refused = parsed.errors().iter().find(|e| {
        let line = line_of(e.location.start());
        let start = lines[line - 1] as usize;
        let end = lines.get(line).map_or(text.len(), |&e| e as usize);
        !is_print_statement(&text[start..end])
    });
    if let Some(e) = refused {
        let line = line_of(e.location.start());
        return Err(format!("Python syntax error near line {line}: {}", e.error));
    }
    Ok(Source {
        text,
        module: parsed.into_syntax(),
        lines,
    })
}

/// `print "x"` or `print x, y`: a Python 2 print statement (not a call of `print`).
fn is_print_statement(line: &str) -> bool {
    line.trim_start()
        .strip_prefix("print")
        .is_some_and(|rest| rest.starts_with([' ', '\t']) && !rest.trim_start().starts_with('('))
}

impl<'t> Source<'t> {
    pub fn text_of(&self, node: &impl Ranged) -> &'t str {
        let text: &'t str = self.text;
        &text[node.range()]
    }

    /// The module's statements.
    pub fn body(&self) -> &[Stmt] {
        &self.module.body
    }

    /// 1-based line of a node.
    pub fn line(&self, node: &impl Ranged) -> u32 {
        self.line_at(node.start())
    }

    /// 1-based line of a node's last character.
    pub fn end_line(&self, node: &impl Ranged) -> u32 {
        let end = node.end();
        self.line_at(if end > node.start() {
            end - TextSize::from(1)
        } else {
            end
        })
    }

    fn line_at(&self, at: TextSize) -> u32 {
        self.lines.partition_point(|&start| start <= u32::from(at)) as u32
    }
}

/// The first line of a node's text, trimmed.
pub fn first_line(src: &Source<'_>, node: &impl Ranged) -> String {
    src.text_of(node)
        .lines()
        .next()
        .unwrap_or("")
        .trim()
        .to_string()
}

/// A call, taken apart.
pub struct Call<'n> {
    pub node: Node<'n>,
    /// The called name's last part: `AddField` for `migrations.AddField`.
    pub name: String,
    /// The object the name is called on: `op` for `op.add_column`, `` for a bare name.
    pub receiver: String,
    pub positional: Vec<Node<'n>>,
    pub keywords: BTreeMap<String, Node<'n>>,
}

/// `node` as a call, if it is one.
pub fn call<'n>(src: &Source<'_>, node: Node<'n>) -> Option<Call<'n>> {
    let Expr::Call(c) = node else {
        return None;
    };
    let (name, receiver) = match &*c.func {
        Expr::Attribute(a) => (a.attr.to_string(), src.text_of(&*a.value).to_string()),
        Expr::Name(n) => (n.id.to_string(), String::new()),
        other => (src.text_of(other).to_string(), String::new()),
    };
    let positional = c.arguments.args.iter().collect();
    let keywords = c
        .arguments
        .keywords
        .iter()
        .filter_map(|k| Some((k.arg.as_ref()?.to_string(), &k.value)))
        .collect();
    Some(Call {
        node,
        name,
        receiver,
        positional,
        keywords,
    })
}

impl<'n> Call<'n> {
    /// Argument `index` by position, or by keyword `name`.
    pub fn arg(&self, index: usize, name: &str) -> Option<Node<'n>> {
        self.keywords
            .get(name)
            .copied()
            .or_else(|| self.positional.get(index).copied())
    }
}

/// A literal's value: strings by their value (implicitly concatenated ones joined; an
/// f-string's placeholders as written), `True`/`False`/`None` and numbers as written, anything
/// else `None`.
pub fn literal(src: &Source<'_>, node: Node<'_>) -> Option<String> {
    use ruff_python_ast::{FStringPart, InterpolatedStringElement};
    match node {
        Expr::StringLiteral(s) => Some(s.value.to_str().to_string()),
        Expr::BytesLiteral(b) => {
            let bytes: Vec<u8> = b
                .value
                .iter()
                .flat_map(|p| p.value.iter().copied())
                .collect();
            Some(String::from_utf8_lossy(&bytes).into_owned())
        }
        Expr::FString(f) => {
            let mut out = String::new();
            for part in f.value.iter() {
                match part {
                    FStringPart::Literal(l) => out.push_str(&l.value),
                    FStringPart::FString(f) => {
                        for element in f.elements.iter() {
                            match element {
                                InterpolatedStringElement::Literal(l) => out.push_str(&l.value),
                                InterpolatedStringElement::Interpolation(i) => {
                                    out.push_str(src.text_of(i))
                                }
                            }
                        }
                    }
                }
            }
            Some(out)
        }
        Expr::BooleanLiteral(_) | Expr::NoneLiteral(_) | Expr::NumberLiteral(_) => {
            Some(src.text_of(node).to_string())
        }
        _ => None,
    }
}

/// A literal as a bool: `True` or `False`.
pub fn boolean(node: Option<Node<'_>>) -> Option<bool> {
    match node {
        Some(Expr::BooleanLiteral(b)) => Some(b.value),
        _ => None,
    }
}

/// The elements of a list, tuple or set literal (an expression that is a sum of lists gives
/// all of their elements).
pub fn elements(node: Node<'_>) -> Vec<Node<'_>> {
    let mut out = Vec::new();
    push_elements(node, &mut out);
    out
}

fn push_elements<'n>(node: Node<'n>, out: &mut Vec<Node<'n>>) {
    match node {
        Expr::List(l) => out.extend(l.elts.iter()),
        Expr::Tuple(t) => out.extend(t.elts.iter()),
        Expr::Set(s) => out.extend(s.elts.iter()),
        Expr::BinOp(b) => {
            push_elements(&b.left, out);
            push_elements(&b.right, out);
        }
        _ => {}
    }
}

/// Every statement of `body`, nested ones included (in classes, functions, branches, loops,
/// `with` and `try` blocks), in source order.
pub fn statements(body: &[Stmt]) -> Vec<&Stmt> {
    let mut out = Vec::new();
    let mut stack: Vec<&Stmt> = body.iter().rev().collect();
    while let Some(stmt) = stack.pop() {
        out.push(stmt);
        let len = stack.len();
        for block in blocks(stmt) {
            stack.extend(block.iter());
        }
        stack[len..].reverse();
    }
    out
}

/// The blocks of statements directly inside a compound statement, in source order.
pub fn blocks(stmt: &Stmt) -> Vec<&[Stmt]> {
    match stmt {
        Stmt::ClassDef(c) => vec![&c.body],
        Stmt::FunctionDef(f) => vec![&f.body],
        Stmt::If(i) => std::iter::once(&i.body[..])
            .chain(i.elif_else_clauses.iter().map(|c| &c.body[..]))
            .collect(),
        Stmt::For(f) => vec![&f.body, &f.orelse],
        Stmt::While(w) => vec![&w.body, &w.orelse],
        Stmt::With(w) => vec![&w.body],
        Stmt::Try(t) => std::iter::once(&t.body[..])
            .chain(t.handlers.iter().map(|h| match h {
                ruff_python_ast::ExceptHandler::ExceptHandler(h) => &h.body[..],
            }))
            .chain([&t.orelse[..], &t.finalbody[..]])
            .collect(),
        Stmt::Match(m) => m.cases.iter().map(|c| &c.body[..]).collect(),
        _ => Vec::new(),
    }
}

/// Top-level assignments of a block (a class or module body): name → value.
pub fn assignments<'n>(src: &Source<'_>, block: &'n [Stmt]) -> BTreeMap<String, Node<'n>> {
    let mut out = BTreeMap::new();
    for stmt in block {
        match stmt {
            Stmt::Assign(a) => {
                if let Some(target) = a.targets.first() {
                    out.insert(src.text_of(target).to_string(), &*a.value);
                }
            }
            Stmt::AnnAssign(a) => {
                if let Some(value) = &a.value {
                    out.insert(src.text_of(&*a.target).to_string(), &**value);
                }
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_2_print_statements_are_read_around_and_other_errors_refuse_the_file() {
        let text = "def upgrade():\n    print \"Updating rows:\"\n    op.drop_column('t', 'c')\n";
        let src = parse(text).expect("a Python 2 print statement only prints");
        let Stmt::FunctionDef(f) = &src.body()[0] else {
            panic!("the function is read");
        };
        assert_eq!(src.line(f.body.last().unwrap()), 3);
        let broken = "def upgrade():\n    op.drop_column('t', 'c'\n";
        let why = parse(broken)
            .err()
            .expect("an unclosed call refuses the file");
        assert!(why.starts_with("Python syntax error near line"), "{why}");
        assert!(
            parse("print(\"a\"\n").is_err(),
            "a broken print call is no statement"
        );
    }

    #[test]
    fn literals_by_value_and_lines_from_offsets() {
        let text = "x = 'a' \"b\"\ny = f'ALTER TABLE {t} ADD c'\nz = b'raw'\n";
        let src = parse(text).unwrap();
        let values = assignments(&src, src.body());
        assert_eq!(literal(&src, values["x"]).as_deref(), Some("ab"));
        assert_eq!(
            literal(&src, values["y"]).as_deref(),
            Some("ALTER TABLE {t} ADD c")
        );
        assert_eq!(literal(&src, values["z"]).as_deref(), Some("raw"));
        assert_eq!(src.line(values["z"]), 3);
        assert_eq!(src.end_line(values["x"]), 1);
    }
}
