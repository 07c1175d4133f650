//! The export reader on hand-written exports (tests/fixtures/exports/), not made by lc-sim: other
//! element names, values as child text, a wrapper element, a namespace, an ISO-8859-1
//! declaration, no application named, object ids that are UUIDs, no records; and the files it
//! refuses, each with one line.

use lc_core::export::{summarize, ExportSummary, Layout};
use std::path::PathBuf;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/exports")
        .join(name)
}

fn read(name: &str) -> ExportSummary {
    let s = summarize(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {}", e.one_line()));
    let bytes = std::fs::read(fixture(name)).unwrap();
    assert_eq!(s.bytes, bytes.len() as u64, "{name}");
    s
}

fn refused(name: &str) -> String {
    let path = fixture(name);
    let msg = summarize(&path).unwrap_err().one_line();
    assert!(!msg.contains('\n'), "{msg}");
    msg.replace(&path.display().to_string(), "<path>")
}

#[test]
fn child_text_values_and_the_application_in_a_child_of_the_root() {
    let s = read("child-text.xml");
    assert_eq!(s.applications, ["Wiki"]);
    assert_eq!((s.resources, s.layout), (3, Layout::Recognized));
    assert_eq!(s.record_path.as_deref(), Some("export/item"));
    // A community called "Files" (inside a record) names no application.
    assert!(!s.names_another_application("Wiki"));
    assert!(s.names_another_application("Files"));
}

#[test]
fn a_wrapper_element_a_namespace_and_a_display_name() {
    let s = read("wrapper-namespace.xml");
    assert_eq!(s.applications, ["Blog"]);
    assert_eq!((s.resources, s.layout), (2, Layout::Recognized));
    assert_eq!(
        s.record_path.as_deref(),
        Some("ns:syncExport/ns:resources/ns:resource")
    );
}

#[test]
fn iso_8859_1_with_non_ascii_names_and_no_application_named() {
    let s = read("latin1-no-app.xml");
    assert!(s.applications.is_empty());
    assert!(!s.names_another_application("Files"));
    assert_eq!((s.resources, s.layout), (2, Layout::Recognized));
    assert_eq!(s.record_path.as_deref(), Some("ressources/ressource"));
}

#[test]
fn object_ids_that_are_uuids() {
    let s = read("uuid-ids.xml");
    assert_eq!(s.applications, ["Files"]);
    assert_eq!((s.resources, s.layout), (4, Layout::Recognized));
    assert_eq!(s.record_path.as_deref(), Some("syncedResources/resource"));
}

#[test]
fn no_records() {
    let s = read("zero-records.xml");
    assert_eq!(s.applications, ["Forum"]);
    assert_eq!(
        (s.resources, s.layout, s.record_path),
        (0, Layout::Recognized, None)
    );
}

#[test]
fn no_uuid_anywhere_is_an_unrecognized_layout_not_an_error() {
    let s = read("unrecognized.xml");
    assert_eq!(s.applications, ["StatusUpdates"]);
    assert_eq!((s.resources, s.layout), (3, Layout::Unrecognized));
    assert_eq!(s.record_path.as_deref(), Some("dump/row"));
}

#[test]
fn refusals_are_one_line_naming_the_file() {
    assert_eq!(
        refused("refused-empty.xml"),
        "<path>:1: empty file, not an export XML file"
    );
    assert_eq!(
        refused("refused-truncated.xml"),
        "<path>:4: truncated or not XML: tag not closed: `>` not found before end of input"
    );
    assert_eq!(
        refused("refused-not-xml.xml"),
        "<path>:1: not an XML document: text before the root element"
    );
    assert_eq!(
        refused("refused-not-well-formed.xml"),
        "<path>:1: not well-formed XML: </p> closes <br>"
    );
    // Well-formed, but the export of another application: the caller refuses it.
    let s = read("refused-other-app.xml");
    assert_eq!(s.applications, ["Wiki"]);
    assert!(s.names_another_application("Blog"));
}
