//! JSONPath evaluation: applies a parsed [`Path`] to the message.
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
//! Filters and computed keys hold scripts in the full expression language.
//! This module sits below the evaluator, so the evaluator passes itself in as
//! a [`ScriptEval`] instead of being imported back.
//!
//! Evaluation borrows from the message: a plain `$.a.b[0]` walks references
//! without allocating.

use serde_json::Value;

use crate::ast::{Bound, Expr, Path, Root, Step};
use crate::context::Ctx;
use crate::error::Fault;
use crate::value::{Val, format_number, to_int};

/// Evaluates the script of a filter or computed index (the evaluator's entry point).
pub(crate) type ScriptEval = for<'a> fn(&'a Expr, &Ctx<'a>) -> Result<Val<'a>, Fault>;

/// Evaluates a path against the context.
pub(crate) fn eval_path<'a>(
    path: &'a Path,
    ctx: &Ctx<'a>,
    script: ScriptEval,
) -> Result<Val<'a>, Fault> {
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
            Some(other) => return finish_set(vec![other], tail, ctx, script),
            None => return Ok(Val::Missing),
        }
        rest = tail;
    }
    if rest.is_empty() {
        return Ok(Val::Json(cur));
    }
    finish_set(vec![Val::Json(cur)], rest, ctx, script)
}

/// Applies the remaining steps to a set of nodes and shapes the result.
fn finish_set<'a>(
    mut items: Vec<Val<'a>>,
    steps: &'a [Step],
    ctx: &Ctx<'a>,
    script: ScriptEval,
) -> Result<Val<'a>, Fault> {
    for step in steps {
        let mut out = Vec::new();
        apply(step, &items, ctx, script, &mut out)?;
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
    script: ScriptEval,
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
                apply(part, items, ctx, script, out)?;
            }
        }
        Step::Slice(start, end, stride) => {
            for v in nodes {
                if let Value::Array(a) = v {
                    slice(a, start, end, stride, &ctx.at(v), script, out)?;
                }
            }
        }
        Step::Filter(expr) => {
            for v in nodes {
                filter(expr, v, ctx, script, out)?;
            }
        }
        Step::Script(expr) => {
            for v in nodes {
                computed(expr, v, ctx, script, out)?;
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
    script: ScriptEval,
    out: &mut Vec<Val<'a>>,
) -> Result<(), Fault> {
    let mut kids = Vec::new();
    children(v, &mut kids);
    for kid in kids {
        let Val::Json(node) = kid else { continue };
        if script(expr, &ctx.at(node))?.truthy() {
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
    script: ScriptEval,
    out: &mut Vec<Val<'a>>,
) -> Result<(), Fault> {
    if !matches!(v, Value::Array(_) | Value::Object(_)) {
        return Ok(());
    }
    let selector = script(expr, &ctx.at(v))?;
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

/// Evaluates a slice bound; `ctx` has `@` = the array.
fn bound<'a>(
    b: &'a Option<Bound>,
    ctx: &Ctx<'a>,
    script: ScriptEval,
) -> Result<Option<i64>, Fault> {
    match b {
        None => Ok(None),
        Some(Bound::Int(n)) => Ok(Some(*n)),
        Some(Bound::Script(e)) => {
            let v = script(e, ctx)?;
            v.as_num()
                .and_then(to_int)
                .map(Some)
                .ok_or_else(|| Fault::new(e.pos, "slice bound must be an integer"))
        }
    }
}

/// `[start:end:step]` on one array, with ajson's defaults and clamping;
/// `ctx` has `@` = the array.
fn slice<'a>(
    a: &'a [Value],
    start: &'a Option<Bound>,
    end: &'a Option<Bound>,
    stride: &'a Option<Bound>,
    ctx: &Ctx<'a>,
    script: ScriptEval,
    out: &mut Vec<Val<'a>>,
) -> Result<(), Fault> {
    if a.is_empty() {
        return Ok(());
    }
    let size = i64::try_from(a.len()).unwrap_or(i64::MAX);
    let step = bound(stride, ctx, script)?.unwrap_or(1);
    if step == 0 {
        let pos = match stride {
            Some(Bound::Script(e)) => e.pos,
            _ => 0,
        };
        return Err(Fault::new(pos, "slice step cannot be zero"));
    }
    let norm = |i: i64| if i < 0 { i.saturating_add(size) } else { i };
    let from = bound(start, ctx, script)?.map(norm);
    let to = bound(end, ctx, script)?.map(norm);
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
