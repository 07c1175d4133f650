//! The wsadmin client stand-in (`wsadmin.sh` execs `lc-sim wsadmin`): parses the wsadmin flags,
//! counts the launch, applies the start-up faults, connects (host, port, credentials, or
//! WASX7023E / WASX7246E), refuses what Jython 2.1 lacks, prints the banner, then replaces itself
//! with Jython running the script (so killing wsadmin's process group kills everything).

use std::collections::BTreeMap;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Result;

use crate::dialect::MapStyle;
use crate::model::Cell;

/// Exit status when wsadmin cannot connect or log in (ours; any non-zero would do).
pub const EXIT_NO_CONNECTION: i32 = 103;
/// Exit status when the script raised (admin-surface.md §2).
pub const EXIT_SCRIPT_FAILED: i32 = 105;

#[derive(Debug, Default)]
struct Flags {
    lang: Option<String>,
    conntype: Option<String>,
    host: Option<String>,
    port: Option<String>,
    user: Option<String>,
    password: Option<String>,
    props: Vec<PathBuf>,
    javaoptions: Vec<String>,
    script: Option<String>,
    script_args: Vec<String>,
    commands: Vec<String>,
}

/// What wsadmin prints and how it exits, when it does not get as far as Jython.
pub struct Exit {
    pub lines: Vec<String>,
    pub code: i32,
}

fn exit(code: i32, lines: Vec<String>) -> Exit {
    Exit { lines, code }
}

fn parse(args: &[String]) -> Result<Flags, String> {
    let mut f = Flags::default();
    let mut i = 0;
    let value = |i: usize, name: &str| -> Result<String, String> {
        args.get(i + 1)
            .cloned()
            .ok_or_else(|| format!("wsadmin: the {name} option needs a value."))
    };
    while i < args.len() {
        let a = args[i].as_str();
        match a.to_ascii_lowercase().as_str() {
            "-lang" => f.lang = Some(value(i, a)?),
            "-conntype" => f.conntype = Some(value(i, a)?),
            "-host" => f.host = Some(value(i, a)?),
            "-port" => f.port = Some(value(i, a)?),
            "-user" | "-username" => f.user = Some(value(i, a)?),
            "-password" => f.password = Some(value(i, a)?),
            "-p" => f.props.push(PathBuf::from(value(i, a)?)),
            "-javaoption" => f.javaoptions.push(value(i, a)?),
            "-profile" | "-tracefile" | "-appendtrace" | "-wsadmin_classpath" | "-jobid" => {
                value(i, a)?;
            }
            "-c" => f.commands.push(value(i, a)?),
            "-f" => {
                f.script = Some(value(i, a)?);
                f.script_args = args[i + 2..].to_vec();
                break;
            }
            _ => return Err(format!("wsadmin: unrecognized option {a:?}.")),
        }
        i += 2;
    }
    Ok(f)
}

/// Reads a Java properties file (the keys wsadmin reads from `-p` files).
pub fn read_properties(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut logical = String::new();
    let mut lines = text.lines().peekable();
    while let Some(raw) = lines.next() {
        let line = raw.trim_start();
        if logical.is_empty() && (line.is_empty() || line.starts_with('#') || line.starts_with('!'))
        {
            continue;
        }
        let trailing = line.chars().rev().take_while(|c| *c == '\\').count();
        if trailing % 2 == 1 {
            logical.push_str(&line[..line.len() - 1]);
            if lines.peek().is_some() {
                continue;
            }
        } else {
            logical.push_str(line);
        }
        let (k, v) = split_property(&logical);
        out.insert(k, v);
        logical.clear();
    }
    out
}

fn split_property(line: &str) -> (String, String) {
    let chars: Vec<char> = line.chars().collect();
    let mut i = 0;
    let mut key = String::new();
    while i < chars.len() {
        match chars[i] {
            '\\' if i + 1 < chars.len() => {
                key.push(unescape_char(&chars, &mut i));
                continue;
            }
            '=' | ':' | ' ' | '\t' => break,
            c => key.push(c),
        }
        i += 1;
    }
    while i < chars.len() && matches!(chars[i], ' ' | '\t') {
        i += 1;
    }
    if i < chars.len() && matches!(chars[i], '=' | ':') {
        i += 1;
    }
    while i < chars.len() && matches!(chars[i], ' ' | '\t') {
        i += 1;
    }
    let mut value = String::new();
    while i < chars.len() {
        if chars[i] == '\\' && i + 1 < chars.len() {
            value.push(unescape_char(&chars, &mut i));
            continue;
        }
        value.push(chars[i]);
        i += 1;
    }
    (key, value)
}

