//! The consolidated outcome of the sync reports: the facts an administrator acts on, and the three
//! files written for people.
//!
//! [`Recovery::new`] takes the rows of every report ([`Difference`], [`Orphan`]) and what
//! Communities says of each community (name, creator) and works out the communities whose owners
//! must act (`communities_to_contact`) and the `counts` per application and in total.
//! [`Recovery::write`] writes, each atomically (temporary file in the same folder, then rename):
//! `recovery-report.html` (tera template `templates/recovery-report.html`, every value escaped:
//! totals, a bar chart drawn as inline SVG, the tables and what to do next),
//! `recovery-report.json` (the facts, as `lc_sync_report` returns them) and `owners.csv`.
//! Reports that could not be read ([`Recovery::with_unread`]) are named in both, with links to
//! the raw files, for a person to read.

use crate::error::{Error, Result};
use crate::fs::{replace_atomic, FILE_MODE};
use crate::report::{Difference, Orphan};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

/// The HTML report's file name.
pub const HTML_FILE: &str = "recovery-report.html";
/// The JSON facts' file name.
pub const JSON_FILE: &str = "recovery-report.json";
/// The owners list's file name.
pub const CSV_FILE: &str = "owners.csv";
/// The most rows each table of the HTML report shows; the JSON and CSV files hold them all.
pub const HTML_ROWS_LIMIT: usize = 5000;

const TEMPLATE: &str = include_str!("../templates/recovery-report.html");
/// The style sheet of the HTML reports, included by each template.
const STYLE: &str = include_str!("../templates/report.css");
const STYLE_NAME: &str = "report.css";

/// What Communities says of a community (`CommunitiesService.fetchCommById`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommunityDetails {
    pub name: String,
    /// The creator, as `createdBy` names them.
    pub created_by: String,
}

/// A community whose owners must act (or for which an administrator runs a resync).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommunityToContact {
    pub uuid: String,
    pub name: String,
    pub created_by: String,
    /// The applications whose copy differs, sorted.
    pub applications: Vec<String>,
    /// The fields that differ, sorted.
    pub fields: Vec<String>,
    /// Its owners as the Communities Atom API lists them (`lc_owners`); empty when they were
    /// not looked up, and the creator stands for them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub owners: Vec<Owner>,
}

/// An owner of a community, from the members feed of the Communities Atom API.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Owner {
    pub name: String,
    /// Empty when the deployment hides it (`email_hidden`).
    #[serde(default)]
    pub email: String,
    /// The user id (`snx:userid`, the directory's extId).
    #[serde(default)]
    pub user_id: String,
    #[serde(default)]
    pub email_hidden: bool,
}

impl Owner {
    /// How owners.csv names them: `Name <address>`, the user id standing for a hidden address.
    pub fn label(&self) -> String {
        if !self.email.is_empty() {
            format!("{} <{}>", self.name, self.email)
        } else if !self.user_id.is_empty() {
            format!("{} (user id {}, e-mail hidden)", self.name, self.user_id)
        } else {
            self.name.clone()
        }
    }
}

/// How many rows and communities one application (or all of them) has.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppCounts {
    pub differences: u64,
    pub orphans: u64,
    /// Distinct communities with a difference that needs action.
    pub communities: u64,
}

/// The counts per application (by id) and in total.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub applications: BTreeMap<String, AppCounts>,
    pub total: AppCounts,
}

/// An application whose reports could not be read: its rows are in none of the facts, and a
/// person reads its files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unread {
    pub application: String,
    /// The report files `generateSyncReports` wrote for it (absolute paths).
    pub files: Vec<String>,
    /// Why they were not read, one line.
    pub reason: String,
}

/// The consolidated facts of every report.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recovery {
    pub differences: Vec<Difference>,
    pub orphans: Vec<Orphan>,
    pub communities_to_contact: Vec<CommunityToContact>,
    pub counts: Counts,
    /// The applications whose reports were not read (left out when there are none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unread: Vec<Unread>,
}

/// The paths of the files [`Recovery::write`] wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outputs {
    pub html: PathBuf,
    pub json: PathBuf,
    pub csv: PathBuf,
}

/// Whether a difference asks for a resync: Wikis report moderation differences that do not
/// matter (admin-surface.md §6), so those alone put no community on the list.
pub fn needs_action(d: &Difference) -> bool {
    !(d.application == "Wiki" && d.field.eq_ignore_ascii_case("moderation"))
}

