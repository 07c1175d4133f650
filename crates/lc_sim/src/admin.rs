//! The server side of the admin objects: `lc-sim rpc CELL OBJECT METHOD` reads the arguments (JSON)
//! on stdin, carries the call out on the state under the lock, and prints the lines the call
//! prints, then one marker line with the return value or the Java text of the exception.
//!
//! Values on the wire: strings, integers, null, lists, and maps as `{"__map__": [[key, value], …]}`
//! (ordered; printed Java-style by the Jython proxy).

use std::collections::BTreeMap;
use std::io::{BufReader, BufWriter};
use std::path::Path;

use lc_core::apps::APPS;
use lc_core::formats::queue as q;
use serde_json::{json, Value};

use crate::dialect::{Dialect, Kind};
use crate::files;
use crate::model::{Cell, Copy, Event, Tx, RETRY_TASK};
use crate::truth::{self, Comparer};
use crate::util::{self, java_date, timestamp};

pub const RETURN_MARK: &str = "@@lcsim-return@@ ";
pub const RAISE_MARK: &str = "@@lcsim-raise@@ ";
/// One item of a returned list, on its own line: Jython's `eval` fails on a long text
/// ("Resetting to invalid mark", past about 100 KB), so a list of a thousand forums is sent as
/// one literal per item and the return line names them as `_ITEMS`.
pub const ITEM_MARK: &str = "@@lcsim-item@@ ";

/// What a call printed and how it ended.
#[derive(Debug, Default)]
pub struct Reply {
    pub lines: Vec<String>,
    pub result: Option<Result<Value, String>>,
}

type CallResult = Result<Value, String>;

/// `com.ibm.ws.scripting.ScriptingException: <java exception>: <message>`
pub fn java_error(class: &str, msg: &str) -> String {
    format!("com.ibm.ws.scripting.ScriptingException: {class}: {msg}")
}

fn iae(msg: impl AsRef<str>) -> String {
    java_error("java.lang.IllegalArgumentException", msg.as_ref())
}

/// A map value for the wire, keys in this order.
pub fn jmap(pairs: Vec<(&str, Value)>) -> Value {
    Value::Object(
        [(
            "__map__".to_string(),
            Value::Array(pairs.into_iter().map(|(k, v)| json!([k, v])).collect()),
        )]
        .into_iter()
        .collect(),
    )
}

/// The pairs of a map value (`None` if it is not one).
fn map_pairs(v: &Value) -> Option<Vec<(String, Value)>> {
    let m = v.as_object()?.get("__map__")?.as_array()?;
    Some(
        m.iter()
            .filter_map(|p| {
                let p = p.as_array()?;
                Some((
                    p.first()?.as_str()?.to_string(),
                    p.get(1).cloned().unwrap_or(Value::Null),
                ))
            })
            .collect(),
    )
}

fn map_get(v: &Value, key: &str) -> Option<Value> {
    map_pairs(v)?
        .into_iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v)
}

fn str_arg(args: &[Value], i: usize, what: &str) -> Result<String, String> {
    match args.get(i) {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(Value::Null) | None => Err(iae(format!("{what} must not be null"))),
        Some(other) => Err(iae(format!("{what} must be a string, got {other}"))),
    }
}

fn int_arg(args: &[Value], i: usize, what: &str) -> Result<i64, String> {
    match args.get(i) {
        Some(Value::Number(n)) if n.is_i64() => Ok(n.as_i64().unwrap_or(0)),
        Some(Value::String(s)) => s
            .trim()
            .parse()
            .map_err(|_| iae(format!("{what} must be a number, got {s:?}"))),
        other => Err(iae(format!(
            "{what} must be a number, got {}",
            other.unwrap_or(&Value::Null)
        ))),
    }
}

fn path_arg(args: &[Value], i: usize, what: &str) -> Result<String, String> {
    let p = str_arg(args, i, what)?;
    if p.contains('\\') {
        return Err(iae(format!(
            "{what} \"{p}\" contains a backslash; use forward slashes only"
        )));
    }
    if !p.starts_with('/') {
        return Err(iae(format!("{what} \"{p}\" is not an absolute path")));
    }
    Ok(p)
}

