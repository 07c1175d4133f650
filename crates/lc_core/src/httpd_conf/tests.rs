use super::*;
use crate::fs::write_atomic;
use std::path::{Path, PathBuf};

fn m(access: Access) -> Maintenance {
    Maintenance {
        allow_from: parse_allow_from(&["10.0.0.5".into(), "was1.example.com".into()]).unwrap(),
        page_name: "upgrading.htm".into(),
        assets_path: Some("/assets/".into()),
        error_codes: vec![401, 403],
        access,
        page_written: None,
    }
}

#[test]
fn allow_entries() {
    for ok in [
        "10.0.0.5",
        "10.0.0.0/8",
        "10.1.0.0/255.255.0.0",
        "::1",
        "fd00::/8",
        "was1.example.com",
        "localhost",
        "dmgr-01.corp.",
    ] {
        AllowEntry::parse(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
    }
    for bad in [
        "",
        "10.0.0.1 10.0.0.2",
        "10.1",
        "10.0.0.0/33",
        "fd00::/129",
        "\"x\"",
        "a\nb",
        "</Location>",
        "env=foo",
        "-bad.example.com",
        "under_score.example.com",
        "10.0.0.0/+8",
    ] {
        let e = AllowEntry::parse(bad).unwrap_err().one_line();
        assert!(!e.contains('\n'), "{e}");
        assert!(e.starts_with("allow_from entry \""), "{e}");
    }
    assert_eq!(
        AllowEntry::parse("a\nb").unwrap_err().one_line(),
        r#"allow_from entry "a\nb" is not an IP address, a CIDR range or a host name"#
    );
    assert!(AllowEntry::parse("ALL")
        .unwrap_err()
        .one_line()
        .contains("everyone"));
    assert!(parse_allow_from(&[]).is_err());
}

#[test]
fn names_and_paths() {
    check_page_name("upgrading.htm").unwrap();
    for bad in ["", "../x", "a/b", ".htaccess", "a b", "a\\b", ".."] {
        assert!(check_page_name(bad).is_err(), "{bad}");
    }
    check_assets_path("/assets/").unwrap();
    check_assets_path("/connections/resources/web/").unwrap();
    for bad in ["/", "assets", "/a/../b", "/a b", "/a\"", "/a>"] {
        assert!(check_assets_path(bad).is_err(), "{bad}");
    }
    assert_eq!(check_error_codes(&[401, 403]).unwrap(), vec![401, 403]);
    assert!(check_error_codes(&[200]).is_err());
}

#[test]
fn appends_and_removes_without_trailing_newline() {
    let p = Path::new("/x/httpd.conf");
    // "Listen 80\r": a file whose only line ends in a lone CR (the block's LF made its first
    // break read CRLF, and disabling lost the CR; found by the round-trip property test).
    for original in [
        "Listen 80",
        "Listen 80\n",
        "",
        "Listen 80\r\nServerName x",
        "Listen 80\r",
        "\r",
        "Listen 80\nServerName x\r",
    ] {
        let conf = HttpdConf::parse(p, original.as_bytes().to_vec()).unwrap();
        let on = conf.enabled(&m(Access::Compat)).unwrap();
        let conf_on = HttpdConf::parse(p, on.clone()).unwrap();
        assert!(conf_on.block().is_some());
        assert_eq!(
            conf_on.enabled(&m(Access::Compat)).unwrap(),
            on,
            "{original:?}"
        );
        assert_eq!(conf_on.disabled(), original.as_bytes(), "{original:?}");
        // Changing the block in place keeps the rest.
        let other = conf_on.enabled(&m(Access::Require)).unwrap();
        let conf_other = HttpdConf::parse(p, other).unwrap();
        assert_eq!(conf_other.disabled(), original.as_bytes());
    }
}

#[test]
fn damaged_markers() {
    let p = Path::new("/x/httpd.conf");
    let only_begin = format!("Listen 80\n{BEGIN_MARKER}\nDeny from all\n");
    let e = HttpdConf::parse(p, only_begin.into_bytes()).unwrap_err();
    assert_eq!(
        e.one_line(),
        "/x/httpd.conf:2: the maintenance block's markers are damaged (a BEGIN marker without its END marker); repair the file by hand"
    );
    let only_end = format!("Listen 80\n{END_MARKER}\n");
    assert!(HttpdConf::parse(p, only_end.into_bytes()).is_err());
    let nested = format!("{BEGIN_MARKER}\n{BEGIN_MARKER}\n{END_MARKER}\n{END_MARKER}\n");
    assert!(HttpdConf::parse(p, nested.into_bytes()).is_err());
    // Two blocks one after the other (server level and a virtual host's) are fine.
    let two = format!("{BEGIN_MARKER}\n{END_MARKER}\nListen 80\n{BEGIN_MARKER}\n{END_MARKER}\n");
    let conf = HttpdConf::parse(p, two.into_bytes()).unwrap();
    assert_eq!(conf.blocks().len(), 2);
    assert_eq!(conf.disabled(), b"Listen 80\n");
}

#[test]
fn reads_roots_and_modules() {
    let text = "ServerRoot \"/opt/IBM/HTTPServer\"\nDocumentRoot htdocs\n<VirtualHost *:443>\n  DocumentRoot /elsewhere\n</VirtualHost>\n<IfModule mod_ssl.c>\nLoadModule ibm_ssl_module modules/mod_ibm_ssl.so\n</IfModule>\nLoadModule mime_module \\\n   modules/mod_mime.so\n";
    let conf = HttpdConf::parse(Path::new("/x/conf/httpd.conf"), text.into()).unwrap();
    assert_eq!(conf.server_root(), PathBuf::from("/opt/IBM/HTTPServer"));
    assert_eq!(
        conf.document_root(),
        Some(PathBuf::from("/opt/IBM/HTTPServer/htdocs"))
    );
    let mods = conf.load_modules();
    assert_eq!(mods.len(), 2);
    assert_eq!(
        mods[1].1,
        PathBuf::from("/opt/IBM/HTTPServer/modules/mod_mime.so")
    );
    let found = conf.detect_access(|p| p.ends_with("mod_access_compat.so"));
    assert_eq!(
        found,
        Some(Access::CompatLoading(
            "/opt/IBM/HTTPServer/modules/mod_access_compat.so".into()
        ))
    );
    assert_eq!(conf.detect_access(|_| false), None);
    let apache22 = conf.detect_access(|p| p.ends_with("mod_authz_host.so"));
    assert_eq!(apache22, Some(Access::Compat));
}

#[test]
fn a_backup_copies_what_a_link_points_to() {
    // Writing through the link is lc_core::fs's (fs/tests.rs); the backup reads the same file.
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("httpd.conf.real");
    std::fs::write(&real, "old\n").unwrap();
    let link = dir.path().join("httpd.conf");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    write_atomic(&link, b"new\n", 0o644).unwrap();
    let backup = backup_copy(&link).unwrap();
    assert_eq!(std::fs::read(&backup).unwrap(), b"new\n");
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
}

#[test]
fn stamps() {
    assert_eq!(utc_stamp(0), "1970-01-01@00:00:00");
    assert_eq!(utc_stamp(951_782_400 + 3_661), "2000-02-29@01:01:01");
}
