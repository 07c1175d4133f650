//! What a value is, and what it becomes: the keep-list, the shapes that carry identity (UUID,
//! e-mail address) and the pseudonyms of one run.
//!
//! A value is judged as the readers see it: entities resolved, white space collapsed and trimmed.
//! In this order:
//! 1. empty, or on the keep-list as a whole: kept. The keep-list holds what carries no identity:
//!    numbers, dates and times, yes/no/true/false, the documented field names and their values
//!    (visibility, moderation, theme), the resource type, the applications' ids and names
//!    ([`lc_core::apps`]) and content types (`text/html; charset=…`);
//! 2. a UUID: a UUID made from it with the run's key (SHA-256), well-formed (version 4), in the
//!    same letter case; no table is kept for UUIDs, so memory does not grow with them;
//! 3. an e-mail address (`mailto:` kept): `user0001@example.com`, numbered in order met;
//! 4. product text: every word is one of the reports' own words (labels, reasons, titles:
//!    [`VOCABULARY`]), a keep-list value, a number, a UUID or an e-mail address: kept, with its
//!    UUIDs and e-mail addresses replaced where they stand;
//! 5. anything else (a name, a title, a free text): `Community 0007`, `Person 0012`, `Title 0003`,
//!    `Id 0002`, `Text 0001` or `Name 0005`; the word comes from where the value was first met
//!    (its attribute or element name, its column's label), the number counts per word.
//!
//! The same value gets the same pseudonym everywhere in one run; two values never get the same
//! one. The numbered pseudonyms need a table of what was met: it holds 16-byte keyed hashes, not
//! the values, so memory grows by about 80 bytes per distinct name or address (none per UUID),
//! whatever the size of the files.

mod lists;
mod shapes;

pub use lists::{KEPT, VOCABULARY};
pub use shapes::{collapse, is_kept, is_uuid};

use std::collections::{HashMap, HashSet};

use regex::Regex;
use sha2::{Digest, Sha256};

/// A UUID anywhere in a text, any letter case.
const UUID_PATTERN: &str =
    r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}";
/// An e-mail address anywhere in a text (ASCII, as directories hold them).
const EMAIL_PATTERN: &str = r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+";

/// The word of a name pseudonym, from where the value was first met.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Word {
    Title,
    Person,
    Id,
    Community,
    Text,
    Name,
    /// Not from a hint: an e-mail address.
    Email,
}

impl Word {
    fn label(self) -> &'static str {
        match self {
            Word::Title => "Title",
            Word::Person => "Person",
            Word::Id => "Id",
            Word::Community => "Community",
            Word::Text => "Text",
            Word::Name => "Name",
            Word::Email => "user",
        }
    }

    /// The word for a value met under `hint` (an element and attribute name, a column label):
    /// its words split at case changes and punctuation.
    fn of_hint(hint: &str) -> Word {
        let words = hint_words(hint);
        let has = |list: &[&str]| words.iter().any(|w| list.contains(&w.as_str()));
        if has(&[
            "title", "subject", "heading", "caption", "h1", "h2", "h3", "h4", "h5", "h6",
        ]) {
            Word::Title
        } else if has(&[
            "by",
            "owner",
            "owners",
            "creator",
            "author",
            "user",
            "users",
            "member",
            "members",
            "person",
            "people",
            "contact",
            "manager",
            "moderator",
            "email",
            "mail",
        ]) {
            Word::Person
        } else if has(&[
            "id",
            "uuid",
            "identifier",
            "identifying",
            "key",
            "exid",
            "extid",
            "guid",
        ]) {
            Word::Id
        } else if has(&["community", "communities"]) {
            Word::Community
        } else if has(&[
            "comment", "script", "style", "p", "div", "span", "body", "html",
        ]) {
            Word::Text
        } else {
            Word::Name
        }
    }
}

/// `createdBy` → `created`, `by`; `Community Name` → `community`, `name`.
fn hint_words(hint: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for c in hint.chars() {
        if !c.is_alphanumeric() {
            prev_lower = false;
            if !cur.is_empty() {
                words.push(std::mem::take(&mut cur));
            }
            continue;
        }
        if c.is_uppercase() && prev_lower && !cur.is_empty() {
            words.push(std::mem::take(&mut cur));
        }
        prev_lower = c.is_lowercase() || c.is_ascii_digit();
        cur.extend(c.to_lowercase());
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    words
}

/// What becomes of one value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Kept as it is.
    Keep,
    /// Replaced as a whole by this text.
    Whole(String),
    /// Product text whose UUIDs and e-mail addresses are replaced where they stand: the text it
    /// becomes.
    InPlace(String),
}

