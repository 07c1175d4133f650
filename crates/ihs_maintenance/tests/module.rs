//! The module through the protocol (`run_text`), on a conf in a temporary folder, without httpd:
//! `validate: false`, `restart: none`, or a stand-in apachectl script. The live-Apache behaviour
//! is tested at the Ansible level (tests/test_ihs_maintenance.py).

use ihs_maintenance::IhsMaintenance;
use lc_core::protocol::run_text;
use serde_json::{json, Map, Value};
use std::path::{Path, PathBuf};

const CONF: &str = "ServerRoot \"@ROOT@\"\r\nListen 80\r\nLoadModule authz_host_module modules/mod_authz_host.so\r\nDocumentRoot htdocs\r\n";

struct Site {
    _dir: tempfile::TempDir,
    root: PathBuf,
    conf: PathBuf,
}

impl Site {
    fn new() -> Site {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        for d in ["conf", "htdocs", "modules", "bin"] {
            std::fs::create_dir_all(root.join(d)).unwrap();
        }
        // The conf's modules folder holds mod_access_compat.so: the block loads it.
        std::fs::write(root.join("modules/mod_access_compat.so"), b"").unwrap();
        let conf = root.join("conf/httpd.conf");
        std::fs::write(&conf, CONF.replace("@ROOT@", &root.to_string_lossy())).unwrap();
        Site {
            _dir: dir,
            root,
            conf,
        }
    }

    fn run(&self, args: Value) -> Map<String, Value> {
        let mut all = json!({
            "conf_path": self.conf,
            "validate": false,
            "restart": "none",
            "verify": false,
        });
        for (k, v) in args.as_object().unwrap() {
            all[k] = v.clone();
        }
        run_text::<IhsMaintenance>(&all.to_string())
    }

    fn page(&self) -> PathBuf {
        self.root.join("htdocs/upgrading.htm")
    }

    fn conf_bytes(&self) -> Vec<u8> {
        std::fs::read(&self.conf).unwrap()
    }

    /// Puts a stand-in `bin/apachectl` running `script` in place.
    fn apachectl(&self, script: String) {
        let ctl = self.root.join("bin/apachectl");
        std::fs::write(&ctl, script).unwrap();
        set_exec(&ctl);
    }

    /// A stand-in `bin/apachectl` that logs its arguments to `ctl.log` and whose `-k` fails while
    /// the file `restart-broken` exists; returns the log's path and the flag's.
    fn breakable_apachectl(&self) -> (PathBuf, PathBuf) {
        let log = self.root.join("ctl.log");
        let broken = self.root.join("restart-broken");
        self.apachectl(format!(
            "#!/bin/sh\necho \"$@\" >> {log}\nif [ \"$1\" = -k ] && [ -e {flag} ]; then echo 'AH00000: cannot restart' >&2; exit 7; fi\nexit 0\n",
            log = log.display(),
            flag = broken.display()
        ));
        (log, broken)
    }

    fn scrub(&self, text: &str) -> String {
        text.replace(&*self.root.to_string_lossy(), "<ROOT>")
    }
}

fn enable() -> Value {
    json!({"state": "enabled", "allow_from": ["10.0.0.5", "was1.example.com"], "assets_path": "/assets/"})
}

fn keys(r: &Map<String, Value>) -> (bool, bool) {
    (
        r["changed"].as_bool().unwrap(),
        r["failed"].as_bool().unwrap(),
    )
}

