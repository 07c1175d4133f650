//! The lc_owner_mail module: each owner's message, as connections.dr.lc_owner_messages renders
//! it, sent over SMTP, once.
//!
//! - [`message`]: the message as RFC 5322 and MIME want it (Date, Message-ID, encoded words,
//!   7bit or quoted-printable UTF-8 body, CRLF, dot-stuffing).
//! - [`smtp`]: the SMTP client (STARTTLS or implicit TLS with rustls, AUTH PLAIN/LOGIN, timeouts).
//!
//! The record (`record`, a JSON file written atomically) lists every message accepted by the
//! server, by recipient and SHA-256 of the message text: a message already in it is not sent
//! again, so a rerun mails no one twice. It is written while the messages go (at most every
//! [`RECORD_EVERY`]) and when the run ends, also when it ends in a failure. A recipient the
//! server refuses is reported with its reply and the others still go; an owner with no e-mail
//! address is listed as not mailable. The task fails only when the server itself cannot be used
//! (not reached, TLS, login, a session cut off).

pub mod message;
pub mod smtp;

use lc_core::{Context, Elem, Error, Module, Outcome, Secret};
use sha2::{Digest, Sha256};
use smtp::{Security, Session, Settings};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub struct OwnerMail;

/// How often, at most, the record is written while messages go out.
pub const RECORD_EVERY: Duration = Duration::from_secs(1);
/// Refusals named one by one in the warnings; the rest are counted.
const WARN_AT_MOST: usize = 10;

/// One owner's message.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Message {
    /// The owner's e-mail address; empty when there is none (a creator's name only, or a hidden
    /// address).
    #[serde(default)]
    pub to: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub user_id: String,
    /// The message's file name, for the record and the results.
    #[serde(default)]
    pub file: String,
    pub text: String,
}

lc_core::options! {
    #[derive(Debug)]
    pub struct Options {
        pub messages: Vec<Message> => list(Elem::Dict).required(),
        pub record: String => path().required(),
        pub host: String => str().required(),
        pub port: Option<i64> => int(),
        pub tls: String => str().default("starttls").choices(&["starttls", "implicit", "none"]),
        pub from: String => str().required(),
        pub user: Option<String> => str(),
        pub password: Option<Secret> => secret(),
        pub validate_certs: bool => bool().default(true),
        pub ca_path: Option<String> => path(),
        pub timeout: i64 => int().default(30),
        pub subject: String => str().default(DEFAULT_SUBJECT),
        pub helo: Option<String> => str(),
    }
}

/// The record of the messages the server accepted.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Record {
    pub sent: Vec<Sent>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Sent {
    pub to: String,
    pub sha256: String,
    #[serde(default)]
    pub file: String,
    #[serde(default)]
    pub message_id: String,
    #[serde(default)]
    pub sent_at: String,
    #[serde(default)]
    pub server: String,
}

impl Record {
    fn read(path: &Path) -> Result<Record, Error> {
        match std::fs::read_to_string(path) {
            Ok(text) => serde_json::from_str(&text).map_err(|e| {
                Error::invalid(format!(
                    "{} is not a record of sent mail ({e}); move it away to send again",
                    path.display()
                ))
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Record::default()),
            Err(e) => Err(Error::io(path, e)),
        }
    }

    fn has(&self, to: &str, sha256: &str) -> Option<&Sent> {
        self.sent
            .iter()
            .find(|s| s.sha256 == sha256 && s.to.eq_ignore_ascii_case(to))
    }

    fn write(&self, path: &Path) -> Result<(), Error> {
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        lc_core::fs::write_atomic(path, text.as_bytes(), 0o640)
            .map_err(|e| e.context("writing the record of sent mail"))
    }
}

#[derive(Debug, serde::Serialize)]
struct Outgoing {
    to: String,
    file: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    message_id: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    reply: String,
}

#[derive(Debug, serde::Serialize)]
struct NotMailable {
    name: String,
    user_id: String,
    file: String,
    reason: String,
}

impl Module for OwnerMail {
    const NAME: &'static str = "lc_owner_mail";
    type Options = Options;

