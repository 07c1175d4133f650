//! `state: enabled`: the page and the managed block written, IHS restarted, and the proof that
//! everyone outside `allow_from` gets the page (else the files are put back).

use crate::probe::Answer;
use lc_core::fs::write_atomic;
use lc_core::httpd_conf::{
    self, check_assets_path, check_error_codes, check_page_name, parse_allow_from, Access,
    Apachectl, ConfSet, Maintenance,
};
use lc_core::{Context, Error, Outcome};
use serde_json::json;
use std::path::{Path, PathBuf};

use crate::apply::{apachectl_for, apply, restart_pending_path, Owed, Restart};
use crate::probes::{listener_rows, probe_rows, probes_path, record_bytes, Probes};
use crate::{note, Options, Plan};

pub(crate) fn enable(o: &Options, set: ConfSet, ctx: &Context) -> Result<Outcome, Error> {
    let conf = &set.files[0];
    let allow = parse_allow_from(&o.allow_from)?;
    check_page_name(&o.page_name)?;
    if let Some(a) = &o.assets_path {
        check_assets_path(a)?;
    }
    let error_codes = check_error_codes(&o.error_codes)?;

    let apachectl = apachectl_for(o, conf);
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
    // The server-level block (in the main conf) records the page and the access form; blocks in
    // Included files alone are what a run that died before renaming the main conf left.
    let blocks: Vec<_> = conf.blocks().to_vec();
    let any_block = set.files.iter().any(|f| !f.blocks().is_empty());
    let recorded_page = set
        .files
        .iter()
        .find_map(|f| f.page_written().map(str::to_string));
    // A page this module wrote is recorded in the block, or, once the block is gone but the
    // restart that would stop serving the page failed, in the owed restart's record.
    let owed_page = Owed::read(conf.path()).page;
    let ours_before = recorded_page.as_deref().is_some_and(|p| p == page_str)
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
    let remove_page = recorded_page
        .clone()
        .map(PathBuf::from)
        .or(owed_page)
        .filter(|p| *p != page_path && p.exists());

    let loads = blocks.iter().find_map(|b| b.loads_access_compat.clone());
    let access = match (&loads, blocks.is_empty()) {
        (Some(path), _) => Access::CompatLoading(path.clone()),
        (None, false) if blocks.iter().any(|b| b.uses_require) => Access::Require,
        (None, false) => Access::Compat,
        (None, true) => match conf.detect_access(|p| p.exists()) {
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
    let readonly: Vec<PathBuf> = o
        .readonly_files
        .iter()
        .map(|p| canonical(Path::new(p)))
        .collect();
    let files = set
        .enabled(&m, &|p| readonly.contains(&canonical(p)))
        .map_err(|e| e.context("enabling maintenance mode"))?;
    let plan = Plan {
        files,
        page: page_write.map(|w| (page_path.clone(), w)),
        page_is_new: existing.is_none(),
        remove_page,
    };
    let allowed: Vec<&str> = allow.iter().map(|a| a.as_str()).collect();
    let probes = Probes::plan(o, &set, &allow)?;
    // What users get before maintenance: the baseline disabling compares with. Taken only
    // while maintenance is off (a rerun keeps the record of the first run).
    let baseline_needed =
        !any_block && !probes_path(conf.path()).exists() && !ctx.check_mode && o.verify;
    let baseline = match (&probes, baseline_needed) {
        (Ok(p), true) => Some(p.run_once()),
        _ => None,
    };
    let outcome = apply(o, &set, &plan, &apachectl, ctx, "enabled")?;
    let mut outcome = outcome
        .with("allowed", allowed)
        .with("page", &page_str)
        .with("document_root", document_root.to_string_lossy())
        .with("access", access.name())
        .with("listeners", listener_rows(&set))
        .with("page_sha256", lc_core::export::sha256_of(&page_path).ok());
    if outcome.failed || ctx.check_mode {
        return Ok(outcome.with("verified", false).with("probes", json!([])));
    }
    if let Some(b) = &baseline {
        if let Ok(p) = &probes {
            write_atomic(
                &probes_path(set.files[0].path()),
                &record_bytes(p.source, b),
                0o600,
            )?;
        }
    }
    let restarted = outcome.fields.get("restarted") == Some(&json!(true));
    let probes = match probes {
        Ok(p) if o.verify && (restarted || !outcome.changed) => p,
        Ok(_) => {
            if o.verify {
                outcome = note(outcome, "maintenance mode was not verified from outside: IHS was not restarted (restart: none)".into());
            }
            return Ok(outcome.with("verified", false).with("probes", json!([])));
        }
        Err(why) => {
            outcome = note(
                outcome,
                format!("maintenance mode is on, but it was not verified from outside: {why}"),
            );
            return Ok(outcome.with("verified", false).with("probes", json!([])));
        }
    };
    let page = std::fs::read(&page_path).unwrap_or_default();
    let results = probes.run_until(|a| is_maintenance(a, &page));
    let rows = probe_rows(&probes, &results, |a| is_maintenance(a, &page), None);
    if let Some((t, a)) = probes
        .targets
        .iter()
        .zip(&results)
        .find(|(_, a)| !is_maintenance(a, &page))
    {
        let what = match a {
            Answer::Http { status, .. } if *status == 401 || *status == 403 => {
                format!("{status} without the maintenance page")
            }
            other => other.describe(),
        };
        let undo = restore(o, &set, &plan, &apachectl)?;
        if baseline.is_some() {
            let _ = std::fs::remove_file(probes_path(set.files[0].path()));
        }
        outcome.failed = true;
        outcome.msg = Some(format!(
            "maintenance mode did not take effect: {} Host {} {} answered {what} to {} (not in allow_from); {undo}",
            t.listener, t.host, t.path, probes.source
        ));
        return Ok(outcome.with("verified", false).with("probes", rows));
    }
    Ok(outcome
        .with("verified", true)
        .with("probe_source", probes.source.to_string())
        .with("probes", rows))
}

fn canonical(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf())
}

/// A 401/403 whose body is the maintenance page.
fn is_maintenance(a: &Answer, page: &[u8]) -> bool {
    matches!(a, Answer::Http { status: 401 | 403, body } if body == page)
}

/// After a failed proof: the files as they were before this call, the page removed if this
/// call made it, IHS restarted on them. Returns what was done, for the message.
fn restore(
    o: &Options,
    set: &ConfSet,
    plan: &Plan,
    apachectl: &Apachectl,
) -> Result<String, Error> {
    let mut put_back = Vec::new();
    for (f, new) in set.files.iter().zip(&plan.files) {
        if new.as_slice() != f.bytes() {
            write_atomic(f.path(), f.bytes(), 0o644)?;
            put_back.push(f.path().display().to_string());
        }
    }
    if let (Some((page, _)), true) = (&plan.page, plan.page_is_new) {
        let _ = std::fs::remove_file(page);
    }
    if put_back.is_empty() {
        return Ok("nothing was changed by this run".into());
    }
    // Put back, the old conf must serve again even when this run was told not to restart.
    let signal = match o.restart {
        Restart::Skip => Restart::Graceful,
        r => r,
    };
    let out = apachectl.signal(signal.as_str(), set.files[0].path())?;
    if out.success() {
        let _ = std::fs::remove_file(restart_pending_path(set.files[0].path()));
        Ok(format!(
            "{} put back as before this run, and IHS restarted on them",
            put_back.join(", ")
        ))
    } else {
        Ok(format!(
            "{} put back as before this run, but apachectl -k failed: {}",
            put_back.join(", "),
            out.tail(2)
        ))
    }
}
