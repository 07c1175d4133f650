//! `lc-sim init`: lays out a cell — the Deployment Manager profile with `wsadmin.sh` and the admin
//! scripts (where the dialect keeps them), `cell.json`, the state (communities, their remote resources, the scheduler), and
//! optionally IBM HTTP Server stand-ins. The same seed gives the same cell.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _, Result};
use lc_core::apps::{self, APPS};

use crate::dialect::Dialect;
use crate::model::{
    Cell, Community, Config, Copy, Dmgr, Meta, Person, Resource, Server, Task, World, CLEANUP_TASK,
    RETRY_TASK, VERSIONS,
};
use crate::util::{Rng, DAY_MS};

/// The fixed "now" of generated data: 2025-01-15 09:00:00 UTC.
pub const EPOCH: i64 = 1_736_931_600_000;

pub const VISIBILITIES: &[&str] = &["public", "publicInviteOnly", "private"];
pub const MODERATIONS: &[&str] = &["none", "premoderation", "postmoderation"];
pub const THEMES: &[&str] = &[
    "default", "blue", "green", "red", "gold", "silver", "purple",
];

const ADJECTIVES: &[&str] = &[
    "Agile", "Northern", "Quality", "Open", "Green", "Global", "Secure", "Digital", "Customer",
    "Lean", "Cloud", "Southern", "Mobile", "Data",
];
const TOPICS: &[&str] = &[
    "Marketing",
    "R&D",
    "Sales",
    "Support",
    "Architecture",
    "Onboarding",
    "Design",
    "Finance",
    "People",
    "Legal",
    "Operations",
    "Research",
    "\"Innovation\"",
    "Partners' ",
];
const KINDS: &[&str] = &[
    "Team",
    "Guild",
    "Forum",
    "Community",
    "Network",
    "Circle",
    "Hub",
];
const FIRST: &[&str] = &[
    "Amy", "Ben", "Chloe", "Dev", "Elif", "Frank", "Grace", "Hiro", "Ines", "Jonas", "Kara",
    "Luis", "Mei", "Nora", "Omar", "Priya",
];
const LAST: &[&str] = &[
    "Jones", "Okafor", "Schmidt", "Tanaka", "Rossi", "Dubois", "Novak", "Silva", "Khan", "Berg",
];

/// Options of `lc-sim init`.
#[derive(Debug, Clone)]
pub struct InitOptions {
    pub communities: usize,
    pub seed: u64,
    pub apps: Option<Vec<String>>,
    pub version: String,
    pub ihs: usize,
    /// Applications whose feature runs on two servers (so loading its script asks which).
    pub multi_server: Vec<String>,
    pub dmgr_port: u16,
    /// The `lc-sim` binary wsadmin.sh runs (default: this one).
    pub lc_sim: Option<PathBuf>,
    /// The layouts the cell speaks.
    pub dialect: Dialect,
}

impl Default for InitOptions {
    fn default() -> Self {
        InitOptions {
            communities: 200,
            seed: 1,
            apps: None,
            version: "hcl8".into(),
            ihs: 0,
            multi_server: vec!["Files".into(), "Wiki".into()],
            dmgr_port: 8879,
            lc_sim: None,
            dialect: Dialect::Lcsim,
        }
    }
}

/// The servers of each admin script's feature.
fn servers(apps_deployed: &[String], multi: &[String]) -> BTreeMap<String, Vec<Server>> {
    let infra = |n: u32| Server {
        node: format!("node0{n}"),
        server: format!("InfraCluster_server{n}"),
    };
    let apps_srv = |n: u32| Server {
        node: format!("node0{}", n + 1),
        server: format!("AppsCluster_server{n}"),
    };
    let mut out = BTreeMap::new();
    out.insert(apps::COMMUNITIES_SCRIPT.to_string(), vec![infra(1)]);
    for a in APPS
        .iter()
        .filter(|a| apps_deployed.iter().any(|d| d == a.id))
    {
        // Blogs, Forums and News next to Communities; the others on the apps cluster.
        let home = match a.admin_script {
            "blogsAdmin.py" | "forumsAdmin.py" | "newsAdmin.py" => infra(1),
            _ => apps_srv(1),
        };
        let many = APPS
            .iter()
            .filter(|b| b.admin_script == a.admin_script)
            .any(|b| multi.iter().any(|m| m == b.id));
        let mut list = vec![home.clone()];
        if many {
            list.push(if home.server.starts_with("Infra") {
                infra(2)
            } else {
                apps_srv(2)
            });
        }
        out.insert(a.admin_script.to_string(), list);
    }
    out
}

