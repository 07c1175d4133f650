//! lc_anonymize: copies the files a Connections cell writes for the runbook (the export XML of
//! `exportSyncedResourceInfo`, the HTML reports of `generateSyncReports`) with every UUID, name,
//! title and e-mail address replaced by a pseudonym, so that an administrator can send us a
//! sample of a layout our readers do not know without sending anyone's name or id.
//!
//! Everything else stays byte for byte: tags, attribute names, header labels, white space,
//! comments' and entities' places, the declarations. Values are judged by what they look like
//! and a keep-list, never by element names ([`pseudonym`]); the markup is read by a small
//! streaming tokenizer, so memory does not grow with the file ([`markup`]). One run gives the
//! same value the same pseudonym in all its files, so exports and reports still match.
//!
//! Map of the modules:
//! - [`pseudonym`]: the keep-list, the shapes of identity, the pseudonyms of a run.
//! - [`markup`]: the XML/HTML tokenizer and rewriter; which table rows are labels.
//! - [`encoding`]: the encodings read (UTF-8, US-ASCII, ISO-8859-1, windows-1252).

pub mod encoding;
pub mod markup;
pub mod pseudonym;

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use lc_core::{Error, Result};

pub use markup::{Mode, Stats};
pub use pseudonym::Pseudonyms;

/// What became of one file of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Copied with its values judged.
    Copied {
        input: PathBuf,
        output: PathBuf,
        mode: Mode,
        stats: Stats,
    },
    /// Neither XML nor HTML: not copied (it may hold anything).
    Skipped { input: PathBuf },
}

/// Copies `input` (a file, or a folder done as one run) to `output`; see the crate
/// documentation. A file goes to `output` (or into it, when it is a folder); a folder goes to
/// `output`, which must not exist or be empty, with the same relative paths. Nothing is half
/// written: a file is written beside its place and renamed, a folder is built beside `output`
/// and renamed; on an error nothing is left.
pub fn anonymize(input: &Path, output: &Path, p: &mut Pseudonyms) -> Result<Vec<Outcome>> {
    let meta = std::fs::metadata(input).map_err(|e| Error::io(input, e))?;
    if same_place(input, output) {
        return Err(Error::invalid(format!(
            "{}: OUT is IN; the copy must go elsewhere",
            output.display()
        )));
    }
    if !meta.is_dir() {
        let target = if output.is_dir() {
            output.join(input.file_name().unwrap_or_default())
        } else {
            output.to_path_buf()
        };
        let Some(mode) = mode_of(input)? else {
            return Err(Error::invalid(format!(
                "{}: neither XML nor HTML (by its name and its first bytes); nothing written",
                input.display()
            )));
        };
        let stats = copy_file(input, &target, mode, p)?;
        return Ok(vec![Outcome::Copied {
            input: input.to_path_buf(),
            output: target,
            mode,
            stats,
        }]);
    }
    let abs_in = std::fs::canonicalize(input).map_err(|e| Error::io(input, e))?;
    if let Some(parent) = output.parent().filter(|p| !p.as_os_str().is_empty()) {
        if let Ok(abs_parent) = std::fs::canonicalize(parent) {
            if abs_parent.starts_with(&abs_in) {
                return Err(Error::invalid(format!(
                    "{}: OUT is inside IN; put the copy outside the folder it copies",
                    output.display()
                )));
            }
        }
    }
    if output.exists() {
        let empty = std::fs::read_dir(output)
            .map_err(|e| Error::io(output, e))?
            .next()
            .is_none();
        if !output.is_dir() || !empty {
            return Err(Error::invalid(format!(
                "{}: exists and is not an empty folder; name a new folder for the copy",
                output.display()
            )));
        }
    }
    let mut files = Vec::new();
    walk(input, Path::new(""), &mut files)?;
    files.sort();
    let tmp = sibling(output, "dir");
    std::fs::create_dir_all(&tmp).map_err(|e| Error::io(&tmp, e))?;
    let result = (|| {
        let mut outcomes = Vec::new();
        for rel in &files {
            let from = input.join(rel);
            let Some(mode) = mode_of(&from)? else {
                outcomes.push(Outcome::Skipped { input: from });
                continue;
            };
            let to = tmp.join(rel);
            if let Some(dir) = to.parent() {
                std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
            }
            let stats = copy_file(&from, &to, mode, p)?;
            outcomes.push(Outcome::Copied {
                input: from,
                output: output.join(rel),
                mode,
                stats,
            });
        }
        if output.exists() {
            std::fs::remove_dir(output).map_err(|e| Error::io(output, e))?;
        }
        std::fs::rename(&tmp, output).map_err(|e| Error::io(output, e))?;
        Ok(outcomes)
    })();
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&tmp);
    }
    result
}

