//! The proto file this crate compiles is the Tiny Systems module contract: the same
//! package, messages, field numbers and one service, and nothing else — a peer built
//! from upstream's file must understand every byte we send.

#[test]
fn the_proto_file_matches_the_contract() {
    let source =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/proto/module.proto"))
            .expect("proto file");
    // Statements without comments, whitespace normalised; braces split off.
    let mut clean = String::new();
    for line in source.lines() {
        let code = line.split("//").next().unwrap_or_default();
        clean.push_str(code);
        clean.push(' ');
    }
    let clean = clean.replace('{', " { ").replace('}', " } ");
    let tokens: Vec<&str> = clean.split_whitespace().collect();
    let joined = tokens.join(" ");

    assert!(joined.contains("syntax = \"proto3\";"), "{joined}");
    assert!(joined.contains("package module;"), "{joined}");

    let block = |kind: &str, name: &str| -> Vec<String> {
        let head = format!("{kind} {name} {{");
        let start = joined
            .find(&head)
            .unwrap_or_else(|| panic!("no `{head}` in {joined}"));
        let body = &joined[start + head.len()..];
        let end = body.find('}').expect("closing brace");
        body[..end]
            .split(';')
            .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
            .filter(|s| !s.is_empty())
            .collect()
    };
    assert_eq!(
        block("message", "MessageRequest"),
        [
            "string ID = 1",
            "string From = 2",
            "string To = 3",
            "bytes Payload = 4",
            "string EdgeID = 5"
        ]
    );
    assert_eq!(block("message", "MessageResponse"), ["bytes Data = 1"]);
    assert_eq!(
        block("service", "ModuleService"),
        ["rpc Message(MessageRequest) returns (MessageResponse)"]
    );
    // Nothing else is declared.
    let declarations: Vec<&str> = tokens
        .windows(2)
        .filter(|w| matches!(w[0], "message" | "service" | "enum"))
        .map(|w| w[1])
        .collect();
    assert_eq!(
        declarations,
        ["MessageRequest", "MessageResponse", "ModuleService"]
    );
}
