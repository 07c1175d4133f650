//! What the sync reports must list, computed from the state by the same comparison that
//! `generateSyncReports` uses: the ground truth tests compare the tools' findings with.

use std::collections::{BTreeMap, HashSet};

use lc_core::formats::FIELDS;
use serde::Serialize;

use crate::files::Record;
use crate::model::{Community, World};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Difference {
    pub application: String,
    pub community_uuid: String,
    pub community_name: String,
    pub field: String,
    pub communities_value: String,
    pub application_value: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Orphan {
    pub application: String,
    pub object_id: String,
    pub old_community_uuid: String,
    pub community_exists: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Contact {
    pub uuid: String,
    pub name: String,
    pub created_by: String,
    pub applications: Vec<String>,
    pub fields: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Truth {
    pub differences: Vec<Difference>,
    pub orphans: Vec<Orphan>,
    pub communities_to_contact: Vec<Contact>,
    /// Per application: stale events still queued (should be cleared before the replay resumes).
    pub stale_events: BTreeMap<String, u64>,
    /// Per application: healthy events still queued (must survive a scoped clear).
    pub healthy_events: BTreeMap<String, u64>,
}

/// A field's value as Communities reports it: communities in Trash show as `private`.
pub fn communities_value<'a>(c: &'a Community, field: &str) -> &'a str {
    match field {
        "name" => &c.name,
        "visibility" if c.in_trash => "private",
        "visibility" => &c.visibility,
        "moderation" => &c.moderation,
        _ => &c.theme,
    }
}

/// Compares one application's records with Communities: the report rows, in record order. One
/// difference row per (community, field), one orphan row per resource.
pub struct Comparer<'w> {
    world: &'w World,
    app: String,
    seen: HashSet<(String, &'static str)>,
}

impl<'w> Comparer<'w> {
    pub fn new(world: &'w World, app: &str) -> Self {
        Comparer {
            world,
            app: app.to_string(),
            seen: HashSet::new(),
        }
    }

    pub fn add(&mut self, r: &Record, diffs: &mut Vec<Difference>, orphans: &mut Vec<Orphan>) {
        match self.world.communities.get(&r.community_uuid) {
            Some(c) if c.widgets.contains(&self.app) => {
                for f in FIELDS {
                    let cv = communities_value(c, f);
                    let av = r.copy.field(f);
                    if cv != av && self.seen.insert((c.uuid.clone(), f)) {
                        diffs.push(Difference {
                            application: self.app.clone(),
                            community_uuid: c.uuid.clone(),
                            community_name: c.name.clone(),
                            field: f.to_string(),
                            communities_value: cv.to_string(),
                            application_value: av.to_string(),
                        });
                    }
                }
            }
            found => orphans.push(Orphan {
                application: self.app.clone(),
                object_id: r.id.clone(),
                old_community_uuid: r.community_uuid.clone(),
                community_exists: found.is_some(),
            }),
        }
    }
}

/// Whether a difference is one an owner (or a resync) must act on. Wikis report moderation
/// differences that do not matter (admin-surface.md §6), and no resync carries a Wiki's
/// moderation (§7): such a row is listed, but puts nobody on the contact list.
pub fn needs_owner(d: &Difference) -> bool {
    !(d.application == "Wiki" && d.field == "moderation")
}

/// The application's resources as records.
pub fn records<'w>(world: &'w World, app: &'w str) -> impl Iterator<Item = Record> + 'w {
    world
        .resources
        .iter()
        .filter(move |r| r.app == app)
        .map(|r| Record {
            id: r.id.clone(),
            community_uuid: r.community_uuid.clone(),
            copy: r.copy.clone(),
        })
}

/// The ground truth of the cell, for the applications deployed.
pub fn compute(world: &World, apps: &[String]) -> Truth {
    let mut differences = Vec::new();
    let mut orphans = Vec::new();
    for app in apps {
        let mut cmp = Comparer::new(world, app);
        for r in records(world, app) {
            cmp.add(&r, &mut differences, &mut orphans);
        }
    }
    let mut contacts: BTreeMap<String, Contact> = BTreeMap::new();
    for d in differences.iter().filter(|d| needs_owner(d)) {
        let c = &world.communities[&d.community_uuid];
        let e = contacts
            .entry(d.community_uuid.clone())
            .or_insert_with(|| Contact {
                uuid: c.uuid.clone(),
                name: c.name.clone(),
                created_by: c.created_by.name.clone(),
                applications: Vec::new(),
                fields: Vec::new(),
            });
        if !e.applications.contains(&d.application) {
            e.applications.push(d.application.clone());
        }
        if !e.fields.contains(&d.field) {
            e.fields.push(d.field.clone());
        }
    }
    let app_order = |a: &String| apps.iter().position(|x| x == a).unwrap_or(usize::MAX);
    let field_order = |f: &String| FIELDS.iter().position(|x| x == f).unwrap_or(usize::MAX);
    let communities_to_contact = contacts
        .into_values()
        .map(|mut c| {
            c.applications.sort_by_key(app_order);
            c.fields.sort_by_key(field_order);
            c
        })
        .collect();
    let mut stale_events: BTreeMap<String, u64> = apps.iter().map(|a| (a.clone(), 0)).collect();
    let mut healthy_events = stale_events.clone();
    for e in &world.queue {
        let m = if e.stale {
            &mut stale_events
        } else {
            &mut healthy_events
        };
        *m.entry(e.app.clone()).or_default() += 1;
    }
    Truth {
        differences,
        orphans,
        communities_to_contact,
        stale_events,
        healthy_events,
    }
}
