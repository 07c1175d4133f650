//! The wsadmin options every lc_* module shares, and their checks.

use super::re;
use crate::error::{Error, Result};
use crate::protocol::Elem;
use crate::secret::Secret;
use crate::validate::check_remote_path;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The default `wsadmin_path` (Linux, profile `Dmgr01`).
pub const DEFAULT_WSADMIN: &str = "/opt/IBM/WebSphere/AppServer/profiles/Dmgr01/bin/wsadmin.sh";

crate::options! {
    /// The wsadmin options shared by every lc_* module (design.md §3), flattened into each one's
    /// options.
    #[derive(Debug, Clone)]
    pub struct WsadminArgs {
        pub wsadmin_path: PathBuf => path().default(DEFAULT_WSADMIN),
        pub host: Option<String> => str(),
        pub port: Option<u16> => int(),
        pub conntype: Option<String> =>
            str().choices(&["SOAP", "RMI", "IPC", "JSR160RMI", "NONE", ""]),
        pub user: Option<String> => str(),
        pub password: Option<Secret> => secret(),
        pub service_index: Option<u32> => int(),
        pub timeout: Option<u64> => int(),
        #[serde(default)]
        pub java_options: Vec<String> => list(Elem::Str).default(Vec::<String>::new()),
        /// Where the Connections admin scripts are when neither the profile's `bin/` nor its
        /// `config/bin_lc_admin/` holds them.
        pub admin_scripts_dir: Option<String> => path(),
    }
}

impl WsadminArgs {
    /// The options with their "not set" spellings folded: an empty host or conntype, a port,
    /// service index or timeout of 0 (so that a playbook can pass a variable left at its default).
    pub fn normalized(&self) -> WsadminArgs {
        let mut a = self.clone();
        a.host = a.host.filter(|h| !h.is_empty());
        a.conntype = a.conntype.filter(|c| !c.is_empty());
        a.user = a.user.filter(|u| !u.is_empty());
        a.password = a.password.filter(|p| !p.is_empty());
        a.port = a.port.filter(|p| *p != 0);
        a.service_index = a.service_index.filter(|i| *i != 0);
        a.timeout = a.timeout.filter(|t| *t != 0);
        a.admin_scripts_dir = a.admin_scripts_dir.filter(|d| !d.is_empty());
        a
    }

    /// The folder wsadmin is started from: the profile's `bin`.
    pub fn bin_dir(&self) -> PathBuf {
        self.wsadmin_path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("/"))
            .to_path_buf()
    }

    /// Where the admin scripts are looked for, in order (admin-surface.md §3): the profile's
    /// `bin/`, its `config/bin_lc_admin/` (where Connections installs them), then
    /// `admin_scripts_dir` when given. The generated scripts search these same folders
    /// (`lcr_try_load`), and [`WsadminArgs::find_admin_script`] does it on this host.
    pub fn script_dirs(&self) -> Vec<String> {
        let bin = self.bin_dir();
        let mut dirs = vec![bin.display().to_string()];
        if let Some(profile) = bin.parent() {
            dirs.push(
                profile
                    .join("config")
                    .join("bin_lc_admin")
                    .display()
                    .to_string(),
            );
        }
        if let Some(d) = self.admin_scripts_dir.as_deref().filter(|d| !d.is_empty()) {
            let d = d.trim_end_matches('/');
            dirs.push(if d.is_empty() {
                "/".into()
            } else {
                d.to_string()
            });
        }
        dirs
    }

    /// The first of [`WsadminArgs::script_dirs`] that holds the admin script `name`, on this
    /// host (for a check-mode plan; the real run searches on the Deployment Manager).
    pub fn find_admin_script(&self, name: &str) -> Option<PathBuf> {
        self.script_dirs()
            .into_iter()
            .map(|d| Path::new(&d).join(name))
            .find(|p| p.is_file())
    }
}

/// Checks the options that reach the wsadmin command line, before anything runs.
pub fn validate(args: &WsadminArgs) -> Result<()> {
    let p = &args.wsadmin_path;
    if !p.is_absolute() {
        return Err(Error::invalid(format!(
            "wsadmin_path must be an absolute path, got {:?}",
            p.display().to_string()
        )));
    }
    static HOST: OnceLock<regex::Regex> = OnceLock::new();
    if let Some(h) = &args.host {
        if !re(
            r"^[A-Za-z0-9]([A-Za-z0-9.\-]{0,252})$|^\[?[0-9A-Fa-f:.]+\]?$",
            &HOST,
        )
        .is_match(h)
        {
            return Err(Error::invalid(format!(
                "host must be a host name or an IP address, got {h:?}"
            )));
        }
    }
    if let Some(u) = &args.user {
        if u.is_empty() || u.chars().any(|c| c.is_control()) {
            return Err(Error::invalid(
                "user must be a non-empty name without control characters",
            ));
        }
    }
    if args.password.is_some() && args.user.is_none() {
        return Err(Error::invalid(
            "password is given but user is not: give both or neither",
        ));
    }
    for o in &args.java_options {
        if o.is_empty() || o.chars().any(|c| c.is_control()) {
            return Err(Error::invalid(format!(
                "java_options entries must be single-line, non-empty values, got {o:?}"
            )));
        }
    }
    if let Some(d) = &args.admin_scripts_dir {
        check_remote_path("admin_scripts_dir", d)?;
    }
    if !p.exists() {
        return Err(Error::invalid(format!(
            "wsadmin_path {} does not exist: give the wsadmin.sh of the Deployment Manager profile",
            p.display()
        )));
    }
    Ok(())
}
