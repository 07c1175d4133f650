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
//! The editing itself is [`lc_core::httpd_conf`]; this crate is the plan and the side effects.

use lc_core::httpd_conf::{
    self, backup_copy, check_assets_path, check_error_codes, check_page_name, parse_allow_from,
    write_atomic, Access, Apachectl, CtlOutput, HttpdConf, Maintenance, TempFile,
};
use lc_core::{ArgSpec, Context, Diff, Elem, Error, Module, Opt, Outcome, ProcessError};
use serde::Deserialize;
use serde_json::json;
use std::path::{Path, PathBuf};

pub struct IhsMaintenance;

#[derive(Debug, Deserialize)]
pub struct Options {
    pub state: String,
    pub conf_path: String,
    #[serde(default)]
    pub allow_from: Vec<String>,
    pub page_name: String,
    pub page_content: Option<String>,
    pub page_src: Option<String>,
    pub document_root: Option<String>,
    pub assets_path: Option<String>,
    pub error_codes: Vec<i64>,
    pub apachectl: Option<String>,
    pub validate: bool,
    pub restart: String,
    pub backup: bool,
}

impl Module for IhsMaintenance {
    const NAME: &'static str = "ihs_maintenance";
    type Options = Options;

    fn spec() -> ArgSpec {
        ArgSpec::new()
            .opts([
                Opt::str("state")
                    .required()
                    .choices(&["enabled", "disabled"]),
                Opt::path("conf_path").default(httpd_conf::default_conf_path()),
                Opt::list("allow_from", Elem::Str).default(json!([])),
                Opt::str("page_name").default("upgrading.htm"),
                Opt::str("page_content"),
                Opt::path("page_src"),
                Opt::path("document_root"),
                Opt::str("assets_path"),
                Opt::list("error_codes", Elem::Int).default(json!([401, 403])),
                Opt::path("apachectl"),
                Opt::bool("validate").default(true),
                Opt::str("restart")
                    .choices(&["restart", "graceful", "none"])
                    .default("graceful"),
                Opt::bool("backup").default(false),
            ])
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
        if o.state == "enabled" {
            enable(&o, conf, ctx)
        } else {
            disable(&o, conf, ctx)
        }
    }
}

fn read_conf(path: &Path) -> Result<HttpdConf, Error> {
    if !path.exists() {
        return Err(Error::invalid(format!(
            "conf_path {} does not exist",
            path.display()
        )));
    }
    HttpdConf::read(path)
}

/// What the run plans to write.
struct Plan {
    conf_bytes: Vec<u8>,
    page: Option<(PathBuf, Vec<u8>)>,
    /// The page did not exist before this run.
    page_is_new: bool,
    remove_page: Option<PathBuf>,
}

fn enable(o: &Options, conf: HttpdConf, ctx: &Context) -> Result<Outcome, Error> {
    let allow = parse_allow_from(&o.allow_from)?;
    check_page_name(&o.page_name)?;
    if let Some(a) = &o.assets_path {
        check_assets_path(a)?;
    }
    let error_codes = check_error_codes(&o.error_codes)?;

    let apachectl = apachectl_for(o, &conf);
    let document_root = match &o.document_root {
        Some(d) => PathBuf::from(d),
        None => match conf.document_root() {
            Some(d) => Some(d),
            // Set in an Include: ask httpd.
            None if apachectl.program.exists() => apachectl.document_root(conf.path())?,
            None => None,
        }
        .ok_or_else(|| {
            Error::invalid(format!(
                "{} has no DocumentRoot: set document_root",
                conf.path().display()
            ))
        })?,
    };
    let page_path = document_root.join(&o.page_name);
    let page_str = page_path.to_string_lossy().into_owned();
    // The page's path is recorded in a comment line of the block.
    if page_str.chars().any(char::is_control) {
        return Err(Error::invalid(format!(
            "document_root {:?} must not contain control characters",
            document_root.to_string_lossy()
        )));
    }
    let block = conf.block().cloned();
    // A page this module wrote is recorded in the block, or, once the block is gone but the
    // restart that would stop serving the page failed, in the owed restart's record.
    let owed_page = Owed::read(conf.path()).page;
    let ours_before = block
        .as_ref()
        .and_then(|b| b.page_written.as_deref())
        .is_some_and(|p| p == page_str)
        || owed_page.as_deref() == Some(page_path.as_path());
    let existing = std::fs::read(&page_path).ok();
    let wanted: Option<Vec<u8>> = match (&o.page_content, &o.page_src) {
        (Some(c), _) => Some(c.clone().into_bytes()),
        (None, Some(src)) => {
            Some(std::fs::read(src).map_err(|e| Error::io(src, e).context("reading page_src"))?)
        }
        // An administrator's own page stays as it is.
        (None, None) if existing.is_some() && !ours_before => None,
        (None, None) => Some(httpd_conf::DEFAULT_PAGE.as_bytes().to_vec()),
    };
    if existing.is_none() && !document_root.is_dir() {
        return Err(Error::invalid(format!(
            "document_root {} is not a folder",
            document_root.display()
        )));
    }
    let page_write = wanted.filter(|w| existing.as_ref() != Some(w));
    let page_written = (ours_before || existing.is_none()).then(|| page_str.clone());
    // A page written before under another name goes when this one comes.
    let remove_page = block
        .as_ref()
        .and_then(|b| b.page_written.clone())
        .map(PathBuf::from)
        .or(owed_page)
        .filter(|p| *p != page_path && p.exists());

    let access = match &block {
        Some(b) if b.loads_access_compat.is_some() => {
            Access::CompatLoading(b.loads_access_compat.clone().unwrap_or_default())
        }
        Some(b) if b.uses_require => Access::Require,
        Some(_) => Access::Compat,
        None => match conf.detect_access(|p| p.exists()) {
            Some(a) => a,
            None if apachectl.program.exists() => {
                match apachectl.loads_module(conf.path(), "access_compat_module")? {
                    Some(true) => Access::Compat,
                    _ => Access::Require,
                }
            }
            None => Access::Require,
        },
    };
    let m = Maintenance {
        allow_from: allow.clone(),
        page_name: o.page_name.clone(),
        assets_path: o.assets_path.clone(),
        error_codes,
        access: access.clone(),
        page_written,
    };
    let plan = Plan {
        conf_bytes: conf.enabled(&m),
        page: page_write.map(|w| (page_path.clone(), w)),
        page_is_new: existing.is_none(),
        remove_page,
    };
    let allowed: Vec<&str> = allow.iter().map(|a| a.as_str()).collect();
    let outcome = apply(o, &conf, plan, &apachectl, ctx, "enabled")?;
    Ok(outcome
        .with("allowed", allowed)
        .with("page", &page_str)
        .with("document_root", document_root.to_string_lossy())
        .with("access", access.name()))
}

