//! The lc_orphan module: the plan per orphan, the generated script and the outcomes.

use lc_core::wsadmin::{self, Script, WsadminArgs};
use lc_core::{Context, Elem, Error, Module, Outcome};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

pub struct Orphans;

/// An orphan as lc_sync_report lists it.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Orphan {
    pub application: String,
    pub object_id: String,
    pub old_community_uuid: String,
    #[serde(default)]
    pub community_exists: Option<bool>,
}

lc_core::options! {
    #[derive(Debug)]
    pub struct Options {
        pub orphans: Vec<serde_json::Value> => list(Elem::Dict).required(),
        pub action: String => str().default("report").choices(ACTIONS),
        pub policy: Option<BTreeMap<String, String>> => dict(),
        pub target_community: Option<String> => str(),
        pub replace_default_widget: bool => bool().default(false),
        pub confirm_delete: bool => bool().default(false),
        #[flatten]
        pub wsadmin: WsadminArgs,
    }
}

/// What happened, or in check mode what would happen, to one orphan.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct OrphanOutcome {
    pub application: String,
    pub object_id: String,
    pub old_community_uuid: String,
    pub action: String,
    /// `done`, `skipped`, `failed`, or in check mode `planned`.
    pub status: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_community: Option<String>,
    /// The orphan whose call handles this one too (see [`goes_with_community`]).
    #[serde(skip)]
    pub follows: Option<usize>,
}

/// Whether one call handles every resource of the app in the old community, so that the other
/// rows of that community go with the first: `deleteActivities(fetchActivitiesByCommunityExId)`
/// and `deleteMicroblogs` take the community (admin-surface.md §6), and `assignRemoteApp` of an
/// activity moves the community's activities together.
fn goes_with_community(app: &str, action: &str) -> bool {
    match action {
        "delete" => app == "Activities" || app == "StatusUpdates",
        "assign" => app == "Activities",
        _ => false,
    }
}

const ACTIONS: &[&str] = &["report", "assign", "delete"];

/// ARGS: none; DATA rows: index, action, app, object id, old uuid, target uuid, replace (1|0),
/// widget column, admin script.
/// Each orphan is handled in its own try block; the outcome is printed as `outcome` records. The
/// forums are fetched once per run (`fetchForums` lists every forum), then filtered per orphan.
pub const BODY: &str = include_str!("../jython/orphan.py");

impl Module for Orphans {
    const NAME: &'static str = "lc_orphan";
    type Options = Options;

    fn run(o: Options, ctx: &Context) -> Result<Outcome, Error> {
        let orphans = parse_orphans(&o.orphans)?;
        let policy = check_policy(o.policy.as_ref())?;
        if let Some(t) = &o.target_community {
            if !lc_core::validate::is_uuid(t) {
                return Err(Error::invalid(format!(
                    "target_community must be a community UUID, got {t:?}"
                )));
            }
        }
        let mut outcomes = plan(&o, &orphans, &policy);
        let todo: Vec<usize> = outcomes
            .iter()
            .enumerate()
            .filter(|(_, p)| p.status == "planned" && p.follows.is_none())
            .map(|(i, _)| i)
            .collect();
        if ctx.check_mode || todo.is_empty() {
            return Ok(finish(outcomes, ctx.check_mode));
        }
        let rows: Vec<Vec<String>> = todo
            .iter()
            .map(|&i| {
                let p = &outcomes[i];
                let app = lc_core::apps::by_id(&p.application).expect("validated");
                let replace = o.replace_default_widget && app.default_widget;
                vec![
                    i.to_string(),
                    p.action.clone(),
                    p.application.clone(),
                    p.object_id.clone(),
                    p.old_community_uuid.clone(),
                    p.target_community.clone().unwrap_or_default(),
                    if replace { "1" } else { "0" }.to_string(),
                    app.assign_column.to_string(),
                    app.admin_script.to_string(),
                ]
            })
            .collect();
        let script = Script::new(BODY)
            .load(lc_core::apps::COMMUNITIES_SCRIPT)
            .rows(rows);
        let out = wsadmin::run(&o.wsadmin, &script, ctx.tmpdir.as_deref())?;
        for r in out.tagged("outcome") {
            let Some(p) = r
                .field(0)
                .parse::<usize>()
                .ok()
                .and_then(|i| outcomes.get_mut(i))
            else {
                continue;
            };
            p.status = r.field(1).to_string();
            p.message = explain(p, r.field(2), o.replace_default_widget);
        }
        for i in todo {
            let p = &mut outcomes[i];
            if p.status == "planned" {
                p.status = "failed".into();
                p.message = "wsadmin ended before this orphan was handled".into();
            }
        }
        for i in 0..outcomes.len() {
            let Some(l) = outcomes[i].follows else {
                continue;
            };
            let (status, leader_id) = (outcomes[l].status.clone(), outcomes[l].object_id.clone());
            let p = &mut outcomes[i];
            if status == "done" {
                p.status = "done".into();
                p.message = done_with(p, &leader_id);
            } else {
                p.status = "failed".into();
                p.message = format!(
                    "not handled: it goes with {} {leader_id} of the same community, which failed",
                    p.application
                );
            }
        }
        Ok(finish(outcomes, false))
    }
}

