//! Built-in functions.
//!
//! The single-argument functions follow ajson's `functions` table (numeric
//! functions from Go's `math`, `length`, `size`, `avg`, `sum`, `first`, the
//! node functions `parent`, `root`, `key`, ...). The string helpers (`upper`,
//! `split`, `join`, `replace`, ...) are those of Tiny Systems' ajson fork, and
//! the time helpers (`now`, `RFC3339`, `string`) those Tiny Systems registers
//! on top. Names are case-insensitive, like in ajson.
//!
//! Arity is checked when the expression is parsed; types are checked when it
//! runs, with an error naming the function and the offending type.

use std::borrow::Cow;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use serde_json::Value;

use crate::error::Fault;
use crate::locate::locate;
use crate::math;
use crate::special;
use crate::time::{Timestamp, parse_timestamp};
use crate::value::{Kind, Val, equal, format_number, to_int, to_text};

/// Largest `n` for which `n!` is finite as an `f64`.
const MAX_FACTORIAL: u64 = 170;

/// A built-in function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Func {
    /// A one-argument numeric function from Go's `math` package.
    Math(MathFn),
    /// `pow10(n)` – 10 to the integer power n.
    Pow10,
    /// `length(x)` – array length, string length (characters), 0 for no match, else 1.
    Length,
    /// `size(x)` – number of children of an array/object, else 0.
    Size,
    /// `factorial(n)`.
    Factorial,
    /// `avg(x)` – mean of an array's (or object's) numbers.
    Avg,
    /// `sum(x)` – sum of an array's (or object's) numbers.
    Sum,
    /// `not(x)` – logical negation of truthiness.
    Not,
    /// `rand()` in [0, 1) or `rand(n)` in [0, n).
    Rand,
    /// `randint(n)` – integer in [0, n).
    RandInt,
    /// `first(arr)`.
    First,
    /// `last(arr)`.
    Last,
    /// `parent(x)` – the array or object holding a node of the message.
    Parent,
    /// `root(x)` – the whole message for its nodes; a computed value is its own root.
    Root,
    /// `key(x)` – the member name of a node held by an object.
    Key,
    /// `b64encode(s)` – standard base64 with padding.
    B64Encode,
    /// `b64encoden(s)` – standard base64 without padding.
    B64EncodeN,
    /// `b64decode(s)` – accepts padded and unpadded input.
    B64Decode,
    /// `is_null`, `is_numeric`, ... type predicates.
    Is(IsFn),
    /// `upper(s)`.
    Upper,
    /// `lower(s)`.
    Lower,
    /// `trim(s)` – strips leading/trailing whitespace.
    Trim,
    /// `reverse(s_or_arr)`.
    Reverse,
    /// `split(s, sep)`.
    Split,
    /// `join(arr, sep)` – an array of strings.
    Join,
    /// `contains(s, sub)`; also `contains(arr, x)` and `contains(obj, key)`.
    Contains,
    /// `hasprefix(s, prefix)`.
    HasPrefix,
    /// `hassuffix(s, suffix)`.
    HasSuffix,
    /// `replace(s, old, new)` – every occurrence.
    Replace,
    /// `substr(s, start[, len])` – in characters.
    Substr,
    /// `index(s, sub)` / `index(arr, x)` – position or -1.
    Index,
    /// `now()` – Unix seconds.
    Now,
    /// `RFC3339([x])` – format Unix seconds / normalise a timestamp / now.
    Rfc3339,
    /// `string(x)` – text form of a value.
    String,
}

/// Numeric functions taking and returning one `f64`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MathFn {
    Abs,
    Acos,
    Acosh,
    Asin,
    Asinh,
    Atan,
    Atanh,
    Cbrt,
    Ceil,
    Cos,
    Cosh,
    Erf,
    Erfc,
    Erfcinv,
    Erfinv,
    Exp,
    Exp2,
    Expm1,
    Floor,
    Gamma,
    J0,
    J1,
    Log,
    Log10,
    Log1p,
    Log2,
    Logb,
    Round,
    RoundToEven,
    Sin,
    Sinh,
    Sqrt,
    Tan,
    Tanh,
    Trunc,
    Y0,
    Y1,
}

/// Type predicates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IsFn {
    Null,
    Numeric,
    Int,
    Uint,
    Float,
    String,
    Bool,
    Array,
    Object,
}

