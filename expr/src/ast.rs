//! Syntax tree of a parsed expression.
//!
//! Parsing happens once per configuration; the tree is then evaluated for
//! every message, so it is shaped for fast evaluation: literals are already
//! decoded, function names are resolved to [`Func`], literal regular
//! expressions are compiled, and every node records its height so evaluation
//! depth is bounded by construction: nodes are only built through [`make`] and
//! [`leaf`], which enforce [`MAX_DEPTH`].

use crate::error::Fault;
use crate::functions::Func;
use crate::lexer::Op;

/// Maximum nesting depth of an expression (parentheses, calls, unary
/// operators, filters) and maximum height of its syntax tree.
pub(crate) const MAX_DEPTH: u32 = 256;

/// One node of the syntax tree.
#[derive(Debug, Clone)]
pub(crate) struct Expr {
    /// What the node does.
    pub kind: ExprKind,
    /// Byte offset in the source, used for runtime error positions.
    pub pos: usize,
    /// Height of the subtree (1 for a leaf); bounded by the parser so that
    /// recursive evaluation cannot overflow the stack.
    pub height: u32,
}

/// The node variants.
#[derive(Debug, Clone)]
pub(crate) enum ExprKind {
    /// `null`
    Null,
    /// `true` / `false`
    Bool(bool),
    /// A number literal or numeric constant.
    Num(f64),
    /// A string literal.
    Str(Box<str>),
    /// A JSONPath query (`$...` or `@...`).
    Path(Box<Path>),
    /// Unary minus.
    Neg(Box<Expr>),
    /// Unary plus (requires a number).
    Plus(Box<Expr>),
    /// Logical not (`!`).
    Not(Box<Expr>),
    /// A binary operator other than `&&`, `||` and `=~`.
    Binary(Op, Box<Expr>, Box<Expr>),
    /// `&&` (short-circuit).
    And(Box<Expr>, Box<Expr>),
    /// `||` (short-circuit).
    Or(Box<Expr>, Box<Expr>),
    /// `=~`; the regex is compiled at parse time when the pattern is a literal.
    Match(Box<Expr>, Box<Expr>, Option<Box<regex::Regex>>),
    /// `cond ? then : otherwise`.
    Cond(Box<Expr>, Box<Expr>, Box<Expr>),
    /// A function call.
    Call(Func, Vec<Expr>),
}

/// Where a path starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Root {
    /// `$` – the whole message.
    Doc,
    /// `@` – the current node (the message itself outside filters).
    Current,
}

/// A JSONPath query.
#[derive(Debug, Clone)]
pub(crate) struct Path {
    /// Starting node.
    pub root: Root,
    /// Steps applied in order.
    pub steps: Vec<Step>,
}

/// One bound of a slice: a literal integer or a script `(expr)`.
#[derive(Debug, Clone)]
pub(crate) enum Bound {
    /// A literal index.
    Int(i64),
    /// A computed index, evaluated with `@` = the array.
    Script(Box<Expr>),
}

/// One step of a path.
#[derive(Debug, Clone)]
pub(crate) enum Step {
    /// `.name`, `['name']` or `[name]`. On arrays a numeric name is an index
    /// and `length` is the array length (as in ajson).
    Key(Box<str>),
    /// `[n]`; negative counts from the end. On objects it looks up the key `"n"`.
    Index(i64),
    /// `.*` or `[*]`.
    Wildcard,
    /// `..` – the node itself and every container below it.
    Descend,
    /// `[start:end:step]`.
    Slice(Option<Bound>, Option<Bound>, Option<Bound>),
    /// `[a, b, ...]` – each selector applied in turn (selector-major order, like ajson).
    Union(Vec<Step>),
    /// `[?(expr)]` – children for which `expr` is truthy (`@` = the child).
    Filter(Box<Expr>),
    /// `[(expr)]` – a computed key/index (`@` = the container).
    Script(Box<Expr>),
}

/// The "too deep" error.
pub(crate) fn too_deep(pos: usize) -> Fault {
    Fault::new(
        pos,
        format!("expression is nested too deeply (limit {MAX_DEPTH})"),
    )
}

/// A leaf node.
pub(crate) fn leaf(kind: ExprKind, pos: usize) -> Result<Expr, Fault> {
    Ok(Expr {
        kind,
        pos,
        height: 1,
    })
}

/// Builds a node, computing its height and enforcing [`MAX_DEPTH`].
pub(crate) fn make(kind: ExprKind, pos: usize) -> Result<Expr, Fault> {
    let height = 1 + children_height(&kind);
    if height > MAX_DEPTH {
        return Err(too_deep(pos));
    }
    Ok(Expr { kind, pos, height })
}

/// Height of the tallest child of a node.
fn children_height(kind: &ExprKind) -> u32 {
    match kind {
        ExprKind::Null | ExprKind::Bool(_) | ExprKind::Num(_) | ExprKind::Str(_) => 0,
        ExprKind::Path(p) => steps_height(&p.steps),
        ExprKind::Neg(a) | ExprKind::Plus(a) | ExprKind::Not(a) => a.height,
        ExprKind::Binary(_, a, b)
        | ExprKind::And(a, b)
        | ExprKind::Or(a, b)
        | ExprKind::Match(a, b, _) => a.height.max(b.height),
        ExprKind::Cond(a, b, c) => a.height.max(b.height).max(c.height),
        ExprKind::Call(_, args) => args.iter().map(|a| a.height).max().unwrap_or(0),
    }
}

/// Height of the expressions embedded in path steps.
fn steps_height(steps: &[Step]) -> u32 {
    let bound = |b: &Option<Bound>| match b {
        Some(Bound::Script(e)) => e.height,
        _ => 0,
    };
    steps
        .iter()
        .map(|s| match s {
            Step::Filter(e) | Step::Script(e) => e.height,
            Step::Slice(a, b, c) => bound(a).max(bound(b)).max(bound(c)),
            Step::Union(parts) => steps_height(parts),
            _ => 0,
        })
        .max()
        .unwrap_or(0)
}
