use super::*;

const OLD: &str = "11111111-1111-1111-1111-111111111111";
const GONE: &str = "22222222-2222-2222-2222-222222222222";
const TARGET: &str = "33333333-3333-3333-3333-333333333333";

fn options(action: &str, target: Option<&str>, confirm_delete: bool) -> Options {
    Options {
        orphans: Vec::new(),
        action: action.into(),
        policy: None,
        target_community: target.map(String::from),
        replace_default_widget: false,
        confirm_delete,
        wsadmin: WsadminArgs {
            wsadmin_path: lc_core::wsadmin::DEFAULT_WSADMIN.into(),
            host: None,
            port: None,
            conntype: None,
            user: None,
            password: None,
            service_index: None,
            timeout: None,
            java_options: Vec::new(),
            admin_scripts_dir: None,
        },
    }
}

fn orphan(app: &str, id: &str, old: &str, exists: bool) -> Orphan {
    Orphan {
        application: app.into(),
        object_id: id.into(),
        old_community_uuid: old.into(),
        community_exists: Some(exists),
    }
}

fn statuses(p: &[OrphanOutcome]) -> Vec<(&str, Option<usize>)> {
    p.iter().map(|o| (o.status.as_str(), o.follows)).collect()
}

#[test]
fn activities_of_one_community_go_with_the_first() {
    let orphans = [
        orphan("Activities", "a1", OLD, true),
        orphan("Activities", "a2", OLD, true),
        orphan("Activities", "a3", GONE, false),
        orphan("Blog", "b1", OLD, true),
    ];
    let p = plan(&options("assign", None, false), &orphans, &BTreeMap::new());
    assert_eq!(
        statuses(&p),
        [
            ("planned", None),
            ("planned", Some(0)),
            ("skipped", None),
            ("planned", None)
        ]
    );
    assert_eq!(
        p[1].message,
        format!("goes with Activities a1: one call handles every one of community {OLD}")
    );
    let d = plan(&options("delete", None, true), &orphans, &BTreeMap::new());
    assert_eq!(
        statuses(&d),
        [
            ("planned", None),
            ("planned", Some(0)),
            ("planned", None),
            ("planned", None)
        ]
    );
}

#[test]
fn a_second_orphan_of_an_app_for_the_same_target_cannot_be_done() {
    let orphans = [
        orphan("Files", "f1", GONE, false),
        orphan("Files", "f2", OLD, true),
        orphan("Blog", "b1", GONE, false),
        orphan("Activities", "a1", GONE, false),
        orphan("Activities", "a2", GONE, false),
        orphan("Activities", "a3", OLD, true),
    ];
    let p = plan(
        &options("assign", Some(TARGET), false),
        &orphans,
        &BTreeMap::new(),
    );
    assert_eq!(
        statuses(&p),
        [
            ("planned", None),
            ("failed", None),
            ("planned", None),
            ("planned", None),
            ("planned", Some(3)),
            ("failed", None)
        ]
    );
    assert_eq!(
        p[1].message,
        format!("community {TARGET} already receives Files f1 in this run and a community holds one Files widget: give this one another target_community")
    );
    let out = finish(p, true);
    assert!(out.failed);
}

#[test]
fn policy_per_application_and_deletion_only_when_confirmed() {
    let orphans = [
        orphan("Blog", "b1", OLD, true),
        orphan("Files", "f1", GONE, false),
        orphan("Wiki", "w1", GONE, false),
    ];
    let policy: BTreeMap<String, String> = [("Blog", "assign"), ("Files", "delete")]
        .into_iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    let p = plan(&options("report", None, false), &orphans, &policy);
    let got: Vec<(&str, &str)> = p
        .iter()
        .map(|o| (o.action.as_str(), o.status.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("assign", "planned"),
            ("delete", "skipped"),
            ("report", "skipped")
        ]
    );
    assert_eq!(
        p[1].message,
        "not deleted: deletion happens only with confirm_delete: true"
    );
}

#[test]
fn server_messages_lose_their_class_names() {
    assert_eq!(
        peel_exception("com.ibm.ws.scripting.ScriptingException: java.lang.IllegalArgumentException: no weblog x"),
        "no weblog x"
    );
    assert_eq!(peel_exception("plain: text"), "plain: text");
    assert_eq!(
        peel_exception("java.lang.NullPointerException: "),
        "java.lang.NullPointerException:"
    );
    let mut p = plan(
        &options("assign", Some(TARGET), false),
        &[orphan("Files", "f1", GONE, false)],
        &BTreeMap::new(),
    )
    .remove(0);
    p.status = Status::Failed;
    assert_eq!(
        explain(&p, &format!("com.ibm.ws.scripting.ScriptingException: com.ibm.lconn.communities.exception.CommunityServiceException: community {TARGET} already has a Files widget"), false),
        format!("community {TARGET} already has a Files widget (community {TARGET} already has a Files widget): set replace_default_widget: true to remove the default widget a new community gets, or choose another target_community")
    );
}

#[test]
fn the_result_counts_and_names_the_first_failure() {
    let mut p = plan(
        &options("assign", Some(TARGET), false),
        &[
            orphan("Files", "f1", GONE, false),
            orphan("Blog", "b1", GONE, false),
            orphan("Wiki", "w1", GONE, false),
        ],
        &BTreeMap::new(),
    );
    p[0].set(Status::Done, "assigned".into());
    p[1].set(Status::Failed, "no weblog b1".into());
    let out = finish(p, false);
    assert!(out.failed && out.changed);
    assert_eq!(
        out.msg.as_deref(),
        Some("1 of 3 orphans failed (1 done, 0 skipped); first: Blog b1: no weblog b1")
    );
    assert_eq!(
        out.fields["counts"],
        serde_json::json!({"done": 1, "failed": 1, "planned": 1, "skipped": 0, "total": 3})
    );
    assert_eq!(out.fields["outcomes"][1]["status"], "failed");
}
