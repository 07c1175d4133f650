//! wsadmin's printed maps: the one reader of a map's text (`{key=value, key=value}`, the tight
//! `{key=value,key=value}`, or a Jython dict's `{u'key': u'value'}`), for the records a script
//! prints (`details` of `getTaskDetails`). Inside a script, `lcr_details`
//! (`jython/scheduler.py`) asks the map itself for its status and looks for `status=` only when a
//! call gave back text, because the script decides on that status within its one run.

use super::re;
use std::sync::OnceLock;

/// Reads a map as wsadmin prints a Java map: `{key=value, key=value}` (key order varies). Also
/// takes the Python form `{u'key': u'value'}` that a Jython dict prints.
pub fn parse_java_map(text: &str) -> std::collections::BTreeMap<String, String> {
    static JAVA_KEY: OnceLock<regex::Regex> = OnceLock::new();
    static PY_PAIR: OnceLock<regex::Regex> = OnceLock::new();
    let t = text.trim();
    let inner = t
        .strip_prefix('{')
        .and_then(|s| s.strip_suffix('}'))
        .unwrap_or(t);
    let mut out = std::collections::BTreeMap::new();
    let py = re(r#"u?'([^']*)'\s*:\s*(?:u?'([^']*)'|([^,}]*))"#, &PY_PAIR);
    if inner.trim_start().starts_with("u'") || inner.trim_start().starts_with('\'') {
        for c in py.captures_iter(inner) {
            let v = c.get(2).or(c.get(3)).map_or("", |m| m.as_str()).trim();
            out.insert(c[1].to_string(), v.to_string());
        }
        return out;
    }
    // Split before every `, key=` so that values holding commas stay whole.
    let key = re(r"(?:^|,\s*)([A-Za-z_][\w.]*)=", &JAVA_KEY);
    let starts: Vec<(usize, usize, String)> = key
        .captures_iter(inner)
        .map(|c| {
            let whole = c.get(0).map_or(0..0, |m| m.range());
            (whole.start, whole.end, c[1].to_string())
        })
        .collect();
    for (i, (_, value_start, k)) in starts.iter().enumerate() {
        let end = starts.get(i + 1).map_or(inner.len(), |n| n.0);
        out.insert(k.clone(), inner[*value_start..end].trim().to_string());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::parse_java_map;

    #[test]
    fn tight_maps_and_values_with_commas() {
        let m = parse_java_map("{status=RUNNING,taskName=EventLogCleanup,description=a, b and c}");
        assert_eq!(m["status"], "RUNNING");
        assert_eq!(m["taskName"], "EventLogCleanup");
        assert_eq!(m["description"], "a, b and c");
        let p = parse_java_map("{'status': 'SCHEDULED', u'interval': 300}");
        assert_eq!(
            (p["status"].as_str(), p["interval"].as_str()),
            ("SCHEDULED", "300")
        );
        assert!(parse_java_map("").is_empty());
    }
}
