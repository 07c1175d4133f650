use super::*;
use lc_core::protocol::run_text;
use std::os::unix::fs::PermissionsExt;

fn record(id: &str, pid: u64, controller: &str) -> Value {
    serde_json::json!({"id": id, "pid": pid, "controller": controller, "user": "alice",
                       "started": "2026-01-02T03:04:05Z", "playbook": "recover.yml"})
}

fn call(
    path: &Path,
    state: &str,
    holder: Value,
    running: Option<&[u64]>,
    check: bool,
) -> Map<String, Value> {
    let mut args = serde_json::json!({"path": path, "state": state, "holder": holder,
                                      "host_name": "dmgr1", "_ansible_check_mode": check});
    if let Some(r) = running {
        args["running_pids"] = serde_json::json!(r);
    }
    run_text::<Lock>(&args.to_string())
}

/// This run (run1, pid 10, on ctl) takes the lock, with `running` the controller's process list.
fn take(path: &Path, running: &[u64], check: bool) -> Map<String, Value> {
    call(
        path,
        "present",
        record("run1", 10, "ctl"),
        Some(running),
        check,
    )
}

fn link(path: &Path) -> Map<String, Value> {
    serde_json::from_str(&std::fs::read_link(path).unwrap().to_string_lossy()).unwrap()
}

fn msg(r: &Map<String, Value>) -> &str {
    r["msg"].as_str().unwrap()
}

#[test]
fn takes_a_free_lock_making_its_folder_0750_and_releases_it() {
    let dir = tempfile::tempdir().unwrap();
    let lock = dir.path().join("work/recovery/.recover.lock");
    let r = take(&lock, &[10], false);
    assert_eq!(
        (r["changed"].as_bool(), r["failed"].as_bool()),
        (Some(true), Some(false)),
        "{r:?}"
    );
    assert_eq!(msg(&r), format!("took the lock {}", lock.display()));
    let mode = std::fs::metadata(lock.parent().unwrap())
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o750);
    // The record, in its order, with the lock's path.
    let raw = std::fs::read_link(&lock)
        .unwrap()
        .to_string_lossy()
        .into_owned();
    assert!(raw.starts_with(r#"{"id":"run1","lock":""#), "{raw}");
    assert_eq!(link(&lock)["lock"], Value::from(lock.display().to_string()));
    assert_eq!(link(&lock)["pid"], Value::from(10));

    let again = take(&lock, &[10], false);
    assert_eq!(
        (again["changed"].as_bool(), again["failed"].as_bool()),
        (Some(false), Some(false))
    );

    let released = call(&lock, "absent", record("run1", 10, "ctl"), None, false);
    assert_eq!(released["changed"].as_bool(), Some(true), "{released:?}");
    assert!(!lock.exists() && std::fs::symlink_metadata(&lock).is_err());
    let twice = call(&lock, "absent", record("run1", 10, "ctl"), None, false);
    assert_eq!(twice["changed"].as_bool(), Some(false));
}

#[test]
fn a_lock_of_another_controller_is_refused_naming_its_holder_and_stays() {
    let dir = tempfile::tempdir().unwrap();
    let lock = dir.path().join(".recover.lock");
    let raw = record("abcdefghij0123456789", 4242, "admin-workstation-7").to_string();
    std::os::unix::fs::symlink(&raw, &lock).unwrap();
    let r = take(&lock, &[10], false);
    assert_eq!(
        (r["changed"].as_bool(), r["failed"].as_bool()),
        (Some(false), Some(true))
    );
    let p = lock.display();
    assert_eq!(
        msg(&r),
        format!(
            "Another recover.yml run holds the lock {p} on dmgr1 (run abcdefghij0123456789, started \
             2026-01-02T03:04:05Z by alice on admin-workstation-7, pid 4242). Wait for that run to \
             finish. If no run is going on (it was killed, or its controller went down), remove the \
             lock on dmgr1 (rm {p}) and run again."
        )
    );
    assert_eq!(r["holder"]["id"], Value::from("abcdefghij0123456789"));
    assert_eq!(std::fs::read_link(&lock).unwrap().to_string_lossy(), raw);
    // Nor does another run release it.
    let released = call(&lock, "absent", record("run1", 10, "ctl"), None, false);
    assert_eq!(released["changed"].as_bool(), Some(false));
    assert_eq!(std::fs::read_link(&lock).unwrap().to_string_lossy(), raw);
}

#[test]
fn the_refusal_names_the_playbook_that_holds_it() {
    let dir = tempfile::tempdir().unwrap();
    let lock = dir.path().join(".recover.lock");
    let mut holder = record("abcdefghij0123456789", 4242, "elsewhere");
    holder["playbook"] = Value::from("verify.yml");
    std::os::unix::fs::symlink(holder.to_string(), &lock).unwrap();
    let r = take(&lock, &[10], false);
    assert!(msg(&r).starts_with(&format!(
        "Another verify.yml run holds the lock {} on dmgr1 (run",
        lock.display()
    )));
}

#[test]
fn a_lock_left_by_a_run_of_this_controller_that_no_longer_runs_is_taken_over() {
    let dir = tempfile::tempdir().unwrap();
    let lock = dir.path().join(".recover.lock");
    std::os::unix::fs::symlink(record("old", 4242, "ctl").to_string(), &lock).unwrap();
    let r = take(&lock, &[10, 77], false);
    assert_eq!(
        (r["changed"].as_bool(), r["failed"].as_bool()),
        (Some(true), Some(false)),
        "{r:?}"
    );
    assert_eq!(
        msg(&r),
        "Took over the lock of run old (pid 4242 on ctl, started 2026-01-02T03:04:05Z): that process no longer runs."
    );
    assert_eq!(r["taken_over"]["id"], Value::from("old"));
    assert_eq!(link(&lock)["id"], Value::from("run1"));
    // Nothing is left aside.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn a_lock_of_a_run_that_still_runs_or_with_no_process_list_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let lock = dir.path().join(".recover.lock");
    std::os::unix::fs::symlink(record("old", 4242, "ctl").to_string(), &lock).unwrap();
    for running in [Some(&[10u64, 4242][..]), None] {
        let r = call(&lock, "present", record("run1", 10, "ctl"), running, false);
        assert_eq!(r["failed"].as_bool(), Some(true), "{running:?}");
        assert_eq!(link(&lock)["id"], Value::from("old"));
    }
}

#[test]
fn a_holder_that_cannot_be_read_is_refused_as_such() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    std::os::unix::fs::symlink("not a record", p.join("link")).unwrap();
    std::fs::write(p.join("file"), "x").unwrap();
    for name in ["link", "file"] {
        let lock = p.join(name);
        let r = take(&lock, &[], false);
        assert_eq!(r["failed"].as_bool(), Some(true));
        assert!(
            msg(&r).starts_with(&format!(
                "Another recover.yml run holds the lock {} on dmgr1 (its holder cannot be read). Wait",
                lock.display()
            )),
            "{}",
            msg(&r)
        );
    }
    assert_eq!(
        std::fs::read_link(p.join("link"))
            .unwrap()
            .to_string_lossy(),
        "not a record"
    );
}

