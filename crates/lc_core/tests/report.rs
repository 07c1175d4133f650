//! The sync-report reader against report files it was not written against (hand-written, not
//! lc-sim's): reordered and extra columns, upper-case tags, omitted end tags, unquoted attributes,
//! entities, attributes everywhere, layout tables, `<thead>` and `<th>` or `<td>` headers, a
//! summary table before the data, a table split in two, labels from the synonyms (with
//! punctuation, in any case, naming the application), reports without a "community exists"
//! column, Latin-1, empty and truncated reports, localized labels with `column_map`, reports
//! refused for what their values say, and a large report read in bounded memory.

use lc_core::formats::report::Column;
use lc_core::report::{
    for_each_difference, read_differences, read_orphans, scan_file, ColumnMap, Difference, Labels,
    Orphan, ReportKind,
};
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/reports")
        .join(name)
}

fn expected_differences() -> Vec<Difference> {
    let d = |uuid: &str, name: &str, field: &str, c: &str, a: &str| Difference {
        application: "Blog".into(),
        community_uuid: format!("0f1e2d3c-0000-4000-8000-00000000000{uuid}"),
        community_name: name.into(),
        field: field.into(),
        communities_value: c.into(),
        application_value: a.into(),
    };
    vec![
        d("1", "Sales & Marketing", "visibility", "public", "private"),
        d("2", "Équipe <R&D>", "theme", "blue", "default"),
        d("3", "Café \"Ünïcode\"", "moderation", "none", "moderated"),
    ]
}

fn expected_orphans() -> Vec<Orphan> {
    ["a", "b", "c", "d"]
        .iter()
        .zip([true, false, true, false])
        .map(|(k, exists)| orphan(k, Some(exists)))
        .collect()
}

fn orphan(k: &str, community_exists: Option<bool>) -> Orphan {
    Orphan {
        application: "Blog".into(),
        object_id: format!("a1b2c3d4-0000-4000-8000-00000000000{k}"),
        old_community_uuid: format!("0f1e2d3c-0000-4000-8000-00000000000{k}"),
        community_exists,
    }
}

fn map_of(pairs: &[(&str, Labels)]) -> ColumnMap {
    let m: HashMap<String, Labels> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    ColumnMap::new(&m).unwrap()
}

fn error_of(result: lc_core::Result<impl std::fmt::Debug>, path: &Path) -> String {
    let msg = result.unwrap_err().one_line();
    let shown = path.display().to_string();
    assert!(msg.contains(&shown), "the message names the file: {msg}");
    msg.replace(&shown, "<path>")
}

#[test]
fn every_layout_variant_gives_the_same_differences() {
    for name in [
        "plain.html",
        "reordered_extra_columns.html",
        "upper_case_tags.html",
        "missing_end_tags.html",
        "entities.html",
        "attributes_everywhere.html",
        "layout_nested.html",
        "latin1.html",
        "app_named_labels.html",
        "app_named_suffix_labels.html",
        "summary_then_thead.html",
        "split_table.html",
        "extra_columns.html",
        "two_keys_one_column.html",
    ] {
        let got = read_differences(&fixture(name), "Blog", &ColumnMap::default())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(got, expected_differences(), "{name}");
    }
}

#[test]
fn orphans_by_header_text_with_any_yes_no() {
    for name in ["orphans_plain.html", "orphans_variants.html"] {
        let got = read_orphans(&fixture(name), "Blog", &ColumnMap::default())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(got, expected_orphans(), "{name}");
    }
}

#[test]
fn empty_reports_give_no_rows() {
    for name in ["empty_table.html", "no_differences.html"] {
        let got = read_differences(&fixture(name), "Wiki", &ColumnMap::default()).unwrap();
        assert!(got.is_empty(), "{name}");
    }
}

#[test]
fn truncated_reports_are_errors_naming_the_file() {
    let path = fixture("truncated_mid_row.html");
    assert_eq!(
        error_of(read_differences(&path, "Blog", &ColumnMap::default()), &path),
        "<path>:12: truncated report: the file ends inside the table opened at line 6 (no </table>)"
    );
    let path = fixture("truncated_before_html_end.html");
    assert_eq!(
        error_of(
            read_differences(&path, "Blog", &ColumnMap::default()),
            &path
        ),
        "<path>:16: truncated report: the file ends before </html>"
    );
}

