//! IBM HTTP Server stand-ins: a real Apache httpd (Debian's `/usr/sbin/apache2`) per instance,
//! with an IHS-like layout and conf.
//!
//! [`lay_out`] writes one instance into ROOT: `conf/httpd.conf` (from the template
//! `templates/ihs/httpd.conf`: IBM lines kept inside sections httpd skips, a commented
//! `<VirtualHost *:443>`, `Listen 127.0.0.1:PORT`), `bin/apachectl` (IHS's interface over
//! apache2), `htdocs/` (a small site: `index.html` and `assets/site.css`), `logs/` and
//! `ihs.json` (the [`IhsInstance`]). [`start`] and [`stop`] drive it through its apachectl and wait
//! until the port answers / the process is gone.
//!
//! Clients from any loopback address (127.0.0.2 …) reach it: on Linux the whole 127.0.0.0/8 is
//! local, so a client binds its source address and connects to 127.0.0.1.

use anyhow::{anyhow, bail, Context as _};
use std::io::Write as _;
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// Debian's Apache httpd binary.
pub const HTTPD: &str = "/usr/sbin/apache2";
/// Where Debian keeps its modules.
pub const MODULES_DIR: &str = "/usr/lib/apache2/modules";
/// The conf template: `@ROOT@`, `@PORT@`, `@NAME@`, `@MODULES@`, `@ACCESS_COMPAT@`.
pub const CONF_TEMPLATE: &str = include_str!("../templates/ihs/httpd.conf");
/// The apachectl template: `@ROOT@`, `@NAME@`, `@HTTPD@`.
pub const APACHECTL_TEMPLATE: &str = include_str!("../templates/ihs/apachectl");
/// The application folders of the stand-in site (`/communities/`, …).
pub const APP_FOLDERS: &[&str] = &[
    "homepage",
    "communities",
    "files",
    "activities",
    "blogs",
    "forums",
    "wikis",
];
/// The file in an instance's ROOT that records it.
pub const INSTANCE_FILE: &str = "ihs.json";

/// One IHS stand-in, as recorded in `cell.json` under `ihs`.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct IhsInstance {
    pub name: String,
    pub root: PathBuf,
    pub conf_path: PathBuf,
    pub apachectl: PathBuf,
    pub document_root: PathBuf,
    pub port: u16,
}

impl IhsInstance {
    /// `logs/httpd.pid`, as the conf says.
    pub fn pid_file(&self) -> PathBuf {
        self.root.join("logs/httpd.pid")
    }

    /// `logs/error_log`.
    pub fn error_log(&self) -> PathBuf {
        self.root.join("logs/error_log")
    }

    /// The pid of the running httpd, if its pid file names a live process.
    pub fn pid(&self) -> Option<u32> {
        let text = std::fs::read_to_string(self.pid_file()).ok()?;
        let pid: u32 = text.trim().parse().ok()?;
        alive(pid).then_some(pid)
    }

    /// Whether something answers on `127.0.0.1:port`.
    pub fn answers(&self) -> bool {
        let addr = SocketAddr::from(([127, 0, 0, 1], self.port));
        TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok()
    }
}

/// How an instance is laid out beyond name and port.
#[derive(Debug, Clone)]
pub struct IhsOptions {
    /// Load `mod_access_compat` (as IHS 9's default conf does). Without it, `Order`/`Allow`/`Deny`
    /// are unknown directives: Apache 2.4 as configured by sites that dropped the compat module.
    pub access_compat: bool,
}

impl Default for IhsOptions {
    fn default() -> Self {
        IhsOptions {
            access_compat: true,
        }
    }
}

/// Lays out one instance in `root` (created if missing) listening on `127.0.0.1:port`.
pub fn lay_out(root: &Path, name: &str, port: u16) -> anyhow::Result<IhsInstance> {
    lay_out_with(root, name, port, &IhsOptions::default())
}

