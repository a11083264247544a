//! `tinyhost crds`: the CustomResourceDefinitions, printed or written per kind.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

#[derive(clap::Args, Debug)]
pub(crate) struct CrdsArgs {
    /// Write `<plural>.operator.tinysystems.io.yaml` files into this folder instead of
    /// printing.
    #[arg(long)]
    out: Option<PathBuf>,
}

pub(crate) fn crds(args: CrdsArgs) -> anyhow::Result<ExitCode> {
    let Some(dir) = args.out else {
        print!("{}", crate::crd::render_stream()?);
        return Ok(ExitCode::SUCCESS);
    };
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    for crd in crate::crd::render()? {
        let path = dir.join(&crd.file_name);
        std::fs::write(&path, &crd.yaml)
            .with_context(|| format!("cannot write {}", path.display()))?;
        eprintln!("wrote {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}
