//! The two file layouts the cell writes, in the cell's dialect ([`crate::dialect`]; `lcsim` is
//! lc_core::formats' own), each labelled as simulated: the export XML of
//! `exportSyncedResourceInfo` (written and read streaming, so a million resources is fine) and the
//! HTML sync reports of `generateSyncReports`. This is the one writer of each.

mod export;
mod report;

pub use export::{read_export, write_export, Item};
pub use report::{report_file, ReportWriter, Row};

use crate::model::Copy;

/// One record of an export: a resource, its community and the app's copy of that community.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub id: String,
    pub community_uuid: String,
    pub copy: Copy,
}

#[cfg(test)]
mod tests;
