use tinyhost_expr::Expression;
fn nested(kind: usize, depth: usize) -> String {
    match kind {
        0 => format!("{}1{}", "(".repeat(depth), ")".repeat(depth)),
        1 => format!("{}1{}", "abs(".repeat(depth), ")".repeat(depth)),
        2 => format!("{}1", "-".repeat(depth)),
        3 => format!("{}true", "!".repeat(depth)),
        4 => format!("1{}", " + 1".repeat(depth)),
        5 => format!("2{}", " ** 2".repeat(depth)),
        6 => format!("{}1{}", "true ? ".repeat(depth), " : 0".repeat(depth)),
        7 => format!("{}1{}", "$.a[?(@.b == ".repeat(depth), ")]".repeat(depth)),
        _ => format!("{}0{}", "$.a[(".repeat(depth), ")]".repeat(depth)),
    }
}
fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(|s| s.as_str()) == Some("child") {
        let kind: usize = args[2].parse().unwrap();
        let depth: usize = args[3].parse().unwrap();
        let stack: usize = args[4].parse().unwrap();
        let h = std::thread::Builder::new().stack_size(stack).spawn(move || {
            let src = nested(kind, depth);
            let r = Expression::parse(&src);
            if let Ok(e) = r { let _ = e.eval(&serde_json::json!({"a":[{"b":1}]})); }
        }).unwrap();
        h.join().unwrap();
        return;
    }
    let depth: usize = std::env::args().nth(1).unwrap().parse().unwrap();
    for kind in 0..9 {
        let mut lo = 16 * 1024usize;
        let mut hi = 64 * 1024 * 1024usize;
        while hi - lo > 4096 {
            let mid = (lo + hi) / 2;
            let src = nested(kind, depth);
            let ok = std::process::Command::new(std::env::current_exe().unwrap())
                .args(["child", &kind.to_string(), &depth.to_string(), &mid.to_string()])
                .status().unwrap().success();
            let _ = src;
            if ok { hi = mid } else { lo = mid }
        }
        println!("kind {kind} depth {depth}: needs ~{} KiB", hi / 1024);
    }
}
