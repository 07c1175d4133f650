//! The lc_sync_report module: options, the generated script, and from reports to facts.
//!
//! The exports may have any layout ([`lc_core::export`]); each one's application comes from its
//! file name `<App>.xml`. The report files of each `generateSyncReports` call are what that call
//! wrote into the output folder (the script lists the folder before and after it), classified by
//! their documented suffixes, the application from their prefix ([`lc_core::apps::by_name`]). An
//! application whose pair of reports cannot be read is listed as `unread`, with the files and
//! why: the module still succeeds, with a warning, and the other applications' facts stand.

use lc_core::export::Layout;
use lc_core::formats::report as report_fmt;
use lc_core::recovery::{self, CommunityDetails, Recovery, Unread};
use lc_core::report::{self, ColumnMap, Labels, ReportKind};
use lc_core::wsadmin::module as layer;
use lc_core::wsadmin::{self, WsadminArgs};
use lc_core::{Context, Elem, Error, Module, Outcome};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

pub struct SyncReport;

lc_core::options! {
    #[derive(Debug)]
    pub struct Options {
        pub exports: Vec<String> => list(Elem::Str).required(),
        pub output_dir: String => str().required(),
        pub column_map: Option<HashMap<String, Labels>> => dict(),
        pub community_details: bool => bool().default(true),
        #[flatten]
        pub wsadmin: WsadminArgs,
    }
}

/// ARGS: output folder, fetch details (1|0), the differences reports' suffix; DATA: the export
/// paths. Generates the report pair of each export, listing the output folder before and after
/// each call: every file that is new or newer after it (name, size and modification time) is
/// printed as `wrote` with its export. Then looks up every community named in the differences
/// reports written with `CommunitiesService.fetchCommById`, for its name and creator.
pub const BODY: &str = include_str!("../jython/sync_report.py");

impl Module for SyncReport {
    const NAME: &'static str = "lc_sync_report";
    type Options = Options;

    fn run(o: Options, ctx: &Context) -> Result<Outcome, Error> {
        let columns = ColumnMap::new(&o.column_map.clone().unwrap_or_default())?;
        lc_core::validate::check_remote_path("output_dir", &o.output_dir)?;
        // Every option checked before output_dir is made.
        layer::prepare(ctx, &o.wsadmin)?;
        if o.exports.is_empty() {
            return Err(Error::invalid(
                "exports is empty: give the export files of lc_export",
            ));
        }
        let mut apps: Vec<String> = Vec::new();
        let mut layouts = Vec::new();
        for (i, x) in o.exports.iter().enumerate() {
            lc_core::validate::check_remote_path(&format!("exports[{i}]"), x)?;
            let (app, layout) = application_of(i, x)?;
            if apps.contains(&app) {
                return Err(Error::invalid(format!(
                    "exports[{i}] is a second export of {app}: give one export per application"
                )));
            }
            layouts.push(ExportLayout {
                application: app.clone(),
                path: x.clone(),
                layout,
            });
            apps.push(app);
        }
        let out_dir = PathBuf::from(o.output_dir.trim_end_matches('/'));
        if ctx.check_mode {
            return Ok(Outcome::new(true)
                .msg(format!(
                    "would generate and read the sync reports of {} export(s) in {}",
                    apps.len(),
                    out_dir.display()
                ))
                .with("exports", &layouts));
        }
        lc_core::fs::create_dir(&out_dir).map_err(|e| e.context("creating output_dir"))?;
        let script = layer::script(BODY)
            .arg(out_dir.display().to_string())
            .arg(layer::flag(o.community_details))
            .arg(report_fmt::DIFFERENCES_SUFFIX)
            .rows(o.exports.iter().map(|x| vec![x.clone()]).collect());
        let out = layer::execute(&o.wsadmin, &script, ctx)?;

        let written = reports_written(&out, &o.exports, &apps, &out_dir)?;
        let mut differences = Vec::new();
        let mut orphans = Vec::new();
        let mut files = Vec::new();
        let mut unread = Vec::new();
        for (app, pair) in &written {
            // The server wrote them with its own umask; they list private communities' names.
            // Best effort: a report that cannot be restricted is still read (its folder is 0750).
            for f in pair.files() {
                let _ = lc_core::fs::restrict(Path::new(&f));
            }
            files.extend(pair.files());
            match read_pair(app, pair, &columns) {
                Ok((d, r)) => {
                    differences.extend(d);
                    orphans.extend(r);
                }
                Err(reason) => unread.push(Unread {
                    application: app.clone(),
                    files: pair.files(),
                    reason,
                }),
            }
        }
        let details: HashMap<String, CommunityDetails> = out
            .tagged("community")
            .map(|r| {
                (
                    r.field(0).to_string(),
                    CommunityDetails {
                        name: r.field(1).to_string(),
                        created_by: r.field(2).to_string(),
                    },
                )
            })
            .collect();
        let read: Vec<String> = written
            .keys()
            .filter(|a| !unread.iter().any(|u: &Unread| &u.application == *a))
            .cloned()
            .collect();
        let recovery = Recovery::new(&read, differences, orphans, &details).with_unread(unread);
        let json_path = out_dir.join(recovery::JSON_FILE);
        let before = std::fs::read(&json_path).ok();
        let outputs = recovery.write(&out_dir)?;
        let changed = before.as_deref() != Some(recovery.to_json().as_bytes());
        let t = &recovery.counts.total;
        let mut outcome = Outcome::new(changed);
        let mut tail = String::new();
        if !recovery.unread.is_empty() {
            let line = unread_warning(&recovery.unread);
            tail = format!("; {} unread: {line}", recovery.unread.len());
            outcome = outcome.warn(line);
        }
        let unrecognized: Vec<&str> = layouts
            .iter()
            .filter(|l| l.layout == Some(Layout::Unrecognized))
            .map(|l| l.path.as_str())
            .collect();
        if !unrecognized.is_empty() {
            let line = format!(
                "the layout of {} was not recognized (no element carries a community UUID); generateSyncReports read it as it is",
                unrecognized.join(", ")
            );
            tail.push_str(&format!("; warning: {line}"));
            outcome = outcome.warn(line);
        }
        Ok(outcome
            .msg(format!(
                "{} differences in {} communities to contact, {} orphans, across {} application(s); report: {}{tail}",
                t.differences,
                recovery.communities_to_contact.len(),
                t.orphans,
                read.len(),
                outputs.html.display()
            ))
            .with("unread", &recovery.unread)
            .with("exports", &layouts)
            .with("differences", &recovery.differences)
            .with("orphans", &recovery.orphans)
            .with("communities_to_contact", &recovery.communities_to_contact)
            .with("counts", &recovery.counts)
            .with("report_files", &files)
            .with("report_html", outputs.html.display().to_string())
            .with("report_json", outputs.json.display().to_string())
            .with("owners_csv", outputs.csv.display().to_string()))
    }
}

