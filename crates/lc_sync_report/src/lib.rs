//! The lc_sync_report module: options, the generated script, and from reports to facts.

use lc_core::recovery::{self, CommunityDetails, Recovery};
use lc_core::report::{self, ColumnMap, Labels, ReportKind};
use lc_core::wsadmin::{self, Script, WsadminArgs};
use lc_core::{ArgSpec, Context, Elem, Error, Module, Opt, Outcome};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

pub struct SyncReport;

#[derive(Debug, serde::Deserialize)]
pub struct Options {
    pub exports: Vec<String>,
    pub output_dir: String,
    pub column_map: Option<HashMap<String, Labels>>,
    pub community_details: bool,
    #[serde(flatten)]
    pub wsadmin: WsadminArgs,
}

/// ARGS: output folder, fetch details (1|0), then the export paths. Generates the report pair of
/// each export, then looks up every community named in the differences reports with
/// `CommunitiesService.fetchCommById`, for its name and creator.
pub const BODY: &str = r#"
def lcr_uuids(path, seen):
    import os
    import re
    if not os.path.exists(path):
        return
    pat = re.compile("[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}")
    f = open(path, "r")
    while 1:
        line = f.readline()
        if not line:
            break
        for u in pat.findall(line):
            seen[u] = 1
    f.close()

def lcr_first(v):
    try:
        if len(v) > 0:
            return v[0]
    except:
        pass
    return v

def lcr_main():
    lcr_loads()
    out = ARGS[0]
    details = ARGS[1]
    diffs = ARGS[2:]
    exports = []
    i = 0
    while i < len(DATA):
        exports.append(DATA[i][0])
        i = i + 1
    for x in exports:
        lcr_call("CommunitiesRemoteAppService.generateSyncReports(" + x + ")")
        CommunitiesRemoteAppService.generateSyncReports(x, out)
        lcr_out("generated", [x])
    if details != "1":
        return
    seen = {}
    for d in diffs:
        lcr_uuids(d, seen)
    for u in seen.keys():
        try:
            c = lcr_first(CommunitiesService.fetchCommById(u))
            name = c.get("name")
            creator = lcr_first(c.get("createdBy"))
            lcr_out("community", [u, name, creator])
        except:
            lcr_out("community_missing", [u, lcr_error_text(sys.exc_info()[1])])
"#;

impl Module for SyncReport {
    const NAME: &'static str = "lc_sync_report";
    type Options = Options;

    fn spec() -> ArgSpec {
        ArgSpec::new()
            .opt(Opt::list("exports", Elem::Str).required())
            .opt(Opt::str("output_dir").required())
            .opt(Opt::dict("column_map"))
            .opt(Opt::bool("community_details").default(true))
            .opts(wsadmin::options())
    }

    fn run(o: Options, ctx: &Context) -> Result<Outcome, Error> {
        let columns = ColumnMap::new(&o.column_map.clone().unwrap_or_default())?;
        wsadmin::check_remote_path("output_dir", &o.output_dir)?;
        if !ctx.check_mode {
            // Every option checked before output_dir is made.
            wsadmin::validate(&o.wsadmin.normalized())?;
        }
        if o.exports.is_empty() {
            return Err(Error::invalid(
                "exports is empty: give the export files of lc_export",
            ));
        }
        let mut apps: Vec<String> = Vec::new();
        for (i, x) in o.exports.iter().enumerate() {
            wsadmin::check_remote_path(&format!("exports[{i}]"), x)?;
            let app = application_of(x)?;
            if apps.contains(&app) {
                return Err(Error::invalid(format!(
                    "exports[{i}] is a second export of {app}: give one export per application"
                )));
            }
            apps.push(app);
        }
        let out_dir = PathBuf::from(o.output_dir.trim_end_matches('/'));
        let report_path = |app: &str, kind: ReportKind| out_dir.join(kind.file_name(app));
        if ctx.check_mode {
            let planned: Vec<String> = apps
                .iter()
                .flat_map(|a| {
                    [ReportKind::Differences, ReportKind::Orphans].map(|k| report_path(a, k))
                })
                .map(|p| p.display().to_string())
                .collect();
            return Ok(Outcome::new(true)
                .msg(format!(
                    "would generate and read {} sync reports in {}",
                    planned.len(),
                    out_dir.display()
                ))
                .with("report_files", &planned));
        }
        std::fs::create_dir_all(&out_dir)
            .map_err(|e| Error::io(&out_dir, e).context("creating output_dir"))?;
        let diff_reports: Vec<String> = apps
            .iter()
            .map(|a| {
                report_path(a, ReportKind::Differences)
                    .display()
                    .to_string()
            })
            .collect();
        let script = Script::new(BODY)
            .load(lc_core::apps::COMMUNITIES_SCRIPT)
            .arg(out_dir.display().to_string())
            .arg(if o.community_details { "1" } else { "0" })
            .args(diff_reports)
            .rows(o.exports.iter().map(|x| vec![x.clone()]).collect());
        let out = wsadmin::run(&o.wsadmin, &script, ctx.tmpdir.as_deref())?;

        let mut differences = Vec::new();
        let mut orphans = Vec::new();
        let mut files = Vec::new();
        for app in &apps {
            let d = report_path(app, ReportKind::Differences);
            let r = report_path(app, ReportKind::Orphans);
            for p in [&d, &r] {
                if !p.exists() {
                    return Err(Error::invalid(format!(
                        "generateSyncReports did not leave {} on this host: the reports are written on the host of the Communities server; run this task there or give an output_dir both hosts share",
                        p.display()
                    )));
                }
                files.push(p.display().to_string());
            }
            report::for_each_difference(&d, app, &columns, |x| differences.push(x))?;
            report::for_each_orphan(&r, app, &columns, |x| orphans.push(x))?;
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
        let recovery = Recovery::new(&apps, differences, orphans, &details);
        let json_path = out_dir.join(recovery::JSON_FILE);
        let before = std::fs::read(&json_path).ok();
        let outputs = recovery.write(&out_dir)?;
        let changed = before.as_deref() != Some(recovery.to_json().as_bytes());
        let t = &recovery.counts.total;
        Ok(Outcome::new(changed)
            .msg(format!(
                "{} differences in {} communities to contact, {} orphans, across {} application(s); report: {}",
                t.differences,
                recovery.communities_to_contact.len(),
                t.orphans,
                apps.len(),
                outputs.html.display()
            ))
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

/// The application an export belongs to: from its content when the file is on this host, else
/// from its name `<App>.xml`.
fn application_of(path: &str) -> Result<String, Error> {
    let p = Path::new(path);
    if p.exists() {
        let s = lc_core::export::summarize(p)?;
        lc_core::apps::validate_ids(
            "the export's application",
            std::slice::from_ref(&s.application),
        )?;
        return Ok(s.application);
    }
    let stem = p.file_stem().and_then(|s| s.to_str()).unwrap_or("");
    lc_core::apps::by_id(stem)
        .map(|a| a.id.to_string())
        .ok_or_else(|| {
            Error::invalid(format!(
                "{path} is not on this host and its name does not say which application it is (<App>.xml)"
            ))
        })
}
