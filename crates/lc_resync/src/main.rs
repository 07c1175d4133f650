//! connections.dr.lc_resync: brings communities and their remote applications back in step from
//! the administrator's side, so that no owner has to toggle an access setting: resyncs the
//! communities of the differences reports (`resyncRemoteAppsForCommunity…`), or every community
//! for some applications (`resyncRemoteAppsForAllCommunities`, resumed where an earlier run
//! stopped), and repairs the community shares of Files and Activities
//! (`syncAllCommunityShares`), all in one wsadmin run. It refuses to start while the replay queue
//! is not empty or its scheduler task is not scheduled.

fn main() -> std::process::ExitCode {
    lc_core::protocol::run::<lc_resync::Resync>()
}
