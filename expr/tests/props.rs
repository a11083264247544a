//! Property tests: no input may panic or overflow the stack.
//!
//! * arbitrary strings (random and expression-shaped) parse without panicking,
//!   and whatever parses evaluates without panicking;
//! * arbitrary templates render against arbitrary JSON without panicking;
//! * deep nesting of every kind is rejected with an error, while nesting just
//!   under the limit still evaluates.

use proptest::prelude::*;
use serde_json::{Value, json};
use tinyhost_expr::{Expression, Mapping, eval, render};

/// Arbitrary JSON values (small, with keys drawn from `a`..`c` so that
/// generated paths actually hit something).
fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        (-1e6f64..1e6).prop_map(|f| json!(f)),
        Just(json!(0)),
        "[a-c0-9 /:TZ-]{0,10}".prop_map(Value::String),
        Just(json!("2024-01-01T00:00:00Z")),
        Just(json!("1h30m")),
    ];
    leaf.prop_recursive(5, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec(("[a-c]", inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// Expression-shaped strings built from a small grammar.
fn arb_expr() -> impl Strategy<Value = String> {
    let atom = prop_oneof![
        Just("$".to_string()),
        Just("@".to_string()),
        "[$@](\\.[a-c*]|\\[[-0-9]\\]|\\[\\*\\]|\\.\\.[a-c]|\\[[0-9]?:[0-9]?(:-?[0-9])?\\]|\\['[a-c]','[a-c]'\\]){0,4}",
        "-?[0-9]{1,3}(\\.[0-9]{1,2})?",
        "'[a-c0-9 /:TZ-]{0,8}'",
        Just("'2024-01-01T00:00:00Z'".to_string()),
        Just("'90m'".to_string()),
        Just("null".to_string()),
        Just("true".to_string()),
        Just("pi".to_string()),
        Just("now()".to_string()),
        Just("rand()".to_string()),
    ];
    atom.prop_recursive(4, 24, 3, |inner| {
        let op = prop::sample::select(vec![
            "+", "-", "*", "/", "%", "**", "<<", ">>", "&", "&^", "|", "^", "==", "!=", "<", "<=",
            ">", ">=", "&&", "||", "=~",
        ]);
        let func1 = prop::sample::select(vec![
            "abs",
            "ceil",
            "floor",
            "round",
            "sqrt",
            "pow10",
            "log",
            "exp",
            "length",
            "size",
            "avg",
            "sum",
            "first",
            "last",
            "not",
            "factorial",
            "randint",
            "b64encode",
            "b64decode",
            "upper",
            "lower",
            "trim",
            "reverse",
            "string",
            "RFC3339",
            "is_int",
        ]);
        let func2 = prop::sample::select(vec![
            "split",
            "join",
            "contains",
            "hasprefix",
            "hassuffix",
            "substr",
            "index",
        ]);
        prop_oneof![
            (inner.clone(), op, inner.clone()).prop_map(|(a, o, b)| format!("{a} {o} {b}")),
            inner.clone().prop_map(|a| format!("({a})")),
            inner.clone().prop_map(|a| format!("-{a}")),
            inner.clone().prop_map(|a| format!("!{a}")),
            (func1, inner.clone()).prop_map(|(f, a)| format!("{f}({a})")),
            (func2, inner.clone(), inner.clone()).prop_map(|(f, a, b)| format!("{f}({a}, {b})")),
            (inner.clone(), inner.clone(), inner.clone())
                .prop_map(|(a, b, c)| format!("replace({a}, {b}, {c})")),
            (inner.clone(), inner.clone(), inner.clone())
                .prop_map(|(a, b, c)| format!("{a} ? {b} : {c}")),
            ("[$@](\\.[a-c])?", inner.clone()).prop_map(|(p, a)| format!("{p}[?({a})]")),
            ("[$@](\\.[a-c])?", inner.clone()).prop_map(|(p, a)| format!("{p}[({a})]")),
        ]
    })
}

/// Templates mixing text and `{{…}}` pieces (well-formed or not).
fn arb_template() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        "[a-z $.{}]{0,6}",
        arb_expr().prop_map(|e| format!("{{{{{e}}}}}")),
        arb_expr().prop_map(|e| format!("{{{{ {e} }}}}")),
        ".{0,12}".prop_map(|e| format!("{{{{{e}}}}}")),
    ];
    prop::collection::vec(piece, 0..4).prop_map(|parts| parts.concat())
}

/// Number of cases per property (`PROPTEST_CASES` overrides the default 512).
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(512)
}

