//! The httpd.conf editor behind `ihs_maintenance`: maintenance mode for IBM HTTP Server.
//!
//! Maintenance mode is one block of managed text between two marker lines ([`BEGIN_MARKER`],
//! [`END_MARKER`]). Everything outside the block stays byte-for-byte as it was: the block is
//! written with the file's own line ending, appended at the end of the file the first time (so
//! that its `<Location />` comes after, and overrides, the site's own) and replaced where it stands
//! afterwards. Removing it gives back the original bytes exactly.
//!
//! The module does its work in three steps: [`HttpdConf::parse`] (find the block, refuse damaged
//! markers, read `ServerRoot`, `DocumentRoot` and the `LoadModule` lines), [`HttpdConf::enabled`] /
//! [`HttpdConf::disabled`] (the new bytes, pure), then the side effects: [`crate::fs::write_atomic`],
//! [`backup_copy`] and [`Apachectl`] (validate a candidate, restart).
//!
//! Access control comes in two forms ([`Access`]): the `Order`/`Deny`/`Allow` form the runbook
//! documents, which on Apache 2.4 (IHS 9) needs `mod_access_compat` — loaded inside the block when
//! the conf does not load it already and the module file is found — or the 2.4 `Require` form.

use crate::error::{Error, Result};
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

/// The first line of the managed block.
pub const BEGIN_MARKER: &str =
    "# BEGIN connections.dr maintenance mode (managed by lc-recover; do not edit)";
/// The last line of the managed block.
pub const END_MARKER: &str = "# END connections.dr maintenance mode";
/// What a marker line starts with; the rest of a damaged marker line does not matter.
const BEGIN_PREFIX: &str = "# BEGIN connections.dr maintenance mode";
const END_PREFIX: &str = "# END connections.dr maintenance mode";
/// The block line that records a maintenance page this module wrote (and so may remove).
const PAGE_NOTE: &str = "# page written by lc-recover: ";

/// The default `conf_path` on the platform the module runs on.
pub fn default_conf_path() -> &'static str {
    if cfg!(windows) {
        r"C:\IBM\HTTPServer\conf\httpd.conf"
    } else if cfg!(target_os = "aix") {
        "/usr/IBM/HTTPServer/conf/httpd.conf"
    } else {
        "/opt/IBM/HTTPServer/conf/httpd.conf"
    }
}

/// The maintenance page written when the task gives neither `page_content` nor `page_src`.
pub const DEFAULT_PAGE: &str = r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Connections is down for maintenance</title>
<style>
body { font-family: sans-serif; margin: 4em auto; max-width: 40em; color: #222; }
h1 { font-size: 1.6em; }
</style>
</head>
<body>
<h1>Connections is down for maintenance</h1>
<p>The site is being restored and will be back shortly. Thank you for your patience.</p>
</body>
</html>
"#;

// ---------------------------------------------------------------------------------------------
// Options that end up in the conf: validated here, so that nothing a task passes can change
// anything outside its own line.

/// One `allow_from` entry, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AllowEntry {
    /// An IPv4 or IPv6 address.
    Ip(String),
    /// A network: `10.1.0.0/16`, `10.1.0.0/255.255.0.0`, `fd00::/8`.
    Network(String),
    /// A host name (Apache checks it with a double reverse DNS lookup).
    Host(String),
}

impl AllowEntry {
    /// Checks one entry; the error names it, quoted and escaped, on one line.
    pub fn parse(entry: &str) -> Result<AllowEntry> {
        let bad = || {
            Error::invalid(format!(
                "allow_from entry {entry:?} is not an IP address, a CIDR range or a host name"
            ))
        };
        if entry.is_empty() || entry.len() > 253 {
            return Err(bad());
        }
        if entry.eq_ignore_ascii_case("all") {
            return Err(Error::invalid(format!(
                "allow_from entry {entry:?} would let everyone in: list the addresses that may reach the site during maintenance"
            )));
        }
        if let Ok(ip) = entry.parse::<IpAddr>() {
            return Ok(AllowEntry::Ip(ip.to_string()));
        }
        if let Some((addr, mask)) = entry.split_once('/') {
            let ok = match addr.parse::<IpAddr>() {
                Ok(IpAddr::V4(_)) => {
                    mask.parse::<u8>()
                        .is_ok_and(|m| m <= 32 && !mask.starts_with('+'))
                        || mask.parse::<Ipv4Addr>().is_ok()
                }
                Ok(IpAddr::V6(_)) => mask
                    .parse::<u8>()
                    .is_ok_and(|m| m <= 128 && !mask.starts_with('+')),
                Err(_) => false,
            };
            return if ok {
                Ok(AllowEntry::Network(entry.to_string()))
            } else {
                Err(bad())
            };
        }
        // Digits and dots only: Apache would read a partial address; insist on a whole one.
        if entry.chars().all(|c| c.is_ascii_digit() || c == '.') {
            return Err(bad());
        }
        let label_ok = |l: &str| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        };
        let name = entry.strip_suffix('.').unwrap_or(entry);
        if name.split('.').all(label_ok) {
            Ok(AllowEntry::Host(entry.to_string()))
        } else {
            Err(bad())
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            AllowEntry::Ip(s) | AllowEntry::Network(s) | AllowEntry::Host(s) => s,
        }
    }
}

/// Checks `allow_from`: at least one entry, each valid; duplicates dropped, order kept.
pub fn parse_allow_from(entries: &[String]) -> Result<Vec<AllowEntry>> {
    if entries.is_empty() {
        return Err(Error::invalid(
            "allow_from is empty: list the addresses that may reach the site during maintenance (the administrators' and every WebSphere machine's)",
        ));
    }
    let mut out: Vec<AllowEntry> = Vec::new();
    for e in entries {
        let entry = AllowEntry::parse(e)?;
        if !out.contains(&entry) {
            out.push(entry);
        }
    }
    Ok(out)
}

/// Checks `page_name`: a plain file name that is safe in a URL and in the conf.
pub fn check_page_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 255
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "page_name {name:?} must be a plain file name (letters, digits, '.', '_', '-'; no folders)"
        )))
    }
}

/// Checks `assets_path`: an URL prefix below `/` with no `..` and nothing the conf would misread.
pub fn check_assets_path(path: &str) -> Result<()> {
    let ok = path.starts_with('/')
        && path.len() > 1
        && path.len() <= 1024
        && !path.split('/').any(|seg| seg == ".." || seg == ".")
        && path
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '.' | '_' | '-' | '~'));
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "assets_path {path:?} must be an URL prefix such as /assets/ (letters, digits, '/', '.', '_', '-', '~'; not / alone, no ..)"
        )))
    }
}

