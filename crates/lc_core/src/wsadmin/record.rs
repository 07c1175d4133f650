//! The marker lines a generated script prints (`@@lcr@@<TAB>tag<TAB>field…`, tabs, line breaks
//! and backslashes escaped) and what a run gave back.

/// The prefix of the lines a generated script prints for its caller.
pub const MARKER: &str = "@@lcr@@";

/// One marker line: its tag and fields, unescaped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub tag: String,
    pub fields: Vec<String>,
}

impl Record {
    pub fn field(&self, i: usize) -> &str {
        self.fields.get(i).map(String::as_str).unwrap_or("")
    }
}

/// What a successful wsadmin run gave back.
#[derive(Debug, Clone)]
pub struct Output {
    pub records: Vec<Record>,
    /// Everything printed, for the rare parse that needs the plain text.
    pub text: String,
}

impl Output {
    pub fn tagged<'a>(&'a self, tag: &'a str) -> impl Iterator<Item = &'a Record> + 'a {
        self.records.iter().filter(move |r| r.tag == tag)
    }

    /// The plain lines an admin call printed between the script's `begin` and `end` records
    /// labelled `label` (marker lines left out); `None` when no such `begin` was printed. A
    /// section cut short (no `end`) runs to the end of the output.
    pub fn section(&self, label: &str) -> Option<Vec<&str>> {
        let mut lines = Vec::new();
        let mut inside = false;
        let mut found = false;
        for line in self.text.lines() {
            if let Some(r) = parse_records(line).first() {
                if r.field(0) == label && (r.tag == "begin" || r.tag == "end") {
                    inside = r.tag == "begin";
                    found |= inside;
                }
                continue;
            }
            if inside {
                lines.push(line.trim_end_matches('\r'));
            }
        }
        found.then_some(lines)
    }
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('\\') => out.push('\\'),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// Picks the marker lines out of wsadmin's output.
pub fn parse_records(text: &str) -> Vec<Record> {
    text.lines()
        .filter_map(|line| {
            let line = line.trim_end_matches('\r');
            let rest = line.strip_prefix(MARKER)?.strip_prefix('\t')?;
            let mut parts = rest.split('\t');
            let tag = parts.next()?.to_string();
            Some(Record {
                tag,
                fields: parts.map(unescape).collect(),
            })
        })
        .collect()
}
