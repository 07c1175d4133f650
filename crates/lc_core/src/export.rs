//! The export reader: what an `exportSyncedResourceInfo` file holds, read in one streaming pass.
//!
//! The layout of an export is not documented (admin-surface.md §5), so [`summarize`] owns none:
//! it takes any complete, well-formed XML document and, in one pass, checks it, counts its bytes,
//! hashes them and counts its records by a rule that does not depend on element names:
//!
//! 1. An element below the root *carries a UUID* when one of its attribute values is a UUID
//!    (`8-4-4-4-12` hex digits), or when one of its child elements holds nothing but a UUID as
//!    its text (`<communityUuid>…</communityUuid>`).
//! 2. Elements are grouped by their path from the root (the names on the way down, e.g.
//!    `syncedResources/resource`). Each path counts its *shallowest* carriers: those with no
//!    carrier among their ancestors (a community's members inside a carrying record are not
//!    records).
//! 3. The records are the elements of the path with the most such carriers (on a tie, the
//!    shallower path, then the one met first): the layout is [`Layout::Recognized`].
//! 4. No element carries a UUID: when the root's children repeat (one name at least twice),
//!    they are counted as the records and the layout is [`Layout::Unrecognized`] (a warning for
//!    the caller, not a failure); otherwise the document holds no records (0, recognized).
//!
//! The application a document names, if any, is read from the attribute values of the root
//! element and the text of the root's childless children, where it equals an application id or
//! one of its names ([`crate::apps::by_name`]): never from values inside the records, so a
//! community called "Files" names nothing. Callers decide the application from what they asked
//! for or from the file name, and refuse a document that names only other applications.
//!
//! Refused, with one line that names the file: an empty file, text before the root, a document
//! cut short, anything not well-formed (mismatched or unclosed tags, bad attributes, a second
//! root). The encoding declaration may be UTF-8, US-ASCII or an ISO-8859/Windows single-byte
//! encoding: the rule reads ASCII bytes only (UUIDs, application names).
//!
//! A second thread reads the file in fixed-size chunks and hashes each one while this thread
//! parses the one before, so the hash costs no wall time on a machine with a free core and
//! memory stays flat however large the export is (the paths kept are capped at
//! [`MAX_PATHS`]).
//!
//! [`for_each_resource`] hands each record of the simulated cell's layout
//! ([`crate::formats::export`]: id, community UUID, the app's copy of the community's fields) to
//! a caller that wants more than counts (the benchmarks); it reads through one buffer on the
//! caller's thread (there is no hash to overlap), and the record's buffers are reused from one
//! resource to the next, so nothing is allocated per record.

mod doc;
mod lexical;
mod read_ahead;
mod reader;
mod scan;

pub use scan::MAX_PATHS;

use doc::Doc;
use read_ahead::{ReadAhead, Source};
use reader::ExportReader;
use scan::Scan;

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fs::File;
use std::path::Path;

/// Size of one chunk read from the file.
const CHUNK: usize = 64 * 1024;
/// Chunks read ahead of the parser; with the one being parsed and the one being read, the only
/// memory that depends on reading, whatever the file's size.
const CHUNKS_AHEAD: usize = 8;

/// How the records of an export were found (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Layout {
    /// Records found as the elements that carry a community UUID, or none in the document.
    Recognized,
    /// No element carries a UUID; the repeated children of the root were counted instead.
    Unrecognized,
}

/// What one export file holds, as `lc_export` returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportSummary {
    /// The application ids the document names (root attributes, text of the root's childless
    /// children), in document order, each once; usually one, or none.
    pub applications: Vec<String>,
    /// How many records the document holds.
    pub resources: u64,
    pub layout: Layout,
    /// The path of the record elements (`root/record`), when there are records.
    pub record_path: Option<String>,
    /// The size of the file in bytes.
    pub bytes: u64,
    /// The SHA-256 of the file, lower-case hex.
    pub sha256: String,
}

impl ExportSummary {
    /// Whether the document names applications and `app` is not one of them.
    pub fn names_another_application(&self, app: &str) -> bool {
        !self.applications.is_empty() && !self.applications.iter().any(|a| a == app)
    }
}

/// One remote resource of an export as [`for_each_resource`] hands it over: the app's record of
/// a resource and of its community. Its buffers are reused for the next resource; a caller that
/// keeps a record copies what it needs.
#[derive(Debug, Default)]
pub struct Record {
    id: String,
    community_uuid: String,
    /// Slots for the community's attributes, name and value; the first `fields` are this
    /// record's, the rest keep their capacity for the next one.
    slots: Vec<(String, String)>,
    fields: usize,
}

impl Record {
    /// The resource's own id ("Object Identifying Id").
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The UUID of the community it belongs to.
    pub fn community_uuid(&self) -> &str {
        &self.community_uuid
    }

    /// The app's copy of the community's state, attribute name and value (`name`,
    /// `visibility`, …), in file order.
    pub fn community(&self) -> impl Iterator<Item = (&str, &str)> {
        self.slots[..self.fields]
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
    }

    fn clear(&mut self) {
        self.id.clear();
        self.community_uuid.clear();
        self.fields = 0;
    }

    fn push_field(&mut self, name: &str, value: &str) {
        if self.fields == self.slots.len() {
            self.slots.push(Default::default());
        }
        let (k, v) = &mut self.slots[self.fields];
        k.clear();
        k.push_str(name);
        v.clear();
        v.push_str(value);
        self.fields += 1;
    }
}

/// Reads `path` once and says what it holds; see the module documentation.
pub fn summarize(path: &Path) -> Result<ExportSummary> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let mut scan = Scan::new(Doc::new(path, Source::Ahead(ReadAhead::start(file))));
    scan.run()?;
    let (bytes, sha256) = scan.doc.finish_hash()?;
    let (resources, layout, record_path) = scan.records();
    Ok(ExportSummary {
        applications: scan.applications,
        resources,
        layout,
        record_path,
        bytes,
        sha256,
    })
}

/// Reads the export at `path` and hands each resource to `f`, in file order, as it is read;
/// returns the application named by the root element and the number of resources. The first
/// error met ends the reading (the resources before it have been handed over).
pub fn for_each_resource(path: &Path, mut f: impl FnMut(&Record)) -> Result<(String, u64)> {
    let mut reader = ExportReader::open(path)?;
    let mut record = Record::default();
    while reader.next_resource(Some(&mut record))? {
        f(&record);
    }
    Ok((reader.application, reader.resources))
}

/// The SHA-256 of a file, lower-case hex, without reading it as XML.
pub fn sha256_of(path: &Path) -> Result<String> {
    let mut file = File::open(path).map_err(|e| Error::io(path, e))?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher).map_err(|e| Error::io(path, e))?;
    Ok(hex(&hasher.finalize()))
}

/// Lower-case hexadecimal digits of `bytes` (how SHA-256 sums are shown).
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

#[cfg(test)]
mod tests;
