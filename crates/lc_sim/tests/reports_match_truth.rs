//! For a damaged cell of 1,000 communities, the reports produced through the documented calls
//! (each app's exportSyncedResourceInfo, then generateSyncReports, all run by wsadmin.sh) list
//! exactly the differences and orphans of the ground truth.

mod common;

use std::collections::BTreeSet;

use common::{read_report, truth_sets, DiffKey, OrphanKey, TestCell};
use lc_core::apps::APPS;
use lc_core::formats::report::{self, Column};
use serde_json::Value;

fn export_and_report_script(cell: &TestCell, out: &str) -> String {
    let mut s = String::from("batchMode = 1\nexecfile(\"communitiesAdmin.py\")\n");
    let mut loaded = Vec::new();
    for app in APPS {
        if !loaded.contains(&app.admin_script) {
            s.push_str(&format!("execfile(\"{}\")\n", app.admin_script));
            loaded.push(app.admin_script);
        }
        let extra = app
            .export_extra
            .map(|e| format!(", \"{e}\""))
            .unwrap_or_default();
        // The file name says nothing of the app: the reports take it from the XML.
        s.push_str(&format!(
            "{}.exportSyncedResourceInfo(\"{out}/export-{n}.xml\", \"community\"{extra})\n\
             CommunitiesRemoteAppService.generateSyncReports(\"{out}/export-{n}.xml\", \"{out}\")\n",
            app.service,
            n = loaded.len() * 10 + usize::from(app.export_extra.is_some()),
        ));
    }
    s.push_str("print \"==done==\"\n");
    let _ = cell;
    s
}

fn label(c: Column) -> &'static str {
    report::label(c)
}

fn reported(out: &std::path::Path) -> (BTreeSet<DiffKey>, BTreeSet<OrphanKey>) {
    let mut diffs = BTreeSet::new();
    let mut orphans = BTreeSet::new();
    for app in APPS {
        for row in read_report(&out.join(format!("{}{}", app.id, report::DIFFERENCES_SUFFIX))) {
            diffs.insert((
                app.id.to_string(),
                row[label(Column::CommunityUuid)].clone(),
                row[label(Column::CommunityName)].clone(),
                row[label(Column::Field)].clone(),
                row[label(Column::CommunitiesValue)].clone(),
                row[label(Column::ApplicationValue)].clone(),
            ));
        }
        for row in read_report(&out.join(format!("{}{}", app.id, report::ORPHANS_SUFFIX))) {
            let exists = match row[label(Column::CommunityExists)].as_str() {
                "yes" => true,
                "no" => false,
                other => panic!("Community Exists = {other:?}"),
            };
            orphans.insert((
                app.id.to_string(),
                row[label(Column::ObjectId)].clone(),
                row[label(Column::OldCommunityUuid)].clone(),
                exists,
            ));
        }
    }
    (diffs, orphans)
}

