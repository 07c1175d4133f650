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

use lc_core::apps::{self, App};
use lc_core::error::ErrorKind;
use lc_core::replay::{self, RETRY_TASK};
use lc_core::wsadmin::{self, Output, Script, WsadminArgs};
use lc_core::{ArgSpec, Context, Elem, Error, Module, OptionSet, Outcome};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

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

const SERVICE: &str = "CommunitiesRemoteAppService";

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
        if !ctx.check_mode {
            // Every option checked before the state folder is made.
            wsadmin::validate(&o.wsadmin.normalized())?;
        }
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
        let script = Script::new(format!("{}{BODY}", replay::SCHEDULER_JYTHON))
            .load(apps::COMMUNITIES_SCRIPT)
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

/// What kind of call a unit of the plan is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Community,
    All,
    Share,
}

/// The mode of a request that keeps a state file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Communities,
    AllCommunities,
}

impl Mode {
    fn file_stem(self) -> &'static str {
        match self {
            Mode::Communities => "communities",
            Mode::AllCommunities => "all_communities",
        }
    }
}

/// One call of the plan and, once known, what became of it.
#[derive(Debug, Clone)]
struct Unit {
    kind: Kind,
    /// How the state file names it: `<uuid>`, `<uuid>/<widget>` or `<widget>`.
    key: String,
    app: Option<&'static App>,
    outcome: CallOutcome,
    /// All communities: the pass restarts after this community, `processed` already counted.
    resume: Option<Resume>,
}

/// What happened, or in check mode what would happen, to one call.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CallOutcome {
    /// The admin call, e.g. `CommunitiesRemoteAppService.resyncRemoteAppsForCommunity`.
    pub call: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub community_uuid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub community_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub application: Option<String>,
    /// `done`, `failed`, `skipped`, or in check mode `planned`.
    pub status: String,
    pub message: String,
    /// All communities: the community the pass restarted after.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resumed_after: Option<String>,
    /// All communities: communities processed by the pass so far (earlier runs included).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub processed: Option<u64>,
    /// All communities: the last community the pass processed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_community_uuid: Option<String>,
}

/// Where an all-communities pass stopped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resume {
    pub last_community_uuid: String,
    pub processed: u64,
}

/// The content of a state file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    /// The digest of the request the file belongs to.
    pub request: String,
    /// The state keys of the calls that finished.
    #[serde(default)]
    pub done: BTreeSet<String>,
    /// Per widget id: where its all-communities pass stopped.
    #[serde(default)]
    pub resume: BTreeMap<String, Resume>,
}

impl State {
    /// Takes in what this run did: finished calls, and where interrupted passes stopped.
    fn record(&mut self, plan: &Plan) {
        for u in &plan.units {
            match u.outcome.status.as_str() {
                // A share repair the version lacks is as finished as one that ran.
                "done" | "skipped" => {
                    self.done.insert(u.key.clone());
                    self.resume.remove(&u.key);
                }
                "failed" => {
                    if let (Some(last), Some(n)) =
                        (&u.outcome.last_community_uuid, u.outcome.processed)
                    {
                        self.resume.insert(
                            u.key.clone(),
                            Resume {
                                last_community_uuid: last.clone(),
                                processed: n,
                            },
                        );
                    }
                }
                _ => {}
            }
        }
    }
}

/// The calls to make, in order, from the validated options.
#[derive(Debug)]
struct Plan {
    mode: Option<Mode>,
    request: String,
    units: Vec<Unit>,
}

impl Plan {
    fn new(o: &Options) -> Result<Plan, Error> {
        let mut units = Vec::new();
        let mut mode = None;
        if let Some(values) = &o.communities {
            mode = Some(Mode::Communities);
            for (uuid, name, widgets) in parse_communities(values)? {
                if widgets.is_empty() {
                    units.push(Unit::community(&uuid, name.as_deref(), None));
                }
                for app in widgets {
                    units.push(Unit::community(&uuid, name.as_deref(), Some(app)));
                }
            }
        }
        if let Some(widgets) = &o.all_communities_for {
            mode = Some(Mode::AllCommunities);
            for app in apps::validate_ids("all_communities_for", widgets)? {
                units.push(Unit::all(app));
            }
        }
        if let Some(shares) = &o.share_repair {
            for app in apps::validate_ids("share_repair", shares)? {
                if app.share_service.is_none() {
                    return Err(Error::invalid(format!(
                        "share_repair: {} has no community shares to repair; one of: {}",
                        app.id,
                        SHARE_APPS.join(", ")
                    )));
                }
                units.push(Unit::share(app));
            }
        }
        let mut seen = BTreeSet::new();
        units.retain(|u| seen.insert(u.key.clone()));
        let request = request_digest(mode, &units);
        Ok(Plan {
            mode,
            request,
            units,
        })
    }

