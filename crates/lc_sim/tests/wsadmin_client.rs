//! The wsadmin stand-in as a client sees it: credentials, connection failures, the banner and
//! argv, exceptions and exit status 105, the Jython 2.1 refusal, the service question, faults.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::{run_with_stdin, TestCell};

const AUTH_FAILURE: &str = "WASX7246E: Cannot establish \"SOAP\" connection to host \"localhost\" because of an authentication failure. Ensure that user and password are correct on the command line or in a properties file.";

fn bare(cell: &TestCell) -> Command {
    let mut c = Command::new(cell.wsadmin());
    c.current_dir(cell.bin());
    c
}

#[test]
fn refuses_bad_credentials_and_an_unreachable_dmgr_without_running_jython() {
    let cell = TestCell::new(&["--communities", "5"]);
    let script = cell.tmp.path().join("s.py");
    std::fs::write(&script, "print 1\n").unwrap();
    let s = script.to_str().unwrap();

    let mut c = bare(&cell);
    c.args([
        "-lang",
        "jython",
        "-user",
        &cell.user(),
        "-password",
        "wrong",
        "-f",
        s,
    ]);
    let r = run_with_stdin(&mut c, "");
    assert_ne!(r.code, 0);
    assert!(r.stdout.starts_with(AUTH_FAILURE), "{}", r.stdout);
    assert!(!r.stdout.contains("WASX7209I"));

    // No credentials at all, and a properties file with a wrong password.
    let r = run_with_stdin(bare(&cell).args(["-lang", "jython", "-f", s]), "");
    assert_ne!(r.code, 0);
    assert!(r.stdout.starts_with(AUTH_FAILURE));
    let props = cell.tmp.path().join("bad.props");
    std::fs::write(
        &props,
        format!(
            "com.ibm.SOAP.loginUserid={}\ncom.ibm.SOAP.loginPassword=nope\n",
            cell.user()
        ),
    )
    .unwrap();
    let r = run_with_stdin(
        bare(&cell).args(["-p", props.to_str().unwrap(), "-f", s]),
        "",
    );
    assert!(r.stdout.starts_with(AUTH_FAILURE));

    // The right password, refused all the same by the fault.
    cell.fault(&["--bad-password"]);
    let r = cell.run(&["-f", s], "");
    assert!(r.stdout.starts_with(AUTH_FAILURE));
    cell.fault(&["--clear"]);

    // Dmgr down, a wrong port, an unknown host.
    cell.fault(&["--refuse"]);
    let r = cell.run(&["-f", s], "");
    assert_ne!(r.code, 0);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert!(lines[0].starts_with("WASX7023E: Error creating \"SOAP\" connection to host \"localhost\"; exception information: "), "{}", r.stdout);
    assert!(lines[1]
        .starts_with("WASX7213I: This scripting client is not connected to a server process"));
    cell.fault(&["--clear"]);
    let r = cell.run(&["-port", "9999", "-f", s], "");
    assert_ne!(r.code, 0);
    assert!(r.stdout.contains("ADMC0016E: The system cannot create a SOAP connector to connect to host localhost at port 9999."));
    let r = cell.run(&["-host", "dmgr.invalid", "-f", s], "");
    assert!(r
        .stdout
        .starts_with("WASX7023E: Error creating \"SOAP\" connection to host \"dmgr.invalid\""));

    // Start-up delay applies before connecting.
    cell.fault(&["--startup-delay", "0.6"]);
    let t = Instant::now();
    let r = run_with_stdin(
        bare(&cell).args(["-user", "x", "-password", "y", "-f", s]),
        "",
    );
    assert!(t.elapsed() >= Duration::from_millis(600));
    assert!(r.stdout.starts_with(AUTH_FAILURE));
    cell.fault(&["--clear"]);

    // Every launch counted.
    assert_eq!(cell.status()["launches"], 8);

    // The dmgr goes down after two more launches.
    cell.fault(&["--refuse-after", "2"]);
    for _ in 0..2 {
        let r = cell.run(&["-f", s], "");
        assert!(r.stdout.contains("WASX7209I"), "{}", r.stdout);
    }
    for _ in 0..2 {
        let r = cell.run(&["-f", s], "");
        assert_ne!(r.code, 0);
        assert!(r.stdout.starts_with("WASX7023E: "), "{}", r.stdout);
    }
    cell.fault(&["--clear"]);
    assert!(cell.run(&["-f", s], "").stdout.contains("WASX7209I"));
}

