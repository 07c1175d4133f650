//! The layout-free record count of [`super::summarize`]: element paths, the shallowest UUID
//! carriers on each, and the path that holds the records (the rule is in [`super`]'s
//! documentation).

use super::doc::Doc;
use super::lexical::{carries_uuid, decode, is_blank, is_uuid_bytes, raw_attributes};
use super::Layout;

use crate::error::Result;
use quick_xml::events::{BytesStart, Event};
use std::collections::HashMap;

/// The most element paths [`summarize`] tells apart; elements on further paths are read and
/// checked but not counted (a document with that many kinds of element is not an export).
pub const MAX_PATHS: usize = 4096;
/// The path of elements beyond [`MAX_PATHS`].
const UNCOUNTED: u32 = u32::MAX;
/// Past this many children, a path's children are found through the index, not by a scan.
const FEW_CHILDREN: usize = 16;

/// One path from the root (the names of the elements on the way down).
struct PathNode {
    parent: u32,
    name: Box<[u8]>,
    depth: u32,
    children: Vec<u32>,
    /// Elements met on this path.
    elements: u64,
    /// Of them, those that carry a UUID with no carrier among their ancestors.
    carriers: u64,
}

/// An open element.
#[derive(Default)]
struct Frame {
    path: u32,
    carrier: bool,
    has_child: bool,
    text_uuid: bool,
    text_other: bool,
    /// The shallowest carriers counted inside this element so far, per path.
    inside: Vec<(u32, u64)>,
}

/// The streaming state of [`summarize`]: the layout-free record count.
pub(super) struct Scan {
    pub(super) doc: Doc,
    paths: Vec<PathNode>,
    index: HashMap<(u32, Box<[u8]>), u32>,
    /// Open elements are `stack[..open]`; frames above keep their buffers for reuse.
    stack: Vec<Frame>,
    open: usize,
    /// Elements open inside the innermost open frame that carries a UUID: nothing in them can
    /// count, so they get no frame of their own, only this depth (quick-xml checks that their
    /// end tags match).
    under: usize,
    root_closed: bool,
    /// The text of the open child of the root while it has no children (an application name?).
    leaf_text: Vec<u8>,
    pub(super) applications: Vec<String>,
}

impl Scan {
    pub(super) fn new(doc: Doc) -> Scan {
        Scan {
            doc,
            paths: Vec::new(),
            index: HashMap::new(),
            stack: Vec::new(),
            open: 0,
            under: 0,
            root_closed: false,
            leaf_text: Vec::new(),
            applications: Vec::new(),
        }
    }

    /// Reads the whole document; see the module documentation.
    pub(super) fn run(&mut self) -> Result<()> {
        let mut buf = Vec::with_capacity(1024);
        loop {
            buf.clear();
            match self.doc.xml.read_event_into(&mut buf) {
                Ok(Event::Start(e)) => self.start(&e, false)?,
                Ok(Event::Empty(e)) => self.start(&e, true)?,
                Ok(Event::End(_)) => self.end(),
                Ok(Event::Text(t)) => self.text(&t)?,
                Ok(Event::CData(t)) => self.text(&t)?,
                Ok(Event::Decl(d)) => self.declaration(&d)?,
                Ok(Event::Comment(_) | Event::PI(_) | Event::DocType(_)) => {}
                Ok(Event::Eof) => return self.eof(),
                Err(e) => return Err(self.doc.xml_error(e)),
            }
        }
    }

    fn start(&mut self, e: &BytesStart, empty: bool) -> Result<()> {
        if self.root_closed {
            return Err(self
                .doc
                .here("not well-formed XML: a second element after the root element".into()));
        }
        if self.under > 0 {
            self.under += usize::from(!empty);
            return Ok(());
        }
        if self.open == 0 {
            return self.root(e, empty);
        }
        let above = &mut self.stack[self.open - 1];
        above.has_child = true;
        if above.carrier {
            self.under = usize::from(!empty);
            return Ok(());
        }
        let parent = above.path;
        let path = self.child_path(parent, e.name().as_ref());
        if let Some(p) = self.paths.get_mut(path as usize) {
            p.elements += 1;
        }
        let carrier = carries_uuid(e.attributes_raw());
        if self.open == 1 {
            self.leaf_text.clear();
        }
        self.push(path, carrier);
        if empty {
            self.end();
        }
        Ok(())
    }

