//! The server side of the admin objects: `lc-sim rpc CELL OBJECT METHOD` reads the arguments (JSON)
//! on stdin, carries the call out on the state under the lock, and prints the lines the call
//! prints, then one marker line with the return value or the Java text of the exception.
//!
//! Values on the wire: strings, integers, null, lists, and maps as `{"__map__": [[key, value], …]}`
//! (ordered; printed Java-style by the Jython proxy).

mod communities;
mod events;
mod exports;
mod wire;

pub use events::scheduler_tick;
pub use wire::{jmap, python_literal};

pub(crate) use communities::resync_one;
use communities::{assign, deletes, fetch_comm, remove_widgets, resync};
use events::{queue, scheduler};
use exports::{export, generate_sync_reports};
use wire::py_str;

use std::path::Path;

use serde_json::Value;

use crate::model::{Cell, Tx};
use crate::util;

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

pub(super) type CallResult = Result<Value, String>;

/// `com.ibm.ws.scripting.ScriptingException: <java exception>: <message>`
pub fn java_error(class: &str, msg: &str) -> String {
    format!("com.ibm.ws.scripting.ScriptingException: {class}: {msg}")
}

pub(super) fn iae(msg: impl AsRef<str>) -> String {
    java_error("java.lang.IllegalArgumentException", msg.as_ref())
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

#[cfg(test)]
mod tests;