/// [`lay_out`] with options.
pub fn lay_out_with(
    root: &Path,
    name: &str,
    port: u16,
    options: &IhsOptions,
) -> anyhow::Result<IhsInstance> {
    if port == 0 {
        bail!("port must not be 0");
    }
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    {
        bail!("instance name {name:?}: use letters, digits, '-', '_', '.'");
    }
    std::fs::create_dir_all(root).with_context(|| format!("creating {}", root.display()))?;
    let root = root
        .canonicalize()
        .with_context(|| format!("resolving {}", root.display()))?;
    let root_str = root.to_string_lossy().into_owned();
    if root_str
        .chars()
        .any(|c| c.is_whitespace() || "\"'\\$`".contains(c))
    {
        bail!("{root_str}: the instance folder must not contain spaces, quotes, '\\', '$' or '`'");
    }
    check_searchable(&root)?;

    for dir in ["conf", "bin", "logs", "htdocs/assets", "modules"] {
        std::fs::create_dir_all(root.join(dir))?;
    }
    let access_compat = if options.access_compat {
        format!("LoadModule access_compat_module {MODULES_DIR}/mod_access_compat.so")
    } else {
        "# (mod_access_compat is not loaded: Order/Allow/Deny are unknown here)".to_string()
    };
    let conf = render_conf(&root_str, name, port, &access_compat);
    let conf_path = root.join("conf/httpd.conf");
    write(&conf_path, conf.as_bytes(), 0o644)?;
    write(&root.join("conf/mime.types"), MIME_TYPES.as_bytes(), 0o644)?;

    let ctl = APACHECTL_TEMPLATE
        .replace("@ROOT@", &root_str)
        .replace("@NAME@", name)
        .replace("@HTTPD@", HTTPD);
    let apachectl = root.join("bin/apachectl");
    write(&apachectl, ctl.as_bytes(), 0o755)?;

    let document_root = root.join("htdocs");
    write(
        &document_root.join("index.html"),
        index_html(name).as_bytes(),
        0o644,
    )?;
    write(
        &document_root.join("assets/site.css"),
        SITE_CSS.as_bytes(),
        0o644,
    )?;
    // The applications' entry paths answer, as a working Connections site's do (a trailing-slash
    // redirect, then the page): what the checks before reopening ask for.
    for app in APP_FOLDERS {
        std::fs::create_dir_all(document_root.join(app))?;
        write(
            &document_root.join(app).join("index.html"),
            format!("<!DOCTYPE html>\n<title>{app}</title>\n<h1>Connections {app} is up</h1>\n")
                .as_bytes(),
            0o644,
        )?;
        set_mode(&document_root.join(app), 0o755)?;
    }
    for dir in [
        &root,
        &root.join("conf"),
        &root.join("bin"),
        &document_root,
        &document_root.join("assets"),
    ] {
        set_mode(dir, 0o755)?;
    }

    let instance = IhsInstance {
        name: name.to_string(),
        root: root.clone(),
        conf_path,
        apachectl,
        document_root,
        port,
    };
    let json = serde_json::to_string_pretty(&instance)?;
    write(
        &root.join(INSTANCE_FILE),
        format!("{json}\n").as_bytes(),
        0o644,
    )?;
    Ok(instance)
}

/// The conf of an instance, from [`CONF_TEMPLATE`].
pub fn render_conf(root: &str, name: &str, port: u16, access_compat_line: &str) -> String {
    CONF_TEMPLATE
        .replace("@ACCESS_COMPAT@", access_compat_line)
        .replace("@ROOT@", root)
        .replace("@PORT@", &port.to_string())
        .replace("@NAME@", name)
        .replace("@MODULES@", MODULES_DIR)
}

/// `conf/mime.types`: the few types the site serves.
pub const MIME_TYPES: &str = "# MIME types of the IHS stand-in\ntext/html\t\t\t\thtml htm\ntext/css\t\t\t\tcss\nimage/png\t\t\t\tpng\nimage/svg+xml\t\t\t\tsvg\napplication/javascript\t\t\tjs\n";

/// The body of the normal site's front page.
pub fn index_html(name: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>Connections</title>\n<link rel=\"stylesheet\" href=\"/assets/site.css\">\n</head>\n<body>\n<h1>Connections is up</h1>\n<p>Served by the IHS stand-in {name}.</p>\n</body>\n</html>\n"
    )
}

