//! ajson parity: the expression cases of ajson's own test suite.
//!
//! Generated (do not edit by hand) from the test tables of tiny-systems/ajson v0.1.6, the fork
//! Tiny Systems runs (`github.com/tiny-systems/module` requires it), and of
//! spyzhov/ajson v0.9.6, the upstream it was forked from. Each table row of the
//! expression tests (`math_test.go`: operators, functions, constants;
//! `buffer_test.go`: tokenizer and RPN inputs; `jsonpath_test.go`: `Eval`
//! and the ternary operator; the fork's `string_test.go`) was turned into
//! an expression over a JSON document and run through the real library
//! (`ajson.Eval`) by a small Go oracle; the outcome recorded here is the
//! fork's, or upstream's for the `is_*` functions, which only upstream has
//! (they postdate the fork). Where both libraries know a case they agree.
//! Upstream's two `TestEval_issue_81` tests, which are not tables, are
//! here as their expression and document, with upstream's outcome, which
//! is what those tests demand (the fork panics on `$...`, the bug they
//! were written for; this crate follows the fix).
//!
//! A row whose argument is given straight to a Go function becomes a call
//! on a literal (`abs(-100)`) or on the document (`length($)`, `$.missing`
//! for Go's `nil`, "no match"). Rows that cannot be written as JSON are
//! listed at the end of the table with the reason.

use serde_json::Value;

