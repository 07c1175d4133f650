//! Labels and cells compared: the labels a column is looked for by, folded, and the checks of
//! what a data cell holds (yes/no, UUIDs).

use super::entities::decode_text;
use super::ColumnMap;

use crate::apps;
use crate::formats::report::{self as fmt, Column};

/// The labels column `c` is looked for by, folded ([`label_key`]), each with its rank (lower is
/// more specific): the user's, then the synonyms, `<app>` read as each name of `application`.
pub(super) fn label_keys(
    c: Column,
    columns: &ColumnMap,
    application: &str,
) -> Vec<(usize, String)> {
    let app_names: Vec<&str> = match apps::by_name(application) {
        Some(app) => std::iter::once(app.id)
            .chain(app.names.iter().copied())
            .collect(),
        None => vec![application],
    };
    let user = columns.user_labels(c).iter().map(String::as_str);
    let mut out: Vec<(usize, String)> = Vec::new();
    for (rank, label) in user.chain(c.labels().iter().copied()).enumerate() {
        let expanded: Vec<String> = if label.contains(fmt::APP) {
            app_names
                .iter()
                .map(|n| label.replace(fmt::APP, n))
                .collect()
        } else {
            vec![label.to_string()]
        };
        for l in expanded {
            let mut decoded = String::new();
            decode_text(&l, &mut decoded);
            let key = label_key(&decoded);
            if !key.is_empty() && !out.iter().any(|(_, k)| *k == key) {
                out.push((rank, key));
            }
        }
    }
    out
}

pub(super) fn parse_yes_no(v: &str) -> Option<bool> {
    let v = v.trim();
    for yes in ["yes", "true", "y", "1"] {
        if v.eq_ignore_ascii_case(yes) {
            return Some(true);
        }
    }
    for no in ["no", "false", "n", "0"] {
        if v.eq_ignore_ascii_case(no) {
            return Some(false);
        }
    }
    None
}

/// Whether `v` is a UUID: 8-4-4-4-12 hexadecimal digits.
pub(super) fn is_uuid(v: &str) -> bool {
    let b = v.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// A cell's text for a message, cut at 40 characters.
pub(super) fn shorten(text: &str) -> String {
    match text.char_indices().nth(40) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_string(),
    }
}

/// A label folded for comparison: its letters and digits, lower case; white space and
/// punctuation dropped (`"COMMUNITY UUID:"`, `"Community-Uuid"`, `"community uuid"` are one).
pub(super) fn label_key(label: &str) -> String {
    label
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Whether a decoded cell folds to `key` ([`label_key`]), without allocating.
pub(super) fn key_matches(cell: &str, key: &str) -> bool {
    cell.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .eq(key.chars())
}
