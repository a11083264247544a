//! Runtime values.
//!
//! Evaluation must not copy the incoming message, so a [`Val`] either owns a
//! small computed value (number, string, bool, list) or *borrows* a node of
//! the message ([`Val::Json`]). Numbers are `f64` like in ajson; a borrowed
//! number keeps its original JSON representation until arithmetic touches it,
//! so passing `{{$.id}}` through never loses precision.
//!
//! This module also holds the conversions that define how values look to the
//! outside: truthiness, deep equality, text rendering (interpolation and
//! `string()`), and conversion back to [`serde_json::Value`].

use std::borrow::Cow;

use serde_json::{Map, Number, Value};

/// Maximum depth for deep comparisons of nested arrays/objects.
const MAX_COMPARE_DEPTH: usize = 256;

/// A value produced while evaluating an expression.
#[derive(Debug, Clone)]
pub(crate) enum Val<'a> {
    /// A path matched nothing. Behaves as `null` except for `length()` (0).
    Missing,
    /// `null`.
    Null,
    /// A boolean.
    Bool(bool),
    /// A number.
    Num(f64),
    /// A string.
    Str(Cow<'a, str>),
    /// A borrowed node of the message (any JSON type).
    Json(&'a Value),
    /// An array built during evaluation (several path matches, `split`, ...).
    List(Vec<Val<'a>>),
}

/// The JSON type of a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `null` (or no match).
    Null,
    /// Boolean.
    Bool,
    /// Number.
    Num,
    /// String.
    Str,
    /// Array.
    Arr,
    /// Object.
    Obj,
}

impl Kind {
    /// Name used in error messages.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::Null => "null",
            Kind::Bool => "bool",
            Kind::Num => "number",
            Kind::Str => "string",
            Kind::Arr => "array",
            Kind::Obj => "object",
        }
    }
}

/// Iterator over the elements of an array value (or the values of an object).
pub(crate) enum Elems<'v, 'a> {
    /// Elements of a borrowed JSON array.
    Json(std::slice::Iter<'a, Value>),
    /// Values of a borrowed JSON object, in document order.
    Obj(serde_json::map::Values<'a>),
    /// Elements of a computed list.
    List(std::slice::Iter<'v, Val<'a>>),
}

impl<'v, 'a: 'v> Iterator for Elems<'v, 'a> {
    type Item = Val<'v>;

    fn next(&mut self) -> Option<Val<'v>> {
        match self {
            Elems::Json(it) => it.next().map(Val::Json),
            Elems::Obj(it) => it.next().map(Val::Json),
            Elems::List(it) => it.next().map(Val::view),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match self {
            Elems::Json(it) => it.size_hint(),
            Elems::Obj(it) => it.size_hint(),
            Elems::List(it) => it.size_hint(),
        }
    }
}

impl<'a> Val<'a> {
    /// Wraps a string.
    pub(crate) fn string(s: impl Into<String>) -> Val<'a> {
        Val::Str(Cow::Owned(s.into()))
    }

