//! Helpers for the lc-sim integration tests: a cell in a temporary folder, wsadmin runs, the
//! ground truth, and a small reader for the HTML reports (by header text, as the modules read).
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

pub const LC_SIM: &str = env!("CARGO_BIN_EXE_lc-sim");

pub struct TestCell {
    pub tmp: tempfile::TempDir,
    pub dir: PathBuf,
    pub config: Value,
}

pub struct Run {
    pub stdout: String,
    pub stderr: String,
    pub code: i32,
}

impl Run {
    fn from(o: Output) -> Run {
        Run {
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
            code: o.status.code().unwrap_or(-1),
        }
    }

    /// The lines after a marker line the script printed (e.g. `==x==`), up to the next marker.
    pub fn section(&self, name: &str) -> Vec<String> {
        let start = format!("=={name}==");
        let mut out = Vec::new();
        let mut on = false;
        for l in self.stdout.lines() {
            if l == start {
                on = true;
                continue;
            }
            if on && l.starts_with("==") && l.ends_with("==") {
                break;
            }
            if on {
                out.push(l.to_string());
            }
        }
        out
    }

    pub fn one(&self, name: &str) -> String {
        let s = self.section(name);
        assert_eq!(
            s.len(),
            1,
            "section {name}: {s:?}\n--- output:\n{}",
            self.stdout
        );
        s[0].clone()
    }
}

pub fn lc_sim(args: &[&str]) -> Run {
    let o = Command::new(LC_SIM)
        .args(args)
        .output()
        .expect("run lc-sim");
    Run::from(o)
}

pub fn lc_sim_json(args: &[&str]) -> Value {
    let r = lc_sim(args);
    assert_eq!(r.code, 0, "lc-sim {args:?}: {}{}", r.stdout, r.stderr);
    serde_json::from_str(&r.stdout).expect("JSON")
}

impl TestCell {
    pub fn new(extra: &[&str]) -> TestCell {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("cell");
        let mut args = vec!["init", dir.to_str().unwrap()];
        args.extend_from_slice(extra);
        let config = lc_sim_json(&args);
        TestCell { tmp, dir, config }
    }

    pub fn path(&self) -> &str {
        self.dir.to_str().unwrap()
    }

    pub fn bin(&self) -> PathBuf {
        PathBuf::from(self.config["profile_bin"].as_str().unwrap())
    }

    pub fn wsadmin(&self) -> PathBuf {
        PathBuf::from(self.config["wsadmin_path"].as_str().unwrap())
    }

    pub fn user(&self) -> String {
        self.config["admin_user"].as_str().unwrap().to_string()
    }

    pub fn password(&self) -> String {
        self.config["admin_password"].as_str().unwrap().to_string()
    }

    pub fn truth(&self) -> Value {
        lc_sim_json(&["truth", self.path()])
    }

    pub fn status(&self) -> Value {
        lc_sim_json(&["status", self.path()])
    }

    pub fn damage(&self, args: &[&str]) -> Value {
        let mut a = vec!["damage", self.path()];
        a.extend_from_slice(args);
        lc_sim_json(&a)
    }

    pub fn fault(&self, args: &[&str]) -> Value {
        let mut a = vec!["fault", self.path()];
        a.extend_from_slice(args);
        lc_sim_json(&a)
    }

    /// A wsadmin command started from the profile's bin folder, with the right credentials.
    pub fn command(&self, flags: &[&str]) -> Command {
        let mut c = Command::new(self.wsadmin());
        c.current_dir(self.bin())
            .args([
                "-lang",
                "jython",
                "-user",
                &self.user(),
                "-password",
                &self.password(),
            ])
            .args(flags);
        c
    }

    /// Runs `script` with wsadmin -f, `stdin` as its standard input.
    pub fn run_script(&self, script: &str, args: &[&str], stdin: &str) -> Run {
        let path = self.tmp.path().join(format!("script-{}.py", unique()));
        std::fs::write(&path, script).unwrap();
        let mut flags = vec!["-f", path.to_str().unwrap()];
        flags.extend_from_slice(args);
        self.run(&flags, stdin)
    }

    pub fn run(&self, flags: &[&str], stdin: &str) -> Run {
        let mut c = self.command(flags);
        run_with_stdin(&mut c, stdin)
    }

    /// A fresh folder inside the test's temporary folder.
    pub fn scratch(&self, name: &str) -> PathBuf {
        let p = self.tmp.path().join(name);
        std::fs::create_dir_all(&p).unwrap();
        p
    }
}

pub fn run_with_stdin(c: &mut Command, stdin: &str) -> Run {
    c.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().expect("start wsadmin");
    let mut input = child.stdin.take().unwrap();
    let data = stdin.to_string();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(data.as_bytes());
    });
    let o = child.wait_with_output().expect("wait wsadmin");
    let _ = writer.join();
    Run::from(o)
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::SeqCst)
}

