//! The one way the product talks to wsadmin.
//!
//! A module builds a [`Script`] (fixed Jython text that keeps to Jython 2.1, plus the user's values
//! as validated `sys.argv` arguments), and [`run`] starts `wsadmin.sh -lang jython -f <script>
//! <args…>` from the profile's `bin` folder, once. Credentials go in a 0600 properties file passed
//! with `-p` and removed afterwards, never on the command line. The script reports back through
//! marker lines (`@@lcr@@<TAB>tag<TAB>field…`) that [`run`] picks out of banners and noise; a
//! failure (cannot connect, credentials refused, a call that raised, a timeout, a missing admin
//! script, a bad service answer) becomes one line that says what to do.
//!
//! By concern:
//! - `args`: [`WsadminArgs`], the shared options ([`options`]) and their checks ([`validate`]);
//! - `script`: the [`Script`] builder (prelude, admin script loads, body, data rows) and
//!   [`jython_literal`];
//! - `record`: the marker lines ([`MARKER`], [`Record`], [`parse_records`]) and [`Output`];
//! - `diagnosis`: a failed run as one line ([`diagnose`]: WASX ids, exceptions, tracebacks);
//! - `process`: [`run`]: the private folder and files, the command, the timeout, the scrub;
//! - `java_map`: wsadmin's printed maps ([`parse_java_map`]).

use std::sync::OnceLock;

mod args;
mod diagnosis;
mod java_map;
pub mod module;
mod process;
mod record;
mod script;
#[cfg(test)]
mod tests;

pub use args::{validate, WsadminArgs, DEFAULT_WSADMIN};
pub use diagnosis::diagnose;
pub use java_map::parse_java_map;
pub use process::run;
pub use record::{parse_records, Output, Record, MARKER};
pub use script::{jython_literal, Script};

/// A regular expression compiled once, on first use.
fn re(pattern: &'static str, cell: &'static OnceLock<regex::Regex>) -> &'static regex::Regex {
    cell.get_or_init(|| regex::Regex::new(pattern).expect("valid pattern"))
}