impl MathFn {
    fn apply(self, x: f64) -> f64 {
        match self {
            MathFn::Abs => x.abs(),
            MathFn::Acos => math::acos(x),
            MathFn::Acosh => math::acosh(x),
            MathFn::Asin => math::asin(x),
            MathFn::Asinh => math::asinh(x),
            MathFn::Atan => math::atan(x),
            MathFn::Atanh => math::atanh(x),
            MathFn::Cbrt => math::cbrt(x),
            MathFn::Ceil => x.ceil(),
            MathFn::Cos => math::cos(x),
            MathFn::Cosh => math::cosh(x),
            MathFn::Erf => special::erf(x),
            MathFn::Erfc => special::erfc(x),
            MathFn::Erfcinv => special::erfcinv(x),
            MathFn::Erfinv => special::erfinv(x),
            MathFn::Exp => math::exp(x),
            MathFn::Exp2 => math::exp2(x),
            MathFn::Expm1 => math::expm1(x),
            MathFn::Floor => x.floor(),
            MathFn::Gamma => special::gamma(x),
            MathFn::J0 => special::j0(x),
            MathFn::J1 => special::j1(x),
            MathFn::Log => math::log(x),
            MathFn::Log10 => math::log10(x),
            MathFn::Log1p => math::log1p(x),
            MathFn::Log2 => math::log2(x),
            MathFn::Logb => math::logb(x),
            // Half away from zero, like Go's math.Round.
            MathFn::Round => x.round(),
            MathFn::RoundToEven => x.round_ties_even(),
            MathFn::Sin => math::sin(x),
            MathFn::Sinh => math::sinh(x),
            MathFn::Sqrt => x.sqrt(),
            MathFn::Tan => math::tan(x),
            MathFn::Tanh => math::tanh(x),
            MathFn::Trunc => x.trunc(),
            MathFn::Y0 => special::y0(x),
            MathFn::Y1 => special::y1(x),
        }
    }
}

/// Name → function table (names are matched lower-cased).
const TABLE: &[(&str, Func)] = &[
    ("abs", Func::Math(MathFn::Abs)),
    ("acos", Func::Math(MathFn::Acos)),
    ("acosh", Func::Math(MathFn::Acosh)),
    ("asin", Func::Math(MathFn::Asin)),
    ("asinh", Func::Math(MathFn::Asinh)),
    ("atan", Func::Math(MathFn::Atan)),
    ("atanh", Func::Math(MathFn::Atanh)),
    ("cbrt", Func::Math(MathFn::Cbrt)),
    ("ceil", Func::Math(MathFn::Ceil)),
    ("cos", Func::Math(MathFn::Cos)),
    ("cosh", Func::Math(MathFn::Cosh)),
    ("erf", Func::Math(MathFn::Erf)),
    ("erfc", Func::Math(MathFn::Erfc)),
    ("erfcinv", Func::Math(MathFn::Erfcinv)),
    ("erfinv", Func::Math(MathFn::Erfinv)),
    ("exp", Func::Math(MathFn::Exp)),
    ("exp2", Func::Math(MathFn::Exp2)),
    ("expm1", Func::Math(MathFn::Expm1)),
    ("floor", Func::Math(MathFn::Floor)),
    ("gamma", Func::Math(MathFn::Gamma)),
    ("j0", Func::Math(MathFn::J0)),
    ("j1", Func::Math(MathFn::J1)),
    ("log", Func::Math(MathFn::Log)),
    ("log10", Func::Math(MathFn::Log10)),
    ("log1p", Func::Math(MathFn::Log1p)),
    ("log2", Func::Math(MathFn::Log2)),
    ("logb", Func::Math(MathFn::Logb)),
    ("round", Func::Math(MathFn::Round)),
    ("roundtoeven", Func::Math(MathFn::RoundToEven)),
    ("sin", Func::Math(MathFn::Sin)),
    ("sinh", Func::Math(MathFn::Sinh)),
    ("sqrt", Func::Math(MathFn::Sqrt)),
    ("tan", Func::Math(MathFn::Tan)),
    ("tanh", Func::Math(MathFn::Tanh)),
    ("trunc", Func::Math(MathFn::Trunc)),
    ("y0", Func::Math(MathFn::Y0)),
    ("y1", Func::Math(MathFn::Y1)),
    ("pow10", Func::Pow10),
    ("length", Func::Length),
    ("size", Func::Size),
    ("factorial", Func::Factorial),
    ("avg", Func::Avg),
    ("sum", Func::Sum),
    ("not", Func::Not),
    ("rand", Func::Rand),
    ("randint", Func::RandInt),
    ("first", Func::First),
    ("last", Func::Last),
    ("parent", Func::Parent),
    ("root", Func::Root),
    ("key", Func::Key),
    ("b64encode", Func::B64Encode),
    ("b64encoden", Func::B64EncodeN),
    ("b64decode", Func::B64Decode),
    ("is_null", Func::Is(IsFn::Null)),
    ("is_numeric", Func::Is(IsFn::Numeric)),
    ("is_int", Func::Is(IsFn::Int)),
    ("is_uint", Func::Is(IsFn::Uint)),
    ("is_float", Func::Is(IsFn::Float)),
    ("is_string", Func::Is(IsFn::String)),
    ("is_bool", Func::Is(IsFn::Bool)),
    ("is_array", Func::Is(IsFn::Array)),
    ("is_object", Func::Is(IsFn::Object)),
    ("upper", Func::Upper),
    ("lower", Func::Lower),
    ("trim", Func::Trim),
    ("reverse", Func::Reverse),
    ("split", Func::Split),
    ("join", Func::Join),
    ("contains", Func::Contains),
    ("hasprefix", Func::HasPrefix),
    ("hassuffix", Func::HasSuffix),
    ("replace", Func::Replace),
    ("substr", Func::Substr),
    ("index", Func::Index),
    ("now", Func::Now),
    ("rfc3339", Func::Rfc3339),
    ("string", Func::String),
];

