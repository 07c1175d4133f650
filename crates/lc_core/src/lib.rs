//! lc_core: the library behind the `connections.dr` Ansible modules, which carry out the
//! Connections runbook "Restore communities with remote applications".
//!
//! Map of the modules:
//! - [`protocol`]: the Ansible binary-module protocol: args file in, one JSON object out; a
//!   module's options declared once with [`options!`].
//! - [`base64`]: standard base64, for credentials and encoded words.
//! - [`secret`]: [`Secret`], a password that never prints.
//! - [`error`]: [`Error`] `{ context, kind }`, one line at the module edge.
//! - [`apps`]: the remote applications and how each is driven.
//! - [`httpd_conf`]: the httpd.conf editor: IHS maintenance mode between marker lines.
//! - [`formats`]: the export XML and report layouts that are ours, in one place.
//! - [`wsadmin`]: the one wsadmin runner: generated Jython 2.1 scripts, credentials in a 0600
//!   properties file, marker-line results, one-line diagnoses, printed Java maps.
//! - [`replay`]: the replay of failed events: the scheduler task and the queue summary.
//! - [`export`]: the export XML reader: application, resource count, size and SHA-256 in one pass.
//! - [`report`]: the HTML sync-report reader: rows found by header text, streamed.
//! - [`recovery`]: the consolidated facts and outputs: recovery-report.html/.json, owners.csv.
//! - `tls` (feature `tls`): the TLS client settings of the modules that verify a server
//!   (`validate_certs`, `ca_path`), rustls with ring.
//! - [`verify`]: the follow-up of a recovery: a fresh report against the recovery's, in
//!   verify-report.html/.json.
//! - [`fs`]: the modes of the work folders and files (0750, 0640), atomic writes, temporary
//!   files.
//! - [`validate`]: the checks of values bound for wsadmin or another host (UUIDs, one-line
//!   values, remote paths).

pub mod apps;
pub mod base64;
pub mod error;
pub mod export;
pub mod formats;
pub mod fs;
pub mod httpd_conf;
pub mod protocol;
pub mod recovery;
pub mod replay;
pub mod report;
pub mod secret;
#[cfg(feature = "tls")]
pub mod tls;
pub mod validate;
pub mod verify;
pub mod wsadmin;

pub use error::{Error, ErrorKind, ProcessError, Result};
pub use protocol::{ArgSpec, Context, Diff, Elem, Kind, Module, Opt, OptionSet, Outcome};
pub use secret::Secret;
