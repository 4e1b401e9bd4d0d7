//! YAML read into a tree that remembers lines: every document of a multi-document file, block
//! and flow style alike.
//!
//! Built on saphyr-parser's event stream rather than a loader: a mapping keeps every entry in
//! the order written, duplicate keys included (a Helm template's `if`/`else` branches give the
//! same key twice, and kubectl accepts a manifest that repeats one), and each node knows its line.

use std::borrow::Cow;

use saphyr_parser::{Event, Parser, ScalarStyle, Span};

/// A YAML value with the 1-based line it starts on.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub line: u32,
    pub value: Value,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `~`, `null`, or nothing at all.
    Null,
    /// A scalar's text as written (no type resolution beyond null); quoted scalars keep quotes off.
    Scalar(String),
    Seq(Vec<Node>),
    /// Entries in the order written; keys are scalars (a complex key reads as its text).
    Map(Vec<(String, Node)>),
}

impl Node {
    /// The scalar text, if this is a scalar.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar(s) => Some(s),
            _ => None,
        }
    }

    /// The first entry of a mapping named `key`.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Map(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Follows plain keys: `node.at(&["metadata", "name"])`.
    pub fn at(&self, keys: &[&str]) -> Option<&Node> {
        keys.iter().try_fold(self, |node, key| node.get(key))
    }

    /// Null, an empty mapping or an empty list: a value that says nothing (`readinessProbe: {}`).
    pub fn is_empty(&self) -> bool {
        match &self.value {
            Value::Null => true,
            Value::Seq(items) => items.is_empty(),
            Value::Map(entries) => entries.is_empty(),
            Value::Scalar(_) => false,
        }
    }
}

/// Why a file could not be read as YAML, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub line: u32,
    pub message: String,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// One document of a stream, with the line it starts on.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    pub line: u32,
    pub root: Node,
}

/// Lines of a flow collection re-indented at most, per file (each is one more parse).
const MAX_FLOW_FIXES: usize = 64;

/// Every document of `text`. Aliases read as the node they name.
///
/// A line of a flow sequence written at or left of its key's indentation (`command: [` ... `]`
/// with the `]` under `command`) breaks YAML 1.2's rule, but libyaml, and so PyYAML, go-yaml,
/// kubectl and Helm, read it, and charts ship it for years. Such a line is indented past the line
/// above it and the text read again: inside a flow collection, indentation means nothing, and
/// every line keeps its number.
pub fn parse(text: &str) -> Result<Vec<Document>, ParseError> {
    let first = match parse_strict(text) {
        Err(e) if e.message.starts_with("invalid indentation") => e,
        other => return other,
    };
    let mut lines: Vec<String> = text.split_inclusive('\n').map(str::to_string).collect();
    let mut error = first.clone();
    for _ in 0..MAX_FLOW_FIXES {
        let at = (error.line as usize).saturating_sub(1);
        if at == 0 || at >= lines.len() || !in_flow_sequence(&lines[..at]) {
            return Err(first);
        }
        let above = lines[..at]
            .iter()
            .rev()
            .find(|l| !l.trim().is_empty())
            .map_or(0, |l| l.len() - l.trim_start_matches(' ').len());
        let line = lines[at].trim_start_matches(' ').to_string();
        lines[at] = format!("{}{line}", " ".repeat(above + 1));
        match parse_strict(&lines.concat()) {
            Err(e) if e.message.starts_with("invalid indentation") && e.line > error.line => {
                error = e
            }
            Err(_) => return Err(first),
            Ok(documents) => return Ok(documents),
        }
    }
    Err(first)
}

/// Whether the end of `lines` is inside a `[` not yet closed (quoted text and comments aside).
fn in_flow_sequence(lines: &[String]) -> bool {
    let mut depth = 0i32;
    for line in lines {
        let mut quote = None;
        let mut previous = ' ';
        for c in line.chars() {
            match (quote, c) {
                (Some(q), c) if c == q => quote = None,
                (Some(_), _) => {}
                (None, '"' | '\'') => quote = Some(c),
                (None, '#') if previous.is_whitespace() => break,
                (None, '[') => depth += 1,
                (None, ']') => depth -= 1,
                _ => {}
            }
            previous = c;
        }
    }
    depth > 0
}

