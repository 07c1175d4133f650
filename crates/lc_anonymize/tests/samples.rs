//! Hand-written samples in layouts lc-sim does not write: the copy is the original byte for byte
//! but for the values that carry identity, which hold the run's pseudonyms; and what cannot be
//! read safely is refused with one line naming the file, leaving nothing behind.

use std::path::Path;

use lc_anonymize::markup::{rewrite, Mode};
use lc_anonymize::{anonymize, Outcome, Pseudonyms};

const U1: &str = "0b6d3c0e-8f7a-4c1d-9e2b-5a4f3e2d1c0b";
const U2: &str = "7f9e8d7c-6b5a-4e3d-8c2b-1a0f9e8d7c6b";
const U3: &str = "C4B3A291-8070-4F6E-9D5C-4B3A29180706";

fn run() -> Pseudonyms {
    Pseudonyms::new([3; 32])
}

fn copy(input: &[u8], mode: Mode, p: &mut Pseudonyms) -> Vec<u8> {
    let mut out = Vec::new();
    rewrite(input, &mut out, mode, p).unwrap();
    out
}

/// `template` with `{U1}`… replaced by the UUIDs or their pseudonyms.
fn fill(template: &str, u: [&str; 3]) -> Vec<u8> {
    template
        .replace("{U1}", u[0])
        .replace("{U2}", u[1])
        .replace("{U3}", u[2])
        .into_bytes()
}

/// Latin-1 bytes where the template says `{e9}`.
fn latin1(bytes: Vec<u8>) -> Vec<u8> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i..].starts_with(b"{e9}") {
            out.push(0xe9);
            i += 4;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    out
}

#[test]
fn export_with_attributes_namespaces_and_latin1() {
    let original = r#"<?xml version="1.0" encoding="ISO-8859-1"?>
<!-- exported by amy.jones@acme.example -->
<x:export xmlns:x="urn:acme:sync" app="Wiki" created="2025-01-15T09:00:00Z">
  <x:item objectId="{U1}" community="{U2}" visibility='private' title="R&#233;seau d'Amy"
          owner="Amy Jones" mail="amy.jones@acme.example" count="12" exists="true"/>
  <x:item objectId="{U3}" community="{U2}" visibility="public" title="R{e9}seau d&apos;Amy" owner="Bo Berg"></x:item>
</x:export>
"#;
    let expected = r#"<?xml version="1.0" encoding="ISO-8859-1"?>
<!-- Text 0001 -->
<x:export xmlns:x="urn:acme:sync" app="Wiki" created="2025-01-15T09:00:00Z">
  <x:item objectId="{U1}" community="{U2}" visibility='private' title="Title 0001"
          owner="Person 0001" mail="user0001@example.com" count="12" exists="true"/>
  <x:item objectId="{U3}" community="{U2}" visibility="public" title="Title 0001" owner="Person 0002"></x:item>
</x:export>
"#;
    let mut p = run();
    let got = copy(&latin1(fill(original, [U1, U2, U3])), Mode::Xml, &mut p);
    let want = fill(expected, [&p.uuid(U1), &p.uuid(U2), &p.uuid(U3)]);
    assert_eq!(
        String::from_utf8_lossy(&got),
        String::from_utf8_lossy(&want)
    );
    assert!(
        p.uuid(U3).chars().all(|c| !c.is_ascii_lowercase()),
        "case kept"
    );
}

