use super::*;
use lc_core::apps;
use lc_core::wsadmin::{Output, Script};
use serde_json::json;
use std::path::Path;

const U1: &str = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";
const U2: &str = "1f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f1";
const U3: &str = "2f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f2";

fn options(extra: serde_json::Value) -> Options {
    let mut v = json!({"wsadmin_path": "/opt/x/bin/wsadmin.sh", "request_timeout": 0});
    for (k, x) in extra.as_object().unwrap() {
        v[k] = x.clone();
    }
    serde_json::from_value(v).unwrap()
}

fn plan(extra: serde_json::Value) -> Result<Plan, String> {
    Plan::new(&options(extra)).map_err(|e| e.one_line())
}

fn output(text: &str) -> Output {
    Output {
        records: wsadmin::parse_records(text),
        text: text.to_string(),
    }
}

#[test]
fn progress_lines() {
    assert_eq!(
        parse_progress(&format!(
            "Total Processed: 20   Last processed communityUuid: {U1}"
        )),
        Some(Progress {
            processed: 20,
            last_community_uuid: U1.into()
        })
    );
    assert_eq!(
        parse_progress(&format!(
            "  total processed:7 last processed communityuuid: {U2}\r"
        )),
        Some(Progress {
            processed: 7,
            last_community_uuid: U2.into()
        })
    );
    for bad in [
        "Total Processed: x   Last processed communityUuid: abc".to_string(),
        "Total Processed: 10   Last processed communityUuid: not-a-uuid".to_string(),
        format!("Processed: 10 {U1}"),
        "Done.".to_string(),
    ] {
        assert_eq!(parse_progress(&bad), None, "{bad}");
    }
    let l1 = format!("Total Processed: 10   Last processed communityUuid: {U1}");
    let l2 = format!("Total Processed: 13   Last processed communityUuid: {U2}");
    let lines = [l1.as_str(), "something else", l2.as_str(), "Done."];
    let (last, done) = read_progress(&lines);
    assert_eq!(last.unwrap().last_community_uuid, U2);
    assert!(done);
    let (last, done) = read_progress(&lines[..2]);
    assert_eq!(last.unwrap().processed, 10);
    assert!(!done);
}

#[test]
fn communities_as_uuids_or_dicts_from_the_sync_report() {
    let p = plan(json!({"communities": [
        U1,
        {"uuid": U2, "name": "Sales", "created_by": "Ann", "fields": ["visibility"],
         "applications": ["Blog", "Files"]},
        {"uuid": U3, "applications": []},
        U1,
    ]}))
    .unwrap();
    let keys: Vec<&str> = p.units.iter().map(|u| u.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            U1.to_string(),
            format!("{U2}/Blog"),
            format!("{U2}/Files"),
            U3.to_string()
        ]
    );
    assert_eq!(
        p.units[1].outcome.call,
        "CommunitiesRemoteAppService.resyncRemoteAppsForCommunityAndWidget"
    );
    assert_eq!(p.units[1].outcome.community_name.as_deref(), Some("Sales"));
    assert_eq!(p.mode, Some(Mode::Communities));
    // The same request in another order has the same digest.
    let q = plan(json!({"communities": [
        U3, {"uuid": U2, "applications": ["Files", "Blog"]}, U1]}))
    .unwrap();
    assert_eq!(p.request, q.request);
}

