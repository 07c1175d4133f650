//! The checks of values that reach a wsadmin call or a path on another host, shared by every
//! module: a UUID by its pattern, a value as one printable line, a remote path as an absolute,
//! plain one. Each refusal names the option it was given for.

use crate::error::{Error, Result};

/// The pattern of a community UUID as Connections writes them: `8-4-4-4-12` hexadecimal
/// digits, any case.
pub fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// Checks that `value` is a community UUID ([`is_uuid`]).
pub fn check_uuid(option: &str, value: &str) -> Result<()> {
    if is_uuid(value) {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "{option} must be a community UUID, got {value:?}"
        )))
    }
}

/// Checks a value bound for a script argument: one line, printable, not empty.
pub fn check_value(option: &str, value: &str) -> Result<()> {
    if value.is_empty() {
        return Err(Error::invalid(format!("{option} must not be empty")));
    }
    if let Some(c) = value.chars().find(|c| c.is_control()) {
        return Err(Error::invalid(format!(
            "{option} must be one printable line, got {value:?} (holds {:?})",
            c
        )));
    }
    Ok(())
}

/// Checks a path bound for a wsadmin call: absolute, forward slashes, no `..`, one line.
pub fn check_remote_path(option: &str, value: &str) -> Result<()> {
    check_value(option, value)?;
    if value.contains('\\') {
        return Err(Error::invalid(format!(
            "{option} must use forward slashes only, got {value:?}"
        )));
    }
    if !value.starts_with('/') {
        return Err(Error::invalid(format!(
            "{option} must be an absolute path, got {value:?}"
        )));
    }
    if value.split('/').any(|p| p == "..") {
        return Err(Error::invalid(format!(
            "{option} must not contain '..', got {value:?}"
        )));
    }
    if value.contains(['"', '\'', '`', '$']) {
        return Err(Error::invalid(format!(
            "{option} must not contain quotes, '`' or '$', got {value:?}"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remote_paths_and_values_are_checked() {
        assert!(check_remote_path("dest_dir", "/opt/exports").is_ok());
        for bad in ["exports", "C:\\x", "/a/../b", "/a\"); x", "/a\nb", ""] {
            assert!(check_remote_path("dest_dir", bad).is_err(), "{bad:?}");
        }
        let msg = check_value("orphans[0].object_id", "a\tb")
            .unwrap_err()
            .one_line();
        assert!(
            msg.starts_with("orphans[0].object_id must be one printable line"),
            "{msg}"
        );
    }

    #[test]
    fn uuids_by_pattern_as_the_expression_had_it() {
        let pattern = regex::Regex::new(
            r"^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$",
        )
        .unwrap();
        for s in [
            "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
            "0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0",
            "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0\")",
            "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0\n",
            "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f",
            "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1fg",
            "0f1e2d3c04b5a-6978-8796-a5b4c3d2e1f0",
            "0f1e2d3c-4b5a-6978-8796-a5b4c3d2é1f",
            "",
        ] {
            assert_eq!(is_uuid(s), pattern.is_match(s), "{s:?}");
        }
        assert!(is_uuid("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"));
        assert!(!is_uuid("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0\")"));
        assert!(check_uuid("resource_id", "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0").is_ok());
        assert_eq!(
            check_uuid("resource_id", "x\"y").unwrap_err().one_line(),
            "resource_id must be a community UUID, got \"x\\\"y\""
        );
    }
}
