//! A gRPC hop between two modules on loopback: round-trip latency percentiles (p50, p99)
//! for a small message and a 64 KiB one, measured two ways — a raw upstream-style client
//! calling module B's node, and module A's node calling B's through an edge (A's component,
//! A's client pool, the wire, B's mapping and component, and back).
//! `cargo bench -p tinyhost --bench grpc`; `-- --test` or `cargo test --benches` runs a few
//! calls (CI smoke).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tinyhost::engine::EngineConfig;
use tinyhost::grpc::client::{ClientConfig, GrpcClient, StaticPeers};
use tinyhost::grpc::proto::MessageRequest;
use tinyhost::grpc::proto::module_service_client::ModuleServiceClient;
use tinyhost::manifest::{JsonBytes, NodeEdge, NodePort, ObjectMeta, TinyNode, TinyNodeSpec};
use tinyhost::{Runtime, RuntimeConfig};

const A: &str = "00000001.a.chaos-caller";
const B: &str = "00000002.b.chaos-echo";

fn node(name: &str, module: &str, ports: Vec<NodePort>, edges: Vec<NodeEdge>) -> TinyNode {
    TinyNode {
        metadata: ObjectMeta {
            name: name.into(),
            ..ObjectMeta::default()
        },
        spec: TinyNodeSpec {
            module: module.into(),
            component: "chaos".into(),
            ports,
            edges,
        },
    }
}

fn engine() -> EngineConfig {
    EngineConfig {
        cache_dir: Some(PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("component-cache")),
        ..EngineConfig::default()
    }
}

async fn runtime(remote: Option<Arc<dyn tinyhost::flow::remote::RemoteModules>>) -> Runtime {
    Runtime::start(RuntimeConfig {
        engine: engine(),
        components: vec![tinyhost::registry::ComponentSource::Path(PathBuf::from(
            tinyhost::guests::TESTKIT_WASM,
        ))],
        remote,
        ..RuntimeConfig::default()
    })
    .await
    .expect("runtime")
}

fn percentiles(mut samples: Vec<Duration>) -> (Duration, Duration) {
    samples.sort();
    let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize];
    (at(0.50), at(0.99))
}

fn main() {
    // `cargo bench` passes `--bench`; anything else (`cargo test --benches`, `-- --test`) is a
    // smoke run that only checks the paths work.
    let smoke =
        !std::env::args().any(|a| a == "--bench") || std::env::args().any(|a| a == "--test");
    let (warmup, samples) = if smoke { (2, 5) } else { (500, 5000) };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio");
    // Measured from a task on the runtime, as a node's call is in a module: from the
    // `block_on` thread every call would also pay two wake-ups between that thread and
    // the workers that run the connections.
    let measured = rt.spawn(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let address = listener.local_addr().expect("address").to_string();
        let b = runtime(None).await;
        b.apply(vec![node(
            B,
            "b",
            vec![NodePort {
                from: format!("{A}:out"),
                port: "in".into(),
                configuration: Some(JsonBytes(json!({"do": "echo", "value": "{{$.v}}"}))),
                ..NodePort::default()
            }],
            vec![],
        )])
        .await;
        tokio::spawn(tinyhost::grpc::server::serve(
            listener,
            b.clone(),
            None,
            std::future::pending(),
        ));
        let client = GrpcClient::new(
            Arc::new(StaticPeers::new([("b".to_string(), address.clone())])),
            ClientConfig::default(),
            None,
        );
        let a = runtime(Some(Arc::new(client))).await;
        a.apply(vec![node(
            A,
            "a",
            vec![],
            vec![NodeEdge {
                id: "to-b".into(),
                port: "out".into(),
                to: format!("{B}:in"),
                ..NodeEdge::default()
            }],
        )])
        .await;
        let mut raw = ModuleServiceClient::connect(format!("http://{address}"))
            .await
            .expect("connect");
        println!("gRPC loopback round trip ({samples} calls each)");
        // The floor: the same server's health check, no component and no mapping, so the
        // rows below show what tinyhost adds to tonic's own round trip.
        let channel = tonic::transport::Endpoint::from_shared(format!("http://{address}"))
            .expect("address")
            .connect()
            .await
            .expect("connect");
        let mut health = tonic_health::pb::health_client::HealthClient::new(channel);
        let mut measured = Vec::with_capacity(samples);
        for i in 0..warmup + samples {
            let started = Instant::now();
            health
                .check(tonic_health::pb::HealthCheckRequest::default())
                .await
                .expect("serving");
            if i >= warmup {
                measured.push(started.elapsed());
            }
        }
        let (p50, p99) = percentiles(measured);
        println!("  health check (tonic floor): p50 {p50:>10.1?}  p99 {p99:>10.1?}");
        for (label, size) in [("small", 16usize), ("64 KiB", 64 * 1024)] {
            let text: String = "x".repeat(size);
            let payload = json!({"v": text}).to_string().into_bytes();
            let mut measured = Vec::with_capacity(samples);
            for i in 0..warmup + samples {
                let started = Instant::now();
                let response = raw
                    .message(MessageRequest {
                        id: i.to_string(),
                        from: format!("{A}:out"),
                        to: format!("{B}:in"),
                        payload: payload.clone(),
                        edge_id: "to-b".into(),
                    })
                    .await
                    .expect("answer");
                if i >= warmup {
                    measured.push(started.elapsed());
                }
                assert_eq!(response.into_inner().data.len(), size + 2);
            }
            let (p50, p99) = percentiles(measured);
            println!("  raw client → B, {label:>6}: p50 {p50:>10.1?}  p99 {p99:>10.1?}");

            let message = json!({"do": "emit", "value": {"v": text}});
            let mut measured = Vec::with_capacity(samples);
            for i in 0..warmup + samples {
                let started = Instant::now();
                let reply = a.send(&format!("{A}:in"), &message).await.expect("answer");
                if i >= warmup {
                    measured.push(started.elapsed());
                }
                let echoed = reply
                    .as_ref()
                    .and_then(|r| r.get("downstream"))
                    .and_then(Value::as_str)
                    .map(str::len);
                assert_eq!(echoed, Some(size));
            }
            let (p50, p99) = percentiles(measured);
            println!("  A's node → B's node, {label:>6}: p50 {p50:>10.1?}  p99 {p99:>10.1?}");
        }
    });
    rt.block_on(measured)
        .expect("the measurement task finishes");
}
