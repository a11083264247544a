//! Expression parser (precedence climbing).
//!
//! Turns the text between `{{ }}` into an [`Expr`] tree once, so evaluation
//! per message does no string work. Precedence follows ajson (which follows
//! Go): `**` 6; `* / % << >> & &^` 5; `+ - | ^` 4; comparisons and `=~` 3;
//! `&&` 2; `||` 1; the ternary `c ? a : b` binds loosest and is right
//! associative; unary `-`, `+` and `!` bind tightest.
//!
//! Nesting is capped at [`MAX_DEPTH`] levels, both while parsing (recursion)
//! and in the resulting tree (height), so hostile input yields an error
//! instead of a stack overflow.

use crate::ast::{Bound, Expr, ExprKind, Step};
use crate::error::Fault;
use crate::functions::{self, Func};
use crate::lexer::{Op, Tok, Token, lex};
use crate::path;

/// Maximum nesting depth of an expression (parentheses, calls, unary
/// operators, filters) and maximum height of its syntax tree.
pub(crate) const MAX_DEPTH: u32 = 256;

/// Parses a complete expression.
pub(crate) fn parse(src: &str) -> Result<Expr, Fault> {
    let mut p = Parser {
        src,
        pos: 0,
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

/// Parser state: the source and a byte cursor. Tokens are lexed on demand so
/// that the path parser can read raw characters at the cursor.
pub(crate) struct Parser<'s> {
    /// The expression text.
    pub src: &'s str,
    /// Current byte offset.
    pub pos: usize,
    /// Current nesting depth.
    depth: u32,
}

impl<'s> Parser<'s> {
    /// The next token (not consumed).
    pub(crate) fn peek(&self) -> Result<Token, Fault> {
        lex(self.src, self.pos)
    }

    /// Consumes `t`, which must be the token returned by [`Parser::peek`].
    pub(crate) fn bump(&mut self, t: &Token) {
        self.pos = t.end;
    }

    /// An "unexpected token" error.
    pub(crate) fn unexpected(&self, t: &Token) -> Fault {
        if t.tok == Tok::End {
            return Fault::new(t.start, "unexpected end of expression");
        }
        let text = self.src.get(t.start..t.end).unwrap_or("?");
        Fault::new(t.start, format!("unexpected '{text}'"))
    }

    /// Enters one nesting level; fails past [`MAX_DEPTH`].
    fn enter(&mut self, pos: usize) -> Result<(), Fault> {
        self.depth += 1;
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
                format!("'{}'", self.src.get(t.start..t.end).unwrap_or("?"))
            };
            Err(Fault::new(t.start, format!("{msg}, found {found}")))
        }
    }

    /// `cond ? a : b` or a binary expression. Entry point for every
    /// sub-expression (parentheses, arguments, filters), hence the depth check.
    pub(crate) fn ternary(&mut self) -> Result<Expr, Fault> {
        let start = lex(self.src, self.pos).map_or(self.pos, |t| t.start);
        self.enter(start)?;
        let result = self.ternary_inner();
        self.leave();
        result
    }

    fn ternary_inner(&mut self) -> Result<Expr, Fault> {
        let cond = self.binary(1)?;
        let t = self.peek()?;
        if t.tok != Tok::Question {
            return Ok(cond);
        }
        self.bump(&t);
        let then = self.ternary()?;
        self.expect(&Tok::Colon, "expected ':' in conditional expression")?;
        let otherwise = self.ternary()?;
        make(
            ExprKind::Cond(Box::new(cond), Box::new(then), Box::new(otherwise)),
            t.start,
        )
    }

    /// Binary operators with precedence at least `min_prec`.
    fn binary(&mut self, min_prec: u8) -> Result<Expr, Fault> {
        let mut lhs = self.unary()?;
        loop {
            let t = self.peek()?;
            let Tok::Op(op) = t.tok else { break };
            let Some(prec) = op.precedence() else { break };
            if prec < min_prec {
                break;
            }
            self.bump(&t);
            let rhs = if op == Op::Pow {
                // Right associative: `2 ** 3 ** 2` is `2 ** 9`.
                self.enter(t.start)?;
                let rhs = self.binary(prec);
                self.leave();
                rhs?
            } else {
                self.binary(prec + 1)?
            };
            lhs = binary_node(op, lhs, rhs, t.start)?;
        }
        Ok(lhs)
    }

    /// Prefix operators.
    fn unary(&mut self) -> Result<Expr, Fault> {
        let t = self.peek()?;
        let op = match t.tok {
            Tok::Op(op @ (Op::Sub | Op::Add | Op::Not)) => op,
            _ => return self.primary(),
        };
        self.bump(&t);
        self.enter(t.start)?;
        let operand = self.unary();
        self.leave();
        let operand = operand?;
        match (op, &operand.kind) {
            // Fold literal signs so `-1` is a plain number.
            (Op::Sub, ExprKind::Num(n)) => leaf(ExprKind::Num(-n), t.start),
            (Op::Add, ExprKind::Num(n)) => leaf(ExprKind::Num(*n), t.start),
            (Op::Sub, _) => make(ExprKind::Neg(Box::new(operand)), t.start),
            (Op::Add, _) => make(ExprKind::Plus(Box::new(operand)), t.start),
            _ => make(ExprKind::Not(Box::new(operand)), t.start),
        }
    }

    /// Literals, names, calls, paths and parentheses.
    fn primary(&mut self) -> Result<Expr, Fault> {
        let t = self.peek()?;
        match &t.tok {
            Tok::Num(n) => {
                self.bump(&t);
                leaf(ExprKind::Num(*n), t.start)
            }
            Tok::Str(s) => {
                self.bump(&t);
                leaf(ExprKind::Str(s.as_str().into()), t.start)
            }
            Tok::Ident => self.name(&t),
            Tok::Dollar | Tok::At => {
                self.bump(&t);
                let root = if t.tok == Tok::Dollar {
                    crate::ast::Root::Doc
                } else {
                    crate::ast::Root::Current
                };
                path::parse_path(self, root, t.start)
            }
            Tok::LParen => {
                self.bump(&t);
                let inner = self.ternary()?;
                self.expect(&Tok::RParen, "expected ')' to close '('")?;
                Ok(inner)
            }
            _ => Err(self.unexpected(&t)),
        }
    }

    /// A constant (`pi`, `true`, ...) or a function call (`upper($.x)`).
    fn name(&mut self, t: &Token) -> Result<Expr, Fault> {
        let name = self.src.get(t.start..t.end).unwrap_or("");
        self.bump(t);
        let next = self.peek()?;
        if next.tok != Tok::LParen {
            let kind = match name.to_ascii_lowercase().as_str() {
                "true" => ExprKind::Bool(true),
                "false" => ExprKind::Bool(false),
                "null" => ExprKind::Null,
                _ => match functions::constant(name) {
                    Some(v) => ExprKind::Num(v),
                    None if functions::lookup(name).is_some() => {
                        return Err(Fault::new(
                            t.start,
                            format!("function '{name}' must be called, e.g. {name}(...)"),
                        ));
                    }
                    None => {
                        return Err(Fault::new(
                            t.start,
                            format!("unknown constant or function '{name}'"),
                        ));
                    }
                },
            };
            return leaf(kind, t.start);
        }
        let func = functions::lookup(name)
            .ok_or_else(|| Fault::new(t.start, format!("unknown function '{name}'")))?;
        self.bump(&next);
        let mut args = Vec::new();
        let close = self.peek()?;
        if close.tok == Tok::RParen {
            self.bump(&close);
        } else {
            loop {
                args.push(self.ternary()?);
                let sep = self.peek()?;
                match sep.tok {
                    Tok::Comma => self.bump(&sep),
                    Tok::RParen => {
                        self.bump(&sep);
                        break;
                    }
                    _ => {
                        let found = if sep.tok == Tok::End {
                            "end of expression".to_string()
                        } else {
                            format!("'{}'", self.src.get(sep.start..sep.end).unwrap_or("?"))
                        };
                        return Err(Fault::new(
                            sep.start,
                            format!(
                                "expected ',' or ')' in call to {}(), found {found}",
                                func.name()
                            ),
                        ));
                    }
                }
            }
        }
        check_arity(func, args.len(), t.start)?;
        make(ExprKind::Call(func, args), t.start)
    }
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

/// The "too deep" error.
fn too_deep(pos: usize) -> Fault {
    Fault::new(
        pos,
        format!("expression is nested too deeply (limit {MAX_DEPTH})"),
    )
}

/// A leaf node.
fn leaf(kind: ExprKind, pos: usize) -> Result<Expr, Fault> {
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

/// Builds the node for a binary operator.
fn binary_node(op: Op, lhs: Expr, rhs: Expr, pos: usize) -> Result<Expr, Fault> {
    let kind = match op {
        Op::And => ExprKind::And(Box::new(lhs), Box::new(rhs)),
        Op::Or => ExprKind::Or(Box::new(lhs), Box::new(rhs)),
        Op::Match => {
            let compiled = match &rhs.kind {
                ExprKind::Str(pattern) => Some(Box::new(
                    crate::eval::compile_regex(pattern).map_err(|msg| Fault::new(rhs.pos, msg))?,
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
