//! The cell's configuration (`cell.json`) and state (`state/world.json`, `state/meta.json`), and
//! the one way to change them: under an exclusive file lock, written back atomically, so that
//! several wsadmin processes at once never corrupt them.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use serde::{Deserialize, Serialize};

use crate::dialect::Dialect;
use crate::ihs::IhsInstance;
use crate::util;

/// The product level the cell imitates.
pub const VERSIONS: &[&str] = &["lc25", "ic5", "hcl8"];

/// The scheduler task that replays the queue, and the other documented one.
pub const RETRY_TASK: &str = "LifecycleRetryQueuedEvents";
pub const CLEANUP_TASK: &str = "EventLogCleanup";

/// `cell.json`: what a client needs to know about the cell (read by tests, the demo, inventories).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Config {
    pub cell_name: String,
    pub version: String,
    pub admin_user: String,
    pub admin_password: String,
    pub wsadmin_path: PathBuf,
    /// The profile's `bin` folder, where wsadmin must be started.
    pub profile_bin: PathBuf,
    pub dmgr: Dmgr,
    /// The remote applications deployed, by `remoteAppDefId`.
    pub apps: Vec<String>,
    /// Which servers run each feature (by admin script), first = the one batch mode takes.
    pub servers: BTreeMap<String, Vec<Server>>,
    pub ihs: Vec<IhsInstance>,
    pub seed: u64,
    /// The `lc-sim` binary that `wsadmin.sh` and the admin scripts call.
    pub lc_sim: PathBuf,
    /// The dialect every file and printout of the cell is in (crate::dialect).
    #[serde(default)]
    pub dialect: Dialect,
    /// The folder that holds the applications' admin scripts (communitiesAdmin.py may be
    /// elsewhere: see `Dialect::script_path`).
    #[serde(default)]
    pub admin_scripts_dir: PathBuf,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Dmgr {
    pub host: String,
    pub port: u16,
    pub node: String,
    pub server: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Server {
    pub node: String,
    pub server: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    pub name: String,
    pub ext_id: String,
}

/// A community as the Communities database holds it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Community {
    pub uuid: String,
    pub name: String,
    /// `public`, `publicInviteOnly` or `private`.
    pub visibility: String,
    pub moderation: String,
    pub theme: String,
    pub created_by: Person,
    pub owners: Vec<Person>,
    pub member_size: u32,
    pub created: i64,
    /// The widget definition ids on the community's page (= remote app ids).
    pub widgets: Vec<String>,
    /// In Trash: Communities then reports it as `private` (admin-surface.md §8).
    #[serde(default)]
    pub in_trash: bool,
}

/// The copy of a community's state an application keeps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Copy {
    pub name: String,
    pub visibility: String,
    pub moderation: String,
    pub theme: String,
}

impl Copy {
    pub fn of(c: &Community) -> Copy {
        Copy {
            name: c.name.clone(),
            visibility: c.visibility.clone(),
            moderation: c.moderation.clone(),
            theme: c.theme.clone(),
        }
    }

    /// The value of one of `lc_core::formats::FIELDS`.
    pub fn field(&self, f: &str) -> &str {
        match f {
            "name" => &self.name,
            "visibility" => &self.visibility,
            "moderation" => &self.moderation,
            _ => &self.theme,
        }
    }

    pub fn set_field(&mut self, f: &str, v: String) {
        match f {
            "name" => self.name = v,
            "visibility" => self.visibility = v,
            "moderation" => self.moderation = v,
            _ => self.theme = v,
        }
    }
}

/// One resource of a remote application that belongs to a community.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Resource {
    pub app: String,
    /// The "Object Identifying Id".
    pub id: String,
    pub community_uuid: String,
    /// The resource's own title (an activity's, a forum's, …).
    pub title: String,
    pub copy: Copy,
    pub created: i64,
}

/// One row of the replay queue (`LC_EVENT_REPLAY`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Event {
    pub id: u64,
    pub app: String,
    pub resource_type: String,
    pub resource_id: String,
    pub event_type: String,
    pub created: i64,
    /// Queued before a restore and now wrong to replay (ground truth, not visible to clients).
    #[serde(default)]
    pub stale: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Task {
    pub name: String,
    /// `SCHEDULED`, `RUNNING` or `SUSPENDED`.
    pub status: String,
    pub interval_secs: i64,
    pub last_run: i64,
}

impl Task {
    pub fn next_fire(&self) -> i64 {
        self.last_run + self.interval_secs * 1000
    }
}

/// What one `lc-sim damage` did, kept so the ground truth can be checked against it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct DamageRecord {
    pub restore: Vec<String>,
    pub backup_age_days: u32,
    /// (application, community uuid, field) it made differ.
    pub differences: Vec<(String, String, String)>,
    /// (application, object id, community uuid, community exists) it made orphaned.
    pub orphans: Vec<(String, String, String, bool)>,
    pub stale_events: u64,
    pub healthy_events: u64,
}

/// The data of the cell: Communities, the applications, the queue, the scheduler.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct World {
    /// The cell's "now" for generated data (fixed, so the same seed gives the same data).
    pub epoch: i64,
    pub seed: u64,
    pub communities: BTreeMap<String, Community>,
    pub resources: Vec<Resource>,
    /// Resources moved to an application's Trash by a delete call.
    pub trash: Vec<Resource>,
    pub queue: Vec<Event>,
    pub next_event_id: u64,
    pub tasks: Vec<Task>,
    pub damage: Vec<DamageRecord>,
}