/// A report's rows as maps from header label to cell text (HTML entities decoded).
pub fn read_report(path: &Path) -> Vec<std::collections::BTreeMap<String, String>> {
    let html = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let cell = regex::Regex::new(r"(?s)<t([hd])>(.*?)</t[hd]>").unwrap();
    let row = regex::Regex::new(r"(?s)<tr>(.*?)</tr>").unwrap();
    let mut headers: Vec<String> = Vec::new();
    let mut rows = Vec::new();
    for r in row.captures_iter(&html) {
        let cells: Vec<(String, String)> = cell
            .captures_iter(&r[1])
            .map(|c| (c[1].to_string(), unescape(&c[2])))
            .collect();
        if cells.iter().all(|(k, _)| k == "h") {
            headers = cells.into_iter().map(|(_, v)| v).collect();
        } else {
            rows.push(
                headers
                    .iter()
                    .cloned()
                    .zip(cells.into_iter().map(|(_, v)| v))
                    .collect(),
            );
        }
    }
    rows
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// The data rows of a report in `dialect`, as cell texts in the dialect's column order: the
/// table whose header row holds the dialect's labels, read with case-insensitive tags, cells
/// ended by the next cell or row (end tags may be left out), inner tags dropped, entities decoded.
pub fn read_report_in(
    path: &Path,
    dialect: lc_sim::dialect::Dialect,
    kind: lc_sim::dialect::Kind,
    app: &lc_core::apps::App,
) -> Vec<Vec<String>> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let html = String::from_utf8(bytes).expect("reports are UTF-8 or ASCII");
    let labels: Vec<String> = dialect
        .columns(kind)
        .iter()
        .map(|c| dialect.label(c, app))
        .collect();
    let table = regex::Regex::new(r"(?is)<table[^>]*>(.*?)</table>").unwrap();
    let row = regex::Regex::new(r"(?is)<tr[^>]*>").unwrap();
    let cell = regex::Regex::new(r"(?is)<t[hd](?:\s[^>]*)?>").unwrap();
    let tag = regex::Regex::new(r"(?s)<[^>]*>").unwrap();
    for t in table.captures_iter(&html) {
        let mut rows: Vec<Vec<String>> = Vec::new();
        for r in row.split(&t[1]).skip(1) {
            let cells: Vec<String> = cell
                .split(r)
                .skip(1)
                .map(|c| decode(tag.replace_all(c, "").trim()))
                .collect();
            rows.push(cells);
        }
        if rows.first() == Some(&labels) {
            return rows.into_iter().skip(1).collect();
        }
    }
    panic!("{}: no table with the labels {labels:?}", path.display());
}

/// Decodes the character references a report may hold: the five XML ones, numeric ones and the
/// HTML 4 Latin-1 names (and `&ndash;`).
pub fn decode(s: &str) -> String {
    const LATIN1: &str = "nbsp iexcl cent pound curren yen brvbar sect uml copy ordf laquo not shy reg macr deg plusmn sup2 sup3 acute micro para middot cedil sup1 ordm raquo frac14 frac12 frac34 iquest Agrave Aacute Acirc Atilde Auml Aring AElig Ccedil Egrave Eacute Ecirc Euml Igrave Iacute Icirc Iuml ETH Ntilde Ograve Oacute Ocirc Otilde Ouml times Oslash Ugrave Uacute Ucirc Uuml Yacute THORN szlig agrave aacute acirc atilde auml aring aelig ccedil egrave eacute ecirc euml igrave iacute icirc iuml eth ntilde ograve oacute ocirc otilde ouml divide oslash ugrave uacute ucirc uuml yacute thorn yuml";
    let re = regex::Regex::new(r"&(#[xX][0-9a-fA-F]+|#[0-9]+|[A-Za-z][A-Za-z0-9]*);").unwrap();
    re.replace_all(s, |c: &regex::Captures| {
        let name = &c[1];
        let code = if let Some(h) = name.strip_prefix("#x").or(name.strip_prefix("#X")) {
            u32::from_str_radix(h, 16).ok()
        } else if let Some(d) = name.strip_prefix('#') {
            d.parse().ok()
        } else {
            match name {
                "amp" => Some(38),
                "lt" => Some(60),
                "gt" => Some(62),
                "quot" => Some(34),
                "apos" => Some(39),
                "ndash" => Some(0x2013),
                _ => LATIN1
                    .split(' ')
                    .position(|n| n == name)
                    .map(|i| 0xA0 + i as u32),
            }
        };
        code.and_then(char::from_u32)
            .map(String::from)
            .unwrap_or_else(|| c[0].to_string())
    })
    .into_owned()
}

/// A difference as the truth and the readers give it: application, community UUID and name,
/// field, Communities' value, the application's value.
pub type DiffKey = (String, String, String, String, String, String);
/// An orphan: application, object id, old community UUID, whether that community exists.
pub type OrphanKey = (String, String, String, bool);

/// The differences and orphans of `lc-sim truth`, as sets.
pub fn truth_sets(
    t: &Value,
) -> (
    std::collections::BTreeSet<DiffKey>,
    std::collections::BTreeSet<OrphanKey>,
) {
    let s = |v: &Value, k: &str| v[k].as_str().unwrap().to_string();
    let diffs = t["differences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                s(d, "application"),
                s(d, "community_uuid"),
                s(d, "community_name"),
                s(d, "field"),
                s(d, "communities_value"),
                s(d, "application_value"),
            )
        })
        .collect();
    let orphans = t["orphans"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                s(o, "application"),
                s(o, "object_id"),
                s(o, "old_community_uuid"),
                o["community_exists"].as_bool().unwrap(),
            )
        })
        .collect();
    (diffs, orphans)
}
