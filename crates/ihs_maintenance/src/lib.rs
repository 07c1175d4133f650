//! The `connections.dr.ihs_maintenance` module: runbook steps 1 and 7 on one IBM HTTP Server.
//!
//! `state: enabled` writes the maintenance page into the document root and a managed block into
//! httpd.conf (`ErrorDocument 401/403 /<page>`, `<Location />` that lets in only `allow_from`, and
//! an optional `<Location assets_path>` everyone may fetch); `state: disabled` removes the block
//! (giving back the original bytes) and the page, if this module wrote it. The candidate conf is
//! checked with `apachectl -t -f` before it replaces the live one, then IHS is restarted
//! (`graceful` by default: requests in flight finish, new ones see the new conf). Until that
//! restart succeeds, a file beside the conf ([`restart_pending_path`]) records that it is owed, so
//! that a run after a failed restart (or after a run killed in between) restarts IHS even though
//! the conf is already as wanted; it also names the page still to remove once IHS has restarted
//! (disabled, but the old conf, still serving, shows the page).
//!
//! The conf is read with the files it Includes; the maintenance lines go where Apache applies
//! them (the server level, and every VirtualHost whose own sections would outrank them), each
//! file's between marker lines ([`lc_core::httpd_conf::ConfSet::enabled`]). All files are written
//! together: every new file is first written beside its target, then all are renamed, checked
//! with `apachectl -t`, and put back byte for byte if the check fails.
//!
//! Then the proof ([`probe`]): from an address outside the allow list (a loopback address by
//! default), every Listen, with the Host of every VirtualHost, over HTTP or HTTPS, is asked for
//! `/` and the application paths: each must answer 401/403 with the maintenance page, or the old
//! files are put back and IHS restarted on them. What the same probes got before maintenance is
//! kept beside the conf ([`probes_path`]), and disabling checks that they get it again.
//! The editing itself is [`lc_core::httpd_conf`]; this crate is the plan and the side effects.

pub mod probe;

use lc_core::fs::{write_atomic, TempFile};
use lc_core::httpd_conf::{
    self, backup_copy, check_assets_path, check_error_codes, check_page_name, parse_allow_from,
    Access, AllowEntry, Apachectl, ConfSet, CtlOutput, Maintenance,
};
use lc_core::{ArgSpec, Context, Diff, Elem, Error, Module, OptionSet, Outcome, ProcessError};
use probe::Answer;
use serde_json::json;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub struct IhsMaintenance;

lc_core::options! {
    #[derive(Debug)]
    pub struct Options {
        pub state: String => str().required().choices(&["enabled", "disabled"]),
        pub conf_path: String => path().default(httpd_conf::default_conf_path()),
        #[serde(default)]
        pub allow_from: Vec<String> => list(Elem::Str).default(json!([])),
        pub page_name: String => str().default("upgrading.htm"),
        pub page_content: Option<String> => str(),
        pub page_src: Option<String> => path(),
        pub document_root: Option<String> => path(),
        pub assets_path: Option<String> => str(),
        pub error_codes: Vec<i64> => list(Elem::Int).default(json!([401, 403])),
        pub apachectl: Option<String> => path(),
        pub validate: bool => bool().default(true),
        pub restart: String => str().choices(&["restart", "graceful", "none"]).default("graceful"),
        pub backup: bool => bool().default(false),
        pub readonly_files: Vec<String> => list(Elem::Path).default(json!([])),
        pub verify: bool => bool().default(true),
        pub probe_paths: Vec<String> => list(Elem::Str).default(json!(DEFAULT_PROBE_PATHS)),
        pub probe_from: Option<String> => str(),
        pub probe_timeout: i64 => int().default(15),
    }
}

/// The application paths probed by default, besides `/`.
pub const DEFAULT_PROBE_PATHS: &[&str] = &[
    "/",
    "/homepage",
    "/communities",
    "/files",
    "/activities",
    "/blogs",
    "/forums",
    "/wikis",
];

impl Module for IhsMaintenance {
    const NAME: &'static str = "ihs_maintenance";
    type Options = Options;

    fn spec() -> ArgSpec {
        Options::spec()
            .mutually_exclusive(&["page_content", "page_src"])
            .required_if("state", "enabled", &["allow_from"])
    }

