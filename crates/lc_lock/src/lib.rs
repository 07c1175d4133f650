//! The lc_lock module: options, the holder's record, and taking, taking over and releasing the
//! lock.
//!
//! The lock is a symbolic link whose target is the holder's record as JSON (run id, lock, pid,
//! controller, user, start time, playbook): symlink(2) makes it with its content in one atomic
//! step, so it either exists, whole, or not at all, and `ls -l` shows who holds it. A lock whose
//! record names this run's controller and a pid that no longer runs an ansible-playbook there
//! (`running_pids`, listed on the controller) was left by a run that was killed or stopped
//! outside a step: it is taken over with a compare-and-replace on the link. Any other lock
//! stops the task with one line naming its holder and how to clear it. `state: absent` removes
//! the lock only when this run holds it. Check mode reads the lock and says what would happen.

use lc_core::{Context, Elem, Error, Module, Outcome};
use serde::Deserialize as _;
use serde_json::{Map, Value};
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

#[cfg(test)]
mod tests;

pub struct Lock;

lc_core::options! {
    #[derive(Debug)]
    pub struct Options {
        pub path: String => path().required(),
        pub state: String => str().default("present").choices(&["present", "absent"]),
        pub holder: Map<String, Value> => dict().required(),
        pub running_pids: Option<Vec<u64>> => list(Elem::Int),
        pub host_name: Option<String> => str(),
    }
}

/// Who holds the lock: what its link points to, in this order.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Record {
    pub id: String,
    /// The lock's path (set from `path`).
    #[serde(default)]
    pub lock: String,
    /// The ansible-playbook process of the run, on its controller.
    #[serde(deserialize_with = "pid")]
    pub pid: u64,
    pub controller: String,
    #[serde(default)]
    pub user: String,
    #[serde(default)]
    pub started: String,
    #[serde(default = "recover_yml")]
    pub playbook: String,
}

impl Record {
    /// The `holder` option as a record; a value that is not one fails as the options do.
    fn from_option(holder: &Map<String, Value>) -> Result<Record, Error> {
        serde_json::from_value(Value::Object(holder.clone()))
            .map_err(|e| Error::invalid(format!("invalid options for lc_lock: {e}")))
    }
}

fn recover_yml() -> String {
    "recover.yml".into()
}

/// A pid given as a number or as the digits of one (a templated value may arrive as either).
fn pid<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    match Value::deserialize(d)? {
        Value::Number(n) => n.as_u64().ok_or_else(|| {
            serde::de::Error::custom(format!("holder.pid must be a process id, got {n}"))
        }),
        Value::String(s) => s.trim().parse().map_err(|_| {
            serde::de::Error::custom(format!("holder.pid must be a process id, got {s:?}"))
        }),
        other => Err(serde::de::Error::custom(format!(
            "holder.pid must be a process id, got {other}"
        ))),
    }
}

impl Module for Lock {
    const NAME: &'static str = "lc_lock";
    type Options = Options;

    fn run(o: Options, ctx: &Context) -> Result<Outcome, Error> {
        let path = PathBuf::from(&o.path);
        if !path.is_absolute() || path.file_name().is_none() {
            return Err(Error::invalid(format!(
                "path must be the absolute path of the lock file; got {:?}",
                o.path
            )));
        }
        let mut ours = Record::from_option(&o.holder)?;
        ours.lock = o.path.clone();
        if o.state == "absent" {
            return release(&path, &ours, ctx.check_mode);
        }
        let host = o.host_name.clone().unwrap_or_else(host_name);
        take(
            &path,
            &ours,
            o.running_pids.as_deref(),
            &host,
            ctx.check_mode,
        )
    }
}

/// The kernel's name for this host, for the messages when `host_name` is not given.
fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "this host".into())
}

/// What the lock's link says: its raw target, and the record when it is one.
#[derive(Debug, Clone)]
pub struct Found {
    pub raw: Option<String>,
    pub record: Option<Map<String, Value>>,
}