fn disable(o: &Options, conf: HttpdConf, ctx: &Context) -> Result<Outcome, Error> {
    let remove_page = conf
        .block()
        .and_then(|b| b.page_written.clone())
        .map(PathBuf::from)
        .or(Owed::read(conf.path()).page)
        .filter(|p| p.exists());
    let plan = Plan {
        conf_bytes: conf.disabled(),
        page: None,
        page_is_new: false,
        remove_page,
    };
    let apachectl = apachectl_for(o, &conf);
    let outcome = apply(o, &conf, plan, &apachectl, ctx, "disabled")?;
    Ok(outcome.with("allowed", Vec::<String>::new()))
}

fn apachectl_for(o: &Options, conf: &HttpdConf) -> Apachectl {
    Apachectl::new(match &o.apachectl {
        Some(p) => PathBuf::from(p),
        // IHS on Windows has no apachectl; its httpd.exe takes the same -t, -f and -k.
        None => conf.server_root().join("bin").join(if cfg!(windows) {
            "httpd.exe"
        } else {
            "apachectl"
        }),
    })
}

/// Carries out a plan: predict (check mode) or write the candidate, validate it, write the page,
/// back up, rename, restart, remove the page that is no longer wanted.
fn apply(
    o: &Options,
    conf: &HttpdConf,
    plan: Plan,
    apachectl: &Apachectl,
    ctx: &Context,
    state: &str,
) -> Result<Outcome, Error> {
    let path = conf.path();
    let conf_changed = plan.conf_bytes != conf.bytes();
    let pending = restart_pending_path(path);
    // An earlier run put a conf in place whose restart failed, or died before restarting: the
    // conf on disk is as wanted, but IHS may still serve the old one.
    let owed = o.restart != "none" && pending.exists();
    let changed = conf_changed || plan.page.is_some() || plan.remove_page.is_some() || owed;
    let diff = (ctx.diff && conf_changed).then(|| Diff {
        before: String::from_utf8_lossy(conf.bytes()).into_owned(),
        after: String::from_utf8_lossy(&plan.conf_bytes).into_owned(),
        before_header: format!("{} (before)", path.display()),
        after_header: format!("{} (after)", path.display()),
    });
    let base = |changed: bool| {
        Outcome::new(changed)
            .diff(diff.clone())
            .with("state", state)
            .with("conf_path", path.to_string_lossy())
    };
    if ctx.check_mode || !changed {
        return Ok(base(changed).with("restarted", false));
    }

    let needs_ctl = (conf_changed && o.validate) || ((conf_changed || owed) && o.restart != "none");
    if needs_ctl && !apachectl.program.exists() {
        return Err(Error::invalid(format!(
            "apachectl not found at {}: set apachectl (or validate: false and restart: none)",
            apachectl.program.display()
        )));
    }

    let mut backup_file = None;
    if conf_changed {
        let candidate = TempFile::write(path, &plan.conf_bytes, 0o644)?;
        if o.validate {
            let out = apachectl.check(candidate.path())?;
            if !out.success() {
                let line = out.error_line().replace(
                    &*candidate.path().to_string_lossy(),
                    &path.to_string_lossy(),
                );
                return Err(Error::process(
                    format!(
                        "the new {} does not pass apachectl -t and was not put in place: {line}",
                        path.display()
                    ),
                    process_error(apachectl, &["-t", "-f", "<candidate>"], &out),
                ));
            }
        }
        if let Some((page, bytes)) = &plan.page {
            write_atomic(page, bytes, 0o644)?;
        }
        let put_in_place = (|| {
            if o.backup {
                backup_file = Some(backup_copy(path)?);
            }
            // Owed until the restart succeeds, so that a rerun restarts even if this run dies
            // or its restart fails after the rename.
            if o.restart != "none" {
                let owed = Owed {
                    state: state.to_string(),
                    page: plan.remove_page.clone(),
                };
                write_atomic(&pending, &owed.to_bytes(), 0o644)?;
            }
            candidate.persist()
        })();
        if let Err(e) = put_in_place {
            // A page created for a conf that did not go live would be left behind untracked.
            if let (Some((page, _)), true) = (&plan.page, plan.page_is_new) {
                let _ = std::fs::remove_file(page);
            }
            return Err(e);
        }
    } else if let Some((page, bytes)) = &plan.page {
        write_atomic(page, bytes, 0o644)?;
    }

    let mut outcome = base(true);
    if let Some(b) = &backup_file {
        outcome = outcome.with("backup_file", b.to_string_lossy());
    }
    let mut restarted = false;
    if (conf_changed || owed) && o.restart != "none" {
        let out = apachectl.signal(&o.restart, path)?;
        if !out.success() {
            let pe = process_error(apachectl, &["-k", &o.restart], &out);
            outcome.failed = true;
            outcome.msg = Some(format!(
                "maintenance mode is {state} in {}, but apachectl -k {} failed (exit {}): {}; the old configuration keeps serving until IHS restarts cleanly (running the task again retries the restart)",
                path.display(),
                o.restart,
                pe.status.map_or("signal".to_string(), |s| s.to_string()),
                out.tail(3)
            ));
            return Ok(outcome
                .with("restarted", false)
                .with("cmd", pe.command)
                .with("rc", pe.status)
                .with("output_tail", pe.output_tail));
        }
        restarted = true;
        match std::fs::remove_file(&pending) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(Error::io(&pending, e).context("clearing the owed restart"))
            }
            _ => {}
        }
        if owed && !conf_changed {
            outcome.msg = Some(format!(
                "{} was already as wanted, but an earlier run did not restart IHS after changing it: restarted now",
                path.display()
            ));
        }
    }
    if let Some(page) = &plan.remove_page {
        std::fs::remove_file(page).map_err(|e| Error::io(page, e))?;
    }
    Ok(outcome.with("restarted", restarted))
}

