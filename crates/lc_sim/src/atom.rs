//! The cell's Communities Atom API, as far as step 8 needs it: the members feed of a community,
//! filtered by role and paged (`GET /communities/service/atom/community/members?communityUuid=
//! <uuid>&role=owner&ps=<n>&page=<p>`), on a loopback port of its own, behind HTTP Basic
//! authentication with the cell's administrator. `lc-sim atom owners` prints what it serves.
//!
//! Who owns what is derived from the state, the same way each time: a community's owners are
//! those of its record, except that for one community in four the creator has stopped being an
//! owner (a successor is named when nobody else is left); one person in five hides their e-mail
//! address (the feed then has no `<email>`). A request for a community listed with `--delay`
//! is answered only after that many seconds, to play a server that hangs.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context as _, Result};
use serde::Serialize;

use crate::model::{Cell, Community, Person};
use crate::util::escape;

/// The path of the members feed.
pub const MEMBERS_PATH: &str = "/communities/service/atom/community/members";
/// The page size when the request names none (the product's default).
pub const DEFAULT_PAGE_SIZE: usize = 10;

#[derive(clap::Subcommand)]
pub enum AtomCommand {
    /// Serve the Atom API of the cell in DIR on 127.0.0.1:PORT (0: a free port) until killed;
    /// prints {"port": N} once it listens.
    Serve {
        dir: PathBuf,
        #[arg(long, default_value_t = 0)]
        port: u16,
        /// UUID=SECONDS: answer requests for that community after a delay (repeatable).
        #[arg(long)]
        delay: Vec<String>,
    },
    /// Print every community's owners as the API gives them (JSON: uuid -> owners).
    Owners { dir: PathBuf },
}

/// An owner as the feed shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Owner {
    pub name: String,
    /// Empty when the person hides it.
    pub email: String,
    pub user_id: String,
    pub email_hidden: bool,
}

fn hash(s: &str) -> u64 {
    // FNV-1a: stable across runs and builds.
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn owner(p: &Person) -> Owner {
    let hidden = hash(&p.ext_id).is_multiple_of(5);
    Owner {
        name: p.name.clone(),
        email: if hidden {
            String::new()
        } else {
            format!(
                "{}.{}@example.com",
                p.name.to_lowercase().replace(' ', "."),
                &p.ext_id[..4]
            )
        },
        user_id: p.ext_id.clone(),
        email_hidden: hidden,
    }
}

/// Whether the creator of this community is no longer one of its owners.
pub fn creator_left(c: &Community) -> bool {
    hash(&c.uuid).is_multiple_of(4)
}

/// The community's owners, in the order the feed lists them.
pub fn owners_of(c: &Community) -> Vec<Owner> {
    let mut people: Vec<Person> = c.owners.clone();
    if creator_left(c) {
        people.retain(|p| p.ext_id != c.created_by.ext_id);
        if people.is_empty() {
            let h = hash(&c.uuid);
            people.push(Person {
                name: format!(
                    "{} Successor",
                    ["Alex", "Sam", "Kim", "Noor"][(h >> 8) as usize % 4]
                ),
                ext_id: format!(
                    "{:08x}-5000-4000-8000-{:012x}",
                    h >> 32,
                    h & 0xFFFF_FFFF_FFFF
                ),
            });
        }
    }
    people.iter().map(owner).collect()
}

pub fn cli(cmd: AtomCommand) -> Result<()> {
    match cmd {
        AtomCommand::Owners { dir } => {
            let cell = Cell::open(&dir)?;
            let (world, _) = cell.snapshot()?;
            let all: std::collections::BTreeMap<&str, Vec<Owner>> = world
                .communities
                .values()
                .map(|c| (c.uuid.as_str(), owners_of(c)))
                .collect();
            crate::print_lines(&[serde_json::to_string_pretty(&all)?]);
            Ok(())
        }
        AtomCommand::Serve { dir, port, delay } => {
            let mut delays = HashMap::new();
            for d in &delay {
                let (uuid, secs) = d
                    .split_once('=')
                    .with_context(|| format!("--delay {d:?}: give UUID=SECONDS"))?;
                let secs: f64 = secs
                    .parse()
                    .with_context(|| format!("--delay {d:?}: SECONDS is not a number"))?;
                delays.insert(uuid.to_string(), secs);
            }
            serve(&dir, port, delays)
        }
    }
}

fn serve(dir: &Path, port: u16, delays: HashMap<String, f64>) -> Result<()> {
    let cell = Cell::open(dir)?;
    let credentials = format!("{}:{}", cell.config.admin_user, cell.config.admin_password);
    let listener = TcpListener::bind(("127.0.0.1", port)).context("binding the Atom API port")?;
    let port = listener.local_addr()?.port();
    crate::print_lines(&[format!("{{\"port\": {port}}}")]);
    let dir = dir.to_path_buf();
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        let (dir, credentials, delays) = (dir.clone(), credentials.clone(), delays.clone());
        std::thread::spawn(move || {
            let _ = answer(stream, &dir, &credentials, &delays);
        });
    }
    Ok(())
}

