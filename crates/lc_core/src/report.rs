//! The HTML sync-report reader: the rows of `generateSyncReports`' differences and orphans
//! reports, found by header text and read as a stream.
//!
//! The reports' layout is not documented and their labels are localized (admin-surface.md §6), so
//! the reader finds each table's header row by label, never by position: the user's `column_map`
//! labels ([`ColumnMap`]) first, then the synonyms of [`crate::formats::report::SYNONYMS`], where
//! `<app>` stands for the application's id or names. Labels match without regard to case, white
//! space or punctuation; columns may come in any order, with extra columns between them, in any
//! of several tables of one file (each table finds its own header row; a summary table is passed
//! over). A column that a report may lack ("community exists", "reason") is read when present;
//! "community exists" is otherwise taken from the reason's words where they say it, else unknown.
//! Every choice is checked: two keys never take one column, a tie between two columns is refused,
//! and every data row's cells must hold what their column means (UUIDs in a UUID column, yes/no
//! in "community exists"), else the file is refused on one line that says why; it is never
//! guessed at.
//!
//! It copes with what HTML allows and XML does not: any tag case, attributes (quoted or not),
//! omitted `</td>`, `</tr>` and `</tbody>`, `<th>` or `<td>` header cells, `<thead>`/`<tbody>`,
//! comments, scripts, entities (named, decimal, hexadecimal), extra columns and layout tables.
//! A small tokenizer reads through a fixed buffer and keeps only the current row, so memory does
//! not grow with the file, and no DOM is built (BENCHMARKS.md compares it with html5ever's
//! tokenizer). A file cut short (inside a tag, a table or before `</html>`) is an error naming
//! the file and line; so is a report whose header row is not found, with the labels that were
//! missing.

use crate::apps::{self, App};
use crate::error::{Error, Result};
use crate::formats::report::{self as fmt, Column, Values};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, ErrorKind as IoKind, Read};
use std::path::Path;

/// Size of the read buffer.
const READ_BUFFER: usize = 64 * 1024;
/// The most text one row may hold; a longer one is not a report row.
const ROW_LIMIT: usize = 4 * 1024 * 1024;
/// The most cells one row may hold.
const CELLS_LIMIT: usize = 1024;
/// The deepest nesting of tables followed.
const DEPTH_LIMIT: usize = 64;
/// The most columns one reader looks for.
const MAX_WANTED: usize = 9;
/// The most labels a user may give for one key.
const MAX_USER_LABELS: usize = 16;

/// The labels a user gives for one key in `column_map`: one, or several.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged, expecting = "a column label or a list of column labels")]
pub enum Labels {
    One(String),
    Many(Vec<String>),
}

impl From<&str> for Labels {
    fn from(label: &str) -> Self {
        Labels::One(label.to_string())
    }
}

impl Labels {
    fn as_slice(&self) -> &[String] {
        match self {
            Labels::One(l) => std::slice::from_ref(l),
            Labels::Many(v) => v,
        }
    }
}

/// The user's labels of each column (`column_map`), looked for before the synonyms of
/// [`crate::formats::report::SYNONYMS`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ColumnMap {
    user: Vec<(Column, Vec<String>)>,
}

impl ColumnMap {
    /// The user's `column_map`: column key (from [`Column::key`]) → a label or a list of labels.
    /// An unknown key, an empty label or list, or one label given for two keys is an error that
    /// says which.
    pub fn new(overrides: &HashMap<String, Labels>) -> Result<ColumnMap> {
        let known = || {
            Column::ALL
                .iter()
                .map(|c| c.key())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut user: Vec<(Column, Vec<String>)> = Vec::new();
        let mut keys: Vec<&String> = overrides.keys().collect();
        keys.sort();
        for key in keys {
            let Some(column) = Column::ALL.iter().copied().find(|c| c.key() == key) else {
                return Err(Error::invalid(format!(
                    "column_map: unknown column key {key:?}; known keys: {}",
                    known()
                )));
            };
            let given = overrides[key].as_slice();
            if given.is_empty() {
                return Err(Error::invalid(format!(
                    "column_map: the list of labels of {key:?} is empty"
                )));
            }
            if given.len() > MAX_USER_LABELS {
                return Err(Error::invalid(format!(
                    "column_map: {key:?} has {} labels, at most {MAX_USER_LABELS}",
                    given.len()
                )));
            }
            let mut labels = Vec::new();
            for label in given {
                let label = label.trim();
                if label_key(label).is_empty() {
                    return Err(Error::invalid(format!(
                        "column_map: a label of {key:?} is empty (or only punctuation)"
                    )));
                }
                if let Some((other, _)) = user
                    .iter()
                    .find(|(_, ls)| ls.iter().any(|l| label_key(l) == label_key(label)))
                {
                    return Err(Error::invalid(format!(
                        "column_map: the label {label:?} is given for both {} and {key}: one column cannot be two keys",
                        other.key()
                    )));
                }
                labels.push(label.to_string());
            }
            user.push((column, labels));
        }
        Ok(ColumnMap { user })
    }

    /// The user's labels of column `c`, if any were given.
    pub fn user_labels(&self, c: Column) -> &[String] {
        self.user
            .iter()
            .find(|(k, _)| *k == c)
            .map(|(_, l)| l.as_slice())
            .unwrap_or(&[])
    }

    /// The label named in messages for column `c`: the user's first, else the default.
    pub fn label(&self, c: Column) -> &str {
        self.user_labels(c)
            .first()
            .map(String::as_str)
            .unwrap_or_else(|| fmt::label(c))
    }
}

/// Which of the two reports a file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportKind {
    /// `<App>_communityDifferences.html`
    Differences,
    /// `<App>_orphanedRemoteApplications.html`
    Orphans,
}

