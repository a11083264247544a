//! JSONPath: parsing of `$...` / `@...` queries and their evaluation.
//!
//! Semantics follow ajson's `ApplyJSONPath`:
//! * dot and bracket keys, negative indexes, numeric keys on arrays
//!   (`$.a.0`), `length` on arrays;
//! * `*`, `..` (the node plus all containers below it, in ajson's order:
//!   a node's container children first, then each child's subtree),
//!   slices `[start:end:step]`, unions `[a,b]` (selector-major order),
//!   filters `[?(expr)]` over the children of arrays *and* objects, and
//!   computed keys `[(expr)]`;
//! * no match → nothing, one match → that value, several → an array.
//!
//! Objects are visited in document order (ajson sorts keys; this crate keeps
//! the message's order, which `serde_json`'s `preserve_order` gives us).
//!
//! Evaluation borrows from the message: a plain `$.a.b[0]` walks references
//! without allocating.

// On the recursive path errors are propagated with explicit `match`es
// instead of `?`: in unoptimised builds every `?` adds temporaries to the
// stack frame, and these frames are repeated once per nesting level.
#![allow(clippy::question_mark)]

use serde_json::Value;

use crate::ast::{Bound, Expr, ExprKind, Path, Root, Step};
use crate::error::Fault;
use crate::eval::{Ctx, eval};
use crate::functions::to_int;
use crate::lexer::{char_at, scan_string, skip_ws};
use crate::parser::{Parser, make};
use crate::value::{Val, format_number};

/// True for characters allowed in a dot-notation key.
fn name_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Reads a dot-notation key at the parser's cursor.
fn scan_name(p: &mut Parser<'_>) -> Box<str> {
    let start = p.pos;
    while let Some(c) = char_at(p.src, p.pos) {
        if !name_char(c) {
            break;
        }
        p.pos += c.len_utf8();
    }
    p.src.get(start..p.pos).unwrap_or("").into()
}

/// Parses the steps of a path; the cursor is just after `$` or `@`
/// (`start` is the offset of that symbol).
///
/// Brackets may contain filters and scripts, so this code is on the parser's
/// recursive path: the functions below keep their frames small and leave the
/// heavier work to `#[inline(never)]` helpers.
pub(crate) fn parse_path(p: &mut Parser<'_>, root: Root, start: usize) -> Result<Expr, Fault> {
    let mut steps = Vec::new();
    loop {
        match dot_step(p, &mut steps) {
            Ok(Next::Continue) => {}
            Ok(Next::Bracket) => match parse_bracket(p) {
                Ok(step) => steps.push(step),
                Err(e) => return Err(e),
            },
            Ok(Next::End) => return path_node(root, steps, start),
            Err(e) => return Err(e),
        }
    }
}

/// What follows in a path.
enum Next {
    /// A dot step was read; keep going.
    Continue,
    /// The cursor is on `[`.
    Bracket,
    /// The path ends here.
    End,
}

/// Reads `.name`, `.*`, `..`, `..name`, `..*` at the cursor.
#[inline(never)]
fn dot_step(p: &mut Parser<'_>, steps: &mut Vec<Step>) -> Result<Next, Fault> {
    let pos = p.pos;
    match char_at(p.src, pos) {
        Some('[') => return Ok(Next::Bracket),
        Some('.') => {}
        _ => return Ok(Next::End),
    }
    if char_at(p.src, pos + 1) == Some('.') {
        p.pos = pos + 2;
        steps.push(Step::Descend);
        match char_at(p.src, p.pos) {
            Some('*') => {
                p.pos += 1;
                steps.push(Step::Wildcard);
            }
            Some(c) if name_char(c) => steps.push(Step::Key(scan_name(p))),
            _ => {}
        }
        return Ok(Next::Continue);
    }
    p.pos = pos + 1;
    match char_at(p.src, p.pos) {
        Some('*') => {
            p.pos += 1;
            steps.push(Step::Wildcard);
        }
        Some(c) if name_char(c) => steps.push(Step::Key(scan_name(p))),
        // `$.['a']` and a trailing `$.` are accepted, as in ajson.
        Some('[') | None => {}
        Some(c) if c.is_whitespace() || c == ')' || c == ',' || c == ']' => {}
        Some(c) => {
            return Err(Fault::new(
                p.pos,
                format!("expected a key after '.', found '{c}'"),
            ));
        }
    }
    Ok(Next::Continue)
}