#[test]
fn values_are_checked_before_anything_runs() {
    let cases = [
        (
            json!({"communities": ["nope"]}),
            "communities[0] must be a community UUID, got \"nope\"",
        ),
        (
            json!({"communities": [U1, {"uuid": format!("{U2}\")")}]}),
            "communities[1] must be a community UUID, got \"1f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f1\\\")\"",
        ),
        (
            json!({"communities": [{"name": "x"}]}),
            "communities[0] has no uuid: give a community UUID or a dict with uuid and optional applications",
        ),
        (
            json!({"communities": [5]}),
            "communities[0] must be a community UUID or a dict with uuid and optional applications, got 5",
        ),
        (
            json!({"communities": [{"uuid": U1, "applications": ["Blogs"]}]}),
            "communities[0].applications: unknown application id \"Blogs\"; known ids (case-sensitive): Activities, Blog, IdeationBlog, Files, Forum, Wiki, StatusUpdates",
        ),
        (
            json!({"communities": [{"uuid": U1, "applications": "Blog"}]}),
            "communities[0].applications must be a list of application ids",
        ),
        (
            json!({"all_communities_for": ["Wiki", "wiki"]}),
            "all_communities_for: unknown application id \"wiki\"; known ids (case-sensitive): Activities, Blog, IdeationBlog, Files, Forum, Wiki, StatusUpdates",
        ),
    ];
    for (opts, msg) in cases {
        assert_eq!(plan(opts).unwrap_err(), msg);
    }
}

#[test]
fn share_apps_are_those_of_the_table() {
    let from_table: BTreeSet<&str> = apps::APPS
        .iter()
        .filter(|a| a.share_service.is_some())
        .map(|a| a.id)
        .collect();
    assert_eq!(from_table, SHARE_APPS.iter().copied().collect());
}

#[test]
fn generated_script_snapshot() {
    let mut p = plan(json!({
        "communities": [U1, {"uuid": U2, "applications": ["Forum"]}],
        "share_repair": ["Files", "Activities"],
    }))
    .unwrap();
    let all = plan(json!({"all_communities_for": ["Blog", "Wiki"]})).unwrap();
    p.units.extend(all.units);
    p.units[5].resume = Some(Resume {
        last_community_uuid: U3.into(),
        processed: 40,
    });
    let todo: Vec<usize> = p.todo().collect();
    let script = Script::new(format!("{}{BODY}", replay::SCHEDULER_JYTHON))
        .load(apps::COMMUNITIES_SCRIPT)
        .args([RETRY_TASK, "numberOfEvents", "/var/x/communities.journal"])
        .rows(p.rows(&todo));
    // The module's part of the script (lc_core snapshots the prelude and postlude around it).
    let loads = format!(
        "# loads: {}\n# ARGS: {:?}\n",
        script.loads.join(", "),
        script.args
    );
    insta::assert_snapshot!("script", format!("{loads}{}", script.body));
    let rows: Vec<String> = script.rows.iter().map(|r| r.join(" | ")).collect();
    insta::assert_snapshot!("rows", rows.join("\n"));
}

#[test]
fn resume_marks_what_an_earlier_run_of_the_same_request_did() {
    let mut p = plan(json!({"all_communities_for": ["Blog", "Files", "Wiki"]})).unwrap();
    let state = State {
        request: p.request.clone(),
        done: ["Blog".to_string()].into(),
        resume: [(
            "Files".to_string(),
            Resume {
                last_community_uuid: U2.into(),
                processed: 30,
            },
        )]
        .into(),
    };
    p.apply(&state);
    let o: Vec<(&str, &str)> = p
        .units
        .iter()
        .map(|u| (u.outcome.status.as_str(), u.outcome.call.as_str()))
        .collect();
    assert_eq!(
        o,
        [
            (
                "skipped",
                "CommunitiesRemoteAppService.resyncRemoteAppsForAllCommunities"
            ),
            (
                "planned",
                "CommunitiesRemoteAppService.restartResyncRemoteAppsForAllCommunities"
            ),
            (
                "planned",
                "CommunitiesRemoteAppService.resyncRemoteAppsForAllCommunities"
            ),
        ]
    );
    assert_eq!(p.rows(&[1])[0], ["a", "1", "Files", U2, "Files"]);
    // Another request starts afresh.
    let mut other = plan(json!({"all_communities_for": ["Blog", "Files"]})).unwrap();
    other.apply(&state);
    assert!(other.units.iter().all(|u| u.outcome.status == "planned"));
}

