//! The modes of the files a recovery leaves in its work folders (exports, reports, the resync's
//! state): they list private communities' names, so only the profile's owner and its group may
//! read them. Folders the modules make are 0750, files they write or settle are 0640, whatever
//! the umask of the process (or of the server that wrote an export) was.

use crate::{Error, Result};
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::Path;

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_folders_are_0750_and_existing_ones_keep_their_mode() {
        let tmp = tempfile::tempdir().unwrap();
        let deep = tmp.path().join("a/b/c");
        create_dir(&deep).unwrap();
        for d in [tmp.path().join("a"), tmp.path().join("a/b"), deep.clone()] {
            let mode = std::fs::metadata(&d).unwrap().permissions().mode() & 0o7777;
            // The umask may take bits away, never add them.
            assert_eq!(mode & !DIR_MODE, 0, "{}: {mode:o}", d.display());
        }
        std::fs::set_permissions(&deep, std::fs::Permissions::from_mode(0o700)).unwrap();
        create_dir(&deep).unwrap();
        let mode = std::fs::metadata(&deep).unwrap().permissions().mode() & 0o7777;
        assert_eq!(mode, 0o700);
    }

    #[test]
    fn restrict_makes_a_file_0640() {
        let tmp = tempfile::tempdir().unwrap();
        let f = tmp.path().join("Files.xml");
        std::fs::write(&f, "x").unwrap();
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o666)).unwrap();
        restrict(&f).unwrap();
        let mode = std::fs::metadata(&f).unwrap().permissions().mode() & 0o7777;
        assert_eq!(mode, FILE_MODE);
        let err = restrict(&tmp.path().join("missing"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("missing"), "{err}");
    }
}
