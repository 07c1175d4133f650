use super::*;

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o7777
}

#[test]
fn new_folders_are_0750_and_existing_ones_keep_their_mode() {
    let tmp = tempfile::tempdir().unwrap();
    let deep = tmp.path().join("a/b/c");
    create_dir(&deep).unwrap();
    for d in [tmp.path().join("a"), tmp.path().join("a/b"), deep.clone()] {
        let mode = mode(&d);
        // The umask may take bits away, never add them.
        assert_eq!(mode & !DIR_MODE, 0, "{}: {mode:o}", d.display());
    }
    std::fs::set_permissions(&deep, std::fs::Permissions::from_mode(0o700)).unwrap();
    create_dir(&deep).unwrap();
    assert_eq!(mode(&deep), 0o700);
}

#[test]
fn restrict_makes_a_file_0640() {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("Files.xml");
    std::fs::write(&f, "x").unwrap();
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o666)).unwrap();
    restrict(&f).unwrap();
    assert_eq!(mode(&f), FILE_MODE);
    let err = restrict(&tmp.path().join("missing"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("missing"), "{err}");
}

#[test]
fn atomic_write_keeps_mode_and_follows_links() {
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("httpd.conf.real");
    std::fs::write(&real, "old\n").unwrap();
    std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o640)).unwrap();
    let link = dir.path().join("httpd.conf");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    write_atomic(&link, b"new\n", 0o644).unwrap();
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(std::fs::read(&real).unwrap(), b"new\n");
    assert_eq!(mode(&real), 0o640);
    let fresh = dir.path().join("page.htm");
    write_atomic(&fresh, b"x", 0o644).unwrap();
    assert_eq!(mode(&fresh), 0o644);
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        3,
        "no temporary file left"
    );
}

#[test]
fn a_temp_file_not_persisted_is_removed() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("httpd.conf");
    std::fs::write(&target, "old\n").unwrap();
    let tmp = TempFile::write(&target, b"new\n", 0o644).unwrap();
    let path = tmp.path().to_path_buf();
    assert_eq!(path.parent(), Some(dir.path()));
    assert_eq!(std::fs::read(&path).unwrap(), b"new\n");
    drop(tmp);
    assert!(!path.exists());
    assert_eq!(std::fs::read(&target).unwrap(), b"old\n");
}

#[test]
fn replace_puts_a_new_file_in_place_of_a_link() {
    let dir = tempfile::tempdir().unwrap();
    let elsewhere = dir.path().join("elsewhere.json");
    std::fs::write(&elsewhere, "theirs\n").unwrap();
    std::fs::set_permissions(&elsewhere, std::fs::Permissions::from_mode(0o644)).unwrap();
    let report = dir.path().join("recovery-report.json");
    std::os::unix::fs::symlink(&elsewhere, &report).unwrap();
    replace_atomic(&report, b"{}\n", FILE_MODE).unwrap();
    assert!(!std::fs::symlink_metadata(&report)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(std::fs::read(&report).unwrap(), b"{}\n");
    assert_eq!(std::fs::read(&elsewhere).unwrap(), b"theirs\n");
    // The umask may take bits away, never add them.
    assert_eq!(mode(&report) & !FILE_MODE, 0);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
    let err = replace_atomic(&dir.path().join("missing/x.json"), b"", FILE_MODE)
        .unwrap_err()
        .one_line();
    assert!(
        err.starts_with(&format!("{}/missing/x.json: ", dir.path().display())),
        "{err}"
    );
}

#[test]
fn private_files_are_0600_and_go_when_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let a = TempFile::private(dir.path(), "lcr-soap", ".props", b"k=v\n").unwrap();
    let b = TempFile::private(dir.path(), "lcr-soap", ".props", b"k=w\n").unwrap();
    assert_ne!(a.path(), b.path());
    let name = a.path().file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        name.starts_with("lcr-soap-") && name.ends_with(".props"),
        "{name}"
    );
    assert_eq!(mode(a.path()), 0o600);
    assert_eq!(std::fs::read(a.path()).unwrap(), b"k=v\n");
    let path = a.path().to_path_buf();
    assert!(a.persist().is_err());
    assert!(!path.exists());
    drop(b);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}