    fn run(o: Options, ctx: &Context) -> Result<Outcome, Error> {
        let conf_path = PathBuf::from(&o.conf_path);
        let what = if o.state == "enabled" {
            "enabling"
        } else {
            "disabling"
        };
        let conf =
            read_conf(&conf_path).map_err(|e| e.context(format!("{what} maintenance mode")))?;
        for p in &o.probe_paths {
            if !p.starts_with('/') || p.chars().any(|c| c.is_whitespace() || c.is_control()) {
                return Err(Error::invalid(format!(
                    "probe_paths entry {p:?} must be an URL path starting with / (no spaces)"
                )));
            }
        }
        if o.probe_timeout < 1 {
            return Err(Error::invalid("probe_timeout must be at least 1 second"));
        }
        if o.state == "enabled" {
            enable(&o, conf, ctx)
        } else {
            disable(&o, conf, ctx)
        }
    }
}

fn read_conf(path: &Path) -> Result<ConfSet, Error> {
    if !path.exists() {
        return Err(Error::invalid(format!(
            "conf_path {} does not exist",
            path.display()
        )));
    }
    ConfSet::read(path)
}

/// What the run plans to write.
struct Plan {
    /// The new bytes of every file of the set, in its order.
    files: Vec<Vec<u8>>,
    page: Option<(PathBuf, Vec<u8>)>,
    /// The page did not exist before this run.
    page_is_new: bool,
    remove_page: Option<PathBuf>,
}