/// Checks `error_codes`: HTTP error statuses.
pub fn check_error_codes(codes: &[i64]) -> Result<Vec<u16>> {
    codes
        .iter()
        .map(|&c| {
            u16::try_from(c)
                .ok()
                .filter(|c| (400..=599).contains(c))
                .ok_or_else(|| {
                    Error::invalid(format!(
                        "error_codes entry {c} is not an HTTP error status (400-599)"
                    ))
                })
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The block.

/// How the block restricts access.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    /// `Order`/`Deny`/`Allow`, the conf already loads them (Apache 2.2, or 2.4 with
    /// `mod_access_compat` loaded).
    Compat,
    /// `Order`/`Deny`/`Allow`, with `LoadModule access_compat_module <path>` inside
    /// `<IfModule !access_compat_module>` in the block.
    CompatLoading(String),
    /// The Apache 2.4 `Require` form.
    Require,
}

impl Access {
    /// A short name for results and logs: `compat`, `compat_loaded`, `require`.
    pub fn name(&self) -> &'static str {
        match self {
            Access::Compat => "compat",
            Access::CompatLoading(_) => "compat_loaded",
            Access::Require => "require",
        }
    }
}

/// What the block says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Maintenance {
    pub allow_from: Vec<AllowEntry>,
    pub page_name: String,
    pub assets_path: Option<String>,
    pub error_codes: Vec<u16>,
    pub access: Access,
    /// The maintenance page this module wrote, recorded so that disabling removes it.
    pub page_written: Option<String>,
}

impl Maintenance {
    /// The server-level block's lines, without line endings: it goes at the end of the main conf.
    pub fn lines(&self) -> Vec<String> {
        let mut l = self.opening();
        if let Access::CompatLoading(path) = &self.access {
            l.push("<IfModule !access_compat_module>".into());
            l.push(format!(
                "    LoadModule access_compat_module {}",
                quote_arg(path)
            ));
            l.push("</IfModule>".into());
        }
        l.extend(self.sections());
        l.push(END_MARKER.to_string());
        l
    }

    /// The block put at the end of a `<VirtualHost>` that has sections of its own (Apache merges
    /// them after the server's): the same `<Location>` sections, merged last.
    pub fn virtual_host_lines(&self) -> Vec<String> {
        let mut l = self.opening();
        l.extend(self.sections());
        l.push(END_MARKER.to_string());
        l
    }

    /// The block put before the first `RewriteRule`/`Redirect` of a server or virtual host
    /// context: those answer before access control, so everyone outside the allow list is
    /// answered 403 (and so the page) by a rule of ours that comes first. The allow list is
    /// written as `-R` tests of an ap_expr (Apache 2.4), which cannot check a host name.
    pub fn guard_lines(&self) -> std::result::Result<Vec<String>, String> {
        let mut tests = Vec::new();
        for a in &self.allow_from {
            match a {
                AllowEntry::Host(h) => return Err(h.clone()),
                AllowEntry::Ip(s) | AllowEntry::Network(s) => tests.push(format!("-R '{s}'")),
            }
        }
        let mut l = self.opening();
        // A request forbidden here is answered before any <Location> applies: the error
        // documents must be set at this level too.
        for code in &self.error_codes {
            l.push(format!("ErrorDocument {code} /{}", self.page_name));
        }
        l.push("RewriteEngine On".into());
        l.push(format!("RewriteCond expr \"!({})\"", tests.join(" || ")));
        l.push(format!(
            "RewriteCond %{{REQUEST_URI}} !=/{}",
            self.page_name
        ));
        if let Some(assets) = &self.assets_path {
            l.push(format!(
                "RewriteCond %{{REQUEST_URI}} !^{}",
                assets.replace('.', "\\.")
            ));
        }
        l.push("RewriteRule ^ - [F]".into());
        l.push(END_MARKER.to_string());
        Ok(l)
    }

    /// The BEGIN marker and the page note. Every block records the page, so that a run that died
    /// between renaming an Included file and the main conf still knows the page is ours.
    fn opening(&self) -> Vec<String> {
        let mut l = vec![BEGIN_MARKER.to_string()];
        if let Some(p) = &self.page_written {
            l.push(format!("{PAGE_NOTE}{p}"));
        }
        l
    }

    /// `<Location />` (the ErrorDocuments inside it, so that they outrank a virtual host's own)
    /// and the assets exemption.
    fn sections(&self) -> Vec<String> {
        let mut l = vec!["<Location />".to_string()];
        for code in &self.error_codes {
            l.push(format!("    ErrorDocument {code} /{}", self.page_name));
        }
        match self.access {
            Access::Compat | Access::CompatLoading(_) => {
                l.push("    Order Deny,Allow".into());
                l.push("    Deny from all".into());
                for a in &self.allow_from {
                    l.push(format!("    Allow from {}", a.as_str()));
                }
            }
            Access::Require => {
                l.push("    <RequireAny>".into());
                for a in &self.allow_from {
                    let kind = if matches!(a, AllowEntry::Host(_)) {
                        "host"
                    } else {
                        "ip"
                    };
                    l.push(format!("        Require {kind} {}", a.as_str()));
                }
                l.push("    </RequireAny>".into());
            }
        }
        l.push("</Location>".into());
        // The page itself, and the assets: everyone may fetch them. Measured: a denied request
        // whose sections differ from the page's (a virtual host's <Location /files>, a rule
        // that forbids before any <Location>) would otherwise get Apache's "additionally, a 403
        // ... while trying to use an ErrorDocument" instead of the page.
        let page = format!("/{}", self.page_name);
        for path in std::iter::once(page.as_str()).chain(self.assets_path.as_deref()) {
            l.push(format!("<Location {path}>"));
            match self.access {
                // Measured: with Order/Allow in force, adding `Require all granted` here breaks
                // the exemption; Allow from all alone works.
                Access::Compat | Access::CompatLoading(_) => {
                    l.push("    Order Allow,Deny".into());
                    l.push("    Allow from all".into());
                }
                Access::Require => l.push("    Require all granted".into()),
            }
            l.push("</Location>".into());
        }
        l
    }
}

fn quote_arg(s: &str) -> String {
    if s.chars().any(|c| c.is_whitespace()) {
        format!("\"{s}\"")
    } else {
        s.to_string()
    }
}

/// One managed block in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// Byte range to cut to remove the block (it includes the line ending added before the
    /// block when the file had none at its end).
    pub range: std::ops::Range<usize>,
    /// 1-based line of the BEGIN marker.
    pub line: usize,
    /// The page recorded as written by this module.
    pub page_written: Option<String>,
    /// Whether the block loads mod_access_compat itself, and from where.
    pub loads_access_compat: Option<String>,
    /// Whether the block uses the `Require` form.
    pub uses_require: bool,
}

/// One directive of the conf (outside the managed blocks). Sections appear twice: their opening
/// (`<virtualhost`, with its arguments) and their closing (`</virtualhost`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directive {
    pub name: String,
    pub args: Vec<String>,
    /// 1-based line where it starts.
    pub line: usize,
    /// Byte offset of that line.
    pub offset: usize,
    /// The enclosing sections, outermost first, lower-cased names (`virtualhost`, `ifmodule`).
    pub sections: Vec<String>,
}

impl Directive {
    /// Outside any `<VirtualHost>`, `<Directory>`, `<Location>`, `<Files>`…: server-wide (the
    /// conditional sections `<IfModule>`, `<IfDefine>`, `<IfFile>`, `<IfVersion>` do not count).
    pub fn is_server_wide(&self) -> bool {
        self.sections.iter().all(|s| is_conditional(s))
    }

    fn is(&self, name: &str) -> bool {
        self.name.eq_ignore_ascii_case(name)
    }
}

/// `<IfModule>`, `<IfDefine>`, `<IfFile>`, `<IfVersion>`, `<IfDirective>`, `<IfSection>`: they
/// decide whether their lines count, not where they apply (`<If>` is not one of them).
fn is_conditional(section: &str) -> bool {
    section.len() > 2 && section.starts_with("if")
}

