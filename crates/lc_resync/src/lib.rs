//! The lc_resync module: the plan (every value validated before anything runs), what an earlier
//! run that stopped part way already did (the state file), the generated script with its
//! preconditions, and the outcome of each call.
//!
//! Resume. With `communities` or `all_communities_for`, a small state file in `state_dir`
//! (`communities.json` or `all_communities.json`) remembers, for one request (a digest of what was
//! asked), the calls that finished and, per application, the last community an all-communities
//! pass processed. It is written atomically before wsadmin starts and after it ends, and removed
//! once every call of the request has finished. While wsadmin runs, the script appends each
//! finished call to a journal beside it, so that a run stopped by `timeout` still leaves a
//! resume point; the journal is folded into the state file and removed afterwards (or at the
//! start of the next run). A rerun with the same options skips what finished and restarts an
//! interrupted all-communities pass with `restartResyncRemoteAppsForAllCommunities` after its
//! last processed community; other options start afresh.
//!
//! Map: `plan` the calls and their outcomes; `store` the state file and journal;
//! `progress` the progress lines of a pass; `preconditions` the scheduler task and queue
//! the script reads first. Statuses, outcome records, counts and the first failure are those of
//! [`lc_core::wsadmin::module`].

use lc_core::error::ErrorKind;
use lc_core::replay::{self, RETRY_TASK};
use lc_core::wsadmin::module::{self as layer, Counts, Status};
use lc_core::wsadmin::{self, WsadminArgs};
use lc_core::{ArgSpec, Context, Elem, Error, Module, OptionSet, Outcome};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

mod plan;
mod preconditions;
mod progress;
mod store;

pub use plan::CallOutcome;
pub use preconditions::Preconditions;
pub use progress::{parse_progress, read_progress, Progress};
pub use store::{Mode, Resume, State};

use plan::{Kind, Plan};
use progress::pass_in_tail;
use store::{state_dir, Store};

pub struct Resync;

lc_core::options! {
    #[derive(Debug)]
    pub struct Options {
        pub communities: Option<Vec<serde_json::Value>> => list(Elem::Raw),
        pub all_communities_for: Option<Vec<String>> => list(Elem::Str),
        pub share_repair: Option<Vec<String>> => list(Elem::Str).choices(SHARE_APPS),
        pub state_dir: Option<PathBuf> => path(),
        pub request_timeout: u64 => int().default(0),
        #[flatten]
        pub wsadmin: WsadminArgs,
    }
}

/// The applications whose community shares `share_repair` can repair: those with a
/// `share_service` in the application table.
pub const SHARE_APPS: &[&str] = &["Files", "Activities"];

/// `state_dir` when not given, under the home folder of the user the module runs as.
pub const DEFAULT_STATE_DIR: &str = ".connections.dr/lc_resync";

/// ARGS: the scheduler task, the key of the summary map that counts events, the journal path.
/// DATA rows: kind (`c` community, `a` all communities, `s` share repair), index, two values,
/// state key. The values: `c` community uuid, widget id or ""; `a` widget id, community uuid to
/// restart after or ""; `s` admin script, service object.
/// The preconditions are read first; when they are not met nothing else is called. Each call
/// runs in its own try block; the printed output of all-communities passes and share repairs
/// sits between `begin`/`end` records so that their progress lines can be read.
pub const BODY: &str = include_str!("../jython/resync.py");

impl Module for Resync {
    const NAME: &'static str = "lc_resync";
    type Options = Options;

    fn spec() -> ArgSpec {
        Options::spec()
            .mutually_exclusive(&["communities", "all_communities_for"])
            .required_one_of(&["communities", "all_communities_for", "share_repair"])
    }

    fn run(o: Options, ctx: &Context) -> Result<Outcome, Error> {
        let mut plan = Plan::new(&o)?;
        // Every option checked before the state folder is made.
        layer::prepare(ctx, &o.wsadmin)?;
        if plan.units.is_empty() {
            return Ok(finish(&plan, None, None, ctx.check_mode));
        }
        let store = match plan.mode {
            Some(mode) => Some(Store::new(&state_dir(o.state_dir.as_deref())?, mode)?),
            None => None,
        };
        let mut state = match &store {
            Some(s) => s.load(&plan.request)?,
            None => State::default(),
        };
        plan.apply(&state);
        if ctx.check_mode {
            return Ok(finish(&plan, None, store.as_ref(), true));
        }
        let todo: Vec<usize> = plan.todo().collect();
        if todo.is_empty() {
            if let Some(s) = &store {
                s.settle(&state, &plan)?;
            }
            return Ok(finish(&plan, None, store.as_ref(), false));
        }
        let journal = match &store {
            Some(s) => {
                s.save(&state)?;
                s.start_journal()?
            }
            None => String::new(),
        };
        let script = layer::script(format!("{}{BODY}", replay::SCHEDULER_JYTHON))
            .args([
                RETRY_TASK,
                lc_core::formats::queue::SUMMARY_KEYS[1],
                journal.as_str(),
            ])
            .rows(plan.rows(&todo))
            .request_timeout(o.request_timeout);
        let out = match wsadmin::run(&o.wsadmin, &script, ctx.tmpdir.as_deref()) {
            Ok(out) => out,
            Err(e) => return Err(stopped_part_way(e, &mut plan, &mut state, store.as_ref())),
        };
        let preconditions = Preconditions::read(&out);
        if let Some(msg) = preconditions.refusal() {
            if let Some(s) = &store {
                s.settle(&state, &plan)?;
            }
            let mut result = Outcome::new(false)
                .msg(msg)
                .with("preconditions", &preconditions)
                .with("outcomes", Vec::<CallOutcome>::new());
            result.failed = true;
            return Ok(result);
        }
        plan.read_outcomes(&out);
        state.record(&plan);
        if let Some(s) = &store {
            s.settle(&state, &plan)?;
        }
        Ok(finish(&plan, Some(&preconditions), store.as_ref(), false))
    }
}

