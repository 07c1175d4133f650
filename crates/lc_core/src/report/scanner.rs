//! The tokenizer: tags, comments, declarations and raw text read through the buffer, tables
//! opened and closed, the text of the open cell kept.

use super::input::{fill, simple_tag, Input, Tag, TagEnd};
use super::{DEPTH_LIMIT, MAX_WANTED, ROW_LIMIT};

use crate::error::{Error, Result};
use crate::formats::report::Column;
use std::io::{BufRead, Read};
use std::path::Path;

/// One open table: its current row and, once found, where its wanted columns are.
#[derive(Default)]
pub(super) struct Table {
    pub(super) opened_line: usize,
    pub(super) row_open: bool,
    pub(super) row_line: usize,
    pub(super) row_bytes: usize,
    pub(super) cell_open: bool,
    /// The raw text of the open cell.
    pub(super) raw: Vec<u8>,
    /// The decoded cells of the current row; only the first `ncells` are this row's.
    pub(super) cells: Vec<String>,
    pub(super) ncells: usize,
    /// For each wanted column, its index in a row (`usize::MAX`: an optional column it lacks).
    pub(super) header: Option<[usize; MAX_WANTED]>,
    /// For each wanted column, its header cell folded ([`label_key`]), to pass over the header
    /// row where it is repeated.
    pub(super) header_keys: Vec<String>,
    /// For each wanted column, its header cell as printed, for messages.
    pub(super) header_labels: Vec<String>,
}

impl Table {
    /// Makes a table taken from the pool new again, keeping its buffers.
    fn reset(&mut self, opened_line: usize) {
        self.opened_line = opened_line;
        self.row_open = false;
        self.row_line = opened_line;
        self.row_bytes = 0;
        self.cell_open = false;
        self.raw.clear();
        self.ncells = 0;
        self.header = None;
    }
}

/// The closest thing to a header row seen, for the error when none matches.
pub(super) struct Closest {
    pub(super) matched: usize,
    pub(super) line: usize,
    pub(super) cells: Vec<String>,
    pub(super) missing: Vec<usize>,
}

/// A header row's match: for each wanted column, its index in the row, or why there is none.
pub(super) enum Header {
    Found([usize; MAX_WANTED]),
    /// The wanted columns (by index) that no cell's label names.
    Missing(Vec<usize>),
}

pub(super) struct Scanner<'a, R, F> {
    pub(super) input: Input<R>,
    pub(super) name: &'a Path,
    pub(super) wanted: &'a [Column],
    /// The label of each wanted column named in messages.
    pub(super) labels: Vec<&'a str>,
    /// Each wanted column's labels, folded, with their rank ([`label_keys`]).
    pub(super) keys: Vec<Vec<(usize, String)>>,
    pub(super) tables: Vec<Table>,
    pub(super) pool: Vec<Table>,
    pub(super) html_open: bool,
    pub(super) html_closed: bool,
    pub(super) saw_tag: bool,
    pub(super) header_found: bool,
    pub(super) best: Option<Closest>,
    pub(super) rows: u64,
    pub(super) f: F,
}

