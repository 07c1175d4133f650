//! connections.dr.lc_scheduler: pauses, resumes or reads a Communities scheduler task, such as
//! `LifecycleRetryQueuedEvents` (the replay of failed life-cycle events), in one wsadmin run.
//! It reads `getTaskDetails` first and pauses or resumes only when needed.

fn main() -> std::process::ExitCode {
    lc_core::protocol::run::<lc_scheduler::Scheduler>()
}
