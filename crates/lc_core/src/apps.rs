//! The remote applications of Communities and how each is driven (admin-surface.md §3, §5, §6):
//! one table, used by the modules and by the simulated cell alike.

/// One remote application, by its case-sensitive `remoteAppDefId`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct App {
    /// The `remoteAppDefId`, also the widget definition id and the prefix of its report files.
    pub id: &'static str,
    /// The admin script that defines its service object.
    pub admin_script: &'static str,
    /// The object whose `exportSyncedResourceInfo` exports it.
    pub service: &'static str,
    /// Extra literal arguments after `(path, "community")` in the export call.
    pub export_extra: Option<&'static str>,
    /// Whether Lotus Connections 2.5 already had it.
    pub in_lc25: bool,
    /// Whether a new community gets its widget by default (so `assignRemoteApp` needs it removed first).
    pub default_widget: bool,
    /// The last argument of `assignRemoteApp`: the widget's column.
    pub assign_column: &'static str,
    /// The object (in `admin_script`) whose `syncAllCommunityShares()` repairs the app's community
    /// shares (HCL Connections 8; runbook step 10), if the app has one.
    pub share_service: Option<&'static str>,
}

pub const APPS: &[App] = &[
    App {
        id: "Activities",
        admin_script: "activitiesAdmin.py",
        service: "ActivityService",
        export_extra: None,
        in_lc25: true,
        default_widget: false,
        assign_column: "col2",
        share_service: Some("AccessControlService"),
    },
    App {
        id: "Blog",
        admin_script: "blogsAdmin.py",
        service: "BlogsAdminService",
        export_extra: None,
        in_lc25: true,
        default_widget: false,
        assign_column: "col2",
        share_service: None,
    },
    App {
        id: "IdeationBlog",
        admin_script: "blogsAdmin.py",
        service: "BlogsAdminService",
        export_extra: Some("IdeationBlog"),
        in_lc25: false,
        default_widget: false,
        assign_column: "col2",
        share_service: None,
    },
    App {
        id: "Files",
        admin_script: "filesAdmin.py",
        service: "FilesLibraryService",
        export_extra: None,
        in_lc25: true,
        default_widget: true,
        assign_column: "col2",
        share_service: Some("FilesDataIntegrityService"),
    },
    App {
        id: "Forum",
        admin_script: "forumsAdmin.py",
        service: "ForumsService",
        export_extra: None,
        in_lc25: false,
        default_widget: true,
        assign_column: "col2",
        share_service: None,
    },
    App {
        id: "Wiki",
        admin_script: "wikisAdmin.py",
        service: "WikisLibraryService",
        export_extra: None,
        in_lc25: true,
        default_widget: false,
        assign_column: "col2",
        share_service: None,
    },
    App {
        id: "StatusUpdates",
        admin_script: "newsAdmin.py",
        service: "NewsMicrobloggingService",
        export_extra: None,
        in_lc25: false,
        default_widget: true,
        assign_column: "col2statusposts",
        share_service: None,
    },
];

/// The Communities admin script and its objects.
pub const COMMUNITIES_SCRIPT: &str = "communitiesAdmin.py";

/// The app with this exact id, if any.
pub fn by_id(id: &str) -> Option<&'static App> {
    APPS.iter().find(|a| a.id == id)
}

/// Every app id, comma-separated, for error messages.
pub fn ids() -> String {
    APPS.iter().map(|a| a.id).collect::<Vec<_>>().join(", ")
}

/// Checks a list of app ids: each known, none twice. The message names the first bad one.
pub fn validate_ids(option: &str, ids_given: &[String]) -> crate::Result<Vec<&'static App>> {
    let mut out: Vec<&'static App> = Vec::new();
    for id in ids_given {
        let app = by_id(id).ok_or_else(|| {
            crate::Error::invalid(format!(
                "{option}: unknown application id {id:?}; known ids (case-sensitive): {}",
                ids()
            ))
        })?;
        if !out.contains(&app) {
            out.push(app);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_checked() {
        assert_eq!(APPS.len(), 7);
        assert!(by_id("blog").is_none());
        let err = validate_ids("remote_apps", &["Blog".into(), "Blogs\")".into()]).unwrap_err();
        assert_eq!(
            err.one_line(),
            "remote_apps: unknown application id \"Blogs\\\")\"; known ids (case-sensitive): Activities, Blog, IdeationBlog, Files, Forum, Wiki, StatusUpdates"
        );
    }
}