impl Found {
    fn read(path: &Path) -> Result<Option<Found>, Error> {
        match std::fs::read_link(path) {
            Ok(target) => {
                let raw = target.to_string_lossy().into_owned();
                let record = raw
                    .starts_with('{')
                    .then(|| serde_json::from_str::<Map<String, Value>>(&raw).ok())
                    .flatten();
                Ok(Some(Found {
                    raw: Some(raw),
                    record,
                }))
            }
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            // Something that is not a link (a file put there by hand): held, by no one readable.
            Err(e) if e.raw_os_error() == Some(22) => Ok(Some(Found {
                raw: None,
                record: None,
            })),
            Err(e) => Err(Error::io(path, e).context("reading the run lock")),
        }
    }

    /// A field of the record as text (`""` when missing).
    fn field(&self, key: &str) -> String {
        match self.record.as_ref().and_then(|r| r.get(key)) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Null) | None => String::new(),
            Some(v) => v.to_string(),
        }
    }

    fn is_run(&self, ours: &Record) -> bool {
        self.record.is_some()
            && self.field("id") == ours.id
            && self.field("controller") == ours.controller
    }

    /// Left by a run of this controller whose ansible-playbook no longer runs.
    fn is_stale(&self, ours: &Record, running: Option<&[u64]>) -> bool {
        let Some(running) = running else {
            return false;
        };
        if self.record.is_none() || self.field("controller") != ours.controller {
            return false;
        }
        let pid = self.field("pid").trim().parse::<u64>().unwrap_or(0);
        !running.contains(&pid)
    }

    fn value(&self) -> Value {
        self.record.clone().map_or(Value::Null, Value::Object)
    }

    /// The refusal: who holds the lock and how to clear it.
    pub fn refusal(&self, path: &Path, host: &str) -> String {
        let playbook = match self.record.as_ref().and_then(|r| r.get("playbook")) {
            None => "recover.yml".to_string(),
            Some(_) => self.field("playbook"),
        };
        let held_by = if self.record.as_ref().is_some_and(|r| r.contains_key("id")) {
            format!(
                "(run {}, started {} by {} on {}, pid {})",
                self.field("id"),
                self.field("started"),
                self.field("user"),
                self.field("controller"),
                self.field("pid")
            )
        } else {
            "(its holder cannot be read)".to_string()
        };
        let p = path.display();
        format!(
            "Another {playbook} run holds the lock {p} on {host} {held_by}. Wait for that run to \
             finish. If no run is going on (it was killed, or its controller went down), remove \
             the lock on {host} (rm {p}) and run again."
        )
    }

    fn taken_over(&self) -> String {
        format!(
            "Took over the lock of run {} (pid {} on {}, started {}): that process no longer runs.",
            self.field("id"),
            self.field("pid"),
            self.field("controller"),
            self.field("started")
        )
    }
}

fn text(record: &Record) -> String {
    serde_json::to_string(record).unwrap_or_default()
}

fn take(
    path: &Path,
    ours: &Record,
    running: Option<&[u64]>,
    host: &str,
    check: bool,
) -> Result<Outcome, Error> {
    let taken = |msg: String| {
        Outcome::new(true)
            .msg(msg)
            .with("path", path)
            .with("holder", ours)
    };
    if check {
        return Ok(match Found::read(path)? {
            None => taken(format!("would take the lock {}", path.display())),
            Some(f) if f.is_run(ours) => held_already(path, ours),
            Some(f) if f.is_stale(ours, running) => {
                taken(format!("would take over: {}", f.taken_over())).with("taken_over", f.value())
            }
            Some(f) => busy(path, host, &f),
        });
    }
    make_folder(path.parent().unwrap_or(Path::new("/")))?;
    let mine = text(ours);
    // A lock that changes hands while this looks at it is read again; three turns are plenty.
    for _ in 0..3 {
        match std::os::unix::fs::symlink(&mine, path) {
            Ok(()) => return Ok(taken(format!("took the lock {}", path.display()))),
            Err(e) if e.kind() == ErrorKind::AlreadyExists => {}
            Err(e) => return Err(Error::io(path, e).context("taking the run lock")),
        }
        let Some(found) = Found::read(path)? else {
            continue;
        };
        if found.is_run(ours) {
            return Ok(held_already(path, ours));
        }
        if !found.is_stale(ours, running) {
            return Ok(busy(path, host, &found));
        }
        if replace(path, found.raw.as_deref().unwrap_or(""), &mine, &ours.id)? {
            return Ok(taken(found.taken_over()).with("taken_over", found.value()));
        }
    }
    match Found::read(path)? {
        Some(found) => Ok(busy(path, host, &found)),
        None => Err(Error::invalid(format!(
            "the run lock {} kept changing hands: run again",
            path.display()
        ))),
    }
}

