//! The lc_export module: options, the generated script and how its output becomes a result.
//!
//! Each application writes its export under a temporary name in `dest_dir`; once the run is
//! over and the file reads as a complete XML document (any layout: see [`lc_core::export`]) that
//! names no other application, it is renamed to `<App>.xml`. A run that dies part way never
//! leaves a half-written `<App>.xml` behind. An export whose records were not recognized is a
//! warning, not a failure.

use lc_core::apps::{App, APPS};
use lc_core::export::Layout;
use lc_core::wsadmin::module as layer;
use lc_core::wsadmin::WsadminArgs;
use lc_core::{Context, Elem, Error, Module, Outcome};
use std::path::{Path, PathBuf};

pub struct Export;

lc_core::options! {
    #[derive(Debug)]
    pub struct Options {
        pub applications: Option<Vec<String>> => list(Elem::Str),
        pub dest_dir: String => str().required(),
        pub request_timeout: u64 => int().default(0),
        #[flatten]
        pub wsadmin: WsadminArgs,
    }
}

/// One exported file, as returned in `exports`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Exported {
    pub application: String,
    pub path: String,
    /// Whether the file is on this host; an app running on another node writes it there.
    pub local: bool,
    pub bytes: Option<u64>,
    pub sha256: Option<String>,
    pub resources: Option<u64>,
    /// How its records were found (`recognized` or `unrecognized`); unknown for a file that is
    /// not on this host.
    pub layout: Option<Layout>,
    pub changed: bool,
}

/// The temporary name an export is written under before it is renamed into place.
pub fn partial_name(app: &str) -> String {
    format!(".{app}.xml.partial")
}

/// The export loop (`lcr_main`), after the functions [`body`] writes from the application table.
const MAIN: &str = include_str!("../jython/export.py");

/// The Jython text: a dispatch over the fixed application table, then the export loop.
/// ARGS: optional (1|0), then pairs of app id and absolute temporary path.
pub fn body() -> String {
    let mut s = String::from("def lcr_export(app, path):\n");
    for a in APPS {
        let extra = a
            .export_extra
            .map_or(String::new(), |e| format!(", \"{e}\""));
        s.push_str(&format!(
            "    if app == \"{id}\":\n        lcr_call(\"{svc}.exportSyncedResourceInfo({id})\")\n        return {svc}.exportSyncedResourceInfo(path, \"community\"{extra})\n",
            id = a.id,
            svc = a.service,
        ));
    }
    s.push_str("    raise ValueError(\"unknown application \" + app)\n\ndef lcr_script_of(app):\n");
    for a in APPS {
        s.push_str(&format!(
            "    if app == \"{}\":\n        return \"{}\"\n",
            a.id, a.admin_script
        ));
    }
    s.push_str("    return \"\"\n");
    s.push_str(MAIN);
    s
}

impl Module for Export {
    const NAME: &'static str = "lc_export";
    type Options = Options;