/// Mathematical constants (ajson's `constants` table, minus true/false/null
/// which the parser handles itself).
const CONSTANTS: &[(&str, f64)] = &[
    ("e", std::f64::consts::E),
    ("pi", std::f64::consts::PI),
    ("phi", 1.618_033_988_749_895),
    ("sqrt2", std::f64::consts::SQRT_2),
    ("sqrte", 1.648_721_270_700_128_2),
    ("sqrtpi", 1.772_453_850_905_516),
    ("sqrtphi", 1.272_019_649_514_069),
    ("ln2", std::f64::consts::LN_2),
    ("log2e", std::f64::consts::LOG2_E),
    ("ln10", std::f64::consts::LN_10),
    ("log10e", std::f64::consts::LOG10_E),
];

/// Looks a function up by (case-insensitive) name.
pub(crate) fn lookup(name: &str) -> Option<Func> {
    TABLE
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, f)| *f)
}

/// Looks a numeric constant up by (case-insensitive) name.
pub(crate) fn constant(name: &str) -> Option<f64> {
    CONSTANTS
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| *v)
}

impl Func {
    /// The function's canonical name.
    pub(crate) fn name(self) -> &'static str {
        TABLE
            .iter()
            .find(|(_, f)| *f == self)
            .map_or("?", |(n, _)| *n)
    }

    /// Allowed argument counts (inclusive).
    pub(crate) fn arity(self) -> (usize, usize) {
        match self {
            Func::Rand | Func::Rfc3339 | Func::Now => (0, 1),
            Func::Split
            | Func::Join
            | Func::Contains
            | Func::HasPrefix
            | Func::HasSuffix
            | Func::Index => (2, 2),
            Func::Replace => (3, 3),
            Func::Substr => (2, 3),
            _ => (1, 1),
        }
    }
}

/// Shorthand for a type error.
fn type_error(func: Func, pos: usize, expected: &str, got: &Val<'_>) -> Fault {
    Fault::new(
        pos,
        format!(
            "{}() expects {expected}, got {}",
            func.name(),
            got.kind().name()
        ),
    )
}

/// Reads an integer argument (a number without fraction).
fn integer(func: Func, pos: usize, v: &Val<'_>) -> Result<i64, Fault> {
    let n = v
        .as_num()
        .ok_or_else(|| type_error(func, pos, "an integer", v))?;
    to_int(n).ok_or_else(|| {
        Fault::new(
            pos,
            format!(
                "{}() expects an integer, got {}",
                func.name(),
                format_number(n)
            ),
        )
    })
}

/// Reads a string argument.
fn string_arg<'v>(func: Func, pos: usize, v: &'v Val<'_>) -> Result<&'v str, Fault> {
    v.as_str()
        .ok_or_else(|| type_error(func, pos, "a string", v))
}

