//! The copying itself: a small streaming tokenizer for XML and for HTML as old Java code writes
//! it, and the rewriter that sends every byte of markup through unchanged and judges only values
//! (attribute values, text, comments, CDATA) through [`crate::pseudonym`].
//!
//! Reading is through a fixed buffer; what is held at once is one token (a tag, a text) and, in
//! HTML, one table row: never the file. HTML tables are where labels are: a row is a header row
//! (its cells are labels, kept as they are) when it is inside `<thead>`, when all its cells are
//! `<th>`, or when it is the first row of its table and no cell of it holds a UUID or an e-mail
//! address; a label cell that does hold one is judged as a value. Each data cell is judged as
//! one value (its text pieces together, as a reader sees the cell), with its column's label as
//! the hint for the pseudonym's word.

mod escape;
mod input;
mod lexer;
mod table;
mod tags;

use escape::{framed, quick_unescape};
use input::Input;
use lexer::{Attr, Lexer, Tok};
use table::{Piece, Row, Table};

use std::borrow::Cow;
use std::io::{Read, Write};

use crate::encoding::{self, Encoding};
use crate::pseudonym::{collapse, Pseudonyms, Verdict};

/// Size of the read buffer.
const READ_BUFFER: usize = 64 * 1024;
/// The longest one token (a tag, a text between two tags, a comment) may be.
const MAX_TOKEN: usize = 1 << 20;
/// The most text one buffered table row may hold before its cells are judged as they come.
const MAX_ROW: usize = 1 << 20;
/// The most distinct labels listed in [`Stats::labels`].
const MAX_LABELS: usize = 100;
/// The deepest element nesting followed.
const MAX_DEPTH: usize = 4096;

/// Which language a file is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Xml,
    Html,
}

/// A failure while copying: an I/O error, or what was wrong and on which line.
#[derive(Debug)]
pub enum Fail {
    Io(std::io::Error),
    At(usize, String),
}

impl From<std::io::Error> for Fail {
    fn from(e: std::io::Error) -> Fail {
        Fail::Io(e)
    }
}

/// What one copy did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Stats {
    /// Values replaced (whole or in part).
    pub replaced: u64,
    /// The labels of header rows kept as they are, in order of first appearance.
    pub labels: Vec<String>,
}

/// HTML elements whose content is raw text up to their end tag.
const RAW_TEXT: &[&str] = &["script", "style", "title", "textarea", "xmp"];

struct Rewriter<'p, W: Write> {
    out: W,
    p: &'p mut Pseudonyms,
    mode: Mode,
    /// The encoding in force, and what set it.
    enc: Option<(Encoding, &'static str)>,
    /// Non-ASCII bytes were read as UTF-8 before any charset was declared (HTML).
    guessed_utf8: bool,
    stack: Vec<String>,
    tables: Vec<Table>,
    seen_root: bool,
    first_token: bool,
    stats: Stats,
}

