use super::process::props_value;
use super::*;
use crate::secret::Secret;
use crate::validate::{check_remote_path, is_uuid};
use std::path::{Path, PathBuf};

fn args() -> WsadminArgs {
    WsadminArgs {
        wsadmin_path: PathBuf::from("/opt/IBM/WebSphere/AppServer/profiles/Dmgr01/bin/wsadmin.sh"),
        host: Some("dmgr.example.com".into()),
        port: Some(8879),
        conntype: None,
        user: Some("wasadmin".into()),
        password: Some(Secret::new("s3cret")),
        service_index: None,
        timeout: Some(60),
        java_options: vec![],
        admin_scripts_dir: None,
    }
}

const BANNER: &str = "WASX7209I: Connected to process \"dmgr\" on node CellManager01 using SOAP connector;  The type of process is: DeploymentManager\nWASX7303I: The following options are passed to the scripting environment and are available as arguments that are stored in the argv variable: \"[--lcr-args--, LifecycleRetryQueuedEvents]\"\n";

#[test]
fn records_are_picked_out_of_noise() {
    let text = format!(
        "{BANNER}Connecting to WebSphere:name=CommunitiesScheduler,type=LotusConnections,cell=c,node=n,*\nCommunities Administration initialized.\n@@lcr@@\tcall\tgetTaskDetails\n@@lcr@@\tdetails\t{{status=SUSPENDED, taskName=LifecycleRetryQueuedEvents}}\n@@lcr@@\tname\ta\\tb\\\\c\\nd\r\n@@lcr@@\tdone\n"
    );
    let recs = parse_records(&text);
    assert_eq!(recs.len(), 4);
    assert_eq!(recs[2].fields, vec!["a\tb\\c\nd".to_string()]);
    assert_eq!(diagnose(&args(), Some(0), &text, &recs), None);
}

#[test]
fn java_maps_in_any_key_order() {
    let m = parse_java_map("{nextFireTime=Thu Nov 26 03:30:00 UTC 2026, status=SCHEDULED, taskName=LifecycleRetryQueuedEvents, currentServerTime=Thu Nov 26 03:18:15 UTC 2026}");
    assert_eq!(m["status"], "SCHEDULED");
    assert_eq!(m["nextFireTime"], "Thu Nov 26 03:30:00 UTC 2026");
    assert_eq!(m.len(), 4);
    let p = parse_java_map("{u'status': u'SUSPENDED', u'taskName': u'LifecycleRetryQueuedEvents'}");
    assert_eq!(p["status"], "SUSPENDED");
}

fn diag(status: i32, text: &str) -> String {
    let recs = parse_records(text);
    diagnose(&args(), Some(status), text, &recs).unwrap_or_default()
}

#[test]
fn cannot_connect() {
    let text = "WASX7023E: Error creating \"SOAP\" connection to host \"dmgr.example.com\"; exception information: com.ibm.websphere.management.exception.ConnectorNotAvailableException: Failed to get a connection with IP address associated with hostname dmgr.example.com\nWASX7213I: This scripting client is not connected to a server process; please refer to the log file /opt/IBM/WebSphere/AppServer/profiles/Dmgr01/logs/wsadmin.traceout for additional information.\n";
    assert_eq!(
        diag(103, text),
        "cannot connect to the Deployment Manager at dmgr.example.com:8879: is the dmgr running and are host, port and conntype right? (WASX7023E: Error creating \"SOAP\" connection to host \"dmgr.example.com\"; exception information: com.ibm.websphere.management.exception.ConnectorNotAvailableException: Failed to get a connection with IP address associated with hostname dmgr.example.com)"
    );
}

#[test]
fn credentials_refused() {
    let text = "WASX7246E: Cannot establish \"SOAP\" connection to host \"dmgr.example.com\" because of an authentication failure. Ensure that user and password are correct on the command line or in a properties file.\n";
    assert_eq!(
        diag(103, text),
        "the Deployment Manager at dmgr.example.com:8879 refused the credentials of user \"wasadmin\" (WASX7246E): check user and password"
    );
}

#[test]
fn a_call_that_raised() {
    let text = format!("{BANNER}@@lcr@@\tcall\tCommunitiesScheduler.pauseSchedulingTask\nWASX7017E: Exception received while running file \"/tmp/lcr-script.py\"; exception information: com.ibm.ws.scripting.ScriptingException: java.lang.IllegalArgumentException: unknown task Foo\n");
    assert_eq!(
        diag(105, &text),
        "CommunitiesScheduler.pauseSchedulingTask failed: java.lang.IllegalArgumentException: unknown task Foo"
    );
}

#[test]
fn jython_traceback() {
    let text = format!("{BANNER}@@lcr@@\tcall\texecfile(blogsAdmin.py)\nWASX7017E: Exception received while running file \"/tmp/x.py\"; exception information: Traceback (most recent call last):\n  File \"<string>\", line 3, in <module>\nNameError: name 'BlogsAdminService' is not defined\n");
    assert_eq!(
        diag(105, &text),
        "execfile(blogsAdmin.py) failed: NameError: name 'BlogsAdminService' is not defined"
    );
}

