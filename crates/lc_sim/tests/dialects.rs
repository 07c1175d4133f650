//! Every dialect through wsadmin: the admin scripts are only where the dialect keeps them, the
//! printed maps, queue tables and extra lines are the dialect's and still read by lc_core, and
//! for a damaged cell of 1,000 communities the reports that generateSyncReports writes from the
//! dialect's own exports list exactly the ground truth.

mod common;

use std::collections::BTreeSet;
use std::path::PathBuf;

use common::{read_report_in, truth_sets, TestCell};
use lc_core::apps::{self, APPS};
use lc_core::formats::report::Column;
use lc_sim::dialect::{Dialect, Kind, Value as V, ALL};
use serde_json::Value;

fn cell_in(d: Dialect, extra: &[&str]) -> TestCell {
    let mut args = vec!["--dialect", d.name()];
    args.extend_from_slice(extra);
    TestCell::new(&args)
}

/// Where the dialect keeps admin script `file` (as cell.json and the dialect say).
fn script(cell: &TestCell, d: Dialect, file: &str) -> PathBuf {
    let profile = cell.bin().parent().unwrap().to_path_buf();
    d.script_path(&cell.dir, &profile, file)
}

#[test]
fn admin_scripts_are_only_where_the_dialect_keeps_them() {
    for d in ALL {
        let cell = cell_in(*d, &["--communities", "3"]);
        assert_eq!(cell.config["dialect"], d.name());
        let dir = PathBuf::from(cell.config["admin_scripts_dir"].as_str().unwrap());
        let mut found: Vec<PathBuf> = Vec::new();
        let mut stack = vec![cell.dir.clone()];
        while let Some(p) = stack.pop() {
            for e in std::fs::read_dir(&p).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                } else if p.to_string_lossy().ends_with("Admin.py") {
                    found.push(p);
                }
            }
        }
        found.sort();
        let mut expected: Vec<PathBuf> = std::iter::once(apps::COMMUNITIES_SCRIPT)
            .chain(APPS.iter().map(|a| a.admin_script))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .map(|f| script(&cell, *d, f))
            .collect();
        expected.sort();
        assert_eq!(found, expected, "{d}");
        assert!(
            expected.iter().any(|p| p.parent() == Some(dir.as_path())),
            "{d}"
        );
        let in_bin = cell.bin().join(apps::COMMUNITIES_SCRIPT).exists();
        assert_eq!(
            in_bin,
            matches!(d, Dialect::Lcsim | Dialect::Compact),
            "{d}"
        );
        let in_config = cell
            .bin()
            .parent()
            .unwrap()
            .join("config/bin_lc_admin/wikisAdmin.py");
        assert_eq!(
            in_config.exists(),
            matches!(d, Dialect::Classic | Dialect::Compact),
            "{d}"
        );
        if *d == Dialect::Modern {
            assert!(!dir.starts_with(cell.bin().parent().unwrap()), "{dir:?}");
        }
    }
}

