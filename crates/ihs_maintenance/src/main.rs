//! connections.dr.ihs_maintenance: puts an IBM HTTP Server in maintenance mode (everyone but the
//! listed addresses gets the maintenance page with status 403) and takes it out again, editing
//! only its own marked block of httpd.conf.

fn main() -> std::process::ExitCode {
    lc_core::protocol::run::<ihs_maintenance::IhsMaintenance>()
}
