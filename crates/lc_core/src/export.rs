//! The export reader: what an `exportSyncedResourceInfo` file holds, read in one streaming pass.
//!
//! [`summarize`] gives the application named by the root element, the number of resources, the
//! size and the SHA-256 of the file, reading it once through a fixed-size buffer: the bytes are
//! hashed as they are read, so memory stays flat however large the export is. [`resources`]
//! walks the records one by one (id, community UUID, the app's copy of the community's fields)
//! for a caller that wants more than counts; it does not hash. The layout is ours and lives in
//! [`crate::formats::export`]; every error is one line that names the file.

use crate::error::{Error, Result};
use crate::formats::export as fmt;
use quick_xml::errors::{Error as XmlError, IllFormedError, SyntaxError};
use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

/// Size of the read buffer; the only memory that depends on reading, whatever the file's size.
const READ_BUFFER: usize = 64 * 1024;

/// What one export file holds, as `lc_export` returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportSummary {
    /// The `application` attribute of the root element (a `remoteAppDefId`).
    pub application: String,
    /// The `resourceType` attribute of the root element, when present (`community`).
    pub resource_type: Option<String>,
    /// How many resource records the root element holds.
    pub resources: u64,
    /// The size of the file in bytes.
    pub bytes: u64,
    /// The SHA-256 of the file, lower-case hex.
    pub sha256: String,
}

/// One remote resource of an export: the app's record of a resource and of its community.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resource {
    /// The resource's own id ("Object Identifying Id").
    pub id: String,
    /// The UUID of the community it belongs to.
    pub community_uuid: String,
    /// The app's copy of the community's state: attribute name → value (`name`, `visibility`, …).
    pub community: BTreeMap<String, String>,
}

/// Reads `path` once and says what it holds; see the module documentation.
pub fn summarize(path: &Path) -> Result<ExportSummary> {
    let mut reader = ExportReader::open(path, true)?;
    while reader.next_resource(false)?.is_some() {}
    let (bytes, sha256) = reader.finish_hash();
    Ok(ExportSummary {
        application: reader.application,
        resource_type: reader.resource_type,
        resources: reader.resources,
        bytes,
        sha256,
    })
}

/// The resources of an export, one at a time, in file order. The root element has been checked
/// already; each item is a resource or the first error met, after which the iterator ends.
pub fn resources(path: &Path) -> Result<Resources> {
    Ok(Resources {
        reader: ExportReader::open(path, false)?,
        done: false,
    })
}

/// Iterator over the resources of an export; see [`resources`].
pub struct Resources {
    reader: ExportReader,
    done: bool,
}

impl Resources {
    /// The application named by the root element.
    pub fn application(&self) -> &str {
        &self.reader.application
    }
}

