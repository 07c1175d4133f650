//! connections.dr.lc_owners: looks up every owner of each community to contact with the
//! Communities Atom API (the members feed, role owner, paged), several communities at a time, in
//! one module run; adds them, with their names and addresses, to the communities and to the
//! consolidated report.

fn main() -> std::process::ExitCode {
    lc_core::protocol::run::<lc_owners::Owners>()
}
