//! Values written back in place and XML's entities read.

use std::borrow::Cow;

use super::*;

/// `new` in place of the non-blank part of `raw`, keeping its leading and trailing white space,
/// escaped for where it stands (ASCII only, so any encoding read can hold it).
pub(super) fn framed(raw: &[u8], new: &str, ctx: Ctx) -> Vec<u8> {
    let lead = raw.iter().take_while(|b| b.is_ascii_whitespace()).count();
    let trail = raw[lead..]
        .iter()
        .rev()
        .take_while(|b| b.is_ascii_whitespace())
        .count();
    let mut out = raw[..lead].to_vec();
    for c in new.chars() {
        match (c, ctx) {
            (_, Ctx::Raw) if c.is_ascii() => out.push(c as u8),
            ('&', _) => out.extend_from_slice(b"&amp;"),
            ('<', _) => out.extend_from_slice(b"&lt;"),
            ('>', _) => out.extend_from_slice(b"&gt;"),
            ('"', _) => out.extend_from_slice(b"&quot;"),
            ('\'', _) => out.extend_from_slice(b"&#39;"),
            (c, Ctx::Raw) => out.extend_from_slice(format!("&#{};", c as u32).as_bytes()),
            (c, _) if c.is_ascii() => out.push(c as u8),
            (c, _) => out.extend_from_slice(format!("&#{};", c as u32).as_bytes()),
        }
    }
    if lead < raw.len() {
        out.extend_from_slice(&raw[raw.len() - trail..]);
    }
    out
}

/// XML's entities and character references resolved.
pub(super) fn quick_unescape(text: &str) -> Result<Cow<'_, str>, String> {
    if !text.contains('&') {
        return Ok(Cow::Borrowed(text));
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let end = after
            .find(';')
            .ok_or_else(|| "an '&' that starts no entity".to_string())?;
        let name = &after[..end];
        let c = match name {
            "lt" => '<',
            "gt" => '>',
            "amp" => '&',
            "apos" => '\'',
            "quot" => '"',
            _ => {
                let n = if let Some(h) = name.strip_prefix("#x").or(name.strip_prefix("#X")) {
                    u32::from_str_radix(h, 16).ok()
                } else if let Some(d) = name.strip_prefix('#') {
                    d.parse().ok()
                } else {
                    None
                };
                n.and_then(char::from_u32)
                    .ok_or_else(|| format!("&{name}; is not an XML entity"))?
            }
        };
        out.push(c);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(Cow::Owned(out))
}
