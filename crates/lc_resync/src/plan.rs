//! The plan: every call to make, in order, from the validated options, and how the outcome
//! records and what each call printed become its outcome.

use crate::progress::read_progress;
use crate::store::{Mode, Resume, State};
use crate::{Options, SHARE_APPS};
use lc_core::apps::{self, App};
use lc_core::wsadmin::module::{self as layer, Item, Status};
use lc_core::wsadmin::Output;
use lc_core::Error;
use serde::Serialize;
use std::collections::BTreeSet;

pub(crate) const SERVICE: &str = "CommunitiesRemoteAppService";

/// What kind of call a unit of the plan is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Community,
    All,
    Share,
}

/// One call of the plan and, once known, what became of it.
#[derive(Debug, Clone)]
pub(crate) struct Unit {
    pub(crate) kind: Kind,
    /// How the state file names it: `<uuid>`, `<uuid>/<widget>` or `<widget>`.
    pub(crate) key: String,
    pub(crate) app: Option<&'static App>,
    pub(crate) outcome: CallOutcome,
    /// All communities: the pass restarts after this community, `processed` already counted.
    pub(crate) resume: Option<Resume>,
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
    pub status: Status,
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

/// The calls to make, in order, from the validated options.
#[derive(Debug)]
pub(crate) struct Plan {
    pub(crate) mode: Option<Mode>,
    pub(crate) request: String,
    pub(crate) units: Vec<Unit>,
}

impl Plan {
    pub(crate) fn new(o: &Options) -> Result<Plan, Error> {
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
    pub(crate) fn apply(&mut self, state: &State) {
        if state.request != self.request {
            return;
        }
        for u in &mut self.units {
            if state.done.contains(&u.key) {
                u.outcome.status = Status::Skipped;
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

    pub(crate) fn todo(&self) -> impl Iterator<Item = usize> + '_ {
        layer::todo(&self.units).into_iter()
    }

    /// The DATA rows of the script for these units.
    pub(crate) fn rows(&self, todo: &[usize]) -> Vec<Vec<String>> {
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
    pub(crate) fn read_outcomes(&mut self, out: &Output) {
        let todo: Vec<usize> = self.todo().collect();
        layer::read_outcomes(out, &mut self.units, |u, status, message| {
            u.set(status, message.to_string())
        });
        let unreached = layer::ended_before(&mut self.units, &todo, "call was made");
        for (i, u) in self.units.iter_mut().enumerate() {
            if unreached.contains(&i) {
                continue;
            }
            let printed = out.section(&format!("{}:{i}", u.kind.tag()));
            match (u.kind, printed) {
                (Kind::All, Some(lines)) => u.read_pass(&lines),
                (Kind::Share, Some(lines)) if u.outcome.status == Status::Done => {
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
                (Kind::Community, _) if u.outcome.status == Status::Done => {
                    u.outcome.message = "resynced".into();
                }
                _ => {}
            }
        }
    }
}

impl Item for Unit {
    fn status(&self) -> Status {
        self.outcome.status
    }
    fn set(&mut self, status: Status, message: String) {
        self.outcome.status = status;
        self.outcome.message = message;
    }
    /// The call and what it was for: its community, else its application.
    fn name(&self) -> String {
        let o = &self.outcome;
        let target = o.community_uuid.as_ref().or(o.application.as_ref());
        format!("{} {}", o.call, target.map_or("", |t| t.as_str()))
    }
    fn message(&self) -> &str {
        &self.outcome.message
    }
}

impl Kind {
    /// The label prefix of the call's output section in the script.
    pub(crate) fn tag(self) -> &'static str {
        match self {
            Kind::Community => "c",
            Kind::All => "a",
            Kind::Share => "s",
        }
    }
}

impl Unit {
    pub(crate) fn new(kind: Kind, key: String, app: Option<&'static App>, call: String) -> Unit {
        Unit {
            kind,
            key,
            app,
            outcome: CallOutcome {
                call,
                community_uuid: None,
                community_name: None,
                application: app.map(|a| a.id.to_string()),
                status: Status::Planned,
                message: String::new(),
                resumed_after: None,
                processed: None,
                last_community_uuid: None,
            },
            resume: None,
        }
    }

    pub(crate) fn community(uuid: &str, name: Option<&str>, app: Option<&'static App>) -> Unit {
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

    pub(crate) fn all(app: &'static App) -> Unit {
        Unit::new(
            Kind::All,
            app.id.to_string(),
            Some(app),
            format!("{SERVICE}.resyncRemoteAppsForAllCommunities"),
        )
    }

    pub(crate) fn share(app: &'static App) -> Unit {
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
    pub(crate) fn read_pass(&mut self, lines: &[&str]) {
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
        match self.outcome.status {
            Status::Done if finished => {
                self.outcome.message = format!("{processed} communities processed; Done.");
            }
            Status::Done => {
                self.outcome.status = Status::Failed;
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
pub(crate) type Community = (String, Option<String>, Vec<&'static App>);

/// Reads `communities`: UUID strings, or dicts with `uuid`, optional `applications` (widget ids)
/// and optional `name` (other keys, such as those of lc_sync_report's `communities_to_contact`,
/// are ignored).
pub(crate) fn parse_communities(values: &[serde_json::Value]) -> Result<Vec<Community>, Error> {
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
            lc_core::validate::check_uuid(&format!("communities[{i}]"), &uuid)?;
            Ok((uuid, name, widgets))
        })
        .collect()
}

/// A digest of what was asked (mode and the calls' state keys, in any order): a state file
/// resumes only the same request.
pub(crate) fn request_digest(mode: Option<Mode>, units: &[Unit]) -> String {
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

impl Plan {
    /// Whether every call of the request has finished, in this run or an earlier one.
    pub(crate) fn finished(&self, state: &State) -> bool {
        self.units.iter().all(|u| state.done.contains(&u.key))
    }
}
