//! A wasm_eval program in Rust (language `rust`; `serde_json` is available). The request's
//! inputData arrives as JSON on standard input; the JSON written to standard output becomes
//! outputData. Exiting with a non-zero status (or panicking) sends the request to the error
//! port with the end of standard error as the message.

use std::io::Read;
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut text = String::new();
    if let Err(e) = std::io::stdin().read_to_string(&mut text) {
        eprintln!("cannot read inputData: {e}");
        return ExitCode::FAILURE;
    }
    let input: serde_json::Value = match serde_json::from_str(&text) {
        Ok(value) => value,
        Err(e) => {
            eprintln!("inputData is not JSON: {e}");
            return ExitCode::FAILURE;
        }
    };
    let name = input["name"].as_str().unwrap_or("world");
    println!("{}", serde_json::json!({ "greeting": format!("Hello, {name}!") }));
    ExitCode::SUCCESS
}
