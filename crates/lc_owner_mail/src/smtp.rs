//! A small SMTP client (RFC 5321): one connection for all messages, EHLO, STARTTLS (RFC 3207) or
//! implicit TLS (RFC 8314), AUTH PLAIN or LOGIN (only over TLS), MAIL / RCPT / DATA per message,
//! every read and write bounded by the timeout. Errors are one line that names the server.

use lc_core::tls::rustls::{ClientConnection, StreamOwned};
use lc_core::Secret;
use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

/// How the connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// Plain connection, then STARTTLS (refused when the server does not offer it).
    StartTls,
    /// TLS from the first byte (submissions port 465).
    Implicit,
    /// No TLS at all (a relay on a trusted network); no credentials are sent.
    None,
}

impl Security {
    pub fn parse(s: &str) -> Option<Security> {
        match s {
            "starttls" => Some(Security::StartTls),
            "implicit" => Some(Security::Implicit),
            "none" => Some(Security::None),
            _ => None,
        }
    }

    /// The usual port: 587 (submission), 465 (submissions), 25 (relay).
    pub fn default_port(self) -> u16 {
        match self {
            Security::StartTls => 587,
            Security::Implicit => 465,
            Security::None => 25,
        }
    }
}

/// A server's reply: the code and its text lines joined by spaces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub code: u16,
    pub lines: Vec<String>,
}

impl Reply {
    pub fn ok(&self) -> bool {
        (200..400).contains(&self.code)
    }

    /// `550 5.1.1 <x@example.com>: Recipient address rejected`, on one line.
    pub fn text(&self) -> String {
        let body = self.lines.join(" ");
        if body.is_empty() {
            self.code.to_string()
        } else {
            format!("{} {body}", self.code)
        }
    }
}

/// What went wrong with the server itself (not with one recipient): the task fails on it.
#[derive(Debug)]
pub struct SessionError(pub String);

enum Stream {
    Plain(TcpStream),
    Tls(Box<StreamOwned<ClientConnection, TcpStream>>),
    Closed,
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Stream::Plain(s) => s.read(buf),
            Stream::Tls(s) => s.read(buf),
            Stream::Closed => Ok(0),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Stream::Plain(s) => s.write(buf),
            Stream::Tls(s) => s.write(buf),
            Stream::Closed => Err(std::io::ErrorKind::NotConnected.into()),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Stream::Plain(s) => s.flush(),
            Stream::Tls(s) => s.flush(),
            Stream::Closed => Ok(()),
        }
    }
}

/// The settings of a session.
pub struct Settings<'a> {
    pub host: &'a str,
    pub port: u16,
    pub security: Security,
    pub tls: Arc<lc_core::tls::rustls::ClientConfig>,
    pub timeout: Duration,
    pub helo: &'a str,
    pub login: Option<(&'a str, &'a Secret)>,
}

/// One SMTP session, greeted, protected and logged in as the settings say.
pub struct Session {
    stream: Stream,
    buf: Vec<u8>,
    server: String,
    timeout: Duration,
    pub extensions: Vec<String>,
}

/// The most bytes a reply line may have before the server is taken for something else.
const MAX_LINE: usize = 64 * 1024;

impl Session {
    /// Connects, reads the greeting, says EHLO, starts TLS and logs in as the settings say.
    pub fn open(s: &Settings) -> Result<Session, SessionError> {
        let server = format!("{}:{}", s.host, s.port);
        let fail = |what: String| SessionError(format!("SMTP server {server}: {what}"));
        let addrs: Vec<_> = (s.host, s.port)
            .to_socket_addrs()
            .map_err(|e| fail(format!("cannot resolve the host name ({e})")))?
            .collect();
        let mut last = None;
        let mut tcp = None;
        for a in &addrs {
            match TcpStream::connect_timeout(a, s.timeout) {
                Ok(t) => {
                    tcp = Some(t);
                    break;
                }
                Err(e) => last = Some(e),
            }
        }
        let tcp = tcp.ok_or_else(|| {
            fail(format!(
                "cannot connect ({})",
                last.map(|e| describe_io(&e, s.timeout))
                    .unwrap_or_else(|| "no address".into())
            ))
        })?;
        let _ = tcp.set_read_timeout(Some(s.timeout));
        let _ = tcp.set_write_timeout(Some(s.timeout));
        let _ = tcp.set_nodelay(true);
        let mut session = Session {
            stream: Stream::Plain(tcp),
            buf: Vec::new(),
            server: server.clone(),
            timeout: s.timeout,
            extensions: Vec::new(),
        };
        if s.security == Security::Implicit {
            session.start_tls(s)?;
        }
        let greeting = session.reply("the greeting")?;
        if greeting.code != 220 {
            return Err(fail(format!("greeted with {}", greeting.text())));
        }
        session.ehlo(s.helo)?;
        if s.security == Security::StartTls {
            if !session.has("STARTTLS") {
                return Err(fail(
                    "does not offer STARTTLS (tls: starttls); use tls: implicit for a TLS port, or none"
                        .into(),
                ));
            }
            let r = session.command("STARTTLS", "STARTTLS")?;
            if r.code != 220 {
                return Err(fail(format!("refused STARTTLS: {}", r.text())));
            }
            session.start_tls(s)?;
            session.ehlo(s.helo)?;
        }
        if let Some((user, password)) = s.login {
            session.login(user, password)?;
        }
        Ok(session)
    }

