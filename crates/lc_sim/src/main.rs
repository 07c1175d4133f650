//! `lc-sim`: the command line of the simulated Connections cell.

fn main() -> anyhow::Result<()> {
    anyhow::bail!("lc-sim: not written yet")
}
