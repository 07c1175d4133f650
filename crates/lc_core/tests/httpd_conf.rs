//! In/out fixtures of the httpd.conf editor: each folder under `fixtures/httpd_conf/` holds an
//! `input.conf`, the task's `options.json` and the `expected-enabled.conf`. Enabling must give the
//! expected bytes, enabling again must change nothing, disabling must give the input back exactly.
//! `LC_BLESS=1 cargo test -p lc_core --test httpd_conf` rewrites the expected files (review them).

use lc_core::httpd_conf::{parse_allow_from, Access, HttpdConf, Maintenance};
use std::path::{Path, PathBuf};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/httpd_conf")
}

fn maintenance(options: &serde_json::Value) -> Maintenance {
    let strings = |key: &str| -> Vec<String> {
        options[key]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    };
    let access = match options["access"].as_str().unwrap_or("compat") {
        "compat" => Access::Compat,
        "require" => Access::Require,
        other => Access::CompatLoading(
            other
                .strip_prefix("compat_loading:")
                .expect("access: compat, require or compat_loading:<path>")
                .to_string(),
        ),
    };
    Maintenance {
        allow_from: parse_allow_from(&strings("allow_from")).unwrap(),
        page_name: options["page_name"]
            .as_str()
            .unwrap_or("upgrading.htm")
            .to_string(),
        assets_path: options["assets_path"].as_str().map(String::from),
        error_codes: options["error_codes"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_u64())
                    .map(|c| c as u16)
                    .collect()
            })
            .unwrap_or_else(|| vec![401, 403]),
        access,
        page_written: options["page_written"].as_str().map(String::from),
    }
}

fn cases() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(fixtures())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    assert!(dirs.len() >= 5, "fixture folders missing");
    dirs
}

#[test]
fn enable_twice_then_disable_gives_the_original_bytes() {
    let bless = std::env::var_os("LC_BLESS").is_some();
    for dir in cases() {
        let case = dir.file_name().unwrap().to_string_lossy().into_owned();
        let input = std::fs::read(dir.join("input.conf")).unwrap();
        let options: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join("options.json")).unwrap()).unwrap();
        let m = maintenance(&options);
        let path = Path::new("/fixture/conf/httpd.conf");

        let conf = HttpdConf::parse(path, input.clone()).unwrap();
        assert!(conf.block().is_none(), "{case}");
        assert_eq!(
            conf.disabled(),
            input,
            "{case}: disabling a conf without block changes it"
        );
        let enabled = conf.enabled(&m).unwrap();
        let expected_path = dir.join("expected-enabled.conf");
        if bless {
            std::fs::write(&expected_path, &enabled).unwrap();
        }
        let expected = std::fs::read(&expected_path).unwrap();
        assert!(
            enabled == expected,
            "{case}: enabled conf differs from expected-enabled.conf:\n{}",
            String::from_utf8_lossy(&enabled)
        );
        // The blocks stand on lines of their own: what is before each is a prefix of the input.
        let blocks = HttpdConf::parse(path, enabled.clone()).unwrap();
        for b in blocks.blocks() {
            let before = HttpdConf::parse(path, enabled[..b.range.start].to_vec()).unwrap();
            assert!(input.starts_with(&before.disabled()), "{case}");
        }

        let again = HttpdConf::parse(path, enabled.clone()).unwrap();
        assert!(again.block().is_some(), "{case}: block not found");
        assert_eq!(
            again.page_written().map(String::from),
            m.page_written,
            "{case}"
        );
        assert_eq!(
            again.enabled(&m).unwrap(),
            enabled,
            "{case}: enabling twice changed the file"
        );
        assert_eq!(
            again.disabled(),
            input,
            "{case}: disabling did not restore the bytes"
        );

        // The managed lines use the file's own line ending.
        let text = String::from_utf8_lossy(&enabled);
        let crlf = text.matches("\r\n").count();
        let lf = text.matches('\n').count();
        if conf.eol() == "\r\n" {
            assert_eq!(crlf, lf, "{case}: a bare LF in a CRLF file");
        } else {
            assert_eq!(crlf, 0, "{case}: a CR in an LF file");
        }
    }
}

#[test]
fn facts_read_from_each_fixture() {
    let mut facts = String::new();
    for dir in cases() {
        let case = dir.file_name().unwrap().to_string_lossy().into_owned();
        let input = std::fs::read(dir.join("input.conf")).unwrap();
        let conf = HttpdConf::parse(Path::new("/fixture/conf/httpd.conf"), input).unwrap();
        let with_compat = conf.detect_access(|p| p.ends_with("mod_access_compat.so"));
        let without = conf.detect_access(|_| false);
        facts.push_str(&format!(
            "{case}: eol={:?} server_root={} document_root={:?} access(file present)={:?} access(no files)={:?}\n",
            conf.eol(),
            conf.server_root().display(),
            conf.document_root(),
            with_compat,
            without,
        ));
    }
    insta::assert_snapshot!(facts);
}

#[test]
fn damaged_and_edited_blocks() {
    let path = Path::new("/fixture/conf/httpd.conf");
    let input = std::fs::read(fixtures().join("ibm/input.conf")).unwrap();
    let options: serde_json::Value =
        serde_json::from_slice(&std::fs::read(fixtures().join("ibm/options.json")).unwrap())
            .unwrap();
    let enabled = HttpdConf::parse(path, input.clone())
        .unwrap()
        .enabled(&maintenance(&options))
        .unwrap();
    let text = String::from_utf8(enabled).unwrap();

    // BEGIN without END: refused, naming the line.
    let no_end: String = text
        .lines()
        .filter(|l| !l.starts_with("# END connections.dr"))
        .map(|l| format!("{l}\n"))
        .collect();
    let e = HttpdConf::parse(path, no_end.into_bytes()).unwrap_err();
    insta::assert_snapshot!("begin_without_end", e.one_line());

    // A hand edit inside the block is replaced by the next enable; outside it is kept.
    let edited = text.replace("    Allow from 10.10.0.11\n", "    Allow from 10.9.9.9\n");
    let conf = HttpdConf::parse(path, edited.clone().into_bytes()).unwrap();
    assert_eq!(
        conf.enabled(&maintenance(&options)).unwrap(),
        text.as_bytes()
    );
    assert_eq!(conf.disabled(), input);

    // Lines added after the block by hand stay; the next enable moves the block after them (so
    // that nothing added later outranks its <Location />), and disabling keeps them.
    let after = format!("{text}# added later\nServerTokens Prod\n");
    let conf = HttpdConf::parse(path, after.clone().into_bytes()).unwrap();
    let mut original = input.clone();
    original.extend_from_slice(b"# added later\nServerTokens Prod\n");
    let moved = conf.enabled(&maintenance(&options)).unwrap();
    assert_eq!(
        moved,
        HttpdConf::parse(path, original.clone())
            .unwrap()
            .enabled(&maintenance(&options))
            .unwrap()
    );
    assert!(String::from_utf8(moved)
        .unwrap()
        .ends_with("# END connections.dr maintenance mode\n"));
    assert_eq!(conf.disabled(), original);
}