#[test]
fn jython_traceback_behind_the_bsf_wrapper() {
    let text = format!("{BANNER}WASX7017E: Exception received while running file \"/tmp/x.py\"; exception information: com.ibm.bsf.BSFException: exception from Jython:\nTraceback (most recent call last):\n  File \"/tmp/x.py\", line 9, in <module>\n    raise ValueError(\"not this\")\n  File \"/tmp/x.py\", line 67, in lcr_read_data\n    r = java.io.BufferedReader(x)\nAttributeError: 'javapackage' object has no attribute 'io'\n");
    assert_eq!(
        diag(105, &text),
        "the wsadmin script failed: AttributeError: 'javapackage' object has no attribute 'io'"
    );
}

#[test]
fn missing_admin_script_and_bad_service_answer() {
    let text = format!("{BANNER}@@lcr@@\tmissing_script\tnewsAdmin.py\t/opt/x/bin\t/opt/x/config/bin_lc_admin\t/srv/lc\n");
    assert_eq!(
        diag(0, &text),
        "the admin script newsAdmin.py is in none of /opt/x/bin, /opt/x/config/bin_lc_admin, /srv/lc: wsadmin_path must be the wsadmin.sh of the Deployment Manager profile where Connections installed its admin scripts, or admin_scripts_dir the folder that holds them"
    );
    let mut a = args();
    a.service_index = Some(7);
    let text = "1: WebSphere:name=BlogsAdminService,node=node1,server=server1\n2: WebSphere:name=BlogsAdminService,node=node2,server=server1\nWhich service do you want to connect to?\nInvalid selection, specify an index number between 1 and 2.\nWhich service do you want to connect to?\n";
    assert_eq!(
        diagnose(&a, Some(105), text, &[]).unwrap(),
        "service_index 7 is not one of the services offered (1 to 2)"
    );
}

#[test]
fn script_text_snapshot() {
    let s = Script::new("def lcr_main():\n    lcr_loads()\n    lcr_out(\"x\", ARGS)\n")
        .load("communitiesAdmin.py")
        .arg("a");
    let mut a = args();
    a.admin_scripts_dir = Some("/srv/lc-admin/".into());
    assert_eq!(
        a.script_dirs(),
        [
            "/opt/IBM/WebSphere/AppServer/profiles/Dmgr01/bin",
            "/opt/IBM/WebSphere/AppServer/profiles/Dmgr01/config/bin_lc_admin",
            "/srv/lc-admin"
        ]
    );
    insta::assert_snapshot!(s.text(true, &a.script_dirs(), None));
}

#[test]
fn rows_go_to_a_data_file_not_into_the_script() {
    let rows: Vec<Vec<String>> = (0..5000)
        .map(|i| vec![i.to_string(), format!("a\tb\\c\nd\re é {i}")])
        .collect();
    let s = Script::new("def lcr_main():\n    pass\n").rows(rows);
    let text = s.text(false, &[], Some(Path::new("/tmp/x/lcr-data-1.txt")));
    assert!(text.contains("\nDATA = lcr_read_data(u\"/tmp/x/lcr-data-1.txt\")\n"));
    assert!(text.len() < 8 * 1024, "the script grows with the rows");
    let data = s.data();
    assert_eq!(data.lines().count(), 5000);
    assert_eq!(data.lines().nth(7).unwrap(), "7\ta\\tb\\\\c\\nd\\re é 7");
}

#[test]
fn admin_scripts_dir_is_checked_like_a_remote_path() {
    for (bad, why) in [
        ("lc-admin", "must be an absolute path"),
        ("/a/../b", "must not contain '..'"),
        ("/a\"b", "must not contain quotes"),
        ("/a\nb", "must be one printable line"),
    ] {
        let mut a = args();
        a.wsadmin_path = std::env::current_exe().unwrap();
        a.admin_scripts_dir = Some(bad.into());
        let msg = validate(&a).unwrap_err().one_line();
        assert!(
            msg.starts_with("admin_scripts_dir ") && msg.contains(why),
            "{msg}"
        );
    }
}

#[test]
fn remote_paths_and_values_are_checked() {
    assert!(check_remote_path("dest_dir", "/opt/exports").is_ok());
    for bad in ["exports", "C:\\x", "/a/../b", "/a\"); x", "/a\nb", ""] {
        assert!(check_remote_path("dest_dir", bad).is_err(), "{bad:?}");
    }
    assert!(is_uuid("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"));
    assert!(!is_uuid("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0\")"));
    assert_eq!(props_value("p=a:b c\\d"), "p\\=a\\:b c\\\\d");
    assert_eq!(
        jython_literal("a\")\nb\\é"),
        "u\"a\\\")\\u000ab\\\\\\u00e9\""
    );
}
