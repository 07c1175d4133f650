//! The Ansible binary-module protocol.
//!
//! ansible-core copies a module binary to the target and runs it with one argument: the path of a
//! JSON file with the task's options and internal `_ansible_*` keys. The module prints exactly one
//! JSON object on stdout. [`run`] does all of that around a [`Module`]: it reads the file,
//! validates the options against the module's [`ArgSpec`] with Ansible's own wording, converts
//! them into the module's typed options, calls it, and writes the result with explicit `changed`
//! and `failed` and the masked `invocation`. [`emit`] is the only place that writes to stdout.
//!
//! By concern: [`argspec`] (the options a module accepts and their validation), `convert`
//! (Ansible's type conversions), `args` (the args file), [`outcome`] (the result and the writer),
//! [`options`] (a module's typed options and their [`Opt`]s declared once, with
//! [`options!`](crate::options)).

mod args;
pub mod argspec;
mod convert;
pub mod options;
pub mod outcome;

pub use args::{parse_args_json, Invocation};
pub use argspec::{ArgSpec, Elem, Kind, Opt};
pub use convert::to_bool;
pub use options::OptionSet;
pub use outcome::{emit, Diff, Outcome};

use crate::error::{Error, ErrorKind};
use outcome::{failed_result, scrub, success_result};
use serde_json::{Map, Value};
use std::path::PathBuf;
use std::process::ExitCode;

/// What a module is: its name, its options and what it does with them.
pub trait Module {
    /// The module's name, as in `connections.dr.<NAME>`.
    const NAME: &'static str;
    /// The typed options, deserialized from the validated and defaulted arguments; declared with
    /// [`options!`](crate::options), which gives their [`Opt`]s.
    type Options: OptionSet;
    /// The options the module accepts and the rules between them: the options' own spec, to
    /// which a module adds its rules (`Options::spec().mutually_exclusive(…)`).
    fn spec() -> ArgSpec {
        <Self::Options as OptionSet>::spec()
    }
    /// Does the work (or, in check mode, predicts it).
    fn run(options: Self::Options, ctx: &Context) -> Result<Outcome, Error>;
}

/// What the task asked of the module beyond its options.
#[derive(Debug, Clone, Default)]
pub struct Context {
    pub check_mode: bool,
    pub diff: bool,
    /// The task's temporary directory on the target (`_ansible_tmpdir`), removed by Ansible.
    pub tmpdir: Option<PathBuf>,
    /// Ansible's verbosity (`-v` count).
    pub verbosity: u64,
}

/// Runs a module from its process arguments to the JSON it prints; `main` is `run::<M>()`.
pub fn run<M: Module>() -> ExitCode {
    let path = std::env::args_os().nth(1);
    if path.as_deref() == Some(std::ffi::OsStr::new("--argspec")) {
        emit(&serde_json::json!({"module": M::NAME, "spec": M::spec().describe()}));
        return ExitCode::SUCCESS;
    }
    let result = match path {
        None => failed_result(
            &format!(
                "{} is an Ansible module: run it with the path of a JSON arguments file",
                M::NAME
            ),
            Map::new(),
        ),
        Some(p) => match std::fs::read_to_string(&p) {
            Ok(text) => {
                mask_args_file::<M>(std::path::Path::new(&p), &text);
                run_text::<M>(&text)
            }
            Err(e) => failed_result(
                &format!(
                    "cannot read the arguments file {}: {e}",
                    PathBuf::from(&p).display()
                ),
                Map::new(),
            ),
        },
    };
    let failed = result
        .get("failed")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    emit(&Value::Object(result));
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// Once read, the arguments file that Ansible left in the task's temporary directory gets the
/// values of `no_log` options masked, so that no secret outlives the run in it (Ansible keeps the
/// directory with `ANSIBLE_KEEP_REMOTE_FILES`). A file elsewhere (a module run by hand) is left as
/// it is. Best effort: a file that cannot be rewritten stays as Ansible wrote it.
fn mask_args_file<M: Module>(path: &std::path::Path, text: &str) {
    let Ok(inv) = parse_args_json(text) else {
        return;
    };
    let in_task_tmpdir = inv
        .ctx
        .tmpdir
        .as_deref()
        .is_some_and(|t| path.parent() == Some(t.components().as_path()));
    if !in_task_tmpdir {
        return;
    }
    let Ok(Value::Object(mut map)) = serde_json::from_str::<Value>(text) else {
        return;
    };
    let spec = M::spec();
    let names: Vec<&str> = spec
        .options
        .iter()
        .filter(|o| o.no_log)
        .flat_map(|o| std::iter::once(o.name).chain(o.aliases.iter().copied()))
        .collect();
    let mut masked = false;
    let mut mask_in = |m: &mut Map<String, Value>| {
        for n in &names {
            if let Some(v) = m.get_mut(*n) {
                if !v.is_null() {
                    *v = Value::from("VALUE_SPECIFIED_IN_NO_LOG_PARAMETER");
                    masked = true;
                }
            }
        }
    };
    mask_in(&mut map);
    if let Some(Value::Object(inner)) = map.get_mut("ANSIBLE_MODULE_ARGS") {
        mask_in(inner);
    }
    if masked {
        let _ = std::fs::write(path, Value::Object(map).to_string());
    }
}

/// Runs a module on the text of an args file and returns the result object (also used by tests).
pub fn run_text<M: Module>(text: &str) -> Map<String, Value> {
    let inv = match parse_args_json(text) {
        Ok(inv) => inv,
        Err(e) => return failed_result(&e.one_line(), Map::new()),
    };
    let spec = M::spec();
    let secrets = spec.secrets_in(&inv.args);
    let mut result = match spec.validate(M::NAME, &inv.args, inv.ignore_unknown) {
        Err(e) => {
            let mut r = failed_result(&e.one_line(), Map::new());
            r.insert("invocation".into(), invocation(&spec.masked(&inv.args)));
            r
        }
        Ok(args) => {
            let masked = spec.masked(&args);
            let options = serde_json::from_value::<M::Options>(Value::Object(args));
            let mut r = match options {
                Err(e) => {
                    failed_result(&format!("invalid options for {}: {e}", M::NAME), Map::new())
                }
                Ok(options) => match M::run(options, &inv.ctx) {
                    Ok(out) => success_result(out),
                    Err(e) => {
                        let mut r = failed_result(&e.one_line(), e.details());
                        if matches!(e.kind, ErrorKind::Timeout { .. }) {
                            r.insert("timed_out".into(), Value::Bool(true));
                        }
                        r
                    }
                },
            };
            r.insert("invocation".into(), invocation(&masked));
            r
        }
    };
    if !secrets.is_empty() {
        scrub(&mut result, &secrets);
    }
    result
}

fn invocation(args: &Map<String, Value>) -> Value {
    let mut inv = Map::new();
    inv.insert("module_args".into(), Value::Object(args.clone()));
    Value::Object(inv)
}

#[cfg(test)]
mod tests;
