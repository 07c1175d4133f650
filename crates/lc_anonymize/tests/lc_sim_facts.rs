//! For a damaged lc-sim cell of every dialect, the exports of every application and the reports
//! generateSyncReports writes from them, anonymized as one run, read (lc_core's readers) to the
//! same facts as the originals with the run's pseudonyms in place of the values; no original UUID
//! or name is left in any copy; and every value of the exports (attribute or text, whatever the
//! element names) is the original's with the mapping applied.
//!
//! The report reader is told each dialect's labels through `column_map` (the reader of this
//! branch knows only lc-sim's default labels); an orphans report without a "community exists"
//! column is read for its ids alone. The export summary (lc_core::export::summarize) must say the
//! same of the copy as of the original, whether it reads the layout or refuses it.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use lc_anonymize::{anonymize, Outcome, Pseudonyms};
use lc_core::apps::APPS;
use lc_core::export;
use lc_core::report::{self, ColumnMap, Difference, Orphan, ReportKind};
use lc_sim::admin::rpc;
use lc_sim::dialect::{self, Dialect};
use lc_sim::model::Cell;
use serde_json::json;

/// A damaged cell and, in one folder, every app's export and its two reports.
fn cell_files(tmp: &Path, dialect: Dialect) -> PathBuf {
    let cell_dir = tmp.join("cell");
    let options = lc_sim::init::InitOptions {
        communities: 300,
        seed: 11,
        dialect,
        ..Default::default()
    };
    lc_sim::init::init(&cell_dir, &options).unwrap();
    let cell = Cell::open(&cell_dir).unwrap();
    let damage = lc_sim::damage::DamageOptions {
        restore: vec!["communities".into(), "Blog".into(), "Wiki".into()],
        backup_age_days: 7,
        trash: 3,
    };
    lc_sim::damage::damage(&cell, &damage).unwrap();
    let out = tmp.join("in");
    std::fs::create_dir_all(&out).unwrap();
    for app in APPS.iter().filter(|a| cell.has_app(a.id)) {
        let xml = out.join(format!("{}.xml", app.id));
        let mut args = vec![json!(xml.to_str().unwrap()), json!("community")];
        if let Some(extra) = app.export_extra {
            args.push(json!(extra));
        }
        let r = rpc(&cell, app.service, "exportSyncedResourceInfo", args);
        assert!(matches!(r.result, Some(Ok(_))), "{:?}", r.result);
        let r = rpc(
            &cell,
            "CommunitiesRemoteAppService",
            "generateSyncReports",
            vec![json!(xml.to_str().unwrap()), json!(out.to_str().unwrap())],
        );
        assert!(matches!(r.result, Some(Ok(_))), "{:?}", r.result);
    }
    out
}

/// The facts of a folder: every export's summary (without size and hash, which change), every
/// report's rows.
#[derive(Debug, PartialEq)]
struct Facts {
    /// File name, and what the summary says of it (or its one-line refusal).
    exports: Vec<(String, String)>,
    differences: Vec<Difference>,
    orphans: Vec<Orphan>,
}

/// The facts as lc_core's readers find them with their default labels (the synonyms of
/// `lc_core::formats`): no dialect is described to them.
fn facts(dir: &Path) -> Facts {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut f = Facts {
        exports: Vec::new(),
        differences: Vec::new(),
        orphans: Vec::new(),
    };
    for name in names {
        let path = dir.join(&name);
        if name.ends_with(".xml") {
            let said = match export::summarize(&path) {
                Ok(s) => format!(
                    "{:?} {:?} {} {:?}",
                    s.applications, s.layout, s.resources, s.record_path
                ),
                Err(e) => e.one_line().replace(&path.display().to_string(), "<path>"),
            };
            f.exports.push((name, said));
        } else if let Some((app, kind)) = ReportKind::classify(&name) {
            let columns = ColumnMap::default();
            match kind {
                ReportKind::Differences => f
                    .differences
                    .extend(report::read_differences(&path, app.id, &columns).unwrap()),
                ReportKind::Orphans => f
                    .orphans
                    .extend(report::read_orphans(&path, app.id, &columns).unwrap()),
            }
        }
    }
    f
}

fn mapped(f: &Facts, p: &Pseudonyms) -> Facts {
    Facts {
        exports: f.exports.clone(),
        differences: f
            .differences
            .iter()
            .map(|d| Difference {
                application: d.application.clone(),
                community_uuid: p.apply(&d.community_uuid),
                community_name: p.apply(&d.community_name),
                field: p.apply(&d.field),
                communities_value: p.apply(&d.communities_value),
                application_value: p.apply(&d.application_value),
            })
            .collect(),
        orphans: f
            .orphans
            .iter()
            .map(|o| Orphan {
                application: o.application.clone(),
                object_id: p.apply(&o.object_id),
                old_community_uuid: p.apply(&o.old_community_uuid),
                community_exists: o.community_exists,
            })
            .collect(),
    }
}