fn parse_orphans(values: &[serde_json::Value]) -> Result<Vec<Orphan>, Error> {
    values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let o: Orphan = serde_json::from_value(v.clone()).map_err(|e| {
                Error::invalid(format!(
                    "orphans[{i}] is not an orphan of lc_sync_report: {e}"
                ))
            })?;
            lc_core::apps::validate_ids(
                &format!("orphans[{i}].application"),
                std::slice::from_ref(&o.application),
            )?;
            lc_core::validate::check_value(&format!("orphans[{i}].object_id"), &o.object_id)?;
            if !lc_core::validate::is_uuid(&o.old_community_uuid) {
                return Err(Error::invalid(format!(
                    "orphans[{i}].old_community_uuid must be a community UUID, got {:?}",
                    o.old_community_uuid
                )));
            }
            Ok(o)
        })
        .collect()
}

fn check_policy(
    policy: Option<&BTreeMap<String, String>>,
) -> Result<BTreeMap<String, String>, Error> {
    let mut out = BTreeMap::new();
    for (app, action) in policy.into_iter().flatten() {
        lc_core::apps::validate_ids("policy", std::slice::from_ref(app))?;
        if !ACTIONS.contains(&action.as_str()) {
            return Err(Error::invalid(format!(
                "policy.{app} must be one of: {}, got: {action}",
                ACTIONS.join(", ")
            )));
        }
        out.insert(app.clone(), action.clone());
    }
    Ok(out)
}

/// What a row that went with the call of `leader` says once that call is done.
fn done_with(p: &OrphanOutcome, leader: &str) -> String {
    let old = &p.old_community_uuid;
    match (p.action.as_str(), p.application.as_str()) {
        ("assign", _) => format!(
            "assigned to {} with activity {leader}: assignRemoteApp moves every activity of community {old}",
            p.target_community.as_deref().unwrap_or("?")
        ),
        (_, "Activities") => format!(
            "moved to Trash with activity {leader}: deleteActivities takes every activity of community {old}"
        ),
        _ => format!(
            "deleted with {leader}: deleteMicroblogs deletes every status update of community {old}"
        ),
    }
}

/// Decides per orphan what to do, without running anything: the action and target of each, which
/// rows go with another row's call, and which assignments cannot all succeed (a community holds
/// one widget of each application, so a second orphan of an app aimed at the same community would
/// fail there, or with `replace_default_widget` would remove what the first one brought).
fn plan(o: &Options, orphans: &[Orphan], policy: &BTreeMap<String, String>) -> Vec<OrphanOutcome> {
    let mut outcomes = first_plan(o, orphans, policy);
    let mut leaders: HashMap<(String, String, String, String), usize> = HashMap::new();
    let mut claims: HashMap<(String, String), usize> = HashMap::new();
    for i in 0..outcomes.len() {
        if outcomes[i].status != "planned" {
            continue;
        }
        let p = &outcomes[i];
        let target = p.target_community.clone().unwrap_or_default();
        if goes_with_community(&p.application, &p.action) {
            let key = (
                p.application.clone(),
                p.action.clone(),
                p.old_community_uuid.clone(),
                target.clone(),
            );
            if let Some(&l) = leaders.get(&key) {
                let leader_id = outcomes[l].object_id.clone();
                let leader_failed = outcomes[l].status == "failed";
                let p = &mut outcomes[i];
                if leader_failed {
                    p.status = "failed".into();
                    p.message = format!(
                        "not handled: it goes with {} {leader_id} of the same community, which cannot be done",
                        p.application
                    );
                } else {
                    p.follows = Some(l);
                    p.message = format!(
                        "goes with {} {leader_id}: one call handles every one of community {}",
                        p.application, p.old_community_uuid
                    );
                }
                continue;
            }
            leaders.insert(key, i);
        }
        if p.action != "assign" {
            continue;
        }
        match claims.get(&(target.clone(), p.application.clone())) {
            None => {
                claims.insert((target, p.application.clone()), i);
            }
            Some(&c) => {
                let first = outcomes[c].object_id.clone();
                let p = &mut outcomes[i];
                p.status = "failed".into();
                p.message = format!(
                    "community {target} already receives {} {first} in this run and a community holds one {} widget: give this one another target_community",
                    p.application, p.application
                );
            }
        }
    }
    outcomes
}

