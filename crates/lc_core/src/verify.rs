//! The follow-up of a recovery: what a fresh pair of sync reports says against the recovery's
//! own report, days later.
//!
//! [`Baseline::load`] reads the recovery's `recovery-report.json` (the one recover.yml brought to
//! the controller) with its time (the file's modification time: when that content reached the
//! controller) and SHA-256. [`Verification::compare`] takes it, the fresh report of the same
//! applications and, when there is one, the previous `verify-report.json` of the same baseline,
//! and sorts every community of either report into one of four lists: **in step** (listed by
//! the recovery, not any more), **still differ**, **appeared** since the recovery, and **not
//! checked** (listed by the recovery for an application whose fresh report was not read); the
//! orphans into remaining, resolved, appeared and not checked. Each entry says **since** when it
//! is in that state: the recovery's time for what still differs as it did then, else the check
//! that first found it so, carried forward from one verify report to the next.
//! [`Verification::write`] writes `verify-report.json` and `verify-report.html` (tera template
//! `templates/verify-report.html`, every value escaped), each atomically.

use crate::error::{Error, Result};
use crate::recovery::{self, CommunityToContact, Recovery, Unread};
use crate::report::Orphan;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// The HTML report's file name.
pub const HTML_FILE: &str = "verify-report.html";
/// The JSON facts' file name.
pub const JSON_FILE: &str = "verify-report.json";

const TEMPLATE: &str = include_str!("../templates/verify-report.html");

/// The recovery report a follow-up compares with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Baseline {
    pub path: String,
    /// When the report's content reached the controller (its modification time, UTC, RFC 3339).
    pub time: String,
    pub sha256: String,
    /// The applications whose reports the recovery read (those a follow-up exports again).
    pub applications: Vec<String>,
    /// The communities it listed to contact, and its orphans.
    pub communities: u64,
    pub orphans: u64,
}

impl Baseline {
    /// Reads the recovery report at `path`: one line naming the file when it is missing, cannot
    /// be read or is not a recovery report.
    pub fn load(path: &Path) -> Result<(Baseline, Recovery)> {
        let shown = path.display();
        let bytes = std::fs::read(path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                Error::invalid(format!(
                    "no recovery report to compare with: {shown} does not exist (recover.yml brings it to the controller, into lc_report_dir)"
                ))
            } else {
                Error::invalid(format!(
                    "cannot read the recovery report to compare with, {shown}: {e}"
                ))
            }
        })?;
        let report = parse_report(path, &bytes)?;
        let modified = std::fs::metadata(path)
            .and_then(|m| m.modified())
            .map_err(|e| Error::io(path, e))?;
        let baseline = Baseline {
            path: shown.to_string(),
            time: rfc3339(modified),
            sha256: crate::export::hex(&Sha256::digest(&bytes)),
            applications: report.counts.applications.keys().cloned().collect(),
            communities: report.communities_to_contact.len() as u64,
            orphans: report.orphans.len() as u64,
        };
        Ok((baseline, report))
    }

    /// The report to compare with: `after_resync` (the report written after an administrator's
    /// resync) when it exists and is no older than `report`, else `report`.
    pub fn choose(report: &Path, after_resync: Option<&Path>) -> PathBuf {
        let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
        match after_resync.and_then(|a| modified(a).map(|t| (a, t))) {
            Some((a, t)) if modified(report).is_none_or(|r| t >= r) => a.to_path_buf(),
            _ => report.to_path_buf(),
        }
    }
}

/// Reads a `recovery-report.json` (the fresh one of a follow-up): one line naming the file when
/// it cannot be read or is not a recovery report.
pub fn read_report(path: &Path) -> Result<Recovery> {
    let bytes = std::fs::read(path).map_err(|e| {
        Error::invalid(format!(
            "cannot read the fresh report {}: {e}",
            path.display()
        ))
    })?;
    parse_report(path, &bytes)
}

fn parse_report(path: &Path, bytes: &[u8]) -> Result<Recovery> {
    serde_json::from_slice(bytes).map_err(|e| {
        Error::invalid(format!(
            "{} is not a recovery report ({}): {e}",
            path.display(),
            recovery::JSON_FILE
        ))
    })
}

/// The fresh report a follow-up compared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Current {
    pub path: String,
    /// The applications whose fresh reports were read.
    pub applications: Vec<String>,
    /// Those whose fresh reports could not be read (their communities are not checked).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unread: Vec<Unread>,
}

/// The verify report a follow-up carried its "since" times from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Previous {
    pub path: String,
    pub checked: String,
}

/// A community in one of the lists, with since when it is in that state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Community {
    /// As the fresh report lists it (what differs now); for one in step or not checked, as the
    /// recovery listed it.
    #[serde(flatten)]
    pub community: CommunityToContact,
    pub since: String,
}

