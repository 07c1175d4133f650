//! The follow-up of a recovery: the lists a fresh report is sorted into against the recovery's,
//! the "since" times carried from one verify report to the next (only for the same baseline),
//! applications not read, the baseline's one-line errors, and the files written.

use lc_core::recovery::{CommunityDetails, Recovery, Unread};
use lc_core::report::{Difference, Orphan};
use lc_core::verify::{self, Baseline, Verification};
use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, SystemTime};

const A: &str = "aaaaaaaa-0000-4000-8000-000000000001";
const B: &str = "bbbbbbbb-0000-4000-8000-000000000002";
const C: &str = "cccccccc-0000-4000-8000-000000000003";
const D: &str = "dddddddd-0000-4000-8000-000000000004";
const APPS: &[&str] = &["Blog", "Files", "Wiki"];

fn diff(app: &str, uuid: &str, name: &str, field: &str) -> Difference {
    Difference {
        application: app.into(),
        community_uuid: uuid.into(),
        community_name: name.into(),
        field: field.into(),
        communities_value: "public".into(),
        application_value: "private".into(),
    }
}

fn orphan(app: &str, id: &str) -> Orphan {
    Orphan {
        application: app.into(),
        object_id: id.into(),
        old_community_uuid: D.into(),
        community_exists: Some(false),
    }
}

fn report(apps: &[&str], differences: Vec<Difference>, orphans: Vec<Orphan>) -> Recovery {
    let apps: Vec<String> = apps.iter().map(|a| a.to_string()).collect();
    let details: HashMap<String, CommunityDetails> = HashMap::new();
    Recovery::new(&apps, differences, orphans, &details)
}

/// The recovery found A (Blog), B (Files, Blog), C (Wiki visibility) out of step, and two orphans.
fn recovery() -> Recovery {
    report(
        APPS,
        vec![
            diff("Blog", A, "Alpha <&> team", "visibility"),
            diff("Files", B, "Beta", "visibility"),
            diff("Blog", B, "Beta", "theme"),
            diff("Wiki", C, "Gamma", "visibility"),
        ],
        vec![orphan("Blog", "b-1"), orphan("Files", "f-1")],
    )
}

/// Days later: A was toggled; B still differs (only Files now); C too; D appeared; one orphan
/// was deleted, another appeared.
fn days_later() -> Recovery {
    report(
        APPS,
        vec![
            diff("Files", B, "Beta", "visibility"),
            diff("Wiki", C, "Gamma", "visibility"),
            diff("Blog", D, "Delta", "name"),
        ],
        vec![orphan("Files", "f-1"), orphan("Wiki", "w-9")],
    )
}

fn baseline(sha: &str) -> Baseline {
    let r = recovery();
    Baseline {
        path: "/ctl/recovery-report/recovery-report.json".into(),
        time: "2026-11-20T08:00:00Z".into(),
        sha256: sha.into(),
        applications: r.counts.applications.keys().cloned().collect(),
        communities: r.communities_to_contact.len() as u64,
        orphans: r.orphans.len() as u64,
    }
}

fn uuids(list: &[verify::Community]) -> Vec<(&str, &str)> {
    list.iter()
        .map(|c| (c.community.uuid.as_str(), c.since.as_str()))
        .collect()
}

fn orphan_ids(list: &[verify::OrphanSince]) -> Vec<(&str, &str)> {
    list.iter()
        .map(|o| (o.orphan.object_id.as_str(), o.since.as_str()))
        .collect()
}

const T1: &str = "2026-11-27T09:00:00Z";
const T2: &str = "2026-12-04T09:00:00Z";
const REC: &str = "2026-11-20T08:00:00Z";

