//! Cells and scenarios without wsadmin: the same seed gives the same cell, every kind of damage
//! is in the ground truth, the benchmark files are written streaming in our layouts.

mod common;

use common::{lc_sim, lc_sim_json, read_report, read_report_in, TestCell};
use lc_core::formats::report;
use lc_sim::dialect::Kind;
use serde_json::Value;

fn data(cell: &TestCell) -> (Value, Value) {
    let w: Value =
        serde_json::from_slice(&std::fs::read(cell.dir.join("state/world.json")).unwrap()).unwrap();
    (w["communities"].clone(), w["resources"].clone())
}

#[test]
fn the_same_seed_gives_the_same_cell() {
    let a = TestCell::new(&["--communities", "50", "--seed", "77"]);
    let b = TestCell::new(&["--communities", "50", "--seed", "77"]);
    let c = TestCell::new(&["--communities", "50", "--seed", "78"]);
    assert_eq!(data(&a), data(&b));
    assert_ne!(data(&a), data(&c));
    assert_eq!(a.config["admin_password"], b.config["admin_password"]);
    for k in [
        "admin_user",
        "admin_password",
        "wsadmin_path",
        "dmgr",
        "version",
        "apps",
        "ihs",
    ] {
        assert!(a.config.get(k).is_some(), "cell.json lacks {k}");
    }
    assert_eq!(a.config["dmgr"]["port"], 8879);
    a.damage(&["--restore", "communities", "Wiki"]);
    b.damage(&["--restore", "communities", "Wiki"]);
    assert_eq!(a.truth()["differences"], b.truth()["differences"]);
}

#[test]
fn every_damage_is_in_the_truth_and_trash_gives_false_visibility_differences() {
    for restore in [
        vec!["communities"],
        vec!["Activities"],
        vec!["IdeationBlog"],
        vec!["StatusUpdates", "Forum"],
        vec!["communities", "Files"],
    ] {
        let cell = TestCell::new(&["--communities", "200", "--seed", "21"]);
        let mut args = vec!["--restore"];
        args.extend_from_slice(&restore);
        args.extend_from_slice(&["--backup-age", "30", "--trash", "2"]);
        let rec = cell.damage(&args);
        let truth = cell.truth();
        assert!(
            rec["differences"].as_array().unwrap().len() >= 2,
            "{restore:?}"
        );
        assert!(
            !rec["orphans"].as_array().unwrap().is_empty(),
            "{restore:?}"
        );
        for d in rec["differences"].as_array().unwrap() {
            assert!(
                truth["differences"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|t| t["application"] == d[0]
                        && t["community_uuid"] == d[1]
                        && t["field"] == d[2]),
                "{restore:?}: {d} missing"
            );
        }
        assert_eq!(
            rec["orphans"].as_array().unwrap().len(),
            truth["orphans"].as_array().unwrap().len(),
            "{restore:?}"
        );
        let stale: u64 = truth["stale_events"]
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_u64().unwrap())
            .sum();
        assert_eq!(stale, rec["stale_events"].as_u64().unwrap());
        // Communities in Trash: Communities says private.
        let trash: Vec<&Value> = truth["differences"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["field"] == "visibility" && d["communities_value"] == "private")
            .collect();
        assert!(!trash.is_empty(), "{restore:?}");
        for c in truth["communities_to_contact"].as_array().unwrap() {
            assert!(!c["created_by"].as_str().unwrap().is_empty());
            assert!(!c["applications"].as_array().unwrap().is_empty());
            assert!(!c["fields"].as_array().unwrap().is_empty());
        }
    }
}