fn check(restore: &[&str], seed: &str) -> Value {
    let cell = TestCell::new(&["--communities", "1000", "--seed", seed]);
    let clean = cell.truth();
    assert!(clean["differences"].as_array().unwrap().is_empty());
    assert!(clean["orphans"].as_array().unwrap().is_empty());

    let mut args = vec!["--restore"];
    args.extend_from_slice(restore);
    let record = cell.damage(&args);
    let truth = cell.truth();
    let (tdiffs, torphans) = truth_sets(&truth);
    assert!(
        !tdiffs.is_empty() && !torphans.is_empty(),
        "the damage made no report rows"
    );

    // What the damage recorded doing is what the truth says.
    for d in record["differences"].as_array().unwrap() {
        let (app, uuid, field) = (
            d[0].as_str().unwrap(),
            d[1].as_str().unwrap(),
            d[2].as_str().unwrap(),
        );
        assert!(
            tdiffs
                .iter()
                .any(|t| t.0 == app && t.1 == uuid && t.3 == field),
            "recorded difference {d} not in the truth"
        );
    }
    let recorded_orphans: BTreeSet<OrphanKey> = record["orphans"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o[0].as_str().unwrap().to_string(),
                o[1].as_str().unwrap().to_string(),
                o[2].as_str().unwrap().to_string(),
                o[3].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(recorded_orphans, torphans);

    let out = cell.scratch("reports");
    let script = export_and_report_script(&cell, out.to_str().unwrap());
    let run = cell.run_script(&script, &[], "");
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.section("done"), Vec::<String>::new());

    let (rdiffs, rorphans) = reported(&out);
    assert_eq!(rdiffs, tdiffs, "differences: reports vs truth");
    assert_eq!(rorphans, torphans, "orphans: reports vs truth");

    // The modules' own readers (lc_core) find the same in the same files.
    let columns = lc_core::report::ColumnMap::new(&Default::default()).unwrap();
    let mut core_diffs = BTreeSet::new();
    let mut core_orphans = BTreeSet::new();
    for app in APPS {
        let d = out.join(format!("{}{}", app.id, report::DIFFERENCES_SUFFIX));
        for x in lc_core::report::read_differences(&d, app.id, &columns).unwrap() {
            core_diffs.insert((
                x.application,
                x.community_uuid,
                x.community_name,
                x.field,
                x.communities_value,
                x.application_value,
            ));
        }
        let o = out.join(format!("{}{}", app.id, report::ORPHANS_SUFFIX));
        for x in lc_core::report::read_orphans(&o, app.id, &columns).unwrap() {
            core_orphans.insert((
                x.application,
                x.object_id,
                x.old_community_uuid,
                x.community_exists
                    .expect("lc-sim's orphans reports say whether the community exists"),
            ));
        }
    }
    assert_eq!(core_diffs, tdiffs, "differences: lc_core's reader vs truth");
    assert_eq!(core_orphans, torphans, "orphans: lc_core's reader vs truth");
    let mut exported = BTreeSet::new();
    for entry in std::fs::read_dir(&out).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().is_some_and(|e| e == "xml") {
            let summary = lc_core::export::summarize(&p).unwrap();
            assert_eq!(summary.layout, lc_core::export::Layout::Recognized);
            assert_eq!(summary.applications.len(), 1);
            exported.extend(summary.applications);
        }
    }
    assert_eq!(exported.len(), APPS.len());

    // The communities to contact are exactly those of the differences, less the Wiki moderation
    // differences that do not matter (admin-surface.md §6).
    let contacts: BTreeSet<String> = truth["communities_to_contact"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["uuid"].as_str().unwrap().to_string())
        .collect();
    let diff_uuids: BTreeSet<String> = tdiffs
        .iter()
        .filter(|d| !(d.0 == "Wiki" && d.3 == "moderation"))
        .map(|d| d.1.clone())
        .collect();
    assert_eq!(contacts, diff_uuids);
    for c in truth["communities_to_contact"].as_array().unwrap() {
        if c["applications"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a == "Wiki")
        {
            assert!(
                tdiffs
                    .iter()
                    .any(|d| d.0 == "Wiki" && d.1 == c["uuid"] && d.3 != "moderation"),
                "{c}"
            );
        }
    }
    truth
}

#[test]
fn communities_restore_reports_match_the_truth() {
    let truth = check(&["communities"], "11");
    // Several apps differ; both kinds of orphans are there.
    let apps: BTreeSet<&str> = truth["differences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["application"].as_str().unwrap())
        .collect();
    assert!(apps.len() >= 3, "{apps:?}");
    let orphans = truth["orphans"].as_array().unwrap();
    assert!(orphans.iter().any(|o| o["community_exists"] == true));
    assert!(orphans.iter().any(|o| o["community_exists"] == false));
}

#[test]
fn wiki_moderation_differences_put_nobody_on_the_contact_list() {
    let truth = check(&["Wiki"], "3");
    let moderation_only: BTreeSet<&str> = truth["differences"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["field"] == "moderation")
        .map(|d| d["community_uuid"].as_str().unwrap())
        .collect();
    assert!(!moderation_only.is_empty());
    for c in truth["communities_to_contact"].as_array().unwrap() {
        assert!(
            !moderation_only.contains(c["uuid"].as_str().unwrap()),
            "{c}"
        );
    }
}

#[test]
fn single_app_restore_reports_match_the_truth() {
    let truth = check(&["Blog"], "12");
    // Only Blog differs, only Blog has orphans, only Blog's queued events are stale.
    for k in ["differences", "orphans"] {
        for row in truth[k].as_array().unwrap() {
            assert_eq!(row["application"], "Blog", "{row}");
        }
    }
    for (app, n) in truth["stale_events"].as_object().unwrap() {
        assert_eq!(
            n.as_u64().unwrap() > 0,
            app == "Blog",
            "stale events of {app}: {n}"
        );
    }
    let healthy: u64 = truth["healthy_events"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert!(healthy > 0);
    assert_eq!(truth["healthy_events"]["Blog"], 0);
}
