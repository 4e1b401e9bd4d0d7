//! prism's tree as the migration walker reads it: a node's children one level at a time (so
//! every walk keeps its own stack and none recurses with the tree's depth), a node's text and
//! line, the parts of a call, and the values of literals.

use std::collections::HashMap;

use ruby_prism::{BlockNode, CallNode, Location, Node, NodeList};

/// The source, and where each of its lines starts: prism gives byte offsets.
pub(super) struct Src<'t> {
    pub text: &'t str,
    lines: Vec<usize>,
}

impl<'t> Src<'t> {
    pub fn new(text: &'t str) -> Self {
        let mut lines = vec![0];
        lines.extend(
            text.bytes()
                .enumerate()
                .filter(|&(_, b)| b == b'\n')
                .map(|(at, _)| at + 1),
        );
        Src { text, lines }
    }

    /// The 1-based line of a byte offset.
    pub fn line_at(&self, offset: usize) -> u32 {
        self.lines.partition_point(|&start| start <= offset) as u32
    }

    pub fn line(&self, n: &Node<'_>) -> u32 {
        self.line_at(n.location().start_offset())
    }

    pub fn slice(&self, start: usize, end: usize) -> &'t str {
        self.text.get(start..end).unwrap_or("")
    }

    pub fn at(&self, l: &Location<'_>) -> &'t str {
        self.slice(l.start_offset(), l.end_offset())
    }

    pub fn text_of(&self, n: &Node<'_>) -> &'t str {
        self.at(&n.location())
    }
}

/// What a field of a node holds: a node, perhaps one, a list of them, or a node of one type.
trait Kid<'pr> {
    fn add_to(self, out: &mut Vec<Node<'pr>>);
}

impl<'pr> Kid<'pr> for Node<'pr> {
    fn add_to(self, out: &mut Vec<Node<'pr>>) {
        out.push(self);
    }
}

impl<'pr, K: Kid<'pr>> Kid<'pr> for Option<K> {
    fn add_to(self, out: &mut Vec<Node<'pr>>) {
        if let Some(k) = self {
            k.add_to(out);
        }
    }
}

impl<'pr> Kid<'pr> for NodeList<'pr> {
    fn add_to(self, out: &mut Vec<Node<'pr>>) {
        out.extend(self.iter());
    }
}

macro_rules! typed_kids {
    ($($t:ident),*) => {
        $(impl<'pr> Kid<'pr> for ruby_prism::$t<'pr> {
            fn add_to(self, out: &mut Vec<Node<'pr>>) {
                out.push(self.as_node());
            }
        })*
    };
}

// The types prism's fields name exactly (the others hold any node).
typed_kids!(
    ArgumentsNode,
    BlockArgumentNode,
    BlockNode,
    BlockParameterNode,
    CallNode,
    ConstantPathNode,
    ElseNode,
    EnsureNode,
    LocalVariableTargetNode,
    ParametersNode,
    RescueNode,
    SplatNode,
    StatementsNode
);

macro_rules! children {
    ($node:ident, $out:ident;
     leaves: $($leaf:ident),*;
     $($variant:ident $as_:ident: $($field:ident)*;)*) => {
        match $node {
            $(Node::$variant { .. } => {
                if let Some(n) = $node.$as_() {
                    $(n.$field().add_to($out);)*
                }
            })*
            $(Node::$leaf { .. })|* => {}
        }
    };
}

