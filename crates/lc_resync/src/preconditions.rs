//! The preconditions the script reads before any call: the scheduler task and the replay queue.

use lc_core::replay::{self, RETRY_TASK};
use lc_core::wsadmin::Output;
use serde::Serialize;
use std::collections::BTreeMap;

/// The preconditions as the script read them.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Preconditions {
    pub task: String,
    /// The scheduler task's status: must be SCHEDULED.
    pub task_status: String,
    /// Queued events per application (from the summary table).
    pub queued: BTreeMap<String, u64>,
    /// Queued events in all: must be 0.
    pub queued_total: u64,
    pub met: bool,
    /// What `viewQueuedEventsSummary` returned (its last row), when the queue was not empty.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary_returned: Option<String>,
    #[serde(skip)]
    count: String,
}

impl Preconditions {
    pub(crate) fn read(out: &Output) -> Preconditions {
        let queued = replay::summary(out, "queue").unwrap_or_default();
        let mut p = Preconditions {
            task: RETRY_TASK.to_string(),
            queued_total: queued.values().sum(),
            queued,
            ..Preconditions::default()
        };
        if let Some(r) = out.tagged("refused").next() {
            p.task_status = r.field(0).to_string();
            p.count = r.field(1).to_string();
            p.summary_returned = Some(r.field(2).to_string()).filter(|s| s != "None");
        } else if let Some(r) = out.tagged("preconditions").next() {
            p.task_status = r.field(0).to_string();
            p.met = true;
        }
        p
    }

    /// The one-line refusal, when the script did not go on.
    pub(crate) fn refusal(&self) -> Option<String> {
        if self.met {
            return None;
        }
        let mut why = Vec::new();
        let mut todo = Vec::new();
        if self.task_status != "SCHEDULED" {
            why.push(format!(
                "{} is {}, not SCHEDULED",
                self.task, self.task_status
            ));
            todo.push(format!(
                "resume {} (connections.dr.lc_scheduler, state resumed)",
                self.task
            ));
        }
        let queue_empty = self.count.parse::<u64>() == Ok(0);
        if !queue_empty {
            let per_app: Vec<String> = self
                .queued
                .iter()
                .filter(|(_, n)| **n > 0)
                .map(|(a, n)| format!("{a} {n}"))
                .collect();
            why.push(if per_app.is_empty() {
                format!(
                    "the replay queue is not empty (viewQueuedEventsSummary returned {})",
                    self.summary_returned.as_deref().unwrap_or("?")
                )
            } else {
                format!(
                    "the replay queue is not empty ({} queued events: {})",
                    self.queued_total,
                    per_app.join(", ")
                )
            });
            todo.push(
                "let the replay drain the queue or clear it (connections.dr.lc_queue)".into(),
            );
        }
        Some(format!(
            "refusing to resync: {}; {}, then run again",
            why.join(" and "),
            todo.join(", ")
        ))
    }
}
