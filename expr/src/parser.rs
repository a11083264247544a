//! Expression parser (precedence climbing).
//!
//! Turns the text between `{{ }}` into an [`Expr`] tree once, so evaluation
//! per message does no string work. Precedence follows ajson (which follows
//! Go): `**` 6; `* / % << >> & &^` 5; `+ - | ^` 4; comparisons and `=~` 3;
//! `&&` 2; `||` 1; the ternary `c ? a : b` binds loosest and is right
//! associative; unary `-`, `+` and `!` bind tightest.
//!
//! JSONPath syntax (`$.a[0]`, filters) is read by `path_parse`, which calls
//! back into this parser (through [`ScriptParser`]) for the scripts inside
//! brackets.
//!
//! Nesting is capped at [`MAX_DEPTH`] levels, both while parsing (recursion)
//! and in the resulting tree (height), so hostile input yields an error
//! instead of a stack overflow.

// On the recursive path errors are propagated with explicit `match`es
// instead of `?`: in unoptimised builds every `?` adds temporaries to the
// stack frame, and these frames are repeated once per nesting level.
#![allow(clippy::question_mark)]

use crate::ast::{Expr, ExprKind, MAX_DEPTH, Root, leaf, make, too_deep};
use crate::error::Fault;
use crate::functions::{self, Func};
use crate::lexer::{Cursor, Op, Tok, Token, skip_ws};
use crate::path_parse::{ScriptParser, parse_path};
use crate::pattern::compile_regex;

/// Parses a complete expression.
pub(crate) fn parse(src: &str) -> Result<Expr, Fault> {
    let mut p = Parser {
        cur: Cursor::new(src),
        depth: 0,
    };
    let first = p.peek()?;
    if first.tok == Tok::End {
        return Err(Fault::new(first.start, "expression is empty"));
    }
    let expr = p.ternary()?;
    let rest = p.peek()?;
    if rest.tok != Tok::End {
        return Err(p.unexpected(&rest));
    }
    Ok(expr)
}

/// Parser state: a cursor into the source and the nesting depth. Tokens are
/// lexed on demand so that the path parser can read raw characters at the
/// cursor.
struct Parser<'s> {
    /// Position in the expression text.
    cur: Cursor<'s>,
    /// Current nesting depth.
    depth: u32,
}

impl<'s> ScriptParser<'s> for Parser<'s> {
    fn cursor(&mut self) -> &mut Cursor<'s> {
        &mut self.cur
    }

    /// A script inside a path costs an extra nesting level, as path parsing
    /// uses more stack.
    fn script(&mut self, open: usize) -> Result<Expr, Fault> {
        if let Err(e) = self.enter(open) {
            return Err(e);
        }
        let expr = self.ternary();
        self.leave();
        match expr {
            Ok(expr) => self.close_script(open, expr),
            Err(e) => Err(e),
        }
    }
}

impl<'s> Parser<'s> {
    /// The next token (not consumed).
    fn peek(&self) -> Result<Token, Fault> {
        self.cur.peek()
    }

    /// Consumes `t`, which must be the token returned by [`Parser::peek`].
    fn bump(&mut self, t: &Token) {
        self.cur.pos = t.end;
    }

    /// An "unexpected token" error.
    fn unexpected(&self, t: &Token) -> Fault {
        self.cur.unexpected(t)
    }

