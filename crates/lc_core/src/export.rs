//! The export reader: what an `exportSyncedResourceInfo` file holds, read in one streaming pass.
//!
//! [`summarize`] gives the application named by the root element, the number of resources, the
//! size and the SHA-256 of the file, reading it once: a second thread reads the file in
//! fixed-size chunks and hashes each one while this thread parses the one before, so the hash
//! costs no wall time on a machine with a free core and memory stays flat however large the
//! export is. [`for_each_resource`] hands each record (id, community UUID, the app's copy of the
//! community's fields) to a caller that wants more than counts; it reads through one buffer on
//! the caller's thread (there is no hash to overlap), and the record's buffers are reused from one
//! resource to the next, so nothing is allocated per record. The layout is ours and
//! lives in [`crate::formats::export`]; every error is one line that names the file.

use crate::error::{Error, Result};
use crate::formats::export as fmt;
use memchr::{memchr, memchr2};
use quick_xml::errors::{Error as XmlError, IllFormedError, SyntaxError};
use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::borrow::Cow;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::thread::JoinHandle;

/// Size of one chunk read from the file.
const CHUNK: usize = 64 * 1024;
/// Chunks read ahead of the parser; with the one being parsed and the one being read, the only
/// memory that depends on reading, whatever the file's size.
const CHUNKS_AHEAD: usize = 8;

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

/// One remote resource of an export as [`for_each_resource`] hands it over: the app's record of
/// a resource and of its community. Its buffers are reused for the next resource; a caller that
/// keeps a record copies what it needs.
#[derive(Debug, Default)]
pub struct Record {
    id: String,
    community_uuid: String,
    /// Slots for the community's attributes, name and value; the first `fields` are this
    /// record's, the rest keep their capacity for the next one.
    slots: Vec<(String, String)>,
    fields: usize,
}

impl Record {
    /// The resource's own id ("Object Identifying Id").
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The UUID of the community it belongs to.
    pub fn community_uuid(&self) -> &str {
        &self.community_uuid
    }

    /// The app's copy of the community's state, attribute name and value (`name`,
    /// `visibility`, …), in file order.
    pub fn community(&self) -> impl Iterator<Item = (&str, &str)> {
        self.slots[..self.fields]
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
    }

    fn clear(&mut self) {
        self.id.clear();
        self.community_uuid.clear();
        self.fields = 0;
    }

    fn push_field(&mut self, name: &str, value: &str) {
        if self.fields == self.slots.len() {
            self.slots.push(Default::default());
        }
        let (k, v) = &mut self.slots[self.fields];
        k.clear();
        k.push_str(name);
        v.clear();
        v.push_str(value);
        self.fields += 1;
    }
}

/// Reads `path` once and says what it holds; see the module documentation.
pub fn summarize(path: &Path) -> Result<ExportSummary> {
    let mut reader = ExportReader::open(path, true)?;
    while reader.next_resource(None)? {}
    let (bytes, sha256) = reader.finish_hash()?;
    Ok(ExportSummary {
        application: reader.application,
        resource_type: reader.resource_type,
        resources: reader.resources,
        bytes,
        sha256,
    })
}

/// Reads the export at `path` and hands each resource to `f`, in file order, as it is read;
/// returns the application named by the root element and the number of resources. The first
/// error met ends the reading (the resources before it have been handed over).
pub fn for_each_resource(path: &Path, mut f: impl FnMut(&Record)) -> Result<(String, u64)> {
    let mut reader = ExportReader::open(path, false)?;
    let mut record = Record::default();
    while reader.next_resource(Some(&mut record))? {
        f(&record);
    }
    Ok((reader.application, reader.resources))
}

/// The file's bytes in chunks, read and hashed on a thread of its own a few chunks ahead of the
/// parser; used chunks go back to that thread to be filled again.
struct ReadAhead {
    full: Receiver<std::io::Result<Vec<u8>>>,
    empty: SyncSender<Vec<u8>>,
    chunk: Vec<u8>,
    pos: usize,
    ended: bool,
    /// The reader thread; once it has read to the end of the file, it returns how many bytes the
    /// file had and their hash.
    reader: Option<JoinHandle<Option<(u64, Sha256)>>>,
}

