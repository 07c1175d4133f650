//! `lc-sim`: the command line of the simulated Connections cell: lay out a cell, run its wsadmin,
//! serve its admin calls, damage it like a restore to an older backup, tell the ground truth and
//! the counters, inject faults, and write large benchmark files.

use std::io::BufWriter;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context as _, Result};
use clap::{Parser, Subcommand};
use lc_sim::dialect::Dialect;
use lc_sim::model::{CallFault, Cell};
use lc_sim::print_lines;

#[derive(Parser)]
#[command(
    name = "lc-sim",
    about = "A simulated Connections cell for tests, the demo and drills"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Lay out a new cell in DIR.
    Init {
        dir: PathBuf,
        #[arg(long, default_value_t = 200)]
        communities: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Remote applications deployed (comma-separated ids; default: all of the version).
        #[arg(long, value_delimiter = ',')]
        apps: Option<Vec<String>>,
        /// lc25 (Lotus Connections 2.5), ic5 (IBM Connections 5), hcl8 (HCL Connections 8).
        #[arg(long, default_value = "hcl8")]
        version: String,
        /// IBM HTTP Server stand-ins to lay out (DIR/ihs/ihsN, free loopback ports).
        #[arg(long, default_value_t = 0)]
        ihs: usize,
        /// Applications whose feature runs on two servers (comma-separated; "none" for none).
        #[arg(long, value_delimiter = ',', default_value = "Files,Wiki")]
        multi_server: Vec<String>,
        #[arg(long, default_value_t = 8879)]
        dmgr_port: u16,
        /// The layouts the cell speaks where the documentation fixes none: where the admin
        /// scripts live, export XML, report HTML, printed maps, extra console lines.
        #[arg(long, value_enum, default_value_t = Dialect::Lcsim)]
        dialect: Dialect,
    },
    /// The wsadmin client of a cell (what DIR/profiles/Dmgr01/bin/wsadmin.sh runs).
    Wsadmin {
        #[arg(long)]
        cell: PathBuf,
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Carry out one admin call (arguments as JSON on stdin); used by the admin scripts.
    Rpc {
        cell: PathBuf,
        object: String,
        method: String,
    },
    /// Change the state the way restoring databases to an older backup does.
    Damage {
        dir: PathBuf,
        /// `communities` and/or application ids.
        #[arg(long, num_args = 1.., required = true)]
        restore: Vec<String>,
        #[arg(long, default_value_t = 7)]
        backup_age: u32,
        /// Communities to move to Trash (they show as private: false visibility differences).
        #[arg(long, default_value_t = 0)]
        trash: usize,
    },
    /// Print the ground truth (JSON): differences, orphans, communities to contact, queued events.
    Truth { dir: PathBuf },
    /// Print the counters and states (JSON): scheduler, queue, launches, calls, resyncs, faults.
    Status { dir: PathBuf },
    /// Set or clear faults.
    Fault {
        dir: PathBuf,
        /// Seconds each wsadmin launch waits before connecting.
        #[arg(long)]
        startup_delay: Option<f64>,
        /// The Deployment Manager is down: wsadmin cannot connect (WASX7023E).
        #[arg(long)]
        refuse: bool,
        /// The next N launches connect, every later one is refused as with --refuse (the
        /// Deployment Manager goes down part way through a run).
        #[arg(long, value_name = "N")]
        refuse_after: Option<u64>,
        /// Every login is refused (WASX7246E), even with the right password.
        #[arg(long)]
        bad_password: bool,
        /// Calls of METHOD (`method` or `Object.method`) hang until killed.
        #[arg(long)]
        hang: Option<String>,
        /// Calls of METHOD raise (WASX7017E, exit 105).
        #[arg(long)]
        fail: Option<String>,
        /// Only the Nth matching call fails (any method when --fail is not given).
        #[arg(long)]
        fail_nth: Option<u64>,
        /// Clear every fault first.
        #[arg(long)]
        clear: bool,
        /// Put TASK in the middle of a run (status RUNNING) unless it is suspended.
        #[arg(long)]
        running: Option<String>,
    },
    /// Run APP's server on another node whose disk is the folder DISK: an export of APP to the
    /// path P is written at DISK/P, where the Deployment Manager's host does not see it (as a
    /// server on another machine writes to its own disk). An empty DISK puts APP back.
    NodeDisk {
        dir: PathBuf,
        app: String,
        disk: String,
    },
    /// Run the replay task now (unless it is suspended), as when it fires.
    Tick { dir: PathBuf },
    /// Write a large export file (streamed) for benchmarks.
    GenExport {
        file: PathBuf,
        #[arg(long)]
        app: String,
        #[arg(long)]
        resources: u64,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// The export layout.
        #[arg(long, value_enum, default_value_t = Dialect::Lcsim)]
        dialect: Dialect,
    },
    /// Write a large report pair in DIR (streamed) for benchmarks.
    GenReport {
        dir: PathBuf,
        #[arg(long)]
        app: String,
        #[arg(long)]
        rows: u64,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// The report layout (and file names).
        #[arg(long, value_enum, default_value_t = Dialect::Lcsim)]
        dialect: Dialect,
    },
    /// IBM HTTP Server stand-ins.
    #[command(subcommand)]
    Ihs(lc_sim::ihs::IhsCommand),
    /// The Communities Atom API of a cell (the owners of its communities).
    #[command(subcommand)]
    Atom(lc_sim::atom::AtomCommand),
    /// Play an owner's toggle (Restricted, save, back, save) for some communities.
    Toggle(lc_sim::toggle::ToggleArgs),
}