#[test]
fn every_community_and_orphan_lands_in_one_list() {
    let v = Verification::compare(
        baseline("s1"),
        &recovery(),
        "/ctl/verify/recovery-report.json",
        &days_later(),
        None,
        T1,
    );
    assert_eq!(uuids(&v.in_step), [(A, T1)]);
    assert_eq!(uuids(&v.still_differ), [(B, REC), (C, REC)]);
    assert_eq!(uuids(&v.appeared), [(D, T1)]);
    assert!(v.not_checked.is_empty());
    // What still differs is described as it is now: only Files for B.
    assert_eq!(v.still_differ[0].community.applications, ["Files"]);
    assert_eq!(v.in_step[0].community.applications, ["Blog"]);
    assert_eq!(orphan_ids(&v.orphans_remaining), [("f-1", REC)]);
    assert_eq!(orphan_ids(&v.orphans_resolved), [("b-1", T1)]);
    assert_eq!(orphan_ids(&v.orphans_appeared), [("w-9", T1)]);
    let c = v.counts;
    assert_eq!(
        (
            c.baseline_communities,
            c.in_step,
            c.still_differ,
            c.appeared,
            c.not_checked
        ),
        (3, 1, 2, 1, 0)
    );
    assert_eq!(
        (
            c.baseline_orphans,
            c.orphans_remaining,
            c.orphans_resolved,
            c.orphans_appeared
        ),
        (2, 1, 1, 1)
    );
    assert_eq!(v.current.applications, APPS);
    assert_eq!(v.previous, None);
}

#[test]
fn since_is_carried_from_the_previous_check_of_the_same_baseline_only() {
    let first = Verification::compare(
        baseline("s1"),
        &recovery(),
        "/ctl/verify/recovery-report.json",
        &days_later(),
        None,
        T1,
    );
    // A week later C is in step too, D and w-9 are still there.
    let later = report(
        APPS,
        vec![
            diff("Files", B, "Beta", "visibility"),
            diff("Blog", D, "Delta", "name"),
        ],
        vec![orphan("Files", "f-1"), orphan("Wiki", "w-9")],
    );
    let prev = "/ctl/verify/verify-report.json";
    let second = Verification::compare(
        baseline("s1"),
        &recovery(),
        "/ctl/verify/recovery-report.json",
        &later,
        Some((prev, &first)),
        T2,
    );
    assert_eq!(uuids(&second.in_step), [(A, T1), (C, T2)]);
    assert_eq!(uuids(&second.still_differ), [(B, REC)]);
    assert_eq!(uuids(&second.appeared), [(D, T1)]);
    assert_eq!(orphan_ids(&second.orphans_appeared), [("w-9", T1)]);
    assert_eq!(orphan_ids(&second.orphans_resolved), [("b-1", T1)]);
    assert_eq!(
        second
            .previous
            .as_ref()
            .map(|p| (p.path.as_str(), p.checked.as_str())),
        Some((prev, T1))
    );

    // Another recovery (another baseline): nothing is carried.
    let fresh = Verification::compare(
        baseline("s2"),
        &recovery(),
        "/ctl/verify/recovery-report.json",
        &later,
        Some((prev, &first)),
        T2,
    );
    assert_eq!(uuids(&fresh.in_step), [(A, T2), (C, T2)]);
    assert_eq!(uuids(&fresh.appeared), [(D, T2)]);
    assert_eq!(fresh.previous, None);

    // A community found in step, then out of step again: since the check that found it so.
    let again = Verification::compare(
        baseline("s1"),
        &recovery(),
        "/ctl/verify/recovery-report.json",
        &recovery(),
        Some((prev, &first)),
        T2,
    );
    assert_eq!(uuids(&again.still_differ), [(A, T2), (B, REC), (C, REC)]);
}

#[test]
fn an_application_whose_fresh_report_was_not_read_is_not_checked() {
    // Files' fresh report could not be read: B (listed for Files and Blog) and Files' orphan
    // are not checked, though no fresh report lists them.
    let mut now = report(&["Blog", "Wiki"], vec![], vec![]);
    now = now.with_unread(vec![Unread {
        application: "Files".into(),
        files: vec!["/w/reports/verify/Files_communityDifferences.html".into()],
        reason: "cut short".into(),
    }]);
    let v = Verification::compare(baseline("s1"), &recovery(), "/x", &now, None, T1);
    assert_eq!(uuids(&v.in_step), [(A, T1), (C, T1)]);
    assert_eq!(uuids(&v.not_checked), [(B, T1)]);
    assert_eq!(orphan_ids(&v.orphans_resolved), [("b-1", T1)]);
    assert_eq!(orphan_ids(&v.orphans_not_checked), [("f-1", T1)]);
    assert_eq!(v.current.unread.len(), 1);
}

