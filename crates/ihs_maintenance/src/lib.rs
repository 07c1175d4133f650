//! The `connections.dr.ihs_maintenance` module: runbook steps 1 and 7 on one IBM HTTP Server.
//!
//! `state: enabled` writes the maintenance page into the document root and a managed block into
//! httpd.conf (`ErrorDocument 401/403 /<page>`, `<Location />` that lets in only `allow_from`, and
//! an optional `<Location assets_path>` everyone may fetch); `state: disabled` removes the block
//! (giving back the original bytes) and the page, if this module wrote it. The candidate conf is
//! checked with `apachectl -t -f` before it replaces the live one, then IHS is restarted
//! (`graceful` by default: requests in flight finish, new ones see the new conf). Until that
//! restart succeeds, a file beside the conf ([`restart_pending_path`]) records that it is owed, so
//! that a run after a failed restart (or after a run killed in between) restarts IHS even though
//! the conf is already as wanted; it also names the page still to remove once IHS has restarted
//! (disabled, but the old conf, still serving, shows the page).
//!
//! The conf is read with the files it Includes; the maintenance lines go where Apache applies
//! them (the server level, and every VirtualHost whose own sections would outrank them), each
//! file's between marker lines ([`lc_core::httpd_conf::ConfSet::enabled`]). All files are written
//! together: every new file is first written beside its target, then all are renamed, checked
//! with `apachectl -t`, and put back byte for byte if the check fails.
//!
//! Then the proof ([`probe`]): from an address outside the allow list (a loopback address by
//! default), every Listen, with the Host of every VirtualHost, over HTTP or HTTPS, is asked for
//! `/` and the application paths: each must answer 401/403 with the maintenance page, or the old
//! files are put back and IHS restarted on them. What the same probes got before maintenance is
//! kept beside the conf ([`probes_path`]), and disabling checks that they get it again.
//! The editing itself is [`lc_core::httpd_conf`]; this crate is the plan and the side effects.
//!
//! Map of the modules:
//! - `enable`, `disable`: the plan of each state, its proof, and what a failed proof puts back.
//! - `apply`: writing, `apachectl -t`, the restart ([`Restart`]) and the restart owed.
//! - `probes`: the proof's requests ([`Probes`], [`endpoints`]) and their record.
//! - [`probe`]: one GET over HTTP or HTTPS.

mod apply;
mod disable;
mod enable;
pub mod probe;
mod probes;

pub use apply::{restart_pending_path, Restart};
pub use probes::{endpoints, probes_path, Endpoint, Probes, Target};

use disable::disable;
use enable::enable;

use lc_core::httpd_conf::{self, ConfSet};
use lc_core::{ArgSpec, Context, Elem, Error, Module, OptionSet, Outcome};
use serde_json::json;
use std::path::{Path, PathBuf};

pub struct IhsMaintenance;

lc_core::options! {
    #[derive(Debug)]
    pub struct Options {
        pub state: String => str().required().choices(&["enabled", "disabled"]),
        pub conf_path: String => path().default(httpd_conf::default_conf_path()),
        #[serde(default)]
        pub allow_from: Vec<String> => list(Elem::Str).default(json!([])),
        pub page_name: String => str().default("upgrading.htm"),
        pub page_content: Option<String> => str(),
        pub page_src: Option<String> => path(),
        pub document_root: Option<String> => path(),
        pub assets_path: Option<String> => str(),
        pub error_codes: Vec<i64> => list(Elem::Int).default(json!([401, 403])),
        pub apachectl: Option<String> => path(),
        pub validate: bool => bool().default(true),
        pub restart: Restart => str().choices(&["restart", "graceful", "none"]).default("graceful"),
        pub backup: bool => bool().default(false),
        pub readonly_files: Vec<String> => list(Elem::Path).default(json!([])),
        pub verify: bool => bool().default(true),
        pub probe_paths: Vec<String> => list(Elem::Str).default(json!(DEFAULT_PROBE_PATHS)),
        pub probe_from: Option<String> => str(),
        pub probe_timeout: i64 => int().default(15),
    }
}

/// The application paths probed by default, besides `/`.
pub const DEFAULT_PROBE_PATHS: &[&str] = &[
    "/",
    "/homepage",
    "/communities",
    "/files",
    "/activities",
    "/blogs",
    "/forums",
    "/wikis",
];

impl Module for IhsMaintenance {
    const NAME: &'static str = "ihs_maintenance";
    type Options = Options;

    fn spec() -> ArgSpec {
        Options::spec()
            .mutually_exclusive(&["page_content", "page_src"])
            .required_if("state", "enabled", &["allow_from"])
    }

    fn run(o: Options, ctx: &Context) -> Result<Outcome, Error> {
        let conf_path = PathBuf::from(&o.conf_path);
        let what = if o.state == "enabled" {
            "enabling"
        } else {
            "disabling"
        };
        let conf =
            read_conf(&conf_path).map_err(|e| e.context(format!("{what} maintenance mode")))?;
        for p in &o.probe_paths {
            if !p.starts_with('/') || p.chars().any(|c| c.is_whitespace() || c.is_control()) {
                return Err(Error::invalid(format!(
                    "probe_paths entry {p:?} must be an URL path starting with / (no spaces)"
                )));
            }
        }
        if o.probe_timeout < 1 {
            return Err(Error::invalid("probe_timeout must be at least 1 second"));
        }
        if o.state == "enabled" {
            enable(&o, conf, ctx)
        } else {
            disable(&o, conf, ctx)
        }
    }
}

fn read_conf(path: &Path) -> Result<ConfSet, Error> {
    if !path.exists() {
        return Err(Error::invalid(format!(
            "conf_path {} does not exist",
            path.display()
        )));
    }
    ConfSet::read(path)
}

/// What the run plans to write.
struct Plan {
    /// The new bytes of every file of the set, in its order.
    files: Vec<Vec<u8>>,
    page: Option<(PathBuf, Vec<u8>)>,
    /// The page did not exist before this run.
    page_is_new: bool,
    remove_page: Option<PathBuf>,
}

/// Adds `text` to the outcome's message.
fn note(mut outcome: Outcome, text: String) -> Outcome {
    outcome.msg = Some(match outcome.msg.take() {
        Some(m) => format!("{m}; {text}"),
        None => text,
    });
    outcome
}