/// What ajson produced for a case.
#[derive(Debug, Clone, Copy)]
enum Want {
    /// This JSON value.
    Value(&'static str),
    /// An error.
    Error,
    /// A random number in `[0, below)` (ajson's own test stubs the random
    /// source; here the range is checked).
    Random { below: f64, integer: bool },
}

/// One case: where it comes from, the expression, the document, the outcome.
struct Case {
    source: &'static str,
    name: &'static str,
    expr: &'static str,
    doc: &'static str,
    want: Want,
}

const DOC_1: &str = r#"{"store":{"bicycle":[{"color":"red","price":19.95}],"book":[{"author":"Nigel Rees","category":"reference","price":8.95,"title":"Sayings of the Century"},{"author":"Evelyn Waugh","category":"fiction","price":12.99,"title":"Sword of Honour"},{"author":"Herman Melville","category":"fiction","isbn":"0-553-21311-3","price":8.99,"title":"Moby Dick"},{"author":"J. R. R. Tolkien","category":"fiction","isbn":"0-395-19395-8","price":22.99,"title":"The Lord of the Rings"}]}}"#;
const DOC_2: &str =
    r#"{"items":[{"price":1,"type":"A"},{"price":2,"type":"B"},{"price":3,"type":"C"},null]}"#;

/// Number of cases taken from ajson's suite.
const CASE_COUNT: usize = 637;

#[rustfmt::skip]
const CASES: &[Case] = &[
    // buffer_test.go:TestBuffer_Token
    Case { source: r#"TestBuffer_Token"#, name: r#"@.length"#, expr: r#"@.length"#, doc: r#"{}"#, want: Want::Value(r#"null"#) },
    Case { source: r#"TestBuffer_Token"#, name: r#"@['foo'].0.bar"#, expr: r#"@['foo'].0.bar"#, doc: r#"{}"#, want: Want::Value(r#"null"#) },
    Case { source: r#"TestBuffer_Token"#, name: r#"@['foo'].[(@.length - 1)].*"#, expr: r#"@['foo'].[(@.length - 1)].*"#, doc: r#"{}"#, want: Want::Value(r#"null"#) },
    Case { source: r#"TestBuffer_Token"#, name: r#"@['foo'].[?(@.bar == 1 && @.baz < @.length)].*"#, expr: r#"@['foo'].[?(@.bar == 1 && @.baz < @.length)].*"#, doc: r#"{}"#, want: Want::Value(r#"null"#) },
    Case { source: r#"TestBuffer_Token"#, name: r#"@['foo)(]]"[[[.[?(@.bar \' == 1 && < @.length)'].*"#, expr: r#"@['foo)(]]"[[[.[?(@.bar \' == 1 && < @.length)'].*"#, doc: r#"{}"#, want: Want::Value(r#"null"#) },
    Case { source: r#"TestBuffer_Token"#, name: r#"@.foo+@.bar"#, expr: r#"@.foo+@.bar"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestBuffer_Token"#, name: r#"@.foo && @.bar"#, expr: r#"@.foo && @.bar"#, doc: r#"{}"#, want: Want::Value(r#"false"#) },
    Case { source: r#"TestBuffer_Token"#, name: r#"@.foo,3"#, expr: r#"@.foo,3"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestBuffer_Token"#, name: r#"@.length-1"#, expr: r#"@.length-1"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestBuffer_Token"#, name: r#"1"#, expr: r#"1"#, doc: r#"{}"#, want: Want::Value(r#"1"#) },
    Case { source: r#"TestBuffer_Token"#, name: r#"1.3e2"#, expr: r#"1.3e2"#, doc: r#"{}"#, want: Want::Value(r#"130"#) },
    Case { source: r#"TestBuffer_Token"#, name: r#"-1.3e2"#, expr: r#"-1.3e2"#, doc: r#"{}"#, want: Want::Value(r#"-130"#) },
    Case { source: r#"TestBuffer_Token"#, name: r#"-1.3e-2"#, expr: r#"-1.3e-2"#, doc: r#"{}"#, want: Want::Value(r#"-0.013"#) },
    Case { source: r#"TestBuffer_Token"#, name: r#"'1'"#, expr: r#"'1'"#, doc: r#"{}"#, want: Want::Value(r#""1""#) },
    Case { source: r#"TestBuffer_Token"#, name: r#"'foo \'bar '"#, expr: r#"'foo \'bar '"#, doc: r#"{}"#, want: Want::Value(r#""foo 'bar ""#) },
    Case { source: r#"TestBuffer_Token"#, name: r#""foo \"bar ""#, expr: r#""foo \"bar ""#, doc: r#"{}"#, want: Want::Value(r#""foo \"bar ""#) },
    Case { source: r#"TestBuffer_Token"#, name: r#"@.foo["#, expr: r#"@.foo["#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestBuffer_Token"#, name: r#"@.foo[(]"#, expr: r#"@.foo[(]"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestBuffer_Token"#, name: r#"'"#, expr: r#"'"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestBuffer_Token"#, name: r#"'x"#, expr: r#"'x"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestBuffer_Token"#, name: r#"()"#, expr: r#"()"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestBuffer_Token"#, name: r#"(@)"#, expr: r#"(@)"#, doc: r#"{}"#, want: Want::Value(r#"{}"#) },
    Case { source: r#"TestBuffer_Token"#, name: r#"("#, expr: r#"("#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestBuffer_Token"#, name: r#")"#, expr: r#")"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestBuffer_Token"#, name: r#"(x"#, expr: r#"(x"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestBuffer_Token"#, name: r#"((())"#, expr: r#"((())"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestBuffer_Token"#, name: r#"@)"#, expr: r#"@)"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestBuffer_Token"#, name: r#"[)"#, expr: r#"[)"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestBuffer_Token"#, name: r#"[())"#, expr: r#"[())"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestBuffer_Token"#, name: r#"[]"#, expr: r#"[]"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestBuffer_Token"#, name: r#"[@]"#, expr: r#"[@]"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestBuffer_Token"#, name: r#"["#, expr: r#"["#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestBuffer_Token"#, name: r#"]"#, expr: r#"]"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestBuffer_Token"#, name: r#"[x"#, expr: r#"[x"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestBuffer_Token"#, name: r#"[[[]]"#, expr: r#"[[[]]"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestBuffer_Token"#, name: r#"@]"#, expr: r#"@]"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestBuffer_Token"#, name: r#"(]"#, expr: r#"(]"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestBuffer_Token"#, name: r#"([]]"#, expr: r#"([]]"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestBuffer_Token"#, name: r#"+X"#, expr: r#"+X"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestBuffer_Token"#, name: r#"-X"#, expr: r#"-X"#, doc: r#"{}"#, want: Want::Error },
    // buffer_test.go:TestBuffer_RPN
    Case { source: r#"TestBuffer_RPN"#, name: r#"@.length"#, expr: r#"@.length"#, doc: r#"{}"#, want: Want::Value(r#"null"#) },
    Case { source: r#"TestBuffer_RPN"#, name: r#"1 + 2"#, expr: r#"1 + 2"#, doc: r#"{}"#, want: Want::Value(r#"3"#) },
    Case { source: r#"TestBuffer_RPN"#, name: r#"3 + 4 * 2 / (1 - 5)**2"#, expr: r#"3 + 4 * 2 / (1 - 5)**2"#, doc: r#"{}"#, want: Want::Value(r#"3.5"#) },
    Case { source: r#"TestBuffer_RPN"#, name: r#"'foo' == pi"#, expr: r#"'foo' == pi"#, doc: r#"{}"#, want: Want::Value(r#"false"#) },
    Case { source: r#"TestBuffer_RPN"#, name: r#"pi != 'bar'"#, expr: r#"pi != 'bar'"#, doc: r#"{}"#, want: Want::Value(r#"true"#) },
    Case { source: r#"TestBuffer_RPN"#, name: r#"3 + 4 * -2 / (-1 - 5)**-2"#, expr: r#"3 + 4 * -2 / (-1 - 5)**-2"#, doc: r#"{}"#, want: Want::Value(r#"-285"#) },
    Case { source: r#"TestBuffer_RPN"#, name: r#"1.3e2 + sin(2*pi/3)"#, expr: r#"1.3e2 + sin(2*pi/3)"#, doc: r#"{}"#, want: Want::Value(r#"130.86602540378445"#) },
    Case { source: r#"TestBuffer_RPN"#, name: r#"@.length-1"#, expr: r#"@.length-1"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestBuffer_RPN"#, name: r#"@.length+-1"#, expr: r#"@.length+-1"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestBuffer_RPN"#, name: r#"@.length/e"#, expr: r#"@.length/e"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestBuffer_RPN"#, name: r#"123.456"#, expr: r#"123.456"#, doc: r#"{}"#, want: Want::Value(r#"123.456"#) },
    Case { source: r#"TestBuffer_RPN"#, name: r#" 123.456 "#, expr: r#" 123.456 "#, doc: r#"{}"#, want: Want::Value(r#"123.456"#) },
    Case { source: r#"TestBuffer_RPN"#, name: r#"1 /"#, expr: r#"1 /"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestBuffer_RPN"#, name: r#"1 + "#, expr: r#"1 + "#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestBuffer_RPN"#, name: r#"1 -"#, expr: r#"1 -"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestBuffer_RPN"#, name: r#"1 * "#, expr: r#"1 * "#, doc: r#"{}"#, want: Want::Error },
    // buffer_test.go:TestBuffer_RPNError
    Case { source: r#"TestBuffer_RPNError"#, name: r#"1 + / 1"#, expr: r#"1 + / 1"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestBuffer_RPNError"#, name: r#"1 * / 1"#, expr: r#"1 * / 1"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestBuffer_RPNError"#, name: r#"1 - / 1"#, expr: r#"1 - / 1"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestBuffer_RPNError"#, name: r#"1 / / 1"#, expr: r#"1 / / 1"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestBuffer_RPNError"#, name: r#"1 + * 1"#, expr: r#"1 + * 1"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestBuffer_RPNError"#, name: r#"1 * * 1"#, expr: r#"1 * * 1"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestBuffer_RPNError"#, name: r#"1 - * 1"#, expr: r#"1 - * 1"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestBuffer_RPNError"#, name: r#"1 / * 1"#, expr: r#"1 / * 1"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestBuffer_RPNError"#, name: r#"1e1.1 + 1"#, expr: r#"1e1.1 + 1"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestBuffer_RPNError"#, name: r#"len('string)"#, expr: r#"len('string)"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestBuffer_RPNError"#, name: r#"'Hello ' + 'World"#, expr: r#"'Hello ' + 'World"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestBuffer_RPNError"#, name: r#"@.length + $['length')"#, expr: r#"@.length + $['length')"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestBuffer_RPNError"#, name: r#"2 + 2)"#, expr: r#"2 + 2)"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestBuffer_RPNError"#, name: r#"(2 + 2"#, expr: r#"(2 + 2"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestBuffer_RPNError"#, name: r#"e + q"#, expr: r#"e + q"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestBuffer_RPNError"#, name: r#"foo(e)"#, expr: r#"foo(e)"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestBuffer_RPNError"#, name: r#"++2"#, expr: r#"++2"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestBuffer_RPNError"#, name: r#""#, expr: r#""#, doc: r#"{}"#, want: Want::Error },
    // buffer_test.go:TestTokenize
    Case { source: r#"TestTokenize"#, name: r#"@.length"#, expr: r#"@.length"#, doc: r#"{}"#, want: Want::Value(r#"null"#) },
    Case { source: r#"TestTokenize"#, name: r#"1 + 2"#, expr: r#"1 + 2"#, doc: r#"{}"#, want: Want::Value(r#"3"#) },
    Case { source: r#"TestTokenize"#, name: r#"1+2"#, expr: r#"1+2"#, doc: r#"{}"#, want: Want::Value(r#"3"#) },
    Case { source: r#"TestTokenize"#, name: r#"1:"#, expr: r#"1:"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestTokenize"#, name: r#":2 :1"#, expr: r#":2 :1"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestTokenize"#, name: r#"1 ,2,'foo'"#, expr: r#"1 ,2,'foo'"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestTokenize"#, name: r#"(@.length-1)"#, expr: r#"(@.length-1)"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestTokenize"#, name: r#"?(@.length-1)"#, expr: r#"?(@.length-1)"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestTokenize"#, name: r#"'foo'"#, expr: r#"'foo'"#, doc: r#"{}"#, want: Want::Value(r#""foo""#) },
    Case { source: r#"TestTokenize"#, name: r#"$.foo[(@.length - 3):3:]"#, expr: r#"$.foo[(@.length - 3):3:]"#, doc: r#"{}"#, want: Want::Value(r#"null"#) },
    Case { source: r#"TestTokenize"#, name: r#"$.."#, expr: r#"$.."#, doc: r#"{}"#, want: Want::Value(r#"{}"#) },
    Case { source: r#"TestTokenize"#, name: r#""#, expr: r#""#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestTokenize"#, name: r#"1e"#, expr: r#"1e"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestTokenize"#, name: r#"'foo"#, expr: r#"'foo"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestTokenize"#, name: r#"@.["#, expr: r#"@.["#, doc: r#"{}"#, want: Want::Error },
    // buffer_test.go:TestBuffer_Numeric
    Case { source: r#"TestBuffer_Numeric"#, name: r#"1"#, expr: r#"1"#, doc: r#"{}"#, want: Want::Value(r#"1"#) },
    Case { source: r#"TestBuffer_Numeric"#, name: r#"0"#, expr: r#"0"#, doc: r#"{}"#, want: Want::Value(r#"0"#) },
    Case { source: r#"TestBuffer_Numeric"#, name: r#"1.3e2"#, expr: r#"1.3e2"#, doc: r#"{}"#, want: Want::Value(r#"130"#) },
    Case { source: r#"TestBuffer_Numeric"#, name: r#"-1.3e2"#, expr: r#"-1.3e2"#, doc: r#"{}"#, want: Want::Value(r#"-130"#) },
    Case { source: r#"TestBuffer_Numeric"#, name: r#"-1.3e-2"#, expr: r#"-1.3e-2"#, doc: r#"{}"#, want: Want::Value(r#"-0.013"#) },
    Case { source: r#"TestBuffer_Numeric"#, name: r#"..3"#, expr: r#"..3"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestBuffer_Numeric"#, name: r#"e."#, expr: r#"e."#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestBuffer_Numeric"#, name: r#".e."#, expr: r#".e."#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestBuffer_Numeric"#, name: r#"1.e1"#, expr: r#"1.e1"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestBuffer_Numeric"#, name: r#"0.e0"#, expr: r#"0.e0"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestBuffer_Numeric"#, name: r#"0+0"#, expr: r#"0+0"#, doc: r#"{}"#, want: Want::Value(r#"0"#) },
    Case { source: r#"TestBuffer_Numeric"#, name: r#"0-1"#, expr: r#"0-1"#, doc: r#"{}"#, want: Want::Value(r#"-1"#) },
    Case { source: r#"TestBuffer_Numeric"#, name: r#"++1"#, expr: r#"++1"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestBuffer_Numeric"#, name: r#"--1"#, expr: r#"--1"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestBuffer_Numeric"#, name: r#"-+1"#, expr: r#"-+1"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestBuffer_Numeric"#, name: r#"+-1"#, expr: r#"+-1"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestBuffer_Numeric"#, name: r#"+"#, expr: r#"+"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestBuffer_Numeric"#, name: r#"-"#, expr: r#"-"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestBuffer_Numeric"#, name: r#"."#, expr: r#"."#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestBuffer_Numeric"#, name: r#"e"#, expr: r#"e"#, doc: r#"{}"#, want: Want::Value(r#"2.718281828459045"#) },
    Case { source: r#"TestBuffer_Numeric"#, name: r#"+a"#, expr: r#"+a"#, doc: r#"{}"#, want: Want::Error },
    // jsonpath_test.go:TestEval
    Case { source: r#"TestEval"#, name: r#"avg($..price)"#, expr: r#"avg($..price)"#, doc: DOC_1, want: Want::Value(r#"14.774000000000001"#) },
    Case { source: r#"TestEval"#, name: r#"avg($..price)"#, expr: r#"avg()"#, doc: DOC_1, want: Want::Error },
    Case { source: r#"TestEval"#, name: r#"avg($..price)"#, expr: r#"($..price+)"#, doc: DOC_1, want: Want::Error },
    Case { source: r#"TestEval"#, name: r#"round(avg($..price)+pi)"#, expr: r#"round(avg($..price)+pi)"#, doc: DOC_1, want: Want::Value(r#"18"#) },
    // jsonpath_test.go:TestEval_issue_67
    Case { source: r#"TestEval_issue_67"#, name: r#"length($.items[?(@.type == "D")])"#, expr: r#"length($.items[?(@.type == "D")])"#, doc: DOC_2, want: Want::Value(r#"0"#) },
    Case { source: r#"TestEval_issue_67"#, name: r#"length($.items[?(@.type == "A")])"#, expr: r#"length($.items[?(@.type == "A")])"#, doc: DOC_2, want: Want::Value(r#"1"#) },
    Case { source: r#"TestEval_issue_67"#, name: r#"length($.items[?(@.type == "A" || @.type == "B")])"#, expr: r#"length($.items[?(@.type == "A" || @.type == "B")])"#, doc: DOC_2, want: Want::Value(r#"2"#) },
    Case { source: r#"TestEval_issue_67"#, name: r#"length($.items[?(@.type == "A" || @.type == "B" || @.type == "D")])"#, expr: r#"length($.items[?(@.type == "A" || @.type == "B" || @.type == "D")])"#, doc: DOC_2, want: Want::Value(r#"2"#) },
    Case { source: r#"TestEval_issue_67"#, name: r#"length($.items[?(@ == null)])"#, expr: r#"length($.items[?(@ == null)])"#, doc: DOC_2, want: Want::Value(r#"1"#) },
    // jsonpath_test.go:TestTernaryOperator
    Case { source: r#"TestTernaryOperator"#, name: r#"true condition returns first value"#, expr: r#"true ? 1 : 2"#, doc: r#"{}"#, want: Want::Value(r#"1"#) },
    Case { source: r#"TestTernaryOperator"#, name: r#"false condition returns second value"#, expr: r#"false ? 1 : 2"#, doc: r#"{}"#, want: Want::Value(r#"2"#) },
    Case { source: r#"TestTernaryOperator"#, name: r#"greater than true"#, expr: r#"5 > 3 ? "yes" : "no""#, doc: r#"{}"#, want: Want::Value(r#""yes""#) },
    Case { source: r#"TestTernaryOperator"#, name: r#"greater than false"#, expr: r#"2 > 3 ? "yes" : "no""#, doc: r#"{}"#, want: Want::Value(r#""no""#) },
    Case { source: r#"TestTernaryOperator"#, name: r#"equality true"#, expr: r#"5 == 5 ? "equal" : "not equal""#, doc: r#"{}"#, want: Want::Value(r#""equal""#) },
    Case { source: r#"TestTernaryOperator"#, name: r#"equality false"#, expr: r#"5 == 6 ? "equal" : "not equal""#, doc: r#"{}"#, want: Want::Value(r#""not equal""#) },
    Case { source: r#"TestTernaryOperator"#, name: r#"jsonpath condition true"#, expr: r#"$.value > 5 ? "big" : "small""#, doc: r#"{"value": 10}"#, want: Want::Value(r#""big""#) },
    Case { source: r#"TestTernaryOperator"#, name: r#"jsonpath condition false"#, expr: r#"$.value > 5 ? "big" : "small""#, doc: r#"{"value": 3}"#, want: Want::Value(r#""small""#) },
    Case { source: r#"TestTernaryOperator"#, name: r#"jsonpath values - true branch"#, expr: r#"$.flag ? $.a : $.b"#, doc: r#"{"flag": true, "a": 100, "b": 200}"#, want: Want::Value(r#"100"#) },
    Case { source: r#"TestTernaryOperator"#, name: r#"jsonpath values - false branch"#, expr: r#"$.flag ? $.a : $.b"#, doc: r#"{"flag": false, "a": 100, "b": 200}"#, want: Want::Value(r#"200"#) },
    Case { source: r#"TestTernaryOperator"#, name: r#"expressions in values"#, expr: r#"true ? 1 + 2 : 3 + 4"#, doc: r#"{}"#, want: Want::Value(r#"3"#) },
    Case { source: r#"TestTernaryOperator"#, name: r#"expressions in values - false"#, expr: r#"false ? 1 + 2 : 3 + 4"#, doc: r#"{}"#, want: Want::Value(r#"7"#) },
    Case { source: r#"TestTernaryOperator"#, name: r#"numeric 1 is truthy"#, expr: r#"1 ? "yes" : "no""#, doc: r#"{}"#, want: Want::Value(r#""yes""#) },
    Case { source: r#"TestTernaryOperator"#, name: r#"numeric 0 is falsy"#, expr: r#"0 ? "yes" : "no""#, doc: r#"{}"#, want: Want::Value(r#""no""#) },
    Case { source: r#"TestTernaryOperator"#, name: r#"string values"#, expr: r#"$.name == "test" ? "matched" : "not matched""#, doc: r#"{"name": "test"}"#, want: Want::Value(r#""matched""#) },
    Case { source: r#"TestTernaryOperator"#, name: r#"nested ternary - first branch"#, expr: r#"$.value > 15 ? "large" : ($.value > 5 ? "medium" : "small")"#, doc: r#"{"value": 10}"#, want: Want::Value(r#""medium""#) },
    Case { source: r#"TestTernaryOperator"#, name: r#"nested ternary - innermost branch"#, expr: r#"$.value > 15 ? "large" : ($.value > 5 ? "medium" : "small")"#, doc: r#"{"value": 3}"#, want: Want::Value(r#""small""#) },
    Case { source: r#"TestTernaryOperator"#, name: r#"nested ternary - outermost branch"#, expr: r#"$.value > 15 ? "large" : ($.value > 5 ? "medium" : "small")"#, doc: r#"{"value": 20}"#, want: Want::Value(r#""large""#) },
    Case { source: r#"TestTernaryOperator"#, name: r#"array length in condition"#, expr: r#"length($.items) > 0 ? "has items" : "empty""#, doc: r#"{"items": [1, 2, 3]}"#, want: Want::Value(r#""has items""#) },
    Case { source: r#"TestTernaryOperator"#, name: r#"empty array in condition"#, expr: r#"length($.items) > 0 ? "has items" : "empty""#, doc: r#"{"items": []}"#, want: Want::Value(r#""empty""#) },
    Case { source: r#"TestTernaryOperator"#, name: r#"default value pattern - use provided"#, expr: r#"length($.namespace) > 0 ? $.namespace : $.default"#, doc: r#"{"namespace": "production", "default": "staging"}"#, want: Want::Value(r#""production""#) },
    // jsonpath_test.go:TestEval_issue_69
    Case { source: r#"TestEval_issue_69"#, name: r#"sum($.items[?(@.type == "A")].price)"#, expr: r#"sum($.items[?(@.type == "A")].price)"#, doc: DOC_2, want: Want::Value(r#"1"#) },
    Case { source: r#"TestEval_issue_69"#, name: r#"avg($.items[?(@.type == "A")].price)"#, expr: r#"avg($.items[?(@.type == "A")].price)"#, doc: DOC_2, want: Want::Value(r#"1"#) },
    Case { source: r#"TestEval_issue_69"#, name: r#"sum($.items[?(@.type == "D")].price)"#, expr: r#"sum($.items[?(@.type == "D")].price)"#, doc: DOC_2, want: Want::Value(r#"null"#) },
    Case { source: r#"TestEval_issue_69"#, name: r#"avg($.items[?(@.type == "D")].price)"#, expr: r#"avg($.items[?(@.type == "D")].price)"#, doc: DOC_2, want: Want::Value(r#"null"#) },
    Case { source: r#"TestEval_issue_69"#, name: r#"sum($.items[?(@ == null)].price)"#, expr: r#"sum($.items[?(@ == null)].price)"#, doc: DOC_2, want: Want::Value(r#"null"#) },
    Case { source: r#"TestEval_issue_69"#, name: r#"avg($.items[?(@ == null)].price)"#, expr: r#"avg($.items[?(@ == null)].price)"#, doc: DOC_2, want: Want::Value(r#"null"#) },
    // math_test.go:TestOperations
    Case { source: r#"TestOperations"#, name: r#"0/0"#, expr: r#"0 / 0"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestOperations"#, name: r#"1/0"#, expr: r#"1 / 0"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestOperations"#, name: r#"X+Y"#, expr: r#"'X' + 'Y'"#, doc: r#"{}"#, want: Want::Value(r#""XY""#) },
    Case { source: r#"TestOperations"#, name: r#"2**2"#, expr: r#"2 ** 2"#, doc: r#"{}"#, want: Want::Value(r#"4"#) },
    Case { source: r#"TestOperations"#, name: r#"3**3"#, expr: r#"3 ** 3"#, doc: r#"{}"#, want: Want::Value(r#"27"#) },
    Case { source: r#"TestOperations"#, name: r#"10**3"#, expr: r#"10 ** 3"#, doc: r#"{}"#, want: Want::Value(r#"1000"#) },
    Case { source: r#"TestOperations"#, name: r#"X**2"#, expr: r#"'X' ** 2"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestOperations"#, name: r#"2**Y"#, expr: r#"2 ** 'Y'"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestOperations"#, name: r#"2*2"#, expr: r#"2 * 2"#, doc: r#"{}"#, want: Want::Value(r#"4"#) },
    Case { source: r#"TestOperations"#, name: r#"3*3"#, expr: r#"3 * 3"#, doc: r#"{}"#, want: Want::Value(r#"9"#) },
    Case { source: r#"TestOperations"#, name: r#"10*3"#, expr: r#"10 * 3"#, doc: r#"{}"#, want: Want::Value(r#"30"#) },
    Case { source: r#"TestOperations"#, name: r#"X*2"#, expr: r#"'X' * 2"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestOperations"#, name: r#"2*Y"#, expr: r#"2 * 'Y'"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestOperations"#, name: r#"2+2"#, expr: r#"2 + 2"#, doc: r#"{}"#, want: Want::Value(r#"4"#) },
    Case { source: r#"TestOperations"#, name: r#"3+3"#, expr: r#"3 + 3"#, doc: r#"{}"#, want: Want::Value(r#"6"#) },
    Case { source: r#"TestOperations"#, name: r#"10+3"#, expr: r#"10 + 3"#, doc: r#"{}"#, want: Want::Value(r#"13"#) },
    Case { source: r#"TestOperations"#, name: r#"X+2"#, expr: r#"'X' + 2"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestOperations"#, name: r#"2+Y"#, expr: r#"2 + 'Y'"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestOperations"#, name: r#"2-2"#, expr: r#"2 - 2"#, doc: r#"{}"#, want: Want::Value(r#"0"#) },
    Case { source: r#"TestOperations"#, name: r#"3-3"#, expr: r#"3 - 3"#, doc: r#"{}"#, want: Want::Value(r#"0"#) },
    Case { source: r#"TestOperations"#, name: r#"10-3"#, expr: r#"10 - 3"#, doc: r#"{}"#, want: Want::Value(r#"7"#) },
    Case { source: r#"TestOperations"#, name: r#"X-2"#, expr: r#"'X' - 2"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestOperations"#, name: r#"2-Y"#, expr: r#"2 - 'Y'"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestOperations"#, name: r#"2/2"#, expr: r#"2 / 2"#, doc: r#"{}"#, want: Want::Value(r#"1"#) },
    Case { source: r#"TestOperations"#, name: r#"3/3"#, expr: r#"3 / 3"#, doc: r#"{}"#, want: Want::Value(r#"1"#) },
    Case { source: r#"TestOperations"#, name: r#"10/3"#, expr: r#"10 / 3"#, doc: r#"{}"#, want: Want::Value(r#"3.3333333333333335"#) },
    Case { source: r#"TestOperations"#, name: r#"X/2"#, expr: r#"'X' / 2"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestOperations"#, name: r#"2/Y"#, expr: r#"2 / 'Y'"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestOperations"#, name: r#"2%2"#, expr: r#"2 % 2"#, doc: r#"{}"#, want: Want::Value(r#"0"#) },
    Case { source: r#"TestOperations"#, name: r#"3%3"#, expr: r#"3 % 3"#, doc: r#"{}"#, want: Want::Value(r#"0"#) },
    Case { source: r#"TestOperations"#, name: r#"10%3"#, expr: r#"10 % 3"#, doc: r#"{}"#, want: Want::Value(r#"1"#) },
    Case { source: r#"TestOperations"#, name: r#"X%2"#, expr: r#"'X' % 2"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestOperations"#, name: r#"2%Y"#, expr: r#"2 % 'Y'"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestOperations"#, name: r#"2<<2"#, expr: r#"2 << 2"#, doc: r#"{}"#, want: Want::Value(r#"8"#) },
    Case { source: r#"TestOperations"#, name: r#"3<<3"#, expr: r#"3 << 3"#, doc: r#"{}"#, want: Want::Value(r#"24"#) },
    Case { source: r#"TestOperations"#, name: r#"10<<3"#, expr: r#"10 << 3"#, doc: r#"{}"#, want: Want::Value(r#"80"#) },
    Case { source: r#"TestOperations"#, name: r#"X<<2"#, expr: r#"'X' << 2"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestOperations"#, name: r#"2<<Y"#, expr: r#"2 << 'Y'"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestOperations"#, name: r#"2>>2"#, expr: r#"2 >> 2"#, doc: r#"{}"#, want: Want::Value(r#"0"#) },
    Case { source: r#"TestOperations"#, name: r#"3>>3"#, expr: r#"3 >> 3"#, doc: r#"{}"#, want: Want::Value(r#"0"#) },
    Case { source: r#"TestOperations"#, name: r#"10>>3"#, expr: r#"10 >> 3"#, doc: r#"{}"#, want: Want::Value(r#"1"#) },
    Case { source: r#"TestOperations"#, name: r#"X>>2"#, expr: r#"'X' >> 2"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestOperations"#, name: r#"2>>Y"#, expr: r#"2 >> 'Y'"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestOperations"#, name: r#"2&2"#, expr: r#"2 & 2"#, doc: r#"{}"#, want: Want::Value(r#"2"#) },
    Case { source: r#"TestOperations"#, name: r#"3&3"#, expr: r#"3 & 3"#, doc: r#"{}"#, want: Want::Value(r#"3"#) },
    Case { source: r#"TestOperations"#, name: r#"10&3"#, expr: r#"10 & 3"#, doc: r#"{}"#, want: Want::Value(r#"2"#) },
    Case { source: r#"TestOperations"#, name: r#"X&2"#, expr: r#"'X' & 2"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestOperations"#, name: r#"2&Y"#, expr: r#"2 & 'Y'"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestOperations"#, name: r#"2&^2"#, expr: r#"2 &^ 2"#, doc: r#"{}"#, want: Want::Value(r#"0"#) },
    Case { source: r#"TestOperations"#, name: r#"3&^3"#, expr: r#"3 &^ 3"#, doc: r#"{}"#, want: Want::Value(r#"0"#) },
    Case { source: r#"TestOperations"#, name: r#"10&^3"#, expr: r#"10 &^ 3"#, doc: r#"{}"#, want: Want::Value(r#"8"#) },
    Case { source: r#"TestOperations"#, name: r#"X&^2"#, expr: r#"'X' &^ 2"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestOperations"#, name: r#"2&^Y"#, expr: r#"2 &^ 'Y'"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestOperations"#, name: r#"2|2"#, expr: r#"2 | 2"#, doc: r#"{}"#, want: Want::Value(r#"2"#) },
    Case { source: r#"TestOperations"#, name: r#"3|3"#, expr: r#"3 | 3"#, doc: r#"{}"#, want: Want::Value(r#"3"#) },
    Case { source: r#"TestOperations"#, name: r#"10|3"#, expr: r#"10 | 3"#, doc: r#"{}"#, want: Want::Value(r#"11"#) },
    Case { source: r#"TestOperations"#, name: r#"X|2"#, expr: r#"'X' | 2"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestOperations"#, name: r#"2|Y"#, expr: r#"2 | 'Y'"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestOperations"#, name: r#"2^2"#, expr: r#"2 ^ 2"#, doc: r#"{}"#, want: Want::Value(r#"0"#) },
    Case { source: r#"TestOperations"#, name: r#"3^3"#, expr: r#"3 ^ 3"#, doc: r#"{}"#, want: Want::Value(r#"0"#) },
    Case { source: r#"TestOperations"#, name: r#"10^3"#, expr: r#"10 ^ 3"#, doc: r#"{}"#, want: Want::Value(r#"9"#) },
    Case { source: r#"TestOperations"#, name: r#"X^2"#, expr: r#"'X' ^ 2"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestOperations"#, name: r#"2^Y"#, expr: r#"2 ^ 'Y'"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestOperations"#, name: r#"2==2"#, expr: r#"2 == 2"#, doc: r#"{}"#, want: Want::Value(r#"true"#) },
    Case { source: r#"TestOperations"#, name: r#"3==3"#, expr: r#"3 == 3"#, doc: r#"{}"#, want: Want::Value(r#"true"#) },
    Case { source: r#"TestOperations"#, name: r#"10==0"#, expr: r#"10 == 0"#, doc: r#"{}"#, want: Want::Value(r#"false"#) },
    Case { source: r#"TestOperations"#, name: r#"0==10"#, expr: r#"0 == 10"#, doc: r#"{}"#, want: Want::Value(r#"false"#) },
    Case { source: r#"TestOperations"#, name: r#"2!=2"#, expr: r#"2 != 2"#, doc: r#"{}"#, want: Want::Value(r#"false"#) },
    Case { source: r#"TestOperations"#, name: r#"3!=3"#, expr: r#"3 != 3"#, doc: r#"{}"#, want: Want::Value(r#"false"#) },
    Case { source: r#"TestOperations"#, name: r#"10!=0"#, expr: r#"10 != 0"#, doc: r#"{}"#, want: Want::Value(r#"true"#) },
    Case { source: r#"TestOperations"#, name: r#"0!=10"#, expr: r#"0 != 10"#, doc: r#"{}"#, want: Want::Value(r#"true"#) },
    Case { source: r#"TestOperations"#, name: r#"2<2"#, expr: r#"2 < 2"#, doc: r#"{}"#, want: Want::Value(r#"false"#) },
    Case { source: r#"TestOperations"#, name: r#"3<3"#, expr: r#"3 < 3"#, doc: r#"{}"#, want: Want::Value(r#"false"#) },
    Case { source: r#"TestOperations"#, name: r#"10<0"#, expr: r#"10 < 0"#, doc: r#"{}"#, want: Want::Value(r#"false"#) },
    Case { source: r#"TestOperations"#, name: r#"0<10"#, expr: r#"0 < 10"#, doc: r#"{}"#, want: Want::Value(r#"true"#) },
    Case { source: r#"TestOperations"#, name: r#"2<=2"#, expr: r#"2 <= 2"#, doc: r#"{}"#, want: Want::Value(r#"true"#) },
    Case { source: r#"TestOperations"#, name: r#"3<=3"#, expr: r#"3 <= 3"#, doc: r#"{}"#, want: Want::Value(r#"true"#) },
    Case { source: r#"TestOperations"#, name: r#"10<=0"#, expr: r#"10 <= 0"#, doc: r#"{}"#, want: Want::Value(r#"false"#) },
    Case { source: r#"TestOperations"#, name: r#"0<=10"#, expr: r#"0 <= 10"#, doc: r#"{}"#, want: Want::Value(r#"true"#) },
    Case { source: r#"TestOperations"#, name: r#"2>2"#, expr: r#"2 > 2"#, doc: r#"{}"#, want: Want::Value(r#"false"#) },
    Case { source: r#"TestOperations"#, name: r#"3>3"#, expr: r#"3 > 3"#, doc: r#"{}"#, want: Want::Value(r#"false"#) },
    Case { source: r#"TestOperations"#, name: r#"10>0"#, expr: r#"10 > 0"#, doc: r#"{}"#, want: Want::Value(r#"true"#) },
    Case { source: r#"TestOperations"#, name: r#"0>10"#, expr: r#"0 > 10"#, doc: r#"{}"#, want: Want::Value(r#"false"#) },
    Case { source: r#"TestOperations"#, name: r#"2>=2"#, expr: r#"2 >= 2"#, doc: r#"{}"#, want: Want::Value(r#"true"#) },
    Case { source: r#"TestOperations"#, name: r#"3>=3"#, expr: r#"3 >= 3"#, doc: r#"{}"#, want: Want::Value(r#"true"#) },
    Case { source: r#"TestOperations"#, name: r#"10>=0"#, expr: r#"10 >= 0"#, doc: r#"{}"#, want: Want::Value(r#"true"#) },
    Case { source: r#"TestOperations"#, name: r#"0>=10"#, expr: r#"0 >= 10"#, doc: r#"{}"#, want: Want::Value(r#"false"#) },
    Case { source: r#"TestOperations"#, name: r#"2&&2"#, expr: r#"2 && 2"#, doc: r#"{}"#, want: Want::Value(r#"true"#) },
    Case { source: r#"TestOperations"#, name: r#"3&&3"#, expr: r#"3 && 3"#, doc: r#"{}"#, want: Want::Value(r#"true"#) },
    Case { source: r#"TestOperations"#, name: r#"10&&0"#, expr: r#"10 && 0"#, doc: r#"{}"#, want: Want::Value(r#"false"#) },
    Case { source: r#"TestOperations"#, name: r#"0&&10"#, expr: r#"0 && 10"#, doc: r#"{}"#, want: Want::Value(r#"false"#) },
    Case { source: r#"TestOperations"#, name: r#"2||2"#, expr: r#"2 || 2"#, doc: r#"{}"#, want: Want::Value(r#"true"#) },
    Case { source: r#"TestOperations"#, name: r#"3||3"#, expr: r#"3 || 3"#, doc: r#"{}"#, want: Want::Value(r#"true"#) },
    Case { source: r#"TestOperations"#, name: r#"10||0"#, expr: r#"10 || 0"#, doc: r#"{}"#, want: Want::Value(r#"true"#) },
    Case { source: r#"TestOperations"#, name: r#"0||10"#, expr: r#"0 || 10"#, doc: r#"{}"#, want: Want::Value(r#"true"#) },
    Case { source: r#"TestOperations"#, name: r#"[] && {} == false"#, expr: r#"$.a && $.b"#, doc: r#"{"a":[],"b":{}}"#, want: Want::Value(r#"false"#) },
    Case { source: r#"TestOperations"#, name: r#"{} || [] == false"#, expr: r#"$.a || $.b"#, doc: r#"{"a":{},"b":[]}"#, want: Want::Value(r#"false"#) },
    Case { source: r#"TestOperations"#, name: r#"{"foo":"bar"} || [1] == true"#, expr: r#"$.a && $.b"#, doc: r#"{"a":{"foo":"bar"},"b":[1]}"#, want: Want::Value(r#"true"#) },
    Case { source: r#"TestOperations"#, name: r#"regexp true"#, expr: r#"$.a =~ $.b"#, doc: r#"{"a":"123","b":"\\d+"}"#, want: Want::Value(r#"true"#) },
    Case { source: r#"TestOperations"#, name: r#"regexp false"#, expr: r#"$.a =~ $.b"#, doc: r#"{"a":"1 2 3","b":"^\\d+$"}"#, want: Want::Value(r#"false"#) },
    Case { source: r#"TestOperations"#, name: r#"regexp pattern error"#, expr: r#"$.a =~ $.b"#, doc: r#"{"a":"2","b":"\\2"}"#, want: Want::Error },
    Case { source: r#"TestOperations"#, name: r#"regexp error 1"#, expr: r#"0 =~ '123'"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestOperations"#, name: r#"regexp error 2"#, expr: r#"$.a =~ $.b"#, doc: r#"{"a":"\\d+","b":0}"#, want: Want::Error },
    // math_test.go:TestFunctions
    Case { source: r#"TestFunctions"#, name: r#"abs 1"#, expr: r#"abs(-100)"#, doc: r#"{}"#, want: Want::Value(r#"100"#) },
    Case { source: r#"TestFunctions"#, name: r#"abs 2"#, expr: r#"abs(100)"#, doc: r#"{}"#, want: Want::Value(r#"100"#) },
    Case { source: r#"TestFunctions"#, name: r#"abs 3"#, expr: r#"abs(0)"#, doc: r#"{}"#, want: Want::Value(r#"0"#) },
    Case { source: r#"TestFunctions"#, name: r#"acos 1"#, expr: r#"acos(0.5)"#, doc: r#"{}"#, want: Want::Value(r#"1.0471975511965976"#) },
    Case { source: r#"TestFunctions"#, name: r#"acosh 1"#, expr: r#"acosh(100)"#, doc: r#"{}"#, want: Want::Value(r#"5.298292365610484"#) },
    Case { source: r#"TestFunctions"#, name: r#"asin 1"#, expr: r#"asin(0.5)"#, doc: r#"{}"#, want: Want::Value(r#"0.5235987755982989"#) },
    Case { source: r#"TestFunctions"#, name: r#"asinh 1"#, expr: r#"asinh(100)"#, doc: r#"{}"#, want: Want::Value(r#"5.298342365610589"#) },
    Case { source: r#"TestFunctions"#, name: r#"atan 1"#, expr: r#"atan(100)"#, doc: r#"{}"#, want: Want::Value(r#"1.5607966601082313"#) },
    Case { source: r#"TestFunctions"#, name: r#"atanh 1"#, expr: r#"atanh(0.5)"#, doc: r#"{}"#, want: Want::Value(r#"0.5493061443340548"#) },
    Case { source: r#"TestFunctions"#, name: r#"cbrt 1"#, expr: r#"cbrt(100)"#, doc: r#"{}"#, want: Want::Value(r#"4.641588833612778"#) },
    Case { source: r#"TestFunctions"#, name: r#"ceil 1"#, expr: r#"ceil(100)"#, doc: r#"{}"#, want: Want::Value(r#"100"#) },
    Case { source: r#"TestFunctions"#, name: r#"cos 1"#, expr: r#"cos(100)"#, doc: r#"{}"#, want: Want::Value(r#"0.8623188722876839"#) },
    Case { source: r#"TestFunctions"#, name: r#"cosh 1"#, expr: r#"cosh(100)"#, doc: r#"{}"#, want: Want::Value(r#"1.3440585709080678e+43"#) },
    Case { source: r#"TestFunctions"#, name: r#"erf 1"#, expr: r#"erf(100)"#, doc: r#"{}"#, want: Want::Value(r#"1"#) },
    Case { source: r#"TestFunctions"#, name: r#"erfc 1"#, expr: r#"erfc(100)"#, doc: r#"{}"#, want: Want::Value(r#"0"#) },
    Case { source: r#"TestFunctions"#, name: r#"erfcinv 1"#, expr: r#"erfcinv(0.5)"#, doc: r#"{}"#, want: Want::Value(r#"0.4769362762044699"#) },
    Case { source: r#"TestFunctions"#, name: r#"erfinv 1"#, expr: r#"erfinv(0.5)"#, doc: r#"{}"#, want: Want::Value(r#"0.4769362762044699"#) },
    Case { source: r#"TestFunctions"#, name: r#"exp 1"#, expr: r#"exp(100)"#, doc: r#"{}"#, want: Want::Value(r#"2.6881171418161356e+43"#) },
    Case { source: r#"TestFunctions"#, name: r#"exp2 1"#, expr: r#"exp2(100)"#, doc: r#"{}"#, want: Want::Value(r#"1.2676506002282294e+30"#) },
    Case { source: r#"TestFunctions"#, name: r#"expm1 1"#, expr: r#"expm1(100)"#, doc: r#"{}"#, want: Want::Value(r#"2.6881171418161356e+43"#) },
    Case { source: r#"TestFunctions"#, name: r#"floor 1"#, expr: r#"floor(0)"#, doc: r#"{}"#, want: Want::Value(r#"0"#) },
    Case { source: r#"TestFunctions"#, name: r#"floor 2"#, expr: r#"floor(0.1)"#, doc: r#"{}"#, want: Want::Value(r#"0"#) },
    Case { source: r#"TestFunctions"#, name: r#"floor 3"#, expr: r#"floor(0.5)"#, doc: r#"{}"#, want: Want::Value(r#"0"#) },
    Case { source: r#"TestFunctions"#, name: r#"floor 4"#, expr: r#"floor(0.9)"#, doc: r#"{}"#, want: Want::Value(r#"0"#) },
    Case { source: r#"TestFunctions"#, name: r#"floor 5"#, expr: r#"floor(100)"#, doc: r#"{}"#, want: Want::Value(r#"100"#) },
    Case { source: r#"TestFunctions"#, name: r#"gamma 1"#, expr: r#"gamma(100)"#, doc: r#"{}"#, want: Want::Value(r#"9.332621544394423e+155"#) },
    Case { source: r#"TestFunctions"#, name: r#"j0 1"#, expr: r#"j0(100)"#, doc: r#"{}"#, want: Want::Value(r#"0.019985850304223122"#) },
    Case { source: r#"TestFunctions"#, name: r#"j1 1"#, expr: r#"j1(100)"#, doc: r#"{}"#, want: Want::Value(r#"-0.07714535201411217"#) },
    Case { source: r#"TestFunctions"#, name: r#"log 1"#, expr: r#"log(100)"#, doc: r#"{}"#, want: Want::Value(r#"4.605170185988092"#) },
    Case { source: r#"TestFunctions"#, name: r#"log10 1"#, expr: r#"log10(100)"#, doc: r#"{}"#, want: Want::Value(r#"2"#) },
    Case { source: r#"TestFunctions"#, name: r#"log1p 1"#, expr: r#"log1p(100)"#, doc: r#"{}"#, want: Want::Value(r#"4.61512051684126"#) },
    Case { source: r#"TestFunctions"#, name: r#"log2 1"#, expr: r#"log2(100)"#, doc: r#"{}"#, want: Want::Value(r#"6.643856189774724"#) },
    Case { source: r#"TestFunctions"#, name: r#"logb 1"#, expr: r#"logb(100)"#, doc: r#"{}"#, want: Want::Value(r#"6"#) },
    Case { source: r#"TestFunctions"#, name: r#"round 1"#, expr: r#"round(0)"#, doc: r#"{}"#, want: Want::Value(r#"0"#) },
    Case { source: r#"TestFunctions"#, name: r#"round 2"#, expr: r#"round(0.1)"#, doc: r#"{}"#, want: Want::Value(r#"0"#) },
    Case { source: r#"TestFunctions"#, name: r#"round 3"#, expr: r#"round(0.5)"#, doc: r#"{}"#, want: Want::Value(r#"1"#) },
    Case { source: r#"TestFunctions"#, name: r#"round 4"#, expr: r#"round(0.9)"#, doc: r#"{}"#, want: Want::Value(r#"1"#) },
    Case { source: r#"TestFunctions"#, name: r#"round 5"#, expr: r#"round(100)"#, doc: r#"{}"#, want: Want::Value(r#"100"#) },
    Case { source: r#"TestFunctions"#, name: r#"roundtoeven 1"#, expr: r#"roundtoeven(0)"#, doc: r#"{}"#, want: Want::Value(r#"0"#) },
    Case { source: r#"TestFunctions"#, name: r#"roundtoeven 2"#, expr: r#"roundtoeven(0.5)"#, doc: r#"{}"#, want: Want::Value(r#"0"#) },
    Case { source: r#"TestFunctions"#, name: r#"roundtoeven 3"#, expr: r#"roundtoeven(0.1)"#, doc: r#"{}"#, want: Want::Value(r#"0"#) },
    Case { source: r#"TestFunctions"#, name: r#"roundtoeven 4"#, expr: r#"roundtoeven(0.9)"#, doc: r#"{}"#, want: Want::Value(r#"1"#) },
    Case { source: r#"TestFunctions"#, name: r#"roundtoeven 5"#, expr: r#"roundtoeven(1)"#, doc: r#"{}"#, want: Want::Value(r#"1"#) },
    Case { source: r#"TestFunctions"#, name: r#"sin 1"#, expr: r#"sin(100)"#, doc: r#"{}"#, want: Want::Value(r#"-0.5063656411097588"#) },
    Case { source: r#"TestFunctions"#, name: r#"sinh 1"#, expr: r#"sinh(100)"#, doc: r#"{}"#, want: Want::Value(r#"1.3440585709080678e+43"#) },
    Case { source: r#"TestFunctions"#, name: r#"sqrt 1"#, expr: r#"sqrt(100)"#, doc: r#"{}"#, want: Want::Value(r#"10"#) },
    Case { source: r#"TestFunctions"#, name: r#"tan 1"#, expr: r#"tan(100)"#, doc: r#"{}"#, want: Want::Value(r#"-0.587213915156929"#) },
    Case { source: r#"TestFunctions"#, name: r#"tanh 1"#, expr: r#"tanh(100)"#, doc: r#"{}"#, want: Want::Value(r#"1"#) },
    Case { source: r#"TestFunctions"#, name: r#"trunc 1"#, expr: r#"trunc(100)"#, doc: r#"{}"#, want: Want::Value(r#"100"#) },
    Case { source: r#"TestFunctions"#, name: r#"y0 1"#, expr: r#"y0(100)"#, doc: r#"{}"#, want: Want::Value(r#"-0.07724431336508317"#) },
    Case { source: r#"TestFunctions"#, name: r#"y1 1"#, expr: r#"y1(100)"#, doc: r#"{}"#, want: Want::Value(r#"-0.020372312002759796"#) },
    Case { source: r#"TestFunctions"#, name: r#"pow10"#, expr: r#"pow10(10)"#, doc: r#"{}"#, want: Want::Value(r#"10000000000"#) },
    Case { source: r#"TestFunctions"#, name: r#"factorial"#, expr: r#"factorial(10)"#, doc: r#"{}"#, want: Want::Value(r#"3628800"#) },
    Case { source: r#"TestFunctions"#, name: r#"not_1"#, expr: r#"not(1)"#, doc: r#"{}"#, want: Want::Value(r#"false"#) },
    Case { source: r#"TestFunctions"#, name: r#"not_0"#, expr: r#"not(0)"#, doc: r#"{}"#, want: Want::Value(r#"true"#) },
    Case { source: r#"TestFunctions"#, name: r#"rand 50"#, expr: r#"rand(50)"#, doc: r#"{}"#, want: Want::Random { below: 50.0, integer: false } },
    Case { source: r#"TestFunctions"#, name: r#"randint 50"#, expr: r#"randint(50)"#, doc: r#"{}"#, want: Want::Random { below: 50.0, integer: true } },
    // math_test.go:TestFunctions2
    Case { source: r#"TestFunctions2"#, name: r#"abs error 2"#, expr: r#"abs('')"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestFunctions2"#, name: r#"length blank array"#, expr: r#"length($)"#, doc: r#"[]"#, want: Want::Value(r#"0"#) },
    Case { source: r#"TestFunctions2"#, name: r#"length object"#, expr: r#"length($)"#, doc: r#"{"bar":1,"foo":1}"#, want: Want::Value(r#"1"#) },
    Case { source: r#"TestFunctions2"#, name: r#"length string"#, expr: r#"length('foo_bar')"#, doc: r#"{}"#, want: Want::Value(r#"7"#) },
    Case { source: r#"TestFunctions2"#, name: r#"length numeric"#, expr: r#"length(123)"#, doc: r#"{}"#, want: Want::Value(r#"1"#) },
    Case { source: r#"TestFunctions2"#, name: r#"length bool"#, expr: r#"length(false)"#, doc: r#"{}"#, want: Want::Value(r#"1"#) },
    Case { source: r#"TestFunctions2"#, name: r#"length null"#, expr: r#"length(null)"#, doc: r#"{}"#, want: Want::Value(r#"1"#) },
    Case { source: r#"TestFunctions2"#, name: r#"length nil"#, expr: r#"length($.missing)"#, doc: r#"{}"#, want: Want::Value(r#"0"#) },
    Case { source: r#"TestFunctions2"#, name: r#"size blank array"#, expr: r#"size($)"#, doc: r#"[]"#, want: Want::Value(r#"0"#) },
    Case { source: r#"TestFunctions2"#, name: r#"size object"#, expr: r#"size($)"#, doc: r#"{"bar":1,"foo":1}"#, want: Want::Value(r#"2"#) },
    Case { source: r#"TestFunctions2"#, name: r#"size string"#, expr: r#"size('foo_bar')"#, doc: r#"{}"#, want: Want::Value(r#"0"#) },
    Case { source: r#"TestFunctions2"#, name: r#"size numeric"#, expr: r#"size(123)"#, doc: r#"{}"#, want: Want::Value(r#"0"#) },
    Case { source: r#"TestFunctions2"#, name: r#"size bool"#, expr: r#"size(false)"#, doc: r#"{}"#, want: Want::Value(r#"0"#) },
    Case { source: r#"TestFunctions2"#, name: r#"size null"#, expr: r#"size(null)"#, doc: r#"{}"#, want: Want::Value(r#"0"#) },
    Case { source: r#"TestFunctions2"#, name: r#"size nil"#, expr: r#"size($.missing)"#, doc: r#"{}"#, want: Want::Value(r#"0"#) },
    Case { source: r#"TestFunctions2"#, name: r#"avg array 1"#, expr: r#"avg($)"#, doc: r#"[1,1,1,1]"#, want: Want::Value(r#"1"#) },
    Case { source: r#"TestFunctions2"#, name: r#"avg array 2"#, expr: r#"avg($)"#, doc: r#"[1,2,3]"#, want: Want::Value(r#"2"#) },
    Case { source: r#"TestFunctions2"#, name: r#"avg object"#, expr: r#"avg($)"#, doc: r#"{"e":3,"q":1,"w":2}"#, want: Want::Value(r#"2"#) },
    Case { source: r#"TestFunctions2"#, name: r#"avg array blank"#, expr: r#"avg($)"#, doc: r#"[]"#, want: Want::Value(r#"0"#) },
    Case { source: r#"TestFunctions2"#, name: r#"avg nil"#, expr: r#"avg($.missing)"#, doc: r#"{}"#, want: Want::Value(r#"null"#) },
    Case { source: r#"TestFunctions2"#, name: r#"avg one"#, expr: r#"avg(123)"#, doc: r#"{}"#, want: Want::Value(r#"123"#) },
    Case { source: r#"TestFunctions2"#, name: r#"b64encode_std_padding multiple of 3"#, expr: r#"b64encode('Short string')"#, doc: r#"{}"#, want: Want::Value(r#""U2hvcnQgc3RyaW5n""#) },
    Case { source: r#"TestFunctions2"#, name: r#"b64encode_std_padding remainder 2"#, expr: r#"b64encode('A test string')"#, doc: r#"{}"#, want: Want::Value(r#""QSB0ZXN0IHN0cmluZw==""#) },
    Case { source: r#"TestFunctions2"#, name: r#"b64encode_std_padding remainder 1"#, expr: r#"b64encode('A test string.')"#, doc: r#"{}"#, want: Want::Value(r#""QSB0ZXN0IHN0cmluZy4=""#) },
    Case { source: r#"TestFunctions2"#, name: r#"b64encode_std_padding nil"#, expr: r#"b64encode($.missing)"#, doc: r#"{}"#, want: Want::Value(r#"null"#) },
    Case { source: r#"TestFunctions2"#, name: r#"b64encode_no_padding multiple of 3"#, expr: r#"b64encoden('Short string')"#, doc: r#"{}"#, want: Want::Value(r#""U2hvcnQgc3RyaW5n""#) },
    Case { source: r#"TestFunctions2"#, name: r#"b64encode_no_padding remainder 2"#, expr: r#"b64encoden('A test string')"#, doc: r#"{}"#, want: Want::Value(r#""QSB0ZXN0IHN0cmluZw""#) },
    Case { source: r#"TestFunctions2"#, name: r#"b64encode_no_padding remainder 1"#, expr: r#"b64encoden('A test string.')"#, doc: r#"{}"#, want: Want::Value(r#""QSB0ZXN0IHN0cmluZy4""#) },
    Case { source: r#"TestFunctions2"#, name: r#"b64encode_no_padding nil"#, expr: r#"b64encoden($.missing)"#, doc: r#"{}"#, want: Want::Value(r#"null"#) },
    Case { source: r#"TestFunctions2"#, name: r#"b64decode with padding multiple of 3"#, expr: r#"b64decode('U2hvcnQgc3RyaW5n')"#, doc: r#"{}"#, want: Want::Value(r#""Short string""#) },
    Case { source: r#"TestFunctions2"#, name: r#"b64decode with padding remainder 2"#, expr: r#"b64decode('QSB0ZXN0IHN0cmluZw==')"#, doc: r#"{}"#, want: Want::Value(r#""A test string""#) },
    Case { source: r#"TestFunctions2"#, name: r#"b64decode with padding remainder 1"#, expr: r#"b64decode('QSB0ZXN0IHN0cmluZy4=')"#, doc: r#"{}"#, want: Want::Value(r#""A test string.""#) },
    Case { source: r#"TestFunctions2"#, name: r#"b64decode nil"#, expr: r#"b64decode($.missing)"#, doc: r#"{}"#, want: Want::Value(r#"null"#) },
    Case { source: r#"TestFunctions2"#, name: r#"b64decode without padding multiple of 3"#, expr: r#"b64decode('U2hvcnQgc3RyaW5n')"#, doc: r#"{}"#, want: Want::Value(r#""Short string""#) },
    Case { source: r#"TestFunctions2"#, name: r#"b64decode without padding remainder 2"#, expr: r#"b64decode('QSB0ZXN0IHN0cmluZw')"#, doc: r#"{}"#, want: Want::Value(r#""A test string""#) },
    Case { source: r#"TestFunctions2"#, name: r#"b64decode without padding remainder 1"#, expr: r#"b64decode('QSB0ZXN0IHN0cmluZy4')"#, doc: r#"{}"#, want: Want::Value(r#""A test string.""#) },
    Case { source: r#"TestFunctions2"#, name: r#"b64decode with padding wrong characters"#, expr: r#"b64decode('!!!!Non-ASCII-Chars!!!!')"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestFunctions2"#, name: r#"b64decode with padding wrong length"#, expr: r#"b64decode('QSB0ZXN0IHN0cmluZwU==')"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestFunctions2"#, name: r#"sum array 1"#, expr: r#"sum($)"#, doc: r#"[1,1,1,1]"#, want: Want::Value(r#"4"#) },
    Case { source: r#"TestFunctions2"#, name: r#"sum array 2"#, expr: r#"sum($)"#, doc: r#"[1,2,3]"#, want: Want::Value(r#"6"#) },
    Case { source: r#"TestFunctions2"#, name: r#"sum object"#, expr: r#"sum($)"#, doc: r#"{"e":3,"q":1,"w":2}"#, want: Want::Value(r#"6"#) },
    Case { source: r#"TestFunctions2"#, name: r#"sum array blank"#, expr: r#"sum($)"#, doc: r#"[]"#, want: Want::Value(r#"0"#) },
    Case { source: r#"TestFunctions2"#, name: r#"sum nil"#, expr: r#"sum($.missing)"#, doc: r#"{}"#, want: Want::Value(r#"null"#) },
    Case { source: r#"TestFunctions2"#, name: r#"sum one"#, expr: r#"sum(123)"#, doc: r#"{}"#, want: Want::Value(r#"123"#) },
    Case { source: r#"TestFunctions2"#, name: r#"rand"#, expr: r#"rand('test')"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestFunctions2"#, name: r#"randint"#, expr: r#"randint('test')"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestFunctions2"#, name: r#"last: string"#, expr: r#"last('')"#, doc: r#"{}"#, want: Want::Value(r#"null"#) },
    Case { source: r#"TestFunctions2"#, name: r#"last: empty"#, expr: r#"last($)"#, doc: r#"[]"#, want: Want::Value(r#"null"#) },
    Case { source: r#"TestFunctions2"#, name: r#"last: one"#, expr: r#"last($)"#, doc: r#"["value"]"#, want: Want::Value(r#""value""#) },
    Case { source: r#"TestFunctions2"#, name: r#"last: several"#, expr: r#"last($)"#, doc: r#"["1","2","3"]"#, want: Want::Value(r#""3""#) },
    Case { source: r#"TestFunctions2"#, name: r#"last: object"#, expr: r#"last($)"#, doc: r#"{"e":3,"q":1,"w":2}"#, want: Want::Value(r#"null"#) },
    Case { source: r#"TestFunctions2"#, name: r#"last nil"#, expr: r#"last($.missing)"#, doc: r#"{}"#, want: Want::Value(r#"null"#) },
    Case { source: r#"TestFunctions2"#, name: r#"first: string"#, expr: r#"first('')"#, doc: r#"{}"#, want: Want::Value(r#"null"#) },
    Case { source: r#"TestFunctions2"#, name: r#"first: empty"#, expr: r#"first($)"#, doc: r#"[]"#, want: Want::Value(r#"null"#) },
    Case { source: r#"TestFunctions2"#, name: r#"first: one"#, expr: r#"first($)"#, doc: r#"["value"]"#, want: Want::Value(r#""value""#) },
    Case { source: r#"TestFunctions2"#, name: r#"first: several"#, expr: r#"first($)"#, doc: r#"["1","2","3"]"#, want: Want::Value(r#""1""#) },
    Case { source: r#"TestFunctions2"#, name: r#"first: object"#, expr: r#"first($)"#, doc: r#"{"e":3,"q":1,"w":2}"#, want: Want::Value(r#"null"#) },
    Case { source: r#"TestFunctions2"#, name: r#"first nil"#, expr: r#"first($.missing)"#, doc: r#"{}"#, want: Want::Value(r#"null"#) },
    Case { source: r#"TestFunctions2"#, name: r#"parent"#, expr: r#"parent($['r']['t'])"#, doc: r#"{"e":3,"q":1,"r":{"t":"value","y":2},"w":2}"#, want: Want::Value(r#"{"t":"value","y":2}"#) },
    Case { source: r#"TestFunctions2"#, name: r#"parent: none"#, expr: r#"parent($)"#, doc: r#"{"e":3,"q":1,"r":{"t":"value","y":2},"w":2}"#, want: Want::Value(r#"null"#) },
    Case { source: r#"TestFunctions2"#, name: r#"root"#, expr: r#"root($['r']['t'])"#, doc: r#"{"e":3,"q":1,"r":{"t":"value","y":2},"w":2}"#, want: Want::Value(r#"{"e":3,"q":1,"r":{"t":"value","y":2},"w":2}"#) },
    Case { source: r#"TestFunctions2"#, name: r#"root: self"#, expr: r#"root($)"#, doc: r#"{"e":3,"q":1,"r":{"t":"value","y":2},"w":2}"#, want: Want::Value(r#"{"e":3,"q":1,"r":{"t":"value","y":2},"w":2}"#) },
    Case { source: r#"TestFunctions2"#, name: r#"key"#, expr: r#"key($['r']['t'])"#, doc: r#"{"e":3,"q":1,"r":{"t":"value","y":2},"w":2}"#, want: Want::Value(r#""t""#) },
    Case { source: r#"TestFunctions2"#, name: r#"key: none"#, expr: r#"key('value')"#, doc: r#"{}"#, want: Want::Value(r#"null"#) },
    Case { source: r#"TestFunctions2"#, name: r#"key nil"#, expr: r#"key($.missing)"#, doc: r#"{}"#, want: Want::Value(r#"null"#) },
    Case { source: r#"TestFunctions2"#, name: r#"is_null nil"#, expr: r#"is_null($.missing)"#, doc: r#"{}"#, want: Want::Value(r#"null"#) },  // spyzhov/ajson v0.9.6 only
    Case { source: r#"TestFunctions2"#, name: r#"is_null null"#, expr: r#"is_null(null)"#, doc: r#"{}"#, want: Want::Value(r#"true"#) },  // spyzhov/ajson v0.9.6 only
    Case { source: r#"TestFunctions2"#, name: r#"is_null str"#, expr: r#"is_null('')"#, doc: r#"{}"#, want: Want::Value(r#"false"#) },  // spyzhov/ajson v0.9.6 only
    Case { source: r#"TestFunctions2"#, name: r#"is_numeric nil"#, expr: r#"is_numeric($.missing)"#, doc: r#"{}"#, want: Want::Value(r#"null"#) },  // spyzhov/ajson v0.9.6 only
    Case { source: r#"TestFunctions2"#, name: r#"is_numeric null"#, expr: r#"is_numeric(null)"#, doc: r#"{}"#, want: Want::Value(r#"false"#) },  // spyzhov/ajson v0.9.6 only
    Case { source: r#"TestFunctions2"#, name: r#"is_numeric int"#, expr: r#"is_numeric(-123)"#, doc: r#"{}"#, want: Want::Value(r#"true"#) },  // spyzhov/ajson v0.9.6 only
    Case { source: r#"TestFunctions2"#, name: r#"is_numeric uint"#, expr: r#"is_numeric(123)"#, doc: r#"{}"#, want: Want::Value(r#"true"#) },  // spyzhov/ajson v0.9.6 only
    Case { source: r#"TestFunctions2"#, name: r#"is_numeric float"#, expr: r#"is_numeric(-12.34)"#, doc: r#"{}"#, want: Want::Value(r#"true"#) },  // spyzhov/ajson v0.9.6 only
    Case { source: r#"TestFunctions2"#, name: r#"is_numeric string"#, expr: r#"is_numeric('')"#, doc: r#"{}"#, want: Want::Value(r#"false"#) },  // spyzhov/ajson v0.9.6 only
    Case { source: r#"TestFunctions2"#, name: r#"is_numeric bool"#, expr: r#"is_numeric(true)"#, doc: r#"{}"#, want: Want::Value(r#"false"#) },  // spyzhov/ajson v0.9.6 only
    Case { source: r#"TestFunctions2"#, name: r#"is_numeric array"#, expr: r#"is_numeric($)"#, doc: r#"[]"#, want: Want::Value(r#"false"#) },  // spyzhov/ajson v0.9.6 only
    Case { source: r#"TestFunctions2"#, name: r#"is_numeric object"#, expr: r#"is_numeric($)"#, doc: r#"{}"#, want: Want::Value(r#"false"#) },  // spyzhov/ajson v0.9.6 only
    Case { source: r#"TestFunctions2"#, name: r#"is_int nil"#, expr: r#"is_int($.missing)"#, doc: r#"{}"#, want: Want::Value(r#"null"#) },  // spyzhov/ajson v0.9.6 only
    Case { source: r#"TestFunctions2"#, name: r#"is_int null"#, expr: r#"is_int(null)"#, doc: r#"{}"#, want: Want::Value(r#"false"#) },  // spyzhov/ajson v0.9.6 only
    Case { source: r#"TestFunctions2"#, name: r#"is_int int"#, expr: r#"is_int(-123)"#, doc: r#"{}"#, want: Want::Value(r#"true"#) },  // spyzhov/ajson v0.9.6 only
    Case { source: r#"TestFunctions2"#, name: r#"is_int uint"#, expr: r#"is_int(123)"#, doc: r#"{}"#, want: Want::Value(r#"true"#) },  // spyzhov/ajson v0.9.6 only
    Case { source: r#"TestFunctions2"#, name: r#"is_int float"#, expr: r#"is_int(-12.34)"#, doc: r#"{}"#, want: Want::Value(r#"false"#) },  // spyzhov/ajson v0.9.6 only
    Case { source: r#"TestFunctions2"#, name: r#"is_int string"#, expr: r#"is_int('')"#, doc: r#"{}"#, want: Want::Value(r#"false"#) },  // spyzhov/ajson v0.9.6 only
    Case { source: r#"TestFunctions2"#, name: r#"is_int bool"#, expr: r#"is_int(true)"#, doc: r#"{}"#, want: Want::Value(r#"false"#) },  // spyzhov/ajson v0.9.6 only
    Case { source: r#"TestFunctions2"#, name: r#"is_int array"#, expr: r#"is_int($)"#, doc: r#"[]"#, want: Want::Value(r#"false"#) },  // spyzhov/ajson v0.9.6 only
    Case { source: r#"TestFunctions2"#, name: r#"is_int object"#, expr: r#"is_int($)"#, doc: r#"{}"#, want: Want::Value(r#"false"#) },  // spyzhov/ajson v0.9.6 only
    Case { source: r#"TestFunctions2"#, name: r#"is_uint nil"#, expr: r#"is_uint($.missing)"#, doc: r#"{}"#, want: Want::Value(r#"null"#) },  // spyzhov/ajson v0.9.6 only
    Case { source: r#"TestFunctions2"#, name: r#"is_uint null"#, expr: r#"is_uint(null)"#, doc: r#"{}"#, want: Want::Value(r#"false"#) },  // spyzhov/ajson v0.9.6 only
    Case { source: r#"TestFunctions2"#, name: r#"is_uint int"#, expr: r#"is_uint(-123)"#, doc: r#"{}"#, want: Want::Value(r#"false"#) },  // spyzhov/ajson v0.9.6 only
    Case { source: r#"TestFunctions2"#, name: r#"is_uint uint"#, expr: r#"is_uint(123)"#, doc: r#"{}"#, want: Want::Value(r#"true"#) },  // spyzhov/ajson v0.9.6 only
    Case { source: r#"TestFunctions2"#, name: r#"is_uint float"#, expr: r#"is_uint(-12.34)"#, doc: r#"{}"#, want: Want::Value(r#"false"#) },  // spyzhov/ajson v0.9.6 only
    Case { source: r#"TestFunctions2"#, name: r#"is_uint string"#, expr: r#"is_uint('')"#, doc: r#"{}"#, want: Want::Value(r#"false"#) },  // spyzhov/ajson v0.9.6 only
    Case { source: r#"TestFunctions2"#, name: r#"is_uint bool"#, expr: r#"is_uint(true)"#, doc: r#"{}"#, want: Want::Value(r#"false"#) },  // spyzhov/ajson v0.9.6 only
    Case { source: r#"TestFunctions2"#, name: r#"is_uint array"#, expr: r#"is_uint($)"#, doc: r#"[]"#, want: Want::Value(r#"false"#) },  // spyzhov/ajson v0.9.6 only
    Case { source: r#"TestFunctions2"#, name: r#"is_uint object"#, expr: r#"is_uint($)"#, doc: r#"{}"#, want: Want::Value(r#"false"#) },  // spyzhov/ajson v0.9.6 only
    Case { source: r#"TestFunctions2"#, name: r#"is_float nil"#, expr: r#"is_float($.missing)"#, doc: r#"{}"#, want: Want::Value(r#"null"#) },  // spyzhov/ajson v0.9.6 only
    Case { source: r#"TestFunctions2"#, name: r#"is_float null"#, expr: r#"is_float(null)"#, doc: r#"{}"#, want: Want::Value(r#"false"#) },  // spyzhov/ajson v0.9.6 only
    Case { source: r#"TestFunctions2"#, name: r#"is_float int"#, expr: r#"is_float(-123)"#, doc: r#"{}"#, want: Want::Value(r#"false"#) },  // spyzhov/ajson v0.9.6 only
    Case { source: r#"TestFunctions2"#, name: r#"is_float uint"#, expr: r#"is_float(123)"#, doc: r#"{}"#, want: Want::Value(r#"false"#) },  // spyzhov/ajson v0.9.6 only
    Case { source: r#"TestFunctions2"#, name: r#"is_float float"#, expr: r#"is_float(-12.34)"#, doc: r#"{}"#, want: Want::Value(r#"true"#) },  // spyzhov/ajson v0.9.6 only
    Case { source: r#"TestFunctions2"#, name: r#"is_float string"#, expr: r#"is_float('')"#, doc: r#"{}"#, want: Want::Value(r#"false"#) },  // spyzhov/ajson v0.9.6 only
    Case { source: r#"TestFunctions2"#, name: r#"is_float bool"#, expr: r#"is_float(true)"#, doc: r#"{}"#, want: Want::Value(r#"false"#) },  // spyzhov/ajson v0.9.6 only
    Case { source: r#"TestFunctions2"#, name: r#"is_float array"#, expr: r#"is_float($)"#, doc: r#"[]"#, want: Want::Value(r#"false"#) },  // spyzhov/ajson v0.9.6 only
    Case { source: r#"TestFunctions2"#, name: r#"is_float object"#, expr: r#"is_float($)"#, doc: r#"{}"#, want: Want::Value(r#"false"#) },  // spyzhov/ajson v0.9.6 only
    Case { source: r#"TestFunctions2"#, name: r#"is_string nil"#, expr: r#"is_string($.missing)"#, doc: r#"{}"#, want: Want::Value(r#"null"#) },  // spyzhov/ajson v0.9.6 only
    Case { source: r#"TestFunctions2"#, name: r#"is_string null"#, expr: r#"is_string(null)"#, doc: r#"{}"#, want: Want::Value(r#"false"#) },  // spyzhov/ajson v0.9.6 only
    Case { source: r#"TestFunctions2"#, name: r#"is_string int"#, expr: r#"is_string(-123)"#, doc: r#"{}"#, want: Want::Value(r#"false"#) },  // spyzhov/ajson v0.9.6 only
    Case { source: r#"TestFunctions2"#, name: r#"is_string uint"#, expr: r#"is_string(123)"#, doc: r#"{}"#, want: Want::Value(r#"false"#) },  // spyzhov/ajson v0.9.6 only
    Case { source: r#"TestFunctions2"#, name: r#"is_string float"#, expr: r#"is_string(-12.34)"#, doc: r#"{}"#, want: Want::Value(r#"false"#) },  // spyzhov/ajson v0.9.6 only
    Case { source: r#"TestFunctions2"#, name: r#"is_string string"#, expr: r#"is_string('')"#, doc: r#"{}"#, want: Want::Value(r#"true"#) },  // spyzhov/ajson v0.9.6 only
    Case { source: r#"TestFunctions2"#, name: r#"is_string bool"#, expr: r#"is_string(true)"#, doc: r#"{}"#, want: Want::Value(r#"false"#) },  // spyzhov/ajson v0.9.6 only
    Case { source: r#"TestFunctions2"#, name: r#"is_string array"#, expr: r#"is_string($)"#, doc: r#"[]"#, want: Want::Value(r#"false"#) },  // spyzhov/ajson v0.9.6 only
    Case { source: r#"TestFunctions2"#, name: r#"is_string object"#, expr: r#"is_string($)"#, doc: r#"{}"#, want: Want::Value(r#"false"#) },  // spyzhov/ajson v0.9.6 only
    Case { source: r#"TestFunctions2"#, name: r#"is_bool nil"#, expr: r#"is_bool($.missing)"#, doc: r#"{}"#, want: Want::Value(r#"null"#) },  // spyzhov/ajson v0.9.6 only
    Case { source: r#"TestFunctions2"#, name: r#"is_bool null"#, expr: r#"is_bool(null)"#, doc: r#"{}"#, want: Want::Value(r#"false"#) },  // spyzhov/ajson v0.9.6 only
    Case { source: r#"TestFunctions2"#, name: r#"is_bool int"#, expr: r#"is_bool(-123)"#, doc: r#"{}"#, want: Want::Value(r#"false"#) },  // spyzhov/ajson v0.9.6 only
    Case { source: r#"TestFunctions2"#, name: r#"is_bool uint"#, expr: r#"is_bool(123)"#, doc: r#"{}"#, want: Want::Value(r#"false"#) },  // spyzhov/ajson v0.9.6 only
    Case { source: r#"TestFunctions2"#, name: r#"is_bool float"#, expr: r#"is_bool(-12.34)"#, doc: r#"{}"#, want: Want::Value(r#"false"#) },  // spyzhov/ajson v0.9.6 only
    Case { source: r#"TestFunctions2"#, name: r#"is_bool string"#, expr: r#"is_bool('')"#, doc: r#"{}"#, want: Want::Value(r#"false"#) },  // spyzhov/ajson v0.9.6 only
    Case { source: r#"TestFunctions2"#, name: r#"is_bool bool"#, expr: r#"is_bool(true)"#, doc: r#"{}"#, want: Want::Value(r#"true"#) },  // spyzhov/ajson v0.9.6 only
    Case { source: r#"TestFunctions2"#, name: r#"is_bool array"#, expr: r#"is_bool($)"#, doc: r#"[]"#, want: Want::Value(r#"false"#) },  // spyzhov/ajson v0.9.6 only
    Case { source: r#"TestFunctions2"#, name: r#"is_bool object"#, expr: r#"is_bool($)"#, doc: r#"{}"#, want: Want::Value(r#"false"#) },  // spyzhov/ajson v0.9.6 only
    Case { source: r#"TestFunctions2"#, name: r#"is_array nil"#, expr: r#"is_array($.missing)"#, doc: r#"{}"#, want: Want::Value(r#"null"#) },  // spyzhov/ajson v0.9.6 only
    Case { source: r#"TestFunctions2"#, name: r#"is_array null"#, expr: r#"is_array(null)"#, doc: r#"{}"#, want: Want::Value(r#"false"#) },  // spyzhov/ajson v0.9.6 only
    Case { source: r#"TestFunctions2"#, name: r#"is_array int"#, expr: r#"is_array(-123)"#, doc: r#"{}"#, want: Want::Value(r#"false"#) },  // spyzhov/ajson v0.9.6 only
    Case { source: r#"TestFunctions2"#, name: r#"is_array uint"#, expr: r#"is_array(123)"#, doc: r#"{}"#, want: Want::Value(r#"false"#) },  // spyzhov/ajson v0.9.6 only
    Case { source: r#"TestFunctions2"#, name: r#"is_array float"#, expr: r#"is_array(-12.34)"#, doc: r#"{}"#, want: Want::Value(r#"false"#) },  // spyzhov/ajson v0.9.6 only
    Case { source: r#"TestFunctions2"#, name: r#"is_array string"#, expr: r#"is_array('')"#, doc: r#"{}"#, want: Want::Value(r#"false"#) },  // spyzhov/ajson v0.9.6 only
    Case { source: r#"TestFunctions2"#, name: r#"is_array bool"#, expr: r#"is_array(true)"#, doc: r#"{}"#, want: Want::Value(r#"false"#) },  // spyzhov/ajson v0.9.6 only
    Case { source: r#"TestFunctions2"#, name: r#"is_array array"#, expr: r#"is_array($)"#, doc: r#"[]"#, want: Want::Value(r#"true"#) },  // spyzhov/ajson v0.9.6 only
    Case { source: r#"TestFunctions2"#, name: r#"is_array object"#, expr: r#"is_array($)"#, doc: r#"{}"#, want: Want::Value(r#"false"#) },  // spyzhov/ajson v0.9.6 only
    Case { source: r#"TestFunctions2"#, name: r#"is_object nil"#, expr: r#"is_object($.missing)"#, doc: r#"{}"#, want: Want::Value(r#"null"#) },  // spyzhov/ajson v0.9.6 only
    Case { source: r#"TestFunctions2"#, name: r#"is_object null"#, expr: r#"is_object(null)"#, doc: r#"{}"#, want: Want::Value(r#"false"#) },  // spyzhov/ajson v0.9.6 only
    Case { source: r#"TestFunctions2"#, name: r#"is_object int"#, expr: r#"is_object(-123)"#, doc: r#"{}"#, want: Want::Value(r#"false"#) },  // spyzhov/ajson v0.9.6 only
    Case { source: r#"TestFunctions2"#, name: r#"is_object uint"#, expr: r#"is_object(123)"#, doc: r#"{}"#, want: Want::Value(r#"false"#) },  // spyzhov/ajson v0.9.6 only
    Case { source: r#"TestFunctions2"#, name: r#"is_object float"#, expr: r#"is_object(-12.34)"#, doc: r#"{}"#, want: Want::Value(r#"false"#) },  // spyzhov/ajson v0.9.6 only
    Case { source: r#"TestFunctions2"#, name: r#"is_object string"#, expr: r#"is_object('')"#, doc: r#"{}"#, want: Want::Value(r#"false"#) },  // spyzhov/ajson v0.9.6 only
    Case { source: r#"TestFunctions2"#, name: r#"is_object bool"#, expr: r#"is_object(true)"#, doc: r#"{}"#, want: Want::Value(r#"false"#) },  // spyzhov/ajson v0.9.6 only
    Case { source: r#"TestFunctions2"#, name: r#"is_object array"#, expr: r#"is_object($)"#, doc: r#"[]"#, want: Want::Value(r#"false"#) },  // spyzhov/ajson v0.9.6 only
    Case { source: r#"TestFunctions2"#, name: r#"is_object object"#, expr: r#"is_object($)"#, doc: r#"{}"#, want: Want::Value(r#"true"#) },  // spyzhov/ajson v0.9.6 only
    // math_test.go:TestConstants
    Case { source: r#"TestConstants"#, name: r#"e"#, expr: r#"e"#, doc: r#"{}"#, want: Want::Value(r#"2.718281828459045"#) },
    Case { source: r#"TestConstants"#, name: r#"pi"#, expr: r#"pi"#, doc: r#"{}"#, want: Want::Value(r#"3.141592653589793"#) },
    Case { source: r#"TestConstants"#, name: r#"phi"#, expr: r#"phi"#, doc: r#"{}"#, want: Want::Value(r#"1.618033988749895"#) },
    Case { source: r#"TestConstants"#, name: r#"sqrt2"#, expr: r#"sqrt2"#, doc: r#"{}"#, want: Want::Value(r#"1.4142135623730951"#) },
    Case { source: r#"TestConstants"#, name: r#"sqrte"#, expr: r#"sqrte"#, doc: r#"{}"#, want: Want::Value(r#"1.6487212707001282"#) },
    Case { source: r#"TestConstants"#, name: r#"sqrtpi"#, expr: r#"sqrtpi"#, doc: r#"{}"#, want: Want::Value(r#"1.772453850905516"#) },
    Case { source: r#"TestConstants"#, name: r#"sqrtphi"#, expr: r#"sqrtphi"#, doc: r#"{}"#, want: Want::Value(r#"1.272019649514069"#) },
    Case { source: r#"TestConstants"#, name: r#"ln2"#, expr: r#"ln2"#, doc: r#"{}"#, want: Want::Value(r#"0.6931471805599453"#) },
    Case { source: r#"TestConstants"#, name: r#"log2e"#, expr: r#"log2e"#, doc: r#"{}"#, want: Want::Value(r#"1.4426950408889634"#) },
    Case { source: r#"TestConstants"#, name: r#"ln10"#, expr: r#"ln10"#, doc: r#"{}"#, want: Want::Value(r#"2.302585092994046"#) },
    Case { source: r#"TestConstants"#, name: r#"log10e"#, expr: r#"log10e"#, doc: r#"{}"#, want: Want::Value(r#"0.4342944819032518"#) },
    Case { source: r#"TestConstants"#, name: r#"true"#, expr: r#"true"#, doc: r#"{}"#, want: Want::Value(r#"true"#) },
    Case { source: r#"TestConstants"#, name: r#"false"#, expr: r#"false"#, doc: r#"{}"#, want: Want::Value(r#"false"#) },
    Case { source: r#"TestConstants"#, name: r#"null"#, expr: r#"null"#, doc: r#"{}"#, want: Want::Value(r#"null"#) },
    // string_test.go:TestSingleArgStringFunctions
    Case { source: r#"TestSingleArgStringFunctions"#, name: r#"upper: lowercase"#, expr: r#"upper('hello')"#, doc: r#"{}"#, want: Want::Value(r#""HELLO""#) },
    Case { source: r#"TestSingleArgStringFunctions"#, name: r#"upper: uppercase"#, expr: r#"upper('HELLO')"#, doc: r#"{}"#, want: Want::Value(r#""HELLO""#) },
    Case { source: r#"TestSingleArgStringFunctions"#, name: r#"upper: mixed"#, expr: r#"upper('HeLLo WoRLd')"#, doc: r#"{}"#, want: Want::Value(r#""HELLO WORLD""#) },
    Case { source: r#"TestSingleArgStringFunctions"#, name: r#"upper: empty"#, expr: r#"upper('')"#, doc: r#"{}"#, want: Want::Value(r#""""#) },
    Case { source: r#"TestSingleArgStringFunctions"#, name: r#"upper: unicode"#, expr: r#"upper('héllo')"#, doc: r#"{}"#, want: Want::Value(r#""HÉLLO""#) },
    Case { source: r#"TestSingleArgStringFunctions"#, name: r#"upper: nil"#, expr: r#"upper($.missing)"#, doc: r#"{}"#, want: Want::Value(r#"null"#) },
    Case { source: r#"TestSingleArgStringFunctions"#, name: r#"upper: numeric error"#, expr: r#"upper(123)"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestSingleArgStringFunctions"#, name: r#"upper: bool error"#, expr: r#"upper(true)"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestSingleArgStringFunctions"#, name: r#"lower: uppercase"#, expr: r#"lower('HELLO')"#, doc: r#"{}"#, want: Want::Value(r#""hello""#) },
    Case { source: r#"TestSingleArgStringFunctions"#, name: r#"lower: lowercase"#, expr: r#"lower('hello')"#, doc: r#"{}"#, want: Want::Value(r#""hello""#) },
    Case { source: r#"TestSingleArgStringFunctions"#, name: r#"lower: mixed"#, expr: r#"lower('HeLLo WoRLd')"#, doc: r#"{}"#, want: Want::Value(r#""hello world""#) },
    Case { source: r#"TestSingleArgStringFunctions"#, name: r#"lower: empty"#, expr: r#"lower('')"#, doc: r#"{}"#, want: Want::Value(r#""""#) },
    Case { source: r#"TestSingleArgStringFunctions"#, name: r#"lower: unicode"#, expr: r#"lower('HÉLLO')"#, doc: r#"{}"#, want: Want::Value(r#""héllo""#) },
    Case { source: r#"TestSingleArgStringFunctions"#, name: r#"lower: nil"#, expr: r#"lower($.missing)"#, doc: r#"{}"#, want: Want::Value(r#"null"#) },
    Case { source: r#"TestSingleArgStringFunctions"#, name: r#"lower: numeric error"#, expr: r#"lower(123)"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestSingleArgStringFunctions"#, name: r#"lower: array error"#, expr: r#"lower($)"#, doc: r#"[]"#, want: Want::Error },
    Case { source: r#"TestSingleArgStringFunctions"#, name: r#"trim: spaces"#, expr: r#"trim('  hello  ')"#, doc: r#"{}"#, want: Want::Value(r#""hello""#) },
    Case { source: r#"TestSingleArgStringFunctions"#, name: r#"trim: tabs"#, expr: r#"trim($)"#, doc: r#""\thello\t""#, want: Want::Value(r#""hello""#) },
    Case { source: r#"TestSingleArgStringFunctions"#, name: r#"trim: newlines"#, expr: r#"trim($)"#, doc: r#""\nhello\n""#, want: Want::Value(r#""hello""#) },
    Case { source: r#"TestSingleArgStringFunctions"#, name: r#"trim: mixed whitespace"#, expr: r#"trim($)"#, doc: r#"" \t\nhello \t\n""#, want: Want::Value(r#""hello""#) },
    Case { source: r#"TestSingleArgStringFunctions"#, name: r#"trim: no whitespace"#, expr: r#"trim('hello')"#, doc: r#"{}"#, want: Want::Value(r#""hello""#) },
    Case { source: r#"TestSingleArgStringFunctions"#, name: r#"trim: empty"#, expr: r#"trim('')"#, doc: r#"{}"#, want: Want::Value(r#""""#) },
    Case { source: r#"TestSingleArgStringFunctions"#, name: r#"trim: only whitespace"#, expr: r#"trim($)"#, doc: r#""   \t\n  ""#, want: Want::Value(r#""""#) },
    Case { source: r#"TestSingleArgStringFunctions"#, name: r#"trim: nil"#, expr: r#"trim($.missing)"#, doc: r#"{}"#, want: Want::Value(r#"null"#) },
    Case { source: r#"TestSingleArgStringFunctions"#, name: r#"trim: numeric error"#, expr: r#"trim(123)"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestSingleArgStringFunctions"#, name: r#"reverse: simple"#, expr: r#"reverse('hello')"#, doc: r#"{}"#, want: Want::Value(r#""olleh""#) },
    Case { source: r#"TestSingleArgStringFunctions"#, name: r#"reverse: palindrome"#, expr: r#"reverse('racecar')"#, doc: r#"{}"#, want: Want::Value(r#""racecar""#) },
    Case { source: r#"TestSingleArgStringFunctions"#, name: r#"reverse: empty"#, expr: r#"reverse('')"#, doc: r#"{}"#, want: Want::Value(r#""""#) },
    Case { source: r#"TestSingleArgStringFunctions"#, name: r#"reverse: single char"#, expr: r#"reverse('a')"#, doc: r#"{}"#, want: Want::Value(r#""a""#) },
    Case { source: r#"TestSingleArgStringFunctions"#, name: r#"reverse: unicode"#, expr: r#"reverse('héllo')"#, doc: r#"{}"#, want: Want::Value(r#""olléh""#) },
    Case { source: r#"TestSingleArgStringFunctions"#, name: r#"reverse: with spaces"#, expr: r#"reverse('hello world')"#, doc: r#"{}"#, want: Want::Value(r#""dlrow olleh""#) },
    Case { source: r#"TestSingleArgStringFunctions"#, name: r#"reverse: nil"#, expr: r#"reverse($.missing)"#, doc: r#"{}"#, want: Want::Value(r#"null"#) },
    Case { source: r#"TestSingleArgStringFunctions"#, name: r#"reverse: numeric error"#, expr: r#"reverse(123)"#, doc: r#"{}"#, want: Want::Error },
    // string_test.go:TestSplitFunction
    Case { source: r#"TestSplitFunction"#, name: r#"split: basic"#, expr: r#"split('a,b,c', ',')"#, doc: r#"{}"#, want: Want::Value(r#"["a","b","c"]"#) },
    Case { source: r#"TestSplitFunction"#, name: r#"split: single element"#, expr: r#"split('hello', ',')"#, doc: r#"{}"#, want: Want::Value(r#"["hello"]"#) },
    Case { source: r#"TestSplitFunction"#, name: r#"split: empty separator"#, expr: r#"split('abc', '')"#, doc: r#"{}"#, want: Want::Value(r#"["a","b","c"]"#) },
    Case { source: r#"TestSplitFunction"#, name: r#"split: empty string"#, expr: r#"split('', ',')"#, doc: r#"{}"#, want: Want::Value(r#"[""]"#) },
    Case { source: r#"TestSplitFunction"#, name: r#"split: space separator"#, expr: r#"split('hello world foo', ' ')"#, doc: r#"{}"#, want: Want::Value(r#"["hello","world","foo"]"#) },
    Case { source: r#"TestSplitFunction"#, name: r#"split: multi-char separator"#, expr: r#"split('a::b::c', '::')"#, doc: r#"{}"#, want: Want::Value(r#"["a","b","c"]"#) },
    Case { source: r#"TestSplitFunction"#, name: r#"split: too few args"#, expr: r#"split('hello')"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestSplitFunction"#, name: r#"split: first arg not string"#, expr: r#"split(123, ',')"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestSplitFunction"#, name: r#"split: second arg not string"#, expr: r#"split('hello', 123)"#, doc: r#"{}"#, want: Want::Error },
    // string_test.go:TestJoinFunction
    Case { source: r#"TestJoinFunction"#, name: r#"join: basic"#, expr: r#"join($.a, $.b)"#, doc: r#"{"a":["a","b","c"],"b":","}"#, want: Want::Value(r#""a,b,c""#) },
    Case { source: r#"TestJoinFunction"#, name: r#"join: single element"#, expr: r#"join($.a, $.b)"#, doc: r#"{"a":["hello"],"b":","}"#, want: Want::Value(r#""hello""#) },
    Case { source: r#"TestJoinFunction"#, name: r#"join: empty separator"#, expr: r#"join($.a, $.b)"#, doc: r#"{"a":["a","b","c"],"b":""}"#, want: Want::Value(r#""abc""#) },
    Case { source: r#"TestJoinFunction"#, name: r#"join: empty array"#, expr: r#"join($.a, $.b)"#, doc: r#"{"a":[],"b":","}"#, want: Want::Value(r#""""#) },
    Case { source: r#"TestJoinFunction"#, name: r#"join: space separator"#, expr: r#"join($.a, $.b)"#, doc: r#"{"a":["hello","world"],"b":" "}"#, want: Want::Value(r#""hello world""#) },
    Case { source: r#"TestJoinFunction"#, name: r#"join: multi-char separator"#, expr: r#"join($.a, $.b)"#, doc: r#"{"a":["a","b"],"b":"::"}"#, want: Want::Value(r#""a::b""#) },
    Case { source: r#"TestJoinFunction"#, name: r#"join: too few args"#, expr: r#"join($)"#, doc: r#"["hello"]"#, want: Want::Error },
    Case { source: r#"TestJoinFunction"#, name: r#"join: first arg not array"#, expr: r#"join('hello', ',')"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestJoinFunction"#, name: r#"join: second arg not string"#, expr: r#"join($.a, $.b)"#, doc: r#"{"a":["a"],"b":123}"#, want: Want::Error },
    Case { source: r#"TestJoinFunction"#, name: r#"join: array element not string"#, expr: r#"join($.a, $.b)"#, doc: r#"{"a":["a",123],"b":","}"#, want: Want::Error },
    // string_test.go:TestContainsFunction
    Case { source: r#"TestContainsFunction"#, name: r#"contains: found"#, expr: r#"contains('hello world', 'world')"#, doc: r#"{}"#, want: Want::Value(r#"true"#) },
    Case { source: r#"TestContainsFunction"#, name: r#"contains: not found"#, expr: r#"contains('hello world', 'foo')"#, doc: r#"{}"#, want: Want::Value(r#"false"#) },
    Case { source: r#"TestContainsFunction"#, name: r#"contains: at start"#, expr: r#"contains('hello world', 'hello')"#, doc: r#"{}"#, want: Want::Value(r#"true"#) },
    Case { source: r#"TestContainsFunction"#, name: r#"contains: at end"#, expr: r#"contains('hello world', 'world')"#, doc: r#"{}"#, want: Want::Value(r#"true"#) },
    Case { source: r#"TestContainsFunction"#, name: r#"contains: empty substring"#, expr: r#"contains('hello', '')"#, doc: r#"{}"#, want: Want::Value(r#"true"#) },
    Case { source: r#"TestContainsFunction"#, name: r#"contains: empty string"#, expr: r#"contains('', 'hello')"#, doc: r#"{}"#, want: Want::Value(r#"false"#) },
    Case { source: r#"TestContainsFunction"#, name: r#"contains: both empty"#, expr: r#"contains('', '')"#, doc: r#"{}"#, want: Want::Value(r#"true"#) },
    Case { source: r#"TestContainsFunction"#, name: r#"contains: case sensitive"#, expr: r#"contains('Hello', 'hello')"#, doc: r#"{}"#, want: Want::Value(r#"false"#) },
    Case { source: r#"TestContainsFunction"#, name: r#"contains: too few args"#, expr: r#"contains('hello')"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestContainsFunction"#, name: r#"contains: first arg not string"#, expr: r#"contains(123, '1')"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestContainsFunction"#, name: r#"contains: second arg not string"#, expr: r#"contains('hello', 123)"#, doc: r#"{}"#, want: Want::Error },
    // string_test.go:TestHasPrefixFunction
    Case { source: r#"TestHasPrefixFunction"#, name: r#"hasprefix: true"#, expr: r#"hasprefix('hello world', 'hello')"#, doc: r#"{}"#, want: Want::Value(r#"true"#) },
    Case { source: r#"TestHasPrefixFunction"#, name: r#"hasprefix: false"#, expr: r#"hasprefix('hello world', 'world')"#, doc: r#"{}"#, want: Want::Value(r#"false"#) },
    Case { source: r#"TestHasPrefixFunction"#, name: r#"hasprefix: empty prefix"#, expr: r#"hasprefix('hello', '')"#, doc: r#"{}"#, want: Want::Value(r#"true"#) },
    Case { source: r#"TestHasPrefixFunction"#, name: r#"hasprefix: empty string"#, expr: r#"hasprefix('', 'hello')"#, doc: r#"{}"#, want: Want::Value(r#"false"#) },
    Case { source: r#"TestHasPrefixFunction"#, name: r#"hasprefix: equal strings"#, expr: r#"hasprefix('hello', 'hello')"#, doc: r#"{}"#, want: Want::Value(r#"true"#) },
    Case { source: r#"TestHasPrefixFunction"#, name: r#"hasprefix: case sensitive"#, expr: r#"hasprefix('Hello', 'hello')"#, doc: r#"{}"#, want: Want::Value(r#"false"#) },
    Case { source: r#"TestHasPrefixFunction"#, name: r#"hasprefix: too few args"#, expr: r#"hasprefix('hello')"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestHasPrefixFunction"#, name: r#"hasprefix: first arg not string"#, expr: r#"hasprefix(123, '1')"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestHasPrefixFunction"#, name: r#"hasprefix: second arg not string"#, expr: r#"hasprefix('hello', 123)"#, doc: r#"{}"#, want: Want::Error },
    // string_test.go:TestHasSuffixFunction
    Case { source: r#"TestHasSuffixFunction"#, name: r#"hassuffix: true"#, expr: r#"hassuffix('hello world', 'world')"#, doc: r#"{}"#, want: Want::Value(r#"true"#) },
    Case { source: r#"TestHasSuffixFunction"#, name: r#"hassuffix: false"#, expr: r#"hassuffix('hello world', 'hello')"#, doc: r#"{}"#, want: Want::Value(r#"false"#) },
    Case { source: r#"TestHasSuffixFunction"#, name: r#"hassuffix: empty suffix"#, expr: r#"hassuffix('hello', '')"#, doc: r#"{}"#, want: Want::Value(r#"true"#) },
    Case { source: r#"TestHasSuffixFunction"#, name: r#"hassuffix: empty string"#, expr: r#"hassuffix('', 'hello')"#, doc: r#"{}"#, want: Want::Value(r#"false"#) },
    Case { source: r#"TestHasSuffixFunction"#, name: r#"hassuffix: equal strings"#, expr: r#"hassuffix('hello', 'hello')"#, doc: r#"{}"#, want: Want::Value(r#"true"#) },
    Case { source: r#"TestHasSuffixFunction"#, name: r#"hassuffix: case sensitive"#, expr: r#"hassuffix('helloWorld', 'world')"#, doc: r#"{}"#, want: Want::Value(r#"false"#) },
    Case { source: r#"TestHasSuffixFunction"#, name: r#"hassuffix: too few args"#, expr: r#"hassuffix('hello')"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestHasSuffixFunction"#, name: r#"hassuffix: first arg not string"#, expr: r#"hassuffix(123, '1')"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestHasSuffixFunction"#, name: r#"hassuffix: second arg not string"#, expr: r#"hassuffix('hello', 123)"#, doc: r#"{}"#, want: Want::Error },
    // string_test.go:TestReplaceFunction
    Case { source: r#"TestReplaceFunction"#, name: r#"replace: basic"#, expr: r#"replace('hello world', 'world', 'there')"#, doc: r#"{}"#, want: Want::Value(r#""hello there""#) },
    Case { source: r#"TestReplaceFunction"#, name: r#"replace: multiple"#, expr: r#"replace('foo foo foo', 'foo', 'bar')"#, doc: r#"{}"#, want: Want::Value(r#""bar bar bar""#) },
    Case { source: r#"TestReplaceFunction"#, name: r#"replace: not found"#, expr: r#"replace('hello', 'xyz', 'abc')"#, doc: r#"{}"#, want: Want::Value(r#""hello""#) },
    Case { source: r#"TestReplaceFunction"#, name: r#"replace: empty old"#, expr: r#"replace('abc', '', 'X')"#, doc: r#"{}"#, want: Want::Value(r#""XaXbXcX""#) },
    Case { source: r#"TestReplaceFunction"#, name: r#"replace: empty new"#, expr: r#"replace('hello', 'l', '')"#, doc: r#"{}"#, want: Want::Value(r#""heo""#) },
    Case { source: r#"TestReplaceFunction"#, name: r#"replace: empty string"#, expr: r#"replace('', 'x', 'y')"#, doc: r#"{}"#, want: Want::Value(r#""""#) },
    Case { source: r#"TestReplaceFunction"#, name: r#"replace: too few args 1"#, expr: r#"replace('hello')"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestReplaceFunction"#, name: r#"replace: too few args 2"#, expr: r#"replace('hello', 'l')"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestReplaceFunction"#, name: r#"replace: first arg not string"#, expr: r#"replace(123, '1', '2')"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestReplaceFunction"#, name: r#"replace: second arg not string"#, expr: r#"replace('hello', 1, '2')"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestReplaceFunction"#, name: r#"replace: third arg not string"#, expr: r#"replace('hello', 'l', 2)"#, doc: r#"{}"#, want: Want::Error },
    // string_test.go:TestSubstrFunction
    Case { source: r#"TestSubstrFunction"#, name: r#"substr: from start"#, expr: r#"substr('hello', 0)"#, doc: r#"{}"#, want: Want::Value(r#""hello""#) },
    Case { source: r#"TestSubstrFunction"#, name: r#"substr: from middle"#, expr: r#"substr('hello', 2)"#, doc: r#"{}"#, want: Want::Value(r#""llo""#) },
    Case { source: r#"TestSubstrFunction"#, name: r#"substr: from end"#, expr: r#"substr('hello', 5)"#, doc: r#"{}"#, want: Want::Value(r#""""#) },
    Case { source: r#"TestSubstrFunction"#, name: r#"substr: negative index"#, expr: r#"substr('hello', -2)"#, doc: r#"{}"#, want: Want::Value(r#""lo""#) },
    Case { source: r#"TestSubstrFunction"#, name: r#"substr: negative beyond start"#, expr: r#"substr('hello', -10)"#, doc: r#"{}"#, want: Want::Value(r#""hello""#) },
    Case { source: r#"TestSubstrFunction"#, name: r#"substr: with length"#, expr: r#"substr('hello', 1, 3)"#, doc: r#"{}"#, want: Want::Value(r#""ell""#) },
    Case { source: r#"TestSubstrFunction"#, name: r#"substr: length beyond end"#, expr: r#"substr('hello', 3, 10)"#, doc: r#"{}"#, want: Want::Value(r#""lo""#) },
    Case { source: r#"TestSubstrFunction"#, name: r#"substr: zero length"#, expr: r#"substr('hello', 2, 0)"#, doc: r#"{}"#, want: Want::Value(r#""""#) },
    Case { source: r#"TestSubstrFunction"#, name: r#"substr: empty string"#, expr: r#"substr('', 0)"#, doc: r#"{}"#, want: Want::Value(r#""""#) },
    Case { source: r#"TestSubstrFunction"#, name: r#"substr: too few args"#, expr: r#"substr('hello')"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestSubstrFunction"#, name: r#"substr: first arg not string"#, expr: r#"substr(123, 0)"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestSubstrFunction"#, name: r#"substr: second arg not number"#, expr: r#"substr('hello', '0')"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestSubstrFunction"#, name: r#"substr: third arg not number"#, expr: r#"substr('hello', 0, '3')"#, doc: r#"{}"#, want: Want::Error },
    // string_test.go:TestIndexFunction
    Case { source: r#"TestIndexFunction"#, name: r#"index: found at start"#, expr: r#"index('hello', 'h')"#, doc: r#"{}"#, want: Want::Value(r#"0"#) },
    Case { source: r#"TestIndexFunction"#, name: r#"index: found at middle"#, expr: r#"index('hello', 'll')"#, doc: r#"{}"#, want: Want::Value(r#"2"#) },
    Case { source: r#"TestIndexFunction"#, name: r#"index: found at end"#, expr: r#"index('hello', 'o')"#, doc: r#"{}"#, want: Want::Value(r#"4"#) },
    Case { source: r#"TestIndexFunction"#, name: r#"index: not found"#, expr: r#"index('hello', 'xyz')"#, doc: r#"{}"#, want: Want::Value(r#"-1"#) },
    Case { source: r#"TestIndexFunction"#, name: r#"index: empty substring"#, expr: r#"index('hello', '')"#, doc: r#"{}"#, want: Want::Value(r#"0"#) },
    Case { source: r#"TestIndexFunction"#, name: r#"index: empty string"#, expr: r#"index('', 'hello')"#, doc: r#"{}"#, want: Want::Value(r#"-1"#) },
    Case { source: r#"TestIndexFunction"#, name: r#"index: both empty"#, expr: r#"index('', '')"#, doc: r#"{}"#, want: Want::Value(r#"0"#) },
    Case { source: r#"TestIndexFunction"#, name: r#"index: case sensitive"#, expr: r#"index('Hello', 'h')"#, doc: r#"{}"#, want: Want::Value(r#"-1"#) },
    Case { source: r#"TestIndexFunction"#, name: r#"index: too few args"#, expr: r#"index('hello')"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestIndexFunction"#, name: r#"index: first arg not string"#, expr: r#"index(123, '1')"#, doc: r#"{}"#, want: Want::Error },
    Case { source: r#"TestIndexFunction"#, name: r#"index: second arg not string"#, expr: r#"index('hello', 1)"#, doc: r#"{}"#, want: Want::Error },
    // string_test.go:TestStringFunctionsViaEval
    Case { source: r#"TestStringFunctionsViaEval"#, name: r#"eval upper"#, expr: r#"upper($.name)"#, doc: r#"{"name":"hello"}"#, want: Want::Value(r#""HELLO""#) },
    Case { source: r#"TestStringFunctionsViaEval"#, name: r#"eval lower"#, expr: r#"lower($.name)"#, doc: r#"{"name":"HELLO"}"#, want: Want::Value(r#""hello""#) },
    Case { source: r#"TestStringFunctionsViaEval"#, name: r#"eval trim"#, expr: r#"trim($.name)"#, doc: r#"{"name":"  hello  "}"#, want: Want::Value(r#""hello""#) },
    Case { source: r#"TestStringFunctionsViaEval"#, name: r#"eval reverse"#, expr: r#"reverse($.name)"#, doc: r#"{"name":"hello"}"#, want: Want::Value(r#""olleh""#) },
    Case { source: r#"TestStringFunctionsViaEval"#, name: r#"eval split"#, expr: r#"length(split($.data, ','))"#, doc: r#"{"data":"a,b,c"}"#, want: Want::Value(r#"3"#) },
    Case { source: r#"TestStringFunctionsViaEval"#, name: r#"eval contains true"#, expr: r#"contains($.text, 'world')"#, doc: r#"{"text":"hello world"}"#, want: Want::Value(r#"true"#) },
    Case { source: r#"TestStringFunctionsViaEval"#, name: r#"eval contains false"#, expr: r#"contains($.text, 'foo')"#, doc: r#"{"text":"hello world"}"#, want: Want::Value(r#"false"#) },
    Case { source: r#"TestStringFunctionsViaEval"#, name: r#"eval hasprefix true"#, expr: r#"hasprefix($.text, 'hello')"#, doc: r#"{"text":"hello world"}"#, want: Want::Value(r#"true"#) },
    Case { source: r#"TestStringFunctionsViaEval"#, name: r#"eval hasprefix false"#, expr: r#"hasprefix($.text, 'world')"#, doc: r#"{"text":"hello world"}"#, want: Want::Value(r#"false"#) },
    Case { source: r#"TestStringFunctionsViaEval"#, name: r#"eval hassuffix true"#, expr: r#"hassuffix($.text, 'world')"#, doc: r#"{"text":"hello world"}"#, want: Want::Value(r#"true"#) },
    Case { source: r#"TestStringFunctionsViaEval"#, name: r#"eval hassuffix false"#, expr: r#"hassuffix($.text, 'hello')"#, doc: r#"{"text":"hello world"}"#, want: Want::Value(r#"false"#) },
    Case { source: r#"TestStringFunctionsViaEval"#, name: r#"eval replace"#, expr: r#"replace($.text, 'world', 'there')"#, doc: r#"{"text":"hello world"}"#, want: Want::Value(r#""hello there""#) },
    Case { source: r#"TestStringFunctionsViaEval"#, name: r#"eval substr 2 args"#, expr: r#"substr($.text, 2)"#, doc: r#"{"text":"hello"}"#, want: Want::Value(r#""llo""#) },
    Case { source: r#"TestStringFunctionsViaEval"#, name: r#"eval substr 3 args"#, expr: r#"substr($.text, 1, 3)"#, doc: r#"{"text":"hello"}"#, want: Want::Value(r#""ell""#) },
    Case { source: r#"TestStringFunctionsViaEval"#, name: r#"eval index found"#, expr: r#"index($.text, 'l')"#, doc: r#"{"text":"hello"}"#, want: Want::Value(r#"2"#) },
    Case { source: r#"TestStringFunctionsViaEval"#, name: r#"eval index not found"#, expr: r#"index($.text, 'x')"#, doc: r#"{"text":"hello"}"#, want: Want::Value(r#"-1"#) },
    Case { source: r#"TestStringFunctionsViaEval"#, name: r#"eval upper + contains"#, expr: r#"contains(upper($.name), 'ELLO')"#, doc: r#"{"name":"Hello"}"#, want: Want::Value(r#"true"#) },
    Case { source: r#"TestStringFunctionsViaEval"#, name: r#"eval split + first"#, expr: r#"first(split($.data, '/'))"#, doc: r#"{"data":"a/b/c"}"#, want: Want::Value(r#""a""#) },
    Case { source: r#"TestStringFunctionsViaEval"#, name: r#"eval split + last"#, expr: r#"last(split($.data, '/'))"#, doc: r#"{"data":"a/b/c"}"#, want: Want::Value(r#""c""#) },
    Case { source: r#"TestStringFunctionsViaEval"#, name: r#"eval ternary contains"#, expr: r#"contains($.text, 'error') ? 'has error' : 'ok'"#, doc: r#"{"text":"error: failed"}"#, want: Want::Value(r#""has error""#) },
    // string_test.go:TestSplitJoinRoundtrip
    Case { source: r#"TestSplitJoinRoundtrip"#, name: r#"a,b,c"#, expr: r#"join(split('a,b,c', ','), ',')"#, doc: r#"{}"#, want: Want::Value(r#""a,b,c""#) },
    Case { source: r#"TestSplitJoinRoundtrip"#, name: r#"hello world"#, expr: r#"join(split('hello world', ' '), ' ')"#, doc: r#"{}"#, want: Want::Value(r#""hello world""#) },
    Case { source: r#"TestSplitJoinRoundtrip"#, name: r#"one::two::three"#, expr: r#"join(split('one::two::three', '::'), '::')"#, doc: r#"{}"#, want: Want::Value(r#""one::two::three""#) },
    Case { source: r#"TestSplitJoinRoundtrip"#, name: r#"single"#, expr: r#"join(split('single', ','), ',')"#, doc: r#"{}"#, want: Want::Value(r#""single""#) },
    Case { source: r#"TestSplitJoinRoundtrip"#, name: r#""#, expr: r#"join(split('', ','), ',')"#, doc: r#"{}"#, want: Want::Value(r#""""#) },
    // string_test.go:TestNestedStringFunctions
    Case { source: r#"TestNestedStringFunctions"#, name: r#"upper(lower(upper))"#, expr: r#"upper(lower(upper($.text)))"#, doc: r#"{"text":"Hello"}"#, want: Want::Value(r#""HELLO""#) },
    Case { source: r#"TestNestedStringFunctions"#, name: r#"reverse(reverse)"#, expr: r#"reverse(reverse($.text))"#, doc: r#"{"text":"hello"}"#, want: Want::Value(r#""hello""#) },
    Case { source: r#"TestNestedStringFunctions"#, name: r#"trim(upper)"#, expr: r#"upper(trim($.text))"#, doc: r#"{"text":"  hello  "}"#, want: Want::Value(r#""HELLO""#) },
    Case { source: r#"TestNestedStringFunctions"#, name: r#"split with upper"#, expr: r#"first(split(upper($.text), ','))"#, doc: r#"{"text":"a,b,c"}"#, want: Want::Value(r#""A""#) },
    Case { source: r#"TestNestedStringFunctions"#, name: r#"contains with lower"#, expr: r#"contains(lower($.text), 'hello')"#, doc: r#"{"text":"HELLO WORLD"}"#, want: Want::Value(r#"true"#) },
    Case { source: r#"TestNestedStringFunctions"#, name: r#"replace with trim"#, expr: r#"replace(trim($.text), 'world', 'there')"#, doc: r#"{"text":"  hello world  "}"#, want: Want::Value(r#""hello there""#) },
    Case { source: r#"TestNestedStringFunctions"#, name: r#"split and get second element"#, expr: r#"last(split($.path, '/'))"#, doc: r#"{"path":"deployment/myapp"}"#, want: Want::Value(r#""myapp""#) },
    Case { source: r#"TestNestedStringFunctions"#, name: r#"split and get first element"#, expr: r#"first(split($.path, '/'))"#, doc: r#"{"path":"deployment/myapp"}"#, want: Want::Value(r#""deployment""#) },
    Case { source: r#"TestNestedStringFunctions"#, name: r#"conditional with hasprefix"#, expr: r#"hasprefix($.cmd, 'scale') ? 'scaling' : 'other'"#, doc: r#"{"cmd":"scale deployment/nginx --replicas=3"}"#, want: Want::Value(r#""scaling""#) },
    Case { source: r#"TestNestedStringFunctions"#, name: r#"extract namespace from command"#, expr: r#"contains($.cmd, ' -n ') ? 'has namespace' : 'no namespace'"#, doc: r#"{"cmd":"restart deployment/myapp -n production"}"#, want: Want::Value(r#""has namespace""#) },
    // string_test.go:TestStringFunctionsWithJSONPath
    Case { source: r#"TestStringFunctionsWithJSONPath"#, name: r#"split path from array element"#, expr: r#"first(split($.items[0].path, '/'))"#, doc: r#"{"items":[{"path":"a/b"},{"path":"c/d"}]}"#, want: Want::Value(r#""a""#) },
    Case { source: r#"TestStringFunctionsWithJSONPath"#, name: r#"contains with array access"#, expr: r#"contains($.tags[0], 'prod')"#, doc: r#"{"tags":["production","critical"]}"#, want: Want::Value(r#"true"#) },
    Case { source: r#"TestStringFunctionsWithJSONPath"#, name: r#"replace in nested object"#, expr: r#"replace($.config.endpoint, 'localhost', '127.0.0.1')"#, doc: r#"{"config":{"endpoint":"http://localhost:8080"}}"#, want: Want::Value(r#""http://127.0.0.1:8080""#) },
    Case { source: r#"TestStringFunctionsWithJSONPath"#, name: r#"upper with nested access"#, expr: r#"upper($.user.name)"#, doc: r#"{"user":{"name":"john doe"}}"#, want: Want::Value(r#""JOHN DOE""#) },
    // string_test.go:TestStringFunctionsWithArithmetic
    Case { source: r#"TestStringFunctionsWithArithmetic"#, name: r#"length of split result"#, expr: r#"length(split($.csv, ','))"#, doc: r#"{"csv":"a,b,c,d,e"}"#, want: Want::Value(r#"5"#) },
    Case { source: r#"TestStringFunctionsWithArithmetic"#, name: r#"index + 1"#, expr: r#"index($.text, 'l') + 1"#, doc: r#"{"text":"hello"}"#, want: Want::Value(r#"3"#) },
    Case { source: r#"TestStringFunctionsWithArithmetic"#, name: r#"substr length"#, expr: r#"length(substr($.text, 0, 5))"#, doc: r#"{"text":"hello world"}"#, want: Want::Value(r#"5"#) },
    // string_test.go:TestStringFunctionsEdgeCases
    Case { source: r#"TestStringFunctionsEdgeCases"#, name: r#"split unicode"#, expr: r#"length(split($.text, '→'))"#, doc: r#"{"text":"hello→world→foo"}"#, want: Want::Value(r#"3"#) },
    Case { source: r#"TestStringFunctionsEdgeCases"#, name: r#"upper unicode"#, expr: r#"upper($.text)"#, doc: r#"{"text":"café"}"#, want: Want::Value(r#""CAFÉ""#) },
    Case { source: r#"TestStringFunctionsEdgeCases"#, name: r#"reverse unicode"#, expr: r#"reverse($.text)"#, doc: r#"{"text":"hello世界"}"#, want: Want::Value(r#""界世olleh""#) },
    Case { source: r#"TestStringFunctionsEdgeCases"#, name: r#"trim only spaces"#, expr: r#"trim($.text)"#, doc: r#"{"text":"     "}"#, want: Want::Value(r#""""#) },
    Case { source: r#"TestStringFunctionsEdgeCases"#, name: r#"split empty result elements"#, expr: r#"length(split($.text, ','))"#, doc: r#"{"text":"a,,b"}"#, want: Want::Value(r#"3"#) },
    Case { source: r#"TestStringFunctionsEdgeCases"#, name: r#"contains with literal"#, expr: r#"contains('hello world', 'world')"#, doc: r#"{}"#, want: Want::Value(r#"true"#) },
    Case { source: r#"TestStringFunctionsEdgeCases"#, name: r#"split with literal"#, expr: r#"first(split('a:b:c', ':'))"#, doc: r#"{}"#, want: Want::Value(r#""a""#) },
    Case { source: r#"TestStringFunctionsEdgeCases"#, name: r#"replace with literal"#, expr: r#"replace('hello', 'l', 'L')"#, doc: r#"{}"#, want: Want::Value(r#""heLLo""#) },
    // string_test.go:TestRealWorldUseCases
    Case { source: r#"TestRealWorldUseCases"#, name: r#"parse kind from path"#, expr: r#"first(split($.target, '/'))"#, doc: r#"{"target":"deployment/nginx"}"#, want: Want::Value(r#""deployment""#) },
    Case { source: r#"TestRealWorldUseCases"#, name: r#"parse name from path"#, expr: r#"last(split($.target, '/'))"#, doc: r#"{"target":"deployment/nginx"}"#, want: Want::Value(r#""nginx""#) },
    Case { source: r#"TestRealWorldUseCases"#, name: r#"check if has namespace flag"#, expr: r#"contains($.args, '-n ')"#, doc: r#"{"args":"--replicas=3 -n production"}"#, want: Want::Value(r#"true"#) },
    Case { source: r#"TestRealWorldUseCases"#, name: r#"extract domain from URL"#, expr: r#"first(split(last(split($.url, '//')), '/'))"#, doc: r#"{"url":"https://example.com/path"}"#, want: Want::Value(r#""example.com""#) },
    Case { source: r#"TestRealWorldUseCases"#, name: r#"parse label key"#, expr: r#"first(split($.label, '='))"#, doc: r#"{"label":"app=nginx"}"#, want: Want::Value(r#""app""#) },
    Case { source: r#"TestRealWorldUseCases"#, name: r#"parse label value"#, expr: r#"last(split($.label, '='))"#, doc: r#"{"label":"app=nginx"}"#, want: Want::Value(r#""nginx""#) },
    Case { source: r#"TestRealWorldUseCases"#, name: r#"check error type"#, expr: r#"hasprefix($.error, 'NotFound')"#, doc: r#"{"error":"NotFound: resource not found"}"#, want: Want::Value(r#"true"#) },
    Case { source: r#"TestRealWorldUseCases"#, name: r#"extract error type"#, expr: r#"first(split($.error, ':'))"#, doc: r#"{"error":"NotFound: resource not found"}"#, want: Want::Value(r#""NotFound""#) },
    Case { source: r#"TestRealWorldUseCases"#, name: r#"check log level"#, expr: r#"contains($.log, '[ERROR]')"#, doc: r#"{"log":"[ERROR] Failed to connect"}"#, want: Want::Value(r#"true"#) },
    // jsonpath_test.go:TestEval_issue_81
    Case { source: r#"TestEval_issue_81"#, name: r#"$..."#, expr: r#"$..."#, doc: r#"[{"a": 1, "b": 2, "c": 3}]"#, want: Want::Value(r#"[[{"a":1,"b":2,"c":3}],{"a":1,"b":2,"c":3},{"a":1,"b":2,"c":3}]"#) },  // spyzhov/ajson v0.9.6 only
    // jsonpath_test.go:TestEval_issue_81_index_corruption_in_eval
    Case { source: r#"TestEval_issue_81_index_corruption_in_eval"#, name: r#"$.foo[(last($.foo[1,2]))]"#, expr: r#"$.foo[(last($.foo[1,2]))]"#, doc: r#"{"foo": [0, 1, 2, 3, 4]}"#, want: Want::Value(r#"2"#) },  // spyzhov/ajson v0.9.6 only
];

// Rows of the same tables that are not cases here, because their input is
// a node no JSON text produces (ajson builds a Numeric node holding the
// string "foo", or a String node holding `true`, to provoke its type
// errors) or because they evaluate without any document:
//   jsonpath_test.go:TestEval / nil: Eval on a nil root node (no document)
//   math_test.go:TestOperations / left error: ==: corrupt node
//   math_test.go:TestOperations / right error: ==: corrupt node
//   math_test.go:TestOperations / left error: !=: corrupt node
//   math_test.go:TestOperations / right error: !=: corrupt node
//   math_test.go:TestOperations / left error: <: corrupt node
//   math_test.go:TestOperations / right error: <: corrupt node
//   math_test.go:TestOperations / left error: <=: corrupt node
//   math_test.go:TestOperations / right error: <=: corrupt node
//   math_test.go:TestOperations / left error: >: corrupt node
//   math_test.go:TestOperations / right error: >: corrupt node
//   math_test.go:TestOperations / left error: >=: corrupt node
//   math_test.go:TestOperations / right error: >=: corrupt node
//   math_test.go:TestOperations / error && true: corrupt node
//   math_test.go:TestOperations / error && error: corrupt node
//   math_test.go:TestOperations / error && false: corrupt node
//   math_test.go:TestOperations / false && error: corrupt node
//   math_test.go:TestOperations / true && error: corrupt node
//   math_test.go:TestOperations / error || true: corrupt node
//   math_test.go:TestOperations / error || error: corrupt node
//   math_test.go:TestOperations / error || false: corrupt node
//   math_test.go:TestOperations / false || error: corrupt node
//   math_test.go:TestOperations / true || error: corrupt node
//   math_test.go:TestFunctions2 / pow10 error: corrupt node
//   math_test.go:TestFunctions2 / factorial error: corrupt node
//   math_test.go:TestFunctions2 / abs error 1: corrupt node
//   math_test.go:TestFunctions2 / length array: corrupt node
//   math_test.go:TestFunctions2 / length string error: corrupt node
//   math_test.go:TestFunctions2 / size array: corrupt node
//   math_test.go:TestFunctions2 / avg error 1: corrupt node
//   math_test.go:TestFunctions2 / avg error 2: corrupt node
//   math_test.go:TestFunctions2 / sum error 1: corrupt node
//   math_test.go:TestFunctions2 / sum error 2: corrupt node

/// Outcome of evaluating one case with this crate, as text for the report.
fn run(case: &Case) -> Result<Value, String> {
    let doc: Value = serde_json::from_str(case.doc).map_err(|e| format!("bad document: {e}"))?;
    tinyhost_expr::eval(case.expr, &doc).map_err(|e| e.to_string())
}

/// Deep equality where numbers compare as `f64` (Go's JSON encoder writes
/// `1e+21` where this crate may keep an integer).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

/// Why a case does not match, or `None` when it does.
fn mismatch(case: &Case) -> Option<String> {
    let got = run(case);
    match (case.want, &got) {
        (Want::Error, Err(_)) => None,
        (Want::Value(text), Ok(v)) => match serde_json::from_str::<Value>(text) {
            Ok(want) if same(&want, v) => None,
            Ok(_) => Some(format!("want {text}, got {v}")),
            Err(e) => Some(format!("bad expected value {text}: {e}")),
        },
        (Want::Random { below, integer }, Ok(v)) => {
            let ok = v
                .as_f64()
                .is_some_and(|n| (0.0..below).contains(&n) && (!integer || n.fract() == 0.0));
            (!ok).then(|| format!("want a random number in [0, {below}), got {v}"))
        }
        (Want::Error, Ok(v)) => Some(format!("want an error, got {v}")),
        (_, Err(e)) => Some(format!("want {:?}, got error: {e}", case.want)),
    }
}

#[test]
fn every_upstream_case_matches() {
    let failures: Vec<String> = CASES
        .iter()
        .filter_map(|case| {
            mismatch(case).map(|why| {
                format!(
                    "{} / {}: `{}` on {}: {why}",
                    case.source, case.name, case.expr, case.doc
                )
            })
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} ajson cases do not match:\n{}",
        failures.len(),
        CASES.len(),
        failures.join("\n")
    );
}

#[test]
fn the_table_is_complete() {
    assert_eq!(CASES.len(), CASE_COUNT);
}
