//! The args file: the task's options and the `_ansible_*` context.

use super::convert::to_bool;
use super::Context;
use crate::error::Error;
use serde_json::{Map, Value};
use std::path::PathBuf;

/// The parsed contents of the args file: the task's options and the context.
#[derive(Debug)]
pub struct Invocation {
    pub args: Map<String, Value>,
    pub ctx: Context,
    pub ignore_unknown: bool,
}

/// Splits the args file's JSON into the task's options and the `_ansible_*` context.
pub fn parse_args_json(text: &str) -> Result<Invocation, Error> {
    let value: Value = serde_json::from_str(text)
        .map_err(|e| Error::invalid(format!("the arguments file is not valid JSON: {e}")))?;
    let Value::Object(map) = value else {
        return Err(Error::invalid(
            "the arguments file does not hold a JSON object",
        ));
    };
    // Older ansible-core wraps everything in ANSIBLE_MODULE_ARGS.
    let map = match map.get("ANSIBLE_MODULE_ARGS") {
        Some(Value::Object(inner)) if map.len() == 1 => inner.clone(),
        _ => map,
    };
    let mut args = Map::new();
    let mut ctx = Context::default();
    let mut ignore_unknown = false;
    for (k, v) in map {
        match k.as_str() {
            "_ansible_check_mode" => ctx.check_mode = to_bool(&v).unwrap_or(false),
            "_ansible_diff" => ctx.diff = to_bool(&v).unwrap_or(false),
            "_ansible_ignore_unknown_opts" => ignore_unknown = to_bool(&v).unwrap_or(false),
            "_ansible_verbosity" => ctx.verbosity = v.as_u64().unwrap_or(0),
            "_ansible_tmpdir" => {
                ctx.tmpdir = v.as_str().filter(|s| !s.is_empty()).map(PathBuf::from)
            }
            k if k.starts_with("_ansible_") => {}
            _ => {
                args.insert(k, v);
            }
        }
    }
    Ok(Invocation {
        args,
        ctx,
        ignore_unknown,
    })
}
