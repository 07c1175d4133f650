//! Carrying out a plan: the files written beside their targets and renamed together, checked
//! with `apachectl -t`, IHS restarted, and the restart owed until it succeeds.

use lc_core::fs::{write_atomic, TempFile};
use lc_core::httpd_conf::{backup_copy, Apachectl, ConfSet, CtlOutput};
use lc_core::{Context, Diff, Error, Outcome, ProcessError};
use serde::Deserialize;
use std::path::{Path, PathBuf};

use crate::{Options, Plan};

/// How IHS is restarted on a changed conf (option `restart`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum Restart {
    /// `apachectl -k restart`: requests in flight are cut off.
    #[serde(rename = "restart")]
    Full,
    /// `apachectl -k graceful`: requests in flight finish, new ones see the new conf.
    #[serde(rename = "graceful")]
    Graceful,
    /// Not restarted: the new conf serves once IHS is restarted some other way.
    #[serde(rename = "none")]
    Skip,
}

impl Restart {
    /// The option's value as written: also the `apachectl -k` argument, unless `none`.
    pub fn as_str(self) -> &'static str {
        match self {
            Restart::Full => "restart",
            Restart::Graceful => "graceful",
            Restart::Skip => "none",
        }
    }

    /// IHS is restarted on a changed conf.
    pub fn restarts(self) -> bool {
        self != Restart::Skip
    }
}