fn json_out(v: &impl serde::Serialize) -> Result<()> {
    print_lines(&[serde_json::to_string_pretty(v)?]);
    Ok(())
}

fn run(command: Command) -> Result<ExitCode> {
    match command {
        Command::Init {
            dir,
            communities,
            seed,
            apps,
            version,
            ihs,
            multi_server,
            dmgr_port,
            dialect,
        } => {
            let multi_server = multi_server.into_iter().filter(|m| m != "none").collect();
            let o = lc_sim::init::InitOptions {
                communities,
                seed,
                apps,
                version,
                ihs,
                multi_server,
                dmgr_port,
                lc_sim: None,
                dialect,
            };
            let cell = lc_sim::init::init(&dir, &o)?;
            json_out(&cell.config)?;
        }
        Command::Wsadmin { cell, args } => {
            let e = lc_sim::wsadmin::main(&cell, &args)?;
            print_lines(&e.lines);
            return Ok(ExitCode::from(e.code as u8));
        }
        Command::Rpc {
            cell,
            object,
            method,
        } => {
            print_lines(&lc_sim::admin::rpc_main(&cell, &object, &method)?);
        }
        Command::Damage {
            dir,
            restore,
            backup_age,
            trash,
        } => {
            let cell = Cell::open(&dir)?;
            let o = lc_sim::damage::DamageOptions {
                restore,
                backup_age_days: backup_age,
                trash,
            };
            json_out(&lc_sim::damage::damage(&cell, &o)?)?;
        }
        Command::Truth { dir } => {
            let cell = Cell::open(&dir)?;
            let (world, _) = cell.snapshot()?;
            json_out(&lc_sim::truth::compute(&world, &cell.config.apps))?;
        }
        Command::Status { dir } => {
            let cell = Cell::open(&dir)?;
            json_out(&status(&cell)?)?;
        }
        Command::Fault {
            dir,
            startup_delay,
            refuse,
            refuse_after,
            bad_password,
            hang,
            fail,
            fail_nth,
            clear,
            running,
        } => {
            let cell = Cell::open(&dir)?;
            if let Some(task) = running {
                let found = cell.with_state(|tx| {
                    let t = tx.world.task_mut(&task)?;
                    if t.status != "SUSPENDED" {
                        t.status = "RUNNING".into();
                    }
                    tx.world_changed = true;
                    Some(())
                })?;
                if found.is_none() {
                    bail!("--running: no task {task:?}");
                }
            }
            let faults = cell.with_meta(|m| {
                let f = &mut m.faults;
                if clear {
                    *f = Default::default();
                }
                if let Some(s) = startup_delay {
                    f.startup_delay_secs = s;
                }
                f.refuse |= refuse;
                if let Some(n) = refuse_after {
                    f.refuse_from_launch = Some(m.launches + n + 1);
                }
                f.bad_password |= bad_password;
                if let Some(h) = hang {
                    f.hang = Some(CallFault {
                        method: Some(h),
                        nth: None,
                        seen: 0,
                    });
                }
                if fail.is_some() || fail_nth.is_some() {
                    f.fail = Some(CallFault {
                        method: fail,
                        nth: fail_nth,
                        seen: 0,
                    });
                }
                f.clone()
            })?;
            json_out(&faults)?;
        }
        Command::NodeDisk { dir, app, disk } => {
            let cell = Cell::open(&dir)?;
            if !cell.has_app(&app) {
                bail!("node-disk: {app:?} is not an application of this cell");
            }
            if !disk.is_empty() && !disk.starts_with('/') {
                bail!("node-disk: the disk {disk:?} must be an absolute folder");
            }
            let disks = cell.with_meta(|m| {
                if disk.is_empty() {
                    m.node_disks.remove(&app);
                } else {
                    m.node_disks
                        .insert(app.clone(), disk.trim_end_matches('/').to_string());
                }
                m.node_disks.clone()
            })?;
            json_out(&disks)?;
        }
        Command::Tick { dir } => {
            let cell = Cell::open(&dir)?;
            let n = cell
                .with_state(|tx| lc_sim::admin::scheduler_tick(tx, lc_sim::util::now_ms(), true))?;
            json_out(&serde_json::json!({ "replayed": n }))?;
        }
        Command::GenExport {
            file,
            app,
            resources,
            seed,
            dialect,
        } => {
            let info = check_app(&app)?;
            let f = std::fs::File::create(&file)
                .with_context(|| format!("cannot create {}", file.display()))?;
            let n = lc_sim::files::write_export(
                BufWriter::with_capacity(1 << 20, f),
                dialect,
                info,
                bench::records(seed, resources, dialect),
            )?;
            json_out(&serde_json::json!({ "path": file, "application": app, "resources": n }))?;
        }
        Command::GenReport {
            dir,
            app,
            rows,
            seed,
            dialect,
        } => {
            let info = check_app(&app)?;
            let (d, o) = bench::reports(&dir, info, rows, seed, dialect)?;
            json_out(&serde_json::json!({
                "differences": d.0,
                "orphans": o.0,
                "files": [d.1, o.1],
            }))?;
        }
        Command::Ihs(cmd) => lc_sim::ihs::cli(cmd)?,
        Command::Atom(cmd) => lc_sim::atom::cli(cmd)?,
        Command::Toggle(a) => lc_sim::toggle::cli(a)?,
    }
    Ok(ExitCode::SUCCESS)
}