fn resource_type_arg(args: &[Value], i: usize) -> Result<String, String> {
    let t = str_arg(args, i, "resourceType")?;
    if t != "community" {
        return Err(iae(format!(
            "unsupported resource type {t:?}; the only supported resource type is \"community\""
        )));
    }
    Ok(t)
}

fn app_arg(cell: &Cell, args: &[Value], i: usize, what: &str) -> Result<String, String> {
    let a = str_arg(args, i, what)?;
    if !cell.has_app(&a) {
        return Err(iae(format!(
            "unknown {what} {a:?}; this deployment has: {}",
            cell.config.apps.join(", ")
        )));
    }
    Ok(a)
}

fn uuid_arg(args: &[Value], i: usize, what: &str) -> Result<String, String> {
    let u = str_arg(args, i, what)?;
    if u.trim().is_empty() {
        return Err(iae(format!("{what} must not be empty")));
    }
    Ok(u)
}

/// Pads cells into lines with the queue layout of lc_core::formats::queue.
fn table(headers: &[&str], rows: &[Vec<String>]) -> Vec<String> {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.len()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            widths[i] = widths[i].max(c.len());
        }
    }
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c:<w$}", w = widths[i]))
            .collect();
        padded.join(q::SEPARATOR).trim_end().to_string()
    };
    let mut out = vec![line(headers.to_vec())];
    for r in rows {
        out.push(line(r.iter().map(String::as_str).collect()));
    }
    out
}

fn event_row(e: &Event) -> Vec<String> {
    vec![
        e.id.to_string(),
        e.app.clone(),
        e.resource_type.clone(),
        e.resource_id.clone(),
        e.event_type.clone(),
        timestamp(e.created),
    ]
}

fn event_map(e: &Event) -> Value {
    let row = event_row(e);
    let mut pairs: Vec<(&str, Value)> = Vec::new();
    for (i, k) in q::EVENT_KEYS.iter().enumerate() {
        let v = if i == 0 { json!(e.id) } else { json!(row[i]) };
        pairs.push((k, v));
    }
    jmap(pairs)
}

/// Replays the queue when the retry task is due (healthy events just go; stale ones are counted,
/// since replaying them is the harm the runbook's pause prevents).
pub fn scheduler_tick(tx: &mut Tx, now: i64, force: bool) -> usize {
    let Some(task) = tx.world.task_mut(RETRY_TASK) else {
        return 0;
    };
    if task.status == "SUSPENDED" || (!force && now < task.next_fire()) {
        return 0;
    }
    task.last_run = now;
    if task.status == "RUNNING" {
        task.status = "SCHEDULED".into();
    }
    let n = tx.world.queue.len();
    for e in tx.world.queue.drain(..) {
        if e.stale {
            tx.meta.replayed_stale += 1;
        } else {
            tx.meta.replayed_healthy += 1;
        }
    }
    tx.world_changed = true;
    n
}

/// What the fault settings make of this call.
enum Gate {
    Go,
    Hang,
    Fail(String),
}