/// Builds the path node.
#[inline(never)]
fn path_node(root: Root, steps: Vec<Step>, start: usize) -> Result<Expr, Fault> {
    make(ExprKind::Path(Box::new(Path { root, steps })), start)
}

/// Parses `[...]`; the cursor is on `[`.
fn parse_bracket(p: &mut Parser<'_>) -> Result<Step, Fault> {
    let open = p.pos;
    p.pos += 1;
    let mut selectors = Vec::new();
    loop {
        p.pos = skip_ws(p.src, p.pos);
        match parse_selector(p, open) {
            Ok(sel) => selectors.push(sel),
            Err(e) => return Err(e),
        }
        match bracket_separator(p, open) {
            Ok(true) => {}
            Ok(false) => return Ok(bracket_step(selectors)),
            Err(e) => return Err(e),
        }
    }
}

/// After a selector: `,` (true) or `]` (false).
#[inline(never)]
fn bracket_separator(p: &mut Parser<'_>, open: usize) -> Result<bool, Fault> {
    p.pos = skip_ws(p.src, p.pos);
    match char_at(p.src, p.pos) {
        Some(',') => {
            p.pos += 1;
            Ok(true)
        }
        Some(']') => {
            p.pos += 1;
            Ok(false)
        }
        Some(c) => Err(Fault::new(
            p.pos,
            format!("unexpected '{c}' in brackets, expected ',' or ']'"),
        )),
        None => Err(Fault::new(open, "unclosed '['")),
    }
}

/// One selector is a step of its own; several form a union.
#[inline(never)]
fn bracket_step(mut selectors: Vec<Step>) -> Step {
    match selectors.len() {
        1 => selectors.pop().unwrap_or(Step::Wildcard),
        _ => Step::Union(selectors),
    }
}

/// Parses one selector inside brackets (cursor on its first character).
fn parse_selector(p: &mut Parser<'_>, open: usize) -> Result<Step, Fault> {
    let pos = p.pos;
    match char_at(p.src, pos) {
        Some('?') => parse_filter(p, pos),
        Some(c) if c == '(' || c == ':' || c == '-' || c == '+' || c.is_ascii_digit() => {
            parse_index_or_slice(p, pos)
        }
        _ => simple_selector(p, open),
    }
}

/// `*`, `'key'`, `"key"` or a bare `key`.
#[inline(never)]
fn simple_selector(p: &mut Parser<'_>, open: usize) -> Result<Step, Fault> {
    let pos = p.pos;
    match char_at(p.src, pos) {
        None => Err(Fault::new(open, "unclosed '['")),
        Some('*') => {
            p.pos += 1;
            Ok(Step::Wildcard)
        }
        Some('\'' | '"') => {
            let (key, end) = scan_string(p.src, pos)?;
            p.pos = end;
            Ok(Step::Key(key.into()))
        }
        Some(c) if name_char(c) => Ok(Step::Key(scan_name(p))),
        Some(']') => Err(Fault::new(pos, "empty brackets")),
        Some(c) => Err(Fault::new(pos, format!("unexpected '{c}' in brackets"))),
    }
}

/// `?(expr)`; the cursor is on `?` at `pos`.
fn parse_filter(p: &mut Parser<'_>, pos: usize) -> Result<Step, Fault> {
    if let Err(e) = filter_open(p) {
        return Err(e);
    }
    match script(p, pos) {
        Ok(expr) => Ok(Step::Filter(Box::new(expr))),
        Err(e) => Err(e),
    }
}

/// Consumes `?` and `(` of a filter.
#[inline(never)]
fn filter_open(p: &mut Parser<'_>) -> Result<(), Fault> {
    p.pos = skip_ws(p.src, p.pos + 1);
    if char_at(p.src, p.pos) != Some('(') {
        return Err(Fault::new(p.pos, "expected '(' after '?' in filter"));
    }
    p.pos += 1;
    Ok(())
}

/// An index `[n]`, a computed index `[(expr)]` or a slice `[a:b:c]`.
fn parse_index_or_slice(p: &mut Parser<'_>, pos: usize) -> Result<Step, Fault> {
    let first = match parse_bound(p) {
        Ok(b) => b,
        Err(e) => return Err(e),
    };
    if !eat_colon(p) {
        return index_step(first, pos);
    }
    let second = match parse_bound(p) {
        Ok(b) => b,
        Err(e) => return Err(e),
    };
    if !eat_colon(p) {
        return Ok(Step::Slice(first, second, None));
    }
    let step_pos = skip_ws(p.src, p.pos);
    match parse_bound(p) {
        Ok(third) => slice_step(first, second, third, step_pos),
        Err(e) => Err(e),
    }
}