/// A restart owed to IHS, as recorded beside the conf ([`restart_pending_path`]): the state the
/// conf was put in and the page to remove once IHS has restarted (the conf that shows it may
/// still be serving). The record is ours: a line with the state, then `page <path>` if any.
#[derive(Debug, Default, PartialEq)]
struct Owed {
    state: String,
    page: Option<PathBuf>,
}

impl Owed {
    /// The record beside `conf`; empty when there is none (or it cannot be read).
    fn read(conf: &Path) -> Owed {
        let Ok(text) = std::fs::read_to_string(restart_pending_path(conf)) else {
            return Owed::default();
        };
        let mut lines = text.lines();
        Owed {
            state: lines.next().unwrap_or_default().to_string(),
            page: lines
                .find_map(|l| l.strip_prefix("page "))
                .filter(|p| !p.is_empty())
                .map(PathBuf::from),
        }
    }

    fn to_bytes(&self) -> Vec<u8> {
        let mut text = format!("{}\n", self.state);
        if let Some(page) = &self.page {
            text.push_str(&format!("page {}\n", page.display()));
        }
        text.into_bytes()
    }
}

/// The file beside the conf that records a restart owed to IHS: written before a changed conf is
/// renamed into place, removed once `apachectl -k` succeeded.
pub fn restart_pending_path(conf: &Path) -> PathBuf {
    let name = conf
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    conf.with_file_name(format!(".{name}.lc-recover.restart-pending"))
}

fn process_error(apachectl: &Apachectl, args: &[&str], out: &CtlOutput) -> ProcessError {
    ProcessError {
        command: format!("{} {}", apachectl.program.display(), args.join(" ")),
        status: out.status,
        output_tail: out.tail(10),
    }
}
