//! The lc_scheduler module: options, the generated script and how its output becomes a result.

use lc_core::wsadmin::module as layer;
use lc_core::wsadmin::{self, WsadminArgs};
use lc_core::{Context, Error, Module, Outcome};

pub struct Scheduler;

lc_core::options! {
    #[derive(Debug)]
    pub struct Options {
        pub task: String => str().default("LifecycleRetryQueuedEvents").choices(TASKS),
        pub state: String => str().default("status").choices(&["paused", "resumed", "status"]),
        #[flatten]
        pub wsadmin: WsadminArgs,
    }
}

/// Task names the documentation gives for CommunitiesScheduler.
pub const TASKS: &[&str] = &["LifecycleRetryQueuedEvents", "EventLogCleanup"];

impl Module for Scheduler {
    const NAME: &'static str = "lc_scheduler";
    type Options = Options;

    fn run(o: Options, ctx: &Context) -> Result<Outcome, Error> {
        // One run: the script reads the status itself and changes the task only when needed.
        let script = layer::script(format!("{}{BODY}", lc_core::replay::SCHEDULER_JYTHON)).args([
            o.task.as_str(),
            o.state.as_str(),
            layer::flag(ctx.check_mode),
        ]);
        let out = layer::execute(&o.wsadmin, &script, ctx)?;
        interpret(&o, ctx, &out)
    }
}

/// Reads the task, changes it only when needed, reads it again. ARGS: task, wanted state
/// (paused|resumed|status), check mode (1|0). Follows [`lc_core::replay::SCHEDULER_JYTHON`],
/// which finds the scheduler object and reads a task's status.
pub const BODY: &str = include_str!("../jython/scheduler.py");

fn interpret(o: &Options, ctx: &Context, out: &wsadmin::Output) -> Result<Outcome, Error> {
    let details: Vec<_> = out
        .tagged("details")
        .map(|r| wsadmin::parse_java_map(r.field(0)))
        .collect();
    let first = details.first().ok_or_else(|| {
        Error::invalid(format!(
            "getTaskDetails(\"{}\") printed nothing that could be read",
            o.task
        ))
    })?;
    let status_before = first.get("status").cloned().unwrap_or_default();
    if status_before.is_empty() {
        return Err(Error::invalid(format!(
            "getTaskDetails(\"{}\") gave no status: {}",
            o.task,
            out.tagged("details").next().map_or("", |r| r.field(0))
        )));
    }
    if let Some(r) = out.tagged("returned").find(|r| r.field(1).trim() != "1") {
        return Err(Error::invalid(format!(
            "{}(\"{}\") returned {} (failure); the task is {}",
            r.field(0),
            o.task,
            r.field(1).trim(),
            details
                .last()
                .and_then(|d| d.get("status"))
                .map_or("unknown", |s| s.as_str())
        )));
    }
    let wants_change = match o.state.as_str() {
        "paused" => status_before != "SUSPENDED",
        "resumed" => status_before == "SUSPENDED",
        _ => false,
    };
    let last = details.last().unwrap_or(first);
    let status = if ctx.check_mode && wants_change {
        if o.state == "paused" {
            "SUSPENDED"
        } else {
            "SCHEDULED"
        }
        .to_string()
    } else {
        last.get("status").cloned().unwrap_or_default()
    };
    if !ctx.check_mode && wants_change {
        let expected = if o.state == "paused" {
            "SUSPENDED"
        } else {
            "SCHEDULED"
        };
        // A run in progress may still show RUNNING after a pause; SUSPENDED takes over once it ends.
        if status != expected && !(o.state == "paused" && status == "RUNNING") {
            return Err(Error::invalid(format!(
                "{} \"{}\" was asked to be {} but getTaskDetails still says {status}",
                out.tagged("object")
                    .next()
                    .map_or("scheduler", |r| r.field(0)),
                o.task,
                o.state
            )));
        }
    }
    let verb = match (o.state.as_str(), wants_change) {
        ("paused", true) => "paused",
        ("resumed", true) => "resumed",
        ("status", _) => "read",
        _ => "left as it was",
    };
    Ok(Outcome::new(wants_change)
        .msg(format!("{} {verb}: {status_before} -> {status}", o.task))
        .with("task", &o.task)
        .with("status_before", &status_before)
        .with("status", &status)
        .with("next_fire_time", last.get("nextFireTime"))
        .with(
            "scheduler_object",
            out.tagged("object").next().map(|r| r.field(0).to_string()),
        ))
}
