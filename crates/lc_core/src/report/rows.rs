//! Rows: a closed row is a header row (matched against the wanted columns' labels), a data
//! row (its wanted cells checked and handed over) or a row of another table; and the end of the
//! file.

use super::cells::{is_uuid, key_matches, label_key, parse_yes_no, shorten};
use super::entities::decode_cell;
use super::scanner::{Closest, Header, Scanner, Table};
use super::{CELLS_LIMIT, MAX_WANTED};

use crate::error::Result;
use crate::formats::report::Values;
use std::io::Read;

impl<R: Read, F: FnMut(&[Option<&str>], usize) -> Result<()>> Scanner<'_, R, F> {
    /// Closes the open cell of the innermost table, if any.
    pub(super) fn end_cell(&mut self) -> Result<()> {
        let Some(t) = self.tables.last_mut() else {
            return Ok(());
        };
        if !t.cell_open {
            return Ok(());
        }
        t.cell_open = false;
        if t.ncells >= CELLS_LIMIT {
            let line = t.row_line;
            return Err(self.error(
                line,
                format!("a table row has more than {CELLS_LIMIT} cells"),
            ));
        }
        if t.cells.len() == t.ncells {
            t.cells.push(String::new());
        }
        t.row_bytes += t.raw.len();
        decode_cell(&t.raw, &mut t.cells[t.ncells]);
        t.ncells += 1;
        Ok(())
    }

    /// Closes the open row of the innermost table, if any, and hands it on.
    pub(super) fn end_row(&mut self) -> Result<()> {
        self.end_cell()?;
        let Some(mut t) = self.tables.pop() else {
            return Ok(());
        };
        let result = if t.row_open { self.row(&mut t) } else { Ok(()) };
        t.row_open = false;
        t.ncells = 0;
        t.row_bytes = 0;
        self.tables.push(t);
        result
    }

    fn row(&mut self, t: &mut Table) -> Result<()> {
        let cells = &t.cells[..t.ncells];
        let filled = cells.iter().filter(|c| !c.is_empty()).count();
        if filled == 0 {
            return Ok(());
        }
        let n = self.wanted.len();
        let Some(header) = t.header else {
            match self.header(cells, t.row_line)? {
                Header::Found(at) => {
                    t.header_keys.clear();
                    t.header_labels.clear();
                    for &i in &at[..n] {
                        let cell = cells.get(i).map(String::as_str).unwrap_or("");
                        t.header_keys.push(label_key(cell));
                        t.header_labels.push(shorten(cell));
                    }
                    t.header = Some(at);
                    self.header_found = true;
                }
                Header::Missing(missing) => {
                    let required = self.wanted.iter().filter(|c| !c.optional()).count();
                    let matched = required - missing.len();
                    if filled >= 2 && self.best.as_ref().is_none_or(|b| matched > b.matched) {
                        self.best = Some(Closest {
                            matched,
                            line: t.row_line,
                            cells: cells.iter().take(12).map(|c| shorten(c)).collect(),
                            missing,
                        });
                    }
                }
            }
            return Ok(());
        };
        let header = &header[..n];
        let present = || header.iter().enumerate().filter(|(_, &i)| i != usize::MAX);
        let Some((last, &column)) = present().max_by_key(|(_, &i)| i) else {
            return Ok(());
        };
        if cells.len() <= column {
            if filled <= 1 {
                // A note spanning the table ("no differences found").
                return Ok(());
            }
            return Err(self.error(
                t.row_line,
                format!(
                    "a row has {} cells but the header row puts {:?} in column {}",
                    cells.len(),
                    t.header_labels[last],
                    column + 1
                ),
            ));
        }
        if present().all(|(k, &i)| key_matches(&cells[i], &t.header_keys[k])) {
            // The header row repeated (e.g. once per page).
            return Ok(());
        }
        let mut values: [Option<&str>; MAX_WANTED] = [None; MAX_WANTED];
        for (k, &i) in present() {
            let v = cells[i].as_str();
            let column = self.wanted[k];
            let wrong = match column.values() {
                Values::Uuid if !is_uuid(v) => Some("not a UUID"),
                Values::YesNo if parse_yes_no(v).is_none() => Some("not yes, no, true or false"),
                Values::NonEmpty if v.is_empty() => Some("an empty value"),
                _ => None,
            };
            if let Some(wrong) = wrong {
                return Err(self.error(
                    t.row_line,
                    format!(
                        "column {} ({:?}, read as {}) holds {:?}, {wrong}: the report is not read; \
                         if another column holds the {}, set column_map for {}",
                        i + 1,
                        t.header_labels[k],
                        column.key(),
                        shorten(v),
                        column.key().replace('_', " "),
                        column.key()
                    ),
                ));
            }
            values[k] = Some(v);
        }
        (self.f)(&values[..n], t.row_line)?;
        self.rows += 1;
        Ok(())
    }

    /// Matches a row's cells against the wanted columns' labels. Each column takes the cell with
    /// its most specific label; where the most specific match left is a tie (one column, two
    /// cells; or one cell, two columns), the header row is refused, and so it is where a
    /// required column's only cells were taken by other columns.
    fn header(&self, cells: &[String], line: usize) -> Result<Header> {
        let n = self.wanted.len();
        let folded: Vec<String> = cells.iter().map(|c| label_key(c)).collect();
        // (rank, wanted column, cell)
        let mut pairs: Vec<(usize, usize, usize)> = Vec::new();
        for (k, keys) in self.keys.iter().enumerate() {
            for (i, cell) in folded.iter().enumerate() {
                if let Some((rank, _)) = keys.iter().find(|(_, key)| key == cell) {
                    pairs.push((*rank, k, i));
                }
            }
        }
        let missing: Vec<usize> = (0..n)
            .filter(|&k| !self.wanted[k].optional() && !pairs.iter().any(|p| p.1 == k))
            .collect();
        if !missing.is_empty() {
            return Ok(Header::Missing(missing));
        }
        let mut at = [usize::MAX; MAX_WANTED];
        let mut taken = vec![usize::MAX; cells.len()];
        loop {
            let open =
                |p: &&(usize, usize, usize)| at[p.1] == usize::MAX && taken[p.2] == usize::MAX;
            let Some(rank) = pairs.iter().filter(open).map(|p| p.0).min() else {
                break;
            };
            let level: Vec<(usize, usize, usize)> = pairs
                .iter()
                .filter(open)
                .filter(|p| p.0 == rank)
                .copied()
                .collect();
            for (x, a) in level.iter().enumerate() {
                for b in &level[x + 1..] {
                    let cell = |i: usize| format!("column {} ({:?})", i + 1, shorten(&cells[i]));
                    if a.1 == b.1 {
                        return Err(self.error(
                            line,
                            format!(
                                "the header row is ambiguous: {} and {} could both be {}; not guessing which",
                                cell(a.2),
                                cell(b.2),
                                self.wanted[a.1].key(),
                            ),
                        ));
                    }
                    if a.2 == b.2 {
                        return Err(self.error(
                            line,
                            format!(
                                "the header row is ambiguous: {} could be {} or {}; not guessing which; \
                                 set column_map so that each has a label of its own",
                                cell(a.2),
                                self.wanted[a.1].key(),
                                self.wanted[b.1].key()
                            ),
                        ));
                    }
                }
            }
            for &(_, k, i) in &level {
                at[k] = i;
                taken[i] = k;
            }
        }
        if let Some(k) = (0..n).find(|&k| !self.wanted[k].optional() && at[k] == usize::MAX) {
            let i = pairs.iter().find(|p| p.1 == k).map_or(0, |p| p.2);
            return Err(self.error(
                line,
                format!(
                    "the header row has no column left for {}: column {} ({:?}) is taken as {}; \
                     set column_map so that each has a label of its own",
                    self.wanted[k].key(),
                    i + 1,
                    shorten(&cells[i]),
                    self.wanted[taken[i]].key()
                ),
            ));
        }
        Ok(Header::Found(at))
    }

    pub(super) fn finish(&mut self) -> Result<u64> {
        if let Some(t) = self.tables.first() {
            let opened = t.opened_line;
            return Err(self.truncated(&format!("the table opened at line {opened} (no </table>)")));
        }
        if self.html_open && !self.html_closed {
            return Err(self.error(
                self.input.line,
                "truncated report: the file ends before </html>",
            ));
        }
        if self.input.bytes == 0 {
            return Err(self.error(1, "empty file, not an HTML report"));
        }
        if !self.saw_tag {
            return Err(self.error(1, "not an HTML report: no tags"));
        }
        if !self.header_found {
            if let Some(best) = &self.best {
                let missing: Vec<String> = best
                    .missing
                    .iter()
                    .map(|&k| format!("{:?}", self.labels[k]))
                    .collect();
                let keys: Vec<&str> = best.missing.iter().map(|&k| self.wanted[k].key()).collect();
                return Err(self.error(
                    best.line,
                    format!(
                        "no table with the expected column headers: missing {} (closest header row: {}); \
                         if the report prints other labels, set column_map for {}",
                        missing.join(", "),
                        best.cells.iter().map(|c| format!("{c:?}")).collect::<Vec<_>>().join(" | "),
                        keys.join(", ")
                    ),
                ));
            }
        }
        Ok(self.rows)
    }
}
