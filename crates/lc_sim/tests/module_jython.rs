//! The Jython the modules ship (every `crates/*/jython/*.py` but lc-sim's own, which runs in the
//! stand-in's Jython 2.7) keeps to Jython 2.1, by the same rules the simulated wsadmin refuses a
//! script by: checked here as files, not only when a test happens to run the script through lc-sim.

use std::path::{Path, PathBuf};

fn module_jython_files() -> Vec<PathBuf> {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let mut files = Vec::new();
    for entry in std::fs::read_dir(crates).unwrap() {
        let krate = entry.unwrap().path();
        let dir = krate.join("jython");
        if !dir.is_dir() || krate.ends_with("lc_sim") {
            continue;
        }
        for f in std::fs::read_dir(&dir).unwrap() {
            let f = f.unwrap().path();
            if f.extension().is_some_and(|e| e == "py") {
                files.push(f);
            }
        }
    }
    files.sort();
    files
}

#[test]
fn every_module_jython_file_keeps_to_jython_21() {
    let files = module_jython_files();
    let names: Vec<String> = files
        .iter()
        .map(|f| {
            let krate = f.parent().unwrap().parent().unwrap().file_name().unwrap();
            format!(
                "{}/{}",
                krate.to_string_lossy(),
                f.file_name().unwrap().to_string_lossy()
            )
        })
        .collect();
    // The prelude, the postlude and the scheduler part of lc_core, and one body per wsadmin module.
    for expected in [
        "lc_core/prelude.py",
        "lc_core/postlude.py",
        "lc_core/scheduler.py",
        "lc_export/export.py",
        "lc_orphan/orphan.py",
        "lc_queue/queue.py",
        "lc_resync/resync.py",
        "lc_scheduler/scheduler.py",
        "lc_sync_report/sync_report.py",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} not found in {names:?}"
        );
    }
    for f in &files {
        let src = std::fs::read_to_string(f).unwrap();
        let found = lc_sim::jython21::check(&src);
        assert!(found.is_empty(), "{}: {found:?}", f.display());
    }
}

#[test]
fn the_rules_find_what_jython_21_lacks_in_such_a_file() {
    // The check is not vacuous: a body written with Python 2.2+ constructs is refused.
    let src = "def lcr_main():\n    names = sorted(ARGS)\n    return len(names) > 0 and True\n";
    let found: Vec<&str> = lc_sim::jython21::check(src)
        .iter()
        .map(|f| f.construct)
        .collect();
    assert_eq!(found, ["sorted()", "True/False"], "{src}");
}