impl Iterator for Resources {
    type Item = Result<Resource>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.reader.next_resource(true) {
            Ok(Some(r)) => Some(Ok(r)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

/// A reader that counts every byte that passes through it and, when it has a hasher, hashes it.
struct Hashing<R> {
    inner: R,
    hasher: Option<Sha256>,
    bytes: u64,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(h) = self.hasher.as_mut() {
            h.update(&buf[..n]);
        }
        self.bytes += n as u64;
        Ok(n)
    }
}

/// The streaming state shared by [`summarize`] and [`resources`].
struct ExportReader {
    path: PathBuf,
    xml: Reader<BufReader<Hashing<File>>>,
    buf: Vec<u8>,
    application: String,
    resource_type: Option<String>,
    resources: u64,
    /// Depth of open elements; the root is depth 1.
    depth: usize,
    /// A resource element that is open (its `community` child not yet seen or closed).
    pending: Option<Resource>,
    /// The root element has been closed.
    root_closed: bool,
}

impl ExportReader {
    /// Opens the file and reads up to the root element, checking it; `hash`: the bytes are
    /// hashed as they are read (for [`ExportReader::finish_hash`]).
    fn open(path: &Path, hash: bool) -> Result<Self> {
        let file = File::open(path).map_err(|e| Error::io(path, e))?;
        let hashing = Hashing {
            inner: file,
            hasher: hash.then(Sha256::new),
            bytes: 0,
        };
        let mut xml = Reader::from_reader(BufReader::with_capacity(READ_BUFFER, hashing));
        xml.config_mut().check_end_names = true;
        let mut me = ExportReader {
            path: path.to_path_buf(),
            xml,
            buf: Vec::with_capacity(1024),
            application: String::new(),
            resource_type: None,
            resources: 0,
            depth: 0,
            pending: None,
            root_closed: false,
        };
        me.read_root()?;
        Ok(me)
    }

    fn read_root(&mut self) -> Result<()> {
        loop {
            self.buf.clear();
            let event = self.xml.read_event_into(&mut self.buf);
            let (start, empty) = match event {
                Ok(Event::Start(e)) => (e.into_owned(), false),
                Ok(Event::Empty(e)) => (e.into_owned(), true),
                Ok(Event::Decl(_) | Event::Comment(_) | Event::PI(_) | Event::DocType(_)) => {
                    continue
                }
                Ok(Event::Text(t)) if is_blank(&t) => continue,
                Ok(Event::Text(_) | Event::CData(_) | Event::End(_)) => {
                    let pos = self.xml.buffer_position();
                    return Err(self.error_at(
                        pos,
                        format!(
                            "not an export XML file: text before the <{}> root element",
                            fmt::ROOT
                        ),
                    ));
                }
                Ok(Event::Eof) => {
                    let msg = if self.xml.get_ref().get_ref().bytes == 0 {
                        "empty file, not an export XML file".to_string()
                    } else {
                        format!("not an export XML file: no <{}> root element", fmt::ROOT)
                    };
                    return Err(self.error_at(0, msg));
                }
                Err(e) => return Err(self.xml_error(e)),
            };
            let pos = self.xml.buffer_position();
            let name = start.name();
            if name.as_ref() != fmt::ROOT.as_bytes() {
                let found = String::from_utf8_lossy(name.as_ref()).into_owned();
                return Err(self.error_at(
                    pos,
                    format!(
                        "not an export XML file: root element is <{found}>, expected <{}>",
                        fmt::ROOT
                    ),
                ));
            }
            let mut application = None;
            for attr in start.attributes() {
                let attr = attr.map_err(|e| self.xml_error(XmlError::InvalidAttr(e)))?;
                let key = attr.key.as_ref();
                if key == fmt::ATTR_APPLICATION.as_bytes()
                    || key == fmt::ATTR_RESOURCE_TYPE.as_bytes()
                {
                    let value = attr
                        .unescape_value()
                        .map_err(|e| self.xml_error(e))?
                        .trim()
                        .to_string();
                    if key == fmt::ATTR_APPLICATION.as_bytes() {
                        application = Some(value);
                    } else {
                        self.resource_type = Some(value);
                    }
                }
            }
            match application {
                Some(a) if !a.is_empty() => self.application = a,
                _ => {
                    return Err(self.error_at(
                        pos,
                        format!(
                            "the <{}> root element has no {} attribute naming the application",
                            fmt::ROOT,
                            fmt::ATTR_APPLICATION
                        ),
                    ))
                }
            }
            if empty {
                self.root_closed = true;
            } else {
                self.depth = 1;
            }
            return Ok(());
        }
    }

    /// Reads up to the end of the next resource; `None` at the end of the file. With `details`
    /// false only counts are kept and attributes are not decoded.
    fn next_resource(&mut self, details: bool) -> Result<Option<Resource>> {
        let mut buf = std::mem::take(&mut self.buf);
        let result = self.next_resource_in(&mut buf, details);
        self.buf = buf;
        result
    }

    fn next_resource_in(&mut self, buf: &mut Vec<u8>, details: bool) -> Result<Option<Resource>> {
        loop {
            buf.clear();
            let event = self.xml.read_event_into(buf);
            match event {
                Ok(Event::Start(e)) => {
                    self.depth += 1;
                    if self.root_closed {
                        let pos = self.xml.buffer_position();
                        return Err(
                            self.error_at(pos, "a second element after the root element".into())
                        );
                    }
                    if self.depth == 2 && e.name().as_ref() == fmt::RESOURCE.as_bytes() {
                        self.resources += 1;
                        if details {
                            let r = self.resource_of(&e)?;
                            self.pending = Some(r);
                        }
                    } else if details
                        && self.depth == 3
                        && e.name().as_ref() == fmt::COMMUNITY.as_bytes()
                    {
                        self.read_community(&e)?;
                    }
                }
                Ok(Event::Empty(e)) => {
                    if self.root_closed {
                        let pos = self.xml.buffer_position();
                        return Err(
                            self.error_at(pos, "a second element after the root element".into())
                        );
                    }
                    if self.depth == 1 && e.name().as_ref() == fmt::RESOURCE.as_bytes() {
                        self.resources += 1;
                        if details {
                            return self.resource_of(&e).map(Some);
                        }
                    } else if details
                        && self.depth == 2
                        && e.name().as_ref() == fmt::COMMUNITY.as_bytes()
                    {
                        self.read_community(&e)?;
                    }
                }
                Ok(Event::End(_)) => {
                    self.depth = self.depth.saturating_sub(1);
                    match self.depth {
                        0 => self.root_closed = true,
                        1 => {
                            if let Some(r) = self.pending.take() {
                                return Ok(Some(r));
                            }
                        }
                        _ => {}
                    }
                }
                Ok(Event::Text(t)) => {
                    if self.depth == 0 && !is_blank(&t) {
                        let pos = self.xml.buffer_position();
                        return Err(self.error_at(pos, "text after the root element".into()));
                    }
                }
                Ok(
                    Event::CData(_)
                    | Event::Comment(_)
                    | Event::PI(_)
                    | Event::Decl(_)
                    | Event::DocType(_),
                ) => {}
                Ok(Event::Eof) => {
                    if !self.root_closed {
                        let pos = self.xml.buffer_position();
                        return Err(self.error_at(
                            pos,
                            format!(
                                "truncated: the file ends before </{}> (after {} resources)",
                                fmt::ROOT,
                                self.resources
                            ),
                        ));
                    }
                    return Ok(None);
                }
                Err(e) => return Err(self.xml_error(e)),
            }
        }
    }

    fn resource_of(&self, e: &BytesStart) -> Result<Resource> {
        let mut r = Resource {
            id: String::new(),
            community_uuid: String::new(),
            community: BTreeMap::new(),
        };
        for attr in e.attributes() {
            let attr = attr.map_err(|err| self.xml_error(XmlError::InvalidAttr(err)))?;
            let key = attr.key.as_ref();
            if key == fmt::ATTR_ID.as_bytes() {
                r.id = attr
                    .unescape_value()
                    .map_err(|err| self.xml_error(err))?
                    .into_owned();
            } else if key == fmt::ATTR_COMMUNITY_UUID.as_bytes() {
                r.community_uuid = attr
                    .unescape_value()
                    .map_err(|err| self.xml_error(err))?
                    .into_owned();
            }
        }
        Ok(r)
    }

    fn read_community(&mut self, e: &BytesStart) -> Result<()> {
        let mut fields = BTreeMap::new();
        for attr in e.attributes() {
            let attr = attr.map_err(|err| self.xml_error(XmlError::InvalidAttr(err)))?;
            let key = String::from_utf8_lossy(attr.key.as_ref()).into_owned();
            let value = attr
                .unescape_value()
                .map_err(|err| self.xml_error(err))?
                .into_owned();
            fields.insert(key, value);
        }
        if let Some(r) = self.pending.as_mut() {
            r.community = fields;
        }
        Ok(())
    }

    /// The size and hash of what was read; call after the end of the file, on a reader opened
    /// with `hash`.
    fn finish_hash(&mut self) -> (u64, String) {
        let hashing = self.xml.get_mut().get_mut();
        let digest = hashing.hasher.take().unwrap_or_default().finalize();
        (hashing.bytes, hex(&digest))
    }

    fn xml_error(&self, e: XmlError) -> Error {
        let pos = self.xml.error_position();
        let msg = match &e {
            XmlError::Io(io) => {
                return Error::io(&self.path, std::io::Error::new(io.kind(), io.to_string()))
            }
            XmlError::Syntax(
                s @ (SyntaxError::UnclosedTag
                | SyntaxError::UnclosedComment
                | SyntaxError::UnclosedCData
                | SyntaxError::UnclosedDoctype
                | SyntaxError::UnclosedPIOrXmlDecl),
            ) => format!("truncated or not XML: {s}"),
            XmlError::IllFormed(IllFormedError::MismatchedEndTag { expected, found }) => {
                format!("not well-formed XML: </{found}> closes <{expected}>")
            }
            other => format!("not well-formed XML: {other}"),
        };
        self.error_at(pos, msg)
    }

    /// An error at a byte offset of the file, with the line it falls on.
    fn error_at(&self, offset: u64, message: String) -> Error {
        Error::parse(&self.path, line_of(&self.path, offset), message)
    }
}

/// The 1-based line of a byte offset, by reading the file again (only on the error path).
fn line_of(path: &Path, offset: u64) -> usize {
    let Ok(file) = File::open(path) else { return 0 };
    let mut reader = BufReader::with_capacity(READ_BUFFER, file.take(offset));
    let mut line = 1;
    loop {
        let n = match reader.fill_buf() {
            Ok([]) | Err(_) => break,
            Ok(buf) => {
                line += buf.iter().filter(|&&b| b == b'\n').count();
                buf.len()
            }
        };
        reader.consume(n);
    }
    line
}

fn is_blank(text: &[u8]) -> bool {
    text.iter().all(|b| b.is_ascii_whitespace()) || text == "\u{feff}".as_bytes()
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
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
        assert_eq!(s.application, "Blog");
        assert_eq!(s.resource_type.as_deref(), Some("community"));
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
        let it = resources(&path).unwrap();
        assert_eq!(it.application(), "Blog");
        let all: Vec<Resource> = it.collect::<Result<_>>().unwrap();
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
        assert!(content.len() > 4 * READ_BUFFER);
        let s = summarize(&path).unwrap();
        assert_eq!(s.resources, 20_000);
        assert_eq!(s.bytes, content.len() as u64);
        assert_eq!(s.sha256, hex(&Sha256::digest(&content)));
        assert_eq!(resources(&path).unwrap().count(), 20_000);
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
        assert_eq!((s.application.as_str(), s.resources), ("Wiki", 0));
    }

    #[test]
    fn truncated_file_is_named() {
        let cut = &SMALL[..SMALL.find("<resource id=\"b-3\"").unwrap()];
        assert_eq!(
            err_of(cut.as_bytes()),
            "<path>:8: truncated: the file ends before </syncedResources> (after 2 resources)"
        );
        let mid_tag = &SMALL[..SMALL.find("communityUuid=\"c-3\"").unwrap()];
        assert!(err_of(mid_tag.as_bytes()).starts_with("<path>:"));
        assert!(err_of(mid_tag.as_bytes()).contains("truncated or not XML"));
    }

    #[test]
    fn not_xml_wrong_root_missing_application() {
        assert_eq!(err_of(b""), "<path>:1: empty file, not an export XML file");
        assert_eq!(
            err_of(b"{\"application\": \"Blog\"}"),
            "<path>:1: not an export XML file: text before the <syncedResources> root element"
        );
        assert_eq!(
            err_of(b"<!DOCTYPE html>\n<html><body></body></html>"),
            "<path>:2: not an export XML file: root element is <html>, expected <syncedResources>"
        );
        assert_eq!(
            err_of(b"<syncedResources resourceType=\"community\"></syncedResources>"),
            "<path>:1: the <syncedResources> root element has no application attribute naming the application"
        );
        assert!(
            err_of(b"<syncedResources application=\"Blog\"><resource></syncedResources>")
                .contains("not well-formed XML: </syncedResources> closes <resource>")
        );
    }
}