proptest! {
    // 512 cases by default; set PROPTEST_CASES for a longer search.
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn parsing_arbitrary_strings_never_panics(s in ".{0,80}") {
        if let Ok(expr) = Expression::parse(&s) {
            let _ = expr.eval(&json!({"a": [1, {"b": "c"}]}));
        }
    }

    #[test]
    fn parsing_expression_like_strings_never_panics(
        s in "[-$@.\\[\\]()?:'\"a-c0-9 *+/%<>=!&|^,{}eE]{0,80}"
    ) {
        if let Ok(expr) = Expression::parse(&s) {
            let _ = expr.eval(&json!({"a": [1, 2, {"b": "c"}], "b": {"c": null}}));
        }
    }

    #[test]
    fn evaluating_generated_expressions_never_panics(e in arb_expr(), data in arb_json()) {
        if let Ok(expr) = Expression::parse(&e)
            && let Err(err) = expr.eval(&data)
        {
            // Errors point inside the expression.
            prop_assert!(err.position <= e.chars().count());
            prop_assert_eq!(err.expression.as_str(), e.as_str());
        }
    }

    #[test]
    fn rendering_arbitrary_templates_never_panics(t in arb_template(), data in arb_json()) {
        let config = json!({"value": t.clone(), "list": [t.clone(), 1, null], "nested": {"x": t}});
        let mapping = Mapping::compile(&config);
        let out = mapping.render(&data);
        prop_assert!(out.value.is_object());
        prop_assert!(out.errors.len() >= mapping.parse_errors().len());
    }

    #[test]
    fn rendering_arbitrary_json_configurations_never_panics(config in arb_json(), data in arb_json()) {
        let out = render(&config, &data);
        // Without any `{{` the configuration comes back unchanged.
        if !config.to_string().contains("{{") {
            prop_assert_eq!(out.value, config);
        }
    }

    #[test]
    fn deep_nesting_is_an_error(depth in 257usize..4000, kind in 0usize..9) {
        let src = nested(kind, depth);
        let err = Expression::parse(&src);
        prop_assert!(err.is_err(), "kind {} depth {} parsed", kind, depth);
    }
}

/// Builds an expression nested `depth` levels deep in one of several ways.
fn nested(kind: usize, depth: usize) -> String {
    match kind {
        0 => format!("{}1{}", "(".repeat(depth), ")".repeat(depth)),
        1 => format!("{}1{}", "abs(".repeat(depth), ")".repeat(depth)),
        // Alternating, since a sign may not follow a sign (`--1` is an error).
        2 => format!("{}1", "-!".repeat(depth.div_ceil(2))),
        3 => format!("{}true", "!".repeat(depth)),
        4 => format!("1{}", " + 1".repeat(depth)),
        5 => format!("2{}", " ** 2".repeat(depth)),
        6 => format!("{}1{}", "true ? ".repeat(depth), " : 0".repeat(depth)),
        7 => format!("{}1{}", "$.a[?(@.b == ".repeat(depth), ")]".repeat(depth)),
        _ => format!("{}0{}", "$.a[(".repeat(depth), ")]".repeat(depth)),
    }
}

#[test]
fn very_deep_nesting_is_an_error_not_a_stack_overflow() {
    for kind in 0..9 {
        let src = nested(kind, 100_000);
        let err = Expression::parse(&src).expect_err("must be rejected");
        assert!(
            err.message.contains("nested too deeply"),
            "kind {kind}: {}",
            err.message
        );
    }
    // Unbalanced openers only.
    for opener in ["(", "[", "$[", "$.a[?(", "abs(", "{{", "'"] {
        let src = opener.repeat(100_000);
        assert!(Expression::parse(&src).is_err(), "{opener}");
    }
    // The same inside a template.
    let out = render(
        &json!(format!("{{{{{}}}}}", "(".repeat(100_000))),
        &json!({}),
    );
    assert_eq!(out.value, Value::Null);
    assert_eq!(out.errors.len(), 1);
}

#[test]
fn nesting_just_under_the_limit_still_evaluates() {
    // Run on a thread with a modest stack (half the usual 2 MiB) to show
    // there is headroom even in unoptimised builds.
    let worker = std::thread::Builder::new()
        .stack_size(1024 * 1024)
        .spawn(|| {
            let data = json!({"a": [{"b": 1}], "n": 2});
            for kind in 0..9 {
                // Scripts inside paths count double, so they allow half the depth.
                let depth = if kind >= 7 { 126 } else { 250 };
                let src = nested(kind, depth);
                let expr = Expression::parse(&src)
                    .unwrap_or_else(|e| panic!("kind {kind} should parse: {e}"));
                let _ = expr.eval(&data);
            }
            let src = format!("{}$.n{}", "abs(-(".repeat(80), "))".repeat(80));
            eval(&src, &data)
        })
        .expect("spawn");
    assert_eq!(
        worker.join().expect("no overflow").expect("evaluates"),
        json!(2)
    );
}

#[test]
fn deeply_nested_documents_are_handled() {
    // A 2000-level deep document built programmatically (serde's parser stops at 128).
    let mut doc = json!({"x": 1});
    for _ in 0..2000 {
        doc = Value::Object(std::iter::once(("a".to_string(), doc)).collect());
    }
    let found = eval("$..x", &doc).expect("descends iteratively");
    assert_eq!(found, json!(1));
    // Deep equality is bounded and reports an error instead of recursing forever.
    assert!(eval("$.a == $.a", &doc).is_err());
    let shallow = json!({"a": {"b": [1, {"c": 2}]}});
    assert_eq!(eval("$.a == $.a", &shallow).unwrap(), json!(true));
    // Drop the deep document iteratively to keep the test itself safe.
    let mut cur = doc;
    while let Value::Object(mut m) = cur {
        cur = m.remove("a").unwrap_or(Value::Null);
    }
}
