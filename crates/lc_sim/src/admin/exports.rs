//! The files a call writes: `exportSyncedResourceInfo` and `generateSyncReports`.

use std::io::{BufReader, BufWriter};
use std::path::Path;

use lc_core::apps::APPS;
use serde_json::Value;

use super::wire::{path_arg, resource_type_arg, str_arg};
use super::{iae, java_error, CallResult};
use crate::dialect::Kind;
use crate::files;
use crate::model::{Cell, Tx};
use crate::truth::{self, Comparer};

fn io_error(path: &str, e: &std::io::Error) -> String {
    let why = match e.kind() {
        std::io::ErrorKind::NotFound => "No such file or directory".to_string(),
        std::io::ErrorKind::PermissionDenied => "Permission denied".to_string(),
        _ => e.to_string(),
    };
    java_error("java.io.FileNotFoundException", &format!("{path} ({why})"))
}

pub(super) fn export(cell: &Cell, tx: &mut Tx, object: &str, args: &[Value]) -> CallResult {
    let path = path_arg(args, 0, "path")?;
    resource_type_arg(args, 1)?;
    let app = match args.get(2) {
        Some(_) => {
            let a = str_arg(args, 2, "remoteAppDefId")?;
            if a != "IdeationBlog" || !cell.has_app(&a) {
                return Err(iae(format!("unknown remoteAppDefId {a:?} for {object}")));
            }
            a
        }
        None => {
            let Some(a) = APPS
                .iter()
                .find(|a| a.service == object && a.export_extra.is_none())
            else {
                return Err(iae(format!("{object} exports nothing")));
            };
            if !cell.has_app(a.id) {
                return Err(iae(format!("{} is not deployed", a.id)));
            }
            a.id.to_string()
        }
    };
    let info =
        lc_core::apps::by_id(&app).ok_or_else(|| iae(format!("unknown application {app:?}")))?;
    // The server of an application on another node writes to that node's disk.
    let on_disk = match tx.meta.node_disks.get(&app) {
        Some(disk) => format!("{disk}{path}"),
        None => path.clone(),
    };
    let f = std::fs::File::create(&on_disk).map_err(|e| io_error(&path, &e))?;
    files::write_export(
        BufWriter::new(f),
        cell.config.dialect,
        info,
        truth::records(&tx.world, &app),
    )
    .map_err(|e| io_error(&path, &e))?;
    Ok(Value::Null)
}

pub(super) fn generate_sync_reports(cell: &Cell, tx: &mut Tx, args: &[Value]) -> CallResult {
    let xml = path_arg(args, 0, "exportFile")?;
    let dir = path_arg(args, 1, "outputDirectory")?;
    if !Path::new(&dir).is_dir() {
        return Err(io_error(
            &dir,
            &std::io::Error::from(std::io::ErrorKind::NotFound),
        ));
    }
    let dialect = cell.config.dialect;
    let f = std::fs::File::open(&xml).map_err(|e| io_error(&xml, &e))?;
    type Out = files::ReportWriter<BufWriter<std::fs::File>>;
    let open = |kind: Kind, app: &'static lc_core::apps::App| -> Result<Out, String> {
        let path = format!(
            "{}/{}",
            dir.trim_end_matches('/'),
            files::report_file(dialect, kind, app)
        );
        let f = std::fs::File::create(&path).map_err(|e| io_error(&path, &e))?;
        files::ReportWriter::new(BufWriter::new(f), dialect, kind, app)
            .map_err(|e| io_error(&path, &e))
    };
    let mut reports: Option<(Out, Out)> = None;
    let mut opened: Result<(), String> = Ok(());
    let mut diffs = Vec::new();
    let mut orphans = Vec::new();
    let mut cmp: Option<Comparer> = None;
    let world = &tx.world;
    let read = files::read_export(dialect, BufReader::new(f), |item| {
        match item {
            files::Item::App(a) => {
                let Some(info) = lc_core::apps::by_id(&a).filter(|_| cell.has_app(&a)) else {
                    anyhow::bail!("the export is of {a:?}, which this deployment does not have");
                };
                let both =
                    open(Kind::Differences, info).and_then(|d| Ok((d, open(Kind::Orphans, info)?)));
                match both {
                    Ok(b) => reports = Some(b),
                    Err(e) => {
                        opened = Err(e);
                        anyhow::bail!("cannot write the reports");
                    }
                }
                cmp = Some(Comparer::new(world, &a));
            }
            files::Item::Record(r) => {
                if let (Some(c), Some((d, o))) = (cmp.as_mut(), reports.as_mut()) {
                    c.add(&r, &mut diffs, &mut orphans);
                    for x in diffs.drain(..) {
                        d.row(files::Row::Difference(&x))?;
                    }
                    for x in orphans.drain(..) {
                        o.row(files::Row::Orphan(&x))?;
                    }
                }
            }
        }
        Ok(())
    });
    opened?;
    if let Err(e) = read {
        return Err(java_error(
            "com.ibm.lconn.communities.sync.SyncReportException",
            &format!("cannot read {xml}: {e:#}"),
        ));
    }
    if let Some((d, o)) = reports {
        d.finish()
            .and_then(|_| o.finish())
            .map_err(|e| io_error(&dir, &e))?;
    }
    Ok(Value::Null)
}