fn person(rng: &mut Rng) -> Person {
    Person {
        name: format!("{} {}", rng.pick(FIRST), rng.pick(LAST)),
        ext_id: rng.uuid(),
    }
}

/// A community name (not unique on purpose: real ones repeat).
pub fn community_name(rng: &mut Rng) -> String {
    format!(
        "{} {} {}",
        rng.pick(ADJECTIVES),
        rng.pick(TOPICS).trim(),
        rng.pick(KINDS)
    )
}

/// A new community created at `created`, with the default widgets and some others.
pub fn new_community(rng: &mut Rng, created: i64, apps_deployed: &[String]) -> Community {
    let created_by = person(rng);
    let mut owners = vec![created_by.clone()];
    if rng.percent(40) {
        owners.push(person(rng));
    }
    let vis = match rng.below(4) {
        0 | 1 => "public",
        2 => "publicInviteOnly",
        _ => "private",
    };
    let moderation = if rng.percent(70) {
        "none"
    } else {
        *rng.pick(&MODERATIONS[1..])
    };
    let mut widgets = Vec::new();
    for a in APPS
        .iter()
        .filter(|a| apps_deployed.iter().any(|d| d == a.id))
    {
        let chance = if a.default_widget {
            90
        } else if a.id == "IdeationBlog" {
            20
        } else {
            50
        };
        if rng.percent(chance) {
            widgets.push(a.id.to_string());
        }
    }
    Community {
        uuid: rng.uuid(),
        name: community_name(rng),
        visibility: vis.into(),
        moderation: moderation.into(),
        theme: rng.pick(THEMES).to_string(),
        created_by,
        owners,
        member_size: 1 + rng.below(250) as u32,
        created,
        widgets,
        in_trash: false,
    }
}

fn title(app: &str, community: &str, n: usize) -> String {
    match app {
        "Activities" => format!("{community} activity {n}"),
        "Blog" => format!("{community} blog"),
        "IdeationBlog" => format!("{community} ideas"),
        "Files" => format!("{community} files"),
        "Forum" => format!("{community} forum"),
        "Wiki" => format!("{community} wiki"),
        _ => format!("{community} status updates"),
    }
}

/// The resources an app keeps for a community that has its widget (in step with Communities).
pub fn resources_for(rng: &mut Rng, c: &Community, app: &str, now: i64) -> Vec<Resource> {
    let n = if app == "Activities" {
        1 + rng.below(2) as usize
    } else {
        1
    };
    (1..=n)
        .map(|i| Resource {
            app: app.to_string(),
            id: rng.uuid(),
            community_uuid: c.uuid.clone(),
            title: title(app, &c.name, i),
            copy: Copy::of(c),
            created: (c.created + rng.below(3 * DAY_MS as u64) as i64).min(now),
        })
        .collect()
}

/// A fresh world of `n` communities, all applications in step, names in the dialect's languages.
pub fn world(seed: u64, n: usize, apps_deployed: &[String], dialect: Dialect) -> World {
    let mut rng = Rng::new(seed);
    let mut communities = BTreeMap::new();
    let mut resources = Vec::new();
    for _ in 0..n {
        let created = EPOCH - rng.below(365 * DAY_MS as u64) as i64;
        let mut c = new_community(&mut rng, created, apps_deployed);
        c.name = dialect.community_name(c.name);
        for w in &c.widgets {
            resources.extend(resources_for(&mut rng, &c, w, EPOCH));
        }
        communities.insert(c.uuid.clone(), c);
    }
    let now = crate::util::now_ms();
    World {
        epoch: EPOCH,
        seed,
        communities,
        resources,
        trash: Vec::new(),
        queue: Vec::new(),
        next_event_id: 1000,
        tasks: vec![
            Task {
                name: RETRY_TASK.into(),
                status: "SCHEDULED".into(),
                interval_secs: 900,
                last_run: now,
            },
            Task {
                name: CLEANUP_TASK.into(),
                status: "SCHEDULED".into(),
                interval_secs: 86_400,
                last_run: now,
            },
        ],
        damage: Vec::new(),
    }
}

