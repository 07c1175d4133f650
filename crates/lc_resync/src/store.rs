//! The state file and journal of a request in `state_dir`: what an earlier run that stopped part
//! way already did, and where its all-communities passes stopped.

use crate::plan::Plan;
use crate::DEFAULT_STATE_DIR;
use lc_core::wsadmin::module::Status;
use lc_core::Error;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The mode of a request that keeps a state file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Communities,
    AllCommunities,
}

impl Mode {
    pub(crate) fn file_stem(self) -> &'static str {
        match self {
            Mode::Communities => "communities",
            Mode::AllCommunities => "all_communities",
        }
    }
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
    pub(crate) fn record(&mut self, plan: &Plan) {
        for u in &plan.units {
            match u.outcome.status {
                // A share repair the version lacks is as finished as one that ran.
                Status::Done | Status::Skipped => {
                    self.done.insert(u.key.clone());
                    self.resume.remove(&u.key);
                }
                Status::Failed => {
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

/// The state and journal files of one mode in `state_dir`.
#[derive(Debug)]
pub(crate) struct Store {
    pub(crate) state: PathBuf,
    pub(crate) journal: PathBuf,
}

impl Store {
    pub(crate) fn new(dir: &Path, mode: Mode) -> Result<Store, Error> {
        // Absolute, no `..`, no quotes, `$`, backquote, backslash or control characters.
        lc_core::validate::check_remote_path("state_dir", &dir.to_string_lossy())?;
        Ok(Store {
            state: dir.join(format!("{}.json", mode.file_stem())),
            journal: dir.join(format!("{}.journal", mode.file_stem())),
        })
    }

    /// The state file with any journal left by a run that was stopped folded in.
    pub(crate) fn load(&self, request: &str) -> Result<State, Error> {
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
    pub(crate) fn journal_lines(&self) -> Result<Vec<(String, String)>, Error> {
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

    pub(crate) fn journal_done(&self) -> Result<Vec<String>, Error> {
        Ok(self
            .journal_lines()?
            .into_iter()
            .filter(|(s, _)| Status::parse(s) == Some(Status::Done))
            .map(|(_, k)| k)
            .collect())
    }

    pub(crate) fn save(&self, state: &State) -> Result<(), Error> {
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
    pub(crate) fn start_journal(&self) -> Result<String, Error> {
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
    pub(crate) fn settle(&self, state: &State, plan: &Plan) -> Result<(), Error> {
        let empty = state.done.is_empty() && state.resume.is_empty();
        if empty || plan.finished(state) {
            remove(&self.state)?;
        } else {
            self.save(state)?;
        }
        remove(&self.journal)
    }

    pub(crate) fn kept(&self) -> Option<String> {
        self.state
            .exists()
            .then(|| self.state.to_string_lossy().into_owned())
    }
}

pub(crate) fn remove(path: &Path) -> Result<(), Error> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io(path, e)),
    }
}

pub(crate) fn state_dir(given: Option<&Path>) -> Result<PathBuf, Error> {
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
