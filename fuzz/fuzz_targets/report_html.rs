//! The HTML sync-report reader: `report::scan` for the differences and the orphans columns, with
//! the default labels and with a `column_map` taken from the input's first line. Invariants: no
//! panic; each row hands over exactly the columns asked for; the count returned is the rows
//! handed over; errors are one line.
#![no_main]

use lc_core::formats::report::Column;
use lc_core::report::{self, ColumnMap, ReportKind};
use libfuzzer_sys::fuzz_target;
use std::collections::HashMap;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let name = Path::new("/fuzz/Blog_communityDifferences.html");
    let mut maps = vec![ColumnMap::default()];
    // A first line `{"field": "Attribut", …}` is a column_map.
    if let Some(nl) = data.iter().position(|&b| b == b'\n') {
        if let Ok(o) = serde_json::from_slice::<HashMap<String, String>>(&data[..nl]) {
            match ColumnMap::new(&o) {
                Ok(m) => maps.push(m),
                Err(e) => assert!(!e.one_line().contains(lc_core::error::LINE_BREAKS)),
            }
        }
    }
    let kinds: [&[Column]; 3] = [
        ReportKind::Differences.columns(),
        ReportKind::Orphans.columns(),
        &[Column::CommunityUuid],
    ];
    for map in &maps {
        for wanted in kinds {
            let mut rows = 0u64;
            let r = report::scan(data, name, wanted, map, |values, line| {
                assert_eq!(values.len(), wanted.len());
                assert!(line >= 1);
                rows += 1;
                Ok(())
            });
            match r {
                Ok(n) => assert_eq!(n, rows),
                Err(e) => assert!(!e.one_line().contains(lc_core::error::LINE_BREAKS)),
            }
        }
    }
});
