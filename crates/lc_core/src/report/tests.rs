use super::cells::{is_uuid, key_matches};
use super::entities::{decode_cell, ENTITIES};
use super::*;

fn decoded(raw: &str) -> String {
    let mut out = String::new();
    decode_cell(raw.as_bytes(), &mut out);
    out
}

#[test]
fn entity_table_is_sorted_for_binary_search() {
    assert!(ENTITIES.windows(2).all(|w| w[0].0 < w[1].0));
}

#[test]
fn entities_and_white_space() {
    assert_eq!(decoded("&amp;&lt;&gt;&quot;&apos;&#39;"), "&<>\"''");
    assert_eq!(decoded("&#233;&#xE9;&#X00e9;&eacute;"), "éééé");
    assert_eq!(decoded("&#150;&#x80;"), "–€");
    assert_eq!(decoded("&#0;&#x110000;"), "\u{FFFD}\u{FFFD}");
    assert_eq!(decoded("&nbsp; a \n\t b&nbsp;"), "a b");
    assert_eq!(
        decoded("AT&T &unknown; & &#; &amp"),
        "AT&T &unknown; & &#; &"
    );
    assert_eq!(decoded("caf\u{e9}"), "café");
}

#[test]
fn latin1_bytes_are_read_as_latin1() {
    let mut out = String::new();
    decode_cell(b"caf\xe9", &mut out);
    assert_eq!(out, "café");
}

#[test]
fn labels_match_ignoring_case_spacing_and_punctuation() {
    let key = label_key("Community  UUID");
    for cell in [
        "community uuid:",
        "COMMUNITY UUID",
        "Community-UUID",
        "(Community_Uuid)?",
    ] {
        assert!(key_matches(cell, &key), "{cell}");
    }
    assert!(!key_matches("Old Community UUID", &key));
    assert_eq!(
        label_key("Valeur dans Communautés"),
        "valeurdanscommunautés"
    );
}

#[test]
fn app_labels_name_the_app_by_id_or_name() {
    let keys = label_keys(Column::ApplicationValue, &ColumnMap::default(), "Wiki");
    let has = |k: &str| keys.iter().find(|(_, x)| x == k).map(|(r, _)| *r);
    assert_eq!(has("applicationvalue"), Some(0));
    assert_eq!(has("valueinwikis"), Some(1));
    assert_eq!(has("valueinwiki"), Some(1));
    assert_eq!(has("wikisvalue"), Some(2));
    assert_eq!(has("wikis"), Some(5));
    assert_eq!(has("valueinblogs"), None);
    let user: HashMap<String, Labels> = [(
        "application_value".to_string(),
        Labels::Many(vec!["Wert".into(), "Valeur".into()]),
    )]
    .into();
    let keys = label_keys(
        Column::ApplicationValue,
        &ColumnMap::new(&user).unwrap(),
        "Wiki",
    );
    assert_eq!(
        keys[..3],
        [
            (0, "wert".to_string()),
            (1, "valeur".to_string()),
            (2, "applicationvalue".to_string())
        ]
    );
}

#[test]
fn uuids_are_checked_by_shape() {
    assert!(is_uuid("0f1e2d3c-0000-4000-8000-00000000000A"));
    assert!(!is_uuid("0f1e2d3c-0000-4000-8000-00000000000"));
    assert!(!is_uuid("0f1e2d3c00000-4000-8000-00000000000a"));
    assert!(!is_uuid("0f1e2d3c-0000-4000-8000-00000000000g"));
}

fn count(html: &str) -> Result<u64> {
    scan(
        html.as_bytes(),
        Path::new("r.html"),
        "Blog",
        ReportKind::Orphans.columns(),
        &ColumnMap::default(),
        |_, _| Ok(()),
    )
}

#[test]
fn odd_markup_is_survived() {
    let head = "<table><tr><th>Object Identifying Id<th>Old Community UUID<th>Community Exists";
    assert_eq!(
        count(&format!(
            "{head}<tr><td>a < b<td>0f1e2d3c-0000-4000-8000-000000000001<td>no</table>"
        ))
        .unwrap(),
        1
    );
    assert_eq!(
            count(&format!(
                "{head}<tr><td><!---->x<!-- -- --><td>0f1e2d3c-0000-4000-8000-000000000001<td>no</table>"
            ))
            .unwrap(),
            1
        );
    assert_eq!(
        count(&format!(
            "{head}<tr><td>x<td>0f1e2d3c-0000-4000-8000-000000000001<td>no<?php ?></table><br/>"
        ))
        .unwrap(),
        1
    );
    assert_eq!(
        count(&format!(
            "{head}<tr><td>x<td>0f1e2d3c-0000-4000-8000-000000000001<td>no</table></ td>"
        ))
        .unwrap(),
        1
    );
}

#[test]
fn truncations_and_non_reports() {
    let one = |html: &str| count(html).unwrap_err().one_line();
    assert_eq!(one(""), "r.html:1: empty file, not an HTML report");
    assert_eq!(one("just text"), "r.html:1: not an HTML report: no tags");
    assert_eq!(
        one("<html><body>"),
        "r.html:1: truncated report: the file ends before </html>"
    );
    assert_eq!(
        one("<table><tr><td class=\"x"),
        "r.html:1: truncated report: the file ends inside an attribute value"
    );
    assert_eq!(
        one("<table>\n<tr><td"),
        "r.html:2: truncated report: the file ends inside a tag"
    );
    assert_eq!(
        one("<p><!-- x"),
        "r.html:1: truncated report: the file ends inside a comment"
    );
    assert_eq!(
        one("<script>a</scr"),
        "r.html:1: truncated report: the file ends inside a <script> element"
    );
    let long = format!(
        "<table><tr><td>{}</td></tr></table>",
        "x".repeat(ROW_LIMIT + 1)
    );
    assert_eq!(
        one(&long),
        "r.html:1: a table row holds more than 4 MiB of text, not a report row"
    );
    let wide = format!(
        "<table><tr>{}</tr></table>",
        "<td>x".repeat(CELLS_LIMIT + 1)
    );
    assert_eq!(one(&wide), "r.html:1: a table row has more than 1024 cells");
}