/// The site's stylesheet, under `/assets/`.
pub const SITE_CSS: &str = "/* Connections stand-in site */\nbody { font-family: sans-serif; margin: 2em; }\nh1 { color: #1d5b8f; }\n";

/// The instances recorded in `dir`: a cell folder's `cell.json` (`"ihs": […]`) or an instance
/// root's `ihs.json`.
pub fn instances_in(dir: &Path) -> anyhow::Result<Vec<IhsInstance>> {
    let cell = dir.join("cell.json");
    if cell.is_file() {
        let value: serde_json::Value = serde_json::from_slice(&std::fs::read(&cell)?)
            .with_context(|| format!("reading {}", cell.display()))?;
        let list = value
            .get("ihs")
            .cloned()
            .unwrap_or(serde_json::Value::Array(vec![]));
        return serde_json::from_value(list)
            .with_context(|| format!("reading the ihs list of {}", cell.display()));
    }
    let one = dir.join(INSTANCE_FILE);
    if one.is_file() {
        let inst: IhsInstance = serde_json::from_slice(&std::fs::read(&one)?)
            .with_context(|| format!("reading {}", one.display()))?;
        return Ok(vec![inst]);
    }
    bail!(
        "{}: neither a cell folder (cell.json) nor an IHS stand-in ({INSTANCE_FILE})",
        dir.display()
    )
}

/// Starts an instance (`apachectl -k start`) and waits until its port answers.
pub fn start(inst: &IhsInstance, timeout: Duration) -> anyhow::Result<()> {
    if inst.pid().is_some() && inst.answers() {
        return Ok(());
    }
    let out = Command::new(&inst.apachectl)
        .args(["-k", "start"])
        .output()
        .with_context(|| format!("running {}", inst.apachectl.display()))?;
    if !out.status.success() {
        bail!(
            "{} -k start failed ({}): {}",
            inst.apachectl.display(),
            out.status,
            tail(&format!(
                "{}{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr),
                std::fs::read_to_string(inst.error_log()).unwrap_or_default()
            ))
        );
    }
    let deadline = Instant::now() + timeout;
    loop {
        if inst.pid().is_some() && inst.answers() {
            return Ok(());
        }
        if Instant::now() > deadline {
            let log = std::fs::read_to_string(inst.error_log()).unwrap_or_default();
            return Err(anyhow!(
                "IHS stand-in {} did not answer on 127.0.0.1:{} within {:?}: {}",
                inst.name,
                inst.port,
                timeout,
                tail(&log)
            ));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Stops an instance (`apachectl -k stop`) and waits until its process is gone.
pub fn stop(inst: &IhsInstance, timeout: Duration) -> anyhow::Result<()> {
    let Some(pid) = inst.pid() else {
        return Ok(());
    };
    // apachectl parses the conf before it signals: with a broken conf (a test may leave one)
    // it cannot stop the server, so fall back to SIGTERM, which is what `-k stop` sends.
    let stopped = Command::new(&inst.apachectl)
        .args(["-k", "stop"])
        .output()
        .is_ok_and(|out| out.status.success());
    if !stopped {
        let status = Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .context("running kill")?;
        if !status.success() {
            bail!("could not stop IHS stand-in {} (pid {pid})", inst.name);
        }
    }
    let deadline = Instant::now() + timeout;
    while alive(pid) {
        if Instant::now() > deadline {
            bail!(
                "IHS stand-in {} (pid {pid}) still running after {:?}",
                inst.name,
                timeout
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(())
}

/// Whether `pid` is a live process (a zombie counts as gone).
fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state != "Z" && state != "X"),
        Err(_) => false,
    }
}

fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(3)..].join("; ")
}

/// As root, httpd's children run as www-data: every folder above ROOT must let others through.
fn check_searchable(root: &Path) -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let euid = std::fs::metadata("/proc/self")
            .map(|m| m.uid())
            .unwrap_or(1);
        if euid != 0 {
            return Ok(());
        }
        for dir in root.ancestors().skip(1) {
            let mode = std::fs::metadata(dir)?.permissions().mode();
            if mode & 0o001 == 0 {
                bail!(
                    "{} (mode {:o}) is not searchable by others: httpd's children (User www-data) could not read {}/htdocs; lay the instance out under a folder others may enter",
                    dir.display(),
                    mode & 0o7777,
                    root.display()
                );
            }
        }
    }
    Ok(())
}