#[test]
fn localized_labels_need_column_map() {
    let path = fixture("custom_labels_fr.html");
    assert_eq!(
        error_of(read_differences(&path, "Blog", &ColumnMap::default()), &path),
        "<path>:3: no table with the expected column headers: missing \"Community Name\", \
         \"Community UUID\", \"Attribute\", \"Communities Value\", \"Application Value\" \
         (closest header row: \"Nom de la communauté\" | \"UUID de la communauté\" | \"Attribut\" | \
         \"Valeur dans Communautés\" | \"Valeur dans l'application\"); if the report prints other \
         labels, set column_map for community_name, community_uuid, field, communities_value, \
         application_value"
    );
    let map = map_of(&[
        ("community_name", "Nom de la communauté".into()),
        ("community_uuid", "uuid de la COMMUNAUTÉ".into()),
        (
            "field",
            Labels::Many(vec!["Eigenschaft".into(), "Attribut".into()]),
        ),
        ("communities_value", "Valeur dans Communautés".into()),
        ("application_value", "Valeur dans l'application".into()),
    ]);
    assert_eq!(map.label(Column::Field), "Eigenschaft");
    assert_eq!(map.label(Column::ObjectId), "Object Identifying Id");
    assert_eq!(
        read_differences(&path, "Blog", &map).unwrap(),
        expected_differences()
    );
}

#[test]
fn one_missing_label_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("Blog_communityDifferences.html");
    let text = std::fs::read_to_string(fixture("plain.html"))
        .unwrap()
        .replace("<th>Attribute</th>", "<th>Characteristic</th>");
    std::fs::write(&path, text).unwrap();
    let msg = error_of(
        read_differences(&path, "Blog", &ColumnMap::default()),
        &path,
    );
    assert!(
        msg.starts_with(
            "<path>:8: no table with the expected column headers: missing \"Attribute\" (closest"
        ),
        "{msg}"
    );
    assert!(msg.ends_with("set column_map for field"), "{msg}");
}

