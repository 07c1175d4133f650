//! The documented calls the runbook uses, against admin-surface.md: scheduler, queue, export and
//! reports, assign, every delete, resync, fetchCommById, shares; the 2.5 names; concurrency.

mod common;

use std::collections::BTreeMap;

use common::{lc_sim, TestCell};
use lc_core::formats::{export, queue as q};
use serde_json::Value;

fn world(cell: &TestCell) -> Value {
    serde_json::from_slice(&std::fs::read(cell.dir.join("state/world.json")).unwrap()).unwrap()
}

/// Splits a printed queue table into rows of cells (header first), as a reader would.
fn table(lines: &[String]) -> Vec<Vec<String>> {
    lines
        .iter()
        .map(|l| {
            l.split(q::SEPARATOR)
                .map(|c| c.trim().to_string())
                .collect()
        })
        .collect()
}

#[test]
fn scheduler_and_queue() {
    let cell = TestCell::new(&["--communities", "60", "--seed", "5"]);
    cell.damage(&["--restore", "communities", "Blog"]);
    let w = world(&cell);
    let events = w["queue"].as_array().unwrap().clone();
    let count = |f: &dyn Fn(&Value) -> bool| events.iter().filter(|e| f(e)).count();
    let files_events = count(&|e| e["app"] == "Files");
    let blog_events = count(&|e| e["app"] == "Blog");
    assert!(blog_events > 0);
    let probe = events
        .iter()
        .find(|e| e["resource_type"] == "community" && e["app"] != "Blog")
        .unwrap()["resource_id"]
        .as_str()
        .unwrap()
        .to_string();
    let probe_events = count(&|e| {
        e["resource_type"] == "community"
            && e["app"] != "Blog"
            && e["resource_id"] == probe.as_str()
    });
    let community_left =
        count(&|e| e["resource_type"] == "community" && e["app"] != "Blog") - probe_events;
    let user_left = count(&|e| e["resource_type"] != "community" && e["app"] != "Blog");

    let script = r#"
import sys
batchMode = 1
execfile("communitiesAdmin.py")
T = "LifecycleRetryQueuedEvents"
def show(label, v):
    print "==" + label + "=="
    print v
show("pause1", CommunitiesScheduler.pauseSchedulingTask(T))
show("pause2", CommunitiesScheduler.pauseSchedulingTask(T))
show("status1", CommunitiesScheduler.getTaskDetails(T).get("status"))
show("resume1", CommunitiesScheduler.resumeSchedulingTask(T))
show("resume2", CommunitiesScheduler.resumeSchedulingTask(T))
show("status2", CommunitiesScheduler.getTaskDetails(T)["status"])
show("unknown", CommunitiesScheduler.pauseSchedulingTask("NoSuchTask"))
show("cleanup", CommunitiesScheduler.getTaskDetails("EventLogCleanup").get("status"))
CommunitiesScheduler.pauseSchedulingTask(T)
print "==summary=="
last = CommunitiesQEventService.viewQueuedEventsSummary()
show("summary_last", last)
print "==paging=="
ev = None
pages = 0
while 1:
    ev = CommunitiesQEventService.viewQueuedEventsByRemoteAppDefId("Files", ev, 2)
    if ev is None:
        break
    pages = pages + 1
show("pages", pages)
print "==bytype=="
r = CommunitiesQEventService.viewQueuedEventsByResourceType("community", None, 100000)
show("bytype_last", r)
show("clear_app", CommunitiesQEventService.clearQueuedEventsByRemoteAppDefId("Blog"))
show("clear_app_again", CommunitiesQEventService.clearQueuedEventsByRemoteAppDefId("Blog"))
show("clear_id", CommunitiesQEventService.clearQueuedEventsByResourceId("community", sys.argv[0]))
show("clear_type", CommunitiesQEventService.clearQueuedEventsByResourceType("community"))
print "==summary_after=="
CommunitiesQEventService.viewQueuedEventsSummary()
print "==end=="
"#;
    let r = cell.run_script(script, &[&probe], "");
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(r.one("pause1"), "1");
    assert_eq!(r.one("pause2"), "1");
    assert_eq!(r.one("status1"), "SUSPENDED");
    assert_eq!(r.one("resume1"), "1");
    assert_eq!(r.one("resume2"), "1");
    assert_eq!(r.one("status2"), "SCHEDULED");
    assert_eq!(r.one("unknown"), "0");
    assert_eq!(r.one("cleanup"), "SCHEDULED");

    // Summary: a header, one row per app with events, counts right; returns the last row.
    let summary = table(&r.section("summary"));
    assert_eq!(summary[0], q::SUMMARY_HEADERS);
    let mut per_app: BTreeMap<String, usize> = BTreeMap::new();
    for e in &events {
        *per_app
            .entry(e["app"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    assert_eq!(summary.len() - 1, per_app.len());
    for row in &summary[1..] {
        assert_eq!(
            row[1].parse::<usize>().unwrap(),
            per_app[&row[0]],
            "{row:?}"
        );
        assert_eq!(row[2].len(), "2025-01-15 09:00:00.000".len());
    }
    let last_row = summary.last().unwrap();
    assert_eq!(
        r.one("summary_last"),
        format!(
            "{{{}={}, {}={}, {}={}}}",
            q::SUMMARY_KEYS[0],
            last_row[0],
            q::SUMMARY_KEYS[1],
            last_row[1],
            q::SUMMARY_KEYS[2],
            last_row[2]
        )
    );

    // Paging two at a time through Files' events.
    let paging = table(&r.section("paging"));
    let rows: Vec<&Vec<String>> = paging
        .iter()
        .filter(|row| row[0] != q::EVENT_HEADERS[0])
        .collect();
    assert_eq!(rows.len(), files_events);
    assert!(rows
        .iter()
        .all(|row| row[1] == "Files" && row.len() == q::EVENT_HEADERS.len()));
    assert_eq!(
        r.one("pages").parse::<usize>().unwrap(),
        files_events.div_ceil(2)
    );
    let ids: Vec<u64> = rows.iter().map(|row| row[0].parse().unwrap()).collect();
    assert!(
        ids.windows(2).all(|w| w[0] < w[1]),
        "no event twice, in order"
    );

    let bytype = table(&r.section("bytype"));
    assert_eq!(
        bytype.len() - 1,
        count(&|e| e["resource_type"] == "community")
    );
    assert!(r
        .one("bytype_last")
        .starts_with(&format!("{{{}=", q::EVENT_KEYS[0])));

    assert_eq!(r.one("clear_app").parse::<usize>().unwrap(), blog_events);
    assert_eq!(r.one("clear_app_again"), "0");
    assert_eq!(r.one("clear_id").parse::<usize>().unwrap(), probe_events);
    assert_eq!(
        r.one("clear_type").parse::<usize>().unwrap(),
        community_left
    );
    let st = cell.status();
    assert_eq!(st["queue_total"], user_left);
    assert_eq!(st["scheduler"]["LifecycleRetryQueuedEvents"], "SUSPENDED");
    assert_eq!(
        st["calls"]["CommunitiesQEventService.clearQueuedEventsByRemoteAppDefId"],
        2
    );
    assert_eq!(st["launches"], 1);
    let truth = cell.truth();
    assert!(truth["stale_events"]
        .as_object()
        .unwrap()
        .values()
        .all(|v| v == 0));

    // The replay, when it fires, takes the healthy events that are left.
    lc_sim(&["tick", cell.path()]);
    assert_eq!(
        cell.status()["queue_total"],
        user_left,
        "suspended: nothing replayed"
    );
}

fn resource_of<'a>(w: &'a Value, app: &str) -> &'a Value {
    w["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["app"] == app)
        .unwrap()
}

#[test]
fn export_assign_delete_resync_fetch() {
    let cell = TestCell::new(&["--communities", "40", "--seed", "8"]);
    cell.damage(&["--restore", "communities"]);
    let truth = cell.truth();
    let w = world(&cell);
    let s = |v: &Value| v.as_str().unwrap().to_string();

    // An orphan whose community still exists, kept in place; one reassigned to a community that
    // already has that widget (refused until the widget is removed).
    let orphans = truth["orphans"].as_array().unwrap();
    let keep = orphans
        .iter()
        .find(|o| o["community_exists"] == true)
        .unwrap();
    let moved = orphans
        .iter()
        .find(|o| o["community_exists"] == false)
        .unwrap();
    let moved_app = s(&moved["application"]);
    let target = w["communities"]
        .as_object()
        .unwrap()
        .values()
        .find(|c| {
            c["widgets"]
                .as_array()
                .unwrap()
                .iter()
                .any(|x| *x == moved_app.as_str())
        })
        .unwrap();
    let col = lc_core::apps::by_id(&moved_app).unwrap().assign_column;
    // A difference to resync.
    let diff = truth["differences"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["field"] != "name")
        .unwrap();
    let resync_uuid = s(&diff["community_uuid"]);
    // One resource per app to delete (not the ones assigned above).
    let pick = |app: &str| {
        w["resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| {
                r["app"] == app && r["id"] != keep["object_id"] && r["id"] != moved["object_id"]
            })
            .unwrap()
            .clone()
    };
    let act = pick("Activities");
    let blog = pick("Blog");
    let idea = pick("IdeationBlog");
    let files = pick("Files");
    let forum = pick("Forum");
    let wiki = pick("Wiki");
    let status = pick("StatusUpdates");
    let out = cell.scratch("out");
    let out = out.to_str().unwrap();
    let _ = resource_of(&w, "Files");

    let script = format!(
        r#"
batchMode = 1
for f in ["communitiesAdmin.py", "activitiesAdmin.py", "blogsAdmin.py", "filesAdmin.py", "forumsAdmin.py", "wikisAdmin.py", "newsAdmin.py"]:
    execfile(f)
def show(label, v):
    print "==" + label + "=="
    print v
BlogsAdminService.exportSyncedResourceInfo("{out}/ideas.xml", "community", "IdeationBlog")
CommunitiesRemoteAppService.generateSyncReports("{out}/ideas.xml", "{out}")
print "==assign_keep=="
CommunitiesRemoteAppService.assignRemoteApp("{keep_app}", "{keep_id}", "{keep_old}", "{keep_old}", "{keep_col}")
print "==assign_refused=="
try:
    CommunitiesRemoteAppService.assignRemoteApp("{moved_app}", "{moved_id}", "{moved_old}", "{target}", "{col}")
except:
    import sys
    print sys.exc_info()[1]
show("remove_widget", CommunitiesService.removeAllWidgetsByWidgetDefId("{target}", "{moved_app}"))
print "==assign_moved=="
CommunitiesRemoteAppService.assignRemoteApp("{moved_app}", "{moved_id}", "{moved_old}", "{target}", "{col}")
show("fetch", CommunitiesService.fetchCommById("{target}"))
show("fetch_missing", CommunitiesService.fetchCommById("{moved_old}"))
acts = ActivityService.fetchActivitiesByCommunityExId("{act_c}")
show("acts", len(acts))
show("not_deleted", ActivityService.deleteActivities(acts))
BlogsAdminService.deleteWeblog("{blog}")
BlogsAdminService.deleteWeblog("{idea}")
FilesLibraryService.delete("{files}")
ForumsService.deleteForums(ForumsService.filterInput(ForumsService.fetchForums(), "{forum}", "forumID"))
WikisLibraryService.delete("{wiki}")
show("microblogs", NewsMicrobloggingService.deleteMicroblogs("{status_c}"))
print "==resync=="
CommunitiesRemoteAppService.resyncRemoteAppsForCommunity("{resync}")
CommunitiesRemoteAppService.resyncRemoteAppsForCommunityAndWidget("{resync}", "Files")
print "==all=="
CommunitiesRemoteAppService.resyncRemoteAppsForAllCommunities("Files")
print "==shares=="
FilesDataIntegrityService.syncAllCommunityShares()
AccessControlService.syncAllCommunityShares()
print "==end=="
"#,
        keep_app = s(&keep["application"]),
        keep_id = s(&keep["object_id"]),
        keep_old = s(&keep["old_community_uuid"]),
        keep_col = lc_core::apps::by_id(&s(&keep["application"]))
            .unwrap()
            .assign_column,
        moved_id = s(&moved["object_id"]),
        moved_old = s(&moved["old_community_uuid"]),
        target = s(&target["uuid"]),
        act_c = s(&act["community_uuid"]),
        blog = s(&blog["id"]),
        idea = s(&idea["id"]),
        files = s(&files["id"]),
        forum = s(&forum["id"]),
        wiki = s(&wiki["id"]),
        status_c = s(&status["community_uuid"]),
        resync = resync_uuid,
    );
    let r = cell.run_script(&script, &[], "");
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);

    // The 3-argument Blogs export is IdeationBlog's, labelled as simulated; so are its reports.
    let xml = std::fs::read_to_string(format!("{out}/ideas.xml")).unwrap();
    assert!(xml.contains(export::SIMULATED_NOTE));
    assert!(xml.contains(&format!(
        "<{} {}=\"IdeationBlog\"",
        export::ROOT,
        export::ATTR_APPLICATION
    )));
    let html = std::fs::read_to_string(format!(
        "{out}/IdeationBlog_orphanedRemoteApplications.html"
    ))
    .unwrap();
    assert!(html.contains(export::SIMULATED_NOTE));
    assert!(
        std::path::Path::new(&format!("{out}/IdeationBlog_communityDifferences.html")).exists()
    );

    assert_eq!(r.section("assign_keep"), vec!["Assignment succeeded"]);
    let refused = r.one("assign_refused");
    assert!(
        refused.starts_with("com.ibm.ws.scripting.ScriptingException: "),
        "{refused}"
    );
    assert!(refused.contains("already has a"), "{refused}");
    assert_eq!(r.one("remove_widget"), "1");
    assert_eq!(r.section("assign_moved"), vec!["Assignment succeeded"]);
    let fetch = r.one("fetch");
    let re = regex::Regex::new(&format!(
        r"^\[\{{name=[^,]+, uuid={}, type=(public|publicInviteOnly|private), createdBy=\[[A-Za-z]+ [A-Za-z]+, [0-9a-f-]{{36}}\], memberSize=\d+, ",
        s(&target["uuid"])
    ))
    .unwrap();
    assert!(re.is_match(&fetch), "{fetch}");
    assert_eq!(r.one("fetch_missing"), "[]");
    assert!(r.one("acts").parse::<usize>().unwrap() >= 1);
    assert_eq!(r.one("not_deleted"), "[]");
    assert_eq!(r.one("microblogs"), "1");
    assert!(r.section("resync").is_empty());
    let all = r.section("all");
    let n = w["communities"].as_object().unwrap().len();
    assert_eq!(all.last().unwrap(), "Done.");
    assert_eq!(all.len(), n.div_ceil(10) + 1, "{all:?}");
    assert!(all[0].starts_with("Total Processed: 10   Last processed communityUuid: "));
    assert_eq!(r.section("shares").len(), 2);

    // The state after: orphans kept are no longer orphans, deleted resources gone, the resynced
    // community differs only in what resync does not carry (names; moderation outside Files,
    // Forums, Blogs).
    let after = cell.truth();
    let is_orphan = |id: &Value| {
        after["orphans"]
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o["object_id"] == *id)
    };
    assert!(!is_orphan(&keep["object_id"]));
    assert!(!is_orphan(&moved["object_id"]));
    let w2 = world(&cell);
    let ids: Vec<&Value> = w2["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["id"])
        .collect();
    for gone in [&act, &blog, &idea, &files, &forum, &wiki, &status] {
        assert!(!ids.contains(&&gone["id"]), "{gone}");
    }
    for d in after["differences"].as_array().unwrap() {
        if d["community_uuid"] == resync_uuid.as_str() {
            let ok = d["field"] == "name"
                || (d["field"] == "moderation"
                    && !["Files", "Forum", "Blog", "IdeationBlog"]
                        .contains(&d["application"].as_str().unwrap()));
            assert!(ok, "left after resync: {d}");
        }
    }
    let st = cell.status();
    assert_eq!(st["resync_calls"][&resync_uuid], 2);
    assert_eq!(
        st["calls"]["CommunitiesRemoteAppService.assignRemoteApp"],
        3
    );
}

