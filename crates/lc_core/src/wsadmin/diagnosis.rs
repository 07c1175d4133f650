//! One-line diagnoses of a failed or odd run: WASX message ids, Java and Jython exceptions,
//! a missing admin script, a bad service answer.

use super::re;
use super::{Record, WsadminArgs, MARKER};
use std::sync::OnceLock;

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
