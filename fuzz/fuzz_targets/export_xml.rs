//! The export XML reader: `export::summarize` (any layout) and `export::for_each_resource` (the
//! simulated cell's layout) on any bytes, the hand-written fixtures of unknown layouts among the
//! seeds. Invariants: no panic; the size and SHA-256 are those of the bytes; the layout and count
//! agree (records need a record path; an unrecognized layout counts two records or more); only
//! known application ids are named; when every record of the known layout reads, the records
//! counted and the records handed over agree; errors are one line naming the file.
#![no_main]

use lc_core::export::Layout;
use libfuzzer_sys::fuzz_target;
use std::io::Write as _;
use std::path::PathBuf;
use std::sync::OnceLock;

fn scratch() -> &'static PathBuf {
    static FILE: OnceLock<PathBuf> = OnceLock::new();
    FILE.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("lcr-fuzz-export-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("scratch folder");
        dir.join("Blog.xml")
    })
}

fuzz_target!(|data: &[u8]| {
    let path = scratch();
    let mut f = std::fs::File::create(path).expect("scratch file");
    f.write_all(data).expect("write");
    drop(f);
    let name = path.display().to_string();
    match lc_core::export::summarize(path) {
        Ok(s) => {
            assert_eq!(s.bytes, data.len() as u64);
            assert_eq!(s.sha256.len(), 64);
            assert_eq!(s.record_path.is_some(), s.resources > 0, "{s:?}");
            if s.layout == Layout::Unrecognized {
                assert!(s.resources >= 2, "{s:?}");
            }
            for a in &s.applications {
                assert!(lc_core::apps::by_id(a).is_some(), "{a:?}");
            }
        }
        Err(e) => {
            let line = e.one_line();
            assert!(!line.contains(lc_core::error::LINE_BREAKS), "{line:?}");
            assert!(line.contains(&name), "{line}");
        }
    }
    let mut handed = 0u64;
    match lc_core::export::for_each_resource(path, |_| handed += 1) {
        Ok((_, counted)) => assert_eq!(handed, counted, "counted and handed-over records differ"),
        Err(e) => {
            let line = e.one_line();
            assert!(!line.contains(lc_core::error::LINE_BREAKS), "{line:?}");
            assert!(line.contains(&name), "{line}");
        }
    }
});
