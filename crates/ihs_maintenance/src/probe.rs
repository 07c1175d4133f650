//! What a user gets from IHS: one GET over HTTP or HTTPS (the certificate is not checked: the
//! question is what the server answers, not who it is), sent from a chosen source address, with
//! a chosen `Host`. TLS is rustls with ring (built in; no system library).

use lc_core::httpd_conf::AllowEntry;
use rustls::pki_types::ServerName;
use rustls::{ClientConnection, StreamOwned};
use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

/// What one request got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// The status and body.
    Http { status: u16, body: Vec<u8> },
    /// Nothing listens there (connection refused).
    Refused,
    /// Something else went wrong (timeout, TLS, a reply that is not HTTP).
    Failed(String),
}

impl Answer {
    pub fn status(&self) -> Option<u16> {
        match self {
            Answer::Http { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// For messages: `403`, `connection refused`, `no answer (timed out)`.
    pub fn describe(&self) -> String {
        match self {
            Answer::Http { status, .. } => status.to_string(),
            Answer::Refused => "connection refused".into(),
            Answer::Failed(e) => format!("no answer ({e})"),
        }
    }
}

/// One GET of `path` with `Host: host` to `target` over `scheme`, from `source`.
pub fn get(
    scheme: &str,
    target: SocketAddr,
    source: IpAddr,
    host: &str,
    path: &str,
    timeout: Duration,
) -> Answer {
    let tcp = match connect(target, source, timeout) {
        Ok(s) => s,
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => return Answer::Refused,
        Err(e) => return Answer::Failed(e.to_string()),
    };
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: lc-recover-probe\r\nAccept: */*\r\nConnection: close\r\n\r\n"
    );
    let raw = if scheme == "https" {
        let name = host
            .rsplit_once(':')
            .filter(|(_, p)| p.parse::<u16>().is_ok())
            .map_or(host, |(h, _)| h)
            .trim_start_matches('[')
            .trim_end_matches(']');
        let name = ServerName::try_from(name.to_string())
            .unwrap_or_else(|_| ServerName::from(target.ip()));
        // The certificate is not checked (validate_certs false): a probe asks what IHS answers.
        let config = match lc_core::tls::client_config(false, None) {
            Ok(c) => c,
            Err(e) => return Answer::Failed(e.one_line()),
        };
        let conn = match ClientConnection::new(config, name) {
            Ok(c) => c,
            Err(e) => return Answer::Failed(format!("TLS: {e}")),
        };
        let mut tls = StreamOwned::new(conn, tcp);
        exchange(&mut tls, &request)
    } else {
        let mut tcp = tcp;
        exchange(&mut tcp, &request)
    };
    match raw {
        Ok(bytes) => parse_response(&bytes),
        Err(e) => Answer::Failed(e),
    }
}

fn connect(target: SocketAddr, source: IpAddr, timeout: Duration) -> std::io::Result<TcpStream> {
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(
        Domain::for_address(target),
        Type::STREAM,
        Some(Protocol::TCP),
    )?;
    socket.bind(&SocketAddr::new(source, 0).into())?;
    socket.connect_timeout(&target.into(), timeout)?;
    let tcp: TcpStream = socket.into();
    tcp.set_read_timeout(Some(timeout))?;
    tcp.set_write_timeout(Some(timeout))?;
    Ok(tcp)
}

/// Sends the request and reads until the server closes (at most 4 MiB).
fn exchange(stream: &mut impl ReadWrite, request: &str) -> Result<Vec<u8>, String> {
    stream
        .write_all(request.as_bytes())
        .and_then(|_| stream.flush())
        .map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                out.extend_from_slice(&buf[..n]);
                if out.len() > 4 << 20 {
                    break;
                }
            }
            // A server that closes without TLS close_notify: what came is the answer.
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && !out.is_empty() => break,
            Err(e) => return Err(e.to_string()),
        }
    }
    Ok(out)
}

trait ReadWrite: Read + Write {}
impl<T: Read + Write> ReadWrite for T {}

/// Status and body of an HTTP/1.x response (Content-Length, chunked, or up to the close).
fn parse_response(raw: &[u8]) -> Answer {
    let Some(head_end) = raw.windows(4).position(|w| w == b"\r\n\r\n") else {
        return Answer::Failed("not an HTTP response".into());
    };
    let head = String::from_utf8_lossy(&raw[..head_end]);
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let mut words = status_line.split_whitespace();
    let status = match (
        words.next(),
        words.next().and_then(|s| s.parse::<u16>().ok()),
    ) {
        (Some(v), Some(s)) if v.starts_with("HTTP/") => s,
        _ => {
            return Answer::Failed(format!(
                "not an HTTP response: {:?}",
                status_line.chars().take(40).collect::<String>()
            ))
        }
    };
    let mut length = None;
    let mut chunked = false;
    for l in lines {
        if let Some((k, v)) = l.split_once(':') {
            let v = v.trim();
            if k.eq_ignore_ascii_case("content-length") {
                length = v.parse::<usize>().ok();
            } else if k.eq_ignore_ascii_case("transfer-encoding")
                && v.to_ascii_lowercase().contains("chunked")
            {
                chunked = true;
            }
        }
    }
    let rest = &raw[head_end + 4..];
    let body = if chunked {
        dechunk(rest)
    } else {
        match length {
            Some(n) => rest[..n.min(rest.len())].to_vec(),
            None => rest.to_vec(),
        }
    };
    Answer::Http { status, body }
}

fn dechunk(mut rest: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = rest.windows(2).position(|w| w == b"\r\n") {
        let size_text = String::from_utf8_lossy(&rest[..eol]);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16);
        let Ok(size) = size else { break };
        rest = &rest[eol + 2..];
        if size == 0 || size > rest.len() {
            out.extend_from_slice(&rest[..size.min(rest.len())]);
            break;
        }
        out.extend_from_slice(&rest[..size]);
        rest = rest.get(size + 2..).unwrap_or_default();
    }
    out
}

/// Whether Apache would let `ip` in through `allow`: an address, a network, or a host name whose
/// addresses (as resolved here) include it.
pub fn allowed(ip: IpAddr, allow: &[AllowEntry]) -> bool {
    allow.iter().any(|a| match a {
        AllowEntry::Ip(s) => s.parse::<IpAddr>().is_ok_and(|a| a == ip),
        AllowEntry::Network(s) => in_network(ip, s),
        AllowEntry::Host(h) => (h.as_str(), 0)
            .to_socket_addrs()
            .map(|mut addrs| addrs.any(|a| a.ip() == ip))
            .unwrap_or(false),
    })
}

fn in_network(ip: IpAddr, net: &str) -> bool {
    let Some((addr, mask)) = net.split_once('/') else {
        return false;
    };
    match (ip, addr.parse::<IpAddr>()) {
        (IpAddr::V4(ip), Ok(IpAddr::V4(base))) => {
            let bits = match mask.parse::<u32>() {
                Ok(b) if b <= 32 => {
                    if b == 0 {
                        0
                    } else {
                        u32::MAX << (32 - b)
                    }
                }
                _ => match mask.parse::<Ipv4Addr>() {
                    Ok(m) => u32::from(m),
                    Err(_) => return false,
                },
            };
            u32::from(ip) & bits == u32::from(base) & bits
        }
        (IpAddr::V6(ip), Ok(IpAddr::V6(base))) => match mask.parse::<u32>() {
            Ok(b) if b <= 128 => {
                let bits = if b == 0 { 0 } else { u128::MAX << (128 - b) };
                u128::from(ip) & bits == u128::from(base) & bits
            }
            _ => false,
        },
        _ => false,
    }
}

/// The loopback addresses a probe may come from, in the order they are tried.
pub const LOOPBACK_SOURCES: &[IpAddr] = &[
    IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1)),
    IpAddr::V4(Ipv4Addr::new(127, 0, 0, 254)),
    IpAddr::V4(Ipv4Addr::new(127, 83, 77, 1)),
    IpAddr::V4(Ipv4Addr::new(127, 255, 255, 254)),
];

/// The first loopback address of the family of `target` that `allow` does not let in.
pub fn pick_source(target: IpAddr, allow: &[AllowEntry]) -> Option<IpAddr> {
    if target.is_ipv6() {
        let v6 = IpAddr::V6(Ipv6Addr::LOCALHOST);
        return (!allowed(v6, allow)).then_some(v6);
    }
    LOOPBACK_SOURCES
        .iter()
        .copied()
        .find(|ip| !allowed(*ip, allow))
}

#[cfg(test)]
mod tests {
    use super::*;
    use lc_core::httpd_conf::parse_allow_from;

    #[test]
    fn networks_and_sources() {
        let allow =
            parse_allow_from(&["127.0.0.1".into(), "127.0.0.0/255.255.255.0".into()]).unwrap();
        assert!(allowed("127.0.0.9".parse().unwrap(), &allow));
        assert!(!allowed("127.0.1.9".parse().unwrap(), &allow));
        assert_eq!(
            pick_source("127.0.0.1".parse().unwrap(), &allow),
            Some("127.83.77.1".parse().unwrap())
        );
        let all = parse_allow_from(&["127.0.0.0/8".into(), "::1".into()]).unwrap();
        assert_eq!(pick_source("127.0.0.1".parse().unwrap(), &all), None);
        assert_eq!(pick_source("::1".parse().unwrap(), &all), None);
        let v6 = parse_allow_from(&["fd00::/8".into()]).unwrap();
        assert!(allowed("fd12::1".parse().unwrap(), &v6));
        assert!(!allowed("fe80::1".parse().unwrap(), &v6));
    }

    #[test]
    fn responses() {
        let a = parse_response(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 3\r\n\r\nabcdef");
        assert_eq!(
            a,
            Answer::Http {
                status: 403,
                body: b"abc".to_vec()
            }
        );
        let c = parse_response(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n");
        assert_eq!(
            c,
            Answer::Http {
                status: 200,
                body: b"abcde".to_vec()
            }
        );
        assert!(matches!(parse_response(b"garbage"), Answer::Failed(_)));
    }
}
