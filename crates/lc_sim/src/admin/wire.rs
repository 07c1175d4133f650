//! Values on the wire: maps, the arguments of a call (checked), and the Python literals the
//! proxy reads.

use serde_json::{json, Value};

use super::iae;
use crate::model::Cell;
/// A map value for the wire, keys in this order.
pub fn jmap(pairs: Vec<(&str, Value)>) -> Value {
    Value::Object(
        [(
            "__map__".to_string(),
            Value::Array(pairs.into_iter().map(|(k, v)| json!([k, v])).collect()),
        )]
        .into_iter()
        .collect(),
    )
}

/// The pairs of a map value (`None` if it is not one).
pub(super) fn map_pairs(v: &Value) -> Option<Vec<(String, Value)>> {
    let m = v.as_object()?.get("__map__")?.as_array()?;
    Some(
        m.iter()
            .filter_map(|p| {
                let p = p.as_array()?;
                Some((
                    p.first()?.as_str()?.to_string(),
                    p.get(1).cloned().unwrap_or(Value::Null),
                ))
            })
            .collect(),
    )
}

pub(super) fn map_get(v: &Value, key: &str) -> Option<Value> {
    map_pairs(v)?
        .into_iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v)
}

pub(super) fn str_arg(args: &[Value], i: usize, what: &str) -> Result<String, String> {
    match args.get(i) {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(Value::Null) | None => Err(iae(format!("{what} must not be null"))),
        Some(other) => Err(iae(format!("{what} must be a string, got {other}"))),
    }
}

pub(super) fn int_arg(args: &[Value], i: usize, what: &str) -> Result<i64, String> {
    match args.get(i) {
        Some(Value::Number(n)) if n.is_i64() => Ok(n.as_i64().unwrap_or(0)),
        Some(Value::String(s)) => s
            .trim()
            .parse()
            .map_err(|_| iae(format!("{what} must be a number, got {s:?}"))),
        other => Err(iae(format!(
            "{what} must be a number, got {}",
            other.unwrap_or(&Value::Null)
        ))),
    }
}

pub(super) fn path_arg(args: &[Value], i: usize, what: &str) -> Result<String, String> {
    let p = str_arg(args, i, what)?;
    if p.contains('\\') {
        return Err(iae(format!(
            "{what} \"{p}\" contains a backslash; use forward slashes only"
        )));
    }
    if !p.starts_with('/') {
        return Err(iae(format!("{what} \"{p}\" is not an absolute path")));
    }
    Ok(p)
}

pub(super) fn resource_type_arg(args: &[Value], i: usize) -> Result<String, String> {
    let t = str_arg(args, i, "resourceType")?;
    if t != "community" {
        return Err(iae(format!(
            "unsupported resource type {t:?}; the only supported resource type is \"community\""
        )));
    }
    Ok(t)
}

pub(super) fn app_arg(cell: &Cell, args: &[Value], i: usize, what: &str) -> Result<String, String> {
    let a = str_arg(args, i, what)?;
    if !cell.has_app(&a) {
        return Err(iae(format!(
            "unknown {what} {a:?}; this deployment has: {}",
            cell.config.apps.join(", ")
        )));
    }
    Ok(a)
}

pub(super) fn uuid_arg(args: &[Value], i: usize, what: &str) -> Result<String, String> {
    let u = str_arg(args, i, what)?;
    if u.trim().is_empty() {
        return Err(iae(format!("{what} must not be empty")));
    }
    Ok(u)
}

/// A Python 2 byte-string literal of UTF-8 text (what the proxy `eval`s: no JSON parsing in Jython).
pub(super) fn py_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for b in s.bytes() {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'\'' => out.push_str("\\'"),
            0x20..=0x7e => out.push(b as char),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out.push('\'');
    out
}

/// A wire value as a Python literal: `_M([(k, v), …])` for maps, `_L([…])` for lists.
pub fn python_literal(v: &Value) -> String {
    match v {
        Value::Null => "None".into(),
        Value::Bool(b) => (if *b { "1" } else { "0" }).into(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => py_str(s),
        Value::Array(a) => {
            let items: Vec<String> = a.iter().map(python_literal).collect();
            format!("_L([{}])", items.join(", "))
        }
        Value::Object(_) => {
            let pairs = map_pairs(v).unwrap_or_default();
            let items: Vec<String> = pairs
                .iter()
                .map(|(k, x)| format!("({}, {})", py_str(k), python_literal(x)))
                .collect();
            format!("_M([{}])", items.join(", "))
        }
    }
}