#[test]
fn enable_is_idempotent_and_disable_restores_the_bytes() {
    let site = Site::new();
    let original = site.conf_bytes();

    let r = site.run(enable());
    assert_eq!(keys(&r), (true, false), "{r:?}");
    assert_eq!(r["access"], "compat_loaded");
    assert_eq!(r["allowed"], json!(["10.0.0.5", "was1.example.com"]));
    assert_eq!(r["restarted"], false);
    let enabled = site.conf_bytes();
    assert!(enabled.starts_with(&original));
    let added = String::from_utf8(enabled[original.len()..].to_vec()).unwrap();
    assert!(
        !added.replace("\r\n", "").contains('\n'),
        "managed lines must use CRLF here"
    );
    insta::assert_snapshot!("enabled_block", site.scrub(&added.replace("\r\n", "\n")));
    assert_eq!(
        std::fs::read_to_string(site.page()).unwrap(),
        lc_core::httpd_conf::DEFAULT_PAGE
    );

    let r = site.run(enable());
    assert_eq!(keys(&r), (false, false));
    assert_eq!(site.conf_bytes(), enabled);

    // Another allow list rewrites the block in place.
    let r = site
        .run(json!({"state": "enabled", "allow_from": ["10.0.0.6"], "assets_path": "/assets/"}));
    assert_eq!(keys(&r), (true, false));
    let text = String::from_utf8(site.conf_bytes()).unwrap();
    assert!(text.contains("    Allow from 10.0.0.6\r\n") && !text.contains("10.0.0.5"));

    let r = site.run(json!({"state": "disabled"}));
    assert_eq!(keys(&r), (true, false));
    assert_eq!(site.conf_bytes(), original);
    assert!(
        !site.page().exists(),
        "the page this module wrote is removed"
    );
    let r = site.run(json!({"state": "disabled"}));
    assert_eq!(keys(&r), (false, false));
}

#[test]
fn check_mode_and_diff_touch_nothing() {
    let site = Site::new();
    let original = site.conf_bytes();
    let mut args = enable();
    args["_ansible_check_mode"] = json!(true);
    args["_ansible_diff"] = json!(true);
    let r = site.run(args);
    assert_eq!(keys(&r), (true, false));
    assert_eq!(site.conf_bytes(), original);
    assert!(!site.page().exists());
    let diff = &r["diff"];
    assert_eq!(diff["before"], String::from_utf8(original).unwrap());
    assert!(diff["after"].as_str().unwrap().contains("Deny from all"));
    let listing: Vec<_> = std::fs::read_dir(site.root.join("conf")).unwrap().collect();
    assert_eq!(listing.len(), 1, "no temporary file left");
}

#[test]
fn an_administrators_own_page_is_kept() {
    let site = Site::new();
    std::fs::write(site.page(), "our own page\n").unwrap();
    let r = site.run(enable());
    assert_eq!(keys(&r), (true, false));
    assert_eq!(
        std::fs::read_to_string(site.page()).unwrap(),
        "our own page\n"
    );
    assert!(!String::from_utf8(site.conf_bytes())
        .unwrap()
        .contains("# page written by"));
    site.run(json!({"state": "disabled"}));
    assert_eq!(
        std::fs::read_to_string(site.page()).unwrap(),
        "our own page\n"
    );
}

#[test]
fn page_src_backup_and_renamed_page() {
    let site = Site::new();
    let src = site.root.join("maint.html");
    std::fs::write(&src, "from src\n").unwrap();
    let original = site.conf_bytes();
    let mut args = enable();
    args["page_src"] = json!(src);
    args["backup"] = json!(true);
    let r = site.run(args);
    assert_eq!(keys(&r), (true, false), "{r:?}");
    let backup = PathBuf::from(r["backup_file"].as_str().unwrap());
    assert_eq!(std::fs::read(&backup).unwrap(), original);
    assert_eq!(std::fs::read_to_string(site.page()).unwrap(), "from src\n");

    // A new page name: the old page (ours) goes, the new one is written and tracked.
    let mut args = enable();
    args["page_name"] = json!("maintenance.html");
    args["page_content"] = json!("renamed\n");
    let r = site.run(args);
    assert_eq!(keys(&r), (true, false));
    assert!(!site.page().exists());
    let new_page = site.root.join("htdocs/maintenance.html");
    assert_eq!(std::fs::read_to_string(&new_page).unwrap(), "renamed\n");
    site.run(json!({"state": "disabled"}));
    assert!(!new_page.exists());
    assert_eq!(site.conf_bytes(), original);
}