    /// The source text of a token, for messages.
    fn text(&self, t: &Token) -> &'s str {
        self.cur.src.get(t.start..t.end).unwrap_or("?")
    }

    /// The `)` closing a script inside a path.
    #[inline(never)]
    fn close_script(&mut self, open: usize, expr: Expr) -> Result<Expr, Fault> {
        self.cur.skip_ws();
        if self.cur.char_ahead(0) != Some(')') {
            let t = self.peek()?;
            return Err(if t.start >= self.cur.src.len() {
                Fault::new(open, "unclosed '(' in path")
            } else {
                self.unexpected(&t)
            });
        }
        self.cur.pos += 1;
        Ok(expr)
    }

    /// Enters one nesting level; fails past [`MAX_DEPTH`].
    fn enter(&mut self, pos: usize) -> Result<(), Fault> {
        self.depth = self.depth.saturating_add(1);
        if self.depth > MAX_DEPTH {
            return Err(too_deep(pos));
        }
        Ok(())
    }

    /// Leaves one nesting level.
    fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    /// Consumes the expected token or fails with `msg`.
    fn expect(&mut self, want: &Tok, msg: &str) -> Result<Token, Fault> {
        let t = self.peek()?;
        if &t.tok == want {
            self.bump(&t);
            Ok(t)
        } else {
            let found = if t.tok == Tok::End {
                "end of expression".to_string()
            } else {
                format!("'{}'", self.text(&t))
            };
            Err(Fault::new(t.start, format!("{msg}, found {found}")))
        }
    }

    /// Consumes the next token if it is `want`.
    #[inline(never)]
    fn eat(&mut self, want: &Tok) -> Result<bool, Fault> {
        let t = self.peek()?;
        if &t.tok == want {
            self.bump(&t);
            return Ok(true);
        }
        Ok(false)
    }

    /// `cond ? a : b` or a binary expression. Entry point for every
    /// sub-expression (parentheses, arguments, filters), hence the depth check.
    ///
    /// The functions on the recursive path are kept small (helpers marked
    /// `#[inline(never)]`) so each nesting level costs little stack, even in
    /// unoptimised builds.
    fn ternary(&mut self) -> Result<Expr, Fault> {
        self.enter(skip_ws(self.cur.src, self.cur.pos))?;
        let result = self.ternary_inner();
        self.leave();
        result
    }

    fn ternary_inner(&mut self) -> Result<Expr, Fault> {
        match self.binary(1) {
            Ok(cond) => self.ternary_tail(cond),
            Err(e) => Err(e),
        }
    }

    /// After the condition: either `? a : b` or nothing.
    fn ternary_tail(&mut self, cond: Expr) -> Result<Expr, Fault> {
        match self.eat_at(&Tok::Question) {
            Ok(Some(pos)) => self.ternary_then(cond, pos),
            Ok(None) => Ok(cond),
            Err(e) => Err(e),
        }
    }

    /// The `a` of `c ? a : b`.
    fn ternary_then(&mut self, cond: Expr, pos: usize) -> Result<Expr, Fault> {
        match self.ternary() {
            Ok(then) => self.ternary_else(cond, then, pos),
            Err(e) => Err(e),
        }
    }

    /// The `: b` of `c ? a : b`.
    fn ternary_else(&mut self, cond: Expr, then: Expr, pos: usize) -> Result<Expr, Fault> {
        if let Err(e) = self.colon() {
            return Err(e);
        }
        match self.ternary() {
            Ok(otherwise) => cond_node(cond, then, otherwise, pos),
            Err(e) => Err(e),
        }
    }

    /// Consumes the `:` of a conditional.
    #[inline(never)]
    fn colon(&mut self) -> Result<(), Fault> {
        self.expect(&Tok::Colon, "expected ':' in conditional expression")
            .map(|_| ())
    }

    /// Consumes the next token if it is `want`, returning its offset.
    #[inline(never)]
    fn eat_at(&mut self, want: &Tok) -> Result<Option<usize>, Fault> {
        let t = self.peek()?;
        if &t.tok == want {
            self.bump(&t);
            return Ok(Some(t.start));
        }
        Ok(None)
    }

    /// Binary operators with precedence at least `min_prec`.
    fn binary(&mut self, min_prec: u8) -> Result<Expr, Fault> {
        match self.unary() {
            Ok(lhs) => self.binary_loop(lhs, min_prec),
            Err(e) => Err(e),
        }
    }

    /// Operators following a left operand.
    fn binary_loop(&mut self, mut lhs: Expr, min_prec: u8) -> Result<Expr, Fault> {
        loop {
            let (op, prec, pos) = match self.binary_op(min_prec) {
                Ok(Some(found)) => found,
                Ok(None) => return Ok(lhs),
                Err(e) => return Err(e),
            };
            let rhs = match self.binary_rhs(op, prec) {
                Ok(rhs) => rhs,
                Err(e) => return Err(e),
            };
            lhs = match binary_node(op, lhs, rhs, pos) {
                Ok(node) => node,
                Err(e) => return Err(e),
            };
        }
    }

    /// Consumes a binary operator binding at least `min_prec`.
    #[inline(never)]
    fn binary_op(&mut self, min_prec: u8) -> Result<Option<(Op, u8, usize)>, Fault> {
        let t = self.peek()?;
        let Tok::Op(op) = t.tok else { return Ok(None) };
        match op.precedence() {
            Some(prec) if prec >= min_prec => {
                self.bump(&t);
                Ok(Some((op, prec, t.start)))
            }
            _ => Ok(None),
        }
    }

    /// The right operand of a binary operator.
    fn binary_rhs(&mut self, op: Op, prec: u8) -> Result<Expr, Fault> {
        if op != Op::Pow {
            return self.binary(prec + 1);
        }
        // Right associative: `2 ** 3 ** 2` is `2 ** 9`.
        if let Err(e) = self.enter(self.cur.pos) {
            return Err(e);
        }
        let rhs = self.binary(prec);
        self.leave();
        rhs
    }

    /// Prefix operators.
    fn unary(&mut self) -> Result<Expr, Fault> {
        match self.prefix_op()? {
            Some((op, pos)) => self.prefix(op, pos),
            None => self.primary(),
        }
    }

    /// Consumes a prefix operator (`-`, `+`, `!`).
    ///
    /// A unary sign followed by another sign (`++2`, `+-2`, `--2`, `- - 2`)
    /// is an error, as in ajson, where a sign only belongs to the number
    /// after it; accepting `--2` would give flows a meaning Tiny Systems
    /// rejects.
    #[inline(never)]
    fn prefix_op(&mut self) -> Result<Option<(Op, usize)>, Fault> {
        let t = self.peek()?;
        match t.tok {
            Tok::Op(op @ (Op::Sub | Op::Add | Op::Not)) => {
                self.bump(&t);
                if op != Op::Not {
                    self.no_sign_after_sign(op)?;
                }
                Ok(Some((op, t.start)))
            }
            _ => Ok(None),
        }
    }

    /// After a unary sign: fails if another sign follows.
    #[cold]
    #[inline(never)]
    fn no_sign_after_sign(&self, sign: Op) -> Result<(), Fault> {
        let next = self.peek()?;
        if let Tok::Op(Op::Sub | Op::Add) = next.tok {
            let sign = if sign == Op::Add { '+' } else { '-' };
            return Err(Fault::new(
                next.start,
                format!(
                    "unexpected '{}' after unary '{sign}' (a sign must be followed by a number)",
                    self.text(&next)
                ),
            ));
        }
        Ok(())
    }

    /// The operand of a prefix operator.
    #[inline(never)]
    fn prefix(&mut self, op: Op, pos: usize) -> Result<Expr, Fault> {
        if let Err(e) = self.enter(pos) {
            return Err(e);
        }
        let operand = self.unary();
        self.leave();
        match operand {
            Ok(operand) => prefix_node(op, operand, pos),
            Err(e) => Err(e),
        }
    }

    /// Literals, names, calls, paths and parentheses.
    fn primary(&mut self) -> Result<Expr, Fault> {
        match self.primary_start() {
            Ok(Start::Done(e)) => Ok(e),
            Ok(Start::Name(start, end)) => self.name(start, end),
            Ok(Start::Path(root, start)) => parse_path(self, root, start),
            Ok(Start::Paren) => self.paren(),
            Err(e) => Err(e),
        }
    }

    /// Reads the first token of a primary expression.
    #[inline(never)]
    fn primary_start(&mut self) -> Result<Start, Fault> {
        let t = self.peek()?;
        self.bump(&t);
        Ok(match t.tok {
            Tok::Num(n) => Start::Done(leaf(ExprKind::Num(n), t.start)?),
            Tok::Str(s) => Start::Done(leaf(ExprKind::Str(s.into()), t.start)?),
            Tok::Ident => Start::Name(t.start, t.end),
            Tok::Dollar => Start::Path(Root::Doc, t.start),
            Tok::At => Start::Path(Root::Current, t.start),
            Tok::LParen => Start::Paren,
            other => {
                let t = Token { tok: other, ..t };
                return Err(self.unexpected(&t));
            }
        })
    }

    /// `( expr )` after the opening parenthesis.
    fn paren(&mut self) -> Result<Expr, Fault> {
        match self.ternary() {
            Ok(inner) => self.close_paren(inner),
            Err(e) => Err(e),
        }
    }

    /// The `)` closing a parenthesised expression.
    #[inline(never)]
    fn close_paren(&mut self, inner: Expr) -> Result<Expr, Fault> {
        self.expect(&Tok::RParen, "expected ')' to close '('")?;
        Ok(inner)
    }

    /// A constant (`pi`, `true`, ...) or a function call (`upper($.x)`).
    fn name(&mut self, start: usize, end: usize) -> Result<Expr, Fault> {
        match self.name_kind(start, end) {
            Ok(Ok(func)) => self.call(func, start),
            Ok(Err(constant)) => Ok(constant),
            Err(e) => Err(e),
        }
    }

    /// Resolves a name: a function (when `(` follows) or a constant node.
    #[inline(never)]
    fn name_kind(&mut self, start: usize, end: usize) -> Result<Result<Func, Expr>, Fault> {
        let name = self.cur.src.get(start..end).unwrap_or("");
        if !self.eat(&Tok::LParen)? {
            return constant_node(name, start).map(Err);
        }
        functions::lookup(name)
            .map(Ok)
            .ok_or_else(|| Fault::new(start, format!("unknown function '{name}'")))
    }

    /// The arguments of a call, after the opening parenthesis.
    fn call(&mut self, func: Func, start: usize) -> Result<Expr, Fault> {
        let mut args = Vec::new();
        match self.eat_at(&Tok::RParen) {
            Ok(Some(_)) => return call_node(func, args, start),
            Ok(None) => {}
            Err(e) => return Err(e),
        }
        loop {
            match self.ternary() {
                Ok(arg) => args.push(arg),
                Err(e) => return Err(e),
            }
            match self.argument_separator(func) {
                Ok(true) => continue,
                Ok(false) => return call_node(func, args, start),
                Err(e) => return Err(e),
            }
        }
    }

    /// After an argument: `,` (true) or `)` (false).
    #[inline(never)]
    fn argument_separator(&mut self, func: Func) -> Result<bool, Fault> {
        if self.eat(&Tok::Comma)? {
            return Ok(true);
        }
        if self.eat(&Tok::RParen)? {
            return Ok(false);
        }
        let sep = self.peek()?;
        let found = if sep.tok == Tok::End {
            "end of expression".to_string()
        } else {
            format!("'{}'", self.text(&sep))
        };
        Err(Fault::new(
            sep.start,
            format!(
                "expected ',' or ')' in call to {}(), found {found}",
                func.name()
            ),
        ))
    }
}

