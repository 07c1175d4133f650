//! The export reader: what an `exportSyncedResourceInfo` file holds, read in one streaming pass.
//!
//! The layout of an export is not documented (admin-surface.md §5), so [`summarize`] owns none:
//! it takes any complete, well-formed XML document and, in one pass, checks it, counts its bytes,
//! hashes them and counts its records by a rule that does not depend on element names:
//!
//! 1. An element below the root *carries a UUID* when one of its attribute values is a UUID
//!    (`8-4-4-4-12` hex digits), or when one of its child elements holds nothing but a UUID as
//!    its text (`<communityUuid>…</communityUuid>`).
//! 2. Elements are grouped by their path from the root (the names on the way down, e.g.
//!    `syncedResources/resource`). Each path counts its *shallowest* carriers: those with no
//!    carrier among their ancestors (a community's members inside a carrying record are not
//!    records).
//! 3. The records are the elements of the path with the most such carriers (on a tie, the
//!    shallower path, then the one met first): the layout is [`Layout::Recognized`].
//! 4. No element carries a UUID: when the root's children repeat (one name at least twice),
//!    they are counted as the records and the layout is [`Layout::Unrecognized`] (a warning for
//!    the caller, not a failure); otherwise the document holds no records (0, recognized).
//!
//! The application a document names, if any, is read from the attribute values of the root
//! element and the text of the root's childless children, where it equals an application id or
//! one of its names ([`crate::apps::by_name`]): never from values inside the records, so a
//! community called "Files" names nothing. Callers decide the application from what they asked
//! for or from the file name, and refuse a document that names only other applications.
//!
//! Refused, with one line that names the file: an empty file, text before the root, a document
//! cut short, anything not well-formed (mismatched or unclosed tags, bad attributes, a second
//! root). The encoding declaration may be UTF-8, US-ASCII or an ISO-8859/Windows single-byte
//! encoding: the rule reads ASCII bytes only (UUIDs, application names).
//!
//! A second thread reads the file in fixed-size chunks and hashes each one while this thread
//! parses the one before, so the hash costs no wall time on a machine with a free core and
//! memory stays flat however large the export is (the paths kept are capped at
//! [`MAX_PATHS`]).
//!
//! [`for_each_resource`] hands each record of the simulated cell's layout
//! ([`crate::formats::export`]: id, community UUID, the app's copy of the community's fields) to
//! a caller that wants more than counts (the benchmarks); it reads through one buffer on the
//! caller's thread (there is no hash to overlap), and the record's buffers are reused from one
//! resource to the next, so nothing is allocated per record.

use crate::error::{Error, Result};
use crate::formats::export as fmt;
use memchr::{memchr, memchr2};
use quick_xml::errors::{Error as XmlError, IllFormedError, SyntaxError};
use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::borrow::Cow;
use std::collections::HashMap;
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

/// How the records of an export were found (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Layout {
    /// Records found as the elements that carry a community UUID, or none in the document.
    Recognized,
    /// No element carries a UUID; the repeated children of the root were counted instead.
    Unrecognized,
}

/// What one export file holds, as `lc_export` returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportSummary {
    /// The application ids the document names (root attributes, text of the root's childless
    /// children), in document order, each once; usually one, or none.
    pub applications: Vec<String>,
    /// How many records the document holds.
    pub resources: u64,
    pub layout: Layout,
    /// The path of the record elements (`root/record`), when there are records.
    pub record_path: Option<String>,
    /// The size of the file in bytes.
    pub bytes: u64,
    /// The SHA-256 of the file, lower-case hex.
    pub sha256: String,
}

impl ExportSummary {
    /// Whether the document names applications and `app` is not one of them.
    pub fn names_another_application(&self, app: &str) -> bool {
        !self.applications.is_empty() && !self.applications.iter().any(|a| a == app)
    }
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
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let mut scan = Scan::new(Doc::new(path, Source::Ahead(ReadAhead::start(file))));
    scan.run()?;
    let (bytes, sha256) = scan.doc.finish_hash()?;
    let (resources, layout, record_path) = scan.records();
    Ok(ExportSummary {
        applications: scan.applications,
        resources,
        layout,
        record_path,
        bytes,
        sha256,
    })
}