fn enable(o: &Options, set: ConfSet, ctx: &Context) -> Result<Outcome, Error> {
    let conf = &set.files[0];
    let allow = parse_allow_from(&o.allow_from)?;
    check_page_name(&o.page_name)?;
    if let Some(a) = &o.assets_path {
        check_assets_path(a)?;
    }
    let error_codes = check_error_codes(&o.error_codes)?;

    let apachectl = apachectl_for(o, conf);
    let document_root = match &o.document_root {
        Some(d) => PathBuf::from(d),
        None => match conf.document_root() {
            Some(d) => Some(d),
            // Set in an Include: ask httpd.
            None if apachectl.program.exists() => apachectl.document_root(conf.path())?,
            None => None,
        }
        .ok_or_else(|| {
            Error::invalid(format!(
                "{} has no DocumentRoot: set document_root",
                conf.path().display()
            ))
        })?,
    };
    let page_path = document_root.join(&o.page_name);
    let page_str = page_path.to_string_lossy().into_owned();
    // The page's path is recorded in a comment line of the block.
    if page_str.chars().any(char::is_control) {
        return Err(Error::invalid(format!(
            "document_root {:?} must not contain control characters",
            document_root.to_string_lossy()
        )));
    }
    // The server-level block (in the main conf) records the page and the access form; blocks in
    // Included files alone are what a run that died before renaming the main conf left.
    let blocks: Vec<_> = conf.blocks().to_vec();
    let any_block = set.files.iter().any(|f| !f.blocks().is_empty());
    let recorded_page = set
        .files
        .iter()
        .find_map(|f| f.page_written().map(str::to_string));
    // A page this module wrote is recorded in the block, or, once the block is gone but the
    // restart that would stop serving the page failed, in the owed restart's record.
    let owed_page = Owed::read(conf.path()).page;
    let ours_before = recorded_page.as_deref().is_some_and(|p| p == page_str)
        || owed_page.as_deref() == Some(page_path.as_path());
    let existing = std::fs::read(&page_path).ok();
    let wanted: Option<Vec<u8>> = match (&o.page_content, &o.page_src) {
        (Some(c), _) => Some(c.clone().into_bytes()),
        (None, Some(src)) => {
            Some(std::fs::read(src).map_err(|e| Error::io(src, e).context("reading page_src"))?)
        }
        // An administrator's own page stays as it is.
        (None, None) if existing.is_some() && !ours_before => None,
        (None, None) => Some(httpd_conf::DEFAULT_PAGE.as_bytes().to_vec()),
    };
    if existing.is_none() && !document_root.is_dir() {
        return Err(Error::invalid(format!(
            "document_root {} is not a folder",
            document_root.display()
        )));
    }
    let page_write = wanted.filter(|w| existing.as_ref() != Some(w));
    let page_written = (ours_before || existing.is_none()).then(|| page_str.clone());
    // A page written before under another name goes when this one comes.
    let remove_page = recorded_page
        .clone()
        .map(PathBuf::from)
        .or(owed_page)
        .filter(|p| *p != page_path && p.exists());

    let loads = blocks.iter().find_map(|b| b.loads_access_compat.clone());
    let access = match (&loads, blocks.is_empty()) {
        (Some(path), _) => Access::CompatLoading(path.clone()),
        (None, false) if blocks.iter().any(|b| b.uses_require) => Access::Require,
        (None, false) => Access::Compat,
        (None, true) => match conf.detect_access(|p| p.exists()) {
            Some(a) => a,
            None if apachectl.program.exists() => {
                match apachectl.loads_module(conf.path(), "access_compat_module")? {
                    Some(true) => Access::Compat,
                    _ => Access::Require,
                }
            }
            None => Access::Require,
        },
    };
    let m = Maintenance {
        allow_from: allow.clone(),
        page_name: o.page_name.clone(),
        assets_path: o.assets_path.clone(),
        error_codes,
        access: access.clone(),
        page_written,
    };
    let readonly: Vec<PathBuf> = o
        .readonly_files
        .iter()
        .map(|p| canonical(Path::new(p)))
        .collect();
    let files = set
        .enabled(&m, &|p| readonly.contains(&canonical(p)))
        .map_err(|e| e.context("enabling maintenance mode"))?;
    let plan = Plan {
        files,
        page: page_write.map(|w| (page_path.clone(), w)),
        page_is_new: existing.is_none(),
        remove_page,
    };
    let allowed: Vec<&str> = allow.iter().map(|a| a.as_str()).collect();
    let probes = Probes::plan(o, &set, &allow)?;
    // What users get before maintenance: the baseline disabling compares with. Taken only
    // while maintenance is off (a rerun keeps the record of the first run).
    let baseline_needed =
        !any_block && !probes_path(conf.path()).exists() && !ctx.check_mode && o.verify;
    let baseline = match (&probes, baseline_needed) {
        (Ok(p), true) => Some(p.run_once()),
        _ => None,
    };
    let outcome = apply(o, &set, &plan, &apachectl, ctx, "enabled")?;
    let mut outcome = outcome
        .with("allowed", allowed)
        .with("page", &page_str)
        .with("document_root", document_root.to_string_lossy())
        .with("access", access.name())
        .with("listeners", listener_rows(&set))
        .with("page_sha256", lc_core::export::sha256_of(&page_path).ok());
    if outcome.failed || ctx.check_mode {
        return Ok(outcome.with("verified", false).with("probes", json!([])));
    }
    if let Some(b) = &baseline {
        if let Ok(p) = &probes {
            write_atomic(
                &probes_path(set.files[0].path()),
                &record_bytes(p.source, b),
                0o600,
            )?;
        }
    }
    let restarted = outcome.fields.get("restarted") == Some(&json!(true));
    let probes = match probes {
        Ok(p) if o.verify && (restarted || !outcome.changed) => p,
        Ok(_) => {
            if o.verify {
                outcome = note(outcome, "maintenance mode was not verified from outside: IHS was not restarted (restart: none)".into());
            }
            return Ok(outcome.with("verified", false).with("probes", json!([])));
        }
        Err(why) => {
            outcome = note(
                outcome,
                format!("maintenance mode is on, but it was not verified from outside: {why}"),
            );
            return Ok(outcome.with("verified", false).with("probes", json!([])));
        }
    };
    let page = std::fs::read(&page_path).unwrap_or_default();
    let results = probes.run_until(|a| is_maintenance(a, &page));
    let rows = probe_rows(&probes, &results, |a| is_maintenance(a, &page), None);
    if let Some((t, a)) = probes
        .targets
        .iter()
        .zip(&results)
        .find(|(_, a)| !is_maintenance(a, &page))
    {
        let what = match a {
            Answer::Http { status, .. } if *status == 401 || *status == 403 => {
                format!("{status} without the maintenance page")
            }
            other => other.describe(),
        };
        let undo = restore(o, &set, &plan, &apachectl)?;
        if baseline.is_some() {
            let _ = std::fs::remove_file(probes_path(set.files[0].path()));
        }
        outcome.failed = true;
        outcome.msg = Some(format!(
            "maintenance mode did not take effect: {} Host {} {} answered {what} to {} (not in allow_from); {undo}",
            t.listener, t.host, t.path, probes.source
        ));
        return Ok(outcome.with("verified", false).with("probes", rows));
    }
    Ok(outcome
        .with("verified", true)
        .with("probe_source", probes.source.to_string())
        .with("probes", rows))
}

