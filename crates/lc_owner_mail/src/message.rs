//! An owner's message as an Internet message (RFC 5322, MIME): the header lines the template may
//! start with, addresses, encoded words (RFC 2047) for what is not ASCII, a UTF-8 body in 7bit or
//! quoted-printable, CRLF line ends, and the dot-stuffing of SMTP's DATA.

use std::fmt::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

/// The header lines a message text may open with (then an empty line): `Subject` and `Reply-To`
/// are used; `To` and `From` are set by the module (the owner's address, the `from` option).
pub const TEMPLATE_HEADERS: &[&str] = &["to", "from", "subject", "reply-to"];

/// What the text of a message says before its body.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Head {
    pub subject: Option<String>,
    pub reply_to: Option<String>,
}

/// Splits a message text into its opening header lines and the body. The opening lines count as
/// headers only when each is one of [`TEMPLATE_HEADERS`] (`Name: value`, any case) and an empty
/// line follows them; otherwise the whole text is the body.
pub fn split(text: &str) -> (Head, &str) {
    let mut head = Head::default();
    let mut rest = text;
    let mut lines = 0;
    loop {
        let (line, after) = match rest.find('\n') {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => return (Head::default(), text),
        };
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.is_empty() {
            return if lines > 0 {
                (head, after)
            } else {
                (Head::default(), text)
            };
        }
        let Some((name, value)) = line.split_once(':') else {
            return (Head::default(), text);
        };
        let name = name.to_ascii_lowercase();
        if !TEMPLATE_HEADERS.contains(&name.as_str()) {
            return (Head::default(), text);
        }
        let value = value.trim().to_string();
        match name.as_str() {
            "subject" => head.subject = Some(value),
            "reply-to" if !value.is_empty() => head.reply_to = Some(value),
            _ => {}
        }
        lines += 1;
        rest = after;
    }
}

/// Whether `addr` is an address this module sends to: `local@domain`, printable ASCII, no
/// spaces, angle brackets, quotes or commas (an address that needs quoting or SMTPUTF8 is not
/// mailed; the result says so).
pub fn valid_address(addr: &str) -> bool {
    let Some((local, domain)) = addr.rsplit_once('@') else {
        return false;
    };
    let ok = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_graphic() && !b"<>()[]\\,;:\"@".contains(&b))
    };
    ok(local)
        && ok(domain)
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !addr.contains("..")
}

/// `Name <address>` or `address`, as the `from` option and `Reply-To` lines give it.
pub fn parse_mailbox(text: &str) -> Option<(String, String)> {
    let t = text.trim();
    if let (Some(open), true) = (t.rfind('<'), t.ends_with('>')) {
        let addr = t[open + 1..t.len() - 1].trim().to_string();
        let name = t[..open].trim().trim_matches('"').trim().to_string();
        return valid_address(&addr).then_some((name, addr));
    }
    valid_address(t).then(|| (String::new(), t.to_string()))
}

/// A mailbox for a header: `address`, `Name <address>`, `"Name, Jr." <address>`, or the name as
/// encoded words when it is not ASCII.
pub fn mailbox(name: &str, addr: &str) -> String {
    let name = name.trim();
    if name.is_empty() {
        return addr.to_string();
    }
    if needs_encoding(name) {
        return format!("{} <{addr}>", encoded_words(name).join(" "));
    }
    let atext = |c: char| c.is_ascii_alphanumeric() || " !#$%&'*+-/=?^_`{|}~".contains(c);
    if name.chars().all(atext) {
        format!("{name} <{addr}>")
    } else {
        let quoted = name.replace('\\', "\\\\").replace('"', "\\\"");
        format!("\"{quoted}\" <{addr}>")
    }
}

fn needs_encoding(s: &str) -> bool {
    !s.is_ascii() || s.contains("=?") || s.chars().any(|c| c.is_ascii_control())
}

/// RFC 2047 `B` encoded words, each at most 75 characters, cut on character boundaries.
pub fn encoded_words(s: &str) -> Vec<String> {
    // 42 bytes give 56 base64 characters: 10 + 56 + 2 = 68, and "Subject: " + 68 < 78.
    const MAX: usize = 42;
    let mut words = Vec::new();
    let mut start = 0;
    let mut end = 0;
    for (i, c) in s.char_indices() {
        if i + c.len_utf8() - start > MAX {
            words.push(&s[start..end]);
            start = i;
        }
        end = i + c.len_utf8();
    }
    if end > start {
        words.push(&s[start..end]);
    }
    words
        .into_iter()
        .map(|w| format!("=?UTF-8?B?{}?=", lc_core::base64::encode(w.as_bytes())))
        .collect()
}

