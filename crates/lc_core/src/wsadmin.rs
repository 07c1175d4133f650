//! The one way the product talks to wsadmin.
//!
//! A module builds a [`Script`] (fixed Jython text that keeps to Jython 2.1, plus the user's values
//! as validated `sys.argv` arguments), and [`run`] starts `wsadmin.sh -lang jython -f <script>
//! <args…>` from the profile's `bin` folder, once. Credentials go in a 0600 properties file passed
//! with `-p` and removed afterwards, never on the command line. The script reports back through
//! marker lines (`@@lcr@@<TAB>tag<TAB>field…`) that [`run`] picks out of banners and noise; a
//! failure (cannot connect, credentials refused, a call that raised, a timeout, a missing admin
//! script, a bad service answer) becomes one line that says what to do.

use crate::error::{fold_lines, Error, ProcessError, Result};
use crate::protocol::{Elem, Opt};
use crate::secret::Secret;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

pub mod module;

/// The default `wsadmin_path` (Linux, profile `Dmgr01`).
pub const DEFAULT_WSADMIN: &str = "/opt/IBM/WebSphere/AppServer/profiles/Dmgr01/bin/wsadmin.sh";
/// The prefix of the lines a generated script prints for its caller.
pub const MARKER: &str = "@@lcr@@";
/// The first script argument: the scripts find their own arguments after it in `sys.argv`,
/// whether or not the wsadmin in use puts the script's name first.
const ARGV_SENTINEL: &str = "--lcr-args--";

/// The wsadmin options shared by every lc_* module (design.md §3).
#[derive(Debug, Clone, serde::Deserialize)]
pub struct WsadminArgs {
    pub wsadmin_path: PathBuf,
    pub host: Option<String>,
    pub port: Option<u16>,
    pub conntype: Option<String>,
    pub user: Option<String>,
    pub password: Option<Secret>,
    pub service_index: Option<u32>,
    pub timeout: Option<u64>,
    #[serde(default)]
    pub java_options: Vec<String>,
    /// Where the Connections admin scripts are when neither the profile's `bin/` nor its
    /// `config/bin_lc_admin/` holds them.
    pub admin_scripts_dir: Option<String>,
}

impl WsadminArgs {
    /// The options with their "not set" spellings folded: an empty host or conntype, a port,
    /// service index or timeout of 0 (so that a playbook can pass a variable left at its default).
    pub fn normalized(&self) -> WsadminArgs {
        let mut a = self.clone();
        a.host = a.host.filter(|h| !h.is_empty());
        a.conntype = a.conntype.filter(|c| !c.is_empty());
        a.user = a.user.filter(|u| !u.is_empty());
        a.password = a.password.filter(|p| !p.is_empty());
        a.port = a.port.filter(|p| *p != 0);
        a.service_index = a.service_index.filter(|i| *i != 0);
        a.timeout = a.timeout.filter(|t| *t != 0);
        a.admin_scripts_dir = a.admin_scripts_dir.filter(|d| !d.is_empty());
        a
    }

    /// The folder wsadmin is started from: the profile's `bin`.
    pub fn bin_dir(&self) -> PathBuf {
        self.wsadmin_path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("/"))
            .to_path_buf()
    }

    /// Where the admin scripts are looked for, in order (admin-surface.md §3): the profile's
    /// `bin/`, its `config/bin_lc_admin/` (where Connections installs them), then
    /// `admin_scripts_dir` when given. The generated scripts search these same folders
    /// (`lcr_try_load`), and [`WsadminArgs::find_admin_script`] does it on this host.
    pub fn script_dirs(&self) -> Vec<String> {
        let bin = self.bin_dir();
        let mut dirs = vec![bin.display().to_string()];
        if let Some(profile) = bin.parent() {
            dirs.push(
                profile
                    .join("config")
                    .join("bin_lc_admin")
                    .display()
                    .to_string(),
            );
        }
        if let Some(d) = self.admin_scripts_dir.as_deref().filter(|d| !d.is_empty()) {
            let d = d.trim_end_matches('/');
            dirs.push(if d.is_empty() {
                "/".into()
            } else {
                d.to_string()
            });
        }
        dirs
    }

    /// The first of [`WsadminArgs::script_dirs`] that holds the admin script `name`, on this
    /// host (for a check-mode plan; the real run searches on the Deployment Manager).
    pub fn find_admin_script(&self, name: &str) -> Option<PathBuf> {
        self.script_dirs()
            .into_iter()
            .map(|d| Path::new(&d).join(name))
            .find(|p| p.is_file())
    }
}

/// The wsadmin options, to be added to a module's [`crate::ArgSpec`].
pub fn options() -> Vec<Opt> {
    vec![
        Opt::path("wsadmin_path").default(DEFAULT_WSADMIN),
        Opt::str("host"),
        Opt::int("port"),
        Opt::str("conntype").choices(&["SOAP", "RMI", "IPC", "JSR160RMI", "NONE", ""]),
        Opt::str("user"),
        Opt::secret("password"),
        Opt::int("service_index"),
        Opt::int("timeout"),
        Opt::list("java_options", Elem::Str).default(Vec::<String>::new()),
        Opt::path("admin_scripts_dir"),
    ]
}

