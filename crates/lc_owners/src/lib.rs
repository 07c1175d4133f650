//! The lc_owners module: options, the Atom API client and the members feed reader.
//!
//! For each community to contact, `GET <url>/communities/service/atom/community/members?
//! communityUuid=<uuid>&role=owner&ps=<page_size>&page=<n>` is read page after page (until a page
//! has no `rel="next"` link and the entries reach `opensearch:totalResults`), `concurrency`
//! communities at a time, each request bounded by `timeout`. Credentials go in an
//! `Authorization: Basic` header, never in a URL. A community whose lookup fails keeps its
//! creator as the owner to contact and is listed in `unresolved` with the reason.

use lc_core::recovery::{self, CommunityToContact, Owner, Recovery};
use lc_core::{Context, Elem, Error, Module, Outcome, Secret};
use quick_xml::events::Event;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

pub struct Owners;

/// The members feed, relative to the server's URL.
pub const MEMBERS_PATH: &str = "/communities/service/atom/community/members";
/// The most pages read for one community (a server that keeps saying "next").
pub const MAX_PAGES: usize = 1000;

lc_core::options! {
    #[derive(Debug)]
    pub struct Options {
        pub communities: Vec<CommunityToContact> => list(Elem::Dict).required(),
        pub url: String => str().required(),
        pub user: Option<String> => str(),
        pub password: Option<Secret> => secret(),
        pub ca_path: Option<String> => path(),
        pub validate_certs: bool => bool().default(true),
        pub timeout: i64 => int().default(30),
        pub concurrency: i64 => int().default(4),
        pub page_size: i64 => int().default(100),
        pub report_dir: Option<String> => path(),
    }
}

/// How one community's lookup ended.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Unresolved {
    pub uuid: String,
    pub name: String,
    pub reason: String,
}

impl Module for Owners {
    const NAME: &'static str = "lc_owners";
    type Options = Options;

