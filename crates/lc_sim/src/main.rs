//! `lc-sim`: the command line of the simulated Connections cell.

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "lc-sim", about = "A simulated Connections cell for tests, the demo and drills")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// IBM HTTP Server stand-ins.
    #[command(subcommand)]
    Ihs(lc_sim::ihs::IhsCommand),
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Ihs(cmd) => lc_sim::ihs::cli(cmd),
    }
}