fn held_already(path: &Path, ours: &Record) -> Outcome {
    Outcome::new(false)
        .msg(format!(
            "this run holds the lock {} already",
            path.display()
        ))
        .with("path", path)
        .with("holder", ours)
}

fn busy(path: &Path, host: &str, found: &Found) -> Outcome {
    let mut out = Outcome::new(false)
        .msg(found.refusal(path, host))
        .with("path", path)
        .with("holder", found.value());
    out.failed = true;
    out
}

/// Compare-and-replace: the lock becomes `mine` only if its link still says `seen`. The link
/// is first renamed aside (one rename wins); what was moved is checked; a lock taken meanwhile
/// by another run is put back (a hard link, which never replaces), and `false` says to look
/// again.
fn replace(path: &Path, seen: &str, mine: &str, id: &str) -> Result<bool, Error> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    let aside = path.with_file_name(format!(".{name}.{id}.stale"));
    match std::fs::rename(path, &aside) {
        Ok(()) => {}
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(Error::io(path, e).context("taking over the run lock")),
    }
    let moved = std::fs::read_link(&aside).map(|t| t.to_string_lossy().into_owned());
    if moved.as_deref().ok() != Some(seen) {
        let _ = std::fs::hard_link(&aside, path);
        let _ = std::fs::remove_file(&aside);
        return Ok(false);
    }
    let _ = std::fs::remove_file(&aside);
    match std::os::unix::fs::symlink(mine, path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(Error::io(path, e).context("taking over the run lock")),
    }
}

fn release(path: &Path, ours: &Record, check: bool) -> Result<Outcome, Error> {
    let out = |changed: bool, msg: String| Outcome::new(changed).msg(msg).with("path", path);
    let Some(found) = Found::read(path)? else {
        return Ok(out(
            false,
            format!("no lock at {}: nothing to release", path.display()),
        ));
    };
    if !found.is_run(ours) {
        return Ok(out(
            false,
            format!(
                "the lock {} is not this run's (run {}): left as it is",
                path.display(),
                found.field("id")
            ),
        )
        .with("holder", found.value()));
    }
    if check {
        return Ok(out(
            true,
            format!("would release the lock {}", path.display()),
        ));
    }
    match std::fs::remove_file(path) {
        Ok(()) => Ok(out(true, format!("released the lock {}", path.display()))),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(out(
            false,
            format!("no lock at {}: nothing to release", path.display()),
        )),
        Err(e) => Err(Error::io(path, e).context("releasing the run lock")),
    }
}

/// The lock's folder, made when missing as `mkdir -p -m 0750` does (the folders above it with
/// the umask's mode); an existing one keeps its owner and mode.
fn make_folder(dir: &Path) -> Result<(), Error> {
    use std::os::unix::fs::PermissionsExt;
    if dir.is_dir() {
        return Ok(());
    }
    if let Some(parent) = dir.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| Error::io(parent, e).context("making the lock's folder"))?;
    }
    match std::fs::create_dir(dir) {
        Ok(()) => std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o750))
            .map_err(|e| Error::io(dir, e).context("making the lock's folder")),
        Err(e) if e.kind() == ErrorKind::AlreadyExists && dir.is_dir() => Ok(()),
        Err(e) => Err(Error::io(dir, e).context("making the lock's folder")),
    }
}