#[test]
fn refuses_what_jython_21_lacks_naming_the_construct_and_line() {
    let cell = TestCell::new(&["--communities", "5"]);
    let r = cell.run_script("import sys\nx = 1\ny = x if x else 2\nok = True\n", &[], "");
    assert_eq!(r.code, 105);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert!(lines[0].starts_with("WASX7209I: Connected to process \"dmgr\" on node CellManager01 using SOAP connector;  The type of process is: DeploymentManager"));
    assert!(
        lines[1].starts_with("WASX7017E: Exception received while running file \""),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains(
            "line 3: a conditional expression (x if c else y) is not available in Jython 2.1"
        ),
        "{}",
        r.stdout
    );
    assert!(r
        .stdout
        .contains("line 4: True/False is not available in Jython 2.1"));
    let r = cell.run(&["-c", "print [x for x in (1, 2)], sorted([2, 1])"], "");
    assert_eq!(r.code, 105);
    assert!(r.stdout.contains("WASX7015E: Exception running command: \"print [x for x in (1, 2)], sorted([2, 1])\"; exception information:"));
    assert!(r.stdout.contains("line 1: sorted() is not available"));
}

/// One Jython run: banner and argv, the Java-style map, exceptions caught by the script, a -c
/// statement that raises, and an uncaught exception ending in WASX7017E and 105.
#[test]
fn banner_argv_values_and_exceptions() {
    let cell = TestCell::new(&["--communities", "5"]);
    let script = r#"
import sys
print "==argv=="
print sys.argv
print "==loading=="
batchMode = 1
execfile("communitiesAdmin.py")
execfile("blogsAdmin.py")
d = CommunitiesScheduler.getTaskDetails("LifecycleRetryQueuedEvents")
print "==map=="
print d
print "==get=="
print d.get("taskName"), d["status"]
def attempt(label, f):
    print "==" + label + "=="
    try:
        f()
        print "no exception"
    except:
        print sys.exc_info()[1]
attempt("arity", lambda: CommunitiesScheduler.getTaskDetails())
attempt("unknown_app", lambda: CommunitiesQEventService.clearQueuedEventsByRemoteAppDefId("Blogs"))
attempt("resource_type", lambda: CommunitiesQEventService.clearQueuedEventsByResourceType("user"))
attempt("relative", lambda: BlogsAdminService.exportSyncedResourceInfo("out/Blog.xml", "community"))
attempt("backslash", lambda: BlogsAdminService.exportSyncedResourceInfo("C:\\tmp\\Blog.xml", "community"))
attempt("not_there", lambda: CommunitiesService.nothing("x"))
print "==last=="
CommunitiesScheduler.getTaskDetails("NoSuchTask")
print "not reached"
"#;
    let r = cell.run_script(script, &["first arg", "b"], "");
    assert_eq!(r.code, 105, "{}{}", r.stdout, r.stderr);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert!(lines[0].starts_with("WASX7209I:"));
    assert_eq!(lines[1], "WASX7303I: The following options are passed to the scripting environment and are available as arguments that are stored in the argv variable: \"[first arg, b]\"");
    assert_eq!(r.one("argv"), "['first arg', 'b']");
    let map = r.one("map");
    let re = regex::Regex::new(r"^\{(\w+=[^,{}]+)(, \w+=[^,{}]+){3}\}$").unwrap();
    assert!(re.is_match(&map), "{map}");
    for k in [
        "currentServerTime=",
        "nextFireTime=",
        "status=SCHEDULED",
        "taskName=LifecycleRetryQueuedEvents",
    ] {
        assert!(map.contains(k), "{map}");
    }
    assert_eq!(r.one("get"), "LifecycleRetryQueuedEvents SCHEDULED");
    assert_eq!(r.one("arity"), "getTaskDetails(): expected 1 args; got 0");
    assert!(r.one("unknown_app").starts_with("com.ibm.ws.scripting.ScriptingException: java.lang.IllegalArgumentException: unknown remoteAppDefId \"Blogs\""));
    assert!(r
        .one("resource_type")
        .contains("IllegalArgumentException: unsupported resource type \"user\""));
    assert!(r.one("relative").contains("is not an absolute path"));
    assert!(r.one("backslash").contains("contains a backslash"));
    assert!(
        r.one("not_there").contains("no attribute 'nothing'"),
        "{}",
        r.one("not_there")
    );
    let last = r.section("last");
    assert_eq!(last.len(), 1, "{last:?}");
    assert!(last[0].starts_with("WASX7017E: Exception received while running file \""));
    assert!(last[0].ends_with("; exception information: com.ibm.ws.scripting.ScriptingException: java.lang.IllegalArgumentException: no scheduled task named \"NoSuchTask\""), "{}", last[0]);
}