/// wsadmin did not end normally (stopped by `timeout`, or the script broke off): what the
/// journal and the tail of the output say is kept, so that a rerun goes on from there.
fn stopped_part_way(e: Error, plan: &mut Plan, state: &mut State, store: Option<&Store>) -> Error {
    let Some(store) = store else {
        return e;
    };
    for (status, key) in store.journal_lines().unwrap_or_default() {
        if let Some(u) = plan.units.iter_mut().find(|u| u.key == key) {
            if let Some(status) = Status::parse(&status) {
                u.outcome.status = status;
            }
        }
    }
    // The call that was running is the first the journal does not name. When it is an
    // all-communities pass, its last progress lines may be in the output's tail.
    let tail = match &e.kind {
        ErrorKind::Process { process, .. } | ErrorKind::Timeout { process, .. } => {
            process.output_tail.as_str()
        }
        _ => "",
    };
    let running = plan.todo().next();
    if let Some(i) = running.filter(|&i| plan.units[i].kind == Kind::All) {
        if let Some(lines) = pass_in_tail(tail, i) {
            let u = &mut plan.units[i];
            u.outcome.status = Status::Failed;
            u.read_pass(&lines);
        }
    }
    state.record(plan);
    let finished = plan
        .units
        .iter()
        .filter(|u| u.outcome.status == Status::Done)
        .count();
    if store.settle(state, plan).is_err() || store.kept().is_none() {
        return e;
    }
    e.context(format!(
        "the resync stopped part way ({finished} calls finished; {} keeps where it stopped: run again to go on)",
        store.state.display()
    ))
}

fn finish(
    plan: &Plan,
    preconditions: Option<&Preconditions>,
    store: Option<&Store>,
    check_mode: bool,
) -> Outcome {
    let outcomes: Vec<&CallOutcome> = plan.units.iter().map(|u| &u.outcome).collect();
    let c = Counts::of(&plan.units);
    // A community counts as resynced when every call for it finished (here or earlier).
    let mut by_community: BTreeMap<&str, bool> = BTreeMap::new();
    for o in &outcomes {
        if let Some(u) = &o.community_uuid {
            let ok = o.status.is_finished();
            *by_community.entry(u).or_insert(true) &= ok;
        }
    }
    let resynced = by_community.values().filter(|ok| **ok).count();
    let what = describe(plan);
    let msg = if check_mode {
        let earlier = if c.skipped > 0 {
            format!(", {} done by an earlier run", c.skipped)
        } else {
            String::new()
        };
        format!(
            "would make {} calls ({what}{earlier}); the preconditions are checked when it runs",
            c.planned
        )
    } else if c.failed > 0 {
        c.failures("calls", &plan.units)
    } else if outcomes.is_empty() {
        "nothing to resync".to_string()
    } else if c.done == 0 {
        format!(
            "nothing left to do ({what}): {} calls skipped (see outcomes)",
            c.skipped
        )
    } else if c.skipped > 0 {
        format!(
            "{} calls done ({what}); {} skipped (see outcomes)",
            c.done, c.skipped
        )
    } else {
        format!("{} calls done ({what})", c.done)
    };
    let changed = if check_mode {
        c.planned > 0
    } else {
        c.done > 0
    };
    let mut result = Outcome::new(changed)
        .msg(msg)
        .with("outcomes", &outcomes)
        .with("counts", c)
        .with("resynced_communities", resynced)
        .with("state_file", store.and_then(Store::kept));
    if let Some(p) = preconditions {
        result = result.with("preconditions", p);
    }
    result.failed = c.failed > 0 && !check_mode;
    result
}

/// A few words on what the plan covers, for messages.
fn describe(plan: &Plan) -> String {
    let mut parts = Vec::new();
    let communities: BTreeSet<&str> = plan
        .units
        .iter()
        .filter_map(|u| u.outcome.community_uuid.as_deref())
        .collect();
    if !communities.is_empty() {
        parts.push(format!("{} communities", communities.len()));
    }
    let ids = |k: Kind| -> Vec<&str> {
        plan.units
            .iter()
            .filter(|u| u.kind == k)
            .filter_map(|u| u.app.map(|a| a.id))
            .collect()
    };
    let all = ids(Kind::All);
    if !all.is_empty() {
        parts.push(format!("every community for {}", all.join(", ")));
    }
    let shares = ids(Kind::Share);
    if !shares.is_empty() {
        parts.push(format!("share repair of {}", shares.join(", ")));
    }
    parts.join("; ")
}

#[cfg(test)]
mod tests;