    /// A cheap borrowed copy of this value.
    pub(crate) fn view<'v>(&'v self) -> Val<'v>
    where
        'a: 'v,
    {
        match self {
            Val::Missing => Val::Missing,
            Val::Null => Val::Null,
            Val::Bool(b) => Val::Bool(*b),
            Val::Num(n) => Val::Num(*n),
            Val::Str(s) => Val::Str(Cow::Borrowed(s.as_ref())),
            Val::Json(v) => Val::Json(v),
            Val::List(items) => Val::List(items.iter().map(Val::view).collect()),
        }
    }

    /// The JSON type of the value.
    pub(crate) fn kind(&self) -> Kind {
        match self {
            Val::Missing | Val::Null => Kind::Null,
            Val::Bool(_) => Kind::Bool,
            Val::Num(_) => Kind::Num,
            Val::Str(_) => Kind::Str,
            Val::List(_) => Kind::Arr,
            Val::Json(v) => match v {
                Value::Null => Kind::Null,
                Value::Bool(_) => Kind::Bool,
                Value::Number(_) => Kind::Num,
                Value::String(_) => Kind::Str,
                Value::Array(_) => Kind::Arr,
                Value::Object(_) => Kind::Obj,
            },
        }
    }

    /// The number, if this is a number.
    pub(crate) fn as_num(&self) -> Option<f64> {
        match self {
            Val::Num(n) => Some(*n),
            Val::Json(Value::Number(n)) => n.as_f64(),
            _ => None,
        }
    }

    /// The string, if this is a string.
    pub(crate) fn as_str(&self) -> Option<&str> {
        match self {
            Val::Str(s) => Some(s),
            Val::Json(Value::String(s)) => Some(s),
            _ => None,
        }
    }

    /// The boolean, if this is a boolean.
    pub(crate) fn as_bool(&self) -> Option<bool> {
        match self {
            Val::Bool(b) => Some(*b),
            Val::Json(Value::Bool(b)) => Some(*b),
            _ => None,
        }
    }

    /// The object, if this is an object.
    pub(crate) fn as_obj(&self) -> Option<&'a Map<String, Value>> {
        match self {
            Val::Json(Value::Object(m)) => Some(m),
            _ => None,
        }
    }

    /// Number of elements if this is an array.
    pub(crate) fn arr_len(&self) -> Option<usize> {
        match self {
            Val::List(items) => Some(items.len()),
            Val::Json(Value::Array(a)) => Some(a.len()),
            _ => None,
        }
    }

    /// Iterates the elements if this is an array.
    pub(crate) fn arr_elems(&self) -> Option<Elems<'_, 'a>> {
        match self {
            Val::List(items) => Some(Elems::List(items.iter())),
            Val::Json(Value::Array(a)) => Some(Elems::Json(a.iter())),
            _ => None,
        }
    }

    /// Iterates the children of an array or the values of an object.
    pub(crate) fn children(&self) -> Option<Elems<'_, 'a>> {
        match self {
            Val::Json(Value::Object(m)) => Some(Elems::Obj(m.values())),
            _ => self.arr_elems(),
        }
    }

    /// Takes the array elements out of the value (cloning only computed lists' storage).
    pub(crate) fn into_elems(self) -> Option<Vec<Val<'a>>> {
        match self {
            Val::List(items) => Some(items),
            Val::Json(Value::Array(a)) => Some(a.iter().map(Val::Json).collect()),
            _ => None,
        }
    }

    /// ajson truthiness: `false`, `0`, `""`, `null`, `[]`, `{}` are false.
    pub(crate) fn truthy(&self) -> bool {
        match self {
            Val::Missing | Val::Null => false,
            Val::Bool(b) => *b,
            Val::Num(n) => *n != 0.0,
            Val::Str(s) => !s.is_empty(),
            Val::List(items) => !items.is_empty(),
            Val::Json(v) => match v {
                Value::Null => false,
                Value::Bool(b) => *b,
                Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
                Value::String(s) => !s.is_empty(),
                Value::Array(a) => !a.is_empty(),
                Value::Object(m) => !m.is_empty(),
            },
        }
    }

    /// Converts to an owned JSON value. Fails only for NaN/infinite numbers,
    /// which JSON cannot represent.
    pub(crate) fn into_value(self) -> Result<Value, String> {
        Ok(match self {
            Val::Missing | Val::Null => Value::Null,
            Val::Bool(b) => Value::Bool(b),
            Val::Num(n) => Value::Number(number(n).ok_or_else(|| non_finite(n))?),
            Val::Str(s) => Value::String(s.into_owned()),
            Val::Json(v) => v.clone(),
            Val::List(items) => Value::Array(
                items
                    .into_iter()
                    .map(Val::into_value)
                    .collect::<Result<_, _>>()?,
            ),
        })
    }
}

/// Message for a number JSON cannot hold.
fn non_finite(n: f64) -> String {
    format!(
        "result {} is not a finite number and cannot be represented in JSON",
        format_number(n)
    )
}

/// Converts an `f64` to a JSON number: integral values in `i64` range become
/// integers (so `2` prints as `2`, not `2.0`), other finite values floats.
pub(crate) fn number(n: f64) -> Option<Number> {
    // 2^63 as f64; every integral f64 strictly inside (-2^63, 2^63) fits in i64.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    if n.fract() == 0.0 && n > -LIMIT && n < LIMIT {
        Some(Number::from(n as i64))
    } else {
        Number::from_f64(n)
    }
}

/// `n` as an `i64` if it is integral and in range (indexes, bit operations,
/// integer arguments).
pub(crate) fn to_int(n: f64) -> Option<i64> {
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    (n.fract() == 0.0 && (-LIMIT..LIMIT).contains(&n)).then_some(n as i64)
}

/// Deep equality as used by `==` and `!=`: numbers by value, arrays
/// element-wise, objects key-wise; values of different types are not equal.
pub(crate) fn equal(a: &Val<'_>, b: &Val<'_>) -> Result<bool, String> {
    equal_at(a, b, 0)
}

fn equal_at(a: &Val<'_>, b: &Val<'_>, depth: usize) -> Result<bool, String> {
    if depth > MAX_COMPARE_DEPTH {
        return Err("values are nested too deeply to compare".into());
    }
    let kind = a.kind();
    if kind != b.kind() {
        return Ok(false);
    }
    match kind {
        Kind::Null => Ok(true),
        Kind::Bool => Ok(a.as_bool() == b.as_bool()),
        Kind::Num => Ok(a.as_num() == b.as_num()),
        Kind::Str => Ok(a.as_str() == b.as_str()),
        Kind::Arr => equal_arrays(a, b, depth),
        Kind::Obj => equal_objects(a, b, depth),
    }
}