/// The columns read from an orphans report; the last two may be missing.
const ORPHANS_READ: &[Column] = &[
    Column::ObjectId,
    Column::OldCommunityUuid,
    Column::CommunityExists,
    Column::Reason,
];

impl ReportKind {
    /// The columns read from this report (those of [`Column::optional`] may be missing).
    pub fn columns(self) -> &'static [Column] {
        match self {
            ReportKind::Differences => fmt::DIFFERENCES_COLUMNS,
            ReportKind::Orphans => ORPHANS_READ,
        }
    }

    /// The file name `generateSyncReports` gives this report for `application`.
    pub fn file_name(self, application: &str) -> String {
        match self {
            ReportKind::Differences => format!("{application}{}", fmt::DIFFERENCES_SUFFIX),
            ReportKind::Orphans => format!("{application}{}", fmt::ORPHANS_SUFFIX),
        }
    }

    /// The application and kind of a report, from its file name: the prefix is the app's id or
    /// one of its names ([`apps::by_name`]: `Wikis_communityDifferences.html` is Wiki's). `None`
    /// for any other file.
    pub fn classify(file_name: &str) -> Option<(&'static App, ReportKind)> {
        for (suffix, kind) in [
            (fmt::DIFFERENCES_SUFFIX, ReportKind::Differences),
            (fmt::ORPHANS_SUFFIX, ReportKind::Orphans),
        ] {
            if let Some(prefix) = file_name.strip_suffix(suffix) {
                return apps::by_name(prefix).map(|app| (app, kind));
            }
        }
        None
    }
}

/// One row of a differences report: a community whose state differs between Communities and
/// an application.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Difference {
    pub application: String,
    pub community_uuid: String,
    pub community_name: String,
    /// The field that differs (`visibility`, `moderation`, `theme`, `name`, as printed).
    pub field: String,
    pub communities_value: String,
    pub application_value: String,
}

/// One row of an orphans report: an application resource whose community is gone or lacks the
/// widget.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Orphan {
    pub application: String,
    /// The "Object Identifying Id" of the resource.
    pub object_id: String,
    pub old_community_uuid: String,
    /// Whether the old community still exists: its column, else what the reason's words say,
    /// else unknown (`null`).
    pub community_exists: Option<bool>,
}

/// Reads every difference of the report at `path`, written for `application` (an app id).
pub fn read_differences(
    path: &Path,
    application: &str,
    columns: &ColumnMap,
) -> Result<Vec<Difference>> {
    let mut out = Vec::new();
    for_each_difference(path, application, columns, |d| out.push(d))?;
    Ok(out)
}

/// Reads every orphan of the report at `path`, written for `application` (an app id).
pub fn read_orphans(path: &Path, application: &str, columns: &ColumnMap) -> Result<Vec<Orphan>> {
    let mut out = Vec::new();
    for_each_orphan(path, application, columns, |o| out.push(o))?;
    Ok(out)
}