    /// Marks what an earlier run of the same request finished, and where its passes stopped.
    fn apply(&mut self, state: &State) {
        if state.request != self.request {
            return;
        }
        for u in &mut self.units {
            if state.done.contains(&u.key) {
                u.outcome.status = "skipped".into();
                u.outcome.message = "done by an earlier run of this request".into();
            } else if let Some(r) = state.resume.get(&u.key) {
                u.outcome.call = format!("{SERVICE}.restartResyncRemoteAppsForAllCommunities");
                u.outcome.resumed_after = Some(r.last_community_uuid.clone());
                u.outcome.message = format!(
                    "restart after community {} ({} processed by an earlier run)",
                    r.last_community_uuid, r.processed
                );
                u.resume = Some(r.clone());
            }
        }
    }

    fn todo(&self) -> impl Iterator<Item = usize> + '_ {
        self.units
            .iter()
            .enumerate()
            .filter(|(_, u)| u.outcome.status == "planned")
            .map(|(i, _)| i)
    }

    /// The DATA rows of the script for these units.
    fn rows(&self, todo: &[usize]) -> Vec<Vec<String>> {
        todo.iter()
            .map(|&i| {
                let u = &self.units[i];
                let app = u.app.map_or("", |a| a.id);
                let (kind, a, b, c) = match u.kind {
                    Kind::Community => (
                        "c",
                        u.outcome.community_uuid.clone().unwrap_or_default(),
                        app.to_string(),
                        u.key.clone(),
                    ),
                    Kind::All => (
                        "a",
                        app.to_string(),
                        u.resume
                            .as_ref()
                            .map(|r| r.last_community_uuid.clone())
                            .unwrap_or_default(),
                        u.key.clone(),
                    ),
                    Kind::Share => {
                        let a = u.app.expect("a share unit has its app");
                        (
                            "s",
                            a.admin_script.to_string(),
                            a.share_service.unwrap_or_default().to_string(),
                            u.key.clone(),
                        )
                    }
                };
                vec![kind.to_string(), i.to_string(), a, b, c]
            })
            .collect()
    }

    /// Reads the `outcome` records and, for passes and share repairs, what the call printed.
    fn read_outcomes(&mut self, out: &Output) {
        for r in out.tagged("outcome") {
            let Some(u) = r
                .field(0)
                .parse::<usize>()
                .ok()
                .and_then(|i| self.units.get_mut(i))
            else {
                continue;
            };
            u.outcome.status = r.field(1).to_string();
            u.outcome.message = r.field(2).to_string();
        }
        for (i, u) in self.units.iter_mut().enumerate() {
            if u.outcome.status == "planned" {
                u.outcome.status = "failed".into();
                u.outcome.message = "wsadmin ended before this call was made".into();
                continue;
            }
            let printed = out.section(&format!("{}:{i}", u.kind.tag()));
            match (u.kind, printed) {
                (Kind::All, Some(lines)) => u.read_pass(&lines),
                (Kind::Share, Some(lines)) if u.outcome.status == "done" => {
                    let text: Vec<&str> = lines
                        .iter()
                        .map(|l| l.trim())
                        .filter(|l| !l.is_empty())
                        .collect();
                    u.outcome.message = if text.is_empty() {
                        "shares synchronized".into()
                    } else {
                        text.join("; ")
                    };
                }
                (Kind::Community, _) if u.outcome.status == "done" => {
                    u.outcome.message = "resynced".into();
                }
                _ => {}
            }
        }
    }
}

impl Kind {
    /// The label prefix of the call's output section in the script.
    fn tag(self) -> &'static str {
        match self {
            Kind::Community => "c",
            Kind::All => "a",
            Kind::Share => "s",
        }
    }
}

impl Unit {
    fn new(kind: Kind, key: String, app: Option<&'static App>, call: String) -> Unit {
        Unit {
            kind,
            key,
            app,
            outcome: CallOutcome {
                call,
                community_uuid: None,
                community_name: None,
                application: app.map(|a| a.id.to_string()),
                status: "planned".into(),
                message: String::new(),
                resumed_after: None,
                processed: None,
                last_community_uuid: None,
            },
            resume: None,
        }
    }

