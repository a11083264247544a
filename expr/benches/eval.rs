//! Edge-mapping expressions on a realistic message: each expression is parsed once (as the
//! host caches them) and evaluated per message against a ~1 KB JSON object (a user, a
//! request and an array of 10 order lines). The baseline is the same lookup written by hand,
//! for scale; the filter over 100 items and the parse cost are measured too.
//! `cargo bench -p tinyhost-expr --bench eval`; `cargo test -p tinyhost-expr --benches`
//! (or `-- --test`) runs each once (CI smoke).

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use serde_json::{Value, json};
use tinyhost_expr::{Expression, Mapping};

/// A message of about 1 KB, shaped like what flows pass around: nested objects, strings,
/// numbers and an array of 10 records.
fn message() -> Value {
    json!({
        "count": 41,
        "user": {
            "name": "Ada",
            "role": "admin",
            "email": "ada@example.com",
            "address": {"city": "London", "street": "12 St James's Square", "zip": "SW1Y 4JH"}
        },
        "target": "deployments/web",
        "request": {
            "method": "POST",
            "path": "/api/v1/orders",
            "headers": {"content-type": "application/json", "x-request-id": "7f3c9a2e-41d8-4c1b-9e57-2b8d1f0a6c33"},
            "body": {"a": [1, 2, 3], "b": "text"}
        },
        "items": (0..10)
            .map(|i| json!({
                "id": i,
                "sku": format!("SKU-{i:04}"),
                "name": format!("item number {i}"),
                "price": i as f64 * 12.5,
                "qty": i % 3 + 1
            }))
            .collect::<Vec<_>>(),
        "createdAt": "2026-11-25T18:57:53Z"
    })
}

/// The message of the old timing probe: 100 items, for the filter case.
fn hundred_items() -> Value {
    json!({
        "count": 41,
        "user": {"name": "Ada", "role": "admin"},
        "items": (0..100).map(|i| json!({"id": i, "price": i as f64 * 1.5})).collect::<Vec<_>>(),
        "target": "deployments/web",
        "request": {"body": {"a": [1, 2, 3], "b": "text"}}
    })
}

fn eval(c: &mut Criterion) {
    let data = message();
    let size = data.to_string().len();
    eprintln!("message: {size} bytes of JSON");

    let mut group = c.benchmark_group("expr on a 1 KB message");
    group.throughput(Throughput::Elements(1));

    // For scale: the raw work a hand-written Rust version of `$.count + 1` does.
    group.bench_function("baseline: hand-written lookup + add", |b| {
        b.iter(|| {
            let n = black_box(&data)
                .get("count")
                .and_then(Value::as_f64)
                .unwrap_or_default()
                + 1.0;
            black_box(Value::from(n as i64))
        })
    });

    let cases = [
        ("path lookup", "$.user.name"),
        ("deep path lookup", "$.user.address.city"),
        ("arithmetic", "$.count + 1"),
        ("string concat", "'Hello ' + $.user.name + '!'"),
        ("comparison", "$.user.role == 'admin'"),
        ("function call", "upper($.user.name)"),
        ("nested function calls", "first(split($.target, '/'))"),
        ("array index", "$.items[3].sku"),
        ("filter over 10 items", "length($.items[?(@.price > 50)])"),
        ("conditional", "$.count > 40 ? 'big' : 'small'"),
    ];
    for (label, source) in cases {
        let expression = Expression::parse(source).expect("parses");
        expression.eval(&data).expect("evaluates");
        group.bench_function(format!("eval {label}: {source}"), |b| {
            b.iter(|| black_box(expression.eval(black_box(&data))))
        });
    }

    // A template string: the literal text around an expression, as edges write greetings.
    let greeting = Mapping::compile(&json!("Hello {{$.user.name}}!"));
    assert!(greeting.parse_errors().is_empty());
    group.bench_function("render greeting template: Hello {{$.user.name}}!", |b| {
        b.iter(|| black_box(greeting.render(black_box(&data))))
    });

    // A whole edge mapping of 5 fields.
    let mapping = Mapping::compile(&json!({
        "body": "{{$.request.body}}",
        "greeting": "Hello {{$.user.name}}!",
        "isAdmin": "{{$.user.role == 'admin'}}",
        "next": "{{$.count + 1}}",
        "static": {"a": 1}
    }));
    assert!(mapping.parse_errors().is_empty());
    let rendered = mapping.render(&data);
    assert!(rendered.errors.is_empty(), "{:?}", rendered.errors);
    group.bench_function("render 5-field mapping", |b| {
        b.iter(|| black_box(mapping.render(black_box(&data))))
    });

    // Pass-through of the whole message, as most edges of a chain do (`{{$}}` copies it).
    let whole = Mapping::compile(&json!({"context": "{{$}}"}));
    group.bench_function(
        "render pass-through mapping: {\"context\": \"{{$}}\"}",
        |b| b.iter(|| black_box(whole.render(black_box(&data)))),
    );

    // Parsing, which the host does once per distinct expression (cached afterwards).
    group.bench_function("parse: $.count + 1", |b| {
        b.iter(|| black_box(Expression::parse(black_box("$.count + 1"))))
    });
    group.bench_function("compile 5-field mapping", |b| {
        let configuration = json!({
            "body": "{{$.request.body}}",
            "greeting": "Hello {{$.user.name}}!",
            "isAdmin": "{{$.user.role == 'admin'}}",
            "next": "{{$.count + 1}}",
            "static": {"a": 1}
        });
        b.iter(|| black_box(Mapping::compile(black_box(&configuration))))
    });
    group.finish();

    let mut group = c.benchmark_group("expr on 100 items");
    group.throughput(Throughput::Elements(1));
    let data = hundred_items();
    let filter = Expression::parse("length($.items[?(@.price > 100)])").expect("parses");
    filter.eval(&data).expect("evaluates");
    group.bench_function("eval filter over 100 items", |b| {
        b.iter(|| black_box(filter.eval(black_box(&data))))
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(50)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = eval
}
criterion_main!(benches);
