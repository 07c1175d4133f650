//! The replay of failed life-cycle events (admin-surface.md §4, §5): the scheduler task that
//! replays them and the queue that holds them. Several modules read both: lc_scheduler and
//! lc_queue change them, lc_resync checks them as its preconditions.

use crate::wsadmin::Output;
use std::collections::BTreeMap;

/// The scheduler task that replays the queued events.
pub const RETRY_TASK: &str = "LifecycleRetryQueuedEvents";

/// Jython 2.1 functions for a generated script that reads a scheduler task.
///
/// - `lcr_scheduler()` returns `(object, name)`: `CommunitiesScheduler`, or
///   `CommunitiesSchedulerService` where only that older name is defined; prints an `object`
///   record with the name.
/// - `lcr_details(s, name, task)` calls `getTaskDetails(task)`, prints the map as a `details`
///   record and returns its status (`SCHEDULED`, `RUNNING`, `SUSPENDED`), read from the map or,
///   failing that, from its printed form.
pub const SCHEDULER_JYTHON: &str = include_str!("../jython/scheduler.py");

/// Reads the `viewQueuedEventsSummary` table printed in the output section labelled `label`
/// ([`Output::section`]): queued events per application. The columns are found by their headers
/// (`crate::formats::queue`), not by position. `None` when the section was not printed.
pub fn summary(out: &Output, label: &str) -> Option<BTreeMap<String, u64>> {
    use crate::formats::queue::{SEPARATOR, SUMMARY_HEADERS};
    let mut columns: Option<(usize, usize)> = None;
    let mut counts = BTreeMap::new();
    for line in out.section(label)? {
        let cells: Vec<&str> = line.split(SEPARATOR.trim()).map(str::trim).collect();
        let position = |h: &str| cells.iter().position(|c| c.eq_ignore_ascii_case(h));
        if let (Some(app), Some(n)) = (position(SUMMARY_HEADERS[0]), position(SUMMARY_HEADERS[1])) {
            columns = Some((app, n));
            continue;
        }
        let Some((app_col, n_col)) = columns else {
            continue;
        };
        let app = cells.get(app_col).and_then(|a| crate::apps::by_id(a));
        let n = cells.get(n_col).and_then(|n| n.parse::<u64>().ok());
        if let (Some(app), Some(n)) = (app, n) {
            *counts.entry(app.id.to_string()).or_insert(0) += n;
        }
    }
    Some(counts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wsadmin::parse_records;

    fn output(text: &str) -> Output {
        Output {
            records: parse_records(text),
            text: text.to_string(),
        }
    }

    #[test]
    fn summary_by_header_in_any_column_order() {
        let out = output(
            "noise | 3\n@@lcr@@\tbegin\tbefore\nNumber of Events | App Def Id | Earliest Created\n\
             3                | Blog       | 2026-11-01 10:00:00\n\
             12               | Files      | 2026-11-02 10:00:00\n\
             1                | Unknown    | 2026-11-02 10:00:00\n\
             @@lcr@@\tend\tbefore\n@@lcr@@\tbegin\tafter\nApp Def Id | Number of Events\n@@lcr@@\tend\tafter\n",
        );
        let before = summary(&out, "before").unwrap();
        assert_eq!(before.len(), 2);
        assert_eq!((before["Blog"], before["Files"]), (3, 12));
        assert!(summary(&out, "after").unwrap().is_empty());
        assert!(summary(&out, "other").is_none());
    }
}