impl<R: Read, F: FnMut(&[Option<&str>], usize) -> Result<()>> Scanner<'_, R, F> {
    pub(super) fn run(&mut self) -> Result<u64> {
        loop {
            let buf = fill(&mut self.input.r).map_err(|e| Error::io(self.name, e))?;
            if buf.is_empty() {
                return self.finish();
            }
            // Text up to the next `<` goes to the open cell, if any.
            let lt = buf.iter().position(|&b| b == b'<');
            let text = &buf[..lt.unwrap_or(buf.len())];
            if let Some(t) = self.tables.last_mut() {
                if t.cell_open {
                    t.raw.extend_from_slice(text);
                }
            }
            self.input.line += text.iter().filter(|&&b| b == b'\n').count();
            let Some(lt) = lt else {
                let n = buf.len();
                self.input.r.consume(n);
                self.input.bytes += n as u64;
                self.check_row_size()?;
                continue;
            };
            // A tag without attributes, whole in the buffer (`<td>`, `</tr>`…), is handled here;
            // anything else goes the general way.
            let simple = simple_tag(&buf[lt..]);
            let used = lt + simple.map_or(1, |(_, _, len)| len);
            self.input.r.consume(used);
            self.input.bytes += used as u64;
            self.check_row_size()?;
            match simple {
                Some((tag, false, _)) => {
                    self.saw_tag = true;
                    let line = self.input.line;
                    self.start_tag(tag, line)?;
                    if let Some(name) = tag.raw_text() {
                        self.skip_raw_text(name)?;
                    }
                }
                Some((tag, true, _)) => {
                    self.saw_tag = true;
                    self.end_tag(tag)?;
                }
                None => self.markup()?,
            }
        }
    }

    fn io(&self, e: std::io::Error) -> Error {
        Error::io(self.name, e)
    }

    pub(super) fn error(&self, line: usize, message: impl Into<String>) -> Error {
        Error::parse(self.name, line, message)
    }

    pub(super) fn truncated(&self, inside: &str) -> Error {
        self.error(
            self.input.line,
            format!("truncated report: the file ends inside {inside}"),
        )
    }

    fn check_row_size(&self) -> Result<()> {
        if let Some(t) = self.tables.last() {
            if t.row_bytes + t.raw.len() > ROW_LIMIT {
                return Err(self.error(
                    t.row_line,
                    format!(
                        "a table row holds more than {} MiB of text, not a report row",
                        ROW_LIMIT >> 20
                    ),
                ));
            }
        }
        Ok(())
    }

    /// After a `<`: a tag, a comment, a declaration, or a `<` that is text.
    fn markup(&mut self) -> Result<()> {
        let line = self.input.line;
        match self.input.peek().map_err(|e| self.io(e))? {
            Some(b'/') => {
                self.input.next().map_err(|e| self.io(e))?;
                match self.input.peek().map_err(|e| self.io(e))? {
                    Some(c) if c.is_ascii_alphabetic() => {
                        let tag = self.read_name()?;
                        self.skip_tag()?;
                        self.saw_tag = true;
                        self.end_tag(tag)
                    }
                    None => Err(self.truncated("a tag")),
                    Some(_) => self.skip_to_gt("a tag"),
                }
            }
            Some(b'!') => {
                self.input.next().map_err(|e| self.io(e))?;
                self.saw_tag = true;
                if self.input.peek().map_err(|e| self.io(e))? == Some(b'-') {
                    self.input.next().map_err(|e| self.io(e))?;
                    if self.input.peek().map_err(|e| self.io(e))? == Some(b'-') {
                        self.input.next().map_err(|e| self.io(e))?;
                        return self.skip_comment();
                    }
                }
                self.skip_to_gt("a declaration")
            }
            Some(b'?') => self.skip_to_gt("a processing instruction"),
            Some(c) if c.is_ascii_alphabetic() => {
                let tag = self.read_name()?;
                self.skip_tag()?;
                self.saw_tag = true;
                self.start_tag(tag, line)?;
                if let Some(name) = tag.raw_text() {
                    self.skip_raw_text(name)?;
                }
                Ok(())
            }
            _ => {
                if let Some(t) = self.tables.last_mut() {
                    if t.cell_open {
                        t.raw.push(b'<');
                    }
                }
                Ok(())
            }
        }
    }

    /// Reads a tag name, lower-cased.
    fn read_name(&mut self) -> Result<Tag> {
        let mut name = [0u8; 10];
        let len = self.input.read_name(&mut name).map_err(|e| self.io(e))?;
        Ok(name.get(..len).map_or(Tag::Other, Tag::of))
    }

    /// Skips the rest of a tag (attributes, quoted values) through its `>`.
    fn skip_tag(&mut self) -> Result<()> {
        match self.input.skip_tag().map_err(|e| self.io(e))? {
            TagEnd::Closed => Ok(()),
            TagEnd::EofInTag => Err(self.truncated("a tag")),
            TagEnd::EofInValue => Err(self.truncated("an attribute value")),
        }
    }

    fn skip_to_gt(&mut self, what: &str) -> Result<()> {
        if self.input.skip_until(b'>', None).map_err(|e| self.io(e))? {
            Ok(())
        } else {
            Err(self.truncated(what))
        }
    }

    /// Skips a comment's text through `-->`.
    fn skip_comment(&mut self) -> Result<()> {
        loop {
            if !self.input.skip_until(b'-', None).map_err(|e| self.io(e))? {
                return Err(self.truncated("a comment"));
            }
            if self.input.peek().map_err(|e| self.io(e))? == Some(b'-') {
                while self.input.peek().map_err(|e| self.io(e))? == Some(b'-') {
                    self.input.next().map_err(|e| self.io(e))?;
                }
                if self.input.peek().map_err(|e| self.io(e))? == Some(b'>') {
                    self.input.next().map_err(|e| self.io(e))?;
                    return Ok(());
                }
            }
        }
    }

    /// Skips the raw text of a script, style, title or textarea through its end tag.
    fn skip_raw_text(&mut self, name: &[u8]) -> Result<()> {
        'search: loop {
            if !self.input.skip_until(b'<', None).map_err(|e| self.io(e))? {
                return Err(
                    self.truncated(&format!("a <{}> element", String::from_utf8_lossy(name)))
                );
            }
            if self.input.peek().map_err(|e| self.io(e))? != Some(b'/') {
                continue;
            }
            self.input.next().map_err(|e| self.io(e))?;
            for &want in name {
                match self.input.peek().map_err(|e| self.io(e))? {
                    Some(c) if c.to_ascii_lowercase() == want => {
                        self.input.next().map_err(|e| self.io(e))?;
                    }
                    _ => continue 'search,
                }
            }
            match self.input.peek().map_err(|e| self.io(e))? {
                Some(c) if c == b'>' || c == b'/' || c.is_ascii_whitespace() => {
                    return self.skip_tag()
                }
                _ => continue,
            }
        }
    }

    fn start_tag(&mut self, tag: Tag, line: usize) -> Result<()> {
        match tag {
            Tag::Html => self.html_open = true,
            Tag::Table => {
                if self.tables.len() >= DEPTH_LIMIT {
                    return Err(
                        self.error(line, format!("tables nested more than {DEPTH_LIMIT} deep"))
                    );
                }
                let mut t = self.pool.pop().unwrap_or_default();
                t.reset(line);
                self.tables.push(t);
            }
            Tag::Tr => {
                self.end_row()?;
                if let Some(t) = self.tables.last_mut() {
                    t.row_open = true;
                    t.row_line = line;
                }
            }
            Tag::Td | Tag::Th => {
                self.end_cell()?;
                if let Some(t) = self.tables.last_mut() {
                    if !t.row_open {
                        t.row_open = true;
                        t.row_line = line;
                    }
                    t.cell_open = true;
                    t.raw.clear();
                }
            }
            Tag::Thead | Tag::Tbody | Tag::Tfoot => self.end_row()?,
            Tag::Br | Tag::Block => self.space(),
            _ => {}
        }
        Ok(())
    }

    fn end_tag(&mut self, tag: Tag) -> Result<()> {
        match tag {
            Tag::Html => self.html_closed = true,
            Tag::Table if !self.tables.is_empty() => {
                self.end_row()?;
                if let Some(t) = self.tables.pop() {
                    self.pool.push(t);
                }
            }
            Tag::Tr | Tag::Thead | Tag::Tbody | Tag::Tfoot => self.end_row()?,
            Tag::Td | Tag::Th => self.end_cell()?,
            Tag::Br | Tag::Block => self.space(),
            _ => {}
        }
        Ok(())
    }

    /// A tag inside a cell that separates words.
    fn space(&mut self) {
        if let Some(t) = self.tables.last_mut() {
            if t.cell_open {
                t.raw.push(b' ');
            }
        }
    }
}