fn first_plan(
    o: &Options,
    orphans: &[Orphan],
    policy: &BTreeMap<String, String>,
) -> Vec<OrphanOutcome> {
    orphans
        .iter()
        .map(|orphan| {
            let action = policy
                .get(&orphan.application)
                .cloned()
                .unwrap_or_else(|| o.action.clone());
            let mut p = OrphanOutcome {
                application: orphan.application.clone(),
                object_id: orphan.object_id.clone(),
                old_community_uuid: orphan.old_community_uuid.clone(),
                action: action.clone(),
                status: "planned".into(),
                message: String::new(),
                target_community: None,
                follows: None,
            };
            match action.as_str() {
                "report" => {
                    p.status = "skipped".into();
                    p.message = "reported only: keep it (action assign) or delete it (action delete)".into();
                }
                "assign" => {
                    let target = o.target_community.clone().or_else(|| {
                        (orphan.community_exists == Some(true)).then(|| orphan.old_community_uuid.clone())
                    });
                    match target {
                        Some(t) => {
                            p.message = format!("assign to community {t}");
                            p.target_community = Some(t);
                        }
                        None => {
                            p.status = "skipped".into();
                            p.message = "needs a target community: its old community no longer exists; give target_community".into();
                        }
                    }
                }
                _ => {
                    if o.confirm_delete {
                        p.message = "delete with the application's own command".into();
                    } else {
                        p.status = "skipped".into();
                        p.message = "not deleted: deletion happens only with confirm_delete: true".into();
                    }
                }
            }
            p
        })
        .collect()
}

/// A per-orphan message that says what to do about a known failure.
fn explain(p: &OrphanOutcome, raw: &str, replace: bool) -> String {
    if p.status != "failed" {
        return raw.to_string();
    }
    let text = peel_exception(raw);
    let lower = text.to_ascii_lowercase();
    if p.action == "assign" && lower.contains("already") && lower.contains("widget") {
        let default = lc_core::apps::by_id(&p.application).is_some_and(|a| a.default_widget);
        let hint = if default && !replace {
            "set replace_default_widget: true to remove the default widget a new community gets, or choose another target_community"
        } else {
            "choose another target_community"
        };
        return format!(
            "community {} already has {} {} widget ({text}): {hint}",
            p.target_community.as_deref().unwrap_or("?"),
            if p.application.starts_with(['A', 'E', 'I', 'O', 'U']) {
                "an"
            } else {
                "a"
            },
            p.application
        );
    }
    text
}

/// The message of a Java exception without the class names wsadmin puts before it:
/// `com.ibm.ws.scripting.ScriptingException: java.lang.IllegalArgumentException: no weblog X`
/// gives `no weblog X`.
fn peel_exception(raw: &str) -> String {
    fn is_class(s: &str) -> bool {
        let last = s.rsplit('.').next().unwrap_or(s);
        s.split('.').all(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
        }) && (last.ends_with("Exception") || last.ends_with("Error"))
    }
    let mut rest = raw.trim();
    while let Some((head, tail)) = rest.split_once(": ") {
        if !is_class(head) || tail.trim().is_empty() {
            break;
        }
        rest = tail.trim();
    }
    rest.to_string()
}

fn finish(outcomes: Vec<OrphanOutcome>, check_mode: bool) -> Outcome {
    let count = |s: &str| outcomes.iter().filter(|p| p.status == s).count();
    let (done, skipped, failed, planned) = (
        count("done"),
        count("skipped"),
        count("failed"),
        count("planned"),
    );
    let mut counts = BTreeMap::new();
    for (k, v) in [
        ("done", done),
        ("skipped", skipped),
        ("failed", failed),
        ("planned", planned),
        ("total", outcomes.len()),
    ] {
        counts.insert(k, v);
    }
    let first_failure = || {
        outcomes
            .iter()
            .find(|p| p.status == "failed")
            .map(|p| format!("{} {}: {}", p.application, p.object_id, p.message))
            .unwrap_or_default()
    };
    let msg = if check_mode {
        let mut m = format!(
            "would handle {planned} of {} orphans ({skipped} left as reported)",
            outcomes.len()
        );
        if failed > 0 {
            m.push_str(&format!(
                "; {failed} cannot be done as asked; first: {}",
                first_failure()
            ));
        }
        m
    } else if failed > 0 {
        format!(
            "{failed} of {} orphans failed ({done} done, {skipped} skipped); first: {}",
            outcomes.len(),
            first_failure()
        )
    } else {
        format!(
            "{done} orphans handled, {skipped} left as reported, of {}",
            outcomes.len()
        )
    };
    let mut out = Outcome::new(done > 0 || (check_mode && planned > 0))
        .msg(msg)
        .with("outcomes", &outcomes)
        .with("counts", &counts);
    out.failed = failed > 0;
    out
}

#[cfg(test)]
mod tests {
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
                wsadmin_path: wsadmin::DEFAULT_WSADMIN.into(),
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
        p.status = "failed".into();
        assert_eq!(
            explain(&p, &format!("com.ibm.ws.scripting.ScriptingException: com.ibm.lconn.communities.exception.CommunityServiceException: community {TARGET} already has a Files widget"), false),
            format!("community {TARGET} already has a Files widget (community {TARGET} already has a Files widget): set replace_default_widget: true to remove the default widget a new community gets, or choose another target_community")
        );
    }
}
