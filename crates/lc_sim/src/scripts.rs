//! The files the cell lays out for wsadmin: `wsadmin.sh`, the admin scripts (`communitiesAdmin.py`,
//! …) that define the documented objects and methods only, and the Jython runner and proxy they
//! use. The method table here is the one list of what each object offers.

use std::path::Path;

use anyhow::{Context as _, Result};

use crate::model::Cell;
use crate::util;

/// The Jython runner: argv, the script, WASX7017E/WASX7015E and 105.
pub const BOOTSTRAP: &str = include_str!("../jython/bootstrap.py");
/// The Jython proxy objects the admin scripts build on.
pub const PROXY: &str = include_str!("../jython/lcsim_proxy.py");

/// One documented method: its name and how many arguments it takes.
#[derive(Debug, Clone, Copy)]
pub struct Method {
    pub name: &'static str,
    pub min: usize,
    pub max: usize,
}

const fn m(name: &'static str, n: usize) -> Method {
    Method {
        name,
        min: n,
        max: n,
    }
}

/// One admin object and its methods.
#[derive(Debug, Clone)]
pub struct Object {
    pub name: &'static str,
    pub methods: Vec<Method>,
}

/// One admin script: the feature it loads and its objects.
#[derive(Debug, Clone)]
pub struct Script {
    pub file: &'static str,
    /// As in "`<Feature>` Administration initialized."
    pub feature: &'static str,
    /// The `name=` of the MBean it connects to.
    pub mbean: &'static str,
    pub objects: Vec<Object>,
}

const SCHEDULER_METHODS: [Method; 3] = [
    m("getTaskDetails", 1),
    m("pauseSchedulingTask", 1),
    m("resumeSchedulingTask", 1),
];

/// The admin scripts of a cell at `version` with `apps` deployed.
pub fn admin_scripts(version: &str, apps: &[String]) -> Vec<Script> {
    let has = |id: &str| apps.iter().any(|a| a == id);
    let hcl8 = version == "hcl8";
    let mut out = Vec::new();
    let mut communities = vec![
        Object {
            name: "CommunitiesQEventService",
            methods: vec![
                m("viewQueuedEventsSummary", 0),
                m("viewQueuedEventsByRemoteAppDefId", 3),
                m("viewQueuedEventsByResourceType", 3),
                m("clearQueuedEventsByRemoteAppDefId", 1),
                m("clearQueuedEventsByResourceType", 1),
                m("clearQueuedEventsByResourceId", 2),
            ],
        },
        Object {
            name: "CommunitiesScheduler",
            methods: SCHEDULER_METHODS.to_vec(),
        },
        Object {
            name: "CommunitiesRemoteAppService",
            methods: vec![
                m("generateSyncReports", 2),
                m("assignRemoteApp", 5),
                m("resyncRemoteAppsForCommunity", 1),
                m("resyncRemoteAppsForCommunityAndWidget", 2),
                m("resyncRemoteAppsForAllCommunities", 1),
                m("restartResyncRemoteAppsForAllCommunities", 2),
            ],
        },
        Object {
            name: "CommunitiesService",
            methods: vec![m("fetchCommById", 1), m("removeAllWidgetsByWidgetDefId", 2)],
        },
    ];
    if version == "lc25" {
        communities.push(Object {
            name: "CommunitiesSchedulerService",
            methods: SCHEDULER_METHODS.to_vec(),
        });
    }
    out.push(Script {
        file: lc_core::apps::COMMUNITIES_SCRIPT,
        feature: "Communities",
        mbean: "CommunitiesAdministrationService",
        objects: communities,
    });
    let export = m("exportSyncedResourceInfo", 2);
    if has("Activities") {
        let mut objects = vec![Object {
            name: "ActivityService",
            methods: vec![
                export,
                m("fetchActivitiesByCommunityExId", 1),
                m("deleteActivities", 1),
            ],
        }];
        if hcl8 {
            objects.push(Object {
                name: "AccessControlService",
                methods: vec![m("syncAllCommunityShares", 0)],
            });
        }
        out.push(Script {
            file: "activitiesAdmin.py",
            feature: "Activities",
            mbean: "ActivitiesAdministrationService",
            objects,
        });
    }
    if has("Blog") || has("IdeationBlog") {
        out.push(Script {
            file: "blogsAdmin.py",
            feature: "Blogs",
            mbean: "BlogsAdministrationService",
            objects: vec![Object {
                name: "BlogsAdminService",
                methods: vec![
                    Method {
                        name: "exportSyncedResourceInfo",
                        min: 2,
                        max: 3,
                    },
                    m("deleteWeblog", 1),
                ],
            }],
        });
    }
    if has("Files") {
        let mut objects = vec![Object {
            name: "FilesLibraryService",
            methods: vec![export, m("delete", 1)],
        }];
        if hcl8 {
            objects.push(Object {
                name: "FilesDataIntegrityService",
                methods: vec![m("syncAllCommunityShares", 0)],
            });
        }
        out.push(Script {
            file: "filesAdmin.py",
            feature: "Files",
            mbean: "FilesAdministrationService",
            objects,
        });
    }
    if has("Forum") {
        out.push(Script {
            file: "forumsAdmin.py",
            feature: "Forums",
            mbean: "ForumsAdministrationService",
            objects: vec![Object {
                name: "ForumsService",
                methods: vec![
                    export,
                    m("fetchForums", 0),
                    m("fetchForumsByName", 1),
                    m("filterInput", 3),
                    m("deleteForums", 1),
                ],
            }],
        });
    }
    if has("Wiki") {
        out.push(Script {
            file: "wikisAdmin.py",
            feature: "Wikis",
            mbean: "WikisAdministrationService",
            objects: vec![Object {
                name: "WikisLibraryService",
                methods: vec![export, m("delete", 1)],
            }],
        });
    }
    if has("StatusUpdates") {
        out.push(Script {
            file: "newsAdmin.py",
            feature: "News",
            mbean: "NewsAdministrationService",
            objects: vec![Object {
                name: "NewsMicrobloggingService",
                methods: vec![export, m("deleteMicroblogs", 1)],
            }],
        });
    }
    out
}

