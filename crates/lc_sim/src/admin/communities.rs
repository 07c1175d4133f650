//! The calls on communities and their resources: assigning, fetching, removing widgets,
//! resynchronizing and deleting.

use serde_json::{json, Value};

use super::wire::{app_arg, jmap, map_get, str_arg, uuid_arg};
use super::{iae, java_error, CallResult};
use crate::dialect::Dialect;
use crate::model::{Cell, Copy, Tx};
use crate::truth;
use crate::util::java_date;

pub(super) fn assign(
    cell: &Cell,
    tx: &mut Tx,
    args: &[Value],
    out: &mut Vec<String>,
) -> CallResult {
    let app = app_arg(cell, args, 0, "remoteAppDefId")?;
    let id = uuid_arg(args, 1, "objectId")?;
    let old = uuid_arg(args, 2, "oldCommunityUuid")?;
    let new = uuid_arg(args, 3, "newCommunityUuid")?;
    let col = str_arg(args, 4, "column")?;
    if !col.starts_with("col") {
        return Err(iae(format!(
            "{col:?} is not a page column (col1, col2, col3, col2statusposts)"
        )));
    }
    let Some(target) = tx.world.communities.get(&new) else {
        return Err(iae(format!("community {new} does not exist")));
    };
    if target.widgets.contains(&app) {
        return Err(java_error(
            "com.ibm.lconn.communities.exception.CommunityServiceException",
            &format!(
                "community {new} already has a {app} widget; remove it first (CommunitiesService.removeAllWidgetsByWidgetDefId)"
            ),
        ));
    }
    let copy = Copy::of(target);
    let Some(r) = tx
        .world
        .resources
        .iter_mut()
        .find(|r| r.app == app && r.id == id && r.community_uuid == old)
    else {
        return Err(iae(format!(
            "no {app} resource {id} belongs to community {old}"
        )));
    };
    // Activities may hold several resources of one community: they move together.
    r.community_uuid = new.clone();
    r.copy = copy.clone();
    for r in tx.world.resources.iter_mut() {
        if r.app == app && r.community_uuid == old && app == "Activities" {
            r.community_uuid = new.clone();
            r.copy = copy.clone();
        }
    }
    if let Some(c) = tx.world.communities.get_mut(&new) {
        c.widgets.push(app);
    }
    tx.world_changed = true;
    out.push("Assignment succeeded".into());
    Ok(Value::Null)
}

pub(super) fn fetch_comm(dialect: Dialect, tx: &mut Tx, args: &[Value]) -> CallResult {
    let uuid = uuid_arg(args, 0, "communityUuid")?;
    Ok(match tx.world.communities.get(&uuid) {
        None => json!([]),
        Some(c) => {
            let pairs = dialect
                .community_keys()
                .iter()
                .map(|k| {
                    let v = match *k {
                        "name" => json!(c.name),
                        "uuid" => json!(c.uuid),
                        "type" => json!(c.visibility),
                        "createdBy" => json!([c.created_by.name, c.created_by.ext_id]),
                        "memberSize" => json!(c.member_size),
                        "created" => json!(java_date(c.created)),
                        _ => json!(c.theme),
                    };
                    (*k, v)
                })
                .collect();
            json!([jmap(pairs)])
        }
    })
}

pub(super) fn remove_widgets(tx: &mut Tx, args: &[Value]) -> CallResult {
    let uuid = uuid_arg(args, 0, "communityUuid")?;
    let def = str_arg(args, 1, "widgetDefId")?;
    let Some(c) = tx.world.communities.get_mut(&uuid) else {
        return Err(iae(format!("community {uuid} does not exist")));
    };
    let before = c.widgets.len();
    c.widgets.retain(|w| *w != def);
    let removed = before - c.widgets.len();
    if removed > 0 {
        // The app drops what it kept for that widget.
        let gone: Vec<_> = tx
            .world
            .resources
            .iter()
            .filter(|r| r.app == def && r.community_uuid == uuid)
            .cloned()
            .collect();
        tx.world
            .resources
            .retain(|r| !(r.app == def && r.community_uuid == uuid));
        tx.world.trash.extend(gone);
        tx.world_changed = true;
    }
    Ok(json!(removed))
}