    fn fail(&self, what: impl std::fmt::Display) -> SessionError {
        SessionError(format!("SMTP server {}: {what}", self.server))
    }

    fn has(&self, ext: &str) -> bool {
        self.extensions
            .iter()
            .any(|e| e.split_whitespace().next() == Some(ext))
    }

    fn ehlo(&mut self, helo: &str) -> Result<(), SessionError> {
        let r = self.command(&format!("EHLO {helo}"), "EHLO")?;
        if r.code == 250 {
            self.extensions = r
                .lines
                .iter()
                .skip(1)
                .map(|l| l.to_ascii_uppercase())
                .collect();
            return Ok(());
        }
        let r = self.command(&format!("HELO {helo}"), "HELO")?;
        if r.code != 250 {
            return Err(self.fail(format!("refused EHLO and HELO: {}", r.text())));
        }
        self.extensions.clear();
        Ok(())
    }

    fn start_tls(&mut self, s: &Settings) -> Result<(), SessionError> {
        let Stream::Plain(mut tcp) = std::mem::replace(&mut self.stream, Stream::Closed) else {
            return Err(self.fail("TLS started twice"));
        };
        let name = lc_core::tls::server_name(s.host).map_err(|e| self.fail(e))?;
        let mut conn = ClientConnection::new(s.tls.clone(), name)
            .map_err(|e| self.fail(format!("TLS: {e}")))?;
        while conn.is_handshaking() {
            conn.complete_io(&mut tcp).map_err(|e| {
                self.fail(format!(
                    "TLS handshake failed: {}",
                    if is_timeout(&e) {
                        describe_io(&e, self.timeout)
                    } else {
                        lc_core::tls::describe(&e)
                    }
                ))
            })?;
        }
        self.stream = Stream::Tls(Box::new(StreamOwned::new(conn, tcp)));
        Ok(())
    }

    fn login(&mut self, user: &str, password: &Secret) -> Result<(), SessionError> {
        let mechanisms: Vec<String> = self
            .extensions
            .iter()
            .filter_map(|e| e.strip_prefix("AUTH").map(str::to_string))
            .flat_map(|m| {
                m.trim_start_matches('=')
                    .split_whitespace()
                    .map(str::to_string)
                    .collect::<Vec<_>>()
            })
            .collect();
        let refused =
            |s: &Session, r: &Reply| s.fail(format!("refused the login of {user}: {}", r.text()));
        if mechanisms.iter().any(|m| m == "PLAIN") {
            let token =
                lc_core::base64::encode(format!("\0{user}\0{}", password.expose()).as_bytes());
            let r = self.command(&format!("AUTH PLAIN {token}"), "AUTH PLAIN")?;
            if r.code != 235 {
                return Err(refused(self, &r));
            }
            return Ok(());
        }
        if mechanisms.iter().any(|m| m == "LOGIN") {
            let r = self.command("AUTH LOGIN", "AUTH LOGIN")?;
            if r.code != 334 {
                return Err(refused(self, &r));
            }
            let r = self.command(&lc_core::base64::encode(user.as_bytes()), "AUTH LOGIN")?;
            if r.code != 334 {
                return Err(refused(self, &r));
            }
            let r = self.command(
                &lc_core::base64::encode(password.expose().as_bytes()),
                "AUTH LOGIN",
            )?;
            if r.code != 235 {
                return Err(refused(self, &r));
            }
            return Ok(());
        }
        Err(self.fail(if self.has("AUTH") {
            "offers neither AUTH PLAIN nor AUTH LOGIN".to_string()
        } else {
            "offers no login (AUTH), but user and password are given".to_string()
        }))
    }