    /// The root element: its attributes may name the application.
    fn root(&mut self, e: &BytesStart, empty: bool) -> Result<()> {
        let mut names: Vec<&[u8]> = Vec::new();
        for attr in raw_attributes(e.attributes_raw()) {
            let (name, raw) = attr.map_err(|why| self.doc.here(why))?;
            if names.contains(&name) {
                return Err(self.doc.duplicate(&String::from_utf8_lossy(name)));
            }
            names.push(name);
            if let Ok(text) = std::str::from_utf8(raw) {
                let value = decode(text).map_err(|why| self.doc.here(why))?;
                self.named(&value);
            }
        }
        self.paths.push(PathNode {
            parent: UNCOUNTED,
            name: e.name().as_ref().into(),
            depth: 1,
            children: Vec::new(),
            elements: 1,
            carriers: 0,
        });
        self.push(0, false);
        if empty {
            self.end();
        }
        Ok(())
    }

    fn named(&mut self, value: &str) {
        if let Some(app) = crate::apps::by_name(value.trim()) {
            if !self.applications.iter().any(|a| a == app.id) {
                self.applications.push(app.id.to_string());
            }
        }
    }

    fn push(&mut self, path: u32, carrier: bool) {
        if self.open == self.stack.len() {
            self.stack.push(Frame::default());
        }
        let f = &mut self.stack[self.open];
        f.path = path;
        f.carrier = carrier;
        f.has_child = false;
        f.text_uuid = false;
        f.text_other = false;
        f.inside.clear();
        self.open += 1;
    }

    /// The path of an element named `name` under `parent`, made on first sight.
    fn child_path(&mut self, parent: u32, name: &[u8]) -> u32 {
        let Some(node) = self.paths.get(parent as usize) else {
            return UNCOUNTED;
        };
        if node.children.len() <= FEW_CHILDREN {
            if let Some(&c) = node
                .children
                .iter()
                .find(|&&c| &*self.paths[c as usize].name == name)
            {
                return c;
            }
        } else if let Some(&c) = self.index.get(&(parent, Box::from(name))) {
            return c;
        }
        if self.paths.len() >= MAX_PATHS {
            return UNCOUNTED;
        }
        let id = self.paths.len() as u32;
        let depth = node.depth + 1;
        self.paths.push(PathNode {
            parent,
            name: name.into(),
            depth,
            children: Vec::new(),
            elements: 0,
            carriers: 0,
        });
        let siblings = &mut self.paths[parent as usize].children;
        siblings.push(id);
        if siblings.len() > FEW_CHILDREN {
            // From now on through the index: put every child of this parent in it.
            let all: Vec<u32> = siblings.clone();
            for c in all {
                let key = (parent, self.paths[c as usize].name.clone());
                self.index.insert(key, c);
            }
        }
        id
    }

    fn end(&mut self) {
        if self.under > 0 {
            self.under -= 1;
            return;
        }
        let Some(open) = self.open.checked_sub(1) else {
            return;
        };
        self.open = open;
        if open == 0 {
            self.root_closed = true;
            return;
        }
        let (below, rest) = self.stack.split_at_mut(open);
        let (parent, frame) = (&mut below[open - 1], &mut rest[0]);
        let leaf = !frame.has_child;
        if leaf && open >= 2 && frame.text_uuid && !frame.text_other {
            parent.carrier = true;
        }
        if leaf && open == 1 && !frame.text_uuid && self.leaf_text.len() <= 64 {
            let text = std::mem::take(&mut self.leaf_text);
            if let Ok(t) = std::str::from_utf8(&text) {
                if let Ok(value) = quick_xml::escape::unescape(t) {
                    let value = value.into_owned();
                    self.named(&value);
                }
            }
            self.leaf_text = text;
            return self.settle(open);
        }
        self.settle(open);
    }

    /// Counts the closed element at `stack[open]` into its parent.
    fn settle(&mut self, open: usize) {
        let (below, rest) = self.stack.split_at_mut(open);
        let (parent, frame) = (&mut below[open - 1], &mut rest[0]);
        if frame.carrier && frame.path != UNCOUNTED {
            // The carriers inside it are not the shallowest any more.
            for &(p, n) in &frame.inside {
                self.paths[p as usize].carriers -= n;
            }
            self.paths[frame.path as usize].carriers += 1;
            add_inside(&mut parent.inside, frame.path, 1);
        } else {
            for &(p, n) in &frame.inside {
                add_inside(&mut parent.inside, p, n);
            }
        }
    }

