//! The progress lines of an all-communities pass, in the output or in the tail of one cut off.

use lc_core::wsadmin;
use std::sync::OnceLock;

/// One progress line of an all-communities pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    pub processed: u64,
    pub last_community_uuid: String,
}

/// Reads `Total Processed: N   Last processed communityUuid: <uuid>`, as
/// `resyncRemoteAppsForAllCommunities` prints every ten communities (admin-surface.md §7).
pub fn parse_progress(line: &str) -> Option<Progress> {
    static RE: OnceLock<regex::Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        regex::Regex::new(
            r"(?i)^\s*Total\s+Processed:\s*(\d+)\s+Last\s+processed\s+communityUuid:\s*(\S+)\s*$",
        )
        .expect("valid pattern")
    });
    let c = re.captures(line)?;
    let uuid = c[2].to_string();
    if !lc_core::validate::is_uuid(&uuid) {
        return None;
    }
    Some(Progress {
        processed: c[1].parse().ok()?,
        last_community_uuid: uuid,
    })
}

/// The last progress line of a pass's output, and whether it printed `Done.`.
pub fn read_progress(lines: &[&str]) -> (Option<Progress>, bool) {
    let last = lines.iter().rev().find_map(|l| parse_progress(l));
    let done = lines
        .iter()
        .any(|l| l.trim().trim_end_matches('.').eq_ignore_ascii_case("done"));
    (last, done)
}

/// The lines the all-communities pass `a:<index>` printed, from the tail of an output that was
/// cut off while it ran: after its `begin` record, or the whole tail when that record scrolled
/// out of it and nothing else was printed since. `None` when the tail shows another call.
pub(crate) fn pass_in_tail(tail: &str, index: usize) -> Option<Vec<&str>> {
    let lines: Vec<&str> = tail.lines().collect();
    let label = format!("a:{index}");
    // The last record that is not a `call` record (the script prints one before each call).
    let last = lines.iter().enumerate().rev().find_map(|(n, l)| {
        wsadmin::parse_records(l)
            .into_iter()
            .next()
            .filter(|r| r.tag != "call")
            .map(|r| (n, r))
    });
    let from = match last {
        None => 0,
        Some((n, r)) if r.tag == "begin" && r.field(0) == label => n + 1,
        Some(_) => return None,
    };
    Some(
        lines[from..]
            .iter()
            .copied()
            .filter(|l| !l.starts_with(wsadmin::MARKER))
            .collect(),
    )
}