    fn community(uuid: &str, name: Option<&str>, app: Option<&'static App>) -> Unit {
        let (key, call) = match app {
            None => (
                uuid.to_string(),
                format!("{SERVICE}.resyncRemoteAppsForCommunity"),
            ),
            Some(a) => (
                format!("{uuid}/{}", a.id),
                format!("{SERVICE}.resyncRemoteAppsForCommunityAndWidget"),
            ),
        };
        let mut u = Unit::new(Kind::Community, key, app, call);
        u.outcome.community_uuid = Some(uuid.to_string());
        u.outcome.community_name = name.map(str::to_string);
        u
    }

    fn all(app: &'static App) -> Unit {
        Unit::new(
            Kind::All,
            app.id.to_string(),
            Some(app),
            format!("{SERVICE}.resyncRemoteAppsForAllCommunities"),
        )
    }

    fn share(app: &'static App) -> Unit {
        Unit::new(
            Kind::Share,
            format!("share/{}", app.id),
            Some(app),
            format!(
                "{}.syncAllCommunityShares",
                app.share_service.unwrap_or_default()
            ),
        )
    }

    /// Takes in the progress lines an all-communities pass printed. A pass that returned
    /// without printing `Done.` has not finished: it restarts from its last community.
    fn read_pass(&mut self, lines: &[&str]) {
        let (last, finished) = read_progress(lines);
        let before = self.resume.as_ref().map_or(0, |r| r.processed);
        if let Some(p) = &last {
            self.outcome.processed = Some(before + p.processed);
            self.outcome.last_community_uuid = Some(p.last_community_uuid.clone());
        } else if let Some(r) = &self.resume {
            self.outcome.processed = Some(r.processed);
            self.outcome.last_community_uuid = Some(r.last_community_uuid.clone());
        }
        let processed = self.outcome.processed.unwrap_or(0);
        let at = self
            .outcome
            .last_community_uuid
            .as_deref()
            .map(|u| format!(", the last {u}"))
            .unwrap_or_default();
        match self.outcome.status.as_str() {
            "done" if finished => {
                self.outcome.message = format!("{processed} communities processed; Done.");
            }
            "done" => {
                self.outcome.status = "failed".into();
                self.outcome.message = format!(
                    "the call returned without printing Done. after {processed} communities{at}; run again to restart from there"
                );
            }
            _ if self.outcome.last_community_uuid.is_some() => {
                self.outcome.message = format!(
                    "{} (stopped after {processed} communities{at}; run again to restart from there)",
                    self.outcome.message
                );
            }
            _ => {}
        }
    }
}

/// One item of `communities`: uuid, name, widgets.
type Community = (String, Option<String>, Vec<&'static App>);

/// Reads `communities`: UUID strings, or dicts with `uuid`, optional `applications` (widget ids)
/// and optional `name` (other keys, such as those of lc_sync_report's `communities_to_contact`,
/// are ignored).
fn parse_communities(values: &[serde_json::Value]) -> Result<Vec<Community>, Error> {
    use serde_json::Value;
    values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let (uuid, name, widgets) = match v {
                Value::String(s) => (s.clone(), None, Vec::new()),
                Value::Object(m) => {
                    let uuid = match m.get("uuid") {
                        Some(Value::String(s)) => s.clone(),
                        _ => {
                            return Err(Error::invalid(format!(
                                "communities[{i}] has no uuid: give a community UUID or a dict with uuid and optional applications"
                            )))
                        }
                    };
                    let name = m.get("name").and_then(Value::as_str).map(str::to_string);
                    let widgets = match m.get("applications") {
                        None | Some(Value::Null) => Vec::new(),
                        Some(Value::Array(a)) => {
                            let ids = a
                                .iter()
                                .map(|x| x.as_str().map(str::to_string))
                                .collect::<Option<Vec<String>>>()
                                .ok_or_else(|| {
                                    Error::invalid(format!(
                                        "communities[{i}].applications must be a list of application ids"
                                    ))
                                })?;
                            apps::validate_ids(&format!("communities[{i}].applications"), &ids)?
                        }
                        Some(_) => {
                            return Err(Error::invalid(format!(
                                "communities[{i}].applications must be a list of application ids"
                            )))
                        }
                    };
                    (uuid, name, widgets)
                }
                other => {
                    return Err(Error::invalid(format!(
                        "communities[{i}] must be a community UUID or a dict with uuid and optional applications, got {other}"
                    )))
                }
            };
            if !lc_core::validate::is_uuid(&uuid) {
                return Err(Error::invalid(format!(
                    "communities[{i}] must be a community UUID, got {uuid:?}"
                )));
            }
            Ok((uuid, name, widgets))
        })
        .collect()
}

