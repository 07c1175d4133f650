//! The managed block: how it restricts access ([`Access`]) and its lines ([`Maintenance`]).

use super::{AllowEntry, BEGIN_MARKER, END_MARKER, PAGE_NOTE};

/// How the block restricts access.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    /// `Order`/`Deny`/`Allow`, the conf already loads them (Apache 2.2, or 2.4 with
    /// `mod_access_compat` loaded).
    Compat,
    /// `Order`/`Deny`/`Allow`, with `LoadModule access_compat_module <path>` inside
    /// `<IfModule !access_compat_module>` in the block.
    CompatLoading(String),
    /// The Apache 2.4 `Require` form.
    Require,
}

impl Access {
    /// A short name for results and logs: `compat`, `compat_loaded`, `require`.
    pub fn name(&self) -> &'static str {
        match self {
            Access::Compat => "compat",
            Access::CompatLoading(_) => "compat_loaded",
            Access::Require => "require",
        }
    }
}

/// What the block says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Maintenance {
    pub allow_from: Vec<AllowEntry>,
    pub page_name: String,
    pub assets_path: Option<String>,
    pub error_codes: Vec<u16>,
    pub access: Access,
    /// The maintenance page this module wrote, recorded so that disabling removes it.
    pub page_written: Option<String>,
}

impl Maintenance {
    /// The server-level block's lines, without line endings: it goes at the end of the main conf.
    pub fn lines(&self) -> Vec<String> {
        let mut l = self.opening();
        if let Access::CompatLoading(path) = &self.access {
            l.push("<IfModule !access_compat_module>".into());
            l.push(format!(
                "    LoadModule access_compat_module {}",
                quote_arg(path)
            ));
            l.push("</IfModule>".into());
        }
        l.extend(self.sections());
        l.push(END_MARKER.to_string());
        l
    }

    /// The block put at the end of a `<VirtualHost>` that has sections of its own (Apache merges
    /// them after the server's): the same `<Location>` sections, merged last.
    pub fn virtual_host_lines(&self) -> Vec<String> {
        let mut l = self.opening();
        l.extend(self.sections());
        l.push(END_MARKER.to_string());
        l
    }

    /// The block put before the first `RewriteRule`/`Redirect` of a server or virtual host
    /// context: those answer before access control, so everyone outside the allow list is
    /// answered 403 (and so the page) by a rule of ours that comes first. The allow list is
    /// written as `-R` tests of an ap_expr (Apache 2.4), which cannot check a host name.
    pub fn guard_lines(&self) -> std::result::Result<Vec<String>, String> {
        let mut tests = Vec::new();
        for a in &self.allow_from {
            match a {
                AllowEntry::Host(h) => return Err(h.clone()),
                AllowEntry::Ip(s) | AllowEntry::Network(s) => tests.push(format!("-R '{s}'")),
            }
        }
        let mut l = self.opening();
        // A request forbidden here is answered before any <Location> applies: the error
        // documents must be set at this level too.
        for code in &self.error_codes {
            l.push(format!("ErrorDocument {code} /{}", self.page_name));
        }
        l.push("RewriteEngine On".into());
        l.push(format!("RewriteCond expr \"!({})\"", tests.join(" || ")));
        l.push(format!(
            "RewriteCond %{{REQUEST_URI}} !=/{}",
            self.page_name
        ));
        if let Some(assets) = &self.assets_path {
            l.push(format!(
                "RewriteCond %{{REQUEST_URI}} !^{}",
                assets.replace('.', "\\.")
            ));
        }
        l.push("RewriteRule ^ - [F]".into());
        l.push(END_MARKER.to_string());
        Ok(l)
    }

    /// The BEGIN marker and the page note. Every block records the page, so that a run that died
    /// between renaming an Included file and the main conf still knows the page is ours.
    fn opening(&self) -> Vec<String> {
        let mut l = vec![BEGIN_MARKER.to_string()];
        if let Some(p) = &self.page_written {
            l.push(format!("{PAGE_NOTE}{p}"));
        }
        l
    }

    /// `<Location />` (the ErrorDocuments inside it, so that they outrank a virtual host's own)
    /// and the assets exemption.
    fn sections(&self) -> Vec<String> {
        let mut l = vec!["<Location />".to_string()];
        for code in &self.error_codes {
            l.push(format!("    ErrorDocument {code} /{}", self.page_name));
        }
        match self.access {
            Access::Compat | Access::CompatLoading(_) => {
                l.push("    Order Deny,Allow".into());
                l.push("    Deny from all".into());
                for a in &self.allow_from {
                    l.push(format!("    Allow from {}", a.as_str()));
                }
            }
            Access::Require => {
                l.push("    <RequireAny>".into());
                for a in &self.allow_from {
                    let kind = if matches!(a, AllowEntry::Host(_)) {
                        "host"
                    } else {
                        "ip"
                    };
                    l.push(format!("        Require {kind} {}", a.as_str()));
                }
                l.push("    </RequireAny>".into());
            }
        }
        l.push("</Location>".into());
        // The page itself, and the assets: everyone may fetch them. Measured: a denied request
        // whose sections differ from the page's (a virtual host's <Location /files>, a rule
        // that forbids before any <Location>) would otherwise get Apache's "additionally, a 403
        // ... while trying to use an ErrorDocument" instead of the page.
        let page = format!("/{}", self.page_name);
        for path in std::iter::once(page.as_str()).chain(self.assets_path.as_deref()) {
            l.push(format!("<Location {path}>"));
            match self.access {
                // Measured: with Order/Allow in force, adding `Require all granted` here breaks
                // the exemption; Allow from all alone works.
                Access::Compat | Access::CompatLoading(_) => {
                    l.push("    Order Allow,Deny".into());
                    l.push("    Allow from all".into());
                }
                Access::Require => l.push("    Require all granted".into()),
            }
            l.push("</Location>".into());
        }
        l
    }
}

fn quote_arg(s: &str) -> String {
    if s.chars().any(|c| c.is_whitespace()) {
        format!("\"{s}\"")
    } else {
        s.to_string()
    }
}