/// Decodes the escape at `chars[*i]` (a backslash) and moves past it.
fn unescape_char(chars: &[char], i: &mut usize) -> char {
    let c = chars[*i + 1];
    *i += 2;
    match c {
        't' => '\t',
        'n' => '\n',
        'r' => '\r',
        'f' => '\u{c}',
        'u' if *i + 4 <= chars.len() => {
            let hex: String = chars[*i..*i + 4].iter().collect();
            *i += 4;
            u32::from_str_radix(&hex, 16)
                .ok()
                .and_then(char::from_u32)
                .unwrap_or('?')
        }
        c => c,
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

/// Appends a line to the profile's `logs/wsadmin.traceout`, as every wsadmin start does: run as
/// another user than the profile's owner, it leaves a file of that user in the profile.
fn trace(cell: &Cell, launch: u64) {
    use std::io::Write as _;
    let Some(profile) = cell.config.profile_bin.parent() else {
        return;
    };
    let logs = profile.join("logs");
    let _ = std::fs::create_dir_all(&logs);
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(logs.join("wsadmin.traceout"))
    {
        let _ = writeln!(f, "[{}] wsadmin launch {launch}", crate::util::now_ms());
    }
}

/// Everything wsadmin does before Jython runs; `Ok` carries the flags to run with.
fn prepare(cell: &Cell, args: &[String]) -> Result<Result<Flags, Exit>> {
    let (launch, faults) = cell.with_meta(|m| {
        m.launches += 1;
        (m.launches, m.faults.clone())
    })?;
    trace(cell, launch);
    let f = match parse(args) {
        Ok(f) => f,
        Err(msg) => return Ok(Err(exit(1, vec![msg]))),
    };
    if let Some(l) = &f.lang {
        if !l.eq_ignore_ascii_case("jython") {
            return Ok(Err(exit(
                1,
                vec![format!(
                    "wsadmin: the simulated cell runs Jython scripts only, not {l:?}."
                )],
            )));
        }
    }
    if faults.startup_delay_secs > 0.0 {
        std::thread::sleep(std::time::Duration::from_secs_f64(
            faults.startup_delay_secs,
        ));
    }
    let c = &cell.config;
    let host = f.host.clone().unwrap_or_else(|| c.dmgr.host.clone());
    let port = f.port.clone().unwrap_or_else(|| c.dmgr.port.to_string());
    let conntype = f.conntype.clone().unwrap_or_else(|| "SOAP".into());
    let not_connected = format!(
        "WASX7213I: This scripting client is not connected to a server process; please refer to the log file {} for additional information.",
        c.profile_bin.parent().unwrap_or(Path::new(".")).join("logs/wsadmin.traceout").display()
    );
    let known_hosts = [
        c.dmgr.host.clone(),
        "localhost".into(),
        "127.0.0.1".into(),
        hostname(),
    ];
    let refuse = |why: String| {
        Ok(Err(exit(
            EXIT_NO_CONNECTION,
            vec![
                format!(
                    "WASX7023E: Error creating \"{conntype}\" connection to host \"{host}\"; exception information: {why}"
                ),
                not_connected.clone(),
            ],
        )))
    };
    if !conntype.eq_ignore_ascii_case("SOAP") {
        return refuse(format!(
            "com.ibm.websphere.management.exception.ConnectorNotAvailableException: the simulated Deployment Manager listens for SOAP only (port {})",
            c.dmgr.port
        ));
    }
    if !known_hosts.iter().any(|h| h.eq_ignore_ascii_case(&host)) {
        return refuse(format!(
            "com.ibm.websphere.management.exception.ConnectorNotAvailableException: Failed to get a connection with IP address associated with hostname {host}"
        ));
    }
    let down = faults.refuse || faults.refuse_from_launch.is_some_and(|n| launch >= n);
    if down || port != c.dmgr.port.to_string() {
        return refuse(format!(
            "com.ibm.websphere.management.exception.ConnectorNotAvailableException: [SOAPException: faultCode=SOAP-ENV:Client; msg=Error opening socket: java.net.ConnectException: Connection refused; targetException=java.lang.IllegalArgumentException: Error opening socket: java.net.ConnectException: Connection refused] ADMC0016E: The system cannot create a SOAP connector to connect to host {host} at port {port}."
        ));
    }
    // Credentials: the profile's soap.client.props, then -p files, then -user/-password.
    let mut user = None;
    let mut password = None;
    let mut props_files = vec![c
        .profile_bin
        .parent()
        .unwrap_or(Path::new("."))
        .join("properties/soap.client.props")];
    props_files.extend(f.props.iter().cloned());
    for (n, p) in props_files.iter().enumerate() {
        let text = match std::fs::read_to_string(p) {
            Ok(t) => t,
            Err(e) if n > 0 => {
                return Ok(Err(exit(
                    1,
                    vec![format!(
                        "wsadmin: cannot read the properties file \"{}\": {e}",
                        p.display()
                    )],
                )))
            }
            Err(_) => continue,
        };
        let props = read_properties(&text);
        if let Some(u) = props
            .get("com.ibm.SOAP.loginUserid")
            .filter(|s| !s.is_empty())
        {
            user = Some(u.clone());
        }
        if let Some(pw) = props
            .get("com.ibm.SOAP.loginPassword")
            .filter(|s| !s.is_empty())
        {
            password = Some(pw.clone());
        }
    }
    if f.user.is_some() {
        user = f.user.clone();
    }
    if f.password.is_some() {
        password = f.password.clone();
    }
    let good = user.as_deref() == Some(c.admin_user.as_str())
        && password.as_deref() == Some(c.admin_password.as_str())
        && !faults.bad_password;
    if !good {
        return Ok(Err(exit(
            EXIT_NO_CONNECTION,
            vec![
                format!(
                    "WASX7246E: Cannot establish \"SOAP\" connection to host \"{host}\" because of an authentication failure. Ensure that user and password are correct on the command line or in a properties file."
                ),
                "Exception message (if any): ADMN0022E: Access is denied for the getNode operation on the Server MBean because of insufficient or empty credentials.".into(),
            ],
        )));
    }
    Ok(Ok(f))
}

/// The lines wsadmin prints when it refuses a script Jython 2.1 cannot run, if it does.
fn jython21_refusal(target: &str, text: &str, file_mode: bool) -> Option<Vec<String>> {
    let found = crate::jython21::check(text);
    if found.is_empty() {
        return None;
    }
    let mut info = vec!["com.ibm.bsf.BSFException: exception from Jython:".to_string()];
    for x in &found {
        info.push(format!(
            "SyntaxError: line {}: {} is not available in Jython 2.1 (the default of WebSphere 8.5.5); the lc-sim cell refuses it",
            x.line, x.construct
        ));
    }
    let head = if file_mode {
        format!(
            "WASX7017E: Exception received while running file \"{target}\"; exception information: {}",
            info[0]
        )
    } else {
        format!(
            "WASX7015E: Exception running command: \"{target}\"; exception information:\n{}",
            info[0]
        )
    };
    let mut lines = vec![head];
    lines.extend(info.into_iter().skip(1));
    Some(lines)
}

/// The Jython command: Debian's jython jar straight on java (faster start), or the launcher.
fn jython_command(javaoptions: &[String]) -> Command {
    if let Ok(custom) = std::env::var("LC_SIM_JYTHON") {
        return Command::new(custom);
    }
    let jar = Path::new("/usr/share/java/jython.jar");
    if jar.exists() {
        let mut cmd = Command::new("java");
        cmd.arg("-XX:TieredStopAtLevel=1").arg("-Xshare:auto");
        for o in javaoptions {
            cmd.arg(o);
        }
        cmd.arg("-jar")
            .arg(jar)
            .arg("-Dpython.home=/usr/share/jython")
            .arg("-Dpython.executable=/usr/bin/jython");
        return cmd;
    }
    Command::new("jython")
}

/// `lc-sim wsadmin --cell DIR -- ARGS…`: prints and returns what to exit with, or never returns
/// (Jython replaces this process).
pub fn main(cell_dir: &Path, args: &[String]) -> Result<Exit> {
    let cell = Cell::open(cell_dir)?;
    crate::scripts::ensure(&cell)?;
    let f = match prepare(&cell, args)? {
        Ok(f) => f,
        Err(e) => return Ok(e),
    };
    let c = &cell.config;
    let mut lines = vec![format!(
        "WASX7209I: Connected to process \"{}\" on node {} using SOAP connector;  The type of process is: DeploymentManager",
        c.dmgr.server, c.dmgr.node
    )];
    let (mode, target) = match (&f.script, f.commands.is_empty()) {
        (Some(s), true) => ("f", s.clone()),
        (None, false) => ("c", f.commands.join("\n")),
        (Some(_), false) => {
            return Ok(exit(
                1,
                vec!["wsadmin: give either -f or -c, not both.".into()],
            ));
        }
        (None, true) => {
            lines.push(
                "lc-sim: the interactive wsadmin prompt is not simulated; run a script with -f or a statement with -c."
                    .into(),
            );
            return Ok(exit(1, lines));
        }
    };
    if !f.script_args.is_empty() {
        lines.push(format!(
            "WASX7303I: The following options are passed to the scripting environment and are available as arguments that are stored in the argv variable: \"[{}]\"",
            f.script_args.join(", ")
        ));
    }
    lines.extend(c.dialect.banner_lines().iter().map(|l| l.to_string()));
    let text = if mode == "f" {
        std::fs::read_to_string(&target).unwrap_or_default()
    } else {
        target.clone()
    };
    if let Some(refusal) = jython21_refusal(&target, &text, mode == "f") {
        lines.extend(refusal);
        return Ok(exit(EXIT_SCRIPT_FAILED, lines));
    }
    crate::print_lines(&lines);
    let servers: Vec<String> = c
        .servers
        .iter()
        .map(|(script, list)| {
            let s: Vec<String> = list
                .iter()
                .map(|s| format!("{}/{}", s.node, s.server))
                .collect();
            format!("{script}={}", s.join(","))
        })
        .collect();
    let exe = std::env::current_exe().unwrap_or_else(|_| c.lc_sim.clone());
    let mut cmd = jython_command(&f.javaoptions);
    cmd.arg(cell.dir.join("sim").join("bootstrap.py"))
        .args(&f.script_args)
        .env("LC_SIM_EXE", exe)
        .env("LC_SIM_CELL", &cell.dir)
        .env("LC_SIM_LIB", cell.dir.join("sim"))
        .env("LC_SIM_MODE", mode)
        .env("LC_SIM_TARGET", &target)
        .env("LC_SIM_SERVERS", servers.join(";"))
        .env("LC_SIM_CELLNAME", &c.cell_name)
        .env("LC_SIM_DMGR_NODE", &c.dmgr.node)
        .env("LC_SIM_DMGR_HOST", &c.dmgr.host)
        .env("LC_SIM_DMGR_PORT", c.dmgr.port.to_string())
        .env(
            "LC_SIM_MAP_STYLE",
            match c.dialect.map_style() {
                MapStyle::Java => "java",
                MapStyle::Python => "python",
                MapStyle::Tight => "tight",
            },
        )
        .env("LC_SIM_LOAD_LINES", c.dialect.load_lines().join("\n"));
    let err = cmd.exec();
    anyhow::bail!("cannot start Jython: {err}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_java_properties() {
        let p = read_properties(
            "# c\n! c\ncom.ibm.SOAP.loginUserid=wasadmin\ncom.ibm.SOAP.loginPassword = p\\=a\\:b c\\\\d\\u00e9\nlong=a\\\n   b\nkey:value\n",
        );
        assert_eq!(p["com.ibm.SOAP.loginUserid"], "wasadmin");
        assert_eq!(p["com.ibm.SOAP.loginPassword"], "p=a:b c\\d\u{e9}");
        assert_eq!(p["long"], "ab");
        assert_eq!(p["key"], "value");
    }

    #[test]
    fn parses_flags_and_script_args() {
        let a: Vec<String> = [
            "-lang",
            "jython",
            "-conntype",
            "SOAP",
            "-f",
            "x.py",
            "a",
            "-c",
            "b",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let f = parse(&a).unwrap();
        assert_eq!(f.script.as_deref(), Some("x.py"));
        assert_eq!(f.script_args, vec!["a", "-c", "b"]);
        assert!(parse(&["-bogus".to_string()]).is_err());
    }
}