/// Hands each difference of the report to `f` as it is read; returns how many there were.
/// `application` is the app id (or a name of it): rows carry it, and labels may name the app.
pub fn for_each_difference(
    path: &Path,
    application: &str,
    columns: &ColumnMap,
    mut f: impl FnMut(Difference),
) -> Result<u64> {
    let wanted = ReportKind::Differences.columns();
    scan_file(path, application, wanted, columns, |v, _| {
        let cell = |c: Column| {
            wanted
                .iter()
                .position(|w| *w == c)
                .and_then(|i| v[i])
                .unwrap_or_default()
                .to_string()
        };
        f(Difference {
            application: application.to_string(),
            community_name: cell(Column::CommunityName),
            community_uuid: cell(Column::CommunityUuid),
            field: cell(Column::Field),
            communities_value: cell(Column::CommunitiesValue),
            application_value: cell(Column::ApplicationValue),
        });
        Ok(())
    })
}

/// Hands each orphan of the report to `f` as it is read; returns how many there were.
pub fn for_each_orphan(
    path: &Path,
    application: &str,
    columns: &ColumnMap,
    mut f: impl FnMut(Orphan),
) -> Result<u64> {
    scan_file(path, application, ORPHANS_READ, columns, |v, _| {
        // The scanner has checked the yes/no of the "community exists" column.
        let community_exists = match (v[2], v[3]) {
            (Some(exists), _) => parse_yes_no(exists),
            (None, Some(reason)) => fmt::exists_from_reason(reason),
            (None, None) => None,
        };
        f(Orphan {
            application: application.to_string(),
            object_id: v[0].unwrap_or_default().to_string(),
            old_community_uuid: v[1].unwrap_or_default().to_string(),
            community_exists,
        });
        Ok(())
    })
}

/// The lowest level: reads the report at `path`, written for `application` (an app id or name,
/// for labels naming it), and hands `f` the text of the `wanted` columns of each data row (in the
/// order of `wanted`; `None` for an optional column the table lacks) and the row's line. Nothing
/// is allocated per row, so a caller that only counts pays for the reading alone. Returns the
/// number of rows.
pub fn scan_file(
    path: &Path,
    application: &str,
    wanted: &[Column],
    columns: &ColumnMap,
    f: impl FnMut(&[Option<&str>], usize) -> Result<()>,
) -> Result<u64> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    scan(file, path, application, wanted, columns, f)
}

/// [`scan_file`] over any reader; `name` is the file named in errors.
pub fn scan<R: Read>(
    source: R,
    name: &Path,
    application: &str,
    wanted: &[Column],
    columns: &ColumnMap,
    f: impl FnMut(&[Option<&str>], usize) -> Result<()>,
) -> Result<u64> {
    if wanted.is_empty() || wanted.len() > MAX_WANTED {
        return Err(Error::invalid(format!(
            "a report reader looks for 1 to {MAX_WANTED} columns, not {}",
            wanted.len()
        )));
    }
    if wanted.iter().all(|c| c.optional()) {
        return Err(Error::invalid(
            "a report reader needs at least one column that every report has",
        ));
    }
    let mut scanner = Scanner {
        input: Input {
            r: BufReader::with_capacity(READ_BUFFER, source),
            line: 1,
            bytes: 0,
        },
        name,
        wanted,
        labels: wanted.iter().map(|c| columns.label(*c)).collect(),
        keys: wanted
            .iter()
            .map(|c| label_keys(*c, columns, application))
            .collect(),
        tables: Vec::new(),
        pool: Vec::new(),
        html_open: false,
        html_closed: false,
        saw_tag: false,
        header_found: false,
        best: None,
        rows: 0,
        f,
    };
    scanner.run()
}

/// The labels column `c` is looked for by, folded ([`label_key`]), each with its rank (lower is
/// more specific): the user's, then the synonyms, `<app>` read as each name of `application`.
fn label_keys(c: Column, columns: &ColumnMap, application: &str) -> Vec<(usize, String)> {
    let app_names: Vec<&str> = match apps::by_name(application) {
        Some(app) => std::iter::once(app.id)
            .chain(app.names.iter().copied())
            .collect(),
        None => vec![application],
    };
    let user = columns.user_labels(c).iter().map(String::as_str);
    let mut out: Vec<(usize, String)> = Vec::new();
    for (rank, label) in user.chain(c.labels().iter().copied()).enumerate() {
        let expanded: Vec<String> = if label.contains(fmt::APP) {
            app_names
                .iter()
                .map(|n| label.replace(fmt::APP, n))
                .collect()
        } else {
            vec![label.to_string()]
        };
        for l in expanded {
            let mut decoded = String::new();
            decode_text(&l, &mut decoded);
            let key = label_key(&decoded);
            if !key.is_empty() && !out.iter().any(|(_, k)| *k == key) {
                out.push((rank, key));
            }
        }
    }
    out
}