/// Carries out one call. Hangs (when told to) after releasing the lock.
pub fn rpc(cell: &Cell, object: &str, method: &str, args: Vec<Value>) -> Reply {
    let mut reply = Reply::default();
    let Some(spec) = crate::scripts::find_method(cell, object, method) else {
        reply.result = Some(Err(java_error(
            "javax.management.ReflectionException",
            &format!("no operation {method} on {object}"),
        )));
        return reply;
    };
    if args.len() < spec.min || args.len() > spec.max {
        reply.result = Some(Err(iae(format!(
            "{method} takes {} arguments, got {}",
            spec.min,
            args.len()
        ))));
        return reply;
    }
    let outcome = cell.with_state(|tx| {
        let key = format!("{object}.{method}");
        *tx.meta.calls.entry(key).or_default() += 1;
        let mut gate = Gate::Go;
        if let Some(h) = tx.meta.faults.hang.as_mut() {
            if h.hits(object, method) {
                gate = Gate::Hang;
            }
        }
        if let Some(f) = tx.meta.faults.fail.as_mut() {
            if matches!(gate, Gate::Go) && f.hits(object, method) {
                gate = Gate::Fail(java_error(
                    "com.ibm.websphere.management.exception.AdminException",
                    &format!("{object}.{method} failed on the server (fault injected by lc-sim)"),
                ));
            }
        }
        if !matches!(gate, Gate::Go) {
            return gate;
        }
        scheduler_tick(tx, util::now_ms(), false);
        let mut r = Reply::default();
        let res = dispatch(cell, tx, object, method, &args, &mut r.lines);
        r.result = Some(res);
        reply = r;
        Gate::Go
    });
    match outcome {
        Ok(Gate::Go) => {}
        Ok(Gate::Fail(text)) => reply.result = Some(Err(text)),
        Ok(Gate::Hang) => hang(),
        Err(e) => {
            reply.result = Some(Err(java_error(
                "com.ibm.websphere.management.exception.ConnectorException",
                &format!("{e:#}"),
            )))
        }
    }
    reply
}

/// Sleeps until killed; gives up when the caller is gone (its parent changes).
fn hang() {
    let parent = std::os::unix::process::parent_id();
    loop {
        std::thread::sleep(std::time::Duration::from_millis(200));
        if std::os::unix::process::parent_id() != parent {
            std::process::exit(1);
        }
    }
}

fn dispatch(
    cell: &Cell,
    tx: &mut Tx,
    object: &str,
    method: &str,
    args: &[Value],
    out: &mut Vec<String>,
) -> CallResult {
    match (object, method) {
        ("CommunitiesScheduler" | "CommunitiesSchedulerService", _) => {
            scheduler(cell.config.dialect, tx, method, args)
        }
        ("CommunitiesQEventService", _) => queue(cell, tx, method, args, out),
        ("CommunitiesRemoteAppService", "generateSyncReports") => {
            generate_sync_reports(cell, tx, args)
        }
        ("CommunitiesRemoteAppService", "assignRemoteApp") => assign(cell, tx, args, out),
        ("CommunitiesRemoteAppService", _) => resync(cell, tx, method, args, out),
        ("CommunitiesService", "fetchCommById") => fetch_comm(cell.config.dialect, tx, args),
        ("CommunitiesService", "removeAllWidgetsByWidgetDefId") => remove_widgets(tx, args),
        (_, "exportSyncedResourceInfo") => export(cell, tx, object, args),
        (_, "syncAllCommunityShares") => {
            out.push(format!(
                "Synchronized the shares of {} communities.",
                tx.world.communities.len()
            ));
            Ok(Value::Null)
        }
        _ => deletes(tx, object, method, args),
    }
}

fn scheduler(dialect: Dialect, tx: &mut Tx, method: &str, args: &[Value]) -> CallResult {
    let name = str_arg(args, 0, "taskName")?;
    let calls: u64 = tx.meta.calls.values().sum();
    let now = util::now_ms();
    let Some(task) = tx.world.task_mut(&name) else {
        if method == "getTaskDetails" {
            return Err(iae(format!("no scheduled task named {name:?}")));
        }
        return Ok(json!(0));
    };
    match method {
        "getTaskDetails" => {
            // A HashMap's order is not the alphabet's: each dialect has its own, lcsim varies it.
            let pairs = dialect
                .task_keys(calls)
                .into_iter()
                .map(|k| {
                    let v = match k {
                        "currentServerTime" => json!(java_date(now)),
                        "nextFireTime" => json!(java_date(task.next_fire().max(now))),
                        "status" => json!(task.status),
                        "taskName" => json!(task.name),
                        "interval" => json!(task.interval_secs),
                        _ => json!(format!("Scheduled task {}", task.name)),
                    };
                    (k, v)
                })
                .collect();
            Ok(jmap(pairs))
        }
        "pauseSchedulingTask" => {
            if task.status != "SUSPENDED" {
                task.status = "SUSPENDED".into();
                tx.world_changed = true;
            }
            Ok(json!(1))
        }
        _ => {
            if task.status == "SUSPENDED" {
                task.status = "SCHEDULED".into();
                task.last_run = now;
                tx.world_changed = true;
            }
            Ok(json!(1))
        }
    }
}