impl Recovery {
    /// Consolidates the rows of the reports. `applications` are the apps whose reports were read
    /// (each gets counts, zero included); `details` maps a community UUID to what Communities says
    /// of it, and a community missing there keeps the name the report printed. Rows are sorted
    /// (application, then community name, UUID and field; orphans by object id).
    pub fn new(
        applications: &[String],
        mut differences: Vec<Difference>,
        mut orphans: Vec<Orphan>,
        details: &HashMap<String, CommunityDetails>,
    ) -> Recovery {
        differences.sort_by(|a, b| {
            (
                &a.application,
                &a.community_name,
                &a.community_uuid,
                &a.field,
            )
                .cmp(&(
                    &b.application,
                    &b.community_name,
                    &b.community_uuid,
                    &b.field,
                ))
        });
        differences.dedup();
        orphans.sort();
        orphans.dedup();

        let mut counts = Counts::default();
        for app in applications {
            counts.applications.entry(app.clone()).or_default();
        }
        struct Acc<'a> {
            name: &'a str,
            applications: BTreeSet<&'a str>,
            fields: BTreeSet<&'a str>,
        }
        let mut by_uuid: BTreeMap<&str, Acc> = BTreeMap::new();
        let mut per_app: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        for d in &differences {
            counts
                .applications
                .entry(d.application.clone())
                .or_default()
                .differences += 1;
            if !needs_action(d) {
                continue;
            }
            per_app
                .entry(&d.application)
                .or_default()
                .insert(&d.community_uuid);
            let acc = by_uuid.entry(&d.community_uuid).or_insert_with(|| Acc {
                name: &d.community_name,
                applications: BTreeSet::new(),
                fields: BTreeSet::new(),
            });
            if acc.name.is_empty() {
                acc.name = &d.community_name;
            }
            acc.applications.insert(&d.application);
            acc.fields.insert(&d.field);
        }
        for o in &orphans {
            counts
                .applications
                .entry(o.application.clone())
                .or_default()
                .orphans += 1;
        }
        for (app, set) in per_app {
            counts
                .applications
                .entry(app.to_string())
                .or_default()
                .communities = set.len() as u64;
        }

        let mut communities_to_contact: Vec<CommunityToContact> = by_uuid
            .into_iter()
            .map(|(uuid, acc)| {
                let known = details.get(uuid);
                let name = known
                    .map(|k| k.name.as_str())
                    .filter(|n| !n.is_empty())
                    .unwrap_or(acc.name);
                CommunityToContact {
                    uuid: uuid.to_string(),
                    name: name.to_string(),
                    created_by: known.map(|k| k.created_by.clone()).unwrap_or_default(),
                    applications: acc.applications.into_iter().map(String::from).collect(),
                    fields: acc.fields.into_iter().map(String::from).collect(),
                    owners: Vec::new(),
                }
            })
            .collect();
        communities_to_contact.sort_by(|a, b| {
            (a.name.to_lowercase(), &a.uuid).cmp(&(b.name.to_lowercase(), &b.uuid))
        });

