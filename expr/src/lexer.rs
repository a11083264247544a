//! Tokenizer for the expression language.
//!
//! The lexer is *pull based*: the parser asks for the token at a byte offset
//! and decides itself how far to advance. This lets the JSONPath parser
//! (`path_parse.rs`) read raw characters (`.name`, `[...]`) between tokens,
//! which is needed because path syntax is context sensitive (`$.a.0` is a key,
//! not the number `.0`). Both parsers share one [`Cursor`] into the text.

use crate::error::Fault;

/// Binary operators, plus the unary-only `!` handled by the parser.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    /// `**` power (right associative).
    Pow,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `%` integer remainder.
    Rem,
    /// `<<`
    Shl,
    /// `>>`
    Shr,
    /// `&`
    BitAnd,
    /// `&^` bit clear.
    AndNot,
    /// `+` (numbers, string concatenation, time arithmetic).
    Add,
    /// `-` (numbers, time arithmetic).
    Sub,
    /// `|`
    BitOr,
    /// `^`
    BitXor,
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `=~` regular expression match.
    Match,
    /// `&&`
    And,
    /// `||`
    Or,
    /// `!` (unary only).
    Not,
}

impl Op {
    /// Binding power of a binary operator (higher binds tighter); `None` for `!`.
    pub(crate) fn precedence(self) -> Option<u8> {
        Some(match self {
            Op::Pow => 6,
            Op::Mul | Op::Div | Op::Rem | Op::Shl | Op::Shr | Op::BitAnd | Op::AndNot => 5,
            Op::Add | Op::Sub | Op::BitOr | Op::BitXor => 4,
            Op::Eq | Op::Ne | Op::Lt | Op::Le | Op::Gt | Op::Ge | Op::Match => 3,
            Op::And => 2,
            Op::Or => 1,
            Op::Not => return None,
        })
    }

    /// The operator's spelling, for error messages.
    pub(crate) fn symbol(self) -> &'static str {
        match self {
            Op::Pow => "**",
            Op::Mul => "*",
            Op::Div => "/",
            Op::Rem => "%",
            Op::Shl => "<<",
            Op::Shr => ">>",
            Op::BitAnd => "&",
            Op::AndNot => "&^",
            Op::Add => "+",
            Op::Sub => "-",
            Op::BitOr => "|",
            Op::BitXor => "^",
            Op::Eq => "==",
            Op::Ne => "!=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Match => "=~",
            Op::And => "&&",
            Op::Or => "||",
            Op::Not => "!",
        }
    }
}

/// Kinds of tokens.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    /// A number literal.
    Num(f64),
    /// A string literal, already unescaped.
    Str(String),
    /// An identifier (function or constant name); text is `src[start..end]`.
    Ident,
    /// `$` – the root of the message.
    Dollar,
    /// `@` – the current node.
    At,
    /// `(`
    LParen,
    /// `)`
    RParen,
    /// `[`
    LBracket,
    /// `]`
    RBracket,
    /// `,`
    Comma,
    /// `?`
    Question,
    /// `:`
    Colon,
    /// An operator.
    Op(Op),
    /// End of input.
    End,
}

/// A token with its byte span.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    /// What was read.
    pub tok: Tok,
    /// Byte offset of the first character.
    pub start: usize,
    /// Byte offset just past the token.
    pub end: usize,
}

/// A read position in the expression text.
///
/// The expression parser and the path parser take turns advancing the same
/// cursor, so it lives here, below both.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Cursor<'s> {
    /// The expression text.
    pub src: &'s str,
    /// Current byte offset.
    pub pos: usize,
}

impl<'s> Cursor<'s> {
    /// A cursor at the start of `src`.
    pub(crate) fn new(src: &'s str) -> Self {
        Cursor { src, pos: 0 }
    }

    /// The character `offset` bytes after the cursor, if any.
    pub(crate) fn char_ahead(&self, offset: usize) -> Option<char> {
        char_at(self.src, self.pos + offset)
    }

    /// Moves the cursor past whitespace.
    pub(crate) fn skip_ws(&mut self) {
        self.pos = skip_ws(self.src, self.pos);
    }

    /// The next token (not consumed).
    pub(crate) fn peek(&self) -> Result<Token, Fault> {
        lex(self.src, self.pos)
    }

