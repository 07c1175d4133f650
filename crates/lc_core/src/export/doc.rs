//! The XML reader of one file and the errors that name it (with the line), shared by both
//! readers.

use super::read_ahead::Source;
use super::{hex, CHUNK};

use crate::error::{Error, Result};
use quick_xml::errors::{Error as XmlError, IllFormedError, SyntaxError};
use quick_xml::Reader;
use sha2::Digest;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

/// The XML reader of one file and the errors that name it, shared by both readers.
pub(super) struct Doc {
    path: PathBuf,
    pub(super) xml: Reader<Source>,
}

impl Doc {
    pub(super) fn new(path: &Path, source: Source) -> Doc {
        let mut xml = Reader::from_reader(source);
        xml.config_mut().check_end_names = true;
        Doc {
            path: path.to_path_buf(),
            xml,
        }
    }

    /// An attribute given twice in one element (not well-formed XML).
    pub(super) fn duplicate(&self, key: &str) -> Error {
        self.here(format!(
            "not well-formed XML: the attribute {key} is given twice"
        ))
    }

    /// An error at the element just read.
    pub(super) fn here(&self, message: String) -> Error {
        self.error_at(self.xml.buffer_position(), message)
    }

    /// The size and hash of the file; call after the end of the file, on a [`Source::Ahead`].
    pub(super) fn finish_hash(&mut self) -> Result<(u64, String)> {
        let finished = match self.xml.get_mut() {
            Source::Ahead(ahead) => ahead.finish(),
            Source::Direct(_) => None,
        };
        match finished {
            Some((bytes, hasher)) => Ok((bytes, hex(&hasher.finalize()))),
            None => Err(Error::io(
                &self.path,
                std::io::Error::other("the reading thread stopped before the end of the file"),
            )),
        }
    }

    pub(super) fn xml_error(&self, e: XmlError) -> Error {
        let pos = self.xml.error_position();
        let msg = match &e {
            XmlError::Io(io) => {
                return Error::io(&self.path, std::io::Error::new(io.kind(), io.to_string()))
            }
            XmlError::Syntax(
                s @ (SyntaxError::UnclosedTag
                | SyntaxError::UnclosedComment
                | SyntaxError::UnclosedCData
                | SyntaxError::UnclosedDoctype
                | SyntaxError::UnclosedPIOrXmlDecl),
            ) => format!("truncated or not XML: {s}"),
            XmlError::IllFormed(IllFormedError::MismatchedEndTag { expected, found }) => {
                format!("not well-formed XML: </{found}> closes <{expected}>")
            }
            other => format!("not well-formed XML: {other}"),
        };
        self.error_at(pos, msg)
    }

    /// An error at a byte offset of the file, with the line it falls on.
    pub(super) fn error_at(&self, offset: u64, message: String) -> Error {
        Error::parse(&self.path, line_of(&self.path, offset), message)
    }
}

/// The 1-based line of a byte offset, by reading the file again (only on the error path).
fn line_of(path: &Path, offset: u64) -> usize {
    let Ok(file) = File::open(path) else { return 0 };
    let mut reader = BufReader::with_capacity(CHUNK, file.take(offset));
    let mut line = 1;
    loop {
        let n = match reader.fill_buf() {
            Ok([]) | Err(_) => break,
            Ok(buf) => {
                line += buf.iter().filter(|&&b| b == b'\n').count();
                buf.len()
            }
        };
        reader.consume(n);
    }
    line
}
