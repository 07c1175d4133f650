//! The dialects the cell speaks: how a real cell may differ from our own layouts where the
//! documentation fixes nothing (admin-surface.md §3, §5, §6 [ours]). Every dialect is consistent
//! with the documentation; each differs from every other in where the admin scripts live, the
//! export's element and attribute names, nesting, namespace and encoding declaration, the
//! reports' markup, labels, column order and extra columns, the report files' prefix, how maps
//! print and the extra lines around the output. `lcsim` is the default and is our own layout
//! (`lc_core::formats`); the others are tables here, written by [`crate::files`]. The modules must
//! read them all without knowing which one they meet.

use std::path::{Path, PathBuf};

use lc_core::apps::{self, App};
use lc_core::formats::report::Column;
use serde::{Deserialize, Serialize};

/// A dialect of the simulated cell (`lc-sim init --dialect`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Dialect {
    /// Our own layouts (lc_core::formats): admin scripts in bin/, UTF-8 export, HTML5 reports.
    #[default]
    Lcsim,
    /// Old Java output: scripts only in config/bin_lc_admin/, ISO-8859-1 export with child-text
    /// values, upper-case HTML with omitted end tags, display-name report prefix.
    Classic,
    /// Scripts only outside the profile (admin_scripts_dir), namespaced export without an
    /// encoding declaration, XHTML-like reports with THEAD and a summary table, Python-style maps.
    Modern,
    /// communitiesAdmin.py copied into bin/, the rest in config/bin_lc_admin/; a flat export with
    /// a byte-order mark and no declaration, TD headers, a legend table, maps without spaces.
    Compact,
}

/// Every dialect, default first.
pub const ALL: &[Dialect] = &[
    Dialect::Lcsim,
    Dialect::Classic,
    Dialect::Modern,
    Dialect::Compact,
];

/// The folder the documentation names for the admin scripts, inside the Dmgr profile.
pub const BIN_LC_ADMIN: &str = "config/bin_lc_admin";
/// The folder outside the profile where the `modern` dialect keeps them.
pub const OUTSIDE_SCRIPTS: &str = "connections/admin_scripts";

/// How a printed map looks (the Jython proxy prints it; admin-surface.md §4 shows Java's form).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MapStyle {
    /// `{key=value, key=value}` (java.util.AbstractMap).
    Java,
    /// `{u'key': u'value', …}` (a Jython 2.7 dictionary).
    Python,
    /// `{key=value,key=value}`.
    Tight,
}

/// The report kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Differences,
    Orphans,
}

/// What a report cell holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Value {
    /// One of the facts (an lc_core column; `CommunityExists` as the dialect's yes/no words).
    Fact(Column),
    /// A sentence saying why the resource is an orphan (community gone, or widget missing).
    Reason,
    /// The row's number, from 1.
    RowNumber,
    /// A date (the cell's fixed "now").
    Date,
    /// What to do about the row.
    Action,
    /// The application's display name.
    AppName,
}

/// One column of a report: its header label (`{app}` stands for the app's display name) and
/// what its cells hold.
#[derive(Debug, Clone, Copy)]
pub struct Col {
    pub label: &'static str,
    pub value: Value,
}

const fn col(label: &'static str, value: Value) -> Col {
    Col { label, value }
}

use Column as C;
use Value::{Action, AppName, Date, Fact, Reason, RowNumber};