#[test]
fn outcomes_and_passes_are_read_from_the_output() {
    let mut p =
        plan(json!({"all_communities_for": ["Blog", "Files", "Wiki"], "share_repair": ["Files"]}))
            .unwrap();
    p.units[1].resume = Some(Resume {
        last_community_uuid: U1.into(),
        processed: 30,
    });
    let text = format!(
        "@@lcr@@\tbegin\ta:0\n@@lcr@@\tcall\tx\nTotal Processed: 10   Last processed communityUuid: {U1}\nTotal Processed: 12   Last processed communityUuid: {U2}\nDone.\n@@lcr@@\tend\ta:0\n@@lcr@@\toutcome\t0\tdone\t\n\
         @@lcr@@\tbegin\ta:1\nTotal Processed: 10   Last processed communityUuid: {U3}\n@@lcr@@\tend\ta:1\n@@lcr@@\toutcome\t1\tfailed\tAdminException: boom\n\
         @@lcr@@\tbegin\ta:2\nTotal Processed: 5   Last processed communityUuid: {U3}\n@@lcr@@\tend\ta:2\n@@lcr@@\toutcome\t2\tdone\t\n\
         @@lcr@@\tbegin\ts:3\nSynchronized the shares of 200 communities.\n@@lcr@@\tend\ts:3\n@@lcr@@\toutcome\t3\tdone\t\n@@lcr@@\tdone\n"
    );
    p.read_outcomes(&output(&text));
    let o: Vec<(&str, &str, Option<u64>)> = p
        .units
        .iter()
        .map(|u| {
            (
                u.outcome.status.as_str(),
                u.outcome.message.as_str(),
                u.outcome.processed,
            )
        })
        .collect();
    let stopped = format!("AdminException: boom (stopped after 40 communities, the last {U3}; run again to restart from there)");
    let no_done = format!("the call returned without printing Done. after 5 communities, the last {U3}; run again to restart from there");
    assert_eq!(
        o,
        [
            ("done", "12 communities processed; Done.", Some(12)),
            ("failed", stopped.as_str(), Some(40)),
            ("failed", no_done.as_str(), Some(5)),
            ("done", "Synchronized the shares of 200 communities.", None),
        ]
    );
    let mut state = State {
        request: p.request.clone(),
        ..State::default()
    };
    state.record(&p);
    assert_eq!(
        state.done,
        ["Blog".to_string(), "share/Files".to_string()].into()
    );
    assert_eq!(state.resume["Files"].last_community_uuid, U3);
    assert_eq!(state.resume["Files"].processed, 40);
    assert_eq!(state.resume["Wiki"].processed, 5);
}