#[test]
fn check_mode_says_what_would_happen_and_touches_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let lock = dir.path().join("work/.recover.lock");
    let r = take(&lock, &[10], true);
    assert_eq!(r["changed"].as_bool(), Some(true));
    assert!(!lock.parent().unwrap().exists());

    std::fs::create_dir(lock.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(record("old", 4242, "ctl").to_string(), &lock).unwrap();
    let r = take(&lock, &[10], true);
    assert_eq!(r["changed"].as_bool(), Some(true));
    assert!(
        msg(&r).starts_with("would take over: Took over the lock of run old"),
        "{}",
        msg(&r)
    );
    assert_eq!(link(&lock)["id"], Value::from("old"));

    let mut old = record("old", 4242, "ctl");
    old["lock"] = Value::from(lock.display().to_string());
    let r = call(&lock, "absent", old, None, true);
    assert_eq!(r["changed"].as_bool(), Some(true));
    assert_eq!(link(&lock)["id"], Value::from("old"));
}

#[test]
fn a_pid_given_as_digits_is_accepted_and_a_relative_path_refused() {
    let dir = tempfile::tempdir().unwrap();
    let lock = dir.path().join(".recover.lock");
    let mut holder = record("run1", 10, "ctl");
    holder["pid"] = Value::from("10");
    let r = call(&lock, "present", holder, Some(&[10]), false);
    assert_eq!(r["changed"].as_bool(), Some(true), "{r:?}");
    assert_eq!(link(&lock)["pid"], Value::from(10));

    let r = call(
        Path::new("work/.recover.lock"),
        "present",
        record("run1", 10, "ctl"),
        None,
        false,
    );
    assert_eq!(r["failed"].as_bool(), Some(true));
    assert!(
        msg(&r).starts_with("path must be the absolute path of the lock file"),
        "{}",
        msg(&r)
    );
}

#[test]
fn a_lock_that_changed_hands_meanwhile_is_put_back() {
    let dir = tempfile::tempdir().unwrap();
    let lock = dir.path().join(".recover.lock");
    std::os::unix::fs::symlink(record("new", 5, "ctl").to_string(), &lock).unwrap();
    // What this run read before was another (stale) record: the link is left as it is now.
    let replaced = replace(&lock, &record("old", 4242, "ctl").to_string(), "{}", "run1").unwrap();
    assert!(!replaced);
    assert_eq!(link(&lock)["id"], Value::from("new"));
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}