/// An export as the result lists it: its application (from its name) and how its records
/// were found (`None` when it is not on this host).
#[derive(Debug, serde::Serialize)]
pub struct ExportLayout {
    pub application: String,
    pub path: String,
    pub layout: Option<Layout>,
}

/// The application of export `i`: from its file name `<App>.xml` (an id or a name of the app).
/// When the file is on this host, it must be a complete XML document that names no other
/// application; its layout is returned.
fn application_of(i: usize, path: &str) -> Result<(String, Option<Layout>), Error> {
    let p = Path::new(path);
    let stem = p.file_stem().and_then(|s| s.to_str()).unwrap_or("");
    let is_xml = p.extension().is_some_and(|e| e.eq_ignore_ascii_case("xml"));
    let app = lc_core::apps::by_name(stem).filter(|_| is_xml).ok_or_else(|| {
        Error::invalid(format!(
            "exports[{i}] {path}: the file name does not say which application it is: name it <App>.xml, App one of {}",
            lc_core::apps::ids()
        ))
    })?;
    if !p.exists() {
        return Ok((app.id.to_string(), None));
    }
    let s = lc_core::export::summarize(p)?;
    if s.names_another_application(app.id) {
        return Err(Error::invalid(format!(
            "exports[{i}] {path} is named for {} but the document names the application {}",
            app.id,
            s.applications.join(", ")
        )));
    }
    Ok((app.id.to_string(), Some(s.layout)))
}

/// The two reports one application got.
#[derive(Debug, Default)]
struct Pair {
    differences: Option<PathBuf>,
    orphans: Option<PathBuf>,
}

impl Pair {
    fn files(&self) -> Vec<String> {
        [&self.differences, &self.orphans]
            .into_iter()
            .flatten()
            .map(|p| p.display().to_string())
            .collect()
    }
}

/// The report files each `generateSyncReports` call wrote, per application (from each file's
/// prefix, else the export's application). Every export gets an entry, even one whose call wrote
/// nothing recognizable. A file listed but not on this host is an error: the reports are
/// written on the host of the Communities server.
fn reports_written(
    out: &wsadmin::Output,
    exports: &[String],
    apps: &[String],
    out_dir: &Path,
) -> Result<std::collections::BTreeMap<String, Pair>, Error> {
    let mut pairs: std::collections::BTreeMap<String, Pair> =
        apps.iter().map(|a| (a.clone(), Pair::default())).collect();
    for r in out.tagged("wrote") {
        let name = r.field(1);
        let export_app = exports
            .iter()
            .position(|x| x == r.field(0))
            .and_then(|i| apps.get(i));
        // The app from the file's prefix (its id or any of its names), else the export's.
        let (app, kind) = match (ReportKind::classify(name), export_app) {
            (Some((a, kind)), _) => (a.id.to_string(), kind),
            (None, Some(a)) if name.ends_with(report_fmt::DIFFERENCES_SUFFIX) => {
                (a.clone(), ReportKind::Differences)
            }
            (None, Some(a)) if name.ends_with(report_fmt::ORPHANS_SUFFIX) => {
                (a.clone(), ReportKind::Orphans)
            }
            _ => continue,
        };
        let path = out_dir.join(r.field(1));
        if !path.exists() {
            return Err(Error::invalid(format!(
                "generateSyncReports did not leave {} on this host: the reports are written on the host of the Communities server; run this task there or give an output_dir both hosts share",
                path.display()
            )));
        }
        let pair = pairs.entry(app).or_default();
        match kind {
            ReportKind::Differences => pair.differences = Some(path),
            ReportKind::Orphans => pair.orphans = Some(path),
        }
    }
    Ok(pairs)
}