#[test]
fn validation_runs_apachectl_on_the_candidate() {
    let site = Site::new();
    let log = site.root.join("ctl.log");
    // A stand-in apachectl: logs its arguments; -t fails when the candidate names 10.0.0.66.
    site.apachectl(format!(
        "#!/bin/sh\necho \"$@\" >> {log}\nif [ \"$1\" = -t ]; then\n  if grep -q 10.0.0.66 \"$3\"; then echo \"AH00526: Syntax error on line 9 of $3:\" >&2; echo \"Invalid command 'Allow'\" >&2; exit 1; fi\n  echo 'Syntax OK' >&2\nfi\nexit 0\n",
        log = log.display()
    ));
    let original = site.conf_bytes();
    let bad = site.run(json!({"state": "enabled", "allow_from": ["10.0.0.66"], "validate": true, "restart": "graceful"}));
    assert_eq!(keys(&bad), (false, true));
    assert_eq!(
        site.scrub(bad["msg"].as_str().unwrap()),
        "the new <ROOT>/conf/httpd.conf does not pass apachectl -t and was not put in place: AH00526: Syntax error on line 9 of <ROOT>/conf/httpd.conf: Invalid command 'Allow'"
    );
    assert_eq!(site.conf_bytes(), original);
    assert!(!site.page().exists());

    let ok = site.run(json!({"state": "enabled", "allow_from": ["10.0.0.5"], "validate": true, "restart": "graceful"}));
    assert_eq!(keys(&ok), (true, false), "{ok:?}");
    assert_eq!(ok["restarted"], true);
    let calls = std::fs::read_to_string(&log).unwrap();
    let calls: Vec<String> = calls
        .lines()
        .map(|l| site.scrub(l))
        .map(|l| name_the_candidate(&l))
        .collect();
    insta::assert_snapshot!("apachectl_calls", calls.join("\n"));
}

