//! HTML table rows: buffered until it is known whether a row is a header row (its cells are
//! labels) or a data row (each cell judged as one value, its column's label as the hint).

use std::io::Write;

use crate::pseudonym::Verdict;

use super::*;

pub(super) enum Piece {
    Raw(Vec<u8>),
    Text {
        cell: Option<usize>,
        raw: Vec<u8>,
        line: usize,
    },
}

#[derive(Default)]
pub(super) struct Row {
    pub(super) pieces: Vec<Piece>,
    /// Per cell so far: whether it is a `<th>`.
    pub(super) cells: Vec<bool>,
    pub(super) cur: Option<usize>,
    /// Once judged: whether it is a header row.
    pub(super) header: Option<bool>,
    pub(super) bytes: usize,
}

#[derive(Default)]
pub(super) struct Table {
    rows: u32,
    pub(super) head: bool,
    labels: Vec<String>,
    pub(super) row: Option<Row>,
}

impl<W: Write> Rewriter<'_, W> {
    pub(super) fn close_cell(&mut self, line: usize) -> Result<(), Fail> {
        let Some(row) = self.tables.last_mut().and_then(|t| t.row.as_mut()) else {
            return Ok(());
        };
        row.cur = None;
        if row.header.is_some() {
            self.flush_row(line)?;
        }
        Ok(())
    }

    pub(super) fn close_row(&mut self, line: usize) -> Result<(), Fail> {
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
    pub(super) fn flush_row(&mut self, line: usize) -> Result<(), Fail> {
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
}