impl ReadAhead {
    fn start(mut file: File) -> ReadAhead {
        let (full_tx, full) = mpsc::sync_channel(CHUNKS_AHEAD);
        let (empty, empty_rx) = mpsc::sync_channel::<Vec<u8>>(CHUNKS_AHEAD + 2);
        let reader = std::thread::spawn(move || {
            let mut hasher = Sha256::new();
            let mut bytes = 0u64;
            loop {
                let mut chunk = empty_rx.try_recv().unwrap_or_default();
                chunk.resize(CHUNK, 0);
                let n = match read_some(&mut file, &mut chunk) {
                    Ok(n) => n,
                    Err(e) => {
                        let _ = full_tx.send(Err(e));
                        return None;
                    }
                };
                if n == 0 {
                    return Some((bytes, hasher));
                }
                bytes += n as u64;
                chunk.truncate(n);
                hasher.update(&chunk);
                if full_tx.send(Ok(chunk)).is_err() {
                    return None; // the parser stopped early
                }
            }
        });
        ReadAhead {
            full,
            empty,
            chunk: Vec::new(),
            pos: 0,
            ended: false,
            reader: Some(reader),
        }
    }

    /// The size of the file and the hash of its bytes, once the parser has read to its end.
    fn finish(&mut self) -> Option<(u64, Sha256)> {
        self.reader.take()?.join().ok().flatten()
    }
}

/// Reads until `buf` is full or the file ends; retries interrupted reads.
fn read_some(file: &mut File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

impl Read for ReadAhead {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for ReadAhead {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        if self.pos == self.chunk.len() && !self.ended {
            match self.full.recv() {
                Ok(Ok(next)) => {
                    let used = std::mem::replace(&mut self.chunk, next);
                    let _ = self.empty.try_send(used);
                    self.pos = 0;
                }
                Ok(Err(e)) => {
                    self.ended = true;
                    return Err(e);
                }
                Err(_) => self.ended = true, // the file's end: the reader thread is done
            }
        }
        Ok(&self.chunk[self.pos..])
    }

    fn consume(&mut self, amt: usize) {
        self.pos += amt;
    }
}

/// Where the parser reads from: a [`ReadAhead`] when the bytes are hashed (the hash then runs
/// beside the parsing), the file through a buffer otherwise.
enum Source {
    Ahead(ReadAhead),
    Direct(BufReader<File>),
}

impl Read for Source {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Source::Ahead(r) => r.read(buf),
            Source::Direct(r) => r.read(buf),
        }
    }
}

impl BufRead for Source {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        match self {
            Source::Ahead(r) => r.fill_buf(),
            Source::Direct(r) => r.fill_buf(),
        }
    }

    fn consume(&mut self, amt: usize) {
        match self {
            Source::Ahead(r) => r.consume(amt),
            Source::Direct(r) => r.consume(amt),
        }
    }
}

impl Drop for ReadAhead {
    fn drop(&mut self) {
        // Stop the reader thread: its next send fails once the receiver is gone.
        let (_, closed) = mpsc::sync_channel(0);
        drop(std::mem::replace(&mut self.full, closed));
        if let Some(r) = self.reader.take() {
            let _ = r.join();
        }
    }
}

/// The streaming state shared by [`summarize`] and [`for_each_resource`].
struct ExportReader {
    path: PathBuf,
    xml: Reader<Source>,
    buf: Vec<u8>,
    application: String,
    resource_type: Option<String>,
    resources: u64,
    /// Depth of open elements; the root is depth 1.
    depth: usize,
    /// A resource element is open (its `community` child not yet seen or closed) and is being read
    /// into the caller's record.
    pending: bool,
    /// The root element has been closed.
    root_closed: bool,
}