/// Consumes a `:` (after optional whitespace).
#[inline(never)]
fn eat_colon(p: &mut Parser<'_>) -> bool {
    p.pos = skip_ws(p.src, p.pos);
    if char_at(p.src, p.pos) == Some(':') {
        p.pos += 1;
        return true;
    }
    false
}

/// `[n]` or `[(expr)]`.
#[inline(never)]
fn index_step(first: Option<Bound>, pos: usize) -> Result<Step, Fault> {
    match first {
        Some(Bound::Int(n)) => Ok(Step::Index(n)),
        Some(Bound::Script(e)) => Ok(Step::Script(e)),
        None => Err(Fault::new(pos, "expected an index, key or slice")),
    }
}

/// `[a:b:c]`, rejecting a literal zero step.
#[inline(never)]
fn slice_step(
    first: Option<Bound>,
    second: Option<Bound>,
    third: Option<Bound>,
    step_pos: usize,
) -> Result<Step, Fault> {
    if matches!(third, Some(Bound::Int(0))) {
        return Err(Fault::new(step_pos, "slice step cannot be zero"));
    }
    Ok(Step::Slice(first, second, third))
}

/// Parses an optional slice bound / index: an integer or `(expr)`.
fn parse_bound(p: &mut Parser<'_>) -> Result<Option<Bound>, Fault> {
    p.pos = skip_ws(p.src, p.pos);
    let pos = p.pos;
    if char_at(p.src, pos) != Some('(') {
        return int_bound(p, pos);
    }
    p.pos += 1;
    match script(p, pos) {
        Ok(e) => Ok(Some(Bound::Script(Box::new(e)))),
        Err(e) => Err(e),
    }
}

/// An optional integer bound at `pos`.
#[inline(never)]
fn int_bound(p: &mut Parser<'_>, pos: usize) -> Result<Option<Bound>, Fault> {
    match char_at(p.src, pos) {
        Some(c) if c == '-' || c == '+' || c.is_ascii_digit() => {
            let bytes = p.src.as_bytes();
            let mut end = pos + 1;
            while bytes.get(end).is_some_and(u8::is_ascii_digit) {
                end += 1;
            }
            if bytes.get(end) == Some(&b'.') {
                return Err(Fault::new(pos, "index must be an integer"));
            }
            let text = p.src.get(pos..end).unwrap_or("");
            let n: i64 = text
                .parse()
                .map_err(|_| Fault::new(pos, format!("invalid index '{text}'")))?;
            p.pos = end;
            Ok(Some(Bound::Int(n)))
        }
        _ => Ok(None),
    }
}

/// Parses `expr)` after an opening parenthesis at `open`. A script inside a
/// path costs an extra nesting level, as path parsing uses more stack.
fn script(p: &mut Parser<'_>, open: usize) -> Result<Expr, Fault> {
    if let Err(e) = p.enter(open) {
        return Err(e);
    }
    let expr = p.ternary();
    p.leave();
    match expr {
        Ok(expr) => close_script(p, open, expr),
        Err(e) => Err(e),
    }
}

/// The `)` closing a script.
#[inline(never)]
fn close_script(p: &mut Parser<'_>, open: usize, expr: Expr) -> Result<Expr, Fault> {
    p.pos = skip_ws(p.src, p.pos);
    if char_at(p.src, p.pos) != Some(')') {
        let t = p.peek()?;
        return Err(if t.start >= p.src.len() {
            Fault::new(open, "unclosed '(' in path")
        } else {
            p.unexpected(&t)
        });
    }
    p.pos += 1;
    Ok(expr)
}