/// A parsed httpd.conf (or Included file): its bytes, line ending, managed blocks and the bytes
/// without them.
#[derive(Debug, Clone)]
pub struct HttpdConf {
    path: PathBuf,
    bytes: Vec<u8>,
    /// The bytes without the managed blocks: the file as it was before maintenance.
    base: Vec<u8>,
    eol: &'static str,
    blocks: Vec<Block>,
}

impl HttpdConf {
    /// Reads and parses the conf at `path`.
    pub fn read(path: &Path) -> Result<HttpdConf> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        HttpdConf::parse(path, bytes)
    }

    /// Parses a conf's bytes; fails on damaged markers (a BEGIN without END, an END without
    /// BEGIN, a BEGIN inside a block), naming the line.
    pub fn parse(path: &Path, bytes: Vec<u8>) -> Result<HttpdConf> {
        let mut begin: Option<(usize, usize, &'static str)> = None; // (offset, line, its eol)
        let mut blocks: Vec<Block> = Vec::new();
        let mut page_written = None;
        let mut loads = None;
        let mut uses_require = false;
        for (n, (start, end, line)) in lines_of(&bytes).enumerate() {
            let text = String::from_utf8_lossy(line);
            let t = text.trim();
            if t.starts_with(BEGIN_PREFIX) {
                if let Some((_, l, _)) = begin {
                    return Err(damaged(
                        path,
                        n + 1,
                        &format!("a second BEGIN marker before the END of the one on line {l}"),
                    ));
                }
                // The line ending the block was written with: that of its BEGIN line.
                let eol = if bytes[start..end].ends_with(b"\r\n") {
                    "\r\n"
                } else {
                    "\n"
                };
                begin = Some((start, n + 1, eol));
            } else if t.starts_with(END_PREFIX) {
                let Some((b_start, b_line, block_eol)) = begin.take() else {
                    return Err(damaged(
                        path,
                        n + 1,
                        "an END marker without its BEGIN marker",
                    ));
                };
                let mut range = b_start..end;
                // Appended to a file that had no line ending at its end: the block brought one.
                if end == bytes.len() && !bytes.ends_with(b"\n") {
                    let cut = block_eol.len();
                    if b_start >= cut && &bytes[b_start - cut..b_start] == block_eol.as_bytes() {
                        range.start -= cut;
                    }
                }
                blocks.push(Block {
                    range,
                    line: b_line,
                    page_written: page_written.take(),
                    loads_access_compat: loads.take(),
                    uses_require: std::mem::take(&mut uses_require),
                });
            } else if begin.is_some() {
                if let Some(p) = t.strip_prefix(PAGE_NOTE.trim_end()) {
                    page_written = Some(p.trim().to_string());
                }
                let words = split_args(t);
                if words.len() >= 3
                    && words[0].eq_ignore_ascii_case("LoadModule")
                    && words[1] == "access_compat_module"
                {
                    loads = Some(words[2].clone());
                }
                if words
                    .first()
                    .is_some_and(|w| w.eq_ignore_ascii_case("Require"))
                {
                    uses_require = true;
                }
            }
        }
        if let Some((_, line, _)) = begin {
            return Err(damaged(path, line, "a BEGIN marker without its END marker"));
        }
        let mut base = Vec::with_capacity(bytes.len());
        let mut pos = 0;
        for b in &blocks {
            base.extend_from_slice(&bytes[pos..b.range.start]);
            pos = b.range.end;
        }
        base.extend_from_slice(&bytes[pos..]);
        // The file's own line ending, read where maintenance cannot change it: without the
        // blocks (a file `Listen 80\r` gets `\n` + the block, whose first break reads `\r\n`).
        let eol = match base.iter().position(|&b| b == b'\n') {
            Some(i) if i > 0 && base[i - 1] == b'\r' => "\r\n",
            Some(_) => "\n",
            None => blocks
                .first()
                .filter(|b| bytes[b.range.clone()].starts_with(b"\r\n"))
                .map_or("\n", |_| "\r\n"),
        };
        Ok(HttpdConf {
            path: path.to_path_buf(),
            bytes,
            base,
            eol,
            blocks,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }
    /// The file's line ending: `"\r\n"` when its first line ends so, `"\n"` otherwise.
    pub fn eol(&self) -> &'static str {
        self.eol
    }
    /// The first managed block, if maintenance mode is on in this file.
    pub fn block(&self) -> Option<&Block> {
        self.blocks.first()
    }
    /// Every managed block of this file.
    pub fn blocks(&self) -> &[Block] {
        &self.blocks
    }
    /// The page this module wrote, as the blocks record it.
    pub fn page_written(&self) -> Option<&str> {
        self.blocks.iter().find_map(|b| b.page_written.as_deref())
    }

    /// The bytes with the blocks removed: the original file.
    pub fn disabled(&self) -> Vec<u8> {
        self.base.clone()
    }

    /// The main conf with the blocks for `m`, this file alone (its Includes not read): see
    /// [`ConfSet::enabled`].
    pub fn enabled(&self, m: &Maintenance) -> Result<Vec<u8>> {
        let set = ConfSet {
            files: vec![self.clone()],
        };
        Ok(set.enabled(m, &|_| false)?.swap_remove(0))
    }

    /// `base` with `blocks` (offset in `base`, lines) inserted, in offset order. A block at the
    /// end of a file without a final line break is preceded by one.
    fn with_blocks(&self, mut blocks: Vec<(usize, Vec<String>)>) -> Vec<u8> {
        blocks.sort_by_key(|(at, _)| *at);
        let mut out = Vec::with_capacity(self.base.len() + 1024);
        let mut pos = 0;
        for (at, lines) in blocks {
            out.extend_from_slice(&self.base[pos..at]);
            pos = at;
            let text = lines.join(self.eol);
            if at == self.base.len() && !self.base.is_empty() && !self.base.ends_with(b"\n") {
                out.extend_from_slice(self.eol.as_bytes());
                out.extend_from_slice(text.as_bytes());
            } else {
                out.extend_from_slice(text.as_bytes());
                out.extend_from_slice(self.eol.as_bytes());
            }
        }
        out.extend_from_slice(&self.base[pos..]);
        out
    }

    /// The directives outside the managed blocks, with their sections. Comments are skipped,
    /// continuation lines (ending in `\`) joined, quotes removed.
    pub fn directives(&self) -> Vec<Directive> {
        directives_of(&self.base)
    }

    fn last_server_wide(&self, name: &str) -> Option<String> {
        self.directives()
            .into_iter()
            .filter(|d| d.is(name) && d.is_server_wide())
            .rev()
            .find_map(|d| d.args.into_iter().next())
    }

    /// `ServerRoot`, or the conf folder's parent (the IHS layout `<root>/conf/httpd.conf`).
    pub fn server_root(&self) -> PathBuf {
        match self.last_server_wide("ServerRoot") {
            Some(r) => PathBuf::from(r),
            None => self
                .path
                .parent()
                .and_then(Path::parent)
                .map(Path::to_path_buf)
                .unwrap_or_else(|| PathBuf::from(".")),
        }
    }

    /// A path of the conf resolved against `ServerRoot`, as httpd does.
    pub fn resolve(&self, p: &str) -> PathBuf {
        resolve_against(&self.server_root(), p)
    }

    /// The server-wide `DocumentRoot`, resolved against `ServerRoot`.
    pub fn document_root(&self) -> Option<PathBuf> {
        self.last_server_wide("DocumentRoot")
            .map(|d| self.resolve(&d))
    }

    /// The `LoadModule` lines outside the blocks: `(module name, resolved file)`.
    pub fn load_modules(&self) -> Vec<(String, PathBuf)> {
        // ServerRoot once, not once per line (a conf loads dozens of modules).
        let root = self.server_root();
        self.directives()
            .into_iter()
            .filter(|d| d.is("LoadModule") && d.args.len() >= 2)
            .map(|d| (d.args[0].clone(), resolve_against(&root, &d.args[1])))
            .collect()
    }

    /// Decides how the block restricts access, from the conf outside the block and the module
    /// files present (`exists`). `None`: cannot tell from the conf; ask httpd (`apachectl -M`).
    ///
    /// - the conf loads `access_compat_module` itself → [`Access::Compat`];
    /// - the folder of its other modules holds `mod_access_compat.so` → [`Access::CompatLoading`]
    ///   (guarded by `<IfModule !access_compat_module>`, so harmless if an Include loads it);
    /// - that folder holds no `mod_authz_core.so` but `mod_authz_host.so` → Apache 2.2, where
    ///   `Order`/`Allow` are native → [`Access::Compat`].
    pub fn detect_access(&self, exists: impl Fn(&Path) -> bool) -> Option<Access> {
        let modules = self.load_modules();
        if modules.iter().any(|(m, _)| m == "access_compat_module") {
            return Some(Access::Compat);
        }
        let dirs: Vec<PathBuf> = modules
            .iter()
            .filter_map(|(_, f)| f.parent().map(Path::to_path_buf))
            .fold(Vec::new(), |mut v, d| {
                if !v.contains(&d) {
                    v.push(d);
                }
                v
            });
        for dir in &dirs {
            let compat = dir.join("mod_access_compat.so");
            if exists(&compat) {
                return Some(Access::CompatLoading(compat.to_string_lossy().into_owned()));
            }
        }
        for dir in &dirs {
            if exists(&dir.join("mod_authz_host.so")) && !exists(&dir.join("mod_authz_core.so")) {
                return Some(Access::Compat);
            }
        }
        None
    }
}

/// The directives of `bytes` (see [`HttpdConf::directives`]).
fn directives_of(bytes: &[u8]) -> Vec<Directive> {
    let mut out = Vec::new();
    let mut sections: Vec<String> = Vec::new();
    let mut pending = String::new();
    let mut pending_line = 0;
    let mut pending_offset = 0;
    for (n, (start, _, line)) in lines_of(bytes).enumerate() {
        let text = String::from_utf8_lossy(line);
        let t = text.trim();
        if pending.is_empty() {
            if t.is_empty() || t.starts_with('#') {
                continue;
            }
            pending_line = n + 1;
            pending_offset = start;
        }
        if let Some(head) = t.strip_suffix('\\') {
            pending.push_str(head);
            pending.push(' ');
            continue;
        }
        pending.push_str(t);
        let full = std::mem::take(&mut pending);
        let full = full.trim();
        if let Some(close) = full.strip_prefix("</") {
            let name = close.trim_end_matches('>').trim().to_ascii_lowercase();
            if let Some(pos) = sections.iter().rposition(|s| *s == name) {
                sections.truncate(pos);
            }
            out.push(Directive {
                name: format!("</{name}"),
                args: Vec::new(),
                line: pending_line,
                offset: pending_offset,
                sections: sections.clone(),
            });
            continue;
        }
        if let Some(open) = full.strip_prefix('<') {
            let inner = open.trim_end().trim_end_matches('>');
            let mut words = split_args(inner);
            if !words.is_empty() {
                let name = words.remove(0).to_ascii_lowercase();
                out.push(Directive {
                    name: format!("<{name}"),
                    args: words,
                    line: pending_line,
                    offset: pending_offset,
                    sections: sections.clone(),
                });
                sections.push(name);
            }
            continue;
        }
        let mut words = split_args(full);
        if words.is_empty() {
            continue;
        }
        let name = words.remove(0);
        out.push(Directive {
            name,
            args: words,
            line: pending_line,
            offset: pending_offset,
            sections: sections.clone(),
        });
    }
    out
}

// ---------------------------------------------------------------------------------------------
// The whole configuration: the main conf and the files it Includes.

/// Directives that answer a request before access control runs (mod_rewrite's and mod_alias's
/// translate-name stage) when they stand at server or virtual-host level.
const ANSWER_EARLY: &[&str] = &[
    "RewriteRule",
    "RewriteCond",
    "Redirect",
    "RedirectMatch",
    "RedirectPermanent",
    "RedirectTemp",
];

/// Directives that, inside an `<If>`/`<ElseIf>`/`<Else>` (merged after every `<Location>`), would
/// decide access or the error page over ours.
const OUTRANKING: &[&str] = &[
    "Require",
    "Allow",
    "Deny",
    "Order",
    "Satisfy",
    "ErrorDocument",
    "AuthMerging",
];

/// One directive of the whole configuration, in the order httpd reads it.
#[derive(Debug, Clone)]
pub struct ConfDirective {
    /// Index of its file in [`ConfSet::files`].
    pub file: usize,
    /// Its sections include those around the Include that brought its file in.
    pub d: Directive,
}

/// A `<VirtualHost>` of the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VirtualHost {
    pub file: PathBuf,
    pub line: usize,
    /// Its addresses (`*:443`, `10.0.0.5:80`, `_default_:443`).
    pub addresses: Vec<String>,
    /// ServerName then ServerAliases.
    pub names: Vec<String>,
    /// It turns TLS on (`SSLEngine on`, IHS's `SSLEnable`).
    pub tls: bool,
}