/// A generated script: the admin scripts to load, the fixed body, and the user's values.
#[derive(Debug, Clone)]
pub struct Script {
    /// Admin scripts to `execfile`, in order (e.g. `communitiesAdmin.py`).
    pub loads: Vec<&'static str>,
    /// The Jython 2.1 body; reads its values from `ARGS` (a list of strings).
    pub body: std::borrow::Cow<'static, str>,
    /// The values the body reads, in order.
    pub args: Vec<String>,
    /// Seconds of SOAP request timeout to ask for (`com.ibm.SOAP.requestTimeout`), for long calls.
    pub request_timeout: Option<u64>,
    /// Rows of values too many for a command line: `DATA`, a list of lists of strings. They go
    /// in a data file the script reads at start (one line per row, fields tab-separated, UTF-8),
    /// not into the script's text: a JVM method holds at most 64 KiB of code, so a literal list of
    /// a thousand rows does not compile ("Module or method too large").
    pub rows: Vec<Vec<String>>,
}

/// The preamble of every generated script: argument access, marker output, admin script loading.
const PRELUDE: &str = include_str!("../jython/prelude.py");

/// Runs once the body is defined: loads the admin scripts and calls `main()`.
const POSTLUDE: &str = include_str!("../jython/postlude.py");

impl Script {
    pub fn new(body: impl Into<std::borrow::Cow<'static, str>>) -> Self {
        Script {
            loads: Vec::new(),
            body: body.into(),
            args: Vec::new(),
            request_timeout: None,
            rows: Vec::new(),
        }
    }

    /// Adds rows of values for `DATA`.
    pub fn rows(mut self, rows: Vec<Vec<String>>) -> Self {
        self.rows = rows;
        self
    }

    pub fn load(mut self, admin_script: &'static str) -> Self {
        if !self.loads.contains(&admin_script) {
            self.loads.push(admin_script);
        }
        self
    }

    pub fn arg(mut self, value: impl Into<String>) -> Self {
        self.args.push(value.into());
        self
    }

    pub fn args<I, S>(mut self, values: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.args.extend(values.into_iter().map(Into::into));
        self
    }

    pub fn request_timeout(mut self, seconds: u64) -> Self {
        self.request_timeout = Some(seconds);
        self
    }

    /// The full Jython text: prelude, loads, body, postlude. `script_dirs` are the folders the
    /// admin scripts are looked for in ([`WsadminArgs::script_dirs`]); `data_file` is where
    /// [`Script::data`] was written, when there are rows.
    pub fn text(
        &self,
        batch_mode: bool,
        script_dirs: &[String],
        data_file: Option<&Path>,
    ) -> String {
        let mut s = String::from(PRELUDE);
        let dirs: Vec<String> = script_dirs.iter().map(|d| jython_literal(d)).collect();
        s.push_str(&format!("\nLCR_SCRIPT_DIRS = [{}]\n", dirs.join(", ")));
        if batch_mode {
            // Connect to the first service instead of asking which (admin-surface.md §3).
            s.push_str("\nbatchMode = 1\n");
        }
        match data_file {
            Some(p) => s.push_str(&format!(
                "\nDATA = lcr_read_data({})\n",
                jython_literal(&p.to_string_lossy())
            )),
            None => s.push_str("\nDATA = []\n"),
        }
        s.push_str("\ndef lcr_loads():\n");
        if self.loads.is_empty() {
            s.push_str("    pass\n");
        }
        for l in &self.loads {
            s.push_str(&format!("    lcr_load(\"{l}\")\n"));
        }
        s.push('\n');
        s.push_str(&self.body);
        s.push_str(POSTLUDE);
        s
    }

    /// The content of the data file: one line per row, fields separated by tabs, UTF-8, with a
    /// backslash, tab, LF and CR written as `\\`, `\t`, `\n`, `\r` (what `lcr_unq` undoes).
    pub fn data(&self) -> String {
        let mut out = String::new();
        for row in &self.rows {
            for (i, cell) in row.iter().enumerate() {
                if i > 0 {
                    out.push('\t');
                }
                for c in cell.chars() {
                    match c {
                        '\\' => out.push_str("\\\\"),
                        '\t' => out.push_str("\\t"),
                        '\n' => out.push_str("\\n"),
                        '\r' => out.push_str("\\r"),
                        c => out.push(c),
                    }
                }
            }
            out.push('\n');
        }
        out
    }
}

/// A Jython 2.1 unicode string literal for any text: quotes, backslashes and every character
/// outside printable ASCII are escaped, so no value can end the literal or the line.
pub fn jython_literal(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 3);
    out.push_str("u\"");
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            ' '..='~' => out.push(c),
            c => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
        }
    }
    out.push('"');
    out
}

/// One marker line: its tag and fields, unescaped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub tag: String,
    pub fields: Vec<String>,
}

impl Record {
    pub fn field(&self, i: usize) -> &str {
        self.fields.get(i).map(String::as_str).unwrap_or("")
    }
}

/// What a successful wsadmin run gave back.
#[derive(Debug, Clone)]
pub struct Output {
    pub records: Vec<Record>,
    /// Everything printed, for the rare parse that needs the plain text.
    pub text: String,
}