/// Appends the children of `node` to `out`, in source order. Every node type of prism is named
/// here with the fields that hold nodes (from prism's config.json), and the match is exhaustive:
/// a prism that adds a node type does not compile until the type is added.
pub(super) fn children<'pr>(node: &Node<'pr>, out: &mut Vec<Node<'pr>>) {
    let start = out.len();
    children!(node, out;
    leaves: BackReferenceReadNode, BlockLocalVariableNode, BlockParameterNode,
        ClassVariableReadNode, ClassVariableTargetNode, ConstantReadNode, ConstantTargetNode,
        FalseNode, FloatNode, ForwardingArgumentsNode, ForwardingParameterNode,
        GlobalVariableReadNode, GlobalVariableTargetNode, ImplicitRestNode,
        InstanceVariableReadNode, InstanceVariableTargetNode, IntegerNode,
        ItLocalVariableReadNode, ItParametersNode, KeywordRestParameterNode,
        LocalVariableReadNode, LocalVariableTargetNode, MatchLastLineNode, MissingNode, NilNode,
        NoKeywordsParameterNode, NumberedParametersNode, NumberedReferenceReadNode, RationalNode,
        RedoNode, RegularExpressionNode, RequiredKeywordParameterNode, RequiredParameterNode,
        RestParameterNode, RetryNode, SelfNode, SourceEncodingNode, SourceFileNode,
        SourceLineNode, StringNode, SymbolNode, TrueNode, XStringNode;
    AliasGlobalVariableNode as_alias_global_variable_node: new_name old_name;
    AliasMethodNode as_alias_method_node: new_name old_name;
    AlternationPatternNode as_alternation_pattern_node: left right;
    AndNode as_and_node: left right;
    ArgumentsNode as_arguments_node: arguments;
    ArrayNode as_array_node: elements;
    ArrayPatternNode as_array_pattern_node: constant requireds rest posts;
    AssocNode as_assoc_node: key value;
    AssocSplatNode as_assoc_splat_node: value;
    BeginNode as_begin_node: statements rescue_clause else_clause ensure_clause;
    BlockArgumentNode as_block_argument_node: expression;
    BlockNode as_block_node: parameters body;
    BlockParametersNode as_block_parameters_node: parameters locals;
    BreakNode as_break_node: arguments;
    CallAndWriteNode as_call_and_write_node: receiver value;
    CallNode as_call_node: receiver arguments block;
    CallOperatorWriteNode as_call_operator_write_node: receiver value;
    CallOrWriteNode as_call_or_write_node: receiver value;
    CallTargetNode as_call_target_node: receiver;
    CapturePatternNode as_capture_pattern_node: value target;
    CaseMatchNode as_case_match_node: predicate conditions else_clause;
    CaseNode as_case_node: predicate conditions else_clause;
    ClassNode as_class_node: constant_path superclass body;
    ClassVariableAndWriteNode as_class_variable_and_write_node: value;
    ClassVariableOperatorWriteNode as_class_variable_operator_write_node: value;
    ClassVariableOrWriteNode as_class_variable_or_write_node: value;
    ClassVariableWriteNode as_class_variable_write_node: value;
    ConstantAndWriteNode as_constant_and_write_node: value;
    ConstantOperatorWriteNode as_constant_operator_write_node: value;
    ConstantOrWriteNode as_constant_or_write_node: value;
    ConstantPathAndWriteNode as_constant_path_and_write_node: target value;
    ConstantPathNode as_constant_path_node: parent;
    ConstantPathOperatorWriteNode as_constant_path_operator_write_node: target value;
    ConstantPathOrWriteNode as_constant_path_or_write_node: target value;
    ConstantPathTargetNode as_constant_path_target_node: parent;
    ConstantPathWriteNode as_constant_path_write_node: target value;
    ConstantWriteNode as_constant_write_node: value;
    DefNode as_def_node: receiver parameters body;
    DefinedNode as_defined_node: value;
    ElseNode as_else_node: statements;
    EmbeddedStatementsNode as_embedded_statements_node: statements;
    EmbeddedVariableNode as_embedded_variable_node: variable;
    EnsureNode as_ensure_node: statements;
    FindPatternNode as_find_pattern_node: constant left requireds right;
    FlipFlopNode as_flip_flop_node: left right;
    ForNode as_for_node: index collection statements;
    ForwardingSuperNode as_forwarding_super_node: block;
    GlobalVariableAndWriteNode as_global_variable_and_write_node: value;
    GlobalVariableOperatorWriteNode as_global_variable_operator_write_node: value;
    GlobalVariableOrWriteNode as_global_variable_or_write_node: value;
    GlobalVariableWriteNode as_global_variable_write_node: value;
    HashNode as_hash_node: elements;
    HashPatternNode as_hash_pattern_node: constant elements rest;
    IfNode as_if_node: predicate statements subsequent;
    ImaginaryNode as_imaginary_node: numeric;
    ImplicitNode as_implicit_node: value;
    InNode as_in_node: pattern statements;
    IndexAndWriteNode as_index_and_write_node: receiver arguments block value;
    IndexOperatorWriteNode as_index_operator_write_node: receiver arguments block value;
    IndexOrWriteNode as_index_or_write_node: receiver arguments block value;
    IndexTargetNode as_index_target_node: receiver arguments block;
    InstanceVariableAndWriteNode as_instance_variable_and_write_node: value;
    InstanceVariableOperatorWriteNode as_instance_variable_operator_write_node: value;
    InstanceVariableOrWriteNode as_instance_variable_or_write_node: value;
    InstanceVariableWriteNode as_instance_variable_write_node: value;
    InterpolatedMatchLastLineNode as_interpolated_match_last_line_node: parts;
    InterpolatedRegularExpressionNode as_interpolated_regular_expression_node: parts;
    InterpolatedStringNode as_interpolated_string_node: parts;
    InterpolatedSymbolNode as_interpolated_symbol_node: parts;
    InterpolatedXStringNode as_interpolated_x_string_node: parts;
    KeywordHashNode as_keyword_hash_node: elements;
    LambdaNode as_lambda_node: parameters body;
    LocalVariableAndWriteNode as_local_variable_and_write_node: value;
    LocalVariableOperatorWriteNode as_local_variable_operator_write_node: value;
    LocalVariableOrWriteNode as_local_variable_or_write_node: value;
    LocalVariableWriteNode as_local_variable_write_node: value;
    MatchPredicateNode as_match_predicate_node: value pattern;
    MatchRequiredNode as_match_required_node: value pattern;
    MatchWriteNode as_match_write_node: call targets;
    ModuleNode as_module_node: constant_path body;
    MultiTargetNode as_multi_target_node: lefts rest rights;
    MultiWriteNode as_multi_write_node: lefts rest rights value;
    NextNode as_next_node: arguments;
    OptionalKeywordParameterNode as_optional_keyword_parameter_node: value;
    OptionalParameterNode as_optional_parameter_node: value;
    OrNode as_or_node: left right;
    ParametersNode as_parameters_node: requireds optionals rest posts keywords keyword_rest block;
    ParenthesesNode as_parentheses_node: body;
    PinnedExpressionNode as_pinned_expression_node: expression;
    PinnedVariableNode as_pinned_variable_node: variable;
    PostExecutionNode as_post_execution_node: statements;
    PreExecutionNode as_pre_execution_node: statements;
    ProgramNode as_program_node: statements;
    RangeNode as_range_node: left right;
    RescueModifierNode as_rescue_modifier_node: expression rescue_expression;
    RescueNode as_rescue_node: exceptions reference statements subsequent;
    ReturnNode as_return_node: arguments;
    ShareableConstantNode as_shareable_constant_node: write;
    SingletonClassNode as_singleton_class_node: expression body;
    SplatNode as_splat_node: expression;
    StatementsNode as_statements_node: body;
    SuperNode as_super_node: arguments block;
    UndefNode as_undef_node: names;
    UnlessNode as_unless_node: predicate statements else_clause;
    UntilNode as_until_node: predicate statements;
    WhenNode as_when_node: conditions statements;
    WhileNode as_while_node: predicate statements;
    YieldNode as_yield_node: arguments;
    );
    // Fields are listed in source order but for a modifier (`x if y`, `x while y`).
    let added = &mut out[start..];
    if added.len() > 1 {
        added.sort_by_key(|n| n.location().start_offset());
    }
}

