//! connections.dr.lc_verify: the follow-up of a recovery, run on the controller: reads the
//! recovery's report and a fresh one of the same applications, and writes `verify-report.html`
//! and `verify-report.json`: which communities are in step again, which still differ and since
//! when, which appeared since, which orphans remain.

fn main() -> std::process::ExitCode {
    lc_core::protocol::run::<lc_verify::Verify>()
}