impl ExportReader {
    /// Opens the file and reads up to the root element, checking it; `hash`: the bytes are
    /// hashed as they are read (for [`ExportReader::finish_hash`]).
    fn open(path: &Path, hash: bool) -> Result<Self> {
        let file = File::open(path).map_err(|e| Error::io(path, e))?;
        let source = if hash {
            Source::Ahead(ReadAhead::start(file))
        } else {
            Source::Direct(BufReader::with_capacity(CHUNK, file))
        };
        let mut xml = Reader::from_reader(source);
        xml.config_mut().check_end_names = true;
        let mut me = ExportReader {
            path: path.to_path_buf(),
            xml,
            buf: Vec::with_capacity(1024),
            application: String::new(),
            resource_type: None,
            resources: 0,
            depth: 0,
            pending: false,
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
                    let msg = if self.xml.buffer_position() == 0 {
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
            let (mut application, mut resource_type) = (None, None);
            for attr in attributes(&start) {
                let (key, raw) = attr.map_err(|why| self.error_at(pos, why))?;
                let slot = if key == fmt::ATTR_APPLICATION {
                    &mut application
                } else if key == fmt::ATTR_RESOURCE_TYPE {
                    &mut resource_type
                } else {
                    continue;
                };
                if slot.is_some() {
                    return Err(self.duplicate(key));
                }
                let value = decode(raw).map_err(|why| self.error_at(pos, why))?;
                *slot = Some(value.trim().to_string());
            }
            self.resource_type = resource_type;
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

    /// Reads up to the end of the next resource; false at the end of the file. With a record,
    /// the resource's attributes and its community's are read into it; without, only counts are
    /// kept and no attribute is decoded.
    fn next_resource(&mut self, record: Option<&mut Record>) -> Result<bool> {
        let mut buf = std::mem::take(&mut self.buf);
        let result = self.next_resource_in(&mut buf, record);
        self.buf = buf;
        result
    }

    fn next_resource_in(
        &mut self,
        buf: &mut Vec<u8>,
        mut record: Option<&mut Record>,
    ) -> Result<bool> {
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
                        if let Some(r) = record.as_deref_mut() {
                            self.read_resource(&e, r)?;
                            self.pending = true;
                        }
                    } else if self.pending
                        && self.depth == 3
                        && e.name().as_ref() == fmt::COMMUNITY.as_bytes()
                    {
                        if let Some(r) = record.as_deref_mut() {
                            self.read_community(&e, r)?;
                        }
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
                        if let Some(r) = record.as_deref_mut() {
                            self.read_resource(&e, r)?;
                        }
                        return Ok(true);
                    } else if self.pending
                        && self.depth == 2
                        && e.name().as_ref() == fmt::COMMUNITY.as_bytes()
                    {
                        if let Some(r) = record.as_deref_mut() {
                            self.read_community(&e, r)?;
                        }
                    }
                }
                Ok(Event::End(_)) => {
                    self.depth = self.depth.saturating_sub(1);
                    match self.depth {
                        0 => self.root_closed = true,
                        1 if record.is_none() || self.pending => {
                            self.pending = false;
                            return Ok(true);
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
                    return Ok(false);
                }
                Err(e) => return Err(self.xml_error(e)),
            }
        }
    }

    fn read_resource(&self, e: &BytesStart, r: &mut Record) -> Result<()> {
        r.clear();
        // quick-xml's duplicate check allocates for every element; a repeated id or
        // communityUuid is caught here instead, and a repeated community field in push_field.
        let (mut id, mut uuid) = (false, false);
        for attr in attributes(e) {
            let (key, raw) = attr.map_err(|why| self.here(why))?;
            let (slot, seen) = if key == fmt::ATTR_ID {
                (&mut r.id, &mut id)
            } else if key == fmt::ATTR_COMMUNITY_UUID {
                (&mut r.community_uuid, &mut uuid)
            } else {
                continue;
            };
            if std::mem::replace(seen, true) {
                return Err(self.duplicate(key));
            }
            slot.push_str(&decode(raw).map_err(|why| self.here(why))?);
        }
        Ok(())
    }

    fn read_community(&self, e: &BytesStart, r: &mut Record) -> Result<()> {
        r.fields = 0;
        for attr in attributes(e) {
            let (key, raw) = attr.map_err(|why| self.here(why))?;
            if r.community().any(|(k, _)| k == key) {
                return Err(self.duplicate(key));
            }
            let value = decode(raw).map_err(|why| self.here(why))?;
            r.push_field(key, &value);
        }
        Ok(())
    }

    /// An attribute given twice in one element (not well-formed XML).
    fn duplicate(&self, key: &str) -> Error {
        self.here(format!(
            "not well-formed XML: the attribute {key} is given twice"
        ))
    }

    /// An error at the element just read.
    fn here(&self, message: String) -> Error {
        self.error_at(self.xml.buffer_position(), message)
    }

    /// The size and hash of the file; call after the end of the file, on a reader opened with
    /// `hash`.
    fn finish_hash(&mut self) -> Result<(u64, String)> {
        let finished = match self.xml.get_mut() {
            Source::Ahead(ahead) => ahead.finish(),
            Source::Direct(_) => None,
        };
        match finished {
            Some((bytes, hasher)) => Ok((bytes, hex(&hasher.finalize()))),
            None => Err(Error::io(
                &self.path,
                std::io::Error::other("the reading thread stopped before the end of the file"),
            )),
        }
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

/// The attributes of a start tag, name and raw value in order, as XML writes them:
/// `Name S? = S? "value"` (or `'value'`), whitespace before each. The tag's bytes are checked to
/// be UTF-8 once and cut at ASCII delimiters found with `memchr`: no allocation.
fn attributes<'a>(
    e: &'a BytesStart,
) -> impl Iterator<Item = std::result::Result<(&'a str, &'a str), String>> + 'a {
    let mut rest = std::str::from_utf8(e.attributes_raw());
    std::iter::from_fn(move || {
        let text = match rest {
            Ok(text) => text,
            Err(_) => {
                rest = Ok("");
                return Some(Err(
                    "not well-formed XML: a start tag is not UTF-8".to_string()
                ));
            }
        };
        let trimmed = text.trim_ascii_start();
        if trimmed.is_empty() {
            return None;
        }
        let parsed = attribute(trimmed, trimmed.len() < text.len());
        rest = Ok(parsed.as_ref().map_or("", |(_, _, next)| next));
        Some(parsed.map(|(name, value, _)| (name, value)))
    })
}

/// One attribute at the start of `text`: its name, its raw value and the text after it.
fn attribute(text: &str, spaced: bool) -> std::result::Result<(&str, &str, &str), String> {
    if !spaced {
        return Err("not well-formed XML: no space between attributes".to_string());
    }
    let bytes = text.as_bytes();
    let mut end = 0;
    let mut bad = false;
    while end < bytes.len() && bytes[end] != b'=' && !bytes[end].is_ascii_whitespace() {
        bad |= matches!(bytes[end], b'"' | b'\'' | b'<' | b'>' | b'&' | b'/');
        end += 1;
    }
    let (name, after) = text.split_at(end);
    if name.is_empty() || bad {
        return Err(format!(
            "not well-formed XML: {name:?} is not an attribute name"
        ));
    }
    let value = after
        .trim_ascii_start()
        .strip_prefix('=')
        .map(str::trim_ascii_start)
        .ok_or_else(|| format!("not well-formed XML: the attribute {name} has no value"))?;
    let quote = match value.as_bytes().first() {
        Some(&q @ (b'"' | b'\'')) => q,
        _ => {
            return Err(format!(
                "not well-formed XML: the value of {name} is not quoted"
            ))
        }
    };
    let value = &value[1..];
    let close = memchr(quote, value.as_bytes())
        .ok_or_else(|| format!("not well-formed XML: the value of {name} has no closing quote"))?;
    Ok((name, &value[..close], &value[close + 1..]))
}

/// An attribute's raw value as text: no `<`; entities and character references replaced.
fn decode(raw: &str) -> std::result::Result<Cow<'_, str>, String> {
    match memchr2(b'<', b'&', raw.as_bytes()).map(|i| raw.as_bytes()[i]) {
        None => Ok(Cow::Borrowed(raw)),
        Some(b'<') => Err("not well-formed XML: '<' in an attribute value".to_string()),
        Some(_) if raw.contains('<') => {
            Err("not well-formed XML: '<' in an attribute value".to_string())
        }
        Some(_) => {
            quick_xml::escape::unescape(raw).map_err(|e| format!("not well-formed XML: {e}"))
        }
    }
}

/// The SHA-256 of a file, lower-case hex, without reading it as XML.
pub fn sha256_of(path: &Path) -> Result<String> {
    let mut file = File::open(path).map_err(|e| Error::io(path, e))?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher).map_err(|e| Error::io(path, e))?;
    Ok(hex(&hasher.finalize()))
}

/// The 1-based line of a byte offset, by reading the file again (only on the error path).
fn line_of(path: &Path, offset: u64) -> usize {
    let Ok(file) = File::open(path) else { return 0 };
    let mut reader = BufReader::with_capacity(CHUNK, file.take(offset));
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
    use std::collections::BTreeMap;

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
        let mut content =
            b"<syncedResources application=\"Files\"><oops></syncedResources>".to_vec();
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
