//! The input: a fixed read buffer, the line counted, names and tags read without allocating.

use std::io::{BufRead, BufReader, ErrorKind as IoKind, Read};

/// The bytes of the file, with the current line.
pub(super) struct Input<R> {
    pub(super) r: BufReader<R>,
    pub(super) line: usize,
    pub(super) bytes: u64,
}

impl<R: Read> Input<R> {
    pub(super) fn peek(&mut self) -> std::io::Result<Option<u8>> {
        Ok(fill(&mut self.r)?.first().copied())
    }

    pub(super) fn next(&mut self) -> std::io::Result<Option<u8>> {
        let b = self.peek()?;
        if let Some(b) = b {
            self.r.consume(1);
            self.bytes += 1;
            if b == b'\n' {
                self.line += 1;
            }
        }
        Ok(b)
    }

    /// Consumes `n` bytes of the buffer, counting lines.
    fn advance(&mut self, n: usize) {
        let buf = self.r.buffer();
        let n = n.min(buf.len());
        self.line += buf[..n].iter().filter(|&&b| b == b'\n').count();
        self.r.consume(n);
        self.bytes += n as u64;
    }

    /// Reads a tag name (letters, digits, `-`, `:`, `_`) lower-cased into `name`; returns its
    /// length, or more than `name.len()` for a longer name.
    pub(super) fn read_name(&mut self, name: &mut [u8]) -> std::io::Result<usize> {
        let mut len = 0;
        loop {
            let buf = fill(&mut self.r)?;
            let n = buf
                .iter()
                .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b':' | b'_'))
                .count();
            for &c in &buf[..n] {
                if let Some(slot) = name.get_mut(len) {
                    *slot = c.to_ascii_lowercase();
                }
                len += 1;
            }
            let more = n == buf.len() && n > 0;
            self.r.consume(n);
            self.bytes += n as u64;
            if !more {
                return Ok(len);
            }
        }
    }

    /// Skips the attributes of a tag through its closing `>`, stepping over quoted values.
    pub(super) fn skip_tag(&mut self) -> std::io::Result<TagEnd> {
        let mut prev = 0u8;
        let mut quote: Option<u8> = None;
        loop {
            let buf = fill(&mut self.r)?;
            if buf.is_empty() {
                return Ok(if quote.is_some() {
                    TagEnd::EofInValue
                } else {
                    TagEnd::EofInTag
                });
            }
            let mut closed = false;
            let mut used = buf.len();
            for (i, &c) in buf.iter().enumerate() {
                if let Some(q) = quote {
                    if c == q {
                        quote = None;
                        prev = q;
                    }
                    continue;
                }
                match c {
                    b'>' => {
                        closed = true;
                        used = i + 1;
                        break;
                    }
                    b'"' | b'\'' if prev == b'=' => quote = Some(c),
                    c if c.is_ascii_whitespace() => {}
                    c => prev = c,
                }
            }
            self.advance(used);
            if closed {
                return Ok(TagEnd::Closed);
            }
        }
    }

    /// Consumes everything up to and including the next `stop`, appending what came before it to
    /// `sink` when given. False when the file ends first.
    pub(super) fn skip_until(
        &mut self,
        stop: u8,
        mut sink: Option<&mut Vec<u8>>,
    ) -> std::io::Result<bool> {
        loop {
            let buf = fill(&mut self.r)?;
            if buf.is_empty() {
                return Ok(false);
            }
            let (taken, used, found) = match buf.iter().position(|&b| b == stop) {
                Some(i) => (&buf[..i], i + 1, true),
                None => (buf, buf.len(), false),
            };
            self.line += taken.iter().filter(|&&b| b == b'\n').count();
            if stop == b'\n' && found {
                self.line += 1;
            }
            if let Some(s) = sink.as_deref_mut() {
                s.extend_from_slice(taken);
            }
            self.r.consume(used);
            self.bytes += used as u64;
            if found {
                return Ok(true);
            }
        }
    }
}

/// The buffered bytes, reading more when none are left; empty at the end of the file.
pub(super) fn fill<R: Read>(r: &mut BufReader<R>) -> std::io::Result<&[u8]> {
    if r.buffer().is_empty() {
        loop {
            match r.fill_buf() {
                Err(e) if e.kind() == IoKind::Interrupted => continue,
                Err(e) => return Err(e),
                Ok(_) => break,
            }
        }
    }
    Ok(r.buffer())
}

/// How the skipping of a tag ended.
pub(super) enum TagEnd {
    Closed,
    EofInTag,
    EofInValue,
}

/// The tags the reader acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Tag {
    Html,
    Table,
    Tr,
    Td,
    Th,
    Thead,
    Tbody,
    Tfoot,
    Br,
    Block,
    Script,
    Style,
    Title,
    Textarea,
    Other,
}

impl Tag {
    pub(super) fn of(name: &[u8]) -> Tag {
        match name {
            b"html" => Tag::Html,
            b"table" => Tag::Table,
            b"tr" => Tag::Tr,
            b"td" => Tag::Td,
            b"th" => Tag::Th,
            b"thead" => Tag::Thead,
            b"tbody" => Tag::Tbody,
            b"tfoot" => Tag::Tfoot,
            b"br" => Tag::Br,
            b"p" | b"div" | b"li" | b"ul" | b"ol" => Tag::Block,
            b"script" => Tag::Script,
            b"style" => Tag::Style,
            b"title" => Tag::Title,
            b"textarea" => Tag::Textarea,
            _ => Tag::Other,
        }
    }

    /// The name of an element whose content is raw text, up to its end tag.
    pub(super) fn raw_text(self) -> Option<&'static [u8]> {
        match self {
            Tag::Script => Some(b"script"),
            Tag::Style => Some(b"style"),
            Tag::Title => Some(b"title"),
            Tag::Textarea => Some(b"textarea"),
            _ => None,
        }
    }
}

/// A start or end tag without attributes at the start of `s` (which starts with `<`), when it is
/// whole there: the tag, whether it is an end tag, and its length.
pub(super) fn simple_tag(s: &[u8]) -> Option<(Tag, bool, usize)> {
    let end = s.get(1) == Some(&b'/');
    let start = if end { 2 } else { 1 };
    let mut name = [0u8; 10];
    for (len, &c) in s.get(start..)?.iter().take(name.len() + 1).enumerate() {
        if c == b'>' {
            if len == 0 || !name[0].is_ascii_alphabetic() {
                return None;
            }
            return Some((Tag::of(&name[..len]), end, start + len + 1));
        }
        if !c.is_ascii_alphanumeric() || len == name.len() {
            return None;
        }
        name[len] = c.to_ascii_lowercase();
    }
    None
}
