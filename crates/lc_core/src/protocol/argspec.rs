//! The options a module accepts ([`Opt`], [`ArgSpec`]) and their validation, with Ansible's
//! own wording.

use super::convert::{convert, scalar_text};
use crate::error::Error;
use serde_json::{Map, Value};
use std::collections::BTreeSet;

/// The type an option's value is converted to, with Ansible's conversion rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Str,
    Bool,
    Int,
    /// A list; a string is split on commas, as Ansible does.
    List(Elem),
    Dict,
    /// A filesystem path: a string with `~` expanded.
    Path,
    /// Any JSON value, passed through.
    Raw,
}

/// The element type of a list option.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Elem {
    Str,
    Int,
    Dict,
    Path,
    Raw,
}

/// One option of a module.
#[derive(Debug, Clone)]
pub struct Opt {
    pub name: &'static str,
    pub kind: Kind,
    pub required: bool,
    pub default: Option<Value>,
    pub choices: Option<&'static [&'static str]>,
    pub no_log: bool,
    pub aliases: &'static [&'static str],
}

impl Opt {
    pub fn new(name: &'static str, kind: Kind) -> Self {
        Opt {
            name,
            kind,
            required: false,
            default: None,
            choices: None,
            no_log: false,
            aliases: &[],
        }
    }
    pub fn str(name: &'static str) -> Self {
        Opt::new(name, Kind::Str)
    }
    pub fn bool(name: &'static str) -> Self {
        Opt::new(name, Kind::Bool)
    }
    pub fn int(name: &'static str) -> Self {
        Opt::new(name, Kind::Int)
    }
    pub fn path(name: &'static str) -> Self {
        Opt::new(name, Kind::Path)
    }
    pub fn list(name: &'static str, elem: Elem) -> Self {
        Opt::new(name, Kind::List(elem))
    }
    pub fn dict(name: &'static str) -> Self {
        Opt::new(name, Kind::Dict)
    }
    /// A string whose value is masked in `invocation` and never shown.
    pub fn secret(name: &'static str) -> Self {
        Opt::new(name, Kind::Str).no_log()
    }
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }
    pub fn default(mut self, v: impl Into<Value>) -> Self {
        self.default = Some(v.into());
        self
    }
    pub fn choices(mut self, c: &'static [&'static str]) -> Self {
        self.choices = Some(c);
        self
    }
    pub fn no_log(mut self) -> Self {
        self.no_log = true;
        self
    }
    pub fn aliases(mut self, a: &'static [&'static str]) -> Self {
        self.aliases = a;
        self
    }
}

/// The options of a module and the rules between them.
#[derive(Debug, Clone, Default)]
pub struct ArgSpec {
    pub options: Vec<Opt>,
    pub mutually_exclusive: Vec<&'static [&'static str]>,
    /// `(option, value, options required when option == value)`.
    pub required_if: Vec<(&'static str, &'static str, &'static [&'static str])>,
    pub required_one_of: Vec<&'static [&'static str]>,
}