/// Calls `func` with already evaluated arguments. `pos` is the call's offset;
/// `doc` is the message (`$`), which the node functions search.
pub(crate) fn call<'a>(
    func: Func,
    mut args: Vec<Val<'a>>,
    pos: usize,
    doc: &'a Value,
) -> Result<Val<'a>, Fault> {
    let (min, max) = func.arity();
    if args.len() < min || args.len() > max {
        return Err(Fault::new(
            pos,
            format!(
                "{}() takes {} argument(s), got {}",
                func.name(),
                arity_text(min, max),
                args.len()
            ),
        ));
    }
    let argc = args.len();
    // After the arity check `args` has at least `min` elements.
    let mut it = args.drain(..);
    let a = it.next().unwrap_or(Val::Missing);
    let b = it.next().unwrap_or(Val::Missing);
    let c = it.next();
    drop(it);
    match func {
        Func::Math(f) => {
            let x = a
                .as_num()
                .ok_or_else(|| type_error(func, pos, "a number", &a))?;
            Ok(Val::Num(f.apply(x)))
        }
        Func::Pow10 => {
            if a.kind() == Kind::Null {
                return Ok(Val::Num(0.0));
            }
            let n = integer(func, pos, &a)?;
            Ok(Val::Num(math::pow10(n)))
        }
        Func::Length => Ok(Val::Num(match &a {
            Val::Missing => 0.0,
            _ => match (a.arr_len(), a.as_str()) {
                (Some(n), _) => n as f64,
                (None, Some(s)) => s.chars().count() as f64,
                _ => 1.0,
            },
        })),
        Func::Size => Ok(Val::Num(match (a.arr_len(), a.as_obj()) {
            (Some(n), _) => n as f64,
            (None, Some(m)) => m.len() as f64,
            _ => 0.0,
        })),
        Func::Factorial => {
            if a.kind() == Kind::Null {
                return Ok(Val::Num(0.0));
            }
            let n = integer(func, pos, &a)?;
            let n = u64::try_from(n)
                .map_err(|_| Fault::new(pos, "factorial() expects a non-negative integer"))?;
            if n > MAX_FACTORIAL {
                return Err(Fault::new(
                    pos,
                    format!("factorial() argument {n} is too large (maximum {MAX_FACTORIAL})"),
                ));
            }
            Ok(Val::Num((2..=n).fold(1.0, |acc, k| acc * k as f64)))
        }
        Func::Avg | Func::Sum => {
            if let Some(items) = a.children() {
                let mut total = 0.0;
                let mut count = 0usize;
                for item in items {
                    total += item
                        .as_num()
                        .ok_or_else(|| type_error(func, pos, "numbers only", &item))?;
                    count += 1;
                }
                if func == Func::Avg && count > 0 {
                    total /= count as f64;
                }
                return Ok(Val::Num(total));
            }
            Ok(a.as_num().map_or(Val::Null, Val::Num))
        }
        Func::Not => Ok(Val::Bool(!a.truthy())),
        Func::Rand => {
            let r = fastrand::f64();
            if argc == 0 {
                return Ok(Val::Num(r));
            }
            let n = a
                .as_num()
                .ok_or_else(|| type_error(func, pos, "a number", &a))?;
            Ok(Val::Num(r * n))
        }
        Func::RandInt => {
            let n = integer(func, pos, &a)?;
            if n <= 0 {
                return Err(Fault::new(pos, "randint() expects a positive integer"));
            }
            Ok(Val::Num(fastrand::i64(0..n) as f64))
        }
        Func::First | Func::Last => {
            let Some(items) = a.into_elems() else {
                return Ok(Val::Null);
            };
            let item = if func == Func::First {
                items.into_iter().next()
            } else {
                items.into_iter().next_back()
            };
            Ok(item.unwrap_or(Val::Null))
        }
        Func::Parent | Func::Root | Func::Key => Ok(node_function(func, a, doc)),
        Func::B64Encode | Func::B64EncodeN => Ok(match a.as_str() {
            Some(s) if func == Func::B64Encode => Val::string(STANDARD.encode(s)),
            Some(s) => Val::string(STANDARD_NO_PAD.encode(s)),
            None => Val::Null,
        }),
        Func::B64Decode => {
            let Some(s) = a.as_str() else {
                return Ok(Val::Null);
            };
            let bytes = STANDARD
                .decode(s)
                .or_else(|_| STANDARD_NO_PAD.decode(s))
                .map_err(|e| Fault::new(pos, format!("b64decode(): {e}")))?;
            Ok(Val::string(String::from_utf8_lossy(&bytes)))
        }
        // ajson: a missing value has no type, so every predicate gives null.
        Func::Is(_) if matches!(a, Val::Missing) => Ok(Val::Null),
        Func::Is(kind) => Ok(Val::Bool(is(kind, &a))),
        Func::Upper | Func::Lower | Func::Trim => {
            if a.kind() == Kind::Null {
                return Ok(Val::Null);
            }
            let s = string_arg(func, pos, &a)?;
            Ok(match func {
                Func::Upper => Val::string(s.to_uppercase()),
                Func::Lower => Val::string(s.to_lowercase()),
                _ => Val::string(s.trim()),
            })
        }
        Func::Reverse => {
            if a.kind() == Kind::Null {
                return Ok(Val::Null);
            }
            if let Some(s) = a.as_str() {
                return Ok(Val::string(s.chars().rev().collect::<String>()));
            }
            if a.kind() != Kind::Arr {
                return Err(type_error(func, pos, "a string or an array", &a));
            }
            let mut items = a.into_elems().unwrap_or_default();
            items.reverse();
            Ok(Val::List(items))
        }
        Func::Split => {
            if a.kind() == Kind::Null {
                return Ok(Val::Null);
            }
            let s = string_arg(func, pos, &a)?;
            let sep = string_arg(func, pos, &b)?;
            let parts: Vec<Val<'a>> = if sep.is_empty() {
                s.chars().map(|c| Val::string(c.to_string())).collect()
            } else {
                s.split(sep).map(Val::string).collect()
            };
            Ok(Val::List(parts))
        }
        Func::Join => {
            if a.kind() == Kind::Null {
                return Ok(Val::Null);
            }
            let items = a
                .arr_elems()
                .ok_or_else(|| type_error(func, pos, "an array of strings", &a))?;
            let sep = string_arg(func, pos, &b)?;
            let mut out = String::new();
            for (i, item) in items.enumerate() {
                let text = item.as_str().ok_or_else(|| {
                    Fault::new(
                        pos,
                        format!(
                            "join() expects an array of strings, element {i} is {}",
                            item.kind().name()
                        ),
                    )
                })?;
                if i > 0 {
                    out.push_str(sep);
                }
                out.push_str(text);
            }
            Ok(Val::string(out))
        }
        Func::Contains => {
            if let Some(s) = a.as_str() {
                let needle = b.as_str().ok_or_else(|| {
                    Fault::new(
                        pos,
                        format!(
                            "contains() expects a string to look for in a string, got {}",
                            b.kind().name()
                        ),
                    )
                })?;
                return Ok(Val::Bool(s.contains(needle)));
            }
            if let Some(items) = a.arr_elems() {
                for item in items {
                    if equal(&item, &b).map_err(|e| Fault::new(pos, e))? {
                        return Ok(Val::Bool(true));
                    }
                }
                return Ok(Val::Bool(false));
            }
            if let Some(m) = a.as_obj() {
                return Ok(Val::Bool(b.as_str().is_some_and(|k| m.contains_key(k))));
            }
            if a.kind() == Kind::Null {
                return Ok(Val::Bool(false));
            }
            Err(type_error(func, pos, "a string, an array or an object", &a))
        }
        Func::HasPrefix | Func::HasSuffix => {
            if a.kind() == Kind::Null {
                return Ok(Val::Bool(false));
            }
            let s = string_arg(func, pos, &a)?;
            let affix = string_arg(func, pos, &b)?;
            Ok(Val::Bool(if func == Func::HasPrefix {
                s.starts_with(affix)
            } else {
                s.ends_with(affix)
            }))
        }
        Func::Replace => {
            if a.kind() == Kind::Null {
                return Ok(Val::Null);
            }
            let c = c.unwrap_or(Val::Missing);
            let s = string_arg(func, pos, &a)?;
            let old = string_arg(func, pos, &b)?;
            let new = string_arg(func, pos, &c)?;
            Ok(Val::string(s.replace(old, new)))
        }
        Func::Substr => {
            if a.kind() == Kind::Null {
                return Ok(Val::Null);
            }
            let s = string_arg(func, pos, &a)?;
            let count = s.chars().count() as i64;
            let mut start = integer(func, pos, &b)?;
            if start < 0 {
                start = start.saturating_add(count).max(0);
            }
            let start = start.min(count);
            let len = match &c {
                Some(l) => integer(func, pos, l)?.max(0),
                None => count,
            };
            let take = usize::try_from(len.min(count - start)).unwrap_or(0);
            let skip = usize::try_from(start).unwrap_or(0);
            Ok(Val::string(
                s.chars().skip(skip).take(take).collect::<String>(),
            ))
        }
        Func::Index => {
            if let Some(s) = a.as_str() {
                let needle = string_arg(func, pos, &b)?;
                let idx = s.find(needle).map_or(-1.0, |byte| {
                    s.get(..byte).map_or(0, |p| p.chars().count()) as f64
                });
                return Ok(Val::Num(idx));
            }
            if let Some(items) = a.arr_elems() {
                for (i, item) in items.enumerate() {
                    if equal(&item, &b).map_err(|e| Fault::new(pos, e))? {
                        return Ok(Val::Num(i as f64));
                    }
                }
                return Ok(Val::Num(-1.0));
            }
            if a.kind() == Kind::Null {
                return Ok(Val::Num(-1.0));
            }
            Err(type_error(func, pos, "a string or an array", &a))
        }
        Func::Now => Ok(Val::Num(Timestamp::now().unix_seconds() as f64)),
        Func::Rfc3339 => {
            let ts = if let Some(n) = a.as_num() {
                if !n.is_finite() {
                    return Err(Fault::new(pos, "RFC3339() expects a finite number"));
                }
                // Go: time.Unix(int64(n), 0) – the fraction is dropped.
                Timestamp::from_unix(n.trunc().clamp(-1e15, 1e15) as i64)
            } else if let Some(s) = a.as_str() {
                parse_timestamp(s).ok_or_else(|| {
                    Fault::new(
                        pos,
                        format!("RFC3339(): '{s}' is not an RFC 3339 timestamp"),
                    )
                })?
            } else {
                Timestamp::now()
            };
            ts.format()
                .map(Val::string)
                .ok_or_else(|| Fault::new(pos, "RFC3339(): time is out of range"))
        }
        Func::String => {
            if a.kind() == Kind::Null {
                return Ok(Val::string("null"));
            }
            if let Val::Str(_) = a {
                return Ok(a);
            }
            let text = to_text(&a).map_err(|e| Fault::new(pos, e))?;
            Ok(Val::string(text.into_owned()))
        }
    }
}

