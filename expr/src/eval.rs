//! Evaluation of a parsed expression against a message.
//!
//! Operator semantics follow ajson's `operations` table with Tiny Systems'
//! overloads of `+`/`-` for timestamps and durations:
//! * arithmetic is on `f64`; `%`, `&`, `|`, `^`, `&^`, `<<`, `>>` need
//!   integral operands; division (and `%`) by zero is an error;
//! * `+` adds two numbers or concatenates two strings (after trying
//!   timestamp ± duration and duration ± duration); mixing them is an error;
//! * `==`/`!=` compare deeply and never fail; values of different types are
//!   simply unequal; `<`, `<=`, `>`, `>=` order numbers and strings, are
//!   `false` across types, and fail for other same-type pairs;
//! * `&&`, `||` and `? :` use ajson truthiness and short-circuit.

use std::borrow::Cow;

use regex::Regex;

use crate::ast::{Expr, ExprKind};
use crate::context::Ctx;
use crate::error::Fault;
use crate::functions::{Func, call};
use crate::lexer::Op;
use crate::path_eval::eval_path;
use crate::pattern::compile_regex;
use crate::time::{format_duration, parse_duration, parse_timestamp};
use crate::value::{Kind, Val, equal, format_number, to_int};

/// Evaluates `e`.
///
/// This function recurses through the tree, so it only dispatches: each
/// variant's work lives in its own small function, which keeps the stack
/// frame per nesting level small even in unoptimised builds.
pub(crate) fn eval<'a>(e: &'a Expr, ctx: &Ctx<'a>) -> Result<Val<'a>, Fault> {
    match &e.kind {
        ExprKind::Null => Ok(Val::Null),
        ExprKind::Bool(b) => Ok(Val::Bool(*b)),
        ExprKind::Num(n) => Ok(Val::Num(*n)),
        ExprKind::Str(s) => Ok(Val::Str(Cow::Borrowed(s))),
        ExprKind::Path(p) => eval_path(p, ctx, eval),
        ExprKind::Neg(x) => eval_sign(x, true, e.pos, ctx),
        ExprKind::Plus(x) => eval_sign(x, false, e.pos, ctx),
        ExprKind::Not(x) => eval_not(x, ctx),
        ExprKind::And(a, b) => eval_and(a, b, ctx),
        ExprKind::Or(a, b) => eval_or(a, b, ctx),
        ExprKind::Cond(c, a, b) => eval_cond(c, a, b, ctx),
        ExprKind::Match(a, b, re) => eval_match(a, b, re.as_deref(), e.pos, ctx),
        ExprKind::Binary(op, a, b) => eval_binary(*op, a, b, e.pos, ctx),
        ExprKind::Call(f, args) => eval_call(*f, args, e.pos, ctx),
    }
}

/// Unary `-` / `+`.
#[inline(never)]
fn eval_sign<'a>(x: &'a Expr, negate: bool, pos: usize, ctx: &Ctx<'a>) -> Result<Val<'a>, Fault> {
    let v = eval(x, ctx)?;
    match v.as_num() {
        Some(n) => Ok(Val::Num(if negate { -n } else { n })),
        None => Err(sign_error(negate, &v, pos)),
    }
}

#[cold]
#[inline(never)]
fn sign_error(negate: bool, v: &Val<'_>, pos: usize) -> Fault {
    let sign = if negate { '-' } else { '+' };
    Fault::new(
        pos,
        format!("unary '{sign}' expects a number, got {}", v.kind().name()),
    )
}

/// `!x`.
#[inline(never)]
fn eval_not<'a>(x: &'a Expr, ctx: &Ctx<'a>) -> Result<Val<'a>, Fault> {
    Ok(Val::Bool(!eval(x, ctx)?.truthy()))
}

/// `a && b` (short-circuit).
#[inline(never)]
fn eval_and<'a>(a: &'a Expr, b: &'a Expr, ctx: &Ctx<'a>) -> Result<Val<'a>, Fault> {
    Ok(Val::Bool(eval(a, ctx)?.truthy() && eval(b, ctx)?.truthy()))
}

/// `a || b` (short-circuit).
#[inline(never)]
fn eval_or<'a>(a: &'a Expr, b: &'a Expr, ctx: &Ctx<'a>) -> Result<Val<'a>, Fault> {
    Ok(Val::Bool(eval(a, ctx)?.truthy() || eval(b, ctx)?.truthy()))
}

/// `c ? a : b`.
#[inline(never)]
fn eval_cond<'a>(c: &'a Expr, a: &'a Expr, b: &'a Expr, ctx: &Ctx<'a>) -> Result<Val<'a>, Fault> {
    if eval(c, ctx)?.truthy() {
        eval(a, ctx)
    } else {
        eval(b, ctx)
    }
}