/// Replaces the temporary candidate's name (pid, time) with `<candidate>`.
fn name_the_candidate(line: &str) -> String {
    line.split(' ')
        .map(|w| {
            if w.contains(".httpd.conf.lc-recover.") {
                "<ROOT>/conf/<candidate>".to_string()
            } else {
                w.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(unix)]
fn set_exec(p: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn one_line_errors() {
    let site = Site::new();
    let mut msgs = Vec::new();
    let cases = [
        json!({"state": "enabled"}),
        json!({"state": "enabled", "allow_from": ["10.0.0.1; Allow from all"]}),
        json!({"state": "enabled", "allow_from": ["10.0.0.1"], "page_name": "../etc/passwd"}),
        json!({"state": "enabled", "allow_from": ["10.0.0.1"], "assets_path": "/"}),
        json!({"state": "enabled", "allow_from": ["10.0.0.1"], "page_content": "x", "page_src": "/y"}),
        json!({"state": "enabled", "allow_from": ["10.0.0.1"], "error_codes": [200]}),
        json!({"state": "enabled", "allow_from": ["10.0.0.1"], "restart": "reload"}),
        json!({"state": "enabled", "allow_from": ["10.0.0.1"], "validate": true}),
        json!({"state": "on"}),
        json!({"state": "enabled", "allow_from": ["10.0.0.1"], "document_root": "/srv/x\nAllow from all"}),
        json!({"state": "enabled", "allow_from": ["10.0.0.1"], "conf_path": "/nonexistent/httpd.conf"}),
    ];
    for case in cases {
        let r = site.run(case.clone());
        assert_eq!(keys(&r), (false, true), "{case}: {r:?}");
        let msg = r["msg"].as_str().unwrap();
        assert!(!msg.contains('\n'));
        msgs.push(format!("{case}\n  -> {}", site.scrub(msg)));
    }
    // Damaged markers.
    let mut text = site.conf_bytes();
    text.extend_from_slice(lc_core::httpd_conf::BEGIN_MARKER.as_bytes());
    text.extend_from_slice(b"\r\n");
    std::fs::write(&site.conf, &text).unwrap();
    for state in ["enabled", "disabled"] {
        let r = site.run(json!({"state": state, "allow_from": ["10.0.0.1"]}));
        assert_eq!(keys(&r), (false, true));
        msgs.push(format!(
            "damaged, {state}\n  -> {}",
            site.scrub(r["msg"].as_str().unwrap())
        ));
    }
    assert_eq!(site.conf_bytes(), text);
    insta::assert_snapshot!("errors", msgs.join("\n"));
}

#[test]
fn a_restart_that_failed_is_owed_to_the_next_run() {
    let site = Site::new();
    let (log, broken) = site.breakable_apachectl();
    std::fs::write(&broken, b"").unwrap();
    let marker = ihs_maintenance::restart_pending_path(&site.conf);
    let on = |extra: Value| {
        let mut a = enable();
        a["restart"] = json!("graceful");
        for (k, v) in extra.as_object().unwrap() {
            a[k] = v.clone();
        }
        site.run(a)
    };

    let failed = on(json!({}));
    assert_eq!(keys(&failed), (true, true));
    assert_eq!(failed["restarted"], false);
    assert!(
        failed["msg"]
            .as_str()
            .unwrap()
            .ends_with("the old configuration keeps serving until IHS restarts cleanly (running the task again retries the restart)"),
        "{failed:?}"
    );
    assert!(marker.exists(), "the owed restart is recorded");
    assert_eq!(std::fs::read_to_string(&marker).unwrap(), "enabled\n");

    // The conf is already as wanted: check mode says a restart would happen, and does nothing.
    let calls = std::fs::read_to_string(&log).unwrap().lines().count();
    let check = on(json!({"_ansible_check_mode": true}));
    assert_eq!(keys(&check), (true, false));
    assert_eq!(
        std::fs::read_to_string(&log).unwrap().lines().count(),
        calls
    );

    // Still broken: the rerun tries again, fails again, the debt stays.
    let again = on(json!({}));
    assert_eq!(keys(&again), (true, true));
    assert!(marker.exists());

    // Repaired: the rerun restarts although the conf does not change, and settles the debt.
    std::fs::remove_file(&broken).unwrap();
    let conf = site.conf_bytes();
    let repaired = on(json!({}));
    assert_eq!(keys(&repaired), (true, false), "{repaired:?}");
    assert_eq!(repaired["restarted"], true);
    assert_eq!(
        site.scrub(repaired["msg"].as_str().unwrap()),
        "<ROOT>/conf/httpd.conf was already as wanted, but an earlier run did not restart IHS after changing it: restarted now"
    );
    assert_eq!(site.conf_bytes(), conf);
    assert!(!marker.exists());
    let settled = on(json!({}));
    assert_eq!(keys(&settled), (false, false));
    assert_eq!(settled["restarted"], false);

    // restart: none owes nothing and leaves no record.
    let off = site.run(json!({"state": "disabled"}));
    assert_eq!(keys(&off), (true, false));
    assert!(!marker.exists());
}

#[test]
fn a_page_kept_by_a_restart_that_failed_at_disable_is_still_ours() {
    // Disabling puts the original conf back; when the restart fails, the old conf keeps serving
    // the maintenance page, so the page stays, and the record of the owed restart says it is
    // ours: the next successful restart removes it, whether the next run disables again or
    // enables first (a rerun of the whole recovery) and disables later.
    for enable_first in [false, true] {
        let site = Site::new();
        let (_, broken) = site.breakable_apachectl();
        let original = site.conf_bytes();
        let marker = ihs_maintenance::restart_pending_path(&site.conf);
        let graceful = |state: &str| {
            let mut a = enable();
            a["state"] = json!(state);
            a["restart"] = json!("graceful");
            site.run(a)
        };

        let on = graceful("enabled");
        assert_eq!(keys(&on), (true, false), "{on:?}");
        assert!(site.page().exists());

        std::fs::write(&broken, b"").unwrap();
        let off = graceful("disabled");
        assert_eq!(keys(&off), (true, true), "{off:?}");
        assert_eq!(site.conf_bytes(), original);
        assert!(
            site.page().exists(),
            "the page the old conf still shows was removed"
        );
        assert_eq!(
            std::fs::read_to_string(&marker).unwrap(),
            format!("disabled\npage {}\n", site.page().display())
        );

        std::fs::remove_file(&broken).unwrap();
        if enable_first {
            let on = graceful("enabled");
            assert_eq!(keys(&on), (true, false), "{on:?}");
            assert!(site.page().exists());
            assert!(!marker.exists());
        }
        let off = graceful("disabled");
        assert_eq!(keys(&off), (true, false), "{off:?}");
        assert_eq!(off["restarted"], true);
        assert!(
            !site.page().exists(),
            "the page was left behind (enable first: {enable_first})"
        );
        assert!(!marker.exists());
        assert_eq!(site.conf_bytes(), original);
    }
}

/// A conf whose Included file holds a VirtualHost with its own `<Location />`: both files get
/// blocks and change together. A failed `apachectl -t` puts both back; a run that died between
/// the two renames (the Included file enabled, the main conf not) is completed by the next
/// enable and undone by the next disable.
#[test]
fn an_included_file_and_the_main_conf_go_together() {
    let site = Site::new();
    let extra = site.root.join("conf/vhosts.conf");
    std::fs::write(
        &extra,
        "<VirtualHost *:443>\n    ServerName secure.example.com\n    <Location />\n        Require all granted\n    </Location>\n</VirtualHost>\n",
    )
    .unwrap();
    let mut conf = site.conf_bytes();
    conf.extend_from_slice(b"Include conf/vhosts.conf\r\n");
    std::fs::write(&site.conf, &conf).unwrap();
    let originals = (site.conf_bytes(), std::fs::read(&extra).unwrap());
    let both = || (site.conf_bytes(), std::fs::read(&extra).unwrap());

    // apachectl -t fails once both are in place: both go back.
    site.apachectl("#!/bin/sh\nif [ \"$1\" = -t ]; then echo 'AH00526: Syntax error on line 3 of x:' >&2; echo 'bad' >&2; exit 1; fi\nexit 0\n".into());
    let mut args = enable();
    args["validate"] = json!(true);
    let r = site.run(args);
    assert_eq!(keys(&r), (false, true), "{r:?}");
    assert_eq!(both(), originals);
    assert!(!site.page().exists());

    // The enabled pair, for reference.
    let r = site.run(enable());
    assert_eq!(keys(&r), (true, false), "{r:?}");
    let mut files: Vec<String> = serde_json::from_value(r["files"].clone()).unwrap();
    files.sort();
    assert_eq!(
        files,
        vec![
            site.conf.to_string_lossy().into_owned(),
            extra.to_string_lossy().into_owned()
        ]
    );
    let enabled = both();
    let text = String::from_utf8(enabled.1.clone()).unwrap();
    assert!(text.ends_with(
        &format!("    </Location>\n# BEGIN connections.dr maintenance mode (managed by lc-recover; do not edit)\n# page written by lc-recover: {}\n<Location />\n    ErrorDocument 401 /upgrading.htm\n    ErrorDocument 403 /upgrading.htm\n    Order Deny,Allow\n    Deny from all\n    Allow from 10.0.0.5\n    Allow from was1.example.com\n</Location>\n<Location /upgrading.htm>\n    Order Allow,Deny\n    Allow from all\n</Location>\n<Location /assets/>\n    Order Allow,Deny\n    Allow from all\n</Location>\n# END connections.dr maintenance mode\n</VirtualHost>\n", site.page().display())
    ), "{text}");

    // Died between the renames: the Included file is enabled, the main conf is not.
    std::fs::write(&site.conf, &originals.0).unwrap();
    let r = site.run(enable());
    assert_eq!(keys(&r), (true, false), "{r:?}");
    assert_eq!(r["files"], json!([site.conf.to_string_lossy()]));
    assert_eq!(both(), enabled);
    std::fs::write(&site.conf, &originals.0).unwrap();
    let r = site.run(json!({"state": "disabled"}));
    assert_eq!(keys(&r), (true, false), "{r:?}");
    assert_eq!(both(), originals);
}
