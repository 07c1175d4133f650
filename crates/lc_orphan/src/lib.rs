//! The lc_orphan module: the plan per orphan, the generated script and the outcomes.
//!
//! The statuses, outcome records, counts and the first failure are those of
//! [`lc_core::wsadmin::module`]; what is its own here is the plan, the DATA rows and the words.

use lc_core::wsadmin::module::{self as layer, Counts, Item, Status};
use lc_core::wsadmin::WsadminArgs;
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
    pub status: Status,
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
            lc_core::validate::check_uuid("target_community", t)?;
        }
        let mut outcomes = plan(&o, &orphans, &policy);
        // A row that goes with another row's call gets no DATA row of its own.
        let todo: Vec<usize> = layer::todo(&outcomes)
            .into_iter()
            .filter(|&i| outcomes[i].follows.is_none())
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
        let script = layer::script(BODY).rows(rows);
        layer::run(
            &o.wsadmin,
            &script,
            ctx,
            &mut outcomes,
            &todo,
            "orphan was handled",
            |p, status, raw| {
                p.status = status;
                p.message = explain(p, raw, o.replace_default_widget);
            },
        )?;
        for i in 0..outcomes.len() {
            let Some(l) = outcomes[i].follows else {
                continue;
            };
            let (status, leader_id) = (outcomes[l].status, outcomes[l].object_id.clone());
            let p = &mut outcomes[i];
            if status == Status::Done {
                p.status = Status::Done;
                p.message = done_with(p, &leader_id);
            } else {
                p.status = Status::Failed;
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
            lc_core::validate::check_uuid(
                &format!("orphans[{i}].old_community_uuid"),
                &o.old_community_uuid,
            )?;
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
        if outcomes[i].status != Status::Planned {
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
                let leader_failed = outcomes[l].status == Status::Failed;
                let p = &mut outcomes[i];
                if leader_failed {
                    p.status = Status::Failed;
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
                p.status = Status::Failed;
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
                status: Status::Planned,
                message: String::new(),
                target_community: None,
                follows: None,
            };
            match action.as_str() {
                "report" => {
                    p.status = Status::Skipped;
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
                            p.status = Status::Skipped;
                            p.message = "needs a target community: its old community no longer exists; give target_community".into();
                        }
                    }
                }
                _ => {
                    if o.confirm_delete {
                        p.message = "delete with the application's own command".into();
                    } else {
                        p.status = Status::Skipped;
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
    if p.status != Status::Failed {
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

impl Item for OrphanOutcome {
    fn status(&self) -> Status {
        self.status
    }
    fn set(&mut self, status: Status, message: String) {
        self.status = status;
        self.message = message;
    }
    fn name(&self) -> String {
        format!("{} {}", self.application, self.object_id)
    }
    fn message(&self) -> &str {
        &self.message
    }
}

fn finish(outcomes: Vec<OrphanOutcome>, check_mode: bool) -> Outcome {
    let c = Counts::of(&outcomes);
    let msg = if check_mode {
        let mut m = format!(
            "would handle {} of {} orphans ({} left as reported)",
            c.planned, c.total, c.skipped
        );
        if c.failed > 0 {
            m.push_str(&format!(
                "; {} cannot be done as asked; first: {}",
                c.failed,
                c.first_failure(&outcomes)
            ));
        }
        m
    } else if c.failed > 0 {
        c.failures("orphans", &outcomes)
    } else {
        format!(
            "{} orphans handled, {} left as reported, of {}",
            c.done, c.skipped, c.total
        )
    };
    let mut out = Outcome::new(c.done > 0 || (check_mode && c.planned > 0))
        .msg(msg)
        .with("outcomes", &outcomes)
        .with("counts", c);
    out.failed = c.failed > 0;
    out
}

#[cfg(test)]
mod tests;
