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

// ---------------------------------------------------------------------------------------------
// Input

struct Input<R> {
    r: R,
    buf: Vec<u8>,
    pos: usize,
    end: usize,
    eof: bool,
    line: usize,
}

impl<R: Read> Input<R> {
    fn new(r: R) -> Self {
        Input {
            r,
            buf: vec![0; READ_BUFFER],
            pos: 0,
            end: 0,
            eof: false,
            line: 1,
        }
    }

    /// The byte `i` places ahead, reading more when needed.
    fn peek_at(&mut self, i: usize) -> std::io::Result<Option<u8>> {
        while self.pos + i >= self.end && !self.eof {
            if self.pos > 0 {
                self.buf.copy_within(self.pos..self.end, 0);
                self.end -= self.pos;
                self.pos = 0;
            }
            match self.r.read(&mut self.buf[self.end..]) {
                Ok(0) => self.eof = true,
                Ok(n) => self.end += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok((self.pos + i < self.end).then(|| self.buf[self.pos + i]))
    }

    fn peek(&mut self) -> std::io::Result<Option<u8>> {
        self.peek_at(0)
    }

    /// Moves one byte into `tok`.
    fn bump(&mut self, tok: &mut Vec<u8>) -> std::io::Result<Option<u8>> {
        let b = self.peek()?;
        if let Some(b) = b {
            self.pos += 1;
            if b == b'\n' {
                self.line += 1;
            }
            tok.push(b);
        }
        Ok(b)
    }

    /// Moves bytes into `tok` up to (not including) the next `<`, or the end.
    fn text(&mut self, tok: &mut Vec<u8>) -> Result<(), Fail> {
        loop {
            if self.peek()?.is_none() {
                return Ok(());
            }
            let avail = &self.buf[self.pos..self.end];
            let n = memchr::memchr(b'<', avail).unwrap_or(avail.len());
            self.line += memchr::memchr_iter(b'\n', &avail[..n]).count();
            tok.extend_from_slice(&avail[..n]);
            self.pos += n;
            if tok.len() > MAX_TOKEN {
                return Err(Fail::At(
                    self.line,
                    format!("a text of more than {MAX_TOKEN} bytes without markup"),
                ));
            }
            if self.pos < self.end {
                return Ok(());
            }
        }
    }

    /// Moves bytes into `tok` up to and including the next `byte`; false at the end of the file.
    fn through(&mut self, tok: &mut Vec<u8>, byte: u8) -> Result<bool, Fail> {
        loop {
            if self.peek()?.is_none() {
                return Ok(false);
            }
            let avail = &self.buf[self.pos..self.end];
            let (n, found) = match memchr::memchr(byte, avail) {
                Some(i) => (i + 1, true),
                None => (avail.len(), false),
            };
            self.line += memchr::memchr_iter(b'\n', &avail[..n]).count();
            tok.extend_from_slice(&avail[..n]);
            self.pos += n;
            if tok.len() > MAX_TOKEN {
                return Err(Fail::At(
                    self.line,
                    format!("a markup token of more than {MAX_TOKEN} bytes"),
                ));
            }
            if found {
                return Ok(true);
            }
        }
    }

    /// Moves bytes into `tok` until it ends with `end` (searched from `from`); false at the end
    /// of the file.
    fn until(&mut self, tok: &mut Vec<u8>, end: &[u8], from: usize) -> Result<bool, Fail> {
        loop {
            if tok.len() >= from + end.len() && tok.ends_with(end) {
                return Ok(true);
            }
            if self.bump(tok)?.is_none() {
                return Ok(false);
            }
            if tok.len() > MAX_TOKEN {
                return Err(Fail::At(
                    self.line,
                    format!("a markup token of more than {MAX_TOKEN} bytes"),
                ));
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Tokens

#[derive(Debug)]
struct Attr {
    name: String,
    /// The value's bytes in the token (inside its quotes).
    value: Option<(usize, usize)>,
}

#[derive(Debug)]
enum Tok {
    Text,
    Start {
        name: String,
        attrs: Vec<Attr>,
        empty: bool,
    },
    End(String),
    Comment,
    Cdata,
    /// `<?…?>`; the XML declaration when first.
    Pi,
    Doctype,
    Eof,
}

struct Lexer<R> {
    input: Input<R>,
    mode: Mode,
    tok: Vec<u8>,
}

fn is_name_start(b: u8, mode: Mode) -> bool {
    b.is_ascii_alphabetic() || (mode == Mode::Xml && (b == b'_' || b == b':' || b >= 0x80))
}

impl<R: Read> Lexer<R> {
    fn truncated(&self, what: &str) -> Fail {
        Fail::At(
            self.input.line,
            format!("truncated: the file ends inside {what}"),
        )
    }

    fn next(&mut self) -> Result<Tok, Fail> {
        self.tok.clear();
        let Some(b) = self.input.peek()? else {
            return Ok(Tok::Eof);
        };
        if b != b'<' {
            self.input.text(&mut self.tok)?;
            return Ok(Tok::Text);
        }
        let next = self.input.peek_at(1)?;
        match next {
            Some(b'!') => self.bang(),
            Some(b'?') => {
                let end: &[u8] = if self.mode == Mode::Xml { b"?>" } else { b">" };
                if !self.input.until(&mut self.tok, end, 2)? {
                    return Err(self.truncated("a processing instruction"));
                }
                Ok(Tok::Pi)
            }
            Some(b'/') => {
                self.input.bump(&mut self.tok)?;
                self.input.bump(&mut self.tok)?;
                let mut name = String::new();
                while let Some(c) = self.input.peek()? {
                    if c.is_ascii_whitespace() || c == b'>' {
                        break;
                    }
                    self.input.bump(&mut self.tok)?;
                    name.push(c as char);
                }
                if !self.input.until(&mut self.tok, b">", 0)? {
                    return Err(self.truncated("an end tag"));
                }
                Ok(Tok::End(name))
            }
            Some(c) if is_name_start(c, self.mode) => self.start_tag(),
            None if self.mode == Mode::Xml => Err(self.truncated("a tag")),
            _ if self.mode == Mode::Xml => Err(Fail::At(
                self.input.line,
                "not well-formed XML: '<' is not followed by a name".to_string(),
            )),
            _ => {
                // HTML: a '<' that opens no tag is text.
                self.input.bump(&mut self.tok)?;
                self.input.text(&mut self.tok)?;
                Ok(Tok::Text)
            }
        }
    }

    fn bang(&mut self) -> Result<Tok, Fail> {
        let ahead = |l: &mut Self, s: &[u8]| -> std::io::Result<bool> {
            for (i, &c) in s.iter().enumerate() {
                match l.input.peek_at(i)? {
                    Some(b) if b.eq_ignore_ascii_case(&c) => {}
                    _ => return Ok(false),
                }
            }
            Ok(true)
        };
        if ahead(self, b"<!--")? {
            if !self.input.until(&mut self.tok, b"-->", 4)? {
                return Err(self.truncated("a comment"));
            }
            return Ok(Tok::Comment);
        }
        if ahead(self, b"<![CDATA[")? {
            if !self.input.until(&mut self.tok, b"]]>", 9)? {
                return Err(self.truncated("a CDATA section"));
            }
            return Ok(Tok::Cdata);
        }
        loop {
            match self.input.bump(&mut self.tok)? {
                None => return Err(self.truncated("a DOCTYPE")),
                Some(b'[') if self.mode == Mode::Xml => {
                    return Err(Fail::At(
                        self.input.line,
                        "a DOCTYPE with an internal subset (entity declarations) is not copied"
                            .to_string(),
                    ))
                }
                Some(b'>') => return Ok(Tok::Doctype),
                Some(_) if self.tok.len() > MAX_TOKEN => {
                    return Err(Fail::At(self.input.line, "a DOCTYPE too long".to_string()))
                }
                Some(_) => {}
            }
        }
    }

    fn start_tag(&mut self) -> Result<Tok, Fail> {
        let tok = &mut self.tok;
        let input = &mut self.input;
        input.bump(tok)?;
        let name = read_name(input, tok)?;
        let mut attrs = Vec::new();
        loop {
            while input.peek()?.is_some_and(|c| c.is_ascii_whitespace()) {
                input.bump(tok)?;
            }
            match input.peek()? {
                None => {
                    return Err(Fail::At(
                        input.line,
                        "truncated: the file ends inside a tag".into(),
                    ))
                }
                Some(b'>') => {
                    input.bump(tok)?;
                    return Ok(Tok::Start {
                        name,
                        attrs,
                        empty: false,
                    });
                }
                Some(b'/') => {
                    input.bump(tok)?;
                    if input.peek()? == Some(b'>') {
                        input.bump(tok)?;
                        return Ok(Tok::Start {
                            name,
                            attrs,
                            empty: true,
                        });
                    }
                }
                Some(_) => {
                    let attr = read_name(input, tok)?;
                    while input.peek()?.is_some_and(|c| c.is_ascii_whitespace()) {
                        input.bump(tok)?;
                    }
                    let mut value = None;
                    if input.peek()? == Some(b'=') {
                        input.bump(tok)?;
                        while input.peek()?.is_some_and(|c| c.is_ascii_whitespace()) {
                            input.bump(tok)?;
                        }
                        match input.peek()? {
                            Some(q @ (b'"' | b'\'')) => {
                                input.bump(tok)?;
                                let start = tok.len();
                                if !input.through(tok, q)? {
                                    return Err(Fail::At(
                                        input.line,
                                        "truncated: the file ends inside an attribute value".into(),
                                    ));
                                }
                                value = Some((start, tok.len() - 1));
                            }
                            _ if self.mode == Mode::Xml => {
                                return Err(Fail::At(
                                    input.line,
                                    format!(
                                        "not well-formed XML: the value of {attr} is not quoted"
                                    ),
                                ))
                            }
                            _ => {
                                let start = tok.len();
                                while input
                                    .peek()?
                                    .is_some_and(|c| !c.is_ascii_whitespace() && c != b'>')
                                {
                                    input.bump(tok)?;
                                }
                                value = Some((start, tok.len()));
                            }
                        }
                    } else if self.mode == Mode::Xml {
                        return Err(Fail::At(
                            input.line,
                            format!("not well-formed XML: the attribute {attr} has no value"),
                        ));
                    }
                    if attr.is_empty() {
                        // A stray character where a name should be (HTML): keep it, move on.
                        input.bump(tok)?;
                        continue;
                    }
                    attrs.push(Attr { name: attr, value });
                }
            }
            if tok.len() > MAX_TOKEN {
                return Err(Fail::At(
                    input.line,
                    format!("a tag of more than {MAX_TOKEN} bytes"),
                ));
            }
        }
    }

    /// After `<script>` and the like (HTML): the content up to the matching end tag, which
    /// starts at the returned offset of the token.
    fn raw_text(&mut self, name: &str) -> Result<usize, Fail> {
        self.tok.clear();
        let close = format!("</{name}");
        loop {
            if !self.input.until(&mut self.tok, b"</", 0)? {
                return Err(self.truncated(&format!("<{name}>")));
            }
            let at = self.tok.len() - 2;
            let mut matched = true;
            for &c in &close.as_bytes()[2..] {
                match self.input.peek()? {
                    Some(b) if b.eq_ignore_ascii_case(&c) => {
                        self.input.bump(&mut self.tok)?;
                    }
                    _ => {
                        matched = false;
                        break;
                    }
                }
            }
            if matched
                && self
                    .input
                    .peek()?
                    .is_none_or(|c| c.is_ascii_whitespace() || c == b'>' || c == b'/')
            {
                if !self.input.until(&mut self.tok, b">", at)? {
                    return Err(self.truncated(&format!("</{name}>")));
                }
                return Ok(at);
            }
        }
    }
}

fn read_name<R: Read>(input: &mut Input<R>, tok: &mut Vec<u8>) -> Result<String, Fail> {
    let mut name = Vec::new();
    while let Some(c) = input.peek()? {
        if c.is_ascii_whitespace() || matches!(c, b'>' | b'/' | b'=') {
            break;
        }
        input.bump(tok)?;
        name.push(c);
    }
    Ok(String::from_utf8_lossy(&name).into_owned())
}

// ---------------------------------------------------------------------------------------------
// Rewriting

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

/// HTML elements whose content is raw text up to their end tag.
const RAW_TEXT: &[&str] = &["script", "style", "title", "textarea", "xmp"];

enum Piece {
    Raw(Vec<u8>),
    Text {
        cell: Option<usize>,
        raw: Vec<u8>,
        line: usize,
    },
}

#[derive(Default)]
struct Row {
    pieces: Vec<Piece>,
    /// Per cell so far: whether it is a `<th>`.
    cells: Vec<bool>,
    cur: Option<usize>,
    /// Once judged: whether it is a header row.
    header: Option<bool>,
    bytes: usize,
}

#[derive(Default)]
struct Table {
    rows: u32,
    head: bool,
    labels: Vec<String>,
    row: Option<Row>,
}

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

    /// A start tag with its attribute values judged.
    fn start_tag(
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

    fn open(&mut self, name: &str, empty: bool, raw: Vec<u8>, line: usize) -> Result<(), Fail> {
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

    fn close(&mut self, name: &str, raw: Vec<u8>, line: usize) -> Result<(), Fail> {
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

    fn close_cell(&mut self, line: usize) -> Result<(), Fail> {
        let Some(row) = self.tables.last_mut().and_then(|t| t.row.as_mut()) else {
            return Ok(());
        };
        row.cur = None;
        if row.header.is_some() {
            self.flush_row(line)?;
        }
        Ok(())
    }

    fn close_row(&mut self, line: usize) -> Result<(), Fail> {
        if self.tables.last().is_some_and(|t| t.row.is_some()) {
            self.flush_row(line)?;
            let t = self.tables.last_mut().expect("a table");
            let row = t.row.take().expect("a row");
            if !row.cells.is_empty() {
                t.rows += 1;
            }
        }
        Ok(())
    }

    /// Judges the buffered pieces of the open row (deciding first whether it is a header row)
    /// and writes them out; the row stays open.
    fn flush_row(&mut self, line: usize) -> Result<(), Fail> {
        let Some(mut row) = self.tables.last_mut().and_then(|t| t.row.take()) else {
            return Ok(());
        };
        // Each cell's text, as a reader sees the cell.
        let mut raw_of: Vec<(usize, Vec<u8>, usize)> = Vec::new();
        for piece in &row.pieces {
            if let Piece::Text {
                cell: Some(c),
                raw,
                line,
            } = piece
            {
                match raw_of.iter_mut().find(|(k, _, _)| k == c) {
                    Some((_, all, _)) => all.extend_from_slice(raw),
                    None => raw_of.push((*c, raw.clone(), *line)),
                }
            }
        }
        let mut read = Vec::with_capacity(raw_of.len());
        for (c, raw, l) in &raw_of {
            read.push((*c, self.read_value(raw, Ctx::Text, *l)?));
        }
        let table = self.tables.last().expect("a table");
        let header = *row.header.get_or_insert_with(|| {
            table.head
                || (!row.cells.is_empty() && row.cells.iter().all(|th| *th))
                || (table.rows == 0 && !read.iter().any(|(_, t)| self.p.holds_identity(t)))
        });
        let labels = table.labels.clone();
        let mut verdicts: Vec<(usize, Verdict)> = Vec::with_capacity(read.len());
        for (c, text) in &read {
            let v = if header && !self.p.holds_identity(text) {
                let t = self.tables.last_mut().expect("a table");
                if t.labels.len() <= *c {
                    t.labels.resize(*c + 1, String::new());
                }
                t.labels[*c] = text.clone();
                if !text.is_empty()
                    && self.stats.labels.len() < MAX_LABELS
                    && !self.stats.labels.contains(text)
                {
                    self.stats.labels.push(text.clone());
                }
                Verdict::Keep
            } else {
                let hint = labels.get(*c).cloned().unwrap_or_default();
                self.p.judge(text, &hint)
            };
            verdicts.push((*c, v));
        }
        // Where a cell is replaced, the first piece with text carries the new text; in-place
        // replacements are tried piece by piece first.
        let mut placed: Vec<usize> = Vec::new();
        let mut in_place_ok: Vec<usize> = Vec::new();
        for (c, v) in &verdicts {
            if let Verdict::InPlace(text) = v {
                let mut all = Vec::new();
                for piece in &row.pieces {
                    if let Piece::Text {
                        cell: Some(k), raw, ..
                    } = piece
                    {
                        if k == c {
                            all.extend(self.p.replace_ids(raw).unwrap_or_else(|| raw.clone()));
                        }
                    }
                }
                if self.read_value(&all, Ctx::Text, line).ok().as_deref() == Some(text.as_str()) {
                    in_place_ok.push(*c);
                }
            }
        }
        let pieces = std::mem::take(&mut row.pieces);
        row.bytes = 0;
        for piece in pieces {
            match piece {
                Piece::Raw(bytes) => self.out.write_all(&bytes)?,
                Piece::Text {
                    cell: None,
                    raw,
                    line,
                } => {
                    let bytes = self.value(&raw, "tr", Ctx::Text, line)?.into_owned();
                    self.out.write_all(&bytes)?;
                }
                Piece::Text {
                    cell: Some(c), raw, ..
                } => {
                    let v = verdicts.iter().find(|(k, _)| *k == c).map(|(_, v)| v);
                    match v {
                        None | Some(Verdict::Keep) => self.out.write_all(&raw)?,
                        Some(Verdict::InPlace(_)) if in_place_ok.contains(&c) => {
                            let new = self.p.replace_ids(&raw).unwrap_or(raw);
                            self.out.write_all(&new)?;
                        }
                        Some(Verdict::InPlace(text) | Verdict::Whole(text)) => {
                            if raw.iter().all(|b| b.is_ascii_whitespace()) {
                                self.out.write_all(&raw)?;
                            } else if placed.contains(&c) {
                                self.out.write_all(&framed(&raw, "", Ctx::Text))?;
                            } else {
                                placed.push(c);
                                self.out.write_all(&framed(&raw, text, Ctx::Text))?;
                            }
                        }
                    }
                }
            }
        }
        self.stats.replaced += verdicts
            .iter()
            .filter(|(_, v)| !matches!(v, Verdict::Keep))
            .count() as u64;
        if let Some(t) = self.tables.last_mut() {
            t.row = Some(row);
        }
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

/// `new` in place of the non-blank part of `raw`, keeping its leading and trailing white space,
/// escaped for where it stands (ASCII only, so any encoding read can hold it).
fn framed(raw: &[u8], new: &str, ctx: Ctx) -> Vec<u8> {
    let lead = raw.iter().take_while(|b| b.is_ascii_whitespace()).count();
    let trail = raw[lead..]
        .iter()
        .rev()
        .take_while(|b| b.is_ascii_whitespace())
        .count();
    let mut out = raw[..lead].to_vec();
    for c in new.chars() {
        match (c, ctx) {
            (_, Ctx::Raw) if c.is_ascii() => out.push(c as u8),
            ('&', _) => out.extend_from_slice(b"&amp;"),
            ('<', _) => out.extend_from_slice(b"&lt;"),
            ('>', _) => out.extend_from_slice(b"&gt;"),
            ('"', _) => out.extend_from_slice(b"&quot;"),
            ('\'', _) => out.extend_from_slice(b"&#39;"),
            (c, Ctx::Raw) => out.extend_from_slice(format!("&#{};", c as u32).as_bytes()),
            (c, _) if c.is_ascii() => out.push(c as u8),
            (c, _) => out.extend_from_slice(format!("&#{};", c as u32).as_bytes()),
        }
    }
    if lead < raw.len() {
        out.extend_from_slice(&raw[raw.len() - trail..]);
    }
    out
}

/// XML's entities and character references resolved.
fn quick_unescape(text: &str) -> Result<Cow<'_, str>, String> {
    if !text.contains('&') {
        return Ok(Cow::Borrowed(text));
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let end = after
            .find(';')
            .ok_or_else(|| "an '&' that starts no entity".to_string())?;
        let name = &after[..end];
        let c = match name {
            "lt" => '<',
            "gt" => '>',
            "amp" => '&',
            "apos" => '\'',
            "quot" => '"',
            _ => {
                let n = if let Some(h) = name.strip_prefix("#x").or(name.strip_prefix("#X")) {
                    u32::from_str_radix(h, 16).ok()
                } else if let Some(d) = name.strip_prefix('#') {
                    d.parse().ok()
                } else {
                    None
                };
                n.and_then(char::from_u32)
                    .ok_or_else(|| format!("&{name}; is not an XML entity"))?
            }
        };
        out.push(c);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(Cow::Owned(out))
}

/// A name without its namespace prefix.
fn local(name: &str) -> &str {
    name.rsplit(':').next().unwrap_or(name)
}