/// Adds `text` to the outcome's message.
fn note(mut outcome: Outcome, text: String) -> Outcome {
    outcome.msg = Some(match outcome.msg.take() {
        Some(m) => format!("{m}; {text}"),
        None => text,
    });
    outcome
}

fn canonical(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf())
}

/// A 401/403 whose body is the maintenance page.
fn is_maintenance(a: &Answer, page: &[u8]) -> bool {
    matches!(a, Answer::Http { status: 401 | 403, body } if body == page)
}

/// After a failed proof: the files as they were before this call, the page removed if this
/// call made it, IHS restarted on them. Returns what was done, for the message.
fn restore(
    o: &Options,
    set: &ConfSet,
    plan: &Plan,
    apachectl: &Apachectl,
) -> Result<String, Error> {
    let mut put_back = Vec::new();
    for (f, new) in set.files.iter().zip(&plan.files) {
        if new.as_slice() != f.bytes() {
            write_atomic(f.path(), f.bytes(), 0o644)?;
            put_back.push(f.path().display().to_string());
        }
    }
    if let (Some((page, _)), true) = (&plan.page, plan.page_is_new) {
        let _ = std::fs::remove_file(page);
    }
    if put_back.is_empty() {
        return Ok("nothing was changed by this run".into());
    }
    let out = apachectl.signal(
        if o.restart == "none" {
            "graceful"
        } else {
            &o.restart
        },
        set.files[0].path(),
    )?;
    if out.success() {
        let _ = std::fs::remove_file(restart_pending_path(set.files[0].path()));
        Ok(format!(
            "{} put back as before this run, and IHS restarted on them",
            put_back.join(", ")
        ))
    } else {
        Ok(format!(
            "{} put back as before this run, but apachectl -k failed: {}",
            put_back.join(", "),
            out.tail(2)
        ))
    }
}

fn disable(o: &Options, set: ConfSet, ctx: &Context) -> Result<Outcome, Error> {
    let conf = &set.files[0];
    let remove_page = set
        .files
        .iter()
        .find_map(|f| f.page_written().map(PathBuf::from))
        .or(Owed::read(conf.path()).page)
        .filter(|p| p.exists());
    let plan = Plan {
        files: set.disabled(),
        page: None,
        page_is_new: false,
        remove_page,
    };
    let apachectl = apachectl_for(o, conf);
    let outcome = apply(o, &set, &plan, &apachectl, ctx, "disabled")?;
    let mut outcome = outcome.with("allowed", Vec::<String>::new());
    if outcome.failed || ctx.check_mode {
        return Ok(outcome.with("verified", false).with("probes", json!([])));
    }
    let record_path = probes_path(conf.path());
    if !o.verify {
        // Maintenance is off without a comparison: the record says nothing about a next time.
        let _ = std::fs::remove_file(&record_path);
        return Ok(outcome.with("verified", false).with("probes", json!([])));
    }
    let Some((source, record)) = read_record(&record_path) else {
        outcome = note(
            outcome,
            "no probes were recorded when maintenance mode was turned on: what users get now was not compared".into(),
        );
        return Ok(outcome.with("verified", false).with("probes", json!([])));
    };
    let restarted = outcome.fields.get("restarted") == Some(&json!(true));
    if !restarted && outcome.changed {
        outcome = note(outcome, "what users get now was not compared with before maintenance: IHS was not restarted (restart: none)".into());
        return Ok(outcome.with("verified", false).with("probes", json!([])));
    }
    let probes = Probes {
        targets: record.iter().map(|(t, _)| t.clone()).collect(),
        source,
        timeout: Duration::from_secs(o.probe_timeout as u64),
    };
    let before: Vec<Option<u16>> = record.iter().map(|(_, s)| *s).collect();
    let results = probes.run_until_each(|i, a| a.status() == before[i]);
    let rows = probe_rows(&probes, &results, |_| false, Some(&before));
    if let Some(((t, a), b)) = probes
        .targets
        .iter()
        .zip(&results)
        .zip(&before)
        .find(|((_, a), b)| a.status() != **b)
    {
        outcome.failed = true;
        outcome.msg = Some(format!(
            "maintenance mode is off, but {} Host {} {} answered {} where it answered {} before maintenance",
            t.listener,
            t.host,
            t.path,
            a.describe(),
            b.map_or("connection refused".to_string(), |s| s.to_string())
        ));
        return Ok(outcome.with("verified", false).with("probes", rows));
    }
    let _ = std::fs::remove_file(&record_path);
    outcome = note(
        outcome,
        format!("all {} probes answer as before maintenance", results.len()),
    );
    if !outcome.changed {
        outcome.msg = None;
    }
    Ok(outcome.with("verified", true).with("probes", rows))
}