/// An orphan in one of the lists, with since when it is in that state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrphanSince {
    #[serde(flatten)]
    pub orphan: Orphan,
    pub since: String,
}

/// How many are in each list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyCounts {
    pub baseline_communities: u64,
    pub in_step: u64,
    pub still_differ: u64,
    pub appeared: u64,
    pub not_checked: u64,
    pub baseline_orphans: u64,
    pub orphans_remaining: u64,
    pub orphans_resolved: u64,
    pub orphans_appeared: u64,
    pub orphans_not_checked: u64,
}

/// The content of `verify-report.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verification {
    /// When this check ran (UTC, RFC 3339).
    pub checked: String,
    pub baseline: Baseline,
    pub current: Current,
    #[serde(default)]
    pub previous: Option<Previous>,
    pub in_step: Vec<Community>,
    pub still_differ: Vec<Community>,
    pub appeared: Vec<Community>,
    pub not_checked: Vec<Community>,
    pub orphans_remaining: Vec<OrphanSince>,
    pub orphans_resolved: Vec<OrphanSince>,
    pub orphans_appeared: Vec<OrphanSince>,
    pub orphans_not_checked: Vec<OrphanSince>,
    pub counts: VerifyCounts,
}

/// The paths of the files [`Verification::write`] wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Outputs {
    pub html: PathBuf,
    pub json: PathBuf,
}

/// A state a community or orphan can be in, as the previous report had it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Differs,
    InStep,
    NotChecked,
}

impl Verification {
    /// Sorts the communities and orphans of `before` (the recovery's report) and `now` (the
    /// fresh one) into the lists. `previous` is the last verify report; its "since" times are
    /// carried only when it compared with the same baseline (same SHA-256).
    pub fn compare(
        baseline: Baseline,
        before: &Recovery,
        current_path: &str,
        now: &Recovery,
        previous: Option<(&str, &Verification)>,
        checked: &str,
    ) -> Verification {
        let read: BTreeSet<&str> = now.counts.applications.keys().map(String::as_str).collect();
        let previous = previous.filter(|(_, p)| p.baseline.sha256 == baseline.sha256);
        let mut was: BTreeMap<&str, (State, &str)> = BTreeMap::new();
        let mut was_orphan: BTreeMap<(&str, &str), (State, &str)> = BTreeMap::new();
        if let Some((_, p)) = previous {
            for (list, state) in [
                (&p.still_differ, State::Differs),
                (&p.appeared, State::Differs),
                (&p.in_step, State::InStep),
                (&p.not_checked, State::NotChecked),
            ] {
                for c in list {
                    was.insert(&c.community.uuid, (state, &c.since));
                }
            }
            for (list, state) in [
                (&p.orphans_remaining, State::Differs),
                (&p.orphans_appeared, State::Differs),
                (&p.orphans_resolved, State::InStep),
                (&p.orphans_not_checked, State::NotChecked),
            ] {
                for o in list {
                    was_orphan.insert(
                        (&o.orphan.application, &o.orphan.object_id),
                        (state, &o.since),
                    );
                }
            }
        }
        // Since when: the previous report's time for the same state, else `fallback`.
        let since = |prev: Option<&(State, &str)>, state: State, fallback: &str| -> String {
            match prev {
                Some((s, t)) if *s == state => t.to_string(),
                _ => fallback.to_string(),
            }
        };
        // What still differs as the recovery found it dates from the recovery, unless a check
        // found it in step since then.
        let since_recovery = |prev: Option<&(State, &str)>| -> String {
            match prev {
                Some((State::Differs, t)) => t.to_string(),
                Some((State::InStep, _)) => checked.to_string(),
                _ => baseline.time.clone(),
            }
        };

        let fresh: BTreeMap<&str, &CommunityToContact> = now
            .communities_to_contact
            .iter()
            .map(|c| (c.uuid.as_str(), c))
            .collect();
        let old: BTreeMap<&str, &CommunityToContact> = before
            .communities_to_contact
            .iter()
            .map(|c| (c.uuid.as_str(), c))
            .collect();
        let (mut in_step, mut still_differ, mut appeared, mut not_checked) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for (uuid, c) in &old {
            let prev = was.get(uuid);
            if let Some(f) = fresh.get(uuid) {
                let mut community = (*f).clone();
                if community.owners.is_empty() {
                    community.owners = c.owners.clone();
                }
                still_differ.push(Community {
                    community,
                    since: since_recovery(prev),
                });
            } else if c.applications.iter().all(|a| read.contains(a.as_str())) {
                in_step.push(Community {
                    community: (*c).clone(),
                    since: since(prev, State::InStep, checked),
                });
            } else {
                not_checked.push(Community {
                    community: (*c).clone(),
                    since: since(prev, State::NotChecked, checked),
                });
            }
        }
        for (uuid, f) in &fresh {
            if !old.contains_key(uuid) {
                appeared.push(Community {
                    community: (*f).clone(),
                    since: since(was.get(uuid), State::Differs, checked),
                });
            }
        }

        let key = |o: &Orphan| (o.application.clone(), o.object_id.clone());
        let fresh_orphans: BTreeMap<(String, String), &Orphan> =
            now.orphans.iter().map(|o| (key(o), o)).collect();
        let old_orphans: BTreeMap<(String, String), &Orphan> =
            before.orphans.iter().map(|o| (key(o), o)).collect();
        let (mut remaining, mut resolved, mut orphans_appeared, mut orphans_not_checked) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for (k, o) in &old_orphans {
            let prev = was_orphan.get(&(k.0.as_str(), k.1.as_str()));
            let entry = |since: String, orphan: &Orphan| OrphanSince {
                orphan: orphan.clone(),
                since,
            };
            if let Some(f) = fresh_orphans.get(k) {
                remaining.push(entry(since_recovery(prev), f));
            } else if read.contains(o.application.as_str()) {
                resolved.push(entry(since(prev, State::InStep, checked), o));
            } else {
                orphans_not_checked.push(entry(since(prev, State::NotChecked, checked), o));
            }
        }
        for (k, f) in &fresh_orphans {
            if !old_orphans.contains_key(k) {
                let prev = was_orphan.get(&(k.0.as_str(), k.1.as_str()));
                orphans_appeared.push(OrphanSince {
                    orphan: (*f).clone(),
                    since: since(prev, State::Differs, checked),
                });
            }
        }
        for list in [
            &mut in_step,
            &mut still_differ,
            &mut appeared,
            &mut not_checked,
        ] {
            list.sort_by(|a, b| {
                (a.community.name.to_lowercase(), &a.community.uuid)
                    .cmp(&(b.community.name.to_lowercase(), &b.community.uuid))
            });
        }
        let counts = VerifyCounts {
            baseline_communities: old.len() as u64,
            in_step: in_step.len() as u64,
            still_differ: still_differ.len() as u64,
            appeared: appeared.len() as u64,
            not_checked: not_checked.len() as u64,
            baseline_orphans: old_orphans.len() as u64,
            orphans_remaining: remaining.len() as u64,
            orphans_resolved: resolved.len() as u64,
            orphans_appeared: orphans_appeared.len() as u64,
            orphans_not_checked: orphans_not_checked.len() as u64,
        };
        Verification {
            checked: checked.to_string(),
            previous: previous.map(|(path, p)| Previous {
                path: path.to_string(),
                checked: p.checked.clone(),
            }),
            current: Current {
                path: current_path.to_string(),
                applications: read.iter().map(|a| a.to_string()).collect(),
                unread: now.unread.clone(),
            },
            baseline,
            in_step,
            still_differ,
            appeared,
            not_checked,
            orphans_remaining: remaining,
            orphans_resolved: resolved,
            orphans_appeared,
            orphans_not_checked,
            counts,
        }
    }