/// The pseudonyms of one run.
pub struct Pseudonyms {
    key: [u8; 32],
    /// Names, titles and e-mail addresses met so far: the keyed hash of the value → its
    /// pseudonym's word and number. The originals are not kept, and an entry is 20 bytes.
    texts: HashMap<[u8; 16], (Word, u32)>,
    counters: HashMap<Word, u32>,
    vocabulary: HashSet<&'static str>,
    email: Regex,
    uuid_bytes: regex::bytes::Regex,
    email_bytes: regex::bytes::Regex,
}

impl Pseudonyms {
    /// A run whose UUID pseudonyms derive from `key`.
    pub fn new(key: [u8; 32]) -> Pseudonyms {
        let whole = |p: &str| Regex::new(&format!("^(?:{p})$")).expect("valid pattern");
        Pseudonyms {
            key,
            texts: HashMap::new(),
            counters: HashMap::new(),
            vocabulary: VOCABULARY.iter().copied().collect(),
            email: whole(&format!("(?:mailto:)?{EMAIL_PATTERN}")),
            uuid_bytes: regex::bytes::Regex::new(UUID_PATTERN).expect("valid pattern"),
            email_bytes: regex::bytes::Regex::new(EMAIL_PATTERN).expect("valid pattern"),
        }
    }

