//! Reading conf text: lines, arguments, Include patterns, paths against ServerRoot.

use crate::error::Error;
use std::path::{Path, PathBuf};

/// The files an Include pattern names, sorted as httpd reads them: a file; a folder (every file
/// below it); or a pattern with `*`, `?` in its components.
pub fn expand_include(pattern: &Path) -> Vec<PathBuf> {
    let mut current = vec![PathBuf::new()];
    for comp in pattern.components() {
        let part = comp.as_os_str().to_string_lossy();
        let mut next = Vec::new();
        for base in &current {
            if part.contains(['*', '?', '[']) {
                let Ok(rd) = std::fs::read_dir(if base.as_os_str().is_empty() {
                    Path::new(".")
                } else {
                    base
                }) else {
                    continue;
                };
                let mut names: Vec<String> = rd
                    .filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| !n.starts_with('.') && wildcard_match(&part, n))
                    .collect();
                names.sort();
                next.extend(names.into_iter().map(|n| base.join(n)));
            } else {
                next.push(base.join(comp.as_os_str()));
            }
        }
        current = next;
    }
    let mut out = Vec::new();
    for p in current {
        files_below(&p, &mut out);
    }
    out
}

fn files_below(p: &Path, out: &mut Vec<PathBuf>) {
    if p.is_dir() {
        let Ok(rd) = std::fs::read_dir(p) else { return };
        let mut names: Vec<PathBuf> = rd.filter_map(|e| e.ok()).map(|e| e.path()).collect();
        names.sort();
        for n in names {
            files_below(&n, out);
        }
    } else if p.exists() {
        out.push(p.to_path_buf());
    }
}

/// `*` and `?` matching, as fnmatch does for one file-name component (`[` taken literally).
fn wildcard_match(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    let (mut pi, mut ni, mut star, mut mark) = (0, 0, None, 0);
    while ni < n.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == n[ni]) {
            pi += 1;
            ni += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ni;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ni = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

/// `p` resolved against `root`, as httpd does; Windows absolute forms count as absolute anywhere.
pub(super) fn resolve_against(root: &Path, p: &str) -> PathBuf {
    let path = PathBuf::from(p);
    let bytes = p.as_bytes();
    // A Windows conf read elsewhere (or on Windows): `C:/…`, `C:\…` and `\\server\…` are absolute.
    let windows_absolute = (bytes.len() >= 3
        && bytes[0].is_ascii_alphabetic()
        && bytes[1] == b':'
        && (bytes[2] == b'/' || bytes[2] == b'\\'))
        || p.starts_with("\\\\");
    if path.is_absolute() || windows_absolute {
        path
    } else {
        root.join(path)
    }
}

pub(super) fn damaged(path: &Path, line: usize, what: &str) -> Error {
    Error::parse(
        path,
        line,
        format!("the maintenance block's markers are damaged ({what}); repair the file by hand"),
    )
}

/// The lines of `bytes`: `(start, end including the line ending, line without it)`.
pub(super) fn lines_of(bytes: &[u8]) -> impl Iterator<Item = (usize, usize, &[u8])> {
    let mut pos = 0;
    std::iter::from_fn(move || {
        if pos >= bytes.len() {
            return None;
        }
        let start = pos;
        let end = match bytes[pos..].iter().position(|&b| b == b'\n') {
            Some(i) => pos + i + 1,
            None => bytes.len(),
        };
        pos = end;
        let mut line = &bytes[start..end];
        line = line.strip_suffix(b"\n").unwrap_or(line);
        line = line.strip_suffix(b"\r").unwrap_or(line);
        Some((start, end, line))
    })
}

/// Splits a directive's words, as httpd does: whitespace, with `"…"` and `'…'` quoting.
pub(super) fn split_args(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let Some(&c) = chars.peek() else { break };
        let mut word = String::new();
        if c == '"' || c == '\'' {
            chars.next();
            while let Some(ch) = chars.next() {
                if ch == '\\' && chars.peek() == Some(&c) {
                    word.push(c);
                    chars.next();
                } else if ch == c {
                    break;
                } else {
                    word.push(ch);
                }
            }
        } else {
            while let Some(&ch) = chars.peek() {
                if ch.is_whitespace() {
                    break;
                }
                word.push(ch);
                chars.next();
            }
        }
        out.push(word);
    }
    out
}