fn queue(
    cell: &Cell,
    tx: &mut Tx,
    method: &str,
    args: &[Value],
    out: &mut Vec<String>,
) -> CallResult {
    let order = |a: &str| APPS.iter().position(|x| x.id == a).unwrap_or(usize::MAX);
    match method {
        "viewQueuedEventsSummary" => {
            let mut per: BTreeMap<usize, (String, u64, i64)> = BTreeMap::new();
            for e in &tx.world.queue {
                let s = per
                    .entry(order(&e.app))
                    .or_insert((e.app.clone(), 0, i64::MAX));
                s.1 += 1;
                s.2 = s.2.min(e.created);
            }
            let rows: Vec<Vec<String>> = per
                .values()
                .map(|(a, n, t)| vec![a.clone(), n.to_string(), timestamp(*t)])
                .collect();
            out.extend(
                cell.config
                    .dialect
                    .queue_table("Queued events summary", table(q::SUMMARY_HEADERS, &rows)),
            );
            Ok(match per.values().last() {
                None => Value::Null,
                Some((a, n, t)) => jmap(vec![
                    (q::SUMMARY_KEYS[0], json!(a)),
                    (q::SUMMARY_KEYS[1], json!(n)),
                    (q::SUMMARY_KEYS[2], json!(timestamp(*t))),
                ]),
            })
        }
        "viewQueuedEventsByRemoteAppDefId" | "viewQueuedEventsByResourceType" => {
            let by_app = method.ends_with("RemoteAppDefId");
            let key = if by_app {
                app_arg(cell, args, 0, "remoteAppDefId")?
            } else {
                resource_type_arg(args, 0)?
            };
            let after = match args.get(1) {
                None | Some(Value::Null) => 0,
                Some(v) => match map_get(v, q::EVENT_KEYS[0]) {
                    Some(Value::Number(n)) => n.as_u64().unwrap_or(0),
                    Some(Value::String(s)) => s.parse().unwrap_or(0),
                    _ => {
                        return Err(iae(
                            "lastEvent must be a map returned by a previous view, or None",
                        ))
                    }
                },
            };
            let max = int_arg(args, 2, "maxRows")?;
            if max <= 0 {
                return Err(iae(format!("maxRows must be greater than 0, got {max}")));
            }
            let mut events: Vec<&Event> = tx
                .world
                .queue
                .iter()
                .filter(|e| {
                    if by_app {
                        e.app == key
                    } else {
                        e.resource_type == key
                    }
                })
                .filter(|e| e.id > after)
                .collect();
            events.sort_by_key(|e| e.id);
            events.truncate(max as usize);
            let rows: Vec<Vec<String>> = events.iter().map(|e| event_row(e)).collect();
            out.extend(
                cell.config
                    .dialect
                    .queue_table("Queued events", table(q::EVENT_HEADERS, &rows)),
            );
            Ok(events.last().map(|e| event_map(e)).unwrap_or(Value::Null))
        }
        "clearQueuedEventsByRemoteAppDefId" => {
            let app = app_arg(cell, args, 0, "remoteAppDefId")?;
            Ok(json!(clear(tx, |e| e.app == app)))
        }
        "clearQueuedEventsByResourceType" => {
            let t = resource_type_arg(args, 0)?;
            Ok(json!(clear(tx, |e| e.resource_type == t)))
        }
        _ => {
            let t = resource_type_arg(args, 0)?;
            let id = uuid_arg(args, 1, "resourceId")?;
            Ok(json!(
                clear(tx, |e| e.resource_type == t && e.resource_id == id)
            ))
        }
    }
}