/// A digest of what was asked (mode and the calls' state keys, in any order): a state file
/// resumes only the same request.
fn request_digest(mode: Option<Mode>, units: &[Unit]) -> String {
    use sha2::{Digest, Sha256};
    let keys: BTreeSet<&str> = units.iter().map(|u| u.key.as_str()).collect();
    let mut h = Sha256::new();
    h.update(mode.map_or("", Mode::file_stem).as_bytes());
    for k in keys {
        h.update(b"\n");
        h.update(k.as_bytes());
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// One progress line of an all-communities pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    pub processed: u64,
    pub last_community_uuid: String,
}

/// Reads `Total Processed: N   Last processed communityUuid: <uuid>`, as
/// `resyncRemoteAppsForAllCommunities` prints every ten communities (admin-surface.md §7).
pub fn parse_progress(line: &str) -> Option<Progress> {
    static RE: OnceLock<regex::Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        regex::Regex::new(
            r"(?i)^\s*Total\s+Processed:\s*(\d+)\s+Last\s+processed\s+communityUuid:\s*(\S+)\s*$",
        )
        .expect("valid pattern")
    });
    let c = re.captures(line)?;
    let uuid = c[2].to_string();
    if !lc_core::validate::is_uuid(&uuid) {
        return None;
    }
    Some(Progress {
        processed: c[1].parse().ok()?,
        last_community_uuid: uuid,
    })
}

/// The last progress line of a pass's output, and whether it printed `Done.`.
pub fn read_progress(lines: &[&str]) -> (Option<Progress>, bool) {
    let last = lines.iter().rev().find_map(|l| parse_progress(l));
    let done = lines
        .iter()
        .any(|l| l.trim().trim_end_matches('.').eq_ignore_ascii_case("done"));
    (last, done)
}

/// The preconditions as the script read them.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Preconditions {
    pub task: String,
    /// The scheduler task's status: must be SCHEDULED.
    pub task_status: String,
    /// Queued events per application (from the summary table).
    pub queued: BTreeMap<String, u64>,
    /// Queued events in all: must be 0.
    pub queued_total: u64,
    pub met: bool,
    /// What `viewQueuedEventsSummary` returned (its last row), when the queue was not empty.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary_returned: Option<String>,
    #[serde(skip)]
    count: String,
}

impl Preconditions {
    fn read(out: &Output) -> Preconditions {
        let queued = replay::summary(out, "queue").unwrap_or_default();
        let mut p = Preconditions {
            task: RETRY_TASK.to_string(),
            queued_total: queued.values().sum(),
            queued,
            ..Preconditions::default()
        };
        if let Some(r) = out.tagged("refused").next() {
            p.task_status = r.field(0).to_string();
            p.count = r.field(1).to_string();
            p.summary_returned = Some(r.field(2).to_string()).filter(|s| s != "None");
        } else if let Some(r) = out.tagged("preconditions").next() {
            p.task_status = r.field(0).to_string();
            p.met = true;
        }
        p
    }

    /// The one-line refusal, when the script did not go on.
    fn refusal(&self) -> Option<String> {
        if self.met {
            return None;
        }
        let mut why = Vec::new();
        let mut todo = Vec::new();
        if self.task_status != "SCHEDULED" {
            why.push(format!(
                "{} is {}, not SCHEDULED",
                self.task, self.task_status
            ));
            todo.push(format!(
                "resume {} (connections.dr.lc_scheduler, state resumed)",
                self.task
            ));
        }
        let queue_empty = self.count.parse::<u64>() == Ok(0);
        if !queue_empty {
            let per_app: Vec<String> = self
                .queued
                .iter()
                .filter(|(_, n)| **n > 0)
                .map(|(a, n)| format!("{a} {n}"))
                .collect();
            why.push(if per_app.is_empty() {
                format!(
                    "the replay queue is not empty (viewQueuedEventsSummary returned {})",
                    self.summary_returned.as_deref().unwrap_or("?")
                )
            } else {
                format!(
                    "the replay queue is not empty ({} queued events: {})",
                    self.queued_total,
                    per_app.join(", ")
                )
            });
            todo.push(
                "let the replay drain the queue or clear it (connections.dr.lc_queue)".into(),
            );
        }
        Some(format!(
            "refusing to resync: {}; {}, then run again",
            why.join(" and "),
            todo.join(", ")
        ))
    }
}

