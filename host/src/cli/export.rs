//! `tinyhost export`: local manifests as cluster objects.

use std::path::PathBuf;
use std::process::ExitCode;

use serde_json::Value;

#[derive(clap::Args, Debug)]
pub(crate) struct ExportArgs {
    /// Folder or file of manifests.
    path: PathBuf,
    /// Put every object in this namespace.
    #[arg(long, short = 'n')]
    namespace: Option<String>,
}

pub(crate) fn export(args: ExportArgs) -> anyhow::Result<ExitCode> {
    let (nodes, signals, errors) = crate::source::read_manifests(&args.path);
    if !errors.is_empty() {
        for e in &errors {
            eprintln!("error: {e}");
        }
        return Ok(ExitCode::FAILURE);
    }
    let mut out = String::new();
    let nodes = nodes.iter().map(crate::crd::TinyNode::from);
    let signals = signals.iter().map(crate::crd::TinySignal::from);
    for document in nodes
        .map(|n| in_namespace(n, args.namespace.as_deref()))
        .chain(signals.map(|s| in_namespace(s, args.namespace.as_deref())))
    {
        out.push_str("---\n");
        out.push_str(&serde_norway::to_string(&document?)?);
    }
    print!("{out}");
    Ok(ExitCode::SUCCESS)
}

/// A cluster object, placed in `namespace` if given, as a YAML-ready value.
fn in_namespace<K: kube::Resource + serde::Serialize>(
    mut object: K,
    namespace: Option<&str>,
) -> anyhow::Result<Value> {
    if let Some(ns) = namespace {
        object.meta_mut().namespace = Some(ns.to_string());
    }
    Ok(serde_json::to_value(&object)?)
}
