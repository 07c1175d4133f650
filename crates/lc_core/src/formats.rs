//! The file layouts that no public document fixes, and so are ours (admin-surface.md §5, §6):
//! the export XML written by `exportSyncedResourceInfo` and the header labels of the HTML sync
//! reports. The simulated cell writes them from here and the readers look for them from here, so
//! that a change, once real output has been seen, is made in one place.

/// Export XML (`<App>.xml`): a root element naming the application, one record per resource.
///
/// ```xml
/// <syncedResources application="Blog" resourceType="community">
///   <resource id="OBJECT-ID" communityUuid="UUID">
///     <community name="..." visibility="public" moderation="none" theme="default"/>
///   </resource>
/// </syncedResources>
/// ```
pub mod export {
    pub const ROOT: &str = "syncedResources";
    pub const ATTR_APPLICATION: &str = "application";
    pub const ATTR_RESOURCE_TYPE: &str = "resourceType";
    pub const RESOURCE: &str = "resource";
    pub const ATTR_ID: &str = "id";
    pub const ATTR_COMMUNITY_UUID: &str = "communityUuid";
    /// The app's copy of the community's state, as attributes named after the fields.
    pub const COMMUNITY: &str = "community";
    pub const ATTR_NAME: &str = "name";
    /// A comment every file written by the simulated cell carries.
    pub const SIMULATED_NOTE: &str =
        "Written by the lc-sim simulated Connections cell; the layout is lc-recover's own.";
}

/// The community fields compared between Communities and an application.
pub const FIELDS: &[&str] = &["visibility", "moderation", "theme", "name"];

/// HTML sync reports (`generateSyncReports`).
pub mod report {
    /// `<App>` + this = the differences report.
    pub const DIFFERENCES_SUFFIX: &str = "_communityDifferences.html";
    /// `<App>` + this = the orphans report.
    pub const ORPHANS_SUFFIX: &str = "_orphanedRemoteApplications.html";

    /// A column the readers look for, by the header text the report prints.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
    pub enum Column {
        CommunityUuid,
        CommunityName,
        Field,
        CommunitiesValue,
        ApplicationValue,
        ObjectId,
        OldCommunityUuid,
        CommunityExists,
    }

    impl Column {
        /// The key a user names in `column_map`.
        pub fn key(self) -> &'static str {
            match self {
                Column::CommunityUuid => "community_uuid",
                Column::CommunityName => "community_name",
                Column::Field => "field",
                Column::CommunitiesValue => "communities_value",
                Column::ApplicationValue => "application_value",
                Column::ObjectId => "object_id",
                Column::OldCommunityUuid => "old_community_uuid",
                Column::CommunityExists => "community_exists",
            }
        }
    }

    /// The default header labels, as the (simulated) reports print them.
    pub const LABELS: &[(Column, &str)] = &[
        (Column::CommunityUuid, "Community UUID"),
        (Column::CommunityName, "Community Name"),
        (Column::Field, "Attribute"),
        (Column::CommunitiesValue, "Communities Value"),
        (Column::ApplicationValue, "Application Value"),
        (Column::ObjectId, "Object Identifying Id"),
        (Column::OldCommunityUuid, "Old Community UUID"),
        (Column::CommunityExists, "Community Exists"),
    ];

    /// Columns of the differences report, in the order the simulated cell writes them.
    pub const DIFFERENCES_COLUMNS: &[Column] = &[
        Column::CommunityName,
        Column::CommunityUuid,
        Column::Field,
        Column::CommunitiesValue,
        Column::ApplicationValue,
    ];

    /// Columns of the orphans report, in the order the simulated cell writes them.
    pub const ORPHANS_COLUMNS: &[Column] = &[
        Column::ObjectId,
        Column::OldCommunityUuid,
        Column::CommunityExists,
    ];

    /// The default label of a column.
    pub fn label(c: Column) -> &'static str {
        LABELS
            .iter()
            .find(|(k, _)| *k == c)
            .map(|(_, l)| *l)
            .unwrap_or("")
    }
}

/// The replay-queue tables printed by `CommunitiesQEventService.viewQueuedEvents…` (admin-surface.md
/// §5 names the summary's columns; the exact layout is not public, so this one is ours): a header
/// line, then one line per row, cells separated by [`queue::SEPARATOR`] and padded with spaces
/// (readers split on the separator and trim). The map a view returns (its last row) has the keys
/// below, in the same order as the columns.
pub mod queue {
    /// Between two cells of a line.
    pub const SEPARATOR: &str = " | ";
    /// `viewQueuedEventsSummary()`: one row per application.
    pub const SUMMARY_HEADERS: &[&str] = &["App Def Id", "Number of Events", "Earliest Created"];
    pub const SUMMARY_KEYS: &[&str] = &["remoteAppDefId", "numberOfEvents", "earliestCreated"];
    /// `viewQueuedEventsByRemoteAppDefId` / `…ByResourceType`: one row per event.
    pub const EVENT_HEADERS: &[&str] = &[
        "Event Id",
        "App Def Id",
        "Resource Type",
        "Resource Id",
        "Event Type",
        "Created",
    ];
    pub const EVENT_KEYS: &[&str] = &[
        "eventId",
        "remoteAppDefId",
        "resourceType",
        "resourceId",
        "eventType",
        "created",
    ];
}