/// Every element, attribute and text of an XML file, in order (values as read, in the
/// encoding it declares).
fn xml_items(path: &Path) -> Vec<(String, String)> {
    use quick_xml::events::Event;
    let bytes = std::fs::read(path).unwrap();
    let latin1 = bytes.starts_with(b"<?xml") && {
        let decl = &bytes[..bytes.iter().position(|&b| b == b'>').unwrap()];
        String::from_utf8_lossy(decl).contains("ISO-8859-1")
    };
    let text = |raw: &[u8]| -> String {
        let s: String = if latin1 {
            raw.iter().map(|&b| b as char).collect()
        } else {
            String::from_utf8(raw.to_vec()).unwrap()
        };
        quick_xml::escape::unescape(&s).unwrap().into_owned()
    };
    let mut r = quick_xml::Reader::from_reader(&bytes[..]);
    let mut buf = Vec::new();
    let mut out = Vec::new();
    loop {
        match r.read_event_into(&mut buf).unwrap() {
            Event::Start(e) | Event::Empty(e) => {
                out.push(("<".into(), text(e.name().as_ref())));
                for a in e.attributes() {
                    let a = a.unwrap();
                    out.push((text(a.key.as_ref()), text(&a.value)));
                }
            }
            Event::Text(t) => out.push(("text".into(), text(&t))),
            Event::End(e) => out.push(("/".into(), text(e.name().as_ref()))),
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    out
}

fn check(d: Dialect) {
    let tmp = tempfile::tempdir().unwrap();
    let input = cell_files(tmp.path(), d);
    let output = tmp.path().join("out");
    let mut p = Pseudonyms::new([42; 32]);
    let outcomes = anonymize(&input, &output, &mut p).unwrap();
    assert_eq!(outcomes.len(), 3 * APPS.len(), "{outcomes:?}");
    assert!(outcomes.iter().all(|o| matches!(o, Outcome::Copied { .. })));

    let original = facts(&input);
    let copy = facts(&output);
    assert_eq!(original.exports.len(), APPS.len());
    assert!(
        original.differences.len() > 20,
        "{}",
        original.differences.len()
    );
    assert!(original.orphans.len() > 5, "{}", original.orphans.len());
    let fields: BTreeSet<&str> = original
        .differences
        .iter()
        .map(|d| d.field.as_str())
        .collect();
    assert!(fields.contains("name"), "{fields:?}");
    assert_eq!(copy, mapped(&original, &p));

    // The pseudonyms are in place: UUIDs stay UUIDs, names became pseudonyms.
    let uuid =
        regex::Regex::new("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
            .unwrap();
    let pseudonym = regex::Regex::new("^(Community|Name|Title) [0-9]{4}$").unwrap();
    for (o, c) in original.differences.iter().zip(&copy.differences) {
        assert_ne!(o.community_uuid, c.community_uuid);
        assert!(uuid.is_match(&c.community_uuid), "{c:?}");
        assert!(pseudonym.is_match(&c.community_name), "{c:?}");
    }
    for (o, c) in original.orphans.iter().zip(&copy.orphans) {
        assert_ne!(o.object_id, c.object_id);
        assert!(uuid.is_match(&c.object_id) && uuid.is_match(&c.old_community_uuid));
    }

    // Every value of every export, whatever its element: the original's, mapped.
    let mut secrets = BTreeSet::new();
    if d == Dialect::Lcsim {
        assert!(
            original
                .exports
                .iter()
                .all(|(_, said)| !said.contains("<path>")),
            "{:?}",
            original.exports
        );
    }
    for (name, _) in &original.exports {
        let a = xml_items(&input.join(name));
        let b = xml_items(&output.join(name));
        assert_eq!(a.len(), b.len(), "{name}");
        for (x, y) in a.iter().zip(&b) {
            assert_eq!(x.0, y.0, "{name}");
            let namespace = x.0.starts_with("xmlns") || x.0.starts_with("xsi:");
            if matches!(x.0.as_str(), "<" | "/") || namespace {
                assert_eq!(x.1, y.1, "{name}: element names and namespaces are kept");
            } else {
                assert_eq!(p.apply(&x.1), y.1, "{name}: {}", x.0);
                if x.1 != y.1 {
                    secrets.insert(x.1.clone());
                }
            }
        }
    }
    for d in &original.differences {
        secrets.insert(d.community_uuid.clone());
        secrets.insert(d.community_name.clone());
    }
    for o in &original.orphans {
        secrets.insert(o.object_id.clone());
        secrets.insert(o.old_community_uuid.clone());
    }
    assert!(secrets.len() > 500, "{}", secrets.len());
    // The reasons a reader may derive "community exists" from are kept as they are.
    let mut reasons = 0;
    for entry in std::fs::read_dir(&input).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        let Some((app, ReportKind::Orphans)) = ReportKind::classify(&name) else {
            continue;
        };
        let before = std::fs::read_to_string(input.join(&name)).unwrap();
        let after = std::fs::read_to_string(output.join(&name)).unwrap();
        for exists in [true, false] {
            let reason = d.reason(exists, app);
            let escaped = lc_sim::util::escape(&reason);
            let count = |t: &str| t.matches(reason.as_str()).count() + t.matches(&*escaped).count();
            assert_eq!(count(&before), count(&after), "{name}: {reason}");
            reasons += count(&before);
        }
    }
    if d != Dialect::Lcsim {
        assert!(reasons > 5, "{reasons}");
    }

    // None of them is left in any copy, as written or escaped.
    for entry in std::fs::read_dir(&output).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        for s in &secrets {
            assert!(
                !text.contains(s.as_str()) && !text.contains(&*lc_sim::util::escape(s)),
                "{} still holds {s:?}",
                path.display()
            );
        }
    }
}

/// A dialect added to lc-sim needs its test here.
#[test]
fn every_dialect_has_its_test() {
    assert_eq!(
        dialect::ALL,
        [
            Dialect::Lcsim,
            Dialect::Classic,
            Dialect::Modern,
            Dialect::Compact
        ]
    );
}

#[test]
fn lcsim() {
    check(Dialect::Lcsim);
}

#[test]
fn classic() {
    check(Dialect::Classic);
}

#[test]
fn modern() {
    check(Dialect::Modern);
}

#[test]
fn compact() {
    check(Dialect::Compact);
}