#[test]
fn refusals_say_why_and_what_to_do() {
    let summary = "@@lcr@@\tbegin\tqueue\nApp Def Id | Number of Events | Earliest Created\nBlog       | 3                | 2026-11-01 10:00:00\nFiles      | 2                | 2026-11-01 10:00:00\n@@lcr@@\tend\tqueue\n";
    let p = Preconditions::read(&output(&format!(
        "{summary}@@lcr@@\trefused\tSCHEDULED\t2\t{{remoteAppDefId=Files, numberOfEvents=2}}\n"
    )));
    assert_eq!(p.refusal().unwrap(), "refusing to resync: the replay queue is not empty (5 queued events: Blog 3, Files 2); let the replay drain the queue or clear it (connections.dr.lc_queue), then run again");
    let p = Preconditions::read(&output(
        "@@lcr@@\tbegin\tqueue\nApp Def Id | Number of Events | Earliest Created\n@@lcr@@\tend\tqueue\n@@lcr@@\trefused\tSUSPENDED\t0\tNone\n",
    ));
    assert_eq!(p.refusal().unwrap(), "refusing to resync: LifecycleRetryQueuedEvents is SUSPENDED, not SCHEDULED; resume LifecycleRetryQueuedEvents (connections.dr.lc_scheduler, state resumed), then run again");
    assert_eq!(p.summary_returned, None);
    let p = Preconditions::read(&output(&format!(
        "{summary}@@lcr@@\trefused\tRUNNING\t2\t{{x}}\n"
    )));
    assert_eq!(p.refusal().unwrap(), "refusing to resync: LifecycleRetryQueuedEvents is RUNNING, not SCHEDULED and the replay queue is not empty (5 queued events: Blog 3, Files 2); resume LifecycleRetryQueuedEvents (connections.dr.lc_scheduler, state resumed), let the replay drain the queue or clear it (connections.dr.lc_queue), then run again");
    let p = Preconditions::read(&output("@@lcr@@\trefused\tSCHEDULED\t?\t{odd}\n"));
    assert_eq!(p.refusal().unwrap(), "refusing to resync: the replay queue is not empty (viewQueuedEventsSummary returned {odd}); let the replay drain the queue or clear it (connections.dr.lc_queue), then run again");
    let p = Preconditions::read(&output(
        "@@lcr@@\tbegin\tqueue\n@@lcr@@\tend\tqueue\n@@lcr@@\tpreconditions\tSCHEDULED\n",
    ));
    assert!(p.met && p.refusal().is_none());
}

#[test]
fn a_pass_cut_off_by_a_timeout_is_found_in_the_tail() {
    let progress = format!("Total Processed: 50   Last processed communityUuid: {U2}");
    let tail = format!("@@lcr@@\tbegin\ta:3\n@@lcr@@\tcall\tx\n{progress}\n");
    assert_eq!(pass_in_tail(&tail, 3).unwrap(), [progress.as_str()]);
    assert_eq!(pass_in_tail(&tail, 2), None);
    let scrolled = format!("{progress}\n{progress}\n");
    assert_eq!(pass_in_tail(&scrolled, 7).unwrap().len(), 2);
    let other = format!("{progress}\n@@lcr@@\toutcome\t3\tdone\t\n");
    assert_eq!(pass_in_tail(&other, 4), None);
}

#[test]
fn the_state_file_and_journal() {
    let dir = tempfile::tempdir().unwrap();
    let p = plan(json!({"communities": [U1, U2, U3]})).unwrap();
    let store = Store::new(&dir.path().join("state"), Mode::Communities).unwrap();
    let mut state = store.load(&p.request).unwrap();
    assert_eq!(state.request, p.request);
    store.save(&state).unwrap();
    store.start_journal().unwrap();
    // A run stopped while writing its third line.
    std::fs::write(
        &store.journal,
        format!("done\t{U1}\nfailed\t{U2}\ndone\t{U3}"),
    )
    .unwrap();
    state = store.load(&p.request).unwrap();
    assert_eq!(state.done, [U1.to_string()].into());
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&store.state), 0o600);
        assert_eq!(mode(store.state.parent().unwrap()), 0o700);
    }
    store.settle(&state, &p).unwrap();
    assert!(!store.journal.exists());
    let kept: State =
        serde_json::from_str(&std::fs::read_to_string(&store.state).unwrap()).unwrap();
    assert_eq!(kept.done, state.done);
    // Once every call finished, nothing is kept.
    state.done.extend([U2.to_string(), U3.to_string()]);
    store.settle(&state, &p).unwrap();
    assert!(!store.state.exists());
    // Another request's file is replaced, a broken one is reported.
    std::fs::write(&store.state, r#"{"request": "other", "done": ["x"]}"#).unwrap();
    assert!(store.load(&p.request).unwrap().done.is_empty());
    std::fs::write(&store.state, "{").unwrap();
    let err = store.load(&p.request).unwrap_err().one_line();
    assert!(err.starts_with("the resync state file "), "{err}");
    assert!(err.ends_with("remove it to start afresh"), "{err}");
    assert!(Store::new(Path::new("relative"), Mode::Communities).is_err());
}