#[test]
fn export_with_child_text_and_cdata() {
    let original = "<?xml version=\"1.0\"?>\r\n<syncExport>\r\n  <application>Blogs</application>\r\n\
        <records><record>\r\n    <id>b-1001</id>\r\n    <communityId>\n      {U1}\n    </communityId>\r\n\
        <name>Agile &amp; Lean</name><createdBy>Amy Jones</createdBy>\r\n\
        <visibility>publicInviteOnly</visibility><memberCount>37</memberCount>\r\n\
        <description><![CDATA[Plans for Q3 <draft>]]></description>\r\n\
        <reason>Community {U2} does not exist</reason>\r\n\
        </record></records>\r\n</syncExport>";
    let expected = "<?xml version=\"1.0\"?>\r\n<syncExport>\r\n  <application>Blogs</application>\r\n\
        <records><record>\r\n    <id>Id 0001</id>\r\n    <communityId>\n      {U1}\n    </communityId>\r\n\
        <name>Name 0001</name><createdBy>Person 0001</createdBy>\r\n\
        <visibility>publicInviteOnly</visibility><memberCount>37</memberCount>\r\n\
        <description><![CDATA[Name 0002]]></description>\r\n\
        <reason>Community {U2} does not exist</reason>\r\n\
        </record></records>\r\n</syncExport>";
    let mut p = run();
    let got = copy(&fill(original, [U1, U2, U3]), Mode::Xml, &mut p);
    let want = fill(expected, [&p.uuid(U1), &p.uuid(U2), &p.uuid(U3)]);
    assert_eq!(
        String::from_utf8_lossy(&got),
        String::from_utf8_lossy(&want)
    );
}

#[test]
fn report_with_upper_case_tags_omitted_end_tags_and_entities() {
    let original = "<HTML><HEAD><META HTTP-EQUIV=\"Content-Type\" CONTENT=\"text/html; charset=ISO-8859-1\">\n\
<TITLE>Wikis orphans</TITLE></HEAD>\n\
<BODY BGCOLOR=#FFFFFF>\n\
<H2>Remote application resources</H2>\n\
<TABLE BORDER=1>\n\
<TR><TD>Application<TD>Wikis\n\
<TR><TD>Total<TD>2\n\
</TABLE>\n\
<TABLE class=data>\n\
<THEAD><TR><TD>Object Id<TD>Community<TD>Reason</THEAD>\n\
<TBODY>\n\
<TR><TD>{U1}<TD>Caf&eacute; R&amp;D<TD>Community {U2} no longer exists\n\
<TR><TD> {U3} <TD><B>Caf{e9}</B> R&amp;D<TD TITLE=\"Amy Jones\">Widget missing\n\
</TABLE>\n\
<P>Sent to amy.jones@acme.example</P>\n\
</BODY></HTML>\n";
    let expected = "<HTML><HEAD><META HTTP-EQUIV=\"Content-Type\" CONTENT=\"text/html; charset=ISO-8859-1\">\n\
<TITLE>Wikis orphans</TITLE></HEAD>\n\
<BODY BGCOLOR=#FFFFFF>\n\
<H2>Remote application resources</H2>\n\
<TABLE BORDER=1>\n\
<TR><TD>Application<TD>Wikis\n\
<TR><TD>Total<TD>2\n\
</TABLE>\n\
<TABLE class=data>\n\
<THEAD><TR><TD>Object Id<TD>Community<TD>Reason</THEAD>\n\
<TBODY>\n\
<TR><TD>{U1}<TD>Community 0001<TD>Community {U2} no longer exists\n\
<TR><TD> {U3} <TD><B>Community 0001</B> <TD TITLE=\"Title 0001\">Widget missing\n\
</TABLE>\n\
<P>Text 0001</P>\n\
</BODY></HTML>\n";
    let mut p = run();
    let got = copy(&latin1(fill(original, [U1, U2, U3])), Mode::Html, &mut p);
    let want = fill(expected, [&p.uuid(U1), &p.uuid(U2), &p.uuid(U3)]);
    assert_eq!(
        String::from_utf8_lossy(&got),
        String::from_utf8_lossy(&want)
    );
}

#[test]
fn header_rows_are_told_from_data_rows() {
    // <TH> cells anywhere are labels; a first row holding a UUID is data; a <TH> among <TD>s
    // (a row header) is a value.
    let original = "<table><tr><td>{U1}</td><td>Amy Jones</td></tr>\
<tr><th>Besitzer</th><th>Gemeinschaft</th></tr>\
<tr><th>Bo Berg</th><td>Sales</td></tr></table>";
    let expected = "<table><tr><td>{U1}</td><td>Name 0001</td></tr>\
<tr><th>Besitzer</th><th>Gemeinschaft</th></tr>\
<tr><th>Name 0002</th><td>Name 0003</td></tr></table>";
    let mut p = run();
    let got = copy(&fill(original, [U1, U2, U3]), Mode::Html, &mut p);
    let want = fill(expected, [&p.uuid(U1), U2, U3]);
    assert_eq!(
        String::from_utf8_lossy(&got),
        String::from_utf8_lossy(&want)
    );
}