/// A call's parts: `add_column :users, :email, :string, null: false`.
pub(super) struct Call<'pr> {
    /// The call's bytes in the source, from its receiver to the end of its block.
    pub start: usize,
    pub end: usize,
    pub method: &'pr str,
    pub receiver: Option<&'pr str>,
    pub args: Vec<Node<'pr>>,
    pub options: HashMap<String, Node<'pr>>,
    pub block: Option<BlockNode<'pr>>,
}

pub(super) fn call<'pr>(src: &Src<'pr>, n: &CallNode<'pr>) -> Call<'pr> {
    let mut args = Vec::new();
    let mut options = HashMap::new();
    for a in n
        .arguments()
        .iter()
        .flat_map(|list| list.arguments().iter())
    {
        if let Some(hash) = a.as_keyword_hash_node() {
            // `null: false`, `"s" => 1`: options; `**opts` stays an argument.
            for e in &hash.elements() {
                if let Some(pair) = e.as_assoc_node() {
                    let key = src
                        .text_of(&pair.key())
                        .trim_start_matches(':')
                        .trim_end_matches(':')
                        .trim_matches(['"', '\'']);
                    options.insert(key.to_string(), pair.value());
                } else {
                    args.push(e);
                }
            }
        } else if let Some(hash) = a.as_hash_node() {
            // `{ null: false }`: its pairs are options too.
            for pair in hash.elements().iter().filter_map(|e| e.as_assoc_node()) {
                let key = src.text_of(&pair.key()).trim_matches([':', '"', '\'']);
                options.insert(key.to_string(), pair.value());
            }
        } else {
            args.push(a);
        }
    }
    // `&block` is an argument; `do ... end` and `{ ... }` are the block.
    let mut block = None;
    if let Some(b) = n.block() {
        match b.as_block_node() {
            Some(b) => block = Some(b),
            None => args.push(b),
        }
    }
    let loc = n.location();
    Call {
        start: loc.start_offset(),
        end: loc.end_offset(),
        method: std::str::from_utf8(n.name().as_slice()).unwrap_or(""),
        receiver: n.receiver().map(|r| src.text_of(&r)),
        args,
        options,
        block,
    }
}

