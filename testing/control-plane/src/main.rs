//! `control-plane`: the tests' Kubernetes control plane for a person to use.
//!
//! ```sh
//! cargo run -p tinyhost-control-plane -- up     # builds once, starts, prints KUBECONFIG=…
//! export KUBECONFIG=…; "$(cargo run -q -p tinyhost-control-plane -- tool kubectl)" get ns
//! cargo run -p tinyhost-control-plane -- down   # stops it and removes its files
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use tinyhost_control_plane::{ControlPlane, Options, home, tools};

fn default_run_dir() -> PathBuf {
    home().join("run")
}

fn usage() -> ExitCode {
    eprintln!(
        "usage: control-plane up [--dir DIR] | down [--dir DIR] | tool kubectl|helm|etcd|kube-apiserver\n\n  up    build (once) and start etcd and kube-apiserver on loopback; prints KUBECONFIG=…\n  down  stop them and remove their files\n  tool  print the path of a built program\n\n  --dir  where the servers' files and logs go (default: target/control-plane/run)"
    );
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["up"] => up(default_run_dir()),
        ["up", "--dir", dir] => up(PathBuf::from(dir)),
        ["down"] => down(default_run_dir()),
        ["down", "--dir", dir] => down(PathBuf::from(dir)),
        ["tool", name] => tool(name),
        _ => return usage(),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn up(dir: PathBuf) -> Result<(), String> {
    if dir.join("pids").exists() {
        return Err(format!(
            "a control plane already runs from {} (`control-plane down` stops it)",
            dir.display()
        ));
    }
    let plane = ControlPlane::start_with(Options {
        dir: Some(dir.clone()),
        detached: true,
        ..Options::default()
    })
    .map_err(|e| e.to_string())?;
    let kubeconfig = plane.kubeconfig().to_path_buf();
    let server = plane.server();
    let (etcd, apiserver) = plane.detach();
    std::fs::write(dir.join("pids"), format!("{etcd}\n{apiserver}\n"))
        .map_err(|e| format!("writing {}: {e}", dir.join("pids").display()))?;
    eprintln!(
        "kube-apiserver on {server}, etcd and logs in {}",
        dir.display()
    );
    println!("KUBECONFIG={}", kubeconfig.display());
    Ok(())
}

fn down(dir: PathBuf) -> Result<(), String> {
    let pids = std::fs::read_to_string(dir.join("pids"))
        .map_err(|_| format!("no control plane runs from {}", dir.display()))?;
    let pids: Vec<i32> = pids
        .lines()
        .rev()
        .filter_map(|p| p.trim().parse::<i32>().ok())
        .collect();
    // SAFETY (each `kill`): sending a signal to a process id has no memory effects.
    let alive = |pid: i32| unsafe { libc::kill(pid, 0) } == 0;
    for &pid in &pids {
        unsafe {
            libc::kill(pid, libc::SIGTERM);
        }
    }
    // A graceful stop first; the data is thrown away next, so a server still busy after
    // the grace period is killed.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while pids.iter().any(|&pid| alive(pid)) && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    for &pid in pids.iter().filter(|&&pid| alive(pid)) {
        unsafe {
            libc::kill(pid, libc::SIGKILL);
        }
    }
    std::fs::remove_dir_all(&dir).map_err(|e| format!("removing {}: {e}", dir.display()))?;
    eprintln!("stopped");
    Ok(())
}

fn tool(name: &str) -> Result<(), String> {
    let tools = tools().map_err(|e| e.to_string())?;
    let path = match name {
        "kubectl" => tools.kubectl(),
        "helm" => tools.helm(),
        "etcd" => tools.etcd(),
        "kube-apiserver" => tools.kube_apiserver(),
        other => return Err(format!("no program `{other}`")),
    };
    println!("{}", path.display());
    Ok(())
}