/// One request the proof makes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// `https://127.0.0.1:8443`: the Listen as reached from here.
    pub listener: String,
    pub scheme: &'static str,
    pub connect: SocketAddr,
    pub host: String,
    pub path: String,
}

/// The proof's requests and where they come from.
pub struct Probes {
    pub targets: Vec<Target>,
    pub source: IpAddr,
    pub timeout: Duration,
}

impl Probes {
    /// Every Listen × the names of the virtual hosts on its port (or the server's name) ×
    /// `probe_paths`, from `probe_from` or the first loopback address outside the allow list.
    /// `Err`: why no proof is possible (said in the result, never claimed).
    fn plan(
        o: &Options,
        set: &ConfSet,
        allow: &[AllowEntry],
    ) -> Result<Result<Probes, String>, Error> {
        let mut targets = Vec::new();
        let mut family_v6 = false;
        for e in endpoints(set) {
            family_v6 |= e.connect.is_ipv6();
            for host in &e.hosts {
                for path in &o.probe_paths {
                    targets.push(Target {
                        listener: e.listener.clone(),
                        scheme: e.scheme,
                        connect: e.connect,
                        host: host.clone(),
                        path: path.clone(),
                    });
                }
            }
        }
        if targets.is_empty() {
            return Ok(Err("the conf has no Listen to probe".into()));
        }
        let source = match &o.probe_from {
            Some(s) => {
                let ip: IpAddr = s.parse().map_err(|_| {
                    Error::invalid(format!("probe_from {s:?} is not an IP address"))
                })?;
                if probe::allowed(ip, allow) {
                    return Err(Error::invalid(format!(
                        "probe_from {ip} is in allow_from: the proof must come from an address that is kept out"
                    )));
                }
                ip
            }
            None => match probe::pick_source(targets[0].connect.ip(), allow) {
                Some(ip) => ip,
                None => {
                    return Ok(Err(format!(
                        "every {} address this host could send from is in allow_from (set probe_from to a local address outside it)",
                        if family_v6 { "loopback (::1)" } else { "loopback" }
                    )))
                }
            },
        };
        Ok(Ok(Probes {
            targets,
            source,
            timeout: Duration::from_secs(o.probe_timeout as u64),
        }))
    }

    fn get(&self, t: &Target) -> Answer {
        probe::get(
            t.scheme,
            t.connect,
            self.source,
            &t.host,
            &t.path,
            Duration::from_secs(5).min(self.timeout),
        )
    }

    /// Each probe once.
    fn run_once(&self) -> Vec<(Target, Answer)> {
        self.targets
            .iter()
            .map(|t| (t.clone(), self.get(t)))
            .collect()
    }

    /// Each probe until `ok` holds for it (a graceful restart takes a moment to reach every
    /// child) or the timeout runs out; the last answers.
    fn run_until(&self, ok: impl Fn(&Answer) -> bool) -> Vec<Answer> {
        self.run_until_each(|_, a| ok(a))
    }

