//! The reader of the simulated cell's layout ([`crate::formats::export`]) behind
//! [`super::for_each_resource`]: one record at a time, its buffers reused.

use super::doc::Doc;
use super::lexical::{attributes, decode, is_blank};
use super::read_ahead::Source;
use super::{Record, CHUNK};

use crate::error::{Error, Result};
use crate::formats::export as fmt;
use quick_xml::events::{BytesStart, Event};
use std::fs::File;
use std::io::BufReader;
use std::path::Path;

/// The streaming state of [`for_each_resource`]: the simulated cell's layout.
pub(super) struct ExportReader {
    doc: Doc,
    buf: Vec<u8>,
    pub(super) application: String,
    pub(super) resources: u64,
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
    pub(super) fn open(path: &Path) -> Result<Self> {
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
    pub(super) fn next_resource(&mut self, record: Option<&mut Record>) -> Result<bool> {
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
