use super::lexical::{carries_uuid, is_uuid_bytes};
use super::*;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// What a test keeps of a record.
#[derive(Debug)]
struct Kept {
    id: String,
    community_uuid: String,
    community: BTreeMap<String, String>,
}

fn keep(r: &Record) -> Kept {
    Kept {
        id: r.id().to_string(),
        community_uuid: r.community_uuid().to_string(),
        community: r
            .community()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    }
}
use std::io::Write;

const SMALL: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<!-- sample -->
<syncedResources application="Blog" resourceType="community">
  <resource id="b-1" communityUuid="c-1">
    <community name="Sales &amp; Marketing" visibility="public" moderation="none" theme="default"/>
  </resource>
  <resource id="b-2" communityUuid="c-2"><community name="R&#233;seau" visibility="private"></community></resource>
  <resource id="b-3" communityUuid="c-3"/>
</syncedResources>
"#;

fn write(dir: &tempfile::TempDir, name: &str, content: &[u8]) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, content).unwrap();
    path
}

fn err_of(content: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, "Blog.xml", content);
    let msg = summarize(&path).unwrap_err().one_line();
    assert!(msg.contains(&path.display().to_string()), "{msg}");
    msg.replace(&path.display().to_string(), "<path>")
}

#[test]
fn summary_counts_and_hashes() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, "Blog.xml", SMALL.as_bytes());
    let s = summarize(&path).unwrap();
    assert_eq!(s.applications, ["Blog"]);
    // No value in it is a UUID: the root's repeated children are the records.
    assert_eq!(s.layout, Layout::Unrecognized);
    assert_eq!(s.record_path.as_deref(), Some("syncedResources/resource"));
    assert_eq!(s.resources, 3);
    assert_eq!(s.bytes, SMALL.len() as u64);
    // Computed with coreutils' sha256sum on the same bytes.
    assert_eq!(
        s.sha256,
        "1d7abc91c444852b5b0a801bd11aec899eddc5c97c8a7c12bf9497fda6f40906"
    );
}

#[test]
fn resources_iterate_with_fields() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, "Blog.xml", SMALL.as_bytes());
    let mut all = Vec::new();
    let (application, count) = for_each_resource(&path, |r| all.push(keep(r))).unwrap();
    assert_eq!((application.as_str(), count), ("Blog", 3));
    assert_eq!(all.len(), 3);
    assert_eq!(all[0].id, "b-1");
    assert_eq!(all[0].community_uuid, "c-1");
    assert_eq!(all[0].community["name"], "Sales & Marketing");
    assert_eq!(all[0].community["visibility"], "public");
    assert_eq!(all[1].community["name"], "Réseau");
    assert_eq!(all[2].id, "b-3");
    assert!(all[2].community.is_empty());
}

#[test]
fn large_file_hash_matches_one_shot_digest() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("Files.xml");
    let mut f = std::io::BufWriter::new(File::create(&path).unwrap());
    writeln!(
        f,
        "<syncedResources application=\"Files\" resourceType=\"community\">"
    )
    .unwrap();
    for i in 0..20_000 {
        writeln!(
            f,
            "  <resource id=\"f-{i}\" communityUuid=\"{i:08x}-0000-4000-8000-000000000000\">\
                 <community name=\"Community {i}\" visibility=\"public\"/></resource>"
        )
        .unwrap();
    }
    f.write_all(b"</syncedResources>\n").unwrap();
    drop(f);
    let content = std::fs::read(&path).unwrap();
    assert!(content.len() > 4 * CHUNK);
    let s = summarize(&path).unwrap();
    assert_eq!(s.resources, 20_000);
    assert_eq!(s.bytes, content.len() as u64);
    assert_eq!(s.sha256, hex(&Sha256::digest(&content)));
    let mut names = 0;
    let (_, count) = for_each_resource(&path, |r| {
        assert_eq!(r.id(), format!("f-{names}"));
        assert_eq!(
            r.community().find(|(k, _)| *k == "name").map(|(_, v)| v),
            Some(format!("Community {names}").as_str())
        );
        names += 1;
    })
    .unwrap();
    assert_eq!((count, names), (20_000, 20_000));
}

fn records_of(content: &str) -> std::result::Result<Vec<Kept>, String> {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, "Blog.xml", content.as_bytes());
    let mut all = Vec::new();
    for_each_resource(&path, |r| all.push(keep(r)))
        .map(|_| all)
        .map_err(|e| e.one_line().replace(&path.display().to_string(), "<path>"))
}

