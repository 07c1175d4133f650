//! The tokens: text, start and end tags with their attributes, comments, CDATA, processing
//! instructions and doctypes, read one at a time.

use std::io::Read;

use super::*;

#[derive(Debug)]
pub(super) struct Attr {
    pub(super) name: String,
    /// The value's bytes in the token (inside its quotes).
    pub(super) value: Option<(usize, usize)>,
}

#[derive(Debug)]
pub(super) enum Tok {
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

pub(super) struct Lexer<R> {
    pub(super) input: Input<R>,
    pub(super) mode: Mode,
    pub(super) tok: Vec<u8>,
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

    pub(super) fn next(&mut self) -> Result<Tok, Fail> {
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
    pub(super) fn raw_text(&mut self, name: &str) -> Result<usize, Fail> {
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
