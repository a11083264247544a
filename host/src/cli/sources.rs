//! Where the components a command loads come from: `.wasm` files, folders of them, and
//! `oci://` references pulled from a registry into the cache (verified by digest, pulled
//! once). Shared by `run`, `call`, `bench`, `operator` and the authors' `component` kit.

use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow};
use futures::future::try_join_all;

use crate::cli::shared::EngineArgs;
use crate::engine::EngineConfig;
use crate::oci::{ComponentRef, Credentials, Registries, RegistryOptions, is_oci_reference};
use crate::wasm::registry::ComponentSource;

/// The file in a flow folder naming the components the flow needs besides the built-ins.
pub(crate) const FLOW_COMPONENTS_FILE: &str = "components.yaml";

/// How registries are reached.
#[derive(clap::Args, Debug, Clone)]
pub(crate) struct RegistryArgs {
    /// Docker config file with registry credentials (a Kubernetes image-pull Secret's
    /// `.dockerconfigjson` works too). Default: `$DOCKER_CONFIG/config.json`, else
    /// `~/.docker/config.json`, else anonymous.
    #[arg(long, env = "TINYHOST_REGISTRY_CONFIG")]
    pub(crate) registry_config: Option<PathBuf>,
    /// A registry (`host` or `host:port`) reached over plain HTTP; loopback registries
    /// always are. Repeat, or separate with commas.
    #[arg(
        long = "insecure-registry",
        env = "TINYHOST_INSECURE_REGISTRIES",
        value_delimiter = ','
    )]
    pub(crate) insecure_registries: Vec<String>,
    /// The largest component pulled from a registry, in MiB.
    #[arg(long, default_value_t = 100)]
    pub(crate) max_component_size_mib: u64,
}

impl RegistryArgs {
    /// The registries, keeping pulls in `<cache_dir>/oci`.
    pub(crate) fn registries(&self, cache_dir: Option<&Path>) -> anyhow::Result<Registries> {
        let cache_dir = cache_dir.ok_or_else(|| {
            anyhow!("components from a registry are kept in the cache folder: give --cache-dir")
        })?;
        let credentials = match &self.registry_config {
            Some(file) => Credentials::from_file(file)?,
            None => Credentials::discover()?,
        };
        let mut options = RegistryOptions::new(cache_dir.join("oci"));
        options.credentials = credentials;
        options.insecure = self.insecure_registries.clone();
        options.max_size = self.max_component_size_mib.saturating_mul(1 << 20);
        Ok(Registries::new(options))
    }
}

/// The engine settings of a command and the sources of the components it names: the
/// pulls go to the engine's cache folder.
pub(crate) async fn engine_and_components(
    engine: &EngineArgs,
    names: &[String],
    registry: &RegistryArgs,
) -> anyhow::Result<(EngineConfig, Vec<ComponentSource>)> {
    let engine = engine.config();
    let components = component_sources(names, registry, engine.cache_dir.as_deref()).await?;
    Ok((engine, components))
}

/// The sources for `names` (files, folders, `oci://` references), pulling references that
/// the cache does not hold. A reference that cannot be had is an error: a flow must not
/// start quietly without a component it names.
async fn component_sources(
    names: &[String],
    registry: &RegistryArgs,
    cache_dir: Option<&Path>,
) -> anyhow::Result<Vec<ComponentSource>> {
    let references: Vec<ComponentRef> = names
        .iter()
        .filter(|n| is_oci_reference(n))
        .map(|n| n.parse())
        .collect::<Result<_, _>>()?;
    let pulled = if references.is_empty() {
        Vec::new()
    } else {
        let registries = registry.registries(cache_dir)?;
        try_join_all(references.iter().map(|r| pull(&registries, r))).await?
    };
    let mut pulled = pulled.into_iter();
    let mut sources = Vec::new();
    for name in names {
        if is_oci_reference(name) {
            sources.extend(pulled.next());
        } else {
            sources.push(ComponentSource::Path(PathBuf::from(name)));
        }
    }
    Ok(sources)
}

/// Pulls one reference (or finds it in the cache) and reads it as a source named by its
/// reference and digest, so listings and errors say exactly which build is running.
pub(crate) async fn pull(
    registries: &Registries,
    reference: &ComponentRef,
) -> anyhow::Result<ComponentSource> {
    let pulled = pull_warning(registries, reference).await?;
    let bytes = tokio::fs::read(&pulled.path)
        .await
        .with_context(|| format!("cannot read {}", pulled.path.display()))?;
    let origin = match reference.digest() {
        Some(_) => pulled.reference,
        None => format!("{}@{}", pulled.reference, pulled.digest),
    };
    Ok(ComponentSource::Bytes {
        origin,
        bytes: bytes.into(),
    })
}

/// The components a flow folder names in its `components.yaml` (`components: [...]`),
/// file paths taken relative to the folder; none when the folder has no such file.
pub(crate) fn flow_components(flow: &Path) -> anyhow::Result<Vec<String>> {
    let file = flow.join(FLOW_COMPONENTS_FILE);
    if !flow.is_dir() || !file.is_file() {
        return Ok(Vec::new());
    }
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct FlowComponents {
        components: Vec<String>,
    }
    let text = std::fs::read_to_string(&file)
        .with_context(|| format!("cannot read {}", file.display()))?;
    let listed: FlowComponents = serde_norway::from_str(&text).with_context(|| {
        format!(
            "{}: expected `components: [FILE | oci://REF, ...]`",
            file.display()
        )
    })?;
    Ok(listed
        .components
        .into_iter()
        .map(|name| {
            if is_oci_reference(&name) || Path::new(&name).is_absolute() {
                name
            } else {
                flow.join(name).display().to_string()
            }
        })
        .collect())
}

/// The local file behind a `FILE|REF` argument. References are pulled into the cache
/// first, so `component inspect` reads exactly what a flow would load.
pub(crate) async fn resolve_target(
    target: &str,
    registry: &RegistryArgs,
    engine: &EngineArgs,
) -> anyhow::Result<PathBuf> {
    if is_oci_reference(target) {
        let reference: ComponentRef = target.parse()?;
        let registries = registry.registries(engine.config().cache_dir.as_deref())?;
        return Ok(pull_warning(&registries, &reference).await?.path);
    }
    let path = PathBuf::from(target);
    std::fs::metadata(&path).with_context(|| format!("cannot read `{target}`"))?;
    Ok(path)
}

/// Pulls `reference` (or finds it in the cache), printing what the operator should know:
/// a tag that moved, a registry that was down.
pub(crate) async fn pull_warning(
    registries: &Registries,
    reference: &ComponentRef,
) -> anyhow::Result<crate::oci::Pulled> {
    let pulled = registries.pull(reference).await?;
    for warning in &pulled.warnings {
        eprintln!("warning: {warning}");
    }
    Ok(pulled)
}
