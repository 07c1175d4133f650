//! The two file layouts the cell writes, in the cell's dialect ([`crate::dialect`]; `lcsim` is
//! lc_core::formats' own), each labelled as simulated: the export XML of
//! `exportSyncedResourceInfo` (written and read streaming, so a million resources is fine) and the
//! HTML sync reports of `generateSyncReports`. This is the one writer of each.

use std::io::{BufRead, Write};

use anyhow::{bail, Context as _, Result};
use lc_core::apps::App;
use lc_core::formats::report::Column;
use lc_core::formats::{self, export as x, report};
use quick_xml::events::Event;

use crate::dialect::{AppFrom, Dialect, ExportShape, Kind, Src, Value};
use crate::model::Copy;
use crate::truth::{Difference, Orphan};
use crate::util::escape;

/// One record of an export: a resource, its community and the app's copy of that community.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub id: String,
    pub community_uuid: String,
    pub copy: Copy,
}

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

/// One row of a report.
#[derive(Debug, Clone, Copy)]
pub enum Row<'a> {
    Difference(&'a Difference),
    Orphan(&'a Orphan),
}

/// One HTML sync report being written in the cell's dialect, a row at a time.
pub struct ReportWriter<W: Write> {
    w: W,
    dialect: Dialect,
    kind: Kind,
    app: &'static App,
    rows: u64,
}

/// The Latin-1 entity names of HTML 4, from U+00A0 on.
const LATIN1_ENTITIES: [&str; 96] = [
    "nbsp", "iexcl", "cent", "pound", "curren", "yen", "brvbar", "sect", "uml", "copy", "ordf",
    "laquo", "not", "shy", "reg", "macr", "deg", "plusmn", "sup2", "sup3", "acute", "micro",
    "para", "middot", "cedil", "sup1", "ordm", "raquo", "frac14", "frac12", "frac34", "iquest",
    "Agrave", "Aacute", "Acirc", "Atilde", "Auml", "Aring", "AElig", "Ccedil", "Egrave", "Eacute",
    "Ecirc", "Euml", "Igrave", "Iacute", "Icirc", "Iuml", "ETH", "Ntilde", "Ograve", "Oacute",
    "Ocirc", "Otilde", "Ouml", "times", "Oslash", "Ugrave", "Uacute", "Ucirc", "Uuml", "Yacute",
    "THORN", "szlig", "agrave", "aacute", "acirc", "atilde", "auml", "aring", "aelig", "ccedil",
    "egrave", "eacute", "ecirc", "euml", "igrave", "iacute", "icirc", "iuml", "eth", "ntilde",
    "ograve", "oacute", "ocirc", "otilde", "ouml", "divide", "oslash", "ugrave", "uacute", "ucirc",
    "uuml", "yacute", "thorn", "yuml",
];

/// Escaped text in the dialect's way: raw UTF-8 (lcsim, modern), named entities where HTML 4
/// has them and decimal references otherwise (classic), hexadecimal references (compact).
fn html_text(dialect: Dialect, s: &str) -> String {
    let base = escape(s);
    if matches!(dialect, Dialect::Lcsim | Dialect::Modern) || base.is_ascii() {
        return base.into_owned();
    }
    let mut out = String::with_capacity(base.len() + 16);
    for c in base.chars() {
        let v = u32::from(c);
        match (dialect, v) {
            (_, 0..=0x7F) => out.push(c),
            (Dialect::Classic, 0xA0..=0xFF) => {
                out.push('&');
                out.push_str(LATIN1_ENTITIES[(v - 0xA0) as usize]);
                out.push(';');
            }
            (Dialect::Classic, 0x2013) => out.push_str("&ndash;"),
            (Dialect::Classic, _) => out.push_str(&format!("&#{v};")),
            _ => out.push_str(&format!("&#x{v:X};")),
        }
    }
    out
}

impl<W: Write> ReportWriter<W> {
    /// Writes the head of the page and the header row.
    pub fn new(mut w: W, dialect: Dialect, kind: Kind, app: &'static App) -> std::io::Result<Self> {
        let title = dialect.title(kind, app);
        let t = html_text(dialect, &title);
        let labels: Vec<String> = dialect
            .columns(kind)
            .iter()
            .map(|c| html_text(dialect, &dialect.label(c, app)))
            .collect();
        let note = x::SIMULATED_NOTE;
        match dialect {
            Dialect::Lcsim => {
                writeln!(w, "<!DOCTYPE html>")?;
                writeln!(w, "<html lang=\"en\">\n<head>\n<meta charset=\"UTF-8\">")?;
                writeln!(w, "<title>{t}</title>\n</head>\n<body>")?;
                writeln!(w, "<!-- {note} -->")?;
                writeln!(w, "<p class=\"lc-sim-note\">{}</p>", escape(note))?;
                writeln!(w, "<h1>{t}</h1>")?;
                writeln!(w, "<table border=\"1\">")?;
                write!(w, "<tr>")?;
                for l in &labels {
                    write!(w, "<th>{l}</th>")?;
                }
                writeln!(w, "</tr>")?;
            }
            Dialect::Classic => {
                writeln!(w, "<HTML>\n<HEAD>")?;
                writeln!(
                    w,
                    "<META HTTP-EQUIV=\"Content-Type\" CONTENT=\"text/html; charset=ISO-8859-1\">"
                )?;
                writeln!(w, "<TITLE>{t}</TITLE>\n</HEAD>\n<BODY BGCOLOR=#FFFFFF>")?;
                writeln!(w, "<!-- {note} -->")?;
                writeln!(w, "<H2>{t}</H2>")?;
                writeln!(w, "<TABLE BORDER=1 CELLPADDING=2 CELLSPACING=0>")?;
                write!(w, "<TR>")?;
                for l in &labels {
                    write!(w, "<TH ALIGN=LEFT>{l}")?;
                }
                writeln!(w)?;
            }
            Dialect::Modern => {
                writeln!(w, "<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Strict//EN\" \"http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd\">")?;
                writeln!(
                    w,
                    "<html xmlns=\"http://www.w3.org/1999/xhtml\" xml:lang=\"en\">"
                )?;
                writeln!(w, "<head>\n<meta http-equiv=\"Content-Type\" content=\"text/html; charset=UTF-8\" />")?;
                writeln!(w, "<title>{t}</title>\n</head>\n<body>\n<!-- {note} -->")?;
                writeln!(w, "<h1>{t}</h1>")?;
                writeln!(w, "<table class=\"summary\">")?;
                writeln!(
                    w,
                    "<tr><th scope=\"row\">Application</th><td>{}</td></tr>",
                    html_text(dialect, app.names[0])
                )?;
                writeln!(
                    w,
                    "<tr><th scope=\"row\">Generated</th><td>{}</td></tr>",
                    crate::util::java_date(crate::init::EPOCH)
                )?;
                writeln!(w, "</table>")?;
                writeln!(w, "<table class=\"report\">\n<thead>\n<tr>")?;
                for l in &labels {
                    writeln!(w, "<th scope=\"col\">{l}</th>")?;
                }
                writeln!(w, "</tr>\n</thead>\n<tbody>")?;
            }
            Dialect::Compact => {
                writeln!(
                    w,
                    "<html><head><title>{t}</title></head><body><!-- {note} -->"
                )?;
                writeln!(w, "<p><b>{t}</b></p>")?;
                write!(w, "<table border='1' cellspacing='0'><tr>")?;
                for l in &labels {
                    write!(w, "<td><b>{l}</b></td>")?;
                }
                write!(w, "</tr>")?;
            }
        }
        Ok(ReportWriter {
            w,
            dialect,
            kind,
            app,
            rows: 0,
        })
    }

    /// Writes one row.
    pub fn row(&mut self, row: Row<'_>) -> std::io::Result<()> {
        let d = self.dialect;
        self.rows += 1;
        let cells: Vec<String> = d
            .columns(self.kind)
            .iter()
            .map(|c| html_text(d, &cell_value(d, c.value, row, self.rows, self.app)))
            .collect();
        match d {
            Dialect::Lcsim => {
                write!(self.w, "<tr>")?;
                for c in &cells {
                    write!(self.w, "<td>{c}</td>")?;
                }
                writeln!(self.w, "</tr>")?;
            }
            Dialect::Classic => {
                write!(self.w, "<TR>")?;
                for c in &cells {
                    write!(self.w, "<TD>{c}")?;
                }
                writeln!(self.w)?;
            }
            Dialect::Modern => {
                let class = if self.rows % 2 == 1 { "odd" } else { "even" };
                write!(self.w, "<tr class=\"{class}\">")?;
                for c in &cells {
                    write!(self.w, "<td>{c}</td>")?;
                }
                writeln!(self.w, "</tr>")?;
            }
            Dialect::Compact => {
                write!(self.w, "<tr>")?;
                for c in &cells {
                    write!(self.w, "<td>{c}</td>")?;
                }
                write!(self.w, "</tr>")?;
            }
        }
        Ok(())
    }

    /// Closes the page; returns the number of rows.
    pub fn finish(mut self) -> std::io::Result<u64> {
        match self.dialect {
            Dialect::Lcsim => writeln!(self.w, "</table>\n</body>\n</html>")?,
            Dialect::Classic => writeln!(self.w, "</TABLE>\n</BODY>\n</HTML>")?,
            Dialect::Modern => writeln!(self.w, "</tbody>\n</table>\n</body>\n</html>")?,
            Dialect::Compact => {
                writeln!(self.w, "</table>")?;
                writeln!(
                    self.w,
                    "<table border='0'><tr><td>Values are shown as each application stores them.</td></tr><tr><td>{} rows.</td></tr></table></body></html>",
                    self.rows
                )?;
            }
        }
        self.w.flush()?;
        Ok(self.rows)
    }
}

/// The text of one report cell.
fn cell_value<'a>(
    d: Dialect,
    v: Value,
    row: Row<'a>,
    n: u64,
    app: &App,
) -> std::borrow::Cow<'a, str> {
    use std::borrow::Cow::{Borrowed, Owned};
    match (v, row) {
        (Value::Fact(c), Row::Difference(x)) => Borrowed(match c {
            Column::CommunityName => &x.community_name,
            Column::CommunityUuid => &x.community_uuid,
            Column::Field => &x.field,
            Column::CommunitiesValue => &x.communities_value,
            _ => &x.application_value,
        }),
        (Value::Fact(c), Row::Orphan(o)) => Borrowed(match c {
            Column::ObjectId => &o.object_id,
            Column::OldCommunityUuid => &o.old_community_uuid,
            _ => d.exists_word(o.community_exists),
        }),
        (Value::Reason, Row::Orphan(o)) => Owned(d.reason(o.community_exists, app)),
        (Value::Reason, Row::Difference(_)) => Borrowed(""),
        (Value::RowNumber, _) => Owned(n.to_string()),
        (Value::Date, _) => Owned(crate::util::timestamp(crate::init::EPOCH)),
        (Value::Action, Row::Difference(x)) => Borrowed(d.action(&x.field)),
        (Value::Action, Row::Orphan(_)) => Borrowed(""),
        (Value::AppName, _) => Owned(app.names[0].to_string()),
    }
}