#[test]
fn ihs_stand_ins_are_recorded_in_cell_json() {
    let cell = TestCell::new(&["--communities", "3", "--ihs", "2"]);
    let ihs = cell.config["ihs"].as_array().unwrap();
    assert_eq!(ihs.len(), 2);
    assert_ne!(ihs[0]["port"], ihs[1]["port"]);
    for (k, i) in ihs.iter().enumerate() {
        assert_eq!(i["name"], format!("ihs{}", k + 1));
        assert!(i["root"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/ihs/ihs{}", k + 1)));
        assert!(std::path::Path::new(i["conf_path"].as_str().unwrap()).is_file());
    }
}

#[test]
fn a_running_task_finishes_on_tick_and_is_suspended_by_pause() {
    let cell = TestCell::new(&["--communities", "3"]);
    cell.fault(&["--running", "LifecycleRetryQueuedEvents"]);
    assert_eq!(
        cell.status()["scheduler"]["LifecycleRetryQueuedEvents"],
        "RUNNING"
    );
    lc_sim_json(&["tick", cell.path()]);
    assert_eq!(
        cell.status()["scheduler"]["LifecycleRetryQueuedEvents"],
        "SCHEDULED"
    );
}

#[test]
fn refuses_bad_options() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("c");
    let d = d.to_str().unwrap();
    let r = lc_sim(&["init", d, "--version", "lc25", "--apps", "Forum"]);
    assert_ne!(r.code, 0);
    assert!(
        r.stderr
            .contains("Forum is not a remote application of Lotus Connections 2.5"),
        "{}",
        r.stderr
    );
    let r = lc_sim(&["init", d, "--apps", "Blogs"]);
    assert!(
        r.stderr.contains("unknown application id \"Blogs\""),
        "{}",
        r.stderr
    );
    lc_sim_json(&["init", d, "--communities", "3", "--apps", "Files,Wiki"]);
    let r = lc_sim(&["init", d]);
    assert!(r.stderr.contains("already holds a cell"));
    let r = lc_sim(&["damage", d, "--restore", "Blog"]);
    assert!(
        r.stderr
            .contains("neither `communities` nor an application of this cell"),
        "{}",
        r.stderr
    );
}

#[test]
fn benchmark_files_are_streamed_in_every_dialect() {
    let tmp = tempfile::tempdir().unwrap();
    for d in lc_sim::dialect::ALL {
        let xml = tmp.path().join(format!("big-{d}.xml"));
        let out = lc_sim_json(&[
            "gen-export",
            xml.to_str().unwrap(),
            "--app",
            "Wiki",
            "--resources",
            "20000",
            "--dialect",
            d.name(),
        ]);
        assert_eq!(out["resources"], 20000);
        let file = std::io::BufReader::new(std::fs::File::open(&xml).unwrap());
        let mut n = 0;
        let mut app = String::new();
        lc_sim::files::read_export(*d, file, |item| {
            match item {
                lc_sim::files::Item::App(a) => app = a,
                lc_sim::files::Item::Record(_) => n += 1,
            }
            Ok(())
        })
        .unwrap();
        assert_eq!((app.as_str(), n), ("Wiki", 20000), "{d}");

        let dir = tmp.path().join(format!("reports-{d}"));
        let out = lc_sim_json(&[
            "gen-report",
            dir.to_str().unwrap(),
            "--app",
            "Forum",
            "--rows",
            "3000",
            "--dialect",
            d.name(),
        ]);
        assert_eq!(
            (out["differences"].as_u64(), out["orphans"].as_u64()),
            (Some(3000), Some(3000))
        );
        let forum = lc_core::apps::by_id("Forum").unwrap();
        for (i, kind) in [Kind::Differences, Kind::Orphans].into_iter().enumerate() {
            let path = dir.join(lc_sim::files::report_file(*d, kind, forum));
            assert_eq!(out["files"][i].as_str(), path.to_str());
            let rows = read_report_in(&path, *d, kind, forum);
            assert_eq!(rows.len(), 3000, "{d} {kind:?}");
        }
    }
    // The default dialect's labels are lc_core::formats' own.
    let dir = tmp.path().join("reports-lcsim");
    let rows = read_report(&dir.join(format!("Forum{}", report::DIFFERENCES_SUFFIX)));
    assert!(rows[0].contains_key(report::label(report::Column::CommunityUuid)));
}
