//! Table-driven tests: every operator, function, path form and template rule.
//!
//! A case is `(source, input, expected)`. [`CASES`] are expressions evaluated
//! with `eval`; [`TEMPLATES`] are configuration strings rendered with `render`
//! (and must produce no errors). An empty input means [`DOC`].

use serde_json::{Value, json};
use tinyhost_expr::{Expression, Mapping, eval, render};

const DOC: &str = r#"{
  "store": {
    "book": [
      {"category": "reference", "author": "Nigel Rees", "title": "Sayings of the Century", "price": 8.95},
      {"category": "fiction", "author": "Evelyn Waugh", "title": "Sword of Honour", "price": 12.99},
      {"category": "fiction", "author": "Herman Melville", "title": "Moby Dick", "isbn": "0-553-21311-3", "price": 8.99},
      {"category": "fiction", "author": "J. R. R. Tolkien", "title": "The Lord of the Rings", "isbn": "0-395-19395-8", "price": 22.99}
    ],
    "bicycle": {"color": "red", "price": 19.95}
  },
  "user": {"name": "Ada", "role": "admin", "tags": ["a", "b", "c"]},
  "count": 41,
  "items": [1, 2, 3, 4, 5],
  "target": "deployments/web",
  "a b": 7,
  "nested": {"name": "top", "x": {"y": {"name": "deep"}}},
  "nums": [3, 1.5, -2],
  "empty": [],
  "obj": {"b": 1, "a": 2},
  "nil": null,
  "flag": true,
  "ts": "2024-01-01T00:00:00Z",
  "big": 12345678901234567890
}"#;

