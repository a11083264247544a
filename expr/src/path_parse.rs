//! JSONPath syntax: turns `$...` / `@...` into a [`Path`] of [`Step`]s.
//!
//! Paths are read character by character (`$.a.0` is a key, not the number
//! `.0`), but brackets may hold scripts (`[?(@.x > 1)]`, `[(@.length-1)]`)
//! written in the full expression language. To keep this module below the
//! expression parser instead of importing it back, the parser hands itself
//! in as a [`ScriptParser`]: this module reads the path and asks it for each
//! script.
//!
//! Syntax follows ajson's `ParseJSONPath`: dot keys, bracket keys (quoted or
//! bare), indexes, `*`, `..` (where, as in ajson, the second dot also starts
//! the next step, so `$...` descends twice), slices, unions and filters.

// On the recursive path errors are propagated with explicit `match`es
// instead of `?`: in unoptimised builds every `?` adds temporaries to the
// stack frame, and these frames are repeated once per nesting level.
#![allow(clippy::question_mark)]

use crate::ast::{Bound, Expr, ExprKind, Path, Root, Step, make};
use crate::error::Fault;
use crate::lexer::{Cursor, scan_string};

/// What the path parser needs from the expression parser.
pub(crate) trait ScriptParser<'s> {
    /// The cursor shared by both parsers.
    fn cursor(&mut self) -> &mut Cursor<'s>;

    /// Parses `expr)` after the `(` at byte offset `open`, consuming the `)`.
    fn script(&mut self, open: usize) -> Result<Expr, Fault>;
}

/// True for characters allowed in a dot-notation key.
fn name_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Reads a dot-notation key at the cursor.
fn scan_name(c: &mut Cursor<'_>) -> Box<str> {
    let start = c.pos;
    while let Some(ch) = c.char_ahead(0) {
        if !name_char(ch) {
            break;
        }
        c.pos += ch.len_utf8();
    }
    c.src.get(start..c.pos).unwrap_or("").into()
}

