//! The httpd.conf reader and editor: `HttpdConf::parse`, the directive reader, the VirtualHost,
//! Listen and section reader of `ConfSet`, and the enabled/disabled round trip (blocks at the end
//! of the conf, at the end of VirtualHosts, before rewrites). Invariants: no panic; a conf that
//! parses gives back its exact bytes once the blocks are removed; enabling either refuses on one
//! line naming the file and line, or gives a conf that parses, holds the blocks, is left as it
//! is by a second enable and gives back the original bytes when disabled.
#![no_main]

use lc_core::httpd_conf::{parse_allow_from, Access, ConfSet, HttpdConf, Maintenance};
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let path = Path::new("/opt/IBM/HTTPServer/conf/httpd.conf");
    let conf = match HttpdConf::parse(path, data.to_vec()) {
        Ok(c) => c,
        Err(e) => {
            assert!(!e.one_line().contains(lc_core::error::LINE_BREAKS));
            return;
        }
    };
    let _ = conf.directives();
    let _ = conf.server_root();
    let _ = conf.document_root();
    let _ = conf.load_modules();
    let _ = conf.detect_access(|p| p.ends_with("mod_access_compat.so"));
    let set = ConfSet {
        files: vec![conf.clone()],
    };
    let _ = set.virtual_hosts();
    let _ = set.listeners();
    let _ = set.server_name();
    let original = conf.disabled();
    if conf.block().is_none() {
        assert_eq!(original, data, "no block, yet disabled() changed the bytes");
    } else {
        let plain =
            HttpdConf::parse(path, original.clone()).expect("the conf without its block parses");
        assert!(plain.block().is_none(), "a block is left after disabling");
    }
    for m in maintenances() {
        let on = match conf.enabled(&m) {
            Ok(on) => on,
            Err(e) => {
                let msg = e.one_line();
                assert!(!msg.contains(lc_core::error::LINE_BREAKS), "{msg}");
                assert!(
                    msg.starts_with("/opt/IBM/HTTPServer/conf/httpd.conf:"),
                    "{msg}"
                );
                continue;
            }
        };
        let conf_on = HttpdConf::parse(path, on.clone()).expect("an enabled conf parses");
        assert!(
            conf_on.block().is_some(),
            "the block is not found after enabling"
        );
        assert_eq!(
            conf_on.enabled(&m).expect("enables again"),
            on,
            "enabling twice changed the conf"
        );
        assert_eq!(
            conf_on.disabled(),
            original,
            "disabling did not give back the original"
        );
        assert_eq!(conf_on.page_written().map(String::from), m.page_written);
    }
});

fn maintenances() -> Vec<Maintenance> {
    let allow = parse_allow_from(&[
        "10.0.0.5".into(),
        "was1.example.com".into(),
        "fd00::/8".into(),
    ])
    .expect("valid entries");
    vec![
        Maintenance {
            allow_from: allow.clone(),
            page_name: "upgrading.htm".into(),
            assets_path: None,
            error_codes: vec![401, 403],
            access: Access::Compat,
            page_written: None,
        },
        Maintenance {
            allow_from: allow.clone(),
            page_name: "down.html".into(),
            assets_path: Some("/assets/".into()),
            error_codes: vec![403],
            access: Access::CompatLoading(
                "/opt/IBM/HTTP Server/modules/mod_access_compat.so".into(),
            ),
            page_written: Some("/opt/IBM/HTTPServer/htdocs/down.html".into()),
        },
        Maintenance {
            allow_from: allow,
            page_name: "upgrading.htm".into(),
            assets_path: Some("/connections/resources/".into()),
            error_codes: vec![401, 403, 503],
            access: Access::Require,
            page_written: Some("/srv/www/upgrading.htm".into()),
        },
    ]
}
