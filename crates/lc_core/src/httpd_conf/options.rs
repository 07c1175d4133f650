//! The options that end up in the conf (`allow_from`, `page_name`, `assets_path`,
//! `error_codes`): validated here, so that nothing a task passes can change anything outside its
//! own line.

use crate::error::{Error, Result};
use std::net::{IpAddr, Ipv4Addr};

/// One `allow_from` entry, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AllowEntry {
    /// An IPv4 or IPv6 address.
    Ip(String),
    /// A network: `10.1.0.0/16`, `10.1.0.0/255.255.0.0`, `fd00::/8`.
    Network(String),
    /// A host name (Apache checks it with a double reverse DNS lookup).
    Host(String),
}

impl AllowEntry {
    /// Checks one entry; the error names it, quoted and escaped, on one line.
    pub fn parse(entry: &str) -> Result<AllowEntry> {
        let bad = || {
            Error::invalid(format!(
                "allow_from entry {entry:?} is not an IP address, a CIDR range or a host name"
            ))
        };
        if entry.is_empty() || entry.len() > 253 {
            return Err(bad());
        }
        if entry.eq_ignore_ascii_case("all") {
            return Err(Error::invalid(format!(
                "allow_from entry {entry:?} would let everyone in: list the addresses that may reach the site during maintenance"
            )));
        }
        if let Ok(ip) = entry.parse::<IpAddr>() {
            return Ok(AllowEntry::Ip(ip.to_string()));
        }
        if let Some((addr, mask)) = entry.split_once('/') {
            let ok = match addr.parse::<IpAddr>() {
                Ok(IpAddr::V4(_)) => {
                    mask.parse::<u8>()
                        .is_ok_and(|m| m <= 32 && !mask.starts_with('+'))
                        || mask.parse::<Ipv4Addr>().is_ok()
                }
                Ok(IpAddr::V6(_)) => mask
                    .parse::<u8>()
                    .is_ok_and(|m| m <= 128 && !mask.starts_with('+')),
                Err(_) => false,
            };
            return if ok {
                Ok(AllowEntry::Network(entry.to_string()))
            } else {
                Err(bad())
            };
        }
        // Digits and dots only: Apache would read a partial address; insist on a whole one.
        if entry.chars().all(|c| c.is_ascii_digit() || c == '.') {
            return Err(bad());
        }
        let label_ok = |l: &str| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        };
        let name = entry.strip_suffix('.').unwrap_or(entry);
        if name.split('.').all(label_ok) {
            Ok(AllowEntry::Host(entry.to_string()))
        } else {
            Err(bad())
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            AllowEntry::Ip(s) | AllowEntry::Network(s) | AllowEntry::Host(s) => s,
        }
    }
}

/// Checks `allow_from`: at least one entry, each valid; duplicates dropped, order kept.
pub fn parse_allow_from(entries: &[String]) -> Result<Vec<AllowEntry>> {
    if entries.is_empty() {
        return Err(Error::invalid(
            "allow_from is empty: list the addresses that may reach the site during maintenance (the administrators' and every WebSphere machine's)",
        ));
    }
    let mut out: Vec<AllowEntry> = Vec::new();
    for e in entries {
        let entry = AllowEntry::parse(e)?;
        if !out.contains(&entry) {
            out.push(entry);
        }
    }
    Ok(out)
}

/// Checks `page_name`: a plain file name that is safe in a URL and in the conf.
pub fn check_page_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 255
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "page_name {name:?} must be a plain file name (letters, digits, '.', '_', '-'; no folders)"
        )))
    }
}

/// Checks `assets_path`: an URL prefix below `/` with no `..` and nothing the conf would misread.
pub fn check_assets_path(path: &str) -> Result<()> {
    let ok = path.starts_with('/')
        && path.len() > 1
        && path.len() <= 1024
        && !path.split('/').any(|seg| seg == ".." || seg == ".")
        && path
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '.' | '_' | '-' | '~'));
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "assets_path {path:?} must be an URL prefix such as /assets/ (letters, digits, '/', '.', '_', '-', '~'; not / alone, no ..)"
        )))
    }
}

/// Checks `error_codes`: HTTP error statuses.
pub fn check_error_codes(codes: &[i64]) -> Result<Vec<u16>> {
    codes
        .iter()
        .map(|&c| {
            u16::try_from(c)
                .ok()
                .filter(|c| (400..=599).contains(c))
                .ok_or_else(|| {
                    Error::invalid(format!(
                        "error_codes entry {c} is not an HTTP error status (400-599)"
                    ))
                })
        })
        .collect()
}
