//! `state: disabled`: the managed block and the page removed, IHS restarted, and the check that
//! the probes get again what they got before maintenance.

use lc_core::httpd_conf::ConfSet;
use lc_core::{Context, Error, Outcome};
use serde_json::json;
use std::path::PathBuf;
use std::time::Duration;

use crate::apply::{apachectl_for, apply, Owed};
use crate::probes::{probe_rows, probes_path, read_record, Probes};
use crate::{note, Options, Plan};

pub(crate) fn disable(o: &Options, set: ConfSet, ctx: &Context) -> Result<Outcome, Error> {
    let conf = &set.files[0];
    let remove_page = set
        .files
        .iter()
        .find_map(|f| f.page_written().map(PathBuf::from))
        .or(Owed::read(conf.path()).page)
        .filter(|p| p.exists());
    let plan = Plan {
        files: set.disabled(),
        page: None,
        page_is_new: false,
        remove_page,
    };
    let apachectl = apachectl_for(o, conf);
    let outcome = apply(o, &set, &plan, &apachectl, ctx, "disabled")?;
    let mut outcome = outcome.with("allowed", Vec::<String>::new());
    if outcome.failed || ctx.check_mode {
        return Ok(outcome.with("verified", false).with("probes", json!([])));
    }
    let record_path = probes_path(conf.path());
    if !o.verify {
        // Maintenance is off without a comparison: the record says nothing about a next time.
        let _ = std::fs::remove_file(&record_path);
        return Ok(outcome.with("verified", false).with("probes", json!([])));
    }
    let Some((source, record)) = read_record(&record_path) else {
        outcome = note(
            outcome,
            "no probes were recorded when maintenance mode was turned on: what users get now was not compared".into(),
        );
        return Ok(outcome.with("verified", false).with("probes", json!([])));
    };
    let restarted = outcome.fields.get("restarted") == Some(&json!(true));
    if !restarted && outcome.changed {
        outcome = note(outcome, "what users get now was not compared with before maintenance: IHS was not restarted (restart: none)".into());
        return Ok(outcome.with("verified", false).with("probes", json!([])));
    }
    let probes = Probes {
        targets: record.iter().map(|(t, _)| t.clone()).collect(),
        source,
        timeout: Duration::from_secs(o.probe_timeout as u64),
    };
    let before: Vec<Option<u16>> = record.iter().map(|(_, s)| *s).collect();
    let results = probes.run_until_each(|i, a| a.status() == before[i]);
    let rows = probe_rows(&probes, &results, |_| false, Some(&before));
    if let Some(((t, a), b)) = probes
        .targets
        .iter()
        .zip(&results)
        .zip(&before)
        .find(|((_, a), b)| a.status() != **b)
    {
        outcome.failed = true;
        outcome.msg = Some(format!(
            "maintenance mode is off, but {} Host {} {} answered {} where it answered {} before maintenance",
            t.listener,
            t.host,
            t.path,
            a.describe(),
            b.map_or("connection refused".to_string(), |s| s.to_string())
        ));
        return Ok(outcome.with("verified", false).with("probes", rows));
    }
    let _ = std::fs::remove_file(&record_path);
    outcome = note(
        outcome,
        format!("all {} probes answer as before maintenance", results.len()),
    );
    if !outcome.changed {
        outcome.msg = None;
    }
    Ok(outcome.with("verified", true).with("probes", rows))
}