/// A `Listen` of the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listener {
    /// The address part, empty when it listens on every address.
    pub address: String,
    pub port: u16,
    /// `https` or `http`: the Listen's own protocol, else TLS when a virtual host on its port
    /// turns TLS on (or the port is 443).
    pub scheme: &'static str,
}

/// The main conf and every Included file it could read, in reading order (`files[0]` is the
/// main conf).
#[derive(Debug, Clone)]
pub struct ConfSet {
    pub files: Vec<HttpdConf>,
}

impl ConfSet {
    /// Reads the conf at `main` and, through its `Include`/`IncludeOptional` lines (resolved
    /// against ServerRoot; wildcards and folders as httpd reads them), the files it includes. An
    /// Include that names no file is skipped (httpd's own check reports a missing one); a file
    /// that exists but cannot be read is refused, naming the Include.
    pub fn read(main: &Path) -> Result<ConfSet> {
        let conf = HttpdConf::read(main)?;
        let root = conf.server_root();
        let mut set = ConfSet { files: vec![conf] };
        let mut stack = vec![main.to_path_buf()];
        set.read_includes(0, &root, &mut stack)?;
        Ok(set)
    }

    fn read_includes(&mut self, file: usize, root: &Path, stack: &mut Vec<PathBuf>) -> Result<()> {
        let includes: Vec<Directive> = self.files[file]
            .directives()
            .into_iter()
            .filter(|d| (d.is("Include") || d.is("IncludeOptional")) && !d.args.is_empty())
            .collect();
        for inc in includes {
            let pattern = resolve_against(root, &inc.args[0]);
            for path in expand_include(&pattern) {
                if stack.contains(&path) || self.files.iter().any(|f| f.path == path) {
                    continue;
                }
                if stack.len() > 16 {
                    return Err(Error::parse(
                        &self.files[file].path,
                        inc.line,
                        "Includes nest more than 16 deep",
                    ));
                }
                let conf = HttpdConf::read(&path).map_err(|e| {
                    e.context(format!(
                        "reading the file Included at {}:{}",
                        self.files[file].path.display(),
                        inc.line
                    ))
                })?;
                self.files.push(conf);
                let idx = self.files.len() - 1;
                stack.push(path);
                self.read_includes(idx, root, stack)?;
                stack.pop();
            }
        }
        Ok(())
    }