impl Output {
    pub fn tagged<'a>(&'a self, tag: &'a str) -> impl Iterator<Item = &'a Record> + 'a {
        self.records.iter().filter(move |r| r.tag == tag)
    }

    /// The plain lines an admin call printed between the script's `begin` and `end` records
    /// labelled `label` (marker lines left out); `None` when no such `begin` was printed. A
    /// section cut short (no `end`) runs to the end of the output.
    pub fn section(&self, label: &str) -> Option<Vec<&str>> {
        let mut lines = Vec::new();
        let mut inside = false;
        let mut found = false;
        for line in self.text.lines() {
            if let Some(r) = parse_records(line).first() {
                if r.field(0) == label && (r.tag == "begin" || r.tag == "end") {
                    inside = r.tag == "begin";
                    found |= inside;
                }
                continue;
            }
            if inside {
                lines.push(line.trim_end_matches('\r'));
            }
        }
        found.then_some(lines)
    }
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('\\') => out.push('\\'),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// Picks the marker lines out of wsadmin's output.
pub fn parse_records(text: &str) -> Vec<Record> {
    text.lines()
        .filter_map(|line| {
            let line = line.trim_end_matches('\r');
            let rest = line.strip_prefix(MARKER)?.strip_prefix('\t')?;
            let mut parts = rest.split('\t');
            let tag = parts.next()?.to_string();
            Some(Record {
                tag,
                fields: parts.map(unescape).collect(),
            })
        })
        .collect()
}

fn re(pattern: &'static str, cell: &'static OnceLock<regex::Regex>) -> &'static regex::Regex {
    cell.get_or_init(|| regex::Regex::new(pattern).expect("valid pattern"))
}

/// The message of the first Java/Jython exception named in the output, without its class path
/// noise: `com.ibm.ws.scripting.ScriptingException: java.lang.IllegalStateException: no such task`
/// gives `java.lang.IllegalStateException: no such task`.
fn exception_message(text: &str) -> Option<String> {
    static EXC: OnceLock<regex::Regex> = OnceLock::new();
    let exc = re(
        r"(?m)((?:[a-z_][\w$]*\.)+[A-Z][\w$]*(?:Exception|Error)|[A-Z]\w*Error|Traceback)\b:?\s*(.*)$",
        &EXC,
    );
    let mut best: Option<String> = None;
    let mut traceback = false;
    for line in text.lines() {
        if line.starts_with(MARKER) {
            continue;
        }
        // The frames of a Jython traceback (indented) echo source lines, not the error.
        if traceback && line.starts_with([' ', '\t']) {
            continue;
        }
        traceback |= line.contains("Traceback (most recent call last)");
        if let Some(c) = exc.captures(line) {
            let class = c.get(1).map_or("", |m| m.as_str());
            if class == "Traceback" {
                continue;
            }
            // wsadmin's wrapper of any Jython error: the error itself follows.
            if class.ends_with("BSFException") {
                continue;
            }
            let mut msg = c.get(2).map_or("", |m| m.as_str()).trim().to_string();
            // Peel wrappers such as ScriptingException: java.lang.X: message.
            while let Some(inner) = exc.captures(&msg) {
                let next = format!(
                    "{}: {}",
                    inner.get(1).map_or("", |m| m.as_str()),
                    inner.get(2).map_or("", |m| m.as_str()).trim()
                );
                if next == msg {
                    break;
                }
                msg = next;
            }
            let candidate = if msg.is_empty() {
                class.to_string()
            } else if exc.is_match(&msg) {
                msg
            } else {
                format!("{class}: {msg}")
            };
            let candidate = candidate.trim_end_matches(['"', ' ', ':']).to_string();
            best = Some(candidate);
            break;
        }
    }
    best
}

/// Turns a failed or odd run into the one-line message an administrator needs.
/// `records` are the marker lines seen; `text` all output (secrets already removed).
pub fn diagnose(
    args: &WsadminArgs,
    status: Option<i32>,
    text: &str,
    records: &[Record],
) -> Option<String> {
    let target = format!(
        "{}:{}",
        args.host.as_deref().unwrap_or("localhost"),
        args.port
            .map_or_else(|| "8879".to_string(), |p| p.to_string())
    );
    if let Some(r) = records.iter().find(|r| r.tag == "missing_script") {
        return Some(format!(
            "the admin script {} is in none of {}: wsadmin_path must be the wsadmin.sh of the Deployment Manager profile where Connections installed its admin scripts, or admin_scripts_dir the folder that holds them",
            r.field(0),
            r.fields[1.min(r.fields.len())..].join(", ")
        ));
    }
    if text.contains("WASX7023E") || text.contains("WASX7213I") && !text.contains("WASX7209I") {
        let detail = text
            .lines()
            .find(|l| l.contains("WASX7023E"))
            .map(|l| l.trim().to_string())
            .unwrap_or_default();
        return Some(format!(
            "cannot connect to the Deployment Manager at {target}: is the dmgr running and are host, port and conntype right? ({detail})"
        ));
    }
    if text.contains("WASX7246E") || text.to_ascii_lowercase().contains("authentication failure") {
        return Some(format!(
            "the Deployment Manager at {target} refused the credentials of user {:?} (WASX7246E): check user and password",
            args.user.as_deref().unwrap_or("")
        ));
    }
    if text.contains("Invalid selection, specify an index number between") {
        let max = text
            .lines()
            .find_map(|l| l.split("between 1 and ").nth(1))
            .map(|s| s.trim_end_matches('.').trim().to_string())
            .unwrap_or_default();
        return Some(format!(
            "service_index {} is not one of the services offered (1 to {max})",
            args.service_index.unwrap_or(0)
        ));
    }
    if text.contains("Which service do you want to connect to?") && args.service_index.is_none() {
        return Some(
            "wsadmin asked which service to connect to although batchMode was set; give service_index".into(),
        );
    }
    let raised = text.contains("WASX7017E") || text.contains("WASX7015E") || status == Some(105);
    let finished = records.iter().any(|r| r.tag == "done");
    if raised || !finished {
        let last_call = records
            .iter()
            .rev()
            .find(|r| r.tag == "call")
            .map(|r| r.field(0).to_string());
        let exc = exception_message(text);
        return Some(match (last_call, exc) {
            (Some(call), Some(e)) => format!("{call} failed: {e}"),
            (Some(call), None) => format!(
                "{call} failed: wsadmin exited with status {}",
                status.map_or("?".into(), |s| s.to_string())
            ),
            (None, Some(e)) => format!("the wsadmin script failed: {e}"),
            (None, None) => format!(
                "wsadmin exited with status {} before running the script: {}",
                status.map_or("?".into(), |s| s.to_string()),
                last_line(text)
            ),
        });
    }
    None
}