    fn run(o: Options, ctx: &Context) -> Result<Outcome, Error> {
        let security = Security::parse(&o.tls).ok_or_else(|| {
            Error::invalid(format!(
                "tls must be starttls, implicit or none, not {:?}",
                o.tls
            ))
        })?;
        let host = o.host.trim();
        if host.is_empty() || host.contains(|c: char| c.is_whitespace() || c == '/' || c == '@') {
            return Err(Error::invalid(format!(
                "host must be the SMTP server's name or address, not {:?}",
                o.host
            )));
        }
        let port = match o.port {
            None | Some(0) => security.default_port(),
            Some(p) if (1..=65535).contains(&p) => p as u16,
            Some(p) => {
                return Err(Error::invalid(format!(
                    "port must be between 1 and 65535, not {p}"
                )))
            }
        };
        if !(1..=3600).contains(&o.timeout) {
            return Err(Error::invalid(format!(
                "timeout must be between 1 and 3600, not {}",
                o.timeout
            )));
        }
        let (from_name, from_addr) = message::parse_mailbox(&o.from).ok_or_else(|| {
            Error::invalid(format!(
                "from must be an address, like Connections admins <admins@example.com>, not {:?}",
                o.from
            ))
        })?;
        let login = match (&o.user, &o.password) {
            (Some(u), Some(p)) if !u.is_empty() && !p.is_empty() => Some((u.as_str(), p)),
            (None, None) => None,
            (Some(u), None) if u.is_empty() => None,
            _ => {
                return Err(Error::invalid(
                    "user and password go together: give both or neither",
                ))
            }
        };
        if login.is_some() && security == Security::None {
            return Err(Error::invalid(
                "user and password are sent only over TLS: with tls none they would cross the network in clear; use starttls or implicit",
            ));
        }
        let tls = lc_core::tls::client_config(o.validate_certs, o.ca_path.as_deref())?;
        let server = format!("{host}:{port}");
        let record_path = PathBuf::from(&o.record);
        let mut record = Record::read(&record_path)?;

        // What to send: each message not mailable, already sent, or to go.
        let mut not_mailable = Vec::new();
        let mut already = Vec::new();
        let mut to_send: Vec<(&Message, String)> = Vec::new();
        for m in &o.messages {
            let to = m.to.trim();
            if to.is_empty() || !message::valid_address(to) {
                not_mailable.push(NotMailable {
                    name: m.name.clone(),
                    user_id: m.user_id.clone(),
                    file: m.file.clone(),
                    reason: if !to.is_empty() {
                        format!("{to:?} is not an address this module sends to")
                    } else if !m.user_id.is_empty() {
                        format!("the e-mail address is hidden (user id {})", m.user_id)
                    } else {
                        "no e-mail address: only a name".to_string()
                    },
                });
                continue;
            }
            let sha = hex(&Sha256::digest(m.text.as_bytes()));
            let twice = to_send
                .iter()
                .any(|(x, h)| *h == sha && x.to.trim().eq_ignore_ascii_case(to));
            if let Some(s) = record.has(to, &sha) {
                already.push(Outgoing {
                    to: to.to_string(),
                    file: m.file.clone(),
                    message_id: s.message_id.clone(),
                    reply: String::new(),
                });
            } else if !twice {
                to_send.push((m, sha));
            }
        }
        let total = o.messages.len();
        let tail = |out: &mut String| {
            if !already.is_empty() {
                out.push_str(&format!(
                    "; {} already sent (in {})",
                    already.len(),
                    record_path.display()
                ));
            }
            if !not_mailable.is_empty() {
                out.push_str(&format!(
                    "; {} not mailable (no e-mail address)",
                    not_mailable.len()
                ));
            }
        };

        if ctx.check_mode {
            let would: Vec<Outgoing> = to_send
                .iter()
                .map(|(m, _)| Outgoing {
                    to: m.to.trim().to_string(),
                    file: m.file.clone(),
                    message_id: String::new(),
                    reply: String::new(),
                })
                .collect();
            let mut msg = format!(
                "would mail {} of {total} owners' messages through {server} ({})",
                would.len(),
                o.tls
            );
            tail(&mut msg);
            return Ok(Outcome::new(!would.is_empty())
                .msg(msg)
                .with("sent", &would)
                .with("already_sent", &already)
                .with("refused", Vec::<Outgoing>::new())
                .with("not_mailable", &not_mailable)
                .with("server", &server));
        }

        let mut sent: Vec<Outgoing> = Vec::new();
        let mut refused: Vec<Outgoing> = Vec::new();
        let mut broken: Option<String> = None;
        if !to_send.is_empty() {
            let helo = o.helo.clone().unwrap_or_else(local_host_name);
            let settings = Settings {
                host,
                port,
                security,
                tls,
                timeout: Duration::from_secs(o.timeout as u64),
                helo: &helo,
                login,
            };
            match Session::open(&settings) {
                Err(e) => broken = Some(e.0),
                Ok(mut session) => {
                    let mut written = Instant::now();
                    let mut dirty = false;
                    for (i, (m, sha)) in to_send.iter().enumerate() {
                        let to = m.to.trim();
                        let (head, body) = message::split(&m.text);
                        let subject = head
                            .subject
                            .as_deref()
                            .filter(|s| !s.is_empty())
                            .unwrap_or(&o.subject);
                        let reply_to = head.reply_to.as_deref().and_then(message::parse_mailbox);
                        let date = message::now_unix();
                        let message_id = message_id(date, i, to, sha, &from_addr);
                        let mail = message::Mail {
                            from: (&from_name, &from_addr),
                            to: (&m.name, to),
                            reply_to,
                            subject,
                            body,
                            date,
                            message_id: &message_id,
                        };
                        let data = message::dot_stuffed(&mail.render());
                        match session.send(&from_addr, to, &data) {
                            Ok(Ok(reply)) => {
                                record.sent.push(Sent {
                                    to: to.to_string(),
                                    sha256: sha.clone(),
                                    file: m.file.clone(),
                                    message_id: message_id.clone(),
                                    sent_at: message::iso_date(date),
                                    server: server.clone(),
                                });
                                dirty = true;
                                sent.push(Outgoing {
                                    to: to.to_string(),
                                    file: m.file.clone(),
                                    message_id,
                                    reply: reply.text(),
                                });
                            }
                            Ok(Err(reply)) => refused.push(Outgoing {
                                to: to.to_string(),
                                file: m.file.clone(),
                                message_id: String::new(),
                                reply: reply.text(),
                            }),
                            Err(e) => {
                                broken = Some(e.0);
                                break;
                            }
                        }
                        if dirty && written.elapsed() >= RECORD_EVERY {
                            record.write(&record_path)?;
                            written = Instant::now();
                            dirty = false;
                        }
                    }
                    if broken.is_none() {
                        session.quit();
                    }
                }
            }
        }
        if !sent.is_empty() {
            record.write(&record_path)?;
        }

        let left = to_send.len() - sent.len() - refused.len();
        let mut msg = match &broken {
            Some(why) if sent.is_empty() => format!("no owner's message was mailed: {why}"),
            Some(why) => format!(
                "mailed {} of {total} owners' messages, then stopped: {why}; {left} not sent (a rerun sends them; those sent are in {})",
                sent.len(),
                record_path.display()
            ),
            None => format!(
                "mailed {} of {total} owners' messages through {server} ({})",
                sent.len(),
                o.tls
            ),
        };
        if !refused.is_empty() {
            msg.push_str(&format!(
                "; {} refused by the server: {}",
                refused.len(),
                refused
                    .iter()
                    .take(WARN_AT_MOST)
                    .map(|r| format!("{} ({})", r.to, r.reply))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
            if refused.len() > WARN_AT_MOST {
                msg.push_str(&format!(" and {} more", refused.len() - WARN_AT_MOST));
            }
        }
        if broken.is_none() {
            tail(&mut msg);
        }
        let mut outcome = Outcome::new(!sent.is_empty())
            .msg(msg)
            .with("sent", &sent)
            .with("already_sent", &already)
            .with("refused", &refused)
            .with("not_mailable", &not_mailable)
            .with("server", &server)
            .with("record", record_path.display().to_string());
        for r in refused.iter().take(WARN_AT_MOST) {
            outcome = outcome.warn(format!(
                "{server} refused the message to {}: {}",
                r.to, r.reply
            ));
        }
        if refused.len() > WARN_AT_MOST {
            outcome = outcome.warn(format!(
                "{server} refused {} more messages (see refused)",
                refused.len() - WARN_AT_MOST
            ));
        }
        outcome.failed = broken.is_some();
        Ok(outcome)
    }
}

/// The subject of a message whose text has no `Subject:` line.
pub const DEFAULT_SUBJECT: &str = "Your Connections communities after a database restore";

/// A unique Message-ID in the sender's domain.
fn message_id(date: u64, i: usize, to: &str, sha: &str, from: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let seed = format!("{date}.{nanos}.{}.{i}.{to}.{sha}", std::process::id());
    let h = hex(&Sha256::digest(seed.as_bytes()));
    let domain = from.rsplit_once('@').map(|(_, d)| d).unwrap_or("localhost");
    format!("<{date}.{}@{domain}>", &h[..20])
}

/// This machine's name for EHLO (the kernel's host name), else `localhost`.
fn local_host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
        })
        .unwrap_or_else(|| "localhost".to_string())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
