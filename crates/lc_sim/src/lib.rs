//! lc_sim: a simulated Connections cell, faithful to the documented admin surface, so that the
//! modules, the playbook, the demo and drills run without WebSphere.
//!
//! Map of the modules:
//! - [`ihs`]: IBM HTTP Server stand-ins: a real Apache httpd per instance, with an IHS-like conf.

pub mod ihs;
