use super::*;
use crate::{Elem, Secret};
use serde_json::json;

crate::options! {
    /// A group shared by several modules.
    #[derive(Debug, Clone)]
    pub struct Group {
        pub host: Option<String> => str(),
        /// Documented fields keep their doc comment.
        #[serde(default)]
        pub extra: Vec<String> => list(Elem::Str).default(Vec::<String>::new()),
    }
}

crate::options! {
    /// Options of every kind, and a group flattened into them.
    #[derive(Debug)]
    pub struct Every {
        pub name: String => str().required(),
        pub mode: String => str().default("report").choices(&["report", "delete"]),
        pub force: bool => bool().default(false),
        pub port: Option<u16> => int(),
        pub dir: std::path::PathBuf => path().default("/tmp"),
        pub codes: Vec<i64> => list(Elem::Int).default(json!([401, 403])),
        pub rows: Vec<serde_json::Value> => list(Elem::Dict).default(json!([])),
        pub map: Option<std::collections::BTreeMap<String, String>> => dict(),
        pub password: Option<Secret> => secret(),
        pub anything: Option<serde_json::Value> => new(Kind::Raw).aliases(&["any"]),
        #[flatten]
        pub group: Group,
        pub last: Option<String> => str(),
    }
}

#[test]
fn the_struct_and_its_spec_agree_on_names_kinds_and_defaults() {
    let d = Every::spec().describe();
    let row = |name: &str| {
        d["options"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["name"] == name)
            .cloned()
            .unwrap()
    };
    let names: Vec<&str> = d["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap())
        .collect();
    // The fields' order, the group's options where the group sits.
    assert_eq!(
        names,
        [
            "name", "mode", "force", "port", "dir", "codes", "rows", "map", "password", "anything",
            "host", "extra", "last"
        ]
    );
    let kinds: Vec<(&str, Value)> = d["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["name"].as_str().unwrap(),
                json!([o["type"], o["elements"]]),
            )
        })
        .collect();
    assert_eq!(kinds[0], ("name", json!(["str", null])));
    assert_eq!(kinds[2], ("force", json!(["bool", null])));
    assert_eq!(kinds[3], ("port", json!(["int", null])));
    assert_eq!(kinds[4], ("dir", json!(["path", null])));
    assert_eq!(kinds[5], ("codes", json!(["list", "int"])));
    assert_eq!(kinds[6], ("rows", json!(["list", "dict"])));
    assert_eq!(kinds[7], ("map", json!(["dict", null])));
    assert_eq!(kinds[9], ("anything", json!(["raw", null])));
    assert_eq!(kinds[11], ("extra", json!(["list", "str"])));
    assert_eq!(row("name")["required"], true);
    assert_eq!(row("mode")["choices"], json!(["report", "delete"]));
    assert_eq!(row("password")["no_log"], true);
    assert_eq!(row("anything")["aliases"], json!(["any"]));

    // The defaults the spec fills in are the struct's values.
    let args = Every::spec()
        .validate("every", json!({"name": "n"}).as_object().unwrap(), false)
        .unwrap();
    let every: Every = serde_json::from_value(Value::Object(args)).unwrap();
    assert_eq!(every.name, "n");
    assert_eq!(every.mode, row("mode")["default"]);
    assert_eq!(every.force, row("force")["default"]);
    assert_eq!(every.dir, std::path::Path::new("/tmp"));
    assert_eq!(json!(every.codes), row("codes")["default"]);
    assert!(every.rows.is_empty());
    assert!(every.port.is_none() && every.map.is_none() && every.password.is_none());
    assert!(every.anything.is_none() && every.last.is_none());
    assert!(every.group.host.is_none() && every.group.extra.is_empty());
    assert_eq!(check::<Every>(), Ok(()));
}

#[test]
fn a_module_without_rules_has_the_options_spec() {
    struct M;
    impl crate::Module for M {
        const NAME: &'static str = "m";
        type Options = Group;
        fn run(_: Group, _: &crate::Context) -> Result<crate::Outcome, crate::Error> {
            Ok(crate::Outcome::new(false))
        }
    }
    assert_eq!(
        <M as crate::Module>::spec().describe(),
        Group::spec().describe()
    );
    assert_eq!(Group::spec().describe()["mutually_exclusive"], json!([]));
}

/// Hand-written pairs of struct and options, each wrong in one way.
macro_rules! disagreeing {
    ($name:ident { $($field:ident : $ty:ty),* } => [$($opt:expr),*]) => {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct $name { $($field: $ty),* }
        impl OptionSet for $name {
            fn options() -> Vec<Opt> {
                vec![$($opt),*]
            }
        }
    };
}

disagreeing!(WrongKind { force: Option<bool> } => [Opt::str("force")]);
disagreeing!(NoDefault { count: i64 } => [Opt::int("count")]);
disagreeing!(WrongChoice { mode: Option<u8> } => [Opt::str("mode").choices(&["1", "many"])]);
disagreeing!(Twice { a: Option<String> } => [Opt::str("a"), Opt::str("a")]);

#[test]
fn the_check_names_what_disagrees() {
    let e = check::<WrongKind>().unwrap_err();
    assert!(
        e.starts_with("force = \"x\": invalid type: string \"x\""),
        "{e}"
    );
    let e = check::<NoDefault>().unwrap_err();
    assert!(
        e.starts_with("with the defaults: invalid type: null"),
        "{e}"
    );
    let e = check::<WrongChoice>().unwrap_err();
    assert!(e.starts_with("mode = \"1\": "), "{e}");
    assert_eq!(
        check::<Twice>(),
        Err("the option a is declared twice".to_string())
    );
}
