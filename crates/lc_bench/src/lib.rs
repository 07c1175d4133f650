//! What the `lc-bench` binaries share: the one JSON line a reader prints (what it read, the
//! file's size, its reading time, a check value the harness compares across readers), and the
//! html5ever reader of the differences report that `lc-bench-html5ever` runs.

use serde_json::{json, Value};
use std::io::Write;
use std::process::ExitCode;
use std::time::Instant;

pub mod html5ever_rows;

/// The line a reader prints: what it read, the file's size, the reading time since `start`, and a
/// check value that the harness compares with the other readers'.
pub fn figures(items: u64, bytes: u64, start: Instant, check: Value) -> Value {
    json!({
        "items": items,
        "bytes": bytes,
        "seconds": start.elapsed().as_secs_f64(),
        "check": check,
    })
}

/// Prints a reader's line (or `{"error": …}`) on stdout; the exit status says which.
pub fn print(result: Result<Value, String>) -> ExitCode {
    let (line, code) = match result {
        Ok(v) => (v, ExitCode::SUCCESS),
        Err(e) => (json!({ "error": e }), ExitCode::FAILURE),
    };
    let mut out = std::io::stdout().lock();
    if writeln!(out, "{line}").is_err() {
        return ExitCode::FAILURE;
    }
    code
}