    fn run_until_each(&self, ok: impl Fn(usize, &Answer) -> bool) -> Vec<Answer> {
        let deadline = Instant::now() + self.timeout;
        let mut out = Vec::new();
        for (i, t) in self.targets.iter().enumerate() {
            loop {
                let a = self.get(t);
                if ok(i, &a) || Instant::now() >= deadline {
                    out.push(a);
                    break;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        out
    }
}

/// A Listen as the probes reach it, with the names asked for on it.
pub struct Endpoint {
    /// `https://127.0.0.1:8443`.
    pub listener: String,
    pub scheme: &'static str,
    /// The Listen's own address part (empty: every address).
    pub address: String,
    pub connect: SocketAddr,
    /// The ServerNames/ServerAliases of the VirtualHosts on its port, else the server's name.
    pub hosts: Vec<String>,
}

/// Every Listen httpd acts on, with the names of the virtual hosts on its port.
pub fn endpoints(set: &ConfSet) -> Vec<Endpoint> {
    let vhosts = set.virtual_hosts();
    let server_name = set.server_name();
    let mut out = Vec::new();
    for l in set.listeners() {
        let ip: IpAddr = match l.address.as_str() {
            "" | "*" | "0.0.0.0" => IpAddr::from([127, 0, 0, 1]),
            "::" => IpAddr::from(std::net::Ipv6Addr::LOCALHOST),
            a => match a.parse() {
                Ok(ip) => ip,
                Err(_) => match (a, l.port)
                    .to_socket_addrs()
                    .ok()
                    .and_then(|mut i| i.next())
                {
                    Some(sa) => sa.ip(),
                    None => continue,
                },
            },
        };
        let connect = SocketAddr::new(ip, l.port);
        let shown = if ip.is_ipv6() {
            format!("[{ip}]")
        } else {
            ip.to_string()
        };
        let mut hosts: Vec<String> = Vec::new();
        for v in &vhosts {
            let on_port = v.addresses.iter().any(|a| match a.rsplit_once(':') {
                Some((_, p)) => p == "*" || p.parse::<u16>().ok() == Some(l.port),
                None => true,
            });
            if on_port {
                for n in &v.names {
                    let n = n.replace('*', "lc-probe").replace('?', "x");
                    if !hosts.contains(&n) {
                        hosts.push(n);
                    }
                }
            }
        }
        if hosts.is_empty() {
            hosts.push(
                server_name
                    .clone()
                    .unwrap_or_else(|| format!("{shown}:{}", l.port)),
            );
        }
        out.push(Endpoint {
            listener: format!("{}://{shown}:{}", l.scheme, l.port),
            scheme: l.scheme,
            address: l.address.clone(),
            connect,
            hosts,
        });
    }
    out
}

/// The `listeners` result: what a client elsewhere needs to ask the same questions.
fn listener_rows(set: &ConfSet) -> serde_json::Value {
    json!(endpoints(set)
        .iter()
        .map(|e| json!({
            "listener": e.listener,
            "scheme": e.scheme,
            "address": e.address,
            "port": e.connect.port(),
            "hosts": e.hosts,
        }))
        .collect::<Vec<_>>())
}

/// The `probes` result rows.
fn probe_rows(
    probes: &Probes,
    answers: &[Answer],
    maintenance: impl Fn(&Answer) -> bool,
    before: Option<&[Option<u16>]>,
) -> serde_json::Value {
    let rows: Vec<serde_json::Value> = probes
        .targets
        .iter()
        .zip(answers)
        .enumerate()
        .map(|(i, (t, a))| {
            let mut row = json!({
                "listener": t.listener,
                "host": t.host,
                "path": t.path,
                "status": a.status(),
                "maintenance": maintenance(a),
            });
            if a.status().is_none() {
                row["answer"] = json!(a.describe());
            }
            if let Some(b) = before {
                row["before"] = json!(b[i]);
            }
            row
        })
        .collect();
    json!(rows)
}

/// The file beside the conf holding what the probes got before maintenance (ours: JSON).
pub fn probes_path(conf: &Path) -> PathBuf {
    let name = conf
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    conf.with_file_name(format!(".{name}.lc-recover.probes"))
}

fn record_bytes(source: IpAddr, probes: &[(Target, Answer)]) -> Vec<u8> {
    let rows: Vec<serde_json::Value> = probes
        .iter()
        .map(|(t, a)| {
            json!({"listener": t.listener, "scheme": t.scheme, "connect": t.connect.to_string(),
                   "host": t.host, "path": t.path, "status": a.status()})
        })
        .collect();
    let record = json!({"source": source.to_string(), "probes": rows});
    let mut text = serde_json::to_string_pretty(&record).unwrap_or_default();
    text.push('\n');
    text.into_bytes()
}

type Record = (IpAddr, Vec<(Target, Option<u16>)>);

fn read_record(path: &Path) -> Option<Record> {
    let text = std::fs::read_to_string(path).ok()?;
    let record: serde_json::Value = serde_json::from_str(&text).ok()?;
    let source: IpAddr = record["source"].as_str()?.parse().ok()?;
    let rows = record["probes"].as_array()?;
    let probes: Option<Vec<_>> = rows
        .iter()
        .map(|r| {
            Some((
                Target {
                    listener: r["listener"].as_str()?.to_string(),
                    scheme: if r["scheme"] == "https" {
                        "https"
                    } else {
                        "http"
                    },
                    connect: r["connect"].as_str()?.parse().ok()?,
                    host: r["host"].as_str()?.to_string(),
                    path: r["path"].as_str()?.to_string(),
                },
                r["status"].as_u64().and_then(|s| u16::try_from(s).ok()),
            ))
        })
        .collect();
    Some((source, probes?))
}

fn apachectl_for(o: &Options, conf: &lc_core::httpd_conf::HttpdConf) -> Apachectl {
    Apachectl::new(match &o.apachectl {
        Some(p) => PathBuf::from(p),
        // IHS on Windows has no apachectl; its httpd.exe takes the same -t, -f and -k.
        None => conf.server_root().join("bin").join(if cfg!(windows) {
            "httpd.exe"
        } else {
            "apachectl"
        }),
    })
}

/// Carries out a plan: predict (check mode) or write every changed file beside its target,
/// write the page, back up, rename them all, validate, restart, remove the page that is no
/// longer wanted. A failure before the restart puts every renamed file back as it was.
fn apply(
    o: &Options,
    set: &ConfSet,
    plan: &Plan,
    apachectl: &Apachectl,
    ctx: &Context,
    state: &str,
) -> Result<Outcome, Error> {
    let path = set.files[0].path();
    let changed_files: Vec<usize> = (0..set.files.len())
        .filter(|&i| plan.files[i].as_slice() != set.files[i].bytes())
        .collect();
    let conf_changed = !changed_files.is_empty();
    let pending = restart_pending_path(path);
    // An earlier run put a conf in place whose restart failed, or died before restarting: the
    // conf on disk is as wanted, but IHS may still serve the old one.
    let owed = o.restart != "none" && pending.exists();
    let changed = conf_changed || plan.page.is_some() || plan.remove_page.is_some() || owed;
    let diff = (ctx.diff && conf_changed).then(|| {
        let (mut before, mut after) = (String::new(), String::new());
        for &i in &changed_files {
            if changed_files.len() > 1 {
                let head = format!("# ==> {} <==\n", set.files[i].path().display());
                before.push_str(&head);
                after.push_str(&head);
            }
            before.push_str(&String::from_utf8_lossy(set.files[i].bytes()));
            after.push_str(&String::from_utf8_lossy(&plan.files[i]));
        }
        Diff {
            before,
            after,
            before_header: format!("{} (before)", path.display()),
            after_header: format!("{} (after)", path.display()),
        }
    });
    let base = |changed: bool| {
        Outcome::new(changed)
            .diff(diff.clone())
            .with("state", state)
            .with("conf_path", path.to_string_lossy())
            .with(
                "files",
                changed_files
                    .iter()
                    .map(|&i| set.files[i].path().to_string_lossy().into_owned())
                    .collect::<Vec<_>>(),
            )
    };
    if ctx.check_mode || !changed {
        return Ok(base(changed).with("restarted", false));
    }

    let needs_ctl = (conf_changed && o.validate) || ((conf_changed || owed) && o.restart != "none");
    if needs_ctl && !apachectl.program.exists() {
        return Err(Error::invalid(format!(
            "apachectl not found at {}: set apachectl (or validate: false and restart: none)",
            apachectl.program.display()
        )));
    }

    let mut backup_file = None;
    if conf_changed {
        // Every new file is written beside its target first: one that cannot be written stops
        // the run with nothing changed.
        let mut temps = Vec::new();
        for &i in &changed_files {
            temps.push((
                i,
                TempFile::write(set.files[i].path(), &plan.files[i], 0o644)?,
            ));
        }
        let owed_before = pending.exists();
        let mut renamed: Vec<usize> = Vec::new();
        // Puts back every renamed file (and a page made for a conf that did not go live).
        let undo = |renamed: &[usize]| {
            for &i in renamed {
                let _ = write_atomic(set.files[i].path(), set.files[i].bytes(), 0o644);
            }
            if let (Some((page, _)), true) = (&plan.page, plan.page_is_new) {
                let _ = std::fs::remove_file(page);
            }
            if !owed_before {
                let _ = std::fs::remove_file(&pending);
            }
        };
        let put_in_place = (|| {
            if let Some((page, bytes)) = &plan.page {
                write_atomic(page, bytes, 0o644)?;
            }
            if o.backup {
                backup_file = Some(backup_copy(path)?);
            }
            // Owed until the restart succeeds, so that a rerun restarts even if this run dies
            // or its restart fails after the rename.
            if o.restart != "none" {
                let owed = Owed {
                    state: state.to_string(),
                    page: plan.remove_page.clone(),
                };
                write_atomic(&pending, &owed.to_bytes(), 0o644)?;
            }
            // The main conf last: until it is renamed, the blocks already in Included files
            // are dormant copies of what the main conf will say (and a rerun finishes the job).
            for (i, t) in temps.drain(..).rev() {
                t.persist()?;
                renamed.push(i);
            }
            Ok::<(), Error>(())
        })();
        if let Err(e) = put_in_place {
            undo(&renamed);
            return Err(e.context(if renamed.is_empty() {
                "nothing was changed".to_string()
            } else {
                "the files already renamed were put back".to_string()
            }));
        }
        if o.validate {
            let out = apachectl.check(path)?;
            if !out.success() {
                undo(&renamed);
                return Err(Error::process(
                    format!(
                        "the new {} does not pass apachectl -t and was not put in place: {}",
                        path.display(),
                        out.error_line()
                    ),
                    process_error(apachectl, &["-t", "-f", &path.to_string_lossy()], &out),
                ));
            }
        }
    } else if let Some((page, bytes)) = &plan.page {
        write_atomic(page, bytes, 0o644)?;
    }

    let mut outcome = base(true);
    if let Some(b) = &backup_file {
        outcome = outcome.with("backup_file", b.to_string_lossy());
    }
    let mut restarted = false;
    if (conf_changed || owed) && o.restart != "none" {
        let out = apachectl.signal(&o.restart, path)?;
        if !out.success() {
            let pe = process_error(apachectl, &["-k", &o.restart], &out);
            outcome.failed = true;
            outcome.msg = Some(format!(
                "maintenance mode is {state} in {}, but apachectl -k {} failed (exit {}): {}; the old configuration keeps serving until IHS restarts cleanly (running the task again retries the restart)",
                path.display(),
                o.restart,
                pe.status.map_or("signal".to_string(), |s| s.to_string()),
                out.tail(3)
            ));
            return Ok(outcome
                .with("restarted", false)
                .with("cmd", pe.command)
                .with("rc", pe.status)
                .with("output_tail", pe.output_tail));
        }
        restarted = true;
        match std::fs::remove_file(&pending) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(Error::io(&pending, e).context("clearing the owed restart"))
            }
            _ => {}
        }
        if owed && !conf_changed {
            outcome.msg = Some(format!(
                "{} was already as wanted, but an earlier run did not restart IHS after changing it: restarted now",
                path.display()
            ));
        }
    }
    if let Some(page) = &plan.remove_page {
        std::fs::remove_file(page).map_err(|e| Error::io(page, e))?;
    }
    Ok(outcome.with("restarted", restarted))
}

/// A restart owed to IHS, as recorded beside the conf ([`restart_pending_path`]): the state the
/// conf was put in and the page to remove once IHS has restarted (the conf that shows it may
/// still be serving). The record is ours: a line with the state, then `page <path>` if any.
#[derive(Debug, Default, PartialEq)]
struct Owed {
    state: String,
    page: Option<PathBuf>,
}

impl Owed {
    /// The record beside `conf`; empty when there is none (or it cannot be read).
    fn read(conf: &Path) -> Owed {
        let Ok(text) = std::fs::read_to_string(restart_pending_path(conf)) else {
            return Owed::default();
        };
        let mut lines = text.lines();
        Owed {
            state: lines.next().unwrap_or_default().to_string(),
            page: lines
                .find_map(|l| l.strip_prefix("page "))
                .filter(|p| !p.is_empty())
                .map(PathBuf::from),
        }
    }

    fn to_bytes(&self) -> Vec<u8> {
        let mut text = format!("{}\n", self.state);
        if let Some(page) = &self.page {
            text.push_str(&format!("page {}\n", page.display()));
        }
        text.into_bytes()
    }
}

/// The file beside the conf that records a restart owed to IHS: written before a changed conf is
/// renamed into place, removed once `apachectl -k` succeeded.
pub fn restart_pending_path(conf: &Path) -> PathBuf {
    let name = conf
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    conf.with_file_name(format!(".{name}.lc-recover.restart-pending"))
}

fn process_error(apachectl: &Apachectl, args: &[&str], out: &CtlOutput) -> ProcessError {
    ProcessError {
        command: format!("{} {}", apachectl.program.display(), args.join(" ")),
        status: out.status,
        output_tail: out.tail(10),
    }
}