fn answer(
    stream: TcpStream,
    dir: &Path,
    credentials: &str,
    delays: &HashMap<String, f64>,
) -> Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut auth = None;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 || h.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            if k.trim().eq_ignore_ascii_case("authorization") {
                auth = Some(v.trim().to_string());
            }
        }
    }
    let mut parts = line.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let q: HashMap<String, String> = query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), percent_decode(v)))
        .collect();
    let reply = if auth
        .as_deref()
        .and_then(|a| a.strip_prefix("Basic "))
        .map(decode_base64)
        != Some(Some(credentials.as_bytes().to_vec()))
    {
        (401, "text/plain", "authentication required\n".to_string())
    } else if method != "GET" || path != MEMBERS_PATH {
        (404, "text/plain", format!("no resource {path}\n"))
    } else {
        let uuid = q.get("communityUuid").cloned().unwrap_or_default();
        if let Some(secs) = delays.get(&uuid) {
            std::thread::sleep(Duration::from_secs_f64(*secs));
        }
        let (world, _) = Cell::open(dir)?.snapshot()?;
        match world.communities.get(&uuid) {
            None => (404, "text/plain", format!("no community {uuid}\n")),
            Some(c) => members_feed(c, &q).map_or_else(
                |e| (400, "text/plain", format!("{e}\n")),
                |xml| (200, "application/atom+xml; charset=UTF-8", xml),
            ),
        }
    };
    let (status, kind, body) = reply;
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        _ => "Not Found",
    };
    let mut out = stream;
    write!(
        out,
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n{}\r\n{body}",
        body.len(),
        if status == 401 { "WWW-Authenticate: Basic realm=\"Connections\"\r\n" } else { "" }
    )?;
    out.flush()?;
    Ok(())
}

/// One page of the members feed of `c` (role owner: its owners; no role: the same, as the cell
/// keeps no other members).
fn members_feed(c: &Community, q: &HashMap<String, String>) -> Result<String> {
    let number = |k: &str, default: usize| -> Result<usize> {
        match q.get(k) {
            None => Ok(default),
            Some(v) => match v.parse::<usize>() {
                Ok(n) if n > 0 => Ok(n),
                _ => bail!("{k} must be a positive number"),
            },
        }
    };
    let ps = number("ps", DEFAULT_PAGE_SIZE)?;
    let page = number("page", 1)?;
    if let Some(role) = q.get("role") {
        if role != "owner" && role != "member" {
            bail!("role must be owner or member");
        }
    }
    let owners = owners_of(c);
    let start = (page - 1).saturating_mul(ps);
    let base = format!(
        "{MEMBERS_PATH}?communityUuid={}&amp;role=owner&amp;ps={ps}",
        c.uuid
    );
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\" xmlns:app=\"http://www.w3.org/2007/app\" xmlns:opensearch=\"http://a9.com/-/spec/opensearch/1.1/\" xmlns:snx=\"http://www.ibm.com/xmlns/prod/sn\">\n");
    xml.push_str(&format!(
        "<id>{base}&amp;page={page}</id>\n<title type=\"text\">Members of {}</title>\n<opensearch:totalResults>{}</opensearch:totalResults>\n<opensearch:startIndex>{}</opensearch:startIndex>\n<opensearch:itemsPerPage>{ps}</opensearch:itemsPerPage>\n<link href=\"{base}&amp;page={page}\" rel=\"self\" type=\"application/atom+xml\"/>\n",
        escape(&c.name),
        owners.len(),
        start + 1
    ));
    if start + ps < owners.len() {
        xml.push_str(&format!(
            "<link href=\"{base}&amp;page={}\" rel=\"next\" type=\"application/atom+xml\"/>\n",
            page + 1
        ));
    }
    for o in owners.iter().skip(start).take(ps) {
        xml.push_str(&format!(
            "<entry>\n<id>urn:lsid:ibm.com:communities:member-{uuid}-{id}</id>\n<title type=\"text\">{name}</title>\n<contributor>\n<name>{name}</name>\n{email}<snx:userid>{id}</snx:userid>\n<snx:userState>active</snx:userState>\n</contributor>\n<snx:role component=\"http://www.ibm.com/xmlns/prod/sn/communities\">owner</snx:role>\n</entry>\n",
            uuid = c.uuid,
            id = escape(&o.user_id),
            name = escape(&o.name),
            email = if o.email.is_empty() {
                String::new()
            } else {
                format!("<email>{}</email>\n", escape(&o.email))
            }
        ));
    }
    xml.push_str("</feed>\n");
    Ok(xml)
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 3 <= b.len() => {
                let hex = std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(v) => {
                        out.push(v);
                        i += 3;
                        continue;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b'+' => out.push(b' '),
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn decode_base64(s: &str) -> Option<Vec<u8>> {
    let value = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let s = s.trim_end_matches('=').as_bytes();
    let mut out = Vec::new();
    for chunk in s.chunks(4) {
        let mut n = 0u32;
        for (i, c) in chunk.iter().enumerate() {
            n |= value(*c)? << (18 - 6 * i);
        }
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&bytes[..chunk.len().saturating_sub(1)]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_and_percent_decode() {
        assert_eq!(decode_base64("d2FzYWRtaW46eA==").unwrap(), b"wasadmin:x");
        assert_eq!(decode_base64("YWJj").unwrap(), b"abc");
        assert_eq!(percent_decode("a%20b+c%2"), "a b c%2");
    }
}