/// Builds a call node after checking the argument count.
#[inline(never)]
fn call_node(func: Func, args: Vec<Expr>, pos: usize) -> Result<Expr, Fault> {
    check_arity(func, args.len(), pos)?;
    make(ExprKind::Call(func, args), pos)
}

/// Builds a conditional node.
#[inline(never)]
fn cond_node(cond: Expr, then: Expr, otherwise: Expr, pos: usize) -> Result<Expr, Fault> {
    make(
        ExprKind::Cond(Box::new(cond), Box::new(then), Box::new(otherwise)),
        pos,
    )
}

/// How a primary expression starts.
enum Start {
    /// A complete literal.
    Done(Expr),
    /// An identifier at `start..end`.
    Name(usize, usize),
    /// `$` or `@` at the offset.
    Path(Root, usize),
    /// `(`.
    Paren,
}

/// Builds the node for a prefix operator, folding signs of literals.
#[inline(never)]
fn prefix_node(op: Op, operand: Expr, pos: usize) -> Result<Expr, Fault> {
    match (op, &operand.kind) {
        // Fold literal signs so `-1` is a plain number.
        (Op::Sub, ExprKind::Num(n)) => leaf(ExprKind::Num(-n), pos),
        (Op::Add, ExprKind::Num(n)) => leaf(ExprKind::Num(*n), pos),
        (Op::Sub, _) => make(ExprKind::Neg(Box::new(operand)), pos),
        (Op::Add, _) => make(ExprKind::Plus(Box::new(operand)), pos),
        _ => make(ExprKind::Not(Box::new(operand)), pos),
    }
}