#[test]
fn attributes_as_xml_allows_them() {
    let all = records_of(
        "<syncedResources application = 'Blog'>\n<resource\tid='b-1'\n communityUuid = \"c-1\" >\
             <community name='a \"quoted\" &lt;name&gt; &#x41;' theme=\"it's\"/></resource>\
             <resource communityUuid=\"c-2\" id=\"b-2\"/></syncedResources>",
    )
    .unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(
        (all[0].id.as_str(), all[0].community_uuid.as_str()),
        ("b-1", "c-1")
    );
    assert_eq!(all[0].community["name"], "a \"quoted\" <name> A");
    assert_eq!(all[0].community["theme"], "it's");
    assert_eq!(
        (all[1].id.as_str(), all[1].community_uuid.as_str()),
        ("b-2", "c-2")
    );
    assert!(
        all[1].community.is_empty(),
        "the first record's fields were kept"
    );
}

#[test]
fn malformed_attributes_are_refused_on_one_line() {
    let cases = [
        (
            "<community name=\"a\" name=\"b\"/>",
            "<path>:1: not well-formed XML: the attribute name is given twice",
        ),
        (
            "<community name=a/>",
            "<path>:1: not well-formed XML: the value of name is not quoted",
        ),
        (
            "<community name=\"a\"theme=\"b\"/>",
            "<path>:1: not well-formed XML: no space between attributes",
        ),
        (
            "<community name=\"a<b\"/>",
            "<path>:1: not well-formed XML: '<' in an attribute value",
        ),
        (
            "<community name/>",
            "<path>:1: not well-formed XML: the attribute name has no value",
        ),
        (
            "<community name=\"&bogus;\"/>",
            "<path>:1: not well-formed XML: ",
        ),
    ];
    for (community, expected) in cases {
        let doc = format!(
                "<syncedResources application=\"Blog\"><resource id=\"b\" communityUuid=\"c\">{community}</resource></syncedResources>"
            );
        let err = records_of(&doc).unwrap_err();
        assert!(err.starts_with(expected), "{community}: {err}");
        assert!(!err.contains('\n'), "{err}");
    }
    let err = records_of(
        "<syncedResources application=\"Blog\"><resource id=\"a\" id=\"b\"/></syncedResources>",
    )
    .unwrap_err();
    assert_eq!(
        err,
        "<path>:1: not well-formed XML: the attribute id is given twice"
    );
    assert_eq!(
        err_of(b"<syncedResources application=\"Blog\" application=\"Wiki\"/>"),
        "<path>:1: not well-formed XML: the attribute application is given twice"
    );
}

#[test]
fn an_error_early_in_a_large_file_stops_the_reading_thread() {
    // Many chunks after the error: the reader thread, blocked on a full channel, must be
    // told to stop, or summarize would never return.
    let dir = tempfile::tempdir().unwrap();
    let mut content = b"<syncedResources application=\"Files\"><oops></syncedResources>".to_vec();
    content.resize(content.len() + (CHUNKS_AHEAD + 4) * CHUNK, b' ');
    let path = write(&dir, "Files.xml", &content);
    let msg = summarize(&path).unwrap_err().one_line();
    assert!(msg.contains("</syncedResources> closes <oops>"), "{msg}");
    let msg = for_each_resource(&path, |_| {}).unwrap_err().one_line();
    assert!(msg.contains("</syncedResources> closes <oops>"), "{msg}");
}

#[test]
fn empty_root_and_bom_are_fine() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        &dir,
        "Wiki.xml",
        "\u{feff}<syncedResources application=\"Wiki\"/>".as_bytes(),
    );
    let s = summarize(&path).unwrap();
    assert_eq!(s.applications, ["Wiki"]);
    assert_eq!((s.resources, s.layout), (0, Layout::Recognized));
}

#[test]
fn truncated_file_is_named() {
    let cut = &SMALL[..SMALL.find("<resource id=\"b-3\"").unwrap()];
    assert_eq!(
        err_of(cut.as_bytes()),
        "<path>:8: truncated: the file ends before </syncedResources> closes the document"
    );
    let mid_tag = &SMALL[..SMALL.find("communityUuid=\"c-3\"").unwrap()];
    assert!(err_of(mid_tag.as_bytes()).starts_with("<path>:"));
    assert!(err_of(mid_tag.as_bytes()).contains("truncated or not XML"));
}