/// lcsim: lc_core::formats::report's labels and order.
const LCSIM_DIFFERENCES: &[Col] = &[
    col("Community Name", Fact(C::CommunityName)),
    col("Community UUID", Fact(C::CommunityUuid)),
    col("Attribute", Fact(C::Field)),
    col("Communities Value", Fact(C::CommunitiesValue)),
    col("Application Value", Fact(C::ApplicationValue)),
];
const LCSIM_ORPHANS: &[Col] = &[
    col("Object Identifying Id", Fact(C::ObjectId)),
    col("Old Community UUID", Fact(C::OldCommunityUuid)),
    col("Community Exists", Fact(C::CommunityExists)),
];
const CLASSIC_DIFFERENCES: &[Col] = &[
    col("Community Id", Fact(C::CommunityUuid)),
    col("Community", Fact(C::CommunityName)),
    col("Property", Fact(C::Field)),
    col("Value in Communities", Fact(C::CommunitiesValue)),
    col("Value in {app}", Fact(C::ApplicationValue)),
    col("Last Updated", Date),
];
const CLASSIC_ORPHANS: &[Col] = &[
    col("Old Community Id", Fact(C::OldCommunityUuid)),
    col("Object Id", Fact(C::ObjectId)),
    col("Detected", Date),
    col("Reason", Reason),
];
const MODERN_DIFFERENCES: &[Col] = &[
    col("#", RowNumber),
    col("Field", Fact(C::Field)),
    col("Community Value", Fact(C::CommunitiesValue)),
    col("{app} Value", Fact(C::ApplicationValue)),
    col("Name", Fact(C::CommunityName)),
    col("UUID", Fact(C::CommunityUuid)),
];
const MODERN_ORPHANS: &[Col] = &[
    col("#", RowNumber),
    col("Exists", Fact(C::CommunityExists)),
    col("Details", Reason),
    col("Resource Id", Fact(C::ObjectId)),
    col("Previous Community UUID", Fact(C::OldCommunityUuid)),
];
const COMPACT_DIFFERENCES: &[Col] = &[
    col("Setting", Fact(C::Field)),
    col("{app}", Fact(C::ApplicationValue)),
    col("Communities", Fact(C::CommunitiesValue)),
    col("Community Title", Fact(C::CommunityName)),
    col("Community Identifier", Fact(C::CommunityUuid)),
    col("Action", Action),
];
const COMPACT_ORPHANS: &[Col] = &[
    col("Status", Reason),
    col("Remote Application", AppName),
    col("Object Identifier", Fact(C::ObjectId)),
    col("Community UUID", Fact(C::OldCommunityUuid)),
];

/// Community names in the non-default dialects: some topics in other languages, so that the
/// exports and reports carry non-ASCII text (Latin-1 and beyond).
const LOCALIZED_TOPICS: &[(&str, &str)] = &[
    ("Design", "Diseño"),
    ("Finance", "Finanças"),
    ("People", "Personal Zürich"),
    ("Legal", "Légal"),
    ("Support", "Support – Ørsted"),
    ("Operations", "Opérations 東京"),
];