/// The file name of an application's report of `kind` in dialect `d`.
pub fn report_file(d: Dialect, kind: Kind, app: &App) -> String {
    let suffix = match kind {
        Kind::Differences => report::DIFFERENCES_SUFFIX,
        Kind::Orphans => report::ORPHANS_SUFFIX,
    };
    format!("{}{suffix}", d.file_prefix(app))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialect::ALL;

    #[test]
    fn exports_round_trip_in_every_dialect_with_awkward_text() {
        let recs = vec![
            Record {
                id: "a&b".into(),
                community_uuid: "u1".into(),
                copy: Copy {
                    name: "R&D <\"team\"> 'x' Diseño – 東京".into(),
                    visibility: "public".into(),
                    moderation: "none".into(),
                    theme: "default".into(),
                },
            },
            Record {
                id: "c".into(),
                community_uuid: "u2".into(),
                copy: Copy {
                    name: "plain".into(),
                    visibility: "private".into(),
                    moderation: "premoderation".into(),
                    theme: "blue".into(),
                },
            },
        ];
        let ideas = lc_core::apps::by_id("IdeationBlog").unwrap();
        for d in ALL {
            let mut out = Vec::new();
            assert_eq!(
                write_export(&mut out, *d, ideas, recs.clone().into_iter()).unwrap(),
                2
            );
            let text = String::from_utf8_lossy(&out).into_owned();
            assert!(text.contains(x::SIMULATED_NOTE), "{d}");
            assert_eq!(
                *d == Dialect::Classic,
                std::str::from_utf8(&out).is_err(),
                "{d}"
            );
            let mut app = String::new();
            let mut got = Vec::new();
            read_export(*d, &out[..], |item| {
                match item {
                    Item::App(a) => app = a,
                    Item::Record(r) => got.push(r),
                }
                Ok(())
            })
            .unwrap();
            assert_eq!(app, "IdeationBlog", "{d}");
            assert_eq!(got, recs, "{d}");
            // Another dialect's reader refuses it, naming both roots.
            let other = ALL[(ALL.iter().position(|x| x == d).unwrap() + 1) % ALL.len()];
            let err = read_export(other, &out[..], |_| Ok(())).unwrap_err();
            assert!(
                format!("{err:#}").contains("the root element is <"),
                "{d}: {err:#}"
            );
        }
    }

    #[test]
    fn report_text_uses_each_dialects_entities() {
        let s = "Diseño – 東京 & <x>";
        assert_eq!(
            html_text(Dialect::Lcsim, s),
            "Diseño – 東京 &amp; &lt;x&gt;"
        );
        assert_eq!(
            html_text(Dialect::Classic, s),
            "Dise&ntilde;o &ndash; &#26481;&#20140; &amp; &lt;x&gt;"
        );
        assert_eq!(
            html_text(Dialect::Compact, s),
            "Dise&#xF1;o &#x2013; &#x6771;&#x4EAC; &amp; &lt;x&gt;"
        );
    }
}