/// Reads the export at `path` and hands each resource to `f`, in file order, as it is read;
/// returns the application named by the root element and the number of resources. The first
/// error met ends the reading (the resources before it have been handed over).
pub fn for_each_resource(path: &Path, mut f: impl FnMut(&Record)) -> Result<(String, u64)> {
    let mut reader = ExportReader::open(path)?;
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

impl ReadAhead {
    /// Takes the next chunk from the reader thread, once the current one is used up.
    #[inline(never)]
    fn next_chunk(&mut self) -> std::io::Result<()> {
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
        Ok(())
    }
}

impl BufRead for ReadAhead {
    // quick-xml asks for the buffer several times per event: the common case is inlined.
    #[inline]
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        if self.pos == self.chunk.len() && !self.ended {
            self.next_chunk()?;
        }
        Ok(&self.chunk[self.pos..])
    }

    #[inline]
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
    #[inline]
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        match self {
            Source::Ahead(r) => r.fill_buf(),
            Source::Direct(r) => r.fill_buf(),
        }
    }

    #[inline]
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

/// The streaming state of [`for_each_resource`]: the simulated cell's layout.
struct ExportReader {
    doc: Doc,
    buf: Vec<u8>,
    application: String,
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
    /// Opens the file and reads up to the root element, checking it.
    fn open(path: &Path) -> Result<Self> {
        let file = File::open(path).map_err(|e| Error::io(path, e))?;
        let source = Source::Direct(BufReader::with_capacity(CHUNK, file));
        let mut me = ExportReader {
            doc: Doc::new(path, source),
            buf: Vec::with_capacity(1024),
            application: String::new(),
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
            let event = self.doc.xml.read_event_into(&mut self.buf);
            let (start, empty) = match event {
                Ok(Event::Start(e)) => (e.into_owned(), false),
                Ok(Event::Empty(e)) => (e.into_owned(), true),
                Ok(Event::Decl(_) | Event::Comment(_) | Event::PI(_) | Event::DocType(_)) => {
                    continue
                }
                Ok(Event::Text(t)) if is_blank(&t) => continue,
                Ok(Event::Text(_) | Event::CData(_) | Event::End(_)) => {
                    let pos = self.doc.xml.buffer_position();
                    return Err(self.doc.error_at(
                        pos,
                        format!(
                            "not an export XML file: text before the <{}> root element",
                            fmt::ROOT
                        ),
                    ));
                }
                Ok(Event::Eof) => {
                    let msg = if self.doc.xml.buffer_position() == 0 {
                        "empty file, not an export XML file".to_string()
                    } else {
                        format!("not an export XML file: no <{}> root element", fmt::ROOT)
                    };
                    return Err(self.doc.error_at(0, msg));
                }
                Err(e) => return Err(self.doc.xml_error(e)),
            };
            let pos = self.doc.xml.buffer_position();
            let name = start.name();
            if name.as_ref() != fmt::ROOT.as_bytes() {
                let found = String::from_utf8_lossy(name.as_ref()).into_owned();
                return Err(self.doc.error_at(
                    pos,
                    format!(
                        "not an export XML file: root element is <{found}>, expected <{}>",
                        fmt::ROOT
                    ),
                ));
            }
            let mut application = None;
            for attr in attributes(&start) {
                let (key, raw) = attr.map_err(|why| self.doc.error_at(pos, why))?;
                if key != fmt::ATTR_APPLICATION {
                    continue;
                }
                if application.is_some() {
                    return Err(self.doc.duplicate(key));
                }
                let value = decode(raw).map_err(|why| self.doc.error_at(pos, why))?;
                application = Some(value.trim().to_string());
            }
            match application {
                Some(a) if !a.is_empty() => self.application = a,
                _ => {
                    return Err(self.doc.error_at(
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
            let event = self.doc.xml.read_event_into(buf);
            match event {
                Ok(Event::Start(e)) => {
                    self.depth += 1;
                    if self.root_closed {
                        let pos = self.doc.xml.buffer_position();
                        return Err(self
                            .doc
                            .error_at(pos, "a second element after the root element".into()));
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
                        let pos = self.doc.xml.buffer_position();
                        return Err(self
                            .doc
                            .error_at(pos, "a second element after the root element".into()));
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
                        let pos = self.doc.xml.buffer_position();
                        return Err(self.doc.error_at(pos, "text after the root element".into()));
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
                        let pos = self.doc.xml.buffer_position();
                        return Err(self.doc.error_at(
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
                Err(e) => return Err(self.doc.xml_error(e)),
            }
        }
    }

    fn read_resource(&self, e: &BytesStart, r: &mut Record) -> Result<()> {
        r.clear();
        // quick-xml's duplicate check allocates for every element; a repeated id or
        // communityUuid is caught here instead, and a repeated community field in push_field.
        let (mut id, mut uuid) = (false, false);
        for attr in attributes(e) {
            let (key, raw) = attr.map_err(|why| self.doc.here(why))?;
            let (slot, seen) = if key == fmt::ATTR_ID {
                (&mut r.id, &mut id)
            } else if key == fmt::ATTR_COMMUNITY_UUID {
                (&mut r.community_uuid, &mut uuid)
            } else {
                continue;
            };
            if std::mem::replace(seen, true) {
                return Err(self.doc.duplicate(key));
            }
            slot.push_str(&decode(raw).map_err(|why| self.doc.here(why))?);
        }
        Ok(())
    }

    fn read_community(&self, e: &BytesStart, r: &mut Record) -> Result<()> {
        r.fields = 0;
        for attr in attributes(e) {
            let (key, raw) = attr.map_err(|why| self.doc.here(why))?;
            if r.community().any(|(k, _)| k == key) {
                return Err(self.doc.duplicate(key));
            }
            let value = decode(raw).map_err(|why| self.doc.here(why))?;
            r.push_field(key, &value);
        }
        Ok(())
    }
}

/// The XML reader of one file and the errors that name it, shared by both readers.
struct Doc {
    path: PathBuf,
    xml: Reader<Source>,
}

impl Doc {
    fn new(path: &Path, source: Source) -> Doc {
        let mut xml = Reader::from_reader(source);
        xml.config_mut().check_end_names = true;
        Doc {
            path: path.to_path_buf(),
            xml,
        }
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

    /// The size and hash of the file; call after the end of the file, on a [`Source::Ahead`].
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

/// The most element paths [`summarize`] tells apart; elements on further paths are read and
/// checked but not counted (a document with that many kinds of element is not an export).
pub const MAX_PATHS: usize = 4096;
/// The path of elements beyond [`MAX_PATHS`].
const UNCOUNTED: u32 = u32::MAX;
/// Past this many children, a path's children are found through the index, not by a scan.
const FEW_CHILDREN: usize = 16;

/// One path from the root (the names of the elements on the way down).
struct PathNode {
    parent: u32,
    name: Box<[u8]>,
    depth: u32,
    children: Vec<u32>,
    /// Elements met on this path.
    elements: u64,
    /// Of them, those that carry a UUID with no carrier among their ancestors.
    carriers: u64,
}

/// An open element.
#[derive(Default)]
struct Frame {
    path: u32,
    carrier: bool,
    has_child: bool,
    text_uuid: bool,
    text_other: bool,
    /// The shallowest carriers counted inside this element so far, per path.
    inside: Vec<(u32, u64)>,
}

/// The streaming state of [`summarize`]: the layout-free record count.
struct Scan {
    doc: Doc,
    paths: Vec<PathNode>,
    index: HashMap<(u32, Box<[u8]>), u32>,
    /// Open elements are `stack[..open]`; frames above keep their buffers for reuse.
    stack: Vec<Frame>,
    open: usize,
    /// Elements open inside the innermost open frame that carries a UUID: nothing in them can
    /// count, so they get no frame of their own, only this depth (quick-xml checks that their
    /// end tags match).
    under: usize,
    root_closed: bool,
    /// The text of the open child of the root while it has no children (an application name?).
    leaf_text: Vec<u8>,
    applications: Vec<String>,
}

impl Scan {
    fn new(doc: Doc) -> Scan {
        Scan {
            doc,
            paths: Vec::new(),
            index: HashMap::new(),
            stack: Vec::new(),
            open: 0,
            under: 0,
            root_closed: false,
            leaf_text: Vec::new(),
            applications: Vec::new(),
        }
    }

    /// Reads the whole document; see the module documentation.
    fn run(&mut self) -> Result<()> {
        let mut buf = Vec::with_capacity(1024);
        loop {
            buf.clear();
            match self.doc.xml.read_event_into(&mut buf) {
                Ok(Event::Start(e)) => self.start(&e, false)?,
                Ok(Event::Empty(e)) => self.start(&e, true)?,
                Ok(Event::End(_)) => self.end(),
                Ok(Event::Text(t)) => self.text(&t)?,
                Ok(Event::CData(t)) => self.text(&t)?,
                Ok(Event::Decl(d)) => self.declaration(&d)?,
                Ok(Event::Comment(_) | Event::PI(_) | Event::DocType(_)) => {}
                Ok(Event::Eof) => return self.eof(),
                Err(e) => return Err(self.doc.xml_error(e)),
            }
        }
    }

    fn start(&mut self, e: &BytesStart, empty: bool) -> Result<()> {
        if self.root_closed {
            return Err(self
                .doc
                .here("not well-formed XML: a second element after the root element".into()));
        }
        if self.under > 0 {
            self.under += usize::from(!empty);
            return Ok(());
        }
        if self.open == 0 {
            return self.root(e, empty);
        }
        let above = &mut self.stack[self.open - 1];
        above.has_child = true;
        if above.carrier {
            self.under = usize::from(!empty);
            return Ok(());
        }
        let parent = above.path;
        let path = self.child_path(parent, e.name().as_ref());
        if let Some(p) = self.paths.get_mut(path as usize) {
            p.elements += 1;
        }
        let carrier = carries_uuid(e.attributes_raw());
        if self.open == 1 {
            self.leaf_text.clear();
        }
        self.push(path, carrier);
        if empty {
            self.end();
        }
        Ok(())
    }

    /// The root element: its attributes may name the application.
    fn root(&mut self, e: &BytesStart, empty: bool) -> Result<()> {
        let mut names: Vec<&[u8]> = Vec::new();
        for attr in raw_attributes(e.attributes_raw()) {
            let (name, raw) = attr.map_err(|why| self.doc.here(why))?;
            if names.contains(&name) {
                return Err(self.doc.duplicate(&String::from_utf8_lossy(name)));
            }
            names.push(name);
            if let Ok(text) = std::str::from_utf8(raw) {
                let value = decode(text).map_err(|why| self.doc.here(why))?;
                self.named(&value);
            }
        }
        self.paths.push(PathNode {
            parent: UNCOUNTED,
            name: e.name().as_ref().into(),
            depth: 1,
            children: Vec::new(),
            elements: 1,
            carriers: 0,
        });
        self.push(0, false);
        if empty {
            self.end();
        }
        Ok(())
    }

    fn named(&mut self, value: &str) {
        if let Some(app) = crate::apps::by_name(value.trim()) {
            if !self.applications.iter().any(|a| a == app.id) {
                self.applications.push(app.id.to_string());
            }
        }
    }

    fn push(&mut self, path: u32, carrier: bool) {
        if self.open == self.stack.len() {
            self.stack.push(Frame::default());
        }
        let f = &mut self.stack[self.open];
        f.path = path;
        f.carrier = carrier;
        f.has_child = false;
        f.text_uuid = false;
        f.text_other = false;
        f.inside.clear();
        self.open += 1;
    }

    /// The path of an element named `name` under `parent`, made on first sight.
    fn child_path(&mut self, parent: u32, name: &[u8]) -> u32 {
        let Some(node) = self.paths.get(parent as usize) else {
            return UNCOUNTED;
        };
        if node.children.len() <= FEW_CHILDREN {
            if let Some(&c) = node
                .children
                .iter()
                .find(|&&c| &*self.paths[c as usize].name == name)
            {
                return c;
            }
        } else if let Some(&c) = self.index.get(&(parent, Box::from(name))) {
            return c;
        }
        if self.paths.len() >= MAX_PATHS {
            return UNCOUNTED;
        }
        let id = self.paths.len() as u32;
        let depth = node.depth + 1;
        self.paths.push(PathNode {
            parent,
            name: name.into(),
            depth,
            children: Vec::new(),
            elements: 0,
            carriers: 0,
        });
        let siblings = &mut self.paths[parent as usize].children;
        siblings.push(id);
        if siblings.len() > FEW_CHILDREN {
            // From now on through the index: put every child of this parent in it.
            let all: Vec<u32> = siblings.clone();
            for c in all {
                let key = (parent, self.paths[c as usize].name.clone());
                self.index.insert(key, c);
            }
        }
        id
    }

    fn end(&mut self) {
        if self.under > 0 {
            self.under -= 1;
            return;
        }
        let Some(open) = self.open.checked_sub(1) else {
            return;
        };
        self.open = open;
        if open == 0 {
            self.root_closed = true;
            return;
        }
        let (below, rest) = self.stack.split_at_mut(open);
        let (parent, frame) = (&mut below[open - 1], &mut rest[0]);
        let leaf = !frame.has_child;
        if leaf && open >= 2 && frame.text_uuid && !frame.text_other {
            parent.carrier = true;
        }
        if leaf && open == 1 && !frame.text_uuid && self.leaf_text.len() <= 64 {
            let text = std::mem::take(&mut self.leaf_text);
            if let Ok(t) = std::str::from_utf8(&text) {
                if let Ok(value) = quick_xml::escape::unescape(t) {
                    let value = value.into_owned();
                    self.named(&value);
                }
            }
            self.leaf_text = text;
            return self.settle(open);
        }
        self.settle(open);
    }

    /// Counts the closed element at `stack[open]` into its parent.
    fn settle(&mut self, open: usize) {
        let (below, rest) = self.stack.split_at_mut(open);
        let (parent, frame) = (&mut below[open - 1], &mut rest[0]);
        if frame.carrier && frame.path != UNCOUNTED {
            // The carriers inside it are not the shallowest any more.
            for &(p, n) in &frame.inside {
                self.paths[p as usize].carriers -= n;
            }
            self.paths[frame.path as usize].carriers += 1;
            add_inside(&mut parent.inside, frame.path, 1);
        } else {
            for &(p, n) in &frame.inside {
                add_inside(&mut parent.inside, p, n);
            }
        }
    }

    /// Text (or CDATA) read; the white space between elements returns at once.
    #[inline]
    fn text(&mut self, t: &[u8]) -> Result<()> {
        if self.under > 0 {
            return Ok(());
        }
        if self.open == 0 {
            return self.text_outside(t);
        }
        let open = self.open;
        let f = &mut self.stack[open - 1];
        if f.has_child {
            return Ok(());
        }
        let trimmed = t.trim_ascii();
        if trimmed.is_empty() {
            return Ok(());
        }
        if is_uuid_bytes(trimmed) && !f.text_uuid && !f.text_other {
            f.text_uuid = true;
        } else {
            f.text_other = true;
        }
        if open == 2 && self.leaf_text.len() <= 64 {
            self.leaf_text.extend_from_slice(trimmed);
        }
        Ok(())
    }

    /// Text before or after the root element: white space only.
    #[cold]
    fn text_outside(&self, t: &[u8]) -> Result<()> {
        if is_blank(t) {
            return Ok(());
        }
        let msg = if self.root_closed {
            "not well-formed XML: text after the root element"
        } else {
            "not an XML document: text before the root element"
        };
        // Where the text starts, not where it ends.
        let pos = self
            .doc
            .xml
            .buffer_position()
            .saturating_sub(t.len() as u64);
        Err(self.doc.error_at(pos, msg.into()))
    }

    /// The encoding declaration: the rule reads ASCII bytes, so any ASCII-compatible one will do.
    fn declaration(&self, d: &quick_xml::events::BytesDecl) -> Result<()> {
        let Some(Ok(enc)) = d.encoding() else {
            return Ok(());
        };
        let name = String::from_utf8_lossy(&enc).to_ascii_lowercase();
        let single_byte = ["iso-8859-", "iso8859-", "iso_8859-", "windows-125", "cp125"];
        if matches!(
            name.as_str(),
            "utf-8" | "utf8" | "us-ascii" | "ascii" | "latin1" | "latin-1"
        ) || single_byte.iter().any(|p| name.starts_with(p))
        {
            return Ok(());
        }
        Err(self.doc.here(format!(
            "the encoding {name:?} is not read: an export must be UTF-8, US-ASCII or a single-byte ISO-8859 or Windows encoding"
        )))
    }

    fn eof(&self) -> Result<()> {
        if self.root_closed {
            return Ok(());
        }
        let pos = self.doc.xml.buffer_position();
        let msg = match self.paths.first() {
            None if pos == 0 => "empty file, not an export XML file".to_string(),
            None => "not an export XML file: no root element".to_string(),
            Some(root) => format!(
                "truncated: the file ends before </{}> closes the document",
                String::from_utf8_lossy(&root.name)
            ),
        };
        Err(self
            .doc
            .error_at(if self.paths.is_empty() { 0 } else { pos }, msg))
    }

    /// The records: how many, how they were found, and their path.
    fn records(&self) -> (u64, Layout, Option<String>) {
        let best = |count: fn(&PathNode) -> u64, only_root_children: bool| {
            self.paths
                .iter()
                .enumerate()
                .filter(|(_, p)| !only_root_children || p.depth == 2)
                .filter(|(_, p)| count(p) > 0)
                .max_by(|(i, a), (j, b)| {
                    count(a)
                        .cmp(&count(b))
                        .then(b.depth.cmp(&a.depth))
                        .then(j.cmp(i))
                })
                .map(|(i, p)| (count(p), i))
        };
        if let Some((n, i)) = best(|p| p.carriers, false) {
            return (n, Layout::Recognized, Some(self.path_name(i)));
        }
        match best(|p| p.elements, true) {
            Some((n, i)) if n >= 2 => (n, Layout::Unrecognized, Some(self.path_name(i))),
            _ => (0, Layout::Recognized, None),
        }
    }

    fn path_name(&self, mut i: usize) -> String {
        let mut names = Vec::new();
        while let Some(p) = self.paths.get(i) {
            names.push(String::from_utf8_lossy(&p.name).into_owned());
            i = p.parent as usize;
        }
        names.reverse();
        names.join("/")
    }
}

fn add_inside(inside: &mut Vec<(u32, u64)>, path: u32, n: u64) {
    match inside.iter_mut().find(|(p, _)| *p == path) {
        Some((_, m)) => *m += n,
        None => inside.push((path, n)),
    }
}

/// Whether one of the attribute values of a start tag is a UUID; stops at the first. It looks
/// only at the quoted runs (an attribute value is the only place a quote may open in a tag): a
/// value whose 37th byte is its closing quote is checked as a UUID before its end is searched
/// for, so a UUID value costs no `memchr` and any other value one; the attributes themselves
/// are not checked here.
fn carries_uuid(raw: &[u8]) -> bool {
    // `a="` + 36 + `"`: a shorter tag holds no UUID.
    if raw.len() < 40 {
        return false;
    }
    let mut rest = raw;
    // An attribute's name is short: a loop finds the quote after it sooner than `memchr`.
    while let Some(open) = rest.iter().position(|&b| b == b'"' || b == b'\'') {
        let quote = rest[open];
        let value = &rest[open + 1..];
        // A UUID holds no quote, so a value that starts with one ends at its 37th byte.
        if value.get(36) == Some(&quote) && is_uuid_bytes(&value[..36]) {
            return true;
        }
        let Some(close) = memchr(quote, value) else {
            return false;
        };
        rest = &value[close + 1..];
    }
    false
}

/// Where a UUID (8-4-4-4-12 hex digits) has its dashes.
const UUID_DASHES: [bool; 36] = {
    let mut t = [false; 36];
    t[8] = true;
    t[13] = true;
    t[18] = true;
    t[23] = true;
    t
};

/// A UUID as Connections writes them (8-4-4-4-12 hex digits), as bytes. Every byte is checked
/// with arithmetic and no early exit, which the compiler turns into a few vector operations.
fn is_uuid_bytes(b: &[u8]) -> bool {
    let Ok(b) = <&[u8; 36]>::try_from(b) else {
        return false;
    };
    let mut bad = false;
    for (&c, &dash) in b.iter().zip(&UUID_DASHES) {
        let hex = (c.wrapping_sub(b'0') < 10) | ((c | 0x20).wrapping_sub(b'a') < 6);
        bad |= if dash { c != b'-' } else { !hex };
    }
    !bad
}

/// The attributes of a start tag, name and raw value in order, as XML writes them:
/// `Name S? = S? "value"` (or `'value'`), whitespace before each, cut at ASCII delimiters found
/// with `memchr`: no allocation, and no assumption about the encoding beyond ASCII.
fn raw_attributes(
    raw: &[u8],
) -> impl Iterator<Item = std::result::Result<(&[u8], &[u8]), String>> + '_ {
    let mut rest = Some(raw);
    std::iter::from_fn(move || {
        let text = rest?;
        let trimmed = text.trim_ascii_start();
        if trimmed.is_empty() {
            return None;
        }
        match attribute(trimmed, trimmed.len() < text.len()) {
            Ok((name, value, next)) => {
                rest = Some(next);
                Some(Ok((name, value)))
            }
            Err(why) => {
                rest = None;
                Some(Err(why))
            }
        }
    })
}

/// The attributes of a start tag as text (the tag's bytes checked to be UTF-8 once).
fn attributes<'a>(
    e: &'a BytesStart,
) -> impl Iterator<Item = std::result::Result<(&'a str, &'a str), String>> + 'a {
    let raw = e.attributes_raw();
    let utf8 = std::str::from_utf8(raw).is_ok();
    let mut not_utf8 = !utf8;
    let mut inner = raw_attributes(if utf8 { raw } else { b"" });
    std::iter::from_fn(move || {
        if std::mem::take(&mut not_utf8) {
            return Some(Err(
                "not well-formed XML: a start tag is not UTF-8".to_string()
            ));
        }
        let as_str = |b: &'a [u8]| std::str::from_utf8(b).unwrap_or_default();
        inner
            .next()
            .map(|r| r.map(|(name, value)| (as_str(name), as_str(value))))
    })
}

/// An attribute's name, its raw value and the text after it.
type Attribute<'a> = (&'a [u8], &'a [u8], &'a [u8]);

/// One attribute at the start of `text`: its name, its raw value and the text after it.
fn attribute(text: &[u8], spaced: bool) -> std::result::Result<Attribute<'_>, String> {
    if !spaced {
        return Err("not well-formed XML: no space between attributes".to_string());
    }
    let mut end = 0;
    let mut bad = false;
    while end < text.len() && text[end] != b'=' && !text[end].is_ascii_whitespace() {
        bad |= matches!(text[end], b'"' | b'\'' | b'<' | b'>' | b'&' | b'/');
        end += 1;
    }
    let (name, after) = text.split_at(end);
    let shown = String::from_utf8_lossy(name);
    if name.is_empty() || bad {
        return Err(format!(
            "not well-formed XML: {shown:?} is not an attribute name"
        ));
    }
    let value = after
        .trim_ascii_start()
        .strip_prefix(b"=")
        .map(<[u8]>::trim_ascii_start)
        .ok_or_else(|| format!("not well-formed XML: the attribute {shown} has no value"))?;
    let quote = match value.first() {
        Some(&q @ (b'"' | b'\'')) => q,
        _ => {
            return Err(format!(
                "not well-formed XML: the value of {shown} is not quoted"
            ))
        }
    };
    let value = &value[1..];
    let close = memchr(quote, value)
        .ok_or_else(|| format!("not well-formed XML: the value of {shown} has no closing quote"))?;
    if memchr(b'<', &value[..close]).is_some() {
        return Err("not well-formed XML: '<' in an attribute value".to_string());
    }
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

/// Lower-case hexadecimal digits of `bytes` (how SHA-256 sums are shown).
pub(crate) fn hex(bytes: &[u8]) -> String {
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
}
