//! connections.dr.lc_orphan: handles the orphaned resources of remote applications listed by the
//! sync reports: reports them, keeps them by assigning them to a community
//! (`assignRemoteApp`), or deletes them with each application's own command, all in one wsadmin
//! run. One failing orphan does not stop the others.

fn main() -> std::process::ExitCode {
    lc_core::protocol::run::<lc_orphan::Orphans>()
}