#[test]
fn a_raising_statement_with_c_gives_wasx7015e() {
    let cell = TestCell::new(&["--communities", "5"]);
    let cmd = "batchMode = 1; execfile('communitiesAdmin.py'); CommunitiesQEventService.viewQueuedEventsByRemoteAppDefId('Nope', None, 5)";
    let r = cell.run(&["-c", cmd], "");
    assert_eq!(r.code, 105);
    assert!(r.stdout.contains(&format!("WASX7015E: Exception running command: \"{cmd}\"; exception information:\ncom.ibm.ws.scripting.ScriptingException: java.lang.IllegalArgumentException: unknown remoteAppDefId \"Nope\"")), "{}", r.stdout);
}

#[test]
fn the_service_question_with_and_without_batch_mode() {
    let cell = TestCell::new(&["--communities", "5"]);
    let script = r#"
execfile("filesAdmin.py")
print "==asked=="
batchMode = 1
execfile("wikisAdmin.py")
print "==batch=="
"#;
    // A bad answer, then a good one.
    let r = cell.run_script(script, &[], "7\n2\n");
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let out: Vec<&str> = r.stdout.lines().skip(1).collect();
    assert_eq!(
        out,
        vec![
            "1: WebSphere:name=FilesAdministrationService,type=LotusConnections,cell=ConnectionsCell01,node=node02,process=AppsCluster_server1",
            "2: WebSphere:name=FilesAdministrationService,type=LotusConnections,cell=ConnectionsCell01,node=node03,process=AppsCluster_server2",
            "Which service do you want to connect to?",
            "Invalid selection, specify an index number between 1 and 2.",
            "Which service do you want to connect to?",
            "Connecting to WebSphere:name=FilesAdministrationService,type=LotusConnections,cell=ConnectionsCell01,node=node03,*",
            "Files Administration initialized.",
            "==asked==",
            "Connecting to WebSphere:name=WikisAdministrationService,type=LotusConnections,cell=ConnectionsCell01,node=node02,*",
            "Wikis Administration initialized.",
            "==batch==",
        ]
    );
    // No answer at all: the question cannot be answered, the script fails.
    let r = cell.run_script("execfile(\"filesAdmin.py\")\n", &[], "");
    assert_eq!(r.code, 105);
    assert!(r
        .stdout
        .contains("Which service do you want to connect to?"));
    assert!(r.stdout.contains("WASX7017E"));
    // Started from elsewhere, the admin scripts are not found.
    let mut c = cell.command(&["-c", "execfile('communitiesAdmin.py')"]);
    c.current_dir(cell.tmp.path());
    let r = run_with_stdin(&mut c, "");
    assert_eq!(r.code, 105);
    assert!(r.stdout.contains("WASX7015E"));
}

