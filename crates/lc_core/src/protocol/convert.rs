//! Ansible's conversion of an option's value to its type (`str`, `bool`, `int`, `list`,
//! `dict`, `path`), with Ansible's error texts.

use super::argspec::{Elem, Kind};
use crate::error::Error;
use serde_json::Value;

pub(super) fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "<class 'NoneType'>",
        Value::Bool(_) => "<class 'bool'>",
        Value::Number(n) if n.is_f64() => "<class 'float'>",
        Value::Number(_) => "<class 'int'>",
        Value::String(_) => "<class 'str'>",
        Value::Array(_) => "<class 'list'>",
        Value::Object(_) => "<class 'dict'>",
    }
}

const TRUE_WORDS: &[&str] = &["y", "yes", "on", "1", "true", "t"];
const FALSE_WORDS: &[&str] = &["n", "no", "off", "0", "false", "f"];

/// Ansible's `boolean()`: the accepted spellings, case-insensitive.
pub fn to_bool(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => match n.as_f64() {
            Some(x) if (x - 1.0).abs() < f64::EPSILON => Some(true),
            Some(x) if x.abs() < f64::EPSILON => Some(false),
            _ => None,
        },
        Value::String(s) => {
            let s = s.trim().to_ascii_lowercase();
            if TRUE_WORDS.contains(&s.as_str()) {
                Some(true)
            } else if FALSE_WORDS.contains(&s.as_str()) {
                Some(false)
            } else {
                None
            }
        }
        _ => None,
    }
}

fn convert_err(name: &str, v: &Value, to: &str, why: String) -> Error {
    Error::invalid(format!(
        "argument '{name}' is of type {} and we were unable to convert to {to}: {why}",
        type_name(v)
    ))
}

fn to_int(name: &str, v: &Value) -> Result<Value, Error> {
    match v {
        Value::Number(n) if n.is_i64() || n.is_u64() => Ok(v.clone()),
        Value::Number(n) => match n.as_f64() {
            Some(x) if x.fract() == 0.0 && x.abs() < 9.0e15 => Ok(Value::from(x as i64)),
            _ => Err(convert_err(
                name,
                v,
                "int",
                format!("{n} cannot be converted to an int"),
            )),
        },
        Value::String(s) => s.trim().parse::<i64>().map(Value::from).map_err(|_| {
            convert_err(
                name,
                v,
                "int",
                format!("invalid literal for int() with base 10: '{s}'"),
            )
        }),
        other => Err(convert_err(
            name,
            v,
            "int",
            format!("{} cannot be converted to an int", type_name(other)),
        )),
    }
}

fn to_str(name: &str, v: &Value) -> Result<Value, Error> {
    match v {
        Value::String(_) => Ok(v.clone()),
        Value::Number(_) | Value::Bool(_) => Ok(Value::from(scalar_text(v))),
        _ => Err(convert_err(name, v, "str", "not a scalar value".into())),
    }
}

fn expand_home(s: &str) -> String {
    match (s.strip_prefix('~'), std::env::var("HOME")) {
        (Some(rest), Ok(home)) if rest.is_empty() || rest.starts_with('/') => {
            format!("{home}{rest}")
        }
        _ => s.to_string(),
    }
}

fn convert_elem(name: &str, elem: Elem, v: &Value) -> Result<Value, Error> {
    match elem {
        Elem::Str => to_str(name, v),
        Elem::Int => to_int(name, v),
        Elem::Path => to_str(name, v).map(|s| Value::from(expand_home(s.as_str().unwrap_or("")))),
        Elem::Dict => match v {
            Value::Object(_) => Ok(v.clone()),
            _ => Err(Error::invalid(format!(
                "Elements value for option '{name}' is of type {} and we were unable to convert to dict: dictionary requested, could not parse JSON or key=value",
                type_name(v)
            ))),
        },
        Elem::Raw => Ok(v.clone()),
    }
}

pub(super) fn convert(name: &str, kind: Kind, v: &Value) -> Result<Value, Error> {
    match kind {
        Kind::Str => to_str(name, v),
        Kind::Path => to_str(name, v).map(|s| Value::from(expand_home(s.as_str().unwrap_or("")))),
        Kind::Int => to_int(name, v),
        Kind::Bool => to_bool(v).map(Value::from).ok_or_else(|| {
            convert_err(
                name,
                v,
                "bool",
                format!("The value '{}' is not a valid boolean.  Valid booleans include: 'no', 'on', 'yes', 'off', 'true', 'false', '1', '0', 't', 'f', 'y', 'n'", scalar_text(v)),
            )
        }),
        Kind::Dict => match v {
            Value::Object(_) => Ok(v.clone()),
            Value::String(s) => serde_json::from_str::<Value>(s)
                .ok()
                .filter(Value::is_object)
                .ok_or_else(|| convert_err(name, v, "dict", "dictionary requested, could not parse JSON or key=value".into())),
            _ => Err(convert_err(name, v, "dict", "dictionary requested, could not parse JSON or key=value".into())),
        },
        Kind::List(elem) => {
            let items: Vec<Value> = match v {
                Value::Array(a) => a.clone(),
                Value::String(s) if s.is_empty() => Vec::new(),
                Value::String(s) => s.split(',').map(|p| Value::from(p.trim())).collect(),
                Value::Number(_) => vec![Value::from(scalar_text(v))],
                _ => return Err(convert_err(name, v, "list", "not a list".into())),
            };
            items
                .iter()
                .map(|i| convert_elem(name, elem, i))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array)
        }
        Kind::Raw => Ok(v.clone()),
    }
}