    /// An "unexpected token" error for `t`.
    pub(crate) fn unexpected(&self, t: &Token) -> Fault {
        if t.tok == Tok::End {
            return Fault::new(t.start, "unexpected end of expression");
        }
        let text = self.src.get(t.start..t.end).unwrap_or("?");
        Fault::new(t.start, format!("unexpected '{text}'"))
    }
}

/// Returns the character at byte offset `pos`, if any.
pub(crate) fn char_at(src: &str, pos: usize) -> Option<char> {
    src.get(pos..).and_then(|s| s.chars().next())
}

/// Skips whitespace starting at `pos`; returns the first non-space offset.
pub(crate) fn skip_ws(src: &str, pos: usize) -> usize {
    let mut p = pos;
    while let Some(c) = char_at(src, p) {
        if c.is_whitespace() {
            p += c.len_utf8();
        } else {
            break;
        }
    }
    p
}

/// True for characters that may start an identifier.
fn ident_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

/// True for characters that may continue an identifier.
fn ident_continue(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Scans an identifier starting at `pos`; returns its end offset.
pub(crate) fn scan_ident(src: &str, pos: usize) -> usize {
    let mut p = pos;
    while let Some(c) = char_at(src, p) {
        if ident_continue(c) {
            p += c.len_utf8();
        } else {
            break;
        }
    }
    p
}

/// Scans an unsigned number (`12`, `1.5`, `2e10`, `1.5E-3`) at `pos`.
///
/// Returns the value and the end offset, or `None` when no digit is at `pos`.
pub(crate) fn scan_number(src: &str, pos: usize) -> Option<(f64, usize)> {
    let bytes = src.as_bytes();
    let digit = |i: usize| bytes.get(i).is_some_and(u8::is_ascii_digit);
    let mut p = pos;
    if !digit(p) {
        return None;
    }
    while digit(p) {
        p += 1;
    }
    if bytes.get(p) == Some(&b'.') && digit(p + 1) {
        p += 1;
        while digit(p) {
            p += 1;
        }
    }
    if matches!(bytes.get(p), Some(b'e' | b'E')) {
        let mut q = p + 1;
        if matches!(bytes.get(q), Some(b'+' | b'-')) {
            q += 1;
        }
        if digit(q) {
            while digit(q) {
                q += 1;
            }
            p = q;
        }
    }
    let text = src.get(pos..p)?;
    text.parse::<f64>().ok().map(|v| (v, p))
}

/// Scans a quoted string starting at `pos` (which holds the quote character).
///
/// Supports the JSON escapes plus `\'`. Returns the unescaped text and the
/// offset just past the closing quote.
pub(crate) fn scan_string(src: &str, pos: usize) -> Result<(String, usize), Fault> {
    let quote = char_at(src, pos).ok_or_else(|| Fault::new(pos, "expected a string"))?;
    let mut out = String::new();
    let mut p = pos + quote.len_utf8();
    loop {
        let c = char_at(src, p).ok_or_else(|| Fault::new(pos, "unterminated string literal"))?;
        p += c.len_utf8();
        if c == quote {
            return Ok((out, p));
        }
        if c != '\\' {
            out.push(c);
            continue;
        }
        let esc_pos = p - 1;
        let e = char_at(src, p).ok_or_else(|| Fault::new(pos, "unterminated string literal"))?;
        p += e.len_utf8();
        match e {
            '\\' | '/' | '\'' | '"' => out.push(e),
            'b' => out.push('\u{8}'),
            'f' => out.push('\u{c}'),
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            't' => out.push('\t'),
            'u' => {
                let (unit, next) = hex4(src, p).ok_or_else(|| {
                    Fault::new(esc_pos, "invalid \\u escape (expected 4 hex digits)")
                })?;
                p = next;
                if (0xD800..0xDC00).contains(&unit) {
                    // High surrogate: must be followed by a low surrogate.
                    let low = if src.get(p..p + 2) == Some("\\u") {
                        hex4(src, p + 2)
                    } else {
                        None
                    };
                    match low {
                        Some((lo, after)) if (0xDC00..0xE000).contains(&lo) => {
                            let code = 0x10000 + ((unit - 0xD800) << 10) + (lo - 0xDC00);
                            out.push(char::from_u32(code).unwrap_or('\u{FFFD}'));
                            p = after;
                        }
                        _ => out.push('\u{FFFD}'),
                    }
                } else {
                    out.push(char::from_u32(unit).unwrap_or('\u{FFFD}'));
                }
            }
            other => {
                return Err(Fault::new(
                    esc_pos,
                    format!("invalid escape sequence '\\{other}' in string literal"),
                ));
            }
        }
    }
}

/// Reads 4 hex digits at `pos`.
fn hex4(src: &str, pos: usize) -> Option<(u32, usize)> {
    let text = src.get(pos..pos + 4)?;
    if !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u32::from_str_radix(text, 16).ok().map(|v| (v, pos + 4))
}

/// Two-character operators, checked before single characters (longest match).
const OPS2: [(&str, Op); 11] = [
    ("**", Op::Pow),
    ("&&", Op::And),
    ("&^", Op::AndNot),
    ("||", Op::Or),
    ("<<", Op::Shl),
    (">>", Op::Shr),
    ("<=", Op::Le),
    (">=", Op::Ge),
    ("==", Op::Eq),
    ("!=", Op::Ne),
    ("=~", Op::Match),
];

/// Reads the token that starts at (or after whitespace following) `pos`.
pub(crate) fn lex(src: &str, pos: usize) -> Result<Token, Fault> {
    let start = skip_ws(src, pos);
    let Some(c) = char_at(src, start) else {
        return Ok(Token {
            tok: Tok::End,
            start,
            end: start,
        });
    };
    let single = |tok: Tok| {
        Ok(Token {
            tok,
            start,
            end: start + 1,
        })
    };
    match c {
        '(' => return single(Tok::LParen),
        ')' => return single(Tok::RParen),
        '[' => return single(Tok::LBracket),
        ']' => return single(Tok::RBracket),
        ',' => return single(Tok::Comma),
        '?' => return single(Tok::Question),
        ':' => return single(Tok::Colon),
        '$' => return single(Tok::Dollar),
        '@' => return single(Tok::At),
        '\'' | '"' => {
            let (text, end) = scan_string(src, start)?;
            return Ok(Token {
                tok: Tok::Str(text),
                start,
                end,
            });
        }
        _ => {}
    }
    if c.is_ascii_digit() {
        let (v, end) =
            scan_number(src, start).ok_or_else(|| Fault::new(start, "invalid number literal"))?;
        return Ok(Token {
            tok: Tok::Num(v),
            start,
            end,
        });
    }
    if ident_start(c) {
        return Ok(Token {
            tok: Tok::Ident,
            start,
            end: scan_ident(src, start),
        });
    }
    if let Some(two) = src.get(start..start + 2) {
        for (text, op) in OPS2 {
            if two == text {
                return Ok(Token {
                    tok: Tok::Op(op),
                    start,
                    end: start + 2,
                });
            }
        }
    }
    let op = match c {
        '*' => Op::Mul,
        '/' => Op::Div,
        '%' => Op::Rem,
        '&' => Op::BitAnd,
        '|' => Op::BitOr,
        '^' => Op::BitXor,
        '+' => Op::Add,
        '-' => Op::Sub,
        '<' => Op::Lt,
        '>' => Op::Gt,
        '!' => Op::Not,
        '=' => {
            return Err(Fault::new(
                start,
                "unexpected '=' (use '==' to compare values)",
            ));
        }
        other => return Err(Fault::new(start, format!("unexpected character '{other}'"))),
    };
    single(Tok::Op(op))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<Tok> {
        let mut pos = 0;
        let mut out = Vec::new();
        loop {
            let t = lex(src, pos).unwrap();
            if t.tok == Tok::End {
                return out;
            }
            pos = t.end;
            out.push(t.tok);
        }
    }

    #[test]
    fn operators_longest_match() {
        assert_eq!(
            kinds("a ** b &^ c <= d"),
            vec![
                Tok::Ident,
                Tok::Op(Op::Pow),
                Tok::Ident,
                Tok::Op(Op::AndNot),
                Tok::Ident,
                Tok::Op(Op::Le),
                Tok::Ident
            ]
        );
    }

    #[test]
    fn strings_and_numbers() {
        assert_eq!(
            kinds(r#"'it\'s' "a\"b" 1.5e2 '\u00e9'"#),
            vec![
                Tok::Str("it's".into()),
                Tok::Str("a\"b".into()),
                Tok::Num(150.0),
                Tok::Str("é".into())
            ]
        );
    }

    #[test]
    fn unterminated_string_points_at_quote() {
        let err = lex("  'abc", 0).unwrap_err();
        assert_eq!(err.pos, 2);
    }
}