    /// The index of the file at `path`.
    fn index_of(&self, path: &Path) -> Option<usize> {
        self.files.iter().position(|f| f.path == path)
    }

    /// Every directive in httpd's reading order, Included files expanded where they are
    /// included (their directives carry the sections around the Include line).
    pub fn directives(&self) -> Vec<ConfDirective> {
        let root = self.files[0].server_root();
        let mut out = Vec::new();
        let mut seen = vec![false; self.files.len()];
        self.expand(0, &[], &root, &mut seen, &mut out);
        out
    }

    fn expand(
        &self,
        file: usize,
        outer: &[String],
        root: &Path,
        seen: &mut [bool],
        out: &mut Vec<ConfDirective>,
    ) {
        if seen[file] {
            return;
        }
        seen[file] = true;
        for d in self.files[file].directives() {
            let mut sections = outer.to_vec();
            sections.extend(d.sections.iter().cloned());
            let include = (d.is("Include") || d.is("IncludeOptional")) && !d.args.is_empty();
            let d = Directive { sections, ..d };
            if include {
                for path in expand_include(&resolve_against(root, &d.args[0])) {
                    if let Some(i) = self.index_of(&path) {
                        self.expand(i, &d.sections, root, seen, out);
                    }
                }
            }
            out.push(ConfDirective { file, d });
        }
        seen[file] = false;
    }

    /// The blocks removed from every file: the configuration as it was.
    pub fn disabled(&self) -> Vec<Vec<u8>> {
        self.files.iter().map(HttpdConf::disabled).collect()
    }

    /// The new bytes of every file with maintenance mode `m` in place where Apache applies it:
    ///
    /// - the main conf ends with the server-level block (its `<Location />` comes after every
    ///   server-level section, and holds the ErrorDocuments, which so outrank a virtual host's);
    /// - every `<VirtualHost>` holding `<Location>`/`<LocationMatch>` sections of its own (merged
    ///   after the server's) gets the same sections at its end, in the file that closes it;
    /// - every server or virtual-host context with `RewriteRule`/`Redirect…` lines (which answer
    ///   before access control) gets a rule before its first one that answers 403 to everyone
    ///   outside the allow list.
    ///
    /// Refused, before anything is written, with the file, line and directive: such a place in a
    /// file for which `readonly` is true; an `<If>` section deciding access (Apache applies it
    /// after every `<Location>`); a guard needed while `allow_from` holds a host name.
    pub fn enabled(
        &self,
        m: &Maintenance,
        readonly: &dyn Fn(&Path) -> bool,
    ) -> Result<Vec<Vec<u8>>> {
        let all = self.directives();
        let mut inserts: Vec<Vec<(usize, Vec<String>)>> = vec![Vec::new(); self.files.len()];
        let server = self.files[0].base.len();
        inserts[0].push((server, m.lines()));
        let here =
            |c: &ConfDirective| format!("{}:{}", self.files[c.file].path.display(), c.d.line);
        let shown = |d: &Directive| {
            let mut s = d.name.trim_start_matches('<').to_string();
            if d.name.starts_with('<') {
                s = format!("<{}", capitalised_section(&s));
            }
            for a in &d.args {
                s.push(' ');
                s.push_str(a);
            }
            if d.name.starts_with('<') {
                s.push('>');
            }
            s
        };
        let mut place = |file: usize,
                         at: usize,
                         lines: Vec<String>,
                         why: &dyn Fn() -> String|
         -> Result<()> {
            if readonly(&self.files[file].path) {
                return Err(Error::invalid(format!(
                    "{}, and {} is not to be changed (readonly_files): maintenance mode cannot be put where Apache applies it",
                    why(),
                    self.files[file].path.display()
                )));
            }
            if !inserts[file].iter().any(|(a, _)| *a == at) {
                inserts[file].push((at, lines));
            }
            Ok(())
        };
        // Virtual hosts: (index of the opening in `all`, depth of its section).
        let mut open: Vec<(usize, usize)> = Vec::new();
        let mut vhost_has_location: Vec<Option<usize>> = Vec::new();
        let mut guarded: Vec<bool> = Vec::new(); // per open vhost
        let mut server_guarded = false;
        for (i, c) in all.iter().enumerate() {
            let d = &c.d;
            if d.is("<virtualhost") {
                open.push((i, d.sections.len()));
                vhost_has_location.push(None);
                guarded.push(false);
                continue;
            }
            if d.is("</virtualhost") {
                if let Some((o, _)) = open.pop() {
                    let loc = vhost_has_location.pop().flatten();
                    guarded.pop();
                    if let Some(l) = loc {
                        let why = || {
                            format!(
                                "{}: {} has its own {} (line {}), which Apache applies after the server's maintenance block",
                                here(&all[o]),
                                shown(&all[o].d),
                                shown(&all[l].d),
                                all[l].d.line
                            )
                        };
                        place(c.file, d.offset, m.virtual_host_lines(), &why)?;
                    }
                }
                continue;
            }
            if d.sections
                .iter()
                .any(|s| s == "if" || s == "elseif" || s == "else")
                && OUTRANKING.iter().any(|n| d.is(n))
            {
                let section = all[..i]
                    .iter()
                    .rev()
                    .find(|p| p.d.is("<if") || p.d.is("<elseif") || p.d.is("<else"))
                    .map_or_else(|| "<If>".to_string(), |p| shown(&p.d));
                return Err(Error::invalid(format!(
                    "{}: {} inside {} decides access after every <Location>: maintenance mode cannot outrank it; move it into a <Location> or take it out during maintenance",
                    here(c),
                    shown(d),
                    section
                )));
            }
            if (d.is("<location") || d.is("<locationmatch")) && !open.is_empty() {
                if let Some(slot) = vhost_has_location.last_mut() {
                    slot.get_or_insert(i);
                }
            }
            let context_level = d
                .sections
                .iter()
                .all(|s| is_conditional(s) || s == "virtualhost");
            if context_level && ANSWER_EARLY.iter().any(|n| d.is(n)) {
                let in_vhost = d.sections.iter().any(|s| s == "virtualhost");
                let done = if in_vhost {
                    guarded.last().copied().unwrap_or(true)
                } else {
                    server_guarded
                };
                if done {
                    continue;
                }
                let lines = m.guard_lines().map_err(|host| {
                    Error::invalid(format!(
                        "{}: {} answers before access control, and the rule that keeps users out there cannot check allow_from entry {host:?} (a host name): list its address instead",
                        here(c),
                        shown(d)
                    ))
                })?;
                let why = || format!("{}: {} answers before access control", here(c), shown(d));
                place(c.file, d.offset, lines, &why)?;
                if in_vhost {
                    if let Some(g) = guarded.last_mut() {
                        *g = true;
                    }
                } else {
                    server_guarded = true;
                }
            }
        }
        Ok(self
            .files
            .iter()
            .zip(inserts)
            .map(|(f, ins)| {
                if ins.is_empty() {
                    f.base.clone()
                } else {
                    f.with_blocks(ins)
                }
            })
            .collect())
    }

