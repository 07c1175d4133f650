//! lc_sim: a simulated Connections cell, faithful to the documented admin surface, so that the
//! modules, the playbook, the demo and drills run without WebSphere. A cell is a folder: a
//! Deployment Manager profile whose `bin/wsadmin.sh` runs scripts in real Jython against admin
//! objects backed by the cell's state, `cell.json`, the state itself, and IHS stand-ins.
//!
//! Map of the modules:
//! - [`init`]: `lc-sim init`: lays out a cell, deterministic from its seed.
//! - [`model`]: `cell.json` and the state files, changed only under a file lock.
//! - [`wsadmin`]: the wsadmin client stand-in: flags, faults, connection, banner, then Jython.
//! - [`jython21`]: refuses scripts that use what Jython 2.1 lacks.
//! - [`scripts`]: the admin scripts and the one table of documented objects and methods.
//! - [`admin`]: the server side of every admin call (`lc-sim rpc`).
//! - [`dialect`]: the layouts a cell may speak where the documentation fixes none (`--dialect`).
//! - [`files`]: the export XML and HTML report writers (and the export reader), in the dialect.
//! - [`damage`]: restores to an older backup, as scenarios.
//! - [`truth`]: what the reports must list, from the state.
//! - [`atom`]: the Communities Atom API (members feed, owners) on a loopback port.
//! - [`ihs`]: IBM HTTP Server stand-ins: a real Apache httpd per instance, with an IHS-like conf.
//! - [`toggle`]: `lc-sim toggle`: an owner's Restricted-save-back-save, for some communities.
//! - [`util`]: seeded randomness, Java-style times, atomic writes, escaping.

pub mod admin;
pub mod atom;
pub mod damage;
pub mod dialect;
pub mod files;
pub mod ihs;
pub mod init;
pub mod jython21;
pub mod model;
pub mod scripts;
pub mod toggle;
pub mod truth;
pub mod util;
pub mod wsadmin;

/// Prints lines on stdout: the simulated tools talk to their callers through it, like the real
/// wsadmin does.
#[allow(clippy::print_stdout)]
pub fn print_lines<S: AsRef<str>>(lines: &[S]) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    for l in lines {
        let _ = writeln!(out, "{}", l.as_ref());
    }
    let _ = out.flush();
}