#[test]
fn failing_and_hanging_calls() {
    let cell = TestCell::new(&["--communities", "5"]);
    cell.fault(&[
        "--fail",
        "CommunitiesScheduler.getTaskDetails",
        "--fail-nth",
        "2",
    ]);
    let script = r#"
batchMode = 1
execfile("communitiesAdmin.py")
print "==first=="
print CommunitiesScheduler.getTaskDetails("LifecycleRetryQueuedEvents").get("status")
print "==second=="
CommunitiesScheduler.getTaskDetails("LifecycleRetryQueuedEvents")
"#;
    let r = cell.run_script(script, &[], "");
    assert_eq!(r.code, 105);
    assert_eq!(r.one("first"), "SCHEDULED");
    assert!(r.one("second").contains("com.ibm.ws.scripting.ScriptingException: com.ibm.websphere.management.exception.AdminException: CommunitiesScheduler.getTaskDetails failed on the server"));
    cell.fault(&["--clear", "--hang", "pauseSchedulingTask"]);

    // A hung call keeps wsadmin running until its process group is killed.
    let path = cell.tmp.path().join("hang.py");
    std::fs::write(&path, "batchMode = 1\nexecfile(\"communitiesAdmin.py\")\nprint \"==calling==\"\nimport sys\nsys.stdout.flush()\nCommunitiesScheduler.pauseSchedulingTask(\"LifecycleRetryQueuedEvents\")\nprint \"==returned==\"\n").unwrap();
    let mut c = cell.command(&["-f", path.to_str().unwrap()]);
    std::os::unix::process::CommandExt::process_group(&mut c, 0);
    let out_path = cell.tmp.path().join("hang.out");
    c.stdout(std::fs::File::create(&out_path).unwrap())
        .stdin(std::process::Stdio::null());
    let mut child = c.spawn().unwrap();
    let start = Instant::now();
    loop {
        let text = std::fs::read_to_string(&out_path).unwrap_or_default();
        if text.contains("==calling==") || start.elapsed() > Duration::from_secs(60) {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        child.try_wait().unwrap().is_none(),
        "wsadmin should still be hanging"
    );
    let pgid = child.id();
    Command::new("kill")
        .args(["-KILL", "--", &format!("-{pgid}")])
        .status()
        .unwrap();
    child.wait().unwrap();
    let text = std::fs::read_to_string(&out_path).unwrap();
    assert!(!text.contains("==returned=="));
    // The hung call did nothing.
    assert_eq!(
        cell.status()["scheduler"]["LifecycleRetryQueuedEvents"],
        "SCHEDULED"
    );
}

#[test]
fn a_long_list_comes_back_whole() {
    // About 900 forums: a return value far past what one Jython `eval` can read.
    let cell = TestCell::new(&["--communities", "1000", "--apps", "Forum"]);
    let script = r#"
batchMode = 1
execfile("forumsAdmin.py")
forums = ForumsService.fetchForums()
print "==count=="
print len(forums)
print "==first=="
if forums[0].get("forumID") == forums.get(0)["forumID"]:
    print "same"
print "==filtered=="
print len(ForumsService.filterInput(forums, forums[5].get("forumID"), "forumID"))
"#;
    let r = cell.run_script(script, &[], "");
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let world: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(cell.dir.join("state").join("world.json")).unwrap(),
    )
    .unwrap();
    let n = world["resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["app"] == "Forum")
        .count();
    assert!(n > 800, "{n}");
    assert_eq!(r.one("count"), n.to_string());
    assert_eq!(r.one("first"), "same");
    assert_eq!(r.one("filtered"), "1");
}
