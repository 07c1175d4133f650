//! The whole configuration: the main conf and the files it Includes ([`ConfSet`]), its live
//! directives, virtual hosts and listeners, and the block written into the right files.

use super::{expand_include, is_conditional, resolve_against, Directive, HttpdConf, Maintenance};
use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

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