fn clear(tx: &mut Tx, hit: impl Fn(&Event) -> bool) -> u64 {
    let before = tx.world.queue.len();
    tx.world.queue.retain(|e| !hit(e));
    let n = (before - tx.world.queue.len()) as u64;
    if n > 0 {
        tx.world_changed = true;
    }
    n
}

fn io_error(path: &str, e: &std::io::Error) -> String {
    let why = match e.kind() {
        std::io::ErrorKind::NotFound => "No such file or directory".to_string(),
        std::io::ErrorKind::PermissionDenied => "Permission denied".to_string(),
        _ => e.to_string(),
    };
    java_error("java.io.FileNotFoundException", &format!("{path} ({why})"))
}

fn export(cell: &Cell, tx: &mut Tx, object: &str, args: &[Value]) -> CallResult {
    let path = path_arg(args, 0, "path")?;
    resource_type_arg(args, 1)?;
    let app = match args.get(2) {
        Some(_) => {
            let a = str_arg(args, 2, "remoteAppDefId")?;
            if a != "IdeationBlog" || !cell.has_app(&a) {
                return Err(iae(format!("unknown remoteAppDefId {a:?} for {object}")));
            }
            a
        }
        None => {
            let Some(a) = APPS
                .iter()
                .find(|a| a.service == object && a.export_extra.is_none())
            else {
                return Err(iae(format!("{object} exports nothing")));
            };
            if !cell.has_app(a.id) {
                return Err(iae(format!("{} is not deployed", a.id)));
            }
            a.id.to_string()
        }
    };
    let info =
        lc_core::apps::by_id(&app).ok_or_else(|| iae(format!("unknown application {app:?}")))?;
    // The server of an application on another node writes to that node's disk.
    let on_disk = match tx.meta.node_disks.get(&app) {
        Some(disk) => format!("{disk}{path}"),
        None => path.clone(),
    };
    let f = std::fs::File::create(&on_disk).map_err(|e| io_error(&path, &e))?;
    files::write_export(
        BufWriter::new(f),
        cell.config.dialect,
        info,
        truth::records(&tx.world, &app),
    )
    .map_err(|e| io_error(&path, &e))?;
    Ok(Value::Null)
}

fn generate_sync_reports(cell: &Cell, tx: &mut Tx, args: &[Value]) -> CallResult {
    let xml = path_arg(args, 0, "exportFile")?;
    let dir = path_arg(args, 1, "outputDirectory")?;
    if !Path::new(&dir).is_dir() {
        return Err(io_error(
            &dir,
            &std::io::Error::from(std::io::ErrorKind::NotFound),
        ));
    }
    let dialect = cell.config.dialect;
    let f = std::fs::File::open(&xml).map_err(|e| io_error(&xml, &e))?;
    type Out = files::ReportWriter<BufWriter<std::fs::File>>;
    let open = |kind: Kind, app: &'static lc_core::apps::App| -> Result<Out, String> {
        let path = format!(
            "{}/{}",
            dir.trim_end_matches('/'),
            files::report_file(dialect, kind, app)
        );
        let f = std::fs::File::create(&path).map_err(|e| io_error(&path, &e))?;
        files::ReportWriter::new(BufWriter::new(f), dialect, kind, app)
            .map_err(|e| io_error(&path, &e))
    };
    let mut reports: Option<(Out, Out)> = None;
    let mut opened: Result<(), String> = Ok(());
    let mut diffs = Vec::new();
    let mut orphans = Vec::new();
    let mut cmp: Option<Comparer> = None;
    let world = &tx.world;
    let read = files::read_export(dialect, BufReader::new(f), |item| {
        match item {
            files::Item::App(a) => {
                let Some(info) = lc_core::apps::by_id(&a).filter(|_| cell.has_app(&a)) else {
                    anyhow::bail!("the export is of {a:?}, which this deployment does not have");
                };
                let both =
                    open(Kind::Differences, info).and_then(|d| Ok((d, open(Kind::Orphans, info)?)));
                match both {
                    Ok(b) => reports = Some(b),
                    Err(e) => {
                        opened = Err(e);
                        anyhow::bail!("cannot write the reports");
                    }
                }
                cmp = Some(Comparer::new(world, &a));
            }
            files::Item::Record(r) => {
                if let (Some(c), Some((d, o))) = (cmp.as_mut(), reports.as_mut()) {
                    c.add(&r, &mut diffs, &mut orphans);
                    for x in diffs.drain(..) {
                        d.row(files::Row::Difference(&x))?;
                    }
                    for x in orphans.drain(..) {
                        o.row(files::Row::Orphan(&x))?;
                    }
                }
            }
        }
        Ok(())
    });
    opened?;
    if let Err(e) = read {
        return Err(java_error(
            "com.ibm.lconn.communities.sync.SyncReportException",
            &format!("cannot read {xml}: {e:#}"),
        ));
    }
    if let Some((d, o)) = reports {
        d.finish()
            .and_then(|_| o.finish())
            .map_err(|e| io_error(&dir, &e))?;
    }
    Ok(Value::Null)
}

