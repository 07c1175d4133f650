//! The httpd.conf editor behind `ihs_maintenance`: maintenance mode for IBM HTTP Server.
//!
//! Maintenance mode is one block of managed text between two marker lines ([`BEGIN_MARKER`],
//! [`END_MARKER`]). Everything outside the block stays byte-for-byte as it was: the block is
//! written with the file's own line ending, appended at the end of the file the first time (so
//! that its `<Location />` comes after, and overrides, the site's own) and replaced where it stands
//! afterwards. Removing it gives back the original bytes exactly.
//!
//! The module does its work in three steps: [`HttpdConf::parse`] (find the block, refuse damaged
//! markers, read `ServerRoot`, `DocumentRoot` and the `LoadModule` lines), [`HttpdConf::enabled`] /
//! [`HttpdConf::disabled`] (the new bytes, pure), then the side effects: [`crate::fs::write_atomic`],
//! [`backup_copy`] and [`Apachectl`] (validate a candidate, restart).
//!
//! Access control comes in two forms ([`Access`]): the `Order`/`Deny`/`Allow` form the runbook
//! documents, which on Apache 2.4 (IHS 9) needs `mod_access_compat` — loaded inside the block when
//! the conf does not load it already and the module file is found — or the 2.4 `Require` form.
//!
//! By concern:
//! - `options`: the options that reach the conf, checked ([`AllowEntry`], [`parse_allow_from`],
//!   [`check_page_name`], [`check_assets_path`], [`check_error_codes`]);
//! - `block`: the managed block's lines ([`Access`], [`Maintenance`]);
//! - `conf`: one file ([`HttpdConf`], its [`Block`]s and [`Directive`]s);
//! - `conf_set`: the main conf and its Includes ([`ConfSet`], [`VirtualHost`], [`Listener`]);
//! - `text`: lines, arguments, Include patterns and paths;
//! - `backup`: [`backup_copy`] and its time stamp ([`utc_stamp`]);
//! - `apachectl`: [`Apachectl`], a candidate's check and the restart.

mod apachectl;
mod backup;
mod block;
mod conf;
mod conf_set;
mod options;
#[cfg(test)]
mod tests;
mod text;

pub use apachectl::{Apachectl, CtlOutput};
pub use backup::{backup_copy, utc_stamp};
pub use block::{Access, Maintenance};
use conf::is_conditional;
pub use conf::{Block, Directive, HttpdConf};
pub use conf_set::{ConfDirective, ConfSet, Listener, VirtualHost};
pub use options::{
    check_assets_path, check_error_codes, check_page_name, parse_allow_from, AllowEntry,
};
pub use text::expand_include;
use text::{damaged, lines_of, resolve_against, split_args};

/// The first line of the managed block.
pub const BEGIN_MARKER: &str =
    "# BEGIN connections.dr maintenance mode (managed by lc-recover; do not edit)";
/// The last line of the managed block.
pub const END_MARKER: &str = "# END connections.dr maintenance mode";
/// What a marker line starts with; the rest of a damaged marker line does not matter.
const BEGIN_PREFIX: &str = "# BEGIN connections.dr maintenance mode";
const END_PREFIX: &str = "# END connections.dr maintenance mode";
/// The block line that records a maintenance page this module wrote (and so may remove).
const PAGE_NOTE: &str = "# page written by lc-recover: ";

/// The default `conf_path` on the platform the module runs on.
pub fn default_conf_path() -> &'static str {
    if cfg!(windows) {
        r"C:\IBM\HTTPServer\conf\httpd.conf"
    } else if cfg!(target_os = "aix") {
        "/usr/IBM/HTTPServer/conf/httpd.conf"
    } else {
        "/opt/IBM/HTTPServer/conf/httpd.conf"
    }
}

/// The maintenance page written when the task gives neither `page_content` nor `page_src`.
pub const DEFAULT_PAGE: &str = r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Connections is down for maintenance</title>
<style>
body { font-family: sans-serif; margin: 4em auto; max-width: 40em; color: #222; }
h1 { font-size: 1.6em; }
</style>
</head>
<body>
<h1>Connections is down for maintenance</h1>
<p>The site is being restored and will be back shortly. Thank you for your patience.</p>
</body>
</html>
"#;