    /// Sends one message: MAIL, RCPT, DATA. `Ok(Err(reply))` is a refusal of this message (the
    /// session goes on with the next one); `Err` is a session that cannot go on.
    pub fn send(
        &mut self,
        from: &str,
        to: &str,
        data: &[u8],
    ) -> Result<Result<Reply, Reply>, SessionError> {
        let r = self.command(&format!("MAIL FROM:<{from}>"), "MAIL FROM")?;
        if !r.ok() {
            self.reset()?;
            return Ok(Err(r));
        }
        let r = self.command(&format!("RCPT TO:<{to}>"), "RCPT TO")?;
        if !r.ok() {
            self.reset()?;
            return Ok(Err(r));
        }
        let r = self.command("DATA", "DATA")?;
        if r.code != 354 {
            self.reset()?;
            return Ok(Err(r));
        }
        self.write(data, "the message")?;
        let r = self.reply("the end of the message")?;
        if r.code == 421 {
            return Err(self.fail(format!("closed the session: {}", r.text())));
        }
        Ok(if r.ok() { Ok(r) } else { Err(r) })
    }

    fn reset(&mut self) -> Result<(), SessionError> {
        let r = self.command("RSET", "RSET")?;
        if r.ok() {
            Ok(())
        } else {
            Err(self.fail(format!("refused RSET: {}", r.text())))
        }
    }

    /// QUIT, best effort: the messages are already accepted.
    pub fn quit(mut self) {
        let _ = self.command("QUIT", "QUIT");
        if let Stream::Tls(s) = &mut self.stream {
            s.conn.send_close_notify();
            let _ = s.flush();
        }
    }

    /// Writes a command line and reads the reply. `what` names the command in errors (never
    /// the line itself, which may hold credentials).
    fn command(&mut self, line: &str, what: &str) -> Result<Reply, SessionError> {
        let mut bytes = Vec::with_capacity(line.len() + 2);
        bytes.extend_from_slice(line.as_bytes());
        bytes.extend_from_slice(b"\r\n");
        self.write(&bytes, what)?;
        let r = self.reply(what)?;
        if r.code == 421 {
            return Err(self.fail(format!("closed the session after {what}: {}", r.text())));
        }
        Ok(r)
    }

    fn write(&mut self, bytes: &[u8], what: &str) -> Result<(), SessionError> {
        let timeout = self.timeout;
        self.stream
            .write_all(bytes)
            .and_then(|()| self.stream.flush())
            .map_err(|e| {
                SessionError(format!(
                    "SMTP server {}: sending {what} failed ({})",
                    self.server,
                    describe_io(&e, timeout)
                ))
            })
    }

    /// Reads one reply (`250-...` lines up to the `250 ...` one).
    fn reply(&mut self, what: &str) -> Result<Reply, SessionError> {
        let mut lines = Vec::new();
        loop {
            let line = self.read_line(what)?;
            let code = line
                .get(..3)
                .and_then(|c| c.parse::<u16>().ok())
                .filter(|c| (200..600).contains(c))
                .ok_or_else(|| self.fail(format!("answered {what} with {line:?}, not SMTP")))?;
            let sep = line.as_bytes().get(3).copied();
            lines.push(line.get(4..).unwrap_or("").trim().to_string());
            if sep != Some(b'-') {
                return Ok(Reply { code, lines });
            }
        }
    }

    fn read_line(&mut self, what: &str) -> Result<String, SessionError> {
        loop {
            if let Some(i) = self.buf.iter().position(|&b| b == b'\n') {
                let raw: Vec<u8> = self.buf.drain(..=i).collect();
                let text = String::from_utf8_lossy(&raw);
                return Ok(text.trim_end_matches(['\r', '\n']).to_string());
            }
            if self.buf.len() > MAX_LINE {
                return Err(self.fail(format!(
                    "answered {what} with a line of over {MAX_LINE} bytes"
                )));
            }
            let mut chunk = [0u8; 4096];
            match self.stream.read(&mut chunk) {
                Ok(0) => {
                    return Err(self.fail(format!(
                        "closed the connection (waiting for the answer to {what})"
                    )))
                }
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    let text = if is_timeout(&e) {
                        describe_io(&e, self.timeout)
                    } else {
                        lc_core::tls::describe(&e)
                    };
                    return Err(self.fail(format!("no answer to {what} ({text})")));
                }
            }
        }
    }
}

fn is_timeout(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
    )
}

