//! Properties of the httpd.conf editor, over generated confs: lines of directives, comments,
//! sections, continuation lines, blank lines, look-alikes of our marker lines, LF, CRLF and lone CR
//! endings, with or without a final line break.
//!
//! VirtualHosts are generated whole too, with their own `<Location>`/`<LocationMatch>` sections,
//! ErrorDocuments, RewriteRules and Redirects, inside `<IfModule>` or not.
//!
//! For every such conf: it parses; enabling gives a conf that parses and holds the block;
//! enabling again (with the same or other options) changes nothing but the blocks; disabling gives
//! back the original bytes exactly. Where it takes effect: in every VirtualHost with sections of
//! its own, our `<Location />` is the last Location section but the page's and the assets'; in every server
//! or VirtualHost context, the first RewriteRule/Redirect is our guard's. The only refusal is the
//! guard with a host name in the allow list, on one line naming the file and line. A conf holding
//! two BEGIN markers in a row, or an END alone, is refused with a one-line message naming the line.

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

/// A whole VirtualHost: its lines, the opening first and the closing last.
fn virtual_host() -> impl Strategy<Value = Vec<String>> {
    let body = prop_oneof![
        Just(vec!["    ServerName a.example.com".to_string()]),
        Just(vec![
            "    ServerAlias b.example.com *.example.org".to_string()
        ]),
        Just(vec!["    ErrorDocument 403 \"Forbidden\"".to_string()]),
        Just(vec![
            "    RewriteEngine on".to_string(),
            "    RewriteRule ^/$ /homepage [R,L]".to_string()
        ]),
        Just(vec![
            "    RewriteCond %{HTTP_HOST} ^x$".to_string(),
            "    RewriteRule ^ https://y/ [R=301]".to_string()
        ]),
        Just(vec!["    Redirect permanent /old /new".to_string()]),
        Just(vec![
            "    <Location />".to_string(),
            "        Order allow,deny".to_string(),
            "        Allow from all".to_string(),
            "    </Location>".to_string()
        ]),
        Just(vec![
            "    <Location /files>".to_string(),
            "        Require all granted".to_string(),
            "    </Location>".to_string()
        ]),
        Just(vec![
            "    <LocationMatch \"^/(a|b)\">".to_string(),
            "        Satisfy any".to_string(),
            "    </LocationMatch>".to_string()
        ]),
        Just(vec![
            "    <Directory /srv>".to_string(),
            "        RewriteRule ^x y".to_string(),
            "    </Directory>".to_string()
        ]),
        Just(vec![
            "    <IfModule rewrite_module>".to_string(),
            "      RewriteRule ^/$ /x [R]".to_string(),
            "    </IfModule>".to_string()
        ]),
        line()
            .prop_filter("no section lines", |l| !l.trim_start().starts_with('<'))
            .prop_map(|l| vec![l]),
    ];
    (
        prop::sample::select(vec!["*:443", "10.0.0.5:80", "_default_:8080", "*"]),
        prop::collection::vec(body, 0..6),
        any::<bool>(),
    )
        .prop_map(|(addr, body, wrapped)| {
            let mut out = Vec::new();
            if wrapped {
                out.push("<IfModule ibm_ssl_module>".to_string());
            }
            out.push(format!("<VirtualHost {addr}>"));
            out.extend(body.into_iter().flatten());
            out.push("</VirtualHost>".to_string());
            if wrapped {
                out.push("</IfModule>".to_string());
            }
            out
        })
}

/// A conf made of single lines and whole VirtualHosts, every line ended alike.
fn site_conf() -> impl Strategy<Value = Vec<u8>> {
    let chunk = prop_oneof![
        3 => line().prop_filter("whole sections only", |l| !l.trim_start().starts_with('<') && !l.ends_with('\\')).prop_map(|l| vec![l]),
        2 => virtual_host(),
    ];
    (
        prop::collection::vec(chunk, 0..10),
        prop_oneof![Just("\n"), Just("\r\n")],
        any::<bool>(),
    )
        .prop_map(|(chunks, eol, last_ended)| {
            let lines: Vec<String> = chunks.into_iter().flatten().collect();
            let mut out = lines.join(eol);
            if last_ended && !lines.is_empty() {
                out.push_str(eol);
            }
            out.into_bytes()
        })
}

/// The enabled conf's directives with our blocks read as ordinary lines.
fn all_directives(enabled: &[u8]) -> Vec<lc_core::httpd_conf::Directive> {
    let text = String::from_utf8_lossy(enabled)
        .replace("# BEGIN connections.dr", "# begin (ours)")
        .replace("# END connections.dr", "# end (ours)");
    HttpdConf::parse(Path::new(PATH), text.into_bytes())
        .expect("parses")
        .directives()
}