fn last_line(text: &str) -> String {
    text.lines()
        .rev()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with(MARKER))
        .unwrap_or("no output")
        .to_string()
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    let start = all.len().saturating_sub(lines);
    all[start..].join("\n")
}

/// A file removed when dropped, whatever happens in between.
struct TempFile(PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn write_private(dir: &Path, prefix: &str, suffix: &str, content: &str) -> Result<TempFile> {
    use std::os::unix::fs::OpenOptionsExt;
    for attempt in 0..100u32 {
        let name = format!(
            "{prefix}-{}-{}-{attempt}{suffix}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.subsec_nanos())
        );
        let path = dir.join(name);
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
        {
            Ok(mut f) => {
                let guard = TempFile(path.clone());
                // No fsync: the file lives for one run and is removed after it, and wsadmin reads
                // it from the page cache; syncing it only slowed every call (two disk flushes).
                f.write_all(content.as_bytes())
                    .map_err(|e| Error::io(&path, e))?;
                return Ok(guard);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(Error::io(&path, e)),
        }
    }
    Err(Error::invalid(format!(
        "cannot create a private temporary file in {}",
        dir.display()
    )))
}

/// Escapes a value for a Java properties file.
fn props_value(v: &str) -> String {
    let mut out = String::new();
    for (i, c) in v.chars().enumerate() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            ' ' if i == 0 => out.push_str("\\ "),
            '=' | ':' | '#' | '!' => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) > 0x7e || (c as u32) < 0x20 => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out
}

/// Checks the options that reach the wsadmin command line, before anything runs.
pub fn validate(args: &WsadminArgs) -> Result<()> {
    let p = &args.wsadmin_path;
    if !p.is_absolute() {
        return Err(Error::invalid(format!(
            "wsadmin_path must be an absolute path, got {:?}",
            p.display().to_string()
        )));
    }
    static HOST: OnceLock<regex::Regex> = OnceLock::new();
    if let Some(h) = &args.host {
        if !re(
            r"^[A-Za-z0-9]([A-Za-z0-9.\-]{0,252})$|^\[?[0-9A-Fa-f:.]+\]?$",
            &HOST,
        )
        .is_match(h)
        {
            return Err(Error::invalid(format!(
                "host must be a host name or an IP address, got {h:?}"
            )));
        }
    }
    if let Some(u) = &args.user {
        if u.is_empty() || u.chars().any(|c| c.is_control()) {
            return Err(Error::invalid(
                "user must be a non-empty name without control characters",
            ));
        }
    }
    if args.password.is_some() && args.user.is_none() {
        return Err(Error::invalid(
            "password is given but user is not: give both or neither",
        ));
    }
    for o in &args.java_options {
        if o.is_empty() || o.chars().any(|c| c.is_control()) {
            return Err(Error::invalid(format!(
                "java_options entries must be single-line, non-empty values, got {o:?}"
            )));
        }
    }
    if let Some(d) = &args.admin_scripts_dir {
        check_remote_path("admin_scripts_dir", d)?;
    }
    if !p.exists() {
        return Err(Error::invalid(format!(
            "wsadmin_path {} does not exist: give the wsadmin.sh of the Deployment Manager profile",
            p.display()
        )));
    }
    Ok(())
}

/// Runs one wsadmin process for the script and returns its marker records, or one clear error.
/// The script and the credentials file live for the run in a private folder (see [`RunDir`]) in
/// `tmpdir` (the task's temp dir), or in the system's temporary folder when this user may not
/// write there.
pub fn run(args: &WsadminArgs, script: &Script, tmpdir: Option<&Path>) -> Result<Output> {
    let args = &args.normalized();
    validate(args)?;
    let bin_dir = args.bin_dir();
    let run_dir = RunDir::new(tmpdir)?;
    let dir = run_dir.0.clone();
    let batch_mode = args.service_index.is_none();
    let data_file = if script.rows.is_empty() {
        None
    } else {
        Some(write_private(&dir, "lcr-data", ".txt", &script.data())?)
    };
    let script_file = write_private(
        &dir,
        "lcr-script",
        ".py",
        &script.text(
            batch_mode,
            &args.script_dirs(),
            data_file.as_ref().map(|f| f.0.as_path()),
        ),
    )?;

    let mut props = String::new();
    if let Some(user) = &args.user {
        props.push_str(&format!("com.ibm.SOAP.loginUserid={}\n", props_value(user)));
    }
    if let Some(pw) = &args.password {
        props.push_str(&format!(
            "com.ibm.SOAP.loginPassword={}\n",
            props_value(pw.expose())
        ));
    }
    if let Some(t) = script.request_timeout {
        props.push_str(&format!("com.ibm.SOAP.requestTimeout={t}\n"));
    }
    let mut props_file = if props.is_empty() {
        None
    } else {
        Some(write_private(&dir, "lcr-soap", ".props", &props)?)
    };

    let mut cmd = Command::new(&args.wsadmin_path);
    cmd.current_dir(&bin_dir).arg("-lang").arg("jython");
    if let Some(c) = &args.conntype {
        cmd.arg("-conntype").arg(c);
    }
    if let Some(h) = &args.host {
        cmd.arg("-host").arg(h);
    }
    if let Some(p) = args.port {
        cmd.arg("-port").arg(p.to_string());
    }
    if let Some(f) = &props_file {
        cmd.arg("-p").arg(&f.0);
    }
    for o in &args.java_options {
        cmd.arg("-javaoption").arg(o);
    }
    cmd.arg("-f").arg(&script_file.0).arg(ARGV_SENTINEL);
    cmd.args(&script.args);
    let shown = shown_command(&cmd);

    let secrets: Vec<&str> = args
        .password
        .iter()
        .map(Secret::expose)
        .filter(|s| !s.is_empty())
        .collect();
    let raw = execute(cmd, args, &shown, &mut props_file)?;
    let text = scrub(&raw.text, &secrets);
    let records = parse_records(&text);
    let process = ProcessError {
        command: shown.clone(),
        status: raw.status,
        output_tail: tail(&text, 20),
    };
    if raw.timed_out {
        let last_call = records
            .iter()
            .rev()
            .find(|r| r.tag == "call")
            .map_or_else(|| "the script".to_string(), |r| r.field(0).to_string());
        return Err(Error::timeout(
            format!(
                "wsadmin did not finish within {} s and was stopped; {last_call} may still be running on the server: check it before running again",
                args.timeout.unwrap_or(0)
            ),
            process,
        ));
    }
    if let Some(msg) = diagnose(args, raw.status, &text, &records) {
        return Err(Error::process(fold_lines(&msg), process));
    }
    drop(props_file);
    drop(script_file);
    drop(data_file);
    drop(run_dir);
    Ok(Output { records, text })
}

/// The folder of one wsadmin run's files, made 0700 by the user that runs wsadmin and removed
/// with what is left in it when dropped. It is made in the task's temp dir when possible; when
/// the module runs as another unprivileged user than the one Ansible connected as (become_user:
/// the profile's owner), that folder is the connecting user's and may only be read, so the run's
/// folder is made in the system's temporary folder instead. Either way the credentials file is
/// 0600 in a 0700 folder of the user that runs wsadmin.
struct RunDir(PathBuf);

impl RunDir {
    fn new(tmpdir: Option<&Path>) -> Result<RunDir> {
        use std::os::unix::fs::DirBuilderExt;
        let system = std::env::temp_dir();
        let places: Vec<&Path> = tmpdir.into_iter().chain([system.as_path()]).collect();
        let mut last = None;
        for place in places {
            for attempt in 0..100u32 {
                let path = place.join(format!(
                    "lcr-run-{}-{}-{attempt}",
                    std::process::id(),
                    std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map_or(0, |d| d.subsec_nanos())
                ));
                match std::fs::DirBuilder::new().mode(0o700).create(&path) {
                    Ok(()) => return Ok(RunDir(path)),
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                    Err(e) => {
                        last = Some(Error::io(&path, e));
                        break;
                    }
                }
            }
        }
        Err(last
            .unwrap_or_else(|| Error::invalid("cannot create a private folder for wsadmin's files"))
            .context("making a private folder for wsadmin's files"))
    }
}

impl Drop for RunDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn shown_command(cmd: &Command) -> String {
    let mut parts = vec![cmd.get_program().to_string_lossy().into_owned()];
    parts.extend(cmd.get_args().map(|a| a.to_string_lossy().into_owned()));
    parts.join(" ")
}

fn scrub(text: &str, secrets: &[&str]) -> String {
    let mut out = text.to_string();
    for s in secrets {
        if out.contains(s) {
            out = out.replace(s, crate::secret::MASK);
        }
    }
    out
}

struct RawRun {
    status: Option<i32>,
    text: String,
    timed_out: bool,
}

/// Runs wsadmin to its end or its timeout. The credentials file (`props`) is removed as soon as
/// wsadmin shows it has read it (its connection banner, or the script's first marker line), so
/// that the password is on disk for wsadmin's start-up only, not for a call that may take hours,
/// and not after a run that is killed before it could clean up.
fn execute(
    mut cmd: Command,
    args: &WsadminArgs,
    shown: &str,
    props: &mut Option<TempFile>,
) -> Result<RawRun> {
    use std::os::unix::process::CommandExt;
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let mut child = cmd.spawn().map_err(|e| {
        Error::process(
            format!("cannot start {}: {e}", args.wsadmin_path.display()),
            ProcessError {
                command: shown.to_string(),
                status: None,
                output_tail: String::new(),
            },
        )
    })?;
    let pgid = child.id();
    if let Some(mut stdin) = child.stdin.take() {
        if let Some(i) = args.service_index {
            // One answer per question; a wrong one is re-asked, and the repeats end in EOF.
            let answers = format!("{i}\n").repeat(16);
            let _ = stdin.write_all(answers.as_bytes());
        }
    }
    let connected = Arc::new(AtomicBool::new(false));
    let out = child
        .stdout
        .take()
        .map(|r| spawn_reader(r, Some(connected.clone())));
    let err = child.stderr.take().map(|r| spawn_reader(r, None));
    let deadline = args
        .timeout
        .map(|t| Instant::now() + Duration::from_secs(t));
    let mut timed_out = false;
    let status = loop {
        if props.is_some() && connected.load(Ordering::Acquire) {
            *props = None;
        }
        match child.try_wait() {
            Ok(Some(s)) => break s,
            Ok(None) => {}
            Err(e) => {
                return Err(Error::process(
                    format!("waiting for wsadmin failed: {e}"),
                    ProcessError {
                        command: shown.to_string(),
                        status: None,
                        output_tail: String::new(),
                    },
                ))
            }
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            timed_out = true;
            kill_group(pgid);
            let _ = child.kill();
            break child.wait().map_err(|e| {
                Error::process(
                    format!("stopping wsadmin failed: {e}"),
                    ProcessError {
                        command: shown.to_string(),
                        status: None,
                        output_tail: String::new(),
                    },
                )
            })?;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    // Whatever the script left running in its group goes too, so that readers see EOF.
    kill_group(pgid);
    let mut text = out
        .map(|h| h.join().unwrap_or_default())
        .unwrap_or_default();
    let err_text = err
        .map(|h| h.join().unwrap_or_default())
        .unwrap_or_default();
    if !err_text.is_empty() {
        if !text.ends_with('\n') && !text.is_empty() {
            text.push('\n');
        }
        text.push_str(&err_text);
    }
    Ok(RawRun {
        status: status.code(),
        text,
        timed_out,
    })
}

/// Reads a pipe to its end in a thread. With `connected`, flags it once the text holds wsadmin's
/// connection banner or a marker line.
fn spawn_reader<R: Read + Send + 'static>(
    mut r: R,
    connected: Option<Arc<AtomicBool>>,
) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let mut chunk = [0u8; 8192];
        let mut scanned: usize = 0;
        loop {
            match r.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(_) => break,
            }
            if let Some(flag) = connected.as_ref().filter(|f| !f.load(Ordering::Relaxed)) {
                // From a little before the new bytes, so that a banner split across reads is seen.
                let from = scanned.saturating_sub(16);
                let seen = [CONNECTED_BANNER.as_bytes(), MARKER.as_bytes()]
                    .iter()
                    .any(|needle| buf[from..].windows(needle.len()).any(|w| w == *needle));
                if seen {
                    flag.store(true, Ordering::Release);
                }
                scanned = buf.len();
            }
        }
        String::from_utf8_lossy(&buf).into_owned()
    })
}