fn parse_strict(text: &str) -> Result<Vec<Document>, ParseError> {
    let mut builder = Builder::default();
    for event in Parser::new_from_str(text) {
        let (event, span) = event.map_err(|e| ParseError {
            line: e.marker().line() as u32,
            message: e.info().to_string(),
        })?;
        builder.push(event, span);
    }
    Ok(builder.documents)
}

/// An open collection while events arrive.
enum Open {
    Seq(Node, usize),
    /// The mapping, its anchor, and a key waiting for its value.
    Map(Node, usize, Option<String>),
}

#[derive(Default)]
struct Builder {
    documents: Vec<Document>,
    stack: Vec<Open>,
    document_line: u32,
    anchors: std::collections::HashMap<usize, Node>,
}

fn line_of(span: &Span) -> u32 {
    span.start.line() as u32
}

fn scalar(text: Cow<'_, str>, style: ScalarStyle) -> Value {
    if style == ScalarStyle::Plain && matches!(text.as_ref(), "" | "~" | "null" | "Null" | "NULL") {
        Value::Null
    } else {
        Value::Scalar(text.into_owned())
    }
}

impl Builder {
    fn push(&mut self, event: Event<'_>, span: Span) {
        let line = line_of(&span);
        match event {
            Event::DocumentStart(_) => self.document_line = line,
            Event::Scalar(text, style, anchor, _) => {
                let node = Node {
                    line,
                    value: scalar(text, style),
                };
                self.value(node, anchor);
            }
            Event::Alias(anchor) => {
                let node = self.anchors.get(&anchor).cloned().unwrap_or(Node {
                    line,
                    value: Value::Null,
                });
                self.value(node, 0);
            }
            Event::SequenceStart(anchor, _) => self.stack.push(Open::Seq(
                Node {
                    line,
                    value: Value::Seq(Vec::new()),
                },
                anchor,
            )),
            Event::MappingStart(anchor, _) => self.stack.push(Open::Map(
                Node {
                    line,
                    value: Value::Map(Vec::new()),
                },
                anchor,
                None,
            )),
            Event::SequenceEnd | Event::MappingEnd => match self.stack.pop() {
                Some(Open::Seq(node, anchor)) | Some(Open::Map(node, anchor, _)) => {
                    self.value(node, anchor)
                }
                None => {}
            },
            _ => {}
        }
    }

    /// A finished value: into its parent, or a document of its own.
    fn value(&mut self, node: Node, anchor: usize) {
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
        match self.stack.last_mut() {
            None => self.documents.push(Document {
                line: self.document_line.max(1),
                root: node,
            }),
            Some(Open::Seq(seq, _)) => {
                if let Value::Seq(items) = &mut seq.value {
                    items.push(node);
                }
            }
            Some(Open::Map(map, _, pending)) => match pending.take() {
                None => *pending = Some(key_text(&node)),
                Some(key) => {
                    if let Value::Map(entries) = &mut map.value {
                        if key == "<<" {
                            // A merge key: the entries of the named mapping, as if written here.
                            merge(entries, node);
                        } else {
                            entries.push((key, node));
                        }
                    }
                }
            },
        }
    }
}

fn merge(entries: &mut Vec<(String, Node)>, node: Node) {
    let sources = match node.value {
        Value::Seq(items) => items,
        _ => vec![node],
    };
    for source in sources {
        if let Value::Map(more) = source.value {
            for (k, v) in more {
                if !entries.iter().any(|(have, _)| *have == k) {
                    entries.push((k, v));
                }
            }
        }
    }
}

