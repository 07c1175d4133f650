//! What a value is by its shape: kept (numbers, dates, application names, content types), a
//! UUID; and white space collapsed as the readers see it.

use std::borrow::Cow;
use std::collections::HashSet;

use super::KEPT;

/// On the keep-list: see the module documentation.
pub fn is_kept(value: &str) -> bool {
    KEPT.iter().any(|k| k.eq_ignore_ascii_case(value))
        || is_number_or_date(value)
        || (value.contains('/') && is_content_type(value))
        || is_app_name(value)
}

/// An application's id or one of its names ([`lc_core::apps`]), compared as
/// [`lc_core::apps::by_name`] does (case, spaces, `-` and `_` aside), from a table made once.
fn is_app_name(value: &str) -> bool {
    static KEYS: std::sync::OnceLock<HashSet<String>> = std::sync::OnceLock::new();
    let fold = |s: &str| -> String {
        s.chars()
            .filter(|c| !matches!(c, ' ' | '-' | '_'))
            .flat_map(char::to_lowercase)
            .collect()
    };
    if value.len() > 32
        || !value
            .bytes()
            .all(|b| b.is_ascii_alphabetic() || b" _-".contains(&b))
    {
        return false;
    }
    let keys = KEYS.get_or_init(|| {
        lc_core::apps::APPS
            .iter()
            .flat_map(|a| std::iter::once(a.id).chain(a.names.iter().copied()))
            .map(fold)
            .collect()
    });
    keys.contains(&fold(value))
}

/// `8-4-4-4-12` hexadecimal digits, any case (the check every module uses).
pub use lc_core::validate::is_uuid;

/// Numbers (`12`, `-3.5`, `1,234`), dates and times (`2025-01-15 09:00:00.000`,
/// `Wed Jan 15 09:00:00 UTC 2025`, `15.01.2025`, `1/15/25 9:00 AM`).
fn is_number_or_date(value: &str) -> bool {
    const WORDS: &[&str] = &[
        "am",
        "pm",
        "utc",
        "gmt",
        "z",
        "cet",
        "cest",
        "est",
        "edt",
        "pst",
        "pdt",
        "jan",
        "feb",
        "mar",
        "apr",
        "may",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "january",
        "february",
        "march",
        "april",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
        "mon",
        "tue",
        "wed",
        "thu",
        "fri",
        "sat",
        "sun",
    ];
    let mut digits = false;
    for token in value.split(|c: char| c.is_whitespace() || c == ',') {
        if token.is_empty() {
            continue;
        }
        if token
            .bytes()
            .all(|b| b.is_ascii_digit() || b"+-.:/TZ".contains(&b))
        {
            digits |= token.bytes().any(|b| b.is_ascii_digit());
            if !token.bytes().any(|b| b.is_ascii_digit()) {
                return false;
            }
        } else if !WORDS.contains(&token.trim_end_matches('.').to_lowercase().as_str()) {
            return false;
        }
    }
    digits
}

/// `text/html; charset=ISO-8859-1` and the like.
fn is_content_type(value: &str) -> bool {
    let mut parts = value.split(';');
    let mime = parts.next().unwrap_or("").trim();
    let Some((a, b)) = mime.split_once('/') else {
        return false;
    };
    let token = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|c| c.is_ascii_alphanumeric() || b"-+.".contains(&c))
    };
    token(a)
        && token(b)
        && matches!(a, "text" | "application")
        && parts.all(|p| match p.split_once('=') {
            Some((k, v)) => token(k.trim()) && token(v.trim().trim_matches('"')),
            None => false,
        })
}

/// White space collapsed to single spaces and trimmed (a byte-order mark counts as space).
pub fn collapse(text: &str) -> Cow<'_, str> {
    let b = text.as_bytes();
    let plain = text.is_ascii()
        && b.first().is_none_or(|c| !c.is_ascii_whitespace())
        && b.last().is_none_or(|c| !c.is_ascii_whitespace())
        && !b.windows(2).any(|w| w[0] == b' ' && w[1] == b' ')
        && !b.iter().any(|&c| c.is_ascii_whitespace() && c != b' ');
    if plain {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    for w in text
        .split(|c: char| c.is_whitespace() || c == '\u{feff}')
        .filter(|w| !w.is_empty())
    {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(w);
    }
    Cow::Owned(out)
}