/// Element-wise array equality.
#[inline(never)]
fn equal_arrays(a: &Val<'_>, b: &Val<'_>, depth: usize) -> Result<bool, String> {
    if a.arr_len() != b.arr_len() {
        return Ok(false);
    }
    let (Some(xs), Some(ys)) = (a.arr_elems(), b.arr_elems()) else {
        return Ok(false);
    };
    for (x, y) in xs.zip(ys) {
        if !equal_at(&x, &y, depth + 1)? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Key-wise object equality (key order does not matter).
#[inline(never)]
fn equal_objects(a: &Val<'_>, b: &Val<'_>, depth: usize) -> Result<bool, String> {
    let (Some(x), Some(y)) = (a.as_obj(), b.as_obj()) else {
        return Ok(false);
    };
    if x.len() != y.len() {
        return Ok(false);
    }
    for (k, xv) in x {
        let Some(yv) = y.get(k) else {
            return Ok(false);
        };
        if !equal_at(&Val::Json(xv), &Val::Json(yv), depth + 1)? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Renders a value as text, the way interpolation shows it: `null` is empty,
/// strings are raw, numbers are formatted like Go, arrays and objects are
/// compact JSON.
pub(crate) fn to_text<'v>(v: &'v Val<'_>) -> Result<Cow<'v, str>, String> {
    Ok(match v {
        Val::Missing | Val::Null | Val::Json(Value::Null) => Cow::Borrowed(""),
        Val::Bool(b) | Val::Json(Value::Bool(b)) => {
            Cow::Borrowed(if *b { "true" } else { "false" })
        }
        Val::Num(n) => Cow::Owned(format_number(*n)),
        Val::Json(Value::Number(n)) => Cow::Owned(format_json_number(n)),
        Val::Str(s) => Cow::Borrowed(s.as_ref()),
        Val::Json(Value::String(s)) => Cow::Borrowed(s.as_str()),
        Val::Json(v @ (Value::Array(_) | Value::Object(_))) => {
            Cow::Owned(serde_json::to_string(v).map_err(|e| e.to_string())?)
        }
        Val::List(_) => {
            let value = v.clone().into_value()?;
            Cow::Owned(serde_json::to_string(&value).map_err(|e| e.to_string())?)
        }
    })
}

/// Formats a JSON number from the message: integers keep all their digits.
fn format_json_number(n: &Number) -> String {
    if n.is_i64() || n.is_u64() {
        n.to_string()
    } else {
        n.as_f64()
            .map(format_number)
            .unwrap_or_else(|| n.to_string())
    }
}

/// Formats a number like Go's JSON encoder does: integers without a
/// fraction, other values in the shortest form that round-trips, switching to
/// exponent notation (`1e-07`, `1.5e+21`) only for very small or large values.
pub(crate) fn format_number(n: f64) -> String {
    if n.is_nan() {
        return "NaN".into();
    }
    if n.is_infinite() {
        return if n > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    if n == 0.0 {
        return "0".into();
    }
    let abs = n.abs();
    if (1e-6..1e21).contains(&abs) {
        // Display never uses an exponent and prints the shortest round-trip digits.
        return format!("{n}");
    }
    // Exponent form: Rust gives "1.5e21" / "1e-7"; Go writes "1.5e+21" / "1e-07".
    let s = format!("{n:e}");
    match s.split_once('e') {
        Some((mantissa, exp)) => {
            let (sign, digits) = match exp.strip_prefix('-') {
                Some(d) => ('-', d),
                None => ('+', exp),
            };
            if digits.len() < 2 {
                format!("{mantissa}e{sign}0{digits}")
            } else {
                format!("{mantissa}e{sign}{digits}")
            }
        }
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_format_like_go_json() {
        assert_eq!(format_number(3.0), "3");
        assert_eq!(format_number(-2.5), "-2.5");
        assert_eq!(format_number(0.1 + 0.2), "0.30000000000000004");
        assert_eq!(format_number(1e21), "1e+21");
        assert_eq!(format_number(1.5e-7), "1.5e-07");
        assert_eq!(format_number(1234567.0), "1234567");
        assert_eq!(format_number(f64::NAN), "NaN");
    }

    #[test]
    fn integral_numbers_become_integers() {
        assert_eq!(number(2.0), Some(Number::from(2)));
        assert_eq!(number(-0.0), Some(Number::from(0)));
        assert!(number(2.5).is_some_and(|n| n.is_f64()));
        assert!(number(f64::INFINITY).is_none());
    }
}