/// The `Subject:` header line(s), folded: encoded words for text that is not ASCII, else the text
/// folded at spaces so that lines stay within 78 characters where it can.
pub fn subject_header(subject: &str) -> String {
    let subject: String = subject
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let words: Vec<String> = if needs_encoding(&subject) {
        encoded_words(&subject)
    } else {
        subject.split(' ').map(str::to_string).collect()
    };
    let mut out = String::from("Subject:");
    let mut line_len = out.len();
    for w in words {
        if line_len + 1 + w.len() > 78 && line_len > "Subject:".len() {
            out.push_str("\r\n");
            line_len = 0;
        }
        out.push(' ');
        out.push_str(&w);
        line_len += 1 + w.len();
    }
    out
}

/// The date as RFC 5322 writes it, in UTC: `Wed, 02 Dec 2026 01:39:30 +0000`.
pub fn rfc5322_date(unix: u64) -> String {
    let (y, m, d, hh, mm, ss) = civil(unix);
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let weekday = DAYS[((unix / 86_400) % 7) as usize];
    format!(
        "{weekday}, {d:02} {} {y} {hh:02}:{mm:02}:{ss:02} +0000",
        MONTHS[(m - 1) as usize]
    )
}

/// The time as `2026-12-02T01:39:30Z`, for the record.
pub fn iso_date(unix: u64) -> String {
    let (y, m, d, hh, mm, ss) = civil(unix);
    format!("{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}Z")
}

/// Year, month, day, hour, minute, second (UTC) of a Unix time, by the proleptic Gregorian
/// calendar (days are counted in 400-year eras of 146 097 days, years starting in March).
fn civil(unix: u64) -> (u64, u64, u64, u64, u64, u64) {
    let days = unix / 86_400;
    let secs = unix % 86_400;
    let z = days + 719_468; // days since 0000-03-01
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = era * 400 + yoe + u64::from(m <= 2);
    (y, m, d, secs / 3600, secs % 3600 / 60, secs % 60)
}

pub fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// The body as MIME carries it: its `Content-Transfer-Encoding` and the encoded text with CRLF
/// line ends. Plain ASCII with lines within 998 characters stays as it is (7bit); anything else
/// is quoted-printable (UTF-8), lines of at most 76 characters.
pub fn body(text: &str) -> (&'static str, String) {
    let text = text.replace("\r\n", "\n");
    let lines: Vec<&str> = text
        .strip_suffix('\n')
        .unwrap_or(&text)
        .split('\n')
        .collect();
    let plain = text.is_ascii()
        && lines.iter().all(|l| l.len() <= 998)
        && !text.bytes().any(|b| b == b'\r' || b == 0);
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    if plain {
        for l in &lines {
            out.push_str(l);
            out.push_str("\r\n");
        }
        return ("7bit", out);
    }
    for l in &lines {
        quoted_printable_line(l, &mut out);
        out.push_str("\r\n");
    }
    ("quoted-printable", out)
}

fn quoted_printable_line(line: &str, out: &mut String) {
    let bytes = line.as_bytes();
    let mut len = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let last = i + 1 == bytes.len();
        let literal = (b == b' ' || b == b'\t') && !last || (33..=126).contains(&b) && b != b'=';
        let piece_len = if literal { 1 } else { 3 };
        // Room for the piece and a soft break ("=") on a line of at most 76.
        if len + piece_len > 75 {
            out.push_str("=\r\n");
            len = 0;
        }
        if literal {
            out.push(b as char);
        } else {
            let _ = write!(out, "={b:02X}");
        }
        len += piece_len;
    }
}

/// The DATA of SMTP: every line that starts with "." gets one more (RFC 5321 4.5.2), and the
/// terminating line.
pub fn dot_stuffed(message: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len() + 8);
    for line in message.split_inclusive("\r\n") {
        if line.starts_with('.') {
            out.push(b'.');
        }
        out.extend_from_slice(line.as_bytes());
    }
    if !out.ends_with(b"\r\n") {
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b".\r\n");
    out
}

/// What one mail is made of.
pub struct Mail<'a> {
    pub from: (&'a str, &'a str),
    pub to: (&'a str, &'a str),
    pub reply_to: Option<(String, String)>,
    pub subject: &'a str,
    pub body: &'a str,
    pub date: u64,
    pub message_id: &'a str,
}

