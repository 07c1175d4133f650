//! The input: a fixed read buffer, bytes taken into the current token, lines counted.

use std::io::Read;

use super::*;

pub(super) struct Input<R> {
    r: R,
    buf: Vec<u8>,
    pos: usize,
    end: usize,
    eof: bool,
    pub(super) line: usize,
}

impl<R: Read> Input<R> {
    pub(super) fn new(r: R) -> Self {
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
    pub(super) fn peek_at(&mut self, i: usize) -> std::io::Result<Option<u8>> {
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

    pub(super) fn peek(&mut self) -> std::io::Result<Option<u8>> {
        self.peek_at(0)
    }

    /// Moves one byte into `tok`.
    pub(super) fn bump(&mut self, tok: &mut Vec<u8>) -> std::io::Result<Option<u8>> {
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
    pub(super) fn text(&mut self, tok: &mut Vec<u8>) -> Result<(), Fail> {
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
    pub(super) fn through(&mut self, tok: &mut Vec<u8>, byte: u8) -> Result<bool, Fail> {
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
    pub(super) fn until(
        &mut self,
        tok: &mut Vec<u8>,
        end: &[u8],
        from: usize,
    ) -> Result<bool, Fail> {
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
