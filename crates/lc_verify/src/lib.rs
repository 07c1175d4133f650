//! The lc_verify module: options, and from the two reports to the follow-up's files.
//!
//! Without `current`, the module only reads the baseline (the recovery's `recovery-report.json`,
//! or the one written after its resync when that is no older) and returns what it holds, the
//! applications to export again first: verify.yml does that before anything else, so that a
//! missing baseline stops it at once, with one line naming the file. With `current` (the fresh
//! report of the same applications) it compares the two ([`lc_core::verify`]), carrying the
//! "since" times of the previous `verify-report.json` in `dest`, and writes the new one there
//! with its HTML page. Nothing else is read or written; check mode reads the baseline and
//! writes nothing.

use lc_core::verify::{self, Baseline, Verification};
use lc_core::{Context, Error, Module, Outcome};
use std::path::{Path, PathBuf};

pub struct Verify;

lc_core::options! {
    #[derive(Debug)]
    pub struct Options {
        pub baseline: String => path().required(),
        pub baseline_after_resync: Option<String> => path(),
        pub current: Option<String> => path(),
        pub dest: Option<String> => path(),
    }
}

impl Module for Verify {
    const NAME: &'static str = "lc_verify";
    type Options = Options;

    fn run(o: Options, ctx: &Context) -> Result<Outcome, Error> {
        let path = Baseline::choose(
            Path::new(&o.baseline),
            o.baseline_after_resync.as_deref().map(Path::new),
        );
        let (baseline, before) = Baseline::load(&path)?;
        if baseline.applications.is_empty() {
            return Err(Error::invalid(format!(
                "the recovery report {} lists no application whose reports were read: there is nothing to follow up",
                baseline.path
            )));
        }
        let about = format!(
            "the recovery report {} ({}: {} communities to contact, {} orphans, applications {})",
            baseline.path,
            baseline.time,
            baseline.communities,
            baseline.orphans,
            baseline.applications.join(", ")
        );
        let Some(current) = o.current else {
            return Ok(Outcome::new(false)
                .msg(format!("read {about}"))
                .with("baseline", &baseline));
        };
        let dest = PathBuf::from(o.dest.as_deref().ok_or_else(|| {
            Error::invalid("dest is required with current: the folder of verify-report.json")
        })?);
        if ctx.check_mode {
            return Ok(Outcome::new(true)
                .msg(format!(
                    "would compare {current} with {about} and write {} and {} in {}",
                    verify::JSON_FILE,
                    verify::HTML_FILE,
                    dest.display()
                ))
                .with("baseline", &baseline));
        }
        let current_path = PathBuf::from(&current);
        let now = verify::read_report(&current_path)?;
        let missing: Vec<&String> = baseline
            .applications
            .iter()
            .filter(|a| {
                !now.counts.applications.contains_key(*a)
                    && !now.unread.iter().any(|u| &u.application == *a)
            })
            .collect();
        if !missing.is_empty() {
            return Err(Error::invalid(format!(
                "the fresh report {current} does not cover {} of the recovery report {}: export and report every application it lists",
                missing.iter().map(|a| a.as_str()).collect::<Vec<_>>().join(", "),
                baseline.path
            )));
        }
        let previous_path = dest.join(verify::JSON_FILE);
        let previous = Verification::read(&previous_path);
        let shown = previous_path.display().to_string();
        let checked = verify::rfc3339(std::time::SystemTime::now());
        let v = Verification::compare(
            baseline,
            &before,
            &current,
            &now,
            previous.as_ref().map(|p| (shown.as_str(), p)),
            &checked,
        );
        let outputs = v.write(&dest)?;
        let c = &v.counts;
        let mut msg = format!(
            "{} of {} communities in step again, {} still differ, {} appeared since the recovery; {} of {} orphans remain, {} resolved, {} appeared; report: {}",
            c.in_step,
            c.baseline_communities,
            c.still_differ,
            c.appeared,
            c.orphans_remaining,
            c.baseline_orphans,
            c.orphans_resolved,
            c.orphans_appeared,
            outputs.html.display()
        );
        let mut outcome = Outcome::new(true);
        if !v.current.unread.is_empty() || c.not_checked + c.orphans_not_checked > 0 {
            let line = format!(
                "not checked: {} communities and {} orphans, as the fresh reports of {} were not read",
                c.not_checked,
                c.orphans_not_checked,
                v.current
                    .unread
                    .iter()
                    .map(|u| u.application.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            msg.push_str(&format!("; warning: {line}"));
            outcome = outcome.warn(line);
        }
        Ok(outcome
            .msg(msg)
            .with("checked", &v.checked)
            .with("baseline", &v.baseline)
            .with("previous", &v.previous)
            .with("in_step", &v.in_step)
            .with("still_differ", &v.still_differ)
            .with("appeared", &v.appeared)
            .with("not_checked", &v.not_checked)
            .with("orphans_remaining", &v.orphans_remaining)
            .with("orphans_resolved", &v.orphans_resolved)
            .with("orphans_appeared", &v.orphans_appeared)
            .with("orphans_not_checked", &v.orphans_not_checked)
            .with("counts", v.counts)
            .with("report_html", outputs.html.display().to_string())
            .with("report_json", outputs.json.display().to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lc_core::recovery::{CommunityDetails, Recovery};
    use lc_core::report::Difference;
    use std::collections::HashMap;

    fn report(apps: &[&str], uuids: &[&str]) -> Recovery {
        let apps: Vec<String> = apps.iter().map(|a| a.to_string()).collect();
        let differences = uuids
            .iter()
            .map(|u| Difference {
                application: apps[0].clone(),
                community_uuid: u.to_string(),
                community_name: format!("c {u}"),
                field: "visibility".into(),
                communities_value: "public".into(),
                application_value: "private".into(),
            })
            .collect();
        Recovery::new(
            &apps,
            differences,
            Vec::new(),
            &HashMap::<String, CommunityDetails>::new(),
        )
    }

    fn options(dir: &Path, current: Option<&str>) -> Options {
        Options {
            baseline: dir.join("recovery-report.json").display().to_string(),
            baseline_after_resync: None,
            current: current.map(|c| dir.join(c).display().to_string()),
            dest: Some(dir.join("verify").display().to_string()),
        }
    }

    const U1: &str = "11111111-0000-4000-8000-000000000001";
    const U2: &str = "22222222-0000-4000-8000-000000000002";

    #[test]
    fn check_mode_and_the_read_alone_write_nothing() {
        let dir = tempfile::tempdir().unwrap();
        report(&["Blog"], &[U1, U2]).write(dir.path()).unwrap();
        let fresh = dir.path().join("fresh");
        report(&["Blog"], &[U2]).write(&fresh).unwrap();
        let read = Verify::run(options(dir.path(), None), &Context::default()).unwrap();
        assert!(!read.changed);
        assert!(read.fields["baseline"]["applications"] == serde_json::json!(["Blog"]));
        let check = Context {
            check_mode: true,
            ..Context::default()
        };
        let planned = Verify::run(
            options(dir.path(), Some("fresh/recovery-report.json")),
            &check,
        )
        .unwrap();
        assert!(planned.changed);
        assert!(!dir.path().join("verify").exists());

        let done = Verify::run(
            options(dir.path(), Some("fresh/recovery-report.json")),
            &Context::default(),
        )
        .unwrap();
        assert!(done.changed);
        assert_eq!(done.fields["counts"]["in_step"], 1);
        assert_eq!(done.fields["still_differ"][0]["uuid"], U2);
        assert!(dir.path().join("verify").join(verify::JSON_FILE).is_file());
    }

    #[test]
    fn a_fresh_report_that_misses_an_application_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        report(&["Blog", "Files"], &[U1]).write(dir.path()).unwrap();
        let fresh = dir.path().join("fresh");
        report(&["Blog"], &[]).write(&fresh).unwrap();
        let err = Verify::run(
            options(dir.path(), Some("fresh/recovery-report.json")),
            &Context::default(),
        )
        .unwrap_err();
        assert_eq!(
            err.one_line(),
            format!(
                "the fresh report {} does not cover Files of the recovery report {}: export and report every application it lists",
                fresh.join("recovery-report.json").display(),
                dir.path().join("recovery-report.json").display()
            )
        );
        assert!(!dir.path().join("verify").exists());
    }
}
