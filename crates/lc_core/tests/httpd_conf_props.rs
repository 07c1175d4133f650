//! Properties of the httpd.conf editor, over generated confs: lines of directives, comments,
//! sections, continuation lines, blank lines, look-alikes of our marker lines, LF, CRLF and lone CR
//! endings, with or without a final line break.
//!
//! For every such conf: it parses; enabling gives a conf that parses and holds the block;
//! enabling again (with the same or other options) changes nothing but the block; disabling gives
//! back the original bytes exactly. A conf holding two BEGIN markers, or an END alone, is refused
//! with a one-line message naming the line.

use lc_core::httpd_conf::{
    parse_allow_from, Access, HttpdConf, Maintenance, BEGIN_MARKER, END_MARKER,
};
use proptest::prelude::*;
use std::path::Path;

const PATH: &str = "/opt/IBM/HTTPServer/conf/httpd.conf";

/// One line's text (no line ending).
fn line() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("   ".to_string()),
        Just("Listen 80".to_string()),
        Just("ServerRoot \"/opt/IBM/HTTPServer\"".to_string()),
        Just("DocumentRoot htdocs".to_string()),
        Just("LoadModule access_compat_module modules/mod_access_compat.so".to_string()),
        Just("LoadModule mime_module \\".to_string()),
        Just("<VirtualHost *:443>".to_string()),
        Just("</VirtualHost>".to_string()),
        Just("<Location />".to_string()),
        Just("    Require all granted".to_string()),
        Just("</Location>".to_string()),
        Just("<IfModule mod_ssl.c>".to_string()),
        Just("</IfModule>".to_string()),
        Just("ErrorDocument 403 /upgrading.htm".to_string()),
        // Look-alikes of the marker lines that are not markers.
        Just("# BEGIN connections.dr maintenance".to_string()),
        Just("#BEGIN connections.dr maintenance mode".to_string()),
        Just("## BEGIN connections.dr maintenance mode".to_string()),
        Just("# begin connections.dr maintenance mode".to_string()),
        Just("# END connections.dr maintenance".to_string()),
        Just("Include conf/# END connections.dr maintenance mode".to_string()),
        Just("# page written by lc-recover: /tmp/x.htm".to_string()),
        Just("# BEGIN connections.dr  maintenance mode".to_string()),
        "# [ -~]{0,40}",
        "[A-Za-z]{1,12}( [ -~&&[^\r\n]]{0,30})?",
        "[ \t]*\\PC{0,20}",
    ]
}

fn ending() -> impl Strategy<Value = &'static str> {
    prop_oneof![4 => Just("\n"), 3 => Just("\r\n"), 1 => Just("\r")]
}

/// A conf: lines with their endings; the last may have none.
fn conf() -> impl Strategy<Value = Vec<u8>> {
    (
        prop::collection::vec((line(), ending()), 0..24),
        any::<bool>(),
        // Every line the same ending (a real file) or each its own (a mixed one).
        prop::option::of(ending()),
    )
        .prop_map(|(lines, last_ended, uniform)| {
            let mut out = String::new();
            let n = lines.len();
            for (i, (text, eol)) in lines.into_iter().enumerate() {
                out.push_str(&text);
                if i + 1 < n || last_ended {
                    out.push_str(uniform.unwrap_or(eol));
                }
            }
            out.into_bytes()
        })
}

fn maintenance(which: u8) -> Maintenance {
    let allow = parse_allow_from(&[
        "10.0.0.5".into(),
        "was1.example.com".into(),
        "fd00::/8".into(),
    ])
    .unwrap();
    match which % 3 {
        0 => Maintenance {
            allow_from: allow,
            page_name: "upgrading.htm".into(),
            assets_path: None,
            error_codes: vec![401, 403],
            access: Access::Compat,
            page_written: None,
        },
        1 => Maintenance {
            allow_from: allow[..1].to_vec(),
            page_name: "down.html".into(),
            assets_path: Some("/assets/".into()),
            error_codes: vec![403],
            access: Access::CompatLoading(
                "/opt/IBM/HTTP Server/modules/mod_access_compat.so".into(),
            ),
            page_written: Some("/opt/IBM/HTTPServer/htdocs/down.html".into()),
        },
        _ => Maintenance {
            allow_from: allow,
            page_name: "upgrading.htm".into(),
            assets_path: Some("/connections/resources/".into()),
            error_codes: vec![401, 403, 503],
            access: Access::Require,
            page_written: Some("/srv/www/upgrading.htm".into()),
        },
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn enable_then_disable_gives_back_the_original(original in conf(), a in any::<u8>(), b in any::<u8>()) {
        let p = Path::new(PATH);
        let conf = HttpdConf::parse(p, original.clone()).expect("a conf without markers parses");
        prop_assert!(conf.block().is_none());
        prop_assert_eq!(text(&conf.disabled()), text(&original));
        let on = conf.enabled(&maintenance(a));
        let conf_on = HttpdConf::parse(p, on.clone()).expect("the enabled conf parses");
        prop_assert!(conf_on.block().is_some());
        // Idempotent.
        prop_assert_eq!(text(&conf_on.enabled(&maintenance(a))), text(&on));
        prop_assert_eq!(text(&conf_on.disabled()), text(&original));
        // Other options: the block changes where it stands, the rest stays.
        let other = conf_on.enabled(&maintenance(b));
        let conf_other = HttpdConf::parse(p, other.clone()).expect("the re-enabled conf parses");
        prop_assert_eq!(text(&conf_other.disabled()), text(&original));
        prop_assert_eq!(text(&conf_other.enabled(&maintenance(b))), text(&other));
        // Everything before the block is the original's first bytes.
        let start = conf_on.block().unwrap().range.start;
        prop_assert_eq!(&on[..start], &original[..start]);
        // The directives outside the block are the original's.
        prop_assert_eq!(conf_on.directives(), conf.directives());
    }

    #[test]
    fn damaged_markers_are_refused_on_one_line(
        before in conf(), after in conf(), kind in 0u8..3, crlf in any::<bool>()
    ) {
        let eol = if crlf { "\r\n" } else { "\n" };
        let mut bytes = before;
        if !bytes.is_empty() && !bytes.ends_with(b"\n") {
            bytes.extend_from_slice(eol.as_bytes());
        }
        match kind {
            0 => bytes.extend_from_slice(format!("{BEGIN_MARKER}{eol}").as_bytes()),
            1 => bytes.extend_from_slice(format!("{END_MARKER}{eol}").as_bytes()),
            _ => bytes.extend_from_slice(
                format!("{BEGIN_MARKER}{eol}{BEGIN_MARKER}{eol}{END_MARKER}{eol}").as_bytes(),
            ),
        }
        bytes.extend_from_slice(&after);
        let e = HttpdConf::parse(Path::new(PATH), bytes).expect_err("damaged markers are refused");
        let msg = e.one_line();
        prop_assert!(msg.starts_with(&format!("{PATH}:")), "{}", msg);
        prop_assert!(msg.contains("repair the file by hand"), "{}", msg);
        prop_assert!(!msg.contains(lc_core::error::LINE_BREAKS));
    }
}