    fn run(o: Options, ctx: &Context) -> Result<Outcome, Error> {
        lc_core::validate::check_remote_path("dest_dir", &o.dest_dir)?;
        // Every option checked before dest_dir is made.
        layer::prepare(ctx, &o.wsadmin)?;
        let dest = o.dest_dir.trim_end_matches('/').to_string();
        let dest = if dest.is_empty() {
            "/".to_string()
        } else {
            dest
        };
        let (apps, optional): (Vec<&'static App>, bool) = match &o.applications {
            Some(list) if !list.is_empty() => {
                (lc_core::apps::validate_ids("applications", list)?, false)
            }
            _ => (APPS.iter().collect(), true),
        };
        let final_path = |a: &App| format!("{dest}/{}.xml", a.id);
        let partial_path = |a: &App| format!("{dest}/{}", partial_name(a.id));
        if ctx.check_mode {
            // A default export leaves out the applications whose admin script is not in the
            // profile, as the real run would; wsadmin is not started.
            let wsadmin = o.wsadmin.normalized();
            let on_this_host = wsadmin.bin_dir().is_dir();
            let lacks = |a: &App| {
                optional && on_this_host && wsadmin.find_admin_script(a.admin_script).is_none()
            };
            let skipped: Vec<Skipped> = apps
                .iter()
                .filter(|a| lacks(a))
                .map(|a| Skipped {
                    application: a.id.to_string(),
                    reason: format!("{} is not in this profile", a.admin_script),
                })
                .collect();
            let planned: Vec<Exported> = apps
                .iter()
                .filter(|a| !lacks(a))
                .map(|a| Exported {
                    application: a.id.to_string(),
                    path: final_path(a),
                    local: Path::new(&dest).is_dir(),
                    bytes: None,
                    sha256: None,
                    resources: None,
                    layout: None,
                    changed: true,
                })
                .collect();
            return Ok(Outcome::new(!planned.is_empty())
                .msg(format!(
                    "would export {} application(s) to {dest}{}",
                    planned.len(),
                    left_out(&skipped)
                ))
                .with("exports", &planned)
                .with(SKIPPED_KEY, &skipped));
        }
        if let Ok(meta) = std::fs::metadata(&dest) {
            if !meta.is_dir() {
                return Err(Error::invalid(format!(
                    "dest_dir {dest} is not a directory"
                )));
            }
        } else {
            lc_core::fs::create_dir(Path::new(&dest))
                .map_err(|e| e.context("creating dest_dir"))?;
        }
        let mut script = layer::script(body())
            .arg(layer::flag(optional))
            .request_timeout(o.request_timeout);
        for a in &apps {
            // A stale partial file from an earlier, interrupted run must not be mistaken for this one.
            let _ = std::fs::remove_file(partial_path(a));
            script = script.arg(a.id).arg(partial_path(a));
        }
        let out = match layer::execute(&o.wsadmin, &script, ctx) {
            Ok(out) => out,
            Err(e) => {
                for a in &apps {
                    let _ = std::fs::remove_file(partial_path(a));
                }
                return Err(e);
            }
        };
        let mut exports = Vec::new();
        for r in out.tagged("exported") {
            let app = lc_core::apps::by_id(r.field(0)).ok_or_else(|| {
                Error::invalid(format!(
                    "wsadmin reported an unknown application {:?}",
                    r.field(0)
                ))
            })?;
            exports.push(settle(app, &partial_path(app), &final_path(app))?);
        }
        let skipped: Vec<Skipped> = out
            .tagged("skipped")
            .map(|r| Skipped {
                application: r.field(0).to_string(),
                reason: r.field(1).to_string(),
            })
            .collect();
        if exports.is_empty() {
            return Err(Error::invalid(format!(
                "no application was exported: {}",
                skipped
                    .iter()
                    .map(|s| format!("{}: {}", s.application, s.reason))
                    .collect::<Vec<_>>()
                    .join("; ")
            )));
        }
        let changed = exports.iter().any(|e| e.changed);
        let resources: u64 = exports.iter().filter_map(|e| e.resources).sum();
        let mut outcome = Outcome::new(changed);
        let unrecognized: Vec<&Exported> = exports
            .iter()
            .filter(|e| e.layout == Some(Layout::Unrecognized))
            .collect();
        let mut warning = String::new();
        if !unrecognized.is_empty() {
            let line = unrecognized_warning(&unrecognized);
            warning = format!("; warning: {line}");
            outcome = outcome.warn(line);
        }
        Ok(outcome
            .msg(format!(
                "exported {} application(s), {resources} resources, to {dest}{}{warning}",
                exports.len(),
                left_out(&skipped)
            ))
            .with("exports", &exports)
            .with(SKIPPED_KEY, &skipped))
    }
}

/// The result key listing the applications a default export left out. Not `skipped`: Ansible
/// reads a truthy `skipped` as "the task was skipped" and drops the key from the result.
pub const SKIPPED_KEY: &str = "skipped_applications";

/// An application left out of a default (every application) export, and why.
#[derive(Debug, serde::Serialize)]
pub struct Skipped {
    pub application: String,
    pub reason: String,
}

/// The tail of the message naming the applications left out, if any.
fn left_out(skipped: &[Skipped]) -> String {
    if skipped.is_empty() {
        return String::new();
    }
    let names: Vec<&str> = skipped.iter().map(|s| s.application.as_str()).collect();
    format!("; left out: {}", names.join(", "))
}

/// The warning for exports whose layout was not recognized.
fn unrecognized_warning(exports: &[&Exported]) -> String {
    let paths: Vec<&str> = exports.iter().map(|e| e.path.as_str()).collect();
    format!(
        "the layout of {} was not recognized (no element carries a community UUID): the export is complete XML and is kept, but its resource count is the number of the root's repeated children",
        paths.join(", ")
    )
}

/// Checks a finished partial export and renames it into place; `changed` when it differs from
/// the file it replaces.
fn settle(app: &App, partial: &str, final_path: &str) -> Result<Exported, Error> {
    let p = PathBuf::from(partial);
    if !p.exists() {
        // The application runs on another node: the file is on that node's host.
        return Ok(Exported {
            application: app.id.to_string(),
            path: partial.to_string(),
            local: false,
            bytes: None,
            sha256: None,
            resources: None,
            layout: None,
            changed: true,
        });
    }
    let summary = lc_core::export::summarize(&p)
        .map_err(|e| e.context(format!("checking the export of {}", app.id)))?;
    if summary.names_another_application(app.id) {
        return Err(Error::invalid(format!(
            "the export of {} in {partial} names the application {}, not {}",
            app.id,
            summary.applications.join(", "),
            app.id
        )));
    }
    // The file it replaces: the same size and hash, or a change (its content was checked when it
    // was written; only its bytes matter now).
    let old = Path::new(final_path);
    let changed = !(std::fs::metadata(old).is_ok_and(|m| m.len() == summary.bytes)
        && lc_core::export::sha256_of(old).is_ok_and(|h| h == summary.sha256));
    std::fs::rename(&p, final_path)
        .map_err(|e| Error::io(final_path, e).context("moving the export into place"))?;
    // The server wrote it with its own umask; it lists private communities' names.
    lc_core::fs::restrict(old)
        .map_err(|e| e.context(format!("restricting the export of {}", app.id)))?;
    Ok(Exported {
        application: app.id.to_string(),
        path: final_path.to_string(),
        local: true,
        bytes: Some(summary.bytes),
        sha256: Some(summary.sha256),
        resources: Some(summary.resources),
        layout: Some(summary.layout),
        changed,
    })
}
