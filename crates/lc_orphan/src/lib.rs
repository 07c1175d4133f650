//! The lc_orphan module: the plan per orphan, the generated script and the outcomes.

use lc_core::wsadmin::{self, Script, WsadminArgs};
use lc_core::{ArgSpec, Context, Elem, Error, Module, Opt, Outcome};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

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

#[derive(Debug, Deserialize)]
pub struct Options {
    pub orphans: Vec<serde_json::Value>,
    pub action: String,
    pub policy: Option<BTreeMap<String, String>>,
    pub target_community: Option<String>,
    pub replace_default_widget: bool,
    pub confirm_delete: bool,
    #[serde(flatten)]
    pub wsadmin: WsadminArgs,
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
}

const ACTIONS: &[&str] = &["report", "assign", "delete"];

/// ARGS: none; DATA rows: index, action, app, object id, old uuid, target uuid, replace (1|0),
/// widget column, admin script.
/// Each orphan is handled in its own try block; the outcome is printed as `outcome` records. The
/// forums are fetched once per run (`fetchForums` lists every forum), then filtered per orphan.
pub const BODY: &str = r#"
LCR_FORUMS = []

def lcr_forums():
    if len(LCR_FORUMS) == 0:
        lcr_call("ForumsService.fetchForums")
        LCR_FORUMS.append(ForumsService.fetchForums())
    return LCR_FORUMS[0]

def lcr_delete(app, obj, old):
    if app == "Activities":
        lcr_call("ActivityService.deleteActivities")
        left = ActivityService.deleteActivities(ActivityService.fetchActivitiesByCommunityExId(old))
        if left is not None and len(left) > 0:
            raise ValueError("ActivityService.deleteActivities left " + str(len(left)) + " activities undeleted")
        return "moved to Trash"
    if app == "Blog" or app == "IdeationBlog":
        lcr_call("BlogsAdminService.deleteWeblog")
        BlogsAdminService.deleteWeblog(obj)
        return "deleted"
    if app == "Files":
        lcr_call("FilesLibraryService.delete")
        FilesLibraryService.delete(obj)
        return "deleted with every version"
    if app == "Forum":
        pattern = ""
        for c in obj:
            if c.isalnum() or c == "-" or c == "_":
                pattern = pattern + c
            else:
                pattern = pattern + "\\" + c
        forums = ForumsService.filterInput(lcr_forums(), pattern, "forumID")
        if len(forums) == 0:
            raise ValueError("forum " + obj + " is not in ForumsService.fetchForums()")
        lcr_call("ForumsService.deleteForums")
        ForumsService.deleteForums(forums)
        return "moved to Trash"
    if app == "Wiki":
        lcr_call("WikisLibraryService.delete")
        WikisLibraryService.delete(obj)
        return "deleted"
    if app == "StatusUpdates":
        lcr_call("NewsMicrobloggingService.deleteMicroblogs")
        NewsMicrobloggingService.deleteMicroblogs(old)
        return "deleted"
    raise ValueError("no delete command for " + app)

def lcr_assign(app, obj, old, target, replace, column):
    if replace == "1":
        lcr_call("CommunitiesService.removeAllWidgetsByWidgetDefId")
        CommunitiesService.removeAllWidgetsByWidgetDefId(target, app)
    lcr_call("CommunitiesRemoteAppService.assignRemoteApp")
    r = CommunitiesRemoteAppService.assignRemoteApp(app, obj, old, target, column)
    return "assigned to " + target

def lcr_main():
    lcr_loads()
    for row in DATA:
        i = row[0]
        action = row[1]
        app = row[2]
        obj = row[3]
        old = row[4]
        target = row[5]
        replace = row[6]
        column = row[7]
        script = row[8]
        if not lcr_try_load(script):
            lcr_out("outcome", [i, "failed", script + " is not in this profile: the application is not installed"])
            continue
        try:
            if action == "assign":
                m = lcr_assign(app, obj, old, target, replace, column)
            else:
                m = lcr_delete(app, obj, old)
            lcr_out("outcome", [i, "done", m])
        except:
            lcr_out("outcome", [i, "failed", lcr_error_text(sys.exc_info()[1])])
"#;

impl Module for Orphans {
    const NAME: &'static str = "lc_orphan";
    type Options = Options;

    fn spec() -> ArgSpec {
        ArgSpec::new()
            .opt(Opt::list("orphans", Elem::Dict).required())
            .opt(Opt::str("action").default("report").choices(ACTIONS))
            .opt(Opt::dict("policy"))
            .opt(Opt::str("target_community"))
            .opt(Opt::bool("replace_default_widget").default(false))
            .opt(Opt::bool("confirm_delete").default(false))
            .opts(wsadmin::options())
    }

    fn run(o: Options, ctx: &Context) -> Result<Outcome, Error> {
        let orphans = parse_orphans(&o.orphans)?;
        let policy = check_policy(o.policy.as_ref())?;
        if let Some(t) = &o.target_community {
            if !wsadmin::is_uuid(t) {
                return Err(Error::invalid(format!(
                    "target_community must be a community UUID, got {t:?}"
                )));
            }
        }
        let mut outcomes = plan(&o, &orphans, &policy);
        let todo: Vec<usize> = outcomes
            .iter()
            .enumerate()
            .filter(|(_, p)| p.status == "planned")
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
            wsadmin::check_value(&format!("orphans[{i}].object_id"), &o.object_id)?;
            if !wsadmin::is_uuid(&o.old_community_uuid) {
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

/// Decides per orphan what to do, without running anything.
fn plan(o: &Options, orphans: &[Orphan], policy: &BTreeMap<String, String>) -> Vec<OrphanOutcome> {
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
    let lower = raw.to_ascii_lowercase();
    if p.action == "assign" && lower.contains("already") && lower.contains("widget") {
        let default = lc_core::apps::by_id(&p.application).is_some_and(|a| a.default_widget);
        let hint = if default && !replace {
            "; set replace_default_widget: true to remove the default widget a new community has first"
        } else {
            "; choose another target_community"
        };
        return format!(
            "community {} already has a {} widget: {raw}{hint}",
            p.target_community.as_deref().unwrap_or("?"),
            p.application
        );
    }
    raw.to_string()
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
    let msg = if check_mode {
        format!(
            "would handle {planned} of {} orphans ({skipped} left as reported)",
            outcomes.len()
        )
    } else if failed > 0 {
        let first = outcomes
            .iter()
            .find(|p| p.status == "failed")
            .expect("one failed");
        format!(
            "{failed} of {} orphans failed ({done} done, {skipped} skipped); first: {} {}: {}",
            outcomes.len(),
            first.application,
            first.object_id,
            first.message
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
