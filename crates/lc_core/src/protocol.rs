//! The Ansible binary-module protocol.
//!
//! ansible-core copies a module binary to the target and runs it with one argument: the path of a
//! JSON file with the task's options and internal `_ansible_*` keys. The module prints exactly one
//! JSON object on stdout. [`run`] does all of that around a [`Module`]: it reads the file,
//! validates the options against the module's [`ArgSpec`] with Ansible's own wording, converts
//! them into the module's typed options, calls it, and writes the result with explicit `changed`
//! and `failed` and the masked `invocation`. [`emit`] is the only place that writes to stdout.

use crate::error::{Error, ErrorKind};
use crate::secret::MASK;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::ExitCode;

/// What a module is: its name, its options and what it does with them.
pub trait Module {
    /// The module's name, as in `connections.dr.<NAME>`.
    const NAME: &'static str;
    /// The typed options, deserialized from the validated and defaulted arguments.
    type Options: DeserializeOwned;
    /// The options the module accepts.
    fn spec() -> ArgSpec;
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

fn scalar_text(v: &Value) -> String {
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

fn convert(name: &str, kind: Kind, v: &Value) -> Result<Value, Error> {
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

fn failed_result(msg: &str, extra: Map<String, Value>) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("changed".into(), Value::Bool(false));
    m.insert("failed".into(), Value::Bool(true));
    m.insert("msg".into(), Value::from(crate::error::fold_lines(msg)));
    m.extend(extra);
    m
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

fn success_result(out: Outcome) -> Map<String, Value> {
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

fn invocation(args: &Map<String, Value>) -> Value {
    let mut inv = Map::new();
    inv.insert("module_args".into(), Value::Object(args.clone()));
    Value::Object(inv)
}

/// Replaces every occurrence of a secret in the result's strings with the mask: a last line of
/// defence should any message quote one.
fn scrub(result: &mut Map<String, Value>, secrets: &[String]) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Secret;

    struct Demo;

    #[derive(Debug, serde::Deserialize)]
    struct DemoOptions {
        state: String,
        count: i64,
        force: bool,
        names: Vec<String>,
        password: Option<Secret>,
        allow_from: Option<Vec<String>>,
    }

    impl Module for Demo {
        const NAME: &'static str = "demo";
        type Options = DemoOptions;
        fn spec() -> ArgSpec {
            ArgSpec::new()
                .opt(
                    Opt::str("state")
                        .default("enabled")
                        .choices(&["enabled", "disabled"]),
                )
                .opt(Opt::int("count").default(3))
                .opt(Opt::bool("force").default(false))
                .opt(
                    Opt::list("names", Elem::Str)
                        .default(Vec::<String>::new())
                        .aliases(&["name"]),
                )
                .opt(Opt::secret("password"))
                .opt(Opt::list("allow_from", Elem::Str))
                .required_if("state", "enabled", &["allow_from"])
        }
        fn run(o: DemoOptions, ctx: &Context) -> Result<Outcome, Error> {
            if o.names.iter().any(|n| n == "boom") {
                return Err(Error::invalid(format!(
                    "cannot use {}",
                    o.password.as_ref().map_or("", |p| p.expose())
                )));
            }
            Ok(Outcome::new(!ctx.check_mode)
                .with("count", o.count)
                .with("force", o.force)
                .with("state", &o.state)
                .with("names", &o.names)
                .with("check_mode", ctx.check_mode)
                .with("allowed", &o.allow_from))
        }
    }

    fn run_json(v: Value) -> Map<String, Value> {
        run_text::<Demo>(&v.to_string())
    }

    fn msg(r: &Map<String, Value>) -> &str {
        r["msg"].as_str().unwrap()
    }

    #[test]
    fn describes_the_spec_in_ansible_doc_terms() {
        let d = Demo::spec().describe();
        assert_eq!(
            d["options"][0],
            serde_json::json!({"name": "state", "type": "str", "elements": null, "required": false,
                "default": "enabled", "choices": ["enabled", "disabled"], "aliases": [], "no_log": false})
        );
        assert_eq!(d["options"][3]["type"], "list");
        assert_eq!(d["options"][3]["elements"], "str");
        assert_eq!(d["options"][3]["aliases"], serde_json::json!(["name"]));
        assert_eq!(d["options"][4]["no_log"], true);
        assert_eq!(
            d["required_if"],
            serde_json::json!([["state", "enabled", ["allow_from"]]])
        );
        assert_eq!(d["mutually_exclusive"], serde_json::json!([]));
    }

    #[test]
    fn converts_strings_and_fills_defaults() {
        let r = run_json(serde_json::json!({
            "count": "7", "force": "yes", "names": "a, b", "allow_from": ["x"],
            "_ansible_verbosity": 2, "_ansible_some_future_key": true
        }));
        assert_eq!(r["failed"], false);
        assert_eq!(r["changed"], true);
        assert_eq!(r["count"], 7);
        assert_eq!(r["force"], true);
        assert_eq!(r["names"], serde_json::json!(["a", "b"]));
        assert_eq!(r["state"], "enabled");
        for (word, b) in [
            ("1", true),
            ("On", true),
            ("t", true),
            ("no", false),
            ("0", false),
            ("F", false),
        ] {
            let r = run_json(serde_json::json!({"force": word, "allow_from": ["x"]}));
            assert_eq!(r["force"], b, "{word}");
        }
    }

    #[test]
    fn unsupported_parameters_use_ansible_wording() {
        let r = run_json(serde_json::json!({"bogus": 1, "alpha": 2, "allow_from": ["x"]}));
        assert_eq!(r["failed"], true);
        assert_eq!(r["changed"], false);
        assert_eq!(
            msg(&r),
            "Unsupported parameters for (demo) module: alpha, bogus. Supported parameters include: allow_from, count, force, names (name), password, state."
        );
        let r = run_json(
            serde_json::json!({"bogus": 1, "allow_from": ["x"], "_ansible_ignore_unknown_opts": true}),
        );
        assert_eq!(r["failed"], false);
    }

    #[test]
    fn bad_values_use_ansible_wording() {
        let cases = [
            (serde_json::json!({"state": "on", "allow_from": ["x"]}), "value of state must be one of: enabled, disabled, got: on"),
            (serde_json::json!({"count": "many", "allow_from": ["x"]}), "argument 'count' is of type <class 'str'> and we were unable to convert to int: invalid literal for int() with base 10: 'many'"),
            (serde_json::json!({"force": "maybe", "allow_from": ["x"]}), "argument 'force' is of type <class 'str'> and we were unable to convert to bool: The value 'maybe' is not a valid boolean.  Valid booleans include: 'no', 'on', 'yes', 'off', 'true', 'false', '1', '0', 't', 'f', 'y', 'n'"),
            (serde_json::json!({}), "state is enabled but all of the following are missing: allow_from"),
            (serde_json::json!({"name": ["a"], "names": ["b"], "allow_from": ["x"]}), "parameters are mutually exclusive: names|name"),
        ];
        for (args, expected) in cases {
            let r = run_json(args.clone());
            assert_eq!(r["failed"], true, "{args}");
            assert_eq!(msg(&r), expected, "{args}");
        }
    }

    #[test]
    fn missing_required_arguments() {
        let spec = ArgSpec::new()
            .opt(Opt::str("b").required())
            .opt(Opt::str("a").required());
        let err = spec.validate("x", &Map::new(), false).unwrap_err();
        assert_eq!(err.one_line(), "missing required arguments: a, b");
    }

    #[test]
    fn secrets_are_masked_and_scrubbed() {
        let r = run_json(
            serde_json::json!({"password": "hunter2", "names": ["boom"], "allow_from": ["x"]}),
        );
        assert_eq!(r["failed"], true);
        assert_eq!(msg(&r), "cannot use ********");
        assert_eq!(
            r["invocation"]["module_args"]["password"],
            "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
        );
        assert!(!Value::Object(r).to_string().contains("hunter2"));
    }

    #[test]
    fn the_args_file_in_the_task_tmpdir_loses_its_secrets() {
        let dir = std::env::temp_dir().join(format!("lcr-args-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let args = dir.join("args");
        let text = serde_json::json!({"password": "hunter2", "allow_from": ["x"],
            "_ansible_tmpdir": format!("{}/", dir.display())})
        .to_string();
        std::fs::write(&args, &text).unwrap();
        mask_args_file::<Demo>(&args, &text);
        let kept = std::fs::read_to_string(&args).unwrap();
        assert!(!kept.contains("hunter2"), "{kept}");
        assert!(kept.contains("VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"));
        // A file outside the task's temporary directory is not touched.
        let text = serde_json::json!({"password": "hunter2", "allow_from": ["x"],
            "_ansible_tmpdir": "/elsewhere"})
        .to_string();
        std::fs::write(&args, &text).unwrap();
        mask_args_file::<Demo>(&args, &text);
        assert_eq!(std::fs::read_to_string(&args).unwrap(), text);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_message_is_one_line_even_when_the_run_succeeds() {
        // Found by the hostile-input tests: an orphan's id with U+2028 quoted in lc_orphan's msg.
        let out = Outcome::new(true).msg("1 of 1 failed; first: a\u{2028}b\nc");
        assert_eq!(success_result(out)["msg"], "1 of 1 failed; first: a; b; c");
    }

    #[test]
    fn check_mode_reaches_the_module() {
        let r = run_json(serde_json::json!({"allow_from": ["x"], "_ansible_check_mode": true}));
        assert_eq!(r["check_mode"], true);
        assert_eq!(r["changed"], false);
    }

    #[test]
    fn broken_args_files_fail_cleanly() {
        let r = run_text::<Demo>("{not json");
        assert_eq!(r["failed"], true);
        assert!(
            msg(&r).starts_with("the arguments file is not valid JSON: "),
            "{}",
            msg(&r)
        );
        let r = run_text::<Demo>("[1, 2]");
        assert_eq!(msg(&r), "the arguments file does not hold a JSON object");
        let r = run_text::<Demo>("");
        assert_eq!(r["failed"], true);
        let r = run_text::<Demo>(r#"{"ANSIBLE_MODULE_ARGS": {"allow_from": "a,b"}}"#);
        assert_eq!(r["failed"], false);
    }
}