/// The message id wsadmin prints once connected (after reading its properties files).
const CONNECTED_BANNER: &str = "WASX7209I";

fn kill_group(pgid: u32) {
    let _ = Command::new("kill")
        .arg("-KILL")
        .arg("--")
        .arg(format!("-{pgid}"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// The pattern of a community UUID as Connections writes them.
pub fn is_uuid(s: &str) -> bool {
    static UUID: OnceLock<regex::Regex> = OnceLock::new();
    re(
        r"^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$",
        &UUID,
    )
    .is_match(s)
}

/// Checks a value bound for a script argument: one line, printable, not empty.
pub fn check_value(option: &str, value: &str) -> Result<()> {
    if value.is_empty() {
        return Err(Error::invalid(format!("{option} must not be empty")));
    }
    if let Some(c) = value.chars().find(|c| c.is_control()) {
        return Err(Error::invalid(format!(
            "{option} must be one printable line, got {value:?} (holds {:?})",
            c
        )));
    }
    Ok(())
}

/// Checks a path bound for a wsadmin call: absolute, forward slashes, no `..`, one line.
pub fn check_remote_path(option: &str, value: &str) -> Result<()> {
    check_value(option, value)?;
    if value.contains('\\') {
        return Err(Error::invalid(format!(
            "{option} must use forward slashes only, got {value:?}"
        )));
    }
    if !value.starts_with('/') {
        return Err(Error::invalid(format!(
            "{option} must be an absolute path, got {value:?}"
        )));
    }
    if value.split('/').any(|p| p == "..") {
        return Err(Error::invalid(format!(
            "{option} must not contain '..', got {value:?}"
        )));
    }
    if value.contains(['"', '\'', '`', '$']) {
        return Err(Error::invalid(format!(
            "{option} must not contain quotes, '`' or '$', got {value:?}"
        )));
    }
    Ok(())
}

/// Reads a map as wsadmin prints a Java map: `{key=value, key=value}` (key order varies). Also
/// takes the Python form `{u'key': u'value'}` that a Jython dict prints.
pub fn parse_java_map(text: &str) -> std::collections::BTreeMap<String, String> {
    static JAVA_KEY: OnceLock<regex::Regex> = OnceLock::new();
    static PY_PAIR: OnceLock<regex::Regex> = OnceLock::new();
    let t = text.trim();
    let inner = t
        .strip_prefix('{')
        .and_then(|s| s.strip_suffix('}'))
        .unwrap_or(t);
    let mut out = std::collections::BTreeMap::new();
    let py = re(r#"u?'([^']*)'\s*:\s*(?:u?'([^']*)'|([^,}]*))"#, &PY_PAIR);
    if inner.trim_start().starts_with("u'") || inner.trim_start().starts_with('\'') {
        for c in py.captures_iter(inner) {
            let v = c.get(2).or(c.get(3)).map_or("", |m| m.as_str()).trim();
            out.insert(c[1].to_string(), v.to_string());
        }
        return out;
    }
    // Split before every `, key=` so that values holding commas stay whole.
    let key = re(r"(?:^|,\s*)([A-Za-z_][\w.]*)=", &JAVA_KEY);
    let starts: Vec<(usize, usize, String)> = key
        .captures_iter(inner)
        .map(|c| {
            let whole = c.get(0).map_or(0..0, |m| m.range());
            (whole.start, whole.end, c[1].to_string())
        })
        .collect();
    for (i, (_, value_start, k)) in starts.iter().enumerate() {
        let end = starts.get(i + 1).map_or(inner.len(), |n| n.0);
        out.insert(k.clone(), inner[*value_start..end].trim().to_string());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args() -> WsadminArgs {
        WsadminArgs {
            wsadmin_path: PathBuf::from(
                "/opt/IBM/WebSphere/AppServer/profiles/Dmgr01/bin/wsadmin.sh",
            ),
            host: Some("dmgr.example.com".into()),
            port: Some(8879),
            conntype: None,
            user: Some("wasadmin".into()),
            password: Some(Secret::new("s3cret")),
            service_index: None,
            timeout: Some(60),
            java_options: vec![],
            admin_scripts_dir: None,
        }
    }

    const BANNER: &str = "WASX7209I: Connected to process \"dmgr\" on node CellManager01 using SOAP connector;  The type of process is: DeploymentManager\nWASX7303I: The following options are passed to the scripting environment and are available as arguments that are stored in the argv variable: \"[--lcr-args--, LifecycleRetryQueuedEvents]\"\n";

    #[test]
    fn records_are_picked_out_of_noise() {
        let text = format!(
            "{BANNER}Connecting to WebSphere:name=CommunitiesScheduler,type=LotusConnections,cell=c,node=n,*\nCommunities Administration initialized.\n@@lcr@@\tcall\tgetTaskDetails\n@@lcr@@\tdetails\t{{status=SUSPENDED, taskName=LifecycleRetryQueuedEvents}}\n@@lcr@@\tname\ta\\tb\\\\c\\nd\r\n@@lcr@@\tdone\n"
        );
        let recs = parse_records(&text);
        assert_eq!(recs.len(), 4);
        assert_eq!(recs[2].fields, vec!["a\tb\\c\nd".to_string()]);
        assert_eq!(diagnose(&args(), Some(0), &text, &recs), None);
    }

    #[test]
    fn java_maps_in_any_key_order() {
        let m = parse_java_map("{nextFireTime=Thu Nov 26 03:30:00 UTC 2026, status=SCHEDULED, taskName=LifecycleRetryQueuedEvents, currentServerTime=Thu Nov 26 03:18:15 UTC 2026}");
        assert_eq!(m["status"], "SCHEDULED");
        assert_eq!(m["nextFireTime"], "Thu Nov 26 03:30:00 UTC 2026");
        assert_eq!(m.len(), 4);
        let p =
            parse_java_map("{u'status': u'SUSPENDED', u'taskName': u'LifecycleRetryQueuedEvents'}");
        assert_eq!(p["status"], "SUSPENDED");
    }

    fn diag(status: i32, text: &str) -> String {
        let recs = parse_records(text);
        diagnose(&args(), Some(status), text, &recs).unwrap_or_default()
    }

    #[test]
    fn cannot_connect() {
        let text = "WASX7023E: Error creating \"SOAP\" connection to host \"dmgr.example.com\"; exception information: com.ibm.websphere.management.exception.ConnectorNotAvailableException: Failed to get a connection with IP address associated with hostname dmgr.example.com\nWASX7213I: This scripting client is not connected to a server process; please refer to the log file /opt/IBM/WebSphere/AppServer/profiles/Dmgr01/logs/wsadmin.traceout for additional information.\n";
        assert_eq!(
            diag(103, text),
            "cannot connect to the Deployment Manager at dmgr.example.com:8879: is the dmgr running and are host, port and conntype right? (WASX7023E: Error creating \"SOAP\" connection to host \"dmgr.example.com\"; exception information: com.ibm.websphere.management.exception.ConnectorNotAvailableException: Failed to get a connection with IP address associated with hostname dmgr.example.com)"
        );
    }

    #[test]
    fn credentials_refused() {
        let text = "WASX7246E: Cannot establish \"SOAP\" connection to host \"dmgr.example.com\" because of an authentication failure. Ensure that user and password are correct on the command line or in a properties file.\n";
        assert_eq!(
            diag(103, text),
            "the Deployment Manager at dmgr.example.com:8879 refused the credentials of user \"wasadmin\" (WASX7246E): check user and password"
        );
    }

    #[test]
    fn a_call_that_raised() {
        let text = format!("{BANNER}@@lcr@@\tcall\tCommunitiesScheduler.pauseSchedulingTask\nWASX7017E: Exception received while running file \"/tmp/lcr-script.py\"; exception information: com.ibm.ws.scripting.ScriptingException: java.lang.IllegalArgumentException: unknown task Foo\n");
        assert_eq!(
            diag(105, &text),
            "CommunitiesScheduler.pauseSchedulingTask failed: java.lang.IllegalArgumentException: unknown task Foo"
        );
    }

    #[test]
    fn jython_traceback() {
        let text = format!("{BANNER}@@lcr@@\tcall\texecfile(blogsAdmin.py)\nWASX7017E: Exception received while running file \"/tmp/x.py\"; exception information: Traceback (most recent call last):\n  File \"<string>\", line 3, in <module>\nNameError: name 'BlogsAdminService' is not defined\n");
        assert_eq!(
            diag(105, &text),
            "execfile(blogsAdmin.py) failed: NameError: name 'BlogsAdminService' is not defined"
        );
    }

    #[test]
    fn jython_traceback_behind_the_bsf_wrapper() {
        let text = format!("{BANNER}WASX7017E: Exception received while running file \"/tmp/x.py\"; exception information: com.ibm.bsf.BSFException: exception from Jython:\nTraceback (most recent call last):\n  File \"/tmp/x.py\", line 9, in <module>\n    raise ValueError(\"not this\")\n  File \"/tmp/x.py\", line 67, in lcr_read_data\n    r = java.io.BufferedReader(x)\nAttributeError: 'javapackage' object has no attribute 'io'\n");
        assert_eq!(
            diag(105, &text),
            "the wsadmin script failed: AttributeError: 'javapackage' object has no attribute 'io'"
        );
    }

    #[test]
    fn missing_admin_script_and_bad_service_answer() {
        let text = format!("{BANNER}@@lcr@@\tmissing_script\tnewsAdmin.py\t/opt/x/bin\t/opt/x/config/bin_lc_admin\t/srv/lc\n");
        assert_eq!(
            diag(0, &text),
            "the admin script newsAdmin.py is in none of /opt/x/bin, /opt/x/config/bin_lc_admin, /srv/lc: wsadmin_path must be the wsadmin.sh of the Deployment Manager profile where Connections installed its admin scripts, or admin_scripts_dir the folder that holds them"
        );
        let mut a = args();
        a.service_index = Some(7);
        let text = "1: WebSphere:name=BlogsAdminService,node=node1,server=server1\n2: WebSphere:name=BlogsAdminService,node=node2,server=server1\nWhich service do you want to connect to?\nInvalid selection, specify an index number between 1 and 2.\nWhich service do you want to connect to?\n";
        assert_eq!(
            diagnose(&a, Some(105), text, &[]).unwrap(),
            "service_index 7 is not one of the services offered (1 to 2)"
        );
    }

    #[test]
    fn script_text_snapshot() {
        let s = Script::new("def lcr_main():\n    lcr_loads()\n    lcr_out(\"x\", ARGS)\n")
            .load("communitiesAdmin.py")
            .arg("a");
        let mut a = args();
        a.admin_scripts_dir = Some("/srv/lc-admin/".into());
        assert_eq!(
            a.script_dirs(),
            [
                "/opt/IBM/WebSphere/AppServer/profiles/Dmgr01/bin",
                "/opt/IBM/WebSphere/AppServer/profiles/Dmgr01/config/bin_lc_admin",
                "/srv/lc-admin"
            ]
        );
        insta::assert_snapshot!(s.text(true, &a.script_dirs(), None));
    }

    #[test]
    fn rows_go_to_a_data_file_not_into_the_script() {
        let rows: Vec<Vec<String>> = (0..5000)
            .map(|i| vec![i.to_string(), format!("a\tb\\c\nd\re é {i}")])
            .collect();
        let s = Script::new("def lcr_main():\n    pass\n").rows(rows);
        let text = s.text(false, &[], Some(Path::new("/tmp/x/lcr-data-1.txt")));
        assert!(text.contains("\nDATA = lcr_read_data(u\"/tmp/x/lcr-data-1.txt\")\n"));
        assert!(text.len() < 8 * 1024, "the script grows with the rows");
        let data = s.data();
        assert_eq!(data.lines().count(), 5000);
        assert_eq!(data.lines().nth(7).unwrap(), "7\ta\\tb\\\\c\\nd\\re é 7");
    }

    #[test]
    fn admin_scripts_dir_is_checked_like_a_remote_path() {
        for (bad, why) in [
            ("lc-admin", "must be an absolute path"),
            ("/a/../b", "must not contain '..'"),
            ("/a\"b", "must not contain quotes"),
            ("/a\nb", "must be one printable line"),
        ] {
            let mut a = args();
            a.wsadmin_path = std::env::current_exe().unwrap();
            a.admin_scripts_dir = Some(bad.into());
            let msg = validate(&a).unwrap_err().one_line();
            assert!(
                msg.starts_with("admin_scripts_dir ") && msg.contains(why),
                "{msg}"
            );
        }
    }

    #[test]
    fn remote_paths_and_values_are_checked() {
        assert!(check_remote_path("dest_dir", "/opt/exports").is_ok());
        for bad in ["exports", "C:\\x", "/a/../b", "/a\"); x", "/a\nb", ""] {
            assert!(check_remote_path("dest_dir", bad).is_err(), "{bad:?}");
        }
        assert!(is_uuid("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"));
        assert!(!is_uuid("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0\")"));
        assert_eq!(props_value("p=a:b c\\d"), "p\\=a\\:b c\\\\d");
        assert_eq!(
            jython_literal("a\")\nb\\é"),
            "u\"a\\\")\\u000ab\\\\\\u00e9\""
        );
    }
}