/// The method `object.method` of this cell, if it is one.
pub fn find_method(cell: &Cell, object: &str, method: &str) -> Option<Method> {
    admin_scripts(&cell.config.version, &cell.config.apps)
        .into_iter()
        .flat_map(|s| s.objects)
        .find(|o| o.name == object)
        .and_then(|o| o.methods.into_iter().find(|x| x.name == method))
}

/// The Python text of one admin script.
pub fn admin_script_text(s: &Script) -> String {
    let mut objects = String::new();
    for o in &s.objects {
        let methods: Vec<String> = o
            .methods
            .iter()
            .map(|x| format!("(\"{}\", {}, {})", x.name, x.min, x.max))
            .collect();
        objects.push_str(&format!(
            "    (\"{}\", [{}]),\n",
            o.name,
            methods.join(", ")
        ));
    }
    let names: Vec<&str> = s.objects.iter().map(|o| o.name).collect();
    format!(
        "# {file}: the {feature} administration objects of the lc-sim simulated Connections cell\n\
         # ({names}). Each call is carried out by the cell; see lcsim_proxy.py.\n\
         __import__(\"lcsim_proxy\").load(globals(), \"{file}\", \"{feature}\", \"{mbean}\", [\n{objects}])\n",
        file = s.file,
        feature = s.feature,
        mbean = s.mbean,
        names = names.join(", "),
    )
}

/// Single-quotes a path for a POSIX shell.
fn sh_quote(p: &Path) -> String {
    format!("'{}'", p.to_string_lossy().replace('\'', "'\\''"))
}

/// `wsadmin.sh`: hands everything to `lc-sim wsadmin`.
pub fn wsadmin_sh(lc_sim: &Path, cell_dir: &Path) -> String {
    format!(
        "#!/bin/sh\n\
         # wsadmin of the lc-sim simulated Connections cell: the wsadmin client stand-in.\n\
         exec {} wsadmin --cell {} -- \"$@\"\n",
        sh_quote(lc_sim),
        sh_quote(cell_dir)
    )
}

fn write_if_changed(path: &Path, text: &str, mode: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    if std::fs::read_to_string(path).ok().as_deref() != Some(text) {
        util::write_atomic(path, text.as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
    }
    Ok(())
}

/// Lays out (or refreshes, when this binary's version differs) the wsadmin side of a cell.
pub fn ensure(cell: &Cell) -> Result<()> {
    let bin = &cell.config.profile_bin;
    let lib = cell.dir.join("sim");
    std::fs::create_dir_all(bin)?;
    std::fs::create_dir_all(&lib)?;
    write_if_changed(&lib.join("bootstrap.py"), BOOTSTRAP, 0o644)?;
    write_if_changed(&lib.join("lcsim_proxy.py"), PROXY, 0o644)?;
    write_if_changed(
        &cell.config.wsadmin_path,
        &wsadmin_sh(&cell.config.lc_sim, &cell.dir),
        0o755,
    )?;
    let profile = bin.parent().unwrap_or(bin);
    for s in admin_scripts(&cell.config.version, &cell.config.apps) {
        let path = cell.config.dialect.script_path(&cell.dir, profile, s.file);
        if let Some(folder) = path.parent() {
            std::fs::create_dir_all(folder)?;
        }
        write_if_changed(&path, &admin_script_text(&s), 0o644)?;
    }
    Ok(())
}