/// `n` distinct ports on 127.0.0.1 that nothing listens on right now.
fn free_ports(n: usize) -> Result<Vec<u16>> {
    let held = (0..n)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0").context("cannot find a free port"))
        .collect::<Result<Vec<_>>>()?;
    held.iter().map(|l| Ok(l.local_addr()?.port())).collect()
}

/// Lays out a new cell in `dir`.
pub fn init(dir: &Path, o: &InitOptions) -> Result<Cell> {
    if !VERSIONS.contains(&o.version.as_str()) {
        bail!("--version must be one of {}", VERSIONS.join(", "));
    }
    let lc25 = o.version == "lc25";
    let apps_deployed: Vec<String> = match &o.apps {
        Some(list) => {
            let found =
                apps::validate_ids("--apps", list).map_err(|e| anyhow::anyhow!(e.one_line()))?;
            if let Some(a) = found.iter().find(|a| lc25 && !a.in_lc25) {
                bail!(
                    "--apps: {} is not a remote application of Lotus Connections 2.5",
                    a.id
                );
            }
            APPS.iter()
                .filter(|a| found.contains(a))
                .map(|a| a.id.to_string())
                .collect()
        }
        None => APPS
            .iter()
            .filter(|a| !lc25 || a.in_lc25)
            .map(|a| a.id.to_string())
            .collect(),
    };
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let dir = std::path::absolute(dir)?;
    if dir.join("cell.json").exists() {
        bail!("{} already holds a cell (cell.json)", dir.display());
    }
    let profile = dir.join("profiles").join("Dmgr01");
    let bin = profile.join("bin");
    let lc_sim = match &o.lc_sim {
        Some(p) => std::path::absolute(p)?,
        None => std::env::current_exe().context("cannot tell where lc-sim is")?,
    };
    let mut rng = Rng::new(o.seed.wrapping_mul(31).wrapping_add(7));
    let mut ihs = Vec::new();
    for (k, port) in free_ports(o.ihs)?.into_iter().enumerate() {
        let name = format!("ihs{}", k + 1);
        ihs.push(crate::ihs::lay_out(
            &dir.join("ihs").join(&name),
            &name,
            port,
        )?);
    }
    let config = Config {
        cell_name: "ConnectionsCell01".into(),
        version: o.version.clone(),
        admin_user: "wasadmin".into(),
        admin_password: format!("sim-{:012x}", rng.next_u64() & 0xFFFF_FFFF_FFFF),
        wsadmin_path: bin.join("wsadmin.sh"),
        profile_bin: bin.clone(),
        dmgr: Dmgr {
            host: "localhost".into(),
            port: o.dmgr_port,
            node: "CellManager01".into(),
            server: "dmgr".into(),
        },
        servers: servers(&apps_deployed, &o.multi_server),
        apps: apps_deployed,
        ihs,
        seed: o.seed,
        lc_sim,
        dialect: o.dialect,
        admin_scripts_dir: o.dialect.scripts_dir(&dir, &profile),
    };
    std::fs::create_dir_all(profile.join("properties"))?;
    std::fs::create_dir_all(profile.join("logs"))?;
    std::fs::write(
        profile.join("properties").join("soap.client.props"),
        "# SOAP client properties of the lc-sim simulated Deployment Manager profile.\n\
         com.ibm.SOAP.securityEnabled=true\n\
         com.ibm.SOAP.loginUserid=\n\
         com.ibm.SOAP.loginPassword=\n\
         com.ibm.SOAP.requestTimeout=180\n",
    )?;
    let cell = Cell {
        dir: dir.clone(),
        config,
    };
    let world = world(o.seed, o.communities, &cell.config.apps, o.dialect);
    cell.create_state(&world, &Meta::default())?;
    crate::scripts::ensure(&cell)?;
    let json = serde_json::to_string_pretty(&cell.config)?;
    crate::util::write_atomic(&dir.join("cell.json"), format!("{json}\n").as_bytes())?;
    Ok(cell)
}