/// Reads one application's pair of reports; the one-line reason when it cannot be read.
fn read_pair(
    app: &str,
    pair: &Pair,
    columns: &ColumnMap,
) -> Result<(Vec<report::Difference>, Vec<report::Orphan>), String> {
    let missing = |suffix: &str| format!("generateSyncReports wrote no report *{suffix} for {app}");
    let d = pair
        .differences
        .as_ref()
        .ok_or_else(|| missing(report_fmt::DIFFERENCES_SUFFIX))?;
    let r = pair
        .orphans
        .as_ref()
        .ok_or_else(|| missing(report_fmt::ORPHANS_SUFFIX))?;
    let differences = report::read_differences(d, app, columns).map_err(|e| e.one_line())?;
    let orphans = report::read_orphans(r, app, columns).map_err(|e| e.one_line())?;
    Ok((differences, orphans))
}

/// The warning that names the applications whose reports were not read.
fn unread_warning(unread: &[Unread]) -> String {
    let each: Vec<String> = unread
        .iter()
        .map(|u| {
            let files = if u.files.is_empty() {
                "no report file".to_string()
            } else {
                u.files.join(", ")
            };
            format!("{} ({files}): {}", u.application, u.reason)
        })
        .collect();
    format!("reports not read, to read by hand: {}", each.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use lc_core::wsadmin::{Output, Record};

    fn wrote(export: &str, name: &str) -> Record {
        Record {
            tag: "wrote".into(),
            fields: vec![export.into(), name.into()],
        }
    }

    #[test]
    fn report_files_are_classified_by_suffix_and_prefix() {
        let dir = tempfile::tempdir().unwrap();
        let names = [
            "Wikis_communityDifferences.html",
            "Wikis_orphanedRemoteApplications.html",
            "Blog_communityDifferences.html",
            "notes.txt",
        ];
        for n in names {
            std::fs::write(dir.path().join(n), "x").unwrap();
        }
        let out = Output {
            records: names
                .iter()
                .map(|n| {
                    wrote(
                        if n.starts_with("Wikis") {
                            "/x/Wiki.xml"
                        } else {
                            "/x/Blog.xml"
                        },
                        n,
                    )
                })
                .collect(),
            text: String::new(),
        };
        let apps = ["Wiki".to_string(), "Blog".to_string(), "Files".to_string()];
        let exports = ["/x/Wiki.xml", "/x/Blog.xml", "/x/Files.xml"].map(String::from);
        let pairs = reports_written(&out, &exports, &apps, dir.path()).unwrap();
        assert_eq!(pairs.keys().collect::<Vec<_>>(), ["Blog", "Files", "Wiki"]);
        let wiki = &pairs["Wiki"];
        assert_eq!(
            wiki.files(),
            [
                dir.path().join(names[0]).display().to_string(),
                dir.path().join(names[1]).display().to_string()
            ]
        );
        // One of the pair missing, or nothing written: unread, with why.
        let columns = ColumnMap::default();
        assert_eq!(
            read_pair("Blog", &pairs["Blog"], &columns).unwrap_err(),
            "generateSyncReports wrote no report *_orphanedRemoteApplications.html for Blog"
        );
        assert_eq!(
            read_pair("Files", &pairs["Files"], &columns).unwrap_err(),
            "generateSyncReports wrote no report *_communityDifferences.html for Files"
        );
        // A file listed but not on this host is an error, not a guess.
        let gone = Output {
            records: vec![wrote("/x/Wiki.xml", "Wiki_communityDifferences.html")],
            text: String::new(),
        };
        let err = reports_written(&gone, &exports, &apps, dir.path()).unwrap_err();
        assert!(err
            .one_line()
            .starts_with("generateSyncReports did not leave "));
    }

    #[test]
    fn the_application_comes_from_the_file_name() {
        assert_eq!(
            application_of(0, "/nowhere/Wikis.xml").unwrap(),
            ("Wiki".to_string(), None)
        );
        assert_eq!(
            application_of(1, "/nowhere/export.xml").unwrap_err().one_line(),
            format!(
                "exports[1] /nowhere/export.xml: the file name does not say which application it is: name it <App>.xml, App one of {}",
                lc_core::apps::ids()
            )
        );
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("Blog.xml");
        std::fs::write(
            &p,
            "<x application=\"Wiki\"><r id=\"0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0\"/></x>",
        )
        .unwrap();
        let path = p.display().to_string();
        assert_eq!(
            application_of(0, &path).unwrap_err().one_line(),
            format!(
                "exports[0] {path} is named for Blog but the document names the application Wiki"
            )
        );
    }
}