#[test]
fn a_missing_or_unreadable_baseline_is_one_line_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("recovery-report.json");
    assert_eq!(
        Baseline::load(&missing).unwrap_err().one_line(),
        format!(
            "no recovery report to compare with: {} does not exist (recover.yml brings it to the controller, into lc_report_dir)",
            missing.display()
        )
    );
    std::fs::write(&missing, "{\"differences\": [").unwrap();
    let msg = Baseline::load(&missing).unwrap_err().one_line();
    assert!(
        msg.starts_with(&format!(
            "{} is not a recovery report (recovery-report.json): ",
            missing.display()
        )),
        "{msg}"
    );
    assert!(!msg.contains('\n'));
    let folder = dir.path().join("a-folder");
    std::fs::create_dir(&folder).unwrap();
    assert!(Baseline::load(&folder)
        .unwrap_err()
        .one_line()
        .starts_with(&format!(
            "cannot read the recovery report to compare with, {}: ",
            folder.display()
        )));
}

fn set_mtime(path: &Path, secs_after_epoch: u64) {
    let t = SystemTime::UNIX_EPOCH + Duration::from_secs(secs_after_epoch);
    std::fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(t)
        .unwrap();
}

#[test]
fn the_baseline_is_the_report_after_the_resync_when_it_is_no_older() {
    let dir = tempfile::tempdir().unwrap();
    let main = dir.path().join("recovery-report.json");
    let after = dir.path().join("after-resync").join("recovery-report.json");
    std::fs::create_dir_all(after.parent().unwrap()).unwrap();
    std::fs::write(&main, recovery().to_json()).unwrap();
    assert_eq!(Baseline::choose(&main, Some(&after)), main);
    std::fs::write(&after, days_later().to_json()).unwrap();
    set_mtime(&main, 1_795_000_000);
    set_mtime(&after, 1_795_000_100);
    assert_eq!(Baseline::choose(&main, Some(&after)), after);
    // A later recovery without a resync: its own report.
    set_mtime(&main, 1_795_000_200);
    assert_eq!(Baseline::choose(&main, Some(&after)), main);
    assert_eq!(Baseline::choose(&main, None), main);

    let (b, r) = Baseline::load(&main).unwrap();
    assert_eq!(b.time, "2026-11-18T11:10:00Z");
    assert_eq!(b.applications, APPS);
    assert_eq!((b.communities, b.orphans), (3, 2));
    assert_eq!(b.sha256.len(), 64);
    assert_eq!(r, recovery());
}

#[test]
fn write_puts_both_files_escaped_and_reads_back() {
    let dir = tempfile::tempdir().unwrap();
    let v = Verification::compare(
        baseline("s1"),
        &recovery(),
        "/ctl/verify/recovery-report.json",
        &days_later(),
        None,
        T1,
    );
    let out = v.write(dir.path()).unwrap();
    assert_eq!(out.json, dir.path().join(verify::JSON_FILE));
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["verify-report.html", "verify-report.json"]);
    assert_eq!(Verification::read(&out.json), Some(v.clone()));
    let html = std::fs::read_to_string(&out.html).unwrap();
    assert!(html.contains("Alpha &lt;&amp;&gt; team"), "not escaped");
    assert!(!html.contains("Alpha <&>"));
    for needle in [
        "<h2>Still differ (2)</h2>",
        "<h2>Appeared since the recovery (1)</h2>",
        "<h2>In step again (1)</h2>",
        "<h3>Remaining</h3>",
        "<h3>Resolved (assigned or deleted)</h3>",
        REC,
        T1,
        "--ink: #1f2933",
    ] {
        assert!(html.contains(needle), "{needle} missing");
    }
    assert!(!html.contains("id=\"not-checked\""));
    // The JSON keys are the lists themselves, each entry with its since.
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out.json).unwrap()).unwrap();
    assert_eq!(json["still_differ"][0]["uuid"], B);
    assert_eq!(json["still_differ"][0]["since"], REC);
    assert_eq!(json["counts"]["in_step"], 1);
    assert_eq!(Verification::read(&dir.path().join("nothing.json")), None);
}