impl ArgSpec {
    pub fn new() -> Self {
        ArgSpec::default()
    }
    pub fn opt(mut self, o: Opt) -> Self {
        self.options.push(o);
        self
    }
    pub fn opts(mut self, os: impl IntoIterator<Item = Opt>) -> Self {
        self.options.extend(os);
        self
    }
    pub fn mutually_exclusive(mut self, names: &'static [&'static str]) -> Self {
        self.mutually_exclusive.push(names);
        self
    }
    pub fn required_if(
        mut self,
        key: &'static str,
        value: &'static str,
        needed: &'static [&'static str],
    ) -> Self {
        self.required_if.push((key, value, needed));
        self
    }
    pub fn required_one_of(mut self, names: &'static [&'static str]) -> Self {
        self.required_one_of.push(names);
        self
    }

    /// The options and their rules as data, in Ansible's documentation terms (`type`,
    /// `elements`, `required`, `default`, `choices`, `aliases`, `no_log`), for `make docs`, which
    /// writes the modules' documentation from it (`<module> --argspec` prints it).
    pub fn describe(&self) -> Value {
        fn kind(k: Kind) -> (&'static str, Option<&'static str>) {
            let elem = |e| match e {
                Elem::Str => "str",
                Elem::Int => "int",
                Elem::Dict => "dict",
                Elem::Path => "path",
                Elem::Raw => "raw",
            };
            match k {
                Kind::Str => ("str", None),
                Kind::Bool => ("bool", None),
                Kind::Int => ("int", None),
                Kind::List(e) => ("list", Some(elem(e))),
                Kind::Dict => ("dict", None),
                Kind::Path => ("path", None),
                Kind::Raw => ("raw", None),
            }
        }
        let options: Vec<Value> = self
            .options
            .iter()
            .map(|o| {
                let (ty, elements) = kind(o.kind);
                serde_json::json!({
                    "name": o.name,
                    "type": ty,
                    "elements": elements,
                    "required": o.required,
                    "default": o.default,
                    "choices": o.choices,
                    "aliases": o.aliases,
                    "no_log": o.no_log,
                })
            })
            .collect();
        serde_json::json!({
            "options": options,
            "mutually_exclusive": self.mutually_exclusive,
            "required_if": self.required_if,
            "required_one_of": self.required_one_of,
        })
    }

    fn find(&self, name: &str) -> Option<&Opt> {
        self.options
            .iter()
            .find(|o| o.name == name || o.aliases.contains(&name))
    }

    /// Validates raw task arguments (without `_ansible_*` keys) and returns them converted, with
    /// defaults filled in and aliases resolved. The error text is Ansible's own.
    pub fn validate(
        &self,
        module: &str,
        raw: &Map<String, Value>,
        ignore_unknown: bool,
    ) -> Result<Map<String, Value>, Error> {
        let mut out = Map::new();
        let mut unknown = BTreeSet::new();
        for (key, value) in raw {
            match self.find(key) {
                Some(opt) => {
                    if out.contains_key(opt.name) && !value.is_null() {
                        return Err(Error::invalid(format!(
                            "parameters are mutually exclusive: {}",
                            std::iter::once(opt.name)
                                .chain(opt.aliases.iter().copied())
                                .collect::<Vec<_>>()
                                .join("|")
                        )));
                    }
                    out.insert(opt.name.to_string(), value.clone());
                }
                None if ignore_unknown => {}
                None => {
                    unknown.insert(key.clone());
                }
            }
        }
        if !unknown.is_empty() {
            let mut supported: Vec<String> = self
                .options
                .iter()
                .map(|o| {
                    if o.aliases.is_empty() {
                        o.name.to_string()
                    } else {
                        format!("{} ({})", o.name, o.aliases.join(", "))
                    }
                })
                .collect();
            supported.sort();
            return Err(Error::invalid(format!(
                "Unsupported parameters for ({module}) module: {}. Supported parameters include: {}.",
                unknown.into_iter().collect::<Vec<_>>().join(", "),
                supported.join(", ")
            )));
        }

        let mut missing: Vec<&str> = self
            .options
            .iter()
            .filter(|o| o.required && out.get(o.name).is_none_or(Value::is_null))
            .map(|o| o.name)
            .collect();
        if !missing.is_empty() {
            missing.sort();
            return Err(Error::invalid(format!(
                "missing required arguments: {}",
                missing.join(", ")
            )));
        }

        for opt in &self.options {
            let value = match out.get(opt.name) {
                Some(v) if !v.is_null() => convert(opt.name, opt.kind, v)?,
                _ => opt.default.clone().unwrap_or(Value::Null),
            };
            if let (Some(choices), false) = (opt.choices, value.is_null()) {
                let check = |v: &Value| -> Result<(), Error> {
                    let s = scalar_text(v);
                    if choices.contains(&s.as_str()) {
                        Ok(())
                    } else {
                        Err(Error::invalid(format!(
                            "value of {} must be one of: {}, got: {}",
                            opt.name,
                            choices.join(", "),
                            s
                        )))
                    }
                };
                match &value {
                    Value::Array(items) => items.iter().try_for_each(check)?,
                    v => check(v)?,
                }
            }
            out.insert(opt.name.to_string(), value);
        }

        let given = |name: &str| {
            out.get(name).is_some_and(|v| !v.is_null()) && raw_given(raw, self.find(name))
        };
        for group in &self.mutually_exclusive {
            let set: Vec<&str> = group.iter().copied().filter(|n| given(n)).collect();
            if set.len() > 1 {
                return Err(Error::invalid(format!(
                    "parameters are mutually exclusive: {}",
                    group.join("|")
                )));
            }
        }
        for group in &self.required_one_of {
            if !group.iter().any(|n| given(n)) {
                return Err(Error::invalid(format!(
                    "one of the following is required: {}",
                    group.join(", ")
                )));
            }
        }
        for (key, value, needed) in &self.required_if {
            if out.get(*key).map(scalar_text).as_deref() == Some(value) {
                let missing: Vec<&str> = needed
                    .iter()
                    .copied()
                    .filter(|n| out.get(*n).is_none_or(is_empty_value))
                    .collect();
                if !missing.is_empty() {
                    return Err(Error::invalid(format!(
                        "{key} is {value} but all of the following are missing: {}",
                        missing.join(", ")
                    )));
                }
            }
        }
        Ok(out)
    }

    /// The arguments as they go back in `invocation.module_args`: secrets masked.
    pub fn masked(&self, args: &Map<String, Value>) -> Map<String, Value> {
        let mut out = args.clone();
        for opt in self.options.iter().filter(|o| o.no_log) {
            if let Some(v) = out.get_mut(opt.name) {
                if !v.is_null() {
                    *v = Value::from("VALUE_SPECIFIED_IN_NO_LOG_PARAMETER");
                }
            }
        }
        out
    }

    /// The values of the `no_log` options, to be scrubbed from any text the module returns.
    pub fn secrets_in(&self, raw: &Map<String, Value>) -> Vec<String> {
        self.options
            .iter()
            .filter(|o| o.no_log)
            .flat_map(|o| std::iter::once(o.name).chain(o.aliases.iter().copied()))
            .filter_map(|n| raw.get(n))
            .map(scalar_text)
            .filter(|s| !s.is_empty())
            .collect()
    }
}

fn raw_given(raw: &Map<String, Value>, opt: Option<&Opt>) -> bool {
    opt.is_some_and(|o| {
        std::iter::once(o.name)
            .chain(o.aliases.iter().copied())
            .any(|n| raw.get(n).is_some_and(|v| !v.is_null()))
    })
}

fn is_empty_value(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}