#[test]
fn restart_resync_resumes_after_the_given_community() {
    let cell = TestCell::new(&["--communities", "35", "--seed", "9"]);
    let w = world(&cell);
    let uuids: Vec<&String> = w["communities"].as_object().unwrap().keys().collect();
    let script = format!(
        "batchMode = 1\nexecfile(\"communitiesAdmin.py\")\nCommunitiesRemoteAppService.restartResyncRemoteAppsForAllCommunities(\"Wiki\", \"{}\")\n",
        uuids[19]
    );
    let r = cell.run_script(&script, &[], "");
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let lines: Vec<&str> = r.stdout.lines().skip(3).collect();
    assert_eq!(
        lines,
        vec![
            format!(
                "Total Processed: 10   Last processed communityUuid: {}",
                uuids[29]
            )
            .as_str(),
            format!(
                "Total Processed: 15   Last processed communityUuid: {}",
                uuids[34]
            )
            .as_str(),
            "Done.",
        ]
    );
}

#[test]
fn lotus_connections_25_names() {
    let cell = TestCell::new(&["--communities", "10", "--version", "lc25"]);
    let bin = cell.bin();
    assert!(bin.join("activitiesAdmin.py").exists());
    assert!(!bin.join("forumsAdmin.py").exists());
    assert!(!bin.join("newsAdmin.py").exists());
    let script = r#"
import sys
batchMode = 1
execfile("communitiesAdmin.py")
execfile("activitiesAdmin.py")
execfile("blogsAdmin.py")
print "==old=="
print CommunitiesSchedulerService.getTaskDetails("LifecycleRetryQueuedEvents").get("status")
print "==new=="
print CommunitiesScheduler.getTaskDetails("LifecycleRetryQueuedEvents").get("status")
print "==misnamed=="
try:
    ActivitiesService
except NameError:
    print "NameError"
print "==ideas=="
try:
    BlogsAdminService.exportSyncedResourceInfo("/tmp/x.xml", "community", "IdeationBlog")
except:
    print sys.exc_info()[1]
print "==shares=="
try:
    AccessControlService
except NameError:
    print "NameError"
"#;
    let r = cell.run_script(script, &[], "");
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(r.one("old"), "SCHEDULED");
    assert_eq!(r.one("new"), "SCHEDULED");
    assert_eq!(r.one("misnamed"), "NameError");
    assert!(r.one("ideas").contains("IllegalArgumentException"));
    assert_eq!(r.one("shares"), "NameError");
}