#[test]
fn column_map_keys_and_labels_are_checked() {
    let one = |pairs: &[(&str, Labels)]| {
        let m: HashMap<String, Labels> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        ColumnMap::new(&m).unwrap_err().one_line()
    };
    assert_eq!(
        one(&[("uuid", "UUID".into())]),
        "column_map: unknown column key \"uuid\"; known keys: community_uuid, community_name, field, \
         communities_value, application_value, object_id, old_community_uuid, community_exists, reason"
    );
    assert_eq!(
        one(&[("field", Labels::Many(vec![]))]),
        "column_map: the list of labels of \"field\" is empty"
    );
    assert_eq!(
        one(&[("field", Labels::Many(vec!["Attribut".into(), " : ".into()]))]),
        "column_map: a label of \"field\" is empty (or only punctuation)"
    );
    assert_eq!(
        one(&[
            ("communities_value", "Value".into()),
            ("application_value", Labels::Many(vec!["Wert".into(), "VALUE:".into()])),
        ]),
        "column_map: the label \"Value\" is given for both application_value and communities_value: \
         one column cannot be two keys"
    );
    // A string or a list of strings, as the module's option gives them.
    let m: HashMap<String, Labels> =
        serde_json::from_str(r#"{"field": "Attribut", "reason": ["Motif", "Raison"]}"#).unwrap();
    let map = ColumnMap::new(&m).unwrap();
    assert_eq!(map.user_labels(Column::Reason), ["Motif", "Raison"]);
    assert_eq!(map.label(Column::Field), "Attribut");
    let bad = serde_json::from_str::<HashMap<String, Labels>>(r#"{"field": 3}"#).unwrap_err();
    assert!(
        bad.to_string()
            .starts_with("a column label or a list of column labels"),
        "{bad}"
    );
}

#[test]
fn app_named_labels_follow_the_application() {
    // "Value in Blogs" names Blog; read as Wiki's report, that column is no application value.
    let path = fixture("app_named_labels.html");
    assert_eq!(
        error_of(read_differences(&path, "Wiki", &ColumnMap::default()), &path),
        "<path>:7: no table with the expected column headers: missing \"Application Value\" \
         (closest header row: \"Property\" | \"Community Id\" | \"Community\" | \"Value in Blogs\" | \
         \"Value in Communities\"); if the report prints other labels, set column_map for application_value"
    );
}

#[test]
fn display_name_prefix_gives_the_app_and_its_labels() {
    let path = fixture("Wikis_communityDifferences.html");
    let name = path.file_name().unwrap().to_str().unwrap();
    let (app, kind) = ReportKind::classify(name).unwrap();
    assert_eq!((app.id, kind), ("Wiki", ReportKind::Differences));
    let got = read_differences(&path, app.id, &ColumnMap::default()).unwrap();
    let want: Vec<Difference> = expected_differences()
        .into_iter()
        .map(|d| Difference {
            application: "Wiki".into(),
            ..d
        })
        .collect();
    assert_eq!(got, want);
}

#[test]
fn community_exists_comes_from_the_reason_where_it_says_so() {
    let got = read_orphans(
        &fixture("orphans_reason.html"),
        "Blog",
        &ColumnMap::default(),
    )
    .unwrap();
    assert_eq!(
        got,
        vec![
            orphan("a", Some(false)),
            orphan("b", Some(true)),
            orphan("c", Some(false)),
            orphan("d", Some(true)),
            orphan("e", None),
            orphan("f", None),
        ]
    );
    // Neither column: unknown, and the rows are read all the same.
    let got = read_orphans(
        &fixture("orphans_no_exists.html"),
        "Blog",
        &ColumnMap::default(),
    )
    .unwrap();
    assert_eq!(got, vec![orphan("a", None), orphan("b", None)]);
    // A "community exists" column is read before any reason (orphans_variants has a Notes column
    // that column_map names as the reason).
    let map = map_of(&[("reason", "Notes".into())]);
    let got = read_orphans(&fixture("orphans_variants.html"), "Blog", &map).unwrap();
    assert_eq!(got, expected_orphans());
}

/// Reports whose header row matches but which cannot be read without guessing: each refused on
/// one line that names the file, the line and why.
#[test]
fn reports_that_would_need_a_guess_are_refused() {
    let mut lines = Vec::new();
    for (name, map) in [
        ("uuid_column_not_uuids.html", ColumnMap::default()),
        ("ambiguous_uuid_columns.html", ColumnMap::default()),
        (
            "two_keys_one_column.html",
            map_of(&[("community_uuid", "Community".into())]),
        ),
    ] {
        let path = fixture(name);
        lines.push(format!(
            "{name}: {}",
            error_of(read_differences(&path, "Blog", &map), &path)
        ));
    }
    let path = fixture("orphans_reason.html");
    let map = map_of(&[("old_community_uuid", "Reason".into())]);
    lines.push(format!(
        "orphans_reason.html: {}",
        error_of(read_orphans(&path, "Blog", &map), &path)
    ));
    insta::assert_snapshot!(lines.join("\n"));
}

#[test]
fn bad_yes_no_value_is_an_error_at_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("Blog_orphanedRemoteApplications.html");
    let text = std::fs::read_to_string(fixture("orphans_plain.html"))
        .unwrap()
        .replace("<td>false</td>", "<td>maybe</td>");
    std::fs::write(&path, text).unwrap();
    assert_eq!(
        error_of(read_orphans(&path, "Blog", &ColumnMap::default()), &path),
        "<path>:11: column 3 (\"Community Exists\", read as community_exists) holds \"maybe\", not yes, \
         no, true or false: the report is not read; if another column holds the community exists, set \
         column_map for community_exists"
    );
}

#[test]
fn file_names_classify() {
    let id = |name: &str| ReportKind::classify(name).map(|(app, kind)| (app.id, kind));
    assert_eq!(
        id("IdeationBlog_communityDifferences.html"),
        Some(("IdeationBlog", ReportKind::Differences))
    );
    assert_eq!(
        id("Files_orphanedRemoteApplications.html"),
        Some(("Files", ReportKind::Orphans))
    );
    assert_eq!(
        id("Wikis_communityDifferences.html"),
        Some(("Wiki", ReportKind::Differences))
    );
    assert_eq!(
        id("Blogs_orphanedRemoteApplications.html"),
        Some(("Blog", ReportKind::Orphans))
    );
    assert_eq!(id("Bookmarks_communityDifferences.html"), None);
    assert_eq!(ReportKind::classify("_communityDifferences.html"), None);
    assert_eq!(ReportKind::classify("Files.xml"), None);
    assert_eq!(
        ReportKind::Orphans.file_name("Wiki"),
        "Wiki_orphanedRemoteApplications.html"
    );
}

/// Peak resident memory of this process, in KiB (Linux), to check that reading does not grow.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[test]
fn large_report_streams_in_bounded_memory() {
    const ROWS: u64 = 100_000;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("Files_communityDifferences.html");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    writeln!(f, "<html><body><table><tr><th>Community Name</th><th>Community UUID</th><th>Attribute</th><th>Communities Value</th><th>Application Value</th></tr>").unwrap();
    for i in 0..ROWS {
        writeln!(
            f,
            "<tr><td>Community &amp; {i}</td><td>{i:08x}-0000-4000-8000-000000000000</td><td>visibility</td><td>public</td><td>private</td></tr>"
        )
        .unwrap();
    }
    writeln!(f, "</table></body></html>").unwrap();
    drop(f);
    let size = std::fs::metadata(&path).unwrap().len();
    assert!(size > 10_000_000);

    let before = peak_rss_kib();
    let mut last = None;
    let count =
        for_each_difference(&path, "Files", &ColumnMap::default(), |d| last = Some(d)).unwrap();
    assert_eq!(count, ROWS);
    assert_eq!(
        last.unwrap().community_name,
        format!("Community & {}", ROWS - 1)
    );
    let n = scan_file(
        &path,
        "Files",
        ReportKind::Differences.columns(),
        &ColumnMap::default(),
        |_, _| Ok(()),
    )
    .unwrap();
    assert_eq!(n, ROWS);
    if let (Some(before), Some(after)) = (before, peak_rss_kib()) {
        // The file is over 10 MB; reading it may not raise the peak by more than a few MB.
        assert!(
            after - before < 8 * 1024,
            "peak RSS grew by {} KiB",
            after - before
        );
    }
}