#[test]
fn maps_queue_tables_and_extra_lines_stay_readable() {
    for d in ALL {
        let cell = cell_in(*d, &["--communities", "40", "--seed", "2"]);
        cell.damage(&["--restore", "Blog"]);
        let communities = script(&cell, *d, apps::COMMUNITIES_SCRIPT);
        let uuid = cell.truth()["differences"][0]["community_uuid"]
            .as_str()
            .unwrap()
            .to_string();
        let text = format!(
            r#"
batchMode = 1
execfile("{}")
print "==map=="
print CommunitiesScheduler.getTaskDetails("LifecycleRetryQueuedEvents")
print "==summary=="
CommunitiesQEventService.viewQueuedEventsSummary()
print "==community=="
c = CommunitiesService.fetchCommById("{uuid}")[0]
print c.get("name"), "/", c.get("createdBy")[0]
print c
print "==end=="
"#,
            communities.display()
        );
        let r = cell.run_script(&text, &[], "");
        assert_eq!(r.code, 0, "{d}: {}{}", r.stdout, r.stderr);
        // Banner first, then the dialect's own lines.
        let lines: Vec<&str> = r.stdout.lines().collect();
        assert!(lines[0].starts_with("WASX7209I:"), "{d}");
        for l in d.banner_lines().iter().chain(d.load_lines()) {
            assert!(lines.contains(l), "{d}: {l}");
        }
        // The printed map is the dialect's, and lc_core reads its status.
        let map = r.section("map");
        let printed = map
            .iter()
            .find(|l| l.starts_with('{'))
            .unwrap_or_else(|| panic!("{d}: {map:?}"));
        let parsed = lc_core::wsadmin::parse_java_map(printed);
        assert_eq!(
            parsed.get("status").map(String::as_str),
            Some("SCHEDULED"),
            "{d}: {printed}"
        );
        assert_eq!(
            parsed.get("taskName").map(String::as_str),
            Some("LifecycleRetryQueuedEvents"),
            "{d}"
        );
        let keys = d.task_keys(0);
        match d.map_style() {
            lc_sim::dialect::MapStyle::Python => assert!(printed.starts_with("{u'"), "{printed}"),
            lc_sim::dialect::MapStyle::Tight => assert!(!printed.contains(", "), "{printed}"),
            lc_sim::dialect::MapStyle::Java => assert!(printed.contains(", "), "{printed}"),
        }
        if *d != Dialect::Lcsim {
            let order: Vec<usize> = keys.iter().map(|k| printed.find(k).unwrap()).collect();
            let mut sorted = order.clone();
            sorted.sort();
            assert_eq!(order, sorted, "{d}: {printed}");
        }
        // The queue summary keeps formats::queue's header and cells among the extra lines.
        let summary = r.section("summary");
        let blog = summary
            .iter()
            .find(|l| l.split('|').next().map(str::trim) == Some("Blog"))
            .unwrap_or_else(|| panic!("{d}: {summary:?}"));
        let queued = cell.status()["queue"]["Blog"].as_u64().unwrap();
        assert_eq!(
            blog.split('|').nth(1).map(str::trim),
            Some(queued.to_string().as_str())
        );
        assert!(summary.iter().any(|l| l.starts_with("App Def Id")), "{d}");
        // fetchCommById: the map's values by key, whatever the order and print.
        let community = r.section("community");
        let world: Value =
            serde_json::from_slice(&std::fs::read(cell.dir.join("state/world.json")).unwrap())
                .unwrap();
        let c = &world["communities"][&uuid];
        assert!(
            community.iter().any(|l| *l
                == format!(
                    "{} / {}",
                    c["name"].as_str().unwrap(),
                    c["created_by"]["name"].as_str().unwrap()
                )),
            "{d}: {community:?}"
        );
    }
}

/// The cell of a report row in the column holding `value`.
fn pick(d: Dialect, kind: Kind, row: &[String], value: V) -> String {
    let i = d
        .columns(kind)
        .iter()
        .position(|c| c.value == value)
        .unwrap_or_else(|| panic!("{d}: no {value:?} column"));
    row[i].clone()
}

/// What a reader makes of an orphan row: the exists column, or else the reason's meaning.
fn exists(d: Dialect, row: &[String], app: &apps::App) -> bool {
    let has_column = d
        .columns(Kind::Orphans)
        .iter()
        .any(|c| c.value == V::Fact(Column::CommunityExists));
    if has_column {
        let w = pick(d, Kind::Orphans, row, V::Fact(Column::CommunityExists));
        assert!(w == d.exists_word(true) || w == d.exists_word(false), "{w}");
        return w == d.exists_word(true);
    }
    let reason = pick(d, Kind::Orphans, row, V::Reason);
    assert!(
        reason == d.reason(true, app) || reason == d.reason(false, app),
        "{reason}"
    );
    reason == d.reason(true, app)
}

