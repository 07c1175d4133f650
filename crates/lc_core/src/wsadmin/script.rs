//! The generated script: fixed Jython 2.1 text around a module's body, the values it reads
//! (`sys.argv`), and the rows of its data file.

use std::path::Path;

/// A generated script: the admin scripts to load, the fixed body, and the user's values.
#[derive(Debug, Clone)]
pub struct Script {
    /// Admin scripts to `execfile`, in order (e.g. `communitiesAdmin.py`).
    pub loads: Vec<&'static str>,
    /// The Jython 2.1 body; reads its values from `ARGS` (a list of strings).
    pub body: std::borrow::Cow<'static, str>,
    /// The values the body reads, in order.
    pub args: Vec<String>,
    /// Seconds of SOAP request timeout to ask for (`com.ibm.SOAP.requestTimeout`), for long calls.
    pub request_timeout: Option<u64>,
    /// Rows of values too many for a command line: `DATA`, a list of lists of strings. They go
    /// in a data file the script reads at start (one line per row, fields tab-separated, UTF-8),
    /// not into the script's text: a JVM method holds at most 64 KiB of code, so a literal list of
    /// a thousand rows does not compile ("Module or method too large").
    pub rows: Vec<Vec<String>>,
}

/// The preamble of every generated script: argument access, marker output, admin script loading.
const PRELUDE: &str = include_str!("../../jython/prelude.py");

/// Runs once the body is defined: loads the admin scripts and calls `main()`.
const POSTLUDE: &str = include_str!("../../jython/postlude.py");

impl Script {
    pub fn new(body: impl Into<std::borrow::Cow<'static, str>>) -> Self {
        Script {
            loads: Vec::new(),
            body: body.into(),
            args: Vec::new(),
            request_timeout: None,
            rows: Vec::new(),
        }
    }

    /// Adds rows of values for `DATA`.
    pub fn rows(mut self, rows: Vec<Vec<String>>) -> Self {
        self.rows = rows;
        self
    }

    pub fn load(mut self, admin_script: &'static str) -> Self {
        if !self.loads.contains(&admin_script) {
            self.loads.push(admin_script);
        }
        self
    }

    pub fn arg(mut self, value: impl Into<String>) -> Self {
        self.args.push(value.into());
        self
    }

    pub fn args<I, S>(mut self, values: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.args.extend(values.into_iter().map(Into::into));
        self
    }

    pub fn request_timeout(mut self, seconds: u64) -> Self {
        self.request_timeout = Some(seconds);
        self
    }

    /// The full Jython text: prelude, loads, body, postlude. `script_dirs` are the folders the
    /// admin scripts are looked for in ([`crate::wsadmin::WsadminArgs::script_dirs`]); `data_file` is where
    /// [`Script::data`] was written, when there are rows.
    pub fn text(
        &self,
        batch_mode: bool,
        script_dirs: &[String],
        data_file: Option<&Path>,
    ) -> String {
        let mut s = String::from(PRELUDE);
        let dirs: Vec<String> = script_dirs.iter().map(|d| jython_literal(d)).collect();
        s.push_str(&format!("\nLCR_SCRIPT_DIRS = [{}]\n", dirs.join(", ")));
        if batch_mode {
            // Connect to the first service instead of asking which (admin-surface.md §3).
            s.push_str("\nbatchMode = 1\n");
        }
        match data_file {
            Some(p) => s.push_str(&format!(
                "\nDATA = lcr_read_data({})\n",
                jython_literal(&p.to_string_lossy())
            )),
            None => s.push_str("\nDATA = []\n"),
        }
        s.push_str("\ndef lcr_loads():\n");
        if self.loads.is_empty() {
            s.push_str("    pass\n");
        }
        for l in &self.loads {
            s.push_str(&format!("    lcr_load(\"{l}\")\n"));
        }
        s.push('\n');
        s.push_str(&self.body);
        s.push_str(POSTLUDE);
        s
    }

    /// The content of the data file: one line per row, fields separated by tabs, UTF-8, with a
    /// backslash, tab, LF and CR written as `\\`, `\t`, `\n`, `\r` (what `lcr_unq` undoes).
    pub fn data(&self) -> String {
        let mut out = String::new();
        for row in &self.rows {
            for (i, cell) in row.iter().enumerate() {
                if i > 0 {
                    out.push('\t');
                }
                for c in cell.chars() {
                    match c {
                        '\\' => out.push_str("\\\\"),
                        '\t' => out.push_str("\\t"),
                        '\n' => out.push_str("\\n"),
                        '\r' => out.push_str("\\r"),
                        c => out.push(c),
                    }
                }
            }
            out.push('\n');
        }
        out
    }
}

/// A Jython 2.1 unicode string literal for any text: quotes, backslashes and every character
/// outside printable ASCII are escaped, so no value can end the literal or the line.
pub fn jython_literal(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 3);
    out.push_str("u\"");
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            ' '..='~' => out.push(c),
            c => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
        }
    }
    out.push('"');
    out
}
