//! Python read with tree-sitter: the calls, arguments and literals Django and Alembic migrations
//! are written in.

use std::collections::BTreeMap;

use tree_sitter::{Node, Parser, Tree};

/// Source text parsed into a syntax tree.
pub struct Source<'t> {
    pub text: &'t str,
    pub tree: Tree,
}

/// Parses Python. A tree with syntax errors is refused, with the first error's line: a
/// migration half understood would be read wrong, so the line rules read it instead.
pub fn parse(text: &str) -> Result<Source<'_>, String> {
    let tree = parse_with(&tree_sitter_python::LANGUAGE.into(), "Python", text)?;
    if tree.root_node().has_error() {
        let line = first_error_line(tree.root_node());
        return Err(format!("Python syntax error near line {line}"));
    }
    Ok(Source { text, tree })
}

fn first_error_line(root: Node<'_>) -> usize {
    let mut cursor = root.walk();
    let mut stack = vec![root];
    while let Some(node) = stack.pop() {
        if node.is_error() || node.is_missing() {
            return node.start_position().row + 1;
        }
        if node.has_error() {
            let children: Vec<Node> = node.children(&mut cursor).collect();
            stack.extend(children.into_iter().rev());
        }
    }
    root.start_position().row + 1
}

impl<'t> Source<'t> {
    pub fn text_of(&self, node: Node<'_>) -> &'t str {
        &self.text[node.byte_range()]
    }

    pub fn root(&self) -> Node<'_> {
        self.tree.root_node()
    }
}

/// 1-based line of a node.
pub fn line(node: Node<'_>) -> u32 {
    node.start_position().row as u32 + 1
}

/// The first line of a node's text, trimmed.
pub fn first_line(src: &Source<'_>, node: Node<'_>) -> String {
    src.text_of(node)
        .lines()
        .next()
        .unwrap_or("")
        .trim()
        .to_string()
}

