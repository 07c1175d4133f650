//! `lc-sim damage`: changes the state the way restoring a database to an older backup does, and
//! records what it did (the report rows it must cause, the stale events it queued).
//!
//! Communities restored: communities created since the backup vanish (their resources become
//! orphans whose community is gone); visibility, moderation, theme or name changes made since
//! revert in Communities (a difference for every app holding the community); widgets added since
//! are gone while the app keeps the resource (orphans whose community exists); communities deleted
//! since come back. An application restored: its copies revert (differences for it alone); the
//! resources it deleted since come back (orphans); the ones it created since vanish. Either way,
//! stale events of the restored scope are queued, next to healthy events of other scopes.

use std::collections::HashSet;

use anyhow::{bail, Result};

use crate::dialect::Dialect;
use crate::init::{
    community_name, new_community, resources_for, MODERATIONS, THEMES, VISIBILITIES,
};
use crate::model::{Cell, Community, DamageRecord, Event, Tx};
use crate::util::{Rng, DAY_MS};

/// Options of `lc-sim damage`.
#[derive(Debug, Clone)]
pub struct DamageOptions {
    /// `communities` and/or application ids.
    pub restore: Vec<String>,
    pub backup_age_days: u32,
    /// Communities to move to Trash (they then show as `private`: false visibility differences).
    pub trash: usize,
}

fn other_value(rng: &mut Rng, field: &str, current: &str) -> String {
    let pool: &[&str] = match field {
        "visibility" => VISIBILITIES,
        "moderation" => MODERATIONS,
        "theme" => THEMES,
        _ => loop {
            let n = community_name(rng);
            if n != current {
                return n;
            }
        },
    };
    loop {
        let v = rng.pick(pool);
        if *v != current {
            return v.to_string();
        }
    }
}

fn pick_field(rng: &mut Rng) -> &'static str {
    match rng.below(20) {
        0..=7 => "visibility",
        8..=11 => "moderation",
        12..=16 => "theme",
        _ => "name",
    }
}

fn set_community_field(c: &mut Community, f: &str, v: String) {
    match f {
        "name" => c.name = v,
        "visibility" => c.visibility = v,
        "moderation" => c.moderation = v,
        _ => c.theme = v,
    }
}

const COMMUNITY_EVENTS: &[&str] = &[
    "community.updated",
    "community.visibility.changed",
    "community.widget.added",
    "community.widget.removed",
    "community.membership.changed",
    "community.deleted",
];

/// Applies the damage; returns what it did.
pub fn damage(cell: &Cell, o: &DamageOptions) -> Result<DamageRecord> {
    if o.restore.is_empty() {
        bail!("--restore needs `communities` and/or application ids");
    }
    for r in &o.restore {
        if r != "communities" && !cell.has_app(r) {
            bail!(
                "--restore: {r:?} is neither `communities` nor an application of this cell ({})",
                cell.config.apps.join(", ")
            );
        }
    }
    let apps = cell.config.apps.clone();
    cell.with_state(|tx| {
        tx.world_changed = true;
        let rng_seed = tx.world.seed ^ ((tx.world.damage.len() as u64 + 1) * 0x9E37_79B9);
        let mut d = Damager {
            tx,
            rng: Rng::new(rng_seed),
            dialect: cell.config.dialect,
            apps: &apps,
            touched: HashSet::new(),
            rec: DamageRecord {
                restore: o.restore.clone(),
                backup_age_days: o.backup_age_days,
                ..DamageRecord::default()
            },
            backup: 0,
            k: 0,
        };
        d.backup = d.tx.world.epoch - i64::from(o.backup_age_days) * DAY_MS;
        let n = d.tx.world.communities.len();
        d.k = (n * o.backup_age_days.clamp(1, 60) as usize / 400).max(2);
        if o.restore.iter().any(|r| r == "communities") {
            d.communities_restore();
        }
        for r in o.restore.iter().filter(|r| *r != "communities") {
            d.app_restore(r);
        }
        d.trash(o.trash);
        let rec = d.rec;
        tx.world.damage.push(rec.clone());
        rec
    })
}

struct Damager<'a> {
    tx: &'a mut Tx,
    rng: Rng,
    /// Community names come out in the dialect's languages.
    dialect: Dialect,
    apps: &'a [String],
    touched: HashSet<String>,
    rec: DamageRecord,
    backup: i64,
    k: usize,
}