    /// The directives httpd acts on: those inside an `<IfModule>`, `<IfFile>` or `<IfDefine>`
    /// whose condition is false are left out. Modules count as loaded from their (live)
    /// `LoadModule` line on; `<IfDefine X>` is false (no `-D` is known here), `<IfFile>` is
    /// checked against ServerRoot; other conditions count as true.
    pub fn live_directives(&self) -> Vec<ConfDirective> {
        let root = self.files[0].server_root();
        let mut loaded: Vec<String> = Vec::new();
        let mut alive: Vec<bool> = Vec::new();
        let mut out = Vec::new();
        for c in self.directives() {
            let up = alive.last().copied().unwrap_or(true);
            if c.d.name.starts_with("</") {
                alive.pop();
                if up {
                    out.push(c);
                }
                continue;
            }
            if c.d.name.starts_with('<') {
                let arg = c.d.args.first().map(String::as_str).unwrap_or("");
                let (negated, arg) = match arg.strip_prefix('!') {
                    Some(a) => (true, a),
                    None => (false, arg),
                };
                let holds = match c.d.name.as_str() {
                    "<ifmodule" => {
                        let name = arg
                            .strip_prefix("mod_")
                            .and_then(|a| a.strip_suffix(".c"))
                            .map_or_else(|| arg.to_string(), |m| format!("{m}_module"));
                        Some(loaded.contains(&name))
                    }
                    "<iffile" => Some(resolve_against(&root, arg).exists()),
                    "<ifdefine" => Some(false),
                    _ => None,
                };
                let live = up && holds.is_none_or(|h| h != negated);
                alive.push(live);
                if up {
                    out.push(c);
                }
                continue;
            }
            if !up {
                continue;
            }
            if c.d.is("LoadModule") {
                if let Some(m) = c.d.args.first() {
                    loaded.push(m.clone());
                }
            }
            out.push(c);
        }
        out
    }

    /// The virtual hosts httpd acts on, in reading order.
    pub fn virtual_hosts(&self) -> Vec<VirtualHost> {
        let all = self.live_directives();
        let mut out: Vec<VirtualHost> = Vec::new();
        let mut open: Vec<usize> = Vec::new();
        for c in &all {
            let d = &c.d;
            if d.is("<virtualhost") {
                out.push(VirtualHost {
                    file: self.files[c.file].path.clone(),
                    line: d.line,
                    addresses: d.args.clone(),
                    names: Vec::new(),
                    tls: false,
                });
                open.push(out.len() - 1);
            } else if d.is("</virtualhost") {
                open.pop();
            } else if let Some(&v) = open.last() {
                let direct = d.sections.iter().filter(|s| !is_conditional(s)).count() == 1;
                if !direct {
                    continue;
                }
                if d.is("ServerName") {
                    if let Some(n) = d.args.first() {
                        out[v].names.insert(0, n.clone());
                    }
                } else if d.is("ServerAlias") {
                    out[v].names.extend(d.args.iter().cloned());
                } else if (d.is("SSLEngine")
                    && d.args.first().is_some_and(|a| a.eq_ignore_ascii_case("on")))
                    || d.is("SSLEnable")
                {
                    out[v].tls = true;
                }
            }
        }
        out
    }

    /// The main server's `ServerName`.
    pub fn server_name(&self) -> Option<String> {
        self.live_directives()
            .into_iter()
            .rev()
            .find(|c| c.d.is("ServerName") && c.d.is_server_wide())
            .and_then(|c| c.d.args.into_iter().next())
    }

    /// The `Listen` lines httpd acts on, each address and port once.
    pub fn listeners(&self) -> Vec<Listener> {
        let vhosts = self.virtual_hosts();
        let mut out: Vec<Listener> = Vec::new();
        for c in self.live_directives() {
            if !c.d.is("Listen") || c.d.args.is_empty() {
                continue;
            }
            let spec = &c.d.args[0];
            let (address, port) = match spec.rsplit_once(':') {
                Some((a, p)) => (a.trim_start_matches('[').trim_end_matches(']'), p),
                None => ("", spec.as_str()),
            };
            let Ok(port) = port.parse::<u16>() else {
                continue;
            };
            let proto = c.d.args.get(1).map(|p| p.to_ascii_lowercase());
            let tls = match proto.as_deref() {
                Some("https") => true,
                Some(_) => false,
                None => {
                    port == 443
                        || vhosts.iter().any(|v| {
                            v.tls && v.addresses.iter().any(|a| address_port(a) == Some(port))
                        })
                }
            };
            let l = Listener {
                address: address.to_string(),
                port,
                scheme: if tls { "https" } else { "http" },
            };
            if !out
                .iter()
                .any(|o| o.address == l.address && o.port == l.port)
            {
                out.push(l);
            }
        }
        out
    }
}

/// `<virtualhost` → `VirtualHost`, `<locationmatch` → `LocationMatch` (for messages).
fn capitalised_section(lower: &str) -> String {
    const NAMES: &[&str] = &[
        "VirtualHost",
        "LocationMatch",
        "Location",
        "DirectoryMatch",
        "Directory",
        "FilesMatch",
        "Files",
        "IfModule",
        "IfDefine",
        "IfFile",
        "IfVersion",
        "ElseIf",
        "Else",
        "If",
    ];
    NAMES
        .iter()
        .find(|n| n.eq_ignore_ascii_case(lower))
        .map_or_else(|| lower.to_string(), |n| n.to_string())
}

/// The port of a virtual host address (`*:443` → 443; `*` → none).
fn address_port(a: &str) -> Option<u16> {
    a.rsplit_once(':').and_then(|(_, p)| p.parse().ok())
}

/// The files an Include pattern names, sorted as httpd reads them: a file; a folder (every file
/// below it); or a pattern with `*`, `?` in its components.
pub fn expand_include(pattern: &Path) -> Vec<PathBuf> {
    let mut current = vec![PathBuf::new()];
    for comp in pattern.components() {
        let part = comp.as_os_str().to_string_lossy();
        let mut next = Vec::new();
        for base in &current {
            if part.contains(['*', '?', '[']) {
                let Ok(rd) = std::fs::read_dir(if base.as_os_str().is_empty() {
                    Path::new(".")
                } else {
                    base
                }) else {
                    continue;
                };
                let mut names: Vec<String> = rd
                    .filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| !n.starts_with('.') && wildcard_match(&part, n))
                    .collect();
                names.sort();
                next.extend(names.into_iter().map(|n| base.join(n)));
            } else {
                next.push(base.join(comp.as_os_str()));
            }
        }
        current = next;
    }
    let mut out = Vec::new();
    for p in current {
        files_below(&p, &mut out);
    }
    out
}

fn files_below(p: &Path, out: &mut Vec<PathBuf>) {
    if p.is_dir() {
        let Ok(rd) = std::fs::read_dir(p) else { return };
        let mut names: Vec<PathBuf> = rd.filter_map(|e| e.ok()).map(|e| e.path()).collect();
        names.sort();
        for n in names {
            files_below(&n, out);
        }
    } else if p.exists() {
        out.push(p.to_path_buf());
    }
}

