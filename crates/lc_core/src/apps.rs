//! The remote applications of Communities and how each is driven (admin-surface.md §3, §5, §6):
//! one table, used by the modules and by the simulated cell alike.

/// One remote application, by its case-sensitive `remoteAppDefId`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct App {
    /// The `remoteAppDefId`, also the widget definition id and the prefix of its report files.
    pub id: &'static str,
    /// The names the product prints for it besides the id, display name first (`Wiki` → `Wikis`:
    /// the documentation shows `Wikis_communityDifferences.html`). Which of them a real report or
    /// label uses is not documented: this list is ours (admin-surface.md §6).
    pub names: &'static [&'static str],
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
        names: &["Activities", "Activity"],
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
        names: &["Blogs", "Blog"],
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
        names: &["Ideation Blogs", "Ideation Blog", "IdeationBlogs"],
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
        names: &["Files", "File"],
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
        names: &["Forums", "Forum"],
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
        names: &["Wikis", "Wiki"],
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
        names: &["Status Updates", "Status Update", "News", "Microblogging"],
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

/// The app that `name` stands for: its id or one of its [`App::names`], compared without regard
/// to case, spaces, `-` or `_` (`"status updates"`, `"WIKIS"`, `"Ideation_Blog"`).
pub fn by_name(name: &str) -> Option<&'static App> {
    let key = name_key(name);
    if key.is_empty() {
        return None;
    }
    APPS.iter()
        .find(|a| name_key(a.id) == key || a.names.iter().any(|n| name_key(n) == key))
}

/// A name folded for [`by_name`]: lower case, without spaces, `-` or `_`.
fn name_key(name: &str) -> String {
    name.chars()
        .filter(|c| !matches!(c, ' ' | '-' | '_'))
        .flat_map(char::to_lowercase)
        .collect()
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

    #[test]
    fn names_lead_to_their_app() {
        assert_eq!(by_name("Wikis").map(|a| a.id), Some("Wiki"));
        assert_eq!(
            by_name("status updates").map(|a| a.id),
            Some("StatusUpdates")
        );
        assert_eq!(by_name("Ideation_Blog").map(|a| a.id), Some("IdeationBlog"));
        assert_eq!(by_name("Blog").map(|a| a.id), Some("Blog"));
        assert!(by_name("").is_none());
        assert!(by_name("Bookmarks").is_none());
        for a in APPS {
            assert_eq!(by_name(a.id).map(|x| x.id), Some(a.id));
            for n in a.names {
                assert_eq!(by_name(n).map(|x| x.id), Some(a.id), "{n}");
            }
        }
    }
}