pub(crate) fn apachectl_for(o: &Options, conf: &lc_core::httpd_conf::HttpdConf) -> Apachectl {
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

/// Carries out a plan: predict (check mode) or write every changed file beside its target,
/// write the page, back up, rename them all, validate, restart, remove the page that is no
/// longer wanted. A failure before the restart puts every renamed file back as it was.
pub(crate) fn apply(
    o: &Options,
    set: &ConfSet,
    plan: &Plan,
    apachectl: &Apachectl,
    ctx: &Context,
    state: &str,
) -> Result<Outcome, Error> {
    let path = set.files[0].path();
    let changed_files: Vec<usize> = (0..set.files.len())
        .filter(|&i| plan.files[i].as_slice() != set.files[i].bytes())
        .collect();
    let conf_changed = !changed_files.is_empty();
    let pending = restart_pending_path(path);
    let restart = o.restart;
    // An earlier run put a conf in place whose restart failed, or died before restarting: the
    // conf on disk is as wanted, but IHS may still serve the old one.
    let owed = restart.restarts() && pending.exists();
    let changed = conf_changed || plan.page.is_some() || plan.remove_page.is_some() || owed;
    let diff = (ctx.diff && conf_changed).then(|| {
        let (mut before, mut after) = (String::new(), String::new());
        for &i in &changed_files {
            if changed_files.len() > 1 {
                let head = format!("# ==> {} <==\n", set.files[i].path().display());
                before.push_str(&head);
                after.push_str(&head);
            }
            before.push_str(&String::from_utf8_lossy(set.files[i].bytes()));
            after.push_str(&String::from_utf8_lossy(&plan.files[i]));
        }
        Diff {
            before,
            after,
            before_header: format!("{} (before)", path.display()),
            after_header: format!("{} (after)", path.display()),
        }
    });
    let base = |changed: bool| {
        Outcome::new(changed)
            .diff(diff.clone())
            .with("state", state)
            .with("conf_path", path.to_string_lossy())
            .with(
                "files",
                changed_files
                    .iter()
                    .map(|&i| set.files[i].path().to_string_lossy().into_owned())
                    .collect::<Vec<_>>(),
            )
    };
    if ctx.check_mode || !changed {
        return Ok(base(changed).with("restarted", false));
    }

    let needs_ctl = (conf_changed && o.validate) || ((conf_changed || owed) && restart.restarts());
    if needs_ctl && !apachectl.program.exists() {
        return Err(Error::invalid(format!(
            "apachectl not found at {}: set apachectl (or validate: false and restart: none)",
            apachectl.program.display()
        )));
    }

    let mut backup_file = None;
    if conf_changed {
        // Every new file is written beside its target first: one that cannot be written stops
        // the run with nothing changed.
        let mut temps = Vec::new();
        for &i in &changed_files {
            temps.push((
                i,
                TempFile::write(set.files[i].path(), &plan.files[i], 0o644)?,
            ));
        }
        let owed_before = pending.exists();
        let mut renamed: Vec<usize> = Vec::new();
        // Puts back every renamed file (and a page made for a conf that did not go live).
        let undo = |renamed: &[usize]| {
            for &i in renamed {
                let _ = write_atomic(set.files[i].path(), set.files[i].bytes(), 0o644);
            }
            if let (Some((page, _)), true) = (&plan.page, plan.page_is_new) {
                let _ = std::fs::remove_file(page);
            }
            if !owed_before {
                let _ = std::fs::remove_file(&pending);
            }
        };
        let put_in_place = (|| {
            if let Some((page, bytes)) = &plan.page {
                write_atomic(page, bytes, 0o644)?;
            }
            if o.backup {
                backup_file = Some(backup_copy(path)?);
            }
            // Owed until the restart succeeds, so that a rerun restarts even if this run dies
            // or its restart fails after the rename.
            if restart.restarts() {
                let owed = Owed {
                    state: state.to_string(),
                    page: plan.remove_page.clone(),
                };
                write_atomic(&pending, &owed.to_bytes(), 0o644)?;
            }
            // The main conf last: until it is renamed, the blocks already in Included files
            // are dormant copies of what the main conf will say (and a rerun finishes the job).
            for (i, t) in temps.drain(..).rev() {
                t.persist()?;
                renamed.push(i);
            }
            Ok::<(), Error>(())
        })();
        if let Err(e) = put_in_place {
            undo(&renamed);
            return Err(e.context(if renamed.is_empty() {
                "nothing was changed".to_string()
            } else {
                "the files already renamed were put back".to_string()
            }));
        }
        if o.validate {
            let out = apachectl.check(path)?;
            if !out.success() {
                undo(&renamed);
                return Err(Error::process(
                    format!(
                        "the new {} does not pass apachectl -t and was not put in place: {}",
                        path.display(),
                        out.error_line()
                    ),
                    process_error(apachectl, &["-t", "-f", &path.to_string_lossy()], &out),
                ));
            }
        }
    } else if let Some((page, bytes)) = &plan.page {
        write_atomic(page, bytes, 0o644)?;
    }

    let mut outcome = base(true);
    if let Some(b) = &backup_file {
        outcome = outcome.with("backup_file", b.to_string_lossy());
    }
    let mut restarted = false;
    if (conf_changed || owed) && restart.restarts() {
        let out = apachectl.signal(restart.as_str(), path)?;
        if !out.success() {
            let pe = process_error(apachectl, &["-k", restart.as_str()], &out);
            outcome.failed = true;
            outcome.msg = Some(format!(
                "maintenance mode is {state} in {}, but apachectl -k {} failed (exit {}): {}; the old configuration keeps serving until IHS restarts cleanly (running the task again retries the restart)",
                path.display(),
                restart.as_str(),
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
pub(crate) struct Owed {
    state: String,
    pub(crate) page: Option<PathBuf>,
}

impl Owed {
    /// The record beside `conf`; empty when there is none (or it cannot be read).
    pub(crate) fn read(conf: &Path) -> Owed {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restart_reads_and_writes_the_options_strings() {
        for (text, r) in [
            ("restart", Restart::Full),
            ("graceful", Restart::Graceful),
            ("none", Restart::Skip),
        ] {
            let read: Restart = serde_json::from_value(serde_json::json!(text)).unwrap();
            assert_eq!(read, r);
            assert_eq!(r.as_str(), text);
            assert_eq!(r.restarts(), text != "none");
        }
        assert!(serde_json::from_value::<Restart>(serde_json::json!("reload")).is_err());
    }
}