pub(crate) fn resync_one(tx: &mut Tx, uuid: &str, only: Option<&str>) -> bool {
    let Some(c) = tx.world.communities.get(uuid) else {
        return false;
    };
    let c = c.clone();
    let mut changed = false;
    for r in tx.world.resources.iter_mut() {
        if r.community_uuid != uuid || !c.widgets.contains(&r.app) {
            continue;
        }
        if only.is_some_and(|w| w != r.app) {
            continue;
        }
        let vis = truth::communities_value(&c, "visibility").to_string();
        let mut next = r.copy.clone();
        next.visibility = vis;
        next.theme = c.theme.clone();
        if matches!(r.app.as_str(), "Files" | "Forum" | "Blog" | "IdeationBlog") {
            next.moderation = c.moderation.clone();
        }
        if next != r.copy {
            r.copy = next;
            changed = true;
        }
    }
    if changed {
        tx.world_changed = true;
    }
    true
}

pub(super) fn resync(
    cell: &Cell,
    tx: &mut Tx,
    method: &str,
    args: &[Value],
    out: &mut Vec<String>,
) -> CallResult {
    match method {
        "resyncRemoteAppsForCommunity" | "resyncRemoteAppsForCommunityAndWidget" => {
            let uuid = uuid_arg(args, 0, "communityUuid")?;
            let only = if args.len() > 1 {
                Some(app_arg(cell, args, 1, "widgetDefId")?)
            } else {
                None
            };
            *tx.meta.resync_calls.entry(uuid.clone()).or_default() += 1;
            if !resync_one(tx, &uuid, only.as_deref()) {
                return Err(iae(format!("community {uuid} does not exist")));
            }
            Ok(Value::Null)
        }
        _ => {
            let widget = app_arg(cell, args, 0, "widgetDefId")?;
            let after = if args.len() > 1 {
                Some(uuid_arg(args, 1, "lastCommunityUuid")?)
            } else {
                None
            };
            let uuids: Vec<String> = tx
                .world
                .communities
                .keys()
                .filter(|u| after.as_ref().is_none_or(|a| u.as_str() > a.as_str()))
                .cloned()
                .collect();
            let mut n = 0;
            let mut last = String::new();
            for u in uuids {
                resync_one(tx, &u, Some(&widget));
                n += 1;
                last = u;
                if n % 10 == 0 {
                    out.push(format!(
                        "Total Processed: {n}   Last processed communityUuid: {last}"
                    ));
                }
            }
            if n % 10 != 0 {
                out.push(format!(
                    "Total Processed: {n}   Last processed communityUuid: {last}"
                ));
            }
            out.push("Done.".into());
            Ok(Value::Null)
        }
    }
}

fn trash_resources(tx: &mut Tx, hit: impl Fn(&crate::model::Resource) -> bool) -> usize {
    let gone: Vec<_> = tx
        .world
        .resources
        .iter()
        .filter(|r| hit(r))
        .cloned()
        .collect();
    tx.world.resources.retain(|r| !hit(r));
    let n = gone.len();
    if n > 0 {
        tx.world.trash.extend(gone);
        tx.world_changed = true;
    }
    n
}

