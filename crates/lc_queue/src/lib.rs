//! The lc_queue module: options, the generated script and how its output becomes a result.

use lc_core::wsadmin::module as layer;
use lc_core::wsadmin::{self, WsadminArgs};
use lc_core::{ArgSpec, Context, Elem, Error, Module, OptionSet, Outcome};
use std::collections::BTreeMap;

pub struct Queue;

lc_core::options! {
    #[derive(Debug)]
    pub struct Options {
        pub state: String => str().default("status").choices(&["cleared", "status"]),
        pub remote_apps: Option<Vec<String>> => list(Elem::Str),
        pub resource_type: Option<String> => str().choices(&["community"]),
        pub resource_id: Option<String> => str(),
        #[flatten]
        pub wsadmin: WsadminArgs,
    }
}

/// ARGS: check (1|0), scope (apps|type|id|none), then the app ids, or the resource id.
/// The queue summary is printed between `begin`/`end` records so that its table can be read
/// whether the admin object prints from Jython or from Java. In check mode, a clear by resource
/// type or id also pages through the community events (`viewQueuedEventsByResourceType`), since
/// the summary counts events of every resource type.
pub const BODY: &str = include_str!("../jython/queue.py");

impl Module for Queue {
    const NAME: &'static str = "lc_queue";
    type Options = Options;

    fn spec() -> ArgSpec {
        Options::spec().mutually_exclusive(&["remote_apps", "resource_type", "resource_id"])
    }

    fn run(o: Options, ctx: &Context) -> Result<Outcome, Error> {
        let (scope, values): (&str, Vec<String>) = match (&o.remote_apps, &o.resource_type, &o.resource_id) {
            (Some(apps), _, _) => {
                let apps = lc_core::apps::validate_ids("remote_apps", apps)?;
                if apps.is_empty() {
                    return Err(Error::invalid("remote_apps is empty: name at least one application id"));
                }
                ("apps", apps.iter().map(|a| a.id.to_string()).collect())
            }
            (None, Some(_), _) => ("type", Vec::new()),
            (None, None, Some(id)) => {
                lc_core::validate::check_uuid("resource_id", id)?;
                ("id", vec![id.clone()])
            }
            (None, None, None) if o.state == "cleared" => {
                return Err(Error::invalid(
                    "state is cleared but none of remote_apps, resource_type, resource_id says what to clear",
                ))
            }
            (None, None, None) => ("none", Vec::new()),
        };
        let script = layer::script(BODY)
            .arg(layer::flag(ctx.check_mode))
            .arg(scope)
            .args(values.clone());
        let out = layer::execute(&o.wsadmin, &script, ctx)?;
        interpret(&o, ctx, scope, &values, &out)
    }
}

/// Reads the event tables (`viewQueuedEventsBy…`) printed between the `begin`/`end` records
/// labelled `label`: (event id, app id, resource id) per event, each event once however the
/// pages overlap. Columns are found by their headers.
pub fn events(out: &wsadmin::Output, label: &str) -> Option<Vec<(String, String, String)>> {
    use lc_core::formats::queue::{EVENT_HEADERS, SEPARATOR};
    let mut inside = false;
    let mut found = false;
    let mut columns: Option<(usize, usize, usize)> = None;
    let mut seen = std::collections::BTreeSet::new();
    let mut rows = Vec::new();
    for line in out.text.lines() {
        if let Some(r) = wsadmin::parse_records(line).first() {
            if r.tag == "begin" && r.field(0) == label {
                inside = true;
                found = true;
            } else if r.tag == "end" && r.field(0) == label {
                inside = false;
            }
            continue;
        }
        if !inside {
            continue;
        }
        let cells: Vec<&str> = line.split(SEPARATOR.trim()).map(str::trim).collect();
        let position = |h: &str| cells.iter().position(|c| c.eq_ignore_ascii_case(h));
        if let (Some(id), Some(app), Some(rid)) = (
            position(EVENT_HEADERS[0]),
            position(EVENT_HEADERS[1]),
            position(EVENT_HEADERS[3]),
        ) {
            columns = Some((id, app, rid));
            continue;
        }
        let Some((id_col, app_col, rid_col)) = columns else {
            continue;
        };
        let (Some(id), Some(app), Some(rid)) =
            (cells.get(id_col), cells.get(app_col), cells.get(rid_col))
        else {
            continue;
        };
        let Some(app) = lc_core::apps::by_id(app) else {
            continue;
        };
        if !id.is_empty() && seen.insert(id.to_string()) {
            rows.push((id.to_string(), app.id.to_string(), rid.to_string()));
        }
    }
    found.then_some(rows)
}

