//! Backups of a conf before it is changed, named as Ansible names them.

use crate::error::{Error, Result};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// Copies `path` to `<path>.<pid>.<YYYY-MM-DD@HH:MM:SS>~` (Ansible's backup naming, UTC time)
/// and returns the copy's path.
pub fn backup_copy(path: &Path) -> Result<PathBuf> {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".{}.{}~", std::process::id(), utc_stamp(secs)));
    let backup = PathBuf::from(name);
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    crate::fs::write_atomic(&backup, &bytes, 0o600)?;
    if let Ok(m) = std::fs::metadata(path) {
        let _ = std::fs::set_permissions(&backup, m.permissions());
    }
    Ok(backup)
}

/// `YYYY-MM-DD@HH:MM:SS` for seconds since the epoch, UTC.
pub fn utc_stamp(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}@{:02}:{:02}:{:02}",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60
    )
}
