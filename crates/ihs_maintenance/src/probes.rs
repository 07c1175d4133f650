//! The proof's requests: every Listen with the Host of every VirtualHost, from a source outside
//! the allow list; their rows in the result and their record beside the conf.

use crate::probe::{self, Answer};
use lc_core::httpd_conf::{AllowEntry, ConfSet};
use lc_core::Error;
use serde_json::json;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::Options;

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
    pub(crate) fn plan(
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
    pub(crate) fn run_once(&self) -> Vec<(Target, Answer)> {
        self.targets
            .iter()
            .map(|t| (t.clone(), self.get(t)))
            .collect()
    }

    /// Each probe until `ok` holds for it (a graceful restart takes a moment to reach every
    /// child) or the timeout runs out; the last answers.
    pub(crate) fn run_until(&self, ok: impl Fn(&Answer) -> bool) -> Vec<Answer> {
        self.run_until_each(|_, a| ok(a))
    }

    pub(crate) fn run_until_each(&self, ok: impl Fn(usize, &Answer) -> bool) -> Vec<Answer> {
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
pub(crate) fn listener_rows(set: &ConfSet) -> serde_json::Value {
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
pub(crate) fn probe_rows(
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

pub(crate) fn record_bytes(source: IpAddr, probes: &[(Target, Answer)]) -> Vec<u8> {
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

pub(crate) type Record = (IpAddr, Vec<(Target, Option<u16>)>);

pub(crate) fn read_record(path: &Path) -> Option<Record> {
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
