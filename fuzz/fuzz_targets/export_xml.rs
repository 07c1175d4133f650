//! The export XML reader: `export::summarize` and `export::for_each_resource` on any bytes. Invariants:
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
            let mut handed = 0u64;
            let read = lc_core::export::for_each_resource(path, |_| handed += 1);
            if let Ok((application, counted)) = read {
                assert_eq!(application, s.application);
                assert_eq!(counted, s.resources, "the two readers count differently");
                assert_eq!(handed, counted, "counted and handed-over records differ");
            }
        }
        Err(e) => {
            let line = e.one_line();
            assert!(!line.contains(lc_core::error::LINE_BREAKS), "{line:?}");
            assert!(line.contains(&name), "{line}");
        }
    }
});