pub(super) fn deletes(tx: &mut Tx, object: &str, method: &str, args: &[Value]) -> CallResult {
    match (object, method) {
        ("ActivityService", "fetchActivitiesByCommunityExId") => {
            let uuid = uuid_arg(args, 0, "communityExId")?;
            let list: Vec<Value> = tx
                .world
                .resources
                .iter()
                .filter(|r| r.app == "Activities" && r.community_uuid == uuid)
                .map(|r| {
                    jmap(vec![
                        ("activityId", json!(r.id)),
                        ("name", json!(r.title)),
                        ("communityExId", json!(r.community_uuid)),
                    ])
                })
                .collect();
            Ok(Value::Array(list))
        }
        ("ActivityService", "deleteActivities") => {
            let Some(list) = args.first().and_then(Value::as_array) else {
                return Err(iae(
                    "deleteActivities takes the list fetchActivitiesByCommunityExId returns",
                ));
            };
            let mut not_deleted = Vec::new();
            for item in list {
                let id = map_get(item, "activityId").and_then(|v| v.as_str().map(String::from));
                let done = match &id {
                    Some(id) => trash_resources(tx, |r| r.app == "Activities" && r.id == *id) > 0,
                    None => false,
                };
                if !done {
                    not_deleted.push(item.clone());
                }
            }
            Ok(Value::Array(not_deleted))
        }
        ("BlogsAdminService", "deleteWeblog") => {
            let id = uuid_arg(args, 0, "weblogId")?;
            let n = trash_resources(tx, |r| {
                (r.app == "Blog" || r.app == "IdeationBlog") && r.id == id
            });
            if n == 0 {
                return Err(iae(format!("no weblog {id}")));
            }
            Ok(Value::Null)
        }
        ("FilesLibraryService" | "WikisLibraryService", "delete") => {
            let app = if object == "FilesLibraryService" {
                "Files"
            } else {
                "Wiki"
            };
            let id = uuid_arg(args, 0, "libraryId")?;
            let before = tx.world.resources.len();
            tx.world.resources.retain(|r| !(r.app == app && r.id == id));
            if tx.world.resources.len() == before {
                return Err(iae(format!("no library {id}")));
            }
            tx.world_changed = true;
            Ok(Value::Null)
        }
        ("ForumsService", "fetchForums") | ("ForumsService", "fetchForumsByName") => {
            let name = if method == "fetchForumsByName" {
                Some(str_arg(args, 0, "forumName")?)
            } else {
                None
            };
            let list: Vec<Value> = tx
                .world
                .resources
                .iter()
                .filter(|r| r.app == "Forum" && name.as_ref().is_none_or(|n| *n == r.title))
                .map(|r| {
                    jmap(vec![
                        ("forumID", json!(r.id)),
                        ("name", json!(r.title)),
                        ("communityUuid", json!(r.community_uuid)),
                    ])
                })
                .collect();
            Ok(Value::Array(list))
        }
        ("ForumsService", "filterInput") => {
            let Some(list) = args.first().and_then(Value::as_array) else {
                return Err(iae("filterInput takes a vector of forums"));
            };
            let pattern = str_arg(args, 1, "toMatch")?;
            let attr = str_arg(args, 2, "attrName")?;
            let re = regex::Regex::new(&format!("^(?:{pattern})$")).map_err(|e| {
                java_error("java.util.regex.PatternSyntaxException", &e.to_string())
            })?;
            let kept: Vec<Value> = list
                .iter()
                .filter(|item| {
                    map_get(item, &attr)
                        .and_then(|v| v.as_str().map(|s| re.is_match(s)))
                        .unwrap_or(false)
                })
                .cloned()
                .collect();
            Ok(Value::Array(kept))
        }
        ("ForumsService", "deleteForums") => {
            let Some(list) = args.first().and_then(Value::as_array) else {
                return Err(iae(
                    "deleteForums takes a vector of forums (see fetchForums, filterInput)",
                ));
            };
            for item in list {
                if let Some(id) =
                    map_get(item, "forumID").and_then(|v| v.as_str().map(String::from))
                {
                    trash_resources(tx, |r| r.app == "Forum" && r.id == id);
                }
            }
            Ok(Value::Null)
        }
        ("NewsMicrobloggingService", "deleteMicroblogs") => {
            let uuid = uuid_arg(args, 0, "communityUuid")?;
            let before = tx.world.resources.len();
            tx.world
                .resources
                .retain(|r| !(r.app == "StatusUpdates" && r.community_uuid == uuid));
            let n = before - tx.world.resources.len();
            if n > 0 {
                tx.world_changed = true;
            }
            Ok(json!(n))
        }
        _ => Err(java_error(
            "javax.management.ReflectionException",
            &format!("no operation {method} on {object}"),
        )),
    }
}