#[test]
fn concurrent_wsadmin_runs_do_not_corrupt_the_state() {
    let cell = TestCell::new(&["--communities", "30", "--seed", "4"]);
    let w = world(&cell);
    let uuid = w["communities"]
        .as_object()
        .unwrap()
        .keys()
        .next()
        .unwrap()
        .clone();
    let script = format!(
        "batchMode = 1\nexecfile(\"communitiesAdmin.py\")\ni = 0\nwhile i < 15:\n    CommunitiesRemoteAppService.resyncRemoteAppsForCommunity(\"{uuid}\")\n    CommunitiesScheduler.pauseSchedulingTask(\"LifecycleRetryQueuedEvents\")\n    i = i + 1\nprint \"==done==\"\n"
    );
    let runs: Vec<_> = (0..2)
        .map(|_| {
            let path = cell.tmp.path().join(format!("c{}.py", rand_suffix()));
            std::fs::write(&path, &script).unwrap();
            let mut c = cell.command(&["-f", path.to_str().unwrap()]);
            c.stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped());
            c.spawn().unwrap()
        })
        .collect();
    // Meanwhile, raw calls from this side too.
    let handles: Vec<_> = (0..8)
        .map(|_| {
            let dir = cell.path().to_string();
            let uuid = uuid.clone();
            std::thread::spawn(move || {
                for _ in 0..5 {
                    let mut c = std::process::Command::new(common::LC_SIM);
                    c.args([
                        "rpc",
                        &dir,
                        "CommunitiesRemoteAppService",
                        "resyncRemoteAppsForCommunity",
                    ]);
                    let r = common::run_with_stdin(&mut c, &format!("[\"{uuid}\"]"));
                    assert!(
                        r.stdout.starts_with("@@lcsim-return@@ None"),
                        "{}{}",
                        r.stdout,
                        r.stderr
                    );
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    for c in runs {
        let o = c.wait_with_output().unwrap();
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(o.status.success() && out.contains("==done=="), "{out}");
    }
    let st = cell.status();
    assert_eq!(st["resync_calls"][&uuid], 2 * 15 + 8 * 5);
    assert_eq!(st["calls"]["CommunitiesScheduler.pauseSchedulingTask"], 30);
    assert_eq!(st["launches"], 2);
    assert_eq!(st["communities"], 30);
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}