    /// A run with a key from the system's random source: nobody can tell a UUID from its
    /// pseudonym, not even by running the tool again.
    pub fn random() -> std::io::Result<Pseudonyms> {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).map_err(std::io::Error::other)?;
        Ok(Pseudonyms::new(key))
    }

    /// How many names, titles and e-mail addresses have a pseudonym so far.
    pub fn texts(&self) -> usize {
        self.texts.len()
    }

    /// The pseudonym of a UUID: a version-4 UUID from the keyed hash of its lower-case form,
    /// upper-case when the original has upper-case letters.
    pub fn uuid(&self, original: &str) -> String {
        let mut h = Sha256::new();
        h.update(self.key);
        h.update(b"uuid\0");
        h.update(original.to_ascii_lowercase().as_bytes());
        let d = h.finalize();
        let mut b = [0u8; 16];
        b.copy_from_slice(&d[..16]);
        b[6] = (b[6] & 0x0f) | 0x40;
        b[8] = (b[8] & 0x3f) | 0x80;
        let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
        let u = format!(
            "{}-{}-{}-{}-{}",
            &hex[..8],
            &hex[8..12],
            &hex[12..16],
            &hex[16..20],
            &hex[20..]
        );
        if original.bytes().any(|c| c.is_ascii_uppercase()) {
            u.to_ascii_uppercase()
        } else {
            u
        }
    }

    /// The keyed hash a name or address is known by.
    fn text_key(&self, kind: &[u8], value: &str) -> [u8; 16] {
        let mut h = Sha256::new();
        h.update(self.key);
        h.update(kind);
        h.update(value.as_bytes());
        let mut k = [0u8; 16];
        k.copy_from_slice(&h.finalize()[..16]);
        k
    }

    fn render(word: Word, n: u32) -> String {
        match word {
            Word::Email => format!("user{n:04}@example.com"),
            w => format!("{} {n:04}", w.label()),
        }
    }

    /// The pseudonym the run gave a name or an address, if any.
    fn known(&self, key: &[u8; 16]) -> Option<String> {
        self.texts.get(key).map(|&(w, n)| Self::render(w, n))
    }

    fn remember(&mut self, key: [u8; 16], word: Word) -> String {
        if let Some(p) = self.known(&key) {
            return p;
        }
        let n = self.counters.entry(word).or_default();
        *n += 1;
        let n = *n;
        self.texts.insert(key, (word, n));
        Self::render(word, n)
    }

    /// `mailto:` (or nothing) and the address's key.
    fn email_key(&self, original: &str) -> (&'static str, [u8; 16]) {
        let (prefix, address) = match original.strip_prefix("mailto:") {
            Some(a) => ("mailto:", a),
            None => ("", original),
        };
        (
            prefix,
            self.text_key(b"mail\0", &address.to_ascii_lowercase()),
        )
    }

    fn email_pseudonym(&mut self, original: &str) -> String {
        let (prefix, key) = self.email_key(original);
        format!("{prefix}{}", self.remember(key, Word::Email))
    }

    fn name_pseudonym(&mut self, value: &str, hint: &str) -> String {
        let key = self.text_key(b"text\0", value);
        match self.known(&key) {
            Some(p) => p,
            None => self.remember(key, Word::of_hint(hint)),
        }
    }

    /// Whether a text holds a UUID or an e-mail address anywhere.
    pub fn holds_identity(&self, text: &str) -> bool {
        self.uuid_bytes.is_match(text.as_bytes()) || self.email_bytes.is_match(text.as_bytes())
    }

    /// What becomes of `value` (as read: entities resolved, white space collapsed), met under
    /// `hint`; see the module documentation.
    pub fn judge(&mut self, value: &str, hint: &str) -> Verdict {
        if value.is_empty() {
            return Verdict::Keep;
        }
        if is_uuid(value) {
            return Verdict::Whole(self.uuid(value));
        }
        if is_kept(value) {
            return Verdict::Keep;
        }
        if value.contains('@') && self.email.is_match(value) {
            return Verdict::Whole(self.email_pseudonym(value));
        }
        if self.is_product_text(value) {
            let replaced = self.replace_ids(value.as_bytes());
            return match replaced {
                Some(bytes) => Verdict::InPlace(String::from_utf8_lossy(&bytes).into_owned()),
                None => Verdict::Keep,
            };
        }
        Verdict::Whole(self.name_pseudonym(value, hint))
    }

    /// What the run made of `value` (as a reader gives it), without adding anything: the
    /// mapping applied to a fact. A name the run never met comes back as `<unmapped: …>`.
    pub fn apply(&self, value: &str) -> String {
        let v = collapse(value);
        if v.is_empty() {
            return value.to_string();
        }
        if is_uuid(&v) {
            return self.uuid(&v);
        }
        if is_kept(&v) {
            return value.to_string();
        }
        if v.contains('@') && self.email.is_match(&v) {
            let (prefix, key) = self.email_key(&v);
            return match self.known(&key) {
                Some(p) => format!("{prefix}{p}"),
                None => format!("<unmapped: {v}>"),
            };
        }
        if self.is_product_text(&v) {
            let mut out = String::new();
            let mut last = 0;
            for m in self.ids_in(v.as_bytes()) {
                out.push_str(&v[last..m.0]);
                out.push_str(&self.apply(&v[m.0..m.1]));
                last = m.1;
            }
            out.push_str(&v[last..]);
            return if last == 0 { value.to_string() } else { out };
        }
        match self.known(&self.text_key(b"text\0", &v)) {
            Some(p) => p,
            None => format!("<unmapped: {v}>"),
        }
    }

    /// The UUIDs and e-mail addresses in `text`, as byte ranges, in order, not overlapping.
    fn ids_in(&self, text: &[u8]) -> Vec<(usize, usize)> {
        let mut found: Vec<(usize, usize)> = self
            .uuid_bytes
            .find_iter(text)
            .map(|m| (m.start(), m.end()))
            .collect();
        for m in self.email_bytes.find_iter(text) {
            if !found.iter().any(|&(s, e)| m.start() < e && s < m.end()) {
                found.push((m.start(), m.end()));
            }
        }
        found.sort_unstable();
        found
    }

    /// `text` with each UUID and e-mail address replaced by its pseudonym; `None` when it holds
    /// none. Works on raw bytes of any ASCII-compatible encoding (both shapes are ASCII).
    pub fn replace_ids(&mut self, text: &[u8]) -> Option<Vec<u8>> {
        let found = self.ids_in(text);
        if found.is_empty() {
            return None;
        }
        let mut out = Vec::with_capacity(text.len());
        let mut last = 0;
        for (s, e) in found {
            out.extend_from_slice(&text[last..s]);
            let id = String::from_utf8_lossy(&text[s..e]).into_owned();
            let p = if is_uuid(&id) {
                self.uuid(&id)
            } else {
                self.email_pseudonym(&id)
            };
            out.extend_from_slice(p.as_bytes());
            last = e;
        }
        out.extend_from_slice(&text[last..]);
        Some(out)
    }

    /// Every word is the product's own, a kept value, a number, a UUID or an e-mail address.
    fn is_product_text(&self, value: &str) -> bool {
        let mut words = 0;
        for raw in value.split_whitespace() {
            let w = raw.trim_matches(|c: char| !c.is_alphanumeric() && c != '@');
            if w.is_empty() {
                continue;
            }
            words += 1;
            let lower = w.to_lowercase();
            let ok = self.vocabulary.contains(lower.as_str())
                || is_uuid(w)
                || is_kept(w)
                || (w.contains('@') && self.email.is_match(w));
            if !ok {
                return false;
            }
        }
        words > 0
    }
}

#[cfg(test)]
mod tests;
