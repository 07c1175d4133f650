//! Files the modules write: the work folders and files' modes, atomic writes and temporary
//! files.
//!
//! - The files a recovery leaves in its work folders (exports, reports, the resync's state) list
//!   private communities' names, so only the profile's owner and its group may read them.
//!   Folders the modules make are [`DIR_MODE`] (0750, [`create_dir`]), files they write or settle
//!   are [`FILE_MODE`] (0640, [`restrict`]), whatever the umask of the process (or of the server
//!   that wrote an export) was.
//! - [`write_atomic`] edits a file in place (a link is followed, an existing file keeps its mode
//!   and owner); [`replace_atomic`] puts a new file where the old one was (a link there is
//!   replaced). Both write a [`TempFile`] beside the target, sync it and rename it, so that a
//!   reader sees the old file or the new one, never half of one.
//! - [`TempFile::private`] is a 0600 file for one run (a script, credentials), removed when
//!   dropped.

use crate::error::{Error, ErrorKind, Result};
use std::io::Write as _;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// The mode of a work folder a module makes.
pub const DIR_MODE: u32 = 0o750;
/// The mode of a work file a module writes or settles.
pub const FILE_MODE: u32 = 0o640;

/// Makes `dir` and its missing parents with [`DIR_MODE`] (less what the umask takes away); an
/// existing folder keeps its owner and mode.
pub fn create_dir(dir: &Path) -> Result<()> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(DIR_MODE)
        .create(dir)
        .map_err(|e| Error::io(dir, e))
}

/// Gives the file `path` the mode [`FILE_MODE`].
pub fn restrict(path: &Path) -> Result<()> {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(FILE_MODE))
        .map_err(|e| Error::io(path, e))
}

/// Writes `bytes` to `target` atomically: temp file in the same folder, sync, rename. An existing
/// file keeps its mode; a new one gets `mode`. A symbolic link is followed: the file it points to
/// is replaced, the link stays.
pub fn write_atomic(target: &Path, bytes: &[u8], mode: u32) -> Result<()> {
    TempFile::write(target, bytes, mode)?.persist()
}

/// Writes `content` to a temporary file beside `path`, flushes it to disk and renames it over
/// `path`, so that a reader sees the old file or the new one, never half of one. The new file is
/// `mode` less what the umask takes away, whatever was at `path` before (a link there is replaced,
/// not followed). An error names `path`.
pub fn replace_atomic(path: &Path, content: &[u8], mode: u32) -> Result<()> {
    TempFile::replacing(path, content, mode)
        .and_then(TempFile::persist)
        .map_err(|e| match e {
            Error {
                context: None,
                kind: ErrorKind::Io { source, .. },
            } => Error::io(path, source),
            e => e,
        })
}

/// How a [`TempFile`] ends.
#[derive(Debug)]
enum Fate {
    /// Renamed over this path by [`TempFile::persist`] (removed if it is not).
    Target(PathBuf),
    /// Removed when dropped.
    Removed,
}

/// A temporary file, created exclusively. One beside a target ([`TempFile::write`],
/// [`TempFile::replacing`]) is in the target's folder, so that the rename is atomic; it is removed
/// on drop unless [`TempFile::persist`] renamed it into place. A private one
/// ([`TempFile::private`]) is always removed on drop.
#[derive(Debug)]
pub struct TempFile {
    path: PathBuf,
    fate: Fate,
    done: bool,
}

impl TempFile {
    /// Writes `bytes` to a new temporary file beside `target`, with `target`'s mode and owner
    /// when it exists (else `mode`), and syncs it to disk.
    /// A symbolic link is followed: the file it points to is replaced, the link stays.
    pub fn write(target: &Path, bytes: &[u8], mode: u32) -> Result<TempFile> {
        let resolved;
        let target = match std::fs::symlink_metadata(target) {
            Ok(m) if m.file_type().is_symlink() => {
                resolved = std::fs::canonicalize(target).map_err(|e| Error::io(target, e))?;
                resolved.as_path()
            }
            _ => target,
        };
        let dir = folder_of(target);
        let file_name = name_of(target);
        let existing = std::fs::metadata(target).ok();
        let nanos = nanos();
        let (mut f, tmp) = TempFile::create(
            &dir,
            20,
            |attempt| {
                format!(
                    ".{file_name}.lc-recover.{}.{}.tmp",
                    std::process::id(),
                    nanos.wrapping_add(attempt)
                )
            },
            None,
            Fate::Target(target.to_path_buf()),
        )?
        .ok_or_else(|| {
            Error::io(
                &dir,
                std::io::Error::new(
                    std::io::ErrorKind::AlreadyExists,
                    "no free temporary file name",
                ),
            )
        })?;
        f.write_all(bytes).map_err(|e| Error::io(&tmp.path, e))?;
        set_mode_like(&tmp.path, existing.as_ref(), mode)?;
        f.sync_all().map_err(|e| Error::io(&tmp.path, e))?;
        Ok(tmp)
    }

