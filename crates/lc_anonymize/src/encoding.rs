//! The character encodings read: those whose bytes below 0x80 are ASCII, so that markup can be
//! found byte by byte, kept values copied as they are and (ASCII) pseudonyms written in place.
//! Anything else is refused, never guessed at.

use std::borrow::Cow;

/// An encoding a file declares (XML declaration, HTML `<meta charset>`, a byte-order mark).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    Ascii,
    Latin1,
    Windows1252,
}

/// What is read, for messages.
pub const SUPPORTED: &str = "UTF-8, US-ASCII, ISO-8859-1 and windows-1252";

impl Encoding {
    /// The encoding a declaration names; `None` for one not read.
    pub fn from_label(label: &str) -> Option<Encoding> {
        let l = label.trim().trim_matches(['"', '\'']).to_ascii_lowercase();
        Some(match l.as_str() {
            "utf-8" | "utf8" => Encoding::Utf8,
            "us-ascii" | "ascii" | "ansi_x3.4-1968" | "iso646-us" => Encoding::Ascii,
            "iso-8859-1" | "iso8859-1" | "iso_8859-1" | "latin1" | "latin-1" | "l1" | "cp819"
            | "ibm819" | "iso-ir-100" => Encoding::Latin1,
            "windows-1252" | "cp1252" | "x-cp1252" => Encoding::Windows1252,
            _ => return None,
        })
    }

    /// The bytes as text; the error says what was wrong.
    pub fn decode(self, raw: &[u8]) -> Result<Cow<'_, str>, String> {
        if raw.is_ascii() {
            return Ok(Cow::Borrowed(std::str::from_utf8(raw).expect("ASCII")));
        }
        match self {
            Encoding::Utf8 => std::str::from_utf8(raw)
                .map(Cow::Borrowed)
                .map_err(|_| "bytes that are not UTF-8, in a file read as UTF-8".to_string()),
            Encoding::Ascii => Err("bytes above 0x7F in a file that declares US-ASCII".to_string()),
            Encoding::Latin1 => Ok(Cow::Owned(raw.iter().map(|&b| b as char).collect())),
            Encoding::Windows1252 => Ok(Cow::Owned(raw.iter().map(|&b| cp1252(b)).collect())),
        }
    }
}

/// A windows-1252 byte as a character (0x80–0x9F differ from ISO-8859-1).
fn cp1252(b: u8) -> char {
    const HIGH: [char; 32] = [
        '\u{20ac}', '\u{81}', '\u{201a}', '\u{192}', '\u{201e}', '\u{2026}', '\u{2020}',
        '\u{2021}', '\u{2c6}', '\u{2030}', '\u{160}', '\u{2039}', '\u{152}', '\u{8d}', '\u{17d}',
        '\u{8f}', '\u{90}', '\u{2018}', '\u{2019}', '\u{201c}', '\u{201d}', '\u{2022}', '\u{2013}',
        '\u{2014}', '\u{2dc}', '\u{2122}', '\u{161}', '\u{203a}', '\u{153}', '\u{9d}', '\u{17e}',
        '\u{178}',
    ];
    match b {
        0x80..=0x9f => HIGH[(b - 0x80) as usize],
        _ => b as char,
    }
}

/// The `encoding="…"` of an XML declaration (`<?xml version="1.0" encoding="ISO-8859-1"?>`).
pub fn xml_declared(decl: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(decl);
    let at = text.find("encoding")?;
    let rest = text[at + "encoding".len()..]
        .trim_start()
        .strip_prefix('=')?;
    let rest = rest.trim_start();
    let quote = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let value = &rest[1..];
    Some(value[..value.find(quote)?].to_string())
}

/// The charset of `text/html; charset=ISO-8859-1`.
pub fn charset_of_content(content: &str) -> Option<String> {
    let lower = content.to_ascii_lowercase();
    let at = lower.find("charset")?;
    let rest = content[at + "charset".len()..]
        .trim_start()
        .strip_prefix('=')?;
    let value: String = rest
        .trim_start()
        .trim_start_matches(['"', '\''])
        .chars()
        .take_while(|c| !c.is_whitespace() && !matches!(c, ';' | '"' | '\''))
        .collect();
    (!value.is_empty()).then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_and_decoding() {
        assert_eq!(Encoding::from_label("ISO-8859-1"), Some(Encoding::Latin1));
        assert_eq!(Encoding::from_label(" utf-8 "), Some(Encoding::Utf8));
        assert_eq!(Encoding::from_label("Shift_JIS"), None);
        assert_eq!(Encoding::Latin1.decode(b"R\xe9seau").unwrap(), "Réseau");
        assert_eq!(Encoding::Windows1252.decode(b"\x80").unwrap(), "€");
        assert!(Encoding::Utf8.decode(b"R\xe9seau").is_err());
        assert!(Encoding::Ascii.decode(b"\xe9").is_err());
        assert_eq!(
            xml_declared(b"<?xml version='1.0' encoding = 'ISO-8859-1'?>").as_deref(),
            Some("ISO-8859-1")
        );
        assert_eq!(xml_declared(b"<?xml version=\"1.0\"?>"), None);
        assert_eq!(
            charset_of_content("text/html; charset=\"windows-1252\"").as_deref(),
            Some("windows-1252")
        );
    }
}
