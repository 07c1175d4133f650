//! connections.dr.lc_lock: one recover.yml or verify.yml run at a time against a cell. Takes
//! the run lock (a symbolic link whose target is the holder's record), takes over the lock of a
//! run that no longer runs, and releases it when the run that holds it is done.

fn main() -> std::process::ExitCode {
    lc_core::protocol::run::<lc_lock::Lock>()
}
