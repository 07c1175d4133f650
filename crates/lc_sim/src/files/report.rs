//! The HTML sync reports of `generateSyncReports`, written a row at a time in the cell's
//! dialect.

use std::io::Write;

use lc_core::apps::App;
use lc_core::formats::export as x;
use lc_core::formats::report::{self, Column};

use crate::dialect::{Dialect, Kind, Value};
use crate::truth::{Difference, Orphan};
use crate::util::escape;

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
pub(super) fn html_text(dialect: Dialect, s: &str) -> String {
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
