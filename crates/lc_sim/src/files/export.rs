//! The export XML of `exportSyncedResourceInfo`: written and read streaming, in the cell's
//! dialect.

use std::io::{BufRead, Write};

use anyhow::{bail, Context as _, Result};
use lc_core::apps::App;
use lc_core::formats::{self, export as x};
use quick_xml::events::Event;

use super::Record;
use crate::dialect::{AppFrom, Dialect, ExportShape, Src};
use crate::model::Copy;
use crate::util::escape;

/// Writes an export in the cell's dialect, one record at a time; returns how many were written.
pub fn write_export<W: Write>(
    mut w: W,
    dialect: Dialect,
    app: &App,
    records: impl Iterator<Item = Record>,
) -> std::io::Result<u64> {
    let shape = dialect.export_shape();
    let mut n = 0;
    match dialect {
        Dialect::Lcsim => {
            writeln!(w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>")?;
            writeln!(w, "<!-- {} -->", x::SIMULATED_NOTE)?;
            writeln!(
                w,
                "<{} {}=\"{}\" {}=\"community\">",
                x::ROOT,
                x::ATTR_APPLICATION,
                escape(app.id),
                x::ATTR_RESOURCE_TYPE
            )?;
            for r in records {
                write!(
                    w,
                    "  <{} {}=\"{}\" {}=\"{}\">\n    <{}",
                    x::RESOURCE,
                    x::ATTR_ID,
                    escape(&r.id),
                    x::ATTR_COMMUNITY_UUID,
                    escape(&r.community_uuid),
                    x::COMMUNITY
                )?;
                for f in formats::FIELDS {
                    write!(w, " {f}=\"{}\"", escape(r.copy.field(f)))?;
                }
                writeln!(w, "/>\n  </{}>", x::RESOURCE)?;
                n += 1;
            }
            writeln!(w, "</{}>", x::ROOT)?;
        }
        Dialect::Classic => {
            // ISO-8859-1: Latin-1 characters as single bytes, the others as character references.
            writeln!(w, "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>")?;
            writeln!(w, "<!-- {} -->", x::SIMULATED_NOTE)?;
            writeln!(w, "<{} xmlns=\"{}\">", shape.root, shape.namespace)?;
            if let AppFrom::Text(tag) = shape.app {
                writeln!(w, "  <{tag}>{}</{tag}>", app.id)?;
            }
            writeln!(w, "  <ResourceType>community</ResourceType>")?;
            writeln!(w, "  <Resources>")?;
            for r in records {
                writeln!(w, "    <{}>", shape.record.unwrap_or_default())?;
                let text = |w: &mut W, tag: &str, v: &str| -> std::io::Result<()> {
                    write!(w, "      <{tag}>")?;
                    w.write_all(&latin1(v))?;
                    writeln!(w, "</{tag}>")
                };
                text(&mut w, shape.id.name(), &r.id)?;
                text(&mut w, shape.uuid.name(), &r.community_uuid)?;
                for (f, src) in shape.fields {
                    text(&mut w, src.name(), r.copy.field(f))?;
                }
                writeln!(w, "    </{}>", shape.record.unwrap_or_default())?;
                n += 1;
            }
            writeln!(w, "  </Resources>")?;
            writeln!(w, "</{}>", shape.root)?;
        }
        Dialect::Modern => {
            // No encoding declaration (UTF-8 by default); the app is named by the record elements only.
            let p = "snx";
            writeln!(w, "<?xml version=\"1.0\"?>")?;
            writeln!(
                w,
                "<{p}:{} xmlns:{p}=\"{}\" {p}:resourceType=\"community\" {p}:generated=\"{}\">",
                shape.root,
                shape.namespace,
                crate::util::timestamp(crate::init::EPOCH)
            )?;
            writeln!(w, "  <!-- {} -->", x::SIMULATED_NOTE)?;
            let record = Dialect::modern_record(app);
            for r in records {
                writeln!(
                    w,
                    "  <{p}:{record} {p}:{}=\"{}\">\n    <{p}:community {p}:{}=\"{}\">",
                    shape.id.name(),
                    escape(&r.id),
                    shape.uuid.name(),
                    escape(&r.community_uuid)
                )?;
                for (f, src) in shape.fields {
                    writeln!(
                        w,
                        "      <{p}:property {p}:name=\"{}\">{}</{p}:property>",
                        src.name(),
                        escape(r.copy.field(f))
                    )?;
                }
                writeln!(w, "    </{p}:community>\n  </{p}:{record}>")?;
                n += 1;
            }
            writeln!(w, "</{p}:{}>", shape.root)?;
        }
        Dialect::Compact => {
            // A byte-order mark and no XML declaration; one record per line, single quotes.
            w.write_all("\u{feff}".as_bytes())?;
            writeln!(
                w,
                "<{} xmlns:xsi='http://www.w3.org/2001/XMLSchema-instance' xsi:noNamespaceSchemaLocation='{}' app='{}' type='community'><!-- {} -->",
                shape.root,
                shape.namespace,
                escape(app.names[0]),
                x::SIMULATED_NOTE
            )?;
            for r in records {
                write!(
                    w,
                    "<{} {}='{}' {}='{}'",
                    shape.record.unwrap_or_default(),
                    shape.id.name(),
                    escape(&r.id),
                    shape.uuid.name(),
                    escape(&r.community_uuid)
                )?;
                for (f, src) in shape.fields {
                    write!(w, " {}='{}'", src.name(), escape(r.copy.field(f)))?;
                }
                writeln!(w, "/>")?;
                n += 1;
            }
            writeln!(w, "</{}>", shape.root)?;
        }
    }
    w.flush()?;
    Ok(n)
}

/// Escaped text as ISO-8859-1 bytes; characters beyond Latin-1 as character references.
fn latin1(s: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    for c in escape(s).chars() {
        match u32::from(c) {
            v @ 0..=0xFF => out.push(v as u8),
            v => out.extend_from_slice(format!("&#{v};").as_bytes()),
        }
    }
    out
}

/// ISO-8859-1 bytes read as UTF-8 text (every byte is the code point of the same value).
struct Latin1<R> {
    inner: R,
    pending: Option<u8>,
}

impl<R: std::io::Read> std::io::Read for Latin1<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let mut n = 0;
        if let Some(b) = self.pending.take() {
            buf[0] = b;
            n = 1;
        }
        let mut raw = [0u8; 4096];
        let want = ((buf.len() - n) / 2).clamp(1, raw.len());
        let got = self.inner.read(&mut raw[..want])?;
        for &b in &raw[..got] {
            if b < 0x80 {
                buf[n] = b;
                n += 1;
            } else {
                let (hi, lo) = (0xC0 | (b >> 6), 0x80 | (b & 0x3F));
                buf[n] = hi;
                n += 1;
                if n < buf.len() {
                    buf[n] = lo;
                    n += 1;
                } else {
                    self.pending = Some(lo);
                }
            }
        }
        Ok(n)
    }
}

