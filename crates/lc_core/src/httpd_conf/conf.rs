//! One conf file: its managed blocks, its directives, its roots and modules ([`HttpdConf`]).

use super::{
    damaged, lines_of, resolve_against, split_args, Access, ConfSet, Maintenance, BEGIN_PREFIX,
    END_PREFIX, PAGE_NOTE,
};
use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

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

    pub(super) fn is(&self, name: &str) -> bool {
        self.name.eq_ignore_ascii_case(name)
    }
}

/// `<IfModule>`, `<IfDefine>`, `<IfFile>`, `<IfVersion>`, `<IfDirective>`, `<IfSection>`: they
/// decide whether their lines count, not where they apply (`<If>` is not one of them).
pub(super) fn is_conditional(section: &str) -> bool {
    section.len() > 2 && section.starts_with("if")
}

/// A parsed httpd.conf (or Included file): its bytes, line ending, managed blocks and the bytes
/// without them.
#[derive(Debug, Clone)]
pub struct HttpdConf {
    pub(super) path: PathBuf,
    pub(super) bytes: Vec<u8>,
    /// The bytes without the managed blocks: the file as it was before maintenance.
    pub(super) base: Vec<u8>,
    pub(super) eol: &'static str,
    pub(super) blocks: Vec<Block>,
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
    pub(super) fn with_blocks(&self, mut blocks: Vec<(usize, Vec<String>)>) -> Vec<u8> {
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
