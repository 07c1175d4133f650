//! The credentials file of a wsadmin run lives for wsadmin's start-up only: it is removed once
//! wsadmin shows it has read it (its connection banner), while the script may still run for
//! hours, so that a run killed meanwhile leaves no password on disk. A stand-in wsadmin.sh
//! prints the banner, waits, then says whether its `-p` file is still there.

#![cfg(unix)]

use lc_core::wsadmin::{self, Script, WsadminArgs};
use lc_core::Secret;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

fn stand_in(dir: &Path, banner: &str) -> std::path::PathBuf {
    let path = dir.join("wsadmin.sh");
    std::fs::write(
        &path,
        format!(
            r#"#!/bin/sh
props=""
while [ $# -gt 0 ]; do
  if [ "$1" = "-p" ]; then props="$2"; fi
  shift
done
grep -q '^com.ibm.SOAP.loginPassword=' "$props" || exit 9
{banner}
i=0
while [ -e "$props" ] && [ $i -lt 20 ]; do sleep 0.1; i=$((i+1)); done
if [ -e "$props" ]; then state=kept; else state=gone; fi
printf '@@lcr@@\tprops\t%s\n@@lcr@@\tdone\n' "$state"
"#
        ),
    )
    .unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

fn args(wsadmin: &Path) -> WsadminArgs {
    WsadminArgs {
        wsadmin_path: wsadmin.to_path_buf(),
        host: None,
        port: None,
        conntype: None,
        user: Some("wasadmin".into()),
        password: Some(Secret::new("s3cret=x\ny")),
        service_index: None,
        timeout: Some(60),
        java_options: vec![],
        admin_scripts_dir: None,
    }
}

#[test]
fn the_credentials_file_goes_once_wsadmin_has_connected() {
    let dir = tempfile::tempdir().unwrap();
    let tmp = dir.path().join("task");
    std::fs::create_dir(&tmp).unwrap();
    let ws = stand_in(
        dir.path(),
        r#"echo 'WASX7209I: Connected to process "dmgr" on node CellManager01 using SOAP connector;  The type of process is: DeploymentManager'"#,
    );
    let out = wsadmin::run(&args(&ws), &Script::new("pass\n"), Some(&tmp)).unwrap();
    let state: Vec<&str> = out.tagged("props").map(|r| r.field(0)).collect();
    assert_eq!(state, ["gone"], "{}", out.text);
    assert_eq!(std::fs::read_dir(&tmp).unwrap().count(), 0, "nothing left");
}

#[test]
fn without_a_banner_the_file_stays_until_the_end() {
    let dir = tempfile::tempdir().unwrap();
    let tmp = dir.path().join("task");
    std::fs::create_dir(&tmp).unwrap();
    let ws = stand_in(dir.path(), "true");
    let out = wsadmin::run(&args(&ws), &Script::new("pass\n"), Some(&tmp)).unwrap();
    let state: Vec<&str> = out.tagged("props").map(|r| r.field(0)).collect();
    assert_eq!(state, ["kept"], "{}", out.text);
    assert_eq!(
        std::fs::read_dir(&tmp).unwrap().count(),
        0,
        "removed at the end"
    );
}