fn describe_io(e: &std::io::Error, timeout: Duration) -> String {
    if is_timeout(e) {
        format!("nothing within the timeout of {} s", timeout.as_secs())
    } else {
        e.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader};
    use std::net::TcpListener;

    /// A scripted relay on loopback: answers each command as a plain SMTP server would, refuses
    /// RCPT for `refuse`, and returns every line it read.
    fn relay(refuse: &'static str) -> (u16, std::thread::JoinHandle<Vec<String>>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let handle = std::thread::spawn(move || {
            let (sock, _) = listener.accept().unwrap();
            sock.set_read_timeout(Some(Duration::from_secs(10)))
                .unwrap();
            let mut w = sock.try_clone().unwrap();
            let mut r = BufReader::new(sock);
            let mut seen = Vec::new();
            w.write_all(b"220 relay ready\r\n").unwrap();
            let mut in_data = false;
            loop {
                let mut line = String::new();
                if r.read_line(&mut line).unwrap() == 0 {
                    return seen;
                }
                let line = line.trim_end_matches("\r\n").to_string();
                seen.push(line.clone());
                let answer: &[u8] = if in_data {
                    if line == "." {
                        in_data = false;
                        b"250 2.0.0 queued\r\n"
                    } else {
                        continue;
                    }
                } else if line.starts_with("EHLO") {
                    b"250-relay\r\n250-SIZE 1000000\r\n250 8BITMIME\r\n"
                } else if line.starts_with("RCPT") && line.contains(refuse) {
                    b"550 5.1.1 no such user\r\n"
                } else if line == "DATA" {
                    in_data = true;
                    b"354 go ahead\r\n"
                } else if line == "QUIT" {
                    w.write_all(b"221 bye\r\n").unwrap();
                    return seen;
                } else {
                    b"250 OK\r\n"
                };
                w.write_all(answer).unwrap();
            }
        });
        (port, handle)
    }

    #[test]
    fn a_plain_session_sends_stuffed_data_and_goes_on_after_a_refused_recipient() {
        let (port, server) = relay("bad@example.com");
        let settings = Settings {
            host: "127.0.0.1",
            port,
            security: Security::None,
            tls: lc_core::tls::client_config(true, None).unwrap(),
            timeout: Duration::from_secs(5),
            helo: "controller.example.com",
            login: None,
        };
        let mut s = Session::open(&settings).unwrap();
        assert_eq!(s.extensions, ["SIZE 1000000", "8BITMIME"]);
        let refused = s
            .send("a@example.com", "bad@example.com", b"x\r\n.\r\n")
            .unwrap();
        assert_eq!(refused.unwrap_err().text(), "550 5.1.1 no such user");
        let data = crate::message::dot_stuffed("Subject: s\r\n\r\n.hidden line\r\nend\r\n");
        let ok = s.send("a@example.com", "ann@example.com", &data).unwrap();
        assert_eq!(ok.unwrap().text(), "250 2.0.0 queued");
        s.quit();
        let seen = server.join().unwrap();
        assert_eq!(
            seen,
            [
                "EHLO controller.example.com",
                "MAIL FROM:<a@example.com>",
                "RCPT TO:<bad@example.com>",
                "RSET",
                "MAIL FROM:<a@example.com>",
                "RCPT TO:<ann@example.com>",
                "DATA",
                "Subject: s",
                "",
                "..hidden line",
                "end",
                ".",
                "QUIT",
            ]
        );
    }

    #[test]
    fn starttls_not_offered_and_a_closed_port_are_one_line_naming_the_server() {
        let (port, server) = relay("-");
        let mut settings = Settings {
            host: "127.0.0.1",
            port,
            security: Security::StartTls,
            tls: lc_core::tls::client_config(true, None).unwrap(),
            timeout: Duration::from_secs(5),
            helo: "h",
            login: None,
        };
        let e = Session::open(&settings).err().unwrap();
        assert_eq!(
            e.0,
            format!("SMTP server 127.0.0.1:{port}: does not offer STARTTLS (tls: starttls); use tls: implicit for a TLS port, or none")
        );
        drop(server);
        let closed = TcpListener::bind("127.0.0.1:0").unwrap();
        settings.port = closed.local_addr().unwrap().port();
        drop(closed);
        let e = Session::open(&settings).err().unwrap();
        assert!(
            e.0.starts_with(&format!(
                "SMTP server 127.0.0.1:{}: cannot connect (",
                settings.port
            )),
            "{}",
            e.0
        );
    }
}
