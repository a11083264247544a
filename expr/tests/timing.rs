//! Rough timings, ignored by default (no assertions on speed). Run with:
//! `cargo test -p tinyhost-expr --release --test timing -- --ignored --nocapture`

use std::hint::black_box;
use std::time::Instant;

use serde_json::json;
use tinyhost_expr::{Expression, Mapping};

/// Runs `f` `iterations` times and prints the mean time per call.
fn time(label: &str, iterations: u32, mut f: impl FnMut()) {
    for _ in 0..iterations / 10 {
        f();
    }
    let start = Instant::now();
    for _ in 0..iterations {
        f();
    }
    let per_call = start.elapsed() / iterations;
    println!("{label:<48} {per_call:>10.2?} per call");
}

#[test]
#[ignore = "timing only; run explicitly with --release"]
fn timings() {
    let data = json!({
        "count": 41,
        "user": {"name": "Ada", "role": "admin"},
        "items": (0..100).map(|i| json!({"id": i, "price": i as f64 * 1.5})).collect::<Vec<_>>(),
        "target": "deployments/web",
        "request": {"body": {"a": [1, 2, 3], "b": "text"}}
    });

    // For scale: the raw work a hand-written Rust version would do.
    time("baseline: hand-written lookup + add", 2_000_000, || {
        let n = black_box(&data)
            .get("count")
            .and_then(|v| v.as_f64())
            .unwrap()
            + 1.0;
        black_box(serde_json::Value::from(n as i64));
    });

    let expr = Expression::parse("$.count + 1").unwrap();
    time("eval `$.count + 1`", 2_000_000, || {
        black_box(expr.eval(black_box(&data)).unwrap());
    });

    let expr = Expression::parse("$.user.role == 'admin'").unwrap();
    time("eval `$.user.role == 'admin'`", 2_000_000, || {
        black_box(expr.eval(black_box(&data)).unwrap());
    });

    let expr = Expression::parse("first(split($.target, '/'))").unwrap();
    time("eval `first(split($.target, '/'))`", 1_000_000, || {
        black_box(expr.eval(black_box(&data)).unwrap());
    });

    let expr = Expression::parse("length($.items[?(@.price > 100)])").unwrap();
    time("eval filter over 100 items", 100_000, || {
        black_box(expr.eval(black_box(&data)).unwrap());
    });

    let mapping = Mapping::compile(&json!({
        "body": "{{$.request.body}}",
        "greeting": "Hello {{$.user.name}}!",
        "isAdmin": "{{$.user.role == 'admin'}}",
        "next": "{{$.count + 1}}",
        "static": {"a": 1}
    }));
    time("render 5-field mapping", 500_000, || {
        black_box(mapping.render(black_box(&data)));
    });

    time("parse `$.count + 1`", 500_000, || {
        black_box(Expression::parse(black_box("$.count + 1")).unwrap());
    });
}