/// `a =~ b`.
#[inline(never)]
fn eval_match<'a>(
    a: &'a Expr,
    b: &'a Expr,
    compiled: Option<&Regex>,
    pos: usize,
    ctx: &Ctx<'a>,
) -> Result<Val<'a>, Fault> {
    let text = eval(a, ctx)?;
    if text.kind() == Kind::Null {
        return Ok(Val::Bool(false));
    }
    let s = text.as_str().ok_or_else(|| {
        Fault::new(
            pos,
            format!(
                "operator '=~' expects a string on the left, got {}",
                text.kind().name()
            ),
        )
    })?;
    if let Some(re) = compiled {
        return Ok(Val::Bool(re.is_match(s)));
    }
    let pattern = eval(b, ctx)?;
    let p = pattern.as_str().ok_or_else(|| {
        Fault::new(
            b.pos,
            format!(
                "operator '=~' expects a string pattern, got {}",
                pattern.kind().name()
            ),
        )
    })?;
    let re = compile_regex(p).map_err(|msg| Fault::new(b.pos, msg))?;
    Ok(Val::Bool(re.is_match(s)))
}

/// Binary operators: evaluates both sides, then applies the operator.
#[inline(never)]
fn eval_binary<'a>(
    op: Op,
    a: &'a Expr,
    b: &'a Expr,
    pos: usize,
    ctx: &Ctx<'a>,
) -> Result<Val<'a>, Fault> {
    let l = eval(a, ctx)?;
    let r = eval(b, ctx)?;
    binary(op, l, r, pos)
}

/// Function calls: evaluates the arguments, then calls the built-in.
#[inline(never)]
fn eval_call<'a>(f: Func, args: &'a [Expr], pos: usize, ctx: &Ctx<'a>) -> Result<Val<'a>, Fault> {
    let mut vals = Vec::with_capacity(args.len());
    for arg in args {
        vals.push(eval(arg, ctx)?);
    }
    call(f, vals, pos, ctx.root)
}

/// Applies a (non short-circuit) binary operator.
#[inline(never)]
fn binary<'a>(op: Op, l: Val<'a>, r: Val<'a>, pos: usize) -> Result<Val<'a>, Fault> {
    match op {
        Op::Add => add(l, r, pos),
        Op::Sub => sub(l, r, pos),
        Op::Mul | Op::Div | Op::Pow => {
            let (x, y) = numbers(op, &l, &r, pos)?;
            Ok(Val::Num(match op {
                Op::Mul => x * y,
                Op::Pow => crate::math::pow(x, y),
                _ => {
                    if y == 0.0 {
                        return Err(Fault::new(pos, "division by zero"));
                    }
                    x / y
                }
            }))
        }
        Op::Rem | Op::BitAnd | Op::BitOr | Op::BitXor | Op::AndNot | Op::Shl | Op::Shr => {
            let (x, y) = integers(op, &l, &r, pos)?;
            let v = match op {
                Op::Rem => {
                    if y == 0 {
                        return Err(Fault::new(pos, "division by zero"));
                    }
                    x.wrapping_rem(y)
                }
                Op::BitAnd => x & y,
                Op::BitOr => x | y,
                Op::BitXor => x ^ y,
                Op::AndNot => x & !y,
                _ => {
                    if y < 0 {
                        return Err(Fault::new(
                            pos,
                            format!(
                                "operator '{}' needs a non-negative shift count",
                                op.symbol()
                            ),
                        ));
                    }
                    // Go semantics for shifts of 64 or more bits.
                    match (op, u32::try_from(y).ok().filter(|s| *s < 64)) {
                        (Op::Shl, Some(s)) => x.wrapping_shl(s),
                        (Op::Shl, None) => 0,
                        (_, Some(s)) => x >> s,
                        (_, None) => {
                            if x < 0 {
                                -1
                            } else {
                                0
                            }
                        }
                    }
                }
            };
            Ok(Val::Num(v as f64))
        }
        Op::Eq | Op::Ne => {
            let same = equal(&l, &r).map_err(|msg| Fault::new(pos, msg))?;
            Ok(Val::Bool(same == (op == Op::Eq)))
        }
        Op::Lt | Op::Le | Op::Gt | Op::Ge => compare(op, &l, &r, pos),
        Op::And | Op::Or | Op::Match | Op::Not => Err(Fault::new(
            pos,
            format!("operator '{}' cannot be used here", op.symbol()),
        )),
    }
}

/// Both operands as numbers.
fn numbers(op: Op, l: &Val<'_>, r: &Val<'_>, pos: usize) -> Result<(f64, f64), Fault> {
    match (l.as_num(), r.as_num()) {
        (Some(x), Some(y)) => Ok((x, y)),
        _ => Err(Fault::new(
            pos,
            format!(
                "operator '{}' expects numbers, got {} and {}",
                op.symbol(),
                l.kind().name(),
                r.kind().name()
            ),
        )),
    }
}

/// Both operands as integers (numbers without fraction).
fn integers(op: Op, l: &Val<'_>, r: &Val<'_>, pos: usize) -> Result<(i64, i64), Fault> {
    let (x, y) = numbers(op, l, r, pos)?;
    match (to_int(x), to_int(y)) {
        (Some(a), Some(b)) => Ok((a, b)),
        _ => Err(Fault::new(
            pos,
            format!(
                "operator '{}' expects integers, got {} and {}",
                op.symbol(),
                format_number(x),
                format_number(y)
            ),
        )),
    }
}