/// `parent`, `root` and `key`, following ajson's node functions: only nodes
/// of the message have a parent and a key; a computed value (a number, a
/// string, the array of several path matches) is its own root.
fn node_function<'a>(func: Func, a: Val<'a>, doc: &'a Value) -> Val<'a> {
    let node = match a {
        Val::Missing => return Val::Null,
        Val::Json(node) => node,
        other => {
            return if func == Func::Root { other } else { Val::Null };
        }
    };
    let place = locate(doc, node);
    match func {
        Func::Parent => place.map_or(Val::Null, |p| Val::Json(p.parent)),
        Func::Key => place
            .and_then(|p| p.key)
            .map_or(Val::Null, |k| Val::Str(Cow::Borrowed(k))),
        _ if place.is_some() || std::ptr::eq(node, doc) => Val::Json(doc),
        _ => Val::Json(node),
    }
}

/// Human readable arity, e.g. `1`, `2 or 3`, `0 to 1`.
fn arity_text(min: usize, max: usize) -> String {
    match max - min {
        0 => min.to_string(),
        1 => format!("{min} or {max}"),
        _ => format!("{min} to {max}"),
    }
}

/// Type predicates (`is_int` and friends).
fn is(kind: IsFn, v: &Val<'_>) -> bool {
    let int = v.as_num().and_then(to_int);
    match kind {
        IsFn::Null => v.kind() == Kind::Null,
        IsFn::Numeric => v.kind() == Kind::Num,
        IsFn::Int => int.is_some(),
        IsFn::Uint => int.is_some_and(|n| n >= 0),
        IsFn::Float => v.kind() == Kind::Num && int.is_none(),
        IsFn::String => v.kind() == Kind::Str,
        IsFn::Bool => v.kind() == Kind::Bool,
        IsFn::Array => v.kind() == Kind::Arr,
        IsFn::Object => v.kind() == Kind::Obj,
    }
}