fn check_app(app: &str) -> Result<&'static lc_core::apps::App> {
    lc_core::apps::by_id(app).with_context(|| {
        format!(
            "--app: unknown application id {app:?}; known: {}",
            lc_core::apps::ids()
        )
    })
}

fn status(cell: &Cell) -> Result<serde_json::Value> {
    use std::collections::BTreeMap;
    let (world, meta) = cell.snapshot()?;
    let scheduler: BTreeMap<&str, &str> = world
        .tasks
        .iter()
        .map(|t| (t.name.as_str(), t.status.as_str()))
        .collect();
    let mut queue: BTreeMap<&str, u64> = cell.config.apps.iter().map(|a| (a.as_str(), 0)).collect();
    for e in &world.queue {
        *queue.entry(e.app.as_str()).or_default() += 1;
    }
    let mut resources: BTreeMap<&str, u64> = BTreeMap::new();
    for r in &world.resources {
        *resources.entry(r.app.as_str()).or_default() += 1;
    }
    Ok(serde_json::json!({
        "version": cell.config.version,
        "scheduler": scheduler,
        "queue": queue,
        "queue_total": world.queue.len(),
        "launches": meta.launches,
        "calls": meta.calls,
        "calls_total": meta.calls.values().sum::<u64>(),
        "resync_calls": meta.resync_calls,
        "replayed": { "healthy": meta.replayed_healthy, "stale": meta.replayed_stale },
        "communities": world.communities.len(),
        "resources": resources,
        "faults": meta.faults,
        "node_disks": meta.node_disks,
    }))
}

