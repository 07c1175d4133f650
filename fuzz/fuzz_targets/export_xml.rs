//! The export XML reader: `export::summarize` and `export::resources` on any bytes. Invariants:
//! no panic; the size and SHA-256 are those of the bytes; when every record reads, the records
//! counted and the records returned agree; errors are one line naming the file.
#![no_main]

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
            assert!(!s.application.is_empty());
            if let Ok(rs) = lc_core::export::resources(path) {
                assert_eq!(rs.application(), s.application);
                let all: Result<Vec<_>, _> = rs.collect();
                if let Ok(all) = all {
                    assert_eq!(
                        all.len() as u64,
                        s.resources,
                        "counted and read records differ"
                    );
                }
            }
        }
        Err(e) => {
            let line = e.one_line();
            assert!(!line.contains(lc_core::error::LINE_BREAKS), "{line:?}");
            assert!(line.contains(&name), "{line}");
        }
    }
});