#[test]
fn not_xml_and_not_well_formed() {
    assert_eq!(err_of(b""), "<path>:1: empty file, not an export XML file");
    assert_eq!(
        err_of(b"{\"application\": \"Blog\"}"),
        "<path>:1: not an XML document: text before the root element"
    );
    assert_eq!(
        err_of(b"<!-- only a comment -->\n"),
        "<path>:1: not an export XML file: no root element"
    );
    assert_eq!(
        err_of(b"<a/><b/>"),
        "<path>:1: not well-formed XML: a second element after the root element"
    );
    assert_eq!(
        err_of(b"<a/>text"),
        "<path>:1: not well-formed XML: text after the root element"
    );
    assert!(err_of(b"<a><b></a>").contains("not well-formed XML: </a> closes <b>"));
    assert_eq!(
            err_of(b"<?xml version=\"1.0\" encoding=\"UTF-16\"?><a/>"),
            "<path>:1: the encoding \"utf-16\" is not read: an export must be UTF-8, US-ASCII or a single-byte ISO-8859 or Windows encoding"
        );
    // Any other layout is read: a document with no records is not an error.
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        &dir,
        "Blog.xml",
        b"<!DOCTYPE html>\n<html><body></body></html>",
    );
    let s = summarize(&path).unwrap();
    assert_eq!((s.resources, s.layout), (0, Layout::Recognized));
    assert!(s.applications.is_empty());
}

#[test]
fn records_are_the_shallowest_uuid_carriers_of_the_commonest_path() {
    let u = |i: u32| format!("{i:08x}-0000-4000-8000-000000000000");
    // Members after the record's own UUID, and before it (known only once it is closed).
    let doc = format!(
            "<r a=\"{}\"><x><k>{}</k><m id=\"{}\"/><m id=\"{}\"/></x><x><m id=\"{}\"/><m id=\"{}\"/><m id=\"{}\"/><k>{}</k></x></r>",
            u(0), u(1), u(2), u(3), u(4), u(5), u(6), u(7)
        );
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, "Blog.xml", doc.as_bytes());
    let s = summarize(&path).unwrap();
    assert_eq!(s.resources, 2);
    assert_eq!(s.record_path.as_deref(), Some("r/x"));
    assert_eq!(s.layout, Layout::Recognized);
    // A tie goes to the shallower path: each record has one nested carrier.
    let doc = format!("<r><x id=\"{}\"><y id=\"{}\"/></x></r>", u(1), u(2));
    let path = write(&dir, "Blog.xml", doc.as_bytes());
    assert_eq!(
        summarize(&path).unwrap().record_path.as_deref(),
        Some("r/x")
    );
}

#[test]
fn uuid_bytes_are_hex_digits_and_dashes_8_4_4_4_12() {
    // The rule as written: dashes at 8, 13, 18 and 23, ASCII hex digits elsewhere.
    let by_rule = |b: &[u8]| {
        b.len() == 36
            && b.iter().enumerate().all(|(i, c)| match i {
                8 | 13 | 18 | 23 => *c == b'-',
                _ => c.is_ascii_hexdigit(),
            })
    };
    let good = *b"0f1E2d3c-4b5A-6978-8796-a5b4c3d2e1f0";
    assert!(is_uuid_bytes(&good));
    for i in 0..good.len() {
        for c in 0..=255u8 {
            let mut b = good;
            b[i] = c;
            assert_eq!(is_uuid_bytes(&b), by_rule(&b), "{:?}", b);
        }
    }
    assert!(!is_uuid_bytes(&good[..35]));
    assert!(!is_uuid_bytes(b"0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f00"));
    // A value of 36 bytes closed by its quote, and one that is longer.
    assert!(carries_uuid(
        b" id=\"0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0\""
    ));
    assert!(carries_uuid(
            b" a='x' b=\"0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0 \" c='0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0'"
        ));
    assert!(!carries_uuid(
        b" b=\"0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0 \" c='0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0\""
    ));
}

#[test]
fn the_application_is_named_only_outside_the_records() {
    let dir = tempfile::tempdir().unwrap();
    let u = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";
    let doc = format!(
            "<r kind=\"community\" source=\"Ideation Blogs\"><note>Files</note><x id=\"{u}\" app=\"Wiki\"><name>Forum</name></x></r>"
        );
    let path = write(&dir, "Blog.xml", doc.as_bytes());
    let s = summarize(&path).unwrap();
    assert_eq!(s.applications, ["IdeationBlog", "Files"]);
    assert!(s.names_another_application("Blog"));
    assert!(!s.names_another_application("Files"));
    let path = write(
        &dir,
        "Blog.xml",
        format!("<r><x id=\"{u}\"/></r>").as_bytes(),
    );
    assert!(!summarize(&path).unwrap().names_another_application("Blog"));
}