const CASES: &[(&str, &str, &str)] = &[
    // ---- JSONPath: dot / bracket access -------------------------------------
    ("$.count", "", "41"),
    ("$.user.name", "", r#""Ada""#),
    ("$['user']['name']", "", r#""Ada""#),
    (r#"$["user"]["role"]"#, "", r#""admin""#),
    (r#"$["a b"]"#, "", "7"),
    ("$[user][name]", "", r#""Ada""#),
    ("$.items[0]", "", "1"),
    ("$.items[-1]", "", "5"),
    ("$.items.0", "", "1"),
    ("$.items['1']", "", "2"),
    (
        "$.store.book[0]['title']",
        "",
        r#""Sayings of the Century""#,
    ),
    ("$", r#"{"a":1}"#, r#"{"a":1}"#),
    ("@.count", "", "41"),
    ("$.items.length", "", "5"),
    ("$.big", "", "12345678901234567890"),
    ("$.nil", "", "null"),
    // ---- JSONPath: no match -> null -----------------------------------------
    ("$.missing", "", "null"),
    ("$.missing.deeper[0]", "", "null"),
    ("$.items[10]", "", "null"),
    ("$.count.x", "", "null"),
    // ---- JSONPath: wildcards, slices, unions -------------------------------
    ("$.items[*]", "", "[1,2,3,4,5]"),
    ("$.user.*", "", r#"["Ada","admin",["a","b","c"]]"#),
    ("$.obj.*", "", "[1,2]"),
    (
        "$.store.book[*].author",
        "",
        r#"["Nigel Rees","Evelyn Waugh","Herman Melville","J. R. R. Tolkien"]"#,
    ),
    ("$.items[1:3]", "", "[2,3]"),
    ("$.items[:2]", "", "[1,2]"),
    ("$.items[::2]", "", "[1,3,5]"),
    ("$.items[::-1]", "", "[5,4,3,2,1]"),
    ("$.items[-2:]", "", "[4,5]"),
    ("$.items[1:2]", "", "2"),
    ("$.items[0,2]", "", "[1,3]"),
    ("$.items[-1,0]", "", "[5,1]"),
    ("$.user['name','role']", "", r#"["Ada","admin"]"#),
    ("$.store.book[1:3].price", "", "[12.99,8.99]"),
    ("$.store.book[-1:].author", "", r#""J. R. R. Tolkien""#),
    (
        "$.store.book[(@.length-1)].title",
        "",
        r#""The Lord of the Rings""#,
    ),
    ("$.items[1:(@.length - 1)]", "", "[2,3,4]"),
    // ---- JSONPath: filters ---------------------------------------------------
    (
        "$.store.book[?(@.price > 10)].title",
        "",
        r#"["Sword of Honour","The Lord of the Rings"]"#,
    ),
    (
        "$.store.book[?(@.category == 'fiction' && @.price < 10)].author",
        "",
        r#""Herman Melville""#,
    ),
    (
        "$.store.book[?(@.isbn)].title",
        "",
        r#"["Moby Dick","The Lord of the Rings"]"#,
    ),
    ("$.items[?(@ > 2)]", "", "[3,4,5]"),
    ("$.user.tags[?(@ == 'b')]", "", r#""b""#),
    ("$.store.book[?(@.price > 100)]", "", "null"),
    (
        "$.store.book[?(@.price < $.store.bicycle.price)].price",
        "",
        "[8.95,12.99,8.99]",
    ),
    ("length($.store.book[?(@.category == 'fiction')])", "", "3"),
    // ---- JSONPath: recursive descent -----------------------------------------
    ("$.nested..name", "", r#"["top","deep"]"#),
    ("$.store..price", "", "[19.95,8.95,12.99,8.99,22.99]"),
    ("$..color", "", r#""red""#),
    ("$.nested..y", "", r#"{"name":"deep"}"#),
    (
        "$.user..*",
        "",
        r#"["Ada","admin",["a","b","c"],"a","b","c"]"#,
    ),
    // ---- literals and constants ----------------------------------------------
    ("42", "", "42"),
    ("-1.25", "", "-1.25"),
    ("1e3", "", "1000"),
    ("'admin'", "", r#""admin""#),
    (r#"'it\'s'"#, "", r#""it's""#),
    (r#""double""#, "", r#""double""#),
    (r#"'tab\there'"#, "", r#""tab\there""#),
    ("true", "", "true"),
    ("false", "", "false"),
    ("null", "", "null"),
    ("pi", "", "3.141592653589793"),
    ("e", "", "2.718281828459045"),
    ("TRUE", "", "true"),
    // ---- arithmetic --------------------------------------------------------------
    ("1 + 2", "", "3"),
    ("$.count + 1", "", "42"),
    ("10 - 3 - 2", "", "5"),
    ("2 * 3", "", "6"),
    ("7 / 2", "", "3.5"),
    ("7 % 3", "", "1"),
    ("-7 % 3", "", "-1"),
    ("2 ** 10", "", "1024"),
    ("2 ** 3 ** 2", "", "512"),
    ("-2 ** 2", "", "4"),
    ("1 << 4", "", "16"),
    ("256 >> 2", "", "64"),
    ("6 & 3", "", "2"),
    ("6 | 3", "", "7"),
    ("6 ^ 3", "", "5"),
    ("6 &^ 3", "", "4"),
    ("0.1 + 0.2", "", "0.30000000000000004"),
    ("-$.count", "", "-41"),
    ("+$.count", "", "41"),
    // ---- precedence ----------------------------------------------------------------
    ("1 + 2 * 3", "", "7"),
    ("(1 + 2) * 3", "", "9"),
    ("2 * 3 ** 2", "", "18"),
    ("10 - 4 / 2", "", "8"),
    ("1 + 6 & 3", "", "3"),
    ("1 + 2 == 3", "", "true"),
    ("1 == 1 && 2 == 3 || true", "", "true"),
    ("false || 1 == 1 && false", "", "false"),
    ("1 < 2 == true", "", "true"),
    // ---- comparisons ---------------------------------------------------------------
    ("1 < 2", "", "true"),
    ("2 <= 2", "", "true"),
    ("3 > 4", "", "false"),
    ("4 >= 5", "", "false"),
    ("'abc' < 'abd'", "", "true"),
    ("$.user.role == 'admin'", "", "true"),
    ("$.user.role != 'admin'", "", "false"),
    ("null == null", "", "true"),
    ("$.missing == null", "", "true"),
    ("$.nil == null", "", "true"),
    ("$.nil != null", "", "false"),
    ("1 == '1'", "", "false"),
    ("1 < 'a'", "", "false"),
    ("true == true", "", "true"),
    ("true != false", "", "true"),
    ("$.user.tags == $.user.tags", "", "true"),
    ("$.obj == $.obj", "", "true"),
    ("$.obj == $.user", "", "false"),
    ("reverse(reverse($.items)) == $.items", "", "true"),
    ("split('a,b,c', ',') == $.user.tags", "", "true"),
    ("$.count == 41.0", "", "true"),
    ("$.user.name =~ '^A'", "", "true"),
    ("$.user.name =~ 'z'", "", "false"),
    // ---- logic and ternary --------------------------------------------------------
    ("!true", "", "false"),
    ("!$.missing", "", "true"),
    ("!!'x'", "", "true"),
    ("true && 'x'", "", "true"),
    ("$.empty || 0", "", "false"),
    ("$.missing && (1 / 0)", "", "false"),
    ("$.count > 40 ? 'big' : 'small'", "", r#""big""#),
    ("$.count > 50 ? 'big' : 'small'", "", r#""small""#),
    ("false ? 1 : true ? 2 : 3", "", "2"),
    ("1 > 2 ? 'a' : 'b' + 'c'", "", r#""bc""#),
    (
        "$.flag ? $.user : null",
        "",
        r#"{"name":"Ada","role":"admin","tags":["a","b","c"]}"#,
    ),
    // ---- strings -------------------------------------------------------------------
    ("'a' + 'b'", "", r#""ab""#),
    // `+` does not convert (as in ajson): other values go through string().
    ("'n=' + string(5)", "", r#""n=5""#),
    ("string(1.5) + 'x'", "", r#""1.5x""#),
    (
        "'tags: ' + string($.user.tags)",
        "",
        r#""tags: [\"a\",\"b\",\"c\"]""#,
    ),
    // ---- functions: math ----------------------------------------------------------
    ("abs(-3)", "", "3"),
    ("ABS(-3)", "", "3"),
    ("ceil(1.2)", "", "2"),
    ("floor(-1.2)", "", "-2"),
    ("round(2.5)", "", "3"),
    ("round(-2.5)", "", "-3"),
    ("round(2.4)", "", "2"),
    ("sqrt(16)", "", "4"),
    ("pow10(3)", "", "1000"),
    ("log(e)", "", "1"),
    ("exp(0)", "", "1"),
    ("factorial(5)", "", "120"),
    ("factorial(0)", "", "1"),
    // ---- functions: collections --------------------------------------------------
    ("length($.items)", "", "5"),
    ("length('héllo')", "", "5"),
    ("length($.user)", "", "1"),
    ("length($.missing)", "", "0"),
    ("size($.user)", "", "3"),
    ("size($.items)", "", "5"),
    ("size('abc')", "", "0"),
    ("avg($.items)", "", "3"),
    ("avg($.empty)", "", "0"),
    ("sum($.items)", "", "15"),
    ("sum($.nums)", "", "2.5"),
    ("sum($.store.book[*].price) > 50", "", "true"),
    ("first($.items)", "", "1"),
    ("last($.items)", "", "5"),
    ("first($.empty)", "", "null"),
    ("first($.store.book[*].author)", "", r#""Nigel Rees""#),
    ("not(true)", "", "false"),
    ("not(0)", "", "true"),
    ("contains($.items, 3)", "", "true"),
    ("contains($.items, 9)", "", "false"),
    ("contains($.user.tags, 'c')", "", "true"),
    ("reverse($.items)", "", "[5,4,3,2,1]"),
    ("index($.user.tags, 'b')", "", "1"),
    // ---- functions: strings ---------------------------------------------------------
    ("b64encode('hello')", "", r#""aGVsbG8=""#),
    ("b64decode('aGVsbG8=')", "", r#""hello""#),
    ("b64decode('aGVsbG8')", "", r#""hello""#),
    ("upper('abc')", "", r#""ABC""#),
    ("lower('ABC')", "", r#""abc""#),
    ("trim('  x  ')", "", r#""x""#),
    ("reverse('abc')", "", r#""cba""#),
    ("split('a/b/c', '/')", "", r#"["a","b","c"]"#),
    ("split('abc', '')", "", r#"["a","b","c"]"#),
    ("join($.user.tags, '-')", "", r#""a-b-c""#),
    ("join(split('1,2,3', ','), ', ')", "", r#""1, 2, 3""#),
    ("contains('hello', 'ell')", "", "true"),
    ("contains('hello', 'xyz')", "", "false"),
    ("hasprefix('hello', 'he')", "", "true"),
    ("hasprefix('hello', 'lo')", "", "false"),
    ("hassuffix('hello', 'lo')", "", "true"),
    ("replace('a-b-c', '-', '+')", "", r#""a+b+c""#),
    ("substr('hello', 1, 3)", "", r#""ell""#),
    ("substr('hello', 2)", "", r#""llo""#),
    ("substr('hello', -3, 2)", "", r#""ll""#),
    ("substr('hello', 10)", "", r#""""#),
    ("index('hello', 'l')", "", "2"),
    ("index('hello', 'z')", "", "-1"),
    ("first(split($.target, '/'))", "", r#""deployments""#),
    ("last(split($.target, '/'))", "", r#""web""#),
    ("upper($.missing)", "", "null"),
    (
        "hasprefix($.target, 'deploy') ? 'yes' : 'no'",
        "",
        r#""yes""#,
    ),
    ("string(42)", "", r#""42""#),
    ("string(1.5)", "", r#""1.5""#),
    ("string(true)", "", r#""true""#),
    ("string($.user.tags)", "", r#""[\"a\",\"b\",\"c\"]""#),
    ("string('s')", "", r#""s""#),
    // ---- functions: time and randomness --------------------------------------------
    ("RFC3339(0)", "", r#""1970-01-01T00:00:00Z""#),
    ("rfc3339(1704067200)", "", r#""2024-01-01T00:00:00Z""#),
    (
        "RFC3339('2024-01-01T02:00:00+02:00')",
        "",
        r#""2024-01-01T02:00:00+02:00""#,
    ),
    (
        "RFC3339('2024-01-01T00:00:00.5Z')",
        "",
        r#""2024-01-01T00:00:00Z""#,
    ),
    ("now() > 1700000000", "", "true"),
    ("now() == floor(now())", "", "true"),
    ("length(RFC3339()) == 20", "", "true"),
    ("rand() >= 0 && rand() < 1", "", "true"),
    ("rand(5) < 5", "", "true"),
    ("randint(1)", "", "0"),
    ("randint(10) < 10", "", "true"),
    // ---- time arithmetic ------------------------------------------------------------
    (
        "'2024-01-01T00:00:00Z' + '1h30m'",
        "",
        r#""2024-01-01T01:30:00Z""#,
    ),
    ("$.ts + '300ms'", "", r#""2024-01-01T00:00:00Z""#),
    ("$.ts - '1m'", "", r#""2023-12-31T23:59:00Z""#),
    ("'1.5h' + $.ts", "", r#""2024-01-01T01:30:00Z""#),
    ("$.ts + '-1m'", "", r#""2023-12-31T23:59:00Z""#),
    (
        "'2024-01-01T00:00:00+02:00' + '2h45m'",
        "",
        r#""2024-01-01T02:45:00+02:00""#,
    ),
    (
        "'2024-02-28T23:00:00Z' + '2h'",
        "",
        r#""2024-02-29T01:00:00Z""#,
    ),
    ("'1h' + '30m'", "", r#""5400s""#),
    ("'1h' - '30m'", "", r#""1800s""#),
    (
        "'2024-01-02T01:30:00Z' - '2024-01-01T00:00:00Z'",
        "",
        r#""25h30m0s""#,
    ),
    (
        "'2024-01-01T00:00:00Z' - '2024-01-01T00:00:01.5Z'",
        "",
        r#""-1.5s""#,
    ),
];

/// Templates, rendered as a configuration string with `render`.
const TEMPLATES: &[(&str, &str, &str)] = &[
    (
        "{{$.request.body}}",
        r#"{"request":{"body":{"x":[1,2]}}}"#,
        r#"{"x":[1,2]}"#,
    ),
    ("Hello {{$.user.name}}!", "", r#""Hello Ada!""#),
    ("{{ $.count }}", "", "41"),
    ("{{$.count + 1}}", "", "42"),
    ("{{$.user.role == 'admin'}}", "", "true"),
    ("{{$.flag}}", "", "true"),
    ("{{$.missing}}", "", "null"),
    ("{{first(split($.target, '/'))}}", "", r#""deployments""#),
    ("Count: {{$.count + 1}}", "", r#""Count: 42""#),
    ("[{{$.missing}}]", "", r#""[]""#),
    ("x{{$.nil}}y", "", r#""xy""#),
    ("n={{7 / 2}}", "", r#""n=3.5""#),
    ("n={{$.count * 1.0}}", "", r#""n=41""#),
    ("is {{$.flag}}", "", r#""is true""#),
    ("tags={{$.user.tags}}", "", r#""tags=[\"a\",\"b\",\"c\"]""#),
    (
        "u={{$.user}}",
        "",
        r#""u={\"name\":\"Ada\",\"role\":\"admin\",\"tags\":[\"a\",\"b\",\"c\"]}""#,
    ),
    ("{{$.a}}-{{$.b}}", r#"{"a":1,"b":"x"}"#, r#""1-x""#),
    (" {{$.count}}", "", r#"" 41""#),
    ("{{$.big}} items", "", r#""12345678901234567890 items""#),
    ("{{1e21}}", "", "1e21"),
    ("v={{1e21}}", "", r#""v=1e+21""#),
    ("{{}}", "", r#""{{}}""#),
    ("no close {{ here", "", r#""no close {{ here""#),
    ("$18.99", "", r#""$18.99""#),
    ("Save $5", "", r#""Save $5""#),
    ("plain text", "", r#""plain text""#),
];

fn input(text: &str) -> Value {
    let text = if text.is_empty() { DOC } else { text };
    serde_json::from_str(text).unwrap_or_else(|e| panic!("bad input JSON {text}: {e}"))
}

#[test]
fn table() {
    assert!(
        CASES.len() + TEMPLATES.len() >= 120,
        "only {} cases",
        CASES.len() + TEMPLATES.len()
    );
    let mut failures = Vec::new();
    let cases = CASES.iter().map(|c| (false, c));
    let templates = TEMPLATES.iter().map(|c| (true, c));
    for (is_template, (source, data, expected)) in cases.chain(templates) {
        let data = input(data);
        let expected: Value = serde_json::from_str(expected)
            .unwrap_or_else(|e| panic!("bad expected JSON for {source}: {e}"));
        let got = if is_template {
            let out = render(&Value::String((*source).to_string()), &data);
            if !out.errors.is_empty() {
                failures.push(format!("{source}: unexpected errors {:?}", out.errors));
                continue;
            }
            out.value
        } else {
            match eval(source, &data) {
                Ok(v) => v,
                Err(e) => {
                    failures.push(format!("{source}: error {e}"));
                    continue;
                }
            }
        };
        if got != expected {
            failures.push(format!("{source}: got {got}, expected {expected}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} failing case(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// `(expression, input, character position, message fragment)`.
const ERRORS: &[(&str, &str, usize, &str)] = &[
    ("1 +", "", 3, "unexpected end"),
    ("(1 + 2", "", 6, "expected ')'"),
    ("1 2", "", 2, "unexpected '2'"),
    ("foo(1)", "", 0, "unknown function"),
    ("unknownconst + 1", "", 0, "unknown constant"),
    ("1 / 0", "", 2, "division by zero"),
    ("$.count / 0", "", 8, "division by zero"),
    ("5 % 0", "", 2, "division by zero"),
    ("'abc", "", 0, "unterminated"),
    ("1 = 1", "", 2, "=="),
    ("split('a')", "", 0, "takes 2 arguments"),
    ("upper(1)", "", 0, "expects a string"),
    ("abs('x')", "", 0, "expects a number"),
    ("1.5 % 1", "", 4, "integers"),
    ("true < false", "", 5, "cannot order"),
    ("$.items[", "", 7, "unclosed"),
    ("$.items[::0]", "", 10, "zero"),
    ("'a' - 'b'", "", 4, "operator '-'"),
    ("'a' * 2", "", 4, "expects numbers"),
    ("factorial(-1)", "", 0, "non-negative"),
    ("factorial(171)", "", 0, "too large"),
    ("randint(0)", "", 0, "positive"),
    ("'a' =~ '('", "", 7, "regular expression"),
    ("'éé' +", "", 6, "unexpected end"),
    (
        "$.store.book[?(@.price / 0 > 1)]",
        "",
        23,
        "division by zero",
    ),
    ("sqrt(-1)", "", 0, "not a finite number"),
    ("-'a'", "", 0, "unary '-'"),
    ("!", "", 1, "unexpected end"),
    ("1 ? 2", "", 5, "expected ':'"),
    ("abs", "", 0, "must be called"),
    ("substr('abc', 1.5)", "", 0, "integer"),
    ("$.a[1.5]", "", 4, "integer"),
    ("'x' =~ 1", "", 7, "string pattern"),
    ("$.ts + 1h", "", 8, "unexpected 'h'"),
    ("", "", 0, "empty"),
    ("   ", "", 3, "empty"),
    // `+` takes two numbers or two strings, as in ajson.
    (
        "'X' + 2",
        "",
        4,
        "two numbers or two strings, got string and number",
    ),
    ("'n=' + 5", "", 5, "convert with string(...)"),
    ("1.5 + 'x'", "", 4, "got number and string"),
    ("'x' + $.missing", "", 4, "got string and null"),
    ("'tags: ' + $.user.tags", "", 9, "got string and array"),
    ("true + 1", "", 5, "got bool and number"),
    // A sign belongs to a number, not to another sign.
    ("++2", "", 1, "unexpected '+' after unary '+'"),
    ("--2", "", 1, "unexpected '-' after unary '-'"),
    ("- - 3", "", 2, "unexpected '-' after unary '-'"),
    ("-+1", "", 1, "unexpected '+' after unary '-'"),
    ("1 + +-2", "", 5, "unexpected '-' after unary '+'"),
    // join() and contains() on strings take strings only.
    (
        "join($.items, ', ')",
        "",
        0,
        "array of strings, element 0 is number",
    ),
    (
        "join($.user.tags, 1)",
        "",
        0,
        "join() expects a string, got number",
    ),
    (
        "join('abc', ',')",
        "",
        0,
        "join() expects an array of strings, got string",
    ),
    (
        "contains('hello', 1)",
        "",
        0,
        "string to look for in a string, got number",
    ),
    (
        "contains(123, '1')",
        "",
        0,
        "contains() expects a string, an array or an object",
    ),
];

#[test]
fn errors() {
    let mut failures = Vec::new();
    for (source, data, position, fragment) in ERRORS {
        match eval(source, &input(data)) {
            Ok(v) => failures.push(format!("{source}: expected an error, got {v}")),
            Err(e) => {
                if e.position != *position
                    || !e.message.contains(fragment)
                    || e.expression != *source
                {
                    failures.push(format!(
                        "{source}: got `{}` at {}, expected `{fragment}` at {position}",
                        e.message, e.position
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn error_display_names_expression_and_position() {
    let err = eval("1 / 0", &json!({})).unwrap_err();
    assert_eq!(err.to_string(), "division by zero at position 2 in `1 / 0`");
}

#[test]
fn interpolation_errors_leave_text_in_place() {
    let data = input("");
    let out = render(&json!("Hello {{$.x +}}!"), &data);
    assert_eq!(out.value, json!("Hello {{$.x +}}!"));
    assert_eq!(out.errors.len(), 1);
    assert_eq!(out.errors[0].expression, "$.x +");
    assert_eq!(out.errors[0].position, 5);

    let out = render(&json!("a {{1/0}} b {{ 2 }}"), &data);
    assert_eq!(out.value, json!("a {{1/0}} b 2"));
    assert_eq!(out.errors.len(), 1);
    assert_eq!(out.errors[0].message, "division by zero");
    assert_eq!(out.errors[0].position, 1);

    let out = render(&json!("x {{sqrt(-1)}}"), &data);
    assert_eq!(out.value, json!("x {{sqrt(-1)}}"));
    assert_eq!(out.errors.len(), 1);
}

#[test]
fn typed_errors_render_null() {
    let data = input("");
    let out = render(&json!({"a": "{{1/0}}", "b": "{{ }}", "c": 1}), &data);
    assert_eq!(out.value, json!({"a": null, "b": null, "c": 1}));
    assert_eq!(out.errors.len(), 2);
    assert_eq!(out.errors[1].message, "expression is empty");
}

#[test]
fn mapping_renders_objects_and_arrays_recursively() {
    let config = json!({
        "body": "{{$.request.body}}",
        "statusCode": 200,
        "greeting": "Hello {{$.user.name}}!",
        "isAdmin": "{{$.user.role == 'admin'}}",
        "price": "$18.99",
        "list": ["{{$.a}}", "static", 3, {"deep": "{{$.a * 2}}"}],
        "untouched": {"x": [1, {"y": null}]},
        "flag": false
    });
    let data =
        json!({"request": {"body": "raw"}, "user": {"name": "Ada", "role": "user"}, "a": 21});
    let mapping = Mapping::compile(&config);
    assert!(mapping.parse_errors().is_empty());
    assert!(!mapping.is_empty());
    let out = mapping.render(&data);
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    assert_eq!(
        out.value,
        json!({
            "body": "raw",
            "statusCode": 200,
            "greeting": "Hello Ada!",
            "isAdmin": false,
            "price": "$18.99",
            "list": [21, "static", 3, {"deep": 42}],
            "untouched": {"x": [1, {"y": null}]},
            "flag": false
        })
    );
    // Key order is preserved.
    let keys: Vec<&String> = out.value.as_object().unwrap().keys().collect();
    assert_eq!(keys[0], "body");
    assert_eq!(keys[7], "flag");
}

#[test]
fn mapping_keeps_parse_errors_and_reports_them_on_render() {
    let mapping =
        Mapping::compile(&json!({"a": "{{1 +}}", "b": "x {{ foo( }} y", "c": "{{$.ok}}"}));
    assert_eq!(mapping.parse_errors().len(), 2);
    assert_eq!(mapping.parse_errors()[0].expression, "1 +");
    let out = mapping.render(&json!({"ok": 1}));
    assert_eq!(out.value, json!({"a": null, "b": "x {{ foo( }} y", "c": 1}));
    assert_eq!(out.errors.len(), 2);
}

#[test]
fn empty_mappings() {
    assert!(Mapping::compile(&Value::Null).is_empty());
    assert!(Mapping::compile(&json!({})).is_empty());
    assert!(!Mapping::compile(&json!({"a": 1})).is_empty());
    assert!(!Mapping::compile(&json!("x")).is_empty());
    assert_eq!(
        Mapping::compile(&Value::Null)
            .render(&json!({"a": 1}))
            .value,
        Value::Null
    );
}

#[test]
fn expression_api() {
    let expr = Expression::parse("$.count + 1").unwrap();
    assert_eq!(expr.source(), "$.count + 1");
    assert_eq!(expr.eval(&json!({"count": 1})).unwrap(), json!(2));
    assert_eq!(expr.eval(&json!({"count": 2.5})).unwrap(), json!(3.5));
    let copy = expr.clone();
    let handle = std::thread::spawn(move || copy.eval(&json!({"count": 9})).unwrap());
    assert_eq!(handle.join().unwrap(), json!(10));
    let err = Expression::parse("$.count +").unwrap_err();
    assert_eq!(err.expression, "$.count +");
    assert_eq!(err.position, 9);
}

#[test]
fn integral_results_are_integers() {
    let v = eval("3.0 * 2", &json!({})).unwrap();
    assert!(v.is_i64(), "{v:?}");
    let v = eval("1 / 4", &json!({})).unwrap();
    assert!(v.is_f64());
    assert_eq!(v, json!(0.25));
}
