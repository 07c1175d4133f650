//! The consolidated outputs: facts worked out from the report rows, the JSON and CSV files
//! (snapshots), the HTML report (totals, chart, escaping) and atomic writing.

use lc_core::recovery::{CommunityDetails, Recovery, CSV_FILE, HTML_FILE, JSON_FILE};
use lc_core::report::{Difference, Orphan};
use std::collections::HashMap;

fn diff(app: &str, uuid: &str, name: &str, field: &str, c: &str, a: &str) -> Difference {
    Difference {
        application: app.into(),
        community_uuid: uuid.into(),
        community_name: name.into(),
        field: field.into(),
        communities_value: c.into(),
        application_value: a.into(),
    }
}

fn orphan(app: &str, id: &str, old: &str, exists: bool) -> Orphan {
    Orphan {
        application: app.into(),
        object_id: id.into(),
        old_community_uuid: old.into(),
        community_exists: Some(exists),
    }
}

fn sample() -> Recovery {
    let u1 = "11111111-0000-4000-8000-000000000001";
    let u2 = "22222222-0000-4000-8000-000000000002";
    let u3 = "33333333-0000-4000-8000-000000000003";
    let differences = vec![
        diff(
            "Blog",
            u1,
            "Sales, \"EMEA\" & <Partners>",
            "visibility",
            "public",
            "private",
        ),
        diff(
            "Files",
            u1,
            "Sales, \"EMEA\" & <Partners>",
            "visibility",
            "public",
            "private",
        ),
        diff(
            "Files",
            u1,
            "Sales, \"EMEA\" & <Partners>",
            "theme",
            "blue",
            "default",
        ),
        diff("Blog", u2, "=Finance", "name", "=Finance", "Finance (old)"),
        diff(
            "Wiki",
            u3,
            "Wiki only",
            "moderation",
            "none",
            "premoderation",
        ),
    ];
    let orphans = vec![
        orphan(
            "Files",
            "f-9",
            "44444444-0000-4000-8000-000000000004",
            false,
        ),
        orphan("Blog", "b-7", u2, true),
    ];
    let details: HashMap<String, CommunityDetails> = [(
        u1.to_string(),
        CommunityDetails {
            name: "Sales, \"EMEA\" & <Partners>".into(),
            created_by: "Ann O'Neil".into(),
        },
    )]
    .into();
    let apps: Vec<String> = ["Activities", "Blog", "Files", "Wiki"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    Recovery::new(&apps, differences, orphans, &details)
}

#[test]
fn facts_and_counts() {
    let r = sample();
    assert_eq!(r.counts.total.differences, 5);
    assert_eq!(r.counts.total.orphans, 2);
    // The Wiki moderation difference alone puts no community on the list.
    assert_eq!(r.counts.total.communities, 2);
    assert_eq!(r.counts.applications["Activities"].differences, 0);
    assert_eq!(r.counts.applications["Files"].communities, 1);
    assert_eq!(r.counts.applications["Wiki"].communities, 0);
    let c = &r.communities_to_contact;
    assert_eq!(c[0].name, "=Finance");
    assert_eq!(c[1].applications, ["Blog", "Files"]);
    assert_eq!(c[1].fields, ["theme", "visibility"]);
    assert_eq!(c[1].created_by, "Ann O'Neil");
}

#[test]
fn json_snapshot() {
    insta::assert_snapshot!(sample().to_json());
}

#[test]
fn csv_snapshot() {
    insta::assert_snapshot!(sample().owners_csv());
}

#[test]
fn html_has_totals_chart_and_escapes_everything() {
    let html = sample().render_html().unwrap();
    assert!(html.contains("<div class=\"value\">5</div><div class=\"label\">differences</div>"));
    assert!(
        html.contains("<div class=\"value\">2</div><div class=\"label\">orphaned resources</div>")
    );
    assert!(html.contains("<svg class=\"chart\""));
    assert!(html.contains("<rect class=\"bar-differences\""));
    assert!(html.contains("Blog: 2 differences"));
    assert!(!html.contains("<Partners>"));
    assert!(html.contains("Sales, &quot;EMEA&quot; &amp; &lt;Partners&gt;"));
    assert!(html.contains("Ann O&#x27;Neil"));
    assert!(html.contains("resyncRemoteAppsForCommunity"));
    assert!(html.contains("Wiki moderation difference"));
}

#[test]
fn empty_facts_render() {
    let r = Recovery::new(&[], Vec::new(), Vec::new(), &HashMap::new());
    let html = r.render_html().unwrap();
    assert!(html.contains("No report was read."));
    assert_eq!(
        r.owners_csv(),
        "uuid,name,created_by,applications,fields,owners\r\n"
    );
}

#[test]
fn large_chart_values_and_row_limit() {
    let apps = vec!["Files".to_string()];
    let differences: Vec<Difference> = (0..6000)
        .map(|i| {
            diff(
                "Files",
                &format!("{i:08x}-0000-4000-8000-000000000000"),
                &format!("C{i}"),
                "visibility",
                "public",
                "private",
            )
        })
        .collect();
    let r = Recovery::new(&apps, differences, Vec::new(), &HashMap::new());
    let html = r.render_html().unwrap();
    assert!(html.contains("1000 more are in <code>recovery-report.json</code>"));
    assert!(html.contains(">6000</text>"));
}

#[test]
fn write_puts_three_files_and_no_temporaries() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("reports");
    let r = sample();
    let out = r.write(&out_dir).unwrap();
    assert_eq!(out.html, out_dir.join(HTML_FILE));
    assert_eq!(std::fs::read_to_string(&out.json).unwrap(), r.to_json());
    assert_eq!(std::fs::read_to_string(&out.csv).unwrap(), r.owners_csv());
    let back: Recovery =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join(JSON_FILE)).unwrap()).unwrap();
    assert_eq!(back, r);
    let mut names: Vec<String> = std::fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, [CSV_FILE, HTML_FILE, JSON_FILE]);
    // Writing again replaces the files.
    r.write(&out_dir).unwrap();
    assert_eq!(std::fs::read_dir(&out_dir).unwrap().count(), 3);
}
