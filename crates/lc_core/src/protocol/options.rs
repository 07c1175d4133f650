//! Options declared once: [`options!`](crate::options) writes a module's typed options struct
//! and the [`Opt`]s its arguments are validated by from one list of fields, so that the two
//! cannot disagree on names, and a unit test it adds shows that the defaults, and a value of
//! each option's kind, become the fields' types.

use super::{ArgSpec, Kind, Opt};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use std::collections::BTreeSet;

/// A struct of options declared with [`options!`](crate::options): the typed options and the
/// [`Opt`]s of their fields.
pub trait OptionSet: DeserializeOwned {
    /// The options, in the order of the struct's fields (a flattened group's where it sits).
    fn options() -> Vec<Opt>;

    /// The options as an [`ArgSpec`], without rules between them.
    fn spec() -> ArgSpec {
        ArgSpec::new().opts(Self::options())
    }
}

/// Declares a module's options once: the struct the module receives and the [`Opt`] of each
/// field, which make its [`OptionSet`] (and so the module's [`ArgSpec`](crate::ArgSpec)).
///
/// Each field is `name: Type => <Opt constructor>(<its arguments>)`, then any of `Opt`'s
/// setters: `str()`, `bool()`, `int()`, `path()`, `list(Elem::Str)`, `dict()`, `secret()`,
/// `new(Kind::Raw)`, then `.required()`, `.default(…)`, `.choices(…)`, `.no_log()`,
/// `.aliases(…)`. The option's name is the field's. A field marked `#[flatten]` (after its doc
/// comment, before its other attributes) is a group of options declared the same way (e.g.
/// [`WsadminArgs`](crate::wsadmin::WsadminArgs)): serde flattens it, and its options come where
/// it sits. Other attributes (doc comments, `#[serde(…)]`, a `#[derive]` on the struct) are kept.
/// The struct gets `#[derive(serde::Deserialize)]` (the crate needs `serde`).
///
/// ```
/// use lc_core::{options, Elem};
/// use lc_core::protocol::OptionSet;
///
/// const ACTIONS: &[&str] = &["report", "assign", "delete"];
///
/// options! {
///     /// Shared by several modules.
///     #[derive(Debug)]
///     pub struct Common {
///         pub timeout: Option<u64> => int(),
///     }
/// }
///
/// options! {
///     /// The module's options.
///     #[derive(Debug)]
///     pub struct Options {
///         pub orphans: Vec<serde_json::Value> => list(Elem::Dict).required(),
///         pub action: String => str().default("report").choices(ACTIONS),
///         pub password: Option<lc_core::Secret> => secret(),
///         #[flatten]
///         pub common: Common,
///     }
/// }
///
/// let names: Vec<&str> = Options::options().iter().map(|o| o.name).collect();
/// assert_eq!(names, ["orphans", "action", "password", "timeout"]);
/// ```
///
/// Rules between options (`mutually_exclusive`, `required_if`, `required_one_of`) go on the
/// module's [`Module::spec`](crate::Module::spec), which is `Options::spec()` when the module
/// has none:
///
/// ```ignore
/// fn spec() -> ArgSpec {
///     Options::spec().mutually_exclusive(&["page_content", "page_src"])
/// }
/// ```
///
/// Each declaration also adds a unit test named after the struct (`#[cfg(test)] fn Options()`,
/// beside the struct in the value namespace): [`check`] on it.
#[macro_export]
macro_rules! options {
    // A flattened group of options.
    (@field $head:tt [$($out:tt)*] [$($opts:tt)*]
        $(#[doc = $doc:literal])*
        #[flatten]
        $(#[$fattr:meta])*
        $fvis:vis $field:ident : $ty:ty
        $(, $($rest:tt)*)?
    ) => {
        $crate::options!(@field $head
            [$($out)* $(#[doc = $doc])* #[serde(flatten)] $(#[$fattr])* $fvis $field: $ty,]
            [$($opts)* (flatten $ty)]
            $($($rest)*)?);
    };

    // One option.
    (@field $head:tt [$($out:tt)*] [$($opts:tt)*]
        $(#[$fattr:meta])*
        $fvis:vis $field:ident : $ty:ty => $make:ident ($($arg:tt)*) $(. $set:ident ($($sarg:tt)*))*
        $(, $($rest:tt)*)?
    ) => {
        $crate::options!(@field $head
            [$($out)* $(#[$fattr])* $fvis $field: $ty,]
            [$($opts)* (opt $crate::Opt::$make(stringify!($field), $($arg)*) $(.$set($($sarg)*))*)]
            $($($rest)*)?);
    };

    // Every field read.
    (@field [$(#[$attr:meta])* $vis:vis struct $name:ident] [$($out:tt)*] [$(($($opt:tt)*))*]) => {
        $(#[$attr])*
        #[derive(serde::Deserialize)]
        $vis struct $name {
            $($out)*
        }

        impl $crate::protocol::OptionSet for $name {
            fn options() -> ::std::vec::Vec<$crate::Opt> {
                ::std::iter::empty::<$crate::Opt>()
                    $(.chain($crate::options!(@each $($opt)*)))*
                    .collect()
            }
        }

        #[cfg(test)]
        #[test]
        #[allow(non_snake_case)]
        fn $name() {
            if let Err(e) = $crate::protocol::options::check::<$name>() {
                panic!("{} and its options disagree: {e}", stringify!($name));
            }
        }
    };

    (@each opt $e:expr) => {
        ::std::iter::once($e)
    };
    (@each flatten $ty:ty) => {
        <$ty as $crate::protocol::OptionSet>::options()
    };

    (
        $(#[$attr:meta])*
        $vis:vis struct $name:ident { $($fields:tt)* }
    ) => {
        $crate::options!(@field [$(#[$attr])* $vis struct $name] [] [] $($fields)*);
    };
}

/// Checks that a struct of options takes what its spec lets through: no two options share a
/// name, the defaults alone (with the required options given) make a struct, and so does each
/// other option given a value of its kind (each of its choices, if it has some). A field whose
/// type does not fit its option's kind, or that is neither optional nor defaulted, fails here
/// with serde's message rather than in a task as "invalid options".
pub fn check<O: OptionSet>() -> Result<(), String> {
    let spec = O::spec();
    let mut seen = BTreeSet::new();
    for o in &spec.options {
        if !seen.insert(o.name) {
            return Err(format!("the option {} is declared twice", o.name));
        }
    }
    let mut base = Map::new();
    for o in spec.options.iter().filter(|o| o.required) {
        let sample = samples(o).into_iter().next().unwrap_or(Value::Null);
        base.insert(o.name.to_string(), sample);
    }
    let build = |args: &Map<String, Value>| -> Result<(), String> {
        let valid = spec
            .validate("check", args, false)
            .map_err(|e| e.one_line())?;
        serde_json::from_value::<O>(Value::Object(valid))
            .map(drop)
            .map_err(|e| e.to_string())
    };
    build(&base).map_err(|e| format!("with the defaults: {e}"))?;
    for o in spec.options.iter().filter(|o| !o.required) {
        for sample in samples(o) {
            let mut args = base.clone();
            args.insert(o.name.to_string(), sample.clone());
            build(&args).map_err(|e| format!("{} = {sample}: {e}", o.name))?;
        }
    }
    Ok(())
}

/// Values of an option's kind, as a task could give them.
fn samples(o: &Opt) -> Vec<Value> {
    use super::Elem;
    let scalar = |s: &str| match o.choices {
        Some(choices) => choices.iter().map(|c| Value::from(*c)).collect(),
        None => vec![Value::from(s)],
    };
    match o.kind {
        Kind::Str | Kind::Raw => scalar("x"),
        Kind::Path => scalar("/x"),
        Kind::Bool => vec![Value::from(true), Value::from(false)],
        Kind::Int => vec![Value::from(1)],
        Kind::Dict => vec![Value::Object(Map::new())],
        Kind::List(elem) => {
            let one = match elem {
                Elem::Str => scalar("x"),
                Elem::Path => scalar("/x"),
                Elem::Int => vec![Value::from(1)],
                // A dict's keys are the module's to check; any value passes through.
                Elem::Dict | Elem::Raw => Vec::new(),
            };
            std::iter::once(Value::Array(Vec::new()))
                .chain(one.into_iter().map(|v| Value::Array(vec![v])))
                .collect()
        }
    }
}

#[cfg(test)]
mod tests;
