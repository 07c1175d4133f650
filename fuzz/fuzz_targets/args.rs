//! The args file: `parse_args_json`, then every module's `ArgSpec::validate`, masking and typed
//! options, then the checks every value meets before it may reach a conf, a script or a path.
//! Invariants: no panic; every error is one line; a `no_log` option is masked; whatever a checker
//! accepts holds nothing that could end a line, a quote, a conf section or a path.
#![no_main]

use lc_core::httpd_conf::{check_assets_path, check_page_name, AllowEntry};
use lc_core::protocol::parse_args_json;
use lc_core::wsadmin::{self, WsadminArgs};
use lc_core::Module;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    // ansible-core writes the file as UTF-8 JSON; anything else fails in read_to_string.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let inv = match parse_args_json(text) {
        Ok(inv) => inv,
        Err(e) => return one_line(&e.one_line()),
    };
    module::<ihs_maintenance::IhsMaintenance>(&inv);
    module::<lc_scheduler::Scheduler>(&inv);
    module::<lc_queue::Queue>(&inv);
    module::<lc_export::Export>(&inv);
    module::<lc_sync_report::SyncReport>(&inv);
    module::<lc_orphan::Orphans>(&inv);
    module::<lc_resync::Resync>(&inv);
    for value in inv.args.values() {
        strings(value, &mut checkers);
    }
});

fn one_line(msg: &str) {
    let folded = lc_core::error::fold_lines(msg);
    assert!(!folded.contains(lc_core::error::LINE_BREAKS), "{folded:?}");
}

fn module<M: Module>(inv: &lc_core::protocol::Invocation) {
    let spec = M::spec();
    match spec.validate(M::NAME, &inv.args, inv.ignore_unknown) {
        Err(e) => one_line(&e.one_line()),
        Ok(args) => {
            let masked = spec.masked(&args);
            for opt in spec.options.iter().filter(|o| o.no_log) {
                if let Some(v) = masked.get(opt.name).filter(|v| !v.is_null()) {
                    assert_eq!(
                        v, "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER",
                        "{} shown",
                        opt.name
                    );
                }
            }
            if let Ok(w) = serde_json::from_value::<WsadminArgs>(Value::Object(args.clone())) {
                let w = w.normalized();
                match wsadmin::validate(&w) {
                    Ok(()) => {
                        if let Some(h) = &w.host {
                            assert!(
                                h.chars()
                                    .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c)),
                                "host {h:?} accepted"
                            );
                        }
                        for o in w.java_options.iter().chain(w.user.iter()) {
                            assert!(!o.chars().any(char::is_control), "{o:?} accepted");
                        }
                    }
                    Err(e) => one_line(&e.one_line()),
                }
            }
            let _ = serde_json::from_value::<M::Options>(Value::Object(args));
        }
    }
}

fn strings(v: &Value, f: &mut impl FnMut(&str)) {
    match v {
        Value::String(s) => f(s),
        Value::Array(a) => a.iter().for_each(|i| strings(i, f)),
        Value::Object(o) => o.iter().for_each(|(k, i)| {
            f(k);
            strings(i, f)
        }),
        _ => {}
    }
}

/// What may never pass a checker: characters that end a line, a quoted value or a section, or
/// that a shell would read.
fn hostile(c: char) -> bool {
    c.is_control() || "\"'`$<>\\;|&(){} ".contains(c)
}

fn checkers(s: &str) {
    if let Ok(e) = AllowEntry::parse(s) {
        assert!(
            e.as_str()
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || ".:/-".contains(c)),
            "allow_from {s:?} accepted"
        );
    }
    if check_page_name(s).is_ok() {
        assert!(!s.contains('/') && !s.starts_with('.') && !s.chars().any(hostile));
    }
    if check_assets_path(s).is_ok() {
        assert!(s.starts_with('/') && !s.split('/').any(|p| p == ".."));
        assert!(!s.chars().any(hostile), "assets_path {s:?} accepted");
    }
    if lc_core::validate::check_value("v", s).is_ok() {
        assert!(!s.is_empty() && !s.chars().any(char::is_control));
    }
    match lc_core::validate::check_remote_path("p", s) {
        Ok(()) => {
            assert!(s.starts_with('/') && !s.split('/').any(|p| p == ".."));
            assert!(
                !s.chars().any(|c| c.is_control() || "\"'`$\\".contains(c)),
                "path {s:?} accepted"
            );
        }
        Err(e) => one_line(&e.one_line()),
    }
    if lc_core::validate::is_uuid(s) {
        assert!(s.len() == 36 && s.chars().all(|c| c.is_ascii_hexdigit() || c == '-'));
    }
    if let Ok(apps) = lc_core::apps::validate_ids("a", &[s.to_string()]) {
        assert_eq!(apps[0].id, s);
    }
    let lit = wsadmin::jython_literal(s);
    assert!(lit.chars().all(|c| (' '..='~').contains(&c)), "{lit:?}");
    assert_eq!(unliteral(&lit), s, "the literal does not read back");
}

/// Reads back a `u"…"` literal as Jython would: `\"`, `\\` and `\uXXXX` (UTF-16 units).
fn unliteral(lit: &str) -> String {
    let body = lit
        .strip_prefix("u\"")
        .and_then(|b| b.strip_suffix('"'))
        .expect("u\"…\" form");
    let mut units: Vec<u16> = Vec::new();
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        if c == '"' {
            panic!("unescaped quote in {lit:?}");
        }
        if c != '\\' {
            units.push(c as u16);
            continue;
        }
        match chars.next() {
            Some('u') => {
                let hex: String = chars.by_ref().take(4).collect();
                units.push(u16::from_str_radix(&hex, 16).expect("4 hex digits"));
            }
            Some(c @ ('"' | '\\')) => units.push(c as u16),
            other => panic!("unknown escape {other:?} in {lit:?}"),
        }
    }
    String::from_utf16(&units).expect("valid UTF-16")
}