    /// Writes `bytes` to a new temporary file beside `target` (not following a link there), made
    /// with `mode` less what the umask takes away, and syncs it to disk.
    pub fn replacing(target: &Path, bytes: &[u8], mode: u32) -> Result<TempFile> {
        let dir = folder_of(target);
        let file_name = name_of(target);
        let (mut f, tmp) = TempFile::create(
            &dir,
            20,
            |attempt| format!(".{file_name}.{}.{attempt}.tmp", std::process::id()),
            Some(mode),
            Fate::Target(target.to_path_buf()),
        )?
        .ok_or_else(|| {
            Error::io(
                target,
                std::io::Error::new(
                    std::io::ErrorKind::AlreadyExists,
                    "no free temporary file name",
                ),
            )
        })?;
        f.write_all(bytes).map_err(|e| Error::io(&tmp.path, e))?;
        f.sync_all().map_err(|e| Error::io(&tmp.path, e))?;
        Ok(tmp)
    }

    /// Writes `content` to a new file `<prefix>-<pid>-<nanos>-<attempt><suffix>` in `dir`, 0600,
    /// removed when dropped. Not synced: such a file lives for one run and is read from the page
    /// cache, so syncing it only costs time (two disk flushes per call).
    pub fn private(dir: &Path, prefix: &str, suffix: &str, content: &[u8]) -> Result<TempFile> {
        let (mut f, tmp) = TempFile::create(
            dir,
            100,
            |attempt| {
                format!(
                    "{prefix}-{}-{}-{attempt}{suffix}",
                    std::process::id(),
                    nanos()
                )
            },
            Some(0o600),
            Fate::Removed,
        )?
        .ok_or_else(|| {
            Error::invalid(format!(
                "cannot create a private temporary file in {}",
                dir.display()
            ))
        })?;
        f.write_all(content).map_err(|e| Error::io(&tmp.path, e))?;
        Ok(tmp)
    }

    /// Creates the first free name of `attempts` in `dir`, exclusively (with `mode` when given,
    /// else the default). `None` when every name was taken.
    fn create(
        dir: &Path,
        attempts: u32,
        name: impl Fn(u32) -> String,
        mode: Option<u32>,
        fate: Fate,
    ) -> Result<Option<(std::fs::File, TempFile)>> {
        for attempt in 0..attempts {
            let path = dir.join(name(attempt));
            let mut opts = std::fs::OpenOptions::new();
            opts.write(true).create_new(true);
            if let Some(mode) = mode {
                opts.mode(mode);
            }
            match opts.open(&path) {
                Ok(f) => {
                    let tmp = TempFile {
                        path,
                        fate,
                        done: false,
                    };
                    return Ok(Some((f, tmp)));
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(Error::io(&path, e)),
            }
        }
        Ok(None)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Renames the temporary file over its target and syncs the folder. A private file has no
    /// target: it is left as it is, to be removed on drop.
    pub fn persist(mut self) -> Result<()> {
        let Fate::Target(target) = &self.fate else {
            return Err(Error::invalid(format!(
                "{} is a private temporary file, not one to put in place",
                self.path.display()
            )));
        };
        std::fs::rename(&self.path, target).map_err(|e| Error::io(target, e))?;
        self.done = true;
        if let Some(dir) = target.parent() {
            // Best effort: some platforms cannot open a folder for syncing.
            if let Ok(d) = std::fs::File::open(if dir.as_os_str().is_empty() {
                Path::new(".")
            } else {
                dir
            }) {
                let _ = d.sync_all();
            }
        }
        Ok(())
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.done {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

fn folder_of(target: &Path) -> PathBuf {
    match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn name_of(target: &Path) -> String {
    target
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn nanos() -> u32 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos())
}

fn set_mode_like(path: &Path, existing: Option<&std::fs::Metadata>, mode: u32) -> Result<()> {
    use std::os::unix::fs::MetadataExt;
    let mode = existing.map(|m| m.mode() & 0o7777).unwrap_or(mode);
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(|e| Error::io(path, e))?;
    if let Some(m) = existing {
        // Keeping the owner needs privileges we may not have; the mode matters most.
        let _ = std::os::unix::fs::chown(path, Some(m.uid()), Some(m.gid()));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