/// The state and journal files of one mode in `state_dir`.
#[derive(Debug)]
struct Store {
    state: PathBuf,
    journal: PathBuf,
}

impl Store {
    fn new(dir: &Path, mode: Mode) -> Result<Store, Error> {
        // Absolute, no `..`, no quotes, `$`, backquote, backslash or control characters.
        lc_core::validate::check_remote_path("state_dir", &dir.to_string_lossy())?;
        Ok(Store {
            state: dir.join(format!("{}.json", mode.file_stem())),
            journal: dir.join(format!("{}.journal", mode.file_stem())),
        })
    }

    /// The state file with any journal left by a run that was stopped folded in.
    fn load(&self, request: &str) -> Result<State, Error> {
        let mut state = match std::fs::read_to_string(&self.state) {
            Ok(text) => serde_json::from_str::<State>(&text).map_err(|e| {
                Error::invalid(format!(
                    "the resync state file {} cannot be read ({e}): remove it to start afresh",
                    self.state.display()
                ))
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => State {
                request: request.to_string(),
                ..State::default()
            },
            Err(e) => return Err(Error::io(&self.state, e)),
        };
        state.done.extend(self.journal_done()?);
        if state.request != request {
            // Another request: its state is replaced once this run writes its own.
            state = State {
                request: request.to_string(),
                ..State::default()
            };
        }
        Ok(state)
    }

    /// The keys the journal records as done, and those it records at all.
    fn journal_lines(&self) -> Result<Vec<(String, String)>, Error> {
        let text = match std::fs::read_to_string(&self.journal) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Error::io(&self.journal, e)),
        };
        // A line cut short by a stopped process has no newline yet: it does not count.
        let complete = match text.rfind('\n') {
            Some(i) => &text[..=i],
            None => "",
        };
        Ok(complete
            .lines()
            .filter_map(|l| l.split_once('\t'))
            .map(|(s, k)| (s.to_string(), k.to_string()))
            .collect())
    }

    fn journal_done(&self) -> Result<Vec<String>, Error> {
        Ok(self
            .journal_lines()?
            .into_iter()
            .filter(|(s, _)| s == "done")
            .map(|(_, k)| k)
            .collect())
    }

    fn save(&self, state: &State) -> Result<(), Error> {
        if let Some(dir) = self.state.parent() {
            use std::os::unix::fs::DirBuilderExt;
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(|e| Error::io(dir, e))?;
        }
        let text = serde_json::to_string_pretty(state).unwrap_or_default();
        lc_core::fs::write_atomic(&self.state, text.as_bytes(), 0o600)
    }

    /// An empty journal for this run; its path for the script.
    fn start_journal(&self) -> Result<String, Error> {
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&self.journal)
            .map_err(|e| Error::io(&self.journal, e))?;
        Ok(self.journal.to_string_lossy().into_owned())
    }

    /// Writes the state after a run (removed once every call of the request has finished, or
    /// when nothing is worth keeping) and drops the journal, now folded in.
    fn settle(&self, state: &State, plan: &Plan) -> Result<(), Error> {
        let empty = state.done.is_empty() && state.resume.is_empty();
        if empty || plan.finished(state) {
            remove(&self.state)?;
        } else {
            self.save(state)?;
        }
        remove(&self.journal)
    }

    fn kept(&self) -> Option<String> {
        self.state
            .exists()
            .then(|| self.state.to_string_lossy().into_owned())
    }
}

impl Plan {
    /// Whether every call of the request has finished, in this run or an earlier one.
    fn finished(&self, state: &State) -> bool {
        self.units.iter().all(|u| state.done.contains(&u.key))
    }
}

fn remove(path: &Path) -> Result<(), Error> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io(path, e)),
    }
}

