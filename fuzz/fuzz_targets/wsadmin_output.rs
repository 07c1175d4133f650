//! What wsadmin prints: the marker records (`parse_records`), Java and Python maps
//! (`parse_java_map`), the one-line diagnosis of a failed run (`diagnose`, with the exception
//! reader behind it), the replay-queue tables (`replay::summary`, lc_queue's event tables) and
//! lc_resync's progress lines. Invariants: no panic, no endless loop; a
//! record's tag holds no tab or line break; a diagnosis is one line once folded.
#![no_main]

use lc_core::wsadmin::{self, Output, WsadminArgs};
use lc_core::Secret;
use libfuzzer_sys::fuzz_target;
use std::path::PathBuf;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data).into_owned();
    let records = wsadmin::parse_records(&text);
    for r in &records {
        assert!(!r.tag.contains(['\t', '\n']), "{:?}", r.tag);
    }
    let map = wsadmin::parse_java_map(&text);
    for k in map.keys() {
        assert!(text.contains(k.as_str()), "key {k:?} not in the text");
    }
    let args = WsadminArgs {
        wsadmin_path: PathBuf::from("/opt/IBM/WebSphere/AppServer/profiles/Dmgr01/bin/wsadmin.sh"),
        host: Some("dmgr.example.com".into()),
        port: Some(8879),
        conntype: None,
        user: Some("wasadmin".into()),
        password: Some(Secret::new("pw")),
        service_index: data.first().map(|b| u32::from(*b % 4)).filter(|i| *i > 0),
        timeout: Some(60),
        java_options: vec![],
        admin_scripts_dir: None,
    };
    for status in [Some(0), Some(105), Some(103), None] {
        if let Some(msg) = wsadmin::diagnose(&args, status, &text, &records) {
            let folded = lc_core::error::fold_lines(&msg);
            assert!(!folded.contains(lc_core::error::LINE_BREAKS), "{folded:?}");
        }
    }
    let out = Output { records, text };
    let _ = lc_queue::events(&out, "community");
    let _ = lc_queue::events(&out, "before");
    let _ = lc_core::replay::summary(&out, "before");
    for line in out.text.lines() {
        if let Some(p) = lc_resync::parse_progress(line) {
            assert!(lc_core::validate::is_uuid(&p.last_community_uuid));
        }
    }
});