    /// Reads an earlier `verify-report.json`; `None` when there is none or it cannot be read
    /// (a follow-up then starts its "since" times afresh).
    pub fn read(path: &Path) -> Option<Verification> {
        let bytes = std::fs::read(path).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    /// The facts as pretty JSON (the content of `verify-report.json`).
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).unwrap_or_else(|_| "{}".to_string());
        text.push('\n');
        text
    }

    /// The HTML report (the content of `verify-report.html`).
    pub fn render_html(&self) -> Result<String> {
        let view = View {
            v: self,
            limit: recovery::HTML_ROWS_LIMIT,
            json_file: JSON_FILE,
            recovery_html: recovery::HTML_FILE,
        };
        recovery::render(HTML_FILE, TEMPLATE, &view)
    }

    /// Writes both files into `dir` (created if missing), each atomically.
    pub fn write(&self, dir: &Path) -> Result<Outputs> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let out = Outputs {
            html: dir.join(HTML_FILE),
            json: dir.join(JSON_FILE),
        };
        let html = self.render_html()?;
        crate::fs::replace_atomic(&out.json, self.to_json().as_bytes(), crate::fs::FILE_MODE)?;
        crate::fs::replace_atomic(&out.html, html.as_bytes(), crate::fs::FILE_MODE)?;
        Ok(out)
    }
}

#[derive(Serialize)]
struct View<'a> {
    v: &'a Verification,
    limit: usize,
    json_file: &'static str,
    recovery_html: &'static str,
}

/// `YYYY-MM-DDTHH:MM:SSZ` (UTC) of a time.
pub fn rfc3339(t: SystemTime) -> String {
    let secs = t
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    format!(
        "{}Z",
        crate::httpd_conf::utc_stamp(secs).replacen('@', "T", 1)
    )
}
