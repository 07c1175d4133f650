use super::*;
use crate::Secret;

struct Demo;

crate::options! {
    #[derive(Debug)]
    struct DemoOptions {
        state: String => str().default("enabled").choices(&["enabled", "disabled"]),
        count: i64 => int().default(3),
        force: bool => bool().default(false),
        names: Vec<String> => list(Elem::Str).default(Vec::<String>::new()).aliases(&["name"]),
        password: Option<Secret> => secret(),
        allow_from: Option<Vec<String>> => list(Elem::Str),
    }
}

impl Module for Demo {
    const NAME: &'static str = "demo";
    type Options = DemoOptions;
    fn spec() -> ArgSpec {
        DemoOptions::spec().required_if("state", "enabled", &["allow_from"])
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