/// A named constant: `true`, `false`, `null`, `pi`, `e`, ...
fn constant_node(name: &str, pos: usize) -> Result<Expr, Fault> {
    let kind = match name.to_ascii_lowercase().as_str() {
        "true" => ExprKind::Bool(true),
        "false" => ExprKind::Bool(false),
        "null" => ExprKind::Null,
        _ => match functions::constant(name) {
            Some(v) => ExprKind::Num(v),
            None if functions::lookup(name).is_some() => {
                return Err(Fault::new(
                    pos,
                    format!("function '{name}' must be called, e.g. {name}(...)"),
                ));
            }
            None => {
                return Err(Fault::new(
                    pos,
                    format!("unknown constant or function '{name}'"),
                ));
            }
        },
    };
    leaf(kind, pos)
}

/// Checks a call's argument count.
fn check_arity(func: Func, count: usize, pos: usize) -> Result<(), Fault> {
    let (min, max) = func.arity();
    if count >= min && count <= max {
        return Ok(());
    }
    let expected = if min == max {
        format!("{min}")
    } else {
        format!("{min} to {max}")
    };
    Err(Fault::new(
        pos,
        format!(
            "{}() takes {expected} argument{}, got {count}",
            func.name(),
            if max == 1 { "" } else { "s" }
        ),
    ))
}