/// Parses `text` with a tree-sitter grammar, on one parser a thread per grammar: thousands of
/// migrations share it, and the grammar is loaded once. `name` names the grammar (one parser
/// per name) in messages.
pub fn parse_with(
    language: &tree_sitter::Language,
    name: &str,
    text: &str,
) -> Result<Tree, String> {
    thread_local! {
        static PARSERS: std::cell::RefCell<Vec<(String, Parser)>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    PARSERS.with(|cell| {
        let mut parsers = cell.borrow_mut();
        let at = match parsers.iter().position(|(n, _)| n == name) {
            Some(at) => at,
            None => {
                let mut parser = Parser::new();
                parser
                    .set_language(language)
                    .map_err(|e| format!("the {name} grammar could not be loaded: {e}"))?;
                parsers.push((name.to_string(), parser));
                parsers.len() - 1
            }
        };
        parsers[at]
            .1
            .parse(text, None)
            .ok_or_else(|| format!("the {name} parser gave up"))
    })
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
    if node.kind() != "call" {
        return None;
    }
    let function = node.child_by_field_name("function")?;
    let (name, receiver) = match function.kind() {
        "attribute" => (
            src.text_of(function.child_by_field_name("attribute")?)
                .to_string(),
            src.text_of(function.child_by_field_name("object")?)
                .to_string(),
        ),
        "identifier" => (src.text_of(function).to_string(), String::new()),
        _ => (src.text_of(function).to_string(), String::new()),
    };
    let mut positional = Vec::new();
    let mut keywords = BTreeMap::new();
    if let Some(args) = node.child_by_field_name("arguments") {
        let mut cursor = args.walk();
        for arg in args.named_children(&mut cursor) {
            match arg.kind() {
                "keyword_argument" => {
                    if let (Some(k), Some(v)) = (
                        arg.child_by_field_name("name"),
                        arg.child_by_field_name("value"),
                    ) {
                        keywords.insert(src.text_of(k).to_string(), v);
                    }
                }
                "comment" => {}
                _ => positional.push(arg),
            }
        }
    }
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

/// A literal's value: strings unquoted (implicitly concatenated ones joined), `True`/`False`/
/// `None` and numbers as written, anything else `None`.
pub fn literal(src: &Source<'_>, node: Node<'_>) -> Option<String> {
    match node.kind() {
        "string" => Some(string_content(src, node)),
        "concatenated_string" => {
            let mut cursor = node.walk();
            let parts: Vec<String> = node
                .named_children(&mut cursor)
                .filter(|n| n.kind() == "string")
                .map(|n| string_content(src, n))
                .collect();
            Some(parts.concat())
        }
        "true" | "false" | "none" | "integer" | "float" => Some(src.text_of(node).to_string()),
        "parenthesized_expression" => node.named_child(0).and_then(|n| literal(src, n)),
        _ => None,
    }
}

/// The text inside a string literal's quotes (escapes left as written).
fn string_content(src: &Source<'_>, node: Node<'_>) -> String {
    let mut cursor = node.walk();
    let mut out = String::new();
    let mut any = false;
    for child in node.children(&mut cursor) {
        match child.kind() {
            "string_content" | "escape_sequence" => {
                out.push_str(src.text_of(child));
                any = true;
            }
            "interpolation" => out.push_str(src.text_of(child)),
            _ => {}
        }
    }
    if !any && out.is_empty() {
        // Older grammars give the whole literal: strip a prefix and the quotes.
        let raw = src.text_of(node);
        let raw = raw.trim_start_matches(|c: char| c.is_ascii_alphabetic());
        for q in ["\"\"\"", "'''", "\"", "'"] {
            if let Some(inner) = raw.strip_prefix(q).and_then(|r| r.strip_suffix(q)) {
                return inner.to_string();
            }
        }
    }
    out
}

/// A literal as a bool: `True` or `False`.
pub fn boolean(src: &Source<'_>, node: Option<Node<'_>>) -> Option<bool> {
    match node.map(|n| src.text_of(n)) {
        Some("True") => Some(true),
        Some("False") => Some(false),
        _ => None,
    }
}

/// The elements of a list or tuple literal (an expression that is a sum of lists gives all of
/// their elements).
pub fn elements<'n>(node: Node<'n>) -> Vec<Node<'n>> {
    match node.kind() {
        "list" | "tuple" | "set" => {
            let mut cursor = node.walk();
            node.named_children(&mut cursor)
                .filter(|n| n.kind() != "comment")
                .collect()
        }
        "binary_operator" => {
            let mut out = Vec::new();
            if let Some(l) = node.child_by_field_name("left") {
                out.extend(elements(l));
            }
            if let Some(r) = node.child_by_field_name("right") {
                out.extend(elements(r));
            }
            out
        }
        "parenthesized_expression" => node.named_child(0).map(elements).unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// Every node under `root` (itself included) for which `want` holds, in source order, without
/// recursion (a deep tree cannot overflow the stack).
pub fn descendants<'n>(root: Node<'n>, want: impl Fn(Node<'n>) -> bool) -> Vec<Node<'n>> {
    let mut out = Vec::new();
    let mut stack = vec![root];
    while let Some(node) = stack.pop() {
        if want(node) {
            out.push(node);
        }
        let mut cursor = node.walk();
        let children: Vec<Node> = node.named_children(&mut cursor).collect();
        stack.extend(children.into_iter().rev());
    }
    out
}

/// Top-level assignments of a block (a class or module body): name → value.
pub fn assignments<'n>(src: &Source<'_>, block: Node<'n>) -> BTreeMap<String, Node<'n>> {
    let mut out = BTreeMap::new();
    let mut cursor = block.walk();
    for stmt in block.named_children(&mut cursor) {
        if stmt.kind() != "expression_statement" {
            continue;
        }
        let Some(assign) = stmt.named_child(0).filter(|n| n.kind() == "assignment") else {
            continue;
        };
        if let (Some(left), Some(right)) = (
            assign.child_by_field_name("left"),
            assign.child_by_field_name("right"),
        ) {
            out.insert(src.text_of(left).to_string(), right);
        }
    }
    out
}
