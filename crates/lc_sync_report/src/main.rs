//! connections.dr.lc_sync_report: runs `generateSyncReports` for every export in one wsadmin run,
//! reads every report it produced into facts (differences, orphans, communities to contact), and
//! writes the consolidated `recovery-report.html`, `recovery-report.json` and `owners.csv`.

fn main() -> std::process::ExitCode {
    lc_core::protocol::run::<lc_sync_report::SyncReport>()
}
