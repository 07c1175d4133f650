//! Tags: start tags with their attribute values judged, and the elements they open and close
//! (HTML's void elements, its omitted end tags, the tables).

use std::io::Write;

use crate::encoding;

use super::*;

/// HTML attributes whose values are presentation, never a person's: kept (UUIDs and e-mail
/// addresses in them are still replaced).
const PRESENTATION: &[&str] = &[
    "class",
    "style",
    "width",
    "height",
    "border",
    "align",
    "valign",
    "colspan",
    "rowspan",
    "bgcolor",
    "color",
    "cellpadding",
    "cellspacing",
    "charset",
    "lang",
    "dir",
    "type",
    "http-equiv",
    "rel",
    "media",
    "nowrap",
    "scope",
    "span",
    "face",
    "size",
    "frame",
    "rules",
    "background",
    "version",
];

/// HTML elements that hold no content.
const VOID: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
    "track", "wbr",
];

impl<W: Write> Rewriter<'_, W> {
    /// A start tag with its attribute values judged.
    pub(super) fn start_tag(
        &mut self,
        tok: &[u8],
        name: &str,
        attrs: &[Attr],
        line: usize,
    ) -> Result<Vec<u8>, Fail> {
        let elem = local(name).to_string();
        let mut out = Vec::with_capacity(tok.len());
        let mut last = 0;
        let mut meta_charset = None;
        for a in attrs {
            let Some((s, e)) = a.value else { continue };
            let raw = &tok[s..e];
            let lower = a.name.to_ascii_lowercase();
            out.extend_from_slice(&tok[last..s]);
            last = e;
            let xml_meta = self.mode == Mode::Xml
                && (lower == "xmlns"
                    || lower.starts_with("xmlns:")
                    || lower.starts_with("xml:")
                    || lower.starts_with("xsi:"));
            if self.mode == Mode::Html && elem.eq_ignore_ascii_case("meta") {
                let v = self.read_value(raw, Ctx::Attr, line)?;
                if lower == "charset" {
                    meta_charset = Some(v.clone());
                } else if lower == "content" {
                    if let Some(c) = encoding::charset_of_content(&v) {
                        meta_charset.get_or_insert(c);
                    }
                }
            }
            let presentation = self.mode == Mode::Html && PRESENTATION.contains(&lower.as_str());
            if xml_meta {
                out.extend_from_slice(raw);
            } else if presentation {
                self.read_value(raw, Ctx::Attr, line)?;
                match self.p.replace_ids(raw) {
                    Some(new) => {
                        self.stats.replaced += 1;
                        out.extend_from_slice(&new);
                    }
                    None => out.extend_from_slice(raw),
                }
            } else {
                let hint = format!("{elem} {}", local(&a.name));
                let v = self.value(raw, &hint, Ctx::Attr, line)?;
                out.extend_from_slice(&v);
            }
        }
        out.extend_from_slice(&tok[last..]);
        if let Some(c) = meta_charset {
            self.declare(&c, "the <meta> charset", line)?;
        }
        Ok(out)
    }

    pub(super) fn open(
        &mut self,
        name: &str,
        empty: bool,
        raw: Vec<u8>,
        line: usize,
    ) -> Result<(), Fail> {
        if self.mode == Mode::Xml {
            if self.stack.is_empty() && self.seen_root {
                return Err(Fail::At(
                    line,
                    "not well-formed XML: a second root element".to_string(),
                ));
            }
            self.seen_root = true;
            self.out.write_all(&raw)?;
            if !empty {
                if self.stack.len() >= MAX_DEPTH {
                    return Err(Fail::At(
                        line,
                        format!("elements nested deeper than {MAX_DEPTH}"),
                    ));
                }
                self.stack.push(name.to_string());
            }
            return Ok(());
        }
        let lower = name.to_ascii_lowercase();
        match lower.as_str() {
            "table" => {
                // A row that holds a table is not a header row; what it holds so far goes out
                // first, then the inner table streams.
                if let Some(row) = self.tables.last_mut().and_then(|t| t.row.as_mut()) {
                    row.header.get_or_insert(false);
                    self.flush_row(line)?;
                }
                self.out.write_all(&raw)?;
                self.tables.push(Table::default());
                return Ok(());
            }
            "tr" if !self.tables.is_empty() => {
                self.close_row(line)?;
                self.tables.last_mut().expect("a table").row = Some(Row::default());
                return self.emit(raw, line);
            }
            "td" | "th" if !self.tables.is_empty() => {
                self.close_cell(line)?;
                let t = self.tables.last_mut().expect("a table");
                let row = t.row.get_or_insert_with(Row::default);
                row.cells.push(lower == "th");
                row.cur = Some(row.cells.len() - 1);
                return self.emit(raw, line);
            }
            "thead" | "tbody" | "tfoot" if !self.tables.is_empty() => {
                self.close_row(line)?;
                self.tables.last_mut().expect("a table").head = lower == "thead";
                return self.emit(raw, line);
            }
            _ => {}
        }
        self.emit(raw, line)?;
        if !empty && !VOID.contains(&lower.as_str()) && self.stack.len() < MAX_DEPTH {
            self.stack.push(lower);
        }
        Ok(())
    }

    pub(super) fn close(&mut self, name: &str, raw: Vec<u8>, line: usize) -> Result<(), Fail> {
        if self.mode == Mode::Xml {
            match self.stack.pop() {
                Some(open) if open == name => {}
                Some(open) => {
                    return Err(Fail::At(
                        line,
                        format!("not well-formed XML: </{name}> closes <{open}>"),
                    ))
                }
                None => {
                    return Err(Fail::At(
                        line,
                        format!("not well-formed XML: </{name}> closes nothing"),
                    ))
                }
            }
            self.out.write_all(&raw)?;
            return Ok(());
        }
        let lower = name.to_ascii_lowercase();
        if !self.tables.is_empty() {
            match lower.as_str() {
                "table" => {
                    self.close_row(line)?;
                    self.tables.pop();
                    return self.emit(raw, line);
                }
                "tr" => {
                    self.close_row(line)?;
                    return self.emit(raw, line);
                }
                "td" | "th" => {
                    self.emit(raw, line)?;
                    return self.close_cell(line);
                }
                "thead" | "tbody" | "tfoot" => {
                    self.close_row(line)?;
                    self.tables.last_mut().expect("a table").head = false;
                    return self.emit(raw, line);
                }
                _ => {}
            }
        }
        self.emit(raw, line)?;
        if let Some(at) = self.stack.iter().rposition(|o| *o == lower) {
            self.stack.truncate(at);
        }
        Ok(())
    }
}