#[test]
fn reports_from_each_dialects_exports_match_the_truth() {
    for d in ALL.iter().filter(|d| **d != Dialect::Lcsim) {
        let cell = cell_in(*d, &["--communities", "1000", "--seed", "11"]);
        cell.damage(&["--restore", "communities"]);
        let truth = cell.truth();
        let (tdiffs, torphans) = truth_sets(&truth);
        assert!(!tdiffs.is_empty() && !torphans.is_empty());
        assert!(
            tdiffs.iter().any(|x| !x.2.is_ascii()),
            "{d}: no non-ASCII community name among the differences"
        );
        let out = cell.scratch("reports");
        let o = out.to_str().unwrap();
        let mut s = format!(
            "batchMode = 1\nexecfile(\"{}\")\n",
            script(&cell, *d, apps::COMMUNITIES_SCRIPT).display()
        );
        let mut loaded = Vec::new();
        for (n, app) in APPS.iter().enumerate() {
            if !loaded.contains(&app.admin_script) {
                s.push_str(&format!(
                    "execfile(\"{}\")\n",
                    script(&cell, *d, app.admin_script).display()
                ));
                loaded.push(app.admin_script);
            }
            let extra = app
                .export_extra
                .map(|e| format!(", \"{e}\""))
                .unwrap_or_default();
            s.push_str(&format!(
                "{}.exportSyncedResourceInfo(\"{o}/export-{n}.xml\", \"community\"{extra})\n\
                 CommunitiesRemoteAppService.generateSyncReports(\"{o}/export-{n}.xml\", \"{o}\")\n",
                app.service
            ));
        }
        s.push_str("print \"==done==\"\n");
        let run = cell.run_script(&s, &[], "");
        assert_eq!(run.code, 0, "{d}: {}{}", run.stdout, run.stderr);
        let mut diffs = BTreeSet::new();
        let mut orphans = BTreeSet::new();
        let mut names = BTreeSet::new();
        for app in APPS {
            let path = out.join(lc_sim::files::report_file(*d, Kind::Differences, app));
            names.insert(path.file_name().unwrap().to_string_lossy().into_owned());
            for row in read_report_in(&path, *d, Kind::Differences, app) {
                let f = |c| pick(*d, Kind::Differences, &row, V::Fact(c));
                diffs.insert((
                    app.id.to_string(),
                    f(Column::CommunityUuid),
                    f(Column::CommunityName),
                    f(Column::Field),
                    f(Column::CommunitiesValue),
                    f(Column::ApplicationValue),
                ));
            }
            let path = out.join(lc_sim::files::report_file(*d, Kind::Orphans, app));
            names.insert(path.file_name().unwrap().to_string_lossy().into_owned());
            for row in read_report_in(&path, *d, Kind::Orphans, app) {
                orphans.insert((
                    app.id.to_string(),
                    pick(*d, Kind::Orphans, &row, V::Fact(Column::ObjectId)),
                    pick(*d, Kind::Orphans, &row, V::Fact(Column::OldCommunityUuid)),
                    exists(*d, &row, app),
                ));
            }
        }
        assert_eq!(diffs, tdiffs, "{d}: differences vs truth");
        assert_eq!(orphans, torphans, "{d}: orphans vs truth");

        // The modules' own reader (lc_core) finds the same in the same files, by its synonyms.
        let columns = lc_core::report::ColumnMap::new(&Default::default()).unwrap();
        let mut core_diffs = BTreeSet::new();
        let mut core_orphans = BTreeSet::new();
        for app in APPS {
            let path = out.join(lc_sim::files::report_file(*d, Kind::Differences, app));
            for x in lc_core::report::read_differences(&path, app.id, &columns)
                .unwrap_or_else(|e| panic!("{d}: {}: {}", path.display(), e.one_line()))
            {
                core_diffs.insert((
                    x.application,
                    x.community_uuid,
                    x.community_name,
                    x.field,
                    x.communities_value,
                    x.application_value,
                ));
            }
            let path = out.join(lc_sim::files::report_file(*d, Kind::Orphans, app));
            for x in lc_core::report::read_orphans(&path, app.id, &columns)
                .unwrap_or_else(|e| panic!("{d}: {}: {}", path.display(), e.one_line()))
            {
                let exists = x
                    .community_exists
                    .unwrap_or_else(|| panic!("{d}: {}: exists unknown", x.object_id));
                core_orphans.insert((x.application, x.object_id, x.old_community_uuid, exists));
            }
        }
        assert_eq!(
            core_diffs, tdiffs,
            "{d}: differences, lc_core's reader vs truth"
        );
        assert_eq!(
            core_orphans, torphans,
            "{d}: orphans, lc_core's reader vs truth"
        );
        // And lc_core's export summary counts each dialect's records.
        let status = cell.status();
        for (n, app) in APPS.iter().enumerate() {
            let summary = lc_core::export::summarize(&out.join(format!("export-{n}.xml")))
                .unwrap_or_else(|e| panic!("{d}: {}", e.one_line()));
            assert_eq!(
                Some(summary.resources),
                status["resources"][app.id].as_u64(),
                "{d}: {}",
                app.id
            );
        }
        // Only the reports and the exports are in the folder: the prefixes are the dialect's.
        let html: BTreeSet<String> = std::fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".html"))
            .collect();
        assert_eq!(html, names, "{d}");
    }
}