/// The files under `dir`, relative paths; symbolic links are not followed.
fn walk(root: &Path, rel: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let dir = root.join(rel);
    for entry in std::fs::read_dir(&dir).map_err(|e| Error::io(&dir, e))? {
        let entry = entry.map_err(|e| Error::io(&dir, e))?;
        let kind = entry.file_type().map_err(|e| Error::io(entry.path(), e))?;
        let r = rel.join(entry.file_name());
        if kind.is_dir() {
            walk(root, &r, out)?;
        } else if kind.is_file() {
            out.push(r);
        }
    }
    Ok(())
}

fn same_place(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

/// XML or HTML, by the file's extension, else by its first bytes; `None` for neither.
pub fn mode_of(path: &Path) -> Result<Option<Mode>> {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase());
    match ext.as_deref() {
        Some("xml") => return Ok(Some(Mode::Xml)),
        Some("html" | "htm" | "xhtml") => return Ok(Some(Mode::Html)),
        _ => {}
    }
    let mut head = Vec::with_capacity(1024);
    File::open(path)
        .and_then(|f| f.take(1024).read_to_end(&mut head))
        .map_err(|e| Error::io(path, e))?;
    let text = String::from_utf8_lossy(&head).to_ascii_lowercase();
    let start = text.trim_start_matches(['\u{feff}', ' ', '\t', '\r', '\n']);
    if !start.starts_with('<') {
        return Ok(None);
    }
    if text.contains("<html") || text.contains("<!doctype html") {
        return Ok(Some(Mode::Html));
    }
    Ok(Some(Mode::Xml))
}

/// A temporary name beside `path`.
fn sibling(path: &Path, what: &str) -> PathBuf {
    let dir = path.parent().unwrap_or(Path::new(""));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    dir.join(format!(
        ".{name}.lc-anonymize-{}.{what}.tmp",
        std::process::id()
    ))
}

/// Copies one file through a temporary sibling and a rename. An error names the file read, or
/// the copy when writing it failed.
fn copy_file(input: &Path, output: &Path, mode: Mode, p: &mut Pseudonyms) -> Result<Stats> {
    let from = File::open(input).map_err(|e| Error::io(input, e))?;
    let tmp = sibling(output, "file");
    let to = File::create(&tmp).map_err(|e| Error::io(output, e))?;
    let mut to = Tracked {
        inner: BufWriter::with_capacity(64 * 1024, to),
        failed: false,
    };
    let result = markup::rewrite(from, &mut to, mode, p);
    let write_failed = to.failed;
    drop(to);
    let stats = match result {
        Ok(s) => s,
        Err(f) => {
            let _ = std::fs::remove_file(&tmp);
            return Err(match f {
                markup::Fail::Io(e) if write_failed => Error::io(output, e),
                markup::Fail::Io(e) => Error::io(input, e),
                markup::Fail::At(line, msg) => Error::parse(input, line, msg),
            });
        }
    };
    if let Err(e) = std::fs::rename(&tmp, output) {
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::io(output, e));
    }
    Ok(stats)
}

/// A writer that remembers whether writing failed, to name the right file in the error.
struct Tracked<W> {
    inner: W,
    failed: bool,
}

impl<W: Write> Write for Tracked<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let r = self.inner.write(buf);
        self.failed |= r.is_err();
        r
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let r = self.inner.flush();
        self.failed |= r.is_err();
        r
    }
}
