//! One wsadmin process: its private folder and files, the command line, the credentials file
//! removed once read, the timeout that kills the process tree, and secrets scrubbed from what it
//! printed.

use super::{diagnose, parse_records, validate, Output, Script, WsadminArgs, MARKER};
use crate::error::{fold_lines, Error, ProcessError, Result};
use crate::fs::TempFile;
use crate::secret::Secret;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The first script argument: the scripts find their own arguments after it in `sys.argv`,
/// whether or not the wsadmin in use puts the script's name first.
const ARGV_SENTINEL: &str = "--lcr-args--";

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    let start = all.len().saturating_sub(lines);
    all[start..].join("\n")
}

/// Escapes a value for a Java properties file.
pub(super) fn props_value(v: &str) -> String {
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
        Some(TempFile::private(
            &dir,
            "lcr-data",
            ".txt",
            script.data().as_bytes(),
        )?)
    };
    let script_file = TempFile::private(
        &dir,
        "lcr-script",
        ".py",
        script
            .text(
                batch_mode,
                &args.script_dirs(),
                data_file.as_ref().map(TempFile::path),
            )
            .as_bytes(),
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
        Some(TempFile::private(
            &dir,
            "lcr-soap",
            ".props",
            props.as_bytes(),
        )?)
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
        cmd.arg("-p").arg(f.path());
    }
    for o in &args.java_options {
        cmd.arg("-javaoption").arg(o);
    }
    cmd.arg("-f").arg(script_file.path()).arg(ARGV_SENTINEL);
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