fn interpret(
    o: &Options,
    ctx: &Context,
    scope: &str,
    values: &[String],
    out: &wsadmin::Output,
) -> Result<Outcome, Error> {
    let before = lc_core::replay::summary(out, "before").ok_or_else(|| {
        Error::invalid("viewQueuedEventsSummary printed no table that could be read")
    })?;
    let in_scope = |app: &str| match scope {
        "apps" => values.iter().any(|v| v == app),
        _ => true,
    };
    let total = |m: &BTreeMap<String, u64>| m.values().sum::<u64>();
    let mut result = Outcome::new(false).with("queued_before", &before);
    if o.state == "status" {
        return Ok(result
            .msg(format!("{} queued events", total(&before)))
            .with("queued_after", &before));
    }
    if ctx.check_mode {
        let would: BTreeMap<String, u64> = match scope {
            "type" | "id" => {
                let listed = events(out, "community").ok_or_else(|| {
                    Error::invalid(
                        "viewQueuedEventsByResourceType printed no table that could be read",
                    )
                })?;
                let mut m = BTreeMap::new();
                for (_, app, rid) in listed {
                    if scope == "type" || rid == values[0] {
                        *m.entry(app).or_insert(0) += 1;
                    }
                }
                m
            }
            _ => before
                .iter()
                .filter(|(app, _)| in_scope(app))
                .map(|(a, n)| (a.clone(), *n))
                .collect(),
        };
        let n = total(&would);
        result.changed = n > 0;
        let msg = match scope {
            "type" => format!("would clear {n} queued community events"),
            "id" => format!("would clear {n} queued events of community {}", values[0]),
            _ => format!("would clear {n} queued events"),
        };
        return Ok(result
            .msg(msg)
            .with("cleared", &would)
            .with("cleared_total", n)
            .with("queued_after", &before));
    }
    let after = lc_core::replay::summary(out, "after").ok_or_else(|| {
        Error::invalid("viewQueuedEventsSummary after clearing printed no table that could be read")
    })?;
    let mut cleared = BTreeMap::new();
    let mut reported_total = 0u64;
    for r in out.tagged("cleared") {
        let n: u64 = r.field(1).trim().parse().map_err(|_| {
            Error::invalid(format!(
                "the clear call for {} returned {:?}, not a count",
                r.field(0),
                r.field(1)
            ))
        })?;
        reported_total += n;
        if r.field(0) != "*" {
            cleared.insert(r.field(0).to_string(), n);
        }
    }
    if scope != "apps" {
        // Per-application figures from the summaries; the call's own total is authoritative.
        for (app, n) in &before {
            let left = after.get(app).copied().unwrap_or(0);
            if *n > left {
                cleared.insert(app.clone(), n - left);
            }
        }
    }
    result.changed = reported_total > 0;
    let remaining = total(&after);
    let msg = match scope {
        "apps" => format!(
            "cleared {reported_total} queued events of {}; {remaining} events of other applications remain queued",
            values.join(", ")
        ),
        "type" => format!(
            "cleared {reported_total} queued community events; {remaining} events of other resource types remain queued"
        ),
        _ => format!(
            "cleared {reported_total} queued events of community {}; {remaining} other events remain queued",
            values[0]
        ),
    };
    Ok(result
        .msg(msg)
        .with("cleared", &cleared)
        .with("cleared_total", reported_total)
        .with("queued_after", &after))
}
