//! `lc-bench`: runs one of lc_core's readers (or the consolidated report) on a file and prints
//! one JSON line with what it read and how long the reading took, for `bench/run.py` (`make
//! bench`), which starts it as a child process and takes its peak memory from the kernel.
//!
//! ```text
//! lc-bench export-summary FILE        lc_core::export::summarize (count, size, SHA-256)
//! lc-bench export-resources FILE      lc_core::export::for_each_resource (every record decoded)
//! lc-bench report-differences FILE    lc_core::report::for_each_difference (every row decoded)
//! lc-bench recovery N DIR             lc_core::recovery: N differences consolidated and written
//! ```
//!
//! The time printed is the reading alone (process start-up excluded), measured inside the process
//! like the Python readers it is compared with. `lc-bench-html5ever FILE` reads the differences
//! report through html5ever's tokenizer instead (a binary of its own, so that this one's memory
//! is lc_core's alone).

use lc_bench::{figures, print};
use lc_core::recovery::{CommunityDetails, Recovery};
use lc_core::report::{self, ColumnMap, Difference, Orphan};
use serde_json::json;
use serde_json::Value;
use std::collections::HashMap;
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

const USAGE: &str = "usage: lc-bench export-summary FILE | export-resources FILE | \
                     report-differences FILE | recovery N DIR";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["export-summary", file] => export_summary(Path::new(file)),
        ["export-resources", file] => export_resources(Path::new(file)),
        ["report-differences", file] => report_differences(Path::new(file)),
        ["recovery", n, dir] => match n.parse() {
            Ok(n) => recovery(n, Path::new(dir)),
            Err(_) => Err(format!("N must be a number, got {n:?}")),
        },
        _ => Err(USAGE.to_string()),
    };
    print(result)
}

fn export_summary(file: &Path) -> Result<Value, String> {
    let start = Instant::now();
    let s = lc_core::export::summarize(file).map_err(|e| e.one_line())?;
    Ok(figures(s.resources, s.bytes, start, json!(&s.sha256[..16])))
}

fn export_resources(file: &Path) -> Result<Value, String> {
    let start = Instant::now();
    // The length of every value read, so that nothing decoded goes unused.
    let mut chars = 0usize;
    let (_, items) = lc_core::export::for_each_resource(file, |r| {
        chars += r.id().len() + r.community_uuid().len();
        chars += r.community().map(|(_, v)| v.len()).sum::<usize>();
    })
    .map_err(|e| e.one_line())?;
    Ok(figures(items, file_size(file)?, start, json!(chars)))
}

fn report_differences(file: &Path) -> Result<Value, String> {
    let start = Instant::now();
    let mut chars = 0usize;
    let items =
        report::for_each_difference(file, "Files", &ColumnMap::default(), |d: Difference| {
            chars += d.community_name.len()
                + d.community_uuid.len()
                + d.field.len()
                + d.communities_value.len()
                + d.application_value.len();
        })
        .map_err(|e| e.one_line())?;
    Ok(figures(items, file_size(file)?, start, json!(chars)))
}

/// N differences over the seven applications (about four per community, as a restore of
/// Communities gives), N/10 orphans and the details of every community, consolidated and written.
fn recovery(n: u64, dir: &Path) -> Result<Value, String> {
    const APPS: &[&str] = &[
        "Activities",
        "Blog",
        "IdeationBlog",
        "Files",
        "Forum",
        "Wiki",
        "StatusUpdates",
    ];
    let mut rng = Lcg(0x5eed);
    let communities = (n / 4).max(1);
    let uuids: Vec<String> = (0..communities).map(|_| rng.uuid()).collect();
    let differences: Vec<Difference> = (0..n)
        .map(|i| {
            let c = (rng.next() % communities) as usize;
            let field = lc_core::formats::FIELDS[(i % 4) as usize];
            Difference {
                application: APPS[(rng.next() % 7) as usize].to_string(),
                community_uuid: uuids[c].clone(),
                community_name: format!("Community {c}"),
                field: field.to_string(),
                communities_value: "public".to_string(),
                application_value: "private".to_string(),
            }
        })
        .collect();
    let orphans: Vec<Orphan> = (0..n / 10)
        .map(|i| Orphan {
            application: APPS[(i % 7) as usize].to_string(),
            object_id: rng.uuid(),
            old_community_uuid: rng.uuid(),
            community_exists: Some(i % 2 == 0),
        })
        .collect();
    let details: HashMap<String, CommunityDetails> = uuids
        .iter()
        .enumerate()
        .map(|(i, u)| {
            (
                u.clone(),
                CommunityDetails {
                    name: format!("Community {i}"),
                    created_by: format!("Owner {}", i % 97),
                },
            )
        })
        .collect();
    let apps: Vec<String> = APPS.iter().map(|a| a.to_string()).collect();

    let start = Instant::now();
    let rec = Recovery::new(&apps, differences, orphans, &details);
    let consolidated = start.elapsed().as_secs_f64();
    let outputs = rec.write(dir).map_err(|e| e.one_line())?;
    let total = start.elapsed().as_secs_f64();
    let bytes = file_size(&outputs.html)? + file_size(&outputs.json)? + file_size(&outputs.csv)?;
    Ok(json!({
        "items": n,
        "orphans": n / 10,
        "communities_to_contact": rec.counts.total.communities,
        "bytes": bytes,
        "seconds": total,
        "consolidate_seconds": consolidated,
        "write_seconds": total - consolidated,
    }))
}

fn file_size(path: &Path) -> Result<u64, String> {
    std::fs::metadata(path)
        .map(|m| m.len())
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// A small deterministic generator (64-bit LCG, high bits) for fabricated ids.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 16
    }

    fn uuid(&mut self) -> String {
        let (a, b) = (self.next(), self.next());
        format!(
            "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
            a & 0xffff_ffff,
            (a >> 32) & 0xffff,
            b & 0xfff,
            (b >> 12) & 0xfff,
            (b >> 24) & 0xffff_ffff_ffff
        )
    }
}
