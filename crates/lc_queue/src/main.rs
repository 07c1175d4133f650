//! connections.dr.lc_queue: reads or clears the Communities replay queue of failed life-cycle
//! events (`LC_EVENT_REPLAY`), by remote application, by resource type or for one community, in
//! one wsadmin run.

fn main() -> std::process::ExitCode {
    lc_core::protocol::run::<lc_queue::Queue>()
}