fn state_dir(given: Option<&Path>) -> Result<PathBuf, Error> {
    if let Some(d) = given {
        return Ok(d.to_path_buf());
    }
    match std::env::var_os("HOME").filter(|h| !h.is_empty()) {
        Some(home) => Ok(PathBuf::from(home).join(DEFAULT_STATE_DIR)),
        None => Err(Error::invalid(
            "state_dir is not given and HOME is not set: give state_dir",
        )),
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
            u.outcome.status = status;
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
            u.outcome.status = "failed".into();
            u.read_pass(&lines);
        }
    }
    state.record(plan);
    let finished = plan
        .units
        .iter()
        .filter(|u| u.outcome.status == "done")
        .count();
    if store.settle(state, plan).is_err() || store.kept().is_none() {
        return e;
    }
    e.context(format!(
        "the resync stopped part way ({finished} calls finished; {} keeps where it stopped: run again to go on)",
        store.state.display()
    ))
}

/// The lines the all-communities pass `a:<index>` printed, from the tail of an output that was
/// cut off while it ran: after its `begin` record, or the whole tail when that record scrolled
/// out of it and nothing else was printed since. `None` when the tail shows another call.
fn pass_in_tail(tail: &str, index: usize) -> Option<Vec<&str>> {
    let lines: Vec<&str> = tail.lines().collect();
    let label = format!("a:{index}");
    // The last record that is not a `call` record (the script prints one before each call).
    let last = lines.iter().enumerate().rev().find_map(|(n, l)| {
        wsadmin::parse_records(l)
            .into_iter()
            .next()
            .filter(|r| r.tag != "call")
            .map(|r| (n, r))
    });
    let from = match last {
        None => 0,
        Some((n, r)) if r.tag == "begin" && r.field(0) == label => n + 1,
        Some(_) => return None,
    };
    Some(
        lines[from..]
            .iter()
            .copied()
            .filter(|l| !l.starts_with(wsadmin::MARKER))
            .collect(),
    )
}

fn finish(
    plan: &Plan,
    preconditions: Option<&Preconditions>,
    store: Option<&Store>,
    check_mode: bool,
) -> Outcome {
    let outcomes: Vec<&CallOutcome> = plan.units.iter().map(|u| &u.outcome).collect();
    let count = |s: &str| outcomes.iter().filter(|o| o.status == s).count();
    let (done, failed, skipped, planned) = (
        count("done"),
        count("failed"),
        count("skipped"),
        count("planned"),
    );
    let mut counts = BTreeMap::new();
    for (k, v) in [
        ("done", done),
        ("failed", failed),
        ("skipped", skipped),
        ("planned", planned),
        ("total", outcomes.len()),
    ] {
        counts.insert(k, v);
    }
    // A community counts as resynced when every call for it finished (here or earlier).
    let mut by_community: BTreeMap<&str, bool> = BTreeMap::new();
    for o in &outcomes {
        if let Some(u) = &o.community_uuid {
            let ok = o.status == "done" || o.status == "skipped";
            *by_community.entry(u).or_insert(true) &= ok;
        }
    }
    let resynced = by_community.values().filter(|ok| **ok).count();
    let what = describe(plan);
    let msg = if check_mode {
        let earlier = if skipped > 0 {
            format!(", {skipped} done by an earlier run")
        } else {
            String::new()
        };
        format!(
            "would make {planned} calls ({what}{earlier}); the preconditions are checked when it runs"
        )
    } else if failed > 0 {
        let first = outcomes
            .iter()
            .find(|o| o.status == "failed")
            .expect("one failed");
        let target = first
            .community_uuid
            .clone()
            .or(first.application.clone())
            .unwrap_or_default();
        format!(
            "{failed} of {} calls failed ({done} done, {skipped} skipped); first: {} {target}: {}",
            outcomes.len(),
            first.call,
            first.message
        )
    } else if outcomes.is_empty() {
        "nothing to resync".to_string()
    } else if done == 0 {
        format!("nothing left to do ({what}): {skipped} calls skipped (see outcomes)")
    } else if skipped > 0 {
        format!("{done} calls done ({what}); {skipped} skipped (see outcomes)")
    } else {
        format!("{done} calls done ({what})")
    };
    let mut result = Outcome::new(if check_mode { planned > 0 } else { done > 0 })
        .msg(msg)
        .with("outcomes", &outcomes)
        .with("counts", &counts)
        .with("resynced_communities", resynced)
        .with("state_file", store.and_then(Store::kept));
    if let Some(p) = preconditions {
        result = result.with("preconditions", p);
    }
    result.failed = failed > 0 && !check_mode;
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
