//! connections.dr.lc_export: exports what each remote application knows of its communities
//! (`exportSyncedResourceInfo`), one `<App>.xml` per application, all in one wsadmin run.

fn main() -> std::process::ExitCode {
    lc_core::protocol::run::<lc_export::Export>()
}