        counts.total = AppCounts {
            differences: differences.len() as u64,
            orphans: orphans.len() as u64,
            communities: communities_to_contact.len() as u64,
        };
        Recovery {
            differences,
            orphans,
            communities_to_contact,
            counts,
            unread: Vec::new(),
        }
    }

    /// Names the applications whose reports could not be read (sorted by application).
    pub fn with_unread(mut self, mut unread: Vec<Unread>) -> Recovery {
        unread.sort_by(|a, b| a.application.cmp(&b.application));
        self.unread = unread;
        self
    }

    /// The facts as pretty JSON (the content of `recovery-report.json`).
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).unwrap_or_else(|_| "{}".to_string());
        text.push('\n');
        text
    }

    /// The owners list (the content of `owners.csv`): one line per community to contact, RFC 4180
    /// quoting, CRLF line ends; several applications or fields are joined with `; `. A value that
    /// a spreadsheet would take for a formula (starting with `=`, `+`, `-`, `@`, tab or CR) is
    /// prefixed with `'`. `owners` holds the looked-up owners (`Name <address>`, `; ` between
    /// them), empty when they were not looked up.
    pub fn owners_csv(&self) -> String {
        let mut out = String::from("uuid,name,created_by,applications,fields,owners\r\n");
        for c in &self.communities_to_contact {
            let cells = [
                c.uuid.clone(),
                c.name.clone(),
                c.created_by.clone(),
                c.applications.join("; "),
                c.fields.join("; "),
                c.owners
                    .iter()
                    .map(Owner::label)
                    .collect::<Vec<_>>()
                    .join("; "),
            ];
            let line: Vec<String> = cells.iter().map(|v| csv_field(v)).collect();
            out.push_str(&line.join(","));
            out.push_str("\r\n");
        }
        out
    }

    /// The HTML report (the content of `recovery-report.html`).
    pub fn render_html(&self) -> Result<String> {
        render(HTML_FILE, TEMPLATE, &View::of(self))
    }

    /// Writes the three files into `dir` (created if missing), each atomically
    /// ([`replace_atomic`]: a new 0640 file, less what the umask takes away).
    pub fn write(&self, dir: &Path) -> Result<Outputs> {
        crate::fs::create_dir(dir)?;
        let out = Outputs {
            html: dir.join(HTML_FILE),
            json: dir.join(JSON_FILE),
            csv: dir.join(CSV_FILE),
        };
        replace_atomic(&out.json, self.to_json().as_bytes(), FILE_MODE)?;
        replace_atomic(&out.csv, self.owners_csv().as_bytes(), FILE_MODE)?;
        replace_atomic(&out.html, self.render_html()?.as_bytes(), FILE_MODE)?;
        Ok(out)
    }
}

/// Renders one of the HTML reports (`name`, from `template`, autoescaped) with the style sheet
/// they share (`templates/report.css`, included as `report.css`).
pub(crate) fn render(name: &str, template: &str, view: &impl Serialize) -> Result<String> {
    let mut tera = tera::Tera::default();
    tera.autoescape_on(vec![".html"]);
    tera.add_raw_templates(vec![(STYLE_NAME, STYLE), (name, template)])
        .map_err(|e| Error::invalid(format!("the report template: {}", tera_message(&e))))?;
    let context = tera::Context::from_serialize(view)
        .map_err(|e| Error::invalid(format!("the report data: {}", tera_message(&e))))?;
    tera.render(name, &context)
        .map_err(|e| Error::invalid(format!("rendering {name}: {}", tera_message(&e))))
}

/// A tera error with its causes, on one line.
fn tera_message(e: &tera::Error) -> String {
    let mut msg = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        source = s.source();
    }
    msg
}

fn csv_field(value: &str) -> String {
    let guarded;
    let value = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        guarded = format!("'{value}");
        guarded.as_str()
    } else {
        value
    };
    if value.contains([',', '"', '\n', '\r']) || value.starts_with(' ') || value.ends_with(' ') {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_string()
    }
}

/// What the template is given.
#[derive(Serialize)]
struct View<'a> {
    total: AppCounts,
    applications: Vec<AppRow<'a>>,
    chart: Chart<'a>,
    differences: Vec<DifferenceRow<'a>>,
    differences_hidden: usize,
    orphans: Vec<OrphanRow<'a>>,
    orphans_hidden: usize,
    communities: &'a [CommunityToContact],
    communities_hidden: usize,
    ignored_differences: usize,
    unread: Vec<UnreadRow<'a>>,
    limit: usize,
    json_file: &'static str,
    csv_file: &'static str,
}

#[derive(Serialize)]
struct UnreadRow<'a> {
    application: &'a str,
    reason: &'a str,
    files: Vec<FileLink<'a>>,
}

/// A raw report beside `recovery-report.html`: linked by its name, shown by its path.
#[derive(Serialize)]
struct FileLink<'a> {
    path: &'a str,
    href: String,
}

#[derive(Serialize)]
struct AppRow<'a> {
    application: &'a str,
    #[serde(flatten)]
    counts: AppCounts,
}

#[derive(Serialize)]
struct DifferenceRow<'a> {
    #[serde(flatten)]
    row: &'a Difference,
    needs_action: bool,
}

#[derive(Serialize)]
struct OrphanRow<'a> {
    #[serde(flatten)]
    row: &'a Orphan,
    suggestion: &'static str,
}