/// `*` and `?` matching, as fnmatch does for one file-name component (`[` taken literally).
fn wildcard_match(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    let (mut pi, mut ni, mut star, mut mark) = (0, 0, None, 0);
    while ni < n.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == n[ni]) {
            pi += 1;
            ni += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ni;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ni = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

/// `p` resolved against `root`, as httpd does; Windows absolute forms count as absolute anywhere.
fn resolve_against(root: &Path, p: &str) -> PathBuf {
    let path = PathBuf::from(p);
    let bytes = p.as_bytes();
    // A Windows conf read elsewhere (or on Windows): `C:/…`, `C:\…` and `\\server\…` are absolute.
    let windows_absolute = (bytes.len() >= 3
        && bytes[0].is_ascii_alphabetic()
        && bytes[1] == b':'
        && (bytes[2] == b'/' || bytes[2] == b'\\'))
        || p.starts_with("\\\\");
    if path.is_absolute() || windows_absolute {
        path
    } else {
        root.join(path)
    }
}

fn damaged(path: &Path, line: usize, what: &str) -> Error {
    Error::parse(
        path,
        line,
        format!("the maintenance block's markers are damaged ({what}); repair the file by hand"),
    )
}

/// The lines of `bytes`: `(start, end including the line ending, line without it)`.
fn lines_of(bytes: &[u8]) -> impl Iterator<Item = (usize, usize, &[u8])> {
    let mut pos = 0;
    std::iter::from_fn(move || {
        if pos >= bytes.len() {
            return None;
        }
        let start = pos;
        let end = match bytes[pos..].iter().position(|&b| b == b'\n') {
            Some(i) => pos + i + 1,
            None => bytes.len(),
        };
        pos = end;
        let mut line = &bytes[start..end];
        line = line.strip_suffix(b"\n").unwrap_or(line);
        line = line.strip_suffix(b"\r").unwrap_or(line);
        Some((start, end, line))
    })
}

/// Splits a directive's words, as httpd does: whitespace, with `"…"` and `'…'` quoting.
fn split_args(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let Some(&c) = chars.peek() else { break };
        let mut word = String::new();
        if c == '"' || c == '\'' {
            chars.next();
            while let Some(ch) = chars.next() {
                if ch == '\\' && chars.peek() == Some(&c) {
                    word.push(c);
                    chars.next();
                } else if ch == c {
                    break;
                } else {
                    word.push(ch);
                }
            }
        } else {
            while let Some(&ch) = chars.peek() {
                if ch.is_whitespace() {
                    break;
                }
                word.push(ch);
                chars.next();
            }
        }
        out.push(word);
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Side effects: files and apachectl.

/// Copies `path` to `<path>.<pid>.<YYYY-MM-DD@HH:MM:SS>~` (Ansible's backup naming, UTC time)
/// and returns the copy's path.
pub fn backup_copy(path: &Path) -> Result<PathBuf> {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".{}.{}~", std::process::id(), utc_stamp(secs)));
    let backup = PathBuf::from(name);
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    crate::fs::write_atomic(&backup, &bytes, 0o600)?;
    if let Ok(m) = std::fs::metadata(path) {
        let _ = std::fs::set_permissions(&backup, m.permissions());
    }
    Ok(backup)
}

/// `YYYY-MM-DD@HH:MM:SS` for seconds since the epoch, UTC.
pub fn utc_stamp(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}@{:02}:{:02}:{:02}",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60
    )
}

/// The result of one apachectl run.
#[derive(Debug, Clone)]
pub struct CtlOutput {
    pub status: Option<i32>,
    /// stdout then stderr.
    pub output: String,
}

impl CtlOutput {
    pub fn success(&self) -> bool {
        self.status == Some(0)
    }

    /// The last `n` non-empty lines, joined with `; `.
    pub fn tail(&self, n: usize) -> String {
        let lines: Vec<&str> = self
            .output
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        lines[lines.len().saturating_sub(n)..].join("; ")
    }

    /// The line that says what is wrong with a conf: httpd's `AH00526: Syntax error on line N of
    /// FILE:` and the line after it, or else the last lines.
    pub fn error_line(&self) -> String {
        let lines: Vec<&str> = self
            .output
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        if let Some(i) = lines.iter().position(|l| l.contains("Syntax error")) {
            return lines[i..(i + 2).min(lines.len())].join(" ");
        }
        self.tail(2)
    }
}

/// apachectl: validate a conf, list modules, restart.
#[derive(Debug, Clone)]
pub struct Apachectl {
    pub program: PathBuf,
}

impl Apachectl {
    pub fn new(program: impl Into<PathBuf>) -> Self {
        Apachectl {
            program: program.into(),
        }
    }