impl Mail<'_> {
    /// The whole message, headers and body, with CRLF line ends (not yet dot-stuffed).
    pub fn render(&self) -> String {
        let (encoding, body) = body(self.body);
        let mut m = String::with_capacity(body.len() + 512);
        let _ = write!(m, "Date: {}\r\n", rfc5322_date(self.date));
        let _ = write!(m, "From: {}\r\n", mailbox(self.from.0, self.from.1));
        let _ = write!(m, "To: {}\r\n", mailbox(self.to.0, self.to.1));
        if let Some((name, addr)) = &self.reply_to {
            let _ = write!(m, "Reply-To: {}\r\n", mailbox(name, addr));
        }
        let _ = write!(m, "{}\r\n", subject_header(self.subject));
        let _ = write!(m, "Message-ID: {}\r\n", self.message_id);
        m.push_str("MIME-Version: 1.0\r\n");
        m.push_str("Content-Type: text/plain; charset=UTF-8\r\n");
        let _ = write!(m, "Content-Transfer-Encoding: {encoding}\r\n");
        // RFC 3834: sent by a program, so that vacation replies are not sent back.
        m.push_str("Auto-Submitted: auto-generated\r\n");
        m.push_str("\r\n");
        m.push_str(&body);
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_templates_header_lines_are_read_and_the_rest_is_the_body() {
        let (head, body) = split("To: Ann <a@x.org>\nSubject: Hello there\n\nHi Ann,\n");
        assert_eq!(head.subject.as_deref(), Some("Hello there"));
        assert_eq!(body, "Hi Ann,\n");
        // Not headers: a line that is not one of ours, or no empty line after them.
        let text = "Dear ANN (Example):\n* one\n";
        assert_eq!(split(text), (Head::default(), text));
        let text = "Note: read this\n\nbody\n";
        assert_eq!(split(text), (Head::default(), text));
        let text = "Subject: no body after it";
        assert_eq!(split(text), (Head::default(), text));
        let (head, body) = split("subject: x\r\nreply-to: Desk <desk@x.org>\r\n\r\nb");
        assert_eq!(
            (head.subject.as_deref(), head.reply_to.as_deref(), body),
            (Some("x"), Some("Desk <desk@x.org>"), "b")
        );
    }

    #[test]
    fn addresses_and_mailboxes() {
        assert!(valid_address("dana.fox@example.com"));
        for bad in [
            "u-eli", "", "a@", "@b", "a b@c", "a@b..c", "<a@b>", "é@x.org", "a@b\r\n",
        ] {
            assert!(!valid_address(bad), "{bad:?}");
        }
        assert_eq!(
            parse_mailbox("Connections admins <admins@example.com>"),
            Some(("Connections admins".into(), "admins@example.com".into()))
        );
        assert_eq!(
            parse_mailbox("admins@example.com"),
            Some((String::new(), "admins@example.com".into()))
        );
        assert_eq!(parse_mailbox("admins"), None);
        assert_eq!(mailbox("Ann Lee", "a@x.org"), "Ann Lee <a@x.org>");
        assert_eq!(mailbox("Lee, Ann", "a@x.org"), "\"Lee, Ann\" <a@x.org>");
        assert_eq!(mailbox("", "a@x.org"), "a@x.org");
        assert_eq!(mailbox("Zoë", "z@x.org"), "=?UTF-8?B?Wm/Dqw==?= <z@x.org>");
    }

    #[test]
    fn encoded_words_stay_within_75_characters_and_cut_between_characters() {
        let s = "Ünïcödé ".repeat(20);
        let words = encoded_words(&s);
        assert!(words.len() > 1);
        for w in &words {
            assert!(
                w.len() <= 75 && w.starts_with("=?UTF-8?B?") && w.ends_with("?="),
                "{w}"
            );
        }
        assert!(subject_header(&s).lines().all(|l| l.len() <= 78));
        assert_eq!(
            subject_header("Please re-save \"Alpha\""),
            "Subject: Please re-save \"Alpha\""
        );
        assert!(subject_header("Bitte öffnen").starts_with("Subject: =?UTF-8?B?"));
    }

    #[test]
    fn dates() {
        assert_eq!(rfc5322_date(0), "Thu, 01 Jan 1970 00:00:00 +0000");
        assert_eq!(
            rfc5322_date(1_796_175_570),
            "Wed, 02 Dec 2026 01:39:30 +0000"
        );
        assert_eq!(iso_date(951_782_400), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn bodies_are_7bit_or_quoted_printable_with_crlf_and_dots_stuffed() {
        assert_eq!(body("a\n.b\n"), ("7bit", "a\r\n.b\r\n".into()));
        let (enc, text) = body("Grüße, Zoë = x \n");
        assert_eq!(enc, "quoted-printable");
        assert_eq!(text, "Gr=C3=BC=C3=9Fe, Zo=C3=AB =3D x=20\r\n");
        let long = "é".repeat(100);
        let (_, text) = body(&long);
        assert!(text.split("\r\n").all(|l| l.len() <= 76), "{text}");
        assert_eq!(
            dot_stuffed("a\r\n.b\r\n..c\r\n"),
            b"a\r\n..b\r\n...c\r\n.\r\n"
        );
        assert_eq!(dot_stuffed("a"), b"a\r\n.\r\n");
    }
}