/// Where it takes effect, checked on the enabled conf (see the file's header); `Err` says where not.
fn takes_effect(enabled: &[u8], m: &Maintenance) -> Result<(), String> {
    let ds = all_directives(enabled);
    let mut vhost: Option<usize> = None;
    let mut first_early_seen_in_context = false;
    for (i, d) in ds.iter().enumerate() {
        let early = ["RewriteRule", "RewriteCond", "Redirect"]
            .iter()
            .any(|n| d.name.eq_ignore_ascii_case(n));
        let context_level = d
            .sections
            .iter()
            .all(|s| (s.starts_with("if") && s.len() > 2) || s == "virtualhost");
        if d.name == "<virtualhost" {
            vhost = Some(i);
            first_early_seen_in_context = false;
        } else if d.name == "</virtualhost" {
            let start = vhost.take().unwrap_or(0);
            let inside = &ds[start..i];
            let own = inside
                .iter()
                .any(|x| x.name == "<location" || x.name == "<locationmatch");
            if own {
                // The last Location section but the page's and the assets' must be ours.
                let last = inside
                    .iter()
                    .enumerate()
                    .rev()
                    .find(|(_, x)| {
                        (x.name == "<location" || x.name == "<locationmatch")
                            && m.assets_path.as_deref() != x.args.first().map(String::as_str)
                            && Some(format!("/{}", m.page_name)).as_deref()
                                != x.args.first().map(String::as_str)
                    })
                    .map(|(j, _)| start + j)
                    .expect("a location");
                let ours = ds[last].args == ["/"]
                    && ds[last + 1..]
                        .iter()
                        .take_while(|x| x.name != "</location")
                        .any(|x| x.name.eq_ignore_ascii_case("ErrorDocument"));
                if !ours {
                    return Err(format!(
                        "the VirtualHost of line {} ends with a Location of its own (line {})",
                        ds[start].line, ds[last].line
                    ));
                }
            }
            first_early_seen_in_context = false;
        } else if early && context_level && !first_early_seen_in_context {
            first_early_seen_in_context = true;
            let ours =
                d.name == "RewriteCond" && d.args.first().map(String::as_str) == Some("expr");
            if !ours {
                return Err(format!(
                    "line {}: {} comes before the guard",
                    d.line, d.name
                ));
            }
        }
    }
    Ok(())
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
            allow_from: vec![allow[0].clone(), allow[2].clone()],
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

/// Enable with `a`, again, with `b`, disable: the round trip of the file header. `None` when the
/// conf is refused (only the documented refusal is accepted).
fn round_trip(
    p: &Path,
    conf: &HttpdConf,
    original: &[u8],
    a: u8,
    b: u8,
) -> Result<Option<Vec<u8>>, TestCaseError> {
    prop_assert!(conf.block().is_none());
    prop_assert_eq!(text(&conf.disabled()), text(original));
    let on = match conf.enabled(&maintenance(a)) {
        Ok(on) => on,
        Err(e) => {
            let msg = e.one_line();
            prop_assert!(msg.starts_with(&format!("{PATH}:")), "{}", msg);
            prop_assert!(
                msg.contains("(a host name): list its address instead"),
                "{}",
                msg
            );
            prop_assert!(!msg.contains(lc_core::error::LINE_BREAKS));
            prop_assert!(maintenance(a)
                .allow_from
                .iter()
                .any(|e| matches!(e, lc_core::httpd_conf::AllowEntry::Host(_))));
            return Ok(None);
        }
    };
    let conf_on = HttpdConf::parse(p, on.clone()).expect("the enabled conf parses");
    prop_assert!(conf_on.block().is_some());
    // Idempotent.
    prop_assert_eq!(
        text(&conf_on.enabled(&maintenance(a)).expect("enables again")),
        text(&on)
    );
    prop_assert_eq!(text(&conf_on.disabled()), text(original));
    // Other options: the blocks change where they stand, the rest stays.
    if let Ok(other) = conf_on.enabled(&maintenance(b)) {
        let conf_other = HttpdConf::parse(p, other.clone()).expect("the re-enabled conf parses");
        prop_assert_eq!(text(&conf_other.disabled()), text(original));
        prop_assert_eq!(
            text(&conf_other.enabled(&maintenance(b)).expect("again")),
            text(&other)
        );
    }
    // Everything before the first block is the original's first bytes.
    let start = conf_on.block().unwrap().range.start;
    prop_assert_eq!(&on[..start], &original[..start]);
    // The directives outside the blocks are the original's.
    let shape = |c: &HttpdConf| {
        c.directives()
            .into_iter()
            .map(|d| (d.name, d.args, d.sections))
            .collect::<Vec<_>>()
    };
    prop_assert_eq!(shape(&conf_on), shape(conf));
    Ok(Some(on))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn enable_then_disable_gives_back_the_original(original in conf(), a in any::<u8>(), b in any::<u8>()) {
        let p = Path::new(PATH);
        let conf = HttpdConf::parse(p, original.clone()).expect("a conf without markers parses");
        prop_assert!(conf.block().is_none());
        prop_assert_eq!(text(&conf.disabled()), text(&original));
        round_trip(p, &conf, &original, a, b)?;
    }

    #[test]
    fn confs_with_virtual_hosts_get_it_where_it_takes_effect(original in site_conf(), a in any::<u8>(), b in any::<u8>()) {
        let p = Path::new(PATH);
        let conf = HttpdConf::parse(p, original.clone()).expect("a conf without markers parses");
        if let Some(on) = round_trip(p, &conf, &original, a, b)? {
            if let Err(e) = takes_effect(&on, &maintenance(a)) {
                return Err(TestCaseError::fail(format!("{e}\n{}", text(&on))));
            }
        }
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