fn assign(cell: &Cell, tx: &mut Tx, args: &[Value], out: &mut Vec<String>) -> CallResult {
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

fn fetch_comm(dialect: Dialect, tx: &mut Tx, args: &[Value]) -> CallResult {
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

fn remove_widgets(tx: &mut Tx, args: &[Value]) -> CallResult {
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

fn resync(
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

fn deletes(tx: &mut Tx, object: &str, method: &str, args: &[Value]) -> CallResult {
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

/// `lc-sim rpc`: the command the Jython proxy runs for every call.
pub fn rpc_main(cell_dir: &Path, object: &str, method: &str) -> anyhow::Result<Vec<String>> {
    use std::io::Read;
    let cell = Cell::open(cell_dir)?;
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input)?;
    let args: Vec<Value> = if input.trim().is_empty() {
        Vec::new()
    } else {
        serde_json::from_str(&input)?
    };
    let reply = rpc(&cell, object, method, args);
    let (before, after) = cell.config.dialect.call_lines(object, method);
    let mut lines = before;
    lines.extend(reply.lines);
    lines.extend(after);
    match reply.result {
        Some(Ok(Value::Array(items))) => {
            for item in &items {
                lines.push(format!("{ITEM_MARK}{}", python_literal(item)));
            }
            lines.push(format!("{RETURN_MARK}_L(_ITEMS)"));
        }
        Some(Ok(v)) => lines.push(format!("{RETURN_MARK}{}", python_literal(&v))),
        Some(Err(t)) => lines.push(format!("{RAISE_MARK}{}", py_str(&t))),
        None => {}
    }
    Ok(lines)
}

/// A Python 2 byte-string literal of UTF-8 text (what the proxy `eval`s: no JSON parsing in Jython).
fn py_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for b in s.bytes() {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'\'' => out.push_str("\\'"),
            0x20..=0x7e => out.push(b as char),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out.push('\'');
    out
}

/// A wire value as a Python literal: `_M([(k, v), …])` for maps, `_L([…])` for lists.
pub fn python_literal(v: &Value) -> String {
    match v {
        Value::Null => "None".into(),
        Value::Bool(b) => (if *b { "1" } else { "0" }).into(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => py_str(s),
        Value::Array(a) => {
            let items: Vec<String> = a.iter().map(python_literal).collect();
            format!("_L([{}])", items.join(", "))
        }
        Value::Object(_) => {
            let pairs = map_pairs(v).unwrap_or_default();
            let items: Vec<String> = pairs
                .iter()
                .map(|(k, x)| format!("({}, {})", py_str(k), python_literal(x)))
                .collect();
            format!("_M([{}])", items.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_become_python_literals() {
        let v = json!([1, null, "a'b\\\n\u{e9}", jmap(vec![("k", json!(["x"]))])]);
        assert_eq!(
            python_literal(&v),
            "_L([1, None, 'a\\'b\\\\\\x0a\\xc3\\xa9', _M([('k', _L(['x']))])])"
        );
    }
}
