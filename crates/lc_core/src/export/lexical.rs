//! The byte-level pieces of reading: UUIDs in raw tag text, attributes as XML writes them,
//! attribute values decoded, blank text.

use memchr::{memchr, memchr2};
use quick_xml::events::BytesStart;
use std::borrow::Cow;

/// Whether one of the attribute values of a start tag is a UUID; stops at the first. It looks
/// only at the quoted runs (an attribute value is the only place a quote may open in a tag): a
/// value whose 37th byte is its closing quote is checked as a UUID before its end is searched
/// for, so a UUID value costs no `memchr` and any other value one; the attributes themselves
/// are not checked here.
pub(super) fn carries_uuid(raw: &[u8]) -> bool {
    // `a="` + 36 + `"`: a shorter tag holds no UUID.
    if raw.len() < 40 {
        return false;
    }
    let mut rest = raw;
    // An attribute's name is short: a loop finds the quote after it sooner than `memchr`.
    while let Some(open) = rest.iter().position(|&b| b == b'"' || b == b'\'') {
        let quote = rest[open];
        let value = &rest[open + 1..];
        // A UUID holds no quote, so a value that starts with one ends at its 37th byte.
        if value.get(36) == Some(&quote) && is_uuid_bytes(&value[..36]) {
            return true;
        }
        let Some(close) = memchr(quote, value) else {
            return false;
        };
        rest = &value[close + 1..];
    }
    false
}

/// Where a UUID (8-4-4-4-12 hex digits) has its dashes.
const UUID_DASHES: [bool; 36] = {
    let mut t = [false; 36];
    t[8] = true;
    t[13] = true;
    t[18] = true;
    t[23] = true;
    t
};

/// A UUID as Connections writes them (8-4-4-4-12 hex digits), as bytes. Every byte is checked
/// with arithmetic and no early exit, which the compiler turns into a few vector operations.
pub(super) fn is_uuid_bytes(b: &[u8]) -> bool {
    let Ok(b) = <&[u8; 36]>::try_from(b) else {
        return false;
    };
    let mut bad = false;
    for (&c, &dash) in b.iter().zip(&UUID_DASHES) {
        let hex = (c.wrapping_sub(b'0') < 10) | ((c | 0x20).wrapping_sub(b'a') < 6);
        bad |= if dash { c != b'-' } else { !hex };
    }
    !bad
}

/// The attributes of a start tag, name and raw value in order, as XML writes them:
/// `Name S? = S? "value"` (or `'value'`), whitespace before each, cut at ASCII delimiters found
/// with `memchr`: no allocation, and no assumption about the encoding beyond ASCII.
pub(super) fn raw_attributes(
    raw: &[u8],
) -> impl Iterator<Item = std::result::Result<(&[u8], &[u8]), String>> + '_ {
    let mut rest = Some(raw);
    std::iter::from_fn(move || {
        let text = rest?;
        let trimmed = text.trim_ascii_start();
        if trimmed.is_empty() {
            return None;
        }
        match attribute(trimmed, trimmed.len() < text.len()) {
            Ok((name, value, next)) => {
                rest = Some(next);
                Some(Ok((name, value)))
            }
            Err(why) => {
                rest = None;
                Some(Err(why))
            }
        }
    })
}

/// The attributes of a start tag as text (the tag's bytes checked to be UTF-8 once).
pub(super) fn attributes<'a>(
    e: &'a BytesStart,
) -> impl Iterator<Item = std::result::Result<(&'a str, &'a str), String>> + 'a {
    let raw = e.attributes_raw();
    let utf8 = std::str::from_utf8(raw).is_ok();
    let mut not_utf8 = !utf8;
    let mut inner = raw_attributes(if utf8 { raw } else { b"" });
    std::iter::from_fn(move || {
        if std::mem::take(&mut not_utf8) {
            return Some(Err(
                "not well-formed XML: a start tag is not UTF-8".to_string()
            ));
        }
        let as_str = |b: &'a [u8]| std::str::from_utf8(b).unwrap_or_default();
        inner
            .next()
            .map(|r| r.map(|(name, value)| (as_str(name), as_str(value))))
    })
}

/// An attribute's name, its raw value and the text after it.
type Attribute<'a> = (&'a [u8], &'a [u8], &'a [u8]);

/// One attribute at the start of `text`: its name, its raw value and the text after it.
pub(super) fn attribute(text: &[u8], spaced: bool) -> std::result::Result<Attribute<'_>, String> {
    if !spaced {
        return Err("not well-formed XML: no space between attributes".to_string());
    }
    let mut end = 0;
    let mut bad = false;
    while end < text.len() && text[end] != b'=' && !text[end].is_ascii_whitespace() {
        bad |= matches!(text[end], b'"' | b'\'' | b'<' | b'>' | b'&' | b'/');
        end += 1;
    }
    let (name, after) = text.split_at(end);
    let shown = String::from_utf8_lossy(name);
    if name.is_empty() || bad {
        return Err(format!(
            "not well-formed XML: {shown:?} is not an attribute name"
        ));
    }
    let value = after
        .trim_ascii_start()
        .strip_prefix(b"=")
        .map(<[u8]>::trim_ascii_start)
        .ok_or_else(|| format!("not well-formed XML: the attribute {shown} has no value"))?;
    let quote = match value.first() {
        Some(&q @ (b'"' | b'\'')) => q,
        _ => {
            return Err(format!(
                "not well-formed XML: the value of {shown} is not quoted"
            ))
        }
    };
    let value = &value[1..];
    let close = memchr(quote, value)
        .ok_or_else(|| format!("not well-formed XML: the value of {shown} has no closing quote"))?;
    if memchr(b'<', &value[..close]).is_some() {
        return Err("not well-formed XML: '<' in an attribute value".to_string());
    }
    Ok((name, &value[..close], &value[close + 1..]))
}

/// An attribute's raw value as text: no `<`; entities and character references replaced.
pub(super) fn decode(raw: &str) -> std::result::Result<Cow<'_, str>, String> {
    match memchr2(b'<', b'&', raw.as_bytes()).map(|i| raw.as_bytes()[i]) {
        None => Ok(Cow::Borrowed(raw)),
        Some(b'<') => Err("not well-formed XML: '<' in an attribute value".to_string()),
        Some(_) if raw.contains('<') => {
            Err("not well-formed XML: '<' in an attribute value".to_string())
        }
        Some(_) => {
            quick_xml::escape::unescape(raw).map_err(|e| format!("not well-formed XML: {e}"))
        }
    }
}

pub(super) fn is_blank(text: &[u8]) -> bool {
    text.iter().all(|b| b.is_ascii_whitespace()) || text == "\u{feff}".as_bytes()
}