    /// Runs apachectl with `args` and returns its status and output; only a failure to start
    /// it is an error.
    pub fn run(&self, args: &[&str]) -> Result<CtlOutput> {
        let dir = self
            .program
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let out = Command::new(&self.program)
            .args(args)
            .current_dir(dir)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| Error::io(&self.program, e).context("running apachectl"))?;
        let mut output = String::from_utf8_lossy(&out.stdout).into_owned();
        let err = String::from_utf8_lossy(&out.stderr);
        if !err.is_empty() {
            if !output.is_empty() && !output.ends_with('\n') {
                output.push('\n');
            }
            output.push_str(&err);
        }
        Ok(CtlOutput {
            status: out.status.code(),
            output,
        })
    }

    /// `apachectl -t -f <conf>`.
    pub fn check(&self, conf: &Path) -> Result<CtlOutput> {
        self.run(&["-t", "-f", &conf.to_string_lossy()])
    }

    /// `apachectl -M -f <conf>`: whether the conf loads `module` (e.g. `access_compat_module`).
    /// `None` when httpd could not say (the conf does not parse).
    pub fn loads_module(&self, conf: &Path, module: &str) -> Result<Option<bool>> {
        let out = self.run(&["-M", "-f", &conf.to_string_lossy()])?;
        if !out.success() {
            return Ok(None);
        }
        Ok(Some(
            out.output
                .lines()
                .any(|l| l.split_whitespace().next() == Some(module)),
        ))
    }

    /// `apachectl -t -D DUMP_RUN_CFG -f <conf>`: the `Main DocumentRoot` httpd would use (for a
    /// conf that sets it in an Include). `None` when httpd does not say.
    pub fn document_root(&self, conf: &Path) -> Result<Option<PathBuf>> {
        let out = self.run(&["-t", "-D", "DUMP_RUN_CFG", "-f", &conf.to_string_lossy()])?;
        if !out.success() {
            return Ok(None);
        }
        Ok(out.output.lines().find_map(|l| {
            l.trim()
                .strip_prefix("Main DocumentRoot:")
                .map(|v| PathBuf::from(v.trim().trim_matches('"')))
        }))
    }

    /// `apachectl -k <verb> -f <conf>`.
    pub fn signal(&self, verb: &str, conf: &Path) -> Result<CtlOutput> {
        self.run(&["-k", verb, "-f", &conf.to_string_lossy()])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::write_atomic;

    fn m(access: Access) -> Maintenance {
        Maintenance {
            allow_from: parse_allow_from(&["10.0.0.5".into(), "was1.example.com".into()]).unwrap(),
            page_name: "upgrading.htm".into(),
            assets_path: Some("/assets/".into()),
            error_codes: vec![401, 403],
            access,
            page_written: None,
        }
    }

    #[test]
    fn allow_entries() {
        for ok in [
            "10.0.0.5",
            "10.0.0.0/8",
            "10.1.0.0/255.255.0.0",
            "::1",
            "fd00::/8",
            "was1.example.com",
            "localhost",
            "dmgr-01.corp.",
        ] {
            AllowEntry::parse(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
        for bad in [
            "",
            "10.0.0.1 10.0.0.2",
            "10.1",
            "10.0.0.0/33",
            "fd00::/129",
            "\"x\"",
            "a\nb",
            "</Location>",
            "env=foo",
            "-bad.example.com",
            "under_score.example.com",
            "10.0.0.0/+8",
        ] {
            let e = AllowEntry::parse(bad).unwrap_err().one_line();
            assert!(!e.contains('\n'), "{e}");
            assert!(e.starts_with("allow_from entry \""), "{e}");
        }
        assert_eq!(
            AllowEntry::parse("a\nb").unwrap_err().one_line(),
            r#"allow_from entry "a\nb" is not an IP address, a CIDR range or a host name"#
        );
        assert!(AllowEntry::parse("ALL")
            .unwrap_err()
            .one_line()
            .contains("everyone"));
        assert!(parse_allow_from(&[]).is_err());
    }

    #[test]
    fn names_and_paths() {
        check_page_name("upgrading.htm").unwrap();
        for bad in ["", "../x", "a/b", ".htaccess", "a b", "a\\b", ".."] {
            assert!(check_page_name(bad).is_err(), "{bad}");
        }
        check_assets_path("/assets/").unwrap();
        check_assets_path("/connections/resources/web/").unwrap();
        for bad in ["/", "assets", "/a/../b", "/a b", "/a\"", "/a>"] {
            assert!(check_assets_path(bad).is_err(), "{bad}");
        }
        assert_eq!(check_error_codes(&[401, 403]).unwrap(), vec![401, 403]);
        assert!(check_error_codes(&[200]).is_err());
    }

    #[test]
    fn appends_and_removes_without_trailing_newline() {
        let p = Path::new("/x/httpd.conf");
        // "Listen 80\r": a file whose only line ends in a lone CR (the block's LF made its first
        // break read CRLF, and disabling lost the CR; found by the round-trip property test).
        for original in [
            "Listen 80",
            "Listen 80\n",
            "",
            "Listen 80\r\nServerName x",
            "Listen 80\r",
            "\r",
            "Listen 80\nServerName x\r",
        ] {
            let conf = HttpdConf::parse(p, original.as_bytes().to_vec()).unwrap();
            let on = conf.enabled(&m(Access::Compat)).unwrap();
            let conf_on = HttpdConf::parse(p, on.clone()).unwrap();
            assert!(conf_on.block().is_some());
            assert_eq!(
                conf_on.enabled(&m(Access::Compat)).unwrap(),
                on,
                "{original:?}"
            );
            assert_eq!(conf_on.disabled(), original.as_bytes(), "{original:?}");
            // Changing the block in place keeps the rest.
            let other = conf_on.enabled(&m(Access::Require)).unwrap();
            let conf_other = HttpdConf::parse(p, other).unwrap();
            assert_eq!(conf_other.disabled(), original.as_bytes());
        }
    }

    #[test]
    fn damaged_markers() {
        let p = Path::new("/x/httpd.conf");
        let only_begin = format!("Listen 80\n{BEGIN_MARKER}\nDeny from all\n");
        let e = HttpdConf::parse(p, only_begin.into_bytes()).unwrap_err();
        assert_eq!(
            e.one_line(),
            "/x/httpd.conf:2: the maintenance block's markers are damaged (a BEGIN marker without its END marker); repair the file by hand"
        );
        let only_end = format!("Listen 80\n{END_MARKER}\n");
        assert!(HttpdConf::parse(p, only_end.into_bytes()).is_err());
        let nested = format!("{BEGIN_MARKER}\n{BEGIN_MARKER}\n{END_MARKER}\n{END_MARKER}\n");
        assert!(HttpdConf::parse(p, nested.into_bytes()).is_err());
        // Two blocks one after the other (server level and a virtual host's) are fine.
        let two =
            format!("{BEGIN_MARKER}\n{END_MARKER}\nListen 80\n{BEGIN_MARKER}\n{END_MARKER}\n");
        let conf = HttpdConf::parse(p, two.into_bytes()).unwrap();
        assert_eq!(conf.blocks().len(), 2);
        assert_eq!(conf.disabled(), b"Listen 80\n");
    }

    #[test]
    fn reads_roots_and_modules() {
        let text = "ServerRoot \"/opt/IBM/HTTPServer\"\nDocumentRoot htdocs\n<VirtualHost *:443>\n  DocumentRoot /elsewhere\n</VirtualHost>\n<IfModule mod_ssl.c>\nLoadModule ibm_ssl_module modules/mod_ibm_ssl.so\n</IfModule>\nLoadModule mime_module \\\n   modules/mod_mime.so\n";
        let conf = HttpdConf::parse(Path::new("/x/conf/httpd.conf"), text.into()).unwrap();
        assert_eq!(conf.server_root(), PathBuf::from("/opt/IBM/HTTPServer"));
        assert_eq!(
            conf.document_root(),
            Some(PathBuf::from("/opt/IBM/HTTPServer/htdocs"))
        );
        let mods = conf.load_modules();
        assert_eq!(mods.len(), 2);
        assert_eq!(
            mods[1].1,
            PathBuf::from("/opt/IBM/HTTPServer/modules/mod_mime.so")
        );
        let found = conf.detect_access(|p| p.ends_with("mod_access_compat.so"));
        assert_eq!(
            found,
            Some(Access::CompatLoading(
                "/opt/IBM/HTTPServer/modules/mod_access_compat.so".into()
            ))
        );
        assert_eq!(conf.detect_access(|_| false), None);
        let apache22 = conf.detect_access(|p| p.ends_with("mod_authz_host.so"));
        assert_eq!(apache22, Some(Access::Compat));
    }

    #[cfg(unix)]
    #[test]
    fn atomic_write_keeps_mode_and_follows_links() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("httpd.conf.real");
        std::fs::write(&real, "old\n").unwrap();
        std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o640)).unwrap();
        let link = dir.path().join("httpd.conf");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        write_atomic(&link, b"new\n", 0o644).unwrap();
        assert!(std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(std::fs::read(&real).unwrap(), b"new\n");
        let mode = std::fs::metadata(&real).unwrap().permissions().mode() & 0o7777;
        assert_eq!(mode, 0o640);
        let fresh = dir.path().join("page.htm");
        write_atomic(&fresh, b"x", 0o644).unwrap();
        let mode = std::fs::metadata(&fresh).unwrap().permissions().mode() & 0o7777;
        assert_eq!(mode, 0o644);
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            3,
            "no temporary file left"
        );
        let backup = backup_copy(&link).unwrap();
        assert_eq!(std::fs::read(&backup).unwrap(), b"new\n");
    }

    #[test]
    fn stamps() {
        assert_eq!(utc_stamp(0), "1970-01-01@00:00:00");
        assert_eq!(utc_stamp(951_782_400 + 3_661), "2000-02-29@01:01:01");
    }
}