fn key_text(node: &Node) -> String {
    match &node.value {
        Value::Null => String::new(),
        Value::Scalar(s) => s.clone(),
        // A complex key is rare in deploy configuration; its shape is enough to tell keys apart.
        other => format!("{other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_keys_and_lines() {
        let docs = parse(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n---\nkind: Service\nmetadata: {name: web}\n",
        )
        .unwrap();
        assert_eq!(docs.len(), 2);
        let name = docs[0].root.at(&["metadata", "name"]).unwrap();
        assert_eq!((name.as_str(), name.line), (Some("web"), 4));
        assert_eq!(docs[1].line, 5);
        let flow = docs[1].root.at(&["metadata", "name"]).unwrap();
        assert_eq!((flow.as_str(), flow.line), (Some("web"), 7));
    }

    #[test]
    fn flow_style_nulls_and_duplicates() {
        let docs = parse("strategy: {type: Recreate}\nprobe: ~\nempty: {}\na: 1\na: 2\n").unwrap();
        let root = &docs[0].root;
        assert_eq!(
            root.at(&["strategy", "type"]).and_then(Node::as_str),
            Some("Recreate")
        );
        assert!(root.get("probe").unwrap().is_empty());
        assert!(root.get("empty").unwrap().is_empty());
        let Value::Map(entries) = &root.value else {
            panic!()
        };
        assert_eq!(entries.iter().filter(|(k, _)| k == "a").count(), 2);
    }

    #[test]
    fn quoted_null_is_text_and_anchors_resolve() {
        let docs = parse("a: 'null'\nbase: &b {x: 1}\nc:\n  <<: *b\n  y: 2\nd: *b\n").unwrap();
        let root = &docs[0].root;
        assert_eq!(root.get("a").and_then(Node::as_str), Some("null"));
        assert_eq!(root.at(&["c", "x"]).and_then(Node::as_str), Some("1"));
        assert_eq!(root.at(&["d", "x"]).and_then(Node::as_str), Some("1"));
    }

    #[test]
    fn a_flow_sequence_closed_under_its_key_reads_as_libyaml_reads_it() {
        // vault-helm's preStop hook and jenkins' controller args: the `]` (or an entry) at the
        // key's indentation.
        let text = "spec:\n  containers:\n    - name: a\n      command: [\n        \"/bin/sh\", \"-c\",\n        \"sleep 5\",\n      ]\n      image: x\n";
        let docs = parse(text).unwrap();
        let c = docs[0].root.at(&["spec", "containers"]).unwrap();
        let Value::Seq(items) = &c.value else {
            panic!("{c:?}")
        };
        assert_eq!(items[0].get("image").and_then(Node::as_str), Some("x"));
        assert_eq!(items[0].get("image").map(|n| n.line), Some(8));
        let Some(Value::Seq(command)) = items[0].get("command").map(|n| &n.value) else {
            panic!()
        };
        assert_eq!(command.len(), 3);
        let entries = parse("a:\n  b: [\n  1,\n  2\n  ]\n  c: 3\n").unwrap();
        assert_eq!(
            entries[0].root.at(&["a", "c"]).and_then(Node::as_str),
            Some("3")
        );
        // Indentation that is wrong outside any flow collection stays an error.
        assert!(parse("a:\n    b: 1\n  c: 2\n").is_err());
        assert!(parse("a: [1, 2]\nb:\n    c: 1\n  d: 2\n").is_err());
    }

    proptest::proptest! {
        /// A flow list written with its entries and its `]` at any indentation up to its key's
        /// reads as the same list written with them indented past the key, line for line.
        #[test]
        fn a_flow_list_reads_the_same_at_any_indentation_under_its_key(
            depth in 0usize..4,
            items in proptest::collection::vec("[a-z0-9]{1,6}", 1..5),
            item_indent in proptest::collection::vec(0usize..10, 5),
            close_indent in 0usize..8,
        ) {
            let key = depth * 2;
            let mut head = String::new();
            for d in 0..depth {
                head.push_str(&format!("{}p{d}:\n", " ".repeat(d * 2)));
            }
            let written = |indent: &dyn Fn(usize) -> usize, close: usize| {
                let mut t = head.clone();
                t.push_str(&format!("{}list: [\n", " ".repeat(key)));
                for (i, item) in items.iter().enumerate() {
                    t.push_str(&format!("{}{item},\n", " ".repeat(indent(i))));
                }
                t.push_str(&format!("{}]\n{}after: 1\n", " ".repeat(close), " ".repeat(key)));
                t
            };
            let strict = written(&|_| key + 2, key + 2);
            let loose = written(&|i| item_indent[i] % (key + 3), close_indent % (key + 1));
            let expected = parse(&strict).expect("indented past the key");
            proptest::prop_assert_eq!(parse(&loose).expect("read as libyaml reads it"), expected);
        }
    }

    #[test]
    fn invalid_yaml_says_where() {
        let err = parse("a: 1\nb: [unclosed\n").unwrap_err();
        assert!(err.line >= 2, "{err}");
    }
}
