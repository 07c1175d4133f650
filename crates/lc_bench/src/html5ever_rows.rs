//! The differences report read through html5ever's tokenizer (the WHATWG tokenizer of the Servo
//! project), to compare a maintained tokenizer with lc_core's own on the same files: the same
//! work as `report-differences` (the header row found by the default labels, every data row's
//! five cells decoded, entities resolved, white space collapsed), the same check value.

use html5ever::tendril::StrTendril;
use html5ever::tokenizer::{
    BufferQueue, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts,
};
use html5ever::TokenizerResult;
use lc_core::formats::report as fmt;
use lc_core::report::ReportKind;
use serde_json::{json, Value};
use std::cell::RefCell;
use std::io::Read;
use std::path::Path;
use std::time::Instant;

/// The rows of one table as the tokens come: the open cell's text, the row's cells, the header.
#[derive(Default)]
struct Rows {
    in_cell: bool,
    cell: String,
    cells: Vec<String>,
    ncells: usize,
    labels: Vec<&'static str>,
    header: Option<Vec<usize>>,
    items: u64,
    chars: usize,
}

impl Rows {
    fn end_cell(&mut self) {
        if !self.in_cell {
            return;
        }
        self.in_cell = false;
        if self.cells.len() == self.ncells {
            self.cells.push(String::new());
        }
        let out = &mut self.cells[self.ncells];
        out.clear();
        for word in self.cell.split_whitespace() {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(word);
        }
        self.cell.clear();
        self.ncells += 1;
    }

    fn end_row(&mut self) {
        self.end_cell();
        let cells = &self.cells[..self.ncells];
        self.ncells = 0;
        match &self.header {
            None => {
                let at: Option<Vec<usize>> = self
                    .labels
                    .iter()
                    .map(|l| cells.iter().position(|c| c.eq_ignore_ascii_case(l)))
                    .collect();
                self.header = at;
            }
            Some(at) => {
                if at.iter().all(|&i| i < cells.len()) {
                    self.chars += at.iter().map(|&i| cells[i].len()).sum::<usize>();
                    self.items += 1;
                }
            }
        }
    }
}

struct Sink(RefCell<Rows>);

impl TokenSink for Sink {
    type Handle = ();

    fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
        let mut r = self.0.borrow_mut();
        match token {
            Token::TagToken(tag) => match (tag.kind, &*tag.name) {
                (TagKind::StartTag, "tr") => r.end_row(),
                (TagKind::StartTag, "td" | "th") => {
                    r.end_cell();
                    r.in_cell = true;
                }
                (TagKind::EndTag, "td" | "th") => r.end_cell(),
                (TagKind::EndTag, "tr" | "table") => r.end_row(),
                _ => {}
            },
            Token::CharacterTokens(t) if r.in_cell => r.cell.push_str(&t),
            _ => {}
        }
        TokenSinkResult::Continue
    }
}

pub fn read(file: &Path) -> Result<Value, String> {
    let start = Instant::now();
    let rows = Rows {
        labels: ReportKind::Differences
            .columns()
            .iter()
            .map(|c| fmt::label(*c))
            .collect(),
        ..Rows::default()
    };
    let tok = Tokenizer::new(Sink(RefCell::new(rows)), TokenizerOpts::default());
    let queue = BufferQueue::default();
    let mut f = std::fs::File::open(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let mut buf = vec![0u8; 64 * 1024];
    let mut carry = 0usize;
    let mut bytes = 0u64;
    loop {
        let n = f
            .read(&mut buf[carry..])
            .map_err(|e| format!("{}: {e}", file.display()))?;
        bytes += n as u64;
        let have = carry + n;
        // The tokenizer takes text: a UTF-8 character cut by the chunk waits for the next one.
        let valid = match std::str::from_utf8(&buf[..have]) {
            Ok(_) => have,
            Err(e) if e.error_len().is_none() && n > 0 => e.valid_up_to(),
            Err(e) => return Err(format!("{}: not UTF-8: {e}", file.display())),
        };
        let text = std::str::from_utf8(&buf[..valid]).map_err(|e| e.to_string())?;
        queue.push_back(StrTendril::from_slice(text));
        while let TokenizerResult::Script(()) = tok.feed(&queue) {}
        buf.copy_within(valid..have, 0);
        carry = have - valid;
        if n == 0 {
            break;
        }
    }
    tok.end();
    let r = tok.sink.0.borrow();
    Ok(crate::figures(r.items, bytes, start, json!(r.chars)))
}