/// Generated benchmark data, produced lazily so that size does not matter.
mod bench {
    use std::io::BufWriter;
    use std::path::{Path, PathBuf};

    use anyhow::Result;
    use lc_core::apps::App;
    use lc_sim::dialect::{Dialect, Kind};
    use lc_sim::files::{self, Record, ReportWriter, Row};
    use lc_sim::init::{MODERATIONS, THEMES, VISIBILITIES};
    use lc_sim::model::Copy;
    use lc_sim::truth::{Difference, Orphan};
    use lc_sim::util::Rng;

    pub fn records(seed: u64, n: u64, dialect: Dialect) -> impl Iterator<Item = Record> {
        let mut rng = Rng::new(seed);
        (0..n).map(move |i| {
            let id = rng.uuid();
            let community_uuid = rng.uuid();
            let name = dialect.community_name(lc_sim::init::community_name(&mut rng));
            Record {
                id,
                community_uuid,
                copy: Copy {
                    name: format!("{name} community {i}"),
                    visibility: rng.pick(VISIBILITIES).to_string(),
                    moderation: rng.pick(MODERATIONS).to_string(),
                    theme: rng.pick(THEMES).to_string(),
                },
            }
        })
    }

    /// Writes both reports of `app`; returns (rows, path) of each.
    pub fn reports(
        dir: &Path,
        app: &'static App,
        rows: u64,
        seed: u64,
        dialect: Dialect,
    ) -> Result<((u64, PathBuf), (u64, PathBuf))> {
        std::fs::create_dir_all(dir)?;
        let mut rng = Rng::new(seed);
        let open = |kind: Kind| -> Result<(ReportWriter<BufWriter<std::fs::File>>, PathBuf)> {
            let path = dir.join(files::report_file(dialect, kind, app));
            let f = std::fs::File::create(&path)?;
            let w = ReportWriter::new(BufWriter::with_capacity(1 << 20, f), dialect, kind, app)?;
            Ok((w, path))
        };
        let (mut w, dpath) = open(Kind::Differences)?;
        for i in 0..rows {
            let field = rng.pick(lc_core::formats::FIELDS).to_string();
            let d = Difference {
                application: app.id.to_string(),
                community_name: format!("Community {i}"),
                community_uuid: rng.uuid(),
                field,
                communities_value: rng.pick(VISIBILITIES).to_string(),
                application_value: rng.pick(VISIBILITIES).to_string(),
            };
            w.row(Row::Difference(&d))?;
        }
        let d = w.finish()?;
        let (mut w, opath) = open(Kind::Orphans)?;
        for _ in 0..rows {
            let community_exists = rng.percent(50);
            let o = Orphan {
                application: app.id.to_string(),
                object_id: rng.uuid(),
                old_community_uuid: rng.uuid(),
                community_exists,
            };
            w.row(Row::Orphan(&o))?;
        }
        let o = w.finish()?;
        Ok(((d, dpath), (o, opath)))
    }
}

// A CLI reports its failures on stderr by nature.
#[allow(clippy::print_stderr)]
fn main() -> ExitCode {
    match run(Cli::parse().command) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("lc-sim: {e:#}");
            ExitCode::FAILURE
        }
    }
}