/// Whether a call is written as one (`foo!`, `foo()`, `a.b`, `foo 1`), not as a bare name that
/// could be a local variable (`foo`).
pub(super) fn is_written_call(c: &CallNode<'_>) -> bool {
    !c.is_variable_call()
}

/// Deeper arrays and splats than this have no value: `value` recurses once a level.
const MAX_VALUE_DEPTH: usize = 16;

/// A symbol's or string's value: `:users` → `users`; an array's, its values joined with `, `.
pub(super) fn value(src: &Src<'_>, n: &Node<'_>) -> Option<String> {
    value_in(src, n, 0)
}

fn value_in(src: &Src<'_>, n: &Node<'_>, depth: usize) -> Option<String> {
    if depth > MAX_VALUE_DEPTH {
        return None;
    }
    if let Some(s) = n.as_symbol_node() {
        return Some(match s.opening_loc().map(|o| src.at(&o)) {
            // `:users`, `:+`
            Some(":") => src.text_of(n).trim_start_matches(':').to_string(),
            // `:"a b"`, `%s(a)`
            Some(open) => contents(src, s.value_loc(), open),
            // A `%i[a b]` element.
            None => src.text_of(n).to_string(),
        });
    }
    if let Some(s) = n.as_string_node() {
        return match s.opening_loc().map(|o| src.at(&o)) {
            // A `%w[a b]` element.
            None => Some(src.text_of(n).to_string()),
            // A heredoc (read only by `execute`) or a character literal (`?a`).
            Some(open) if open.starts_with("<<") || open == "?" => None,
            Some(open) => Some(contents(src, Some(s.content_loc()), open)),
        };
    }
    if let Some(s) = n.as_interpolated_string_node() {
        let open = src.at(&s.opening_loc()?);
        // Adjacent literals (`"a" "b"`, no opening) and heredocs have no value.
        if open.starts_with("<<") {
            return None;
        }
        return Some(literal_parts(src, &s.parts(), open));
    }
    if let Some(s) = n.as_interpolated_symbol_node() {
        let open = s.opening_loc().map_or("", |o| src.at(&o));
        return Some(literal_parts(src, &s.parts(), open));
    }
    if let Some(i) = n.as_integer_node() {
        // `-1` is an operator on a literal to the grammar this reading replaced.
        let text = src.text_of(&i.as_node());
        return (!text.starts_with(['-', '+'])).then(|| text.to_string());
    }
    if n.as_true_node().is_some()
        || n.as_false_node().is_some()
        || n.as_nil_node().is_some()
        || n.as_local_variable_read_node().is_some()
        || n.as_it_local_variable_read_node().is_some()
        || n.as_constant_read_node().is_some()
        || n.as_call_node().is_some_and(|c| c.is_variable_call())
    {
        return Some(src.text_of(n).to_string());
    }
    // `*%i[a b]`: the symbols of the array.
    if let Some(s) = n.as_splat_node() {
        return value_in(src, &s.expression()?, depth + 1);
    }
    if let Some(a) = n.as_array_node() {
        let words = a.opening_loc().is_some_and(|o| src.at(&o).starts_with('%'));
        let parts: Vec<String> = a
            .elements()
            .iter()
            .filter_map(|e| {
                if words {
                    Some(src.text_of(&e).to_string())
                } else {
                    value_in(src, &e, depth + 1)
                }
            })
            .collect();
        return Some(parts.join(", "));
    }
    None
}