fn parse_yes_no(v: &str) -> Option<bool> {
    let v = v.trim();
    for yes in ["yes", "true", "y", "1"] {
        if v.eq_ignore_ascii_case(yes) {
            return Some(true);
        }
    }
    for no in ["no", "false", "n", "0"] {
        if v.eq_ignore_ascii_case(no) {
            return Some(false);
        }
    }
    None
}

/// Whether `v` is a UUID: 8-4-4-4-12 hexadecimal digits.
fn is_uuid(v: &str) -> bool {
    let b = v.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// The bytes of the file, with the current line.
struct Input<R> {
    r: BufReader<R>,
    line: usize,
    bytes: u64,
}

impl<R: Read> Input<R> {
    fn peek(&mut self) -> std::io::Result<Option<u8>> {
        Ok(fill(&mut self.r)?.first().copied())
    }

    fn next(&mut self) -> std::io::Result<Option<u8>> {
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
    fn read_name(&mut self, name: &mut [u8]) -> std::io::Result<usize> {
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
    fn skip_tag(&mut self) -> std::io::Result<TagEnd> {
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
    fn skip_until(&mut self, stop: u8, mut sink: Option<&mut Vec<u8>>) -> std::io::Result<bool> {
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
fn fill<R: Read>(r: &mut BufReader<R>) -> std::io::Result<&[u8]> {
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
enum TagEnd {
    Closed,
    EofInTag,
    EofInValue,
}

/// The tags the reader acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tag {
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
    fn of(name: &[u8]) -> Tag {
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
    fn raw_text(self) -> Option<&'static [u8]> {
        match self {
            Tag::Script => Some(b"script"),
            Tag::Style => Some(b"style"),
            Tag::Title => Some(b"title"),
            Tag::Textarea => Some(b"textarea"),
            _ => None,
        }
    }
}

/// One open table: its current row and, once found, where its wanted columns are.
#[derive(Default)]
struct Table {
    opened_line: usize,
    row_open: bool,
    row_line: usize,
    row_bytes: usize,
    cell_open: bool,
    /// The raw text of the open cell.
    raw: Vec<u8>,
    /// The decoded cells of the current row; only the first `ncells` are this row's.
    cells: Vec<String>,
    ncells: usize,
    /// For each wanted column, its index in a row (`usize::MAX`: an optional column it lacks).
    header: Option<[usize; MAX_WANTED]>,
    /// For each wanted column, its header cell folded ([`label_key`]), to pass over the header
    /// row where it is repeated.
    header_keys: Vec<String>,
    /// For each wanted column, its header cell as printed, for messages.
    header_labels: Vec<String>,
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
struct Closest {
    matched: usize,
    line: usize,
    cells: Vec<String>,
    missing: Vec<usize>,
}

/// A header row's match: for each wanted column, its index in the row, or why there is none.
enum Header {
    Found([usize; MAX_WANTED]),
    /// The wanted columns (by index) that no cell's label names.
    Missing(Vec<usize>),
}

struct Scanner<'a, R, F> {
    input: Input<R>,
    name: &'a Path,
    wanted: &'a [Column],
    /// The label of each wanted column named in messages.
    labels: Vec<&'a str>,
    /// Each wanted column's labels, folded, with their rank ([`label_keys`]).
    keys: Vec<Vec<(usize, String)>>,
    tables: Vec<Table>,
    pool: Vec<Table>,
    html_open: bool,
    html_closed: bool,
    saw_tag: bool,
    header_found: bool,
    best: Option<Closest>,
    rows: u64,
    f: F,
}

impl<R: Read, F: FnMut(&[Option<&str>], usize) -> Result<()>> Scanner<'_, R, F> {
    fn run(&mut self) -> Result<u64> {
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

    fn error(&self, line: usize, message: impl Into<String>) -> Error {
        Error::parse(self.name, line, message)
    }

    fn truncated(&self, inside: &str) -> Error {
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

    /// Closes the open cell of the innermost table, if any.
    fn end_cell(&mut self) -> Result<()> {
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
    fn end_row(&mut self) -> Result<()> {
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

    fn finish(&mut self) -> Result<u64> {
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

/// A start or end tag without attributes at the start of `s` (which starts with `<`), when it is
/// whole there: the tag, whether it is an end tag, and its length.
fn simple_tag(s: &[u8]) -> Option<(Tag, bool, usize)> {
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

/// A cell's text for a message, cut at 40 characters.
fn shorten(text: &str) -> String {
    match text.char_indices().nth(40) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_string(),
    }
}

/// A label folded for comparison: its letters and digits, lower case; white space and
/// punctuation dropped (`"COMMUNITY UUID:"`, `"Community-Uuid"`, `"community uuid"` are one).
fn label_key(label: &str) -> String {
    label
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Whether a decoded cell folds to `key` ([`label_key`]), without allocating.
fn key_matches(cell: &str, key: &str) -> bool {
    cell.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .eq(key.chars())
}

/// Decodes a cell's raw bytes (UTF-8, else Latin-1) into text: entities resolved, white space
/// collapsed to single spaces and trimmed.
fn decode_cell(raw: &[u8], out: &mut String) {
    // Most cells are plain ASCII words with single spaces: copied as they are.
    if is_plain(raw) {
        out.clear();
        if let Ok(text) = std::str::from_utf8(raw) {
            out.push_str(text);
            return;
        }
    }
    let text: Cow<str> = match std::str::from_utf8(raw) {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => Cow::Owned(raw.iter().map(|&b| b as char).collect()),
    };
    decode_text(&text, out);
}

/// Whether raw cell text needs no decoding: printable ASCII without `&`, single spaces inside.
fn is_plain(raw: &[u8]) -> bool {
    let (Some(&first), Some(&last)) = (raw.first(), raw.last()) else {
        return true;
    };
    if first == b' ' || last == b' ' {
        return false;
    }
    let mut prev = 0u8;
    for &b in raw {
        if !(b.is_ascii_graphic() || b == b' ') || b == b'&' || (b == b' ' && prev == b' ') {
            return false;
        }
        prev = b;
    }
    true
}

fn decode_text(text: &str, out: &mut String) {
    out.clear();
    let bytes = text.as_bytes();
    let plain = |c: &u8| c.is_ascii() && *c != b'&' && !c.is_ascii_whitespace();
    let mut space = false;
    let mut i = 0;
    while i < bytes.len() {
        // A run of plain ASCII is copied at once.
        let run = bytes[i..].iter().take_while(|c| plain(c)).count();
        if run > 0 {
            if space {
                out.push(' ');
                space = false;
            }
            out.push_str(&text[i..i + run]);
            i += run;
            continue;
        }
        let (ch, used) = if bytes[i] == b'&' {
            entity(&bytes[i..]).unwrap_or(('&', 1))
        } else {
            match text[i..].chars().next() {
                Some(c) => (c, c.len_utf8()),
                None => break,
            }
        };
        i += used;
        if ch.is_whitespace() {
            space = !out.is_empty();
        } else {
            if space {
                out.push(' ');
                space = false;
            }
            out.push(ch);
        }
    }
}

/// The character of the entity at the start of `s` (which starts with `&`) and its length.
fn entity(s: &[u8]) -> Option<(char, usize)> {
    if s.get(1) == Some(&b'#') {
        let (radix, start) = match s.get(2) {
            Some(b'x' | b'X') => (16, 3),
            _ => (10, 2),
        };
        let digits = s[start..]
            .iter()
            .take_while(|b| (**b as char).is_digit(radix))
            .count();
        if digits == 0 {
            return None;
        }
        let end = start + digits;
        let value = std::str::from_utf8(&s[start..end])
            .ok()
            .and_then(|d| u32::from_str_radix(d, radix).ok())
            .unwrap_or(0xFFFD);
        let ch = windows_1252(value)
            .or_else(|| char::from_u32(value).filter(|&c| c != '\0'))
            .unwrap_or('\u{FFFD}');
        let len = if s.get(end) == Some(&b';') {
            end + 1
        } else {
            end
        };
        return Some((ch, len));
    }
    let len = s[1..]
        .iter()
        .take(32)
        .take_while(|b| b.is_ascii_alphanumeric())
        .count();
    if len == 0 {
        return None;
    }
    let name = std::str::from_utf8(&s[1..1 + len]).ok()?;
    let i = ENTITIES.binary_search_by(|(k, _)| (*k).cmp(name)).ok()?;
    let ch = char::from_u32(ENTITIES[i].1)?;
    let end = 1 + len;
    Some((
        ch,
        if s.get(end) == Some(&b';') {
            end + 1
        } else {
            end
        },
    ))
}

/// Numeric references to 0x80–0x9F mean the Windows-1252 characters, as browsers read them.
fn windows_1252(value: u32) -> Option<char> {
    const MAP: [u16; 32] = [
        0x20AC, 0x81, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
        0x2039, 0x0152, 0x8D, 0x017D, 0x8F, 0x90, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013,
        0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x9D, 0x017E, 0x0178,
    ];
    match value {
        0x80..=0x9F => char::from_u32(u32::from(MAP[(value - 0x80) as usize])),
        _ => None,
    }
}

/// The named character references of HTML 4, with `apos` and the upper-case forms browsers also
/// accept (`AMP`, `LT`, …), sorted by name for binary search.
const ENTITIES: &[(&str, u32)] = &[
    ("AElig", 198),
    ("AMP", 38),
    ("Aacute", 193),
    ("Acirc", 194),
    ("Agrave", 192),
    ("Alpha", 913),
    ("Aring", 197),
    ("Atilde", 195),
    ("Auml", 196),
    ("Beta", 914),
    ("COPY", 169),
    ("Ccedil", 199),
    ("Chi", 935),
    ("Dagger", 8225),
    ("Delta", 916),
    ("ETH", 208),
    ("Eacute", 201),
    ("Ecirc", 202),
    ("Egrave", 200),
    ("Epsilon", 917),
    ("Eta", 919),
    ("Euml", 203),
    ("GT", 62),
    ("Gamma", 915),
    ("Iacute", 205),
    ("Icirc", 206),
    ("Igrave", 204),
    ("Iota", 921),
    ("Iuml", 207),
    ("Kappa", 922),
    ("LT", 60),
    ("Lambda", 923),
    ("Mu", 924),
    ("Ntilde", 209),
    ("Nu", 925),
    ("OElig", 338),
    ("Oacute", 211),
    ("Ocirc", 212),
    ("Ograve", 210),
    ("Omega", 937),
    ("Omicron", 927),
    ("Oslash", 216),
    ("Otilde", 213),
    ("Ouml", 214),
    ("Phi", 934),
    ("Pi", 928),
    ("Prime", 8243),
    ("Psi", 936),
    ("QUOT", 34),
    ("REG", 174),
    ("Rho", 929),
    ("Scaron", 352),
    ("Sigma", 931),
    ("THORN", 222),
    ("Tau", 932),
    ("Theta", 920),
    ("Uacute", 218),
    ("Ucirc", 219),
    ("Ugrave", 217),
    ("Upsilon", 933),
    ("Uuml", 220),
    ("Xi", 926),
    ("Yacute", 221),
    ("Yuml", 376),
    ("Zeta", 918),
    ("aacute", 225),
    ("acirc", 226),
    ("acute", 180),
    ("aelig", 230),
    ("agrave", 224),
    ("alefsym", 8501),
    ("alpha", 945),
    ("amp", 38),
    ("and", 8743),
    ("ang", 8736),
    ("apos", 39),
    ("aring", 229),
    ("asymp", 8776),
    ("atilde", 227),
    ("auml", 228),
    ("bdquo", 8222),
    ("beta", 946),
    ("brvbar", 166),
    ("bull", 8226),
    ("cap", 8745),
    ("ccedil", 231),
    ("cedil", 184),
    ("cent", 162),
    ("chi", 967),
    ("circ", 710),
    ("clubs", 9827),
    ("cong", 8773),
    ("copy", 169),
    ("crarr", 8629),
    ("cup", 8746),
    ("curren", 164),
    ("dArr", 8659),
    ("dagger", 8224),
    ("darr", 8595),
    ("deg", 176),
    ("delta", 948),
    ("diams", 9830),
    ("divide", 247),
    ("eacute", 233),
    ("ecirc", 234),
    ("egrave", 232),
    ("empty", 8709),
    ("emsp", 8195),
    ("ensp", 8194),
    ("epsilon", 949),
    ("equiv", 8801),
    ("eta", 951),
    ("eth", 240),
    ("euml", 235),
    ("euro", 8364),
    ("exist", 8707),
    ("fnof", 402),
    ("forall", 8704),
    ("frac12", 189),
    ("frac14", 188),
    ("frac34", 190),
    ("frasl", 8260),
    ("gamma", 947),
    ("ge", 8805),
    ("gt", 62),
    ("hArr", 8660),
    ("harr", 8596),
    ("hearts", 9829),
    ("hellip", 8230),
    ("iacute", 237),
    ("icirc", 238),
    ("iexcl", 161),
    ("igrave", 236),
    ("image", 8465),
    ("infin", 8734),
    ("int", 8747),
    ("iota", 953),
    ("iquest", 191),
    ("isin", 8712),
    ("iuml", 239),
    ("kappa", 954),
    ("lArr", 8656),
    ("lambda", 955),
    ("lang", 9001),
    ("laquo", 171),
    ("larr", 8592),
    ("lceil", 8968),
    ("ldquo", 8220),
    ("le", 8804),
    ("lfloor", 8970),
    ("lowast", 8727),
    ("loz", 9674),
    ("lrm", 8206),
    ("lsaquo", 8249),
    ("lsquo", 8216),
    ("lt", 60),
    ("macr", 175),
    ("mdash", 8212),
    ("micro", 181),
    ("middot", 183),
    ("minus", 8722),
    ("mu", 956),
    ("nabla", 8711),
    ("nbsp", 160),
    ("ndash", 8211),
    ("ne", 8800),
    ("ni", 8715),
    ("not", 172),
    ("notin", 8713),
    ("nsub", 8836),
    ("ntilde", 241),
    ("nu", 957),
    ("oacute", 243),
    ("ocirc", 244),
    ("oelig", 339),
    ("ograve", 242),
    ("oline", 8254),
    ("omega", 969),
    ("omicron", 959),
    ("oplus", 8853),
    ("or", 8744),
    ("ordf", 170),
    ("ordm", 186),
    ("oslash", 248),
    ("otilde", 245),
    ("otimes", 8855),
    ("ouml", 246),
    ("para", 182),
    ("part", 8706),
    ("permil", 8240),
    ("perp", 8869),
    ("phi", 966),
    ("pi", 960),
    ("piv", 982),
    ("plusmn", 177),
    ("pound", 163),
    ("prime", 8242),
    ("prod", 8719),
    ("prop", 8733),
    ("psi", 968),
    ("quot", 34),
    ("rArr", 8658),
    ("radic", 8730),
    ("rang", 9002),
    ("raquo", 187),
    ("rarr", 8594),
    ("rceil", 8969),
    ("rdquo", 8221),
    ("real", 8476),
    ("reg", 174),
    ("rfloor", 8971),
    ("rho", 961),
    ("rlm", 8207),
    ("rsaquo", 8250),
    ("rsquo", 8217),
    ("sbquo", 8218),
    ("scaron", 353),
    ("sdot", 8901),
    ("sect", 167),
    ("shy", 173),
    ("sigma", 963),
    ("sigmaf", 962),
    ("sim", 8764),
    ("spades", 9824),
    ("sub", 8834),
    ("sube", 8838),
    ("sum", 8721),
    ("sup", 8835),
    ("sup1", 185),
    ("sup2", 178),
    ("sup3", 179),
    ("supe", 8839),
    ("szlig", 223),
    ("tau", 964),
    ("there4", 8756),
    ("theta", 952),
    ("thetasym", 977),
    ("thinsp", 8201),
    ("thorn", 254),
    ("tilde", 732),
    ("times", 215),
    ("trade", 8482),
    ("uArr", 8657),
    ("uacute", 250),
    ("uarr", 8593),
    ("ucirc", 251),
    ("ugrave", 249),
    ("uml", 168),
    ("upsih", 978),
    ("upsilon", 965),
    ("uuml", 252),
    ("weierp", 8472),
    ("xi", 958),
    ("yacute", 253),
    ("yen", 165),
    ("yuml", 255),
    ("zeta", 950),
    ("zwj", 8205),
    ("zwnj", 8204),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn decoded(raw: &str) -> String {
        let mut out = String::new();
        decode_cell(raw.as_bytes(), &mut out);
        out
    }

    #[test]
    fn entity_table_is_sorted_for_binary_search() {
        assert!(ENTITIES.windows(2).all(|w| w[0].0 < w[1].0));
    }

    #[test]
    fn entities_and_white_space() {
        assert_eq!(decoded("&amp;&lt;&gt;&quot;&apos;&#39;"), "&<>\"''");
        assert_eq!(decoded("&#233;&#xE9;&#X00e9;&eacute;"), "éééé");
        assert_eq!(decoded("&#150;&#x80;"), "–€");
        assert_eq!(decoded("&#0;&#x110000;"), "\u{FFFD}\u{FFFD}");
        assert_eq!(decoded("&nbsp; a \n\t b&nbsp;"), "a b");
        assert_eq!(
            decoded("AT&T &unknown; & &#; &amp"),
            "AT&T &unknown; & &#; &"
        );
        assert_eq!(decoded("caf\u{e9}"), "café");
    }

    #[test]
    fn latin1_bytes_are_read_as_latin1() {
        let mut out = String::new();
        decode_cell(b"caf\xe9", &mut out);
        assert_eq!(out, "café");
    }

    #[test]
    fn labels_match_ignoring_case_spacing_and_punctuation() {
        let key = label_key("Community  UUID");
        for cell in [
            "community uuid:",
            "COMMUNITY UUID",
            "Community-UUID",
            "(Community_Uuid)?",
        ] {
            assert!(key_matches(cell, &key), "{cell}");
        }
        assert!(!key_matches("Old Community UUID", &key));
        assert_eq!(
            label_key("Valeur dans Communautés"),
            "valeurdanscommunautés"
        );
    }

    #[test]
    fn app_labels_name_the_app_by_id_or_name() {
        let keys = label_keys(Column::ApplicationValue, &ColumnMap::default(), "Wiki");
        let has = |k: &str| keys.iter().find(|(_, x)| x == k).map(|(r, _)| *r);
        assert_eq!(has("applicationvalue"), Some(0));
        assert_eq!(has("valueinwikis"), Some(1));
        assert_eq!(has("valueinwiki"), Some(1));
        assert_eq!(has("wikisvalue"), Some(2));
        assert_eq!(has("wikis"), Some(5));
        assert_eq!(has("valueinblogs"), None);
        let user: HashMap<String, Labels> = [(
            "application_value".to_string(),
            Labels::Many(vec!["Wert".into(), "Valeur".into()]),
        )]
        .into();
        let keys = label_keys(
            Column::ApplicationValue,
            &ColumnMap::new(&user).unwrap(),
            "Wiki",
        );
        assert_eq!(
            keys[..3],
            [
                (0, "wert".to_string()),
                (1, "valeur".to_string()),
                (2, "applicationvalue".to_string())
            ]
        );
    }

    #[test]
    fn uuids_are_checked_by_shape() {
        assert!(is_uuid("0f1e2d3c-0000-4000-8000-00000000000A"));
        assert!(!is_uuid("0f1e2d3c-0000-4000-8000-00000000000"));
        assert!(!is_uuid("0f1e2d3c00000-4000-8000-00000000000a"));
        assert!(!is_uuid("0f1e2d3c-0000-4000-8000-00000000000g"));
    }

    fn count(html: &str) -> Result<u64> {
        scan(
            html.as_bytes(),
            Path::new("r.html"),
            "Blog",
            ReportKind::Orphans.columns(),
            &ColumnMap::default(),
            |_, _| Ok(()),
        )
    }

    #[test]
    fn odd_markup_is_survived() {
        let head = "<table><tr><th>Object Identifying Id<th>Old Community UUID<th>Community Exists";
        assert_eq!(
            count(&format!(
                "{head}<tr><td>a < b<td>0f1e2d3c-0000-4000-8000-000000000001<td>no</table>"
            ))
            .unwrap(),
            1
        );
        assert_eq!(
            count(&format!(
                "{head}<tr><td><!---->x<!-- -- --><td>0f1e2d3c-0000-4000-8000-000000000001<td>no</table>"
            ))
            .unwrap(),
            1
        );
        assert_eq!(
            count(&format!("{head}<tr><td>x<td>0f1e2d3c-0000-4000-8000-000000000001<td>no<?php ?></table><br/>")).unwrap(),
            1
        );
        assert_eq!(
            count(&format!(
                "{head}<tr><td>x<td>0f1e2d3c-0000-4000-8000-000000000001<td>no</table></ td>"
            ))
            .unwrap(),
            1
        );
    }

    #[test]
    fn truncations_and_non_reports() {
        let one = |html: &str| count(html).unwrap_err().one_line();
        assert_eq!(one(""), "r.html:1: empty file, not an HTML report");
        assert_eq!(one("just text"), "r.html:1: not an HTML report: no tags");
        assert_eq!(
            one("<html><body>"),
            "r.html:1: truncated report: the file ends before </html>"
        );
        assert_eq!(
            one("<table><tr><td class=\"x"),
            "r.html:1: truncated report: the file ends inside an attribute value"
        );
        assert_eq!(
            one("<table>\n<tr><td"),
            "r.html:2: truncated report: the file ends inside a tag"
        );
        assert_eq!(
            one("<p><!-- x"),
            "r.html:1: truncated report: the file ends inside a comment"
        );
        assert_eq!(
            one("<script>a</scr"),
            "r.html:1: truncated report: the file ends inside a <script> element"
        );
        let long = format!(
            "<table><tr><td>{}</td></tr></table>",
            "x".repeat(ROW_LIMIT + 1)
        );
        assert_eq!(
            one(&long),
            "r.html:1: a table row holds more than 4 MiB of text, not a report row"
        );
        let wide = format!(
            "<table><tr>{}</tr></table>",
            "<td>x".repeat(CELLS_LIMIT + 1)
        );
        assert_eq!(one(&wide), "r.html:1: a table row has more than 1024 cells");
    }
}