/// Evaluates a path against the context.
pub(crate) fn eval_path<'a>(path: &'a Path, ctx: &Ctx<'a>) -> Result<Val<'a>, Fault> {
    let start = match path.root {
        Root::Doc => ctx.root,
        Root::Current => ctx.current,
    };
    // Fast path: follow plain keys and indexes by reference.
    let mut cur = start;
    let mut rest = path.steps.as_slice();
    while let Some((step, tail)) = rest.split_first() {
        let next = match step {
            Step::Key(k) => key(cur, k),
            Step::Index(i) => index(cur, *i),
            _ => break,
        };
        match next {
            Some(Val::Json(v)) => cur = v,
            Some(other) => return finish_set(vec![other], tail, ctx),
            None => return Ok(Val::Missing),
        }
        rest = tail;
    }
    if rest.is_empty() {
        return Ok(Val::Json(cur));
    }
    finish_set(vec![Val::Json(cur)], rest, ctx)
}

/// Applies the remaining steps to a set of nodes and shapes the result.
fn finish_set<'a>(
    mut items: Vec<Val<'a>>,
    steps: &'a [Step],
    ctx: &Ctx<'a>,
) -> Result<Val<'a>, Fault> {
    for step in steps {
        let mut out = Vec::new();
        apply(step, &items, ctx, &mut out)?;
        items = out;
        if items.is_empty() {
            break;
        }
    }
    Ok(match items.len() {
        0 => Val::Missing,
        1 => items.pop().unwrap_or(Val::Missing),
        _ => Val::List(items),
    })
}

/// `.key` / `['key']`: object member; on arrays `length` or a numeric index.
fn key<'a>(v: &'a Value, k: &str) -> Option<Val<'a>> {
    match v {
        Value::Object(m) => m.get(k).map(Val::Json),
        Value::Array(a) if k == "length" => Some(Val::Num(a.len() as f64)),
        Value::Array(_) => k.parse::<i64>().ok().and_then(|i| index(v, i)),
        _ => None,
    }
}

/// `[i]`: array element (negative from the end) or the object member `"i"`.
fn index<'a>(v: &'a Value, i: i64) -> Option<Val<'a>> {
    match v {
        Value::Array(a) => {
            let i = if i < 0 {
                i.checked_add(i64::try_from(a.len()).ok()?)?
            } else {
                i
            };
            a.get(usize::try_from(i).ok()?).map(Val::Json)
        }
        Value::Object(m) => m.get(&i.to_string()).map(Val::Json),
        _ => None,
    }
}

/// Pushes the children of an array or object.
fn children<'a>(v: &'a Value, out: &mut Vec<Val<'a>>) {
    match v {
        Value::Array(a) => out.extend(a.iter().map(Val::Json)),
        Value::Object(m) => out.extend(m.values().map(Val::Json)),
        _ => {}
    }
}

/// Children that are themselves arrays or objects.
fn container_children(v: &Value) -> Vec<&Value> {
    let is_container = |c: &&Value| matches!(c, Value::Array(_) | Value::Object(_));
    match v {
        Value::Array(a) => a.iter().filter(is_container).collect(),
        Value::Object(m) => m.values().filter(is_container).collect(),
        _ => Vec::new(),
    }
}

/// All containers below `v` in ajson's order, without recursion.
fn descendants<'a>(v: &'a Value, out: &mut Vec<Val<'a>>) {
    let first = container_children(v);
    out.extend(first.iter().copied().map(Val::Json));
    let mut stack: Vec<(Vec<&'a Value>, usize)> = vec![(first, 0)];
    while let Some((list, next)) = stack.last_mut() {
        match list.get(*next) {
            Some(child) => {
                let child = *child;
                *next += 1;
                let grand = container_children(child);
                out.extend(grand.iter().copied().map(Val::Json));
                stack.push((grand, 0));
            }
            None => {
                stack.pop();
            }
        }
    }
}

/// Applies one step to every node in `items`, appending matches to `out`.
fn apply<'a>(
    step: &'a Step,
    items: &[Val<'a>],
    ctx: &Ctx<'a>,
    out: &mut Vec<Val<'a>>,
) -> Result<(), Fault> {
    // Only nodes of the message can be navigated (not computed lengths).
    let nodes = items.iter().filter_map(|it| match it {
        Val::Json(v) => Some(*v),
        _ => None,
    });
    match step {
        Step::Key(k) => out.extend(nodes.filter_map(|v| key(v, k))),
        Step::Index(i) => out.extend(nodes.filter_map(|v| index(v, *i))),
        Step::Wildcard => nodes.for_each(|v| children(v, out)),
        Step::Descend => {
            out.extend(items.iter().cloned());
            nodes.for_each(|v| descendants(v, out));
        }
        Step::Union(parts) => {
            for part in parts {
                apply(part, items, ctx, out)?;
            }
        }
        Step::Slice(start, end, stride) => {
            for v in nodes {
                if let Value::Array(a) = v {
                    slice(a, start, end, stride, ctx, v, out)?;
                }
            }
        }
        Step::Filter(expr) => {
            for v in nodes {
                filter(expr, v, ctx, out)?;
            }
        }
        Step::Script(expr) => {
            for v in nodes {
                computed(expr, v, ctx, out)?;
            }
        }
    }
    Ok(())
}