impl World {
    pub fn task_mut(&mut self, name: &str) -> Option<&mut Task> {
        self.tasks.iter_mut().find(|t| t.name == name)
    }

    /// A new event id.
    pub fn event_id(&mut self) -> u64 {
        self.next_event_id += 1;
        self.next_event_id
    }
}

/// A fault set with `lc-sim fault`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CallFault {
    /// `Object.method` or `method`; none = every call.
    pub method: Option<String>,
    /// Only the nth matching call (from 1) since the fault was set; none = every matching call.
    pub nth: Option<u64>,
    #[serde(default)]
    pub seen: u64,
}

impl CallFault {
    /// Whether this call is hit (and counts it).
    pub fn hits(&mut self, object: &str, method: &str) -> bool {
        let matches = match &self.method {
            None => true,
            Some(m) => m == method || *m == format!("{object}.{method}"),
        };
        if !matches {
            return false;
        }
        self.seen += 1;
        self.nth.is_none_or(|n| n == self.seen)
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Faults {
    pub startup_delay_secs: f64,
    /// The Deployment Manager is down: wsadmin cannot connect.
    pub refuse: bool,
    /// The Deployment Manager goes down part way through a run: launches from this one on
    /// (the cell's launch count) cannot connect.
    #[serde(default)]
    pub refuse_from_launch: Option<u64>,
    /// Every login is refused, even with the right password.
    pub bad_password: bool,
    pub hang: Option<CallFault>,
    pub fail: Option<CallFault>,
}

/// Counters and faults: small, rewritten on every launch and call.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Meta {
    pub launches: u64,
    pub calls: BTreeMap<String, u64>,
    /// Per community uuid: resyncRemoteAppsForCommunity… calls.
    pub resync_calls: BTreeMap<String, u64>,
    /// Events the scheduler replayed: stale ones should stay 0 when the runbook is followed.
    pub replayed_healthy: u64,
    pub replayed_stale: u64,
    pub faults: Faults,
    /// Applications whose server runs on another node than the Deployment Manager, with the
    /// folder that stands for that node's disk: an export of the application to the path P is
    /// written at `<disk>P` (`lc-sim node-disk`).
    #[serde(default)]
    pub node_disks: BTreeMap<String, String>,
}

/// An open cell: its folder and configuration.
#[derive(Debug, Clone)]
pub struct Cell {
    pub dir: PathBuf,
    pub config: Config,
}

/// The state loaded under the lock; `world_changed` says whether to write the world back.
pub struct Tx {
    pub world: World,
    pub meta: Meta,
    pub world_changed: bool,
}

impl Cell {
    pub fn open(dir: &Path) -> Result<Cell> {
        let dir = std::path::absolute(dir).with_context(|| format!("bad cell folder {dir:?}"))?;
        let path = dir.join("cell.json");
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("{} is not a cell (no readable cell.json)", dir.display()))?;
        let config = serde_json::from_str(&text)
            .with_context(|| format!("cannot parse {}", path.display()))?;
        Ok(Cell { dir, config })
    }

    pub fn state_dir(&self) -> PathBuf {
        self.dir.join("state")
    }

    fn lock(&self) -> Result<File> {
        let path = self.state_dir().join("lock");
        let f = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .with_context(|| format!("cannot open {}", path.display()))?;
        f.lock()
            .with_context(|| format!("cannot lock {}", path.display()))?;
        Ok(f)
    }

    fn read<T: serde::de::DeserializeOwned>(&self, name: &str) -> Result<T> {
        let path = self.state_dir().join(name);
        let bytes =
            std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
        serde_json::from_slice(&bytes).with_context(|| format!("cannot parse {}", path.display()))
    }

    fn write<T: Serialize>(&self, name: &str, value: &T) -> Result<()> {
        let path = self.state_dir().join(name);
        let bytes = serde_json::to_vec(value)?;
        util::write_atomic(&path, &bytes)
            .with_context(|| format!("cannot write {}", path.display()))
    }

    /// Runs `f` on the counters and faults alone, under the lock.
    pub fn with_meta<T>(&self, f: impl FnOnce(&mut Meta) -> T) -> Result<T> {
        let _lock = self.lock()?;
        let mut meta: Meta = self.read("meta.json")?;
        let out = f(&mut meta);
        self.write("meta.json", &meta)?;
        Ok(out)
    }

    /// Runs `f` on the whole state, under the lock; writes back what it changed.
    pub fn with_state<T>(&self, f: impl FnOnce(&mut Tx) -> T) -> Result<T> {
        let _lock = self.lock()?;
        let mut tx = Tx {
            world: self.read("world.json")?,
            meta: self.read("meta.json")?,
            world_changed: false,
        };
        let out = f(&mut tx);
        if tx.world_changed {
            self.write("world.json", &tx.world)?;
        }
        self.write("meta.json", &tx.meta)?;
        Ok(out)
    }

    /// Reads the state without changing it.
    pub fn snapshot(&self) -> Result<(World, Meta)> {
        let _lock = self.lock()?;
        Ok((self.read("world.json")?, self.read("meta.json")?))
    }

    /// Writes a fresh state (at init).
    pub fn create_state(&self, world: &World, meta: &Meta) -> Result<()> {
        std::fs::create_dir_all(self.state_dir())?;
        let _lock = self.lock()?;
        self.write("world.json", world)?;
        self.write("meta.json", meta)
    }

    /// Whether an application is deployed in this cell.
    pub fn has_app(&self, id: &str) -> bool {
        self.config.apps.iter().any(|a| a == id)
    }
}
