use super::*;
use std::collections::BTreeSet;

#[test]
fn every_dialect_differs_from_every_other() {
    let wiki = apps::by_id("Wiki").unwrap();
    let dir = Path::new("/c");
    let profile = Path::new("/c/profiles/Dmgr01");
    let distinct = |f: &dyn Fn(Dialect) -> String| {
        let all: BTreeSet<String> = ALL.iter().map(|d| f(*d)).collect();
        assert_eq!(all.len(), ALL.len(), "{all:?}");
    };
    distinct(&|d| {
        format!(
            "{:?}",
            (
                d.script_path(dir, profile, "communitiesAdmin.py"),
                d.script_path(dir, profile, "wikisAdmin.py")
            )
        )
    });
    distinct(&|d| d.file_prefix(wiki));
    for kind in [Kind::Differences, Kind::Orphans] {
        distinct(&|d| {
            let labels: Vec<String> = d.columns(kind).iter().map(|c| d.label(c, wiki)).collect();
            labels.join("|")
        });
        // Every dialect's first column is another one, and the labels of a key differ.
        distinct(&|d| format!("{:?}", d.columns(kind)[0].value));
    }
    distinct(&|d| format!("{:?}", (d.map_style(), d.task_keys(1))));
    distinct(&|d| {
        format!(
            "{:?}",
            (d.banner_lines(), d.load_lines(), d.call_lines("O", "m"))
        )
    });
    distinct(&|d| d.title(Kind::Orphans, wiki) + &d.reason(false, wiki));
}

#[test]
fn labels_come_from_lc_cores_synonyms() {
    use lc_core::formats::report::{self as fmt, Column as K};
    let fold = |s: &str| s.to_lowercase().replace(' ', "");
    for d in ALL {
        for kind in [Kind::Differences, Kind::Orphans] {
            for c in d.columns(kind) {
                let key = match c.value {
                    Value::Fact(k) => k,
                    Value::Reason => K::Reason,
                    _ => {
                        // An extra column: no key's label.
                        for k in K::ALL {
                            assert!(
                                !k.labels().iter().any(|l| fold(l) == fold(c.label)),
                                "{d}: {}",
                                c.label
                            );
                        }
                        continue;
                    }
                };
                let label = c.label.replace("{app}", fmt::APP);
                assert!(
                    key.labels().iter().any(|l| fold(l) == fold(&label)),
                    "{d}: {label:?} is not a label of {}",
                    key.key()
                );
            }
        }
        // lcsim prints lc_core's default labels.
        for kind in [Kind::Differences, Kind::Orphans] {
            for c in Dialect::Lcsim.columns(kind) {
                if let Value::Fact(k) = c.value {
                    assert_eq!(c.label, fmt::label(k));
                }
            }
        }
    }
}

#[test]
fn localized_names_only_outside_the_default() {
    assert_eq!(
        Dialect::Lcsim.community_name("Open Design Team".into()),
        "Open Design Team"
    );
    assert_eq!(
        Dialect::Classic.community_name("Open Design Team".into()),
        "Open Diseño Team"
    );
    assert_eq!(
        Dialect::Modern.community_name("Open Sales Team".into()),
        "Open Sales Team"
    );
}