/// Builds the node for a binary operator.
fn binary_node(op: Op, lhs: Expr, rhs: Expr, pos: usize) -> Result<Expr, Fault> {
    let kind = match op {
        Op::And => ExprKind::And(Box::new(lhs), Box::new(rhs)),
        Op::Or => ExprKind::Or(Box::new(lhs), Box::new(rhs)),
        Op::Match => {
            let compiled = match &rhs.kind {
                ExprKind::Str(pattern) => Some(Box::new(
                    compile_regex(pattern).map_err(|msg| Fault::new(rhs.pos, msg))?,
                )),
                _ => None,
            };
            ExprKind::Match(Box::new(lhs), Box::new(rhs), compiled)
        }
        _ => ExprKind::Binary(op, Box::new(lhs), Box::new(rhs)),
    };
    make(kind, pos)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn height(src: &str) -> u32 {
        parse(src).unwrap().height
    }

    #[test]
    fn precedence_shapes_tree() {
        // 1 + (2 * 3): height 3.
        assert_eq!(height("1 + 2 * 3"), 3);
        assert!(matches!(
            parse("1 + 2 * 3").unwrap().kind,
            ExprKind::Binary(Op::Add, _, _)
        ));
        assert!(matches!(
            parse("1 < 2 ? 'a' : 'b'").unwrap().kind,
            ExprKind::Cond(..)
        ));
    }

    #[test]
    fn negative_literals_fold() {
        assert!(matches!(parse("-5").unwrap().kind, ExprKind::Num(n) if n == -5.0));
    }

    #[test]
    fn errors_have_positions() {
        assert_eq!(parse("1 +").unwrap_err().pos, 3);
        assert_eq!(parse("foo(1)").unwrap_err().pos, 0);
        assert_eq!(parse("(1 + 2").unwrap_err().pos, 6);
        assert_eq!(parse("1 2").unwrap_err().pos, 2);
    }

    #[test]
    fn long_chains_are_bounded() {
        let long = vec!["1"; 1000].join(" + ");
        assert!(parse(&long).is_err());
        let ok = vec!["1"; 100].join(" + ");
        assert!(parse(&ok).is_ok());
    }
}