/// Parses the steps of a path; the cursor is just after `$` or `@`
/// (`start` is the offset of that symbol).
///
/// Brackets may contain filters and scripts, so this code is on the parser's
/// recursive path: the functions below keep their frames small and leave the
/// heavier work to `#[inline(never)]` helpers.
pub(crate) fn parse_path<'s, P: ScriptParser<'s>>(
    p: &mut P,
    root: Root,
    start: usize,
) -> Result<Expr, Fault> {
    let mut steps = Vec::new();
    loop {
        match dot_step(p.cursor(), &mut steps) {
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
fn dot_step(c: &mut Cursor<'_>, steps: &mut Vec<Step>) -> Result<Next, Fault> {
    match c.char_ahead(0) {
        Some('[') => return Ok(Next::Bracket),
        Some('.') => {}
        _ => return Ok(Next::End),
    }
    if c.char_ahead(1) == Some('.') {
        steps.push(Step::Descend);
        match c.char_ahead(2) {
            Some('*') => {
                c.pos += 3;
                steps.push(Step::Wildcard);
            }
            Some(ch) if name_char(ch) => {
                c.pos += 2;
                steps.push(Step::Key(scan_name(c)));
            }
            // ajson re-reads the second dot as the start of the next step:
            // `$...` is `..` twice.
            Some('.') => c.pos += 1,
            _ => c.pos += 2,
        }
        return Ok(Next::Continue);
    }
    c.pos += 1;
    match c.char_ahead(0) {
        Some('*') => {
            c.pos += 1;
            steps.push(Step::Wildcard);
        }
        Some(ch) if name_char(ch) => steps.push(Step::Key(scan_name(c))),
        // `$.['a']` and a trailing `$.` are accepted, as in ajson.
        Some('[') | None => {}
        Some(ch) if ch.is_whitespace() || ch == ')' || ch == ',' || ch == ']' => {}
        Some(ch) => {
            return Err(Fault::new(
                c.pos,
                format!("expected a key after '.', found '{ch}'"),
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
fn parse_bracket<'s, P: ScriptParser<'s>>(p: &mut P) -> Result<Step, Fault> {
    let open = p.cursor().pos;
    p.cursor().pos += 1;
    let mut selectors = Vec::new();
    loop {
        p.cursor().skip_ws();
        match parse_selector(p, open) {
            Ok(sel) => selectors.push(sel),
            Err(e) => return Err(e),
        }
        match bracket_separator(p.cursor(), open) {
            Ok(true) => {}
            Ok(false) => return Ok(bracket_step(selectors)),
            Err(e) => return Err(e),
        }
    }
}

/// After a selector: `,` (true) or `]` (false).
#[inline(never)]
fn bracket_separator(c: &mut Cursor<'_>, open: usize) -> Result<bool, Fault> {
    c.skip_ws();
    match c.char_ahead(0) {
        Some(',') => {
            c.pos += 1;
            Ok(true)
        }
        Some(']') => {
            c.pos += 1;
            Ok(false)
        }
        Some(ch) => Err(Fault::new(
            c.pos,
            format!("unexpected '{ch}' in brackets, expected ',' or ']'"),
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
fn parse_selector<'s, P: ScriptParser<'s>>(p: &mut P, open: usize) -> Result<Step, Fault> {
    let pos = p.cursor().pos;
    match p.cursor().char_ahead(0) {
        Some('?') => parse_filter(p, pos),
        Some(c) if c == '(' || c == ':' || c == '-' || c == '+' || c.is_ascii_digit() => {
            parse_index_or_slice(p, pos)
        }
        _ => simple_selector(p.cursor(), open),
    }
}

/// `*`, `'key'`, `"key"` or a bare `key`.
#[inline(never)]
fn simple_selector(c: &mut Cursor<'_>, open: usize) -> Result<Step, Fault> {
    let pos = c.pos;
    match c.char_ahead(0) {
        None => Err(Fault::new(open, "unclosed '['")),
        Some('*') => {
            c.pos += 1;
            Ok(Step::Wildcard)
        }
        Some('\'' | '"') => {
            let (key, end) = scan_string(c.src, pos)?;
            c.pos = end;
            Ok(Step::Key(key.into()))
        }
        Some(ch) if name_char(ch) => Ok(Step::Key(scan_name(c))),
        Some(']') => Err(Fault::new(pos, "empty brackets")),
        Some(ch) => Err(Fault::new(pos, format!("unexpected '{ch}' in brackets"))),
    }
}

/// `?(expr)`; the cursor is on `?` at `pos`.
fn parse_filter<'s, P: ScriptParser<'s>>(p: &mut P, pos: usize) -> Result<Step, Fault> {
    if let Err(e) = filter_open(p.cursor()) {
        return Err(e);
    }
    match p.script(pos) {
        Ok(expr) => Ok(Step::Filter(Box::new(expr))),
        Err(e) => Err(e),
    }
}

/// Consumes `?` and `(` of a filter.
#[inline(never)]
fn filter_open(c: &mut Cursor<'_>) -> Result<(), Fault> {
    c.pos += 1;
    c.skip_ws();
    if c.char_ahead(0) != Some('(') {
        return Err(Fault::new(c.pos, "expected '(' after '?' in filter"));
    }
    c.pos += 1;
    Ok(())
}

/// An index `[n]`, a computed index `[(expr)]` or a slice `[a:b:c]`.
fn parse_index_or_slice<'s, P: ScriptParser<'s>>(p: &mut P, pos: usize) -> Result<Step, Fault> {
    let first = match parse_bound(p) {
        Ok(b) => b,
        Err(e) => return Err(e),
    };
    if !eat_colon(p.cursor()) {
        return index_step(first, pos);
    }
    let second = match parse_bound(p) {
        Ok(b) => b,
        Err(e) => return Err(e),
    };
    if !eat_colon(p.cursor()) {
        return Ok(Step::Slice(first, second, None));
    }
    p.cursor().skip_ws();
    let step_pos = p.cursor().pos;
    match parse_bound(p) {
        Ok(third) => slice_step(first, second, third, step_pos),
        Err(e) => Err(e),
    }
}

/// Consumes a `:` (after optional whitespace).
#[inline(never)]
fn eat_colon(c: &mut Cursor<'_>) -> bool {
    c.skip_ws();
    if c.char_ahead(0) == Some(':') {
        c.pos += 1;
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
fn parse_bound<'s, P: ScriptParser<'s>>(p: &mut P) -> Result<Option<Bound>, Fault> {
    let c = p.cursor();
    c.skip_ws();
    let pos = c.pos;
    if c.char_ahead(0) != Some('(') {
        return int_bound(c);
    }
    c.pos += 1;
    match p.script(pos) {
        Ok(e) => Ok(Some(Bound::Script(Box::new(e)))),
        Err(e) => Err(e),
    }
}

/// An optional integer bound at the cursor.
#[inline(never)]
fn int_bound(c: &mut Cursor<'_>) -> Result<Option<Bound>, Fault> {
    let pos = c.pos;
    match c.char_ahead(0) {
        Some(ch) if ch == '-' || ch == '+' || ch.is_ascii_digit() => {
            let bytes = c.src.as_bytes();
            let mut end = pos + 1;
            while bytes.get(end).is_some_and(u8::is_ascii_digit) {
                end += 1;
            }
            if bytes.get(end) == Some(&b'.') {
                return Err(Fault::new(pos, "index must be an integer"));
            }
            let text = c.src.get(pos..end).unwrap_or("");
            let n: i64 = text
                .parse()
                .map_err(|_| Fault::new(pos, format!("invalid index '{text}'")))?;
            c.pos = end;
            Ok(Some(Bound::Int(n)))
        }
        _ => Ok(None),
    }
}
