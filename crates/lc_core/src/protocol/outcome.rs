//! What a module returns ([`Outcome`], [`Diff`]), the result object written from it, and the
//! one writer to stdout.

use crate::secret::MASK;
use serde_json::{Map, Value};

/// The `diff` key of a result.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Diff {
    pub before: String,
    pub after: String,
    pub before_header: String,
    pub after_header: String,
}

/// What a module returns: `changed`, an optional `msg`, its own keys, and `failed` for a run that
/// did part of its work and must still fail (e.g. one of many orphans).
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub changed: bool,
    pub failed: bool,
    pub msg: Option<String>,
    pub diff: Option<Diff>,
    pub fields: Map<String, Value>,
}

impl Outcome {
    pub fn new(changed: bool) -> Self {
        Outcome {
            changed,
            ..Outcome::default()
        }
    }

    pub fn msg(mut self, msg: impl Into<String>) -> Self {
        self.msg = Some(msg.into());
        self
    }

    /// Adds a result key; anything serde can write.
    pub fn with(mut self, key: &str, value: impl serde::Serialize) -> Self {
        let v = serde_json::to_value(value).unwrap_or(Value::Null);
        self.fields.insert(key.to_string(), v);
        self
    }

    /// Adds a line to the result's `warnings`, which Ansible shows as a warning.
    pub fn warn(mut self, warning: impl Into<String>) -> Self {
        let list = self
            .fields
            .entry("warnings")
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(lines) = list {
            lines.push(Value::from(warning.into()));
        }
        self
    }

    pub fn diff(mut self, diff: Option<Diff>) -> Self {
        self.diff = diff;
        self
    }
}

pub(super) fn failed_result(msg: &str, extra: Map<String, Value>) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("changed".into(), Value::Bool(false));
    m.insert("failed".into(), Value::Bool(true));
    m.insert("msg".into(), Value::from(crate::error::fold_lines(msg)));
    m.extend(extra);
    m
}

pub(super) fn success_result(out: Outcome) -> Map<String, Value> {
    let mut m = out.fields;
    m.insert("changed".into(), Value::Bool(out.changed));
    m.insert("failed".into(), Value::Bool(out.failed));
    if let Some(msg) = out.msg {
        // One line, like the message of a failure: a value it quotes may hold a line break.
        m.insert("msg".into(), Value::from(crate::error::fold_lines(&msg)));
    }
    if let Some(diff) = out.diff {
        m.insert(
            "diff".into(),
            serde_json::to_value(diff).unwrap_or(Value::Null),
        );
    }
    m
}

/// Replaces every occurrence of a secret in the result's strings with the mask: a last line of
/// defence should any message quote one.
pub(super) fn scrub(result: &mut Map<String, Value>, secrets: &[String]) {
    fn walk(v: &mut Value, secrets: &[String]) {
        match v {
            Value::String(s) => {
                for secret in secrets {
                    if s.contains(secret.as_str()) {
                        *s = s.replace(secret.as_str(), MASK);
                    }
                }
            }
            Value::Array(a) => a.iter_mut().for_each(|i| walk(i, secrets)),
            Value::Object(o) => o.values_mut().for_each(|i| walk(i, secrets)),
            _ => {}
        }
    }
    result.values_mut().for_each(|v| walk(v, secrets));
}

/// The one writer to stdout.
#[allow(clippy::print_stdout)]
pub fn emit(result: &Value) {
    println!("{result}");
}