/// Copies `input` to `out` as described in the module documentation.
pub fn rewrite<R: Read, W: Write>(
    input: R,
    out: W,
    mode: Mode,
    p: &mut Pseudonyms,
) -> Result<Stats, Fail> {
    let mut lx = Lexer {
        input: Input::new(input),
        mode,
        tok: Vec::with_capacity(4096),
    };
    let mut rw = Rewriter {
        out,
        p,
        mode,
        enc: None,
        guessed_utf8: false,
        stack: Vec::new(),
        tables: Vec::new(),
        seen_root: false,
        first_token: true,
        stats: Stats::default(),
    };
    rw.start(&mut lx)?;
    loop {
        let line = lx.input.line;
        let tok = lx.next()?;
        let first = std::mem::replace(&mut rw.first_token, false);
        match tok {
            Tok::Eof => break,
            Tok::Text => {
                let raw = std::mem::take(&mut lx.tok);
                rw.text(raw, line)?;
            }
            Tok::Start { name, attrs, empty } => {
                let raw = rw.start_tag(&lx.tok, &name, &attrs, line)?;
                let lower = name.to_ascii_lowercase();
                if rw.mode == Mode::Html && !empty && RAW_TEXT.contains(&lower.as_str()) {
                    rw.emit(raw, line)?;
                    let at = lx.raw_text(&lower)?;
                    // <title> and <textarea> resolve entities; <script> and <style> do not.
                    let ctx = if matches!(lower.as_str(), "title" | "textarea") {
                        Ctx::Text
                    } else {
                        Ctx::Raw
                    };
                    let body = rw.value(&lx.tok[..at], &lower, ctx, line)?;
                    let mut bytes = body.into_owned();
                    bytes.extend_from_slice(&lx.tok[at..]);
                    rw.emit(bytes, line)?;
                } else {
                    rw.open(&name, empty, raw, line)?;
                }
            }
            Tok::End(name) => {
                let raw = lx.tok.clone();
                rw.close(&name, raw, line)?;
            }
            Tok::Comment => {
                let t = &lx.tok;
                let inner = rw.value(&t[4..t.len() - 3], "comment", Ctx::Raw, line)?;
                let mut bytes = b"<!--".to_vec();
                bytes.extend_from_slice(&inner);
                bytes.extend_from_slice(b"-->");
                rw.emit(bytes, line)?;
            }
            Tok::Cdata => {
                let t = &lx.tok;
                let hint = rw.stack.last().cloned().unwrap_or_default();
                let inner = rw.value(&t[9..t.len() - 3], &hint, Ctx::Raw, line)?;
                let mut bytes = b"<![CDATA[".to_vec();
                bytes.extend_from_slice(&inner);
                bytes.extend_from_slice(b"]]>");
                rw.emit(bytes, line)?;
            }
            Tok::Pi => {
                if first && lx.tok.starts_with(b"<?xml") {
                    if let Some(label) = encoding::xml_declared(&lx.tok) {
                        rw.declare(&label, "the XML declaration", line)?;
                    }
                }
                let raw = lx.tok.clone();
                rw.emit(raw, line)?;
            }
            Tok::Doctype => {
                let raw = lx.tok.clone();
                rw.emit(raw, line)?;
            }
        }
    }
    rw.finish(lx.input.line)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Ctx {
    /// An attribute value: entities resolved.
    Attr,
    /// Text content: entities resolved.
    Text,
    /// Comment, CDATA, script: no entities.
    Raw,
}

impl<W: Write> Rewriter<'_, W> {
    /// The byte-order mark, or the refusal of encodings that are not ASCII-compatible.
    fn start<R: Read>(&mut self, lx: &mut Lexer<R>) -> Result<(), Fail> {
        let b: Vec<Option<u8>> = (0..4)
            .map(|i| lx.input.peek_at(i))
            .collect::<std::io::Result<_>>()?;
        match (b[0], b[1], b[2]) {
            (Some(0xef), Some(0xbb), Some(0xbf)) => {
                let mut bom = Vec::new();
                for _ in 0..3 {
                    lx.input.bump(&mut bom)?;
                }
                self.out.write_all(&bom)?;
                self.enc = Some((Encoding::Utf8, "the byte-order mark"));
            }
            (Some(0xff), Some(0xfe), _) | (Some(0xfe), Some(0xff), _) => {
                return Err(Fail::At(
                    1,
                    format!(
                        "the file is UTF-16 (byte-order mark); lc-anonymize reads {}",
                        encoding::SUPPORTED
                    ),
                ))
            }
            _ if b.contains(&Some(0)) => {
                return Err(Fail::At(
                    1,
                    format!(
                    "NUL bytes: the file is UTF-16 or UTF-32, or not text; lc-anonymize reads {}",
                    encoding::SUPPORTED
                ),
                ))
            }
            _ => {}
        }
        if self.mode == Mode::Xml && self.enc.is_none() {
            // XML without a declaration (or before it is read) is UTF-8.
            self.enc = Some((Encoding::Utf8, "XML's default"));
        }
        Ok(())
    }

    fn declare(&mut self, label: &str, by: &'static str, line: usize) -> Result<(), Fail> {
        let Some(enc) = Encoding::from_label(label) else {
            return Err(Fail::At(
                line,
                format!(
                    "{by} names the encoding {label:?}, which lc-anonymize does not read (it reads {})",
                    encoding::SUPPORTED
                ),
            ));
        };
        match self.enc {
            Some((Encoding::Utf8, "XML's default")) => {}
            Some((e, _)) if e == enc => return Ok(()),
            Some((e, what)) => {
                return Err(Fail::At(
                    line,
                    format!("{by} says {label}, but {what} said {e:?}: unsure of the encoding"),
                ))
            }
            None if self.guessed_utf8 && enc != Encoding::Utf8 => {
                return Err(Fail::At(
                    line,
                    format!(
                        "{by} says {label} after non-ASCII text was met: unsure of the encoding"
                    ),
                ))
            }
            None => {}
        }
        self.enc = Some((enc, by));
        Ok(())
    }

    fn decode<'a>(&mut self, raw: &'a [u8], line: usize) -> Result<Cow<'a, str>, Fail> {
        match self.enc {
            Some((e, by)) => e
                .decode(raw)
                .map_err(|why| Fail::At(line, format!("{why} (the encoding is from {by})"))),
            None => match std::str::from_utf8(raw) {
                Ok(s) => {
                    self.guessed_utf8 |= !raw.is_ascii();
                    Ok(Cow::Borrowed(s))
                }
                Err(_) => Err(Fail::At(
                    line,
                    "bytes that are not UTF-8 and no charset is declared: unsure of the encoding"
                        .to_string(),
                )),
            },
        }
    }

    /// The value as a reader sees it: decoded, entities resolved, white space collapsed.
    fn read_value(&mut self, raw: &[u8], ctx: Ctx, line: usize) -> Result<String, Fail> {
        let text = self.decode(raw, line)?;
        let text = match (ctx, self.mode) {
            (Ctx::Raw, _) => text,
            (Ctx::Attr, Mode::Xml) if text.contains('<') => {
                return Err(Fail::At(
                    line,
                    "not well-formed XML: '<' in an attribute value".to_string(),
                ))
            }
            (_, Mode::Xml) => match quick_unescape(&text) {
                Ok(s) => Cow::Owned(s.into_owned()),
                Err(why) => return Err(Fail::At(line, format!("not well-formed XML: {why}"))),
            },
            (_, Mode::Html) => Cow::Owned(html_escape::decode_html_entities(&text).into_owned()),
        };
        Ok(collapse(&text).into_owned())
    }

    /// The bytes a value becomes.
    fn value<'a>(
        &mut self,
        raw: &'a [u8],
        hint: &str,
        ctx: Ctx,
        line: usize,
    ) -> Result<Cow<'a, [u8]>, Fail> {
        let read = self.read_value(raw, ctx, line)?;
        let verdict = self.p.judge(&read, hint);
        self.apply(raw, verdict, ctx, line)
    }

    fn apply<'a>(
        &mut self,
        raw: &'a [u8],
        verdict: Verdict,
        ctx: Ctx,
        line: usize,
    ) -> Result<Cow<'a, [u8]>, Fail> {
        match verdict {
            Verdict::Keep => Ok(Cow::Borrowed(raw)),
            Verdict::Whole(text) => {
                self.stats.replaced += 1;
                Ok(Cow::Owned(framed(raw, &text, ctx)))
            }
            Verdict::InPlace(text) => {
                self.stats.replaced += 1;
                if let Some(new) = self.p.replace_ids(raw) {
                    if self.read_value(&new, ctx, line).ok().as_deref() == Some(text.as_str()) {
                        return Ok(Cow::Owned(new));
                    }
                }
                Ok(Cow::Owned(framed(raw, &text, ctx)))
            }
        }
    }

    /// Sends bytes to the open table row, or out.
    fn emit(&mut self, bytes: Vec<u8>, line: usize) -> Result<(), Fail> {
        if let Some(row) = self.tables.last_mut().and_then(|t| t.row.as_mut()) {
            row.bytes += bytes.len();
            row.pieces.push(Piece::Raw(bytes));
            if row.bytes > MAX_ROW {
                self.flush_row(line)?;
            }
            return Ok(());
        }
        self.out.write_all(&bytes)?;
        Ok(())
    }

    fn text(&mut self, raw: Vec<u8>, line: usize) -> Result<(), Fail> {
        if self.mode == Mode::Xml && self.stack.is_empty() {
            if self.read_value(&raw, Ctx::Raw, line)?.is_empty() {
                self.out.write_all(&raw)?;
                return Ok(());
            }
            return Err(Fail::At(
                line,
                if self.seen_root {
                    "not well-formed XML: text after the root element"
                } else {
                    "not an XML document: text before the root element"
                }
                .to_string(),
            ));
        }
        if let Some(row) = self.tables.last_mut().and_then(|t| t.row.as_mut()) {
            row.bytes += raw.len();
            row.pieces.push(Piece::Text {
                cell: row.cur,
                raw,
                line,
            });
            if row.bytes > MAX_ROW {
                self.flush_row(line)?;
            }
            return Ok(());
        }
        let hint = self.stack.last().cloned().unwrap_or_default();
        let bytes = self.value(&raw, &hint, Ctx::Text, line)?.into_owned();
        self.out.write_all(&bytes)?;
        Ok(())
    }

    fn finish(mut self, line: usize) -> Result<Stats, Fail> {
        if self.mode == Mode::Xml {
            if let Some(open) = self.stack.last() {
                return Err(Fail::At(
                    line,
                    format!("truncated: the file ends inside <{open}>"),
                ));
            }
            if !self.seen_root {
                return Err(Fail::At(
                    line,
                    "not an XML document: no root element".into(),
                ));
            }
        }
        while !self.tables.is_empty() {
            self.close_row(line)?;
            self.tables.pop();
        }
        self.out.flush()?;
        Ok(self.stats)
    }
}

/// A name without its namespace prefix.
fn local(name: &str) -> &str {
    name.rsplit(':').next().unwrap_or(name)
}