/// Where an export names its application.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppFrom {
    /// An attribute of the root element (its local name).
    RootAttr(&'static str),
    /// The text of an element outside the records.
    Text(&'static str),
    /// Nowhere but the record elements' names ([`Dialect::modern_record`]).
    Record,
}

/// Where a record's value is: an attribute (of the record or an element inside it) or the text
/// of an element inside it, by local name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Src {
    Attr(&'static str),
    Text(&'static str),
}

impl Src {
    /// The attribute's or element's local name.
    pub fn name(self) -> &'static str {
        match self {
            Src::Attr(n) | Src::Text(n) => n,
        }
    }
}

/// The export's layout in a dialect, as its reader (`generateSyncReports`) needs it.
#[derive(Debug, Clone, Copy)]
pub struct ExportShape {
    /// The root element's local name.
    pub root: &'static str,
    /// The namespace (classic: default, modern: prefixed) or schema location (compact).
    pub namespace: &'static str,
    pub app: AppFrom,
    /// The record element's local name; `None`: one per application (modern).
    pub record: Option<&'static str>,
    /// An element whose text is keyed by its `name` attribute instead of its own name.
    pub property: Option<&'static str>,
    pub id: Src,
    pub uuid: Src,
    /// Per field of lc_core::formats::FIELDS.
    pub fields: [(&'static str, Src); 4],
    /// ISO-8859-1 rather than UTF-8.
    pub latin1: bool,
}

impl Dialect {
    /// The name on the command line and in cell.json.
    pub fn name(self) -> &'static str {
        match self {
            Dialect::Lcsim => "lcsim",
            Dialect::Classic => "classic",
            Dialect::Modern => "modern",
            Dialect::Compact => "compact",
        }
    }

    /// The export layout.
    pub fn export_shape(self) -> ExportShape {
        use lc_core::formats::export as x;
        let attrs = |a: [&'static str; 4]| {
            [
                ("visibility", Src::Attr(a[0])),
                ("moderation", Src::Attr(a[1])),
                ("theme", Src::Attr(a[2])),
                ("name", Src::Attr(a[3])),
            ]
        };
        let texts = |a: [&'static str; 4]| {
            [
                ("visibility", Src::Text(a[0])),
                ("moderation", Src::Text(a[1])),
                ("theme", Src::Text(a[2])),
                ("name", Src::Text(a[3])),
            ]
        };
        match self {
            Dialect::Lcsim => ExportShape {
                root: x::ROOT,
                namespace: "",
                app: AppFrom::RootAttr(x::ATTR_APPLICATION),
                record: Some(x::RESOURCE),
                property: None,
                id: Src::Attr(x::ATTR_ID),
                uuid: Src::Attr(x::ATTR_COMMUNITY_UUID),
                fields: attrs(["visibility", "moderation", "theme", x::ATTR_NAME]),
                latin1: false,
            },
            Dialect::Classic => ExportShape {
                root: "SyncExport",
                namespace: "urn:lc-sim:classic:sync-export",
                app: AppFrom::Text("RemoteApplication"),
                record: Some("Resource"),
                property: None,
                id: Src::Text("ObjectId"),
                uuid: Src::Text("CommunityUuid"),
                fields: texts(["Visibility", "Moderation", "Theme", "Name"]),
                latin1: true,
            },
            Dialect::Modern => ExportShape {
                root: "syncData",
                namespace: "urn:lc-sim:modern:remote-application-sync",
                app: AppFrom::Record,
                record: None,
                property: Some("property"),
                id: Src::Attr("objectId"),
                uuid: Src::Attr("uuid"),
                fields: texts(["visibility", "moderation", "theme", "name"]),
                latin1: false,
            },
            Dialect::Compact => ExportShape {
                root: "export",
                namespace: "syncExport.xsd",
                app: AppFrom::RootAttr("app"),
                record: Some("r"),
                property: None,
                id: Src::Attr("oid"),
                uuid: Src::Attr("cuuid"),
                fields: attrs(["vis", "mod", "theme", "name"]),
                latin1: false,
            },
        }
    }

    /// Where the admin script `file` lives in a cell at `dir` whose profile is `profile`.
    pub fn script_path(self, dir: &Path, profile: &Path, file: &str) -> PathBuf {
        let folder = match self {
            Dialect::Lcsim => profile.join("bin"),
            Dialect::Classic => profile.join(BIN_LC_ADMIN),
            Dialect::Modern => dir.join(OUTSIDE_SCRIPTS),
            Dialect::Compact if file == apps::COMMUNITIES_SCRIPT => profile.join("bin"),
            Dialect::Compact => profile.join(BIN_LC_ADMIN),
        };
        folder.join(file)
    }

    /// The folder that holds the applications' admin scripts (cell.json `admin_scripts_dir`).
    pub fn scripts_dir(self, dir: &Path, profile: &Path) -> PathBuf {
        self.script_path(dir, profile, "activitiesAdmin.py")
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default()
    }

    /// Whether community names carry non-ASCII text.
    pub fn localized_names(self) -> bool {
        self != Dialect::Lcsim
    }

    /// A generated community name as this dialect's cell holds it.
    pub fn community_name(self, name: String) -> String {
        if !self.localized_names() {
            return name;
        }
        for (en, other) in LOCALIZED_TOPICS {
            if let Some(rest) = name.split_once(&format!(" {en} ")) {
                return format!("{} {other} {}", rest.0, rest.1);
            }
        }
        name
    }

    /// How maps print.
    pub fn map_style(self) -> MapStyle {
        match self {
            Dialect::Lcsim | Dialect::Classic => MapStyle::Java,
            Dialect::Modern => MapStyle::Python,
            Dialect::Compact => MapStyle::Tight,
        }
    }

    /// The keys of `getTaskDetails`, in the order printed; `call` is the cell's call count (lcsim
    /// varies the order with it, as a HashMap's order is not the alphabet's).
    pub fn task_keys(self, call: u64) -> Vec<&'static str> {
        let mut keys = match self {
            Dialect::Lcsim => vec!["currentServerTime", "nextFireTime", "status", "taskName"],
            Dialect::Classic => vec![
                "taskName",
                "status",
                "nextFireTime",
                "interval",
                "currentServerTime",
            ],
            Dialect::Modern => vec!["status", "taskName", "nextFireTime", "currentServerTime"],
            Dialect::Compact => vec![
                "currentServerTime",
                "description",
                "nextFireTime",
                "status",
                "taskName",
            ],
        };
        if self == Dialect::Lcsim {
            keys.rotate_left((call % 4) as usize);
        }
        keys
    }

    /// The keys of the map `fetchCommById` returns, in order.
    pub fn community_keys(self) -> &'static [&'static str] {
        match self {
            Dialect::Lcsim => &[
                "name",
                "uuid",
                "type",
                "createdBy",
                "memberSize",
                "created",
                "theme",
            ],
            Dialect::Classic => &[
                "uuid",
                "type",
                "name",
                "memberSize",
                "createdBy",
                "theme",
                "created",
            ],
            Dialect::Modern => &[
                "created",
                "createdBy",
                "memberSize",
                "name",
                "theme",
                "type",
                "uuid",
            ],
            Dialect::Compact => &[
                "theme",
                "name",
                "createdBy",
                "uuid",
                "created",
                "type",
                "memberSize",
            ],
        }
    }

    /// Lines wsadmin prints after its banner (and the argv line), before the script runs.
    pub fn banner_lines(self) -> &'static [&'static str] {
        match self {
            Dialect::Lcsim => &[],
            Dialect::Classic => &[
                "WASX7327I: Contents of was.policy file:",
                " grant codeBase \"file:${application}\" {",
                "  permission java.security.AllPermission;",
                " };",
            ],
            Dialect::Modern => &[],
            Dialect::Compact => &["WASX7326I: Loaded 1 script libraries from the library path."],
        }
    }

    /// Lines an admin script prints when it is loaded, before it connects.
    pub fn load_lines(self) -> &'static [&'static str] {
        match self {
            Dialect::Lcsim | Dialect::Compact => &[],
            Dialect::Classic => &[
                "log4j:WARN No appenders could be found for logger (com.ibm.lconn.core.admin.AdminClient).",
                "log4j:WARN Please initialize the log4j system properly.",
            ],
            Dialect::Modern => &[
                "SLF4J: Failed to load class \"org.slf4j.impl.StaticLoggerBinder\".",
                "SLF4J: Defaulting to no-operation (NOP) logger implementation",
            ],
        }
    }

    /// Lines an admin call prints before and after its own output.
    pub fn call_lines(self, object: &str, method: &str) -> (Vec<String>, Vec<String>) {
        match self {
            Dialect::Lcsim | Dialect::Classic => (Vec::new(), Vec::new()),
            Dialect::Modern => (
                vec![format!(
                    "[{}] INFO  {object} - {method}: started",
                    crate::util::timestamp(crate::util::now_ms())
                )],
                vec![format!(
                    "[{}] INFO  {object} - {method}: finished",
                    crate::util::timestamp(crate::util::now_ms())
                )],
            ),
            Dialect::Compact => (Vec::new(), vec![String::new()]),
        }
    }

    /// The printed queue table (lc_core::formats::queue's lines) with this dialect's extra lines.
    pub fn queue_table(self, title: &str, lines: Vec<String>) -> Vec<String> {
        let rows = lines.len().saturating_sub(1);
        match self {
            Dialect::Lcsim => lines,
            Dialect::Classic => {
                let mut out = Vec::with_capacity(lines.len() + 1);
                let width = lines.first().map_or(0, String::len);
                let mut it = lines.into_iter();
                out.extend(it.next());
                out.push("-".repeat(width.max(10)));
                out.extend(it);
                out
            }
            Dialect::Modern => {
                let mut out = vec![format!("{title}:")];
                out.extend(lines);
                out
            }
            Dialect::Compact => {
                let mut out = lines;
                out.push(format!("({rows} rows)"));
                out
            }
        }
    }

    /// The prefix of an application's report files.
    pub fn file_prefix(self, app: &App) -> String {
        match self {
            Dialect::Lcsim => app.id.to_string(),
            Dialect::Classic => app.names[0].to_string(),
            Dialect::Modern => app.names[0].replace(' ', "").to_lowercase(),
            Dialect::Compact => app.id.to_uppercase(),
        }
    }

    /// The columns of a report, in order.
    pub fn columns(self, kind: Kind) -> &'static [Col] {
        match (self, kind) {
            (Dialect::Lcsim, Kind::Differences) => LCSIM_DIFFERENCES,
            (Dialect::Lcsim, Kind::Orphans) => LCSIM_ORPHANS,
            (Dialect::Classic, Kind::Differences) => CLASSIC_DIFFERENCES,
            (Dialect::Classic, Kind::Orphans) => CLASSIC_ORPHANS,
            (Dialect::Modern, Kind::Differences) => MODERN_DIFFERENCES,
            (Dialect::Modern, Kind::Orphans) => MODERN_ORPHANS,
            (Dialect::Compact, Kind::Differences) => COMPACT_DIFFERENCES,
            (Dialect::Compact, Kind::Orphans) => COMPACT_ORPHANS,
        }
    }

    /// A column's header label for `app`.
    pub fn label(self, c: &Col, app: &App) -> String {
        c.label.replace("{app}", app.names[0])
    }

    /// The words of a "community exists" cell.
    pub fn exists_word(self, exists: bool) -> &'static str {
        match (self, exists) {
            (Dialect::Modern, true) => "true",
            (Dialect::Modern, false) => "false",
            (_, true) => "yes",
            (_, false) => "no",
        }
    }

    /// Why a resource is an orphan, as a person reads it.
    pub fn reason(self, exists: bool, app: &App) -> String {
        match (self, exists) {
            (Dialect::Classic, false) => "The community no longer exists".into(),
            (Dialect::Classic, true) => {
                format!("The community exists but has no {} widget", app.names[0])
            }
            (Dialect::Compact, false) => "community not found".into(),
            (Dialect::Compact, true) => "widget not installed".into(),
            (_, false) => "Community deleted".into(),
            (_, true) => format!("Missing widget: {}", app.names[0]),
        }
    }

    /// What a differences row asks for.
    pub fn action(self, field: &str) -> &'static str {
        if field == "moderation" {
            "Check the moderation setting"
        } else {
            "Ask an owner to save the community again"
        }
    }

    /// A report's title.
    pub fn title(self, kind: Kind, app: &App) -> String {
        let (id, name) = (app.id, app.names[0]);
        match (self, kind) {
            (Dialect::Lcsim, Kind::Differences) => {
                format!("{id}: communities that differ between Communities and {id}")
            }
            (Dialect::Lcsim, Kind::Orphans) => {
                format!("{id}: remote application resources without their community")
            }
            (Dialect::Classic, Kind::Differences) => {
                format!("{name} Community Differences Report")
            }
            (Dialect::Classic, Kind::Orphans) => {
                format!("{name} Orphaned Remote Applications Report")
            }
            (Dialect::Modern, Kind::Differences) => {
                format!("Sync report: communities that differ ({name})")
            }
            (Dialect::Modern, Kind::Orphans) => format!("Sync report: orphaned resources ({name})"),
            (Dialect::Compact, Kind::Differences) => format!("{name} - differences"),
            (Dialect::Compact, Kind::Orphans) => format!("{name} - orphans"),
        }
    }

    /// The element that holds one record in the `modern` export, per application.
    pub fn modern_record(app: &App) -> &'static str {
        match app.id {
            "Activities" => "activity",
            "Blog" => "weblog",
            "IdeationBlog" => "ideationBlog",
            "Files" => "library",
            "Forum" => "forum",
            "Wiki" => "wiki",
            _ => "microblog",
        }
    }

    /// The application a `modern` record element stands for.
    pub fn modern_app(element: &str) -> Option<&'static App> {
        apps::APPS
            .iter()
            .find(|a| Self::modern_record(a) == element)
    }
}

impl std::fmt::Display for Dialect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests;