#[test]
fn a_layout_table_around_the_data_table_is_followed() {
    let original = "<table><tr><td><table>\n<tr><th>Created By</th><th>Community UUID</th></tr>\n\
<tr><td>Amy Jones</td><td>{U1}</td></tr>\n</table></td><td>Bo Berg</td></tr></table>";
    let expected = "<table><tr><td><table>\n<tr><th>Created By</th><th>Community UUID</th></tr>\n\
<tr><td>Person 0001</td><td>{U1}</td></tr>\n</table></td><td>Name 0001</td></tr></table>";
    let mut p = run();
    let got = copy(&fill(original, [U1, U2, U3]), Mode::Html, &mut p);
    let want = fill(expected, [&p.uuid(U1), U2, U3]);
    assert_eq!(
        String::from_utf8_lossy(&got),
        String::from_utf8_lossy(&want)
    );
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// The one-line error for `bytes` in a file `name`, with the path shown as `<path>`; checks
/// that nothing was written.
fn refusal(name: &str, bytes: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), name, bytes);
    let out = dir.path().join("copy").join(name);
    std::fs::create_dir(dir.path().join("copy")).unwrap();
    let err = anonymize(&input, &out, &mut run()).unwrap_err().one_line();
    assert!(!out.exists());
    assert_eq!(
        std::fs::read_dir(dir.path().join("copy")).unwrap().count(),
        0,
        "a temporary file was left"
    );
    assert!(!err.contains('\n'));
    err.replace(&input.display().to_string(), "<path>")
}

#[test]
fn what_cannot_be_read_safely_is_refused_on_one_line() {
    assert_eq!(
        refusal("a.xml", b"<?xml version=\"1.0\" encoding=\"Shift_JIS\"?>\n<a/>"),
        "<path>:1: the XML declaration names the encoding \"Shift_JIS\", which lc-anonymize does not read (it reads UTF-8, US-ASCII, ISO-8859-1 and windows-1252)"
    );
    assert_eq!(
        refusal("a.xml", b"<a>\n<b name=\"R\xe9seau\"/>\n</a>"),
        "<path>:2: bytes that are not UTF-8, in a file read as UTF-8 (the encoding is from XML's default)"
    );
    assert_eq!(
        refusal("a.xml", b"<a>\n  <b>x</b>\n  <b>"),
        "<path>:3: truncated: the file ends inside <b>"
    );
    assert_eq!(
        refusal("a.xml", b"<a><b name=\"x"),
        "<path>:1: truncated: the file ends inside an attribute value"
    );
    assert_eq!(
        refusal("a.xml", b"<a><b></a>"),
        "<path>:1: not well-formed XML: </a> closes <b>"
    );
    assert_eq!(
        refusal("a.html", b"\xff\xfe<\0h\0"),
        "<path>:1: the file is UTF-16 (byte-order mark); lc-anonymize reads UTF-8, US-ASCII, ISO-8859-1 and windows-1252"
    );
    assert_eq!(
        refusal(
            "a.html",
            b"<html><body><table><tr><td>Caf\xe9</td></tr></table></body></html>"
        ),
        "<path>:1: bytes that are not UTF-8 and no charset is declared: unsure of the encoding"
    );
    assert_eq!(
        refusal(
            "a.html",
            "<html><p>Café</p><meta charset=\"ISO-8859-1\"></html>".as_bytes()
        ),
        "<path>:1: the <meta> charset says ISO-8859-1 after non-ASCII text was met: unsure of the encoding"
    );
    // A copy that cannot be written names the copy.
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "a.xml", b"<a/>");
    let out = dir.path().join("missing").join("a.xml");
    let err = anonymize(&input, &out, &mut run()).unwrap_err().one_line();
    assert!(err.starts_with(&format!("{}: ", out.display())), "{err}");
    assert_eq!(
        refusal("a.txt", b"name,uuid\nAmy,1\n"),
        "<path>: neither XML nor HTML (by its name and its first bytes); nothing written"
    );
}