    fn run(o: Options, ctx: &Context) -> Result<Outcome, Error> {
        let base = check_url(&o.url)?;
        if o.user.is_some() != o.password.as_ref().is_some_and(|p| !p.is_empty()) {
            return Err(Error::invalid(
                "user and password go together: give both or neither",
            ));
        }
        for (name, v, max) in [
            ("timeout", o.timeout, 3600),
            ("concurrency", o.concurrency, 32),
            ("page_size", o.page_size, 1000),
        ] {
            if v < 1 || v > max {
                return Err(Error::invalid(format!(
                    "{name} must be between 1 and {max}, not {v}"
                )));
            }
        }
        let report = match &o.report_dir {
            Some(dir) => {
                let path = PathBuf::from(dir).join(recovery::JSON_FILE);
                let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
                let r: Recovery = serde_json::from_str(&text).map_err(|e| {
                    Error::invalid(format!("{} is not a recovery report: {e}", path.display()))
                })?;
                Some((PathBuf::from(dir), r))
            }
            None => None,
        };
        let agent = agent(&o)?;
        if ctx.check_mode {
            return Ok(Outcome::new(false)
                .msg(format!(
                    "would look up the owners of {} communities at {base}",
                    o.communities.len()
                ))
                .with("communities", &o.communities));
        }
        let auth = o.user.as_ref().zip(o.password.as_ref()).map(|(u, p)| {
            format!(
                "Basic {}",
                lc_core::base64::encode(format!("{u}:{}", p.expose()).as_bytes())
            )
        });
        let client = Client {
            agent,
            base,
            auth,
            page_size: o.page_size as usize,
        };
        let results = client.look_up_all(&o.communities, o.concurrency as usize);

        let mut communities = o.communities.clone();
        let mut unresolved = Vec::new();
        let mut hidden = Vec::new();
        for (c, r) in communities.iter_mut().zip(results) {
            match r {
                Ok(owners) if !owners.is_empty() => {
                    for ow in owners.iter().filter(|ow| ow.email.is_empty()) {
                        if !hidden.contains(&ow.user_id) {
                            hidden.push(ow.user_id.clone());
                        }
                    }
                    c.owners = owners;
                }
                Ok(_) => unresolved.push(Unresolved {
                    uuid: c.uuid.clone(),
                    name: c.name.clone(),
                    reason: "the feed lists no owner".into(),
                }),
                Err(reason) => unresolved.push(Unresolved {
                    uuid: c.uuid.clone(),
                    name: c.name.clone(),
                    reason,
                }),
            }
        }
        let owners_total: usize = {
            let mut keys: Vec<&str> = communities
                .iter()
                .flat_map(|c| c.owners.iter().map(|o| o.user_id.as_str()))
                .collect();
            keys.sort_unstable();
            keys.dedup();
            keys.len()
        };
        let mut changed = false;
        if let Some((dir, mut r)) = report {
            let by_uuid: std::collections::HashMap<&str, &CommunityToContact> =
                communities.iter().map(|c| (c.uuid.as_str(), c)).collect();
            for c in &mut r.communities_to_contact {
                if let Some(found) = by_uuid.get(c.uuid.as_str()) {
                    c.owners = found.owners.clone();
                }
            }
            let before = std::fs::read(dir.join(recovery::JSON_FILE)).ok();
            if before.as_deref() != Some(r.to_json().as_bytes()) {
                r.write(&dir)?;
                changed = true;
            }
        }
        let mut msg = format!(
            "{owners_total} owners of {} communities looked up at {}",
            communities.len() - unresolved.len(),
            client.base
        );
        if !hidden.is_empty() {
            msg.push_str(&format!(
                "; {} hide their e-mail address: their user id stands for it",
                hidden.len()
            ));
        }
        if !unresolved.is_empty() {
            msg.push_str(&format!(
                "; {} communities keep their creator as the owner to contact, as the lookup failed: {}",
                unresolved.len(),
                unresolved
                    .iter()
                    .map(|u| format!("{} ({})", u.uuid, u.reason))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        Ok(Outcome::new(changed)
            .msg(msg)
            .with("communities", &communities)
            .with("owners_total", owners_total)
            .with("hidden_emails", &hidden)
            .with("unresolved", &unresolved))
    }
}

/// The server's URL without a trailing slash: http or https, a host, no credentials or query.
pub fn check_url(url: &str) -> Result<String, Error> {
    let u = url.trim().trim_end_matches('/');
    let rest = u
        .strip_prefix("https://")
        .or_else(|| u.strip_prefix("http://"))
        .ok_or_else(|| {
            Error::invalid(format!(
                "url must start with https:// (or http://), not {u:?}"
            ))
        })?;
    let host = rest.split('/').next().unwrap_or("");
    if host.is_empty() || host.contains('@') || rest.contains(['?', '#', ' ']) {
        return Err(Error::invalid(format!(
            "url must be the server's address, like https://connections.example.com, with no user, query or spaces: {u:?}"
        )));
    }
    Ok(u.to_string())
}

fn agent(o: &Options) -> Result<ureq::Agent, Error> {
    let config = lc_core::tls::client_config(o.validate_certs, o.ca_path.as_deref())?;
    Ok(ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(o.timeout as u64))
        .tls_config(config)
        .redirects(0)
        .build())
}

/// One community's owners, or why they could not be read.
type Lookup = Result<Vec<Owner>, String>;

struct Client {
    agent: ureq::Agent,
    base: String,
    auth: Option<String>,
    page_size: usize,
}

impl Client {
    /// Every community's owners (or why not), in the order given, `workers` at a time.
    fn look_up_all(&self, communities: &[CommunityToContact], workers: usize) -> Vec<Lookup> {
        let next = AtomicUsize::new(0);
        let results: Mutex<Vec<Option<Lookup>>> = Mutex::new(vec![None; communities.len()]);
        std::thread::scope(|s| {
            for _ in 0..workers.min(communities.len()).max(1) {
                s.spawn(|| loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(c) = communities.get(i) else { break };
                    let r = self.owners_of(&c.uuid);
                    if let Ok(mut all) = results.lock() {
                        all[i] = Some(r);
                    }
                });
            }
        });
        results
            .into_inner()
            .unwrap_or_default()
            .into_iter()
            .map(|r| r.unwrap_or_else(|| Err("not looked up".into())))
            .collect()
    }

    fn owners_of(&self, uuid: &str) -> Lookup {
        if !uuid
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || ch == '-')
        {
            return Err("not a community UUID".into());
        }
        let mut owners: Vec<Owner> = Vec::new();
        for page in 1..=MAX_PAGES {
            let url = format!(
                "{}{MEMBERS_PATH}?communityUuid={uuid}&role=owner&ps={}&page={page}",
                self.base, self.page_size
            );
            let mut req = self.agent.get(&url);
            if let Some(a) = &self.auth {
                req = req.set("Authorization", a);
            }
            let body = match req.call() {
                Ok(resp) => resp
                    .into_string()
                    .map_err(|e| format!("reading page {page}: {e}"))?,
                Err(ureq::Error::Status(code, resp)) => {
                    let text = resp.status_text().to_string();
                    return Err(match code {
                        401 | 403 => format!("HTTP {code} {text}: check user and password"),
                        _ => format!("HTTP {code} {text}"),
                    });
                }
                Err(ureq::Error::Transport(t)) => return Err(transport_message(&t)),
            };
            let feed = parse_members(&body).map_err(|e| format!("page {page}: {e}"))?;
            let got = feed.owners.len();
            for o in feed.owners {
                if !owners
                    .iter()
                    .any(|x| x.user_id == o.user_id && x.name == o.name)
                {
                    owners.push(o);
                }
            }
            let more_by_count = feed.total.is_some_and(|t| owners.len() < t);
            if got == 0 || !(feed.next || more_by_count) {
                return Ok(owners);
            }
        }
        Err(format!("more than {MAX_PAGES} pages"))
    }
}