/// The literal text of an interpolated string's or symbol's plain parts, `#{...}` left out.
fn literal_parts(src: &Src<'_>, parts: &NodeList<'_>, open: &str) -> String {
    parts
        .iter()
        .filter_map(|p| p.as_string_node())
        .map(|p| contents(src, Some(p.content_loc()), open))
        .collect()
}

/// A literal's text as written, less its escape sequences where its quotes have them (`"`,
/// `%Q`, `:"`): what the grammar this reading replaced called its content.
fn contents(src: &Src<'_>, loc: Option<Location<'_>>, open: &str) -> String {
    let raw = loc.map_or("", |l| src.at(&l));
    let escapes = open.ends_with('"')
        || open.starts_with("%Q")
        || (open.starts_with('%') && !open[1..].starts_with(|c: char| c.is_ascii_alphabetic()));
    if escapes && raw.contains('\\') {
        without_escapes(raw)
    } else {
        raw.to_string()
    }
}

/// `a\nb` → `ab`: `\` and one character, `\x` and 1–2 hex digits, `\u` and 4 (or `\u{...}`),
/// 1–3 octal digits.
fn without_escapes(raw: &str) -> String {
    let b = raw.as_bytes();
    let mut out = String::with_capacity(raw.len());
    let mut keep = 0;
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'\\' || i + 1 == b.len() {
            i += 1;
            continue;
        }
        let hex = |from: usize, max: usize| {
            b[from..]
                .iter()
                .take(max)
                .take_while(|c| c.is_ascii_hexdigit())
                .count()
        };
        let len = match b[i + 1] {
            b'x' => match hex(i + 2, 2) {
                0 => 0,
                n => 2 + n,
            },
            b'u' if b.get(i + 2) == Some(&b'{') => {
                let n = b[i + 3..]
                    .iter()
                    .take_while(|c| c.is_ascii_hexdigit() || **c == b' ')
                    .count();
                if n > 0 && b.get(i + 3 + n) == Some(&b'}') {
                    4 + n
                } else {
                    0
                }
            }
            b'u' => {
                if hex(i + 2, 4) == 4 {
                    6
                } else {
                    0
                }
            }
            b'0'..=b'7' => {
                1 + b[i + 1..]
                    .iter()
                    .take(3)
                    .take_while(|c| (b'0'..=b'7').contains(*c))
                    .count()
            }
            // One character, however many bytes.
            _ => 1 + raw[i + 1..].chars().next().map_or(1, char::len_utf8),
        };
        if len == 0 {
            i += 1;
            continue;
        }
        out.push_str(&raw[keep..i]);
        i += len;
        keep = i;
    }
    out.push_str(&raw[keep..]);
    out
}

/// The text of SQL passed to `execute` (a string or a heredoc, not one with `#{...}` in it)
/// and the line it starts on.
pub(super) fn sql_arg(src: &Src<'_>, c: &Call<'_>) -> Option<(String, u32)> {
    let arg = c.args.first()?;
    let (open, close) = if let Some(s) = arg.as_string_node() {
        (s.opening_loc()?, s.closing_loc())
    } else if let Some(s) = arg.as_interpolated_string_node() {
        // prism splits a `<<~` heredoc whose lines are indented unevenly into parts: with no
        // `#{...}` among them it is plain text still.
        if !s.parts().iter().all(|p| p.as_string_node().is_some()) {
            return None;
        }
        (s.opening_loc()?, s.closing_loc())
    } else {
        return None;
    };
    if !src.at(&open).starts_with("<<") {
        return arg
            .as_string_node()
            .and_then(|_| Some((value(src, arg)?, src.line(arg))));
    }
    // A heredoc's body follows the line that opens it, and ends with the closing line: the
    // text from the end of the opening line, less the closing line, on the opening line.
    let from = open.end_offset();
    let nl = from + src.text.get(from..)?.find('\n')?;
    let end = close.map_or(nl, |l| l.end_offset());
    let text = src.slice(nl, end).trim_end();
    let text = text.rsplit_once('\n').map_or("", |(t, _)| t);
    Some((text.to_string(), src.line_at(nl)))
}