fn write(path: &Path, bytes: &[u8], mode: u32) -> anyhow::Result<()> {
    std::fs::write(path, bytes).with_context(|| format!("writing {}", path.display()))?;
    set_mode(path, mode)
}

fn set_mode(path: &Path, mode: u32) -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
            .with_context(|| format!("setting the mode of {}", path.display()))?;
    }
    let _ = (path, mode);
    Ok(())
}

/// `lc-sim ihs …`
#[derive(Debug, clap::Subcommand)]
pub enum IhsCommand {
    /// Lay out one IHS stand-in in ROOT and print its JSON.
    New {
        root: PathBuf,
        #[arg(long)]
        name: String,
        #[arg(long)]
        port: u16,
        /// Leave mod_access_compat out (Apache 2.4 without Order/Allow/Deny).
        #[arg(long)]
        no_access_compat: bool,
    },
    /// Start the stand-ins of a cell folder, or the one in an instance ROOT; wait until they answer.
    Start {
        dir: PathBuf,
        /// Seconds to wait for each to answer.
        #[arg(long, default_value_t = 20)]
        timeout: u64,
    },
    /// Stop the stand-ins of a cell folder, or the one in an instance ROOT; wait until they are gone.
    Stop {
        dir: PathBuf,
        #[arg(long, default_value_t = 20)]
        timeout: u64,
    },
}

pub fn cli(cmd: IhsCommand) -> anyhow::Result<()> {
    match cmd {
        IhsCommand::New {
            root,
            name,
            port,
            no_access_compat,
        } => {
            let options = IhsOptions {
                access_compat: !no_access_compat,
            };
            let inst = lay_out_with(&root, &name, port, &options)?;
            let mut out = std::io::stdout().lock();
            writeln!(out, "{}", serde_json::to_string_pretty(&inst)?)?;
            Ok(())
        }
        IhsCommand::Start { dir, timeout } => {
            for inst in instances_in(&dir)? {
                start(&inst, Duration::from_secs(timeout))?;
            }
            Ok(())
        }
        IhsCommand::Stop { dir, timeout } => {
            for inst in instances_in(&dir)? {
                stop(&inst, Duration::from_secs(timeout))?;
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn laid_out_conf_passes_httpd_check_with_and_without_access_compat() {
        if !Path::new(HTTPD).exists() {
            return; // Apache httpd is installed by `make deps`; nothing to check against here.
        }
        let dir = tempfile::tempdir().unwrap();
        set_mode(dir.path(), 0o755).unwrap();
        for (name, compat) in [("with", true), ("without", false)] {
            let options = IhsOptions {
                access_compat: compat,
            };
            let inst = lay_out_with(&dir.path().join(name), name, 18_080, &options).unwrap();
            let out = Command::new(&inst.apachectl).arg("-t").output().unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let conf = std::fs::read_to_string(&inst.conf_path).unwrap();
            assert_eq!(conf.contains("LoadModule access_compat_module"), compat);
            assert_eq!(instances_in(&inst.root).unwrap()[0].port, 18_080);
            assert!(inst.document_root.join("assets/site.css").is_file());
        }
    }

    #[test]
    fn conf_has_the_ihs_lines_and_the_port() {
        let conf = render_conf(
            "/srv/ihs1",
            "ihs1",
            18080,
            "LoadModule access_compat_module x",
        );
        assert!(conf.contains("Listen 127.0.0.1:18080"));
        assert!(conf.contains("ServerRoot \"/srv/ihs1\""));
        assert!(conf.contains("WebSpherePluginConfig"));
        assert!(conf.contains("<IfModule ibm_ssl_module>"));
        for placeholder in ["@ROOT@", "@PORT@", "@NAME@", "@MODULES@", "@ACCESS_COMPAT@"] {
            assert!(
                !conf.contains(placeholder),
                "{placeholder} left in the conf"
            );
        }
    }
}