impl Damager<'_> {
    /// A new value of `field` as the dialect's cell holds it.
    fn localized(&self, field: &str, value: String) -> String {
        if field == "name" {
            self.dialect.community_name(value)
        } else {
            value
        }
    }

    /// Communities not yet touched by this damage, created before the backup, passing `ok`.
    fn candidates(&self, ok: impl Fn(&Community) -> bool) -> Vec<String> {
        self.tx
            .world
            .communities
            .values()
            .filter(|c| !self.touched.contains(&c.uuid) && c.created <= self.backup && ok(c))
            .map(|c| c.uuid.clone())
            .collect()
    }

    fn choose(&mut self, mut pool: Vec<String>, n: usize) -> Vec<String> {
        let mut out = Vec::new();
        while out.len() < n && !pool.is_empty() {
            let i = self.rng.below(pool.len() as u64) as usize;
            let u = pool.swap_remove(i);
            self.touched.insert(u.clone());
            out.push(u);
        }
        out
    }

    fn has_resources(&self, uuid: &str, app: &str) -> bool {
        self.tx
            .world
            .resources
            .iter()
            .any(|r| r.community_uuid == uuid && r.app == app)
    }

    fn queue(&mut self, app: &str, rtype: &str, rid: String, stale: bool) {
        let span = (self.tx.world.epoch - self.backup).max(1) as u64;
        let created = if stale {
            self.backup + 1 + self.rng.below(span) as i64
        } else {
            self.tx.world.epoch - self.rng.below(span.min(DAY_MS as u64)) as i64
        };
        let event_type = if rtype == "community" {
            self.rng.pick(COMMUNITY_EVENTS).to_string()
        } else {
            "user.updated".to_string()
        };
        let id = self.tx.world.event_id();
        self.tx.world.queue.push(Event {
            id,
            app: app.to_string(),
            resource_type: rtype.to_string(),
            resource_id: rid,
            event_type,
            created,
            stale,
        });
        if stale {
            self.rec.stale_events += 1;
        } else {
            self.rec.healthy_events += 1;
        }
    }

    fn random_community(&mut self) -> String {
        let n = self.tx.world.communities.len().max(1) as u64;
        let i = self.rng.below(n) as usize;
        self.tx
            .world
            .communities
            .keys()
            .nth(i)
            .cloned()
            .unwrap_or_else(|| self.rng.uuid())
    }

    fn communities_restore(&mut self) {
        let k = self.k;
        // Created since the backup: gone from Communities, still in the apps.
        let mut vanished: Vec<String> = self
            .tx
            .world
            .communities
            .values()
            .filter(|c| c.created > self.backup)
            .map(|c| c.uuid.clone())
            .collect();
        if vanished.is_empty() {
            let pool = self.candidates(|c| !c.widgets.is_empty());
            vanished = self.choose(pool, 2);
        }
        for u in &vanished {
            self.touched.insert(u.clone());
            self.tx.world.communities.remove(u);
            for r in self
                .tx
                .world
                .resources
                .iter()
                .filter(|r| r.community_uuid == *u)
            {
                self.rec
                    .orphans
                    .push((r.app.clone(), r.id.clone(), u.clone(), false));
            }
        }
        // Settings changed since the backup: back to the old value in Communities only.
        let pool = self.candidates(|_| true);
        for u in self.choose(pool, k) {
            let f = pick_field(&mut self.rng);
            let Some(c) = self.tx.world.communities.get(&u).cloned() else {
                continue;
            };
            let old = other_value(&mut self.rng, f, crate::truth::communities_value(&c, f));
            let old = self.localized(f, old);
            if let Some(c) = self.tx.world.communities.get_mut(&u) {
                set_community_field(c, f, old);
            }
            for app in c.widgets.iter().filter(|a| self.apps.contains(a)) {
                if self.has_resources(&u, app) {
                    self.rec
                        .differences
                        .push((app.clone(), u.clone(), f.to_string()));
                }
            }
        }
        // Widgets added since the backup: gone from the community, kept by the app.
        let pool = self.candidates(|c| !c.widgets.is_empty());
        for u in self.choose(pool, k.div_ceil(2)) {
            let widgets = self.tx.world.communities[&u].widgets.clone();
            let app = self.rng.pick(&widgets).clone();
            if let Some(c) = self.tx.world.communities.get_mut(&u) {
                c.widgets.retain(|w| *w != app);
            }
            let backup = self.backup;
            for r in self.tx.world.resources.iter_mut() {
                if r.community_uuid == u && r.app == app {
                    r.created = backup + 1 + self.rng.below(DAY_MS as u64) as i64;
                    self.rec
                        .orphans
                        .push((app.clone(), r.id.clone(), u.clone(), true));
                }
            }
        }
        // Deleted since the backup: back in Communities (the apps had deleted their resources).
        for _ in 0..k.div_ceil(3) {
            let created = self.backup - self.rng.below(200 * DAY_MS as u64) as i64;
            let mut c = new_community(&mut self.rng, created, self.apps);
            c.name = self.dialect.community_name(c.name);
            self.touched.insert(c.uuid.clone());
            self.tx.world.communities.insert(c.uuid.clone(), c);
        }
        // Stale events of every app for communities; healthy ones of another resource type.
        for _ in 0..k {
            let app = self.rng.pick(self.apps).clone();
            let rid = self.random_community();
            self.queue(&app, "community", rid, true);
        }
        for _ in 0..k.div_ceil(2) {
            let app = self.rng.pick(self.apps).clone();
            let rid = self.rng.uuid();
            self.queue(&app, "user", rid, false);
        }
    }

    fn app_restore(&mut self, app: &str) {
        let k = self.k;
        let a = app.to_string();
        // Its copies revert.
        let pool = self.candidates(|c| c.widgets.contains(&a));
        let pool: Vec<String> = pool
            .into_iter()
            .filter(|u| self.has_resources(u, app))
            .collect();
        for u in self.choose(pool, k) {
            let f = pick_field(&mut self.rng);
            let current =
                crate::truth::communities_value(&self.tx.world.communities[&u], f).to_string();
            let old = other_value(&mut self.rng, f, &current);
            let old = self.localized(f, old);
            for r in self.tx.world.resources.iter_mut() {
                if r.community_uuid == u && r.app == app {
                    r.copy.set_field(f, old.clone());
                }
            }
            self.rec.differences.push((a.clone(), u, f.to_string()));
        }
        // Deleted since the backup with their community: back, community gone.
        for _ in 0..k.div_ceil(2) {
            let created = self.backup - self.rng.below(300 * DAY_MS as u64) as i64;
            let mut gone = new_community(&mut self.rng, created, self.apps);
            gone.name = self.dialect.community_name(gone.name);
            gone.widgets = vec![a.clone()];
            for r in resources_for(&mut self.rng, &gone, app, self.backup) {
                self.rec
                    .orphans
                    .push((a.clone(), r.id.clone(), gone.uuid.clone(), false));
                self.tx.world.resources.push(r);
            }
        }
        // Deleted since the backup when the widget was removed: back, community without it.
        let pool = self.candidates(|c| !c.widgets.contains(&a));
        for u in self.choose(pool, k.div_ceil(2)) {
            let c = self.tx.world.communities[&u].clone();
            for r in resources_for(&mut self.rng, &c, app, self.backup) {
                self.rec
                    .orphans
                    .push((a.clone(), r.id.clone(), u.clone(), true));
                self.tx.world.resources.push(r);
            }
        }
        // Created since the backup: gone from the app (no report shows this).
        let backup = self.backup;
        let touched = &self.touched;
        self.tx.world.resources.retain(|r| {
            !(r.app == app && r.created > backup && !touched.contains(&r.community_uuid))
        });
        // Stale events of this app; healthy ones of the others.
        for _ in 0..k {
            let rid = self.random_community();
            self.queue(app, "community", rid, true);
        }
        let others: Vec<String> = self.apps.iter().filter(|x| *x != app).cloned().collect();
        for _ in 0..k.div_ceil(2) {
            if others.is_empty() {
                break;
            }
            let other = self.rng.pick(&others).clone();
            let rid = self.random_community();
            self.queue(&other, "community", rid, false);
        }
    }

    fn trash(&mut self, n: usize) {
        let pool = self.candidates(|c| c.visibility != "private" && !c.in_trash);
        for u in self.choose(pool, n) {
            let Some(c) = self.tx.world.communities.get_mut(&u) else {
                continue;
            };
            c.in_trash = true;
            let widgets = c.widgets.clone();
            for app in widgets.iter().filter(|a| self.apps.contains(a)) {
                if self.has_resources(&u, app) {
                    self.rec
                        .differences
                        .push((app.clone(), u.clone(), "visibility".into()));
                }
            }
        }
    }
}