/// What an export holds, in order: the application id (of the root), then the records.
#[derive(Debug)]
pub enum Item {
    App(String),
    Record(Record),
}

/// One record being read: its attributes and element texts, by local name.
#[derive(Default)]
struct Collected {
    depth: usize,
    values: std::collections::HashMap<String, String>,
    /// The key the text being read goes to.
    text_key: Option<String>,
}

impl Collected {
    fn get(&self, src: Src) -> String {
        let key = match src {
            Src::Attr(k) => format!("@{k}"),
            Src::Text(k) => k.to_string(),
        };
        self.values.get(&key).cloned().unwrap_or_default()
    }
}

/// Reads an export of the cell's dialect streaming, calling `each` for every item. An export of
/// another layout is refused, naming the root element found and the one expected.
pub fn read_export<'a, R: BufRead + 'a>(
    dialect: Dialect,
    mut input: R,
    mut each: impl FnMut(Item) -> Result<()>,
) -> Result<()> {
    let shape = dialect.export_shape();
    if input.fill_buf()?.starts_with(b"\xEF\xBB\xBF") {
        input.consume(3);
    }
    let input: Box<dyn BufRead + 'a> = if shape.latin1 {
        Box::new(std::io::BufReader::new(Latin1 {
            inner: input,
            pending: None,
        }))
    } else {
        Box::new(input)
    };
    let mut reader = quick_xml::Reader::from_reader(input);
    reader.config_mut().trim_text(true);
    let mut buf = Vec::new();
    let mut depth = 0usize;
    let mut saw_root = false;
    let mut app: Option<String> = None;
    let mut app_text: Option<String> = None;
    let mut current: Option<Collected> = None;
    let local = |n: &[u8]| String::from_utf8_lossy(n).into_owned();
    loop {
        let ev = reader
            .read_event_into(&mut buf)
            .with_context(|| format!("malformed XML at byte {}", reader.buffer_position()))?;
        match ev {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(ev, Event::Empty(_));
                let name = local(e.local_name().as_ref());
                let mut attrs = Vec::new();
                for a in e.attributes() {
                    let a = a?;
                    attrs.push((
                        local(a.key.local_name().as_ref()),
                        a.unescape_value()?.into_owned(),
                    ));
                }
                let attr = |k: &str| attrs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
                if depth == 0 {
                    if name != shape.root {
                        bail!(
                            "not an export of this cell's layout ({dialect}): the root element is <{name}>, expected <{}>",
                            shape.root
                        );
                    }
                    saw_root = true;
                    if let AppFrom::RootAttr(k) = shape.app {
                        let a = attr(k)
                            .with_context(|| format!("the root element has no {k} attribute"))?;
                        let a = app_id(dialect, &a)?;
                        each(Item::App(a.clone()))?;
                        app = Some(a);
                    }
                } else if let Some(c) = current.as_mut() {
                    for (k, v) in attrs.iter() {
                        c.values.insert(format!("@{k}"), v.clone());
                    }
                    c.text_key = match shape.property {
                        Some(p) if name == p => attr("name"),
                        _ => Some(name),
                    };
                } else if shape
                    .record
                    .map_or_else(|| Dialect::modern_app(&name).is_some(), |r| r == name)
                {
                    if shape.record.is_none() {
                        let a = Dialect::modern_app(&name).map(|a| a.id.to_string());
                        if app.is_none() {
                            if let Some(a) = &a {
                                each(Item::App(a.clone()))?;
                            }
                            app = a;
                        } else if app != a {
                            bail!("records of two applications in one export: <{name}>");
                        }
                    }
                    let mut c = Collected {
                        depth: depth + 1,
                        ..Collected::default()
                    };
                    for (k, v) in attrs {
                        c.values.insert(format!("@{k}"), v);
                    }
                    current = Some(c);
                } else if matches!(shape.app, AppFrom::Text(t) if t == name) {
                    app_text = Some(String::new());
                }
                if empty {
                    if current.as_ref().is_some_and(|c| c.depth == depth + 1) {
                        if let Some(c) = current.take() {
                            each(Item::Record(record(&shape, &c)))?;
                        }
                    }
                } else {
                    depth += 1;
                }
            }
            Event::Text(ref t) => {
                let text = t.unescape()?.into_owned();
                if let Some(c) = current.as_mut() {
                    if let Some(k) = c.text_key.clone() {
                        c.values.entry(k).or_default().push_str(&text);
                    }
                } else if let Some(a) = app_text.as_mut() {
                    a.push_str(&text);
                }
            }
            Event::End(_) => {
                if current.as_ref().is_some_and(|c| c.depth == depth) {
                    if let Some(c) = current.take() {
                        each(Item::Record(record(&shape, &c)))?;
                    }
                } else if let Some(c) = current.as_mut() {
                    c.text_key = None;
                } else if let Some(a) = app_text.take() {
                    let a = app_id(dialect, a.trim())?;
                    each(Item::App(a.clone()))?;
                    app = Some(a);
                }
                depth = depth.saturating_sub(1);
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    if !saw_root {
        bail!("not an export: no <{}> element", shape.root);
    }
    Ok(())
}

/// The application id an export names: the id itself (lcsim), or any of its names.
fn app_id(dialect: Dialect, named: &str) -> Result<String> {
    if dialect == Dialect::Lcsim {
        return Ok(named.to_string());
    }
    lc_core::apps::by_name(named)
        .map(|a| a.id.to_string())
        .with_context(|| format!("the export names an unknown application {named:?}"))
}

fn record(shape: &ExportShape, c: &Collected) -> Record {
    let mut copy = Copy {
        name: String::new(),
        visibility: String::new(),
        moderation: String::new(),
        theme: String::new(),
    };
    for (f, src) in shape.fields {
        copy.set_field(f, c.get(src));
    }
    Record {
        id: c.get(shape.id),
        community_uuid: c.get(shape.uuid),
        copy,
    }
}