/// `<`, `<=`, `>`, `>=`.
fn compare<'a>(op: Op, l: &Val<'_>, r: &Val<'_>, pos: usize) -> Result<Val<'a>, Fault> {
    let kind = l.kind();
    if kind != r.kind() {
        return Ok(Val::Bool(false));
    }
    let ord = match kind {
        Kind::Num => l
            .as_num()
            .zip(r.as_num())
            .and_then(|(x, y)| x.partial_cmp(&y)),
        Kind::Str => l.as_str().zip(r.as_str()).map(|(x, y)| x.cmp(y)),
        _ => {
            return Err(Fault::new(
                pos,
                format!(
                    "operator '{}' cannot order {} values",
                    op.symbol(),
                    kind.name()
                ),
            ));
        }
    };
    let Some(ord) = ord else {
        return Ok(Val::Bool(false)); // NaN
    };
    Ok(Val::Bool(match op {
        Op::Lt => ord.is_lt(),
        Op::Le => ord.is_le(),
        Op::Gt => ord.is_gt(),
        _ => ord.is_ge(),
    }))
}

/// Formats Go's `fmt.Sprintf("%vs", seconds)` used for duration ± duration.
fn seconds_text(nanos: i128) -> String {
    format!("{}s", format_number(nanos as f64 / 1e9))
}

/// `+`: numbers add; two strings are time arithmetic (timestamp + duration
/// moves the time, duration + duration gives seconds) or else concatenate.
/// Mixed operands are an error, as in ajson (`'n=' + 5`; use `string(5)`).
fn add<'a>(l: Val<'a>, r: Val<'a>, pos: usize) -> Result<Val<'a>, Fault> {
    if let (Some(x), Some(y)) = (l.as_num(), r.as_num()) {
        return Ok(Val::Num(x + y));
    }
    let (Some(a), Some(b)) = (l.as_str(), r.as_str()) else {
        return Err(add_error(&l, &r, pos));
    };
    let (da, db) = (parse_duration(a), parse_duration(b));
    let shifted = match (parse_timestamp(a), db, parse_timestamp(b), da) {
        (Some(t), Some(d), _, _) | (_, _, Some(t), Some(d)) => Some(t.add(d)),
        _ => None,
    };
    if let Some(t) = shifted {
        return t
            .and_then(|t| t.format())
            .map(Val::string)
            .ok_or_else(|| Fault::new(pos, "time is out of range"));
    }
    if let (Some(x), Some(y)) = (da, db) {
        return Ok(Val::string(seconds_text(i128::from(x) + i128::from(y))));
    }
    let mut text = String::with_capacity(a.len() + b.len());
    text.push_str(a);
    text.push_str(b);
    Ok(Val::string(text))
}

/// The error for `+` on anything but two numbers or two strings.
#[cold]
#[inline(never)]
fn add_error(l: &Val<'_>, r: &Val<'_>, pos: usize) -> Fault {
    let (lk, rk) = (l.kind(), r.kind());
    let hint = if lk == Kind::Str || rk == Kind::Str {
        " (convert with string(...) to concatenate)"
    } else {
        ""
    };
    Fault::new(
        pos,
        format!(
            "operator '+' expects two numbers or two strings, got {} and {}{hint}",
            lk.name(),
            rk.name()
        ),
    )
}

/// `-`: numbers subtract; timestamp − duration, duration − duration (seconds)
/// and timestamp − timestamp (a Go duration string).
fn sub<'a>(l: Val<'a>, r: Val<'a>, pos: usize) -> Result<Val<'a>, Fault> {
    if let (Some(x), Some(y)) = (l.as_num(), r.as_num()) {
        return Ok(Val::Num(x - y));
    }
    if let (Some(a), Some(b)) = (l.as_str(), r.as_str()) {
        let (ta, tb) = (parse_timestamp(a), parse_timestamp(b));
        let (da, db) = (parse_duration(a), parse_duration(b));
        let out_of_range = || Fault::new(pos, "time is out of range");
        match (ta, db, tb, da) {
            (Some(t), Some(d), _, _) | (_, _, Some(t), Some(d)) => {
                // Tiny Systems: `duration - time` also moves the time back.
                let moved = d.checked_neg().and_then(|d| t.add(d));
                return moved
                    .and_then(|t| t.format())
                    .map(Val::string)
                    .ok_or_else(out_of_range);
            }
            _ => {}
        }
        if let (Some(x), Some(y)) = (da, db) {
            return Ok(Val::string(seconds_text(i128::from(x) - i128::from(y))));
        }
        if let (Some(x), Some(y)) = (ta, tb) {
            return Ok(Val::string(format_duration(x.sub(&y))));
        }
        return Err(Fault::new(
            pos,
            "operator '-' expects numbers, timestamps or durations, got two other strings",
        ));
    }
    Err(Fault::new(
        pos,
        format!(
            "operator '-' expects numbers, got {} and {}",
            l.kind().name(),
            r.kind().name()
        ),
    ))
}
