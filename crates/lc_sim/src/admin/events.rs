//! The scheduler and the event queue: `CommunitiesScheduler` and `CommunitiesQEventService`.

use std::collections::BTreeMap;

use lc_core::apps::APPS;
use lc_core::formats::queue as q;
use serde_json::{json, Value};

use super::wire::{app_arg, int_arg, jmap, map_get, resource_type_arg, str_arg, uuid_arg};
use super::{iae, CallResult};
use crate::dialect::Dialect;
use crate::model::{Cell, Event, Tx, RETRY_TASK};
use crate::util::{self, java_date, timestamp};

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

pub(super) fn scheduler(dialect: Dialect, tx: &mut Tx, method: &str, args: &[Value]) -> CallResult {
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

pub(super) fn queue(
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