    /// Text (or CDATA) read; the white space between elements returns at once.
    #[inline]
    fn text(&mut self, t: &[u8]) -> Result<()> {
        if self.under > 0 {
            return Ok(());
        }
        if self.open == 0 {
            return self.text_outside(t);
        }
        let open = self.open;
        let f = &mut self.stack[open - 1];
        if f.has_child {
            return Ok(());
        }
        let trimmed = t.trim_ascii();
        if trimmed.is_empty() {
            return Ok(());
        }
        if is_uuid_bytes(trimmed) && !f.text_uuid && !f.text_other {
            f.text_uuid = true;
        } else {
            f.text_other = true;
        }
        if open == 2 && self.leaf_text.len() <= 64 {
            self.leaf_text.extend_from_slice(trimmed);
        }
        Ok(())
    }

    /// Text before or after the root element: white space only.
    #[cold]
    fn text_outside(&self, t: &[u8]) -> Result<()> {
        if is_blank(t) {
            return Ok(());
        }
        let msg = if self.root_closed {
            "not well-formed XML: text after the root element"
        } else {
            "not an XML document: text before the root element"
        };
        // Where the text starts, not where it ends.
        let pos = self
            .doc
            .xml
            .buffer_position()
            .saturating_sub(t.len() as u64);
        Err(self.doc.error_at(pos, msg.into()))
    }

    /// The encoding declaration: the rule reads ASCII bytes, so any ASCII-compatible one will do.
    fn declaration(&self, d: &quick_xml::events::BytesDecl) -> Result<()> {
        let Some(Ok(enc)) = d.encoding() else {
            return Ok(());
        };
        let name = String::from_utf8_lossy(&enc).to_ascii_lowercase();
        let single_byte = ["iso-8859-", "iso8859-", "iso_8859-", "windows-125", "cp125"];
        if matches!(
            name.as_str(),
            "utf-8" | "utf8" | "us-ascii" | "ascii" | "latin1" | "latin-1"
        ) || single_byte.iter().any(|p| name.starts_with(p))
        {
            return Ok(());
        }
        Err(self.doc.here(format!(
            "the encoding {name:?} is not read: an export must be UTF-8, US-ASCII or a single-byte ISO-8859 or Windows encoding"
        )))
    }

    fn eof(&self) -> Result<()> {
        if self.root_closed {
            return Ok(());
        }
        let pos = self.doc.xml.buffer_position();
        let msg = match self.paths.first() {
            None if pos == 0 => "empty file, not an export XML file".to_string(),
            None => "not an export XML file: no root element".to_string(),
            Some(root) => format!(
                "truncated: the file ends before </{}> closes the document",
                String::from_utf8_lossy(&root.name)
            ),
        };
        Err(self
            .doc
            .error_at(if self.paths.is_empty() { 0 } else { pos }, msg))
    }

    /// The records: how many, how they were found, and their path.
    pub(super) fn records(&self) -> (u64, Layout, Option<String>) {
        let best = |count: fn(&PathNode) -> u64, only_root_children: bool| {
            self.paths
                .iter()
                .enumerate()
                .filter(|(_, p)| !only_root_children || p.depth == 2)
                .filter(|(_, p)| count(p) > 0)
                .max_by(|(i, a), (j, b)| {
                    count(a)
                        .cmp(&count(b))
                        .then(b.depth.cmp(&a.depth))
                        .then(j.cmp(i))
                })
                .map(|(i, p)| (count(p), i))
        };
        if let Some((n, i)) = best(|p| p.carriers, false) {
            return (n, Layout::Recognized, Some(self.path_name(i)));
        }
        match best(|p| p.elements, true) {
            Some((n, i)) if n >= 2 => (n, Layout::Unrecognized, Some(self.path_name(i))),
            _ => (0, Layout::Recognized, None),
        }
    }

    fn path_name(&self, mut i: usize) -> String {
        let mut names = Vec::new();
        while let Some(p) = self.paths.get(i) {
            names.push(String::from_utf8_lossy(&p.name).into_owned());
            i = p.parent as usize;
        }
        names.reverse();
        names.join("/")
    }
}

fn add_inside(inside: &mut Vec<(u32, u64)>, path: u32, n: u64) {
    match inside.iter_mut().find(|(p, _)| *p == path) {
        Some((_, m)) => *m += n,
        None => inside.push((path, n)),
    }
}