#[test]
fn a_folder_is_one_run() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    std::fs::create_dir_all(input.join("reports")).unwrap();
    write(
        &input,
        "Blog.xml",
        format!("<e><r id=\"{U1}\" name=\"Agile Team\"/></e>").as_bytes(),
    );
    write(
        &input.join("reports"),
        "Blogs_communityDifferences.html",
        format!("<table><tr><th>Community Name</th><th>UUID</th></tr><tr><td>Agile Team</td><td>{U1}</td></tr></table>").as_bytes(),
    );
    write(&input, "owners.csv", b"Amy Jones,amy@acme.example\n");
    let output = dir.path().join("out");
    let mut p = run();
    let outcomes = anonymize(&input, &output, &mut p).unwrap();
    assert_eq!(outcomes.len(), 3);
    assert!(matches!(&outcomes[1], Outcome::Skipped { input: i } if i.ends_with("owners.csv")));
    let u = p.uuid(U1);
    assert_eq!(
        std::fs::read_to_string(output.join("Blog.xml")).unwrap(),
        format!("<e><r id=\"{u}\" name=\"Name 0001\"/></e>")
    );
    assert_eq!(
        std::fs::read_to_string(output.join("reports/Blogs_communityDifferences.html")).unwrap(),
        format!("<table><tr><th>Community Name</th><th>UUID</th></tr><tr><td>Name 0001</td><td>{u}</td></tr></table>")
    );
    assert!(!output.join("owners.csv").exists());

    // A copy never goes over something: a folder that is not empty is refused, and so is a
    // copy inside the folder it copies.
    let err = anonymize(&input, &output, &mut run())
        .unwrap_err()
        .one_line();
    assert!(
        err.ends_with("exists and is not an empty folder; name a new folder for the copy"),
        "{err}"
    );
    let err = anonymize(&input, &input.join("anon"), &mut run())
        .unwrap_err()
        .one_line();
    assert!(
        err.ends_with("OUT is inside IN; put the copy outside the folder it copies"),
        "{err}"
    );

    // One bad file: no folder at all, no temporary one left.
    write(&input, "Wiki.xml", b"<e><r id=\"x\">");
    let again = dir.path().join("again");
    let err = anonymize(&input, &again, &mut run())
        .unwrap_err()
        .one_line();
    assert!(
        err.contains("Wiki.xml:1: truncated: the file ends inside <r>"),
        "{err}"
    );
    assert!(!again.exists());
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left.len(), 2, "{left:?}");
}

#[test]
fn the_command_line() {
    let bin = env!("CARGO_BIN_EXE_lc-anonymize");
    let dir = tempfile::tempdir().unwrap();
    let input = write(
        dir.path(),
        "Files.xml",
        format!("<e u=\"{U1}\"/>").as_bytes(),
    );
    let out = dir.path().join("copy.xml");
    let run =
        |args: &[&std::ffi::OsStr]| std::process::Command::new(bin).args(args).output().unwrap();
    let o = run(&[input.as_os_str(), out.as_os_str()]);
    assert_eq!(o.status.code(), Some(0));
    let stdout = String::from_utf8(o.stdout).unwrap();
    assert_eq!(
        stdout,
        format!(
            "{} -> {}: 1 values replaced\n1 files copied, 0 names, titles and e-mail addresses replaced; read the copy before you send it\n",
            input.display(),
            out.display()
        )
    );
    let copy = std::fs::read_to_string(&out).unwrap();
    assert!(
        !copy.contains(U1)
            && copy.starts_with("<e u=\"")
            && copy.len() == format!("<e u=\"{U1}\"/>").len()
    );

    let missing = dir.path().join("nope.xml");
    let o = run(&[missing.as_os_str(), out.as_os_str()]);
    assert_eq!(o.status.code(), Some(1));
    let stderr = String::from_utf8(o.stderr).unwrap();
    assert!(
        stderr.starts_with(&format!("lc-anonymize: {}: ", missing.display())),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");

    let o = run(&[input.as_os_str()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8(o.stderr)
        .unwrap()
        .starts_with("usage: lc-anonymize IN OUT"));
}
