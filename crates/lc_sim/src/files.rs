//! The two file layouts the cell writes, both ours and labelled so (lc_core::formats): the export
//! XML of `exportSyncedResourceInfo` (written and read streaming, so a million resources is fine)
//! and the HTML sync reports of `generateSyncReports`. This is the one writer of each.

use std::io::{BufRead, Write};

use anyhow::{bail, Context as _, Result};
use lc_core::formats::{self, export as x, report};
use quick_xml::events::Event;

use crate::model::Copy;
use crate::util::escape;

/// One record of an export: a resource, its community and the app's copy of that community.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub id: String,
    pub community_uuid: String,
    pub copy: Copy,
}

/// Writes an export, one record at a time; returns how many were written.
pub fn write_export<W: Write>(
    mut w: W,
    app: &str,
    records: impl Iterator<Item = Record>,
) -> std::io::Result<u64> {
    writeln!(w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>")?;
    writeln!(w, "<!-- {} -->", x::SIMULATED_NOTE)?;
    writeln!(
        w,
        "<{} {}=\"{}\" {}=\"community\">",
        x::ROOT,
        x::ATTR_APPLICATION,
        escape(app),
        x::ATTR_RESOURCE_TYPE
    )?;
    let mut n = 0;
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
    w.flush()?;
    Ok(n)
}

/// What an export holds, in order: the application id (of the root), then the records.
#[derive(Debug)]
pub enum Item {
    App(String),
    Record(Record),
}

/// Reads an export streaming, calling `each` for every item.
pub fn read_export<R: BufRead>(input: R, mut each: impl FnMut(Item) -> Result<()>) -> Result<()> {
    let mut reader = quick_xml::Reader::from_reader(input);
    reader.config_mut().trim_text(true);
    let mut buf = Vec::new();
    let mut saw_root = false;
    let mut current: Option<Record> = None;
    loop {
        let ev = reader
            .read_event_into(&mut buf)
            .with_context(|| format!("malformed XML at byte {}", reader.buffer_position()))?;
        match ev {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let name = e.name();
                let name = name.as_ref();
                let attr = |key: &str| -> Result<Option<String>> {
                    for a in e.attributes() {
                        let a = a?;
                        if a.key.as_ref() == key.as_bytes() {
                            return Ok(Some(a.unescape_value()?.into_owned()));
                        }
                    }
                    Ok(None)
                };
                if name == x::ROOT.as_bytes() {
                    let app = attr(x::ATTR_APPLICATION)?
                        .context("the root element has no application attribute")?;
                    each(Item::App(app))?;
                    saw_root = true;
                } else if name == x::RESOURCE.as_bytes() {
                    current = Some(Record {
                        id: attr(x::ATTR_ID)?.unwrap_or_default(),
                        community_uuid: attr(x::ATTR_COMMUNITY_UUID)?.unwrap_or_default(),
                        copy: Copy {
                            name: String::new(),
                            visibility: String::new(),
                            moderation: String::new(),
                            theme: String::new(),
                        },
                    });
                    if matches!(ev, Event::Empty(_)) {
                        if let Some(r) = current.take() {
                            each(Item::Record(r))?;
                        }
                    }
                } else if name == x::COMMUNITY.as_bytes() {
                    if let Some(r) = current.as_mut() {
                        for f in formats::FIELDS {
                            if let Some(v) = attr(f)? {
                                r.copy.set_field(f, v);
                            }
                        }
                    }
                }
            }
            Event::End(ref e) if e.name().as_ref() == x::RESOURCE.as_bytes() => {
                if let Some(r) = current.take() {
                    each(Item::Record(r))?;
                }
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    if !saw_root {
        bail!("not an export: no <{}> element", x::ROOT);
    }
    Ok(())
}

/// One HTML sync report being written, a row at a time (`columns` from lc_core::formats::report).
pub struct ReportWriter<W: Write> {
    w: W,
    rows: u64,
}

impl<W: Write> ReportWriter<W> {
    /// Writes the head of the page and the header row.
    pub fn new(mut w: W, title: &str, columns: &[report::Column]) -> std::io::Result<Self> {
        writeln!(w, "<!DOCTYPE html>")?;
        writeln!(w, "<html lang=\"en\">\n<head>\n<meta charset=\"UTF-8\">")?;
        writeln!(w, "<title>{}</title>\n</head>\n<body>", escape(title))?;
        writeln!(w, "<!-- {} -->", x::SIMULATED_NOTE)?;
        writeln!(
            w,
            "<p class=\"lc-sim-note\">{}</p>",
            escape(x::SIMULATED_NOTE)
        )?;
        writeln!(w, "<h1>{}</h1>", escape(title))?;
        writeln!(w, "<table border=\"1\">")?;
        write!(w, "<tr>")?;
        for c in columns {
            write!(w, "<th>{}</th>", escape(report::label(*c)))?;
        }
        writeln!(w, "</tr>")?;
        Ok(ReportWriter { w, rows: 0 })
    }

    pub fn row<S: AsRef<str>>(&mut self, cells: &[S]) -> std::io::Result<()> {
        write!(self.w, "<tr>")?;
        for cell in cells {
            write!(self.w, "<td>{}</td>", escape(cell.as_ref()))?;
        }
        writeln!(self.w, "</tr>")?;
        self.rows += 1;
        Ok(())
    }

    /// Closes the page; returns the number of rows.
    pub fn finish(mut self) -> std::io::Result<u64> {
        writeln!(self.w, "</table>\n</body>\n</html>")?;
        self.w.flush()?;
        Ok(self.rows)
    }
}

/// Writes one whole HTML sync report from its rows; returns the number of rows.
pub fn write_report<W: Write>(
    w: W,
    title: &str,
    columns: &[report::Column],
    rows: impl Iterator<Item = Vec<String>>,
) -> std::io::Result<u64> {
    let mut r = ReportWriter::new(w, title, columns)?;
    for row in rows {
        r.row(&row)?;
    }
    r.finish()
}

/// The title of an application's differences / orphans report.
pub fn differences_title(app: &str) -> String {
    format!("{app}: communities that differ between Communities and {app}")
}

pub fn orphans_title(app: &str) -> String {
    format!("{app}: remote application resources without their community")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn export_round_trips_with_awkward_text() {
        let recs = vec![
            Record {
                id: "a&b".into(),
                community_uuid: "u1".into(),
                copy: Copy {
                    name: "R&D <\"team\"> 'x'".into(),
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
        let mut out = Vec::new();
        assert_eq!(
            write_export(&mut out, "IdeationBlog", recs.clone().into_iter()).unwrap(),
            2
        );
        let text = String::from_utf8(out.clone()).unwrap();
        assert!(text.contains(x::SIMULATED_NOTE));
        let mut app = String::new();
        let mut got = Vec::new();
        read_export(&out[..], |item| {
            match item {
                Item::App(a) => app = a,
                Item::Record(r) => got.push(r),
            }
            Ok(())
        })
        .unwrap();
        assert_eq!(app, "IdeationBlog");
        assert_eq!(got, recs);
    }
}
