//! IBM HTTP Server stand-ins: a real Apache httpd per instance, with an IHS-like conf.
//! (Being written: see `IhsInstance`, `lay_out`, `IhsCommand`.)

use std::path::PathBuf;

/// One IHS stand-in, as recorded in `cell.json` under `ihs`.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct IhsInstance {
    pub name: String,
    pub root: PathBuf,
    pub conf_path: PathBuf,
    pub apachectl: PathBuf,
    pub document_root: PathBuf,
    pub port: u16,
}

/// `lc-sim ihs …`
#[derive(Debug, clap::Subcommand)]
pub enum IhsCommand {}

pub fn cli(cmd: IhsCommand) -> anyhow::Result<()> {
    match cmd {}
}
