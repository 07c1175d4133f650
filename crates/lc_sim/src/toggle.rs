//! `lc-sim toggle`: plays what the runbook asks of an owner in step 8, for some communities:
//! Community Actions > Edit Community, access setting to Restricted, save; back to what it was,
//! save. Each save tells every application of the community its settings again (visibility,
//! theme, and moderation where the application keeps it), so the applications' copies end up
//! in step, and the community's own setting is unchanged. No admin call is counted (it is an
//! owner in the browser, not wsadmin).

use anyhow::{bail, Result};
use serde::Serialize;
use std::path::PathBuf;

use crate::model::Cell;

#[derive(clap::Args)]
pub struct ToggleArgs {
    dir: PathBuf,
    /// The communities whose owner toggles (comma-separated UUIDs).
    #[arg(long, value_delimiter = ',')]
    communities: Vec<String>,
    /// Or: this many of the communities the reports would list now, in UUID order.
    #[arg(long)]
    first: Option<usize>,
}

/// One community's toggle: its setting, and the applications whose copy it brought back.
#[derive(Debug, Serialize)]
pub struct Toggled {
    pub uuid: String,
    pub visibility: String,
    pub applications_updated: Vec<String>,
}

pub fn cli(a: ToggleArgs) -> Result<()> {
    let cell = Cell::open(&a.dir)?;
    let mut uuids = a.communities.clone();
    if let Some(n) = a.first {
        let (world, _) = cell.snapshot()?;
        let mut listed: Vec<String> = crate::truth::compute(&world, &cell.config.apps)
            .communities_to_contact
            .into_iter()
            .map(|c| c.uuid)
            .collect();
        listed.sort();
        uuids.extend(listed.into_iter().take(n));
    }
    if uuids.is_empty() {
        bail!("give --communities UUID,... or --first N");
    }
    let done = cell.with_state(|tx| -> Result<Vec<Toggled>> {
        // Every community checked before any is touched.
        if let Some(u) = uuids
            .iter()
            .find(|u| !tx.world.communities.contains_key(*u))
        {
            bail!("no community {u}");
        }
        let mut done = Vec::new();
        for uuid in &uuids {
            let Some(c) = tx.world.communities.get(uuid) else {
                continue;
            };
            let original = c.visibility.clone();
            let before: Vec<(String, crate::model::Copy)> = tx
                .world
                .resources
                .iter()
                .filter(|r| &r.community_uuid == uuid)
                .map(|r| (r.app.clone(), r.copy.clone()))
                .collect();
            // Restricted, save: every application is told; then back, save.
            for visibility in ["private", original.as_str()] {
                if let Some(c) = tx.world.communities.get_mut(uuid) {
                    c.visibility = visibility.to_string();
                }
                crate::admin::resync_one(tx, uuid, None);
            }
            let after = tx
                .world
                .resources
                .iter()
                .filter(|r| &r.community_uuid == uuid);
            let mut updated: Vec<String> = after
                .zip(before.iter())
                .filter(|(r, (_, old))| &r.copy != old)
                .map(|(r, _)| r.app.clone())
                .collect();
            updated.sort();
            updated.dedup();
            tx.world_changed = true;
            done.push(Toggled {
                uuid: uuid.clone(),
                visibility: original,
                applications_updated: updated,
            });
        }
        Ok(done)
    })??;
    crate::print_lines(&[serde_json::to_string_pretty(&done)?]);
    Ok(())
}
