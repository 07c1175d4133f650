//! The HTML sync-report reader: `report::scan` for the differences and the orphans columns (whose
//! "community exists" and "reason" columns are optional), for an application whose names the
//! labels may carry (`<app>` synonyms), with the default labels and with a `column_map` taken
//! from the input's first line (a label or a list of labels per key). Invariants: no panic; each
//! row hands over exactly the columns asked for, every required one present, every UUID column
//! holding a UUID; the count returned is the rows handed over; errors are one line; reading
//! "community exists" from a reason's words does not panic.
#![no_main]

use lc_core::formats::report::{Column, Values};
use lc_core::report::{self, ColumnMap, Labels, ReportKind};
use libfuzzer_sys::fuzz_target;
use std::collections::HashMap;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let name = Path::new("/fuzz/Blogs_communityDifferences.html");
    let mut maps = vec![ColumnMap::default()];
    // A first line `{"field": "Attribut", "reason": ["Motif", "Raison"], …}` is a column_map.
    if let Some(nl) = data.iter().position(|&b| b == b'\n') {
        if let Ok(o) = serde_json::from_slice::<HashMap<String, Labels>>(&data[..nl]) {
            match ColumnMap::new(&o) {
                Ok(m) => maps.push(m),
                Err(e) => assert!(!e.one_line().contains(lc_core::error::LINE_BREAKS)),
            }
        }
    }
    let kinds: [&[Column]; 3] = [
        ReportKind::Differences.columns(),
        ReportKind::Orphans.columns(),
        &[Column::CommunityUuid, Column::Reason],
    ];
    // An app by id, one by display name (`Wikis`), and a name no app has.
    for app in ["Blog", "Wikis", "Bookmarks"] {
        for map in &maps {
            for wanted in kinds {
                let mut rows = 0u64;
                let r = report::scan(data, name, app, wanted, map, |values, line| {
                    assert_eq!(values.len(), wanted.len());
                    assert!(line >= 1);
                    for (c, v) in wanted.iter().zip(values) {
                        assert!(c.optional() || v.is_some(), "{c:?} missing");
                        if let (Values::Uuid, Some(v)) = (c.values(), v) {
                            assert_eq!(v.len(), 36, "{v:?}");
                        }
                    }
                    rows += 1;
                    Ok(())
                });
                match r {
                    Ok(n) => assert_eq!(n, rows),
                    Err(e) => assert!(!e.one_line().contains(lc_core::error::LINE_BREAKS)),
                }
            }
            // What the orphans reader makes of a row without a "community exists" column.
            let _ = report::scan(
                data,
                name,
                app,
                ReportKind::Orphans.columns(),
                map,
                |v, _| {
                    if let (None, Some(reason)) = (v[2], v[3]) {
                        let _ = lc_core::formats::report::exists_from_reason(reason);
                    }
                    Ok(())
                },
            );
        }
    }
});
