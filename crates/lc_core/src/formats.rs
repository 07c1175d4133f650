//! The file layouts that no public document fixes, and so are ours (admin-surface.md §5, §6):
//! the export XML written by `exportSyncedResourceInfo` and the header labels of the HTML sync
//! reports (and the other labels a report may print for them). The simulated cell writes them
//! from here and the readers look for them from here, so that a change, once real output has been
//! seen, is made in one place.

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

/// HTML sync reports (`generateSyncReports`). Their layout and labels are not documented
/// (admin-surface.md §6): the readers find columns by the labels below, never by position.
pub mod report {
    /// `<App>` + this = the differences report (`<App>`: the app's id or one of its names).
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
        /// Why a resource is an orphan, in words (optional; orphans report).
        Reason,
    }

    /// What a column's cells must hold for the column to be the one its label says.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Values {
        /// `8-4-4-4-12` hexadecimal digits.
        Uuid,
        /// yes, no, true, false, y, n, 1, 0 (any case).
        YesNo,
        /// Any text but the empty one.
        NonEmpty,
        /// Any text.
        Text,
    }

    impl Column {
        /// Every column, in the order of `column_map`'s keys in messages.
        pub const ALL: &'static [Column] = &[
            Column::CommunityUuid,
            Column::CommunityName,
            Column::Field,
            Column::CommunitiesValue,
            Column::ApplicationValue,
            Column::ObjectId,
            Column::OldCommunityUuid,
            Column::CommunityExists,
            Column::Reason,
        ];

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
                Column::Reason => "reason",
            }
        }

        /// What its cells hold.
        pub fn values(self) -> Values {
            match self {
                Column::CommunityUuid | Column::OldCommunityUuid => Values::Uuid,
                Column::CommunityExists => Values::YesNo,
                Column::ObjectId => Values::NonEmpty,
                _ => Values::Text,
            }
        }

        /// Whether a report may lack it: then "community exists" comes from the reason's words
        /// ([`exists_from_reason`]), or is unknown.
        pub fn optional(self) -> bool {
            matches!(self, Column::CommunityExists | Column::Reason)
        }

        /// The labels it goes by, most specific first; the first is the one the simulated cell
        /// prints by default.
        pub fn labels(self) -> &'static [&'static str] {
            SYNONYMS
                .iter()
                .find(|(c, _)| *c == self)
                .map(|(_, l)| *l)
                .unwrap_or(&[])
        }
    }

    /// In a label, stands for the application the report is about: its id or any of its
    /// [`crate::apps::App::names`] ("Value in Blogs", "Wikis Value").
    pub const APP: &str = "<app>";

    /// The labels each column may have in a report, most specific first. Matching folds case and
    /// ignores white space and punctuation (`"COMMUNITY UUID:"`, `"Community-Uuid"`); where two
    /// columns of a header match one key, the one with the earlier label wins, and a tie is
    /// refused, never guessed. A user's `column_map` labels come before these.
    pub const SYNONYMS: &[(Column, &[&str])] = &[
        (
            Column::CommunityUuid,
            &[
                "Community UUID",
                "Community Id",
                "Community Identifier",
                "UUID",
            ],
        ),
        (
            Column::CommunityName,
            &["Community Name", "Community", "Community Title", "Name"],
        ),
        (
            Column::Field,
            &[
                "Attribute",
                "Property",
                "Field",
                "Setting",
                "Differing Attribute",
            ],
        ),
        (
            Column::CommunitiesValue,
            &[
                "Communities Value",
                "Value in Communities",
                "Community Value",
                "Communities",
            ],
        ),
        (
            Column::ApplicationValue,
            &[
                "Application Value",
                "Value in <app>",
                "<app> Value",
                "Remote Application Value",
                "Remote Value",
                "<app>",
            ],
        ),
        (
            Column::ObjectId,
            &[
                "Object Identifying Id",
                "Object Id",
                "Object Identifier",
                "Resource Id",
                "Remote Resource Id",
            ],
        ),
        (
            Column::OldCommunityUuid,
            &[
                "Old Community UUID",
                "Old Community Id",
                "Previous Community UUID",
                "Community UUID",
            ],
        ),
        (Column::CommunityExists, &["Community Exists", "Exists"]),
        (
            Column::Reason,
            &[
                "Reason",
                "Description",
                "Orphan Reason",
                "Status",
                "Details",
            ],
        ),
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
        c.labels().first().copied().unwrap_or("")
    }

    /// Words of a reason text saying that the old community is gone.
    pub const REASON_GONE: &[&str] = &[
        "does not exist",
        "doesn't exist",
        "no longer exists",
        "not found",
        "deleted",
    ];
    /// Words of a reason text saying that the community is there but lacks the app's widget.
    pub const REASON_WIDGET: &[&str] = &["widget", "not installed"];

    /// Whether the old community exists, as a reason text says it: `Some(false)` for words of
    /// [`REASON_GONE`] alone, `Some(true)` for words of [`REASON_WIDGET`] alone, else `None`
    /// (both, or neither: not guessed).
    pub fn exists_from_reason(reason: &str) -> Option<bool> {
        let text = reason
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase();
        let gone = REASON_GONE.iter().any(|w| text.contains(w));
        let widget = REASON_WIDGET.iter().any(|w| text.contains(w));
        match (gone, widget) {
            (true, false) => Some(false),
            (false, true) => Some(true),
            _ => None,
        }
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
