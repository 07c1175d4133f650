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

mod cells;
mod entities;
mod input;
mod rows;
mod scanner;

use cells::{label_key, label_keys, parse_yes_no};
use input::Input;
use scanner::Scanner;

use crate::apps::{self, App};
use crate::error::{Error, Result};
use crate::formats::report::{self as fmt, Column};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, Read};
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

#[cfg(test)]
mod tests;