fn transport_message(t: &ureq::Transport) -> String {
    let text = t.to_string();
    if text.contains("timed out") || text.contains("Timeout") || text.contains("WouldBlock") {
        "no answer within the timeout".to_string()
    } else if let Some(refused) = lc_core::tls::certificate_refused(&text) {
        refused
    } else {
        text
    }
}

/// One page of a members feed: the owners listed, the total it announces, whether a next page
/// is linked.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct MembersPage {
    pub owners: Vec<Owner>,
    pub total: Option<usize>,
    pub next: bool,
}

/// Reads a members feed (Atom): each `entry`'s `contributor` (`name`, `email`, `snx:userid`) and
/// `snx:role`; entries whose role is not `owner` are left out. Namespace prefixes are ignored.
pub fn parse_members(xml: &str) -> Result<MembersPage, String> {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut page = MembersPage::default();
    let mut path: Vec<String> = Vec::new();
    let mut entry: Option<(Owner, String)> = None;
    let mut text = String::new();
    let mut seen_feed = false;
    loop {
        let ev = reader.read_event().map_err(|e| format!("not XML: {e}"))?;
        match ev {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let name = local(e.name().as_ref());
                if name == "feed" {
                    seen_feed = true;
                }
                if name == "link" && path.last().map(String::as_str) == Some("feed") {
                    page.next |= e
                        .attributes()
                        .flatten()
                        .any(|a| local(a.key.as_ref()) == "rel" && a.value.as_ref() == b"next");
                }
                if matches!(ev, Event::Start(_)) {
                    if name == "entry" {
                        entry = Some((Owner::default(), String::new()));
                    }
                    text.clear();
                    path.push(name);
                }
            }
            Event::Text(t) => {
                text.push_str(&t.unescape().map_err(|e| format!("bad text: {e}"))?);
            }
            Event::End(e) => {
                let name = local(e.name().as_ref());
                let parent = path.len().checked_sub(2).map(|i| path[i].as_str());
                let value = text.trim().to_string();
                match (name.as_str(), parent) {
                    ("totalResults", Some("feed")) => page.total = value.parse().ok(),
                    ("name", Some("contributor")) => {
                        if let Some((o, _)) = &mut entry {
                            o.name = value;
                        }
                    }
                    ("email", Some("contributor")) => {
                        if let Some((o, _)) = &mut entry {
                            o.email = value;
                        }
                    }
                    ("userid", Some("contributor")) => {
                        if let Some((o, _)) = &mut entry {
                            o.user_id = value;
                        }
                    }
                    ("role", Some("entry")) => {
                        if let Some((_, role)) = &mut entry {
                            *role = value;
                        }
                    }
                    ("entry", _) => {
                        if let Some((mut o, role)) = entry.take() {
                            if role.is_empty() || role.eq_ignore_ascii_case("owner") {
                                o.email_hidden = o.email.is_empty();
                                if o.name.is_empty() && o.user_id.is_empty() {
                                    return Err("an entry names no one".into());
                                }
                                page.owners.push(o);
                            }
                        }
                    }
                    _ => {}
                }
                text.clear();
                path.pop();
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !seen_feed {
        return Err("not an Atom feed".into());
    }
    Ok(page)
}

fn local(name: &[u8]) -> String {
    let s = String::from_utf8_lossy(name);
    s.rsplit(':').next().unwrap_or("").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const FEED: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/" xmlns:snx="http://www.ibm.com/xmlns/prod/sn">
<opensearch:totalResults>3</opensearch:totalResults>
<link href="x&amp;page=1" rel="self"/>
<link href="x&amp;page=2" rel="next"/>
<entry><title>Ann &amp; Co</title><contributor><name>Ann &amp; Co</name><email>ann@example.com</email><snx:userid>u1</snx:userid></contributor>
<snx:role component="http://www.ibm.com/xmlns/prod/sn/communities">owner</snx:role></entry>
<entry><contributor><name>Hid Den</name><snx:userid>u2</snx:userid></contributor><snx:role>owner</snx:role></entry>
<entry><contributor><name>Mem Ber</name><snx:userid>u3</snx:userid></contributor><snx:role>member</snx:role></entry>
</feed>"#;

    #[test]
    fn reads_owners_total_and_next() {
        let p = parse_members(FEED).unwrap();
        assert_eq!(p.total, Some(3));
        assert!(p.next);
        assert_eq!(
            p.owners,
            vec![
                Owner {
                    name: "Ann & Co".into(),
                    email: "ann@example.com".into(),
                    user_id: "u1".into(),
                    email_hidden: false
                },
                Owner {
                    name: "Hid Den".into(),
                    email: String::new(),
                    user_id: "u2".into(),
                    email_hidden: true
                },
            ]
        );
        assert_eq!(parse_members("<html/>").unwrap_err(), "not an Atom feed");
    }

    #[test]
    fn urls() {
        assert_eq!(
            check_url("https://c.example.com/").unwrap(),
            "https://c.example.com"
        );
        assert!(check_url("ftp://x").is_err());
        assert!(check_url("https://u:p@x").is_err());
    }
}