/// `[?(expr)]` on one node: keeps the children for which `expr` is truthy.
#[inline(never)]
fn filter<'a>(
    expr: &'a Expr,
    v: &'a Value,
    ctx: &Ctx<'a>,
    out: &mut Vec<Val<'a>>,
) -> Result<(), Fault> {
    let mut kids = Vec::new();
    children(v, &mut kids);
    for kid in kids {
        let Val::Json(node) = kid else { continue };
        let sub = Ctx {
            root: ctx.root,
            current: node,
        };
        if eval(expr, &sub)?.truthy() {
            out.push(kid);
        }
    }
    Ok(())
}

/// `[(expr)]` on one node: a computed key, index, or `true` for all children.
#[inline(never)]
fn computed<'a>(
    expr: &'a Expr,
    v: &'a Value,
    ctx: &Ctx<'a>,
    out: &mut Vec<Val<'a>>,
) -> Result<(), Fault> {
    if !matches!(v, Value::Array(_) | Value::Object(_)) {
        return Ok(());
    }
    let sub = Ctx {
        root: ctx.root,
        current: v,
    };
    let selector = eval(expr, &sub)?;
    if let Some(b) = selector.as_bool() {
        if b {
            children(v, out);
        }
    } else if let Some(s) = selector.as_str() {
        out.extend(key(v, s));
    } else if let Some(n) = selector.as_num() {
        match to_int(n) {
            Some(i) => out.extend(index(v, i)),
            None => out.extend(key(v, &format_number(n))),
        }
    }
    Ok(())
}

/// Evaluates a slice bound (`@` = the array).
fn bound<'a>(b: &'a Option<Bound>, ctx: &Ctx<'a>, array: &'a Value) -> Result<Option<i64>, Fault> {
    match b {
        None => Ok(None),
        Some(Bound::Int(n)) => Ok(Some(*n)),
        Some(Bound::Script(e)) => {
            let sub = Ctx {
                root: ctx.root,
                current: array,
            };
            let v = eval(e, &sub)?;
            v.as_num()
                .and_then(to_int)
                .map(Some)
                .ok_or_else(|| Fault::new(e.pos, "slice bound must be an integer"))
        }
    }
}

/// `[start:end:step]` on one array, with ajson's defaults and clamping.
fn slice<'a>(
    a: &'a [Value],
    start: &'a Option<Bound>,
    end: &'a Option<Bound>,
    stride: &'a Option<Bound>,
    ctx: &Ctx<'a>,
    array: &'a Value,
    out: &mut Vec<Val<'a>>,
) -> Result<(), Fault> {
    if a.is_empty() {
        return Ok(());
    }
    let size = i64::try_from(a.len()).unwrap_or(i64::MAX);
    let step = bound(stride, ctx, array)?.unwrap_or(1);
    if step == 0 {
        let pos = match stride {
            Some(Bound::Script(e)) => e.pos,
            _ => 0,
        };
        return Err(Fault::new(pos, "slice step cannot be zero"));
    }
    let norm = |i: i64| if i < 0 { i.saturating_add(size) } else { i };
    let from = bound(start, ctx, array)?.map(norm);
    let to = bound(end, ctx, array)?.map(norm);
    let get = |i: i64| usize::try_from(i).ok().and_then(|i| a.get(i));
    if step > 0 {
        let mut i = from.unwrap_or(0).max(0);
        let stop = to.unwrap_or(size).min(size);
        while i < stop {
            out.extend(get(i).map(Val::Json));
            i = i.saturating_add(step);
        }
    } else {
        let mut i = from.unwrap_or(size - 1).min(size);
        let stop = to.unwrap_or(-1).max(-1);
        while i > stop {
            out.extend(get(i).map(Val::Json));
            i = i.saturating_add(step);
        }
    }
    Ok(())
}