impl<'a> View<'a> {
    fn of(r: &'a Recovery) -> View<'a> {
        let limit = HTML_ROWS_LIMIT;
        let applications: Vec<AppRow> = r
            .counts
            .applications
            .iter()
            .map(|(a, c)| AppRow {
                application: a,
                counts: *c,
            })
            .collect();
        View {
            total: r.counts.total,
            chart: Chart::of(&applications),
            applications,
            differences: r
                .differences
                .iter()
                .take(limit)
                .map(|d| DifferenceRow {
                    row: d,
                    needs_action: needs_action(d),
                })
                .collect(),
            differences_hidden: r.differences.len().saturating_sub(limit),
            orphans: r
                .orphans
                .iter()
                .take(limit)
                .map(|o| OrphanRow {
                    row: o,
                    suggestion: match o.community_exists {
                        Some(true) => "assign it back to its community, or delete it",
                        Some(false) => "assign it to another community, or delete it",
                        None => "the report does not say whether its community exists: check, then assign or delete it",
                    },
                })
                .collect(),
            orphans_hidden: r.orphans.len().saturating_sub(limit),
            communities: &r.communities_to_contact[..r.communities_to_contact.len().min(limit)],
            communities_hidden: r.communities_to_contact.len().saturating_sub(limit),
            ignored_differences: r.differences.iter().filter(|d| !needs_action(d)).count(),
            unread: r
                .unread
                .iter()
                .map(|u| UnreadRow {
                    application: &u.application,
                    reason: &u.reason,
                    files: u
                        .files
                        .iter()
                        .map(|f| FileLink {
                            path: f,
                            href: Path::new(f)
                                .file_name()
                                .map(|n| n.to_string_lossy().into_owned())
                                .unwrap_or_default(),
                        })
                        .collect(),
                })
                .collect(),
            limit,
            json_file: JSON_FILE,
            csv_file: CSV_FILE,
        }
    }
}

/// A horizontal bar chart of differences and orphans per application, laid out here so the
/// template only draws it.
#[derive(Serialize)]
struct Chart<'a> {
    width: u32,
    height: u32,
    label_width: u32,
    plot_width: u32,
    axis_y: u32,
    ticks: Vec<Tick>,
    rows: Vec<Bar<'a>>,
}

#[derive(Serialize)]
struct Tick {
    x: f64,
    value: u64,
}

#[derive(Serialize)]
struct Bar<'a> {
    application: &'a str,
    y: u32,
    differences: u64,
    differences_width: f64,
    orphans: u64,
    orphans_width: f64,
}

impl<'a> Chart<'a> {
    const WIDTH: u32 = 1050;
    const LABEL: u32 = 130;
    const RIGHT: u32 = 70;
    const TOP: u32 = 34;
    const ROW: u32 = 40;
    const BOTTOM: u32 = 26;

    fn of(apps: &[AppRow<'a>]) -> Chart<'a> {
        let plot_width = Self::WIDTH - Self::LABEL - Self::RIGHT;
        let max = apps
            .iter()
            .map(|a| a.counts.differences.max(a.counts.orphans))
            .max()
            .unwrap_or(0);
        let step = nice_step(max.div_ceil(4).max(1));
        let axis_max = (max.div_ceil(step) * step).max(step);
        let scale = |v: u64| -> f64 {
            let w = v as f64 * f64::from(plot_width) / axis_max as f64;
            let w = if v > 0 { w.max(2.0) } else { 0.0 };
            (w * 10.0).round() / 10.0
        };
        let axis_y = Self::TOP + Self::ROW * apps.len() as u32;
        Chart {
            width: Self::WIDTH,
            height: axis_y + Self::BOTTOM,
            label_width: Self::LABEL,
            plot_width,
            axis_y,
            ticks: (0..=axis_max / step)
                .map(|i| Tick {
                    x: f64::from(Self::LABEL) + scale(i * step).max(0.0),
                    value: i * step,
                })
                .collect(),
            rows: apps
                .iter()
                .enumerate()
                .map(|(i, a)| Bar {
                    application: a.application,
                    y: Self::TOP + Self::ROW * i as u32,
                    differences: a.counts.differences,
                    differences_width: scale(a.counts.differences),
                    orphans: a.counts.orphans,
                    orphans_width: scale(a.counts.orphans),
                })
                .collect(),
        }
    }
}

/// The smallest of 1, 2, 5 × 10^k that is at least `at_least`.
fn nice_step(at_least: u64) -> u64 {
    let mut base = 1u64;
    loop {
        for m in [1, 2, 5] {
            let step = base.saturating_mul(m);
            if step >= at_least {
                return step;
            }
        }
        if base > u64::MAX / 10 {
            return u64::MAX;
        }
        base *= 10;
    }
}
